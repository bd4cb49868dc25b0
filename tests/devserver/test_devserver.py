#!/usr/bin/env python3
"""Tests of tools/devserver against the checklist of shared/PROTOCOL.md section 7.

Runs the server as a subprocess on a free loopback port (via --ready-file) and talks to it
with http.client.  Usage:  python3 tests/devserver/test_devserver.py [-v]
Environment: OSB_DEVSERVER_RECORD=FILE records the main server's traffic to FILE.
"""

import http.client
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
DEVSERVER = os.path.join(ROOT, "tools", "devserver", "devserver.py")
KEY = "test-key"
HEX32 = re.compile(r"^[0-9a-f]{32}$")
UUID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[0-9a-f]{4}-[0-9a-f]{12}$")
PY_TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{6})?Z$")
GO_TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?Z$")


RUNNING = []
SUITE_TIME_LIMIT = 150  # seconds; a watchdog stops everything after that


class DevServer(object):
    """A devserver subprocess; always stopped by stop() (also registered with addCleanup)."""

    def __init__(self, *args, record=None):
        self.dir = tempfile.mkdtemp(prefix="osb-devserver-test-")
        ready = os.path.join(self.dir, "ready.json")
        cmd = [sys.executable, DEVSERVER, "--host", "127.0.0.1", "--port", "0",
               "--ready-file", ready] + list(args)
        if record:
            cmd += ["--record", record]
        self.errlog = open(os.path.join(self.dir, "stderr.log"), "wb")
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=self.errlog,
                                     stdin=subprocess.DEVNULL)
        RUNNING.append(self)
        deadline = time.time() + 30
        while not os.path.exists(ready):
            if self.proc.poll() is not None or time.time() > deadline:
                self.stop()
                raise RuntimeError("devserver did not start")
            time.sleep(0.05)
        with open(ready) as f:
            self.info = json.loads(f.read())
        self.stdout_line = self.proc.stdout.readline().decode()
        self.domain = self.info["domain"]

    def stop(self):
        if self in RUNNING:
            RUNNING.remove(self)
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc.stdout.close()
        self.errlog.close()
        shutil.rmtree(self.dir, ignore_errors=True)


class Resp(object):
    def __init__(self, r, body):
        self.status = r.status
        self.headers = r.msg
        self.body = body

    def h(self, name):
        return self.headers.get(name)

    def json(self):
        return json.loads(self.body.decode("utf-8"))

    @property
    def text(self):
        return self.body.decode("utf-8", "replace")


def split_target(target):
    hostport, _, path = target.partition("/")
    host, _, port = hostport.rpartition(":")
    return host, int(port), "/" + path


def request(method, target, body=None, headers=None, timeout=60):
    """target = 'host:port/path?query'."""
    host, port, path = split_target(target)
    conn = http.client.HTTPConnection(host, port, timeout=timeout)
    try:
        if isinstance(body, (dict, list)):
            body = json.dumps(body).encode()
        elif isinstance(body, str):
            body = body.encode()
        conn.request(method, path, body=body, headers=headers or {})
        r = conn.getresponse()
        data = r.read()
        return Resp(r, data)
    finally:
        conn.close()


def events(body):
    """Parse an execd stream body: JSON + blank line per event; a bare error at the end."""
    text = body.decode("utf-8")
    out = []
    for line in text.split("\n"):
        if line:
            out.append(json.loads(line))
    return out


def no_pings(evs):
    return [e for e in evs if e.get("type") != "ping"]


def multipart(parts, boundary="XyZb0undary"):
    out = b""
    for name, filename, data in parts:
        disp = 'form-data; name="%s"' % name
        if filename is not None:
            disp += '; filename="%s"' % filename
        if isinstance(data, str):
            data = data.encode()
        out += b"--" + boundary.encode() + b"\r\nContent-Disposition: " + disp.encode() + \
            b"\r\nContent-Type: application/octet-stream\r\n\r\n" + data + b"\r\n"
    out += b"--" + boundary.encode() + b"--\r\n"
    return out, "multipart/form-data; boundary=" + boundary


SERVER = None


def setUpModule():
    global SERVER
    SERVER = DevServer("--api-key", KEY, "--command-grace", "0.2",
                       record=os.environ.get("OSB_DEVSERVER_RECORD") or None)


def tearDownModule():
    if SERVER is not None:
        SERVER.stop()


class Base(unittest.TestCase):
    server = None

    @property
    def srv(self):
        return self.server or SERVER

    def api(self, method, path, body=None, headers=None, key=KEY, timeout=60):
        h = {"Content-Type": "application/json"} if body is not None else {}
        if key is not None:
            h["OPEN-SANDBOX-API-KEY"] = key
        h.update(headers or {})
        return request(method, self.srv.domain + path, body, h, timeout)

    def create(self, **extra):
        body = {"image": {"uri": "python:3.11"}, "entrypoint": ["tail", "-f", "/dev/null"],
                "resourceLimits": {"cpu": "500m"}}
        body.update(extra)
        r = self.api("POST", "/v1/sandboxes", body)
        self.assertEqual(r.status, 202, r.text)
        sid = r.json()["id"]
        self.addCleanup(self.quiet_delete, self.srv.domain, sid)
        return sid

    @staticmethod
    def quiet_delete(domain, sid):
        try:
            request("DELETE", domain + "/v1/sandboxes/" + sid, headers={"OPEN-SANDBOX-API-KEY": KEY})
        except OSError:
            pass

    def endpoint(self, sid, port=44772):
        r = self.api("GET", "/v1/sandboxes/%s/endpoints/%d" % (sid, port))
        self.assertEqual(r.status, 200, r.text)
        return r.json()

    def execd(self, sid=None):
        if sid is None:
            sid = self.shared_sandbox()
        return self.endpoint(sid)["endpoint"]

    _shared = {}

    def shared_sandbox(self):
        key = self.srv.domain
        if key not in Base._shared:
            r = self.api("POST", "/v1/sandboxes", {"image": {"uri": "python:3.11"},
                                                   "entrypoint": ["tail", "-f", "/dev/null"],
                                                   "resourceLimits": {}})
            Base._shared[key] = r.json()["id"]
        return Base._shared[key]

    def x(self, method, path, body=None, headers=None, ep=None, timeout=60):
        ep = ep or self.execd()
        h = {}
        if isinstance(body, (dict, list)):
            h["Content-Type"] = "application/json"
        h.update(headers or {})
        return request(method, ep + path, body, h, timeout)

    _sh_sessions = {}

    def sh(self, command, ep=None):
        """Run command in the sandbox (in a bash session: no command grace to wait for); its
        output lines joined by newlines (exit 0 asserted)."""
        ep = ep or self.execd()
        sid = Base._sh_sessions.get(ep)
        r = None
        if sid is not None:
            r = self.x("POST", "/session/%s/run" % sid, {"command": "(%s)" % command}, ep=ep)
            # a deleted sandbox's execd port can go to a new sandbox, whose execd
            # does not know the session kept for that address
            if r.status == 500 and "context not found" in r.text:
                sid = r = None
        if sid is None:
            sid = Base._sh_sessions[ep] = self.x("POST", "/session", {}, ep=ep).json()["session_id"]
            r = self.x("POST", "/session/%s/run" % sid, {"command": "(%s)" % command}, ep=ep)
        self.assertEqual(r.status, 200, r.text)
        evs = no_pings(events(r.body))
        self.assertEqual(evs[-1]["type"], "execution_complete", evs)
        return "\n".join(e["text"] for e in evs if e["type"] == "stdout")

    def tmpdir(self, ep=None):
        """A new directory inside the sandbox (the host never sees it)."""
        d = "/tmp/osb-ds-files-" + uuid.uuid4().hex[:12]
        self.sh("mkdir " + d, ep=ep)
        self.addCleanup(self.quiet_sh, "rm -rf " + d, ep)
        return d

    def exists(self, path, ep=None):
        return self.sh("if test -e %s; then echo yes; else echo no; fi" % path, ep=ep) == "yes"

    def mode_of(self, path, ep=None):
        return self.sh("stat -c %a " + path, ep=ep)

    def quiet_sh(self, command, ep=None):
        try:
            self.sh(command, ep)
        except (OSError, AssertionError):
            pass

    def upload(self, path, data, mode=None, ep=None):
        md = {"path": path}
        if mode is not None:
            md["mode"] = mode
        body, ct = multipart([("metadata", "metadata", json.dumps(md)), ("file", "f", data)])
        r = self.x("POST", "/files/upload", body, {"Content-Type": ct}, ep=ep)
        self.assertEqual(r.status, 200, r.text)


# ====================================================================== general


class TestGeneral(Base):
    def test_ready_file_and_stdout_line(self):
        self.assertEqual(set(self.srv.info), {"domain", "api_key"})
        self.assertEqual(self.srv.info["api_key"], KEY)
        self.assertTrue(self.srv.info["domain"].startswith("127.0.0.1:"))
        self.assertEqual(json.loads(self.srv.stdout_line), self.srv.info)

    def test_keep_alive_many_requests_one_connection(self):
        host, port, _ = split_target(self.srv.domain + "/")
        conn = http.client.HTTPConnection(host, port, timeout=30)
        try:
            for _ in range(50):
                conn.request("GET", "/health")
                r = conn.getresponse()
                self.assertEqual(r.status, 200)
                self.assertEqual(json.loads(r.read()), {"status": "healthy"})
        finally:
            conn.close()

    def test_health_root_only(self):
        r = request("GET", self.srv.domain + "/health")
        self.assertEqual((r.status, r.json()), (200, {"status": "healthy"}))
        r = self.api("GET", "/v1/health")
        self.assertEqual((r.status, r.json()), (404, {"detail": "Not Found"}))

    def test_auth_missing_and_invalid(self):
        r = self.api("GET", "/v1/sandboxes", key=None)
        self.assertEqual(r.status, 401)
        self.assertEqual(r.json(), {"code": "MISSING_API_KEY", "message": "Authentication credentials "
                                    "are missing. Provide API key via OPEN-SANDBOX-API-KEY header."})
        self.assertTrue(HEX32.match(r.h("X-Request-ID")))
        r = self.api("GET", "/v1/sandboxes", key="wrong")
        self.assertEqual(r.status, 401)
        self.assertEqual(r.json(), {"code": "INVALID_API_KEY", "message": "Authentication credentials "
                                    "are invalid. Check your API key and try again."})
        # auth runs before routing
        self.assertEqual(self.api("GET", "/v1/nothing-here", key=None).status, 401)

    def test_request_id_echo_and_generate(self):
        r = self.api("GET", "/v1/sandboxes", headers={"X-Request-ID": "  my-id-1 "})
        self.assertEqual(r.h("X-Request-ID"), "my-id-1")
        r = self.api("GET", "/v1/sandboxes")
        self.assertTrue(HEX32.match(r.h("X-Request-ID")), r.h("X-Request-ID"))
        r = self.api("POST", "/v1/sandboxes", {}, headers={"X-Request-ID": "rid-422"})
        self.assertEqual((r.status, r.h("X-Request-ID")), (422, "rid-422"))

    def test_unknown_route_and_wrong_method(self):
        r = self.api("GET", "/v1/nope")
        self.assertEqual((r.status, r.json()), (404, {"detail": "Not Found"}))
        r = self.api("PUT", "/v1/sandboxes")
        self.assertEqual((r.status, r.json()), (405, {"detail": "Method Not Allowed"}))

    def test_routes_exist_without_v1(self):
        sid = self.create()
        r = self.api("GET", "/sandboxes/" + sid)
        self.assertEqual(r.status, 200)
        self.assertEqual(r.json()["id"], sid)

    def test_pools_not_supported(self):
        for m, p in (("GET", "/v1/pools"), ("POST", "/v1/pools"), ("DELETE", "/v1/pools/x")):
            r = self.api(m, p, {} if m == "POST" else None)
            self.assertEqual(r.status, 501)
            self.assertEqual(r.json()["code"], "KUBERNETES::POOL_NOT_SUPPORTED")

    def test_cors_preflight(self):
        r = self.api("OPTIONS", "/v1/sandboxes", key=None, headers={
            "Origin": "http://x.test", "Access-Control-Request-Method": "POST"})
        self.assertEqual(r.status, 200)
        self.assertEqual(r.h("Access-Control-Allow-Origin"), "http://x.test")


