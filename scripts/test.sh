#!/usr/bin/env bash
# Runs the whole test suite: unit, storage drivers, HTTP, robustness, and interop
# with real clients and daemons. The tests need these Debian packages and install
# them when missing (as root, with apt-get); elsewhere install them by hand:
#   skopeo podman buildah umoci docker-registry openssl zstd docker.io containerd
#   postgresql ceph-mon ceph-osd radosgw uuid-runtime curl nginx prometheus chromium
# PostgreSQL, S3 (radosgw), the Docker Engine and containerd are started once for
# the whole run by scripts/services/*.sh and stopped when it ends; the tests reach
# them through STOWAGE_TEST_PG_URL, STOWAGE_TEST_S3_*, STOWAGE_TEST_DOCKER_* and
# STOWAGE_TEST_CONTAINERD_*.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(skopeo podman buildah umoci docker-registry openssl zstd docker.io containerd postgresql ceph-mon ceph-osd radosgw uuid-runtime curl nginx prometheus chromium)
commands=(skopeo podman buildah umoci docker-registry openssl zstd dockerd containerd pg_ctlcluster ceph-mon ceph-osd radosgw uuidgen curl nginx prometheus chromium)
# Daemons live in sbin, which a non-login root shell may not have on PATH.
export PATH="$PATH:/usr/local/sbin:/usr/sbin:/sbin"
missing=()
for i in "${!commands[@]}"; do
  command -v "${commands[$i]}" >/dev/null 2>&1 || missing+=("${packages[$i]}")
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "test: installing missing packages: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq -o DPkg::Lock::Timeout=600
    apt-get install -y -qq -o DPkg::Lock::Timeout=600 "${missing[@]}" >/dev/null
  else
    echo "test: these Debian packages are needed and missing: ${missing[*]}" >&2
    echo "test: install them (apt-get install ${missing[*]}) or run as root on Debian" >&2
    exit 1
  fi
fi

[ -d node_modules ] || npm ci
# A checkout from before native/ existed has node_modules but no addon.
[ -f native/build/Release/stowage_sendfile.node ] && [ -f native/build/Release/stowage_sha256.node ] || npm run build:native
# A clean build: compiled tests of sources deleted since the last build must not run.
rm -rf dist
npx tsc -p tsconfig.json

# Shared services for the whole run, stopped on any exit.
service_dirs=()
stop_services() {
  for entry in "${service_dirs[@]}"; do bash "scripts/services/${entry%%:*}.sh" stop "${entry#*:}" || true; done
}
trap stop_services EXIT
start_service() { # name, KEY of its data dir in the output
  local out
  out=$(bash "scripts/services/$1.sh" start) || { echo "test: scripts/services/$1.sh start failed" >&2; exit 1; }
  while IFS='=' read -r key value; do
    [ -n "$key" ] && export "$key=$value"
  done <<<"$out"
  service_dirs+=("$1:${!2}")
}
[ -n "${STOWAGE_TEST_PG_URL:-}" ] || start_service postgres STOWAGE_TEST_PG_DIR
[ -n "${STOWAGE_TEST_S3_ENDPOINT:-}" ] || start_service rgw STOWAGE_TEST_S3_DIR
[ -n "${STOWAGE_TEST_DOCKER_HOST:-}" ] || start_service docker STOWAGE_TEST_DOCKER_DIR
[ -n "${STOWAGE_TEST_CONTAINERD_ADDRESS:-}" ] || start_service containerd STOWAGE_TEST_CONTAINERD_DIR
[ -n "${STOWAGE_TEST_PROMETHEUS_URL:-}" ] || start_service prometheus STOWAGE_TEST_PROMETHEUS_DIR

# Only *.test.js files are tests; helpers under dist/test are not.
mapfile -t files < <(find dist/test -name '*.test.js' | sort)
node --test "$@" "${files[@]}"
