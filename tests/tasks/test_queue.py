"""enqueue_on_commit: a task reaches the queue only once the transaction that asked commits.

Real transactions (transaction=True): the test's own transaction would otherwise hold every
on-commit callback back.
"""

import logging

import pytest
from django.db import transaction
from django_tasks import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from catalog.models import Product
from techparts.tasks.queue import enqueue_on_commit
from tests.factories import ProductFactory
from tests.tasks.sample_tasks import echo, nap

pytestmark = pytest.mark.django_db(transaction=True)

ECHO = "tests.tasks.sample_tasks.echo"


def queued() -> list[tuple[str, list]]:
    """The queue's rows as (task path, args), oldest first."""
    return [
        (row.task_path, row.args_kwargs["args"])
        for row in DBTaskResult.objects.order_by("enqueued_at", "pk")
    ]


def test_the_same_task_and_arguments_twice_in_one_transaction_is_enqueued_once_after_commit():
    with transaction.atomic():
        enqueue_on_commit(echo, "a")
        enqueue_on_commit(echo, "a")
        enqueue_on_commit(echo, "b")
        enqueue_on_commit(nap, 0)
        assert queued() == []  # nothing before the commit

    assert sorted(queued()) == sorted(
        [(ECHO, ["a"]), (ECHO, ["b"]), ("tests.tasks.sample_tasks.nap", [0])]
    )
    assert set(DBTaskResult.objects.values_list("status", flat=True)) == {TaskResultStatus.READY}


def test_a_rolled_back_transaction_enqueues_nothing():
    with pytest.raises(RuntimeError), transaction.atomic():
        enqueue_on_commit(echo, "a")
        raise RuntimeError("the change failed")

    assert queued() == []


def test_a_rolled_back_savepoint_drops_only_its_own_enqueue():
    with transaction.atomic():
        enqueue_on_commit(echo, "kept")
        with pytest.raises(RuntimeError), transaction.atomic():
            enqueue_on_commit(echo, "dropped")
            raise RuntimeError("this part failed")

    assert queued() == [(ECHO, ["kept"])]


def test_after_a_rolled_back_savepoint_the_same_enqueue_can_be_asked_for_again():
    with transaction.atomic():
        with pytest.raises(RuntimeError), transaction.atomic():
            enqueue_on_commit(echo, "a")
            raise RuntimeError("this part failed")
        enqueue_on_commit(echo, "a")

    assert queued() == [(ECHO, ["a"])]


def test_outside_a_transaction_the_task_is_enqueued_at_once():
    enqueue_on_commit(echo, "now")

    assert queued() == [(ECHO, ["now"])]


def test_a_backend_refusing_the_task_is_logged_and_the_commit_stands(caplog):
    # The database backend refuses arguments it cannot store as JSON (a real refusal).
    with caplog.at_level(logging.ERROR, logger="techparts.tasks.queue"), transaction.atomic():
        product = ProductFactory()
        enqueue_on_commit(echo, {"not json": {1, 2}})
        enqueue_on_commit(echo, "after the failure")

    assert Product.objects.filter(pk=product.pk).exists()
    assert queued() == [(ECHO, ["after the failure"])]
    assert [record.getMessage() for record in caplog.records] == [
        "enqueueing echo failed; the sweeper will pick the work up"
    ]
