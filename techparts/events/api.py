"""`GET /v1/events`: the caller's events, gap-free, as deliveries carry them."""

from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_serializer
from rest_framework import serializers, views
from rest_framework.request import Request
from rest_framework.response import Response

from techparts.api.conditional import ConditionalGetMixin
from techparts.api.cursors import MAX_CURSOR_LENGTH, cursor_encode
from techparts.api.schema import validation_error
from techparts.api.serializers import CursorField, QueryInputSerializer, QueryLimitField
from techparts.apikeys.scopes import INVENTORY_READ, ORDERS_READ
from techparts.events.selectors import (
    CURSOR_TAG,
    DEFAULT_LIMIT,
    MAX_LIMIT,
    event_payload,
    events_page,
    readable_types,
)
from techparts.events.types import ALL_TYPES


class EventQueryInputSerializer(QueryInputSerializer):
    after = CursorField(tag=CURSOR_TAG, count=2, required=False)
    limit = QueryLimitField(maximum=MAX_LIMIT, required=False, default=DEFAULT_LIMIT)
    type = serializers.ListField(
        child=serializers.ChoiceField(choices=ALL_TYPES),
        required=False,
        max_length=len(ALL_TYPES),
    )


@extend_schema_serializer(component_name="Event")
class EventOutputSerializer(serializers.Serializer):
    """Documents `event_payload`, which the view renders with (and deliveries send)."""

    id = serializers.CharField(help_text="`evt_...`; a delivery's `webhook-id`.")
    type = serializers.ChoiceField(choices=ALL_TYPES)
    timestamp = serializers.DateTimeField(help_text="When the change was made.")
    data = serializers.DictField(
        help_text="The event's values; docs/webhooks.md lists them per type. Reason, "
        "reference, adjustment group and actor only on changes made with your own keys."
    )


@extend_schema_serializer(component_name="EventPage")
class EventPageOutputSerializer(serializers.Serializer):
    results = EventOutputSerializer(many=True)
    next_cursor = serializers.CharField(
        help_text="Where to resume (`after`), always present, also when `results` is empty."
    )
    has_more = serializers.BooleanField(
        help_text="true: more events are ready now, ask again at once. false: caught up."
    )


events_list_schema = extend_schema(
    operation_id="events_list",
    summary="List events",
    description="Your events, oldest first, gap-free like GET /v1/inventory/changes (ordered by "
    "the writing transaction, then id; only events of ended transactions are served). "
    "`inventory.*` events need `inventory:read`, `order.*` events (your own orders only) "
    "`orders:read`; a key sees the types its scopes cover. Kept at least 30 days.",
    parameters=[
        OpenApiParameter(
            "after",
            {"type": "string", "pattern": f"^[A-Za-z0-9_-]{{1,{MAX_CURSOR_LENGTH}}}$"},
            OpenApiParameter.QUERY,
            description="The `next_cursor` of the previous answer; left out: the oldest event.",
        ),
        OpenApiParameter(
            "limit",
            {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT, "default": DEFAULT_LIMIT},
            OpenApiParameter.QUERY,
            description=f"Events per page, 1 to {MAX_LIMIT} (default {DEFAULT_LIMIT}).",
        ),
        OpenApiParameter(
            "type",
            {
                "type": "array",
                "items": {"type": "string", "enum": list(ALL_TYPES)},
                "maxItems": len(ALL_TYPES),
            },
            OpenApiParameter.QUERY,
            style="form",
            explode=True,
            description="Only these types (repeat the parameter); types your scopes do not "
            "cover are never listed.",
        ),
    ],
    responses={
        200: EventPageOutputSerializer,
        400: validation_error(
            description="a query value is out of range or malformed, a cursor was not issued "
            "by the API, or an unknown query parameter. Nothing is read.",
            details=["Field 'limit' must be an integer from 1 to 1000"],
        ),
    },
)


class EventListView(ConditionalGetMixin, views.APIView):
    required_scopes = {"get": (INVENTORY_READ, ORDERS_READ)}
    query_parameters = tuple(EventQueryInputSerializer().fields)

    @events_list_schema
    def get(self, request: Request) -> Response:
        query = EventQueryInputSerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        params = query.validated_data
        readable = readable_types(request.auth.scopes)
        wanted = params.get("type") or readable
        owner = request.auth.owner
        page = events_page(
            after=params.get("after", (0, 0)),
            limit=params["limit"],
            viewer_owner=owner,
            types=[kind for kind in wanted if kind in readable],
        )
        return Response(
            {
                "results": [event_payload(event, viewer_owner=owner) for event in page.rows],
                "next_cursor": cursor_encode(CURSOR_TAG, *page.next_position),
                "has_more": page.has_more,
            }
        )
