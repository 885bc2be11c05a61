#!/usr/bin/env bash
# The main job on the embedded defaults: installs, builds, and starts a local
# clus-agent with a volume and a supervised process, then shows their state.
#   scripts/demo.sh          stays up until Ctrl-C (try clusctl against it)
#   scripts/demo.sh --once   shows the state and tears everything down
# As root with loop devices, the volume is an ext4 loop image; otherwise an
# `image` volume (a plain file, same state semantics, no root needed).
set -euo pipefail
cd "$(dirname "$0")/.."
once=0
[ "${1:-}" = "--once" ] && once=1

bash scripts/setup.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$(nproc 2>/dev/null || echo 2)" >/dev/null

DEMO=$(mktemp -d /tmp/clus-demo.XXXXXX)
URL=${CLUS_DEMO_URL:-tcp://127.0.0.1:7700}
C="build/client/clusctl --agent $URL"
agent_pid=""
cleanup() {
    $C offline data --wait >/dev/null 2>&1 || true
    $C offline worker --wait >/dev/null 2>&1 || true
    [ -n "$agent_pid" ] && kill "$agent_pid" 2>/dev/null && wait "$agent_pid" 2>/dev/null
    rm -rf "$DEMO"
}
trap cleanup EXIT

build/agent/clus-agent --state-dir "$DEMO/agent" --listen "$URL" 2>"$DEMO/agent.log" &
agent_pid=$!
for _ in $(seq 100); do $C types >/dev/null 2>&1 && break; sleep 0.05; done

truncate -s 64M "$DEMO/data.img"
mkdir -p "$DEMO/mnt"
if [ "$(id -u)" = 0 ] && [ -e /dev/loop-control ]; then
    $C open data --type volume --param backend=loop --param image="$DEMO/data.img" \
        --param mountpoint="$DEMO/mnt" --param fstype=ext4 --param mkfs=true
else
    echo "(not root or no loop devices: the volume uses the image backend)"
    $C open data --type volume --param backend=image --param image="$DEMO/data.img"
fi
$C open worker --type process --param command="while sleep 1; do date > $DEMO/heartbeat; done"
$C online data --wait --timeout 60000
$C online worker --wait
$C resources
$C volume status data

if [ "$once" = 1 ]; then
    exit 0
fi
echo
echo "clus-agent is up on $URL (log: $DEMO/agent.log). Try: build/client/clusctl --help"
echo "Ctrl-C stops the demo and removes everything it made."
wait "$agent_pid"
