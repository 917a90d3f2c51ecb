"""Safe retries: `Idempotency-Key` on unsafe requests replays the first answer.

Claim, action and answer are one database transaction, so a crash, a lost connection or a
database restart leaves either all of them committed (a retry replays the answer) or none (a
retry runs the action as if for the first time); no claim outlives its transaction:

1. On PostgreSQL, take a transaction-scoped try-lock on the key
   (`pg_try_advisory_xact_lock` of a hash of the API key and the `Idempotency-Key`). Not
   acquired: the same key is being processed right now, answer `409 conflict` with
   `Retry-After` at once, without waiting on anything the first request holds. On SQLite
   every transaction takes the database's write lock when it begins (settings: IMMEDIATE), so
   a concurrent request with the same key waits its turn and then replays.
2. Read the stored answer: same key and body, replay it; another body, `422`. A record older
   than IDEMPOTENCY_KEY_TTL_HOURS (default 24) counts as absent and is replaced.
3. Run the action in a savepoint. A refusal (4xx) rolls the savepoint back, so partial work
   never commits with it, and the refusal is stored and replayed. A 5xx or 429 rolls back
   everything and stores nothing: the client retries with the same key.
4. Store the answer and commit. Side effects registered with `transaction.on_commit` run
   after this one commit.

Expired records are purged without anyone having to remember it: every
IDEMPOTENCY_PURGE_EVERY-th newly stored key of a process (default 20) deletes a batch of up to
PURGE_BATCH_SIZE (100) of the oldest expired ones (one indexed statement, rows another
transaction holds are skipped), so the table holds about one TTL's worth of keys, and the
other requests pay nothing for it; the background sweeper purges too (hooks.py).
`manage.py purge_idempotency_keys` empties the backlog at once (e.g. after a quiet period, or
from cron).
"""

import functools
import hashlib
import itertools
import json
import logging
import re
from collections.abc import Callable
from datetime import datetime, timedelta

import simplejson
from django.conf import settings
from django.db import DatabaseError, connections, router, transaction
from django.utils import timezone
from rest_framework.request import Request
from rest_framework.response import Response

from techparts.api.renderers import JSONRenderer
from techparts.errors import DomainError
from techparts.idempotency.models import IdempotencyRecord

HEADER = "Idempotency-Key"
MAX_KEY_LENGTH = 255
KEY_PATTERN = re.compile(r"^[\x21-\x7e]{1,255}\Z")
# Headers of the first answer that a replay repeats.
REPLAYED_HEADERS = ("Location",)
# Seconds a client told "this key is being processed" should wait before retrying.
RETRY_AFTER_SECONDS = 1
# Expired records each new key deletes on its way. A request adds one record, so a batch well
# above one keeps the table from growing while costing a request one short indexed DELETE.
PURGE_BATCH_SIZE = 100

logger = logging.getLogger("techparts.idempotency")
BodyCodec = Callable[[str], str]


class IdempotencyKeyReused(DomainError):
    code = "idempotency_key_reused"
    status_code = 422


class InvalidIdempotencyKey(DomainError):
    code = "validation_error"
    status_code = 400


class IdempotencyKeyInFlight(DomainError):
    """The same key is being processed right now: retry after a moment (never waits)."""

    code = "conflict"
    status_code = 409
    retry_after = RETRY_AFTER_SECONDS


class _RollBack(Exception):
    """Leaves an atomic block with `response`, rolling back what the block wrote."""

    def __init__(self, response: Response) -> None:
        super().__init__()
        self.response = response


def _fingerprint(request: Request) -> str:
    try:
        body = json.dumps(request.data, sort_keys=True, separators=(",", ":"), default=str)
    except TypeError:
        body = repr(request.data)
    return hashlib.sha256(f"{request.method}\n{request.path}\n{body}".encode()).hexdigest()


def _ttl() -> timedelta:
    return timedelta(hours=getattr(settings, "IDEMPOTENCY_KEY_TTL_HOURS", 24))


def _expired_before(now: datetime) -> datetime:
    return now - _ttl()


def idempotency_records_purge(
    *, batch_size: int = PURGE_BATCH_SIZE, max_batches: int | None = None
) -> int:
    """Delete expired idempotency records, oldest first, in batches; return how many went.

    Rows another transaction holds are skipped (SKIP LOCKED on PostgreSQL), so concurrent
    purges never wait for each other or for a request.
    """
    cutoff = _expired_before(timezone.now())
    total = batches = 0
    while max_batches is None or batches < max_batches:
        with transaction.atomic():
            oldest = (
                IdempotencyRecord.objects.filter(created_at__lt=cutoff)
                .order_by("created_at")
                .select_for_update(skip_locked=True)
                .values("pk")[:batch_size]
            )
            deleted, _ = IdempotencyRecord.objects.filter(pk__in=oldest).delete()
        total += deleted
        batches += 1
        if deleted < batch_size:
            break
    return total


_stored = itertools.count(1)


