#!/usr/bin/env python3
"""Records a short, valid client session against tools/devserver for the conformance check.

    python3 tests/conformance/session.py LOG.jsonl

Starts the dev server with --record LOG.jsonl (and an execd access token), drives every API
area once with well-formed requests (lifecycle, execd, egress), stops the server.  Then:
    tests/conformance/check.sh LOG.jsonl
"""

import json
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "devserver"))

from test_devserver import DevServer, events, multipart, request  # noqa: E402

KEY = "conformance-key"
TOKEN = "conformance-execd-token"
JSON = {"Content-Type": "application/json"}


def main(log):
    if os.path.exists(log):
        os.unlink(log)
    srv = DevServer("--api-key", KEY, "--execd-token", TOKEN, "--command-grace", "0.1", record=log)
    try:
        drive(srv.domain)
    finally:
        srv.stop()
    with open(log) as f:
        n = sum(1 for _ in f)
    print("recorded %d exchanges into %s" % (n, log))


def check(r, *ok):
    if r.status not in ok:
        raise SystemExit("unexpected %d: %s" % (r.status, r.text[:300]))
    return r


def drive(domain):
    lc = dict(JSON, **{"OPEN-SANDBOX-API-KEY": KEY})
    auth = {"OPEN-SANDBOX-API-KEY": KEY}

    def api(method, path, body=None, ok=(200,)):
        return check(request(method, domain + path, body, lc if body is not None else auth), *ok)

    # ---------------------------------------------------------------- lifecycle
    check(request("GET", domain + "/v1/sandboxes"), 401)
    sb = api("POST", "/v1/sandboxes", {
        "image": {"uri": "python:3.11"}, "entrypoint": ["tail", "-f", "/dev/null"],
        "resourceLimits": {"cpu": "500m", "memory": "512Mi"}, "timeout": 600,
        "env": {"GREETING": "hello"}, "metadata": {"team": "ml", "suite": "conformance"},
        "networkPolicy": {"defaultAction": "deny", "egress": [{"action": "allow", "target": "pypi.org"},
                                                            {"action": "allow", "target": "api.github.com"}]},
        "credentialProxy": {"enabled": True}}, ok=(202,)).json()
    sid = sb["id"]
    api("GET", "/v1/sandboxes/" + sid)
    api("GET", "/v1/sandboxes?state=Running&metadata=team%3Dml&page=1&pageSize=10")
    api("GET", "/v1/sandboxes/00000000-0000-4000-8000-000000000000", ok=(404,))
    api("PATCH", "/v1/sandboxes/%s/metadata" % sid, {"owner": "ci", "suite": None})
    api("POST", "/v1/sandboxes/%s/renew-expiration" % sid, {"expiresAt": "2099-01-01T00:00:00Z"})
    api("POST", "/v1/sandboxes/%s/pause" % sid, ok=(202,))
    api("POST", "/v1/sandboxes/%s/resume" % sid, ok=(202,))
    api("POST", "/v1/sandboxes/%s/resume" % sid, ok=(409,))
    ex = api("GET", "/v1/sandboxes/%s/endpoints/44772" % sid).json()
    eg = api("GET", "/v1/sandboxes/%s/endpoints/18080" % sid).json()
    api("GET", "/v1/sandboxes/%s/endpoints/8080?use_server_proxy=true" % sid)
    api("GET", "/v1/sandboxes/%s/diagnostics/logs?scope=container" % sid, ok=(501,))
    api("GET", "/v1/sandboxes/%s/diagnostics/events?scope=container" % sid, ok=(501,))
    snap = api("POST", "/v1/sandboxes/%s/snapshots" % sid, {"name": "checkpoint"}, ok=(202,)).json()
    deadline = time.time() + 20
    while api("GET", "/v1/snapshots/" + snap["id"]).json()["status"]["state"] != "Ready":
        if time.time() > deadline:
            raise SystemExit("snapshot never became Ready")
        time.sleep(0.2)
    api("GET", "/v1/snapshots?sandboxId=%s&page=1&pageSize=5" % sid)
    restored = api("POST", "/v1/sandboxes", {"snapshotId": snap["id"], "resourceLimits": {}},
                   ok=(202,)).json()
    api("DELETE", "/v1/sandboxes/" + restored["id"], ok=(204,))
    api("DELETE", "/v1/snapshots/" + snap["id"], ok=(204,))

    # ---------------------------------------------------------------- execd
    # the lifecycle server never hands out the execd token: the client brings it
    ep, eh = ex["endpoint"], dict(ex.get("headers", {}), **{"X-EXECD-ACCESS-TOKEN": TOKEN})
    jh = dict(JSON, **eh)

    def x(method, path, body=None, ok=(200,), headers=None):
        h = dict(jh if isinstance(body, (dict, list)) else eh)
        h.update(headers or {})
        return check(request(method, ep + path, body, h), *ok)

    check(request("GET", ep + "/ping"), 401)
    x("GET", "/ping")
    x("POST", "/command", {"command": "echo $GREETING; echo warn >&2"})
    x("POST", "/command", {"command": "exit 3", "timeout": 10000})
    bg = events(x("POST", "/command", {"command": "echo started; sleep 0.3; echo done",
                                       "background": True}).body)[0]["text"]
    x("GET", "/command/%s/logs?cursor=0" % bg)
    while request("GET", ep + "/command/status/" + bg, headers=eh).json()["running"]:
        time.sleep(0.1)
    x("GET", "/command/status/" + bg)
    x("GET", "/command/%s/logs?cursor=8" % bg)
    long_bg = events(x("POST", "/command", {"command": "sleep 30", "background": True}).body)[0]["text"]
    x("DELETE", "/command?id=" + long_bg)
    sess = x("POST", "/session", {"cwd": "/tmp"}).json()["session_id"]
    x("POST", "/session/%s/run" % sess, {"command": "export A=1; cd /"})
    x("POST", "/session/%s/run" % sess, {"command": "echo $A; pwd", "timeout": 10000})
    x("DELETE", "/session/" + sess)
    ctx = x("POST", "/code/context", {"language": "python"}).json()
    x("GET", "/code/contexts?language=python")
    x("GET", "/code/contexts/" + ctx["id"])
    c = {"id": ctx["id"], "language": "python"}
    x("POST", "/code", {"context": c, "code": "x = 40\nprint('hi')"})
    x("POST", "/code", {"context": c, "code": "x + 2"})
    x("POST", "/code", {"context": c, "code": "undefined_name"})
    x("DELETE", "/code/contexts/" + ctx["id"])
    x("DELETE", "/code/contexts?language=python")

    d = "/tmp/osb-conformance-%d" % os.getpid()
    x("POST", "/directories", {d: {"mode": 755}})
    body, ct = multipart([("metadata", "metadata", json.dumps({"path": d + "/hello.txt", "mode": 644})),
                          ("file", "hello.txt", "hello world\n")])
    x("POST", "/files/upload", body, headers={"Content-Type": ct})
    x("GET", "/files/info?path=%s/hello.txt" % d)
    x("GET", "/files/download?path=%s/hello.txt" % d)
    x("GET", "/files/download?path=%s/hello.txt" % d, headers={"Range": "bytes=0-4"}, ok=(206,))
    x("GET", "/files/search?path=%s&pattern=*.txt" % d)
    x("POST", "/files/replace?verbose=true", {d + "/hello.txt": {"old": "world", "new": "there"}})
    x("POST", "/files/permissions", {d + "/hello.txt": {"mode": 600}})
    x("POST", "/files/mv", [{"src": d + "/hello.txt", "dest": d + "/sub/moved.txt"}])
    x("GET", "/directories/list?path=%s&depth=2" % d)
    x("GET", "/files/info?path=%s/none" % d, ok=(404,))
    x("DELETE", "/files?path=%s/sub/moved.txt" % d)
    x("DELETE", "/directories?path=" + d)
    x("GET", "/metrics")

    # ---------------------------------------------------------------- egress
    gp, gh = eg["endpoint"], dict(eg.get("headers", {}))
    gh.update(eh)  # egress is reached through execd's /proxy/18080
    gjh = dict(JSON, **gh)

    def g(method, path, body=None, ok=(200,)):
        return check(request(method, gp + path, body, gjh if body is not None else gh), *ok)

    g("GET", "/policy")
    g("PATCH", "/policy", [{"action": "allow", "target": "*.example.com"}])
    g("DELETE", "/policy", ["*.example.com"])
    g("GET", "/credential-vault", ok=(404,))
    g("POST", "/credential-vault", {
        "credentials": [{"name": "gh", "source": {"type": "inline", "value": "ghp_secret"}}],
        "bindings": [{"name": "github-api", "match": {"hosts": ["api.github.com"], "paths": ["/repos/*"]},
                      "auth": {"type": "bearer", "credential": "gh"}}]}, ok=(201,))
    g("GET", "/credential-vault")
    g("PATCH", "/credential-vault", {"expectedRevision": 1, "credentials": {
        "add": [{"name": "key2", "source": {"type": "inline", "value": "v2"}}]}})
    g("PATCH", "/credential-vault", {"expectedRevision": 1}, ok=(409,))
    g("GET", "/credential-vault/credentials")
    g("GET", "/credential-vault/credentials/gh")
    g("GET", "/credential-vault/bindings")
    g("GET", "/credential-vault/bindings/github-api")
    g("DELETE", "/credential-vault", ok=(204,))

    api("DELETE", "/v1/sandboxes/" + sid, ok=(204,))


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: session.py LOG.jsonl")
    main(sys.argv[1])
