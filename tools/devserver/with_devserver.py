#!/usr/bin/env python3
"""Run a command against a freshly started dev server, then stop the server.

    python3 tools/devserver/with_devserver.py [DEVSERVER OPTIONS...] -- COMMAND [ARGS...]

The server is started on a free loopback port (any devserver.py option may be given, e.g.
--record LOG --execd-token T).  COMMAND runs with these variables set:
    OSB_DEVSERVER_DOMAIN, OSB_DEVSERVER_API_KEY   (and OPEN_SANDBOX_DOMAIN, OPEN_SANDBOX_API_KEY)
The exit status is COMMAND's (125 if the server could not be started).  The server is stopped
with SIGTERM (which also ends every process it started) whatever happens to COMMAND.
"""

import json
import os
import signal
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))


def main(argv):
    if "--" not in argv:
        sys.stderr.write(__doc__)
        return 125
    i = argv.index("--")
    server_args, command = argv[:i], argv[i + 1:]
    if not command:
        sys.stderr.write("with_devserver: no command given\n")
        return 125
    tmp = tempfile.mkdtemp(prefix="osb-with-devserver-")
    ready = os.path.join(tmp, "ready.json")
    server = subprocess.Popen([sys.executable, os.path.join(HERE, "devserver.py"), "--port", "0",
                               "--ready-file", ready] + server_args,
                              stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL)
    child = None

    def forward(signum, frame):
        if child is not None and child.poll() is None:
            child.send_signal(signum)

    old = {s: signal.signal(s, forward) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        deadline = time.time() + 30
        while not os.path.exists(ready):
            if server.poll() is not None or time.time() > deadline:
                sys.stderr.write("with_devserver: the dev server did not start\n")
                return 125
            time.sleep(0.05)
        with open(ready) as f:
            info = json.load(f)
        env = dict(os.environ)
        env["OSB_DEVSERVER_DOMAIN"] = env["OPEN_SANDBOX_DOMAIN"] = info["domain"]
        env["OSB_DEVSERVER_API_KEY"] = env["OPEN_SANDBOX_API_KEY"] = info["api_key"]
        child = subprocess.Popen(command, env=env)
        while True:
            try:
                return child.wait()
            except InterruptedError:
                continue
    finally:
        for s, h in old.items():
            signal.signal(s, h)
        if server.poll() is None:
            server.terminate()
            try:
                server.wait(timeout=15)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()
        try:
            os.unlink(ready)
        except OSError:
            pass
        os.rmdir(tmp)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
