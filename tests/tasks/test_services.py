"""Task result upkeep works in bounded batches, oldest first, and leaves the rest for later."""

from datetime import timedelta

import pytest
from django.utils import timezone
from django_tasks import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from techparts.tasks.services import task_results_fail_lost, task_results_prune
from tests.tasks.sample_tasks import task_result

pytestmark = pytest.mark.django_db

RUNNING, SUCCESSFUL, FAILED = (
    TaskResultStatus.RUNNING,
    TaskResultStatus.SUCCESSFUL,
    TaskResultStatus.FAILED,
)


def test_pruning_stops_after_its_batches_and_leaves_the_newest_of_the_old_for_the_next_sweep(
    settings,
):
    settings.TASK_RESULTS_RETENTION_DAYS = 7
    old = [
        task_result(SUCCESSFUL, finished_ago=timedelta(days=30 - n), value=f"old-{n}")
        for n in range(5)
    ]

    assert task_results_prune(now=timezone.now(), batch_size=2, max_batches=2) == 4
    assert list(DBTaskResult.objects.values_list("pk", flat=True)) == [old[-1].pk]

    assert task_results_prune(now=timezone.now(), batch_size=2, max_batches=2) == 1
    assert not DBTaskResult.objects.exists()


def test_marking_lost_tasks_stops_after_its_batches_oldest_first(settings):
    settings.TASKS_LOST_AFTER_SECONDS = 60
    lost = [
        task_result(RUNNING, started_ago=timedelta(minutes=30 - n), value=f"lost-{n}")
        for n in range(3)
    ]

    assert task_results_fail_lost(now=timezone.now(), batch_size=1, max_batches=2) == 2

    statuses = dict(DBTaskResult.objects.values_list("pk", "status"))
    assert [statuses[result.pk] for result in lost] == [FAILED, FAILED, RUNNING]
