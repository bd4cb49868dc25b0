#!/usr/bin/env python3
"""Packs osb's long texts into tools/osb/texts.h: the skills guides
(tools/osb/guides/*.md), the summary and trigger of each SKILL(...) row in
tools/osb/skills.c, the help lines of the command tree and the
options (the last argument of each CMD(...) and OPT(...) row in
tools/osb/main.c, which the build leaves out of the rows) and the texts
written as PACKED_TEXT(NAME, "...") in tools/osb/*.c.

Packed they take about half the bytes in the binary. Format (unpacked by
texts_unpack in tools/osb/plumbing.c): the texts, each ended by a NUL, in
this order: the guides in SKILLS order, each skill's summary and trigger,
the help of each TREE row, then the
help of each option row, table by table in the order of OPT_TABLES, then
the PACKED_TEXT(NAME, ...) texts of tools/osb/*.c (file by file). As a
byte stream where a byte below 0x80 is itself and a byte t >= 0x80 with the
next byte u copies ((t >> 4) & 7) + 3 bytes from ((t & 15) << 8 | u) + 1
bytes back. So the texts must be ASCII.

    python3 tools/osb/pack-texts.py           rewrite tools/osb/texts.h
    python3 tools/osb/pack-texts.py --check   exit 1 if it is not up to date
"""
import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
# The order of SKILLS in tools/osb/skills.c: a guide is found by its row number.
ORDER = ["sandbox-troubleshooting", "sandbox-lifecycle", "command-execution",
         "file-operations", "network-egress", "credential-vault"]
MIN_LEN, MAX_LEN, WINDOW = 3, 10, 4096
LIT = r'"(?:[^"\\\n]|\\.)*"'


def fail(why):
    sys.exit("pack-texts: " + why)


def c_string(lit):
    return lit[1:-1].encode().decode("unicode_escape")


def guides():
    out = []
    for slug in ORDER:
        with open(os.path.join(HERE, "guides", slug + ".md"), "rb") as f:
            text = f.read().decode("ascii", errors="replace")
        if not text.startswith("---\nname: " + slug + "\n"):
            fail("%s.md must start with its front matter (name: %s)" % (slug, slug))
        out.append(text)
    return out


def skill_texts():
    """The summary and trigger of each SKILL(...) row of skills.c, row by row."""
    with open(os.path.join(HERE, "skills.c")) as f:
        src = f.read()
    rows = re.findall(r"\n    SKILL\((%s),\s*(%s),\s*(%s),\s*%s\)" % (LIT, LIT, LIT, LIT), src)
    if [c_string(slug) for slug, _, _ in rows] != ORDER:
        fail("the SKILL rows of skills.c must be SKILL(\"slug\", \"summary\", \"trigger\", \"area\"), in ORDER")
    out = []
    for _, summary, trigger in rows:
        out += [c_string(summary), c_string(trigger)]
    return out


def helps():
    """The help lines of main.c's TREE rows, then of its option rows."""
    with open(os.path.join(HERE, "main.c")) as f:
        src = f.read()
    tree = re.search(r"static const cmd TREE\[\] = \{(.*?)\n\s*\{NULL, NULL", src, re.S)
    if not tree:
        fail("no TREE in main.c")
    rows = re.findall(r"CMD\(%s, \w+, \w+, %s, (%s)," % (LIT, LIT, LIT), tree.group(1))
    if len(rows) != tree.group(1).count("CMD("):
        fail("a TREE row in main.c is not CMD(\"path\", fn, opts, \"usage\", \"help\", ...)")
    out = [c_string(h) for h in rows]
    tables = dict(re.findall(r"static const opt (\w+)\[\] = \{(.*?)\{NULL\}\};", src, re.S))
    listed = re.search(r"static const opt \*const OPT_TABLES\[\] = \{([^}]*)\}", src)
    if not listed:
        fail("no OPT_TABLES in main.c")
    names = [n.strip() for n in listed.group(1).split(",") if n.strip() and n.strip() != "NULL"]
    if sorted(names) != sorted(tables):
        fail("OPT_TABLES in main.c must list every option table once")
    for name in names:
        body = tables[name]
        rows = re.findall(r"OPT\(%s, \"\w?\", \w+, %s, (%s)\)" % (LIT, LIT, LIT), body)
        if len(rows) != body.count("OPT("):
            fail("a row of %s in main.c is not OPT(\"name\", \"short\", kind, \"meta\", \"help\")" % name)
        out += [c_string(h) for h in rows]
    return out


