#!/usr/bin/env bash
# cluster_bench.sh WORKDIR - the cluster figures P3..P7 of bench/run: real
# clus-agent and clus-coordinator processes on 127.0.0.1, observed by
# bench-cluster-probe (events stamped with CLOCK_MONOTONIC in µs on arrival).
# Prints markdown table rows (figure | value | baseline | ratio | target |
# result) on stdout; progress and problems go to stderr.
#
# Environment: CLUS_BENCH_BUILD (build dir, required), QUICK=1 (a smoke run
# of seconds), CLUS_BENCH_ONLY="P3 P5" (run only these), CLUS_BENCH_P7="10 30
# 100" (agent counts of P7), CLUS_BENCH_P5_TRIALS=6 (agent kills of P5).
#
# Every process started here is in PIDS and is killed by the EXIT trap, also
# on failure; nothing is killed by name or process group.
set -uo pipefail
WORK=${1:?usage: cluster_bench.sh WORKDIR}
B=${CLUS_BENCH_BUILD:?CLUS_BENCH_BUILD names the build directory}
QUICK=${QUICK:-0}
ONLY=${CLUS_BENCH_ONLY:-P3 P4 P5 P6 P7}
AGENT=$B/agent/clus-agent
COORD=$B/coordinator/clus-coordinator
PROBE=$B/bench/bench-cluster-probe
CTL=$B/client/clusctl
mkdir -p "$WORK"

PIDS=()
kill_pids() { # kills and reaps the given pids (only real children: > 1)
    local p
    for p in "$@"; do [ "$p" -gt 1 ] 2>/dev/null && kill -9 "$p" 2>/dev/null; done
    for p in "$@"; do [ "$p" -gt 1 ] 2>/dev/null && wait "$p" 2>/dev/null; done
    return 0
}
cleanup() { kill_pids "${PIDS[@]}"; }
trap cleanup EXIT
trap 'exit 130' INT TERM

log() { echo "cluster_bench: $*" >&2; }
row() { echo "| $1 | $2 | $3 | $4 | $5 | $6 |"; }
wants() { [[ " $ONLY " == *" $1 "* ]]; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }'; }
le() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a <= b) }'; }
verdict() { if "$@"; then echo pass; else echo FAIL; fi; }
now_us() { "$PROBE" now; }

# A free TCP port below the ephemeral range (32768+), so that no outgoing
# connection of this machine can hold it.
free_port() {
    local p
    for _ in $(seq 50); do
        p=$((20000 + RANDOM % 12000))
        [ -z "$(ss -Hltn "sport = :$p" 2>/dev/null)" ] && { echo "$p"; return; }
    done
    echo "$p"
}

# start_agent DIR NAME: an agent listening on a fresh port; sets URL_<NAME>
# and PID_<NAME>. Does not wait for it.
start_agent() {
    local url="tcp://127.0.0.1:$(free_port)"
    mkdir -p "$1"
    "$AGENT" --state-dir "$1/$2" --listen "$url" >>"$1/$2.log" 2>&1 &
    PIDS+=($!)
    printf -v "URL_$2" '%s' "$url"
    printf -v "PID_$2" '%s' "$!"
}

# start_coordinator DIR CONFIG: sets COORD_URL and COORD_PID.
start_coordinator() {
    COORD_URL="tcp://127.0.0.1:$(free_port)"
    "$COORD" --config "$2" --state-dir "$1/co" --listen "$COORD_URL" >>"$1/co.log" 2>&1 &
    COORD_PID=$!
    PIDS+=($!)
}

# cluster_yaml LEASE RENEW MARGIN NODE...: the top of a definition; the
# caller appends "resources:" entries.
cluster_yaml() {
    local n
    printf 'lease_ms: %s\nrenew_ms: %s\nlease_margin_ms: %s\nnodes:\n' "$1" "$2" "$3"
    shift 3
    for n in "$@"; do
        local u="URL_$n"
        printf '  - name: %s\n    agent: %s\n' "$n" "${!u}"
    done
    echo "resources:"
}

# The agent's pid from its name (for kills and /proc reads).
pid_of() { local v="PID_$1"; echo "${!v}"; }
url_of() { local v="URL_$1"; echo "${!v}"; }

