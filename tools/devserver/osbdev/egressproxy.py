"""The egress sidecar's credential proxy for plain HTTP, in a sandbox's own network namespace.

For sandboxes created with `credentialProxy.enabled`: nft in the sandbox redirects its TCP
connections to port 80 of loopback addresses other than 127.0.0.1 (the dev server's stand-in
for "the outside": services on the host's loopback) to this proxy, which connects to the
original destination from the host's network and, for each request, sets the headers of the
Credential Vault binding that matches (as the sidecar's mitmproxy addon: 403 `credential
binding ambiguous` when two match equally), then redacts the credential values from the
response headers. Each request goes upstream with `Connection: close`, so the next one on the
client's connection is read and injected again. HTTPS is not intercepted.
"""

import socket
import struct
import threading

from . import common

PROXY_PORT = 15080
SO_ORIGINAL_DST = 80
MAX_HEAD = 64 << 10


class VaultProxy(object):
    def __init__(self, egress, sb):
        self.egress = egress
        self.closed = False
        self.lsock = sb.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            self.lsock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            self.lsock.bind(("127.0.0.1", PROXY_PORT))
            self.lsock.listen(64)
        except OSError:
            self.lsock.close()
            raise
        threading.Thread(target=self._serve, daemon=True).start()

    def close(self):
        self.closed = True
        try:
            self.lsock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.lsock.close()

    def _serve(self):
        while not self.closed:
            try:
                client, _ = self.lsock.accept()
            except OSError:
                return
            threading.Thread(target=self._one, args=(client,), daemon=True).start()

    def _one(self, client):
        with client:
            try:
                raw = client.getsockopt(socket.SOL_IP, SO_ORIGINAL_DST, 16)
                port, ip = struct.unpack("!2xH4s8x", raw)
                dest = (socket.inet_ntoa(ip), port)
                buf = b""
                while True:
                    head, buf = _read_head(client, buf)
                    if head is None:
                        return
                    buf = self._exchange(client, dest, head, buf)
                    if buf is None:
                        return
            except (OSError, ValueError, struct.error):
                return

    def _exchange(self, client, dest, head, buf):
        """One request: returns what the client sent beyond it, or None to stop."""
        lines = head.decode("latin-1").split("\r\n")
        method, target, version = (lines[0].split(" ", 2) + ["", ""])[:3]
        headers = [tuple(x.split(":", 1)) for x in lines[1:] if ":" in x]
        host = next((v.strip() for k, v in headers if k.strip().lower() == "host"), dest[0])
        if host.startswith("["):
            host = host[1:].partition("]")[0]
        else:
            host = host.rpartition(":")[0] if host.count(":") == 1 else host
        path = target.split("?", 1)[0] or "/"
        if "://" in target:  # absolute form
            path = "/" + target.split("://", 1)[1].partition("/")[2].split("?", 1)[0]
        inj = self.egress.injection("http", host, dest[1], method, path)
        if inj == "ambiguous":
            body = b"credential binding ambiguous\n"
            client.sendall(b"HTTP/1.1 403 Forbidden\r\ncontent-type: text/plain\r\n"
                           b"content-length: %d\r\nconnection: close\r\n\r\n" % len(body) + body)
            return None
        redact = []
        if inj is not None:
            set_headers, redact = inj
            names = {n.lower() for n, _ in set_headers}
            headers = [(k, v) for k, v in headers if k.strip().lower() not in names]
            headers += [(n, " " + v) for n, v in set_headers]
        length = next((v.strip() for k, v in headers if k.strip().lower() == "content-length"), None)
        chunked = any(k.strip().lower() == "transfer-encoding" and "chunked" in v.lower()
                      for k, v in headers)
        headers = [(k, v) for k, v in headers if k.strip().lower() not in ("connection", "keep-alive")]
        headers.append(("Connection", " close"))
        out = ("%s %s %s\r\n" % (method, target, version) +
               "".join("%s:%s\r\n" % (k, v) for k, v in headers) + "\r\n").encode("latin-1")
        up = socket.create_connection(dest, timeout=60)
        with up:
            up.sendall(out)
            if chunked:
                rest = None  # stream the rest of the connection as it comes
                if buf:
                    up.sendall(buf)
                t = threading.Thread(target=common.pump, args=(client, up, False), daemon=True)
                t.start()
            else:
                n = int(length) if length and length.isdigit() else 0
                body, buf = buf[:n], buf[n:]
                while len(body) < n:
                    chunk = client.recv(min(65536, n - len(body)))
                    if not chunk:
                        return None
                    body += chunk
                up.sendall(body)
                rest = buf
            rhead, rbuf = _read_head(up, b"")
            if rhead is None:
                return None
            text = rhead.decode("latin-1")
            for value in redact:
                text = _redact_headers(text, value)
            client.sendall(text.encode("latin-1") + b"\r\n\r\n" + rbuf)
            while True:  # the answer ends when the upstream closes (Connection: close)
                chunk = up.recv(65536)
                if not chunk:
                    break
                client.sendall(chunk)
        return rest


def _redact_headers(head, value):
    lines = head.split("\r\n")
    return "\r\n".join([lines[0]] + [l.replace(value, "[REDACTED]") for l in lines[1:]])


def _read_head(s, buf):
    while b"\r\n\r\n" not in buf:
        if len(buf) > MAX_HEAD:
            raise ValueError("head too large")
        chunk = s.recv(65536)
        if not chunk:
            return None, b""
        buf += chunk
    head, _, rest = buf.partition(b"\r\n\r\n")
    return head, rest
