from django.db.models import Prefetch, QuerySet

from catalog.models import Product
from inventory.rules import available_expression
from techparts.errors import NotFound


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


def product_get(*, public_id: str) -> Product:
    """Return one active product as the API renders it, or raise the seed's 404."""
    product = product_list().filter(public_id=public_id).first()
    if product is None:
        raise NotFound(f"Product with ID '{public_id}' does not exist")
    return product
