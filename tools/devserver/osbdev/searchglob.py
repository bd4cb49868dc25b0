"""GET /files/search: the pattern language and the walk of execd's search.

execd walks the tree depth first in lexical order (Go's filepath.Walk, which does not follow
symbolic links) and matches the pattern against each non-directory's BASE NAME with a
doublestar-style matcher whose separator is "/":

  *        any run of characters other than "/"
  ?        one character other than "/"
  [...]    a class: ranges a-z, negation with ! or ^, backslash escapes; [] is malformed
  {a,b}    alternatives, nested
  **       at the start of a segment and followed by "/": zero or more directories;
           at the start of a segment at the end of the pattern: everything;
           elsewhere the same as *
  !(x)     the rest of the pattern with x in place of !(x) must NOT match
  \\c      c literally

Because only base names are matched, "**/*.txt" finds every .txt file, top level included,
and "sub/*.txt" finds nothing.  Once the whole name is used up, what is left of the pattern
must be "", "*", "**" or "/**" (or alternatives of those) for a match: "a/**" matches a file
named "a".  A malformed pattern is an error when the matcher reaches it (or, on a failed match,
when the rest of the pattern does not parse).
"""

import os
import stat


class BadPattern(Exception):
    pass


def _closing(s, start, left, right, depth):
    """Index of the bracket that brings depth to 0, honouring backslash escapes; -1 if none."""
    i = start
    while i < len(s):
        c = s[i]
        if c == "\\":
            i += 2
            continue
        if c == left:
            depth += 1
        elif c == right:
            depth -= 1
            if depth == 0:
                return i
        i += 1
    return -1


def _alternatives(s, open_i):
    """(list of alternatives, index of the closing brace) for the brace at open_i."""
    close = _closing(s, open_i + 1, "{", "}", 1)
    if close < 0:
        raise BadPattern()
    alts, depth, start, i = [], 1, open_i + 1, open_i + 1
    while i < close:
        c = s[i]
        if c == "\\":
            i += 2
            continue
        if c == "{":
            depth += 1
        elif c == "}":
            depth -= 1
        elif c == "," and depth == 1:
            alts.append(s[start:i])
            start = i + 1
        i += 1
    alts.append(s[start:close])
    return alts, close


def well_formed(s):
    """Brackets closed, classes non-empty, braces balanced, no trailing backslash."""
    depth, i, n = 0, 0, len(s)
    while i < n:
        c = s[i]
        if c == "\\":
            if i + 1 >= n:
                return False
            i += 2
            continue
        if c == "[":
            i += 1
            if i < n and s[i] in "!^":
                i += 1
            if i >= n or s[i] == "]":
                return False
            while i < n and s[i] != "]":
                i += 2 if s[i] == "\\" else 1
            if i >= n:
                return False
        elif c == "{":
            depth += 1
        elif c == "}":
            if depth == 0:
                return False
            depth -= 1
        i += 1
    return depth == 0


def _empty_ok(rest):
    """Whether what is left of the pattern matches once the name is used up."""
    if rest in ("", "*", "**", "/**"):
        return True
    if rest.startswith("{"):
        alts, close = _alternatives(rest, 0)
        for a in alts:
            if _empty_ok(a + rest[close + 1:]):
                return True
        return False
    if not well_formed(rest):
        raise BadPattern()
    return False


def _class(p, i, ch):
    """Match ch against the class opening at p[i].

    Returns (matched, index after the class when matched, else where matching stopped)."""
    n = len(p)
    i += 1
    if i >= n:
        raise BadPattern()
    negate = p[i] in "!^"
    if negate:
        i += 1
    if i >= n or p[i] == "]":
        raise BadPattern()
    hit, prev = False, None
    while i < n and p[i] != "]":
        c = p[i]
        i += 1
        if prev is not None and c == "-" and i < n and p[i] != "]":
            if p[i] == "\\":
                i += 1
            hi = p[i] if i < n else ""
            i += 1
            if hi and prev <= ch <= hi:
                hit = True
                break
            prev = None
            continue
        if c == "\\":
            c = p[i] if i < n else ""
            i += 1
        if c == ch:
            hit = True
            break
        prev = c
    if hit == negate:
        if i >= n:
            raise BadPattern()
        return False, i
    while i < n and p[i] != "]":
        i += 2 if p[i] == "\\" else 1
    if i >= n:
        raise BadPattern()
    return True, i + 1


