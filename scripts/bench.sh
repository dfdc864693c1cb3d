#!/usr/bin/env bash
# `make bench`: builds the release CLI (without DataFusion) and the four function binaries, makes
# sure the local stack and the baseline tools (DuckDB 1.4.4, pyarrow, matplotlib in their own venv)
# are present, runs the ingest, compaction, commit and cold-start benchmarks, then prints one summary
# table (bench/results/summary.md/.json) and draws bench/results/summary.png.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
cd "$root"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$root/target}"
# Generated inputs and the tools venv are kept between runs; S3 objects are not (see below).
export FLOE_BENCH_WORK="$root/.floe/bench"
venv="$root/.floe/bench-venv"
if [ ! -x "$venv/bin/python" ]; then
  echo "==> baseline tools venv (duckdb==1.4.4, pyarrow)"
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check duckdb==1.4.4 pyarrow
fi
"$venv/bin/python" -c "import duckdb_ext" 2>/dev/null ||
  "$venv/bin/pip" install --quiet --disable-pip-version-check duckdb-ext-httpfs
"$venv/bin/python" -c "import fastavro" 2>/dev/null ||
  "$venv/bin/pip" install --quiet --disable-pip-version-check fastavro
"$venv/bin/python" -c "import matplotlib" 2>/dev/null ||
  "$venv/bin/pip" install --quiet --disable-pip-version-check matplotlib
# Release builds keep their symbols here (Lambda zips are stripped) so `perf report` can read them.
export CARGO_PROFILE_RELEASE_STRIP=none
echo "==> release build of the floe CLI (ingest pipeline, no DataFusion)"
cargo build --release -p floe-cli --no-default-features
echo "==> release builds of the function binaries (one at a time: each keeps its own features)"
for fn in ingest commit compact validate; do cargo build --release -p "$fn"; done
if [ "$("$here/local-stack.sh" status)" != "stopped" ]; then
  # SeaweedFS's fixed internal ports allow one stack per machine: share the demo's.
  source "$here/local-env.sh"
  echo "==> using the running local stack; its bench objects stay (make down && rm -rf .floe/seaweed reclaims them)"
else
  # A stack of the bench's own, emptied first and stopped after: each run writes ~5 GB of objects,
  # which otherwise pile up until SeaweedFS has no free volumes left.
  export FLOE_STATE_DIR="$root/.floe/bench-stack"
  source "$here/local-env.sh"
  rm -rf "$FLOE_STATE_DIR"
  "$here/local-stack.sh" up
  trap '"$here/local-stack.sh" down' EXIT
fi
command -v taskset >/dev/null || { echo "taskset (util-linux) is required" >&2; exit 1; }
"$venv/bin/python" "$here/bench.py" --floe "$CARGO_TARGET_DIR/release/floe" "$@"
echo
echo "==> the ingest function binary as Lambda runs it (Runtime API stub, one S3 event) vs the floe CLI: seconds, peak RSS"
"$venv/bin/python" "$here/bench_lambda.py" --floe "$CARGO_TARGET_DIR/release/floe" --ingest "$CARGO_TARGET_DIR/release/ingest"
echo
echo "==> nested JSON lines and Avro into a nested table vs DuckDB read_json, pyarrow and fastavro (same files)"
"$venv/bin/python" "$here/bench_nested.py" --floe "$CARGO_TARGET_DIR/release/floe"
echo
echo "==> backfill: 1,000 x ~100 KB CSV objects already in S3 (floe backfill) vs pyiceberg append of the same files"
"$venv/bin/python" "$here/bench_backfill.py" --floe "$CARGO_TARGET_DIR/release/floe"
echo
echo "==> register in place: 1,000 x ~100 KB Parquet objects (mode = register) vs ingest mode and pyiceberg add_files"
"$venv/bin/python" "$here/bench_register.py" --floe "$CARGO_TARGET_DIR/release/floe"
echo
echo "==> scaling: CSV ingest on 1 and 2 cores (write pipeline on/off) vs DuckDB threads=1/2"
"$venv/bin/python" "$here/bench_scaling.py" --floe "$CARGO_TARGET_DIR/release/floe"
echo
echo "==> reads: one large object as one GET stream vs ranged GETs with read-ahead (floe bench-read), and pyarrow"
"$venv/bin/python" "$here/bench_read.py" --floe "$CARGO_TARGET_DIR/release/floe"
echo
echo "==> compaction: 200 small data files rewritten (floe maintain) vs pyarrow read+write of the same files"
"$venv/bin/python" "$here/bench_compact.py" --floe "$CARGO_TARGET_DIR/release/floe"
echo "==> compaction: 200 files x 10,000 rows (~50 MB, 2 M rows) into one, vs DuckDB threads=1 and pyarrow"
"$venv/bin/python" "$here/bench_compact.py" --floe "$CARGO_TARGET_DIR/release/floe" --rows-per-file 10000
echo "==> sort compaction: the same 200 files sorted by (country, order_ts) vs DuckDB COPY ... ORDER BY, threads=1"
"$venv/bin/python" "$here/bench_compact.py" --floe "$CARGO_TARGET_DIR/release/floe" --rows-per-file 10000 --sort-order "country, order_ts"
echo
echo "==> commit throughput and end-to-end latency (queue mode batches vs direct commits)"
bench_dir="$FLOE_BENCH_WORK"
mkdir -p "$bench_dir"
FLOE_CATALOG_URI="sqlite://$bench_dir/catalog-commit-$(date +%s).db" FLOE_WAREHOUSE="s3://floe-warehouse/bench-commit" \
  "$CARGO_TARGET_DIR/release/floe" bench-commit --objects 100 --batch 10 --rows 1000 | tee "$root/bench/results/commit.md"
