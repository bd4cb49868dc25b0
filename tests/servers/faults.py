#!/usr/bin/env python3
"""A misbehaving HTTP/1.1 server for the reliability and security suites
(tests/test_faults.c, tests/test_alloc.c, tests/test_security.c).

Loopback only, python3 standard library, threaded, bounded in time
(--lifetime, default 120 s) and in bytes. It listens on four ports and writes
them as JSON to --ready-file:

  port   the server itself (127.0.0.1)
  other  the same handlers on 127.0.0.2: "another origin" for redirects
  drip   a relay to port that forwards the response one byte per send
         (TCP_NODELAY), the request unchanged
  stop   a relay to port that forwards the first 600 response bytes and then
         nothing more, keeping both connections open (a silent black hole)

Paths (the query selects variants):
  /ok                      200 "hello"
  /json?kind=K             200 application/json: ok, utf8 (invalid UTF-8),
                           surrogate (lone \\ud800), deep (100000 '['),
                           hugenum (1e999999 and a 30-digit integer), negzero,
                           dup (duplicate key), trailing (garbage after)
  /bytes?n=N               N bytes of the pattern i & 255, Content-Length
  /chunkedbytes?n=N&c=K    the same, chunked in pieces of K
  /upload                  reads the body (Content-Length or chunked) and
                           answers {"count":N,"sum":S}
  /echo                    the request head and body as the response body
  /bigheaders              200 with 40 header lines of 1000 bytes (a 40 KB head)
  /reset-chunk             chunked, half of a chunk, then RST
  /reset-head              half a head, then RST
  /reset-length            Content-Length 100, 10 bytes, then RST
  /stall-chunk?s=S         chunked, one chunk and half of the next, then S s quiet
  /endless-headers         a status line, then header lines until the client
                           gives up (at most 4 MiB)
  /gzip-unasked            Content-Encoding: gzip body of "hello" (not asked for)
  /sse?kind=K              text/event-stream, chunked: huge (one 8 MiB data
                           line), crlf-split and utf8-split (written so that
                           CRLF and a UTF-8 character straddle sends),
                           truncated (stream ends cleanly in the middle of an
                           event), cut (connection closes mid-event without
                           the last chunk), heartbeat (": ping" comments every
                           0.1 s for 1.2 s, then one event)
  /status?code=N           status N with {"code":"E_N","message":"status N"}
                           and X-Request-ID: req-N
  /429                     429, Retry-After: 1, X-Request-ID: req-429
  /retry-after-huge        503, Retry-After: 999999999
  /retry-after-date        503, Retry-After: an HTTP-date in 2099
  /502-html                502 text/html, 20 KB of HTML, X-Request-ID: req-502
  /echo-key                500 whose JSON message repeats the
                           OPEN-SANDBOX-API-KEY and X-EXECD-ACCESS-TOKEN sent
  /echo-key-plain          401 text/plain repeating the API key
  /echo-key-cut?pad=N      401 text/plain: N bytes of padding, then the API
                           key (so that it straddles the error message's end)
  /redirect?code=N&to=URL  status N with Location: URL (and a small body)
  /record                  200; remembers that it was hit and the credential
                           headers it carried
  /hits                    {"hits":N,"api_key":N,"token":N} since the start
  /connid                  the number of the connection (1, 2, ... in accept order)
  /last-line               the request line of the previous request
  /last-head               the whole head of the previous request
  /v1/sandboxes/sbx-ok     200 with a sandbox object (for the typed calls)
  (anything else)          404 {"code":"NOT_FOUND","message":"no such scenario"}
"""
import argparse, json, os, socket, struct, threading, time, gzip
from urllib.parse import urlsplit, parse_qs

lock = threading.Lock()
hits = {'hits': 0, 'api_key': 0, 'token': 0}
conns = [0]
last_line = [b'']
last_head = [b'']
DEADLINE = [0.0]


def read_request(f):
    lines = []
    while True:
        line = f.readline(65537)
        if not line:
            return None
        lines.append(line)
        if line in (b'\r\n', b'\n'):
            break
        if len(lines) > 200:
            return None
    head = b''.join(lines)
    parts = lines[0].split()
    if len(parts) < 3:
        return None
    headers = {}
    for l in lines[1:-1]:
        k, _, v = l.decode('latin-1').partition(':')
        headers[k.strip().lower()] = v.strip()
    body = b''
    if 'content-length' in headers:
        body = f.read(int(headers['content-length']))
    elif headers.get('transfer-encoding', '').lower() == 'chunked':
        while True:
            size = int(f.readline().split(b';')[0], 16)
            if size == 0:
                while f.readline() not in (b'\r\n', b'\n', b''):
                    pass
                break
            body += f.read(size)
            f.readline()
    return parts[0].decode(), parts[1].decode(), headers, head, body


