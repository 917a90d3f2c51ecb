from django.db.models import (
    Case,
    ExpressionWrapper,
    F,
    IntegerField,
    Prefetch,
    QuerySet,
    Value,
    When,
)

from catalog.models import Product

# Units that can still be sold; a product without a stock record has none.
AVAILABLE = Case(
    When(stock__isnull=True, then=Value(0)),
    default=ExpressionWrapper(F("stock__on_hand") - F("stock__reserved"), IntegerField()),
    output_field=IntegerField(),
)


def product_list() -> QuerySet[Product]:
    """Return active products with everything the API renders, in a fixed number of queries."""
    related = Product.objects.active().select_related("stock").order_by("public_id")
    return (
        Product.objects.active()
        .select_related("category", "stock")
        .prefetch_related(Prefetch("related_products", queryset=related))
        .annotate(available=AVAILABLE)
    )
