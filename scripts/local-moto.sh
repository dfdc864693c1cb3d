#!/usr/bin/env bash
# moto's AWS emulator on loopback (Glue, SQS, S3 notifications, S3 Tables, the Terraform apply),
# with AWS's optimistic concurrency for Glue UpdateTable (scripts/moto_server.py). Installs moto
# into its own venv (FLOE_MOTO_VENV, default ~/.cache/floe-moto) when missing.
#   scripts/local-moto.sh up|down      (endpoint: http://127.0.0.1:$FLOE_MOTO_PORT)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
port="${FLOE_MOTO_PORT:-9020}"
venv="${FLOE_MOTO_VENV:-$HOME/.cache/floe-moto}"
pidfile="${FLOE_MOTO_PIDFILE:-/tmp/floe-moto-$port.pid}"

up() {
  if ! "$venv/bin/python" -c 'import moto.server, flask_cors' 2>/dev/null; then
    echo "==> installing moto into $venv"
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check 'moto[server]==5.2.*'
  fi
  if [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null; then
    echo "==> moto already running on 127.0.0.1:$port"
    return
  fi
  "$venv/bin/python" "$here/moto_server.py" -H 127.0.0.1 -p "$port" >"/tmp/floe-moto-$port.log" 2>&1 &
  echo $! >"$pidfile"
  for _ in $(seq 1 120); do
    if curl -fsS "http://127.0.0.1:$port/moto-api/" >/dev/null 2>&1; then
      echo "==> moto on http://127.0.0.1:$port (log /tmp/floe-moto-$port.log)"
      return
    fi
    sleep 0.5
  done
  echo "moto did not start on port $port; log:" >&2
  cat "/tmp/floe-moto-$port.log" >&2
  exit 1
}

down() {
  if [ -f "$pidfile" ]; then
    kill "$(cat "$pidfile")" 2>/dev/null && echo "==> stopped moto" || true
    rm -f "$pidfile"
  fi
}

case "${1:-}" in
  up) up ;;
  down) down ;;
  *) echo "usage: $0 up|down" >&2; exit 2 ;;
esac