def rst(sock):
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack('ii', 1, 0))
    sock.close()


def pattern(n):
    block = bytes(range(256)) * 256
    while n > 0:
        take = min(n, len(block))
        yield block[:take]
        n -= take


def respond(sock, status, body, ctype=b'text/plain', extra=b'', reason=b'X'):
    sock.sendall(b'HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %d\r\n%s\r\n'
                 % (status, reason, ctype, len(body), extra) + body)


def chunk(data):
    return b'%x\r\n' % len(data) + data + b'\r\n'


JSON = {
    'ok': b'{"id":"sbx-1","status":{"state":"Running"},"count":3,"tags":["a","b"]}',
    'utf8': b'{"id":"\xff\xfe bad"}',
    'surrogate': b'{"id":"\\ud800"}',
    'deep': b'[' * 100000,
    'hugenum': b'{"count":1e999999,"big":123456789012345678901234567890}',
    'negzero': b'{"count":-0}',
    'dup': b'{"id":"first","id":"second"}',
    'trailing': b'{"id":"x"} garbage',
}


def serve(sock, method, path, q, headers, head, body, conn_no=0):
    """Answers one request; returns True to keep the connection."""
    if path == '/v1/sandboxes/sbx-ok':
        respond(sock, 200, b'{"id":"sbx-ok","image":{"uri":"python:3.11"},"status":{"state":"Running"},'
                b'"metadata":{"team":"a","env":"b"},"entrypoint":["sleep","infinity"],'
                b'"expiresAt":"2030-01-01T00:00:00Z","createdAt":"2026-01-01T00:00:00Z"}',
                b'application/json', b'X-Request-ID: req-sbx\r\n')
        return True
    if path == '/connid':
        respond(sock, 200, str(conn_no).encode())
        return True
    if path == '/ok':
        respond(sock, 200, b'hello')
        return True
    if path == '/json':
        respond(sock, 200, JSON.get(q.get('kind', 'ok'), b'{}'), b'application/json',
                b'X-Request-ID: req-json\r\n')
        return True
    if path == '/bytes':
        n = int(q.get('n', '0'))
        sock.sendall(b'HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n' % n)
        for part in pattern(n):
            sock.sendall(part)
        return True
    if path == '/chunkedbytes':
        n, c = int(q.get('n', '0')), int(q.get('c', '4096'))
        sock.sendall(b'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n')
        for part in pattern(n):
            for i in range(0, len(part), c):
                sock.sendall(chunk(part[i:i + c]))
        sock.sendall(b'0\r\n\r\n')
        return True
    if path == '/upload':
        respond(sock, 200, b'{"count":%d,"sum":%d}' % (len(body), sum(body) & 0xffffffff),
                b'application/json')
        return True
    if path == '/echo' or path.startswith('/echo/'):
        respond(sock, 200, head + body)
        return True
    if path == '/bigheaders':
        respond(sock, 200, b'big', b'text/plain',
                b''.join(b'X-Big-%d: %s\r\n' % (i, b'h' * 1000) for i in range(40)))
        return True
    if path == '/reset-chunk':
        sock.sendall(b'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nX-Request-ID: req-rc\r\n\r\n'
                     + chunk(b'0123456789') + b'14\r\nabcde')
        time.sleep(0.1)
        rst(sock)
        return False
    if path == '/reset-length':
        sock.sendall(b'HTTP/1.1 200 OK\r\nContent-Length: 100\r\nX-Request-ID: req-rl\r\n\r\n' + bytes(range(10)))
        time.sleep(0.1)
        rst(sock)
        return False
    if path == '/reset-head':
        sock.sendall(b'HTTP/1.1 200 OK\r\nX-Request-ID: req-rh\r\nContent-')
        time.sleep(0.1)
        rst(sock)
        return False
    if path == '/stall-chunk':
        sock.sendall(b'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nX-Request-ID: req-sc\r\n\r\n'
                     + chunk(b'0123456789') + b'14\r\nabcde')
        time.sleep(float(q.get('s', '2')))
        return False
    if path == '/endless-headers':
        sock.sendall(b'HTTP/1.1 200 OK\r\n')
        line = b'X-Endless: ' + b'v' * 40 + b'\r\n'
        sent = 0
        while sent < 4 << 20:
            sock.sendall(line * 64)
            sent += len(line) * 64
        return False
    if path == '/gzip-unasked':
        respond(sock, 200, gzip.compress(b'hello'), b'text/plain', b'Content-Encoding: gzip\r\n')
        return True
    if path == '/sse':
        return sse(sock, q.get('kind', ''))
    if path == '/status':
        n = int(q.get('code', '500'))
        respond(sock, n, b'{"code":"E_%d","message":"status %d"}' % (n, n), b'application/json',
                b'X-Request-ID: req-%d\r\n' % n)
        return True
    if path == '/429':
        respond(sock, 429, b'{"code":"RATE","message":"slow down"}', b'application/json',
                b'Retry-After: 1\r\nX-Request-ID: req-429\r\n')
        return True
    if path == '/retry-after-huge':
        respond(sock, 503, b'{"code":"BUSY","message":"later"}', b'application/json',
                b'Retry-After: 999999999\r\n')
        return True
    if path == '/retry-after-date':
        respond(sock, 503, b'{"code":"BUSY","message":"later"}', b'application/json',
                b'Retry-After: Fri, 31 Dec 2099 23:59:59 GMT\r\n')
        return True
    if path == '/502-html':
        html = b'<html><head><title>502 Bad Gateway</title></head><body>' + b'<p>upstream</p>' * 1300 + b'</body></html>'
        respond(sock, 502, html, b'text/html', b'X-Request-ID: req-502\r\n')
        return True
    if path == '/echo-key':
        key = headers.get('open-sandbox-api-key', '').encode()
        tok = headers.get('x-execd-access-token', '').encode()
        respond(sock, 500, b'{"code":"LEAK","message":"bad key ' + key + b' token ' + tok +
                b' (' + key + b')"}', b'application/json', b'X-Request-ID: req-echo\r\n')
        return True
    if path == '/echo-key-plain':
        key = headers.get('open-sandbox-api-key', '').encode()
        respond(sock, 401, b'unauthorized: ' + key + b'\n' + key, b'text/plain')
        return True
    if path == '/echo-key-cut':
        key = headers.get('open-sandbox-api-key', '').encode()
        respond(sock, 401, b'p' * int(q.get('pad', '0')) + key, b'text/plain')
        return True
    if path == '/redirect':
        to = q.get('to', '/ok').encode()
        n = int(q.get('code', '302'))
        respond(sock, n, b'moved', b'text/plain', b'Location: ' + to + b'\r\n')
        return True
    if path == '/record':
        with lock:
            hits['hits'] += 1
            hits['api_key'] += 'open-sandbox-api-key' in headers
            hits['token'] += 'x-execd-access-token' in headers
        respond(sock, 200, b'recorded')
        return True
    if path == '/hits':
        with lock:
            respond(sock, 200, json.dumps(hits).encode(), b'application/json')
        return True
    respond(sock, 404, b'{"code":"NOT_FOUND","message":"no such scenario"}', b'application/json')
    return True


