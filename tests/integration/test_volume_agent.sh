#!/usr/bin/env bash
# The volume resource type through clus-agent and clusctl, on real loop
# devices with ext4: bad input, two agents on one image (online and
# arbitrate, also with the first agent frozen by SIGSTOP), data surviving
# offline+online, what an offline volume refuses (mount, raw write, reads
# through clus), terminate and a busy offline with a file held open, agent
# kill -9 and adoption with RECOVER_MONITOR_STATE (no remount), and the system
# volume refused. Needs root; skips (77) with the reason otherwise.
. "$(dirname "$0")/lib.sh"

[ "$(id -u)" = 0 ] || skip "needs root (loop devices and mount)"
[ -c /dev/loop-control ] || skip "no /dev/loop-control"
need mkfs.ext4
need losetup
need findmnt

# Everything mounted or attached under $WORK goes, whatever happened: agents
# first (they hold the devices), then mounts, then loop devices.
vol_cleanup() {
    local pid m dev
    exec 9>&- 2>/dev/null
    for pid in "${PIDS[@]}"; do
        kill -CONT "$pid" 2>/dev/null
        kill -9 "$pid" 2>/dev/null
    done
    for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null; done
    for m in $(awk -v w="$WORK/" 'index($5, w) == 1 { print $5 }' /proc/self/mountinfo | sort -r); do
        umount -l "$m" 2>/dev/null
    done
    # losetup -d of a device still in use only marks it; wait until it is gone.
    local i
    for i in $(seq 1 50); do
        local devs
        devs=$(losetup -l -n -O NAME,BACK-FILE | awk -v w="$WORK/" 'index($2, w) == 1 { print $1 }')
        [ -z "$devs" ] && break
        for dev in $devs; do losetup -d "$dev" 2>/dev/null; done
        sleep 0.1
    done
    cleanup
}
trap vol_cleanup EXIT

IMG=$WORK/disk.img
MNT_A=$WORK/mnt_a
MNT_B=$WORK/mnt_b
truncate -s 32M "$IMG"
mkdir -p "$MNT_A" "$MNT_B" "$WORK/busy"

loops_of_image() { losetup -l -n -O NAME,BACK-FILE | awk -v f="$IMG" '$2 == f { print $1 }'; }
mount_id() { awk -v m="$1" '$5 == m { id = $1 } END { print id }' /proc/self/mountinfo; }
mounted() { findmnt -n "$1" >/dev/null; }
not_mounted() { ! findmnt -n "$1" >/dev/null; }
no_loops() { [ -z "$(loops_of_image)" ]; }

PORT_A=$(free_port)
PORT_OVERRIDE=$PORT_A start_agent a
start_agent b
A=$URL_a
B=$URL_b

# --- bad input: a clear error, nothing attached, mounted or left open
mount -t tmpfs -o size=1m tmpfs "$WORK/busy"
bad() { # DESCRIPTION STATUS PARAMS...
    local what=$1 want=$2; shift 2
    local out args=() p
    for p in "$@"; do args+=(--param "$p"); done
    out=$(ctl $A open bad --type volume "${args[@]}")
    expect_json "$what: $want" "$out" ".status == $want"
    out=$(ctl $A state bad)
    expect_json "$what: nothing left" "$out" '.status == 5007'
}
bad "missing image" 2 backend=loop image=$WORK/missing.img mountpoint=$MNT_A
bad "image that is not a regular file" 87 backend=loop image=$WORK mountpoint=$MNT_A
bad "block device that is not a block device" 87 backend=block device=$IMG mountpoint=$MNT_A
bad "relative mount point" 87 backend=loop image=$IMG mountpoint=mnt_a
bad "missing mount point" 2 backend=loop image=$IMG mountpoint=$WORK/nope
bad "'..' in a path" 87 backend=loop image=$IMG mountpoint=$WORK/mnt_b/../mnt_a
bad "mount point in use" 170 backend=loop image=$IMG mountpoint=$WORK/busy
bad "unknown backend" 87 backend=floppy image=$IMG mountpoint=$MNT_A
bad "unknown fstype" 87 backend=loop image=$IMG mountpoint=$MNT_A fstype=nosuchfs
bad "unknown parameter" 87 backend=loop image=$IMG mountpoint=$MNT_A size=1G
umount "$WORK/busy"
check "bad input attached nothing" no_loops
check "bad input mounted nothing" not_mounted "$MNT_A"

# --- the system volume is refused, whatever the flags
root_src=$(findmnt -n -o SOURCE /)
if [ -b "$root_src" ]; then
    out=$(ctl $A open sys --type volume --flags 0x3 --param backend=block --param device="$root_src" --param mountpoint=$MNT_A)
    expect_json "the device behind / ($root_src) is refused: 5" "$out" '.status == 5'
else
    echo "# / is not on a block device here ($root_src): system-volume check skipped"
fi

# --- two agents, one image
out=$(ctl $A open v --type volume --param backend=loop --param image=$IMG --param mountpoint=$MNT_A \
    --param fstype=ext4 --param mkfs=true)
expect_json "open leaves the volume Offline" "$out" '.status == 0 and .state == "Offline"'
out=$(ctl $B open v --type volume --param backend=loop --param image=$IMG --param mountpoint=$MNT_B)
expect_json "the second agent opens the same image" "$out" '.status == 0'
out=$(ctl $A online v --wait)
expect_json "online (mkfs on the empty image, mount)" "$out" '.status == 0 and .state == "Online"'
check "the volume is mounted" mounted "$MNT_A"
out=$(ctl $A volume status v)
expect_json "volume status: claimed by agent a, loop device, read-write" "$out" \
    ".properties.claimed == \"true\" and .properties.holder == \"$PID_a\" and (.properties.loop_device | startswith(\"/dev/loop\")) and .properties.read_only == \"false\" and .properties.fstype == \"ext4\""
