#!/usr/bin/env python3
"""Floe ingest benchmark: throughput (MB/s of input) and peak RSS on one core (taskset -c 0), with
baselines measured in the same run on the same CSV: DuckDB (threads=1) and pyarrow converting it
to Parquet (zstd). Floe's figure is the whole in-process pipeline against the local S3 server:
GET + decode + conform + partitioned Parquet write + PUT + Iceberg commit.

Results: printed as a markdown table and written to bench/results/ingest.{md,json}.
"""
import argparse, json, os, subprocess, sys, time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
WORK = os.environ.get("FLOE_BENCH_WORK", os.path.join(ROOT, ".floe", "bench"))
RESULTS = os.path.join(ROOT, "bench", "results")


def save_results(name, text, data):
    """Prints a result table and writes it to bench/results/<name>.md, with `data` as <name>.json."""
    print(text)
    os.makedirs(RESULTS, exist_ok=True)
    with open(os.path.join(RESULTS, f"{name}.md"), "w") as f:
        f.write(text + "\n")
    with open(os.path.join(RESULTS, f"{name}.json"), "w") as f:
        json.dump(data, f, indent=2)


def measure(cmd, env=None, cores="0"):
    """Runs `cmd` pinned to `cores` (taskset); seconds, peak RSS (MiB, wait4 of the exact child), output."""
    full = ["taskset", "-c", cores] + cmd
    start = time.perf_counter()
    pid = os.fork()
    if pid == 0:
        try:
            devnull = os.open(os.devnull, os.O_WRONLY)
            log = os.open(os.path.join(WORK, "last-run.log"), os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
            os.dup2(log, 1)
            os.dup2(log, 2)
            os.execvpe(full[0], full, env or os.environ)
        finally:
            os._exit(127)
    _, status, usage = os.wait4(pid, 0)
    secs = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        with open(os.path.join(WORK, "last-run.log")) as f:
            sys.exit(f"command failed: {' '.join(cmd)}\n{f.read()[-3000:]}")
    with open(os.path.join(WORK, "last-run.log")) as f:
        out = f.read()
    return secs, usage.ru_maxrss / 1024.0, out


def bench_specs():
    """tables/orders.toml (day-partitioned) plus an unpartitioned copy routed from orders-flat/."""
    d = os.path.join(WORK, "tables")
    os.makedirs(d, exist_ok=True)
    src = open(os.path.join(ROOT, "tables", "orders.toml")).read()
    open(os.path.join(d, "orders.toml"), "w").write(src)
    flat = src.replace('name = "orders"', 'name = "orders_flat"').replace('prefixes = ["orders/"]', 'prefixes = ["orders-flat/"]')
    flat = flat.replace('[[partition]]\ncolumn = "order_ts"\ntransform = "day"\n', "")
    # The format comes from the extension, so the same table takes the JSON-lines and Parquet inputs.
    flat = flat.replace('format = "csv"\n', "")
    assert "[[partition]]" not in flat
    open(os.path.join(d, "orders_flat.toml"), "w").write(flat)
    return d


def floe_env(tag):
    env = dict(os.environ)
    env["FLOE_CATALOG_URI"] = f"sqlite://{WORK}/catalog-{tag}.db"
    env["FLOE_WAREHOUSE"] = f"s3://floe-warehouse/bench-{tag}"
    env["FLOE_TABLE_SPECS"] = bench_specs()
    env["FLOE_LOG_LEVEL"] = "warn"
    return env


def gen(floe, rows, path, kind="csv"):
    if not os.path.exists(path):
        subprocess.run([floe, "gen", kind, "--rows", str(rows), "--out", path], check=True)
    return os.path.getsize(path)


def floe_ingest(floe, csv, tag, prefix="orders"):
    key = f"{prefix}/bench/{tag}/{os.path.basename(csv)}"
    subprocess.run([floe, "put", csv, f"s3://floe-landing/{key}"], check=True, env=floe_env(tag), stdout=subprocess.DEVNULL)
    secs, rss, out = measure([floe, "ingest", f"s3://floe-landing/{key}"], env=floe_env(tag))
    report = json.loads([l for l in out.splitlines() if l.startswith("{")][-1])
    assert report["status"] == "committed", report
    return secs, rss, report


PYICEBERG_APPEND = """
import os, sys
import pyarrow.csv as pc
from pyiceberg.catalog.sql import SqlCatalog
csv, db, warehouse = sys.argv[1:4]
catalog = SqlCatalog("bench", uri=f"sqlite:///{db}", warehouse=warehouse, **{
    "s3.endpoint": os.environ["AWS_ENDPOINT_URL"], "s3.access-key-id": os.environ["AWS_ACCESS_KEY_ID"],
    "s3.secret-access-key": os.environ["AWS_SECRET_ACCESS_KEY"], "s3.region": os.environ.get("AWS_REGION", "us-east-1"),
    "s3.path-style-access": "true"})
catalog.create_namespace_if_not_exists("bench")
data = pc.read_csv(csv, read_options=pc.ReadOptions(use_threads=False, block_size=8 << 20))
table = catalog.create_table("bench.orders", schema=data.schema)
table.append(data)
os._exit(0)
"""


def pyiceberg_baseline(csv, tag):
    """pyiceberg 0.12 appending the same CSV (read by pyarrow) to an Iceberg table on the same S3."""
    python = os.path.expanduser(os.environ.get("FLOE_PYICEBERG_PYTHON", "~/.cache/floe-pyiceberg/bin/python"))
    if not os.path.exists(python):
        return None
    db = os.path.join(WORK, f"pyiceberg-{tag}.db")
    secs, rss, _ = measure([python, "-c", PYICEBERG_APPEND, csv, db, f"s3://floe-warehouse/bench-{tag}-pyiceberg"])
    return secs, rss


def duckdb_baseline(csv):
    out = os.path.join(WORK, "duckdb.parquet")
    code = (
        "import duckdb; c = duckdb.connect(); c.execute('SET threads=1');"
        f"c.execute(\"COPY (SELECT * FROM read_csv('{csv}')) TO '{out}' (FORMAT parquet, COMPRESSION zstd)\")"
    )
    secs, rss, _ = measure([sys.executable, "-c", code])
    return secs, rss


def pyarrow_baseline(csv):
    out = os.path.join(WORK, "pyarrow.parquet")
    code = (
        "import pyarrow as pa, pyarrow.csv as pc, pyarrow.parquet as pq\n"
        f"r = pc.open_csv('{csv}', read_options=pc.ReadOptions(use_threads=False, block_size=8<<20))\n"
        f"w = pq.ParquetWriter('{out}', r.schema, compression='zstd')\n"
        "for b in r: w.write_batch(b)\n"
        "w.close()\n"
    )
    secs, rss, _ = measure([sys.executable, "-c", code], env=dict(os.environ, OMP_NUM_THREADS="1"))
    return secs, rss


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--floe", required=True)
    ap.add_argument("--rows", type=int, default=2_000_000, help="rows of the ~200 MB CSV")
    ap.add_argument("--big-rows", type=int, default=10_000_000, help="rows of the ~1 GB CSV (0 to skip)")
    args = ap.parse_args()
    os.makedirs(WORK, exist_ok=True)
    tag = time.strftime("%Y%m%d%H%M%S")
    rows = []

    csv = os.path.join(WORK, f"orders-{args.rows}.csv")
    size = gen(args.floe, args.rows, csv)
    mb = size / 1e6
    print(f"== {csv}: {mb:.0f} MB, {args.rows} rows")
    d_secs, d_rss = duckdb_baseline(csv)
    p_secs, p_rss = pyarrow_baseline(csv)
    pi = pyiceberg_baseline(csv, tag)
    u_secs, u_rss, urep = floe_ingest(args.floe, csv, tag + "-u", prefix="orders-flat")
    f_secs, f_rss, rep = floe_ingest(args.floe, csv, tag + "-a")
    rows.append(dict(nrows=args.rows, case=f"CSV {mb:.0f} MB -> Parquet zstd", tool="DuckDB 1.4.4 threads=1 (local file -> local file)", secs=d_secs, mb_s=mb / d_secs, rss_mib=d_rss))
    rows.append(dict(nrows=args.rows, case=f"CSV {mb:.0f} MB -> Parquet zstd", tool="pyarrow streaming, use_threads=False (local -> local)", secs=p_secs, mb_s=mb / p_secs, rss_mib=p_rss))
    if pi:
        rows.append(dict(nrows=args.rows, case=f"CSV {mb:.0f} MB -> Iceberg", tool="pyiceberg 0.12 append (pyarrow CSV read, local -> S3 + commit)", secs=pi[0], mb_s=mb / pi[0], rss_mib=pi[1]))
    rows.append(dict(nrows=args.rows, case=f"CSV {mb:.0f} MB -> Iceberg", tool=f"Floe ingest, unpartitioned, S3 -> S3 + commit, {urep['files']} file(s)", secs=u_secs, mb_s=mb / u_secs, rss_mib=u_rss))
    rows.append(dict(nrows=args.rows, case=f"CSV {mb:.0f} MB -> Iceberg", tool=f"Floe ingest, day-partitioned, S3 -> S3 + commit, {rep['files']} files", secs=f_secs, mb_s=mb / f_secs, rss_mib=f_rss))

    if args.big_rows:
        big = os.path.join(WORK, f"orders-{args.big_rows}.csv")
        bsize = gen(args.floe, args.big_rows, big)
        bmb = bsize / 1e6
        print(f"== {big}: {bmb:.0f} MB, {args.big_rows} rows")
        for prefix, label, t in (("orders-flat", "unpartitioned", "-bu"), ("orders", "day-partitioned", "-b")):
            b_secs, b_rss, brep = floe_ingest(args.floe, big, tag + t, prefix=prefix)
            rows.append(dict(nrows=args.big_rows, case=f"CSV {bmb:.0f} MB -> Iceberg", tool=f"Floe ingest, {label}, {brep['files']} files", secs=b_secs, mb_s=bmb / b_secs, rss_mib=b_rss))

    for kind, ext in (("jsonl", "jsonl"), ("parquet", "parquet")):
        path = os.path.join(WORK, f"orders-{args.rows}.{ext}")
        ksize = gen(args.floe, args.rows, path, kind) / 1e6
        k_secs, k_rss, krep = floe_ingest(args.floe, path, tag + f"-{kind}", prefix="orders-flat")
        rows.append(dict(nrows=args.rows, case=f"{kind} {ksize:.0f} MB -> Iceberg", tool=f"Floe ingest, unpartitioned, {krep['files']} file(s)", secs=k_secs, mb_s=ksize / k_secs, rss_mib=k_rss))

    floe_mb_s = next(r["mb_s"] for r in rows if r["tool"].startswith("Floe ingest, unpartitioned"))  # like-for-like with the baselines
    lines = [
        f"Ingest benchmark {tag} (one core: taskset -c 0; SeaweedFS on the other core)",
        "",
        "| case | tool | seconds | MB/s | peak RSS MiB | Floe MB/s ÷ this |",
        "|---|---|---:|---:|---:|---:|",
    ]
    for r in rows:
        lines.append(f"| {r['case']} | {r['tool']} | {r['secs']:.2f} | {r['mb_s']:.1f} | {r['rss_mib']:.0f} | {floe_mb_s / r['mb_s']:.2f} |")
    save_results("ingest", "\n".join(lines), dict(tag=tag, rows=rows))


if __name__ == "__main__":
    main()
