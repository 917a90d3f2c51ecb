"""In-process measurements, run in a child process with the server's settings and database.

`python -m bench.inprocess <task>` reads its arguments as JSON on stdin and prints its result
as one JSON line. Each task runs in a fresh process so that one task's memory (the CSV export's
peak RSS above all) is not another's.
"""

import json
import os
import random
import statistics
import sys
import time
import uuid

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "techparts.settings")
django.setup()

from django.contrib.auth import get_user_model  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.urls import reverse  # noqa: E402

from bench.endpoints import PAIRS, order_body  # noqa: E402
from catalog.models import Product  # noqa: E402
from inventory.models import MAX_ON_HAND, StockMovement, StockRecord  # noqa: E402
from techparts.apikeys.scopes import ALL_SCOPES, ORDERS_WRITE  # noqa: E402
from techparts.apikeys.services import api_key_create  # noqa: E402

STAFF_USERNAME = "bench-manager"
MODEL_BACKEND = "django.contrib.auth.backends.ModelBackend"


def setup(args: dict) -> dict:
    """Create the bench's API keys and staff user, and fill every stock record to MAX_ON_HAND.

    The restock is one UPDATE plus one INSERT of `restock` ledger rows, so the ledger still
    replays exactly (reconcile_stock) and orders never run out during the run.
    """
    _, key = api_key_create(name="bench", owner="bench", scopes=ALL_SCOPES)
    # One key per contention client: separate integrators, so only the SKUs are shared.
    client_keys = [
        api_key_create(name=f"bench-{i}", owner=f"bench-{i}", scopes=[ORDERS_WRITE])[1]
        for i in range(args["contention_clients"])
    ]
    get_user_model().objects.create_superuser(STAFF_USERNAME, "bench@example.com", None)
    stock, ledger = StockRecord._meta.db_table, StockMovement._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"WITH old AS (SELECT product_id, on_hand FROM {stock} WHERE on_hand < %s "
            "FOR UPDATE), "
            # Each record's version moves with its ledger row, as the stock services do.
            f"moved AS (UPDATE {stock} s SET on_hand = %s, updated_at = now(), "
            "version = s.version + 1 FROM old WHERE s.product_id = old.product_id "
            "RETURNING s.product_id, %s - old.on_hand AS delta, s.reserved, s.version) "
            f"INSERT INTO {ledger} (product_id, kind, on_hand_delta, reserved_delta, "
            "on_hand_after, reserved_after, reason, reference, source, actor_name, created_at, "
            "version) "
            "SELECT product_id, 'restock', delta, 0, %s, reserved, 'bench restock', '', "
            "'system', 'bench', now(), version FROM moved ORDER BY product_id",
            [MAX_ON_HAND] * 4,
        )
        restocked = cursor.rowcount
        # The state autovacuum reaches within a minute of a bulk load (PostgreSQL's advice after
        # one): statistics current and pages marked all-visible (index-only scans, e.g. the
        # product list's count). Outside any transaction, as VACUUM must be.
        cursor.execute("VACUUM ANALYZE")
    return {"key": key, "client_keys": client_keys, "restocked": restocked}


def _client(key: str) -> Client:
    return Client(HTTP_AUTHORIZATION=f"Bearer {key}", HTTP_X_FORWARDED_PROTO="https")


def _call(
    client: Client, kind: str, path: str, number: int, lines: int = 3, *, keyed: bool = False
):
    if "%07d" in path:
        path = path % number
    headers = {"Idempotency-Key": f"bench-{uuid.uuid4()}"} if keyed else {}
    if kind == "patch":
        body = {"quantity": 5000 + (number % 4999), "reason": "bench"}
        return client.patch(path, body, content_type="application/json", headers=headers)
    if kind == "order":
        numbers = list(range(number, number + lines))
        return client.post(
            path, order_body(numbers), content_type="application/json", headers=headers
        )
    return client.get(path)


def queries(args: dict) -> dict:
    """Count the queries of one request per endpoint and floor, key warm (after 3 requests)."""
    client = _client(args["key"])
    counts = {}
    for n, pair in enumerate(PAIRS):
        for offset, (side, path) in enumerate(
            (("endpoint", pair.path), ("floor", pair.floor_path))
        ):
            # Other products for each side: a PATCH to the count a product already has is a no-op.
            number = 100 + n * 20 + offset * 10
            for warm in range(3):
                _call(client, pair.kind, path, number + warm, keyed=pair.idempotency_key)
            with CaptureQueriesContext(connection) as captured:
                response = _call(client, pair.kind, path, number + 5, keyed=pair.idempotency_key)
            if response.status_code >= 300:
                raise RuntimeError(
                    f"{pair.name} ({side}): {response.status_code} {response.content[:300]}"
                )
            counts[f"{pair.name}|{side}"] = len(captured)
    return counts


