"""Tell "the database cannot be reached right now" from an ordinary database error.

A database that is down, restarting or out of reach, a connection lost mid-request, and a
pool with no connection to lend within DB_POOL_TIMEOUT all mean the same to a client: retry
shortly (503 `service_unavailable`). Everything else a database raises (an IntegrityError, a
lock or statement timeout, a bad query) is an ordinary error and stays one.
"""

import psycopg
from psycopg_pool import PoolTimeout, TooManyRequests

# Seconds a client is asked to wait (Retry-After) before it retries.
RETRY_AFTER_SECONDS = 5

# SQLSTATEs of a server that is going away or not yet ready: admin_shutdown (a fast or
# immediate stop, `pg_terminate_backend`), crash_shutdown, cannot_connect_now (starting up,
# shutting down, in recovery). Class 08 is "connection exception".
_UNAVAILABLE_SQLSTATES = {"57P01", "57P02", "57P03"}


def database_unavailable(exc: BaseException | None) -> bool:
    """Tell whether `exc`, or the driver error Django wrapped in it, means "cannot reach".

    Django re-raises a driver error as its own class with the original as `__cause__`;
    psycopg raises OperationalError without a SQLSTATE when the connection itself failed
    (refused, reset, closed, lost), and the pool's PoolTimeout is one too.
    """
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        if isinstance(exc, (PoolTimeout, TooManyRequests)):
            return True
        if isinstance(exc, psycopg.OperationalError):
            sqlstate = exc.sqlstate
            return (
                sqlstate is None or sqlstate.startswith("08") or sqlstate in _UNAVAILABLE_SQLSTATES
            )
        exc = exc.__cause__
    return False
