import django_filters

from catalog.models import Product
from inventory.rules import low_stock_condition
from shop.selectors import with_available
from techparts.api.filters import BooleanFilter, PriceFilter, StrictFilterSet


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

    class Meta:
        model = Product
        fields = ["category", "manufacturer", "min_price", "max_price", "in_stock", "low_stock"]

    def filter_in_stock(self, queryset, name, value):
        queryset = with_available(queryset)
        return queryset.filter(available__gt=0) if value else queryset.filter(available__lte=0)

    def filter_low_stock(self, queryset, name, value):
        # No stock record is low.
        low = low_stock_condition(via="stock__")
        queryset = with_available(queryset)
        return queryset.filter(low) if value else queryset.exclude(low)
