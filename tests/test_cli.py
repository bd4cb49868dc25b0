#!/usr/bin/env python3
"""End-to-end tests of the `osb` command-line tool (build/osb) against tools/devserver.

    make build/osb && python3 tests/test_cli.py        (or: make cli-test)

Starts one dev server on a free loopback port (sandboxes isolated where the machine
allows), runs build/osb with --domain/--api-key or the environment, and checks outputs
and exit codes: every command in table, json and yaml output, the json and yaml
documents field by field against the official CLI's shapes (the Python SDK's models,
json.dumps(indent=2), PyYAML's yaml.dump), the official README's examples, argument
quoting, the parity items, skills, a pipe into `file write`, Ctrl-C during
`command run`, the progress bar only on a terminal, the config file. OSB_BIN overrides
the binary.
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

try:
    import yaml   # PyYAML: what the official CLI prints -o yaml with (tools/ensure-deps.sh installs it)
except ImportError:  # pragma: no cover
    yaml = None

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OSB = os.environ.get("OSB_BIN", os.path.join(ROOT, "build", "osb"))
DEVSERVER = os.path.join(ROOT, "tools", "devserver", "devserver.py")

# exit codes documented in `osb --help` and tools/README.md
EX_USAGE, EX_NOTFOUND, EX_AUTH, EX_REJECTED, EX_CONFLICT = 2, 4, 5, 6, 7
EX_CONNECT, EX_UNAVAILABLE, EX_NOTIMPL, EX_INTERRUPTED = 10, 13, 14, 130

SERVER = {}
WATCHDOG_SECONDS = 200


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
                             "--command-grace", "0.1", "--isolation", "auto", "--state-dir",
                             os.path.join(tmp, "state"), "--allowed-host-path", tmp],
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


PROXY_VARS = ("http_proxy", "https_proxy", "all_proxy", "no_proxy")


def base_env(**extra):
    # the dev server is on loopback: a proxy of the machine's must not be in the way
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("OPEN_SANDBOX_") and k.lower() not in PROXY_VARS}
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
        self.assertEqual(doc["status"], "created")
        self.assertEqual(self.json("sandbox", "get", doc["id"])["status"]["state"], "Running")
        return doc["id"]

    def yaml_of(self, *args, once=False, **kw):
        """Runs the command with -o json and -o yaml: the yaml is exactly PyYAML's dump of the
        json document. once=True for a command that changes something: -o yaml only, which
        must be exactly PyYAML's dump of what it reads back as."""
        if once:
            out = self.ok(*(("-o", "yaml") + args), **kw)
            doc = yaml.safe_load(out) if yaml else None
        else:
            doc = self.json(*args, **kw)
            out = self.ok(*(("-o", "yaml") + args), **kw)
        self.assertEqual(out, official_yaml(doc), "osb %s -o yaml" % " ".join(map(str, args)))
        return doc




def slurp(path, mode="r"):
    with open(path, mode) as f:
        return f.read()


def official_json(doc, ascii=False):
    """What the official CLI prints for -o json (rich's print_json / json.dumps, indent 2)."""
    return json.dumps(doc, indent=2, ensure_ascii=ascii) + "\n"


def official_yaml(doc):
    """What the official CLI prints for -o yaml."""
    if yaml is None:
        raise AssertionError("PyYAML is missing (tools/ensure-deps.sh installs python3-yaml)")
    return yaml.dump(doc, default_flow_style=False, allow_unicode=True).rstrip() + "\n"


# ---- the official shapes, from the wire documents (the Python SDK's models) --------

def py_time(s, pystr=False):
    """A wire timestamp as pydantic (or Python's str(datetime)) writes it."""
    import re
    if s is None:
        return None
    m = re.match(r"^(\d{4}-\d\d-\d\d)[Tt ](\d\d:\d\d:\d\d)(?:[.,](\d+))?(Z|z|[-+]\d\d:?\d\d)?$", s)
    assert m, s
    out = m.group(1) + (" " if pystr else "T") + m.group(2)
    frac = (m.group(3) or "")[:6].ljust(6, "0")
    if int(frac):
        out += "." + frac
    tz = m.group(4)
    if tz in ("Z", "z") or tz in ("+00:00", "-00:00", "+0000"):
        out += "+00:00" if pystr else "Z"
    elif tz:
        out += tz if ":" in tz else tz[:3] + ":" + tz[3:]
    return out


def status_shape(st):
    st = st or {}
    return {"state": st.get("state", "Unknown"), "reason": st.get("reason"), "message": st.get("message"),
            "last_transition_at": py_time(st.get("lastTransitionAt"))}


def sandbox_shape(w):
    img = w.get("image")
    pf = w.get("platform")
    return {"id": w["id"], "status": status_shape(w.get("status")), "entrypoint": w.get("entrypoint"),
            "expires_at": py_time(w.get("expiresAt")), "created_at": py_time(w.get("createdAt")),
            "image": {"image": img.get("uri"), "auth": None} if img else None,
            "snapshot_id": w.get("snapshotId"),
            "platform": {"os": pf.get("os"), "arch": pf.get("arch")} if pf else None,
            "metadata": w.get("metadata") or {}}


def page_shape(w, item):
    p = w["pagination"]
    return {"items": [item(i) for i in w["items"]],
            "pagination": {"page": p["page"], "page_size": p["pageSize"], "total_items": p["totalItems"],
                           "total_pages": p["totalPages"], "has_next_page": p["hasNextPage"]}}


def snapshot_shape(w):
    return {"id": w["id"], "sandbox_id": w.get("sandboxId"), "name": w.get("name"),
            "status": status_shape(w.get("status")), "created_at": py_time(w.get("createdAt"))}


def entry_shape(w, path=None):
    return {"path": w.get("path", path), "entry_type": w.get("type"), "mode": w.get("mode"), "owner": w.get("owner"),
            "group": w.get("group"), "size": w.get("size"), "modified_at": py_time(w.get("modified_at")),
            "created_at": py_time(w.get("created_at"))}


def metrics_shape(w):
    return {"cpu_count": float(w["cpu_count"]), "cpu_used_percentage": float(w["cpu_used_pct"]),
            "memory_total_in_mib": float(w["mem_total_mib"]), "memory_used_in_mib": float(w["mem_used_mib"]),
            "timestamp": w["timestamp"]}


def command_status_shape(w):
    return {"id": w.get("id"), "content": w.get("content"), "running": w.get("running"),
            "exit_code": w.get("exit_code"), "error": w.get("error"), "started_at": py_time(w.get("started_at")),
            "finished_at": py_time(w.get("finished_at"))}


def policy_shape(w):
    p = w.get("policy") or {}
    eg = p.get("egress")
    return {"default_action": p.get("defaultAction", "deny"),
            "egress": None if eg is None else [{"action": r["action"], "target": r["target"]} for r in eg]}


def credential_shape(w):
    return {"name": w["name"], "source_type": w.get("sourceType"), "revision": w.get("revision")}


def binding_shape(w):
    m, a = w.get("match"), w.get("auth")
    return {"name": w["name"], "revision": w.get("revision"),
            "match": None if m is None else {k: m.get(k) for k in ("schemes", "ports", "hosts", "methods", "paths")},
            "auth": None if a is None else {"type": a.get("type"), "name": a.get("name")}}


def vault_shape(w):
    return {"revision": w["revision"], "credentials": [credential_shape(c) for c in w["credentials"]],
            "bindings": [binding_shape(b) for b in w["bindings"]]}


def ok_msg(message, status="ok"):
    return {"status": status, "message": message}

