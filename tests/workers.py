"""Real background workers for tests: `manage.py db_worker` and rq worker processes.

They run the app's own management commands against the suite's database, so a test using
them needs PostgreSQL (`@pytest.mark.postgres`: SQLite's test database is in memory and
private to the test process) and `@pytest.mark.django_db(transaction=True)` (a worker only
sees committed rows). Every helper stops what it started, also when the test fails; wait for
effects with `wait_until`, never with a fixed sleep.
"""

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from tempfile import TemporaryDirectory
from typing import TypeVar

from django.conf import settings
from django.db import connection
from django.test import override_settings

from tests.servers import ROOT, database_url, redis_server

__all__ = [
    "WorkerProcess",
    "db_workers",
    "redis_server",
    "rq_worker",
    "tasks_on_rq",
    "wait_until",
    "worker_env",
]

T = TypeVar("T")


def wait_until(
    condition: Callable[[], T], *, seconds: float = 30, interval: float = 0.05, what: str = ""
) -> T:
    """Poll `condition()` until it returns something truthy, and return that; fail at the deadline."""
    deadline = time.monotonic() + seconds
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise AssertionError(f"gave up after {seconds} s waiting for {what or condition}")
        time.sleep(interval)


def worker_env(**overrides: str) -> dict[str, str]:
    """Return the environment of an app process working on the suite's test database.

    The test process's own environment, its settings module and secrets (so both seal and
    unseal webhook secrets alike), the test database's URL, then `overrides`.
    """
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": os.environ.get(
            "DJANGO_SETTINGS_MODULE", "techparts.settings_test"
        ),
        "DATABASE_URL": database_url(connection.settings_dict),
        "SECRET_KEY": settings.SECRET_KEY,
        "PYTHONUNBUFFERED": "1",
    }
    if getattr(settings, "WEBHOOK_SECRET_KEYS", None):
        env["WEBHOOK_SECRET_KEYS"] = ",".join(settings.WEBHOOK_SECRET_KEYS)
    env.update(overrides)
    return env


@dataclass
class WorkerProcess:
    """One running worker: its process, its id and the file its output goes to."""

    process: subprocess.Popen
    worker_id: str
    log_path: Path

    @property
    def pid(self) -> int:
        return self.process.pid

    def log(self) -> str:
        """Return everything the worker printed so far."""
        return self.log_path.read_text(errors="replace")

    def wait_started(self, marker: str, seconds: float = 60) -> None:
        """Wait until the worker printed `marker`; fail early (with its log) if it exits."""

        def started() -> bool:
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"worker {self.worker_id} exited with {self.process.returncode}:\n{self.log()}"
                )
            return marker in self.log()

        wait_until(started, seconds=seconds, what=f"worker {self.worker_id} to start")

    def kill(self) -> None:
        """SIGKILL the worker, as a crash or the OOM killer would: no clean-up runs."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=30)

    def stop(self, seconds: float = 15) -> None:
        """Stop the worker gracefully (SIGTERM: it finishes its task), SIGKILL after `seconds`."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=seconds)
            except subprocess.TimeoutExpired:
                self.kill()


def _start(
    env: dict[str, str], args: Sequence[str], worker_id: str, log_dir: Path
) -> WorkerProcess:
    log_path = log_dir / f"{worker_id}.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "manage.py", *args],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    return WorkerProcess(process=process, worker_id=worker_id, log_path=log_path)


@contextmanager
def db_workers(
    env: dict[str, str], count: int = 1, *, args: Sequence[str] = ("--queue-name", "default")
) -> Iterator[list[WorkerProcess]]:
    """Run `count` `manage.py db_worker` processes with `env`; yield them once all have started.

    Each polls every 0.1 s and has already ensured the sweeper when yielded (our db_worker
    does that before its loop). `args` go to db_worker (default: the default queue).
    """
    with TemporaryDirectory(prefix="workers-") as log_dir, ExitStack() as stack:
        workers = []
        for n in range(count):
            worker_id = f"test-db-worker-{n}-{uuid.uuid4().hex[:8]}"
            command = ["db_worker", "--no-reload", "--no-startup-delay", "--interval", "0.1"]
            worker = _start(
                env, [*command, "--worker-id", worker_id, *args], worker_id, Path(log_dir)
            )
            stack.callback(worker.stop)
            workers.append(worker)
        try:
            for worker in workers:
                worker.wait_started(f"Starting worker worker_id={worker.worker_id}")
            yield workers
        except BaseException:
            _show_logs(workers)
            raise


@contextmanager
def rq_worker(
    env: dict[str, str], *, queues: Sequence[str] = ("default",)
) -> Iterator[WorkerProcess]:
    """Run `manage.py rqworker <queues> --with-scheduler --job-class django_tasks_rq.Job`.

    `env` needs TASKS_BACKEND=rq and REDIS_URL (see `redis_server`). Yields once it listens.
    """
    with TemporaryDirectory(prefix="rq-worker-") as log_dir:
        worker_id = f"test-rq-worker-{uuid.uuid4().hex[:8]}"
        args = ["rqworker", *queues, "--with-scheduler", "--job-class", "django_tasks_rq.Job"]
        args += ["--name", worker_id]
        worker = _start(env, args, worker_id, Path(log_dir))
        try:
            worker.wait_started("Listening on")
            yield worker
        except BaseException:
            _show_logs([worker])
            raise
        finally:
            worker.stop()


def _show_logs(workers: Sequence[WorkerProcess]) -> None:
    # Printed output is shown with a failing test's report.
    for worker in workers:
        print(f"--- output of {worker.worker_id} ---\n{worker.log()}")


@contextmanager
def tasks_on_rq(redis_url: str) -> Iterator[None]:
    """Send this test process's tasks to rq on `redis_url`, as TASKS_BACKEND=rq does.

    For enqueueing in-process (`enqueue_on_commit`, `ensure_sweeper`) to an `rq_worker`.
    """
    with override_settings(
        TASKS={"default": {"BACKEND": "django_tasks_rq.RQBackend", "QUEUES": ["default"]}},
        RQ_QUEUES={"default": {"URL": redis_url, "DEFAULT_TIMEOUT": 600}},
    ):
        yield
