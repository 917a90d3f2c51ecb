import re
import threading
import uuid
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone
from rest_framework.test import APIClient

from inventory.models import StockMovement
from inventory.serializers import StockUpdateOutputSerializer
from inventory.services import stock_release, stock_reserve, stock_set
from techparts.actors import Actor
from techparts.api.renderers import JSONRenderer
from tests.conftest import stock_of
from tests.factories import CustomerFactory, ProductFactory, UserFactory

pytestmark = pytest.mark.django_db

SKU = "GPU-NV-4090-MSI-001"
URL = f"/v1/inventory/{SKU}"


@pytest.fixture
def rtx():
    return ProductFactory(
        public_id="PROD-4090-MSI-001",
        sku=SKU,
        name="NVIDIA GeForce RTX 4090 MSI Gaming X Trio",
        stock=23,
    )


def rows(product) -> int:
    return StockMovement.objects.filter(product=product).count()


# PATCH /v1/inventory/{sku}


def test_patch_reproduces_the_seed_example(api, rtx):
    response = api.patch(
        URL, {"quantity": 45, "reason": "Received shipment from warehouse"}, format="json"
    )

    assert response.status_code == 200
    record = stock_of(rtx)
    assert response.json() == {
        "sku": "GPU-NV-4090-MSI-001",
        "product_id": "PROD-4090-MSI-001",
        "product_name": "NVIDIA GeForce RTX 4090 MSI Gaming X Trio",
        "quantity": 45,
        "previous_quantity": 23,
        "change": 22,
        "updated_at": record.updated_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "updated_by": "api_user_12345",
        "reserved": 0,
        "available": 45,
    }
    assert list(response.json())[:8] == [
        "sku",
        "product_id",
        "product_name",
        "quantity",
        "previous_quantity",
        "change",
        "updated_at",
        "updated_by",
    ]
    assert record.on_hand == 45
    movement = StockMovement.objects.filter(product=rtx).first()
    assert (movement.kind, movement.on_hand_delta, movement.on_hand_after) == (
        "correction",
        22,
        45,
    )
    assert (movement.reason, movement.source, movement.actor_name) == (
        "Received shipment from warehouse",
        "api",
        "api_user_12345",
    )
    assert movement.actor_api_key == api.api_key


def test_patch_lowering_stock_reports_a_negative_change(client_for, rtx):
    client = client_for("inventory:write", owner="erp_sync")

    response = client.patch(URL, {"quantity": 20}, format="json")

    assert response.status_code == 200
    assert (response.json()["change"], response.json()["updated_by"]) == (-3, "erp_sync")
    assert StockMovement.objects.filter(product=rtx).first().reason == ""


def test_patch_with_type_restock_records_a_restock(api, rtx):
    response = api.patch(
        URL, {"quantity": 30, "type": "restock", "reference": "DN-2024-0042"}, format="json"
    )

    assert response.status_code == 200
    movement = StockMovement.objects.filter(product=rtx).first()
    assert (movement.kind, movement.reference) == ("restock", "DN-2024-0042")


@pytest.mark.parametrize(
    ("body", "kind", "code"),
    [
        ({"quantity": 30}, "correction", "correction"),
        ({"quantity": 30, "type": "restock"}, "restock", "received"),
        ({"quantity": 30, "reason_code": "received"}, "restock", "received"),
        ({"quantity": 20, "reason_code": "damaged"}, "correction", "damaged"),
        (
            {"quantity": 20, "type": "correction", "reason_code": "cycle_count"},
            "correction",
            "cycle_count",
        ),
    ],
)
def test_patch_records_the_reason_code_and_the_kind_it_implies(api, rtx, body, kind, code):
    response = api.patch(URL, body, format="json")

    assert response.status_code == 200
    movement = StockMovement.objects.filter(product=rtx).first()
    assert (movement.kind, movement.reason_code, movement.adjustment_group) == (kind, code, None)


@pytest.mark.parametrize(
    ("body", "kind", "code"),
    [
        ({"quantity": 30, "type": "restock", "reason_code": "returned"}, "restock", "returned"),
        (
            {"quantity": 30, "type": "correction", "reason_code": "received"},
            "correction",
            "received",
        ),
    ],
)
def test_patch_with_both_type_and_reason_code_records_both(api, rtx, body, kind, code):
    response = api.patch(URL, body, format="json")

    assert response.status_code == 200
    movement = StockMovement.objects.filter(product=rtx).first()
    assert (movement.kind, movement.reason_code) == (kind, code)


