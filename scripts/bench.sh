#!/usr/bin/env bash
# `make bench`: builds the release CLI (without DataFusion), makes sure the local stack and the
# baseline tools (DuckDB 1.4.4, pyarrow in their own venv) are present, then runs scripts/bench.py.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
cd "$root"
source "$here/local-env.sh"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$root/target}"
venv="$FLOE_STATE_DIR/bench-venv"
if [ ! -x "$venv/bin/python" ]; then
  echo "==> baseline tools venv (duckdb==1.4.4, pyarrow)"
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check duckdb==1.4.4 pyarrow
fi
echo "==> release build of the floe CLI (ingest pipeline, no DataFusion)"
cargo build --release -p floe-cli --no-default-features
"$here/local-stack.sh" up
command -v taskset >/dev/null || { echo "taskset (util-linux) is required" >&2; exit 1; }
"$venv/bin/python" "$here/bench.py" --floe "$CARGO_TARGET_DIR/release/floe" "$@"
echo
echo "==> compaction: 200 small data files rewritten (floe maintain) vs pyarrow read+write of the same files"
"$venv/bin/python" "$here/bench_compact.py" --floe "$CARGO_TARGET_DIR/release/floe"
echo "==> compaction: 200 files x 10,000 rows (~50 MB, 2 M rows) into one, vs DuckDB threads=1 and pyarrow"
"$venv/bin/python" "$here/bench_compact.py" --floe "$CARGO_TARGET_DIR/release/floe" --rows-per-file 10000
echo
echo "==> commit throughput and end-to-end latency (queue mode batches vs direct commits)"
bench_dir="$FLOE_STATE_DIR/bench"
mkdir -p "$bench_dir"
FLOE_CATALOG_URI="sqlite://$bench_dir/catalog-commit-$(date +%s).db" FLOE_WAREHOUSE="s3://floe-warehouse/bench-commit" \
  "$CARGO_TARGET_DIR/release/floe" bench-commit --objects 100 --batch 10 --rows 1000 | tee "$root/bench/results/commit.md"
