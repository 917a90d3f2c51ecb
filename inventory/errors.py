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


class BulkRejected(DomainError):
    """A bulk stock write under `all_or_nothing` had failing items; nothing was applied.

    400 `validation_error` when an item is malformed (the call itself is wrong), else 409
    `conflict` (items break stock rules on the current stock). Lists every failing item.
    """

    def __init__(self, *, total: int, failed: list[dict], malformed: bool) -> None:
        self.code = "validation_error" if malformed else "conflict"
        self.status_code = 400 if malformed else 409
        super().__init__(
            f"{len(failed)} of {total} items failed; nothing was applied.",
            details=[f"items[{item['index']}]: {item['message']}" for item in failed],
            failed_items=failed,
        )


class CorrectionsFileRefused(DomainError):
    """An uploaded corrections file cannot be read as a whole (inventory.imports); nothing
    was kept. The message says what is wrong with the file in plain words."""

    code = "validation_error"
    status_code = 400
