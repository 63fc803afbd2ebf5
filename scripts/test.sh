#!/usr/bin/env bash
# Runs the whole test suite: unit, storage drivers, HTTP, robustness, and interop
# with real clients and daemons. The interop tests need these Debian packages and
# install them when missing (as root, with apt-get); elsewhere install them by hand:
#   skopeo podman buildah umoci docker-registry openssl zstd docker.io containerd
# The Docker Engine and containerd the tests use are started here once for the
# whole run (scripts/services/*.sh, state in temp dirs) and stopped at the end.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(skopeo podman buildah umoci docker-registry openssl zstd docker.io containerd)
commands=(skopeo podman buildah umoci docker-registry openssl zstd dockerd containerd)
missing=()
for i in "${!commands[@]}"; do
  command -v "${commands[$i]}" >/dev/null 2>&1 || [ -x "/usr/sbin/${commands[$i]}" ] || missing+=("${packages[$i]}")
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
export PATH="$PATH:/usr/sbin:/sbin"

[ -d node_modules ] || npm ci
# A checkout from before native/ existed has node_modules but no addon.
[ -f native/build/Release/stowage_sendfile.node ] || npm run build:native
# A clean build: compiled tests of sources deleted since the last build must not run.
rm -rf dist
npx tsc -p tsconfig.json

# Shared daemons for the run; test files that find these variables use them.
stop_services=()
cleanup() {
  for cmd in "${stop_services[@]}"; do eval "$cmd" || true; done
}
trap cleanup EXIT
start_service() { # NAME DIR_VARIABLE
  local out
  out=$(bash "scripts/services/$1.sh" start) || { echo "test: could not start $1" >&2; exit 1; }
  eval "$out"
  stop_services+=("bash scripts/services/$1.sh stop '${!2}'")
}
if [ "$(id -u)" = 0 ]; then
  [ -n "${STOWAGE_TEST_DOCKER_HOST:-}" ] || start_service docker STOWAGE_TEST_DOCKER_DIR
  [ -n "${STOWAGE_TEST_CONTAINERD_ADDRESS:-}" ] || start_service containerd STOWAGE_TEST_CONTAINERD_DIR
fi

# Only *.test.js files are tests; helpers under dist/test are not.
mapfile -t files < <(find dist/test -name '*.test.js' | sort)
node --test "$@" "${files[@]}"
