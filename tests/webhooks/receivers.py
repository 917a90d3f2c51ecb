"""A real webhook receiver for tests: an HTTP server on loopback, in a thread of the test.

It verifies nothing itself: it records every request (headers, body, when it started and
ended) and answers as the test says (`answer(request) -> (status, body)`, default 200).
`hold()` keeps requests open until `release()`; `stop()`/`start()` take it down and bring it
back on the same port (connections are refused meanwhile). `overlaps` lists webhook-ids that
were in flight twice at the same time.
"""

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from standardwebhooks import Webhook

from tests.servers import free_port


@dataclass
class ReceivedRequest:
    path: str
    headers: dict[str, str]
    body: bytes
    started: float
    ended: float | None = None
    status: int | None = None

    @property
    def webhook_id(self) -> str:
        return self.headers.get("webhook-id", "")


Answer = Callable[[ReceivedRequest], tuple[int, bytes]]


@dataclass
class Receiver:
    port: int = field(default_factory=free_port)
    answer: Answer = lambda request: (200, b"ok")
    requests: list[ReceivedRequest] = field(default_factory=list)
    overlaps: list[str] = field(default_factory=list)
    _in_flight: dict[str, int] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _open: threading.Event = field(default_factory=threading.Event)
    _server: ThreadingHTTPServer | None = None
    _thread: threading.Thread | None = None

    def __post_init__(self) -> None:
        self._open.set()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks"

    def start(self) -> "Receiver":
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                request = ReceivedRequest(
                    path=self.path,
                    headers={name.lower(): value for name, value in self.headers.items()},
                    body=self.rfile.read(length),
                    started=time.monotonic(),
                )
                receiver._begin(request)
                try:
                    receiver._open.wait(timeout=60)
                    status, body = receiver.answer(request)
                    request.status = status
                    self.send_response(status)
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                finally:
                    receiver._end(request)

            def log_message(self, *args) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.05,), daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop listening: new connections are refused until `start()`."""
        if self._server is not None:
            self._open.set()
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def hold(self) -> None:
        """Keep every request from now on open, unanswered, until `release()`."""
        self._open.clear()

    def release(self) -> None:
        self._open.set()

    def _begin(self, request: ReceivedRequest) -> None:
        with self._lock:
            self.requests.append(request)
            count = self._in_flight.get(request.webhook_id, 0) + 1
            self._in_flight[request.webhook_id] = count
            if count > 1:
                self.overlaps.append(request.webhook_id)

    def _end(self, request: ReceivedRequest) -> None:
        with self._lock:
            request.ended = time.monotonic()
            self._in_flight[request.webhook_id] -= 1

    def answered(self, status: int = 200) -> list[ReceivedRequest]:
        """Return the requests answered with `status`, in the order they arrived."""
        with self._lock:
            return [request for request in self.requests if request.status == status]

    def __enter__(self) -> "Receiver":
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.release()
        self.stop()


def verified(request: ReceivedRequest, secret: str) -> dict:
    """Verify `request` with the standardwebhooks library as a receiver would; return its body.

    Raises standardwebhooks' WebhookVerificationError when it does not verify (a bad
    signature, or a timestamp more than 5 minutes from now).
    """
    return Webhook(secret).verify(request.body, request.headers)
