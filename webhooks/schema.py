"""OpenAPI declarations of /v1/webhook-endpoints, kept out of the views."""

from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view

from techparts.api.schema import ErrorSerializer, conflict, not_found, validation_error
from webhooks.serializers import (
    WebhookEndpointCreateInputSerializer,
    WebhookEndpointOutputSerializer,
    WebhookEndpointUpdateInputSerializer,
    WebhookEndpointWithSecretOutputSerializer,
)

NOT_FOUND = not_found(
    description="no such endpoint among your integrator's.",
    message="Webhook endpoint 'we_0123456789abcdef0123456789' does not exist",
)

BODY_ERROR = validation_error(
    description="every problem of the body: malformed JSON, a URL that is not https or whose "
    "host is an address that may not receive webhooks (loopback, private, link-local, "
    "metadata), unknown or repeated event types, or types your key may not read.",
    details=[
        "Field 'url' is refused: 10.0.0.5 is a private address",
        "Field 'event_types' names order.created, which the API key 'ERP' may not read "
        "(needs orders:read)",
    ],
)

CREATE_CONFLICT = conflict(
    serializer=ErrorSerializer,
    description="`conflict`: your integrator already has the most endpoints allowed "
    "(`limit`), or a request with this Idempotency-Key is being processed right now (sent "
    "with `Retry-After`: retry with the same key).",
    examples={
        "limit": {
            "error": "conflict",
            "message": "Owner 'api_user_12345' already has 20 webhook endpoints, the most "
            "allowed (20). Delete one you no longer use.",
            "limit": 20,
        }
    },
)

UPDATE_CONFLICT = conflict(
    serializer=ErrorSerializer,
    description="`conflict`: the endpoint was disabled because the API key that created it "
    "was revoked (create a new endpoint instead), or the Idempotency-Key is still in flight.",
    examples={
        "key_revoked": {
            "error": "conflict",
            "message": "Webhook endpoint 'we_0123456789abcdef0123456789' was disabled because "
            "the API key that created it was revoked; create a new endpoint with a current key.",
        }
    },
)

_SHOWN_ONCE = (
    "The answer carries the signing `secret` (`whsec_...`): it is shown this once and never "
    "again, and stored encrypted. A retry with the same `Idempotency-Key` replays this answer."
)

webhook_endpoint_viewset_schema = extend_schema_view(
    list=extend_schema(
        summary="List webhook endpoints",
        description="Your integrator's webhook endpoints, newest first, without secrets; page "
        "with `page` and `page_size` (up to 100). Scope `webhooks:write`.",
        responses={200: WebhookEndpointOutputSerializer(many=True)},
    ),
    create=extend_schema(
        summary="Create webhook endpoint",
        description="Registers a URL to receive your events, signed as Standard Webhooks "
        "specifies. You may subscribe only to types your key may read (`inventory:read` for "
        "`inventory.*`, `orders:read` for `order.*`); revoking the key disables the endpoint. "
        f"{_SHOWN_ONCE} Scope `webhooks:write`.",
        request=WebhookEndpointCreateInputSerializer,
        responses={
            201: WebhookEndpointWithSecretOutputSerializer,
            400: BODY_ERROR,
            409: CREATE_CONFLICT,
        },
    ),
    retrieve=extend_schema(
        summary="Get webhook endpoint",
        description="One of your endpoints (without its secret). Another integrator's "
        "endpoint is `not_found`. Scope `webhooks:write`.",
        responses={200: WebhookEndpointOutputSerializer, 404: NOT_FOUND},
    ),
    partial_update=extend_schema(
        summary="Change webhook endpoint",
        description="Changes the fields sent (`url`, `event_types`, `enabled`, "
        "`description`). `enabled: true` re-enables an endpoint TechParts disabled and clears "
        "`disabled_reason` and `failing_since`. New types must be readable by your key and by "
        "the key that created the endpoint. Scope `webhooks:write`.",
        request=WebhookEndpointUpdateInputSerializer,
        responses={
            200: WebhookEndpointOutputSerializer,
            400: BODY_ERROR,
            404: NOT_FOUND,
            409: UPDATE_CONFLICT,
        },
    ),
    destroy=extend_schema(
        summary="Delete webhook endpoint",
        description="Deletes the endpoint and its delivery log; nothing more is sent to it. "
        "Scope `webhooks:write`.",
        responses={204: OpenApiResponse(description="Deleted."), 404: NOT_FOUND},
    ),
    rotate_secret=extend_schema(
        summary="Rotate webhook endpoint secret",
        description="Gives the endpoint a new secret. The previous one keeps signing for "
        "WEBHOOK_SECRET_ROTATION_OVERLAP_HOURS (24 by default; `previous_secret_expires_at`): "
        "meanwhile each delivery carries both signatures, so switch your receiver to the new "
        f"secret before then. {_SHOWN_ONCE} Takes no body. Scope `webhooks:write`.",
        responses={200: WebhookEndpointWithSecretOutputSerializer, 404: NOT_FOUND},
    ),
)
