"""Migration 0006 adds the on-hand range to the database without rewriting anything."""

import pytest
from django.db import IntegrityError, transaction

from inventory.models import StockMovement, StockRecord
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
