from decimal import Decimal

import pytest

from catalog.models import Product
from catalog.services import product_create
from inventory.errors import InsufficientStock, InvalidQuantity, StockConflict
from inventory.models import StockMovement, StockRecord
from inventory.selectors import stock_mismatches
from inventory.services import (
    BulkItem,
    stock_adjust,
    stock_bulk_apply,
    stock_open,
    stock_release,
    stock_reserve,
    stock_set,
    stock_ship,
    stock_threshold_set,
)
from techparts.actors import Actor
from techparts.database import bulk
from techparts.errors import NotFound
from tests.conftest import stock_of
from tests.factories import CategoryFactory, ProductFactory, UserFactory

pytestmark = pytest.mark.django_db

Kind = StockMovement.Kind


def ledger_of(product) -> list[StockMovement]:
    return list(StockMovement.objects.filter(product=product).order_by("id"))


def test_opening_stock_writes_one_opening_row():
    product = ProductFactory(stock=23)

    [row] = ledger_of(product)
    assert (row.kind, row.on_hand_delta, row.on_hand_after) == (Kind.CORRECTION, 23, 23)
    assert (row.source, row.actor_name) == ("system", "system")


def test_opening_zero_stock_writes_no_row():
    product = ProductFactory(stock=0)

    assert (stock_of(product).on_hand, stock_of(product).reserved) == (0, 0)
    assert ledger_of(product) == []


def test_stock_set_records_staff_correction_with_delta_and_after():
    product = ProductFactory(stock=23)
    clerk = UserFactory(username="clerk")

    change = stock_set(
        product_id=product.pk,
        quantity=45,
        actor=Actor.staff(clerk),
        reason="Cycle count",
        reference="COUNT-7",
    )

    assert (change.previous_on_hand, change.record.on_hand, change.change) == (23, 45, 22)
    assert (stock_of(product).on_hand, stock_of(product).reserved) == (45, 0)
    row = ledger_of(product)[-1]
    assert change.movement == row
    assert (row.kind, row.on_hand_delta, row.reserved_delta) == (Kind.CORRECTION, 22, 0)
    assert (row.on_hand_after, row.reserved_after) == (45, 0)
    assert (row.reason, row.reference) == ("Cycle count", "COUNT-7")
    assert (row.source, row.actor_user, row.actor_api_key, row.actor_name) == (
        "admin",
        clerk,
        None,
        "clerk",
    )


def test_stock_set_by_api_key_records_the_key_and_its_owner(make_api_key):
    product = ProductFactory(stock=5)
    key, _ = make_api_key(owner="erp_sync")

    stock_set(product_id=product.pk, quantity=2, actor=Actor.api(key), reason="Sync")

    row = ledger_of(product)[-1]
    assert (row.on_hand_delta, row.on_hand_after) == (-3, 2)
    assert (row.source, row.actor_api_key, row.actor_user, row.actor_name) == (
        "api",
        key,
        None,
        "erp_sync",
    )


def test_stock_set_to_the_same_quantity_writes_no_row():
    product = ProductFactory(stock=7)

    change = stock_set(product_id=product.pk, quantity=7, actor=Actor.system())

    assert change.movement is None
    assert change.change == 0
    assert len(ledger_of(product)) == 1


def test_restock_raises_stock_as_kind_restock():
    product = ProductFactory(stock=3)

    stock_set(product_id=product.pk, quantity=10, actor=Actor.system(), kind=Kind.RESTOCK)

    assert ledger_of(product)[-1].kind == Kind.RESTOCK


def test_restock_that_lowers_stock_is_refused_and_changes_nothing():
    product = ProductFactory(stock=10)

    with pytest.raises(StockConflict):
        stock_set(product_id=product.pk, quantity=4, actor=Actor.system(), kind=Kind.RESTOCK)

    assert (stock_of(product).on_hand, stock_of(product).reserved) == (10, 0)
    assert len(ledger_of(product)) == 1


def test_stock_set_with_stale_expected_quantity_is_refused_and_changes_nothing():
    product = ProductFactory(stock=10)

    with pytest.raises(StockConflict) as caught:
        stock_set(product_id=product.pk, quantity=4, actor=Actor.system(), expected_quantity=9)

    assert caught.value.extra == {"current_quantity": 10}
    assert (stock_of(product).on_hand, stock_of(product).reserved) == (10, 0)
    assert len(ledger_of(product)) == 1


