"""Reading webhook endpoints: an owner's own, never another's."""

from django.db.models import QuerySet

from techparts.errors import NotFound
from webhooks.models import WebhookEndpoint


def webhook_endpoint_list(*, owner: str) -> QuerySet[WebhookEndpoint]:
    """Return `owner`'s endpoints, newest first."""
    return WebhookEndpoint.objects.filter(owner=owner).order_by("-created_at", "-id")


def webhook_endpoint_get(*, owner: str, endpoint_id: str) -> WebhookEndpoint:
    """Return `owner`'s endpoint `endpoint_id` (`we_...`).

    Raise NotFound when there is none: another owner's endpoint looks exactly like an unknown id.
    """
    endpoint = webhook_endpoint_list(owner=owner).filter(public_id=endpoint_id).first()
    if endpoint is None:
        raise NotFound(f"Webhook endpoint '{endpoint_id}' does not exist")
    return endpoint