CALLER_CODES = "received, correction, cycle_count, damaged, shrinkage, returned, theft, other"


@pytest.mark.parametrize(
    ("code", "detail"),
    [
        ("order", f"must be one of {CALLER_CODES}"),
        ("opening", f"must be one of {CALLER_CODES}"),
        ("unspecified", f"must be one of {CALLER_CODES}"),
        ("", f"must be one of {CALLER_CODES}"),
        ("Damaged", "must be 'damaged' (upper and lower case matter)"),
        (3, "must be a string"),
    ],
)
def test_patch_refuses_codes_outside_the_callers_set(api, rtx, code, detail):
    response = api.patch(URL, {"quantity": 30, "reason_code": code}, format="json")

    assert response.status_code == 400
    assert response.json()["details"] == [f"Field 'reason_code' {detail}"]
    assert rows(rtx) == 1


def test_patch_takes_a_reference_of_500_characters_and_not_more(api, rtx):
    ok = api.patch(URL, {"quantity": 30, "reference": "wms://" + "r" * 494}, format="json")
    too_long = api.patch(URL, {"quantity": 31, "reference": "r" * 501}, format="json")

    assert ok.status_code == 200
    assert StockMovement.objects.filter(product=rtx).first().reference == "wms://" + "r" * 494
    assert too_long.status_code == 400
    assert stock_of(rtx).on_hand == 30


def test_restock_that_lowers_stock_is_a_conflict(api, rtx):
    response = api.patch(URL, {"quantity": 10, "type": "restock"}, format="json")

    assert response.status_code == 409
    assert response.json()["error"] == "conflict"
    assert response.json()["current_quantity"] == 23
    assert stock_of(rtx).on_hand == 23


def test_patch_with_unchanged_quantity_writes_no_row(api, rtx):
    before = stock_of(rtx).updated_at

    response = api.patch(URL, {"quantity": 23}, format="json")

    assert response.status_code == 200
    body = response.json()
    assert (body["quantity"], body["previous_quantity"], body["change"]) == (23, 23, 0)
    assert body["updated_at"] == before.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert rows(rtx) == 1


def test_patch_with_matching_expected_quantity_applies(api, rtx):
    response = api.patch(URL, {"quantity": 30, "expected_quantity": 23}, format="json")

    assert response.status_code == 200
    assert stock_of(rtx).on_hand == 30


def test_patch_with_stale_expected_quantity_is_a_conflict_with_current_quantity(api, rtx):
    response = api.patch(URL, {"quantity": 30, "expected_quantity": 20}, format="json")

    assert response.status_code == 409
    assert response.json() == {
        "error": "conflict",
        "message": f"Stock of '{SKU}' is 23, not the expected 20. Nothing was changed; "
        "read it again and retry.",
        "current_quantity": 23,
    }
    assert stock_of(rtx).on_hand == 23
    assert rows(rtx) == 1


def test_patch_below_reserved_units_is_a_conflict_naming_them(api, rtx):
    stock_reserve(quantities={rtx.pk: 5}, actor=Actor.system(), reference="ORD-2024-00001")

    response = api.patch(URL, {"quantity": 4}, format="json")

    assert response.status_code == 409
    assert response.json() == {
        "error": "conflict",
        "message": f"Cannot set stock of '{SKU}' to 4: 5 units are reserved by open orders.",
        "reserved_quantity": 5,
    }
    assert stock_of(rtx).on_hand == 23


def test_patch_down_to_reserved_units_leaves_none_available(api, rtx):
    stock_reserve(quantities={rtx.pk: 5}, actor=Actor.system(), reference="ORD-2024-00001")

    response = api.patch(URL, {"quantity": 5}, format="json")

    assert response.status_code == 200
    assert (response.json()["reserved"], response.json()["available"]) == (5, 0)


def test_patch_unknown_sku_is_not_found_with_the_seed_message(api, db):
    response = api.patch(URL, {"quantity": 45}, format="json")

    assert response.status_code == 404
    assert response.json() == {
        "error": "not_found",
        "message": "SKU 'GPU-NV-4090-MSI-001' does not exist in inventory system",
    }


# Once the key is warm in the process (techparts.apikeys.cache), a stock sync costs BEGIN, one
# locking read of the stock row with its product, one UPDATE, one ledger INSERT, one outbox
# INSERT of its events (techparts.events) and COMMIT.
PATCH_QUERIES = 6


