"""The change feed under out-of-order commits, with two real writers on PostgreSQL.

Ids are handed out at insert, commits happen in any order: the transaction holding ledger id 1
may commit after the one holding id 2. A consumer paging by id passes 2 and never sees 1; the
feed (inventory.feed) must deliver both, each once. Threads are ordered with events, not sleeps.
"""

import threading

import pytest
from django.db import connection, transaction

from inventory.models import StockMovement, StockRecord
from inventory.services import stock_set
from techparts.actors import Actor
from tests.factories import ProductFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

URL = "/v1/inventory/changes"
WAIT = 20  # seconds; only a broken test ever waits this long


def wait(event: threading.Event) -> None:
    if not event.wait(WAIT):
        raise TimeoutError("the other writer never got there")


class Writer(threading.Thread):
    """Run `work` on this thread's own database connection; keep any error for the test."""

    def __init__(self, work):
        super().__init__(daemon=True)
        self.work = work
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            self.work()
        except BaseException as exc:  # re-raised on the test's thread
            self.error = exc
        finally:
            connection.close()

    def finish(self) -> None:
        self.join(WAIT)
        assert not self.is_alive(), "writer hung"
        if self.error is not None:
            raise self.error


def read_feed(client, cursor: str | None) -> tuple[list[int], str, bool]:
    response = client.get(URL, {"limit": 1000, **({"after": cursor} if cursor else {})})
    assert response.status_code == 200, response.json()
    body = response.json()
    return [row["id"] for row in body["results"]], body["next_cursor"], body["has_more"]


@pytest.mark.parametrize(
    "first_transaction",
    [
        # A locks its stock row before B writes: A's transaction id is the lower one.
        "A, which commits first",
        # B writes first: B's transaction id is the lower one, and it is still running.
        "B, which commits last",
    ],
)
def test_rows_committed_out_of_id_order_reach_the_feed_once_each(client_for, first_transaction):
    a_product = ProductFactory(stock=10)
    b_product = ProductFactory(stock=10)
    client = client_for("inventory:read")
    _, cursor, _ = read_feed(client, None)  # caught up with the opening rows
    naive_last_id = StockMovement.objects.order_by("-id").values_list("id", flat=True)[0]
    a_first = first_transaction.startswith("A")
    a_began, b_inserted, b_may_commit = threading.Event(), threading.Event(), threading.Event()

    def transaction_a() -> None:  # inserts ledger id 2 and commits first
        with transaction.atomic():
            if a_first:
                # Locking a row gives the transaction its id before B has one.
                StockRecord.objects.select_for_update().get(product_id=a_product.id)
            a_began.set()
            wait(b_inserted)
            stock_set(product_id=a_product.id, quantity=11, actor=Actor.system())

    def transaction_b() -> None:  # inserts ledger id 1, commits only when told
        if a_first:
            wait(a_began)
        with transaction.atomic():
            stock_set(product_id=b_product.id, quantity=12, actor=Actor.system())
            b_inserted.set()
            wait(b_may_commit)

    writer_b = Writer(transaction_b)
    writer_b.start()
    writer_a = Writer(transaction_a)
    writer_a.start()
    try:
        writer_a.finish()  # A has committed; B holds id 1, uncommitted
        a_row = StockMovement.objects.get(product=a_product, on_hand_after=11)
        first_ids, cursor_between, _ = read_feed(client, cursor)
        naive_first = list(
            StockMovement.objects.filter(id__gt=naive_last_id)
            .order_by("id")
            .values_list("id", flat=True)
        )
    finally:
        b_may_commit.set()
        writer_b.finish()
    b_row = StockMovement.objects.get(product=b_product, on_hand_after=12)
    assert b_row.id < a_row.id  # the lock-order inversion really happened
    assert (a_row.xact < b_row.xact) is a_first
    later_ids, _, has_more = read_feed(client, cursor_between)
    naive_later = list(
        StockMovement.objects.filter(id__gt=max(naive_first))
        .order_by("id")
        .values_list("id", flat=True)
    )

    # The feed: A's row may come before B commits only when nothing older is still running.
    assert first_ids == ([a_row.id] if a_first else [])
    assert sorted(first_ids + later_ids) == sorted([a_row.id, b_row.id])
    assert has_more is False
    # Paging by id alone would have lost B's row for good: it had passed id 2 already.
    assert naive_first == [a_row.id]
    assert naive_later == []
