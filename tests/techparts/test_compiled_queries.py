"""Hot reads compiled once (CompiledValues) and lists bound as one value (AnyOf)."""

from decimal import Decimal

import pytest
from django.db.models import F

from catalog.models import Product
from techparts.database.compiled import CompiledValues
from techparts.database.lookups import AnyOf
from tests.factories import ProductFactory

pytestmark = pytest.mark.django_db

BY_SKU = CompiledValues(
    lambda sku: Product.objects.filter(sku=sku).values("public_id", "price", "created_at"),
    "sku",
)
BY_IDS = CompiledValues(
    lambda ids, name: (
        Product.objects.filter(AnyOf(F("id"), ids), name=name)
        .order_by("id")
        .values_list("id", "specifications")
    ),
    "ids",
    "name",
    bind={"ids": AnyOf.bind},
)


def test_compiled_rows_are_the_orms_rows_for_each_new_value():
    products = ProductFactory.create_batch(3, price=Decimal("12.50"))

    for product in [*products, products[0]]:
        expected = list(
            Product.objects.filter(sku=product.sku).values("public_id", "price", "created_at")
        )
        assert BY_SKU.rows(sku=product.sku) == expected
        assert isinstance(BY_SKU.rows(sku=product.sku)[0]["price"], Decimal)
    assert BY_SKU.rows(sku="no-such-sku") == []


def test_a_compiled_values_list_binds_a_list_and_a_value_each_run():
    named = ProductFactory.create_batch(3, name="Twin", specifications={"bus": "PCIe 5"})
    ProductFactory(name="Other")
    ids = [product.id for product in named]

    assert BY_IDS.rows(ids=ids, name="Twin") == [(i, {"bus": "PCIe 5"}) for i in ids]
    assert BY_IDS.rows(ids=ids[:1], name="Twin") == [(ids[0], {"bus": "PCIe 5"})]
    assert BY_IDS.rows(ids=ids, name="Other") == []
    assert BY_IDS.rows(ids=[], name="Twin") == []


def test_integer_values_are_bound_to_integer_fields():
    by_id = CompiledValues(
        lambda pk: Product.objects.filter(pk=pk).values("sku"), "pk", integers=("pk",)
    )
    first, second = ProductFactory.create_batch(2)

    assert by_id.rows(pk=first.pk) == [{"sku": first.sku}]
    assert by_id.rows(pk=second.pk) == [{"sku": second.sku}]
    assert by_id.rows(pk=10**9) == []


def test_a_value_the_sql_transforms_is_refused_at_compile_time():
    contains = CompiledValues(
        lambda text: Product.objects.filter(name__icontains=text).values("id"), "text"
    )

    with pytest.raises(ValueError, match="transformed"):
        contains.rows(text="gpu")


def test_a_value_the_query_ignores_is_refused_at_compile_time():
    ignores = CompiledValues(lambda sku: Product.objects.values("id"), "sku")

    with pytest.raises(ValueError, match="not found"):
        ignores.rows(sku="x")


def test_rows_need_exactly_the_named_values():
    with pytest.raises(TypeError):
        BY_SKU.rows(public_id="x")


def test_any_of_matches_exactly_the_listed_ids_however_many():
    products = ProductFactory.create_batch(4)
    wanted = [products[0].id, products[2].id]
    # Far more than SQLite's 999-parameter limit of old: one parameter whatever the length.
    padded = wanted + list(range(10**6, 10**6 + 5000))

    found = Product.objects.filter(AnyOf(F("id"), padded)).values_list("id", flat=True)

    assert sorted(found) == wanted
    assert not Product.objects.filter(AnyOf(F("id"), [])).exists()


def test_any_of_refuses_what_is_not_an_integer():
    with pytest.raises(ValueError):
        list(Product.objects.filter(AnyOf(F("id"), ["1 OR 1=1"])))
