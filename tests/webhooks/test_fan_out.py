"""From the outbox to deliveries, and when the delivery task is started.

Transactional tests: the fan-out reads only committed events (the gap-free feed), and the task
is enqueued after commit, as in production.
"""

from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from inventory.services import stock_set
from orders.services import OrderItem, ShippingAddress, order_create
from techparts.actors import Actor
from techparts.events.models import Event
from techparts.tasks.sweeper import sweep_hooks
from tests.factories import (
    CustomerFactory,
    ProductFactory,
    TaxRateFactory,
    WebhookEndpointFactory,
)
from webhooks.delivery import deliveries_fan_out, fan_out_behind
from webhooks.models import Delivery, FanOutCursor, WebhookEndpoint
from webhooks.signals import deliveries_created
from webhooks.tasks import deliver_webhooks
from webhooks.triggers import endpoints_exist, forget_endpoints_exist

pytestmark = pytest.mark.django_db(transaction=True)
SYSTEM = Actor.system()
INVENTORY = ["inventory.changed", "inventory.low_stock", "inventory.out_of_stock",
             "inventory.back_in_stock"]  # fmt: skip


@pytest.fixture(autouse=True)
def _fresh_endpoint_cache():
    # Flushing the tables between tests sends no signal: forget what this process cached.
    forget_endpoints_exist()
    yield
    forget_endpoints_exist()


def delivered(endpoint) -> list[tuple[str, str]]:
    return list(
        Delivery.objects.filter(endpoint=endpoint)
        .order_by("id")
        .values_list("event__type", "subject")
    )


def enqueued_runs() -> int:
    return DBTaskResult.objects.filter(task_path="webhooks.tasks.deliver_webhooks").count()


def order_for(owner_key, product):
    return order_create(
        customer=CustomerFactory(),
        items=[OrderItem(product=product, quantity=1)],
        shipping_address=ShippingAddress(
            street="1 Main St", city="Fresno", state="CA", zip="93650", country="US"
        ),
        actor=Actor.api(owner_key),
    )


def test_each_event_goes_to_every_enabled_endpoint_that_may_see_it(make_api_key):
    TaxRateFactory()
    acme_key, _ = make_api_key(owner="acme")
    gpu = ProductFactory(sku="GPU-FAN-1", stock=10, low_stock_threshold=5)
    acme_all = WebhookEndpointFactory(owner="acme")
    acme_orders = WebhookEndpointFactory(owner="acme", event_types=["order.created"])
    other = WebhookEndpointFactory(owner="other")
    disabled = WebhookEndpointFactory(owner="acme", enabled=False)

    stock_set(product_id=gpu.pk, quantity=0, actor=SYSTEM)
    stock_set(product_id=gpu.pk, quantity=3, actor=SYSTEM)
    order = order_for(acme_key, gpu)
    late = WebhookEndpointFactory(owner="acme")  # made after every event so far

    fan_out = deliveries_fan_out(now=timezone.now())

    sku, ordered = f"sku:{gpu.sku}", f"order:{order.order_id}"
    stock = [
        ("inventory.changed", sku),
        ("inventory.low_stock", sku),
        ("inventory.out_of_stock", sku),
        ("inventory.changed", sku),
        ("inventory.back_in_stock", sku),
    ]
    reserve = [("order.created", ordered), ("inventory.changed", sku)]
    assert delivered(acme_all) == stock + reserve
    assert delivered(acme_orders) == [("order.created", ordered)]
    # Another owner gets the public stock events, never acme's order.
    assert delivered(other) == [*stock, ("inventory.changed", sku)]
    assert delivered(disabled) == []
    assert delivered(late) == []
    assert fan_out.deliveries == 7 + 1 + 6
    assert not fan_out.has_more
    pending = Delivery.objects.filter(status="pending", attempt_count=0, locked_until=None)
    assert pending.count() == fan_out.deliveries
    # The cursor stands after the last event: a second fan-out creates nothing.
    last = Event.objects.order_by("-xact", "-id").first()
    assert FanOutCursor.objects.get().position == (last.xact, last.pk)
    assert not fan_out_behind()
    assert deliveries_fan_out(now=timezone.now()).deliveries == 0


def test_a_backlog_is_read_a_bounded_page_at_a_time():
    WebhookEndpointFactory(event_types=["inventory.changed"])
    gpu = ProductFactory(stock=0)
    for quantity in range(1, 6):
        stock_set(product_id=gpu.pk, quantity=quantity, actor=SYSTEM)

    first = deliveries_fan_out(now=timezone.now(), limit=2, max_pages=2)
    rest = deliveries_fan_out(now=timezone.now(), limit=2, max_pages=5)

    assert (first.events, first.has_more) == (4, True)
    assert (rest.events, rest.has_more) == (Event.objects.count() - 4, False)
    assert not fan_out_behind()
    assert Delivery.objects.count() == 5
    assert sorted(Delivery.objects.values_list("event__data__quantity_after", flat=True)) == [
        1,
        2,
        3,
        4,
        5,
    ]


