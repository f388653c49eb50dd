#!/usr/bin/env bash
# The documentation check (scripts/test.sh runs it right after the build, so CI fails fast):
#   1. symbol graphs of the library modules, extracted from the modules `swift build` already
#      compiled (swift-symbolgraph-extract: ~2 s, where a second build with
#      -emit-symbol-graph would recompile every module);
#   2. scripts/doc_coverage.py: every public symbol of a covered module documented, with its
#      parameters and throws; each offender printed as file:line;
#   3. `docc convert --analyze --warnings-as-errors` of each module (KafkaClient with its
#      catalog, Sources/KafkaClient/KafkaClient.docc): a broken ``link``, a missing article or
#      a half-documented parameter list fails;
#   4. the articles' code: every ```swift block of the catalog is type-checked against the
#      built KafkaClient (warnings are errors, as in the build), so an article cannot show an
#      API that does not exist, or one used in a way the compiler warns about.
# It never skips: without docc or swift-symbolgraph-extract (both ship with the Swift
# toolchain, next to `swift`) it fails, saying where it looked.
#
# Usage: scripts/docs.sh [--skip-build]   (archives end up in .build/docs/)
# COVERED lists the modules whose public symbols must all be documented (the allow-list grows
# as modules are finished; KWIRE_DOCS_COVERED overrides it); every library module is counted
# and its count printed either way.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

MODULES=(KafkaProtocol KafkaNet KafkaClient)
COVERED="${KWIRE_DOCS_COVERED-KafkaProtocol,KafkaNet,KafkaClient}"

skip_build=""
if [ "${1:-}" = "--skip-build" ]; then skip_build=1; fi

# The toolchain's tools: on PATH, else next to the `swift` driver (where swift.org toolchains
# put them, e.g. /opt/swift/usr/bin), else through xcrun on macOS.
find_tool() {
    local name="$1" swift_bin
    if command -v "$name" >/dev/null 2>&1; then command -v "$name"; return 0; fi
    swift_bin="$(command -v swift 2>/dev/null || true)"
    if [ -n "$swift_bin" ]; then
        swift_bin="$(readlink -f "$swift_bin")"
        if [ -x "$(dirname "$swift_bin")/$name" ]; then echo "$(dirname "$swift_bin")/$name"; return 0; fi
    fi
    if command -v xcrun >/dev/null 2>&1 && xcrun --find "$name" >/dev/null 2>&1; then xcrun --find "$name"; return 0; fi
    echo "docs: '$name' not found (looked on PATH, next to swift at '${swift_bin:-none}', and xcrun); it ships with the Swift toolchain" >&2
    return 1
}
DOCC="$(find_tool docc)"
EXTRACT="$(find_tool swift-symbolgraph-extract)"
SWIFTC="$(find_tool swiftc)"

if [ -z "$skip_build" ]; then
    echo "== docs: swift build (library modules)" >&2
    swift build --target KafkaClient >&2
fi
BIN="$(swift build --show-bin-path)"
for m in "${MODULES[@]}"; do
    if [ ! -e "$BIN/Modules/$m.swiftmodule" ]; then
        echo "docs: $BIN/Modules/$m.swiftmodule is missing; build first (or drop --skip-build)" >&2
        exit 1
    fi
done
TRIPLE="$(swiftc -print-target-info | python3 -c 'import json,sys; print(json.load(sys.stdin)["target"]["triple"])')"
# The C shims' module maps, which the Swift modules import.
CFLAGS=()
for map in "$BIN"/CKafka*.build/module.modulemap; do CFLAGS+=(-Xcc "-fmodule-map-file=$map"); done

OUT=.build/docs
rm -rf "$OUT/symbol-graphs"
echo "== docs: symbol graphs" >&2
for m in "${MODULES[@]}"; do
    mkdir -p "$OUT/symbol-graphs/$m"
    "$EXTRACT" -module-name "$m" -target "$TRIPLE" -I "$BIN/Modules" "${CFLAGS[@]}" \
        -minimum-access-level public -output-dir "$OUT/symbol-graphs/$m" >&2
done

status=0
echo "== docs: coverage (covered: $COVERED)" >&2
count="$(IFS=,; echo "${MODULES[*]}")"
python3 scripts/doc_coverage.py "$OUT/symbol-graphs" --cover "$COVERED" --count "$count" || status=1

echo "== docs: docc convert --analyze --warnings-as-errors" >&2
for m in "${MODULES[@]}"; do
    catalog=()
    if [ -d "Sources/$m/$m.docc" ]; then catalog=("Sources/$m/$m.docc"); fi
    if ! "$DOCC" convert "${catalog[@]}" --additional-symbol-graph-dir "$OUT/symbol-graphs/$m" \
        --fallback-display-name "$m" --fallback-bundle-identifier "org.kafkawire.$m" \
        --analyze --warnings-as-errors --output-path "$OUT/$m.doccarchive" >"$OUT/$m.docc.log" 2>&1; then
        grep -vE '^(note|info)' "$OUT/$m.docc.log" | sed -n '1,200p' >&2 || true
        echo "docs: docc found problems in $m (above; all of it in $OUT/$m.docc.log)" >&2
        status=1
    fi
done

echo "== docs: the articles' code, type-checked" >&2
python3 scripts/doc_snippets.py Sources/KafkaClient/KafkaClient.docc "$OUT/snippets" || status=1
for f in "$OUT"/snippets/*.swift; do
    [ -e "$f" ] || continue
    if ! "$SWIFTC" -typecheck -warnings-as-errors -swift-version 6 -module-name ArticleCode -target "$TRIPLE" -I "$BIN/Modules" "${CFLAGS[@]}" "$f" >"$f.log" 2>&1; then
        cat "$f.log" >&2
        echo "docs: the code of $(head -1 "$f" | sed 's|^// ||') does not compile (above)" >&2
        status=1
    fi
done

if [ "$status" -ne 0 ]; then
    echo "docs: FAILED" >&2
    exit 1
fi
echo "== docs: ok ($OUT/*.doccarchive)" >&2
