"""Reading the outbox: what an integrator may see, in the gap-free order of the feed."""

from collections.abc import Sequence
from typing import Any

from techparts.api.serializers import datetime_text
from techparts.database.positions import PositionedPage, positioned_page
from techparts.events.models import Event
from techparts.events.types import ALL_TYPES, READ_SCOPE

CURSOR_TAG = "e1"
MAX_LIMIT = 1000
DEFAULT_LIMIT = 100
# What the private part of an event shows to everyone but the owner whose call caused it
# (the disclosure rule of inventory.selectors.movement_public_view).
PUBLIC_ACTOR = "TechParts"
_PUBLIC_VALUES = {"reason": "", "reference": "", "adjustment_group": None, "actor": PUBLIC_ACTOR}
_COLUMNS = (
    "id",
    "xact",
    "public_id",
    "type",
    "subject",
    "audience_owner",
    "origin_owner",
    "data",
    "private",
    "created_at",
)


def readable_types(scopes: Sequence[str]) -> tuple[str, ...]:
    """Return the event types an API key with `scopes` may read."""
    return tuple(kind for kind in ALL_TYPES if READ_SCOPE[kind] in scopes)


def events_page(
    *,
    after: tuple[int, int] = (0, 0),
    limit: int = DEFAULT_LIMIT,
    viewer_owner: str,
    types: Sequence[str],
) -> PositionedPage[Event]:
    """Return up to `limit` events after `after` that `viewer_owner` may see, of `types`.

    An event is seen by every reader of its type's scope, or only by its audience owner (an
    order's events). Gap-free like the stock change feed (techparts.database.positions).
    """
    if not 1 <= limit <= MAX_LIMIT:
        raise ValueError(f"limit must be 1..{MAX_LIMIT}")
    wanted = [kind for kind in types if kind in ALL_TYPES]
    if not wanted:
        return PositionedPage(rows=[], next_position=tuple(after), has_more=False)
    return positioned_page(
        Event,
        after=after,
        limit=limit,
        columns=_COLUMNS,
        conditions=[
            f"m.type IN ({', '.join(['%s'] * len(wanted))})",
            "(m.audience_owner = '' OR m.audience_owner = %s)",
        ],
        params=[*wanted, viewer_owner],
    )


def event_payload(event: Event, *, viewer_owner: str | None) -> dict[str, Any]:
    """Return the event as `viewer_owner` receives it, in GET /v1/events and in deliveries.

    The private part (reason, reference, adjustment group, actor) comes whole only to the
    owner whose call caused the event; everyone else gets the same keys with public values.
    """
    own = bool(viewer_owner) and event.origin_owner == viewer_owner
    private = event.private if own else {key: _PUBLIC_VALUES.get(key) for key in event.private}
    return {
        "id": event.public_id,
        "type": event.type,
        "timestamp": datetime_text(event.created_at),
        "data": {**event.data, **private},
    }
