"""POST /v1/inventory/bulk and stock_bulk_apply: many SKUs in one call, PATCH's rules per item."""

import json
import uuid

import pytest

from catalog.models import Product
from inventory.models import StockMovement, StockRecord
from inventory.services import BulkItem, stock_bulk_apply, stock_reserve
from shop.services import product_bulk_open
from techparts.actors import Actor
from tests.conftest import stock_of
from tests.factories import CategoryFactory, ProductFactory

pytestmark = pytest.mark.django_db

URL = "/v1/inventory/bulk"


def open_products(count: int, *, stock: int = 10) -> list[Product]:
    """`count` products with `stock` units each, opened in a few statements (BULK-00000...)."""
    category = CategoryFactory()
    products = [
        Product(
            public_id=f"PROD-BULK-{n:05d}",
            sku=f"BULK-{n:05d}",
            name=f"Bulk part {n}",
            category=category,
            manufacturer="Acme",
            price="10.00",
            specifications={},
            warranty="1 year",
        )
        for n in range(count)
    ]
    return product_bulk_open(products=products, stock=[stock] * count, actor=Actor.system())


def on_hand(products: list[Product]) -> list[int]:
    by_product = dict(
        StockRecord.objects.filter(product__in=products).values_list("product_id", "on_hand")
    )
    return [by_product[product.id] for product in products]


def snapshot() -> tuple:
    return (
        list(StockRecord.objects.order_by("pk").values_list("on_hand", "reserved", "updated_at")),
        StockMovement.objects.count(),
    )


def post(client, body, **headers):
    return client.post(URL, json.dumps(body), content_type="application/json", **headers)


# --- 2,000 items, both policies ---


def test_two_thousand_items_apply_in_one_call_as_one_adjustment_group(api):
    products = open_products(2000)
    items = [
        {"sku": p.sku, "quantity": n % 7, "reason_code": "cycle_count", "reason": f"bin {n}"}
        if n % 2
        else {"sku": p.sku, "adjust_by": n % 5 + 1}
        for n, p in enumerate(products)
    ]
    rows_before = StockMovement.objects.count()

    response = post(api, {"reference": "wms://cycle-count/CC-1", "items": items})

    assert response.status_code == 200, response.content[:500]
    body = response.json()
    expected = [n % 7 if n % 2 else 10 + n % 5 + 1 for n in range(2000)]
    assert on_hand(products) == expected
    assert body["summary"] == {"applied": 2000, "unchanged": 0, "pending_approval": 0, "failed": 0}
    assert [item["index"] for item in body["items"]] == list(range(2000))
    assert body["items"][1] == {
        "index": 1,
        "sku": "BULK-00001",
        "outcome": "applied",
        "product_id": "PROD-BULK-00001",
        "quantity": 1,
        "previous_quantity": 10,
        "change": -9,
        "reserved": 0,
        "available": 1,
        "error": None,
        "message": None,
    }
    assert StockMovement.objects.count() == rows_before + 2000
    written = StockMovement.objects.filter(adjustment_group=body["adjustment_group"])
    assert written.count() == 2000
    assert set(written.values_list("reference", "actor_name", "source").distinct()) == {
        ("wms://cycle-count/CC-1", "api_user_12345", "api")
    }
    assert written.filter(reason_code="cycle_count", reason="bin 1").get().on_hand_after == 1
    assert written.filter(reason_code="correction").count() == 1000


