#!/usr/bin/env bash
# pki.sh - the cluster CA and the certificates clus's mutual TLS needs
# (docs/security.md). Uses the openssl command line tool.
#
#   pki.sh init DIR [--days N] [--name TEXT]
#       makes the cluster CA: DIR/ca.crt (give it to everyone: --tls-ca) and
#       DIR/ca.key (keep it offline); default 3650 days.
#   pki.sh issue DIR NAME --role node|admin|reader [--days N] [--host H]...
#       makes DIR/NAME.crt and DIR/NAME.key (mode 0600), signed by DIR's CA;
#       default 365 days. The role goes into the subject's OU:
#         node    an agent or the coordinator (serves tls+tcp://, calls agents);
#                 its names: NAME, localhost, 127.0.0.1 and every --host
#                 (the host of each URL others use to reach it);
#         admin   a client that may do everything;
#         reader  a client that may only read (status, state, LooksAlive,
#                 IsAlive, watch, types).
#       --not-before/--not-after YYYYMMDDHHMMSSZ set the validity period
#       instead of --days (e.g. to rehearse an expired certificate).
#
# Keys are ECDSA P-256, certificates SHA-256: cheap to verify for mbed TLS,
# which the daemons use. Exit codes: 0 done, 2 usage, 1 openssl failed.
set -euo pipefail

usage() {
    sed -n '2,21p' "$0" | sed 's/^# \{0,1\}//'
    exit 2
}
die() { echo "pki.sh: $*" >&2; exit 2; }

command -v openssl >/dev/null 2>&1 || { echo "pki.sh: openssl is not installed" >&2; exit 1; }

valid_name() { [[ "$1" =~ ^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$ ]]; }
valid_days() { [[ "$1" =~ ^[0-9]{1,5}$ ]] && [ "$1" -ge 1 ]; }
valid_time() { [[ "$1" =~ ^[0-9]{14}Z$ ]]; }

# openssl ca's configuration for DIR (database, serials, one policy that
# keeps the subject as requested).
write_ca_config() {
    local dir=$1
    cat >"$dir/openssl.cnf" <<EOF
[ca]
default_ca = clus_ca
[clus_ca]
dir = $dir
database = \$dir/index.txt
new_certs_dir = \$dir/issued
certificate = \$dir/ca.crt
private_key = \$dir/ca.key
serial = \$dir/serial
default_md = sha256
policy = clus_policy
unique_subject = no
copy_extensions = none
[clus_policy]
organizationName = optional
organizationalUnitName = optional
commonName = supplied
EOF
}

cmd_init() {
    local dir="" days=3650 name="clus cluster CA"
    while [ $# -gt 0 ]; do
        case "$1" in
        --days) valid_days "${2:-}" || die "bad --days '${2:-}'"; days=$2; shift 2 ;;
        --name) [ -n "${2:-}" ] || die "--name needs a value"; name=$2; shift 2 ;;
        -*) die "unknown option $1" ;;
        *) [ -z "$dir" ] || die "unexpected argument $1"; dir=$1; shift ;;
        esac
    done
    [ -n "$dir" ] || usage
    [ ! -e "$dir/ca.key" ] || die "$dir already holds a CA (ca.key); not overwriting it"
    mkdir -p "$dir/issued"
    dir=$(cd "$dir" && pwd)
    (umask 077 && openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 \
        -out "$dir/ca.key" 2>/dev/null)
    openssl req -x509 -new -sha256 -key "$dir/ca.key" -days "$days" \
        -subj "/O=clus/CN=$name" \
        -addext "basicConstraints=critical,CA:TRUE,pathlen:0" \
        -addext "keyUsage=critical,keyCertSign,cRLSign" \
        -addext "subjectKeyIdentifier=hash" -out "$dir/ca.crt"
    : >"$dir/index.txt"
    openssl rand -hex 16 >"$dir/serial"
    write_ca_config "$dir"
    echo "pki.sh: CA made: $dir/ca.crt (share it), $dir/ca.key (keep it private)"
}