out=$(ctl $A control v VOLUME_WRITE --prop path=data.txt --in "survives offline")
expect_json "write through clus" "$out" '.status == 0 and .properties.written == "16"'

out=$(ctl $B online v --wait)
expect_json "the second agent's online fails: 5006" "$out" '.status == 5006'
check "the data is not mounted twice" not_mounted "$MNT_B"
check "only one loop device serves the image" test "$(loops_of_image | wc -l)" = 1
out=$(ctl $B arbitrate v)
expect_json "the second agent loses arbitration: 5006" "$out" '.status == 5006'
out=$(ctl $B volume status v)
expect_json "the second agent sees who holds it" "$out" ".properties.holder == \"$PID_a\" and .properties.claimed == \"false\""

kill -STOP "$PID_a"
out=$(ctl $B online v --wait --timeout 10000)
expect_json "with the first agent frozen, online still fails: 5006" "$out" '.status == 5006'
check "still not mounted twice" not_mounted "$MNT_B"
kill -CONT "$PID_a"

# --- offline: flushed, unmounted, read-only, held; data survives
loop=$(ctl $A volume status v | jq -r .properties.loop_device)
out=$(ctl $A offline v --wait)
expect_json "offline" "$out" '.status == 0 and .state == "Offline"'
check "offline unmounted it" not_mounted "$MNT_A"
out=$(ctl $A volume status v)
expect_json "offline: mark, hold, read-only, claim released" "$out" \
    '.properties.offline_mark == "true" and .properties.held == "true" and .properties.read_only == "true" and .properties.claimed == "false"'
expect_rc "another process cannot mount the offline device" 32 mount -t ext4 "$loop" "$MNT_B"
check "a raw write to the offline device fails" \
    bash -c "! dd if=/dev/zero of=$loop bs=4096 count=1 oflag=direct conv=notrunc 2>/dev/null"
out=$(ctl $A control v VOLUME_READ --prop path=data.txt)
expect_json "a read through clus is not ready: 21" "$out" '.status == 21'
out=$(ctl $A control v VOLUME_IS_OFFLINE)
expect_json "is-offline" "$out" '.status == 0 and .properties.offline == "true"'

out=$(ctl $A online v --wait)
expect_json "online again" "$out" '.status == 0 and .state == "Online"'
out=$(ctl $A control v VOLUME_READ --prop path=data.txt --prop length=16)
expect_json "the data survived offline+online" "$out" '.status == 0 and .output == "survives offline"'
check "the held loop device was reused" test "$(loops_of_image)" = "$loop"

# --- terminate with a file held open on the mount
exec 9<>"$MNT_A/held.txt"
out=$(ctl $A terminate v)
expect_json "terminate with a file held open" "$out" '.status == 0 and .state == "Offline"'
check "terminate unmounted it" not_mounted "$MNT_A"
check "the held file is fenced (EIO)" bash -c "! echo x 2>/dev/null >&9"
exec 9>&-
check "the loop device goes with the last file" wait_for 5 no_loops

# --- a busy offline: 170, then the agent terminates it
out=$(ctl $A online v --wait)
expect_json "online after terminate" "$out" '.status == 0 and .state == "Online"'
exec 9<>"$MNT_A/held.txt"
out=$(ctl $A offline v --wait)
expect_json "offline of a busy mount reports 170" "$out" '.status == 170'
check "the agent terminated it after the failed offline" wait_for 5 not_mounted "$MNT_A"
exec 9>&-
check "nothing stays attached" wait_for 5 no_loops

# --- kill -9 of the agent while online; the restarted agent adopts the mount
out=$(ctl $A online v --wait)
expect_json "online before the kill" "$out" '.status == 0 and .state == "Online"'
id_before=$(mount_id "$MNT_A")
loop_before=$(loops_of_image)
kill -9 "$PID_a"
wait "$PID_a" 2>/dev/null
check "the mount survives the agent" mounted "$MNT_A"
PORT_OVERRIDE=$PORT_A start_agent a
out=$(ctl $A online v --flags recover-monitor-state --wait)
expect_json "recover-monitor-state brings it Online" "$out" '.status == 0 and .state == "Online"'
check "adopted without remounting (mount id $id_before)" test "$(mount_id "$MNT_A")" = "$id_before"
check "the same loop device" test "$(loops_of_image)" = "$loop_before"
out=$(ctl $A volume status v)
expect_json "the restarted agent holds the claim" "$out" ".properties.claimed == \"true\" and .properties.holder == \"$PID_a\""
out=$(ctl $A control v VOLUME_READ --prop path=data.txt --prop length=16)
expect_json "the data is there" "$out" '.output == "survives offline"'
out=$(ctl $B online v --wait)
expect_json "the second agent is still refused: 5006" "$out" '.status == 5006'

# --- the volume moves: offline on a, online on b
out=$(ctl $A offline v --wait)
expect_json "offline on the first agent" "$out" '.status == 0 and .state == "Offline"'
out=$(ctl $B online v --wait)
expect_json "online on the second agent" "$out" '.status == 0 and .state == "Online"'
out=$(ctl $B control v VOLUME_READ --prop path=data.txt --prop length=16)
expect_json "the data moved with it" "$out" '.output == "survives offline"'
out=$(ctl $B offline v --wait)
expect_json "offline on the second agent" "$out" '.status == 0'
ctl $A close v >/dev/null
ctl $B close v >/dev/null
# Close retires the offline volume: its loop devices go, nothing is left
# pinning the image (an agent that merely stops keeps them: see above).
gone_loops() { test -z "$(loops_of_image)"; }
check "closing the offline volume detaches its loop devices" wait_for 3 gone_loops

finish