def test_two_thousand_items_with_failures_apply_the_others_under_reject_failed_items(api):
    products = open_products(2000)
    stock_reserve(quantities={products[5].id: 4}, actor=Actor.system(), reference="ORD-1")
    items = [{"sku": p.sku, "quantity": 20} for p in products]
    items[3] = {"sku": "NOPE-1", "quantity": 1}
    items[5] = {"sku": products[5].sku, "quantity": 2}  # below the 4 reserved
    items[7] = {"sku": products[7].sku, "quantity": 20, "expected_quantity": 9}
    items[9] = {"sku": products[9].sku, "quantity": 10}  # already 10

    response = post(api, {"error_policy": "reject_failed_items", "items": items})

    assert response.status_code == 200
    body = response.json()
    assert body["summary"] == {"applied": 1996, "unchanged": 1, "pending_approval": 0, "failed": 3}
    assert [(i["index"], i["error"]) for i in body["items"] if i["outcome"] == "failed"] == [
        (3, "not_found"),
        (5, "conflict"),
        (7, "conflict"),
    ]
    assert body["items"][5]["quantity"] == 10 and body["items"][5]["reserved"] == 4
    assert body["items"][9]["outcome"] == "unchanged"
    levels = on_hand(products)
    assert levels[5] == levels[7] == levels[9] == 10
    assert levels.count(20) == 1996
    assert StockMovement.objects.filter(adjustment_group=body["adjustment_group"]).count() == 1996


def test_two_thousand_items_with_one_failure_apply_nothing_under_all_or_nothing(api):
    products = open_products(2000)
    items = [{"sku": p.sku, "quantity": 20} for p in products]
    items[1999] = {"sku": products[1999].sku, "adjust_by": -11}
    before = snapshot()

    response = post(api, {"error_policy": "all_or_nothing", "items": items})

    assert response.status_code == 409
    message = (
        "Cannot change the on-hand count of 'BULK-01999' from 10 to -1 (-11): it must stay "
        "between 0 and 9999 units. Nothing was changed."
    )
    assert response.json() == {
        "error": "conflict",
        "message": "1 of 2000 items failed; nothing was applied.",
        "failed_items": [
            {"index": 1999, "sku": "BULK-01999", "error": "validation_error", "message": message}
        ],
        "details": [f"items[1999]: {message}"],
    }
    assert snapshot() == before


# --- Each rule per item, in PATCH's words ---


def _bulk_failure(api, item: dict) -> dict:
    response = post(api, {"error_policy": "reject_failed_items", "items": [item]})
    assert response.status_code == 200, response.json()
    (outcome,) = response.json()["items"]
    assert outcome["outcome"] == "failed"
    return outcome


@pytest.mark.parametrize(
    ("item", "patch_body", "code"),
    [
        ({"quantity": 3, "expected_quantity": 9}, {"quantity": 3, "expected_quantity": 9}, 409),
        ({"quantity": 2}, {"quantity": 2}, 409),  # below the 4 reserved
        ({"quantity": 5, "reason_code": "received"}, {"quantity": 5, "type": "restock"}, 409),
        ({"quantity": 10000}, {"quantity": 10000}, 400),
        ({"quantity": -1}, {"quantity": -1}, 400),
        ({"quantity": "7"}, {"quantity": "7"}, 400),
        ({"quantity": 7, "reason_code": "lost"}, {"quantity": 7, "reason_code": "lost"}, 400),
        ({"quantity": 7, "reason": "x" * 201}, {"quantity": 7, "reason": "x" * 201}, 400),
        ({"quantity": 7, "expected_quantity": -1}, {"quantity": 7, "expected_quantity": -1}, 400),
    ],
    ids=[
        "cas",
        "below-reserved",
        "restock-lowers",
        "over-range",
        "negative",
        "string",
        "bad-reason-code",
        "long-reason",
        "bad-expected",
    ],
)
def test_each_item_is_refused_with_the_code_and_words_of_patch(api, item, patch_body, code):
    product = ProductFactory(sku="GPU-RULE-1", stock=10)
    stock_reserve(quantities={product.id: 4}, actor=Actor.system(), reference="ORD-1")
    before = snapshot()

    outcome = _bulk_failure(api, {"sku": "GPU-RULE-1", **item})
    patched = api.patch("/v1/inventory/GPU-RULE-1", patch_body, format="json")

    assert patched.status_code == code
    patch_answer = patched.json()
    expected = patch_answer["details"][0] if code == 400 else patch_answer["message"]
    assert outcome["error"] == patch_answer["error"]
    # A field error names the item's field: `items[0].quantity` where PATCH says `quantity`.
    assert outcome["message"] == expected.replace("Field '", "Field 'items[0].")
    assert (outcome["quantity"], outcome["reserved"], outcome["available"]) == (10, 4, 6)
    assert (outcome["previous_quantity"], outcome["change"]) == (None, None)
    assert snapshot() == before


