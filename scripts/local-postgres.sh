#!/usr/bin/env bash
# A throwaway PostgreSQL on loopback for the concurrency tests (SQL catalog where many writers
# commit at once). Installs Debian's postgresql when missing.
#   scripts/local-postgres.sh up|down      (prints nothing but progress; URL: postgres://postgres@127.0.0.1:$FLOE_PG_PORT/floe)
set -euo pipefail
port="${FLOE_PG_PORT:-5433}"
dir="${FLOE_PG_DIR:-/tmp/floe-pg-$port}"
bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1 || true)
as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }

up() {
  if [ -z "$bin" ]; then
    echo "==> installing PostgreSQL (apt-get install postgresql)"
    export DEBIAN_FRONTEND=noninteractive
    (apt-get install -y --no-install-recommends postgresql >/dev/null 2>&1) || (apt-get update >/dev/null && apt-get install -y --no-install-recommends postgresql >/dev/null)
    bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
  fi
  if [ -f "$dir/postmaster.pid" ] && as_pg "$bin/pg_ctl" -D "$dir" status >/dev/null 2>&1; then
    echo "==> PostgreSQL already running on 127.0.0.1:$port"
    return
  fi
  rm -rf "$dir"; mkdir -p "$dir"
  [ "$(id -u)" = 0 ] && chown postgres "$dir"
  as_pg "$bin/initdb" -D "$dir" -U postgres --auth=trust -E UTF8 >/dev/null
  as_pg "$bin/pg_ctl" -D "$dir" -l "$dir/log" -w \
    -o "-k /tmp -h 127.0.0.1 -p $port -c max_connections=400 -c fsync=off" start >/dev/null
  as_pg "$bin/createdb" -h 127.0.0.1 -p "$port" -U postgres floe
  echo "==> PostgreSQL on 127.0.0.1:$port (data in $dir)"
}

down() {
  if [ -n "$bin" ] && [ -d "$dir" ]; then
    as_pg "$bin/pg_ctl" -D "$dir" -m fast -w stop >/dev/null 2>&1 && echo "==> stopped PostgreSQL" || true
  fi
}

case "${1:-}" in
  up) up ;;
  down) down ;;
  *) echo "usage: $0 up|down" >&2; exit 2 ;;
esac
