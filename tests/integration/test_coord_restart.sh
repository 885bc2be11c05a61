#!/usr/bin/env bash
# kill -9 of the coordinator and a restart: it reattaches without touching
# a single resource (no Open/Online/Offline/Terminate sent; every agent's
# event sequence and states unchanged) and shows the same view (owners,
# desired states, counters from its sqlite store). Then a coordinator that
# stays away longer than the lease: the agents fence, and the new instance
# brings everything back on the same nodes.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/coord_lib.sh"

marker="$WORK/clus-test-marker-$$"
touch "$marker"
start_agents 3
cfg="$WORK/cluster.yaml"
{
    cluster_header 3000 500 500
    cat <<EOF
  - name: web
    type: dummy
    preferred_owners: [n1, n2, n3]
    policy: { restart_delay_ms: 0, looks_alive_ms: 200 }
  - name: svc
    type: process
    params: { command: "exec tail -f $marker" }
    preferred_owners: [n2, n3]
    policy: { restart_delay_ms: 0, looks_alive_ms: 200 }
  - name: db
    type: dummy
    preferred_owners: [n3, n1]
    policy: { restart_delay_ms: 0, looks_alive_ms: 200 }
EOF
} >"$cfg"
start_coordinator "$cfg"
start_safety_poll
check "web online on n1" wait_for 5 settled web n1 Online
check "svc online on n2" wait_for 5 settled svc n2 Online
check "db online on n3" wait_for 5 settled db n3 Online

# Some history the store must keep: a restart of web, db taken offline.
ctl "$URL_n1" terminate web >/dev/null
check "web restarted in place after a terminate behind the coordinator's back" \
    wait_for 5 res_has web '.owner == "n1" and .state == "Online" and .restarts == 1'
out=$(cctl offline db --wait)
expect_json "db offline" "$out" '.state == "Offline" and .desired == "Offline"'
sleep 0.3

agents_snapshot() {
    local i url
    for i in 1 2 3; do
        url=URL_n$i
        ctl "${!url}" resources | jq -c '{seq: .agent.last_seq, boot: .agent.boot_id,
            res: [.resources[] | {resource, state}] | sort_by(.resource)}'
    done
}
view() {
    cctl status | jq -c '[.resources[] | {name, owner, state, desired, restarts, failovers,
        failures}]'
}
before_agents=$(agents_snapshot)
before_view=$(view)
epoch1=$(cctl status | jq .epoch)

# --- kill -9 and restart at once (well inside the 3 s lease)
kill_coordinator
COORD_LOG_LEVEL=debug start_coordinator "$cfg"
all_up() { [ "$(cctl status | jq '[.nodes[] | select(.state == "Up")] | length')" = 3 ]; }
check "the new instance sees every node Up" wait_for 5 all_up
check "web reattached on n1" wait_for 5 settled web n1 Online
sleep 1.5 # renewals, watches and ticks run for a while
check "the same view after the restart (owners, states, desired, counters)" \
    test "$(view)" = "$before_view"
check "every agent's event sequence and resource states are unchanged" \
    test "$(agents_snapshot)" = "$before_agents"
sent=$(tac "$WORK/co.log" | sed '/ coordinating /q' |
    grep -cE ': (Open|OnlineV2|OfflineV2|Terminate) on |terminating it')
check "the new instance sent no Open/Online/Offline/Terminate ($sent)" test "$sent" = 0
epoch2=$(cctl status | jq .epoch)
check "it leases with a higher epoch ($epoch1 -> $epoch2)" test "$epoch2" -gt "$epoch1"
expect_json "the agents hold the new instance's lease" "$(ctl "$URL_n2" resources)" \
    '.agent.lease_valid == true'

# --- the coordinator stays away longer than the lease
kill_coordinator
sleep 3.8
check "agent n1 fenced web without its coordinator" agent_is n1 web Offline
check "agent n2 fenced svc without its coordinator" agent_is n2 svc Offline
COORD_LOG_LEVEL=debug start_coordinator "$cfg"
check "web is back online on n1" wait_for 8 settled web n1 Online
check "svc is back online on n2" wait_for 8 settled svc n2 Online
sent=$(tac "$WORK/co.log" | sed '/ coordinating /q' | grep -cE ': (OnlineV2) on ')
check "this time it did send Online calls ($sent; the check above can see them)" test "$sent" -ge 2
check "db stays offline (desired Offline)" settled db n3 Offline
expect_json "the fenced web counted as a failure, restarted in place" "$(res_json web)" \
    '.restarts == 2 and .failovers == 0'

check_safety
coord_finish
