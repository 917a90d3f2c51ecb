import pytest
from django.contrib.auth.models import Group, Permission
from django.db import connection
from django.utils import timezone
from playwright.sync_api import expect

from techparts.events.models import Event
from techparts.events.services import NewEvent, events_record
from techparts.roles import ensure_groups
from tests.browser.conftest import ARTIFACTS
from tests.factories import UserFactory
from webhooks import crypto
from webhooks.models import Delivery, DeliveryAttempt, WebhookEndpoint
from webhooks.roles import GROUP_PERMISSIONS, INTEGRATION_MANAGERS

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def integration_manager(db):
    ensure_groups(Group, Permission, GROUP_PERMISSIONS)
    user = UserFactory(username="integrations")
    user.groups.add(Group.objects.get(name=INTEGRATION_MANAGERS))
    return user


def test_staff_creates_an_endpoint_sees_the_secret_once_and_opens_its_delivery_log(
    page, live_server, integration_manager, log_in
):
    log_in("integrations")

    page.goto(f"{live_server.url}/admin/webhooks/webhookendpoint/add/")
    page.get_by_label("Owner").fill("api_user_12345")
    page.get_by_label("URL").fill("https://hooks.example.com/erp")
    page.get_by_label("inventory.changed").check()
    page.get_by_label("inventory.back_in_stock").check()
    page.get_by_label("Description").fill("ERP stock listener")
    page.get_by_role("button", name="Save", exact=True).click()

    expect(page.locator("#content-main")).to_contain_text("shown only this once")
    secret = page.locator("input.webhook-secret").input_value()
    assert secret.startswith("whsec_")
    folder = ARTIFACTS / f"browser-{connection.vendor}"
    folder.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(folder / "webhook-endpoint-secret-shown-once.png"), full_page=True)
    endpoint = WebhookEndpoint.objects.get()
    assert crypto.unseal(endpoint.secret) == secret
    assert endpoint.event_types == ["inventory.changed", "inventory.back_in_stock"]

    # A delivery the workers would have logged, with a failed attempt.
    events_record(
        [NewEvent(type="inventory.changed", subject="sku:GPU-1", data={"on_hand": 3})],
        origin_owner="",
        created_at=timezone.now(),
    )
    delivery = Delivery.objects.create(
        endpoint=endpoint,
        event=Event.objects.get(),
        subject="sku:GPU-1",
        attempt_count=1,
        next_attempt_at=timezone.now(),
    )
    DeliveryAttempt.objects.create(
        delivery=delivery,
        number=1,
        started_at=timezone.now(),
        status_code=502,
        latency_ms=240,
        response_excerpt="bad gateway",
        succeeded=False,
    )

    page.get_by_role("link", name=endpoint.public_id).click()
    expect(page.locator("#content-main")).not_to_contain_text("whsec_")
    page.get_by_role("link", name="Open the delivery log").click()
    rows = page.locator("#result_list tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text(delivery.event.public_id)
    expect(rows.first).to_contain_text("502")
    expect(rows.first).to_contain_text("240 ms")
    page.set_viewport_size({"width": 1800, "height": 900})  # every column in the picture
    page.screenshot(path=str(folder / "webhook-delivery-log.png"), full_page=True)

    page.get_by_role("link", name=delivery.event.public_id).click()
    expect(page.locator("#content-main")).to_contain_text("bad gateway")
