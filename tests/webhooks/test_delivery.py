"""Claiming, attempting and retrying deliveries, one by one, against a real receiver on loopback.

Deliveries are written here directly for events the stock services recorded (the fan-out has
tests of its own: it reads only committed events). Every request the receiver got is
verified with the standardwebhooks library, as an integrator's code would.
"""

import base64
import json
import secrets
from datetime import timedelta
from types import SimpleNamespace

import pytest
from cryptography.fernet import Fernet
from django.utils import timezone

from inventory.services import stock_set
from orders.events import order_created_event
from orders.rules import MAX_LINES
from techparts.actors import Actor
from techparts.events.models import Event
from techparts.events.selectors import event_payload
from tests.factories import ProductFactory, WebhookEndpointFactory
from tests.webhooks.receivers import verified
from webhooks import crypto
from webhooks.delivery import (
    FAILING_DISABLE_AFTER,
    MAX_ATTEMPTS,
    MAX_BODY_BYTES,
    RETRY_DELAYS,
    RETRY_JITTER,
    deliveries_claim,
    deliveries_due,
    deliveries_prune,
    deliveries_run,
    delivery_attempt,
    delivery_body,
    retry_delay,
)
from webhooks.models import Delivery, DeliveryAttempt, WebhookEndpoint

pytestmark = pytest.mark.django_db
SYSTEM = Actor.system()


def queue(endpoint, *events, now=None) -> list[Delivery]:
    """Pending deliveries of `events` to `endpoint`, as the fan-out writes them."""
    return [
        Delivery.objects.create(
            endpoint=endpoint,
            event=event,
            subject=event.subject,
            next_attempt_at=now or timezone.now(),
        )
        for event in events
    ]


def changes(product, *quantities) -> list[Event]:
    """Set the product's stock to each quantity in turn; return its inventory.changed events."""
    for quantity in quantities:
        stock_set(product_id=product.pk, quantity=quantity, actor=SYSTEM)
    return list(
        Event.objects.filter(subject=f"sku:{product.sku}", type="inventory.changed").order_by("id")[
            1:
        ]  # the first is the opening stock
    )


def claim_one(now=None) -> Delivery:
    [delivery] = deliveries_claim(now=now or timezone.now(), limit=1)
    return delivery


def test_the_schedule_retries_for_at_least_72_hours_with_up_to_20_percent_jitter():
    assert sum(RETRY_DELAYS, timedelta()) >= timedelta(hours=72)
    assert len(RETRY_DELAYS) + 1 == MAX_ATTEMPTS
    assert retry_delay(1, jitter=0) == timedelta(seconds=5)
    assert retry_delay(1, jitter=1) == timedelta(seconds=6)
    assert retry_delay(len(RETRY_DELAYS), jitter=0.5) == RETRY_DELAYS[-1] * (1 + RETRY_JITTER / 2)
    assert retry_delay(MAX_ATTEMPTS) is None
    assert RETRY_DELAYS[0] <= retry_delay(1) <= RETRY_DELAYS[0] * 1.2


def test_a_successful_attempt_is_signed_recorded_and_clears_the_failing_mark(receiver):
    endpoint = WebhookEndpointFactory(url=receiver.url)
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(failing_since=timezone.now())
    gpu = ProductFactory(sku="GPU-OK-1", stock=2)
    [event] = changes(gpu, 7)
    [delivery] = queue(endpoint, event)

    assert delivery_attempt(delivery=claim_one()) == "succeeded"

    [request] = receiver.requests
    body = verified(request, endpoint.plain_secret)
    assert request.headers["webhook-id"] == event.public_id
    assert body == event_payload(Event.objects.get(pk=event.pk), viewer_owner=endpoint.owner)
    assert body["data"]["quantity_before"] == 2
    assert body["data"]["quantity_after"] == 7
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempt_count, delivery.locked_until) == (
        "succeeded",
        1,
        None,
    )
    assert delivery.finished_at is not None
    [attempt] = delivery.attempts.all()
    assert (attempt.number, attempt.status_code, attempt.succeeded) == (1, 200, True)
    assert attempt.response_excerpt == "ok"
    endpoint.refresh_from_db()
    assert endpoint.failing_since is None


