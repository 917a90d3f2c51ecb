"""The bench-only floor views (shop/floor/): never routed in production, and ledger-exact."""

import subprocess
import sys

import pytest
from django.core.management import call_command

from inventory.models import StockMovement
from orders.models import Order
from tests.conftest import stock_of
from tests.factories import CustomerFactory, ProductFactory
from tests.servers import ROOT
from tests.techparts.test_production import PRODUCTION_ENV


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/bench/floor/products/PROD-4090-MSI-001"),
        ("get", "/bench/floor/products?page_size=100"),
        ("patch", "/bench/floor/inventory/GPU-NV-4090-MSI-001"),
        ("post", "/bench/floor/orders"),
        ("get", "/bench/floor/inventory?limit=100"),
        ("get", "/bench/floor/inventory/changes?limit=100"),
    ],
)
def test_floor_views_are_not_routed_without_the_setting(client, method, path):
    product = ProductFactory(public_id="PROD-4090-MSI-001", sku="GPU-NV-4090-MSI-001")

    response = getattr(client, method)(path, {}, content_type="application/json")

    assert response.status_code == 404
    assert stock_of(product).on_hand == 10


def test_deploy_check_fails_while_the_floor_views_are_on():
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env={**PRODUCTION_ENV, "BENCH_FLOOR_VIEWS": "true"},
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert result.returncode != 0
    assert "shop.E001" in result.stdout + result.stderr


@pytest.mark.postgres
@pytest.mark.django_db
@pytest.mark.urls("shop.floor.urls")
class TestFloorViews:
    def test_product_detail_answers_the_product_and_its_stock(self, client):
        product = ProductFactory(stock=7)

        response = client.get(f"/products/{product.public_id}")

        assert response.status_code == 200
        assert response.json()["sku"] == product.sku
        assert response.json()["stock__on_hand"] == 7

    def test_stock_change_writes_its_ledger_row_and_the_ledger_still_replays(self, client):
        product = ProductFactory(stock=10)

        response = client.patch(
            f"/inventory/{product.sku}", {"quantity": 25}, content_type="application/json"
        )

        assert response.status_code == 200
        assert stock_of(product).on_hand == 25
        assert StockMovement.objects.filter(product=product, on_hand_delta=15).count() == 1
        call_command("reconcile_stock")  # raises (exit 1) on any mismatch

    def test_order_reserves_every_line_and_the_ledger_still_replays(self, client):
        customer = CustomerFactory()
        products = [ProductFactory(stock=10) for _ in range(3)]
        body = {
            "customer_id": customer.customer_id,
            "items": [{"product_id": p.public_id, "quantity": 2} for p in products],
            "shipping_address": {"street": "1 A St", "city": "X", "state": "CA", "zip": "1"},
        }

        response = client.post("/orders", body, content_type="application/json")

        assert response.status_code == 201
        order = Order.objects.get(order_id=response.json()["order_id"])
        assert order.lines.count() == 3
        assert [stock_of(p).reserved for p in products] == [2, 2, 2]
        call_command("reconcile_stock")


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)  # the feed floor serves committed transactions only
@pytest.mark.urls("shop.floor.urls")
class TestSyncReadFloors:
    def test_inventory_list_floor_reads_records_in_product_order(self, client):
        products = [ProductFactory(stock=n) for n in (3, 4)]

        response = client.get("/inventory", {"limit": 1})

        assert response.status_code == 200
        [row] = response.json()["results"]
        assert (row["product__sku"], row["on_hand"]) == (products[0].sku, 3)

    def test_inventory_changes_floor_reads_the_ledger_in_feed_order(self, client):
        products = [ProductFactory(stock=n) for n in (3, 4)]

        response = client.get("/inventory/changes", {"limit": 10})

        assert response.status_code == 200
        rows = response.json()["results"]
        assert [row[-2] for row in rows] == [p.sku for p in products]
