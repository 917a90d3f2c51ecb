"""What an integrator's receiver sees, end to end: real stock changes and orders, the delivery
runs of the task, a real HTTP receiver on loopback verifying every request with the
standardwebhooks library.

Time is moved through the runs' `now` (an attempt "ten minutes ago" is signed with that
time); the last run of each test uses the real clock, so what arrives then must verify now.
Transactional: the fan-out reads only committed events, as in production.
"""

import json
from collections import defaultdict
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from inventory.services import stock_set
from orders.services import OrderItem, ShippingAddress, order_create
from techparts.actors import Actor
from techparts.events.models import Event
from tests.factories import CustomerFactory, ProductFactory, TaxRateFactory, WebhookEndpointFactory
from tests.webhooks.receivers import Receiver, verified
from webhooks.delivery import deliveries_run
from webhooks.models import Delivery

pytestmark = pytest.mark.django_db(transaction=True)
SYSTEM = Actor.system()


def received(receiver: Receiver, secret: str) -> list[dict]:
    """The bodies the receiver accepted (200), in arrival order, each verified first."""
    return [verified(request, secret) for request in receiver.answered(200)]


def by_subject(bodies: list[dict]) -> dict[str, list[tuple[str, int, int]]]:
    """(type, available before, available after) of each SKU's events, in arrival order."""
    seen = defaultdict(list)
    for body in bodies:
        data = body["data"]
        seen[data["sku"]].append((body["type"], data["available_before"], data["available_after"]))
    return dict(seen)


def feed_order(sku: str) -> list[tuple[str, int, int]]:
    """The same, in the order of the event feed (what the receiver must see)."""
    return [
        (event.type, event.data["available_before"], event.data["available_after"])
        for event in Event.objects.filter(subject=f"sku:{sku}").order_by("xact", "id")
    ]


def test_a_receiver_down_for_a_while_gets_every_event_in_order_with_stable_ids(receiver):
    endpoint = WebhookEndpointFactory(url=receiver.url)
    gpu = ProductFactory(sku="GPU-DOWN-1", stock=10)
    cpu = ProductFactory(sku="CPU-DOWN-2", stock=10)
    started = timezone.now() - timedelta(hours=2)

    # Up but failing: the first event of each SKU is refused, nothing after it is sent.
    receiver.answer = lambda request: (503, b"deploying")
    for quantity in (8, 0, 5):
        stock_set(product_id=gpu.pk, quantity=quantity, actor=SYSTEM)
        stock_set(product_id=cpu.pk, quantity=quantity + 1, actor=SYSTEM)
    deliveries_run(now=started)
    assert {request.webhook_id for request in receiver.requests} == {
        Delivery.objects.filter(subject=subject).earliest("id").event.public_id
        for subject in (f"sku:{gpu.sku}", f"sku:{cpu.sku}")
    }
    # Down: connections refused, an hour later; more changes meanwhile.
    receiver.stop()
    stock_set(product_id=gpu.pk, quantity=2, actor=SYSTEM)
    run = deliveries_run(now=started + timedelta(hours=1))
    assert (run.attempted, run.succeeded) == (2, 0)
    # Back up, now: everything arrives.
    receiver.answer = lambda request: (200, b"ok")
    receiver.start()
    run = deliveries_run()

    bodies = received(receiver, endpoint.plain_secret)
    assert by_subject(bodies) == {gpu.sku: feed_order(gpu.sku), cpu.sku: feed_order(cpu.sku)}
    assert len(bodies) == run.succeeded == Delivery.objects.count()
    assert len({body["id"] for body in bodies}) == len(bodies)  # each once
    assert set(Delivery.objects.values_list("status", flat=True)) == {"succeeded"}
    # The first events were tried three times (503, refused, 200): one webhook-id, a fresh
    # timestamp and signature each time the receiver saw it.
    first = [r for r in receiver.requests if r.webhook_id == receiver.requests[0].webhook_id]
    assert [r.status for r in first] == [503, 200]
    assert first[0].headers["webhook-timestamp"] != first[1].headers["webhook-timestamp"]
    assert first[0].headers["webhook-signature"] != first[1].headers["webhook-signature"]
    head = Delivery.objects.get(event__public_id=first[0].webhook_id)
    assert head.attempt_count == 3
    assert [a.status_code for a in head.attempts.order_by("number")] == [503, None, 200]


