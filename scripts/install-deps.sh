#!/usr/bin/env bash
# Installs what building and testing DrillSergeantHQ needs on Debian 12.
# Idempotent: packages already present are not fetched again, so a machine
# with everything installed needs no network.  Run as root (or with sudo).
set -euo pipefail
# openmpi-bin, libopenmpi-dev: `dshq train --mpi` and its test (tests/test_mpi_train.c)
# libmicrohttpd-dev: `dshq serve` (the browser page)
packages=(build-essential clang zlib1g-dev stress-ng openmpi-bin libopenmpi-dev libmicrohttpd-dev)
missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
    echo "install-deps: all present (${packages[*]})"
    exit 0
fi
echo "install-deps: installing ${missing[*]}"
SUDO=; [ "$(id -u)" -eq 0 ] || SUDO=sudo
$SUDO apt-get update -q
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q "${missing[@]}"
