"""OpenAPI declarations of the orders API, kept out of the views so each view reads in one screen."""

from drf_spectacular.utils import extend_schema, extend_schema_view, inline_serializer
from rest_framework import serializers

from orders.serializers import (
    OrderCreatedOutputSerializer,
    OrderCreateInputSerializer,
    OrderOutputSerializer,
)
from techparts.api.schema import (
    ErrorSerializer,
    conflict,
    error_responses,
    not_found,
    validation_error,
)

# 409 on create is one of three bodies, told apart by `error` (and each one's extra fields).
OrderConflictSerializer = inline_serializer(
    name="OrderCreateConflict",
    fields={
        "error": serializers.CharField(help_text="`insufficient_stock` or `conflict`."),
        "message": serializers.CharField(),
        "available_quantity": serializers.IntegerField(
            required=False,
            help_text="insufficient_stock: units available of the first short product.",
        ),
        "details": serializers.ListField(
            child=serializers.CharField(),
            required=False,
            help_text="insufficient_stock: one sentence per short product.",
        ),
        "pending_units": serializers.IntegerField(
            required=False,
            help_text="conflict (cap): units this API key already holds in pending orders.",
        ),
        "cap": serializers.IntegerField(
            required=False, help_text="conflict (cap): the most units one key may hold."
        ),
    },
)

NOT_FOUND = not_found(
    description="no such order among those your keys placed.",
    message="Order with ID 'ORD-2024-98765' does not exist",
)

VALIDATION_ERROR = validation_error(
    description="every problem of the body, one sentence each (malformed JSON too).",
    details=["Field 'customer_id' is required", "Field 'items' must contain at least 1 item"],
)

SHORT_MESSAGE = "Product 'PROD-4090-MSI-001' has only 5 units available. Requested: 10"

CREATE_CONFLICT = conflict(
    serializer=OrderConflictSerializer,
    description="`insufficient_stock`: a product has fewer units available than ordered "
    "(nothing was reserved); or `conflict`: the order would take this API key over its cap of "
    "units in pending orders (`pending_units`, `cap`), or a request with this Idempotency-Key "
    "is being processed right now (sent with `Retry-After`: retry with the same key).",
    examples={
        "insufficient_stock": {
            "error": "insufficient_stock",
            "message": SHORT_MESSAGE,
            "available_quantity": 5,
            "details": [SHORT_MESSAGE],
        },
        "conflict": {
            "error": "conflict",
            "message": "A request with Idempotency-Key 'abc' is being processed. "
            "Retry after 1 second(s).",
        },
        "pending_units_cap": {
            "error": "conflict",
            "message": "This API key already holds 4990 units in pending orders; placing "
            "20 more would exceed its cap of 5000. Cancel or wait for pending orders to "
            "ship, or ask TechParts to raise the cap.",
            "pending_units": 4990,
            "cap": 5000,
        },
    },
)

CANCEL_CONFLICT = conflict(
    serializer=ErrorSerializer,
    description="`conflict`: only a pending order can be cancelled (the body's `status` is the "
    "order's current status), or the Idempotency-Key is still in flight.",
    examples={
        "conflict": {
            "error": "conflict",
            "message": "Order 'ORD-2024-98765' is shipped; only pending orders can be cancelled.",
            "status": "shipped",
        }
    },
)

order_viewset_schema = extend_schema_view(
    create=extend_schema(
        summary="Create order",
        description="Places an order for a customer: validates the body, prices it (tax of "
        "the destination state rounded down to the cent, free shipping at or above the "
        "threshold) and reserves every line's stock, all or nothing. `items_count` is the "
        "number of lines. The `Location` header names the new order. Scope `orders:write`.",
        request=OrderCreateInputSerializer,
        responses={
            201: OrderCreatedOutputSerializer,
            400: VALIDATION_ERROR,
            409: CREATE_CONFLICT,
            **error_responses(429),
        },
    ),
    list=extend_schema(
        summary="List orders",
        description="Orders placed by your integrator's keys, newest first; filter by "
        "`status`, `customer`, `created_after`, `created_before`; page with `page` and "
        "`page_size` (up to 100). Scope `orders:read`.",
        responses={
            200: OrderOutputSerializer(many=True),
            **error_responses(400, 429),
        },
    ),
    retrieve=extend_schema(
        summary="Get order",
        description="One order with its lines, address, totals and status. Orders placed by "
        "other integrators are `not_found`. Scope `orders:read`.",
        responses={
            200: OrderOutputSerializer,
            404: NOT_FOUND,
            **error_responses(429),
        },
    ),
    cancel=extend_schema(
        summary="Cancel order",
        description="Cancels a pending order and releases its reserved stock. Any other "
        "status is `conflict`. Takes no body: send none, or `{}`; anything else is refused "
        "(415 if it is not JSON, 400 otherwise) and nothing changes. Scope `orders:write`.",
        responses={
            200: OrderOutputSerializer,
            404: NOT_FOUND,
            409: CANCEL_CONFLICT,
            **error_responses(429),
        },
    ),
)