@pytest.mark.django_db(transaction=True)
def test_a_stock_sync_costs_one_locking_read_one_update_and_one_ledger_insert(
    api, rtx, django_assert_num_queries
):
    api.get(URL)  # warms the key; its first use of the minute also records last_used_at

    with django_assert_num_queries(PATCH_QUERIES):
        response = api.patch(URL, {"quantity": 45, "reason": "count"}, format="json")

    assert response.status_code == 200
    assert (response.json()["previous_quantity"], response.json()["quantity"]) == (23, 45)
    assert stock_of(rtx).on_hand == 45
    assert StockMovement.objects.filter(product=rtx, on_hand_after=45).count() == 1


def test_the_stock_sync_answer_is_the_documented_serializers_output_byte_for_byte(api, rtx):
    # The view builds a plain dict; StockUpdateOutputSerializer (the schema's source) must agree.
    stock_reserve(quantities={rtx.id: 3}, actor=Actor.system(), reference="ORD-TEST")

    response = api.patch(URL, {"quantity": 45, "reason": "count"}, format="json")

    stock = stock_of(rtx)
    expected = StockUpdateOutputSerializer(
        {
            "sku": rtx.sku,
            "product_id": rtx.public_id,
            "product_name": rtx.name,
            "quantity": 45,
            "previous_quantity": 23,
            "change": 22,
            "updated_at": stock.updated_at,
            "updated_by": "api_user_12345",
            "reserved": 3,
            "available": 42,
        }
    ).data
    assert response.content == JSONRenderer().render(expected)


def test_patch_of_unknown_sku_with_a_bad_body_is_not_found(api, db):
    response = api.patch(URL, {"quantity": -1, "colour": "red"}, format="json")

    assert response.status_code == 404
    assert response.json()["error"] == "not_found"


def test_patch_with_a_bad_body_changes_nothing(api, rtx):
    response = api.patch(URL, {"quantity": "45"}, format="json")

    assert response.status_code == 400
    assert response.json()["error"] == "validation_error"
    assert stock_of(rtx).on_hand == 23
    assert (
        not StockMovement.objects.filter(product=rtx, kind="correction")
        .exclude(reason__startswith="Opening")
        .exists()
    )


def test_patch_without_write_scope_is_forbidden_with_the_seed_message(client_for, rtx):
    client = client_for("inventory:read", "products:read")

    response = client.patch(URL, {"quantity": 45}, format="json")

    assert response.status_code == 403
    assert response.json() == {
        "error": "forbidden",
        "message": "Insufficient permissions to update inventory. Requires 'inventory:write' "
        "scope.",
    }
    assert stock_of(rtx).on_hand == 23


def test_patch_without_a_key_is_unauthorized(api_client, rtx):
    response = api_client.patch(URL, {"quantity": 45}, format="json")

    assert response.status_code == 401
    assert response.json()["error"] == "unauthorized"
    assert stock_of(rtx).on_hand == 23


@pytest.mark.parametrize(
    ("body", "details"),
    [
        ({}, ["Field 'quantity' is required"]),
        ({"quantity": 1.5}, ["Field 'quantity' must be an integer"]),
        ({"quantity": 45.0}, ["Field 'quantity' must be an integer"]),
        ({"quantity": "2"}, ["Field 'quantity' must be an integer"]),
        ({"quantity": True}, ["Field 'quantity' must be an integer"]),
        ({"quantity": None}, ["Field 'quantity' must not be null"]),
        ({"quantity": -1}, ["Field 'quantity' must be at least 0"]),
        ({"quantity": 10000}, ["Field 'quantity' must be at most 9999"]),
        (
            {"quantity": 1, "reason": "x" * 201},
            ["Field 'reason' must have no more than 200 characters"],
        ),
        ({"quantity": 1, "reason": 5}, ["Field 'reason' must be a string"]),
        ({"quantity": 1, "type": "theft"}, ["Field 'type' must be one of correction, restock"]),
        (
            {"quantity": 1, "expected_quantity": "23"},
            ["Field 'expected_quantity' must be an integer"],
        ),
        ({"quantity": 1, "qty": 2}, ["Field 'qty' is not allowed"]),
        ({"qty": 2}, ["Field 'quantity' is required", "Field 'qty' is not allowed"]),
    ],
)
def test_patch_with_invalid_body_is_a_validation_error(api, rtx, body, details):
    response = api.patch(URL, body, format="json")

    assert response.status_code == 400
    assert response.json() == {
        "error": "validation_error",
        "message": "Invalid request body",
        "details": details,
    }
    assert stock_of(rtx).on_hand == 23
    assert rows(rtx) == 1


