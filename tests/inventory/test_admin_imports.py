"""The admin's "Import stock corrections (CSV)": upload, dry-run review, apply; permissions, CSRF."""

import csv
import io
import re
import uuid

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from inventory.approvals import approval_policy
from inventory.imports import MAX_FILE_BYTES, corrections_csv_read
from inventory.models import ApprovalRequest, StockImport, StockMovement
from tests.conftest import stock_of
from tests.factories import ProductFactory
from tests.inventory.test_admin import client_as
from tests.inventory.test_bulk_dry_run import database_state

pytestmark = pytest.mark.django_db

STOCK_LIST = "/admin/inventory/stockrecord/"
UPLOAD = "/admin/inventory/stockrecord/import/"
TEMPLATE = "/admin/inventory/stockrecord/import/template.csv"
HEADER = "sku,quantity,adjust_by,reason_code,note,reference\n"
FILE = HEADER + "GPU-1,9,,cycle_count,Shelf B3,COUNT-7\nCPU-2,,-2,damaged,Dropped,\n"


def review_url(stock_import: StockImport) -> str:
    return f"{UPLOAD}{stock_import.id}/"


def csv_file(text: str, name: str = "count.csv") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, text.encode(), content_type="text/csv")


@pytest.fixture
def products(db):
    return ProductFactory(sku="GPU-1", stock=12), ProductFactory(sku="CPU-2", stock=5)


def upload(client: Client, text: str = FILE):
    return client.post(UPLOAD, {"file": csv_file(text)})


def fingerprint(response) -> str:
    return re.search(rb'name="reviewed" value="([0-9a-f]{64})"', response.content).group(1).decode()


def test_a_clerk_uploads_reviews_every_row_and_nothing_changes(clerk, products):
    client = client_as(clerk)
    before = database_state()

    response = upload(client, FILE + "NOPE-1,1,,damaged,,\nCPU-2,,x,damaged,,\n")

    (stock_import,) = StockImport.objects.all()
    assert response.status_code == 302
    assert response["Location"] == review_url(stock_import)
    page = client.get(review_url(stock_import))
    assert page.status_code == 200
    text = page.content.decode()
    assert "Dry run" in text and "Nothing has been changed." in text
    assert "12 → 9 (-3)" in text
    assert "5 → 3 (-2)" in text
    assert "SKU &#x27;NOPE-1&#x27; does not exist in inventory system" in text
    assert "row 5: adjust_by &#x27;x&#x27; is not a whole number" in text
    assert "COUNT-7" in text
    assert [r.outcome for r in page.context["review"].rows] == [
        "applied",
        "applied",
        "failed",
        "failed",
    ]
    assert database_state() == before


def test_apply_writes_one_group_with_the_rows_reasons_and_shows_the_result(clerk, products):
    gpu, cpu = products
    client = client_as(clerk)
    upload(client)
    stock_import = StockImport.objects.get()
    reviewed = fingerprint(client.get(review_url(stock_import)))

    response = client.post(
        review_url(stock_import), {"error_policy": "all_or_nothing", "reviewed": reviewed}
    )

    assert response.status_code == 302
    assert (stock_of(gpu).on_hand, stock_of(cpu).on_hand) == (9, 3)
    stock_import.refresh_from_db()
    rows = StockMovement.objects.filter(adjustment_group=stock_import.adjustment_group)
    assert sorted((r.product.sku, r.reason_code, r.reason, r.reference) for r in rows) == [
        ("CPU-2", "damaged", "Dropped", "COUNT-7"),
        ("GPU-1", "cycle_count", "Shelf B3", "COUNT-7"),
    ]
    assert {(r.actor_name, r.source) for r in rows} == {("clerk", "admin")}
    result = client.get(review_url(stock_import))
    text = result.content.decode()
    assert "Applied " in text and "Dry run" not in text
    assert "2 rows changed stock, 0 unchanged, 0 failed" in text
    assert 'id="corrections-apply-form"' not in text
    # Posting the same apply again changes nothing.
    again = client.post(
        review_url(stock_import), {"error_policy": "all_or_nothing", "reviewed": reviewed}
    )
    assert again.status_code == 409
    assert "This file was already applied" in again.content.decode()
    assert (stock_of(gpu).on_hand, stock_of(cpu).on_hand) == (9, 3)


