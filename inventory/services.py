"""Every change of stock goes through here: lock the record, check, write, and append the ledger.

Locks are taken on StockRecord rows ordered by product id, so two actions touching the same
products always queue in the same order and cannot deadlock.
"""

import functools
import uuid
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any, NamedTuple, ParamSpec, TypeVar
from uuid import UUID

from django.db import connections, router, transaction
from django.db.models import F, QuerySet
from django.utils import timezone

from catalog.models import Product
from inventory import reasons
from inventory.errors import (
    BulkRejected,
    InsufficientStock,
    InvalidQuantity,
    Shortfall,
    StockConflict,
)
from inventory.events import StockFacts, stock_events
from inventory.kinds import BY_VALUE, SETTING_KINDS, MovementKind, Refusal, movement_kind
from inventory.models import MAX_ON_HAND, StockMovement, StockRecord
from inventory.rules import is_available
from techparts.actors import SOURCE_API, Actor
from techparts.database import bulk
from techparts.database.bulk import insert_rows, rows_param, rows_source
from techparts.database.compiled import CompiledValues
from techparts.database.lookups import AnyOfText
from techparts.errors import DomainError, NotFound
from techparts.events.services import NewEvent, events_record

if TYPE_CHECKING:
    from inventory.approvals import ApprovalRules
    from inventory.models import ApprovalRequest

P = ParamSpec("P")
R = TypeVar("R")

Kind = StockMovement.Kind


@dataclass(frozen=True)
class StockChange:
    record: StockRecord
    previous_on_hand: int
    movement: StockMovement | None
    # Set when the change crossed an approval threshold: it waits, nothing of on-hand changed.
    approval_request: "ApprovalRequest | None" = None

    @property
    def change(self) -> int:
        return self.record.on_hand - self.previous_on_hand


LOCKED_RECORD_FIELDS = (
    "id",
    "product_id",
    "on_hand",
    "reserved",
    "low_stock_threshold",
    "updated_at",
    "product__public_id",
    "product__sku",
    "product__name",
    "product__unit_cost",
)


def _in_transaction(service: Callable[P, R]) -> Callable[P, R]:
    """Run `service` in its own transaction, or inside the caller's one without a savepoint.

    Every stock service raises its refusals before its first write, so a refused call leaves
    nothing to roll back and the caller's transaction stays usable (the admin shows the
    refusal); a savepoint would cost two more round trips on every order. A database error
    aborts the caller's transaction, as it would without the savepoint on PostgreSQL.
    """

    @functools.wraps(service)
    def run(*args: P.args, **kwargs: P.kwargs) -> R:
        if connections[router.db_for_write(StockRecord)].in_atomic_block:
            return service(*args, **kwargs)
        with transaction.atomic(using=router.db_for_write(StockRecord)):
            return service(*args, **kwargs)

    return run


def _locking() -> QuerySet[StockRecord]:
    # One SELECT ... FOR NO KEY UPDATE in product order: concurrent writers queue on these
    # rows and then see each other's committed values, so checks below hold until this
    # transaction ends. NO KEY: nothing references a stock row's key, and the weaker lock does
    # not block key-share locks of inserts elsewhere. Only the stock rows are locked, not the
    # products read with them.
    return StockRecord.objects.order_by("product_id").select_for_update(of=("self",), no_key=True)


def _lock_record(*, product_id: int | None = None, sku: str | None = None) -> StockRecord:
    """Lock one stock record, by product id or SKU, as a model instance with its product.

    The product only names itself in answers and refusals. One read compiled once per thread
    (a stock sync's hot path); the instances are built as the ORM builds them.
    """
    alias = router.db_for_write(StockRecord)
    if sku is not None:
        rows = _LOCK_BY_SKU.rows(using=alias, sku=sku)
        if not rows:
            raise NotFound(f"SKU '{sku}' does not exist in inventory system")
    else:
        rows = _LOCK_BY_PRODUCT.rows(using=alias, product_id=product_id)
        if not rows:
            raise NotFound(f"No stock record for product id(s) [{product_id}].")
    (row,) = rows
    record = StockRecord.from_db(alias, _RECORD_FIELDS, [row[name] for name in _RECORD_FIELDS])
    record.product = Product.from_db(
        alias,
        ["id", *_PRODUCT_FIELDS],
        [row["product_id"], *(row[f"product__{name}"] for name in _PRODUCT_FIELDS)],
    )
    return record


_RECORD_FIELDS = [name for name in LOCKED_RECORD_FIELDS if not name.startswith("product__")]
_PRODUCT_FIELDS = [
    name.removeprefix("product__") for name in LOCKED_RECORD_FIELDS if name.startswith("product__")
]
_LOCK_BY_SKU = CompiledValues(
    lambda sku: _locking().filter(product__sku=sku).values(*LOCKED_RECORD_FIELDS),
    "sku",
)
_LOCK_BY_PRODUCT = CompiledValues(
    lambda product_id: _locking().filter(product_id=product_id).values(*LOCKED_RECORD_FIELDS),
    "product_id",
    integers=("product_id",),
)


class ProductNames(NamedTuple):
    """A locked record's product: its names for refusals, and its unit cost for the ledger."""

    public_id: str
    sku: str
    unit_cost: Decimal | None


