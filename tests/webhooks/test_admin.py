"""The webhooks admin, as an Integration manager: create (secret once), rotate, enable/disable,
the health filter, the delivery log with attempts, and redelivery."""

import re
from datetime import timedelta

import pytest
from django.contrib.auth.models import Group, Permission
from django.contrib.messages import get_messages
from django.utils import timezone

from techparts.events.models import Event
from techparts.events.services import NewEvent, events_record
from techparts.roles import ensure_groups
from tests.factories import UserFactory, WebhookEndpointFactory
from webhooks import crypto
from webhooks.models import Delivery, DeliveryAttempt, WebhookEndpoint
from webhooks.roles import GROUP_PERMISSIONS, INTEGRATION_MANAGERS

pytestmark = pytest.mark.django_db

ENDPOINTS = "/admin/webhooks/webhookendpoint/"
DELIVERIES = "/admin/webhooks/delivery/"
SECRET = re.compile(r'value="(whsec_[A-Za-z0-9+/=]+)"')


@pytest.fixture
def integration_manager(client):
    ensure_groups(Group, Permission, GROUP_PERMISSIONS)
    user = UserFactory(username="integrations")
    user.groups.add(Group.objects.get(name=INTEGRATION_MANAGERS))
    client.force_login(user)
    return user


def messages_of(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


def test_adding_an_endpoint_shows_its_secret_once_and_stores_it_encrypted(
    client, integration_manager
):
    response = client.post(
        f"{ENDPOINTS}add/",
        {
            "owner": "api_user_12345",
            "url": "https://hooks.example.com/erp",
            "event_types": ["inventory.changed", "order.created"],
            "description": "ERP",
            "enabled": "on",
        },
    )

    assert response.status_code == 200
    [secret] = SECRET.findall(response.content.decode())
    endpoint = WebhookEndpoint.objects.get()
    assert (endpoint.owner, endpoint.url, endpoint.event_types) == (
        "api_user_12345",
        "https://hooks.example.com/erp",
        ["inventory.changed", "order.created"],
    )
    assert endpoint.created_by == integration_manager and endpoint.created_by_key is None
    assert secret not in endpoint.secret and crypto.unseal(endpoint.secret) == secret
    change_page = client.get(f"{ENDPOINTS}{endpoint.pk}/change/").content.decode()
    assert "whsec_" not in change_page
    assert secret not in client.get(ENDPOINTS).content.decode()


def test_the_add_form_refuses_private_addresses_and_saves_nothing(client, integration_manager):
    response = client.post(
        f"{ENDPOINTS}add/",
        {
            "owner": "api_user_12345",
            "url": "https://192.168.1.10/hook",
            "event_types": ["inventory.changed"],
        },
    )

    assert response.status_code == 200
    assert "This URL is refused: 192.168.1.10 is a private address." in response.content.decode()
    assert not WebhookEndpoint.objects.exists()


def test_rotating_in_the_admin_shows_the_new_secret_once_and_keeps_the_old_for_the_overlap(
    client, integration_manager
):
    endpoint = WebhookEndpointFactory()

    response = client.post(
        ENDPOINTS, {"action": "rotate_secret", "_selected_action": [endpoint.pk]}
    )

    assert response.status_code == 200
    [secret] = SECRET.findall(response.content.decode())
    endpoint.refresh_from_db()
    assert secret != endpoint.plain_secret
    assert endpoint.signing_secrets(timezone.now()) == [secret, endpoint.plain_secret]
    assert "The previous secret keeps signing" in response.content.decode()


def test_disable_and_enable_actions(client, integration_manager):
    endpoint = WebhookEndpointFactory()
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(failing_since=timezone.now())

    client.post(ENDPOINTS, {"action": "disable", "_selected_action": [endpoint.pk]})
    endpoint.refresh_from_db()
    assert not endpoint.enabled

    response = client.post(
        ENDPOINTS, {"action": "enable", "_selected_action": [endpoint.pk]}, follow=True
    )
    endpoint.refresh_from_db()
    assert (endpoint.enabled, endpoint.failing_since) == (True, None)
    assert "Enabled 1 endpoint(s)." in messages_of(response)


def test_the_health_filter_tells_failing_system_disabled_and_healthy_apart(
    client, integration_manager
):
    now = timezone.now()
    healthy = WebhookEndpointFactory(url="https://healthy.example.com/h")
    failing = WebhookEndpointFactory(url="https://failing.example.com/h")
    gone = WebhookEndpointFactory(url="https://gone.example.com/h")
    WebhookEndpoint.objects.filter(pk=failing.pk).update(failing_since=now - timedelta(days=2))
    WebhookEndpoint.objects.filter(pk=gone.pk).update(
        enabled=False, disabled_reason="the endpoint answered 410 Gone", disabled_at=now
    )

    def listed(health: str) -> set[str]:
        page = client.get(ENDPOINTS, {"health": health}).content.decode()
        return {e.url for e in (healthy, failing, gone) if e.url in page}

    assert listed("failing") == {failing.url}
    assert listed("disabled_by_system") == {gone.url}
    assert listed("healthy") == {healthy.url}
    page = client.get(ENDPOINTS).content.decode()
    assert "the endpoint answered 410 Gone" in page


@pytest.fixture
def logged_delivery():
    endpoint = WebhookEndpointFactory(event_types=["inventory.changed"])
    events_record(
        [NewEvent(type="inventory.changed", subject="sku:GPU-1", data={"on_hand": 3})],
        origin_owner="",
        created_at=timezone.now() - timedelta(hours=1),
    )
    event = Event.objects.get()
    delivery = Delivery.objects.create(
        endpoint=endpoint,
        event=event,
        subject=event.subject,
        status=Delivery.Status.FAILED,
        attempt_count=2,
        next_attempt_at=timezone.now(),
    )
    started = timezone.now() - timedelta(minutes=5)
    DeliveryAttempt.objects.create(
        delivery=delivery,
        number=1,
        started_at=started,
        error="connection refused",
        succeeded=False,
    )
    DeliveryAttempt.objects.create(
        delivery=delivery,
        number=2,
        started_at=started + timedelta(minutes=1),
        latency_ms=187,
        status_code=503,
        response_excerpt="upstream overloaded",
        succeeded=False,
    )
    return delivery


def test_the_delivery_log_shows_each_delivery_and_its_attempts(
    client, integration_manager, logged_delivery
):
    other = WebhookEndpointFactory()
    log = client.get(DELIVERIES, {"endpoint": logged_delivery.endpoint_id}).content.decode()
    detail = client.get(f"{DELIVERIES}{logged_delivery.pk}/change/").content.decode()
    other_log = client.get(DELIVERIES, {"endpoint": other.pk}).content.decode()

    assert logged_delivery.event.public_id in log
    assert "503" in log and "187 ms" in log and "failed" in log
    assert "connection refused" in detail and "upstream overloaded" in detail
    assert logged_delivery.event.public_id not in other_log
    endpoint_page = client.get(f"{ENDPOINTS}{logged_delivery.endpoint_id}/change/")
    assert f"{DELIVERIES}?endpoint={logged_delivery.endpoint_id}" in endpoint_page.content.decode()


def test_redelivering_selected_deliveries_queues_new_pending_rows(
    client, integration_manager, logged_delivery
):
    response = client.post(
        DELIVERIES,
        {"action": "redeliver", "_selected_action": [logged_delivery.pk]},
        follow=True,
    )

    assert "Queued 1 event(s) for redelivery." in messages_of(response)
    new = Delivery.objects.exclude(pk=logged_delivery.pk).get()
    assert (new.event_id, new.endpoint_id, new.status, new.requested_by) == (
        logged_delivery.event_id,
        logged_delivery.endpoint_id,
        "pending",
        integration_manager,
    )


def test_redelivering_a_time_range_from_the_endpoint_page(
    client, integration_manager, logged_delivery
):
    now = timezone.now()
    url = f"{ENDPOINTS}{logged_delivery.endpoint_id}/redeliver/"

    form = client.get(url)
    response = client.post(
        url,
        {
            "since": (now - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M"),
            "until": (now + timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%M"),
        },
        follow=True,
    )

    assert form.status_code == 200
    assert response.status_code == 200
    assert any("Queued 1 event(s) for redelivery" in m for m in messages_of(response))
    assert Delivery.objects.filter(status="pending", requested_by=integration_manager).count() == 1


def test_a_backwards_range_is_refused_and_queues_nothing(
    client, integration_manager, logged_delivery
):
    now = timezone.now()

    response = client.post(
        f"{ENDPOINTS}{logged_delivery.endpoint_id}/redeliver/",
        {"since": now.strftime("%Y-%m-%dT%H:%M"), "until": now.strftime("%Y-%m-%dT%H:%M")},
    )

    assert response.status_code == 200
    assert "must be before" in response.content.decode()
    assert Delivery.objects.count() == 1


def test_staff_outside_the_group_cannot_see_endpoints_or_redeliver(client, logged_delivery):
    client.force_login(UserFactory(username="clerk-only"))

    assert client.get(ENDPOINTS).status_code == 403
    assert client.get(f"{ENDPOINTS}{logged_delivery.endpoint_id}/redeliver/").status_code == 403
    assert client.get(DELIVERIES).status_code == 403


def test_narrowing_or_revoking_a_key_in_the_api_key_admin_disables_its_endpoints(
    client, make_api_key
):
    client.force_login(UserFactory(username="root", is_superuser=True))
    key, _ = make_api_key(scopes=["webhooks:write", "inventory:read", "orders:read"])
    orders = WebhookEndpointFactory(created_by_key=key, event_types=["order.shipped"])
    stock = WebhookEndpointFactory(created_by_key=key, event_types=["inventory.changed"])

    client.post(
        f"/admin/apikeys/apikey/{key.pk}/change/",
        {"name": key.name, "owner": key.owner, "scopes": ["webhooks:write", "inventory:read"]},
    )
    orders.refresh_from_db()
    stock.refresh_from_db()
    key.refresh_from_db()
    assert key.scopes == ["webhooks:write", "inventory:read"]
    assert (orders.enabled, stock.enabled) == (False, True)
    assert orders.disabled_reason == "the API key that created it can no longer read order.shipped"

    client.post("/admin/apikeys/apikey/", {"action": "revoke", "_selected_action": [key.pk]})
    stock.refresh_from_db()
    assert (stock.enabled, stock.disabled_reason) == (
        False,
        "the API key that created it was revoked",
    )
