#!/usr/bin/env bash
# TLS / SASL test rig for KafkaWire: Tansu brokers behind TLS (socat) and SASL
# (scripts/sasl_gateway.py) front ends. Loopback only; test-only credentials.
#
#   scripts/secure_rig.sh start     start everything (reuses a healthy running rig);
#                                   prints the env file's path as the only stdout line
#   scripts/secure_rig.sh stop      stop every process the rig started (by recorded PID)
#   scripts/secure_rig.sh status    show each component; exit 1 when something is down
#   scripts/secure_rig.sh clean     stop, then delete the state dir (certificates included)
#
#   set -a; . "$(scripts/secure_rig.sh start)"; set +a     # exports KAFKA_SASL_BOOTSTRAP, ...
#
# Tansu's own TLS and SASL do not work, so every secured listener is a front end, and
# because Tansu advertises one listener in Metadata each front end gets its own Tansu
# (memory storage, own state dir) advertising that front end's address:
#
#   front (env var)               client -> ...                                    broker advertises
#   KAFKA_SASL_BOOTSTRAP          SASL gateway 127.0.0.1:P1 -> tansu               127.0.0.1:P1
#   KAFKA_SASL_REAUTH_BOOTSTRAP   SASL gateway, session_lifetime_ms=L -> tansu     127.0.0.1:P5
#   KAFKA_SSL_BOOTSTRAP           socat TLS localhost:P2 -> tansu                  localhost:P2
#   KAFKA_SASL_SSL_BOOTSTRAP      socat TLS localhost:P3 -> SASL gateway -> tansu  localhost:P3
#   KAFKA_MTLS_BOOTSTRAP          socat TLS + required client cert :P4 -> tansu   localhost:P4
#   KAFKA_SASL_LEGACY_BOOTSTRAP   SASL gateway as a Kafka 0.10/0.11 broker -> tansu 127.0.0.1:P6
#                                 (no SaslAuthenticate: SaslHandshake v0 + bare token frames;
#                                 PLAIN and SCRAM only, as those brokers had no OAUTHBEARER)
#   KAFKA_SSL_WRONG_NAME_BOOTSTRAP socat TLS localhost:P7 presenting a certificate (from the
#                                 trusted CA) for another host name -> the ssl tansu
#
# SASL mechanisms: PLAIN, SCRAM-SHA-256, SCRAM-SHA-512 (user alice / alice-secret) and
# OAUTHBEARER (token tok-123, principal alice). The server certificate (SAN DNS:localhost,
# IP:127.0.0.1) and the client certificate (CN=alice) are signed by a private test CA;
# a second, untrusted CA and a client certificate signed by it serve negative tests, and so
# does a server certificate from the trusted CA naming only DNS:wrong-host.invalid.
#
# Environment:
#   KWIRE_SECURE_DIR             state dir (default: <repo>/.broker/secure, git-ignored)
#   KWIRE_SECURE_REAUTH_MS       session lifetime of the re-auth gateway (default: 5000)
#   PYTHON                       python interpreter (default: python3)
# Needs socat (installed with apt-get when missing and running as root), openssl, python3;
# the gateway installs PyPI scramp on demand; brokers come from scripts/broker.sh.
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$SCRIPT_DIR/.." && pwd)"
STATE_DIR="${KWIRE_SECURE_DIR:-$REPO_ROOT/.broker/secure}"
REAUTH_MS="${KWIRE_SECURE_REAUTH_MS:-5000}"
PYTHON="${PYTHON:-python3}"
HOST=127.0.0.1
[[ "$REAUTH_MS" =~ ^[1-9][0-9]*$ ]] || { echo "secure_rig.sh: KWIRE_SECURE_REAUTH_MS must be a positive integer" >&2; exit 2; }
TLS_DIR="$STATE_DIR/tls"
ENV_FILE="$STATE_DIR/env"

SASL_USER=alice
SASL_PASSWORD=alice-secret
OAUTH_TOKEN=tok-123
P12_PASSWORD=kafkawire