class LockedCounts(NamedTuple):
    """A stock record locked to move units: its counts, and its product's names for refusals."""

    product_id: int
    on_hand: int
    reserved: int
    low_stock_threshold: int
    product: ProductNames

    @property
    def available(self) -> int:
        return is_available(self.on_hand, self.reserved)


# What _lock_counts and _lock_by_sku read of each record, in the order _locked_counts takes.
LOCKED_COUNTS_COLUMNS = (
    "product_id",
    "on_hand",
    "reserved",
    "low_stock_threshold",
    "product__public_id",
    "product__sku",
    "product__unit_cost",
)


def _locked_counts(row: tuple) -> LockedCounts:
    product_id, on_hand, reserved, threshold, public_id, sku, unit_cost = row
    return LockedCounts(
        product_id, on_hand, reserved, threshold, ProductNames(public_id, sku, unit_cost)
    )


def _lock_counts(product_ids: Iterable[int]) -> dict[int, LockedCounts]:
    """Lock the stock records of `product_ids` and return their counts, by product id.

    Plain rows, not model instances: building two instances (record and product) per line
    cost more than the locking query itself on a 50-line order.
    """
    ids = set(product_ids)
    rows = _locking().filter(product_id__in=ids).values_list(*LOCKED_COUNTS_COLUMNS)
    found = {row[0]: _locked_counts(row) for row in rows}
    missing = ids - set(found)
    if missing:
        raise NotFound(f"No stock record for product id(s) {sorted(missing)}.")
    return found


class Movement(NamedTuple):
    """One ledger row a stock service writes: the changes and the counts they lead to, and the
    product's unit cost at that moment (None: unknown), so the row's value stays exact."""

    product_id: int
    kind: str
    on_hand_delta: int
    reserved_delta: int
    on_hand_after: int
    reserved_after: int
    unit_cost: Decimal | None


def _movement(
    record: StockRecord | LockedCounts, *, kind: str, on_hand_delta: int, reserved_delta: int
) -> Movement:
    # Every stock change is built here, so this is where the one on-hand range rule lives.
    on_hand_after = record.on_hand + on_hand_delta
    if not 0 <= on_hand_after <= MAX_ON_HAND:
        raise InvalidQuantity(
            f"Cannot change the on-hand count of '{record.product.sku}' from {record.on_hand} "
            f"to {on_hand_after} ({on_hand_delta:+d}): it must stay between 0 and "
            f"{MAX_ON_HAND} units. Nothing was changed."
        )
    return Movement(
        record.product_id,
        kind,
        on_hand_delta,
        reserved_delta,
        on_hand_after,
        record.reserved + reserved_delta,
        record.product.unit_cost,
    )


class PendingChange(NamedTuple):
    """A change that crossed an approval threshold, as inventory.approvals records it."""

    movement: Movement
    reason_code: str
    reason: str
    thresholds: str  # the words of approval_needed


def hold_reason(request_public_id: str) -> str:
    """The reason text of the ledger row holding a waiting decrease's units."""
    return f"Held until approval request {request_public_id} is decided"


# The columns of a ledger row that differ from movement to movement, in Movement's order.
MOVEMENT_COLUMNS = Movement._fields
MOVEMENT_FIELDS = [StockMovement._meta.get_field(name) for name in MOVEMENT_COLUMNS]


class Written(NamedTuple):
    """What a stock write wrote: the time its records and rows carry, and per ledger row (in
    the order of the movements) its id and the record's version it brought."""

    at: datetime
    ids: list[int]
    versions: list[int]


def _write(
    movements: list[Movement],
    *,
    records: Mapping[int, StockFacts],
    actor: Actor,
    reason: str,
    reference: str,
    reason_code: str,
    adjustment_group: UUID | None = None,
    events: Sequence[NewEvent] = (),
    approval_request_id: int | None = None,
) -> Written:
    """Apply each movement to its locked record, append the movements to the ledger and their
    events to the outbox (inventory.events), by product id in `records`.

    Return the time the records and ledger rows carry, the rows' ids and versions.
    """
    shared: dict[str, Any] = {"reason": reason, "reason_code": reason_code}
    if approval_request_id is not None:
        shared["approval_request_id"] = approval_request_id
    return _write_rows(
        movements,
        records=records,
        actor=actor,
        reference=reference,
        adjustment_group=adjustment_group,
        shared=shared,
        events=events,
    )