def test_a_failed_attempt_is_retried_on_the_schedule_and_marks_the_endpoint_failing(receiver):
    receiver.answer = lambda request: (503, b"maintenance")
    endpoint = WebhookEndpointFactory(url=receiver.url)
    [event] = changes(ProductFactory(), 3)
    [delivery] = queue(endpoint, event)
    now = timezone.now()

    assert delivery_attempt(delivery=claim_one(now), now=now) == "pending"

    delivery.refresh_from_db()
    assert delivery.attempt_count == 1
    assert delivery.locked_until is None
    wait = delivery.next_attempt_at - now
    assert RETRY_DELAYS[0] <= wait <= RETRY_DELAYS[0] * (1 + RETRY_JITTER) + timedelta(seconds=10)
    [attempt] = delivery.attempts.all()
    assert (attempt.status_code, attempt.succeeded, attempt.response_excerpt) == (
        503,
        False,
        "maintenance",
    )
    endpoint.refresh_from_db()
    assert endpoint.failing_since == now
    assert endpoint.enabled
    # Not due again before its time; due after it.
    assert deliveries_claim(now=now + timedelta(seconds=4), limit=5) == []
    assert deliveries_claim(now=delivery.next_attempt_at, limit=5)[0].pk == delivery.pk


def test_a_retry_ten_minutes_later_is_signed_afresh_and_verifies(receiver):
    # The first attempt is made ten minutes ago (through `now`); its headers no longer verify,
    # the retry's do: same webhook-id, new timestamp and signature.
    answers = iter([(500, b"oops"), (200, b"ok")])
    receiver.answer = lambda request: next(answers)
    endpoint = WebhookEndpointFactory(url=receiver.url)
    [event] = changes(ProductFactory(), 4)
    queue(endpoint, event, now=timezone.now() - timedelta(minutes=10))
    earlier = timezone.now() - timedelta(minutes=10)

    delivery_attempt(delivery=claim_one(earlier), now=earlier)
    delivery_attempt(delivery=claim_one())

    first, retry = receiver.requests
    with pytest.raises(Exception, match="too old"):
        verified(first, endpoint.plain_secret)
    assert verified(retry, endpoint.plain_secret)["id"] == event.public_id
    assert first.webhook_id == retry.webhook_id == event.public_id
    assert int(retry.headers["webhook-timestamp"]) - int(first.headers["webhook-timestamp"]) >= 599
    assert first.headers["webhook-signature"] != retry.headers["webhook-signature"]
    assert Delivery.objects.get().status == "succeeded"


def test_during_a_secret_rotation_both_secrets_verify(receiver):
    endpoint = WebhookEndpointFactory(url=receiver.url)
    previous = endpoint.plain_secret
    current = "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(
        secret=crypto.seal(current),
        previous_secret=crypto.seal(previous),
        previous_secret_expires_at=timezone.now() + timedelta(hours=1),
    )
    [event] = changes(ProductFactory(), 4)
    queue(endpoint, event)

    delivery_attempt(delivery=claim_one())

    [request] = receiver.requests
    assert len(request.headers["webhook-signature"].split(" ")) == 2
    assert verified(request, current)
    assert verified(request, previous)


def test_410_gone_disables_the_endpoint_and_gives_up_its_pending_deliveries(receiver):
    receiver.answer = lambda request: (410, b"gone")
    endpoint = WebhookEndpointFactory(url=receiver.url)
    other = WebhookEndpointFactory(url=receiver.url + "/other")
    first, second = changes(ProductFactory(), 4, 5)
    queue(endpoint, first, second)
    [elsewhere] = queue(other, second)

    assert delivery_attempt(delivery=claim_one()) == "failed"

    endpoint.refresh_from_db()
    assert not endpoint.enabled
    assert endpoint.disabled_reason.startswith("410 Gone")
    assert endpoint.disabled_at is not None
    assert list(endpoint.deliveries.values_list("status", flat=True)) == ["failed", "failed"]
    assert all(d.finished_at for d in endpoint.deliveries.all())
    assert len(receiver.requests) == 1  # the second was never sent
    elsewhere.refresh_from_db()
    assert elsewhere.status == "pending"


