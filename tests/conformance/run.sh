#!/usr/bin/env bash
# Records a short valid session against the dev server and checks it:
#   tests/conformance/run.sh [LOG.jsonl]     (default: a temporary file)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
log=${1:-}
if [ -z "$log" ]; then
  log=$(mktemp --suffix=.jsonl)
  trap 'rm -f "$log"' EXIT
fi
python3 "$here/session.py" "$log"
"$here/check.sh" "$log"