def test_all_or_nothing_with_a_failing_row_applies_nothing_and_says_why(clerk, products):
    client = client_as(clerk)
    upload(client, FILE + "NOPE-1,1,,damaged,,\n")
    stock_import = StockImport.objects.get()
    reviewed = fingerprint(client.get(review_url(stock_import)))
    before = database_state()

    response = client.post(
        review_url(stock_import), {"error_policy": "all_or_nothing", "reviewed": reviewed}
    )

    assert response.status_code == 409
    assert "Nothing was applied: 1 of 3 rows fail" in response.content.decode()
    assert database_state() == before
    skipped = client.post(
        review_url(stock_import), {"error_policy": "reject_failed_items", "reviewed": reviewed}
    )
    assert skipped.status_code == 302
    assert [stock_of(p).on_hand for p in products] == [9, 3]


def test_apply_after_the_stock_moved_shows_the_new_outcomes_and_changes_nothing(clerk, products):
    gpu, _ = products
    client = client_as(clerk)
    upload(client, HEADER + "GPU-1,,-2,damaged,,\n")
    stock_import = StockImport.objects.get()
    reviewed = fingerprint(client.get(review_url(stock_import)))
    client.post(
        f"/admin/inventory/stockrecord/{stock_of(gpu).pk}/correct/",
        {"adjustment": 5, "reason_code": "returned", "expected_on_hand": 12},
    )
    before = database_state()

    response = client.post(
        review_url(stock_import), {"error_policy": "all_or_nothing", "reviewed": reviewed}
    )

    assert response.status_code == 409
    text = response.content.decode()
    assert "The stock changed since you reviewed this file" in text
    assert "17 → 15 (-2)" in text
    assert database_state() == before


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("sku,qty\nA,1\n", "The first row must name the columns; &#x27;qty&#x27; is not one"),
        (HEADER, "The file has a header but no rows of corrections."),
    ],
)
def test_a_file_that_cannot_be_read_is_refused_on_the_upload_page_and_not_kept(
    clerk, text, message
):
    response = upload(client_as(clerk), text)

    assert response.status_code == 400
    assert message in response.content.decode()
    assert StockImport.objects.count() == 0


def test_an_upload_without_a_file_asks_for_one(clerk):
    response = client_as(clerk).post(UPLOAD, {})

    assert response.status_code == 400
    assert "Choose a CSV file to upload." in response.content.decode()


def test_a_body_over_the_size_limit_is_refused_before_it_is_read(clerk):
    big = HEADER + "A,1,,damaged," + "n" * (MAX_FILE_BYTES + 70 * 1024) + ",\n"

    response = upload(client_as(clerk), big)

    assert response.status_code == 413
    assert "The file is larger than 1024 KB" in response.content.decode()
    assert StockImport.objects.count() == 0


def test_the_template_downloads_and_reads_back_as_two_valid_rows(clerk):
    response = client_as(clerk).get(TEMPLATE)

    assert response.status_code == 200
    assert response["Content-Disposition"] == (
        'attachment; filename="stock-corrections-template.csv"'
    )
    data = b"".join(response.streaming_content)
    header = next(csv.reader(io.StringIO(data.decode())))
    assert header == ["sku", "quantity", "adjust_by", "reason_code", "note", "reference"]
    parsed = corrections_csv_read(data=data)
    assert [item.malformed for item in parsed.items] == [None, None]
    assert parsed.reference == "COUNT-2024-12"


def test_the_stock_list_links_the_import_for_clerks_only(clerk, manager):
    assert UPLOAD.encode() in client_as(clerk).get(STOCK_LIST).content
    assert UPLOAD.encode() not in client_as(manager).get(STOCK_LIST).content


@pytest.mark.parametrize("user_fixture", ["staff", "manager"])
def test_staff_without_correct_stock_get_403_on_every_page_get_and_post(
    request, clerk, products, user_fixture
):
    upload(client_as(clerk))
    stock_import = StockImport.objects.get()
    client = client_as(request.getfixturevalue(user_fixture))
    before = database_state()

    assert client.get(UPLOAD).status_code == 403
    assert upload(client).status_code == 403
    assert client.get(TEMPLATE).status_code == 403
    assert client.get(review_url(stock_import)).status_code == 403
    response = client.post(
        review_url(stock_import), {"error_policy": "all_or_nothing", "reviewed": "0" * 64}
    )
    assert response.status_code == 403
    assert StockImport.objects.count() == 1
    assert database_state() == before


