#!/usr/bin/env bash
# The main job on the embedded defaults: installs, builds, and runs a local
# 3-node cluster hosting a volume and a supervised process, then shows it.
# As root with network namespaces and loop devices it is the lab
# (deploy/lab/lab.sh, docs/lab.md): nodes n1..n3 in network namespaces with
# their own addresses (10.77.0.11-13) and mount tables, the coordinator in a
# namespace of its own, the volume an ext4 image every node can attach.
# Otherwise (or with CLUS_DEMO_LOOPBACK=1): three clus-agents and a
# clus-coordinator on 127.0.0.1 ports, the volume an ext4 loop image as root
# or else an `image` volume (a plain file, the same state semantics).
#   scripts/demo.sh          stays up until Ctrl-C (try clusctl against it)
#   scripts/demo.sh --once   shows the cluster, fails the process over (and, in
#                            the lab, cuts the volume's owner off and heals it),
#                            tears down
set -euo pipefail
cd "$(dirname "$0")/.."
once=0
[ "${1:-}" = "--once" ] && once=1

bash scripts/setup.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$(nproc 2>/dev/null || echo 2)" >/dev/null

lab_possible() { # root, loop devices, and network namespaces can really be made here
    [ "${CLUS_DEMO_LOOPBACK:-0}" != 1 ] && [ "$(id -u)" = 0 ] && [ -c /dev/loop-control ] &&
        ip netns add "clus-demo-probe-$$" 2>/dev/null && ip netns del "clus-demo-probe-$$"
}

