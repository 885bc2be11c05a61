#!/usr/bin/env bash
# The agent driven through clusctl -o json: every call, the pending, timeout,
# failure and recovery paths, every OnlineV2/OfflineV2 flag, exit codes.
. "$(dirname "$0")/lib.sh"

start_agent a --plugin-dir "$BUILD/plugins"
A=$URL_a

# --- open, state, types, startup
out=$(ctl $A open web --type dummy --param online_delay_ms=300 --param progress_ms=50)
expect_json "open leaves the resource Offline" "$out" '.status == 0 and .state == "Offline" and .state_value == 3'
expect_json "open keeps type parameters" "$out" '.params.online_delay_ms == "300"'
out=$(ctl $A open web --type dummy)
expect_json "open of an existing name is refused (5010)" "$out" '.status == 5010'
out=$(ctl $A open x1 --type nosuchtype)
expect_json "open of an unknown type is refused (5079)" "$out" '.status == 5079'
out=$(ctl $A open x2 --type dummy --param bogus=1)
expect_json "the type refuses an unknown parameter (87), saying which" "$out" '.status == 87 and (.message | test("bogus"))'
out=$(ctl $A state x2)
expect_json "a refused open leaves nothing behind" "$out" '.status == 5007'
out=$(ctl $A types)
expect_json "types lists the built-ins and the plug-in" "$out" '[.types[].name] | contains(["dummy","process","volume","testplug"])'
out=$(ctl $A startup dummy)
expect_json "startup of a known type" "$out" '.status == 0 and .version == 256'
out=$(ctl $A startup dummy --min 0x200 --max 0x300)
expect_json "startup outside the version range: 1306" "$out" '.status == 1306'
out=$(ctl $A startup nosuch)
expect_json "startup of an unknown name: 5080" "$out" '.status == 5080'

# --- pending online with rising checkpoints, then Online
out=$(ctl $A online web)
expect_json "online answers 997 while pending" "$out" '.status == 997 and .state == "OnlinePending" and .state_value == 129'
ctl $A open v1 --type dummy --param hang=online >/dev/null
expect_rc "clusctl exits 0 on 997 without --wait" 0 ctl $A online v1 --v1
out=$(ctl $A online web)
expect_json "a second online while pending is busy (170)" "$out" '.status == 170'
events=$(ctl $A watch --resource web --count 4 --timeout 3000)
check "progress events carry rising checkpoints" \
    bash -c "echo '$events' | jq -s '[.[] | select(.new_state==\"OnlinePending\") | .checkpoint] | (length >= 2) and (. == (. | sort))' | grep -q true"
check "web becomes Online" wait_for 5 state_is $A web Online
out=$(ctl $A online web)
expect_json "online of an Online resource is 0" "$out" '.status == 0 and .state == "Online"'
out=$(ctl $A looks-alive web)
expect_json "looks-alive true" "$out" '.status == 0 and .alive == true'
out=$(ctl $A is-alive web)
expect_json "is-alive true" "$out" '.status == 0 and .alive == true and .cached == false'

# --- --wait
ctl $A open w2 --type dummy --param online_delay_ms=200 >/dev/null
out=$(ctl $A online w2 --wait --timeout 5000)
expect_json "online --wait returns the final state" "$out" '.status == 0 and .state == "Online"'
out=$(ctl $A offline w2 --wait)
expect_json "offline --wait" "$out" '.status == 0 and .state == "Offline"'
ctl $A open w3 --type dummy --param online_delay_ms=100 --param fail_online=true >/dev/null
expect_rc "online --wait of a failing resource exits 1" 1 ctl $A online w3 --wait --timeout 5000
out=$(ctl $A state w3)
expect_json "the failed online left it Failed" "$out" '.state == "Failed" and .state_value == 4'

# --- errors: Online error -> Terminate + Failed
ctl $A open bad --type dummy --param fail_online=true >/dev/null
out=$(ctl $A online bad)
expect_json "online error is returned and the resource is Failed" "$out" '.status == 5038 and .state == "Failed"'

# --- pending timeout -> Terminate -> Failed
ctl $A open hang --type dummy --param hang=online --param pending_timeout_ms=300 >/dev/null
ctl $A online hang >/dev/null
check "pending timeout makes it Failed" wait_for 5 state_is $A hang Failed
out=$(ctl $A state hang)
expect_json "pending timeout status is 5910" "$out" '.last_status == 5910'
# progress reports keep it pending beyond the timeout
ctl $A open slow --type dummy --param online_delay_ms=900 --param progress_ms=100 --param pending_timeout_ms=300 >/dev/null
ctl $A online slow >/dev/null
check "progress reports extend the pending timeout" wait_for 5 state_is $A slow Online

