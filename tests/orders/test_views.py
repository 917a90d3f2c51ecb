import json
import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from inventory.models import MAX_ON_HAND, StockMovement, StockRecord
from inventory.services import stock_set
from orders.models import Order, OrderLine
from orders.services import order_ship
from techparts.actors import Actor
from techparts.idempotency.models import IdempotencyRecord
from tests.conftest import stock_of
from tests.factories import CustomerFactory, ProductFactory
from tests.orders.conftest import SEED_ORDER_FIELDS, order_body

pytestmark = pytest.mark.django_db

SEED_TIME = datetime(2024, 12, 28, 15, 30, tzinfo=UTC)


# --- POST /v1/orders: the seed example -------------------------------------------------------


def test_the_seed_example_order_is_reproduced_exactly(api, seed_body, monkeypatch, settings):
    settings.PUBLIC_BASE_URL = "https://techparts.com"
    monkeypatch.setattr(timezone, "now", lambda: SEED_TIME)

    response = api.post("/v1/orders", seed_body, format="json")

    assert response.status_code == 201
    body = response.json()
    assert re.fullmatch(r"ORD-2024-\d{5,}", body["order_id"])
    assert body == {
        "order_id": body["order_id"],
        "status": "pending",
        "subtotal": 2149.98,
        "tax": 171.99,
        "shipping": 0.00,
        "total": 2321.97,
        "currency": "USD",
        "items_count": 2,
        "created_at": "2024-12-28T15:30:00Z",
        "estimated_delivery": "2024-12-31T23:59:00Z",
        "tracking_url": body["tracking_url"],
    }
    assert list(body) == SEED_ORDER_FIELDS  # field order as in the seed
    # The seed's link, plus the token that makes it unguessable; it opens the tracking page.
    tracking = re.fullmatch(
        rf"https://techparts\.com/track/{body['order_id']}/[A-Za-z0-9_-]{{32,}}",
        body["tracking_url"],
    )
    assert tracking
    page = api.get(body["tracking_url"].removeprefix("https://techparts.com"))
    assert page.status_code == 200
    assert "Pending" in page.content.decode()
    # Money is written with two decimals, as the seed shows it.
    assert b'"subtotal":2149.98,"tax":171.99,"shipping":0.00,"total":2321.97' in response.content
    assert response["Location"] == f"http://testserver/v1/orders/{body['order_id']}"


def test_created_order_is_stored_with_its_key_owner_and_reserves_stock(api, seed_body):
    response = api.post("/v1/orders", seed_body, format="json")

    order = Order.objects.get(order_id=response.json()["order_id"])
    assert order.api_key == api.api_key
    assert order.owner == "api_user_12345"
    assert order.customer.customer_id == "CUST-789012"
    assert order.shipping_address == seed_body["shipping_address"]
    gpu = StockRecord.objects.get(product__public_id="PROD-4090-MSI-001")
    assert (gpu.on_hand, gpu.reserved) == (23, 1)
    movements = StockMovement.objects.filter(reference=order.order_id)
    assert movements.count() == 2
    assert {(m.kind, m.reserved_delta, m.actor_api_key_id) for m in movements} == {
        ("reservation", 1, api.api_key.pk)
    }


def test_order_numbers_are_unique_and_increasing(api, seed_body):
    ids = [api.post("/v1/orders", seed_body, format="json").json()["order_id"] for _ in range(3)]

    numbers = [int(order_id.rsplit("-", 1)[1]) for order_id in ids]
    assert numbers == sorted(set(numbers))


def test_small_order_pays_flat_shipping_and_state_without_rate_pays_no_tax(api, customer, settings):
    settings.FREE_SHIPPING_THRESHOLD = Decimal("100.00")
    settings.FLAT_SHIPPING_FEE = Decimal("9.99")
    ProductFactory(public_id="PROD-CABLE-001", price=Decimal("12.50"), stock=10)
    body = order_body(("PROD-CABLE-001", 2))
    body["shipping_address"]["state"] = "OR"

    response = api.post("/v1/orders", body, format="json")

    assert response.status_code == 201
    assert {k: response.json()[k] for k in ("subtotal", "tax", "shipping", "total")} == {
        "subtotal": 25.00,
        "tax": 0.00,
        "shipping": 9.99,
        "total": 34.99,
    }


