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
  stall      read the whole request, wait 2 s, then answer 200 (202 for POST)

  ep         200 with an endpoint that already carries a scheme and headers

GET /count?key=SEGMENT answers {"count": N, "gaps_ms": [...]}: how many
requests that segment received and the milliseconds between arrivals.
GET /last answers the previous request as {"method", "target", "body",
"headers": {lower-case name: value, repeats joined by ", "}} so tests can check the exact wire form.
Requests without a script segment get canned answers: GET /v1/sandboxes and
/v1/snapshots an empty page, POST /v1/sandboxes a sandbox, /policy an egress
status, anything else 404 {"detail":"Not Found"}.
Every answer echoes X-Request-ID (or makes one up).
"""
import argparse, email.utils, json, os, re, socket, threading, time, uuid
from urllib.parse import urlsplit, parse_qs

lock = threading.Lock()
arrivals = {}          # segment -> [monotonic times]
last = {}              # the previous request (for GET /last)

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
        k = k.strip().lower()
        # a repeated header is kept as one value joined by ", " (RFC 9110)
        headers[k] = headers[k] + ', ' + v.strip() if k in headers else v.strip()
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
            if u.path == '/last':
                with lock:
                    out = json.dumps(last).encode()
                respond(conn, 200, [('Content-Type', 'application/json'), ('X-Request-ID', rid)], out)
                continue
            with lock:
                last.clear()
                last.update({'method': method, 'target': target, 'headers': headers,
                             'body': body.decode('utf-8', 'replace')})
            seg = next((s for s in u.path.split('/') if s.startswith('seq-')), None)
            if seg is None:
                jh = [('Content-Type', 'application/json'), ('X-Request-ID', rid)]
                page = {'page': 1, 'pageSize': 20, 'totalItems': 0, 'totalPages': 0, 'hasNextPage': False}
                if method == 'GET' and u.path in ('/v1/sandboxes', '/v1/snapshots'):
                    respond(conn, 200, jh, json.dumps({'items': [], 'pagination': page}).encode())
                elif method == 'POST' and u.path == '/v1/sandboxes':
                    respond(conn, 202, jh, json.dumps({'id': 'sbx-1', 'status': {'state': 'Running'},
                                                       'createdAt': '2026-06-01T10:00:00Z'}).encode())
                elif u.path.endswith('/policy') or '/credential-vault' in u.path:
                    respond(conn, 200, jh, b'{"status":"ok","mode":"enforcing","enforcementMode":"dns"}\n')
                else:
                    respond(conn, 404, jh, b'{"detail":"Not Found"}')
                continue
            with lock:
                arrivals.setdefault(seg, []).append(time.monotonic())
                n = len(arrivals[seg])
            tokens = [t for t in seg.split('-')[1:] if t in ('close', 'ep', 'stall') or TOKEN.match(t)]
            tok = tokens[min(n, len(tokens)) - 1] if tokens else '200'
            if tok == 'close':
                conn.shutdown(socket.SHUT_RDWR)
                return
            if tok == 'stall':
                time.sleep(2)
                tok = '202' if method == 'POST' else '200'
            if tok == 'ep':
                out = json.dumps({'endpoint': 'https://gw.example.com:8443/route/' + seg,
                                  'headers': {'X-One': 'a', 'OpenSandbox-Secure-Access': 't0k'}}).encode()
                respond(conn, 200, [('Content-Type', 'application/json'), ('X-Request-ID', rid)], out)
                continue
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
