from collections.abc import Mapping
from typing import Any

from drf_spectacular.utils import extend_schema_serializer, inline_serializer
from rest_framework import serializers
from rest_framework.exceptions import ErrorDetail
from rest_framework.request import Request
from rest_framework.reverse import reverse

from catalog.models import Product
from inventory import reasons
from inventory.feed import CURSOR_TAG as FEED_CURSOR_TAG
from inventory.feed import DEFAULT_LIMIT, MAX_LIMIT, MAX_SKUS
from inventory.kinds import SETTING_KINDS
from inventory.models import MAX_ON_HAND, ApprovalRequest, StockMovement, StockRecord
from inventory.rules import is_available, is_low_stock
from inventory.selectors import STOCK_CURSOR_TAG, movement_public_view
from inventory.services import (
    ALL_OR_NOTHING,
    APPLIED,
    BULK_MAX_ITEMS,
    ERROR_POLICIES,
    FAILED,
    OUTCOMES,
    PENDING_APPROVAL,
    UNCHANGED,
    BulkItem,
    BulkOutcome,
    BulkResult,
)
from techparts.api.errors import flatten_errors
from techparts.api.serializers import (
    CursorField,
    QueryBooleanField,
    QueryInputSerializer,
    QueryLimitField,
    StrictCharField,
    StrictChoiceField,
    StrictIntegerField,
    StrictSerializer,
    datetime_text,
)

REFERENCE_MAX_LENGTH = StockMovement._meta.get_field("reference").max_length
SKU_MAX_LENGTH = Product._meta.get_field("sku").max_length

REASON_CODE_HELP = (
    "Why, from the fixed list (docs/sync.md); `order` for order reservations, releases and "
    "shipments, `opening` for a first count, `unspecified` on rows written before reason codes "
    "existed."
)

VERSION_HELP = (
    "The stock record's version after this change: it goes up by exactly one with each change "
    "of the record. Apply a change only if its version is newer than the one you hold "
    "(docs/sync.md). Null on changes recorded before versions existed."
)

RECORD_VERSION_HELP = (
    "The stock record's version: the number of changes it has had. A change (feed row, event, "
    "webhook) with a higher version is newer than this state; one with this version or lower "
    "is already in it."
)

# Input serializers are `...InputSerializer`, output ones `...OutputSerializer`; an output
# serializer pins its schema component name, so the published schema keeps its names.


class StockUpdateInputSerializer(StrictSerializer):
    quantity = StrictIntegerField(
        min_value=0, max_value=MAX_ON_HAND, help_text=f"The new on-hand count (0-{MAX_ON_HAND})."
    )
    reason = StrictCharField(
        max_length=200,
        required=False,
        allow_blank=True,
        default="",
        help_text="Why the stock changed (at most 200 characters); kept in the stock history.",
    )
    type = StrictChoiceField(
        choices=SETTING_KINDS,
        required=False,
        help_text="`correction`: a count or sync. `restock`: the rise is a delivery received; "
        "a restock cannot lower the quantity (409 `conflict`). Left out, it follows "
        "`reason_code` (`received` is a restock, every other code a correction), and is "
        "`correction` when that is left out too.",
    )
    reason_code = StrictChoiceField(
        choices=reasons.CALLER_CODES,
        required=False,
        help_text="Why, from the fixed list (docs/sync.md): "
        + ", ".join(f"`{code}`" for code in reasons.CALLER_CODES)
        + ". Left out: `received` for a restock, `correction` otherwise.",
    )
    expected_quantity = StrictIntegerField(
        min_value=0,
        required=False,
        help_text="The on-hand count the caller last read. When the current count differs, "
        "nothing changes and the answer is 409 `conflict` with `current_quantity`.",
    )
    reference = StrictCharField(
        max_length=REFERENCE_MAX_LENGTH,
        required=False,
        allow_blank=True,
        default="",
        help_text="External document this change comes from, e.g. a delivery note number.",
    )