def order_lines(args: dict) -> dict:
    """Time POST /v1/orders in process at each order size; return p50 (ms) and queries."""
    client = _client(args["key"])
    rng = random.Random(args["seed"])
    products = args["products"]
    result = {}
    for lines in args["sizes"]:
        timings = []
        for sample in range(args["samples"] + 3):
            start = rng.randrange(1, products - lines)
            numbers = list(range(start, start + lines))
            rng.shuffle(numbers)
            with CaptureQueriesContext(connection) as captured:
                began = time.perf_counter()
                response = client.post(
                    "/v1/orders", order_body(numbers), content_type="application/json"
                )
                elapsed = time.perf_counter() - began
            if response.status_code != 201:
                raise RuntimeError(
                    f"order of {lines} lines: {response.status_code} {response.content[:300]}"
                )
            if sample >= 3:  # the first ones warm the key and the code paths
                timings.append(elapsed * 1000)
        result[str(lines)] = {"p50_ms": statistics.median(timings), "queries": len(captured)}
    return result


def _rss_kb(field: str) -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise RuntimeError(f"no {field} in /proc/self/status")


def csv_rows(args: dict) -> dict:
    """Top the ledger up to `rows` rows with pairs of -1/+1 corrections that net to zero.

    The pairs are dated a day back and each product's +1 rows come after its -1 rows, so every
    record still replays exactly (sums unchanged, its last row still ends at its counts).
    """
    stock, ledger = StockRecord._meta.db_table, StockMovement._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT count(*) FROM {ledger}")
        missing = max(0, args["rows"] - cursor.fetchone()[0])
        pairs = missing // 2
        for delta in (-1, 1):
            cursor.execute(
                f"WITH p AS (SELECT product_id, on_hand, reserved, version, "
                "row_number() OVER (ORDER BY product_id) - 1 AS i "
                f"FROM {stock} WHERE on_hand > reserved), "
                f"ins AS (INSERT INTO {ledger} (product_id, kind, on_hand_delta, reserved_delta, "
                "on_hand_after, reserved_after, reason, reference, source, actor_name, created_at, "
                "version) "
                "SELECT p.product_id, 'correction', %s, 0, p.on_hand + %s, p.reserved, "
                "'bench csv row', '', 'system', 'bench', "
                "now() - interval '1 day' + g * interval '1 millisecond', "
                "p.version + row_number() OVER (PARTITION BY p.product_id ORDER BY g) "
                "FROM generate_series(0, %s - 1) g "
                "JOIN p ON p.i = g %% (SELECT count(*) FROM p) ORDER BY g RETURNING product_id) "
                f"{VERSIONS_FOLLOW}",
                [delta, min(delta, 0), pairs],
            )
        cursor.execute(f"SELECT count(*) FROM {ledger}")
        return {"rows": cursor.fetchone()[0]}


# Ends a statement whose CTE `ins` inserted ledger rows numbered after their records'
# versions: each record's version moves by its rows, so versions stay dense (reconcile_stock).
VERSIONS_FOLLOW = (
    f"UPDATE {StockRecord._meta.db_table} AS s SET version = s.version + c.n "
    "FROM (SELECT product_id, count(*) AS n FROM ins GROUP BY product_id) AS c "
    "WHERE s.product_id = c.product_id"
)

COPY_SQL = (
    "COPY (SELECT m.created_at, p.sku, p.public_id, p.name, m.kind, m.on_hand_delta, "
    "m.on_hand_after, m.reserved_delta, m.reserved_after, m.on_hand_after - m.reserved_after, "
    "m.reason, m.reference, m.source, m.actor_name FROM {ledger} m JOIN {product} p "
    "ON p.id = m.product_id ORDER BY m.created_at DESC, m.id DESC) TO STDOUT WITH (FORMAT csv, HEADER)"
)


