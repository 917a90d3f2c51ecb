"""GET /v1/inventory/changes: the ledger as a feed, its cursor, filters and disclosure.

Transactional tests: on PostgreSQL the feed serves only rows of transactions that have ended,
so rows written inside a test's own open transaction would (rightly) never show.
"""

import base64
import uuid

import pytest

from inventory.feed import FEED_START, FeedPosition, change_feed_page
from inventory.models import StockMovement
from inventory.serializers import ChangeOutputSerializer
from inventory.services import stock_adjust, stock_set
from techparts.actors import Actor
from tests.factories import ProductFactory, UserFactory

pytestmark = pytest.mark.django_db(transaction=True)

URL = "/v1/inventory/changes"


def ledger_ids() -> list[int]:
    return list(StockMovement.objects.order_by("id").values_list("id", flat=True))


def follow(client, *, limit: int, **params) -> tuple[list[dict], str]:
    """Read the whole feed page by page; return every row and the last next_cursor."""
    rows, cursor = [], None
    for _ in range(100):
        query = {"limit": limit, **params, **({"after": cursor} if cursor else {})}
        response = client.get(URL, query)
        assert response.status_code == 200, response.json()
        body = response.json()
        rows += body["results"]
        cursor = body["next_cursor"]
        if not body["has_more"]:
            return rows, cursor
    raise AssertionError("the feed did not end")


def test_feed_serves_every_ledger_row_once_in_order_across_pages(client_for):
    products = [ProductFactory(stock=5) for _ in range(3)]
    for product in products:
        stock_set(product_id=product.id, quantity=7, actor=Actor.system())
    client = client_for("inventory:read")

    rows, _ = follow(client, limit=2)

    assert [row["id"] for row in rows] == ledger_ids()
    assert len(rows) == 6


def test_feed_row_shows_before_and_after_of_every_count(client_for):
    product = ProductFactory(public_id="PROD-FEED-001", sku="SKU-FEED-001", stock=10)
    client = client_for("inventory:read", "inventory:write", owner="acme_wms")
    client.patch(
        "/v1/inventory/SKU-FEED-001",
        {"quantity": 7, "reason_code": "damaged", "reason": "dropped", "reference": "wms://x/1"},
        format="json",
    )

    rows, _ = follow(client, limit=10)

    opening, damaged = rows
    assert opening["reason_code"] == "opening"
    movement = StockMovement.objects.get(product=product, reason_code="damaged")
    assert damaged == {
        "id": movement.id,
        "sku": "SKU-FEED-001",
        "product_id": "PROD-FEED-001",
        "kind": "correction",
        "reason_code": "damaged",
        "quantity_before": 10,
        "quantity_change": -3,
        "quantity_after": 7,
        "reserved_before": 0,
        "reserved_change": 0,
        "reserved_after": 0,
        "available_before": 10,
        "available_after": 7,
        "adjustment_group": None,
        "reason": "dropped",
        "reference": "wms://x/1",
        "source": "api",
        "actor": "acme_wms",
        "created_at": movement.created_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "version": 2,  # the record's second change, after the opening count
    }


def test_feed_rows_carry_exactly_the_fields_the_schema_documents(client_for, schema):
    ProductFactory(stock=5)

    body = client_for("inventory:read").get(URL).json()

    components = schema["components"]["schemas"]
    assert set(body) == set(components["StockChangePage"]["properties"])
    assert set(body["results"][0]) == set(components["StockChange"]["properties"])
    assert set(ChangeOutputSerializer().fields) == set(body["results"][0])


