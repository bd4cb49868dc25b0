#!/bin/sh
# bench/deps.sh -- what `make bench` needs that a fresh Debian 12 machine
# lacks: nginx-light, ab (apache2-utils), libcurl + cJSON + jsmn headers,
# GNU time, and the official JS SDK from npm (into build/bench-npm). Missing
# optional peers are reported by bench/run.py, not fatal here.
set -u
need=""
for pkg in nginx-light apache2-utils time curl libcurl4-openssl-dev libcjson-dev libjsmn-dev \
           libbearssl-dev openssl; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "ok installed" || need="$need $pkg"
done
if [ -n "$need" ]; then
    echo "bench: installing$need"
    if [ "$(id -u)" = 0 ]; then
        apt-get update -qq >/dev/null 2>&1
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $need >/dev/null
    else
        echo "bench: not root: install$need yourself" >&2
        exit 1
    fi
fi
sdk=build/bench-npm/node_modules/@alibaba-group/opensandbox/dist/index.js
if [ ! -f "$sdk" ] && command -v npm >/dev/null 2>&1; then
    mkdir -p build/bench-npm
    echo "bench: npm install @alibaba-group/opensandbox into build/bench-npm"
    timeout 300 npm install --silent --no-audit --no-fund --prefix build/bench-npm \
        @alibaba-group/opensandbox@0.1.11 >/dev/null 2>&1 ||
        echo "bench: the JS SDK could not be installed; its rows will be skipped" >&2
fi
exit 0