def _write_rows(
    movements: list[Movement],
    *,
    records: Mapping[int, StockFacts],
    actor: Actor,
    reference: str,
    adjustment_group: UUID | None,
    shared: Mapping[str, Any] | None = None,
    row_columns: tuple[str, ...] = (),
    row_values: list[tuple] | None = None,
    events: Sequence[NewEvent] = (),
) -> Written:
    """`_write`, with the ledger columns `row_columns` given per row (`row_values`, one tuple
    per movement) and the others in `shared`: a bulk call's rows each carry their own reason."""
    now = timezone.now()
    origin_owner = actor.name if actor.source == SOURCE_API else ""
    if not movements:
        if events:
            events_record(events, origin_owner=origin_owner, created_at=now)
        return Written(now, [], [])
    versions = _apply_deltas(movements, updated_at=now)
    rows = [
        (*movement, *extra, version)
        for movement, extra, version in zip(
            movements, row_values or [()] * len(movements), versions, strict=True
        )
    ]
    # The rows as plain values (techparts.database.bulk): a StockMovement instance per row,
    # prepared field by field by bulk_create, costs more than the rest of a 50-line order.
    ids = insert_rows(
        StockMovement,
        columns=(*MOVEMENT_COLUMNS, *row_columns, "version"),
        rows=rows,
        shared={
            **(shared or {}),
            "reference": reference,
            "adjustment_group": adjustment_group,
            "source": actor.source,
            "actor_user_id": actor.user.pk if actor.user is not None else None,
            "actor_api_key_id": actor.api_key.pk if actor.api_key is not None else None,
            "actor_name": actor.name,
            "created_at": now,
        },
        returning=True,
    )
    if row_columns:
        at = [row_columns.index("reason"), row_columns.index("reason_code")]
        row_reasons = [(extra[at[0]], extra[at[1]]) for extra in row_values]
    else:
        row_reasons = [(shared["reason"], shared["reason_code"])] * len(movements)
    written = stock_events(
        movements,
        ids=ids,
        versions=versions,
        reasons=row_reasons,
        records=records,
        actor=actor,
        reference=reference,
        adjustment_group=adjustment_group,
    )
    # The one statement the outbox adds to a stock change, in its transaction; the caller's
    # own events (an order's) first, in the same statement.
    events_record([*events, *written], origin_owner=origin_owner, created_at=now)
    return Written(now, ids, versions)


def _show_written(
    records: Iterable[StockRecord], movements: Iterable[Movement], *, written: Written
) -> None:
    """Give in-memory records the counts their movements wrote, for callers that return them."""
    by_product = {record.product_id: record for record in records}
    for movement, version in zip(movements, written.versions, strict=True):
        record = by_product[movement.product_id]
        record.on_hand = movement.on_hand_after
        record.reserved = movement.reserved_after
        record.version = version
        record.updated_at = written.at


def _apply_deltas(movements: list[Movement], *, updated_at: datetime) -> list[int]:
    """Move each locked record's counts by its movement, in statements of bounded size; return
    each movement's version (the record's version its ledger row brings it to), in order."""
    # Bounded like insert_rows, for the rare caller with thousands of rows (opening a catalog).
    step = bulk.MAX_ROWS_PER_STATEMENT
    versions: list[int] = []
    for start in range(0, len(movements), step):
        versions += _apply_deltas_statement(movements[start : start + step], updated_at=updated_at)
    return versions


def _apply_deltas_statement(movements: list[Movement], *, updated_at: datetime) -> list[int]:
    # One UPDATE for every record, whatever the number of lines, its deltas read from one JSON
    # parameter (techparts.database.bulk): bulk_update's CASE WHEN per row costs milliseconds
    # of query compilation per line. The counts move by deltas (like F()) on rows this
    # transaction holds locked, so they end at the values the ledger rows record. The version
    # moves in the same statement, by the record's number of rows, and comes back with
    # RETURNING: no query, counter or lock of its own, and under the row lock version v is
    # written only after v - 1 committed.
    connection = connections[router.db_for_write(StockRecord)]
    quote = connection.ops.quote_name
    table = quote(StockRecord._meta.db_table)
    on_hand, reserved, version = quote("on_hand"), quote("reserved"), quote("version")
    product_id = quote("product_id")
    source = rows_source(connection, MOVEMENT_FIELDS)
    columns = dict(zip(MOVEMENT_COLUMNS, source.columns, strict=True))
    # Only quoted model names and placeholders go into the text; the values are parameters.
    sql = (
        f"UPDATE {table} SET {on_hand} = {on_hand} + deltas.on_hand_delta, "  # noqa: S608
        f"{reserved} = {reserved} + deltas.reserved_delta, "
        f"{version} = {version} + deltas.row_count, {quote('updated_at')} = %s "
        f"FROM (SELECT {columns['product_id']} AS product_id, "
        f"SUM({columns['on_hand_delta']}) AS on_hand_delta, "
        f"SUM({columns['reserved_delta']}) AS reserved_delta, COUNT(*) AS row_count "
        f"FROM {source.source} GROUP BY 1) AS deltas "
        f"WHERE {table}.{product_id} = deltas.product_id "
        # The ids again, as a list the planner can count: it cannot see into the JSON, and
        # guessing 100 rows it would scan the whole table rather than use the index.
        f"AND {table}.{product_id} IN ({', '.join(['%s'] * len(movements))}) "
        f"RETURNING {table}.{product_id}, {table}.{version}"
    )
    updated = connection.ops.adapt_datetimefield_value(updated_at)
    with connection.cursor() as cursor:
        cursor.execute(sql, [updated, rows_param(movements), *(m.product_id for m in movements)])
        reached = dict(cursor.fetchall())
    # A record with k rows in this statement, ending at V, gives them V - k + 1 .. V in order.
    rows = Counter(movement.product_id for movement in movements)
    seen: Counter[int] = Counter()
    versions = []
    for movement in movements:
        seen[movement.product_id] += 1
        versions.append(
            reached[movement.product_id] - rows[movement.product_id] + seen[movement.product_id]
        )
    return versions


