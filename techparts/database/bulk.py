"""Many rows in one statement: no model instance, and one parameter, whatever the row count.

`bulk_create` builds, prepares and compiles every field of every instance: at 50 order lines
and 50 ledger rows that costs more than the rest of an order put together. Passing the rows
as thousands of separate parameters is not much better: psycopg quotes each one in Python and
re-parses the statement each time (it caches only statements of few parameters). So a service
that holds its rows as plain values sends them as one JSON array, which the database unpacks
into typed columns (`jsonb_array_elements` on PostgreSQL, `json_each` on SQLite).
"""

import json
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any, NamedTuple

from django.db import connections, router
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import Field, Model

# Rows per statement at most: bounds one statement's JSON for the rare caller with thousands.
MAX_ROWS_PER_STATEMENT = 1000


class RowsSource(NamedTuple):
    """SQL reading rows from one JSON parameter: `SELECT <columns> FROM <source> ORDER BY <order>`."""

    columns: list[str]  # one expression per column, typed like the field it was built for
    source: str  # the FROM item; holds the one %s placeholder
    order: str  # the rows in the order they were given


def rows_source(connection: BaseDatabaseWrapper, fields: Sequence[Field]) -> RowsSource:
    """Return the SQL of a derived table whose rows come from `rows_param()`, column by field."""
    key = (connection.alias, tuple(fields))
    source = _SOURCES.get(key)
    if source is None:
        # Built once per database and fields: every stock change writes through here, and
        # rebuilding each column's type cast costs tens of microseconds per statement.
        source = _SOURCES[key] = _rows_source(connection, fields)
    return source


_SOURCES: dict[tuple[str, tuple[Field, ...]], RowsSource] = {}


def _rows_source(connection: BaseDatabaseWrapper, fields: Sequence[Field]) -> RowsSource:
    if connection.vendor == "postgresql":
        return RowsSource(
            columns=[
                _postgresql_column(index, field.cast_db_type(connection))
                for index, field in enumerate(fields)
            ],
            source="jsonb_array_elements(%s::jsonb) WITH ORDINALITY AS j(r, n)",
            order="j.n",
        )
    if connection.vendor == "sqlite":
        # JSON numbers come out as SQLite integers and reals, strings as text: the values a
        # parameter of the same Python type would give.
        return RowsSource(
            columns=[f"json_extract(j.value, '$[{index}]')" for index in range(len(fields))],
            source="json_each(%s) AS j",
            order="j.key",
        )
    raise NotImplementedError(f"rows_source() does not support {connection.vendor}")


def _postgresql_column(index: int, db_type: str) -> str:
    # A JSON column takes the element as it is: read as text and cast, it would be parsed twice.
    if db_type == "jsonb":
        return f"j.r -> {index}"
    return f"CAST(j.r ->> {index} AS {db_type})"


def _json_value(value: Any) -> str:
    if isinstance(value, Decimal):
        return str(value)  # exact: the database reads the digits, never a float
    raise TypeError(f"{type(value).__name__} is not a plain row value")


def rows_param(rows: Sequence[Sequence[Any]]) -> str:
    """Return `rows` (ints, strings, Decimals, None) as the one parameter of `rows_source()`."""
    return json.dumps(rows, default=_json_value, ensure_ascii=False, separators=(",", ":"))


class _InsertStatement(NamedTuple):
    sql: str
    shared_fields: list[Field]


_STATEMENTS: dict[tuple, _InsertStatement] = {}


def _insert_statement(
    connection: BaseDatabaseWrapper,
    model: type[Model],
    columns: tuple[str, ...],
    shared: tuple[str, ...],
    returning: bool,
) -> _InsertStatement:
    """Return insert_rows' SQL for these columns, built once per database and shape."""
    key = (connection.alias, model, columns, shared, returning)
    statement = _STATEMENTS.get(key)
    if statement is not None:
        return statement
    meta = model._meta
    quote = connection.ops.quote_name
    row_fields = [meta.get_field(name) for name in columns]
    shared_fields = [meta.get_field(name) for name in shared]
    names = ", ".join(quote(field.column) for field in (*row_fields, *shared_fields))
    source = rows_source(connection, row_fields)
    # Only quoted model names and placeholders go into the text; values are parameters.
    sql = (
        f"INSERT INTO {quote(meta.db_table)} ({names}) "  # noqa: S608
        f"SELECT {', '.join([*source.columns, *['%s'] * len(shared)])} "
        f"FROM {source.source} ORDER BY {source.order}"
    )
    if returning:
        sql += f" RETURNING {quote(meta.pk.column)}"
    statement = _STATEMENTS[key] = _InsertStatement(sql=sql, shared_fields=shared_fields)
    return statement


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
    order: ints, strings, Decimals or None. `shared` maps further fields to one value for every
    row; those go through the field's own conversion (datetimes, foreign keys as ids), once
    per statement. Rows are inserted in the order given. Model defaults, `auto_now_add` and
    `save()` are not applied: the caller gives every value the row needs.
    """
    shared = dict(shared or {})
    if not rows:
        return []
    connection = connections[router.db_for_write(model)]
    statement = _insert_statement(connection, model, tuple(columns), tuple(shared), returning)
    shared_params = [
        field.get_db_prep_save(value, connection)
        for field, value in zip(statement.shared_fields, shared.values(), strict=True)
    ]
    ids: list[int] = []
    with connection.cursor() as cursor:
        for start in range(0, len(rows), MAX_ROWS_PER_STATEMENT):
            # The shared values (in the SELECT list) come before the rows (in FROM).
            cursor.execute(
                statement.sql,
                [*shared_params, rows_param(rows[start : start + MAX_ROWS_PER_STATEMENT])],
            )
            if returning:
                ids += [row[0] for row in cursor.fetchall()]
    return ids
