"""Cycle counts: sessions of products counted blind by clerks, reviewed and posted by managers.

A manager picks products (category, low stock, not counted in N days, a list of SKUs) into a
session and assigns clerks. While the session is open, its assigned clerks enter counted
quantities without seeing the system quantity (`blind_product_ids` hides those products'
counts on every admin page); each line keeps what was counted, by whom, when, and the on-hand
read in the same transaction. Managers review the variances (counted - on hand at count time),
in units and at cost; variances over the approval policy's thresholds need a second person's
approval; posting applies every variance as a signed adjustment through `stock_bulk_apply`
(reason `cycle_count`, one adjustment group), so stock that moved since the count keeps its
movements. docs/inventory.md, "Cycle counts".
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING

from django.db import transaction
from django.db.models import Case, Count, OuterRef, Q, QuerySet, Subquery, Sum, Value, When
from django.utils import timezone

from catalog.models import Category, Product
from inventory import reasons
from inventory.approvals import APPROVE_PERMISSION, approval_needed, approval_policy
from inventory.errors import BulkRejected, InvalidQuantity
from inventory.kinds import SETTING_KINDS
from inventory.models import (
    MAX_COUNT_LINES,
    MAX_ON_HAND,
    ApprovalPolicy,
    CountLine,
    CountSession,
    StockMovement,
    StockRecord,
)
from inventory.rules import available_expression, low_stock_condition
from inventory.services import ALL_OR_NOTHING, BulkItem, BulkResult, stock_bulk_apply
from techparts.actors import Actor
from techparts.errors import Conflict, DomainError, NotFound
from techparts.money import to_cents

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser

MANAGE_COUNTS = "inventory.manage_counts"
COUNT_STOCK = "inventory.count_stock"
APPROVE_CORRECTION = APPROVE_PERMISSION  # two-person approval (inventory.approvals)

State = CountSession.State
# A product is in at most one of these at a time: two unfinished counts of one product would
# each post its variance, correcting the same difference twice.
UNFINISHED = (State.OPEN, State.IN_REVIEW)
# Most clerks one session is assigned to, and most SKUs one list may name.
MAX_ASSIGNEES = 20
MAX_SKUS = MAX_COUNT_LINES
# How many SKUs a message names before it says "and N more".
NAMED_IN_MESSAGES = 10


class CountInvalid(DomainError):
    """A session cannot be made as asked (no products, too many, unknown SKUs, assignees)."""

    code = "validation_error"
    status_code = 400


class CountForbidden(DomainError):
    """The user may not take this step of a count (not assigned, or would approve their own)."""

    code = "forbidden"
    status_code = 403


def _skus_text(skus: Sequence[str]) -> str:
    shown = ", ".join(skus[:NAMED_IN_MESSAGES])
    more = len(skus) - NAMED_IN_MESSAGES
    return f"{shown} and {more} more" if more > 0 else shown


# Selection


@dataclass(frozen=True)
class CountSelection:
    """Which products a new session counts: every criterion given narrows the choice."""

    category_id: int | None = None
    low_stock: bool = False
    not_counted_days: int | None = None
    skus: tuple[str, ...] = ()

    @property
    def is_empty(self) -> bool:
        return (
            self.category_id is None
            and not self.low_stock
            and self.not_counted_days is None
            and not self.skus
        )

    def describe(self) -> str:
        """Return the selection in words, as the session keeps it."""
        parts = []
        if self.category_id is not None:
            category = Category.objects.filter(pk=self.category_id).first()
            parts.append(f"category {category.name if category else self.category_id}")
        if self.low_stock:
            parts.append("low stock")
        if self.not_counted_days is not None:
            parts.append(f"not counted in {self.not_counted_days} days")
        if self.skus:
            parts.append(f"{len(self.skus)} listed SKU{'' if len(self.skus) == 1 else 's'}")
        return ", ".join(parts)[:500]


def not_counted_condition(*, days: int, now: datetime) -> Q:
    """Return the stock records' condition "not counted in `days` days" (never counted included)."""
    return Q(last_counted_at__isnull=True) | Q(last_counted_at__lt=now - timedelta(days=days))


def count_candidates(*, selection: CountSelection, now: datetime) -> QuerySet[StockRecord]:
    """Return the stock records the selection picks (products already being counted included)."""
    records = StockRecord.objects.all()
    if selection.category_id is not None:
        records = records.filter(product__category_id=selection.category_id)
    if selection.low_stock:
        records = records.annotate(available_units=available_expression()).filter(
            low_stock_condition(available="available_units")
        )
    if selection.not_counted_days is not None:
        records = records.filter(not_counted_condition(days=selection.not_counted_days, now=now))
    if selection.skus:
        records = records.filter(product__sku__in=selection.skus)
    return records


