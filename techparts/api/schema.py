"""OpenAPI pieces: the Bearer scheme, per-operation scopes and the error envelope bodies."""

from django.conf import settings
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    OpenApiResponse,
    inline_serializer,
)
from rest_framework import serializers

from techparts.api.errors import SERVICE_UNAVAILABLE_MESSAGE
from techparts.api.parsers import MAX_JSON_DEPTH
from techparts.api.permissions import PUBLIC, Scope, required_scope, scope_denied_message
from techparts.apikeys.scopes import ALL_SCOPES

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
    503: ("service_unavailable", SERVICE_UNAVAILABLE_MESSAGE),
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


def _documented(
    status: int, description: str, examples: dict[str, dict], serializer=None
) -> OpenApiResponse:
    return OpenApiResponse(
        serializer or ErrorSerializer,
        description=description,
        examples=[
            OpenApiExample(name, value=value, status_codes=[str(status)])
            for name, value in examples.items()
        ],
    )


def not_found(*, description: str, message: str) -> OpenApiResponse:
    """Return a documented 404 `not_found` answer with `message` as its example."""
    return _documented(
        404,
        f"`not_found`: {description}",
        {"not_found": {"error": "not_found", "message": message}},
    )


def _forbidden_body(scope: Scope) -> dict[str, str]:
    return {"error": "forbidden", "message": scope_denied_message(scope)}


def _forbidden_description(scope: Scope) -> str:
    if isinstance(scope, str):
        return f"`forbidden`: the API key lacks the `{scope}` scope."
    return f"`forbidden`: the API key lacks every one of {_scope_words(scope)}."


def _scope_words(scope: Scope) -> str:
    """`a`, or `a` or `b`: how descriptions name a scope."""
    return " or ".join(f"`{each}`" for each in ((scope,) if isinstance(scope, str) else scope))


def forbidden(scope: str) -> OpenApiResponse:
    """Return the documented 403 of an operation that needs `scope`, worded as the API words it.

    The schema hook already adds it to every operation whose view declares its scope; declare
    it only for an operation whose scope the generator cannot see.
    """
    return _documented(403, _forbidden_description(scope), {"forbidden": _forbidden_body(scope)})


def validation_error(*, description: str, details: list[str]) -> OpenApiResponse:
    """Return a documented 400 `validation_error` answer whose example lists `details`."""
    example = {"error": "validation_error", "message": "Invalid request body", "details": details}
    return _documented(400, f"`validation_error`: {description}", {"validation_error": example})


def conflict(*, description: str, examples: dict[str, dict], serializer=None) -> OpenApiResponse:
    """Return a documented 409 answer: `examples` maps each example's name to its body."""
    return _documented(409, description, examples, serializer)


class ApiKeyScheme(OpenApiAuthenticationExtension):
    target_class = "techparts.api.authentication.ApiKeyAuthentication"
    name = "bearerAuth"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "API key `tp_<prefix>_<secret>`, created by TechParts staff. "
            f"Scopes: {', '.join(ALL_SCOPES)}.",
        }


class ScopedAutoSchema(AutoSchema):
    """Name each operation's required scope in its description and security requirement."""

    def _scope(self) -> Scope | None:
        # drf-spectacular hands each operation a view whose request carries that method.
        return required_scope(self.view)

    def get_request_serializer(self):
        if getattr(_handler(self), "takes_no_body", False):
            return {"application/json": EMPTY_BODY_SCHEMA}
        return super().get_request_serializer()

    def _map_serializer_field(self, field, direction, bypass_extensions=False):
        schema = super()._map_serializer_field(field, direction, bypass_extensions)
        if isinstance(field, serializers.ListSerializer) and schema:
            # drf-spectacular leaves out the list's own bounds (`many=True, min_length=...`);
            # state the ones the serializer enforces.
            if field.min_length is not None:
                schema["minItems"] = field.min_length
            elif not field.allow_empty:
                schema["minItems"] = 1
            if field.max_length is not None:
                schema["maxItems"] = field.max_length
        return schema

    def get_override_parameters(self):
        parameters = list(super().get_override_parameters())
        if _is_idempotent(self):
            parameters.append(IDEMPOTENCY_PARAMETER)
        if self.method == "GET" and getattr(self.view, "conditional_get", False):
            parameters.append(IF_NONE_MATCH_PARAMETER)
        return parameters

    def get_description(self):
        description = super().get_description() or ""
        scope = self._scope()
        if scope and scope != PUBLIC and _scope_words(scope) not in description:
            description = f"{description}\n\nRequired scope: {_scope_words(scope)}.".strip()
        return description

    def get_auth(self):
        scope = self._scope()
        if scope == PUBLIC:
            return []
        # super() also registers the bearerAuth scheme in components.securitySchemes.
        # Several scopes: one requirement each (OpenAPI: any one of them is enough).
        scopes = [scope] if isinstance(scope, str) else list(scope or [None])
        return [
            {name: [each] if each else [] for name in requirement}
            for requirement in super().get_auth()
            for each in scopes
        ]


