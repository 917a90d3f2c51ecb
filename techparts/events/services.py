"""Writing events into the outbox: all of one business action's events in one INSERT."""

import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import router, transaction
from django.utils import timezone

from techparts.database.bulk import insert_rows
from techparts.events.models import Event
from techparts.events.signals import events_recorded
from techparts.events.types import ALL_TYPES

EVENT_ID_PREFIX = "evt_"
_COLUMNS = (
    "public_id",
    "type",
    "subject",
    "audience_owner",
    "origin_owner",
    "data",
    "private",
    "version",
)


@dataclass(frozen=True)
class NewEvent:
    """An event a service is about to record; `private` is for the origin owner's eyes only."""

    type: str
    subject: str
    data: dict[str, Any]
    private: dict[str, Any] = field(default_factory=dict)
    audience_owner: str = ""  # "": every reader of the type's scope
    # The subject's version it comes from (a stock record's); webhooks deliver one subject's
    # events in this order. None: the subject has no versions (orders).
    version: int | None = None

    def __post_init__(self) -> None:
        if self.type not in ALL_TYPES:
            raise ValueError(f"unknown event type {self.type!r}")


def event_public_id() -> str:
    """Return a new event id: `evt_` and 26 random hexadecimal digits (104 bits)."""
    return EVENT_ID_PREFIX + secrets.token_hex(13)


def events_record(events: Sequence[NewEvent], *, origin_owner: str, created_at: datetime) -> None:
    """Insert `events` in the caller's transaction, in order, in one statement (up to 1,000).

    The caller is the service making the change, inside its transaction: a rollback takes the
    events with the change. `events_recorded` tells receivers (webhooks) about them.
    """
    insert_rows(
        Event,
        columns=_COLUMNS,
        rows=[
            (
                event_public_id(),
                event.type,
                event.subject,
                event.audience_owner,
                origin_owner,
                event.data,
                event.private,
                event.version,
            )
            for event in events
        ],
        shared={"created_at": created_at},
    )
    if events:
        events_recorded.send(sender=Event, count=len(events))


PRUNE_BATCH_SIZE = 5000


def events_prune(
    *,
    now: datetime | None = None,
    batch_size: int = PRUNE_BATCH_SIZE,
    max_batches: int | None = None,
) -> int:
    """Delete events older than EVENTS_RETENTION_DAYS, oldest first, in batches; return how many.

    A reader whose cursor is older than the oldest kept event resumes at that event: the feed
    goes back as far as retention, never further. At most `max_batches` batches when given
    (the sweeper's share of one run), else until done.
    """
    cutoff = (now or timezone.now()) - timedelta(days=settings.EVENTS_RETENTION_DAYS)
    total = batches = 0
    while max_batches is None or batches < max_batches:
        batches += 1
        with transaction.atomic(using=router.db_for_write(Event)):
            oldest = list(
                Event.objects.filter(created_at__lt=cutoff)
                .order_by("created_at")
                .values_list("pk", flat=True)[:batch_size]
            )
            deleted, _ = Event.objects.filter(pk__in=oldest).delete()
        total += deleted
        if deleted < batch_size:
            break
    return total
