#!/usr/bin/env bash
# The dashboard's browser tests drive the system Chromium (Debian's `chromium`
# package) through Playwright; Playwright's own browser download is never used.
# Installs it when missing and apt-get can (root); otherwise says so and the
# browser tests skip with that reason.
set -euo pipefail
if command -v chromium >/dev/null 2>&1 || [ -n "${COSTCURVE_CHROMIUM:-}" ]; then
    exit 0
fi
if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "ensure-chromium: installing Debian's chromium for the browser tests" >&2
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
else
    echo "ensure-chromium: chromium is not installed and cannot be installed here" \
        "(needs root and apt-get); the browser tests will skip" >&2
fi
