#!/usr/bin/env bash
# The feature switches: each OSB_NO_* builds (C99 and C++17, every warning an
# error), its family's symbols are gone from the implementation object
# (nm; no --gc-sections, so nothing else removes them) while they are there
# without it, and every switch at once still builds and links the quickstart.
# Also prints the object's text size per switch. Closing line: "N passed, N failed".
set -u
cd "$(dirname "$0")/../.."
out=build/compile/switches; mkdir -p "$out"
W="-Wall -Wextra -Werror -pedantic -I."
pass=0; fail=0
ok() { pass=$((pass + 1)); echo "ok   $1"; }
bad() { fail=$((fail + 1)); echo "FAIL $1"; [ -f "${2:-}" ] && head -n 20 "$2"; }

# switch | symbols it leaves out (extended regex over nm's names)
switches=(
    "OSB_NO_EGRESS|^osb_(sandbox_)?egress_(policy|patch|delete)"
    "OSB_NO_VAULT|^osb_(sandbox_)?vault_"
    "OSB_NO_CODE|^osb_(sandbox_)?code(_|$)"
    "OSB_NO_SESSION|^osb_(sandbox_)?session(_|$)"
    "OSB_NO_MANAGER|^osb_manager_"
    "OSB_NO_MULTI|^osb_(multi|transfer)_"
    "OSB_NO_PTY|^osb_(pty_|sandbox_shell$)"
    "OSB_NO_WS|^osb_(ws_|pty_|sandbox_shell$)"
    "OSB_NO_PROXY|^osb_(no_proxy_match|proxy_for|_tunnel|_proxy_parse)$"
)

obj() {  # obj NAME FLAGS...: compiles the implementation unit into $out/NAME.o
    local name=$1; shift
    gcc -std=c99 $W -O1 "$@" -c tests/compile/impl.c -o "$out/$name.o" >"$out/$name.log" 2>&1
}
syms() { nm --defined-only "$out/$1.o" | awk '{print $3}'; }
text() { size "$out/$1.o" | awk 'NR == 2 {print $1}'; }