def _purge_some_expired() -> None:
    # A batch of up to 100 every 20 stored keys still deletes 5 for each one added.
    if next(_stored) % max(1, settings.IDEMPOTENCY_PURGE_EVERY):
        return
    try:
        idempotency_records_purge(max_batches=1)  # a savepoint inside the request's transaction
    except DatabaseError:
        # Housekeeping must never fail the request that triggered it; the next one retries.
        logger.warning("Purging expired idempotency records failed", exc_info=True)


def _lock_id(api_key_pk: int, key: str) -> int:
    digest = hashlib.blake2b(f"{api_key_pk}\n{key}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)  # PostgreSQL's bigint


def _try_lock(using: str, api_key_pk: int, key: str) -> bool:
    """Take the key's transaction-scoped lock if free (PostgreSQL); elsewhere always True.

    SQLite needs none: the transaction already holds the database's only write lock.
    """
    connection = connections[using]
    if connection.vendor != "postgresql":
        return True
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_xact_lock(%s)", [_lock_id(api_key_pk, key)])
        return cursor.fetchone()[0]


def _replay(record: IdempotencyRecord, unseal: BodyCodec | None) -> Response:
    stored = record.response_body
    body = simplejson.loads(unseal(stored) if unseal else stored, use_decimal=True)
    response = Response(body, status=record.response_status)
    for name, value in record.response_headers.items():
        response[name] = value
    response["Idempotent-Replayed"] = "true"
    return response


def idempotent(view_method):
    """Make a DRF view method replay its first answer for a repeated `Idempotency-Key`."""
    return _idempotent(view_method, seal=None, unseal=None)


def idempotent_sealed(*, seal: BodyCodec, unseal: BodyCodec):
    """Like `idempotent`, for answers that carry a secret: the stored answer is `seal`ed.

    The first answer is kept encrypted (`seal` of its JSON text) and decrypted (`unseal`) only
    to replay it, so a secret shown once (a webhook signing secret) never rests in the clear.
    """
    return functools.partial(_idempotent, seal=seal, unseal=unseal)


def _idempotent(view_method, *, seal: BodyCodec | None, unseal: BodyCodec | None):
    @functools.wraps(view_method)
    def wrapper(view, request: Request, *args, **kwargs):
        key = request.headers.get(HEADER)
        if key is None:
            return view_method(view, request, *args, **kwargs)
        if not KEY_PATTERN.match(key):
            message = f"Header '{HEADER}' must be 1 to {MAX_KEY_LENGTH} visible ASCII characters"
            raise InvalidIdempotencyKey(f"{message}.", details=[message])
        fingerprint = _fingerprint(request)
        api_key = request.auth
        using = router.db_for_write(IdempotencyRecord)
        try:
            with transaction.atomic(using=using):
                if not _try_lock(using, api_key.pk, key):
                    raise IdempotencyKeyInFlight(
                        f"A request with {HEADER} '{key}' is being processed. "
                        f"Retry after {RETRY_AFTER_SECONDS} second(s)."
                    )
                existing = IdempotencyRecord.objects.filter(api_key=api_key, key=key).first()
                if existing is not None and existing.created_at < _expired_before(timezone.now()):
                    existing.delete()
                    existing = None
                if existing is not None:
                    if existing.fingerprint != fingerprint:
                        raise IdempotencyKeyReused(
                            f"{HEADER} '{key}' was already used for a different request. "
                            "Use a new key for a new request."
                        )
                    return _replay(existing, unseal)
                response = _run_in_savepoint(view_method, view, request, using, *args, **kwargs)
                if response.status_code >= 500 or response.status_code == 429:
                    # Nothing happened: the client retries with the same key.
                    raise _RollBack(response)
                _purge_some_expired()
                rendered = JSONRenderer().render(response.data).decode()
                IdempotencyRecord.objects.create(
                    api_key=api_key,
                    key=key,
                    method=request.method,
                    path=request.path[:500],
                    fingerprint=fingerprint,
                    response_status=response.status_code,
                    response_body=seal(rendered) if seal else rendered,
                    response_headers={h: response[h] for h in REPLAYED_HEADERS if h in response},
                )
                return response
        except _RollBack as rollback:
            return rollback.response

    wrapper.idempotent = True  # read by the schema generator to document the header
    return wrapper


def _run_in_savepoint(view_method, view, request: Request, using: str, *args, **kwargs):
    """Run the view; roll back whatever it wrote if it answers 4xx or 5xx.

    The view's own services may skip their savepoints inside a caller's transaction (the stock
    services do), so this one savepoint is what keeps a refusal raised after a first write
    from committing that write with the stored refusal.
    """
    try:
        with transaction.atomic(using=using):
            try:
                response = view_method(view, request, *args, **kwargs)
            except Exception as exc:
                # Render domain and validation errors here so that they are remembered too.
                response = view.handle_exception(exc)
            if response.status_code >= 400:
                raise _RollBack(response)
            return response
    except _RollBack as rollback:
        return rollback.response
