#!/usr/bin/env bash
# Runs every test program in the given folder and prints one line per test and
# a final summary "N passed, N failed, N skipped".  A test exits 0 (pass),
# 77 (skip) or anything else (fail); its output is shown only when it fails.
#
# Nothing a test makes outlives it, whatever way it ends:
#  - each test runs in its own process group; when it ends (pass, fail,
#    crash or timeout) the runner kills what is left of that group and every
#    process that still carries the test's DSHQ_TEST_TAG in its environment;
#  - /dev/shm is listed before each test; entries that appeared during the
#    test and carry its tag (tests/check.h test_region_name) or end in
#    "-PID" of the test are removed afterwards.  Entries that existed before,
#    or that another run could own, are never touched.  Both are reported.
# A part of a test that did not run is reported with check_skip_part()
# (tests/check.h): the line reads "PASS (N parts skipped: ...)" and the
# summary lists every skipped part.
#
# TEST_TIMEOUT (seconds, default 300) bounds each test; TEST_FILTER is a grep
# pattern on test names.  A missing or empty folder, or a filter that selects
# nothing, is a failure: a run that ran nothing must not read as a pass.
set -u
dir=${1:?usage: tests/run.sh BUILD/tests}
timeout_s=${TEST_TIMEOUT:-300}
filter=${TEST_FILTER:-.}
pass=0 fail=0 skip=0 idx=0 failed=() skipped_parts=() cleaned=()

if [ ! -d "$dir" ]; then
    echo "run.sh: no test folder $dir (build the tests first: make tests)" >&2
    exit 2
fi
tests=()
for t in "$dir"/test_*; do
    [ -f "$t" ] && [ -x "$t" ] || continue
    case "$t" in *.d|*.o) continue ;; esac
    basename "$t" | grep -qE "$filter" || continue
    tests+=("$t")
