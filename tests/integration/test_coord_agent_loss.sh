#!/usr/bin/env bash
# Losing an agent: kill -9 of the owner's agent (its resources come online
# elsewhere, but only after the lease window), its return, then an agent
# frozen with SIGSTOP past its lease (its resources are re-homed; on SIGCONT
# it fences itself before it answers anything and never reports them Online
# again). A poll of every agent runs through the whole test and must never
# find a resource Online on two agents.
# The lease is 2000 ms so that "re-homed lease + margin after the last
# renewal that could reach the dead agent" (<= 2250 ms + a tick) stands far
# from "... after the last renewal tried" (the old rule, ~4000 ms).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/coord_lib.sh"

LEASE=2000
MARGIN=250
start_agents 3
cfg="$WORK/cluster.yaml"
{
    cluster_header $LEASE 250 $MARGIN
    cat <<'EOF'
  - name: web
    type: dummy
    preferred_owners: [n1, n2, n3]
    policy: { restart_delay_ms: 0, looks_alive_ms: 200 }
  - name: db
    type: dummy
    preferred_owners: [n2, n3, n1]
    policy: { restart_delay_ms: 0, looks_alive_ms: 200 }
EOF
} >"$cfg"
start_coordinator "$cfg"
start_safety_poll
check "web online on n1" wait_for 5 settled web n1 Online
check "db online on n2" wait_for 5 settled db n2 Online

# --- kill -9 of n1's agent
t0=$(now_ms)
kill -9 "$PID_n1"
wait "$PID_n1" 2>/dev/null
until [ "$(agent_state n2 web)" = Online ] || [ $(($(now_ms) - t0)) -gt 10000 ]; do sleep 0.02; done
t1=$(now_ms)
check "web comes online on the next preferred node n2" test "$(agent_state n2 web)" = Online
check "only after the lease window: $((t1 - t0)) ms >= lease $LEASE ms" test $((t1 - t0)) -ge $LEASE
# Renewals tried after the agent died were never sent (no connection took
# them) and must not push the failover out; the slack is for a slow machine.
check "and not much later: $((t1 - t0)) ms <= lease + margin + 950 ms" \
    test $((t1 - t0)) -le $((LEASE + MARGIN + 950))
echo "# measured: agent killed -> web Online on n2 in $((t1 - t0)) ms (lease $LEASE, renew 250, margin $MARGIN)"
check "the coordinator shows n1 Down" wait_for 3 node_is n1 Down
check "the coordinator shows web on n2" wait_for 3 settled web n2 Online
expect_json "a lost node counts a failover, not a restart" "$(res_json web)" \
    '.failovers == 1 and .restarts == 0'
check "db was not touched" settled db n2 Online

# --- the agent comes back (same port and state directory)
PORT_OVERRIDE=${URL_n1##*:} start_agent n1
check "n1 is Up again" wait_for 5 node_is n1 Up
sleep 0.5
check "web stays on n2 (failback off)" settled web n2 Online
check "the restarted agent does not run web" test "$(agent_state n1 web)" != Online

# --- SIGSTOP of n2's agent (web and db) past its lease
kill -STOP "$PID_n2"
t0=$(now_ms)
check "web is re-homed to n3 while n2 is frozen" wait_for 10 settled web n3 Online
check "db is re-homed to n3 while n2 is frozen" wait_for 10 settled db n3 Online
t1=$(now_ms)
check "not before the lease window ($((t1 - t0)) ms)" test $((t1 - t0)) -ge $LEASE
check "agent n3 reports web Online" test "$(agent_state n3 web)" = Online
kill -CONT "$PID_n2"
first=$(ctl "$URL_n2" --timeout 2000 resources)
expect_json "the first answer after SIGCONT shows nothing Online on n2" "$first" \
    '[.resources[] | select(.state == "Online" or .state == "OnlinePending")] | length == 0'
ev=$(ctl "$URL_n2" watch --after 0 --timeout 300 | jq -s .)
expect_json "n2 fenced web and db itself (lease ran out)" "$ev" \
    '([.[] | select(.kind == "fenced") | .resource] | sort) == ["db", "web"]'
last_fence=$(echo "$ev" | jq '[.[] | select(.kind == "fenced") | .seq] | max')
for i in $(seq 1 20); do
    ctl "$URL_n2" --timeout 500 resources | jq -r '.resources[] | select(.state == "Online") | .resource' \
        >>"$WORK/n2.after"
    sleep 0.05
done
check "n2 never reports them Online again" test ! -s "$WORK/n2.after"
ev=$(ctl "$URL_n2" watch --after "$last_fence" --timeout 300 | jq -s .)
expect_json "no Online event on n2 after the fence" "$ev" \
    '[.[] | select(.new_state == "Online" or .new_state == "OnlinePending")] | length == 0'
check "n2 is Up again" wait_for 5 node_is n2 Up
check "web stays on n3" settled web n3 Online
check "db stays on n3" settled db n3 Online

check_safety
coord_finish