# ====================================================================== lifecycle


class TestLifecycle(Base):
    def assert422(self, body, loc_prefix=None, typ=None):
        r = self.api("POST", "/v1/sandboxes", body)
        self.assertEqual(r.status, 422, r.text)
        detail = r.json()["detail"]
        self.assertIsInstance(detail, list)
        self.assertTrue(detail)
        for d in detail:
            self.assertTrue({"type", "loc", "msg", "input"} <= set(d), d)
        if loc_prefix is not None:
            self.assertEqual(detail[0]["loc"][:len(loc_prefix)], loc_prefix)
        if typ is not None:
            self.assertEqual(detail[0]["type"], typ)
        return detail

    def test_create_validation_422(self):
        base = {"entrypoint": ["x"], "resourceLimits": {}}
        d = self.assert422(dict(base), ["body"], "value_error")
        self.assertIn("Exactly one of image or snapshotId", d[0]["msg"])
        self.assert422(dict(base, image={"uri": "a"}, snapshotId="s"), ["body"], "value_error")
        self.assert422({"image": {"uri": "a"}, "resourceLimits": {}}, ["body"], "value_error")
        self.assert422({"image": {"uri": "a"}, "entrypoint": ["x"]}, ["body"], "value_error")
        self.assert422(dict(base, image={"uri": "a"}, timeout=59), ["body", "timeout"],
                       "greater_than_equal")
        self.assert422(dict(base, image={"uri": "a"}, credentialProxy={"enabled": True}), ["body"],
                       "value_error")
        self.assert422(dict(base, image={"uri": "a"}, platform={"os": "linux"}),
                       ["body", "platform", "arch"], "missing")
        self.assert422(dict(base, image={"uri": "a"}, entrypoint=[]), ["body", "entrypoint"], "too_short")
        r = self.api("POST", "/v1/sandboxes", "{not json")
        self.assertEqual(r.status, 422)
        self.assertEqual(r.json()["detail"][0]["type"], "json_invalid")

    def test_create_semantic_400(self):
        base = {"image": {"uri": "a"}, "entrypoint": ["x"], "resourceLimits": {}}
        for extra, code in ((dict(platform={"os": "plan9", "arch": "amd64"}), "SANDBOX::INVALID_PARAMETER"),
                            (dict(metadata={"opensandbox.io/x": "y"}), "SANDBOX::INVALID_METADATA_LABEL"),
                            (dict(metadata={"k": "bad value!"}), "SANDBOX::INVALID_METADATA_LABEL"),
                            (dict(secureAccess=True), "SANDBOX::INVALID_PARAMETER"),
                            (dict(extensions={"poolRef": "p"}), "SANDBOX::UNSUPPORTED_POOL_REF")):
            r = self.api("POST", "/v1/sandboxes", dict(base, **extra))
            self.assertEqual(r.status, 400, (extra, r.text))
            self.assertEqual(set(r.json()), {"code", "message"})
            self.assertEqual(r.json()["code"], code)

    def test_create_response_shape(self):
        r = self.api("POST", "/v1/sandboxes", {"image": {"uri": "python:3.11"}, "entrypoint": ["sh"],
                                               "resourceLimits": {}, "timeout": 600,
                                               "metadata": {"team": "ml"}})
        self.assertEqual(r.status, 202)
        self.addCleanup(self.api, "DELETE", "/v1/sandboxes/" + r.json()["id"])
        self.assertIsNone(r.h("Location"))
        self.assertEqual(r.h("Content-Type"), "application/json")
        body = r.json()
        self.assertEqual(list(body), ["id", "status", "metadata", "expiresAt", "createdAt", "entrypoint"])
        self.assertTrue(UUID_RE.match(body["id"]))
        self.assertEqual(body["status"]["state"], "Running")
        self.assertEqual(body["status"]["reason"], "CONTAINER_RUNNING")
        self.assertEqual(body["status"]["message"], "Sandbox container started successfully.")
        self.assertTrue(PY_TIME.match(body["createdAt"]))
        self.assertTrue(PY_TIME.match(body["expiresAt"]))
        # manual cleanup: no expiresAt
        sid = self.create()
        self.assertNotIn("expiresAt", self.api("GET", "/v1/sandboxes/" + sid).json())

    def test_get_shape(self):
        sid = self.create(metadata={"a": "b"}, platform={"os": "linux", "arch": "amd64"})
        r = self.api("GET", "/v1/sandboxes/" + sid)
        self.assertEqual(r.status, 200)
        b = r.json()
        self.assertEqual(list(b), ["id", "image", "platform", "status", "metadata", "entrypoint",
                                   "createdAt"])
        self.assertEqual(b["image"], {"uri": "python:3.11"})
        self.assertEqual(list(b["status"]), ["state", "reason", "message", "lastTransitionAt"])
        r = self.api("GET", "/v1/sandboxes/" + str(uuid.uuid4()))
        self.assertEqual(r.status, 404)
        self.assertEqual(r.json()["code"], "DOCKER::SANDBOX_NOT_FOUND")

    def test_list_filters_and_pagination(self):
        tag = uuid.uuid4().hex[:10]
        ids = [self.create(metadata={"t": tag, "n": str(i)}) for i in range(3)]
        q = "metadata=" + "t%3D" + tag
        r = self.api("GET", "/v1/sandboxes?" + q + "&pageSize=2")
        self.assertEqual(r.status, 200)
        b = r.json()
        self.assertEqual([i["id"] for i in b["items"]], [ids[2], ids[1]])  # createdAt desc
        self.assertEqual(b["pagination"], {"page": 1, "pageSize": 2, "totalItems": 3, "totalPages": 2,
                                           "hasNextPage": True})
        b = self.api("GET", "/v1/sandboxes?" + q + "&pageSize=2&page=2").json()
        self.assertEqual([i["id"] for i in b["items"]], [ids[0]])
        self.assertFalse(b["pagination"]["hasNextPage"])
        b = self.api("GET", "/v1/sandboxes?" + q + "&page=9").json()
        self.assertEqual(b["items"], [])
        # AND of pairs, double decoding
        b = self.api("GET", "/v1/sandboxes?metadata=t%%3D%s%%26n%%3D1" % tag).json()
        self.assertEqual([i["id"] for i in b["items"]], [ids[1]])
        b = self.api("GET", "/v1/sandboxes?metadata=t%%3D%s&state=rUnNiNg&state=Paused" % tag).json()
        self.assertEqual(len(b["items"]), 3)
        b = self.api("GET", "/v1/sandboxes?metadata=t%%3D%s&state=Paused" % tag).json()
        self.assertEqual(b["pagination"]["totalItems"], 0)
        self.assertEqual(b["pagination"]["totalPages"], 0)
        r = self.api("GET", "/v1/sandboxes?metadata=novalue")
        self.assertEqual((r.status, r.json()["code"]), (400, "INVALID_METADATA_FORMAT"))
        for q in ("pageSize=201", "page=0", "page=abc"):
            r = self.api("GET", "/v1/sandboxes?" + q)
            self.assertEqual(r.status, 422, q)
            self.assertEqual(r.json()["detail"][0]["loc"][0], "query")

    def test_delete_then_404(self):
        r = self.api("POST", "/v1/sandboxes", {"image": {"uri": "a"}, "entrypoint": ["x"],
                                               "resourceLimits": {}})
        sid = r.json()["id"]
        r = self.api("DELETE", "/v1/sandboxes/" + sid)
        self.assertEqual((r.status, r.body), (204, b""))
        r = self.api("GET", "/v1/sandboxes/" + sid)
        self.assertEqual((r.status, r.json()["code"]), (404, "DOCKER::SANDBOX_NOT_FOUND"))
        self.assertEqual(self.api("DELETE", "/v1/sandboxes/" + sid).status, 404)

    def test_ttl_expiry_removes_sandbox(self):
        sid = self.create(timeout=60)
        soon = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(time.time() + 1)) + "Z"
        r = self.api("POST", "/v1/sandboxes/%s/renew-expiration" % sid, {"expiresAt": soon})
        self.assertEqual(r.status, 200, r.text)
        deadline = time.time() + 15
        while self.api("GET", "/v1/sandboxes/" + sid).status != 404:
            self.assertLess(time.time(), deadline)
            time.sleep(0.1)
        r = self.api("GET", "/v1/sandboxes/" + sid)
        self.assertEqual(r.json()["code"], "DOCKER::SANDBOX_NOT_FOUND")

    def test_sandbox_env_reaches_commands(self):
        sid = self.create(env={"SANDBOX_VAR": "from-create", "UNSET_ME": None})
        r = request("POST", self.execd(sid) + "/command", {"command": "echo $SANDBOX_VAR"},
                    {"Content-Type": "application/json"})
        self.assertIn("from-create", [e.get("text") for e in events(r.body)])

    def test_pause_resume(self):
        sid = self.create()
        r = self.api("POST", "/v1/sandboxes/%s/resume" % sid)
        self.assertEqual((r.status, r.json()["code"]), (409, "DOCKER::SANDBOX_NOT_PAUSED"))
        r = self.api("POST", "/v1/sandboxes/%s/pause" % sid)
        self.assertEqual((r.status, r.body), (202, b""))
        self.assertEqual(self.api("GET", "/v1/sandboxes/" + sid).json()["status"]["state"], "Paused")
        r = self.api("POST", "/v1/sandboxes/%s/pause" % sid)
        self.assertEqual((r.status, r.json()["code"]), (409, "DOCKER::SANDBOX_NOT_RUNNING"))
        r = self.api("POST", "/v1/sandboxes/%s/resume" % sid)
        self.assertEqual((r.status, r.body), (202, b""))
        self.assertEqual(self.api("GET", "/v1/sandboxes/" + sid).json()["status"]["state"], "Running")

    def test_metadata_merge_patch(self):
        sid = self.create(metadata={"a": "1", "b": "2"})
        r = self.api("PATCH", "/v1/sandboxes/%s/metadata" % sid, {"a": None, "c": "3", "zz": None})
        self.assertEqual(r.status, 200)
        self.assertEqual(r.json()["metadata"], {"b": "2", "c": "3"})
        r = self.api("PATCH", "/v1/sandboxes/%s/metadata" % sid, {})
        self.assertEqual(r.json()["metadata"], {"b": "2", "c": "3"})
        r = self.api("PATCH", "/v1/sandboxes/%s/metadata" % sid, {"opensandbox.io/x": "y"})
        self.assertEqual((r.status, r.json()["code"]), (400, "INVALID_METADATA_LABEL"))
        r = self.api("PATCH", "/v1/sandboxes/%s/metadata" % sid, {"k": "not valid!"})
        self.assertEqual((r.status, r.json()["code"]), (400, "SANDBOX::INVALID_METADATA_LABEL"))
        r = self.api("PATCH", "/v1/sandboxes/%s/metadata" % sid, {"k": 5})
        self.assertEqual(r.status, 422)

    def test_renew_expiration(self):
        sid = self.create(timeout=600)
        r = self.api("POST", "/v1/sandboxes/%s/renew-expiration" % sid,
                     {"expiresAt": "2099-01-02T03:04:05+01:00"})
        self.assertEqual((r.status, r.json()), (200, {"expiresAt": "2099-01-02T02:04:05Z"}))
        r = self.api("POST", "/v1/sandboxes/%s/renew-expiration" % sid, {"expiresAt": "2001-01-01T00:00:00"})
        self.assertEqual((r.status, r.json()["code"]), (400, "DOCKER::INVALID_EXPIRATION"))
        r = self.api("POST", "/v1/sandboxes/%s/renew-expiration" % sid, {"expiresAt": "tomorrow"})
        self.assertEqual(r.status, 422)
        manual = self.create()
        r = self.api("POST", "/v1/sandboxes/%s/renew-expiration" % manual,
                     {"expiresAt": "2099-01-01T00:00:00Z"})
        self.assertEqual((r.status, r.json()["code"]), (409, "DOCKER::INVALID_EXPIRATION"))

    def test_endpoints(self):
        sid = self.create(networkPolicy={"defaultAction": "deny",
                                         "egress": [{"action": "allow", "target": "pypi.org"}]})
        ex = self.endpoint(sid, 44772)
        self.assertEqual(list(ex), ["endpoint"])
        self.assertRegex(ex["endpoint"], r"^127\.0\.0\.1:\d+/proxy/44772$")
        eg = self.endpoint(sid, 18080)
        self.assertRegex(eg["endpoint"], r"^127\.0\.0\.1:\d+/proxy/18080$")
        self.assertEqual(list(eg["headers"]), ["OPENSANDBOX-EGRESS-AUTH"])
        self.assertEqual(len(eg["headers"]["OPENSANDBOX-EGRESS-AUTH"]), 32)
        r = self.api("GET", "/v1/sandboxes/%s/endpoints/18080?use_server_proxy=true" % sid)
        self.assertEqual(r.json()["endpoint"], "%s/sandboxes/%s/proxy/18080" % (self.srv.domain, sid))
        self.assertEqual(r.json()["headers"], eg["headers"])
        r = self.api("GET", "/v1/sandboxes/%s/endpoints/0" % sid)
        self.assertEqual((r.status, r.json()["code"]), (400, "DOCKER::INVALID_PORT"))
        r = self.api("GET", "/v1/sandboxes/%s/endpoints/abc" % sid)
        self.assertEqual((r.status, r.json()["detail"][0]["loc"]), (422, ["path", "port"]))
        r = self.api("GET", "/v1/sandboxes/%s/endpoints/80?use_server_proxy=true&expires=99" % sid)
        self.assertEqual((r.status, r.json()["code"]), (400, "SANDBOX::INVALID_PARAMETER"))
        r = self.api("GET", "/v1/sandboxes/%s/endpoints/80?expires=4102444800" % sid)
        self.assertEqual((r.status, r.json()["code"]), (400, "SANDBOX::API_NOT_SUPPORTED"))
        r = self.api("GET", "/v1/sandboxes/%s/endpoints/80?expires=soon" % sid)
        self.assertEqual(r.status, 422)
        r = self.api("GET", "/v1/sandboxes/nope/endpoints/80")
        self.assertEqual(r.status, 404)

    def test_server_proxy(self):
        sid = self.create()
        ep = self.api("GET", "/v1/sandboxes/%s/endpoints/44772?use_server_proxy=1" % sid).json()["endpoint"]
        self.assertEqual(ep, "%s/sandboxes/%s/proxy/44772" % (self.srv.domain, sid))
        r = request("GET", ep + "/ping")  # no API key needed
        self.assertEqual((r.status, r.body), (200, b""))
        r = request("GET", self.srv.domain + "/v1/sandboxes/%s/proxy/44772/ping" % sid)
        self.assertEqual(r.status, 200)
        r = request("POST", ep + "/command", {"command": "echo via-proxy"},
                    {"OPEN-SANDBOX-API-KEY": KEY})
        self.assertEqual(r.h("Content-Type"), "text/event-stream")
        self.assertIn("via-proxy", [e.get("text") for e in events(r.body)])
        r = request("GET", ep + "/files/info?path=/nonexistent-x")
        self.assertEqual(r.status, 404)
        r = request("GET", self.srv.domain + "/v1/sandboxes/nope/proxy/44772/ping")
        self.assertEqual(r.status, 404)
        r = request("GET", self.srv.domain + "/v1/sandboxes/%s/proxy/18080/policy" % sid)
        self.assertEqual(r.status, 502)  # no egress sidecar without networkPolicy

    def test_proxies_forward_and_strip_headers(self):
        import http.server
        seen = {}

        class Echo(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                seen["path"], seen["headers"], seen["body"] = self.path, dict(self.headers.items()), body
                out = b"echoed"
                self.send_response(201)
                self.send_header("Content-Length", str(len(out)))
                self.send_header("X-Backend", "yes")
                self.end_headers()
                self.wfile.write(out)

            def log_message(self, *a):
                pass

        backend = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Echo)
        threading.Thread(target=backend.serve_forever, daemon=True).start()
        self.addCleanup(backend.server_close)
        self.addCleanup(backend.shutdown)
        port = backend.server_address[1]
        sid = self.create()
        # lifecycle server proxy -> execd /proxy/PORT -> backend
        r = request("POST", self.srv.domain + "/v1/sandboxes/%s/proxy/%d/echo/x?q=1" % (sid, port), b"payload",
                    {"OPEN-SANDBOX-API-KEY": KEY, "Authorization": "Bearer t", "Cookie": "c=1",
                     "X-Custom": "kept"})
        self.assertEqual((r.status, r.body, r.h("X-Backend")), (201, b"echoed", "yes"))
        self.assertEqual((seen["path"], seen["body"]), ("/echo/x?q=1", b"payload"))
        names = {k.lower() for k in seen["headers"]}
        self.assertNotIn("open-sandbox-api-key", names)
        self.assertNotIn("authorization", names)
        self.assertNotIn("cookie", names)
        self.assertEqual(seen["headers"].get("X-Custom"), "kept")
        self.assertIn("x-forwarded-for", names)
        # execd's own port proxy, reached directly
        ep = self.endpoint(sid, port)["endpoint"]
        self.assertTrue(ep.endswith("/proxy/%d" % port))
        r = request("POST", ep + "/direct", b"x")
        self.assertEqual((r.status, seen["path"]), (201, "/direct"))

    def test_server_proxy_backend_down(self):
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        free = s.getsockname()[1]
        s.close()
        sid = self.create()
        r = request("GET", self.srv.domain + "/v1/sandboxes/%s/proxy/%d/x" % (sid, free))
        self.assertEqual((r.status, r.body), (502, b"Bad Gateway\n"))  # execd's http.Error
        r = request("GET", self.execd(sid).replace("/proxy/44772", "/proxy/"))
        self.assertEqual((r.status, r.body), (400, b"port is required\n"))

    def test_snapshots(self):
        sid = self.create()
        r = self.api("POST", "/v1/sandboxes/%s/snapshots" % sid, {"name": "cp"})
        self.assertEqual(r.status, 202)
        snap = r.json()
        self.assertEqual(r.h("Location"), "/v1/snapshots/" + snap["id"])
        self.assertEqual(snap["status"]["state"], "Creating")
        self.assertEqual(snap["sandboxId"], sid)
        r = self.api("POST", "/v1/sandboxes/%s/snapshots" % sid, {"name": ""})
        self.assertEqual(r.status, 422)
        deadline = time.time() + 20
        while self.api("GET", "/v1/snapshots/" + snap["id"]).json()["status"]["state"] != "Ready":
            self.assertLess(time.time(), deadline)
            time.sleep(0.1)
        b = self.api("GET", "/v1/snapshots?sandboxId=" + sid).json()
        self.assertEqual([s["id"] for s in b["items"]], [snap["id"]])
        r = self.api("POST", "/v1/sandboxes", {"snapshotId": snap["id"], "resourceLimits": {}})
        self.assertEqual(r.status, 202)
        self.addCleanup(self.api, "DELETE", "/v1/sandboxes/" + r.json()["id"])
        self.assertEqual(r.json()["entrypoint"], ["tail", "-f", "/dev/null"])
        got = self.api("GET", "/v1/sandboxes/" + r.json()["id"]).json()
        self.assertEqual(got["snapshotId"], snap["id"])
        self.assertNotIn("image", got)
        r = self.api("POST", "/v1/sandboxes", {"snapshotId": str(uuid.uuid4()), "resourceLimits": {}})
        self.assertEqual((r.status, r.json()["code"]), (404, "SNAPSHOT::NOT_FOUND"))
        self.api("POST", "/v1/sandboxes/%s/pause" % sid)
        r = self.api("POST", "/v1/sandboxes/%s/snapshots" % sid)
        self.assertEqual((r.status, r.json()["code"]), (409, "SNAPSHOT::INVALID_SOURCE_STATE"))
        self.assertEqual(self.api("DELETE", "/v1/snapshots/" + snap["id"]).status, 204)
        r = self.api("GET", "/v1/snapshots/" + snap["id"])
        self.assertEqual((r.status, r.json()["code"]), (404, "SNAPSHOT::NOT_FOUND"))

    def test_diagnostics(self):
        sid = self.create()
        r = self.api("GET", "/v1/sandboxes/nope/diagnostics/logs?scope=")
        self.assertEqual((r.status, r.json()["code"]), (501, "DIAGNOSTICS_NOT_IMPLEMENTED"))
        r = self.api("GET", "/v1/sandboxes/%s/diagnostics/events?scope=container" % sid)
        self.assertEqual(r.status, 501)
        for kind in ("logs", "events"):
            r = self.api("GET", "/v1/sandboxes/%s/diagnostics/%s" % (sid, kind))
            self.assertEqual(r.status, 200)
            self.assertEqual(r.h("Content-Type"), "text/plain; charset=utf-8")
            self.assertEqual(r.h("Deprecation"), "true")
        r = self.api("GET", "/v1/sandboxes/%s/diagnostics/summary" % sid)
        self.assertEqual(r.status, 200)
        self.assertIsNone(r.h("Deprecation"))
        r = self.api("GET", "/v1/sandboxes/nope/diagnostics/logs")
        self.assertEqual((r.status, r.json()["code"]), (404, "DOCKER::SANDBOX_NOT_FOUND"))


