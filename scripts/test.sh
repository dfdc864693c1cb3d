#!/usr/bin/env bash
# `make test`: lint, unit tests and the integration tests against a real SeaweedFS S3 server, SQLite
# catalogs, and a PostgreSQL catalog for the concurrency test. Starts what it needs, stops it after.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
cd "$root"
if [ "$("$here/local-stack.sh" status)" != "stopped" ]; then
  # The demo's stack is up (SeaweedFS's fixed internal ports allow one per machine): share it.
  # Tests are isolated anyway: each has its own catalog, warehouse prefix and landing keys.
  source "$here/local-env.sh"
  echo "==> using the running local stack at $AWS_ENDPOINT_URL"
else
  # Otherwise a stack of the tests' own, with its own state dir and port, stopped afterwards.
  export FLOE_STATE_DIR="${FLOE_TEST_STATE_DIR:-$root/.floe/test}"
  export FLOE_S3_PORT="${FLOE_TEST_S3_PORT:-9010}"
  source "$here/local-env.sh"
  rm -rf "$FLOE_STATE_DIR"
  "$here/local-stack.sh" up
  stop_s3=1
fi
# PostgreSQL for the concurrency tests (the SQL catalog under many concurrent writers).
"$here/local-postgres.sh" up
# moto for the AWS APIs no local server has (Glue, SQS, S3 notifications, S3 Tables, Terraform
# apply), with AWS's optimistic concurrency on Glue UpdateTable (scripts/moto_server.py).
export FLOE_MOTO_PORT="${FLOE_MOTO_PORT:-9020}"
"$here/local-moto.sh" up
trap '"$here/local-moto.sh" down; "$here/local-postgres.sh" down; [ -n "${stop_s3:-}" ] && "$here/local-stack.sh" down' EXIT
# pyiceberg, an engine Floe did not write, reads the tables in the interop tests (own venv: it
# pins botocore). Kept outside the clone so repeated runs reuse it.
pyvenv="${FLOE_PYICEBERG_VENV:-$HOME/.cache/floe-pyiceberg}"
if ! "$pyvenv/bin/python" -c 'import pyiceberg, pyarrow, sqlalchemy' 2>/dev/null; then
  echo "==> installing pyiceberg into $pyvenv"
  python3 -m venv "$pyvenv"
  "$pyvenv/bin/pip" install --quiet --disable-pip-version-check 'pyiceberg[sql-sqlite,pyarrow]==0.12.*'
fi
# DuckDB 1.4.4 with its offline extension wheels (the newest wheel cannot load httpfs offline):
# the second reader of the nested-table interop test.
if ! "$pyvenv/bin/python" -c 'import duckdb, duckdb_ext, pytz' 2>/dev/null; then
  echo "==> installing DuckDB 1.4.4 + httpfs/iceberg/avro extensions into $pyvenv"
  "$pyvenv/bin/pip" install --quiet --disable-pip-version-check duckdb==1.4.4 duckdb-ext-httpfs duckdb-ext-iceberg duckdb-ext-avro pytz
fi
export FLOE_TEST_PYICEBERG="$pyvenv/bin/python"
export FLOE_TEST_S3_ENDPOINT="$AWS_ENDPOINT_URL"
export FLOE_TEST_REST_URI="http://127.0.0.1:8181" FLOE_TEST_REST_WAREHOUSE="$FLOE_REST_WAREHOUSE"
export FLOE_TEST_MOTO_ENDPOINT="http://127.0.0.1:$FLOE_MOTO_PORT"
export FLOE_TEST_POSTGRES_URL="postgres://postgres@127.0.0.1:${FLOE_PG_PORT:-5433}/floe"
cargo fmt --all -- --check
# The shared crate's imports flow one way: no module cycles (scripts/module-graph.py lists them).
python3 scripts/module-graph.py --check >/dev/null || { python3 scripts/module-graph.py; exit 1; }
# No function over ~80 lines without a written reason (scripts/long-functions.allow).
python3 scripts/long-functions.py --check >/dev/null || { python3 scripts/long-functions.py; exit 1; }
cargo clippy --workspace --all-targets -- -D warnings
# The smallest build (what `make package CATALOG=glue SQL_RULES=no` links) compiles lint-clean,
# refuses the other catalog kinds at start-up, and refuses specs with SQL rules when they load.
cargo clippy -p floe-shared -p ingest -p commit -p compact -p validate --no-default-features --features catalog-glue -- -D warnings
cargo test -p floe-shared --lib --no-default-features --features catalog-glue -- config::tests::a_catalog_the_build_left_out rules::without_engine_tests
cargo test --workspace --no-fail-fast
# infra/ kept in step with the code: HCL wiring tests + checkov.
"$here/infra-check.sh"
# Terraform itself against moto: fmt, validate, the plan matrix with AWS's rules, apply + the
# deployed path through the real ingest and commit binaries.
"$here/terraform-check.sh"