def test_an_endpoint_failing_for_5_days_is_disabled_and_its_deliveries_wait(receiver):
    receiver.answer = lambda request: (500, b"down")
    endpoint = WebhookEndpointFactory(url=receiver.url)
    first, second = changes(ProductFactory(), 4, 5)
    start = timezone.now() - FAILING_DISABLE_AFTER - timedelta(hours=1)
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(failing_since=start)
    queue(endpoint, first, second)

    delivery_attempt(delivery=claim_one())

    endpoint.refresh_from_db()
    assert not endpoint.enabled
    assert endpoint.disabled_reason == "every delivery failed for 5 days"
    assert endpoint.failing_since == start
    # Its deliveries stay pending (enabling it again resumes them) but none is due meanwhile.
    assert set(endpoint.deliveries.values_list("status", flat=True)) == {"pending"}
    later = timezone.now() + timedelta(days=1)
    assert not deliveries_due(now=later)
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(enabled=True)
    assert deliveries_due(now=later)


def test_a_shorter_run_of_failures_does_not_disable(receiver):
    receiver.answer = lambda request: (500, b"down")
    endpoint = WebhookEndpointFactory(url=receiver.url)
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(
        failing_since=timezone.now() - FAILING_DISABLE_AFTER + timedelta(hours=1)
    )
    [event] = changes(ProductFactory(), 4)
    queue(endpoint, event)

    delivery_attempt(delivery=claim_one())

    endpoint.refresh_from_db()
    assert endpoint.enabled


def test_the_schedule_exhausted_gives_up_and_unblocks_the_next_event_of_the_subject(receiver):
    receiver.answer = lambda request: (
        (500, b"no") if json.loads(request.body)["data"]["quantity_after"] == 4 else (200, b"ok")
    )
    endpoint = WebhookEndpointFactory(url=receiver.url)
    first, second = changes(ProductFactory(), 4, 5)
    stuck, waiting = queue(endpoint, first, second)
    now = timezone.now()

    for attempt in range(MAX_ATTEMPTS):
        [claimed] = deliveries_claim(now=now, limit=5)  # never the second: the first is pending
        assert claimed.pk == stuck.pk
        status = delivery_attempt(delivery=claimed, now=now)
        stuck.refresh_from_db()
        now = max(now, stuck.next_attempt_at)
        assert status == ("failed" if attempt == MAX_ATTEMPTS - 1 else "pending")

    assert stuck.attempt_count == MAX_ATTEMPTS
    assert stuck.attempts.count() == MAX_ATTEMPTS
    assert stuck.finished_at - stuck.created_at >= timedelta(hours=72)
    [claimed] = deliveries_claim(now=now, limit=5)
    assert claimed.pk == waiting.pk
    assert delivery_attempt(delivery=claimed, now=now) == "succeeded"


def test_a_pending_event_holds_back_its_subject_only(receiver):
    endpoint = WebhookEndpointFactory(url=receiver.url)
    gpu_first, gpu_second = changes(ProductFactory(sku="GPU-A"), 4, 5)
    [cpu] = changes(ProductFactory(sku="CPU-B"), 9)
    queue(endpoint, gpu_first, gpu_second, cpu)

    claimed = deliveries_claim(now=timezone.now(), limit=10)

    assert [d.event_id for d in claimed] == [gpu_first.pk, cpu.pk]
    # Claimed means leased: nothing more is claimable until they finish.
    assert deliveries_claim(now=timezone.now(), limit=10) == []


def test_a_worker_whose_lease_ran_out_records_nothing(receiver):
    endpoint = WebhookEndpointFactory(url=receiver.url)
    [event] = changes(ProductFactory(), 4)
    [delivery] = queue(endpoint, event)
    now = timezone.now()
    slow = claim_one(now)
    # Its lease runs out; another worker claims the delivery and sends it.
    late = now + timedelta(seconds=61)
    fast = claim_one(late)
    assert fast.pk == slow.pk and fast.locked_until != slow.locked_until
    assert delivery_attempt(delivery=fast, now=late) == "succeeded"

    assert delivery_attempt(delivery=slow, now=now) is None

    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempt_count) == ("succeeded", 1)
    assert DeliveryAttempt.objects.count() == 1


def test_deliveries_of_a_disabled_endpoint_are_not_claimed(receiver):
    endpoint = WebhookEndpointFactory(url=receiver.url, enabled=False)
    [event] = changes(ProductFactory(), 4)
    queue(endpoint, event)

    assert deliveries_claim(now=timezone.now(), limit=5) == []