@extend_schema_serializer(component_name="StockUpdate")
class StockUpdateOutputSerializer(serializers.Serializer):
    """The seed's answer to PATCH /v1/inventory/{sku}, plus `reserved` and `available`."""

    sku = serializers.CharField()
    product_id = serializers.CharField(help_text="The product's public id.")
    product_name = serializers.CharField()
    quantity = serializers.IntegerField(help_text="On-hand count after the update.")
    previous_quantity = serializers.IntegerField(help_text="On-hand count before the update.")
    change = serializers.IntegerField(help_text="quantity - previous_quantity (signed).")
    updated_at = serializers.DateTimeField(help_text="When the stock last changed.")
    updated_by = serializers.CharField(help_text="The owner of the API key that made the call.")
    reserved = serializers.IntegerField(help_text="Units reserved by open orders.")
    available = serializers.IntegerField(help_text="quantity - reserved: units that can be sold.")


@extend_schema_serializer(component_name="StockRecord")
class StockRecordOutputSerializer(serializers.ModelSerializer):
    sku = serializers.CharField(source="product.sku")
    product_id = serializers.CharField(source="product.public_id")
    product_name = serializers.CharField(source="product.name")
    quantity = serializers.IntegerField(source="on_hand", help_text="Units physically held.")
    reserved = serializers.IntegerField(help_text="Units promised to open orders.")
    available = serializers.IntegerField(help_text="quantity - reserved.")
    low_stock = serializers.BooleanField(
        source="is_low", help_text="available <= low_stock_threshold."
    )
    updated_at = serializers.DateTimeField(help_text="When the stock last changed.")
    version = serializers.IntegerField(help_text=RECORD_VERSION_HELP)

    class Meta:
        model = StockRecord
        fields = [
            "sku",
            "product_id",
            "product_name",
            "quantity",
            "reserved",
            "available",
            "low_stock_threshold",
            "low_stock",
            "updated_at",
            "version",
        ]


def stock_record_body(row: Mapping[str, Any]) -> dict[str, Any]:
    """Return the API body of a stock_record_page row, as StockRecordOutputSerializer documents
    it (a test checks both give the same bytes)."""
    available = row["units_available"]
    return {
        "sku": row["product__sku"],
        "product_id": row["product__public_id"],
        "product_name": row["product__name"],
        "quantity": row["on_hand"],
        "reserved": row["reserved"],
        "available": available,
        "low_stock_threshold": row["low_stock_threshold"],
        "low_stock": is_low_stock(available, row["low_stock_threshold"]),
        "updated_at": datetime_text(row["updated_at"]),
        "version": row["version"],
    }


@extend_schema_serializer(component_name="StockMovement")
class StockMovementOutputSerializer(serializers.Serializer):
    """A ledger row as `movement_public_view` lets the integrator in context["viewer_owner"] see it.

    Built only from that view, so no field can bypass the disclosure rule; without a viewer
    every row is shown as someone else's.
    """

    id = serializers.IntegerField()
    kind = serializers.ChoiceField(choices=StockMovement.Kind.choices)
    quantity_change = serializers.IntegerField(help_text="Signed change of the on-hand count.")
    quantity_after = serializers.IntegerField(help_text="On-hand count after the change.")
    reserved_change = serializers.IntegerField(help_text="Signed change of the reserved count.")
    reserved_after = serializers.IntegerField(help_text="Reserved count after the change.")
    available_after = serializers.IntegerField(help_text="quantity_after - reserved_after.")
    reason_code = serializers.ChoiceField(
        choices=[code for code, _ in reasons.reason_code_choices()], help_text=REASON_CODE_HELP
    )
    reason = serializers.CharField(
        help_text="Why: the reason your key sent. Empty on movements not made by your keys."
    )
    reference = serializers.CharField(
        help_text="Your order id or document reference. Empty on movements not made by your keys."
    )
    adjustment_group = serializers.UUIDField(
        allow_null=True,
        help_text="Shared by every row one call wrote together (a bulk stock write). Null on "
        "single changes and on movements not made by your keys.",
    )
    source = serializers.ChoiceField(
        choices=[StockMovement.Source.API],
        allow_null=True,
        help_text="`api` on your own movements; null on all others.",
    )
    actor = serializers.CharField(
        help_text="Your API key owner name on your own movements; `TechParts` on all others "
        "(staff, the system, other integrators)."
    )
    created_at = serializers.DateTimeField()
    version = serializers.IntegerField(allow_null=True, help_text=VERSION_HELP)

    def to_representation(self, instance: StockMovement) -> dict:
        view = movement_public_view(instance, viewer_owner=self.context.get("viewer_owner"))
        return super().to_representation(view)


