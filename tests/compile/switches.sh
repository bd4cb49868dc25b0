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
    "OSB_NO_FAST_EVENTS|^osb__ex_(fast|fast_str|fast_str_v16|fast_str_v64|fast_str_v512|fast_escape|take_line|utf8_valid)$"
    "OSB_NO_AVX2|^osb__ex_fast_str_v(64|512)$"
    "OSB_NO_AVX512|^osb__ex_fast_str_v512$"
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

# OSB_NO_CONFIG_FILE: the file reader is inlined into osb_config_load, so
# the object is checked for the default file's name and the TOML error text
sw=OSB_NO_CONFIG_FILE
file_text='opensandbox/config\.toml|cannot be read \(a string, number'
if obj "$sw" -D"$sw"=1 && g++ -std=c++17 $W -D"$sw"=1 -x c++ -c tests/compile/impl.c -o "$out/$sw-cxx.o" >"$out/$sw-cxx.log" 2>&1; then
    if grep -aqE "$file_text" "$out/all.o" && ! grep -aqE "$file_text" "$out/$sw.o"; then
        ok "$sw=1: builds (C99, C++17), the config file reader is gone ($(( (base - $(text "$sw")) / 1024 )) KB less text)"
    else
        bad "$sw=1: the config file reader's strings are not (only) in the default object"
    fi
else
    bad "$sw=1: does not build" "$out/$sw.log"
fi

all_flags=(-DOSB_NO_CONFIG_FILE=1)
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
# without the config file: a named file is refused, the default one is not
# read (the same program fails with the default build: the named file is
# missing, OSB_ERR_IO, and the default one gives the domain)
mkdir -p "$out/home/.opensandbox"
printf '[connection]\ndomain = "from-file.example:1"\n' > "$out/home/.opensandbox/config.toml"
printf '%s\n' '#define OPENSANDBOX_IMPLEMENTATION' '#include "opensandbox.h"' '#include <string.h>' \
    'int main(void) {' '    osb_config a = {0}, b = {0};' '    int named, dflt;' \
    '    a.file = "build/compile/switches/missing.toml";' '    named = osb_config_load(&a);' \
    '    b.skip_env = 1;' '    dflt = osb_config_load(&b);' \
    '    return !(named == OSB_ERR_UNSUPPORTED && strstr(a.message, "OSB_NO_CONFIG_FILE") && dflt == OSB_OK &&' \
    '             !strcmp(b.client.domain, "localhost:8080") && !strcmp(b.domain_source, "default"));' '}' > "$out/no_config_file.c"
if gcc -std=c99 $W -DOSB_NO_CONFIG_FILE=1 "$out/no_config_file.c" -o "$out/no_config_file" -lm >"$out/no_config_file.log" 2>&1 &&
    HOME="$PWD/$out/home" "$out/no_config_file" >>"$out/no_config_file.log" 2>&1; then
    ok "OSB_NO_CONFIG_FILE=1: osb_config_load refuses a named file (OSB_ERR_UNSUPPORTED), reads no default file"
else
    bad "OSB_NO_CONFIG_FILE=1: a named file is not refused or the default file is read" "$out/no_config_file.log"
fi
if gcc -std=c99 $W "$out/no_config_file.c" -o "$out/config_file" -lm >"$out/config_file.log" 2>&1 &&
    ! HOME="$PWD/$out/home" "$out/config_file" >>"$out/config_file.log" 2>&1; then
    ok "default build: the same program fails (the config file is read)"
else
    bad "default build: the OSB_NO_CONFIG_FILE check cannot fail" "$out/config_file.log"
fi
# OSB_SHORT_ERRNO_TEXT: a refused connection still says so, in musl's
# words, from the library's own table (port 1 on 127.0.0.1: nothing listens)
printf '%s\n' '#define OPENSANDBOX_IMPLEMENTATION' '#include "opensandbox.h"' '#include <stdio.h>' '#include <string.h>' \
    'int main(void) {' '    osb_client_config cfg = {0};' '    osb_client *c = NULL;' '    osb_http_request req = {0};' \
    '    osb_http_response res;' '    osb_err e;' '    cfg.domain = "127.0.0.1:1";' \
    '    if (osb_client_new(&cfg, &c) != OSB_OK) return 2;' '    req.path = "/";' '    e = osb_request_raw(c, &req, &res);' \
    '    puts(osb_client_error(c)->message);' '    return !(e == OSB_ERR_CONNECT && strstr(osb_client_error(c)->message, ": Connection refused;"));' '}' \
    > "$out/errno_text.c"
if gcc -std=c99 $W -DOSB_SHORT_ERRNO_TEXT=1 "$out/errno_text.c" -o "$out/errno_text" -lm >"$out/errno_text.log" 2>&1 &&
    g++ -std=c++17 $W -DOSB_SHORT_ERRNO_TEXT=1 -x c++ -c tests/compile/impl.c -o "$out/errno-cxx.o" >>"$out/errno_text.log" 2>&1 &&
    "$out/errno_text" >>"$out/errno_text.log" 2>&1; then
    ok "OSB_SHORT_ERRNO_TEXT=1: builds (C99, C++17); a refused connect reads \"Connection refused\""
else
    bad "OSB_SHORT_ERRNO_TEXT=1: does not build or the refused connect's message is not the table's" "$out/errno_text.log"