def test_an_unknown_sku_fails_as_patch_says_with_no_counts(api):
    before = snapshot()

    outcome = _bulk_failure(api, {"sku": "NOPE-1", "quantity": 1})
    patched = api.patch("/v1/inventory/NOPE-1", {"quantity": 1}, format="json")

    assert (outcome["error"], outcome["message"]) == (
        patched.json()["error"],
        patched.json()["message"],
    )
    assert outcome["message"] == "SKU 'NOPE-1' does not exist in inventory system"
    assert [outcome[k] for k in ("product_id", "quantity", "reserved", "available")] == [None] * 4
    assert snapshot() == before


@pytest.mark.parametrize(
    ("adjust_by", "after"),
    [(-11, -1), (9990, 10000)],
)
def test_an_adjustment_out_of_range_is_refused_by_the_range_rule(api, adjust_by, after):
    ProductFactory(sku="GPU-RANGE-1", stock=10)

    outcome = _bulk_failure(api, {"sku": "GPU-RANGE-1", "adjust_by": adjust_by})

    assert outcome["error"] == "validation_error"
    assert outcome["message"] == (
        f"Cannot change the on-hand count of 'GPU-RANGE-1' from 10 to {after} ({adjust_by:+d}): "
        "it must stay between 0 and 9999 units. Nothing was changed."
    )
    assert stock_of(ProductFactory._meta.model.objects.get(sku="GPU-RANGE-1")).on_hand == 10


def test_a_repeated_sku_fails_the_later_item_and_the_first_applies(api):
    product = ProductFactory(sku="GPU-TWICE-1", stock=10)
    items = [
        {"sku": "GPU-TWICE-1", "quantity": 3},
        {"sku": "GPU-TWICE-1", "quantity": 4},
        {"sku": "GPU-TWICE-1", "adjust_by": 1},
    ]

    response = post(api, {"error_policy": "reject_failed_items", "items": items})

    outcomes = response.json()["items"]
    assert [o["outcome"] for o in outcomes] == ["applied", "failed", "failed"]
    assert [o["message"] for o in outcomes[1:]] == [
        "SKU 'GPU-TWICE-1' appears more than once in this call (items 0 and 1)",
        "SKU 'GPU-TWICE-1' appears more than once in this call (items 0 and 2)",
    ]
    assert outcomes[1]["error"] == "validation_error"
    assert stock_of(product).on_hand == 3


@pytest.mark.parametrize(
    ("item", "message"),
    [
        ({"sku": "GPU-1"}, "Field 'items[0].quantity' is required (or `adjust_by`)"),
        ({"sku": "GPU-1", "quantity": 1, "adjust_by": 1}, "Field 'items[0].adjust_by' must be"),
        ({"sku": "GPU-1", "adjust_by": 0}, "Field 'items[0].adjust_by' must not be 0"),
        ({"quantity": 1}, "Field 'items[0].sku' is required"),
        ({"sku": "", "quantity": 1}, "Field 'items[0].sku' must not be blank"),
        ({"sku": "GPU-1", "quantity": 1, "type": "restock"}, "Field 'items[0].type' is not"),
        ({"sku": "GPU-1", "quantity": True}, "Field 'items[0].quantity' must be an integer"),
    ],
)
def test_a_malformed_item_fails_with_its_field_named(api, item, message):
    ProductFactory(sku="GPU-1", stock=10)

    outcome = _bulk_failure(api, item)

    assert outcome["error"] == "validation_error"
    assert outcome["message"].startswith(message), outcome["message"]


