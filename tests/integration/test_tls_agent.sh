#!/usr/bin/env bash
# Mutual TLS and roles against one agent on tls+tcp://127.0.0.1 (docs/security.md):
# an admin does everything; a reader reads and is refused (5, logged) what changes
# state; a certificate of another CA, none, or an expired one is refused at the
# handshake (clusctl exits 3 and says why; the agent logs it); the agent keeps
# serving the others after each; a client refuses a server of another CA or one
# that is not a node; handshakes that never finish end after 10 s on both sides;
# a daemon refuses to start with a certificate it cannot use.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/tls_lib.sh"

make_pki
start_tls_agent n1
LOG=$WORK/n1.log

# shellcheck disable=SC2046
raw() { "$CLUSCTL" --agent "$URL_n1" -o json "$@"; }
listening() { ss -Htln "sport = :$1" | grep -q .; }
admin_ok() { tctl alice "$URL_n1" resources | jq -e '.status == 0' >/dev/null; }

# --- an admin: everything
out=$(tctl alice "$URL_n1" open web --type dummy)
expect_json "admin: open over mutual TLS" "$out" '.status == 0 and .state == "Offline"'
out=$(tctl alice "$URL_n1" online web --wait)
expect_json "admin: online --wait" "$out" '.status == 0 and .state == "Online"'

# --- a reader: reads, and nothing else
out=$(tctl rita "$URL_n1" state web)
expect_json "reader: state" "$out" '.status == 0 and .state == "Online"'
out=$(tctl rita "$URL_n1" resources)
expect_json "reader: resources (status)" "$out" '.status == 0 and (.resources | length) == 1'
out=$(tctl rita "$URL_n1" types)
expect_json "reader: types" "$out" '.status == 0'
out=$(tctl rita "$URL_n1" looks-alive web)
expect_json "reader: LooksAlive" "$out" '.status == 0 and .alive == true'
out=$(tctl rita "$URL_n1" is-alive web)
expect_json "reader: IsAlive" "$out" '.status == 0 and .alive == true'
out=$(tctl rita "$URL_n1" watch --after 0 --timeout 200 | head -1)
expect_json "reader: watch" "$out" '.resource == "web"'
out=$(tctl rita "$URL_n1" offline web)
expect_json "reader: offline is refused with 5 (access denied)" "$out" \
    '.status == 5 and (.message | test("reader"))'
out=$(tctl rita "$URL_n1" online web)
expect_json "reader: online is refused with 5" "$out" '.status == 5'
expect_rc "reader: clusctl exits 1 on the refusal" 1 tctl rita "$URL_n1" terminate web
logged "the refusal is logged with the reader's CN and the call" "$LOG" \
    'WARN access denied: CN=rita \(role reader, from 127\.0\.0\.1:[0-9]+\) called online'
out=$(tctl alice "$URL_n1" state web)
expect_json "nothing the reader asked happened (web still Online)" "$out" '.state == "Online"'
check "the agent still serves the admin" admin_ok

# --- refused at the handshake: clusctl exits 3 and says why (or, when the
# reason was lost, REFUSED_SOME: tls_lib.sh); the agent logs it
refused "a certificate of another CA is refused" "refused us: unknown CA|$REFUSED_SOME" \
    raw --tls-ca "$CA/ca.crt" --tls-cert "$WORK/other/mallory.crt" \
    --tls-key "$WORK/other/mallory.key" resources
logged "the agent logs the foreign certificate" "$LOG" \
    'refused a client at 127\.0\.0\.1:[0-9]+ \(CN=mallory\): .*not correctly signed'
check "the agent still serves the admin" admin_ok

refused "no certificate is refused" "we sent none" raw --tls-ca "$CA/ca.crt" resources
logged "the agent logs the missing certificate" "$LOG" 'the client sent no certificate'
check "the agent still serves the admin" admin_ok

refused "an expired certificate is refused" "refused us: certificate expired|$REFUSED_SOME" \
    raw $(tls_args old) resources
logged "the agent logs the expired certificate" "$LOG" '\(CN=old\): .*expired'
check "the agent still serves the admin" admin_ok

# --- the client's side: the server must be a node of our CA, named as the URL says
refused "a server of another CA is refused by the client" \
    "server's certificate is refused: .*not correctly signed" \
    raw --tls-ca "$WORK/other/ca.crt" --tls-cert "$WORK/other/mallory.crt" \
    --tls-key "$WORK/other/mallory.key" resources
logged "the agent logs that the client refused it" "$LOG" 'the client refused us: unknown CA'
bash "$PKI" issue "$CA" 127.0.0.1 --role admin >/dev/null # CN matches the host; no SAN
port=$(free_port)
openssl s_server -quiet -accept "127.0.0.1:$port" -cert "$CA/127.0.0.1.crt" \
    -key "$CA/127.0.0.1.key" -CAfile "$CA/ca.crt" -Verify 1 >"$WORK/s_server.log" 2>&1 &
