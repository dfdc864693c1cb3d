#!/usr/bin/env python3
"""Nested-data ingest benchmark: nested JSON lines and Avro (deflate) into a nested Iceberg table
(struct in struct, list of structs, map), on one core (taskset -c 0), against baselines run in the
same process on the same files: DuckDB `read_json` (threads=1) and pyarrow's JSON reader turning
the JSON lines into Parquet (zstd), and fastavro reading the Avro file into pyarrow and Parquet.
Floe's figure is the whole pipeline against the local S3 server: GET + decode + per-leaf contract
+ Parquet write + PUT + Iceberg commit.

Results: printed as a markdown table and written to bench/results/nested.{md,json}.
"""
import argparse, json, os, random, sys, time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench import WORK, measure, save_results  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

SPEC = """name = "clicks"
prefixes = ["clicks/"]
[[columns]]
name = "event_id"
type = "long"
required = true
[[columns]]
name = "ts"
type = "timestamptz"
[[columns]]
name = "user"
type = "struct<id: long, country: string, device: struct<os: string, version: string>>"
[[columns]]
name = "page"
type = "string"
[[columns]]
name = "items"
type = "list<struct<sku: string, qty: int, price: double>>"
[[columns]]
name = "attrs"
type = "map<string, string>"
"""

AVRO_SCHEMA = {
    "type": "record", "name": "click", "fields": [
        {"name": "event_id", "type": "long"},
        {"name": "ts", "type": {"type": "long", "logicalType": "timestamp-micros"}},
        {"name": "user", "type": {"type": "record", "name": "user", "fields": [
            {"name": "id", "type": "long"}, {"name": "country", "type": "string"},
            {"name": "device", "type": {"type": "record", "name": "device", "fields": [
                {"name": "os", "type": "string"}, {"name": "version", "type": "string"}]}}]}},
        {"name": "page", "type": "string"},
        {"name": "items", "type": {"type": "array", "items": {"type": "record", "name": "item", "fields": [
            {"name": "sku", "type": "string"}, {"name": "qty", "type": "int"}, {"name": "price", "type": "double"}]}}},
        {"name": "attrs", "type": {"type": "map", "values": "string"}},
    ]}


def records(n):
    rnd = random.Random(42)
    countries = ["DE", "FR", "US", "NL", "SE", "BR", "JP"]
    for i in range(n):
        micros = 1_767_225_600_000_000 + i * 1_000_003
        yield {
            "event_id": i,
            "ts": micros,
            "user": {"id": 1000 + rnd.randrange(50_000), "country": rnd.choice(countries),
                     "device": {"os": rnd.choice(["ios", "android", "web"]), "version": f"{rnd.randrange(1, 9)}.{rnd.randrange(10)}"}},
            "page": rnd.choice(["/", "/search", "/product", "/cart", "/checkout"]),
            "items": [{"sku": f"SKU-{rnd.randrange(5000):05d}", "qty": rnd.randrange(1, 5),
                       "price": round(rnd.uniform(1, 500), 2)} for _ in range(rnd.randrange(4))],
            "attrs": {"campaign": rnd.choice(["winter", "none", "brand"]), "ab": rnd.choice(["a", "b"])},
        }


