import csv
import io
import re
import uuid

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from inventory.models import StockMovement
from inventory.services import stock_reserve, stock_set
from techparts.actors import Actor
from tests.conftest import stock_of
from tests.factories import ProductFactory

pytestmark = pytest.mark.django_db

STOCK_LIST = "/admin/inventory/stockrecord/"
HISTORY = "/admin/inventory/stockmovement/"
EXPORT = "/admin/inventory/stockmovement/export/"


def client_as(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def correct_url(product) -> str:
    return f"/admin/inventory/stockrecord/{stock_of(product).pk}/correct/"


def movements_url(product) -> str:
    return f"/admin/inventory/stockrecord/{stock_of(product).pk}/movements/"


def change_url(product) -> str:
    return f"/admin/inventory/stockrecord/{stock_of(product).pk}/change/"


def csv_rows(response) -> list[dict[str, str]]:
    assert response.status_code == 200
    assert response.streaming
    text = b"".join(response.streaming_content).decode()
    return list(csv.DictReader(io.StringIO(text)))


@pytest.fixture
def rtx():
    return ProductFactory(sku="GPU-NV-4090-MSI-001", name="RTX 4090 Gaming X", stock=23)


# Stock list and stock page


def test_stock_list_shows_counts_and_low_stock_flag(clerk):
    ProductFactory(sku="GPU-PLENTY-1", stock=50)
    low = ProductFactory(sku="GPU-LOW-1", stock=8)
    stock_reserve(quantities={low.pk: 4}, actor=Actor.system(), reference="ORD-1")

    response = client_as(clerk).get(STOCK_LIST)

    assert response.status_code == 200
    rows = response.context["cl"].result_list
    assert [(r.product.sku, r.on_hand, r.reserved, r.available, r.is_low) for r in rows] == [
        ("GPU-LOW-1", 8, 4, 4, True),
        ("GPU-PLENTY-1", 50, 0, 50, False),
    ]
    assert b"icon-yes.svg" in response.content


@pytest.mark.parametrize(
    ("level", "skus"),
    [("low", ["SKU-LOW", "SKU-OUT"]), ("out", ["SKU-OUT"]), ("ok", ["SKU-PLENTY"])],
)
def test_stock_list_filters_low_and_out_of_stock(clerk, level, skus):
    ProductFactory(sku="SKU-PLENTY", stock=50)
    ProductFactory(sku="SKU-LOW", stock=3)
    out = ProductFactory(sku="SKU-OUT", stock=2)
    stock_reserve(quantities={out.pk: 2}, actor=Actor.system(), reference="ORD-1")

    response = client_as(clerk).get(STOCK_LIST, {"level": level})

    assert [r.product.sku for r in response.context["cl"].result_list] == skus


@pytest.mark.parametrize("query", ["GPU-NV-4090", "gaming x"])
def test_stock_list_searches_sku_and_name(clerk, rtx, query):
    ProductFactory(sku="CPU-AMD-5950X", name="Ryzen 9", stock=3)

    response = client_as(clerk).get(STOCK_LIST, {"q": query})

    assert [r.product.sku for r in response.context["cl"].result_list] == [rtx.sku]


def test_stock_list_links_history_for_managers_only(clerk, manager, rtx):
    assert b"Chart &amp; history" not in client_as(clerk).get(STOCK_LIST).content
    assert movements_url(rtx).encode() in client_as(manager).get(STOCK_LIST).content


def test_stock_page_shows_counts_read_only_and_recent_movements(clerk, rtx):
    response = client_as(clerk).get(change_url(rtx))

    assert response.status_code == 200
    form_fields = response.context["adminform"].form.fields
    assert list(form_fields) == ["low_stock_threshold"]
    content = response.content.decode()
    assert 'name="on_hand"' not in content
    assert 'name="reserved"' not in content
    assert correct_url(rtx) in content
    assert "Opening balance" in content


def test_saving_the_stock_page_changes_only_the_threshold(clerk, rtx):
    before = stock_of(rtx).updated_at
    response = client_as(clerk).post(
        change_url(rtx), {"low_stock_threshold": 30, "on_hand": 999, "reserved": 5}
    )

    assert response.status_code == 302
    record = stock_of(rtx)
    assert (record.low_stock_threshold, record.on_hand, record.reserved) == (30, 23, 0)
    assert record.updated_at > before
    assert StockMovement.objects.filter(product=rtx).count() == 1


def test_stock_records_cannot_be_added_or_deleted_even_by_superusers(superuser, rtx):
    client = client_as(superuser)

    assert client.get("/admin/inventory/stockrecord/add/").status_code == 403
    assert client.get(f"/admin/inventory/stockrecord/{stock_of(rtx).pk}/delete/").status_code == 403


def test_staff_without_inventory_group_cannot_see_stock(staff, rtx):
    assert client_as(staff).get(STOCK_LIST).status_code == 403


# Correction form


def test_clerk_sets_a_counted_quantity_with_a_reason(clerk, rtx):
    client = client_as(clerk)
    assert client.get(correct_url(rtx)).status_code == 200

    response = client.post(
        correct_url(rtx),
        {
            "new_on_hand": 20,
            "reason_code": "cycle_count",
            "note": "Shelf B3 recount",
            "reference": "COUNT-2024-12",
            "expected_on_hand": 23,
        },
    )

    assert response.status_code == 302
    assert response["Location"] == change_url(rtx)
    assert stock_of(rtx).on_hand == 20
    row = StockMovement.objects.filter(product=rtx).first()
    assert (row.kind, row.on_hand_delta, row.on_hand_after) == ("correction", -3, 20)
    assert (row.reason_code, row.reason, row.reference) == (
        "cycle_count",
        "Shelf B3 recount",
        "COUNT-2024-12",
    )
    assert (row.source, row.actor_user, row.actor_name) == ("admin", clerk, "clerk")
    page = client.get(response["Location"]).content.decode()
    assert "on hand 23 → 20 (-3)" in page
    assert "Shelf B3 recount" in page


def test_clerk_adjusts_by_a_signed_amount(clerk, rtx):
    response = client_as(clerk).post(
        correct_url(rtx),
        {"adjustment": -2, "reason_code": "damaged", "expected_on_hand": 23},
    )

    assert response.status_code == 302
    row = StockMovement.objects.filter(product=rtx).first()
    assert (row.kind, row.on_hand_delta, row.reason_code, row.reason) == (
        "correction",
        -2,
        "damaged",
        "",
    )


def test_a_received_delivery_is_recorded_as_a_restock(clerk, rtx):
    response = client_as(clerk).post(
        correct_url(rtx),
        {
            "adjustment": 12,
            "reason_code": "received",
            "expected_on_hand": 23,
            "reference": "DN-77",
        },
    )

    assert response.status_code == 302
    row = StockMovement.objects.filter(product=rtx).first()
    assert (row.kind, row.reason_code, row.on_hand_after, row.reference) == (
        "restock",
        "received",
        35,
        "DN-77",
    )


def test_superuser_may_correct(superuser, rtx):
    response = client_as(superuser).post(
        correct_url(rtx), {"new_on_hand": 24, "reason_code": "returned", "expected_on_hand": 23}
    )

    assert response.status_code == 302
    assert StockMovement.objects.filter(product=rtx).first().actor_name == "root"


@pytest.mark.parametrize(
    ("data", "error"),
    [
        ({"reason_code": "damaged"}, "Enter either a new on-hand count or an adjustment"),
        ({"new_on_hand": 5, "adjustment": -1, "reason_code": "damaged"}, "not both"),
        ({"new_on_hand": 5}, "This field is required."),
        ({"new_on_hand": -1, "reason_code": "damaged"}, "greater than or equal to 0"),
        ({"new_on_hand": "ten", "reason_code": "damaged"}, "Enter a whole number."),
        ({"adjustment": 0, "reason_code": "damaged"}, "An adjustment of 0 changes nothing."),
        ({"new_on_hand": 23, "reason_code": "correction"}, "already 23"),
        ({"new_on_hand": 5, "reason_code": "other"}, "Describe the reason"),
        ({"new_on_hand": 5, "reason_code": "order"}, "Select a valid choice."),
        ({"new_on_hand": 5, "reason_code": "unspecified"}, "Select a valid choice."),
        ({"adjustment": -3, "reason_code": "received"}, "must raise the on-hand"),
        ({"new_on_hand": 5, "reason_code": "damaged", "note": "x" * 201}, "at most 200"),
    ],
)
def test_invalid_correction_rerenders_with_the_error_and_saves_nothing(clerk, rtx, data, error):
    response = client_as(clerk).post(correct_url(rtx), {"expected_on_hand": 23, **data})

    assert response.status_code == 200
    assert error in response.content.decode()
    assert stock_of(rtx).on_hand == 23
    assert StockMovement.objects.filter(product=rtx).count() == 1


def test_correction_below_reserved_units_is_refused_by_the_service(clerk, rtx):
    stock_reserve(quantities={rtx.pk: 10}, actor=Actor.system(), reference="ORD-1")

    response = client_as(clerk).post(
        correct_url(rtx), {"new_on_hand": 5, "reason_code": "damaged", "expected_on_hand": 23}
    )

    assert response.status_code == 200
    assert "10 units are reserved by open orders" in response.content.decode()
    assert stock_of(rtx).on_hand == 23
    assert StockMovement.objects.filter(product=rtx).count() == 2


def test_correction_against_a_stale_count_is_refused_and_shows_the_new_count(clerk, rtx):
    client = client_as(clerk)
    client.get(correct_url(rtx))
    stock_set(product_id=rtx.pk, quantity=30, actor=Actor.system())  # someone else, meanwhile

    response = client.post(
        correct_url(rtx),
        {"new_on_hand": 20, "reason_code": "cycle_count", "expected_on_hand": 23},
    )

    assert response.status_code == 200
    assert "is 30, not the expected 23" in response.content.decode()
    assert response.context["form"]["expected_on_hand"].value() == "30"
    assert stock_of(rtx).on_hand == 30


def test_a_correction_beyond_the_on_hand_range_is_refused_with_a_clear_message(clerk, rtx):
    client = client_as(clerk)
    first = client.post(
        correct_url(rtx), {"adjustment": 9976, "reason_code": "returned", "expected_on_hand": 23}
    )
    assert first.status_code == 302
    assert stock_of(rtx).on_hand == 9999

    second = client.post(
        correct_url(rtx), {"adjustment": 9999, "reason_code": "returned", "expected_on_hand": 9999}
    )

    assert second.status_code == 200
    assert second.context["form"].non_field_errors() == [
        "Cannot change the on-hand count of 'GPU-NV-4090-MSI-001' from 9999 to 19998 (+9999): "
        "it must stay between 0 and 9999 units. Nothing was changed."
    ]
    assert stock_of(rtx).on_hand == 9999
    assert StockMovement.objects.filter(product=rtx).count() == 2


def test_the_reported_two_corrections_of_9999_leave_stock_in_range(clerk, rtx):
    client = client_as(clerk)
    data = {"adjustment": 9999, "reason_code": "received"}

    responses = [
        client.post(correct_url(rtx), {**data, "expected_on_hand": stock_of(rtx).on_hand})
        for _ in range(2)
    ]

    assert [r.status_code for r in responses] == [200, 200]
    assert "it must stay between 0 and 9999 units" in responses[0].content.decode()
    assert stock_of(rtx).on_hand == 23
    assert StockMovement.objects.filter(product=rtx).count() == 1


@pytest.mark.parametrize("user_fixture", ["staff", "manager"])
def test_staff_without_correct_permission_get_403_on_get_and_post(request, rtx, user_fixture):
    client = client_as(request.getfixturevalue(user_fixture))

    assert client.get(correct_url(rtx)).status_code == 403
    response = client.post(
        correct_url(rtx), {"new_on_hand": 1, "reason_code": "damaged", "expected_on_hand": 23}
    )

    assert response.status_code == 403
    assert stock_of(rtx).on_hand == 23


def test_anonymous_users_are_sent_to_the_login_page(rtx):
    response = Client().post(correct_url(rtx), {"new_on_hand": 1, "reason_code": "damaged"})

    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")
    assert stock_of(rtx).on_hand == 23


def test_correction_without_csrf_token_is_refused(clerk, rtx):
    client = Client(enforce_csrf_checks=True)
    client.force_login(clerk)
    data = {"new_on_hand": 20, "reason_code": "damaged", "expected_on_hand": 23}

    refused = client.post(correct_url(rtx), data)

    assert refused.status_code == 403
    assert stock_of(rtx).on_hand == 23
    form_page = client.get(correct_url(rtx)).content.decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form_page).group(1)
    accepted = client.post(correct_url(rtx), {**data, "csrfmiddlewaretoken": token})
    assert accepted.status_code == 302
    assert stock_of(rtx).on_hand == 20


