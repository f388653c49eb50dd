#!/usr/bin/env bash
# Broker crash/restart rig for KafkaWire's restart tests and the soak: one Tansu broker whose
# storage is S3 on a local moto_server, so that topics, records and committed offsets survive a
# restart of the broker process (memory storage would start empty).
#
#   scripts/restart_rig.sh start [--port P] [--moto-port M] [--advertised-port AP]
#   scripts/restart_rig.sh restart [--down SECONDS]   graceful: SIGTERM, wait for the exit,
#                                                     (stay down SECONDS), start on the SAME port
#   scripts/restart_rig.sh kill [--down SECONDS]      crash: SIGKILL, then start on the same port
#   scripts/restart_rig.sh stop                       stop tansu and moto_server
#   scripts/restart_rig.sh status
#
# `start` prints exactly one line on stdout, the bootstrap address `127.0.0.1:P` (or
# `127.0.0.1:AP` with --advertised-port: a proxy in front of the broker owns that port), so
#   export KWIRE_RESTART_RIG=$(scripts/restart_rig.sh start)
# works; everything else goes to stderr. `restart`/`kill` print the same line once the broker
# answers ApiVersions again. moto_server keeps running across restarts (it holds the data).
#
# Facts this relies on (../shared/TEST-RIG.md): data and committed offsets survive a SIGTERM;
# a SIGKILL can lose writes the broker already acknowledged (Tansu acknowledges before its S3
# write is durable), so exactness tests restart with SIGTERM and crash tests assert less.
#
# Environment:
#   KWIRE_RESTART_DIR   state dir (default: <repo>/.broker/restart, git-ignored): moto.pid,
#                       moto.port, moto.log, bucket, port, advertised, python, and tansu/
#                       (scripts/broker.sh's)
#   PYTHON              python interpreter (default: python3; restart/kill default to the one
#                       `start` used, recorded in the state dir)
# Needs PyPI moto[server] and boto3 (pinned in scripts/setup.sh; installed here on demand) and
# Tansu (scripts/broker.sh). Loopback only; test credentials only.
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$SCRIPT_DIR/.." && pwd)"
STATE_DIR="${KWIRE_RESTART_DIR:-$REPO_ROOT/.broker/restart}"
# restart/kill use the interpreter `start` recorded: a test runner may run them with a narrower
# PATH, where python3 is another interpreter without the peers (broker.sh honours PYTHON too).
if [[ -z "${PYTHON:-}" && -s "$STATE_DIR/python" ]]; then PYTHON="$(cat "$STATE_DIR/python")"; fi
export PYTHON="${PYTHON:-python3}"
HOST=127.0.0.1
TANSU_DIR="$STATE_DIR/tansu"
MOTO_PID="$STATE_DIR/moto.pid"
MOTO_PORT="$STATE_DIR/moto.port"
MOTO_LOG="$STATE_DIR/moto.log"
BUCKET_FILE="$STATE_DIR/bucket"
ADV_FILE="$STATE_DIR/advertised"

log() { echo "restart_rig.sh: $*" >&2; }
die() { log "error: $*"; exit 1; }

usage() {
    sed -n '2,28p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2
    exit 2
}

# is_our_pid PID WORD: PID is alive and its command line mentions WORD (guards PID reuse).
is_our_pid() {
    local pid="$1" word="$2" cmd=""
    [[ "$pid" =~ ^[0-9]+$ ]] || return 1
    kill -0 "$pid" 2>/dev/null || return 1
    cmd="$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null || true)"
    [[ "$cmd" == *"$word"* ]]
}

