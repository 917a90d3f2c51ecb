"""OpenAPI declarations of the inventory API, kept out of the views so each view reads in one screen."""

from drf_spectacular.extensions import OpenApiSerializerExtension
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    inline_serializer,
)
from rest_framework import serializers

from inventory import reasons
from inventory.feed import DEFAULT_LIMIT, MAX_LIMIT, MAX_SKUS
from inventory.models import MAX_ON_HAND, StockMovement
from inventory.serializers import (
    REFERENCE_MAX_LENGTH,
    SKU_MAX_LENGTH,
    ApprovalRequestOutputSerializer,
    BulkResultOutputSerializer,
    BulkStockInputSerializer,
    BulkStockItemFields,
    ChangePageOutputSerializer,
    StockMovementOutputSerializer,
    StockRecordOutputSerializer,
    StockRecordPageOutputSerializer,
    StockUpdateInputSerializer,
    StockUpdateOutputSerializer,
)
from inventory.services import (
    ALL_OR_NOTHING,
    BULK_MAX_ITEMS,
    ERROR_POLICIES,
    REJECT_FAILED_ITEMS,
)
from techparts.api.cursors import MAX_CURSOR_LENGTH
from techparts.api.schema import (
    ErrorSerializer,
    conflict,
    error_responses,
    not_found,
    validation_error,
)

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

_APPROVAL_EXAMPLE = {
    "id": "apr_3f9a1c0b7d2e4a6c8b10",
    "status": "pending",
    "sku": "GPU-NV-4090-MSI-001",
    "product_id": "PROD-4090-MSI-001",
    "change": -25,
    "quantity_at_request": 45,
    "held": 25,
    "reason_code": "damaged",
    "reason": "Water damage, pallet 4",
    "reference": "DMG-2024-0042",
    "thresholds": "25 units is at least the 20-unit limit",
    "created_at": "2024-12-28T15:45:00Z",
    "decided_at": None,
    "ledger_id": None,
    "links": {
        "self": "https://api.techparts.com/v1/inventory/approvals/apr_3f9a1c0b7d2e4a6c8b10",
        "inventory": "https://api.techparts.com/v1/inventory/GPU-NV-4090-MSI-001",
    },
}

PENDING_APPROVAL_RESPONSE = OpenApiResponse(
    ApprovalRequestOutputSerializer,
    description="Accepted, not applied: the key has `corrections_need_approval` on and the "
    "change crossed a threshold of two-person approval. A decrease's units are held out of "
    "available stock until a manager decides; follow `links.self`. Approved, the stored "
    "signed change is applied to the on-hand count of that moment (a normal ledger row, in "
    "the change feed); either way the event `inventory.approval_decided` tells your owner.",
    examples=[OpenApiExample("pending", value=_APPROVAL_EXAMPLE, status_codes=["202"])],
)