def test_a_malformed_item_makes_all_or_nothing_a_400_listing_every_failing_item(api):
    ProductFactory(sku="GPU-1", stock=10)
    ProductFactory(sku="CPU-1", stock=5)
    before = snapshot()
    items = [
        {"sku": "GPU-1", "quantity": 7},
        {"sku": "CPU-1", "quantity": 3, "expected_quantity": 4},
        {"sku": "SSD-1", "quantity": 99999},
    ]

    response = post(api, {"items": items})

    assert response.status_code == 400
    body = response.json()
    assert body["error"] == "validation_error"
    assert body["message"] == "2 of 3 items failed; nothing was applied."
    assert [(f["index"], f["error"]) for f in body["failed_items"]] == [
        (1, "conflict"),
        (2, "validation_error"),
    ]
    assert body["details"][1] == "items[2]: Field 'items[2].quantity' must be at most 9999"
    assert snapshot() == before


def test_adjustments_and_reasons_are_written_per_item_and_unchanged_items_write_nothing(api):
    gpu = ProductFactory(sku="GPU-1", stock=10)
    cpu = ProductFactory(sku="CPU-1", stock=5)
    ssd = ProductFactory(sku="SSD-1", stock=3)

    response = post(
        api,
        {
            "items": [
                {"sku": "GPU-1", "adjust_by": -2, "reason_code": "damaged", "reason": "dropped"},
                {"sku": "CPU-1", "adjust_by": 4, "reason_code": "received"},
                {"sku": "SSD-1", "quantity": 3, "reason_code": "cycle_count"},
            ]
        },
    )

    assert response.status_code == 200
    body = response.json()
    assert body["summary"] == {"applied": 2, "unchanged": 1, "pending_approval": 0, "failed": 0}
    assert (body["reference"], body["error_policy"]) == ("", "all_or_nothing")
    assert [stock_of(p).on_hand for p in (gpu, cpu, ssd)] == [8, 9, 3]
    rows = StockMovement.objects.filter(adjustment_group=body["adjustment_group"])
    assert sorted(rows.values_list("product__sku", "kind", "reason_code", "reason")) == [
        ("CPU-1", "restock", "received", ""),
        ("GPU-1", "correction", "damaged", "dropped"),
    ]
    assert StockMovement.objects.filter(product=ssd).count() == 1  # the opening row only
    assert body["items"][2] == {
        "index": 2,
        "sku": "SSD-1",
        "outcome": "unchanged",
        "product_id": ssd.public_id,
        "quantity": 3,
        "previous_quantity": 3,
        "change": 0,
        "reserved": 0,
        "available": 3,
        "error": None,
        "message": None,
    }


def test_a_call_that_applies_nothing_has_no_adjustment_group(api):
    ProductFactory(sku="GPU-1", stock=10)

    response = post(api, {"items": [{"sku": "GPU-1", "quantity": 10}]})

    assert response.status_code == 200
    assert response.json()["adjustment_group"] is None
    assert response.json()["summary"] == {
        "applied": 0,
        "unchanged": 1,
        "pending_approval": 0,
        "failed": 0,
    }


# --- The call as a whole ---


