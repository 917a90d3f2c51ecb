"""Two-person approval in the services (inventory.approvals, inventory.services)."""

from decimal import Decimal

import pytest

from inventory.approvals import (
    APPROVE,
    REJECT,
    ApprovalRefused,
    approval_decide,
    approval_policy,
)
from inventory.errors import BulkRejected, InsufficientStock, StockConflict
from inventory.models import ApprovalRequest, StockMovement
from inventory.selectors import reserved_mismatches, stock_mismatches
from inventory.services import (
    PENDING_APPROVAL,
    BulkItem,
    stock_adjust,
    stock_bulk_apply,
    stock_reserve,
    stock_set,
)
from techparts.actors import Actor
from techparts.events.models import Event
from tests.conftest import stock_of
from tests.factories import ProductFactory, UserFactory

pytestmark = pytest.mark.django_db

Kind = StockMovement.Kind


def set_policy(**thresholds) -> None:
    policy = approval_policy()
    for name in ("min_units", "min_value", "min_percent"):
        setattr(policy, name, thresholds.get(name))
    policy.save()


def ledger_of(product) -> list[StockMovement]:
    return list(StockMovement.objects.filter(product=product).order_by("id"))


def counts(product) -> tuple[int, int, int]:
    record = stock_of(product)
    return record.on_hand, record.reserved, record.available


def reconciles() -> bool:
    # No orders in these tests: reserved must be exactly the units approval requests hold.
    return stock_mismatches() == [] and reserved_mismatches(promised={}) == []


@pytest.fixture
def policy_20_units():
    set_policy(min_units=20)


@pytest.fixture
def product():
    return ProductFactory(stock=100, unit_cost=Decimal("40.00"))


def damaged(product, user, units: int = 25):
    return stock_adjust(
        product_id=product.pk,
        delta=-units,
        actor=Actor.staff(user),
        reason="Pallet dropped",
        reason_code="damaged",
        reference="DMG-7",
        approvals=True,
    )


def test_a_large_decrease_waits_and_holds_its_units_out_of_available_stock(
    policy_20_units, product, clerk
):
    change = damaged(product, clerk)

    request = change.approval_request
    assert change.movement is None and change.change == 0
    assert request.status == "pending" and request.public_id.startswith("apr_")
    assert (request.on_hand_delta, request.on_hand_at_request, request.held) == (-25, 100, 25)
    assert (request.kind, request.reason_code, request.reason, request.reference) == (
        "correction",
        "damaged",
        "Pallet dropped",
        "DMG-7",
    )
    assert (request.source, request.requested_by, request.actor_name) == ("admin", clerk, "clerk")
    assert request.threshold == "25 units is at least the 20-unit limit"
    # On hand is untouched; the 25 units are reserved by the hold, through the ledger.
    assert counts(product) == (100, 25, 75)
    hold = ledger_of(product)[-1]
    assert (hold.kind, hold.on_hand_delta, hold.reserved_delta, hold.reason_code) == (
        Kind.HOLD,
        0,
        25,
        "approval",
    )
    assert (hold.approval_request_id, hold.actor_name, hold.reference) == (
        request.pk,
        "clerk",
        "DMG-7",
    )
    assert reconciles()


def test_held_units_cannot_be_ordered(policy_20_units, product, clerk):
    damaged(product, clerk, units=90)

    with pytest.raises(InsufficientStock, match="has only 10 units available. Requested: 11"):
        stock_reserve(quantities={product.pk: 11}, actor=Actor.system(), reference="ORD-1")
    stock_reserve(quantities={product.pk: 10}, actor=Actor.system(), reference="ORD-1")
    assert counts(product) == (100, 100, 0)