fi
# OSB_TLS_SMALL_CIPHERS: the object no longer refers to the AES-NI/PCLMUL
# selection or the 128-bit Poly1305, and uses the portable AES-GCM instead
if [ -f /usr/include/bearssl/bearssl.h ] || [ -f /usr/include/bearssl.h ]; then
    tls_syms='^(br_ssl_engine_set_default_aes_gcm|br_poly1305_ctmulq_get)$'
    for v in 0 1; do
        gcc -std=c99 $W -O1 -DOSB_TLS=1 -DOSB_TLS_SMALL_CIPHERS=$v -I/usr/include/bearssl -c tests/compile/impl.c \
            -o "$out/tls-ciphers$v.o" >"$out/tls-ciphers$v.log" 2>&1 || bad "OSB_TLS_SMALL_CIPHERS=$v: does not build" "$out/tls-ciphers$v.log"
    done
    g++ -std=c++17 $W -DOSB_TLS=1 -DOSB_TLS_SMALL_CIPHERS=1 -I/usr/include/bearssl -x c++ -c tests/compile/impl.c \
        -o "$out/tls-ciphers-cxx.o" >"$out/tls-ciphers-cxx.log" 2>&1 || bad "OSB_TLS_SMALL_CIPHERS=1: does not build as C++17" "$out/tls-ciphers-cxx.log"
    with=$(nm -u "$out/tls-ciphers0.o" 2>/dev/null | awk '{print $NF}' | grep -cE "$tls_syms")
    left=$(nm -u "$out/tls-ciphers1.o" 2>/dev/null | awk '{print $NF}' | grep -E "$tls_syms" | tr '\n' ' ')
    portable=$(nm -u "$out/tls-ciphers1.o" 2>/dev/null | awk '{print $NF}' | grep -cE '^br_(aes_ct64_ctr_vtable|ghash_ctmul64|poly1305_ctmul_run)$')
    if [ "$with" = 2 ] && [ -z "$left" ] && [ "$portable" = 3 ]; then
        ok "OSB_TLS_SMALL_CIPHERS=1: portable AES-GCM and Poly1305 only (the default refers to the CPU-specific selection)"
    else
        bad "OSB_TLS_SMALL_CIPHERS=1: default refs $with/2, left: $left, portable refs $portable/3"
    fi
else
    echo "skip OSB_TLS_SMALL_CIPHERS check: no BearSSL headers"
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
# files (settings, resolv.conf, hosts, CA files, uploads) are read with
# read(2): the quickstart, which prints with fputs only, links no FILE reading
stdio_read_syms='^(fopen|fopen64|fdopen|fread|fclose|__stdio_read)$'
if command -v musl-gcc >/dev/null 2>&1; then
    for dns in 0 1; do
        if musl-gcc -std=c99 $W -Os -ffunction-sections -fdata-sections -DOSB_DNS=$dns examples/quickstart.c \
                -o "$out/quickstart-dns$dns" -static -Wl,--gc-sections >"$out/quickstart-dns$dns.log" 2>&1; then
            left=$(nm "$out/quickstart-dns$dns" | awk '{print $NF}' | grep -E "$resolver_syms" | sort | tr '\n' ' ')
            if [ "$dns" = 1 ] && [ -z "$left" ]; then ok "OSB_DNS=1: static musl quickstart has no getaddrinfo/pthread_create"
            elif [ "$dns" = 1 ]; then bad "OSB_DNS=1: static musl quickstart still has: $left"
            elif [ -n "$left" ]; then ok "OSB_DNS=0: static musl quickstart has $left"
            else bad "OSB_DNS=0: no resolver symbols found (the OSB_DNS=1 check would prove nothing)"; fi
            left=$(nm "$out/quickstart-dns$dns" | awk '{print $NF}' | grep -E "$stdio_read_syms" | sort | tr '\n' ' ')
            if [ "$dns" = 1 ] && [ -z "$left" ]; then ok "OSB_DNS=1: static musl quickstart reads no file through stdio"
            elif [ "$dns" = 1 ]; then bad "OSB_DNS=1: static musl quickstart links stdio reading: $left"; fi
            if [ "$dns" = 1 ] && ! nm "$out/quickstart-dns1" | awk '{print $NF}' | grep -qx strerror; then
                bad "OSB_DNS=1: no strerror in the quickstart without OSB_SHORT_ERRNO_TEXT (its check proves nothing)"
            fi
        else
            bad "OSB_DNS=$dns: static musl quickstart does not build" "$out/quickstart-dns$dns.log"
        fi
    done
    if musl-gcc -std=c99 $W -Os -ffunction-sections -fdata-sections -DOSB_DNS=1 -DOSB_SHORT_ERRNO_TEXT=1 examples/quickstart.c \
            -o "$out/quickstart-errno" -static -Wl,--gc-sections >"$out/quickstart-errno.log" 2>&1 &&
        ! nm "$out/quickstart-errno" | awk '{print $NF}' | grep -qx strerror; then
        ok "OSB_SHORT_ERRNO_TEXT=1: static musl quickstart links no strerror"
    else
        bad "OSB_SHORT_ERRNO_TEXT=1: static musl quickstart does not build or still links strerror" "$out/quickstart-errno.log"
    fi
else
    echo "skip OSB_DNS=1 symbol check: no musl-gcc (apt-get install musl-tools)"
fi
echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
