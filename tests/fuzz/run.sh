#!/usr/bin/env bash
# Builds every libFuzzer harness in tests/fuzz with clang and ASan+UBSan and
# runs each for FUZZ_SECONDS (default 60; CI uses 30).
#
#   tests/fuzz/run.sh              every harness
#   tests/fuzz/run.sh http json    only these (fuzz_http.c, fuzz_json.c)
#
# Each harness starts from its committed seeds (tests/fuzz/corpus/NAME) plus
# what earlier runs on this machine found (build/fuzz-corpus/NAME, where new
# inputs go). Afterwards the inputs that add coverage are merged back into
# tests/fuzz/corpus/NAME (FUZZ_MERGE=0 leaves the committed seeds alone).
# A crash, leak, sanitizer report or failed property saves the reproducer
# under build/fuzz-crashes/ and makes the script exit non-zero. The closing
# line is "fuzz: N passed, N failed".
#
# Environment: FUZZ_SECONDS, FUZZ_MERGE (1), FUZZ_CC (clang-14, else clang),
# FUZZ_MAX_LEN (4096).
set -u
cd "$(dirname "$0")/../.."
secs=${FUZZ_SECONDS:-60}
merge=${FUZZ_MERGE:-1}
maxlen=${FUZZ_MAX_LEN:-4096}
cc=${FUZZ_CC:-}
if [ -z "$cc" ]; then
    if command -v clang-14 >/dev/null 2>&1; then cc=clang-14
    elif command -v clang >/dev/null 2>&1; then cc=clang
    else echo "fuzz: no clang found (apt-get install clang-14)"; echo "fuzz: 0 passed, 1 failed"; exit 1; fi
fi
out=build/fuzz
crashes=build/fuzz-crashes
mkdir -p "$out" "$crashes"

names=()
if [ $# -gt 0 ]; then
    for n in "$@"; do names+=("${n#fuzz_}"); done
else
    for f in tests/fuzz/fuzz_*.c; do n=$(basename "$f" .c); names+=("${n#fuzz_}"); done
fi

# Harnesses that need more than libc.
libs_for() { case $1 in tls) echo -lbearssl;; esac; }

passed=0; failed=0; summary=()
for n in "${names[@]}"; do
    src=tests/fuzz/fuzz_$n.c
    bin=$out/fuzz_$n
    seeds=tests/fuzz/corpus/$n
    work=build/fuzz-corpus/$n
    log=$out/fuzz_$n.log
    if [ ! -f "$src" ]; then echo "fuzz_$n: no $src"; failed=$((failed + 1)); continue; fi
    echo "== fuzz_$n ($secs s)"
    if ! $cc -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
            -DOSB_FUZZ_LIBFUZZER -I. "$src" -o "$bin" $(libs_for "$n") -lm 2>"$log"; then
        cat "$log"; echo "fuzz_$n: build failed"; failed=$((failed + 1)); summary+=("fuzz_$n: build failed"); continue
    fi
    mkdir -p "$work" "$seeds"
    ASAN_OPTIONS=detect_leaks=1:allocator_may_return_null=1 \
    UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
        "$bin" -max_total_time="$secs" -max_len="$maxlen" -timeout=10 -rss_limit_mb=2048 \
               -print_final_stats=1 -artifact_prefix="$crashes/fuzz_$n-" \
               "$work" "$seeds" >"$log" 2>&1
    rc=$?
    runs=$(sed -nE 's/^stat::number_of_executed_units: *([0-9]+).*/\1/p' "$log" | tail -n 1)
    [ -n "$runs" ] || runs=$(sed -nE 's/^Done ([0-9]+) runs.*/\1/p' "$log" | tail -n 1)
    if [ $rc -ne 0 ]; then
        tail -n 40 "$log"
        repro=$(sed -nE 's/.*Test unit written to (.*)$/\1/p' "$log" | tail -n 1)
        echo "fuzz_$n: FAILED (exit $rc) after ${runs:-?} runs; reproducer: ${repro:-see $log}"
        echo "  replay: $bin ${repro:-<file>}"
        failed=$((failed + 1)); summary+=("fuzz_$n: FAILED, ${runs:-?} runs, reproducer ${repro:-none}")
        continue
    fi
    if [ "$merge" = 1 ]; then
        before=$(ls "$seeds" | wc -l)
        "$bin" -merge=1 -max_len="$maxlen" "$seeds" "$work" >>"$log" 2>&1 || true
        added=$(( $(ls "$seeds" | wc -l) - before ))
    else
        added=0
    fi
    echo "fuzz_$n: ${runs:-?} runs in $secs s, corpus $(ls "$work" | wc -l) found here, $added merged into $seeds"
    summary+=("fuzz_$n: ${runs:-?} runs")
    passed=$((passed + 1))
done
printf '%s\n' "${summary[@]}"
echo "fuzz: $passed passed, $failed failed"
[ $failed -eq 0 ]
