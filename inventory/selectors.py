"""Reads of stock and its ledger, shaped for the API, the admin and reconciliation."""

import operator
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import reduce
from uuid import UUID

from django.db.models import (
    BigIntegerField,
    Count,
    Exists,
    IntegerField,
    Max,
    Min,
    OuterRef,
    QuerySet,
    Subquery,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce

from catalog.models import Product
from inventory.kinds import KINDS
from inventory.models import ApprovalRequest, StockMovement, StockRecord
from inventory.rules import available_expression, is_available, low_stock_condition
from techparts.errors import NotFound


def stock_record_get(*, sku: str) -> StockRecord:
    """Return the stock record of the product with this SKU, or raise the seed's 404."""
    record = StockRecord.objects.select_related("product").filter(product__sku=sku).first()
    if record is None:
        raise NotFound(f"SKU '{sku}' does not exist in inventory system")
    return record


def movement_list(*, product_id: int | None = None) -> QuerySet[StockMovement]:
    """Return ledger rows newest first, with their product, optionally for one product."""
    movements = StockMovement.objects.select_related("product").order_by("-created_at", "-id")
    if product_id is not None:
        movements = movements.filter(product_id=product_id)
    return movements


# How every movement that is not the viewer's own is attributed outside the back office.
PUBLIC_ACTOR = "TechParts"


@dataclass(frozen=True)
class MovementView:
    """A ledger row as an integrator may see it (`movement_public_view`)."""

    id: int
    kind: str
    quantity_change: int
    quantity_after: int
    reserved_change: int
    reserved_after: int
    available_after: int
    reason_code: str
    reason: str
    reference: str
    adjustment_group: UUID | None
    source: str | None
    actor: str
    created_at: datetime
    version: int | None


def movement_is_own(movement: StockMovement, *, viewer_owner: str | None) -> bool:
    """Return whether one of `viewer_owner`'s API keys wrote this ledger row."""
    if not viewer_owner:
        return False
    # actor_name holds the key's owner as it was when the row was written (as Order.owner
    # does for orders), so moving a key to another owner later discloses nothing.
    return movement.source == StockMovement.Source.API and movement.actor_name == viewer_owner


def movements_of_owner(movements: QuerySet[StockMovement], owner: str | None):
    """Keep the rows `owner`'s API keys wrote (movement_is_own, as a filter)."""
    if not owner:
        return movements.none()
    return movements.filter(source=StockMovement.Source.API, actor_name=owner)


def movement_public_view(movement: StockMovement, *, viewer_owner: str | None) -> MovementView:
    """Return what the integrator `viewer_owner` may see of one ledger row.

    The one disclosure rule for everything that leaves the back office (the movements
    endpoint; the change feed and webhook payloads are to use it too). Rows the integrator's
    own keys wrote come whole: its reason text (its own words, or the fixed text of its own
    order's reservation), its reference, its adjustment group and its owner name as actor.
    Every other row (staff corrections, shipments and cancellations, the system, other
    integrators' orders and syncs) shows kind, reason code, quantities and time only: actor
    `TechParts`, no reason (staff notes never leave the back office), no reference (other
    owners' order ids, delivery notes), no adjustment group (which rows another owner wrote
    together) and no source.
    """
    own = movement_is_own(movement, viewer_owner=viewer_owner)
    return MovementView(
        id=movement.id,
        kind=movement.kind,
        quantity_change=movement.on_hand_delta,
        quantity_after=movement.on_hand_after,
        reserved_change=movement.reserved_delta,
        reserved_after=movement.reserved_after,
        available_after=movement.available_after,
        reason_code=movement.reason_code,
        reason=movement.reason if own else "",
        reference=movement.reference if own else "",
        adjustment_group=movement.adjustment_group if own else None,
        source=movement.source if own else None,
        actor=movement.actor_name if own else PUBLIC_ACTOR,
        created_at=movement.created_at,
        version=movement.version,
    )


@dataclass(frozen=True)
class StockPoint:
    at: datetime
    on_hand: int
    available: int


def stock_history_points(*, product_id: int, limit: int = 500) -> list[StockPoint]:
    """Return on-hand and available after each of the product's last `limit` movements."""
    rows = (
        StockMovement.objects.filter(product_id=product_id)
        .order_by("-id")
        .values_list("created_at", "on_hand_after", "reserved_after")[:limit]
    )
    points = [
        StockPoint(at, on_hand, is_available(on_hand, reserved)) for at, on_hand, reserved in rows
    ]
    return points[::-1]


@dataclass(frozen=True)
class Mismatch:
    product_id: int
    sku: str
    on_hand: int | None
    reserved: int | None
    ledger_on_hand: int
    ledger_reserved: int
    problem: str

    def __str__(self) -> str:
        return (
            f"{self.sku}: {self.problem} (record on_hand={self.on_hand} reserved={self.reserved}; "
            f"ledger on_hand={self.ledger_on_hand} reserved={self.ledger_reserved})"
        )


def _sum(field: str) -> Coalesce:
    return Coalesce(
        Subquery(
            StockMovement.objects.filter(product_id=OuterRef("product_id"))
            .order_by()
            .values("product_id")
            .annotate(total=Sum(field))
            .values("total"),
            output_field=IntegerField(),
        ),
        Value(0),
    )


def _rows() -> Subquery:
    return Subquery(
        StockMovement.objects.filter(product_id=OuterRef("product_id"))
        .order_by()
        .values("product_id")
        .annotate(rows=Count("id"))
        .values("rows"),
        output_field=BigIntegerField(),
    )


def _last(field: str) -> Subquery:
    # Rows of one product are written under that product's row lock, so ids follow their order.
    return Subquery(
        StockMovement.objects.filter(product_id=OuterRef("product_id"))
        .order_by("-id")
        .values(field)[:1],
        output_field=IntegerField(),
    )


def _versions(aggregate) -> Coalesce:
    """A subquery: `aggregate` over the record's ledger rows that have a version (0 if none)."""
    return Coalesce(
        Subquery(
            StockMovement.objects.filter(product_id=OuterRef("product_id"), version__isnull=False)
            .order_by()
            .values("product_id")
            .annotate(value=aggregate)
            .values("value"),
            output_field=BigIntegerField(),
        ),
        Value(0),
    )


def _misfit() -> Exists:
    # A row whose deltas are not what its kind does (KINDS) was not written by the services.
    fits = reduce(operator.or_, (kind.ledger_rows() for kind in KINDS))
    return Exists(StockMovement.objects.filter(product_id=OuterRef("product_id")).exclude(fits))


def stock_mismatches() -> list[Mismatch]:
    """Replay every product's ledger and return the stock records it does not explain.

    A record is explained when the sums of its ledger deltas equal its on-hand and reserved
    counts, its last ledger row ends at those counts, each of its rows moves the counts
    the way its kind does (inventory.kinds), and its versions are dense: its version is its
    number of ledger rows, and the rows' versions (null on rows from before versions existed)
    are distinct and run without a gap up to it. Ledger rows of a product without a stock record
    are reported too.
    """
    return [*_record_mismatches(), *_orphan_mismatches()]


def _records_with_ledger() -> QuerySet[StockRecord]:
    return (
        StockRecord.objects.select_related("product")
        .annotate(
            ledger_on_hand=_sum("on_hand_delta"),
            ledger_reserved=_sum("reserved_delta"),
            last_on_hand=_last("on_hand_after"),
            last_reserved=_last("reserved_after"),
            misfit=_misfit(),
            ledger_rows=Coalesce(_rows(), Value(0)),
            versioned_rows=_versions(Count("id")),
            distinct_versions=_versions(Count("version", distinct=True)),
            lowest_version=_versions(Min("version")),
            highest_version=_versions(Max("version")),
        )
        .order_by("product__sku")
    )


def _ledger_problem(record: StockRecord) -> str | None:
    """Return what is wrong between an annotated record and its ledger, or None."""
    counts = (record.on_hand, record.reserved)
    if counts != (record.ledger_on_hand, record.ledger_reserved):
        return "ledger sums differ from the stock record"
    if record.last_on_hand is not None and counts != (record.last_on_hand, record.last_reserved):
        return "last ledger row does not end at the stock record"
    if record.misfit:
        return "ledger rows do not move stock the way their kind does"
    if not _versions_dense(record):
        return (
            f"versions are not dense (record version={record.version}; "
            f"{record.ledger_rows} ledger rows, {record.versioned_rows} with versions "
            f"{record.lowest_version}..{record.highest_version}, "
            f"{record.distinct_versions} distinct)"
        )
    return None


def _versions_dense(record: StockRecord) -> bool:
    # Rows from before versions existed have none and come first: the versioned rows are the
    # last ones, numbered up to the record's version without gap or repeat.
    versioned = record.versioned_rows
    return (
        record.version == record.ledger_rows
        and record.distinct_versions == versioned
        and (
            versioned == 0
            or (
                record.highest_version == record.version
                and record.lowest_version == record.version - versioned + 1
            )
        )
    )


def _record_mismatches() -> Iterator[Mismatch]:
    for record in _records_with_ledger().iterator(chunk_size=2000):
        problem = _ledger_problem(record)
        if problem is not None:
            yield Mismatch(
                record.product_id,
                record.product.sku,
                record.on_hand,
                record.reserved,
                record.ledger_on_hand,
                record.ledger_reserved,
                problem,
            )


def _orphan_mismatches() -> Iterator[Mismatch]:
    orphans = (
        StockMovement.objects.filter(product__stock__isnull=True)
        .order_by()
        .values("product_id", "product__sku")
        .annotate(on_hand=Sum("on_hand_delta"), reserved=Sum("reserved_delta"))
    )
    for orphan in orphans:
        yield Mismatch(
            orphan["product_id"],
            orphan["product__sku"],
            None,
            None,
            orphan["on_hand"],
            orphan["reserved"],
            "ledger rows but no stock record",
        )


@dataclass(frozen=True)
class ReservedMismatch:
    product_id: int
    sku: str
    reserved: int | None
    promised: int
    held: int = 0  # units held by pending approval requests

    def __str__(self) -> str:
        if not self.held:
            return (
                f"{self.sku}: reserved units differ from the units on open orders (record "
                f"reserved={self.reserved}; open orders hold {self.promised})"
            )
        return (
            f"{self.sku}: reserved units differ from the units on open orders and approval "
            f"holds (record reserved={self.reserved}; open orders hold {self.promised}, "
            f"pending approval requests hold {self.held})"
        )


def held_units_by_product() -> dict[int, int]:
    """Return, per product id, the units pending approval requests hold out of available stock."""
    rows = (
        ApprovalRequest.objects.filter(status=ApprovalRequest.Status.PENDING, held__gt=0)
        .order_by()
        .values("product_id")
        .annotate(units=Sum("held"))
    )
    return {row["product_id"]: row["units"] for row in rows}


def reserved_mismatches(*, promised: Mapping[int, int]) -> list[ReservedMismatch]:
    """Return the stock records whose reserved units differ from `promised` plus the units
    pending approval requests hold (inventory.approvals).

    `promised` maps product ids to the units that open orders hold (products not in it: 0).
    Inventory cannot know what an open order is (orders build on inventory, not the other way
    round), so the caller that does (orders) supplies it.
    """
    held = held_units_by_product()
    mismatches = []
    seen = set()
    records = (
        StockRecord.objects.order_by("product__sku")
        .values_list("product_id", "product__sku", "reserved")
        .iterator(chunk_size=2000)
    )
    for product_id, sku, reserved in records:
        seen.add(product_id)
        ordered, holding = promised.get(product_id, 0), held.get(product_id, 0)
        if reserved != ordered + holding:
            mismatches.append(ReservedMismatch(product_id, sku, reserved, ordered, holding))
    unrecorded = {
        product_id for product_id, units in [*promised.items(), *held.items()] if units
    } - seen
    for product_id, sku in (
        Product.objects.filter(pk__in=unrecorded).order_by("sku").values_list("pk", "sku")
    ):
        mismatches.append(
            ReservedMismatch(
                product_id, sku, None, promised.get(product_id, 0), held.get(product_id, 0)
            )
        )
    return mismatches


def stock_record_count() -> int:
    return StockRecord.objects.count()


# The cursor of GET /v1/inventory: the last product id served (techparts.api.cursors).
STOCK_CURSOR_TAG = "s1"


STOCK_RECORD_COLUMNS = (
    "product_id",
    "product__sku",
    "product__public_id",
    "product__name",
    "on_hand",
    "reserved",
    "low_stock_threshold",
    "updated_at",
    "version",
)


@dataclass(frozen=True)
class StockRecordPage:
    # Each record as a dict of STOCK_RECORD_COLUMNS and `units_available`, for the API's
    # inventory.serializers.stock_record_body.
    records: list[dict]
    # The product id to continue after; None on the last page.
    next_after: int | None


def stock_record_page(
    *,
    after_product_id: int = 0,
    limit: int,
    updated_since: datetime | None = None,
    low_stock: bool | None = None,
    skus: Sequence[str] = (),
) -> StockRecordPage:
    """Return up to `limit` stock records after `after_product_id`, ordered by product id.

    A product's id never changes, so writes between pages (which move `updated_at`, `low_stock`
    and counts) never make a record appear on two pages or on none: a record that matches the
    filters when its page is read is on that page. One query.
    """
    # Plain rows, not model instances: a page of 1,000 records with their products built as
    # objects, then serialized field by field, cost several times the query (make bench).
    records = (
        StockRecord.objects.filter(product_id__gt=after_product_id)
        .annotate(units_available=available_expression())
        .order_by("product_id")
    )
    if updated_since is not None:
        records = records.filter(updated_at__gte=updated_since)
    if low_stock is not None:
        # Not `available`: the model's property of that name cannot be assigned.
        low = low_stock_condition(available="units_available")
        records = records.filter(low) if low_stock else records.exclude(low)
    if skus:
        records = records.filter(product__sku__in=list(skus))
    page = list(records.values(*STOCK_RECORD_COLUMNS, "units_available")[: limit + 1])
    if len(page) > limit:
        return StockRecordPage(records=page[:limit], next_after=page[limit - 1]["product_id"])
    return StockRecordPage(records=page, next_after=None)
