"""With the Redis-backed queue (django-tasks-rq, TASKS_BACKEND=rq): a stock change's event
reaches a real receiver through a real rq worker on a real redis-server.

The rq settings and worker helpers (tests/workers.py) come with the task queue's slice; until
they are in, this module skips.
"""

import shutil

import pytest

from inventory.services import stock_set
from techparts.actors import Actor
from tests.factories import ProductFactory, WebhookEndpointFactory
from tests.webhooks.receivers import Receiver, verified
from webhooks.models import Delivery
from webhooks.triggers import forget_endpoints_exist

workers = pytest.importorskip("tests.workers", reason="the rq worker helpers are not in yet")

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(shutil.which("redis-server") is None, reason="redis-server not installed"),
]


def test_with_the_rq_backend_a_stock_change_is_delivered_by_an_rq_worker(settings):
    settings.WEBHOOKS_ALLOW_LOOPBACK = True
    forget_endpoints_exist()
    gpu = ProductFactory(sku="GPU-RQ-1", stock=1)
    with workers.redis_server() as redis_url, Receiver() as receiver:
        endpoint = WebhookEndpointFactory(url=receiver.url, event_types=["inventory.changed"])
        # rq forks a process per job: no connection pool across the fork.
        env = workers.worker_env(
            TASKS_BACKEND="rq", REDIS_URL=redis_url, DB_POOL="false", WEBHOOKS_ALLOW_LOOPBACK="true"
        )
        with workers.rq_worker(env), workers.tasks_on_rq(redis_url):
            stock_set(product_id=gpu.pk, quantity=9, actor=Actor.system())  # enqueued to Redis
            workers.wait_until(
                lambda: Delivery.objects.filter(status="succeeded").exists(),
                what="the delivery",
            )

    [request] = receiver.requests
    assert verified(request, endpoint.plain_secret)["data"]["quantity_after"] == 9
    assert Delivery.objects.get().attempts.get().status_code == 200
