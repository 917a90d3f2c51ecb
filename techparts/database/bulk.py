"""Many rows in one INSERT without a model instance per row.

`bulk_create` builds, prepares and compiles every field of every instance: at 50 order lines
and 50 ledger rows that costs more than the rest of an order put together. A service that
already holds its rows as plain values writes them here instead, in one statement (per batch)
on every database engine.
"""

from collections.abc import Mapping, Sequence
from typing import Any

from django.db import connections, router
from django.db.models import Model

# Rows per statement at most, whatever the engine allows: keeps one statement's text (and the
# driver's work quoting it) bounded for the rare caller with thousands of rows.
MAX_ROWS_PER_STATEMENT = 1000


def insert_rows(
    model: type[Model],
    *,
    columns: Sequence[str],
    rows: Sequence[Sequence[Any]],
    shared: Mapping[str, Any] | None = None,
    returning: bool = False,
) -> list[int]:
    """Insert `rows` into `model`'s table; return their primary keys in order if `returning`.

    Each row holds the values of `columns` (field attribute names, e.g. `product_id`), in that
    order, ready for the database driver: ints, strings, Decimals or None. `shared` maps
    further fields to one value for every row; those go through the field's own conversion
    (datetimes, foreign keys as ids), once per statement. Model defaults, `auto_now_add` and
    `save()` are not applied: the caller gives every value the row needs.
    """
    shared = dict(shared or {})
    if not rows:
        return []
    alias = router.db_for_write(model)
    connection = connections[alias]
    meta = model._meta
    quote = connection.ops.quote_name
    fields = [meta.get_field(name) for name in (*columns, *shared)]
    names = ", ".join(quote(field.column) for field in fields)
    shared_params = [
        meta.get_field(name).get_db_prep_save(value, connection) for name, value in shared.items()
    ]
    # The varying values come in as a VALUES list (columns column1, column2, ... on PostgreSQL
    # and SQLite alike) and each shared value is one parameter of the SELECT, not one per row.
    selected = ", ".join(
        [f"v.column{index}" for index in range(1, len(columns) + 1)] + ["%s"] * len(shared)
    )
    row_sql = "(" + ", ".join(["%s"] * len(columns)) + ")"
    suffix = f" RETURNING {quote(meta.pk.column)}" if returning else ""
    # Counting the shared fields in every row keeps a batch under SQLite's parameter limit.
    batch = min(MAX_ROWS_PER_STATEMENT, max(1, connection.ops.bulk_batch_size(fields, rows)))
    ids: list[int] = []
    with connection.cursor() as cursor:
        for start in range(0, len(rows), batch):
            chunk = rows[start : start + batch]
            # Only quoted model names and placeholders go into the text; values are parameters.
            sql = (
                f"INSERT INTO {quote(meta.db_table)} ({names}) "  # noqa: S608
                f"SELECT {selected} FROM (VALUES {', '.join([row_sql] * len(chunk))}) AS v"
                f"{suffix}"
            )
            # The SELECT list (the shared values) comes before the VALUES in the text.
            params = [*shared_params, *(value for row in chunk for value in row)]
            cursor.execute(sql, params)
            if returning:
                ids += [row[0] for row in cursor.fetchall()]
    return ids
