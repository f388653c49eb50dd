#!/usr/bin/env bash
# Runs every test: installs what the tests need (scripts/setup.sh; fails when something cannot
# be had), builds everything (failing on any compiler warning), checks the documentation
# (scripts/docs.sh: undocumented public symbols, broken doc links, article code), starts a local Tansu broker
# unless KAFKA_BOOTSTRAP already names one, the TLS/SASL rig unless KWIRE_SECURE_ENV names
# one and the broker restart rig (scripts/restart_rig.sh) unless KWIRE_RESTART_RIG names one,
# runs `swift test` with the integration tests required (KWIRE_REQUIRE_INTEGRATION=1: a
# missing prerequisite fails IntegrationPrerequisiteTests instead of skipping suites), then a
# 2-minute soak (scripts/soak.sh 2: faults and restarts, exact audit), and stops what it started.
#
# KWIRE_OFFLINE=1: the explicit opt-out. Installs nothing, starts no broker or rig, and runs the
# suites that need none; it prints what it did not test.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

offline=""
if [ "${KWIRE_OFFLINE:-}" = 1 ]; then offline=1; fi

if [ -z "$offline" ]; then
    echo "== installing test prerequisites (scripts/setup.sh)" >&2
    scripts/setup.sh || { echo "test prerequisites missing (KWIRE_OFFLINE=1 runs only the offline tests)" >&2; exit 1; }
fi

log="$(mktemp)"
started=""
secure_started=""
restart_started=""
soak_started=""
cleanup() {
    # The soak stops its own rig; this is for a soak that died before it could.
    if [ -n "$soak_started" ]; then KWIRE_RESTART_DIR="$PWD/.broker/soak" scripts/restart_rig.sh stop >/dev/null 2>&1 || true; fi
    if [ -n "$restart_started" ]; then scripts/restart_rig.sh stop >/dev/null 2>&1 || true; fi
    if [ -n "$secure_started" ]; then scripts/secure_rig.sh stop >/dev/null 2>&1 || true; fi
    if [ -n "$started" ]; then scripts/broker.sh stop || true; fi
    rm -f "$log"
}
trap cleanup EXIT
echo "== swift build (all targets, tests included)" >&2
if ! swift build --build-tests 2>&1 | tee "$log" >&2; then
    echo "build failed" >&2
    exit 1
fi
if grep -E '(^|/)[^ ]+\.swift:[0-9]+:[0-9]+: warning:' "$log" >&2; then
    echo "build has warnings (Swift 6 mode must build clean)" >&2
    exit 1
fi
# The documentation check (scripts/docs.sh): undocumented public symbols, broken doc links and
# article code that does not compile fail here, before the long test run.
echo "== documentation check (scripts/docs.sh)" >&2
if ! scripts/docs.sh --skip-build; then
    echo "documentation check failed" >&2
    exit 1
fi

if [ -n "$offline" ]; then
    unset KAFKA_BOOTSTRAP KWIRE_SECURE_ENV KWIRE_RESTART_RIG KWIRE_RESTART_DIR KWIRE_REQUIRE_INTEGRATION
    cat >&2 <<'MSG'
== KWIRE_OFFLINE=1: NOT tested in this run (their suites are skipped, by name):
   - everything against a real broker (KAFKA_BOOTSTRAP): admin, producer, consumer, groups,
     transactions, compression interop, kwire CLI against a broker
   - interop with the peer clients (confluent-kafka, kafka-python), fault-injection suites
   - the TLS/SASL rig (SecureIntegrationTests, SecureDataPathTests, KwireSecureCLITests)
   - broker restarts and crashes (BrokerRestartTests) and the soak (scripts/soak.sh)
   - TLSTests, when socat/openssl are not installed
MSG
else
    export KWIRE_REQUIRE_INTEGRATION=1
    if [ -z "${KAFKA_BOOTSTRAP:-}" ]; then
        echo "== starting a local Tansu broker" >&2
        KAFKA_BOOTSTRAP="$(scripts/broker.sh start)"
        export KAFKA_BOOTSTRAP
        started=1
    fi
    if [ -z "${KWIRE_SECURE_ENV:-}" ]; then
        echo "== starting the TLS/SASL rig (scripts/secure_rig.sh)" >&2
        secure_started=1
        if ! KWIRE_SECURE_ENV="$(scripts/secure_rig.sh start)"; then
            echo "the TLS/SASL rig did not start (scripts/secure_rig.sh start); KWIRE_OFFLINE=1 runs only the offline tests" >&2
            exit 1
        fi
        export KWIRE_SECURE_ENV
    fi
    if [ -z "${KWIRE_RESTART_RIG:-}" ]; then
        echo "== starting the broker restart rig (scripts/restart_rig.sh)" >&2
        export KWIRE_RESTART_DIR="${KWIRE_RESTART_DIR:-$PWD/.broker/restart}"
        restart_started=1
        if ! KWIRE_RESTART_RIG="$(scripts/restart_rig.sh start)"; then
            echo "the restart rig did not start (scripts/restart_rig.sh start); KWIRE_OFFLINE=1 runs only the offline tests" >&2
            exit 1
        fi
        export KWIRE_RESTART_RIG
    fi
    echo "== swift test against KAFKA_BOOTSTRAP=$KAFKA_BOOTSTRAP" >&2
fi
# One test at a time: the integration tests share one broker and measure behaviour in time
# (sessions, heartbeats, rebalances) on a 2-core machine, where parallel suites starve each
# other's timers. The whole run takes about 12 minutes (764 tests, restart suite included).
swift test --skip-build --no-parallel "$@"
if [ -z "$offline" ] && [ $# -eq 0 ]; then
    # A short soak (the 30-minute one is run by hand: scripts/soak.sh 30). About 3 minutes
    # with the rig's start and the audit.
    echo "== soak (scripts/soak.sh 2)" >&2
    soak_started=1
    scripts/soak.sh 2
fi
