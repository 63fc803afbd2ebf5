#!/usr/bin/env bash
# A real Prometheus server on loopback that scrapes whatever targets tests announce.
#
#   scripts/services/prometheus.sh start   prints STOWAGE_TEST_PROMETHEUS_URL=http://127.0.0.1:PORT
#                                          and STOWAGE_TEST_PROMETHEUS_DIR=DIR
#   scripts/services/prometheus.sh stop DIR
#
# Targets are file-discovered: a test writes DIR/targets/NAME.json
# ([{"targets":["127.0.0.1:PORT"],"labels":{"stowage_test":"NAME"}}]) and Prometheus
# picks it up at once (inotify) and scrapes it every second. Its TSDB lives in DIR.
set -euo pipefail
export PATH="$PATH:/usr/local/sbin:/usr/sbin:/sbin"

free_port() {
  node -e "const s=require('net').createServer();s.listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})"
}

start() {
  command -v prometheus >/dev/null || { echo "prometheus.sh: prometheus not found (apt-get install prometheus)" >&2; exit 1; }
  local dir port
  dir=$(mktemp -d /tmp/stowage-prometheus.XXXXXX)
  port=$(free_port)
  mkdir -p "$dir/targets" "$dir/tsdb"
  cat >"$dir/prometheus.yml" <<CONF
global:
  scrape_interval: 1s
  scrape_timeout: 1s
  evaluation_interval: 1s
scrape_configs:
  - job_name: stowage
    metrics_path: /metrics
    file_sd_configs:
      - files: ['$dir/targets/*.json']
        refresh_interval: 1s
CONF
  prometheus --config.file="$dir/prometheus.yml" --storage.tsdb.path="$dir/tsdb" \
    --web.listen-address="127.0.0.1:$port" --log.level=warn >"$dir/prometheus.log" 2>&1 &
  echo $! >"$dir/prometheus.pid"
  for _ in $(seq 1 100); do
    if curl -fsS "http://127.0.0.1:$port/-/ready" >/dev/null 2>&1; then
      echo "STOWAGE_TEST_PROMETHEUS_URL=http://127.0.0.1:$port"
      echo "STOWAGE_TEST_PROMETHEUS_DIR=$dir"
      return 0
    fi
    kill -0 "$(cat "$dir/prometheus.pid")" 2>/dev/null || break
    sleep 0.2
  done
  echo "prometheus.sh: prometheus did not become ready" >&2
  cat "$dir/prometheus.log" >&2
  stop "$dir"
  exit 1
}

stop() {
  local dir=${1:?usage: prometheus.sh stop DIR} pid
  if [ -f "$dir/prometheus.pid" ]; then
    pid=$(cat "$dir/prometheus.pid")
    if [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = prometheus ]; then
      kill -TERM "$pid" 2>/dev/null || true
      for _ in $(seq 1 100); do [ -e "/proc/$pid" ] || break; sleep 0.1; done
      kill -KILL "$pid" 2>/dev/null || true
    fi
  fi
  rm -rf "$dir"
}

case "${1:-}" in
  start) start ;;
  stop) stop "${2:-}" ;;
  *) echo "usage: $0 start | stop DIR" >&2; exit 2 ;;
esac
