#!/usr/bin/env python3
"""Turns the ```swift blocks of a DocC catalog's articles into files swiftc can type-check.

One file per article: its `import` lines at the top, every other line of its blocks, in
order, inside one `async throws` function, so a later block may use what an earlier one
declared (an article reads top to bottom). The first line of each file names the article.
A block that is a package manifest (`import PackageDescription`) is left out.
Usage: doc_snippets.py CATALOG OUTPUT_DIR
"""

from __future__ import annotations

import os
import re
import sys

FENCE = re.compile(r"^(\s*)```\s*(\w*)\s*$")


def blocks(text: str) -> list[list[str]]:
    found: list[list[str]] = []
    current: list[str] | None = None
    indent = 0
    for line in text.splitlines():
        fence = FENCE.match(line)
        if current is None:
            if fence and fence.group(2) == "swift":
                current, indent = [], len(fence.group(1))
        elif fence and not fence.group(2):
            found.append(current)
            current = None
        else:
            current.append(line[indent:] if line[:indent].strip() == "" else line)
    return found


def main() -> int:
    catalog, output = sys.argv[1], sys.argv[2]
    os.makedirs(output, exist_ok=True)
    for old in os.listdir(output):
        os.remove(os.path.join(output, old))
    articles = sorted(f for f in os.listdir(catalog) if f.endswith(".md"))
    written = 0
    for article in articles:
        with open(os.path.join(catalog, article)) as handle:
            code = blocks(handle.read())
        if not code:
            continue
        imports = {"import KafkaClient"}
        body: list[str] = []
        for block in code:
            if any("import PackageDescription" in line for line in block):
                continue  # a manifest: checked by SwiftPM, not against KafkaClient
            for line in block:
                if re.match(r"^import \w+$", line.strip()):
                    imports.add(line.strip())
                else:
                    body.append("    " + line if line else "")
        name = re.sub(r"\W", "_", article[:-3])
        source = [f"// {catalog}/{article}"] + sorted(imports) + [
            "",
            f"func article_{name}() async throws {{",
            *body,
            "}",
            "",
        ]
        with open(os.path.join(output, f"Article_{name}.swift"), "w") as handle:
            handle.write("\n".join(source))
        written += 1
    print(f"== docs: {written} articles with code", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
