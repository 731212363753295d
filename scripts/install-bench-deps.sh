#!/usr/bin/env bash
# Installs the peers the benchmarks under bench/ compare against (Debian 12),
# for `make bench-deps`.  Idempotent: packages already present are not fetched
# again.  Run as root (or with sudo).  Nothing in `make` or `make test` needs
# these; only `make bench` does.  Other benchmarks append their packages here.
set -euo pipefail
packages=(
    pkg-config
    # bench/rollout: ZeroMQ and nng (ipc push/pull), Concurrency Kit (ck_ring),
    # DPDK (rte_ring, used without EAL through rte_ring_init)
    libzmq3-dev libnng-dev libck-dev dpdk-dev
    # bench/learner: OpenBLAS sgemm beside the MLP kernels
    libopenblas-dev
)
missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
    echo "install-bench-deps: all present (${packages[*]})"
    exit 0
fi
echo "install-bench-deps: installing ${missing[*]}"
SUDO=; [ "$(id -u)" -eq 0 ] || SUDO=sudo
$SUDO apt-get update -q
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q "${missing[@]}"
