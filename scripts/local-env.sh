# Environment for the local stack (sourced by scripts and the Makefile; same values work for
# MinIO from docker-compose.yml). Override any of them before sourcing.
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
export FLOE_STATE_DIR="${FLOE_STATE_DIR:-$root/.floe}"
export FLOE_S3_PORT="${FLOE_S3_PORT:-9000}"
export AWS_ENDPOINT_URL="${AWS_ENDPOINT_URL:-http://127.0.0.1:${FLOE_S3_PORT}}"
export AWS_ACCESS_KEY_ID="${AWS_ACCESS_KEY_ID:-AKIDFLOE}"
export AWS_SECRET_ACCESS_KEY="${AWS_SECRET_ACCESS_KEY:-floe-local-secret}"
export AWS_REGION="${AWS_REGION:-us-east-1}"
export FLOE_BUCKETS="${FLOE_BUCKETS:-floe-landing floe-warehouse floe-quarantine}"
export FLOE_REST_WAREHOUSE="${FLOE_REST_WAREHOUSE:-floe-tables}"
export FLOE_CATALOG_TYPE="${FLOE_CATALOG_TYPE:-sql}"
export FLOE_CATALOG_URI="${FLOE_CATALOG_URI:-sqlite://${FLOE_STATE_DIR}/catalog.db}"
export FLOE_WAREHOUSE="${FLOE_WAREHOUSE:-s3://floe-warehouse/}"
export FLOE_TABLE_SPECS="${FLOE_TABLE_SPECS:-$root/tables}"
export FLOE_DEFAULT_NAMESPACE="${FLOE_DEFAULT_NAMESPACE:-demo}"
export FLOE_QUARANTINE_URL="${FLOE_QUARANTINE_URL:-s3://floe-quarantine/objects}"
