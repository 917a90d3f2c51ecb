"""Enqueueing background work: only after the transaction that made it necessary commits.

The rows a task works on (the outbox, deliveries) are the truth; the queue only says "look
now". So a task is enqueued after commit, never inside the transaction (a worker could run
before the rows are visible, or for a change that is then rolled back), and a failure to
enqueue is logged, not raised: the change has committed, and the sweeper
(techparts.tasks.sweeper) finds the work on its next run.
"""

import logging
from dataclasses import dataclass
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connections, transaction

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class _EnqueueAfterCommit:
    """The on-commit callback; equal callbacks are one (see `enqueue_on_commit`)."""

    task: Any  # a django_tasks Task
    args: tuple[Any, ...]

    def __call__(self) -> None:
        try:
            self.task.enqueue(*self.args)
        except Exception:
            logger.exception(
                "enqueueing %s failed; the sweeper will pick the work up", self.task.name
            )


def enqueue_on_commit(task: Any, *args: Any, using: str = DEFAULT_DB_ALIAS) -> None:
    """Enqueue `task(*args)` once the current transaction commits (at once outside one).

    Within one transaction the same task with the same arguments is enqueued once, however
    often it is asked for: a bulk write of 2,000 items schedules one delivery run, not 2,000.
    A rolled-back transaction (or savepoint) enqueues nothing.
    """
    callback = _EnqueueAfterCommit(task=task, args=args)
    connection = connections[using]
    if connection.in_atomic_block and any(
        pending == callback for _savepoints, pending, _robust in connection.run_on_commit
    ):
        return
    transaction.on_commit(callback, using=using, robust=True)
