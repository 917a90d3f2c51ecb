#!/usr/bin/env bash
# Run a command against PostgreSQL: the one in DATABASE_URL if set, otherwise a throwaway
# cluster started here from the machine's server binaries (installed through apt when missing),
# on a free port with its socket in its own folder, stopped and removed on exit, pass or fail.
set -euo pipefail

if [[ -n "${DATABASE_URL:-}" ]]; then
    exec "$@"
fi

find_bin() {
    ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1
}

PGBIN="$(find_bin)"
if [[ -z "$PGBIN" ]]; then
    if [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null; then
        echo "with-postgres: installing the PostgreSQL server (apt-get install postgresql)" >&2
        apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
        PGBIN="$(find_bin)"
    fi
fi
if [[ -z "$PGBIN" ]]; then
    echo "with-postgres: no PostgreSQL server binaries found and cannot install them;" \
         "install postgresql or set DATABASE_URL" >&2
    exit 2
fi

WORK="$(mktemp -d /tmp/techparts-pg.XXXXXX)"
# The server refuses to run as root: run it as the 'postgres' system user then.
if [[ $(id -u) -eq 0 ]]; then
    id postgres >/dev/null 2>&1 || useradd --system --no-create-home postgres
    chown postgres "$WORK"
    as_pg() { runuser -u postgres -- "$@"; }
else
    as_pg() { "$@"; }
fi

PORT="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"

cleanup() {
    as_pg "$PGBIN/pg_ctl" -D "$WORK/data" -m immediate stop >/dev/null 2>&1 || true
    rm -rf "$WORK"
}
trap cleanup EXIT INT TERM

as_pg "$PGBIN/initdb" -D "$WORK/data" -U postgres --auth=trust -E UTF8 --no-locale >/dev/null
as_pg "$PGBIN/pg_ctl" -D "$WORK/data" -l "$WORK/server.log" -w -t 60 start -o \
    "-p $PORT -k $WORK -c listen_addresses=127.0.0.1 -c max_connections=200 \
     -c fsync=off -c synchronous_commit=off -c full_page_writes=off" >/dev/null \
    || { cat "$WORK/server.log" >&2; exit 1; }

as_pg "$PGBIN/createdb" -h 127.0.0.1 -p "$PORT" -U postgres techparts

echo "with-postgres: PostgreSQL $("$PGBIN/postgres" --version | awk '{print $3}') on 127.0.0.1:$PORT" >&2
export DATABASE_URL="postgres://postgres@127.0.0.1:$PORT/techparts"
set +e
"$@"
status=$?
set -e
exit $status
