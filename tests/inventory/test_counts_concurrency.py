"""Cycle counts under real concurrency on PostgreSQL: each thread on its own connection."""

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection, transaction

from inventory.counts import CountSelection, count_lines_record, count_session_create
from inventory.models import CountLine
from inventory.services import stock_adjust
from techparts.actors import Actor
from tests.factories import ProductFactory, UserFactory
from tests.inventory.test_bulk import open_products

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def wait_until(condition, *, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met before the deadline")
        time.sleep(0.02)


def test_two_managers_creating_overlapping_sessions_at_once_never_share_a_product(
    manager, clerk, inventory_groups
):
    other_manager = UserFactory(username="manager2")
    other_manager.groups.add(inventory_groups["Inventory managers"])
    products = open_products(60)
    others = ProductFactory.create_batch(10)
    by_category = CountSelection(category_id=products[0].category_id)
    by_list = CountSelection(skus=tuple(p.sku for p in products[30:] + others))
    barrier = threading.Barrier(2)

    def create(actor, selection):
        try:
            barrier.wait(timeout=30)
            return count_session_create(
                name=actor.username, selection=selection, assignees=[clerk], actor=actor
            )
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=2) as pool:
        futures = [
            pool.submit(create, manager, by_category),
            pool.submit(create, other_manager, by_list),
        ]
        results = [future.result(timeout=60) for future in futures]

    counted = list(CountLine.objects.values_list("product_id", flat=True))
    assert sorted(counted) == sorted(p.pk for p in products + others)  # each exactly once
    # Whichever came second left out the 30 products both picked, and named them.
    assert sorted(len(r.left_out) for r in results) == [0, 30]


def test_a_count_waits_for_a_stock_change_in_flight_and_records_the_on_hand_after_it(
    manager, clerk
):
    [product] = open_products(1, stock=10)
    session = count_session_create(
        name="Aisle 1",
        selection=CountSelection(skus=(product.sku,)),
        assignees=[clerk],
        actor=manager,
    ).session
    adjusted, release = threading.Event(), threading.Event()

    def adjust_and_hold():
        try:
            with transaction.atomic():
                stock_adjust(product_id=product.pk, delta=-3, actor=Actor.staff(manager))
                adjusted.set()
                release.wait(timeout=30)
        finally:
            connection.close()

    def record_count():
        try:
            adjusted.wait(timeout=30)
            return count_lines_record(session_id=session.pk, counts={product.pk: 6}, actor=clerk)
        finally:
            connection.close()

    def count_is_waiting_for_a_lock() -> bool:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity "
                "WHERE wait_event_type = 'Lock' AND query LIKE '%%inventory_stockrecord%%'"
            )
            return cursor.fetchone()[0] > 0

    with ThreadPoolExecutor(max_workers=2) as pool:
        holder = pool.submit(adjust_and_hold)
        counter = pool.submit(record_count)
        wait_until(count_is_waiting_for_a_lock)
        release.set()
        holder.result(timeout=30)
        counter.result(timeout=30)

    line = CountLine.objects.get(session=session)
    assert (line.counted_quantity, line.on_hand_at_count, line.variance) == (6, 7, -1)
