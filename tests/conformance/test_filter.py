#!/usr/bin/env python3
"""Tests of filter_violations.py (the allowlist matching used by check.sh)."""

import os
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
FILTER = os.path.join(HERE, "filter_violations.py")

REPORT = """FAIL #1 POST /v1/sandboxes -> 202 [sandbox-lifecycle.yml]
       Error: response.header.x-request-id: Response header parameter x-request-id must match format "uuid"
ok   #2 GET /ping -> 200 [execd-api.yaml]
warn #3 POST /v1/sandboxes -> 422 [sandbox-lifecycle.yml]
       Warning: response: Unable to match the returned status code with those defined in the document: 202
FAIL #4 GET /v1/sandboxes/x -> 200 [sandbox-lifecycle.yml]
       Error: response.body: Response body must have required property 'id'
3 passed, 2 failed
"""


def run(allow, report):
    with tempfile.TemporaryDirectory() as d:
        a, r = os.path.join(d, "allow.txt"), os.path.join(d, "report.txt")
        with open(a, "w") as f:
            f.write(allow)
        with open(r, "w") as f:
            f.write(report)
        p = subprocess.run([sys.executable, FILTER, a, r], capture_output=True, text=True, timeout=30)
        return p.returncode, p.stdout + p.stderr


class TestFilter(unittest.TestCase):
    def test_unlisted_error_fails(self):
        rc, out = run('.* ;; x-request-id ;; ids are hex\n', REPORT)
        self.assertEqual(rc, 1)
        self.assertIn("required property 'id'", out)
        self.assertNotIn("Unable to match", out)  # warnings never count

    def test_all_listed_passes(self):
        allow = '# comment\n\n.* ;; x-request-id ;; ids\n^GET /v1/sandboxes/ ;; property .id. ;; test\n'
        rc, out = run(allow, REPORT)
        self.assertEqual(rc, 0, out)
        self.assertIn("all allowlisted", out)

    def test_exchange_regex_must_match_too(self):
        rc, _ = run('.* ;; x-request-id ;; ids\n^POST ;; property .id. ;; wrong method\n', REPORT)
        self.assertEqual(rc, 1)

    def test_entry_without_reason_is_rejected(self):
        rc, out = run('.* ;; x-request-id ;;\n', REPORT)
        self.assertEqual(rc, 2)

    def test_project_allowlist_parses(self):
        with open(os.path.join(HERE, "allowlist.txt")) as f:
            allowlist = f.read()
        rc, out = run(allowlist, "0 passed, 0 failed\n")
        self.assertEqual(rc, 0, out)


if __name__ == "__main__":
    unittest.main()
