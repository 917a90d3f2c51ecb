"""Delivery by real worker processes (`manage.py db_worker`) sharing the PostgreSQL test database.

A worker SIGKILLed in the middle of a delivery loses nothing: its lease runs out and another
worker sends the event again (at least once; the receiver drops the duplicate by webhook-id).
Two workers delivering at the same time never send the same delivery at once, and keep each
SKU's order.
"""

import os
import signal
import subprocess
import sys
import time
import uuid
from collections import defaultdict
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from inventory.services import stock_set
from techparts.actors import Actor
from techparts.events.models import Event
from techparts.tasks.sweeper import sweep_hooks
from tests.factories import ProductFactory, WebhookEndpointFactory
from tests.servers import ROOT, database_url
from tests.webhooks.receivers import Receiver, verified
from webhooks.models import Delivery, DeliveryAttempt
from webhooks.triggers import forget_endpoints_exist

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]
SYSTEM = Actor.system()


def wait_until(condition, *, seconds: float = 60, what: str = "") -> object:
    """Poll `condition()` until it returns something truthy; fail at the deadline."""
    deadline = time.monotonic() + seconds
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise AssertionError(f"gave up after {seconds} s waiting for {what}")
        time.sleep(0.05)


def worker_env(**overrides: str) -> dict[str, str]:
    """The environment of a worker on the suite's test database, with loopback webhooks."""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "techparts.settings_test",
        "DATABASE_URL": database_url(connection.settings_dict),
        "SECRET_KEY": settings.SECRET_KEY,
        "WEBHOOK_SECRET_KEYS": ",".join(settings.WEBHOOK_SECRET_KEYS),
        "WEBHOOKS_ALLOW_LOOPBACK": "true",
        "PYTHONUNBUFFERED": "1",
    }
    env.update(overrides)
    return env


@contextmanager
def db_workers(env: dict[str, str], count: int, log_dir: Path) -> Iterator[list[subprocess.Popen]]:
    """Run `count` `manage.py db_worker` processes; yield them once each has started."""
    with ExitStack() as stack:
        workers, logs = [], []
        for n in range(count):
            worker_id = f"webhooks-test-{n}-{uuid.uuid4().hex[:8]}"
            log = log_dir / f"{worker_id}.log"
            with log.open("wb") as out:
                worker = subprocess.Popen(
                    [sys.executable, "manage.py", "db_worker", "--no-reload"]
                    + ["--no-startup-delay", "--interval", "0.1", "--worker-id", worker_id],
                    cwd=ROOT,
                    env=env,
                    stdout=out,
                    stderr=subprocess.STDOUT,
                )
            stack.callback(_stop, worker)
            workers.append(worker)
            logs.append(log)
        try:
            for worker, log in zip(workers, logs, strict=True):
                wait_until(
                    lambda w=worker, path=log: _started(w, path),
                    what=f"worker {worker.pid} to start",
                )
            yield workers
        except BaseException:
            for log in logs:
                print(f"--- {log.name} ---\n{log.read_text(errors='replace')}")
            raise


def _started(worker: subprocess.Popen, log: Path) -> bool:
    if worker.poll() is not None:
        raise RuntimeError(f"worker exited with {worker.returncode}:\n{log.read_text()}")
    return "Starting worker" in log.read_text(errors="replace")


def _stop(worker: subprocess.Popen) -> None:
    if worker.poll() is None:
        worker.terminate()
        try:
            worker.wait(timeout=20)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait(timeout=20)


@pytest.fixture
def receiver(settings):
    settings.WEBHOOKS_ALLOW_LOOPBACK = True
    forget_endpoints_exist()
    with Receiver() as receiver:
        yield receiver
    forget_endpoints_exist()


def test_a_worker_killed_mid_delivery_is_replaced_and_the_event_delivered_again(receiver, tmp_path):
    gpu = ProductFactory(sku="GPU-KILL-1", stock=1)
    endpoint = WebhookEndpointFactory(url=receiver.url, event_types=["inventory.changed"])
    receiver.hold()  # the first request stays open: the worker is mid-delivery
    env = worker_env(WEBHOOK_DELIVERY_LEASE_SECONDS="3")

    with db_workers(env, 1, tmp_path) as [first]:
        stock_set(product_id=gpu.pk, quantity=7, actor=SYSTEM)  # enqueues a run after commit
        wait_until(lambda: receiver.requests, what="the first worker's request")
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=30)
    receiver.release()
    [event] = Event.objects.filter(subject=f"sku:{gpu.sku}", type="inventory.changed")[1:]
    delivery = Delivery.objects.get()
    assert (delivery.status, delivery.attempt_count) == ("pending", 0)
    assert delivery.locked_until is not None  # the dead worker's lease

    with db_workers(env, 1, tmp_path):
        # The sweeper's hook, as its next sweep would: nothing is due until the lease is over.
        hook = sweep_hooks()["webhooks.deliver"]
        wait_until(
            lambda: hook(timezone.now()) or Delivery.objects.get().status == "succeeded",
            what="the lease to run out",
        )
        wait_until(lambda: Delivery.objects.get().status == "succeeded", what="the second delivery")

    first_request, second_request = receiver.requests
    assert first_request.webhook_id == second_request.webhook_id == event.public_id
    assert verified(second_request, endpoint.plain_secret)["data"]["quantity_after"] == 7
    assert receiver.overlaps == []
    [attempt] = DeliveryAttempt.objects.all()  # the killed attempt was never recorded
    assert (attempt.number, attempt.status_code) == (1, 200)


def test_two_workers_never_send_the_same_delivery_at_once_and_keep_each_skus_order(
    receiver, tmp_path
):
    products = ProductFactory.create_batch(6, stock=1)
    endpoint = WebhookEndpointFactory(url=receiver.url, event_types=["inventory.changed"])

    def slowly(request):
        time.sleep(0.01)  # requests overlap in time: any double send would show
        return 200, b"ok"

    receiver.answer = slowly

    with db_workers(worker_env(), 2, tmp_path):
        for quantity in range(2, 8):
            with transaction.atomic():
                for product in products:
                    stock_set(product_id=product.pk, quantity=quantity, actor=SYSTEM)
        expected = 6 * 6
        wait_until(
            lambda: Delivery.objects.filter(status="succeeded").count() == expected,
            what="every delivery",
        )

    assert receiver.overlaps == []
    ids = [request.webhook_id for request in receiver.requests]
    assert len(ids) == len(set(ids)) == expected
    seen = defaultdict(list)
    for request in receiver.requests:
        body = verified(request, endpoint.plain_secret)
        seen[body["data"]["sku"]].append(body["data"]["quantity_after"])
    assert seen == {product.sku: [2, 3, 4, 5, 6, 7] for product in products}
    assert DeliveryAttempt.objects.count() == expected
    runs = DBTaskResult.objects.filter(task_path="webhooks.tasks.deliver_webhooks")
    sent_by = defaultdict(int)
    for run in runs.exclude(return_value=None):
        sent_by[run.worker_ids[0]] += run.return_value["attempted"]
    assert sum(sent_by.values()) == expected
    # Both took part (each polls every 0.1 s while the other's run takes longer than that).
    assert len(sent_by) == 2, sent_by