def test_patch_with_a_json_array_body_is_a_validation_error(api, rtx):
    response = api.patch(URL, [45], format="json")

    assert response.status_code == 400
    assert response.json()["error"] == "validation_error"


def test_patch_with_malformed_json_is_a_validation_error(api, rtx):
    response = api.generic("PATCH", URL, '{"quantity": ', content_type="application/json")

    assert response.status_code == 400
    assert response.json()["error"] == "validation_error"
    assert stock_of(rtx).on_hand == 23


def test_reason_of_exactly_200_characters_is_accepted(api, rtx):
    response = api.patch(URL, {"quantity": 24, "reason": "x" * 200}, format="json")

    assert response.status_code == 200


def test_patch_replays_the_first_answer_for_a_repeated_idempotency_key(api, rtx):
    first = api.patch(URL, {"quantity": 45}, format="json", HTTP_IDEMPOTENCY_KEY="sync-1")
    stock_set(product_id=rtx.pk, quantity=50, actor=Actor.system())

    again = api.patch(URL, {"quantity": 45}, format="json", HTTP_IDEMPOTENCY_KEY="sync-1")

    assert again.status_code == 200
    assert again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true"
    assert stock_of(rtx).on_hand == 50
    assert rows(rtx) == 3


def test_patch_refuses_a_reused_idempotency_key_with_another_body(api, rtx):
    api.patch(URL, {"quantity": 45}, format="json", HTTP_IDEMPOTENCY_KEY="sync-2")

    response = api.patch(URL, {"quantity": 46}, format="json", HTTP_IDEMPOTENCY_KEY="sync-2")

    assert response.status_code == 422
    assert response.json()["error"] == "idempotency_key_reused"
    assert stock_of(rtx).on_hand == 45


