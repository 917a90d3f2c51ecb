"""The approval policy and approval_needed: which corrections need a second person."""

from decimal import Decimal

import pytest

from inventory.approvals import approval_needed, approval_policy
from inventory.models import ApprovalPolicy

pytestmark = pytest.mark.django_db


def policy(**thresholds) -> ApprovalPolicy:
    row = approval_policy()
    for name in ("min_units", "min_value", "min_percent"):
        setattr(row, name, thresholds.get(name))
    row.save()
    return row


def test_the_policy_is_one_row_created_with_every_threshold_off():
    first = approval_policy()
    assert (first.pk, first.min_units, first.min_value, first.min_percent) == (1, None, None, None)
    assert approval_policy().pk == first.pk
    assert ApprovalPolicy.objects.count() == 1
    # Every threshold off: nothing needs approval, however large.
    assert approval_needed(on_hand=9999, delta=-9999, unit_cost=Decimal("5000.00")) is None


def test_units_threshold_counts_either_direction_from_its_limit():
    rules = policy(min_units=20)
    assert approval_needed(on_hand=100, delta=-19, unit_cost=None, policy=rules) is None
    assert (
        approval_needed(on_hand=100, delta=-25, unit_cost=None, policy=rules)
        == "25 units is at least the 20-unit limit"
    )
    assert (
        approval_needed(on_hand=100, delta=20, unit_cost=None, policy=rules)
        == "20 units is at least the 20-unit limit"
    )


def test_value_threshold_uses_unit_cost_and_unknown_cost_never_triggers_it():
    rules = policy(min_value=Decimal("1000.00"))
    assert approval_needed(on_hand=50, delta=-2, unit_cost=Decimal("499.99"), policy=rules) is None
    assert (
        approval_needed(on_hand=50, delta=-2, unit_cost=Decimal("500.00"), policy=rules)
        == "a value of 1000.00 (2 units at 500.00) is at least the 1000.00 limit"
    )
    # Unknown cost is not zero and not infinite: the value rule is silent.
    assert approval_needed(on_hand=50, delta=-9000, unit_cost=None, policy=rules) is None


def test_percent_threshold_is_of_on_hand_before_and_zero_on_hand_is_a_hundred_percent():
    rules = policy(min_percent=Decimal("25"))
    assert approval_needed(on_hand=40, delta=-9, unit_cost=None, policy=rules) is None
    assert (
        approval_needed(on_hand=40, delta=-10, unit_cost=None, policy=rules)
        == "25% of the 40 on hand is at least the 25% limit"
    )
    assert (
        approval_needed(on_hand=0, delta=1, unit_cost=None, policy=rules)
        == "100% of the 0 on hand is at least the 25% limit"
    )
    assert (
        approval_needed(
            on_hand=3, delta=-1, unit_cost=None, policy=policy(min_percent=Decimal("33.3"))
        )
        == "33.3% of the 3 on hand is at least the 33.3% limit"
    )


def test_every_crossed_threshold_is_named_and_no_change_needs_nothing():
    rules = policy(min_units=5, min_value=Decimal("100.00"), min_percent=Decimal("50"))
    assert approval_needed(on_hand=10, delta=-5, unit_cost=Decimal("20.00"), policy=rules) == (
        "5 units is at least the 5-unit limit; "
        "a value of 100.00 (5 units at 20.00) is at least the 100.00 limit; "
        "50% of the 10 on hand is at least the 50% limit"
    )
    assert approval_needed(on_hand=10, delta=0, unit_cost=Decimal("20.00"), policy=rules) is None


def test_approval_needed_reads_the_stored_policy_when_none_is_given():
    policy(min_units=3)
    assert approval_needed(on_hand=10, delta=-3, unit_cost=None) == (
        "3 units is at least the 3-unit limit"
    )
    assert approval_needed(on_hand=10, delta=-2, unit_cost=None) is None
