import re
from collections.abc import Mapping
from typing import Any

from django.core.validators import RegexValidator
from rest_framework import serializers
from rest_framework.exceptions import ErrorDetail

from catalog.models import Product
from orders.models import Customer, Order, OrderLine
from orders.services import MAX_LINES, OrderItem, ShippingAddress
from techparts.api.serializers import (
    MoneyField,
    StrictCharField,
    StrictChoiceField,
    StrictIntegerField,
    StrictSerializer,
)

# The whole value, ASCII digits only; a RegexValidator so the schema states the same pattern.
ZIP_PATTERN = re.compile(r"\A[0-9]{5}(?:-[0-9]{4})?\Z")
# USPS codes: the 50 states, DC, territories and military mail (AA, AE, AP). A tuple: the order
# is the order of the schema's enum.
US_STATES = (
    "AL",
    "AK",
    "AZ",
    "AR",
    "CA",
    "CO",
    "CT",
    "DE",
    "FL",
    "GA",
    "HI",
    "ID",
    "IL",
    "IN",
    "IA",
    "KS",
    "KY",
    "LA",
    "ME",
    "MD",
    "MA",
    "MI",
    "MN",
    "MS",
    "MO",
    "MT",
    "NE",
    "NV",
    "NH",
    "NJ",
    "NM",
    "NY",
    "NC",
    "ND",
    "OH",
    "OK",
    "OR",
    "PA",
    "RI",
    "SC",
    "SD",
    "TN",
    "TX",
    "UT",
    "VT",
    "VA",
    "WA",
    "WV",
    "WI",
    "WY",
    "DC",
    "PR",
    "GU",
    "VI",
    "AS",
    "MP",
    "AA",
    "AE",
    "AP",
)
COUNTRIES = ("US",)  # TechParts ships within the United States only
MAX_QUANTITY = 999


class OrderItemInputSerializer(StrictSerializer):
    product_id = StrictCharField(
        max_length=64, help_text="Product identifier, e.g. PROD-4090-MSI-001."
    )
    quantity = StrictIntegerField(
        min_value=1, max_value=MAX_QUANTITY, help_text="Units to order, 1 to 999 (a JSON integer)."
    )


class ShippingAddressSerializer(StrictSerializer):
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


def _seed_error(sentences: list[str]) -> serializers.ValidationError:
    return serializers.ValidationError(
        {"non_field_errors": [ErrorDetail(s, code="seed_message") for s in sentences]}
    )


class OrderCreateSerializer(StrictSerializer):
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
        help_text="1 to 50 lines; the same product may appear on several lines.",
    )
    shipping_address = ShippingAddressSerializer()

    def to_internal_value(self, data: Any) -> dict:
        if not isinstance(data, Mapping):
            raise _seed_error(["Request body must be a JSON object"])
        errors: dict[str, Any] = {}
        value: dict = {}
        try:
            value = super().to_internal_value(data)
        except serializers.ValidationError as exc:
            errors = dict(exc.detail)
        items = data.get("items")
        if isinstance(items, list) and len(items) > MAX_LINES:
            # An oversized order is refused on its size alone, before any database work.
            raise serializers.ValidationError(_in_field_order(errors, self.fields))
        # References are checked even when the shape has problems, so one answer lists all.
        customer = self._customer(data, errors)
        products = self._products(data, errors)
        if errors:
            raise serializers.ValidationError(_in_field_order(errors, self.fields))
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
        customer = Customer.objects.filter(customer_id=customer_id).first()
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
        item_errors = _errors_by_index(errors.get("items"))
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
        # One query for every line; the stock record comes along for the service's checks.
        products = {
            product.public_id: product
            for product in Product.objects.active()
            .filter(public_id__in=set(wanted.values()))
            .select_related("stock")
        }
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


def _errors_by_index(detail: Any) -> dict[int, Any] | None:
    """Return a list field's per-item errors by index; None when the list itself is wrong."""
    if detail is None:
        return {}
    if isinstance(detail, list) and all(isinstance(error, Mapping) for error in detail):
        # older DRF: one entry per item, {} when valid
        return {index: error for index, error in enumerate(detail) if error}
    if isinstance(detail, Mapping) and all(isinstance(key, int) for key in detail):
        return dict(detail)
    return None


def _in_field_order(errors: dict[str, Any], fields: Mapping[str, Any]) -> dict[str, Any]:
    """Return the errors in the order the fields are declared (unknown fields last)."""
    order = {name: position for position, name in enumerate(fields)}
    ordered = dict(sorted(errors.items(), key=lambda item: order.get(item[0], len(order))))
    child = getattr(fields.get("items"), "child", None)
    by_index = _errors_by_index(ordered.get("items"))
    if by_index and child is not None:
        ordered["items"] = {
            index: _in_field_order(dict(error), child.fields)
            if isinstance(error, Mapping)
            else error
            for index, error in sorted(by_index.items())
        }
    return ordered


class ShippingAddressOutputSerializer(serializers.Serializer):
    street = serializers.CharField()
    city = serializers.CharField()
    state = serializers.CharField()
    zip = serializers.CharField()
    country = serializers.CharField()


class OrderCreatedSerializer(serializers.ModelSerializer):
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


class OrderLineSerializer(serializers.ModelSerializer):
    product_id = serializers.CharField(source="product_public_id")
    unit_price = MoneyField(help_text="Price per unit at order time.")
    line_total = MoneyField()

    class Meta:
        model = OrderLine
        fields = ["product_id", "sku", "name", "unit_price", "quantity", "line_total"]


class OrderSerializer(OrderCreatedSerializer):
    """An order as GET returns it: the confirmation fields plus lines, address and history."""

    customer_id = serializers.CharField(source="customer.customer_id")
    items = OrderLineSerializer(source="lines", many=True)
    shipping_address = ShippingAddressOutputSerializer()

    class Meta(OrderCreatedSerializer.Meta):
        fields = [
            *OrderCreatedSerializer.Meta.fields,
            "customer_id",
            "items",
            "shipping_address",
            "updated_at",
            "shipped_at",
            "delivered_at",
            "cancelled_at",
        ]