# --- IsAlive false -> Failed + Terminate (polled)
ctl $A open sick --type dummy --param is_alive=false --param is_alive_ms=100 >/dev/null
ctl $A online sick >/dev/null
check "IsAlive false -> Failed" wait_for 5 state_is $A sick Failed
# LooksAlive false -> IsAlive at once (IsAlive poll far away)
ctl $A open sick2 --type dummy --param looks_alive=false --param is_alive=false --param looks_alive_ms=100 --param is_alive_ms=600000 >/dev/null
ctl $A online sick2 >/dev/null
check "LooksAlive false -> IsAlive -> Failed" wait_for 5 state_is $A sick2 Failed

# --- fail_after_ms: signalled, no poll needed (polls an hour away)
ctl $A open sig --type dummy --param fail_after_ms=200 --param looks_alive_ms=3600000 --param is_alive_ms=3600000 >/dev/null
out=$(ctl $A online sig)
expect_json "event handle switches LooksAlive polling off" "$out" '.event_handle == true'
start=$(date +%s%N)
check "fail_after_ms -> Failed without a poll" wait_for 5 state_is $A sig Failed
ms=$(( ($(date +%s%N) - start) / 1000000 ))
check "the signalled failure is seen within 2 s (took ${ms} ms)" test "$ms" -lt 2000
out=$(ctl $A watch --resource sig --after 0 --timeout 200)
check "a failure event precedes the Failed state" bash -c "echo '$out' | jq -s 'map(.kind) | index(\"failure\") != null' | grep -q true"

# --- Terminate overtakes a pending Online
ctl $A open term --type dummy --param hang=online >/dev/null
ctl $A online term >/dev/null
out=$(ctl $A terminate term)
expect_json "terminate during a pending online" "$out" '.status == 0 and .state == "Offline"'

# --- Offline error -> Terminate
ctl $A open offbad --type dummy --param fail_offline=true >/dev/null
ctl $A online offbad >/dev/null
out=$(ctl $A offline offbad)
expect_json "offline error -> Terminate -> Failed" "$out" '.status == 5038 and .state == "Failed"'

# --- Cancel
ctl $A open can --type dummy --param hang=online >/dev/null
ctl $A online can >/dev/null
out=$(ctl $A cancel can)
expect_json "cancel a pending online" "$out" '.status == 0'
check "cancelled online leaves it Offline" wait_for 3 state_is $A can Offline
out=$(ctl $A cancel can)
expect_json "cancel with nothing pending: 5023" "$out" '.status == 5023'

# --- flags
ctl $A open fl --type dummy --param hang=online >/dev/null
ctl $A online fl >/dev/null
out=$(ctl $A online fl --flags ignore-resource-status)
expect_json "ignore-resource-status supersedes a pending online" "$out" '.status == 997 and .online_flags == 2'
out=$(ctl $A offline fl --flags queue-enabled)
expect_json "queue-enabled offline waits for the pending online" "$out" '.status == 997 or .status == 0'
ctl $A terminate fl >/dev/null
check "the queued offline ran after the pending one ended" wait_for 3 state_is $A fl Offline
out=$(ctl $A online web --flags 0x40)
expect_json "undefined OnlineV2 bit: 87" "$out" '.status == 87'
out=$(ctl $A offline web --flags 0x80)
expect_json "undefined OfflineV2 bit: 87" "$out" '.status == 87'
out=$(ctl $A online web --v1 --flags 0x1)
expect_json "flags on Online (V1): 87" "$out" '.status == 87'
expect_rc "unknown flag name is a usage error (2)" 2 ctl $A online web --flags no-such-flag
ctl $A open rts --type dummy --param fail_online=true >/dev/null
out=$(ctl $A online rts --flags return-to-source)
expect_json "return-to-source is carried on the resource" "$out" '.online_flags == 4 and .status == 5038'
ctl $A open dst --type dummy >/dev/null
ctl $A online dst >/dev/null
out=$(ctl $A offline dst --flags return-to-source,returning-to-source,due-to-embedded-failure --destination n2)
expect_json "offline flags are carried" "$out" '.status == 0 and .offline_flags == 26'
# do-not-update-persistent-state + restore-online-state
ctl $A online dst >/dev/null
out=$(ctl $A offline dst --flags do-not-update-persistent-state)
expect_json "do-not-update-persistent-state keeps persisted Online" "$out" '.state == "Offline" and .persisted_state == "Online"'
out=$(ctl $A online dst --flags restore-online-state)
expect_json "restore-online-state restores Online" "$out" '.status == 0 and .state == "Online"'
ctl $A offline dst >/dev/null
out=$(ctl $A online dst --flags restore-online-state)
expect_json "restore-online-state with persisted Offline does nothing" "$out" '.status == 0 and .state == "Offline"'
# lease + ignore-network-connectivity
ctl $A open net1 --type dummy >/dev/null
ctl $A open net2 --type dummy >/dev/null
ctl $A open net3 --type dummy >/dev/null
out=$(ctl $A lease test-coordinator --ttl 300)
expect_json "lease granted" "$out" '.status == 0 and .granted == true'
ctl $A online net1 >/dev/null
ctl $A online net2 --flags ignore-network-connectivity >/dev/null
sleep 0.5
out=$(ctl $A resources)
expect_json "lease expiry fences resources not onlined with ignore-network-connectivity" "$out" \
    '(.resources[] | select(.resource=="net1") | .state) == "Offline" and (.resources[] | select(.resource=="net2") | .state) == "Online"'
