"""reconcile_stock also checks reserved units against the units on pending orders."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from inventory.approvals import approval_policy
from inventory.services import stock_adjust
from orders.services import order_cancel, order_deliver, order_ship
from techparts.actors import Actor
from tests.factories import ProductFactory

pytestmark = pytest.mark.django_db


def reconcile() -> str:
    out = StringIO()
    call_command("reconcile_stock", stdout=out)
    return out.getvalue()


def reconcile_failure() -> tuple[CommandError, list[str]]:
    out = StringIO()
    with pytest.raises(CommandError) as caught:
        call_command("reconcile_stock", stdout=out)
    return caught.value, out.getvalue().splitlines()


def raw_sql(sql: str, params: list) -> None:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


@pytest.fixture
def orders(place_order):
    """Orders in every status over two products: gpu 4 + 1 pending, cpu 2 pending."""
    gpu = ProductFactory(sku="GPU-RECON-1", stock=20)
    cpu = ProductFactory(sku="CPU-RECON-1", stock=20)
    pending = place_order((gpu, 4), (cpu, 2))
    also_pending = place_order((gpu, 1))
    order_cancel(order=place_order((gpu, 3)), actor=Actor.system())
    order_ship(order=place_order((cpu, 5)), actor=Actor.system())
    order_deliver(
        order=order_ship(order=place_order((gpu, 2)), actor=Actor.system()),
        actor=Actor.system(),
    )
    return gpu, cpu, pending, also_pending


def test_reconcile_passes_when_reserved_units_are_those_of_pending_orders(orders):
    assert reconcile().splitlines() == [
        "OK: all 2 stock records match their ledgers.",
        "OK: reserved units match the units on pending orders and approval holds.",
    ]


def test_units_held_by_a_waiting_correction_reconcile_and_their_release_too(orders, clerk):
    gpu = orders[0]
    policy = approval_policy()
    policy.min_units = 10
    policy.save()
    request = stock_adjust(
        product_id=gpu.pk,
        delta=-12,
        actor=Actor.staff(clerk),
        reason_code="damaged",
        approvals=True,
    ).approval_request
    assert request.held == 12
    assert reconcile().splitlines()[-1] == (
        "OK: reserved units match the units on pending orders and approval holds."
    )
    raw_sql(
        "UPDATE inventory_approvalrequest SET status = 'rejected', decided_at = %s", ["2026-01-01"]
    )

    error, lines = reconcile_failure()

    assert lines == [
        "MISMATCH GPU-RECON-1: reserved units differ from the units on open orders "
        "(record reserved=17; open orders hold 5)",
    ]


@pytest.mark.parametrize("status", ["delivered", "shipped", "cancelled"])
def test_a_raw_sql_status_change_of_a_pending_order_fails_naming_its_products(orders, status):
    gpu, cpu, pending, _ = orders
    raw_sql("UPDATE orders_order SET status = %s WHERE id = %s", [status, pending.pk])

    error, lines = reconcile_failure()

    assert error.returncode == 1
    assert str(error) == "2 stock record(s) do not match their ledgers or pending orders."
    assert lines == [
        "MISMATCH CPU-RECON-1: reserved units differ from the units on open orders "
        "(record reserved=2; open orders hold 0)",
        "MISMATCH GPU-RECON-1: reserved units differ from the units on open orders "
        "(record reserved=5; open orders hold 1)",
    ]


def test_a_cancelled_order_set_back_to_pending_by_raw_sql_is_reported(orders):
    gpu = orders[0]
    raw_sql(
        "UPDATE orders_order SET status = 'pending' WHERE status = 'cancelled'",
        [],
    )

    _, lines = reconcile_failure()

    assert lines == [
        f"MISMATCH {gpu.sku}: reserved units differ from the units on open orders "
        "(record reserved=5; open orders hold 8)"
    ]


def test_a_raw_sql_quantity_change_on_a_pending_line_is_reported(orders):
    gpu, _, _, also_pending = orders
    raw_sql("UPDATE orders_orderline SET quantity = 7 WHERE order_id = %s", [also_pending.pk])

    _, lines = reconcile_failure()

    assert lines == [
        f"MISMATCH {gpu.sku}: reserved units differ from the units on open orders "
        "(record reserved=5; open orders hold 11)"
    ]


def test_pending_units_of_a_product_without_a_stock_record_are_reported(orders):
    _, cpu, _, _ = orders
    raw_sql("DELETE FROM inventory_stockrecord WHERE product_id = %s", [cpu.pk])

    _, lines = reconcile_failure()

    assert (
        "MISMATCH CPU-RECON-1: reserved units differ from the units on open orders "
        "(record reserved=None; open orders hold 2)"
    ) in lines