@_in_transaction
def stock_set(
    *,
    product_id: int | None = None,
    sku: str | None = None,
    quantity: int,
    actor: Actor,
    reason: str = "",
    reference: str = "",
    kind: str | None = None,
    reason_code: str | None = None,
    expected_quantity: int | None = None,
    adjustment_group: UUID | None = None,
    approvals: bool = False,
    approval_request_id: int | None = None,
) -> StockChange:
    """Set a product's on-hand count; refuse below the reserved units or on a stale view.

    The product is named by `product_id` or by `sku` (NotFound with the API's 404 message).
    `kind` and `reason_code` follow each other (`caller_reason`); either may be left out.
    `approvals`: a change by an actor subject to two-person approval that crosses a threshold
    (inventory.approvals) is not applied but becomes a pending request, returned in
    `approval_request` (a decrease's units held). `approval_request_id`: the request whose
    approved change this is, recorded on the ledger row.
    """
    kind, reason_code = caller_reason(kind=kind, reason_code=reason_code)
    setting = _setting_kind(kind, quantity=quantity)
    if (product_id is None) == (sku is None):
        raise TypeError("stock_set() takes exactly one of product_id and sku")
    return _set_on_hand(
        _lock_record(product_id=product_id, sku=sku),
        setting=setting,
        quantity=quantity,
        actor=actor,
        reason=reason,
        reference=reference,
        kind=kind,
        reason_code=reason_code,
        expected_quantity=expected_quantity,
        adjustment_group=adjustment_group,
        approvals=approvals,
        approval_request_id=approval_request_id,
        sets_count=True,
        releasing_hold=0,
    )


def _set_on_hand(
    record: StockRecord,
    *,
    setting: MovementKind,
    quantity: int,
    actor: Actor,
    reason: str,
    reference: str,
    kind: str,
    reason_code: str,
    expected_quantity: int | None,
    adjustment_group: UUID | None,
    approvals: bool,
    approval_request_id: int | None,
    sets_count: bool,
    releasing_hold: int,
) -> StockChange:
    """stock_set and stock_adjust on the locked `record`; `sets_count`: the caller named the
    count (asking for it again while it waits for approval is the same request);
    `releasing_hold`: units of an approval hold this change releases in its own row."""
    _check_expected(record, expected_quantity=expected_quantity)
    previous = record.on_hand
    if releasing_hold:
        # The change is checked against the stock as it is once the hold is gone, and writes
        # one row doing both (inventory.kinds: a correction releasing its hold).
        _raise(movement_kind(Kind.UNHOLD).refusal(record, releasing_hold))
        record.reserved -= releasing_hold
    rules = _approval_rules(actor) if approvals and quantity != previous else None
    if rules is not None and sets_count:
        # A count sent again (a retried PATCH, a form posted twice) while its request waits
        # answers that request: a second one would hold and, approved, apply the change twice.
        waiting = rules.requests_waiting(actor=actor, records=[record]).get(
            (record.product_id, quantity)
        )
        if waiting is not None:
            return StockChange(
                record=record, previous_on_hand=previous, movement=None, approval_request=waiting
            )
    _raise(setting.refusal(record, quantity))
    if quantity == previous and not releasing_hold:
        return StockChange(record=record, previous_on_hand=previous, movement=None)
    movement = _movement(record, kind=kind, on_hand_delta=quantity - previous, reserved_delta=0)
    if releasing_hold:
        movement = movement._replace(reserved_delta=-releasing_hold)
    if rules is not None and (crossed := rules.crossed(record, movement)):
        (request,) = rules.requests_open(
            changes=[PendingChange(movement, reason_code, reason, crossed)],
            actor=actor,
            reference=reference,
        )
        if request.held:
            hold = _hold(record, units=request.held)
            held = _write(
                [hold],
                records={record.product_id: record},
                actor=actor,
                reason=hold_reason(request.public_id),
                reference=reference,
                reason_code=reasons.APPROVAL,
                approval_request_id=request.pk,
            )
            _show_written([record], [hold], written=held)
        return StockChange(
            record=record, previous_on_hand=previous, movement=None, approval_request=request
        )
    written = _write(
        [movement],
        records={record.product_id: record},
        actor=actor,
        reason=reason,
        reference=reference,
        reason_code=reason_code,
        adjustment_group=adjustment_group,
        approval_request_id=approval_request_id,
    )
    _show_written([record], [movement], written=written)
    row = StockMovement(
        id=written.ids[0],
        **movement._asdict(),
        reason=reason,
        reason_code=reason_code,
        reference=reference,
        adjustment_group=adjustment_group,
        source=actor.source,
        actor_user=actor.user,
        actor_api_key=actor.api_key,
        actor_name=actor.name,
        approval_request_id=approval_request_id,
        created_at=written.at,
        version=written.versions[0],
    )
    row._state.adding = False  # the row is stored: saving it again is refused as an update
    row._state.db = router.db_for_write(StockMovement)
    return StockChange(record=record, previous_on_hand=previous, movement=row)


def caller_reason(*, kind: str | None, reason_code: str | None) -> tuple[str, str]:
    """Return the (kind, reason code) of a caller's stock change.

    Each fills in the other when left out (inventory.reasons: `received` is a restock, the
    other codes corrections; a restock is `received`); a caller naming neither makes a
    correction. Named both, both stand: the kind says how the count may move (a restock only
    raises it), the code says why (a restock of `returned` units is one).
    """
    if reason_code is None:
        kind = kind or Kind.CORRECTION
        return kind, reasons.default_code(kind)
    if reason_code not in reasons.CALLER_CODES:
        raise InvalidQuantity(
            f"Unknown reason code {reason_code!r}; use one of: {', '.join(reasons.CALLER_CODES)}."
        )
    return kind or reasons.kind_of(reason_code), reason_code


