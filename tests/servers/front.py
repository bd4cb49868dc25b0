#!/usr/bin/env python3
"""A TCP front on 127.0.0.1 that pipes each connection to a backend port, in
plain TCP or terminating TLS, and can cut one connection in the middle.

    front.py --backend PORT [--cert C --key K] [--cut-after N [--rst]] [--ready-file F]

--cert/--key   speak TLS to the client (the backend stays plain http)
--cut-after N  the first connection that carries more than N bytes from the
               client is closed on both sides after N bytes (a FIN; with
               --rst a reset): a fault in the middle of an upload; later
               connections pass untouched
The port goes to --ready-file (or stdout). Runs until SIGTERM.
"""
import argparse
import os
import socket
import ssl
import struct
import sys
import threading

cut_lock = threading.Lock()
cut_done = [False]


def pump(src, dst, limit=None):
    """Copies src to dst; with limit, stops after that many bytes and returns True."""
    n = 0
    try:
        while True:
            d = src.recv(65536)
            if not d:
                break
            if limit is not None and n + len(d) > limit:
                with cut_lock:
                    cut = not cut_done[0]
                    cut_done[0] = True
                if cut:
                    dst.sendall(d[: limit - n])
                    return True
                limit = None
            dst.sendall(d)
            n += len(d)
    except (OSError, ssl.SSLError):
        pass
    try:
        dst.shutdown(socket.SHUT_WR)
    except (OSError, ssl.SSLError):
        pass
    return False


def serve(c, args, ctx):
    try:
        if ctx:
            c.settimeout(60)
            c = ctx.wrap_socket(c, server_side=True)
            c.settimeout(None)
        b = socket.create_connection(("127.0.0.1", args.backend))
    except (OSError, ssl.SSLError):
        c.close()
        return
    back = threading.Thread(target=pump, args=(b, c), daemon=True)
    back.start()
    if pump(c, b, args.cut_after):
        if args.rst:
            try:
                c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            except OSError:
                pass
        for s in (c, b):
            try:
                s.close()
            except (OSError, ssl.SSLError):
                pass
        return
    back.join(120)
    for s in (c, b):
        try:
            s.close()
        except (OSError, ssl.SSLError):
            pass


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--backend", type=int, required=True)
    ap.add_argument("--cert")
    ap.add_argument("--key")
    ap.add_argument("--cut-after", type=int, default=None)
    ap.add_argument("--rst", action="store_true")
    ap.add_argument("--ready-file")
    args = ap.parse_args()
    ctx = None
    if args.cert:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(args.cert, args.key)
    ls = socket.socket()
    ls.bind(("127.0.0.1", 0))
    ls.listen(16)
    port = ls.getsockname()[1]
    if args.ready_file:
        with open(args.ready_file + ".tmp", "w") as f:
            f.write(str(port))
        os.rename(args.ready_file + ".tmp", args.ready_file)
    else:
        print(port, flush=True)
    while True:
        c, _ = ls.accept()
        threading.Thread(target=serve, args=(c, args, ctx), daemon=True).start()


if __name__ == "__main__":
    main()
