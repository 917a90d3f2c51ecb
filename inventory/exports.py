"""CSV export of stock history, streamed row by row so any number of rows fits in memory.

Cells are written by techparts.csv_export, which quotes them all and defuses formulas in text.
"""

from collections.abc import Iterator

from django.db.models import QuerySet

from inventory.models import StockMovement
from techparts.csv_export import csv_lines

CHUNK_SIZE = 2000
HEADER = [
    "time_utc",
    "sku",
    "product_id",
    "product_name",
    "kind",
    "on_hand_change",
    "on_hand_after",
    "reserved_change",
    "reserved_after",
    "available_after",
    "reason",
    "reference",
    "source",
    "actor",
]


def movement_csv_lines(
    movements: QuerySet[StockMovement], *, chunk_size: int = CHUNK_SIZE
) -> Iterator[str]:
    """Yield the CSV header, then one line per movement, reading the rows in chunks."""
    rows = (
        [
            m.created_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
            m.product.sku,
            m.product.public_id,
            m.product.name,
            m.kind,
            m.on_hand_delta,
            m.on_hand_after,
            m.reserved_delta,
            m.reserved_after,
            m.available_after,
            m.reason,
            m.reference,
            m.source,
            m.actor_name,
        ]
        for m in movements.select_related("product").iterator(chunk_size=chunk_size)
    )
    return csv_lines(HEADER, rows)
