"""Tasks the queue tests enqueue; module-level so that a worker process can import them."""

import time
from datetime import timedelta

from django.utils import timezone
from django_tasks import task
from django_tasks_db.models import DBTaskResult


@task()
def echo(value: str) -> str:
    return value


@task()
def nap(seconds: float) -> float:
    """Sleep; a task a test can catch running (and kill its worker during)."""
    time.sleep(seconds)
    return seconds


def task_result(
    status: str,
    *,
    started_ago: timedelta | None = None,
    finished_ago: timedelta | None = None,
    value: str = "x",
) -> DBTaskResult:
    """A task result in `status`, started/finished that long ago, as a worker leaves it."""
    now = timezone.now()
    result = DBTaskResult.objects.get(pk=echo.enqueue(value).id)
    DBTaskResult.objects.filter(pk=result.pk).update(
        status=status,
        started_at=None if started_ago is None else now - started_ago,
        finished_at=None if finished_ago is None else now - finished_ago,
    )
    return DBTaskResult.objects.get(pk=result.pk)
