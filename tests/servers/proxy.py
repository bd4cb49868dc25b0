#!/usr/bin/env python3
"""An HTTP proxy for tests/test_proxy.c: CONNECT tunnels and forwarding of
absolute-form requests, to loopback targets only, and a record of what it saw.

    proxy.py [--user U --password P] [--refuse-connect STATUS] --log FILE [--ready-file F]

--user/--password  every request must carry "Proxy-Authorization: Basic
                   base64(U:P)"; otherwise 407 with Proxy-Authenticate (and the
                   connection closes)
--refuse-connect S CONNECT is answered with status S (e.g. 403)
--log FILE         one JSON line per request head received from a client:
                   {"conn": N, "line": request line, "auth": the
                   Proxy-Authorization value or null, "head": the whole head}

CONNECT host:port: 200, then bytes both ways until either side closes.
"GET http://host:port/path HTTP/1.1": sent on as "GET /path HTTP/1.1" with
Proxy-Authorization and Proxy-Connection removed (they are the proxy's), over
one upstream connection per client connection and target; the answer comes
back framed as it came (Content-Length, chunked, or until close; a 101 turns
into a tunnel). Loopback only, python3 standard library, threaded. The port
goes to --ready-file (or stdout). Runs until SIGTERM.
"""
import argparse
import base64
import json
import os
import socket
import sys
import threading

LOOPBACK = ("127.0.0.1", "::1", "localhost")
log_lock = threading.Lock()
conn_lock = threading.Lock()
conn_count = [0]


class Closed(Exception):
    pass


class Reader:
    """Buffered reads from a socket: lines, exact counts, what is there."""

    def __init__(self, sock):
        self.sock = sock
        self.buf = b""

    def fill(self):
        d = self.sock.recv(65536)
        if not d:
            raise Closed()
        self.buf += d

    def head(self):
        while b"\r\n\r\n" not in self.buf:
            if len(self.buf) > 65536:
                raise Closed()
            self.fill()
        i = self.buf.index(b"\r\n\r\n") + 4
        h, self.buf = self.buf[:i], self.buf[i:]
        return h

    def line(self):
        while b"\r\n" not in self.buf:
            self.fill()
        i = self.buf.index(b"\r\n") + 2
        ln, self.buf = self.buf[:i], self.buf[i:]
        return ln

    def exact(self, n):
        while len(self.buf) < n:
            self.fill()
        d, self.buf = self.buf[:n], self.buf[n:]
        return d

    def some(self):
        if not self.buf:
            self.fill()
        d, self.buf = self.buf, b""
        return d


def fields(head):
    lines = head.decode("latin-1").split("\r\n")
    out = []
    for ln in lines[1:]:
        if not ln:
            continue
        k, _, v = ln.partition(":")
        out.append((k.strip(), v.strip()))
    return lines[0], out


def get(fs, name):
    for k, v in fs:
        if k.lower() == name.lower():
            return v
    return None


def relay_body(rd, dst, fs, no_body=False):
    """Copies one message body from rd to dst by its framing; returns False
    when the body runs until the connection closes (it was copied whole)."""
    if no_body:
        return True
    te = (get(fs, "Transfer-Encoding") or "").lower()
    cl = get(fs, "Content-Length")
    if "chunked" in te:
        while True:
            ln = rd.line()
            dst.sendall(ln)
            size = int(ln.split(b";")[0].strip(), 16)
            if size == 0:
                while True:   # trailers up to the blank line
                    t = rd.line()
                    dst.sendall(t)
                    if t == b"\r\n":
                        return True
            dst.sendall(rd.exact(size + 2))
    if cl is not None:
        n = int(cl)
        while n > 0:
            d = rd.some()
            if len(d) > n:
                rd.buf = d[n:] + rd.buf
                d = d[:n]
            dst.sendall(d)
            n -= len(d)
        return True
    return None


def pipe(a, b, rd=None):
    """Bytes both ways until one side closes (rd: bytes already read from a)."""
    def one(src, dst):
        try:
            while True:
                d = src.recv(65536)
                if not d:
                    break
                dst.sendall(d)
        except OSError:
            pass
        for s in (dst,):
            try:
                s.shutdown(socket.SHUT_WR)
            except OSError:
                pass
    if rd is not None and rd.buf:
        b.sendall(rd.buf)
        rd.buf = b""
    t = threading.Thread(target=one, args=(b, a), daemon=True)
    t.start()
    one(a, b)
    t.join(120)