inventory_patch_schema = extend_schema(
    summary="Update inventory",
    description="Set the on-hand count of a product (stock adjustments, restocking, "
    "corrections). Writes one entry in the stock history (kind `correction`, or "
    '`restock` with `"type": "restock"`) naming the key\'s owner; an unchanged quantity '
    "writes nothing and answers `change` 0. Unknown body fields are refused. For a key "
    "whose corrections need approval, a change over the approval thresholds answers 202 "
    "with the pending request instead.",
    parameters=[SKU_PARAMETER],
    request=StockUpdateInputSerializer,
    responses={
        200: StockUpdateOutputSerializer,
        202: PENDING_APPROVAL_RESPONSE,
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


# --- POST /v1/inventory/bulk ---


def _bulk_item_schema() -> dict:
    """One well-formed item: exactly one of `quantity` and `adjust_by`, PATCH's bounds."""
    return {
        "type": "object",
        "properties": {
            "sku": {"type": "string", "minLength": 1, "maxLength": SKU_MAX_LENGTH},
            "quantity": {"type": "integer", "minimum": 0, "maximum": MAX_ON_HAND},
            "adjust_by": {
                "type": "integer",
                "minimum": -MAX_ON_HAND,
                "maximum": MAX_ON_HAND,
                "not": {"enum": [0]},
            },
            "expected_quantity": {"type": "integer", "minimum": 0},
            "reason_code": {"type": "string", "enum": list(reasons.CALLER_CODES)},
            "reason": {"type": "string", "maxLength": 200},
        },
        "required": ["sku"],
        "additionalProperties": False,
        "oneOf": [{"required": ["quantity"]}, {"required": ["adjust_by"]}],
    }


class BulkStockInputExtension(OpenApiSerializerExtension):
    """The bulk call's body, which a serializer's fields cannot state.

    Under `all_or_nothing` (the default) every item must be well-formed (a malformed one makes
    the call 400). Under `reject_failed_items` any object is accepted as an item: a malformed
    one is reported `failed` (`validation_error`) in a 200 answer while the others apply.
    """

    target_class = "inventory.serializers.BulkStockInputSerializer"

    def map_serializer(self, auto_schema, direction):
        fields = BulkStockItemFields().fields
        return {
            "type": "object",
            "properties": {
                "reference": {
                    "type": "string",
                    "maxLength": REFERENCE_MAX_LENGTH,
                    "description": "Your document, e.g. `wms://cycle-count/CC-2026-11-28`; "
                    "stored on every ledger row the call writes.",
                },
                "error_policy": {
                    "type": "string",
                    "enum": list(ERROR_POLICIES),
                    "default": ALL_OR_NOTHING,
                    "description": "`all_or_nothing`: any failing item and nothing applies "
                    "(400 if an item is malformed, else 409, every failing item listed). "
                    "`reject_failed_items`: the others apply; 200 with every outcome.",
                },
                "items": {
                    "type": "array",
                    "minItems": 1,
                    "maxItems": BULK_MAX_ITEMS,
                    "items": {"type": "object"},
                    "description": "1 to 2,000 items, each setting or adjusting one SKU: "
                    + " ".join(f"`{name}`: {field.help_text}" for name, field in fields.items()),
                },
            },
            "required": ["items"],
            "oneOf": [
                {
                    "properties": {
                        # `not`: the generator would turn a one-value enum into a component.
                        "error_policy": {"not": {"enum": [REJECT_FAILED_ITEMS]}},
                        "items": {"items": _bulk_item_schema()},
                    }
                },
                {
                    "required": ["error_policy"],
                    "properties": {"error_policy": {"not": {"enum": [ALL_OR_NOTHING]}}},
                },
            ],
        }


BulkRejectionSerializer = inline_serializer(
    name="BulkStockRejection",
    fields={
        "error": serializers.CharField(),
        "message": serializers.CharField(),
        "details": serializers.ListField(
            child=serializers.CharField(), required=False, help_text="`items[i]: <message>`."
        ),
        "failed_items": inline_serializer(
            name="BulkStockFailedItem",
            fields={
                "index": serializers.IntegerField(),
                "sku": serializers.CharField(allow_null=True),
                "error": serializers.CharField(),
                "message": serializers.CharField(),
            },
            many=True,
            required=False,
            help_text="Every failing item (all_or_nothing).",
        ),
    },
)

_REJECTED_CONFLICT = {
    "error": "conflict",
    "message": "2 of 2000 items failed; nothing was applied.",
    "failed_items": [
        {
            "index": 3,
            "sku": "SSD-SAM-990-2TB",
            "error": "conflict",
            "message": "Stock of 'SSD-SAM-990-2TB' is 9, not the expected 12. Nothing was "
            "changed; read it again and retry.",
        },
        {
            "index": 7,
            "sku": "NOPE-1",
            "error": "not_found",
            "message": "SKU 'NOPE-1' does not exist in inventory system",
        },
    ],
    "details": [
        "items[3]: Stock of 'SSD-SAM-990-2TB' is 9, not the expected 12. Nothing was changed; "
        "read it again and retry.",
        "items[7]: SKU 'NOPE-1' does not exist in inventory system",
    ],
}
_REJECTED_MALFORMED = {
    "error": "validation_error",
    "message": "1 of 2000 items failed; nothing was applied.",
    "failed_items": [
        {
            "index": 5,
            "sku": "GPU-NV-4090-MSI-001",
            "error": "validation_error",
            "message": "Field 'items[5].quantity' must be at most 9999",
        }
    ],
    "details": ["items[5]: Field 'items[5].quantity' must be at most 9999"],
}

bulk_schema = extend_schema(
    operation_id="inventory_bulk_create",
    summary="Set or adjust many SKUs' stock",
    description="Up to 2,000 items in one call, applied at once in one transaction: each "
    "sets (`quantity`) or adjusts (`adjust_by`, signed) one SKU's on-hand count, with "
    "optional `expected_quantity` (compare-and-set), `reason_code` and `reason`, under the "
    "same rules as PATCH /v1/inventory/{sku} and refused in the same words. Every ledger row "
    "the call writes carries `reference` and one new `adjustment_group`. The answer lists "
    "every item in request order. The body may be up to API_BULK_MAX_BODY_BYTES (1 MB by "
    "default) instead of the general cap; the call counts as one request against the write "
    "limit. Details: docs/sync.md.",
    request=BulkStockInputSerializer,
    examples=[
        OpenApiExample(
            "Cycle count",
            request_only=True,
            value={
                "reference": "wms://cycle-count/CC-2026-11-28",
                "error_policy": "reject_failed_items",
                "items": [
                    {"sku": "GPU-NV-4090-MSI-001", "quantity": 44, "reason_code": "cycle_count"},
                    {
                        "sku": "CPU-AMD-5950X-001",
                        "adjust_by": -2,
                        "reason_code": "damaged",
                        "reason": "dropped",
                    },
                ],
            },
        ),
    ],
    responses={
        200: BulkResultOutputSerializer,
        400: OpenApiResponse(
            BulkRejectionSerializer,
            description="`validation_error`, nothing applied: the body is wrong (not an "
            "object, `items` missing, empty, over 2,000 or not objects, an unknown field, a "
            "bad `error_policy`, `reference` over 500 characters; `details` lists each "
            "problem), or under `all_or_nothing` an item is malformed or repeats a SKU "
            "(`failed_items` lists every failing item).",
            examples=[
                OpenApiExample("malformed item", value=_REJECTED_MALFORMED, status_codes=["400"]),
                OpenApiExample(
                    "bad body",
                    value={
                        "error": "validation_error",
                        "message": "Invalid request body",
                        "details": ["Field 'items' must hold at least one item"],
                    },
                    status_codes=["400"],
                ),
            ],
        ),
        409: OpenApiResponse(
            BulkRejectionSerializer,
            description="`conflict`, nothing applied: under `all_or_nothing` some items break "
            "a stock rule on the current stock (unknown SKU, stale `expected_quantity`, "
            "below the reserved units, outside 0-9999, a `received` count lowering stock); "
            "`failed_items` lists every failing item. Also: a request with the same "
            "Idempotency-Key is still in flight.",
            examples=[
                OpenApiExample("items failed", value=_REJECTED_CONFLICT, status_codes=["409"])
            ],
        ),
        413: OpenApiResponse(
            ErrorSerializer,
            description="`payload_too_large`: the body is over API_BULK_MAX_BODY_BYTES (1 MB "
            "by default); send fewer items per call.",
            examples=[
                OpenApiExample(
                    "payload_too_large",
                    value={
                        "error": "payload_too_large",
                        "message": "Request body is larger than the 1048576 bytes this API "
                        "accepts.",
                    },
                    status_codes=["413"],
                )
            ],
        ),
    },
)


# --- GET /v1/inventory/approvals/{id} ---

approval_get_schema = extend_schema(
    operation_id="inventory_approval_retrieve",
    summary="Get an approval request",
    description="The state of a stock correction that waits for (or got) two-person "
    "approval: `pending`, `approved` (with the applied ledger row's `ledger_id`) or "
    "`rejected`. Only requests made by keys of your own owner; any other id is 404.",
    parameters=[
        OpenApiParameter(
            "public_id",
            {"type": "string", "maxLength": 32},
            OpenApiParameter.PATH,
            description="The request's id from the 202 answer, e.g. `apr_3f9a1c0b7d2e4a6c8b10`.",
        )
    ],
    responses={
        200: OpenApiResponse(
            ApprovalRequestOutputSerializer,
            examples=[
                OpenApiExample(
                    "approved",
                    value={
                        **_APPROVAL_EXAMPLE,
                        "status": "approved",
                        "held": 0,
                        "decided_at": "2024-12-28T16:02:11Z",
                        "ledger_id": 88123,
                    },
                    status_codes=["200"],
                )
            ],
        ),
        404: not_found(
            description="no approval request with this id was made by your keys.",
            message="No approval request 'apr_3f9a1c0b7d2e4a6c8b10'.",
        ),
    },
)