# --- POST /v1/orders: validation -------------------------------------------------------------


def post_invalid(api, body):
    response = api.post("/v1/orders", body, format="json")
    assert response.status_code == 400, response.content
    assert response.json()["error"] == "validation_error"
    assert response.json()["message"] == "Invalid request body"
    assert not Order.objects.exists()
    return response.json()["details"]


def test_missing_customer_and_empty_items_give_the_seed_error(api, seed_body):
    details = post_invalid(api, {"items": [], "shipping_address": seed_body["shipping_address"]})

    assert details == [
        "Field 'customer_id' is required",
        "Field 'items' must contain at least 1 item",
    ]


def test_every_problem_is_reported_in_one_answer(api, seed_body):
    body = {
        "customer_id": "CUST-000000",
        "items": [
            {"product_id": "PROD-NOPE-001", "quantity": 1},
            {"product_id": "PROD-4090-MSI-001", "quantity": 0},
        ],
        "shipping_address": {**seed_body["shipping_address"], "zip": "9410"},
        "coupon": "FREE",
    }

    details = post_invalid(api, body)

    assert details == [
        "Field 'customer_id' must be an existing customer ('CUST-000000' not found)",
        "Field 'items[0].product_id' must be an existing, active product "
        "('PROD-NOPE-001' not found)",
        "Field 'items[1].quantity' must be at least 1",
        "Field 'shipping_address.zip' must be a 5-digit ZIP code or ZIP+4 (94105-1234)",
        "Field 'coupon' is not allowed",
    ]


def test_a_missing_customer_is_reported_with_line_problems(api, seed_body):
    seed_body["customer_id"] = "CUST-424242"
    seed_body["items"] = [
        {"product_id": "PROD-4090-MSI-001", "quantity": 1.5},
        {"product_id": "PROD-GONE-001", "quantity": "2"},
    ]

    assert post_invalid(api, seed_body) == [
        "Field 'customer_id' must be an existing customer ('CUST-424242' not found)",
        "Field 'items[0].quantity' must be an integer",
        "Field 'items[1].product_id' must be an existing, active product "
        "('PROD-GONE-001' not found)",
        "Field 'items[1].quantity' must be an integer",
    ]


@pytest.mark.parametrize(
    ("quantity", "message"),
    [
        (1.5, "must be an integer"),
        (2.0, "must be an integer"),
        ("2", "must be an integer"),
        (True, "must be an integer"),
        (None, "must not be null"),
        (0, "must be at least 1"),
        (-3, "must be at least 1"),
        (1000, "must be at most 999"),
    ],
)
def test_quantity_must_be_a_json_integer_from_1_to_999(api, seed_body, quantity, message):
    seed_body["items"][0]["quantity"] = quantity

    assert post_invalid(api, seed_body) == [f"Field 'items[0].quantity' {message}"]


def test_quantity_999_is_accepted(api, seed_body):
    seed_body["items"] = [{"product_id": "PROD-4090-MSI-001", "quantity": 999}]

    response = api.post("/v1/orders", seed_body, format="json")

    assert response.status_code == 409  # valid, but more than the 23 in stock
    assert response.json()["error"] == "insufficient_stock"


def test_items_may_hold_at_most_50_lines(api, seed_body):
    seed_body["items"] = [{"product_id": "PROD-4090-MSI-001", "quantity": 1}] * 51

    assert post_invalid(api, seed_body) == ["Field 'items' must contain at most 50 items"]


@pytest.mark.parametrize(
    ("items", "message"),
    [
        ("PROD-4090-MSI-001", "Field 'items' must be a list"),
        (None, "Field 'items' must not be null"),
        (["PROD-4090-MSI-001"], "Field 'items[0]' must be an object"),
        ([{"quantity": 1}], "Field 'items[0].product_id' is required"),
        ([{"product_id": "PROD-4090-MSI-001"}], "Field 'items[0].quantity' is required"),
        ([{"product_id": 4090, "quantity": 1}], "Field 'items[0].product_id' must be a string"),
        (
            [{"product_id": "PROD-4090-MSI-001", "quantity": 1, "price": 1}],
            "Field 'items[0].price' is not allowed",
        ),
    ],
)
def test_items_must_be_well_formed(api, seed_body, items, message):
    seed_body["items"] = items

    assert post_invalid(api, seed_body) == [message]


