#!/usr/bin/env bash
# kill -9 of the agent and a restart: the same resources are listed, their
# persisted state is remembered, a still-running process is adopted with
# RECOVER_MONITOR_STATE (not started twice), RESTORE_ONLINE_STATE restores.
. "$(dirname "$0")/lib.sh"

PORT=$(free_port)
PORT_OVERRIDE=$PORT start_agent a
A=$URL_a
MARK="clus-test-marker-$$"

ctl $A open d1 --type dummy >/dev/null
ctl $A open d2 --type dummy --param looks_alive_ms=1234 >/dev/null
ctl $A open p1 --type process --param command="sleep 300; : $MARK" >/dev/null
ctl $A online d1 >/dev/null
ctl $A online p1 --wait >/dev/null
pid_before=$(ctl $A control p1 GET_RO_PRIVATE_PROPERTIES | jq -r .properties.pid)
check "the process runs (pid $pid_before)" kill_pid -0 "$pid_before"

kill_pid -9 "$PID_a"
wait "$PID_a" 2>/dev/null
check "the process survives the agent" kill_pid -0 "$pid_before"

PORT_OVERRIDE=$PORT start_agent a
out=$(ctl $A resources)
expect_json "the restarted agent lists the same resources" "$out" '[.resources[].resource] | sort == ["d1","d2","p1"]'
expect_json "open leaves them Offline after a restart" "$out" '[.resources[].state] | unique == ["Offline"]'
expect_json "persisted state is remembered" "$out" \
    '(.resources[] | select(.resource=="d1") | .persisted_state) == "Online" and (.resources[] | select(.resource=="d2") | .persisted_state) == "Offline"'
expect_json "common properties are remembered" "$out" '(.resources[] | select(.resource=="d2") | .looks_alive_ms) == 1234'
expect_json "the boot id changed" "$out" '.agent.boot_id != null'

out=$(ctl $A online p1 --flags recover-monitor-state --wait)
expect_json "recover-monitor-state brings it Online" "$out" '.status == 0 and .state == "Online"'
pid_after=$(ctl $A control p1 GET_RO_PRIVATE_PROPERTIES | jq -r .properties.pid)
check "the running process was adopted, not started again ($pid_before = $pid_after)" test "$pid_before" = "$pid_after"
check "only one such process runs" test "$(pgrep -fc "^/bin/sh -c sleep 300; : $MARK")" = 1
# the adopted process is supervised: its exit is a failure
kill_pid -9 "$pid_after"
check "an adopted process that dies is reported Failed" wait_for 5 state_is $A p1 Failed

out=$(ctl $A online d1 --flags restore-online-state)
expect_json "restore-online-state restores the persisted Online" "$out" '.status == 0 and .state == "Online"'
out=$(ctl $A online d2 --flags restore-online-state)
expect_json "restore-online-state leaves a persisted-Offline resource Offline" "$out" '.status == 0 and .state == "Offline"'

# A process started fresh after a restart is a new one; offline stops it.
ctl $A online p1 --wait >/dev/null
pid3=$(ctl $A control p1 GET_RO_PRIVATE_PROPERTIES | jq -r .properties.pid)
check "a fresh start after a failure has a new pid" test "$pid3" != "$pid_after"
ctl $A offline p1 --wait >/dev/null
check "offline stopped the process" wait_for 5 bash -c "! kill -0 $pid3 2>/dev/null"

# SIGTERM: the agent stops cleanly and leaves resources as they are.
ctl $A online p1 --wait >/dev/null
pid4=$(ctl $A control p1 GET_RO_PRIVATE_PROPERTIES | jq -r .properties.pid)
kill_pid -TERM "$PID_a"
check "SIGTERM stops the agent" wait_for 10 bash -c "! kill -0 $PID_a 2>/dev/null"
check "SIGTERM leaves the process running" kill_pid -0 "$pid4"
check "the agent logged a clean stop" grep -q "stopped" "$WORK/a.log"
kill_pid -9 "$pid4"

finish
