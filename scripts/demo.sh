#!/usr/bin/env bash
# `make demo`: the whole path on an embedded default (SeaweedFS + SQLite catalog, no cloud):
# start the local S3 server, build, upload sample CSV / gzip JSON lines / Parquet / nested JSON
# lines objects, infer a spec from a sample (`floe spec infer`), run
# the ingest function under `cargo lambda watch`, invoke it with the events in events/, and
# query the resulting Iceberg tables with DataFusion.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
cd "$root"
source "$here/local-env.sh"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$root/target}"
step() { printf '\n\033[1m==> %s\033[0m\n' "$*"; }

step "1/6 tools: cargo-lambda and SeaweedFS"
command -v cargo-lambda >/dev/null 2>&1 || python3 -m pip install --quiet --disable-pip-version-check cargo-lambda==1.9.2
cargo lambda --version

step "2/6 local S3 server (SeaweedFS) and buckets"
"$here/local-stack.sh" up
# A fresh catalog each demo run, so the counts below are this run's.
rm -f "$FLOE_STATE_DIR/catalog.db"*

step "3/6 build (ingest function + floe CLI)"
cargo build -p ingest -p floe-cli
floe="$CARGO_TARGET_DIR/debug/floe"

step "4/6 upload sample objects to s3://floe-landing"
"$floe" put demo/data/orders-2026-01.csv "s3://floe-landing/orders/2026/orders 2026-01.csv"
"$floe" put demo/data/order-events-2026-01.jsonl.gz "s3://floe-landing/events/2026/order-events-2026-01.jsonl.gz"
"$floe" put demo/data/order-export-2026-01.parquet "s3://floe-landing/exports/order export 2026-01.parquet"
"$floe" put demo/data/orders-2026-02-bad-rows.csv "s3://floe-landing/orders/2026/orders-2026-02-bad-rows.csv"
"$floe" put demo/data/clickstream-2026-01.jsonl "s3://floe-landing/clickstream/2026/clickstream-2026-01.jsonl"
echo "--- floe spec infer: a table spec from the nested clickstream objects (tables/clickstream.toml is the reviewed one)"
"$floe" spec infer s3://floe-landing/clickstream/ --sample 5

step "5/6 ingest under cargo lambda watch, invoked with events/*.json"
envfile="$FLOE_STATE_DIR/lambda.env"
env | grep -E '^(FLOE_|AWS_)' | grep -v -E '^FLOE_(BUCKETS|REST_WAREHOUSE)=' > "$envfile"
echo "FLOE_LOG_FORMAT=json" >> "$envfile"
port="${FLOE_INVOKE_PORT:-9400}"
cargo lambda watch --invoke-address 127.0.0.1 --invoke-port "$port" --env-file "$envfile" \
  > "$FLOE_STATE_DIR/watch.log" 2>&1 &
watch_pid=$!
trap 'kill $watch_pid 2>/dev/null || true; wait $watch_pid 2>/dev/null || true' EXIT
for _ in $(seq 1 240); do (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break; sleep 0.5; done
for event in s3-put-orders sqs-s3-events eventbridge-object-created s3-put-orders; do
  echo "--- invoke ingest with events/$event.json"
  cargo lambda invoke ingest --data-file "events/$event.json" \
    --invoke-address 127.0.0.1 --invoke-port "$port" --output-format json
  echo
done
echo "(the second s3-put-orders invocation is a redelivery: status \"duplicate\", no rows added)"
echo "--- dry run: invoke validate with events/validate-object.json (writes nothing)"
cargo lambda invoke validate --data-file events/validate-object.json \
  --invoke-address 127.0.0.1 --invoke-port "$port" --output-format json
echo "--- invoke ingest with events/s3-put-orders-bad-rows.json (good rows land, bad rows go to quarantine)"
cargo lambda invoke ingest --data-file events/s3-put-orders-bad-rows.json \
  --invoke-address 127.0.0.1 --invoke-port "$port" --output-format json

echo "--- invoke ingest with events/s3-put-clickstream.json (nested JSON lines: a bad nested value quarantines its row)"
cargo lambda invoke ingest --data-file events/s3-put-clickstream.json \
  --invoke-address 127.0.0.1 --invoke-port "$port" --output-format json
echo
echo "--- table maintenance, dry run: invoke compact with events/compact-dry-run.json (plan, expiry, orphans; changes nothing)"
cargo lambda invoke compact --data-file events/compact-dry-run.json \
  --invoke-address 127.0.0.1 --invoke-port "$port" --output-format json
echo
step "6/6 query the Iceberg tables (DataFusion via iceberg-datafusion)"
"$floe" query "SELECT 'demo.orders' AS tbl, count(*) AS rows FROM floe.demo.orders
  UNION ALL SELECT 'demo.order_events', count(*) FROM floe.demo.order_events
  UNION ALL SELECT 'demo.order_exports', count(*) FROM floe.demo.order_exports
  UNION ALL SELECT 'demo.clickstream', count(*) FROM floe.demo.clickstream ORDER BY tbl"
"$floe" query "SELECT country, count(*) AS orders, sum(amount) AS revenue FROM floe.demo.orders GROUP BY country ORDER BY revenue DESC"
"$floe" query "SELECT order_id, customer, amount, order_ts FROM floe.demo.order_events ORDER BY order_id LIMIT 5"
"$floe" query "SELECT \"user\"['country'] AS country, count(*) AS events, sum(cardinality(items)) AS items
  FROM floe.demo.clickstream GROUP BY 1 ORDER BY 1"
"$floe" query "SELECT source_object, record_number, field, error_code, message FROM floe.demo.quarantine ORDER BY source_object, record_number"
echo
echo "Done. The stack is still up: 'make down' stops it; 'make test' runs the tests."
