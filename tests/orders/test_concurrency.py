"""Orders under real concurrency: parallel requests on PostgreSQL, each on its own connection."""

import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection
from rest_framework.test import APIClient

from inventory.models import StockMovement
from inventory.selectors import stock_mismatches
from orders.models import Order
from tests.conftest import stock_of
from tests.factories import ProductFactory
from tests.orders.conftest import order_body

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def run_in_parallel(raw_key: str, requests: list[tuple[str, dict | None]]) -> list:
    """POST every (path, body) at once from its own thread and client; return the responses."""
    barrier = threading.Barrier(len(requests))

    def send(path: str, body: dict | None):
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw_key}")
        try:
            barrier.wait(timeout=30)
            return client.post(path, body, format="json")
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=len(requests)) as pool:
        futures = [pool.submit(send, path, body) for path, body in requests]
        return [future.result() for future in futures]


def test_fifty_concurrent_orders_for_five_units_sell_exactly_five(api, customer, ca_tax):
    gpu = ProductFactory(public_id="PROD-HOT-001", stock=5)
    body = order_body(("PROD-HOT-001", 1))

    responses = run_in_parallel(api.raw_key, [("/v1/orders", body)] * 50)

    statuses = Counter(response.status_code for response in responses)
    errors = Counter(
        response.json()["error"] for response in responses if response.status_code != 201
    )
    assert statuses == {201: 5, 409: 45}
    assert errors == {"insufficient_stock": 45}
    record = stock_of(gpu)
    assert (record.on_hand, record.reserved, record.available) == (5, 5, 0)
    assert Order.objects.count() == 5
    assert (
        len({response.json()["order_id"] for response in responses if response.status_code == 201})
        == 5
    )
    assert StockMovement.objects.filter(product=gpu, kind="reservation").count() == 5
    assert stock_mismatches() == []  # every ledger replays to its stock record


def test_orders_listing_the_same_products_in_opposite_order_do_not_deadlock(
    api, customer, ca_tax, place_order
):
    a = ProductFactory(public_id="PROD-LOCK-A", stock=100)
    b = ProductFactory(public_id="PROD-LOCK-B", stock=100)
    c = ProductFactory(public_id="PROD-LOCK-C", stock=100)
    forward = order_body(("PROD-LOCK-A", 1), ("PROD-LOCK-B", 2), ("PROD-LOCK-C", 1))
    backward = order_body(("PROD-LOCK-C", 1), ("PROD-LOCK-B", 2), ("PROD-LOCK-A", 1))
    # Cancels of earlier orders run alongside: they lock an order, then the same stock rows.
    earlier = [api.post("/v1/orders", forward, format="json").json()["order_id"] for _ in range(6)]
    requests = [("/v1/orders", forward), ("/v1/orders", backward)] * 12 + [
        (f"/v1/orders/{order_id}/cancel", None) for order_id in earlier
    ]

    responses = run_in_parallel(api.raw_key, requests)

    assert [r.status_code for r in responses] == [201] * 24 + [200] * 6
    record_a, record_b, record_c = (stock_of(p) for p in (a, b, c))
    assert (record_a.reserved, record_b.reserved, record_c.reserved) == (24, 48, 24)
    assert Order.objects.filter(status="pending").count() == 24
    assert stock_mismatches() == []  # every ledger replays to its stock record


def test_concurrent_cancels_of_one_order_release_its_stock_once(api, customer, ca_tax):
    gpu = ProductFactory(public_id="PROD-ONCE-001", stock=5)
    order_id = api.post("/v1/orders", order_body(("PROD-ONCE-001", 3)), format="json").json()[
        "order_id"
    ]

    responses = run_in_parallel(api.raw_key, [(f"/v1/orders/{order_id}/cancel", None)] * 10)

    assert Counter(r.status_code for r in responses) == {200: 1, 409: 9}
    assert StockMovement.objects.filter(reference=order_id, kind="release").count() == 1
    assert stock_of(gpu).reserved == 0
    assert stock_mismatches() == []  # every ledger replays to its stock record


def test_concurrent_retries_with_one_idempotency_key_place_one_order(api, customer, ca_tax):
    gpu = ProductFactory(public_id="PROD-RETRY-001", stock=50)
    body = order_body(("PROD-RETRY-001", 1))
    barrier = threading.Barrier(10)

    def send():
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {api.raw_key}")
        try:
            barrier.wait(timeout=30)
            return client.post("/v1/orders", body, format="json", HTTP_IDEMPOTENCY_KEY="same")
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=10) as pool:
        responses = [f.result() for f in [pool.submit(send) for _ in range(10)]]

    statuses = Counter(r.status_code for r in responses)
    assert set(statuses) <= {201, 409}
    assert statuses[201] >= 1
    busy = [r for r in responses if r.status_code == 409]
    assert all(r.json()["error"] == "conflict" and r["Retry-After"] == "1" for r in busy)
    assert len({r.json()["order_id"] for r in responses if r.status_code == 201}) == 1
    assert Order.objects.count() == 1
    assert stock_of(gpu).reserved == 1
