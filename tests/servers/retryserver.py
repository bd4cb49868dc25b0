#!/usr/bin/env python3
"""A scripted lifecycle-like server for the retry tests of test_lifecycle.c.

Loopback only, threaded, bounded in time (--lifetime). Prints its port as the
ready line {"port": N} and writes the bare port number to --ready-file.

The script travels in the sandbox id: a request whose path contains a
segment "seq-T1-T2-...-KEY" gets, on its n-th arrival for that segment, the
answer of token Tn (the last status token repeats). KEY (last token, any
text that is not a status) keeps scenarios apart. Tokens:

  NNN        that status; 200 -> a sandbox JSON, 202/204 -> empty body,
             other -> {"code":"SCRIPTED::NNN","message":"scripted NNN"}
  NNNraS     the same with "Retry-After: S" (seconds)
  NNNradS    the same with Retry-After as an HTTP date S seconds ahead
  close      read the whole request, then close without answering

GET /count?key=SEGMENT answers {"count": N, "gaps_ms": [...]}: how many
requests that segment received and the milliseconds between arrivals.
Every answer echoes X-Request-ID (or makes one up).
"""
import argparse, email.utils, json, os, re, socket, threading, time, uuid
from urllib.parse import urlsplit, parse_qs

lock = threading.Lock()
arrivals = {}          # segment -> [monotonic times]

TOKEN = re.compile(r'^(\d{3})(?:ra(d?)(\d+))?$')


def read_request(f):
    line = f.readline()
    if not line:
        return None
    method, target, _ = line.decode('latin-1').split(' ', 2)
    headers = {}
    while True:
        h = f.readline()
        if not h or h in (b'\r\n', b'\n'):
            break
        k, _, v = h.decode('latin-1').partition(':')
        headers[k.strip().lower()] = v.strip()
    n = int(headers.get('content-length', '0') or 0)
    body = f.read(n) if n else b''
    return method, target, headers, body


def respond(conn, status, headers, body):
    head = 'HTTP/1.1 %d X\r\n' % status
    for k, v in headers:
        head += '%s: %s\r\n' % (k, v)
    head += 'Content-Length: %d\r\n\r\n' % len(body)
    conn.sendall(head.encode('latin-1') + body)


def handle(conn):
    f = conn.makefile('rb')
    try:
        while True:
            req = read_request(f)
            if req is None:
                return
            method, target, headers, body = req
            rid = headers.get('x-request-id') or uuid.uuid4().hex
            u = urlsplit(target)
            if u.path == '/count':
                key = parse_qs(u.query).get('key', [''])[0]
                with lock:
                    t = list(arrivals.get(key, []))
                gaps = [int((b - a) * 1000) for a, b in zip(t, t[1:])]
                out = json.dumps({'count': len(t), 'gaps_ms': gaps}).encode()
                respond(conn, 200, [('Content-Type', 'application/json'), ('X-Request-ID', rid)], out)
                continue
            seg = next((s for s in u.path.split('/') if s.startswith('seq-')), None)
            if seg is None:
                respond(conn, 404, [('Content-Type', 'application/json'), ('X-Request-ID', rid)],
                        b'{"detail":"Not Found"}')
                continue
            with lock:
                arrivals.setdefault(seg, []).append(time.monotonic())
                n = len(arrivals[seg])
            tokens = [t for t in seg.split('-')[1:] if t == 'close' or TOKEN.match(t)]
            tok = tokens[min(n, len(tokens)) - 1] if tokens else '200'
            if tok == 'close':
                conn.shutdown(socket.SHUT_RDWR)
                return
            m = TOKEN.match(tok)
            status = int(m.group(1))
            hdrs = [('X-Request-ID', rid)]
            if m.group(3):
                secs = int(m.group(3))
                if m.group(2):
                    hdrs.append(('Retry-After', email.utils.formatdate(time.time() + secs, usegmt=True)))
                else:
                    hdrs.append(('Retry-After', str(secs)))
            if status == 200:
                out = json.dumps({'id': seg, 'status': {'state': 'Running'},
                                  'createdAt': '2026-06-01T10:00:00Z'}).encode()
                hdrs.append(('Content-Type', 'application/json'))
            elif status in (202, 204):
                out = b''
            else:
                out = json.dumps({'code': 'SCRIPTED::%d' % status,
                                  'message': 'scripted %d' % status}).encode()
                hdrs.append(('Content-Type', 'application/json'))
            respond(conn, status, hdrs, out)
    except (OSError, ValueError):
        return
    finally:
        try:
            conn.close()
        except OSError:
            pass


def main():
    p = argparse.ArgumentParser()
    p.add_argument('--lifetime', type=float, default=300)
    p.add_argument('--ready-file')
    a = p.parse_args()
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(('127.0.0.1', 0))
    s.listen(64)
    port = s.getsockname()[1]
    line = json.dumps({'port': port})
    if a.ready_file:
        with open(a.ready_file + '.tmp', 'w') as fh:
            fh.write('%d\n' % port)
        os.replace(a.ready_file + '.tmp', a.ready_file)
    print(line, flush=True)
    threading.Timer(a.lifetime, lambda: os._exit(0)).start()
    while True:
        conn, _ = s.accept()
        threading.Thread(target=handle, args=(conn,), daemon=True).start()


if __name__ == '__main__':
    main()