# ====================================================================== execd: commands


class TestCommands(Base):
    def test_ping_and_gin_404(self):
        r = self.x("GET", "/ping")
        self.assertEqual((r.status, r.body, r.h("Content-Length")), (200, b"", "0"))
        r = self.x("GET", "/nope")
        self.assertEqual((r.status, r.body), (404, b"404 page not found"))
        self.assertEqual(r.h("Content-Type"), "text/plain")
        r = self.x("PUT", "/ping")
        self.assertEqual(r.status, 404)
        r = self.x("GET", "/ping/")
        self.assertEqual((r.status, r.h("Location")), (301, "/ping"))

    def test_stream_framing_and_headers(self):
        r = self.x("POST", "/command", {"command": "echo hi"})
        self.assertEqual(r.status, 200)
        for k, v in (("Content-Type", "text/event-stream"), ("Cache-Control", "no-cache"),
                     ("Connection", "keep-alive"), ("X-Accel-Buffering", "no"),
                     ("Transfer-Encoding", "chunked")):
            self.assertEqual(r.h(k), v)
        self.assertIsNone(r.h("Content-Length"))
        self.assertTrue(r.body.endswith(b"}\n\n"))
        blocks = r.body.split(b"\n\n")
        self.assertEqual(blocks[-1], b"")
        evs = [json.loads(b) for b in blocks[:-1]]
        for b in blocks[:-1]:
            self.assertNotIn(b"\n", b)
            self.assertFalse(b.startswith(b"data:"))
        for e in evs:
            self.assertIn("type", e)
            self.assertIsInstance(e["timestamp"], int)
        self.assertEqual(evs[0]["type"], "init")
        self.assertTrue(HEX32.match(evs[0]["text"]))
        self.assertEqual(evs[1], {"type": "ping", "text": "pong", "timestamp": evs[1]["timestamp"]})
        self.assertEqual(list(evs[0]), ["type", "text", "timestamp"])
        rest = no_pings(evs[1:])
        self.assertEqual(rest[0]["type"], "stdout")
        self.assertEqual(rest[0]["text"], "hi")
        self.assertEqual(rest[-1]["type"], "execution_complete")

    def test_exit_code_in_error_event(self):
        r = self.x("POST", "/command", {"command": "echo oops >&2; exit 3"})
        evs = no_pings(events(r.body))
        self.assertEqual([e["type"] for e in evs], ["init", "stderr", "error"])
        self.assertEqual(evs[1]["text"], "oops")
        self.assertEqual(evs[2]["error"], {"ename": "CommandExecError", "evalue": "3",
                                           "traceback": ["exit status 3"]})
        self.assertEqual(list(evs[2]), ["type", "timestamp", "error"])

    def test_line_splitting(self):
        r = self.x("POST", "/command", {"command": r"printf 'a\r\nb\rc\n\nd'"})
        texts = [e["text"] for e in events(r.body) if e["type"] == "stdout"]
        self.assertEqual(texts, ["a", "b", "c", "\n", "d"])

    def test_html_escaping(self):
        r = self.x("POST", "/command", {"command": "echo '<a&b>'"})
        self.assertIn(b'"text":"\\u003ca\\u0026b\\u003e"', r.body)

    def test_timeout_kills(self):
        r = self.x("POST", "/command", {"command": "sleep 30", "timeout": 300})
        evs = no_pings(events(r.body))
        self.assertEqual(evs[-1]["error"], {"ename": "CommandExecError", "evalue": "-1",
                                            "traceback": ["signal: killed"]})

    def test_envs_cwd_uid(self):
        d = self.tmpdir()
        self.sh("chmod 777 " + d)
        r = self.x("POST", "/command", {"command": "echo $FOO; pwd; id -u; id -g", "envs": {"FOO": "bar"},
                                        "cwd": d, "uid": 65534, "gid": 65533})
        texts = [e["text"] for e in events(r.body) if e["type"] == "stdout"]
        self.assertEqual(texts, ["bar", d, "65534", "65533"])
        r = self.x("POST", "/command", {"command": "true", "cwd": d + "/missing"})
        self.assertEqual(r.status, 400)
        self.assertEqual(r.json()["code"], "INVALID_REQUEST_BODY")
        self.assertIn("working directory does not exist", r.json()["message"])
        r = self.x("POST", "/command", {"command": "true", "gid": 0})
        self.assertEqual(r.status, 400)
        self.assertIn("uid is required when gid is provided", r.json()["message"])

    def test_command_request_errors(self):
        r = self.x("POST", "/command", b"")
        self.assertEqual(r.status, 400)
        self.assertEqual(r.h("Content-Type"), "application/json; charset=utf-8")
        self.assertEqual(r.json(), {"code": "INVALID_REQUEST_BODY",
                                    "message": "error parsing request, MAYBE invalid body format. EOF"})
        self.assertEqual(self.x("POST", "/command", {"command": ""}).status, 400)
        self.assertEqual(self.x("POST", "/command", {"command": "x", "timeout": -1}).status, 400)
        # Go decoding: case-insensitive keys
        r = self.x("POST", "/command", {"Command": "echo ci"})
        self.assertIn("ci", [e.get("text") for e in events(r.body)])

    def test_background_status_and_cursor(self):
        r = self.x("POST", "/command", {"command": "printf 'one\\n'; sleep 0.5; printf 'two\\n'; exit 4",
                                        "background": True})
        evs = no_pings(events(r.body))
        self.assertEqual([e["type"] for e in evs], ["init", "execution_complete"])
        cid = evs[0]["text"]
        st = self.x("GET", "/command/status/" + cid).json()
        self.assertEqual(st["id"], cid)
        self.assertTrue(GO_TIME.match(st["started_at"]))
        if st["running"]:
            self.assertNotIn("exit_code", st)
            self.assertNotIn("finished_at", st)
        deadline = time.time() + 20
        while self.x("GET", "/command/status/" + cid).json()["running"]:
            self.assertLess(time.time(), deadline)
            time.sleep(0.05)
        st = self.x("GET", "/command/status/" + cid).json()
        self.assertEqual(list(st), ["id", "content", "running", "exit_code", "error", "started_at",
                                    "finished_at"])
        self.assertEqual((st["exit_code"], st["error"]), (4, "exit status 4"))
        r = self.x("GET", "/command/%s/logs?cursor=0" % cid)
        self.assertEqual(r.h("Content-Type"), "text/plain; charset=utf-8")
        self.assertEqual((r.body, r.h("EXECD-COMMANDS-TAIL-CURSOR")), (b"one\ntwo\n", "8"))
        r = self.x("GET", "/command/%s/logs?cursor=2" % cid)
        self.assertEqual((r.body, r.h("EXECD-COMMANDS-TAIL-CURSOR")), (b"e\ntwo\n", "8"))
        r = self.x("GET", "/command/%s/logs?cursor=8" % cid)
        self.assertEqual((r.body, r.h("EXECD-COMMANDS-TAIL-CURSOR")), (b"", "8"))
        r = self.x("GET", "/command/%s/logs?cursor=99" % cid)
        self.assertEqual(r.body, b"")
        r = self.x("GET", "/command/%s/logs?cursor=abc" % cid)
        self.assertEqual(r.body, b"one\ntwo\n")
        self.assertEqual(self.x("GET", "/command/%s/logs?cursor=-1" % cid).status, 400)

    def test_command_unknown_ids(self):
        r = self.x("GET", "/command/status/deadbeef")
        self.assertEqual((r.status, r.json()), (404, {"code": "INVALID_REQUEST_BODY",
                                                      "message": "command not found: deadbeef"}))
        r = self.x("GET", "/command/deadbeef/logs")
        self.assertEqual(r.status, 400)
        fg = events(self.x("POST", "/command", {"command": "true"}).body)[0]["text"]
        r = self.x("GET", "/command/%s/logs" % fg)
        self.assertEqual(r.status, 400)
        self.assertIn("is not running in background", r.json()["message"])
        st = self.x("GET", "/command/status/" + fg).json()
        self.assertEqual((st["running"], st["exit_code"]), (False, 0))
        self.assertNotIn("error", st)

    def test_interrupt_background(self):
        r = self.x("POST", "/command", {"command": "sleep 30", "background": True})
        cid = events(r.body)[0]["text"]
        r = self.x("DELETE", "/command?id=" + cid)
        self.assertEqual((r.status, r.body), (200, b""))
        st = self.x("GET", "/command/status/" + cid).json()
        self.assertEqual((st["running"], st["exit_code"], st["error"]), (False, -1, "signal: terminated"))
        r = self.x("DELETE", "/command?id=" + cid)
        self.assertEqual(r.status, 500)
        self.assertEqual(r.json()["message"], "error interruptting code context. command session %s "
                         "is not running" % cid)
        r = self.x("DELETE", "/command?id=unknown")
        self.assertEqual(r.status, 500)
        self.assertIn("no such session", r.json()["message"])
        r = self.x("DELETE", "/command")
        self.assertEqual((r.status, r.json()["code"]), (400, "MISSING_QUERY"))

    def test_interrupt_foreground_stream(self):
        ep = self.execd()
        host, port, path = split_target(ep + "/command")
        conn = http.client.HTTPConnection(host, port, timeout=30)
        try:
            conn.request("POST", path, json.dumps({"command": "sleep 30"}),
                         {"Content-Type": "application/json"})
            r = conn.getresponse()
            buf = b""
            while b"\n\n" not in buf:
                chunk = r.read1(4096)
                self.assertTrue(chunk)
                buf += chunk
            first = json.loads(buf.split(b"\n\n")[0])
            self.assertEqual(first["type"], "init")
            d = self.x("DELETE", "/code?id=" + first["text"], ep=ep)
            self.assertEqual(d.status, 200)
            rest = buf + r.read()
        finally:
            conn.close()
        evs = no_pings(events(rest))
        self.assertEqual(evs[-1]["error"]["evalue"], "-1")
        self.assertEqual(evs[-1]["error"]["traceback"], ["signal: terminated"])


