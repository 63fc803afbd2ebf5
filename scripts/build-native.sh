#!/bin/sh
# Builds native/ (sendfile(2) for zero-copy blob pulls) with node-gyp, which npm
# puts on PATH for its scripts; it needs python3, make and a C compiler. The
# addon is optional: without it Stowage streams blobs through user space and
# pulls of large blobs cost about twice the CPU, so a failure is a loud warning.
cd "$(dirname "$0")/.." || exit 1
if [ "$(uname -s)" != Linux ]; then
  echo "native: the sendfile addon is Linux-only; blobs will be streamed"
  exit 0
fi
log=$(mktemp)
if node-gyp rebuild --directory native >"$log" 2>&1; then
  echo "native: built native/build/Release/stowage_sendfile.node"
else
  cat "$log" >&2
  echo "native: WARNING: the sendfile addon did not build (output above); large blob pulls will stream through user space" >&2
fi
rm -f "$log"
