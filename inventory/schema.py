"""OpenAPI declarations of the inventory API, kept out of the views so each view reads in one screen."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers

from inventory.serializers import (
    StockMovementOutputSerializer,
    StockRecordOutputSerializer,
    StockUpdateInputSerializer,
    StockUpdateOutputSerializer,
)
from techparts.api.schema import conflict, error_responses, not_found

SKU_PARAMETER = OpenApiParameter(
    "sku",
    OpenApiTypes.STR,
    OpenApiParameter.PATH,
    description="Product SKU, e.g. `GPU-NV-4090-MSI-001`.",
)

NOT_FOUND = not_found(
    description="no product has this SKU.",
    message="SKU 'GPU-NV-4090-MSI-001' does not exist in inventory system",
)

CONFLICT = conflict(
    serializer=inline_serializer(
        name="StockConflictError",
        fields={
            "error": serializers.CharField(),
            "message": serializers.CharField(),
            "current_quantity": serializers.IntegerField(
                required=False, help_text="When `expected_quantity` did not match."
            ),
            "reserved_quantity": serializers.IntegerField(
                required=False, help_text="When the quantity is below the reserved units."
            ),
        },
    ),
    description="`conflict`: nothing changed. `expected_quantity` differs from the current "
    "count (`current_quantity`), the quantity is below the units reserved by open orders "
    "(`reserved_quantity`), a `restock` would lower stock, or a request with the same "
    "Idempotency-Key is still in flight.",
    examples={
        "expected_quantity differs": {
            "error": "conflict",
            "message": "Stock of 'GPU-NV-4090-MSI-001' is 23, not the expected 20. "
            "Nothing was changed; read it again and retry.",
            "current_quantity": 23,
        },
        "below reserved": {
            "error": "conflict",
            "message": "Cannot set stock of 'GPU-NV-4090-MSI-001' to 2: 5 units are "
            "reserved by open orders.",
            "reserved_quantity": 5,
        },
    },
)

inventory_get_schema = extend_schema(
    summary="Get inventory",
    description="On-hand, reserved and available units of a product, its low-stock "
    "threshold and when its stock last changed.",
    parameters=[SKU_PARAMETER],
    responses={
        200: StockRecordOutputSerializer,
        404: NOT_FOUND,
    },
)

inventory_patch_schema = extend_schema(
    summary="Update inventory",
    description="Set the on-hand count of a product (stock adjustments, restocking, "
    "corrections). Writes one entry in the stock history (kind `correction`, or "
    '`restock` with `"type": "restock"`) naming the key\'s owner; an unchanged quantity '
    "writes nothing and answers `change` 0. Unknown body fields are refused.",
    parameters=[SKU_PARAMETER],
    request=StockUpdateInputSerializer,
    responses={
        200: StockUpdateOutputSerializer,
        **error_responses(400),
        404: NOT_FOUND,
        409: CONFLICT,
    },
    examples=[
        OpenApiExample(
            "Received shipment",
            request_only=True,
            value={"quantity": 45, "reason": "Received shipment from warehouse"},
        ),
        OpenApiExample(
            "Seed response",
            response_only=True,
            status_codes=["200"],
            value={
                "sku": "GPU-NV-4090-MSI-001",
                "product_id": "PROD-4090-MSI-001",
                "product_name": "NVIDIA GeForce RTX 4090 MSI Gaming X Trio",
                "quantity": 45,
                "previous_quantity": 23,
                "change": 22,
                "updated_at": "2024-12-28T15:45:00Z",
                "updated_by": "api_user_12345",
                "reserved": 0,
                "available": 45,
            },
        ),
    ],
)

movement_list_schema = extend_schema(
    summary="List inventory movements",
    description="Every change of the product's stock, newest first: corrections, "
    "restocks, order reservations, releases and shipments. Movements made with your own "
    "keys show their reason, reference and your owner name; all others show kind, "
    "quantities and time only, attributed to `TechParts`. Filter by `kind` and by date "
    "range (`from`, `to`: a date such as `2024-12-28` covers the whole UTC day, or an "
    "ISO 8601 date-time); page with `page` and `page_size`.",
    parameters=[SKU_PARAMETER],
    responses={
        200: StockMovementOutputSerializer(many=True),
        **error_responses(400),
        404: NOT_FOUND,
    },
)
