"""Stock versions: each ledger row moves its record's version by exactly one, in the stock
UPDATE itself, and the version travels with the row (feed, events, reads of stock)."""

import pytest
from django.db import transaction

from inventory import services
from inventory.approvals import approval_policy
from inventory.models import StockMovement, StockRecord
from inventory.selectors import stock_mismatches
from inventory.services import (
    BulkItem,
    Movement,
    stock_bulk_apply,
    stock_release,
    stock_reserve,
    stock_set,
)
from techparts.actors import Actor
from techparts.events.models import Event
from tests.factories import ProductFactory
from tests.inventory.test_views import PATCH_QUERIES

pytestmark = pytest.mark.django_db

SYSTEM = Actor.system()


def versions(product) -> list[int | None]:
    """The versions of the product's ledger rows, in the order they were written."""
    return list(
        StockMovement.objects.filter(product=product)
        .order_by("id")
        .values_list("version", flat=True)
    )


def record_version(product) -> int:
    return StockRecord.objects.get(product=product).version


def test_a_new_record_starts_at_0_and_its_opening_row_brings_it_to_1():
    opened = ProductFactory(stock=10)
    empty = ProductFactory(stock=0)  # no opening row

    assert (versions(opened), record_version(opened)) == ([1], 1)
    assert (versions(empty), record_version(empty)) == ([], 0)


def test_a_patch_moves_the_version_by_one_in_no_extra_query_and_keeps_the_seed_body(
    client_for, django_assert_num_queries
):
    product = ProductFactory(sku="SKU-VER-1", stock=10)
    client = client_for("inventory:write")

    with django_assert_num_queries(PATCH_QUERIES):
        response = client.patch("/v1/inventory/SKU-VER-1", {"quantity": 12}, format="json")

    assert response.status_code == 200
    assert "version" not in response.json()  # the seed's body does not change
    assert (versions(product), record_version(product)) == ([1, 2], 2)


def test_a_bulk_call_and_an_order_give_each_line_its_records_next_version():
    products = [ProductFactory(stock=10), ProductFactory(stock=10), ProductFactory(stock=0)]
    stock_set(product_id=products[0].pk, quantity=11, actor=SYSTEM)  # version 2 there

    stock_bulk_apply(
        items=[BulkItem(sku=product.sku, adjust_by=5) for product in products], actor=SYSTEM
    )
    stock_reserve(
        quantities={product.pk: 2 for product in products}, actor=SYSTEM, reference="ORD-1"
    )
    stock_release(quantities={products[1].pk: 2}, actor=SYSTEM, reference="ORD-1")

    assert [versions(product) for product in products] == [[1, 2, 3, 4], [1, 2, 3, 4], [1, 2]]
    assert [record_version(product) for product in products] == [4, 4, 2]
    assert stock_mismatches() == []


def test_several_rows_of_one_record_in_one_statement_get_consecutive_versions():
    # No service writes two rows of one record in one call today; the statement must still
    # number them V - k + 1 .. V in order, so this goes through the one write path directly.
    product = ProductFactory(stock=10)
    other = ProductFactory(stock=10)
    records = {
        record.product_id: record
        for record in StockRecord.objects.select_related("product").filter(
            product__in=[product, other]
        )
    }
    rows = [
        Movement(product.pk, "correction", 2, 0, 12, 0, None),
        Movement(other.pk, "correction", 1, 0, 11, 0, None),
        Movement(product.pk, "correction", 3, 0, 15, 0, None),
    ]

    with transaction.atomic():
        written = services._write(
            rows, records=records, actor=SYSTEM, reason="", reference="", reason_code="correction"
        )

    assert written.versions == [2, 2, 3]
    assert versions(product) == [1, 2, 3]
    assert StockRecord.objects.get(product=product).on_hand == 15
    assert record_version(product) == 3
    changed = Event.objects.filter(subject=f"sku:{product.sku}", type="inventory.changed")
    assert [event.data["version"] for event in changed.order_by("id")] == [1, 2, 3]


def test_a_held_decrease_is_a_version_of_its_own(make_api_key):
    policy = approval_policy()
    policy.min_units = 5
    policy.save()
    key, _ = make_api_key(owner="erp", corrections_need_approval=True)
    product = ProductFactory(stock=20)

    change = stock_set(product_id=product.pk, quantity=10, actor=Actor.api(key), approvals=True)

    assert change.approval_request is not None
    hold = StockMovement.objects.get(product=product, kind="hold")
    assert (hold.version, record_version(product), change.record.version) == (2, 2, 2)


def test_every_event_of_a_change_carries_its_version_crossings_included():
    product = ProductFactory(stock=10, low_stock_threshold=5)

    stock_set(product_id=product.pk, quantity=0, actor=SYSTEM)
    stock_set(product_id=product.pk, quantity=3, actor=SYSTEM)

    events = Event.objects.filter(subject=f"sku:{product.sku}").order_by("id")
    assert [(event.type, event.data["version"], event.version) for event in events] == [
        ("inventory.changed", 1, 1),
        ("inventory.back_in_stock", 1, 1),  # opening: 0 -> 10
        ("inventory.changed", 2, 2),
        ("inventory.low_stock", 2, 2),
        ("inventory.out_of_stock", 2, 2),
        ("inventory.changed", 3, 3),
        ("inventory.back_in_stock", 3, 3),
    ]


@pytest.mark.django_db(transaction=True)  # the feeds serve committed rows only
def test_reads_of_stock_the_feed_and_the_events_carry_the_versions(client_for):
    product = ProductFactory(sku="SKU-VER-2", stock=10)
    stock_set(product_id=product.pk, quantity=4, actor=SYSTEM)
    stock_reserve(quantities={product.pk: 1}, actor=SYSTEM, reference="ORD-1")
    client = client_for("inventory:read")

    one = client.get("/v1/inventory/SKU-VER-2").json()
    listed = client.get("/v1/inventory", {"sku": "SKU-VER-2"}).json()["results"]
    feed = client.get("/v1/inventory/changes", {"sku": "SKU-VER-2"}).json()["results"]
    movements = client.get("/v1/inventory/SKU-VER-2/movements").json()["results"]
    events = client.get("/v1/events", {"type": "inventory.changed"}).json()["results"]

    assert one["version"] == 3
    assert [record["version"] for record in listed] == [3]
    assert [(row["quantity_after"], row["reserved_after"], row["version"]) for row in feed] == [
        (10, 0, 1),
        (4, 0, 2),
        (4, 1, 3),
    ]
    assert [row["version"] for row in movements] == [3, 2, 1]  # newest first
    assert [event["data"]["version"] for event in events] == [1, 2, 3]
