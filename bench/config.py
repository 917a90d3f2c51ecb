"""What one bench run does, from the environment (BENCH_*), with fixed seeds."""

import os
from dataclasses import dataclass


def _int(name: str, default: int) -> int:
    return int(os.environ.get(name) or default)


def _float(name: str, default: float) -> float:
    return float(os.environ.get(name) or default)


@dataclass(frozen=True)
class Config:
    quick: bool
    products: int  # seed_demo --products
    rounds: int  # alternations of endpoint and floor, per pair
    seconds: int  # one wrk run
    warmup_seconds: int
    connections: int  # wrk -c
    order_lines: int  # lines per order in the wrk rounds
    latency_samples: int  # in-process requests per order size
    contention_clients: int
    contention_seconds: float
    contention_skus: int
    contention_lines: int
    csv_rows: int
    outbox_blocks: int  # alternations of 25 requests with and without the outbox statement
    overview_rows: int  # ledger rows under the stock overview (issue 13: 200,000)
    overview_samples: int  # timed requests of the overview page, of its CSV, of its floor
    seed: int = 1234

    @classmethod
    def from_env(cls) -> "Config":
        """Read the run's shape from BENCH_* variables; BENCH_QUICK=1 shortens every phase."""
        quick = os.environ.get("BENCH_QUICK", "") not in ("", "0", "false")
        return cls(
            quick=quick,
            products=_int("BENCH_PRODUCTS", 10_000),
            rounds=_int("BENCH_ROUNDS", 1 if quick else 3),
            seconds=_int("BENCH_SECONDS", 3 if quick else 10),
            warmup_seconds=_int("BENCH_WARMUP_SECONDS", 1 if quick else 3),
            connections=_int("BENCH_CONNECTIONS", 32),
            order_lines=_int("BENCH_ORDER_LINES", 3),
            latency_samples=_int("BENCH_LATENCY_SAMPLES", 8 if quick else 30),
            contention_clients=_int("BENCH_CONTENTION_CLIENTS", 64),
            contention_seconds=_float("BENCH_CONTENTION_SECONDS", 5 if quick else 30),
            contention_skus=_int("BENCH_CONTENTION_SKUS", 20),
            contention_lines=_int("BENCH_CONTENTION_LINES", 5),
            csv_rows=_int("BENCH_CSV_ROWS", 20_000 if quick else 100_000),
            outbox_blocks=_int("BENCH_OUTBOX_BLOCKS", 4 if quick else 16),
            overview_rows=_int("BENCH_OVERVIEW_ROWS", 200_000),
            overview_samples=_int("BENCH_OVERVIEW_SAMPLES", 5 if quick else 15),
        )
