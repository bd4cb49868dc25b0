"""What every execd route module shares: the error type and Go-style error texts.

execd.py, files.py and ptys.py import from here (and never from each other's modules), so the
imports run one way: lifecycle -> execd -> files, ptys -> execd_base.
"""

import os
import re

JSON_CT = "application/json; charset=utf-8"


class ExecdError(Exception):
    def __init__(self, status, code, message):
        Exception.__init__(self, message)
        self.status = status
        self.code = code
        self.message = message


def bad_body(detail):
    return ExecdError(400, "INVALID_REQUEST_BODY",
                      "error parsing request, MAYBE invalid body format. %s" % detail)


def go_err(op, path, e):
    """Go's *PathError text: "open /x: no such file or directory"."""
    msg = os.strerror(e.errno) if getattr(e, "errno", None) else str(e)
    return "%s %s: %s" % (op, path, msg[:1].lower() + msg[1:])


def parse_go_int(raw):
    """strconv.ParseInt(raw, 10, 64); None when Go would refuse it."""
    if not re.match(r"^[+-]?[0-9]+$", raw or ""):
        return None
    v = int(raw)
    return v if -(1 << 63) <= v < (1 << 63) else None