def iso(micros):
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(micros // 1_000_000)) + f".{micros % 1_000_000:06d}Z"


def make_inputs(n):
    jsonl = os.path.join(WORK, f"clicks-{n}.jsonl")
    avro = os.path.join(WORK, f"clicks-{n}.avro")
    if not os.path.exists(jsonl):
        with open(jsonl, "w") as f:
            for r in records(n):
                f.write(json.dumps(dict(r, ts=iso(r["ts"]))) + "\n")
    if not os.path.exists(avro):
        import fastavro
        with open(avro, "wb") as f:
            fastavro.writer(f, fastavro.parse_schema(AVRO_SCHEMA), records(n), codec="deflate")
    return jsonl, avro


def floe_env(tag):
    d = os.path.join(WORK, "tables-nested")
    os.makedirs(d, exist_ok=True)
    open(os.path.join(d, "clicks.toml"), "w").write(SPEC)
    env = dict(os.environ)
    env["FLOE_CATALOG_URI"] = f"sqlite://{WORK}/catalog-nested-{tag}.db"
    env["FLOE_WAREHOUSE"] = f"s3://floe-warehouse/bench-nested-{tag}"
    env["FLOE_TABLE_SPECS"] = d
    env["FLOE_LOG_LEVEL"] = "warn"
    return env


def floe_ingest(floe, path, tag, records):
    import subprocess
    key = f"clicks/bench/{tag}/{os.path.basename(path)}"
    env = floe_env(tag)
    subprocess.run([floe, "put", path, f"s3://floe-landing/{key}"], check=True, env=env, stdout=subprocess.DEVNULL)
    secs, rss, out = measure([floe, "ingest", f"s3://floe-landing/{key}"], env=env)
    report = json.loads([l for l in out.splitlines() if l.startswith("{")][-1])
    assert report["status"] == "committed" and report["rows_quarantined"] == 0, report
    assert report["rows_written"] == records, report
    return secs, rss, report


def duckdb_json(jsonl):
    out = os.path.join(WORK, "nested-duckdb.parquet")
    code = ("import duckdb; c = duckdb.connect(); c.execute('SET threads=1');"
            f"c.execute(\"COPY (SELECT * FROM read_json('{jsonl}', format='newline_delimited')) TO '{out}' (FORMAT parquet, COMPRESSION zstd)\")")
    return measure([sys.executable, "-c", code])[:2]


def pyarrow_json(jsonl):
    out = os.path.join(WORK, "nested-pyarrow.parquet")
    code = ("import pyarrow.json as pj, pyarrow.parquet as pq\n"
            f"t = pj.read_json('{jsonl}', read_options=pj.ReadOptions(use_threads=False, block_size=8<<20))\n"
            f"pq.write_table(t, '{out}', compression='zstd')\n")
    return measure([sys.executable, "-c", code], env=dict(os.environ, OMP_NUM_THREADS="1"))[:2]


def fastavro_baseline(avro):
    out = os.path.join(WORK, "nested-fastavro.parquet")
    code = ("import fastavro, pyarrow as pa, pyarrow.parquet as pq\n"
            f"rows = list(fastavro.reader(open('{avro}', 'rb')))\n"
            f"pq.write_table(pa.Table.from_pylist(rows), '{out}', compression='zstd')\n")
    return measure([sys.executable, "-c", code], env=dict(os.environ, OMP_NUM_THREADS="1"))[:2]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--floe", required=True)
    ap.add_argument("--rows", type=int, default=500_000)
    args = ap.parse_args()
    os.makedirs(WORK, exist_ok=True)
    tag = time.strftime("%Y%m%d%H%M%S")
    jsonl, avro = make_inputs(args.rows)
    jmb, amb = os.path.getsize(jsonl) / 1e6, os.path.getsize(avro) / 1e6
    rows = []
    j = floe_ingest(args.floe, jsonl, tag + "-j", args.rows)
    rows.append(dict(case=f"nested JSON lines {jmb:.0f} MB", tool="Floe ingest -> Iceberg (S3 -> S3 + commit)", secs=j[0], rss_mib=j[1], mb=jmb))
    d = duckdb_json(jsonl)
    rows.append(dict(case=f"nested JSON lines {jmb:.0f} MB", tool="DuckDB 1.4.4 read_json threads=1 -> Parquet (local)", secs=d[0], rss_mib=d[1], mb=jmb))
    p = pyarrow_json(jsonl)
    rows.append(dict(case=f"nested JSON lines {jmb:.0f} MB", tool="pyarrow read_json use_threads=False -> Parquet (local)", secs=p[0], rss_mib=p[1], mb=jmb))
    a = floe_ingest(args.floe, avro, tag + "-a", args.rows)
    rows.append(dict(case=f"Avro deflate {amb:.0f} MB", tool="Floe ingest -> Iceberg (S3 -> S3 + commit)", secs=a[0], rss_mib=a[1], mb=amb))
    f = fastavro_baseline(avro)
    rows.append(dict(case=f"Avro deflate {amb:.0f} MB", tool="fastavro -> pyarrow -> Parquet (local)", secs=f[0], rss_mib=f[1], mb=amb))
    lines = [
        f"Nested ingest benchmark {tag}, {args.rows} records (one core: taskset -c 0)",
        "",
        "| case | tool | seconds | MB/s | peak RSS MiB | this ÷ Floe (seconds) |",
        "|---|---|---:|---:|---:|---:|",
    ]
    floe_secs = {r["case"]: r["secs"] for r in rows if r["tool"].startswith("Floe")}
    for r in rows:
        lines.append(f"| {r['case']} | {r['tool']} | {r['secs']:.2f} | {r['mb'] / r['secs']:.1f} | {r['rss_mib']:.0f} | {r['secs'] / floe_secs[r['case']]:.2f} |")
    save_results("nested", "\n".join(lines), dict(tag=tag, records=args.rows, rows=rows))


if __name__ == "__main__":
    main()