def _setting_kind(kind: str, *, quantity: int) -> MovementKind:
    if quantity < 0:
        raise InvalidQuantity("Stock quantity cannot be negative.")
    setting = BY_VALUE.get(kind)
    if setting is None or not setting.sets_on_hand:
        setters = " or ".join(f"{value}s" for value in SETTING_KINDS)
        raise InvalidQuantity(f"On-hand counts are set by {setters}, not {kind!r}.")
    return setting


def _check_expected(record: StockRecord, *, expected_quantity: int | None) -> None:
    # A count made against a stale view is refused, not applied over the change it missed.
    if expected_quantity is not None and expected_quantity != record.on_hand:
        raise StockConflict(
            f"Stock of '{record.product.sku}' is {record.on_hand}, not the expected "
            f"{expected_quantity}. Nothing was changed; read it again and retry.",
            current_quantity=record.on_hand,
        )


def _raise(refusal: Refusal) -> None:
    if isinstance(refusal, Shortfall):
        raise InsufficientStock([refusal])
    if refusal is not None:
        raise refusal


@_in_transaction
def stock_adjust(
    *,
    product_id: int,
    delta: int,
    actor: Actor,
    reason: str = "",
    reference: str = "",
    kind: str | None = None,
    reason_code: str | None = None,
    adjustment_group: UUID | None = None,
    approvals: bool = False,
    approval_request_id: int | None = None,
    releasing_hold: int = 0,
) -> StockChange:
    """Add `delta` (may be negative) to on-hand, under the same rules as `stock_set`.

    `releasing_hold`: the units an approved request held for this change (`approval_request_id`)
    go back in the same ledger row, so readers never see the stock with the hold released and
    the change not yet made (one row, one event, one version).
    """
    record = _lock_record(product_id=product_id)
    if record.on_hand + delta < 0:
        raise InvalidQuantity(
            f"Cannot remove {-delta} units of '{record.product.sku}': "
            f"only {record.on_hand} on hand."
        )
    kind, reason_code = caller_reason(kind=kind, reason_code=reason_code)
    return _set_on_hand(
        record,
        setting=_setting_kind(kind, quantity=record.on_hand + delta),
        quantity=record.on_hand + delta,
        actor=actor,
        reason=reason,
        reference=reference,
        kind=kind,
        reason_code=reason_code,
        expected_quantity=None,
        adjustment_group=adjustment_group,
        approvals=approvals,
        approval_request_id=approval_request_id,
        sets_count=False,
        releasing_hold=releasing_hold,
    )


# --- Bulk stock writes (POST /v1/inventory/bulk) ---

ALL_OR_NOTHING = "all_or_nothing"
REJECT_FAILED_ITEMS = "reject_failed_items"
ERROR_POLICIES = (ALL_OR_NOTHING, REJECT_FAILED_ITEMS)
# The most items one call takes: its answer, its two statements' JSON and its locks stay small.
BULK_MAX_ITEMS = 2000

APPLIED, UNCHANGED, FAILED = "applied", "unchanged", "failed"
# The change crossed an approval threshold: it waits for a manager (a decrease's units held).
PENDING_APPROVAL = "pending_approval"
OUTCOMES = (APPLIED, UNCHANGED, PENDING_APPROVAL, FAILED)


@dataclass(frozen=True)
class BulkItem:
    """One line of a bulk call: set (`quantity`) or adjust (`adjust_by`) one SKU's on-hand.

    `malformed` carries the input error found before the service ran (the API's wording); the
    item is then reported as failed `validation_error` and never touches stock.
    """

    sku: str | None
    quantity: int | None = None
    adjust_by: int | None = None
    expected_quantity: int | None = None
    reason_code: str | None = None
    reason: str = ""
    malformed: str | None = None


@dataclass(frozen=True)
class BulkOutcome:
    """What happened to one item, with the stock it left (or, failed, the current stock)."""

    index: int
    sku: str | None
    outcome: str
    product_id: str | None = None
    quantity: int | None = None
    previous_quantity: int | None = None
    change: int | None = None
    reserved: int | None = None
    available: int | None = None
    error: str | None = None
    message: str | None = None
    approval_request: str | None = None  # the public id of the request a pending item waits in


@dataclass(frozen=True)
class BulkResult:
    adjustment_group: UUID | None
    reference: str
    error_policy: str
    outcomes: list[BulkOutcome]

    def count(self, outcome: str) -> int:
        return sum(1 for item in self.outcomes if item.outcome == outcome)


_LOCK_BY_SKUS = CompiledValues(
    lambda skus: (
        _locking().filter(AnyOfText(F("product__sku"), skus)).values_list(*LOCKED_COUNTS_COLUMNS)
    ),
    "skus",
    bind={"skus": AnyOfText.bind},
)