IDEMPOTENCY_PARAMETER = OpenApiParameter(
    "Idempotency-Key",
    str,
    OpenApiParameter.HEADER,
    required=False,
    pattern=r"^[\x21-\x7e]{1,255}$",
    description="Makes retries safe: the same key with the same body replays the first "
    "answer (header `Idempotent-Replayed: true`); with a different body it is refused (422 "
    "`idempotency_key_reused`); while a request with the same key is being processed, 409 "
    "`conflict` at once, with `Retry-After`. The answer is stored in the same transaction as "
    "the write, so a retry after any failure either replays it or applies the write for the "
    "first time. Server errors (5xx) and 429 are not stored. Scoped to the API key, kept 24 "
    "hours. 1-255 visible ASCII characters, e.g. a UUID.",
)


IF_NONE_MATCH_PARAMETER = OpenApiParameter(
    "If-None-Match",
    str,
    OpenApiParameter.HEADER,
    required=False,
    description="The `ETag` of an answer you hold (or several, comma-separated, or `*`). When "
    "the answer would be the same, it is `304 Not Modified` with no body, charged to the "
    "separate not-modified budget instead of the read budget. `W/` prefixes are ignored; "
    "a value that is not a list of quoted tags matches nothing.",
)
ETAG_HEADER = {
    "ETag": {
        "schema": {"type": "string"},
        "required": True,
        "description": "A hash of the exact body; changes whenever any byte of it does. "
        "Send it back in `If-None-Match`.",
    }
}
CACHE_HEADERS = {
    "Cache-Control": {
        "schema": {"type": "string"},
        "description": "`private, no-cache`: the answer depends on the API key.",
    },
    "Vary": {"schema": {"type": "string"}, "description": "Includes `Authorization`."},
}
NOT_MODIFIED_RESPONSE = {
    "description": "Not Modified: the `If-None-Match` tag is the current one; no body.",
    "headers": {**ETAG_HEADER, **CACHE_HEADERS},
}


# The body of an action marked `takes_no_body`: none, or an empty object.
EMPTY_BODY_SCHEMA = {
    "type": "object",
    "maxProperties": 0,
    "additionalProperties": False,
    "description": "This action takes no fields: send no body, or `{}`.",
}


def _handler(auto_schema: AutoSchema):
    view = auto_schema.view
    handler_name = getattr(view, "action", None) or auto_schema.method.lower()
    return getattr(view, handler_name, None)


def _is_idempotent(auto_schema: AutoSchema) -> bool:
    return getattr(_handler(auto_schema), "idempotent", False)


# Errors every operation of a kind can answer, added by the hook below so that no endpoint
# can forget one: (status, applies to the operation?)
_STANDARD_ERRORS = [
    # every operation refuses unknown query parameters (techparts.api.query)
    (400, lambda op: True),
    (401, lambda op: _secured(op)),
    (403, lambda op: _secured(op)),
    # unknown ids, and pages past the end of a list
    (404, lambda op: any(p["in"] == "path" or p["name"] == "page" for p in _params(op))),
    (409, lambda op: _has_header(op, "Idempotency-Key")),
    (413, lambda op: "requestBody" in op),
    (415, lambda op: "requestBody" in op),
    (422, lambda op: _has_header(op, "Idempotency-Key")),
    (429, lambda op: _secured(op)),
    # the database cannot be reached (down, restarting) or lends no connection in time
    (503, lambda op: True),
]
_ERROR_DESCRIPTIONS = {
    400: "Invalid request (`validation_error`; `details` lists each problem): a bad body, a "
    "bad query value, or a query parameter the operation does not know",
    401: "Missing, malformed, unknown, revoked or expired API key (`unauthorized`)",
    403: "The API key lacks the required scope (`forbidden`)",
    404: "No such resource (`not_found`)",
    409: "Conflicting state (`conflict`)",
    413: "Request body too large (`payload_too_large`)",
    415: "Body is not `application/json` (`unsupported_media_type`)",
    422: "Idempotency-Key reused with a different body (`idempotency_key_reused`)",
    429: "Rate limit exceeded (`rate_limited`); see the `Retry-After` header",
    503: "The database cannot be reached right now (`service_unavailable`): retry after the "
    "`Retry-After` header's seconds, a write with the same `Idempotency-Key` (it may have "
    "been applied)",
}


