#!/usr/bin/env bash
# Installs what the browser build and its tests need (make web, make test-web)
# on Debian 12: Emscripten and node from Debian, Debian's chromium, and
# playwright-core from npm into tests/web/node_modules (pinned by
# tests/web/package-lock.json).  Nothing downloads a browser: the tests
# launch /usr/bin/chromium.  Idempotent; run as root (or with sudo).
set -euo pipefail
cd "$(dirname "$0")/.."
packages=(emscripten chromium)
missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# node and npm: any install that provides the commands (Debian's nodejs and
# npm packages, or a nodejs package that bundles npm).
command -v node >/dev/null || missing+=(nodejs)
command -v npm >/dev/null || missing+=(npm)
if [ ${#missing[@]} -ne 0 ]; then
    echo "install-web-deps: installing ${missing[*]}"
    SUDO=; [ "$(id -u)" -eq 0 ] || SUDO=sudo
    $SUDO apt-get update -q
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q "${missing[@]}"
else
    echo "install-web-deps: all present (${packages[*]})"
fi
if [ ! -d tests/web/node_modules/playwright-core ]; then
    echo "install-web-deps: playwright-core (npm ci in tests/web)"
    PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --prefix tests/web --no-audit --no-fund
fi
