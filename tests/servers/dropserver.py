#!/usr/bin/env python3
"""A scripted execd stand-in for resumed downloads: GET .../files/download?path=P.

Loopback only, threaded, bounded in time (--lifetime). Writes its port to
--ready-file once it accepts connections. Every file is 1,000,000 bytes of
the generator the C test uses (seed 5). Scenarios, by path:

  /data/file.bin          any response whose body is longer than 450,000 bytes
                          is cut (connection closed) after 300,000 bytes;
                          Range "bytes=S-" / "bytes=S-E" answered with 206 and
                          Content-Range, so a client resumes twice
  /data/wrong-range.bin   the first response is cut; a ranged request gets a
                          206 whose Content-Range starts at 0 (a broken server)
  /data/drop-at-end.bin   200 announcing one byte more than it sends, then
                          closes; a Range at the end gets 416 bytes */1000000
  anything else           404 {"code":"FILE_NOT_FOUND","message":"..."}
"""
import argparse, os, re, socket, socketserver, sys, threading, time
from urllib.parse import urlsplit, parse_qs

SIZE = 1000000


def gen(size, seed):
    m = (1 << 64) - 1
    out = bytearray(size)
    for i in range(size):
        z = (i * 0x9E3779B97F4A7C15 + seed) & m
        z ^= z >> 29
        out[i] = ((z * 0xBF58476D1CE4E5B9) & m) >> 56
    return bytes(out)


DATA = None


def head(status, reason, fields):
    lines = ['HTTP/1.1 %d %s' % (status, reason)] + ['%s: %s' % kv for kv in fields]
    return ('\r\n'.join(lines) + '\r\n\r\n').encode()


class Handler(socketserver.BaseRequestHandler):
    def read_head(self, buf):
        while b'\r\n\r\n' not in buf:
            d = self.request.recv(65536)
            if not d:
                return None, b''
            buf += d
        h, rest = buf.split(b'\r\n\r\n', 1)
        return h.decode('latin-1'), rest

    def handle(self):
        try:
            self.serve()
        except (ConnectionResetError, BrokenPipeError):
            pass   # the client gave up on a response it did not want

    def serve(self):
        buf = b''
        while True:
            h, buf = self.read_head(buf)
            if h is None:
                return
            lines = h.split('\r\n')
            method, target, _ = lines[0].split(' ', 2)
            fields = {}
            for ln in lines[1:]:
                k, _, v = ln.partition(':')
                fields[k.strip().lower()] = v.strip()
            u = urlsplit(target)
            path = parse_qs(u.query).get('path', [''])[0]
            if method != 'GET' or not u.path.endswith('/files/download'):
                self.send_json(404, 'Not Found', '404 page not found')
                continue
            rng = fields.get('range')
            start, end = 0, SIZE - 1
            if rng:
                m = re.match(r'bytes=(\d+)-(\d*)$', rng)
                start = int(m.group(1))
                if m.group(2):
                    end = min(int(m.group(2)), SIZE - 1)
            if path == '/data/file.bin':
                if start >= SIZE:
                    self.request.sendall(head(416, 'Requested Range Not Satisfiable',
                                              [('Content-Range', 'bytes */%d' % SIZE), ('Content-Length', '0')]))
                    continue
                body = DATA[start:end + 1]
                if rng:
                    hd = head(206, 'Partial Content', [('Content-Type', 'application/octet-stream'),
                                                      ('Content-Range', 'bytes %d-%d/%d' % (start, end, SIZE)),
                                                      ('Content-Length', str(len(body)))])
                else:
                    hd = head(200, 'OK', [('Content-Type', 'application/octet-stream'),
                                         ('Accept-Ranges', 'bytes'), ('Content-Length', str(len(body)))])
                if len(body) > 450000:
                    self.request.sendall(hd + body[:300000])
                    return
                self.request.sendall(hd + body)
                continue
            if path == '/data/wrong-range.bin':
                if not rng:
                    self.request.sendall(head(200, 'OK', [('Content-Length', str(SIZE))]) + DATA[:300000])
                    return
                body = DATA
                self.request.sendall(head(206, 'Partial Content', [('Content-Range', 'bytes 0-%d/%d' % (SIZE - 1, SIZE)),
                                                                  ('Content-Length', str(SIZE))]) + body)
                continue
            if path == '/data/drop-at-end.bin':
                if not rng:
                    self.request.sendall(head(200, 'OK', [('Content-Length', str(SIZE + 1))]) + DATA)
                    return
                if start >= SIZE:
                    self.request.sendall(head(416, 'Requested Range Not Satisfiable',
                                              [('Content-Type', 'text/plain; charset=utf-8'),
                                               ('Content-Range', 'bytes */%d' % SIZE), ('Content-Length', '31')])
                                         + b'invalid range: failed to overlap')
                    continue
                body = DATA[start:]
                self.request.sendall(head(206, 'Partial Content', [('Content-Range', 'bytes %d-%d/%d' % (start, SIZE - 1, SIZE)),
                                                                  ('Content-Length', str(len(body)))]) + body)
                continue
            self.send_json(404, 'Not Found', '{"code":"FILE_NOT_FOUND","message":"file not found: %s"}' % path)

    def send_json(self, status, reason, text):
        b = text.encode()
        self.request.sendall(head(status, reason, [('Content-Type', 'application/json; charset=utf-8'),
                                                   ('Content-Length', str(len(b)))]) + b)


class Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True


def main():
    global DATA
    ap = argparse.ArgumentParser()
    ap.add_argument('--ready-file')
    ap.add_argument('--lifetime', type=float, default=120)
    a = ap.parse_args()
    DATA = gen(SIZE, 5)
    srv = Server(('127.0.0.1', 0), Handler)
    port = srv.server_address[1]
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    if a.ready_file:
        tmp = a.ready_file + '.tmp'
        with open(tmp, 'w') as f:
            f.write('%d\n' % port)
        os.rename(tmp, a.ready_file)
    else:
        print(port, flush=True)
    time.sleep(a.lifetime)
    srv.shutdown()


if __name__ == '__main__':
    main()