free_port() {
    "$PYTHON" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

ensure_moto() {
    if ! "$PYTHON" -c 'import moto.server, boto3, flask' 2>/dev/null; then
        log "installing moto[server] and boto3 with pip"
        "$PYTHON" -m pip install --quiet --disable-pip-version-check 'moto[server]==5.2.1' 'boto3==1.43.11' >&2 \
            || die "pip install moto[server] boto3 failed"
    fi
}

# The AWS environment Tansu's S3 engine reads (TEST-RIG.md); test credentials, loopback only.
export_aws() {
    export AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_DEFAULT_REGION=us-east-1
    export AWS_ENDPOINT="http://$HOST:$1" AWS_ALLOW_HTTP=true
}

start_moto() { # start_moto PORT
    local port="$1" pid i
    log "starting moto_server on $HOST:$port, log $MOTO_LOG"
    # moto_server is the console script of moto.server; run the module so PATH does not matter.
    # Only stdin/stdout/stderr for the daemon (a `flock LOCK cmd` caller's lock descriptor
    # held by moto_server would keep the lock taken; broker.sh does the same for tansu).
    ( for fd in /proc/$BASHPID/fd/*; do fd="${fd##*/}"; if [[ "$fd" =~ ^[0-9]+$ ]] && ((fd > 2)); then eval "exec $fd>&-" 2>/dev/null || true; fi; done
      exec nohup "$PYTHON" -m moto.server -H "$HOST" -p "$port" ) </dev/null >>"$MOTO_LOG" 2>&1 &
    pid=$!
    echo "$pid" >"$MOTO_PID"
    echo "$port" >"$MOTO_PORT"
    for ((i = 0; i < 150; i++)); do
        kill -0 "$pid" 2>/dev/null || { tail -n 10 "$MOTO_LOG" >&2; die "moto_server exited during startup"; }
        if "$PYTHON" -c 'import sys, urllib.request; urllib.request.urlopen("http://127.0.0.1:%s/" % sys.argv[1], timeout=1)' "$port" 2>/dev/null; then
            return 0
        fi
        sleep 0.1
    done
    die "moto_server did not answer on $HOST:$port within 15 s"
}

create_bucket() { # create_bucket MOTO_PORT BUCKET
    "$PYTHON" - "$1" "$2" <<'PY' || die "could not create bucket $2"
import sys, boto3
s3 = boto3.client("s3", endpoint_url="http://127.0.0.1:%s" % sys.argv[1], region_name="us-east-1",
                  aws_access_key_id="test", aws_secret_access_key="test")
names = [b["Name"] for b in s3.list_buckets().get("Buckets", [])]
if sys.argv[2] not in names:
    s3.create_bucket(Bucket=sys.argv[2])
PY
}

stop_moto() {
    local pid i
    pid="$(cat "$MOTO_PID" 2>/dev/null || true)"
    if is_our_pid "$pid" moto; then
        log "stopping moto_server pid $pid"
        kill -TERM "$pid" 2>/dev/null || true
        for ((i = 0; i < 50; i++)); do is_our_pid "$pid" moto || break; sleep 0.1; done
        is_our_pid "$pid" moto && kill -KILL "$pid" 2>/dev/null || true
    fi
    rm -f "$MOTO_PID" "$MOTO_PORT"
}

tansu_pid() { cat "$TANSU_DIR/broker.pid" 2>/dev/null || true; }
tansu_port() { cat "$TANSU_DIR/broker.port" 2>/dev/null || true; }

# Tansu on the given port, storage in the rig's bucket; prints 127.0.0.1:PORT.
start_tansu() { # start_tansu PORT ADVERTISED_PORT
    local port="$1" adv="$2" i
    export_aws "$(cat "$MOTO_PORT")"
    # A listener that is still closing can hold the port for a moment; broker.sh refuses a busy
    # port, so wait for it rather than fail the restart (SO_REUSEADDR: TIME_WAIT does not count).
    for ((i = 0; i < 100; i++)); do
        "$PYTHON" -c 'import socket, sys; s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(("127.0.0.1", int(sys.argv[1])))' "$port" 2>/dev/null && break
        sleep 0.1
    done
    KWIRE_BROKER_DIR="$TANSU_DIR" KWIRE_BROKER_STORAGE="s3://$(cat "$BUCKET_FILE")/" KWIRE_BROKER_TIMEOUT=30 \
        "$SCRIPT_DIR/broker.sh" start --port "$port" --advertised-port "$adv" >/dev/null
    echo "$HOST:$adv"
}

# stop_tansu SIGNAL: TERM waits for the graceful exit (broker.sh: SIGKILL after 5 s); KILL crashes it.
stop_tansu() {
    local sig="$1" pid i
    pid="$(tansu_pid)"
    if [[ "$sig" == TERM ]]; then
        KWIRE_BROKER_DIR="$TANSU_DIR" "$SCRIPT_DIR/broker.sh" stop
        return 0
    fi
    if is_our_pid "$pid" tansu; then
        log "SIGKILL tansu pid $pid"
        kill -KILL "$pid" 2>/dev/null || true
        for ((i = 0; i < 50; i++)); do is_our_pid "$pid" tansu || break; sleep 0.1; done
        is_our_pid "$pid" tansu && die "tansu pid $pid survived SIGKILL"
    fi
    rm -f "$TANSU_DIR/broker.pid"
}

