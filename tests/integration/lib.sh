# lib.sh - shared helpers for the integration tests (sourced, not run).
# Real processes on 127.0.0.1 ports; everything a test starts is killed by
# the EXIT trap, whatever happened.
set -u

BUILD=${CLUS_BUILD_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)/build}
AGENT_BIN=$BUILD/agent/clus-agent
CLUSCTL=$BUILD/client/clusctl
TEST_NAME=$(basename "$0" .sh)
WORK=$(mktemp -d "/tmp/clus-${TEST_NAME}.XXXXXX")
PIDS=()
FAILS=0
PASSES=0

cleanup() {
    local pid
    for pid in "${PIDS[@]}"; do
        kill -CONT "$pid" 2>/dev/null
        kill -9 "$pid" 2>/dev/null
    done
    # Processes the `process` type started in their own sessions.
    pkill -9 -f "clus-test-marker-$$" 2>/dev/null
    if [ "${KEEP_WORK:-0}" = 1 ]; then echo "work dir kept: $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT

skip() { echo "SKIP: $*"; exit 77; }
need() { command -v "$1" >/dev/null 2>&1 || skip "$1 is not installed"; }
need jq
[ -x "$AGENT_BIN" ] || { echo "FAIL: $AGENT_BIN not built"; exit 1; }

# A TCP port free in every socket state, below the kernel's ephemeral range
# (where the TIME_WAIT sockets of earlier clients would make a bind fail now
# and then when tests run in parallel).
free_port() {
    local port low
    low=$(cut -f1 /proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || echo 32768)
    [ "$low" -gt 11000 ] 2>/dev/null || low=32768
    while :; do
        port=$((10000 + RANDOM % (low - 10000)))
        ss -Htan "sport = :$port" 2>/dev/null | grep -q . || { echo "$port"; return; }
    done
}

# start_agent NAME [extra args]: starts clus-agent with its own state dir,
# sets URL_<NAME>, PID_<NAME>, and waits until it answers.
start_agent() {
    local name=$1; shift
    local port; port=${PORT_OVERRIDE:-$(free_port)}
    local url="tcp://127.0.0.1:$port"
    mkdir -p "$WORK/$name"
    "$AGENT_BIN" --state-dir "$WORK/$name" --listen "$url" "$@" >>"$WORK/$name.log" 2>&1 &
    local pid=$!
    PIDS+=("$pid")
    printf -v "URL_$name" '%s' "$url"
    printf -v "PID_$name" '%s' "$pid"
    local i
    for i in $(seq 1 100); do
        "$CLUSCTL" --agent "$url" --timeout 500 resources >/dev/null 2>&1 && return 0
        sleep 0.05
    done
    echo "FAIL: agent $name did not start"; cat "$WORK/$name.log"; exit 1
}

# ctl URL ARGS...: clusctl -o json; prints the JSON; the exit code is clusctl's.
ctl() {
    local url=$1; shift
    "$CLUSCTL" --agent "$url" -o json "$@"
}

# A real pid (never 0 or 1: `kill 0` would hit the whole process group).
is_pid() { [[ "$1" =~ ^[0-9]+$ ]] && [ "$1" -gt 1 ]; }
kill_pid() { is_pid "$2" && kill "$1" "$2" 2>/dev/null; }

# Processes by command line, from this shell (a `bash -c` would match its
# own command line).
alive() { pgrep -f -- "$1" >/dev/null; }
gone() { ! pgrep -f -- "$1" >/dev/null; }

pass() { PASSES=$((PASSES + 1)); echo "ok - $*"; }
fail() { FAILS=$((FAILS + 1)); echo "not ok - $*"; }

# check DESCRIPTION COMMAND...: passes when the command exits 0.
check() {
    local what=$1; shift
    if "$@"; then pass "$what"; else fail "$what"; fi
}

# expect_json DESCRIPTION JSON JQ-FILTER: passes when the filter is true.
expect_json() {
    local what=$1 json=$2 filter=$3
    if echo "$json" | jq -e "$filter" >/dev/null 2>&1; then
        pass "$what"
    else
        fail "$what (wanted $filter, got: $(echo "$json" | head -c 600))"
    fi
}

# expect_rc DESCRIPTION WANTED COMMAND...: the command's exit code.
expect_rc() {
    local what=$1 want=$2; shift 2
    "$@" >/dev/null 2>&1
    local rc=$?
    if [ "$rc" = "$want" ]; then pass "$what"; else fail "$what (exit $rc, wanted $want)"; fi
}

# wait_for SECONDS COMMAND...: retries until the command succeeds.
wait_for() {
    local limit=$1; shift
    local deadline=$((SECONDS + limit))
    until "$@" >/dev/null 2>&1; do
        [ $SECONDS -ge $deadline ] && return 1
        sleep 0.05
    done
}

state_is() { # URL NAME STATE
    [ "$(ctl "$1" state "$2" | jq -r .state)" = "$3" ]
}

finish() {
    # Under ASan/UBSan every agent's log must be free of reports.
    if grep -l -E "ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:" "$WORK"/*.log 2>/dev/null; then
        fail "sanitizer reports in the agents' logs"
        grep -h -A30 -E "ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:" "$WORK"/*.log | head -80
    fi
    echo "$PASSES passed, $FAILS failed"
    [ "$FAILS" = 0 ]
    exit $?
}
