#!/usr/bin/env python3
"""Rough keep-alive throughput of the dev server (not part of the test suite):
    python3 tests/devserver/bench_keepalive.py [SECONDS] [CONNECTIONS]"""

import http.client
import os
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from test_devserver import DevServer, split_target  # noqa: E402


def main():
    seconds = float(sys.argv[1]) if len(sys.argv) > 1 else 3.0
    nconn = int(sys.argv[2]) if len(sys.argv) > 2 else 4
    srv = DevServer("--api-key", "k")
    try:
        host, port, _ = split_target(srv.domain + "/")
        counts = [0] * nconn
        stop = time.time() + seconds

        def worker(i):
            c = http.client.HTTPConnection(host, port, timeout=10)
            while time.time() < stop:
                c.request("GET", "/health")
                c.getresponse().read()
                counts[i] += 1
            c.close()

        ts = [threading.Thread(target=worker, args=(i,)) for i in range(nconn)]
        t0 = time.time()
        for t in ts:
            t.start()
        for t in ts:
            t.join()
        dt = time.time() - t0
        print("%d requests in %.2fs over %d keep-alive connections: %.0f req/s"
              % (sum(counts), dt, nconn, sum(counts) / dt))
    finally:
        srv.stop()


if __name__ == "__main__":
    main()
