from techparts.errors import Conflict, DomainError


class OrderInvalid(DomainError):
    """The order cannot be placed as asked (rendered like a request validation error)."""

    code = "validation_error"
    status_code = 400


class OrderStatusConflict(Conflict):
    """The order is not in a status that allows the requested change; nothing changed."""


class PendingUnitsCapExceeded(Conflict):
    """The API key would hold more reserved units than it is allowed; nothing changed."""
