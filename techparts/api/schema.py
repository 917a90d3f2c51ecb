"""OpenAPI pieces: the Bearer scheme, per-operation scopes and the error envelope bodies."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import OpenApiExample, OpenApiResponse, inline_serializer
from rest_framework import serializers

from techparts.api.permissions import PUBLIC, required_scope

ERROR_CODES = {
    400: ("validation_error", "Invalid request body"),
    401: (
        "unauthorized",
        "Valid API key required. Include 'Authorization: Bearer YOUR_API_KEY' header.",
    ),
    403: (
        "forbidden",
        "Insufficient permissions to read products. Requires 'products:read' scope.",
    ),
    404: ("not_found", "Product with ID 'PROD-4090-MSI-001' does not exist"),
    405: ("method_not_allowed", "Method DELETE is not allowed here"),
    409: ("conflict", "The resource is not in the state the request expects"),
    415: ("unsupported_media_type", "Request body must be JSON"),
    422: ("idempotency_key_reused", "Idempotency-Key was already used with another body"),
    429: ("rate_limited", "Rate limit exceeded. Retry in 12 seconds."),
}

ErrorSerializer = inline_serializer(
    name="Error",
    fields={
        "error": serializers.CharField(help_text="Machine-readable code."),
        "message": serializers.CharField(help_text="Human-readable explanation."),
        "details": serializers.ListField(
            child=serializers.CharField(), required=False, help_text="Each problem found."
        ),
    },
)


def error_response(status: int, *, description: str = "", serializer=None) -> OpenApiResponse:
    code, message = ERROR_CODES[status]
    example = {"error": code, "message": message}
    if status == 400:
        example["details"] = ["Field 'quantity' is required"]
    return OpenApiResponse(
        response=serializer or ErrorSerializer,
        description=description or f"`{code}` error",
        examples=[OpenApiExample(code, value=example, status_codes=[str(status)])],
    )


def error_responses(*statuses: int) -> dict[int, OpenApiResponse]:
    return {status: error_response(status) for status in statuses}


class ApiKeyScheme(OpenApiAuthenticationExtension):
    target_class = "techparts.api.authentication.ApiKeyAuthentication"
    name = "bearerAuth"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "API key `tp_<prefix>_<secret>`, created by TechParts staff. "
            "Scopes: products:read, orders:read, orders:write, inventory:read, "
            "inventory:write.",
        }


class ScopedAutoSchema(AutoSchema):
    """Name each operation's required scope in its description and security requirement."""

    def _scope(self) -> str | None:
        # drf-spectacular hands each operation a view whose request carries that method.
        return required_scope(self.view)

    def get_description(self):
        description = super().get_description() or ""
        scope = self._scope()
        if scope and scope != PUBLIC and f"`{scope}`" not in description:
            description = f"{description}\n\nRequired scope: `{scope}`.".strip()
        return description

    def get_auth(self):
        scope = self._scope()
        if scope == PUBLIC:
            return []
        # super() also registers the bearerAuth scheme in components.securitySchemes.
        return [
            {name: [scope] if scope else [] for name in requirement}
            for requirement in super().get_auth()
        ]
