"""Expired Idempotency-Key records are purged: a batch by every IDEMPOTENCY_PURGE_EVERY-th new
key of a process, all by a command."""

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from techparts.idempotency.models import IdempotencyRecord
from techparts.idempotency.services import PURGE_BATCH_SIZE
from tests.factories import ProductFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def purge_on_every_key(settings):
    settings.IDEMPOTENCY_PURGE_EVERY = 1


@pytest.fixture
def records(make_api_key):
    """make(n, age=...) stores n records of another integrator's key, that old."""
    other_key, _ = make_api_key(owner="someone_else")

    def make(count, *, age, prefix="old"):
        created = IdempotencyRecord.objects.bulk_create(
            IdempotencyRecord(
                api_key=other_key,
                key=f"{prefix}-{n}",
                method="POST",
                path="/v1/orders",
                fingerprint="0" * 64,
                response_status=201,
                response_body="{}",
            )
            for n in range(count)
        )
        IdempotencyRecord.objects.filter(pk__in=[r.pk for r in created]).update(
            created_at=timezone.now() - age
        )
        return {r.key for r in created}

    return make


def keys() -> set[str]:
    return set(IdempotencyRecord.objects.values_list("key", flat=True))


def patch_with_key(api, key: str):
    product = ProductFactory(stock=5)
    return api.patch(
        f"/v1/inventory/{product.sku}",
        {"quantity": 7},
        format="json",
        HTTP_IDEMPOTENCY_KEY=key,
    )


def test_claiming_a_new_key_purges_expired_records_of_every_integrator(api, records):
    expired = records(3, age=timedelta(hours=25))
    fresh = records(2, age=timedelta(hours=23), prefix="fresh")

    response = patch_with_key(api, "new-key")

    assert response.status_code == 200
    assert keys() == fresh | {"new-key"}
    assert not keys() & expired


def test_a_claim_purges_a_bounded_batch_oldest_first(api, records):
    oldest = records(PURGE_BATCH_SIZE, age=timedelta(days=3), prefix="oldest")
    older = records(20, age=timedelta(days=2), prefix="older")

    patch_with_key(api, "new-key")

    assert keys() == older | {"new-key"}
    assert not keys() & oldest
    patch_with_key(api, "another-key")
    assert keys() == {"new-key", "another-key"}


def test_only_every_nth_new_key_of_a_process_purges(api, records, settings):
    settings.IDEMPOTENCY_PURGE_EVERY = 3
    expired = records(5, age=timedelta(hours=25))

    purged_at = []
    for n in range(3):
        patch_with_key(api, f"key-{n}")
        purged_at.append(not keys() & expired)

    # One of three consecutive new keys purges (which one depends on the process's count).
    assert purged_at.count(True) >= 1
    assert purged_at.index(True) == purged_at.count(False)
    assert keys() == {"key-0", "key-1", "key-2"}


def test_purge_command_deletes_every_expired_record_and_keeps_the_rest(records):
    expired = records(2500, age=timedelta(hours=24, minutes=1))
    fresh = records(4, age=timedelta(hours=23, minutes=59), prefix="fresh")
    out = StringIO()

    call_command("purge_idempotency_keys", "--batch-size", "1000", stdout=out)

    assert keys() == fresh
    assert not keys() & expired
    assert out.getvalue().strip() == (
        "Purged 2500 expired idempotency record(s) (kept for 24 hours)."
    )


def test_purge_command_follows_the_configured_lifetime(records, settings):
    settings.IDEMPOTENCY_KEY_TTL_HOURS = 1
    kept = records(2, age=timedelta(minutes=50), prefix="kept")
    records(2, age=timedelta(minutes=70))

    call_command("purge_idempotency_keys", stdout=StringIO())

    assert keys() == kept
