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
