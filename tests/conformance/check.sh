#!/usr/bin/env bash
# Validates a recorded exchange log against the OpenSandbox specs and fails only on
# Error-level violations that tests/conformance/allowlist.txt does not list.
#   tests/conformance/check.sh LOG.jsonl
# validate-log is taken from $OSB_VALIDATE_LOG, default ../shared/conformance/validate-log
# next to the repository (it installs @stoplight/prism-cli with npm on first use).
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
log=${1:-}
[ -n "$log" ] && [ -f "$log" ] || { echo "usage: tests/conformance/check.sh LOG.jsonl" >&2; exit 2; }
validate=${OSB_VALIDATE_LOG:-$root/../shared/conformance/validate-log}
[ -x "$validate" ] || { echo "check.sh: validate-log not found at $validate (set OSB_VALIDATE_LOG)" >&2; exit 2; }
out=$(mktemp)
trap 'rm -f "$out"' EXIT
"$validate" "$log" >"$out" 2>&1
rc=$?
if [ "$rc" -ne 0 ] && [ "$rc" -ne 1 ]; then
  cat "$out" >&2
  echo "check.sh: validate-log failed to run (exit $rc)" >&2
  exit 2
fi
python3 "$here/filter_violations.py" "$here/allowlist.txt" "$out"