def test_an_inactive_product_is_refused_like_an_unknown_one(api, seed_body):
    ProductFactory(public_id="PROD-OLD-001", stock=5, is_active=False)
    seed_body["items"] = [{"product_id": "PROD-OLD-001", "quantity": 1}]

    assert post_invalid(api, seed_body) == [
        "Field 'items[0].product_id' must be an existing, active product ('PROD-OLD-001' not found)"
    ]


def test_customer_id_must_be_a_string(api, seed_body):
    seed_body["customer_id"] = 789012

    assert post_invalid(api, seed_body) == ["Field 'customer_id' must be a string"]


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("state", "California", "must be a two-letter US state code, e.g. CA"),
        ("state", "ZZ", "must be a two-letter US state code, e.g. CA"),
        ("zip", "941050", "must be a 5-digit ZIP code or ZIP+4 (94105-1234)"),
        ("zip", "94105-12", "must be a 5-digit ZIP code or ZIP+4 (94105-1234)"),
        (
            "zip",
            "\u0669\u0664\u0661\u0660\u0665",
            "must be a 5-digit ZIP code or ZIP+4 (94105-1234)",
        ),
        ("zip", 94105, "must be a string"),
        ("country", "DE", "must be 'US' (TechParts ships within the US only)"),
        ("street", "", "must not be blank"),
    ],
)
def test_shipping_address_must_be_a_us_address(api, seed_body, field, value, message):
    seed_body["shipping_address"][field] = value

    assert post_invalid(api, seed_body) == [f"Field 'shipping_address.{field}' {message}"]


def test_zip_plus_four_is_accepted(api, seed_body):
    seed_body["shipping_address"].update(zip="94105-1234")

    response = api.post("/v1/orders", seed_body, format="json")

    assert response.status_code == 201
    order = Order.objects.get()
    assert (order.ship_state, order.ship_zip, order.tax) == ("CA", "94105-1234", Decimal("171.99"))


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("state", "ca", "must be 'CA' (upper and lower case matter)"),
        ("country", "us", "must be 'US' (upper and lower case matter)"),
    ],
)
def test_state_and_country_are_exactly_the_schemas_enum_values(
    api, seed_body, field, value, message
):
    # The schema lists upper-case codes as an enum; the server accepts exactly those.
    seed_body["shipping_address"][field] = value

    assert post_invalid(api, seed_body) == [f"Field 'shipping_address.{field}' {message}"]
    assert not Order.objects.exists()


def test_shipping_address_fields_are_required_and_unknown_ones_refused(api, seed_body):
    seed_body["shipping_address"] = {"street": "1 Main St", "line2": "Apt 4"}

    assert post_invalid(api, seed_body) == [
        "Field 'shipping_address.city' is required",
        "Field 'shipping_address.state' is required",
        "Field 'shipping_address.zip' is required",
        "Field 'shipping_address.country' is required",
        "Field 'shipping_address.line2' is not allowed",
    ]


def test_a_body_that_is_not_an_object_is_refused(api, seed_body):
    assert post_invalid(api, [seed_body]) == ["Request body must be a JSON object"]


def test_malformed_json_is_a_validation_error(api, seed_body):
    response = api.post("/v1/orders", '{"customer_id": ', content_type="application/json")

    assert response.status_code == 400
    assert response.json()["error"] == "validation_error"


def test_orders_need_the_write_scope(client_for, seed_body):
    reader = client_for("orders:read")

    response = reader.post("/v1/orders", seed_body, format="json")

    assert response.status_code == 403
    assert response.json() == {
        "error": "forbidden",
        "message": "Insufficient permissions to create or change orders. "
        "Requires 'orders:write' scope.",
    }


def test_orders_need_an_api_key(api_client, seed_body):
    response = api_client.post("/v1/orders", seed_body, format="json")

    assert response.status_code == 401
    assert response.json()["error"] == "unauthorized"