echo
echo "==> cold start: process start -> first /next on a loopback Runtime API stub, median of 9"
rm -f "$root/bench/results/coldstart.json"
for fn in ingest validate commit compact; do
  FLOE_CATALOG_URI="sqlite://$bench_dir/catalog-coldstart.db" FLOE_WAREHOUSE="s3://floe-warehouse/bench-coldstart" \
    FLOE_TABLE_SPECS="$root/tables" FLOE_LOG_LEVEL=warn \
    "$venv/bin/python" "$here/coldstart.py" "$CARGO_TARGET_DIR/release/$fn" 9 --json "$root/bench/results/coldstart.json"
done
# Zips of this run's native release builds (x86-64, stripped, zip -9): the default build, and
# with FLOE_BENCH_SMALL_BUILDS=1 the smallest (Glue only, no SQL rules engine: what
# `make package CATALOG=glue SQL_RULES=no` links).
# validate stays with every catalog's build only: its table checks link the DataFusion engine.
echo
echo "==> zips of the native release builds, default vs Glue only without the SQL rules engine"
zipdir="$FLOE_BENCH_WORK/zips"
rm -rf "$zipdir" && mkdir -p "$zipdir"
native_zip() { strip -o "$zipdir/bootstrap" "$2" && (cd "$zipdir" && zip -q -9 "$1.zip" bootstrap && rm bootstrap); }
for fn in ingest validate commit compact; do native_zip "$fn" "$CARGO_TARGET_DIR/release/$fn"; done
# Opt-in (FLOE_BENCH_SMALL_BUILDS=1): three more release builds, ~8 min each on 2 cores.
if [ -n "${FLOE_BENCH_SMALL_BUILDS:-}" ]; then
  for fn in ingest commit compact; do
    cargo build --release -p "$fn" --no-default-features --features catalog-glue
    native_zip "$fn-glue-norules" "$CARGO_TARGET_DIR/release/$fn"
  done
fi
"$venv/bin/python" - "$zipdir" "$root/bench/results/zips-native.json" <<'PY'
import json, os, sys
sizes = {f[:-4]: os.path.getsize(os.path.join(sys.argv[1], f)) for f in sorted(os.listdir(sys.argv[1])) if f.endswith(".zip")}
print(json.dumps(sizes, indent=2))
json.dump(sizes, open(sys.argv[2], "w"), indent=2)
PY
# Zip sizes, when `make package` has built them (arm64 cross builds: not rebuilt here).
"$venv/bin/python" - "$CARGO_TARGET_DIR/lambda" "$root/bench/results/zips.json" <<'PY'
import json, os, sys
sizes = {fn: os.path.getsize(os.path.join(sys.argv[1], fn, "bootstrap.zip"))
         for fn in ("ingest", "validate", "commit", "compact")
         if os.path.exists(os.path.join(sys.argv[1], fn, "bootstrap.zip"))}
json.dump(sizes, open(sys.argv[2], "w"), indent=2)
PY
echo
echo "==> summary"
"$venv/bin/python" "$here/bench_report.py"