# Stock history (ledger) admin


@pytest.fixture
def ledger(rtx, clerk):
    cpu = ProductFactory(sku="CPU-AMD-5950X", name="Ryzen 9 5950X", stock=10)
    stock_set(
        product_id=rtx.pk,
        quantity=40,
        actor=Actor.staff(clerk),
        kind="restock",
        reason="Received shipment: pallet 4",
        reference="DN-100",
    )
    stock_reserve(quantities={rtx.pk: 2, cpu.pk: 1}, actor=Actor.system(), reference="ORD-9")
    stock_set(product_id=cpu.pk, quantity=8, actor=Actor.staff(clerk), reason="Damaged")
    return rtx, cpu


def test_history_lists_every_movement_for_managers(manager, ledger):
    response = client_as(manager).get(HISTORY)

    assert response.status_code == 200
    assert response.context["cl"].result_count == 6
    assert b"Export CSV" in response.content


@pytest.mark.parametrize(
    ("params", "count"),
    [
        ({"kind__exact": "restock"}, 1),
        ({"kind__exact": "reservation"}, 2),
        ({"source__exact": "admin"}, 2),
        ({"actor_name": "clerk"}, 2),
        ({"actor_name": "system"}, 4),
        ({"q": "pallet"}, 1),
        ({"q": "DN-100"}, 1),
        ({"q": "CPU-AMD"}, 3),
        ({"q": "Ryzen"}, 3),
        ({"kind__exact": "correction", "q": "Ryzen"}, 2),
    ],
)
def test_history_filters_and_search(manager, ledger, params, count):
    response = client_as(manager).get(HISTORY, params)

    assert response.context["cl"].result_count == count


