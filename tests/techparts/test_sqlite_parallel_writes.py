"""The embedded SQLite default under parallel writes from several real server processes.

The suite's own SQLite database is in memory, and Django hands a live server the test's single
connection, so requests there are serialised and prove nothing. This test builds a SQLite *file*
database with `manage.py`, serves it from gunicorn (3 worker processes) and from `runserver`
(threaded, what `make run` uses) at once, and fires 50 writes at the same moment.
"""

import json
import os
import secrets
import subprocess
import sys
import threading
import urllib.error
import urllib.request
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tests.conftest import ON_POSTGRES
from tests.servers import ROOT, free_port, manage, wait_until_up

pytestmark = pytest.mark.skipif(
    ON_POSTGRES,
    reason="builds its own SQLite file database, independent of the suite's; runs once, in the "
    "SQLite pass of `make test`",
)

HOT = ("PROD-7800X3D-AMD-001", "CPU-AMD-7800X3D-001", 4)  # demo stock: 4 units
STEADY = ("PROD-4090-MSI-001", "GPU-NV-4090-MSI-001", 23)
SYNCED_SKU = "CPU-AMD-5950X-001"
ADDRESS = {"street": "1 Main St", "city": "San Francisco", "state": "CA", "zip": "94105"}


def _call(
    method: str, url: str, key: str, body: dict | None = None, idempotency_key: str = ""
) -> tuple[int, dict]:
    headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
    if idempotency_key:
        headers["Idempotency-Key"] = idempotency_key
    request = urllib.request.Request(
        url,
        method=method,
        data=None if body is None else json.dumps(body).encode(),
        headers=headers,
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        text = error.read()
        try:
            return error.code, json.loads(text)
        except ValueError:
            return error.code, {"raw": text.decode(errors="replace")[:300]}


@pytest.fixture
def sqlite_env(tmp_path) -> dict:
    env = {
        "PATH": os.environ["PATH"],
        "DJANGO_SETTINGS_MODULE": "techparts.settings",
        "DEBUG": "false",
        "HTTPS": "false",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "127.0.0.1",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'techparts.sqlite3'}",
        # Only locking is under test here, not the per-key budgets.
        "API_RATE_LIMIT_READ": "100000/minute",
        "API_RATE_LIMIT_WRITE": "100000/minute",
        "LOG_LEVEL": "WARNING",
    }
    for args in (["migrate", "--noinput"], ["seed_demo"]):
        result = manage(env, *args)
        assert result.returncode == 0, result.stdout + result.stderr
    return env


def test_fifty_parallel_writes_on_the_sqlite_file_default_never_fail(sqlite_env, tmp_path):
    created = manage(
        sqlite_env, "create_api_key", "--name", "parallel", "--owner", "wh", "--scopes", "all"
    )
    assert created.returncode == 0, created.stderr
    key = created.stdout.strip()
    gunicorn_port, runserver_port = free_port(), free_port()
    servers = [
        subprocess.Popen(
            [str(Path(sys.executable).parent / "gunicorn"), "techparts.wsgi"]
            + ["--bind", f"127.0.0.1:{gunicorn_port}", "--workers", "3", "--timeout", "60"],
            cwd=ROOT,
            env=sqlite_env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        ),
        subprocess.Popen(
            [sys.executable, "manage.py", "runserver", "--noreload"]
            + [f"127.0.0.1:{runserver_port}"],
            cwd=ROOT,
            env=sqlite_env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        ),
    ]
    bases = [f"http://127.0.0.1:{gunicorn_port}", f"http://127.0.0.1:{runserver_port}"]
    # 15 orders race for the 4 units of HOT, 5 take one STEADY unit each (it has 23), 10 send
    # one more STEADY order with the same Idempotency-Key (one applies, the others replay it),
    # and 20 warehouse syncs set SYNCED_SKU and STEADY's on-hand count (never below the 6
    # reserved).
    writes = (
        [("POST", "/v1/orders", _order(HOT[0]))] * 15
        + [("POST", "/v1/orders", _order(STEADY[0]))] * 5
        + [("POST", "/v1/orders", _order(STEADY[0]), "same-order-1")] * 10
        + [("PATCH", f"/v1/inventory/{SYNCED_SKU}", _sync(50 + i)) for i in range(10)]
        + [("PATCH", f"/v1/inventory/{STEADY[1]}", _sync(100 + i)) for i in range(10)]
    )
    barrier = threading.Barrier(len(writes))

    def send(
        index: int, method: str, path: str, body: dict, idempotency_key: str = ""
    ) -> tuple[str, str, int, dict]:
        barrier.wait(timeout=30)
        status, answer = _call(method, bases[index % 2] + path, key, body, idempotency_key)
        return method, path, status, answer

    try:
        for base, server in zip(bases, servers, strict=True):
            wait_until_up(f"{base}/healthz", server)

        with ThreadPoolExecutor(max_workers=len(writes)) as pool:
            results = list(pool.map(lambda args: send(*args), _numbered(writes)))

        statuses = Counter((method, path, status) for method, path, status, _ in results)
        server_errors = [r for r in results if r[2] >= 500]
        assert not server_errors, f"{len(server_errors)} x 5xx, e.g. {server_errors[:2]}"
        assert statuses == {
            ("POST", "/v1/orders", 201): 4 + 5 + 10,
            ("POST", "/v1/orders", 409): 11,
            ("PATCH", f"/v1/inventory/{SYNCED_SKU}", 200): 10,
            ("PATCH", f"/v1/inventory/{STEADY[1]}", 200): 10,
        }
        refused = [answer for method, _, status, answer in results if status == 409]
        assert {answer["error"] for answer in refused} == {"insufficient_stock"}
        # No oversell: the hot product's 4 units are all reserved, none more.
        hot_status, hot = _call("GET", f"{bases[0]}/v1/inventory/{HOT[1]}", key)
        assert hot_status == 200
        assert (hot["quantity"], hot["reserved"], hot["available"]) == (4, 4, 0)
        steady_status, steady = _call("GET", f"{bases[1]}/v1/inventory/{STEADY[1]}", key)
        assert steady_status == 200
        assert steady["reserved"] == 6  # the keyed order once
        keyed = {
            result[3]["order_id"]
            for result, write in zip(results, writes, strict=True)
            if len(write) == 4  # sent with the Idempotency-Key
        }
        assert len(keyed) == 1
        assert steady["quantity"] in range(100, 110)
    finally:
        for server in servers:
            server.terminate()
        for server in servers:
            server.wait(timeout=30)

    reconciled = manage(sqlite_env, "reconcile_stock")
    assert reconciled.returncode == 0, reconciled.stdout + reconciled.stderr


def _order(product_id: str) -> dict:
    return {
        "customer_id": "CUST-789012",
        "items": [{"product_id": product_id, "quantity": 1}],
        "shipping_address": {**ADDRESS, "country": "US"},
    }


def _sync(quantity: int) -> dict:
    return {"quantity": quantity, "reason": "Warehouse sync"}


def _numbered(writes: list) -> list:
    return [(index, *write) for index, write in enumerate(writes)]
