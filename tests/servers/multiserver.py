#!/usr/bin/env python3
"""A scripted server for many transfers at once (tests/test_multi.c).

Loopback only, threaded (one thread a connection), keep-alive, bounded in
time (--lifetime). Writes its port to --ready-file once it accepts. It
records what arrives: GET /stats answers {"accepted": connections accepted,
"open": open now, "peak": most open at once, "requests": requests read,
"closed_early": connections the client closed in the middle of a stream}.

  GET  /echo?id=N&delay=MS    after MS ms: 200, body "id=N"
  GET  /conn                  200, body "conn=K" (K: the connection's number)
  GET  /error?status=S        S with {"code":"BUSY","message":"try later"}
  GET  /drop                  closes without a response
  GET  /drop-mid              200 announcing 100 bytes, sends 10, closes
  GET  /hang                  never answers (until the client goes)
  GET  /malformed             a response head that is not HTTP
  POST /upload                200, body "len=L sum=S" (S: byte sum mod 2^32),
                              Content-Length or chunked; {prefix}/files/upload too
  POST /upload?digest=1       200, body "len=L sha1=HEX" (the body's SHA-1)
  POST {prefix}/command       an execd command stream (chunked), by the
                              JSON "command": "emit N GAP TAG" sends init,
                              N stdout events "TAG i" GAP ms apart, then
                              execution_complete; "fail CODE" an error event
                              with evalue CODE; "cut" init, one stdout, then
                              the connection closes; "idle" init, then
                              nothing (the connection stays open)
"""
import argparse, hashlib, json, os, socket, socketserver, threading, time
from urllib.parse import urlsplit, parse_qs

LOCK = threading.Lock()
STATS = {'accepted': 0, 'open': 0, 'peak': 0, 'requests': 0, 'closed_early': 0}


def head(status, reason, fields):
    lines = ['HTTP/1.1 %d %s' % (status, reason)] + ['%s: %s' % kv for kv in fields]
    return ('\r\n'.join(lines) + '\r\n\r\n').encode()


def chunk(b):
    return b'%x\r\n%s\r\n' % (len(b), b)


def event(obj):
    return chunk(json.dumps(obj).encode() + b'\n\n')


