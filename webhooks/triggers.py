"""When to run the delivery task: after events are recorded, and after deliveries are created.

Connected in WebhooksConfig.ready(). The outbox (techparts.events) sends `events_recorded`
inside the writing transaction; the receiver here only registers an after-commit callback, so
a stock change or an order costs no extra query. After commit the task is enqueued (one
INSERT with the database backend) only when some webhook endpoint is enabled: a fact each
process caches for ENDPOINTS_EXIST_SECONDS. Anything missed meanwhile (an endpoint enabled in
another process, an enqueue that failed) is found by the sweeper's "webhooks.deliver" hook.
"""

import time
from dataclasses import dataclass
from typing import Any

from django.db.models.signals import post_delete, post_save

from techparts.events.signals import events_recorded
from techparts.tasks.queue import enqueue_on_commit
from webhooks.models import WebhookEndpoint
from webhooks.signals import deliveries_created
from webhooks.tasks import deliver_webhooks

ENDPOINTS_EXIST_SECONDS = 10.0
_known: dict[str, Any] = {"exist": False, "until": 0.0}


def endpoints_exist() -> bool:
    """Return whether an enabled endpoint exists, as this process last saw it (briefly cached)."""
    if time.monotonic() >= _known["until"]:
        _known["exist"] = WebhookEndpoint.objects.filter(enabled=True).exists()
        _known["until"] = time.monotonic() + ENDPOINTS_EXIST_SECONDS
    return _known["exist"]


def forget_endpoints_exist(*args, **kwargs) -> None:
    """Drop this process's cached answer of `endpoints_exist` (an endpoint changed here)."""
    _known["until"] = 0.0


@dataclass(frozen=True)
class _WhenEndpointsExist:
    """A task as enqueue_on_commit takes it, enqueued only when an enabled endpoint exists."""

    task: Any

    @property
    def name(self) -> str:
        return self.task.name

    def enqueue(self) -> None:
        if endpoints_exist():
            self.task.enqueue()


def _on_events_recorded(sender, **kwargs) -> None:
    enqueue_on_commit(_WhenEndpointsExist(deliver_webhooks))


def _on_deliveries_created(sender, **kwargs) -> None:
    enqueue_on_commit(deliver_webhooks)


def connect() -> None:
    events_recorded.connect(_on_events_recorded, dispatch_uid="webhooks.events_recorded")
    deliveries_created.connect(_on_deliveries_created, dispatch_uid="webhooks.deliveries_created")
    for signal in (post_save, post_delete):
        signal.connect(
            forget_endpoints_exist, sender=WebhookEndpoint, dispatch_uid=f"webhooks.{signal}"
        )
