"""What happens to an API key that other apps must follow (webhooks disables endpoints).

Sent by the services in techparts.apikeys.services inside the change's own transaction, so a
receiver's writes commit or roll back with the change. techparts cannot import the apps above
it, which is why these are signals rather than calls.
"""

from django.dispatch import Signal

# kwargs: key (the revoked ApiKey), now (when it was revoked)
api_key_revoked = Signal()
# kwargs: key (the ApiKey, with its new scopes), removed (the scopes it no longer holds), now
api_key_scopes_reduced = Signal()
