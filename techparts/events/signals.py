"""Signals of the outbox.

`events_recorded` is sent by `events_record` right after it inserts a business action's events,
inside that action's transaction, with `count` (how many). It exists so that an app above this
one (webhooks) can schedule its work after commit without techparts importing it. A receiver
must not query or write: it runs in the writing transaction, whose statements are counted
(docs/events.md); whatever it needs the database for belongs after commit.
"""

from django.dispatch import Signal

# kwargs: count (events inserted)
events_recorded = Signal()
