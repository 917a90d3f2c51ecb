"""Endpoint services: key revocation and scope loss disable, disable/enable, redelivery, re-sealing."""

import io
from datetime import timedelta

import pytest
from cryptography.fernet import Fernet
from django.core.management import call_command
from django.utils import timezone

from techparts.apikeys.services import api_key_revoke, api_key_update
from techparts.events.models import Event
from techparts.events.services import NewEvent, events_record
from techparts.events.types import ALL_TYPES
from tests.factories import UserFactory, WebhookEndpointFactory
from webhooks import crypto
from webhooks import services as webhook_services
from webhooks.errors import RedeliveryRefused, WebhookEndpointInvalid, WebhookEndpointKeyRevoked
from webhooks.models import Delivery, WebhookEndpoint
from webhooks.services import (
    REVOKED_REASON,
    deliveries_redeliver,
    webhook_endpoint_create,
    webhook_endpoint_disable,
    webhook_endpoint_update,
)
from webhooks.signals import deliveries_created

pytestmark = pytest.mark.django_db


def reload(endpoint: WebhookEndpoint) -> WebhookEndpoint:
    return WebhookEndpoint.objects.get(pk=endpoint.pk)


def test_revoking_a_key_disables_the_endpoints_it_created_and_no_others(make_api_key):
    key, _ = make_api_key(scopes=["webhooks:write", "inventory:read"])
    other_key, _ = make_api_key(scopes=["webhooks:write", "inventory:read"])
    created = WebhookEndpointFactory(created_by_key=key, event_types=["inventory.changed"])
    by_other = WebhookEndpointFactory(created_by_key=other_key, event_types=["inventory.changed"])
    by_staff = WebhookEndpointFactory(created_by=UserFactory())

    api_key_revoke(key=key)

    created = reload(created)
    assert (created.enabled, created.disabled_reason) == (False, REVOKED_REASON)
    assert created.disabled_at == key.revoked_at
    assert reload(by_other).enabled and reload(by_staff).enabled


def test_a_key_that_can_no_longer_read_a_subscribed_type_disables_that_endpoint(make_api_key):
    key, _ = make_api_key(scopes=["webhooks:write", "inventory:read", "orders:read"])
    orders = WebhookEndpointFactory(created_by_key=key, event_types=["order.created"])
    stock = WebhookEndpointFactory(created_by_key=key, event_types=["inventory.changed"])

    api_key_update(
        key=key,
        name=key.name,
        owner=key.owner,
        scopes=["webhooks:write", "inventory:read"],
        expires_at=None,
    )

    orders = reload(orders)
    assert not orders.enabled
    assert orders.disabled_reason == "the API key that created it can no longer read order.created"
    assert reload(stock).enabled


def test_adding_scopes_disables_nothing(make_api_key):
    key, _ = make_api_key(scopes=["webhooks:write", "inventory:read"])
    endpoint = WebhookEndpointFactory(created_by_key=key, event_types=["inventory.changed"])

    api_key_update(
        key=key,
        name="renamed",
        owner=key.owner,
        scopes=["webhooks:write", "inventory:read", "orders:read"],
        expires_at=None,
    )

    assert reload(endpoint).enabled


def test_an_endpoint_of_a_revoked_key_cannot_be_re_enabled_through_the_api(make_api_key):
    key, _ = make_api_key(scopes=["webhooks:write", "inventory:read"])
    colleague, _ = make_api_key(scopes=["webhooks:write", "inventory:read"])
    endpoint = WebhookEndpointFactory(created_by_key=key, event_types=["inventory.changed"])
    api_key_revoke(key=key)

    with pytest.raises(WebhookEndpointKeyRevoked):
        webhook_endpoint_update(endpoint=endpoint, enabled=True, acting_key=colleague)
    assert not reload(endpoint).enabled

    # Staff (no acting key) may: the admin's "Enable" action.
    webhook_endpoint_update(endpoint=endpoint, enabled=True)
    assert (reload(endpoint).enabled, reload(endpoint).disabled_reason) == (True, "")


def test_disable_keeps_the_first_reason_and_reports_whether_it_changed_anything():
    endpoint = WebhookEndpointFactory()
    now = timezone.now()

    first = webhook_endpoint_disable(
        endpoint=endpoint, reason="the endpoint answered 410 Gone", now=now
    )
    second = webhook_endpoint_disable(
        endpoint=endpoint, reason="failing for 5 days", now=now + timedelta(days=1)
    )

    assert (first, second) == (True, False)
    endpoint = reload(endpoint)
    assert (endpoint.enabled, endpoint.disabled_reason, endpoint.disabled_at) == (
        False,
        "the endpoint answered 410 Gone",
        now,
    )


def test_staff_may_subscribe_to_any_type_and_a_key_only_to_what_it_reads(make_api_key):
    key, _ = make_api_key(scopes=["webhooks:write"])

    staff_made, _ = webhook_endpoint_create(
        owner="shop_a", url="https://a.example.com/h", event_types=list(ALL_TYPES)
    )
    with pytest.raises(WebhookEndpointInvalid) as refused:
        webhook_endpoint_create(
            owner="shop_a",
            url="https://a.example.com/h",
            event_types=["inventory.low_stock"],
            created_by_key=key,
        )

    assert staff_made.event_types == list(ALL_TYPES)
    assert refused.value.details == [
        "Field 'event_types' names inventory.low_stock, which the API key 'test key' may not "
        "read (needs inventory:read)"
    ]