def test_stock_set_below_reserved_is_refused_naming_reserved_units():
    product = ProductFactory(stock=10)
    stock_reserve(quantities={product.pk: 6}, actor=Actor.system(), reference="ORD-2024-1")

    with pytest.raises(StockConflict) as caught:
        stock_set(product_id=product.pk, quantity=5, actor=Actor.system())

    assert caught.value.extra == {"reserved_quantity": 6}
    assert "6 units are reserved" in caught.value.message
    assert (stock_of(product).on_hand, stock_of(product).reserved) == (10, 6)
    assert len(ledger_of(product)) == 2


@pytest.mark.parametrize("kind", [Kind.RESERVATION, Kind.RELEASE, Kind.SHIPMENT])
def test_stock_set_refuses_order_kinds(kind):
    product = ProductFactory(stock=10)

    with pytest.raises(InvalidQuantity):
        stock_set(product_id=product.pk, quantity=5, actor=Actor.system(), kind=kind)

    assert (stock_of(product).on_hand, stock_of(product).reserved) == (10, 0)


def test_negative_quantity_is_refused():
    product = ProductFactory(stock=10)

    with pytest.raises(InvalidQuantity):
        stock_set(product_id=product.pk, quantity=-1, actor=Actor.system())

    assert (stock_of(product).on_hand, stock_of(product).reserved) == (10, 0)


def test_stock_adjust_adds_a_signed_delta():
    product = ProductFactory(stock=10)

    stock_adjust(product_id=product.pk, delta=-4, actor=Actor.system(), reason="Damaged")
    stock_adjust(product_id=product.pk, delta=6, actor=Actor.system(), kind=Kind.RESTOCK)

    rows = ledger_of(product)[1:]
    assert [(r.kind, r.on_hand_delta, r.on_hand_after) for r in rows] == [
        (Kind.CORRECTION, -4, 6),
        (Kind.RESTOCK, 6, 12),
    ]
    assert (stock_of(product).on_hand, stock_of(product).reserved) == (12, 0)


def test_stock_adjust_below_zero_is_refused():
    product = ProductFactory(stock=3)

    with pytest.raises(InvalidQuantity):
        stock_adjust(product_id=product.pk, delta=-4, actor=Actor.system())

    assert (stock_of(product).on_hand, stock_of(product).reserved) == (3, 0)
    assert len(ledger_of(product)) == 1


def test_stock_adjust_into_reserved_units_is_refused():
    product = ProductFactory(stock=5)
    stock_reserve(quantities={product.pk: 4}, actor=Actor.system(), reference="ORD-2024-1")

    with pytest.raises(StockConflict):
        stock_adjust(product_id=product.pk, delta=-2, actor=Actor.system())

    assert (stock_of(product).on_hand, stock_of(product).reserved) == (5, 4)


def test_unknown_product_is_not_found():
    with pytest.raises(NotFound):
        stock_set(product_id=987654, quantity=1, actor=Actor.system())


def test_reserve_release_and_ship_write_one_row_per_product():
    gpu, cpu = ProductFactory(stock=10), ProductFactory(stock=4)
    actor = Actor.system()

    reserved = stock_reserve(
        quantities={gpu.pk: 3, cpu.pk: 4}, actor=actor, reference="ORD-2024-00001"
    )
    released = stock_release(quantities={gpu.pk: 1}, actor=actor, reference="ORD-2024-00001")
    shipped = stock_ship(quantities={gpu.pk: 2, cpu.pk: 4}, actor=actor, reference="ORD-2024-00001")

    assert [(m.product_id, m.kind, m.on_hand_delta, m.reserved_delta) for m in reserved] == [
        (gpu.pk, Kind.RESERVATION, 0, 3),
        (cpu.pk, Kind.RESERVATION, 0, 4),
    ]
    assert [(m.kind, m.reserved_delta, m.reserved_after) for m in released] == [
        (Kind.RELEASE, -1, 2)
    ]
    assert [(m.product_id, m.on_hand_delta, m.reserved_delta) for m in shipped] == [
        (gpu.pk, -2, -2),
        (cpu.pk, -4, -4),
    ]
    assert (stock_of(gpu).on_hand, stock_of(gpu).reserved) == (8, 0)
    assert (stock_of(cpu).on_hand, stock_of(cpu).reserved) == (0, 0)
    gpu_rows = ledger_of(gpu)
    assert [r.kind for r in gpu_rows] == [
        Kind.CORRECTION,
        Kind.RESERVATION,
        Kind.RELEASE,
        Kind.SHIPMENT,
    ]
    assert {r.reference for r in gpu_rows[1:]} == {"ORD-2024-00001"}
    assert [(r.on_hand_after, r.reserved_after) for r in gpu_rows] == [
        (10, 0),
        (10, 3),
        (10, 2),
        (8, 0),
    ]


