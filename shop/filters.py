import django_filters
from django.db.models import Q

from catalog.models import Product
from inventory.rules import low_stock_condition
from shop.selectors import with_available
from techparts.api.filters import BooleanFilter, IsoDateTimeFilter, PriceFilter, StrictFilterSet


class ProductFilter(StrictFilterSet):
    category = django_filters.CharFilter(field_name="category__slug", help_text="Category slug.")
    manufacturer = django_filters.CharFilter(lookup_expr="iexact")
    min_price = PriceFilter(field_name="price", lookup_expr="gte")
    max_price = PriceFilter(field_name="price", lookup_expr="lte")
    in_stock = BooleanFilter(
        method="filter_in_stock", help_text="true: available > 0; false: none available."
    )
    low_stock = BooleanFilter(
        method="filter_low_stock",
        help_text="true: available at or below the product's low-stock threshold; false: above it.",
    )
    updated_since = IsoDateTimeFilter(
        method="filter_updated_since",
        help_text="ISO 8601 date-time: products whose own fields or stock changed at or after "
        "it (`updated_at` of the product or of its stock record). Not covered: a change of a "
        "related product (its `in_stock` shown inside this one). Answers are in id order and "
        "paged by `cursor` (follow `next`); `page` and `ordering` cannot be combined with it.",
    )

    class Meta:
        model = Product
        fields = [
            "category",
            "manufacturer",
            "min_price",
            "max_price",
            "in_stock",
            "low_stock",
            "updated_since",
        ]

    def filter_in_stock(self, queryset, name, value):
        queryset = with_available(queryset)
        return queryset.filter(available__gt=0) if value else queryset.filter(available__lte=0)

    def filter_low_stock(self, queryset, name, value):
        # No stock record is low.
        low = low_stock_condition(via="stock__")
        queryset = with_available(queryset)
        return queryset.filter(low) if value else queryset.exclude(low)

    def filter_updated_since(self, queryset, name, value):
        return queryset.filter(Q(updated_at__gte=value) | Q(stock__updated_at__gte=value))
