#!/usr/bin/env python3
"""A scripted WebSocket server (RFC 6455) for tests/test_ws.c.

Loopback only, threaded, bounded in time (--lifetime). Writes its port to
--ready-file. With --cert/--key it speaks TLS (wss). The opening handshake is checked strictly (GET, Upgrade,
Connection, version 13, a 16-byte base64 key); a bad one gets 400. What the
client sent is recorded: GET /record (plain HTTP) returns a JSON object with
the frames seen per scenario ({"fin","op","masked","len"}), the close code
the client sent, and the request headers. Scenarios, by path:

  /echo        echoes every message (reassembled) with its opcode; a close
               is answered with the same code
  /ping        sends ping "abc" first; text "pong-ok" if the pong carries it
  /frag        text "Hello, World" in 3 frames with a ping between them,
               binary 300 bytes (16-bit length), binary 70000 bytes (64-bit
               length), an empty text, then close 1000 "bye"
  /big         a binary message of 2,000,000 bytes in one frame
  /close4000   close 4000 "custom", then waits for the client's close
  /drop        text "bye" and the TCP connection closed without a close frame
  /masked      a masked text frame
  /reserved    a frame with RSV1 set
  /badutf8     a text frame that is not UTF-8
  /ctl-long    a ping of 126 bytes
  /refuse      409 {"code":"ALREADY_CONNECTED","message":"busy"} (no upgrade)
  /bad-accept  101 with a wrong Sec-WebSocket-Accept
  /no-upgrade  200 with a body
  /extension   101 with a Sec-WebSocket-Extensions the client did not offer
"""
import argparse, base64, hashlib, json, os, socket, socketserver, ssl, struct, sys, threading, time

GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
RECORD = {}
LOCK = threading.Lock()


def frame(op, payload, fin=True, rsv=0, mask=None, length=None):
    n = len(payload) if length is None else length
    b0 = (0x80 if fin else 0) | rsv | op
    mbit = 0x80 if mask else 0
    if n < 126:
        head = struct.pack("!BB", b0, mbit | n)
    elif n < 65536:
        head = struct.pack("!BBH", b0, mbit | 126, n)
    else:
        head = struct.pack("!BBQ", b0, mbit | 127, n)
    if mask:
        payload = bytes(c ^ mask[i % 4] for i, c in enumerate(payload))
        head += mask
    return head + payload


class Conn(object):
    def __init__(self, sock, name):
        self.s = sock
        self.name = name
        self.buf = b""

    def read(self, n):
        while len(self.buf) < n:
            d = self.s.recv(65536)
            if not d:
                raise EOFError()
            self.buf += d
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def frame(self):
        b0, b1 = self.read(2)
        n = b1 & 0x7F
        if n == 126:
            n = struct.unpack("!H", self.read(2))[0]
        elif n == 127:
            n = struct.unpack("!Q", self.read(8))[0]
        mask = self.read(4) if b1 & 0x80 else None
        data = self.read(n)
        if mask:
            data = bytes(c ^ mask[i % 4] for i, c in enumerate(data))
        with LOCK:
            RECORD.setdefault(self.name, {}).setdefault("frames", []).append(
                {"fin": bool(b0 & 0x80), "op": b0 & 0x0F, "masked": bool(b1 & 0x80), "len": n})
        return b0 & 0x80, b0 & 0x0F, data

    def message(self):
        """(op, data) of the next data message; control frames handled; None at close."""
        parts, op = [], None
        while True:
            fin, o, data = self.frame()
            if o == 8:
                code = struct.unpack("!H", data[:2])[0] if len(data) >= 2 else 1005
                with LOCK:
                    RECORD.setdefault(self.name, {})["close"] = code
                    RECORD[self.name]["close_reason"] = data[2:].decode("utf-8", "replace")
                self.send(frame(8, data[:2]))
                return None
            if o == 9:
                self.send(frame(10, data))
                continue
            if o == 10:
                with LOCK:
                    RECORD.setdefault(self.name, {})["pong"] = data.decode("latin-1")
                continue
            if o != 0:
                op = o
            parts.append(data)
            if fin:
                return op, b"".join(parts)

    def send(self, data):
        self.s.sendall(data)


