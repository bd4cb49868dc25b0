"""WebSocket upgrades on the lifecycle server's proxy route (PROTOCOL.md 2.8, server proxy).

The real server accepts the client's WebSocket and opens its own to the backend
(`websockets.connect`), then relays messages both ways; a backend that refuses the
handshake gives the client an accepted socket closed with 1008, an unreachable one
1011. Here the backend handshake is made first, the same way, and after both
handshakes the bytes are relayed as they are (frames unchanged: masking, fragments
and control frames pass end to end).
"""

import base64
import hashlib
import os
import socket
import struct
import threading

WS_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
# Set by the handshake itself; never forwarded (as the real proxy's WEBSOCKET_HANDSHAKE_HEADERS).
HANDSHAKE = {"origin", "sec-websocket-extensions", "sec-websocket-key", "sec-websocket-protocol",
             "sec-websocket-version"}


def accept_key(key):
    return base64.b64encode(hashlib.sha1((key + WS_GUID).encode()).digest()).decode()


def is_upgrade(req):
    conn = [t.strip().lower() for t in (req.header("Connection") or "").split(",")]
    return (req.method == "GET" and (req.header("Upgrade") or "").lower() == "websocket"
            and "upgrade" in conn)


def handshake_ok(req):
    """The checks a WebSocket server makes before it answers 101 (gorilla, uvicorn)."""
    key = req.header("Sec-WebSocket-Key") or ""
    try:
        raw = base64.b64decode(key, validate=True)
    except (ValueError, TypeError):
        raw = b""
    return is_upgrade(req) and req.header("Sec-WebSocket-Version") == "13" and len(raw) == 16


def send_101(resp, key, extra=""):
    h = resp.handler
    resp.status = 101
    resp.headers = [("Upgrade", "websocket"), ("Connection", "Upgrade"),
                    ("Sec-WebSocket-Accept", accept_key(key))]
    resp.finished = True
    h.close_connection = True
    h.wfile.write(("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                   "Sec-WebSocket-Accept: %s\r\n%s\r\n" % (accept_key(key), extra)).encode())
    h.wfile.flush()


def close_frame(code, reason=b""):
    payload = struct.pack("!H", code) + reason[:123]
    return struct.pack("!BB", 0x88, len(payload)) + payload


def fail_client(resp, key, code, reason=b""):
    """Accept, then close with code (what the real proxy's _fail_client_websocket does)."""
    send_101(resp, key)
    try:
        resp.handler.wfile.write(close_frame(code, reason))
        resp.handler.wfile.flush()
        resp.handler.connection.shutdown(socket.SHUT_WR)
    except OSError:
        pass


def relay(req, resp, host, port, path, headers):
    """Proxies one WebSocket: headers are the ones to forward (already filtered)."""
    if not handshake_ok(req):
        return resp.send(400, [("Content-Type", "text/plain; charset=utf-8")], b"Bad Request")
    key = req.header("Sec-WebSocket-Key")
    try:
        back = socket.create_connection((host, port), timeout=10)
    except OSError:
        return fail_client(resp, key, 1011)
    bkey = base64.b64encode(os.urandom(16)).decode()
    lines = ["GET %s HTTP/1.1" % path, "Host: %s:%d" % (host, port), "Upgrade: websocket",
             "Connection: Upgrade", "Sec-WebSocket-Key: " + bkey, "Sec-WebSocket-Version: 13"]
    for k, v in headers.items():
        if k.lower() not in HANDSHAKE and k.lower() not in ("upgrade", "connection"):
            lines.append("%s: %s" % (k, v))
    head = b""
    try:
        back.sendall(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"))
        while b"\r\n\r\n" not in head:
            d = back.recv(65536)
            if not d:
                break
            head += d
    except OSError:
        head = b""
    head, _, rest = head.partition(b"\r\n\r\n")
    status = head.split(b" ", 2)[1] if head.count(b" ") >= 1 else b""
    want = ("sec-websocket-accept: " + accept_key(bkey)).encode().lower()
    if status != b"101" or want not in head.lower():
        back.close()
        return fail_client(resp, key, 1008)
    send_101(resp, key)
    h = resp.handler
    back.settimeout(None)
    try:
        h.connection.settimeout(None)
    except OSError:
        pass

    def up():
        try:
            while True:
                d = h.rfile.read1(65536)
                if not d:
                    break
                back.sendall(d)
        except (OSError, ValueError):
            pass
        try:
            back.shutdown(socket.SHUT_WR)
        except OSError:
            pass

    t = threading.Thread(target=up, daemon=True)
    t.start()
    try:
        if rest:
            h.wfile.write(rest)
            h.wfile.flush()
        while True:
            d = back.recv(65536)
            if not d:
                break
            h.wfile.write(d)
            h.wfile.flush()
    except (OSError, ValueError):
        pass
    try:
        h.connection.shutdown(socket.SHUT_WR)
    except OSError:
        pass
    t.join(5)
    back.close()
