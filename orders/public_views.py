from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_safe

from orders.selectors import order_tracking_get
from techparts.client_ip import address_bucket, client_ip
from techparts.errors import NotFound
from techparts.ratelimit.services import parse_rate, rate_limit_hit, retry_after_seconds


@require_safe
def order_tracking(request: HttpRequest, order_id: str, token: str = "") -> HttpResponse:
    """Show an order's status and estimated delivery to anyone holding its tracking link.

    The link is `/track/<order_id>/<token>`; without the right token the answer is the same
    404 as for an unknown order. The page shows nothing personal (no name, address or
    prices): the link is shared freely. Every request counts against its client address's
    TRACKING_RATE_LIMIT, so walking order ids or guessing tokens is slow as well as futile.
    """
    rate = parse_rate(settings.TRACKING_RATE_LIMIT)
    if rate is not None:
        limit, period = rate
        wait = rate_limit_hit(
            bucket=f"track:{address_bucket(client_ip(request))}", limit=limit, period=period
        )
        if wait is not None:
            seconds = retry_after_seconds(wait)
            response = render(
                request, "orders/track_rate_limited.html", {"seconds": seconds}, status=429
            )
            response["Retry-After"] = str(seconds)
            return response
    try:
        order = order_tracking_get(order_id=order_id, token=token)
    except NotFound:
        return render(request, "orders/track_not_found.html", status=404)
    return render(request, "orders/track.html", {"order": order})
