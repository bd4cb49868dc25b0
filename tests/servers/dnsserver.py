#!/usr/bin/env python3
"""A scripted DNS server for tests/test_dns.c: UDP and TCP on one port of
127.0.0.1, answers from a JSON zone, misbehaviour on request, and a record
of every query that arrives.

    dnsserver.py --zone FILE [--mode normal|servfail|refused|silent|held]
                 [--log FILE] [--ready-file F]

--zone FILE  {"name": {"A": ["1.2.3.4"], "AAAA": ["::1"], "CNAME": "other",
              "tc": true, "spoof": true, "hostile": "loop"}, ...}
             Names are matched without case and without a final dot.
             "tc": UDP answers are empty with TC set; TCP answers are full.
             "spoof": before the real answer, three false ones: a wrong id,
             a wrong question (another name), and the right answer sent from
             another socket (another source port) with addresses 6.6.6.6 /
             6666::6 in each.
             "hostile": instead of an answer: "loop" (a compression pointer
             to itself), "pastend" (a name that runs past the end),
             "rdlength" (an A record whose rdlength says 200), "many" (an
             answer count of 500 with records to match), "short" (an A
             record with 3 bytes of data).
             CNAME answers carry the chain and the addresses of its end.
             Names not in the zone: NXDOMAIN. Names without the type: no
             records (NOERROR).
--mode       servfail: every answer is SERVFAIL; refused: REFUSED; silent:
             queries are read and never answered; held: UDP answers are kept
             back until the server gets SIGUSR1, then sent, and later ones
             go out at once (a lookup that is surely still under way).
--log FILE   one JSON line per query: {"proto", "name", "type", "id", "port"}
             (port: the client's source port).

The port goes to --ready-file (or stdout). Runs until SIGTERM. Python 3
standard library only.
"""
import argparse
import ipaddress
import json
import os
import signal
import socket
import struct
import sys
import threading

TYPES = {1: "A", 28: "AAAA", 5: "CNAME"}
log_lock = threading.Lock()


def encode_name(name):
    out = b""
    for label in name.strip(".").split("."):
        if label:
            b = label.encode()
            out += bytes([len(b)]) + b
    return out + b"\0"


def read_question(msg):
    """(id, flags, qname, qtype, end of question) or None."""
    if len(msg) < 12:
        return None
    qid, flags, qd = struct.unpack(">HHH", msg[:6])
    if qd != 1:
        return None
    off, labels = 12, []
    while off < len(msg) and msg[off] != 0:
        n = msg[off]
        if n & 0xC0:
            return None
        labels.append(msg[off + 1:off + 1 + n].decode("latin-1"))
        off += 1 + n
    off += 1
    if off + 4 > len(msg):
        return None
    qtype, = struct.unpack(">H", msg[off:off + 2])
    return qid, flags, ".".join(labels), qtype, off + 4


def rr(name_bytes, rtype, data):
    return name_bytes + struct.pack(">HHIH", rtype, 1, 60, len(data)) + data


