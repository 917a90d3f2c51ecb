"""Placing orders and moving them through their lifecycle.

Stock is only ever touched through inventory.services, inside the same transaction as the order
change, so an order and its ledger rows commit or roll back together.
"""

import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC
from decimal import Decimal
from typing import NamedTuple

from django.conf import settings
from django.db import transaction
from django.db.models import Sum
from django.utils import timezone

from catalog.models import CURRENCY, Product
from inventory.errors import InsufficientStock, Shortfall
from inventory.services import stock_release, stock_reserve, stock_ship
from orders.errors import OrderInvalid, OrderStatusConflict, PendingUnitsCapExceeded
from orders.events import order_created_event, order_status_event
from orders.models import Customer, Order, OrderLine
from orders.pricing import OrderTotals, line_total, order_estimated_delivery, order_totals
from orders.rules import MAX_LINES, MAX_QUANTITY
from techparts.actors import SOURCE_API, Actor
from techparts.apikeys.models import ApiKey
from techparts.database.bulk import insert_rows
from techparts.events.services import events_record


@dataclass(frozen=True)
class OrderItem:
    product: Product
    quantity: int


@dataclass(frozen=True)
class ShippingAddress:
    street: str
    city: str
    state: str
    zip: str
    country: str = "US"


def format_order_id(*, year: int, number: int) -> str:
    return f"ORD-{year}-{number:05d}"


def _quantities(items: Sequence[OrderItem]) -> dict[int, int]:
    """Sum the quantities per product: several lines of one product are checked as one total."""
    totals: dict[int, int] = {}
    for item in items:
        totals[item.product.pk] = totals.get(item.product.pk, 0) + item.quantity
    return totals


def _check_items(items: Sequence[OrderItem]) -> None:
    problems = []
    if not 1 <= len(items) <= MAX_LINES:
        problems.append(f"Field 'items' must contain 1 to {MAX_LINES} items")
    for index, item in enumerate(items):
        if not item.product.is_active:
            problems.append(
                f"Field 'items[{index}].product_id' must be an existing, active product "
                f"('{item.product.public_id}' is not available)"
            )
        if not 1 <= item.quantity <= MAX_QUANTITY:
            problems.append(f"Field 'items[{index}].quantity' must be between 1 and {MAX_QUANTITY}")
    if problems:
        raise OrderInvalid("Invalid request body", details=problems)


def _check_stock_records(items: Sequence[OrderItem], quantities: Mapping[int, int]) -> None:
    # A product never given a stock record has nothing to sell; the stock service only locks
    # existing records, so such lines are refused here with the same error as a short line.
    seen = set()
    shortfalls = []
    for item in items:
        if item.product.pk in seen:
            continue
        seen.add(item.product.pk)
        if not hasattr(item.product, "stock"):
            shortfalls.append(Shortfall(item.product.public_id, quantities[item.product.pk], 0))
    if shortfalls:
        raise InsufficientStock(shortfalls)


def _check_pending_units_cap(*, actor: Actor, quantities: Mapping[int, int]) -> None:
    """Refuse an order that would let one API key hold more than its cap of reserved units.

    Without a cap one integrator (or a stolen key) could reserve the whole catalog and starve
    everyone else (OWASP API6). The key's row is locked so that concurrent orders of the same
    key are counted one after the other; other keys are not held up.
    """
    cap = settings.MAX_PENDING_UNITS_PER_API_KEY
    if actor.api_key is None or not cap:
        return
    # FOR NO KEY UPDATE: it queues this key's orders but, unlike FOR UPDATE, does not block
    # the key-share locks that inserting ledger rows and orders referencing the key take.
    ApiKey.objects.select_for_update(no_key=True).filter(pk=actor.api_key.pk).first()
    pending = (
        OrderLine.objects.filter(
            order__api_key=actor.api_key, order__status=Order.Status.PENDING
        ).aggregate(units=Sum("quantity"))["units"]
        or 0
    )
    requested = sum(quantities.values())
    if pending + requested > cap:
        raise PendingUnitsCapExceeded(
            f"This API key already holds {pending} units in pending orders; placing "
            f"{requested} more would exceed its cap of {cap}. Cancel or wait for pending "
            "orders to ship, or ask TechParts to raise the cap.",
            pending_units=pending,
            cap=cap,
        )


class _Line(NamedTuple):
    """An order line as stored, in the order of LINE_COLUMNS."""

    position: int
    product_id: int
    product_public_id: str
    sku: str
    name: str
    unit_price: Decimal
    quantity: int
    line_total: Decimal


LINE_COLUMNS = _Line._fields


def _order_lines(items: Sequence[OrderItem]) -> list[_Line]:
    """Build the lines, copying each product's id, SKU, name and price as sold."""
    return [
        _Line(
            position,
            item.product.pk,
            item.product.public_id,
            item.product.sku,
            item.product.name,
            item.product.price,
            item.quantity,
            line_total(unit_price=item.product.price, quantity=item.quantity),
        )
        for position, item in enumerate(items, start=1)
    ]


