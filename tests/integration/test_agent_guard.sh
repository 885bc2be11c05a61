#!/usr/bin/env bash
# The lease guard of process resources: an agent killed with -9 while it
# holds a lease cannot fence anything itself, so its processes' guards kill
# them when the lease runs out - the coordinator re-homes them exactly then,
# and they must never run twice. Without a lease, or onlined with
# ignore-network-connectivity, they live on (and can be adopted). Like the
# agent's own self-fence, a lease binds every process of the node, also one
# started before the lease was given.
. "$(dirname "$0")/lib.sh"

MARK="clus-test-marker-$$"
start_agent a
A=$URL_a
ctl $A open p1 --type process --param command="sleep 300; : $MARK-p1" >/dev/null
ctl $A open p2 --type process --param command="sleep 300; : $MARK-p2" >/dev/null
ctl $A open p3 --type process --param command="sleep 300; : $MARK-p3" >/dev/null
ctl $A online p3 --wait >/dev/null       # before the lease
ctl $A lease test-coordinator --ttl 4000 >/dev/null
ctl $A online p1 --wait >/dev/null
ctl $A online p2 --flags ignore-network-connectivity --wait >/dev/null
check "the lease file says bound" grep -q '^bound ' "$WORK/a/lease"
check "p1 runs under the guard" alive "--guard .*$MARK-p1"
check "p1's command runs" alive "^/bin/sh -c sleep 300; : $MARK-p1"

kill_pid -9 "$PID_a"
wait "$PID_a" 2>/dev/null
check "p1 outlives its agent while the lease is valid" alive "$MARK-p1"
check "p1 is fenced when the lease runs out" wait_for 10 gone "$MARK-p1"
check "p2 (ignore-network-connectivity) is not fenced" alive "$MARK-p2"
check "p3 (started before the lease) is fenced too" wait_for 10 gone "$MARK-p3"

# A released lease unbinds the guards.
start_agent b
B=$URL_b
ctl $B open q --type process --param command="sleep 300; : $MARK-q" >/dev/null
ctl $B lease test-coordinator --ttl 800 >/dev/null
ctl $B online q --wait >/dev/null
ctl $B lease test-coordinator --ttl 0 >/dev/null
check "the lease file says unbound after release" grep -q '^unbound' "$WORK/b/lease"
sleep 1.2
check "a released lease fences nothing" alive "$MARK-q"
# Renewals keep it alive past the first ttl; the agent's own fence still works.
ctl $B lease test-coordinator --ttl 2000 --epoch 2 >/dev/null
for _ in 1 2 3 4 5 6 7 8; do sleep 0.3; ctl $B lease test-coordinator --ttl 2000 --epoch 2 >/dev/null; done
check "renewals keep the guarded process" alive "$MARK-q"
check "the agent fences it itself when the lease runs out" wait_for 10 state_is $B q Offline
check "and the process is gone" wait_for 10 gone "$MARK-q"

finish
