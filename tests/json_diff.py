#!/usr/bin/env python3
"""Differential test of the JSON tokenizer (and writer) against Python's json.

    python3 tests/json_diff.py [--count N] [--seed S] [--cc CC]

Generates N valid documents (random values, random whitespace, escapes,
astral characters, number spellings) and N mutated ones (bytes deleted,
inserted, replaced, truncated), builds tests/json_diff_driver.c, and checks
for every document:
  - Python accepts it  <=> the C tokenizer accepts it;
  - when accepted, the C driver's re-encoding (tokenizer -> osb_jw) loads in
    Python to a value equal to Python's own reading (floats compared exactly).
Python's reading is made to follow the library's documented policy: input
must be UTF-8, NaN/Infinity are rejected, and a string holding a lone
surrogate (from a \\ud800 escape) is rejected. Prints "N passed, N failed".
"""
import json
import random
import sys

import diff_driver

INVALID = object()


def reject_constant(name):
    raise ValueError("constant " + name)


def has_surrogate(v):
    if isinstance(v, str):
        try:
            v.encode("utf-8")
            return False
        except UnicodeEncodeError:
            return True
    if isinstance(v, list):
        return any(has_surrogate(x) for x in v)
    if isinstance(v, dict):
        return any(has_surrogate(k) or has_surrogate(x) for k, x in v.items())
    return False


def py_read(data):
    try:
        text = data.decode("utf-8")
        v = json.loads(text, parse_constant=reject_constant)
    except (UnicodeDecodeError, ValueError, RecursionError):
        return INVALID
    if has_surrogate(v):
        return INVALID
    return v


# ---- generation ---------------------------------------------------------------

CHARS = (["a", "b", "Z", "0", " ", "/", "\"", "\\", "\n", "\t", "\r", "\b", "\f", "\x00", "\x01",
          "\x1f", "\x7f", "é", "€", "中", "\u2028", "\ufeff", "😀", "\U0010ffff", "<", ">", "&"])


def gen_string(rnd):
    n = rnd.choice([0, 1, 2, 5, 10, 40, 300])
    return "".join(rnd.choice(CHARS) for _ in range(n))


def gen_number_text(rnd):
    k = rnd.randrange(12)
    if k == 0:
        return str(rnd.choice([0, -1, 1, 2**63 - 1, -2**63, 2**63, 2**64, -2**63 - 1, 10**30]))
    if k == 1:
        return str(rnd.randrange(-10**6, 10**6))
    if k == 2:
        return repr(rnd.uniform(-1e6, 1e6))
    if k == 3:
        return repr(rnd.random() * 10 ** rnd.randrange(-320, 309))
    if k == 4:
        return "%d.%de%s%d" % (rnd.randrange(0, 10), rnd.randrange(0, 10**rnd.randrange(1, 25)),
                               rnd.choice(["", "+", "-"]), rnd.randrange(0, 400))
    if k == 5:
        return rnd.choice(["-0", "-0.0", "0e0", "0E-0", "1E400", "-1e400", "1e-400", "5e-324",
                           "2.2250738585072011e-308", "1.7976931348623157e308",
                           "9007199254740993", "0.1", "1e23", "8.5e-322", "4.9e-324"])
    if k == 6:
        digits = "".join(rnd.choice("0123456789") for _ in range(rnd.randrange(1, 60)))
        return rnd.choice(["", "-"]) + "0." + digits + rnd.choice(["", "e" + str(rnd.randrange(-30, 30))])
    if k == 7:
        return str(rnd.randrange(-2**64, 2**64))
    return str(rnd.randrange(-1000, 1000))


class Num:
    """A number kept as its exact text."""

    def __init__(self, text):
        self.text = text


def gen_value(rnd, depth):
    k = rnd.randrange(10 if depth < 6 else 6)
    if k == 0:
        return None
    if k == 1:
        return rnd.choice([True, False])
    if k in (2, 3):
        return Num(gen_number_text(rnd))
    if k in (4, 5):
        return gen_string(rnd)
    if k in (6, 7):
        return [gen_value(rnd, depth + 1) for _ in range(rnd.randrange(0, 6))]
    return {gen_string(rnd): gen_value(rnd, depth + 1) for _ in range(rnd.randrange(0, 6))}


WS = ["", "", "", " ", "\n", "\t", "\r\n", "  "]


def encode(rnd, v):
    ws = lambda: rnd.choice(WS)
    if isinstance(v, Num):
        return v.text
    if isinstance(v, str):
        ascii_only = rnd.random() < 0.5
        s = json.dumps(v, ensure_ascii=ascii_only)
        if rnd.random() < 0.3:
            # random escape spellings: \/ and upper-case \u hex
            s = s.replace("/", "\\/").replace("\\u00e9", "\\u00E9")
        return s
    if v is None:
        return "null"
    if v is True:
        return "true"
    if v is False:
        return "false"
    if isinstance(v, list):
        return "[" + ws() + ("," + ws()).join(encode(rnd, x) + ws() for x in v) + "]"
    return "{" + ws() + ("," + ws()).join(
        encode(rnd, k) + ws() + ":" + ws() + encode(rnd, x) + ws() for k, x in v.items()) + "}"


INTERESTING = b'{}[],:"\\0-+e.E \x00\x1f\x7f\xff\xc3\x80\xed\xa0utfnl1'


def mutate(rnd, data):
    b = bytearray(data)
    for _ in range(rnd.randrange(1, 4)):
        op = rnd.randrange(5)
        if not b:
            b.append(rnd.choice(INTERESTING))
            continue
        i = rnd.randrange(len(b))
        if op == 0:
            del b[i]
        elif op == 1:
            b.insert(i, rnd.choice(INTERESTING))
        elif op == 2:
            b[i] = rnd.choice(INTERESTING)
        elif op == 3:
            del b[i:]
        else:
            b[i:i] = rnd.choice([b"\\ud800", b"\\udc00", b"\\u", b"01", b",]", b",}", b"\xef\xbb\xbf"])
    return bytes(b)


def equal(a, b):
    """Deep equality; floats exactly (and -0.0 only equals 0 by value, as in
    Python)."""
    if isinstance(a, dict) and isinstance(b, dict):
        return list(a.keys()) == list(b.keys()) and all(equal(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(equal(x, y) for x, y in zip(a, b))
    if isinstance(a, bool) or isinstance(b, bool):
        return a is b
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return a == b
    return a == b


def main():
    args = diff_driver.arguments()
    exe = diff_driver.build("json_diff_driver", args.cc)
    rnd = random.Random(args.seed)
    docs = []
    for _ in range(args.count):
        docs.append(encode(rnd, gen_value(rnd, 0)).encode("utf-8", "surrogatepass"))
    for i in range(args.count):
        docs.append(mutate(rnd, docs[i]))
    lines = diff_driver.run(exe, docs)
    passed = failed = 0
    valid = 0
    for i, d in enumerate(docs):
        want = py_read(d)
        got = lines[i]
        ok = True
        if want is INVALID:
            ok = got.startswith(b"ERR ")
        else:
            valid += 1
            if not got.startswith(b"OK "):
                ok = False
            else:
                back = py_read(got[3:])
                ok = back is not INVALID and equal(want, back)
        if ok:
            passed += 1
        else:
            failed += 1
            if failed <= 10:
                print("MISMATCH doc %d: %r\n  python: %s\n  c:      %r" %
                      (i, d[:300], "invalid" if want is INVALID else repr(want)[:300], got[:300]))
    print("documents: %d (%d valid for Python)" % (len(docs), valid))
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
