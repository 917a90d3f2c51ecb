"""Product creation with its stock record: the one place that writes both apps at once.

Catalog knows nothing of stock and inventory nothing of how products are made, so every writer
that creates products (the admin, the demo loader, the test factories) calls these functions,
and every product has a stock record from the start.
"""

from collections.abc import Sequence
from decimal import Decimal
from typing import Unpack

from django.db import transaction

from catalog.models import Product
from catalog.services import (
    ProductFields,
    product_bulk_create,
    product_cost_set,
    product_create,
)
from inventory.services import stock_open
from techparts.actors import Actor

OPENING_REASON = "Opening balance"


@transaction.atomic
def product_open(
    *,
    actor: Actor,
    stock: int = 0,
    low_stock_threshold: int = 5,
    reason: str = OPENING_REASON,
    unit_cost: Decimal | None = None,
    **fields: Unpack[ProductFields],
) -> Product:
    """Create a product through the catalog and open its stock record with `stock` units.

    The opening balance is ledgered like any other stock change; ProductInvalid,
    CostChangeForbidden, CostInvalid or InvalidQuantity leaves nothing behind.
    """
    product = product_create(**fields)
    if unit_cost is not None:
        # Before the opening balance, so its ledger row carries the cost; the first cost is
        # the first entry of the product's cost history, like every later one.
        product_cost_set(product=product, unit_cost=unit_cost, actor=actor)
    stock_open(
        balances={product: stock},
        actor=actor,
        reason=reason,
        low_stock_threshold=low_stock_threshold,
    )
    return product


@transaction.atomic
def product_bulk_open(
    *,
    products: Sequence[Product],
    stock: Sequence[int],
    actor: Actor,
    reason: str = OPENING_REASON,
    batch_size: int = 2000,
) -> list[Product]:
    """Insert unsaved products in bulk, each with a stock record of the matching `stock` units."""
    if len(stock) != len(products):
        raise ValueError("product_bulk_open() needs one stock balance per product")
    created = product_bulk_create(products=products, batch_size=batch_size)
    stock_open(balances=dict(zip(created, stock, strict=True)), actor=actor, reason=reason)
    return created
