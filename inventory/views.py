from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    inline_serializer,
)
from rest_framework import generics, serializers, views
from rest_framework.request import Request
from rest_framework.response import Response

from inventory.filters import StockMovementFilter
from inventory.selectors import movement_list, stock_record_get
from inventory.serializers import (
    StockMovementOutputSerializer,
    StockRecordOutputSerializer,
    StockUpdateInputSerializer,
    StockUpdateOutputSerializer,
)
from inventory.services import stock_set
from techparts.actors import Actor
from techparts.api.schema import ErrorSerializer, error_response, error_responses
from techparts.apikeys.scopes import INVENTORY_READ, INVENTORY_WRITE
from techparts.idempotency.services import idempotent

SKU_PARAMETER = OpenApiParameter(
    "sku",
    OpenApiTypes.STR,
    OpenApiParameter.PATH,
    description="Product SKU, e.g. `GPU-NV-4090-MSI-001`.",
)


def _not_found(message: str) -> OpenApiResponse:
    return OpenApiResponse(
        ErrorSerializer,
        description="`not_found`: no product has this SKU.",
        examples=[
            OpenApiExample(
                "not_found",
                value={"error": "not_found", "message": message},
                status_codes=["404"],
            )
        ],
    )


def _forbidden(scope: str, phrase: str) -> OpenApiResponse:
    return OpenApiResponse(
        ErrorSerializer,
        description=f"`forbidden`: the key lacks the `{scope}` scope.",
        examples=[
            OpenApiExample(
                "forbidden",
                value={
                    "error": "forbidden",
                    "message": f"Insufficient permissions to {phrase}. Requires '{scope}' scope.",
                },
                status_codes=["403"],
            )
        ],
    )


NOT_FOUND = _not_found("SKU 'GPU-NV-4090-MSI-001' does not exist in inventory system")

CONFLICT = OpenApiResponse(
    inline_serializer(
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
    examples=[
        OpenApiExample(
            "expected_quantity differs",
            value={
                "error": "conflict",
                "message": "Stock of 'GPU-NV-4090-MSI-001' is 23, not the expected 20. "
                "Nothing was changed; read it again and retry.",
                "current_quantity": 23,
            },
            status_codes=["409"],
        ),
        OpenApiExample(
            "below reserved",
            value={
                "error": "conflict",
                "message": "Cannot set stock of 'GPU-NV-4090-MSI-001' to 2: 5 units are "
                "reserved by open orders.",
                "reserved_quantity": 5,
            },
            status_codes=["409"],
        ),
    ],
)


class InventoryView(views.APIView):
    """One product's stock, by SKU."""

    required_scopes = {"get": INVENTORY_READ, "patch": INVENTORY_WRITE}

    @extend_schema(
        summary="Get inventory",
        description="On-hand, reserved and available units of a product, its low-stock "
        "threshold and when its stock last changed.",
        parameters=[SKU_PARAMETER],
        responses={
            200: StockRecordOutputSerializer,
            **error_responses(401),
            403: _forbidden(INVENTORY_READ, "read inventory"),
            404: NOT_FOUND,
        },
    )
    def get(self, request: Request, sku: str) -> Response:
        return Response(StockRecordOutputSerializer(stock_record_get(sku=sku)).data)

    @extend_schema(
        summary="Update inventory",
        description="Set the on-hand count of a product (stock adjustments, restocking, "
        "corrections). Writes one entry in the stock history (kind `correction`, or "
        '`restock` with `"type": "restock"`) naming the key\'s owner; an unchanged quantity '
        "writes nothing and answers `change` 0. Unknown body fields are refused.",
        parameters=[SKU_PARAMETER],
        request=StockUpdateInputSerializer,
        responses={
            200: StockUpdateOutputSerializer,
            **error_responses(400, 401),
            403: _forbidden(INVENTORY_WRITE, "update inventory"),
            404: NOT_FOUND,
            409: CONFLICT,
            **error_responses(415),
            422: error_response(422),
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
    @idempotent
    def patch(self, request: Request, sku: str) -> Response:
        record = stock_record_get(sku=sku)
        data = StockUpdateInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        actor = Actor.api(request.auth)
        result = stock_set(
            product_id=record.product_id,
            quantity=data.validated_data["quantity"],
            actor=actor,
            reason=data.validated_data["reason"],
            reference=data.validated_data["reference"],
            kind=data.validated_data["type"],
            expected_quantity=data.validated_data.get("expected_quantity"),
        )
        stock = result.record
        body = {
            "sku": stock.product.sku,
            "product_id": stock.product.public_id,
            "product_name": stock.product.name,
            "quantity": stock.on_hand,
            "previous_quantity": result.previous_on_hand,
            "change": result.change,
            "updated_at": stock.updated_at,
            "updated_by": actor.name,
            "reserved": stock.reserved,
            "available": stock.available,
        }
        return Response(StockUpdateOutputSerializer(body).data)


class InventoryMovementsView(generics.ListAPIView):
    """The stock history (ledger) of one product."""

    serializer_class = StockMovementOutputSerializer
    filterset_class = StockMovementFilter
    filter_backends = [DjangoFilterBackend]
    required_scopes = {"get": INVENTORY_READ}

    @extend_schema(
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
            **error_responses(400, 401),
            403: _forbidden(INVENTORY_READ, "read inventory"),
            404: NOT_FOUND,
        },
    )
    def get(self, request: Request, *args, **kwargs) -> Response:
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return movement_list().none()
        record = stock_record_get(sku=self.kwargs["sku"])
        return movement_list(product_id=record.product_id)

    def get_serializer_context(self):
        # The serializer shows each movement as this key's owner may see it.
        api_key = getattr(self.request, "auth", None)
        return {**super().get_serializer_context(), "viewer_owner": getattr(api_key, "owner", None)}