def test_recording_events_enqueues_one_run_after_commit_when_an_endpoint_is_enabled():
    gpu = ProductFactory(stock=0)
    assert enqueued_runs() == 0  # no endpoint yet: the product's opening event enqueued none
    WebhookEndpointFactory()

    with transaction.atomic():
        stock_set(product_id=gpu.pk, quantity=1, actor=SYSTEM)
        stock_set(product_id=gpu.pk, quantity=2, actor=SYSTEM)
        assert enqueued_runs() == 0  # not before the commit

    assert enqueued_runs() == 1  # once per transaction, however many events


def test_a_rolled_back_change_enqueues_nothing():
    gpu = ProductFactory(stock=0)
    WebhookEndpointFactory()

    with pytest.raises(RuntimeError), transaction.atomic():
        stock_set(product_id=gpu.pk, quantity=1, actor=SYSTEM)
        raise RuntimeError("after the ledger write")

    assert enqueued_runs() == 0


def test_without_an_enabled_endpoint_nothing_is_enqueued():
    WebhookEndpointFactory(enabled=False)
    gpu = ProductFactory(stock=0)

    stock_set(product_id=gpu.pk, quantity=1, actor=SYSTEM)

    assert enqueued_runs() == 0


def test_created_deliveries_enqueue_a_run_after_commit():
    endpoint = WebhookEndpointFactory()

    with transaction.atomic():
        deliveries_created.send(sender=None, endpoint=endpoint, count=1)
        assert enqueued_runs() == 0

    assert enqueued_runs() == 1


def test_the_sweep_hook_starts_a_run_when_events_wait_or_deliveries_are_due():
    hook = sweep_hooks()["webhooks.deliver"]
    now = timezone.now()
    assert hook(now) == 0

    gpu = ProductFactory(stock=1)  # its opening stock: an event not yet fanned out
    assert hook(now) == 1
    assert enqueued_runs() == 1

    deliveries_fan_out(now=now)  # no endpoint: nothing to deliver, the cursor moves on
    assert hook(now) == 0
    WebhookEndpointFactory(url="https://hooks.example.com/in")
    stock_set(product_id=gpu.pk, quantity=2, actor=SYSTEM)
    deliveries_fan_out(now=now + timedelta(minutes=1))
    assert hook(now) == 0  # due only from its next_attempt_at on
    assert hook(now + timedelta(minutes=1)) == 1


def test_the_prune_hook_is_registered_and_counts_what_it_deleted():
    hook = sweep_hooks()["webhooks.prune"]
    endpoint = WebhookEndpointFactory()
    gpu = ProductFactory(stock=1)
    event = Event.objects.get(subject=f"sku:{gpu.sku}", type="inventory.changed")
    long_ago = timezone.now() - timedelta(days=40)
    Delivery.objects.create(
        endpoint=endpoint,
        event=event,
        subject=event.subject,
        status="succeeded",
        next_attempt_at=long_ago,
        finished_at=long_ago,
    )

    assert hook(timezone.now()) == 1
    assert not Delivery.objects.exists()


def test_the_task_fans_out_and_delivers(settings):
    from tests.webhooks.receivers import Receiver, verified

    settings.WEBHOOKS_ALLOW_LOOPBACK = True
    with Receiver() as receiver:
        endpoint = WebhookEndpointFactory(url=receiver.url, event_types=["inventory.changed"])
        gpu = ProductFactory(stock=1)

        result = deliver_webhooks.call()

        [request] = receiver.requests
    assert verified(request, endpoint.plain_secret)["data"]["sku"] == gpu.sku
    assert result == {"fanned_out": 1, "attempted": 1, "succeeded": 1, "more": False}
    assert WebhookEndpoint.objects.get().failing_since is None


def test_a_stock_change_costs_no_extra_query_only_the_tasks_insert_after_its_commit():
    gpu = ProductFactory(stock=1)

    def statements(quantity: int) -> list[str]:
        with CaptureQueriesContext(connection) as captured:
            stock_set(product_id=gpu.pk, quantity=quantity, actor=SYSTEM)
        return [query["sql"] for query in captured.captured_queries]

    without_endpoint = statements(2)
    WebhookEndpointFactory()
    endpoints_exist()  # this process knows now (cached); the first look is after a commit too
    with_endpoint = statements(3)

    assert len(with_endpoint) == len(without_endpoint) + 1
    assert with_endpoint[-1].startswith(f'INSERT INTO "{DBTaskResult._meta.db_table}"')
    assert enqueued_runs() == 1
