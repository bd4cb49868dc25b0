#!/usr/bin/env python3
"""A recording HTTP/1.1 server for tests/test_wire.c: it keeps every request
that arrives (connection number, request line, the head byte for byte, the
body) so that the tests can assert what went on the wire.

Loopback only (127.0.0.1, and ::1 on the same handlers when IPv6 is there),
python3 standard library, threaded, bounded in time (--lifetime) and bytes.
Writes {"port": P, "port6": P6 or 0} to --ready-file.

  /__log                   the records since the last /__reset, as JSON (these
                           two paths are never recorded themselves)
  /__reset                 forget the records
  /close-token?v=V         200 "ok" with "Connection: V" (V percent-decoded);
                           the socket stays open, and a request that still
                           comes on it is recorded with "after_close" and
                           answered by closing
  /http10                  "HTTP/1.0 200" without keep-alive, same treatment
  /http10-keep             "HTTP/1.0 200" with "Connection: keep-alive"
  /v1/sandboxes/ID/endpoints/PORT[?use_server_proxy=true]
                           an endpoint on this very server (the same host and
                           port as the lifecycle API), or its server-proxy
                           route; headers {"X-EXECD-ACCESS-TOKEN": "tok-PORT"}
                           plus, for ID "hostile", {"Host": "evil.example"};
                           for ID "notoken" no token (egress: OPENSANDBOX-EGRESS-AUTH)
  POST .../command, .../code, .../session/S/run
                           an execd event stream (init, stdout, complete),
                           starting with a UTF-8 BOM, mixing a data: line
  POST .../files/upload    multipart read by the rules of Go's mime package
                           (and by --go-checker, execd's own reader, when
                           given): 200 with what arrived, or 400 as execd
  GET .../files/download   200 "l2\\nl3"; for ?path=/cut 3 bytes of a Content-Length
                           of 10, then the connection closes
  /redirect?to=URL         307 to URL
  anything else            200 {}
"""
import argparse, json, os, socket, subprocess, sys, threading, time
from urllib.parse import urlsplit, parse_qs

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import httpfault  # noqa: E402  (its request reader)

lock = threading.Lock()
records = []
conns = [0]
GO_CHECKER = [None]
PORTS = {}

STREAM = (b'\xef\xbb\xbf{"type":"init","text":"exec-1","timestamp":1}\n\n'
          b'data: {"type":"stdout","text":"one","timestamp":2}\n'
          b'{"type":"stdout","text":"two","timestamp":3}\n\n'
          b'{"type":"execution_complete","timestamp":4,"execution_time":3}\n\n')


def read_request(f):
    """httpfault.read_request, plus the header fields (lower-case names)."""
    req = httpfault.read_request(f)
    if req is None:
        return None
    method, target, head, body = req
    hd = {}
    for l in head.split(b'\r\n')[1:]:
        k, sep, v = l.decode('latin-1').partition(':')
        if sep:
            hd[k.strip().lower()] = v.strip()
    return method, target, head, hd, body


# ---- multipart by the rules of Go's mime package ----

TSPECIALS = '()<>@,;:\\"/[]?='


def go_consume_token(v):
    i = 0
    while i < len(v) and 0x20 < ord(v[i]) < 0x7f and v[i] not in TSPECIALS:
        i += 1
    return v[:i], v[i:]


def go_consume_value(v):
    """mime.consumeValue: a token, or a quoted-string whose backslash escapes
    only count before a tspecial; CR or LF inside fails."""
    if not v:
        return '', v
    if v[0] != '"':
        return go_consume_token(v)
    out = []
    i = 1
    while i < len(v):
        r = v[i]
        if r == '"':
            return ''.join(out), v[i + 1:]
        if r == '\\' and i + 1 < len(v) and v[i + 1] in TSPECIALS:
            out.append(v[i + 1])
            i += 2
            continue
        if r in '\r\n':
            return '', v
        out.append(r)
        i += 1
    return '', v


