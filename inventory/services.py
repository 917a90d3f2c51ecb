"""Every change of stock goes through here: lock the record, check, write, and append the ledger.

Locks are taken on StockRecord rows ordered by product id, so two actions touching the same
products always queue in the same order and cannot deadlock.
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from catalog.models import Product
from inventory.errors import InsufficientStock, InvalidQuantity, Shortfall, StockConflict
from inventory.models import MAX_ON_HAND, StockMovement, StockRecord
from techparts.actors import Actor
from techparts.errors import NotFound

Kind = StockMovement.Kind


@dataclass(frozen=True)
class StockChange:
    record: StockRecord
    previous_on_hand: int
    movement: StockMovement | None

    @property
    def change(self) -> int:
        return self.record.on_hand - self.previous_on_hand


def _lock_records(product_ids: Iterable[int]) -> dict[int, StockRecord]:
    # SELECT ... FOR UPDATE in product order: concurrent writers queue on these rows and then
    # see each other's committed values, so checks below hold until this transaction ends.
    ids = set(product_ids)
    records = (
        StockRecord.objects.filter(product_id__in=ids)
        .select_related("product")
        .order_by("product_id")
        .select_for_update(of=("self",))
    )
    found = {record.product_id: record for record in records}
    missing = ids - set(found)
    if missing:
        raise NotFound(f"No stock record for product id(s) {sorted(missing)}.")
    return found


def _movement(
    record: StockRecord,
    *,
    kind: str,
    on_hand_delta: int,
    reserved_delta: int,
    actor: Actor,
    reason: str,
    reference: str,
) -> StockMovement:
    # Every stock change is built here, so this is where the one on-hand range rule lives.
    on_hand_after = record.on_hand + on_hand_delta
    if not 0 <= on_hand_after <= MAX_ON_HAND:
        raise InvalidQuantity(
            f"Cannot change the on-hand count of '{record.product.sku}' from {record.on_hand} "
            f"to {on_hand_after} ({on_hand_delta:+d}): it must stay between 0 and "
            f"{MAX_ON_HAND} units. Nothing was changed."
        )
    return StockMovement(
        product_id=record.product_id,
        kind=kind,
        on_hand_delta=on_hand_delta,
        reserved_delta=reserved_delta,
        on_hand_after=on_hand_after,
        reserved_after=record.reserved + reserved_delta,
        reason=reason,
        reference=reference,
        source=actor.source,
        actor_user=actor.user,
        actor_api_key=actor.api_key,
        actor_name=actor.name,
    )


def _write(records: list[StockRecord], movements: list[StockMovement]) -> None:
    """Apply each movement to its locked record and append the movements to the ledger."""
    by_product = {record.product_id: record for record in records}
    now = timezone.now()
    changed = []
    for movement in movements:
        record = by_product[movement.product_id]
        record.on_hand = F("on_hand") + movement.on_hand_delta
        record.reserved = F("reserved") + movement.reserved_delta
        record.updated_at = now
        changed.append(record)
    if changed:
        StockRecord.objects.bulk_update(changed, ["on_hand", "reserved", "updated_at"])
        StockMovement.objects.bulk_create(movements)
        for record, movement in zip(changed, movements, strict=True):
            record.on_hand = movement.on_hand_after
            record.reserved = movement.reserved_after


@transaction.atomic
def stock_set(
    *,
    product_id: int,
    quantity: int,
    actor: Actor,
    reason: str = "",
    reference: str = "",
    kind: str = Kind.CORRECTION,
    expected_quantity: int | None = None,
) -> StockChange:
    """Set a product's on-hand count; refuse below the reserved units or on a stale view."""
    if quantity < 0:
        raise InvalidQuantity("Stock quantity cannot be negative.")
    if kind not in (Kind.CORRECTION, Kind.RESTOCK):
        raise InvalidQuantity(f"On-hand counts are set by corrections or restocks, not {kind!r}.")
    record = _lock_records([product_id])[product_id]
    previous = record.on_hand
    if expected_quantity is not None and expected_quantity != previous:
        raise StockConflict(
            f"Stock of '{record.product.sku}' is {previous}, not the expected "
            f"{expected_quantity}. Nothing was changed; read it again and retry.",
            current_quantity=previous,
        )
    if quantity < record.reserved:
        raise StockConflict(
            f"Cannot set stock of '{record.product.sku}' to {quantity}: {record.reserved} "
            f"units are reserved by open orders.",
            reserved_quantity=record.reserved,
        )
    if kind == Kind.RESTOCK and quantity < previous:
        raise StockConflict(
            f"A restock cannot lower stock ({previous} -> {quantity}); record it as a correction.",
            current_quantity=previous,
        )
    if quantity == previous:
        return StockChange(record=record, previous_on_hand=previous, movement=None)
    movement = _movement(
        record,
        kind=kind,
        on_hand_delta=quantity - previous,
        reserved_delta=0,
        actor=actor,
        reason=reason,
        reference=reference,
    )
    _write([record], [movement])
    return StockChange(record=record, previous_on_hand=previous, movement=movement)


