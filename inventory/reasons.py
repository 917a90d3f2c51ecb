"""The reason codes, once: why stock changed, in words every writer and reader shares.

A reason code sits on every ledger row in its own column (`StockMovement.reason_code`), next to
the movement's `kind` (what the change did to the counts) and the free `reason` text. Callers
(PATCH and bulk stock writes, the admin correction form, CSV imports) choose from CALLER_CODES;
the services write the system codes themselves.

How a code relates to the kind (PATCH's `type`): `received` is a delivery, recorded as a
`restock` (which may only raise on-hand); every other caller code is recorded as a
`correction`. A caller that names no code gets `received` for a restock and `correction`
otherwise. Rows written before reason codes existed carry `unspecified`.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ReasonCode:
    value: str
    label: str
    description: str
    kind: str | None  # the movement kind a caller's change with this code records; None: system
    loss: bool = False  # units gone for good (damage, shrinkage, theft)


REASON_CODES = (
    ReasonCode("received", "Received", "A delivery was received (a restock).", "restock"),
    ReasonCode("correction", "Correction", "A count or data correction.", "correction"),
    ReasonCode("cycle_count", "Cycle count", "The result of counting the shelf.", "correction"),
    ReasonCode("damaged", "Damaged", "Units were damaged.", "correction", loss=True),
    ReasonCode("shrinkage", "Shrinkage", "Units are missing, cause unknown.", "correction", True),
    ReasonCode("returned", "Returned", "A customer returned units.", "correction"),
    ReasonCode("theft", "Theft", "Units were stolen.", "correction", loss=True),
    ReasonCode("other", "Other", "Anything else; say what in `reason`.", "correction"),
    # Written by the services, never accepted from a caller.
    ReasonCode("order", "Order", "An order reserved, released or shipped units.", None),
    ReasonCode("opening", "Opening balance", "A new stock record's first count.", None),
    ReasonCode(
        "approval",
        "Approval hold",
        "Units held out of available stock, or released, while a correction waits for approval.",
        None,
    ),
    ReasonCode("unspecified", "Unspecified", "Written before reason codes existed.", None),
)
BY_CODE = {code.value: code for code in REASON_CODES}
# The codes a caller may choose, in table order.
# Every code, system ones included (the ledger column; the schema's StockMovementReasonCodeEnum).
ALL_CODES = tuple(code.value for code in REASON_CODES)
CALLER_CODES = tuple(code.value for code in REASON_CODES if code.kind is not None)
LOSS_CODES = tuple(code.value for code in REASON_CODES if code.loss)
ORDER = "order"
OPENING = "opening"
APPROVAL = "approval"
UNSPECIFIED = "unspecified"
# The longest code: the ledger column's width.
MAX_LENGTH = 16


def reason_code_choices() -> list[tuple[str, str]]:
    """Return (value, label) of every code, system ones included, for the ledger column."""
    return [(code.value, code.label) for code in REASON_CODES]


def caller_code_choices() -> list[tuple[str, str]]:
    return [(code.value, code.label) for code in REASON_CODES if code.kind is not None]


def default_code(kind: str) -> str:
    """The code of a caller's change of `kind` that names none."""
    return "received" if kind == "restock" else "correction"


def kind_of(code: str) -> str:
    """The movement kind a caller's change with `code` records (KeyError for a system code)."""
    kind = BY_CODE[code].kind
    if kind is None:
        raise KeyError(code)
    return kind
