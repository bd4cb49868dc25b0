"""What every execd route module shares: the error type and Go-style request decoding.

execd.py, files.py and ptys.py import from here (and never from each other's modules), so the
imports run one way: lifecycle -> execd -> files, ptys -> execd_base.
"""

import json

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


def getk(d, name, default=None):
    """Go-style case-insensitive key lookup (exact match preferred)."""
    if not isinstance(d, dict):
        return default
    if name in d:
        return d[name]
    low = name.lower()
    for k, v in d.items():
        if k.lower() == low:
            return v
    return default


def decode_json(req, allow_empty=False):
    raw = req.body
    text = raw.decode("utf-8", "replace").lstrip()
    if not text:
        if allow_empty:
            return None
        raise bad_body("EOF")
    try:
        obj, _ = json.JSONDecoder().raw_decode(text)
    except ValueError as e:
        raise bad_body(e.msg if hasattr(e, "msg") else str(e))
    return obj


def want_type(v, types, what):
    if v is None:
        return None
    if isinstance(v, bool) and bool not in types:
        raise bad_body("json: cannot unmarshal bool into Go struct field %s" % what)
    if not isinstance(v, types):
        raise bad_body("json: cannot unmarshal %s into Go struct field %s"
                       % (type(v).__name__, what))
    return v


def want_int(v, what):
    if v is None:
        return None
    if isinstance(v, bool) or not isinstance(v, (int, float)) or (isinstance(v, float) and v != int(v)):
        raise bad_body("json: cannot unmarshal %s into Go struct field %s of type int64"
                       % (type(v).__name__, what))
    return int(v)
