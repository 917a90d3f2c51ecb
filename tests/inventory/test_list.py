"""GET /v1/inventory: every stock record, by cursor, filters, and stable pages under writes."""

import base64
from datetime import timedelta

import pytest
from django.utils import timezone

from inventory.feed import FeedPosition
from inventory.models import StockRecord
from inventory.services import stock_set, stock_threshold_set
from techparts.actors import Actor
from tests.factories import ProductFactory

pytestmark = pytest.mark.django_db

URL = "/v1/inventory"


def read_all(client, **params) -> list[dict]:
    """Follow `next` from the first page; return every record, in order."""
    records: list[dict] = []
    response = client.get(URL, params)
    for _ in range(100):
        assert response.status_code == 200, response.json()
        body = response.json()
        records += body["results"]
        if body["next"] is None:
            assert body["next_cursor"] is None
            return records
        response = client.get(body["next"])
    raise AssertionError("the list did not end")


@pytest.fixture
def reader(client_for):
    return client_for("inventory:read")


def test_list_shows_every_record_in_the_stock_record_shape(reader):
    product = ProductFactory(
        public_id="PROD-LIST-001", sku="SKU-LIST-001", name="Board", stock=7, low_stock_threshold=8
    )

    response = reader.get(URL)

    assert response.status_code == 200
    body = response.json()
    record = StockRecord.objects.get(product=product)
    assert body["results"] == [
        {
            "sku": "SKU-LIST-001",
            "product_id": "PROD-LIST-001",
            "product_name": "Board",
            "quantity": 7,
            "reserved": 0,
            "available": 7,
            "low_stock_threshold": 8,
            "low_stock": True,
            "updated_at": record.updated_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "version": 1,  # the opening count
        }
    ]
    assert (body["next"], body["next_cursor"]) == (None, None)
    assert FeedPosition.from_cursor(body["changes_cursor"])  # a feed position


def test_list_records_are_what_the_single_record_read_answers(reader, api):
    # The list builds its bodies as plain dicts; GET /v1/inventory/{sku} goes through the
    # serializer the schema is generated from. Both must give the same record.
    ProductFactory(sku="SKU-LOW", stock=2, low_stock_threshold=5)
    ProductFactory(sku="SKU-OK", stock=40, low_stock_threshold=5)

    listed = reader.get(URL).json()["results"]

    assert [api.get(f"/v1/inventory/{row['sku']}").json() for row in listed] == listed
    assert [row["low_stock"] for row in listed] == [True, False]


def test_list_answers_exactly_the_fields_the_schema_documents(reader, schema):
    ProductFactory(stock=5)

    body = reader.get(URL).json()

    components = schema["components"]["schemas"]
    assert set(body) == set(components["StockRecordPage"]["properties"])
    assert set(body["results"][0]) == set(components["StockRecord"]["properties"])


def test_pages_follow_product_order_and_next_keeps_the_filters(reader):
    products = [ProductFactory(stock=n) for n in range(1, 15)]

    first = reader.get(URL, {"limit": 3, "low_stock": "false"}).json()
    records = read_all(reader, limit=3, low_stock="false")

    assert "low_stock=false" in first["next"] and "limit=3" in first["next"]
    assert first["next"].startswith("http://testserver/v1/inventory?")
    assert [r["sku"] for r in records] == [p.sku for p in products if p.stock.available > 5]


def test_writes_between_pages_neither_skip_nor_repeat_records(reader):
    products = [ProductFactory(stock=10) for _ in range(6)]
    page = reader.get(URL, {"limit": 2}).json()
    seen = [r["sku"] for r in page["results"]]
    # Between pages: every record changes, one already read and the rest not yet read.
    for product in reversed(products):
        stock_set(product_id=product.id, quantity=3, actor=Actor.system())
    while page["next"]:
        page = reader.get(page["next"]).json()
        seen += [r["sku"] for r in page["results"]]

    assert seen == [p.sku for p in products]