# --- POST /v1/orders: stock --------------------------------------------------------------------


def test_insufficient_stock_gives_the_seed_error_and_changes_nothing(api, seed_body):
    gpu = StockRecord.objects.get(product__public_id="PROD-4090-MSI-001")
    stock_set(product_id=gpu.product_id, quantity=5, actor=Actor.system())
    seed_body["items"] = [
        {"product_id": "PROD-5950X-AMD-001", "quantity": 1},
        {"product_id": "PROD-4090-MSI-001", "quantity": 10},
    ]
    movements_before = StockMovement.objects.count()

    response = api.post("/v1/orders", seed_body, format="json")

    assert response.status_code == 409
    assert response.json() == {
        "error": "insufficient_stock",
        "message": "Product 'PROD-4090-MSI-001' has only 5 units available. Requested: 10",
        "available_quantity": 5,
        "details": ["Product 'PROD-4090-MSI-001' has only 5 units available. Requested: 10"],
    }
    assert not Order.objects.exists()
    assert StockMovement.objects.count() == movements_before
    assert stock_of(gpu.product).available == 5


def test_the_same_product_on_two_lines_is_checked_as_one_total(api, seed_body):
    seed_body["items"] = [
        {"product_id": "PROD-5950X-AMD-001", "quantity": 7},
        {"product_id": "PROD-5950X-AMD-001", "quantity": 6},
    ]

    response = api.post("/v1/orders", seed_body, format="json")

    assert response.status_code == 409
    assert response.json()["message"] == (
        "Product 'PROD-5950X-AMD-001' has only 12 units available. Requested: 13"
    )


def test_queries_to_create_an_order_do_not_grow_with_its_lines(api, customer, ca_tax):
    products = [ProductFactory(stock=10) for _ in range(50)]

    def queries_for(count: int) -> int:
        body = order_body(*[(p.public_id, 1) for p in products[:count]])
        with CaptureQueriesContext(connection) as captured:
            response = api.post("/v1/orders", body, format="json", HTTP_IDEMPOTENCY_KEY=str(count))
        assert response.status_code == 201, response.content
        assert response.json()["items_count"] == count
        return len(captured)

    api.get("/v1/orders")  # the key's first use of the minute also records last_used_at
    one_line = queries_for(1)
    fifty_lines = queries_for(50)

    assert fifty_lines == one_line
    assert one_line <= 25


# What placing an order costs, in statements as production runs them (its own transaction, no
# savepoint), once the key is warm in the process: the customer, the products; BEGIN, the key's pending-units lock
# and sum, the tax rate, the order insert and its public id, the lines, the stock rows locked
# in one read, all of them updated in one statement, their ledger rows, their events; COMMIT.
ORDER_CREATE_QUERIES = 14


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("lines", [1, 50])
def test_an_order_costs_the_same_fixed_number_of_queries_at_1_and_50_lines(
    api, customer, ca_tax, lines, django_assert_num_queries
):
    products = [ProductFactory(stock=10) for _ in range(lines)]
    body = order_body(*[(product.public_id, 2) for product in reversed(products)])
    api.get("/v1/orders")  # warms the key; its first use of the minute records last_used_at

    with django_assert_num_queries(ORDER_CREATE_QUERIES):
        response = api.post("/v1/orders", body, format="json")

    assert response.status_code == 201, response.content
    assert response.json()["items_count"] == lines
    assert [stock_of(product).reserved for product in products] == [2] * lines
    assert StockMovement.objects.filter(kind="reservation").count() == lines


# Names with quotes, backslashes, JSON and SQL syntax and characters beyond ASCII, and the
# extremes of price: the lines and the ledger rows go to the database as one JSON parameter.
AS_SOLD = [
    ("PROD-TRICKY-001", "Radeon \"Pro\" \\ W7900 '48GB' [x]; --", Decimal("99999999.99"), 1),
    ("PROD-TRICKY-002", 'Carte mère Ünïcode 💾 {"a": [1]} €', Decimal("0.01"), 999),
    ("PROD-TRICKY-003", "123", Decimal("1234.50"), 3),
]


