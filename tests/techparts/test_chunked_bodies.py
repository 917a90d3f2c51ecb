"""Chunked request bodies (`Transfer-Encoding: chunked`) against the servers the project ships.

Django's test client cannot send a chunked body, so these tests start the real servers: Django's
runserver (what `make run` serves with) and gunicorn (what `make serve` serves with), on their own
SQLite database, and talk to them over a socket. gunicorn reads chunked bodies, under the same
size cap as any body; runserver cannot, and refuses them with 411. Nothing is silently dropped.
"""

import contextlib
import http.client
import json
import os
import re
import secrets
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.servers import free_port

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
SKU = "GPU-NV-4090-MSI-001"  # demo stock: 23 on hand


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """A migrated demo database for the server processes, and an inventory key for it."""
    folder = tmp_path_factory.mktemp("served")
    env = {
        "PATH": os.environ["PATH"],
        "DJANGO_SETTINGS_MODULE": "techparts.settings",
        "DATABASE_URL": f"sqlite:///{folder / 'db.sqlite3'}",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "DEBUG": "false",
        "HTTPS": "false",
        "ALLOWED_HOSTS": "127.0.0.1",
        "API_RATE_LIMIT_WRITE": "",
        "API_RATE_LIMIT_READ": "",
    }
    manage = [sys.executable, "manage.py"]
    for command in (["migrate", "--noinput"], ["seed_demo"]):
        subprocess.run(manage + command, cwd=ROOT, env=env, check=True, capture_output=True)
    created = subprocess.run(
        manage
        + ["create_api_key", "--name", "chunked", "--owner", "api_user_12345"]
        + ["--scopes", "inventory:read,inventory:write"],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    key = re.search(r"tp_[0-9a-f]{8}_[A-Za-z0-9_-]+", created.stdout).group()
    return env, key


def _start(command: list[str], env: dict, port: int) -> subprocess.Popen:
    process = subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{command[0]} exited with {process.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return process
        except OSError:
            time.sleep(0.2)
    process.kill()
    raise RuntimeError(f"{command} did not come up")


@pytest.fixture(scope="module")
def runserver(served):
    env, _ = served
    port = free_port()
    process = _start(
        [sys.executable, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload"],
        {**env, "DEBUG": "true"},  # as `make run`
        port,
    )
    yield port
    process.terminate()
    process.wait(timeout=30)


@pytest.fixture(scope="module")
def gunicorn(served):
    env, _ = served
    port = free_port()
    process = _start(
        [str(BIN / "gunicorn"), "techparts.wsgi", "--bind", f"127.0.0.1:{port}", "--workers", "1"],
        env,
        port,
    )
    yield port
    process.terminate()
    process.wait(timeout=30)


def request(port: int, method: str, path: str, key: str, body: bytes = b"", *, chunked: bool):
    """Send one request and return (status, headers, JSON body).

    A chunked body goes out in 1 KB chunks over a raw socket; the server may answer and close
    before it has all of them (a refusal), so a failed send still reads the answer.
    """
    head = (
        f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
        f"Authorization: Bearer {key}\r\nContent-Type: application/json\r\n"
    )
    if chunked:
        head += "Transfer-Encoding: chunked\r\n"
        chunks = [body[i : i + 1024] for i in range(0, len(body), 1024)]
        payload = b"".join(b"%x\r\n%s\r\n" % (len(chunk), chunk) for chunk in chunks)
        payload += b"0\r\n\r\n"
    else:
        head += f"Content-Length: {len(body)}\r\n"
        payload = body
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        # Refused early, the server may close before the last chunk: its answer is on its way.
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            sock.sendall((head + "\r\n").encode() + payload)
        response = http.client.HTTPResponse(sock)
        response.begin()
        return response.status, response.headers, json.loads(response.read() or b"null")


def stock(port: int, key: str) -> int:
    status, _, body = request(port, "GET", f"/v1/inventory/{SKU}", key, chunked=False)
    assert status == 200, body
    return body["quantity"]


def test_gunicorn_reads_a_chunked_body(gunicorn, served):
    _, key = served
    before = stock(gunicorn, key)
    body = json.dumps({"quantity": before + 5, "reason": "chunked upload"}).encode()

    status, _, answer = request(gunicorn, "PATCH", f"/v1/inventory/{SKU}", key, body, chunked=True)

    assert status == 200, answer
    assert (answer["previous_quantity"], answer["quantity"]) == (before, before + 5)
    assert stock(gunicorn, key) == before + 5
    _, _, movements = request(gunicorn, "GET", f"/v1/inventory/{SKU}/movements", key, chunked=False)
    assert movements["results"][0]["reason"] == "chunked upload"


def test_gunicorn_refuses_a_chunked_body_over_the_cap_with_413(gunicorn, served):
    _, key = served
    before = stock(gunicorn, key)
    body = json.dumps({"quantity": 1, "reason": "x" * 70_000}).encode()  # ~70 KB > 64 KB

    status, _, answer = request(gunicorn, "PATCH", f"/v1/inventory/{SKU}", key, body, chunked=True)

    assert status == 413
    assert answer == {
        "error": "payload_too_large",
        "message": "Request body is larger than the 65536 bytes this API accepts.",
    }
    assert stock(gunicorn, key) == before


def test_gunicorn_reads_a_chunked_bulk_call_under_the_bulk_cap_not_the_general_one(
    gunicorn, served
):
    _, key = served
    before = stock(gunicorn, key)
    items = [{"sku": SKU, "adjust_by": 1, "reason": "r" * 200}]
    items += [{"sku": f"NOPE-{n}", "quantity": 1, "reason": "r" * 200} for n in range(999)]
    body = json.dumps({"error_policy": "reject_failed_items", "items": items}).encode()
    assert 65_536 < len(body) < 1_048_576

    status, _, answer = request(gunicorn, "POST", "/v1/inventory/bulk", key, body, chunked=True)

    assert status == 200, answer
    assert answer["summary"] == {"applied": 1, "unchanged": 0, "pending_approval": 0, "failed": 999}
    assert stock(gunicorn, key) == before + 1


def test_gunicorn_parses_a_chunked_body_like_any_other(gunicorn, served):
    _, key = served

    status, _, answer = request(
        gunicorn, "PATCH", f"/v1/inventory/{SKU}", key, b'{"quantity": 45,', chunked=True
    )

    assert status == 400
    assert answer["message"] == "Malformed JSON in request body"


@pytest.mark.parametrize(
    ("body", "with_length"),
    [
        (json.dumps({"quantity": 45}).encode(), 200),
        (json.dumps({"quantity": 1, "reason": "x" * 70_000}).encode(), 413),
    ],
    ids=["valid", "70KB"],
)
def test_runserver_refuses_chunked_bodies_with_411(runserver, served, body, with_length):
    _, key = served
    before = stock(runserver, key)

    status, headers, answer = request(
        runserver, "PATCH", f"/v1/inventory/{SKU}", key, body, chunked=True
    )

    assert status == 411
    assert answer == {
        "error": "length_required",
        "message": "Send the request body with a Content-Length header; this server cannot "
        "read chunked request bodies (Transfer-Encoding: chunked).",
    }
    assert headers["Connection"] == "close"  # the unread chunks are still in the connection
    assert stock(runserver, key) == before
    # The same body with its length is read as usual.
    assert request(runserver, "PATCH", f"/v1/inventory/{SKU}", key, body, chunked=False)[0] == (
        with_length
    )
