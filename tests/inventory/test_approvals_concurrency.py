"""Two-person approval under real concurrency (PostgreSQL, each thread on its own connection):
two managers deciding at once, a decision racing an order, the same count sent twice at once."""

import threading
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

import pytest
from django.db import connection

from inventory.approvals import APPROVE, REJECT, approval_decide, approval_policy
from inventory.errors import InsufficientStock, StockConflict
from inventory.models import ApprovalRequest
from inventory.selectors import reserved_mismatches, stock_mismatches
from inventory.services import stock_adjust, stock_reserve, stock_set
from techparts.actors import Actor
from tests.conftest import stock_of
from tests.factories import ProductFactory, UserFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def at_once(*calls) -> list:
    """Run every call at the same moment, each in its own thread; return results or errors."""
    barrier = threading.Barrier(len(calls))

    def run(call):
        try:
            barrier.wait(timeout=30)
            return call()
        except (StockConflict, InsufficientStock) as refusal:
            return refusal
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        return [future.result(timeout=60) for future in [pool.submit(run, c) for c in calls]]


@pytest.fixture
def policy_20_units(db):
    policy = approval_policy()
    policy.min_units = 20
    policy.save()


@pytest.fixture
def managers(manager):
    second = UserFactory(username="manager2")
    second.groups.add(*manager.groups.all())
    return manager, second


def waiting_decrease(product, clerk, units=25) -> ApprovalRequest:
    return stock_adjust(
        product_id=product.pk,
        delta=-units,
        actor=Actor.staff(clerk),
        reason_code="damaged",
        approvals=True,
    ).approval_request


def counts(product) -> tuple[int, int]:
    record = stock_of(product)
    return record.on_hand, record.reserved


def test_two_managers_deciding_at_once_decide_once(policy_20_units, clerk, managers):
    product = ProductFactory(stock=100, unit_cost=Decimal("10.00"))
    request = waiting_decrease(product, clerk)

    results = at_once(
        lambda: approval_decide(request_id=request.pk, decision=APPROVE, user=managers[0]),
        lambda: approval_decide(request_id=request.pk, decision=REJECT, user=managers[1]),
    )

    refused = [r for r in results if isinstance(r, StockConflict)]
    decided = [r for r in results if isinstance(r, ApprovalRequest)]
    assert len(refused) == 1 and len(decided) == 1
    assert "was already" in refused[0].message
    request.refresh_from_db()
    assert request.status == decided[0].status
    # The hold was released once; the change applied at most once.
    assert counts(product) == ((75, 0) if request.status == "approved" else (100, 0))
    assert stock_mismatches() == [] and reserved_mismatches(promised={}) == []


def test_an_approval_racing_an_order_never_sells_the_held_units(policy_20_units, clerk, manager):
    product = ProductFactory(stock=100)
    request = waiting_decrease(product, clerk, units=90)

    results = at_once(
        lambda: approval_decide(request_id=request.pk, decision=APPROVE, user=manager),
        lambda: stock_reserve(quantities={product.pk: 10}, actor=Actor.system(), reference="O-1"),
        lambda: stock_reserve(quantities={product.pk: 5}, actor=Actor.system(), reference="O-2"),
    )

    approved, *orders = results
    assert isinstance(approved, ApprovalRequest), results
    # Only the 10 units never held could be ordered, whichever came first: one order fits.
    fitted = [units for units, r in zip((10, 5), orders, strict=True) if isinstance(r, list)]
    assert len(fitted) == 1, orders
    assert counts(product) == (10, fitted[0])
    assert stock_mismatches() == []


def test_the_same_count_sent_twice_at_once_opens_one_request(policy_20_units, clerk):
    product = ProductFactory(stock=100)

    def send():
        return stock_set(
            product_id=product.pk,
            quantity=140,
            actor=Actor.staff(clerk),
            reason_code="returned",
            approvals=True,
        ).approval_request.pk

    first, second = at_once(send, send)

    assert first == second
    assert ApprovalRequest.objects.count() == 1