class HelpAndUsage(Base):
    def test_help_lists_commands_and_exit_codes(self):
        out = self.ok("--help", flags=False)
        for word in ("sandbox", "command", "file", "egress", "credential-vault", "diagnostics", "devops",
                     "config", "snapshot", "code", "skills", "Exit codes"):
            self.assertIn(word, out)
        for code in (0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 130):
            self.assertRegex(out, r"\n  %d\s" % code)
        readme = slurp(os.path.join(ROOT, "tools", "README.md"))
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
                     ["command", "run", "x"], ["file", "download", "x", "/a", "b", "--range", "z"],
                     ["file", "cat", "x", "/a", "-o", "json"]):
            code, out, err = osb(*args)
            self.assertEqual(code, EX_USAGE, "%s: %s" % (args, err))
            self.assertTrue(err.strip())

    def test_output_option_is_case_insensitive(self):
        self.assertIn("items", json.loads(self.ok("sandbox", "list", "-o", "JSON")))
        self.assertIn("items:", self.ok("sandbox", "list", "-o", "Yaml"))

    def test_durations(self):
        sid = self.sandbox()
        for d in ("10m", "1h30m", "90s", "1h30m45s", "600"):
            self.ok("sandbox", "renew", sid, "-t", d)
        self.ok("sandbox", "kill", sid)

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

    def test_kill_of_many_goes_past_a_failure(self):
        a, b = self.sandbox(), self.sandbox()
        code, out, err = osb("-o", "json", "sandbox", "kill", a, "no-such-sandbox", b)
        self.assertEqual(code, EX_NOTFOUND, err)
        self.assertEqual(json.loads(out), [{"sandbox_id": a, "status": "terminated"},
                                           {"sandbox_id": b, "status": "terminated"}])
        self.assertIn("no-such-sandbox", err + "no-such-sandbox")
        self.assertEqual(osb("sandbox", "get", b)[0], EX_NOTFOUND)


