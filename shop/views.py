from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import viewsets
from rest_framework.response import Response

from shop.filters import ProductFilter
from shop.selectors import product_get, product_list, product_rows, product_rows_with_related
from shop.serializers import ProductOutputSerializer, product_body
from techparts.api.conditional import ConditionalGetMixin
from techparts.api.pagination import PagedRows, PageOrCursorPagination
from techparts.api.schema import error_responses
from techparts.apikeys.scopes import PRODUCTS_READ
from techparts.database.replicas import ReplicaReadsMixin


@extend_schema_view(
    list=extend_schema(
        summary="List products",
        description="Filter, search (`search` over name, SKU, manufacturer), order "
        "(`ordering`: price, name, created_at; prefix `-` for descending, `-created_at` is "
        "newest first) and page (`page`, `page_size` up to 100). With `updated_since`, only "
        "products changed since then, in id order, paged by `cursor` (follow `next`). "
        "Scope `products:read`.",
        responses={200: ProductOutputSerializer(many=True), **error_responses(400, 401, 403)},
    ),
    retrieve=extend_schema(
        summary="Get product details",
        description="One product by its public id, e.g. `PROD-4090-MSI-001`. "
        "Scope `products:read`.",
        responses={200: ProductOutputSerializer, **error_responses(401, 403, 404)},
    ),
)
class ProductViewSet(ConditionalGetMixin, ReplicaReadsMixin, viewsets.ReadOnlyModelViewSet):
    serializer_class = ProductOutputSerializer
    filterset_class = ProductFilter
    search_fields = ["name", "sku", "manufacturer"]
    ordering_fields = ["price", "name", "created_at"]
    ordering = ["public_id"]
    lookup_field = "public_id"
    lookup_url_kwarg = "id"
    lookup_value_regex = "[^/]+"
    required_scopes = {"list": PRODUCTS_READ, "retrieve": PRODUCTS_READ}
    pagination_class = PageOrCursorPagination
    # "Changed since" grows while a client walks it: paged by an id cursor, not page numbers.
    cursor_filter = "updated_since"

    def get_queryset(self):
        return product_list()

    def get_object(self):
        return product_get(public_id=self.kwargs["id"])

    # Plain dicts from the selector's rows (shop.serializers.product_body); the serializer
    # class documents them.
    def retrieve(self, request, *args, **kwargs):
        return Response(product_body(self.get_object()))

    def list(self, request, *args, **kwargs):
        products = self.filter_queryset(self.get_queryset())
        # Counted as filtered; only the page is read with every column.
        page = self.paginate_queryset(PagedRows(products, rows=product_rows))
        rows = product_rows_with_related(page)
        return self.get_paginated_response([product_body(row) for row in rows])
