#!/usr/bin/env python3
"""Register-in-place benchmark: 1,000 Parquet objects of ~100 KB (written by pyarrow, no field ids)
already under a prefix, adopted with `floe backfill` into a `mode = "register"` table (footer read,
contract checked from statistics, committed where they lie) — against, in the same run on the same
objects: the same backfill into an ingest-mode table (every row read and rewritten), and pyiceberg
0.12's `add_files` (footer read, no contract; one call, one snapshot). Then commits/s: 100 of the
objects with one snapshot each (`--batch 1`), registered vs rewritten.

Results: printed as a markdown table and written to bench/results/register.{md,json}.
"""
import argparse, json, os, sys, time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench import WORK, measure, save_results  # noqa: E402

SPEC = """name = "{name}"
namespace = "bench"
prefixes = ["{prefix}"]
{mode}
[[columns]]
name = "id"
type = "long"
required = true
[[columns]]
name = "amount"
type = "decimal(12, 2)"
min = "0"
[[columns]]
name = "ts"
type = "timestamptz"
[[columns]]
name = "name"
type = "string"
"""

PYICEBERG_ADD_FILES = """
import os, sys
from pyiceberg.catalog.sql import SqlCatalog
from pyiceberg.schema import Schema
from pyiceberg.types import NestedField, LongType, DecimalType, TimestamptzType, StringType
listing, db, warehouse = sys.argv[1:4]
catalog = SqlCatalog("bench", uri=f"sqlite:///{db}", warehouse=warehouse, **{
    "s3.endpoint": os.environ["AWS_ENDPOINT_URL"], "s3.access-key-id": os.environ["AWS_ACCESS_KEY_ID"],
    "s3.secret-access-key": os.environ["AWS_SECRET_ACCESS_KEY"], "s3.region": os.environ.get("AWS_REGION", "us-east-1"),
    "s3.path-style-access": "true"})
catalog.create_namespace_if_not_exists("bench")
schema = Schema(NestedField(1, "id", LongType(), required=True), NestedField(2, "amount", DecimalType(12, 2)),
                NestedField(3, "ts", TimestamptzType()), NestedField(4, "name", StringType()))
table = catalog.create_table("bench.added", schema=schema)
table.add_files([l.strip() for l in open(listing) if l.strip()])
assert len(table.scan().plan_files()) == sum(1 for l in open(listing) if l.strip())
os._exit(0)
"""


def parquet_object(rows, path):
    import datetime, decimal, random
    import pyarrow as pa, pyarrow.parquet as pq
    rnd = random.Random(7)
    base = datetime.datetime(2024, 3, 1, tzinfo=datetime.timezone.utc)
    schema = pa.schema([pa.field("id", pa.int64(), nullable=False), pa.field("amount", pa.decimal128(12, 2)),
                        pa.field("ts", pa.timestamp("us", tz="UTC")), pa.field("name", pa.string())])
    table = pa.table({
        "id": list(range(rows)),
        "amount": [decimal.Decimal(rnd.randint(0, 10**7)) / 100 for _ in range(rows)],
        "ts": [base + datetime.timedelta(seconds=rnd.randint(0, 86_399)) for _ in range(rows)],
        "name": [f"customer-{rnd.randint(0, 10**6):07d}" for _ in range(rows)],
    }, schema=schema)
    pq.write_table(table, path, compression="zstd")
    return os.path.getsize(path)


def s3fs():
    import pyarrow.fs as fs
    from urllib.parse import urlparse
    ep = urlparse(os.environ["AWS_ENDPOINT_URL"])
    return fs.S3FileSystem(access_key=os.environ["AWS_ACCESS_KEY_ID"], secret_key=os.environ["AWS_SECRET_ACCESS_KEY"],
                           endpoint_override=ep.netloc, scheme=ep.scheme, region=os.environ.get("AWS_REGION", "us-east-1"))


def upload(data, prefix, count):
    s3 = s3fs()
    keys = []
    for i in range(count):
        key = f"floe-landing/{prefix}{i:05d}.parquet"
        with s3.open_output_stream(key) as out:
            out.write(data)
        keys.append(f"s3://{key}")
    return keys


