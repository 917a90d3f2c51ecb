"""How many events per second one delivery worker sends to a local receiver.

    scripts/with-postgres.sh sh -c '.venv/bin/python manage.py migrate -v0 &&
        .venv/bin/python -m bench.webhooks'

Records BENCH_WEBHOOK_EVENTS `inventory.changed` events over BENCH_WEBHOOK_SKUS SKUs (bulk stock
calls), points one endpoint at a receiver in another process (answering 200 at once), then
times one delivery run, as the `deliver_webhooks` task does it in a worker (its threads,
WEBHOOK_DELIVERY_CONCURRENCY), from the fan-out to the last attempt recorded. Prints one
JSON line. Needs an empty PostgreSQL database (the events and endpoint are its own).
"""

import json
import os
import socket
import subprocess
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

RECEIVER = "receiver"


def serve(port: int) -> None:
    """Answer every POST with 200 and nothing else (the receiver process)."""

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length", "0")))
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    server.daemon_threads = True
    server.serve_forever()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_listening(port: int, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"the receiver did not listen on port {port}")


def measure() -> dict:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "techparts.settings")
    os.environ["WEBHOOKS_ALLOW_LOOPBACK"] = "true"
    import django

    django.setup()

    from catalog.models import Category
    from inventory.services import BulkItem, stock_bulk_apply
    from shop.services import product_open
    from techparts.actors import Actor
    from webhooks import crypto
    from webhooks.delivery import deliveries_run
    from webhooks.models import Delivery, WebhookEndpoint

    events = int(os.environ.get("BENCH_WEBHOOK_EVENTS") or 2000)
    skus = int(os.environ.get("BENCH_WEBHOOK_SKUS") or 200)
    system = Actor.system()
    category, _ = Category.objects.get_or_create(slug="bench-webhooks", defaults={"name": "B"})
    names = [f"BENCH-WH-{n:05d}" for n in range(skus)]
    for name in names:
        product_open(
            actor=system,
            stock=1,
            public_id=f"PROD-{name}",
            sku=name,
            name=name,
            category=category,
            manufacturer="Bench",
            price="1.00",
        )
    port = _free_port()
    receiver = subprocess.Popen([sys.executable, "-m", "bench.webhooks", RECEIVER, str(port)])
    try:
        _wait_listening(port)
        WebhookEndpoint.objects.create(
            public_id="we_bench",
            owner="bench",
            url=f"http://127.0.0.1:{port}/hooks",
            event_types=["inventory.changed"],
            secret=crypto.seal("whsec_" + "YmVuY2gtc2VjcmV0LW9mLTMyLWJ5dGVzLWxvbmctLS0="),
        )
        for round_ in range(events // skus):
            stock_bulk_apply(
                items=[BulkItem(sku=name, quantity=2 + round_) for name in names], actor=system
            )
        began = time.perf_counter()
        run = deliveries_run(budget_seconds=600)
        elapsed = time.perf_counter() - began
    finally:
        receiver.terminate()
        receiver.wait(timeout=10)
    succeeded = Delivery.objects.filter(status="succeeded").count()
    return {
        "events": run.fanned_out,
        "succeeded": succeeded,
        "seconds": round(elapsed, 2),
        "events_per_second": round(succeeded / elapsed, 1),
        "concurrency": int(os.environ.get("WEBHOOK_DELIVERY_CONCURRENCY") or 8),
    }


if __name__ == "__main__":
    if sys.argv[1:2] == [RECEIVER]:
        serve(int(sys.argv[2]))
    else:
        print(json.dumps(measure()))
