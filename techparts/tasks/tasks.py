"""The sweep task: runs every sweep hook, and keeps exactly one next sweep scheduled.

django-tasks has no periodic tasks, so the sweep schedules its own successor. The one
SweepSchedule row names the sweep that is due; whoever schedules one (a sweep starting, or
`ensure_sweeper` when a worker starts) locks that row first and schedules only when the sweep
it names is no longer waiting to run. So several workers on several machines sharing one
database keep one chain of sweeps, never two.
"""

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django_tasks import TaskResultStatus, task
from django_tasks.exceptions import TaskResultDoesNotExist, TaskResultMismatch

from techparts.tasks.models import SweepSchedule
from techparts.tasks.sweeper import run_sweep

logger = logging.getLogger(__name__)


@task()
def sweep() -> dict[str, int]:
    """Schedule the next sweep, then run every registered sweep hook; return rows per hook.

    The successor is scheduled first, so a worker killed mid-sweep does not end the chain.
    A sweep that outlasts the interval may overlap the next one: every hook is safe to run
    twice at once (they work in small batches and skip rows another transaction holds).
    """
    now = timezone.now()
    _sweep_scheduled(run_after=now + timedelta(seconds=settings.TASKS_SWEEP_INTERVAL_SECONDS))
    handled = run_sweep(now)
    logger.info("sweep done: %s", handled)
    return handled


def ensure_sweeper(*, now: datetime | None = None) -> str:
    """Make sure a sweep is scheduled (due at once if none was); return its task result id.

    Idempotent: while a scheduled sweep waits to run, calling it again changes nothing. Every
    worker start calls it (`manage.py db_worker`, `manage.py ensure_sweeper`).
    """
    return _sweep_scheduled(run_after=now or timezone.now())


def _sweep_scheduled(*, run_after: datetime) -> str:
    """Return the id of the sweep waiting to run, scheduling one at `run_after` if none is."""
    with transaction.atomic():
        # The row may be missing (a fresh or flushed database): insert it if absent, then lock
        # it; concurrent callers queue on this lock, so only the first one schedules.
        SweepSchedule.objects.bulk_create([SweepSchedule()], ignore_conflicts=True)
        schedule = SweepSchedule.objects.select_for_update().get(pk=SweepSchedule.SINGLETON_PK)
        if _waiting_to_run(schedule.task_result_id):
            return schedule.task_result_id
        # Enqueued inside the transaction on purpose: with the database backend the task row
        # and the schedule commit together (or neither does).
        result = sweep.using(run_after=run_after).enqueue()
        schedule.task_result_id = result.id
        schedule.run_after = run_after
        schedule.save()
        return result.id


def _waiting_to_run(task_result_id: str) -> bool:
    if not task_result_id:
        return False
    try:
        result = sweep.get_result(task_result_id)
    except (TaskResultDoesNotExist, TaskResultMismatch):
        return False  # pruned, or lost with the queue's store
    # A sweep already running (or killed while running) has scheduled its successor first,
    # or died before it could: either way it no longer counts as the next one.
    return result.status == TaskResultStatus.READY