def _lock_by_sku(skus: Iterable[str]) -> dict[str, LockedCounts]:
    """Lock the stock records of `skus` (those that exist) in one read; return them by SKU.

    One parameter holds every SKU, so the read is the same statement for 1 or 2,000 of them.
    """
    wanted = list(set(skus))
    if not wanted:
        return {}
    rows = _LOCK_BY_SKUS.rows(using=router.db_for_write(StockRecord), skus=wanted)
    counts = [_locked_counts(row) for row in rows]
    return {locked.product.sku: locked for locked in counts}


def _duplicates(items: list[BulkItem]) -> dict[int, str]:
    """Return, by index, the refusal of every item naming a SKU an earlier item named."""
    first: dict[str, int] = {}
    refused = {}
    for index, item in enumerate(items):
        if item.malformed is not None or item.sku is None:
            continue
        if item.sku in first:
            refused[index] = (
                f"SKU '{item.sku}' appears more than once in this call "
                f"(items {first[item.sku]} and {index})"
            )
        else:
            first[item.sku] = index
    return refused


def _bulk_movement(item: BulkItem, record: LockedCounts | None, *, kind: str) -> Movement | None:
    """Check one item against its locked record as stock_set would; None when unchanged.

    Raises the refusal PATCH would answer, in the same words: NotFound, StockConflict
    (expected quantity, below reserved, a restock lowering), InvalidQuantity (range).
    """
    if record is None:
        raise NotFound(f"SKU '{item.sku}' does not exist in inventory system")
    _check_expected(record, expected_quantity=item.expected_quantity)
    target = item.quantity if item.adjust_by is None else record.on_hand + item.adjust_by
    # The one range rule (0..MAX_ON_HAND) of every stock change, before the kind's guards.
    movement = _movement(record, kind=kind, on_hand_delta=target - record.on_hand, reserved_delta=0)
    _raise(_setting_kind(kind, quantity=target).refusal(record, target))
    return None if target == record.on_hand else movement


def _hold(record: LockedCounts, *, units: int) -> Movement:
    """The ledger row holding `units` of a decrease that waits for approval (kind `hold`)."""
    _raise(movement_kind(Kind.HOLD).refusal(record, units))
    on_hand_delta, reserved_delta = movement_kind(Kind.HOLD).deltas(units)
    return _movement(
        record, kind=Kind.HOLD, on_hand_delta=on_hand_delta, reserved_delta=reserved_delta
    )


def _approval_rules(actor: Actor) -> "ApprovalRules | None":
    # inventory.approvals builds on this module (a decision applies through stock_set), so it
    # is imported where approval rules are asked for.
    from inventory.approvals import approval_rules

    return approval_rules(actor=actor)


def _failed(
    index: int, item: BulkItem, record: LockedCounts | None, error: DomainError
) -> BulkOutcome:
    return BulkOutcome(
        index=index,
        sku=item.sku,
        outcome=FAILED,
        product_id=record.product.public_id if record else None,
        # The current counts, so that a compare-and-set retry can use them.
        quantity=record.on_hand if record else None,
        reserved=record.reserved if record else None,
        available=record.available if record else None,
        error=error.code,
        message=error.message,
    )


def _pending(
    index: int,
    item: BulkItem,
    record: LockedCounts,
    *,
    change: int,
    thresholds: str,
    request: "ApprovalRequest | None",
    newly_held: int,
) -> BulkOutcome:
    """A `pending_approval` item: its request (None in a dry run) and the stock it leaves."""
    if request is None:
        message = (
            f"Needs approval: {thresholds}. Applied, the change of {change:+d} "
            "waits for another person's approval (a decrease's units held meanwhile)."
        )
    else:
        message = (
            f"Waits for approval: {thresholds}. The change of {change:+d} "
            f"is applied once another person approves {request.public_id}."
        )
    return BulkOutcome(
        index=index,
        sku=item.sku,
        outcome=PENDING_APPROVAL,
        product_id=record.product.public_id,
        quantity=record.on_hand,
        previous_quantity=record.on_hand,
        change=0,
        reserved=record.reserved + newly_held,
        available=record.available - newly_held,
        message=message,
        approval_request=None if request is None else request.public_id,
    )


