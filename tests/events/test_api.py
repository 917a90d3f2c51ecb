"""GET /v1/events: what each key may see, paging, disclosure, and gap-free under out-of-order
commits. Transactional: on PostgreSQL only events of ended transactions are served."""

import threading

import pytest
from django.db import transaction

from inventory.models import StockRecord
from inventory.services import stock_set
from techparts.actors import Actor
from techparts.events.models import Event
from tests.factories import CustomerFactory, ProductFactory, TaxRateFactory
from tests.inventory.test_feed_concurrency import Writer, wait
from tests.orders.conftest import order_body

pytestmark = pytest.mark.django_db(transaction=True)

URL = "/v1/events"


def read_all(client, **params) -> tuple[list[dict], str]:
    events, cursor = [], None
    for _ in range(100):
        query = {**params, **({"after": cursor} if cursor else {})}
        response = client.get(URL, query)
        assert response.status_code == 200, response.json()
        body = response.json()
        events += body["results"]
        cursor = body["next_cursor"]
        if not body["has_more"]:
            return events, cursor
    raise AssertionError("the events did not end")


@pytest.fixture
def gpu(db):
    return ProductFactory(public_id="PROD-GPU-1", sku="GPU-1", price="100.00", stock=5)


def place(client, product, quantity=1):
    response = client.post("/v1/orders", order_body((product.public_id, quantity)), format="json")
    assert response.status_code == 201, response.json()
    return response.json()["order_id"]


@pytest.fixture
def ordering(db):
    CustomerFactory(customer_id="CUST-789012")
    TaxRateFactory(state="CA")


def test_each_key_sees_the_types_its_scopes_cover_and_only_its_own_orders(
    client_for, gpu, ordering
):
    shop_a = client_for("orders:write", "orders:read", "inventory:read", owner="shop_a")
    shop_b = client_for("orders:write", "orders:read", owner="shop_b")
    stock_only = client_for("inventory:read", owner="shop_c")
    order_a = place(shop_a, gpu)
    order_b = place(shop_b, gpu)

    seen_a = [(e["type"], e["data"].get("order_id")) for e in read_all(shop_a)[0]]
    seen_b = [(e["type"], e["data"].get("order_id")) for e in read_all(shop_b)[0]]
    seen_stock = {e["type"] for e in read_all(stock_only)[0]}

    assert ("order.created", order_a) in seen_a
    assert ("order.created", order_b) not in seen_a
    assert seen_b == [("order.created", order_b)]  # no inventory:read: no stock events
    assert seen_stock == {"inventory.back_in_stock", "inventory.changed"}  # opening, 2 orders
    assert Event.objects.filter(type="order.created").count() == 2


def test_a_key_with_neither_read_scope_is_refused(client_for):
    response = client_for("products:read").get(URL)

    assert response.status_code == 403
    assert response.json() == {
        "error": "forbidden",
        "message": "Insufficient permissions to read inventory or read orders. "
        "Requires 'inventory:read' or 'orders:read' scope.",
    }


def test_only_the_writing_owner_sees_reason_reference_and_actor(client_for, gpu):
    writer = client_for("inventory:read", "inventory:write", owner="acme_wms")
    other = client_for("inventory:read", owner="other_shop")
    writer.patch(
        "/v1/inventory/GPU-1",
        {"quantity": 3, "reason_code": "damaged", "reason": "dropped", "reference": "wms://x/1"},
        format="json",
    )

    (own,) = read_all(writer, type="inventory.changed")[0][-1:]
    (theirs,) = read_all(other, type="inventory.changed")[0][-1:]

    assert own["id"] == theirs["id"]
    assert own["data"]["reference"] == "wms://x/1"
    assert (own["data"]["reason"], own["data"]["actor"]) == ("dropped", "acme_wms")
    assert theirs["data"] == {
        **own["data"],
        "reason": "",
        "reference": "",
        "adjustment_group": None,
        "actor": "TechParts",
    }


def test_pages_follow_each_other_without_gaps_and_filter_by_type(client_for, gpu):
    reader = client_for("inventory:read")
    for quantity in (0, 4, 0, 6):
        stock_set(product_id=gpu.pk, quantity=quantity, actor=Actor.system())

    paged, _ = read_all(reader, limit=2)
    whole = reader.get(URL, {"limit": 1000}).json()["results"]
    back, _ = read_all(reader, type="inventory.back_in_stock")

    assert paged == whole
    assert [e["id"] for e in paged] == list(
        Event.objects.order_by("xact", "id").values_list("public_id", flat=True)
    )
    assert [(e["data"]["available_before"], e["data"]["available_after"]) for e in back] == [
        (0, 5),  # the opening balance
        (0, 4),
        (0, 6),
    ]


@pytest.mark.parametrize("query", [{"after": "nope"}, {"limit": "0"}, {"type": "order.lost"}])
def test_bad_queries_are_refused_with_the_envelope(client_for, query):
    response = client_for("inventory:read").get(URL, query)

    assert response.status_code == 400
    assert response.json()["error"] == "validation_error"


def test_a_caught_up_reader_gets_304_until_an_event_arrives(client_for, gpu):
    reader = client_for("inventory:read")
    _, cursor = read_all(reader)
    empty = reader.get(URL, {"after": cursor})

    assert reader.get(URL, {"after": cursor}, HTTP_IF_NONE_MATCH=empty["ETag"]).status_code == 304
    stock_set(product_id=gpu.pk, quantity=1, actor=Actor.system())
    assert reader.get(URL, {"after": cursor}, HTTP_IF_NONE_MATCH=empty["ETag"]).status_code == 200


@pytest.mark.postgres
def test_events_committed_out_of_id_order_are_each_read_once(client_for):
    a_product, b_product = ProductFactory(stock=10), ProductFactory(stock=10)
    reader = client_for("inventory:read")
    _, cursor = read_all(reader)
    b_inserted, b_may_commit = threading.Event(), threading.Event()

    def transaction_b() -> None:  # writes first (lower ids), commits last
        with transaction.atomic():
            stock_set(product_id=b_product.id, quantity=12, actor=Actor.system())
            b_inserted.set()
            wait(b_may_commit)

    def transaction_a() -> None:  # writes later (higher ids), commits first
        wait(b_inserted)
        with transaction.atomic():
            StockRecord.objects.select_for_update().get(product_id=a_product.id)
            stock_set(product_id=a_product.id, quantity=11, actor=Actor.system())

    writer_b, writer_a = Writer(transaction_b), Writer(transaction_a)
    writer_b.start()
    writer_a.start()
    try:
        writer_a.finish()
        first, cursor_between = read_all(reader, after=cursor)
    finally:
        b_may_commit.set()
        writer_b.finish()
    later, _ = read_all(reader, after=cursor_between)

    b_event = Event.objects.get(
        subject=f"sku:{b_product.sku}", type="inventory.changed", data__quantity_after=12
    )
    a_event = Event.objects.get(
        subject=f"sku:{a_product.sku}", type="inventory.changed", data__quantity_after=11
    )
    assert b_event.id < a_event.id  # B holds the lower id and committed last
    assert first == []  # A's event waits while B, older, is open
    assert [e["id"] for e in later] == [b_event.public_id, a_event.public_id]
