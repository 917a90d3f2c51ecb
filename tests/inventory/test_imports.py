"""inventory.imports: a corrections CSV read into bulk items (bounded, plain-words errors), its
dry-run review and its apply through the bulk service."""

import uuid
from datetime import timedelta

import pytest
from django.utils import timezone

from inventory.errors import BulkRejected, CorrectionsFileRefused
from inventory.imports import (
    MAX_FILE_BYTES,
    MAX_ROWS,
    StockMovedSinceReview,
    corrections_csv_read,
    stock_import_apply,
    stock_import_create,
    stock_import_get,
    stock_import_review,
)
from inventory.models import StockImport, StockMovement, StockRecord
from inventory.services import BulkItem, stock_reserve, stock_set
from techparts.actors import Actor
from techparts.errors import Conflict, NotFound
from techparts.tasks.sweeper import sweep_hooks
from tests.factories import ProductFactory, UserFactory
from tests.inventory.test_bulk_dry_run import database_state

pytestmark = pytest.mark.django_db

HEADER = "sku,quantity,adjust_by,reason_code,note,reference\n"


def read(text: str) -> list[BulkItem]:
    return corrections_csv_read(data=text.encode()).items


def refusal(data: bytes) -> str:
    with pytest.raises(CorrectionsFileRefused) as refused:
        corrections_csv_read(data=data)
    return refused.value.message


# --- Reading the file ---


def test_rows_become_bulk_items_with_their_spreadsheet_row_numbers():
    parsed = corrections_csv_read(
        data=(
            HEADER + "GPU-1,12,,cycle_count,Shelf B3,COUNT-7\n"
            "\n"  # a blank row keeps its number but is no item
            'CPU-2,,-3,damaged,"dropped, twice",COUNT-7\n'
            "RAM-3,,+4,received,,\n"
        ).encode()
    )

    assert parsed.items == [
        BulkItem(sku="GPU-1", quantity=12, reason_code="cycle_count", reason="Shelf B3"),
        BulkItem(sku="CPU-2", adjust_by=-3, reason_code="damaged", reason="dropped, twice"),
        BulkItem(sku="RAM-3", adjust_by=4, reason_code="received"),
    ]
    assert parsed.rows == [2, 4, 5]
    assert (parsed.reference, parsed.delimiter) == ("COUNT-7", ",")


def test_a_european_semicolon_file_with_bom_crlf_labels_and_any_column_order_is_read():
    text = (
        "\ufeffReason code;SKU;Adjust by;Note\r\n"
        "Cycle count; gpu-1 ;-1;Zählung, Regal 3\r\n"
        "Damaged;CPU-2;2;\r\n"
        ";;;\r\n"
    )

    parsed = corrections_csv_read(data=text.encode("utf-8"))

    assert parsed.delimiter == ";"
    assert parsed.items == [
        BulkItem(sku="GPU-1", adjust_by=-1, reason_code="cycle_count", reason="Zählung, Regal 3"),
        BulkItem(sku="CPU-2", adjust_by=2, reason_code="damaged"),
    ]
    assert parsed.reference == ""


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ("A,,abc,damaged,,", "row 2: adjust_by 'abc' is not a whole number"),
        ("A,12.5,,damaged,,", "row 2: quantity '12.5' is not a whole number"),
        ("A,١٢,,damaged,,", "row 2: quantity '١٢' is not a whole number"),
        ("A,-1,,damaged,,", "row 2: quantity -1 is less than 0"),
        ("A,10000,,damaged,,", "row 2: quantity 10000 is more than 9999"),
        ("A,,-10000,damaged,,", "row 2: adjust_by -10000 is less than -9999"),
        ("A,,0,damaged,,", "row 2: adjust_by 0 changes nothing"),
        ("A,1,2,damaged,,", "row 2: give quantity or adjust_by, not both"),
        ("A,,,damaged,,", "row 2: give a new count in quantity or a signed change in adjust_by"),
        (",1,,damaged,,", "row 2: sku is empty"),
        ("A,1,,,,", "row 2: reason_code is empty; use one of: received, correction, cycle_count,"),
        ("A,1,,lost,,", "row 2: reason_code 'lost' is not one of: received, correction,"),
        ("A,1,,order,,", "row 2: reason_code 'order' is not one of: received,"),
        ("A,1,,other,,", "row 2: reason_code 'other' needs a note saying what happened"),
        ("A,1,,damaged,,,x", "row 2: it has 7 cells, but the header names 6 columns"),
        ("A,1,,damaged," + "n" * 201 + ",", "row 2: note is longer than 200 characters"),
        ("A" * 65 + ",1,,damaged,,", "row 2: sku is longer than 64 characters"),
        ("A,1,,damaged,," + "r" * 501, "row 2: reference is longer than 500 characters"),
        ("A,,x" * 1 + ",lost,,", "row 2: adjust_by 'x' is not a whole number; reason_code 'lost'"),
    ],
)
def test_each_input_error_is_a_malformed_item_naming_its_row_in_plain_words(row, message):
    (item,) = read(HEADER + row + "\n")

    assert item.malformed.startswith(message)
    assert (item.quantity, item.adjust_by) == (None, None)


