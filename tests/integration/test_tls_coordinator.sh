#!/usr/bin/env bash
# The coordinator and its agents over mutual TLS (docs/security.md): two agents
# on tls+tcp://127.0.0.1, the coordinator on tls+tcp:// with its own node
# certificate, which also authenticates it to the agents. A resource comes
# Online and moves; a reader sees the cluster and is refused (5, logged) what
# changes it; a foreign certificate is refused; start-up errors say what is
# missing.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/tls_lib.sh"
COORD_BIN=$BUILD/coordinator/clus-coordinator
[ -x "$COORD_BIN" ] || { echo "FAIL: $COORD_BIN not built"; exit 1; }

make_pki
start_tls_agent n1
start_tls_agent n2
cfg=$WORK/cluster.yaml
cat >"$cfg" <<EOF2
lease_ms: 1500
renew_ms: 300
nodes:
  - name: n1
    agent: $URL_n1
  - name: n2
    agent: $URL_n2
resources:
  - name: web
    type: dummy
    params: { online_delay_ms: 100 }
    preferred_owners: [n1, n2]
    policy: { looks_alive_ms: 200 }
EOF2

COORD_URL="tls+tcp://127.0.0.1:$(free_port)"
# shellcheck disable=SC2046
cctl_as() { # WHO ARGS...
    local who=$1; shift
    "$CLUSCTL" --coordinator "$COORD_URL" $(tls_args "$who") -o json "$@"
}
status_ok() { cctl_as alice status | jq -e '.status == 0' >/dev/null; }
res_is() { # NAME OWNER STATE
    [ "$(cctl_as alice status | jq -r ".resources[] | select(.name == \"$1\") |
        \"\(.owner) \(.state) \(.operation)\"")" = "$2 $3 " ]
}

# --- start-up errors first: they must not leave anything running
# shellcheck disable=SC2046
out=$(timeout 10 "$COORD_BIN" --config "$cfg" --state-dir "$WORK/bad" --listen "tcp://127.0.0.1:$(free_port)" 2>&1)
rc=$?
check "agents at tls+tcp:// without TLS files: exit 2" test "$rc" = 2
check "... saying TLS files are needed" grep -q "needs TLS" <<<"$out"
out=$(timeout 10 "$COORD_BIN" --config "$cfg" --state-dir "$WORK/bad" --listen "tcp://0.0.0.0:$(free_port)" \
    $(tls_args co) 2>&1)
rc=$?
check "plain tcp on 0.0.0.0 without --insecure: refused" test "$rc" = 1
check "... saying why" grep -q "use tls+tcp:// or pass --insecure" <<<"$out"
out=$(timeout 10 "$COORD_BIN" --config "$cfg" --state-dir "$WORK/bad" --listen "$COORD_URL" \
    $(tls_args alice) 2>&1)
check "an admin certificate as the coordinator's: refused" grep -q "needs a node certificate" <<<"$out"

# --- the coordinator on tls+tcp://, a node certificate for both sides
# shellcheck disable=SC2046
"$COORD_BIN" --config "$cfg" --state-dir "$WORK/co" --listen "$COORD_URL" $(tls_args co) \
    >>"$WORK/co.log" 2>&1 &
PID_co=$!
PIDS+=("$PID_co")
wait_for 10 status_ok || { echo "FAIL: the coordinator did not start"; cat "$WORK/co.log"; exit 1; }

check "web comes Online on n1 through the TLS links" wait_for 15 res_is web n1 Online
out=$(tctl alice "$URL_n1" state web)
expect_json "agent n1 itself has web Online" "$out" '.state == "Online"'
out=$(cctl_as alice status)
expect_json "both nodes are up (leases renewed over TLS)" "$out" \
    '[.nodes[] | select(.state == "Up")] | length == 2'
out=$(cctl_as alice move web --to n2 --wait --timeout 15000)
expect_json "admin: move --wait to n2" "$out" '.status == 0 and .owner == "n2" and .state == "Online"'

# --- a reader: sees, cannot change
out=$(cctl_as rita status)
expect_json "reader: status" "$out" '.status == 0 and (.resources | length) == 1'
out=$(cctl_as rita watch --after 0 --timeout 300 | head -1)
expect_json "reader: watch" "$out" '.seq >= 1'
out=$(cctl_as rita offline web)
expect_json "reader: offline is refused with 5" "$out" '.status == 5 and (.message | test("reader"))'
out=$(cctl_as rita move web --to n1)
expect_json "reader: move is refused with 5" "$out" '.status == 5'
logged "the coordinator logs the reader's refused call" "$WORK/co.log" \
    'access denied: CN=rita \(role reader, from 127\.0\.0\.1:[0-9]+\) called offline'
check "web stayed Online on n2" res_is web n2 Online

# --- a reader straight at an agent cannot fence the cluster's resources either
out=$(tctl rita "$URL_n2" terminate web)
expect_json "reader: terminate on the agent is refused with 5" "$out" '.status == 5'

# --- foreign and expired certificates never get a connection
refused "the coordinator refuses a certificate of another CA" "unknown CA|$REFUSED_SOME" \
    "$CLUSCTL" --coordinator "$COORD_URL" --tls-ca "$CA/ca.crt" \
    --tls-cert "$WORK/other/mallory.crt" --tls-key "$WORK/other/mallory.key" status
refused "the coordinator refuses an expired certificate" "certificate expired|$REFUSED_SOME" \
    "$CLUSCTL" --coordinator "$COORD_URL" $(tls_args old) status
logged "the coordinator logs the refusals" "$WORK/co.log" 'refused a client .*\(CN=old\)'
check "the coordinator still serves the admin" status_ok
out=$(cctl_as alice offline web --wait --timeout 15000)
expect_json "admin: offline --wait at the end" "$out" '.status == 0 and .state == "Offline"'
finish
