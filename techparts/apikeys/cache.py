"""API keys held in process, so that a request with a warm key reads no database row to log in.

A process trusts its copy of a key only while the key's stamp in the shared store (Redis itself
when `REDIS_URL` is set, else Django's `default` cache) is the one it read before loading the
copy.
Every change of a key (save, delete, queryset update, revocation) replaces the stamp, before
and again after its transaction commits, so a revocation, expiry or scope change made in any
process is seen by every process on its next request. Without Redis the cache is per process
(LocMem): the stamp then covers changes made in the same process only, and other processes
see a change within `API_KEY_CACHE_SECONDS`. That bound applies with Redis too, as a backstop
for changes that bypass the ORM (raw SQL). 0 turns the in-process copies off.
"""

import secrets
import time
from collections.abc import Callable, Iterable
from typing import Any, NamedTuple

from django.conf import settings
from django.core.cache import cache
from django.db import transaction

from techparts.redis_client import redis_client

MAX_ENTRIES = 10_000  # keys are few; the bound only keeps memory flat whatever happens


class Entry(NamedTuple):
    stamp: str
    loaded_at: float
    row: dict[str, Any]


_entries: dict[str, Entry] = {}


def _stamp_key(prefix: str) -> str:
    return f"apikey:stamp:{prefix}"


def _get_stamp(prefix: str) -> str | None:
    client = redis_client()
    if client is None:
        return cache.get(_stamp_key(prefix))
    stamp = client.get(_stamp_key(prefix))
    return None if stamp is None else stamp.decode()


def _add_stamp(prefix: str) -> None:
    # A stamp only where none is: a change's new stamp is never overwritten by a reader's.
    client = redis_client()
    if client is None:
        cache.add(_stamp_key(prefix), secrets.token_hex(8), timeout=None)
    else:
        client.set(_stamp_key(prefix), secrets.token_hex(8), nx=True)


def _drop_stamp(prefix: str) -> None:
    client = redis_client()
    if client is None:
        cache.delete(_stamp_key(prefix))
    else:
        client.delete(_stamp_key(prefix))


def _bump(prefixes: list[str]) -> None:
    for prefix in prefixes:
        _entries.pop(prefix, None)
    if not prefixes:
        return
    stamps = {_stamp_key(p): secrets.token_hex(8) for p in prefixes}
    client = redis_client()
    if client is None:
        cache.set_many(stamps, timeout=None)
    else:
        client.mset(stamps)


def api_key_changed(*, prefixes: Iterable[str]) -> None:
    """Make every process reload these keys from the database on their next use.

    Bumped at once (this transaction's own later reads) and again after commit, so that a
    process that reloaded the key before the commit cannot keep the old row.
    """
    prefixes = list(prefixes)
    _bump(prefixes)
    transaction.on_commit(lambda: _bump(prefixes))


def cached_key_row(prefix: str, load: Callable[[str], dict[str, Any] | None]) -> dict | None:
    """Return the key row of `prefix`, from process memory when still current, else `load`."""
    max_age = settings.API_KEY_CACHE_SECONDS
    if max_age <= 0:
        return load(prefix)
    stamp = _get_stamp(prefix)
    entry = _entries.get(prefix)
    now = time.monotonic()
    if (
        entry is not None
        and stamp is not None
        and entry.stamp == stamp
        and now - entry.loaded_at < max_age
    ):
        return entry.row
    if stamp is None:
        # Read the stamp before the row: a change committed after this read replaces it.
        _add_stamp(prefix)
        stamp = _get_stamp(prefix)
    row = load(prefix)
    if row is None:
        # No such key: leave no stamp behind, or made-up prefixes would fill the shared store.
        # Dropping a stamp is always safe: without one, the next use reloads the row.
        _entries.pop(prefix, None)
        _drop_stamp(prefix)
        return None
    if stamp is None:
        _entries.pop(prefix, None)
        return row
    if len(_entries) >= MAX_ENTRIES:
        _entries.clear()
    _entries[prefix] = Entry(stamp, now, row)
    return row