def go_parse_media_type(v):
    """mime.ParseMediaType for the cases here: (type, params) or None."""
    base, _, rest = v.partition(';')
    params = {}
    rest = ';' + rest if _ else ''
    while rest.strip():
        rest = rest.lstrip()
        if not rest.startswith(';'):
            return None
        rest = rest[1:].lstrip()
        key, rest = go_consume_token(rest)
        key = key.lower()
        if not key or not rest.startswith('='):
            return None
        value, rest2 = go_consume_value(rest[1:])
        if value == '' and rest2 == rest[1:]:
            return None
        rest = rest2
        if key in params:
            return None
        params[key] = value
    return base.strip().lower(), params


def go_base(name):
    """filepath.Base on Linux."""
    name = name.rstrip('/')
    if name == '':
        return '/'
    return name.rsplit('/', 1)[-1]


def parse_form(ctype, body):
    mt = go_parse_media_type(ctype)
    if not mt or 'boundary' not in mt[1]:
        return None, 'no boundary'
    delim = b'--' + mt[1]['boundary'].encode('latin-1')
    chunks = body.split(b'\r\n' + delim)
    if not chunks[0].startswith(delim):
        return None, 'no first boundary'
    chunks[0] = chunks[0][len(delim):]
    files = {}
    for c in chunks:
        if c.startswith(b'--'):
            break
        if not c.startswith(b'\r\n'):
            return None, 'bad delimiter line'
        head, sep, data = c[2:].partition(b'\r\n\r\n')
        if not sep:
            return None, 'part without a blank line'
        disp = None
        for line in head.split(b'\r\n'):
            k, _, v = line.decode('utf-8', 'replace').partition(':')
            if k.strip().lower() == 'content-disposition':
                disp = v.strip()
        params = go_parse_media_type(disp) if disp else None
        params = params[1] if params else {}
        name, filename = params.get('name', ''), params.get('filename', '')
        if filename:   # ReadForm: a part is a file only with a filename
            files.setdefault(name, []).append((go_base(filename), data))
    metas, fls = files.get('metadata', []), files.get('file', [])
    if not metas or len(metas) != len(fls):
        return None, 'metadata/file parts: %d vs %d' % (len(metas), len(fls))
    out = []
    for (mname, mdata), (fname, fdata) in zip(metas, fls):
        try:
            path = json.loads(mdata)['path']
        except Exception as e:
            return None, 'metadata JSON: %s' % e
        out.append({'path': path, 'filename': fname, 'size': len(fdata)})
    return out, None


def go_checker(ctype, body):
    if not GO_CHECKER[0]:
        return None
    mt = go_parse_media_type(ctype)
    if not mt or 'boundary' not in mt[1]:
        return {'error': 'no boundary'}
    p = subprocess.run([GO_CHECKER[0], mt[1]['boundary']], input=body, capture_output=True, timeout=20)
    if p.returncode != 0:
        return {'error': p.stderr.decode('utf-8', 'replace').strip()}
    return {'items': json.loads(p.stdout)}


# ---- the server ----

def send(sock, status, body, ctype='application/json', extra=b'', version=b'HTTP/1.1'):
    head = b'%s %d X\r\nContent-Type: %s\r\nContent-Length: %d\r\n' % (version, status, ctype.encode(), len(body))
    sock.sendall(head + extra + b'\r\n' + body)


