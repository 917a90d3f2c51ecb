#!/usr/bin/env bash
# `make run`: the development server and one background worker beside it, stopped together.
# Usage: scripts/run-with-worker.sh <python> <host:port>
#
# The worker is started here, not from Django: runserver's autoreloader re-executes the server
# on every code change and would start another worker each time. The worker runs in a session
# of its own (setsid), so Ctrl-C in the terminal reaches runserver only; when runserver ends,
# however it ends, the exit trap sends the worker's process group (the worker and, with
# --reload, its reloader) one SIGTERM: it finishes the task it is running, then exits.
set -euo pipefail
PY=${1:?usage: run-with-worker.sh <python> <host:port>}
ADDR=${2:?usage: run-with-worker.sh <python> <host:port>}

setsid "$PY" manage.py db_worker --queue-name default --reload &
worker=$!

stop_worker() {
    kill -TERM -- "-$worker" 2>/dev/null || true
    wait "$worker" 2>/dev/null || true
}
trap stop_worker EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

"$PY" manage.py runserver "$ADDR"