def _being_counted() -> QuerySet[CountLine]:
    return CountLine.objects.filter(session__state__in=UNFINISHED)


# Sessions


@dataclass(frozen=True)
class CreatedSession:
    session: CountSession
    # SKUs the selection picked that were left out: they are in another unfinished session.
    left_out: list[str]


def _check_assignees(assignees: Sequence[AbstractBaseUser]) -> None:
    if not assignees:
        raise CountInvalid("Assign the session to at least one clerk.")
    if len(assignees) > MAX_ASSIGNEES:
        raise CountInvalid(f"Assign a session to at most {MAX_ASSIGNEES} clerks.")
    unfit = [
        user.get_username()
        for user in assignees
        if not (user.is_active and user.is_staff and user.has_perm(COUNT_STOCK))
    ]
    if unfit:
        raise CountInvalid(
            f"{', '.join(unfit)} may not count stock (an active staff user with the "
            "'count stock' permission, e.g. in Inventory clerks, is needed)."
        )


@transaction.atomic
def count_session_create(
    *,
    name: str,
    selection: CountSelection,
    assignees: Sequence[AbstractBaseUser],
    actor: AbstractBaseUser,
    now: datetime | None = None,
) -> CreatedSession:
    """Create an open session of the selected products (at most MAX_COUNT_LINES) for clerks.

    Products already in another open or in-review session are left out (and named in the
    answer); a selection of none, or of more than MAX_COUNT_LINES products, is refused.
    """
    now = now or timezone.now()
    name = name.strip()
    if not name:
        raise CountInvalid("Give the session a name, e.g. 'Aisle 7 graphics cards'.")
    if selection.is_empty:
        raise CountInvalid(
            "Pick the products: a category, low stock, not counted in N days, or a list of SKUs."
        )
    if len(selection.skus) > MAX_SKUS:
        raise CountInvalid(f"List at most {MAX_SKUS} SKUs; {len(selection.skus)} were given.")
    _check_assignees(assignees)
    if selection.skus:
        known = set(Product.objects.filter(sku__in=selection.skus).values_list("sku", flat=True))
        unknown = [sku for sku in selection.skus if sku not in known]
        if unknown:
            raise CountInvalid(f"Unknown SKUs: {_skus_text(unknown)}. Nothing was created.")
    candidates = count_candidates(selection=selection, now=now)
    busy = _being_counted().values("product_id")
    free = candidates.exclude(product_id__in=busy)
    product_ids = list(
        free.order_by("product_id").values_list("product_id", flat=True)[: MAX_COUNT_LINES + 1]
    )
    if len(product_ids) > MAX_COUNT_LINES:
        raise CountInvalid(
            f"The selection has {free.count()} products; a count session holds at most "
            f"{MAX_COUNT_LINES}. Narrow it (a category, fewer days, a shorter list). "
            "Nothing was created."
        )
    left_out = list(
        candidates.filter(product_id__in=busy)
        .order_by("product__sku")
        .values_list("product__sku", flat=True)[:MAX_COUNT_LINES]
    )
    # Lock the chosen products' stock rows (in product order, like every stock service): a
    # second session created at the same time over the same products waits here, and then
    # sees this one's lines and leaves them out.
    list(
        StockRecord.objects.filter(product_id__in=product_ids)
        .order_by("product_id")
        .select_for_update(no_key=True)
        .values_list("id", flat=True)
    )
    taken = set(
        _being_counted().filter(product_id__in=product_ids).values_list("product_id", flat=True)
    )
    if taken:
        left_out += list(
            Product.objects.filter(pk__in=taken).order_by("sku").values_list("sku", flat=True)
        )
        product_ids = [pid for pid in product_ids if pid not in taken]
    if not product_ids:
        reason = (
            f"; {len(left_out)} matching products are already in an open or in-review count"
            if left_out
            else ""
        )
        raise CountInvalid(f"No product matches this selection{reason}. Nothing was created.")
    session = CountSession.objects.create(
        name=name[:200], selection=selection.describe(), created_by=actor, created_at=now
    )
    session.assignees.set(assignees)
    CountLine.objects.bulk_create(
        [CountLine(session=session, product_id=product_id) for product_id in product_ids]
    )
    return CreatedSession(session=session, left_out=sorted(left_out))


def _lock_session(session_id: int) -> CountSession:
    # Every step of a session locks its row first: counting, submitting, approving and posting
    # of one session queue, so a count is never recorded into a session being posted.
    session = CountSession.objects.select_for_update().filter(pk=session_id).first()
    if session is None:
        raise NotFound(f"No cycle count #{session_id}.")
    return session


