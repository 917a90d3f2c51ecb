"""One stock record's events are fanned out in version order, whatever their feed order.

The feed is in (xact, id) order and a transaction takes its id at its first write or lock, so
a later version of a SKU can be listed before an earlier one (tests/webhooks/
test_version_order_postgres.py makes that happen with real lock waits). Here the events are
written in inverted order directly, which the fan-out cannot tell apart.
"""

import pytest
from django.utils import timezone

from inventory.services import stock_set
from techparts.actors import Actor
from techparts.events.models import Event
from techparts.events.services import NewEvent, events_record
from tests.factories import ProductFactory, WebhookEndpointFactory
from tests.webhooks.receivers import verified
from webhooks.delivery import deliveries_fan_out, deliveries_run
from webhooks.models import Delivery, FannedOutAhead

pytestmark = pytest.mark.django_db(transaction=True)


def record(subject: str, version: int | None, kind: str = "inventory.changed") -> None:
    events_record(
        [NewEvent(type=kind, subject=subject, data={"version": version}, version=version)],
        origin_owner="",
        created_at=timezone.now(),
    )


def deliveries(endpoint) -> list[tuple[str, str, int | None]]:
    """(subject, type, version) of the endpoint's deliveries in id order (the claim order)."""
    return [
        (subject, kind, data["version"])
        for subject, kind, data in Delivery.objects.filter(endpoint=endpoint)
        .order_by("id")
        .values_list("subject", "event__type", "event__data")
    ]


def test_a_lower_version_listed_pages_later_is_fanned_out_first_and_only_once():
    endpoint = WebhookEndpointFactory(event_types=["inventory.changed"])
    record("sku:X", 2)
    record("sku:Y", 1)
    record("sku:X", 1)  # committed first in truth, listed last

    fan_out = deliveries_fan_out(now=timezone.now(), limit=1, max_pages=10)

    assert deliveries(endpoint) == [
        ("sku:X", "inventory.changed", 1),  # fanned out ahead, with the page of version 2
        ("sku:X", "inventory.changed", 2),
        ("sku:Y", "inventory.changed", 1),
    ]
    assert (fan_out.events, fan_out.deliveries, fan_out.has_more) == (3, 3, False)
    assert not FannedOutAhead.objects.exists()  # the cursor passed it: the mark is gone
    assert deliveries_fan_out(now=timezone.now()).deliveries == 0


def test_in_one_page_each_subjects_events_take_its_places_in_version_order():
    endpoint = WebhookEndpointFactory(event_types=["inventory.changed", "inventory.low_stock"])
    record("sku:X", 2)
    record("sku:X", 2, kind="inventory.low_stock")
    record("sku:Y", 1)
    record("order:ORD-1", None, kind="order.created")  # no version: stays where it is
    record("sku:X", 1)

    deliveries_fan_out(now=timezone.now())

    assert deliveries(endpoint) == [
        ("sku:X", "inventory.changed", 1),
        ("sku:X", "inventory.changed", 2),
        ("sku:Y", "inventory.changed", 1),
        ("sku:X", "inventory.low_stock", 2),  # a version's crossing after its change
    ]
    assert not FannedOutAhead.objects.exists()


def test_endpoints_subscribed_to_some_types_see_sparse_versions_and_never_wait():
    changes = WebhookEndpointFactory(event_types=["inventory.changed"])
    lows = WebhookEndpointFactory(event_types=["inventory.low_stock"])
    record("sku:X", 3)
    record("sku:X", 3, kind="inventory.low_stock")
    record("sku:X", 1)
    record("sku:X", 2)

    deliveries_fan_out(now=timezone.now(), limit=2, max_pages=10)

    assert [version for _, _, version in deliveries(changes)] == [1, 2, 3]
    assert deliveries(lows) == [("sku:X", "inventory.low_stock", 3)]
    assert Delivery.objects.count() == 4


def test_an_endpoint_created_later_gets_only_later_versions(receiver):
    gpu = ProductFactory(sku="GPU-VER-1", stock=10)
    stock_set(product_id=gpu.pk, quantity=11, actor=Actor.system())
    endpoint = WebhookEndpointFactory(url=receiver.url, event_types=["inventory.changed"])
    stock_set(product_id=gpu.pk, quantity=12, actor=Actor.system())
    stock_set(product_id=gpu.pk, quantity=13, actor=Actor.system())

    deliveries_run()

    bodies = [verified(request, endpoint.plain_secret) for request in receiver.answered(200)]
    assert [(body["data"]["version"], body["data"]["quantity_after"]) for body in bodies] == [
        (3, 12),
        (4, 13),
    ]
    assert Event.objects.filter(version__isnull=False).count() == Event.objects.count()


def test_a_lower_version_is_fanned_out_ahead_even_when_the_page_holds_no_subscribed_type():
    # Feed order v7, v8, v6 (lock waits can list them so). The lower versions are looked for
    # only above the highest one already out: v7 passing must take v6 with it, although this
    # endpoint does not subscribe to v7's type, or v8 would find v7 out and stop there.
    endpoint = WebhookEndpointFactory(event_types=["inventory.low_stock"])
    record("sku:X", 7)
    record("sku:X", 8, kind="inventory.low_stock")
    record("sku:X", 6, kind="inventory.low_stock")

    deliveries_fan_out(now=timezone.now(), limit=1, max_pages=10)

    assert deliveries(endpoint) == [
        ("sku:X", "inventory.low_stock", 6),
        ("sku:X", "inventory.low_stock", 8),
    ]


def test_the_lookup_of_lower_versions_stops_at_the_highest_one_already_out():
    # A long history already passed, then an inversion: only the missing version is read, and
    # the ones below it (out long ago) are not delivered again.
    endpoint = WebhookEndpointFactory(event_types=["inventory.changed"])
    for version in range(1, 6):
        record("sku:X", version)
    deliveries_fan_out(now=timezone.now())
    record("sku:X", 7)
    record("sku:X", 6)

    deliveries_fan_out(now=timezone.now(), limit=1, max_pages=10)

    assert [version for _, _, version in deliveries(endpoint)] == [1, 2, 3, 4, 5, 6, 7]
