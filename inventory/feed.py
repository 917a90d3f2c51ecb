"""The stock ledger as a gap-free change feed (`GET /v1/inventory/changes`).

Why not page by id: PostgreSQL hands out row ids when a row is inserted, not when its
transaction commits, and transactions commit in any order. A reader that has seen id 2 (its
transaction committed) and moves its cursor past 2 never sees id 1 when the transaction
holding 1 commits later.

So the feed is ordered by a position, (xact, id): `xact` is the id of the transaction that
wrote the row, set by the database on insert (techparts.database.positions.WritingTransaction). A read
serves only rows whose xact is below the snapshot's xmin, the oldest transaction still running
when the statement began: every transaction below it has ended, so no row can still appear
below that position, and every transaction that writes later has a higher id. The xmin is read
in the same statement (the same snapshot) as the rows, never in a separate query, or a
transaction committing between the two could be passed over.

The price is lag: while any transaction that has written anything (any table of the cluster)
stays open, rows of transactions that began after it wait (docs/inventory.md, "The change
feed").

SQLite runs one writer at a time (settings: every transaction takes the write lock when it
begins), so ids there are in commit order, every row has xact 0, the feed is in id order and no
row waits.
"""

from collections.abc import Sequence
from dataclasses import dataclass

from django.db import connections, router

from catalog.models import Product
from inventory.models import StockMovement
from techparts.api.cursors import cursor_decode, cursor_encode
from techparts.database.positions import last_safe_position, positioned_page

CURSOR_TAG = "c1"
MAX_LIMIT = 1000
DEFAULT_LIMIT = 100
MAX_SKUS = 100

_COLUMNS = (
    "id",
    "xact",
    "product_id",
    "kind",
    "on_hand_delta",
    "reserved_delta",
    "on_hand_after",
    "reserved_after",
    "reason",
    "reason_code",
    "reference",
    "adjustment_group",
    "source",
    "actor_name",
    "created_at",
    "version",
)


@dataclass(frozen=True, order=True)
class FeedPosition:
    """A place in the feed: after the row (xact, id). (0, 0) is before the first row."""

    xact: int
    id: int

    def cursor(self) -> str:
        return cursor_encode(CURSOR_TAG, self.xact, self.id)

    @classmethod
    def from_cursor(cls, cursor: str) -> "FeedPosition":
        """Return the position a cursor names; InvalidCursor when the API did not issue it."""
        xact, row_id = cursor_decode(CURSOR_TAG, cursor, count=2)
        return cls(xact, row_id)


FEED_START = FeedPosition(0, 0)


@dataclass(frozen=True)
class FeedPage:
    """Rows after a position (each with `sku` and `public_id` of its product) and where to go on."""

    movements: list[StockMovement]
    next_position: FeedPosition
    has_more: bool


def change_feed_page(
    *,
    after: FeedPosition = FEED_START,
    limit: int = DEFAULT_LIMIT,
    skus: Sequence[str] = (),
    kind: str | None = None,
    reason_code: str | None = None,
) -> FeedPage:
    """Return up to `limit` ledger rows after `after` in feed order, in one query.

    Filters narrow the rows but not the position: a page that is not full moves the next
    position up to the last safe row, so a narrow filter does not rescan the same rows on every
    call.
    """
    if not 1 <= limit <= MAX_LIMIT:
        raise ValueError(f"limit must be 1..{MAX_LIMIT}")
    if len(skus) > MAX_SKUS:
        raise ValueError(f"at most {MAX_SKUS} SKUs")
    quote = connections[router.db_for_read(StockMovement)].ops.quote_name
    conditions: list[str] = []
    params: list = []
    if skus:
        conditions.append(f"p.sku IN ({', '.join(['%s'] * len(skus))})")
        params.extend(skus)
    if kind is not None:
        conditions.append("m.kind = %s")
        params.append(kind)
    if reason_code is not None:
        conditions.append("m.reason_code = %s")
        params.append(reason_code)
    page = positioned_page(
        StockMovement,
        after=(after.xact, after.id),
        limit=limit,
        columns=_COLUMNS,
        extra_select="p.sku AS sku, p.public_id AS public_id",
        join=f"INNER JOIN {quote(Product._meta.db_table)} AS p ON p.id = m.product_id",
        conditions=conditions,
        params=params,
    )
    return FeedPage(
        movements=page.rows, next_position=FeedPosition(*page.next_position), has_more=page.has_more
    )


def feed_position_now() -> FeedPosition:
    """Return a feed position no later than every change a read started after this sees.

    Reading stock records after taking it and then following the feed from it misses no
    change (it may repeat a few the records already show): it is the last row no later row
    can precede, or the start when there is none.
    """
    return FeedPosition(*last_safe_position(StockMovement))
