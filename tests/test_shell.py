#!/usr/bin/env python3
"""End-to-end tests of `osb sandbox shell` and `osb command run -it` (build/osb) against
tools/devserver, driven through a real pseudo-terminal (python's pty module).

    make build/osb && python3 tests/test_shell.py

On a terminal: echo, the window size at the start and after a resize (`stty size`),
Ctrl-C stops `sleep 100` while the shell lives on, `exit 7` is osb's exit code 7, and the
terminal mode afterwards equals the mode before (also after SIGTERM to osb); the same
through the server proxy. Without a terminal: a pipe into the shell, binary data through
`cat`, 50 MB of output complete. OSB_BIN overrides the binary.
"""

import fcntl
import json
import os
import pty
import select
import signal
import struct
import subprocess
import sys
import tempfile
import termios
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import test_cli  # noqa: E402  (the dev server, the binary and the environment of the CLI tests)
from test_cli import OSB, SERVER  # noqa: E402

WATCHDOG_SECONDS = 170


def setUpModule():
    test_cli.setUpModule()
    code, out, err = osb("-o", "json", "sandbox", "create", "--image", "python:3.11")
    if code != 0:
        raise RuntimeError("cannot create a sandbox: %s" % err)
    SERVER["sid"] = json.loads(out)["id"]


def tearDownModule():
    test_cli.tearDownModule()


def env():
    return test_cli.base_env()


def argv(*args):
    return [OSB, "--domain", SERVER["domain"], "--api-key", SERVER["key"]] + [str(a) for a in args]


def osb(*args, stdin=None, timeout=60):
    return test_cli.osb(*args, stdin=stdin, timeout=timeout)


def set_size(fd, rows, cols):
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))


class Terminal(object):
    """osb on a pseudo-terminal, inside a bash that records the terminal mode before
    and after it (stty -g) and its exit code."""

    def __init__(self, test, osb_args, rows=24, cols=80):
        self.dir = tempfile.mkdtemp(dir=SERVER["tmp"])
        quoted = " ".join("'%s'" % a.replace("'", "'\\''") for a in argv(*osb_args))
        script = ("stty -g > %(d)s/before; %(osb)s; echo $? > %(d)s/rc; stty -g > %(d)s/after"
                  % {"d": self.dir, "osb": quoted})
        self.pid, self.fd = pty.fork()
        if self.pid == 0:
            try:
                os.execve("/bin/bash", ["bash", "--norc", "--noprofile", "-c", script], env())
            finally:
                os._exit(127)
        set_size(self.fd, rows, cols)
        self.out = b""
        self.test = test

    def send(self, data):
        os.write(self.fd, data)

    def expect(self, text, timeout=20):
        want = text.encode()
        deadline = time.time() + timeout
        while want not in self.out:
            if time.time() > deadline:
                self.test.fail("no %r in the terminal output:\n%r" % (text, self.out[-2000:]))
            r, _, _ = select.select([self.fd], [], [], 0.2)
            if r:
                try:
                    chunk = os.read(self.fd, 65536)
                except OSError:
                    chunk = b""
                if not chunk:
                    self.test.fail("the terminal closed before %r:\n%r" % (text, self.out[-2000:]))
                self.out += chunk
        at = self.out.index(want) + len(want)
        self.out = self.out[at:]

    def osb_pid(self):
        """The osb process under the recording bash."""
        for p in os.listdir("/proc"):
            if not p.isdigit():
                continue
            try:
                with open("/proc/%s/stat" % p) as f:
                    ppid = int(f.read().rsplit(")", 1)[1].split()[1])
                with open("/proc/%s/cmdline" % p, "rb") as f:
                    cmd = f.read()
            except OSError:
                continue
            if ppid == self.pid and cmd.startswith(OSB.encode()):
                return int(p)
        return None

    def finish(self, timeout=30):
        """Waits for the end; returns (osb's exit code, mode before, mode after)."""
        deadline = time.time() + timeout
        while True:
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                break
            if time.time() > deadline:
                os.kill(self.pid, signal.SIGKILL)
                self.test.fail("osb did not end:\n%r" % self.out[-2000:])
            r, _, _ = select.select([self.fd], [], [], 0.2)
            if r:
                try:
                    self.out += os.read(self.fd, 65536)
                except OSError:
                    pass
        os.close(self.fd)

        def read(name):
            with open(os.path.join(self.dir, name)) as f:
                return f.read().strip()
        return int(read("rc")), read("before"), read("after")