def _order_insert(
    *,
    customer: Customer,
    lines: Sequence[_Line],
    totals: OrderTotals,
    shipping_address: ShippingAddress,
    actor: Actor,
) -> Order:
    """Store the order and its lines under its public id `ORD-<year>-<number>`."""
    placed_at = timezone.now()
    order = Order.objects.create(
        # A unique placeholder until the primary key exists; the public number is derived from
        # the key, so concurrent orders never compete for a counter row.
        order_id=f"NEW-{uuid.uuid4().hex}",
        customer=customer,
        status=Order.Status.PENDING,
        subtotal=totals.subtotal,
        tax=totals.tax,
        shipping=totals.shipping,
        total=totals.total,
        currency=CURRENCY,
        ship_street=shipping_address.street,
        ship_city=shipping_address.city,
        ship_state=shipping_address.state.upper(),
        ship_zip=shipping_address.zip,
        ship_country=shipping_address.country.upper(),
        estimated_delivery=order_estimated_delivery(placed_at=placed_at),
        api_key=actor.api_key,
        owner=actor.api_key.owner if actor.api_key is not None else "",
        created_at=placed_at,
        status_changed_by=actor.name,
    )
    order.order_id = format_order_id(year=placed_at.astimezone(UTC).year, number=order.pk)
    Order.objects.filter(pk=order.pk).update(order_id=order.order_id)
    # One INSERT of plain values: bulk_create would build and prepare an instance per line.
    insert_rows(OrderLine, columns=LINE_COLUMNS, rows=lines, shared={"order_id": order.pk})
    order.items_count = len(lines)
    return order


@transaction.atomic
def order_create(
    *,
    customer: Customer,
    items: Sequence[OrderItem],
    shipping_address: ShippingAddress,
    actor: Actor,
) -> Order:
    """Place an order: price it, store it with its lines, and reserve its stock, all or nothing.

    Raises InsufficientStock (409) listing every short product; then nothing is stored.
    The number of queries does not depend on the number of lines.
    """
    _check_items(items)
    quantities = _quantities(items)
    _check_stock_records(items, quantities)
    _check_pending_units_cap(actor=actor, quantities=quantities)
    lines = _order_lines(items)
    totals = order_totals((line.line_total for line in lines), state=shipping_address.state)
    order = _order_insert(
        customer=customer,
        lines=lines,
        totals=totals,
        shipping_address=shipping_address,
        actor=actor,
    )
    stock_reserve(
        quantities=quantities,
        actor=actor,
        reference=order.order_id,
        events=[order_created_event(order, lines)],
    )
    return order


def _line_quantities(order: Order) -> dict[int, int]:
    rows = (
        OrderLine.objects.filter(order=order)
        .values("product_id")
        .annotate(total=Sum("quantity"))
        .order_by("product_id")
    )
    return {row["product_id"]: row["total"] for row in rows}


def _transition(
    *,
    order: Order,
    actor: Actor,
    allowed_from: Order.Status,
    to: Order.Status,
    timestamp_field: str,
    verb: str,
    stock_action: Callable[..., object] | None,
) -> Order:
    # Lock the order row first (then the stock rows, inside the stock service): two concurrent
    # transitions of one order queue here, and the second sees the first one's status.
    locked = Order.objects.select_for_update().get(pk=order.pk)
    if locked.status != allowed_from:
        raise OrderStatusConflict(
            f"Order '{locked.order_id}' is {locked.status}; only {allowed_from} orders "
            f"can be {verb}.",
            status=locked.status,
        )
    now = timezone.now()
    # Recorded with the stock the transition moves, in one statement; alone when none moves.
    event = order_status_event(locked, before=locked.status, after=to, at=now)
    if stock_action is not None:
        stock_action(
            quantities=_line_quantities(locked),
            actor=actor,
            reference=locked.order_id,
            events=[event],
        )
    else:
        events_record(
            [event],
            origin_owner=actor.name if actor.source == SOURCE_API else "",
            created_at=now,
        )
    locked.status = to
    setattr(locked, timestamp_field, now)
    locked.status_changed_by = actor.name
    locked.save(update_fields=["status", timestamp_field, "status_changed_by", "updated_at"])
    return locked


@transaction.atomic
def order_cancel(*, order: Order, actor: Actor) -> Order:
    """Cancel a pending order and release its reserved stock (ledger kind `release`)."""
    return _transition(
        order=order,
        actor=actor,
        allowed_from=Order.Status.PENDING,
        to=Order.Status.CANCELLED,
        timestamp_field="cancelled_at",
        verb="cancelled",
        stock_action=stock_release,
    )


@transaction.atomic
def order_ship(*, order: Order, actor: Actor) -> Order:
    """Mark a pending order shipped: its reserved units leave on-hand stock (kind `shipment`)."""
    return _transition(
        order=order,
        actor=actor,
        allowed_from=Order.Status.PENDING,
        to=Order.Status.SHIPPED,
        timestamp_field="shipped_at",
        verb="shipped",
        stock_action=stock_ship,
    )


@transaction.atomic
def order_deliver(*, order: Order, actor: Actor) -> Order:
    """Mark a shipped order delivered (no stock change)."""
    return _transition(
        order=order,
        actor=actor,
        allowed_from=Order.Status.SHIPPED,
        to=Order.Status.DELIVERED,
        timestamp_field="delivered_at",
        verb="delivered",
        stock_action=None,
    )