def test_another_manager_approves_and_the_stored_change_is_applied_pointing_at_the_request(
    policy_20_units, product, clerk, manager
):
    request = damaged(product, clerk).approval_request
    # The stock moves meanwhile: the signed change is applied to the stock as it then is.
    stock_set(product_id=product.pk, quantity=110, actor=Actor.system())

    decided = approval_decide(
        request_id=request.pk, decision=APPROVE, user=manager, comment="Seen the photos"
    )

    assert (decided.status, decided.decided_by, decided.comment) == (
        "approved",
        manager,
        "Seen the photos",
    )
    assert decided.decided_at is not None
    assert counts(product) == (85, 0, 85)
    # One row releases the hold and applies the change: no row shows the held units free.
    *_, hold, restock, applied = ledger_of(product)
    assert (hold.kind, restock.kind) == (Kind.HOLD, Kind.CORRECTION)
    assert (
        applied.kind,
        applied.on_hand_delta,
        applied.reserved_delta,
        applied.on_hand_after,
        applied.reserved_after,
        applied.approval_request_id,
    ) == (Kind.CORRECTION, -25, -25, 85, 0, request.pk)
    assert stock_mismatches() == []
    # The correction is the requester's, with their reason; it points at its approval.
    assert (applied.actor_name, applied.reason_code, applied.reason, applied.reference) == (
        "clerk",
        "damaged",
        "Pallet dropped",
        "DMG-7",
    )
    assert applied.approval_request_id == request.pk
    assert applied.unit_cost == Decimal("40.00")
    assert decided.applied_movement == applied
    assert reconciles()


def test_the_requester_cannot_decide_their_own_request_even_as_a_manager(
    policy_20_units, product, manager
):
    request = damaged(product, manager).approval_request

    for decision in (APPROVE, REJECT):
        with pytest.raises(ApprovalRefused, match="another person must approve or reject it"):
            approval_decide(request_id=request.pk, decision=decision, user=manager)

    request.refresh_from_db()
    assert request.status == "pending" and counts(product) == (100, 25, 75)


def test_a_superuser_cannot_decide_their_own_request_either(policy_20_units, product):
    root = UserFactory(username="root", is_superuser=True)
    request = damaged(product, root).approval_request

    with pytest.raises(ApprovalRefused, match="another person must approve or reject it"):
        approval_decide(request_id=request.pk, decision=APPROVE, user=root)
    assert ApprovalRequest.objects.get(pk=request.pk).status == "pending"


def test_the_creator_of_the_requesting_api_key_cannot_decide_its_request(
    policy_20_units, product, make_api_key, manager, inventory_groups
):
    # They saw the key's secret when it was made: they could have sent the correction.
    key, _ = make_api_key(owner="erp", corrections_need_approval=True, created_by=manager)
    request = damaged_by(product, Actor.api(key)).approval_request

    with pytest.raises(ApprovalRefused, match="You created the API key 'test key'"):
        approval_decide(request_id=request.pk, decision=APPROVE, user=manager)
    assert ApprovalRequest.objects.get(pk=request.pk).status == "pending"
    other = UserFactory(username="manager2")
    other.groups.add(*manager.groups.all())
    approval_decide(request_id=request.pk, decision=APPROVE, user=other)
    assert counts(product) == (80, 0, 80)


def test_a_user_without_the_approve_permission_cannot_decide(policy_20_units, product, clerk):
    request = damaged(product, clerk).approval_request
    other_clerk = UserFactory(username="clerk2")
    other_clerk.groups.add(*clerk.groups.all())

    with pytest.raises(ApprovalRefused, match="approve corrections"):
        approval_decide(request_id=request.pk, decision=APPROVE, user=other_clerk)
    assert ApprovalRequest.objects.get(pk=request.pk).status == "pending"


def test_reject_releases_the_hold_and_changes_nothing_else(
    policy_20_units, product, clerk, manager
):
    request = damaged(product, clerk).approval_request

    decided = approval_decide(
        request_id=request.pk, decision=REJECT, user=manager, comment="Recount first"
    )

    assert (decided.status, decided.comment, decided.applied_movement) == (
        "rejected",
        "Recount first",
        None,
    )
    assert counts(product) == (100, 0, 100)
    *_, hold, unhold = ledger_of(product)
    assert (hold.kind, unhold.kind, unhold.reserved_delta) == (Kind.HOLD, Kind.UNHOLD, -25)
    assert reconciles()


def test_a_decided_request_cannot_be_decided_again(policy_20_units, product, clerk, manager):
    request = damaged(product, clerk).approval_request
    approval_decide(request_id=request.pk, decision=REJECT, user=manager)

    with pytest.raises(StockConflict, match="was already rejected by manager"):
        approval_decide(request_id=request.pk, decision=APPROVE, user=manager)
    assert counts(product) == (100, 0, 100)


