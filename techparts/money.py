"""Money: Decimal amounts in whole cents, one definition for the models, services and the API."""

from decimal import Decimal

DECIMAL_PLACES = 2
CENT = Decimal("0.01")
ZERO = Decimal("0.00")
PRICE_MAX_DIGITS = 10  # a unit price, up to 99,999,999.99
AMOUNT_MAX_DIGITS = 12  # a line or order total
MAX_PRICE = Decimal(10 ** (PRICE_MAX_DIGITS - DECIMAL_PLACES)) - CENT


def to_cents(amount: Decimal, *, rounding: str | None = None) -> Decimal:
    """Return `amount` in whole cents (the decimal context's rounding unless `rounding`)."""
    return amount.quantize(CENT, rounding=rounding)
