"""Bulk stock writes under real concurrency: parallel requests on PostgreSQL, each on its own
connection, and the endpoint's query count with its transaction."""

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection
from rest_framework.test import APIClient

from inventory.models import StockMovement
from inventory.selectors import stock_mismatches
from tests.inventory.test_bulk import URL, on_hand, open_products

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def run_in_parallel(raw_key: str, bodies: list[dict]) -> list:
    """POST every body to the bulk endpoint at once, each from its own thread and client."""
    barrier = threading.Barrier(len(bodies))

    def send(body: dict):
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw_key}")
        try:
            barrier.wait(timeout=30)
            return client.post(URL, body, format="json")
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=len(bodies)) as pool:
        futures = [pool.submit(send, body) for body in bodies]
        return [future.result(timeout=120) for future in futures]


def test_calls_touching_the_same_skus_in_opposite_order_do_not_deadlock(api):
    products = open_products(200, stock=100)
    forward = {"items": [{"sku": p.sku, "adjust_by": 1} for p in products]}
    backward = {"items": [{"sku": p.sku, "adjust_by": -1} for p in reversed(products)]}
    # Each call locks every record it names; without one lock order, two calls that each hold
    # half the rows would wait for each other until PostgreSQL killed one (a deadlock).
    bodies = [forward, backward] * 4 + [forward] * 2
    rows_before = StockMovement.objects.count()

    responses = run_in_parallel(api.raw_key, bodies)

    assert [r.status_code for r in responses] == [200] * 10, [r.json() for r in responses]
    assert on_hand(products) == [102] * 200  # six rises and four falls of one unit each
    groups = {r.json()["adjustment_group"] for r in responses}
    assert len(groups) == 10
    assert StockMovement.objects.count() == rows_before + 10 * 200
    assert stock_mismatches() == []  # every ledger replays to its stock record


def test_compare_and_set_lets_only_one_of_two_racing_counts_through(api):
    products = open_products(50, stock=10)
    bodies = [
        {
            "error_policy": "reject_failed_items",
            "items": [{"sku": p.sku, "quantity": q, "expected_quantity": 10} for p in products],
        }
        for q in (7, 8)
    ]

    responses = run_in_parallel(api.raw_key, bodies)

    summaries = sorted(
        (r.json()["summary"]["applied"], r.json()["summary"]["failed"]) for r in responses
    )
    assert summaries == [(0, 50), (50, 0)]
    levels = set(on_hand(products))
    assert levels in ({7}, {8})
    loser = next(r.json() for r in responses if r.json()["summary"]["failed"])
    assert {item["quantity"] for item in loser["items"]} == levels  # the count to retry with
    assert stock_mismatches() == []


# Once the key is warm in the process, a bulk call costs BEGIN, one locking read of every
# record named, one UPDATE, one ledger INSERT and one outbox INSERT per 1,000 changed items (and
# events), and COMMIT: 6 for 1 to 1,000 items, 9 for 2,000 (bulk.MAX_ROWS_PER_STATEMENT bounds
# each statement's rows).
BULK_QUERIES = {1: 6, 1000: 6, 2000: 9}


@pytest.mark.parametrize("count", sorted(BULK_QUERIES))
def test_a_bulk_call_costs_the_same_queries_for_one_or_a_thousand_items(
    api, django_assert_num_queries, count
):
    products = open_products(count)
    api.get("/v1/inventory")  # warms the key; its first use also records last_used_at
    body = {"items": [{"sku": p.sku, "adjust_by": 1} for p in products]}

    with django_assert_num_queries(BULK_QUERIES[count]):
        response = api.post(URL, body, format="json")

    assert response.status_code == 200
    assert response.json()["summary"]["applied"] == count
    assert on_hand(products) == [11] * count
