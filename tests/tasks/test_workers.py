"""Real worker processes on PostgreSQL: the sweeper keeps one chain, lost tasks are failed,
and the rq backend runs the same sweep on a real redis-server."""

import shutil
from datetime import timedelta

import pytest
from django.utils import timezone
from django_tasks import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from techparts.events.models import Event
from techparts.events.services import NewEvent, events_record
from techparts.tasks.models import SweepSchedule
from techparts.tasks.tasks import ensure_sweeper
from tests.servers import manage
from tests.tasks.sample_tasks import nap, task_result
from tests.workers import db_workers, redis_server, rq_worker, tasks_on_rq, wait_until, worker_env

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

SWEEP = "techparts.tasks.tasks.sweep"
READY, RUNNING = TaskResultStatus.READY, TaskResultStatus.RUNNING
SUCCESSFUL, FAILED = TaskResultStatus.SUCCESSFUL, TaskResultStatus.FAILED


def sweep_statuses() -> list[str]:
    return list(DBTaskResult.objects.filter(task_path=SWEEP).values_list("status", flat=True))


def old_event() -> Event:
    events_record(
        [NewEvent(type="inventory.changed", subject="sku:OLD-1", data={"sku": "OLD-1"})],
        origin_owner="",
        created_at=timezone.now() - timedelta(days=40),
    )
    return Event.objects.get(subject="sku:OLD-1")


def test_two_workers_sweep_on_schedule_and_keep_exactly_one_next_sweep():
    event = old_event()
    old = task_result(SUCCESSFUL, finished_ago=timedelta(days=30))
    env = worker_env(TASKS_SWEEP_INTERVAL_SECONDS="1")

    with db_workers(env, count=2):
        # Both workers ensured the sweeper at start: one sweep was scheduled, not two.
        wait_until(lambda: sweep_statuses().count(SUCCESSFUL) >= 3, what="three sweeps")

    assert not Event.objects.filter(pk=event.pk).exists()
    assert not DBTaskResult.objects.filter(pk=old.pk).exists()
    statuses = sweep_statuses()
    # Each sweep scheduled one successor: the finished ones plus exactly one waiting.
    assert statuses.count(READY) == 1
    assert len(statuses) == statuses.count(SUCCESSFUL) + 1
    waiting = DBTaskResult.objects.get(task_path=SWEEP, status=READY)
    assert SweepSchedule.objects.get().task_result_id == str(waiting.pk)


def test_a_running_worker_mends_a_broken_chain_of_sweeps_within_an_interval():
    def take_the_waiting_sweep() -> str | None:
        # As a worker taking it and dying at once would leave it: running, no successor.
        waiting = SweepSchedule.objects.get().task_result_id
        taken = DBTaskResult.objects.filter(pk=waiting, status=READY).update(
            status=RUNNING, started_at=timezone.now()
        )
        return waiting if taken else None

    with db_workers(worker_env(TASKS_SWEEP_INTERVAL_SECONDS="1")):
        broken = wait_until(take_the_waiting_sweep, what="a waiting sweep to take")
        mended = wait_until(
            lambda: DBTaskResult.objects.filter(task_path=SWEEP, status=READY).first(),
            what="a new sweep scheduled",
        )

    assert str(mended.pk) != broken
    [waiting] = DBTaskResult.objects.filter(task_path=SWEEP, status=READY)
    assert SweepSchedule.objects.get().task_result_id == str(waiting.pk)


def test_a_task_whose_worker_was_sigkilled_is_marked_failed_by_the_next_sweep():
    result = nap.enqueue(60)

    with db_workers(worker_env(TASKS_SWEEP_INTERVAL_SECONDS="1")) as [worker]:
        wait_until(
            lambda: DBTaskResult.objects.get(pk=result.id).status == RUNNING, what="the nap to run"
        )
        worker.kill()
    # Killed mid-task: django-tasks-db would show it running for ever.
    assert DBTaskResult.objects.get(pk=result.id).status == RUNNING

    with db_workers(worker_env(TASKS_LOST_AFTER_SECONDS="1", TASKS_SWEEP_INTERVAL_SECONDS="1")):
        wait_until(
            lambda: DBTaskResult.objects.get(pk=result.id).status == FAILED,
            what="the lost nap to be marked failed",
        )

    lost = DBTaskResult.objects.get(pk=result.id)
    assert lost.exception_class_path == "techparts.tasks.services.WorkerLost"
    assert lost.finished_at is not None


@pytest.mark.skipif(shutil.which("redis-server") is None, reason="redis-server not installed")
def test_with_the_rq_backend_a_sweep_runs_in_an_rq_worker_and_schedules_the_next():
    event = old_event()

    with redis_server() as redis_url:
        env = worker_env(
            TASKS_BACKEND="rq",
            REDIS_URL=redis_url,
            DB_POOL="false",
            TASKS_SWEEP_INTERVAL_SECONDS="1",
        )
        ensured = manage(env, "ensure_sweeper")
        assert ensured.returncode == 0, ensured.stderr
        first = ensured.stdout.strip()
        assert SweepSchedule.objects.get().task_result_id == first
        assert not DBTaskResult.objects.exists()  # the task went to Redis, not the database

        with rq_worker(env):
            wait_until(
                lambda: not Event.objects.filter(pk=event.pk).exists(), what="the event pruned"
            )
            # The sweep scheduled its successor in Redis and named it in the schedule row.
            successor = wait_until(
                lambda: (
                    (task_id := SweepSchedule.objects.get().task_result_id) != first and task_id
                ),
                what="the next sweep scheduled",
            )

        waiting = SweepSchedule.objects.get().task_result_id  # the worker has stopped
        with tasks_on_rq(redis_url):
            # The successor still waits in Redis's schedule: ensuring again schedules nothing.
            assert ensure_sweeper() == waiting
        assert first != successor
        assert not DBTaskResult.objects.exists()  # every sweep went through Redis
