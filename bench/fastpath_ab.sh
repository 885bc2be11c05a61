#!/usr/bin/env bash
# fastpath_ab.sh [ROUNDS] - the measurement behind the fast-path decision
# (docs/performance.md, "The fast path"): read-only calls answered through
# the loop (what clus-agent does) against the upper bound of a fast path
# (bench/fastpath_upper_bound.patch: state, status and is-alive --cached
# answered on the nng thread with a canned reply of the same size; no
# lookup, no lock, no snapshot - a real one can only be slower).
#
# Builds a patched copy of the source tree in a temporary directory (the
# working tree is not touched), starts two agents (A: as built, B: with the
# patch and CLUS_FAST_PROTO=1) and the bare echo server with the same reply
# size, and prints per call and client count: req/s, p50/p99 (µs) and the
# agent's CPU per request (µs, from /proc/PID/stat). A, B and echo run in
# turn, ROUNDS times (default 3): this machine is noisy.
set -uo pipefail
cd "$(dirname "$0")/.."
ROUNDS=${1:-3}
SECS=${SECS:-2}
SRC=$(mktemp -d /tmp/clus-fastpath.XXXXXX)
PIDS=()
cleanup() {
    local p
    for p in "${PIDS[@]}"; do [ "$p" -gt 1 ] && kill -9 "$p" 2>/dev/null && wait "$p" 2>/dev/null; done
    rm -rf "$SRC"
}
trap cleanup EXIT

tar --exclude='./build*' --exclude=./.git -cf - . | tar -xf - -C "$SRC"
(cd "$SRC" && patch -p1 -s <bench/fastpath_upper_bound.patch) || exit 1
cmake -S "$SRC" -B "$SRC/build" -DCMAKE_BUILD_TYPE=Release -DCLUS_TESTS=OFF >/dev/null &&
    cmake --build "$SRC/build" -j"$(nproc)" >/dev/null || { echo "build failed"; exit 1; }
B=$SRC/build

# start_agent ENV: an agent with resource d (dummy, Online); sets URL, APID.
start_agent() {
    URL=tcp://127.0.0.1:$((20000 + RANDOM % 12000))
    env "$1" "$B/agent/clus-agent" --state-dir "$SRC/st$RANDOM" --listen "$URL" \
        --log-level warn 2>/dev/null &
    APID=$!
    PIDS+=($!)
    for _ in $(seq 100); do "$B/client/clusctl" --agent "$URL" types >/dev/null 2>&1 && break; sleep 0.05; done
    "$B/client/clusctl" --agent "$URL" open d --type dummy >/dev/null
    "$B/client/clusctl" --agent "$URL" online d --wait >/dev/null
    "$B/client/clusctl" --agent "$URL" is-alive d >/dev/null # a cached result exists
}
start_agent X=1
UA=$URL PA=$APID
start_agent CLUS_FAST_PROTO=1
UB=$URL PB=$APID

field() { sed -n "s/.*$1=\([0-9]*\).*/\1/p"; }
ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
# run URL CALL N PID: "rps p50 p99 cpu_us_per_call" (PID 0: no CPU figure)
run() {
    local t0 out n cpu=0
    [ "$4" != 0 ] && t0=$(ticks "$4")
    out=$("$B/bench/bench-rpc-load" "$1" "$2" d "$3" "$SECS")
    n=$(echo "$out" | field calls)
    [ "$4" != 0 ] && cpu=$((($(ticks "$4") - t0) * 1000000 / $(getconf CLK_TCK) / (n > 0 ? n : 1)))
    echo "$(echo "$out" | field rps) $(echo "$out" | field p50_us) $(echo "$out" | field p99_us) $cpu"
}

echo "| round | call | clients | echo req/s, p50, p99 | loop req/s, p50, p99, CPU µs/call | fast (upper bound) req/s, p50, p99, CPU µs/call |"
echo "| --- | --- | --- | --- | --- | --- |"
for call in state is-alive-cached status; do
    reply=$("$B/bench/bench-rpc-load" "$UA" "$call" d 1 0.2 | field reply_bytes)
    EURL=tcp://127.0.0.1:$((20000 + RANDOM % 12000))
    "$B/bench/bench-echo-server" "$EURL" 128 "$reply" &
    EPID=$!
    PIDS+=($!)
    sleep 0.2
    for round in $(seq "$ROUNDS"); do
        for n in 1 64; do
            read -r er ep5 ep9 _ < <(run "$EURL" "$call" $n 0)
            read -r ar ap5 ap9 ac < <(run "$UA" "$call" $n "$PA")
            read -r br bp5 bp9 bc < <(run "$UB" "$call" $n "$PB")
            echo "| $round | $call ($reply B reply) | $n | $er, $ep5, $ep9 | $ar, $ap5, $ap9, $ac |" \
                "$br, $bp5, $bp9, $bc |"
        done
    done
    kill -9 "$EPID" 2>/dev/null
    wait "$EPID" 2>/dev/null
done
