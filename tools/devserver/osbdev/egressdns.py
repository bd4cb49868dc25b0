"""The egress sidecar's DNS proxy for one sandbox with its own network namespace.

It listens on 127.0.0.1:53 inside the sandbox (whose resolv.conf names it), answers NXDOMAIN
for names the current policy denies, as the real proxy does, and forwards the others to the
host's resolvers (SERVFAIL when none answers). Only DNS is enforced (the sidecar's `dns`
mode); the namespace has no route out besides.
"""

import socket
import struct
import threading

UPSTREAM_TIMEOUT = 2.0


def host_resolvers(path="/etc/resolv.conf"):
    out = []
    try:
        with open(path) as f:
            for line in f:
                parts = line.split()
                if len(parts) >= 2 and parts[0] == "nameserver":
                    out.append(parts[1])
    except OSError:
        pass
    return out or ["127.0.0.1"]


def parse_upstream(s):
    """HOST or HOST:PORT ([V6]:PORT) -> (host, port)."""
    if s.startswith("["):
        host, _, rest = s[1:].partition("]")
        return host, int(rest[1:]) if rest.startswith(":") else 53
    if s.count(":") == 1:
        host, _, port = s.partition(":")
        return host, int(port)
    return s, 53


def question(msg):
    """(lower-case name without the final dot, end offset of the question) or None."""
    if len(msg) < 12 or struct.unpack("!H", msg[4:6])[0] < 1:
        return None
    labels, i = [], 12
    while i < len(msg):
        n = msg[i]
        if n == 0:
            end = i + 5
            return (".".join(labels).lower(), end) if end <= len(msg) else None
        if n & 0xC0:
            return None  # no compression in a question
        labels.append(msg[i + 1:i + 1 + n].decode("ascii", "replace"))
        i += 1 + n
    return None


def reply(msg, end, rcode):
    """miekg/dns SetRcode(request, rcode): same id, opcode, RD and CD; the question only."""
    flags = struct.unpack("!H", msg[2:4])[0]
    flags = 0x8000 | (flags & 0x7800) | (flags & 0x0100) | (flags & 0x0010) | rcode
    return msg[:2] + struct.pack("!HHHHH", flags, 1, 0, 0, 0) + msg[12:end]


class DnsProxy(object):
    def __init__(self, egress, sb, upstreams=None):
        self.egress = egress
        self.upstreams = [parse_upstream(u) for u in upstreams] if upstreams else \
            [(h, 53) for h in host_resolvers()]
        self.closed = False
        self.udp = sb.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.tcp = sb.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            self.tcp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            self.udp.bind(("127.0.0.1", 53))
            self.tcp.bind(("127.0.0.1", 53))
            self.tcp.listen(16)
        except OSError:
            self.close()
            raise
        threading.Thread(target=self._serve_udp, daemon=True).start()
        threading.Thread(target=self._serve_tcp, daemon=True).start()

    def close(self):
        self.closed = True
        for s in (self.udp, self.tcp):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            s.close()

    def answer(self, msg, tcp=False):
        q = question(msg)
        if q is None:
            return None
        name, end = q
        if self.egress.evaluate(name) == "deny":
            return reply(msg, end, 3)  # NXDOMAIN
        for server in self.upstreams:
            try:
                return self._forward(server, msg, tcp)
            except (OSError, ValueError):
                continue
        return reply(msg, end, 2)  # SERVFAIL

    @staticmethod
    def _forward(server, msg, tcp):
        if tcp:
            with socket.create_connection(server, timeout=UPSTREAM_TIMEOUT) as s:
                s.sendall(struct.pack("!H", len(msg)) + msg)
                n = struct.unpack("!H", _recv_exact(s, 2))[0]
                return _recv_exact(s, n)
        fam = socket.AF_INET6 if ":" in server[0] else socket.AF_INET
        with socket.socket(fam, socket.SOCK_DGRAM) as s:
            s.settimeout(UPSTREAM_TIMEOUT)
            s.sendto(msg, server)
            while True:
                data, _ = s.recvfrom(65535)
                if data[:2] == msg[:2]:
                    return data

    def _serve_udp(self):
        while not self.closed:
            try:
                msg, peer = self.udp.recvfrom(65535)
            except OSError:
                return
            threading.Thread(target=self._udp_one, args=(msg, peer), daemon=True).start()

    def _udp_one(self, msg, peer):
        out = self.answer(msg)
        if out is not None and not self.closed:
            try:
                self.udp.sendto(out, peer)
            except OSError:
                pass

    def _serve_tcp(self):
        while not self.closed:
            try:
                conn, _ = self.tcp.accept()
            except OSError:
                return
            threading.Thread(target=self._tcp_one, args=(conn,), daemon=True).start()

    def _tcp_one(self, conn):
        with conn:
            try:
                conn.settimeout(10)
                while True:
                    n = struct.unpack("!H", _recv_exact(conn, 2))[0]
                    out = self.answer(_recv_exact(conn, n), tcp=True)
                    if out is None:
                        return
                    conn.sendall(struct.pack("!H", len(out)) + out)
            except (OSError, ValueError, struct.error):
                return


def _recv_exact(s, n):
    buf = b""
    while len(buf) < n:
        chunk = s.recv(n - len(buf))
        if not chunk:
            raise ValueError("short read")
        buf += chunk
    return buf
