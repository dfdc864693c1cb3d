#!/usr/bin/env python3
"""A/B of two floe binaries on the same input (alternating runs, one core, same stack): the
before/after figure for one optimisation. Usage: bench_ab.py BEFORE AFTER [--prefix orders] [--runs 3]
[--rows 2000000] [--kind csv]. Prints median seconds, MB/s and peak RSS of each, and the ratio."""
import argparse, os, statistics, sys, time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench import WORK, floe_ingest, gen  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("before")
    ap.add_argument("after")
    ap.add_argument("--prefix", default="orders", help="orders (day-partitioned) or orders-flat")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--rows", type=int, default=2_000_000)
    ap.add_argument("--kind", default="csv")
    args = ap.parse_args()
    os.makedirs(WORK, exist_ok=True)
    path = os.path.join(WORK, f"orders-{args.rows}.{args.kind}")
    mb = gen(args.after, args.rows, path, args.kind) / 1e6
    tag = time.strftime("%Y%m%d%H%M%S")
    res = {"before": [], "after": []}
    for i in range(args.runs):
        for name in ("before", "after"):
            secs, rss, rep = floe_ingest(getattr(args, name), path, f"{tag}-ab-{name}-{i}", prefix=args.prefix)
            res[name].append((secs, rss, rep["files"]))
    print(f"A/B {tag}: {args.kind} {mb:.0f} MB -> {args.prefix}, {args.runs} alternating runs each, one core")
    med = {}
    for name, runs in res.items():
        s = statistics.median(r[0] for r in runs)
        rss = max(r[1] for r in runs)
        med[name] = s
        print(f"  {name:6}: median {s:.2f} s = {mb / s:.1f} MB/s, peak RSS {rss:.0f} MiB, {runs[0][2]} files  (runs: {', '.join(f'{r[0]:.2f}' for r in runs)})")
    print(f"  after/before throughput: {med['before'] / med['after']:.2f}x")


if __name__ == "__main__":
    main()
