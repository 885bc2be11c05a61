#!/usr/bin/env bash
# The ocf type with Debian's real heartbeat:Dummy agent, driven through
# clusctl: the types list and the parsed meta-data, the whole lifecycle
# (open, online, looks-alive, is-alive, offline, close), a failure made from
# outside (the state file removed) seen by the background monitor and by
# IsAlive and reported Failed, adoption after an agent restart, a clean
# SIGTERM with a resource online, and no zombie children.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/ocf/ports.sh"

DUMMY=/usr/lib/ocf/resource.d/heartbeat/Dummy
[ -x "$DUMMY" ] || skip "resource-agents is not installed ($DUMMY)"

PORT=$(ocf_free_port)
PORT_OVERRIDE=$PORT start_agent a
A=$URL_a
RES=$WORK/a/res

no_zombies() { ! ps -o stat= --ppid "$PID_a" | grep -q Z; }

# --- the type and its facts
out=$(ctl $A types)
expect_json "types lists ocf as loop-native" "$out" '.types[] | select(.name=="ocf") | .loop_native'
expect_json "types lists the OCF agents found" "$out" \
    '(.types[] | select(.name=="ocf") | .info) as $i | $i["agent.heartbeat:Dummy"] == "'$DUMMY'" and ($i["agent.heartbeat:Filesystem"] | length > 0) and ($i.agents | tonumber) > 2'
out=$(ctl $A type-control ocf:heartbeat:Dummy meta-data)
expect_json "type-control meta-data gives the parsed parameters" "$out" \
    '.status == 0 and (.properties["parameter.state"] | startswith("optional,unique,type=string,default=")) and (.properties["parameter.fake"] | startswith("optional"))'
expect_json "type-control meta-data gives the advertised timeouts" "$out" \
    '.properties["action.start.timeout_ms"] == "20000" and .properties["action.monitor.interval_ms"] == "10000"'
expect_json "type-control meta-data returns the raw XML" "$out" '.output | contains("<resource-agent name=\"Dummy\"")'
text=$("$CLUSCTL" --agent $A type-control ocf:heartbeat:Dummy meta-data)
check "clusctl shows the metadata as text" grep -q "^parameter.state=optional,unique" <<<"$text"

# --- the lifecycle
out=$(ctl $A open d1 --type ocf --param agent=heartbeat:Dummy --param monitor_interval_ms=500)
expect_json "open leaves it Offline" "$out" '.status == 0 and .state == "Offline"'
out=$(ctl $A online d1 --wait --timeout 10000)
expect_json "online runs start: Online" "$out" '.status == 0 and .state == "Online"'
check "start made the state file in the resource's state dir (HA_RSCTMP)" test -f "$RES/d1/Dummy-d1.state"
out=$(ctl $A looks-alive d1)
expect_json "looks-alive: alive" "$out" '.status == 0 and .alive == true'
out=$(ctl $A is-alive d1)
expect_json "is-alive: alive" "$out" '.status == 0 and .alive == true'
out=$(ctl $A state d1)
expect_json "the type reports failures by signal (event handle)" "$out" '.event_handle == true'
sleep 1.2
out=$(ctl $A control d1 GET_RO_PRIVATE_PROPERTIES)
expect_json "the background monitor ran and found it running" "$out" \
    '.properties.last_monitor == "OCF_SUCCESS" and .properties.running == "true" and .properties.agent == "heartbeat:Dummy"'
out=$(ctl $A offline d1 --wait --timeout 10000)
expect_json "offline runs stop: Offline" "$out" '.status == 0 and .state == "Offline"'
check "stop removed the state file" test ! -e "$RES/d1/Dummy-d1.state"
out=$(ctl $A looks-alive d1)
expect_json "looks-alive of an Offline resource is refused (5004)" "$out" '.status == 5004'

# --- a failure made from outside: the background monitor sees it
ctl $A online d1 --wait --timeout 10000 >/dev/null
rm -f "$RES/d1/Dummy-d1.state"
t0=$SECONDS
check "the removed state file is detected and reported Failed" wait_for 5 state_is $A d1 Failed
check "within a few seconds ($((SECONDS - t0)) s)" test $((SECONDS - t0)) -le 3
check "the log names the OCF code" grep -q "ocf d1: monitor (OCF_CHECK_LEVEL=0): exit 7 (OCF_NOT_RUNNING" "$WORK/a.log"
check "the agent's exit reason is logged" grep -q "No process state file found" "$WORK/a.log"
check "Terminate ran stop" wait_for 5 grep -q "ocf d1: stop (after terminate): exit 0" "$WORK/a.log"
events=$(ctl $A watch --resource d1 --count 200 --timeout 500)
check "a failure event was emitted" grep -q '"failure"' <<<"$events"

# --- ... and IsAlive sees it too (no background monitor for 10 minutes)
ctl $A open d2 --type ocf --param agent=heartbeat:Dummy --param monitor_interval_ms=600000 >/dev/null
ctl $A online d2 --wait --timeout 10000 >/dev/null
rm -f "$RES/d2/Dummy-d2.state"
ctl $A is-alive d2 >/dev/null # answers what it knows and starts a deep monitor
check "IsAlive's deep monitor detects it: Failed" wait_for 5 state_is $A d2 Failed
check "the deep monitor ran at OCF_CHECK_LEVEL 10" grep -q "ocf d2: monitor (OCF_CHECK_LEVEL=10): exit 7" "$WORK/a.log"

# --- parameters
out=$(ctl $A open d3 --type ocf --param agent=heartbeat:Dummy --param nosuch=1)
expect_json "an unknown agent parameter is refused (87)" "$out" '.status == 87 and (.message | contains("has no parameter '"'"'nosuch'"'"'"))'
out=$(ctl $A open d3 --type ocf --param agent=heartbeat:Dummy --param state=$WORK/shared.state)
expect_json "an explicit state file is passed as OCF_RESKEY_state" "$out" '.status == 0'
out=$(ctl $A open d4 --type ocf --param agent=heartbeat:Dummy --param state=$WORK/shared.state)
expect_json "a unique parameter may not be shared (87)" "$out" '.status == 87 and (.message | contains("must be unique"))'
ctl $A online d3 --wait --timeout 10000 >/dev/null
check "the agent used OCF_RESKEY_state" test -f "$WORK/shared.state"

# --- adoption after an agent restart (kill -9: d3 keeps running)
kill_pid -9 "$PID_a"
wait "$PID_a" 2>/dev/null
PORT_OVERRIDE=$PORT start_agent a
out=$(ctl $A online d3 --flags restore-online-state --wait --timeout 10000)
expect_json "restore-online-state after a restart: Online" "$out" '.status == 0 and .state == "Online"'
check "the running resource was adopted (probe), not started again" grep -q "ocf d3: adopted" "$WORK/a.log"
out=$(ctl $A state d1)
expect_json "the others are back, Offline" "$out" '.status == 0 and .state == "Offline"'

# --- close, zombies, SIGTERM with a resource online
for r in d1 d2; do ctl $A close $r >/dev/null; done
check "no zombie children of the agent" no_zombies
out=$(ctl $A resources)
expect_json "the agent keeps serving" "$out" '.status == 0 and ([.resources[].resource] == ["d3"])'
kill_pid -TERM "$PID_a"
check "SIGTERM stops the agent while an ocf resource is online" wait_for 10 bash -c "! kill -0 $PID_a 2>/dev/null"
check "and leaves it running (the state file stays)" test -f "$WORK/shared.state"
rm -f "$WORK/shared.state"

finish
