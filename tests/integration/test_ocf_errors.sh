#!/usr/bin/env bash
# The ocf type's failure paths with the test suite's own agents
# (tests/integration/ocf/resource.d/clustest): a start that hangs (timeout,
# its process group killed, Failed, nothing left over), every OCF exit code
# from start, monitor, stop and validate-all mapped to its Win32 code with
# the OCF name in the log, and bad input (no such agent, '..', a missing or
# unknown parameter, meta-data that is not XML, that never ends or never
# comes, an agent that prints megabytes) -> a clear error, no zombies, and
# the agent keeps serving.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/ocf/ports.sh"

SRC=${CLUS_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
OCF=$SRC/tests/integration/ocf
[ -x "$OCF/resource.d/clustest/Codes" ] || { echo "FAIL: $OCF has no test agents"; exit 1; }
# The agents must be executable, NotExec must not be (git keeps the modes).
[ ! -x "$OCF/resource.d/clustest/NotExec" ] || chmod 644 "$OCF/resource.d/clustest/NotExec"

ocf_start_agent a
A=$URL_a
RES=$WORK/a/res
LOG=$WORK/a.log

# opens NAME AGENT [--param ...]: an ocf resource with the test OCF_ROOT
open_ocf() {
    local name=$1 agent=$2; shift 2
    ctl $A open "$name" --type ocf --param agent="$agent" --param ocf_root="$OCF" "$@"
}
last_status() { ctl $A state "$1" | jq -r .last_status; }
no_zombies() { ! ps -o stat= --ppid "$PID_a" | grep -q Z; }
serving() { ctl $A resources | jq -e '.status == 0' >/dev/null; }
# (functions, not bash -c: pgrep -f would find the bash -c's own command line)
no_agent_procs() { ! pgrep -f "$OCF/resource.d/clustest/$1" >/dev/null; }

# --- a start that hangs: killed at its timeout, Failed, nothing left
out=$(open_ocf hang clustest:Hang --param start_timeout_ms=1000)
expect_json "open Hang" "$out" '.status == 0'
out=$(ctl $A online hang)
expect_json "online of Hang is pending (997)" "$out" '.status == 997 and .state == "OnlinePending"'
check "the start's timeout makes it Failed" wait_for 10 state_is $A hang Failed
out=$(ctl $A state hang)
expect_json "the status is ERROR_TIMEOUT (1460)" "$out" '.last_status == 1460'
check "the log says start timed out and was killed" grep -q "ocf hang: start: timed out after 1000 ms: its process group was killed" "$LOG"
read -r shell_pid sleep_pid <"$RES/hang/hang.pids"
check "the hung start's shell is gone ($shell_pid)" wait_for 3 bash -c "! ps -o stat= -p $shell_pid | grep -qv Z"
check "its child in the process group is gone too ($sleep_pid)" wait_for 3 bash -c "! ps -o stat= -p $sleep_pid | grep -qv Z"
check "Terminate's stop ran" wait_for 5 grep -q "ocf hang: stop (after terminate): exit 0" "$LOG"

# --- every OCF exit code from start: Online fails with the mapped code
declare -A WIN32=([1]=31 [2]=87 [3]=50 [4]=5 [5]=2 [6]=1168 [7]=5004 [8]=5019 [9]=5038)
declare -A NAME=([1]=OCF_ERR_GENERIC [2]=OCF_ERR_ARGS [3]=OCF_ERR_UNIMPLEMENTED [4]=OCF_ERR_PERM
    [5]=OCF_ERR_INSTALLED [6]=OCF_ERR_CONFIGURED [7]=OCF_NOT_RUNNING [8]=OCF_RUNNING_MASTER
    [9]=OCF_FAILED_MASTER)
for rc in 1 2 3 4 5 6 7 8 9; do
    open_ocf "start$rc" clustest:Codes --param tag=x --param start_rc=$rc >/dev/null
    ctl $A online "start$rc" --wait --timeout 10000 >/dev/null
    check "start exit $rc -> Failed with ${WIN32[$rc]}" test "$(last_status start$rc)" = "${WIN32[$rc]}"
    check "start exit $rc is logged as ${NAME[$rc]}" grep -q "ocf start$rc: start: exit $rc (${NAME[$rc]}" "$LOG"
done
check "the agent's exit reason is in the log" grep -q "ocf start4: start: exit 4 (OCF_ERR_PERM: insufficient permissions) in [0-9]* ms: Codes was asked to exit 4 from start" "$LOG"

# --- from monitor: an error fails the Online resource; 8 is running
for rc in 1 6 9; do
    open_ocf "mon$rc" clustest:Codes --param tag=x --param monitor_rc=$rc --param monitor_interval_ms=300 >/dev/null
    ctl $A online "mon$rc" --wait --timeout 10000 >/dev/null
    check "monitor exit $rc -> Failed" wait_for 5 state_is $A "mon$rc" Failed
    check "monitor exit $rc is logged as ${NAME[$rc]}" grep -q "ocf mon$rc: monitor (OCF_CHECK_LEVEL=0): exit $rc (${NAME[$rc]}" "$LOG"
done
open_ocf mon8 clustest:Codes --param tag=x --param monitor_rc=8 --param monitor_interval_ms=300 >/dev/null
ctl $A online mon8 --wait --timeout 10000 >/dev/null
sleep 1.5
check "monitor exit 8 (running, promoted) keeps it Online" state_is $A mon8 Online
check "and is logged once" test "$(grep -c 'ocf mon8: monitor (OCF_CHECK_LEVEL=0): exit 8 (OCF_RUNNING_MASTER' "$LOG")" = 1

# --- from stop: Offline fails; 7 (not running) is what stop wants
open_ocf stop1 clustest:Codes --param tag=x --param stop_rc=1 >/dev/null
ctl $A online stop1 --wait --timeout 10000 >/dev/null
ctl $A offline stop1 --wait --timeout 10000 >/dev/null
check "stop exit 1 -> Failed with 31" test "$(last_status stop1)" = 31
open_ocf stop7 clustest:Codes --param tag=x --param stop_rc=7 >/dev/null
ctl $A online stop7 --wait --timeout 10000 >/dev/null
out=$(ctl $A offline stop7 --wait --timeout 10000)
expect_json "stop exit 7 (already stopped) -> Offline" "$out" '.status == 0 and .state == "Offline"'

# --- from validate-all: Open fails with the mapped code and the reason
out=$(open_ocf val6 clustest:Codes --param tag=x --param validate_rc=6)
expect_json "validate-all exit 6 -> Open fails with 1168, saying why" "$out" \
    '.status == 1168 and (.message | contains("OCF_ERR_CONFIGURED")) and (.message | contains("Codes was asked to exit 6 from validate-all"))'
out=$(open_ocf val2 clustest:Codes --param tag=x --param validate_rc=2)
expect_json "validate-all exit 2 -> Open fails with 87" "$out" '.status == 87 and (.message | contains("OCF_ERR_ARGS"))'
out=$(ctl $A state val6)
expect_json "a refused Open leaves nothing behind" "$out" '.status == 5007'

# --- bad input: a clear error each
out=$(ctl $A open bad1 --type ocf --param agent=heartbeat:NoSuchAgent)
expect_json "an agent that does not exist: 2" "$out" '.status == 2 and (.message | contains("no OCF agent heartbeat:NoSuchAgent"))'
out=$(ctl $A open bad2 --type ocf --param agent=../../../../bin:sh)
expect_json "a provider path with '..': 87" "$out" '.status == 87 and (.message | contains("'"'"'..'"'"'"))'
out=$(ctl $A open bad3 --type ocf --param agent=clustest:.. --param ocf_root="$OCF")
expect_json "a type of '..': 87" "$out" '.status == 87'
out=$(ctl $A open bad4 --type ocf --param agent=clustest:Codes --param ocf_root="$OCF/../ocf" --param tag=x)
expect_json "an ocf_root with '..': 87" "$out" '.status == 87'
out=$(ctl $A open bad5 --type ocf --param agent=heartbeat/Dummy)
expect_json "an agent without provider:type: 87" "$out" '.status == 87'
out=$(ctl $A open bad6 --type ocf)
expect_json "no agent parameter at all: 87" "$out" '.status == 87 and (.message | contains("agent"))'
out=$(open_ocf bad7 clustest:Codes)
expect_json "a missing required parameter: 87" "$out" '.status == 87 and (.message | contains("requires parameter '"'"'tag'"'"'"))'
out=$(open_ocf bad8 clustest:Codes --param tag=x --param tga=y)
expect_json "an unknown parameter: 87" "$out" '.status == 87 and (.message | contains("no parameter '"'"'tga'"'"'"))'
out=$(open_ocf bad9 clustest:Codes --param tag=x --param start_timeout_ms=5)
expect_json "a timeout out of range: 87" "$out" '.status == 87'
out=$(open_ocf bad10 clustest:BadMeta)
expect_json "meta-data that is not valid XML: 1306" "$out" '.status == 1306 and (.message | contains("not valid XML"))'
t0=$SECONDS
out=$(open_ocf bad11 clustest:Flood)
expect_json "meta-data of megabytes: 122, stopped" "$out" '.status == 122 and (.message | contains("more than 262144 bytes of meta-data"))'
out=$(open_ocf bad12 clustest:SlowMeta)
expect_json "meta-data that never comes: 1460 after the bound" "$out" '.status == 1460 and (.message | contains("timed out"))'
check "the bounded runs blocked the agent a few seconds at most ($((SECONDS - t0)) s)" test $((SECONDS - t0)) -le 5
out=$(open_ocf bad13 clustest:NotExec)
expect_json "an agent that is not executable: 5" "$out" '.status == 5 and (.message | contains("not an executable file"))'
open_ocf u1 clustest:Codes --param tag=x --param slot=7 >/dev/null
out=$(open_ocf u2 clustest:Codes --param tag=x --param slot=7)
expect_json "a unique parameter used twice: 87" "$out" '.status == 87 and (.message | contains("must be unique"))'
check "the agent keeps serving" serving
check "no stray meta-data processes" no_agent_procs "(SlowMeta|Flood)"

# --- an agent that prints megabytes in start: bounded, it still works
out=$(open_ocf noisy clustest:Noisy --param megabytes=8)
expect_json "open Noisy" "$out" '.status == 0'
out=$(ctl $A online noisy --wait --timeout 30000)
expect_json "a start printing 16 MB still brings it Online" "$out" '.status == 0 and .state == "Online"'
check "the log says what was dropped" grep -q "ocf noisy: start stdout: .* more lines not logged, [0-9]* bytes beyond the 65536 kept dropped" "$LOG"
check "the agent's log stayed small ($(stat -c %s "$LOG") bytes)" test "$(stat -c %s "$LOG")" -lt 1000000
ctl $A offline noisy --wait --timeout 10000 >/dev/null

# --- the types list and type controls for another OCF_ROOT
OCF_ROOT=$OCF ocf_start_agent b
out=$(ctl $URL_b types)
expect_json "with OCF_ROOT set, types lists the suite's agents, not the unexecutable one" "$out" \
    '(.types[] | select(.name=="ocf") | .info) as $i | $i.ocf_root == "'$OCF'" and ($i["agent.clustest:Codes"] | length > 0) and ($i["agent.clustest:NotExec"] == null)'
out=$(ctl $URL_b type-control ocf:clustest:Codes meta-data)
expect_json "type-control shows required, unique and per-depth monitors" "$out" \
    '.properties["parameter.tag"] == "required,type=string" and (.properties["parameter.slot"] | startswith("optional,unique")) and .properties["action.monitor.depth10.timeout_ms"] == "15000"'
out=$(ctl $URL_b type-control ocf:clustest:BadMeta meta-data)
expect_json "type-control of bad meta-data: 1306 with the error" "$out" '.status == 1306 and (.properties.error | contains("not valid XML"))'
out=$(ctl $URL_b type-control ocf meta-data)
expect_json "type-control needs the agent's name: 87" "$out" '.status == 87'

# --- close everything: no zombies, still serving
for r in $(ctl $A resources | jq -r '.resources[].resource'); do ctl $A close "$r" >/dev/null; done
check "no zombie children of the agent" no_zombies
check "no process of the test agents is left" wait_for 10 no_agent_procs ""
check "the agent keeps serving" serving

finish