class Config(Base):
    def setUp(self):
        self.home = tempfile.mkdtemp(dir=SERVER["tmp"])
        self.env = base_env(HOME=self.home)
        self.path = os.path.join(self.home, ".opensandbox", "config.toml")

    def test_init_set_show(self):
        code, out, err = osb("config", "init", env=self.env, flags=False)
        self.assertEqual(code, 0, err)
        self.assertIn("Config file created", out)
        self.assertTrue(os.path.exists(self.path))
        # again: a warning, exit 0, the file left alone; --force writes it again
        with open(self.path, "a") as f:
            f.write("# mine\n")
        code, out, err = osb("config", "init", env=self.env, flags=False)
        self.assertEqual(code, 0, err)
        self.assertIn("already exists", err)
        self.assertIn("--force", err)
        self.assertIn("# mine", slurp(self.path))
        code, out, err = osb("-o", "json", "config", "init", env=self.env, flags=False)
        self.assertEqual((code, json.loads(out)), (0, ok_msg("Config file already exists at %s. Use --force to "
                                                             "overwrite." % self.path, "warning")))
        code, out, err = osb("-o", "json", "config", "init", "--force", env=self.env, flags=False)
        self.assertEqual(json.loads(out), ok_msg("Config file created: %s" % self.path))
        self.assertNotIn("# mine", slurp(self.path))
        self.assertEqual(self.json("config", "set", "connection.domain", SERVER["domain"], env=self.env, flags=False),
                         ok_msg("Set connection.domain = %s" % SERVER["domain"]))
        self.ok("config", "set", "connection.api_key", SERVER["key"], env=self.env, flags=False)
        self.ok("config", "set", "connection.request_timeout", "45", env=self.env, flags=False)
        self.ok("config", "set", "output.color", "false", env=self.env, flags=False)
        self.ok("config", "set", "defaults.image", "python:3.12", env=self.env, flags=False)
        text = slurp(self.path)
        self.assertIn('domain = "%s"' % SERVER["domain"], text)
        self.assertIn("request_timeout = 45", text)
        self.assertIn("color = false", text)
        self.assertEqual(text.count("[connection]"), 1)
        key = SERVER["key"]
        shown = self.yaml_of("config", "show", env=self.env, flags=False)
        self.assertEqual(shown, {"api_key": key[:2] + "*" * (len(key) - 4) + key[-2:], "domain": SERVER["domain"],
                                 "protocol": "http", "request_timeout": 45, "use_server_proxy": False,
                                 "color": False, "default_image": "python:3.12", "default_timeout": None,
                                 "config_path": self.path, "config_file_exists": True})
        code, out, err = osb("config", "show", env=self.env, flags=False)
        self.assertNotIn(key, out + err)
        self.assertIn("file", out)   # the table says where each setting came from
        # the file is what commands use (no flags, no environment)
        doc = self.json("sandbox", "list", env=self.env, flags=False)
        self.assertIn("items", doc)
        # flag > environment > file
        env = dict(self.env, OPEN_SANDBOX_DOMAIN="127.0.0.1:1")
        self.assertEqual(osb("sandbox", "list", env=env, flags=False)[0], EX_CONNECT)
        self.json("--domain", SERVER["domain"], "sandbox", "list", env=env, flags=False)
        # [defaults].image is used by sandbox create
        doc = self.json("sandbox", "create", env=self.env, flags=False)
        self.assertEqual(doc["image"], "python:3.12")
        self.assertEqual(self.json("sandbox", "get", doc["id"], env=self.env, flags=False)["image"]["image"],
                         "python:3.12")
        self.ok("sandbox", "kill", doc["id"], env=self.env, flags=False)

    def test_show_without_a_file(self):
        doc = self.json("config", "show", env=self.env, flags=False)
        self.assertEqual(doc, {"api_key": None, "domain": None, "protocol": "http", "request_timeout": 30,
                               "use_server_proxy": False, "color": True, "default_image": None,
                               "default_timeout": None, "config_path": self.path, "config_file_exists": False})
        doc = self.json("config", "show", env=base_env(HOME=self.home, OPEN_SANDBOX_API_KEY="abcd"), flags=False)
        self.assertEqual(doc["api_key"], "****")

    def test_malformed_file_is_exit_3(self):
        os.makedirs(os.path.dirname(self.path))
        for text in ('[connection\ndomain = "x"\n', '[connection]\ndomain = "unterminated\n',
                     '[connection]\ndomain = \n', '[connection]\ndomain "x"\n', '[connection]\nrequest_timeout = 3 0\n',
                     '[connection]\ndomain = "a"\ndomain = "b"\n', '[output]\n[output]\n',
                     '[defaults]\nimage = "a\\uD800"\n', '[defaults]\nimage = "a\\u12"\n',
                     '[defaults]\nimage = "\\U00110000"\n', '[defaults]\nimage = \"\"\"a\\q\"\"\"\n',
                     '[defaults]\nimage = \"\"\"a\"\"\"\"\"\"\n', '[defaults]\nimage = \"\"\"a\n',
                     # bytes TOML allows nowhere, and an escape in a quoted table name
                     '[connection]  # a\rb\n', '[connection]\ndomain = "a\x01"\n', '# \x7f\n',
                     '["conn\\qection"]\n'):
            with open(self.path, "w") as f:
                f.write(text)
            code, out, err = osb("sandbox", "list", env=self.env, flags=False)
            self.assertEqual(code, 3, "%r: %s" % (text, err))
            self.assertIn(self.path, err)
            self.assertEqual(osb("config", "show", env=self.env, flags=False)[0], 3)
        for raw in (b'[connection]\ndomain = "a\xffb"\n', b'# \xc3'):   # not UTF-8, as tomllib.load refuses
            with open(self.path, "wb") as f:
                f.write(raw)
            code, out, err = osb("config", "show", env=self.env, flags=False)
            self.assertEqual(code, 3, "%r: %s" % (raw, err))
            self.assertIn("not UTF-8", err)
        # a value the reader does not take (an array) is an error, as in [connection], not ignored
        with open(self.path, "w") as f:
            f.write('[defaults]\nimage = ["python:3"]\n')
        code, out, err = osb("sandbox", "list", env=self.env, flags=False)
        self.assertEqual(code, 3, err)
        self.assertIn("[defaults].image cannot be read", err)
        # multi-line strings are read as tomllib reads them; their lines are no tables or keys
        with open(self.path, "w") as f:
            f.write("[defaults]\nimage = \"\"\"\npython:\\\n   3\"\"\"\nnote = '''\n[connection]\ndomain = \"x:1\"\n'''\n")
        doc = self.json("config", "show", env=self.env, flags=False)
        self.assertEqual((doc["default_image"], doc["domain"]), ("python:3", None))
        with open(self.path, "w") as f:
            f.write('# ok\n[connection]\ndomain = "%s"  # here\napi_key = \'%s\'\nrequest_timeout = 30\n'
                    'use_server_proxy = false\n[output]\ncolor = true\n[defaults]\ntimeout = "10m"\n'
                    'tags = ["a", "b", "\\u00e9\\U0001F600"]\n' % (SERVER["domain"], SERVER["key"]))
        self.json("sandbox", "list", env=self.env, flags=False)

    def test_new_section_and_invalid_key(self):
        self.ok("config", "set", "connection.domain", "h:1", env=self.env, flags=False)
        self.ok("config", "set", "connection.protocol", "http", env=self.env, flags=False)
        text = slurp(self.path)
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
        created = self.json("sandbox", "create", "-i", "python:3.11", "-t", "30m", "-e", "A=1", "-m", "team=cli",
                            "--resource", "cpu=1", "--resource", "memory=1Gi", "--platform", "linux/amd64")
        sid = created["id"]
        self.assertEqual(created, {"id": sid, "image": "python:3.11", "status": "created", "timeout": "0:30:00"})
        wire = json.loads(self.ok("sandbox", "get", sid, "-o", "raw"))
        self.assertEqual(self.yaml_of("sandbox", "get", sid), sandbox_shape(wire))
        self.assertIn(sid, self.ok("sandbox", "get", sid))
        listed = self.yaml_of("sandbox", "list", "-s", "RUNNING", "-m", "team=cli", "--page", "1", "--page-size", "50")
        self.assertEqual(listed, page_shape(json.loads(self.ok("sandbox", "list", "-s", "running", "-m", "team=cli",
                                                                "--page", "1", "--page-size", "50", "-o", "raw")),
                                            sandbox_shape))
        self.assertIn(sid, [s["id"] for s in listed["items"]])
        self.assertEqual(listed["items"][0]["metadata"], {"team": "cli"})
        self.assertIn(sid, self.ok("sandbox", "list", "-s", "running"))
        self.assertEqual(self.json("sandbox", "list", "-m", "team=other")["items"], [])
        self.assertEqual(self.ok("sandbox", "list", "-m", "team=other"), "No sandboxes found.\n")
        renewed = self.yaml_of("sandbox", "renew", sid, "-t", "1h", once=True)
        expires = json.loads(self.ok("sandbox", "get", sid, "-o", "raw"))["expiresAt"]
        self.assertEqual(renewed, {"sandbox_id": sid, "expires_at": py_time(expires, pystr=True)})
        self.assertEqual(self.json("sandbox", "renew", sid, "-t", "1h")["sandbox_id"], sid)
        self.assertIn("expires at", self.ok("sandbox", "renew", sid, "-t", "1h"))
        ep = self.yaml_of("sandbox", "endpoint", sid, "-p", "44772")
        self.assertEqual(ep, {"endpoint": json.loads(self.ok("sandbox", "endpoint", sid, "-p", "44772", "-o", "raw"))
                              ["endpoint"], "headers": ep["headers"]})
        self.assertEqual(self.yaml_of("sandbox", "health", sid), {"sandbox_id": sid, "healthy": True})
        self.assertIn("is healthy", self.ok("sandbox", "health", sid))
        m = self.yaml_of("sandbox", "metrics", sid, once=True)
        self.assertEqual(list(m), ["cpu_count", "cpu_used_percentage", "memory_total_in_mib", "memory_used_in_mib",
                                   "timestamp"])
        self.assertTrue(all(isinstance(m[k], float) for k in list(m)[:4]))
        self.assertIsInstance(m["timestamp"], int)
        self.assertIn("cpu", self.ok("sandbox", "metrics", sid))
        md = self.yaml_of("sandbox", "metadata", sid, "env=dev", "team-", once=True)
        self.assertEqual(md["metadata"], {"env": "dev"})
        self.assertEqual(self.yaml_of("sandbox", "pause", sid, once=True), ok_msg("Sandbox paused: %s" % sid))
        self.assertEqual(self.json("sandbox", "get", sid)["status"]["state"], "Paused")
        self.assertIn("resumed", self.ok("sandbox", "resume", sid, "--resume-timeout", "20s"))
        self.assertIn("paused", self.ok("sandbox", "pause", sid))
        self.assertEqual(self.json("sandbox", "resume", sid, "--skip-health-check"), ok_msg("Sandbox resumed: %s" % sid))
        self.assertEqual(self.yaml_of("sandbox", "kill", sid, once=True), [{"sandbox_id": sid, "status": "terminated"}])
        self.assertEqual(osb("sandbox", "get", sid)[0], EX_NOTFOUND)
        s2 = self.json("sandbox", "create", "-i", "python:3.11", "-t", "none")
        self.assertEqual(s2["timeout"], "manual-cleanup")
        s3 = self.json("sandbox", "create", "-i", "python:3.11", "-t", "1h30m", "--skip-health-check",
                       "--ready-timeout", "5s")
        self.assertEqual(s3["timeout"], "1:30:00")
        self.assertIn("Killed sandbox", self.ok("sandbox", "kill", s2["id"], s3["id"]))

    def test_list_state_is_checked_locally(self):
        code, out, err = osb("sandbox", "list", "-s", "runing")
        self.assertEqual(code, EX_USAGE, err)
        self.assertIn("Invalid sandbox state 'runing'", err)
        self.assertIn("Failed, Paused, Pausing, Pending, Running, Stopping, Terminated, Unknown", err)

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
        for fmt in ("json", "raw", "yaml"):
            p = subprocess.Popen([OSB, "--domain", SERVER["domain"], "--api-key", SERVER["key"], "sandbox",
                                  "metrics", sid, "--watch", "-o", fmt], stdout=subprocess.PIPE,
                                 stderr=subprocess.PIPE, env=base_env())
            line = p.stdout.readline().decode()
            if fmt == "json":
                doc = json.loads(line)
                self.assertEqual(list(doc), ["cpu_count", "cpu_used_percentage", "memory_total_in_mib",
                                             "memory_used_in_mib", "timestamp"])
                self.assertEqual(line, json.dumps(doc) + "\n")   # one compact line per sample
            elif fmt == "raw":
                # [2026-01-02T03:04:05.123000+00:00] cpu=1.50% cores=2 mem=100.00/2048.00MiB
                self.assertRegex(line, r"^\[\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{6})?\+00:00\] cpu=\d+\.\d\d% "
                                       r"cores=\d+(\.\d+)? mem=\d+\.\d\d/\d+\.\d\dMiB\n$")
            else:
                self.assertEqual(line, "cpu_count: " + line.split(": ")[1])
            p.send_signal(signal.SIGINT)
            self.assertEqual(p.wait(15), EX_INTERRUPTED)
            p.stdout.close()
            p.stderr.close()
        self.ok("sandbox", "kill", sid)

    def test_snapshots(self):
        sid = self.sandbox()
        snap = self.yaml_of("snapshot", "create", sid, "--name", "s1", "--wait", once=True)
        self.assertEqual(snap["status"]["state"], "Ready")
        self.assertEqual(snap["sandbox_id"], sid)
        listed = self.yaml_of("snapshot", "list", "--sandbox", sid)
        self.assertEqual(listed, page_shape(json.loads(self.ok("snapshot", "list", "--sandbox", sid, "-o", "raw")),
                                            snapshot_shape))
        self.assertEqual(self.yaml_of("snapshot", "get", snap["id"]),
                         snapshot_shape(json.loads(self.ok("snapshot", "get", snap["id"], "-o", "raw"))))
        restored = self.json("sandbox", "create", "--snapshot", snap["id"])
        self.assertEqual(restored["image"], None)
        self.assertEqual(self.json("sandbox", "get", restored["id"])["status"]["state"], "Running")
        self.assertEqual(self.json("snapshot", "delete", snap["id"]), [{"snapshot_id": snap["id"], "status": "deleted"}])
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

    def test_arguments_are_quoted_for_the_remote_shell(self):
        code, out, err = osb("command", "run", self.sid, "--", "sh", "-c", "exit 3")
        self.assertEqual(code, 3, err)
        argv = ["a b", "c'd", "", "$HOME", "*", "x;y", "e\"f", "back\\slash", "tab\there", "new\nline", "é"]
        code, out, err = osb("command", "run", self.sid, "--", "python3", "-c",
                             "import sys, json; print(json.dumps(sys.argv[1:]))", *argv)
        self.assertEqual(code, 0, err)
        self.assertEqual(json.loads(out), argv)
        code, out, err = osb("command", "run", self.sid, "--", "python3", "-c", "import sys; print(len(sys.argv) - 1)",
                             "a b", "c'd")
        self.assertEqual(out, "2\n")
        # in the background and in a session too
        eid = self.json("command", "run", self.sid, "-d", "--", "sh", "-c", "echo \"$1|$2\"", "sh", "a b", "c'd")[
            "execution_id"]
        self.assertEqual(self.wait_logs(eid), "a b|c'd\n")
        sess = self.json("command", "session", "create", self.sid)["session_id"]
        code, out, err = osb("command", "session", "run", self.sid, sess, "--", "printf", "%s|", "a b", "c'd", "")
        self.assertEqual((code, out), (0, "a b|c'd||\n"))
        code, out, err = osb("command", "session", "run", self.sid, sess, "--", "sh", "-c", "exit 3")
        self.assertEqual(code, 3)

    def wait_logs(self, eid):
        deadline = time.time() + 10
        while time.time() < deadline:
            if not self.json("command", "status", self.sid, eid)["running"]:
                break
            time.sleep(0.1)
        return self.json("command", "logs", self.sid, eid)["content"]

    def test_foreground_streams_and_exit_code(self):
        code, out, err = osb("command", "run", self.sid, "--", "sh", "-c", "echo hello; echo oops >&2; exit 3")
        self.assertEqual(code, 3)
        self.assertEqual(out, "hello\n")
        self.assertEqual(err, "oops\n")
        code, out, err = osb("command", "run", self.sid, "-w", "/tmp", "-e", "FOO=bar", "-e", "X=y",
                             "--uid", os.getuid(), "--gid", os.getgid(), "-t", "1m", "--",
                             "sh", "-c", "echo $FOO$X; pwd; id -u")
        self.assertEqual(code, 0, err)
        self.assertEqual(out.split(), ["bary", "/tmp", str(os.getuid())])
        # many lines through a pipe arrive complete and in order
        code, out, err = osb("command", "run", self.sid, "--", "seq", "1", "20000")
        self.assertEqual(out, "".join("%d\n" % i for i in range(1, 20001)))

    def test_timeout_kills_the_command(self):
        code, out, err = osb("command", "run", self.sid, "-t", "1s", "--", "sleep", "20")
        self.assertEqual(code, 137, err)   # killed: 128 + SIGKILL

    def test_foreground_json(self):
        for fmt in ("json", "table"):
            code, out, err = osb("command", "run", self.sid, "-o", fmt, "--", "sh", "-c", "echo a; echo b >&2; exit 4")
            self.assertEqual(code, 4)
            if fmt == "json":
                doc = json.loads(out)
                self.assertEqual(doc["exit_code"], 4)
                self.assertEqual(doc["stdout"], "a\n" if doc["stdout"].endswith("\n") else "a")
                self.assertIn("b", doc["stderr"])
            else:
                self.assertIn("exit_code", out)

    def test_background_status_logs_interrupt(self):
        doc = self.yaml_of("command", "run", self.sid, "-d", "--", "sh", "-c", "echo first; sleep 30", once=True)
        eid = doc["execution_id"]
        self.assertEqual(doc, {"execution_id": eid, "sandbox_id": self.sid, "mode": "background"})
        self.assertIn("Started background command", self.ok("command", "run", self.sid, "-d", "--", "true"))
        deadline = time.time() + 10
        while time.time() < deadline:
            logs = self.json("command", "logs", self.sid, eid)
            if "first" in logs["content"]:
                break
            time.sleep(0.2)
        self.assertEqual(logs, {"content": "first\n", "cursor": 6})
        self.assertEqual(self.yaml_of("command", "logs", self.sid, eid, "--cursor", 6), {"content": "", "cursor": 6})
        self.assertEqual(self.ok("command", "logs", self.sid, eid, "-o", "raw"), "first\n\n")
        self.assertIn("cursor", self.ok("command", "logs", self.sid, eid))
        st = self.yaml_of("command", "status", self.sid, eid)
        self.assertEqual(st, command_status_shape(json.loads(self.ok("command", "status", self.sid, eid, "-o", "raw"))))
        self.assertTrue(st["running"])
        self.assertEqual(st["content"], "sh -c 'echo first; sleep 30'")
        self.assertEqual(self.yaml_of("command", "interrupt", self.sid, eid, once=True), ok_msg("Interrupted: %s" % eid))
        deadline = time.time() + 10
        while self.json("command", "status", self.sid, eid)["running"] and time.time() < deadline:
            time.sleep(0.2)
        self.assertFalse(self.json("command", "status", self.sid, eid)["running"])

    def test_ctrl_c_interrupts_remote_command(self):
        p = subprocess.Popen([OSB, "--domain", SERVER["domain"], "--api-key", SERVER["key"], "command", "run",
                              self.sid, "--", "sh", "-c", "echo started; sleep 30"],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=base_env())
        # a line printed while the command goes on reaches a pipe at once
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
        doc = self.yaml_of("command", "session", "create", self.sid, "--workdir", "/tmp", once=True)
        self.assertEqual(doc, {"sandbox_id": self.sid, "session_id": doc["session_id"], "working_directory": "/tmp"})
        self.assertIsNone(self.json("command", "session", "create", self.sid)["working_directory"])
        self.ok("command", "session", "run", self.sid, sid_, "--", "export", "A=42")
        self.assertEqual(self.ok("command", "session", "run", self.sid, sid_, "--", "sh", "-c", "echo $A; pwd"),
                         "42\n/tmp\n")
        code, out, err = osb("-o", "json", "command", "session", "run", self.sid, sid_, "--", "sh", "-c", "exit 5")
        self.assertEqual(code, 5, err)
        self.assertEqual(json.loads(out)["exit_code"], 5)
        # a run that passes --timeout: an execution error, exit 1 (the official CLI's outcome)
        code, out, err = osb("command", "session", "run", self.sid, sid_, "-t", "1s", "--", "sleep", "5")
        self.assertEqual(code, 1, err)
        self.assertIn("Execution Error", err)
        self.assertIn("timeout", err)
        self.assertEqual(self.yaml_of("command", "session", "delete", self.sid, sid_, once=True),
                         ok_msg("Deleted session: %s" % sid_))
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


