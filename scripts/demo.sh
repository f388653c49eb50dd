#!/usr/bin/env bash
# The main job: start a local Kafka-compatible broker (Tansu) and show `kwire` talking to it —
# cluster metadata, a topic created, listed, described and deleted — then stop the broker.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

echo "== building kwire (release)" >&2
swift build -c release --product kwire >&2
kwire="$(swift build -c release --show-bin-path)/kwire"

# Leave a broker that was already running (e.g. a developer's) running afterwards.
already_running=""
if scripts/broker.sh status 2>/dev/null | grep -q '^running'; then already_running=1; fi
KAFKA_BOOTSTRAP="$(scripts/broker.sh start)"
export KAFKA_BOOTSTRAP
if [ -z "$already_running" ]; then trap 'scripts/broker.sh stop' EXIT; fi
topic="kwire-demo-$$"

run() { echo; echo "\$ kwire $*"; "$kwire" "$@"; }
run metadata
run topic create "$topic" --partitions 3 --config retention.ms=3600000
run topic list
run metadata --json
echo; echo "\$ kwire topic create $topic --partitions 3   # again: a typed broker error, exit 1"
if "$kwire" topic create "$topic" --partitions 3; then echo "unexpected success" >&2; exit 1; fi
run topic delete "$topic"
run topic list
echo; echo "demo finished: broker at $KAFKA_BOOTSTRAP answered our client"
