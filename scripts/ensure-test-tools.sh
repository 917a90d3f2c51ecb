#!/usr/bin/env bash
# Make sure the OS Chromium that the browser tests drive is installed (never Playwright's own
# download). Installs Debian's `chromium` package when missing and possible.
set -euo pipefail
if command -v chromium >/dev/null 2>&1 || [[ -x "${CHROMIUM_PATH:-/usr/bin/chromium}" ]]; then
    exit 0
fi
if [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null; then
    echo "ensure-chromium: installing Debian's chromium package" >&2
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
else
    echo "ensure-chromium: chromium is missing and cannot be installed here;" \
         "browser tests will be skipped" >&2
fi
