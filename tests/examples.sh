#!/bin/sh
# tests/examples.sh -- builds every example, runs each against a dev server
# and checks what it prints. Without OPEN_SANDBOX_DOMAIN it starts its own
# dev server (tools/devserver/with_devserver.py) for the whole run.
# The closing line is "N passed, N failed".
cd "$(dirname "$0")/.." || exit 2
if [ -z "$OPEN_SANDBOX_DOMAIN" ]; then
    OPEN_SANDBOX_PROTOCOL=http OPEN_SANDBOX_USE_SERVER_PROXY=false \
        exec ${PYTHON:-python3} tools/devserver/with_devserver.py --command-grace 0.2 -- "$0" "$@"
fi
make -s -j"$(nproc 2>/dev/null || echo 2)" examples >/dev/null || { echo "0 passed, 1 failed"; exit 1; }

passed=0 failed=0
out=$(mktemp /tmp/osb-examples.XXXXXX)
trap 'rm -f "$out"' EXIT

# expect NAME PATTERN... : runs build/examples/NAME (with $EXTRA_ENV in its
# environment), then each extended regex must match some line of its output.
EXTRA_ENV=
expect() {
    name=$1; shift
    if [ -n "$ONLY" ] && [ "$ONLY" != "$name" ]; then return; fi
    ok=1
    if ! env $EXTRA_ENV timeout 120 "build/examples/$name" >"$out" 2>&1; then
        echo "FAIL $name: exit status $?"; ok=0
    fi
    for pat in "$@"; do
        if ! grep -Eq -- "$pat" "$out"; then echo "FAIL $name: no line matches /$pat/"; ok=0; fi
    done
    lines=$(wc -l < "examples/$name.c")
    if [ "$lines" -gt 80 ]; then echo "FAIL $name: $lines lines (keep examples under 80)"; ok=0; fi
    if [ $ok = 1 ]; then passed=$((passed + 1)); echo "ok   $name $EXTRA_ENV"
    else failed=$((failed + 1)); sed 's/^/     | /' "$out"; fi
}

expect quickstart 'sandbox [0-9a-f-]+ is ready' 'stdout \| hello$' 'stdout \| Linux$' 'stderr \| to-stderr$' \
    '^exit code 3$' 'read back 25 bytes: hello from opensandbox.h$' '^sandbox killed$'
# the same through the lifecycle server's proxy, chosen by the environment
EXTRA_ENV=OPEN_SANDBOX_USE_SERVER_PROXY=true
expect quickstart 'through its proxy\)$' 'sandbox [0-9a-f-]+ is ready' 'stdout \| hello$' '^exit code 3$' \
    'read back 25 bytes: hello from opensandbox.h$' '^sandbox killed$'
expect egress '^mode enforcing, default deny: allow \*\.github\.com; deny evil\.example;$'
EXTRA_ENV=
expect streaming '^\[init\] command id [0-9a-f]+' '^\[stdout\] tick 1$' '^\[stdout\] tick 3$' '^\[stderr\] done$' \
    '^\[complete\]' '^exit code 0, 18 stdout bytes$'
expect background 'started [0-9a-f]+ in the background' '^step 1$' '^step 4$' '^finished with exit code 7$'
expect files 'upload +1048576 / 1048576 bytes' 'data.bin 1048576 bytes' 'download +1048576 / 1048576 bytes' \
    '^downloaded copy matches the original$'
expect code_interpreter '^python context ' '^42$' '^hello from python$' '^ZeroDivisionError: division by zero$'
expect egress '^mode enforcing, default deny: allow pypi.org;$' \
    'allow \*\.github\.com; deny evil\.example; allow pypi\.org;$' \
    '^mode enforcing, default deny: allow \*\.github\.com; deny evil\.example;$'
expect metrics '^now: [0-9]+ cpus' '^watch: cpu .* MiB$' '^watch stopped after 3 samples$'
expect manager '^created 3 sandboxes' '^  [0-9a-f-]+ Running ' '^listed 3 \(page size 2\)$' '^killed 3 sandboxes$'
expect fanout '^created 100 sandboxes$' '^ran in 100 of 100, [0-9]+ output bytes; sandbox 0 said: 42 from ' \
    '^killed 100 sandboxes$'
expect snapshots 'snapshot [0-9a-f-]+ \(checkpoint-1\) is Ready' '^restored into sandbox ' '^snapshot deleted$'

# `make demo` on its own: it starts (and stops) a dev server of its own.
if [ -z "$ONLY" ] || [ "$ONLY" = demo ]; then
    if env -u OPEN_SANDBOX_DOMAIN -u OPEN_SANDBOX_API_KEY make -s demo >"$out" 2>&1 &&
        grep -q '^sandbox killed$' "$out" && grep -q 'dev server stopped' "$out"; then
        passed=$((passed + 1)); echo "ok   make demo"
    else
        failed=$((failed + 1)); echo "FAIL make demo"; sed 's/^/     | /' "$out"
    fi
fi

# ... and with OPEN_SANDBOX_DOMAIN set: against that server (this script's)
if [ -z "$ONLY" ] || [ "$ONLY" = demo ]; then
    if make -s demo >"$out" 2>&1 && grep -q "^== quickstart against $OPEN_SANDBOX_DOMAIN\$" "$out" &&
        grep -q "^server $OPEN_SANDBOX_DOMAIN\$" "$out" && grep -q '^sandbox killed$' "$out"; then
        passed=$((passed + 1)); echo "ok   make demo (OPEN_SANDBOX_DOMAIN set)"
    else
        failed=$((failed + 1)); echo "FAIL make demo (OPEN_SANDBOX_DOMAIN set)"; sed 's/^/     | /' "$out"
    fi
fi

# The binaries `make size` measures (static musl, the edge profile: the
# built-in resolver, the quickstart without the families it does not use)
# are programs too: the quickstart and osb from that build against this
# script's dev server. Where musl-gcc is missing this check is skipped.
if { [ -z "$ONLY" ] || [ "$ONLY" = size ]; } && command -v musl-gcc >/dev/null 2>&1; then
    ok=1
    make -s build/size/quickstart build/size/osb >"$out" 2>&1 || ok=0
    if [ $ok = 1 ] && timeout 120 build/size/quickstart >"$out" 2>&1; then
        for pat in 'sandbox [0-9a-f-]+ is ready' 'stdout \| hello$' '^exit code 3$' \
            'read back 25 bytes: hello from opensandbox.h$' '^sandbox killed$'; do
            grep -Eq -- "$pat" "$out" || { echo "FAIL size build quickstart: no line matches /$pat/"; ok=0; }
        done
    else
        ok=0
    fi
    if [ $ok = 1 ]; then
        id=$(timeout 60 build/size/osb -o json sandbox create --image python:3.11 2>"$out" |
            sed -n 's/^  "id": "\([^"]*\)".*/\1/p')
        rc=none
        if [ -n "$id" ]; then
            timeout 60 build/size/osb command run "$id" -- sh -c 'echo "a  b"; exit 3' >"$out" 2>&1
            rc=$?
        fi
        if [ "$rc" != 3 ] || ! grep -qx 'a  b' "$out" || ! timeout 60 build/size/osb sandbox kill "$id" >>"$out" 2>&1; then
            echo "FAIL size build osb: create, command run (exit $rc, want 3), kill"; ok=0
        fi
    fi
    if [ $ok = 1 ]; then passed=$((passed + 1)); echo "ok   size build: quickstart and osb"
    else failed=$((failed + 1)); sed 's/^/     | /' "$out"; fi
fi

echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
