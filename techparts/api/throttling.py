"""Per-API-key rate limits, with separate budgets for reads and writes.

Counters live in the configured cache (Redis when REDIS_URL is set, so every app process
shares them; local memory otherwise). Each key gets a fixed window per scope; the count is
raised with the cache's atomic `incr`, so concurrent requests cannot slip past the limit the
way DRF's read-then-write history throttle can.
"""

import time

from django.conf import settings
from django.core.cache import caches
from rest_framework.throttling import BaseThrottle

SAFE_METHODS = ("GET", "HEAD", "OPTIONS")


def parse_rate(rate: str) -> tuple[int, int]:
    """Return (requests, seconds) for '600/min', '10/second', '1000/hour' or '5000/day'."""
    count, _, period = rate.partition("/")
    seconds = {"s": 1, "m": 60, "h": 3600, "d": 86400}[period.strip()[0].lower()]
    return int(count), seconds


class ApiKeyRateThrottle(BaseThrottle):
    def __init__(self) -> None:
        self._wait = 0.0

    def allow_request(self, request, view) -> bool:
        if request.auth is None:
            return True  # unauthenticated requests are refused before doing any work
        write = request.method not in SAFE_METHODS
        rate = settings.API_RATE_LIMIT_WRITE if write else settings.API_RATE_LIMIT_READ
        if not rate:
            return True
        limit, period = parse_rate(rate)
        now = time.time()
        window = int(now // period)
        key = f"throttle:{'write' if write else 'read'}:{request.auth.prefix}:{window}"
        cache = caches[settings.API_RATE_LIMIT_CACHE]
        cache.add(key, 0, timeout=period + 1)
        try:
            count = cache.incr(key)
        except ValueError:  # expired between add and incr: this request opens a new window
            cache.add(key, 1, timeout=period + 1)
            count = 1
        if count <= limit:
            return True
        self._wait = (window + 1) * period - now
        return False

    def wait(self) -> float:
        return max(self._wait, 1.0)