def test_order_lines_and_ledger_rows_store_every_line_exactly_as_sold(api, customer, ca_tax):
    products = [
        ProductFactory(public_id=public_id, name=name, price=price, stock=MAX_ON_HAND)
        for public_id, name, price, _ in AS_SOLD
    ]
    body = order_body(*[(public_id, quantity) for public_id, _, _, quantity in AS_SOLD])

    created = api.post("/v1/orders", body, format="json")

    assert created.status_code == 201, created.content
    assert created.json()["subtotal"] == 100003713.48
    order = api.get(f"/v1/orders/{created.json()['order_id']}").json()
    assert [
        (item["product_id"], item["sku"], item["name"], item["unit_price"], item["quantity"])
        for item in order["items"]
    ] == [
        (public_id, product.sku, name, float(price), quantity)
        for (public_id, name, price, quantity), product in zip(AS_SOLD, products, strict=True)
    ]
    assert [item["line_total"] for item in order["items"]] == [99999999.99, 9.99, 3703.5]
    stored = OrderLine.objects.filter(order__order_id=order["order_id"]).order_by("position")
    assert [(line.position, line.unit_price, line.line_total) for line in stored] == [
        (1, Decimal("99999999.99"), Decimal("99999999.99")),
        (2, Decimal("0.01"), Decimal("9.99")),
        (3, Decimal("1234.50"), Decimal("3703.50")),
    ]
    rows = StockMovement.objects.filter(reference=order["order_id"]).order_by("id")
    assert [
        (row.product_id, row.kind, row.on_hand_delta, row.reserved_delta, row.reserved_after)
        for row in rows
    ] == [
        (product.pk, "reservation", 0, quantity, quantity)
        for product, (*_, quantity) in zip(products, AS_SOLD, strict=True)
    ]
    assert {(row.source, row.actor_name, row.reason) for row in rows} == {
        ("api", "api_user_12345", "Order placed")
    }
    assert [stock_of(product).reserved for product in products] == [1, 999, 3]


@pytest.mark.parametrize("product_id", [" PROD-PAD-001", "PROD-PAD-001\t", "PROD-PAD-001 "])
def test_order_lines_with_padded_product_ids_are_refused_as_sent(api, customer, ca_tax, product_id):
    padded = ProductFactory(public_id="PROD-PAD-001", stock=5)
    ProductFactory(public_id="PROD-PLAIN-001", stock=5)
    body = order_body(("PROD-PLAIN-001", 1), (product_id, 2))

    response = api.post("/v1/orders", body, format="json")

    assert response.status_code == 400
    assert response.json() == {
        "error": "validation_error",
        "message": "Invalid request body",
        "details": [
            f"Field 'items[1].product_id' must be an existing, active product "
            f"('{product_id}' not found)"
        ],
    }
    assert stock_of(padded).reserved == 0
    assert not Order.objects.exists()


# --- Idempotency ---------------------------------------------------------------------------------


def test_a_retry_with_the_same_key_and_body_replays_the_first_answer(api, seed_body):
    first = api.post("/v1/orders", seed_body, format="json", HTTP_IDEMPOTENCY_KEY="order-1")
    retry = api.post("/v1/orders", seed_body, format="json", HTTP_IDEMPOTENCY_KEY="order-1")

    assert first.status_code == retry.status_code == 201
    assert retry.json() == first.json()
    assert retry["Location"] == first["Location"]
    assert retry["Idempotent-Replayed"] == "true"
    assert Order.objects.count() == 1
    assert StockMovement.objects.filter(kind="reservation").count() == 2


def test_a_replayed_failure_is_the_first_failure(api, seed_body):
    seed_body["items"][0]["quantity"] = 500
    first = api.post("/v1/orders", seed_body, format="json", HTTP_IDEMPOTENCY_KEY="big")

    retry = api.post("/v1/orders", seed_body, format="json", HTTP_IDEMPOTENCY_KEY="big")

    assert first.status_code == retry.status_code == 409
    assert retry.json() == first.json()