# ====================================================================== execd: sessions, code


class TestSessionsAndCode(Base):
    def run_session(self, sid, body, ep):
        r = self.x("POST", "/session/%s/run" % sid, body, ep=ep)
        self.assertEqual(r.status, 200, r.text)
        return r

    def test_session_keeps_env_and_cwd(self):
        ep = self.execd()
        d = self.tmpdir()
        r = self.x("POST", "/session", b"", ep=ep)
        self.assertEqual(r.status, 200)
        self.assertEqual(list(r.json()), ["session_id"])
        sid = r.json()["session_id"]
        self.assertTrue(UUID_RE.match(sid))
        evs = no_pings(events(self.run_session(sid, {"command": "cd %s && export A=1 && B=2" % d}, ep).body))
        self.assertEqual(evs[0], {"type": "init", "text": sid, "timestamp": evs[0]["timestamp"]})
        self.assertEqual(evs[-1]["type"], "execution_complete")
        r = self.run_session(sid, {"command": "pwd; echo A=$A B=$B; echo; echo to-stderr >&2"}, ep)
        evs = no_pings(events(r.body))
        self.assertEqual([(e["type"], e.get("text")) for e in evs[1:]],
                         [("stdout", d), ("stdout", "A=1 B="),
                          ("stdout", "to-stderr"), ("execution_complete", None)])
        evs = no_pings(events(self.run_session(sid, {"command": "exit 7"}, ep).body))
        self.assertEqual(evs[-1]["error"], {"ename": "CommandExecError", "evalue": "7",
                                            "traceback": ["exit status 7"]})

    def test_session_timeout_bare_error(self):
        ep = self.execd()
        sid = self.x("POST", "/session", {"cwd": self.tmpdir()}, ep=ep).json()["session_id"]
        r = self.run_session(sid, {"command": "sleep 20", "timeout": 300}, ep)
        self.assertTrue(r.body.endswith(b'{"code":"RUNTIME_ERROR","message":"error running in '
                                        b'session. timeout after 300ms"}'), r.body)

    def test_session_errors_and_delete(self):
        ep = self.execd()
        r = self.x("POST", "/session/nope/run", {"command": "true"}, ep=ep)
        self.assertEqual((r.status, r.json()), (500, {"code": "RUNTIME_ERROR", "message":
                                                      "error running in session. context not found"}))
        sid = self.x("POST", "/session", {}, ep=ep).json()["session_id"]
        self.assertEqual(self.x("DELETE", "/session/" + sid, ep=ep).status, 200)
        r = self.x("DELETE", "/session/" + sid, ep=ep)
        self.assertEqual((r.status, r.json()["code"]), (404, "CONTEXT_NOT_FOUND"))
        sid = self.x("POST", "/session", {}, ep=ep).json()["session_id"]
        self.assertEqual(self.x("DELETE", "/command?id=" + sid, ep=ep).status, 200)
        self.assertEqual(self.x("POST", "/session/%s/run" % sid, {"command": "true"}, ep=ep).status, 500)

    def run_code(self, body, ep):
        r = self.x("POST", "/code", body, ep=ep)
        self.assertEqual(r.status, 200, r.text)
        return no_pings(events(r.body))

    def test_python_context(self):
        ep = self.execd()
        r = self.x("POST", "/code/context", {"language": "python"}, ep=ep)
        self.assertEqual(r.status, 200)
        ctx = r.json()
        self.assertEqual(list(ctx), ["id", "language"])
        self.assertTrue(UUID_RE.match(ctx["id"]))
        c = {"id": ctx["id"], "language": "python"}
        evs = self.run_code({"context": c, "code": "x = 2\nprint('hello')"}, ep)
        self.assertEqual([(e["type"], e.get("text")) for e in evs[:2]],
                         [("init", ctx["id"]), ("stdout", "hello\n")])
        self.assertEqual(evs[-1]["type"], "execution_complete")
        evs = self.run_code({"context": c, "code": "x + 2"}, ep)
        self.assertEqual([e["type"] for e in evs], ["init", "execution_count", "result",
                                                    "execution_complete"])
        self.assertIsInstance(evs[1]["execution_count"], int)
        self.assertEqual(evs[2]["results"], {"text": "4"})
        evs = self.run_code({"context": c, "code": "print('a')\ny"}, ep)
        self.assertEqual([e["type"] for e in evs], ["init", "stdout", "status", "error",
                                                    "execution_complete"])
        self.assertEqual(evs[2]["text"], "error")
        self.assertEqual((evs[3]["error"]["ename"], evs[3]["error"]["evalue"]),
                         ("NameError", "name 'y' is not defined"))
        self.assertIsInstance(evs[3]["error"]["traceback"], list)
        r = self.x("GET", "/code/contexts?language=python", ep=ep)
        self.assertIn(ctx, r.json())
        self.assertEqual(self.x("GET", "/code/contexts/" + ctx["id"], ep=ep).json(), ctx)
        self.assertEqual(self.x("DELETE", "/code/contexts/" + ctx["id"], ep=ep).status, 200)
        r = self.x("GET", "/code/contexts/" + ctx["id"], ep=ep)
        self.assertEqual((r.status, r.json()["code"]), (404, "CONTEXT_NOT_FOUND"))
        r = self.x("POST", "/code", {"context": c, "code": "1"}, ep=ep)
        self.assertEqual((r.status, r.json()["message"]), (500, "error running codes context not found"))
        r = self.x("POST", "/code", {"context": {"language": "cobol"}, "code": "1"}, ep=ep)
        self.assertEqual((r.status, r.json()["message"]), (500, "error running codes unknown language: cobol"))
        r = self.x("DELETE", "/code/contexts", ep=ep)
        self.assertEqual((r.status, r.json()["code"]), (400, "MISSING_QUERY"))

    def test_code_without_language_is_shell(self):
        evs = self.run_code({"context": {"id": "ignored"}, "code": "echo shell; exit 2"}, self.execd())
        self.assertTrue(HEX32.match(evs[0]["text"]))
        self.assertEqual(evs[1]["text"], "shell")
        self.assertEqual(evs[-1]["error"]["evalue"], "2")

    def test_bash_context_keeps_state(self):
        ep = self.execd()
        ctx = self.x("POST", "/code/context", {"language": "bash"}, ep=ep).json()
        c = {"id": ctx["id"], "language": "bash"}
        self.run_code({"context": c, "code": "export Z=zed; cd /"}, ep)
        evs = self.run_code({"context": c, "code": "echo $Z; pwd"}, ep)
        self.assertEqual("".join(e.get("text", "") for e in evs if e["type"] == "stdout"), "zed\n/\n")

    def test_busy_context_and_interrupt(self):
        ep = self.execd()
        ctx = self.x("POST", "/code/context", {"language": "python"}, ep=ep).json()
        c = {"id": ctx["id"], "language": "python"}
        host, port, path = split_target(ep + "/code")
        conn = http.client.HTTPConnection(host, port, timeout=30)
        try:
            conn.request("POST", path, json.dumps({"context": c, "code": "import time\nprint('go')\n"
                                                   "time.sleep(30)"}),
                         {"Content-Type": "application/json"})
            r = conn.getresponse()
            buf = b""
            while b'"go\\n"' not in buf:
                chunk = r.read1(4096)
                self.assertTrue(chunk)
                buf += chunk
            busy = self.x("POST", "/code", {"context": c, "code": "1"}, ep=ep)
            self.assertEqual(busy.status, 200)
            self.assertTrue(busy.body.endswith(b'{"code":"RUNTIME_ERROR","message":"error running codes '
                                               b'session is busy"}'))
            self.assertEqual(events(busy.body)[0]["type"], "init")
            self.assertEqual(self.x("DELETE", "/code?id=" + ctx["id"], ep=ep).status, 200)
            buf += r.read()
        finally:
            conn.close()
        evs = no_pings(events(buf))
        self.assertEqual([e["type"] for e in evs[-3:]], ["status", "error", "execution_complete"])
        self.assertEqual(evs[-2]["error"]["ename"], "KeyboardInterrupt")


