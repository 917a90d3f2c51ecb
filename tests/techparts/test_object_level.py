"""Integrators only ever reach their own orders, and cannot set fields that are not inputs."""

import pytest

from inventory.models import StockMovement
from orders.models import Order
from tests.factories import CustomerFactory, ProductFactory, TaxRateFactory

pytestmark = pytest.mark.django_db

ADDRESS = {
    "street": "1 Main St",
    "city": "San Francisco",
    "state": "CA",
    "zip": "94105",
    "country": "US",
}


@pytest.fixture
def product():
    return ProductFactory(public_id="PROD-OBJ-001", sku="SKU-OBJ-001", stock=20)


@pytest.fixture
def order_body(product):
    TaxRateFactory(state="CA")
    return {
        "customer_id": CustomerFactory().customer_id,
        "items": [{"product_id": product.public_id, "quantity": 2}],
        "shipping_address": ADDRESS,
    }


@pytest.fixture
def alice(client_for):
    return client_for(owner="integrator_alice")


@pytest.fixture
def bob(client_for):
    return client_for(owner="integrator_bob")


@pytest.fixture
def alices_order(alice, order_body):
    response = alice.post("/v1/orders", order_body, format="json")
    assert response.status_code == 201
    return response.json()["order_id"]


@pytest.mark.parametrize(
    ("method", "template"),
    [("get", "/v1/orders/{}"), ("post", "/v1/orders/{}/cancel")],
)
def test_another_integrators_order_is_not_found_on_every_order_route(
    bob, alices_order, method, template
):
    response = getattr(bob, method)(template.format(alices_order))

    assert response.status_code == 404
    assert response.json()["error"] == "not_found"
    assert Order.objects.get(order_id=alices_order).status == "pending"


def test_another_integrators_orders_never_appear_in_lists(alice, bob, alices_order, order_body):
    bobs_order = bob.post("/v1/orders", order_body, format="json").json()["order_id"]

    for query in ["", "?status=pending", f"?customer={order_body['customer_id']}"]:
        bob_ids = [o["order_id"] for o in bob.get(f"/v1/orders{query}").json()["results"]]
        alice_ids = [o["order_id"] for o in alice.get(f"/v1/orders{query}").json()["results"]]
        assert bob_ids == [bobs_order]
        assert alice_ids == [alices_order]


def test_keys_of_the_same_owner_share_their_orders(client_for, alices_order):
    second_key = client_for(owner="integrator_alice")

    assert second_key.get(f"/v1/orders/{alices_order}").status_code == 200


@pytest.mark.parametrize(
    "extra",
    [
        {"order_id": "ORD-2024-00001"},
        {"status": "shipped"},
        {"total": 0.01},
        {"subtotal": 0},
        {"tax": 0},
        {"owner": "integrator_bob"},
        {"api_key": 1},
        {"created_at": "2020-01-01T00:00:00Z"},
    ],
)
def test_orders_refuse_fields_that_are_not_inputs(alice, order_body, extra):
    response = alice.post("/v1/orders", {**order_body, **extra}, format="json")

    assert response.status_code == 400
    (name,) = extra
    assert f"Field '{name}' is not allowed" in response.json()["details"]
    assert not Order.objects.exists()


def test_order_lines_refuse_a_price(alice, order_body):
    order_body["items"][0]["unit_price"] = 0.01

    response = alice.post("/v1/orders", order_body, format="json")

    assert response.status_code == 400
    assert "Field 'items[0].unit_price' is not allowed" in response.json()["details"]
    assert not Order.objects.exists()


@pytest.mark.parametrize(
    "extra",
    [
        {"reserved": 0},
        {"on_hand": 500},
        {"available": 500},
        {"updated_by": "someone_else"},
        {"product_id": "PROD-OTHER-001"},
        {"sku": "SKU-OTHER-001"},
    ],
)
def test_inventory_refuses_fields_that_are_not_inputs(api, product, extra):
    movements = StockMovement.objects.count()

    response = api.patch(f"/v1/inventory/{product.sku}", {"quantity": 25, **extra}, format="json")

    assert response.status_code == 400
    (name,) = extra
    assert f"Field '{name}' is not allowed" in response.json()["details"]
    product.stock.refresh_from_db()
    assert (product.stock.on_hand, product.stock.reserved) == (20, 0)
    assert StockMovement.objects.count() == movements