def test_history_filters_by_date_hierarchy(manager, ledger):
    today = StockMovement.objects.first().created_at
    client = client_as(manager)

    same_day = client.get(
        HISTORY,
        {
            "created_at__year": today.year,
            "created_at__month": today.month,
            "created_at__day": today.day,
        },
    )
    last_year = client.get(HISTORY, {"created_at__year": today.year - 1})

    assert same_day.context["cl"].result_count == 6
    assert last_year.context["cl"].result_count == 0


def test_history_filters_by_product(manager, ledger):
    rtx, _ = ledger

    response = client_as(manager).get(HISTORY, {"product": rtx.pk})

    assert response.context["cl"].result_count == 3


def test_history_is_read_only_even_for_superusers(superuser, ledger):
    client = client_as(superuser)
    movement = StockMovement.objects.first()

    page = client.get(HISTORY)
    detail = client.get(f"{HISTORY}{movement.pk}/change/")

    assert page.status_code == 200
    assert b"/admin/inventory/stockmovement/add/" not in page.content
    assert b'name="action"' not in page.content
    assert detail.status_code == 200
    assert b'name="_save"' not in detail.content
    assert client.get(f"{HISTORY}add/").status_code == 403
    assert client.post(f"{HISTORY}{movement.pk}/change/", {"reason": "x"}).status_code == 403
    assert client.post(f"{HISTORY}{movement.pk}/delete/", {"post": "yes"}).status_code == 403
    assert StockMovement.objects.get(pk=movement.pk).reason == movement.reason