# ====================================================================== execd: files


class TestFiles(Base):
    def test_upload_then_cat_same_path(self):
        d = self.tmpdir()
        p = d + "/sub/dir/x.txt"
        self.upload(p, "hello from upload\n")
        r = self.x("POST", "/command", {"command": "cat " + p})
        self.assertIn("hello from upload", [e.get("text") for e in events(r.body)])
        self.upload(p, "short")  # overwrite truncates
        self.assertEqual(self.sh("cat " + p), "short")

    def test_file_info_and_octal_modes(self):
        d = self.tmpdir()
        self.upload(d + "/a.txt", "abc", mode=640)
        r = self.x("GET", "/files/info?path=%s/a.txt" % d)
        self.assertEqual(r.h("Content-Type"), "application/json; charset=utf-8")
        info = r.json()[d + "/a.txt"]
        self.assertEqual(list(info), ["path", "type", "size", "modified_at", "created_at", "owner",
                                      "group", "mode"])
        self.assertEqual((info["type"], info["size"], info["mode"]), ("file", 3, 640))
        self.assertEqual(self.mode_of(d + "/a.txt"), "640")
        self.assertTrue(GO_TIME.match(info["modified_at"]))
        r = self.x("POST", "/files/permissions", {d + "/a.txt": {"mode": 7}})
        self.assertEqual((r.status, r.body), (200, b""))
        self.assertEqual(self.x("GET", "/files/info?path=%s/a.txt" % d).json()[d + "/a.txt"]["mode"], 7)
        self.sh("ln -s %s/a.txt %s/link" % (d, d))
        info = self.x("GET", "/files/info?path=%s/link&path=%s" % (d, d)).json()
        self.assertEqual(info[d + "/link"]["type"], "symlink")
        self.assertEqual(info[d + "/link"]["size"], len(d + "/a.txt"))
        self.assertEqual(info[d]["type"], "directory")
        self.assertEqual(self.x("GET", "/files/info").json(), {})
        r = self.x("GET", "/files/info?path=%s/missing" % d)
        self.assertEqual(r.status, 404)
        self.assertEqual(r.json()["code"], "FILE_NOT_FOUND")
        self.assertTrue(r.json()["message"].startswith("file not found. file not found: "))
        r = self.x("POST", "/files/permissions", {d + "/missing": {"mode": 644}})
        self.assertEqual(r.status, 500)

    def test_upload_quirks(self):
        d = self.tmpdir()
        # metadata without filename= is invisible
        body, ct = multipart([("metadata", None, json.dumps({"path": d + "/m"})), ("file", "f", "x")])
        r = self.x("POST", "/files/upload", body, {"Content-Type": ct})
        self.assertEqual((r.status, r.json()), (400, {"code": "INVALID_FILE_METADATA",
                                                      "message": "metadata file is missing"}))
        body, ct = multipart([("metadata", "m", json.dumps({"path": d + "/a"})),
                              ("metadata", "m", json.dumps({"path": d + "/b"})), ("file", "f", "x")])
        r = self.x("POST", "/files/upload", body, {"Content-Type": ct})
        self.assertEqual((r.status, r.json()), (400, {"code": "INVALID_FILE", "message":
                                                      "metadata and file count mismatch: 2 vs 1"}))
        body, ct = multipart([("metadata", "m", json.dumps({"path": d + "/a"}))])
        r = self.x("POST", "/files/upload", body, {"Content-Type": ct})
        self.assertEqual((r.status, r.json()["code"]), (400, "INVALID_FILE_CONTENT"))
        r = self.x("POST", "/files/upload", b"plain", {"Content-Type": "text/plain"})
        self.assertEqual((r.status, r.json()), (400, {"code": "INVALID_FILE",
                                                      "message": "multipart form is empty"}))
        body, ct = multipart([("metadata", "m", "{bad"), ("file", "f", "x")])
        r = self.x("POST", "/files/upload", body, {"Content-Type": ct})
        self.assertEqual((r.status, r.json()["code"]), (400, "INVALID_FILE_METADATA"))
        body, ct = multipart([("metadata", "m", json.dumps({"path": ""})), ("file", "f", "x")])
        r = self.x("POST", "/files/upload", body, {"Content-Type": ct})
        self.assertEqual(r.json()["message"], "metadata path is empty")
        # pairing by index per part name, interleaving irrelevant
        body, ct = multipart([("file", "1", "one"), ("file", "2", b"\x00\xfftwo"),
                              ("metadata", "m", json.dumps({"path": d + "/one"})),
                              ("metadata", "m", json.dumps({"path": d + "/two", "mode": 600}))])
        r = self.x("POST", "/files/upload", body, {"Content-Type": ct})
        self.assertEqual(r.status, 200)
        self.assertEqual(self.sh("od -An -tx1 %s/two" % d).split(), ["00", "ff", "74", "77", "6f"])
        self.assertEqual(self.mode_of(d + "/two"), "600")

    def test_download_and_ranges(self):
        d = self.tmpdir()
        self.sh("printf 0123456789 > %s/data.bin" % d)
        r = self.x("GET", "/files/download?path=%s/data.bin" % d)
        self.assertEqual((r.status, r.body), (200, b"0123456789"))
        self.assertEqual(r.h("Content-Type"), "application/octet-stream")
        self.assertEqual(r.h("Content-Disposition"), 'attachment; filename="data.bin"')
        self.assertEqual((r.h("Content-Length"), r.h("Accept-Ranges")), ("10", "bytes"))
        self.assertIsNotNone(r.h("Last-Modified"))
        r2 = self.x("GET", "/files/download?path=%s/data.bin" % d,
                    headers={"If-Modified-Since": r.h("Last-Modified")})
        self.assertEqual((r2.status, r2.body), (304, b""))
        for rng, body, cr in (("bytes=2-4", b"234", "bytes 2-4/10"), ("bytes=7-", b"789", "bytes 7-9/10"),
                              ("bytes=-3", b"789", "bytes 7-9/10"), ("bytes=8-100", b"89", "bytes 8-9/10"),
                              ("bytes=0-", b"0123456789", "bytes 0-9/10"),
                              ("bytes=1-1,5-6", b"1", "bytes 1-1/10")):
            r = self.x("GET", "/files/download?path=%s/data.bin" % d, headers={"Range": rng})
            self.assertEqual((r.status, r.body, r.h("Content-Range")), (206, body, cr), rng)
            self.assertEqual(r.h("Content-Length"), str(len(body)))
            self.assertIsNone(r.h("Accept-Ranges"))
        r = self.x("GET", "/files/download?path=%s/data.bin" % d, headers={"Range": "bytes=20-"})
        self.assertEqual((r.status, r.h("Content-Range"), r.body),
                         (416, "bytes */10", b"invalid range: failed to overlap\n"))
        self.assertEqual(r.h("Content-Type"), "text/plain; charset=utf-8")
        # malformed range: 416 with a JSON body shorter than the announced length
        host, port, path = split_target(self.execd() + "/files/download?path=%s/data.bin" % d)
        s = socket.create_connection((host, port), timeout=10)
        try:
            s.sendall(("GET %s HTTP/1.1\r\nHost: x\r\nRange: lines=1-2\r\n\r\n" % path).encode())
            raw = b""
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    break
                raw += chunk
        finally:
            s.close()
        head, _, body = raw.partition(b"\r\n\r\n")
        self.assertTrue(head.startswith(b"HTTP/1.1 416 "))
        self.assertIn(b"Content-Type: application/octet-stream", head)
        self.assertIn(b"Content-Length: 10", head)
        self.assertEqual(body, b'{"code":"UNKNOWN"}')
        r = self.x("GET", "/files/download?path=%s/missing" % d)
        self.assertEqual((r.status, r.json()["code"]), (404, "FILE_NOT_FOUND"))
        r = self.x("GET", "/files/download")
        self.assertEqual((r.status, r.json()["code"]), (400, "MISSING_QUERY"))

    def test_delete_files(self):
        d = self.tmpdir()
        self.sh("touch %s/f" % d)
        r = self.x("DELETE", "/files?path=%s/f&path=%s/never" % (d, d))
        self.assertEqual((r.status, r.body), (200, b""))
        self.assertFalse(self.exists(d + "/f"))
        r = self.x("DELETE", "/files?path=" + d)
        self.assertEqual(r.status, 500)
        self.assertIn("path is a directory", r.json()["message"])

    def test_move(self):
        d = self.tmpdir()
        self.sh("touch %s/a %s/b" % (d, d))
        r = self.x("POST", "/files/mv", [{"src": d + "/a", "dest": d + "/new/deep/a2"}])
        self.assertEqual((r.status, r.body), (200, b""))
        self.assertTrue(self.exists(d + "/new/deep/a2"))
        r = self.x("POST", "/files/mv", [{"src": d + "/b", "dest": d + "/new/deep/a2"}])
        self.assertEqual(r.status, 500)
        self.assertIn("destination path already exists", r.json()["message"])
        r = self.x("POST", "/files/mv", [{"src": d + "/zzz", "dest": d + "/q"}])
        self.assertEqual((r.status, r.json()["code"]), (404, "FILE_NOT_FOUND"))

    def test_search(self):
        d = self.tmpdir()
        self.sh("mkdir -p %s/src/pkg.py" % d)  # a directory whose name matches: never returned
        self.sh("cd %s && touch a.py src/b.py src/c.txt src/pkg.py/d.py" % d)
        r = self.x("GET", "/files/search?path=%s&pattern=*.py" % d)
        self.assertEqual(r.status, 200)
        self.assertEqual(sorted(i["path"] for i in r.json()),
                         sorted(d + p for p in ("/a.py", "/src/b.py", "/src/pkg.py/d.py")))
        r = self.x("GET", "/files/search?path=%s&pattern=src/*.py" % d)  # base names only
        self.assertEqual(r.json(), [])
        r = self.x("GET", "/files/search?path=%s&pattern=%%7Bb,c%%7D.*" % d)
        self.assertEqual(sorted(os.path.basename(i["path"]) for i in r.json()), ["b.py", "c.txt"])
        self.assertEqual(len(self.x("GET", "/files/search?path=" + d).json()), 4)
        r = self.x("GET", "/files/search?pattern=x")
        self.assertEqual((r.status, r.json()["code"]), (400, "MISSING_QUERY"))
        self.assertEqual(self.x("GET", "/files/search?path=%s/none" % d).status, 404)

    def test_replace(self):
        d = self.tmpdir()
        self.sh("printf 'foo bar foo' > %s/r.txt && chmod 604 %s/r.txt" % (d, d))
        r = self.x("POST", "/files/replace?verbose=true", {d + "/r.txt": {"old": "foo", "new": "baz"}})
        self.assertEqual((r.status, r.json()), (200, {d + "/r.txt": {"replacedCount": 2}}))
        self.assertEqual(self.sh("cat %s/r.txt" % d), "baz bar baz")
        self.assertEqual(self.mode_of(d + "/r.txt"), "604")
        r = self.x("POST", "/files/replace", {d + "/r.txt": {"old": "bar", "new": "x"}})
        self.assertEqual((r.status, r.body), (200, b""))
        r = self.x("POST", "/files/replace", {d + "/r.txt": {"old": "", "new": "x"}})
        self.assertEqual((r.status, r.json()["message"]), (400, "old content must not be empty"))
        r = self.x("POST", "/files/replace", {d + "/none": {"old": "a", "new": "x"}})
        self.assertEqual(r.status, 404)

    def test_directories(self):
        d = self.tmpdir()
        r = self.x("POST", "/directories", {d + "/t/b": {"mode": 750}, d + "/t/a/x": {}})
        self.assertEqual((r.status, r.body), (200, b""))
        self.assertEqual(self.mode_of(d + "/t/b"), "750")
        self.sh("touch %s/t/a/f && ln -s %s/t/a %s/t/c" % (d, d, d))
        r = self.x("GET", "/directories/list?path=%s/t" % d)
        self.assertEqual([i["path"] for i in r.json()], [d + "/t/a", d + "/t/b", d + "/t/c"])
        r = self.x("GET", "/directories/list?path=%s/t&depth=2" % d)
        self.assertEqual([i["path"] for i in r.json()],
                         [d + "/t/a", d + "/t/a/f", d + "/t/a/x", d + "/t/b", d + "/t/c"])
        self.assertEqual(r.json()[1]["type"], "file")
        self.assertEqual(r.json()[4]["type"], "symlink")
        self.assertEqual(self.x("GET", "/directories/list?path=%s/t&depth=0" % d).json(), [])
        r = self.x("GET", "/directories/list?path=%s/t&depth=x" % d)
        self.assertEqual((r.status, r.json()["message"]), (400, "invalid query parameter 'depth': x"))
        r = self.x("GET", "/directories/list?path=%s/t/c" % d)
        self.assertEqual(r.status, 400)
        self.assertIn("symbolic link", r.json()["message"])
        r = self.x("GET", "/directories/list?path=%s/t/a/f" % d)
        self.assertEqual(r.status, 400)
        self.assertIn("path is not a directory", r.json()["message"])
        self.assertEqual(self.x("GET", "/directories/list?path=%s/none" % d).status, 404)
        r = self.x("DELETE", "/directories?path=%s/t&path=%s/none" % (d, d))
        self.assertEqual((r.status, r.body), (200, b""))
        self.assertFalse(self.exists(d + "/t"))


