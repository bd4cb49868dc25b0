#!/usr/bin/env python3
"""Reads validate-log output (file or stdin) and the allowlist; reports Error-level violations
that no allowlist entry covers.  Exit 0 when there are none, 1 otherwise, 2 on a bad allowlist."""

import re
import sys


def load_allowlist(path):
    entries = []
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            parts = [p.strip() for p in line.split(" ;; ")]
            if len(parts) != 3 or not parts[2]:
                sys.stderr.write("%s:%d: expected 'EXCHANGE ;; VIOLATION ;; REASON'\n" % (path, n))
                sys.exit(2)
            try:
                entries.append({"line": n, "ex": re.compile(parts[0]), "vi": re.compile(parts[1]),
                                "reason": parts[2], "used": 0})
            except re.error as e:
                sys.stderr.write("%s:%d: bad regex: %s\n" % (path, n, e))
                sys.exit(2)
    return entries


def main(allowlist, report):
    entries = load_allowlist(allowlist)
    text = open(report, encoding="utf-8", errors="replace").read() if report != "-" else sys.stdin.read()
    exchange = None
    bad = []
    total_errors = 0
    summary = None
    for line in text.splitlines():
        m = re.match(r"^(ok|warn|FAIL)\s+#\d+\s+(.*)$", line)
        if m:
            exchange = m.group(2)
            continue
        m = re.match(r"^\s+Error:\s+(.*)$", line)
        if m and exchange is not None:
            total_errors += 1
            msg = m.group(1)
            for e in entries:
                if e["ex"].search(exchange) and e["vi"].search(msg):
                    e["used"] += 1
                    break
            else:
                bad.append((exchange, msg))
            continue
        if re.match(r"^\d+ passed, \d+ failed", line):
            summary = line
    for e in entries:
        if e["used"]:
            print("allowed %4d x  line %d: %s" % (e["used"], e["line"], e["reason"]))
    if summary:
        print("validate-log: " + summary)
    if bad:
        print("\n%d Error-level violation(s) not in the allowlist:" % len(bad))
        for ex, msg in bad:
            print("  %s\n      %s" % (ex, msg))
        return 1
    print("conformance: OK (%d Error-level violations, all allowlisted)" % total_errors)
    return 0


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit("usage: filter_violations.py ALLOWLIST VALIDATE-LOG-OUTPUT|-")
    sys.exit(main(sys.argv[1], sys.argv[2]))
