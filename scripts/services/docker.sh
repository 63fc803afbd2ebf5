#!/usr/bin/env bash
# A private Docker Engine (Debian docker.io, 20.10) for the interop tests: image
# transfer only (push, pull, load, save, tag, login), no container ever runs, so
# no bridge, no iptables, vfs storage. Everything lives under one temp dir D.
#
#   scripts/services/docker.sh start [D]   starts dockerd, waits until it answers, and
#                                          prints how to reach it, as shell exports:
#     export STOWAGE_TEST_DOCKER_HOST=unix://D/docker.sock
#     export STOWAGE_TEST_DOCKER_DIR=D
#   scripts/services/docker.sh stop D      stops it (SIGTERM, then SIGKILL) and removes D
#
# Every loopback registry is insecure for this daemon (--insecure-registry
# 127.0.0.0/8): a registry on any free 127.0.0.1 port started after the daemon is
# trusted over plain HTTP, so tests need not reserve ports in advance.
# Needs root (dockerd does) and the docker.io package.
set -euo pipefail

usage() { echo "usage: $0 start [DIR] | stop DIR" >&2; exit 2; }
die() { echo "docker.sh: $*" >&2; exit 1; }

DOCKER=/usr/bin/docker # the Debian CLI of the same generation as the daemon

start() {
  command -v dockerd >/dev/null 2>&1 || die "dockerd not found: apt-get install -y docker.io"
  [ "$(id -u)" = 0 ] || die "dockerd needs root"
  local d=${1:-}
  if [ -z "$d" ]; then d=$(mktemp -d "${TMPDIR:-/tmp}/stowage-docker.XXXXXX"); else mkdir -p "$d"; fi
  # A unix socket path is limited to 108 bytes; containerd's socket sits deepest.
  [ ${#d} -le 60 ] || die "state dir path too long for unix sockets: $d"
  mkdir -p "$d/docker" "$d/exec"
  # setsid: the daemon must outlive this script and not take the caller's signals.
  setsid dockerd \
    --storage-driver=vfs --iptables=false --ip6tables=false --bridge=none \
    --data-root "$d/docker" --exec-root "$d/exec" \
    -H "unix://$d/docker.sock" --pidfile "$d/docker.pid" \
    --insecure-registry 127.0.0.0/8 \
    --log-level warn \
    </dev/null >"$d/dockerd.log" 2>&1 &
  local pid=$!
  echo "$pid" >"$d/dockerd.launcher.pid"
  local i
  for i in $(seq 1 300); do
    if DOCKER_HOST="unix://$d/docker.sock" DOCKER_CONFIG="$d/cli" "$DOCKER" version >/dev/null 2>&1; then
      echo "export STOWAGE_TEST_DOCKER_HOST=unix://$d/docker.sock"
      echo "export STOWAGE_TEST_DOCKER_DIR=$d"
      return 0
    fi
    kill -0 "$pid" 2>/dev/null || { tail -n 30 "$d/dockerd.log" >&2; die "dockerd exited during start (log above, $d/dockerd.log)"; }
    sleep 0.1
  done
  tail -n 30 "$d/dockerd.log" >&2
  kill "$pid" 2>/dev/null || true
  die "dockerd did not answer on unix://$d/docker.sock within 30 s"
}

stop() {
  local d=${1:-}
  [ -n "$d" ] || usage
  [ -d "$d" ] || return 0
  local pid=""
  [ -f "$d/docker.pid" ] && pid=$(cat "$d/docker.pid")
  [ -z "$pid" ] && [ -f "$d/dockerd.launcher.pid" ] && pid=$(cat "$d/dockerd.launcher.pid")
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid"
    local i
    for i in $(seq 1 150); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null || true
  fi
  # dockerd's own containerd normally exits with it; never leave one behind.
  if [ -f "$d/exec/containerd/containerd.pid" ]; then
    pid=$(cat "$d/exec/containerd/containerd.pid")
    if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
      kill -TERM "$pid"
      for i in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
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
