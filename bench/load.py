"""HTTP load: wrk with bench/request.lua for the endpoint/floor pairs."""

import json
import subprocess
from dataclasses import asdict, dataclass
from pathlib import Path

from bench.config import Config
from bench.endpoints import Pair

SCRIPT = Path(__file__).with_name("request.lua")


@dataclass(frozen=True)
class WrkResult:
    rps: float
    p50_ms: float
    p99_ms: float
    requests: int
    non_2xx: int
    socket_errors: int

    def as_dict(self) -> dict:
        return asdict(self)


def wrk(
    *, base_url: str, pair: Pair, floor: bool, key: str, cfg: Config, seconds: int, seed: int
) -> WrkResult:
    """Run wrk for `seconds` against the endpoint (or its floor) and return what it measured."""
    path = pair.floor_path if floor else pair.path
    command = [
        "wrk",
        "-t1",
        f"-c{cfg.connections}",
        f"-d{seconds}s",
        "--timeout",
        "10s",
        "-s",
        str(SCRIPT),
        base_url,
        "--",
        pair.kind,
        pair.method,
        path,
        str(cfg.products),
        key,
        str(seed),
        str(cfg.order_lines),
        "1" if pair.idempotency_key else "0",
    ]
    out = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    line = next(line for line in out.splitlines() if line.startswith("BENCH "))
    data = json.loads(line.removeprefix("BENCH "))
    return WrkResult(
        rps=data["requests"] / (data["duration_us"] / 1e6),
        p50_ms=data["p50_us"] / 1000,
        p99_ms=data["p99_us"] / 1000,
        requests=data["requests"],
        non_2xx=data["non_2xx"],
        socket_errors=data["socket_errors"],
    )