def _require_state(session: CountSession, *states: str, doing: str) -> None:
    if session.state not in states:
        raise Conflict(
            f"Cycle count #{session.pk} is {session.get_state_display().lower()}: "
            f"it cannot be {doing} now. Nothing was changed."
        )


@transaction.atomic
def count_session_submit(
    *, session_id: int, actor: AbstractBaseUser, now: datetime | None = None
) -> CountSession:
    """End counting: move an open session to review (its products are no longer hidden)."""
    session = _lock_session(session_id)
    _require_state(session, State.OPEN, doing="submitted for review")
    session.state = State.IN_REVIEW
    session.submitted_by = actor
    session.submitted_at = now or timezone.now()
    session.save(update_fields=["state", "submitted_by", "submitted_at"])
    return session


@transaction.atomic
def count_session_reopen(*, session_id: int, actor: AbstractBaseUser) -> CountSession:
    """Send a session in review back to counting (e.g. to recount lines); counts are kept."""
    session = _lock_session(session_id)
    _require_state(session, State.IN_REVIEW, doing="reopened")
    session.state = State.OPEN
    session.submitted_by = None
    session.submitted_at = None
    session.save(update_fields=["state", "submitted_by", "submitted_at"])
    return session


@transaction.atomic
def count_session_cancel(
    *, session_id: int, actor: AbstractBaseUser, now: datetime | None = None
) -> CountSession:
    """Cancel an open or in-review session: nothing is posted, its products are free again."""
    session = _lock_session(session_id)
    _require_state(session, *UNFINISHED, doing="cancelled")
    session.state = State.CANCELLED
    session.cancelled_by = actor
    session.cancelled_at = now or timezone.now()
    session.save(update_fields=["state", "cancelled_by", "cancelled_at"])
    return session


# Counting


def count_session_is_assigned(*, session: CountSession, user: AbstractBaseUser) -> bool:
    """Return whether `user` is one of the session's counting clerks."""
    return session.assignees.filter(pk=user.pk).exists()


@transaction.atomic
def count_lines_record(
    *,
    session_id: int,
    counts: Mapping[int, int],
    actor: AbstractBaseUser,
    now: datetime | None = None,
) -> list[CountLine]:
    """Record counted quantities (by product id) of an open session; return the lines changed.

    Only an assigned clerk counts. Each changed line gets the quantity, the clerk, the time,
    and the on-hand read now, under the stock row's lock; a line whose quantity is unchanged
    keeps its first count. A recount replaces the line's count (and any approval of it).
    """
    now = now or timezone.now()
    session = _lock_session(session_id)
    _require_state(session, State.OPEN, doing="counted")
    if not count_session_is_assigned(session=session, user=actor):
        raise CountForbidden(f"Cycle count #{session.pk} is not assigned to you.")
    out_of_range = [qty for qty in counts.values() if not 0 <= qty <= MAX_ON_HAND]
    if out_of_range:
        raise InvalidQuantity(
            f"A counted quantity must be between 0 and {MAX_ON_HAND}; {out_of_range[0]} is not."
        )
    lines = {line.product_id: line for line in session.lines.filter(product_id__in=list(counts))}
    if len(lines) != len(counts):
        raise InvalidQuantity(f"Some products are not in cycle count #{session.pk}.")
    changed = sorted(pid for pid, qty in counts.items() if lines[pid].counted_quantity != qty)
    if not changed:
        return []
    # The on-hand at count time, read under the same lock every stock change takes: the value
    # after every movement committed before this count, and none after it.
    on_hand = dict(
        StockRecord.objects.filter(product_id__in=changed)
        .order_by("product_id")
        .select_for_update(no_key=True)
        .values_list("product_id", "on_hand")
    )
    recorded = []
    for product_id in changed:
        line = lines[product_id]
        line.counted_quantity = counts[product_id]
        line.on_hand_at_count = on_hand[product_id]
        line.counted_by = actor
        line.counted_at = now
        line.approved_by = None
        line.approved_at = None
        recorded.append(line)
    CountLine.objects.bulk_update(
        recorded,
        [
            "counted_quantity",
            "on_hand_at_count",
            "counted_by",
            "counted_at",
            "approved_by",
            "approved_at",
        ],
    )
    return recorded