# ====================================================================== execd: metrics


class TestMetrics(Base):
    def test_metrics(self):
        r = self.x("GET", "/metrics")
        self.assertEqual(r.status, 200)
        m = r.json()
        self.assertEqual(list(m), ["cpu_count", "cpu_used_pct", "mem_total_mib", "mem_used_mib",
                                   "timestamp"])
        self.assertGreaterEqual(m["cpu_count"], 1)
        self.assertTrue(0 <= m["cpu_used_pct"] <= 100)
        self.assertGreater(m["mem_total_mib"], 0)

    def test_metrics_watch_single_newline(self):
        host, port, path = split_target(self.execd() + "/metrics/watch")
        conn = http.client.HTTPConnection(host, port, timeout=15)
        try:
            conn.request("GET", path)
            r = conn.getresponse()
            self.assertEqual(r.status, 200)
            self.assertEqual(r.getheader("Content-Type"), "text/event-stream")
            self.assertEqual(r.getheader("Transfer-Encoding"), "chunked")
            buf = b""
            while buf.count(b"\n") < 2:
                chunk = r.read1(4096)
                self.assertTrue(chunk)
                buf += chunk
        finally:
            conn.close()
        lines = buf.split(b"\n")
        self.assertNotEqual(lines[1], b"")  # single \n, no blank line
        for ln in lines[:2]:
            self.assertIn("mem_total_mib", json.loads(ln))


class WSClient(object):
    """Minimal RFC 6455 client for the PTY tests."""

    def __init__(self, target, headers=None):
        import base64
        host, port, path = split_target(target)
        self.sock = socket.create_connection((host, port), timeout=20)
        key = base64.b64encode(os.urandom(16)).decode()
        extra = "".join("%s: %s\r\n" % kv for kv in (headers or {}).items())
        self.sock.sendall(("GET %s HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                           "Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n%s\r\n"
                           % (path, key, extra)).encode())
        self.f = self.sock.makefile("rb")
        status = self.f.readline()
        self.status = int(status.split()[1])
        self.headers = {}
        while True:
            line = self.f.readline()
            if line in (b"\r\n", b""):
                break
            k, _, v = line.decode().partition(":")
            self.headers[k.strip().lower()] = v.strip()
        self.body = b""
        if self.status != 101:
            n = int(self.headers.get("content-length", "0"))
            self.body = self.f.read(n)

    def recv(self):
        import struct
        head = self.f.read(2)
        if len(head) < 2:
            return None, b""
        n = head[1] & 0x7F
        if n == 126:
            n = struct.unpack("!H", self.f.read(2))[0]
        elif n == 127:
            n = struct.unpack("!Q", self.f.read(8))[0]
        return head[0] & 0x0F, self.f.read(n)

    def recv_data(self):
        """Next text (decoded JSON) or binary frame, skipping nothing."""
        op, data = self.recv()
        if op == 1:
            return "text", json.loads(data)
        if op == 2:
            return "binary", data
        return {8: "close"}.get(op, op), data

    def send(self, op, data):
        import struct
        mask = os.urandom(4)
        n = len(data)
        head = bytes([0x80 | op]) + (bytes([0x80 | n]) if n < 126 else bytes([0x80 | 126]) + struct.pack("!H", n))
        self.sock.sendall(head + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(data)))

    def send_json(self, obj):
        self.send(1, json.dumps(obj).encode())

    def close(self):
        self.f.close()
        self.sock.close()


class TestPty(Base):
    def test_pty_rest_websocket_replay_takeover(self):
        ep = self.execd()
        r = self.x("POST", "/pty", {"command": "cat"}, ep=ep)
        self.assertEqual(r.status, 201)
        pid = r.json()["session_id"]
        self.assertTrue(UUID_RE.match(pid))
        self.assertEqual(self.x("GET", "/pty/" + pid, ep=ep).json(),
                         {"session_id": pid, "running": False, "output_offset": 0})
        a = WSClient(ep + "/pty/%s/ws?pty=0" % pid)
        self.addCleanup(a.close)
        self.assertEqual(a.status, 101)
        self.assertEqual(a.recv_data(), ("text", {"type": "connected", "session_id": pid, "mode": "pipe"}))
        a.send(2, b"\x00abc\n")
        self.assertEqual(a.recv_data(), ("binary", b"\x01abc\n"))
        a.send_json({"type": "ping"})
        self.assertEqual(a.recv_data(), ("text", {"type": "pong"}))
        a.send_json({"type": "bogus"})
        self.assertEqual(a.recv_data(), ("text", {"type": "error", "error": 'unknown frame type "bogus"',
                                                  "code": "INVALID_FRAME"}))
        self.assertTrue(self.x("GET", "/pty/" + pid, ep=ep).json()["running"])
        b = WSClient(ep + "/pty/%s/ws" % pid)
        self.addCleanup(b.close)
        self.assertEqual(b.status, 409)
        self.assertEqual(json.loads(b.body)["code"], "ALREADY_CONNECTED")
        c = WSClient(ep + "/pty/%s/ws?takeover=1&since=1" % pid)
        self.addCleanup(c.close)
        self.assertEqual(c.status, 101)
        op, data = a.recv()
        self.assertEqual((op, data[:2], data[2:]), (8, b"\x0f\xa1", b"TAKEN_OVER"))
        self.assertEqual(c.recv_data(), ("binary", b"\x03" + (1).to_bytes(8, "big") + b"bc\n"))
        self.assertEqual(c.recv_data()[1]["type"], "connected")
        c.send_json({"type": "signal", "signal": "SIGTERM"})
        self.assertEqual(c.recv_data(), ("text", {"type": "exit", "exit_code": -1}))
        op, data = c.recv()
        self.assertEqual((op, data[:2]), (8, b"\x03\xe8"))
        st = self.x("GET", "/pty/" + pid, ep=ep).json()
        self.assertEqual((st["running"], st["output_offset"]), (False, 4))
        self.assertEqual(self.x("DELETE", "/pty/" + pid, ep=ep).status, 200)
        r = self.x("GET", "/pty/" + pid, ep=ep)
        self.assertEqual((r.status, r.json()["code"]), (404, "CONTEXT_NOT_FOUND"))
        w = WSClient(ep + "/pty/%s/ws" % pid)
        self.addCleanup(w.close)
        self.assertEqual(w.status, 404)

    def test_pty_websocket_through_the_server_proxy(self):
        sid = self.shared_sandbox()
        ep = self.execd()
        pid = self.x("POST", "/pty", {"command": "cat"}, ep=ep).json()["session_id"]
        proxy = "%s/v1/sandboxes/%s/proxy/44772" % (self.srv.domain, sid)
        ws = WSClient(proxy + "/pty/%s/ws?pty=0" % pid)
        self.addCleanup(ws.close)
        self.assertEqual(ws.status, 101)
        self.assertEqual(ws.recv_data(), ("text", {"type": "connected", "session_id": pid, "mode": "pipe"}))
        ws.send(2, b"\x00via-proxy\n")
        self.assertEqual(ws.recv_data(), ("binary", b"\x01via-proxy\n"))
        ws.send_json({"type": "ping"})
        self.assertEqual(ws.recv_data(), ("text", {"type": "pong"}))
        # a session execd refuses (404 before the upgrade): accepted, then closed with 1008
        bad = WSClient(proxy + "/pty/no-such-session/ws")
        self.addCleanup(bad.close)
        self.assertEqual(bad.status, 101)
        self.assertEqual(bad.recv(), (8, b"\x03\xf0"))
        # an unknown sandbox: accepted, then closed with 1011
        gone = WSClient("%s/v1/sandboxes/nope/proxy/44772/pty/%s/ws" % (self.srv.domain, pid))
        self.addCleanup(gone.close)
        self.assertEqual(gone.status, 101)
        op, data = gone.recv()
        self.assertEqual((op, data[:2]), (8, b"\x03\xf3"))
        # not a WebSocket handshake on the proxy route: 400
        r = request("POST", proxy + "/pty/%s/ws" % pid, headers={"Upgrade": "websocket"})
        self.assertEqual(r.status, 400)
        self.x("DELETE", "/pty/" + pid, ep=ep)

    def test_pty_websocket_refuses_unmasked_frames(self):
        ep = self.execd()
        pid = self.x("POST", "/pty", {"command": "cat"}, ep=ep).json()["session_id"]
        ws = WSClient(ep + "/pty/%s/ws?pty=0" % pid)
        self.addCleanup(ws.close)
        self.assertEqual(ws.recv_data()[1]["type"], "connected")
        ws.sock.sendall(b"\x82\x03\x00ab")   # unmasked: execd (gorilla) fails the connection
        op, data = ws.recv()
        self.assertEqual((op, data[:2]), (8, b"\x03\xea"))   # 1002
        r = request("GET", ep + "/pty/%s/ws" % pid, headers={"Upgrade": "websocket", "Connection": "Upgrade",
                                                             "Sec-WebSocket-Key": "x", "Sec-WebSocket-Version": "13"})
        self.assertEqual(r.status, 400)   # not a 16-byte key
        self.x("DELETE", "/pty/" + pid, ep=ep)

    def test_pty_mode_shell_runs_and_exits(self):
        ep = self.execd()
        pid = self.x("POST", "/pty", {"cwd": self.tmpdir()}, ep=ep).json()["session_id"]
        ws = WSClient(ep + "/pty/%s/ws" % pid)
        self.addCleanup(ws.close)
        kind, data = ws.recv_data()
        if kind == "binary":   # the prompt, when the shell printed it before the attach (replay)
            self.assertEqual(data[:1], b"\x03")
            kind, data = ws.recv_data()
        self.assertEqual(data["mode"], "pty")
        ws.send_json({"type": "resize", "cols": 120, "rows": 40})
        ws.send_json({"type": "stdin", "data": "echo pty-$((6*7)); exit 5\n"})
        out = b""
        while True:
            kind, data = ws.recv_data()
            if kind == "binary":
                self.assertEqual(data[:1], b"\x01")
                out += data[1:]
            else:
                break
        self.assertIn(b"pty-42", out)
        self.assertEqual((kind, data), ("text", {"type": "exit", "exit_code": 5}))


