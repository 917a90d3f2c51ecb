"""CSV export of stock history, streamed row by row so any number of rows fits in memory."""

import csv
from collections.abc import Iterator

from django.db.models import QuerySet

from inventory.models import StockMovement

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
# Spreadsheets run cells starting with these as formulas; free text is defused with a quote.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


class _Echo:
    """A file-like object whose write() hands back the line, for csv.writer."""

    def write(self, value: str) -> str:
        return value


def _text(value: str) -> str:
    return "'" + value if value.startswith(_FORMULA_START) else value


def movement_csv_lines(
    movements: QuerySet[StockMovement], *, chunk_size: int = CHUNK_SIZE
) -> Iterator[str]:
    """Yield the CSV header, then one line per movement, reading the rows in chunks."""
    writer = csv.writer(_Echo())
    yield writer.writerow(HEADER)
    for m in movements.select_related("product").iterator(chunk_size=chunk_size):
        yield writer.writerow(
            [
                m.created_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
                m.product.sku,
                m.product.public_id,
                _text(m.product.name),
                m.kind,
                m.on_hand_delta,
                m.on_hand_after,
                m.reserved_delta,
                m.reserved_after,
                m.on_hand_after - m.reserved_after,
                _text(m.reason),
                _text(m.reference),
                m.source,
                _text(m.actor_name),
            ]
        )