@pytest.mark.parametrize(
    ("body", "detail"),
    [
        ([{"sku": "GPU-1", "quantity": 1}], "Request body must be a JSON object"),
        ({}, "Field 'items' is required"),
        ({"items": []}, "Field 'items' must hold at least one item"),
        ({"items": {"sku": "GPU-1"}}, "Field 'items' must be a list of items"),
        ({"items": [{"sku": "GPU-1", "quantity": 1}, 5]}, "Field 'items' must hold objects only"),
        (
            {"items": [{"sku": "GPU-1", "quantity": 1}] * 2001},
            "Field 'items' must hold at most 2000 items",
        ),
        (
            {"items": [{"sku": "GPU-1", "quantity": 1}], "dry_run": True},
            "Field 'dry_run' is not allowed",
        ),
        (
            {"items": [{"sku": "GPU-1", "quantity": 1}], "error_policy": "ignore_failed"},
            "Field 'error_policy' must be one of all_or_nothing, reject_failed_items",
        ),
        (
            {"items": [{"sku": "GPU-1", "quantity": 1}], "reference": "r" * 501},
            "Field 'reference' must have no more than 500 characters",
        ),
    ],
    ids=[
        "not-object",
        "no-items",
        "empty",
        "not-list",
        "not-objects",
        "too-many",
        "unknown",
        "policy",
        "reference",
    ],
)
def test_a_wrong_call_is_a_400_and_changes_nothing(api, body, detail):
    ProductFactory(sku="GPU-1", stock=10)
    before = snapshot()

    response = post(api, body)

    assert response.status_code == 400
    answer = response.json()
    assert (answer["error"], answer["message"]) == ("validation_error", "Invalid request body")
    assert any(line.startswith(detail) for line in answer["details"]), answer
    assert snapshot() == before


def test_the_call_needs_a_key_with_the_inventory_write_scope(client_for, api_client):
    ProductFactory(sku="GPU-1", stock=10)
    body = {"items": [{"sku": "GPU-1", "quantity": 1}]}

    anonymous = post(api_client, body)
    reader = post(client_for("inventory:read"), body)

    assert anonymous.status_code == 401 and anonymous.json()["error"] == "unauthorized"
    assert reader.status_code == 403
    assert reader.json()["message"] == (
        "Insufficient permissions to update inventory. Requires 'inventory:write' scope."
    )
    assert stock_of(Product.objects.get(sku="GPU-1")).on_hand == 10


def test_a_bulk_call_counts_as_one_request_against_the_write_limit(client_for, settings):
    settings.API_RATE_LIMIT_WRITE = "2/hour"
    products = open_products(50)
    client = client_for("inventory:write")
    items = [{"sku": p.sku, "adjust_by": 1} for p in products]

    statuses = [post(client, {"items": items}).status_code for _ in range(3)]

    assert statuses == [200, 200, 429]
    assert on_hand(products) == [12] * 50


