#!/usr/bin/env bash
# Operator requests against the coordinator with real agents: move, move
# with --return-to-source when the destination's Online fails (fail_online
# there), offline while OnlinePending, drain and undrain.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/coord_lib.sh"

start_agents 3
cfg="$WORK/cluster.yaml"
{
    cluster_header 1000 300 300
    cat <<'EOF'
  - name: web
    type: dummy
    params: { online_delay_ms: 100 }
    possible_owners: [n1, n2, n3]
    preferred_owners: [n1, n3]
    node_params: { n2: { fail_online: true } }
    policy: { restart_threshold: 1, restart_delay_ms: 0, looks_alive_ms: 200 }
  - name: slow
    type: dummy
    params: { online_delay_ms: 4000, progress_ms: 200 }
    preferred_owners: [n3]
    policy: { looks_alive_ms: 200 }
  - name: db
    type: dummy
    possible_owners: [n1, n3]
    preferred_owners: [n1, n3]
    policy: { looks_alive_ms: 200 }
EOF
} >"$cfg"
start_coordinator "$cfg"
start_safety_poll

# --- offline while OnlinePending (slow pends for 4 s on n3)
check "slow is coming online on n3" wait_for 5 agent_is n3 slow OnlinePending
out=$(cctl offline slow)
expect_json "offline while OnlinePending is accepted (997)" "$out" '.status == 997'
check "slow ends Offline on the agent" wait_for 5 agent_is n3 slow Offline
check "the coordinator shows slow Offline, desired Offline" \
    wait_for 5 res_has slow '.state == "Offline" and .desired == "Offline" and .operation == ""'
sleep 4.2 # past the end of the pending online it superseded
ev=$(ctl "$URL_n3" watch --resource slow --after 0 --timeout 300 | jq -s .)
expect_json "slow never became Online" "$ev" '[.[] | select(.new_state == "Online")] | length == 0'
expect_json "its Offline superseded the pending Online (ignore-resource-status)" "$ev" \
    '[.[] | select(.new_state == "Offline" and .old_state != "Initializing")] | length >= 1'
check "slow is still Offline" test "$(agent_state n3 slow)" = Offline

# --- move
check "web comes online on n1" wait_for 5 settled web n1 Online
out=$(cctl move web --to n3 --wait --timeout 10000)
expect_json "move --wait ends Online on n3" "$out" '.status == 0 and .owner == "n3" and .state == "Online"'
check "agent n1 has web Offline" test "$(agent_state n1 web)" = Offline
check "agent n3 has web Online" test "$(agent_state n3 web)" = Online
out=$(ctl "$URL_n1" state web)
expect_json "the source's OfflineV2 named no return-to-source" "$out" '.offline_flags == 0'

# --- move --return-to-source where the destination's Online fails
out=$(cctl move web --to n2 --return-to-source --wait --timeout 10000)
expect_json "the failed move ends Online again on the source" "$out" \
    '.status == 0 and .owner == "n3" and .state == "Online"'
expect_json "it counts one failure, no restart or failover" "$out" \
    '.failures == 1 and .restarts == 0 and .failovers == 0'
out=$(ctl "$URL_n2" state web)
expect_json "destination: OnlineV2 carried return-to-source (0x4)" "$out" \
    '.online_flags == 4 and (.online_flag_names | test("return-to-source"))'
expect_json "destination: terminated, the return leg's OfflineV2 carried 0x8" "$out" \
    '.state == "Offline" and .offline_flags == 8 and .last_message == "terminated"'
out=$(ctl "$URL_n3" state web)
expect_json "source: Online again" "$out" '.state == "Online"'
feed=$(cctl watch --after 0 --timeout 300 | jq -s '[.[] | select(.resource == "web") | .message]')
expect_json "the feed tells the steps and the return" "$feed" \
    'any(test("offline-source on n3: done")) and any(test("online-destination on n2: failed")) and any(test("n3 -> n2: returned"))'
ev=$(ctl "$URL_n3" watch --resource web --after 0 --timeout 300 | jq -s .)
expect_json "source: its OfflineV2 named return-to-source (0x2)" "$ev" \
    'any(.[]; .new_state == "OfflinePending" and .flags == 2)'

# --- bad moves change nothing
out=$(cctl move web --to n9)
expect_json "move to an unknown node: 5042" "$out" '.status == 5042'
out=$(cctl move db --to n2)
expect_json "move to a node that is not a possible owner: 5071" "$out" '.status == 5071'
check "web is still Online on n3" settled web n3 Online

# --- drain / undrain
check "db is online on n1" wait_for 5 settled db n1 Online
out=$(cctl offline web --wait)
expect_json "web offline (its only other possible node fails to host it)" "$out" '.state == "Offline"'
out=$(cctl drain n1)
expect_json "drain n1 answers: under way" "$out" '.status == 997'
check "db moves off n1 to its next node n3" wait_for 10 settled db n3 Online
check "n1 shows Draining" test "$(node_state n1)" = Draining
out=$(cctl move db --to n1)
expect_json "nothing moves onto a draining node: 5023" "$out" '.status == 5023'
out=$(cctl online web --node n1)
expect_json "online --node on a draining node: 5023" "$out" '.status == 5023'
out=$(cctl undrain n1)
expect_json "undrain n1" "$out" '.status == 0'
check "n1 shows Up" test "$(node_state n1)" = Up
sleep 0.5
check "db stays on n3 after undrain (failback off)" settled db n3 Online
out=$(cctl move db --to n1 --wait)
expect_json "n1 takes resources again" "$out" '.status == 0 and .owner == "n1"'

check_safety
coord_finish
