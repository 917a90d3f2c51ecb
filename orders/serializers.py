import re
from collections.abc import Mapping
from typing import Any

from django.core.validators import RegexValidator
from drf_spectacular.utils import extend_schema_serializer
from rest_framework import serializers
from rest_framework.exceptions import ErrorDetail
from rest_framework.fields import empty

from catalog.models import Product
from orders.models import Customer, Order, OrderLine
from orders.rules import MAX_LINES, MAX_QUANTITY
from orders.selectors import active_products_by_public_id, customer_find
from orders.services import OrderItem, ShippingAddress
from orders.states import COUNTRIES, US_STATES
from techparts.api.serializers import (
    MoneyField,
    StrictCharField,
    StrictChoiceField,
    StrictIntegerField,
    StrictSerializer,
)
from techparts.api.validation import errors_by_index, in_field_order, seed_error

# The whole value, ASCII digits only; a RegexValidator so the schema states the same pattern.
ZIP_PATTERN = re.compile(r"\A[0-9]{5}(?:-[0-9]{4})?\Z")
PRODUCT_ID_MAX_LENGTH = 64


# `...InputSerializer` reads a request body, `...OutputSerializer` renders a response. The
# schema keeps the component names the API published before that naming (`component_name`).


def _plain_item(item: Any) -> bool:
    """Return whether an order line is already in the form the line serializer would return.

    Such a line passes every check of OrderItemInputSerializer unchanged: exactly the two
    fields, an ASCII product id without surrounding blanks or NULs and within the length, a
    JSON integer quantity within range.
    """
    if type(item) is not dict or len(item) != 2:
        return False
    product_id, quantity = item.get("product_id"), item.get("quantity")
    return (
        type(product_id) is str
        and 0 < len(product_id) <= PRODUCT_ID_MAX_LENGTH
        and product_id.isascii()
        and product_id.isprintable()
        and product_id.strip() == product_id
        and type(quantity) is int
        and 1 <= quantity <= MAX_QUANTITY
    )


class OrderItemListInputSerializer(serializers.ListSerializer):
    """The order's lines; well-formed lines skip the per-line serializer machinery.

    Running a nested serializer per line costs more than the rest of an order put together at
    50 lines. A list whose every line is plain (`_plain_item`) is taken as it is; anything
    else goes through the serializers, so every error body stays theirs.
    """

    def run_validation(self, data: Any = empty) -> Any:
        if type(data) is list and 1 <= len(data) <= MAX_LINES and all(map(_plain_item, data)):
            return [{"product_id": i["product_id"], "quantity": i["quantity"]} for i in data]
        return super().run_validation(data)


class OrderItemInputSerializer(StrictSerializer):
    class Meta:
        list_serializer_class = OrderItemListInputSerializer

    product_id = StrictCharField(
        max_length=PRODUCT_ID_MAX_LENGTH, help_text="Product identifier, e.g. PROD-4090-MSI-001."
    )
    quantity = StrictIntegerField(
        min_value=1,
        max_value=MAX_QUANTITY,
        help_text=f"Units to order, 1 to {MAX_QUANTITY} (a JSON integer).",
    )


@extend_schema_serializer(component_name="ShippingAddress")
class ShippingAddressInputSerializer(StrictSerializer):
    street = StrictCharField(max_length=200)
    city = StrictCharField(max_length=100)
    state = StrictChoiceField(
        choices=US_STATES,
        error_messages={"invalid_choice": "must be a two-letter US state code, e.g. CA"},
        help_text="Two-letter USPS code in capitals, e.g. CA.",
    )
    zip = StrictCharField(
        trim_whitespace=False,  # exactly the documented pattern: "94105\n" is not a ZIP
        validators=[
            RegexValidator(ZIP_PATTERN, message="must be a 5-digit ZIP code or ZIP+4 (94105-1234)")
        ],
        help_text="5-digit ZIP code or ZIP+4 (94105 or 94105-1234).",
    )
    country = StrictChoiceField(
        choices=COUNTRIES,
        error_messages={
            "invalid_choice": "must be 'US' (TechParts ships within the US only)",
        },
        help_text="`US` (TechParts ships within the United States).",
    )


