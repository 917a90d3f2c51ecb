"""One API key cannot reserve more than its cap of units in pending orders (OWASP API6)."""

import pytest

from inventory.models import StockMovement
from orders.models import Order
from tests.factories import CustomerFactory, ProductFactory, TaxRateFactory

pytestmark = pytest.mark.django_db

ADDRESS = {
    "street": "123 Tech Lane",
    "city": "San Francisco",
    "state": "CA",
    "zip": "94105",
    "country": "US",
}


@pytest.fixture
def world(settings):
    settings.MAX_PENDING_UNITS_PER_API_KEY = 10
    TaxRateFactory(state="CA")
    return {"customer": CustomerFactory(), "product": ProductFactory(stock=100)}


def place(client, world, quantity):
    return client.post(
        "/v1/orders",
        {
            "customer_id": world["customer"].customer_id,
            "items": [{"product_id": world["product"].public_id, "quantity": quantity}],
            "shipping_address": ADDRESS,
        },
        format="json",
    )


def test_order_past_the_cap_is_refused_and_changes_nothing(client_for, world):
    client = client_for("orders:write")
    assert place(client, world, 8).status_code == 201
    movements = StockMovement.objects.count()

    response = place(client, world, 3)

    assert response.status_code == 409
    assert response.json() == {
        "error": "conflict",
        "message": "This API key already holds 8 units in pending orders; placing 3 more "
        "would exceed its cap of 10. Cancel or wait for pending orders to ship, or ask "
        "TechParts to raise the cap.",
        "pending_units": 8,
        "cap": 10,
    }
    assert Order.objects.count() == 1
    assert StockMovement.objects.count() == movements
    world["product"].stock.refresh_from_db()
    assert world["product"].stock.reserved == 8


def test_up_to_the_cap_is_allowed(client_for, world):
    client = client_for("orders:write")

    assert place(client, world, 8).status_code == 201
    assert place(client, world, 2).status_code == 201


def test_cancelling_frees_room_under_the_cap(client_for, world):
    client = client_for("orders:write")
    order_id = place(client, world, 10).json()["order_id"]
    assert place(client, world, 1).status_code == 409

    assert client.post(f"/v1/orders/{order_id}/cancel").status_code == 200

    assert place(client, world, 1).status_code == 201


def test_the_cap_is_per_key(client_for, world):
    assert place(client_for("orders:write"), world, 10).status_code == 201

    assert place(client_for("orders:write"), world, 10).status_code == 201