@pytest.mark.parametrize("user_fixture", ["staff", "clerk"])
def test_history_and_export_are_closed_to_non_managers(request, ledger, user_fixture):
    client = client_as(request.getfixturevalue(user_fixture))

    assert client.get(HISTORY).status_code == 403
    assert client.get(EXPORT).status_code == 403
    assert client.get(movements_url(ledger[0])).status_code == 403


def test_history_filters_by_reason_code_and_by_adjustment_group(manager, ledger):
    rtx, cpu = ledger
    group = uuid.uuid4()
    stock_set(
        product_id=rtx.pk,
        quantity=38,
        actor=Actor.system(),
        reason_code="theft",
        adjustment_group=group,
    )
    client = client_as(manager)

    received = client.get(HISTORY, {"reason_code__exact": "received"}).context["cl"].result_list
    grouped = client.get(HISTORY, {"adjustment_group": str(group)})
    exported = csv_rows(client.get(EXPORT, {"adjustment_group": str(group)}))

    assert [(m.product, m.reason_code) for m in received] == [(rtx, "received")]
    assert [m.on_hand_after for m in grouped.context["cl"].result_list] == [38]
    assert f"?adjustment_group={group}" in grouped.content.decode()  # each row links its group
    assert [(r["reason_code"], r["adjustment_group"]) for r in exported] == [("theft", str(group))]


@pytest.mark.parametrize("value", ["nope", "1234", "' OR 1=1"])
def test_history_with_a_bad_adjustment_group_shows_the_error_page(manager, ledger, value):
    response = client_as(manager).get(HISTORY, {"adjustment_group": value})

    assert response.status_code == 302
    assert response["Location"].endswith("?e=1")


