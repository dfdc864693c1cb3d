#!/usr/bin/env python3
"""Lists non-test Rust functions longer than a limit (default 80 lines), longest first.

Usage: scripts/long-functions.py [--limit N] [--check] [paths...]   (default: shared functions cli)
Functions inside `#[cfg(test)]` modules are skipped. `--check` exits 1 when a function over the
limit is not listed in scripts/long-functions.allow (one `path::name  reason` per line).
"""
import os
import re
import sys

FN = re.compile(r"^\s*(pub(\([^)]*\))?\s+)?(const\s+)?(async\s+)?(unsafe\s+)?fn\s+(\w+)")


def strip(line, state):
    """Removes string literals and comments from a line; `state` tracks block comments."""
    out, i = [], 0
    while i < len(line):
        if state["block"]:
            j = line.find("*/", i)
            if j < 0:
                return "".join(out)
            state["block"], i = False, j + 2
            continue
        c = line[i]
        if line.startswith("//", i):
            break
        if line.startswith("/*", i):
            state["block"], i = True, i + 2
            continue
        if c == '"':
            j = i + 1
            while j < len(line) and line[j] != '"':
                j += 2 if line[j] == "\\" else 1
            i = j + 1
            continue
        if c == "'" and i + 2 < len(line) and (line[i + 2] == "'" or line[i + 1] == "\\"):
            j = line.find("'", i + 2)
            i = (j + 1) if j > 0 else i + 1
            continue
        out.append(c)
        i += 1
    return "".join(out)


def functions(path):
    lines = open(path, encoding="utf-8").read().split("\n")
    state = {"block": False}
    clean = [strip(l, state) for l in lines]
    found, i = [], 0
    while i < len(lines):
        if re.match(r"^\s*#\[cfg\(test\)\]", lines[i]):
            # skip the test module: to the end of its braces
            depth, started, j = 0, False, i + 1
            while j < len(lines):
                depth += clean[j].count("{") - clean[j].count("}")
                started |= "{" in clean[j]
                if started and depth <= 0:
                    break
                j += 1
            i = j + 1
            continue
        m = FN.match(lines[i])
        if m:
            depth, started, j = 0, False, i
            while j < len(lines):
                depth += clean[j].count("{") - clean[j].count("}")
                started |= "{" in clean[j]
                if started and depth <= 0:
                    break
                if not started and clean[j].rstrip().endswith(";"):
                    break  # a declaration without a body
                j += 1
            if started:
                found.append((j - i + 1, m.group(6), i + 1))
        i += 1
    return found


def main():
    args = sys.argv[1:]
    limit, check = 80, False
    if "--limit" in args:
        k = args.index("--limit")
        limit = int(args[k + 1])
        del args[k : k + 2]
    if "--check" in args:
        check = True
        args.remove("--check")
    roots = args or ["shared/src", "functions", "cli/src"]
    allow = {}
    allow_file = os.path.join(os.path.dirname(__file__), "long-functions.allow")
    if os.path.exists(allow_file):
        for line in open(allow_file):
            line = line.strip()
            if line and not line.startswith("#"):
                name, _, reason = line.partition(" ")
                allow[name] = reason.strip()
    rows = []
    for root in roots:
        for d, _, files in os.walk(root):
            for f in files:
                if f.endswith(".rs") and "/tests" not in d and "/target" not in d:
                    p = os.path.join(d, f)
                    for n, name, line in functions(p):
                        if n > limit:
                            rows.append((n, f"{p}::{name}", line))
    rows.sort(reverse=True)
    unexplained = 0
    for n, name, line in rows:
        reason = allow.get(name)
        unexplained += reason is None
        print(f"{n:4} {name}:{line}" + (f"  — {reason}" if reason else "  — NO REASON"))
    print(f"{len(rows)} functions over {limit} lines, {unexplained} without a reason")
    return 1 if check and unexplained else 0


if __name__ == "__main__":
    sys.exit(main())
