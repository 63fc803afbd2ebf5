#!/usr/bin/env bash
# Runs the whole test suite: unit, storage drivers, HTTP, robustness, and interop
# with real clients. The interop tests need these Debian packages and install
# them when missing (as root, with apt-get); elsewhere install them by hand:
#   skopeo podman buildah umoci docker-registry openssl
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(skopeo podman buildah umoci docker-registry openssl)
commands=(skopeo podman buildah umoci docker-registry openssl)
missing=()
for i in "${!commands[@]}"; do
  command -v "${commands[$i]}" >/dev/null 2>&1 || missing+=("${packages[$i]}")
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "test: installing missing packages: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq "${missing[@]}" >/dev/null
  else
    echo "test: these Debian packages are needed and missing: ${missing[*]}" >&2
    echo "test: install them (apt-get install ${missing[*]}) or run as root on Debian" >&2
    exit 1
  fi
fi

[ -d node_modules ] || npm ci
# A checkout from before native/ existed has node_modules but no addon.
[ -f native/build/Release/stowage_sendfile.node ] || npm run build:native
npx tsc -p tsconfig.json
# Only *.test.js files are tests; helpers under dist/test are not.
mapfile -t files < <(find dist/test -name '*.test.js' | sort)
exec node --test "$@" "${files[@]}"