def test_the_same_key_with_another_body_is_refused(api, seed_body):
    api.post("/v1/orders", seed_body, format="json", HTTP_IDEMPOTENCY_KEY="order-1")
    seed_body["items"][0]["quantity"] = 2

    response = api.post("/v1/orders", seed_body, format="json", HTTP_IDEMPOTENCY_KEY="order-1")

    assert response.status_code == 422
    assert response.json()["error"] == "idempotency_key_reused"
    assert Order.objects.count() == 1


def test_keys_are_scoped_to_the_api_key(api, client_for, seed_body):
    other = client_for(owner="another_shop")

    first = api.post("/v1/orders", seed_body, format="json", HTTP_IDEMPOTENCY_KEY="order-1")
    second = other.post("/v1/orders", seed_body, format="json", HTTP_IDEMPOTENCY_KEY="order-1")

    assert first.status_code == second.status_code == 201
    assert first.json()["order_id"] != second.json()["order_id"]


def test_a_key_past_its_lifetime_is_a_new_request(api, seed_body, settings):
    first = api.post("/v1/orders", seed_body, format="json", HTTP_IDEMPOTENCY_KEY="order-1")
    IdempotencyRecord.objects.filter(key="order-1").update(
        created_at=timezone.now() - timedelta(hours=settings.IDEMPOTENCY_KEY_TTL_HOURS, minutes=1)
    )

    again = api.post("/v1/orders", seed_body, format="json", HTTP_IDEMPOTENCY_KEY="order-1")

    assert again.status_code == 201
    assert "Idempotent-Replayed" not in again
    assert again.json()["order_id"] != first.json()["order_id"]
    assert Order.objects.count() == 2
    assert json.loads(IdempotencyRecord.objects.get(key="order-1").response_body) == again.json()


# --- GET /v1/orders/{id}, GET /v1/orders ---------------------------------------------------------


def test_an_order_reads_back_with_lines_address_and_totals(api, seed_body, settings):
    settings.PUBLIC_BASE_URL = "https://techparts.com"
    order_id = api.post("/v1/orders", seed_body, format="json").json()["order_id"]

    response = api.get(f"/v1/orders/{order_id}")

    assert response.status_code == 200
    body = response.json()
    assert body["order_id"] == order_id
    assert body["customer_id"] == "CUST-789012"
    assert body["status"] == "pending"
    assert (body["subtotal"], body["tax"], body["shipping"], body["total"]) == (
        2149.98,
        171.99,
        0.0,
        2321.97,
    )
    assert body["items_count"] == 2
    assert body["items"] == [
        {
            "product_id": "PROD-4090-MSI-001",
            "sku": "GPU-NV-4090-MSI-001",
            "name": "NVIDIA GeForce RTX 4090 MSI Gaming X Trio",
            "unit_price": 1599.99,
            "quantity": 1,
            "line_total": 1599.99,
        },
        {
            "product_id": "PROD-5950X-AMD-001",
            "sku": "CPU-AMD-5950X-001",
            "name": "AMD Ryzen 9 5950X",
            "unit_price": 549.99,
            "quantity": 1,
            "line_total": 549.99,
        },
    ]
    assert body["shipping_address"] == seed_body["shipping_address"]
    order = Order.objects.get(order_id=order_id)
    assert body["tracking_url"] == (
        f"https://techparts.com/track/{order_id}/{order.tracking_token}"
    )
    assert (body["shipped_at"], body["delivered_at"], body["cancelled_at"]) == (None, None, None)


def test_reading_orders_needs_the_read_scope(client_for, api, seed_body):
    order_id = api.post("/v1/orders", seed_body, format="json").json()["order_id"]
    catalog_only = client_for("products:read")

    assert catalog_only.get(f"/v1/orders/{order_id}").status_code == 403
    assert catalog_only.get("/v1/orders").status_code == 403


def test_keys_of_the_same_owner_share_orders_and_others_see_none(client_for, api, seed_body):
    order_id = api.post("/v1/orders", seed_body, format="json").json()["order_id"]
    colleague = client_for()  # another key of api_user_12345
    stranger = client_for(owner="another_shop")

    assert colleague.get(f"/v1/orders/{order_id}").status_code == 200
    assert colleague.get("/v1/orders").json()["count"] == 1

    response = stranger.get(f"/v1/orders/{order_id}")
    assert response.status_code == 404
    assert response.json() == {
        "error": "not_found",
        "message": f"Order with ID '{order_id}' does not exist",
    }
    assert stranger.get("/v1/orders").json()["count"] == 0
    assert stranger.post(f"/v1/orders/{order_id}/cancel").status_code == 404
    assert Order.objects.get(order_id=order_id).status == "pending"