class Server:
    def __init__(self, zone, mode, log):
        self.zone = {k.lower().strip("."): v for k, v in zone.items()}
        self.mode = mode
        self.log = log
        self.held = []          # (socket, answer, peer) kept back in mode "held"
        self.released = False

    def release(self, *_):
        """SIGUSR1 in mode "held": the answers kept back go out, later ones at once.
        Runs in the main thread (the UDP loop's), between its steps."""
        self.released = True
        for sock, a, peer in self.held:
            sock.sendto(a, peer)
        self.held = []

    def send_udp(self, sock, a, peer):
        if self.mode == "held" and not self.released:
            self.held.append((sock, a, peer))
        else:
            sock.sendto(a, peer)

    def record(self, proto, qname, qtype, qid, port):
        if not self.log:
            return
        with log_lock, open(self.log, "a") as f:
            f.write(json.dumps({"proto": proto, "name": qname, "type": TYPES.get(qtype, qtype),
                                "id": qid, "port": port}) + "\n")

    def header(self, qid, rcode, an, tc=False):
        flags = 0x8180 | rcode | (0x0200 if tc else 0)
        return struct.pack(">HHHHHH", qid, flags, 1, an, 0, 0)

    def answer(self, msg, proto, fake=None):
        """The answer to msg (a question), or None for no answer."""
        q = read_question(msg)
        if q is None:
            return None
        qid, _, qname, qtype, qend = q
        question = msg[12:qend]
        if self.mode == "servfail":
            return self.header(qid, 2, 0) + question
        if self.mode == "refused":
            return self.header(qid, 5, 0) + question
        key = qname.lower().strip(".")
        entry = self.zone.get(key)
        if entry is None:
            return self.header(qid, 3, 0) + question
        hostile = entry.get("hostile")
        if hostile:
            return self.hostile(hostile, qid, question)
        if entry.get("tc") and proto == "udp":
            return self.header(qid, 0, 0, tc=True) + question
        records, name, hops = [], key, 0
        while hops < 10:
            e = self.zone.get(name, {})
            if "CNAME" in e and qtype != 5:
                target = e["CNAME"].lower().strip(".")
                records.append(rr(encode_name(name), 5, encode_name(target)))
                name, hops = target, hops + 1
                continue
            want = TYPES.get(qtype)
            for a in (e.get(want, []) if want in ("A", "AAAA") else []):
                if fake:
                    a = fake[want]
                records.append(rr(encode_name(name), qtype, ipaddress.ip_address(a).packed))
            break
        return self.header(qid, 0, len(records)) + question + b"".join(records)

    def hostile(self, kind, qid, question):
        if kind == "loop":          # the answer's owner points at itself
            at = 12 + len(question)
            owner = struct.pack(">H", 0xC000 | at)
            return self.header(qid, 0, 1) + question + rr(owner, 1, b"\1\2\3\4")
        if kind == "pastend":       # a label longer than what is left
            return self.header(qid, 0, 1) + question + b"\x3fabc"
        if kind == "rdlength":
            body = struct.pack(">HHHIH", 0xC00C, 1, 1, 60, 200) + b"\1\2\3\4"
            return self.header(qid, 0, 1) + question + body
        if kind == "many":
            body = b"".join(rr(b"\xc0\x0c", 1, bytes([10, 0, i // 256, i % 256])) for i in range(500))
            return self.header(qid, 0, 500) + question + body
        if kind == "short":
            return self.header(qid, 0, 1) + question + rr(b"\xc0\x0c", 1, b"\1\2\3")
        return None

    def serve_udp(self, sock):
        other = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        other.bind(("127.0.0.1", 0))
        while True:
            msg, peer = sock.recvfrom(65535)
            q = read_question(msg)
            if q is None:
                continue
            qid, _, qname, qtype, qend = q
            self.record("udp", qname, qtype, qid, peer[1])
            if self.mode == "silent":
                continue
            entry = self.zone.get(qname.lower().strip("."), {})
            if entry.get("spoof"):
                fake = {"A": "6.6.6.6", "AAAA": "6666::6"}
                a = self.answer(msg, "udp", fake)
                sock.sendto(struct.pack(">H", qid ^ 0x5555) + a[2:], peer)           # wrong id
                wrong = bytearray(msg[12:qend])
                wrong[1] = ord("x") if wrong[1] != ord("x") else ord("y")            # another name
                data = ipaddress.ip_address(fake.get(TYPES.get(qtype), "6.6.6.6")).packed
                sock.sendto(self.header(qid, 0, 1) + bytes(wrong) + rr(b"\xc0\x0c", qtype, data), peer)
                other.sendto(a, peer)                                                # another port
            a = self.answer(msg, "udp")
            if a is not None:
                self.send_udp(sock, a, peer)

    def serve_tcp_conn(self, c, peer):
        try:
            buf = b""
            while True:
                while len(buf) < 2 or len(buf) < 2 + struct.unpack(">H", buf[:2])[0]:
                    d = c.recv(65536)
                    if not d:
                        return
                    buf += d
                n = struct.unpack(">H", buf[:2])[0]
                msg, buf = buf[2:2 + n], buf[2 + n:]
                q = read_question(msg)
                if q is None:
                    return
                self.record("tcp", q[2], q[3], q[0], peer[1])
                if self.mode == "silent":
                    continue
                a = self.answer(msg, "tcp")
                if a is None:
                    return
                c.sendall(struct.pack(">H", len(a)) + a)
        except OSError:
            pass
        finally:
            c.close()

    def serve_tcp(self, ls):
        while True:
            c, peer = ls.accept()
            threading.Thread(target=self.serve_tcp_conn, args=(c, peer), daemon=True).start()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--zone", required=True)
    ap.add_argument("--mode", default="normal", choices=["normal", "servfail", "refused", "silent", "held"])
    ap.add_argument("--log")
    ap.add_argument("--ready-file")
    args = ap.parse_args()
    with open(args.zone) as f:
        zone = json.load(f)
    srv = Server(zone, args.mode, args.log)
    signal.signal(signal.SIGUSR1, srv.release)
    # one port for UDP and TCP: bind UDP first, then TCP on the same number
    for _ in range(50):
        u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        u.bind(("127.0.0.1", 0))
        port = u.getsockname()[1]
        t = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        t.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            t.bind(("127.0.0.1", port))
            break
        except OSError:
            u.close()
            t.close()
    else:
        sys.exit("no port free for both UDP and TCP")
    t.listen(16)
    threading.Thread(target=srv.serve_tcp, args=(t,), daemon=True).start()
    if args.ready_file:
        tmp = args.ready_file + ".tmp"
        with open(tmp, "w") as f:
            f.write(str(port))
        os.rename(tmp, args.ready_file)
    else:
        print(port, flush=True)
    srv.serve_udp(u)


if __name__ == "__main__":
    main()
