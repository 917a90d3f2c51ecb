import csv
import io
import re
import tracemalloc

import pytest
from django.test import Client

from inventory.exports import HEADER, movement_csv_lines
from inventory.models import StockMovement
from inventory.services import stock_adjust
from techparts.actors import Actor
from tests.factories import ProductFactory, UserFactory

pytestmark = pytest.mark.django_db


def add_rows(product, count: int, *, reason: str = "Cycle count on aisle 7") -> None:
    """Append `count` ledger rows directly (fast: no locks; the ledger only takes inserts)."""
    StockMovement.objects.bulk_create(
        [
            StockMovement(
                product=product,
                kind=StockMovement.Kind.CORRECTION,
                on_hand_delta=1,
                reserved_delta=0,
                on_hand_after=n + 1,
                reserved_after=0,
                source="system",
                actor_name="system",
                reason=reason,
            )
            for n in range(count)
        ],
        batch_size=2000,
    )


def test_export_yields_the_header_before_touching_the_database(django_assert_num_queries):
    lines = movement_csv_lines(StockMovement.objects.all())

    with django_assert_num_queries(0):
        header = next(lines)

    assert header == ",".join(f'"{name}"' for name in HEADER) + "\r\n"


def test_export_reads_rows_with_one_query_and_without_caching_them(django_assert_num_queries):
    product = ProductFactory(stock=0)
    add_rows(product, 50)
    movements = StockMovement.objects.all()
    lines = movement_csv_lines(movements)
    next(lines)

    with django_assert_num_queries(1):
        first = next(lines)
        rest = list(lines)

    assert next(csv.reader([first]))[1] == product.sku
    assert len(rest) == 49
    assert movements._result_cache is None  # iterated with .iterator(), never held as a list


def streamed_peak_bytes(movements, chunk_size: int) -> tuple[int, int]:
    tracemalloc.start()
    try:
        count = sum(1 for _ in movement_csv_lines(movements, chunk_size=chunk_size))
        return count, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_streaming_memory_does_not_grow_with_the_number_of_rows():
    # Benchmark-style, measured in bytes, not seconds: memory is bounded by the chunk size
    # (at most two chunks alive), not by the row count, which is what lets 100,000+ rows
    # export. Small chunks keep the test quick; production reads 2,000 rows at a time.
    chunk = 200
    small, large = ProductFactory(stock=0), ProductFactory(stock=0)
    add_rows(small, 2 * chunk)
    add_rows(large, 12 * chunk)

    small_count, small_peak = streamed_peak_bytes(
        StockMovement.objects.filter(product=small), chunk
    )
    large_count, large_peak = streamed_peak_bytes(
        StockMovement.objects.filter(product=large), chunk
    )

    assert (small_count, large_count) == (2 * chunk + 1, 12 * chunk + 1)
    assert large_peak < 1.3 * small_peak


def test_admin_export_streams_every_row_with_queries_independent_of_row_count(
    django_assert_max_num_queries, manager
):
    client = Client()
    client.force_login(manager)
    product = ProductFactory(stock=0)
    add_rows(product, 5000)

    with django_assert_max_num_queries(8):
        response = client.get("/admin/inventory/stockmovement/export/")
        body = b"".join(response.streaming_content).decode()

    rows = list(csv.DictReader(io.StringIO(body)))
    assert len(rows) == 5000
    assert {r["sku"] for r in rows} == {product.sku}


@pytest.mark.parametrize("text", ['=HYPERLINK("http://x")', "+1", "-2", "@SUM(A1)"])
def test_export_defuses_spreadsheet_formulas_in_free_text(text):
    product = ProductFactory(stock=0)
    add_rows(product, 1, reason=text)

    lines = list(movement_csv_lines(StockMovement.objects.all()))
    [row] = list(csv.DictReader(io.StringIO("".join(lines))))

    assert row["reason"] == "'" + text
    assert row["on_hand_change"] == "1"


# Formula injection: every free-text cell, and every piece of it a spreadsheet could split off
# at `;`, `,` or `|`, must not start (even after blanks) with what starts a formula.
HOSTILE_TEXT = [
    "ok;=SUM(1+1);",
    "\t=1",
    "\r=1",
    "a|@x",
    "x, -1+1",
    "+1",
    'ok,=HYPERLINK("http://evil.example")',
    "ok;\t=1",
]
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
NUMERIC = {
    "on_hand_change",
    "on_hand_after",
    "reserved_change",
    "reserved_after",
    "available_after",
}
QUOTED_CSV = re.compile(r'(?:"(?:[^"]|"")*"(?:,"(?:[^"]|"")*")*\r\n)*', re.DOTALL)


def assert_no_piece_starts_a_formula(row: dict[str, str]) -> None:
    for column, cell in row.items():
        if column in NUMERIC:
            continue
        for separator in ";,|":
            for piece in cell.split(separator):
                assert not piece.startswith(FORMULA_START), (column, cell)
                assert not piece.lstrip().startswith(FORMULA_START), (column, cell)


@pytest.fixture
def hostile_history(client_for):
    """Movements whose reason, reference, actor and product name all carry formulas."""
    product = ProductFactory(stock=100, name="=cmd|' /C calc'!A0")
    integrator = client_for(owner="@owner;=1").api_key
    staff = UserFactory(username="-clerk")
    for n, text in enumerate(HOSTILE_TEXT):
        actor = Actor.api(integrator) if n % 2 else Actor.staff(staff)
        stock_adjust(product_id=product.pk, delta=-3, actor=actor, reason=text, reference=text)
    return product


def test_admin_export_quotes_every_cell_and_defuses_every_piece_of_free_text(
    manager, hostile_history
):
    client = Client()
    client.force_login(manager)

    response = client.get("/admin/inventory/stockmovement/export/")
    body = b"".join(response.streaming_content).decode()

    assert QUOTED_CSV.fullmatch(body)
    rows = list(csv.DictReader(io.StringIO(body, newline="")))
    assert len(rows) == 1 + len(HOSTILE_TEXT)  # the opening balance, then each adjustment
    for row in rows:
        assert_no_piece_starts_a_formula(row)
    changes = [row for row in rows if row["actor"] != "system"]  # not the opening balance
    assert sorted(row["reason"] for row in changes) == sorted(
        [
            "ok;'=SUM(1+1);",
            "'\t'=1",
            "'\r'=1",
            "a|'@x",
            "x,' -1+1",
            "'+1",
            'ok,\'=HYPERLINK("http://evil.example")',
            "ok;'\t'=1",
        ]
    )
    assert {row["reference"] for row in changes} == {row["reason"] for row in changes}
    assert {row["actor"] for row in changes} == {"'-clerk", "'@owner;'=1"}
    assert {row["product_name"] for row in rows} == {"'=cmd|' /C calc'!A0"}
    # Numbers are written by the code, not typed by anyone: a negative change stays a number.
    assert {row["on_hand_change"] for row in changes} == {"-3"}