# --- Reading many records and the change feed (GET /v1/inventory, GET /v1/inventory/changes) ---


def _sku_list(help_text: str) -> serializers.ListField:
    return serializers.ListField(
        # Not trimmed: a SKU is matched exactly, and " " is then simply no SKU.
        child=serializers.CharField(max_length=SKU_MAX_LENGTH, trim_whitespace=False),
        required=False,
        max_length=MAX_SKUS,
        help_text=help_text,
    )


class StockRecordListQueryInputSerializer(QueryInputSerializer):
    cursor = CursorField(tag=STOCK_CURSOR_TAG, count=1, required=False)
    limit = QueryLimitField(maximum=MAX_LIMIT, required=False, default=DEFAULT_LIMIT)
    updated_since = serializers.DateTimeField(required=False)
    low_stock = QueryBooleanField(required=False)
    sku = _sku_list("Only these SKUs (repeat the parameter, up to 100).")


class ChangeFeedQueryInputSerializer(QueryInputSerializer):
    after = CursorField(tag=FEED_CURSOR_TAG, count=2, required=False)
    limit = QueryLimitField(maximum=MAX_LIMIT, required=False, default=DEFAULT_LIMIT)
    sku = _sku_list("Only changes of these SKUs (repeat the parameter, up to 100).")
    kind = StrictChoiceField(choices=StockMovement.Kind.values, required=False)
    reason_code = StrictChoiceField(
        choices=[code for code, _ in reasons.reason_code_choices()], required=False
    )


@extend_schema_serializer(component_name="StockRecordPage")
class StockRecordPageOutputSerializer(serializers.Serializer):
    results = StockRecordOutputSerializer(many=True)
    next = serializers.URLField(
        allow_null=True, help_text="The full URL of the next page; null on the last page."
    )
    next_cursor = serializers.CharField(
        allow_null=True, help_text="The `cursor` of the next page; null on the last page."
    )
    changes_cursor = serializers.CharField(
        help_text="A change-feed position (`after` of GET /v1/inventory/changes) taken before "
        "this page was read: following the feed from the first page's value brings every "
        "change the pages may have missed (and perhaps a few they already show)."
    )


