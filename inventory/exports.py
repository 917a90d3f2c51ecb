"""CSV export of stock history, streamed so any number of rows fits in memory.

Cells are written as techparts.csv_export writes them: all quoted, formulas in text defused.
On PostgreSQL one `COPY (...) TO STDOUT` streams the lines (PostgreSQL's own CSV writer, the
defusing done in the query; byte for byte what csv_lines writes, tests compare both on hostile
text), read off the ledger's (created_at, id) index in the default order. Elsewhere rows are
read in keyset chunks (techparts.database.keyset) and written by csv_lines. Neither uses a
server-side cursor, so the export streams behind PgBouncer in transaction mode too.
"""

from collections.abc import Iterator

from django.db import connections
from django.db.models import F, QuerySet

from inventory.models import StockMovement
from techparts.csv_export import (
    NEEDS_NEUTRALISING_PG_PATTERN,
    NEUTRALISE_PG_PATTERN,
    csv_lines,
    csv_row_lines,
)
from techparts.database.keyset import keyset_chunks

# Rows per query of the keyset path (not PostgreSQL): each chunk costs a plan and two round
# trips, and holds its lines in memory (about 2 MB at 10,000 rows).
CHUNK_SIZE = 10000
TIME_FORMAT = "%Y-%m-%dT%H:%M:%SZ"
# (header, value, kind): the value is a field path or an expression; kind says how it is written.
COLUMNS = [
    ("time_utc", "created_at", "time"),
    ("sku", "product__sku", "text"),
    ("product_id", "product__public_id", "text"),
    ("product_name", "product__name", "text"),
    ("kind", "kind", "text"),
    ("on_hand_change", "on_hand_delta", "number"),
    ("on_hand_after", "on_hand_after", "number"),
    ("reserved_change", "reserved_delta", "number"),
    ("reserved_after", "reserved_after", "number"),
    # StockMovement.available_after (inventory.rules.is_available) in SQL.
    ("available_after", F("on_hand_after") - F("reserved_after"), "number"),
    ("reason_code", "reason_code", "text"),
    ("reason", "reason", "text"),
    ("reference", "reference", "text"),
    ("adjustment_group", "adjustment_group", "uuid"),
    ("source", "source", "text"),
    ("actor", "actor_name", "text"),
]
HEADER = [header for header, _, _ in COLUMNS]


def _expression(value):
    return F(value) if isinstance(value, str) else value


def _lines_by_copy(movements: QuerySet[StockMovement]) -> Iterator[str]:
    """Stream the lines through PostgreSQL's own CSV writer: `COPY (...) TO STDOUT`.

    One statement and no server-side cursor (so it streams behind PgBouncer in transaction
    mode too): the rows come out in blocks as the database produces them. COPY quotes every
    cell (FORCE_QUOTE) and doubles quotes itself; the query defuses formulas in text cells
    (tested once per row first), writes NULLs as '' and times as strftime would. COPY ends a
    record with LF where csv_lines writes CRLF, so each record carries a last cell holding a
    CR, written `,"<CR>"<LF>`: a sequence no quoted cell can hold (inside one every quote is
    doubled), turned into CRLF as the blocks pass.
    """
    yield from csv_lines(HEADER, [])
    connection = connections[movements.db]
    quote = connection.ops.quote_name
    names = [f"export_{i}" for i in range(len(COLUMNS))]
    inner = movements.annotate(
        **{name: _expression(value) for name, (_, value, _) in zip(names, COLUMNS, strict=True)}
    ).values_list(*names)
    sql, params = inner.query.sql_with_params()
    kinds = dict(zip(names, (kind for _, _, kind in COLUMNS), strict=True))
    texts = [f"t.{quote(name)}" for name in names if kinds[name] == "text"]
    # Whether any text cell of the row may need defusing: one test per row of the cells joined
    # by a separator (a piece a formula starts in one cell is one in the joined text too),
    # worked out once in a subquery that OFFSET 0 keeps PostgreSQL from inlining per cell.
    may_need = f"concat_ws(',', {', '.join(texts)}) ~ %s AS may_need"
    cells, cell_params = [], []
    for name, kind in kinds.items():
        cell = f"t.{quote(name)}"
        if kind == "time":
            cells.append(f"""to_char({cell} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')""")
        elif kind in ("number", "uuid"):  # nothing a spreadsheet could read as a formula
            cells.append(f"COALESCE(({cell})::text, '')")
        else:
            cells.append(
                f"COALESCE(CASE WHEN t.may_need AND {cell} ~ %s "
                f"THEN regexp_replace({cell}, %s, '''', 'g') ELSE {cell} END, '')"
            )
            cell_params += [NEEDS_NEUTRALISING_PG_PATTERN, NEUTRALISE_PG_PATTERN]
    # Only compiled SQL and placeholders go into the text; values are composed by psycopg.
    statement = connection.ops.compose_sql(
        f"COPY (SELECT {', '.join(cells)}, chr(13) "  # noqa: S608
        f"FROM (SELECT t.*, {may_need} FROM ({sql}) AS t OFFSET 0) AS t) "
        "TO STDOUT WITH (FORMAT csv, FORCE_QUOTE *)",
        [*cell_params, NEEDS_NEUTRALISING_PG_PATTERN, *params],
    )
    # COPY sends a message per row: pass them on in parts of about 64 KB, each ending with a
    # whole record (so no character or escape is split), not one part per row.
    parts: list[bytes] = []
    size = 0
    with connection.cursor() as cursor, cursor.copy(statement) as copy:
        for block in copy:
            parts.append(bytes(block))
            size += len(block)
            if size < PART_BYTES:
                continue
            pending = b"".join(parts)
            end = pending.rfind(_RECORD_END)
            if end < 0:  # one record longer than a part: keep reading
                parts = [pending]
                continue
            end += len(_RECORD_END)
            yield pending[:end].replace(_RECORD_END, b'"\r\n').decode()
            parts, size = [pending[end:]], len(pending) - end
    pending = b"".join(parts)
    if pending and not pending.endswith(_RECORD_END):
        raise RuntimeError("COPY output did not end with a whole record")
    if pending:
        yield pending.replace(_RECORD_END, b'"\r\n').decode()


PART_BYTES = 64 * 1024
# How a record of _lines_by_copy ends: the closing quote of its last cell, its CR cell, LF.
_RECORD_END = b'","\r"\n'


def _lines_in_python(movements: QuerySet[StockMovement], chunk_size: int) -> Iterator[str]:
    names = [f"export_{i}" for i in range(len(COLUMNS))]
    annotated = movements.annotate(
        **{name: _expression(value) for name, (_, value, _) in zip(names, COLUMNS, strict=True)}
    )
    yield from csv_lines(HEADER, [])
    for chunk in keyset_chunks(annotated, names, chunk_size=chunk_size):
        rows = ((row[0].strftime(TIME_FORMAT), *row[1:]) for row in chunk)
        yield "".join(csv_row_lines(rows))


def movement_csv_lines(
    movements: QuerySet[StockMovement], *, chunk_size: int = CHUNK_SIZE
) -> Iterator[str]:
    """Yield the CSV header line, then the movements' lines a chunk of rows at a time."""
    if connections[movements.db].vendor == "postgresql":
        return _lines_by_copy(movements)
    return _lines_in_python(movements, chunk_size)
