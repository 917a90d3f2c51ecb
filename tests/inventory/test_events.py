"""Every stock change records its events in the outbox, in the change's own transaction.

Transactional tests: the services must open (and roll back) their own transaction, as they do
in production, not run inside the test's.
"""

import pytest

from inventory import services
from inventory.models import StockMovement
from inventory.services import BulkItem, stock_adjust, stock_bulk_apply, stock_set
from techparts.actors import Actor
from techparts.events.models import Event
from tests.factories import ProductFactory

pytestmark = pytest.mark.django_db(transaction=True)

SYSTEM = Actor.system()


def events(product) -> list[tuple[str, int, int]]:
    """(type, available before, available after) of the product's events, in order."""
    return [
        (event.type, event.data["available_before"], event.data["available_after"])
        for event in Event.objects.filter(subject=f"sku:{product.sku}").order_by("id")
    ]


def test_a_burst_is_never_collapsed_each_change_carries_its_own_before_and_after():
    gpu = ProductFactory(sku="GPU-1", stock=0, low_stock_threshold=5)
    Event.objects.all().delete()  # opening stock is an event of its own

    stock_set(product_id=gpu.pk, quantity=10, actor=SYSTEM)
    stock_set(product_id=gpu.pk, quantity=0, actor=SYSTEM)

    assert events(gpu) == [
        ("inventory.changed", 0, 10),
        ("inventory.back_in_stock", 0, 10),
        ("inventory.changed", 10, 0),
        ("inventory.low_stock", 10, 0),
        ("inventory.out_of_stock", 10, 0),
    ]
    ledger = list(StockMovement.objects.filter(product=gpu).order_by("id"))
    changed = Event.objects.filter(type="inventory.changed").order_by("id")
    assert [event.data["ledger_id"] for event in changed] == [row.id for row in ledger[-2:]]
    assert changed[1].data | {"ledger_id": 0} == {
        "sku": "GPU-1",
        "product_id": gpu.public_id,
        "ledger_id": 0,
        "kind": "correction",
        "reason_code": "correction",
        "quantity_before": 10,
        "quantity_after": 0,
        "reserved_before": 0,
        "reserved_after": 0,
        "available_before": 10,
        "available_after": 0,
        "version": 2,  # no opening row at 0 units: the second change of the record
    }


def test_back_in_stock_fires_when_a_restock_arrives_while_units_are_reserved():
    gpu = ProductFactory(sku="GPU-1", stock=2)
    services.stock_reserve(quantities={gpu.pk: 2}, actor=SYSTEM, reference="ORD-1")
    Event.objects.all().delete()

    stock_set(product_id=gpu.pk, quantity=5, actor=SYSTEM, kind="restock")

    assert events(gpu) == [("inventory.changed", 0, 3), ("inventory.back_in_stock", 0, 3)]
    (changed,) = Event.objects.filter(type="inventory.changed")
    assert (changed.data["reserved_before"], changed.data["reserved_after"]) == (2, 2)


def test_low_stock_fires_only_when_available_crosses_the_threshold_downward():
    gpu = ProductFactory(sku="GPU-1", stock=10, low_stock_threshold=5)
    Event.objects.all().delete()

    for quantity in (4, 3, 8, 5, 2):
        stock_set(product_id=gpu.pk, quantity=quantity, actor=SYSTEM)

    low = [(before, after) for kind, before, after in events(gpu) if kind.endswith("low_stock")]
    assert low == [(10, 4), (8, 5)]


def test_a_reservation_that_takes_the_last_unit_is_out_of_stock_and_its_release_back_in():
    gpu = ProductFactory(sku="GPU-1", stock=3, low_stock_threshold=0)
    Event.objects.all().delete()

    services.stock_reserve(quantities={gpu.pk: 3}, actor=SYSTEM, reference="ORD-1")
    services.stock_release(quantities={gpu.pk: 3}, actor=SYSTEM, reference="ORD-1")

    assert events(gpu) == [
        ("inventory.changed", 3, 0),
        ("inventory.low_stock", 3, 0),
        ("inventory.out_of_stock", 3, 0),
        ("inventory.changed", 0, 3),
        ("inventory.back_in_stock", 0, 3),
    ]


