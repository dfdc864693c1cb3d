#!/usr/bin/env python3
"""Floe ingest benchmark: throughput (MB/s of input) and peak RSS on one core (taskset -c 0), with
baselines measured in the same run on the same CSV: DuckDB (threads=1) and pyarrow converting it
to Parquet (zstd). Floe's figure is the whole in-process pipeline against the local S3 server:
GET + decode + conform + partitioned Parquet write + PUT + Iceberg commit.

Results: printed as a markdown table and written to bench/results/ingest.{md,json}.
"""
import argparse, itertools, json, os, statistics, subprocess, sys, time

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


def pyiceberg_python():
    """The python of pyiceberg's venv (`make test` installs it), None when it is not there."""
    python = os.path.expanduser(os.environ.get("FLOE_PYICEBERG_PYTHON", "~/.cache/floe-pyiceberg/bin/python"))
    return python if os.path.exists(python) else None


def pyiceberg_baseline(python, csv, tag):
    """pyiceberg 0.12 appending the same CSV (read by pyarrow) to an Iceberg table on the same S3."""
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


def median_of_rounds(cases, runs):
    """Runs every case of `cases` (name -> fn() returning (seconds, peak RSS MiB, extra)) once per
    round, the cases alternating within a round, `runs` rounds: a slow spell of this noisy machine
    (a single run can be 1.5x off) then falls on every case, not on one. Per case: the median
    seconds, the largest peak RSS, and each round's seconds, RSS and extra."""
    done = {name: [] for name in cases}
    for _ in range(runs):
        for name, fn in cases.items():
            done[name].append(fn())
    return {name: dict(secs=statistics.median(r[0] for r in rs), runs=[r[0] for r in rs],
                       rss_runs=[r[1] for r in rs], rss_mib=max(r[1] for r in rs), extras=[r[2] for r in rs])
            for name, rs in done.items()}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--floe", required=True)
    ap.add_argument("--rows", type=int, default=2_000_000, help="rows of the ~200 MB CSV")
    ap.add_argument("--big-rows", type=int, default=10_000_000, help="rows of the ~1 GB CSV (0 to skip)")
    ap.add_argument("--runs", type=int, default=3, help="alternating rounds of the ~200 MB cases (median)")
    args = ap.parse_args()
    os.makedirs(WORK, exist_ok=True)
    tag = time.strftime("%Y%m%d%H%M%S")
    rows = []

    csv = os.path.join(WORK, f"orders-{args.rows}.csv")
    size = gen(args.floe, args.rows, csv)
    mb = size / 1e6
    inputs = {}
    for kind in ("jsonl", "parquet"):
        path = os.path.join(WORK, f"orders-{args.rows}.{kind}")
        inputs[kind] = (path, gen(args.floe, args.rows, path, kind) / 1e6)
    print(f"== {csv}: {mb:.0f} MB, {args.rows} rows; {args.runs} alternating round(s), median")
    round_no = itertools.count()

    def floe_case(path, t, prefix):
        return lambda: floe_ingest(args.floe, path, f"{tag}{t}-{next(round_no)}", prefix=prefix)

    def with_none(fn):
        return lambda: (*fn(), None)

    cases = {
        "duckdb": with_none(lambda: duckdb_baseline(csv)),
        "pyarrow": with_none(lambda: pyarrow_baseline(csv)),
        "u": floe_case(csv, "-u", "orders-flat"),
        "a": floe_case(csv, "-a", "orders"),
        "jsonl": floe_case(inputs["jsonl"][0], "-jsonl", "orders-flat"),
        "parquet": floe_case(inputs["parquet"][0], "-parquet", "orders-flat"),
    }
    python = pyiceberg_python()
    if python:
        cases["pyiceberg"] = with_none(lambda: pyiceberg_baseline(python, csv, f"{tag}-{next(round_no)}"))
    m = median_of_rounds(cases, args.runs)

    def add(name, case, tool, nrows=args.rows, size_mb=mb):
        r = m[name]
        rows.append(dict(nrows=nrows, case=case, tool=tool, secs=r["secs"], runs=r["runs"], mb_s=size_mb / r["secs"], rss_mib=r["rss_mib"]))

    add("duckdb", f"CSV {mb:.0f} MB -> Parquet zstd", "DuckDB 1.4.4 threads=1 (local file -> local file)")
    add("pyarrow", f"CSV {mb:.0f} MB -> Parquet zstd", "pyarrow streaming, use_threads=False (local -> local)")
    if "pyiceberg" in m:
        add("pyiceberg", f"CSV {mb:.0f} MB -> Iceberg", "pyiceberg 0.12 append (pyarrow CSV read, local -> S3 + commit)")
    add("u", f"CSV {mb:.0f} MB -> Iceberg", f"Floe ingest, unpartitioned, S3 -> S3 + commit, {m['u']['extras'][-1]['files']} file(s)")
    add("a", f"CSV {mb:.0f} MB -> Iceberg", f"Floe ingest, day-partitioned, S3 -> S3 + commit, {m['a']['extras'][-1]['files']} files")

    if args.big_rows:
        big = os.path.join(WORK, f"orders-{args.big_rows}.csv")
        bsize = gen(args.floe, args.big_rows, big)
        bmb = bsize / 1e6
        print(f"== {big}: {bmb:.0f} MB, {args.big_rows} rows")
        for prefix, label, t in (("orders-flat", "unpartitioned", "-bu"), ("orders", "day-partitioned", "-b")):
            b_secs, b_rss, brep = floe_ingest(args.floe, big, tag + t, prefix=prefix)
            rows.append(dict(nrows=args.big_rows, case=f"CSV {bmb:.0f} MB -> Iceberg", tool=f"Floe ingest, {label}, {brep['files']} files", secs=b_secs, mb_s=bmb / b_secs, rss_mib=b_rss))

    for kind in ("jsonl", "parquet"):
        ksize = inputs[kind][1]
        add(kind, f"{kind} {ksize:.0f} MB -> Iceberg", f"Floe ingest, unpartitioned, {m[kind]['extras'][-1]['files']} file(s)", size_mb=ksize)

    floe_mb_s = next(r["mb_s"] for r in rows if r["tool"].startswith("Floe ingest, unpartitioned"))  # like-for-like with the baselines
    lines = [
        f"Ingest benchmark {tag} (one core: taskset -c 0; SeaweedFS on the other core; "
        f"{mb:.0f} MB cases: median of {args.runs} alternating rounds, peak RSS the max; the 1 GB CSV: one run)",
        "",
        "| case | tool | seconds (runs) | MB/s | peak RSS MiB | Floe MB/s ÷ this |",
        "|---|---|---|---:|---:|---:|",
    ]
    for r in rows:
        runs = f" ({', '.join(f'{x:.2f}' for x in r['runs'])})" if len(r.get("runs", [])) > 1 else ""
        lines.append(f"| {r['case']} | {r['tool']} | {r['secs']:.2f}{runs} | {r['mb_s']:.1f} | {r['rss_mib']:.0f} | {floe_mb_s / r['mb_s']:.2f} |")
    save_results("ingest", "\n".join(lines), dict(tag=tag, rows=rows))


if __name__ == "__main__":
    main()