def test_a_long_cell_value_is_cut_short_in_its_message():
    (item,) = read(HEADER + "A,," + "9x" * 6 + ",damaged,,\n")

    assert item.malformed == "row 2: adjust_by '9x9x9x9x9x9x' is not a whole number"
    (item,) = read(HEADER + "A,1,," + "y" * 39 + ",,\n")
    assert item.malformed.startswith("row 2: reason_code 'yyyyyyyyyyyyyyyyyyyy...' is not one")


def test_a_sku_repeated_on_a_later_row_fails_that_row_naming_the_first():
    items = read(HEADER + "GPU-1,1,,damaged,,\nCPU-2,1,,damaged,,\ngpu-1,2,,damaged,,\n")

    assert [item.malformed for item in items] == [
        None,
        None,
        "row 4: SKU 'GPU-1' is already on row 2",
    ]


def test_a_short_row_counts_its_missing_cells_as_empty():
    (item,) = read(HEADER + "GPU-1,3\n")

    assert item.malformed == (
        "row 2: reason_code is empty; use one of: "
        "received, correction, cycle_count, damaged, shrinkage, returned, theft, other"
    )


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "The file is empty: its first row must name the columns"),
        (b"\n\n", "The file is empty"),
        (HEADER.encode(), "The file has a header but no rows of corrections."),
        (b"GPU-1,12,,damaged\n", "The first row must name the columns; 'GPU-1', '12', 'damaged'"),
        (b"sku,qty,reason_code\nA,1,damaged\n", "The first row must name the columns; 'qty' is"),
        (b"sku,quantity,sku,reason_code\n", "The header names the column 'sku' twice."),
        (b"quantity,reason_code\n1,damaged\n", "The header has no 'sku' column."),
        (b"sku,note,reason_code\nA,x,damaged\n", "The header has neither a 'quantity' column"),
        (b"sku,quantity\nA,1\n", "The header has no 'reason_code' column: every correction"),
        (b"PK\x03\x04rest-of-a-zip", "This is an Excel workbook, not a CSV file"),
        ("sku,quantity".encode("utf-16"), "The file is UTF-16 text"),
        (HEADER.encode() + "A,1,,other,Café,\n".encode("cp1252"), "The file is not UTF-8 text"),
        (HEADER.encode() + b"A,1,,damaged,\x00,\n", "The file holds NUL characters"),
        (
            (HEADER + "A,1,,damaged,,DN-1\nB,1,,damaged,,DN-2\nC,1,,damaged,,\n").encode(),
            "The reference column holds different values ('DN-1', 'DN-2'). One file is recorded",
        ),
        (
            (HEADER + 'A,1,,damaged,"unclosed\n').encode(),
            "The file is not valid CSV",
        ),
    ],
)
def test_a_file_that_cannot_be_read_as_a_whole_is_refused_in_plain_words(data, message):
    assert refusal(data).startswith(message)


