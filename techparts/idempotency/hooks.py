"""Idempotency records past their TTL are purged on every sweep (a bounded share)."""

from datetime import datetime

from techparts.idempotency.services import idempotency_records_purge
from techparts.tasks.sweeper import sweep_hook

SWEEP_MAX_BATCHES = 20


@sweep_hook("idempotency.purge")
def purge_idempotency_records(now: datetime) -> int:
    return idempotency_records_purge(max_batches=SWEEP_MAX_BATCHES)
