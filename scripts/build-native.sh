#!/bin/sh
# Builds native/ (sendfile(2) for zero-copy blob pulls; a resumable SHA-256 in
# OpenSSL for S3 uploads) with node-gyp, which npm
# puts on PATH for its scripts; it needs python3, make and a C compiler. Run by
# npm as the package's `install` script: in this repository (`npm ci`) and where
# the published package is installed (`npm install -g stowage-*.tgz`, which runs no
# `prepare`). The addons are optional: without them Stowage streams blobs through
# user space (pulls of large blobs cost about twice the CPU) and hashes S3 uploads
# with hash-wasm (several times slower), so a failed build is one warning line,
# never a failed install.
cd "$(dirname "$0")/.." || exit 0
warn() { echo "stowage: WARNING: the native addons were not built ($1); large blob pulls will stream through user space, S3 uploads hash with hash-wasm" >&2; }
if [ "$(uname -s)" != Linux ]; then
  echo "stowage: the native addons are built on Linux only; blobs will be streamed, S3 uploads hashed with hash-wasm"
  exit 0
fi
missing=""
for tool in python3 make; do command -v "$tool" >/dev/null 2>&1 || missing="$missing $tool"; done
command -v cc >/dev/null 2>&1 || command -v gcc >/dev/null 2>&1 || command -v clang >/dev/null 2>&1 || missing="$missing cc"
if [ -n "$missing" ]; then
  warn "missing:$missing"
  exit 0
fi
gyp=node-gyp
command -v node-gyp >/dev/null 2>&1 || gyp="npx --yes node-gyp"
log=$(mktemp)
if $gyp rebuild --directory native >"$log" 2>&1; then
  echo "stowage: built native/build/Release/stowage_sendfile.node and stowage_sha256.node"
  rm -f "$log"
else
  warn "node-gyp failed; its output is in $log"
fi
exit 0
