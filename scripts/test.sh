#!/usr/bin/env bash
# Installs what clus needs, builds it twice (plain, and with ASan+UBSan) and
# runs every test in both builds, a smoke run of the benchmarks, every fuzz
# target for a bounded time, then the unit tests and an agent under valgrind.
# This is the command README.md names and .ci/run calls.
#   scripts/test.sh            everything
#   scripts/test.sh --quick    the plain build only
set -euo pipefail
cd "$(dirname "$0")/.."

quick=0
[ "${1:-}" = "--quick" ] && quick=1

bash scripts/setup.sh
jobs=$(nproc 2>/dev/null || echo 2)

run_suite() { # BUILD_DIR CMAKE_ARGS...
    local dir=$1; shift
    echo "=== build $dir $*"
    cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=Debug "$@" >/dev/null
    cmake --build "$dir" -j"$jobs"
    echo "=== test $dir"
    (cd "$dir" && ctest --output-on-failure -j"$jobs" --timeout 600)
}

run_suite build-test
# The benchmarks, as a smoke run of seconds (the full run is bench/run).
CLUS_BENCH_BUILD=build-test CLUS_BENCH_NO_BUILD=1 bash bench/run --quick
if [ "$quick" = 0 ]; then
    # Sanitizers: ASan+UBSan in every process the tests start (the agents too).
    export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:exitcode=23
    export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
    export LSAN_OPTIONS=suppressions=$PWD/tests/lsan.supp   # Debian libraries' own leaks
    run_suite build-asan -DCLUS_SANITIZE=ON
    unset ASAN_OPTIONS UBSAN_OPTIONS LSAN_OPTIONS
    # Every decoder under libFuzzer (clang, ASan+UBSan), a bounded time each.
    echo "=== fuzz"
    FUZZ_SECONDS=${FUZZ_SECONDS:-30} bash tests/fuzz/run.sh
    echo "=== valgrind (unit tests)"
    failed=0
    for t in build-test/tests/test_*; do
        [ -x "$t" ] || continue
        rc=0
        valgrind -q --leak-check=full --show-leak-kinds=definite,indirect \
            --errors-for-leak-kinds=definite,indirect --error-exitcode=9 \
            --suppressions="$PWD/tests/valgrind.supp" "$t" \
            >/dev/null 2>"$t.valgrind" || rc=$?
        [ "$rc" = 0 ] || [ "$rc" = 77 ] && continue
        # valgrind 3.19 (Debian 12) does not know pidfd_open (syscall 434): the
        # calls fail under it, not under the kernel. Such a test is covered by
        # the ASan/LSan run above instead.
        if grep -q "unhandled amd64-linux syscall: 434" "$t.valgrind"; then
            echo "valgrind: $t not checked here: it needs pidfd_open, unknown to valgrind 3.19"
            continue
        fi
        echo "valgrind: $t failed ($rc)"; cat "$t.valgrind"; failed=1
    done
    [ "$failed" = 0 ] || exit 1
    bash tests/valgrind_agent.sh build-test || exit 1
    echo "valgrind: clean"
fi
