#!/usr/bin/env bash
# scripts/mutants.sh (make mutants) — do the channel tests catch protocol bugs?
#
# Each tests/mutants/NAME.patch is one single-point mutant: a unified diff
# (applied with `patch -p1`) whose first lines are comments:
#   # what: one line saying what the bug is
#   # tests: an extended regex on test names (test_weights_lag ...)
#   # env: VAR=value ...          (optional: environment for those tests)
# For every mutant: a fresh copy of the tree (the files git knows about, as
# they are in the working tree, copied with tar; no git worktree), the patch,
# a build of the named tests (perturbation build: -DDSHQ_PERTURB_BUILD, see
# src/transport/perturb.h), then MUTANT_RUNS runs of those tests, each run
# bounded by MUTANT_TIMEOUT seconds per test.  A run catches the mutant when
# any named test fails or overruns.  A mutant that does not apply or does not
# build is an ERROR, never "caught".  Before the mutants, the same tests run
# MUTANT_BASELINE_RUNS times unmutated: they must all pass (else a catch
# would prove nothing).
#
# Output: a table "mutant | what | caught k/N"; exit 0 when every mutant is
# caught at least MUTANT_MIN_PERCENT (default 90) of its runs and the
# baseline passes.
#
#   MUTANT_RUNS=10 MUTANT_TIMEOUT=120 MUTANT_FILTER=regex (on mutant names)
#   MUTANT_CFLAGS="-DDSHQ_PERTURB_BUILD" MUTANT_BASELINE_RUNS=2 MUTANT_JOBS=2
#   MUTANT_REPORT=file (also write the table there)
set -u
root=$(cd "$(dirname "$0")/.." && pwd)
runs=${MUTANT_RUNS:-10}
per_test=${MUTANT_TIMEOUT:-120}
filter=${MUTANT_FILTER:-.}
cflags=${MUTANT_CFLAGS:--DDSHQ_PERTURB_BUILD}
base_runs=${MUTANT_BASELINE_RUNS:-2}
jobs=${MUTANT_JOBS:-2}
min_pct=${MUTANT_MIN_PERCENT:-90}
report=${MUTANT_REPORT:-}

work=$(mktemp -d "${TMPDIR:-/tmp}/dshq-mutants.XXXXXX")
trap 'rm -rf "$work"' EXIT

field() { sed -n "s/^# $1: //p" "$2" | head -n 1; }

# The tree as it is now: tracked and untracked-but-not-ignored files.
copy_tree() {
    mkdir -p "$1"
    if git -C "$root" rev-parse --git-dir >/dev/null 2>&1; then
        (cd "$root" && git ls-files -co --exclude-standard -z | tar --null -cf - -T -) | tar -xf - -C "$1"
    else
        (cd "$root" && tar --exclude=./build -cf - .) | tar -xf - -C "$1"
    fi
}

tests_for() { # regex -> test names present in tests/
    local re=$1 t
    for t in "$root"/tests/test_*.c; do
        t=$(basename "$t" .c)
        echo "$t" | grep -qE "$re" && echo "$t"
    done
}

build_tests() { # dir tests...
    local dir=$1; shift
    local targets=() t
    for t in "$@"; do targets+=("build/tests/$t"); done
    make -C "$dir" -j"$jobs" EXTRA_CFLAGS="$cflags" "${targets[@]}" >"$dir/build.log" 2>&1
}

# One run: 0 when every test passed, 1 when one failed or overran.
run_once() { # dir env tests...
    local dir=$1 envs=$2; shift 2
    local t rc
    for t in "$@"; do
        rm -f "$dir/test.pid"
        (cd "$dir" && timeout -k 5 "$per_test" bash -c 'echo $$ >test.pid; exec env "$@"' \
            run $envs "build/tests/$t" >"$dir/run.log" 2>&1)
        rc=$?
        # A test that a mutant made fail may leave its region behind: the
        # tests name regions dshq-test-WHAT-PID after their own pid.
        if [ -s "$dir/test.pid" ]; then
            rm -f /dev/shm/dshq-test-*-"$(cat "$dir/test.pid")"
        fi
        if [ $rc -ne 0 ]; then
            echo "$t exit $rc: $(grep -m1 -E 'CHECK failed|ERROR|SUMMARY' "$dir/run.log" | cut -c1-150)" >>"$dir/catches.log"
            return 1
        fi
    done
    return 0
}

mutants=()
for m in "$root"/tests/mutants/*.patch; do
    [ -e "$m" ] || continue
    basename "$m" .patch | grep -qE "$filter" && mutants+=("$m")
done
[ ${#mutants[@]} -gt 0 ] || { echo "no mutants match '$filter'"; exit 1; }

echo "mutants: ${#mutants[@]}, $runs runs each, tests bounded to ${per_test}s per run, CFLAGS $cflags"
copy_tree "$work/base"

# Baseline: the union of the named tests, unmutated.
all_tests=()
for m in "${mutants[@]}"; do
    while read -r t; do all_tests+=("$t"); done < <(tests_for "$(field tests "$m")")
done
mapfile -t all_tests < <(printf '%s\n' "${all_tests[@]}" | sort -u)
if ! build_tests "$work/base" "${all_tests[@]}"; then
    echo "ERROR: the unmutated tree does not build"; tail -n 20 "$work/base/build.log"; exit 1
fi
base_fail=0
for ((i = 0; i < base_runs; i++)); do
    for m in "${mutants[@]}"; do
        mapfile -t ts < <(tests_for "$(field tests "$m")")
        run_once "$work/base" "$(field env "$m")" "${ts[@]}" || base_fail=$((base_fail + 1))
    done
done

rows=()
status=0
for m in "${mutants[@]}"; do
    name=$(basename "$m" .patch)
    what=$(field what "$m")
    re=$(field tests "$m")
    envs=$(field env "$m")
    mapfile -t ts < <(tests_for "$re")
    dir="$work/m-$name"
    result=""
    if [ -z "$re" ] || [ ${#ts[@]} -eq 0 ]; then
        result="ERROR: no tests match '$re'"
    else
        cp -a "$work/base" "$dir"
        if ! (cd "$dir" && patch -p1 --batch --forward --silent <"$m" >"$dir/patch.log" 2>&1); then
            result="ERROR: does not apply"
        elif ! build_tests "$dir" "${ts[@]}"; then
            result="ERROR: does not build"
        else
            k=0
            for ((i = 0; i < runs; i++)); do
                run_once "$dir" "$envs" "${ts[@]}" || k=$((k + 1))
            done
            result="caught $k/$runs"
            [ $((k * 100)) -ge $((min_pct * runs)) ] || status=1
            [ -s "$dir/catches.log" ] && echo "  $name: $(head -n 1 "$dir/catches.log")"
        fi
        rm -rf "$dir"
    fi
    case "$result" in ERROR*) status=1 ;; esac
    rows+=("$(printf '| %-32s | %s | %s |' "$name" "$what" "$result")")
    echo "${rows[-1]}"
done
[ $base_fail -eq 0 ] || status=1

{
    echo
    echo "| mutant | what | result |"
    echo "|---|---|---|"
    printf '%s\n' "${rows[@]}"
    echo "| (none: baseline) | the same tests unmutated, $base_runs runs | failed $base_fail of $((base_runs * ${#mutants[@]})) test-set runs |"
} | tee ${report:+"$report"}
exit $status
