"""The stock overview under a full ledger: the admin page and one CSV against their floor.

Run in a fresh process (`python -m bench.overview <task>`, JSON on stdin and stdout, like
bench.inprocess) with the server's settings and database, after the CSV phase:

- `rows`: gives every product a unit cost and tops the ledger up to `rows` rows with pairs of
  movements spread over the last 30 days (a loss or a lowering count, then units received or
  returned, netting to zero, so every record still replays exactly); one row in ten carries no
  cost (value unknown), as rows written before costs existed do.
- `measure`: the overview page ("last 30 days", every category) and the top-loss CSV as the
  bench's staff user (Django test client, warm process), against the floor: the four
  statements the page cannot do without, hand-written (amounts grouped by kind, reason code
  and direction; top 10 products by loss value; top 10 by movements; the low-stock count),
  run on the same connection. Issue 13 asks for the page in under a second.
"""

import json
import os
import statistics
import sys
import time

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "techparts.settings")
django.setup()

from django.contrib.auth import get_user_model  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.urls import reverse  # noqa: E402

from bench.inprocess import VERSIONS_FOLLOW  # noqa: E402
from catalog.models import Product  # noqa: E402
from inventory.dashboard import period_of, store_today  # noqa: E402
from inventory.models import StockMovement, StockRecord  # noqa: E402
from inventory.reasons import LOSS_CODES  # noqa: E402

STAFF_USERNAME = "bench-manager"  # bench.inprocess.setup's
MODEL_BACKEND = "django.contrib.auth.backends.ModelBackend"
PERIOD = "30d"
CSV_CHART = "top-loss"
# The lowering half of each pair: a reason code (all kinds `correction`) and the raising half.
LOWERING = ("damaged", "shrinkage", "theft", "cycle_count", "correction")


def rows(args: dict) -> dict:
    """Give products a unit cost and top the ledger up to `rows` rows (pairs netting to zero)."""
    product, stock, ledger = (
        Product._meta.db_table,
        StockRecord._meta.db_table,
        StockMovement._meta.db_table,
    )
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {product} SET unit_cost = round(((id % 500) + 10) * 1.37, 2) "
            "WHERE unit_cost IS NULL"
        )
        cursor.execute(f"SELECT count(*) FROM {ledger}")
        pairs = max(0, args["rows"] - cursor.fetchone()[0]) // 2
        # Pair g: product number (g * 7919) mod n (spread over all), 1-5 units, dated across
        # the 30 days ending a day ago (before the rows of the other phases, so every record's
        # last row is unchanged); the lowering row first, then the raising one.
        for lowering in (True, False):
            delta = "-(1 + g %% 5)" if lowering else "(1 + g %% 5)"
            after = "p.on_hand - (1 + g %% 5)" if lowering else "p.on_hand"
            kind = (
                "'correction'"
                if lowering
                else "CASE WHEN g %% 2 = 0 THEN 'restock' ELSE 'correction' END"
            )
            code = (
                f"(ARRAY{list(LOWERING)!r})[1 + (g / 3) %% {len(LOWERING)}]"
                if lowering
                else "CASE WHEN g %% 2 = 0 THEN 'received' ELSE 'returned' END"
            )
            cursor.execute(
                f"WITH p AS (SELECT s.product_id, s.on_hand, s.reserved, s.version, c.unit_cost, "
                "row_number() OVER (ORDER BY s.product_id) - 1 AS i "
                f"FROM {stock} s JOIN {product} c ON c.id = s.product_id "
                "WHERE s.on_hand - s.reserved >= 5), "
                "n AS (SELECT count(*) AS n FROM p), "
                f"ins AS (INSERT INTO {ledger} (product_id, kind, on_hand_delta, reserved_delta, "
                "on_hand_after, reserved_after, reason, reason_code, reference, source, "
                "actor_name, unit_cost, created_at, version) "
                f"SELECT p.product_id, {kind}, {delta}, 0, {after}, p.reserved, "
                f"'bench overview row', {code}, '', 'system', 'bench', "
                "CASE WHEN g %% 10 = 0 THEN NULL ELSE p.unit_cost END, "
                "now() - interval '31 days' + (g::float8 / %s) * interval '30 days', "
                "p.version + row_number() OVER (PARTITION BY p.product_id ORDER BY g) "
                "FROM generate_series(0, %s - 1) g CROSS JOIN n "
                "JOIN p ON p.i = (g::bigint * 7919) %% n.n ORDER BY g RETURNING product_id) "
                f"{VERSIONS_FOLLOW}",
                [max(pairs, 1), pairs],
            )
        cursor.execute(f"SELECT count(*) FROM {ledger}")
        total = cursor.fetchone()[0]
        cursor.execute("VACUUM ANALYZE")
    return {"rows": total}