# The extensions of a role's certificate, for openssl ca -extfile.
write_extensions() {
    local file=$1 role=$2 name=$3; shift 3
    local san="DNS:$name,DNS:localhost,IP:127.0.0.1,DNS:127.0.0.1" h
    for h in "$@"; do
        if [[ "$h" =~ ^[0-9.]+$ || "$h" == *:* ]]; then
            # mbed TLS 2.28 matches a host only against DNS names, so an
            # address goes in twice: as IP (the standard) and as DNS text.
            san="$san,IP:$h,DNS:$h"
        else
            san="$san,DNS:$h"
        fi
    done
    {
        echo "[ext]"
        echo "basicConstraints = critical,CA:FALSE"
        echo "keyUsage = critical,digitalSignature"
        echo "subjectKeyIdentifier = hash"
        echo "authorityKeyIdentifier = keyid"
        if [ "$role" = node ]; then
            echo "extendedKeyUsage = serverAuth,clientAuth"
            echo "subjectAltName = $san"
        else
            echo "extendedKeyUsage = clientAuth"
        fi
    } >"$file"
}

cmd_issue() {
    local dir="" name="" role="" days=365 not_before="" not_after=""
    local hosts=()
    while [ $# -gt 0 ]; do
        case "$1" in
        --role) role=${2:-}; shift 2 || die "--role needs a value" ;;
        --days) valid_days "${2:-}" || die "bad --days '${2:-}'"; days=$2; shift 2 ;;
        --host) [ -n "${2:-}" ] || die "--host needs a value"; hosts+=("$2"); shift 2 ;;
        --not-before) valid_time "${2:-}" || die "bad --not-before (YYYYMMDDHHMMSSZ)"; not_before=$2; shift 2 ;;
        --not-after) valid_time "${2:-}" || die "bad --not-after (YYYYMMDDHHMMSSZ)"; not_after=$2; shift 2 ;;
        -*) die "unknown option $1" ;;
        *)
            if [ -z "$dir" ]; then dir=$1
            elif [ -z "$name" ]; then name=$1
            else die "unexpected argument $1"; fi
            shift ;;
        esac
    done
    [ -n "$dir" ] && [ -n "$name" ] || usage
    case "$role" in node | admin | reader) ;; *) die "--role must be node, admin or reader" ;; esac
    valid_name "$name" || die "NAME must be 1-64 of A-Z a-z 0-9 . _ - (it is the CN and the file name)"
    [ -f "$dir/ca.key" ] && [ -f "$dir/openssl.cnf" ] || die "$dir holds no CA: pki.sh init $dir first"
    if [ -n "$not_before$not_after" ] && { [ -z "$not_before" ] || [ -z "$not_after" ]; }; then
        die "--not-before and --not-after go together"
    fi
    dir=$(cd "$dir" && pwd)
    tmp=$(mktemp -d)
    trap 'rm -rf "$tmp"' EXIT
    (umask 077 && openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 \
        -out "$tmp/key.pem" 2>/dev/null)
    openssl req -new -sha256 -key "$tmp/key.pem" -subj "/O=clus/OU=$role/CN=$name" -out "$tmp/req.pem"
    write_extensions "$tmp/ext.cnf" "$role" "$name" "${hosts[@]}"
    local validity=(-days "$days")
    [ -z "$not_before" ] || validity=(-startdate "$not_before" -enddate "$not_after")
    openssl ca -batch -notext -preserveDN -config "$dir/openssl.cnf" -in "$tmp/req.pem" \
        -out "$tmp/crt.pem" -extfile "$tmp/ext.cnf" -extensions ext "${validity[@]}" 2>"$tmp/ca.log" || {
        cat "$tmp/ca.log" >&2
        echo "pki.sh: openssl ca failed" >&2
        exit 1
    }
    install -m 0600 "$tmp/key.pem" "$dir/$name.key"
    install -m 0644 "$tmp/crt.pem" "$dir/$name.crt"
    echo "pki.sh: $role certificate made: $dir/$name.crt, key $dir/$name.key"
}

case "${1:-}" in
init) shift; cmd_init "$@" ;;
issue) shift; cmd_issue "$@" ;;
-h | --help | help | "") usage ;;
*) die "unknown verb '$1' (init or issue)" ;;
esac