# ====================================================================== egress


class TestEgress(Base):
    def egress(self, **create):
        sid = self.create(**create)
        ep = self.endpoint(sid, 18080)
        return ep["endpoint"], ep.get("headers", {})

    def test_policy(self):
        ep, h = self.egress(networkPolicy={"defaultAction": "deny", "egress": [
            {"action": "allow", "target": "a.com"}, {"action": "deny", "target": "b.com"}]})
        r = request("GET", ep + "/policy", headers=h)
        self.assertEqual(r.h("Content-Type"), "application/json")
        self.assertTrue(r.body.endswith(b"}\n"))
        self.assertEqual(r.body, b'{"status":"ok","mode":"enforcing","enforcementMode":"dns","policy":'
                         b'{"egress":[{"action":"allow","target":"a.com"},{"action":"deny",'
                         b'"target":"b.com"}],"defaultAction":"deny"}}\n')
        r = request("PATCH", ep + "/policy", [{"action": "allow", "target": "B.com"},
                                              {"action": "deny", "target": "b.com"}], h)
        self.assertEqual(r.json(), {"status": "ok", "mode": "enforcing", "enforcementMode": "dns"})
        self.assertEqual(request("GET", ep + "/policy", headers=h).json()["policy"]["egress"],
                         [{"action": "allow", "target": "B.com"}, {"action": "allow", "target": "a.com"}])
        r = request("PATCH", ep + "/policy", [{"action": " ALLOW ", "target": " n.com "},
                                              {"action": "", "target": "d.com"}], h)
        self.assertEqual(r.status, 200)
        self.assertEqual(request("GET", ep + "/policy", headers=h).json()["policy"]["egress"][:2],
                         [{"action": "allow", "target": "n.com"}, {"action": "deny", "target": "d.com"}])
        request("DELETE", ep + "/policy", ["n.com", "d.com"], h)
        r = request("DELETE", ep + "/policy", ["nothing.org"], h)
        self.assertEqual(r.json()["reason"], "no matching targets found")
        r = request("DELETE", ep + "/policy", ["b.COM", "a.com"], h)
        self.assertEqual(r.json(), {"status": "ok", "mode": "deny_all", "enforcementMode": "dns"})
        self.assertIsNone(request("GET", ep + "/policy", headers=h).json()["policy"]["egress"])
        for m, body, msg in (("PATCH", b"", "empty body\n"),
                             ("PATCH", [], "invalid patch rules: empty array\n"),
                             ("DELETE", [], "invalid delete targets: empty array\n"),
                             ("PATCH", [{"action": "maybe", "target": "x.com"}], None)):
            r = request(m, ep + "/policy", body, h)
            self.assertEqual(r.status, 400)
            self.assertEqual(r.h("Content-Type"), "text/plain; charset=utf-8")
            if msg:
                self.assertEqual(r.text, msg)
        r = request("POST", ep + "/policy", b"", h)
        self.assertEqual(r.json(), {"status": "ok", "mode": "deny_all",
                                    "reason": "policy reset to default deny-all"})
        r = request("PUT", ep + "/policy", {"defaultAction": "allow"}, h)
        self.assertEqual(r.json()["mode"], "allow_all")
        r = request("PATCH", ep + "/policy", [{"action": "allow", "target": "h%d.example.com" % i}
                                              for i in range(4097)], h)
        self.assertEqual((r.status, r.text), (413, "egress rule total count 4097 exceeds limit 4096\n"))
        r = request("HEAD", ep + "/policy", headers=h)
        self.assertEqual((r.status, r.h("Allow")), (405, "GET, POST, PUT, PATCH, DELETE"))

    def test_auth_health_and_misc(self):
        ep, h = self.egress(networkPolicy={})
        r = request("GET", ep + "/policy")
        self.assertEqual((r.status, r.body), (401, b"unauthorized\n"))
        self.assertEqual(r.h("Content-Type"), "text/plain; charset=utf-8")
        self.assertEqual(request("GET", ep + "/policy", headers=h).json()["mode"], "deny_all")
        r = request("GET", ep + "/healthz")
        self.assertEqual((r.status, r.body), (200, b"ok"))
        r = request("GET", ep + "/credential-vault/_active", headers=h)
        self.assertEqual(r.status, 403)
        r = request("GET", ep + "/credential-vault/other", headers=h)
        self.assertEqual((r.status, r.body), (404, b"not found\n"))
        r = request("POST", ep + "/credential-vault/credentials", {}, h)
        self.assertEqual((r.status, r.h("Allow")), (405, "GET"))
        # 412 without credentialProxy
        r = request("POST", ep + "/credential-vault", {"credentials": []}, h)
        self.assertEqual((r.status, r.body), (412, b"credential vault requires transparent mitmproxy\n"))

    def test_credential_vault(self):
        ep, h = self.egress(networkPolicy={"defaultAction": "deny", "egress": [
            {"action": "allow", "target": "api.github.com"}]}, credentialProxy={"enabled": True})
        self.assertEqual(request("GET", ep + "/credential-vault", headers=h).status, 404)
        body = {"credentials": [{"name": "gh", "source": {"type": "inline", "value": "ghp_x"}}],
                "bindings": [{"name": "github-api", "match": {"hosts": ["API.github.com"]},
                              "auth": {"type": "bearer", "credential": "gh"}}]}
        r = request("POST", ep + "/credential-vault", body, h)
        self.assertEqual(r.status, 201, r.text)
        self.assertEqual(r.json(), {
            "revision": 1, "credentials": [{"name": "gh", "sourceType": "inline", "revision": 1}],
            "bindings": [{"name": "github-api", "revision": 1, "match": {
                "schemes": ["https"], "ports": [443], "hosts": ["api.github.com"],
                "methods": ["GET", "POST", "PUT", "PATCH", "DELETE"], "paths": ["/*"]},
                "auth": {"type": "bearer"}}]})
        self.assertNotIn(b"ghp_x", r.body)
        r = request("POST", ep + "/credential-vault", body, h)
        self.assertEqual((r.status, r.text), (409, "credential vault already exists\n"))
        r = request("PATCH", ep + "/credential-vault", {"expectedRevision": 5}, h)
        self.assertEqual((r.status, r.text), (409, "expectedRevision 5 does not match current revision 1\n"))
        r = request("PATCH", ep + "/credential-vault", {"expectedRevision": 1, "credentials": {
            "add": [{"name": "k2", "source": {"value": "v"}}]}}, h)
        self.assertEqual(r.status, 200, r.text)
        v = r.json()
        self.assertEqual(v["revision"], 2)
        self.assertEqual([(c["name"], c["revision"]) for c in v["credentials"]], [("gh", 1), ("k2", 2)])
        self.assertEqual(v["bindings"][0]["revision"], 2)
        r = request("PATCH", ep + "/credential-vault", {"bogus": 1}, h)
        self.assertEqual(r.status, 400)
        self.assertTrue(r.text.startswith("invalid credential vault mutation request"))
        r = request("GET", ep + "/credential-vault/credentials/k2", headers=h)
        self.assertEqual(r.json(), {"name": "k2", "sourceType": "inline", "revision": 2})
        self.assertEqual(request("GET", ep + "/credential-vault/bindings/none", headers=h).text,
                         "binding not found\n")
        self.assertEqual(request("GET", ep + "/credential-vault/bindings", headers=h).json()["revision"], 2)
        # a binding host must stay covered by the policy
        r = request("DELETE", ep + "/policy", ["api.github.com"], h)
        self.assertEqual(r.status, 400)
        self.assertEqual(request("DELETE", ep + "/credential-vault", headers=h).status, 204)
        self.assertEqual(request("GET", ep + "/credential-vault", headers=h).status, 404)


# ====================================================================== separate servers


class TestExecdToken(Base):
    @classmethod
    def setUpClass(cls):
        cls.server = DevServer("--api-key", "", "--execd-token", "s3cret")

    @classmethod
    def tearDownClass(cls):
        cls.server.stop()

    def test_token_required_everywhere(self):
        # no API key configured: lifecycle accepts everything
        r = request("GET", self.srv.domain + "/v1/sandboxes")
        self.assertEqual(r.status, 200)
        sid = self.create()
        ep = self.endpoint(sid)
        # the lifecycle server never hands the execd token out: the client brings it
        self.assertNotIn("headers", ep)
        ep["headers"] = {"X-EXECD-ACCESS-TOKEN": "s3cret"}
        base = ep["endpoint"]
        for path in ("/ping", "/nope", "/files/info?path=/"):
            r = request("GET", base + path)
            self.assertEqual(r.status, 401, path)
            self.assertEqual(r.h("Content-Type"), "application/json; charset=utf-8")
            self.assertEqual(r.json(), {"error": "Unauthorized: invalid or missing header "
                                                 "X-EXECD-ACCESS-TOKEN"})
        self.assertEqual(request("GET", base + "/ping", headers={"X-EXECD-ACCESS-TOKEN": "S3CRET"}).status,
                         401)
        self.assertEqual(request("GET", base + "/ping", headers=ep["headers"]).status, 200)