def test_approval_is_refused_when_the_change_would_now_break_a_rule_and_the_request_stays_pending(
    policy_20_units, clerk, manager
):
    product = ProductFactory(stock=9950)
    request = stock_set(
        product_id=product.pk, quantity=9990, actor=Actor.staff(clerk), approvals=True
    ).approval_request
    assert (request.on_hand_delta, request.held) == (40, 0)
    stock_set(product_id=product.pk, quantity=9980, actor=Actor.system())
    rows_before = len(ledger_of(product))

    with pytest.raises(StockConflict) as refused:
        approval_decide(request_id=request.pk, decision=APPROVE, user=manager)

    assert refused.value.message == (
        f"Cannot approve {request.public_id} now: Cannot change the on-hand count of "
        f"'{product.sku}' from 9980 to 10020 (+40): it must stay between 0 and 9999 units. "
        "Nothing was changed. The request stays pending; reject it, or check the stock and "
        "correct it anew."
    )
    assert ApprovalRequest.objects.get(pk=request.pk).status == "pending"
    assert len(ledger_of(product)) == rows_before and counts(product) == (9980, 0, 9980)
    # It can still be rejected.
    approval_decide(request_id=request.pk, decision=REJECT, user=manager)
    assert ApprovalRequest.objects.get(pk=request.pk).status == "rejected"


def test_a_decrease_stays_applicable_because_its_units_are_held(
    policy_20_units, product, clerk, manager
):
    request = damaged(product, clerk, units=60).approval_request
    # Orders take everything else; a count cannot go below what holds and orders reserve.
    stock_reserve(quantities={product.pk: 40}, actor=Actor.system(), reference="ORD-1")
    with pytest.raises(StockConflict, match="100 units are reserved"):
        stock_set(product_id=product.pk, quantity=99, actor=Actor.system())

    approval_decide(request_id=request.pk, decision=APPROVE, user=manager)
    assert counts(product) == (40, 40, 0)


def test_below_every_threshold_or_with_every_threshold_off_a_correction_applies_at_once(
    product, clerk
):
    assert damaged(product, clerk, units=50).approval_request is None  # policy off
    set_policy(min_units=20)
    change = damaged(product, clerk, units=19)
    assert change.approval_request is None and change.movement.on_hand_delta == -19
    assert counts(product) == (31, 0, 31)
    assert not ApprovalRequest.objects.exists()


def test_value_threshold_counts_the_unit_cost_and_never_an_unknown_one(clerk):
    set_policy(min_value=Decimal("500.00"))
    costly = ProductFactory(stock=50, unit_cost=Decimal("100.00"))
    unknown = ProductFactory(stock=50, unit_cost=None)

    assert damaged(costly, clerk, units=4).approval_request is None  # 400.00
    waiting = damaged(costly, clerk, units=5).approval_request  # 500.00
    assert waiting.threshold == (
        "a value of 500.00 (5 units at 100.00) is at least the 500.00 limit"
    )
    assert damaged(unknown, clerk, units=49).approval_request is None


def test_percent_threshold_is_of_the_on_hand_count_before_the_change(clerk):
    set_policy(min_percent=Decimal("50"))
    product = ProductFactory(stock=10)

    assert damaged(product, clerk, units=4).approval_request is None
    assert damaged(product, clerk, units=3).approval_request.threshold == (
        "50% of the 6 on hand is at least the 50% limit"
    )


def test_an_increase_waits_without_holding_anything(policy_20_units, product, clerk, manager):
    request = stock_set(
        product_id=product.pk,
        quantity=130,
        actor=Actor.staff(clerk),
        reason_code="returned",
        approvals=True,
    ).approval_request

    assert (request.on_hand_delta, request.held) == (30, 0)
    assert counts(product) == (100, 0, 100) and ledger_of(product)[-1].kind == Kind.CORRECTION
    approval_decide(request_id=request.pk, decision=APPROVE, user=manager)
    assert counts(product) == (130, 0, 130)


def test_who_is_subject_system_never_keys_only_with_their_setting(
    policy_20_units, product, make_api_key
):
    assert damaged_by(product, Actor.system()).approval_request is None
    key, _ = make_api_key(owner="erp")
    assert damaged_by(product, Actor.api(key)).approval_request is None
    key.corrections_need_approval = True
    request = damaged_by(product, Actor.api(key)).approval_request
    assert (request.source, request.requested_by_api_key, request.actor_name) == ("api", key, "erp")
    # Without approvals=True (every caller but the admin form and the API) nothing waits.
    assert stock_adjust(product_id=product.pk, delta=-30, actor=Actor.staff(UserFactory())).movement