def test_many_different_references_are_named_three_and_more():
    rows = "".join(f"SKU-{n},1,,damaged,,DN-{n}\n" for n in range(MAX_ROWS))

    assert refusal((HEADER + rows).encode()).startswith(
        "The reference column holds different values ('DN-0', 'DN-1', 'DN-2', ...). One file"
    )


def test_a_file_over_the_size_limit_is_refused_before_it_is_decoded():
    data = HEADER.encode() + b"A,1,,damaged," + b"\xff" * MAX_FILE_BYTES

    assert refusal(data) == "The file is larger than 1024 KB; split it into smaller files."


def test_the_rows_are_bounded_by_the_bulk_services_limit():
    rows = "".join(f"SKU-{n},1,,damaged,,\n" for n in range(MAX_ROWS))
    assert len(read(HEADER + rows)) == MAX_ROWS

    assert refusal((HEADER + rows + "ONE-MORE,1,,damaged,,\n").encode()) == (
        f"The file has more than {MAX_ROWS} rows of corrections; split it into files of at "
        f"most {MAX_ROWS} rows."
    )


def test_a_cell_larger_than_the_csv_field_limit_is_refused_not_read_whole():
    data = (HEADER + 'A,1,,damaged,"' + "n" * 200_000 + '",\n').encode()

    assert refusal(data).startswith("The file is not valid CSV (near line 2): field larger")


def test_a_row_full_of_cells_under_unnamed_columns_gets_a_short_message():
    # A header of many empty names lets a row fill them: one message, not one per cell.
    columns = 100_000
    header = "sku,quantity,reason_code" + "," * columns + "\n"
    row = "GPU-1,1,damaged," + ",".join(["x"] * columns) + "\n"

    (item,) = read(header + row)

    assert item.malformed == (
        "row 2: columns 4, 5, 6 and 99997 more have no name in the header but hold values"
    )


def test_a_classic_mac_file_with_cr_line_ends_takes_its_separator_from_the_header():
    # Excel for Mac's "CSV (Macintosh)" ends lines with CR alone; notes full of ';' come after.
    text = "sku,adjust_by,reason_code,note\rGPU-1,-1,damaged,a;b;c;d;e;f;g;h;i;j;k;l\rCPU-2,2,received,\r"

    parsed = corrections_csv_read(data=text.encode())

    assert parsed.delimiter == ","
    assert parsed.items == [
        BulkItem(
            sku="GPU-1", adjust_by=-1, reason_code="damaged", reason="a;b;c;d;e;f;g;h;i;j;k;l"
        ),
        BulkItem(sku="CPU-2", adjust_by=2, reason_code="received"),
    ]


# --- Review (dry run) and apply ---


@pytest.fixture
def clerk_user(db):
    return UserFactory(username="csv-clerk")


def upload(user, text: str) -> StockImport:
    return stock_import_create(user=user, filename="count.csv", data=text.encode())


