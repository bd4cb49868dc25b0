#!/usr/bin/env python3
"""A small TLS test server for tests/test_tls.c, on loopback only.

    server.py --cert C --key K [--mode MODE] [--lifetime S] [--host 127.0.0.1]

Binds an ephemeral port, prints "PORT n" on stdout, serves until --lifetime
seconds have passed (default 20), then exits on its own.

Modes:
  http     TLS 1.2+ HTTP/1.1 with keep-alive (default). Paths:
             /hello              "hello" with Content-Length
             /connid             "conn N": N counts the server's connections
             /upload             reads a Content-Length body, answers "COUNT SUM"
             /stall-body         Content-Length 10, 2 bytes, then nothing for 3 s
             /big?n=N            N bytes of a repeating pattern, Content-Length
             /cut                Content-Length 1000, 100 bytes, TCP close (no close_notify)
             /eof-notify         body until close, then close_notify
             /hello-then-notify  "hello" (keep-alive), then close_notify after 0.2 s
             /hello-then-drop-next  "hello" (keep-alive); the next request gets a bare TCP close
             /eof-bare           body until close, then TCP close without close_notify
  tls10    like http, but the server speaks TLS 1.0 only
  tls13    like http, but the server speaks TLS 1.3 only
  suite=S  like http, TLS 1.2 with the one cipher suite S (OpenSSL's name)
  group=G  like http, TLS 1.2 with the one ECDHE group G (X25519, prime256v1, ...)
  plain    plain HTTP (no TLS): answers 400 to whatever comes
  reset    accepts, reads the ClientHello, then resets the connection (RST)
  silent   accepts, reads, closes without a word
  stall    accepts, reads, says nothing for 5 seconds
"""
import argparse, os, socket, ssl, struct, sys, threading, time, warnings

warnings.filterwarnings("ignore", category=DeprecationWarning)

def pattern(n):
    block = bytes(range(256)) * 64
    out = bytearray()
    while len(out) < n:
        out += block[: n - len(out)]
    return bytes(out)

class Reader:
    """Buffered reads from one connection (request heads and bodies)."""
    def __init__(self, conn):
        self.conn, self.buf = conn, b""

    def head(self):
        while b"\r\n\r\n" not in self.buf:
            chunk = self.conn.recv(65536)
            if not chunk or len(self.buf) > 65536:
                return None, {}
            self.buf += chunk
        head, self.buf = self.buf.split(b"\r\n\r\n", 1)
        lines = head.decode("latin-1").split("\r\n")
        fields = {}
        for l in lines[1:]:
            if ":" in l:
                k, v = l.split(":", 1)
                fields[k.strip().lower()] = v.strip()
        return lines[0], fields

    def body(self, n):
        """Reads n body bytes; returns their count and byte sum."""
        total, s = 0, 0
        while total < n:
            if not self.buf:
                self.buf = self.conn.recv(65536)
                if not self.buf:
                    break
            take = self.buf[: n - total]
            self.buf = self.buf[len(take):]
            total += len(take)
            s += sum(take)
        return total, s

def read_head(conn):
    return Reader(conn).head()[0]

def serve_http(conn):
    rd = Reader(conn)
    while True:
        line, fields = rd.head()
        if line is None:
            return
        parts = line.split(" ")
        path = parts[1] if len(parts) > 1 else "/"
        if path == "/upload":
            n, total = rd.body(int(fields.get("content-length", "0")))
            body = b"%d %d" % (n, total)
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % len(body) + body)
        elif path == "/stall-body":
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nab")
            time.sleep(3)
            return
        elif path == "/connid":
            body = b"conn %d" % threading.current_thread().conn_id
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % len(body) + body)
        elif path == "/hello":
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello")
        elif path.startswith("/big"):
            n = int(path.split("n=")[1]) if "n=" in path else 1 << 20
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % n)
            sent = 0
            while sent < n:
                k = min(65536, n - sent)
                conn.sendall(pattern(k))
                sent += k
        elif path == "/cut":
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n" + b"x" * 100)
            time.sleep(0.05)
            bare_close(conn)
            return
        elif path == "/hello-then-notify":
            # a keep-alive answer, then the server ends the idle connection properly
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello")
            time.sleep(0.2)
            try:
                conn.unwrap()
            except (ssl.SSLError, OSError):
                pass
            conn.close()
            return
        elif path == "/hello-then-drop-next":
            # a keep-alive answer; the next request is read, then the TCP
            # connection is closed without an answer and without close_notify
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello")
            rd.head()
            bare_close(conn)
            return
        elif path == "/eof-notify":
            conn.sendall(b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nuntil close")
            try:
                conn.unwrap()
            except (ssl.SSLError, OSError):
                pass
            conn.close()
            return
        elif path == "/eof-bare":
            conn.sendall(b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nuntil close")
            time.sleep(0.05)
            bare_close(conn)
            return
        else:
            conn.sendall(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n")

def bare_close(conn):
    # Close the TCP connection under TLS without sending close_notify.
    raw = socket.socket(fileno=os.dup(conn.fileno()))
    try:
        raw.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    raw.close()
    conn.close()

def handle(args, ctx, sock):
    sock.settimeout(10)
    try:
        if args.mode == "plain":
            sock.recv(4096)
            sock.sendall(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
            time.sleep(0.1)
            sock.close()
            return
        if args.mode == "reset":
            sock.recv(4096)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            sock.close()
            return
        if args.mode == "stall":
            sock.recv(4096)
            time.sleep(5)
            sock.close()
            return
        if args.mode == "silent":
            sock.recv(4096)
            sock.close()
            return
        conn = ctx.wrap_socket(sock, server_side=True)
        serve_http(conn)
        conn.close()
    except (ssl.SSLError, OSError, ValueError):
        try:
            sock.close()
        except OSError:
            pass

def main():
    p = argparse.ArgumentParser()
    p.add_argument("--cert")
    p.add_argument("--key")
    p.add_argument("--mode", default="http")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--lifetime", type=float, default=20)
    args = p.parse_args()
    if args.host not in ("127.0.0.1", "::1", "localhost"):
        sys.exit("loopback only")
    ctx = None
    kind, _, arg = args.mode.partition("=")
    if args.mode in ("http", "tls10", "tls13") or kind in ("suite", "group"):
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        if kind in ("suite", "group"):
            ctx.maximum_version = ssl.TLSVersion.TLSv1_2
            if kind == "suite":
                ctx.set_ciphers(arg)
            else:
                ctx.set_ecdh_curve(arg)
        if args.mode == "tls10":
            ctx.set_ciphers("DEFAULT@SECLEVEL=0")
            ctx.minimum_version = ssl.TLSVersion.TLSv1
            ctx.maximum_version = ssl.TLSVersion.TLSv1
        elif args.mode == "tls13":
            ctx.minimum_version = ssl.TLSVersion.TLSv1_3
        ctx.load_cert_chain(args.cert, args.key)
    fam = socket.AF_INET6 if ":" in args.host else socket.AF_INET
    srv = socket.socket(fam, socket.SOCK_STREAM)
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind((args.host, 0))
    srv.listen(16)
    print("PORT %d" % srv.getsockname()[1], flush=True)
    threading.Timer(args.lifetime, lambda: os._exit(0)).start()
    n = 0
    while True:
        sock, _ = srv.accept()
        n += 1
        th = threading.Thread(target=handle, args=(args, ctx, sock), daemon=True)
        th.conn_id = n
        th.start()

if __name__ == "__main__":
    main()
