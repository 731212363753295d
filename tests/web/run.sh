#!/usr/bin/env bash
# tests/web/run.sh — the browser build's tests (`make test-web` builds what
# they need first).  One line per test and "N passed, N failed" at the end.
#   1. the C tests that run with threads, compiled to wasm, under node: the
#      channels (weights, lanes, MPSC, mailbox), wait/notify, env
#      determinism and mirror, checkpoint round trip, whole runs;
#   2. env and MLP fingerprints: native build = wasm build, bit for bit;
#   3. checkpoints between `dshq` and the wasm host, both ways (node);
#   4. the page in headless chromium (playwright-core, Debian's chromium).
# Each bounded by a timeout; WEB_TEST_FILTER is a grep pattern on names.
set -u
build=${1:?usage: tests/web/run.sh BUILD WASM_TEST...}
shift
wasm=$build/wasm/tests
filter=${WEB_TEST_FILTER:-.}
node=(node --no-experimental-fetch)
pass=0 fail=0 failed=()
log=$(mktemp)
trap 'rm -f "$log"' EXIT
one() { # name timeout command...
    local name=$1 t=$2; shift 2
    echo "$name" | grep -qE "$filter" || return 0
    local start; start=$(date +%s.%N)
    timeout -k 10 "$t" "$@" >"$log" 2>&1
    local rc=$?
    local secs; secs=$(awk -v s="$start" -v e="$(date +%s.%N)" 'BEGIN { printf "%.1f", e - s }')
    if [ $rc -eq 0 ]; then
        pass=$((pass + 1)); printf 'PASS %-40s %6ss\n' "$name" "$secs"
    else
        fail=$((fail + 1)); failed+=("$name")
        printf 'FAIL %-40s %6ss  (exit %d)\n' "$name" "$secs" "$rc"
        sed 's/^/    | /' "$log" | tail -n 40
    fi
}

for n in "$@"; do
    one "wasm/$n" 300 "${node[@]}" "$wasm/$n.js"
done

env_same() {
    local a b
    a=$(DSHQ_RL_ISA=generic "$build/wasm/env_trace_native") || return 1
    b=$(node --no-experimental-fetch "$wasm/env_trace.js") || return 1
    echo "native: $a"; echo "wasm:   $b"
    [ "$a" = "$b" ]
}
export build wasm
export -f env_same
one "wasm/env_bit_identical_native" 120 bash -c env_same

one "web/checkpoint_both_ways" 240 "${node[@]}" tests/web/checkpoint_test.js "$build/dshq"

page() {
    if [ ! -x "${CHROMIUM:-/usr/bin/chromium}" ] || [ ! -d tests/web/node_modules/playwright-core ]; then
        echo "no chromium or playwright-core: run scripts/install-web-deps.sh (as root) first"
        return 1
    fi
    node tests/web/page_test.js "$build/dshq" "$build/web/page.png"
}
export -f page
one "web/page_chromium" 300 bash -c page

echo "$pass passed, $fail failed"
[ $fail -eq 0 ] || { echo "failed: ${failed[*]}"; exit 1; }