class ManyAtOnce(Base):
    """sandbox create --count N and command run --all: many sandboxes from one osb process,
    their requests in flight together."""

    def test_create_count_then_run_all_with_prefixed_lines_and_the_worst_exit_code(self):
        tag = "fan=%d" % os.getpid()
        docs = self.json("sandbox", "create", "-i", "python:3.11", "--count", "3", "-m", tag)
        ids = sorted(d["id"] for d in docs)
        self.assertEqual(len(set(ids)), 3)
        self.assertTrue(all(d["status"] == "created" for d in docs))
        try:
            listed = self.json("sandbox", "list", "-m", tag)["items"]
            self.assertEqual(sorted(i["id"] for i in listed), ids)
            self.assertTrue(all(i["status"]["state"] == "Running" for i in listed))
            # every output line carries its sandbox's id
            code, out, err = osb("command", "run", "--all", "-m", tag, "--", "sh", "-c",
                                 "echo out; echo err >&2; exit 5")
            self.assertEqual(code, 5, err)
            self.assertEqual(sorted(out.splitlines()), ["%s | out" % i for i in ids])
            self.assertEqual(sorted(err.splitlines()), ["%s | err" % i for i in ids])
            # the worst exit code of all: one sandbox exits 9, the others 2
            host = self.ok("command", "run", ids[1], "--", "hostname").strip()
            code, out, err = osb("command", "run", "--all", "-m", tag, "--", "sh", "-c",
                                 'test "$(hostname)" = "$0" && exit 9; exit 2', host)
            self.assertEqual(code, 9, err)
            # a metadata filter that matches nothing
            code, out, err = osb("command", "run", "--all", "-m", tag + "-none", "--", "true")
            self.assertEqual(code, 1)
            self.assertIn("no running sandbox matches", err)
        finally:
            self.ok("sandbox", "kill", *ids)
        self.assertEqual(self.json("sandbox", "list", "-m", tag)["items"], [])

    def test_usage(self):
        for args in (["command", "run", "--all", "some-id", "--", "true"],
                     ["command", "run", "--", "true"],
                     ["command", "run", "-m", "a=b", "some-id", "--", "true"],
                     ["command", "run", "--all", "-d", "--", "true"],
                     ["sandbox", "create", "-i", "python:3.11", "--count", "0"],
                     ["sandbox", "create", "-i", "python:3.11", "--count", "many"]):
            code, out, err = osb(*args)
            self.assertEqual(code, 2, "%s: %s" % (args, err))


