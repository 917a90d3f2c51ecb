from django.urls import reverse
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
    inline_serializer,
)
from rest_framework import exceptions, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from orders.filters import OrderFilter
from orders.models import Order
from orders.selectors import order_get, order_list
from orders.serializers import OrderCreatedSerializer, OrderCreateSerializer, OrderSerializer
from orders.services import order_cancel, order_create
from techparts.actors import Actor
from techparts.api.permissions import scope_denied_message
from techparts.api.schema import ErrorSerializer, error_responses
from techparts.api.serializers import takes_no_body
from techparts.apikeys.scopes import ORDERS_READ, ORDERS_WRITE
from techparts.idempotency.services import idempotent

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


def _not_found() -> OpenApiResponse:
    return OpenApiResponse(
        ErrorSerializer,
        description="`not_found`: no such order among those your keys placed.",
        examples=[
            OpenApiExample(
                "not_found",
                value={
                    "error": "not_found",
                    "message": "Order with ID 'ORD-2024-98765' does not exist",
                },
                status_codes=["404"],
            )
        ],
    )


def _forbidden(scope: str) -> OpenApiResponse:
    return OpenApiResponse(
        ErrorSerializer,
        description=f"`forbidden`: the API key lacks the `{scope}` scope.",
        examples=[
            OpenApiExample(
                "forbidden",
                value={"error": "forbidden", "message": scope_denied_message(scope)},
                status_codes=["403"],
            )
        ],
    )


def _validation_error() -> OpenApiResponse:
    return OpenApiResponse(
        ErrorSerializer,
        description="`validation_error`: every problem of the body, one sentence each "
        "(malformed JSON too).",
        examples=[
            OpenApiExample(
                "validation_error",
                value={
                    "error": "validation_error",
                    "message": "Invalid request body",
                    "details": [
                        "Field 'customer_id' is required",
                        "Field 'items' must contain at least 1 item",
                    ],
                },
                status_codes=["400"],
            )
        ],
    )


CREATE_CONFLICT = OpenApiResponse(
    OrderConflictSerializer,
    description="`insufficient_stock`: a product has fewer units available than ordered "
    "(nothing was reserved); or `conflict`: the order would take this API key over its cap of "
    "units in pending orders (`pending_units`, `cap`), or a request with this Idempotency-Key "
    "is still being processed.",
    examples=[
        OpenApiExample(
            "insufficient_stock",
            value={
                "error": "insufficient_stock",
                "message": "Product 'PROD-4090-MSI-001' has only 5 units available. Requested: 10",
                "available_quantity": 5,
                "details": [
                    "Product 'PROD-4090-MSI-001' has only 5 units available. Requested: 10"
                ],
            },
            status_codes=["409"],
        ),
        OpenApiExample(
            "conflict",
            value={
                "error": "conflict",
                "message": "A request with Idempotency-Key 'abc' is still being processed. "
                "Retry shortly.",
            },
            status_codes=["409"],
        ),
        OpenApiExample(
            "pending_units_cap",
            value={
                "error": "conflict",
                "message": "This API key already holds 4990 units in pending orders; placing "
                "20 more would exceed its cap of 5000. Cancel or wait for pending orders to "
                "ship, or ask TechParts to raise the cap.",
                "pending_units": 4990,
                "cap": 5000,
            },
            status_codes=["409"],
        ),
    ],
)

CANCEL_CONFLICT = OpenApiResponse(
    ErrorSerializer,
    description="`conflict`: only a pending order can be cancelled (the body's `status` is the "
    "order's current status), or the Idempotency-Key is still in flight.",
    examples=[
        OpenApiExample(
            "conflict",
            value={
                "error": "conflict",
                "message": "Order 'ORD-2024-98765' is shipped; only pending orders can be "
                "cancelled.",
                "status": "shipped",
            },
            status_codes=["409"],
        )
    ],
)


