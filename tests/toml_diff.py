#!/usr/bin/env python3
"""Differential test of the config file reader against Python's tomllib,
which the official CLI reads ~/.opensandbox/config.toml with.

    python3 tests/toml_diff.py [--count N] [--seed S] [--cc CC]

Generates N config texts (tables, bare and quoted keys, basic and literal
strings on one line or many, escapes, quotes before a closing triple, line-
ending backslashes, CRLF, comments, numbers, booleans, arrays over lines
(nested, with brackets and comments in them), inline tables, lines inside
strings and arrays that look like tables and keys) and N mutated ones,
builds tests/toml_diff_driver.c, and for every text tomllib reads checks
[connection] api_key, [connection] domain and [defaults] image:
  - absent for tomllib <=> absent for the reader;
  - a string: the same bytes; a boolean or integer: the same value;
  - an array or inline table: "cannot be read".
Texts tomllib refuses are not compared there: the library reads only what
it needs from the file. osb checks the whole file first, as the official
CLI refuses a file tomllib cannot read: with build/osb built, `osb config
show` on every 4th text must call the file "not valid TOML" exactly when
tomllib refuses it. Dotted keys are not generated (the CLI writes none; the
reader does not take them). Prints "N passed, N failed".
"""
import os
import random
import shutil
import subprocess
import sys
import tempfile
import tomllib

import diff_driver

LOOKUPS = (("connection", "api_key"), ("connection", "domain"), ("defaults", "image"))
KEYS = ("api_key", "domain", "image", "note", "x")
TABLES = ("connection", "defaults", "output", "other")
PIECES = ("a", "Z", "0", " ", "\t", "#", "=", "[", "]", "'", '"', "\\", "é", "\U0001F600", "api_key = 'x'",
          "[connection]", "\n", "\r\n", ",", "{", "}")


def gen_chars(rnd, allow):
    return "".join(rnd.choice(allow) for _ in range(rnd.randrange(0, 8)))


def gen_basic(rnd):
    out = []
    for _ in range(rnd.randrange(0, 6)):
        r = rnd.random()
        if r < 0.5:
            out.append(gen_chars(rnd, "ab Z0#=[]'é\t"))
        elif r < 0.8:
            out.append(rnd.choice(("\\n", "\\t", "\\\"", "\\\\", "\\b", "\\f", "\\r", "\\u00e9", "\\U0001F600",
                                   "\\u0041", "\\uD800", "\\q", "\\u12")))
        else:
            out.append('"')
    return '"' + "".join(out) + '"'


def gen_multiline(rnd, q, nl):
    out = [q * 3]
    if rnd.random() < 0.5:
        out.append(nl)
    for _ in range(rnd.randrange(0, 6)):
        r = rnd.random()
        if r < 0.3:
            out.append(gen_chars(rnd, "ab Z0#=é\t"))
        elif r < 0.45:
            out.append(nl)
        elif r < 0.55:
            out.append(rnd.choice(("[connection]", "api_key = \"evil\"", "image = 'evil'", "[defaults]")) + nl)
        elif r < 0.7:
            out.append(q * rnd.randrange(1, 3) + "x")
        elif r < 0.85 and q == '"':
            out.append(rnd.choice(("\\n", "\\\"", "\\\\", "\\u00e9", "\\" + nl + "   ", "\\  " + nl, "\\q")))
        else:
            out.append("\\")
    out.append(q * rnd.randrange(3, 7))
    return "".join(out)


def gen_value(rnd, nl):
    r = rnd.random()
    if r < 0.3:
        return gen_basic(rnd)
    if r < 0.45:
        return "'" + gen_chars(rnd, "ab Z0#=[]\"\\é") + "'"
    if r < 0.75:
        return gen_multiline(rnd, rnd.choice(('"', "'")), nl)
    if r < 0.85:
        return rnd.choice(("true", "false", "0", "30", "1_000", "-7", "+3"))
    if r < 0.9:
        return gen_array(rnd, nl, 0)
    return rnd.choice(("{ a = 1 }", '{ a = "]}", b = [1, 2] }', "{ s = '''x" + nl + "]''' }"))


def gen_array(rnd, nl, depth):
    """An array, maybe over lines, with nested arrays, strings holding
    brackets, multi-line strings and comments."""
    items = []
    for _ in range(rnd.randrange(0, 4)):
        r = rnd.random()
        if r < 0.3 and depth < 2:
            items.append(gen_array(rnd, nl, depth + 1))
        elif r < 0.5:
            items.append(rnd.choice(('"[connection]"', "'] # ['", '"\\"]"', '"a,b"')))
        elif r < 0.65:
            items.append(gen_multiline(rnd, rnd.choice(('"', "'")), nl))
        else:
            items.append(gen_basic(rnd))
    sep = rnd.choice((", ", "," + nl + "  ", ", # a comment ]" + nl))
    return "[" + rnd.choice(("", nl)) + sep.join(items) + rnd.choice(("", nl, "," + nl)) + "]"


