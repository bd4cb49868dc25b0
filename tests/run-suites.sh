#!/usr/bin/env bash
# Runs test suites, each a command whose output ends with "N passed, N failed"
# (", N skipped" optional), and prints the sum as the closing line.
# A failed suite's failure lines are repeated after the last suite, so the
# end of a long log says what failed, not only where.
# usage: tests/run-suites.sh 'name=command' ...
set -u
total_pass=0; total_fail=0; total_skip=0; failed_suites=(); failure_lines=""
for spec in "$@"; do
    name=${spec%%=*}; cmd=${spec#*=}
    echo "== $name"
    out=$(bash -c "$cmd" 2>&1); rc=$?
    printf '%s\n' "$out" | grep -vE '^[0-9]+ passed, [0-9]+ failed' | tail -n 40
    line=$(printf '%s\n' "$out" | grep -E '^(.*: )?[0-9]+ passed, [0-9]+ failed' | tail -n 1)
    p=$(printf '%s' "$line" | sed -nE 's/^(.*: )?([0-9]+) passed.*/\2/p')
    f=$(printf '%s' "$line" | sed -nE 's/.* ([0-9]+) failed.*/\1/p')
    s=$(printf '%s' "$line" | sed -nE 's/.* ([0-9]+) skipped.*/\1/p')
    if [ -z "$line" ]; then  # python unittest: "Ran N tests" then "OK" or "FAILED (failures=1, errors=2)"
        ran=$(printf '%s\n' "$out" | sed -nE 's/^Ran ([0-9]+) tests?.*/\1/p' | tail -n 1)
        if [ -n "$ran" ]; then
            bad=$(printf '%s\n' "$out" | sed -nE 's/^FAILED \((.*)\)/\1/p' | tail -n 1 | grep -oE '(failures|errors)=[0-9]+' | awk -F= '{n += $2} END {print n + 0}')
            s=$(printf '%s\n' "$out" | grep -oE 'skipped=[0-9]+' | tail -n 1 | cut -d= -f2)
            f=${bad:-0}; p=$((ran - f - ${s:-0})); line="Ran $ran"
        fi
    fi
    p=${p:-0}; f=${f:-0}; s=${s:-0}
    if [ -z "$line" ] || { [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; }; then
        f=$((f + 1)); echo "   (exit $rc without a closing line counted as a failure)"
    fi
    if [ "$s" -gt 0 ]; then echo "   $name: $p passed, $f failed, $s skipped"; else echo "   $name: $p passed, $f failed"; fi
    total_pass=$((total_pass + p)); total_fail=$((total_fail + f)); total_skip=$((total_skip + s))
    if [ "$f" -ne 0 ]; then
        failed_suites+=("$name")
        failure_lines+=$(printf '%s\n' "$out" | grep -E '^(FAIL|ERROR)[: ]|^[[:space:]]*[^[:space:]]+:[0-9]+: .*failed|^  [^ ].*: .*failed' |
            sed "s|^|   $name: |" | head -n 20)$'\n'
    fi
done
if [ ${#failed_suites[@]} -ne 0 ]; then
    printf '%s' "$failure_lines" | grep -v '^$' | awk '!seen[$0]++' | tail -n 40
    echo "failed suites: ${failed_suites[*]}"
fi
if [ "$total_skip" -gt 0 ]; then
    echo "$total_pass passed, $total_fail failed, $total_skip skipped"
else
    echo "$total_pass passed, $total_fail failed"
fi
[ "$total_fail" -eq 0 ]
