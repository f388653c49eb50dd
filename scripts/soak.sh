#!/usr/bin/env bash
# The soak: `scripts/soak.sh MINUTES [kwire-soak options]`.
#
# A producer and a group consumer of ours, with default settings, run for MINUTES through a
# FaultProxy in front of a broker of the restart rig (scripts/restart_rig.sh, Tansu on S3 over
# moto_server, its own state dir), with mixed faults: connections cut mid-request and
# mid-response, delayed responses, blackholes, dropped connections and graceful broker
# restarts. Then an exact audit: every message reported once, the log (read back by
# confluent-kafka) without duplicates or gaps, in order per key, nothing lost, everything
# processed by the group consumer, RSS over time. Exits non-zero on any violation.
#
# Options after MINUTES go to kwire-soak: --rate MSG_PER_S (3000), --fault-every S (12),
# --seed N (replays a fault order), --dir STATE_DIR (default <repo>/.broker/soak).
# Builds kwire-soak (debug; scripts/test.sh has built it already) under /tmp/kwire-build.lock
# when KWIRE_BUILD_LOCK=1, so a shared machine builds one thing at a time.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
minutes="${1:-}"
[[ "$minutes" =~ ^[0-9]+(\.[0-9]+)?$ ]] || { sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
shift
build=(swift build --product kwire-soak)
if [ "${KWIRE_BUILD_LOCK:-}" = 1 ]; then build=(flock /tmp/kwire-build.lock "${build[@]}"); fi
"${build[@]}" >&2
bin="$(swift build --show-bin-path)/kwire-soak"
exec "$bin" --minutes "$minutes" "$@"
