#!/usr/bin/env bash
# Install the OS programs the test suite drives when they are missing and we can:
# Debian's chromium (browser tests; Playwright never downloads its own) and redis-server
# (the shared rate-limit test). Tests that need a missing one are skipped with the reason.
set -euo pipefail
missing=()
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
((${#missing[@]})) || exit 0
if [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null; then
    echo "ensure-test-tools: installing ${missing[*]} (apt-get)" >&2
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
else
    echo "ensure-test-tools: ${missing[*]} missing and cannot be installed here;" \
         "the tests that need them will be skipped" >&2
fi
