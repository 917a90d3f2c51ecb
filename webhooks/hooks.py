"""The webhooks' sweep hooks (registered by WebhooksConfig.ready): start due work, prune the log.

"webhooks.deliver" enqueues the delivery task when events wait to be fanned out or a delivery
is due: retries whose time has come, deliveries whose worker died (the lease ran out), events
whose after-commit enqueue was skipped or failed. "webhooks.prune" deletes finished deliveries
and their attempts older than WEBHOOK_DELIVERY_LOG_DAYS, a bounded share per sweep.
"""

from datetime import datetime

from techparts.tasks.queue import enqueue_on_commit
from techparts.tasks.sweeper import sweep_hook
from webhooks.delivery import deliveries_due, deliveries_prune, fan_out_behind
from webhooks.tasks import deliver_webhooks

PRUNE_MAX_BATCHES = 4


@sweep_hook("webhooks.deliver")
def start_due_deliveries(now: datetime) -> int:
    if fan_out_behind() or deliveries_due(now=now):
        enqueue_on_commit(deliver_webhooks)
        return 1
    return 0


@sweep_hook("webhooks.prune")
def prune_delivery_log(now: datetime) -> int:
    return deliveries_prune(now=now, max_batches=PRUNE_MAX_BATCHES)
