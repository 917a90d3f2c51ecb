"""What webhooks does when an API key changes (techparts.apikeys.signals), connected in ready().

The signals are sent inside the key change's transaction, so the endpoints are disabled in it.
"""

from techparts.apikeys.signals import api_key_revoked, api_key_scopes_reduced
from webhooks.services import (
    webhook_endpoints_disable_for_reduced_key,
    webhook_endpoints_disable_for_revoked_key,
)


def _on_key_revoked(sender, *, key, now, **kwargs) -> None:
    webhook_endpoints_disable_for_revoked_key(key=key, now=now)


def _on_key_scopes_reduced(sender, *, key, now, **kwargs) -> None:
    webhook_endpoints_disable_for_reduced_key(key=key, now=now)


def connect() -> None:
    api_key_revoked.connect(_on_key_revoked, dispatch_uid="webhooks.key_revoked")
    api_key_scopes_reduced.connect(_on_key_scopes_reduced, dispatch_uid="webhooks.key_reduced")
