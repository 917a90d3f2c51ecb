"""Two-person approval of large stock corrections: the policy, its rules, and the requests.

A correction crossing a threshold of the approval policy (units, value at cost, percent of
on-hand) is not applied at once: it becomes a pending ApprovalRequest, which another person
holding `inventory.approve_correction` approves (the stored signed change is then applied
through the stock services) or rejects. docs/inventory.md, "Two-person approval".
"""

from __future__ import annotations

from decimal import Decimal

from django.db import router

from inventory.models import ApprovalPolicy
from techparts.money import to_cents

POLICY_ID = 1


def approval_policy() -> ApprovalPolicy:
    """Return the approval policy (created with every threshold off on first read)."""
    policy, _ = ApprovalPolicy.objects.using(router.db_for_write(ApprovalPolicy)).get_or_create(
        pk=POLICY_ID
    )
    return policy


def _plural(count: int | Decimal, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


def approval_needed(
    *,
    on_hand: int,
    delta: int,
    unit_cost: Decimal | None,
    policy: ApprovalPolicy | None = None,
) -> str | None:
    """Return the plain words of each threshold a signed change of `delta` units crosses
    ("25 units is at least the 20-unit limit"), or None when no approval is needed.

    `on_hand` is the count before the change (the base of the percent rule; from 0 any change
    is 100%). An unknown `unit_cost` (None) never triggers the value rule; a threshold left
    empty is off. Reads the policy when none is given.
    """
    if delta == 0:
        return None
    if policy is None:
        policy = approval_policy()
    units = abs(delta)
    crossed = []
    if policy.min_units is not None and units >= policy.min_units:
        crossed.append(f"{_plural(units, 'unit')} is at least the {policy.min_units}-unit limit")
    if policy.min_value is not None and unit_cost is not None:
        value = to_cents(units * unit_cost)
        if value >= policy.min_value:
            crossed.append(
                f"a value of {value} ({_plural(units, 'unit')} at {unit_cost}) is at least "
                f"the {policy.min_value} limit"
            )
    if policy.min_percent is not None:
        percent = Decimal(100) if on_hand <= 0 else Decimal(units * 100) / on_hand
        if percent >= policy.min_percent:
            crossed.append(
                f"{_percent_text(percent)}% of the {on_hand} on hand is at least the "
                f"{_percent_text(policy.min_percent)}% limit"
            )
    return "; ".join(crossed) or None


def _percent_text(percent: Decimal) -> str:
    """A percentage with at most one decimal, without trailing zeros (25, 12.5, 33.3)."""
    rounded = percent.quantize(Decimal("0.1"))
    return f"{rounded:f}".removesuffix(".0")