def test_an_unknown_order_is_not_found(api):
    response = api.get("/v1/orders/ORD-2024-99999")

    assert response.status_code == 404
    assert response.json()["error"] == "not_found"


def test_the_list_filters_by_status_customer_and_date(api, seed_body, monkeypatch):
    other = CustomerFactory(customer_id="CUST-100200")
    monkeypatch.setattr(timezone, "now", lambda: SEED_TIME)
    old = api.post("/v1/orders", seed_body, format="json").json()["order_id"]
    monkeypatch.setattr(timezone, "now", lambda: SEED_TIME + timedelta(days=10))
    seed_body["customer_id"] = other.customer_id
    new = api.post("/v1/orders", seed_body, format="json").json()["order_id"]
    api.post(f"/v1/orders/{new}/cancel")

    def ids(query: str) -> list[str]:
        response = api.get(f"/v1/orders{query}")
        assert response.status_code == 200, response.content
        return [order["order_id"] for order in response.json()["results"]]

    assert ids("") == [new, old]  # newest first
    assert ids("?status=pending") == [old]
    assert ids("?status=cancelled") == [new]
    assert ids("?customer=CUST-100200") == [new]
    assert ids("?created_after=2025-01-01T00:00:00Z") == [new]
    assert ids("?created_before=2025-01-01T00:00:00Z") == [old]


def test_bad_list_filters_are_validation_errors(api):
    response = api.get("/v1/orders?status=lost&created_after=yesterday")

    assert response.status_code == 400
    assert response.json() == {
        "error": "validation_error",
        "message": "Invalid query parameters",
        "details": [
            "Field 'status' must be one of pending, shipped, delivered, cancelled",
            "Field 'created_after' must be an ISO 8601 date-time",
        ],
    }


def test_the_list_is_paginated_in_a_fixed_number_of_queries(api, seed_body):
    for _ in range(3):
        api.post("/v1/orders", seed_body, format="json")

    response = api.get("/v1/orders?page_size=2")
    body = response.json()
    assert (body["count"], len(body["results"])) == (3, 2)
    assert body["next"] is not None
    assert len(api.get("/v1/orders?page=2&page_size=2").json()["results"]) == 1

    for _ in range(5):
        api.post("/v1/orders", seed_body, format="json")
    with CaptureQueriesContext(connection) as few:
        api.get("/v1/orders?page_size=2")
    with CaptureQueriesContext(connection) as many:
        api.get("/v1/orders?page_size=8")
    assert len(many) == len(few)


# --- POST /v1/orders/{id}/cancel -----------------------------------------------------------------


def test_cancelling_a_pending_order_releases_its_stock(api, seed_body):
    order_id = api.post("/v1/orders", seed_body, format="json").json()["order_id"]

    response = api.post(f"/v1/orders/{order_id}/cancel")

    assert response.status_code == 200
    assert response.json()["status"] == "cancelled"
    assert response.json()["cancelled_at"] is not None
    assert StockRecord.objects.get(product__public_id="PROD-4090-MSI-001").reserved == 0
    releases = StockMovement.objects.filter(reference=order_id, kind="release")
    assert {(m.reserved_delta, m.actor_api_key_id) for m in releases} == {(-1, api.api_key.pk)}
    assert releases.count() == 2


def test_cancelling_twice_is_a_conflict(api, seed_body):
    order_id = api.post("/v1/orders", seed_body, format="json").json()["order_id"]
    api.post(f"/v1/orders/{order_id}/cancel")

    response = api.post(f"/v1/orders/{order_id}/cancel")

    assert response.status_code == 409
    assert response.json() == {
        "error": "conflict",
        "message": f"Order '{order_id}' is cancelled; only pending orders can be cancelled.",
        "status": "cancelled",
    }
    assert StockMovement.objects.filter(reference=order_id, kind="release").count() == 2


