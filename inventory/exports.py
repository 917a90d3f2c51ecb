"""CSV export of stock history, streamed in keyset chunks so any number of rows fits in memory.

Cells are written by techparts.csv_export, which quotes them all and defuses formulas in text.
On PostgreSQL the database builds each line (techparts.csv_export.CsvLine, byte for byte what
csv_lines writes) and Python only passes the chunks on; elsewhere csv_lines writes plain value
rows. Either way the rows are read in keyset chunks (techparts.database.keyset), one query per
chunk and no server-side cursor, so the export streams behind PgBouncer in transaction mode too.
"""

from collections.abc import Iterator

from django.db import connections
from django.db.models import F, QuerySet

from inventory.models import StockMovement
from techparts.csv_export import (
    CsvLine,
    CsvNumberCell,
    CsvTextCell,
    CsvUtcTimeCell,
    csv_lines,
    csv_row_lines,
)
from techparts.database.keyset import keyset_chunks

# Rows per query: each chunk costs a plan and two round trips, and holds its lines in memory
# (about 2 MB at 10,000 rows, so an export's peak stays near 15 MB whatever its length).
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
    ("reason", "reason", "text"),
    ("reference", "reference", "text"),
    ("source", "source", "text"),
    ("actor", "actor_name", "text"),
]
HEADER = [header for header, _, _ in COLUMNS]
_SQL_CELL = {"time": CsvUtcTimeCell, "text": CsvTextCell, "number": CsvNumberCell}


def _expression(value):
    return F(value) if isinstance(value, str) else value


def _lines_in_database(movements: QuerySet[StockMovement], chunk_size: int) -> Iterator[str]:
    line = CsvLine(*[_SQL_CELL[kind](_expression(value)) for _, value, kind in COLUMNS])
    yield from csv_lines(HEADER, [])
    for chunk in keyset_chunks(
        movements.annotate(csv_line=line), ["csv_line"], chunk_size=chunk_size
    ):
        yield "".join(row[0] for row in chunk)


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
        return _lines_in_database(movements, chunk_size)
    return _lines_in_python(movements, chunk_size)