def test_an_idempotent_retry_replays_the_two_thousand_item_answer_and_writes_nothing(api):
    products = open_products(2000)
    body = {"reference": "wms://1", "items": [{"sku": p.sku, "adjust_by": 1} for p in products]}

    first = post(api, body, HTTP_IDEMPOTENCY_KEY="bulk-1")
    rows = StockMovement.objects.count()
    again = post(api, body, HTTP_IDEMPOTENCY_KEY="bulk-1")
    other = post(api, {**body, "reference": "wms://2"}, HTTP_IDEMPOTENCY_KEY="bulk-1")

    assert first.status_code == again.status_code == 200
    assert again["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()
    assert len(first.content) > 300_000  # a few hundred KB, stored and replayed whole
    assert StockMovement.objects.count() == rows
    assert on_hand(products) == [11] * 2000
    assert other.status_code == 422 and other.json()["error"] == "idempotency_key_reused"


# --- Body cap: its own, through the same parser ---


def test_a_call_near_one_megabyte_is_accepted_above_the_general_cap(api, settings):
    products = open_products(2000)
    items = [{"sku": p.sku, "quantity": 11, "reason": "r" * 200} for p in products]
    body = json.dumps({"reference": "x" * 500, "items": items})
    assert settings.API_MAX_BODY_BYTES < len(body) < settings.API_BULK_MAX_BODY_BYTES

    response = api.post(URL, body, content_type="application/json")

    assert response.status_code == 200
    assert on_hand(products) == [11] * 2000


def test_a_call_over_its_cap_is_413_and_changes_nothing(api, settings):
    settings.API_BULK_MAX_BODY_BYTES = 2048
    ProductFactory(sku="GPU-1", stock=10)
    body = json.dumps({"items": [{"sku": "GPU-1", "quantity": 1, "reason": "r" * 200}] * 10})
    before = snapshot()

    response = api.post(URL, body, content_type="application/json")

    assert response.status_code == 413
    assert response.json() == {
        "error": "payload_too_large",
        "message": "Request body is larger than the 2048 bytes this API accepts.",
    }
    assert snapshot() == before


def test_the_bulk_cap_is_for_the_bulk_call_only(api, settings):
    settings.API_MAX_BODY_BYTES = 1024
    product = ProductFactory(sku="GPU-1", stock=10)
    body = json.dumps({"quantity": 5, "reason": "x" * 190, "reference": "r" * 900})

    response = api.patch("/v1/inventory/GPU-1", body, content_type="application/json")

    assert response.status_code == 413
    assert stock_of(product).on_hand == 10


def test_json_depth_limits_still_apply(api):
    body = '{"items": [' + "[" * 40 + "]" * 40 + "]}"

    response = api.post(URL, body, content_type="application/json")

    assert response.status_code == 400
    assert response.json()["message"] == "Request body is nested too deeply"


# --- Queries: constant in the number of items ---


def _items(products: list[Product]) -> list[BulkItem]:
    return [BulkItem(sku=p.sku, adjust_by=1) for p in products]


def test_queries_do_not_grow_with_the_items(django_assert_num_queries):
    products = open_products(2000)
    actor = Actor.system()

    # One locking read, one UPDATE, one ledger INSERT and one outbox INSERT (inside one
    # transaction, whose BEGIN and COMMIT are not counted here). bulk.MAX_ROWS_PER_STATEMENT
    # bounds each UPDATE and INSERT to 1,000 rows, so 1,000 items cost the same 4 and 2,000
    # items one more of each write (no item crosses a stock threshold here: one event each).
    with django_assert_num_queries(4):
        stock_bulk_apply(items=_items(products[:1]), actor=actor)
    with django_assert_num_queries(4):
        stock_bulk_apply(items=_items(products[1:1001]), actor=actor)
    with django_assert_num_queries(7):
        result = stock_bulk_apply(items=_items(products), actor=actor)

    assert result.count("applied") == 2000
    assert on_hand([products[0], products[1], products[1500]]) == [12, 12, 11]


def test_a_refused_all_or_nothing_call_costs_only_the_locking_read(django_assert_num_queries):
    products = open_products(2000)
    items = [*_items(products[:-1]), BulkItem(sku=products[-1].sku, adjust_by=-11)]

    with django_assert_num_queries(1), pytest.raises(Exception, match="1 of 2000 items failed"):
        stock_bulk_apply(items=items, actor=Actor.system())


def test_the_adjustment_group_is_new_for_every_call():
    products = open_products(2)

    first = stock_bulk_apply(items=_items(products), actor=Actor.system(), reference="a")
    second = stock_bulk_apply(items=_items(products), actor=Actor.system(), reference="b")

    assert isinstance(first.adjustment_group, uuid.UUID)
    assert first.adjustment_group != second.adjustment_group
    assert set(
        StockMovement.objects.filter(adjustment_group=second.adjustment_group).values_list(
            "reference", flat=True
        )
    ) == {"b"}


def test_a_direct_callers_unknown_reason_code_fails_its_item_only():
    products = open_products(2)
    items = [
        BulkItem(sku=products[0].sku, quantity=1, reason_code="lost"),
        BulkItem(sku=products[1].sku, quantity=2),
    ]

    result = stock_bulk_apply(items=items, actor=Actor.system(), error_policy="reject_failed_items")

    failed, applied = result.outcomes
    assert (failed.outcome, failed.error) == ("failed", "validation_error")
    assert failed.message.startswith("Unknown reason code 'lost'; use one of: received,")
    assert applied.outcome == "applied"
    assert on_hand(products) == [10, 2]
