#!/usr/bin/env bash
# tests/upstream-e2e.sh UPSTREAM -- run the upstream project's Go end-to-end suite
# (UPSTREAM/tests/go, with the Go SDK of UPSTREAM/sdks/sandbox/go) against the dev server,
# configured the way upstream CI configures the real server for that suite. `make
# test-upstream-e2e UPSTREAM=...` calls it (mk/upstream-e2e.mk says what it sets).
#
# Nothing of UPSTREAM is kept in this project: the suite and the SDK are copied into a
# GOPATH tree under build/upstream-e2e/ each run and built there, offline, with the Go
# toolchain and testify from the distribution (GOPATH mode: their go.mod files, which
# name newer Go releases than Debian 12 ships, are not read; no test file is changed).
#
# Environment (all optional):
#   GO                      the go command (default: go)
#   UPSTREAM_E2E_RUN        a `go test -run` pattern (default: every test)
#   RUN_CODE_INTERPRETER_E2E  true (default; the dev server has a Python interpreter) or false
#   OPENSANDBOX_TEST_USE_SERVER_PROXY  true: execd through the lifecycle server's proxy
#                                      (default false, as upstream CI)
#   VAULT_TARGET            true: start the checkout's Credential Vault echo target
#                           (tests/python/tests/support/credential_vault_echo_server.py) on
#                           127.0.0.2:80 in the run's network namespace, as upstream CI
#                           starts it in a container, so the Credential Vault tests run
#                           instead of skipping (default false)
set -u

