#!/usr/bin/env python3
"""Multi-core scaling: the ~200 MB CSV ingested unpartitioned by Floe on 1 and 2 cores (taskset), and
on 2 cores with the write pipeline off (`FLOE_WRITE_PIPELINE=off`: the A/B of the pipeline itself,
same binary, alternating runs), against DuckDB 1.4.4 `threads=N` on the same cores in the same run.
This machine has 2 cores; SeaweedFS shares them in the 2-core runs (DuckDB reads and writes local
files), so the Floe 2-core figure is a floor. Median of `--runs` alternating runs per case.

Results: printed as a markdown table and written to bench/results/scaling.{md,json}.
"""
import argparse, itertools, os, subprocess, sys, time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench import WORK, floe_env, gen, measure, median_of_rounds, save_results  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--floe", required=True)
    ap.add_argument("--rows", type=int, default=2_000_000)
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    os.makedirs(WORK, exist_ok=True)
    tag = time.strftime("%Y%m%d%H%M%S")
    csv = os.path.join(WORK, f"orders-{args.rows}.csv")
    mb = gen(args.floe, args.rows, csv) / 1e6
    key = f"orders-flat/bench/scaling-{tag}/{os.path.basename(csv)}"
    env = floe_env(f"scaling-{tag}")
    subprocess.run([args.floe, "put", csv, f"s3://floe-landing/{key}"], check=True, env=env, stdout=subprocess.DEVNULL)
    out = os.path.join(WORK, "duckdb-scaling.parquet")

    def duckdb(threads):
        code = (f"import duckdb; c = duckdb.connect(); c.execute('SET threads={threads}');"
                f"c.execute(\"COPY (SELECT * FROM read_csv('{csv}')) TO '{out}' (FORMAT parquet, COMPRESSION zstd)\")")
        return [sys.executable, "-c", code], None

    def floe(pipeline, n):
        e = dict(env)
        # A fresh catalog per run: every run commits the same object version as a new table.
        e["FLOE_CATALOG_URI"] = f"sqlite://{WORK}/catalog-scaling-{tag}-{n}.db"
        e["FLOE_WAREHOUSE"] = f"s3://floe-warehouse/bench-scaling-{tag}-{n}"
        if pipeline is not None:
            e["FLOE_WRITE_PIPELINE"] = pipeline
        return [args.floe, "ingest", f"s3://floe-landing/{key}"], e

    cases = [
        ("DuckDB threads=1", "0", lambda n: duckdb(1)),
        ("DuckDB threads=2", "0,1", lambda n: duckdb(2)),
        ("Floe, 1 core (pipeline auto = off)", "0", lambda n: floe(None, n)),
        ("Floe, 2 cores, pipeline off", "0,1", lambda n: floe("off", n)),
        ("Floe, 2 cores, pipeline on (auto)", "0,1", lambda n: floe(None, n)),
    ]
    run_no = itertools.count(1)

    def timed(cores, make):
        def run():
            cmd, e = make(next(run_no))
            return measure(cmd, env=e, cores=cores)
        return run

    m = median_of_rounds({name: timed(cores, make) for name, cores, make in cases}, args.runs)
    secs = {name: r["runs"] for name, r in m.items()}
    rss = {name: r["rss_runs"] for name, r in m.items()}
    med = {name: r["secs"] for name, r in m.items()}
    lines = [f"Scaling benchmark {tag}: CSV {mb:.0f} MB -> Parquet zstd (Floe: S3 -> S3 + commit, unpartitioned; DuckDB: local -> local), median of {args.runs}",
             "", "| case | cores | seconds (runs) | MB/s | peak RSS MiB | vs DuckDB same cores | vs same tool 1 core |", "|---|---:|---|---:|---:|---:|---:|"]
    for name, cores, _ in cases:
        ncores = len(cores.split(","))
        duck = med[f"DuckDB threads={ncores}"]
        one = med["DuckDB threads=1"] if name.startswith("DuckDB") else med["Floe, 1 core (pipeline auto = off)"]
        runs = ", ".join(f"{s:.2f}" for s in secs[name])
        lines.append(f"| {name} | {ncores} | {med[name]:.2f} ({runs}) | {mb / med[name]:.1f} | {max(rss[name]):.0f} | {duck / med[name]:.2f} | {one / med[name]:.2f} |")
    save_results("scaling", "\n".join(lines), dict(tag=tag, mb=mb, secs=secs, rss_mib=rss))


if __name__ == "__main__":
    main()