class Yaml(Base):
    """The YAML emitter against PyYAML on awkward strings: each value is printed by a
    background command and read back with `command logs` (content = the value)."""

    VALUES = ["true", "123", "1.5", "null", "", " lead", "trail ", "a: b", "a:b", "#x", "x #y", "- x", "-x",
              "é ü 日本", "😀", "it's", "tab\there", "cr\rx", "line1\nline2", "line1\n", "\nlead", "a  \n b",
              "2024-01-01", "2024-01-01T00:00:00Z", "yes", "On", "~", "0x1F", "017", "1_000", ".5", "1e5",
              "*star", "&amp", "!bang", "%pct", "@at", "`tick", "[x]", "{y}", "a,b", "?q", "? q", ":c", "---",
              "=", "<<", "word " * 25, ("longword" * 12 + " ") * 3, "x" * 100, "a'b" * 40 + " end", "quote\"d",
              "\x07bell", "nbsp\u00a0x", "bom\ufeffx", "ls\u2028x", "dq " * 30 + "\t" + "z " * 10, "\u0085nel",
              "multi\nline " * 20]

    def test_awkward_strings(self):
        sid = self.sandbox()
        for v in self.VALUES:
            eid = self.json("command", "run", sid, "-d", "--", "printf", "%s", v)["execution_id"]
            deadline = time.time() + 10
            while self.json("command", "status", sid, eid)["running"] and time.time() < deadline:
                time.sleep(0.05)
            doc = {"content": v, "cursor": len(v.encode())}
            self.assertEqual(self.ok("-o", "json", "command", "logs", sid, eid), official_json(doc), repr(v))
            self.assertEqual(self.ok("-o", "yaml", "command", "logs", sid, eid), official_yaml(doc), repr(v))
            # colour off: the official plain-text path, json.dumps' ASCII escapes
            self.assertEqual(self.ok("--no-color", "-o", "json", "command", "logs", sid, eid),
                             official_json(doc, ascii=True), repr(v))
        self.ok("sandbox", "kill", sid)


class Files(Base):
    @classmethod
    def setUpClass(cls):
        code, out, err = osb("sandbox", "create", "-i", "python:3.11", "-o", "json")
        assert code == 0, err
        cls.sid = json.loads(out)["id"]
        cls.dir = tempfile.mkdtemp(dir=SERVER["tmp"])
        cls.rdir = "/tmp/osb-cli-files"
        code, out, err = osb("file", "mkdir", cls.sid, cls.rdir)
        assert code == 0, err

    @classmethod
    def tearDownClass(cls):
        osb("sandbox", "kill", cls.sid)

    def p(self, name):
        return os.path.join(self.dir, name)

    def r(self, name):
        return self.rdir + "/" + name

    def test_pipe_into_write_and_cat(self):
        cmd = "echo hi | %s --domain %s --api-key %s file write %s %s" % (OSB, SERVER["domain"], SERVER["key"],
                                                                         self.sid, self.r("w.txt"))
        p = subprocess.run(cmd, shell=True, capture_output=True, env=base_env(), timeout=30)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertNotIn(b"Reading from stdin", p.stderr)   # only said on a terminal
        self.assertEqual(self.ok("file", "cat", self.sid, self.r("w.txt")), "hi\n")
        doc = self.yaml_of("file", "write", self.sid, self.r("c.txt"), "-c", "content", "--mode", "600", once=True)
        self.assertEqual(doc, ok_msg("Written: %s" % self.r("c.txt")))
        self.assertEqual(self.ok("file", "cat", self.sid, self.r("c.txt"), "--range", "0-2"), "con")
        info = self.yaml_of("file", "info", self.sid, self.r("c.txt"))
        wire = json.loads(self.ok("file", "info", self.sid, self.r("c.txt"), "-o", "raw"))
        self.assertEqual(info, [entry_shape(v, k) for k, v in wire.items()])
        self.assertEqual(info[0]["mode"], 600)
        self.assertEqual(info[0]["size"], 7)
        self.assertEqual(osb("file", "cat", self.sid, self.r("missing"))[0], EX_NOTFOUND)

    def test_cat_lines(self):
        text = "".join("line %d\n" % i for i in range(1, 11))
        self.ok("file", "write", self.sid, self.r("ten.txt"), "-c", text)
        # execd's line reads: lines joined by newlines, from --offset (1-based), at most --limit
        self.assertEqual(self.ok("file", "cat", self.sid, self.r("ten.txt"), "--offset", 3, "--limit", 2),
                         "line 3\nline 4")
        self.assertEqual(self.ok("file", "cat", self.sid, self.r("ten.txt"), "--offset", 9), "line 9\nline 10")
        self.assertEqual(self.ok("file", "cat", self.sid, self.r("ten.txt"), "--limit", 1), "line 1")
        self.assertEqual(self.ok("file", "cat", self.sid, self.r("ten.txt")), text)
        for args in (["--offset", "0"], ["--limit", "-1"], ["--offset", "x"], ["--offset", "2", "--range", "0-3"]):
            code, out, err = osb("file", "cat", self.sid, self.r("ten.txt"), *args)
            self.assertEqual(code, EX_USAGE, args)
            self.assertEqual(out, "")

    def test_write_on_a_terminal_says_it_reads_stdin(self):
        base = [OSB, "--domain", SERVER["domain"], "--api-key", SERVER["key"], "file", "write", self.sid]
        pid, fd = pty.fork()
        if pid == 0:
            try:
                os.execve(OSB, base + [self.r("tty.txt")], base_env())
            finally:
                os._exit(127)
        out = b""
        deadline = time.time() + 20
        sent = False
        while time.time() < deadline:
            r, _, _ = select.select([fd], [], [], 0.2)
            if r:
                try:
                    chunk = os.read(fd, 4096)
                except OSError:
                    break
                if not chunk:
                    break
                out += chunk
            if b"Reading from stdin" in out and not sent:
                os.write(fd, b"typed\n\x04")
                sent = True
        _, status = os.waitpid(pid, 0)
        os.close(fd)
        self.assertIn(b"Reading from stdin (Ctrl+D to finish):", out)
        self.assertEqual(os.waitstatus_to_exitcode(status), 0, out)
        self.assertEqual(self.ok("file", "cat", self.sid, self.r("tty.txt")), "typed\n")

    def test_directories_and_edits(self):
        d = self.r("tree")
        self.assertEqual(self.yaml_of("file", "mkdir", self.sid, d + "/a/b", d + "/c", "--mode", "750", once=True),
                         [{"path": d + "/a/b", "status": "created"}, {"path": d + "/c", "status": "created"}])
        self.ok("file", "write", self.sid, d + "/a/b/f.txt", "-c", "hello world")
        listed = self.yaml_of("file", "ls", self.sid, d, "--depth", "3")
        self.assertIn(d + "/a/b/f.txt", [e["path"] for e in listed])
        self.assertEqual(listed, [entry_shape(e) for e in json.loads(self.ok("file", "ls", self.sid, d, "--depth", "3",
                                                                             "-o", "raw"))])
        self.assertNotIn(d + "/a/b/f.txt", [e["path"] for e in self.json("file", "ls", self.sid, d)])
        found = self.yaml_of("file", "search", self.sid, d, "-p", "*.txt")
        self.assertEqual([e["path"] for e in found], [d + "/a/b/f.txt"])
        self.assertEqual(list(found[0]), ["path", "entry_type", "mode", "owner", "group", "size", "modified_at",
                                          "created_at"])
        self.assertEqual(self.json("file", "search", self.sid, d, "-p", "*.none"), [])
        self.assertEqual(self.ok("file", "search", self.sid, d, "-p", "*.none"), "No files found.\n")
        self.assertIn("Replaced", self.ok("file", "replace", self.sid, d + "/a/b/f.txt", "--old", "world",
                                          "--new", "earth"))
        self.assertEqual(self.yaml_of("file", "replace", self.sid, d + "/a/b/f.txt", "--old", "earth", "--new", "there", once=True),
                         ok_msg("Replaced in: %s" % (d + "/a/b/f.txt")))
        self.assertEqual(self.ok("file", "cat", self.sid, d + "/a/b/f.txt"), "hello there")
        self.assertEqual(self.yaml_of("file", "chmod", self.sid, d + "/a/b/f.txt", "--mode", "640", once=True),
                         ok_msg("Permissions set: %s" % (d + "/a/b/f.txt")))
        self.assertEqual(self.json("file", "info", self.sid, d + "/a/b/f.txt")[0]["mode"], 640)
        self.assertIn("Moved", self.ok("file", "mv", self.sid, d + "/a/b/f.txt", d + "/c/g.txt"))
        self.assertEqual(self.yaml_of("file", "mv", self.sid, d + "/c/g.txt", d + "/c/h.txt", once=True),
                         ok_msg("Moved: %s \u2192 %s" % (d + "/c/g.txt", d + "/c/h.txt")))
        self.assertEqual(self.ok("file", "cat", self.sid, d + "/c/h.txt"), "hello there")
        self.assertEqual(self.yaml_of("file", "rm", self.sid, d + "/c/h.txt", once=True),
                         [{"path": d + "/c/h.txt", "status": "deleted"}])
        self.assertEqual(self.json("file", "rmdir", self.sid, d + "/a"), [{"path": d + "/a", "status": "removed"}])
        self.assertIn("Removed", self.ok("file", "rmdir", self.sid, d + "/c"))
        self.assertEqual(self.json("file", "ls", self.sid, d), [])

    def test_upload_download_range_resume(self):
        data = os.urandom(300000)
        with open(self.p("local.bin"), "wb") as f:
            f.write(data)
        doc = self.yaml_of("file", "upload", self.sid, self.p("local.bin"), self.r("remote.bin"), once=True)
        self.assertEqual(doc, ok_msg("Uploaded: %s \u2192 %s" % (self.p("local.bin"), self.r("remote.bin"))))
        self.assertIn("Uploaded", self.ok("file", "upload", self.sid, self.p("local.bin"), self.r("remote.bin")))
        # the missing local directories are created
        back = self.p("new/dirs/back.bin")
        doc = self.json("file", "download", self.sid, self.r("remote.bin"), back)
        self.assertEqual(doc, ok_msg("Downloaded: %s \u2192 %s" % (self.r("remote.bin"), back)))
        self.assertEqual(slurp(back, "rb"), data)
        self.json("file", "download", self.sid, self.r("remote.bin"), self.p("part.bin"), "--range", "100-199")
        self.assertEqual(slurp(self.p("part.bin"), "rb"), data[100:200])
        with open(self.p("resume.bin"), "wb") as f:
            f.write(data[:12345])
        self.ok("file", "download", self.sid, self.r("remote.bin"), self.p("resume.bin"), "--resume")
        self.assertEqual(slurp(self.p("resume.bin"), "rb"), data)
        self.assertIn("already complete",
                      self.ok("file", "download", self.sid, self.r("remote.bin"), self.p("resume.bin"), "--resume"))
        code, out, err = osb("file", "upload", self.sid, self.p("nope.bin"), self.r("x"))
        self.assertEqual(code, 12)

    def test_progress_only_on_a_terminal(self):
        with open(self.p("prog.bin"), "wb") as f:
            f.write(os.urandom(200000))
        code, out, err = osb("file", "upload", self.sid, self.p("prog.bin"), self.r("prog2.bin"))
        self.assertEqual(code, 0)
        self.assertNotIn("upload [", out + err)
        self.assertNotIn("\r", out + err)
        base = [OSB, "--domain", SERVER["domain"], "--api-key", SERVER["key"], "file"]
        code, out = on_pty(base + ["upload", self.sid, self.p("prog.bin"), self.r("prog3.bin")], base_env())
        self.assertEqual(code, 0, out)
        self.assertIn("upload [", out)
        self.assertIn("100%", out)
        self.assertIn("/s", out)
        code, out = on_pty(base + ["download", self.sid, self.r("prog3.bin"), self.p("prog4.bin")], base_env())
        self.assertEqual(code, 0, out)
        self.assertIn("download [", out)
        code, out, err = osb("file", "download", self.sid, self.r("prog3.bin"), self.p("prog5.bin"))
        self.assertNotIn("download [", out + err)


