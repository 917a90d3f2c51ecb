from django.core.exceptions import NON_FIELD_ERRORS, ValidationError

from techparts.errors import DomainError


class ProductInvalid(DomainError):
    """The product breaks a catalog rule; nothing was saved. `field_errors` maps field -> texts."""

    code = "validation_error"
    status_code = 400

    def __init__(self, error: ValidationError, *, public_id: str = "") -> None:
        self.field_errors: dict[str, list[str]] = error.message_dict
        details = [
            text if field == NON_FIELD_ERRORS else f"Field '{field}': {text}"
            for field, texts in self.field_errors.items()
            for text in texts
        ]
        subject = f"Product '{public_id}'" if public_id else "The product"
        super().__init__(f"{subject} is invalid: {details[0]}", details=details)


class CostChangeForbidden(DomainError):
    """Only Catalog managers and superusers may change a product's unit cost."""

    code = "forbidden"
    status_code = 403


class CostInvalid(DomainError):
    """The unit cost is not an amount a product can cost; nothing was changed."""

    code = "validation_error"
    status_code = 400
