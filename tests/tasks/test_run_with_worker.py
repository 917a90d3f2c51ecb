"""`make run`'s scripts/run-with-worker.sh: one worker beside runserver, stopped with it."""

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from techparts.tasks.models import SweepSchedule
from tests.servers import ROOT, free_port, wait_until_up
from tests.workers import wait_until, worker_env

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

# Start the script as a terminal would: SIGINT handled normally (a shell running a command in
# the background would have it ignored), in a session of its own standing in for the terminal.
AS_IN_A_TERMINAL = (
    "import os, signal, sys; signal.signal(signal.SIGINT, signal.SIG_DFL); "
    "os.execv(sys.argv[1], sys.argv[1:])"
)


def children(pid: int) -> list[tuple[int, str]]:
    """The (pid, command line) of the processes whose parent is `pid`."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue  # gone meanwhile
        parent = int(stat.rsplit(")", 1)[1].split()[1])
        if parent == pid:
            found.append((int(entry.name), command))
    return found


def group_gone(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return True
    return False


def test_ctrl_c_stops_the_server_and_its_one_worker():
    port = free_port()
    script = subprocess.Popen(
        [sys.executable, "-c", AS_IN_A_TERMINAL, str(ROOT / "scripts" / "run-with-worker.sh")]
        + [sys.executable, f"127.0.0.1:{port}"],
        cwd=ROOT,
        env=worker_env(DEBUG="true"),
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    workers = []
    try:
        wait_until_up(f"http://127.0.0.1:{port}/healthz", script)
        wait_until(SweepSchedule.objects.exists, what="the worker to ensure the sweeper")
        workers += [pid for pid, command in children(script.pid) if "db_worker" in command]
        assert len(workers) == 1
        [worker] = workers
        assert os.getpgid(worker) == worker  # its own group: the terminal's Ctrl-C misses it

        os.killpg(script.pid, signal.SIGINT)  # Ctrl-C reaches the terminal's process group

        script.wait(timeout=30)
        wait_until(lambda: group_gone(worker), what="the worker (and its reloader) to stop")
        wait_until(lambda: group_gone(script.pid), what="runserver to stop")
    finally:
        for group in [script.pid, *workers]:
            if not group_gone(group):
                os.killpg(group, signal.SIGKILL)
        script.wait(timeout=30)
