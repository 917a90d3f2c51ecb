"""Delivering events to webhook endpoints: fan-out, claim with a lease, attempt, retry.

1. Fan-out (`deliveries_fan_out`) reads the event feed after the FanOutCursor, gap-free, and
   writes one pending Delivery per event and enabled endpoint that subscribes to its type and
   may see it (public events, or its owner's own), for events recorded after the endpoint was
   created. One stock record's events are fanned out in version order: reaching version v,
   it first fans out any lower version the cursor has not passed (`_in_version_order`).
2. Claim (`deliveries_claim`) takes due deliveries with a lease (`locked_until`) in one
   statement, skipping rows another worker is claiming. For one endpoint, only the oldest
   pending delivery of each subject (a SKU, an order) may be claimed: a later event about the
   same subject waits until the earlier one succeeded or was given up; others go on.
3. Attempt (`delivery_attempt`) signs afresh, sends, and records the attempt. The lease value is
   the claim's token: the outcome is written only while the delivery still carries it, so a
   worker whose lease ran out (and whose delivery another worker took over) changes nothing.
4. A run (`deliveries_run`, the `deliver_webhooks` task) does all three until nothing is due,
   sending several requests at a time.

Delivery is at least once: a worker killed after the receiver got the request but before the
outcome was written sends it again after the lease. Receivers drop duplicates by webhook-id.
"""

import json
import logging
import random
import threading
import time
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from cryptography.fernet import InvalidToken
from django.conf import settings
from django.db import DatabaseError, connection, connections, transaction
from django.utils import timezone

from techparts.database.bulk import rows_param, rows_source
from techparts.database.positions import positioned_page
from techparts.events.models import Event
from techparts.events.selectors import event_payload
from webhooks.models import (
    Delivery,
    DeliveryAttempt,
    FannedOutAhead,
    FanOutCursor,
    WebhookEndpoint,
)
from webhooks.sender import TOTAL_TIMEOUT_SECONDS, HttpOutcome, deliver_http
from webhooks.services import webhook_endpoints_disable
from webhooks.signing import signed_headers

logger = logging.getLogger(__name__)

# The wait before each retry (attempt 2, 3, ...), each lengthened by up to RETRY_JITTER at
# random so that many deliveries failing together do not retry together. 14 attempts over at
# least 75 h 36 min (at most 20% more): a receiver may be down for three days and lose nothing.
RETRY_DELAYS = (
    timedelta(seconds=5),
    timedelta(minutes=1),
    timedelta(minutes=5),
    timedelta(minutes=30),
    timedelta(hours=1),
    timedelta(hours=2),
    timedelta(hours=4),
    timedelta(hours=8),
    timedelta(hours=12),
    timedelta(hours=12),
    timedelta(hours=12),
    timedelta(hours=12),
    timedelta(hours=12),
)
RETRY_JITTER = 0.2
MAX_ATTEMPTS = len(RETRY_DELAYS) + 1
# An endpoint whose attempts have all failed for this long is disabled (staff see why).
FAILING_DISABLE_AFTER = timedelta(days=5)
GONE_REASON = "410 Gone: the endpoint answered that it no longer exists"
FAILING_REASON = "every delivery failed for 5 days"

# Bodies stay under 20 KB: the largest event (order.created with 50 lines of the longest SKUs
# and product ids, or a stock change with the longest reason and reference) is about half of
# that (tests/webhooks/test_delivery.py measures it).
MAX_BODY_BYTES = 20 * 1024

FAN_OUT_PAGE = 1000  # events per fan-out transaction
FAN_OUT_MAX_PAGES = 10  # per call: a backlog is worked off over several runs
# Deliveries one fan-out transaction writes at most: with many endpoints a page has fewer events.
FAN_OUT_MAX_DELIVERIES = 5000
RUN_SECONDS = 30  # one run's budget; a run with work left enqueues the next one
PRUNE_BATCH_SIZE = 1000


def _fail_pending(endpoint_pk: int, now: datetime) -> int:
    return Delivery.objects.filter(endpoint_id=endpoint_pk, status=Delivery.Status.PENDING).update(
        status=Delivery.Status.FAILED, finished_at=now, locked_until=None
    )