@extend_schema_view(
    create=extend_schema(
        summary="Create order",
        description="Places an order for a customer: validates the body, prices it (tax of "
        "the destination state rounded down to the cent, free shipping at or above the "
        "threshold) and reserves every line's stock, all or nothing. `items_count` is the "
        "number of lines. The `Location` header names the new order. Scope `orders:write`.",
        request=OrderCreateSerializer,
        responses={
            201: OrderCreatedSerializer,
            400: _validation_error(),
            403: _forbidden(ORDERS_WRITE),
            409: CREATE_CONFLICT,
            **error_responses(401, 415, 422, 429),
        },
    ),
    list=extend_schema(
        summary="List orders",
        description="Orders placed by your integrator's keys, newest first; filter by "
        "`status`, `customer`, `created_after`, `created_before`; page with `page` and "
        "`page_size` (up to 100). Scope `orders:read`.",
        responses={
            200: OrderSerializer(many=True),
            403: _forbidden(ORDERS_READ),
            **error_responses(400, 401, 429),
        },
    ),
    retrieve=extend_schema(
        summary="Get order",
        description="One order with its lines, address, totals and status. Orders placed by "
        "other integrators are `not_found`. Scope `orders:read`.",
        responses={
            200: OrderSerializer,
            403: _forbidden(ORDERS_READ),
            404: _not_found(),
            **error_responses(401, 429),
        },
    ),
    cancel=extend_schema(
        summary="Cancel order",
        description="Cancels a pending order and releases its reserved stock. Any other "
        "status is `conflict`. Takes no body: send none, or `{}`; anything else is refused "
        "(415 if it is not JSON, 400 otherwise) and nothing changes. Scope `orders:write`.",
        responses={
            200: OrderSerializer,
            404: _not_found(),
            403: _forbidden(ORDERS_WRITE),
            409: CANCEL_CONFLICT,
            **error_responses(401, 415, 422, 429),
        },
    ),
)
class OrderViewSet(viewsets.GenericViewSet):
    serializer_class = OrderSerializer
    filter_backends = [DjangoFilterBackend]
    filterset_class = OrderFilter
    lookup_field = "order_id"
    lookup_url_kwarg = "order_id"
    lookup_value_regex = "[^/]+"
    queryset = Order.objects.none()  # the real one depends on the caller: get_queryset
    required_scopes = {
        "create": ORDERS_WRITE,
        "list": ORDERS_READ,
        "retrieve": ORDERS_READ,
        "cancel": ORDERS_WRITE,
    }

    def get_queryset(self):
        if self.request.auth is None:  # schema generation: no caller, no orders
            return Order.objects.none()
        return order_list(owner=self.request.auth.owner)

    def get_object(self) -> Order:
        order_id = self.kwargs["order_id"]
        order = order_get(order_id=order_id, owner=self.request.auth.owner)
        if order is None:
            raise exceptions.NotFound(f"Order with ID '{order_id}' does not exist")
        return order

    @idempotent
    def create(self, request: Request) -> Response:
        serializer = OrderCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        order = order_create(**serializer.validated_data, actor=Actor.api(request.auth))
        location = request.build_absolute_uri(
            reverse("order-detail", kwargs={"order_id": order.order_id})
        )
        return Response(
            OrderCreatedSerializer(order).data,
            status=status.HTTP_201_CREATED,
            headers={"Location": location},
        )

    def list(self, request: Request) -> Response:
        orders = self.filter_queryset(self.get_queryset())
        page = self.paginate_queryset(orders)
        return self.get_paginated_response(OrderSerializer(page, many=True).data)

    def retrieve(self, request: Request, order_id: str) -> Response:
        return Response(OrderSerializer(self.get_object()).data)

    @action(detail=True, methods=["post"])
    @idempotent
    @takes_no_body
    def cancel(self, request: Request, order_id: str) -> Response:
        order = order_cancel(order=self.get_object(), actor=Actor.api(request.auth))
        order = order_get(order_id=order.order_id, owner=None)
        return Response(OrderSerializer(order).data)
