"""Inventory data migrations: the on-hand range (0006), reason codes (0008), versions (0014)."""

import pytest
from django.db import IntegrityError, transaction

from inventory.models import StockMovement, StockRecord
from inventory.selectors import stock_mismatches
from inventory.services import stock_set
from techparts.actors import Actor
from tests.factories import ProductFactory
from tests.migrations import migrate_to, migrated_back_to

BEFORE = [("inventory", "0005_ledger_refuses_truncate")]
RANGE = [("inventory", "0006_on_hand_range")]


@pytest.fixture
def product(transactional_db):
    # Made with today's services, so before migrating back.
    return ProductFactory(sku="SKU-OVER-1", stock=13)


@pytest.fixture
def before_the_range(product, transactional_db):
    """Migrate inventory back to before the range and yield its models of that time."""
    with migrated_back_to(BEFORE) as apps:
        yield apps


def test_out_of_range_stock_stops_the_migration_naming_it_and_history_is_kept(
    product, before_the_range
):
    OldRecord = before_the_range.get_model("inventory", "StockRecord")
    OldMovement = before_the_range.get_model("inventory", "StockMovement")
    # What two corrections of +9999 did before the rule existed.
    for on_hand_after in (10_012, 20_011):
        OldMovement.objects.create(
            product_id=product.pk,
            kind="correction",
            on_hand_delta=9999,
            reserved_delta=0,
            on_hand_after=on_hand_after,
            reserved_after=0,
            source="admin",
            actor_name="clerk",
        )
    OldRecord.objects.filter(product_id=product.pk).update(on_hand=20_011)

    with pytest.raises(RuntimeError, match=r"SKU-OVER-1 \(20011\)\. Correct each to at most 9999"):
        migrate_to(RANGE)

    # The clerk corrects it (through the ledger, as the services would); then it migrates.
    OldMovement.objects.create(
        product_id=product.pk,
        kind="correction",
        on_hand_delta=-10_011,
        reserved_delta=0,
        on_hand_after=9999,
        reserved_after=0,
        source="admin",
        actor_name="clerk",
    )
    OldRecord.objects.filter(product_id=product.pk).update(on_hand=9999)
    migrate_to(RANGE)

    assert list(
        StockMovement.objects.filter(product=product).order_by("id").values_list("on_hand_after")
    ) == [(13,), (10_012,), (20_011,), (9999,)]
    with pytest.raises(IntegrityError), transaction.atomic():
        StockRecord.objects.filter(product=product).update(on_hand=10_000)
    with pytest.raises(IntegrityError), transaction.atomic():
        OldMovement.objects.create(
            product_id=product.pk,
            kind="correction",
            on_hand_delta=1,
            reserved_delta=0,
            on_hand_after=10_000,
            reserved_after=0,
            source="system",
            actor_name="system",
        )


FEED = [("inventory", "0008_reason_codes_feed_position")]
BEFORE_FEED = [("inventory", "0007_ledger_newest_first_index")]


def test_rows_from_before_reason_codes_read_unspecified_and_keep_their_order(product):
    with migrated_back_to(BEFORE_FEED) as apps:
        OldMovement = apps.get_model("inventory", "StockMovement")
        OldMovement.objects.create(
            product_id=product.pk,
            kind="correction",
            on_hand_delta=1,
            reserved_delta=0,
            on_hand_after=14,
            reserved_after=0,
            source="admin",
            actor_name="clerk",
            reference="R" * 100,
        )
        # Read as the model was then: later migrations add columns this state has not got.
        FeedMovement = migrate_to(FEED).get_model("inventory", "StockMovement")

        rows = list(FeedMovement.objects.filter(product_id=product.pk).order_by("id"))
        assert [(row.reason_code, row.adjustment_group) for row in rows] == [
            ("unspecified", None),
            ("unspecified", None),
        ]
        # One position for the rows the migration found: the feed lists them in id order.
        assert len({row.xact for row in rows}) == 1


BEFORE_VERSIONS = [("inventory", "0013_cycle_counts")]
VERSIONS = [("inventory", "0014_stock_versions")]


def test_each_record_starts_at_its_count_of_ledger_rows_and_old_rows_keep_no_version(product):
    # `product` has its opening row (13 units); another product has no ledger row at all.
    unused = ProductFactory(sku="SKU-UNUSED-1", stock=0)
    with migrated_back_to(BEFORE_VERSIONS) as apps:
        OldMovement = apps.get_model("inventory", "StockMovement")
        OldRecord = apps.get_model("inventory", "StockRecord")
        for on_hand_after in (14, 15):
            OldMovement.objects.create(
                product_id=product.pk,
                kind="restock",
                on_hand_delta=1,
                reserved_delta=0,
                on_hand_after=on_hand_after,
                reserved_after=0,
                source="system",
                actor_name="system",
            )
        OldRecord.objects.filter(product_id=product.pk).update(on_hand=15)

        migrate_to(VERSIONS)

        # Migrated: the rows are as they were, the records count them.
        assert list(
            StockMovement.objects.filter(product=product)
            .order_by("id")
            .values_list("on_hand_after", "version")
        ) == [(13, None), (14, None), (15, None)]
        assert StockRecord.objects.get(product=product).version == 3
        assert StockRecord.objects.get(product=unused).version == 0

    # The next change continues from there, and the versions reconcile.
    stock_set(product_id=product.pk, quantity=16, actor=Actor.system())
    stock_set(product_id=unused.pk, quantity=1, actor=Actor.system())
    assert StockMovement.objects.get(product=product, on_hand_after=16).version == 4
    assert StockMovement.objects.get(product=unused).version == 1
    assert stock_mismatches() == []