def test_a_shipped_order_cannot_be_cancelled(api, seed_body):
    order_id = api.post("/v1/orders", seed_body, format="json").json()["order_id"]
    order_ship(order=Order.objects.get(order_id=order_id), actor=Actor.system())

    response = api.post(f"/v1/orders/{order_id}/cancel")

    assert response.status_code == 409
    assert response.json()["status"] == "shipped"


def test_cancelling_needs_the_write_scope(client_for, api, seed_body):
    order_id = api.post("/v1/orders", seed_body, format="json").json()["order_id"]
    reader = client_for("orders:read")

    assert reader.post(f"/v1/orders/{order_id}/cancel").status_code == 403
    assert Order.objects.get(order_id=order_id).status == "pending"


def test_a_cancel_retried_with_its_key_replays_the_success(api, seed_body):
    order_id = api.post("/v1/orders", seed_body, format="json").json()["order_id"]

    first = api.post(f"/v1/orders/{order_id}/cancel", HTTP_IDEMPOTENCY_KEY="cancel-1")
    retry = api.post(f"/v1/orders/{order_id}/cancel", HTTP_IDEMPOTENCY_KEY="cancel-1")

    assert first.status_code == retry.status_code == 200
    assert retry.json() == first.json()


NO_FIELDS = ["Request body must be empty or {}: this action takes no fields"]


CANCEL_BODIES = [
    # (content type, body, status, details, refused before this fix with an Idempotency-Key)
    ("application/xml", "<cancel><refund>9999</refund></cancel>", 415, None, True),
    ("text/plain", "cancel it", 415, None, True),
    ("application/json", '{"status": "delivered",', 400, None, True),  # malformed
    (
        "application/json",
        '{"status": "delivered", "refund": 9999}',
        400,
        ["Field 'status' is not allowed", "Field 'refund' is not allowed"],
        False,
    ),
    ("application/json", "null", 400, NO_FIELDS, False),
    ("application/json", "[]", 400, NO_FIELDS, False),
    ("application/json", '"cancel"', 400, NO_FIELDS, False),
]


@pytest.mark.parametrize(
    ("idempotency_key", "content_type", "body", "status", "details"),
    [(None, *case[:4]) for case in CANCEL_BODIES]
    + [("cancel-with-body", *case[:4]) for case in CANCEL_BODIES if not case[4]],
)
def test_cancel_refuses_any_body_but_none_or_an_empty_object(
    api, seed_body, idempotency_key, content_type, body, status, details
):
    order_id = api.post("/v1/orders", seed_body, format="json").json()["order_id"]
    headers = {"HTTP_IDEMPOTENCY_KEY": idempotency_key} if idempotency_key else {}
    movements = StockMovement.objects.count()

    response = api.generic(
        "POST", f"/v1/orders/{order_id}/cancel", body, content_type=content_type, **headers
    )

    assert response.status_code == status, response.content
    if details is not None:
        assert response.json() == {
            "error": "validation_error",
            "message": "Invalid request body",
            "details": details,
        }
    order = Order.objects.get(order_id=order_id)
    assert (order.status, order.total) == ("pending", Decimal("2321.97"))
    assert StockRecord.objects.get(product__public_id="PROD-4090-MSI-001").reserved == 1
    assert StockMovement.objects.count() == movements
    # What the action does take: an empty object (or no body at all).
    cancelled = api.generic("POST", f"/v1/orders/{order_id}/cancel", "{}", "application/json")
    assert cancelled.status_code == 200
    assert cancelled.json()["status"] == "cancelled"


def test_an_order_over_50_lines_is_refused_before_any_database_work(
    api, customer, django_assert_num_queries
):
    body = order_body(*[(f"PROD-LINE-{n:03d}", 1) for n in range(51)])
    api.get("/v1/orders")  # the key's first use: its lookup, and last_used_at for the minute

    with django_assert_num_queries(0):  # the warm key is held in process: nothing at all
        response = api.post("/v1/orders", body, format="json")

    assert response.status_code == 400
    assert response.json()["details"] == ["Field 'items' must contain at most 50 items"]
