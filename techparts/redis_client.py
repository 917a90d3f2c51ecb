"""The process's Redis client (REDIS_URL), shared by the features that talk to Redis directly."""

import functools

import redis
from django.conf import settings


def redis_client() -> redis.Redis | None:
    """Return the client of `REDIS_URL`, or None when Redis is not configured.

    One client (and connection pool) per process and URL, thread-safe; redis-py opens a fresh
    pool after a fork. Django's cache API builds a client per call, which costs more than the
    round trip on a request's hot path.
    """
    return _client(settings.REDIS_URL) if settings.REDIS_URL else None


@functools.cache
def _client(url: str) -> redis.Redis:
    return redis.Redis.from_url(url)