class _Frame(object):
    """One matching attempt of a whole pattern (the top level, a {} alternative, a !() body):
    when it fails, the pattern from where it last failed must still be well formed."""

    def __init__(self, pattern):
        self.p = pattern
        self.fail = None

    def run(self, i, name, j):
        if _match(self, i, name, j, True):
            return True
        if self.fail is not None and not well_formed(self.p[self.fail:]):
            raise BadPattern()
        return False


def _match(fr, i, name, j, seg_start):
    p = fr.p
    n = len(p)
    while True:
        if j >= len(name):
            return _empty_ok(p[i:])
        if i >= n:
            fr.fail = n
            return False
        c = p[i]
        if c == "*":
            double = i + 1 < n and p[i + 1] == "*"
            after = i + 2 if double else i + 1
            if double and seg_start:
                if after >= n:
                    return True
                if p[after] == "/":
                    rest, k = after + 1, j
                    while True:
                        if _match(fr, rest, name, k, True):
                            return True
                        slash = name.find("/", k)
                        if slash < 0:
                            return False
                        k = slash + 1
            k = j
            while True:
                if _match(fr, after, name, k, False):
                    return True
                if k >= len(name) or name[k] == "/":
                    return False
                k += 1
        if c == "?":
            if name[j] == "/":
                fr.fail = i
                return False
            i, j, seg_start = i + 1, j + 1, False
            continue
        if c == "[":
            ok, at = _class(p, i, name[j])
            if not ok:
                fr.fail = at
                return False
            i, j, seg_start = at, j + 1, False
            continue
        if c == "!":
            close = _closing(p, i + 1, "(", ")", 0)
            if close < 0:
                raise BadPattern()
            return not _Frame(p[:i] + p[i + 2:close] + p[close + 1:]).run(i, name, j)
        if c == "{":
            alts, close = _alternatives(p, i)
            for a in alts:
                if _Frame(p[:i] + a + p[close + 1:]).run(i, name, j):
                    return True
            return False
        at = i
        if c == "\\":
            i += 1
            if i >= n:
                raise BadPattern()
            c = p[i]
        if c != name[j]:
            fr.fail = at
            return False
        i, j, seg_start = i + 1, j + 1, c == "/"


def match(pattern, name):
    """Whether name matches; BadPattern for a malformed pattern."""
    return _Frame(pattern).run(0, name, 0)


class WalkError(Exception):
    pass


def walk(root):
    """Yield (path, lstat) for every non-directory under root, as filepath.Walk visits them.

    root itself is taken with lstat: a symbolic link to a directory is yielded as an entry."""
    try:
        st = os.lstat(root)
    except FileNotFoundError:
        return
    except OSError as e:
        raise WalkError("error accessing path %s: lstat %s: %s" % (root, root, _go_errno(e)))
    if not stat.S_ISDIR(st.st_mode):
        yield root, st
        return
    try:
        names = sorted(os.listdir(root), key=lambda s: os.fsencode(s))
    except FileNotFoundError:
        return
    except OSError as e:
        raise WalkError("error accessing path %s: open %s: %s" % (root, root, _go_errno(e)))
    for nm in names:
        for item in walk(os.path.join(root, nm)):
            yield item


def _go_errno(e):
    msg = os.strerror(e.errno) if e.errno else str(e)
    return msg[:1].lower() + msg[1:]