out=$(ctl $A online net3)
expect_json "online without a lease is refused (1231)" "$out" '.status == 1231'
out=$(ctl $A online net3 --flags ignore-network-connectivity)
expect_json "ignore-network-connectivity proceeds without the lease" "$out" '.status == 0'
out=$(ctl $A offline net3 --flags ignore-network-connectivity)
expect_json "offline ignore-network-connectivity proceeds" "$out" '.status == 0'
ctl $A lease test-coordinator --ttl 0 >/dev/null

# --- controls
out=$(ctl $A control web GET_COMMON_PROPERTIES)
expect_json "common properties by the agent's default" "$out" '.status == 0 and .properties.pending_timeout_ms == "180000"'
out=$(ctl $A control web GET_PRIVATE_PROPERTIES)
expect_json "private properties" "$out" '.status == 0 and .properties.online_delay_ms == "300"'
out=$(ctl $A control web VALIDATE_PRIVATE_PROPERTIES --prop online_delay_ms=abc)
expect_json "validate private properties rejects a bad value" "$out" '.status == 87'
out=$(ctl $A control web SET_PRIVATE_PROPERTIES --prop online_delay_ms=10)
expect_json "set private properties: stored for the next online (5024)" "$out" '.status == 5024'
out=$(ctl $A control web 0x01000000)
expect_json "CLUSCTL_RESOURCE_UNKNOWN by number" "$out" '.status == 0'
out=$(ctl $A control web GET_RESOURCE_TYPE)
expect_json "GET_RESOURCE_TYPE" "$out" '.properties.type == "dummy"'
out=$(ctl $A control web 0x02000005)
expect_json "a type code on control is refused" "$out" '.status == 87'
out=$(ctl $A control web GET_FLAGS --begin --wait)
expect_json "BeginResourceControl completes by event" "$out" '.status == 0 and (.events | length) == 1 and .events[0].kind == "control_done" and .events[0].call_id > 0'
out=$(ctl $A control web GET_FLAGS --user root --wait)
expect_json "BeginResourceControlAsUser" "$out" '.status == 0'
out=$(ctl $A control web GET_FLAGS --user no-such-user-x)
expect_json "AsUser with an unknown user: 87" "$out" '.status == 87'
out=$(ctl $A type-control dummy GET_CHARACTERISTICS)
expect_json "ResourceTypeControl" "$out" '.status == 0 and .properties.characteristics == "0"'
out=$(ctl $A type-control dummy GET_CHARACTERISTICS --begin --wait)
expect_json "BeginResourceTypeControl" "$out" '.status == 0'
out=$(ctl $A type-control dummy GET_ARB_TIMEOUT)
expect_json "GET_ARB_TIMEOUT of a non-quorum type: 1" "$out" '.status == 1'

# --- arbitrate/release on a type without them
out=$(ctl $A arbitrate web)
expect_json "arbitrate on a type without it: 1" "$out" '.status == 1'
out=$(ctl $A release web)
expect_json "release on a type without it: 1" "$out" '.status == 1'

# --- plug-in type
marker="$WORK/plug.marker"
out=$(ctl $A open plug --type testplug --param marker="$marker")
expect_json "open a plug-in resource" "$out" '.status == 0'
ctl $A online plug --wait >/dev/null
check "the plug-in's online ran (marker file)" test -f "$marker"
ctl $A offline plug --wait >/dev/null
check "the plug-in's offline ran" test ! -f "$marker"
out=$(ctl $A load-plugin /etc/passwd)
expect_json "load-plugin outside --plugin-dir is refused" "$out" '.status == 5'

# --- close
out=$(ctl $A close web)
expect_json "close an online resource" "$out" '.status == 0'
out=$(ctl $A state web)
expect_json "closed resource is gone" "$out" '.status == 5007'

# --- exit codes
expect_rc "unknown resource exits 1" 1 ctl $A state nosuch
expect_rc "usage error exits 2" 2 ctl $A online
expect_rc "unreachable agent exits 3" 3 "$CLUSCTL" --agent tcp://127.0.0.1:1 state web
out=$("$CLUSCTL" --agent tcp://127.0.0.1:1 -o json state web)
expect_json "unreachable agent in JSON" "$out" '.status == 5051'
check "clusctl --help" "$CLUSCTL" --help
check "clusctl online --help" "$CLUSCTL" online --help

finish
