"""Request bodies decoded the way execd's Go handlers decode them.

execd reads bodies with Go's encoding/json into typed structs, so a body is refused for reasons a
Python json.loads never has: a number where a string is expected, a string where an int is
expected, a float or an out-of-range number for an integer, an object for a list.  The messages
are Go's own ("json: cannot unmarshal string into Go struct field Permission.mode of type int",
"invalid character 'x' looking for beginning of value", "unexpected EOF"), because clients show
them.  go-playground/validator's messages for the `required` / `gte` tags are built here too.

Types are described with small tuples:
    STRING, BOOL, INT, INT64, UINT32      scalars (INT and INT64 are both 64 bit)
    ptr(T)                                a Go pointer: null or absent stays None
    map_of(T, "map[string]string")        string-keyed map
    list_of(T, "[]model.RenameFileItem")  slice
    struct(go_name, fields)               fields: [(json name, T)] or (json name, T, embedded in)
"""

STRING = ("string",)
BOOL = ("bool",)
INT = ("int", "int", -(1 << 63), (1 << 63) - 1)
INT64 = ("int", "int64", -(1 << 63), (1 << 63) - 1)
UINT32 = ("int", "uint32", 0, (1 << 32) - 1)


def ptr(t):
    return ("ptr", t)


def map_of(t, go_name):
    return ("map", t, go_name)


def list_of(t, go_name):
    return ("list", t, go_name)


def struct(go_name, fields):
    """go_name is package-qualified ("model.Permission"); errors name the bare type."""
    norm = []
    for f in fields:
        norm.append((f[0], f[1], f[2] if len(f) > 2 else None))
    return ("struct", go_name, norm)


def go_type_name(t):
    k = t[0]
    if k == "string":
        return "string"
    if k == "bool":
        return "bool"
    if k == "int":
        return t[1]
    if k == "ptr":
        return go_type_name(t[1])
    return t[1] if k == "struct" else t[2]


def zero(t):
    k = t[0]
    if k == "string":
        return ""
    if k == "bool":
        return False
    if k == "int":
        return 0
    if k == "struct":
        return {name: zero(ft) for name, ft, _ in t[2]}
    return None  # pointers, maps and slices start nil


class GoJSONError(Exception):
    """The text of the error Go's decoder returns."""


# ------------------------------------------------------------------ syntax

def _quote_char(c):
    if c == 0x27:
        return "'\\''"
    if c == 0x22:
        return "'\"'"
    esc = {7: "\\a", 8: "\\b", 9: "\\t", 10: "\\n", 11: "\\v", 12: "\\f", 13: "\\r", 0x5C: "\\\\"}
    if c in esc:
        return "'" + esc[c] + "'"
    if c < 0x20 or c == 0x7F:
        return "'\\x%02x'" % c
    if 0x80 <= c < 0xA0 or c in (0xA0, 0xAD):
        return "'\\u%04x'" % c
    return "'" + chr(c) + "'"


class _Syntax(Exception):
    def __init__(self, msg):
        Exception.__init__(self, msg)
        self.msg = msg


class _EOF(Exception):
    pass


_WS = b" \t\r\n"
_LITERALS = {0x74: b"true", 0x66: b"false", 0x6E: b"null"}
_LITERAL_NAME = {0x74: "true", 0x66: "false", 0x6E: "null"}


