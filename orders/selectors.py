import secrets
from collections.abc import Iterable

from django.db.models import Count, QuerySet, Sum

from catalog.models import Product
from orders.models import Customer, Order, OrderLine
from techparts.errors import NotFound


def order_list(*, owner: str | None) -> QuerySet[Order]:
    """Return orders with what the API renders, newest first, in a fixed number of queries.

    `owner` limits the list to orders placed by keys of that integrator; None means every
    order (back office).
    """
    orders = Order.objects.all() if owner is None else Order.objects.filter(owner=owner)
    return (
        orders.select_related("customer")
        .prefetch_related("lines")
        .annotate(items_count=Count("lines"))
        .order_by("-created_at", "-id")
    )


def order_get(*, order_id: str, owner: str | None) -> Order:
    """Return one order visible to `owner` (None: any order).

    Raise NotFound when there is none: another integrator's order looks exactly like an
    unknown id.
    """
    order = order_list(owner=owner).filter(order_id=order_id).first()
    if order is None:
        raise NotFound(f"Order with ID '{order_id}' does not exist")
    return order


def order_tracking_get(*, order_id: str, token: str) -> Order:
    """Return an order for the public tracking page when `token` is its tracking token.

    The order comes with its line and unit counts only. A wrong token and an unknown order
    look the same (NotFound), and the token is compared in constant time.
    """
    order = (
        Order.objects.filter(order_id=order_id)
        .only(
            "order_id",
            "status",
            "estimated_delivery",
            "created_at",
            "shipped_at",
            "delivered_at",
            "cancelled_at",
            "tracking_token",
        )
        .annotate(items_count=Count("lines"), units=Sum("lines__quantity"))
        .first()
    )
    # Order ids are not secret (they are sequential); tokens are. Bytes: compare_digest
    # refuses str with non-ASCII characters, which a URL may carry.
    if order is None or not secrets.compare_digest(order.tracking_token.encode(), token.encode()):
        raise NotFound("No order with this tracking link")
    return order


def pending_units_by_product() -> dict[int, int]:
    """Return, per product id, the units on pending orders: what its stock should hold reserved."""
    rows = (
        OrderLine.objects.filter(order__status=Order.Status.PENDING)
        .order_by()
        .values("product_id")
        .annotate(units=Sum("quantity"))
    )
    return {row["product_id"]: row["units"] for row in rows}


def customer_find(*, customer_id: str) -> Customer | None:
    """Return the customer with this id, or None (an order body may name an unknown one)."""
    return Customer.objects.filter(customer_id=customer_id).first()


# The product fields an order line is built from (orders.services).
ORDERED_PRODUCT_FIELDS = ("id", "public_id", "sku", "name", "price", "is_active")


def active_products_by_public_id(*, public_ids: Iterable[str]) -> dict[str, Product]:
    """Return the active products among `public_ids`, by public id, in one query.

    Each comes with its stock record, which the order service checks.
    """
    products = (
        Product.objects.active()
        .filter(public_id__in=set(public_ids))
        .select_related("stock")
        # What an order copies and checks, and nothing else: the specifications, texts and
        # timestamps would be decoded for every line only to be thrown away.
        .only(*ORDERED_PRODUCT_FIELDS, "stock__id")
    )
    return {product.public_id: product for product in products}
