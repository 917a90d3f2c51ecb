"""The delivery task: workers run it after events are recorded, and the sweeper when due."""

from dataclasses import asdict

from django_tasks import task

from techparts.tasks.queue import enqueue_on_commit
from webhooks.delivery import deliveries_run


@task()
def deliver_webhooks() -> dict[str, int | bool]:
    """Fan out new events, send every due delivery (up to WEBHOOK_DELIVERY_CONCURRENCY at a
    time) for up to 30 s, and enqueue the next run if work is left; return the counts."""
    run = deliveries_run()
    if run.more:
        enqueue_on_commit(deliver_webhooks)
    return asdict(run)