@extend_schema_serializer(component_name="StockChange")
class ChangeOutputSerializer(serializers.Serializer):
    """One ledger row of the change feed, as `movement_public_view` lets the caller see it.

    Documents `change_representation`, which the feed renders with (a plain dict per row: a
    page holds up to 1,000).
    """

    id = serializers.IntegerField(help_text="The ledger row's id (not the feed order).")
    sku = serializers.CharField()
    product_id = serializers.CharField(help_text="The product's public id.")
    kind = serializers.ChoiceField(choices=StockMovement.Kind.choices)
    reason_code = serializers.ChoiceField(
        choices=[code for code, _ in reasons.reason_code_choices()], help_text=REASON_CODE_HELP
    )
    quantity_before = serializers.IntegerField(help_text="On-hand count before the change.")
    quantity_change = serializers.IntegerField(help_text="Signed change of the on-hand count.")
    quantity_after = serializers.IntegerField(help_text="On-hand count after the change.")
    reserved_before = serializers.IntegerField()
    reserved_change = serializers.IntegerField()
    reserved_after = serializers.IntegerField()
    available_before = serializers.IntegerField()
    available_after = serializers.IntegerField()
    adjustment_group = serializers.UUIDField(
        allow_null=True,
        help_text="Shared by every row one of your calls wrote together; null on single "
        "changes and on changes not made by your keys.",
    )
    reason = serializers.CharField(help_text="Empty on changes not made by your keys.")
    reference = serializers.CharField(help_text="Empty on changes not made by your keys.")
    source = serializers.ChoiceField(
        choices=[StockMovement.Source.API],
        allow_null=True,
        help_text="`api` on your own changes; null on all others.",
    )
    actor = serializers.CharField(
        help_text="Your API key owner name on your own changes; `TechParts` on all others."
    )
    created_at = serializers.DateTimeField()
    version = serializers.IntegerField(allow_null=True, help_text=VERSION_HELP)

    def to_representation(self, instance: StockMovement) -> dict:
        return change_representation(instance, viewer_owner=self.context.get("viewer_owner"))


def change_representation(movement: StockMovement, *, viewer_owner: str | None) -> dict:
    """Return one feed row (a movement read by inventory.feed) as the caller may see it."""
    view = movement_public_view(movement, viewer_owner=viewer_owner)
    quantity_before = view.quantity_after - view.quantity_change
    reserved_before = view.reserved_after - view.reserved_change
    return {
        "id": view.id,
        "sku": movement.sku,
        "product_id": movement.public_id,
        "kind": view.kind,
        "reason_code": view.reason_code,
        "quantity_before": quantity_before,
        "quantity_change": view.quantity_change,
        "quantity_after": view.quantity_after,
        "reserved_before": reserved_before,
        "reserved_change": view.reserved_change,
        "reserved_after": view.reserved_after,
        "available_before": is_available(quantity_before, reserved_before),
        "available_after": view.available_after,
        "adjustment_group": None if view.adjustment_group is None else str(view.adjustment_group),
        "reason": view.reason,
        "reference": view.reference,
        "source": view.source,
        "actor": view.actor,
        "created_at": datetime_text(view.created_at),
        "version": view.version,
    }


@extend_schema_serializer(component_name="StockChangePage")
class ChangePageOutputSerializer(serializers.Serializer):
    results = ChangeOutputSerializer(many=True)
    next_cursor = serializers.CharField(
        help_text="Where to resume (`after`), always present, also when `results` is empty. "
        "Store it once the page is handled."
    )
    has_more = serializers.BooleanField(
        help_text="true: more rows are ready now, ask again at once. false: caught up, ask "
        "again after a pause."
    )


# --- Bulk stock writes (POST /v1/inventory/bulk) ---


class BulkStockItemFields(StrictSerializer):
    """The fields of one bulk item, with PATCH's own field rules (and so its error words).

    Items are not validated through this serializer: `bulk_items_parse` runs each field on its
    own, half the time of `many=True` (24 against 52 ms for 2,000 items, measured), with the
    same field objects and so the same words. It holds the fields and documents the item.
    """

    sku = StrictCharField(
        max_length=SKU_MAX_LENGTH,
        trim_whitespace=False,  # a SKU is matched exactly, like the path of PATCH
        help_text="The product's SKU; each SKU at most once per call.",
    )
    quantity = StrictIntegerField(
        min_value=0,
        max_value=MAX_ON_HAND,
        required=False,
        help_text=f"Set on-hand to this count (0-{MAX_ON_HAND}). Give this or `adjust_by`.",
    )
    adjust_by = StrictIntegerField(
        min_value=-MAX_ON_HAND,
        max_value=MAX_ON_HAND,
        required=False,
        help_text="Add this signed, non-zero number of units to on-hand. Give this or `quantity`.",
    )
    expected_quantity = StrictIntegerField(
        min_value=0,
        required=False,
        help_text="Compare-and-set: apply only if on-hand is still this count.",
    )
    reason_code = StrictChoiceField(
        choices=reasons.CALLER_CODES,
        required=False,
        help_text="Why, from the fixed list; decides the kind (`received` is a restock, which "
        "may only raise on-hand; every other code a correction). Left out: `correction`.",
    )
    reason = StrictCharField(
        max_length=200,
        required=False,
        allow_blank=True,
        default="",
        help_text="Free text (at most 200 characters), kept in the stock history.",
    )


