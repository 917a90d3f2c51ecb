from dataclasses import dataclass

from techparts.errors import Conflict, DomainError


@dataclass(frozen=True)
class Shortfall:
    product_public_id: str
    requested: int
    available: int


class InsufficientStock(DomainError):
    """Some lines ask for more units than are available; nothing was reserved."""

    code = "insufficient_stock"
    status_code = 409

    def __init__(self, shortfalls: list[Shortfall]) -> None:
        first = shortfalls[0]
        super().__init__(
            _shortfall_text(first),
            details=[_shortfall_text(s) for s in shortfalls],
            available_quantity=first.available,
        )
        self.shortfalls = shortfalls


def _shortfall_text(shortfall: Shortfall) -> str:
    unit = "unit" if shortfall.available == 1 else "units"
    return (
        f"Product '{shortfall.product_public_id}' has only {shortfall.available} {unit} "
        f"available. Requested: {shortfall.requested}"
    )


class InvalidQuantity(DomainError):
    code = "validation_error"
    status_code = 400


class StockConflict(Conflict):
    """The stock is not in the state the caller expected; nothing changed."""
