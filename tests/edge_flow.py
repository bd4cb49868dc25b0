#!/usr/bin/env python3
"""The quickstart and the osb flow for a build of another machine, run on this one.

    edge_flow.py --dir build/cross/aarch64 --runner qemu-aarch64 --label aarch64
    edge_flow.py --dir build/wine --runner wine --exe .exe --label windows

DIR holds examples/quickstart (no TLS), quickstart-tls, osb (TLS) and osb-notls.
RUNNER is the command that runs them here (qemu-user, wine; empty = directly).
Starts a dev server on a free loopback port and, in front of it, an https
front (tests/servers/front.py) with a certificate from tests/tls/make-certs.sh,
then checks:
the quickstart over http and over https (the test CA from SSL_CERT_FILE);
osb: sandbox create, command run with its exit code and UTF-8 output,
a 10 MB upload and download compared byte for byte, no colour codes when the
output is not a terminal, sandbox kill, the same over https, and that a
server certificate from another CA is refused (exit code 10); where a
tls_anchors program was built (tests/tls_anchors.c): the trust anchors of a
client with nothing configured (Windows: the ROOT certificate store) and an
https call with tls.ca_file. The closing line
is "N passed, N failed".
"""

import argparse
import json
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEVSERVER = os.path.join(ROOT, "tools", "devserver", "devserver.py")
EX_CONNECT = 10


