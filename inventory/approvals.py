"""Two-person approval of large stock corrections: the policy, its rules, and the requests.

A correction crossing a threshold of the approval policy (units, value at cost, percent of
on-hand) is not applied at once: it becomes a pending ApprovalRequest, which another person
holding `inventory.approve_correction` approves (the stored signed change is then applied
through the stock services) or rejects. docs/inventory.md, "Two-person approval".
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal

from django.contrib.auth.models import AbstractBaseUser
from django.db import router, transaction
from django.db.models import Q
from django.utils import timezone

from inventory.errors import StockConflict
from inventory.models import ApprovalPolicy, ApprovalRequest, StockRecord
from inventory.services import (
    LockedCounts,
    PendingChange,
    stock_adjust,
    stock_lock,
    stock_unhold,
)
from techparts.actors import SOURCE_ADMIN, SOURCE_API, Actor
from techparts.errors import DomainError, NotFound
from techparts.events import types
from techparts.events.services import NewEvent, events_record
from techparts.money import to_cents

POLICY_ID = 1
APPROVE_PERMISSION = "inventory.approve_correction"
REQUEST_ID_PREFIX = "apr_"


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


# --- Who is subject, and opening requests (called by inventory.services under its locks) ---


def approval_applies(actor: Actor) -> bool:
    """Return whether `actor`'s corrections are subject to two-person approval (no query).

    Every staff user's (managers' too: two persons); an API key's when its
    `corrections_need_approval` is on; the system's never.
    """
    if actor.source == SOURCE_ADMIN:
        return True
    if actor.source == SOURCE_API and actor.api_key is not None:
        return actor.api_key.corrections_need_approval
    return False


@dataclass(frozen=True)
class ApprovalRules:
    """The policy as one action reads it, for an actor subject to approval."""

    policy: ApprovalPolicy

    def crossed(self, record: StockRecord | LockedCounts, movement) -> str | None:
        """Return the thresholds a change of the locked `record` crosses, in words, or None."""
        return approval_needed(
            on_hand=record.on_hand,
            delta=movement.on_hand_delta,
            unit_cost=record.product.unit_cost,
            policy=self.policy,
        )

    def requests_waiting(
        self, *, actor: Actor, records: Iterable[StockRecord | LockedCounts]
    ) -> dict[tuple[int, int], ApprovalRequest]:
        """Return `actor`'s pending requests made from each locked record's current on-hand,
        by (product id, the on-hand count they set): the answer to the same count asked again.
        One query.
        """
        on_hand = {record.product_id: record.on_hand for record in records}
        requester = (
            Q(requested_by=actor.user)
            if actor.user is not None
            else Q(requested_by_api_key=actor.api_key)
        )
        waiting = ApprovalRequest.objects.filter(
            requester,
            source=actor.source,
            status=ApprovalRequest.Status.PENDING,
            product_id__in=list(on_hand),
        ).order_by("id")
        return {
            (request.product_id, request.on_hand_at_request + request.on_hand_delta): request
            for request in waiting
            if request.on_hand_at_request == on_hand[request.product_id]
        }

    def requests_open(
        self, *, changes: Sequence[PendingChange], actor: Actor, reference: str
    ) -> list[ApprovalRequest]:
        """Record each change as a pending request (one INSERT), in order; return them.

        The caller holds the stock rows' locks and writes the holds of the decreases.
        """
        now = timezone.now()
        requests = [
            ApprovalRequest(
                public_id=approval_request_public_id(),
                product_id=change.movement.product_id,
                on_hand_delta=change.movement.on_hand_delta,
                on_hand_at_request=change.movement.on_hand_after - change.movement.on_hand_delta,
                kind=change.movement.kind,
                reason_code=change.reason_code,
                reason=change.reason,
                reference=reference,
                threshold=change.thresholds[:500],
                source=actor.source,
                requested_by=actor.user,
                requested_by_api_key=actor.api_key,
                actor_name=actor.name,
                held=max(-change.movement.on_hand_delta, 0),
                created_at=now,
            )
            for change in changes
        ]
        return ApprovalRequest.objects.bulk_create(requests)


def approval_rules(*, actor: Actor) -> ApprovalRules | None:
    """Return the rules `actor`'s corrections obey, or None when they need no approval.

    Reads the policy only for an actor subject to approval; None too when every threshold is off.
    """
    if not approval_applies(actor):
        return None
    policy = approval_policy()
    if policy.min_units is None and policy.min_value is None and policy.min_percent is None:
        return None
    return ApprovalRules(policy)


def approval_request_public_id() -> str:
    """Return a new request id: `apr_` and 20 random hexadecimal digits (80 bits)."""
    return REQUEST_ID_PREFIX + secrets.token_hex(10)


# --- Deciding ---


class ApprovalRefused(DomainError):
    """The user may not decide this request (no permission, or it is their own)."""

    code = "forbidden"
    status_code = 403


APPROVE, REJECT = "approve", "reject"


@transaction.atomic
def approval_decide(
    *, request_id: int, decision: str, user: AbstractBaseUser, comment: str = ""
) -> ApprovalRequest:
    """Approve or reject a pending request as `user`, with an optional comment; return it.

    Only a holder of `inventory.approve_correction` who is not the requester decides.
    Rejecting gives a decrease's held units back to available stock (an `unhold` row).
    Approving applies the stored signed change through the stock services, as the requester's
    correction pointing at the request, releasing the held units in that same row (one change,
    one event, one version: available stock never shows them free in between); if that would now break a stock rule (on-hand out of range, below the reserved
    units, a restock lowering stock) nothing changes, the request stays pending (it can still
    be rejected) and the refusal says why. An API key's request tells its owner by the event
    `inventory.approval_decided`.
    """
    if decision not in (APPROVE, REJECT):
        raise ValueError(f"unknown decision {decision!r}")
    product_id = (
        ApprovalRequest.objects.filter(pk=request_id).values_list("product_id", flat=True).first()
    )
    if product_id is None:
        raise NotFound(f"No approval request with id {request_id}.")
    # The lock order of every stock service: the stock row first, then the request's row.
    stock_lock(product_id=product_id)
    request = (
        ApprovalRequest.objects.select_for_update(of=("self",))
        .select_related("product", "requested_by", "requested_by_api_key")
        .get(pk=request_id)
    )
    _check_decider(request, user=user)
    requester = Actor(
        source=request.source, user=request.requested_by, api_key=request.requested_by_api_key
    )
    status = (
        ApprovalRequest.Status.APPROVED if decision == APPROVE else ApprovalRequest.Status.REJECTED
    )
    applied = None
    if decision == APPROVE:
        try:
            # The hold's release and the change are one ledger row: no reader ever sees the
            # held units available again before the change takes them.
            applied = stock_adjust(
                product_id=product_id,
                delta=request.on_hand_delta,
                actor=requester,
                reason=request.reason,
                reference=request.reference,
                kind=request.kind,
                reason_code=request.reason_code,
                approval_request_id=request.pk,
                releasing_hold=request.held,
            ).movement
        except DomainError as refusal:
            raise StockConflict(
                f"Cannot approve {request.public_id} now: {refusal.message} The request "
                "stays pending; reject it, or check the stock and correct it anew."
            ) from refusal
    elif request.held:
        stock_unhold(
            product_id=product_id,
            units=request.held,
            actor=requester,
            reference=request.reference,
            reason=f"Hold released: approval request {request.public_id} {status}",
            approval_request_id=request.pk,
        )
    request.status = status
    request.decided_by = user
    request.decided_at = timezone.now()
    request.comment = comment.strip()[:500]
    request.save(update_fields=["status", "decided_by", "decided_at", "comment"])
    if request.source == SOURCE_API:
        # The version of the row the decision wrote (the applied change, or the hold's
        # release), read under the stock row's lock; None when it wrote none.
        if applied is not None:
            version = applied.version
        elif request.held:
            version = StockRecord.objects.values_list("version", flat=True).get(
                product_id=product_id
            )
        else:
            version = None
        _record_decision_event(request, ledger_id=applied.pk if applied else None, version=version)
    return request


def _check_decider(request: ApprovalRequest, *, user: AbstractBaseUser) -> None:
    if not request.is_pending:
        decided = request.decided_at.strftime("%Y-%m-%d %H:%M UTC") if request.decided_at else ""
        raise StockConflict(
            f"Approval request {request.public_id} was already {request.status} "
            f"by {request.decided_by.get_username() if request.decided_by else 'someone'} "
            f"({decided}); nothing was changed."
        )
    if not user.has_perm(APPROVE_PERMISSION):
        raise ApprovalRefused(
            "Only a holder of the 'approve corrections' permission (Inventory managers) may "
            "approve or reject a correction."
        )
    own = approval_own_request(request, user=user)
    if own is not None:
        raise ApprovalRefused(own)


def approval_own_request(request: ApprovalRequest, *, user: AbstractBaseUser) -> str | None:
    """Return why `user` may not decide `request` as its requester, or None when they may.

    The requester is the staff user who made the correction, or for an API key's correction
    the staff user who created the key (they saw its secret, so they could have sent it).
    """
    if request.requested_by_id is not None and request.requested_by_id == user.pk:
        return (
            f"You made the correction {request.public_id}: another person must approve or "
            "reject it."
        )
    key = request.requested_by_api_key
    if key is not None and key.created_by_id is not None and key.created_by_id == user.pk:
        return (
            f"You created the API key '{key.name}' that made the correction "
            f"{request.public_id}: another person must approve or reject it."
        )
    return None


def _record_decision_event(
    request: ApprovalRequest, *, ledger_id: int | None, version: int | None
) -> None:
    """Tell the requesting key's owner, and no one else, how its request was decided."""
    events_record(
        [
            NewEvent(
                type=types.INVENTORY_APPROVAL_DECIDED,
                subject=f"sku:{request.product.sku}",
                data=approval_event_data(request, ledger_id=ledger_id, version=version),
                private={
                    "reason": request.reason,
                    "reference": request.reference,
                    "comment": request.comment,
                },
                audience_owner=request.actor_name,
                version=version,
            )
        ],
        origin_owner=request.actor_name,
        created_at=request.decided_at,
    )


def approval_event_data(
    request: ApprovalRequest, *, ledger_id: int | None, version: int | None
) -> dict:
    """The public part of `inventory.approval_decided`; the requester's own text (reason,
    reference, the manager's comment to them) goes in the event's private part."""
    return {
        "approval_request_id": request.public_id,
        "sku": request.product.sku,
        "product_id": request.product.public_id,
        "status": request.status,
        "change": request.on_hand_delta,
        "ledger_id": ledger_id,
        "version": version,
    }


# --- Reading (the API's GET /v1/inventory/approvals/{id}) ---


def approval_request_get(*, public_id: str, owner: str) -> ApprovalRequest:
    """Return the request with this id made by a key of `owner`; NotFound for any other."""
    request = (
        ApprovalRequest.objects.select_related("product")
        .filter(public_id=public_id, source=SOURCE_API, actor_name=owner)
        .first()
    )
    if request is None:
        raise NotFound(f"No approval request '{public_id}'.")
    return request