def _floor_statements() -> list[tuple[str, list]]:
    """The page's database work, hand-written: what it cannot do without."""
    period = period_of(PERIOD, today=store_today())
    ledger, product, stock = (
        StockMovement._meta.db_table,
        Product._meta.db_table,
        StockRecord._meta.db_table,
    )
    span = [period.start, period.end]
    value = "sum(abs(on_hand_delta) * unit_cost) FILTER (WHERE unit_cost IS NOT NULL)"
    unknown = "sum(abs(on_hand_delta)) FILTER (WHERE unit_cost IS NULL)"
    return [
        (
            f"SELECT kind, reason_code, on_hand_delta > 0, sum(abs(on_hand_delta)), {value}, "
            f"{unknown}, count(*) FROM {ledger} WHERE created_at >= %s AND created_at < %s "
            "AND on_hand_delta <> 0 GROUP BY 1, 2, 3",
            span,
        ),
        (
            f"SELECT t.*, p.sku, p.public_id, p.name FROM (SELECT product_id, "
            f"sum(abs(on_hand_delta)) AS units, {value} AS value, {unknown} FROM {ledger} "
            "WHERE created_at >= %s AND created_at < %s AND on_hand_delta < 0 "
            "AND (kind = 'correction' OR reason_code = ANY(%s)) GROUP BY product_id "
            "ORDER BY value DESC NULLS LAST, units DESC, product_id LIMIT 10) t "
            f"JOIN {product} p ON p.id = t.product_id",
            [*span, list(LOSS_CODES)],
        ),
        (
            f"SELECT t.*, p.sku, p.public_id, p.name FROM (SELECT product_id, count(*) AS n, "
            "sum(on_hand_delta) FILTER (WHERE on_hand_delta > 0), "
            "sum(-on_hand_delta) FILTER (WHERE on_hand_delta < 0) "
            f"FROM {ledger} WHERE created_at >= %s AND created_at < %s GROUP BY product_id "
            f"ORDER BY n DESC, product_id LIMIT 10) t JOIN {product} p ON p.id = t.product_id",
            span,
        ),
        (
            f"SELECT count(*) FROM {stock} WHERE on_hand - reserved <= low_stock_threshold",
            [],
        ),
    ]


def _timed(call, samples: int) -> list[float]:
    call()  # warm: plans, code paths
    timings = []
    for _ in range(samples):
        began = time.perf_counter()
        call()
        timings.append((time.perf_counter() - began) * 1000)
    return timings


def _summary(timings: list[float]) -> dict:
    return {"p50_ms": statistics.median(timings), "max_ms": max(timings), "samples": len(timings)}


def measure(args: dict) -> dict:
    """Time the page, one CSV and the floor; count the page's queries."""
    client = Client(HTTP_X_FORWARDED_PROTO="https")
    client.force_login(get_user_model().objects.get(username=STAFF_USERNAME), backend=MODEL_BACKEND)
    page_url = reverse("admin:inventory_stockoverview_changelist") + f"?period={PERIOD}"
    csv_url = reverse("admin:inventory_stockoverview_csv", args=[CSV_CHART]) + f"?period={PERIOD}"
    client.get(reverse("healthz"))  # a fresh process builds its middleware once

    def page() -> None:
        response = client.get(page_url)
        if response.status_code != 200:
            raise RuntimeError(f"overview: {response.status_code}")

    def export() -> None:
        response = client.get(csv_url)
        if response.status_code != 200:
            raise RuntimeError(f"overview CSV: {response.status_code}")
        b"".join(response.streaming_content)

    statements = _floor_statements()

    def floor() -> None:
        with connection.cursor() as cursor:
            for sql, params in statements:
                cursor.execute(sql, params)
                cursor.fetchall()

    samples = args["samples"]
    result = {
        "page": _summary(_timed(page, samples)),
        "csv": _summary(_timed(export, samples)),
        "floor": _summary(_timed(floor, samples)),
    }
    connection.queries_log.clear()
    with CaptureQueriesContext(connection) as captured:
        page()
    result["page"]["queries"] = len(captured)
    result["floor"]["queries"] = len(statements)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT count(*) FROM {StockMovement._meta.db_table}")
        result["ledger_rows"] = cursor.fetchone()[0]
        period = period_of(PERIOD, today=store_today())
        cursor.execute(
            f"SELECT count(*) FROM {StockMovement._meta.db_table} "
            "WHERE created_at >= %s AND created_at < %s",
            [period.start, period.end],
        )
        result["rows_in_period"] = cursor.fetchone()[0]
        cursor.execute(f"SELECT count(*) FROM {Product._meta.db_table}")
        result["products"] = cursor.fetchone()[0]
    result["period"] = PERIOD
    result["csv_chart"] = CSV_CHART
    return result


TASKS = {"rows": rows, "measure": measure}

if __name__ == "__main__":
    print(json.dumps(TASKS[sys.argv[1]](json.loads(sys.stdin.read() or "{}"))))
