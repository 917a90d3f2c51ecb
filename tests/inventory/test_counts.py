"""Cycle counts (inventory.counts): selection and bounds, blind entry, review, posting."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission
from django.utils import timezone

from inventory.approvals import approval_policy
from inventory.counts import (
    CountForbidden,
    CountInvalid,
    CountSelection,
    blind_product_ids,
    count_line_approve,
    count_lines_record,
    count_review,
    count_session_cancel,
    count_session_create,
    count_session_post,
    count_session_reopen,
    count_session_submit,
)
from inventory.errors import InvalidQuantity
from inventory.models import (
    MAX_COUNT_LINES,
    ApprovalRequest,
    CountLine,
    CountSession,
    StockMovement,
)
from inventory.services import stock_adjust, stock_reserve, stock_ship
from techparts.actors import Actor
from techparts.errors import Conflict
from tests.conftest import stock_of
from tests.factories import CategoryFactory, ProductFactory, UserFactory
from tests.inventory.test_bulk import open_products

pytestmark = pytest.mark.django_db

State = CountSession.State


def create(manager, clerks, **selection):
    return count_session_create(
        name="Aisle 7", selection=CountSelection(**selection), assignees=clerks, actor=manager
    )


def session_skus(session: CountSession) -> list[str]:
    return sorted(session.lines.values_list("product__sku", flat=True))


def count(session, clerk, **by_sku):
    """Record counts by SKU (keyword names with '_' for '-')."""
    lines = {line.product.sku: line.product_id for line in session.lines.select_related("product")}
    return count_lines_record(
        session_id=session.pk,
        counts={lines[sku.replace("_", "-")]: qty for sku, qty in by_sku.items()},
        actor=clerk,
    )


def line_of(session, product) -> CountLine:
    return session.lines.get(product=product)


@pytest.fixture
def approver(inventory_groups):
    """A second manager: managers may approve corrections (inventory.approve_correction)."""
    user = UserFactory(username="approver")
    user.groups.add(inventory_groups["Inventory managers"])
    return user


# Selection and bounds


def test_a_session_picks_a_category_and_assigns_clerks(manager, clerk):
    gpus = CategoryFactory(slug="graphics-cards", name="Graphics cards")
    ProductFactory(sku="GPU-A", category=gpus)
    ProductFactory(sku="GPU-B", category=gpus)
    ProductFactory(sku="CPU-A")

    created = create(manager, [clerk], category_id=gpus.pk)

    session = created.session
    assert session_skus(session) == ["GPU-A", "GPU-B"]
    assert (session.state, session.created_by, session.selection) == (
        State.OPEN,
        manager,
        "category Graphics cards",
    )
    assert list(session.assignees.all()) == [clerk]
    assert created.left_out == []


def test_low_stock_picks_products_at_or_below_their_threshold(manager, clerk):
    ProductFactory(sku="LOW-1", stock=5, low_stock_threshold=5)
    held = ProductFactory(sku="LOW-2", stock=9, low_stock_threshold=5)
    stock_reserve(quantities={held.pk: 6}, actor=Actor.system(), reference="ORD-1")
    ProductFactory(sku="GPU-PLENTY-1", stock=6, low_stock_threshold=5)

    session = create(manager, [clerk], low_stock=True).session

    assert session_skus(session) == ["LOW-1", "LOW-2"]


def test_not_counted_in_n_days_includes_never_counted_products(manager, clerk):
    from inventory.models import StockRecord

    never = ProductFactory(sku="GPU-NEVER")
    old = ProductFactory(sku="GPU-OLD")
    recent = ProductFactory(sku="GPU-RECENT")
    now = timezone.now()
    StockRecord.objects.filter(product=old).update(last_counted_at=now - timedelta(days=31))
    StockRecord.objects.filter(product=recent).update(last_counted_at=now - timedelta(days=29))

    session = create(manager, [clerk], not_counted_days=30).session

    assert session_skus(session) == [never.sku, old.sku]
    assert recent.sku not in session_skus(session)


def test_criteria_narrow_each_other_and_a_list_of_skus_picks_exactly_those(manager, clerk):
    gpus = CategoryFactory(slug="graphics-cards")
    ProductFactory(sku="GPU-LOW", category=gpus, stock=1)
    ProductFactory(sku="GPU-PLENTY", category=gpus, stock=50)
    ProductFactory(sku="CPU-LOW", stock=1)

    narrowed = create(manager, [clerk], category_id=gpus.pk, low_stock=True).session
    listed = create(manager, [clerk], skus=("GPU-PLENTY", "CPU-LOW")).session

    assert session_skus(narrowed) == ["GPU-LOW"]
    assert session_skus(listed) == ["CPU-LOW", "GPU-PLENTY"]


@pytest.mark.parametrize(
    ("selection", "error"),
    [
        ({}, "Pick the products"),
        ({"skus": ("GPU-A", "NOPE-1", "NOPE-2")}, "Unknown SKUs: NOPE-1, NOPE-2"),
        ({"category_id": 0}, "No product matches this selection"),
    ],
)
def test_a_selection_of_nothing_is_refused_and_creates_nothing(manager, clerk, selection, error):
    ProductFactory(sku="GPU-A")

    with pytest.raises(CountInvalid, match=error):
        create(manager, [clerk], **selection)

    assert not CountSession.objects.exists()


def test_a_session_holds_at_most_500_products(manager, clerk):
    products = open_products(MAX_COUNT_LINES + 1)

    with pytest.raises(CountInvalid) as refused:
        create(manager, [clerk], category_id=products[0].category_id)

    assert refused.value.message.startswith(
        "The selection has 501 products; a count session holds at most 500."
    )
    assert not CountSession.objects.exists()


def test_a_session_of_exactly_500_products_is_created(manager, clerk):
    products = open_products(MAX_COUNT_LINES)

    session = create(manager, [clerk], category_id=products[0].category_id).session

    assert session.lines.count() == MAX_COUNT_LINES


def test_products_in_an_unfinished_session_are_left_out_and_named(manager, clerk):
    a, b = ProductFactory(sku="GPU-A"), ProductFactory(sku="GPU-B")
    first = create(manager, [clerk], skus=("GPU-A",)).session

    second = create(manager, [clerk], skus=("GPU-A", "GPU-B"))

    assert session_skus(second.session) == ["GPU-B"]
    assert second.left_out == ["GPU-A"]
    with pytest.raises(CountInvalid, match="1 matching products are already in an open"):
        create(manager, [clerk], skus=("GPU-A",))
    count_session_cancel(session_id=first.pk, actor=manager)
    assert session_skus(create(manager, [clerk], skus=("GPU-A",)).session) == ["GPU-A"]
    assert {a.pk, b.pk} == set(CountLine.objects.values_list("product_id", flat=True))


def test_only_active_staff_who_may_count_can_be_assigned(manager, clerk, staff):
    ProductFactory(sku="GPU-A")

    with pytest.raises(CountInvalid, match="staff may not count stock"):
        create(manager, [clerk, staff], skus=("GPU-A",))
    with pytest.raises(CountInvalid, match="at least one clerk"):
        create(manager, [], skus=("GPU-A",))
    assert not CountSession.objects.exists()


# Blind entry


def test_counting_records_the_on_hand_at_that_moment_and_who_and_when(manager, clerk):
    gpu = ProductFactory(sku="GPU-A", stock=10)
    session = create(manager, [clerk], skus=("GPU-A",)).session

    [line] = count(session, clerk, GPU_A=8)

    line = line_of(session, gpu)
    assert (line.counted_quantity, line.on_hand_at_count, line.counted_by, line.variance) == (
        8,
        10,
        clerk,
        -2,
    )
    assert timezone.now() - line.counted_at < timedelta(minutes=1)


def test_a_recount_replaces_the_line_with_its_own_time_and_on_hand(
    manager, clerk, inventory_groups
):
    other = UserFactory(username="clerk2")
    other.groups.add(inventory_groups["Inventory clerks"])
    gpu = ProductFactory(sku="GPU-A", stock=10)
    session = create(manager, [clerk, other], skus=("GPU-A",)).session
    count(session, clerk, GPU_A=8)
    first = line_of(session, gpu)
    stock_reserve(quantities={gpu.pk: 3}, actor=Actor.system(), reference="ORD-1")
    stock_ship(quantities={gpu.pk: 3}, actor=Actor.system(), reference="ORD-1")

    assert count(session, other, GPU_A=8) == []  # the same number: the first count stays
    count(session, other, GPU_A=5)

    line = line_of(session, gpu)
    assert (line.counted_quantity, line.on_hand_at_count, line.counted_by) == (5, 7, other)
    assert line.counted_at > first.counted_at
    assert line.variance == -2


def test_only_assigned_clerks_count_and_only_while_open(manager, clerk, inventory_groups):
    outsider = UserFactory(username="clerk2")
    outsider.groups.add(inventory_groups["Inventory clerks"])
    ProductFactory(sku="GPU-A", stock=10)
    session = create(manager, [clerk], skus=("GPU-A",)).session

    with pytest.raises(CountForbidden, match="not assigned to you"):
        count(session, outsider, GPU_A=8)
    count_session_submit(session_id=session.pk, actor=clerk)
    with pytest.raises(Conflict, match="is in review: it cannot be counted now"):
        count(session, clerk, GPU_A=8)
    assert not session.lines.filter(counted_at__isnull=False).exists()


def test_counts_outside_the_range_or_the_session_are_refused(manager, clerk):
    ProductFactory(sku="GPU-A", stock=10)
    other = ProductFactory(sku="GPU-B", stock=10)
    session = create(manager, [clerk], skus=("GPU-A",)).session

    with pytest.raises(InvalidQuantity, match="between 0 and 9999"):
        count(session, clerk, GPU_A=10000)
    with pytest.raises(InvalidQuantity, match="not in cycle count"):
        count_lines_record(session_id=session.pk, counts={other.pk: 1}, actor=clerk)
    assert not session.lines.filter(counted_at__isnull=False).exists()


def test_blind_products_are_those_of_the_clerks_open_sessions_only(manager, clerk):
    a, b = ProductFactory(sku="GPU-A"), ProductFactory(sku="GPU-B")
    ProductFactory(sku="GPU-C")
    session = create(manager, [clerk], skus=("GPU-A", "GPU-B")).session

    assert blind_product_ids(clerk) == {a.pk, b.pk}
    assert blind_product_ids(manager) == frozenset()
    count_session_submit(session_id=session.pk, actor=clerk)
    assert blind_product_ids(clerk) == frozenset()


# Review


def test_review_shows_variance_in_units_and_value_and_unknown_cost_as_unknown(manager, clerk):
    ProductFactory(sku="GPU-A", stock=10, unit_cost=Decimal("120.50"))
    ProductFactory(sku="GPU-B", stock=4)  # no unit cost
    ProductFactory(sku="GPU-C", stock=3, unit_cost=Decimal("9.99"))
    session = create(manager, [clerk], skus=("GPU-A", "GPU-B", "GPU-C")).session
    count(session, clerk, GPU_A=7, GPU_B=6)

    review = count_review(session=session)

    rows = {r.line.product.sku: r for r in review.lines}
    assert (rows["GPU-A"].variance, rows["GPU-A"].value) == (-3, Decimal("-361.50"))
    assert (rows["GPU-B"].variance, rows["GPU-B"].value) == (2, None)
    assert (rows["GPU-C"].variance, rows["GPU-C"].value) == (None, None)
    assert [r.line.product.sku for r in review.not_counted] == ["GPU-C"]
    assert (review.variance_units, review.variance_value, review.unknown_value) == (
        -1,
        Decimal("-361.50"),
        1,
    )


# Posting


def test_posting_applies_the_variance_to_stock_that_moved_since_the_count(manager, clerk):
    gpu = ProductFactory(sku="GPU-A", stock=10)
    session = create(manager, [clerk], skus=("GPU-A",)).session
    count(session, clerk, GPU_A=8)  # 2 missing, against 10 on hand
    # Between counting and posting an order reserves 3 units and ships them.
    stock_reserve(quantities={gpu.pk: 4}, actor=Actor.system(), reference="ORD-1")
    stock_ship(quantities={gpu.pk: 3}, actor=Actor.system(), reference="ORD-1")
    count_session_submit(session_id=session.pk, actor=clerk)

    posting = count_session_post(session_id=session.pk, actor=manager)

    record = stock_of(gpu)
    # 10 - 3 shipped - 2 missing: the counted number (8) is not written over the sale.
    assert (record.on_hand, record.reserved) == (5, 1)
    row = StockMovement.objects.filter(product=gpu).first()
    assert (row.kind, row.reason_code, row.on_hand_delta, row.on_hand_after) == (
        "correction",
        "cycle_count",
        -2,
        5,
    )
    assert row.reference == f"Cycle count #{session.pk}: Aisle 7"
    assert row.actor_user == manager
    assert row.adjustment_group == posting.session.adjustment_group is not None
    assert "Counted 8 against 10 on hand by clerk" in row.reason


def test_posting_writes_one_group_and_nothing_for_matching_lines(manager, clerk):
    a = ProductFactory(sku="GPU-A", stock=10)
    b = ProductFactory(sku="GPU-B", stock=4)
    c = ProductFactory(sku="GPU-C", stock=6)
    d = ProductFactory(sku="GPU-D", stock=6)
    session = create(manager, [clerk], skus=("GPU-A", "GPU-B", "GPU-C", "GPU-D")).session
    count(session, clerk, GPU_A=12, GPU_B=1, GPU_C=6)  # GPU-D not counted
    count_session_submit(session_id=session.pk, actor=manager)
    before = StockMovement.objects.count()

    posting = count_session_post(session_id=session.pk, actor=manager)

    rows = StockMovement.objects.filter(adjustment_group=posting.session.adjustment_group)
    assert sorted((r.product.sku, r.on_hand_delta) for r in rows) == [("GPU-A", 2), ("GPU-B", -3)]
    assert StockMovement.objects.count() == before + 2
    assert (posting.counted, posting.adjusted) == (3, 2)
    assert [stock_of(p).on_hand for p in (a, b, c, d)] == [12, 1, 6, 6]
    session.refresh_from_db()
    assert (session.state, session.posted_by) == (State.POSTED, manager)


def test_posting_sets_last_counted_to_each_lines_count_time(manager, clerk):
    a, b, c = (ProductFactory(sku=f"GPU-{x}", stock=5) for x in "ABC")
    session = create(manager, [clerk], skus=("GPU-A", "GPU-B", "GPU-C")).session
    count(session, clerk, GPU_A=5)  # matches: still counted
    count(session, clerk, GPU_B=4)
    count_session_submit(session_id=session.pk, actor=clerk)
    assert stock_of(a).last_counted_at is None

    count_session_post(session_id=session.pk, actor=manager)

    assert stock_of(a).last_counted_at == line_of(session, a).counted_at
    assert stock_of(b).last_counted_at == line_of(session, b).counted_at
    assert stock_of(c).last_counted_at is None


def test_a_line_that_would_break_a_rule_now_posts_nothing_and_is_named(manager, clerk):
    a = ProductFactory(sku="GPU-A", stock=10)
    b = ProductFactory(sku="GPU-B", stock=5)
    session = create(manager, [clerk], skus=("GPU-A", "GPU-B")).session
    count(session, clerk, GPU_A=12, GPU_B=1)  # B: 4 missing
    # Since the count 3 of B's 5 units were reserved: -4 would take on hand below reserved.
    stock_reserve(quantities={b.pk: 3}, actor=Actor.system(), reference="ORD-1")
    count_session_submit(session_id=session.pk, actor=clerk)
    before = StockMovement.objects.count()

    with pytest.raises(Conflict) as refused:
        count_session_post(session_id=session.pk, actor=manager)

    assert refused.value.message.startswith("1 of 2 variances cannot be applied")
    assert refused.value.details == [
        "GPU-B: Cannot set stock of 'GPU-B' to 1: 3 units are reserved by open orders."
    ]
    assert StockMovement.objects.count() == before
    assert (stock_of(a).on_hand, stock_of(b).on_hand) == (10, 5)
    assert stock_of(a).last_counted_at is None
    session.refresh_from_db()
    assert session.state == State.IN_REVIEW


def test_only_a_session_in_review_with_counted_lines_posts(manager, clerk):
    ProductFactory(sku="GPU-A", stock=10)
    session = create(manager, [clerk], skus=("GPU-A",)).session

    with pytest.raises(Conflict, match="is open \\(counting\\): it cannot be posted now"):
        count_session_post(session_id=session.pk, actor=manager)
    count_session_submit(session_id=session.pk, actor=manager)
    with pytest.raises(Conflict, match="No line of cycle count"):
        count_session_post(session_id=session.pk, actor=manager)
    count_session_reopen(session_id=session.pk, actor=manager)
    count(session, clerk, GPU_A=10)
    count_session_submit(session_id=session.pk, actor=manager)
    posting = count_session_post(session_id=session.pk, actor=manager)
    assert (posting.adjusted, posting.result, posting.session.adjustment_group) == (0, None, None)
    with pytest.raises(Conflict, match="is posted"):
        count_session_post(session_id=session.pk, actor=manager)
    with pytest.raises(Conflict, match="is posted: it cannot be cancelled"):
        count_session_cancel(session_id=session.pk, actor=manager)


def test_states_record_who_and_when(manager, clerk):
    ProductFactory(sku="GPU-A", stock=10)
    session = create(manager, [clerk], skus=("GPU-A",)).session

    count_session_submit(session_id=session.pk, actor=clerk)
    session.refresh_from_db()
    assert (session.state, session.submitted_by) == (State.IN_REVIEW, clerk)
    assert session.submitted_at is not None
    count_session_reopen(session_id=session.pk, actor=manager)
    session.refresh_from_db()
    assert (session.state, session.submitted_by) == (State.OPEN, None)
    count_session_cancel(session_id=session.pk, actor=manager)
    session.refresh_from_db()
    assert (session.state, session.cancelled_by) == (State.CANCELLED, manager)
    assert session.cancelled_at is not None
    with pytest.raises(Conflict, match="is cancelled: it cannot be reopened"):
        count_session_reopen(session_id=session.pk, actor=manager)


def test_a_correction_between_count_and_posting_is_kept_and_shown_in_review(manager, clerk):
    gpu = ProductFactory(sku="GPU-A", stock=10)
    session = create(manager, [clerk], skus=("GPU-A",)).session
    count(session, clerk, GPU_A=9)
    stock_reserve(quantities={gpu.pk: 2}, actor=Actor.system(), reference="ORD-1")
    stock_adjust(product_id=gpu.pk, delta=5, actor=Actor.staff(manager), reason_code="received")
    count_session_submit(session_id=session.pk, actor=clerk)
    [row] = count_review(session=session).lines
    assert row.corrected_since == 5  # shown to the reviewer; orders are not corrections

    count_session_post(session_id=session.pk, actor=manager)

    assert stock_of(gpu).on_hand == 14
    session.refresh_from_db()
    [row] = count_review(session=session).lines
    assert row.corrected_since == 5  # the posting's own row is not counted in


# Approval of variances over the thresholds (inventory.approvals)


def units_policy(min_units: int) -> None:
    policy = approval_policy()
    policy.min_units = min_units
    policy.save()


def test_a_variance_over_the_threshold_needs_approval_by_someone_who_did_not_count_it(
    manager, clerk, approver
):
    gpu = ProductFactory(sku="GPU-A", stock=10)
    ProductFactory(sku="GPU-B", stock=10)
    units_policy(5)
    session = create(manager, [clerk], skus=("GPU-A", "GPU-B")).session
    count(session, clerk, GPU_A=4, GPU_B=9)  # -6 crosses the 5-unit limit, -1 does not
    count_session_submit(session_id=session.pk, actor=clerk)

    rows = {r.line.product.sku: r for r in count_review(session=session).lines}
    assert rows["GPU-A"].approval == "6 units is at least the 5-unit limit"
    assert rows["GPU-B"].approval is None
    with pytest.raises(Conflict) as refused:
        count_session_post(session_id=session.pk, actor=manager)
    assert refused.value.message.startswith("1 line needs approval")
    assert refused.value.details == ["GPU-A: 6 units is at least the 5-unit limit"]
    with pytest.raises(CountForbidden, match="approve correction"):
        count_line_approve(line_id=line_of(session, gpu).pk, actor=clerk)
    with pytest.raises(Conflict, match="needs no approval"):
        count_line_approve(line_id=session.lines.get(product__sku="GPU-B").pk, actor=approver)

    count_line_approve(line_id=line_of(session, gpu).pk, actor=approver)
    posting = count_session_post(session_id=session.pk, actor=manager)

    assert line_of(session, gpu).approved_by == approver
    assert stock_of(gpu).on_hand == 4
    assert not ApprovalRequest.objects.exists()  # the review was the approval
    assert (
        StockMovement.objects.filter(adjustment_group=posting.session.adjustment_group).count() == 2
    )


def test_the_counter_may_not_approve_their_own_line_even_as_approver(manager, approver):
    gpu = ProductFactory(sku="GPU-A", stock=10)
    units_policy(1)
    approver.user_permissions.add(
        Permission.objects.get(content_type__app_label="inventory", codename="count_stock")
    )
    session = create(manager, [approver], skus=("GPU-A",)).session
    count(session, approver, GPU_A=7)
    count_session_submit(session_id=session.pk, actor=approver)

    with pytest.raises(CountForbidden, match="another person must approve"):
        count_line_approve(line_id=line_of(session, gpu).pk, actor=approver)
    assert line_of(session, gpu).approved_by is None


def test_a_recount_drops_the_approval_of_the_old_count(manager, clerk, approver):
    gpu = ProductFactory(sku="GPU-A", stock=10)
    units_policy(2)
    session = create(manager, [clerk], skus=("GPU-A",)).session
    count(session, clerk, GPU_A=5)
    count_session_submit(session_id=session.pk, actor=clerk)
    count_line_approve(line_id=line_of(session, gpu).pk, actor=approver)

    count_session_reopen(session_id=session.pk, actor=manager)
    count(session, clerk, GPU_A=3)

    assert line_of(session, gpu).approved_by is None


def test_the_value_rule_uses_the_unit_cost_and_never_an_unknown_one(manager, clerk):
    ProductFactory(sku="GPU-A", stock=10, unit_cost=Decimal("100.00"))
    ProductFactory(sku="GPU-B", stock=10)
    policy = approval_policy()
    policy.min_value = Decimal("250.00")
    policy.save()
    session = create(manager, [clerk], skus=("GPU-A", "GPU-B")).session
    count(session, clerk, GPU_A=7, GPU_B=1)

    rows = {r.line.product.sku: r for r in count_review(session=session).lines}

    assert rows["GPU-A"].approval.startswith("a value of 300.00")
    assert rows["GPU-B"].approval is None
