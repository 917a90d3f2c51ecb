"""How many events per second one delivery worker sends to a local receiver.

    scripts/with-postgres.sh sh -c '.venv/bin/python manage.py migrate -v0 &&
        .venv/bin/python -m bench.webhooks'

Points one endpoint at a receiver in another process (answering 200 at once), records
BENCH_WEBHOOK_EVENTS `inventory.changed` events over BENCH_WEBHOOK_SKUS SKUs (bulk stock calls),
then starts one real worker (`manage.py db_worker`) and times it from its start until every
delivery has succeeded: fan-out, claims, signing, HTTP, outcomes (WEBHOOK_DELIVERY_CONCURRENCY
threads). Prints one JSON line. `make bench` runs it as its last phase (bench/run.py).
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
    """Record the events, then time one real `manage.py db_worker` delivering all of them."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "techparts.settings")
    os.environ["WEBHOOKS_ALLOW_LOOPBACK"] = "true"
    import django

    django.setup()

    from catalog.models import Category
    from inventory.services import BulkItem, stock_bulk_apply
    from shop.services import product_open
    from techparts.actors import Actor
    from webhooks.delivery import deliveries_fan_out
    from webhooks.models import Delivery
    from webhooks.services import webhook_endpoint_create

    events = int(os.environ.get("BENCH_WEBHOOK_EVENTS") or 3000)
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
    worker = None
    try:
        _wait_listening(port)
        endpoint, _ = webhook_endpoint_create(
            owner="bench",
            url=f"http://127.0.0.1:{port}/hooks",
            event_types=["inventory.changed"],
        )
        # Events from before the endpoint are not its own: read past them before timing.
        while deliveries_fan_out().has_more:
            pass
        for round_ in range(events // skus):
            stock_bulk_apply(
                items=[BulkItem(sku=name, quantity=2 + round_) for name in names], actor=system
            )
        expected = (events // skus) * skus
        # The events wait in the outbox and their delivery task in the queue: one worker starts.
        began = time.perf_counter()
        worker = subprocess.Popen(
            [sys.executable, "manage.py", "db_worker", "--queue-name", "default", "--no-reload"],
            env=os.environ,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        first = None
        deadline = began + 600
        while True:
            done = Delivery.objects.filter(endpoint=endpoint, status="succeeded").count()
            if done and first is None:
                first = time.perf_counter()
            if done >= expected:
                break
            if time.perf_counter() > deadline or worker.poll() is not None:
                raise RuntimeError(f"{done} of {expected} deliveries succeeded; worker stopped")
            time.sleep(0.05)
        finished = time.perf_counter()
    finally:
        if worker is not None:
            worker.terminate()
            worker.wait(timeout=30)
        receiver.terminate()
        receiver.wait(timeout=10)
    return {
        "events": expected,
        "seconds": round(finished - began, 2),
        "events_per_second": round(expected / (finished - began), 1),
        # From the first delivery on: without the worker process starting up.
        "steady_events_per_second": round((expected - 1) / (finished - first), 1),
        "worker_start_seconds": round(first - began, 2),
        "concurrency": int(os.environ.get("WEBHOOK_DELIVERY_CONCURRENCY") or 8),
    }


if __name__ == "__main__":
    if sys.argv[1:2] == [RECEIVER]:
        serve(int(sys.argv[2]))
    else:
        print(json.dumps(measure()))
