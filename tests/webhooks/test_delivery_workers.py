"""Delivery by real worker processes (`manage.py db_worker`) sharing the PostgreSQL test database.

A worker SIGKILLed in the middle of a delivery loses nothing: its lease runs out and another
worker sends the event again (at least once; the receiver drops the duplicate by webhook-id).
Two workers delivering at the same time never send the same delivery at once, and keep each
SKU's order.
"""

import time
from collections import defaultdict

import pytest
from django.db import transaction
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from inventory.services import stock_set
from techparts.actors import Actor
from techparts.events.models import Event
from techparts.tasks.sweeper import sweep_hooks
from tests.factories import ProductFactory, WebhookEndpointFactory
from tests.webhooks.receivers import verified
from tests.workers import db_workers, wait_until, worker_env
from webhooks.models import Delivery, DeliveryAttempt

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]
SYSTEM = Actor.system()


def test_a_worker_killed_mid_delivery_is_replaced_and_the_event_delivered_again(receiver):
    gpu = ProductFactory(sku="GPU-KILL-1", stock=1)
    endpoint = WebhookEndpointFactory(url=receiver.url, event_types=["inventory.changed"])
    receiver.hold()  # the first request stays open: the worker is mid-delivery
    env = worker_env(WEBHOOKS_ALLOW_LOOPBACK="true", WEBHOOK_DELIVERY_LEASE_SECONDS="3")

    with db_workers(env, 1) as [first]:
        stock_set(product_id=gpu.pk, quantity=7, actor=SYSTEM)  # enqueues a run after commit
        wait_until(lambda: receiver.requests, seconds=60, what="the first worker's request")
        first.kill()  # SIGKILL
    receiver.release()
    [event] = Event.objects.filter(subject=f"sku:{gpu.sku}", type="inventory.changed")[1:]
    delivery = Delivery.objects.get()
    assert (delivery.status, delivery.attempt_count) == ("pending", 0)
    assert delivery.locked_until is not None  # the dead worker's lease

    with db_workers(env, 1):
        # The sweeper's hook, as its next sweep would: nothing is due until the lease is over.
        hook = sweep_hooks()["webhooks.deliver"]
        wait_until(
            lambda: hook(timezone.now()) or Delivery.objects.get().status == "succeeded",
            seconds=60,
            what="the lease to run out",
        )
        wait_until(
            lambda: Delivery.objects.get().status == "succeeded",
            seconds=60,
            what="the second delivery",
        )

    first_request, second_request = receiver.requests
    assert first_request.webhook_id == second_request.webhook_id == event.public_id
    assert verified(second_request, endpoint.plain_secret)["data"]["quantity_after"] == 7
    assert receiver.overlaps == []
    [attempt] = DeliveryAttempt.objects.all()  # the killed attempt was never recorded
    assert (attempt.number, attempt.status_code) == (1, 200)


def test_two_workers_never_send_the_same_delivery_at_once_and_keep_each_skus_order(
    receiver,
):
    products = ProductFactory.create_batch(6, stock=1)
    endpoint = WebhookEndpointFactory(url=receiver.url, event_types=["inventory.changed"])

    def slowly(request):
        time.sleep(0.01)  # requests overlap in time: any double send would show
        return 200, b"ok"

    receiver.answer = slowly

    with db_workers(worker_env(WEBHOOKS_ALLOW_LOOPBACK="true"), 2):
        for quantity in range(2, 8):
            with transaction.atomic():
                for product in products:
                    stock_set(product_id=product.pk, quantity=quantity, actor=SYSTEM)
        expected = 6 * 6
        wait_until(
            lambda: Delivery.objects.filter(status="succeeded").count() == expected,
            seconds=60,
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
