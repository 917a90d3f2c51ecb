"""The bench table builder (bench/report.py) on made-up numbers: targets read met or not."""

from bench.endpoints import PAIRS
from bench.report import build, pair_row


def _side(rps):
    return {"rps": rps, "p50_ms": 10.0, "p99_ms": 30.0, "non_2xx": 0, "socket_errors": 0}


def _results(detail_rps):
    detail = PAIRS[0]
    queries = {f"{detail.name}|endpoint": 1, f"{detail.name}|floor": 1}
    rounds = [{"endpoint": _side(detail_rps), "floor": _side(100.0)}] * 3
    return {
        "started": "now",
        "machine": {"cpu": "test"},
        "pairs": [pair_row(detail, rounds, queries)],
        "order_lines": {
            "1": {"p50_ms": 10.0, "queries": 14},
            "50": {"p50_ms": 30.0, "queries": 14},
        },
    }


def test_a_ratio_below_its_target_reads_not_met():
    table = build(_results(detail_rps=40.0))

    assert "| GET /v1/products/{id} | 40 |" in table
    assert "| 0.40x | >= 0.6x, <= 1 query | NOT MET |" in table
    assert "p50(50) / p50(1) = **3.00x** (target <= 2.0x: NOT MET)" in table


def test_a_ratio_at_its_target_reads_met():
    table = build(_results(detail_rps=60.0))

    assert "| 0.60x | >= 0.6x, <= 1 query | met |" in table


def _bulk(bulk_ms: float) -> dict:
    return {
        "items": 2000,
        "patch_seconds": 10.0,
        "patch_round_trip_ms": 5.0,
        "bulk_samples_ms": [bulk_ms] * 3,
        "bulk_ms": bulk_ms,
        "bulk_per_item_ms": bulk_ms / 2000,
        "ratio": (bulk_ms / 2000) / 5.0,
        "target": 1 / 25,
        "bad_statuses": {},
        "answer_bytes": 400_000,
    }


def test_the_bulk_ratio_reads_met_within_eighty_patch_round_trips():
    met = build({**_results(detail_rps=60.0), "bulk": _bulk(400.0)})
    missed = build({**_results(detail_rps=60.0), "bulk": _bulk(401.0)})

    assert "bulk per item / PATCH round trip: **0.0400** (1/25; target <= 1/25: met)" in met
    assert "target <= 1/25: NOT MET" in missed


def _overview(page_ms: float) -> dict:
    return {
        "page": {"p50_ms": page_ms, "max_ms": page_ms + 50, "samples": 15, "queries": 8},
        "csv": {"p50_ms": 300.0, "max_ms": 320.0, "samples": 15},
        "floor": {"p50_ms": 250.0, "max_ms": 260.0, "samples": 15, "queries": 4},
        "ledger_rows": 200000,
        "rows_in_period": 194000,
        "products": 10000,
        "period": "30d",
        "csv_chart": "top-loss",
        "reconcile": "OK",
        "reconcile_ok": True,
    }


def test_the_stock_overview_reads_met_under_a_second_with_its_ratio_to_the_floor():
    met = build({**_results(detail_rps=60.0), "overview": _overview(500.0)})
    missed = build({**_results(detail_rps=60.0), "overview": _overview(1000.0)})

    assert "| overview page | 500 | 550 | 8 | 250 | 2.00x | met |" in met
    assert "| CSV `top-loss` | 300 | 320 |  | 250 | 1.20x | met |" in met
    assert "| overview page | 1000 | 1050 | 8 | 250 | 4.00x | NOT MET |" in missed