def test_feed_shows_other_owners_and_staff_rows_without_their_details(client_for):
    product = ProductFactory(stock=10)
    group = uuid.uuid4()
    other_key = client_for("inventory:write", owner="other_wms").api_key
    stock_set(
        product_id=product.id,
        quantity=8,
        actor=Actor.api(other_key),
        reason="their note",
        reference="theirs://doc",
        reason_code="cycle_count",
        adjustment_group=group,
    )
    stock_adjust(
        product_id=product.id,
        delta=-1,
        actor=Actor.staff(UserFactory(username="clerk")),
        reason="staff note",
        reason_code="damaged",
    )
    client = client_for("inventory:read", owner="acme_wms")

    rows, _ = follow(client, limit=10)

    theirs, staff = rows[1:]
    for row in (theirs, staff):
        assert (row["reason"], row["reference"], row["adjustment_group"]) == ("", "", None)
        assert (row["actor"], row["source"]) == ("TechParts", None)
    assert (theirs["reason_code"], theirs["quantity_after"]) == ("cycle_count", 8)
    assert (staff["reason_code"], staff["quantity_after"]) == ("damaged", 7)
    # The writer itself sees its own row whole.
    own_rows, _ = follow(client_for("inventory:read", owner="other_wms"), limit=10)
    assert (own_rows[1]["reference"], own_rows[1]["adjustment_group"]) == (
        "theirs://doc",
        str(group),
    )


def test_following_next_cursor_of_an_empty_page_later_brings_new_rows_only(client_for):
    product = ProductFactory(stock=5)
    client = client_for("inventory:read")
    first, cursor = follow(client, limit=100)
    assert len(first) == 1

    caught_up = client.get(URL, {"after": cursor}).json()
    assert caught_up["results"] == [] and caught_up["has_more"] is False
    stock_set(product_id=product.id, quantity=9, actor=Actor.system())
    later = client.get(URL, {"after": caught_up["next_cursor"]}).json()

    assert [row["quantity_after"] for row in later["results"]] == [9]


def test_feed_filters_by_sku_kind_and_reason_code_without_losing_its_place(client_for):
    wanted = ProductFactory(sku="SKU-WANT-001", stock=5)
    other = ProductFactory(sku="SKU-OTHER-001", stock=5)
    stock_set(product_id=other.id, quantity=1, actor=Actor.system(), reason_code="damaged")
    stock_set(product_id=wanted.id, quantity=2, actor=Actor.system(), reason_code="damaged")
    client = client_for("inventory:read")

    by_sku, cursor = follow(client, limit=1, sku=["SKU-WANT-001"])
    by_code, _ = follow(client, limit=100, reason_code="damaged")
    by_kind, _ = follow(client, limit=100, kind="restock")
    stock_set(product_id=wanted.id, quantity=3, actor=Actor.system())
    newer = client.get(URL, {"after": cursor, "sku": "SKU-WANT-001"}).json()["results"]

    assert [r["quantity_after"] for r in by_sku] == [5, 2]
    assert {r["sku"] for r in by_code} == {"SKU-WANT-001", "SKU-OTHER-001"}
    assert by_kind == []
    assert [r["quantity_after"] for r in newer] == [3]


@pytest.mark.parametrize(
    ("query", "detail"),
    [
        ({"after": "not-a-cursor"}, "Field 'after' is not a cursor this API issued"),
        # Well-formed base64 of the wrong kind: the inventory list's cursor, a bigint too large.
        (
            {"after": base64.urlsafe_b64encode(b"s1:5").decode().rstrip("=")},
            "Field 'after' is not a cursor this API issued",
        ),
        (
            {"after": base64.urlsafe_b64encode(b"c1:9223372036854775808:1").decode()},
            "Field 'after' is not a cursor this API issued",
        ),
        ({"after": "A" * 5000}, "Field 'after' is not a cursor this API issued"),
        ({"after": ""}, "Field 'after' must not be empty"),
        ({"kind": ""}, "Field 'kind' must not be empty"),
        ({"limit": "0"}, "Field 'limit' must be an integer from 1 to 1000"),
        ({"limit": "1001"}, "Field 'limit' must be an integer from 1 to 1000"),
        ({"limit": "1e3"}, "Field 'limit' must be an integer from 1 to 1000"),
        ({"kind": "stolen"}, "Field 'kind' must be one of"),
        ({"sku": [f"SKU-{n}" for n in range(101)]}, "Field 'sku'"),
        ({"since": "1"}, "Unknown query parameter 'since'"),
    ],
)
def test_bad_feed_queries_are_refused_with_the_envelope(client_for, query, detail):
    ProductFactory(stock=5)

    response = client_for("inventory:read").get(URL, query)

    assert response.status_code == 400
    body = response.json()
    assert body["error"] == "validation_error"
    assert any(text.startswith(detail) for text in body["details"]), body