# Brokers (one per front end) and the state sub-directory of each.
BROKERS=(sasl reauth ssl sasl_ssl mtls legacy)
GATEWAYS=(sasl reauth sasl_ssl legacy)
TLS_FRONTS=(ssl sasl_ssl mtls ssl_wrong_name)
LEGACY_MECHANISMS=PLAIN,SCRAM-SHA-256,SCRAM-SHA-512

log() { echo "secure_rig.sh: $*" >&2; }
die() { log "error: $*"; exit 1; }

usage() {
    sed -n '2,40p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2
    exit 2
}

# ------------------------------------------------------------------------------ processes
# is_our_pid PID WORD: PID is alive and its command line mentions WORD (guards PID reuse).
is_our_pid() {
    local pid="$1" word="$2" cmd=""
    [[ "$pid" =~ ^[0-9]+$ ]] || return 1
    kill -0 "$pid" 2>/dev/null || return 1
    if [[ -r "/proc/$pid/cmdline" ]]; then
        cmd="$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null || true)"
    else
        cmd="$(ps -p "$pid" -o command= 2>/dev/null || true)"
    fi
    [[ "$cmd" == *"$word"* ]]
}

# stop_pidfile FILE WORD [group]: SIGTERM (then SIGKILL) the recorded process; with
# "group" the whole process group it leads (socat forks one child per connection).
stop_pidfile() {
    local file="$1" word="$2" group="${3:-}" pid i
    [[ -f "$file" ]] || return 0
    pid="$(cat "$file" 2>/dev/null || true)"
    if is_our_pid "$pid" "$word"; then
        log "stopping $word pid $pid"
        if [[ -n "$group" ]]; then kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
        else kill -TERM "$pid" 2>/dev/null || true; fi
        for ((i = 0; i < 50; i++)); do
            is_our_pid "$pid" "$word" || break
            sleep 0.1
        done
        if is_our_pid "$pid" "$word"; then
            log "pid $pid ignored SIGTERM; sending SIGKILL"
            if [[ -n "$group" ]]; then kill -KILL -- "-$pid" 2>/dev/null || true; fi
            kill -KILL "$pid" 2>/dev/null || true
        fi
    fi
    rm -f "$file"
}

free_ports() { # free_ports N: N distinct free loopback ports, one a line
    "$PYTHON" - "$1" <<'PY'
import socket, sys
socks = []
for _ in range(int(sys.argv[1])):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind(("127.0.0.1", 0))
    socks.append(s)
for s in socks:
    print(s.getsockname()[1])
for s in socks:
    s.close()
PY
}

wait_tcp() { # wait_tcp PORT SECONDS PID: until 127.0.0.1:PORT accepts, while PID lives
    "$PYTHON" - "$@" <<'PY'
import os, socket, sys, time
port, limit, pid = int(sys.argv[1]), float(sys.argv[2]), int(sys.argv[3])
deadline = time.monotonic() + limit
while time.monotonic() < deadline:
    try:
        os.kill(pid, 0)
    except OSError:
        sys.exit(1)
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
        sys.exit(0)
    except OSError:
        time.sleep(0.05)
sys.exit(1)
PY
}

# ------------------------------------------------------------------------------ prerequisites
ensure_tools() {
    if ! command -v socat >/dev/null 2>&1; then
        if [[ "$(id -u)" == 0 ]] && command -v apt-get >/dev/null 2>&1; then
            log "socat missing; installing it with apt-get"
            apt-get install -y socat >&2 || { apt-get update >&2 && apt-get install -y socat >&2; } \
                || die "apt-get install socat failed"
        else
            die "socat is required (apt-get install socat / brew install socat)"
        fi
    fi
    command -v openssl >/dev/null 2>&1 || die "openssl is required"
    command -v "$PYTHON" >/dev/null 2>&1 || die "$PYTHON is required"
}

