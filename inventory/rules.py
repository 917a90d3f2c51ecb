"""What "available" and "low stock" mean, once, for every reader of stock.

`available = on_hand - reserved`; a product without a stock record has none available and
counts as low. Readers of StockRecord rows use the default `via=""`; readers of Product rows
reach the record through its `stock` relation (`via="stock__"`).
"""

from django.db.models import Case, ExpressionWrapper, F, IntegerField, Q, Value, When


def available_expression(*, via: str = "") -> Case | ExpressionWrapper:
    """Return the database expression of units available to order."""
    units = ExpressionWrapper(F(f"{via}on_hand") - F(f"{via}reserved"), IntegerField())
    if not via:
        return units
    return Case(
        When(**{f"{via.removesuffix('__')}__isnull": True}, then=Value(0)),
        default=units,
        output_field=IntegerField(),
    )


def low_stock_condition(*, via: str = "", available: str = "available") -> Q:
    """Return the condition "available at or below the low-stock threshold".

    `available` names the annotation holding `available_expression(via=via)`.
    """
    low = Q(**{f"{available}__lte": F(f"{via}low_stock_threshold")})
    if not via:
        return low
    return Q(**{f"{via.removesuffix('__')}__isnull": True}) | low


def is_available(on_hand: int, reserved: int) -> int:
    """Return the units available of a stock record held in memory."""
    return on_hand - reserved


def is_low_stock(available: int, low_stock_threshold: int) -> bool:
    """Return whether `available` units held in memory count as low stock."""
    return available <= low_stock_threshold
