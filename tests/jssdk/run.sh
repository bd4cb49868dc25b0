#!/bin/sh
# tests/jssdk/run.sh -- the official JavaScript SDK's broad flow (tests/jssdk/flow.mjs) against a
# fresh dev server. The SDK is installed under build/jssdk (npm, cache build/npm-cache) when it
# is not there yet (tools/ensure-deps.sh does the same). Without node >= 20, npm or the package
# the suite says why and counts as skipped.
# The closing line is "N passed, N failed" (", 1 skipped" when skipped).
cd "$(dirname "$0")/../.." || exit 2
B=${B:-build}
DIR=$B/jssdk
VERSION=${OSB_JSSDK_VERSION:-0.1.11}
skip() { echo "jssdk: skipped: $1"; echo "0 passed, 0 failed, 1 skipped"; exit 0; }
command -v node >/dev/null 2>&1 || skip "node is not installed"
major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null)
[ "${major:-0}" -ge 20 ] 2>/dev/null || skip "node ${major:-?} is older than the SDK needs (20)"
if [ ! -f "$DIR/node_modules/@alibaba-group/opensandbox/package.json" ]; then
    command -v npm >/dev/null 2>&1 || skip "npm is not installed"
    mkdir -p "$DIR"
    timeout 300 npm install --no-audit --no-fund --prefix "$DIR" --cache "$B/npm-cache" \
        "@alibaba-group/opensandbox@$VERSION" >"$B/jssdk-install.log" 2>&1 \
        || skip "npm could not install @alibaba-group/opensandbox@$VERSION (see $B/jssdk-install.log)"
fi
# (the flow resolves no names; a loopback resolver keeps any DNS of the sandboxes local)
OSB_JSSDK_DIR=$DIR exec ${PYTHON:-python3} tools/devserver/with_devserver.py --command-grace 0.1 \
    --dns-upstream 127.0.0.1:9 -- node tests/jssdk/flow.mjs
