#!/usr/bin/env bash
# The compile and link matrix: compilers x language standards with every
# warning an error, OPENSANDBOX_STATIC, two user units + the implementation
# unit, the exported-symbol prefix check, and a Windows cross build.
set -u
cd "$(dirname "$0")/../.."
out=build/compile; mkdir -p "$out"
W="-Wall -Wextra -Werror -pedantic -I."
pass=0; fail=0
run() {  # run NAME COMMAND...
    local name=$1; shift
    if "$@" >"$out/$name.log" 2>&1; then pass=$((pass + 1)); else
        fail=$((fail + 1)); echo "FAIL $name: $*"; head -n 20 "$out/$name.log"; fi
}
for cc in gcc clang; do
    for std in c99 c11; do
        run "$cc-$std" sh -c "$cc -std=$std $W -c tests/compile/impl.c -o $out/impl-$cc-$std.o &&
            $cc -std=$std $W -c tests/compile/user_a.c -o $out/a-$cc-$std.o &&
            $cc -std=$std $W -c tests/compile/user_b.c -o $out/b-$cc-$std.o &&
            $cc $out/impl-$cc-$std.o $out/a-$cc-$std.o $out/b-$cc-$std.o -o $out/link-$cc-$std && $out/link-$cc-$std"
        run "$cc-$std-static" $cc -std=$std $W tests/compile/static_only.c -o "$out/static-$cc-$std"
    done
done
for cxx in g++ clang++; do
    for std in c++11 c++17; do
        run "$cxx-$std" sh -c "$cxx -std=$std $W -x c++ -c tests/compile/impl.c -o $out/impl-$cxx-$std.o &&
            $cxx -std=$std $W -x c++ -c tests/compile/user_a.c -o $out/a-$cxx-$std.o &&
            $cxx -std=$std $W $out/impl-$cxx-$std.o $out/a-$cxx-$std.o -x c++ tests/compile/user_b.c -o $out/link-$cxx-$std"
    done
done
if [ -f /usr/include/bearssl.h ]; then
    run "gcc-c99-tls" sh -c "gcc -std=c99 $W -DOSB_TLS=1 tests/compile/impl.c tests/compile/user_a.c tests/compile/user_b.c -o $out/link-tls -lbearssl && $out/link-tls"
fi
# the manual's TL;DR compiles as it stands
awk '/^ \* TL;DR/{on=1; next} /^ \* THREADS/{on=0} on' opensandbox.h | sed -E 's/^ \*( {0,7})?//' \
    | grep -v '^=*$' > "$out/tldr.c"
run "tldr" gcc -std=c99 $W -c "$out/tldr.c" -o "$out/tldr.o"
# every exported symbol of the implementation starts with osb_
run "nm-prefix" sh -c "gcc -std=c99 $W -c tests/compile/impl.c -o $out/nm.o &&
    ! nm -g --defined-only $out/nm.o | awk '{print \$3}' | grep -v -e '^osb_' -e '^main\$' | grep ."
if command -v x86_64-w64-mingw32-gcc >/dev/null 2>&1; then
    run "mingw-w64" x86_64-w64-mingw32-gcc -std=c99 $W tests/compile/impl.c tests/compile/user_a.c \
        tests/compile/user_b.c -o "$out/link.exe" -lws2_32
else
    echo "skip mingw-w64: x86_64-w64-mingw32-gcc not installed"
fi
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
