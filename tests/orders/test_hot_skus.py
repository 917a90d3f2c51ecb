"""Many integrators ordering the same few products at once, in parallel on PostgreSQL.

Every client orders multi-line orders over the same shared SKUs, each order listing its lines
in its own shuffled order, while some orders are cancelled and a warehouse sync sets stock of
the same SKUs. Row locks taken in product order must queue these without a deadlock: every
request answers 2xx, and every ledger replays exactly to its stock record afterwards.
"""

import random
import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection
from rest_framework.test import APIClient

from inventory.models import StockMovement
from inventory.selectors import stock_mismatches
from orders.models import Order, OrderLine
from orders.selectors import pending_units_by_product
from tests.conftest import stock_of
from tests.factories import ProductFactory
from tests.orders.conftest import order_body

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

CLIENTS = 16
ORDERS_PER_CLIENT = 6
SHARED_SKUS = 20
LINES_PER_ORDER = 8
STOCK = 5000


def client_run(raw_key: str, seed: int, products: list, barrier) -> list[tuple]:
    """Place (and sometimes cancel) orders over the shared products; return what came back.

    Each client runs in its own thread on its own database connection, so the transactions
    really overlap in PostgreSQL.
    """
    try:
        return _client_run(raw_key, seed, products, barrier)
    finally:
        connection.close()


def _client_run(raw_key: str, seed: int, products: list, barrier) -> list[tuple]:
    rng = random.Random(seed)
    session = APIClient()
    session.credentials(HTTP_AUTHORIZATION=f"Bearer {raw_key}")
    answers = []
    barrier.wait(timeout=60)
    for number in range(ORDERS_PER_CLIENT):
        lines = rng.sample(products, LINES_PER_ORDER)  # a shuffled pick: order differs per call
        body = order_body(*[(product.public_id, rng.randint(1, 3)) for product in lines])
        placed = session.post("/v1/orders", body, format="json")
        answers.append(("order", placed.status_code, placed.content, body))
        if placed.status_code == 201 and number % 3 == 0:
            order_id = placed.json()["order_id"]
            cancelled = session.post(f"/v1/orders/{order_id}/cancel")
            answers.append(("cancel", cancelled.status_code, cancelled.content, order_id))
        if number % 2 == 0:
            # A warehouse sync of one of the hot SKUs, far above what orders reserve.
            product = rng.choice(products)
            synced = session.patch(
                f"/v1/inventory/{product.sku}",
                {"quantity": STOCK + rng.randint(0, 100), "reason": "cycle count"},
                format="json",
            )
            answers.append(("sync", synced.status_code, synced.content, product.sku))
    return answers


def test_clients_ordering_shared_skus_in_shuffled_order_never_deadlock(
    client_for, customer, ca_tax
):
    products = [ProductFactory(stock=STOCK) for _ in range(SHARED_SKUS)]
    # One key per client: the per-key pending-units lock does not serialize them.
    keys = [client_for(owner=f"integrator-{n}").raw_key for n in range(CLIENTS)]
    barrier = threading.Barrier(CLIENTS)

    with ThreadPoolExecutor(max_workers=CLIENTS) as pool:
        futures = [
            pool.submit(client_run, key, seed, products, barrier) for seed, key in enumerate(keys)
        ]
        answers = [answer for future in futures for answer in future.result()]

    failures = [answer for answer in answers if answer[1] >= 300]
    assert failures == []  # no 5xx (a deadlock is one), and no refusal either
    kinds = Counter(kind for kind, *_ in answers)
    assert kinds["order"] == CLIENTS * ORDERS_PER_CLIENT
    placed = Order.objects.count()
    cancelled = Order.objects.filter(status="cancelled").count()
    assert (placed, cancelled) == (kinds["order"], kinds["cancel"])
    # Every reservation and release has its ledger row, one per product of each order.
    assert StockMovement.objects.filter(kind="reservation").count() == OrderLine.objects.count()
    # Reserved units on each SKU are exactly those of the pending orders.
    pending = pending_units_by_product()
    assert {p.pk: stock_of(p).reserved for p in products} == {
        p.pk: pending.get(p.pk, 0) for p in products
    }
    assert stock_mismatches() == []
    out = StringIO()
    call_command("reconcile_stock", stdout=out)  # raises CommandError on any mismatch