def test_anonymous_users_are_sent_to_the_login_page(products):
    response = Client().post(UPLOAD, {"file": csv_file(FILE)})

    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")
    assert StockImport.objects.count() == 0


def test_another_clerks_upload_is_not_found(clerk, products, inventory_groups):
    from tests.factories import UserFactory

    upload(client_as(clerk))
    stock_import = StockImport.objects.get()
    other = UserFactory(username="clerk2")
    other.groups.add(inventory_groups["Inventory clerks"])
    client = client_as(other)
    before = database_state()

    assert client.get(review_url(stock_import)).status_code == 404
    response = client.post(
        review_url(stock_import), {"error_policy": "reject_failed_items", "reviewed": "0" * 64}
    )
    assert response.status_code == 404
    assert client.get(f"{UPLOAD}{uuid.uuid4()}/").status_code == 404
    assert database_state() == before


def test_upload_and_apply_need_the_csrf_token(clerk, products):
    client = Client(enforce_csrf_checks=True)
    client.force_login(clerk)

    assert client.post(UPLOAD, {"file": csv_file(FILE)}).status_code == 403
    assert StockImport.objects.count() == 0

    page = client.get(UPLOAD)
    token = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', page.content).group(1)
    uploaded = client.post(UPLOAD, {"file": csv_file(FILE), "csrfmiddlewaretoken": token.decode()})
    assert uploaded.status_code == 302
    stock_import = StockImport.objects.get()
    reviewed = fingerprint(client.get(review_url(stock_import)))
    before = database_state()

    refused = client.post(
        review_url(stock_import), {"error_policy": "all_or_nothing", "reviewed": reviewed}
    )

    assert refused.status_code == 403
    assert database_state() == before


def test_a_tampered_apply_form_is_refused_and_changes_nothing(clerk, products):
    client = client_as(clerk)
    upload(client)
    stock_import = StockImport.objects.get()
    reviewed = fingerprint(client.get(review_url(stock_import)))
    before = database_state()

    bad_policy = client.post(
        review_url(stock_import), {"error_policy": "whatever", "reviewed": reviewed}
    )
    bad_fingerprint = client.post(
        review_url(stock_import), {"error_policy": "all_or_nothing", "reviewed": "<x>"}
    )

    assert (bad_policy.status_code, bad_fingerprint.status_code) == (400, 400)
    assert database_state() == before


def test_the_review_pages_queries_do_not_grow_with_the_rows(clerk, django_assert_num_queries):
    from tests.inventory.test_bulk import open_products

    products = open_products(300)
    client = client_as(clerk)
    pages = []
    for count in (1, 300):
        rows = "".join(f"{p.sku},,-1,damaged,,\n" for p in products[:count])
        upload(client, HEADER + rows)
        pages.append(review_url(StockImport.objects.order_by("-created_at").first()))
    client.get(pages[0])  # the session and user, as every later request reads them

    # Session, user, their permissions (2), the upload, the products the clerk counts blind
    # (inventory.counts), the dry run's one locking read and the approval policy (a clerk's
    # corrections are subject to it: inventory.approvals).
    with django_assert_num_queries(8) as small:
        assert client.get(pages[0]).status_code == 200
    with django_assert_num_queries(len(small.captured_queries)):
        response = client.get(pages[1])
    assert len(response.context["review"].rows) == 300


def test_the_apply_message_counts_the_rows_that_wait_for_approval(clerk, products):
    gpu, _ = products
    policy = approval_policy()
    policy.min_units = 3
    policy.save()
    client = client_as(clerk)
    upload(client)  # GPU-1 12 -> 9 (3 units: waits), CPU-2 -2 (applies)
    stock_import = StockImport.objects.get()
    reviewed = fingerprint(client.get(review_url(stock_import)))

    response = client.post(
        review_url(stock_import),
        {"error_policy": "all_or_nothing", "reviewed": reviewed},
        follow=True,
    )

    text = response.content.decode()
    assert "1 rows changed stock, 0 unchanged, 0 failed, 1 waiting for a second" in text
    assert stock_of(gpu).on_hand == 12
    assert ApprovalRequest.objects.get().on_hand_delta == -3
