#!/usr/bin/env bash
# The lab (deploy/lab/lab.sh, network namespaces, one shared ext4 image): the owner of
# a volume is cut off from the network while an application on it appends fsync'd
# records. It fences itself when its lease runs out (the volume goes offline there and
# leaves its mount table), the volume comes online on the next node, and every
# acknowledged record is there. Healed, the node rejoins and nothing is touched. The
# mount table of every node and every agent's view are polled through the whole test:
# the volume is never mounted on two nodes nor Online on two agents. e2fsck -fn of the
# image is clean at the end. Needs root and ip netns; skips (77) otherwise.
# With LAB_CUT=--oneway (test_lab_oneway.sh) the owner is cut off one way only: what
# it is sent arrives, what it sends is dropped - lease renewals reach it, the answers
# never come back.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lab_lib.sh"
CUT=${LAB_CUT:-}

LEASE=1000
lab_up 3 --lease $LEASE
check "data is Online on n1 (its first preferred node)" wait_for 20 settled data n1 Online
check "n1's mount table has it, no other node's does" test "$(mounted_on data)" = n1
start_mount_poll data
start_agent_poll data

# --- acknowledged writes: through clus (VOLUME_WRITE fsyncs before it answers) and
# by an application on n1 writing to the mount
for i in 1 2 3; do
    out=$(actl n1 control data VOLUME_WRITE --prop path=clus-$i.txt --in "write $i through clus")
    expect_json "VOLUME_WRITE $i on n1 acknowledged" "$out" '.status == 0'
done
start_writer n1 data
check "the writer on n1 is acknowledging records" wait_for 10 acks_at_least 20

# --- the cut (times: the agents' own event stamps, against the wall clock around the cut)
# bytes received on the established connections to/from the agents' port in NS
received() { # NS SS-FILTER
    nsenter --net="/run/netns/$1" -- ss -tinH state established "$2" |
        grep -o 'bytes_received:[0-9]*' | awk -F: '{ n += $2 } END { print n + 0 }'
}
t0=$(now_ms)
lab partition n1 $CUT >/dev/null
t1=$(now_ms)
if [ "$CUT" = --oneway ]; then
    a0=$(received "$CLUS_LAB_NAME-n1" '( sport = :7700 )')
    c0=$(received "$CLUS_LAB_NAME-co" '( dst '"$(node_ip n1)"' )')
    sleep 0.5
    a1=$(received "$CLUS_LAB_NAME-n1" '( sport = :7700 )')
    c1=$(received "$CLUS_LAB_NAME-co" '( dst '"$(node_ip n1)"' )')
    check "one way: n1 still receives requests (+$((a1 - a0)) bytes), the coordinator gets no answer (+$((c1 - c0)))" \
        test $((a1 - a0)) -gt 0 -a $((c1 - c0)) -eq 0
fi
check "the coordinator's namespace cannot reach n1's agent" unreachable "tcp://$(node_ip n1):7700"
check "n1 takes data offline by itself (asked from inside n1)" wait_for 10 agent_is n1 data Offline
ev=$(actl n1 watch --after 0 --timeout 300 | jq -s .)
expect_json "n1 fenced data: its lease ran out" "$ev" \
    '[.[] | select(.kind == "fenced" and .resource == "data")] | length == 1'
t_fence=$(echo "$ev" | jq '[.[] | select(.kind == "fenced" and .resource == "data")] | last | .timestamp_ms // 0')
check "data is no longer in n1's mount table" wait_for 5 test -z "$(mounted_on data | grep -w n1)"
check "the writer on n1 stops: its writes fail once the volume is fenced" \
    wait_for 10 bash -c "! kill -0 $WRITER_PID 2>/dev/null"
# Cut both ways, n1's lease was last renewed before the cut; cut one way, renewals
# still arrive until the coordinator stops renewing (lease_ms without an answer).
bound=$LEASE
[ "$CUT" = --oneway ] && bound=$((2 * LEASE))
check "n1 fenced within its lease ($((t_fence - t0)) ms after the cut, at most $bound)" \
    test $((t_fence - t0)) -le $((bound + 300))

check "data comes online on n2" wait_for 20 settled data n2 Online
t_on=$(event_ms n2 '.resource == "data" and .new_state == "Online"')
check "n2 reports it Online itself" agent_is n2 data Online
check "n2's mount table has it, and only n2's" test "$(mounted_on data)" = n2
check "not before n1 fenced and the lease ran out ($((t_on - t1)) ms >= $LEASE)" \
    test "$t_on" -gt "$t_fence" -a $((t_on - t1)) -ge $LEASE
echo "# measured (${CUT:-link down}): cut -> n1 fenced in $((t_fence - t0)) ms, -> data Online on n2 in $((t_on - t0)) ms (lease $LEASE, renew 250, margin 250)"
expect_json "a lost node counts a failover" "$(res_json data)" '.failovers == 1'

# --- every acknowledged write is there
check_acks n2 data
for i in 1 2 3; do
    out=$(actl n2 control data VOLUME_READ --prop path=clus-$i.txt --prop length=21)
    expect_json "VOLUME_WRITE $i is on n2" "$out" ".status == 0 and .output == \"write $i through clus\""
done

# --- heal: n1 rejoins, nothing is touched
before=$(res_json data)
seq_n2=$(last_seq n2)
seq_n1=$(last_seq n1)
t_heal=$(now_ms)
lab heal n1 >/dev/null
# The coordinator's connection to n1 survives the cut; its first retransmission after
# the heal comes up to about one partition later (TCP backoff).
check "n1 is Up again" wait_for 60 node_is n1 Up
echo "# measured: heal -> n1 Up in $(($(now_ms) - t_heal)) ms (after a $((t_heal - t0)) ms partition)"
sleep 1.5 # several renewals and status reads
check "data stays Online on n2 (failback is off)" settled data n2 Online
expect_json "no restart, failover or failure counted by the rejoin" "$(res_json data)" \
    "$(echo "$before" | jq '"(.restarts == \(.restarts) and .failovers == \(.failovers))"' -r)"
check "no event on n2 since the heal (nothing was called there)" test "$(last_seq n2)" = "$seq_n2"
ev=$(actl n1 watch --after "$seq_n1" --timeout 300 | jq -s .)
expect_json "nothing happened on n1 either" "$ev" 'length == 0'
check "n1 does not run data" agent_is n1 data Offline
check "data is mounted on n2 only" test "$(mounted_on data)" = n2

# --- the file system
fsck_clean data
stop_polls
check_polls data
lab_finish