def damaged_by(product, actor):
    return stock_adjust(
        product_id=product.pk, delta=-20, actor=actor, reason_code="damaged", approvals=True
    )


def test_an_api_keys_decided_request_is_an_event_for_its_owner_only(
    policy_20_units, product, make_api_key, manager
):
    key, _ = make_api_key(owner="erp")
    key.corrections_need_approval = True
    request = damaged_by(product, Actor.api(key)).approval_request
    events_before = Event.objects.count()

    approval_decide(request_id=request.pk, decision=APPROVE, user=manager, comment="Photos checked")

    event = Event.objects.get(type="inventory.approval_decided")
    applied = ledger_of(product)[-1]
    assert (event.audience_owner, event.origin_owner, event.subject) == (
        "erp",
        "erp",
        f"sku:{product.sku}",
    )
    assert event.data == {
        "approval_request_id": request.public_id,
        "sku": product.sku,
        "product_id": product.public_id,
        "status": "approved",
        "change": -20,
        "ledger_id": applied.pk,
        # The version of the applied row: the event is ordered with the stock's own.
        "version": applied.version,
    }
    assert (event.version, applied.version) == (
        stock_of(product).version,
        stock_of(product).version,
    )
    # The requester's own text, the manager's comment to them included, is the private part:
    # only the origin owner (the requester) reads it.
    assert event.private == {"reason": "", "reference": "", "comment": "Photos checked"}
    # The unhold and the correction bring their own inventory.* events, in the same transaction.
    assert Event.objects.count() > events_before + 1


def test_a_staff_request_makes_no_approval_event(policy_20_units, product, clerk, manager):
    request = damaged(product, clerk).approval_request
    approval_decide(request_id=request.pk, decision=REJECT, user=manager)
    assert not Event.objects.filter(type="inventory.approval_decided").exists()


# --- The bulk service ---


def bulk(products, actor, **kwargs):
    return stock_bulk_apply(
        items=[
            BulkItem(sku=products[0].sku, adjust_by=-30, reason_code="damaged", reason="wet"),
            BulkItem(sku=products[1].sku, adjust_by=-5, reason_code="damaged"),
            *kwargs.pop("extra", []),
        ],
        actor=actor,
        reference="CC-9",
        **kwargs,
    )


def test_bulk_item_over_a_threshold_waits_and_does_not_fail_all_or_nothing(policy_20_units, clerk):
    products = [ProductFactory(stock=100), ProductFactory(stock=100)]

    result = bulk(products, Actor.staff(clerk))

    waiting, applied = result.outcomes
    request = ApprovalRequest.objects.get()
    assert (waiting.outcome, waiting.approval_request, waiting.change) == (
        PENDING_APPROVAL,
        request.public_id,
        0,
    )
    assert (waiting.quantity, waiting.reserved, waiting.available) == (100, 30, 70)
    assert waiting.message.startswith("Waits for approval: 30 units is at least the 20-unit")
    assert (applied.outcome, applied.change) == ("applied", -5)
    assert (request.on_hand_delta, request.held, request.reason, request.reference) == (
        -30,
        30,
        "wet",
        "CC-9",
    )
    hold = ledger_of(products[0])[-1]
    assert (hold.kind, hold.approval_request_id, hold.adjustment_group) == (
        Kind.HOLD,
        request.pk,
        result.adjustment_group,
    )
    assert ledger_of(products[1])[-1].approval_request_id is None
    assert counts(products[0]) == (100, 30, 70) and counts(products[1]) == (95, 0, 95)
    assert reconciles()


def test_bulk_all_or_nothing_with_a_failing_item_takes_no_request(policy_20_units, clerk):
    products = [ProductFactory(stock=100), ProductFactory(stock=100)]

    with pytest.raises(BulkRejected):
        bulk(products, Actor.staff(clerk), extra=[BulkItem(sku="NOPE-1", quantity=1)])

    assert not ApprovalRequest.objects.exists()
    assert counts(products[0]) == (100, 0, 100)