# ------------------------------------------------------------------------------ certificates
cert_ok() { # cert_ok FILE: exists and valid for at least one more day
    [[ -s "$1" ]] && openssl x509 -in "$1" -noout -checkend 86400 >/dev/null 2>&1
}

make_ca() { # make_ca NAME CN
    openssl req -x509 -newkey rsa:2048 -nodes -sha256 -days 3650 \
        -keyout "$TLS_DIR/$1.key" -out "$TLS_DIR/$1.pem" -subj "/O=KafkaWire test rig/CN=$2" \
        -addext "basicConstraints=critical,CA:TRUE" \
        -addext "keyUsage=critical,keyCertSign,cRLSign" >/dev/null 2>&1 \
        || die "openssl could not create CA $1"
}

make_leaf() { # make_leaf NAME CA CN EKU [SAN]
    local name="$1" ca="$2" cn="$3" eku="$4" san="${5:-DNS:localhost,IP:127.0.0.1}" ext="$TLS_DIR/$1.ext"
    printf '%s\n' "basicConstraints=critical,CA:FALSE" \
        "keyUsage=critical,digitalSignature,keyEncipherment" \
        "extendedKeyUsage=$eku" \
        "subjectAltName=$san" >"$ext"
    openssl req -newkey rsa:2048 -nodes -sha256 -keyout "$TLS_DIR/$name.key" \
        -out "$TLS_DIR/$name.csr" -subj "/O=KafkaWire test rig/CN=$cn" >/dev/null 2>&1 \
        || die "openssl could not create the $name key"
    # 365 days: Apple platforms reject TLS server certificates valid for more than 825 days.
    openssl x509 -req -sha256 -days 365 -in "$TLS_DIR/$name.csr" -CA "$TLS_DIR/$ca.pem" \
        -CAkey "$TLS_DIR/$ca.key" -CAcreateserial -extfile "$ext" \
        -out "$TLS_DIR/$name.pem" >/dev/null 2>&1 || die "openssl could not sign $name"
    rm -f "$TLS_DIR/$name.csr" "$ext"
}

