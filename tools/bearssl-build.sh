#!/bin/sh
# bearssl-build.sh CC OUT.a [CFLAGS...] -- BearSSL compiled with CC into OUT.a,
# for targets Debian has no libbearssl-dev for (mingw-w64), or for a build
# with our own flags (make size). The source is Debian's source package
# (`apt-get source bearssl`), fetched once into build/bearssl-src; it needs a
# deb-src line in apt's sources (`tools/ensure-deps.sh wine` adds one).
# Default CFLAGS: -Os -ffunction-sections -fdata-sections.
set -eu
cc=${1:?usage: bearssl-build.sh CC OUT.a [CFLAGS...]}
out=${2:?usage: bearssl-build.sh CC OUT.a [CFLAGS...]}
shift 2
flags=${*:--Os -ffunction-sections -fdata-sections}
root=$(cd "$(dirname "$0")/.." && pwd)
src=$root/build/bearssl-src
if [ ! -f "$src/inc/bearssl.h" ]; then
    dl=$root/build/bearssl-dl
    rm -rf "$dl" && mkdir -p "$dl"
    (cd "$dl" && apt-get source -qq bearssl >/dev/null 2>&1) || {
        echo "bearssl-build.sh: apt-get source bearssl failed (no deb-src line? run tools/ensure-deps.sh wine as root)" >&2
        exit 1; }
    rm -rf "$src"
    mv "$dl"/bearssl-*/ "$src"
    rm -rf "$dl"
fi
ar=$(echo "${cc%% *}" | sed -n "s/gcc$/ar/p")
[ -n "$ar" ] && command -v "$ar" >/dev/null 2>&1 || ar=ar
obj=$(mktemp -d "${TMPDIR:-/tmp}/bearssl-obj.XXXXXX")
trap 'rm -rf "$obj"' EXIT
# shellcheck disable=SC2086
find "$src/src" -name '*.c' | sort | while read -r f; do
    echo "$f $obj/$(echo "${f#"$src"/src/}" | tr / _ | sed 's/\.c$/.o/')"
done | xargs -P "$(nproc 2>/dev/null || echo 2)" -n 2 sh -c \
    "$cc $flags -I'$src/inc' -I'$src/src' -c \"\$0\" -o \"\$1\"" || exit 1
mkdir -p "$(dirname "$out")"
rm -f "$out"
$ar rcs "$out" "$obj"/*.o
echo "bearssl-build.sh: $out ($(ls "$obj" | wc -l) objects, $cc $flags)"