def backfill(floe, env, prefix, batch, table):
    secs, rss, out = measure([floe, "backfill", f"s3://floe-landing/{prefix}", "--batch", str(batch), "--concurrency", "8"], env=env)
    t = json.loads(out[out.index("{"):])["tables"][table]
    return secs, rss, t


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--floe", required=True)
    ap.add_argument("--objects", type=int, default=1000)
    ap.add_argument("--single", type=int, default=100, help="objects committed one snapshot each")
    ap.add_argument("--rows", type=int, default=5000, help="rows per object (~100 KB of zstd Parquet)")
    args = ap.parse_args()
    tag = time.strftime("%Y%m%d%H%M%S")
    os.makedirs(WORK, exist_ok=True)
    local = os.path.join(WORK, f"register-{args.rows}.parquet")
    size = parquet_object(args.rows, local)
    data = open(local, "rb").read()
    specs = os.path.join(WORK, f"register-tables-{tag}")
    os.makedirs(specs)
    for name, mode in [("reg", 'mode = "register"'), ("copy", ""), ("reg1", 'mode = "register"'), ("copy1", "")]:
        open(os.path.join(specs, f"{name}.toml"), "w").write(SPEC.format(name=name, prefix=f"{name}/", mode=mode))
    keys = {}
    for name, n in [("reg", args.objects), ("copy", args.objects), ("reg1", args.single), ("copy1", args.single)]:
        keys[name] = upload(data, f"{name}/{tag}/", n)
    env = dict(os.environ)
    env["FLOE_CATALOG_URI"] = f"sqlite://{WORK}/catalog-register-{tag}.db"
    env["FLOE_WAREHOUSE"] = f"s3://floe-warehouse/bench-register-{tag}"
    env["FLOE_TABLE_SPECS"] = specs
    env["FLOE_DEFAULT_NAMESPACE"] = "bench"
    env["FLOE_LOG_LEVEL"] = "warn"
    mb = size * args.objects / 1e6
    rows = []
    r_secs, r_rss, t = backfill(args.floe, env, f"reg/{tag}/", 500, "bench.reg")
    assert t["objects"] == args.objects and t["rows"] == args.objects * args.rows, t
    assert t["registered"] == args.objects, t
    rows.append(dict(case=f"{args.objects} x {size / 1e3:.0f} KB Parquet", tool=f"floe backfill, mode = register ({t['snapshots']} snapshots)",
                     secs=r_secs, rss_mib=r_rss, objects=args.objects))
    c_secs, c_rss, t = backfill(args.floe, env, f"copy/{tag}/", 500, "bench.copy")
    assert t["rows"] == args.objects * args.rows, t
    rows.append(dict(case=rows[0]["case"], tool=f"floe backfill, ingest mode: rows rewritten ({t['snapshots']} snapshots)",
                     secs=c_secs, rss_mib=c_rss, objects=args.objects))
    python = os.path.expanduser(os.environ.get("FLOE_PYICEBERG_PYTHON", "~/.cache/floe-pyiceberg/bin/python"))
    if os.path.exists(python):
        listing = os.path.join(WORK, f"register-{tag}.txt")
        open(listing, "w").write("\n".join(keys["reg"]))
        p_secs, p_rss, _ = measure([python, "-c", PYICEBERG_ADD_FILES, listing, os.path.join(WORK, f"pyiceberg-register-{tag}.db"),
                                    f"s3://floe-warehouse/bench-register-{tag}-pyiceberg"])
        rows.append(dict(case=rows[0]["case"], tool="pyiceberg 0.12 add_files (no contract, 1 snapshot)", secs=p_secs, rss_mib=p_rss,
                         objects=args.objects))
    s_secs, s_rss, t = backfill(args.floe, env, f"reg1/{tag}/", 1, "bench.reg1")
    assert t["snapshots"] == args.single, t
    rows.append(dict(case=f"{args.single} x {size / 1e3:.0f} KB Parquet, one snapshot each", tool="floe backfill --batch 1, mode = register",
                     secs=s_secs, rss_mib=s_rss, objects=args.single, commits=args.single))
    w_secs, w_rss, t = backfill(args.floe, env, f"copy1/{tag}/", 1, "bench.copy1")
    rows.append(dict(case=rows[-1]["case"], tool="floe backfill --batch 1, ingest mode", secs=w_secs, rss_mib=w_rss,
                     objects=args.single, commits=args.single))
    lines = [f"Register-in-place benchmark {tag} (one core: taskset -c 0)", "",
             "| case | tool | seconds | objects/s | MB/s | commits/s | peak RSS MiB | this ÷ register (seconds) |",
             "|---|---|---:|---:|---:|---:|---:|---:|"]
    for r in rows:
        base = r_secs if "one snapshot" not in r["case"] else s_secs
        commits = f"{r['commits'] / r['secs']:.1f}" if r.get("commits") else ""
        lines.append(f"| {r['case']} | {r['tool']} | {r['secs']:.2f} | {r['objects'] / r['secs']:.0f} | "
                     f"{size * r['objects'] / 1e6 / r['secs']:.1f} | {commits} | {r['rss_mib']:.0f} | {r['secs'] / base:.2f} |")
    save_results("register", "\n".join(lines), dict(tag=tag, objects=args.objects, object_bytes=size, mb=mb, rows=rows))


if __name__ == "__main__":
    main()