def blind_product_ids(user: AbstractBaseUser | None) -> frozenset[int]:
    """Return the ids of products whose stock `user` may not see: they are counting them.

    Every admin page that shows on-hand, reserved or available (stock list and page, product
    list and page, history, chart, correction form) asks this, so an assigned clerk counts
    blind while the session is open.
    """
    # Only users who may count can be assigned (and count); the others need no query.
    if user is None or not user.is_authenticated or not user.has_perm(COUNT_STOCK):
        return frozenset()
    return frozenset(
        CountLine.objects.filter(session__state=State.OPEN, session__assignees=user)
        .values_list("product_id", flat=True)
        .distinct()
    )


# Review


def _approval_reason(
    *, line: CountLine, unit_cost: Decimal | None, policy: ApprovalPolicy
) -> str | None:
    """Return the approval thresholds the line's variance crosses, in words; None: none.

    Judged as a correction made at count time: the variance against the on-hand then.
    """
    if not line.variance:
        return None
    return approval_needed(
        on_hand=line.on_hand_at_count, delta=line.variance, unit_cost=unit_cost, policy=policy
    )


@dataclass(frozen=True)
class ReviewLine:
    line: CountLine
    unit_cost: Decimal | None
    approval: str | None  # the thresholds crossed, in words; None: no approval needed
    # Signed sum of corrections and restocks of the product since it was counted (None: none):
    # posting still applies the variance on top, which is right for a delivery and wrong for
    # a correction that already fixed the same difference, so the reviewer is told.
    corrected_since: int | None = None

    @property
    def variance(self) -> int | None:
        return self.line.variance

    @property
    def value(self) -> Decimal | None:
        """Variance at the product's unit cost; None when not counted or the cost is unknown."""
        if self.line.variance is None or self.unit_cost is None:
            return None
        return to_cents(self.line.variance * self.unit_cost)

    @property
    def waits_for_approval(self) -> bool:
        return self.approval is not None and self.line.approved_by_id is None


@dataclass(frozen=True)
class CountReview:
    session: CountSession
    lines: list[ReviewLine]

    @property
    def counted(self) -> list[ReviewLine]:
        return [r for r in self.lines if r.line.is_counted]

    @property
    def not_counted(self) -> list[ReviewLine]:
        return [r for r in self.lines if not r.line.is_counted]

    @property
    def waiting(self) -> list[ReviewLine]:
        return [r for r in self.lines if r.waits_for_approval]

    @property
    def variance_units(self) -> int:
        return sum(r.variance for r in self.counted)

    @property
    def variance_value(self) -> Decimal:
        """The known part of the value (lines at unknown cost are counted in `unknown_value`)."""
        return sum((r.value for r in self.counted if r.value is not None), Decimal("0.00"))

    @property
    def unknown_value(self) -> int:
        """Counted lines with a variance whose value is unknown (no unit cost)."""
        return sum(1 for r in self.counted if r.variance and r.value is None)


def count_review(*, session: CountSession) -> CountReview:
    """Return the session's lines with variance, value at cost, approval need, and the
    corrections of each product since its count (one query, and the approval policy's)."""
    corrections = StockMovement.objects.filter(
        product_id=OuterRef("product_id"),
        created_at__gt=OuterRef("counted_at"),
        kind__in=SETTING_KINDS,
    )
    if session.adjustment_group is not None:
        corrections = corrections.exclude(adjustment_group=session.adjustment_group)
    corrected_since = Subquery(
        corrections.values("product_id").annotate(total=Sum("on_hand_delta")).values("total")
    )
    lines = list(
        session.lines.select_related("product", "counted_by", "approved_by")
        .annotate(corrected_since=corrected_since)
        .order_by("product__sku")
    )
    policy = approval_policy()
    return CountReview(
        session=session,
        lines=[
            ReviewLine(
                line=line,
                unit_cost=line.product.unit_cost,
                approval=(
                    _approval_reason(line=line, unit_cost=line.product.unit_cost, policy=policy)
                    if line.is_counted
                    else None
                ),
                corrected_since=line.corrected_since,
            )
            for line in lines
        ],
    )


@transaction.atomic
def count_line_approve(
    *, line_id: int, actor: AbstractBaseUser, now: datetime | None = None
) -> CountLine:
    """Approve one counted line's variance that crosses the approval thresholds.

    The approver holds `inventory.approve_correction` and did not count the line.
    """
    line = CountLine.objects.select_related("product").filter(pk=line_id).first()
    if line is None:
        raise NotFound(f"No cycle count line #{line_id}.")
    session = _lock_session(line.session_id)
    line.refresh_from_db()
    _require_state(session, State.IN_REVIEW, doing="approved")
    if not actor.has_perm(APPROVE_CORRECTION):
        raise CountForbidden(
            "Approving a count variance needs the 'approve correction' permission."
        )
    if not line.is_counted:
        raise Conflict(f"{line.product.sku} was not counted; there is nothing to approve.")
    if line.counted_by_id == actor.pk:
        raise CountForbidden(
            f"You counted {line.product.sku}: another person must approve its variance."
        )
    reason = _approval_reason(line=line, unit_cost=line.product.unit_cost, policy=approval_policy())
    if reason is None:
        raise Conflict(f"The variance of {line.product.sku} needs no approval.")
    line.approved_by = actor
    line.approved_at = now or timezone.now()
    line.save(update_fields=["approved_by", "approved_at"])
    return line


