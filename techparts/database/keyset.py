"""Read a queryset in keyset-paginated chunks: streaming without a server-side cursor.

`QuerySet.iterator()` streams through a server-side cursor, which PgBouncer in transaction
mode cannot keep open (DISABLE_SERVER_SIDE_CURSORS=true); with that setting, psycopg would
fetch the whole result set into memory at once. Keyset chunks instead run one short query
per chunk (`WHERE (ordering) > (last row's ordering) ORDER BY ... LIMIT n`), each using the
ordering's index, so memory stays bounded by the chunk size on any connection setup.
"""

from collections.abc import Iterator, Sequence
from typing import Any

from django.core.exceptions import FieldDoesNotExist
from django.db import connections
from django.db.models import Q, QuerySet
from django.db.models.constants import LOOKUP_SEP


def _key_field(model, path: str):
    """Return the concrete, non-null field a path ends on, or None if keyset cannot use it."""
    field = None
    for part in path.split(LOOKUP_SEP):
        if model is None:
            return None
        try:
            field = model._meta.get_field(part)
        except FieldDoesNotExist:
            return None
        model = field.related_model if field.is_relation else None
    if field is None or field.is_relation or field.null or not field.concrete:
        return None
    return field


def keyset_ordering(queryset: QuerySet) -> list[tuple[str, bool]] | None:
    """Return the queryset's ordering as (field path, descending) ending on the primary key.

    None when the ordering cannot drive a keyset: an expression, a random or nullable
    column, a relation (ordered by the related model's own ordering), or a sliced,
    distinct or combined query.
    """
    query = queryset.query
    if query.is_sliced or query.distinct or query.combinator:
        return None
    meta = queryset.model._meta
    ordering = list(query.order_by) or (list(meta.ordering) if query.default_ordering else [])
    keys: list[tuple[str, bool]] = []
    for item in ordering:
        if not isinstance(item, str) or item == "?":
            return None
        descending = item.startswith("-")
        name = item.removeprefix("-")
        if name in {"pk", meta.pk.name}:
            keys.append((meta.pk.name, descending))
            return keys  # the primary key makes the order total: later keys never decide
        if name in query.annotations or _key_field(queryset.model, name) is None:
            return None
        keys.append((name, descending))
    # Ties in a non-total ordering have no defined order: break them by the primary key.
    keys.append((meta.pk.name, keys[-1][1] if keys else False))
    return keys


def _after(keys: Sequence[tuple[str, bool]], last: Sequence[Any]) -> Q:
    """Return the filter for rows strictly after `last` in the keys' order."""
    condition = Q(pk__in=[])
    for i, (name, descending) in enumerate(keys):
        step = Q(**{f"{name}__{'lt' if descending else 'gt'}": last[i]})
        for earlier, value in zip(keys[:i], last[:i], strict=True):
            step &= Q(**{earlier[0]: value})
        condition |= step
    # The same bound on the first key alone, which an index can seek to: without it the
    # database may scan every row before `last` again for each chunk.
    first, descending = keys[0]
    return Q(**{f"{first}__{'lte' if descending else 'gte'}": last[0]}) & condition


def _fetch(page: QuerySet) -> list[tuple]:
    """Return the page's rows; straight from the cursor when no column needs converting.

    The ORM's row-by-row machinery costs more than the query for a chunk of thousands of
    ready-made values (e.g. CSV lines built by the database).
    """
    compiler = page.query.get_compiler(using=page.db)
    sql, params = compiler.as_sql()
    if compiler.get_converters([column for column, _, _ in compiler.select]):
        return list(page)
    with connections[page.db].cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def keyset_chunks(
    queryset: QuerySet, fields: Sequence[str], *, chunk_size: int
) -> Iterator[list[tuple]]:
    """Yield lists of `values_list(*fields)` rows in the queryset's order, a chunk at a time.

    Two queries per chunk: the rows, then the last row's ordering values (by primary key;
    the rows must not be deleted while the export runs).

    Falls back to `values_list(...).iterator()` (a server-side cursor where available) when
    the ordering cannot drive a keyset (see keyset_ordering).
    """
    keys = keyset_ordering(queryset)
    if keys is None:
        chunk: list[tuple] = []
        for row in queryset.values_list(*fields).iterator(chunk_size=chunk_size):
            chunk.append(row)
            if len(chunk) == chunk_size:
                yield chunk
                chunk = []
        if chunk:
            yield chunk
        return
    # Rows carry their primary key; the ordering values are read for the last row of each
    # chunk only (one small query), since converting them for every row (timestamps, say)
    # costs more than the rest of the chunk.
    pk_name = queryset.model._meta.pk.name
    columns = [*fields] if pk_name in fields else [*fields, pk_name]
    pk_at = columns.index(pk_name)
    ordered = queryset.values_list(*columns).order_by(
        *[f"{'-' if descending else ''}{name}" for name, descending in keys]
    )
    key_of = queryset.model._base_manager.using(queryset.db).values_list(
        *[name for name, _ in keys]
    )
    width = len(fields)
    page = ordered
    while True:
        rows = _fetch(page[:chunk_size])
        if rows:
            yield [row[:width] for row in rows] if len(columns) > width else rows
        if len(rows) < chunk_size:
            return
        # The ledger and other exported tables are append-only: the last row is still there.
        page = ordered.filter(_after(keys, key_of.get(pk=rows[-1][pk_at])))
