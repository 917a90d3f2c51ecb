from datetime import UTC, datetime

import pytest
from django.utils import timezone

from orders.services import order_cancel, order_ship
from techparts.actors import Actor
from tests.factories import ProductFactory

pytestmark = pytest.mark.django_db


def test_tracking_page_shows_status_delivery_and_item_count_only(client, place_order, monkeypatch):
    monkeypatch.setattr(timezone, "now", lambda: datetime(2024, 12, 28, 15, 30, tzinfo=UTC))
    gpu = ProductFactory(name="RTX 4090 Gaming", sku="GPU-SECRET-001", stock=5)
    cpu = ProductFactory(stock=5)
    order = place_order((gpu, 2), (cpu, 1))

    response = client.get(f"/track/{order.order_id}")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    page = response.content.decode()
    assert order.order_id in page
    assert "Pending" in page
    assert "Tuesday, December 31, 2024" in page
    assert "2 items (3 units)" in page
    for private in [
        order.customer.name,
        order.customer.email,
        order.customer.customer_id,
        order.ship_street,
        "94105",
        "San Francisco",
        "RTX 4090 Gaming",
        "GPU-SECRET-001",
        "324",
        str(order.total),
    ]:
        assert private not in page


def test_tracking_page_follows_the_order_status(client, place_order):
    order = place_order((ProductFactory(stock=5), 1))
    order_ship(order=order, actor=Actor.system())

    assert "Shipped" in client.get(f"/track/{order.order_id}").content.decode()

    other = place_order((ProductFactory(stock=5), 1))
    order_cancel(order=other, actor=Actor.system())

    assert "Cancelled" in client.get(f"/track/{other.order_id}").content.decode()


def test_unknown_order_gets_a_friendly_html_404(client):
    response = client.get("/track/ORD-2024-00000")

    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")
    page = response.content.decode()
    assert "We could not find that order" in page
    assert "ORD-2024-00000" in page


def test_tracking_page_escapes_the_requested_id(client):
    response = client.get("/track/%3Cscript%3Ealert(1)%3C%2Fscript%3E")

    assert response.status_code == 404
    assert "<script>alert(1)</script>" not in response.content.decode()