PIDS+=($!)
wait_for 5 listening "$port" || fail "openssl s_server did not start"
refused "a server showing a client (admin) certificate is refused" \
    "server's certificate is refused: .*extendedKeyUsage" \
    "$CLUSCTL" --agent "tls+tcp://127.0.0.1:$port" $(tls_args alice) --timeout 2000 resources
port=$(free_port)
openssl s_server -quiet -accept "127.0.0.2:$port" -cert "$CA/n2.crt" -key "$CA/n2.key" \
    -CAfile "$CA/ca.crt" -Verify 1 >"$WORK/s_server2.log" 2>&1 &
PIDS+=($!)
wait_for 5 listening "$port" || fail "openssl s_server did not start"
refused "a node whose certificate does not name the URL's host is refused" \
    "Common Name \(CN\) does not match" \
    "$CLUSCTL" --agent "tls+tcp://127.0.0.2:$port" $(tls_args alice) --timeout 2000 resources

# --- bad TLS settings are start-up errors with a reason (exit 2)
bad_start() { # DESCRIPTION PATTERN ARGS...
    local what=$1 pattern=$2; shift 2
    local out rc
    out=$(timeout 10 "$AGENT_BIN" --state-dir "$WORK/bad" --listen "tls+tcp://127.0.0.1:$(free_port)" \
        "$@" 2>&1)
    rc=$?
    if [ "$rc" = 2 ] && echo "$out" | grep -q -E -- "$pattern"; then pass "$what"; else
        fail "$what (exit $rc: $out)"; fi
}
mkdir -p "$WORK/bad"
bad_start "tls+tcp:// without files is refused" "needs the cluster CA"
bad_start "a daemon with an admin certificate is refused" "admin certificate: a daemon needs a node" \
    $(tls_args alice)
bad_start "a node certificate of another CA is refused" "not valid with the CA" \
    --tls-ca "$CA/ca.crt" --tls-cert "$WORK/other/n1.crt" --tls-key "$WORK/other/n1.key"
bad_start "a key that is not the certificate's is refused" "does not belong" \
    --tls-ca "$CA/ca.crt" --tls-cert "$CA/n1.crt" --tls-key "$CA/n2.key"
out=$(timeout 10 "$AGENT_BIN" --state-dir "$WORK/bad" --listen "tcp://127.0.0.1:$(free_port)" \
    $(tls_args n1) 2>&1)
check "TLS files with a plain tcp listener are refused" test $? = 2

# --- handshakes that never finish are ended after 10 s, on both sides: a
# half-open connection does not hold the agent, a stopped agent does not hold
# clusctl (both run at once: about 10 s)
start_tls_agent n2
exec 7<>"/dev/tcp/127.0.0.1/${URL_n1##*:}" # TCP connected, no TLS ever
check "a connection that sends nothing does not stop the others" admin_ok
kill -STOP "$PID_n2"
t0=$SECONDS
refused "clusctl gives up on a stopped agent after 10 s" "did not finish within 10 s" \
    "$CLUSCTL" --agent "$URL_n2" $(tls_args alice) resources
check "... and not much later ($((SECONDS - t0)) s)" test $((SECONDS - t0)) -le 15
kill -CONT "$PID_n2"
rc=0
read -r -t 10 _ <&7 || rc=$?
check "the agent closed the silent connection (read: EOF, not a timeout: $rc)" test "$rc" = 1
exec 7<&-
logged "... and logged it" "$LOG" \
    'closed the connection with a client at 127\.0\.0\.1:[0-9]+: its TLS handshake did not finish'
check "the agent still serves the admin" admin_ok
check "the thawed agent serves again" wait_for 10 tctl alice "$URL_n2" resources

# --- environment variables stand for the options
out=$(CLUS_TLS_CA=$CA/ca.crt CLUS_TLS_CERT=$CA/rita.crt CLUS_TLS_KEY=$CA/rita.key \
    "$CLUSCTL" --agent "$URL_n1" -o json state web)
expect_json "CLUS_TLS_CA/CERT/KEY work like the options" "$out" '.status == 0'
"$CLUSCTL" --agent "$URL_n1" resources >/dev/null 2>"$WORK/noca.err"
check "no CA for a tls+tcp:// URL is a usage error (2)" test $? = 2
check "... saying what is missing" grep -q "needs the cluster CA" "$WORK/noca.err"

# --- and after all that, the agent serves its clients as before
out=$(tctl alice "$URL_n1" offline web --wait)
expect_json "admin: offline --wait at the end" "$out" '.status == 0 and .state == "Offline"'
check "the agent process is still running" kill -0 "$PID_n1"
finish