@transaction.atomic
def stock_adjust(
    *,
    product_id: int,
    delta: int,
    actor: Actor,
    reason: str = "",
    reference: str = "",
    kind: str = Kind.CORRECTION,
) -> StockChange:
    """Add `delta` (may be negative) to on-hand, under the same rules as `stock_set`."""
    record = _lock_records([product_id])[product_id]
    if record.on_hand + delta < 0:
        raise InvalidQuantity(
            f"Cannot remove {-delta} units of '{record.product.sku}': "
            f"only {record.on_hand} on hand."
        )
    # stock_set locks the same row again: a no-op inside this transaction.
    return stock_set(
        product_id=product_id,
        quantity=record.on_hand + delta,
        actor=actor,
        reason=reason,
        reference=reference,
        kind=kind,
    )


def _move_reserved(
    *,
    quantities: Mapping[int, int],
    actor: Actor,
    reference: str,
    kind: str,
    reason: str,
) -> list[StockMovement]:
    if any(quantity <= 0 for quantity in quantities.values()):
        raise InvalidQuantity("Quantities must be positive.")
    records = _lock_records(quantities)
    shortfalls = []
    movements = []
    for product_id in sorted(quantities):
        quantity = quantities[product_id]
        record = records[product_id]
        if kind == Kind.RESERVATION:
            if quantity > record.available:
                shortfalls.append(
                    Shortfall(record.product.public_id, quantity, max(record.available, 0))
                )
                continue
            deltas = (0, quantity)
        elif quantity > record.reserved:
            # Releasing or shipping more than is reserved would break the ledger's story.
            raise StockConflict(
                f"Cannot {'release' if kind == Kind.RELEASE else 'ship'} {quantity} units of "
                f"'{record.product.sku}': only {record.reserved} are reserved.",
                reserved_quantity=record.reserved,
            )
        elif kind == Kind.RELEASE:
            deltas = (0, -quantity)
        else:  # shipment: reserved units leave the building
            deltas = (-quantity, -quantity)
        movements.append(
            _movement(
                record,
                kind=kind,
                on_hand_delta=deltas[0],
                reserved_delta=deltas[1],
                actor=actor,
                reason=reason,
                reference=reference,
            )
        )
    if shortfalls:
        raise InsufficientStock(shortfalls)
    _write([records[m.product_id] for m in movements], movements)
    return movements


@transaction.atomic
def stock_reserve(
    *, quantities: Mapping[int, int], actor: Actor, reference: str, reason: str = "Order placed"
) -> list[StockMovement]:
    """Reserve units for an order, all lines or none (InsufficientStock lists every short one)."""
    return _move_reserved(
        quantities=quantities,
        actor=actor,
        reference=reference,
        kind=Kind.RESERVATION,
        reason=reason,
    )


@transaction.atomic
def stock_release(
    *, quantities: Mapping[int, int], actor: Actor, reference: str, reason: str = "Order cancelled"
) -> list[StockMovement]:
    """Give reserved units back to available stock."""
    return _move_reserved(
        quantities=quantities, actor=actor, reference=reference, kind=Kind.RELEASE, reason=reason
    )


@transaction.atomic
def stock_ship(
    *, quantities: Mapping[int, int], actor: Actor, reference: str, reason: str = "Order shipped"
) -> list[StockMovement]:
    """Take reserved units out of on-hand stock as they leave with a shipment."""
    return _move_reserved(
        quantities=quantities, actor=actor, reference=reference, kind=Kind.SHIPMENT, reason=reason
    )


@transaction.atomic
def stock_open(
    *,
    balances: Mapping[Product, int],
    actor: Actor,
    reason: str = "Opening balance",
    low_stock_threshold: int = 5,
) -> list[StockRecord]:
    """Create stock records for products that have none, with an opening ledger row each.

    Balances must be within 0 to MAX_ON_HAND (InvalidQuantity otherwise; nothing is created).
    """
    records = [
        StockRecord(product=product, on_hand=0, low_stock_threshold=low_stock_threshold)
        for product in balances
    ]
    opened = [record for record in records if balances[record.product] != 0]
    movements = [
        _movement(
            record,
            kind=Kind.CORRECTION,
            on_hand_delta=balances[record.product],
            reserved_delta=0,
            actor=actor,
            reason=reason,
            reference="",
        )
        for record in opened
    ]
    StockRecord.objects.bulk_create(records)
    _write(opened, movements)
    return records


def stock_threshold_set(*, product_id: int, low_stock_threshold: int) -> None:
    """Change the low-stock threshold only; stock counts stay with the ledgered services."""
    if low_stock_threshold < 0:
        raise InvalidQuantity("The low-stock threshold cannot be negative.")
    updated = StockRecord.objects.filter(product_id=product_id).update(
        low_stock_threshold=low_stock_threshold
    )
    if not updated:
        raise NotFound(f"No stock record for product id {product_id}.")