def sse(sock, kind):
    sock.sendall(b'HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n'
                 b'X-Request-ID: req-sse\r\n\r\n')
    if kind == 'huge':
        sock.sendall(chunk(b'data: '))
        block = b'x' * 65536
        for _ in range(128):
            sock.sendall(chunk(block))
        sock.sendall(chunk(b'\r\n\r\n') + chunk(b'data: end\r\n\r\n') + b'0\r\n\r\n')
        return True
    if kind in ('crlf-split', 'utf8-split'):
        if kind == 'crlf-split':
            pieces = [b'data: one\r', b'\n\r', b'\ndata: two\r', b'\n', b'\r\n']
        else:
            e = '\u00e9\u20ac'.encode()  # 2 + 3 bytes
            pieces = [b'data: a' + e[:1], e[1:3], e[3:] + b'b\r\n\r\n', b'data: two\r\n\r\n']
        for p in pieces:
            sock.sendall(chunk(p))
            time.sleep(0.02)
        sock.sendall(b'0\r\n\r\n')
        return True
    if kind == 'truncated':
        sock.sendall(chunk(b'data: whole\r\n\r\n') + chunk(b'data: half') + b'0\r\n\r\n')
        return True
    if kind == 'cut':
        sock.sendall(chunk(b'data: whole\r\n\r\n') + chunk(b'data: half'))
        time.sleep(0.05)
        return False
    if kind == 'heartbeat':
        for _ in range(12):
            sock.sendall(chunk(b': ping\r\n\r\n'))
            time.sleep(0.1)
        sock.sendall(chunk(b'data: after pings\r\n\r\n') + b'0\r\n\r\n')
        return True
    sock.sendall(b'0\r\n\r\n')
    return True