demo_lab() {
    export CLUS_LAB_NAME=clus-demo CLUS_BUILD_DIR=$PWD/build
    lab() { bash deploy/lab/lab.sh "$@"; }
    trap 'lab down >/dev/null' EXIT
    trap 'exit 130' INT TERM
    lab down >/dev/null 2>&1 || true # what a demo killed earlier left
    lab up 3 --process
    owner_of() { lab ctl -o json status | jq -r ".resources[] | select(.name==\"$1\") | .owner"; }
    online() { lab ctl -o json status 2>/dev/null | jq -e '[.resources[] | .state == "Online" and .operation == ""] | length > 0 and all' >/dev/null 2>&1; }
    if [ "$once" = 1 ]; then
        owner=$(owner_of worker)
        echo; echo "== kill the worker's process on $owner twice: restarted, then failed over"
        for _ in 1 2; do
            owner=$(owner_of worker)
            pid=$(lab agent "$owner" -o json control worker GET_RO_PRIVATE_PROPERTIES | jq -r .properties.pid)
            # the guard passes SIGTERM on to the command
            [ "${pid:-0}" -gt 1 ] 2>/dev/null && kill -TERM "$pid"
            sleep 1.5
        done
        for _ in $(seq 100); do online && break; sleep 0.1; done
        owner=$(owner_of data)
        echo; echo "== cut $owner, the volume's owner, off the network: it fences itself, data moves"
        lab partition "$owner"
        for _ in $(seq 150); do [ "$(owner_of data)" != "$owner" ] && online && break; sleep 0.1; done
        lab mounts
        echo; echo "== heal $owner: it rejoins, nothing moves back"
        lab heal "$owner"
        for _ in $(seq 300); do
            [ "$(lab ctl -o json status | jq -r ".nodes[] | select(.name==\"$owner\") | .state")" = Up ] && break
            sleep 0.1
        done
        lab status
        online || { echo "demo: not every resource came back Online"; exit 1; }
        exit 0
    fi
    echo
    echo "The lab is up. Try: deploy/lab/lab.sh ctl status | partition n1 | heal n1 | freeze n1 |"
    echo "thaw n1 | mounts | ctl move data --to n2 --wait (with CLUS_LAB_NAME=clus-demo)."
    echo "Ctrl-C stops the demo and removes everything it made."
    while sleep 3600; do :; done
}

if lab_possible; then
    demo_lab
    exit
fi
DEMO=$(mktemp -d /tmp/clus-demo.XXXXXX)
COORD=${CLUS_DEMO_COORDINATOR:-tcp://127.0.0.1:7701}
CTL="build/client/clusctl --coordinator $COORD"
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
    # what the agents hosted: stop processes, unmount, detach the loop device
    pkill -f "clus-demo-worker-$$" 2>/dev/null || true
    for m in "$DEMO"/mnt-*; do mountpoint -q "$m" 2>/dev/null && umount -l "$m"; done
    losetup -j "$DEMO/data.img" 2>/dev/null | cut -d: -f1 | xargs -r -n1 losetup -d
    rm -rf "$DEMO"
}
trap cleanup EXIT

truncate -s 64M "$DEMO/data.img"
if [ "$(id -u)" = 0 ] && [ -e /dev/loop-control ]; then
    mkfs.ext4 -q -F "$DEMO/data.img"
    volume="{ backend: loop, image: $DEMO/data.img, fstype: ext4 }"
    per_node="node_params: { n1: { mountpoint: $DEMO/mnt-n1 }, n2: { mountpoint: $DEMO/mnt-n2 }, n3: { mountpoint: $DEMO/mnt-n3 } }"
    mkdir -p "$DEMO/mnt-n1" "$DEMO/mnt-n2" "$DEMO/mnt-n3"
else
    echo "(not root or no loop devices: the volume uses the image backend)"
    volume="{ backend: image, image: $DEMO/data.img }"
    per_node=""
fi
cat >"$DEMO/cluster.yaml" <<YAML
lease_ms: 3000
nodes:
  - { name: n1, agent: "tcp://127.0.0.1:7711" }
  - { name: n2, agent: "tcp://127.0.0.1:7712" }
  - { name: n3, agent: "tcp://127.0.0.1:7713" }
resources:
  - name: data
    type: volume
    params: $volume
    $per_node
    possible_owners: [n1, n2, n3]
    preferred_owners: [n1, n2, n3]
  - name: worker
    type: process
    params: { command: "while sleep 1; do date > $DEMO/heartbeat; done; : clus-demo-worker-$$" }
    possible_owners: [n1, n2, n3]
    preferred_owners: [n2, n3, n1]
    policy: { restart_threshold: 1, restart_delay_ms: 100 }
YAML
build/client/clusctl config validate "$DEMO/cluster.yaml"

for i in 1 2 3; do
    build/agent/clus-agent --state-dir "$DEMO/n$i" --listen "tcp://127.0.0.1:771$i" \
        2>"$DEMO/n$i.log" &
    pids+=($!)
done
build/coordinator/clus-coordinator --config "$DEMO/cluster.yaml" --state-dir "$DEMO/coordinator" \
    --listen "$COORD" 2>"$DEMO/coordinator.log" &
pids+=($!)

online() { # every resource Online
    $CTL -o json status 2>/dev/null | jq -e '[.resources[].state] | length > 0 and all(. == "Online")' >/dev/null 2>&1
}
for _ in $(seq 300); do online && break; sleep 0.1; done
$CTL status

if [ "$once" = 1 ]; then
    owner=$($CTL -o json status | jq -r '.resources[] | select(.name=="worker") | .owner')
    echo; echo "== kill the worker's process on $owner twice: restarted, then failed over"
    for _ in 1 2; do
        pid=$(build/client/clusctl --agent "tcp://127.0.0.1:771${owner#n}" -o json \
            control worker GET_RO_PRIVATE_PROPERTIES | jq -r .properties.pid)
        [ "${pid:-0}" -gt 1 ] 2>/dev/null && kill -TERM "$pid" # the guard passes it on
        sleep 1.5
    done
    $CTL status
    online || { echo "demo: not every resource came back Online"; exit 1; }
    exit 0
fi
echo
echo "The cluster is up: coordinator $COORD, agents tcp://127.0.0.1:7711..7713."
echo "Try: build/client/clusctl --coordinator $COORD status | move data --to n2 | watch"
echo "Logs in $DEMO. Ctrl-C stops the demo and removes everything it made."
wait "${pids[0]}"
