# coord_lib.sh - helpers for the coordinator integration tests (sourced after
# lib.sh, whose EXIT trap kills every process started here).
COORD_BIN=$BUILD/coordinator/clus-coordinator
[ -x "$COORD_BIN" ] || { echo "FAIL: $COORD_BIN not built"; exit 1; }
NODES=0

# start_agents N: agents n1..nN (URL_n1.., PID_n1..).
start_agents() {
    local i
    for i in $(seq 1 "$1"); do start_agent "n$i"; done
    NODES=$1
}

# cluster_header LEASE RENEW MARGIN: the top of a definition naming n1..nN;
# resources follow.
cluster_header() {
    local i url
    printf 'lease_ms: %s\nrenew_ms: %s\nlease_margin_ms: %s\nnodes:\n' "$1" "$2" "$3"
    for i in $(seq 1 "$NODES"); do
        url=URL_n$i
        printf '  - name: n%s\n    agent: %s\n' "$i" "${!url}"
    done
    printf 'resources:\n'
}

cctl() { "$CLUSCTL" --coordinator "$COORD_URL" -o json "$@"; }

# start_coordinator CONFIG: on COORD_PORT (kept across restarts), state in
# $WORK/co; waits until it answers.
start_coordinator() {
    COORD_PORT=${COORD_PORT:-$(free_port)}
    COORD_URL="tcp://127.0.0.1:$COORD_PORT"
    "$COORD_BIN" --config "$1" --state-dir "$WORK/co" --listen "$COORD_URL" \
        --log-level "${COORD_LOG_LEVEL:-info}" >>"$WORK/co.log" 2>&1 &
    PID_co=$!
    PIDS+=("$PID_co")
    local i
    for i in $(seq 1 100); do
        "$CLUSCTL" --coordinator "$COORD_URL" --timeout 500 status >/dev/null 2>&1 && return 0
        sleep 0.05
    done
    echo "FAIL: the coordinator did not start"; cat "$WORK/co.log"; exit 1
}

kill_coordinator() {
    kill -9 "$PID_co" 2>/dev/null
    wait "$PID_co" 2>/dev/null
}

res_json() { cctl status | jq -c ".resources[] | select(.name == \"$1\")"; }
res_field() { res_json "$1" | jq -r ".$2"; }
res_has() { res_json "$1" | jq -e "$2" >/dev/null; } # NAME JQ-FILTER

# settled NAME OWNER STATE: the coordinator shows it there, nothing under way.
settled() {
    [ "$(res_json "$1" | jq -r '"\(.owner) \(.state) \(.operation)"')" = "$2 $3 " ]
}

node_state() { cctl status | jq -r ".nodes[] | select(.name == \"$1\") | .state"; }

# agent_state NODE NAME: the state the agent itself reports ("" if unknown).
agent_state() {
    local url=URL_$1
    ctl "${!url}" --timeout 1000 state "$2" 2>/dev/null | jq -r '.state // ""'
}

# For wait_for (its arguments are expanded once, so compare inside):
node_is() { [ "$(node_state "$1")" = "$2" ]; }        # NODE STATE
agent_is() { [ "$(agent_state "$1" "$2")" = "$3" ]; } # NODE NAME STATE

now_ms() { date +%s%3N; }

# start_safety_poll: polls every agent in parallel, over and over, and records
# any resource that two agents report Online in the same round.
start_safety_poll() {
    (
        local i url
        while :; do
            for i in $(seq 1 "$NODES"); do
                url=URL_n$i
                ("$CLUSCTL" --agent "${!url}" --timeout 400 -o json resources 2>/dev/null |
                    jq -r '.resources[]? | select(.state == "Online") | .resource' \
                        >"$WORK/poll.n$i") &
            done
            wait
            dups=$(cat "$WORK"/poll.n* | sort | uniq -d)
            [ -n "$dups" ] && echo "$(date +%T.%N) online twice: $dups" >>"$WORK/violations"
            echo . >>"$WORK/polls"
            sleep 0.05
        done
    ) &
    PIDS+=($!)
    disown $! # no job-control noise when the EXIT trap kills it
}

check_safety() {
    local polls
    polls=$(wc -l <"$WORK/polls" 2>/dev/null || echo 0)
    if [ -s "$WORK/violations" ]; then
        fail "a resource was Online on two agents: $(head -3 "$WORK/violations")"
    elif [ "$polls" -lt 5 ]; then
        fail "the safety poll did not run ($polls rounds)"
    else
        pass "no resource was ever Online on two agents ($polls poll rounds of every agent)"
    fi
}

# On failure, show the coordinator's log (KEEP_WORK=1 keeps everything).
coord_finish() {
    if [ "$FAILS" != 0 ]; then
        echo "--- coordinator log (last 60 lines)"
        tail -60 "$WORK/co.log"
    fi
    finish
}
