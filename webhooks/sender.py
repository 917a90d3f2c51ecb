"""Sending one webhook request: to a vetted address only, within fixed time limits.

The host is resolved once and every address it resolves to is checked against the rules of
webhooks.addresses; the connection then goes to a vetted address (never resolving again, so a
name cannot change its answer between the check and the connect). https is verified against
the URL's host name (SNI and certificate), the Host header is the URL's host. No redirect is
followed: a 3xx is an answer like any other, and not a success.

Limits: 3 s to connect (per address), 10 s for the whole exchange (connect, TLS, sending,
the answer's status and headers, its first 1 KB), at most 1 KB of the answer read and kept.
"""

import http.client
import io
import socket
import ssl
import time
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

from webhooks.addresses import AddressRefused, Resolver, url_refusal, vetted_addresses

CONNECT_TIMEOUT_SECONDS = 3.0
TOTAL_TIMEOUT_SECONDS = 10.0
EXCERPT_BYTES = 1024
MAX_ERROR_LENGTH = 500
USER_AGENT = "TechParts-Webhooks/1.0"
_DEFAULT_PORTS = {"https": 443, "http": 80}


@dataclass(frozen=True)
class HttpOutcome:
    """What came of one request: the status (None without an answer), how long it took, the
    first 1 KB of the answer (decoded, undecodable bytes replaced) and what went wrong."""

    status_code: int | None
    latency_ms: int
    excerpt: str = ""
    error: str = ""

    @property
    def succeeded(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


class _DeadlineReader(io.RawIOBase):
    """A socket's input that gives up at a fixed deadline, however slowly the bytes come."""

    def __init__(self, sock: socket.socket, deadline: float) -> None:
        self._sock = sock
        self._deadline = deadline

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        remaining = self._deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError("timed out")
        self._sock.settimeout(remaining)
        return self._sock.recv_into(buffer)


class _DeadlineSocket:
    """What http.client.HTTPResponse reads from: the socket, behind the deadline."""

    def __init__(self, sock: socket.socket, deadline: float) -> None:
        self._sock = sock
        self._deadline = deadline

    def makefile(self, mode: str, *args, **kwargs) -> io.BufferedReader:
        return io.BufferedReader(_DeadlineReader(self._sock, self._deadline))


def _connect(
    addresses, port: int, *, connect_timeout: float, deadline: float
) -> tuple[socket.socket | None, str]:
    """Connect to the first address that answers, in turn; return the socket or why none did."""
    problems = []
    for address in addresses:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            problems.append("out of time")
            break
        family = socket.AF_INET6 if address.version == 6 else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.settimeout(min(connect_timeout, remaining))
        try:
            sock.connect((str(address), port))
        except OSError as exc:
            sock.close()
            problems.append(f"{address}: {exc or type(exc).__name__}")
            continue
        return sock, ""
    return None, "could not connect (" + "; ".join(problems) + ")"


def _request_head(*, host: str, port: int | None, target: str, length: int, headers) -> bytes:
    if not host.isascii():
        host = host.encode("idna").decode("ascii")  # an internationalised name, as DNS has it
    host_text = f"[{host}]" if ":" in host else host
    if port is not None:
        host_text += f":{port}"
    lines = [
        f"POST {target} HTTP/1.1",
        f"Host: {host_text}",
        f"User-Agent: {USER_AGENT}",
        "Content-Type: application/json",
        f"Content-Length: {length}",
        "Connection: close",
        *(f"{name}: {value}" for name, value in headers.items()),
    ]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("ascii")


def deliver_http(
    url: str,
    body: bytes,
    headers: Mapping[str, str],
    *,
    resolver: Resolver = socket.getaddrinfo,
    ssl_context: ssl.SSLContext | None = None,
    connect_timeout: float = CONNECT_TIMEOUT_SECONDS,
    total_timeout: float = TOTAL_TIMEOUT_SECONDS,
) -> HttpOutcome:
    """POST `body` with `headers` to `url` and return what came of it; never raise for the
    network's or the receiver's faults (they are the outcome's `error`).

    A refused URL or address is refused before any connection is made. `ssl_context`
    defaults to the system's (certificates verified, against the URL's host name).
    """
    started = time.monotonic()
    deadline = started + total_timeout

    def outcome(status_code: int | None = None, excerpt: str = "", error: str = "") -> HttpOutcome:
        return HttpOutcome(
            status_code=status_code,
            latency_ms=round((time.monotonic() - started) * 1000),
            excerpt=excerpt,
            error=error[:MAX_ERROR_LENGTH],
        )

    refusal = url_refusal(url)
    if refusal:
        return outcome(error=f"refused: {refusal}")
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = parts.port or _DEFAULT_PORTS[parts.scheme]
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    if any(ord(char) <= 32 or ord(char) == 127 for char in target) or not target.isascii():
        return outcome(error="refused: the URL's path has spaces or control characters")
    for name, value in headers.items():
        if any(char in f"{name}{value}" for char in "\r\n"):
            raise ValueError(f"header {name!r} has a line break")
    try:
        addresses = vetted_addresses(host, port, resolver=resolver)
    except AddressRefused as exc:
        return outcome(error=f"refused: {exc}")

    sock, problem = _connect(addresses, port, connect_timeout=connect_timeout, deadline=deadline)
    if sock is None:
        return outcome(error=problem)
    stage = "TLS handshake"
    try:
        if parts.scheme == "https":
            sock.settimeout(max(deadline - time.monotonic(), 0.001))
            context = ssl_context or ssl.create_default_context()
            sock = context.wrap_socket(sock, server_hostname=host)
        stage = "sending"
        sock.settimeout(max(deadline - time.monotonic(), 0.001))
        head = _request_head(
            host=host, port=parts.port, target=target, length=len(body), headers=headers
        )
        sock.sendall(head + body)
        stage = "waiting for the answer"
        response = http.client.HTTPResponse(_DeadlineSocket(sock, deadline), method="POST")
        response.begin()
        status_code = response.status
        stage = "reading the answer"
        try:
            excerpt = response.read(EXCERPT_BYTES)
        except (OSError, http.client.HTTPException) as exc:
            # The status is the receiver's answer; a body that stalls or breaks is noted only.
            return outcome(status_code, error=f"{stage}: {exc or type(exc).__name__}")
        text = excerpt.decode("utf-8", errors="replace").replace("\x00", "\ufffd")
        return outcome(status_code, excerpt=text)
    except TimeoutError:
        return outcome(error=f"{stage}: no answer within {total_timeout:g} s")
    except (OSError, http.client.HTTPException, ValueError) as exc:
        return outcome(error=f"{stage}: {exc or type(exc).__name__}")
    finally:
        sock.close()
