import re
from datetime import UTC, datetime
from urllib.parse import urlsplit

import pytest
from django.utils import timezone

from orders.models import Order
from orders.services import order_cancel, order_ship
from techparts.actors import Actor
from tests.factories import ProductFactory

pytestmark = pytest.mark.django_db


def track_path(order: Order) -> str:
    return urlsplit(order.tracking_url).path


def test_tracking_page_shows_status_delivery_and_item_count_only(client, place_order, monkeypatch):
    monkeypatch.setattr(timezone, "now", lambda: datetime(2024, 12, 28, 15, 30, tzinfo=UTC))
    gpu = ProductFactory(name="RTX 4090 Gaming", sku="GPU-SECRET-001", stock=5)
    cpu = ProductFactory(stock=5)
    order = place_order((gpu, 2), (cpu, 1))

    response = client.get(track_path(order))

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

    assert "Shipped" in client.get(track_path(order)).content.decode()

    other = place_order((ProductFactory(stock=5), 1))
    order_cancel(order=other, actor=Actor.system())

    assert "Cancelled" in client.get(track_path(other)).content.decode()


def test_each_order_gets_its_own_unguessable_tracking_link(place_order, settings):
    settings.PUBLIC_BASE_URL = "https://techparts.com"
    first = place_order((ProductFactory(stock=5), 1))
    second = place_order((ProductFactory(stock=5), 1))

    for order in (first, second):
        match = re.fullmatch(
            rf"https://techparts\.com/track/{order.order_id}/([A-Za-z0-9_-]+)", order.tracking_url
        )
        assert match and len(match.group(1)) >= 32  # at least 192 random bits
    assert first.tracking_token != second.tracking_token


def test_an_order_id_alone_opens_nothing(client, place_order):
    order = place_order((ProductFactory(stock=5), 1))
    unknown = client.get("/track/ORD-2024-99999").content

    for path in [
        f"/track/{order.order_id}",
        f"/track/{order.order_id}/",
        f"/track/{order.order_id}/{'A' * len(order.tracking_token)}",
        f"/track/{order.order_id}/{order.tracking_token[:-1]}",
        f"/track/{order.order_id}/{order.tracking_token}x",
    ]:
        response = client.get(path)

        assert response.status_code == 404, path
        assert "Pending" not in response.content.decode()
        if not path.endswith("/"):
            assert response.content == unknown  # a known id looks like an unknown one


def test_one_orders_token_does_not_open_another(client, place_order):
    first = place_order((ProductFactory(stock=5), 1))
    second = place_order((ProductFactory(stock=5), 1))

    response = client.get(f"/track/{second.order_id}/{first.tracking_token}")

    assert response.status_code == 404


def test_unknown_order_gets_a_friendly_html_404(client):
    response = client.get("/track/ORD-2024-00000/abc")

    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")
    assert "We could not find that order" in response.content.decode()


def test_tracking_page_never_echoes_the_requested_path(client):
    response = client.get("/track/%3Cscript%3Ealert(1)%3C%2Fscript%3E/x%3Cb%3E")

    assert response.status_code == 404
    page = response.content.decode()
    assert "<script>alert(1)</script>" not in page and "script" not in page


class TestTrackingRateLimit:
    @pytest.fixture(autouse=True)
    def three_per_hour(self, settings):
        settings.TRACKING_RATE_LIMIT = "3/hour"

    def test_requests_over_the_limit_get_429_with_retry_after(self, client, place_order):
        order = place_order((ProductFactory(stock=5), 1))
        # Every request counts, found or not: walking ids burns the budget as fast.
        statuses = [
            client.get(path).status_code
            for path in [track_path(order), "/track/ORD-2024-00001", "/track/ORD-2024-00002/x"]
        ]

        response = client.get(track_path(order))

        assert statuses == [200, 404, 404]
        assert response.status_code == 429
        assert response["Content-Type"].startswith("text/html")
        assert "Too many requests" in response.content.decode()
        assert 1 <= int(response["Retry-After"]) <= 3600
        assert client.get(track_path(order), REMOTE_ADDR="198.51.100.2").status_code == 200

    def test_ipv6_clients_count_per_64_network(self, client, place_order):
        order = place_order((ProductFactory(stock=5), 1))
        for host in range(3):
            client.get(track_path(order), REMOTE_ADDR=f"2001:db8:1:2::{host + 1}")

        same_network = client.get(track_path(order), REMOTE_ADDR="2001:db8:1:2:ffff::9")
        other_network = client.get(track_path(order), REMOTE_ADDR="2001:db8:1:3::1")

        assert (same_network.status_code, other_network.status_code) == (429, 200)

    def test_behind_the_trusted_proxy_the_limit_keys_on_the_forwarded_address(
        self, client, place_order, settings
    ):
        settings.TRUST_PROXY_HEADERS = True
        order = place_order((ProductFactory(stock=5), 1))
        proxy = {"REMOTE_ADDR": "10.0.0.5"}
        for _ in range(3):
            client.get(track_path(order), HTTP_X_FORWARDED_FOR="203.0.113.7", **proxy)

        # The proxy appends the address it saw; an entry the client wrote before it is ignored.
        spoofed = client.get(
            track_path(order), HTTP_X_FORWARDED_FOR="198.51.100.9, 203.0.113.7", **proxy
        )
        other = client.get(track_path(order), HTTP_X_FORWARDED_FOR="198.51.100.9", **proxy)

        assert (spoofed.status_code, other.status_code) == (429, 200)

    def test_without_proxy_trust_forwarded_headers_are_ignored(self, client, place_order):
        order = place_order((ProductFactory(stock=5), 1))
        statuses = [
            client.get(track_path(order), HTTP_X_FORWARDED_FOR=f"192.0.2.{n}").status_code
            for n in range(4)
        ]

        assert statuses == [200, 200, 200, 429]
