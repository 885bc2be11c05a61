#!/usr/bin/env bash
# Bad input: invalid definitions (clusctl config validate and the daemon
# itself, with FILE:LINE), and bad requests to a running coordinator
# (unknown resource, node or call, a node that is down or cannot host it).
# Each gets a clear error and changes nothing; the coordinator keeps serving.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/coord_lib.sh"

# --- definitions, no daemon
v() { "$CLUSCTL" -o json config validate "$1"; }
defn() { # NAME CONTENT: writes $WORK/NAME.yaml
    printf '%s' "$2" >"$WORK/$1.yaml"
    echo "$WORK/$1.yaml"
}
head='nodes:
  - name: n1
    agent: tcp://127.0.0.1:7711
  - name: n2
    agent: tcp://127.0.0.1:7712
'
f=$(defn good "${head}resources:
  - name: web
    type: dummy
")
expect_rc "a good definition validates (exit 0)" 0 v "$f"
expect_json "validate says how much it holds" "$(v "$f")" '.valid == true and .nodes == 2 and .resources == 1'

bad() { # DESCRIPTION NAME CONTENT LINE TEXT
    local file out
    file=$(defn "$2" "$3")
    out=$(v "$file")
    expect_json "$1: refused at line $4" "$out" \
        ".status == 87 and .valid == false and (.message | startswith(\"$file:$4:\")) and (.message | test(\"$5\"))"
    expect_rc "$1: exit 1" 1 v "$file"
}
bad "invalid YAML" yaml "${head}resources: [
  - name: x
" 7 "invalid YAML"
bad "unknown node" unode "${head}resources:
  - name: web
    type: dummy
    possible_owners: [n1, n7]
" 9 "unknown node 'n7'"
bad "unknown type" utype "${head}resources:
  - name: web
    type: nosuch
" 8 "unknown resource type 'nosuch'"
bad "empty possible owners" empty "${head}resources:
  - name: web
    type: dummy
    possible_owners: []
" 9 "possible_owners is empty"
bad "duplicate resource names" dupres "${head}resources:
  - name: web
    type: dummy
  - name: web
    type: dummy
" 9 "duplicate resource name 'web'.*first on line 7"
bad "duplicate node names" dupnode "nodes:
  - name: n1
    agent: tcp://127.0.0.1:7711
  - name: n1
    agent: tcp://127.0.0.1:7712
" 4 "duplicate node name 'n1'"
bad "zero interval" zero "lease_ms: 0
${head}" 1 "lease_ms must be a whole number"
bad "negative interval" neg "${head}resources:
  - name: web
    type: dummy
    policy: { restart_period_ms: -5 }
" 9 "restart_period_ms"
bad "renew not shorter than the lease" renew "lease_ms: 1000
renew_ms: 1000
${head}" 2 "renew_ms"
expect_rc "validate of a missing file: exit 1" 1 "$CLUSCTL" config validate "$WORK/none.yaml"
expect_rc "validate without a file: usage (exit 2)" 2 "$CLUSCTL" config validate

out=$("$COORD_BIN" --config "$WORK/unode.yaml" --state-dir "$WORK/x" 2>&1)
rc=$?
check "the daemon refuses a bad definition (exit $rc)" test "$rc" = 2
check "... and says where: $out" bash -c "echo '$out' | grep -q 'unode.yaml:9:'"
check "... before creating any state" test ! -e "$WORK/x"

# --- a running coordinator: n1, n2 up, n3's agent never started
start_agents 2
NODES=3
URL_n3="tcp://127.0.0.1:$(free_port)"
cfg="$WORK/cluster.yaml"
{
    cluster_header 1000 300 300
    cat <<'EOF'
  - name: web
    type: dummy
    possible_owners: [n1, n2, n3]
    preferred_owners: [n1, n2]
    policy: { looks_alive_ms: 200 }
  - name: only1
    type: dummy
    possible_owners: [n1]
    policy: { looks_alive_ms: 200 }
EOF
} >"$cfg"
NODES=2 # the checks below only reach real agents
start_coordinator "$cfg"
check "web online on n1 (after n3 is found down)" wait_for 8 settled web n1 Online
check "n3 is Down" node_is n3 Down
check "only1 online on n1" wait_for 5 settled only1 n1 Online
view() { cctl status | jq -c '[.resources[] | {name, owner, state, desired, restarts, failovers}], [.nodes[] | {name, state}]'; }
before=$(view)

req() { # DESCRIPTION STATUS EXIT ARGS...
    local what=$1 want=$2 rc_want=$3 out rc
    shift 3
    out=$(cctl "$@")
    rc=$?
    if echo "$out" | jq -e ".status == $want and (.message | length > 0)" >/dev/null 2>&1 &&
        [ "$rc" = "$rc_want" ]; then
        pass "$what: $want ($(echo "$out" | jq -r .message))"
    else
        fail "$what: wanted status $want exit $rc_want, got exit $rc: $out"
    fi
}
req "online of an unknown resource" 5007 1 online nosuch
req "online of a name that is not valid" 87 1 online 'bad name!'
req "online on an unknown node" 5042 1 online web --node n9
req "online on a node that cannot host it" 5071 1 online only1 --node n2
req "online elsewhere while online: use move" 5019 1 online web --node n2
req "move to an unknown node" 5042 1 move web --to n9
req "move to a node that is down" 5050 1 move web --to n3
req "move to a node that cannot host it" 5071 1 move only1 --to n2
req "move of an unknown resource" 5007 1 move nosuch --to n2
req "drain of an unknown node" 5042 1 drain n9
req "undrain of an unknown node" 5042 1 undrain n9
req "clear of an unknown resource" 5007 1 clear nosuch
req "plan for an unknown node" 5042 1 plan --fail-node n9
req "plan for an unknown resource" 5007 1 plan --fail-resource nosuch
req "offline of an unknown resource" 5007 1 offline nosuch
expect_rc "plan without what to fail: usage (exit 2)" 2 cctl plan
expect_rc "move without --to: usage (exit 2)" 2 cctl move web
expect_rc "an unknown option: usage (exit 2)" 2 cctl online web --bogus
out=$("$CLUSCTL" --agent "$COORD_URL" -o json resources)
expect_json "an agent's call sent to the coordinator: unknown call (1)" "$out" '.status == 1'
out=$("$CLUSCTL" --agent "$COORD_URL" -o json online web)
expect_json "an agent's Online sent to the coordinator changes nothing (1)" "$out" '.status == 1'
expect_rc "a coordinator that is not there: unreachable (exit 3)" 3 \
    "$CLUSCTL" --coordinator "tcp://127.0.0.1:$(free_port)" status
check "nothing changed" test "$(view)" = "$before"
check "agent n1 still runs web" agent_is n1 web Online
check "agent n2 does not" bash -c "[ \"\$(\"$CLUSCTL\" --agent $URL_n2 -o json state web | jq -r .state)\" != Online ]"
expect_json "the coordinator keeps serving" "$(cctl status)" '.status == 0 and (.resources | length) == 2'

coord_finish
