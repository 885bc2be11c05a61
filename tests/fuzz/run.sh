#!/usr/bin/env bash
# tests/fuzz/run.sh [TARGET...] - builds the libFuzzer targets (clang with
# ASan+UBSan, -DCLUS_FUZZ=ON) and runs each for FUZZ_SECONDS (default 30)
# from its corpus (tests/fuzz/corpus/<target without fuzz_>/: hand-made
# seed-*, inputs found earlier, and regression-* inputs that once crashed).
#
# Exit 0 when no target crashed, leaked, hung or ran out of memory; else 1,
# with the failing input saved under $FUZZ_OUT/<target>/ (crash-*, leak-*,
# timeout-*, oom-*): fix the bug, then keep the input as
# tests/fuzz/corpus/<target>/regression-<what> (docs/security.md).
#
#   FUZZ_SECONDS=30          time per target (the corpus is always replayed first)
#   FUZZ_BUILD_DIR=build-fuzz
#   FUZZ_OUT=$FUZZ_BUILD_DIR/fuzz-out   new inputs and failures (never the repo's corpus)
#   FUZZ_KEEP=1              do not start from a clean FUZZ_OUT
set -euo pipefail
cd "$(dirname "$0")/../.."

seconds=${FUZZ_SECONDS:-30}
build=${FUZZ_BUILD_DIR:-build-fuzz}
out=${FUZZ_OUT:-$build/fuzz-out}
jobs=$(nproc 2>/dev/null || echo 2)

command -v clang >/dev/null || { echo "fuzz: clang is not installed (scripts/setup.sh installs it)"; exit 1; }

if [ $# -gt 0 ]; then
    targets=("$@")
else
    targets=()
    for src in tests/fuzz/fuzz_*.c; do targets+=("$(basename "$src" .c)"); done
fi

echo "=== fuzz: build ${targets[*]} in $build"
cmake -S . -B "$build" -DCLUS_FUZZ=ON -DCMAKE_C_COMPILER=clang -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DCLUS_BENCH=OFF >/dev/null
cmake --build "$build" -j"$jobs" --target "${targets[@]}" >/dev/null

[ "${FUZZ_KEEP:-0}" = 1 ] || rm -rf "$out"
# The in-process daemons' state directories: on tmpfs when there is one, gone at the end.
FUZZ_STATE_DIR=$(mktemp -d "$( [ -d /dev/shm ] && echo /dev/shm || echo /tmp )/clus-fuzz.XXXXXX")
export FUZZ_STATE_DIR
trap 'rm -rf "$FUZZ_STATE_DIR"' EXIT
# Leaks are checked per input; halt_on_error keeps UBSan findings fatal.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:allocator_may_return_null=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
# Leaks inside Debian's libraries (libfyaml's diagnostics), not clus's.
export LSAN_OPTIONS=${LSAN_OPTIONS:-suppressions=$PWD/tests/lsan.supp}
failed=()
for target in "${targets[@]}"; do
    name=${target#fuzz_}
    seeds=tests/fuzz/corpus/$name
    work=$out/$name
    mkdir -p "$work/new" "$seeds"
    echo "=== fuzz: $target, ${seconds}s, corpus $seeds ($(ls "$seeds" | wc -l) inputs)"
    rc=0
    # New inputs go to the first directory (scratch); the corpus is only read.
    "$build/tests/fuzz/$target" -max_total_time="$seconds" -timeout=25 -rss_limit_mb=2048 \
        -print_final_stats=1 -artifact_prefix="$work/" "$work/new" "$seeds" \
        >"$work/log" 2>&1 || rc=$?
    grep -E "^stat::number_of_executed_units|^stat::peak_rss_mb|cov: .*ft:" "$work/log" | tail -3 |
        sed 's/^/    /'
    if [ "$rc" != 0 ]; then
        echo "FUZZ FAILURE: $target (exit $rc); input(s): $(ls "$work"/crash-* "$work"/leak-* \
            "$work"/timeout-* "$work"/oom-* 2>/dev/null | tr '\n' ' ')"
        grep -E -A40 "ERROR: |runtime error|==[0-9]+==|fuzz: " "$work/log" | head -60
        failed+=("$target")
    fi
done
if [ ${#failed[@]} -gt 0 ]; then
    echo "fuzz: FAILED: ${failed[*]}"
    exit 1
fi
echo "fuzz: ${#targets[@]} targets, ${seconds}s each: no crash"