def test_no_event_without_its_change_and_no_change_without_its_event(monkeypatch):
    gpu = ProductFactory(sku="GPU-1", stock=4)
    before = (StockMovement.objects.count(), Event.objects.count())

    def fail_after_the_ledger_write(*args, **kwargs):
        assert StockMovement.objects.count() == before[0] + 1  # the ledger row was written
        assert Event.objects.count() > before[1]  # and its events
        raise RuntimeError("a step after the ledger write failed")

    monkeypatch.setattr(services, "_show_written", fail_after_the_ledger_write)
    with pytest.raises(RuntimeError):
        stock_adjust(product_id=gpu.pk, delta=-1, actor=SYSTEM)

    assert (StockMovement.objects.count(), Event.objects.count()) == before
    gpu.stock.refresh_from_db()
    assert gpu.stock.on_hand == 4


def test_the_private_part_keeps_what_only_the_writing_owner_may_see(client_for):
    gpu = ProductFactory(sku="GPU-1", stock=10)
    client = client_for("inventory:write", owner="acme_wms")
    Event.objects.all().delete()

    client.patch(
        "/v1/inventory/GPU-1",
        {"quantity": 7, "reason_code": "damaged", "reason": "dropped", "reference": "wms://x/1"},
        format="json",
    )
    stock_set(product_id=gpu.pk, quantity=6, actor=SYSTEM, reason="staff note")

    api_made, system_made = Event.objects.filter(type="inventory.changed").order_by("id")
    assert api_made.origin_owner == "acme_wms"
    assert api_made.private == {
        "reason": "dropped",
        "reference": "wms://x/1",
        "adjustment_group": None,
        "actor": "acme_wms",
    }
    assert api_made.data["reason_code"] == "damaged"
    assert system_made.origin_owner == ""
    assert "staff note" not in str(system_made.data)


def test_a_bulk_call_records_one_changed_event_per_applied_row_with_its_group():
    products = [ProductFactory(sku=f"BULK-{n}", stock=10) for n in range(3)]
    Event.objects.all().delete()

    result = stock_bulk_apply(
        items=[
            BulkItem(sku="BULK-0", quantity=12, reason_code="received"),
            BulkItem(sku="BULK-1", quantity=10),  # unchanged: no row, no event
            BulkItem(sku="BULK-2", adjust_by=-1, reason_code="damaged", reason="cracked"),
        ],
        actor=SYSTEM,
        reference="wms://cc/1",
        error_policy="reject_failed_items",
    )

    changed = list(Event.objects.filter(type="inventory.changed").order_by("id"))
    assert [event.subject for event in changed] == ["sku:BULK-0", "sku:BULK-2"]
    assert [event.data["reason_code"] for event in changed] == ["received", "damaged"]
    assert [event.private["reason"] for event in changed] == ["", "cracked"]
    assert {event.private["adjustment_group"] for event in changed} == {
        str(result.adjustment_group)
    }
    assert len(products) == 3


@pytest.mark.parametrize("count", [3, 1200])
def test_every_event_names_the_ledger_row_of_its_own_change(count):
    """Each event's ledger id is its own row's, past 1,000 rows (two statements each) too."""
    from tests.inventory.test_bulk import open_products

    products = open_products(count, stock=1)
    Event.objects.all().delete()

    # -1 each: every item writes inventory.changed and crosses to out of stock (two events).
    stock_bulk_apply(items=[BulkItem(sku=p.sku, adjust_by=-1) for p in products], actor=SYSTEM)

    ledger = dict(StockMovement.objects.filter(on_hand_delta=-1).values_list("product__sku", "id"))
    written = list(Event.objects.order_by("id").values_list("type", "subject", "data"))
    assert len(written) == 2 * count
    assert [kind for kind, _, _ in written[:2]] == ["inventory.changed", "inventory.out_of_stock"]
    assert all(
        data["ledger_id"] == ledger[subject.removeprefix("sku:")] for _, subject, data in written
    )
    assert [subject for _, subject, _ in written[::2]] == [f"sku:{p.sku}" for p in products]
