#!/usr/bin/env bash
# A private containerd (Debian containerd, 1.6) for the interop tests: image
# transfer with `ctr` only, no container ever runs (the CRI plugin is off, the
# native snapshotter needs no overlayfs). Everything lives under one temp dir D.
#
#   scripts/services/containerd.sh start [D]  starts containerd, waits until it answers,
#                                             and prints how to reach it, as shell exports:
#     export STOWAGE_TEST_CONTAINERD_ADDRESS=D/containerd.sock
#     export STOWAGE_TEST_CONTAINERD_DIR=D
#   scripts/services/containerd.sh stop D     stops it (SIGTERM, then SIGKILL) and removes D
#
# Use it with `ctr --address D/containerd.sock` (and a namespace of your own, -n).
# Needs root and the containerd package.
set -euo pipefail

usage() { echo "usage: $0 start [DIR] | stop DIR" >&2; exit 2; }
die() { echo "containerd.sh: $*" >&2; exit 1; }

start() {
  command -v containerd >/dev/null 2>&1 || die "containerd not found: apt-get install -y containerd"
  command -v ctr >/dev/null 2>&1 || die "ctr not found: apt-get install -y containerd"
  [ "$(id -u)" = 0 ] || die "containerd needs root"
  local d=${1:-}
  if [ -z "$d" ]; then d=$(mktemp -d "${TMPDIR:-/tmp}/stowage-containerd.XXXXXX"); else mkdir -p "$d"; fi
  [ ${#d} -le 80 ] || die "state dir path too long for unix sockets: $d"
  cat >"$d/config.toml" <<EOF
version = 2
root = "$d/root"
state = "$d/state"
disabled_plugins = ["io.containerd.grpc.v1.cri"]

[grpc]
  address = "$d/containerd.sock"

[ttrpc]
  address = "$d/containerd.sock.ttrpc"

[debug]
  address = "$d/debug.sock"
  level = "warn"

[metrics]
  address = ""
EOF
  setsid containerd --config "$d/config.toml" </dev/null >"$d/containerd.log" 2>&1 &
  local pid=$!
  echo "$pid" >"$d/containerd.pid"
  local i
  for i in $(seq 1 300); do
    if ctr --address "$d/containerd.sock" version >/dev/null 2>&1; then
      echo "export STOWAGE_TEST_CONTAINERD_ADDRESS=$d/containerd.sock"
      echo "export STOWAGE_TEST_CONTAINERD_DIR=$d"
      return 0
    fi
    kill -0 "$pid" 2>/dev/null || { tail -n 30 "$d/containerd.log" >&2; die "containerd exited during start (log above, $d/containerd.log)"; }
    sleep 0.1
  done
  tail -n 30 "$d/containerd.log" >&2
  kill "$pid" 2>/dev/null || true
  die "containerd did not answer on $d/containerd.sock within 30 s"
}

stop() {
  local d=${1:-}
  [ -n "$d" ] || usage
  [ -d "$d" ] || return 0
  if [ -f "$d/containerd.pid" ]; then
    local pid i
    pid=$(cat "$d/containerd.pid")
    if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
      kill -TERM "$pid"
      for i in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      kill -KILL "$pid" 2>/dev/null || true
    fi
  fi
  rm -rf "$d"
}

case "${1:-}" in
  start) shift; start "$@" ;;
  stop) shift; stop "$@" ;;
  *) usage ;;
esac
