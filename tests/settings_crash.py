"""Settings of the gunicorn processes the crash tests start (tests/techparts/test_idempotency_crashes.py).

The test settings, plus the test-only hook that holds an answer after its commit
(tests.crash_window), and each process's database connections named after the process, so a
test can terminate the connection of the process serving a given request.
"""

import os

from techparts.settings_test import *  # noqa: F403
from techparts.settings_test import DATABASES, MIDDLEWARE

MIDDLEWARE = ["tests.crash_window.HoldAfterCommitMiddleware", *MIDDLEWARE]
DATABASES["default"].setdefault("OPTIONS", {})["application_name"] = f"crash-{os.getpid()}"