@_in_transaction
def stock_bulk_apply(
    *,
    items: list[BulkItem],
    actor: Actor,
    reference: str = "",
    error_policy: str = ALL_OR_NOTHING,
    approvals: bool = True,
    dry_run: bool = False,
) -> BulkResult:
    """Set or adjust the on-hand count of many SKUs in one transaction, each as stock_set would.

    Every item obeys PATCH's rules and is refused in PATCH's words. `all_or_nothing`: any
    failing item raises BulkRejected (listing them all) before anything is written.
    `reject_failed_items`: the others apply. Applied rows share one new adjustment group and
    `reference`. Queries do not grow with the items: one locking read of every record (in
    product order, like every stock service), one UPDATE and one INSERT per 1,000 changes.

    Two-person approval (inventory.approvals): when the actor is subject to it (a staff user;
    an API key with `corrections_need_approval`) an item crossing a threshold is not applied
    but waits in a new approval request (outcome `pending_approval`, which does not fail
    `all_or_nothing`), its decrease's units held in the same adjustment group. `approvals=False`
    skips the rules, for changes already approved elsewhere (a reviewed cycle count).

    `dry_run`: answer exactly what this call would answer now (the same outcomes, or the same
    BulkRejected), checked under the same locks, but write nothing: no stock change, no ledger
    row, no event, no approval request (an item that would wait is reported `pending_approval`
    without a request id), and `adjustment_group` None. Only the locking read runs (and, for an
    actor subject to approval, the reads of the policy and of its waiting requests).

    An item setting a count that one of the actor's pending requests already asks for, from
    the same on-hand, is reported `pending_approval` in that request (a retried call opens no
    second request, holds nothing more).
    """
    if error_policy not in ERROR_POLICIES:
        raise ValueError(f"unknown error policy {error_policy!r}")
    duplicates = _duplicates(items)
    # Malformed items' SKUs too: a failed item shows the current counts when its SKU exists.
    records = _lock_by_sku(item.sku for item in items if item.sku is not None)
    # Whether the actor is subject to approval is known without a query: the policy is read
    # only for those who are.
    rules = _approval_rules(actor) if approvals else None
    # A count sent again while its request waits answers that request (as stock_set does).
    repeats = (
        rules.requests_waiting(
            actor=actor,
            records=[
                records[item.sku]
                for item in items
                if item.adjust_by is None and item.sku in records
            ],
        )
        if rules is not None
        else {}
    )
    outcomes: list[BulkOutcome | None] = []
    movements: list[Movement] = []
    applied_at: list[int] = []  # the index in `outcomes` of each movement's item
    written: list[tuple[str, str]] = []  # each movement's (reason, reason code)
    waiting: list[tuple[int, Movement, str, str]] = []  # (index, movement, code, thresholds)
    malformed = False
    for index, item in enumerate(items):
        if item.malformed is not None or index in duplicates:
            malformed = True
            refusal = InvalidQuantity(item.malformed or duplicates[index])
            outcomes.append(_failed(index, item, records.get(item.sku or ""), refusal))
            continue
        record = records.get(item.sku)
        repeat = (
            repeats.get((record.product_id, item.quantity))
            if record is not None and item.adjust_by is None
            else None
        )
        if repeat is not None and item.expected_quantity in (None, record.on_hand):
            outcomes.append(
                _pending(
                    index,
                    item,
                    record,
                    change=repeat.on_hand_delta,
                    thresholds=repeat.threshold,
                    request=repeat,
                    newly_held=0,
                )
            )
            continue
        try:
            # The API checked the code with the item; a direct caller's unknown code fails it.
            kind, code = caller_reason(kind=None, reason_code=item.reason_code)
            movement = _bulk_movement(item, record, kind=kind)
        except (NotFound, StockConflict, InvalidQuantity) as refusal:
            outcomes.append(_failed(index, item, record, refusal))
            continue
        crossed = movement is not None and rules is not None and rules.crossed(record, movement)
        if crossed:
            waiting.append((index, movement, code, crossed))
            outcomes.append(None)  # filled in once its request exists
            continue
        if movement is None:
            outcomes.append(
                BulkOutcome(
                    index=index,
                    sku=item.sku,
                    outcome=UNCHANGED,
                    product_id=record.product.public_id,
                    quantity=record.on_hand,
                    previous_quantity=record.on_hand,
                    change=0,
                    reserved=record.reserved,
                    available=record.available,
                )
            )
            continue
        movements.append(movement)
        applied_at.append(index)
        written.append((item.reason, code))
        outcomes.append(None)  # filled in once written
    failed = [outcome for outcome in outcomes if outcome is not None and outcome.outcome == FAILED]
    if failed and error_policy == ALL_OR_NOTHING:
        raise BulkRejected(
            total=len(items),
            failed=[
                {"index": f.index, "sku": f.sku, "error": f.error, "message": f.message}
                for f in failed
            ],
            malformed=malformed,
        )
    group = uuid.uuid4() if (movements or waiting) and not dry_run else None
    columns: tuple[str, ...] = ("reason", "reason_code")
    requests: list = [None] * len(waiting)  # a dry run opens none
    by_product = {record.product_id: record for record in records.values()}
    applied = movements
    if waiting and not dry_run:
        requests = rules.requests_open(
            changes=[
                PendingChange(movement, code, items[index].reason, crossed)
                for index, movement, code, crossed in waiting
            ],
            actor=actor,
            reference=reference,
        )
        # Each decrease's units held, in the same statements as the applied rows.
        columns = (*columns, "approval_request_id")
        written = [(*values, None) for values in written]
        movements = [*movements]
        for request in requests:
            if request.held:
                movements.append(_hold(by_product[request.product_id], units=request.held))
                written.append((hold_reason(request.public_id), reasons.APPROVAL, request.pk))
    if not dry_run:
        _write_rows(
            movements,
            records=by_product,
            actor=actor,
            reference=reference,
            adjustment_group=group,
            row_columns=columns,
            row_values=written,
        )
    for (index, movement, _code, crossed), request in zip(waiting, requests, strict=True):
        outcomes[index] = _pending(
            index,
            items[index],
            records[items[index].sku],
            change=movement.on_hand_delta,
            thresholds=crossed,
            request=request,
            newly_held=0 if request is None else request.held,
        )
    for index, movement in zip(applied_at, applied, strict=True):
        record = records[items[index].sku]
        outcomes[index] = BulkOutcome(
            index=index,
            sku=items[index].sku,
            outcome=APPLIED,
            product_id=record.product.public_id,
            quantity=movement.on_hand_after,
            previous_quantity=record.on_hand,
            change=movement.on_hand_delta,
            reserved=movement.reserved_after,
            available=is_available(movement.on_hand_after, movement.reserved_after),
        )
    return BulkResult(
        adjustment_group=group, reference=reference, error_policy=error_policy, outcomes=outcomes
    )