def test_feed_needs_the_inventory_read_scope(client_for):
    response = client_for("products:read").get(URL)

    assert response.status_code == 403
    assert response.json()["error"] == "forbidden"


def test_changes_and_bulk_are_their_own_routes_not_skus_and_real_skus_still_resolve(client_for):
    ProductFactory(sku="GPU-NV-4090-MSI-001", stock=5)
    client = client_for("inventory:read", "inventory:write")

    feed = client.get(URL)
    bulk = client.post(
        "/v1/inventory/bulk",
        {"items": [{"sku": "GPU-NV-4090-MSI-001", "quantity": 6}]},
        format="json",
    )
    bulk_get = client.get("/v1/inventory/bulk")  # the bulk route answers, not a SKU lookup
    detail = client.get("/v1/inventory/GPU-NV-4090-MSI-001")
    upper = client.get("/v1/inventory/CHANGES")  # paths are case-sensitive: a SKU lookup
    upper_bulk = client.patch("/v1/inventory/BULK", {"quantity": 1}, format="json")

    assert feed.status_code == 200 and set(feed.json()) == {"results", "next_cursor", "has_more"}
    assert bulk.status_code == 200 and bulk.json()["summary"]["applied"] == 1
    assert bulk_get.status_code == 405 and bulk_get.json()["error"] == "method_not_allowed"
    assert detail.status_code == 200 and detail.json()["quantity"] == 6
    assert upper.status_code == 404
    assert upper.json()["message"] == "SKU 'CHANGES' does not exist in inventory system"
    assert upper_bulk.status_code == 404
    assert upper_bulk.json()["message"] == "SKU 'BULK' does not exist in inventory system"


def test_feed_cursor_round_trips_and_starts_before_the_first_row():
    position = FeedPosition(2**63 - 1, 12)

    assert FeedPosition.from_cursor(position.cursor()) == position
    assert FeedPosition(0, 1) > FEED_START


def test_feed_page_costs_one_query_whatever_its_size(django_assert_num_queries):
    products = [ProductFactory(stock=5) for _ in range(5)]
    for product in products:
        stock_set(product_id=product.id, quantity=1, actor=Actor.system())

    with django_assert_num_queries(1):
        small = change_feed_page(limit=1)
    with django_assert_num_queries(1):
        large = change_feed_page(
            limit=1000, skus=[p.sku for p in products], kind="correction", reason_code="correction"
        )

    assert (len(small.movements), small.has_more) == (1, True)
    assert (len(large.movements), large.has_more) == (5, False)


def test_feed_view_costs_the_same_queries_for_one_row_and_many(
    client_for, django_assert_num_queries
):
    client = client_for("inventory:read")
    client.get(URL)  # the key's first use records it; pin a warm request
    ProductFactory(stock=5)
    with django_assert_num_queries(FEED_QUERIES):
        one = client.get(URL, {"limit": 1})
    for _ in range(20):
        ProductFactory(stock=5)
    with django_assert_num_queries(FEED_QUERIES):
        many = client.get(URL, {"limit": 1000})

    assert len(one.json()["results"]) == 1
    assert len(many.json()["results"]) == 21


# A warm key is authenticated from the cache; the page, rows and horizon, is one statement.
FEED_QUERIES = 1