class TestShellOnATerminal(unittest.TestCase):
    def session(self, *global_flags):
        t = Terminal(self, list(global_flags) + ["sandbox", "shell", SERVER["sid"]], rows=20, cols=50)
        t.send(b"echo hel''lo-$((1+2))\r")
        t.expect("hello-3")
        t.send(b"stty size\r")
        t.expect("20 50")                       # the size at the start
        set_size(t.fd, 33, 111)                 # the kernel sends osb SIGWINCH
        time.sleep(0.3)
        t.send(b"stty size\r")
        t.expect("33 111")
        t.send(b"sleep 100\r")
        time.sleep(0.5)
        t.send(b"\x03")                         # Ctrl-C goes to the remote sleep
        t.send(b"echo alive-$((2+2))\r")
        t.expect("alive-4")
        t.send(b"exit 7\r")
        code, before, after = t.finish()
        self.assertEqual(code, 7)
        self.assertEqual(before, after)

    def test_shell_direct(self):
        self.session()

    def test_shell_through_the_server_proxy(self):
        self.session("--use-server-proxy")

    def test_command_run_it(self):
        t = Terminal(self, ["command", "run", "-it", SERVER["sid"], "--", "bash", "--norc", "-c",
                            "read -r line; echo got-$line; tty >/dev/null && echo on-a-tty; exit 3"])
        time.sleep(0.3)
        t.send(b"xyz\r")
        t.expect("got-xyz")
        t.expect("on-a-tty")
        code, before, after = t.finish()
        self.assertEqual(code, 3)
        self.assertEqual(before, after)

    def test_sigterm_restores_the_terminal(self):
        t = Terminal(self, ["sandbox", "shell", SERVER["sid"]])
        t.send(b"echo ready-$((3*3))\r")
        t.expect("ready-9")
        pid = t.osb_pid()
        self.assertIsNotNone(pid)
        os.kill(pid, signal.SIGTERM)
        code, before, after = t.finish()
        self.assertEqual(code, 128 + signal.SIGTERM)
        self.assertEqual(before, after)

    def test_ctrl_d_ends_the_shell(self):
        t = Terminal(self, ["sandbox", "shell", SERVER["sid"]])
        # a prompt of our own: Ctrl-D goes once the shell reads a line again (sent
        # while the command still runs, the tty's EOF can be lost when readline
        # takes the terminal back)
        t.send(b"PS1='re''ady> '; echo up-$((5+5))\r")
        t.expect("up-10")
        t.expect("ready> ")
        t.send(b"\x04")
        code, before, after = t.finish()
        self.assertEqual(code, 0)
        self.assertEqual(before, after)

    def test_unknown_sandbox_is_a_clear_error(self):
        t = Terminal(self, ["sandbox", "shell", "no-such-sandbox"])
        code, before, after = t.finish()
        self.assertEqual(code, 4)
        self.assertEqual(before, after)
        self.assertIn(b"error", t.out)


class TestShellInPipes(unittest.TestCase):
    def test_commands_from_a_pipe(self):
        code, out, err = osb("sandbox", "shell", SERVER["sid"],
                             stdin=b"echo piped-$((2+2))\necho to-err >&2\nexit 4\n")
        self.assertEqual(code, 4, err)
        self.assertEqual(out, "piped-4\n")
        self.assertEqual(err, "to-err\n")

    def test_binary_stdin_through_cat(self):
        data = bytes((i * 7 + i // 251) & 0xFF for i in range(300000))
        p = subprocess.run(argv("command", "run", "-i", SERVER["sid"], "--", "cat"), input=data,
                           capture_output=True, env=env(), timeout=60)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(p.stdout, data)

    def test_stdin_end_reaches_the_program(self):
        code, out, err = osb("sandbox", "shell", SERVER["sid"], "--", "wc", "-l", stdin=b"a\nb\nc\n")
        self.assertEqual((code, out.strip()), (0, "3"), err)
        code, out, err = osb("sandbox", "shell", SERVER["sid"], "--", "wc", "-c", stdin=b"")
        self.assertEqual((code, out.strip()), (0, "0"), err)

    def test_words_after_dashes_arrive_as_they_are(self):
        code, out, err = osb("sandbox", "shell", SERVER["sid"], "--", "printf", "%s|", "a b", "c'd", "$HOME",
                             stdin=b"")
        self.assertEqual((code, out), (0, "a b|c'd|$HOME|"), err)

    def test_50_mb_of_output(self):
        p = subprocess.Popen(argv("sandbox", "shell", SERVER["sid"], "--", "sh", "-c",
                                  "head -c 50000000 /dev/zero | tr '\\0' x"),
                             stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, env=env())
        n = xs = 0
        while True:
            chunk = p.stdout.read(1 << 20)
            if not chunk:
                break
            n += len(chunk)
            xs += chunk.count(b"x")
        p.stdout.close()
        self.assertEqual(p.wait(60), 0)
        self.assertEqual((n, xs), (50000000, 50000000))

    def test_options_that_do_not_apply(self):
        code, out, err = osb("command", "run", "-it", "--timeout", "5", SERVER["sid"], "--", "true")
        self.assertEqual(code, 2)
        self.assertIn("do not apply", err)


if __name__ == "__main__":
    test_cli.WATCHDOG_SECONDS = WATCHDOG_SECONDS
    test_cli.watchdog()
    unittest.main(verbosity=1)