def _move_units(
    *,
    quantities: Mapping[int, int],
    actor: Actor,
    reference: str,
    kind: str,
    reason: str,
    events: Sequence[NewEvent] = (),
    reason_code: str = reasons.ORDER,
    approval_request_id: int | None = None,
) -> list[Movement]:
    """Move units of a MOVE_UNITS kind (inventory.kinds) for every line, all or none.

    `events` (the order's own) are recorded with the stock's, in the same statement.
    """
    moving = movement_kind(kind)
    if any(quantity <= 0 for quantity in quantities.values()):
        raise InvalidQuantity("Quantities must be positive.")
    records = _lock_counts(quantities)
    deltas = _allowed_deltas(moving, records=records, quantities=quantities)
    movements = [
        _movement(
            records[product_id],
            kind=kind,
            on_hand_delta=on_hand_delta,
            reserved_delta=reserved_delta,
        )
        for product_id, (on_hand_delta, reserved_delta) in deltas.items()
    ]
    _write(
        movements,
        records=records,
        actor=actor,
        reason=reason,
        reference=reference,
        reason_code=reason_code,
        events=events,
        approval_request_id=approval_request_id,
    )
    return movements


def _allowed_deltas(
    moving: MovementKind, *, records: Mapping[int, LockedCounts], quantities: Mapping[int, int]
) -> dict[int, tuple[int, int]]:
    """Return each line's (on-hand, reserved) deltas in product order, or refuse the lot.

    A conflict refuses at once; shortfalls are collected so InsufficientStock names them all.
    """
    shortfalls = []
    allowed = {}
    for product_id in sorted(quantities):
        refusal = moving.refusal(records[product_id], quantities[product_id])
        if isinstance(refusal, Shortfall):
            shortfalls.append(refusal)
            continue
        _raise(refusal)
        allowed[product_id] = moving.deltas(quantities[product_id])
    if shortfalls:
        raise InsufficientStock(shortfalls)
    return allowed


@_in_transaction
def stock_reserve(
    *,
    quantities: Mapping[int, int],
    actor: Actor,
    reference: str,
    reason: str = "Order placed",
    events: Sequence[NewEvent] = (),
) -> list[Movement]:
    """Reserve units for an order, all lines or none (InsufficientStock lists every short one)."""
    return _move_units(
        quantities=quantities,
        actor=actor,
        reference=reference,
        kind=Kind.RESERVATION,
        reason=reason,
        events=events,
    )


@_in_transaction
def stock_release(
    *,
    quantities: Mapping[int, int],
    actor: Actor,
    reference: str,
    reason: str = "Order cancelled",
    events: Sequence[NewEvent] = (),
) -> list[Movement]:
    """Give reserved units back to available stock."""
    return _move_units(
        quantities=quantities,
        actor=actor,
        reference=reference,
        kind=Kind.RELEASE,
        reason=reason,
        events=events,
    )


@_in_transaction
def stock_ship(
    *,
    quantities: Mapping[int, int],
    actor: Actor,
    reference: str,
    reason: str = "Order shipped",
    events: Sequence[NewEvent] = (),
) -> list[Movement]:
    """Take reserved units out of on-hand stock as they leave with a shipment."""
    return _move_units(
        quantities=quantities,
        actor=actor,
        reference=reference,
        kind=Kind.SHIPMENT,
        reason=reason,
        events=events,
    )


@_in_transaction
def stock_unhold(
    *,
    product_id: int,
    units: int,
    actor: Actor,
    reference: str,
    reason: str,
    approval_request_id: int,
) -> list[Movement]:
    """Give held units back to available stock once their approval request is decided."""
    return _move_units(
        quantities={product_id: units},
        actor=actor,
        reference=reference,
        kind=Kind.UNHOLD,
        reason=reason,
        reason_code=reasons.APPROVAL,
        approval_request_id=approval_request_id,
    )


def stock_lock(*, product_id: int) -> StockRecord:
    """Lock a product's stock record for the caller's transaction and return it with its product.

    For services that decide on stock in several steps (inventory.approvals): they take this
    lock first, as every stock service does, before locking their own rows.
    """
    return _lock_record(product_id=product_id)


@_in_transaction
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
            record, kind=Kind.CORRECTION, on_hand_delta=balances[record.product], reserved_delta=0
        )
        for record in opened
    ]
    StockRecord.objects.bulk_create(records)
    written = _write(
        movements,
        records={record.product_id: record for record in opened},
        actor=actor,
        reason=reason,
        reference="",
        reason_code=reasons.OPENING,
    )
    _show_written(opened, movements, written=written)
    return records


def stock_threshold_set(*, product_id: int, low_stock_threshold: int) -> None:
    """Change the low-stock threshold only; stock counts stay with the ledgered services."""
    if low_stock_threshold < 0:
        raise InvalidQuantity("The low-stock threshold cannot be negative.")
    updated = StockRecord.objects.filter(product_id=product_id).update(
        low_stock_threshold=low_stock_threshold, updated_at=timezone.now()
    )
    if not updated:
        raise NotFound(f"No stock record for product id {product_id}.")