# percentiles FILE: "p50 p99 max count" of the numbers in FILE (µs).
percentiles() {
    sort -n "$1" | awk '{ a[NR] = $1 } END {
        if (NR == 0) { print "- - - 0"; exit }
        i50 = int((NR + 1) / 2); i99 = int(NR * 0.99 + 0.999); if (i99 < 1) i99 = 1
        printf "%d %d %d %d\n", a[i50], a[i99], a[NR], NR }'
}

# wait_count WANT TIMEOUT_S COMMAND...: waits until COMMAND prints a number
# >= WANT.
wait_count() {
    local want=$1 deadline=$((SECONDS + $2)) n=0
    shift 2
    while [ $SECONDS -lt $deadline ]; do
        n=$("$@" 2>/dev/null)
        [ "${n:-0}" -ge "$want" ] && return 0
        sleep 0.2
    done
    log "only ${n:-0} of $want after the time allowed ($*)"
    return 1
}

# ------------------------------------------------------------ P3, P4

# Recovery pairs from a probe log: for every EVENT_FAILURE (kind 1) of a
# resource on node A (the first of a burst), the first later Online (kind
# 0, state 2) of it on node B. MODE same: B == A counts; other: B != A
# counts. Prints the delay (µs) of each counted pair.
RECOVERY_AWK='
$4 == 1 && !($5 in fail_t) { fail_t[$5] = $1; fail_n[$5] = $2; next }
$4 == 0 && $6 == 2 && ($5 in fail_t) {
    same = ($2 == fail_n[$5])
    if ((mode == "same" && same) || (mode == "other" && !same)) print $1 - fail_t[$5]
    delete fail_t[$5]
}'

count_pairs() { awk -v mode="$1" "$RECOVERY_AWK" "$2" | wc -l; }

# recovery_run NAME MODE TRIALS POLICY: one 3-node cluster whose resource
# "r" (dummy, fails 30 ms after each Online) is restarted or failed over
# by POLICY; collects TRIALS recoveries of MODE. Sets RESULT="p50 p99 max n".
# (Functions that start processes run in this shell, never in $(...): the
# EXIT trap must see every pid, and a child would hold the pipe open.)
recovery_run() {
    local name=$1 mode=$2 trials=$3 policy=$4 dir="$WORK/$1" probe n
    mkdir -p "$dir"
    for n in n1 n2 n3; do start_agent "$dir" $n; done
    {
        cluster_yaml 3000 1000 1000 n1 n2 n3
        cat <<EOF
  - name: r
    type: dummy
    params: { fail_after_ms: 30 }
    preferred_owners: [n1, n2, n3]
    policy: $policy
EOF
    } >"$dir/cluster.yaml"
    "$PROBE" watch "$URL_n1" "$URL_n2" "$URL_n3" >"$dir/events" &
    probe=$!
    PIDS+=($probe)
    start_coordinator "$dir" "$dir/cluster.yaml"
    wait_count "$trials" $((20 + trials / 5)) count_pairs "$mode" "$dir/events"
    kill_pids "$probe" "$COORD_PID" "$PID_n1" "$PID_n2" "$PID_n3"
    awk -v mode="$mode" "$RECOVERY_AWK" "$dir/events" >"$dir/delays"
    RESULT=$(percentiles "$dir/delays")
}

bench_p3() {
    local trials=200 p50 p99 max n
    [ "$QUICK" = 1 ] && trials=20
    log "P3: $trials restarts in place"
    recovery_run p3 same $trials \
        "{ restart_threshold: 100, restart_period_ms: 1000, restart_delay_ms: 0 }"
    read -r p50 p99 max n <<<"$RESULT"
    row "P3 signalled failure → Online again on the same node, p50 (µs, $n trials)" "$p50" \
        "— (Pacemaker 2.1.5: 68 ms)" "—" "≤ 2000 µs" "$(verdict le "${p50/-/999999999}" 2000)"
    row "P3 same, p99 / max (µs)" "$p99 / $max" "—" "—" "—" "info"
}

