"""Orders record their events for their owner, with the stock they move, in one statement."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from inventory.errors import InsufficientStock
from orders.services import order_cancel, order_deliver, order_ship
from techparts.actors import Actor
from techparts.events.models import Event
from tests.factories import ProductFactory

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def shop_a(make_api_key):
    key, _ = make_api_key(scopes=["orders:write"], owner="shop_a")
    return Actor.api(key)


@pytest.fixture
def gpu(db):
    return ProductFactory(
        public_id="PROD-GPU-1", sku="GPU-1", price="100.00", stock=2, low_stock_threshold=1
    )


def types_since(first_id: int) -> list[tuple[str, str]]:
    return [
        (event.type, event.subject)
        for event in Event.objects.filter(id__gt=first_id).order_by("id")
    ]


def last_event_id() -> int:
    last = Event.objects.order_by("-id").first()
    return last.id if last else 0


def test_an_order_is_created_with_its_lines_for_its_owner_and_its_reservation(
    place_order, gpu, shop_a
):
    start = last_event_id()
    with CaptureQueriesContext(connection) as queries:
        order = place_order((gpu, 2), actor=shop_a)

    assert types_since(start) == [
        ("order.created", f"order:{order.order_id}"),
        ("inventory.changed", "sku:GPU-1"),
        ("inventory.low_stock", "sku:GPU-1"),
        ("inventory.out_of_stock", "sku:GPU-1"),
    ]
    created = Event.objects.get(type="order.created")
    assert created.audience_owner == "shop_a"
    assert created.origin_owner == "shop_a"
    assert created.data["items"] == [
        {
            "sku": "GPU-1",
            "product_id": "PROD-GPU-1",
            "quantity": 2,
            "unit_price": "100.00",
            "line_total": "200.00",
        }
    ]
    assert created.data["total"] == str(order.total)
    # The order's event and the stock's went in one INSERT.
    outbox = [q for q in queries.captured_queries if '"events_event"' in q["sql"]]
    assert len(outbox) == 1
    # Stock events are for every reader of stock; the order's only for its owner.
    assert set(
        Event.objects.filter(type__startswith="inventory.").values_list("audience_owner", flat=True)
    ) == {""}


@pytest.mark.parametrize(
    ("steps", "expected"),
    [
        ([order_cancel], ["order.cancelled", "inventory.changed", "inventory.back_in_stock"]),
        ([order_ship], ["order.shipped", "inventory.changed"]),
        ([order_ship, order_deliver], ["order.shipped", "inventory.changed", "order.delivered"]),
    ],
)
def test_each_status_change_is_an_event_with_the_stock_it_moves(
    place_order, gpu, shop_a, steps, expected
):
    order = place_order((gpu, 2), actor=shop_a)
    start = last_event_id()

    for step in steps:
        order = step(order=order, actor=Actor.system())

    assert [kind for kind, _ in types_since(start)] == expected
    status_event = Event.objects.filter(id__gt=start, type__startswith="order.").last()
    assert status_event.audience_owner == "shop_a"
    assert status_event.data["order_id"] == order.order_id
    assert status_event.data["status"] == status_event.type.removeprefix("order.")


def test_a_refused_order_records_nothing(place_order, gpu, shop_a):
    before = Event.objects.count()

    with pytest.raises(InsufficientStock):
        place_order((gpu, 3), actor=shop_a)

    assert Event.objects.count() == before
