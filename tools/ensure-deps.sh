#!/usr/bin/env bash
# Installs what the build and the tests need on a fresh Debian machine (as
# root, through apt-get), or says exactly what to run. Quiet when all is there.
set -u
need_pkgs=()
have() { command -v "$1" >/dev/null 2>&1; }
have gcc || need_pkgs+=(gcc)
have g++ || need_pkgs+=(g++)
have make || need_pkgs+=(make)
have python3 || need_pkgs+=(python3)
have clang || need_pkgs+=(clang)
have valgrind || need_pkgs+=(valgrind)
have musl-gcc || need_pkgs+=(musl-tools)
have x86_64-w64-mingw32-gcc || need_pkgs+=(gcc-mingw-w64-x86-64)
have openssl || need_pkgs+=(openssl)
[ -f /usr/include/bearssl.h ] || need_pkgs+=(libbearssl-dev)
# sanitizer and libFuzzer runtimes for clang (make check, make fuzz)
ls /usr/lib/llvm-*/lib/clang/*/lib/linux/libclang_rt.fuzzer-x86_64.a >/dev/null 2>&1 \
    || [ "$(uname -m)" != x86_64 ] || need_pkgs+=(libclang-rt-14-dev)
have node || need_pkgs+=(nodejs npm)   # the conformance validator
python3 -c 'import yaml' 2>/dev/null || need_pkgs+=(python3-yaml)   # tests/test_cli.py: the official -o yaml
# tools/devserver gives each sandbox its own namespaces with these (tests/devserver/test_isolation.py)
{ have unshare && have nsenter && have setpriv && have setsid && have pivot_root; } || need_pkgs+=(util-linux)
have mount || need_pkgs+=(mount)
have ip || need_pkgs+=(iproute2)   # a sandbox's own network namespace (networkPolicy)
have nft || need_pkgs+=(nftables)  # and its credential proxy (credentialProxy)
# `ensure-deps.sh upstream-e2e` (make test-upstream-e2e only): Go and testify
if [ "${1:-}" = upstream-e2e ]; then
    have go || need_pkgs+=(golang-go)
    [ -d /usr/share/gocode/src/github.com/stretchr/testify/require ] \
        || need_pkgs+=(golang-github-stretchr-testify-dev)
fi
# `ensure-deps.sh cross` (make cross / test-cross): cross gcc, qemu-user, and
# the targets' BearSSL and musl through Debian multiarch; `... wine` (make
# test-wine): wine64 to run the mingw-w64 builds
foreign=() norec=
case "${1:-}" in cross|wine) norec=--no-install-recommends;; esac
if [ "${1:-}" = cross ]; then
    have aarch64-linux-gnu-gcc || need_pkgs+=(gcc-aarch64-linux-gnu)
    have arm-linux-gnueabihf-gcc || need_pkgs+=(gcc-arm-linux-gnueabihf)
    have s390x-linux-gnu-gcc || need_pkgs+=(gcc-s390x-linux-gnu)
    have qemu-aarch64 || need_pkgs+=(qemu-user)
    have file || need_pkgs+=(file)
    [ -f /usr/lib/aarch64-linux-gnu/libbearssl.a ] || { foreign+=(arm64); need_pkgs+=(libbearssl-dev:arm64); }
    [ -f /usr/lib/aarch64-linux-musl/musl-gcc.specs ] || { foreign+=(arm64); need_pkgs+=(musl-dev:arm64); }
    [ -f /usr/lib/arm-linux-gnueabihf/libbearssl.a ] || { foreign+=(armhf); need_pkgs+=(libbearssl-dev:armhf); }
    [ -f /usr/lib/arm-linux-musleabihf/musl-gcc.specs ] || { foreign+=(armhf); need_pkgs+=(musl-dev:armhf); }
    [ -f /usr/lib/s390x-linux-gnu/libbearssl.a ] || { foreign+=(s390x); need_pkgs+=(libbearssl-dev:s390x); }
    # s390x builds static glibc (no musl specs for it here): its C library's
    # headers and archives, only a recommendation of the cross gcc
    [ -f /usr/lib/s390x-linux-musl/musl-gcc.specs ] || [ -f /usr/s390x-linux-gnu/include/stdint.h ] \
        || need_pkgs+=(libc6-dev-s390x-cross)
fi
if [ "${1:-}" = wine ]; then
    { have wine && [ -x /usr/lib/wine/wine64 ]; } || need_pkgs+=(wine wine64)
    have dpkg-source || need_pkgs+=(dpkg-dev)
    # BearSSL for mingw-w64 is built from Debian's source package
    # (tools/bearssl-build.sh): apt needs a deb-src line for it
    if [ ! -f "$(dirname "$0")/../build/bearssl-src/inc/bearssl.h" ] && [ "$(id -u)" = 0 ] &&
        ! grep -rqs '^Types:.*deb-src\|^deb-src ' /etc/apt/sources.list /etc/apt/sources.list.d/; then
        printf 'Types: deb-src\nURIs: http://deb.debian.org/debian\nSuites: %s\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' \
            "$(. /etc/os-release && echo "${VERSION_CODENAME:-bookworm}")" > /etc/apt/sources.list.d/osb-deb-src.sources
        echo "added /etc/apt/sources.list.d/osb-deb-src.sources (apt-get source bearssl)" >&2
        apt-get update -qq >/dev/null 2>&1 || true
    fi
fi
# The official JavaScript SDK for tests/jssdk (npm into build/, never global); without node,
# npm or the registry that suite is skipped, so a failure here is only reported.
jssdk() {
    [ -f build/jssdk/node_modules/@alibaba-group/opensandbox/package.json ] && return 0
    have node && have npm || return 0
    mkdir -p build/jssdk
    timeout 300 npm install --no-audit --no-fund --prefix build/jssdk --cache build/npm-cache \
        "@alibaba-group/opensandbox@${OSB_JSSDK_VERSION:-0.1.11}" >build/jssdk-install.log 2>&1 \
        || echo "npm could not install @alibaba-group/opensandbox (build/jssdk-install.log); the jssdk suite will be skipped" >&2
    return 0
}
[ ${#need_pkgs[@]} -eq 0 ] && { jssdk; exit 0; }
if [ ${#foreign[@]} -gt 0 ] && [ "$(id -u)" = 0 ] && have dpkg; then
    for a in $(printf '%s\n' "${foreign[@]}" | sort -u); do
        dpkg --print-foreign-architectures | grep -qx "$a" || dpkg --add-architecture "$a"
    done
fi
if [ "$(id -u)" = 0 ] && have apt-get; then
    echo "installing: ${need_pkgs[*]}" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >/dev/null 2>&1 || true
    apt-get install -y -qq $norec "${need_pkgs[@]}" >/dev/null 2>&1 || {
        echo "apt-get install ${need_pkgs[*]} failed" >&2; exit 1; }
else
    echo "missing: ${need_pkgs[*]}; run: sudo apt-get install ${need_pkgs[*]}" >&2
    exit 1
fi
jssdk
