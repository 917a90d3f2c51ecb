"""Extra PostgreSQL servers for tests: copies of the suite's throwaway cluster.

A copy is a `pg_basebackup` of the whole cluster, so it holds the test database, migrated and
with whatever the test committed, under the same name; it runs on its own port and socket
folder and is removed afterwards, pass or fail. A copy can be a streaming standby of the
suite's server (read replicas) or a server of its own that a test may stop and restart
without disturbing the rest of the suite.
"""

import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from tests.servers import free_port

PG_BIN = Path("/usr/lib/postgresql/15/bin")
HAVE_PG_BINARIES = (PG_BIN / "pg_basebackup").exists() and (PG_BIN / "pg_ctl").exists()


def as_postgres(*command: str) -> list[str]:
    """The server refuses to run as root: run its tools as the 'postgres' user then."""
    return ["runuser", "-u", "postgres", "--", *command] if os.geteuid() == 0 else list(command)


@dataclass
class Cluster:
    port: int
    data: Path
    work: Path
    options: str

    def pg_ctl(self, *args: str, timeout: float = 120) -> None:
        """Run `pg_ctl <args>` on this cluster (waiting for it), e.g. ("restart", "-m", "immediate")."""
        subprocess.run(
            as_postgres(
                str(PG_BIN / "pg_ctl"),
                *("-D", str(self.data), "-l", str(self.work / "log"), "-w", "-t", "60"),
                *args,
                *(("-o", self.options) if args[0] in ("start", "restart") else ()),
            ),
            check=True,
            capture_output=True,
            timeout=timeout,
        )


@contextmanager
def cluster_copy(
    settings_dict: dict, *, standby: bool = False, server_options: str = ""
) -> Iterator[Cluster]:
    """Copy the cluster behind `settings_dict`, start the copy; yield it; remove it after.

    `server_options`: more `-c name=value` for the copy's server.
    """
    db = settings_dict
    work = Path(tempfile.mkdtemp(prefix="techparts-cluster-"))
    if os.geteuid() == 0:
        shutil.chown(work, "postgres")
    cluster = Cluster(
        port=(port := free_port()),
        data=work / "data",
        work=work,
        options=f"-p {port} -k {work} -c listen_addresses=127.0.0.1"
        + (" -c hot_standby=on" if standby else "")
        + (f" {server_options}" if server_options else ""),
    )
    try:
        subprocess.run(
            as_postgres(
                str(PG_BIN / "pg_basebackup"),
                *("-h", db["HOST"], "-p", str(db["PORT"]), "-U", db["USER"]),
                *("-D", str(cluster.data), "-X", "stream", "--checkpoint=fast"),
                # standby.signal and the primary's conninfo
                *(("--write-recovery-conf",) if standby else ()),
            ),
            check=True,
            capture_output=True,
            timeout=120,
        )
        cluster.pg_ctl("start")
        yield cluster
    finally:
        subprocess.run(
            as_postgres(str(PG_BIN / "pg_ctl"), "-D", str(cluster.data), "-m", "immediate", "stop"),
            capture_output=True,
            timeout=60,
        )
        shutil.rmtree(work, ignore_errors=True)
