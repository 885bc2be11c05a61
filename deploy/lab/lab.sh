#!/usr/bin/env bash
# deploy/lab/lab.sh - an N-node clus lab on one machine, in network namespaces.
#
#   lab.sh up [N] [--lease MS] [--volumes K] [--size MB] [--process]
#   lab.sh status | mounts | down
#   lab.sh partition NODE [--oneway] | heal NODE
#   lab.sh freeze NODE [--all] | thaw NODE
#   lab.sh ctl CLUSCTL-ARGS...          clusctl against the lab's coordinator
#   lab.sh agent NODE CLUSCTL-ARGS...   clusctl against NODE's agent, from inside NODE
#   lab.sh exec NODE|co CMD...          a command on a node (its network and mount namespaces)
#
# Every node n1..nN is a network namespace NAME-nI with the address SUBNET.(10+I) on
# a bridge that lives in a namespace of its own (NAME-br), and a mount namespace of its
# own (so "mounted on n1" means what it means on a machine); it runs one clus-agent.
# The coordinator runs in NAME-co (SUBNET.2) and serves clusctl on that namespace's
# loopback (lab.sh ctl). Each volume is one ext4 image file - the shared disk every node
# can attach; the volume type's claim and the coordinator's leases decide who mounts it.
# Nothing is added to the host's network namespace: no address, route or link.
# Needs root, iproute2 (ip netns), util-linux (nsenter, unshare, losetup), e2fsprogs.
#
# Environment: CLUS_LAB_NAME (default clus-lab; several labs can run side by side
# under different names), CLUS_LAB_ROOT (default /run/clus-lab), CLUS_LAB_SUBNET
# (first three octets, default 10.77.0), CLUS_BUILD_DIR (default <repo>/build) or
# CLUS_AGENT_BIN / CLUS_COORDINATOR_BIN / CLUSCTL_BIN.
set -euo pipefail

LAB_NAME=${CLUS_LAB_NAME:-clus-lab}
LAB_ROOT=${CLUS_LAB_ROOT:-/run/clus-lab}
SUBNET=${CLUS_LAB_SUBNET:-10.77.0}
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BUILD=${CLUS_BUILD_DIR:-$REPO/build}
AGENT_PORT=7700

LAB=$LAB_ROOT/$LAB_NAME
BR=$LAB_NAME-br
CO=$LAB_NAME-co

die() { echo "lab: $*" >&2; exit 1; }
say() { echo "lab: $*"; }

[[ $LAB_NAME =~ ^[a-z][a-z0-9-]{0,23}$ ]] || die "CLUS_LAB_NAME must be [a-z][a-z0-9-]*, at most 24 characters"
[[ $SUBNET =~ ^[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}$ ]] || die "CLUS_LAB_SUBNET is three octets, e.g. 10.77.0"

bin() { # VAR-OVERRIDE BUILD-RELATIVE NAME
    local override=$1 rel=$2 name=$3
    if [ -n "$override" ]; then echo "$override"
    elif [ -x "$BUILD/$rel" ]; then echo "$BUILD/$rel"
    else command -v "$name" 2>/dev/null || echo "$BUILD/$rel"
    fi
}
AGENT_BIN=$(bin "${CLUS_AGENT_BIN:-}" agent/clus-agent clus-agent)
COORD_BIN=$(bin "${CLUS_COORDINATOR_BIN:-}" coordinator/clus-coordinator clus-coordinator)
CLUSCTL=$(bin "${CLUSCTL_BIN:-}" client/clusctl clusctl)

# ------------------------------------------------------------------ lab facts

