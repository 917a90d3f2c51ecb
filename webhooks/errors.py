"""Domain errors of webhook endpoints, rendered into the API envelope by the one handler."""

from techparts.errors import Conflict, DomainError


class WebhookEndpointInvalid(DomainError):
    """The endpoint cannot be saved as asked (rendered like a request validation error)."""

    code = "validation_error"
    status_code = 400


class WebhookEndpointLimitReached(Conflict):
    """The owner already has as many endpoints as allowed; nothing was created."""


class WebhookEndpointKeyRevoked(Conflict):
    """The endpoint's creating key was revoked: it cannot be enabled again through the API."""


class RedeliveryRefused(DomainError):
    """A redelivery asks for too many events, or for an endpoint that cannot receive them."""

    code = "validation_error"
    status_code = 400