class Egress(Base):
    def test_policy_and_vault(self):
        policy = os.path.join(SERVER["tmp"], "policy.json")
        with open(policy, "w") as f:
            json.dump({"defaultAction": "deny", "egress": [{"action": "allow", "target": "pypi.org"}]}, f)
        sid = self.sandbox("--network-policy-file", policy, "--credential-proxy")
        got = self.yaml_of("egress", "get", sid)
        self.assertEqual(got, {"default_action": "deny", "egress": [{"action": "allow", "target": "pypi.org"}]})
        self.assertEqual(got, policy_shape(json.loads(self.ok("egress", "get", sid, "-o", "raw"))))
        self.assertIn("pypi.org", self.ok("egress", "get", sid))
        patched = self.yaml_of("egress", "patch", sid, "--rule", "allow=example.com", "--rule", " DENY = bad.example.com", once=True)
        self.assertEqual(patched, {"sandbox_id": sid, "patched_rules": [{"action": "allow", "target": "example.com"},
                                                                        {"action": "deny",
                                                                         "target": "bad.example.com"}]})
        targets = [r["target"] for r in self.json("egress", "get", sid)["egress"]]
        self.assertIn("example.com", targets)
        self.assertIn("bad.example.com", targets)
        self.json("egress", "delete", sid, "example.com", "--target", "bad.example.com")
        targets = [r["target"] for r in self.json("egress", "get", sid)["egress"]]
        self.assertNotIn("example.com", targets)
        self.assertEqual(osb("egress", "patch", sid)[0], EX_USAGE)
        # rule actions are checked before anything is sent
        for rule, what in (("block=x.com", "Invalid rule action 'block'. Use allow or deny."),
                           ("x.com", "Use ACTION=TARGET")):
            code, out, err = osb("egress", "patch", "no-such-sandbox", "--rule", rule)
            self.assertEqual(code, EX_USAGE, err)
            self.assertIn(what, err)

        vault = os.path.join(SERVER["tmp"], "vault.json")
        with open(vault, "w") as f:
            json.dump({"credentials": [{"name": "gh", "source": {"type": "inline", "value": "s3cr3t-value"}}],
                       "bindings": [{"name": "b1", "match": {"hosts": ["pypi.org"]},
                                     "auth": {"type": "bearer", "credential": "gh"}}]}, f)
        code, out, err = osb("-o", "json", "credential-vault", "create", sid, "--file", vault)
        self.assertEqual(code, 0, err)
        self.assertNotIn("s3cr3t-value", out + err)
        self.assertEqual(list(json.loads(out)), ["revision", "credentials", "bindings"])
        self.assertEqual(osb("credential-vault", "create", sid, "--file", vault)[0], EX_CONFLICT)
        state = self.yaml_of("credential-vault", "get", sid)
        self.assertEqual(state, vault_shape(json.loads(self.ok("credential-vault", "get", sid, "-o", "raw"))))
        self.assertEqual(state["credentials"][0]["name"], "gh")
        self.assertEqual(state["bindings"][0]["match"]["hosts"], ["pypi.org"])
        self.assertNotIn("s3cr3t-value", json.dumps(state))
        creds = self.yaml_of("credential-vault", "credential", "list", sid)
        self.assertEqual(creds, [credential_shape(c) for c in
                                 json.loads(self.ok("credential-vault", "credential", "list", sid, "-o", "raw"))[
                                     "credentials"]])
        self.assertEqual(self.yaml_of("credential-vault", "credential", "get", sid, "gh"), creds[0])
        binds = self.yaml_of("credential-vault", "binding", "list", sid)
        self.assertEqual([b["name"] for b in binds], ["b1"])
        self.assertEqual(self.yaml_of("credential-vault", "binding", "get", sid, "b1"), binds[0])
        with open(vault, "w") as f:
            json.dump({"credentials": {"delete": ["gh"]}, "bindings": {"delete": ["b1"]}}, f)
        code, out, err = osb("credential-vault", "patch", sid, "--file", "-", stdin=slurp(vault, "rb"))
        self.assertEqual(code, 0, err)
        self.assertEqual(self.yaml_of("credential-vault", "delete", sid, once=True), {"sandbox_id": sid, "status": "deleted"})
        self.assertEqual(osb("credential-vault", "get", sid)[0], EX_NOTFOUND)
        # a YAML payload, as the official CLI accepts, from stdin
        yaml_text = (b"# vault\ncredentials:\n  - name: tok\n    source:\n      type: inline\n"
                     b"      value: 'v'\nbindings:\n- name: b2\n  match:\n    hosts: [pypi.org]\n"
                     b"  auth:\n    type: bearer   # comment\n    credential: tok\n")
        code, out, err = osb("credential-vault", "create", sid, "--file", "-", stdin=yaml_text)
        self.assertEqual(code, 0, err)
        self.assertEqual(self.json("credential-vault", "binding", "get", sid, "b2")["match"]["hosts"], ["pypi.org"])
        self.assertEqual(osb("credential-vault", "patch", sid, "--file", "-", stdin=b"a: [b\n  - c: :")[0], EX_USAGE)
        code, out, err = osb("credential-vault", "patch", sid, "--file", "-", stdin=b"expectedRevision: 1\n")
        self.assertEqual(code, EX_USAGE)
        self.assertIn("must include credentials or bindings", err)
        code, out, err = osb("credential-vault", "create", sid, "--file", "-", stdin=b"credentials: []\n")
        self.assertEqual(code, EX_USAGE)
        self.assertIn("'bindings' must be a list", err)
        self.ok("sandbox", "kill", sid)