def handle(sock, port):
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    f = sock.makefile('rb')
    with lock:
        conns[0] += 1
        conn = conns[0]
    closing = False
    try:
        while True:
            req = read_request(f)
            if req is None:
                return
            method, target, head, hd, body = req
            u = urlsplit(target)
            path, q = u.path, parse_qs(u.query)
            if path == '/__log':
                with lock:
                    data = json.dumps(records).encode()
                send(sock, 200, data)
                continue
            if path == '/__reset':
                with lock:
                    del records[:]
                send(sock, 200, b'{}')
                continue
            rec = {'conn': conn, 'method': method, 'target': target, 'head': head.decode('latin-1'),
                   'body_len': len(body), 'after_close': closing}
            with lock:
                records.append(rec)
            if closing:
                return
            if path == '/close-token':
                send(sock, 200, b'ok', 'text/plain', b'Connection: ' + q.get('v', [''])[0].encode('latin-1') + b'\r\n')
                closing = True
            elif path == '/http10':
                send(sock, 200, b'ok', 'text/plain', version=b'HTTP/1.0')
                closing = True
            elif path == '/http10-keep':
                send(sock, 200, b'ok', 'text/plain', b'Connection: keep-alive\r\n', version=b'HTTP/1.0')
            elif path == '/redirect':
                send(sock, 307, b'moved', 'text/plain', b'Location: ' + q.get('to', ['/'])[0].encode() + b'\r\n')
            elif '/endpoints/' in path and path.startswith('/v1/sandboxes/'):
                sid, eport = path.split('/')[3], path.rsplit('/', 1)[1]
                if q.get('use_server_proxy', [''])[0] == 'true':
                    ep = '127.0.0.1:%d/v1/sandboxes/%s/proxy/%s' % (port, sid, eport)
                else:
                    ep = '127.0.0.1:%d' % port
                hdrs = {'X-EXECD-ACCESS-TOKEN': 'tok-' + eport}
                if sid == 'notoken':   # as real servers: no execd token handed out
                    hdrs = {'OPENSANDBOX-EGRESS-AUTH': 'eg-' + eport} if eport == '18080' else {}
                if sid == 'hostile':
                    hdrs['Host'] = 'evil.example'
                send(sock, 200, json.dumps({'endpoint': ep, 'headers': hdrs}).encode())
            elif method == 'POST' and (path.endswith('/command') or path.endswith('/code') or
                                       (path.endswith('/run') and '/session/' in path)):
                send(sock, 200, STREAM, 'text/event-stream')
            elif method == 'GET' and path.endswith('/files/download'):
                if q.get('path', [''])[0] == '/cut':   # 3 of 10 bytes, then the connection drops
                    sock.sendall(b'HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 10\r\n\r\nabc')
                    return
                send(sock, 200, b'l2\nl3', 'text/plain; charset=utf-8')
            elif method == 'POST' and path.endswith('/files/upload'):
                items, err = parse_form(hd.get('content-type', ''), body)
                rec['upload'] = items
                rec['upload_error'] = err
                rec['go'] = go_checker(hd.get('content-type', ''), body)
                if err:
                    send(sock, 400, json.dumps({'code': 'INVALID_FILE', 'message': err}).encode())
                elif rec['go'] and 'error' in rec['go']:
                    send(sock, 400, json.dumps({'code': 'INVALID_FILE', 'message': rec['go']['error']}).encode())
                else:
                    send(sock, 200, b'')
            else:
                send(sock, 200, b'{}')
    except (OSError, ValueError):
        pass
    finally:
        try:
            sock.close()
        except OSError:
            pass


def serve(ls, port):
    while True:
        try:
            s, _ = ls.accept()
        except OSError:
            return
        threading.Thread(target=handle, args=(s, port), daemon=True).start()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--ready-file')
    ap.add_argument('--lifetime', type=float, default=120)
    ap.add_argument('--go-checker')
    a = ap.parse_args()
    GO_CHECKER[0] = a.go_checker
    ls = socket.socket()
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(('127.0.0.1', 0))
    ls.listen(64)
    port = ls.getsockname()[1]
    port6 = 0
    try:
        l6 = socket.socket(socket.AF_INET6)
        l6.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        l6.bind(('::1', 0))
        l6.listen(64)
        port6 = l6.getsockname()[1]
        threading.Thread(target=serve, args=(l6, port6), daemon=True).start()
    except OSError:
        pass
    threading.Thread(target=serve, args=(ls, port), daemon=True).start()
    if a.ready_file:
        tmp = a.ready_file + '.tmp'
        with open(tmp, 'w') as fh:
            fh.write(json.dumps({'port': port, 'port6': port6}))
        os.rename(tmp, a.ready_file)
    time.sleep(a.lifetime)


if __name__ == '__main__':
    main()