def handle(sock):
    with lock:
        conns[0] += 1
        conn_no = conns[0]
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.settimeout(max(1.0, DEADLINE[0] - time.time()))
    f = sock.makefile('rb')
    try:
        while True:
            req = read_request(f)
            if req is None:
                return
            method, target, headers, head, body = req
            u = urlsplit(target)
            q = {k: v[0] for k, v in parse_qs(u.query).items()}
            if u.path in ('/last-line', '/last-head'):
                with lock:
                    text = last_line[0] if u.path == '/last-line' else last_head[0]
                respond(sock, 200, text)
                continue
            with lock:
                last_line[0] = head.split(b'\r\n', 1)[0]
                last_head[0] = head
            if not serve(sock, method, u.path, q, headers, head, body, conn_no):
                return
    except (ConnectionError, OSError, ValueError):
        return
    finally:
        try:
            f.close()
            sock.close()
        except OSError:
            pass


def pump(src, dst, per_send, limit):
    """Copies src to dst: per_send bytes per send (0 = as read); after limit
    bytes (None = none) it keeps reading and drops everything."""
    sent = 0
    try:
        while True:
            data = src.recv(65536)
            if not data:
                break
            if limit is not None:
                room = max(0, limit - sent)
                data = data[:room]
            if per_send:
                for i in range(len(data)):
                    dst.sendall(data[i:i + 1])
            elif data:
                dst.sendall(data)
            sent += len(data)
    except OSError:
        pass
    if limit is None:
        for s in (dst, src):
            try:
                s.shutdown(socket.SHUT_WR)
            except OSError:
                pass


def relay(client, upstream_port, per_send, limit):
    client.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    client.settimeout(max(1.0, DEADLINE[0] - time.time()))
    try:
        up = socket.create_connection(('127.0.0.1', upstream_port), timeout=5)
    except OSError:
        client.close()
        return
    up.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    up.settimeout(max(1.0, DEADLINE[0] - time.time()))
    t = threading.Thread(target=pump, args=(client, up, 0, None), daemon=True)
    t.start()
    pump(up, client, per_send, limit)
    if limit is not None:
        t.join(max(0.0, DEADLINE[0] - time.time()))   # hold the client's connection open
    for s in (up, client):
        try:
            s.close()
        except OSError:
            pass


def listener(host):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((host, 0))
    s.listen(128)
    s.settimeout(0.2)
    return s


def accept_loop(srv, fn):
    while time.time() < DEADLINE[0]:
        try:
            c, _ = srv.accept()
        except socket.timeout:
            continue
        except OSError:
            return
        threading.Thread(target=fn, args=(c,), daemon=True).start()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--ready-file')
    ap.add_argument('--lifetime', type=float, default=120)
    a = ap.parse_args()
    DEADLINE[0] = time.time() + a.lifetime
    main_l = listener('127.0.0.1')
    port = main_l.getsockname()[1]
    try:
        other_l = listener('127.0.0.2')
    except OSError:
        other_l = None
    drip_l = listener('127.0.0.1')
    stop_l = listener('127.0.0.1')
    ports = {'port': port, 'other': other_l.getsockname()[1] if other_l else 0,
             'drip': drip_l.getsockname()[1], 'stop': stop_l.getsockname()[1]}
    threads = [threading.Thread(target=accept_loop, args=(main_l, handle), daemon=True),
               threading.Thread(target=accept_loop, args=(drip_l, lambda c: relay(c, port, 1, None)), daemon=True),
               threading.Thread(target=accept_loop, args=(stop_l, lambda c: relay(c, port, 0, 600)), daemon=True)]
    if other_l:
        threads.append(threading.Thread(target=accept_loop, args=(other_l, handle), daemon=True))
    for t in threads:
        t.start()
    if a.ready_file:
        tmp = a.ready_file + '.tmp'
        with open(tmp, 'w') as fh:
            fh.write(json.dumps(ports))
        os.rename(tmp, a.ready_file)
    print(json.dumps(ports), flush=True)
    while time.time() < DEADLINE[0]:
        time.sleep(0.2)


if __name__ == '__main__':
    main()