class Skills(Base):
    def test_guides_are_the_packed_files(self):
        # texts.h is packed from tools/osb/guides/ and main.c's help lines; a guide is found by its row
        tools = os.path.join(ROOT, "tools", "osb")
        p = subprocess.run([sys.executable, os.path.join(tools, "pack-texts.py"), "--check"], capture_output=True)
        self.assertEqual(p.returncode, 0, p.stderr.decode())
        home = tempfile.mkdtemp(dir=SERVER["tmp"])
        env = base_env(HOME=home)
        p = subprocess.run([OSB, "skills", "install", "--all-builtins", "-t", "claude", "--scope", "global"],
                           capture_output=True, env=env, cwd=home, timeout=30)
        self.assertEqual(p.returncode, 0, p.stderr.decode())
        names = sorted(os.listdir(os.path.join(tools, "guides")))
        self.assertEqual(len(names), 6)
        for name in names:
            self.assertEqual(slurp(os.path.join(home, ".claude", "skills", name)),
                             slurp(os.path.join(tools, "guides", name)).strip() + "\n")

    def test_install_list_show_uninstall(self):
        home = tempfile.mkdtemp(dir=SERVER["tmp"])
        proj = os.path.join(home, "project")
        os.makedirs(proj)
        env = base_env(HOME=home)

        def run(*args):
            p = subprocess.run([OSB] + list(args), capture_output=True, env=env, cwd=proj, timeout=30)
            return p.returncode, p.stdout.decode(), p.stderr.decode()

        code, out, err = run("skills", "list", "-o", "json")
        self.assertEqual(code, 0, err)
        doc = json.loads(out)
        slugs = [s["slug"] for s in doc["skills"]]
        self.assertEqual(slugs, ["sandbox-troubleshooting", "sandbox-lifecycle", "command-execution", "file-operations",
                                 "network-egress", "credential-vault"])
        self.assertEqual(sorted({t["target"] for t in doc["targets"]}),
                         ["claude", "cline", "codex", "copilot", "cursor", "opencode", "windsurf"])
        self.assertEqual(run("skills", "list", "-o", "yaml")[1], official_yaml(doc))
        # one guide, globally, for Claude Code: a file under $HOME
        code, out, err = run("-o", "json", "skills", "install", "command-execution", "--target", "claude",
                             "--scope", "global")
        self.assertEqual(code, 0, err)
        path = os.path.join(home, ".claude", "skills", "command-execution.md")
        self.assertEqual(json.loads(out), {"operations": [
            {"skill": "command-execution", "target": "claude", "target_label": "Claude Code", "scope": "global",
             "path": path, "status": "installed", "requires_restart": True}], "requires_restart": True})
        text = slurp(path)
        self.assertTrue(text.startswith("---\nname: command-execution\n"), text[:80])
        self.assertIn("osb command run", text)
        self.assertEqual(json.loads(run("-o", "json", "skills", "install", "command-execution", "-t", "claude",
                                        "--scope", "global")[1])["operations"][0]["status"], "already_present")
        # every guide into the project for Copilot (one file, marked blocks) and Codex (a directory each)
        code, out, err = run("skills", "install", "--all-builtins", "-t", "copilot", "--scope", "project")
        self.assertEqual(code, 0, err)
        self.assertIn("Restart your AI coding tool", out)
        agg = slurp(os.path.join(proj, ".github", "copilot-instructions.md"))
        for s in slugs:
            self.assertEqual(agg.count("<!-- BEGIN opensandbox-%s -->" % s), 1)
        self.assertNotIn("\nname: ", agg)   # no front matter in an instructions file
        self.assertEqual(run("skills", "install", "--all-builtins", "-t", "codex", "--scope", "project")[0], 0)
        self.assertTrue(os.path.exists(os.path.join(proj, ".codex", "skills", "network-egress", "SKILL.md")))
        listed = json.loads(run("skills", "list", "-o", "json")[1])
        status = {(t["target"], t["scope"], s["skill"]): s["status"] for t in listed["targets"] for s in t["skills"]}
        self.assertEqual(status[("claude", "global", "command-execution")], "installed")
        self.assertEqual(status[("copilot", "project", "file-operations")], "installed")
        self.assertEqual(status[("cursor", "project", "file-operations")], "not installed")
        shown = json.loads(run("skills", "show", "network-egress", "-o", "json")[1])
        self.assertEqual(shown["skill"], "network-egress")
        self.assertIn("osb egress patch", shown["content"])
        self.assertIsNotNone(shown["when_to_use"])
        self.assertIn("Full Skill:", run("skills", "show", "network-egress")[1])
        # uninstall: the file goes, the other blocks stay
        code, out, err = run("-o", "json", "skills", "uninstall", "command-execution", "-t", "all", "--scope", "global")
        self.assertEqual(code, 0, err)
        ops = json.loads(out)["operations"]
        self.assertEqual([o["status"] for o in ops if o["target"] == "claude"], ["removed"])
        self.assertEqual({o["status"] for o in ops if o["target"] != "claude"}, {"not_installed"})
        self.assertFalse(os.path.exists(path))
        run("skills", "uninstall", "file-operations", "-t", "copilot", "--scope", "project")
        agg = slurp(os.path.join(proj, ".github", "copilot-instructions.md"))
        self.assertNotIn("opensandbox-file-operations", agg)
        self.assertIn("opensandbox-network-egress", agg)
        for s in slugs:
            run("skills", "uninstall", s, "-t", "copilot", "--scope", "project")
            run("skills", "uninstall", s, "-t", "codex", "--scope", "project")
        self.assertFalse(os.path.exists(os.path.join(proj, ".github", "copilot-instructions.md")))
        self.assertEqual(os.listdir(os.path.join(proj, ".codex", "skills")), [])
        # usage errors
        for args, what in ((["skills", "install", "command-execution", "--scope", "project"], "--target"),
                           (["skills", "install", "command-execution", "-t", "claude"], "--scope"),
                           (["skills", "install", "-t", "claude", "--scope", "project"], "skill name"),
                           (["skills", "install", "nope", "-t", "claude", "--scope", "project"], "nope"),
                           (["skills", "install", "command-execution", "-t", "vim", "--scope", "project"], "vim")):
            code, out, err = run(*args)
            self.assertEqual(code, EX_USAGE, args)
            self.assertIn(what, err)


class Proxy(Base):
    """osb honours the proxy of the environment without flags (tests/servers/proxy.py)."""

    def setUp(self):
        self.tmp = tempfile.mkdtemp(dir=SERVER["tmp"])
        self.log = os.path.join(self.tmp, "proxy.log")
        ready = os.path.join(self.tmp, "proxy-ready")
        self.proc = subprocess.Popen([sys.executable, os.path.join(ROOT, "tests", "servers", "proxy.py"),
                                      "--log", self.log, "--ready-file", ready])
        deadline = time.time() + 20
        while not os.path.exists(ready):
            if time.time() > deadline or self.proc.poll() is not None:
                self.proc.kill()
                self.fail("tests/servers/proxy.py did not start")
            time.sleep(0.05)
        with open(ready) as f:
            self.port = int(f.read())

    def tearDown(self):
        self.proc.terminate()
        self.proc.wait(10)

    def test_environment_proxy(self):
        env = base_env(http_proxy="http://alice:pw-hidden@127.0.0.1:%d" % self.port)
        doc = self.json("sandbox", "list", env=env)
        self.assertIn("items", doc)
        with open(self.log) as f:
            lines = [json.loads(ln) for ln in f]
        want = "GET http://%s/v1/sandboxes" % SERVER["domain"]
        self.assertTrue(any(ln["line"].startswith(want) for ln in lines), lines)
        self.assertTrue(all(ln["auth"] == "Basic YWxpY2U6cHctaGlkZGVu" for ln in lines))
        # config show: the proxy in the table, never its credentials; json keeps the official shape
        table = self.ok("config", "show", env=env, flags=False)
        self.assertIn("http://127.0.0.1:%d" % self.port, table)
        self.assertNotIn("pw-hidden", table)
        self.assertNotIn("proxy", self.json("config", "show", env=env, flags=False))
        self.assertIn("none", self.ok("config", "show", env=base_env(no_proxy="*", http_proxy="x:1"), flags=False))


