#!/usr/bin/env bash
# Install the OS programs `make bench` drives when they are missing and we can: wrk (HTTP load
# with Lua scripts for headers and bodies) and redis-server (the production rate-limit store).
# Without them the benchmark cannot run: it stops with the reason instead of measuring less.
set -euo pipefail
missing=()
command -v wrk >/dev/null 2>&1 || missing+=(wrk)
command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
((${#missing[@]})) || exit 0
if [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null; then
    echo "ensure-bench-tools: installing ${missing[*]} (apt-get)" >&2
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
else
    echo "ensure-bench-tools: ${missing[*]} missing and cannot be installed here" >&2
    exit 2
fi
