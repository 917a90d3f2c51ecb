"""Feed positions that are safe under out-of-order commits (inventory.feed, events).

PostgreSQL hands out row ids when a row is inserted, not when its transaction commits, so a
reader paging by id can pass an id whose transaction commits later. A row that records the id
of the transaction that wrote it can be read in (transaction id, row id) order, serving only
rows below the oldest transaction still running: nothing can appear below that any more.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from django.db import connections, models, router
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import Func, Model

M = TypeVar("M", bound=Model)


class WritingTransaction(Func):
    """The id of the transaction writing a row (PostgreSQL); 0 on SQLite.

    SQLite runs one writer at a time (settings: every transaction takes the write lock when it
    begins), so there ids are in commit order and every row gets 0.
    """

    output_field = models.BigIntegerField()
    template = "0"

    def as_postgresql(self, compiler, connection, **extra_context):
        return "(pg_current_xact_id()::text::bigint)", []


# The oldest transaction still running when the statement's snapshot was taken (PostgreSQL).
HORIZON_SQL = "(pg_snapshot_xmin(pg_current_snapshot())::text::bigint)"


@dataclass(frozen=True)
class PositionedPage(Generic[M]):
    """Rows after a position, and the position to ask from next."""

    rows: list[M]
    next_position: tuple[int, int]
    has_more: bool


def positioned_page(
    model: type[M],
    *,
    after: tuple[int, int],
    limit: int,
    columns: Sequence[str],
    extra_select: str = "",
    join: str = "",
    conditions: Sequence[str] = (),
    params: Sequence[Any] = (),
) -> PositionedPage[M]:
    """Return up to `limit` rows of `model` (alias `m`) after `after` in (xact, id) order.

    One statement: on PostgreSQL only rows below the snapshot's xmin are served, every
    transaction below it has ended, so no row can still appear below a position a reader has
    passed, and every transaction that writes later gets a higher id. The last safe position
    is read by the same statement (the same snapshot). `conditions` (SQL over `m` and `join`,
    values as %s in `params`) narrow the rows but not the position: a page that is not full
    resumes at the last safe row, so a narrow filter does not rescan the same rows.
    """
    alias = router.db_for_read(model)
    connection = connections[alias]
    quote = connection.ops.quote_name
    table = quote(model._meta.db_table)
    where = ["(m.xact, m.id) > (%s, %s)", *conditions]
    if connection.vendor == "postgresql":
        where.append(f"m.xact < {HORIZON_SQL}")
    selected = ", ".join(f"m.{quote(column)}" for column in columns)
    if extra_select:
        selected += f", {extra_select}"
    page = (
        # Names from the models and fixed text only; every value is a parameter.
        f"SELECT {selected} FROM {table} AS m {join} "  # noqa: S608
        f"WHERE {' AND '.join(where)} ORDER BY m.xact, m.id LIMIT %s"
    )
    # The last safe position comes back even when no row does (LEFT JOIN on one row).
    sql = (
        f"SELECT page.*, safe.last_xact, safe.last_id "  # noqa: S608 (fixed text)
        f"FROM (SELECT 1 AS one) AS one "
        f"LEFT JOIN ({last_safe_sql(model, connection)}) AS safe ON 1 = 1 "
        f"LEFT JOIN ({page}) AS page ON 1 = 1 ORDER BY page.xact, page.id"
    )
    fetched = list(model._default_manager.db_manager(alias).raw(sql, [*after, *params, limit + 1]))
    rows = [row for row in fetched if row.id is not None]
    has_more = len(rows) > limit
    rows = rows[:limit]
    next_position = (rows[-1].xact, rows[-1].id) if rows else tuple(after)
    if not has_more and fetched[0].last_id is not None:
        next_position = max(next_position, (fetched[0].last_xact, fetched[0].last_id))
    return PositionedPage(rows=rows, next_position=next_position, has_more=has_more)


def last_safe_sql(model: type[Model], connection: BaseDatabaseWrapper) -> str:
    """SQL for the position of the last row of `model` no later row can precede (one row, or
    none).

    PostgreSQL: the last row below the horizon. Not the horizon itself: that moves with every
    writing transaction of the cluster (a rate-limit counter, an idempotency record), and a
    cursor that changed when no row of `model` did would defeat the ETag of a polled page.
    SQLite: the last row.
    """
    table = connection.ops.quote_name(model._meta.db_table)
    below = f"WHERE xact < {HORIZON_SQL} " if connection.vendor == "postgresql" else ""
    return (
        f"SELECT xact AS last_xact, id AS last_id FROM {table} "  # noqa: S608 (fixed text)
        f"{below}ORDER BY xact DESC, id DESC LIMIT 1"
    )


def last_safe_position(model: type[Model]) -> tuple[int, int]:
    """Return a position no later than any row of `model` a read started after this sees."""
    connection = connections[router.db_for_read(model)]
    with connection.cursor() as cursor:
        cursor.execute(last_safe_sql(model, connection))
        row = cursor.fetchone()
    return (row[0], row[1]) if row else (0, 0)
