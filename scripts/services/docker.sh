#!/usr/bin/env bash
# A private Docker Engine (Debian docker.io, 20.10) for the interop tests: image
# transfer only (push, pull, load, save, tag, login), no container ever runs, so
# no bridge, no iptables, vfs storage. Everything lives under one temp dir D.
#
#   scripts/services/docker.sh start [D]   starts dockerd, waits until it answers, and
#                                          prints how to reach it:
#     STOWAGE_TEST_DOCKER_HOST=unix://D/docker.sock
#     STOWAGE_TEST_DOCKER_DIR=D
#   scripts/services/docker.sh stop D      stops it (SIGTERM, then SIGKILL) and removes D
#
# Every loopback registry is insecure for this daemon (--insecure-registry
# 127.0.0.0/8): a registry on any free 127.0.0.1 port started after the daemon is
# trusted over plain HTTP, so tests need not reserve ports in advance.
# Needs root (dockerd does) and the docker.io package.
set -euo pipefail

die() { echo "docker.sh: $*" >&2; exit 1; }
. "$(dirname "$0")/daemon.sh"

DOCKER=/usr/bin/docker # the Debian CLI of the same generation as the daemon

start() {
  command -v dockerd >/dev/null 2>&1 || die "dockerd not found: apt-get install -y docker.io"
  [ "$(id -u)" = 0 ] || die "dockerd needs root"
  local d=$1
  mkdir -p "$d/docker" "$d/exec"
  spawn "$d/dockerd.launcher.pid" "$d/dockerd.log" dockerd \
    --storage-driver=vfs --iptables=false --ip6tables=false --bridge=none \
    --data-root "$d/docker" --exec-root "$d/exec" \
    -H "unix://$d/docker.sock" --pidfile "$d/docker.pid" \
    --insecure-registry 127.0.0.0/8 \
    --log-level warn
  wait_ready dockerd "$(cat "$d/dockerd.launcher.pid")" "$d/dockerd.log" \
    env DOCKER_HOST="unix://$d/docker.sock" DOCKER_CONFIG="$d/cli" "$DOCKER" version
  echo "STOWAGE_TEST_DOCKER_HOST=unix://$d/docker.sock"
  echo "STOWAGE_TEST_DOCKER_DIR=$d"
}

stop_daemon() {
  local d=$1
  if [ -f "$d/docker.pid" ]; then stop_pidfile "$d/docker.pid"; else stop_pidfile "$d/dockerd.launcher.pid"; fi
  # dockerd's own containerd normally exits with it; never leave one behind.
  stop_pidfile "$d/exec/containerd/containerd.pid"
}

# containerd's socket sits deepest below the state dir.
service_main docker 60 "$@"