bench_p4() {
    local trials=100 p50 p99 max n
    [ "$QUICK" = 1 ] && trials=10
    log "P4: $trials failovers"
    recovery_run p4 other $trials \
        "{ restart_threshold: 0, restart_period_ms: 1000, restart_delay_ms: 0,
           failover_threshold: 100, failover_period_ms: 1000 }"
    read -r p50 p99 max n <<<"$RESULT"
    row "P4 failure past RestartThreshold → Online on the next node, p50 (µs, $n trials)" "$p50" \
        "—" "—" "≤ 5000 µs" "$(verdict le "${p50/-/999999999}" 5000)"
    row "P4 same, p99 / max (µs)" "$p99 / $max" "—" "—" "—" "info"
}

# ------------------------------------------------------------ P5

cctl() { "$CTL" --coordinator "$COORD_URL" --timeout 2000 -o json "$@"; }

# settled_on NODE COUNT: the coordinator shows COUNT resources Online on
# NODE with nothing under way, and every node Up.
settled_on() {
    cctl status 2>/dev/null | jq -e --arg n "$1" --argjson c "$2" '
        ([.resources[] | select(.owner == $n and .state == "Online" and .operation == "")]
         | length == $c) and ([.nodes[] | select(.state != "Up")] | length == 0)' >/dev/null
}

# The node that hosts everything (P5 resources all sit on one node).
owner_now() { cctl status 2>/dev/null | jq -r '.resources[0].owner'; }

# p5_trial DIR COUNT VICTIM: kills VICTIM's agent, waits until all COUNT
# resources are Online on other nodes (from the probe log), restarts the
# agent on the same port and state. Appends the delay (µs) to DIR/delays.
p5_trial() {
    local dir=$1 count=$2 victim=$3 t_kill pid url
    pid=$(pid_of "$victim")
    url=$(url_of "$victim")
    t_kill=$("$PROBE" kill "$pid")
    wait "$pid" 2>/dev/null
    wait_count "$count" 15 p5_online_after "$dir/events" "$t_kill" "$victim" || return 1
    p5_online_after "$dir/events" "$t_kill" "$victim" last >>"$dir/delays"
    "$AGENT" --state-dir "$dir/$victim" --listen "$url" >>"$dir/$victim.log" 2>&1 &
    PIDS+=($!)
    printf -v "PID_$victim" '%s' "$!"
}

