#!/usr/bin/env bash
# The ocf type with Debian's real heartbeat:Filesystem agent: an ext4 image
# on a loop device mounted by Online, checked by IsAlive (OCF_CHECK_LEVEL 10
# reads the device), unmounted by Offline; an unmount from outside is seen
# and reported Failed; a missing required parameter is refused at Open.
# Needs root and /dev/loop-control (else exit 77). The loop device and the
# mount are cleaned up on every exit.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/ocf/ports.sh"

FS_AGENT=/usr/lib/ocf/resource.d/heartbeat/Filesystem
[ -x "$FS_AGENT" ] || skip "resource-agents is not installed ($FS_AGENT)"
[ "$(id -u)" = 0 ] || skip "needs root (losetup, mount)"
[ -e /dev/loop-control ] || skip "no /dev/loop-control"
need losetup
need mkfs.ext4
need findmnt
need blockdev

IMG=$WORK/fs.img
MNT=$WORK/mnt
LOOP=""

fs_cleanup() {
    if findmnt "$MNT" >/dev/null 2>&1; then umount -l "$MNT" 2>/dev/null; fi
    if [ -n "$LOOP" ]; then losetup -d "$LOOP" 2>/dev/null; fi
    cleanup
}
trap fs_cleanup EXIT

mkdir -p "$MNT"
truncate -s 64M "$IMG"
mkfs.ext4 -q -F "$IMG" || skip "mkfs.ext4 failed"
LOOP=$(losetup -f --show "$IMG") || skip "losetup cannot attach a loop device here"
blockdev --setrw "$LOOP" # a recycled loop device may still carry an old BLKROSET

mounted() { findmnt -n -o SOURCE "$MNT" 2>/dev/null | grep -qx "$LOOP"; }
unmounted() { ! findmnt "$MNT" >/dev/null 2>&1; }

ocf_start_agent a
A=$URL_a

out=$(ctl $A open fs1 --type ocf --param agent=heartbeat:Filesystem --param directory="$MNT" --param fstype=ext4)
expect_json "a missing required parameter (device) is refused (87)" "$out" \
    '.status == 87 and (.message | contains("requires parameter '"'"'device'"'"'"))'
out=$(ctl $A open fs1 --type ocf --param agent=heartbeat:Filesystem --param device="$LOOP" \
    --param directory="$MNT" --param fstype=ext4 --param monitor_interval_ms=500)
expect_json "open (validate-all passes) leaves it Offline" "$out" '.status == 0 and .state == "Offline"'
check "open mounted nothing" unmounted

out=$(ctl $A online fs1 --wait --timeout 60000)
expect_json "online mounts: Online" "$out" '.status == 0 and .state == "Online"'
check "the loop device is mounted on the directory" mounted
check "the file system is writable" bash -c "echo data > '$MNT/file' && sync"
out=$(ctl $A is-alive fs1)
expect_json "is-alive: alive" "$out" '.status == 0 and .alive == true'
check "IsAlive's deep monitor (OCF_CHECK_LEVEL 10: a read test) found it well" \
    wait_for 10 grep -q "fs1: monitor (OCF_CHECK_LEVEL=10): exit 0" "$WORK/a.log"
out=$(ctl $A state fs1)
expect_json "still Online" "$out" '.state == "Online"'

out=$(ctl $A offline fs1 --wait --timeout 60000)
expect_json "offline unmounts: Offline" "$out" '.status == 0 and .state == "Offline"'
check "the directory is unmounted" unmounted

out=$(ctl $A online fs1 --wait --timeout 60000)
expect_json "online again" "$out" '.status == 0 and .state == "Online"'
check "the data survived" grep -qx data "$MNT/file"
umount "$MNT"
check "an unmount from outside is detected: Failed" wait_for 10 state_is $A fs1 Failed
check "the log names the OCF code" grep -q "fs1: monitor (OCF_CHECK_LEVEL=0): exit 7 (OCF_NOT_RUNNING" "$WORK/a.log"

ctl $A close fs1 >/dev/null
check "no zombie children of the agent" bash -c "! ps -o stat= --ppid $PID_a | grep -q Z"
check "nothing left mounted" unmounted

finish
