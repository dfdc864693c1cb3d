#!/usr/bin/env python3
"""Backfill benchmark: 1,000 objects of ~100 KB CSV already under a prefix, adopted with
`floe backfill` (one core: taskset -c 0; batches of 500 objects, 8 at once), against a baseline
in the same run on the same files: pyiceberg 0.12 appending them (pyarrow CSV reads from local
copies, one append of all of them: pyiceberg's best case, one snapshot).

Results: printed as a markdown table and written to bench/results/backfill.{md,json}.
"""
import argparse, json, os, subprocess, sys, time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench import WORK, bench_specs, gen, measure, save_results  # noqa: E402

PYICEBERG_APPEND_MANY = """
import glob, os, sys
import pyarrow as pa, pyarrow.csv as pc
from pyiceberg.catalog.sql import SqlCatalog
folder, db, warehouse = sys.argv[1:4]
catalog = SqlCatalog("bench", uri=f"sqlite:///{db}", warehouse=warehouse, **{
    "s3.endpoint": os.environ["AWS_ENDPOINT_URL"], "s3.access-key-id": os.environ["AWS_ACCESS_KEY_ID"],
    "s3.secret-access-key": os.environ["AWS_SECRET_ACCESS_KEY"], "s3.region": os.environ.get("AWS_REGION", "us-east-1"),
    "s3.path-style-access": "true"})
catalog.create_namespace_if_not_exists("bench")
tables = [pc.read_csv(p, read_options=pc.ReadOptions(use_threads=False)) for p in sorted(glob.glob(folder + "/*.csv"))]
data = pa.concat_tables(tables)
table = catalog.create_table("bench.backfill", schema=data.schema)
table.append(data)
os._exit(0)
"""


def upload(folder, prefix, count):
    """Uploads `count` copies of the one local object under distinct keys (pyarrow's S3 client)."""
    import pyarrow.fs as fs
    from urllib.parse import urlparse
    ep = urlparse(os.environ["AWS_ENDPOINT_URL"])
    s3 = fs.S3FileSystem(access_key=os.environ["AWS_ACCESS_KEY_ID"], secret_key=os.environ["AWS_SECRET_ACCESS_KEY"],
                         endpoint_override=ep.netloc, scheme=ep.scheme, region=os.environ.get("AWS_REGION", "us-east-1"))
    src = os.path.join(folder, "000.csv")
    data = open(src, "rb").read()
    for i in range(count):
        with s3.open_output_stream(f"floe-landing/{prefix}{i:05d}.csv") as out:
            out.write(data)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--floe", required=True)
    ap.add_argument("--objects", type=int, default=1000)
    ap.add_argument("--rows", type=int, default=1000, help="rows per object (~100 KB of CSV)")
    args = ap.parse_args()
    tag = time.strftime("%Y%m%d%H%M%S")
    folder = os.path.join(WORK, f"backfill-{args.rows}")
    os.makedirs(folder, exist_ok=True)
    size = gen(args.floe, args.rows, os.path.join(folder, "000.csv"))
    for i in range(1, args.objects):  # local copies for the baseline
        dst = os.path.join(folder, f"{i:03d}.csv")
        if not os.path.exists(dst):
            os.link(os.path.join(folder, "000.csv"), dst)
    mb = size * args.objects / 1e6
    prefix = f"orders-flat/backfill/{tag}/"
    upload(folder, prefix, args.objects)
    env = dict(os.environ)
    env["FLOE_CATALOG_URI"] = f"sqlite://{WORK}/catalog-backfill-{tag}.db"
    env["FLOE_WAREHOUSE"] = f"s3://floe-warehouse/bench-backfill-{tag}"
    env["FLOE_TABLE_SPECS"] = bench_specs()
    env["FLOE_LOG_LEVEL"] = "warn"
    f_secs, f_rss, out = measure([args.floe, "backfill", f"s3://floe-landing/{prefix}", "--batch", "500", "--concurrency", "8"], env=env)
    report = json.loads(out[out.index("{"):])
    t = report["tables"]["demo.orders_flat"]
    assert t["objects"] == args.objects and t["rows"] == args.objects * args.rows, t
    rows = [dict(case=f"{args.objects} x {size/1e3:.0f} KB CSV -> Iceberg", tool=f"floe backfill (S3 -> S3, {t['snapshots']} snapshot(s))",
                 secs=f_secs, rss_mib=f_rss)]
    python = os.path.expanduser(os.environ.get("FLOE_PYICEBERG_PYTHON", "~/.cache/floe-pyiceberg/bin/python"))
    if os.path.exists(python):
        p_secs, p_rss, _ = measure([python, "-c", PYICEBERG_APPEND_MANY, folder, os.path.join(WORK, f"pyiceberg-backfill-{tag}.db"),
                                    f"s3://floe-warehouse/bench-backfill-{tag}-pyiceberg"])
        rows.append(dict(case=rows[0]["case"], tool="pyiceberg 0.12: read the local copies, one append (1 snapshot)", secs=p_secs, rss_mib=p_rss))
    lines = [f"Backfill benchmark {tag} (one core: taskset -c 0)", "",
             "| case | tool | seconds | objects/s | MB/s | peak RSS MiB | this ÷ Floe (seconds) |", "|---|---|---:|---:|---:|---:|---:|"]
    for r in rows:
        lines.append(f"| {r['case']} | {r['tool']} | {r['secs']:.2f} | {args.objects / r['secs']:.0f} | {mb / r['secs']:.1f} | {r['rss_mib']:.0f} | {r['secs'] / f_secs:.2f} |")
    save_results("backfill", "\n".join(lines), dict(tag=tag, objects=args.objects, rows=rows))


if __name__ == "__main__":
    main()