# The saved facts of an up lab (written by `up`): NODES, LEASE, VOLUMES.
load_env() {
    NODES=0 LEASE=0 VOLUMES=""
    # shellcheck disable=SC1091
    [ -f "$LAB/lab.env" ] && . "$LAB/lab.env"
    return 0
}
node_ns() { # NODE -> netns name (co for the coordinator)
    case $1 in
        co | coordinator) echo "$CO" ;;
        *) echo "$LAB_NAME-$1" ;;
    esac
}
node_ip() { # NODE -> address
    case $1 in
        co | coordinator) echo "$SUBNET.2" ;;
        n*) echo "$SUBNET.$((10 + ${1#n}))" ;;
    esac
}
agent_url() { echo "tcp://$(node_ip "$1"):$AGENT_PORT"; }
# The coordinator listens on the loopback of its own namespace: reachable by clusctl run
# in that namespace (`lab.sh ctl`) and by nothing else.
co_url() { echo "tcp://127.0.0.1:7701"; }
# co_clusctl SECONDS ARGS...: clusctl against it, bounded by timeout(1) (clusctl's own
# --timeout does not bound connecting to a peer that does not answer, e.g. a frozen one)
co_clusctl() { local t=$1; shift; timeout "$t" nsenter --net="/run/netns/$CO" -- "$CLUSCTL" --coordinator "$(co_url)" "$@"; }
mnt_pin() { echo "$LAB/ns/$1.mnt"; }
node_list() { local i; for ((i = 1; i <= NODES; i++)); do echo "n$i"; done; }
check_node() { # NODE [co-allowed]
    load_env
    [ "$NODES" -gt 0 ] || die "lab $LAB_NAME is not up"
    case $1 in
        co | coordinator) [ "${2:-}" = co ] && return 0 ;;
        n[0-9]*) [[ $1 =~ ^n[0-9]+$ ]] && [ "${1#n}" -ge 1 ] && [ "${1#n}" -le "$NODES" ] && return 0 ;;
    esac
    die "no node '$1' in lab $LAB_NAME (n1..n$NODES${2:+, co})"
}

# Namespaces of this lab: the ones recorded by up, and any left with our exact names.
lab_namespaces() {
    {
        [ -f "$LAB/netns.list" ] && cat "$LAB/netns.list"
        ip netns list 2>/dev/null | awk '{ print $1 }' |
            grep -E "^$LAB_NAME-(br|co|n[0-9]+)$" || true
    } | sort -u
}
ns_exists() { [ -e "/run/netns/$1" ]; }

# A real pid (never 0 or 1) of a live process.
is_pid() { [[ ${1:-} =~ ^[0-9]+$ ]] && [ "$1" -gt 1 ] && [ -d "/proc/$1" ]; }

# The pid recorded for NODE's daemon (agent|anchor|coordinator) if it is still that
# process: the same program and in the node's network namespace.
daemon_pid() { # NODE WHAT
    local f=$LAB/run/$1.$2.pid pid want ns
    [ -f "$f" ] || return 1
    pid=$(cat "$f")
    is_pid "$pid" || return 1
    case $2 in
        agent) want=$(readlink -f "$AGENT_BIN") ;;
        coordinator) want=$(readlink -f "$COORD_BIN") ;;
        anchor) want=$(readlink -f "$(command -v sleep)") ;;
    esac
    local exe; exe=$(readlink "/proc/$pid/exe" 2>/dev/null) || return 1
    [ "${exe% (deleted)}" = "$want" ] || return 1 # (deleted): the binary was rebuilt since
    ns=$(node_ns "$1")
    [ "$(stat -L -c %i "/proc/$pid/ns/net" 2>/dev/null)" = "$(stat -L -c %i "/run/netns/$ns" 2>/dev/null)" ] || return 1
    echo "$pid"
}

# Runs a command in NODE's network namespace (and its mount namespace for n*).
in_node() { # NODE CMD...
    local node=$1; shift
    local ns; ns=$(node_ns "$node")
    if [ -e "$(mnt_pin "$node")" ] && [ "$ns" != "$CO" ]; then
        nsenter --net="/run/netns/$ns" --mount="$(mnt_pin "$node")" --wd="$PWD" -- "$@"
    else
        nsenter --net="/run/netns/$ns" -- "$@"
    fi
}

# A background daemon in NODE: its own session, no terminal, output to a log.
# Prints its pid (nsenter and setsid exec in place: the pid is the program's).
spawn() { # NODE WHAT LOG CMD...
    local node=$1 what=$2 log=$3; shift 3
    local ns pid; ns=$(node_ns "$node")
    if [ "$ns" = "$CO" ]; then
        setsid nsenter --net="/run/netns/$ns" -- "$@" </dev/null >>"$log" 2>&1 &
    else
        setsid nsenter --net="/run/netns/$ns" --mount="$(mnt_pin "$node")" -- "$@" </dev/null >>"$log" 2>&1 &
    fi
    pid=$!
    disown "$pid" 2>/dev/null || true
    echo "$pid" >"$LAB/run/$node.$what.pid"
    echo "$pid"
}