class _Parser(object):
    """One JSON value into a tree of (kind, payload) nodes; numbers keep their literal text."""

    def __init__(self, data):
        self.d = data
        self.i = 0
        self.n = len(data)

    def err(self, c, context):
        raise _Syntax("invalid character %s %s" % (_quote_char(c), context))

    def peek(self):
        if self.i >= self.n:
            raise _EOF()
        return self.d[self.i]

    def skip_ws(self):
        while self.i < self.n and self.d[self.i] in _WS:
            self.i += 1

    def value(self, depth=0):
        self.skip_ws()
        c = self.peek()
        if depth > 10000:
            raise _Syntax("exceeded max depth")
        if c == 0x7B:
            return self.obj(depth)
        if c == 0x5B:
            return self.arr(depth)
        if c == 0x22:
            return ("str", self.string())
        if c == 0x2D or 0x30 <= c <= 0x39:
            return ("num", self.number())
        if c in _LITERALS:
            word = _LITERALS[c]
            for k in range(1, len(word)):
                self.i += 1
                got = self.peek()
                if got != word[k]:
                    self.err(got, "in literal %s (expecting %s)"
                             % (_LITERAL_NAME[c], _quote_char(word[k])))
            self.i += 1
            if c == 0x6E:
                return ("null", None)
            return ("bool", c == 0x74)
        self.err(c, "looking for beginning of value")

    def obj(self, depth):
        self.i += 1
        members = []
        self.skip_ws()
        if self.peek() == 0x7D:
            self.i += 1
            return ("obj", members)
        while True:
            self.skip_ws()
            c = self.peek()
            if c != 0x22:
                self.err(c, "looking for beginning of object key string")
            key = self.string()
            self.skip_ws()
            c = self.peek()
            if c != 0x3A:
                self.err(c, "after object key")
            self.i += 1
            members.append((key, self.value(depth + 1)))
            self.skip_ws()
            c = self.peek()
            self.i += 1
            if c == 0x7D:
                return ("obj", members)
            if c != 0x2C:
                self.i -= 1
                self.err(c, "after object key:value pair")

    def arr(self, depth):
        self.i += 1
        items = []
        self.skip_ws()
        if self.peek() == 0x5D:
            self.i += 1
            return ("arr", items)
        while True:
            items.append(self.value(depth + 1))
            self.skip_ws()
            c = self.peek()
            self.i += 1
            if c == 0x5D:
                return ("arr", items)
            if c != 0x2C:
                self.i -= 1
                self.err(c, "after array element")

    def string(self):
        self.i += 1
        out = bytearray()
        while True:
            c = self.peek()
            self.i += 1
            if c == 0x22:
                return out.decode("utf-8", "replace")
            if c == 0x5C:
                e = self.peek()
                self.i += 1
                simple = {0x62: b"\b", 0x66: b"\f", 0x6E: b"\n", 0x72: b"\r", 0x74: b"\t",
                          0x5C: b"\\", 0x2F: b"/", 0x22: b'"'}
                if e in simple:
                    out += simple[e]
                elif e == 0x75:
                    cp = self.hex4()
                    if 0xD800 <= cp < 0xDC00 and self.d[self.i:self.i + 2] == b"\\u":
                        save = self.i
                        self.i += 2
                        lo = self.hex4()
                        if 0xDC00 <= lo < 0xE000:
                            cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00)
                        else:
                            self.i = save
                            cp = 0xFFFD
                    elif 0xD800 <= cp < 0xE000:
                        cp = 0xFFFD
                    out += chr(cp).encode("utf-8")
                else:
                    self.err(e, "in string escape code")
            elif c < 0x20:
                self.err(c, "in string literal")
            else:
                out.append(c)

    def hex4(self):
        v = 0
        for _ in range(4):
            c = self.peek()
            self.i += 1
            if 0x30 <= c <= 0x39:
                v = v * 16 + c - 0x30
            elif 0x61 <= c <= 0x66:
                v = v * 16 + c - 0x57
            elif 0x41 <= c <= 0x46:
                v = v * 16 + c - 0x37
            else:
                self.err(c, "in \\u hexadecimal character escape")
        return v

    def _digits(self):
        while self.i < self.n and 0x30 <= self.d[self.i] <= 0x39:
            self.i += 1

    def number(self):
        start = self.i
        if self.d[self.i] == 0x2D:
            self.i += 1
            c = self.peek()
            if not 0x30 <= c <= 0x39:
                self.err(c, "in numeric literal")
        if self.d[self.i] == 0x30:
            self.i += 1
        else:
            self._digits()
        if self.i < self.n and self.d[self.i] == 0x2E:
            self.i += 1
            c = self.peek()
            if not 0x30 <= c <= 0x39:
                self.err(c, "after decimal point in numeric literal")
            self._digits()
        if self.i < self.n and self.d[self.i] in (0x65, 0x45):
            self.i += 1
            c = self.peek()
            if c in (0x2B, 0x2D):
                self.i += 1
                c = self.peek()
            if not 0x30 <= c <= 0x39:
                self.err(c, "in exponent of numeric literal")
            self._digits()
        return self.d[start:self.i].decode("ascii")