_ITEM_FIELDS = BulkStockItemFields().fields


def _item_errors(item: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    """Return one item's (valid values, errors by field), each field checked as PATCH checks it."""
    if not isinstance(item, Mapping):
        return {}, {"": [ErrorDetail("must be an object", code="invalid")]}
    values: dict[str, Any] = {}
    errors: dict[str, Any] = {}
    for name, field in _ITEM_FIELDS.items():
        if name not in item:
            continue
        try:
            values[name] = field.run_validation(item[name])
        except serializers.ValidationError as exc:
            errors[name] = exc.detail
    if "sku" not in item:
        errors["sku"] = [ErrorDetail("is required", code="required")]
    if values.get("adjust_by") == 0:
        errors["adjust_by"] = [ErrorDetail("must not be 0", code="zero")]
    if "quantity" in item and "adjust_by" in item:
        errors.setdefault("adjust_by", [ErrorDetail(BOTH_CHANGES, code="both")])
    elif "quantity" not in item and "adjust_by" not in item:
        errors["quantity"] = [ErrorDetail(NO_CHANGE, code="no_change")]
    for name in item:
        if name not in _ITEM_FIELDS:
            errors[name] = [ErrorDetail("is not allowed", code="unknown_field")]
    return values, errors


BOTH_CHANGES = "must be left out when `quantity` is given: an item sets or adjusts, not both"
NO_CHANGE = "is required (or `adjust_by`): an item sets or adjusts one SKU's on-hand count"


def bulk_items_parse(raw_items: list) -> list[BulkItem]:
    """Turn the request's items into BulkItems; a malformed one carries its errors' sentences.

    The sentences are the envelope's (`Field 'items[3].quantity' must be at most 9999`).
    """
    parsed = []
    for index, raw in enumerate(raw_items):
        values, errors = _item_errors(raw)
        sku = values.get("sku")
        if not errors:
            parsed.append(
                BulkItem(
                    sku=sku,
                    quantity=values.get("quantity"),
                    adjust_by=values.get("adjust_by"),
                    expected_quantity=values.get("expected_quantity"),
                    reason_code=values.get("reason_code"),
                    reason=values.get("reason", ""),
                )
            )
            continue
        ordered = {name: errors[name] for name in (*_ITEM_FIELDS, *errors) if name in errors}
        if "" in ordered:  # the item itself
            sentences = flatten_errors({"items": {index: ordered[""]}})
        else:
            sentences = flatten_errors({"items": {index: ordered}})
        parsed.append(BulkItem(sku=sku, malformed="; ".join(sentences)))
    return parsed


class BulkItemsField(serializers.Field):
    """`items`: a list of 1 to BULK_MAX_ITEMS objects; each object is checked on its own."""

    default_error_messages = {
        "items_not_a_list": "must be a list of items",
        "no_items": "must hold at least one item",
        "too_many_items": f"must hold at most {BULK_MAX_ITEMS} items; send the rest in another call",
        "not_objects": "must hold objects only (item {index} is not one)",
    }

    def to_internal_value(self, data: Any) -> list:
        if not isinstance(data, list):
            self.fail("items_not_a_list")
        if not data:
            self.fail("no_items")
        if len(data) > BULK_MAX_ITEMS:
            self.fail("too_many_items")
        for index, item in enumerate(data):
            if not isinstance(item, Mapping):
                self.fail("not_objects", index=index)
        return data


class BulkStockInputSerializer(StrictSerializer):
    """The call as a whole; its items are parsed by `bulk_items_parse`."""

    reference = StrictCharField(
        max_length=REFERENCE_MAX_LENGTH,
        required=False,
        allow_blank=True,
        default="",
        help_text="Your document, e.g. `wms://cycle-count/CC-2026-11-28`; on every row written.",
    )
    error_policy = StrictChoiceField(choices=ERROR_POLICIES, required=False, default=ALL_OR_NOTHING)
    items = BulkItemsField()


def bulk_outcome_representation(outcome: BulkOutcome) -> dict:
    """One item of the answer (a plain dict: an answer holds up to 2,000)."""
    if outcome.outcome == PENDING_APPROVAL:
        return {**_outcome_fields(outcome), "approval_request_id": outcome.approval_request}
    return _outcome_fields(outcome)


def _outcome_fields(outcome: BulkOutcome) -> dict:
    return {
        "index": outcome.index,
        "sku": outcome.sku,
        "outcome": outcome.outcome,
        "product_id": outcome.product_id,
        "quantity": outcome.quantity,
        "previous_quantity": outcome.previous_quantity,
        "change": outcome.change,
        "reserved": outcome.reserved,
        "available": outcome.available,
        "error": outcome.error,
        "message": outcome.message,
    }


def bulk_result_representation(result: BulkResult) -> dict:
    return {
        "adjustment_group": None
        if result.adjustment_group is None
        else str(result.adjustment_group),
        "reference": result.reference,
        "error_policy": result.error_policy,
        "summary": {
            "applied": result.count(APPLIED),
            "unchanged": result.count(UNCHANGED),
            "pending_approval": result.count(PENDING_APPROVAL),
            "failed": result.count(FAILED),
        },
        "items": [bulk_outcome_representation(outcome) for outcome in result.outcomes],
    }


@extend_schema_serializer(component_name="BulkStockItemResult")
class BulkOutcomeOutputSerializer(serializers.Serializer):
    """Documents `bulk_outcome_representation`."""

    index = serializers.IntegerField(help_text="The item's position in the request, from 0.")
    sku = serializers.CharField(allow_null=True, help_text="As sent; null if it was not a SKU.")
    outcome = serializers.ChoiceField(
        choices=list(OUTCOMES),
        help_text="`applied`: a ledger row was written. `unchanged`: on-hand already had that "
        "count (no row). `pending_approval`: the change crossed a threshold of two-person "
        "approval (only for keys with that setting on): nothing applied yet, a decrease's units "
        "are held; follow `approval_request_id`. `failed`: see `error` and `message`.",
    )
    product_id = serializers.CharField(
        allow_null=True, help_text="The product's public id; null when the SKU is unknown."
    )
    quantity = serializers.IntegerField(
        allow_null=True,
        help_text="On-hand after the call; on a failed item the current on-hand (null when the "
        "SKU is unknown).",
    )
    previous_quantity = serializers.IntegerField(
        allow_null=True, help_text="On-hand before the call; null on a failed item."
    )
    change = serializers.IntegerField(
        allow_null=True, help_text="quantity - previous_quantity; null on a failed item."
    )
    reserved = serializers.IntegerField(allow_null=True, help_text="Units reserved by orders.")
    available = serializers.IntegerField(allow_null=True, help_text="quantity - reserved.")
    error = serializers.CharField(
        allow_null=True,
        help_text="On a failed item, the code PATCH /v1/inventory/{sku} answers: `not_found`, "
        "`conflict` or `validation_error`.",
    )
    message = serializers.CharField(
        allow_null=True,
        help_text="On a failed item, PATCH's words for the same refusal; on a pending one, "
        "which approval thresholds it crossed.",
    )
    approval_request_id = serializers.CharField(
        required=False,
        help_text="Only on a `pending_approval` item: the request to follow with "
        "GET /v1/inventory/approvals/{id}.",
    )


@extend_schema_serializer(component_name="BulkStockSummary")
class BulkSummaryOutputSerializer(serializers.Serializer):
    applied = serializers.IntegerField()
    unchanged = serializers.IntegerField()
    pending_approval = serializers.IntegerField()
    failed = serializers.IntegerField()


@extend_schema_serializer(component_name="BulkStockResult")
class BulkResultOutputSerializer(serializers.Serializer):
    """Documents `bulk_result_representation`."""

    adjustment_group = serializers.UUIDField(
        allow_null=True,
        help_text="Shared by every ledger row this call wrote; null when nothing was applied.",
    )
    reference = serializers.CharField(help_text="As sent (empty when left out).")
    error_policy = serializers.ChoiceField(choices=ERROR_POLICIES)
    summary = BulkSummaryOutputSerializer()
    items = BulkOutcomeOutputSerializer(many=True, help_text="Every item, in request order.")


# --- Two-person approval (PATCH's 202, GET /v1/inventory/approvals/{id}) ---


def approval_request_body(approval: ApprovalRequest, *, request: Request) -> dict:
    """Return a request as its owner's key reads it (ApprovalRequestOutputSerializer).

    The deciding manager's comment is written for the requester (the admin says so).
    """
    applied = approval.applied_movement
    return {
        "id": approval.public_id,
        "status": approval.status,
        "sku": approval.product.sku,
        "product_id": approval.product.public_id,
        "change": approval.on_hand_delta,
        "quantity_at_request": approval.on_hand_at_request,
        "held": approval.held if approval.is_pending else 0,
        "reason_code": approval.reason_code,
        "reason": approval.reason,
        "reference": approval.reference,
        "thresholds": approval.threshold,
        "created_at": datetime_text(approval.created_at),
        "decided_at": datetime_text(approval.decided_at) if approval.decided_at else None,
        "comment": approval.comment,
        "ledger_id": applied.pk if applied else None,
        "links": {
            "self": reverse("inventory-approval", args=[approval.public_id], request=request),
            "inventory": reverse("inventory-detail", args=[approval.product.sku], request=request),
        },
    }


@extend_schema_serializer(component_name="ApprovalRequest")
class ApprovalRequestOutputSerializer(serializers.Serializer):
    """Documents `approval_request_body`."""

    id = serializers.CharField(help_text="The request's id, `apr_` and 20 hexadecimal digits.")
    status = serializers.ChoiceField(
        choices=ApprovalRequest.Status.choices,
        help_text="`pending`: waits for a manager. `approved`: the change was applied "
        "(`ledger_id`). `rejected`: nothing was applied.",
    )
    sku = serializers.CharField()
    product_id = serializers.CharField(help_text="The product's public id.")
    change = serializers.IntegerField(
        help_text="The signed change of on-hand, computed when the request was made; approval "
        "applies it to the on-hand count of that moment."
    )
    quantity_at_request = serializers.IntegerField(help_text="On-hand when the request was made.")
    held = serializers.IntegerField(
        help_text="Units of a waiting decrease held out of available stock (0 once decided)."
    )
    reason_code = serializers.ChoiceField(
        choices=[code for code, _ in reasons.reason_code_choices()],
        help_text="The reason code sent with the correction.",
    )
    reason = serializers.CharField()
    reference = serializers.CharField()
    thresholds = serializers.CharField(help_text="Which approval thresholds the change crossed.")
    created_at = serializers.DateTimeField()
    decided_at = serializers.DateTimeField(allow_null=True)
    comment = serializers.CharField(
        help_text="The deciding manager's comment for you (why it was rejected, say); empty "
        "while pending or when none was given."
    )
    ledger_id = serializers.IntegerField(
        allow_null=True,
        help_text="The ledger row of the applied change (also in the change feed); null unless "
        "approved.",
    )
    links = inline_serializer(
        name="ApprovalRequestLinks",
        fields={
            "self": serializers.URLField(help_text="This request's state."),
            "inventory": serializers.URLField(help_text="The product's stock."),
        },
    )