def test_a_retry_ten_minutes_after_the_first_attempt_verifies(receiver):
    gpu = ProductFactory(stock=1)
    endpoint = WebhookEndpointFactory(url=receiver.url, event_types=["inventory.changed"])
    answers = iter([(500, b"oops"), (200, b"ok")])
    receiver.answer = lambda request: next(answers)
    stock_set(product_id=gpu.pk, quantity=4, actor=SYSTEM)

    deliveries_run(now=timezone.now() - timedelta(minutes=10))
    deliveries_run()

    first, retry = receiver.requests
    with pytest.raises(Exception, match="too old"):
        verified(first, endpoint.plain_secret)
    assert verified(retry, endpoint.plain_secret)["data"]["quantity_after"] == 4
    assert first.webhook_id == retry.webhook_id


def test_zero_ten_zero_arrives_as_two_changes_with_their_own_before_and_after(receiver):
    endpoint = WebhookEndpointFactory(url=receiver.url)
    gpu = ProductFactory(sku="GPU-ZTZ-1", stock=0, low_stock_threshold=5)

    stock_set(product_id=gpu.pk, quantity=10, actor=SYSTEM)
    stock_set(product_id=gpu.pk, quantity=0, actor=SYSTEM)
    deliveries_run()

    bodies = received(receiver, endpoint.plain_secret)
    assert [(b["type"], b["data"]["quantity_before"], b["data"]["quantity_after"]) for b in bodies
            if b["type"] == "inventory.changed"] == [("inventory.changed", 0, 10),
                                                     ("inventory.changed", 10, 0)]  # fmt: skip
    assert by_subject(bodies)[gpu.sku] == [
        ("inventory.changed", 0, 10),
        ("inventory.back_in_stock", 0, 10),
        ("inventory.changed", 10, 0),
        ("inventory.low_stock", 10, 0),
        ("inventory.out_of_stock", 10, 0),
    ]


def test_back_in_stock_fires_when_a_restock_arrives_while_units_are_reserved(
    receiver, make_api_key
):
    TaxRateFactory()
    key, _ = make_api_key(owner="acme")
    gpu = ProductFactory(sku="GPU-RES-1", stock=2)
    endpoint = WebhookEndpointFactory(url=receiver.url, owner="acme")
    order = order_create(
        customer=CustomerFactory(),
        items=[OrderItem(product=gpu, quantity=2)],
        shipping_address=ShippingAddress(
            street="1 Main St", city="Fresno", state="CA", zip="93650", country="US"
        ),
        actor=Actor.api(key),
    )
    stock_set(
        product_id=gpu.pk, quantity=5, kind="restock", reference="PO-77", actor=Actor.api(key)
    )
    deliveries_run()

    bodies = received(receiver, endpoint.plain_secret)
    assert [body["type"] for body in bodies] == [
        "order.created",
        "inventory.changed",  # the reservation: available 2 -> 0
        "inventory.out_of_stock",
        "inventory.changed",  # the restock: on hand 2 -> 5, 2 still reserved
        "inventory.back_in_stock",
    ]
    assert bodies[0]["data"]["order_id"] == order.order_id
    restock, back = bodies[3]["data"], bodies[4]["data"]
    assert (restock["kind"], restock["reserved_before"], restock["reserved_after"]) == (
        "restock",
        2,
        2,
    )
    assert (restock["available_before"], restock["available_after"]) == (0, 3)
    assert restock["reference"] == "PO-77"  # acme's own change: its private part
    assert (back["available_before"], back["available_after"]) == (0, 3)


