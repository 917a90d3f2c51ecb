"""stock_bulk_apply(dry_run=True): the answer a real call would give now, with nothing written."""

import dataclasses
import threading

import pytest
from django.db import connection, connections, transaction
from django.db.utils import OperationalError

from inventory.errors import BulkRejected
from inventory.models import StockMovement, StockRecord
from inventory.services import BulkItem, stock_bulk_apply, stock_reserve
from techparts.actors import Actor
from techparts.events.models import Event
from tests.factories import UserFactory
from tests.inventory.test_bulk import on_hand, open_products

pytestmark = pytest.mark.django_db


def database_state() -> tuple:
    """Every stock record's counts and time, the ledger's and the outbox's row counts."""
    return (
        list(StockRecord.objects.order_by("pk").values_list("on_hand", "reserved", "updated_at")),
        StockMovement.objects.count(),
        Event.objects.count(),
    )


def mixed_items(products) -> list[BulkItem]:
    """One item of every outcome: set, adjust, unchanged, and each kind of failure."""
    return [
        BulkItem(sku=products[0].sku, quantity=7, reason_code="cycle_count", reason="bin 1"),
        BulkItem(sku=products[1].sku, adjust_by=-3, reason_code="damaged"),
        BulkItem(sku=products[2].sku, quantity=10),  # unchanged
        BulkItem(sku="NO-SUCH-SKU", quantity=1),  # not found
        BulkItem(sku=products[3].sku, quantity=1),  # below the 4 reserved units
        BulkItem(sku=products[4].sku, adjust_by=-11),  # out of range
        BulkItem(sku=products[5].sku, malformed="row 8: adjust_by 'abc' is not a whole number"),
        BulkItem(sku=products[0].sku, quantity=3),  # repeated SKU
        BulkItem(sku=products[5].sku, quantity=5, reason_code="received"),  # restock lowering
    ]


def test_a_dry_run_answers_what_the_real_call_then_does_and_changes_nothing():
    products = open_products(6)
    stock_reserve(quantities={products[3].pk: 4}, actor=Actor.system(), reference="ORD-1")
    actor = Actor.staff(UserFactory(username="clerk"))
    items = mixed_items(products)
    before = database_state()

    preview = stock_bulk_apply(
        items=items,
        actor=actor,
        reference="CSV-1",
        error_policy="reject_failed_items",
        dry_run=True,
    )

    assert database_state() == before
    assert preview.adjustment_group is None
    assert [o.outcome for o in preview.outcomes] == [
        "applied",
        "applied",
        "unchanged",
        *["failed"] * 6,
    ]
    real = stock_bulk_apply(
        items=items, actor=actor, reference="CSV-1", error_policy="reject_failed_items"
    )
    assert real.outcomes == preview.outcomes
    assert dataclasses.replace(real, adjustment_group=None) == preview
    assert real.adjustment_group is not None
    assert on_hand(products[:2]) == [7, 7]
    assert StockMovement.objects.filter(adjustment_group=real.adjustment_group).count() == 2


def test_a_dry_run_under_all_or_nothing_is_refused_as_the_real_call_is():
    products = open_products(3)
    items = [
        BulkItem(sku=products[0].sku, quantity=1),
        BulkItem(sku=products[1].sku, adjust_by=-99),
    ]
    before = database_state()

    with pytest.raises(BulkRejected) as dry:
        stock_bulk_apply(items=items, actor=Actor.system(), dry_run=True)
    with pytest.raises(BulkRejected) as real:
        stock_bulk_apply(items=items, actor=Actor.system())

    assert dry.value.as_body() == real.value.as_body()
    assert dry.value.message == "1 of 2 items failed; nothing was applied."
    assert database_state() == before


def test_a_dry_run_that_would_apply_everything_writes_nothing_and_costs_one_read(
    django_assert_num_queries,
):
    products = open_products(1000)
    items = [BulkItem(sku=p.sku, adjust_by=2, reason="recount") for p in products]
    before = database_state()

    with django_assert_num_queries(1):  # the locking read; no UPDATE, ledger or outbox INSERT
        result = stock_bulk_apply(items=items, actor=Actor.system(), dry_run=True)

    assert result.count("applied") == 1000
    assert (result.outcomes[0].previous_quantity, result.outcomes[0].quantity) == (10, 12)
    assert database_state() == before


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_dry_run_holds_the_same_row_locks_as_the_real_call_until_its_transaction_ends():
    products = open_products(2)
    items = [BulkItem(sku=products[0].sku, adjust_by=1)]
    outcome: list[str] = []

    def lock_from_another_connection() -> None:
        try:
            with transaction.atomic():
                list(
                    StockRecord.objects.filter(product=products[0])
                    .select_for_update(nowait=True)
                    .values_list("pk")
                )
            outcome.append("locked")
        except OperationalError:
            outcome.append("busy")
        finally:
            connections.close_all()

    with transaction.atomic():
        stock_bulk_apply(items=items, actor=Actor.system(), dry_run=True)
        other = threading.Thread(target=lock_from_another_connection)
        other.start()
        other.join(timeout=30)
    after = threading.Thread(target=lock_from_another_connection)
    after.start()
    after.join(timeout=30)

    assert outcome == ["busy", "locked"]
    assert on_hand(products) == [10, 10]
    assert connection.vendor == "postgresql"
