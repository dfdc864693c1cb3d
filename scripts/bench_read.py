#!/usr/bin/env python3
"""Read throughput of one large object as ingest reads it (`floe bench-read`): one GET stream
against ranged GETs of 8 MiB with 1, 2 and 4 parts in flight (`--read-ahead-bytes`), alternating,
median of `--runs`, on 2 cores (the S3 server shares them). Ratios are against the one-stream read
of the same run.

Results: printed as a markdown table and written to bench/results/read.{md,json}.
"""
import argparse, json, os, statistics, subprocess, sys, time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench import WORK, floe_env, gen, save_results  # noqa: E402

PART = 8 << 20


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--floe", required=True)
    ap.add_argument("--rows", type=int, default=2_000_000)
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args()
    tag = time.strftime("%Y%m%d%H%M%S")
    csv = os.path.join(WORK, f"orders-{args.rows}.csv")
    gen(args.floe, args.rows, csv)
    key = f"orders-flat/bench/read-{tag}/{os.path.basename(csv)}"
    env = floe_env(f"read-{tag}")
    subprocess.run([args.floe, "put", csv, f"s3://floe-landing/{key}"], check=True, env=env, stdout=subprocess.DEVNULL)
    cases = [("Floe, one GET stream (default)", 0), ("Floe, ranged, 1 part in flight", PART),
             ("Floe, ranged, 2 parts in flight", 2 * PART), ("Floe, ranged, 4 parts in flight", 4 * PART)]
    runs = {name: [] for name, _ in cases}
    for _ in range(args.runs):
        for name, budget in cases:
            out = subprocess.run([args.floe, "bench-read", f"s3://floe-landing/{key}", "--read-ahead-bytes", str(budget)],
                                 check=True, env=env, capture_output=True, text=True).stdout
            r = json.loads(out.strip().splitlines()[-1])
            runs[name].append(r["mb_s"])
    base = statistics.median(runs["Floe, one GET stream (default)"])
    rows = [dict(tool=name, mb_s=statistics.median(v), ratio=statistics.median(v) / base) for name, v in runs.items()]
    text = "\n".join([f"Read of a {os.path.getsize(csv) / 1e6:.0f} MB object from the local S3 server, 2 cores, "
                      f"median of {args.runs} alternating runs (run {tag})", "",
                      "| reader | MB/s | ÷ Floe one stream |", "|---|---:|---:|"] +
                     [f"| {r['tool']} | {r['mb_s']:.0f} | {r['ratio']:.2f}× |" for r in rows])
    save_results("read", text, dict(run=tag, rows=rows, runs=runs))


if __name__ == "__main__":
    main()