def test_patch_replays_a_conflict_too(api, rtx):
    body = {"quantity": 45, "expected_quantity": 1}
    first = api.patch(URL, body, format="json", HTTP_IDEMPOTENCY_KEY="sync-3")

    again = api.patch(URL, body, format="json", HTTP_IDEMPOTENCY_KEY="sync-3")

    assert (first.status_code, again.status_code) == (409, 409)
    assert again.json() == first.json()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_racing_patches_with_the_same_expected_quantity_let_exactly_one_win(make_api_key):
    product = ProductFactory(sku=SKU, stock=23)
    _, raw = make_api_key(scopes=["inventory:write"], owner="erp_sync")
    barrier = threading.Barrier(2)
    results: dict[int, object] = {}

    def sync(quantity: int) -> None:
        try:
            client = APIClient()
            client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
            barrier.wait()
            results[quantity] = client.patch(
                URL, {"quantity": quantity, "expected_quantity": 23}, format="json"
            )
        finally:
            connection.close()

    threads = [threading.Thread(target=sync, args=(q,)) for q in (40, 50)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    statuses = sorted(r.status_code for r in results.values())
    assert statuses == [200, 409]
    [winner] = [q for q, r in results.items() if r.status_code == 200]
    [loser] = [r for r in results.values() if r.status_code == 409]
    assert loser.json()["current_quantity"] == winner
    assert stock_of(product).on_hand == winner
    assert rows(product) == 2


# GET /v1/inventory/{sku}


def test_get_inventory_returns_counts_threshold_and_time(client_for, rtx):
    stock_reserve(quantities={rtx.pk: 3}, actor=Actor.system(), reference="ORD-2024-00001")
    client = client_for("inventory:read")

    response = client.get(URL)

    assert response.status_code == 200
    record = stock_of(rtx)
    assert response.json() == {
        "sku": SKU,
        "product_id": "PROD-4090-MSI-001",
        "product_name": "NVIDIA GeForce RTX 4090 MSI Gaming X Trio",
        "quantity": 23,
        "reserved": 3,
        "available": 20,
        "low_stock_threshold": 5,
        "low_stock": False,
        "updated_at": record.updated_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "version": 2,  # the opening count and the reservation
    }


def test_get_inventory_needs_the_read_scope(client_for, rtx):
    response = client_for("inventory:write").get(URL)

    assert response.status_code == 403
    assert response.json() == {
        "error": "forbidden",
        "message": "Insufficient permissions to read inventory. Requires 'inventory:read' scope.",
    }


def test_get_inventory_of_unknown_sku_is_not_found(api, db):
    response = api.get("/v1/inventory/NOPE-1")

    assert response.status_code == 404
    assert response.json()["message"] == "SKU 'NOPE-1' does not exist in inventory system"


# GET /v1/inventory/{sku}/movements


OUR_GROUP = uuid.UUID("0b7f6c1e-5d0a-4c2e-9a51-6f1f4e0c2d11")


@pytest.fixture
def history(rtx, api, make_api_key):
    """Opening 23 (system); our restock; a rival's order reserved and released; a staff note."""
    ours = Actor.api(api.api_key)
    rival = Actor.api(make_api_key(owner="rival_integrator")[0])
    clerk = Actor.staff(UserFactory(username="clerk.jane"))
    stock_set(
        product_id=rtx.pk,
        quantity=30,
        actor=ours,
        kind="restock",
        reference="DN-1",
        reason="Delivery from Foxconn",
        adjustment_group=OUR_GROUP,
    )
    stock_reserve(quantities={rtx.pk: 4}, actor=rival, reference="ORD-2024-00001")
    stock_release(quantities={rtx.pk: 4}, actor=rival, reference="ORD-2024-00001")
    stock_set(
        product_id=rtx.pk,
        quantity=28,
        actor=clerk,
        reason_code="damaged",
        reason="Damaged in transit, Jane",
        adjustment_group=uuid.uuid4(),
    )
    return rtx


def _hidden(kind, change, after, reserved_change=0, reserved_after=0, reason_code="order"):
    return {
        "kind": kind,
        "quantity_change": change,
        "quantity_after": after,
        "reserved_change": reserved_change,
        "reserved_after": reserved_after,
        "available_after": after - reserved_after,
        "reason_code": reason_code,
        "reason": "",
        "reference": "",
        "adjustment_group": None,
        "source": None,
        "actor": "TechParts",
    }


def test_movements_show_own_details_and_only_kind_quantities_and_time_of_others(
    client_for, history
):
    # Another key of the same owner: "own" means the integrator, not the one key.
    response = client_for("inventory:read").get(f"{URL}/movements")

    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 5
    # Newest first: each row carries the version of the stock record it brought.
    assert [movement.pop("version") for movement in body["results"]] == [5, 4, 3, 2, 1]
    for movement in body["results"]:
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", movement.pop("created_at"))
        assert isinstance(movement.pop("id"), int)
    assert body["results"] == [
        _hidden("correction", -2, 28, reason_code="damaged"),
        _hidden("release", 0, 30, reserved_change=-4),
        _hidden("reservation", 0, 30, reserved_change=4, reserved_after=4),
        {
            "kind": "restock",
            "quantity_change": 7,
            "quantity_after": 30,
            "reserved_change": 0,
            "reserved_after": 0,
            "available_after": 30,
            "reason_code": "received",
            "reason": "Delivery from Foxconn",
            "reference": "DN-1",
            "adjustment_group": str(OUR_GROUP),
            "source": "api",
            "actor": "api_user_12345",
        },
        _hidden("correction", 23, 23, reason_code="opening"),
    ]
    for secret in ["clerk.jane", "Damaged", "rival_integrator", "ORD-2024-00001", "system"]:
        assert secret not in response.content.decode()


def test_another_integrator_sees_its_own_order_and_not_ours(client_for, history):
    response = client_for("inventory:read", owner="rival_integrator").get(f"{URL}/movements")

    results = {m["kind"]: m for m in response.json()["results"]}
    assert (results["reservation"]["actor"], results["reservation"]["reference"]) == (
        "rival_integrator",
        "ORD-2024-00001",
    )
    assert results["reservation"]["reason"] == "Order placed"
    assert results["restock"] == {
        **results["restock"],
        **_hidden("restock", 7, 30, reason_code="received"),
    }
    for secret in ["api_user_12345", "DN-1", "Foxconn", "clerk.jane", "Damaged"]:
        assert secret not in response.content.decode()


def test_an_order_placed_through_the_api_shows_only_to_its_owner(client_for, rtx):
    CustomerFactory(customer_id="CUST-789012")
    placer = client_for("orders:write", owner="shop_a")
    order = placer.post(
        "/v1/orders",
        {
            "customer_id": "CUST-789012",
            "items": [{"product_id": rtx.public_id, "quantity": 2}],
            "shipping_address": {
                "street": "1 Main St",
                "city": "Austin",
                "state": "TX",
                "zip": "73301",
                "country": "US",
            },
        },
        format="json",
    ).json()

    own = client_for("inventory:read", owner="shop_a").get(f"{URL}/movements").json()
    other = client_for("inventory:read", owner="shop_b").get(f"{URL}/movements").json()

    assert own["results"][0]["reference"] == order["order_id"]
    assert own["results"][0]["actor"] == "shop_a"
    assert other["results"][0] == {
        **other["results"][0],
        **_hidden("reservation", 0, 23, reserved_change=2, reserved_after=2),
    }


def test_movements_filter_by_kind(api, history):
    response = api.get(f"{URL}/movements", {"kind": "restock"})

    assert [m["reference"] for m in response.json()["results"]] == ["DN-1"]


def test_movements_filter_by_reason_code(api, history):
    response = api.get(f"{URL}/movements", {"reason_code": "damaged"})

    assert [(m["kind"], m["quantity_after"]) for m in response.json()["results"]] == [
        ("correction", 28)
    ]


def test_movements_filter_by_adjustment_group_shows_only_the_callers_own_rows(
    api, client_for, history
):
    ours = api.get(f"{URL}/movements", {"adjustment_group": str(OUR_GROUP)}).json()
    rivals = client_for("inventory:read", owner="rival_integrator").get(
        f"{URL}/movements", {"adjustment_group": str(OUR_GROUP)}
    )
    staff_group = StockMovement.objects.get(product=history, reason_code="damaged")

    assert [m["reference"] for m in ours["results"]] == ["DN-1"]
    assert rivals.json()["count"] == 0
    assert (
        api.get(f"{URL}/movements", {"adjustment_group": str(staff_group.adjustment_group)}).json()[
            "count"
        ]
        == 0
    )


def test_movements_filter_by_date_range(api, history):
    today = timezone.now().date()
    yesterday = today - timedelta(days=1)

    assert api.get(f"{URL}/movements", {"from": str(today)}).json()["count"] == 5
    assert api.get(f"{URL}/movements", {"to": str(today)}).json()["count"] == 5
    assert api.get(f"{URL}/movements", {"to": str(yesterday)}).json()["count"] == 0
    assert (
        api.get(f"{URL}/movements", {"from": str(today + timedelta(days=1))}).json()["count"] == 0
    )


def test_movements_filter_by_instants(api, rtx):
    stock_set(product_id=rtx.pk, quantity=30, actor=Actor.system())
    between = timezone.now()
    stock_set(product_id=rtx.pk, quantity=31, actor=Actor.system())
    instant = between.isoformat().replace("+00:00", "Z")

    after = api.get(f"{URL}/movements", {"from": instant}).json()["results"]
    before = api.get(f"{URL}/movements", {"to": instant}).json()["results"]

    assert [m["quantity_after"] for m in after] == [31]
    assert [m["quantity_after"] for m in before] == [30, 23]


def test_movements_are_paginated(api, history):
    response = api.get(f"{URL}/movements", {"page_size": 2, "page": 2})

    body = response.json()
    assert (body["count"], len(body["results"])) == (5, 2)
    assert [m["kind"] for m in body["results"]] == ["reservation", "restock"]


@pytest.mark.parametrize(
    ("params", "detail"),
    [
        (
            {"kind": "theft"},
            "Field 'kind' must be one of: correction, restock, reservation, release, shipment, hold, unhold",
        ),
        ({"from": "yesterday"}, "Field 'from' must be an ISO 8601 date or date-time"),
        ({"adjustment_group": "not-a-uuid"}, "Field 'adjustment_group' must be a valid UUID"),
        ({"to": "2024-13-45"}, "Field 'to' must be an ISO 8601 date or date-time"),
    ],
)
def test_movements_with_invalid_filters_are_a_validation_error(api, history, params, detail):
    response = api.get(f"{URL}/movements", params)

    assert response.status_code == 400
    assert response.json() == {
        "error": "validation_error",
        "message": "Invalid query parameters",
        "details": [detail],
    }


def test_movements_of_unknown_sku_are_not_found(api, db):
    response = api.get("/v1/inventory/NOPE-1/movements")

    assert response.status_code == 404
    assert response.json()["message"] == "SKU 'NOPE-1' does not exist in inventory system"


def test_movements_need_the_read_scope(client_for, history):
    response = client_for("orders:read").get(f"{URL}/movements")

    assert response.status_code == 403
    assert response.json()["message"] == (
        "Insufficient permissions to read inventory. Requires 'inventory:read' scope."
    )


def test_movements_list_does_not_query_per_row(api, history, django_assert_max_num_queries):
    with django_assert_max_num_queries(6):
        response = api.get(f"{URL}/movements")

    assert len(response.json()["results"]) == 5