def test_reservation_short_on_any_line_reserves_nothing_and_lists_every_shortfall():
    gpu, cpu, ram = (ProductFactory(stock=n) for n in (5, 1, 10))

    with pytest.raises(InsufficientStock) as caught:
        stock_reserve(
            quantities={gpu.pk: 10, cpu.pk: 2, ram.pk: 1},
            actor=Actor.system(),
            reference="ORD-2024-2",
        )

    assert caught.value.extra == {"available_quantity": 5}
    assert caught.value.message == (
        f"Product '{gpu.public_id}' has only 5 units available. Requested: 10"
    )
    assert len(caught.value.details) == 2
    assert [(stock_of(p).on_hand, stock_of(p).reserved) for p in (gpu, cpu, ram)] == [
        (5, 0),
        (1, 0),
        (10, 0),
    ]
    assert StockMovement.objects.filter(kind=Kind.RESERVATION).count() == 0


@pytest.mark.parametrize("service", [stock_release, stock_ship])
def test_releasing_or_shipping_more_than_reserved_is_refused(service):
    product = ProductFactory(stock=10)
    stock_reserve(quantities={product.pk: 2}, actor=Actor.system(), reference="ORD-2024-3")

    with pytest.raises(StockConflict) as caught:
        service(quantities={product.pk: 3}, actor=Actor.system(), reference="ORD-2024-3")

    assert caught.value.extra == {"reserved_quantity": 2}
    assert (stock_of(product).on_hand, stock_of(product).reserved) == (10, 2)
    assert len(ledger_of(product)) == 2


@pytest.mark.parametrize("service", [stock_reserve, stock_release, stock_ship])
def test_non_positive_quantities_are_refused(service):
    product = ProductFactory(stock=10)

    with pytest.raises(InvalidQuantity):
        service(quantities={product.pk: 0}, actor=Actor.system(), reference="ORD-2024-4")

    assert len(ledger_of(product)) == 1


def test_threshold_change_leaves_counts_and_ledger_alone_and_moves_updated_at():
    product = ProductFactory(stock=10)
    before = StockRecord.objects.get(product=product).updated_at

    stock_threshold_set(product_id=product.pk, low_stock_threshold=12)

    record = StockRecord.objects.get(product=product)
    assert (record.low_stock_threshold, record.on_hand, record.reserved) == (12, 10, 0)
    assert record.is_low
    assert record.updated_at > before  # low_stock is part of what readers see
    assert len(ledger_of(product)) == 1


# One on-hand range, 0 to MAX_ON_HAND, whatever the path.


def test_a_second_large_adjustment_beyond_the_maximum_is_refused_and_changes_nothing():
    product = ProductFactory(sku="SKU-BIG-1", stock=13)
    clerk = Actor.staff(UserFactory(username="clerk"))
    stock_adjust(product_id=product.pk, delta=9986, actor=clerk)

    with pytest.raises(InvalidQuantity) as caught:
        stock_adjust(product_id=product.pk, delta=9999, actor=clerk)

    assert caught.value.code == "validation_error" and caught.value.status_code == 400
    assert caught.value.message == (
        "Cannot change the on-hand count of 'SKU-BIG-1' from 9999 to 19998 (+9999): "
        "it must stay between 0 and 9999 units. Nothing was changed."
    )
    assert (stock_of(product).on_hand, stock_of(product).reserved) == (9999, 0)
    assert len(ledger_of(product)) == 2


