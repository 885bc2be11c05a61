#!/usr/bin/env bash
# deploy/lab/lab.sh itself: up/status/mounts/down, one namespace and address per node
# and nothing on the host's network, a mount table per node, partition/heal (both
# ways and one way) and freeze/thaw as the daemons see them, `up` refusing a lab
# that is up, and `down` removing everything - namespaces, links, processes, mounts,
# loop devices, the directory - also after an `up` that failed, an `up` killed half
# way, and a lab whose own records are lost. Needs root and ip netns; skips (77)
# otherwise.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lab_lib.sh"

host_net() { ip -o link show | awk '{ print $2 }' | sort; ip -o addr show | awk '{ print $2, $4 }' | sort; ip route show; }
lab_netns() { ip netns list | awk '{ print $1 }' | grep -E "^$CLUS_LAB_NAME-" || true; }
lab_loops() { losetup -l -n -O NAME,BACK-FILE | awk -v d="$LAB/" 'index($2, d) == 1 { print $1 }'; }
lab_host_mounts() { awk -v d="$LAB" 'index($5, d) == 1 { print $5 }' /proc/self/mountinfo; }
# the live (not zombie) processes among PIDS, with their command lines
alive() {
    local p st
    for p in "$@"; do
        st=$(awk '/^State:/ { print $2 }' "/proc/$p/status" 2>/dev/null)
        [ -n "$st" ] && [ "$st" != Z ] && echo "$p:$st:$(tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null)"
    done
}
lab_pids() { cat "$LAB"/run/*.pid 2>/dev/null; ip netns pids "$CLUS_LAB_NAME-n1" 2>/dev/null; }
# all_gone WHAT PIDS...: nothing of the lab is left
all_gone() {
    local what=$1; shift
    check "$what: no namespace left" test -z "$(lab_netns)"
    check "$what: no loop device bound to a lab image" test -z "$(lab_loops)"
    check "$what: nothing mounted under $LAB" test -z "$(lab_host_mounts)"
    local left; left=$(alive "$@")
    check "$what: no lab process alive${left:+ (left: $left)}" test -z "$left"
    check "$what: $LAB is gone" test ! -e "$LAB"
}

lab down >/dev/null 2>&1
expect_rc "down with nothing up is a no-op" 0 lab down
expect_rc "status with nothing up: exit 1" 1 lab status

# --- an up that fails leaves nothing
net_before=$(host_net)
CLUS_AGENT_BIN=/bin/false lab up 2 >"$WORK/failed-up.log" 2>&1
check "up with an agent that exits fails" test $? = 1
check "and says which" grep -q "the agent of n1 exited" "$WORK/failed-up.log"
all_gone "after a failed up"

# --- up
lab_up 3 --volumes 2
check "the host's links, addresses and routes are untouched" test "$(host_net)" = "$net_before"
check "one namespace per node, the coordinator's and the bridge's" \
    test "$(lab_netns | sort | tr '\n' ' ')" = "$CLUS_LAB_NAME-br $CLUS_LAB_NAME-co $CLUS_LAB_NAME-n1 $CLUS_LAB_NAME-n2 $CLUS_LAB_NAME-n3 "
for n in n1 n2 n3; do
    check "$n has $(node_ip $n)/24 on its eth0" \
        bash -c "bash '$LAB_SH' exec $n ip -o -4 addr show eth0 | grep -q ' $(node_ip $n)/24 '"
done
check "the coordinator's namespace has 10.77.0.2/24" \
    bash -c "bash '$LAB_SH' exec co ip -o -4 addr show eth0 | grep -q ' 10.77.0.2/24 '"
out=$(lab status)
check "status lists the coordinator and every node" test "$(grep -cE '^(co|n[1-3]) +10\.77\.0\.' <<<"$out")" = 4
check "status shows the coordinator's view" grep -q '^RESOURCE' <<<"$out"
check "the volumes are Online on their first preferred nodes" \
    wait_for 20 bash -c "bash '$LAB_SH' ctl -o json status | jq -e '[.resources[] | \"\(.name)=\(.owner)=\(.state)\"] | sort == [\"data2=n2=Online\", \"data=n1=Online\"]'"
check "mounts: data on n1, data2 on n2" \
    test "$(lab mounts | awk '{ print $1, $2 }' | sort | tr '\n' ,)" = "data n1,data2 n2,"
mnt=$LAB/mnt/data
check "data's mount point is a mount in n1's mount table" quiet lab exec n1 findmnt -n "$mnt"
check "not in n2's" bash -c "! bash '$LAB_SH' exec n2 findmnt -n '$mnt'"
check "not in the host's" bash -c "! findmnt -n '$mnt'"
out=$(actl n1 volume status data)
expect_json "n1's agent reports data mounted and claimed" "$out" \
    '.properties.mounted == "true" and .properties.claimed == "true"'
expect_rc "up while the lab is up is refused" 1 lab up 3
check "and leaves the lab as it was" settled data n1 Online

# --- the safety poll sees a double mount (a control for the failover tests): the image
# mounted by hand, read-only and without journal replay, in n2 while n1 has it
start_mount_poll data
extra=$(losetup -f --show -r "$LAB/disks/data.img")
lab exec n2 mount -t ext4 -o ro,noload "$extra" "$mnt"
check "mounts shows data on n1 and n2" test "$(mounted_on data)" = "n1 n2"
sleep 0.3
lab exec n2 umount "$mnt"
losetup -d "$extra"
check "mounts shows n1 only again" test "$(mounted_on data)" = n1
stop_polls
check "the mount poll reported it as mounted on two nodes" grep -q "mounted on two nodes: 2 n1:loop[0-9]* n2:loop" "$WORK/violations"
rm -f "$WORK/violations"

# --- partition and heal, both ways
lab partition n3 >/dev/null
check "partition: the coordinator's namespace cannot reach n3" unreachable "tcp://$(node_ip n3):7700"
check "partition: n3's agent answers inside n3" quiet actl n3 --timeout 1000 resources
check "partition: n1 is still reachable" quiet lab ctl --agent "tcp://$(node_ip n1):7700" --timeout 1000 resources
check "status shows n3 cut" bash -c "bash '$LAB_SH' status | grep -qE '^n3 .*cut\(link\)'"
lab heal n3 >/dev/null
check "heal: n3 is reachable again" wait_for 30 lab ctl --agent "tcp://$(node_ip n3):7700" --timeout 1000 resources
check "status shows n3 up" bash -c "bash '$LAB_SH' status | grep -qE '^n3 +[0-9.]+ +[^ ]+ +up '"
lab partition n3 --oneway >/dev/null
check "one-way partition: no answer from n3" unreachable "tcp://$(node_ip n3):7700"
check "status shows it" bash -c "bash '$LAB_SH' status | grep -qE '^n3 .*cut\(oneway\)'"
lab heal n3 >/dev/null
check "heal: n3 answers again" wait_for 30 lab ctl --agent "tcp://$(node_ip n3):7700" --timeout 1000 resources

# --- freeze and thaw
lab freeze n3 >/dev/null
check "freeze: n3's agent is stopped" bash -c "bash '$LAB_SH' status | grep -qE '^n3 .*agent frozen'"
check "freeze: it does not answer" no_answer n3
lab thaw n3 >/dev/null
check "thaw: it answers again" quiet actl n3 --timeout 1000 resources
check "the coordinator sees n3 Up" wait_for 30 node_is n3 Up

# --- down removes everything
pids=$(lab_pids | sort -u | tr '\n' ' ')
check "the lab's processes are known ($(echo "$pids" | wc -w))" test "$(echo "$pids" | wc -w)" -ge 7
out=$(lab down 2>&1)
check "down succeeds" test $? = 0
# shellcheck disable=SC2086
all_gone "after down" $pids
check "the host's network is as before" test "$(host_net)" = "$net_before"

# --- an up killed half way (as a crash or Ctrl-C would), then down
lab up 3 >"$WORK/killed-up.log" 2>&1 &
up_pid=$!
wait_for 10 test -s "$LAB/run/n2.agent.pid"
kill -9 "$up_pid" 2>/dev/null
wait "$up_pid" 2>/dev/null
pids=$(lab_pids | sort -u | tr '\n' ' ')
check "the killed up left a half-made lab" test -n "$(lab_netns)"
expect_rc "down after a killed up" 0 lab down
# shellcheck disable=SC2086
all_gone "after a killed up" $pids

# --- a lab with a volume mounted whose own records are lost
lab_up 2
check "data is Online on n1" wait_for 20 settled data n1 Online
pids=$(lab_pids | sort -u | tr '\n' ' ')
rm -f "$LAB/lab.env" "$LAB/netns.list" "$LAB"/run/*.pid
expect_rc "down without the lab's records" 0 lab down
# shellcheck disable=SC2086
all_gone "after down without records" $pids

finish
