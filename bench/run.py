"""Orchestrate one bench run: database, Redis, gunicorn, the phases, the report."""

import json
import os
import platform
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from contextlib import ExitStack
from datetime import UTC, datetime
from pathlib import Path

from bench import bulk, contention
from bench.config import Config
from bench.endpoints import PAIRS
from bench.load import wrk
from bench.report import build, pair_row

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
RESULTS = ROOT / "bench-results"


def log(message: str) -> None:
    print(f"[bench {datetime.now(UTC):%H:%M:%S}] {message}", file=sys.stderr, flush=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def bench_env(*, redis_port: int) -> dict[str, str]:
    """Return the production configuration the bench runs, plus the floor views."""
    env = dict(os.environ)
    env.update(
        DJANGO_SETTINGS_MODULE="techparts.settings",
        DEBUG="false",
        SECRET_KEY="bench-only-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz",
        ALLOWED_HOSTS="127.0.0.1,localhost,testserver",
        # Behind a TLS proxy, as in production: requests carry X-Forwarded-Proto: https.
        TRUST_PROXY_HEADERS="true",
        REDIS_URL=f"redis://127.0.0.1:{redis_port}/0",
        # Rate limits on (Redis counters, every request pays for them) but never tripping.
        API_RATE_LIMIT_READ="100000000/minute",
        API_RATE_LIMIT_WRITE="100000000/minute",
        API_RATE_LIMIT_NOT_MODIFIED="100000000/minute",
        # The cap check still runs on every order; a cap this high never refuses one.
        MAX_PENDING_UNITS_PER_API_KEY="1000000000",
        BENCH_FLOOR_VIEWS="true",
    )
    return env


def manage(env: dict, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run(
        [PYTHON, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, check=check
    )


def inprocess(env: dict, task: str, args: dict | None = None) -> dict:
    """Run bench.inprocess `task` in a fresh process and return its JSON answer."""
    done = subprocess.run(
        [PYTHON, "-m", "bench.inprocess", task],
        cwd=ROOT,
        env=env,
        input=json.dumps(args or {}),
        capture_output=True,
        text=True,
    )
    if done.returncode:
        raise RuntimeError(f"bench.inprocess {task} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def overview_task(env: dict, task: str, args: dict) -> dict:
    """Run bench.overview `task` in a fresh process and return its JSON answer."""
    done = subprocess.run(
        [PYTHON, "-m", "bench.overview", task],
        cwd=ROOT,
        env=env,
        input=json.dumps(args),
        capture_output=True,
        text=True,
    )
    if done.returncode:
        raise RuntimeError(f"bench.overview {task} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def pg_deadlocks(env: dict) -> int:
    """Return PostgreSQL's count of deadlocks detected in this database so far."""
    code = (
        "from django.db import connection\n"
        "c = connection.cursor()\n"
        "c.execute('SELECT deadlocks FROM pg_stat_database WHERE datname = current_database()')\n"
        "print(c.fetchone()[0])\n"
    )
    done = manage(env, "shell", "-c", code)
    return int(done.stdout.strip().splitlines()[-1])


def reconcile(env: dict) -> tuple[bool, str]:
    done = manage(env, "reconcile_stock", check=False)
    text = " ".join((done.stdout + done.stderr).split())
    return done.returncode == 0, text or f"exit {done.returncode}"


def start(stack: ExitStack, command: list[str], *, env: dict, log_file: Path) -> subprocess.Popen:
    out = stack.enter_context(open(log_file, "w"))  # noqa: SIM115
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)

    def stop() -> None:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()

    stack.callback(stop)
    return process


def wait_http(url: str, process: subprocess.Popen, seconds: int = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited ({process.returncode}) before answering {url}")
        try:
            with urllib.request.urlopen(url, timeout=2):  # noqa: S310 (local server)
                return
        except OSError:
            time.sleep(0.3)
    raise RuntimeError(f"no answer from {url} in {seconds} s")


def machine(env: dict) -> dict:
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    ).stdout.strip()
    dirty = subprocess.run(
        ["git", "status", "--porcelain", "--untracked-files=no"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    ).stdout.strip()
    cpuinfo = Path("/proc/cpuinfo").read_text().splitlines()
    model = next(
        (line.split(":", 1)[1].strip() for line in cpuinfo if line.startswith("model name")),
        platform.processor(),
    )
    return {
        "commit": commit + (" (with uncommitted changes)" if dirty else ""),
        "cpu": f"{os.cpu_count()} x {model}",
        "load average at start": " ".join(f"{x:.2f}" for x in os.getloadavg()),
        "python": platform.python_version(),
        "gunicorn": "-w 2 -k gthread --threads 4 --worker-connections 16",
    }


def gunicorn_command(app: str, port: int) -> list[str]:
    """The production server's command line (README `make serve`), on `port`."""
    return [
        str(Path(PYTHON).with_name("gunicorn")),
        app,
        "--bind",
        f"127.0.0.1:{port}",
        "-w",
        "2",
        "-k",
        "gthread",
        "--threads",
        "4",
        "--worker-connections",
        "16",
        "--timeout",
        "60",
    ]


def run_outbox_http(
    cfg: Config, stack: ExitStack, *, env: dict, work: Path, base_url: str, key: str
) -> dict:
    """PATCH and POST /v1/orders over HTTP with the outbox and without it, alternating.

    "Without" is a second gunicorn serving bench.wsgi_without_outbox (the same app with the
    events statement left out), idle while the other is measured.
    """
    port = free_port()
    without = start(
        stack,
        gunicorn_command("bench.wsgi_without_outbox:application", port),
        env=env,
        log_file=work / "gunicorn-without-outbox.log",
    )
    without_url = f"http://127.0.0.1:{port}"
    wait_http(f"{without_url}/healthz", without)
    result = {}
    for n, pair in enumerate(
        p for p in PAIRS if p.kind in ("patch", "order") and not p.idempotency_key
    ):
        sides = {"with": (base_url, False), "without": (without_url, False)}
        rounds = alternate(
            cfg, pair, sides, key=key, seed=cfg.seed + 500 + 100 * n, label="outbox "
        )
        result[pair.kind] = {"name": pair.name, "rounds": rounds}
    return result


def alternate(
    cfg: Config,
    pair,
    sides: dict[str, tuple[str, bool]],
    *,
    key: str,
    seed: int,
    label: str = "",
) -> list[dict]:
    """Warm each side once, then measure them in turn for cfg.rounds rounds (each side going
    first in turn); `sides` maps a name to (base URL, floor path?). Return each round's
    measures by side."""
    for url, floor in sides.values():  # warm every side once, unmeasured
        wrk(
            base_url=url,
            pair=pair,
            floor=floor,
            key=key,
            cfg=cfg,
            seconds=cfg.warmup_seconds,
            seed=cfg.seed,
        )
    rounds = []
    names = list(sides)
    for r in range(cfg.rounds):
        measured = {}
        for side in names if r % 2 == 0 else names[::-1]:
            url, floor = sides[side]
            result = wrk(
                base_url=url,
                pair=pair,
                floor=floor,
                key=key,
                cfg=cfg,
                seconds=cfg.seconds,
                seed=seed + 10 * r + names.index(side),
            )
            measured[side] = result.as_dict()
            log(
                f"{pair.name} {side} {label}round {r + 1}: {result.rps:.0f} rps "
                f"p50 {result.p50_ms:.1f} ms"
            )
        rounds.append(measured)
    return rounds


def run_pairs(cfg: Config, *, base_url: str, key: str) -> list[dict]:
    """Alternate each endpoint with its floor for cfg.rounds rounds of cfg.seconds each."""
    rows = []
    for n, pair in enumerate(PAIRS):
        sides = {"endpoint": (base_url, False), "floor": (base_url, True)}
        rounds = alternate(cfg, pair, sides, key=key, seed=cfg.seed + 100 * n)
        rows.append({"pair": pair, "rounds": rounds})
    return rows


def main() -> int:
    """Run every phase and write bench-results/<timestamp>.md and .json; return the exit status."""
    cfg = Config.from_env()
    if not os.environ.get("DATABASE_URL", "").startswith("postgres"):
        log(
            "needs PostgreSQL in DATABASE_URL: run it through scripts/with-postgres.sh (make bench)"
        )
        return 2
    for tool in ("wrk", "redis-server"):
        if not shutil.which(tool):
            log(f"{tool} is missing: run scripts/ensure-bench-tools.sh")
            return 2
    began = time.monotonic()
    started = datetime.now(UTC)
    results: dict = {"started": f"{started:%Y-%m-%d %H:%M:%S} UTC", "config": cfg.__dict__}
    work = Path(tempfile.mkdtemp(prefix="techparts-bench."))
    redis_port, http_port = free_port(), free_port()
    env = bench_env(redis_port=redis_port)
    results["machine"] = machine(env) | {"quick mode": cfg.quick}
    with ExitStack() as stack:
        stack.callback(shutil.rmtree, work, True)
        redis = start(
            stack,
            [
                "redis-server",
                "--port",
                str(redis_port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ],
            env=env,
            log_file=work / "redis.log",
        )
        log(f"migrate, seed_demo --products {cfg.products}")
        manage(env, "migrate", "--noinput")
        manage(env, "seed_demo", "--products", str(cfg.products))
        setup = inprocess(env, "setup", {"contention_clients": cfg.contention_clients})
        log(f"keys created, {setup['restocked']} stock records filled to the maximum")
        if redis.poll() is not None:
            raise RuntimeError("redis-server exited; see its log")
        gunicorn = start(
            stack,
            gunicorn_command("techparts.wsgi", http_port),
            env=env,
            log_file=work / "gunicorn.log",
        )
        base_url = f"http://127.0.0.1:{http_port}"
        wait_http(f"{base_url}/healthz", gunicorn)
        log(f"gunicorn on {base_url}; endpoint/floor rounds")
        rows = run_pairs(cfg, base_url=base_url, key=setup["key"])
        results["outbox_http"] = run_outbox_http(
            cfg, stack, env=env, work=work, base_url=base_url, key=setup["key"]
        )
        log("query counts (in process)")
        queries = inprocess(env, "queries", {"key": setup["key"]})
        results["pairs"] = [pair_row(row["pair"], row["rounds"], queries) for row in rows]
        results["rounds"] = {row["pair"].name: row["rounds"] for row in rows}
        log("order sizes (in process)")
        results["order_lines"] = inprocess(
            env,
            "order_lines",
            {
                "key": setup["key"],
                "sizes": [1, 10, 50],
                "samples": cfg.latency_samples,
                "seed": cfg.seed,
                "products": cfg.products,
            },
        )
        log("outbox cost (in process, with and without the events statement)")
        results["outbox"] = inprocess(
            env,
            "outbox_cost",
            {
                "key": setup["key"],
                "blocks": cfg.outbox_blocks,
                "seed": cfg.seed,
                "products": cfg.products,
            },
        )
        results["contention"] = run_contention(
            cfg, env, http_port=http_port, keys=setup["client_keys"]
        )
        results["bulk"] = run_bulk(cfg, http_port=http_port, key=setup["key"])
        stack.close()  # gunicorn and Redis down before the CSV phase: its timings are in process
        log(f"CSV export: ledger up to {cfg.csv_rows} rows")
        rows_now = inprocess(env, "csv_rows", {"rows": cfg.csv_rows})["rows"]
        export = inprocess(env, "csv_export")
        copy = inprocess(env, "csv_copy")
        ok, text = reconcile(env)
        results["csv"] = {
            "rows": rows_now,
            "export": export,
            "copy": copy,
            "reconcile": text,
            "reconcile_ok": ok,
        }
        log(
            f"stock overview: ledger up to {cfg.overview_rows} rows, page and CSV against the floor"
        )
        overview_task(env, "rows", {"rows": cfg.overview_rows})
        results["overview"] = overview_task(env, "measure", {"samples": cfg.overview_samples})
        results["overview"]["reconcile_ok"], results["overview"]["reconcile"] = reconcile(env)
        log(
            f"stock overview: page p50 {results['overview']['page']['p50_ms']:.0f} ms, "
            f"floor p50 {results['overview']['floor']['p50_ms']:.0f} ms"
        )
        log("webhooks: one db_worker delivering to a local receiver")
        done = subprocess.run(
            [PYTHON, "-m", "bench.webhooks"], cwd=ROOT, env=env, capture_output=True, text=True
        )
        if done.returncode:
            raise RuntimeError(f"bench.webhooks failed:\n{done.stderr[-3000:]}")
        results["webhooks"] = json.loads(done.stdout.strip().splitlines()[-1])
    results["elapsed_s"] = time.monotonic() - began
    table = build(results)
    print(table)
    RESULTS.mkdir(exist_ok=True)
    stem = RESULTS / f"{started:%Y%m%d-%H%M%S}"
    stem.with_suffix(".md").write_text(table)
    stem.with_suffix(".json").write_text(json.dumps(results, indent=2, default=str))
    log(f"written {stem}.md and .json")
    return 0


def run_contention(cfg: Config, env: dict, *, http_port: int, keys: list[str]) -> dict:
    """Run the same order load over shared SKUs, then over disjoint ones, then reconcile."""
    log(
        f"hot-SKU contention: {cfg.contention_clients} clients x {cfg.contention_seconds:.0f} s, twice"
    )
    result = {
        "description": (
            f"{cfg.contention_clients} clients, {cfg.contention_lines}-line orders in shuffled "
            f"line order, {cfg.contention_seconds:.0f} s per case; shared = {cfg.contention_skus} "
            "SKUs for all, disjoint = each client its own SKUs; HTTP, Python load generator"
        )
    }
    # Products far from the ones the other phases draw first; both cases start from full stock.
    first = cfg.products // 2
    cases = {
        "shared": contention.shared_pools(
            clients=cfg.contention_clients, skus=cfg.contention_skus, first=first
        ),
        "disjoint": contention.disjoint_pools(
            clients=cfg.contention_clients,
            lines=cfg.contention_lines,
            first=first + cfg.contention_skus,
        ),
    }
    for name, pools in cases.items():
        before = pg_deadlocks(env)
        outcome = contention.run(
            host="127.0.0.1",
            port=http_port,
            keys=keys,
            pools=pools,
            lines=cfg.contention_lines,
            seconds=cfg.contention_seconds,
            seed=cfg.seed,
        )
        result[name] = outcome.as_dict() | {"deadlocks": pg_deadlocks(env) - before}
        log(f"{name}: {outcome.throughput:.1f} orders/s, statuses {dict(outcome.statuses)}")
    result["reconcile_ok"], result["reconcile"] = reconcile(env)
    return result


def run_bulk(cfg: Config, *, http_port: int, key: str) -> dict:
    """Time 2,000 PATCH calls against bulk calls of the same 2,000 SKUs (bench/bulk.py)."""
    # The last products: away from the contention phase's, and every count at MAX_ON_HAND.
    first = cfg.products - bulk.ITEMS
    samples = 3 if cfg.quick else 7
    log(f"bulk: {bulk.ITEMS} PATCH calls, then {samples} bulk calls of {bulk.ITEMS} items")
    outcome = bulk.run(host="127.0.0.1", port=http_port, key=key, first=first, samples=samples)
    log(
        f"bulk: PATCH {outcome.patch_round_trip_ms:.2f} ms per call, bulk call "
        f"{outcome.bulk_ms:.0f} ms, per item / PATCH = {outcome.ratio:.4f}"
    )
    return outcome.as_dict()
