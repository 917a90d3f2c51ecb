from django.db.models import Prefetch, QuerySet

from catalog.models import Product
from inventory.rules import available_expression


def product_list() -> QuerySet[Product]:
    """Return active products with everything the API renders, in a fixed number of queries.

    Every product, related ones included, carries `available` (inventory's one definition).
    """
    available = available_expression(via="stock__")
    related = (
        Product.objects.active()
        .select_related("stock")
        .annotate(available=available)
        .order_by("public_id")
    )
    return (
        Product.objects.active()
        .select_related("category", "stock")
        .prefetch_related(Prefetch("related_products", queryset=related))
        .annotate(available=available)
    )
