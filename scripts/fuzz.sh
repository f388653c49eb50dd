#!/usr/bin/env bash
# Builds the libFuzzer targets (Fuzz/, a package of its own) and runs each for SECONDS
# (default 30), one at a time with one worker. Fails (non-zero) on any finding: a crash or trap
# (including the harnesses' own property checks), a timeout (> 1 s for one input), a leak
# report, or running out of memory (-rss_limit_mb=2048, -malloc_limit_mb=1024). Prints the
# number of executions of each target.
#
#   scripts/fuzz.sh [SECONDS]            build, then run every target
#   scripts/fuzz.sh --build-only         build only (take the shared build lock for this part)
#   scripts/fuzz.sh --skip-build [SECONDS]
#   KWIRE_FUZZ_TARGETS="frames scram" scripts/fuzz.sh 60     only these targets
#   KWIRE_FUZZ_LENIENT=1 …    frames: only "re-encodes to the same values" (default: byte for byte)
#
# Seeds come from Fixtures/ and Fuzz/regressions/ (scripts/fuzz_seeds.py, regenerated each
# run); what the fuzzer adds is kept in .build-fuzz/corpus/<target> (git-ignored) for the next
# run. A failing input is written to .build-fuzz/artifacts/<target>/ and printed in base64:
# copy it to Fuzz/regressions/<target>/ to keep it as a regression seed.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

build=1
run=1
case "${1:-}" in
    --build-only) run=""; shift ;;
    --skip-build) build=""; shift ;;
esac
seconds="${1:-30}"
targets="${KWIRE_FUZZ_TARGETS:-frames records compression framedecoder assignors scram}"
work=".build-fuzz"
bin="Fuzz/.build/release/KafkaFuzz"

if [ -n "$build" ]; then
    echo "== building the fuzz targets (release, -sanitize=fuzzer,address)" >&2
    log="$(mktemp)"
    # lld: gold fails on the sanitizer runtime's symbols. -enable-testing: @testable imports.
    if ! (cd Fuzz && swift build -c release -Xswiftc -sanitize=fuzzer,address -Xswiftc -enable-testing -Xswiftc -use-ld=lld) 2>&1 | tee "$log" >&2; then
        rm -f "$log"; echo "fuzz build failed" >&2; exit 1
    fi
    if grep -E '(^|/)[^ ]+\.swift:[0-9]+:[0-9]+: warning:' "$log" >&2; then
        rm -f "$log"; echo "fuzz build has warnings" >&2; exit 1
    fi
    rm -f "$log"
fi
[ -n "$run" ] || exit 0
[ -x "$bin" ] || { echo "$bin is not built (scripts/fuzz.sh --build-only)" >&2; exit 1; }

rm -rf "$work/seeds"
python3 scripts/fuzz_seeds.py "$work/seeds"
failed=()
summary=()
for t in $targets; do
    corpus="$work/corpus/$t"
    artifacts="$work/artifacts/$t"
    mkdir -p "$corpus" "$artifacts" "$work/seeds/$t"
    rm -f "$artifacts"/*
    out="$work/$t.log"
    echo "== fuzzing $t for ${seconds}s" >&2
    status=0
    KWIRE_FUZZ_TARGET="$t" SWIFT_BACKTRACE=enable=no ASAN_OPTIONS="detect_leaks=1:allocator_may_return_null=0" "$bin" \
        -max_total_time="$seconds" -timeout=1 -rss_limit_mb=2048 -malloc_limit_mb=1024 \
        -max_len=65536 -print_final_stats=1 -artifact_prefix="$artifacts/" \
        "$corpus" "$work/seeds/$t" >"$out" 2>&1 || status=$?
    execs="$(sed -n 's/^stat::number_of_executed_units: *//p' "$out" | tail -n 1)"
    if [ "$status" -ne 0 ] || grep -qE '^(==[0-9]+==ERROR|SUMMARY: |FINDING:)' "$out"; then
        failed+=("$t")
        summary+=("$t: FAILED (exit $status) after ${execs:-?} executions")
        echo "---- $t: last lines of $out" >&2
        tail -n 60 "$out" >&2
        for a in "$artifacts"/*; do
            [ -f "$a" ] || continue
            echo "---- failing input $a ($(wc -c <"$a") bytes), base64:" >&2
            head -c 4096 "$a" | base64 -w 0 >&2; echo >&2
        done
    else
        summary+=("$t: ${execs:-?} executions, no finding (corpus $(ls "$corpus" | wc -l) inputs)")
    fi
done
echo "== fuzzing summary (${seconds}s per target)" >&2
for s in "${summary[@]}"; do echo "  $s" >&2; done
if [ ${#failed[@]} -gt 0 ]; then
    echo "fuzzing found problems in: ${failed[*]}" >&2
    exit 1
fi