do_start() {
    local port="" moto_port="" adv_port=""
    while [[ $# -gt 0 ]]; do
        case "$1" in
            --port) port="${2:-}"; shift 2 || usage ;;
            --moto-port) moto_port="${2:-}"; shift 2 || usage ;;
            --advertised-port) adv_port="${2:-}"; shift 2 || usage ;;
            -h|--help) usage ;;
            *) log "unknown option: $1"; usage ;;
        esac
    done
    for v in "$port" "$moto_port" "$adv_port"; do [[ -z "$v" || "$v" =~ ^[0-9]+$ ]] || die "bad port: $v"; done
    mkdir -p "$TANSU_DIR"
    ensure_moto
    "$PYTHON" -c 'import sys; print(sys.executable)' >"$STATE_DIR/python"
    if is_our_pid "$(cat "$MOTO_PID" 2>/dev/null || true)" moto && is_our_pid "$(tansu_pid)" tansu \
        && [[ ( -z "$port" || "$port" == "$(tansu_port)" ) && ( -z "$adv_port" || "$adv_port" == "$(cat "$ADV_FILE" 2>/dev/null)" ) ]]; then
        log "reusing the running rig"
        [[ -s "$STATE_DIR/port" ]] || tansu_port >"$STATE_DIR/port"
        echo "$HOST:$(cat "$ADV_FILE")"
        return 0
    fi
    do_stop
    [[ -n "$moto_port" ]] || moto_port="$(free_port)"
    [[ -n "$port" ]] || port="$(free_port)"
    [[ -n "$adv_port" ]] || adv_port="$port"
    echo "kwire-$(date +%s)-$$" >"$BUCKET_FILE"
    echo "$adv_port" >"$ADV_FILE"
    echo "$port" >"$STATE_DIR/port"   # broker.sh forgets its port on stop; a restart must not
    start_moto "$moto_port"
    create_bucket "$moto_port" "$(cat "$BUCKET_FILE")"
    start_tansu "$port" "$adv_port"
}

do_bounce() { # do_bounce TERM|KILL [--down SECONDS]
    local sig="$1" down=0 port
    shift
    while [[ $# -gt 0 ]]; do
        case "$1" in
            --down) down="${2:-}"; shift 2 || usage ;;
            *) log "unknown option: $1"; usage ;;
        esac
    done
    [[ "$down" =~ ^[0-9]+(\.[0-9]+)?$ ]] || die "bad --down: $down"
    port="$(cat "$STATE_DIR/port" 2>/dev/null || true)"
    [[ -n "$port" && -f "$ADV_FILE" ]] || die "no rig recorded in $STATE_DIR (restart_rig.sh start first)"
    is_our_pid "$(cat "$MOTO_PID" 2>/dev/null || true)" moto || die "moto_server is not running: the data is gone (restart_rig.sh start)"
    stop_tansu "$sig"
    sleep "$down"
    start_tansu "$port" "$(cat "$ADV_FILE")"
}

do_stop() {
    if [[ -n "$(tansu_pid)" ]]; then KWIRE_BROKER_DIR="$TANSU_DIR" "$SCRIPT_DIR/broker.sh" stop || true; fi
    stop_moto
}

do_status() {
    local ok=0
    if is_our_pid "$(cat "$MOTO_PID" 2>/dev/null || true)" moto; then echo "moto_server running on $HOST:$(cat "$MOTO_PORT")"
    else echo "moto_server not running"; ok=1; fi
    KWIRE_BROKER_DIR="$TANSU_DIR" "$SCRIPT_DIR/broker.sh" status || ok=1
    return $ok
}

cmd="${1:-}"
[[ $# -gt 0 ]] && shift
case "$cmd" in
    start) do_start "$@" ;;
    restart) do_bounce TERM "$@" ;;
    kill) do_bounce KILL "$@" ;;
    stop) do_stop ;;
    status) do_status ;;
    *) usage ;;
esac