def test_the_review_shows_every_rows_outcome_and_changes_nothing(clerk_user):
    gpu = ProductFactory(sku="GPU-1", stock=12)
    cpu = ProductFactory(sku="CPU-2", stock=5)
    ProductFactory(sku="RAM-3", stock=7)
    stock_reserve(quantities={cpu.pk: 4}, actor=Actor.system(), reference="ORD-1")
    stock_import = upload(
        clerk_user,
        HEADER + "GPU-1,9,,cycle_count,Shelf B3,COUNT-7\n"
        "CPU-2,,-3,damaged,,\n"  # 5 - 3 = 2 is below the 4 reserved
        "RAM-3,7,,correction,,\n"
        "NOPE-1,1,,correction,,\n"
        "RAM-3,,abc,damaged,,\n",
    )
    before = database_state()

    review = stock_import_review(stock_import=stock_import)

    assert database_state() == before
    assert not review.applied
    assert review.reference == "COUNT-7"
    assert [(r.row, r.sku, r.asked, r.outcome) for r in review.rows] == [
        (2, "GPU-1", "set to 9", "applied"),
        (3, "CPU-2", "adjust by -3", "failed"),
        (4, "RAM-3", "set to 7", "unchanged"),
        (5, "NOPE-1", "set to 1", "failed"),
        (6, "RAM-3", "", "failed"),
    ]
    assert review.rows[0].change_text == "12 → 9 (-3)"
    assert review.rows[1].message == (
        "Cannot set stock of 'CPU-2' to 2: 4 units are reserved by open orders."
    )
    assert review.rows[3].message == "SKU 'NOPE-1' does not exist in inventory system"
    assert review.rows[4].message == "row 6: adjust_by 'abc' is not a whole number"
    assert review.counts == [("applied", 1), ("unchanged", 1), ("failed", 3)]
    assert StockRecord.objects.get(product=gpu).on_hand == 12


def test_apply_writes_one_adjustment_group_with_each_rows_reason_as_the_clerk(clerk_user):
    gpu = ProductFactory(sku="GPU-1", stock=12)
    cpu = ProductFactory(sku="CPU-2", stock=5)
    stock_import = upload(
        clerk_user,
        HEADER + "GPU-1,9,,cycle_count,Shelf B3,COUNT-7\nCPU-2,,-2,damaged,Dropped,\n",
    )
    review = stock_import_review(stock_import=stock_import)

    applied = stock_import_apply(
        import_id=stock_import.id,
        user=clerk_user,
        error_policy="all_or_nothing",
        reviewed=review.fingerprint,
    )

    assert applied.applied and applied.adjustment_group is not None
    rows = StockMovement.objects.filter(adjustment_group=applied.adjustment_group).order_by("id")
    assert [
        (r.product_id, r.kind, r.on_hand_delta, r.reason_code, r.reason, r.reference) for r in rows
    ] == [
        (gpu.pk, "correction", -3, "cycle_count", "Shelf B3", "COUNT-7"),
        (cpu.pk, "correction", -2, "damaged", "Dropped", "COUNT-7"),
    ]
    assert {(r.source, r.actor_name, r.actor_user_id) for r in rows} == {
        ("admin", "csv-clerk", clerk_user.pk)
    }
    assert [(r.change_text, r.outcome) for r in applied.rows] == [
        ("12 → 9 (-3)", "applied"),
        ("5 → 3 (-2)", "applied"),
    ]
    # The result stays readable as applied, from the kept outcomes, without a new dry run.
    stored = stock_import_review(stock_import=StockImport.objects.get(pk=stock_import.pk))
    assert stored.applied and stored.rows == applied.rows
    assert stored.adjustment_group == applied.adjustment_group


def test_an_upload_is_applied_once_only(clerk_user):
    ProductFactory(sku="GPU-1", stock=12)
    stock_import = upload(clerk_user, HEADER + "GPU-1,,-1,damaged,,\n")
    reviewed = stock_import_review(stock_import=stock_import).fingerprint
    stock_import_apply(
        import_id=stock_import.id, user=clerk_user, error_policy="all_or_nothing", reviewed=reviewed
    )
    before = database_state()

    with pytest.raises(Conflict, match="This file was already applied at"):
        stock_import_apply(
            import_id=stock_import.id,
            user=clerk_user,
            error_policy="all_or_nothing",
            reviewed=reviewed,
        )

    assert database_state() == before


