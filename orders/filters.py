import django_filters

from orders.models import Order
from techparts.api.filters import IsoDateTimeFilter, StrictFilterSet

STATUS_VALUES = ", ".join(value for value, _ in Order.Status.choices)


class OrderFilter(StrictFilterSet):
    status = django_filters.ChoiceFilter(
        choices=Order.Status.choices,
        help_text="pending, shipped, delivered or cancelled.",
        error_messages={"invalid_choice": f"must be one of {STATUS_VALUES}"},
    )
    customer = django_filters.CharFilter(
        field_name="customer__customer_id", help_text="Customer id, e.g. CUST-789012."
    )
    created_after = IsoDateTimeFilter(
        field_name="created_at",
        lookup_expr="gte",
        help_text="Orders created at or after this ISO 8601 time, e.g. 2024-12-28T00:00:00Z.",
    )
    created_before = IsoDateTimeFilter(
        field_name="created_at",
        lookup_expr="lt",
        help_text="Orders created before this ISO 8601 time.",
    )

    class Meta:
        model = Order
        fields = ["status", "customer", "created_after", "created_before"]
