from django.urls import reverse
from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from orders.filters import OrderFilter
from orders.models import Order
from orders.schema import order_viewset_schema
from orders.selectors import order_get, order_list
from orders.serializers import (
    OrderCreatedOutputSerializer,
    OrderCreateInputSerializer,
    OrderOutputSerializer,
)
from orders.services import order_cancel, order_create
from techparts.actors import Actor
from techparts.api.filters import FilterBackend
from techparts.api.serializers import takes_no_body
from techparts.apikeys.scopes import ORDERS_READ, ORDERS_WRITE
from techparts.idempotency.services import idempotent


@order_viewset_schema
class OrderViewSet(viewsets.GenericViewSet):
    serializer_class = OrderOutputSerializer
    filter_backends = [FilterBackend]
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
        return order_get(order_id=self.kwargs["order_id"], owner=self.request.auth.owner)

    @idempotent
    def create(self, request: Request) -> Response:
        serializer = OrderCreateInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        order = order_create(**serializer.validated_data, actor=Actor.api(request.auth))
        location = request.build_absolute_uri(
            reverse("order-detail", kwargs={"order_id": order.order_id})
        )
        return Response(
            OrderCreatedOutputSerializer(order).data,
            status=status.HTTP_201_CREATED,
            headers={"Location": location},
        )

    def list(self, request: Request) -> Response:
        orders = self.filter_queryset(self.get_queryset())
        page = self.paginate_queryset(orders)
        return self.get_paginated_response(OrderOutputSerializer(page, many=True).data)

    def retrieve(self, request: Request, order_id: str) -> Response:
        return Response(OrderOutputSerializer(self.get_object()).data)

    @action(detail=True, methods=["post"])
    @idempotent
    @takes_no_body
    def cancel(self, request: Request, order_id: str) -> Response:
        order = order_cancel(order=self.get_object(), actor=Actor.api(request.auth))
        order = order_get(order_id=order.order_id, owner=None)
        return Response(OrderOutputSerializer(order).data)