# ------------------------------------------------------------------ mount views

# mountinfo lines (3rd field maj:min) of NODE's mount namespace: read through its
# anchor process when it lives, else by entering the namespace.
node_mountinfo() {
    local pid
    if pid=$(daemon_pid "$1" anchor); then
        cat "/proc/$pid/mountinfo" 2>/dev/null && return 0
    fi
    [ -e "$(mnt_pin "$1")" ] && nsenter --mount="$(mnt_pin "$1")" cat /proc/self/mountinfo 2>/dev/null
    return 0
}

# "loopN maj:min" of every loop device bound to IMAGE.
image_loops() {
    local f dev
    for f in /sys/block/loop*/loop/backing_file; do
        [ -r "$f" ] || continue
        [ "$(cat "$f" 2>/dev/null)" = "$1" ] || continue
        dev=${f#/sys/block/}; dev=${dev%%/*}
        echo "$dev $(cat "/sys/block/$dev/dev" 2>/dev/null)"
    done
}

# Prints "VOLUME NODE /dev/loopN MOUNTPOINT" for each mount of a lab image, in every
# node's mount namespace and the host's ("host").
cmd_mounts() {
    load_env
    local vol img loops node
    for vol in $VOLUMES; do
        img=$LAB/disks/$vol.img
        loops=$(image_loops "$img")
        [ -n "$loops" ] || continue
        for node in $(node_list) host; do
            if [ "$node" = host ]; then cat /proc/self/mountinfo; else node_mountinfo "$node"; fi |
                awk -v loops="$loops" -v node="$node" -v vol="$vol" '
                    BEGIN { n = split(loops, l, /[ \n]/); for (i = 1; i < n; i += 2) dev[l[i + 1]] = l[i] }
                    ($3 in dev) { print vol, node, "/dev/" dev[$3], $5 }'
        done
    done
}

# ------------------------------------------------------------------ up

# ip inside namespace NS. Not `ip -n NS`: that also makes a throw-away copy of the
# host's mount table for every call (for its own /sys), and such a copy, however
# short-lived, holds the file systems of other people's mounts alive (see add_template_ns).
nip() { local ns=$1; shift; nsenter --net="/run/netns/$ns" ip "$@"; }

add_ns() {
    echo "$1" >>"$LAB/netns.list"
    ip netns add "$1"
    nip "$1" link set lo up
}

# Joins MEMBER (co or nI) to the bridge: a veth pair created in the bridge's namespace,
# eth0 inside the member's with its address.
add_member() {
    local m=$1 ns; ns=$(node_ns "$1")
    add_ns "$ns"
    nip "$BR" link add "v-$m" type veth peer name eth0 netns "$ns"
    nip "$BR" link set "v-$m" master br0 up
    nip "$ns" addr add "$(node_ip "$m")/24" dev eth0
    nip "$ns" link set eth0 up
}

# The lab's mount namespaces. Every new mount namespace starts as a copy of its
# parent's mount table, and a copy of someone else's mount (another test's loop-device
# mount, say) keeps that file system alive after they unmount it - until the copy goes.
# So the host's table is copied once per lab, into a *template* namespace that drops at
# once, from inside (one short sh, no round trips), the copies of loop-device mounts,
# of namespace pins (nsfs: other labs' nodes, /run/netns) and of $LAB/ns; each node's
# namespace is then made from the template, never from the host. All are slaves of
# their parent: the host's later mounts and unmounts show up in them (where the host's
# mounts are shared), theirs never leave. The pins live in $LAB/ns, a private bind
# mount, so they do not propagate either.
SCRUB='awk '"'"'{ for (i = 7; $i != "-"; i++) ; t = $(i + 1); s = $(i + 2) }
    t == "nsfs" || s ~ /^\/dev\/loop/ || $5 == ns { print $5 }'"'"' ns="$1" /proc/self/mountinfo |
    sort -r | while read -r m; do umount -l "$(printf "%b" "$m")" 2>/dev/null; done; true'
add_template_ns() {
    local pin=$LAB/ns/template.mnt
    : >"$pin"
    unshare --mount="$pin" --propagation slave -- sh -c "$SCRUB" scrub "$LAB/ns"
}

# NODE's mount (and network) namespace, with its anchor process (sleep infinity) in it:
# the anchor unshares from the template, and the host pins what it got.
add_node_ns() {
    local node=$1 pin pid i tmpl
    pin=$(mnt_pin "$node")
    tmpl=$(stat -L -c %i "$LAB/ns/template.mnt")
    : >"$pin"
    setsid nsenter --net="/run/netns/$(node_ns "$node")" --mount="$LAB/ns/template.mnt" -- \
        unshare --mount --propagation slave -- sleep infinity </dev/null >/dev/null 2>&1 &
    pid=$!
    disown "$pid" 2>/dev/null || true
    echo "$pid" >"$LAB/run/$node.anchor.pid"
    for i in $(seq 1 100); do
        if [ "$(readlink "/proc/$pid/exe" 2>/dev/null)" = "$(readlink -f "$(command -v sleep)")" ] &&
            [ "$(stat -L -c %i "/proc/$pid/ns/mnt" 2>/dev/null)" != "$tmpl" ]; then
            mount --bind "/proc/$pid/ns/mnt" "$pin"
            return 0
        fi
        sleep 0.05
    done
    die "$node: its anchor process did not start"
}

wait_until() { # SECONDS CMD... : retries every 0.1 s
    local limit=$1; shift
    local deadline=$((SECONDS + limit))
    until "$@" >/dev/null 2>&1; do
        [ $SECONDS -lt "$deadline" ] || return 1
        sleep 0.1
    done
}
# The process spawn started for NODE's WHAT is alive (not a zombie); it may still be
# setsid or nsenter on the way to exec'ing the daemon.
spawned_alive() {
    local pid st
    pid=$(cat "$LAB/run/$1.$2.pid" 2>/dev/null) && is_pid "$pid" || return 1
    st=$(proc_state "$pid")
    [ -n "$st" ] && [ "$st" != Z ]
}
# daemon_ready NODE WHAT CHECK...: waits up to 10 s for CHECK; fails at once if the
# daemon is gone.
daemon_ready() {
    local node=$1 what=$2 deadline=$((SECONDS + 10)); shift 2
    until "$@" >/dev/null 2>&1; do
        spawned_alive "$node" "$what" || die "the $what of $node exited (see $LAB/logs/$( [ "$node" = co ] && echo coordinator || echo "$node").log)"
        [ $SECONDS -lt $deadline ] || die "the $what of $node does not answer (see the logs in $LAB/logs)"
        sleep 0.1
    done
}
# (clusctl's --timeout does not bound connecting to a peer that does not answer, e.g. a
# frozen one: timeout(1) does)
agent_answers_from_co() { timeout 2 nsenter --net="/run/netns/$CO" -- "$CLUSCTL" --agent "$(agent_url "$1")" --timeout 500 resources; }
co_answers() { co_clusctl 2 --timeout 500 status; }
all_online() {
    co_clusctl 3 --timeout 1000 -o json status |
        jq -e '[.resources[] | .state == "Online" and .operation == ""] | length > 0 and all' >/dev/null
}

write_cluster() { # N LEASE VOLUMES PROCESS
    local n=$1 lease=$2 k=$3 process=$4 i j v pref
    local renew=$((lease / 4 > 0 ? lease / 4 : 1)) margin=$((lease / 4 > 0 ? lease / 4 : 1))
    {
        echo "# clus lab $LAB_NAME: written by deploy/lab/lab.sh up"
        echo "lease_ms: $lease"
        echo "renew_ms: $renew"
        echo "lease_margin_ms: $margin"
        echo "nodes:"
        for ((i = 1; i <= n; i++)); do echo "  - { name: n$i, agent: \"$(agent_url "n$i")\" }"; done
        echo "resources:"
        for ((v = 1; v <= k; v++)); do
            pref=""
            for ((j = 0; j < n; j++)); do pref+="${pref:+, }n$(((v - 1 + j) % n + 1))"; done
            # The same mount point on every node: each node has its own mount table.
            # A volume refused on a node (its claim is held elsewhere, e.g. by a frozen
            # agent) is retried there every second rather than given up after 3 tries.
            cat <<EOF
  - name: $(vol_name "$v")
    type: volume
    params: { backend: loop, image: "$LAB/disks/$(vol_name "$v").img", mountpoint: "$LAB/mnt/$(vol_name "$v")", fstype: ext4 }
    preferred_owners: [$pref]
    policy: { restart_threshold: 100, restart_delay_ms: 1000, looks_alive_ms: 1000, is_alive_ms: 10000 }
EOF
        done
        if [ "$process" = 1 ]; then
            pref=""
            for ((j = 0; j < n; j++)); do pref+="${pref:+, }n$(((1 + j) % n + 1))"; done
            cat <<EOF
  - name: worker
    type: process
    params: { command: "while sleep 1; do date +%T > $LAB/run/worker.heartbeat; done" }
    preferred_owners: [$pref]
    policy: { restart_threshold: 1, restart_delay_ms: 500 }
EOF
        fi
    } >"$LAB/cluster.yaml"
}
vol_name() { if [ "$1" = 1 ]; then echo data; else echo "data$1"; fi; }

up_failed() {
    local rc=$?
    trap - EXIT
    if [ "$rc" != 0 ]; then
        echo "lab: up failed (exit $rc); logs:" >&2
        tail -n 5 "$LAB"/logs/*.log 2>/dev/null >&2 || true
        if [ "${CLUS_LAB_KEEP:-0}" = 1 ]; then
            echo "lab: CLUS_LAB_KEEP=1: left as it is; 'lab.sh down' removes it" >&2
        else
            echo "lab: removing what was made" >&2
            cmd_down >&2 || true
        fi
    fi
    exit "$rc"
}

cmd_up() {
    local n=3 lease=1000 k=1 size=64 process=0
    while [ $# -gt 0 ]; do
        case $1 in
            [0-9]*) n=$1 ;;
            --lease) lease=${2:?--lease MS}; shift ;;
            --volumes) k=${2:?--volumes K}; shift ;;
            --size) size=${2:?--size MB}; shift ;;
            --process) process=1 ;;
            *) die "up: unknown argument '$1'" ;;
        esac
        shift
    done
    [[ $n =~ ^[0-9]+$ ]] && [ "$n" -ge 1 ] && [ "$n" -le 64 ] || die "up: N is 1..64"
    [[ $lease =~ ^[0-9]+$ ]] && [ "$lease" -ge 100 ] || die "up: --lease is at least 100 ms"
    [[ $k =~ ^[0-9]+$ ]] && [ "$k" -ge 0 ] && [ "$k" -le 16 ] || die "up: --volumes is 0..16"
    [[ $size =~ ^[0-9]+$ ]] && [ "$size" -ge 16 ] || die "up: --size is at least 16 (MB)"
    preflight
    if [ -e "$LAB" ] || [ -n "$(lab_namespaces)" ]; then
        die "lab $LAB_NAME is up or left over ($LAB, namespaces: $(lab_namespaces | tr '\n' ' ')): run 'lab.sh down' first"
    fi
    trap up_failed EXIT
    mkdir -p "$LAB"/{ns,nodes,logs,run,disks,mnt,co}
    VOLUMES=""
    for ((v = 1; v <= k; v++)); do VOLUMES+="${VOLUMES:+ }$(vol_name "$v")"; done
    printf 'NODES=%s\nLEASE=%s\nVOLUMES="%s"\n' "$n" "$lease" "$VOLUMES" >"$LAB/lab.env"
    NODES=$n
    mount --bind "$LAB/ns" "$LAB/ns"
    mount --make-private "$LAB/ns"

    say "network: bridge in $BR, $SUBNET.0/24"
    add_ns "$BR"
    nip "$BR" link add br0 type bridge
    nip "$BR" link set br0 up
    add_member co
    add_template_ns
    local node
    for node in $(node_list); do
        add_member "$node"
        add_node_ns "$node"
        mkdir -p "$LAB/nodes/$node"
    done

    local vol
    for vol in $VOLUMES; do
        truncate -s "${size}M" "$LAB/disks/$vol.img"
        mkfs.ext4 -q -F -L "$vol" "$LAB/disks/$vol.img"
        mkdir -p "$LAB/mnt/$vol"
    done
    write_cluster "$n" "$lease" "$k" "$process"
    "$CLUSCTL" config validate "$LAB/cluster.yaml" >/dev/null

    # Plain tcp off loopback needs --insecure (until the lab uses tls+tcp://). Agents
    # whose long option table lacks it still take the short form -i.
    local insecure=--insecure
    "$AGENT_BIN" --insecure --help >/dev/null 2>&1 || insecure=-i
    say "agents: n1..n$n on $(agent_url n1) .. $(agent_url "n$n") (plain tcp: $insecure)"
    for node in $(node_list); do
        spawn "$node" agent "$LAB/logs/$node.log" "$AGENT_BIN" --state-dir "$LAB/nodes/$node" \
            --listen "$(agent_url "$node")" "$insecure" >/dev/null
    done
    for node in $(node_list); do
        daemon_ready "$node" agent agent_answers_from_co "$node"
    done
    say "coordinator: in $CO ($(node_ip co)), listening on $(co_url) there (lab.sh ctl)"
    spawn co coordinator "$LAB/logs/coordinator.log" "$COORD_BIN" --config "$LAB/cluster.yaml" \
        --state-dir "$LAB/co" --listen "$(co_url)" >/dev/null
    daemon_ready co coordinator co_answers
    if [ -n "$VOLUMES" ] && ! wait_until 30 all_online; then
        say "warning: not every resource is Online after 30 s"
    fi
    trap - EXIT
    cmd_status
    echo
    echo "Try: $0 ctl status | $0 partition n1 | $0 freeze n1 | $0 mounts | $0 down"
}

preflight() {
    [ "$(id -u)" = 0 ] || die "needs root (network namespaces, loop devices, mounts)"
    local c
    for c in ip nsenter unshare losetup mkfs.ext4 jq setsid; do
        command -v "$c" >/dev/null || die "$c is not installed (scripts/setup.sh installs it)"
    done
    ip netns list >/dev/null 2>&1 || die "ip netns does not work here"
    [ -c /dev/loop-control ] || die "no /dev/loop-control (loop devices)"
    [ -x "$AGENT_BIN" ] || die "no clus-agent at $AGENT_BIN (build first, or set CLUS_BUILD_DIR)"
    [ -x "$COORD_BIN" ] || die "no clus-coordinator at $COORD_BIN"
    [ -x "$CLUSCTL" ] || die "no clusctl at $CLUSCTL"
}

# ------------------------------------------------------------------ down

# The pids of the processes whose mount namespace is one of the given inode numbers.
in_mount_namespaces() {
    local p ino
    for p in /proc/[0-9]*; do
        ino=$(stat -L -c %i "$p/ns/mnt" 2>/dev/null) || continue
        case " $1 " in *" $ino "*) echo "${p#/proc/}" ;; esac
    done
}

# Everything this lab made goes, whatever state it is in (also after a failed or
# killed run, also when $LAB is gone already): the processes in its namespaces, the
# mount namespaces (with whatever is mounted in them), the network namespaces (with
# their links), loop devices bound to its images, mounts under $LAB, the directory.
cmd_down() {
    [ "$(id -u)" = 0 ] || die "needs root"
    local namespaces ns pid i left m dev
    namespaces=$(lab_namespaces)
    # 1. processes: everything in our network namespaces and node mount namespaces is ours
    local mnt_ids="" nsfs; nsfs=$(stat -L -c %d /proc/self/ns/mnt)
    for m in "$LAB"/ns/*.mnt; do # the pins that are namespaces (nsfs), not plain files
        [ -e "$m" ] && [ "$(stat -L -c %d "$m" 2>/dev/null)" = "$nsfs" ] &&
            mnt_ids+=" $(stat -L -c %i "$m")"
    done
    for i in $(seq 1 50); do
        left=""
        for pid in $(
            for ns in $namespaces; do ns_exists "$ns" && ip netns pids "$ns" 2>/dev/null; done
            [ -n "$mnt_ids" ] && in_mount_namespaces "$mnt_ids"
        ); do
            is_pid "$pid" || continue
            kill -CONT "$pid" 2>/dev/null || true
            kill -KILL "$pid" 2>/dev/null || true
            left+=" $pid"
        done
        [ -z "$left" ] && break
        sleep 0.1
    done
    [ -z "$left" ] || echo "lab: processes that would not die:$left" >&2
    # 2. mount namespaces: dropping the pins ends them and their mounts
    if [ -d "$LAB/ns" ]; then
        for m in "$LAB"/ns/*.mnt; do
            [ -e "$m" ] || continue
            umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || true
        done
    fi
    # 3. network namespaces (a veth goes with either end's namespace)
    for ns in $namespaces; do
        ns_exists "$ns" && { ip netns del "$ns" 2>/dev/null || echo "lab: cannot delete netns $ns" >&2; }
    done
    # 4. loop devices bound to our images (losetup -d of a busy one only marks it)
    for i in $(seq 1 50); do
        left=""
        for f in /sys/block/loop*/loop/backing_file; do
            [ -r "$f" ] || continue
            case $(cat "$f" 2>/dev/null) in
                "$LAB"/*)
                    dev=${f#/sys/block/}; dev=/dev/${dev%%/*}
                    losetup -d "$dev" 2>/dev/null || true
                    left+=" $dev" ;;
            esac
        done
        [ -z "$left" ] && break
        sleep 0.1
    done
    [ -z "$left" ] || echo "lab: loop devices still bound:$left" >&2
    # 5. anything still mounted under $LAB in this mount namespace
    for m in $(awk -v d="$LAB/" 'index($5, d) == 1 || $5 == substr(d, 1, length(d) - 1) { print $5 }' \
        /proc/self/mountinfo | sort -r); do
        umount -l "$(printf '%b' "$m")" 2>/dev/null || true
    done
    # 6. the directory
    rm -rf "$LAB"
    rmdir "$LAB_ROOT" 2>/dev/null || true
    # what is left, if anything, is an error
    local bad=""
    for ns in $namespaces; do ns_exists "$ns" && bad+=" netns:$ns"; done
    [ -n "$left" ] && bad+=" loop:$left"
    [ -e "$LAB" ] && bad+=" dir:$LAB"
    if [ -n "$bad" ]; then
        echo "lab: down left:$bad" >&2
        return 1
    fi
    say "$LAB_NAME is down (namespaces, links, processes, mounts, loop devices, $LAB removed)"
}

# ------------------------------------------------------------------ faults

cmd_partition() {
    local node=${1:?partition NODE [--oneway]} mode=${2:-}
    check_node "$node" co
    local ns m; ns=$(node_ns "$node"); m=${node/coordinator/co}
    case $mode in
        "")
            nip "$ns" link set eth0 down
            nip "$BR" link set "v-$m" down
            echo link >"$LAB/run/$m.partition"
            say "$m is cut off (link down on both ends of its veth)" ;;
        --oneway)
            # What m sends into the lab is dropped, what it is sent still arrives:
            # a request-answer protocol sees requests handled and answers lost.
            nip "$ns" rule add to "$SUBNET.0/24" blackhole priority 100
            echo oneway >"$LAB/run/$m.partition"
            say "$m hears but cannot answer (its outgoing packets to $SUBNET.0/24 are dropped)" ;;
        *) die "partition: unknown mode '$mode'" ;;
    esac
}

cmd_heal() {
    local node=${1:?heal NODE}
    check_node "$node" co
    local ns m; ns=$(node_ns "$node"); m=${node/coordinator/co}
    while nip "$ns" rule del to "$SUBNET.0/24" blackhole priority 100 2>/dev/null; do :; done
    nip "$BR" link set "v-$m" up
    nip "$ns" link set eth0 up
    rm -f "$LAB/run/$m.partition"
    say "$m is connected again"
}

cmd_freeze() {
    local node=${1:?freeze NODE [--all]} pid
    check_node "$node" co
    local m=${node/coordinator/co} what=agent
    [ "$m" = co ] && what=coordinator
    if [ "${2:-}" = --all ]; then
        for pid in $(ip netns pids "$(node_ns "$m")"); do is_pid "$pid" && kill -STOP "$pid"; done
        echo all >"$LAB/run/$m.frozen"
        say "every process of $m is stopped (SIGSTOP)"
    else
        pid=$(daemon_pid "$m" "$what") || die "no $what running on $m"
        kill -STOP "$pid"
        echo "$what" >"$LAB/run/$m.frozen"
        say "$m: the $what (pid $pid) is stopped (SIGSTOP)"
    fi
}

cmd_thaw() {
    local node=${1:?thaw NODE} pid
    check_node "$node" co
    local m=${node/coordinator/co}
    for pid in $(ip netns pids "$(node_ns "$m")"); do is_pid "$pid" && kill -CONT "$pid"; done
    rm -f "$LAB/run/$m.frozen"
    say "$m runs again (SIGCONT)"
}

# ------------------------------------------------------------------ status

proc_state() { awk '/^State:/ { print $2 }' "/proc/$1/status" 2>/dev/null; }

cmd_status() {
    load_env
    if [ "$NODES" = 0 ]; then
        say "$LAB_NAME is not up$( [ -n "$(lab_namespaces)" ] && echo " (but namespaces are left: run down)")"
        return 1
    fi
    echo "lab $LAB_NAME: $NODES node(s) on $SUBNET.0/24 (bridge in netns $BR), lease $LEASE ms, dir $LAB"
    printf '%-4s %-12s %-16s %-12s %s\n' NODE ADDRESS NETNS NETWORK DAEMON
    local m ns pid what net st
    for m in co $(node_list); do
        ns=$(node_ns "$m")
        what=agent; [ "$m" = co ] && what=coordinator
        if ! ns_exists "$ns"; then net=missing
        elif [ -f "$LAB/run/$m.partition" ]; then net="cut($(cat "$LAB/run/$m.partition"))"
        else net=up
        fi
        if pid=$(daemon_pid "$m" "$what"); then
            st=$(proc_state "$pid")
            [ "$st" = T ] && st="frozen" || st="running"
            st="$what $st, pid $pid"
        else
            st="$what not running"
        fi
        printf '%-4s %-12s %-16s %-12s %s\n' "$m" "$(node_ip "$m")" "$ns" "$net" "$st"
    done
    local vol img on
    for vol in $VOLUMES; do
        img=$LAB/disks/$vol.img
        on=$(cmd_mounts | awk -v v="$vol" '$1 == v { printf "%s%s (%s)", sep, $2, $3; sep = ", " }')
        echo "volume $vol: image $img, mounted on: ${on:-nothing}"
    done
    echo "--- coordinator ($(co_url) in $CO)"
    co_clusctl 5 --timeout 2000 status || echo "(the coordinator does not answer)"
}

# ------------------------------------------------------------------ access

cmd_ctl() {
    load_env
    [ "$NODES" -gt 0 ] || die "lab $LAB_NAME is not up"
    local a
    for a in "$@"; do
        if [ "$a" = --agent ]; then
            exec nsenter --net="/run/netns/$CO" -- "$CLUSCTL" "$@"
        fi
    done
    exec nsenter --net="/run/netns/$CO" -- "$CLUSCTL" --coordinator "$(co_url)" "$@"
}

cmd_agent() {
    local node=${1:?agent NODE CLUSCTL-ARGS}; shift
    check_node "$node"
    exec nsenter --net="/run/netns/$(node_ns "$node")" -- "$CLUSCTL" --agent "$(agent_url "$node")" "$@"
}

cmd_exec() {
    local node=${1:?exec NODE CMD...}; shift
    check_node "$node" co
    [ $# -gt 0 ] || die "exec: no command"
    in_node "$node" "$@"
}

usage() {
    sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed -e '/^set -euo/d' -e 's/^# \{0,1\}//'
}

verb=${1:-}
[ $# -gt 0 ] && shift
case $verb in
    up) cmd_up "$@" ;;
    down) cmd_down ;;
    status) cmd_status ;;
    mounts) cmd_mounts ;;
    partition) cmd_partition "$@" ;;
    heal) cmd_heal "$@" ;;
    freeze) cmd_freeze "$@" ;;
    thaw) cmd_thaw "$@" ;;
    ctl) cmd_ctl "$@" ;;
    agent) cmd_agent "$@" ;;
    exec) cmd_exec "$@" ;;
    -h | --help | help) usage ;;
    *) usage >&2; exit 2 ;;
esac
