#!/usr/bin/env python3
"""The shared crate's module import graph: which top-level module uses which (`crate::x` paths,
`use crate::{x, y}` lists), the import cycles (strongly connected components), and line counts per
module. Usage: scripts/module-graph.py [--check]  (--check exits 1 when there is a cycle)."""
import os
import re
import sys

ROOT = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "shared", "src")


def top_module(path):
    rel = os.path.relpath(path, ROOT)
    first = rel.split(os.sep)[0]
    return first[:-3] if first.endswith(".rs") else first


def strip_tests(text):
    # Unit tests may import anything; only the code's own graph counts.
    # (`#[cfg(test)]` or `#[cfg(all(test, ...))]` test modules, which sit at the end of a file)
    m = re.search(r"#\[cfg\((?:all\()?test\b[^\n]*\]\nmod \w+", text)
    return text if m is None else text[:m.start()]


def modules():
    out = {}
    for dirpath, _, files in os.walk(ROOT):
        for f in files:
            if f.endswith(".rs"):
                p = os.path.join(dirpath, f)
                m = top_module(p)
                if m == "lib":
                    continue
                text = strip_tests(open(p).read())
                entry = out.setdefault(m, {"lines": 0, "uses": set()})
                entry["lines"] += text.count("\n")
                for name in re.findall(r"crate::([a-z_][a-z0-9_]*)", text):
                    entry["uses"].add(name)
                for group in re.findall(r"crate::\{([^}]*)\}", text):
                    for name in re.findall(r"\b([a-z_][a-z0-9_]*)\b", group):
                        entry["uses"].add(name)
    for m in out.values():
        m["uses"] = {u for u in m["uses"] if u in out}
    for name, m in out.items():
        m["uses"].discard(name)
    return out


def sccs(graph):
    index, low, stack, on, result, counter = {}, {}, [], set(), [], [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in sorted(graph[v]["uses"]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                result.append(sorted(comp))

    sys.setrecursionlimit(10000)
    for v in sorted(graph):
        if v not in index:
            visit(v)
    return result


def submodules():
    """Files inside a module directory (maintenance/, format/) and their `super::x` uses."""
    out = {}
    for dirpath, _, files in os.walk(ROOT):
        if dirpath == ROOT:
            continue
        parent = os.path.relpath(dirpath, ROOT)
        names = {f[:-3] for f in files if f.endswith(".rs") and f != "mod.rs"}
        for f in files:
            if not f.endswith(".rs") or f == "mod.rs":
                continue
            text = strip_tests(open(os.path.join(dirpath, f)).read())
            uses = set(re.findall(r"super::([a-z_][a-z0-9_]*)", text))
            for group in re.findall(r"super::\{([^}]*)\}", text):
                uses |= set(re.findall(r"\b([a-z_][a-z0-9_]*)\b", group))
            node = f"{parent}/{f[:-3]}"
            out[node] = {"lines": 0, "uses": {f"{parent}/{u}" for u in uses if u in names and u != f[:-3]}}
    return out


def main():
    g = modules()
    print(f"{'module':<16} {'lines':>6}  uses")
    for name in sorted(g):
        print(f"{name:<16} {g[name]['lines']:>6}  {', '.join(sorted(g[name]['uses'])) or '-'}")
    cycles = sccs(g)
    sub = submodules()
    print(f"\n{'submodule':<24} uses")
    for name in sorted(sub):
        print(f"{name:<24} {', '.join(sorted(sub[name]['uses'])) or '-'}")
    cycles += sccs(sub)
    print(f"\n{len(cycles)} import cycle(s)" + (":" if cycles else ""))
    for c in cycles:
        print("  " + " <-> ".join(c))
    if "--check" in sys.argv and cycles:
        sys.exit(1)


if __name__ == "__main__":
    main()
