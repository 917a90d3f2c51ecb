import io
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db.models import Count

from catalog.models import Category, Product
from inventory.models import StockMovement, StockRecord

pytestmark = pytest.mark.django_db


def seed(*args):
    call_command("seed_demo", *args, stdout=io.StringIO())


def test_demo_catalog_is_realistic_and_complete():
    seed()

    assert Product.objects.count() >= 60
    assert Category.objects.annotate(n=Count("products")).filter(n__gt=0).count() >= 6
    assert not Product.objects.filter(stock__isnull=True).exists()
    assert Product.objects.filter(related_products__isnull=False).distinct().count() >= 20
    assert all(p.specifications and p.warranty for p in Product.objects.all())


def test_demo_has_the_seed_products_exactly():
    seed()

    gpu = Product.objects.select_related("category", "stock").get(public_id="PROD-4090-MSI-001")
    assert gpu.sku == "GPU-NV-4090-MSI-001"
    assert gpu.name == "NVIDIA GeForce RTX 4090 MSI Gaming X Trio"
    assert gpu.category.slug == "graphics-cards"
    assert gpu.manufacturer == "MSI"
    assert gpu.price == Decimal("1599.99")
    assert gpu.stock.available == 23
    assert gpu.specifications == {
        "memory": "24GB GDDR6X",
        "cuda_cores": 16384,
        "boost_clock": "2520 MHz",
        "power_consumption": "450W",
    }
    assert gpu.warranty == "3 years"
    # A cost (72% of the price), kept in its history and on the opening ledger row.
    assert gpu.unit_cost == Decimal("1151.99")
    assert list(gpu.cost_changes.values_list("new_cost", flat=True)) == [Decimal("1151.99")]
    assert StockMovement.objects.get(product=gpu).unit_cost == Decimal("1151.99")
    cpu = Product.objects.select_related("stock").get(public_id="PROD-5950X-AMD-001")
    assert cpu.price == Decimal("549.99")
    assert cpu.stock.available > 0


def test_seeding_twice_changes_nothing():
    seed()
    before = (
        Product.objects.count(),
        StockMovement.objects.count(),
        list(StockRecord.objects.order_by("pk").values_list("on_hand", flat=True)),
    )

    seed()

    after = (
        Product.objects.count(),
        StockMovement.objects.count(),
        list(StockRecord.objects.order_by("pk").values_list("on_hand", flat=True)),
    )
    assert after == before


def test_every_opening_stock_has_a_ledger_row():
    seed()

    for record in StockRecord.objects.all():
        rows = StockMovement.objects.filter(product_id=record.product_id)
        assert sum(row.on_hand_delta for row in rows) == record.on_hand


def test_synthetic_products_are_added_in_bulk(django_assert_max_num_queries):
    seed()
    demo_count = Product.objects.count()

    # Bulk inserts: far fewer queries than rows (SQLite splits batches by its variable limit).
    with django_assert_max_num_queries(250):
        seed("--products", "2500")
    seed("--products", "10")

    assert Product.objects.count() == demo_count + 2510
    assert StockRecord.objects.count() == demo_count + 2510
    assert Product.objects.filter(public_id="PROD-SYN-0002510").exists()
