"""The stock overview: units and value in and out, loss by reason, top products, for a period.

Every number is aggregated in the database (SUM/COUNT with GROUP BY), so the overview costs
the same few queries whatever the number of products or ledger rows. Value is the sum of
units x the unit cost each ledger row recorded at its movement; rows without a cost (written
before costs existed, or for a product whose cost is unknown) are counted as units of unknown
value, never as zero.

Periods are whole days in the store's time zone (settings.STORE_TIME_ZONE): "today" runs from
the store's midnight to the next one, whatever the server's clock zone.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import Case, CharField, Count, DecimalField, F, Q, QuerySet, Sum, Value, When
from django.db.models.functions import Abs
from django.utils import timezone

from catalog.models import Product
from inventory import reasons
from inventory.models import StockMovement, StockRecord
from inventory.rules import available_expression, low_stock_condition
from techparts.csv_export import Cell, csv_lines

TOP = 10  # products in each "top" list

# (value, label) of the period presets, in the order the form lists them.
PRESETS = (
    ("today", "Today"),
    ("7d", "Last 7 days"),
    ("30d", "Last 30 days"),
    ("this_month", "This month"),
    ("last_month", "Last month"),
    ("custom", "Custom dates"),
)
DEFAULT_PRESET = "30d"
IN, OUT = "in", "out"
# Sums of units x cost: wide enough for 9999 units x 99,999,999.99 over millions of rows.
MONEY = DecimalField(max_digits=30, decimal_places=2)


def store_zone() -> ZoneInfo:
    """Return the store's time zone, in which the overview's days begin and end."""
    return ZoneInfo(settings.STORE_TIME_ZONE)


def store_today() -> date:
    """Return today's date in the store's time zone."""
    return timezone.now().astimezone(store_zone()).date()


@dataclass(frozen=True)
class Period:
    """Whole store-local days from `first_day` to `last_day` (inclusive), as instants."""

    first_day: date
    last_day: date
    start: datetime  # the store's midnight starting first_day (inclusive)
    end: datetime  # the store's midnight after last_day (exclusive)

    @property
    def label(self) -> str:
        if self.first_day == self.last_day:
            return f"{self.first_day:%Y-%m-%d}"
        return f"{self.first_day:%Y-%m-%d} to {self.last_day:%Y-%m-%d}"


def period_between(first_day: date, last_day: date) -> Period:
    """Return the period of whole store-local days from first_day to last_day, inclusive."""
    zone = store_zone()
    return Period(
        first_day=first_day,
        last_day=last_day,
        # combine() with a ZoneInfo gives each midnight its own offset (DST changes included).
        start=datetime.combine(first_day, time.min, tzinfo=zone),
        end=datetime.combine(last_day + timedelta(days=1), time.min, tzinfo=zone),
    )


def period_of(
    preset: str,
    *,
    today: date,
    first_day: date | None = None,
    last_day: date | None = None,
) -> Period:
    """Return the period a preset names, counted back from `today` (store-local).

    `custom` takes first_day and last_day (inclusive). "Last 7 days" ends with today.
    """
    if preset == "today":
        return period_between(today, today)
    if preset == "7d":
        return period_between(today - timedelta(days=6), today)
    if preset == "30d":
        return period_between(today - timedelta(days=29), today)
    if preset == "this_month":
        return period_between(today.replace(day=1), today)
    if preset == "last_month":
        last = today.replace(day=1) - timedelta(days=1)
        return period_between(last.replace(day=1), last)
    if preset == "custom":
        if first_day is None or last_day is None:
            raise ValueError("a custom period needs both dates")
        return period_between(first_day, last_day)
    raise ValueError(f"unknown period preset {preset!r}")


@dataclass
class Amount:
    """Units moved and their value. `value` covers the units with a known cost only."""

    units: int = 0
    value: Decimal = Decimal("0.00")
    units_unknown: int = 0  # units on ledger rows that recorded no cost
    movements: int = 0

    def add(self, other: Amount) -> None:
        self.units += other.units
        self.value += other.value
        self.units_unknown += other.units_unknown
        self.movements += other.movements

    @property
    def value_known(self) -> bool:
        return self.units_unknown == 0

    @property
    def value_or_none(self) -> Decimal | None:
        """The value, or None when no unit of it has a known cost (unknown, not zero)."""
        if self.units and self.units_unknown == self.units:
            return None
        return self.value

    @property
    def value_text(self) -> str:
        """The value in words: "$12.50", "value unknown", or "$12.50 + 3 units of unknown
        value" (unknown is said, never shown as $0.00)."""
        known = self.value_or_none
        if known is None:
            return "value unknown"
        if self.units_unknown:
            return f"{money(known)} + {units(self.units_unknown)} of unknown value"
        return money(known)

    @property
    def text(self) -> str:
        """Units and value in words ("0 units" alone when nothing moved)."""
        if not self.units:
            return "0 units"
        return f"{units(self.units)} · {self.value_text}"


