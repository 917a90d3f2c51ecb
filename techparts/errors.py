"""Domain errors: raised by services, rendered into the API error envelope by one handler."""

from typing import Any


class DomainError(Exception):
    """A business rule refused the action. `code` and `status_code` become the envelope."""

    code = "conflict"
    status_code = 409
    # Seconds after which a retry may succeed, sent as `Retry-After` (None: no header).
    retry_after: int | None = None

    def __init__(self, message: str, *, details: list[str] | None = None, **extra: Any) -> None:
        super().__init__(message)
        self.message = message
        self.details = details
        self.extra = extra

    def as_body(self) -> dict[str, Any]:
        body: dict[str, Any] = {"error": self.code, "message": self.message}
        body.update(self.extra)
        if self.details:
            body["details"] = self.details
        return body


class NotFound(DomainError):
    code = "not_found"
    status_code = 404


class Conflict(DomainError):
    code = "conflict"
    status_code = 409
