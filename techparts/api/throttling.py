"""Per-API-key rate limits, with separate budgets for reads and writes.

The counts live in `techparts.ratelimit` (Redis when configured, an atomic database upsert
otherwise), so every app process shares one budget per key.
"""

from django.conf import settings
from rest_framework.throttling import BaseThrottle

from techparts.ratelimit.services import parse_rate, rate_limit_hit

SAFE_METHODS = ("GET", "HEAD", "OPTIONS")


class ApiKeyRateThrottle(BaseThrottle):
    def __init__(self) -> None:
        self._wait = 0.0

    def allow_request(self, request, view) -> bool:
        if request.auth is None:
            return True  # unauthenticated requests are refused before doing any work
        write = request.method not in SAFE_METHODS
        rate = parse_rate(settings.API_RATE_LIMIT_WRITE if write else settings.API_RATE_LIMIT_READ)
        if rate is None:
            return True
        limit, period = rate
        wait = rate_limit_hit(
            bucket=f"api:{'write' if write else 'read'}:{request.auth.prefix}",
            limit=limit,
            period=period,
        )
        self._wait = wait or 0.0
        return wait is None

    def wait(self) -> float:
        return max(self._wait, 1.0)
