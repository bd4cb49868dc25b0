#!/usr/bin/env python3
"""End-to-end tests of the `osb` command-line tool (build/osb) against tools/devserver.

    make build/osb && python3 tests/test_cli.py        (or: make cli-test)

Starts one dev server on a free loopback port, runs build/osb with --domain/--api-key
or the environment, and checks outputs and exit codes: every command in table and json
output, a pipe into `file write`, Ctrl-C during `command run`, the progress bar only on a
terminal, the config file. OSB_BIN overrides the binary.
"""

import json
import os
import pty
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import unittest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OSB = os.environ.get("OSB_BIN", os.path.join(ROOT, "build", "osb"))
DEVSERVER = os.path.join(ROOT, "tools", "devserver", "devserver.py")

# exit codes documented in `osb --help` and tools/README.md
EX_USAGE, EX_NOTFOUND, EX_AUTH, EX_REJECTED, EX_CONFLICT = 2, 4, 5, 6, 7
EX_CONNECT, EX_UNAVAILABLE, EX_NOTIMPL, EX_INTERRUPTED = 10, 13, 14, 130

SERVER = {}
WATCHDOG_SECONDS = 85


def watchdog():
    """Ends the run (and the dev server) if it takes longer than WATCHDOG_SECONDS."""
    def fire():
        sys.stderr.write("test_cli: watchdog: over %d s, giving up\n" % WATCHDOG_SECONDS)
        proc = SERVER.get("proc")
        if proc:
            proc.kill()
        os._exit(1)
    t = threading.Timer(WATCHDOG_SECONDS, fire)
    t.daemon = True
    t.start()


