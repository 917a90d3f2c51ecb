"""The events a stock change records in the outbox (techparts.events), one set per ledger row.

Each event carries its own before and after values, so a burst of changes (0 -> 10 -> 0) is
never collapsed into one state, and the crossing events fire whatever moved the stock: a
restock, a correction, a reservation or its release, a cancelled order.
"""

from collections.abc import Mapping, Sequence
from typing import Protocol
from uuid import UUID

from inventory.rules import is_available, is_low_stock
from techparts.actors import Actor
from techparts.events import types
from techparts.events.services import NewEvent


class _Named(Protocol):
    public_id: str
    sku: str


class StockFacts(Protocol):
    """What the events need of a locked record: a StockRecord or a services.LockedCounts."""

    product_id: int
    low_stock_threshold: int
    product: _Named


class LedgerRow(Protocol):
    product_id: int
    kind: str
    on_hand_delta: int
    reserved_delta: int
    on_hand_after: int
    reserved_after: int


def stock_events(
    rows: Sequence[LedgerRow],
    *,
    ids: Sequence[int],
    versions: Sequence[int],
    reasons: Sequence[tuple[str, str]],
    records: Mapping[int, StockFacts],
    actor: Actor,
    reference: str,
    adjustment_group: UUID | None,
) -> list[NewEvent]:
    """Return the events of ledger rows just written: `inventory.changed` for each, and
    `low_stock`, `out_of_stock` or `back_in_stock` where its available count crosses over.

    `ids` are the rows' ledger ids, `versions` the stock record's version each row brought,
    `reasons` their (reason, reason code). Every event of a row carries its version: the
    crossing events that of their `inventory.changed`.
    """
    events = []
    for row, ledger_id, version, (reason, reason_code) in zip(
        rows, ids, versions, reasons, strict=True
    ):
        record = records[row.product_id]
        sku = record.product.sku
        on_hand_before = row.on_hand_after - row.on_hand_delta
        reserved_before = row.reserved_after - row.reserved_delta
        available_before = is_available(on_hand_before, reserved_before)
        available_after = is_available(row.on_hand_after, row.reserved_after)
        subject = f"sku:{sku}"
        named = {
            "sku": sku,
            "product_id": record.product.public_id,
            "ledger_id": ledger_id,
            "version": version,
        }
        events.append(
            NewEvent(
                type=types.INVENTORY_CHANGED,
                subject=subject,
                data={
                    **named,
                    "kind": row.kind,
                    "reason_code": reason_code,
                    "quantity_before": on_hand_before,
                    "quantity_after": row.on_hand_after,
                    "reserved_before": reserved_before,
                    "reserved_after": row.reserved_after,
                    "available_before": available_before,
                    "available_after": available_after,
                },
                # The disclosure rule of inventory.selectors.movement_public_view.
                private={
                    "reason": reason,
                    "reference": reference,
                    "adjustment_group": None if adjustment_group is None else str(adjustment_group),
                    "actor": actor.name,
                },
                version=version,
            )
        )
        crossing = {
            **named,
            "available_before": available_before,
            "available_after": available_after,
        }
        threshold = record.low_stock_threshold
        crossed_low = not is_low_stock(available_before, threshold) and is_low_stock(
            available_after, threshold
        )
        if crossed_low:
            events.append(
                NewEvent(
                    type=types.INVENTORY_LOW_STOCK,
                    subject=subject,
                    data={**crossing, "low_stock_threshold": threshold},
                    version=version,
                )
            )
        if available_before > 0 >= available_after:
            events.append(
                NewEvent(
                    type=types.INVENTORY_OUT_OF_STOCK,
                    subject=subject,
                    data=crossing,
                    version=version,
                )
            )
        if available_before <= 0 < available_after:
            events.append(
                NewEvent(
                    type=types.INVENTORY_BACK_IN_STOCK,
                    subject=subject,
                    data=crossing,
                    version=version,
                )
            )
    return events
