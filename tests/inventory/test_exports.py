import csv
import io
import random
import re
import tracemalloc
import uuid

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from inventory import exports
from inventory.exports import (
    CHUNK_SIZE,
    HEADER,
    _lines_by_copy,
    _lines_in_python,
    movement_csv_lines,
)
from inventory.models import StockMovement
from inventory.services import stock_adjust
from techparts.actors import Actor
from techparts.csv_export import BLANKS, SEPARATORS, csv_lines
from techparts.csv_export import FORMULA_START as FORMULA_CHARS
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


def test_export_reads_rows_with_one_query_per_chunk(django_assert_num_queries):
    product = ProductFactory(stock=0)
    add_rows(product, 50)
    lines = movement_csv_lines(StockMovement.objects.all())
    next(lines)

    with django_assert_num_queries(1):
        rest = "".join(lines)

    rows = list(csv.reader(io.StringIO(rest)))
    assert len(rows) == 50
    assert {row[1] for row in rows} == {product.sku}


def streamed_peak_bytes(movements, chunk_size: int) -> tuple[int, int]:
    tracemalloc.start()
    try:
        count = sum(
            part.count("\r\n") for part in movement_csv_lines(movements, chunk_size=chunk_size)
        )
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


def test_admin_export_streams_every_row_with_queries_per_chunk_not_per_row(
    django_assert_max_num_queries, manager
):
    client = Client()
    client.force_login(manager)
    product = ProductFactory(stock=0)
    add_rows(product, 5000)
    chunks = -(-5001 // CHUNK_SIZE)  # 5,000 rows and the opening balance

    # The admin's own queries (session, user, permissions), then at most two per chunk.
    with django_assert_max_num_queries(7 + 2 * chunks):
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


# Keyset chunks: streaming without a server-side cursor (PgBouncer), same bytes either way.

EXPORT = "/admin/inventory/stockmovement/export/"
HOSTILE = [
    '=HYPERLINK("http://x";"y")',
    "ok;=SUM(1+1);",
    "\t=1",
    "\r=1",
    "a|@x",
    "x, -1+1",
    " =1",
    "line\n=1\r\n+2",
    "ok\u00a0;\u3000=1",
    "\x1c=1 and \u2028-2",
    "quote \"inside\" and 'single'",
    "user@example.com; a-b",
    "",
    "plain text",
]


def ledger_rows(count: int, texts: list[str]) -> None:
    """Append `count` ledger rows (the ledger allows INSERT) with the given texts in turn."""
    products = [ProductFactory(name=texts[i % len(texts)] or "blank", stock=1) for i in range(3)]
    StockMovement.objects.bulk_create(
        StockMovement(
            product=products[i % 3],
            kind="correction",
            on_hand_delta=-1 - i,
            reserved_delta=0,
            on_hand_after=5,
            reserved_after=i % 3,
            reason=texts[i % len(texts)],
            reference=texts[(i + 3) % len(texts)][:100],
            adjustment_group=uuid.UUID(int=i) if i % 2 else None,
            source="admin",
            actor_name=texts[(i + 5) % len(texts)] or "x",
        )
        for i in range(count)
    )


def expected_lines(movements) -> str:
    """Write the rows from model instances with the shared writer: the export's old output."""
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
            m.reason_code,
            m.reason,
            m.reference,
            m.adjustment_group,
            m.source,
            m.actor_name,
        ]
        for m in movements.select_related("product")
    )
    return "".join(csv_lines(HEADER, rows))


def test_keyset_export_streams_in_bounded_chunks_without_server_side_cursors(monkeypatch):
    # The export on SQLite (and any database but PostgreSQL, which uses COPY).
    ledger_rows(7, HOSTILE)  # and 3 opening rows from the factory: 10 rows
    monkeypatch.setitem(connection.settings_dict, "DISABLE_SERVER_SIDE_CURSORS", True)
    movements = StockMovement.objects.order_by("-created_at", "-id")

    with CaptureQueriesContext(connection) as queries:
        text = "".join(_lines_in_python(movements, 4))

    assert text == expected_lines(movements)
    # Chunks of at most 4 rows (4 + 4 + 2), each one query plus, when more may follow, one
    # for its last row's ordering values: a constant number per chunk, whatever the row count.
    chunk_queries = [q["sql"] for q in queries.captured_queries if "LIMIT 4" in q["sql"]]
    assert (len(chunk_queries), len(queries)) == (3, 5)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="COPY is PostgreSQL's")
@pytest.mark.parametrize("part_bytes", [64 * 1024, 100])  # 100: parts shorter than a record
def test_postgresql_export_is_one_copy_statement_streamed_in_blocks(monkeypatch, part_bytes):
    # Behind PgBouncer in transaction mode: no server-side cursor, one statement, and the
    # lines arrive in several parts as COPY sends them, never the whole file at once.
    product = ProductFactory(stock=0)
    add_rows(product, 3000, reason="x" * 200)
    monkeypatch.setitem(connection.settings_dict, "DISABLE_SERVER_SIDE_CURSORS", True)
    monkeypatch.setattr(exports, "PART_BYTES", part_bytes)
    movements = StockMovement.objects.order_by("-created_at", "-id")

    with CaptureQueriesContext(connection) as queries:
        parts = list(movement_csv_lines(movements))

    assert [q["sql"][:5] for q in queries.captured_queries] == ["COPY "]
    assert len(parts) > 3
    assert all(part.endswith("\r\n") for part in parts)
    assert "".join(parts) == expected_lines(movements)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="lines built by PostgreSQL")
def test_lines_built_by_postgresql_are_the_python_writers_bytes_on_hostile_text():
    alphabet = "ab =+-@'\"\u00e9" + "".join(FORMULA_CHARS) + SEPARATORS + BLANKS
    rnd = random.Random(10)
    generated = ["".join(rnd.choices(alphabet, k=rnd.randint(1, 9))) for _ in range(400)]
    ledger_rows(len(generated) + len(HOSTILE), HOSTILE + generated)
    movements = StockMovement.objects.order_by("-created_at", "-id")

    in_database = "".join(_lines_by_copy(movements))
    assert in_database == "".join(_lines_in_python(movements, 50))
    assert in_database == expected_lines(movements)


def test_admin_export_follows_the_list_ordering_chosen_by_the_manager(manager):
    ledger_rows(9, HOSTILE)
    client = Client()
    client.force_login(manager)

    # o=2.4: product name, then on-hand change, both ascending (admin column numbers).
    shown = client.get("/admin/inventory/stockmovement/", {"o": "2.4"}).context["cl"]
    response = client.get(EXPORT, {"o": "2.4"})

    text = b"".join(response.streaming_content).decode()
    assert text == expected_lines(shown.queryset)
    assert shown.queryset.query.order_by[0] == "product__name"
