#!/usr/bin/env python3
"""The python3 http.client peer: same workloads and output as osb_bench.c.

  py_bench.py URL w1 N | w2 small|mid|big | w3 [SANDBOX] | w4 MIB [FILE]

Times only the workload (not the interpreter's start); cpu_s is this
process's user+sys over the same span. json.loads parses each document."""
import http.client, json, os, resource, sys, time
from urllib.parse import urlsplit

base, w = sys.argv[1], sys.argv[2]
u = urlsplit(base)


def cpu():
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


conn = http.client.HTTPConnection(u.hostname, u.port)
t0, c0 = time.monotonic(), cpu()
units = nbytes = 0
if w == "w1":
    n = int(sys.argv[3])
    for _ in range(n):
        conn.request("GET", "/v1/sandboxes/6f1c2d3e-4a5b-4c6d-8e9f-000000000001")
        r = conn.getresponse()
        doc = json.loads(r.read())
        nbytes += len(doc["status"]["state"])
    units = n
elif w == "w2":
    which = sys.argv[3]
    conn.request("POST", "/x/%s/command" % which, body=b'{"command":"cat /var/log/build.log"}',
                 headers={"Content-Type": "application/json"})
    r = conn.getresponse()
    n_stdout = text = 0
    for line in r:                       # http.client decodes the chunks
        nbytes += len(line)
        if line[:1] != b"{":
            continue
        ev = json.loads(line)
        units += 1
        if ev.get("type") == "stdout":
            n_stdout += 1
            text += len(ev.get("text", ""))
    assert n_stdout and text
elif w == "w3":
    sid = sys.argv[3] if len(sys.argv) > 3 else "s"
    conn.request("GET", "/x/%s/files/download?path=%%2Fdata%%2Fbig.bin" % sid)
    r = conn.getresponse()
    buf = bytearray(1 << 20)
    mv = memoryview(buf)
    while True:
        k = r.readinto(mv)
        if not k:
            break
        nbytes += k
    units = nbytes
elif w == "w4":
    size = int(sys.argv[3]) << 20
    boundary = "benchboundary0123456789"
    meta = b'{"path":"/tmp/upload.bin","mode":644}'
    head = (b"--" + boundary.encode() + b'\r\nContent-Disposition: form-data; name="metadata"; '
            b'filename="metadata"\r\nContent-Type: application/json\r\n\r\n' + meta +
            b"\r\n--" + boundary.encode() + b'\r\nContent-Disposition: form-data; name="file"; '
            b'filename="upload.bin"\r\nContent-Type: application/octet-stream\r\n\r\n')
    tail = b"\r\n--" + boundary.encode() + b"--\r\n"
    block = bytes(256 * 1024)

    src = open(sys.argv[4], "rb") if len(sys.argv) > 4 else None   # from a file

    def body():
        yield head
        left = size
        while left:
            k = min(left, len(block))
            if src:
                d = src.read(k)
                assert len(d) == k
                yield d
            else:
                yield block if k == len(block) else block[:k]
            left -= k
        yield tail

    conn.request("POST", "/x/s/files/upload", body=body(), headers={
        "Content-Type": "multipart/form-data; boundary=" + boundary,
        "Content-Length": str(len(head) + size + len(tail))})
    r = conn.getresponse()
    r.read()
    assert r.status == 200
    nbytes = units = size
else:
    sys.exit("unknown workload " + w)
t1, c1 = time.monotonic(), cpu()
print("wall_s=%.6f cpu_s=%.6f units=%d bytes=%d" % (t1 - t0, c1 - c0, units, nbytes))
