from rest_framework import generics, status, views
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response

from inventory.approvals import approval_request_get
from inventory.feed import FEED_START, FeedPosition, change_feed_page, feed_position_now
from inventory.filters import StockMovementFilter
from inventory.schema import (
    approval_get_schema,
    bulk_schema,
    change_feed_schema,
    inventory_get_schema,
    inventory_list_schema,
    inventory_patch_schema,
    movement_list_schema,
)
from inventory.selectors import (
    STOCK_CURSOR_TAG,
    movement_list,
    stock_record_get,
    stock_record_page,
)
from inventory.serializers import (
    BulkStockInputSerializer,
    ChangeFeedQueryInputSerializer,
    StockMovementOutputSerializer,
    StockRecordListQueryInputSerializer,
    StockRecordOutputSerializer,
    StockUpdateInputSerializer,
    approval_request_body,
    bulk_items_parse,
    bulk_result_representation,
    change_representation,
    stock_record_body,
)
from inventory.services import stock_bulk_apply, stock_set
from techparts.actors import Actor
from techparts.api.conditional import ConditionalGetMixin
from techparts.api.cursors import cursor_encode
from techparts.api.filters import FilterBackend
from techparts.api.serializers import datetime_text
from techparts.apikeys.scopes import INVENTORY_READ, INVENTORY_WRITE
from techparts.idempotency.services import idempotent


class InventoryView(ConditionalGetMixin, views.APIView):
    """One product's stock, by SKU."""

    required_scopes = {"get": INVENTORY_READ, "patch": INVENTORY_WRITE}

    @inventory_get_schema
    def get(self, request: Request, sku: str) -> Response:
        return Response(StockRecordOutputSerializer(stock_record_get(sku=sku)).data)

    @inventory_patch_schema
    @idempotent
    def patch(self, request: Request, sku: str) -> Response:
        data = StockUpdateInputSerializer(data=request.data)
        if not data.is_valid():
            stock_record_get(sku=sku)  # an unknown SKU is 404 whatever the body says
            raise ValidationError(data.errors)
        actor = Actor.api(request.auth)
        # stock_set finds the product by SKU in the same locking read (404 when unknown).
        result = stock_set(
            sku=sku,
            quantity=data.validated_data["quantity"],
            actor=actor,
            reason=data.validated_data["reason"],
            reference=data.validated_data["reference"],
            kind=data.validated_data.get("type"),
            reason_code=data.validated_data.get("reason_code"),
            expected_quantity=data.validated_data.get("expected_quantity"),
            # Only a key with `corrections_need_approval` is subject (known without a query).
            approvals=True,
        )
        if result.approval_request is not None:
            # Nothing applied yet: 202 with the request, whose state GET .../approvals/{id} tells.
            return Response(
                approval_request_body(result.approval_request, request=request),
                status=status.HTTP_202_ACCEPTED,
            )
        stock = result.record
        # A plain dict, as StockUpdateOutputSerializer (the schema's source) documents it.
        return Response(
            {
                "sku": stock.product.sku,
                "product_id": stock.product.public_id,
                "product_name": stock.product.name,
                "quantity": stock.on_hand,
                "previous_quantity": result.previous_on_hand,
                "change": result.change,
                "updated_at": datetime_text(stock.updated_at),
                "updated_by": actor.name,
                "reserved": stock.reserved,
                "available": stock.available,
            }
        )


class InventoryMovementsView(ConditionalGetMixin, generics.ListAPIView):
    """The stock history (ledger) of one product."""

    serializer_class = StockMovementOutputSerializer
    filterset_class = StockMovementFilter
    filter_backends = [FilterBackend]
    required_scopes = {"get": INVENTORY_READ}

    @movement_list_schema
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


def _viewer_owner(request: Request) -> str | None:
    return getattr(getattr(request, "auth", None), "owner", None)


class InventoryListView(ConditionalGetMixin, views.APIView):
    """Every stock record, by cursor, in product order."""

    required_scopes = {"get": INVENTORY_READ}
    query_parameters = tuple(StockRecordListQueryInputSerializer().fields)

    @inventory_list_schema
    def get(self, request: Request) -> Response:
        query = StockRecordListQueryInputSerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        params = query.validated_data
        # Taken before the page is read, so the feed from it covers whatever the page misses.
        changes_cursor = feed_position_now().cursor()
        page = stock_record_page(
            after_product_id=params["cursor"][0] if "cursor" in params else 0,
            limit=params["limit"],
            updated_since=params.get("updated_since"),
            low_stock=params.get("low_stock"),
            skus=params.get("sku", ()),
        )
        next_cursor = next_url = None
        if page.next_after is not None:
            next_cursor = cursor_encode(STOCK_CURSOR_TAG, page.next_after)
            query_string = request.query_params.copy()
            query_string["cursor"] = next_cursor
            next_url = request.build_absolute_uri(f"{request.path}?{query_string.urlencode()}")
        return Response(
            {
                "results": [stock_record_body(row) for row in page.records],
                "next": next_url,
                "next_cursor": next_cursor,
                "changes_cursor": changes_cursor,
            }
        )


class InventoryChangesView(ConditionalGetMixin, views.APIView):
    """The stock ledger as a gap-free feed (inventory.feed)."""

    required_scopes = {"get": INVENTORY_READ}
    query_parameters = tuple(ChangeFeedQueryInputSerializer().fields)

    @change_feed_schema
    def get(self, request: Request) -> Response:
        query = ChangeFeedQueryInputSerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        params = query.validated_data
        page = change_feed_page(
            after=FeedPosition(*params["after"]) if "after" in params else FEED_START,
            limit=params["limit"],
            skus=params.get("sku", ()),
            kind=params.get("kind"),
            reason_code=params.get("reason_code"),
        )
        owner = _viewer_owner(request)
        return Response(
            {
                "results": [change_representation(m, viewer_owner=owner) for m in page.movements],
                "next_cursor": page.next_position.cursor(),
                "has_more": page.has_more,
            }
        )


class InventoryBulkView(views.APIView):
    """Set or adjust many SKUs' stock in one call (inventory.services.stock_bulk_apply)."""

    required_scopes = {"post": INVENTORY_WRITE}
    # 2,000 items do not fit the general 64 KB cap: this call has its own, documented one.
    max_body_setting = "API_BULK_MAX_BODY_BYTES"

    @bulk_schema
    @idempotent
    def post(self, request: Request) -> Response:
        data = BulkStockInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        result = stock_bulk_apply(
            items=bulk_items_parse(data.validated_data["items"]),
            actor=Actor.api(request.auth),
            reference=data.validated_data["reference"],
            error_policy=data.validated_data["error_policy"],
        )
        return Response(bulk_result_representation(result))


class ApprovalRequestView(views.APIView):
    """A correction waiting for (or decided by) two-person approval, for the key's owner only."""

    required_scopes = {"get": INVENTORY_READ}

    @approval_get_schema
    def get(self, request: Request, public_id: str) -> Response:
        approval = approval_request_get(public_id=public_id, owner=request.auth.owner)
        return Response(approval_request_body(approval, request=request))
