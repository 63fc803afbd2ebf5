#!/usr/bin/env bash
# A private containerd (Debian containerd, 1.6) for the interop tests: image
# transfer with `ctr` only, no container ever runs (the CRI plugin is off, the
# native snapshotter needs no overlayfs). Everything lives under one temp dir D.
#
#   scripts/services/containerd.sh start [D]  starts containerd, waits until it answers,
#                                             and prints how to reach it:
#     STOWAGE_TEST_CONTAINERD_ADDRESS=D/containerd.sock
#     STOWAGE_TEST_CONTAINERD_DIR=D
#   scripts/services/containerd.sh stop D     stops it (SIGTERM, then SIGKILL) and removes D
#
# Use it with `ctr --address D/containerd.sock` (and a namespace of your own, -n).
# Needs root and the containerd package.
set -euo pipefail

die() { echo "containerd.sh: $*" >&2; exit 1; }
. "$(dirname "$0")/daemon.sh"

start() {
  command -v containerd >/dev/null 2>&1 || die "containerd not found: apt-get install -y containerd"
  command -v ctr >/dev/null 2>&1 || die "ctr not found: apt-get install -y containerd"
  [ "$(id -u)" = 0 ] || die "containerd needs root"
  local d=$1
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
  spawn "$d/containerd.pid" "$d/containerd.log" containerd --config "$d/config.toml"
  wait_ready containerd "$(cat "$d/containerd.pid")" "$d/containerd.log" ctr --address "$d/containerd.sock" version
  echo "STOWAGE_TEST_CONTAINERD_ADDRESS=$d/containerd.sock"
  echo "STOWAGE_TEST_CONTAINERD_DIR=$d"
}

stop_daemon() {
  stop_pidfile "$1/containerd.pid"
}

service_main containerd 80 "$@"