class Handler(socketserver.BaseRequestHandler):
    def handle(self):
        s = self.request
        s.settimeout(30)
        if self.server.tls:
            try:
                s = self.server.tls.wrap_socket(s, server_side=True)
            except (ssl.SSLError, OSError):
                return
        head = b""
        while b"\r\n\r\n" not in head:
            d = s.recv(4096)
            if not d:
                return
            head += d
        head, rest = head.split(b"\r\n\r\n", 1)
        lines = head.decode("latin-1").split("\r\n")
        method, path, _ = lines[0].split(" ", 2)
        path = path.split("?", 1)[0]
        hdrs = {}
        for l in lines[1:]:
            k, v = l.split(":", 1)
            hdrs[k.strip().lower()] = v.strip()
        name = path.strip("/")
        if path.startswith("/record/"):
            with LOCK:
                body = json.dumps(RECORD.get(path[8:], {})).encode()
            s.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n"
                      b"Connection: close\r\n\r\n" % len(body) + body)
            return
        with LOCK:
            RECORD[name] = {"headers": hdrs, "frames": []}
        if path == "/refuse":
            body = b'{"code":"ALREADY_CONNECTED","message":"busy"}'
            s.sendall(b"HTTP/1.1 409 Conflict\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n"
                      % len(body) + body)
            return
        if path == "/no-upgrade":
            s.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
            return
        key = hdrs.get("sec-websocket-key", "")
        ok = (method == "GET" and hdrs.get("upgrade", "").lower() == "websocket"
              and "upgrade" in [t.strip().lower() for t in hdrs.get("connection", "").split(",")]
              and hdrs.get("sec-websocket-version") == "13" and len(base64.b64decode(key + "==")[:16]) == 16
              and len(key) == 24)
        if not ok:
            s.sendall(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 11\r\n\r\nBad Request")
            return
        accept = base64.b64encode(hashlib.sha1((key + GUID).encode()).digest()).decode()
        if path == "/bad-accept":
            accept = base64.b64encode(b"x" * 20).decode()
        extra = "Sec-WebSocket-Extensions: permessage-deflate\r\n" if path == "/extension" else ""
        s.sendall(("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                   "Sec-WebSocket-Accept: %s\r\n%s\r\n" % (accept, extra)).encode())
        c = Conn(s, name)
        c.buf = rest
        try:
            self.scenario(path, c)
        except (EOFError, OSError, struct.error):
            pass

    def scenario(self, path, c):
        if path == "/echo":
            while True:
                m = c.message()
                if m is None:
                    return
                c.send(frame(m[0], m[1]))
        elif path == "/ping":
            c.send(frame(9, b"abc"))
            fin, op, data = c.frame()
            c.send(frame(1, b"pong-ok" if op == 10 and data == b"abc" else b"pong-bad"))
            c.message()
        elif path == "/frag":
            c.send(frame(1, b"Hello", fin=False))
            c.send(frame(9, b"p"))
            c.send(frame(0, b", Wor", fin=False))
            c.send(frame(0, b"ld", fin=True))
            c.send(frame(2, bytes(range(256)) + bytes(44)))
            c.send(frame(2, bytes(i % 251 for i in range(70000))))
            c.send(frame(1, b""))
            c.send(frame(8, struct.pack("!H", 1000) + b"bye"))
            c.message()
        elif path == "/big":
            c.send(frame(2, bytes(2000000)))
            c.message()
        elif path == "/close4000":
            c.send(frame(8, struct.pack("!H", 4000) + b"custom"))
            fin, op, data = c.frame()
            with LOCK:
                RECORD[c.name]["close"] = struct.unpack("!H", data[:2])[0] if len(data) >= 2 else 1005
        elif path == "/drop":
            c.send(frame(1, b"bye"))
            time.sleep(0.1)
        elif path == "/masked":
            c.send(frame(1, b"hidden", mask=b"\x01\x02\x03\x04"))
            c.message()
        elif path == "/reserved":
            c.send(frame(1, b"x", rsv=0x40))
            c.message()
        elif path == "/badutf8":
            c.send(frame(1, b"ok\xc3\x28"))
            c.message()
        elif path == "/ctl-long":
            c.send(frame(9, b"p" * 126))
            c.message()
        else:
            c.send(frame(8, struct.pack("!H", 1008) + b"unknown scenario"))


class Server(socketserver.ThreadingMixIn, socketserver.TCPServer):
    daemon_threads = True
    allow_reuse_address = True


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ready-file")
    ap.add_argument("--lifetime", type=float, default=300)
    ap.add_argument("--cert")
    ap.add_argument("--key")
    a = ap.parse_args()
    srv = Server(("127.0.0.1", 0), Handler)
    srv.tls = None
    if a.cert:
        srv.tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        srv.tls.load_cert_chain(a.cert, a.key)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    if a.ready_file:
        with open(a.ready_file + ".tmp", "w") as f:
            f.write(str(srv.server_address[1]))
        os.rename(a.ready_file + ".tmp", a.ready_file)
    time.sleep(a.lifetime)


if __name__ == "__main__":
    main()
