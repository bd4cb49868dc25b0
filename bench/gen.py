#!/usr/bin/env python3
"""Writes the canned server data for the benchmarks into a directory.

  sandbox.json        one Sandbox object (GET /v1/sandboxes/{id})
  list10m.json        a ~10 MB sandbox list document (tokenizer benchmark T1)
  events-big.txt      execd stdout events, bare `{json}\\n\\n`, ~200 MB (W2, T1)
  events-small.txt    the same framing, 10,000 events
  events-mid.txt      the same events, ~40 MB (for the slow peers)
  events-*.chunked    the same bytes with one HTTP chunk per event, as execd
                      flushes after every event (served raw by nginx)
  big.bin             1 GiB (sparse) for the download workload

Deterministic: a fixed seed, so every run serves the same bytes.
"""
import json, os, random, sys

out = sys.argv[1]
big_mb = int(os.environ.get("BENCH_STREAM_MB", "200"))
os.makedirs(out, exist_ok=True)
rnd = random.Random(11)


def sandbox(i):
    return {
        "id": "6f1c2d3e-4a5b-4c6d-8e9f-%012x" % i,
        "image": {"uri": "python:3.11"},
        "platform": {"os": "linux", "arch": "amd64"},
        "status": {
            "state": "Running",
            "reason": "CONTAINER_RUNNING",
            "message": "Sandbox container is running.",
            "lastTransitionAt": "2026-06-01T10:00:00.120000Z",
        },
        "metadata": {"team": "ml", "owner": "user-%d" % (i % 97), "note": "caf\u00e9 \"q\" \\ tab\t"},
        "entrypoint": ["python", "/app/main.py", "--n", str(i)],
        "expiresAt": "2026-06-01T11:00:00.120000Z",
        "createdAt": "2026-06-01T10:00:00.120000Z",
    }


with open(os.path.join(out, "sandbox.json"), "w") as f:
    json.dump(sandbox(1), f, separators=(",", ":"))

items, size, i = [], 0, 0
while size < 10_000_000:
    s = json.dumps(sandbox(i), separators=(",", ":"))
    items.append(s)
    size += len(s) + 1
    i += 1
with open(os.path.join(out, "list10m.json"), "w") as f:
    f.write('{"items":[' + ",".join(items) + '],"pagination":{"page":0,"pageSize":%d,'
            '"totalItems":%d,"totalPages":1,"hasNextPage":false}}' % (i, i))

WORDS = ("build step compiling module linking object warning error test passed "
         "failed ok src/main.c line column cache hit miss résumé naïve 日本 "
         "\"quoted\" back\\slash tab\there").split(" ")


def line():
    # execd /command sends one event per output line; lengths vary like real
    # build or test logs (mostly short, some long).
    n = rnd.choice((8, 12, 16, 24, 40, 80, 160))
    return " ".join(rnd.choice(WORDS) for _ in range(n))


def write_stream(name, target_bytes=None, count=None):
    ts = 1780308000000
    body = bytearray()
    chunked = bytearray()
    events = []
    events.append({"type": "init", "text": "9b2f4c1e7a3d4e5f8a9b0c1d2e3f4a5b", "timestamp": ts})
    events.append({"type": "ping", "text": "pong", "timestamp": ts})
    n = 0
    # a pool of distinct lines, reused, keeps generation fast
    pool = [json.dumps({"type": "stdout", "text": line(), "timestamp": ts + k},
                       ensure_ascii=False, separators=(",", ":")).encode() + b"\n\n"
            for k in range(4096)]
    head = [json.dumps(e, separators=(",", ":")).encode() + b"\n\n" for e in events]
    tail = json.dumps({"type": "execution_complete", "execution_time": 57,
                       "timestamp": ts + 999}, separators=(",", ":")).encode() + b"\n\n"
    seq = head
    for ev in seq:
        body += ev; chunked += b"%x\r\n" % len(ev) + ev + b"\r\n"; n += 1
    k = 0
    while (count is not None and n < count - 1) or (target_bytes is not None and len(body) < target_bytes):
        ev = pool[k % len(pool)]; k += 1
        body += ev; chunked += b"%x\r\n" % len(ev) + ev + b"\r\n"; n += 1
    body += tail; chunked += b"%x\r\n" % len(tail) + tail + b"\r\n"; n += 1
    chunked += b"0\r\n\r\n"
    with open(os.path.join(out, "events-%s.txt" % name), "wb") as f:
        f.write(body)
    with open(os.path.join(out, "events-%s.chunked" % name), "wb") as f:
        f.write(chunked)
    with open(os.path.join(out, "events-%s.count" % name), "w") as f:
        f.write("%d %d\n" % (n, len(body)))


write_stream("small", count=10_000)
write_stream("big", target_bytes=big_mb * 1_000_000)
# the same events, 40 MB: for the slow peers (python, JS), so that five runs
# fit in the time budget; their rates are per byte and per event
write_stream("mid", target_bytes=40_000_000)
with open(os.path.join(out, "big.bin"), "wb") as f:
    f.truncate(1 << 30)
