"""OpenAPI declarations of the inventory API, kept out of the views so each view reads in one screen."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers

from inventory import reasons
from inventory.cursors import MAX_CURSOR_LENGTH
from inventory.feed import DEFAULT_LIMIT, MAX_LIMIT, MAX_SKUS
from inventory.models import StockMovement
from inventory.serializers import (
    SKU_MAX_LENGTH,
    ChangePageOutputSerializer,
    StockMovementOutputSerializer,
    StockRecordOutputSerializer,
    StockRecordPageOutputSerializer,
    StockUpdateInputSerializer,
    StockUpdateOutputSerializer,
)
from techparts.api.schema import conflict, error_responses, not_found, validation_error

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


def _cursor_parameter(name: str, description: str) -> OpenApiParameter:
    return OpenApiParameter(
        name,
        {"type": "string", "pattern": f"^[A-Za-z0-9_-]{{1,{MAX_CURSOR_LENGTH}}}$"},
        OpenApiParameter.QUERY,
        description=description,
    )


LIMIT_PARAMETER = OpenApiParameter(
    "limit",
    {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT, "default": DEFAULT_LIMIT},
    OpenApiParameter.QUERY,
    description=f"Rows per page, 1 to {MAX_LIMIT} (default {DEFAULT_LIMIT}).",
)


def _sku_parameter(description: str) -> OpenApiParameter:
    return OpenApiParameter(
        "sku",
        {
            "type": "array",
            "items": {"type": "string", "minLength": 1, "maxLength": SKU_MAX_LENGTH},
            "maxItems": MAX_SKUS,
        },
        OpenApiParameter.QUERY,
        style="form",
        explode=True,
        description=description,
    )


BAD_QUERY = validation_error(
    description="a query value is out of range or malformed, a cursor was not issued by the "
    "API, more than 100 `sku`, or an unknown query parameter. Nothing is read.",
    details=["Field 'limit' must be an integer from 1 to 1000"],
)

inventory_list_schema = extend_schema(
    operation_id="inventory_list",
    summary="List inventory",
    description="Every stock record, ordered by product: on-hand (`quantity`), reserved, "
    "available, the low-stock threshold and when the record last changed (a threshold change "
    "counts). Page with `cursor` (follow `next` until it is null): as pages are ordered by "
    "something that never changes, writes between pages never make a record appear twice "
    "or not at all. Keep the first page's `changes_cursor` and follow "
    "GET /v1/inventory/changes from it to catch up with what changed while you read.",
    parameters=[
        _cursor_parameter(
            "cursor", "The `next_cursor` of the previous page; left out: the first page."
        ),
        LIMIT_PARAMETER,
        OpenApiParameter(
            "updated_since",
            {"type": "string", "format": "date-time"},
            OpenApiParameter.QUERY,
            description="Only records changed at or after this ISO 8601 date-time.",
        ),
        OpenApiParameter(
            "low_stock",
            OpenApiTypes.BOOL,
            OpenApiParameter.QUERY,
            description="true: only records with available <= low_stock_threshold; false: "
            "only the others.",
        ),
        _sku_parameter(f"Only these SKUs (repeat the parameter, up to {MAX_SKUS})."),
    ],
    responses={200: StockRecordPageOutputSerializer, 400: BAD_QUERY},
)

change_feed_schema = extend_schema(
    operation_id="inventory_changes_list",
    summary="Follow inventory changes",
    description="The stock ledger as a feed: every change of every product's stock, oldest "
    "first, from the first row ever written. No change is ever skipped, although transactions "
    "commit out of id order: rows are ordered by the writing transaction, then id, and only "
    "rows of transactions that have ended are served, so a change may show a moment after it "
    "committed (while an older transaction is still open). Pass the last `next_cursor` as "
    "`after`; ask again at once while `has_more` is true. Changes made with your own keys "
    "show their reason, reference, adjustment group and your owner name; all others show "
    "kind, reason code, quantities and time, attributed to `TechParts`.",
    parameters=[
        _cursor_parameter(
            "after", "The `next_cursor` of the previous answer; left out: the first row."
        ),
        LIMIT_PARAMETER,
        _sku_parameter(f"Only changes of these SKUs (repeat the parameter, up to {MAX_SKUS})."),
        OpenApiParameter(
            "kind",
            {"type": "string", "enum": list(StockMovement.Kind.values)},
            OpenApiParameter.QUERY,
            description="Only changes of this kind.",
        ),
        OpenApiParameter(
            "reason_code",
            {"type": "string", "enum": [code for code, _ in reasons.reason_code_choices()]},
            OpenApiParameter.QUERY,
            description="Only changes with this reason code.",
        ),
    ],
    responses={200: ChangePageOutputSerializer, 400: BAD_QUERY},
)
