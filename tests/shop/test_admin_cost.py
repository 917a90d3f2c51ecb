"""The product page's unit cost: editable by Catalog managers and superusers, history shown."""

import re
from decimal import Decimal

import pytest
from django.contrib.auth.models import Group, Permission
from django.test import Client

from catalog.models import Product, ProductCostChange
from catalog.roles import GROUP_PERMISSIONS, MANAGERS
from catalog.services import product_cost_set
from techparts.actors import Actor
from techparts.roles import ensure_groups
from tests.factories import ProductFactory, UserFactory
from tests.shop.test_admin import errors_of, product_form

pytestmark = pytest.mark.django_db


@pytest.fixture
def catalog_manager(db):
    ensure_groups(Group, Permission, GROUP_PERMISSIONS)
    user = UserFactory(username="buyer")
    user.groups.add(Group.objects.get(name=MANAGERS))
    return user


@pytest.fixture
def catalog_editor(db):
    """Staff who may edit products but not their cost."""
    user = UserFactory(username="editor")
    user.user_permissions.add(
        *Permission.objects.filter(codename__in=["view_product", "change_product"])
    )
    return user


def client_as(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def edit_form(product, **overrides) -> dict[str, str]:
    return product_form(
        product.category,
        public_id=product.public_id,
        sku=product.sku,
        name=product.name,
        **{
            "stock-TOTAL_FORMS": "1",
            "stock-INITIAL_FORMS": "1",
            "stock-0-id": str(product.stock.pk),
            "stock-0-product": str(product.pk),
            **overrides,
        },
    )


def change_url(product) -> str:
    return f"/admin/catalog/product/{product.pk}/change/"


def test_a_catalog_manager_changes_the_cost_and_the_change_is_kept(catalog_manager):
    product = ProductFactory()
    client = client_as(catalog_manager)
    assert 'name="unit_cost"' in client.get(change_url(product)).content.decode()

    response = client.post(change_url(product), edit_form(product, unit_cost="42.10"))

    assert response.status_code == 302, errors_of(response)
    assert Product.objects.get(pk=product.pk).unit_cost == Decimal("42.10")
    change = ProductCostChange.objects.get(product=product)
    assert (change.old_cost, change.new_cost, change.changed_by) == (
        None,
        Decimal("42.10"),
        catalog_manager,
    )


def test_saving_other_fields_leaves_the_cost_and_its_history_alone(catalog_manager):
    product = ProductFactory()
    product_cost_set(product=product, unit_cost=Decimal("5.00"), actor=Actor.system())

    response = client_as(catalog_manager).post(
        change_url(product), edit_form(product, unit_cost="5.00", price="99.00")
    )

    assert response.status_code == 302, errors_of(response)
    assert ProductCostChange.objects.filter(product=product).count() == 1


def test_others_see_the_cost_read_only_and_cannot_change_it(catalog_editor):
    product = ProductFactory()
    product_cost_set(product=product, unit_cost=Decimal("7.25"), actor=Actor.system())
    client = client_as(catalog_editor)

    page = client.get(change_url(product)).content.decode()
    assert 'name="unit_cost"' not in page
    assert re.search(r'field-unit_cost.*?<div class="readonly">7.25</div>', page, re.S)

    response = client.post(change_url(product), edit_form(product, unit_cost="0.01", price="1.00"))

    assert response.status_code == 302, errors_of(response)
    stored = Product.objects.get(pk=product.pk)
    assert (stored.price, stored.unit_cost) == (Decimal("1.00"), Decimal("7.25"))
    assert ProductCostChange.objects.filter(product=product).count() == 1


def test_a_bad_cost_is_a_form_error_and_nothing_is_saved(catalog_manager):
    product = ProductFactory()

    response = client_as(catalog_manager).post(
        change_url(product), edit_form(product, unit_cost="-3", price="1.00")
    )

    assert "unit_cost" in errors_of(response)
    assert Product.objects.get(pk=product.pk).price == Decimal("100.00")
    assert not ProductCostChange.objects.filter(product=product).exists()


def test_a_product_added_with_a_cost_starts_its_history(catalog_manager):
    category = ProductFactory().category

    response = client_as(catalog_manager).post(
        "/admin/catalog/product/add/", product_form(category, unit_cost="9.99")
    )

    assert response.status_code == 302, errors_of(response)
    product = Product.objects.get(public_id="PROD-NEW-001")
    assert product.unit_cost == Decimal("9.99")
    assert [(c.old_cost, c.new_cost) for c in product.cost_changes.all()] == [
        (None, Decimal("9.99"))
    ]


def test_the_product_page_shows_the_cost_history_newest_first(catalog_editor):
    product = ProductFactory()
    for cost in ("1.00", "2.50", "1234.00"):
        product_cost_set(product=product, unit_cost=Decimal(cost), actor=Actor.system())

    page = client_as(catalog_editor).get(change_url(product)).content.decode()

    rows = re.findall(r'<tr class="cost-change">(.*?)</tr>', page, re.S)
    cells = [re.findall(r"<td>(.*?)</td>", row)[1:] for row in rows]
    assert cells == [
        ["system", "2.50", "1,234.00"],
        ["system", "1.00", "2.50"],
        ["system", "unknown", "1.00"],
    ]