def test_apply_refuses_when_the_stock_moved_since_the_review_and_shows_the_new_outcomes(
    clerk_user,
):
    gpu = ProductFactory(sku="GPU-1", stock=12)
    stock_import = upload(clerk_user, HEADER + "GPU-1,,-2,damaged,,\n")
    reviewed = stock_import_review(stock_import=stock_import).fingerprint
    stock_set(product_id=gpu.pk, quantity=20, actor=Actor.system(), reason_code="received")
    before = database_state()

    with pytest.raises(StockMovedSinceReview) as moved:
        stock_import_apply(
            import_id=stock_import.id,
            user=clerk_user,
            error_policy="all_or_nothing",
            reviewed=reviewed,
        )

    assert database_state() == before
    assert moved.value.message.startswith("The stock changed since you reviewed this file")
    assert moved.value.review.rows[0].change_text == "20 → 18 (-2)"
    # Reviewed again, it applies.
    stock_import_apply(
        import_id=stock_import.id,
        user=clerk_user,
        error_policy="all_or_nothing",
        reviewed=moved.value.review.fingerprint,
    )
    assert StockRecord.objects.get(product=gpu).on_hand == 18


def test_all_or_nothing_applies_nothing_when_a_row_fails_and_the_other_policy_skips_it(
    clerk_user,
):
    gpu = ProductFactory(sku="GPU-1", stock=12)
    stock_import = upload(clerk_user, HEADER + "GPU-1,,-2,damaged,,\nNOPE-1,1,,damaged,,\n")
    reviewed = stock_import_review(stock_import=stock_import).fingerprint
    before = database_state()

    with pytest.raises(BulkRejected):
        stock_import_apply(
            import_id=stock_import.id,
            user=clerk_user,
            error_policy="all_or_nothing",
            reviewed=reviewed,
        )
    assert database_state() == before
    assert StockImport.objects.get(pk=stock_import.pk).applied_at is None

    applied = stock_import_apply(
        import_id=stock_import.id,
        user=clerk_user,
        error_policy="reject_failed_items",
        reviewed=reviewed,
    )
    assert [r.outcome for r in applied.rows] == ["applied", "failed"]
    assert StockRecord.objects.get(product=gpu).on_hand == 10


def test_an_upload_is_its_uploaders_only_and_expires(clerk_user):
    ProductFactory(sku="GPU-1", stock=12)
    stock_import = upload(clerk_user, HEADER + "GPU-1,,-2,damaged,,\n")
    other = UserFactory(username="other-clerk")

    with pytest.raises(NotFound):
        stock_import_get(import_id=stock_import.id, user=other)
    with pytest.raises(NotFound):
        stock_import_apply(
            import_id=stock_import.id, user=other, error_policy="all_or_nothing", reviewed="0" * 64
        )
    with pytest.raises(NotFound):
        stock_import_get(import_id=uuid.uuid4(), user=clerk_user)

    StockImport.objects.filter(pk=stock_import.pk).update(
        created_at=timezone.now() - timedelta(hours=25)
    )
    with pytest.raises(NotFound, match="older than 24 hours"):
        stock_import_get(import_id=stock_import.id, user=clerk_user)
    # The next upload deletes expired ones.
    upload(other, HEADER + "GPU-1,,-1,damaged,,\n")
    assert not StockImport.objects.filter(pk=stock_import.pk).exists()
    assert StockRecord.objects.get(product__sku="GPU-1").on_hand == 12


def test_the_sweeper_deletes_expired_uploads_without_a_new_upload(clerk_user):
    ProductFactory(sku="GPU-1", stock=12)
    expired = upload(clerk_user, HEADER + "GPU-1,,-2,damaged,,\n")
    fresh = upload(clerk_user, HEADER + "GPU-1,,-1,damaged,,\n")
    StockImport.objects.filter(pk=expired.pk).update(
        created_at=timezone.now() - timedelta(hours=25)
    )

    deleted = sweep_hooks()["inventory.prune_imports"](timezone.now())

    assert deleted == 1
    assert list(StockImport.objects.values_list("pk", flat=True)) == [fresh.pk]


def test_a_refused_file_is_not_kept(clerk_user):
    with pytest.raises(CorrectionsFileRefused):
        upload(clerk_user, "sku,qty\n")

    assert StockImport.objects.count() == 0