def units(count: int) -> str:
    return f"{count} unit" if count == 1 else f"{count} units"


def money(value: Decimal) -> str:
    return f"${value:,.2f}"


@dataclass
class InOut:
    """Units and value in (on-hand raised) and out (on-hand lowered) for one group."""

    name: str
    label: str
    incoming: Amount = field(default_factory=Amount)
    outgoing: Amount = field(default_factory=Amount)

    @property
    def movements(self) -> int:
        return self.incoming.movements + self.outgoing.movements


@dataclass(frozen=True)
class ProductLoss:
    product_id: int
    sku: str
    public_id: str
    name: str
    amount: Amount


@dataclass(frozen=True)
class ProductMoves:
    product_id: int
    sku: str
    public_id: str
    name: str
    movements: int
    units_in: int
    units_out: int


@dataclass
class StockOverview:
    period: Period
    category_id: int | None
    by_kind: list[InOut]
    by_reason: list[InOut]
    loss_by_reason: list[InOut]  # `outgoing` holds the loss
    total: InOut
    loss_total: Amount
    top_loss: list[ProductLoss]
    top_moves: list[ProductMoves]
    low_stock_count: int
    hidden_count: int = 0  # products left out (hidden_product_ids)


def _movements(
    period: Period, category_id: int | None, hidden: frozenset[int]
) -> QuerySet[StockMovement]:
    movements = StockMovement.objects.filter(
        created_at__gte=period.start, created_at__lt=period.end
    )
    if category_id is not None:
        movements = movements.filter(product__category_id=category_id)
    if hidden:
        movements = movements.exclude(product_id__in=hidden)
    return movements.order_by()


def _units() -> Abs:
    return Abs("on_hand_delta")


def _amount_aggregates() -> dict:
    """units, value (of the rows with a cost), units_unknown and movements, as aggregates."""
    return {
        "units": Sum(_units()),
        "value": Sum(
            F("unit_cost") * _units(),
            filter=Q(unit_cost__isnull=False),
            output_field=MONEY,
        ),
        "units_unknown": Sum(_units(), filter=Q(unit_cost__isnull=True)),
        "movements": Count("id"),
    }


def _amount(row: dict) -> Amount:
    value = row["value"]
    return Amount(
        units=row["units"] or 0,
        value=Decimal("0.00") if value is None else value.quantize(Decimal("0.01")),
        units_unknown=row["units_unknown"] or 0,
        movements=row["movements"] or 0,
    )


# A loss: units gone from the shelf other than by a sale (shipments), i.e. a lowering
# correction, whatever its reason (damaged, shrinkage, theft, or a count that came out lower),
# and any lowering row of a loss code.
LOSS = Q(on_hand_delta__lt=0) & (
    Q(kind=StockMovement.Kind.CORRECTION) | Q(reason_code__in=reasons.LOSS_CODES)
)


def _is_loss(kind: str, reason_code: str, direction: str) -> bool:
    """LOSS for a grouped row (same rule, in Python, for the rows of the grouped query)."""
    return direction == OUT and (
        kind == StockMovement.Kind.CORRECTION or reason_code in reasons.LOSS_CODES
    )


