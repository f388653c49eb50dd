#!/usr/bin/env python3
"""Fails when a public symbol of a covered module lacks documentation.

Reads the symbol graphs `scripts/docs.sh` extracted (one directory per module) and prints one
line per offender, `path:line: what is missing (symbol)`, then a count per module.

What counts as documented (the rule `scripts/docs.sh` enforces):
- every public or open symbol has a doc comment: its own `///`, or the one it inherits from
  the protocol requirement it implements (DocC shows that one on its page, so writing it
  again on each conforming type would only pad);
- a function, initializer or subscript with its own doc comment names every parameter
  (`- Parameter x:` or a `- Parameters:` list) and, when it throws, says so (`- Throws:`).
Symbols the compiler synthesizes for a type (default implementations it inherits, such as
`!=` from `Equatable`) are not ours to document and are skipped.

Usage: doc_coverage.py SYMBOL_GRAPH_ROOT --cover MODULE[,MODULE...] [--count MODULE,...]
Modules in --count only get counted (the not-yet-covered ones); --cover ones also fail the run.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
from urllib.parse import unquote, urlparse

CALLABLE_KINDS = {
    "swift.func", "swift.method", "swift.type.method", "swift.init", "swift.subscript",
    "swift.type.subscript", "swift.func.op",
}
PARAMETER_LINE = re.compile(r"^\s*-\s+[Pp]arameter\s+([A-Za-z_][A-Za-z0-9_]*)\s*:")
PARAMETERS_HEADER = re.compile(r"^\s*-\s+[Pp]arameters\s*:")
LIST_ITEM = re.compile(r"^(\s*)-\s+([A-Za-z_][A-Za-z0-9_]*)\s*:")
THROWS_LINE = re.compile(r"^\s*-\s+[Tt]hrows\s*:")


def path_of(uri: str | None, root: str) -> str:
    if not uri:
        return "?"
    path = unquote(urlparse(uri).path)
    return os.path.relpath(path, root) if path.startswith(root) else path


def own_doc(symbol: dict) -> bool:
    """True when the doc comment is written at this declaration, not inherited from elsewhere."""
    doc = symbol.get("docComment") or {}
    location = symbol.get("location") or {}
    if doc.get("uri") != location.get("uri"):
        return False
    lines = doc.get("lines") or []
    if not lines or "range" not in lines[-1]:
        return False
    doc_end = lines[-1]["range"]["end"]["line"]
    declared = location.get("position", {}).get("line", -1)
    # Attributes (`@inlinable`, `@discardableResult` …) may sit between comment and declaration.
    return 0 <= declared - doc_end <= 6


def documented_parameters(lines: list[str]) -> set[str]:
    names: set[str] = set()
    header_indent = None  # indentation of an open `- Parameters:` list's header
    for line in lines:
        m = PARAMETER_LINE.match(line)
        if m:
            names.add(m.group(1))
            header_indent = None
            continue
        if PARAMETERS_HEADER.match(line):
            header_indent = len(line) - len(line.lstrip())
            continue
        item = LIST_ITEM.match(line)
        if header_indent is not None and item:
            if len(item.group(1)) > header_indent:
                names.add(item.group(2))
            else:
                header_indent = None  # the next callout (`- Returns:`) ends the list
    return names


def throws_at_top_level(fragments: list[dict]) -> bool:
    """`throws` outside any parentheses: the function itself throws, not a closure parameter."""
    depth = 0
    for fragment in fragments:
        spelling = fragment.get("spelling", "")
        if fragment.get("kind") == "keyword" and spelling == "throws" and depth == 0:
            return True
        if fragment.get("kind") == "text":
            depth += spelling.count("(") + spelling.count("[") - spelling.count(")") - spelling.count("]")
    return False


def problems(symbol: dict) -> list[str]:
    doc = symbol.get("docComment")
    if not doc or not any(line.get("text", "").strip() for line in doc.get("lines", [])):
        return ["no doc comment"]
    if symbol["kind"]["identifier"] not in CALLABLE_KINDS or not own_doc(symbol):
        return []
    lines = [line.get("text", "") for line in doc["lines"]]
    found: list[str] = []
    documented = documented_parameters(lines)
    for parameter in (symbol.get("functionSignature") or {}).get("parameters", []):
        name = parameter.get("internalName") or parameter.get("name", "")
        if name and name != "_" and name not in documented:
            found.append(f"parameter '{name}' not documented")
    if throws_at_top_level(symbol.get("declarationFragments", [])) and not any(THROWS_LINE.match(l) for l in lines):
        found.append("throws, but no '- Throws:'")
    return found


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("graphs")
    parser.add_argument("--cover", default="")
    parser.add_argument("--count", default="")
    parser.add_argument("--root", default=os.getcwd())
    args = parser.parse_args()
    covered = [m for m in args.cover.split(",") if m]
    counted = [m for m in args.count.split(",") if m and m not in covered]
    root = os.path.realpath(args.root) + os.sep
    failed = False
    for module in covered + counted:
        directory = os.path.join(args.graphs, module)
        files = sorted(f for f in os.listdir(directory) if f.endswith(".symbols.json"))
        if not files:
            print(f"{module}: no symbol graph in {directory}", file=sys.stderr)
            return 1
        offenders: list[tuple[str, int, str]] = []
        total = 0
        seen: set[str] = set()
        for name in files:
            with open(os.path.join(directory, name)) as handle:
                graph = json.load(handle)
            for symbol in graph["symbols"]:
                precise = symbol["identifier"]["precise"]
                if "::SYNTHESIZED::" in precise or precise in seen:
                    continue
                if symbol.get("accessLevel") not in ("public", "open"):
                    continue
                seen.add(precise)
                total += 1
                location = symbol.get("location") or {}
                path = path_of(location.get("uri"), root)
                line = location.get("position", {}).get("line", -1) + 1
                title = ".".join(symbol.get("pathComponents", [])) or precise
                for problem in problems(symbol):
                    offenders.append((path, line, f"{problem} ({symbol['kind']['identifier']} {title})"))
        undocumented = sum(1 for o in offenders if o[2].startswith("no doc comment"))
        incomplete = len(offenders) - undocumented
        is_covered = module in covered
        if is_covered:
            for path, line, what in sorted(offenders):
                print(f"{path}:{line}: {what}")
        state = "covered" if is_covered else "counted only, not yet covered"
        print(f"== {module}: {total} public symbols, {undocumented} undocumented, "
              f"{incomplete} missing parameter/throws docs ({state})", file=sys.stderr)
        failed = failed or (is_covered and bool(offenders))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
