"""Safe retries: `Idempotency-Key` on unsafe requests replays the first answer.

The key is claimed in its own committed transaction before the action runs, so a concurrent
retry sees the claim at once and is told the first request is still in flight (409) instead of
doing the work twice. The answer is stored when the action returns; a 5xx or a crash frees the
key again so the client can retry. Keys are scoped to the API key and kept for
IDEMPOTENCY_KEY_TTL_HOURS (default 24).

Expired records are purged without anyone having to remember it: every newly claimed key
deletes a small batch of the oldest expired ones (one indexed statement), so the table holds
about one TTL's worth of keys. `manage.py purge_idempotency_keys` empties the backlog at once
(e.g. after a quiet period, or from cron).
"""

import functools
import hashlib
import json
import logging
import re
from collections.abc import Callable
from datetime import datetime, timedelta

import simplejson
from django.conf import settings
from django.db import DatabaseError, IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from rest_framework.request import Request
from rest_framework.response import Response

from techparts.api.renderers import JSONRenderer
from techparts.errors import Conflict, DomainError
from techparts.idempotency.models import IdempotencyRecord

HEADER = "Idempotency-Key"
MAX_KEY_LENGTH = 255
KEY_PATTERN = re.compile(r"^[\x21-\x7e]{1,255}\Z")
# Headers of the first answer that a replay repeats.
REPLAYED_HEADERS = ("Location",)
# A claim older than this was left by a crashed request and may be taken over.
ABANDONED_AFTER = timedelta(minutes=5)
# Expired records each new claim deletes on its way. A claim adds one record, so a batch well
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


def _fingerprint(request: Request) -> str:
    try:
        body = json.dumps(request.data, sort_keys=True, separators=(",", ":"), default=str)
    except TypeError:
        body = repr(request.data)
    return hashlib.sha256(f"{request.method}\n{request.path}\n{body}".encode()).hexdigest()


def _ttl() -> timedelta:
    return timedelta(hours=getattr(settings, "IDEMPOTENCY_KEY_TTL_HOURS", 24))


def _expired(now: datetime) -> Q:
    # Past the TTL, and not a claim whose request may still be running.
    return Q(created_at__lt=now - _ttl()) & (
        Q(state=IdempotencyRecord.State.DONE) | Q(created_at__lt=now - ABANDONED_AFTER)
    )


def idempotency_records_purge(
    *, batch_size: int = PURGE_BATCH_SIZE, max_batches: int | None = None
) -> int:
    """Delete expired idempotency records, oldest first, in batches; return how many went.

    Rows another transaction holds are skipped (SKIP LOCKED on PostgreSQL), so concurrent
    purges never wait for each other or for a request.
    """
    now = timezone.now()
    total = batches = 0
    while max_batches is None or batches < max_batches:
        with transaction.atomic():
            oldest = (
                IdempotencyRecord.objects.filter(_expired(now))
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


def _purge_some_expired() -> None:
    try:
        idempotency_records_purge(max_batches=1)
    except DatabaseError:
        # Housekeeping must never fail the request that triggered it; the next claim retries.
        logger.warning("Purging expired idempotency records failed", exc_info=True)


def _claim(
    request: Request, key: str, fingerprint: str, unseal: BodyCodec | None = None
) -> IdempotencyRecord | Response:
    """Claim the key for this request, or return the answer a retry gets."""
    api_key = request.auth
    now = timezone.now()
    IdempotencyRecord.objects.filter(api_key=api_key, key=key).filter(
        Q(created_at__lt=now - _ttl())
        | Q(state=IdempotencyRecord.State.IN_PROGRESS, created_at__lt=now - ABANDONED_AFTER)
    ).delete()
    try:
        with transaction.atomic():
            claimed = IdempotencyRecord.objects.create(
                api_key=api_key,
                key=key,
                method=request.method,
                path=request.path[:500],
                fingerprint=fingerprint,
            )
    except IntegrityError:
        pass
    else:
        _purge_some_expired()
        return claimed
    existing = IdempotencyRecord.objects.filter(api_key=api_key, key=key).first()
    if existing is None:  # expired and removed between our two queries: try once more
        return _claim(request, key, fingerprint, unseal)
    if existing.fingerprint != fingerprint:
        raise IdempotencyKeyReused(
            f"{HEADER} '{key}' was already used for a different request. "
            "Use a new key for a new request."
        )
    if existing.state == IdempotencyRecord.State.IN_PROGRESS:
        raise Conflict(f"A request with {HEADER} '{key}' is still being processed. Retry shortly.")
    stored = existing.response_body
    body = simplejson.loads(unseal(stored) if unseal else stored, use_decimal=True)
    response = Response(body, status=existing.response_status)
    for name, value in existing.response_headers.items():
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
        claimed = _claim(request, key, _fingerprint(request), unseal)
        if isinstance(claimed, Response):
            return claimed
        try:
            try:
                response = view_method(view, request, *args, **kwargs)
            except Exception as exc:
                # Render domain and validation errors here so that they are remembered too.
                response = view.handle_exception(exc)
        except BaseException:
            claimed.delete()
            raise
        if response.status_code >= 500 or response.status_code == 429:
            claimed.delete()  # nothing happened: let the client retry with the same key
            return response
        rendered = JSONRenderer().render(response.data).decode()
        IdempotencyRecord.objects.filter(pk=claimed.pk).update(
            state=IdempotencyRecord.State.DONE,
            response_status=response.status_code,
            response_body=seal(rendered) if seal else rendered,
            response_headers={h: response[h] for h in REPLAYED_HEADERS if h in response},
        )
        return response

    wrapper.idempotent = True  # read by the schema generator to document the header
    return wrapper
