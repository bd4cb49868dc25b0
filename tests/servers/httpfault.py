#!/usr/bin/env python3
"""A scripted HTTP/1.1 server for the transport tests: each path is a scenario.

Loopback only, threaded, bounded in time (--lifetime) and bytes. Writes its
port to --ready-file once it accepts connections. Scenarios:

  /ok                  200, Content-Length body "hello"
  /chunked             200, chunked "hello world" in three chunks with a trailer
  /close               200, body until the connection closes
  /bytes?n=N           N bytes of a repeating pattern, Content-Length
  /chunkedbytes?n=N&c=K   N bytes in chunks of K
  /drip                the /chunked response written one byte per send
  /echo                200, body = the request head and body as received
  /conns               200, body = number of connections accepted so far
  /status/N            status N, small JSON body {"code":"X","message":"status N"}
  /interim?n=N         N "100 Continue" heads, then 200
  /stall-head?s=S      sleep S seconds before the head
  /stall-body?s=S      head + 5 of 10 body bytes, then sleep S seconds
  /drip-slow?s=S       one byte of body every S seconds (10 bytes)
  /close-after         200 keep-alive response; closes the socket 0.2 s later
  /empty               accept, read the request, close without a byte
  /empty-if-reused     200 on a new connection; on a reused one, close without a byte
  /reset-head          half a head, then RST
  /reset-body          head (Content-Length 100) + 10 bytes, then RST
  /raw/NAME            a canned response from RAW below
"""
import argparse, os, socket, struct, sys, threading, time
from urllib.parse import urlsplit, parse_qs

RAW = {
    'cl-te-both': b'HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n',
    'cl-conflict': b'HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!',
    'cl-same-twice': b'HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\nhello',
    'cl-negative': b'HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\nhello',
    'cl-huge': b'HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999\r\n\r\nhello',
    'cl-short': b'HTTP/1.1 200 OK\r\nContent-Length: 10\r\nConnection: close\r\n\r\nhello',
    'cl-long': b'HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhelloEXTRA',
    'bad-chunk-size': b'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n',
    'chunk-size-overflow': b'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n10000000000000000\r\nhello\r\n0\r\n\r\n',
    'chunk-ext-flood': b'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;' + b'x' * 100000 + b'\r\nhello\r\n0\r\n\r\n',
    'bare-lf-chunk': b'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\nhello\r\n0\r\n\r\n',
    'truncated-chunked': b'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n5\r\nhello\r\n',
    'huge-header-line': b'HTTP/1.1 200 OK\r\nX-Big: ' + b'a' * (1 << 20) + b'\r\nContent-Length: 0\r\n\r\n',
    'many-headers': b'HTTP/1.1 200 OK\r\n' + b''.join(b'X-H%d: v\r\n' % i for i in range(20000)) + b'Content-Length: 0\r\n\r\n',
    'bad-status': b'HTTP/1.1 2000 OK\r\nContent-Length: 0\r\n\r\n',
    'http09': b'hello world\r\n',
    'obs-fold': b'HTTP/1.1 200 OK\r\nX-A: one\r\n two\r\nContent-Length: 0\r\n\r\n',
    'bare-lf-head': b'HTTP/1.1 200 OK\nContent-Length: 0\n\n',
    'interim-flood': b'HTTP/1.1 100 Continue\r\n\r\n' * 5000 + b'HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n',
    'upgrade': b'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n',
    'te-gzip': b'HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n',
    'no-reason': b'HTTP/1.1 204\r\n\r\n',
    'http10': b'HTTP/1.0 200 OK\r\nContent-Length: 5\r\n\r\nhello',
    'request-id': b'HTTP/1.1 404 Not Found\r\nX-Request-ID: abc123\r\nContent-Type: application/json\r\nContent-Length: 44\r\n\r\n{"code":"NOT_FOUND","message":"no such box"}',
    'retry-after': b'HTTP/1.1 503 Service Unavailable\r\nRetry-After: 7\r\nContent-Length: 0\r\n\r\n',
    'head-204-with-cl': b'HTTP/1.1 204 No Content\r\nContent-Length: 0\r\n\r\n',
}

lock = threading.Lock()
accepted = 0


def read_request(f):
    """Reads one request; returns (method, target, head bytes, body) or None."""
    lines = []
    while True:
        line = f.readline(65537)
        if not line:
            return None
        lines.append(line)
        if line in (b'\r\n', b'\n'):
            break
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
    return parts[0].decode(), parts[1].decode(), head, body


def rst(sock):
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack('ii', 1, 0))
    sock.close()


def pattern(n):
    block = bytes(range(256)) * 256
    out = []
    while n > 0:
        take = min(n, len(block))
        out.append(block[:take])
        n -= take
    return out