def named():
    """The PACKED_TEXT(NAME, "..." ...) texts of tools/osb/*.c: [(NAME, text)]."""
    out = []
    for name in sorted(os.listdir(HERE)):
        if not name.endswith(".c"):
            continue
        with open(os.path.join(HERE, name)) as f:
            src = f.read()
        found = re.findall(r"\nPACKED_TEXT\((\w+),((?:\s*%s)+)\)\n" % LIT, src)
        if len(found) != len(re.findall(r"\nPACKED_TEXT\(", src)):
            fail("a PACKED_TEXT in %s is not PACKED_TEXT(NAME, \"...\" ...) at the start of a line" % name)
        for ident, lits in found:
            out.append((ident, "".join(c_string(l) for l in re.findall(LIT, lits))))
    return out


def longest_match(data, i, chains):
    """(length, distance) of the longest earlier copy of data[i:] in reach."""
    best = (0, 0)
    for j in reversed(chains.get(data[i:i + MIN_LEN], ())):
        if i - j > WINDOW:
            break
        n = 0
        while n < MAX_LEN and i + n < len(data) and data[j + n] == data[i + n]:
            n += 1
        if n > best[0]:
            best = (n, i - j)
            if n == MAX_LEN:
                break
    return best


def pack(data):
    chains = {}
    out = bytearray()
    noted = 0

    def note(upto):
        nonlocal noted
        while noted < upto:
            chains.setdefault(data[noted:noted + MIN_LEN], []).append(noted)
            noted += 1
    i = 0
    while i < len(data):
        note(i)
        n, dist = longest_match(data, i, chains)
        if n >= MIN_LEN and i + 1 < len(data):
            note(i + 1)
            if longest_match(data, i + 1, chains)[0] > n + 1:
                n = 0   # a literal now buys a longer copy next
        if n >= MIN_LEN:
            out += bytes([0x80 | (n - MIN_LEN) << 4 | (dist - 1) >> 8, (dist - 1) & 255])
            i += n
        else:
            out.append(data[i])
            i += 1
    return bytes(out)


def unpack(packed):
    out = bytearray()
    i = 0
    while i < len(packed):
        t = packed[i]
        if t < 0x80:
            out.append(t)
            i += 1
            continue
        dist = ((t & 15) << 8 | packed[i + 1]) + 1
        for _ in range(((t >> 4) & 7) + MIN_LEN):
            out.append(out[-dist])
        i += 2
    return bytes(out)


def header():
    texts = guides() + skill_texts() + helps()
    names = named()
    first_named = len(texts)
    texts += [t for _, t in names]
    data = b""
    for t in texts:
        if any(ord(c) >= 0x80 or c == "\0" for c in t):
            fail("texts must be ASCII without NUL bytes: %r" % t[:60])
        data += t.encode() + b"\0"
    packed = pack(data)
    assert unpack(packed) == data
    rows = []
    for k in range(0, len(packed), 16):
        rows.append("    " + ", ".join("%d" % b for b in packed[k:k + 16]) + ",")
    return ("/* Generated by tools/osb/pack-texts.py from the files in tools/osb/guides/ and the texts\n"
            " * of the .c files of tools/osb (help lines, PACKED_TEXT); do not edit. %d texts, %d bytes, packed into %d. */\n"
            "enum { TEXTS_UNPACKED = %d%s };\n"
            "static const unsigned char TEXTS_PACKED[%d] = {\n%s\n};\n"
            % (len(texts), len(data), len(packed), len(data),
               "".join(", %s = %d" % (n, first_named + k) for k, (n, _) in enumerate(names)),
               len(packed), "\n".join(rows)))


def main():
    path = os.path.join(HERE, "texts.h")
    text = header()
    if sys.argv[1:] == ["--check"]:
        with open(path) as f:
            if f.read() != text:
                fail("tools/osb/texts.h is out of date; run python3 tools/osb/pack-texts.py")
        return
    with open(path, "w") as f:
        f.write(text)


if __name__ == "__main__":
    main()