@pytest.mark.parametrize(
    "change",
    [
        lambda p, actor: stock_set(product_id=p.pk, quantity=10_000, actor=actor),
        lambda p, actor: stock_set(
            product_id=p.pk, quantity=10_000, actor=actor, kind=Kind.RESTOCK
        ),
        lambda p, actor: stock_adjust(product_id=p.pk, delta=9990, actor=actor),
        lambda p, actor: stock_adjust(product_id=p.pk, delta=9990, actor=actor, kind=Kind.RESTOCK),
    ],
    ids=["set", "set as restock", "adjust", "adjust as restock"],
)
def test_no_stock_service_takes_on_hand_beyond_the_maximum(change):
    product = ProductFactory(stock=10)
    stock_reserve(quantities={product.pk: 4}, actor=Actor.system(), reference="ORD-1")

    with pytest.raises(InvalidQuantity, match="must stay between 0 and 9999 units"):
        change(product, Actor.system())

    assert (stock_of(product).on_hand, stock_of(product).reserved) == (10, 4)
    assert len(ledger_of(product)) == 2


def test_exactly_the_maximum_is_accepted():
    product = ProductFactory(stock=10)

    stock_set(product_id=product.pk, quantity=9999, actor=Actor.system())

    assert (stock_of(product).on_hand, stock_of(product).reserved) == (9999, 0)


@pytest.mark.parametrize("balance", [10_000, -1])
def test_an_opening_balance_outside_the_range_opens_nothing(balance):
    product = product_create(
        public_id="PROD-NEW-001",
        sku="SKU-NEW-001",
        name="New part",
        category=CategoryFactory(),
        manufacturer="Acme",
        price=Decimal("1.00"),
    )

    with pytest.raises(InvalidQuantity, match="must stay between 0 and 9999 units"):
        stock_open(balances={product: balance}, actor=Actor.system())

    assert not StockRecord.objects.filter(product=product).exists()
    assert ledger_of(product) == []


def test_balances_beyond_one_statement_are_each_opened_and_ledgered_in_order(monkeypatch):
    # Ledger rows are written many to a statement; three statements of two rows here.
    monkeypatch.setattr(bulk, "MAX_ROWS_PER_STATEMENT", 2)
    category = CategoryFactory()
    balances = {
        product_create(
            public_id=f"PROD-BATCH-{n:03d}",
            sku=f"SKU-BATCH-{n:03d}",
            name=f"Batch part {n}",
            category=category,
            manufacturer="Acme",
            price=Decimal("1.00"),
        ): balance
        for n, balance in enumerate([3, 0, 7, 1, 9999, 2, 5])
    }

    records = stock_open(balances=balances, actor=Actor.system(), reason="Opening count")

    assert [(r.product.public_id, r.on_hand, r.reserved) for r in records] == [
        (product.public_id, balance, 0) for product, balance in balances.items()
    ]
    rows = StockMovement.objects.order_by("id")
    assert [(r.product.public_id, r.kind, r.on_hand_delta, r.on_hand_after) for r in rows] == [
        (product.public_id, Kind.CORRECTION, balance, balance)
        for product, balance in balances.items()
        if balance
    ]
    assert {(r.reason, r.source, r.actor_name) for r in rows} == {
        ("Opening count", "system", "system")
    }
    assert [stock_of(product).on_hand for product in balances] == list(balances.values())
    assert stock_mismatches() == []


def test_every_ledger_row_records_the_unit_cost_of_its_moment():
    product = ProductFactory(stock=10, unit_cost=Decimal("12.50"))
    uncosted = ProductFactory(stock=10)
    actor = Actor.system()

    stock_set(product_id=product.pk, quantity=8, actor=actor, reason_code="damaged")
    Product.objects.filter(pk=product.pk).update(unit_cost=Decimal("13.00"))
    stock_bulk_apply(items=[BulkItem(sku=product.sku, adjust_by=2)], actor=actor)
    stock_reserve(quantities={product.pk: 1, uncosted.pk: 1}, actor=actor, reference="ORD-1")

    assert [row.unit_cost for row in ledger_of(product)] == [
        Decimal("12.50"),  # the opening balance
        Decimal("12.50"),
        Decimal("13.00"),
        Decimal("13.00"),
    ]
    # Unknown stays unknown: no cost is never written as 0.
    assert [row.unit_cost for row in ledger_of(uncosted)] == [None, None]