def test_another_owners_receiver_gets_the_public_part_only(receiver, make_api_key):
    key, _ = make_api_key(owner="acme")
    gpu = ProductFactory(stock=1)  # its opening stock is an event from before the endpoint
    endpoint = WebhookEndpointFactory(
        url=receiver.url, owner="other", event_types=["inventory.changed"]
    )
    stock_set(
        product_id=gpu.pk, quantity=5, reason="dock 4", reference="PO-9", actor=Actor.api(key)
    )
    deliveries_run()

    [body] = received(receiver, endpoint.plain_secret)
    assert (body["data"]["reason"], body["data"]["reference"], body["data"]["actor"]) == (
        "",
        "",
        "TechParts",
    )


def test_one_skus_failing_event_does_not_hold_up_other_skus(receiver):
    sku_a = ProductFactory(sku="GPU-FAIL-A", stock=1)
    sku_b = ProductFactory(sku="GPU-PASS-B", stock=1)
    endpoint = WebhookEndpointFactory(url=receiver.url, event_types=["inventory.changed"])
    receiver.answer = lambda request: (
        (500, b"no") if json.loads(request.body)["data"]["sku"] == sku_a.sku else (200, b"ok")
    )
    for quantity in (2, 3, 4):
        stock_set(product_id=sku_a.pk, quantity=quantity, actor=SYSTEM)
        stock_set(product_id=sku_b.pk, quantity=quantity, actor=SYSTEM)

    deliveries_run()

    bodies = received(receiver, endpoint.plain_secret)
    assert [b["data"]["quantity_after"] for b in bodies if b["data"]["sku"] == sku_b.sku] == [
        2,
        3,
        4,
    ]
    a_requests = [r for r in receiver.requests if r.status == 500]
    assert len(a_requests) == 1  # A's first event, once: its later ones wait behind it
    a_statuses = Delivery.objects.filter(subject=f"sku:{sku_a.sku}").order_by("id")
    assert [(d.status, d.attempt_count) for d in a_statuses] == [
        ("pending", 1),
        ("pending", 0),
        ("pending", 0),
    ]


def test_410_gone_stops_all_delivery_to_the_endpoint(receiver):
    receiver.answer = lambda request: (410, b"")
    products = ProductFactory.create_batch(3, stock=1)
    endpoint = WebhookEndpointFactory(url=receiver.url, event_types=["inventory.changed"])
    for product in products:
        stock_set(product_id=product.pk, quantity=2, actor=SYSTEM)

    deliveries_run(concurrency=1)

    endpoint.refresh_from_db()
    assert (endpoint.enabled, endpoint.disabled_reason[:8]) == (False, "410 Gone")
    assert len(receiver.requests) == 1
    assert set(Delivery.objects.values_list("status", flat=True)) == {"failed"}


def test_the_receiver_in_the_docs_accepts_a_real_delivery_and_refuses_a_forged_one(receiver):
    gpu = ProductFactory(stock=1)
    endpoint = WebhookEndpointFactory(url=receiver.url, event_types=["inventory.changed"])
    stock_set(product_id=gpu.pk, quantity=6, actor=SYSTEM)
    deliveries_run()
    [request] = receiver.requests

    docs = (Path(__file__).resolve().parents[2] / "docs" / "webhooks.md").read_text()
    example = docs.split("```python\n", 1)[1].split("```", 1)[0]
    handled: list[dict] = []
    held: dict[str, int] = {}  # the version held per SKU

    def handle(event: dict) -> None:
        handled.append(event)
        held[event["data"]["sku"]] = event["data"]["version"]

    namespace = {
        "already_handled": lambda event_id: any(e["id"] == event_id for e in handled),
        "newer": lambda sku, version: version is None or version > held.get(sku, 0),
        "handle": handle,
    }
    exec(example.replace("whsec_...", endpoint.plain_secret), namespace)  # noqa: S102
    receive = namespace["receive"]

    assert receive(request.body, request.headers) == 204
    assert receive(request.body, request.headers) == 204  # a duplicate, dropped
    assert [event["data"]["quantity_after"] for event in handled] == [6]
    assert receive(request.body.replace(b'"quantity_after":6', b'"quantity_after":600'),
                   request.headers) == 400  # fmt: skip