def record(types_and_subjects, *, at, audience_owner=""):
    events_record(
        [
            NewEvent(type=kind, subject=subject, data={"n": n}, audience_owner=audience_owner)
            for n, (kind, subject) in enumerate(types_and_subjects)
        ],
        origin_owner="",
        created_at=at,
    )


@pytest.fixture
def history():
    """Events at three times: two days ago, yesterday, now; an order event for another owner."""
    now = timezone.now()
    record([("inventory.changed", "sku:A")], at=now - timedelta(days=2))
    record(
        [("inventory.changed", "sku:A"), ("inventory.low_stock", "sku:A")],
        at=now - timedelta(days=1),
    )
    record([("order.created", "order:ORD-1")], at=now - timedelta(days=1), audience_owner="shop_a")
    record([("order.created", "order:ORD-2")], at=now - timedelta(days=1), audience_owner="shop_b")
    record([("inventory.changed", "sku:B")], at=now)
    return now


def test_redelivering_a_time_range_queues_what_the_endpoint_may_receive_in_feed_order(history):
    endpoint = WebhookEndpointFactory(
        owner="shop_a", event_types=["inventory.changed", "order.created"]
    )
    staff = UserFactory()
    sent = []
    deliveries_created.connect(lambda sender, **kw: sent.append(kw), weak=False, dispatch_uid="t")
    try:
        count = deliveries_redeliver(
            endpoint=endpoint,
            since=history - timedelta(days=1, hours=1),
            until=history - timedelta(hours=1),
            requested_by=staff,
            now=history,
        )
    finally:
        deliveries_created.disconnect(dispatch_uid="t")

    rows = list(Delivery.objects.order_by("id").select_related("event"))
    assert count == 2
    # Yesterday's inventory.changed and shop_a's own order; not low_stock (not subscribed),
    # not shop_b's order, nothing outside the range.
    assert [(d.event.type, d.subject) for d in rows] == [
        ("inventory.changed", "sku:A"),
        ("order.created", "order:ORD-1"),
    ]
    for delivery in rows:
        assert (delivery.endpoint_id, delivery.status, delivery.attempt_count) == (
            endpoint.pk,
            "pending",
            0,
        )
        assert (delivery.next_attempt_at, delivery.requested_by_id) == (history, staff.pk)
    assert sent == [{"endpoint": endpoint, "count": 2, "signal": deliveries_created}]


def test_redelivering_chosen_events_skips_those_the_endpoint_may_not_receive(history):
    endpoint = WebhookEndpointFactory(owner="shop_a", event_types=["order.created"])

    count = deliveries_redeliver(
        endpoint=endpoint,
        events=Event.objects.filter(type="order.created"),
        requested_by=None,
        now=history,
    )

    assert count == 1
    assert Delivery.objects.get().event.audience_owner == "shop_a"


def test_a_redelivery_over_the_limit_is_refused_and_queues_nothing(history, monkeypatch):
    assert webhook_services.MAX_REDELIVERY_EVENTS == 10_000
    monkeypatch.setattr(webhook_services, "MAX_REDELIVERY_EVENTS", 2)
    endpoint = WebhookEndpointFactory(owner="shop_a", event_types=["inventory.changed"])

    with pytest.raises(RedeliveryRefused, match="more than 2 events"):
        deliveries_redeliver(
            endpoint=endpoint,
            since=history - timedelta(days=3),
            until=history + timedelta(seconds=1),
            requested_by=None,
        )
    assert not Delivery.objects.exists()


def test_a_redelivery_needs_an_enabled_endpoint_and_a_forward_range(history):
    endpoint = WebhookEndpointFactory(event_types=["inventory.changed"])

    with pytest.raises(RedeliveryRefused, match="start is before its end"):
        deliveries_redeliver(endpoint=endpoint, since=history, until=history, requested_by=None)
    webhook_endpoint_disable(endpoint=endpoint, reason="test", now=history)
    with pytest.raises(RedeliveryRefused, match="is disabled"):
        deliveries_redeliver(
            endpoint=endpoint,
            since=history - timedelta(days=3),
            until=history,
            requested_by=None,
        )
    assert not Delivery.objects.exists()


def test_reencrypt_command_reseals_secrets_with_the_first_key(settings):
    old_key = Fernet.generate_key().decode()
    settings.WEBHOOK_SECRET_KEYS = [old_key]
    endpoints = [WebhookEndpointFactory() for _ in range(3)]
    webhook_services.webhook_endpoint_rotate_secret(endpoint=endpoints[0], now=timezone.now())
    rotated = reload(endpoints[0])
    plain = {e.pk: crypto.unseal(reload(e).secret) for e in endpoints}
    previous = crypto.unseal(rotated.previous_secret)
    new_key = Fernet.generate_key().decode()
    settings.WEBHOOK_SECRET_KEYS = [new_key, old_key]
    out = io.StringIO()

    call_command("reencrypt_webhook_secrets", "--batch-size", "2", stdout=out)

    assert "Re-encrypted the secrets of 3 endpoint(s)." in out.getvalue()
    settings.WEBHOOK_SECRET_KEYS = [new_key]  # the old key is gone: everything still opens
    for endpoint in endpoints:
        assert crypto.unseal(reload(endpoint).secret) == plain[endpoint.pk]
    assert crypto.unseal(reload(endpoints[0]).previous_secret) == previous
