#!/usr/bin/env python3
"""Where the bytes of a static binary go, from the GNU ld map file (-Wl,-Map).

    size-report.py PROGRAM.map [TOP]

Sums every input section the link kept in the loaded output sections (code,
read-only data, data; not debug info, not bss) by where it came from: the
program (opensandbox.h and the caller, one object), libbearssl.a, libc.a,
the rest; then the TOP (default 8) largest members of each archive, and the
program's bytes by output section and its largest functions.
"""
import collections
import re
import sys

LOADED = (".text", ".rodata", ".data", ".data.rel.ro", ".eh_frame", ".init_array", ".fini_array",
          ".tdata", ".got")


def parse(path):
    kept = []          # (output section, input section, size, origin)
    out = None
    pending = None
    in_map = False
    for line in open(path, errors="replace"):
        line = line.rstrip("\n")
        if line.startswith("Linker script and memory map"):
            in_map = True
            continue
        if not in_map:
            continue
        m = re.match(r"^(\.[\w.]+)\s+0x[0-9a-f]+\s+0x[0-9a-f]+", line)
        if m:
            out = m.group(1)
            continue
        m = re.match(r"^(\.[\w.]+)\s*$", line)
        if m and not line.startswith(" "):
            out = m.group(1)
            continue
        m = re.match(r"^ (\.[^\s]+)\s*$", line)
        if m:
            pending = m.group(1)
            continue
        m = re.match(r"^ (\.[^\s]+)?\s+0x([0-9a-f]+)\s+0x([0-9a-f]+)\s+(\S.*)$", line)
        if m and out:
            name = m.group(1) or pending
            pending = None
            size = int(m.group(3), 16)
            if size and name and any(out == s or out.startswith(s + ".") for s in LOADED):
                kept.append((out, name, size, m.group(4)))
            continue
        pending = None
    return kept


def origin(o):
    m = re.match(r"^(.*/)?(lib[\w+-]+\.a)\((.*)\)$", o)
    if m:
        return m.group(2), m.group(3)
    if o.endswith(".o") and ("/tmp/" in o or o.startswith("build/")):
        return "program", o
    return "other", o.rsplit("/", 1)[-1]


def main():
    path = sys.argv[1]
    top = int(sys.argv[2]) if len(sys.argv) > 2 else 8
    kept = parse(path)
    by_lib = collections.Counter()
    by_member = collections.defaultdict(collections.Counter)
    funcs = collections.Counter()
    kinds = collections.Counter()
    for out, name, size, o in kept:
        lib, member = origin(o)
        by_lib[lib] += size
        by_member[lib][member] += size
        if lib == "program":
            kinds[out] += size
            if name.startswith(".text."):
                funcs[name[6:]] += size
    total = sum(by_lib.values())
    print("%s: %d bytes loaded" % (path, total))
    for lib, n in by_lib.most_common():
        print("  %-14s %8d  %4.1f%%" % (lib, n, 100.0 * n / total))
        if lib == "program":
            print("      by section: " + ", ".join("%s %d" % kv for kv in kinds.most_common()))
            items = funcs.most_common(top)
        else:
            items = by_member[lib].most_common(top)
        for what, m in items:
            print("      %8d  %s" % (m, what))


if __name__ == "__main__":
    main()
