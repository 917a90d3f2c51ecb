import math
from decimal import Decimal

import pytest
from django.db import IntegrityError, connection, transaction

from catalog.errors import ProductInvalid
from catalog.models import Product
from catalog.services import product_bulk_create, product_create, product_update
from tests.factories import CategoryFactory, ProductFactory

pytestmark = pytest.mark.django_db


def new_product(**overrides) -> Product:
    fields = {
        "public_id": "PROD-NEW-001",
        "sku": "SKU-NEW-001",
        "name": "New part",
        "category": CategoryFactory(),
        "manufacturer": "Acme",
        "price": Decimal("10.00"),
        "specifications": {"memory": "8GB"},
        **overrides,
    }
    return product_create(**fields)


@pytest.mark.parametrize(
    "specifications",
    [
        [1, 2, 3],
        "text",
        42,
        {"a": {"b": 1}},
        {"ports": ["HDMI"]},
        {"memory": None},
        {"": "x"},
        {"   ": "x"},
        {"tdp": math.inf},
        {"tdp": math.nan},
        {"memory": "8GB\x00"},
        {"memory": "\ud800"},
        {"x" * 101: 1},
        {"notes": "x" * 501},
        {"cores": 2**53},
        {f"spec_{n}": n for n in range(51)},
    ],
    ids=repr,
)
def test_product_create_refuses_specifications_that_are_not_a_flat_object(specifications):
    with pytest.raises(ProductInvalid) as caught:
        new_product(specifications=specifications)

    assert caught.value.code == "validation_error"
    assert caught.value.status_code == 400
    assert "specifications" in caught.value.field_errors
    assert all(d.startswith("Field 'specifications': ") for d in caught.value.details)
    assert not Product.objects.filter(public_id="PROD-NEW-001").exists()


def test_product_create_accepts_text_numbers_and_booleans():
    specifications = {"memory": "24GB", "cores": 16384, "boost_ghz": 2.52, "rgb": True}

    product = new_product(specifications=specifications)

    product.refresh_from_db()
    assert product.specifications == specifications
    assert new_product(public_id="PROD-NEW-002", sku="SKU-NEW-002", specifications=None)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("currency", "EUR"),
        ("price", Decimal("-0.01")),
        ("price", Decimal("100000000.00")),
        ("public_id", "prod-1"),
        ("sku", "SKU 1"),
        ("name", ""),
    ],
)
def test_product_create_refuses_a_product_that_breaks_a_model_rule(field, value):
    with pytest.raises(ProductInvalid) as caught:
        new_product(**{field: value})

    assert field in caught.value.field_errors
    assert not Product.objects.exists()


def test_product_create_refuses_a_duplicate_sku_with_a_clear_error():
    ProductFactory(sku="SKU-NEW-001")

    with pytest.raises(ProductInvalid) as caught:
        new_product()

    assert caught.value.details == ["Field 'sku': Product with this SKU already exists."]


def test_product_update_refuses_bad_data_and_saves_nothing():
    product = ProductFactory(price=Decimal("5.00"))

    with pytest.raises(ProductInvalid):
        product_update(product=product, price=Decimal("6.00"), specifications=[1, 2, 3])
    with pytest.raises(ProductInvalid):
        product_update(product=product, currency="EUR")

    stored = Product.objects.get(pk=product.pk)
    assert (stored.price, stored.currency, stored.specifications) == (
        Decimal("5.00"),
        "USD",
        {"memory": "8GB"},
    )


def test_product_update_writes_only_the_fields_it_is_given():
    product = ProductFactory(name="Old name", price=Decimal("5.00"))
    stale = Product.objects.get(pk=product.pk)
    Product.objects.filter(pk=product.pk).update(name="Renamed meanwhile")

    product_update(product=stale, price=Decimal("7.50"), specifications={"memory": "16GB"})

    stored = Product.objects.get(pk=product.pk)
    assert (stored.name, stored.price, stored.specifications) == (
        "Renamed meanwhile",
        Decimal("7.50"),
        {"memory": "16GB"},
    )


def test_product_update_refuses_fields_it_does_not_own():
    product = ProductFactory()

    with pytest.raises(TypeError):
        product_update(product=product, created_at=None)


def test_product_bulk_create_validates_every_product():
    category = CategoryFactory()
    good = Product(
        public_id="PROD-BULK-001",
        sku="SKU-BULK-001",
        name="Bulk",
        category=category,
        manufacturer="Acme",
        price=Decimal("1.00"),
        specifications={"a": 1},
    )
    bad = Product(
        public_id="PROD-BULK-002",
        sku="SKU-BULK-002",
        name="Bulk",
        category=category,
        manufacturer="Acme",
        price=Decimal("1.00"),
        specifications={"a": [1]},
    )

    with pytest.raises(ProductInvalid):
        product_bulk_create(products=[good, bad])

    assert not Product.objects.exists()


# The database refuses what the model refuses, for writers that bypass the services.


def _raw_update(sql: str, params: list) -> None:
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, params)


@pytest.mark.parametrize("currency", ["EUR", "usd"])
def test_the_database_refuses_a_currency_other_than_usd(currency):
    product = ProductFactory()

    with pytest.raises(IntegrityError):
        _raw_update(
            "UPDATE catalog_product SET currency = %s WHERE id = %s", [currency, product.pk]
        )

    assert Product.objects.get(pk=product.pk).currency == "USD"


@pytest.mark.parametrize("raw", ["[1, 2, 3]", '"text"', "42", "null", "true"])
def test_the_database_refuses_specifications_that_are_not_an_object(raw):
    product = ProductFactory()

    with pytest.raises(IntegrityError):
        _raw_update(
            "UPDATE catalog_product SET specifications = %s WHERE id = %s", [raw, product.pk]
        )
    with pytest.raises(IntegrityError), transaction.atomic():
        Product.objects.filter(pk=product.pk).update(specifications=[1, 2, 3])

    assert Product.objects.get(pk=product.pk).specifications == {"memory": "8GB"}
