"""Unit costs: only Catalog managers and superusers change them, and every change is kept."""

from decimal import Decimal

import pytest
from django.contrib.auth.models import Group, Permission

from catalog.errors import CostChangeForbidden, CostInvalid
from catalog.models import Product, ProductCostChange
from catalog.roles import GROUP_PERMISSIONS, MANAGERS
from catalog.services import product_cost_set
from inventory.models import StockMovement
from inventory.services import stock_adjust
from shop.services import product_open
from techparts.actors import Actor
from techparts.roles import ensure_groups
from tests.factories import CategoryFactory, ProductFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def catalog_manager(db):
    ensure_groups(Group, Permission, GROUP_PERMISSIONS)
    user = UserFactory(username="buyer")
    user.groups.add(Group.objects.get(name=MANAGERS))
    return user


def history(product) -> list[tuple]:
    return [
        (c.old_cost, c.new_cost, c.changed_by_name, c.changed_by_id)
        for c in ProductCostChange.objects.filter(product=product).order_by("pk")
    ]


def test_a_catalog_manager_sets_a_cost_and_the_change_is_kept(catalog_manager):
    product = ProductFactory()

    change = product_cost_set(
        product=product, unit_cost=Decimal("12.50"), actor=Actor.staff(catalog_manager)
    )

    assert Product.objects.get(pk=product.pk).unit_cost == Decimal("12.50")
    assert product.unit_cost == Decimal("12.50")
    assert change.changed_at is not None
    assert history(product) == [(None, Decimal("12.50"), "buyer", catalog_manager.pk)]


def test_each_change_records_the_value_it_replaced(catalog_manager):
    product = ProductFactory()
    actor = Actor.staff(catalog_manager)
    superuser = UserFactory(username="root", is_superuser=True)

    product_cost_set(product=product, unit_cost=Decimal("10.00"), actor=actor)
    # A stale copy of the product still records the cost the database held.
    stale = Product.objects.get(pk=product.pk)
    product_cost_set(product=product, unit_cost=Decimal("11.00"), actor=actor)
    product_cost_set(product=stale, unit_cost=None, actor=Actor.staff(superuser))

    assert history(product) == [
        (None, Decimal("10.00"), "buyer", catalog_manager.pk),
        (Decimal("10.00"), Decimal("11.00"), "buyer", catalog_manager.pk),
        (Decimal("11.00"), None, "root", superuser.pk),
    ]
    assert Product.objects.get(pk=product.pk).unit_cost is None


def test_setting_the_same_cost_writes_nothing(catalog_manager):
    product = ProductFactory()
    actor = Actor.staff(catalog_manager)
    product_cost_set(product=product, unit_cost=Decimal("10.00"), actor=actor)

    assert product_cost_set(product=product, unit_cost=Decimal("10.0"), actor=actor) is None
    assert len(history(product)) == 1


@pytest.mark.parametrize("who", ["clerk", "manager", "staff", "inactive"])
def test_others_may_not_change_a_cost_and_nothing_changes(request, who):
    if who == "staff":
        user = UserFactory(username="staff")
    elif who == "inactive":
        ensure_groups(Group, Permission, GROUP_PERMISSIONS)
        user = UserFactory(username="gone", is_active=False)
        user.groups.add(Group.objects.get(name=MANAGERS))
    else:
        user = request.getfixturevalue(who)  # Inventory clerks and managers
    product = ProductFactory()

    with pytest.raises(CostChangeForbidden) as refused:
        product_cost_set(product=product, unit_cost=Decimal("1.00"), actor=Actor.staff(user))

    assert refused.value.status_code == 403
    assert "Catalog managers" in refused.value.message
    assert Product.objects.get(pk=product.pk).unit_cost is None
    assert history(product) == []


def test_an_api_key_may_not_change_a_cost(make_api_key):
    key, _ = make_api_key()
    with pytest.raises(CostChangeForbidden):
        product_cost_set(product=ProductFactory(), unit_cost=Decimal("1.00"), actor=Actor.api(key))


def test_the_system_may_set_costs_and_is_named_in_the_history():
    product = ProductFactory()
    product_cost_set(product=product, unit_cost=Decimal("3.00"), actor=Actor.system())
    assert history(product) == [(None, Decimal("3.00"), "system", None)]


@pytest.mark.parametrize(
    "cost, problem",
    [
        (Decimal("-0.01"), "between 0 and"),
        (Decimal("100000000.00"), "between 0 and"),
        (Decimal("1.005"), "two decimals"),
        (Decimal("NaN"), "amount"),
        (Decimal("Infinity"), "amount"),
        (1.5, "amount"),
    ],
)
def test_a_cost_the_column_cannot_hold_is_refused(catalog_manager, cost, problem):
    product = ProductFactory()

    with pytest.raises(CostInvalid) as refused:
        product_cost_set(product=product, unit_cost=cost, actor=Actor.staff(catalog_manager))

    assert problem in refused.value.message
    assert Product.objects.get(pk=product.pk).unit_cost is None
    assert history(product) == []


def test_movements_after_a_change_carry_the_new_cost_and_earlier_ones_keep_theirs(
    catalog_manager,
):
    product = ProductFactory(stock=10)
    actor = Actor.staff(catalog_manager)
    product_cost_set(product=product, unit_cost=Decimal("10.00"), actor=actor)
    stock_adjust(product_id=product.pk, delta=-1, actor=Actor.system(), reason_code="damaged")
    product_cost_set(product=product, unit_cost=Decimal("12.00"), actor=actor)
    stock_adjust(product_id=product.pk, delta=-1, actor=Actor.system(), reason_code="damaged")

    costs = list(
        StockMovement.objects.filter(product=product)
        .order_by("pk")
        .values_list("unit_cost", flat=True)
    )
    assert costs == [None, Decimal("10.00"), Decimal("12.00")]  # the opening had no cost yet


def test_the_catalog_managers_group_holds_the_cost_permission():
    group = Group.objects.get(name=MANAGERS)  # made by migration catalog/0006
    codenames = set(group.permissions.values_list("codename", flat=True))
    assert {"change_product_cost", "view_productcostchange", "change_product"} <= codenames
    assert (
        not {"delete_product", "delete_productcostchange", "change_productcostchange"} & codenames
    )


def test_a_products_first_cost_is_the_first_entry_of_its_history_and_values_its_opening():
    product = ProductFactory(stock=4, unit_cost=Decimal("80.00"))

    assert history(product) == [(None, Decimal("80.00"), "system", None)]
    [opening] = StockMovement.objects.filter(product=product)
    assert (opening.on_hand_delta, opening.unit_cost) == (4, Decimal("80.00"))


def test_a_first_cost_from_someone_who_may_not_set_costs_creates_nothing():
    clerk = UserFactory(username="clerk-without-cost-rights")

    with pytest.raises(CostChangeForbidden):
        product_open(
            actor=Actor.staff(clerk),
            stock=3,
            unit_cost=Decimal("5.00"),
            public_id="PROD-NO-COST-001",
            sku="SKU-NO-COST-001",
            name="No cost rights",
            category=CategoryFactory(),
            manufacturer="Acme",
            price=Decimal("9.00"),
        )

    assert not Product.objects.filter(sku="SKU-NO-COST-001").exists()
