# tls_lib.sh - helpers for the mutual-TLS integration tests (sourced after
# lib.sh, whose EXIT trap kills every process started here).
need openssl
PKI=${CLUS_SOURCE_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}/scripts/pki.sh
[ -f "$PKI" ] || { echo "FAIL: $PKI missing"; exit 1; }
CA=$WORK/pki

# make_pki: the cluster CA in $CA with node certificates n1..n3 and co, an
# admin and a reader client; another CA in $WORK/other with an admin; an
# admin of $CA whose validity ended in 2020.
make_pki() {
    local n
    bash "$PKI" init "$CA" >/dev/null || { echo "FAIL: pki.sh init"; exit 1; }
    for n in n1 n2 n3 co; do
        bash "$PKI" issue "$CA" "$n" --role node >/dev/null || { echo "FAIL: pki.sh issue $n"; exit 1; }
    done
    bash "$PKI" issue "$CA" alice --role admin >/dev/null
    bash "$PKI" issue "$CA" rita --role reader >/dev/null
    bash "$PKI" issue "$CA" old --role admin \
        --not-before 20200101000000Z --not-after 20200102000000Z >/dev/null
    bash "$PKI" init "$WORK/other" --name "someone else's CA" >/dev/null
    bash "$PKI" issue "$WORK/other" mallory --role admin >/dev/null
    bash "$PKI" issue "$WORK/other" n1 --role node >/dev/null
    [ -f "$WORK/other/mallory.crt" ] || { echo "FAIL: pki.sh did not make the certificates"; exit 1; }
}

# tls_args NAME [DIR]: the --tls-* options for NAME's certificate in DIR (default $CA).
tls_args() {
    local dir=${2:-$CA}
    echo "--tls-ca $CA/ca.crt --tls-cert $dir/$1.crt --tls-key $dir/$1.key"
}

# tctl WHO URL ARGS...: clusctl -o json as WHO (a certificate name of $CA).
# shellcheck disable=SC2046
tctl() {
    local who=$1 url=$2; shift 2
    "$CLUSCTL" --agent "$url" $(tls_args "$who") -o json "$@"
}

# start_tls_agent NAME: clus-agent NAME on tls+tcp://127.0.0.1 with node
# certificate NAME; sets URL_<NAME>, PID_<NAME>; waits until alice reaches it.
# shellcheck disable=SC2046
start_tls_agent() {
    local name=$1; shift
    local url="tls+tcp://127.0.0.1:$(free_port)"
    mkdir -p "$WORK/$name"
    "$AGENT_BIN" --state-dir "$WORK/$name" --listen "$url" $(tls_args "$name") "$@" \
        >>"$WORK/$name.log" 2>&1 &
    local pid=$!
    PIDS+=("$pid")
    printf -v "URL_$name" '%s' "$url"
    printf -v "PID_$name" '%s' "$pid"
    local i
    for i in $(seq 1 100); do
        tctl alice "$url" --timeout 1000 resources >/dev/null 2>&1 && return 0
        sleep 0.05
    done
    echo "FAIL: agent $name did not start on $url"; cat "$WORK/$name.log"; exit 1
}

# The server's alert naming why it refused us can be lost: it closes the
# connection with our last handshake bytes unread, so its kernel may send a
# reset that overtakes the alert. clusctl then gives this general sentence
# (which names the likely reasons) and the server's log says which.
REFUSED_SOME="refused our certificate \(expired, revoked or of another CA"

# refused DESCRIPTION PATTERN COMMAND...: the command exits 3 (unreachable)
# and its stderr matches PATTERN (the reason, for people).
refused() {
    local what=$1 pattern=$2; shift 2
    local out rc
    out=$("$@" 2>&1 >/dev/null)
    rc=$?
    if [ "$rc" = 3 ] && echo "$out" | grep -q -E -- "$pattern"; then
        pass "$what"
    else
        fail "$what (exit $rc, wanted 3 and /$pattern/; said: $out)"
    fi
}

# logged DESCRIPTION FILE PATTERN: the daemon's log has the line (waits 2 s).
logged() {
    local what=$1 file=$2 pattern=$3
    if wait_for 2 grep -q -E -- "$pattern" "$file"; then
        pass "$what"
    else
        fail "$what (no /$pattern/ in $file: $(tail -5 "$file"))"
    fi
}