# Posting


@dataclass(frozen=True)
class CountPosting:
    session: CountSession
    result: BulkResult | None  # None when every counted line matched (nothing to post)
    counted: int
    adjusted: int


def _line_reason(line: CountLine) -> str:
    return (
        f"Counted {line.counted_quantity} against {line.on_hand_at_count} on hand "
        f"by {line.counted_by.get_username()} at {line.counted_at:%Y-%m-%d %H:%M} UTC"
    )


@transaction.atomic
def count_session_post(
    *, session_id: int, actor: AbstractBaseUser, now: datetime | None = None
) -> CountPosting:
    """Post a session in review: apply each counted line's variance to the current stock.

    All or nothing: one `stock_bulk_apply` call of signed adjustments (reason `cycle_count`,
    one adjustment group, the session as reference). Movements since the count are kept (the
    variance moves today's count, the counted number is not written over it). Refused,
    changing nothing, while a line over the approval thresholds waits for approval, or when
    any line would now break a stock rule (the failing lines are named). Lines that matched
    post nothing; every counted line sets its product's last counted time to its count time.
    """
    now = now or timezone.now()
    session = _lock_session(session_id)
    _require_state(session, State.IN_REVIEW, doing="posted")
    review = count_review(session=session)
    counted = [r.line for r in review.counted]
    if not counted:
        raise Conflict(
            f"No line of cycle count #{session.pk} was counted; reopen it to count, or cancel it."
        )
    if review.waiting:
        waiting = len(review.waiting)
        raise Conflict(
            f"{waiting} line{' needs' if waiting == 1 else 's need'} approval before cycle "
            f"count #{session.pk} can be posted. Nothing was posted.",
            details=[f"{r.line.product.sku}: {r.approval}" for r in review.waiting],
        )
    adjusted = [line for line in counted if line.variance]
    result = None
    if adjusted:
        items = [
            BulkItem(
                sku=line.product.sku,
                adjust_by=line.variance,
                reason_code=reasons.BY_CODE["cycle_count"].value,
                reason=_line_reason(line),
            )
            for line in adjusted
        ]
        try:
            result = stock_bulk_apply(
                items=items,
                actor=Actor.staff(actor),
                reference=session.reference,
                error_policy=ALL_OR_NOTHING,
                # Lines over the thresholds were approved in review (count_line_approve):
                # posting opens no approval requests of its own.
                approvals=False,
            )
        except BulkRejected as exc:
            failed = exc.extra["failed_items"]
            raise Conflict(
                f"{len(failed)} of {len(items)} variances cannot be applied to the current "
                f"stock; nothing was posted. Reopen cycle count #{session.pk} to recount them, "
                "or cancel it.",
                details=[f"{item['sku']}: {item['message']}" for item in failed],
                failed_skus=[item["sku"] for item in failed],
            ) from exc
    # Every counted line (matching ones too) records when its shelf was counted. A product is
    # in one unfinished session at a time, so a later posting always carries a later count.
    StockRecord.objects.filter(product_id__in=[line.product_id for line in counted]).update(
        last_counted_at=Case(
            *[When(product_id=line.product_id, then=Value(line.counted_at)) for line in counted]
        )
    )
    session.state = State.POSTED
    session.posted_by = actor
    session.posted_at = now
    session.adjustment_group = result.adjustment_group if result else None
    session.save(update_fields=["state", "posted_by", "posted_at", "adjustment_group"])
    return CountPosting(
        session=session, result=result, counted=len(counted), adjusted=len(adjusted)
    )


def count_session_list(*, user: AbstractBaseUser) -> QuerySet[CountSession]:
    """Return the sessions `user` may open: all for managers, their assigned ones for clerks."""
    sessions = CountSession.objects.annotate(
        line_count=Count("lines", distinct=True),
        counted_count=Count("lines", filter=Q(lines__counted_at__isnull=False), distinct=True),
    )
    if user.has_perm(MANAGE_COUNTS):
        return sessions
    return sessions.filter(assignees=user)