def test_bulk_reject_failed_items_reports_pending_applied_and_failed(policy_20_units, clerk):
    products = [ProductFactory(stock=100), ProductFactory(stock=100)]

    result = bulk(
        products,
        Actor.staff(clerk),
        extra=[BulkItem(sku="NOPE-1", quantity=1)],
        error_policy="reject_failed_items",
    )

    assert [item.outcome for item in result.outcomes] == [PENDING_APPROVAL, "applied", "failed"]
    assert result.count(PENDING_APPROVAL) == 1


def test_bulk_with_approvals_off_applies_reviewed_lines_at_once(policy_20_units, clerk):
    products = [ProductFactory(stock=100), ProductFactory(stock=100)]

    result = bulk(products, Actor.staff(clerk), approvals=False)

    assert [item.outcome for item in result.outcomes] == ["applied", "applied"]
    assert not ApprovalRequest.objects.exists()
    assert counts(products[0]) == (70, 0, 70)


def test_bulk_dry_run_reports_pending_approval_and_opens_nothing(policy_20_units, clerk):
    products = [ProductFactory(stock=100), ProductFactory(stock=100)]
    rows_before = StockMovement.objects.count()

    result = bulk(products, Actor.staff(clerk), dry_run=True)

    waiting, applied = result.outcomes
    assert (waiting.outcome, waiting.approval_request, waiting.reserved) == (
        PENDING_APPROVAL,
        None,
        0,
    )
    assert waiting.message.startswith("Needs approval: 30 units is at least the 20-unit limit")
    assert applied.outcome == "applied" and result.adjustment_group is None
    assert not ApprovalRequest.objects.exists()
    assert StockMovement.objects.count() == rows_before and counts(products[0]) == (100, 0, 100)


# --- A repeated count answers the request it already waits in ---


def count_of(product, user, quantity: int, **kwargs):
    return stock_set(
        product_id=product.pk,
        quantity=quantity,
        actor=Actor.staff(user),
        approvals=True,
        **{"reason_code": "returned", **kwargs},
    )


@pytest.mark.parametrize("quantity", [130, 70], ids=["increase", "decrease"])
def test_setting_the_same_count_again_answers_the_waiting_request_and_opens_no_other(
    policy_20_units, product, clerk, manager, quantity
):
    code = "returned" if quantity > 100 else "damaged"
    first = count_of(product, clerk, quantity, reason_code=code).approval_request
    again = count_of(product, clerk, quantity, reason_code=code, expected_quantity=100)

    assert again.approval_request.pk == first.pk and again.movement is None
    assert ApprovalRequest.objects.count() == 1
    assert counts(product) == (100, first.held, 100 - first.held)
    approval_decide(request_id=first.pk, decision=APPROVE, user=manager)
    assert counts(product) == (quantity, 0, quantity)
    assert reconciles()


def test_an_adjustment_repeated_or_a_count_by_someone_else_is_a_new_request(
    policy_20_units, product, clerk, manager
):
    first = damaged(product, clerk).approval_request
    other = count_of(product, manager, 75, reason_code="damaged").approval_request
    again = damaged(product, clerk).approval_request

    assert len({first.pk, other.pk, again.pk}) == 3
    assert counts(product) == (100, 75, 25)


def test_a_bulk_count_retried_answers_the_waiting_requests(policy_20_units, clerk):
    products = [ProductFactory(stock=100), ProductFactory(stock=100)]

    def send():
        return stock_bulk_apply(
            items=[
                BulkItem(sku=products[0].sku, quantity=70, reason_code="damaged"),
                BulkItem(sku=products[1].sku, quantity=140, reason_code="returned"),
            ],
            actor=Actor.staff(clerk),
        )

    first = send()
    again = send()

    assert [item.outcome for item in again.outcomes] == [PENDING_APPROVAL, PENDING_APPROVAL]
    assert [item.approval_request for item in again.outcomes] == [
        item.approval_request for item in first.outcomes
    ]
    assert (again.outcomes[0].reserved, again.outcomes[0].available) == (30, 70)
    assert ApprovalRequest.objects.count() == 2
    assert counts(products[0]) == (100, 30, 70) and counts(products[1]) == (100, 0, 100)
    assert reconciles()
