import pytest
from django.core.management import call_command
from django.db import DatabaseError, IntegrityError, connection, models, transaction

from inventory.models import ImmutableLedgerError, StockMovement, StockRecord
from tests.factories import ProductFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def row():
    product = ProductFactory(stock=10)
    return StockMovement.objects.get(product=product)


def test_queryset_update_of_ledger_is_refused(row):
    with pytest.raises(ImmutableLedgerError):
        StockMovement.objects.filter(pk=row.pk).update(on_hand_delta=99)

    row.refresh_from_db()
    assert row.on_hand_delta == 10


def test_queryset_delete_of_ledger_is_refused(row):
    with pytest.raises(ImmutableLedgerError):
        StockMovement.objects.filter(pk=row.pk).delete()

    assert StockMovement.objects.filter(pk=row.pk).exists()


def test_bulk_update_of_ledger_is_refused(row):
    row.reason = "rewritten"

    with pytest.raises(ImmutableLedgerError), transaction.atomic():
        StockMovement.objects.bulk_update([row], ["reason"])

    assert StockMovement.objects.get(pk=row.pk).reason == "Opening balance"


def test_saving_an_existing_ledger_row_is_refused(row):
    row.reason = "rewritten"

    with pytest.raises(ImmutableLedgerError):
        row.save()

    assert StockMovement.objects.get(pk=row.pk).reason == "Opening balance"


def test_deleting_a_ledger_row_is_refused(row):
    with pytest.raises(ImmutableLedgerError):
        row.delete()

    assert StockMovement.objects.filter(pk=row.pk).exists()


def test_deleting_a_product_with_history_is_refused(row):
    with pytest.raises(models.ProtectedError), transaction.atomic():
        row.product.delete()

    assert StockMovement.objects.filter(pk=row.pk).exists()


@pytest.mark.postgres
@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE inventory_stockmovement SET on_hand_delta = 99 WHERE id = %s",
        "UPDATE inventory_stockmovement SET reason = 'rewritten' WHERE id = %s",
        "DELETE FROM inventory_stockmovement WHERE id = %s",
    ],
)
def test_raw_sql_update_and_delete_of_ledger_are_refused_by_postgres(row, sql):
    with (
        pytest.raises(DatabaseError, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(sql, [row.pk])

    fresh = StockMovement.objects.get(pk=row.pk)
    assert (fresh.on_hand_delta, fresh.reason) == (10, "Opening balance")


@pytest.mark.postgres
def test_orm_update_bypassing_the_model_guard_is_refused_by_postgres(row):
    plain = models.QuerySet(model=StockMovement)  # no append-only QuerySet: only the trigger

    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        plain.filter(pk=row.pk).update(on_hand_delta=99)
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        plain.filter(pk=row.pk)._raw_delete(connection.alias)

    assert StockMovement.objects.get(pk=row.pk).on_hand_delta == 10


@pytest.fixture
def committed_row(row):
    # The row's deferred foreign-key checks are still pending in the test's transaction, and
    # PostgreSQL refuses TRUNCATE/ALTER TABLE on such a table for that reason alone: run them.
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    return row


@pytest.mark.postgres
@pytest.mark.parametrize(
    "sql",
    [
        "TRUNCATE inventory_stockmovement",
        "TRUNCATE inventory_stockmovement CASCADE",
        "TRUNCATE inventory_stockmovement RESTART IDENTITY",
        "TRUNCATE catalog_product CASCADE",  # empties the ledger through the cascade
    ],
)
def test_truncate_of_ledger_is_refused_by_postgres_even_for_a_superuser(committed_row, sql):
    # The suite connects as the cluster's superuser and owner of every table.
    with (
        pytest.raises(DatabaseError, match="append-only: TRUNCATE refused"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(sql)

    assert StockMovement.objects.filter(pk=committed_row.pk).exists()


@pytest.mark.postgres
def test_flush_empties_the_ledger_and_leaves_truncate_refused_afterwards(committed_row):
    # The sanctioned way (the owner's or a superuser's: the test runner's flush between
    # transactional tests): the guard is off only inside the flush's own transaction.
    call_command("flush", interactive=False, verbosity=0)

    assert not StockMovement.objects.exists()
    with (
        pytest.raises(DatabaseError, match="append-only: TRUNCATE refused"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute("TRUNCATE inventory_stockmovement")


def _append_correction(product, *, on_hand_delta: int, on_hand_after: int) -> StockMovement:
    """Insert a system correction row straight into the ledger, past the services."""
    return StockMovement.objects.create(
        product=product,
        kind=StockMovement.Kind.CORRECTION,
        on_hand_delta=on_hand_delta,
        reserved_delta=0,
        on_hand_after=on_hand_after,
        reserved_after=0,
        source="system",
        actor_name="system",
    )


def test_inserting_new_ledger_rows_still_works(row):
    _append_correction(row.product, on_hand_delta=1, on_hand_after=11)

    assert StockMovement.objects.filter(product=row.product).count() == 2


def test_database_refuses_more_reserved_than_on_hand():
    product = ProductFactory(stock=3)

    with pytest.raises(IntegrityError), transaction.atomic():
        StockRecord.objects.filter(product=product).update(reserved=4)

    assert StockRecord.objects.get(product=product).reserved == 0


def test_saving_a_stale_stock_record_writes_only_the_threshold():
    product = ProductFactory(stock=10)
    stale = StockRecord.objects.get(product=product)
    StockRecord.objects.filter(pk=stale.pk).update(on_hand=12)  # a change made meanwhile

    stale.low_stock_threshold = 20
    stale.save()

    fresh = StockRecord.objects.get(pk=stale.pk)
    assert (fresh.on_hand, fresh.low_stock_threshold) == (12, 20)


def test_available_and_low_stock_flag():
    record = StockRecord(on_hand=10, reserved=4, low_stock_threshold=6)

    assert record.available == 6
    assert record.is_low
    record.low_stock_threshold = 5
    assert not record.is_low


@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE inventory_stockrecord SET on_hand = 10000 WHERE product_id = %s",
        "UPDATE inventory_stockrecord SET on_hand = on_hand + 9999 WHERE product_id = %s",
    ],
)
def test_database_refuses_on_hand_beyond_the_maximum(sql):
    product = ProductFactory(stock=13)

    with pytest.raises(IntegrityError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, [product.pk])

    assert StockRecord.objects.get(product=product).on_hand == 13


def test_database_refuses_a_ledger_row_beyond_the_maximum(row):
    with pytest.raises(IntegrityError), transaction.atomic():
        _append_correction(row.product, on_hand_delta=9990, on_hand_after=10_000)

    assert StockMovement.objects.filter(product=row.product).count() == 1


def test_saving_a_threshold_moves_updated_at():
    product = ProductFactory(stock=10)
    record = StockRecord.objects.get(product=product)
    before = record.updated_at

    record.low_stock_threshold = 20
    record.save()

    # Readers see low_stock, so `updated_since` and the list must see this change.
    assert StockRecord.objects.get(pk=record.pk).updated_at > before
