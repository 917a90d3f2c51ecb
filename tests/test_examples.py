"""examples/sync_counts.py run as an integrator runs it: its own process, against a live server."""

import http.server
import importlib.util
import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from inventory.models import StockMovement
from techparts.apikeys.services import api_key_create
from tests.conftest import stock_of
from tests.factories import ProductFactory

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "examples" / "sync_counts.py"


def run(live_server, key: str, *args: str) -> subprocess.CompletedProcess:
    # Only what the script documents: no Django settings, no project on the path.
    env = {"PATH": os.environ["PATH"], "TECHPARTS_URL": live_server.url, "TECHPARTS_KEY": key}
    return subprocess.run(
        [sys.executable, "-I", str(SCRIPT), *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture
def key(transactional_db) -> str:
    _, secret = api_key_create(
        name="WMS", owner="wms_sync", scopes=["inventory:read", "inventory:write"]
    )
    return secret


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_the_example_pushes_counts_then_follows_the_feed_from_where_it_stopped(
    live_server, key, tmp_path
):
    gpu = ProductFactory(sku="GPU-1", stock=10)
    cpu = ProductFactory(sku="CPU-1", stock=4)
    counts = tmp_path / "counts.csv"
    counts.write_text(
        "sku,quantity,reason_code,reason\n"
        "GPU-1,7,cycle_count,aisle 3\n"
        "\n"
        "CPU-1,4,cycle_count,\n"
        "NOPE-1,1,cycle_count,\n"
    )
    state = tmp_path / "changes.cursor"

    pushed = run(live_server, key, "push", str(counts), "--reference", "wms://cc/1")
    followed = run(live_server, key, "follow", "--state", str(state))

    # One row fails (unknown SKU) and is printed; the others apply, as one adjustment group.
    assert pushed.returncode == 1, pushed.stderr
    assert "call 1: 1 applied, 1 unchanged, 1 failed" in pushed.stdout
    assert "NOPE-1: " in pushed.stdout
    assert (stock_of(gpu).on_hand, stock_of(cpu).on_hand) == (7, 4)
    row = StockMovement.objects.get(product=gpu, reason_code="cycle_count")
    assert (row.reference, row.reason, row.actor_name) == ("wms://cc/1", "aisle 3", "wms_sync")
    assert row.adjustment_group is not None
    assert followed.returncode == 0, followed.stderr
    lines = followed.stdout.splitlines()
    assert lines[-1] == (
        f"change {row.id}: GPU-1 correction (cycle_count) on hand 10 -> 7, available 7 (version 2)"
    )
    assert len(lines) == StockMovement.objects.count()  # the opening rows, then the count

    # Rerun: the same file replays (no second ledger row); the feed resumes after its cursor.
    again = run(live_server, key, "push", str(counts), "--reference", "wms://cc/1")
    ProductFactory(sku="SSD-1", stock=3)
    resumed = run(live_server, key, "follow", "--state", str(state))

    assert again.returncode == 1
    assert StockMovement.objects.filter(product=gpu).count() == 2
    assert resumed.stdout.splitlines() == [
        f"change {StockMovement.objects.latest('id').id}: SSD-1 correction (opening) "
        "on hand 0 -> 3, available 3 (version 1)"
    ]
    assert json.loads((tmp_path / "changes.versions.json").read_text()) == {
        "GPU-1": 2,
        "CPU-1": 1,
        "SSD-1": 1,
    }


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_the_example_refuses_a_file_without_the_columns_it_needs(live_server, key, tmp_path):
    counts = tmp_path / "counts.csv"
    counts.write_text("sku,count\nGPU-1,7\n")

    result = run(live_server, key, "push", str(counts), "--reference", "x")

    assert result.returncode != 0
    assert "the header needs the columns ['quantity']" in result.stderr


def load_example():
    spec = importlib.util.spec_from_file_location("sync_counts", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class FlakyServer:
    """A local HTTP server answering each request with the next (status, headers, body)."""

    def __init__(self, answers: list[tuple[int, dict[str, str], dict]]) -> None:
        self.answers = list(answers)
        self.requests: list[tuple[str, dict[str, str], bytes]] = []
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", 0))
                server.requests.append(("POST", dict(self.headers), self.rfile.read(length)))
                status, headers, body = server.answers.pop(0)
                data = json.dumps(body).encode()
                self.send_response(status)
                for name, value in {**headers, "Content-Type": "application/json"}.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args) -> None:
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def test_the_example_retries_transient_failures_with_the_same_idempotency_key():
    example = load_example()
    ok = {
        "adjustment_group": None,
        "summary": {"applied": 0, "unchanged": 1, "pending_approval": 0, "failed": 0},
    }
    server = FlakyServer(
        [
            (503, {}, {"error": "internal_error", "message": "later"}),
            (429, {"Retry-After": "7"}, {"error": "rate_limited", "message": "slow down"}),
            (409, {"Retry-After": "1"}, {"error": "conflict", "message": "key being processed"}),
            (200, {}, {**ok, "items": []}),
        ]
    )
    waits: list[float] = []
    try:
        client = example.Client(server.url, "tp_test", sleep=waits.append)
        answer = client.call("POST", "/v1/inventory/bulk", body={"items": []}, idempotency_key="k1")
    finally:
        server.close()

    assert answer["summary"]["unchanged"] == 1
    assert [headers["Idempotency-Key"] for _, headers, _ in server.requests] == ["k1"] * 4
    assert 0 <= waits[0] <= 1 and waits[1:] == [7, 1]  # backoff with jitter, then Retry-After


def test_the_example_does_not_retry_a_refusal():
    example = load_example()
    server = FlakyServer([(409, {}, {"error": "conflict", "message": "2 of 2 items failed"})])
    try:
        client = example.Client(server.url, "tp_test", sleep=pytest.fail)
        with pytest.raises(example.ApiError, match="HTTP 409 conflict: 2 of 2 items failed"):
            client.call("POST", "/v1/inventory/bulk", body={"items": []}, idempotency_key="k2")
    finally:
        server.close()

    assert len(server.requests) == 1