def _grouped(movements: QuerySet[StockMovement]) -> list[dict]:
    """One row per (kind, reason code, direction) with its amounts: one GROUP BY query."""
    direction = Case(
        When(on_hand_delta__gt=0, then=Value(IN)), default=Value(OUT), output_field=CharField()
    )
    return list(
        movements.exclude(on_hand_delta=0)  # reservations and releases hold units, move none
        .annotate(direction=direction)
        .values("kind", "reason_code", "direction")
        .annotate(**_amount_aggregates())
        .order_by("kind", "reason_code", "direction")
    )


def _kind_labels() -> dict[str, str]:
    return dict(StockMovement.Kind.choices)


def _tally(rows: Iterable[dict], key: str, labels: dict[str, str]) -> list[InOut]:
    """Fold grouped rows into one InOut per value of `key`, in the order of `labels`."""
    groups: dict[str, InOut] = {}
    for row in rows:
        name = row[key]
        group = groups.setdefault(name, InOut(name=name, label=labels.get(name, name)))
        (group.incoming if row["direction"] == IN else group.outgoing).add(_amount(row))
    order = {name: index for index, name in enumerate(labels)}
    return sorted(groups.values(), key=lambda g: (order.get(g.name, len(order)), g.name))


def _top_loss(movements: QuerySet[StockMovement]) -> list[dict]:
    # Grouped by product id alone: the names of the ten are read afterwards (_named), which
    # costs far less than carrying every product's names through the grouping.
    return list(
        movements.filter(LOSS)
        .values("product_id")
        .annotate(**_amount_aggregates())
        # Known value first, largest first; products whose loss has no known value after them.
        .order_by(F("value").desc(nulls_last=True), "-units", "product_id")[:TOP]
    )


def _top_moves(movements: QuerySet[StockMovement]) -> list[dict]:
    return list(
        movements.values("product_id")
        .annotate(
            movements=Count("id"),
            units_in=Sum("on_hand_delta", filter=Q(on_hand_delta__gt=0)),
            units_out=Sum(_units(), filter=Q(on_hand_delta__lt=0)),
        )
        .order_by("-movements", "product_id")[:TOP]
    )


def _named(
    loss_rows: list[dict], move_rows: list[dict]
) -> tuple[list[ProductLoss], list[ProductMoves]]:
    """Put SKU, public id and name to the top products: one query for both lists."""
    ids = {row["product_id"] for row in (*loss_rows, *move_rows)}
    names = (
        {
            row["pk"]: row
            for row in Product.objects.filter(pk__in=ids).values("pk", "sku", "public_id", "name")
        }
        if ids
        else {}
    )
    top_loss = [
        ProductLoss(
            product_id=row["product_id"],
            sku=names[row["product_id"]]["sku"],
            public_id=names[row["product_id"]]["public_id"],
            name=names[row["product_id"]]["name"],
            amount=_amount(row),
        )
        for row in loss_rows
    ]
    top_moves = [
        ProductMoves(
            product_id=row["product_id"],
            sku=names[row["product_id"]]["sku"],
            public_id=names[row["product_id"]]["public_id"],
            name=names[row["product_id"]]["name"],
            movements=row["movements"],
            units_in=row["units_in"] or 0,
            units_out=row["units_out"] or 0,
        )
        for row in move_rows
    ]
    return top_loss, top_moves


def low_stock_records(
    *, category_id: int | None = None, hidden_product_ids: frozenset[int] = frozenset()
) -> QuerySet[StockRecord]:
    """Return the stock records at or below their low-stock threshold (inventory.rules)."""
    records = StockRecord.objects.annotate(available_units=available_expression()).filter(
        low_stock_condition(available="available_units")
    )
    if category_id is not None:
        records = records.filter(product__category_id=category_id)
    if hidden_product_ids:
        records = records.exclude(product_id__in=hidden_product_ids)
    return records


