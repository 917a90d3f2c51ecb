"""Settings for the test suite: the production settings, served over plain HTTP.

Tests talk to the app over http://testserver and http://localhost (live server), so the
HTTPS redirect and Secure-only cookies are off; everything else is exactly production's.
The per-key API rate limits are off, so that suites firing hundreds of requests with one key
are not throttled and query-count budgets measure the API alone (with Redis configured, as in
production, the limit costs no database query); the throttle tests set their own limits.
A transaction of the test database may sit idle while a test waits for another process or a
debugger (every non-transactional test is one transaction), so the server's idle-transaction
limit is 10 minutes here instead of production's 30 s (tests/techparts/test_database_settings.py
checks production's on a real connection).
Passwords use a fast hash: the real one is slow on purpose, and the suite creates hundreds
of staff users.
"""

import os

os.environ.setdefault("HTTPS", "false")
os.environ.setdefault("API_RATE_LIMIT_READ", "")
os.environ.setdefault("API_RATE_LIMIT_WRITE", "")
os.environ.setdefault("API_RATE_LIMIT_NOT_MODIFIED", "")
os.environ.setdefault("DB_IDLE_IN_TRANSACTION_TIMEOUT", "600")

from techparts.settings import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