def test_updated_since_pages_stay_complete_while_records_change(reader):
    fresh = [ProductFactory(stock=10) for _ in range(2)]
    old = [ProductFactory(stock=10) for _ in range(3)]
    StockRecord.objects.filter(product__in=old).update(
        updated_at=timezone.now() - timedelta(days=2)
    )
    later = [ProductFactory(stock=10) for _ in range(2)]
    since = (timezone.now() - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")

    page = reader.get(URL, {"limit": 2, "updated_since": since}).json()
    seen = [r["sku"] for r in page["results"]]
    stock_threshold_set(product_id=old[1].id, low_stock_threshold=1)  # now matches
    stock_set(product_id=fresh[0].id, quantity=4, actor=Actor.system())  # read already
    while page["next"]:
        page = reader.get(page["next"]).json()
        seen += [r["sku"] for r in page["results"]]

    # A record read before it changed is not read again; one not yet read that starts to
    # match is read when its page comes; none is lost or repeated.
    assert seen == [p.sku for p in (*fresh, old[1], *later)]


def test_threshold_changes_are_picked_up_by_updated_since(reader):
    product = ProductFactory(stock=10)
    StockRecord.objects.filter(product=product).update(
        updated_at=timezone.now() - timedelta(days=2)
    )
    since = (timezone.now() - timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert read_all(reader, updated_since=since) == []

    record = StockRecord.objects.get(product=product)
    record.low_stock_threshold = 50
    record.save()

    [changed] = read_all(reader, updated_since=since)
    assert (changed["sku"], changed["low_stock"]) == (product.sku, True)


def test_filters_by_sku_and_low_stock(reader):
    low = ProductFactory(sku="SKU-LOW-001", stock=2)
    high = ProductFactory(sku="SKU-HIGH-001", stock=50)
    ProductFactory(sku="SKU-ELSE-001", stock=50)

    by_sku = read_all(reader, sku=["SKU-LOW-001", "SKU-HIGH-001", "SKU-NONE-001"])
    low_only = read_all(reader, low_stock="true")

    assert [r["sku"] for r in by_sku] == [low.sku, high.sku]
    assert [r["sku"] for r in low_only] == [low.sku]


@pytest.mark.parametrize(
    ("query", "detail"),
    [
        ({"cursor": "%%%"}, "Field 'cursor' is not a cursor this API issued"),
        (
            {"cursor": base64.urlsafe_b64encode(b"c1:1:2").decode()},
            "Field 'cursor' is not a cursor this API issued",
        ),
        ({"updated_since": ""}, "Field 'updated_since' must not be empty"),
        ({"cursor": ""}, "Field 'cursor' must not be empty"),
        ({"limit": "0"}, "Field 'limit' must be an integer from 1 to 1000"),
        ({"limit": "-1"}, "Field 'limit' must be an integer from 1 to 1000"),
        ({"low_stock": "maybe"}, "Field 'low_stock' must be true or false"),
        ({"updated_since": "yesterday"}, "Field 'updated_since' must be an ISO 8601 date-time"),
        ({"sku": [f"SKU-{n}" for n in range(101)]}, "Field 'sku'"),
        ({"sku": ""}, "Field 'sku' must not be empty"),
        ({"page": "2"}, "Unknown query parameter 'page'"),
    ],
)
def test_bad_list_queries_are_refused_with_the_envelope(reader, query, detail):
    ProductFactory(stock=5)

    response = reader.get(URL, query)

    assert response.status_code == 400
    body = response.json()
    assert body["error"] == "validation_error"
    assert any(text.startswith(detail) for text in body["details"]), body


def test_list_needs_the_inventory_read_scope(client_for):
    response = client_for("orders:read").get(URL)

    assert response.status_code == 403
    assert response.json()["error"] == "forbidden"


# The feed position (changes_cursor) and the page: two statements, whatever the page size.
LIST_QUERIES = 2


def test_list_costs_the_same_queries_for_one_record_and_a_thousand(
    reader, django_assert_num_queries
):
    reader.get(URL)  # the key's first use is recorded; pin a warm request
    ProductFactory(stock=5)
    with django_assert_num_queries(LIST_QUERIES):
        one = reader.get(URL, {"limit": 1})
    for _ in range(30):
        ProductFactory(stock=5)
    with django_assert_num_queries(LIST_QUERIES):
        many = reader.get(URL, {"limit": 1000, "low_stock": "false", "sku": ["A-1", "B-2"]})
    with django_assert_num_queries(LIST_QUERIES):
        page = reader.get(URL, {"limit": 1000})

    assert len(one.json()["results"]) == 1
    assert many.json()["results"] == []
    assert len(page.json()["results"]) == 31