def stock_overview(
    *,
    period: Period,
    category_id: int | None = None,
    hidden_product_ids: frozenset[int] = frozenset(),
) -> StockOverview:
    """Return the overview of stock movements in `period` (optionally one category's).

    `hidden_product_ids`: products left out of every number, the low-stock count included
    (those the reader counts blind: a period's ins minus outs, or "low stock", would tell
    their counts). Five queries whatever the number of products and rows: the amounts
    grouped by kind, reason code and direction; the top products by loss value; the top
    products by movements; the names of those products; the count of low-stock records.
    """
    movements = _movements(period, category_id, hidden_product_ids)
    rows = _grouped(movements)
    reason_labels = {code.value: code.label for code in reasons.REASON_CODES}
    loss_rows = [r for r in rows if _is_loss(r["kind"], r["reason_code"], r["direction"])]
    total = InOut(name="all", label="All movements")
    for row in rows:
        (total.incoming if row["direction"] == IN else total.outgoing).add(_amount(row))
    loss_by_reason = _tally(loss_rows, "reason_code", reason_labels)
    loss_total = Amount()
    for group in loss_by_reason:
        loss_total.add(group.outgoing)
    top_loss, top_moves = _named(_top_loss(movements), _top_moves(movements))
    return StockOverview(
        period=period,
        category_id=category_id,
        by_kind=_tally(rows, "kind", _kind_labels()),
        by_reason=_tally(rows, "reason_code", reason_labels),
        loss_by_reason=loss_by_reason,
        total=total,
        loss_total=loss_total,
        top_loss=top_loss,
        top_moves=top_moves,
        low_stock_count=low_stock_records(
            category_id=category_id, hidden_product_ids=hidden_product_ids
        ).count(),
        hidden_count=len(hidden_product_ids),
    )


# The CSV behind each chart: (chart name -> title, header, rows).
CHARTS = {
    "kinds": "Units and value in and out by kind",
    "reasons": "Units and value in and out by reason code",
    "loss": "Loss by reason",
    "top-loss": f"Top {TOP} products by loss value",
    "top-moves": f"Top {TOP} products by movements",
}
IN_OUT_HEADER = [
    "units_in",
    "value_in",
    "units_in_value_unknown",
    "units_out",
    "value_out",
    "units_out_value_unknown",
    "movements",
]


def _in_out_cells(group: InOut) -> list[Cell]:
    return [
        group.incoming.units,
        group.incoming.value_or_none,
        group.incoming.units_unknown,
        group.outgoing.units,
        group.outgoing.value_or_none,
        group.outgoing.units_unknown,
        group.movements,
    ]


def chart_csv_lines(overview: StockOverview, chart: str) -> Iterator[str]:
    """Yield the CSV of the numbers behind one chart (a name of CHARTS); value cells are
    empty when no unit of them has a known cost, and *_value_unknown counts those units."""
    if chart == "kinds":
        return csv_lines(
            ["kind", *IN_OUT_HEADER], ([g.name, *_in_out_cells(g)] for g in overview.by_kind)
        )
    if chart == "reasons":
        return csv_lines(
            ["reason_code", *IN_OUT_HEADER],
            ([g.name, *_in_out_cells(g)] for g in overview.by_reason),
        )
    if chart == "loss":
        return csv_lines(
            ["reason_code", "units", "value", "units_value_unknown", "movements"],
            (
                [
                    g.name,
                    g.outgoing.units,
                    g.outgoing.value_or_none,
                    g.outgoing.units_unknown,
                    g.outgoing.movements,
                ]
                for g in overview.loss_by_reason
            ),
        )
    if chart == "top-loss":
        return csv_lines(
            ["rank", "sku", "product_id", "product_name", "units", "value", "units_value_unknown"],
            (
                [
                    rank,
                    p.sku,
                    p.public_id,
                    p.name,
                    p.amount.units,
                    p.amount.value_or_none,
                    p.amount.units_unknown,
                ]
                for rank, p in enumerate(overview.top_loss, start=1)
            ),
        )
    if chart == "top-moves":
        return csv_lines(
            ["rank", "sku", "product_id", "product_name", "movements", "units_in", "units_out"],
            (
                [rank, p.sku, p.public_id, p.name, p.movements, p.units_in, p.units_out]
                for rank, p in enumerate(overview.top_moves, start=1)
            ),
        )
    raise KeyError(chart)
