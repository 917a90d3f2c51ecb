"""Upkeep of the task queue's own rows (django-tasks-db's task results).

The work itself never depends on these rows (the outbox and delivery rows are the truth):
pruning them and marking lost ones failed only keeps the table small and the admin honest.
"""

from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django_tasks import TaskResultStatus
from django_tasks_db.models import DBTaskResult

BATCH_SIZE = 1000
MAX_BATCHES = 20  # per sweep: a backlog is worked off over several sweeps, each one short


class WorkerLost(Exception):
    """The worker running the task died: its result stayed `RUNNING` until the sweeper saw it."""


def task_results_prune(
    *, now: datetime, batch_size: int = BATCH_SIZE, max_batches: int = MAX_BATCHES
) -> int:
    """Delete task results finished over TASK_RESULTS_RETENTION_DAYS ago; return how many.

    Oldest first, `batch_size` per transaction, at most `max_batches` batches per call.
    """
    cutoff = now - timedelta(days=settings.TASK_RESULTS_RETENTION_DAYS)
    finished = DBTaskResult.objects.filter(
        status__in=[TaskResultStatus.SUCCESSFUL, TaskResultStatus.FAILED],
        finished_at__lt=cutoff,
    )
    total = 0
    for _ in range(max_batches):
        with transaction.atomic():
            oldest = list(
                finished.order_by("finished_at").values_list("pk", flat=True)[:batch_size]
            )
            deleted, _ = DBTaskResult.objects.filter(pk__in=oldest).delete()
        total += deleted
        if deleted < batch_size:
            break
    return total


def task_results_fail_lost(
    *, now: datetime, batch_size: int = BATCH_SIZE, max_batches: int = MAX_BATCHES
) -> int:
    """Mark failed the task results running for over TASKS_LOST_AFTER_SECONDS; return how many.

    django-tasks-db leaves the result of a task whose worker was killed `RUNNING` for ever.
    Nothing is re-run here: the work such a task did is leased rows that their own sweep hook
    re-arms. Rows a live worker holds locked are skipped.
    """
    cutoff = now - timedelta(seconds=settings.TASKS_LOST_AFTER_SECONDS)
    reason = (
        f"{WorkerLost.__module__}.{WorkerLost.__qualname__}: still marked running "
        f"{settings.TASKS_LOST_AFTER_SECONDS} s after it started; its worker is gone.\n"
    )
    total = 0
    for _ in range(max_batches):
        with transaction.atomic():
            lost = list(
                DBTaskResult.objects.filter(status=TaskResultStatus.RUNNING, started_at__lt=cutoff)
                .order_by("started_at")
                .select_for_update(skip_locked=True)
                .values_list("pk", flat=True)[:batch_size]
            )
            marked = DBTaskResult.objects.filter(
                pk__in=lost, status=TaskResultStatus.RUNNING
            ).update(
                status=TaskResultStatus.FAILED,
                finished_at=now,
                exception_class_path=f"{WorkerLost.__module__}.{WorkerLost.__qualname__}",
                traceback=reason,
            )
        total += marked
        if len(lost) < batch_size:
            break
    return total
