#!/usr/bin/env python3
"""Floe compaction benchmark: a table of N small data files (default 200 x ~1 MB) rewritten into
target-size files by `floe maintain` (the compact function's code, in-process), on one core
(taskset -c 0), against the same files read and written once by pyarrow (S3 -> S3, zstd) in the
same run. Throughput is MB of input data files per second; peak RSS from wait4.

Baselines in the same run: DuckDB threads=1 reading the same files from the S3 server (httpfs) and
writing there (like for like), DuckDB threads=1 on local copies (the limit: no network), and pyarrow
(S3 -> S3). Results: printed as a markdown table and written to
bench/results/compact.{md,json} (compact-<rows>.{md,json} for a non-default --rows-per-file).
"""
import argparse, json, os, subprocess, sys, time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench import WORK, floe_env, gen, measure, save_results  # noqa: E402


LIST = """
import json, os, sys
import pyarrow.fs as fs
s3 = fs.S3FileSystem(access_key=os.environ["AWS_ACCESS_KEY_ID"], secret_key=os.environ["AWS_SECRET_ACCESS_KEY"],
                     endpoint_override=os.environ["AWS_ENDPOINT_URL"].split("://", 1)[1], scheme="http",
                     region=os.environ.get("AWS_REGION", "us-east-1"))
infos = s3.get_file_info(fs.FileSelector(sys.argv[1], recursive=True))
print(json.dumps(sorted((f.path, f.size) for f in infos if f.path.endswith(".parquet"))), flush=True)
os._exit(0)
"""


def data_files(prefix):
    out = subprocess.run([sys.executable, "-c", LIST, prefix], check=True, capture_output=True, text=True).stdout
    return [tuple(x) for x in json.loads(out)]


PYARROW_REWRITE = """
import json, os, sys
import pyarrow.fs as fs, pyarrow.parquet as pq
files, out = json.load(open(sys.argv[1])), sys.argv[2]
s3 = fs.S3FileSystem(access_key=os.environ["AWS_ACCESS_KEY_ID"], secret_key=os.environ["AWS_SECRET_ACCESS_KEY"],
                     endpoint_override=os.environ["AWS_ENDPOINT_URL"].split("://", 1)[1], scheme="http",
                     region=os.environ.get("AWS_REGION", "us-east-1"))
w = None
for f in files:
    for b in pq.ParquetFile(s3.open_input_file(f)).iter_batches(batch_size=65536, use_threads=False):
        if w is None:
            w = pq.ParquetWriter(s3.open_output_stream(out), b.schema, compression="zstd")
        w.write_batch(b)
w.close()
# The output stream is closed (upload complete); skip interpreter teardown, where the AWS SDK's
# S3 finalizer has been seen to hang on one core.
os._exit(0)
"""


DOWNLOAD = """
import json, os, sys
import pyarrow.fs as fs
s3 = fs.S3FileSystem(access_key=os.environ["AWS_ACCESS_KEY_ID"], secret_key=os.environ["AWS_SECRET_ACCESS_KEY"],
                     endpoint_override=os.environ["AWS_ENDPOINT_URL"].split("://", 1)[1], scheme="http",
                     region=os.environ.get("AWS_REGION", "us-east-1"))
files, out = json.load(open(sys.argv[1])), sys.argv[2]
os.makedirs(out, exist_ok=True)
for i, f in enumerate(files):
    fs.copy_files(f, os.path.join(out, f"{i:04}.parquet"), source_filesystem=s3)
os._exit(0)
"""

DUCKDB_REWRITE = """
import duckdb, sys
c = duckdb.connect()
c.execute("SET threads=1")
order = f" ORDER BY {sys.argv[3]}" if len(sys.argv) > 3 else ""
c.execute(f"COPY (SELECT * FROM read_parquet('{sys.argv[1]}/*.parquet'){order}) TO '{sys.argv[2]}' (FORMAT parquet, COMPRESSION zstd)")
"""