def retry_delay(attempts_made: int, *, jitter: float | None = None) -> timedelta | None:
    """Return how long to wait after `attempts_made` failed attempts, or None to give up.

    `jitter` (0..1, random when None) lengthens the delay by up to RETRY_JITTER of it.
    """
    if not 1 <= attempts_made <= len(RETRY_DELAYS):
        return None
    if jitter is None:
        jitter = random.random()  # noqa: S311 (spreading retries, not security)
    return RETRY_DELAYS[attempts_made - 1] * (1 + RETRY_JITTER * jitter)


def delivery_body(*, event: Event, endpoint: WebhookEndpoint) -> bytes:
    """Return the JSON body `endpoint` receives for `event`: the event as its owner sees it in
    GET /v1/events (the private part only for the owner whose call caused it)."""
    payload = event_payload(event, viewer_owner=endpoint.owner)
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()


# 1. Fan-out ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class FanOut:
    events: int  # events read
    deliveries: int  # deliveries created
    has_more: bool  # the feed has events past what this call read


def _locked_cursor() -> FanOutCursor:
    # The row may be missing (a fresh or flushed database): insert it if absent, then lock it.
    # Concurrent fan-outs queue on this lock: one reads and advances the position at a time.
    try:
        return FanOutCursor.objects.select_for_update().get(pk=FanOutCursor.SINGLETON_PK)
    except FanOutCursor.DoesNotExist:
        FanOutCursor.objects.bulk_create([FanOutCursor()], ignore_conflicts=True)
        return FanOutCursor.objects.select_for_update().get(pk=FanOutCursor.SINGLETON_PK)


