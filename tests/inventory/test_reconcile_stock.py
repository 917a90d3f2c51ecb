import random
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from inventory.errors import InsufficientStock, InvalidQuantity, StockConflict
from inventory.models import StockMovement, StockRecord
from inventory.selectors import stock_mismatches
from inventory.services import (
    stock_adjust,
    stock_release,
    stock_reserve,
    stock_set,
    stock_ship,
)
from shop.demo import load_demo_catalog
from techparts.actors import Actor
from tests.factories import ProductFactory, UserFactory

pytestmark = pytest.mark.django_db


def reconcile() -> str:
    out = StringIO()
    call_command("reconcile_stock", stdout=out)
    return out.getvalue()


def random_stock_activity(products, *, seed: int, steps: int) -> dict[str, int]:
    """Run a random mix of every kind of stock change; return how many of each succeeded."""
    rng = random.Random(seed)
    clerk = Actor.staff(UserFactory(username="clerk"))
    done = {"correction": 0, "restock": 0, "reservation": 0, "release": 0, "shipment": 0}
    open_orders: list[dict[int, int]] = []
    for step in range(steps):
        action = rng.choice(["set", "adjust", "restock", "reserve", "release", "ship"])
        product = rng.choice(products)
        try:
            if action == "set":
                stock_set(product_id=product.pk, quantity=rng.randrange(0, 60), actor=clerk)
                done["correction"] += 1
            elif action == "adjust":
                stock_adjust(product_id=product.pk, delta=rng.randrange(-8, 9), actor=clerk)
                done["correction"] += 1
            elif action == "restock":
                stock_adjust(
                    product_id=product.pk,
                    delta=rng.randrange(1, 30),
                    actor=clerk,
                    kind=StockMovement.Kind.RESTOCK,
                )
                done["restock"] += 1
            elif action == "reserve":
                lines = {p.pk: rng.randrange(1, 6) for p in rng.sample(products, 2)}
                stock_reserve(quantities=lines, actor=Actor.system(), reference=f"ORD-{step}")
                open_orders.append(lines)
                done["reservation"] += 1
            elif open_orders:
                lines = open_orders.pop(rng.randrange(len(open_orders)))
                service = stock_release if action == "release" else stock_ship
                service(quantities=lines, actor=Actor.system(), reference=f"ORD-{step}")
                done["release" if action == "release" else "shipment"] += 1
        except (InsufficientStock, StockConflict, InvalidQuantity):
            pass  # refusals are part of the mix: they must leave no trace
    # These reservations stand for orders that were never created; reconcile_stock rightly
    # reports reserved units that no pending order holds, so give them back.
    for lines in open_orders:
        stock_release(quantities=lines, actor=Actor.system(), reference="END")
    return done


def test_reconcile_passes_on_the_demo_data():
    load_demo_catalog()

    assert StockMovement.objects.exists()
    assert stock_mismatches() == []


def test_reconcile_passes_on_fresh_stock():
    ProductFactory.create_batch(3, stock=10)

    assert "OK: all 3 stock records match their ledgers." in reconcile()


@pytest.mark.parametrize("seed", [1, 2])
def test_reconcile_passes_after_a_random_mix_of_stock_changes(seed):
    products = ProductFactory.create_batch(5, stock=20)

    done = random_stock_activity(products, seed=seed, steps=200)

    assert all(count > 0 for count in done.values()), done
    assert stock_mismatches() == []
    assert "OK: all 5 stock records match their ledgers." in reconcile()


def test_reconcile_fails_after_a_stock_record_is_tampered_with():
    products = ProductFactory.create_batch(4, stock=20)
    random_stock_activity(products, seed=7, steps=100)
    tampered = products[2]
    StockRecord.objects.filter(product=tampered).update(on_hand=999)

    out = StringIO()
    with pytest.raises(CommandError) as caught:
        call_command("reconcile_stock", stdout=out)

    assert caught.value.returncode == 1
    assert "1 stock record(s) do not match" in str(caught.value)
    lines = out.getvalue().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith(f"MISMATCH {tampered.sku}: ledger sums differ")
    assert "record on_hand=999" in lines[0]


def test_reconcile_reports_tampered_reserved_units():
    product = ProductFactory(stock=20)
    stock_reserve(quantities={product.pk: 5}, actor=Actor.system(), reference="ORD-1")
    StockRecord.objects.filter(product=product).update(reserved=0)

    [mismatch] = stock_mismatches()

    assert (mismatch.sku, mismatch.reserved, mismatch.ledger_reserved) == (product.sku, 0, 5)


def test_reconcile_reports_a_broken_chain_even_when_sums_agree():
    product = ProductFactory(stock=20)
    # A row inserted around the services: its delta and its "after" value disagree.
    StockMovement.objects.create(
        product=product,
        kind=StockMovement.Kind.CORRECTION,
        on_hand_delta=5,
        reserved_delta=0,
        on_hand_after=30,
        reserved_after=0,
        source="system",
        actor_name="system",
    )
    StockRecord.objects.filter(product=product).update(on_hand=25)

    [mismatch] = stock_mismatches()

    assert mismatch.problem == "last ledger row does not end at the stock record"