@extend_schema_serializer(component_name="OrderCreate")
class OrderCreateInputSerializer(StrictSerializer):
    """POST /v1/orders: checks shape and references together, so one 400 lists every problem."""

    customer_id = StrictCharField(max_length=32, help_text="Customer account, e.g. CUST-789012.")
    items = OrderItemInputSerializer(
        many=True,
        min_length=1,
        max_length=MAX_LINES,
        error_messages={
            "min_length": "must contain at least 1 item",
            "max_length": f"must contain at most {MAX_LINES} items",
            "not_a_list": "must be a list",
        },
        help_text=f"1 to {MAX_LINES} lines; the same product may appear on several lines.",
    )
    shipping_address = ShippingAddressInputSerializer()

    def to_internal_value(self, data: Any) -> dict:
        if not isinstance(data, Mapping):
            raise seed_error(["Request body must be a JSON object"])
        errors: dict[str, Any] = {}
        value: dict = {}
        try:
            value = super().to_internal_value(data)
        except serializers.ValidationError as exc:
            errors = dict(exc.detail)
        items = data.get("items")
        if isinstance(items, list) and len(items) > MAX_LINES:
            # An oversized order is refused on its size alone, before any database work.
            raise serializers.ValidationError(in_field_order(errors, self.fields))
        # References are checked even when the shape has problems, so one answer lists all.
        customer = self._customer(data, errors)
        products = self._products(data, errors)
        if errors:
            raise serializers.ValidationError(in_field_order(errors, self.fields))
        return {
            "customer": customer,
            "items": [
                OrderItem(product=products[item["product_id"]], quantity=item["quantity"])
                for item in value["items"]
            ],
            "shipping_address": ShippingAddress(**value["shipping_address"]),
        }

    @staticmethod
    def _customer(data: Mapping, errors: dict[str, Any]) -> Customer | None:
        customer_id = data.get("customer_id")
        if not isinstance(customer_id, str) or "customer_id" in errors:
            return None
        customer = customer_find(customer_id=customer_id)
        if customer is None:
            errors["customer_id"] = [
                ErrorDetail(
                    f"must be an existing customer ('{customer_id}' not found)",
                    code="does_not_exist",
                )
            ]
        return customer

    @staticmethod
    def _products(data: Mapping, errors: dict[str, Any]) -> dict[str, Product]:
        items = data.get("items")
        item_errors = errors_by_index(errors.get("items"))
        if not isinstance(items, list) or item_errors is None:
            return {}  # not a list, or too short/long: the shape error says it all
        wanted = {
            index: item["product_id"]
            for index, item in enumerate(items)
            if isinstance(item, Mapping)
            and isinstance(item.get("product_id"), str)
            and "product_id" not in item_errors.get(index, {})
        }
        if not wanted:
            return {}
        products = active_products_by_public_id(public_ids=set(wanted.values()))
        for index, public_id in wanted.items():
            if public_id not in products:
                item_errors[index] = {
                    "product_id": [
                        ErrorDetail(
                            f"must be an existing, active product ('{public_id}' not found)",
                            code="does_not_exist",
                        )
                    ],
                    **item_errors.get(index, {}),
                }
        if item_errors:
            errors["items"] = dict(sorted(item_errors.items()))
        return products


class ShippingAddressOutputSerializer(serializers.Serializer):
    street = serializers.CharField()
    city = serializers.CharField()
    state = serializers.CharField()
    zip = serializers.CharField()
    country = serializers.CharField()


@extend_schema_serializer(component_name="OrderCreated")
class OrderCreatedOutputSerializer(serializers.ModelSerializer):
    """The seed's confirmation body, field for field."""

    subtotal = MoneyField()
    tax = MoneyField()
    shipping = MoneyField()
    total = MoneyField()
    items_count = serializers.IntegerField(help_text="Number of order lines.")
    tracking_url = serializers.URLField(
        help_text="Public tracking page of the order (status and estimated delivery only). "
        "Its last path segment is a secret token: share the link whole."
    )

    class Meta:
        model = Order
        fields = [
            "order_id",
            "status",
            "subtotal",
            "tax",
            "shipping",
            "total",
            "currency",
            "items_count",
            "created_at",
            "estimated_delivery",
            "tracking_url",
        ]


@extend_schema_serializer(component_name="OrderLine")
class OrderLineOutputSerializer(serializers.ModelSerializer):
    product_id = serializers.CharField(source="product_public_id")
    unit_price = MoneyField(help_text="Price per unit at order time.")
    line_total = MoneyField()

    class Meta:
        model = OrderLine
        fields = ["product_id", "sku", "name", "unit_price", "quantity", "line_total"]


@extend_schema_serializer(component_name="Order")
class OrderOutputSerializer(OrderCreatedOutputSerializer):
    """An order as GET returns it: the confirmation fields plus lines, address and history."""

    customer_id = serializers.CharField(source="customer.customer_id")
    items = OrderLineOutputSerializer(source="lines", many=True)
    shipping_address = ShippingAddressOutputSerializer()

    class Meta(OrderCreatedOutputSerializer.Meta):
        fields = [
            *OrderCreatedOutputSerializer.Meta.fields,
            "customer_id",
            "items",
            "shipping_address",
            "updated_at",
            "shipped_at",
            "delivered_at",
            "cancelled_at",
        ]