usage() {
    echo "usage: $0 UPSTREAM   (a checkout of opensandbox-group/OpenSandbox holding tests/go" >&2
    echo "       and sdks/sandbox/go)" >&2
    exit 2
}
[ $# -eq 1 ] && [ -n "$1" ] || usage
up=$(cd "$1" 2>/dev/null && pwd) || { echo "upstream-e2e: no such directory: $1" >&2; exit 2; }
for f in tests/go/go.mod sdks/sandbox/go/go.mod; do
    [ -f "$up/$f" ] || { echo "upstream-e2e: $up/$f not found; UPSTREAM must be an OpenSandbox checkout" >&2; exit 2; }
done

root=$(cd "$(dirname "$0")/.." && pwd)
work=$root/build/upstream-e2e
go=${GO:-go}
command -v "$go" >/dev/null 2>&1 || { echo "upstream-e2e: no Go toolchain ($go); run tools/ensure-deps.sh upstream-e2e" >&2; exit 2; }
gocode=/usr/share/gocode
[ -d "$gocode/src/github.com/stretchr/testify/require" ] || {
    echo "upstream-e2e: testify not found under $gocode; run tools/ensure-deps.sh upstream-e2e" >&2; exit 2; }

# A fresh GOPATH tree holding the two upstream packages under their import paths.
mod=$work/gopath/src/github.com/alibaba/OpenSandbox
rm -rf "$work/gopath"
mkdir -p "$mod/tests" "$mod/sdks/sandbox" || exit 2
cp -R "$up/tests/go" "$mod/tests/go" && cp -R "$up/sdks/sandbox/go" "$mod/sdks/sandbox/go" || exit 2

export GO111MODULE=off GOPATH="$work/gopath:$gocode" GOCACHE="$work/gocache" \
    GOPROXY=off GOFLAGS= GOTOOLCHAIN=local GONOSUMDB= GOENV=off CGO_ENABLED=0
echo "upstream-e2e: $($go version); suite from $up (commit $(git -C "$up" rev-parse --short HEAD 2>/dev/null || echo unknown))"
(cd "$mod/tests/go" && $go test -c -o "$work/e2e.test" . >"$work/build.log" 2>&1) || {
    cat "$work/build.log" >&2
    echo "upstream-e2e: the suite does not build with $($go version) (see above)" >&2; exit 2; }

# The dev server configured like upstream CI's ~/.sandbox.toml for the Go job: no API key,
# 127.0.0.1:8080 (the suite's default address; the suite derives other things, such as
# the LLM endpoint of its agent scenarios, from OPENSANDBOX_TEST_DOMAIN, which CI leaves
# unset), a host-path allow-list holding the volume test's directory, and the named
# volume its PVC test mounts, seeded as CI seeds it.
vol=$work/volumes
rm -rf "$vol"
mkdir -p "$vol/host-volume-test" "$vol/pvc-seed/datasets/train" || exit 2
echo "opensandbox-e2e-marker" > "$vol/host-volume-test/marker.txt"
echo "pvc-marker-data" > "$vol/pvc-seed/marker.txt"
echo "pvc-subpath-marker" > "$vol/pvc-seed/datasets/train/marker.txt"
chmod -R 755 "$vol"
# The egress DNS of sandboxes with a network policy forwards to a loopback port where
# nothing answers: no test traffic leaves the machine.
server_args=(--host 127.0.0.1 --port 8080 --api-key '' --allowed-host-path "$vol"
             --volume-dir "$vol/named" --volume "opensandbox-e2e-pvc-test=$vol/pvc-seed"
             --dns-upstream 127.0.0.1:9)

export RUN_CODE_INTERPRETER_E2E=${RUN_CODE_INTERPRETER_E2E:-true}
export OPENSANDBOX_TEST_USE_SERVER_PROXY=${OPENSANDBOX_TEST_USE_SERVER_PROXY:-false}
export OPENSANDBOX_TEST_HOST_VOLUME_DIR="$vol/host-volume-test"
unset OPENSANDBOX_TEST_DOMAIN OPENSANDBOX_URL OPENSANDBOX_API_KEY LLM_ENDPOINT \
    OPENSANDBOX_CREDENTIAL_VAULT_E2E_TARGET_IP
echo_server=$up/tests/python/tests/support/credential_vault_echo_server.py
start_target=
if [ "${VAULT_TARGET:-false}" = true ]; then
    [ -f "$echo_server" ] || { echo "upstream-e2e: VAULT_TARGET=true needs $echo_server" >&2; exit 2; }
    export OPENSANDBOX_CREDENTIAL_VAULT_E2E_TARGET_IP=127.0.0.2
    start_target=1
fi

# The suite runs from its package directory; with VAULT_TARGET the echo target runs beside it
# (in the namespace: 127.0.0.2 is loopback there too) and is stopped when the suite ends.
run=(python3 "$root/tools/devserver/with_devserver.py" "${server_args[@]}" --
     sh -c 'cd "$1" && shift && if [ -n "$2" ]; then
         OPENSANDBOX_CREDENTIAL_VAULT_ECHO_HOST=127.0.0.2 python3 "$1" & t=$!; shift 2; "$@"; rc=$?
         kill $t; wait $t 2>/dev/null; exit $rc; fi; shift 2; exec "$@"' sh "$mod/tests/go"
     "$echo_server" "$start_target"
     "$go" test -v -count=1 -timeout 30m ${UPSTREAM_E2E_RUN:+-run "$UPSTREAM_E2E_RUN"} ./...)
out=$work/test-output.txt
# Where namespaces can be made (root, or user namespaces allowed): port 8080 in a network
# namespace of its own, so a server already on the host's 8080 does not matter, and an
# empty /tmp of its own, so what the suite writes there (it writes fixed names) neither
# meets an earlier run's files nor stays on the host.
ns=(unshare --net --mount); [ "$(id -u)" = 0 ] || ns+=(--map-root-user)
if "${ns[@]}" true 2>/dev/null; then
    "${ns[@]}" sh -c 'ip link set lo up && mount -t tmpfs -o mode=1777 upstream-e2e /tmp || {
        echo "upstream-e2e: cannot set up the namespace (lo, /tmp)" >&2; exit 125; }; exec "$@"' sh \
        "${run[@]}" 2>&1 | tee "$out"
else
    echo "upstream-e2e: no namespaces; the dev server takes 127.0.0.1:8080 on the host, the suite writes into /tmp"
    "${run[@]}" 2>&1 | tee "$out"
fi
rc=${PIPESTATUS[0]}
pass=$(grep -cE '^ *--- PASS: ' "$out")
fail=$(grep -cE '^ *--- FAIL: ' "$out")
skip=$(grep -cE '^ *--- SKIP: ' "$out")
# each failed test, and each skipped one with the suite's reason (its last log line)
awk '/^=== RUN/ { last = ""; next }
     /^ +[A-Za-z0-9_]+\.go:[0-9]+: / { last = $0; sub(/^ +[A-Za-z0-9_]+\.go:[0-9]+: /, "", last); next }
     /^ *--- SKIP: / { print "upstream-e2e: SKIP " $3 ": " last }
     /^ *--- FAIL: / { print "upstream-e2e: FAIL " $3 }' "$out"
echo "upstream-e2e: output in $out"
echo "upstream-e2e: $pass passed, $fail failed, $skip skipped"
[ "$rc" = 0 ] && [ "$fail" = 0 ] || exit 1
