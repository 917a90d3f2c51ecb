"""Fixed-window rate limits whose counts every app process shares.

With `REDIS_URL` set the count lives in Redis (`SET NX EX` and `INCR` in one MULTI); without
it, in the `RateCounter` table, raised by one `INSERT ... ON CONFLICT DO UPDATE ... RETURNING`
statement, which PostgreSQL and SQLite (3.35 or later) both run atomically. Never process
memory and never the cache framework's read-then-write `incr`: several gunicorn workers must
see one count, and concurrent requests must not both read the same old value.
"""

import math
import time

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import connections, router

from techparts.ratelimit.models import RateCounter
from techparts.redis_client import redis_client

PERIODS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_rate(rate: str) -> tuple[int, int] | None:
    """Return (requests, seconds) for '600/minute', '10/s', '1000/hour' or '5000/day'.

    An empty rate means no limit (None).
    """
    if not rate or not rate.strip():
        return None
    count, _, period = rate.strip().partition("/")
    try:
        limit, seconds = int(count), PERIODS[period.strip()[:1].lower()]
    except (ValueError, KeyError):
        raise ImproperlyConfigured(
            f"Rate {rate!r} must look like '600/minute' (per second, minute, hour or day)"
        ) from None
    if limit < 1:
        raise ImproperlyConfigured(f"Rate {rate!r} must allow at least 1 request")
    return limit, seconds


def rate_limit_hit(*, bucket: str, limit: int, period: int) -> float | None:
    """Count one request in `bucket`; return the seconds to wait when it is over the limit.

    Windows are fixed: `limit` requests per `period` seconds, the window starting at a
    multiple of `period` since the epoch. None means the request is within the limit.
    """
    now = time.time()
    window_start = int(now // period) * period
    window_end = window_start + period
    if settings.REDIS_URL:
        count = _redis_hit(bucket=bucket, window_start=window_start, window_end=window_end)
    else:
        count = _database_hit(
            bucket=bucket, window_start=window_start, window_end=window_end, now=now
        )
    if count <= limit:
        return None
    return max(window_end - now, 0.0)


def retry_after_seconds(wait: float) -> int:
    """Return a `Retry-After` value: whole seconds, at least 1."""
    return max(math.ceil(wait), 1)


def _redis_hit(*, bucket: str, window_start: int, window_end: int) -> int:
    key = f"ratelimit:{bucket}:{window_start}"
    ttl = max(window_end - int(time.time()), 1) + 1
    pipe = redis_client().pipeline(transaction=True)
    pipe.set(key, 0, ex=ttl, nx=True)
    pipe.incr(key)
    _, count = pipe.execute()
    return int(count)


def _database_hit(*, bucket: str, window_start: int, window_end: int, now: float) -> int:
    connection = connections[router.db_for_write(RateCounter)]
    q = connection.ops.quote_name
    table, count = q(RateCounter._meta.db_table), q("count")
    with connection.cursor() as cursor:
        # One statement: the row is created or its count raised under the database's own
        # lock, and the new count comes back, so two processes can never read the same count.
        cursor.execute(
            f"INSERT INTO {table} ({q('bucket')}, {q('window_start')}, {count}, "  # noqa: S608
            f"{q('expires_at')}) VALUES (%s, %s, 1, %s) "
            f"ON CONFLICT ({q('bucket')}, {q('window_start')}) "
            f"DO UPDATE SET {count} = {table}.{count} + 1 "
            f"RETURNING {count}",
            [bucket, window_start, window_end],
        )
        (hits,) = cursor.fetchone()
        if hits == 1:
            # A window just opened for this bucket: drop the windows that have closed, so the
            # table holds about one row per active bucket. Once per bucket and window, cheap
            # through the index on expires_at.
            cursor.execute(
                f"DELETE FROM {table} WHERE {q('expires_at')} <= %s",  # noqa: S608
                [int(now)],
            )
    return hits