def test_csv_export_contains_exactly_the_filtered_rows(manager, ledger):
    rtx, _ = ledger
    params = {"kind__exact": "reservation", "q": "GPU-NV"}
    shown = client_as(manager).get(HISTORY, params).context["cl"].result_list

    rows = csv_rows(client_as(manager).get(EXPORT, params))

    assert len(rows) == 1 == len(shown)
    assert rows[0] == {
        "time_utc": shown[0].created_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "sku": "GPU-NV-4090-MSI-001",
        "product_id": rtx.public_id,
        "product_name": "RTX 4090 Gaming X",
        "kind": "reservation",
        "on_hand_change": "0",
        "on_hand_after": "40",
        "reserved_change": "2",
        "reserved_after": "2",
        "available_after": "38",
        "reason_code": "order",
        "reason": "Order placed",
        "reference": "ORD-9",
        "adjustment_group": "",
        "source": "system",
        "actor": "system",
    }


def test_csv_export_without_filters_has_every_row_in_list_order(manager, ledger):
    response = client_as(manager).get(EXPORT)

    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="stock-history-')
    rows = csv_rows(response)
    expected = StockMovement.objects.order_by("-created_at", "-id")
    assert [(r["sku"], r["kind"]) for r in rows] == [(m.product.sku, m.kind) for m in expected]


def test_csv_export_by_actor_and_date(manager, ledger):
    today = StockMovement.objects.first().created_at

    rows = csv_rows(
        client_as(manager).get(EXPORT, {"actor_name": "clerk", "created_at__year": today.year})
    )

    assert [(r["sku"], r["reason"]) for r in rows] == [
        ("CPU-AMD-5950X", "Damaged"),
        ("GPU-NV-4090-MSI-001", "Received shipment: pallet 4"),
    ]


def test_history_page_links_to_a_filtered_export(manager, ledger):
    page = client_as(manager).get(HISTORY, {"kind__exact": "restock"}).content.decode()

    assert f'href="{EXPORT}?kind__exact=restock"' in page


def test_csv_export_with_bad_parameters_goes_back_to_the_list(manager, ledger):
    response = client_as(manager).get(EXPORT, {"product": "abc"})

    assert response.status_code == 302
    assert response["Location"] == f"{HISTORY}?e=1"


# Per-product history page with chart


def test_product_history_page_shows_chart_and_movements(manager, ledger):
    rtx, _ = ledger

    response = client_as(manager).get(movements_url(rtx))

    assert response.status_code == 200
    content = response.content.decode()
    assert '<svg class="stock-chart"' in content
    assert 'class="series series-on_hand"' in content
    assert 'class="series series-available"' in content
    assert content.count('class="movement-row"') == 3
    assert "Received shipment: pallet 4" in content
    assert f"{EXPORT}?product={rtx.pk}" in content


def test_product_history_page_shows_reason_codes_and_links_adjustment_groups(manager, rtx):
    group = uuid.UUID("6f1c0b8e-3d3a-4d0f-9a57-0c4a2c1f7e21")
    stock_set(
        product_id=rtx.pk,
        quantity=20,
        actor=Actor.system(),
        reason_code="shrinkage",
        adjustment_group=group,
    )

    content = client_as(manager).get(movements_url(rtx)).content.decode()

    assert "<td>Shrinkage</td>" in content
    assert f'{HISTORY}?adjustment_group={group}" title="{group}">6f1c0b8e</a>' in content


def test_product_history_export_link_gives_that_products_rows(manager, ledger):
    rtx, _ = ledger

    rows = csv_rows(client_as(manager).get(EXPORT, {"product": rtx.pk}))

    assert {r["sku"] for r in rows} == {rtx.sku}
    assert len(rows) == 3


def test_stock_page_links_to_product_history(manager, rtx):
    content = client_as(manager).get(change_url(rtx)).content.decode()

    assert movements_url(rtx) in content
    assert correct_url(rtx) not in content


@pytest.mark.parametrize("url", [STOCK_LIST, HISTORY])
def test_admin_lists_use_the_same_number_of_queries_for_more_rows(manager, url):
    client = client_as(manager)

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(url).status_code == 200
        return len(captured)

    ProductFactory.create_batch(2, stock=5)
    few = queries()
    ProductFactory.create_batch(20, stock=5)
    many = queries()

    assert few == many