# Standard errors documented with the envelope's example, as `error_response` does, so no
# operation needs to declare them: the same answer whatever the endpoint. (403 gets one too,
# naming the operation's scope.)
_WITH_EXAMPLE = {401, 415, 422, 503}


# Answers that say when to retry, and what their Retry-After header counts.
_RETRY_AFTER = {
    "429": "Seconds until the limit resets.",
    "503": "Seconds to wait before retrying.",
}


def _standard_error(status: int, operation: dict, error_ref: dict) -> dict:
    media: dict = {"schema": error_ref}
    scope = _scope(operation)
    if status == 403 and scope:
        # The 403 names the operation's own scope, word for word as HasScope answers it.
        media["examples"] = {"Forbidden": {"value": _forbidden_body(scope), "summary": "forbidden"}}
        return {
            "content": {"application/json": media},
            "description": _forbidden_description(scope),
        }
    if status not in _WITH_EXAMPLE:
        return {"description": _ERROR_DESCRIPTIONS[status], "content": {"application/json": media}}
    code, message = ERROR_CODES[status]
    example_name = "".join(part.capitalize() for part in code.split("_"))
    media["examples"] = {
        example_name: {"value": {"error": code, "message": message}, "summary": code}
    }
    return {"content": {"application/json": media}, "description": _ERROR_DESCRIPTIONS[status]}


def _scope(op: dict) -> Scope | None:
    scopes = [
        scope for requirement in op.get("security", []) for s in requirement.values() for scope in s
    ]
    if not scopes:
        return None
    return scopes[0] if len(scopes) == 1 else tuple(scopes)


def _params(op: dict) -> list[dict]:
    return op.get("parameters", [])


def _secured(op: dict) -> bool:
    return any(requirement for requirement in op.get("security", []))


def _has_header(op: dict, name: str) -> bool:
    return any(p["in"] == "header" and p["name"] == name for p in _params(op))


def _forbid_unknown_properties(schema: dict, components: dict, seen: set[str]) -> None:
    """Input objects refuse unknown fields (the API answers 400), so say so in the schema."""
    ref = schema.get("$ref")
    if ref:
        name = ref.rsplit("/", 1)[-1]
        if name in seen or name not in components:
            return
        seen.add(name)
        schema = components[name]
    if schema.get("type") == "object" and "properties" in schema:
        schema.setdefault("additionalProperties", False)
        for prop in schema["properties"].values():
            _forbid_unknown_properties(prop, components, seen)
    if "items" in schema:
        _forbid_unknown_properties(schema["items"], components, seen)
    for key in ("allOf", "oneOf", "anyOf"):
        for sub in schema.get(key, []):
            _forbid_unknown_properties(sub, components, seen)


def postprocess_schema(result, generator, request, public):
    """Document the standard error answers and closed input objects on every operation."""
    info = result.setdefault("info", {})
    info["description"] = (
        f"{info.get('description', '')}\n\nInput rules for every operation: unknown body fields "
        "and unknown query parameters are refused (400 `validation_error`); a request body "
        f"is JSON of at most {settings.API_MAX_BODY_BYTES} bytes (POST /v1/inventory/bulk: "
        f"{settings.API_BULK_MAX_BODY_BYTES}; 413 above) nesting arrays "
        f"and objects at most {MAX_JSON_DEPTH} levels deep (400 deeper). `OPTIONS` on any "
        "route answers 200 with the allowed methods, no API key needed."
    ).strip()
    components = result.setdefault("components", {}).setdefault("schemas", {})
    components.setdefault(
        "Error",
        {
            "type": "object",
            "properties": {
                "error": {"type": "string"},
                "message": {"type": "string"},
                "details": {"type": "array", "items": {"type": "string"}},
            },
            "required": ["error", "message"],
        },
    )
    error_ref = {"$ref": "#/components/schemas/Error"}
    seen: set[str] = set()
    for operations in result.get("paths", {}).values():
        for operation in operations.values():
            responses = operation.setdefault("responses", {})
            for status, applies in _STANDARD_ERRORS:
                if applies(operation) and str(status) not in responses:
                    responses[str(status)] = _standard_error(status, operation, error_ref)
            if _has_header(operation, "If-None-Match"):
                responses.setdefault("304", NOT_MODIFIED_RESPONSE)
                if "200" in responses:
                    responses["200"].setdefault("headers", {}).update(
                        {**ETAG_HEADER, **CACHE_HEADERS}
                    )
            for retried, description in _RETRY_AFTER.items():
                if retried in responses:
                    responses[retried].setdefault(
                        "headers",
                        {
                            "Retry-After": {
                                "schema": {"type": "integer"},
                                "description": description,
                            }
                        },
                    )
            body = operation.get("requestBody", {}).get("content", {})
            for media in body.values():
                _forbid_unknown_properties(media.get("schema", {}), components, seen)
    return result