def test_a_refused_address_is_a_failed_attempt_with_the_reason(settings):
    # Saved while loopback was allowed (development settings), sent without: refused then.
    settings.WEBHOOKS_ALLOW_LOOPBACK = True
    endpoint = WebhookEndpointFactory(url="https://127.0.0.1:9/in")
    settings.WEBHOOKS_ALLOW_LOOPBACK = False
    [event] = changes(ProductFactory(), 4)
    [delivery] = queue(endpoint, event)

    assert delivery_attempt(delivery=claim_one()) == "pending"

    [attempt] = delivery.attempts.all()
    assert attempt.status_code is None
    assert attempt.error == "refused: 127.0.0.1 is a loopback address"


def test_a_run_sends_everything_due_in_order_then_stops(receiver):
    events = changes(ProductFactory(sku="GPU-RUN"), 1, 2, 3, 4)
    # Made after the events: the run's fan-out creates nothing more for it.
    endpoint = WebhookEndpointFactory(url=receiver.url)
    queue(endpoint, *events)

    run = deliveries_run(concurrency=1)

    assert (run.attempted, run.succeeded, run.more) == (4, 4, False)
    received = [verified(request, endpoint.plain_secret) for request in receiver.requests]
    assert [body["data"]["quantity_after"] for body in received] == [1, 2, 3, 4]


def test_the_largest_possible_bodies_stay_under_20_kb():
    endpoint = WebhookEndpoint(owner="o" * 100)
    longest_code = "A" * 64
    lines = [
        SimpleNamespace(
            sku=longest_code,
            product_public_id=longest_code,
            quantity=999,
            unit_price="99999999.99",
            line_total="99899999990.01",
        )
        for _ in range(MAX_LINES)
    ]
    order = SimpleNamespace(
        order_id="ORD-2026-" + "9" * 31,
        status="pending",
        owner=endpoint.owner,
        subtotal="9999999999999.99",
        tax="9999999999999.99",
        shipping="9999.99",
        total="9999999999999.99",
        currency="USD",
        created_at=timezone.now(),
    )
    order_event = order_created_event(order, lines)
    # A stock change whose free text is all characters JSON escapes at six bytes each.
    worst_text = "\x01" * 500
    stock_data = {
        "sku": longest_code,
        "product_id": longest_code,
        "ledger_id": 2**62,
        "kind": "correction",
        "reason_code": "x" * 64,
        **{
            f"{name}_{side}": 10**9
            for name in ("quantity", "reserved", "available")
            for side in ("before", "after")
        },
    }
    private = {
        "reason": worst_text,
        "reference": worst_text,
        "adjustment_group": "0" * 36,
        "actor": "\x01" * 150,
    }
    for data, private_part in ((order_event.data, {}), (stock_data, private)):
        event = Event(
            public_id="evt_" + "f" * 26,
            type="order.created",
            subject="order:x",
            origin_owner=endpoint.owner,
            data=data,
            private=private_part,
            created_at=timezone.now(),
        )
        assert len(delivery_body(event=event, endpoint=endpoint)) < MAX_BODY_BYTES


def test_the_delivery_log_is_pruned_after_its_days_and_pending_ones_stay(settings, receiver):
    settings.WEBHOOK_DELIVERY_LOG_DAYS = 30
    old, recent, pending = changes(ProductFactory(), 1, 2, 3)
    endpoint = WebhookEndpointFactory(url=receiver.url)
    queue(endpoint, old, recent)
    deliveries_run(concurrency=1)
    queue(endpoint, pending, now=timezone.now() + timedelta(days=90))
    Delivery.objects.filter(event=old).update(finished_at=timezone.now() - timedelta(days=31))

    assert deliveries_prune(now=timezone.now(), batch_size=1) == 1

    assert list(Delivery.objects.order_by("id").values_list("event_id", flat=True)) == [
        recent.pk,
        pending.pk,
    ]
    assert DeliveryAttempt.objects.count() == 1


def test_a_secret_that_cannot_be_decrypted_is_a_failed_attempt_not_a_stuck_delivery(receiver):
    endpoint = WebhookEndpointFactory(url=receiver.url)
    other_key = Fernet(Fernet.generate_key())
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(
        secret=other_key.encrypt(b"whsec_c2VjcmV0").decode()
    )
    [event] = changes(ProductFactory(), 4)
    [delivery] = queue(endpoint, event)

    assert delivery_attempt(delivery=claim_one()) == "pending"

    assert receiver.requests == []
    [attempt] = delivery.attempts.all()
    assert attempt.error == "not signed: its secret cannot be decrypted"
    delivery.refresh_from_db()
    assert (delivery.attempt_count, delivery.locked_until) == (1, None)