class Handler(socketserver.BaseRequestHandler):
    def setup(self):
        with LOCK:
            STATS['accepted'] += 1
            STATS['open'] += 1
            STATS['peak'] = max(STATS['peak'], STATS['open'])
            self.number = STATS['accepted']

    def finish(self):
        with LOCK:
            STATS['open'] -= 1

    def recv_more(self, buf):
        d = self.request.recv(65536)
        if not d:
            raise EOFError
        return buf + d

    def read_request(self, buf):
        while b'\r\n\r\n' not in buf:
            buf = self.recv_more(buf)
        h, rest = buf.split(b'\r\n\r\n', 1)
        lines = h.decode('latin-1').split('\r\n')
        method, target, _ = lines[0].split(' ', 2)
        fields = {}
        for ln in lines[1:]:
            k, _, v = ln.partition(':')
            fields[k.strip().lower()] = v.strip()
        if fields.get('transfer-encoding', '').lower() == 'chunked':
            body = b''
            while True:
                while b'\r\n' not in rest:
                    rest = self.recv_more(rest)
                line, rest = rest.split(b'\r\n', 1)
                size = int(line.split(b';')[0], 16)
                while len(rest) < size + 2:
                    rest = self.recv_more(rest)
                body += rest[:size]
                rest = rest[size + 2:]
                if size == 0:
                    break
        else:
            n = int(fields.get('content-length', '0'))
            body, rest = bytearray(rest[:n]), rest[n:]
            while len(body) < n:   # read a big body as fast as it comes, without copying it over
                d = self.request.recv(min(1 << 20, n - len(body)))
                if not d:
                    raise EOFError
                body += d
            body = bytes(body)
        with LOCK:
            STATS['requests'] += 1
        return method, target, fields, body, rest

    def send(self, status, reason, body, ctype='text/plain'):
        self.request.sendall(head(status, reason, [('Content-Type', ctype),
                                                   ('Content-Length', str(len(body)))]) + body)

    def handle(self):
        try:
            buf = b''
            while True:
                method, target, fields, body, buf = self.read_request(buf)
                if not self.answer(method, target, body):
                    return
        except (EOFError, ConnectionResetError, BrokenPipeError):
            pass

    def answer(self, method, target, body):
        u = urlsplit(target)
        q = {k: v[0] for k, v in parse_qs(u.query).items()}
        p = u.path
        if p == '/stats':
            with LOCK:
                s = json.dumps(STATS).encode()
            self.send(200, 'OK', s, 'application/json')
        elif p == '/echo':
            time.sleep(int(q.get('delay', '0')) / 1000.0)
            self.send(200, 'OK', ('id=%s' % q.get('id', '')).encode())
        elif p == '/conn':
            self.send(200, 'OK', ('conn=%d' % self.number).encode())
        elif p == '/error':
            self.send(int(q.get('status', '503')), 'Busy',
                      b'{"code":"BUSY","message":"try later"}', 'application/json')
        elif p == '/drop':
            return False
        elif p == '/drop-mid':
            self.request.sendall(head(200, 'OK', [('Content-Length', '100')]) + b'0123456789')
            return False
        elif p == '/hang':
            while self.request.recv(65536):
                pass
            return False
        elif p == '/malformed':
            self.request.sendall(b'HTTX/1.1 200 OK\r\n\r\n')
            return False
        elif p == '/upload' and q.get('digest'):
            self.send(200, 'OK', ('len=%d sha1=%s' % (len(body), hashlib.sha1(body).hexdigest())).encode())
        elif p == '/upload' or (p.endswith('/files/upload') and method == 'POST'):
            self.send(200, 'OK', ('len=%d sum=%d' % (len(body), sum(body) & 0xffffffff)).encode())
        elif p.endswith('/command') and method == 'POST':
            return self.command(json.loads(body.decode()).get('command', ''))
        else:
            self.send(404, 'Not Found', b'{"code":"NOT_FOUND","message":"no such path"}', 'application/json')
        return True

    def command(self, cmd):
        words = cmd.split()
        self.request.sendall(head(200, 'OK', [('Content-Type', 'text/event-stream'),
                                              ('Transfer-Encoding', 'chunked')]))
        ts = [0]

        def ev(obj):
            ts[0] += 1
            obj['timestamp'] = ts[0]
            self.request.sendall(event(obj))

        try:
            ev({'type': 'init', 'text': 'cmd-%d' % self.number})
            if words[:1] == ['emit']:
                n, gap, tag = int(words[1]), int(words[2]), words[3]
                for i in range(n):
                    if gap:
                        time.sleep(gap / 1000.0)
                    ev({'type': 'stdout', 'text': '%s %d' % (tag, i)})
                ev({'type': 'execution_complete', 'execution_time': 1})
            elif words[:1] == ['fail']:
                ev({'type': 'stderr', 'text': 'failing'})
                ev({'type': 'error', 'error': {'ename': 'CommandExecError', 'evalue': words[1],
                                               'traceback': []}})
            elif words[:1] == ['cut']:
                ev({'type': 'stdout', 'text': 'partial'})
                return False
            elif words[:1] == ['idle']:
                while self.request.recv(65536):
                    pass
                with LOCK:
                    STATS['closed_early'] += 1
                return False
            self.request.sendall(b'0\r\n\r\n')
        except (BrokenPipeError, ConnectionResetError):
            with LOCK:
                STATS['closed_early'] += 1
            return False
        return True


class Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 512


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--ready-file')
    ap.add_argument('--lifetime', type=float, default=300)
    a = ap.parse_args()
    srv = Server(('127.0.0.1', 0), Handler)
    port = srv.server_address[1]
    threading.Thread(target=srv.serve_forever, daemon=True).start()
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
