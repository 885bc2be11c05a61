#!/usr/bin/env bash
# The coordinator's failure policy with real agents: a process resource
# recovers in place (ResourceRecover), a flaky resource passes its restart
# threshold and fails over to the next preferred node, RestartAction 0 stays
# Failed, the retry after RetryPeriodOnFailure, plan and clear.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/coord_lib.sh"

start_agents 3
marker="$WORK/clus-test-marker-$$"
touch "$marker"
cfg="$WORK/cluster.yaml"
{
    cluster_header 1000 300 300
    cat <<EOF
  - name: svc
    type: process
    params: { command: "exec tail -f $marker" }
    preferred_owners: [n1, n2, n3]
    policy: { restart_threshold: 3, restart_delay_ms: 0, looks_alive_ms: 200 }
  - name: flaky
    type: dummy
    params: { fail_after_ms: 300 }
    preferred_owners: [n1, n2, n3]
    node_params: { n2: { fail_after_ms: 0 } }
    policy: { restart_threshold: 2, restart_delay_ms: 0, restart_period_ms: 60000,
              retry_period_on_failure_ms: 60000, looks_alive_ms: 200 }
  - name: once
    type: dummy
    params: { fail_after_ms: 300 }
    preferred_owners: [n3]
    policy: { restart_action: 0, looks_alive_ms: 200 }
  - name: retry
    type: dummy
    params: { fail_online: true }
    possible_owners: [n2]
    policy: { restart_action: 1, restart_threshold: 0, restart_period_ms: 1000,
              retry_period_on_failure_ms: 1500, restart_delay_ms: 0 }
EOF
} >"$cfg"
check "the definition validates" "$CLUSCTL" config validate "$cfg"
start_coordinator "$cfg"

# --- ResourceRecover: the process dies, it is restarted in place
check "svc comes online on its preferred node" wait_for 10 settled svc n1 Online
pid1=$(ctl "$URL_n1" control svc GET_RO_PRIVATE_PROPERTIES | jq -r .properties.pid)
check "svc runs a process ($pid1)" kill -0 "$pid1"
kill -9 "$pid1"
check "svc is restarted in place after its process died" \
    wait_for 10 res_has svc '.owner == "n1" and .state == "Online" and .restarts == 1'
pid2=$(ctl "$URL_n1" control svc GET_RO_PRIVATE_PROPERTIES | jq -r .properties.pid)
check "a new process runs ($pid2, was $pid1)" bash -c "[ '$pid2' != '$pid1' ] && kill -0 $pid2"
out=$(res_json svc)
expect_json "the restart counter went up, no failover" "$out" \
    '.restarts == 1 and .failovers == 0 and .failures == 1 and .owner == "n1"'
events=$(cctl watch --timeout 300)
expect_json "the feed tells the restart in place (row F4)" "$(echo "$events" | jq -s .)" \
    'map(select(.resource == "svc" and (.message | test("restart on n1.*F4")))) | length >= 1'

# --- restart threshold exceeded: failover to the next preferred node
check "flaky ends on n2 after its restarts on n1" wait_for 15 settled flaky n2 Online
out=$(res_json flaky)
expect_json "flaky: 2 restarts in place, then 1 failover" "$out" \
    '.restarts == 2 and .failovers == 1 and .failures == 3'
check "agent n2 reports flaky Online" test "$(agent_state n2 flaky)" = Online
check "agent n1 reports flaky not Online" test "$(agent_state n1 flaky)" != Online
sleep 1
check "flaky stays on n2" settled flaky n2 Online

# --- plan: what would happen, nothing done
out=$(cctl plan --fail-resource flaky)
expect_json "plan --fail-resource: restart in place on n2 (fresh window after failover)" "$out" \
    '.status == 0 and .actions[0].action == "restart" and .actions[0].node == "n2"'
out=$(cctl plan --fail-node n2)
expect_json "plan --fail-node n2: flaky fails over to n3" "$out" \
    '.status == 0 and ([.actions[] | select(.resource == "flaky")][0] | .action == "failover" and .node == "n3")'
expect_json "plan changed nothing" "$(res_json flaky)" \
    '.owner == "n2" and .state == "Online" and .restarts == 2 and .failovers == 1'

# --- clear
out=$(cctl clear flaky)
expect_json "clear answers 0" "$out" '.status == 0'
expect_json "clear reset the counters" "$(res_json flaky)" \
    '.restarts == 0 and .failovers == 0 and .failures == 0 and .owner == "n2"'

# --- RestartAction 0: stays Failed, waits for an operator
check "once fails and stays Failed (RestartAction 0)" \
    wait_for 10 res_has once '.state == "Failed" and .policy_state == "gave-up"'
expect_json "once was never restarted" "$(res_json once)" '.restarts == 0 and .failures == 1'

# --- Failed, then one retry after RetryPeriodOnFailure, then it gives up
check "retry: gives up after its retry failed too" \
    wait_for 10 res_has retry '.policy_state == "gave-up"'
feed=$(cctl watch --after 0 --timeout 300 | jq -s '[.[] | select(.resource == "retry" and .kind == "action")]')
expect_json "retry: Failed with a retry (F5), the retry (T1), then it gave up (F3)" "$feed" \
    '[.[].message | capture("(?<row>[A-Z][0-9])-") | .row] == ["S2", "F5", "T1", "F3"]'
expect_json "retry: the retry came RetryPeriodOnFailure (1500 ms) after the failure" "$feed" \
    '(.[2].timestamp_ms - .[1].timestamp_ms) >= 1450'
onlines=$(ctl "$URL_n2" watch --resource retry --after 0 --timeout 300 |
    jq -s '[.[] | select(.kind == "state" and .new_state == "OnlinePending")] | length')
check "retry: exactly two Online attempts reached the agent ($onlines)" test "$onlines" = 2
out=$(cctl online retry)
expect_json "an operator's online tries again" "$out" '.status == 997'

coord_finish
