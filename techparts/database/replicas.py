"""Read replicas: which reads may go to one, and read-your-writes for API key owners.

Nothing reads a replica by accident. Reads go to the primary unless code opts in:
- a DRF view with `ReplicaReadsMixin` (the product API) reads one replica for a safe request,
  unless the key's owner wrote within REPLICA_READ_YOUR_WRITES_SECONDS;
- an export asks for `replica_alias()` and reads it with `.using()`.
Inside a transaction on the primary every read stays on the primary (a read that feeds a
write must see the latest row), and every write goes to the primary.

Read-your-writes: `WriteMarkMiddleware` stamps the owner of any API key that made an unsafe
request in the shared cache (Redis: settings refuse replicas without it, so every app process
sees the mark) before the answer leaves, and the mixin reads the primary for that owner until
the mark expires. Other owners may read data up to the replicas' lag old.
"""

import random
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from django.conf import settings
from django.core.cache import cache
from django.db import DEFAULT_DB_ALIAS, connections
from rest_framework.permissions import SAFE_METHODS

_read_alias: ContextVar[str | None] = ContextVar("replica_read_alias", default=None)


def replica_aliases() -> list[str]:
    """Return the configured replica aliases (empty: every read uses the primary)."""
    return [alias for alias in settings.DATABASES if alias.startswith("replica_")]


def replica_alias() -> str:
    """Return one replica alias at random, or the primary's when none is configured."""
    aliases = replica_aliases()
    return random.choice(aliases) if aliases else DEFAULT_DB_ALIAS  # noqa: S311 (load spreading)


def _write_mark_key(owner: str) -> str:
    return f"replica:wrote:{owner}"


def owner_wrote_recently(owner: str) -> bool:
    """Return whether this API key owner made an unsafe request within the window."""
    return cache.get(_write_mark_key(owner)) is not None


def owner_mark_write(owner: str) -> None:
    """Record that this owner wrote: its reads use the primary for the configured window."""
    cache.set(_write_mark_key(owner), 1, timeout=settings.REPLICA_READ_YOUR_WRITES_SECONDS)


@contextmanager
def replica_reads(*, owner: str | None = None) -> Iterator[str]:
    """Route this block's reads to one replica (the primary if `owner` wrote recently)."""
    alias = DEFAULT_DB_ALIAS
    if replica_aliases() and not (owner is not None and owner_wrote_recently(owner)):
        alias = replica_alias()
    token = _read_alias.set(alias)
    try:
        yield alias
    finally:
        _read_alias.reset(token)


class ReplicaRouter:
    """Send reads to the replica chosen by replica_reads(), everything else to the primary."""

    def db_for_read(self, model, **hints):
        alias = _read_alias.get()
        if alias is None or alias == DEFAULT_DB_ALIAS:
            return None
        if connections[DEFAULT_DB_ALIAS].in_atomic_block:
            return None  # a read inside a transaction may feed a write: the primary
        return alias

    def db_for_write(self, model, **hints):
        return DEFAULT_DB_ALIAS

    def allow_relation(self, obj1, obj2, **hints):
        return True  # every alias holds the same data

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        return db == DEFAULT_DB_ALIAS  # replicas replay the primary's schema


class ReplicaReadsMixin:
    """DRF view mixin: a safe request reads one replica, unless its key's owner wrote recently.

    The key itself is authenticated on the primary first (revocation takes effect at once).
    """

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        if request.method in SAFE_METHODS and replica_aliases():
            owner = getattr(request.auth, "owner", None)
            self._replica_reads = replica_reads(owner=owner)
            self._replica_reads.__enter__()

    def finalize_response(self, request, response, *args, **kwargs):
        reads = getattr(self, "_replica_reads", None)
        if reads is not None:
            self._replica_reads = None
            reads.__exit__(None, None, None)
        return super().finalize_response(request, response, *args, **kwargs)


class WriteMarkMiddleware:
    """Stamp the owner of an API key that made an unsafe request (see owner_mark_write)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if request.method not in SAFE_METHODS and replica_aliases():
            owner = getattr(getattr(request, "auth", None), "owner", None)
            if owner is not None:
                # Before the answer leaves: the client's next read must find the mark.
                owner_mark_write(owner)
        return response
