"""The sweep task and ensure_sweeper: one next sweep at a time, and every hook run per sweep.

In-process (the sweep is called as the worker would call it); tests/tasks/test_workers.py
runs the same in real worker processes.
"""

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from django.db import connections
from django.utils import timezone
from django_tasks import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from techparts.events.models import Event
from techparts.events.services import NewEvent, events_record
from techparts.idempotency.models import IdempotencyRecord
from techparts.tasks.models import SweepSchedule
from techparts.tasks.tasks import ensure_sweeper, sweep
from tests.tasks.sample_tasks import task_result

pytestmark = pytest.mark.django_db

SWEEP = "techparts.tasks.tasks.sweep"
READY, RUNNING = TaskResultStatus.READY, TaskResultStatus.RUNNING
SUCCESSFUL, FAILED = TaskResultStatus.SUCCESSFUL, TaskResultStatus.FAILED


def sweeps(status=None) -> list[DBTaskResult]:
    rows = DBTaskResult.objects.filter(task_path=SWEEP).order_by("enqueued_at")
    return list(rows.filter(status=status) if status else rows)


def scheduled_id() -> str:
    return SweepSchedule.objects.get().task_result_id


def run_as_worker(sweep_id: str) -> dict[str, int]:
    """Claim the scheduled sweep as a worker does (RUNNING), then run it."""
    DBTaskResult.objects.filter(pk=sweep_id).update(status=RUNNING, started_at=timezone.now())
    return sweep.call()


def test_ensure_sweeper_schedules_one_sweep_due_now_and_is_idempotent():
    before = timezone.now()

    first = ensure_sweeper()
    second = ensure_sweeper()

    assert first == second == scheduled_id()
    [scheduled] = sweeps()
    assert (str(scheduled.pk), scheduled.status) == (first, READY)
    assert before <= scheduled.run_after <= timezone.now()


@pytest.mark.parametrize("outcome", [SUCCESSFUL, FAILED, RUNNING, "pruned"])
def test_ensure_sweeper_schedules_again_once_the_named_sweep_no_longer_waits(outcome):
    old = ensure_sweeper()
    if outcome == "pruned":
        DBTaskResult.objects.filter(pk=old).delete()
    else:
        DBTaskResult.objects.filter(pk=old).update(status=outcome)

    new = ensure_sweeper()

    assert new != old
    assert scheduled_id() == new
    assert [str(row.pk) for row in sweeps(READY)] == [new]


def test_ensure_sweeper_recreates_a_missing_schedule_row():
    SweepSchedule.objects.all().delete()

    scheduled = ensure_sweeper()

    assert scheduled == scheduled_id()
    assert [str(row.pk) for row in sweeps(READY)] == [scheduled]


def test_a_sweep_schedules_its_successor_one_interval_later(settings):
    settings.TASKS_SWEEP_INTERVAL_SECONDS = 60
    current = ensure_sweeper()
    before = timezone.now()

    run_as_worker(current)

    [successor] = sweeps(READY)
    assert scheduled_id() == str(successor.pk) != current
    assert before + timedelta(seconds=60) <= successor.run_after
    assert successor.run_after <= timezone.now() + timedelta(seconds=60)


def test_a_sweep_while_the_next_one_waits_schedules_nothing():
    waiting = ensure_sweeper()

    sweep.call()  # e.g. a sweep enqueued by hand, or one overlapping the next

    assert scheduled_id() == waiting
    assert [str(row.pk) for row in sweeps()] == [waiting]


def test_a_sweep_prunes_old_results_events_and_idempotency_records_and_fails_lost_tasks(
    settings, make_api_key
):
    settings.TASK_RESULTS_RETENTION_DAYS = 7
    settings.TASKS_LOST_AFTER_SECONDS = 900
    old_done = task_result(
        SUCCESSFUL, started_ago=timedelta(days=8), finished_ago=timedelta(days=8)
    )
    old_failed = task_result(FAILED, started_ago=timedelta(days=9), finished_ago=timedelta(days=9))
    recent_done = task_result(
        SUCCESSFUL, started_ago=timedelta(days=6), finished_ago=timedelta(days=6)
    )
    lost = task_result(RUNNING, started_ago=timedelta(seconds=901))
    busy = task_result(RUNNING, started_ago=timedelta(seconds=60))
    waiting = task_result(READY)
    for days_ago, sku in [(31, "OLD-1"), (1, "NEW-1")]:
        events_record(
            [NewEvent(type="inventory.changed", subject=f"sku:{sku}", data={"sku": sku})],
            origin_owner="",
            created_at=timezone.now() - timedelta(days=days_ago),
        )
    key, _ = make_api_key()
    expired = IdempotencyRecord.objects.create(
        api_key=key,
        key="old",
        method="POST",
        path="/v1/orders",
        fingerprint="0" * 64,
        response_status=201,
    )
    IdempotencyRecord.objects.filter(pk=expired.pk).update(
        created_at=timezone.now() - timedelta(hours=settings.IDEMPOTENCY_KEY_TTL_HOURS + 1)
    )

    handled = run_as_worker(ensure_sweeper())

    ours = {
        "tasks.prune_results": 2,
        "tasks.fail_lost": 1,
        "events.prune": 1,
        "idempotency.purge": 1,
    }
    assert {name: handled.get(name) for name in ours} == ours  # other apps add their own hooks
    remaining = {row.pk: row for row in DBTaskResult.objects.exclude(task_path=SWEEP)}
    assert set(remaining) == {recent_done.pk, lost.pk, busy.pk, waiting.pk}
    assert not {old_done.pk, old_failed.pk} & set(remaining)
    assert remaining[lost.pk].status == FAILED
    assert remaining[lost.pk].finished_at is not None
    assert remaining[lost.pk].exception_class_path == "techparts.tasks.services.WorkerLost"
    assert "its worker is gone" in remaining[lost.pk].traceback
    assert remaining[lost.pk].task_result.errors[0].exception_class.__name__ == "WorkerLost"
    assert (remaining[busy.pk].status, remaining[waiting.pk].status) == (RUNNING, READY)
    assert list(Event.objects.values_list("subject", flat=True)) == ["sku:NEW-1"]
    assert not IdempotencyRecord.objects.exists()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("round_", range(3))  # a race: a lost lock shows in most rounds
def test_concurrent_ensure_sweeper_calls_schedule_one_sweep(round_):
    done = ensure_sweeper()
    DBTaskResult.objects.filter(pk=done).update(status=SUCCESSFUL)  # the schedule row exists
    start = threading.Barrier(8)

    def ensure() -> str:
        try:
            start.wait(timeout=30)
            return ensure_sweeper()
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=8) as pool:
        ids = list(pool.map(lambda _: ensure(), range(8)))

    assert len(set(ids)) == 1
    assert [str(row.pk) for row in sweeps(READY)] == ids[:1]
    assert scheduled_id() == ids[0]