def csv_export(args: dict) -> dict:
    """Stream the admin stock-history export as staff; return time, bytes, lines, RSS growth."""
    client = Client(HTTP_X_FORWARDED_PROTO="https")
    client.force_login(get_user_model().objects.get(username=STAFF_USERNAME), backend=MODEL_BACKEND)
    url = reverse("admin:inventory_stockmovement_export")
    # Warm the request handler first, as a running server's is: a fresh process builds its
    # middleware (WhiteNoise indexes the static files) on its first request, once; the COPY
    # side is timed on an open connection too.
    client.get(reverse("healthz"))
    with open("/proc/self/clear_refs", "w") as clear:
        clear.write("5")  # reset the peak (VmHWM) to the current RSS
    before = _rss_kb("VmRSS")
    began = time.perf_counter()
    response = client.get(url)
    if response.status_code != 200:
        raise RuntimeError(f"export: {response.status_code}")
    size = lines = 0
    for chunk in response.streaming_content:
        size += len(chunk)
        lines += chunk.count(b"\n")
    elapsed = time.perf_counter() - began
    peak = _rss_kb("VmHWM")
    return {
        "seconds": elapsed,
        "bytes": size,
        "lines": lines,
        "rss_growth_mb": (peak - before) / 1024,
    }


def csv_copy(args: dict) -> dict:
    """Time PostgreSQL COPY of the same rows to STDOUT through psycopg."""
    sql = COPY_SQL.format(ledger=StockMovement._meta.db_table, product=Product._meta.db_table)
    connection.ensure_connection()
    size = lines = 0
    began = time.perf_counter()
    with connection.connection.cursor() as cursor, cursor.copy(sql) as copy:
        for block in copy:
            size += len(block)
            lines += bytes(block).count(b"\n")
    return {"seconds": time.perf_counter() - began, "bytes": size, "lines": lines}


def outbox_cost(args: dict) -> dict:
    """Time PATCH /v1/inventory/{sku} and a 3-line POST /v1/orders with and without the outbox.

    "Without" is the same code with the one statement that writes the events
    (inventory.services.events_record, which every stock change and order goes through)
    replaced by a no-op, in this process only: the two sides alternate in blocks, on the same
    database and warm process, so the difference is the outbox's cost and nothing else.
    """
    import inventory.services

    client = _client(args["key"])
    recorded = inventory.services.events_record
    rng = random.Random(args["seed"])
    products = args["products"]
    block, blocks = 25, args["blocks"]
    timings: dict[str, dict[str, list[float]]] = {
        kind: {"with": [], "without": []} for kind in ("patch", "order")
    }
    queries: dict[str, dict[str, int]] = {kind: {} for kind in ("patch", "order")}

    counts = {
        int(sku.removeprefix("SYN-")): on_hand
        for sku, on_hand in StockRecord.objects.filter(product__sku__startswith="SYN-").values_list(
            "product__sku", "on_hand"
        )
    }

    def request(kind: str) -> tuple[float, int]:
        number = rng.randrange(1, products - 3)
        # The query log holds 9,000 entries at most: a full one captures nothing.
        connection.queries_log.clear()
        with CaptureQueriesContext(connection) as captured:
            began = time.perf_counter()
            if kind == "patch":
                # Always a change (a PATCH to the count a product has writes nothing).
                counts[number] = 4000 if counts[number] == 4001 else 4001
                response = client.patch(
                    f"/v1/inventory/SYN-{number:07d}",
                    {"quantity": counts[number], "reason": "bench"},
                    content_type="application/json",
                )
            else:
                response = _call(client, kind, "/v1/orders", number)
            elapsed = time.perf_counter() - began
        if response.status_code >= 300:
            raise RuntimeError(f"{kind}: {response.status_code} {response.content[:300]}")
        return elapsed * 1000, len(captured)

    try:
        for index in range(blocks * 2 + 2):
            side = "with" if index % 2 == 0 else "without"
            inventory.services.events_record = recorded if side == "with" else _no_events
            for kind in ("patch", "order"):
                for _ in range(block):
                    elapsed, count = request(kind)
                    if index >= 2:  # the first block of each side warms the code paths
                        timings[kind][side].append(elapsed)
                        queries[kind][side] = count
    finally:
        inventory.services.events_record = recorded
    result = {}
    for kind in ("patch", "order"):
        with_p50 = statistics.median(timings[kind]["with"])
        without_p50 = statistics.median(timings[kind]["without"])
        result[kind] = {
            "with_p50_ms": with_p50,
            "without_p50_ms": without_p50,
            "growth": with_p50 / without_p50 - 1,
            "with_queries": queries[kind]["with"],
            "without_queries": queries[kind]["without"],
            "samples": len(timings[kind]["with"]),
        }
    return result


def _no_events(*args, **kwargs) -> None:
    return None


TASKS = {
    "setup": setup,
    "outbox_cost": outbox_cost,
    "queries": queries,
    "order_lines": order_lines,
    "csv_rows": csv_rows,
    "csv_export": csv_export,
    "csv_copy": csv_copy,
}

if __name__ == "__main__":
    print(json.dumps(TASKS[sys.argv[1]](json.loads(sys.stdin.read() or "{}"))))