# p5_online_after EVENTS T_KILL VICTIM [last]: how many resources came
# Online on a node other than VICTIM after T_KILL (or, with "last", the
# delay from T_KILL to the last of them).
p5_online_after() {
    local victim_index=${3#n}
    awk -v t0="$2" -v v="$victim_index" -v last="${4:-}" '
        $1 > t0 && $4 == 0 && $6 == 2 && $2 != v && !($5 in seen) { seen[$5] = $1; n++; m = $1 }
        END { if (last != "") print m - t0; else print n + 0 }' "$1"
}

# p5_run RENEW MARGIN TRIALS: sets P5_P50 P5_MAX P5_N (µs) for lease 1000 ms.
p5_run() {
    local renew=$1 margin=$2 trials=$3 lease=1000 count=5 dir="$WORK/p5-$1-$2" n probe owner i
    log "P5: $trials agent kills (lease $lease ms, renew $renew ms, margin $margin ms)"
    mkdir -p "$dir"
    for n in n1 n2 n3; do start_agent "$dir" $n; done
    {
        cluster_yaml "$lease" "$renew" "$margin" n1 n2 n3
        for i in $(seq $count); do
            printf '  - name: r%s\n    type: dummy\n    preferred_owners: [n1, n2, n3]\n' "$i"
        done
    } >"$dir/cluster.yaml"
    "$PROBE" watch "$URL_n1" "$URL_n2" "$URL_n3" >"$dir/events" &
    probe=$!
    PIDS+=($probe)
    start_coordinator "$dir" "$dir/cluster.yaml"
    : >"$dir/delays"
    for i in $(seq "$trials"); do
        owner=""
        for _ in $(seq 100); do
            owner=$(owner_now)
            [ -n "$owner" ] && [ "$owner" != null ] && settled_on "$owner" $count && break
            owner=""
            sleep 0.1
        done
        [ -z "$owner" ] && { log "P5: the cluster did not settle"; break; }
        sleep 0.$((RANDOM % 10)) # a kill at a random point of the renewal cycle
        p5_trial "$dir" $count "$owner" || break
    done
    kill_pids "$probe" "$COORD_PID" "$PID_n1" "$PID_n2" "$PID_n3"
    read -r P5_P50 _ P5_MAX P5_N < <(percentiles "$dir/delays")
}

# A killed agent's node is Down lease + margin after the last renewal a
# connection took (the later ones are never sent): between lease and
# lease + margin after the kill (docs/performance.md, P5).
bench_p5() {
    local trials=${CLUS_BENCH_P5_TRIALS:-6} target=1250000
    [ "$QUICK" = 1 ] && trials=1
    p5_run 250 250 $trials
    local what="P5 agent SIGKILL → its 5 resources Online elsewhere, lease 1000 / renew 250"
    row "$what / margin 250 ms, median of $P5_N (µs)" \
        "$P5_P50" "1000000 (the lease)" "$(ratio "$P5_P50" 1000000)" "≤ 1.25× lease" \
        "$(verdict le "${P5_P50/-/999999999}" $target)"
    # The worst case is lease + margin after the last renewal the dead agent
    # could get, plus a 20 ms tick and the Online: 1.25× and a little more.
    row "P5 same, max of $P5_N (µs; bound: lease + margin + a tick)" "$P5_MAX" "1000000" \
        "$(ratio "$P5_MAX" 1000000)" "—" "info"
    [ "$QUICK" = 1 ] && return
    p5_run 100 100 4
    row "P5 same with renew 100 / margin 100 ms, median / max of $P5_N (µs)" \
        "$P5_P50 / $P5_MAX" "1000000" "$(ratio "$P5_P50" 1000000) / $(ratio "$P5_MAX" 1000000)" \
        "—" "info"
}

# ------------------------------------------------------------ P6

# p6_trial DIR COUNT: exec 3 agents and the coordinator on fresh state;
# appends the µs from the first exec to all COUNT resources Online (as the
# agents report them) to $WORK/p6.delays.
p6_trial() {
    local dir=$1 count=$2 t0 t1 probe n
    rm -rf "$dir"
    mkdir -p "$dir"
    for n in n1 n2 n3; do printf -v "URL_$n" 'tcp://127.0.0.1:%s' "$(free_port)"; done
    {
        cluster_yaml 3000 1000 1000 n1 n2 n3
        for i in $(seq "$count"); do
            printf '  - name: r%s\n    type: dummy\n    preferred_owners: [n%s]\n' \
                "$i" $((i % 3 + 1))
        done
    } >"$dir/cluster.yaml"
    "$PROBE" wait-online "$count" 20 "$URL_n1" "$URL_n2" "$URL_n3" >"$dir/online" &
    probe=$!
    PIDS+=($probe)
    sleep 0.2 # the probe is up and dialling
    COORD_URL="tcp://127.0.0.1:$(free_port)"
    t0=$(now_us)
    for n in n1 n2 n3; do
        "$AGENT" --state-dir "$dir/$n" --listen "$(url_of $n)" >>"$dir/$n.log" 2>&1 &
        PIDS+=($!)
        printf -v "PID_$n" '%s' "$!"
    done
    "$COORD" --config "$dir/cluster.yaml" --state-dir "$dir/co" --listen "$COORD_URL" \
        >>"$dir/co.log" 2>&1 &
    COORD_PID=$!
    PIDS+=($!)
    wait "$probe"
    t1=$(sed -n 's/^online_us=\([0-9]*\).*/\1/p' "$dir/online")
    kill_pids "$COORD_PID" "$PID_n1" "$PID_n2" "$PID_n3"
    [ -n "$t1" ] && echo $((t1 - t0)) >>"$WORK/p6.delays"
}

# The baseline: exec of `true` four times, as the shell does it above.
p6_baseline() {
    local t0 t1 pids=()
    t0=$(now_us)
    for _ in 1 2 3 4; do
        /bin/true &
        pids+=($!)
    done
    wait "${pids[@]}"
    t1=$(now_us)
    echo $((t1 - t0))
}

bench_p6() {
    local trials=5 count=9 dir="$WORK/p6" p50 p99 max n b
    [ "$QUICK" = 1 ] && trials=1
    log "P6: $trials cold starts"
    : >"$WORK/p6.delays"
    : >"$WORK/p6.base"
    for _ in $(seq $trials); do
        p6_trial "$dir" $count
        p6_baseline >>"$WORK/p6.base"
    done
    read -r p50 p99 max n < <(percentiles "$WORK/p6.delays")
    read -r b _ < <(percentiles "$WORK/p6.base")
    row "P6 cold start: 3 agents + coordinator exec'd → $count resources Online, median of $n (µs)" \
        "$p50" "$b (exec of true ×4)" "$(ratio "$p50" "$b")" "≤ 300000 µs" \
        "$(verdict le "${p50/-/999999999}" 300000)"
}

# ------------------------------------------------------------ P7

# cpu_ticks PID: user + system time of the process so far, in clock ticks.
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat" 2>/dev/null || echo 0; }
rss_kib() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status" 2>/dev/null || echo 0; }
# The process's private anonymous memory (heap, stacks): what a resource
# costs. VmRSS also counts the pages of the binary and libraries it has
# touched, shared by every agent on the host and ±100 KiB from one idle
# agent to the next (which code ran), which is 1 KiB "per resource" of noise.
anon_kib() { awk '/^Anonymous:/ { print $2 }' "/proc/$1/smaps_rollup" 2>/dev/null || echo 0; }
# percent_of_core TICKS HZ SECONDS
percent_of_core() { awk -v d="$1" -v hz="$2" -v w="$3" 'BEGIN { printf "%.2f", 100 * d / hz / w }'; }

# p7_run AGENTS: AGENTS agents with 100 dummy resources each, plus z1..z3
# with none (their median memory is the baseline of the memory per
# resource), under one coordinator
# (lease 3000/1000/1000, LooksAlive 5000 ms). Sets P7_ONLINE_MS (coordinator
# exec -> every resource Online at its agent), P7_CO_CPU and P7_AG_CPU (% of
# one core over the steady-state window), P7_KIB_RES (agent anonymous
# memory per resource), P7_RSS_KIB_RES (the same from VmRSS),
# P7_CO_KIB_RES (coordinator RSS per resource).
p7_run() {
    local agents=$1 per=100 dir="$WORK/p7-$1" nodes=(z1 z2 z3) urls=() i j t0 t1 c0 c1 a0 a1
    local window=20 hz pids=() probe rss0 rss_sum=0 anon0 anon_sum=0 n
    [ "$QUICK" = 1 ] && window=2
    hz=$(getconf CLK_TCK)
    mkdir -p "$dir"
    for i in $(seq "$agents"); do nodes+=("n$i"); done
    for n in "${nodes[@]}"; do
        start_agent "$dir" "$n"
        pids+=("$(pid_of "$n")")
        [ "${n#z}" = "$n" ] && urls+=("$(url_of "$n")")
    done
    {
        cluster_yaml 3000 1000 1000 "${nodes[@]}"
        for i in $(seq "$agents"); do
            for j in $(seq $per); do
                printf '  - { name: r%s-%s, type: dummy, possible_owners: [n%s], ' "$i" "$j" "$i"
                printf 'policy: { looks_alive_ms: 5000 } }\n'
            done
        done
    } >"$dir/cluster.yaml"
    for i in $(seq 100); do # every agent listens
        "$CTL" --agent "${urls[-1]}" --timeout 200 status >/dev/null 2>&1 && break
        sleep 0.05
    done
    "$PROBE" wait-online $((agents * per)) 300 "${urls[@]}" >"$dir/online" &
    probe=$!
    PIDS+=($probe)
    sleep 0.5
    t0=$(now_us)
    start_coordinator "$dir" "$dir/cluster.yaml"
    wait "$probe"
    t1=$(sed -n 's/^online_us=\([0-9]*\).*/\1/p' "$dir/online")
    P7_ONLINE_MS=$([ -n "$t1" ] && echo $(((t1 - t0) / 1000)) || echo "-")
    sleep $((window / 4 + 1)) # the start-up burst is over
    c0=$(cpu_ticks "$COORD_PID")
    a0=$(cpu_ticks "$PID_n1")
    sleep $window
    c1=$(cpu_ticks "$COORD_PID")
    a1=$(cpu_ticks "$PID_n1")
    P7_CO_CPU=$(percent_of_core $((c1 - c0)) "$hz" $window)
    P7_AG_CPU=$(percent_of_core $((a1 - a0)) "$hz" $window)
    rss0=$(for n in z1 z2 z3; do rss_kib "$(pid_of $n)"; done | sort -n | sed -n 2p)
    anon0=$(for n in z1 z2 z3; do anon_kib "$(pid_of $n)"; done | sort -n | sed -n 2p)
    for i in $(seq "$agents"); do
        rss_sum=$((rss_sum + $(rss_kib "$(pid_of "n$i")")))
        anon_sum=$((anon_sum + $(anon_kib "$(pid_of "n$i")")))
    done
    P7_KIB_RES=$(awk -v s=$anon_sum -v n="$agents" -v b="$anon0" -v p=$per \
        'BEGIN { printf "%.2f", (s / n - b) / p }')
    P7_RSS_KIB_RES=$(awk -v s=$rss_sum -v n="$agents" -v b="$rss0" -v p=$per \
        'BEGIN { printf "%.2f", (s / n - b) / p }')
    P7_CO_KIB_RES=$(awk -v r="$(rss_kib "$COORD_PID")" -v n=$((agents * per)) \
        'BEGIN { printf "%.2f", r / n }')
    log "P7 $agents agents: online ${P7_ONLINE_MS} ms, coordinator ${P7_CO_CPU}%, agent" \
        "${P7_AG_CPU}%, agent RSS idle $(for n in z1 z2 z3; do rss_kib "$(pid_of $n)"; done | \
        tr '\n' ' ')KiB, mean with $per resources $((rss_sum / agents)) KiB; anonymous idle" \
        "$(for n in z1 z2 z3; do anon_kib "$(pid_of $n)"; done | tr '\n' ' ')KiB, mean with" \
        "$per resources $((anon_sum / agents)) KiB"
    kill_pids "$COORD_PID" "${pids[@]}"
}

bench_p7() {
    local counts=${CLUS_BENCH_P7:-10 30 100} n first_ms="" first_n="" per_res
    [ "$QUICK" = 1 ] && counts=${CLUS_BENCH_P7:-3}
    for n in $counts; do
        log "P7: $n agents × 100 resources"
        p7_run "$n"
        row "P7 $n agents × 100 dummies: coordinator exec → all $((n * 100)) Online (ms)" \
            "$P7_ONLINE_MS" "—" "—" "linear or better" "info"
        row "P7 $n agents: coordinator CPU, steady state (% of a core)" "$P7_CO_CPU" "—" "—" \
            "≤ 5%" "$(verdict le "$P7_CO_CPU" 5)"
        row "P7 $n agents: one agent's CPU, steady state (% of a core)" "$P7_AG_CPU" "—" "—" \
            "—" "info"
        row "P7 $n agents: agent memory per resource (KiB, anonymous)" "$P7_KIB_RES" \
            "median of 3 idle agents" "—" "≤ 2 KiB" "$(verdict le "$P7_KIB_RES" 2)"
        row "P7 $n agents: agent RSS per resource (KiB, VmRSS, ±1 noise)" "$P7_RSS_KIB_RES" \
            "median of 3 idle agents" "—" "—" "info"
        row "P7 $n agents: coordinator RSS per resource (KiB)" "$P7_CO_KIB_RES" "—" "—" "—" "info"
        if [ -z "$first_ms" ]; then
            first_ms=$P7_ONLINE_MS first_n=$n
        elif [ "$P7_ONLINE_MS" != - ] && [ "$first_ms" != - ]; then
            per_res=$(awk -v a="$P7_ONLINE_MS" -v n="$n" -v b="$first_ms" -v m="$first_n" \
                'BEGIN { printf "%.2f", (a / n) / (b / m) }')
            row "P7 growth $first_n → $n agents: time to all Online per resource" "$per_res×" \
                "$first_n agents" "$per_res" "≤ 1.5× (linear or better)" \
                "$(verdict le "$per_res" 1.5)"
        fi
    done
}

for p in P3 P4 P5 P6 P7; do
    f="bench_${p,,}"
    wants "$p" && declare -F "$f" >/dev/null && "$f"
done
exit 0
