#!/usr/bin/env bash
# Runs every test program in the given folder and prints one line per test and
# a final summary "N passed, N failed, N skipped".  A test exits 0 (pass),
# 77 (skip) or anything else (fail); its output is shown only when it fails.
# TEST_TIMEOUT (seconds, default 600) bounds each test; TEST_FILTER is a grep
# pattern on test names.
set -u
dir=${1:?usage: tests/run.sh BUILD/tests}
timeout_s=${TEST_TIMEOUT:-600}
filter=${TEST_FILTER:-.}
pass=0 fail=0 skip=0 failed=()
log=$(mktemp)
trap 'rm -f "$log"' EXIT
for t in "$dir"/test_*; do
    [ -x "$t" ] || continue
    case "$t" in *.d|*.o) continue ;; esac
    name=$(basename "$t")
    echo "$name" | grep -qE "$filter" || continue
    start=$(date +%s.%N)
    timeout -k 10 "$timeout_s" "$t" >"$log" 2>&1
    rc=$?
    secs=$(awk -v s="$start" -v e="$(date +%s.%N)" 'BEGIN { printf "%.1f", e - s }')
    if [ $rc -eq 0 ]; then
        pass=$((pass + 1)); printf 'PASS %-40s %6ss\n' "$name" "$secs"
    elif [ $rc -eq 77 ]; then
        skip=$((skip + 1)); printf 'SKIP %-40s %6ss  %s\n' "$name" "$secs" "$(tail -n 1 "$log")"
    else
        fail=$((fail + 1)); failed+=("$name")
        printf 'FAIL %-40s %6ss  (exit %d)\n' "$name" "$secs" "$rc"
        sed 's/^/    | /' "$log" | tail -n 40
    fi
done
echo "$pass passed, $fail failed, $skip skipped"
[ $fail -eq 0 ] || { echo "failed: ${failed[*]}"; exit 1; }
