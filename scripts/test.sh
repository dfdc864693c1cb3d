#!/usr/bin/env bash
# `make test`: lint, unit tests and the integration tests against a real SeaweedFS S3 server and
# a SQLite catalog. Starts the local stack on its own port and stops it afterwards.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
cd "$root"
# A separate state dir and port so tests never touch the demo's data.
export FLOE_STATE_DIR="${FLOE_TEST_STATE_DIR:-$root/.floe/test}"
export FLOE_S3_PORT="${FLOE_TEST_S3_PORT:-9010}"
source "$here/local-env.sh"
rm -rf "$FLOE_STATE_DIR"
"$here/local-stack.sh" up
trap '"$here/local-stack.sh" down' EXIT
export FLOE_TEST_S3_ENDPOINT="$AWS_ENDPOINT_URL"
cargo fmt --all -- --check
cargo clippy --workspace --all-targets -- -D warnings
cargo test --workspace --no-fail-fast