def start_devserver(tmp):
    ready = os.path.join(tmp, "ready")
    proc = subprocess.Popen([sys.executable, DEVSERVER, "--port", "0", "--ready-file", ready,
                             "--command-grace", "0.1", "--state-dir", os.path.join(tmp, "state")],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 30
    while not (os.path.exists(ready) and os.path.getsize(ready) > 0):
        if time.time() > deadline or proc.poll() is not None:
            proc.kill()
            raise RuntimeError("the dev server did not start")
        time.sleep(0.05)
    with open(ready) as f:
        return proc, json.loads(f.read())


def start_front(tmp, backend_port, cert, key):
    """tests/servers/front.py: https on 127.0.0.1, piped to the dev server in plain http."""
    ready = os.path.join(tmp, "front-ready")
    proc = subprocess.Popen([sys.executable, os.path.join(ROOT, "tests", "servers", "front.py"),
                             "--backend", str(backend_port), "--cert", cert, "--key", key,
                             "--ready-file", ready])
    deadline = time.time() + 20
    while not os.path.exists(ready):
        if time.time() > deadline or proc.poll() is not None:
            proc.kill()
            raise RuntimeError("tests/servers/front.py did not start")
        time.sleep(0.05)
    with open(ready) as f:
        return proc, int(f.read())


class Flow:
    def __init__(self, args):
        self.args = args
        self.runner = shlex.split(args.runner)
        self.passed = self.failed = 0

    def binary(self, name):
        return os.path.join(self.args.dir, name + self.args.exe)

    def run(self, argv, env, timeout=300):
        p = subprocess.run(self.runner + argv, capture_output=True, env=env, timeout=timeout)
        return p.returncode, p.stdout, p.stderr

    def check(self, name, ok, detail=""):
        if ok:
            self.passed += 1
            print("ok   %s: %s" % (self.args.label, name))
        else:
            self.failed += 1
            print("FAIL %s: %s" % (self.args.label, name))
            if detail:
                for line in str(detail).splitlines()[-20:]:
                    print("     | " + line)
        sys.stdout.flush()
        return ok


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dir", required=True)
    ap.add_argument("--runner", default="")
    ap.add_argument("--exe", default="")
    ap.add_argument("--label", default="native")
    args = ap.parse_args()
    f = Flow(args)
    tmp = tempfile.mkdtemp(prefix="osb-edge-")
    certs = os.path.join(ROOT, "build", "tls-certs")
    subprocess.run(["sh", os.path.join(ROOT, "tests", "tls", "make-certs.sh"), certs],
                   check=True, stdout=subprocess.DEVNULL)
    proc, info = start_devserver(tmp)
    try:
        flow(f, tmp, certs, info)
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
        shutil.rmtree(tmp, ignore_errors=True)
    print("%d passed, %d failed" % (f.passed, f.failed))
    return 0 if f.failed == 0 else 1


def flow(f, tmp, certs, info):
    home = os.path.join(tmp, "home")
    os.makedirs(home)
    base = {k: v for k, v in os.environ.items() if not k.startswith(("OPEN_SANDBOX_", "SSL_CERT_"))}
    base.update(HOME=home, USERPROFILE=home, OPEN_SANDBOX_API_KEY=info["api_key"])
    front, front_port = start_front(tmp, int(info["domain"].rsplit(":", 1)[1]),
                                    os.path.join(certs, "iponly.pem"), os.path.join(certs, "iponly.key"))
    try:
        flows(f, tmp, certs, base, info, front_port)
    finally:
        front.terminate()
        front.wait(10)


def flows(f, tmp, certs, base, info, front_port):
    plain = dict(base, OPEN_SANDBOX_DOMAIN=info["domain"], OPEN_SANDBOX_PROTOCOL="http",
                 OPEN_SANDBOX_USE_SERVER_PROXY="false")
    tls = dict(base, OPEN_SANDBOX_DOMAIN="127.0.0.1:%d" % front_port, OPEN_SANDBOX_PROTOCOL="https",
               OPEN_SANDBOX_USE_SERVER_PROXY="true", SSL_CERT_FILE=os.path.join(certs, "ca.pem"))

    want = [b"is ready", b"stdout | hello", b"exit code 3", b"read back 25 bytes: hello from opensandbox.h",
            b"sandbox killed"]
    for name, env in (("examples/quickstart", plain), ("quickstart-tls", plain), ("quickstart-tls", tls)):
        if not os.path.exists(f.binary(name)):
            continue
        code, out, err = f.run([f.binary(name)], env)
        out = out.replace(b"\r\n", b"\n")
        f.check("%s (%s)" % (name, env["OPEN_SANDBOX_PROTOCOL"]),
                code == 0 and all(w in out for w in want), out + err)

    data = os.urandom(10 * 1024 * 1024)
    src = os.path.join(tmp, "upload.bin")
    with open(src, "wb") as fh:
        fh.write(data)
    for osb, env in (("osb-notls", plain), ("osb", plain), ("osb", tls)):
        if os.path.exists(f.binary(osb)):
            osb_flow(f, osb, env, src, data, tmp)

    if os.path.exists(f.binary("tls_anchors")):
        anchors_flow(f, certs, base, info, front_port)

    other = dict(tls, SSL_CERT_FILE=os.path.join(certs, "other-ca.pem"))
    code, out, err = f.run([f.binary("osb"), "sandbox", "list"], other)
    f.check("osb (https): a server certificate from another CA is refused (exit %d)" % code,
            code == EX_CONNECT and b"certificate" in err.lower(), err)


def anchors_flow(f, certs, base, info, front_port):
    """tests/tls_anchors.c: with nothing configured the anchors come from the
    system (on Windows its ROOT certificate store); a CA file replaces them
    and an https call verified with it works."""
    code, out, err = f.run([f.binary("tls_anchors")], base)
    words = out.decode("utf-8", "replace").split()
    count = int(words[2]) if len(words) == 3 and words[2].isdigit() else 0
    if f.args.exe == ".exe":
        f.check("trust anchors from the Windows ROOT store when nothing is configured (%s)" % " ".join(words[1:]),
                code == 0 and words[1:2] == ["windows:ROOT"] and count > 0, out + err)
    else:
        f.check("trust anchors from the system when nothing is configured (%s)" % " ".join(words[1:]),
                code == 0 and count > 0, out + err)
    ca = os.path.join(certs, "ca.pem")
    code, out, err = f.run([f.binary("tls_anchors"), ca, "127.0.0.1:%d" % front_port, info["api_key"]], base)
    f.check("tls.ca_file replaces the system anchors (1 certificate) and https works with it",
            code == 0 and out.replace(b"\r\n", b"\n") == ("anchors: %s 1\nhttps with the CA file: ok\n" % ca).encode(),
            out + err)


def osb_flow(f, osb, env, src, data, tmp):
    tag = "%s (%s)" % (osb, env["OPEN_SANDBOX_PROTOCOL"])
    exe = f.binary(osb)
    code, out, err = f.run([exe, "-o", "json", "sandbox", "create", "-i", "python:3.11"], env)
    try:
        sid = json.loads(out)["id"]
    except (ValueError, KeyError, TypeError):
        f.check(tag + ": sandbox create", False, out + err)
        return
    f.check(tag + ": sandbox create", code == 0, err)
    # the words after -- are quoted one by one for the remote shell: shell syntax goes in sh -c
    code, out, err = f.run([exe, "command", "run", sid, "--", "sh", "-c",
                            "printf 'h\\303\\251llo \\342\\234\\223\\n'; exit 3"], env)
    f.check(tag + ": command run exits with the command's code (3) and UTF-8 output",
            code == 3 and out.replace(b"\r\n", b"\n") == "h\u00e9llo \u2713\n".encode(), (code, out, err))
    code, out, err = f.run([exe, "sandbox", "get", sid], env)
    f.check(tag + ": no colour codes when stdout is not a terminal",
            code == 0 and sid.encode() in out and b"\x1b[" not in out + err, out + err)
    code, out, err = f.run([exe, "file", "upload", sid, src, "/tmp/up.bin"], env)
    f.check(tag + ": file upload 10 MB", code == 0, out + err)
    dst = os.path.join(tmp, "down-%s-%s.bin" % (osb, env["OPEN_SANDBOX_PROTOCOL"]))
    code, out, err = f.run([exe, "file", "download", sid, "/tmp/up.bin", dst], env)
    got = open(dst, "rb").read() if os.path.exists(dst) else b""
    f.check(tag + ": file download 10 MB, byte-exact", code == 0 and got == data,
            "exit %d, %d bytes back, equal=%s\n%s" % (code, len(got), got == data, (out + err).decode("utf-8", "replace")))
    code, out, err = f.run([exe, "sandbox", "kill", sid], env)
    f.check(tag + ": sandbox kill", code == 0, out + err)


if __name__ == "__main__":
    sys.exit(main())