done
if [ ${#tests[@]} -eq 0 ]; then
    echo "run.sh: no test program in $dir matches TEST_FILTER='$filter'" >&2
    echo "0 passed, 0 failed, 0 skipped"
    exit 2
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/dshq-run.XXXXXX")
trap 'rm -rf "$work"' EXIT
# Interrupted (Ctrl-C, kill): the running test sits in its own process group,
# out of reach of the terminal's signal, so take it (and its watchdog) down.
pid='' watchdog=''
on_signal() {
    [ -n "$pid" ] && kill -KILL -- -"$pid" 2>/dev/null
    [ -n "$watchdog" ] && kill -KILL -- -"$watchdog" 2>/dev/null
    echo "run.sh: interrupted" >&2
    exit 130
}
trap on_signal INT TERM HUP
log=$work/log skips=$work/skips before=$work/before after=$work/after

# Pids of processes (other than us) whose environment holds DSHQ_TEST_TAG=$1.
tagged_pids() {
    grep -lzx "DSHQ_TEST_TAG=$1" /proc/[0-9]*/environ 2>/dev/null |
        sed -n 's|^/proc/\([0-9]*\)/environ$|\1|p' | grep -vx "$$"
}

# Live (not zombie) members of process group $1, read from /proc (no procps).
group_members() {
    local f line rest state ppid pgrp n=0
    for f in /proc/[0-9]*/stat; do
        { read -r line <"$f"; } 2>/dev/null || continue
        rest=${line##*) }
        read -r state ppid pgrp _ <<<"$rest"
        [ "$pgrp" = "$1" ] && [ "$state" != Z ] && [ "$state" != X ] && n=$((n + 1))
    done
    echo "$n"
}

set -m # every background job gets its own process group (pgid = its pid)
for t in "${tests[@]}"; do
    name=$(basename "$t")
    idx=$((idx + 1))
    tag="r$$x$idx"
    : >"$skips"
    rm -f "$work/timedout"
    ls -A /dev/shm 2>/dev/null | sort >"$before"
    start=$(date +%s.%N)
    DSHQ_TEST_TAG=$tag DSHQ_TEST_SKIPS=$skips "$t" >"$log" 2>&1 </dev/null &
    pid=$!
    ( exec >/dev/null 2>&1; sleep "$timeout_s"; : >"$work/timedout"
      kill -TERM -- -"$pid"; sleep 10; kill -KILL -- -"$pid" ) &
    watchdog=$!
    wait "$pid" 2>/dev/null
    rc=$?
    kill -KILL -- -"$watchdog" 2>/dev/null
    wait "$watchdog" 2>/dev/null
    secs=$(awk -v s="$start" -v e="$(date +%s.%N)" 'BEGIN { printf "%.1f", e - s }')

    # Processes left behind: the rest of the test's group, then anything
    # else (a setsid()ed grandchild) still carrying the tag.
    notes=()
    left=$(group_members "$pid")
    if [ "$left" -gt 0 ]; then
        kill -KILL -- -"$pid" 2>/dev/null
        notes+=("killed $left leftover process(es) of its group")
    fi
    tagged=$(tagged_pids "$tag")
    if [ -n "$tagged" ]; then
        # shellcheck disable=SC2086
        kill -KILL $tagged 2>/dev/null
        notes+=("killed tagged process(es) $(echo $tagged)")
    fi
    # Regions left behind: new since the test started, and the test's own.
    ls -A /dev/shm 2>/dev/null | sort >"$after"
    while IFS= read -r e; do
        case "$e" in
            *"$tag"*|*-"$pid") ;;
            *) continue ;;
        esac
        if rm -f -- "/dev/shm/$e" 2>/dev/null; then
            notes+=("removed leftover /dev/shm/$e")
            cleaned+=("$name: /dev/shm/$e")
        fi
    done < <(comm -13 "$before" "$after")

    parts=()
    while IFS= read -r line; do
        [ -n "$line" ] && parts+=("$line")
    done <"$skips"

    if [ -e "$work/timedout" ]; then
        fail=$((fail + 1)); failed+=("$name")
        printf 'FAIL %-40s %6ss  (timed out after %ss)\n' "$name" "$secs" "$timeout_s"
        sed 's/^/    | /' "$log" | tail -n 40
    elif [ $rc -eq 0 ]; then
        pass=$((pass + 1))
        if [ ${#parts[@]} -gt 0 ]; then
            joined=$(printf '%s; ' "${parts[@]}")
            printf 'PASS %-40s %6ss  (%d part(s) skipped: %s)\n' "$name" "$secs" \
                "${#parts[@]}" "${joined%; }"
        else
            printf 'PASS %-40s %6ss\n' "$name" "$secs"
        fi
    elif [ $rc -eq 77 ]; then
        skip=$((skip + 1)); printf 'SKIP %-40s %6ss  %s\n' "$name" "$secs" "$(tail -n 1 "$log")"
    else
        fail=$((fail + 1)); failed+=("$name")
        if [ $rc -gt 128 ]; then
            printf 'FAIL %-40s %6ss  (killed by signal %d)\n' "$name" "$secs" $((rc - 128))
        else
            printf 'FAIL %-40s %6ss  (exit %d)\n' "$name" "$secs" "$rc"
        fi
        sed 's/^/    | /' "$log" | tail -n 40
    fi
    for p in "${parts[@]}"; do skipped_parts+=("$name: $p"); done
    for n in "${notes[@]}"; do echo "    cleanup: $n"; done
done
set +m

echo "$pass passed, $fail failed, $skip skipped, ${#skipped_parts[@]} part(s) skipped"
if [ ${#skipped_parts[@]} -gt 0 ]; then
    echo "skipped parts:"
    printf '  %s\n' "${skipped_parts[@]}"
fi
if [ ${#cleaned[@]} -gt 0 ]; then
    echo "left behind by tests (removed): ${#cleaned[@]}"
    printf '  %s\n' "${cleaned[@]}"
fi
[ $fail -eq 0 ] || { echo "failed: ${failed[*]}"; exit 1; }
