#!/usr/bin/env bash
# nginx as a round-robin load balancer (no stickiness) in front of registry replicas.
#
#   scripts/services/nginx.sh start HOST:PORT [HOST:PORT…]   prints STOWAGE_TEST_LB_URL=http://127.0.0.1:PORT
#                                                             and STOWAGE_TEST_LB_DIR=DIR
#   scripts/services/nginx.sh stop DIR
#
# Bodies stream both ways (no request or response buffering, no size cap), upstream
# connections are kept alive, and a replica that refuses connections is skipped for
# the request (proxy_next_upstream error) — but a request it already began is not
# retried: PATCH and PUT are not idempotent.
set -euo pipefail

free_port() {
  node -e "const s=require('net').createServer();s.listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})"
}

start() {
  [ $# -ge 1 ] || { echo "usage: nginx.sh start HOST:PORT…" >&2; exit 2; }
  command -v nginx >/dev/null || { echo "nginx.sh: nginx not found (apt-get install nginx)" >&2; exit 1; }
  local dir port servers=""
  dir=$(mktemp -d /tmp/stowage-nginx.XXXXXX)
  port=$(free_port)
  for b in "$@"; do servers+="    server $b max_fails=0;"$'\n'; done
  mkdir -p "$dir/tmp"
  cat >"$dir/nginx.conf" <<CONF
worker_processes 1;
pid $dir/nginx.pid;
error_log $dir/error.log warn;
events { worker_connections 1024; }
http {
  access_log $dir/access.log;
  client_body_temp_path $dir/tmp/body;
  proxy_temp_path $dir/tmp/proxy;
  fastcgi_temp_path $dir/tmp/fastcgi;
  uwsgi_temp_path $dir/tmp/uwsgi;
  scgi_temp_path $dir/tmp/scgi;
  upstream replicas {
$servers    keepalive 32;
  }
  server {
    listen 127.0.0.1:$port;
    client_max_body_size 0;
    proxy_request_buffering off;
    proxy_buffering off;
    proxy_http_version 1.1;
    proxy_set_header Connection "";
    proxy_set_header Host \$http_host;
    proxy_read_timeout 300s;
    proxy_next_upstream error timeout;
    location / { proxy_pass http://replicas; }
  }
}
CONF
  nginx -e "$dir/error.log" -p "$dir" -c "$dir/nginx.conf" || { cat "$dir/error.log" >&2; exit 1; }
  for _ in $(seq 1 50); do [ -s "$dir/nginx.pid" ] && break; sleep 0.1; done
  echo "STOWAGE_TEST_LB_URL=http://127.0.0.1:$port"
  echo "STOWAGE_TEST_LB_DIR=$dir"
}

stop() {
  local dir=${1:?usage: nginx.sh stop DIR} pid
  if [ -f "$dir/nginx.pid" ]; then
    pid=$(cat "$dir/nginx.pid")
    if [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = nginx ]; then
      kill -TERM "$pid" 2>/dev/null || true
      while [ -e "/proc/$pid" ]; do sleep 0.1; done
    fi
  fi
  rm -rf "$dir"
}

case "${1:-}" in
  start) shift; start "$@" ;;
  stop) stop "${2:-}" ;;
  *) echo "usage: $0 start HOST:PORT… | stop DIR" >&2; exit 2 ;;
esac