def parse_stream(data):
    """json.NewDecoder(r).Decode: the first value; what follows it is not read."""
    p = _Parser(data)
    p.skip_ws()
    if p.i >= p.n:
        raise GoJSONError("EOF")
    try:
        node = p.value()
    except _EOF:
        raise GoJSONError("unexpected EOF")
    except _Syntax as e:
        raise GoJSONError(e.msg)
    return node


def parse_whole(data):
    """json.Unmarshal: exactly one value, only white space after it."""
    p = _Parser(data)
    try:
        node = p.value()
        p.skip_ws()
        if p.i < p.n:
            p.err(p.d[p.i], "after top-level value")
    except _EOF:
        raise GoJSONError("unexpected end of JSON input")
    except _Syntax as e:
        raise GoJSONError(e.msg)
    return node


# ------------------------------------------------------------------ typed decoding

_KIND_WORD = {"obj": "object", "arr": "array", "str": "string", "bool": "bool", "num": "number"}


class _Decoder(object):
    def __init__(self):
        self.first_error = None
        self.struct = None   # the innermost Go struct type being filled
        self.stack = []      # field path from the root

    def type_error(self, what, t):
        if self.first_error is not None:
            return
        if self.struct is not None or self.stack:
            self.first_error = ("json: cannot unmarshal %s into Go struct field %s.%s of type %s"
                                % (what, self.struct or "", ".".join(self.stack), go_type_name(t)))
        else:
            self.first_error = ("json: cannot unmarshal %s into Go value of type %s"
                                % (what, go_type_name(t)))

    def decode(self, node, t, current):
        kind, payload = node
        k = t[0]
        if k == "ptr":
            if kind == "null":
                return None
            return self.decode(node, t[1], current if current is not None else zero(t[1]))
        if kind == "null":
            if k in ("map", "list"):
                return None
            return current  # null leaves a string, number, bool or struct alone
        if k == "string":
            if kind == "str":
                return payload
            self.type_error(_KIND_WORD[kind], t)
            return current
        if k == "bool":
            if kind == "bool":
                return payload
            self.type_error(_KIND_WORD[kind], t)
            return current
        if k == "int":
            if kind != "num":
                self.type_error(_KIND_WORD[kind], t)
                return current
            lit = payload
            try:
                v = int(lit)
            except ValueError:
                v = None
            if v is None or not t[2] <= v <= t[3]:
                self.type_error("number " + lit, t)
                return current
            return v
        if k == "map":
            if kind != "obj":
                self.type_error(_KIND_WORD[kind], t)
                return current
            out = dict(current) if current else {}
            for key, sub in payload:
                out[key] = self.decode(sub, t[1], zero(t[1]))
            return out
        if k == "list":
            if kind != "arr":
                self.type_error(_KIND_WORD[kind], t)
                return current
            return [self.decode(sub, t[1], zero(t[1])) for sub in payload]
        # struct
        if kind != "obj":
            self.type_error(_KIND_WORD[kind], t)
            return current
        out = dict(current) if current is not None else zero(t)
        fields = t[2]
        for key, sub in payload:
            f = None
            for cand in fields:
                if cand[0] == key:
                    f = cand
                    break
            if f is None:
                low = key.lower()
                for cand in fields:
                    if cand[0].lower() == low:
                        f = cand
                        break
            if f is None:
                continue  # unknown members are ignored
            name, ft, embedded = f
            saved = (self.struct, len(self.stack))
            if embedded:
                self.stack.append(embedded)
            self.struct = t[1].split(".")[-1]
            self.stack.append(name)
            out[name] = self.decode(sub, ft, out.get(name))
            self.struct, depth = saved
            del self.stack[depth:]
        return out


def decode(data, t, whole=False):
    """Decode bytes into type t; raises GoJSONError with Go's message.

    whole=False is json.Decoder.Decode (execd's request bodies); whole=True is json.Unmarshal."""
    node = parse_whole(data) if whole else parse_stream(data)
    d = _Decoder()
    v = d.decode(node, t, zero(t))
    if d.first_error is not None:
        raise GoJSONError(d.first_error)
    return v


# ------------------------------------------------------------------ validator

def validation_error(struct_name, failures):
    """go-playground/validator's ValidationErrors text for [(GoField, tag)]."""
    return "\n".join("Key: '%s.%s' Error:Field validation for '%s' failed on the '%s' tag"
                     % (struct_name, f, f, tag) for f, tag in failures)
