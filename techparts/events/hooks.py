"""The outbox's sweep hook: events past their retention go on every sweep (a bounded share)."""

from datetime import datetime

from techparts.events.services import events_prune
from techparts.tasks.sweeper import sweep_hook

SWEEP_MAX_BATCHES = 4


@sweep_hook("events.prune")
def prune_events(now: datetime) -> int:
    return events_prune(now=now, max_batches=SWEEP_MAX_BATCHES)
