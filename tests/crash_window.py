"""Test-only hook holding a request open after its transaction committed (crash tests).

Installed only by `tests.settings_crash` (never by the app's own settings), outermost, so it
runs after every other middleware has finished with the answer: the action, the stored
`Idempotency-Key` answer and their commit are done, and the answer has not left the process.

A request carrying `X-Test-Crash-Token: <token>` writes this process's id to
`$TEST_CRASH_DIR/<token>.pid` on arrival (the test kills that process). When the file
`<token>.hold` exists, the answer waits after the view returned, having created
`<token>.held`, until the test deletes `<token>.hold` (at most a minute).
"""

import os
import re
import time
from pathlib import Path

TOKEN = re.compile(r"^[A-Za-z0-9-]{1,64}\Z")


class HoldAfterCommitMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response
        self.folder = Path(os.environ["TEST_CRASH_DIR"])

    def __call__(self, request):
        token = request.headers.get("X-Test-Crash-Token", "")
        if not TOKEN.match(token):
            return self.get_response(request)
        (self.folder / f"{token}.pid").write_text(str(os.getpid()))
        response = self.get_response(request)
        hold = self.folder / f"{token}.hold"
        if hold.exists():
            (self.folder / f"{token}.held").touch()
            deadline = time.monotonic() + 60
            while hold.exists() and time.monotonic() < deadline:
                time.sleep(0.02)
        return response
