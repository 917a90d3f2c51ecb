"""What an order costs and when it arrives: the money rules of an order, in one place.

Tax, shipping and delivery settings come from techparts.settings; the tax table is TaxRate.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from decimal import ROUND_DOWN, Decimal

from django.conf import settings

from orders.models import TaxRate
from techparts.money import ZERO, to_cents


def line_total(*, unit_price: Decimal, quantity: int) -> Decimal:
    """Return what `quantity` units at `unit_price` cost, in cents."""
    return to_cents(unit_price * quantity)


def tax_rate_for(*, state: str) -> Decimal:
    """Return the state's tax rate; a state without a rate in the table pays no tax."""
    rate = TaxRate.objects.filter(state=state.upper()).values_list("rate", flat=True).first()
    return rate if rate is not None else Decimal("0")


def order_tax(*, subtotal: Decimal, rate: Decimal) -> Decimal:
    """Return the tax on a subtotal, rounded down to the cent (2149.98 at 8% -> 171.99)."""
    return to_cents(subtotal * rate, rounding=ROUND_DOWN)


def order_shipping(*, subtotal: Decimal) -> Decimal:
    """Return the shipping fee: free at or above the threshold, the flat fee below it."""
    if subtotal >= settings.FREE_SHIPPING_THRESHOLD:
        return ZERO
    return to_cents(Decimal(settings.FLAT_SHIPPING_FEE))


def order_estimated_delivery(*, placed_at: datetime) -> datetime:
    """Return the transit days after the order's UTC date, at 23:59:00 UTC."""
    day = placed_at.astimezone(UTC).date() + timedelta(days=settings.DELIVERY_TRANSIT_DAYS)
    return datetime.combine(day, time(23, 59), tzinfo=UTC)


@dataclass(frozen=True)
class OrderTotals:
    subtotal: Decimal
    tax: Decimal
    shipping: Decimal

    @property
    def total(self) -> Decimal:
        return self.subtotal + self.tax + self.shipping


def order_totals(line_totals: Iterable[Decimal], *, state: str) -> OrderTotals:
    """Price an order from its line totals: subtotal, the state's tax on it, and shipping."""
    subtotal = sum(line_totals, ZERO)
    return OrderTotals(
        subtotal=subtotal,
        tax=order_tax(subtotal=subtotal, rate=tax_rate_for(state=state)),
        shipping=order_shipping(subtotal=subtotal),
    )