def append_around_the_services(product, *, kind: str, on_hand: int, reserved: int) -> None:
    """Append a ledger row and move the record with it, so sums, last row and versions agree."""
    record = StockRecord.objects.get(product=product)
    StockMovement.objects.create(
        product=product,
        kind=kind,
        on_hand_delta=on_hand,
        reserved_delta=reserved,
        on_hand_after=record.on_hand + on_hand,
        reserved_after=record.reserved + reserved,
        source="system",
        actor_name="system",
        version=record.version + 1,
    )
    StockRecord.objects.filter(product=product).update(
        on_hand=record.on_hand + on_hand,
        reserved=record.reserved + reserved,
        version=record.version + 1,
    )


@pytest.mark.parametrize(
    ("kind", "on_hand", "reserved"),
    [
        ("reservation", 5, 0),  # adds on-hand units instead of reserving them
        ("reservation", 0, -2),  # reserves downwards
        ("release", 0, 2),  # releases upwards
        ("shipment", -2, 0),  # ships units that were never reserved
        ("shipment", -2, -1),  # on-hand and reserved part ways
        ("restock", -3, 0),  # a restock that lowers stock
        ("correction", 0, 1),  # a correction that reserves
    ],
)
def test_reconcile_reports_a_ledger_row_that_does_not_do_what_its_kind_does(
    kind, on_hand, reserved
):
    product = ProductFactory(stock=20)
    stock_reserve(quantities={product.pk: 5}, actor=Actor.system(), reference="ORD-1")
    append_around_the_services(product, kind=kind, on_hand=on_hand, reserved=reserved)

    [mismatch] = stock_mismatches()

    assert (mismatch.sku, mismatch.problem) == (
        product.sku,
        "ledger rows do not move stock the way their kind does",
    )


def test_reconcile_accepts_rows_that_do_what_their_kind_does():
    product = ProductFactory(stock=20)
    stock_reserve(quantities={product.pk: 5}, actor=Actor.system(), reference="ORD-1")
    append_around_the_services(product, kind="shipment", on_hand=-2, reserved=-2)
    append_around_the_services(product, kind="restock", on_hand=4, reserved=0)

    assert stock_mismatches() == []


def legacy_row(product, *, on_hand_after: int, delta: int) -> None:
    """A ledger row as written before versions existed (no version)."""
    StockMovement.objects.create(
        product=product,
        kind="restock",
        on_hand_delta=delta,
        reserved_delta=0,
        on_hand_after=on_hand_after,
        reserved_after=0,
        source="system",
        actor_name="system",
    )


def test_reconcile_passes_when_versions_count_every_row_including_rows_without_one():
    # As after migration 0014: the rows written before versions existed have none, and the
    # record started at their count; the rows written since are numbered on from there.
    product = ProductFactory(stock=0)  # no opening row
    legacy_row(product, on_hand_after=4, delta=4)
    legacy_row(product, on_hand_after=5, delta=1)
    StockRecord.objects.filter(product=product).update(on_hand=5, version=2)

    stock_set(product_id=product.pk, quantity=6, actor=Actor.system())
    stock_set(product_id=product.pk, quantity=7, actor=Actor.system())

    assert list(
        StockMovement.objects.filter(product=product).order_by("id").values_list("version")
    ) == [(None,), (None,), (3,), (4,)]
    assert StockRecord.objects.get(product=product).version == 4
    assert stock_mismatches() == []


@pytest.mark.parametrize(
    ("row_version", "record_version"),
    [
        pytest.param(3, 3, id="a row skipped version 2"),
        pytest.param(2, 3, id="the record counts a row that does not exist"),
        pytest.param(2, 1, id="the record is behind its rows"),
        pytest.param(None, 1, id="the record did not count a row without a version"),
    ],
)
def test_reconcile_reports_versions_that_are_not_dense(row_version, record_version):
    product = ProductFactory(stock=20)  # the opening row: version 1
    StockMovement.objects.create(
        product=product,
        kind="restock",
        on_hand_delta=5,
        reserved_delta=0,
        on_hand_after=25,
        reserved_after=0,
        source="system",
        actor_name="system",
        version=row_version,
    )
    StockRecord.objects.filter(product=product).update(on_hand=25, version=record_version)

    out = StringIO()
    with pytest.raises(CommandError):
        call_command("reconcile_stock", stdout=out)

    [mismatch] = stock_mismatches()
    assert mismatch.sku == product.sku
    assert mismatch.problem.startswith(f"versions are not dense (record version={record_version};")
    assert out.getvalue().startswith(f"MISMATCH {product.sku}: versions are not dense")