def setUpModule():
    if not os.access(OSB, os.X_OK):
        raise unittest.SkipTest("build/osb is missing: run make build/osb")
    tmp = tempfile.mkdtemp(prefix="osb-cli-test-")
    ready = os.path.join(tmp, "ready")
    proc = subprocess.Popen([sys.executable, DEVSERVER, "--port", "0", "--ready-file", ready,
                             "--command-grace", "0.1", "--state-dir", os.path.join(tmp, "state"),
                             "--allowed-host-path", tmp],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 20
    while not (os.path.exists(ready) and os.path.getsize(ready) > 0):
        if time.time() > deadline or proc.poll() is not None:
            proc.kill()
            raise RuntimeError("the dev server did not start")
        time.sleep(0.05)
    with open(ready) as f:
        info = json.loads(f.read())
    home = os.path.join(tmp, "home")
    os.makedirs(home)
    SERVER.update(proc=proc, tmp=tmp, domain=info["domain"], key=info["api_key"], home=home)


def tearDownModule():
    proc = SERVER.get("proc")
    if proc:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    if SERVER.get("tmp"):
        shutil.rmtree(SERVER["tmp"], ignore_errors=True)


def base_env(**extra):
    env = {k: v for k, v in os.environ.items() if not k.startswith("OPEN_SANDBOX_")}
    env["HOME"] = SERVER["home"]
    env.update(extra)
    return env


def osb(*args, stdin=None, env=None, flags=True, timeout=40):
    """Runs build/osb; returns (exit code, stdout, stderr)."""
    argv = [OSB]
    if flags:
        argv += ["--domain", SERVER["domain"], "--api-key", SERVER["key"]]
    argv += [str(a) for a in args]
    p = subprocess.run(argv, input=stdin, capture_output=True, env=env or base_env(), timeout=timeout)
    return p.returncode, p.stdout.decode("utf-8", "replace"), p.stderr.decode("utf-8", "replace")


def on_pty(argv, env, timeout=30):
    """Runs argv with stdin/stdout/stderr on a pseudo-terminal; returns (code, output)."""
    pid, fd = pty.fork()
    if pid == 0:
        try:
            os.execve(argv[0], argv, env)
        finally:
            os._exit(127)
    out = b""
    deadline = time.time() + timeout
    while time.time() < deadline:
        r, _, _ = select.select([fd], [], [], 0.5)
        if r:
            try:
                chunk = os.read(fd, 65536)
            except OSError:
                break
            if not chunk:
                break
            out += chunk
    _, status = os.waitpid(pid, 0)
    os.close(fd)
    return os.waitstatus_to_exitcode(status), out.decode("utf-8", "replace")


class Base(unittest.TestCase):
    def ok(self, *args, **kw):
        code, out, err = osb(*args, **kw)
        self.assertEqual(code, 0, "osb %s -> %d\nstdout: %s\nstderr: %s" % (" ".join(map(str, args)), code, out, err))
        return out

    def json(self, *args, **kw):
        out = self.ok(*(("-o", "json") + args), **kw)
        try:
            return json.loads(out)
        except ValueError:
            self.fail("not JSON: osb %s\n%s" % (" ".join(map(str, args)), out))

    def both(self, *args):
        """The command in table and json output; returns the parsed json."""
        table = self.ok(*(("-o", "table") + args))
        self.assertTrue(table.strip(), "empty table output for %s" % (args,))
        return self.json(*args)

    def sandbox(self, *extra):
        doc = self.json("sandbox", "create", "-i", "python:3.11", *extra)
        self.assertEqual(doc["status"]["state"], "Running")
        return doc["id"]


class HelpAndUsage(Base):
    def test_help_lists_commands_and_exit_codes(self):
        out = self.ok("--help", flags=False)
        for word in ("sandbox", "command", "file", "egress", "credential-vault", "diagnostics", "devops",
                     "config", "snapshot", "code", "Exit codes"):
            self.assertIn(word, out)
        for code in (0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 130):
            self.assertRegex(out, r"\n  %d\s" % code)
        readme = open(os.path.join(ROOT, "tools", "README.md")).read()
        for code in (2, 4, 5, 10, 13, 14, 130):
            self.assertIn("| %d " % code, readme)

    def test_group_help_and_version(self):
        self.assertIn("create", self.ok("sandbox", flags=False))
        self.assertIn("session", self.ok("command", "--help", flags=False))
        self.assertIn("--background", self.ok("command", "run", "--help", flags=False))
        self.assertIn("osb ", self.ok("--version", flags=False))

    def test_usage_errors(self):
        for args in (["nosuch"], ["sandbox", "nosuch"], ["sandbox", "get"], ["sandbox", "list", "--bogus"],
                     ["sandbox", "list", "-o", "xml"], ["sandbox", "renew", "x", "-t", "10parsecs"],
                     ["sandbox", "renew", "x"], ["sandbox", "endpoint", "x", "-p", "70000"],
                     ["command", "run", "x"], ["file", "download", "x", "/a", "b", "--range", "z"]):
            code, out, err = osb(*args)
            self.assertEqual(code, EX_USAGE, "%s: %s" % (args, err))
            self.assertTrue(err.strip())

    def test_durations(self):
        sid = self.sandbox()
        for d in ("10m", "1h30m", "90s", "1h30m45s", "600"):
            self.ok("sandbox", "renew", sid, "-t", d)
        self.ok("sandbox", "kill", sid)

    def test_skills_not_available(self):
        code, out, err = osb("skills", "list")
        self.assertEqual(code, EX_UNAVAILABLE)
        self.assertIn("not available in this build", err)

    def test_https(self):
        # without TLS compiled in: "not available in this build"; with it, a TLS
        # handshake against the plain-http dev server fails as a connection error
        no_tls = "tls=none" in self.ok("--version", flags=False)
        code, out, err = osb("--protocol", "https", "sandbox", "list")
        self.assertEqual(code, EX_UNAVAILABLE if no_tls else EX_CONNECT, err)
        if no_tls:
            self.assertIn("not available in this build", err)


class Errors(Base):
    def test_not_found(self):
        code, out, err = osb("sandbox", "get", "no-such-sandbox")
        self.assertEqual(code, EX_NOTFOUND)
        self.assertIn("404", err)
        self.assertIn("SANDBOX_NOT_FOUND", err)
        self.assertIn("request id", err)

    def test_bad_key_never_printed(self):
        secret = "wrong-key-1234567890"
        code, out, err = osb("sandbox", "list", env=base_env(OPEN_SANDBOX_API_KEY=secret,
                                                               OPEN_SANDBOX_DOMAIN=SERVER["domain"]),
                             flags=False)
        self.assertEqual(code, EX_AUTH)
        self.assertIn("INVALID_API_KEY", err)
        self.assertIn("request id", err)
        self.assertNotIn(secret, out + err)
        code, out, err = osb("-v", "sandbox", "list", "--api-key", secret, "--domain", SERVER["domain"],
                             flags=False)
        self.assertEqual(code, EX_AUTH)
        self.assertNotIn(secret, out + err)

    def test_connection_refused(self):
        code, out, err = osb("--domain", "127.0.0.1:1", "--api-key", "k", "sandbox", "list", flags=False)
        self.assertEqual(code, EX_CONNECT, err)

    def test_rejected_and_conflict(self):
        sid = self.sandbox()
        code, out, err = osb("sandbox", "metadata", sid, "opensandbox.io/x=1")
        self.assertEqual(code, EX_REJECTED, err)
        self.ok("sandbox", "pause", sid)
        code, out, err = osb("sandbox", "pause", sid)
        self.assertEqual(code, EX_CONFLICT, err)
        self.ok("sandbox", "kill", sid)


class Config(Base):
    def setUp(self):
        self.home = tempfile.mkdtemp(dir=SERVER["tmp"])
        self.env = base_env(HOME=self.home)
        self.path = os.path.join(self.home, ".opensandbox", "config.toml")

    def test_init_set_show(self):
        code, out, err = osb("config", "init", env=self.env, flags=False)
        self.assertEqual(code, 0, err)
        self.assertTrue(os.path.exists(self.path))
        self.assertEqual(osb("config", "init", env=self.env, flags=False)[0], EX_CONFLICT)
        self.assertEqual(osb("config", "init", "--force", env=self.env, flags=False)[0], 0)
        self.ok("config", "set", "connection.domain", SERVER["domain"], env=self.env, flags=False)
        self.ok("config", "set", "connection.api_key", SERVER["key"], env=self.env, flags=False)
        self.ok("config", "set", "connection.request_timeout", "45", env=self.env, flags=False)
        self.ok("config", "set", "output.color", "false", env=self.env, flags=False)
        self.ok("config", "set", "defaults.image", "python:3.12", env=self.env, flags=False)
        text = open(self.path).read()
        self.assertIn('domain = "%s"' % SERVER["domain"], text)
        self.assertIn("request_timeout = 45", text)
        self.assertIn("color = false", text)
        self.assertEqual(text.count("[connection]"), 1)
        shown = self.json("config", "show", env=self.env, flags=False)
        self.assertEqual(shown["connection"]["domain"], SERVER["domain"])
        self.assertEqual(shown["connection"]["request_timeout"], 45)
        self.assertEqual(shown["sources"]["domain"], "file")
        self.assertEqual(shown["defaults"]["image"], "python:3.12")
        code, out, err = osb("config", "show", env=self.env, flags=False)
        self.assertNotIn(SERVER["key"], out + err)
        # the file is what commands use (no flags, no environment)
        doc = self.json("sandbox", "list", env=self.env, flags=False)
        self.assertIn("items", doc)
        # flag > environment > file
        env = dict(self.env, OPEN_SANDBOX_DOMAIN="127.0.0.1:1")
        self.assertEqual(osb("sandbox", "list", env=env, flags=False)[0], EX_CONNECT)
        self.json("--domain", SERVER["domain"], "sandbox", "list", env=env, flags=False)
        # [defaults].image is used by sandbox create
        doc = self.json("sandbox", "create", env=self.env, flags=False)
        self.assertEqual(doc["image"]["uri"], "python:3.12")
        self.ok("sandbox", "kill", doc["id"], env=self.env, flags=False)

    def test_new_section_and_invalid_key(self):
        self.ok("config", "set", "connection.domain", "h:1", env=self.env, flags=False)
        self.ok("config", "set", "connection.protocol", "http", env=self.env, flags=False)
        text = open(self.path).read()
        self.assertIn("[connection]", text)
        self.assertIn('protocol = "http"', text)
        self.assertEqual(osb("config", "set", "nodot", "x", env=self.env, flags=False)[0], EX_USAGE)

    def test_explicit_config_path(self):
        path = os.path.join(self.home, "other.toml")
        with open(path, "w") as f:
            f.write('[connection]\ndomain = "%s"\napi_key = "%s"\n' % (SERVER["domain"], SERVER["key"]))
        self.json("--config", path, "sandbox", "list", env=self.env, flags=False)


class Sandboxes(Base):
    def test_lifecycle_every_command(self):
        sid = self.sandbox("-t", "30m", "-e", "A=1", "-m", "team=cli", "--resource", "cpu=1",
                           "--resource", "memory=1Gi", "--platform", "linux/amd64")
        self.assertEqual(self.both("sandbox", "get", sid)["id"], sid)
        self.assertIn(sid, self.ok("sandbox", "get", sid, "-o", "yaml"))
        listed = self.both("sandbox", "list", "-s", "running", "-m", "team=cli", "--page", "1", "--page-size", "50")
        self.assertIn(sid, [s["id"] for s in listed["items"]])
        self.assertNotIn(sid, [s["id"] for s in self.json("sandbox", "list", "-m", "team=other")["items"]])
        self.assertTrue(self.both("sandbox", "renew", sid, "-t", "1h")["expiresAt"])
        ep = self.both("sandbox", "endpoint", sid, "-p", "44772")
        self.assertIn("endpoint", ep)
        self.assertTrue(self.both("sandbox", "health", sid)["healthy"])
        self.assertIn("cpu_count", self.both("sandbox", "metrics", sid))
        md = self.both("sandbox", "metadata", sid, "env=dev", "team-")
        self.assertEqual(md["metadata"].get("env"), "dev")
        self.assertNotIn("team", md["metadata"])
        self.assertEqual(self.json("sandbox", "pause", sid)["status"], "paused")
        self.assertEqual(self.json("sandbox", "get", sid)["status"]["state"], "Paused")
        self.assertIn("resumed", self.ok("sandbox", "resume", sid, "--resume-timeout", "20s"))
        self.assertIn("paused", self.ok("sandbox", "pause", sid))
        self.assertEqual(self.json("sandbox", "resume", sid, "--skip-health-check")["status"], "resumed")
        killed = self.json("sandbox", "kill", sid)
        self.assertEqual(killed, [{"id": sid, "killed": True}])
        self.assertEqual(osb("sandbox", "get", sid)[0], EX_NOTFOUND)
        s2, s3 = self.sandbox("-t", "none"), self.sandbox("--skip-health-check", "--ready-timeout", "5s")
        self.assertIn("Killed sandbox", self.ok("sandbox", "kill", s2, s3))

    def test_create_options(self):
        vols = os.path.join(SERVER["tmp"], "volumes.json")
        with open(vols, "w") as f:
            json.dump([{"name": "data", "mountPath": "/data", "host": {"path": SERVER["tmp"]},
                        "readOnly": True}], f)
        sid = self.sandbox("--volumes-file", vols, "--entrypoint", "sleep", "--entrypoint", "1000",
                           "--extension", "k=v", "--image-auth-username", "u", "--image-auth-password", "p")
        self.assertEqual(self.json("sandbox", "get", sid)["entrypoint"], ["sleep", "1000"])
        # the volume reached the server: its host directory is mounted, read-only
        self.assertIn("volumes.json", self.ok("command", "run", sid, "--", "ls", "/data"))
        code, out, err = osb("command", "run", sid, "--", "touch", "/data/x")
        self.assertNotEqual(code, 0)
        self.assertIn("Read-only file system", out + err)
        self.ok("sandbox", "kill", sid)
        # the Docker-mode dev server refuses secure access: the flag reached it
        code, out, err = osb("sandbox", "create", "-i", "x", "--secure-access")
        self.assertEqual(code, EX_REJECTED, err)
        self.assertIn("secureAccess", err)
        with open(vols, "w") as f:
            json.dump([{"name": "data", "mountPath": "/data"}], f)
        self.assertEqual(osb("sandbox", "create", "-i", "x", "--volumes-file", vols)[0], EX_USAGE)
        self.assertEqual(osb("sandbox", "create", "-i", "x", "--credential-proxy")[0], EX_USAGE)

    def test_metrics_watch_until_ctrl_c(self):
        sid = self.sandbox()
        p = subprocess.Popen([OSB, "--domain", SERVER["domain"], "--api-key", SERVER["key"], "sandbox", "metrics",
                              sid, "--watch", "-o", "json"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             env=base_env())
        line = p.stdout.readline()
        self.assertIn("cpu_count", json.loads(line))
        p.send_signal(signal.SIGINT)
        self.assertEqual(p.wait(15), EX_INTERRUPTED)
        p.stdout.close()
        p.stderr.close()
        self.ok("sandbox", "kill", sid)

    def test_snapshots(self):
        sid = self.sandbox()
        snap = self.json("snapshot", "create", sid, "--name", "s1", "--wait")
        self.assertEqual(snap["status"]["state"], "Ready")
        self.assertIn(snap["id"], [s["id"] for s in self.both("snapshot", "list", "--sandbox", sid)["items"]])
        self.assertEqual(self.both("snapshot", "get", snap["id"])["name"], "s1")
        restored = self.json("sandbox", "create", "--snapshot", snap["id"])
        self.assertEqual(restored["status"]["state"], "Running")
        self.assertEqual(self.json("snapshot", "delete", snap["id"]), [{"id": snap["id"], "deleted": True}])
        self.assertEqual(osb("snapshot", "get", snap["id"])[0], EX_NOTFOUND)
        self.ok("sandbox", "kill", sid, restored["id"])

    def test_diagnostics_and_devops(self):
        sid = self.sandbox()
        code, out, err = osb("diagnostics", "logs", sid, "-s", "all")
        self.assertEqual(code, EX_NOTIMPL, err)   # the open-source server answers 501
        self.assertIn("DIAGNOSTICS_NOT_IMPLEMENTED", err)
        self.assertEqual(osb("diagnostics", "events", sid, "-s", "all", "-o", "json")[0], EX_NOTIMPL)
        self.ok("devops", "logs", sid, "-n", "10")
        self.ok("devops", "inspect", sid)
        self.assertIn("Running", self.ok("devops", "events", sid, "-l", "5"))
        self.ok("devops", "summary", sid, "-n", "5", "--event-limit", "5")
        self.ok("sandbox", "kill", sid)


class Commands(Base):
    @classmethod
    def setUpClass(cls):
        code, out, err = osb("sandbox", "create", "-i", "python:3.11", "-o", "json")
        assert code == 0, err
        cls.sid = json.loads(out)["id"]

    @classmethod
    def tearDownClass(cls):
        osb("sandbox", "kill", cls.sid)

    def test_foreground_streams_and_exit_code(self):
        code, out, err = osb("command", "run", self.sid, "--", "echo", "hello;", "echo", "oops", ">&2;", "exit", "3")
        self.assertEqual(code, 3)
        self.assertEqual(out, "hello\n")
        self.assertEqual(err, "oops\n")
        code, out, err = osb("command", "run", self.sid, "-w", "/tmp", "-e", "FOO=bar", "-e", "X=y",
                             "--uid", os.getuid(), "--gid", os.getgid(), "-t", "1m", "--",
                             "echo $FOO$X; pwd; id -u")
        self.assertEqual(code, 0, err)
        self.assertEqual(out.split(), ["bary", "/tmp", str(os.getuid())])

    def test_timeout_kills_the_command(self):
        code, out, err = osb("command", "run", self.sid, "-t", "1s", "--", "sleep", "20")
        self.assertEqual(code, 137, err)   # killed: 128 + SIGKILL

    def test_foreground_json(self):
        for fmt in ("json", "table"):
            code, out, err = osb("command", "run", self.sid, "-o", fmt, "--", "echo a; echo b >&2; exit 4")
            self.assertEqual(code, 4)
            if fmt == "json":
                doc = json.loads(out)
                self.assertEqual(doc["exit_code"], 4)
                self.assertEqual(doc["stdout"], "a\n" if doc["stdout"].endswith("\n") else "a")
                self.assertIn("b", doc["stderr"])
            else:
                self.assertIn("exit_code", out)

    def test_background_status_logs_interrupt(self):
        doc = self.json("command", "run", self.sid, "-d", "--", "echo first; sleep 30")
        eid = doc["execution_id"]
        self.assertIn("Started background command", self.ok("command", "run", self.sid, "-d", "--", "true"))
        deadline = time.time() + 10
        while time.time() < deadline:
            logs = self.json("command", "logs", self.sid, eid)
            if "first" in logs["output"]:
                break
            time.sleep(0.2)
        self.assertIn("first", logs["output"])
        self.assertGreater(logs["cursor"], 0)
        self.assertEqual(self.json("command", "logs", self.sid, eid, "--cursor", logs["cursor"])["output"], "")
        self.assertIn("first", self.ok("command", "logs", self.sid, eid, "-o", "raw"))
        self.assertIn("cursor", self.ok("command", "logs", self.sid, eid))
        self.assertTrue(self.both("command", "status", self.sid, eid)["running"])
        self.assertTrue(self.json("command", "interrupt", self.sid, eid)["interrupted"])
        deadline = time.time() + 10
        while self.json("command", "status", self.sid, eid)["running"] and time.time() < deadline:
            time.sleep(0.2)
        self.assertFalse(self.json("command", "status", self.sid, eid)["running"])

    def test_ctrl_c_interrupts_remote_command(self):
        p = subprocess.Popen([OSB, "--domain", SERVER["domain"], "--api-key", SERVER["key"], "command", "run",
                              self.sid, "--", "echo started; sleep 30"],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=base_env())
        self.assertEqual(p.stdout.readline(), b"started\n")
        p.send_signal(signal.SIGINT)
        code = p.wait(20)
        err = p.stderr.read().decode()
        p.stdout.close()
        p.stderr.close()
        self.assertEqual(code, EX_INTERRUPTED, err)
        self.assertIn("stopped", err)
        eid = err.split()[-1]
        status = self.json("command", "status", self.sid, eid)
        self.assertFalse(status["running"], status)

    def test_session(self):
        sid_ = self.ok("command", "session", "create", self.sid, "-w", "/tmp", "-o", "raw").strip()
        self.assertTrue(sid_)
        self.assertIn("Created session", self.ok("command", "session", "create", self.sid))
        self.assertTrue(self.json("command", "session", "create", self.sid)["session_id"])
        self.ok("command", "session", "run", self.sid, sid_, "--", "export", "A=42")
        self.assertEqual(self.ok("command", "session", "run", self.sid, sid_, "--", "echo $A; pwd"), "42\n/tmp\n")
        code, out, err = osb("-o", "json", "command", "session", "run", self.sid, sid_, "--", "exit 5")
        self.assertEqual(code, 5, err)
        self.assertEqual(json.loads(out)["exit_code"], 5)
        self.assertTrue(self.json("command", "session", "delete", self.sid, sid_)["deleted"])
        self.assertEqual(osb("command", "session", "delete", self.sid, sid_)[0], EX_NOTFOUND)

    def test_code(self):
        self.assertEqual(self.ok("code", "run", self.sid, "-c", "print(6*7)"), "42\n")
        code, out, err = osb("code", "run", self.sid, "-c", "1/0")
        self.assertEqual(code, 1)
        self.assertIn("ZeroDivisionError", err)
        ctx = self.both("code", "context", "create", self.sid, "-l", "python")["id"]
        self.ok("code", "run", self.sid, "--context", ctx, stdin=b"x = 5\n")
        doc = self.json("code", "run", self.sid, "--context", ctx, "-c", "print(x + 1)")
        self.assertEqual(doc["stdout"].strip(), "6")
        self.assertIn(ctx, [c["id"] for c in self.both("code", "context", "list", self.sid)])
        self.assertTrue(self.json("code", "context", "delete", self.sid, ctx)["deleted"])
        self.assertTrue(self.json("code", "context", "delete", self.sid, "-l", "python")["deleted"])
        self.assertEqual(osb("code", "context", "delete", self.sid)[0], EX_USAGE)


class Files(Base):
    @classmethod
    def setUpClass(cls):
        code, out, err = osb("sandbox", "create", "-i", "python:3.11", "-o", "json")
        assert code == 0, err
        cls.sid = json.loads(out)["id"]
        cls.dir = tempfile.mkdtemp(dir=SERVER["tmp"])

    @classmethod
    def tearDownClass(cls):
        osb("sandbox", "kill", cls.sid)

    def p(self, name):
        return os.path.join(self.dir, name)

    def test_pipe_into_write_and_cat(self):
        cmd = "echo hi | %s --domain %s --api-key %s file write %s %s" % (OSB, SERVER["domain"], SERVER["key"],
                                                                         self.sid, self.p("w.txt"))
        p = subprocess.run(cmd, shell=True, capture_output=True, env=base_env(), timeout=30)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(self.ok("file", "cat", self.sid, self.p("w.txt")), "hi\n")
        doc = self.json("file", "write", self.sid, self.p("c.txt"), "-c", "content", "--mode", "600")
        self.assertEqual(doc["bytes"], 7)
        self.assertEqual(self.ok("file", "cat", self.sid, self.p("c.txt"), "--range", "0-2"), "con")
        info = self.both("file", "info", self.sid, self.p("c.txt"))
        self.assertEqual(info[self.p("c.txt")]["mode"], 600)
        self.assertEqual(osb("file", "cat", self.sid, self.p("missing"))[0], EX_NOTFOUND)

    def test_directories_and_edits(self):
        d = self.p("tree")
        self.assertEqual(self.json("file", "mkdir", self.sid, d + "/a/b", d + "/c", "--mode", "750")["status"],
                         "Created")
        self.ok("file", "write", self.sid, d + "/a/b/f.txt", "-c", "hello world")
        names = [e["path"] for e in self.both("file", "ls", self.sid, d, "--depth", "3")]
        self.assertIn(d + "/a/b/f.txt", names)
        self.assertNotIn(d + "/a/b/f.txt", [e["path"] for e in self.json("file", "ls", self.sid, d)])
        found = self.both("file", "search", self.sid, d, "-p", "*.txt")
        self.assertEqual([e["path"] for e in found], [d + "/a/b/f.txt"])
        self.assertIn("Replaced", self.ok("file", "replace", self.sid, d + "/a/b/f.txt", "--old", "world",
                                          "--new", "earth"))
        self.assertEqual(self.json("file", "replace", self.sid, d + "/a/b/f.txt", "--old", "earth",
                                   "--new", "there")["replaced"], 1)
        self.assertEqual(self.ok("file", "cat", self.sid, d + "/a/b/f.txt"), "hello there")
        self.both("file", "chmod", self.sid, d + "/a/b/f.txt", "--mode", "640")
        self.assertEqual(self.json("file", "info", self.sid, d + "/a/b/f.txt")[d + "/a/b/f.txt"]["mode"], 640)
        self.assertIn("Moved", self.ok("file", "mv", self.sid, d + "/a/b/f.txt", d + "/c/g.txt"))
        self.assertEqual(self.json("file", "mv", self.sid, d + "/c/g.txt", d + "/c/h.txt")["dest"], d + "/c/h.txt")
        self.assertEqual(self.ok("file", "cat", self.sid, d + "/c/h.txt"), "hello there")
        self.assertEqual(self.json("file", "rm", self.sid, d + "/c/h.txt")["status"], "Removed")
        self.assertIn("Removed", self.ok("file", "rmdir", self.sid, d + "/a", d + "/c"))
        self.assertEqual(self.json("file", "ls", self.sid, d), [])

    def test_upload_download_range_resume(self):
        data = os.urandom(300000)
        with open(self.p("local.bin"), "wb") as f:
            f.write(data)
        doc = self.both("file", "upload", self.sid, self.p("local.bin"), self.p("remote.bin"))
        self.assertEqual(doc["bytes"], len(data))
        doc = self.both("file", "download", self.sid, self.p("remote.bin"), self.p("back.bin"))
        self.assertEqual(open(self.p("back.bin"), "rb").read(), data)
        self.json("file", "download", self.sid, self.p("remote.bin"), self.p("part.bin"), "--range", "100-199")
        self.assertEqual(open(self.p("part.bin"), "rb").read(), data[100:200])
        with open(self.p("resume.bin"), "wb") as f:
            f.write(data[:12345])
        doc = self.json("file", "download", self.sid, self.p("remote.bin"), self.p("resume.bin"), "--resume")
        self.assertEqual(doc["resumed_from"], 12345)
        self.assertEqual(open(self.p("resume.bin"), "rb").read(), data)
        self.assertIn("already complete",
                      self.ok("file", "download", self.sid, self.p("remote.bin"), self.p("resume.bin"), "--resume"))
        code, out, err = osb("file", "upload", self.sid, self.p("nope.bin"), self.p("x"))
        self.assertEqual(code, 12)

    def test_progress_only_on_a_terminal(self):
        with open(self.p("prog.bin"), "wb") as f:
            f.write(os.urandom(200000))
        code, out, err = osb("file", "upload", self.sid, self.p("prog.bin"), self.p("prog2.bin"))
        self.assertEqual(code, 0)
        self.assertNotIn("upload [", out + err)
        self.assertNotIn("\r", out + err)
        base = [OSB, "--domain", SERVER["domain"], "--api-key", SERVER["key"], "file"]
        code, out = on_pty(base + ["upload", self.sid, self.p("prog.bin"), self.p("prog3.bin")], base_env())
        self.assertEqual(code, 0, out)
        self.assertIn("upload [", out)
        self.assertIn("100%", out)
        self.assertIn("/s", out)
        code, out = on_pty(base + ["download", self.sid, self.p("prog3.bin"), self.p("prog4.bin")], base_env())
        self.assertEqual(code, 0, out)
        self.assertIn("download [", out)
        code, out, err = osb("file", "download", self.sid, self.p("prog3.bin"), self.p("prog5.bin"))
        self.assertNotIn("download [", out + err)


class Egress(Base):
    def test_policy_and_vault(self):
        policy = os.path.join(SERVER["tmp"], "policy.json")
        with open(policy, "w") as f:
            json.dump({"defaultAction": "deny", "egress": [{"action": "allow", "target": "pypi.org"}]}, f)
        sid = self.sandbox("--network-policy-file", policy, "--credential-proxy")
        got = self.both("egress", "get", sid)
        self.assertEqual(got["policy"]["egress"][0]["target"], "pypi.org")
        self.assertIn("pypi.org", self.ok("egress", "get", sid))
        self.both("egress", "patch", sid, "--rule", "allow=example.com", "--rule", "deny=bad.example.com")
        targets = [r["target"] for r in self.json("egress", "get", sid)["policy"]["egress"]]
        self.assertIn("example.com", targets)
        self.json("egress", "delete", sid, "example.com", "--target", "bad.example.com")
        targets = [r["target"] for r in self.json("egress", "get", sid)["policy"]["egress"]]
        self.assertNotIn("example.com", targets)
        self.assertEqual(osb("egress", "patch", sid)[0], EX_USAGE)

        vault = os.path.join(SERVER["tmp"], "vault.json")
        with open(vault, "w") as f:
            json.dump({"credentials": [{"name": "gh", "source": {"type": "inline", "value": "s3cr3t-value"}}],
                       "bindings": [{"name": "b1", "match": {"hosts": ["pypi.org"]},
                                     "auth": {"type": "bearer", "credential": "gh"}}]}, f)
        code, out, err = osb("credential-vault", "create", sid, "--file", vault)
        self.assertEqual(code, 0, err)
        self.assertNotIn("s3cr3t-value", out + err)
        self.assertEqual(osb("credential-vault", "create", sid, "--file", vault)[0], EX_CONFLICT)
        state = self.both("credential-vault", "get", sid)
        self.assertNotIn("s3cr3t-value", json.dumps(state))
        self.assertIn("gh", [c["name"] for c in self.both("credential-vault", "credential", "list", sid)["credentials"]])
        self.assertEqual(self.both("credential-vault", "credential", "get", sid, "gh")["name"], "gh")
        self.assertIn("b1", [b["name"] for b in self.both("credential-vault", "binding", "list", sid)["bindings"]])
        self.assertEqual(self.both("credential-vault", "binding", "get", sid, "b1")["name"], "b1")
        with open(vault, "w") as f:
            json.dump({"credentials": {"delete": ["gh"]}, "bindings": {"delete": ["b1"]}}, f)
        code, out, err = osb("credential-vault", "patch", sid, "--file", "-", stdin=open(vault, "rb").read())
        self.assertEqual(code, 0, err)
        self.assertTrue(self.json("credential-vault", "delete", sid)["deleted"])
        self.assertEqual(osb("credential-vault", "get", sid)[0], EX_NOTFOUND)
        # a YAML payload, as the official CLI accepts, from stdin
        yaml = (b"# vault\ncredentials:\n  - name: tok\n    source:\n      type: inline\n"
                b"      value: 'v'\nbindings:\n- name: b2\n  match:\n    hosts: [pypi.org]\n"
                b"  auth:\n    type: bearer   # comment\n    credential: tok\n")
        code, out, err = osb("credential-vault", "create", sid, "--file", "-", stdin=yaml)
        self.assertEqual(code, 0, err)
        self.assertEqual(self.json("credential-vault", "binding", "get", sid, "b2")["match"]["hosts"], ["pypi.org"])
        self.assertEqual(osb("credential-vault", "patch", sid, "--file", "-", stdin=b"a: [b\n  - c: :")[0], EX_USAGE)
        self.ok("sandbox", "kill", sid)


if __name__ == "__main__":
    watchdog()
    unittest.main(verbosity=2)
