from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_safe

from orders.selectors import order_tracking_get


@require_safe
def order_tracking(request: HttpRequest, order_id: str) -> HttpResponse:
    """Show an order's status and estimated delivery to anyone holding its tracking link.

    The page shows nothing personal (no name, address or prices): the link is shared freely.
    """
    order = order_tracking_get(order_id=order_id)
    if order is None:
        return render(request, "orders/track_not_found.html", {"order_id": order_id}, status=404)
    return render(request, "orders/track.html", {"order": order})
