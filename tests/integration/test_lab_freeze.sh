#!/usr/bin/env bash
# The lab (deploy/lab/lab.sh): the agent of a volume's owner is frozen (SIGSTOP) while
# an application on that node keeps appending fsync'd records to the mount. A frozen
# agent cannot fence: the coordinator declares the node down after the lease and tries
# the next node, where the volume's claim (an OFD lock the frozen agent still holds on
# the shared image) refuses it. Thawed, the agent fences before it answers anything,
# the volume comes online on another node with every acknowledged record, and the node
# rejoins without anything being touched. The mount table of every node and every
# agent's view are polled through the whole test: never on two nodes. e2fsck -fn of
# the image is clean at the end. Needs root and ip netns; skips (77) otherwise.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lab_lib.sh"

LEASE=1000
lab_up 3 --lease $LEASE
check "data is Online on n1" wait_for 20 settled data n1 Online
start_mount_poll data
start_agent_poll data

for i in 1 2 3; do
    out=$(actl n1 control data VOLUME_WRITE --prop path=clus-$i.txt --in "write $i through clus")
    expect_json "VOLUME_WRITE $i on n1 acknowledged" "$out" '.status == 0'
done
start_writer n1 data
check "the writer on n1 is acknowledging records" wait_for 10 acks_at_least 20

# --- freeze n1's agent
t0=$(now_ms)
lab freeze n1 >/dev/null
check "n1's agent does not answer (asked from inside n1)" no_answer n1
check "the coordinator declares n1 Down after its lease" wait_for 15 node_is n1 Down
check "it tries data on n2: the claim held by the frozen agent refuses it (5006)" \
    wait_for 15 bash -c "bash '$LAB_SH' agent n2 -o json watch --after 0 --timeout 200 |
        jq -s -e '[.[] | select(.resource == \"data\" and .status == 5006)] | length > 0'"
t_refused=$(now_ms)
check "data stays mounted on the frozen n1 only" test "$(mounted_on data)" = n1
acks_then=$(wc -l <"$WORK/acks")
sleep 1.5 # more refused tries; the application on n1 keeps writing
check "the application on n1 kept writing while its agent was frozen" \
    test "$(wc -l <"$WORK/acks")" -gt "$acks_then"
check "still mounted on n1 only" test "$(mounted_on data)" = n1
echo "# measured: freeze -> first refused online on n2 after $((t_refused - t0)) ms"

# --- thaw: n1 fences before it answers anything
t_thaw=$(now_ms)
lab thaw n1 >/dev/null
first=$(actl n1 --timeout 2000 resources)
expect_json "n1's first answer after the thaw shows data not Online" "$first" \
    '[.resources[] | select(.resource == "data" and (.state == "Online" or .state == "OnlinePending"))] | length == 0'
ev=$(actl n1 watch --after 0 --timeout 300 | jq -s .)
expect_json "n1 fenced data itself (its lease had run out)" "$ev" \
    '[.[] | select(.kind == "fenced" and .resource == "data")] | length == 1'
check "the writer on n1 stops: its writes fail once the volume is fenced" \
    wait_for 10 bash -c "! kill -0 $WRITER_PID 2>/dev/null"
check "data comes online on another node" wait_for 20 settled_off data n1
owner=$(res_json data | jq -r .owner)
t_on=$(event_ms "$owner" '.resource == "data" and .new_state == "Online"')
echo "# measured: thaw -> data Online on $owner in $((t_on - t_thaw)) ms (retried every second while refused)"
check "$owner reports it Online itself" agent_is "$owner" data Online
check "only $owner's mount table has it" test "$(mounted_on data)" = "$owner"
check_acks "$owner" data
for i in 1 2 3; do
    out=$(actl "$owner" control data VOLUME_READ --prop path=clus-$i.txt --prop length=21)
    expect_json "VOLUME_WRITE $i is on $owner" "$out" ".status == 0 and .output == \"write $i through clus\""
done

# --- n1 rejoins; nothing is touched
check "n1 is Up again" wait_for 30 node_is n1 Up
before=$(res_json data)
seq_owner=$(last_seq "$owner")
seq_n1=$(last_seq n1)
sleep 1.5
check "data stays Online on $owner" settled data "$owner" Online
expect_json "no restart, failover or failure counted by the rejoin" "$(res_json data)" \
    "$(echo "$before" | jq -r '"(.restarts == \(.restarts) and .failovers == \(.failovers))"')"
check "no event on $owner since n1 rejoined" test "$(last_seq "$owner")" = "$seq_owner"
ev=$(actl n1 watch --after "$seq_n1" --timeout 300 | jq -s .)
expect_json "nothing happened on n1 either" "$ev" 'length == 0'
check "n1 does not run data" agent_is n1 data Offline

fsck_clean data
stop_polls
check_polls data
lab_finish
