"""Persistent Python interpreter for one code context (run as a child process).

Protocol: one JSON request per line on stdin {"code": "..."}; one JSON message per line on
the original stdout: {"t": "stdout"|"stderr", "text"}, {"t": "result", "count", "text"},
{"t": "error", "ename", "evalue", "traceback"}, {"t": "done", "count"}.
The cell's own file descriptors 0/1/2 point at /dev/null, like a Jupyter kernel's.
"""

import ast
import io
import json
import os
import sys
import traceback


def main():
    proto = os.fdopen(os.dup(1), "w", encoding="utf-8", errors="replace")
    inp = os.fdopen(os.dup(0), "r", encoding="utf-8", errors="replace")
    devnull = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(devnull, fd)

    def send(obj):
        proto.write(json.dumps(obj) + "\n")
        proto.flush()

    class Out(io.TextIOBase):
        def __init__(self, name):
            self.name = name
            self.buf = ""

        def writable(self):
            return True

        def write(self, text):
            if not isinstance(text, str):
                raise TypeError("write() argument must be str, not %s" % type(text).__name__)
            self.buf += text
            if "\n" in text or len(self.buf) > 65536:
                self.flush()
            return len(text)

        def flush(self):
            if self.buf:
                b, self.buf = self.buf, ""
                send({"t": self.name, "text": b})

    out, err = Out("stdout"), Out("stderr")
    sys.stdout, sys.stderr = out, err
    sys.stdin = io.StringIO("")
    env = {"__name__": "__main__", "__builtins__": __builtins__}
    count = 0
    while True:
        try:
            line = inp.readline()
        except KeyboardInterrupt:
            continue
        if not line:
            break
        try:
            code = json.loads(line).get("code", "")
        except ValueError:
            continue
        count += 1
        try:
            try:
                tree = ast.parse(code, "<cell>", "exec")
                last = None
                if tree.body and isinstance(tree.body[-1], ast.Expr):
                    last = ast.Expression(tree.body.pop().value)
                exec(compile(tree, "<cell>", "exec"), env)
                if last is not None:
                    value = eval(compile(last, "<cell>", "eval"), env)
                    if value is not None:
                        env["_"] = value
                        out.flush()
                        err.flush()
                        send({"t": "result", "count": count, "text": repr(value)})
            except BaseException as e:  # the cell's exceptions, KeyboardInterrupt, SystemExit
                out.flush()
                err.flush()
                tb = e.__traceback__
                if tb is not None and tb.tb_next is not None:
                    tb = tb.tb_next
                lines = traceback.format_exception(type(e), e, tb)
                send({"t": "error", "ename": type(e).__name__, "evalue": str(e),
                      "traceback": [l.rstrip("\n") for l in lines]})
            out.flush()
            err.flush()
            send({"t": "done", "count": count})
        except KeyboardInterrupt:
            send({"t": "done", "count": count})


if __name__ == "__main__":
    main()
