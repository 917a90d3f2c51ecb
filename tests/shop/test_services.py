from decimal import Decimal

import pytest

from catalog.errors import ProductInvalid
from catalog.models import Product
from inventory.errors import InvalidQuantity
from inventory.models import MAX_ON_HAND, StockMovement, StockRecord
from shop.services import product_bulk_open, product_open
from techparts.actors import Actor
from tests.factories import CategoryFactory

pytestmark = pytest.mark.django_db


def product_fields(**overrides):
    return {
        "public_id": "PROD-OPEN-001",
        "sku": "SKU-OPEN-001",
        "name": "Opened part",
        "category": CategoryFactory(),
        "manufacturer": "Acme",
        "price": Decimal("19.99"),
        **overrides,
    }


def test_product_open_creates_the_product_with_its_stock_record_and_ledger_row():
    product = product_open(
        actor=Actor.system(), stock=12, low_stock_threshold=3, **product_fields()
    )

    record = StockRecord.objects.get(product=product)
    assert (record.on_hand, record.reserved, record.low_stock_threshold) == (12, 0, 3)
    assert list(
        StockMovement.objects.filter(product=product).values_list("kind", "on_hand_delta")
    ) == [("correction", 12)]


def test_product_open_with_no_units_still_opens_an_empty_stock_record():
    product = product_open(actor=Actor.system(), **product_fields())

    record = StockRecord.objects.get(product=product)
    assert (record.on_hand, record.reserved) == (0, 0)
    assert not StockMovement.objects.filter(product=product).exists()


def test_product_open_refuses_a_bad_product_and_leaves_nothing():
    with pytest.raises(ProductInvalid):
        product_open(actor=Actor.system(), stock=5, **product_fields(public_id="bad id"))

    assert not Product.objects.exists()
    assert not StockRecord.objects.exists()


def test_product_open_refuses_a_bad_balance_and_leaves_no_product():
    with pytest.raises(InvalidQuantity):
        product_open(actor=Actor.system(), stock=MAX_ON_HAND + 1, **product_fields())

    assert not Product.objects.exists()
    assert not StockMovement.objects.exists()


def test_product_bulk_open_gives_each_product_its_own_balance():
    category = CategoryFactory()
    products = [
        Product(
            public_id=f"PROD-BULK-00{n}",
            sku=f"SKU-BULK-00{n}",
            name=f"Bulk part {n}",
            category=category,
            manufacturer="Acme",
            price=Decimal("5.00"),
        )
        for n in (1, 2)
    ]

    product_bulk_open(products=products, stock=[4, 0], actor=Actor.system())

    assert dict(
        StockRecord.objects.values_list("product__public_id", "on_hand").order_by("product")
    ) == {"PROD-BULK-001": 4, "PROD-BULK-002": 0}
