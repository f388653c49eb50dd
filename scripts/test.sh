#!/usr/bin/env bash
# Runs every test: builds everything (failing on any compiler warning), starts a local Tansu
# broker unless KAFKA_BOOTSTRAP already names one, runs `swift test` with the integration tests
# enabled, and stops the broker it started.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

log="$(mktemp)"
trap 'rm -f "$log"' EXIT
echo "== swift build (all targets, tests included)" >&2
if ! swift build --build-tests 2>&1 | tee "$log" >&2; then
    echo "build failed" >&2
    exit 1
fi
if grep -E '(^|/)[^ ]+\.swift:[0-9]+:[0-9]+: warning:' "$log" >&2; then
    echo "build has warnings (Swift 6 mode must build clean)" >&2
    exit 1
fi

started=""
if [ -z "${KAFKA_BOOTSTRAP:-}" ]; then
    echo "== starting a local Tansu broker" >&2
    KAFKA_BOOTSTRAP="$(scripts/broker.sh start)"
    export KAFKA_BOOTSTRAP
    started=1
    trap 'scripts/broker.sh stop || true; rm -f "$log"' EXIT
fi
if [ -z "${KWIRE_SECURE_ENV:-}" ]; then
    echo "== starting the TLS/SASL rig (scripts/secure_rig.sh)" >&2
    if KWIRE_SECURE_ENV="$(scripts/secure_rig.sh start)"; then
        export KWIRE_SECURE_ENV
        trap 'scripts/secure_rig.sh stop >/dev/null 2>&1 || true; if [ -n "$started" ]; then scripts/broker.sh stop || true; fi; rm -f "$log"' EXIT
    else
        echo "warning: the TLS/SASL rig did not start; its tests will be skipped" >&2
    fi
fi
echo "== swift test against KAFKA_BOOTSTRAP=$KAFKA_BOOTSTRAP" >&2
# One test at a time: the integration tests share one broker and measure behaviour in time
# (sessions, heartbeats, rebalances) on a 2-core machine, where parallel suites starve each
# other's timers. The whole run takes about 8 minutes.
swift test --skip-build --no-parallel "$@"