ensure_certs() {
    mkdir -p "$TLS_DIR"
    chmod 700 "$TLS_DIR"
    if cert_ok "$TLS_DIR/ca.pem" && cert_ok "$TLS_DIR/server.pem" && cert_ok "$TLS_DIR/client.pem" \
        && cert_ok "$TLS_DIR/untrusted-ca.pem" && cert_ok "$TLS_DIR/untrusted-client.pem" \
        && cert_ok "$TLS_DIR/wrong-name.pem"; then
        return 0
    fi
    log "creating the test CA and certificates in $TLS_DIR"
    make_ca ca "KafkaWire Test CA"
    make_leaf server ca localhost serverAuth
    make_leaf client ca "$SASL_USER" clientAuth
    make_ca untrusted-ca "KafkaWire Untrusted Test CA"
    make_leaf untrusted-client untrusted-ca "$SASL_USER" clientAuth
    make_leaf wrong-name ca wrong-host.invalid serverAuth DNS:wrong-host.invalid
    # PKCS#12 of the client identity (3DES/SHA1: importable by Apple's Security framework).
    openssl pkcs12 -export -in "$TLS_DIR/client.pem" -inkey "$TLS_DIR/client.key" \
        -certfile "$TLS_DIR/ca.pem" -name "$SASL_USER" -out "$TLS_DIR/client.p12" \
        -passout "pass:$P12_PASSWORD" -keypbe PBE-SHA1-3DES -certpbe PBE-SHA1-3DES -macalg sha1 \
        >/dev/null 2>&1 || { log "warning: could not write client.p12"; rm -f "$TLS_DIR/client.p12"; }
    rm -f "$TLS_DIR"/*.srl
}

# ------------------------------------------------------------------------------ components
start_broker() { # start_broker NAME ADV_HOST ADV_PORT LISTEN_PORT -> prints 127.0.0.1:B
    KWIRE_BROKER_DIR="$STATE_DIR/$1" "$SCRIPT_DIR/broker.sh" start \
        --port "$4" --advertised-host "$2" --advertised-port "$3"
}

start_gateway() { # start_gateway NAME LISTEN_PORT UPSTREAM [extra gateway options]
    local name="$1" port="$2" upstream="$3" dir="$STATE_DIR/$1" pid
    shift 3
    mkdir -p "$dir"
    rm -f "$dir/gateway.addr"
    nohup "$PYTHON" "$SCRIPT_DIR/sasl_gateway.py" --listen "$HOST:$port" --upstream "$upstream" \
        --user "$SASL_USER:$SASL_PASSWORD" --oauth-token "$OAUTH_TOKEN=$SASL_USER" "$@" \
        </dev/null >"$dir/gateway.addr" 2>>"$dir/gateway.log" &
    pid=$!
    echo "$pid" >"$dir/gateway.pid"
    local i
    for ((i = 0; i < 300; i++)); do
        [[ -s "$dir/gateway.addr" ]] && break
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.05
    done
    if [[ "$(head -n1 "$dir/gateway.addr" 2>/dev/null)" != "$HOST:$port" ]]; then
        tail -n 20 "$dir/gateway.log" >&2 || true
        die "SASL gateway $name did not start on $HOST:$port"
    fi
    # ApiVersions is relayed before authentication: proves gateway -> broker works.
    "$PYTHON" "$SCRIPT_DIR/wait_for_kafka.py" "$HOST:$port" 10 --quiet \
        || die "SASL gateway $name on $HOST:$port does not relay ApiVersions"
    log "SASL gateway $name pid $pid on $HOST:$port -> $upstream (log $dir/gateway.log)"
}

start_tls() { # start_tls NAME PORT TARGET_PORT MTLS(0|1) [CERT_NAME]
    local name="$1" port="$2" target="$3" mtls="$4" cert="${5:-server}" dir="$STATE_DIR/$1" pid opts
    mkdir -p "$dir"
    opts="OPENSSL-LISTEN:$port,bind=$HOST,reuseaddr,fork,cert=$TLS_DIR/$cert.pem,key=$TLS_DIR/$cert.key"
    if [[ "$mtls" == 1 ]]; then
        opts="$opts,cafile=$TLS_DIR/ca.pem,verify=1"
    else
        opts="$opts,verify=0"
    fi
    # setsid: socat leads its own process group, so stop can end its per-connection children
    # too (without setsid, e.g. macOS, they exit when their connection closes).
    if command -v setsid >/dev/null 2>&1; then
        setsid socat -d "$opts" "TCP:$HOST:$target,nodelay" </dev/null >>"$dir/socat.log" 2>&1 &
        pid=$!
        echo group >"$dir/socat.mode"
    else
        socat -d "$opts" "TCP:$HOST:$target,nodelay" </dev/null >>"$dir/socat.log" 2>&1 &
        pid=$!
        rm -f "$dir/socat.mode"
    fi
    echo "$pid" >"$dir/socat.pid"
    wait_tcp "$port" 10 "$pid" || { tail -n 20 "$dir/socat.log" >&2 || true; die "socat $name did not listen on $port"; }
    log "TLS front $name (socat pid $pid$([[ "$mtls" == 1 ]] && echo ', client certificate required')) on localhost:$port -> $HOST:$target"
}

# ------------------------------------------------------------------------------ commands
all_running() {
    [[ -s "$ENV_FILE" ]] || return 1
    local b
    for b in "${BROKERS[@]}"; do
        is_our_pid "$(cat "$STATE_DIR/$b/broker.pid" 2>/dev/null || true)" tansu || return 1
    done
    for b in "${GATEWAYS[@]}"; do
        is_our_pid "$(cat "$STATE_DIR/$b/gateway.pid" 2>/dev/null || true)" sasl_gateway || return 1
    done
    for b in "${TLS_FRONTS[@]}"; do
        is_our_pid "$(cat "$STATE_DIR/$b/socat.pid" 2>/dev/null || true)" socat || return 1
    done
    # A rig started by an older version of this script lacks the newer fronts.
    grep -q '^KAFKA_SSL_WRONG_NAME_BOOTSTRAP=' "$ENV_FILE" || return 1
    # The SASL gateway relays ApiVersions before authentication.
    local sasl
    sasl="$(sed -n 's/^KAFKA_SASL_BOOTSTRAP=//p' "$ENV_FILE")"
    "$PYTHON" "$SCRIPT_DIR/wait_for_kafka.py" "$sasl" 3 --quiet
}

do_stop() {
    local b
    for b in "${TLS_FRONTS[@]}"; do
        stop_pidfile "$STATE_DIR/$b/socat.pid" socat "$(cat "$STATE_DIR/$b/socat.mode" 2>/dev/null || true)"
    done
    for b in "${GATEWAYS[@]}"; do
        stop_pidfile "$STATE_DIR/$b/gateway.pid" sasl_gateway
    done
    for b in "${BROKERS[@]}"; do
        if [[ -d "$STATE_DIR/$b" ]]; then
            KWIRE_BROKER_DIR="$STATE_DIR/$b" "$SCRIPT_DIR/broker.sh" stop || true
        fi
    done
    rm -f "$ENV_FILE"
}

do_status() {
    local ok=0 b pid
    for b in "${BROKERS[@]}"; do
        printf '%-9s broker  ' "$b"
        KWIRE_BROKER_DIR="$STATE_DIR/$b" "$SCRIPT_DIR/broker.sh" status || ok=1
    done
    for b in "${GATEWAYS[@]}"; do
        pid="$(cat "$STATE_DIR/$b/gateway.pid" 2>/dev/null || true)"
        if is_our_pid "$pid" sasl_gateway; then
            echo "$(printf '%-9s' "$b") gateway running pid=$pid listen=$(head -n1 "$STATE_DIR/$b/gateway.addr")"
        else echo "$(printf '%-9s' "$b") gateway not running"; ok=1; fi
    done
    for b in "${TLS_FRONTS[@]}"; do
        pid="$(cat "$STATE_DIR/$b/socat.pid" 2>/dev/null || true)"
        if is_our_pid "$pid" socat; then echo "$(printf '%-9s' "$b") socat   running pid=$pid"
        else echo "$(printf '%-9s' "$b") socat   not running"; ok=1; fi
    done
    [[ -s "$ENV_FILE" ]] && echo "env file: $ENV_FILE" || { echo "env file: missing"; ok=1; }
    return $ok
}

do_start() {
    mkdir -p "$STATE_DIR"
    if all_running; then
        log "reusing the running rig (env $ENV_FILE)"
        echo "$ENV_FILE"
        return 0
    fi
    do_stop >/dev/null 2>&1 || true
    ensure_tools
    ensure_certs
    RIG_READY=0
    trap 'if [[ $RIG_READY != 1 ]]; then log "start failed; stopping what was started"; do_stop >/dev/null 2>&1 || true; fi' EXIT

    local ports p_sasl p_reauth p_ssl p_sasl_ssl p_mtls g_sasl_ssl p_legacy p_wrong_name
    local b_sasl b_reauth b_ssl b_sasl_ssl b_mtls b_legacy
    # All ports at once (distinct), broker ports included so nothing picks a reserved one.
    ports=($(free_ports 14))
    [[ ${#ports[@]} -eq 14 ]] || die "could not reserve ports"
    p_sasl=${ports[0]} p_reauth=${ports[1]} p_ssl=${ports[2]} p_sasl_ssl=${ports[3]}
    p_mtls=${ports[4]} g_sasl_ssl=${ports[5]} p_legacy=${ports[11]} p_wrong_name=${ports[13]}

    b_sasl="$(start_broker sasl "$HOST" "$p_sasl" "${ports[6]}")"
    b_reauth="$(start_broker reauth "$HOST" "$p_reauth" "${ports[7]}")"
    b_ssl="$(start_broker ssl localhost "$p_ssl" "${ports[8]}")"
    b_sasl_ssl="$(start_broker sasl_ssl localhost "$p_sasl_ssl" "${ports[9]}")"
    b_mtls="$(start_broker mtls localhost "$p_mtls" "${ports[10]}")"
    b_legacy="$(start_broker legacy "$HOST" "$p_legacy" "${ports[12]}")"

    start_gateway sasl "$p_sasl" "$b_sasl"
    start_gateway reauth "$p_reauth" "$b_reauth" --session-lifetime-ms "$REAUTH_MS"
    start_gateway sasl_ssl "$g_sasl_ssl" "$b_sasl_ssl"
    start_gateway legacy "$p_legacy" "$b_legacy" --legacy-broker --mechanisms "$LEGACY_MECHANISMS"

    start_tls ssl "$p_ssl" "${b_ssl##*:}" 0
    start_tls sasl_ssl "$p_sasl_ssl" "$g_sasl_ssl" 0
    start_tls mtls "$p_mtls" "${b_mtls##*:}" 1
    start_tls ssl_wrong_name "$p_wrong_name" "${b_ssl##*:}" 0 wrong-name

    local p12=""
    [[ -s "$TLS_DIR/client.p12" ]] && p12="$TLS_DIR/client.p12"
    cat >"$ENV_FILE.tmp" <<EOF
# KafkaWire TLS/SASL test rig ($(date -u +%Y-%m-%dT%H:%M:%SZ)); scripts/secure_rig.sh. Test-only secrets.
KAFKA_SASL_BOOTSTRAP=$HOST:$p_sasl
KAFKA_SASL_REAUTH_BOOTSTRAP=$HOST:$p_reauth
KAFKA_SASL_SESSION_LIFETIME_MS=$REAUTH_MS
KAFKA_SSL_BOOTSTRAP=localhost:$p_ssl
KAFKA_SASL_SSL_BOOTSTRAP=localhost:$p_sasl_ssl
KAFKA_MTLS_BOOTSTRAP=localhost:$p_mtls
KAFKA_SASL_LEGACY_BOOTSTRAP=$HOST:$p_legacy
KAFKA_SASL_LEGACY_MECHANISMS=$LEGACY_MECHANISMS
KAFKA_SSL_WRONG_NAME_BOOTSTRAP=localhost:$p_wrong_name
KAFKA_SASL_MECHANISMS=PLAIN,SCRAM-SHA-256,SCRAM-SHA-512,OAUTHBEARER
KAFKA_SASL_USER=$SASL_USER
KAFKA_SASL_PASSWORD=$SASL_PASSWORD
KAFKA_OAUTH_TOKEN=$OAUTH_TOKEN
KAFKA_TLS_SERVER_NAME=localhost
KAFKA_TLS_CA=$TLS_DIR/ca.pem
KAFKA_TLS_CLIENT_CERT=$TLS_DIR/client.pem
KAFKA_TLS_CLIENT_KEY=$TLS_DIR/client.key
KAFKA_TLS_CLIENT_P12=$p12
KAFKA_TLS_CLIENT_P12_PASSWORD=$P12_PASSWORD
KAFKA_TLS_UNTRUSTED_CA=$TLS_DIR/untrusted-ca.pem
KAFKA_TLS_UNTRUSTED_CLIENT_CERT=$TLS_DIR/untrusted-client.pem
KAFKA_TLS_UNTRUSTED_CLIENT_KEY=$TLS_DIR/untrusted-client.key
EOF
    mv "$ENV_FILE.tmp" "$ENV_FILE"
    RIG_READY=1
    log "rig ready; env file $ENV_FILE"
    echo "$ENV_FILE"
}

cmd="${1:-}"
[[ $# -gt 0 ]] && shift
case "$cmd" in
    start) do_start ;;
    stop) do_stop ;;
    status) do_status ;;
    clean) do_stop; rm -rf "$STATE_DIR"; log "removed $STATE_DIR" ;;
    *) usage ;;
esac
