#!/usr/bin/env bash
# clus-agent under valgrind: a session of calls (dummy resources: open,
# online, pending, failure, terminate, controls, watch, close), then SIGTERM;
# valgrind must report no errors and no definite or indirect leaks.
#   tests/valgrind_agent.sh BUILD_DIR
set -u
B=${1:-build}
W=$(mktemp -d /tmp/clus-vg.XXXXXX)
trap 'kill -9 $pid 2>/dev/null; rm -rf "$W"' EXIT
URL=tcp://127.0.0.1:$((10000 + RANDOM % 20000))
valgrind -q --leak-check=full --show-leak-kinds=definite,indirect \
    --errors-for-leak-kinds=definite,indirect --error-exitcode=9 \
    --suppressions="$(dirname "$0")/valgrind.supp" \
    "$B/agent/clus-agent" --state-dir "$W/s" --listen "$URL" 2>"$W/vg.log" &
pid=$!
C="$B/client/clusctl --agent $URL --timeout 20000"
for _ in $(seq 200); do $C types >/dev/null 2>&1 && break; sleep 0.1; done
$C open a --type dummy --param online_delay_ms=100 --param progress_ms=20 >/dev/null
$C open b --type dummy --param fail_after_ms=100 >/dev/null
$C open c --type dummy --param hang=online --param pending_timeout_ms=200 >/dev/null
$C online a --wait >/dev/null; $C online b >/dev/null; $C online c >/dev/null
sleep 1
$C is-alive a >/dev/null; $C looks-alive a >/dev/null; $C is-alive a --cached >/dev/null
$C control a GET_COMMON_PROPERTIES >/dev/null; $C control a GET_FLAGS --begin --wait >/dev/null
$C type-control dummy GET_CHARACTERISTICS >/dev/null; $C watch --count 5 >/dev/null
$C lease vg --ttl 300 >/dev/null; sleep 0.5; $C lease vg --ttl 0 >/dev/null
$C terminate a >/dev/null; $C close b >/dev/null; $C resources >/dev/null
kill -TERM "$pid"
wait "$pid"; rc=$?
if [ "$rc" != 0 ]; then
    echo "valgrind: clus-agent exited $rc"; cat "$W/vg.log"; exit 1
fi
echo "valgrind: clus-agent session clean"
