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
    return condition


def keyset_chunks(
    queryset: QuerySet, fields: Sequence[str], *, chunk_size: int
) -> Iterator[list[tuple]]:
    """Yield lists of `values_list(*fields)` rows in the queryset's order, one query per chunk.

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
    extra = [name for name, _ in keys if name not in fields]
    columns = [*fields, *extra]
    key_at = [columns.index(name) for name, _ in keys]
    ordered = queryset.values_list(*columns).order_by(
        *[f"{'-' if descending else ''}{name}" for name, descending in keys]
    )
    width = len(fields)
    page = ordered
    while True:
        rows = list(page[:chunk_size])
        if rows:
            yield [row[:width] for row in rows] if extra else rows
        if len(rows) < chunk_size:
            return
        page = ordered.filter(_after(keys, [rows[-1][i] for i in key_at]))