def _fan_out_page(*, now: datetime, limit: int) -> FanOut:
    with transaction.atomic():
        cursor = _locked_cursor()
        endpoints = list(
            WebhookEndpoint.objects.filter(enabled=True).values_list(
                "pk", "owner", "event_types", "created_at"
            )
        )
        by_type: dict[str, list[tuple[int, str, datetime]]] = defaultdict(list)
        for pk, owner, event_types, created_at in endpoints:
            for kind in event_types:
                by_type[kind].append((pk, owner, created_at))
        per_event = max(1, max((len(group) for group in by_type.values()), default=1))
        page = positioned_page(
            Event,
            after=cursor.position,
            limit=max(1, min(limit, FAN_OUT_MAX_DELIVERIES // per_event)),
            columns=_FAN_OUT_COLUMNS,
        )
        events = _in_version_order(
            page.rows, passed=tuple(page.next_position), subscribed=set(by_type)
        )
        deliveries = [
            Delivery(
                endpoint_id=pk,
                event_id=event.id,
                subject=event.subject,
                status=Delivery.Status.PENDING,
                next_attempt_at=now,
            )
            for event in events
            for pk, owner, created_at in by_type.get(event.type, ())
            if event.audience_owner in ("", owner) and created_at <= event.created_at
        ]
        Delivery.objects.bulk_create(deliveries, batch_size=1000)
        if tuple(page.next_position) != cursor.position:
            cursor.xact, cursor.event_pk = page.next_position
            cursor.updated_at = now
            cursor.save(update_fields=["xact", "event_pk", "updated_at"])
    return FanOut(events=len(page.rows), deliveries=len(deliveries), has_more=page.has_more)


_FAN_OUT_COLUMNS = ("id", "xact", "type", "subject", "audience_owner", "created_at", "version")


def _in_version_order(
    rows: list[Event], *, passed: tuple[int, int], subscribed: set[str]
) -> list[Event]:
    """Return the events to fan out for a page of the feed (`rows`, up to `passed`): each
    subject's versioned events in version order, after any lower version not yet passed.

    The feed is in (xact, id) order, and a transaction takes its id at its first write or
    lock, not at commit: a bulk call that locked X, waited for W and then wrote Y is listed
    before a PATCH of Y that committed meanwhile with the lower version. Version v of a stock
    record is written only after v - 1 committed (the row lock), so every lower version of a
    subject in this page is readable now, even when its transaction id is still above the
    horizon: it is fanned out first (its deliveries get the lower ids, which the claim's
    per-subject order follows) and marked FannedOutAhead, so that it is skipped (and the mark
    dropped) when the cursor reaches it. Nothing waits. Events without a version (orders)
    keep the feed's order. A fixed number of queries per page, none per event.
    """
    if any(event.version is not None for event in rows):
        already = _ahead_reached([event.id for event in rows])
        rows = [event for event in rows if event.id not in already]
    # Every versioned subject of the page, whatever its types' subscribers: the bound of
    # _lower_versions_ahead holds only if no version is passed before the lower ones are out.
    highest: dict[str, int] = {}
    for event in rows:
        if event.version is not None and subscribed:
            highest[event.subject] = max(event.version, highest.get(event.subject, 0))
    ahead = _lower_versions_ahead(highest, passed=passed) if highest else []
    if ahead:
        FannedOutAhead.objects.bulk_create(
            [FannedOutAhead(event_id=event.id) for event in ahead], batch_size=1000
        )

    # Each subject's events of this page take the subject's places in the page, in version
    # order (so the page keeps the feed's order wherever versions already follow it); the lower
    # versions fetched ahead go just before the subject's first place.
    def by_version(events: list[Event]) -> list[Event]:
        return sorted(events, key=lambda event: (event.version, event.xact, event.id))

    queues: dict[str, list[Event]] = defaultdict(list)
    for event in rows:
        if event.version is not None:
            queues[event.subject].append(event)
    queues = {subject: by_version(events)[::-1] for subject, events in queues.items()}
    early: dict[str, list[Event]] = defaultdict(list)
    for event in ahead:
        early[event.subject].append(event)
    ordered: list[Event] = []
    for event in rows:
        if event.version is None:
            ordered.append(event)
            continue
        ordered += by_version(early.pop(event.subject, []))
        ordered.append(queues[event.subject].pop())
    return ordered


def _ahead_reached(ids: list[int]) -> set[int]:
    """Drop the marks of events among `ids` fanned out ahead; return the ids that had one."""
    table = connection.ops.quote_name(FannedOutAhead._meta.db_table)
    column = connection.ops.quote_name("event_id")
    with connection.cursor() as cursor:
        cursor.execute(
            f"DELETE FROM {table} WHERE {column} IN ({', '.join(['%s'] * len(ids))}) "  # noqa: S608
            f"RETURNING {column}",
            ids,
        )
        return {row[0] for row in cursor.fetchall()}


def _lower_versions_ahead(highest: dict[str, int], *, passed: tuple[int, int]) -> list[Event]:
    """Return the events after `passed` of each subject in `highest` with a lower version
    than its value there, not yet fanned out ahead, in one query (by (subject, version)).

    Bounded by what is already out, never a subject's whole history: every version below one
    that was fanned out (passed, or marked ahead) was fanned out before or with it, so the
    versions still missing lie above the highest such version below `highest`'s. That one is
    found walking (subject, version) down from there (usually one step), and only the versions
    between the two are read.
    """
    quote = connection.ops.quote_name
    events = quote(Event._meta.db_table)
    marks = quote(FannedOutAhead._meta.db_table)
    subject, version, event_id = quote("subject"), quote("version"), quote("event_id")
    fields = [Event._meta.get_field("subject"), Event._meta.get_field("version")]
    source = rows_source(connection, fields)
    selected = ", ".join(f"e.{quote(column)}" for column in _FAN_OUT_COLUMNS)
    out = (
        f"SELECT f.{version} FROM {events} AS f WHERE f.{subject} = w.subject "  # noqa: S608
        f"AND f.{version} < w.version AND ((f.xact, f.id) <= (%s, %s) "
        f"OR EXISTS (SELECT 1 FROM {marks} AS m WHERE m.{event_id} = f.id)) "
        f"ORDER BY f.{version} DESC LIMIT 1"
    )
    sql = (
        f"SELECT {selected} FROM "  # noqa: S608 (names only; every value is a parameter)
        f"(SELECT {source.columns[0]} AS subject, {source.columns[1]} AS version "
        f"FROM {source.source}) AS w "
        f"JOIN {events} AS e ON e.{subject} = w.subject AND e.{version} < w.version "
        f"AND e.{version} > COALESCE(({out}), 0) "
        f"WHERE (e.xact, e.id) > (%s, %s) AND NOT EXISTS "
        f"(SELECT 1 FROM {marks} AS a WHERE a.{event_id} = e.id)"
    )
    return list(Event.objects.raw(sql, [rows_param(list(highest.items())), *passed, *passed]))


def deliveries_fan_out(
    *, now: datetime | None = None, limit: int = FAN_OUT_PAGE, max_pages: int = FAN_OUT_MAX_PAGES
) -> FanOut:
    """Create the deliveries of the events recorded since the last fan-out; return the counts.

    One transaction per page of `limit` events (the cursor row locked: one fan-out at a time),
    at most `max_pages` pages per call; `has_more` says the feed had more.
    """
    events = created = 0
    for _ in range(max_pages):
        page = _fan_out_page(now=now or timezone.now(), limit=limit)
        events += page.events
        created += page.deliveries
        if not page.has_more:
            return FanOut(events=events, deliveries=created, has_more=False)
    return FanOut(events=events, deliveries=created, has_more=True)


def fan_out_behind() -> bool:
    """Return whether the feed holds events the fan-out has not read yet."""
    cursor = FanOutCursor.objects.filter(pk=FanOutCursor.SINGLETON_PK).first()
    after = cursor.position if cursor else (0, 0)
    return bool(positioned_page(Event, after=after, limit=1, columns=("id", "xact")).rows)


# 2. Claim -----------------------------------------------------------------------------------


def _claimable_sql() -> str:
    """SQL selecting the ids of claimable deliveries (alias d), due at %s, unlocked at %s."""
    deliveries = connection.ops.quote_name(Delivery._meta.db_table)
    endpoints = connection.ops.quote_name(WebhookEndpoint._meta.db_table)
    return (
        f"SELECT d.id FROM {deliveries} AS d "  # noqa: S608 (table names only; values are %s)
        f"JOIN {endpoints} AS e ON e.id = d.endpoint_id "
        "WHERE d.status = 'pending' AND d.next_attempt_at <= %s "
        "AND (d.locked_until IS NULL OR d.locked_until < %s) AND e.enabled "
        # Per endpoint, one subject's deliveries go out in order: only the oldest pending one.
        f"AND NOT EXISTS (SELECT 1 FROM {deliveries} AS p WHERE p.endpoint_id = d.endpoint_id "
        "AND p.subject = d.subject AND p.status = 'pending' AND p.id < d.id) "
        "ORDER BY d.next_attempt_at, d.id"
    )


def deliveries_claim(
    *, now: datetime, limit: int, lease_seconds: int | None = None
) -> list[Delivery]:
    """Claim up to `limit` due deliveries for `lease_seconds` and return them (with endpoint
    and event), each carrying its lease in `locked_until`.

    Due: pending, its time has come, not leased (or the lease ran out: its worker died), its
    endpoint enabled, and no earlier pending delivery of the same endpoint and subject. One
    UPDATE claims them; on PostgreSQL rows another worker is claiming are skipped (SKIP
    LOCKED), so concurrent workers never claim the same delivery, nor wait for each other.
    """
    lease = timedelta(seconds=lease_seconds or settings.WEBHOOK_DELIVERY_LEASE_SECONDS)
    locked_until = now + lease
    table = connection.ops.quote_name(Delivery._meta.db_table)
    lock = " FOR UPDATE OF d SKIP LOCKED" if connection.vendor == "postgresql" else ""
    sql = (
        f"UPDATE {table} SET locked_until = %s "  # noqa: S608 (table names only)
        f"WHERE id IN ({_claimable_sql()} LIMIT %s{lock}) RETURNING id"
    )
    adapt = connection.ops.adapt_datetimefield_value
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, [adapt(locked_until), adapt(now), adapt(now), limit])
        ids = [row[0] for row in cursor.fetchall()]
    if not ids:
        return []
    return list(
        Delivery.objects.filter(pk__in=ids, locked_until=locked_until)
        .select_related("endpoint", "event")
        .order_by("id")
    )


def deliveries_due(*, now: datetime) -> bool:
    """Return whether any delivery could be claimed at `now`."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"{_claimable_sql()} LIMIT 1", [*[connection.ops.adapt_datetimefield_value(now)] * 2]
        )
        return cursor.fetchone() is not None


# 3. Attempt ---------------------------------------------------------------------------------


def delivery_attempt(*, delivery: Delivery, now: datetime | None = None) -> str | None:
    """Send a claimed delivery once and record the attempt; return the delivery's new status
    (None when its lease was lost meanwhile and nothing was recorded).

    2xx: succeeded. 410 Gone: the endpoint is disabled and its pending deliveries given up.
    Anything else (no answer, a refused address, a redirect, an error status) is retried after
    `retry_delay`, and given up when the schedule runs out.
    """
    now = now or timezone.now()
    endpoint, event = delivery.endpoint, delivery.event
    body = delivery_body(event=event, endpoint=endpoint)
    try:
        secrets = endpoint.signing_secrets(now)
        headers = signed_headers(webhook_id=event.public_id, body=body, secrets=secrets, now=now)
    except (InvalidToken, ValueError) as exc:
        # A secret that cannot be decrypted (WEBHOOK_SECRET_KEYS lost a key) or decoded: an
        # attempt that failed before sending, shown in the delivery log, retried on schedule.
        reason = "its secret cannot be decrypted" if isinstance(exc, InvalidToken) else exc
        outcome = HttpOutcome(status_code=None, latency_ms=0, error=f"not signed: {reason}")
    else:
        outcome = deliver_http(endpoint.url, body, headers)
    return delivery_record_outcome(delivery=delivery, outcome=outcome, now=now)


def delivery_record_outcome(
    *, delivery: Delivery, outcome: HttpOutcome, now: datetime
) -> str | None:
    """Record `outcome` as the next attempt of the claimed `delivery`, started at `now`, and
    move the delivery on; return its new status (None: the lease was lost, nothing written)."""
    number = delivery.attempt_count + 1
    finished = now + timedelta(milliseconds=outcome.latency_ms)
    gone = outcome.status_code == 410
    if outcome.succeeded:
        changes: dict[str, Any] = {"status": Delivery.Status.SUCCEEDED, "finished_at": finished}
    elif gone or (delay := retry_delay(number)) is None:
        changes = {"status": Delivery.Status.FAILED, "finished_at": finished}
    else:
        changes = {"status": Delivery.Status.PENDING, "next_attempt_at": finished + delay}
    endpoints = WebhookEndpoint.objects.filter(pk=delivery.endpoint_id)
    with transaction.atomic():
        # Written only under this claim's lease: a worker that lost it changes nothing.
        updated = Delivery.objects.filter(
            pk=delivery.pk, status=Delivery.Status.PENDING, locked_until=delivery.locked_until
        ).update(attempt_count=number, locked_until=None, **changes)
        if not updated:
            logger.warning(
                "delivery %s: the lease ran out before attempt %s finished; not recorded",
                delivery.pk,
                number,
            )
            return None
        DeliveryAttempt.objects.create(
            delivery_id=delivery.pk,
            number=number,
            started_at=now,
            latency_ms=outcome.latency_ms,
            status_code=outcome.status_code,
            response_excerpt=outcome.excerpt,
            error=outcome.error,
            succeeded=outcome.succeeded,
        )
        # Lock order everywhere: the delivery, then its endpoint.
        disabled = 0
        if outcome.succeeded:
            endpoints.filter(failing_since__isnull=False).update(failing_since=None)
        elif gone:
            disabled = webhook_endpoints_disable(endpoints=endpoints, reason=GONE_REASON, now=now)
        else:
            endpoints.filter(failing_since__isnull=True).update(failing_since=now)
            disabled = webhook_endpoints_disable(
                endpoints=endpoints.filter(failing_since__lte=now - FAILING_DISABLE_AFTER),
                reason=FAILING_REASON,
                now=now,
            )
    if disabled or gone:
        delivery.endpoint.enabled = False  # the caller sends nothing more to it
    if gone:
        # After the commit above, in a transaction of its own: it locks many deliveries, and
        # always after the endpoint's lock is released (no deadlock with other finishers).
        _fail_pending(delivery.endpoint_id, finished)
    return changes["status"]


# 4. A run -----------------------------------------------------------------------------------


@dataclass
class DeliveryRun:
    fanned_out: int = 0  # deliveries created
    attempted: int = 0
    succeeded: int = 0
    more: bool = False  # work was left when the budget ran out


def _claim_batch(lease_seconds: int) -> int:
    # A thread claims a few at a time, no more than it can send (at worst 10 s each) within
    # its lease.
    return max(1, min(4, int((lease_seconds - 5) // TOTAL_TIMEOUT_SECONDS)))


def _pool_room(concurrency: int) -> int:
    # Each thread holds a connection for its whole loop; with a pool (settings: DB_POOL) no
    # more threads than it has connections to spare beside this one's.
    pool = connection.settings_dict.get("OPTIONS", {}).get("pool")
    if isinstance(pool, dict) and pool.get("max_size"):
        return max(1, min(concurrency, pool["max_size"] - 1))
    return concurrency


def _deliver_due(*, deadline: float, now: datetime | None, run: DeliveryRun, lock) -> bool:
    """Claim and send due deliveries until none is due or the deadline; return whether this
    stopped at the deadline."""
    lease_seconds = settings.WEBHOOK_DELIVERY_LEASE_SECONDS
    while time.monotonic() < deadline:
        claimed = deliveries_claim(
            now=now or timezone.now(),
            limit=_claim_batch(lease_seconds),
            lease_seconds=lease_seconds,
        )
        if not claimed:
            return False
        disabled: set[int] = set()
        for delivery in claimed:
            if delivery.endpoint_id in disabled:
                continue  # disabled by an attempt of this batch: its lease runs out unused
            try:
                status = delivery_attempt(delivery=delivery, now=now)
            except DatabaseError:
                # The lease runs out and the delivery is claimed again; the run goes on.
                logger.exception("delivery %s: recording the attempt failed", delivery.pk)
                status = None
            if not delivery.endpoint.enabled:
                disabled.add(delivery.endpoint_id)
            with lock:
                run.attempted += 1
                run.succeeded += status == Delivery.Status.SUCCEEDED
    return True


def _deliver_due_in_thread(**kwargs) -> None:
    try:
        _deliver_due(**kwargs)
    except Exception:
        logger.exception("a webhook delivery thread failed")
    finally:
        connections.close_all()  # this thread's own connections


def deliveries_run(
    *,
    budget_seconds: float = RUN_SECONDS,
    concurrency: int | None = None,
    now: datetime | None = None,
) -> DeliveryRun:
    """Fan out, then send what is due, `concurrency` requests at a time, until nothing is due
    or `budget_seconds` are spent; return what was done and whether work is left.

    `now` fixes the clock (tests); by default every step reads it. With a `concurrency` of 1
    everything runs in the calling thread, as it always does on SQLite (one writer at a time:
    threads would only queue for the write lock).
    """
    concurrency = concurrency or settings.WEBHOOK_DELIVERY_CONCURRENCY
    if connection.vendor == "sqlite":
        concurrency = 1
    concurrency = _pool_room(concurrency)
    deadline = time.monotonic() + budget_seconds
    run = DeliveryRun()
    lock = threading.Lock()
    while True:
        fan_out = deliveries_fan_out(now=now)
        run.fanned_out += fan_out.deliveries
        attempted_before = run.attempted
        options = {"deadline": deadline, "now": now, "run": run, "lock": lock}
        if concurrency == 1:
            _deliver_due(**options)
        else:
            threads = [
                threading.Thread(target=_deliver_due_in_thread, kwargs=options, daemon=True)
                for _ in range(concurrency)
            ]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
        if time.monotonic() >= deadline:
            run.more = fan_out_behind() or deliveries_due(now=now or timezone.now())
            return run
        if not fan_out.has_more and not fan_out.deliveries and run.attempted == attempted_before:
            return run


# Upkeep -------------------------------------------------------------------------------------


def deliveries_prune(
    *, now: datetime, batch_size: int = PRUNE_BATCH_SIZE, max_batches: int | None = None
) -> int:
    """Delete finished deliveries (and their attempts) older than WEBHOOK_DELIVERY_LOG_DAYS,
    in batches, at most `max_batches`; return how many deliveries went."""
    cutoff = now - timedelta(days=settings.WEBHOOK_DELIVERY_LOG_DAYS)
    total = batches = 0
    while max_batches is None or batches < max_batches:
        batches += 1
        with transaction.atomic():
            oldest = list(
                Delivery.objects.exclude(status=Delivery.Status.PENDING)
                .filter(finished_at__lt=cutoff)
                .order_by("finished_at")
                .values_list("pk", flat=True)[:batch_size]
            )
            DeliveryAttempt.objects.filter(delivery_id__in=oldest).delete()
            deleted = (
                Delivery.objects.filter(pk__in=oldest).delete()[1].get(Delivery._meta.label, 0)
            )
        total += deleted
        if deleted < batch_size:
            break
    return total