def handle(sock):
    global accepted
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    f = sock.makefile('rb')
    nreq = 0
    try:
        while True:
            req = read_request(f)
            if req is None:
                return
            method, target, head, body = req
            u = urlsplit(target)
            q = {k: v[0] for k, v in parse_qs(u.query).items()}
            path = u.path
            nreq += 1
            if path == '/empty-if-reused' and nreq > 1:
                return
            keep = serve(sock, method, path, q, head, body)
            if not keep:
                return
    except (ConnectionError, OSError):
        return
    finally:
        try:
            f.close()
            sock.close()
        except OSError:
            pass


def send_response(sock, status, body, extra=b'', reason=b'OK'):
    sock.sendall(b'HTTP/1.1 %d %s\r\nContent-Length: %d\r\n%s\r\n' % (status, reason, len(body), extra) + body)


def serve(sock, method, path, q, head, body):
    if path == '/ok':
        send_response(sock, 200, b'' if method == 'HEAD' else b'hello', b'Content-Type: text/plain\r\n')
        return True
    if path == '/chunked':
        sock.sendall(b'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n1;ext=1\r\n \r\n5\r\nworld\r\n0\r\nX-Trailer: t\r\n\r\n')
        return True
    if path == '/close':
        sock.sendall(b'HTTP/1.1 200 OK\r\n\r\nuntil close')
        return False
    if path == '/bytes':
        n = int(q.get('n', '0'))
        sock.sendall(b'HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n' % n)
        for part in pattern(n):
            sock.sendall(part)
        return True
    if path == '/chunkedbytes':
        n, c = int(q.get('n', '0')), int(q.get('c', '65536'))
        sock.sendall(b'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n')
        for part in pattern(n):
            for i in range(0, len(part), c):
                piece = part[i:i + c]
                sock.sendall(b'%x\r\n' % len(piece) + piece + b'\r\n')
        sock.sendall(b'0\r\n\r\n')
        return True
    if path == '/drip':
        data = b'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n1;ext=1\r\n \r\n5\r\nworld\r\n0\r\nX-Trailer: t\r\n\r\n'
        for i in range(len(data)):
            sock.send(data[i:i + 1])
            time.sleep(0.001)
        return True
    if path == '/echo':
        send_response(sock, 200, head + body)
        return True
    if path == '/conns':
        with lock:
            n = accepted
        send_response(sock, 200, str(n).encode())
        return True
    if path.startswith('/status/'):
        st = int(path[len('/status/'):])
        send_response(sock, st, b'{"code":"X","message":"status %d"}' % st, b'Content-Type: application/json\r\n', b'Status')
        return True
    if path == '/interim':
        sock.sendall(b'HTTP/1.1 100 Continue\r\n\r\n' * int(q.get('n', '1')))
        send_response(sock, 200, b'after interim')
        return True
    if path == '/stall-head':
        time.sleep(float(q.get('s', '3')))
        send_response(sock, 200, b'late')
        return False
    if path == '/stall-body':
        sock.sendall(b'HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nhello')
        time.sleep(float(q.get('s', '3')))
        return False
    if path == '/drip-slow':
        sock.sendall(b'HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n')
        for _ in range(10):
            time.sleep(float(q.get('s', '0.2')))
            sock.send(b'x')
        return False
    if path == '/close-after':
        send_response(sock, 200, b'bye soon')
        time.sleep(0.2)
        return False
    if path == '/empty':
        return False
    if path == '/empty-if-reused':
        send_response(sock, 200, b'fresh connection')
        return True
    if path == '/reset-head':
        sock.sendall(b'HTTP/1.1 200 OK\r\nContent-')
        time.sleep(0.05)
        rst(sock)
        return False
    if path == '/reset-body':
        sock.sendall(b'HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n0123456789')
        time.sleep(0.05)
        rst(sock)
        return False
    if path.startswith('/raw/'):
        data = RAW.get(path[5:])
        if data is None:
            send_response(sock, 404, b'no such scenario')
            return True
        sock.sendall(data)
        if path[5:] in ('cl-long', 'http10'):
            time.sleep(0.3)
        return False
    send_response(sock, 404, b'no such scenario')
    return True


def main():
    global accepted
    ap = argparse.ArgumentParser()
    ap.add_argument('--port', type=int, default=0)
    ap.add_argument('--ready-file')
    ap.add_argument('--lifetime', type=float, default=300)
    a = ap.parse_args()
    srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(('127.0.0.1', a.port))
    srv.listen(128)
    port = srv.getsockname()[1]
    if a.ready_file:
        tmp = a.ready_file + '.tmp'
        with open(tmp, 'w') as fh:
            fh.write(str(port))
        os.rename(tmp, a.ready_file)
    print(port, flush=True)
    end = time.time() + a.lifetime
    srv.settimeout(0.5)
    while time.time() < end:
        try:
            s, _ = srv.accept()
        except socket.timeout:
            continue
        with lock:
            accepted += 1
        threading.Thread(target=handle, args=(s,), daemon=True).start()


if __name__ == '__main__':
    main()
