from drf_spectacular.utils import extend_schema_serializer
from rest_framework import serializers

from inventory import reasons
from inventory.kinds import SETTING_KINDS
from inventory.models import MAX_ON_HAND, StockMovement, StockRecord
from inventory.selectors import movement_public_view
from techparts.api.serializers import (
    StrictCharField,
    StrictChoiceField,
    StrictIntegerField,
    StrictSerializer,
)

REFERENCE_MAX_LENGTH = StockMovement._meta.get_field("reference").max_length

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
        ]


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
        choices=[code for code, _ in reasons.reason_code_choices()],
        help_text="Why, from the fixed list (docs/sync.md); `order` for order reservations, "
        "releases and shipments, `opening` for a first count, `unspecified` on rows written "
        "before reason codes existed.",
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

    def to_representation(self, instance: StockMovement) -> dict:
        view = movement_public_view(instance, viewer_owner=self.context.get("viewer_owner"))
        return super().to_representation(view)
