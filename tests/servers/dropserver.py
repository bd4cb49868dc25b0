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

Canned event streams (chunked, cut at awkward places) for the stream
decoder, at POST /canned/NAME/code (or any POST under /canned/NAME) and GET
/canned/NAME/metrics/watch; NAME is a key of CANNED below.
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


CANNED = {
    # every event type, SSE "data:" framing, an unknown type, non-string
    # MIME values, escapes
    'mixed': (b'{"type":"init","text":"ctx-1","timestamp":1}\n\n'
              b'data: {"type":"ping","text":"pong","timestamp":2}\n\n'
              b'{"type":"stdout","text":"a\\u00e9\\n","timestamp":3}\n\n'
              b'{"type":"future_thing","text":"x","timestamp":4,"extra":[1,2]}\n\n'
              b'{"type":"execution_count","execution_count":7,"timestamp":5}\n\n'
              b'{"type":"result","timestamp":6,"results":{"text":"42","text/html":"<b>42</b>",'
              b'"application/json":{"a":[1,2]},"x-num":3.5,"x-null":null,"x-esc":"q\\"uote"}}\r\n\r\n'
              b'{"type":"status","text":"error","timestamp":7}\n\n'
              b'{"type":"error","timestamp":8,"error":{"ename":"NameError","evalue":"name \'y\' is not defined",'
              b'"traceback":["l1","l2"]}}\n\n'
              b'{"type":"execution_complete","execution_time":57,"timestamp":9}\n\n'
              b'{"type":"ping","text":"pong","timestamp":10}\n\n'),
    # execd failing after the first event: a bare object, no line end
    'bare-error': (b'{"type":"init","text":"ctx-2","timestamp":1}\n\n'
                   b'{"type":"ping","text":"pong","timestamp":2}\n\n'
                   b'{"code":"RUNTIME_ERROR","message":"error running codes session is busy"}'),
    # text/plain wins over text
    'plain': (b'{"type":"init","text":"ctx-3","timestamp":1}\n\n'
              b'{"type":"result","timestamp":6,"results":{"text":"t","text/plain":"p"}}\n\n'
              b'{"type":"execution_complete","timestamp":9}\n\n'),
    # one 3 MiB event
    'big': (b'{"type":"init","text":"ctx-4","timestamp":1}\n\n'
            b'{"type":"stdout","text":"' + b'z' * (3 << 20) + b'","timestamp":2}\n\n'
            b'{"type":"execution_complete","execution_time":1,"timestamp":3}\n\n'),
    'paced': [[b'{"type":"init","text":"ctx-6","timestamp":1}\n\n',
               b'{"type":"stdout","text":"a","timestamp":2}\n\n',
               b'{"type":"stdout","text":"b","timestamp":3}\n\n'],
              [b'{"type":"stdout","text":"c","timestamp":4}\n\n',
               b'{"type":"execution_complete","execution_time":1,"timestamp":5}\n\n']],
    # bare lines of every shape the client decodes in place or leaves to its
    # tokenizer: escapes, UTF-8, spaces after the object, CRLF, an event:
    # line, a data: line, a comment, lines longer than a read
    'lines': (b'{"type":"init","text":"cmd-1","timestamp":1}\n\n'
              b'{"type":"stdout","text":"plain","timestamp":2}\n\n'
              + b''.join(b'{"type":"stdout","text":"%s","timestamp":3}\n\n' % (b'x' * k) for k in (1, 200, 900, 3000))
              + b'{"type":"stderr","text":"spaces after","timestamp":4} \t\n\n'
              b'{"type":"stdout","text":"crlf","timestamp":5}\r\n\r\n'
              b'event: stdout\n{"type":"stdout","text":"typed","timestamp":6}\n\n'
              b'{"type":"stdout","text":"tab\\there \\"q\\" r\xc3\xa9sum\xc3\xa9 \xe6\x97\xa5","timestamp":7}\n\n'
              b': a comment\n'
              b'data: {"type":"stdout","text":"data line","timestamp":8}\n\n'
              b'{"type":"stdout","text":"\\ud83d\\ude00","timestamp":9}\n'
              b'{"type":"stdout","text":"no blank line","timestamp":10}\n\n'
              b'{"type":"ping","text":"pong","timestamp":11}\n\n'
              b'{"type":"execution_complete","execution_time":3,"timestamp":12}\n\n'),
    'notjson': b'{"type":"init","text":"ctx-5","timestamp":1}\n\n{"type": oops}\n\n',
    # /metrics/watch: single newlines, a sampling failure line
    'metrics': (b'{"cpu_count":2,"cpu_used_pct":3.5,"mem_total_mib":100.5,"mem_used_mib":50,"timestamp":1000}\n'
                b'{"error":"failed to get CPU percent: boom"}\n'
                b'{"cpu_count":2,"cpu_used_pct":1,"mem_total_mib":100.5,"mem_used_mib":51,"timestamp":3000}\n'),
}


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
            n = int(fields.get('content-length', '0'))
            while len(buf) < n:
                d = self.request.recv(65536)
                if not d:
                    return
                buf += d
            buf = buf[n:]
            if u.path.startswith('/canned/'):
                name = u.path.split('/')[2]
                self.send_canned(CANNED[name], name)
                continue
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

    def send_canned(self, data, name):
        self.request.sendall(head(200, 'OK', [('Content-Type', 'text/event-stream'),
                                             ('Cache-Control', 'no-cache'), ('Transfer-Encoding', 'chunked')]))
        if name == 'paced':
            # two batches, one HTTP chunk per event as execd sends them; each batch
            # in one write, and a pause between: the client uses up the first
            # batch before it has to wait for the second
            for batch in data:
                self.request.sendall(b''.join(b'%x\r\n' % len(ev) + ev + b'\r\n' for ev in batch))
                time.sleep(0.3)
            self.request.sendall(b'0\r\n\r\n')
            return
        # chunks of 1, 7, 64 and 1000 bytes in turn: events and lines split anywhere
        sizes = [1, 7, 64, 1000] if name != 'big' else [65536]
        at, k = 0, 0
        while at < len(data):
            c = data[at:at + sizes[k % len(sizes)]]
            self.request.sendall(b'%x\r\n' % len(c) + c + b'\r\n')
            at += len(c)
            k += 1
        self.request.sendall(b'0\r\n\r\n')

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
