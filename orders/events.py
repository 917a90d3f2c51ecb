"""The events an order records in the outbox (techparts.events), for its owner only.

`order.created` carries the lines; the status events carry the status before and after and
when it changed (the order itself is one `GET /v1/orders/{order_id}` away). Amounts are
decimal strings ("1599.99"): exact, never a float.
"""

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from typing import Protocol

from orders.models import Order
from techparts.api.serializers import datetime_text
from techparts.events import types
from techparts.events.services import NewEvent


class _LineFacts(Protocol):
    sku: str
    product_public_id: str
    quantity: int
    unit_price: Decimal
    line_total: Decimal


def order_created_event(order: Order, lines: Sequence[_LineFacts]) -> NewEvent:
    return NewEvent(
        type=types.ORDER_CREATED,
        subject=f"order:{order.order_id}",
        audience_owner=order.owner,
        data={
            "order_id": order.order_id,
            "status": order.status,
            "items": [
                {
                    "sku": line.sku,
                    "product_id": line.product_public_id,
                    "quantity": line.quantity,
                    "unit_price": str(line.unit_price),
                    "line_total": str(line.line_total),
                }
                for line in lines
            ],
            "subtotal": str(order.subtotal),
            "tax": str(order.tax),
            "shipping": str(order.shipping),
            "total": str(order.total),
            "currency": order.currency,
            "created_at": datetime_text(order.created_at),
        },
    )


_TYPE_OF_STATUS = {
    Order.Status.CANCELLED: types.ORDER_CANCELLED,
    Order.Status.SHIPPED: types.ORDER_SHIPPED,
    Order.Status.DELIVERED: types.ORDER_DELIVERED,
}


def order_status_event(order: Order, *, before: str, after: str, at: datetime) -> NewEvent:
    return NewEvent(
        type=_TYPE_OF_STATUS[after],
        subject=f"order:{order.order_id}",
        audience_owner=order.owner,
        data={
            "order_id": order.order_id,
            "status_before": before,
            "status": after,
            "changed_at": datetime_text(at),
        },
    )