def gen_doc(rnd):
    nl = "\r\n" if rnd.random() < 0.2 else "\n"
    lines = []
    for t in rnd.sample(TABLES, rnd.randrange(1, 4)):   # each table and key once, as TOML asks
        lines.append(rnd.choice(("[%s]", "[ %s ]", "[\"%s\"]", "['%s']")) % t + rnd.choice(("", "  # t")))
        for k in rnd.sample(KEYS, rnd.randrange(0, 5)):
            key = rnd.choice((k, '"%s"' % k, "'%s'" % k))
            lines.append("%s%s%s=%s%s%s" % (rnd.choice(("", "  ")), key, rnd.choice((" ", "")), rnd.choice((" ", "\t")),
                                            gen_value(rnd, nl), rnd.choice(("", " # c", "\t#c"))))
        if rnd.random() < 0.2:
            lines.append("# a comment")
    return nl.join(lines) + nl


def mutate(rnd, d):
    d = list(d)
    for _ in range(rnd.randrange(1, 4)):
        r = rnd.random()
        at = rnd.randrange(0, len(d) + 1)
        if r < 0.4 and d:
            del d[min(at, len(d) - 1)]
        elif r < 0.8:
            d[at:at] = rnd.choice(PIECES)
        else:
            d = d[:at]
    return "".join(d)


def expected(doc):
    """What tomllib reads for each lookup, or None when it refuses the text."""
    try:
        t = tomllib.loads(doc)
    except (tomllib.TOMLDecodeError, ValueError, RecursionError):
        return None
    want = []
    for table, key in LOOKUPS:
        tab = t.get(table)
        want.append(tab.get(key, KeyError) if isinstance(tab, dict) else KeyError)
    return want


def agrees(want, got):
    n, text = got
    if want is KeyError:
        return n == -1
    if isinstance(want, bool):
        return n >= 0 and text == (b"true" if want else b"false")
    if isinstance(want, int):
        try:
            return n >= 0 and int(text.decode()) == want
        except ValueError:
            return False
    if isinstance(want, str):
        return n >= 0 and text == want.encode("utf-8")
    return n == -2


def main():
    args = diff_driver.arguments()
    exe = diff_driver.build("toml_diff_driver", args.cc)
    rnd = random.Random(args.seed)
    docs = [gen_doc(rnd) for _ in range(args.count)]
    docs += [mutate(rnd, docs[i]) for i in range(args.count)]
    blobs = [d.encode("utf-8", "surrogatepass") for d in docs]
    lines = [x.decode() for x in diff_driver.run(exe, blobs)]
    passed = failed = compared = 0
    for i, d in enumerate(docs):
        want = expected(d)
        if want is None:
            continue
        compared += 1
        fields = lines[i].split(" ")
        got = [(int(fields[2 * k]), b"" if fields[2 * k + 1] == "-" else bytes.fromhex(fields[2 * k + 1]))
               for k in range(3)]
        if all(agrees(w, g) for w, g in zip(want, got)):
            passed += 1
        else:
            failed += 1
            if failed <= 10:
                print("MISMATCH text %d: %r\n  tomllib: %r\n  reader:  %r" % (i, d[:400], want, got))
    osb = os.path.join(diff_driver.BUILD, "osb")
    if os.path.exists(osb):
        home = tempfile.mkdtemp()
        os.makedirs(os.path.join(home, ".opensandbox"))
        path = os.path.join(home, ".opensandbox", "config.toml")
        env = {"HOME": home, "PATH": os.environ.get("PATH", "/usr/bin:/bin")}
        for i in range(0, len(docs), 4):
            with open(path, "wb") as f:
                f.write(blobs[i])
            r = subprocess.run([osb, "config", "show"], env=env, capture_output=True)
            refused = r.returncode == 3 and b"is not valid TOML" in r.stderr
            if refused == (expected(docs[i]) is None):
                passed += 1
            else:
                failed += 1
                if failed <= 10:
                    print("MISMATCH osb's whole-file check, text %d: %r\n  tomllib %s, osb: %r" %
                          (i, docs[i][:400], "refuses" if expected(docs[i]) is None else "reads", r.stderr[:300]))
        shutil.rmtree(home)
    else:
        print("(no build/osb: its whole-file check not compared)")
    print("texts: %d (%d read by tomllib)" % (len(docs), compared))
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
