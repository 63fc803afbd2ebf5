#!/usr/bin/env bash
# A throwaway PostgreSQL cluster for tests, on a free loopback port.
#
#   scripts/services/postgres.sh start [DIR]   creates (or reuses) a cluster in DIR (default: a new
#                                              temp dir), starts it, prints how to reach it:
#                                                STOWAGE_TEST_PG_URL=postgres://postgres@127.0.0.1:PORT/postgres
#                                                STOWAGE_TEST_PG_DIR=DIR
#   scripts/services/postgres.sh stop DIR      stops it and deletes DIR
#
# initdb refuses to run as root: as root the cluster belongs to the `postgres` user
# (created by Debian's postgresql package) and every pg command runs through runuser.
# fsync is off: the tests kill Stowage, never PostgreSQL, and a throwaway cluster
# needs no crash safety of its own.
set -euo pipefail

bin=""
for d in /usr/lib/postgresql/*/bin; do [ -x "$d/initdb" ] && bin=$d; done
[ -n "$bin" ] || { echo "postgres.sh: initdb not found (apt-get install postgresql)" >&2; exit 1; }

as_owner() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

free_port() {
  node -e "const s=require('net').createServer();s.listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})"
}

start() {
  local dir=${1:-}
  [ -n "$dir" ] || dir=$(mktemp -d /tmp/stowage-pg.XXXXXX)
  mkdir -p "$dir"
  [ "$(id -u)" = 0 ] && chown postgres: "$dir"
  if [ ! -f "$dir/data/PG_VERSION" ]; then
    as_owner "$bin/initdb" -D "$dir/data" -U postgres --auth=trust --no-sync -E UTF8 --locale=C >"$dir/initdb.log" 2>&1 \
      || { cat "$dir/initdb.log" >&2; exit 1; }
  fi
  local port; port=$(free_port)
  echo "$port" >"$dir/port"; [ "$(id -u)" = 0 ] && chown postgres: "$dir/port"
  as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/log" -w -t 60 \
    -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=400 -c shared_buffers=128MB" \
    start >/dev/null || { tail -20 "$dir/log" >&2; exit 1; }
  echo "STOWAGE_TEST_PG_URL=postgres://postgres@127.0.0.1:$port/postgres"
  echo "STOWAGE_TEST_PG_DIR=$dir"
}

stop() {
  local dir=${1:?usage: postgres.sh stop DIR}
  if [ -f "$dir/data/postmaster.pid" ]; then
    as_owner "$bin/pg_ctl" -D "$dir/data" -m fast -w -t 60 stop >/dev/null 2>&1 || true
  fi
  rm -rf "$dir"
}

case "${1:-}" in
  start) start "${2:-}" ;;
  stop) stop "${2:-}" ;;
  *) echo "usage: $0 start [DIR] | stop DIR" >&2; exit 2 ;;
esac
