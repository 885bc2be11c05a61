# shellcheck shell=bash
# lab_lib.sh - helpers for the lab tests (sourced after lib.sh): a deploy/lab/lab.sh
# lab per test run (one that a killed earlier run left is removed by the next), the
# safety polls of every node's mount table and of every agent, a writer that logs only
# fsync'd records, and clean-up of everything on exit.
SRC=${CLUS_SOURCE_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
LAB_SH=$SRC/deploy/lab/lab.sh

[ "$(id -u)" = 0 ] || skip "needs root (network namespaces, loop devices, mounts)"
for c in ip nsenter unshare losetup mkfs.ext4 e2fsck setsid; do need "$c"; done
probe=clt-probe-$$
if ! ip netns add "$probe" 2>/dev/null; then skip "cannot create network namespaces (ip netns add)"; fi
ip netns del "$probe" 2>/dev/null
[ -c /dev/loop-control ] || skip "no /dev/loop-control"
COORD_BIN=$BUILD/coordinator/clus-coordinator
[ -x "$COORD_BIN" ] || { echo "FAIL: $COORD_BIN not built"; exit 1; }

export CLUS_BUILD_DIR=$BUILD
export CLUS_LAB_ROOT=${CLUS_LAB_ROOT:-/run/clus-lab}
# The lab is named after the test and this shell's pid: runs of the suite from two
# checkouts or build directories do not meet. A lab whose test died without its trap
# (SIGKILL, a ctest timeout) is removed here by the next run of the same test.
LAB_SHORT=${LAB_SHORT:-${TEST_NAME#test_lab_}}
export CLUS_LAB_NAME=clt-$LAB_SHORT-$$
LAB=$CLUS_LAB_ROOT/$CLUS_LAB_NAME

lab() { bash "$LAB_SH" "$@"; }

remove_stale_labs() {
    local name pid
    for name in $( (ls "$CLUS_LAB_ROOT" 2>/dev/null; ip netns list 2>/dev/null | awk '{ print $1 }' |
        sed -E 's/-(br|co|n[0-9]+)$//') | grep -E "^clt-$LAB_SHORT-[0-9]+$" | sort -u); do
        pid=${name##*-}
        [ "$pid" = $$ ] && continue
        kill -0 "$pid" 2>/dev/null && continue # its test still runs
        echo "# removing the lab $name left by a test that died"
        CLUS_LAB_NAME=$name bash "$LAB_SH" down >/dev/null 2>&1
    done
}

lab_cleanup() {
    local pid
    for pid in "${PIDS[@]}"; do kill -9 "$pid" 2>/dev/null; done
    for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null; done
    PIDS=()
    if [ -d "$LAB/logs" ]; then mkdir -p "$WORK/lab-logs" && cp -a "$LAB"/logs/. "$WORK/lab-logs/" 2>/dev/null; fi
    lab down >/dev/null 2>&1 || lab down
    cleanup
}
trap lab_cleanup EXIT
trap 'exit 130' INT TERM HUP

lab_up() { # ARGS for lab.sh up
    remove_stale_labs
    if ! lab up "$@" >"$WORK/up.log" 2>&1; then
        cat "$WORK/up.log"
        echo "FAIL: lab up $*"
        exit 1
    fi
    LAB_NODES=$(. "$LAB/lab.env"; echo "$NODES")
}

node_ip() { echo "10.77.0.$((10 + ${1#n}))"; }

# clusctl -o json against the coordinator / against NODE's agent from inside NODE.
cctl() { lab ctl -o json "$@"; }
actl() { local n=$1; shift; lab agent "$n" -o json "$@"; }

res_json() { cctl status | jq -c ".resources[] | select(.name == \"$1\")"; }
settled() { [ "$(res_json "$1" | jq -r '"\(.owner) \(.state) \(.operation)"')" = "$2 $3 " ]; }
settled_off() { # NAME NODE: Online on a node other than NODE, nothing under way
    res_json "$1" | jq -e --arg n "$2" '.owner != $n and .state == "Online" and .operation == ""' >/dev/null
}
node_is() { [ "$(cctl status | jq -r ".nodes[] | select(.name == \"$1\") | .state")" = "$2" ]; }
agent_state() { actl "$1" --timeout 1000 state "$2" 2>/dev/null | jq -r '.state // ""'; }
agent_is() { [ "$(agent_state "$1" "$2")" = "$3" ]; }
agent_not() { local s; s=$(agent_state "$1" "$2"); [ -n "$s" ] && [ "$s" != "$3" ]; }
# EVENT-FILTER: the wall-clock ms of NODE's last event matching a jq filter ("" if none)
event_ms() { # NODE FILTER
    actl "$1" watch --after 0 --timeout 300 2>/dev/null | jq -s -r "[.[] | select($2)] | last | .timestamp_ms // empty"
}
# unreachable URL: clusctl in the coordinator's namespace gets no answer from URL within 2 s
# (clusctl's --timeout bounds the connect too; timeout(1) stays as a second bound).
unreachable() { ! timeout 2 bash "$LAB_SH" ctl --agent "$1" --timeout 300 resources >/dev/null 2>&1; }
# no_answer NODE: NODE's agent, asked from inside NODE, does not answer within 2 s.
no_answer() { ! timeout 2 bash "$LAB_SH" agent "$1" --timeout 300 resources >/dev/null 2>&1; }
quiet() { "$@" >/dev/null 2>&1; }
acks_at_least() { [ "$(wc -l <"$WORK/acks")" -ge "$1" ]; }
last_seq() { actl "$1" watch --after 0 --timeout 300 2>/dev/null | jq -s '[.[].seq] | max // 0'; }
now_ms() { date +%s%3N; }

# mounted_on VOLUME: the nodes whose own mount table has the volume's image (any loop
# device bound to it) mounted, from `lab.sh mounts`.
mounted_on() { lab mounts | awk -v v="$1" '$1 == v { print $2 }' | sort -u | tr '\n' ' ' | sed 's/ $//'; }

# ------------------------------------------------------------------ the polls

# start_mount_poll VOLUME: reads, over and over, the mount table of every node (through
# the node's anchor process, /proc/PID/mountinfo) and the host's, and finds in them
# the loop devices bound to the volume's image at that moment: one awk process reads
# all the tables back to back, so a round is a snapshot of well under a millisecond.
# A round that finds the image mounted in two tables is a violation. The timeline of
# changes goes to $WORK/mount.timeline.
start_mount_poll() {
    local vol=$1 img=$LAB/disks/$1.img views="" i pid
    for i in $(seq 1 "$LAB_NODES"); do
        pid=$(cat "$LAB/run/n$i.anchor.pid")
        is_pid "$pid" || { echo "FAIL: no anchor for n$i"; exit 1; }
        views+=" n$i=/proc/$pid/mountinfo"
    done
    views+=" host=/proc/self/mountinfo"
    : >"$WORK/mount.rounds"
    (
        shopt -s nullglob
        prev=""
        while :; do
            files=(/sys/block/loop*/loop/backing_file)
            line=$(awk -v img="$img" -v backing="${files[*]}" -v views="$views" 'BEGIN {
                nb = split(backing, bf, " ")
                for (i = 1; i <= nb; i++) {
                    if ((getline l < bf[i]) > 0 && l == img) {
                        split(bf[i], p, "/"); df = "/sys/block/" p[4] "/dev"
                        if ((getline d < df) > 0) dev[d] = p[4]
                        close(df)
                    }
                    close(bf[i])
                }
                nv = split(views, vw, " ")
                for (i = 1; i <= nv; i++) {
                    split(vw[i], kv, "="); ok = 0
                    while ((getline l < kv[2]) > 0) {
                        ok = 1; split(l, f, " ")
                        if (f[3] in dev) on[kv[1]] = on[kv[1]] "+" dev[f[3]]
                    }
                    close(kv[2])
                    if (!ok) err = err " " kv[1]
                }
                c = 0; s = ""
                for (i = 1; i <= nv; i++) { split(vw[i], kv, "="); if (kv[1] in on) { c++; s = s " " kv[1] ":" substr(on[kv[1]], 2) } }
                printf "%d%s%s\n", c, s, (err != "" ? " unreadable:" err : "")
            }')
            echo . >>"$WORK/mount.rounds"
            if [ "${line%% *}" -gt 1 ] 2>/dev/null; then
                echo "$(date +%T.%N) mounted on two nodes: $line" >>"$WORK/violations"
            fi
            case $line in *unreadable:*) echo "$(date +%T.%N) $line" >>"$WORK/poll.errors" ;; esac
            if [ "$line" != "$prev" ]; then
                echo "$(date +%T.%N) $line" >>"$WORK/mount.timeline"
                prev=$line
            fi
            sleep 0.01
        done
    ) &
    PIDS+=($!)
    disown $!
}

# start_agent_poll VOLUME: asks every agent (from inside its own node, so a cut-off node
# is asked too) for its resources, in parallel, over and over; two agents reporting
# the volume Online (or OnlinePending) in one round is a violation. A frozen agent
# does not answer: it reports nothing.
start_agent_poll() {
    local vol=$1
    : >"$WORK/agent.rounds"
    (
        while :; do
            for i in $(seq 1 "$LAB_NODES"); do
                (timeout 1 nsenter --net="/run/netns/$CLUS_LAB_NAME-n$i" -- "$CLUSCTL" \
                    --agent "tcp://$(node_ip "n$i"):7700" --timeout 400 -o json resources 2>/dev/null |
                    jq -r --arg v "$vol" '.resources[]? | select(.resource == $v and (.state == "Online" or .state == "OnlinePending")) | .resource' \
                        >"$WORK/apoll.n$i") &
            done
            wait
            n=$(cat "$WORK"/apoll.n* | grep -c .)
            [ "$n" -gt 1 ] && echo "$(date +%T.%N) $vol Online on $n agents" >>"$WORK/violations"
            echo . >>"$WORK/agent.rounds"
            sleep 0.05
        done
    ) &
    PIDS+=($!)
    disown $!
}

stop_polls() {
    local pid
    for pid in "${PIDS[@]}"; do kill -9 "$pid" 2>/dev/null; done
    for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null; done
    PIDS=()
}

check_polls() { # VOLUME
    local mr ar
    mr=$(wc -l <"$WORK/mount.rounds")
    ar=$(wc -l <"$WORK/agent.rounds")
    if [ -s "$WORK/violations" ]; then
        fail "$1 was on two nodes: $(head -3 "$WORK/violations")"
    elif [ "$mr" -lt 100 ] || [ "$ar" -lt 10 ]; then
        fail "the polls did not run ($mr mount rounds, $ar agent rounds)"
    else
        pass "$1 was never mounted on two nodes nor Online on two agents ($mr rounds of every node's mount table, $ar rounds of every agent)"
    fi
    if [ -s "$WORK/poll.errors" ]; then
        fail "a node's mount table could not be read: $(head -2 "$WORK/poll.errors")"
    fi
    echo "# mount timeline ($1: nodes whose mount table has it):"
    sed 's/^/#   /' "$WORK/mount.timeline"
}

# ------------------------------------------------------------------ the writer

# start_writer NODE VOLUME: an application on NODE appending numbered records to
# journal.txt on the volume's mount, each one fsync'd (dd conv=fsync) before its
# number goes to $WORK/acks. It works from inside the mount (its cwd), so once the
# file system is shut down or unmounted it fails instead of writing to the directory
# underneath; it stops at its first failed write.
start_writer() {
    local node=$1 mnt=$LAB/mnt/$2
    : >"$WORK/acks"
    lab exec "$node" bash -c '
        cd "$1" || exit 1
        i=0
        while [ $i -lt 100000 ]; do
            i=$((i + 1))
            printf "record %06d\n" $i | dd of=journal.txt oflag=append conv=notrunc,fsync status=none 2>/dev/null || exit 0
            echo $i >>"$2"
            sleep 0.01
        done' writer "$mnt" "$WORK/acks" >"$WORK/writer.log" 2>&1 &
    WRITER_PID=$!
    PIDS+=("$WRITER_PID")
}

# check_acks NODE VOLUME: every acknowledged record is in the journal as NODE sees it.
check_acks() {
    local node=$1 mnt=$LAB/mnt/$2 acked missing
    acked=$(wc -l <"$WORK/acks")
    lab exec "$node" cat "$mnt/journal.txt" >"$WORK/journal.seen" 2>/dev/null
    missing=$(awk 'NR == FNR { have[$2 + 0] = 1; next } !(($1 + 0) in have) { print $1 }' \
        "$WORK/journal.seen" "$WORK/acks" | head -5)
    if [ "$acked" -lt 10 ]; then
        fail "the writer acknowledged only $acked records"
    elif [ -n "$missing" ]; then
        fail "acknowledged records missing on $node: $(echo "$missing" | tr '\n' ' ') (of $acked)"
    else
        pass "all $acked acknowledged (fsync'd) records are on $node ($(wc -l <"$WORK/journal.seen") in the journal)"
    fi
}

# fsck_clean VOLUME: takes the volume offline through the coordinator, makes sure no
# node has it mounted, and runs e2fsck -fn on the image.
fsck_clean() {
    local vol=$1 out
    out=$(cctl offline "$vol" --wait --timeout 20000)
    expect_json "$vol taken offline through the coordinator" "$out" '.status == 0'
    check "$vol is mounted nowhere" wait_for 10 test -z "$(mounted_on "$vol")"
    if [ -n "$(mounted_on "$vol")" ]; then
        fail "e2fsck not run: $vol is still mounted on $(mounted_on "$vol")"
        return
    fi
    e2fsck -fn "$LAB/disks/$vol.img" >"$WORK/fsck.log" 2>&1
    local rc=$?
    if [ $rc = 0 ]; then pass "e2fsck -fn of the image is clean"; else fail "e2fsck -fn exit $rc: $(tail -5 "$WORK/fsck.log")"; fi
}

lab_finish() {
    local f
    # the daemons' logs next to the test's, where finish() looks for sanitizer reports
    for f in "$LAB"/logs/*.log; do [ -e "$f" ] && cp "$f" "$WORK/lab-$(basename "$f")"; done
    if [ "$FAILS" != 0 ]; then
        echo "--- lab logs (last 40 lines each)"
        for f in "$LAB"/logs/*.log; do echo "== $f"; tail -40 "$f"; done
    fi
    finish
}