class OfficialReadme(Base):
    """The examples of the official CLI's README, as written there (placeholders filled in)."""

    def test_readme_examples(self):
        home = tempfile.mkdtemp(dir=SERVER["tmp"])
        work = os.path.join(home, "work")
        os.makedirs(work)
        env = base_env(HOME=home)

        def sh(line, expect=0):
            line = line.replace("osb ", OSB + " ", 1)
            p = subprocess.run(line, shell=True, capture_output=True, env=env, cwd=work, timeout=60)
            out, err = p.stdout.decode(), p.stderr.decode()
            self.assertEqual(p.returncode, expect, "%s\n%s%s" % (line, out, err))
            return out

        sh("osb config init")
        sh("osb config set connection.domain %s" % SERVER["domain"])
        sh("osb config set connection.protocol http")
        sh("osb config set connection.api_key %s" % SERVER["key"])
        shown = json.loads(sh("osb config show -o json"))
        self.assertEqual(shown["domain"], SERVER["domain"])
        cfg = os.path.join(home, "dev.toml")
        sh("osb --config %s config init" % cfg)
        sh("osb --config %s config set connection.domain localhost:8080" % cfg)
        self.assertEqual(json.loads(sh("osb --config %s config show -o json" % cfg))["domain"], "localhost:8080")
        sid = json.loads(sh("osb sandbox create --image python:3.12 --timeout 30m -o json"))["id"]
        sh("osb config set defaults.image python:3.12")
        sh("osb config set defaults.timeout 30m")
        other = json.loads(sh("osb sandbox create -o json"))
        self.assertEqual((other["image"], other["timeout"]), ("python:3.12", "0:30:00"))
        self.assertEqual(json.loads(sh("osb sandbox get %s -o json" % sid))["id"], sid)
        self.assertTrue(json.loads(sh("osb sandbox health %s -o json" % sid))["healthy"])
        self.assertEqual(sh('osb command run %s -o raw -- python -c "print(1 + 1)"' % sid), "2\n")
        self.assertEqual(json.loads(sh('osb file write %s /workspace/hello.txt -c "hello" -o json' % sid)),
                         ok_msg("Written: /workspace/hello.txt"))
        self.assertEqual(sh("osb file cat %s /workspace/hello.txt -o raw" % sid), "hello")
        sh("osb sandbox create --image python:3.12 --timeout none")
        sh("osb sandbox create --image python:3.12 --entrypoint python --entrypoint -m --entrypoint http.server")
        with open(os.path.join(work, "network-policy.json"), "w") as f:
            json.dump({"defaultAction": "deny", "egress": [{"action": "allow", "target": "pypi.org"}]}, f)
        with open(os.path.join(work, "volumes.json"), "w") as f:
            json.dump([{"name": "work", "mountPath": "/mnt/work", "host": {"path": SERVER["tmp"]}}], f)
        sh("osb sandbox create --image python:3.12 --network-policy-file network-policy.json "
           "--volumes-file volumes.json")
        eg = json.loads(sh("osb sandbox create --image python:3.12 --network-policy-file network-policy.json "
                           "--credential-proxy -o json"))["id"]
        self.assertIn(sid, sh("osb sandbox list"))
        self.assertIn(sid, [s["id"] for s in json.loads(sh("osb sandbox list -o json"))["items"]])
        sh("osb sandbox list --state running --state paused")
        self.assertIn("cpu", sh("osb sandbox metrics %s" % sid))
        self.assertIn("endpoint", json.loads(sh("osb sandbox endpoint %s --port 8080 -o json" % sid)))
        self.assertEqual(sh("osb command run %s -o raw -- sh -lc 'echo ready'" % sid), "ready\n")
        bg = json.loads(sh('osb command run %s --background -o json -- sh -c "sleep 1; echo done"' % sid))
        self.assertEqual(bg["mode"], "background")
        deadline = time.time() + 15
        while json.loads(sh("osb command status %s %s -o json" % (sid, bg["execution_id"])))["running"]:
            self.assertLess(time.time(), deadline)
            time.sleep(0.2)
        self.assertEqual(json.loads(sh("osb command logs %s %s -o json" % (sid, bg["execution_id"])))["content"],
                         "done\n")
        sess = json.loads(sh("osb command session create %s --workdir /workspace -o json" % sid))["session_id"]
        self.assertEqual(sh("osb command session run %s %s -o raw -- pwd" % (sid, sess)), "/workspace\n")
        sh("osb command session run %s %s -o raw -- export FOO=bar" % (sid, sess))
        self.assertEqual(sh("osb command session run %s %s -o raw -- sh -c 'echo $FOO'" % (sid, sess)), "bar\n")
        self.assertEqual(json.loads(sh("osb command session delete %s %s -o json" % (sid, sess)))["status"], "ok")
        with open(os.path.join(work, "local.txt"), "w") as f:
            f.write("local\n")
        sh("osb file upload %s ./local.txt /workspace/local.txt -o json" % sid)
        sh("osb file write %s /workspace/result.json -c '{\"ok\": true}'" % sid)
        sh("osb file write %s /workspace/main.py -c 'print(1)'" % sid)
        sh("osb file write %s /workspace/app.py -c 'x = \"old\"'" % sid)
        sh("osb file write %s /workspace/script.sh -c 'echo hi'" % sid)
        sh("osb file download %s /workspace/result.json ./result.json -o json" % sid)
        self.assertEqual(json.loads(slurp(os.path.join(work, "result.json"))), {"ok": True})
        self.assertEqual([e["path"] for e in json.loads(sh('osb file search %s /workspace --pattern "*.py" -o json'
                                                           % sid))], ["/workspace/app.py", "/workspace/main.py"])
        self.assertEqual(json.loads(sh("osb file info %s /workspace/main.py -o json" % sid))[0]["path"],
                         "/workspace/main.py")
        sh("osb file replace %s /workspace/app.py --old old --new new -o json" % sid)
        self.assertEqual(sh("osb file cat %s /workspace/app.py" % sid), 'x = "new"')
        sh("osb file chmod %s /workspace/script.sh --mode 755 -o json" % sid)
        self.assertEqual(json.loads(sh("osb egress get %s -o json" % eg))["default_action"], "deny")
        sh("osb egress patch %s --rule allow=pypi.org --rule deny=internal.example.com -o json" % eg)
        with open(os.path.join(work, "vault.yaml"), "w") as f:
            f.write("credentials:\n  - name: api-token\n    source: {type: inline, value: secret-token}\n"
                    "bindings:\n  - name: api\n    match: {hosts: [pypi.org], ports: [443]}\n"
                    "    auth: {type: bearer, credential: api-token}\n")
        with open(os.path.join(work, "mutation.yaml"), "w") as f:
            f.write("bindings:\n  delete: [api]\n")
        self.assertNotIn("secret-token", sh("osb credential-vault create %s --file vault.yaml -o json" % eg))
        sh("osb credential-vault get %s -o json" % eg)
        sh("osb credential-vault patch %s --file mutation.yaml -o json" % eg)
        self.assertEqual(json.loads(sh("osb credential-vault credential list %s -o json" % eg))[0]["name"], "api-token")
        self.assertEqual(json.loads(sh("osb credential-vault binding list %s -o json" % eg)), [])
        sh("osb credential-vault delete %s -o json" % eg)
        # the open-source server has no stable diagnostics: 501 (exit 14)
        sh("osb diagnostics events %s --scope lifecycle -o raw" % sid, expect=14)
        sh("osb diagnostics logs %s --scope container -o yaml" % sid, expect=14)
        sh("osb devops inspect %s -o raw" % sid)
        sh("osb devops summary %s -o raw" % sid)
        self.assertIn("items:", sh("osb sandbox list -o yaml"))
        for group in ("sandbox", "command", "file", "skills"):
            sh("osb %s --help" % group)
        killed = json.loads(sh("osb sandbox kill %s -o json" % sid))
        self.assertEqual(killed, [{"sandbox_id": sid, "status": "terminated"}])
        ids = [s["id"] for s in json.loads(sh("osb sandbox list -o json"))["items"]]
        for i in ids:
            sh("osb sandbox kill %s" % i)


if __name__ == "__main__":
    watchdog()
    unittest.main(verbosity=2)