if obj all; then ok "no switch: builds"; else bad "no switch: builds" "$out/all.log"; fi
base=$(text all)
for s in "${switches[@]}"; do
    sw=${s%%|*} re=${s#*|}
    n=$(syms all | grep -cE "$re")
    if [ "$n" -gt 0 ]; then ok "$sw: $n symbols without the switch"; else bad "$sw: no symbol matches /$re/ without it"; fi
    if obj "$sw" -D"$sw"=1; then
        left=$(syms "$sw" | grep -E "$re" | tr '\n' ' ')
        if [ -z "$left" ]; then ok "$sw=1: builds, its symbols are gone ($(( (base - $(text "$sw")) / 1024 )) KB less text)"
        else bad "$sw=1: symbols left: $left"; fi
    else
        bad "$sw=1: does not build" "$out/$sw.log"
    fi
    if g++ -std=c++17 $W -D"$sw"=1 -x c++ -c tests/compile/impl.c -o "$out/$sw-cxx.o" >"$out/$sw-cxx.log" 2>&1; then
        ok "$sw=1: builds as C++17"
    else
        bad "$sw=1: does not build as C++17" "$out/$sw-cxx.log"
    fi
done

all_flags=()
for s in "${switches[@]}"; do all_flags+=(-D"${s%%|*}"=1); done
if gcc -std=c99 $W -Os "${all_flags[@]}" examples/quickstart.c -o "$out/quickstart" -lm >"$out/quickstart.log" 2>&1; then
    ok "every switch: the quickstart builds and links"
else
    bad "every switch: the quickstart does not build" "$out/quickstart.log"
fi
# a call into a family that is switched off does not compile
printf '#define OPENSANDBOX_IMPLEMENTATION\n#include "opensandbox.h"\nint main(void) { return osb_vault_delete(NULL, NULL); }\n' > "$out/use_vault.c"
if gcc -std=c99 $W -DOSB_NO_VAULT=1 -c "$out/use_vault.c" -o "$out/use_vault.o" >"$out/use_vault.log" 2>&1; then
    bad "OSB_NO_VAULT=1: a call to osb_vault_delete still compiles"
else
    ok "OSB_NO_VAULT=1: a call to osb_vault_delete does not compile"
fi
# without proxies, an explicit proxy is refused and "" (none) is fine
printf '%s\n' '#define OPENSANDBOX_IMPLEMENTATION' '#include "opensandbox.h"' \
    'int main(void) {' '    osb_client_config cfg = {0};' '    osb_client *c = NULL;' '    int bad, none;' '    cfg.domain = "localhost:8080";' \
    '    cfg.proxy = "http://proxy.example:3128";' '    bad = osb_client_new(&cfg, &c);' \
    '    cfg.proxy = "";' '    none = osb_client_new(&cfg, &c);' '    osb_client_free(c);' \
    '    return !(bad == OSB_ERR_UNSUPPORTED && none == OSB_OK);' '}' > "$out/no_proxy.c"
if gcc -std=c99 $W -DOSB_NO_PROXY=1 "$out/no_proxy.c" -o "$out/no_proxy" -lm >"$out/no_proxy.log" 2>&1 &&
    "$out/no_proxy" >>"$out/no_proxy.log" 2>&1; then
    ok "OSB_NO_PROXY=1: osb_client_new refuses an explicit proxy (OSB_ERR_UNSUPPORTED), accepts \"\""
else
    bad "OSB_NO_PROXY=1: an explicit proxy is not refused" "$out/no_proxy.log"
fi
# the terminals need the WebSocket family: asking for them without it is an error
if gcc -std=c99 $W -DOSB_NO_WS=1 -DOSB_NO_PTY=0 -c tests/compile/impl.c -o "$out/ws-pty.o" >"$out/ws-pty.log" 2>&1; then
    bad "OSB_NO_WS=1 with OSB_NO_PTY=0 builds (the terminals need WebSocket)"
elif grep -q 'they need OSB_NO_WS=0' "$out/ws-pty.log"; then
    ok "OSB_NO_WS=1 with OSB_NO_PTY=0: #error says the terminals need WebSocket"
else
    bad "OSB_NO_WS=1 with OSB_NO_PTY=0: failed for another reason" "$out/ws-pty.log"
fi
# OSB_DNS=1, the built-in resolver: a static musl quickstart links neither
# getaddrinfo nor threads (with OSB_DNS=0 it has both, so the check can fail)
if g++ -std=c++17 $W -DOSB_DNS=1 -x c++ -c tests/compile/impl.c -o "$out/dns-cxx.o" >"$out/dns-cxx.log" 2>&1; then
    ok "OSB_DNS=1: builds as C++17"
else
    bad "OSB_DNS=1: does not build as C++17" "$out/dns-cxx.log"
fi
resolver_syms='^(getaddrinfo|freeaddrinfo|pthread_create|pthread_cond_timedwait)$'
if command -v musl-gcc >/dev/null 2>&1; then
    for dns in 0 1; do
        if musl-gcc -std=c99 $W -Os -ffunction-sections -fdata-sections -DOSB_DNS=$dns examples/quickstart.c \
                -o "$out/quickstart-dns$dns" -static -Wl,--gc-sections >"$out/quickstart-dns$dns.log" 2>&1; then
            left=$(nm "$out/quickstart-dns$dns" | awk '{print $NF}' | grep -E "$resolver_syms" | sort | tr '\n' ' ')
            if [ "$dns" = 1 ] && [ -z "$left" ]; then ok "OSB_DNS=1: static musl quickstart has no getaddrinfo/pthread_create"
            elif [ "$dns" = 1 ]; then bad "OSB_DNS=1: static musl quickstart still has: $left"
            elif [ -n "$left" ]; then ok "OSB_DNS=0: static musl quickstart has $left"
            else bad "OSB_DNS=0: no resolver symbols found (the OSB_DNS=1 check would prove nothing)"; fi
        else
            bad "OSB_DNS=$dns: static musl quickstart does not build" "$out/quickstart-dns$dns.log"
        fi
    done
else
    echo "skip OSB_DNS=1 symbol check: no musl-gcc (apt-get install musl-tools)"
fi
echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
