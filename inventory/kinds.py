"""The stock movement kinds, once: what each does to on-hand and reserved, and what it refuses.

Every reader of a kind's meaning reads this table: the model's `kind` choices, the services
(which kinds set on-hand, how moved units change the counts, the guards), the admin correction
form and the API's `type` field (the kinds that set on-hand), and the ledger replay
(`stock_mismatches`: the deltas a row of each kind may carry).

Adding a kind is one entry in KINDS plus its public service function in inventory.services
(and the migration `makemigrations` writes for the new choice).
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.db.models import F, Q

from inventory.errors import Shortfall, StockConflict

if TYPE_CHECKING:
    from inventory.models import StockRecord
    from inventory.services import LockedCounts

# What refuses a movement: a StockConflict is raised at once; Shortfalls are collected over
# every line of an order first, so InsufficientStock can name each short line.
Refusal = StockConflict | Shortfall | None
# A guard sees the locked stock record (or, moving units, its counts) and the new on-hand
# count (SET kinds) or the units moved (MOVE kinds), and returns the refusal, or None to let
# the movement through.
Guard = Callable[["StockRecord | LockedCounts", int], Refusal]


def not_below_reserved(record: StockRecord | LockedCounts, quantity: int) -> Refusal:
    """Refuse an on-hand count below the units reserved by open orders."""
    if quantity < record.reserved:
        return StockConflict(
            f"Cannot set stock of '{record.product.sku}' to {quantity}: {record.reserved} "
            f"units are reserved by open orders.",
            reserved_quantity=record.reserved,
        )
    return None


def never_lowers(record: StockRecord | LockedCounts, quantity: int) -> Refusal:
    """Refuse an on-hand count below the current one (a restock only adds units)."""
    if quantity < record.on_hand:
        return StockConflict(
            f"A restock cannot lower stock ({record.on_hand} -> {quantity}); "
            "record it as a correction.",
            current_quantity=record.on_hand,
        )
    return None


def within_available(record: StockRecord | LockedCounts, units: int) -> Refusal:
    """Refuse reserving more units than are available (a shortfall, listed with the others)."""
    if units > record.available:
        return Shortfall(record.product.public_id, units, max(record.available, 0))
    return None


def within_reserved(verb: str) -> Guard:
    """Return a guard refusing to `verb` more units than are reserved."""

    def guard(record: StockRecord | LockedCounts, units: int) -> Refusal:
        # Releasing or shipping more than is reserved would break the ledger's story.
        if units > record.reserved:
            return StockConflict(
                f"Cannot {verb} {units} units of '{record.product.sku}': "
                f"only {record.reserved} are reserved.",
                reserved_quantity=record.reserved,
            )
        return None

    return guard


class Effect(enum.Enum):
    # The caller states the new on-hand count (stock_set, stock_adjust); reserved stays.
    SET_ON_HAND = "set"
    # The caller moves a positive number of units; each count changes by its sign times them.
    MOVE_UNITS = "move"


@dataclass(frozen=True)
class MovementKind:
    """One kind of stock movement: its effect on the counts and the guards that refuse it."""

    value: str
    label: str
    effect: Effect
    guards: tuple[Guard, ...]
    # MOVE_UNITS only: the change of each count per unit moved (-1, 0 or +1).
    on_hand_sign: int = 0
    reserved_sign: int = 0

    @property
    def sets_on_hand(self) -> bool:
        return self.effect is Effect.SET_ON_HAND

    @property
    def only_raises(self) -> bool:
        """Whether this kind may only raise the on-hand count."""
        return never_lowers in self.guards

    def deltas(self, units: int) -> tuple[int, int]:
        """Return the (on-hand, reserved) changes of moving `units` units."""
        return self.on_hand_sign * units, self.reserved_sign * units

    def refusal(self, record: StockRecord | LockedCounts, count: int) -> Refusal:
        """Return the first guard's refusal of this movement, or None."""
        for guard in self.guards:
            if refused := guard(record, count):
                return refused
        return None

    def ledger_rows(self) -> Q:
        """Return the condition every ledger row of this kind meets."""
        if self.sets_on_hand:
            if self.only_raises:
                return Q(kind=self.value, reserved_delta=0, on_hand_delta__gt=0)
            # An approved decrease releases the units its request held in its own row: the
            # held units leave on-hand and reserved together (inventory.approvals).
            releases_hold = Q(
                approval_request__isnull=False,
                reserved_delta__lt=0,
                reserved_delta=F("on_hand_delta"),
            )
            return Q(kind=self.value) & (Q(reserved_delta=0) | releases_hold)
        # Units moved = sign * delta of a count the kind moves; the other count follows them.
        if self.reserved_sign:
            units, other, ratio = "reserved_delta", "on_hand_delta", self.on_hand_sign
            sign = self.reserved_sign
        else:
            units, other, ratio = "on_hand_delta", "reserved_delta", 0
            sign = self.on_hand_sign
        direction = Q(**{f"{units}__gt": 0}) if sign > 0 else Q(**{f"{units}__lt": 0})
        follows = Q(**{other: F(units) * ratio * sign}) if ratio else Q(**{other: 0})
        return Q(kind=self.value) & direction & follows


KINDS = (
    MovementKind("correction", "Correction", Effect.SET_ON_HAND, (not_below_reserved,)),
    MovementKind("restock", "Restock", Effect.SET_ON_HAND, (not_below_reserved, never_lowers)),
    MovementKind(
        "reservation", "Reservation", Effect.MOVE_UNITS, (within_available,), reserved_sign=+1
    ),
    MovementKind(
        "release", "Release", Effect.MOVE_UNITS, (within_reserved("release"),), reserved_sign=-1
    ),
    # Reserved units leave the building: out of on-hand and out of reserved.
    MovementKind(
        "shipment",
        "Shipment",
        Effect.MOVE_UNITS,
        (within_reserved("ship"),),
        on_hand_sign=-1,
        reserved_sign=-1,
    ),
    # A decrease waiting for approval (inventory.approvals) keeps its units out of available
    # stock: they count as reserved until the decision releases them.
    MovementKind("hold", "Hold", Effect.MOVE_UNITS, (within_available,), reserved_sign=+1),
    MovementKind(
        "unhold",
        "Hold released",
        Effect.MOVE_UNITS,
        (within_reserved("release from a hold"),),
        reserved_sign=-1,
    ),
)
BY_VALUE = {kind.value: kind for kind in KINDS}
# The kinds a caller may set on-hand with (stock_set, the API's `type`, the correction form).
SETTING_KINDS = tuple(kind.value for kind in KINDS if kind.sets_on_hand)


def movement_kind(value: str) -> MovementKind:
    """Return the table entry of the kind `value` (KeyError for an unknown kind)."""
    return BY_VALUE[value]


def kind_choices() -> list[tuple[str, str]]:
    """Return (value, label) of every kind, in table order, for the model's choices."""
    return [(kind.value, kind.label) for kind in KINDS]
