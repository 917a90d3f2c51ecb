"""The task queue's own sweep hooks (registered by TasksConfig.ready)."""

from datetime import datetime

from techparts.tasks.services import task_results_fail_lost, task_results_prune
from techparts.tasks.sweeper import sweep_hook


@sweep_hook("tasks.prune_results")
def prune_task_results(now: datetime) -> int:
    return task_results_prune(now=now)


@sweep_hook("tasks.fail_lost")
def fail_lost_task_results(now: datetime) -> int:
    return task_results_fail_lost(now=now)