def split_hostport(hp):
    """"host:port", "[v6]:port", or without a port (80)."""
    if hp.startswith("["):
        host, _, rest = hp[1:].partition("]")
        return host, int(rest[1:]) if rest.startswith(":") else 80
    host, _, port = hp.partition(":")
    return host, int(port) if port else 80


def record(args, n, line, fs, head):
    with log_lock, open(args.log, "a") as f:
        f.write(json.dumps({"conn": n, "line": line, "auth": get(fs, "Proxy-Authorization"),
                            "head": head.decode("latin-1")}) + "\n")


def authorized(args, fs):
    if not args.user:
        return True
    want = "Basic " + base64.b64encode(("%s:%s" % (args.user, args.password)).encode()).decode()
    return get(fs, "Proxy-Authorization") == want


def answer(c, status, reason, extra=""):
    body = ("%d %s\n" % (status, reason)).encode()
    c.sendall(("HTTP/1.1 %d %s\r\n%sContent-Length: %d\r\nConnection: close\r\n\r\n"
               % (status, reason, extra, len(body))).encode() + body)


def serve(c, args):
    with conn_lock:
        conn_count[0] += 1
        n = conn_count[0]
    rd = Reader(c)
    upstream = {}
    try:
        while True:
            head = rd.head()
            line, fs = fields(head)
            record(args, n, line, fs, head)
            method, target, _ = (line.split(" ") + ["", ""])[:3]
            if not authorized(args, fs):
                answer(c, 407, "Proxy Authentication Required",
                       'Proxy-Authenticate: Basic realm="osb-test"\r\n')
                return
            if method == "CONNECT":
                if args.refuse_connect:
                    answer(c, args.refuse_connect, "Refused By Test Proxy")
                    return
                host, port = split_hostport(target)
                if host not in LOOPBACK:
                    answer(c, 403, "Loopback Only")
                    return
                up = socket.create_connection((host, port))
                c.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
                pipe(c, up, rd)
                up.close()
                return
            if not target.startswith("http://"):
                answer(c, 400, "Absolute Form Expected")
                return
            rest = target[len("http://"):]
            hp, slash, path = rest.partition("/")
            host, port = split_hostport(hp)
            if host not in LOOPBACK:
                answer(c, 403, "Loopback Only")
                return
            key = (host, port)
            if key not in upstream:
                s = socket.create_connection((host, port))
                upstream[key] = (s, Reader(s))
            up, urd = upstream[key]
            out = ["%s /%s HTTP/1.1" % (method, path)]
            for k, v in fs:
                if k.lower() not in ("proxy-authorization", "proxy-connection"):
                    out.append("%s: %s" % (k, v))
            up.sendall(("\r\n".join(out) + "\r\n\r\n").encode("latin-1"))
            relay_body(rd, up, fs)
            rhead = urd.head()
            rline, rfs = fields(rhead)
            c.sendall(rhead)
            status = int(rline.split(" ")[1])
            if status == 101:
                pipe(c, up, rd)
                return
            done = relay_body(urd, c, rfs, method == "HEAD" or status in (204, 304) or status < 200)
            if done is None:   # until the target closes
                while True:
                    try:
                        d = urd.some()
                    except Closed:
                        return
                    c.sendall(d)
            if (get(rfs, "Connection") or "").lower() == "close":
                up.close()
                del upstream[key]
    except (Closed, OSError, ValueError, IndexError):
        pass
    finally:
        for s, _ in upstream.values():
            s.close()
        try:
            c.close()
        except OSError:
            pass


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--user")
    ap.add_argument("--password", default="")
    ap.add_argument("--refuse-connect", type=int, default=0)
    ap.add_argument("--log", required=True)
    ap.add_argument("--ready-file")
    args = ap.parse_args()
    ls = socket.socket()
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(("127.0.0.1", 0))
    ls.listen(64)
    port = ls.getsockname()[1]
    if args.ready_file:
        with open(args.ready_file + ".tmp", "w") as f:
            f.write(str(port))
        os.rename(args.ready_file + ".tmp", args.ready_file)
    else:
        print(port, flush=True)
    while True:
        c, _ = ls.accept()
        threading.Thread(target=serve, args=(c, args), daemon=True).start()


if __name__ == "__main__":
    sys.exit(main())
