"""Start real server processes for tests: a free port, and waiting until one answers."""

import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that nothing listens on now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until_up(url: str, process: subprocess.Popen, seconds: float = 60) -> None:
    """Wait until `url` answers, failing early when the server process exits.

    A server still importing the app accepts the connection and answers late, so refusals,
    resets and read timeouts all mean "not yet" (on two shared cores this takes seconds).
    """
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{url}: server exited with {process.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=5):
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"{url} did not come up")


def wait_until_listening(port: int, process: subprocess.Popen, seconds: float = 30) -> None:
    """Wait until something accepts TCP connections on 127.0.0.1:`port` (the process runs)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"port {port}: server exited with {process.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing listens on port {port}")


def manage(env: dict[str, str], *args: str, timeout: float = 180) -> subprocess.CompletedProcess:
    """Run `manage.py <args>` in its own process with `env`; the caller checks the outcome."""
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


@contextmanager
def gunicorn_servers(env: dict[str, str], count: int, workers: int = 1) -> Iterator[list[int]]:
    """Run `count` separate gunicorn processes of `workers` workers each; yield their ports."""
    ports = [free_port() for _ in range(count)]
    processes = [
        subprocess.Popen(
            [str(Path(sys.executable).parent / "gunicorn"), "techparts.wsgi"]
            + ["--bind", f"127.0.0.1:{port}", "--workers", str(workers)],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for port in ports
    ]
    try:
        for port, process in zip(ports, processes, strict=True):
            wait_until_up(f"http://127.0.0.1:{port}/healthz", process)
        yield ports
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(timeout=30)


@contextmanager
def redis_server(cwd: Path | None = None) -> Iterator[str]:
    """Run a throwaway redis-server on a free port (no persistence) and yield its URL."""
    port = free_port()
    redis = subprocess.Popen(
        ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", ""],
        cwd=cwd,
        stdout=subprocess.DEVNULL,
    )
    try:
        wait_until_listening(port, redis)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        redis.terminate()
        redis.wait(timeout=30)


def database_url(settings_dict: dict) -> str:
    """Return the URL of the test database, for app processes started by a test."""
    db = settings_dict
    return f"postgres://{db['USER']}:{db['PASSWORD'] or ''}@{db['HOST']}:{db['PORT']}/{db['NAME']}"
