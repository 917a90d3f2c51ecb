"""Per-API-key rate limits, with separate budgets for reads, writes and 304 answers.

The counts live in `techparts.ratelimit` (Redis when configured, an atomic database upsert
otherwise), so every app process shares one budget per key.

A conditional GET (`If-None-Match` on a view with techparts.api.conditional's mixin) is charged
to the larger not-modified budget before any work, and refused there when it is spent. Only
the work tells whether the answer is a 304, so an answer that is not one is charged to the
normal read budget afterwards as well (`charge_full_read`), and refused when that is spent.
Refusing after the work wastes nothing a 304 would not have cost: answering a 304 also builds
and hashes the body. So a client polling with current tags never spends its read budget, a
client with a stale tag pays a normal read (plus one unit of the 304 budget), and a client
with a spent read budget still gets its 304s.
"""

from django.conf import settings
from rest_framework.throttling import BaseThrottle

from techparts.ratelimit.services import parse_rate, rate_limit_hit

SAFE_METHODS = ("GET", "HEAD", "OPTIONS")


def _hit(*, budget: str, rate: str, prefix: str) -> float | None:
    parsed = parse_rate(rate)
    if parsed is None:
        return None
    limit, period = parsed
    return rate_limit_hit(bucket=f"api:{budget}:{prefix}", limit=limit, period=period)


def is_conditional_get(request) -> bool:
    """Tell whether the request is a GET or HEAD carrying `If-None-Match`."""
    return request.method in ("GET", "HEAD") and "HTTP_IF_NONE_MATCH" in request.META


def charge_full_read(request) -> float | None:
    """Charge a conditional GET that did not end in a 304 to the normal read budget.

    Return the seconds to wait when that budget is spent (the answer is then a 429).
    """
    if not getattr(request, "read_charge_pending", False):
        return None  # refused before the throttle ran (401, 403, 400 for the query): no charge
    request.read_charge_pending = False
    return _hit(budget="read", rate=settings.API_RATE_LIMIT_READ, prefix=request.auth.prefix)


class ApiKeyRateThrottle(BaseThrottle):
    def __init__(self) -> None:
        self._wait = 0.0

    def allow_request(self, request, view) -> bool:
        if request.auth is None:
            return True  # unauthenticated requests are refused before doing any work
        if request.method not in SAFE_METHODS:
            budget, rate = "write", settings.API_RATE_LIMIT_WRITE
        elif getattr(view, "conditional_get", False) and is_conditional_get(request):
            budget, rate = "not-modified", settings.API_RATE_LIMIT_NOT_MODIFIED
        else:
            budget, rate = "read", settings.API_RATE_LIMIT_READ
        wait = _hit(budget=budget, rate=rate, prefix=request.auth.prefix)
        # Let in on the not-modified budget: the view charges a normal read as well unless it
        # answers 304 (charge_full_read). Refused here, it costs nothing more.
        request.read_charge_pending = budget == "not-modified" and wait is None
        self._wait = wait or 0.0
        return wait is None

    def wait(self) -> float:
        return max(self._wait, 1.0)