class TestHeaderGatewayAndSwitches(Base):
    """--endpoint-mode k8s-header plus the behaviour switches."""

    @classmethod
    def setUpClass(cls):
        cls.server = DevServer("--api-key", KEY, "--endpoint-mode", "k8s-header", "--spec-mode", "2",
                               "--stream-errors", "event", "--no-code-interpreter",
                               "--vault-state", "not-ready")

    @classmethod
    def tearDownClass(cls):
        cls.server.stop()

    def test_spec_mode_pending_then_running(self):
        r = self.api("POST", "/v1/sandboxes", {"image": {"uri": "a"}, "entrypoint": ["x"],
                                               "resourceLimits": {}})
        sid = r.json()["id"]
        self.addCleanup(self.quiet_delete, self.srv.domain, sid)
        self.assertEqual(r.json()["status"]["state"], "Pending")
        states = [self.api("GET", "/v1/sandboxes/" + sid).json()["status"]["state"] for _ in range(3)]
        self.assertEqual(states, ["Pending", "Running", "Running"])

    def test_header_routing_and_signed_routes(self):
        sid = self.create()
        ep = self.endpoint(sid)
        self.assertEqual(ep["headers"], {"OpenSandbox-Ingress-To": "%s-44772" % sid})
        self.assertNotIn("/", ep["endpoint"])
        self.assertEqual(request("GET", ep["endpoint"] + "/ping", headers=ep["headers"]).status, 200)
        r = request("GET", ep["endpoint"] + "/ping")
        self.assertEqual(r.status, 400)
        self.assertTrue(r.text.startswith("OpenSandbox Ingress: "))
        r = request("GET", ep["endpoint"] + "/ping", headers={"OpenSandbox-Ingress-To":
                                                              "%s-44772" % uuid.uuid4()})
        self.assertEqual(r.status, 404)
        r = self.api("GET", "/v1/sandboxes/%s/endpoints/44772?expires=%d" % (sid, time.time() + 600))
        signed = r.json()["headers"]["OpenSandbox-Ingress-To"]
        self.assertRegex(signed, "^%s-44772-[0-9a-z]+-[0-9a-f]+$" % sid)
        self.assertEqual(request("GET", ep["endpoint"] + "/ping",
                                 headers={"OpenSandbox-Ingress-To": signed}).status, 200)
        bad = signed[:-1] + ("0" if signed[-1] != "0" else "1")
        self.assertEqual(request("GET", ep["endpoint"] + "/ping",
                                 headers={"OpenSandbox-Ingress-To": bad}).status, 401)
        r = self.api("GET", "/v1/sandboxes/%s/endpoints/44772?expires=1" % sid)
        self.assertEqual(r.status, 400)

    def test_stream_error_switch_and_no_code_interpreter(self):
        sid = self.create()
        ep = self.endpoint(sid)
        h = dict(ep["headers"], **{"Content-Type": "application/json"})
        s = request("POST", ep["endpoint"] + "/session", {}, h).json()["session_id"]
        r = request("POST", ep["endpoint"] + "/session/%s/run" % s, {"command": "sleep 10", "timeout": 200}, h)
        last = events(r.body)[-1]
        self.assertEqual(last["type"], "error")
        self.assertEqual(last["error"]["evalue"], "error running in session. timeout after 200ms")
        r = request("POST", ep["endpoint"] + "/code", {"context": {"language": "python"}, "code": "1"}, h)
        self.assertEqual(r.status, 500)
        self.assertEqual(r.json()["message"], "error running codes language runtime server not "
                         "configured, please check your image runtime")

    def test_vault_not_ready(self):
        sid = self.create(networkPolicy={"egress": [{"action": "allow", "target": "a.com"}]},
                          credentialProxy={"enabled": True})
        ep = self.endpoint(sid, 18080)
        r = request("POST", ep["endpoint"] + "/credential-vault", {"credentials": []}, ep["headers"])
        self.assertEqual((r.status, r.text), (412, "credential proxy is not ready\n"))


class TestUriGateway(Base):
    @classmethod
    def setUpClass(cls):
        cls.server = DevServer("--api-key", KEY, "--endpoint-mode", "k8s-uri",
                               "--vault-state", "insecure-transport")

    @classmethod
    def tearDownClass(cls):
        cls.server.stop()

    def test_uri_routing_and_signed_routes(self):
        sid = self.create(networkPolicy={"egress": [{"action": "allow", "target": "a.com"}]},
                          credentialProxy={"enabled": True})
        ep = self.endpoint(sid)
        self.assertRegex(ep["endpoint"], r"^127\.0\.0\.1:\d+/%s/44772$" % sid)
        self.assertNotIn("headers", ep)
        self.assertEqual(request("GET", ep["endpoint"] + "/ping").status, 200)
        r = request("POST", ep["endpoint"] + "/command", {"command": "echo uri"},
                    {"Content-Type": "application/json"})
        self.assertIn("uri", [e.get("text") for e in events(r.body)])
        r = self.api("GET", "/v1/sandboxes/%s/endpoints/44772?expires=%d" % (sid, time.time() + 600))
        signed = r.json()["endpoint"]
        self.assertRegex(signed, r"/%s/44772/[0-9a-z]+/[0-9a-f]+$" % sid)
        self.assertEqual(request("GET", signed + "/ping").status, 200)
        eg = self.endpoint(sid, 18080)
        r = request("POST", eg["endpoint"] + "/credential-vault", {"credentials": []}, eg["headers"])
        self.assertEqual((r.status, r.text), (426, "credential vault writes require TLS or loopback "
                                                   "transport\n"))


class TestRunEntrypoint(Base):
    @classmethod
    def setUpClass(cls):
        cls.server = DevServer("--api-key", KEY, "--run-entrypoint")

    @classmethod
    def tearDownClass(cls):
        cls.server.stop()

    def wait_state(self, sid, state):
        deadline = time.time() + 20
        while True:
            st = self.api("GET", "/v1/sandboxes/" + sid).json()["status"]
            if st["state"] == state:
                return st
            self.assertLess(time.time(), deadline, st)
            time.sleep(0.05)

    def test_entrypoint_exit_states_and_logs(self):
        sid = self.create(entrypoint=["sh", "-c", "echo started-$((40+2)); exit 3"])
        st = self.wait_state(sid, "Failed")
        self.assertEqual((st["reason"], st["message"]),
                         ("CONTAINER_EXITED_ERROR", "Sandbox container exited with code 3."))
        r = self.api("GET", "/v1/sandboxes/%s/diagnostics/logs" % sid)
        self.assertIn("started-42", r.text)
        sid = self.create(entrypoint=["true"])
        self.assertEqual(self.wait_state(sid, "Terminated")["reason"], "CONTAINER_EXITED")
        sid = self.create(entrypoint=["/nonexistent/entrypoint"])
        self.wait_state(sid, "Failed")

    def test_long_running_entrypoint_and_renew_on_access(self):
        sid = self.create(entrypoint=["sleep", "60"], timeout=120,
                          extensions={"access.renew.extend.seconds": "3600"})
        before = self.api("GET", "/v1/sandboxes/" + sid).json()
        self.assertEqual(before["status"]["state"], "Running")
        r = request("GET", self.srv.domain + "/v1/sandboxes/%s/proxy/44772/ping" % sid)
        self.assertEqual(r.status, 200)
        after = self.api("GET", "/v1/sandboxes/" + sid).json()
        self.assertGreater(after["expiresAt"], before["expiresAt"])


class TestRecordingAndShutdown(Base):
    def test_record_format(self):
        d = tempfile.mkdtemp(prefix="osb-rec-")
        self.addCleanup(shutil.rmtree, d, True)
        log = os.path.join(d, "log.jsonl")
        srv = DevServer("--api-key", KEY, record=log)
        try:
            self.server = srv
            sid = self.create()
            ep = self.execd(sid)
            request("POST", ep + "/command", {"command": "echo rec"})
            request("GET", ep + "/files/download?path=/nonexistent")
        finally:
            self.server = None
            srv.stop()
        with open(log) as f:
            recs = [json.loads(line) for line in f]
        keys = ["seq", "t", "method", "path", "query", "requestHeaders", "requestBody", "status",
                "responseHeaders", "responseBody"]
        for rec in recs:
            self.assertEqual(sorted(rec), sorted(keys))
        self.assertEqual(sorted(r["seq"] for r in recs), list(range(1, len(recs) + 1)))
        paths = [r["path"] for r in recs]
        self.assertIn("/v1/sandboxes", paths)
        self.assertIn("/command", paths)  # /proxy/44772 prefix folded away
        cmd = [r for r in recs if r["path"] == "/command"][0]
        self.assertIn("rec", cmd["responseBody"]["text"])
        self.assertEqual(json.loads(cmd["requestBody"]["text"]), {"command": "echo rec"})
        dl = [r for r in recs if r["path"] == "/files/download"][0]
        self.assertEqual((dl["query"], dl["status"]), ("path=/nonexistent", 404))

    def test_with_devserver_wrapper(self):
        script = ("import os, json, sys, http.client\n"
                  "d = os.environ['OSB_DEVSERVER_DOMAIN']; k = os.environ['OSB_DEVSERVER_API_KEY']\n"
                  "h, p = d.split(':'); c = http.client.HTTPConnection(h, int(p), timeout=10)\n"
                  "c.request('GET', '/v1/sandboxes', headers={'OPEN-SANDBOX-API-KEY': k})\n"
                  "sys.exit(3 if c.getresponse().status == 200 else 1)\n")
        wrapper = os.path.join(ROOT, "tools", "devserver", "with_devserver.py")
        p = subprocess.run([sys.executable, wrapper, "--api-key", "wk", "--", sys.executable, "-c", script],
                           stdin=subprocess.DEVNULL, timeout=60)
        self.assertEqual(p.returncode, 3)

    def test_sigterm_kills_children(self):
        srv = DevServer("--api-key", KEY)
        marker = "osb-sigterm-" + uuid.uuid4().hex[:12]
        try:
            self.server = srv
            ep = self.execd(self.create())
            r = request("POST", ep + "/command", {"command": "exec -a %s sleep 300" % marker,
                                                  "background": True})
            self.assertEqual(r.status, 200)
            deadline = time.time() + 10
            pids = []
            while not pids:  # the sandbox has its own PIDs: find it by its name on the host
                self.assertLess(time.time(), deadline)
                pids = pids_with_argv0(marker)
                time.sleep(0.05)
        finally:
            self.server = None
            srv.stop()
        self.assertEqual(srv.proc.returncode, 0)
        deadline = time.time() + 10
        while pids_with_argv0(marker, zombies=False):
            self.assertLess(time.time(), deadline, "child survived shutdown")
            time.sleep(0.05)


def pids_with_argv0(name, zombies=True):
    """Host pids whose argv[0] is name (zombies awaiting their reaper only when zombies)."""
    out = []
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open("/proc/%s/cmdline" % d, "rb") as f:
                argv0 = f.read().split(b"\0")[0]
            with open("/proc/%s/stat" % d) as f:
                state = f.read().split(") ")[1][:1]
        except OSError:
            continue
        if argv0 == name.encode() and (zombies or state != "Z"):
            out.append(int(d))
    return out


def watchdog():
    """Bound the suite's running time even if a request hangs: stop the servers and exit."""
    def fire():
        sys.stderr.write("\ntest_devserver: time limit of %d s exceeded, stopping\n" % SUITE_TIME_LIMIT)
        for s in list(RUNNING):
            try:
                s.proc.terminate()  # lets the server kill what it started
                s.proc.wait(timeout=5)
            except (OSError, subprocess.TimeoutExpired):
                s.proc.kill()
        os._exit(2)
    t = threading.Timer(SUITE_TIME_LIMIT, fire)
    t.daemon = True
    t.start()


if __name__ == "__main__":
    watchdog()
    unittest.main()