# The like-for-like baseline: DuckDB reads the same files from the S3 server (httpfs, the
# offline extension wheel) and writes its output there, as Floe does.
DUCKDB_S3_REWRITE = """
import duckdb, duckdb_ext, json, os, sys
from urllib.parse import urlparse
ext_dir = os.path.join(os.path.dirname(duckdb_ext.__path__[0]), "duckdb_ext", "extensions")
c = duckdb.connect()
c.execute(f"SET extension_directory='{ext_dir}'")
c.execute("LOAD httpfs")
c.execute("SET threads=1")
ep = urlparse(os.environ["AWS_ENDPOINT_URL"])
c.execute("CREATE SECRET (TYPE s3, KEY_ID ?, SECRET ?, REGION ?, ENDPOINT ?, URL_STYLE 'path', USE_SSL ?)",
          [os.environ["AWS_ACCESS_KEY_ID"], os.environ["AWS_SECRET_ACCESS_KEY"], os.environ.get("AWS_REGION", "us-east-1"),
           ep.netloc, ep.scheme == "https"])
files = ["s3://" + f for f in json.load(open(sys.argv[1]))]
order = f" ORDER BY {sys.argv[3]}" if len(sys.argv) > 3 else ""
c.execute(f"COPY (SELECT * FROM read_parquet({files!r}){order}) TO 's3://{sys.argv[2]}' (FORMAT parquet, COMPRESSION zstd)")
os._exit(0)
"""


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--floe", required=True)
    ap.add_argument("--files", type=int, default=200)
    ap.add_argument("--rows-per-file", type=int, default=50_000, help="~1 MB of Parquet each")
    ap.add_argument("--reuse", help="tag of an earlier run whose uncompacted table to reuse")
    ap.add_argument("--sort-order", help="sort compaction by this order (e.g. 'country, order_ts DESC'); "
                    "DuckDB's baselines then ORDER BY the same columns")
    args = ap.parse_args()
    os.makedirs(WORK, exist_ok=True)
    tag = args.reuse or time.strftime("%Y%m%d%H%M%S") + "-c"
    env = floe_env(tag)
    if not args.reuse:
        csv = os.path.join(WORK, f"orders-{args.rows_per_file}.csv")
        gen(args.floe, args.rows_per_file, csv)
        print(f"== loading {args.files} objects of {args.rows_per_file} rows into demo.orders_flat ({tag})")
        urls = []
        for i in range(args.files):
            url = f"s3://floe-landing/orders-flat/compact/{tag}/part-{i:04}.csv"
            subprocess.run([args.floe, "put", csv, url], check=True, env=env, stdout=subprocess.DEVNULL)
            urls.append(url)
        subprocess.run([args.floe, "ingest", *urls], check=True, env=env, stdout=subprocess.DEVNULL)
    prefix = f"floe-warehouse/bench-{tag}/demo/orders_flat/data"
    files = data_files(prefix)
    assert len(files) == args.files, f"expected {args.files} data files, found {len(files)}"
    mb = sum(s for _, s in files) / 1e6
    rows_total = args.files * args.rows_per_file
    print(f"== {len(files)} data files, {mb:.0f} MB, {rows_total} rows")

    listing = os.path.join(WORK, f"files-{tag}.json")
    json.dump([p for p, _ in files], open(listing, "w"))
    out = f"floe-warehouse/bench-{tag}-pyarrow/compacted.parquet"
    p_secs, p_rss = (None, None)
    if not args.sort_order:  # pyarrow has no streaming sort: no baseline for sort compaction
        p_secs, p_rss, _ = measure([sys.executable, "-c", PYARROW_REWRITE, listing, out])

    local = os.path.join(WORK, f"files-{tag}")
    subprocess.run([sys.executable, "-c", DOWNLOAD, listing, local], check=True)
    order = [args.sort_order] if args.sort_order else []
    d_secs, d_rss, _ = measure([sys.executable, "-c", DUCKDB_REWRITE, local, os.path.join(WORK, f"duckdb-{tag}.parquet"), *order])
    s3_out = f"floe-warehouse/bench-{tag}-duckdb/compacted.parquet"
    ds_secs, ds_rss, _ = measure([sys.executable, "-c", DUCKDB_S3_REWRITE, listing, s3_out, *order])

    rewrite = {"strategy": "sort", "sort-order": args.sort_order, "rewrite-all": True} if args.sort_order else {}
    request = json.dumps({"tables": ["demo.orders_flat"], "actions": ["rewrite_data_files"], "rewrite": rewrite})
    f_secs, f_rss, log = measure([args.floe, "maintain", request], env=env)
    report = json.loads([l for l in log.splitlines() if l.startswith('{"tables"')][-1])
    r = report["tables"][0]["rewrite"]
    assert r["files_in"] == args.files and r["rows"] == rows_total, r
    after = data_files(prefix)
    rows = [
        dict(tool="DuckDB 1.4.4 threads=1: COPY read_parquet -> one file (S3 -> S3 via httpfs, zstd)", secs=ds_secs, mb_s=mb / ds_secs, rss_mib=ds_rss, files_out=1),
        dict(tool="DuckDB 1.4.4 threads=1: COPY read_parquet -> one file (local -> local, zstd: the limit)", secs=d_secs, mb_s=mb / d_secs, rss_mib=d_rss, files_out=1),
        dict(tool="pyarrow: read all files, write one (S3 -> S3, zstd, use_threads=False)", secs=p_secs, mb_s=mb / p_secs if p_secs else 0, rss_mib=p_rss, files_out=1),
        dict(tool=f"Floe rewrite_data_files: plan + rewrite + replace commit ({r['groups_committed']} group(s))", secs=f_secs, mb_s=mb / f_secs, rss_mib=f_rss, files_out=r["files_out"]),
    ]
    rows = [x for x in rows if x["secs"]]
    if args.sort_order:
        for x in rows:
            x["tool"] = x["tool"].replace("COPY read_parquet", f"COPY (read_parquet ORDER BY {args.sort_order})")
        rows[-1]["tool"] = f"Floe rewrite_data_files strategy=sort ({args.sort_order}; {r.get('sort_runs_spilled', 0)} runs spilled)"
    floe_mb_s = rows[-1]["mb_s"]
    lines = [
        f"Compaction benchmark {tag} (one core: taskset -c 0; {args.files} files, {mb:.0f} MB, {rows_total} rows)",
        "",
        "| tool | seconds | MB/s | rows/s | peak RSS MiB | files out | Floe MB/s ÷ this |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for x in rows:
        lines.append(f"| {x['tool']} | {x['secs']:.2f} | {x['mb_s']:.1f} | {rows_total / x['secs']:.0f} | {x['rss_mib']:.0f} | {x['files_out']} | {floe_mb_s / x['mb_s']:.2f} |")
    name = "compact" if args.rows_per_file == 50_000 else f"compact-{args.rows_per_file}"
    if args.sort_order:
        name += "-sort"
    save_results(name, "\n".join(lines), dict(tag=tag, files=args.files, mb=mb, rows=rows_total, results=rows, report=r))
    print(f"(data files in the table's data/ folder after compaction, incl. the replaced ones until expiry: {len(after)})")


if __name__ == "__main__":
    main()
