"""The app with its outbox statement left out: the bench's baseline for what the outbox costs.

Only `make bench` serves this, on a second gunicorn beside the real one, to time PATCH and
POST /v1/orders without the one INSERT that records their events
(inventory.services.events_record, which every stock change and order goes through). Never
used anywhere else: the app itself has no way to skip its events.
"""

from techparts.wsgi import application  # sets Django up: the app modules import after it


def _no_events(*args, **kwargs) -> None:
    return None


def _leave_out_events() -> None:
    import inventory.services

    inventory.services.events_record = _no_events


_leave_out_events()

__all__ = ["application"]
