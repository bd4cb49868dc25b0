"""Egress sidecar API (PROTOCOL.md section 4): policy and Credential Vault, in memory."""

import ipaddress
import json
import re
import threading

from . import gojson
from .common import go_json

MAX_RULES = 4096
TOKEN_RE = re.compile(r"^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$")
FQDN_RE = re.compile(r"^(?=.{1,253}$)([a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?)(\.[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?)+$")
FORBIDDEN_HEADERS = {h.lower() for h in (
    "Host", "Content-Length", "Content-Type", "Transfer-Encoding", "Connection", "Upgrade", "TE",
    "Trailer", "Proxy-Authorization", "Proxy-Authenticate", "Forwarded", "X-Forwarded-For",
    "X-Forwarded-Host", "X-Forwarded-Proto")}
DEFAULT_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE"]


class EgressError(Exception):
    def __init__(self, status, message):
        Exception.__init__(self, message)
        self.status = status
        self.message = message


def canonical_header(name):
    return "-".join(p[:1].upper() + p[1:].lower() for p in name.split("-"))


EGRESS_RULE = gojson.struct("policy.EgressRule", [("action", gojson.STRING),
                                                  ("target", gojson.STRING)])
RULE_LIST = gojson.list_of(EGRESS_RULE, "[]policy.EgressRule")
NETWORK_POLICY = gojson.struct("policy.NetworkPolicy", [("egress", RULE_LIST),
                                                        ("defaultAction", gojson.STRING)])


def norm_rule(r):
    """policy.normalizePolicy for one decoded rule."""
    action, target = r["action"], r["target"]
    action = action.strip().lower() or "deny"
    if action not in ("allow", "deny"):
        raise ValueError('unsupported action "%s"' % action)
    target = target.strip()
    if not target:
        raise ValueError("egress target cannot be empty")
    return {"action": action, "target": target}


def host_matches(target, host):
    t, h = target.lower(), host.lower()
    if t.startswith("*."):
        return h.endswith(t[1:]) and h != t[2:]
    return t == h


def is_ip_target(t):
    try:
        ipaddress.ip_network(t, strict=False)
        return True
    except ValueError:
        return False


class Egress(object):
    def __init__(self, network_policy, token, credential_proxy, vault_state="ready"):
        self.vault_state = vault_state
        self.lock = threading.Lock()
        self.token = token
        self.credential_proxy = credential_proxy
        np_ = network_policy or {}
        self.rules = []
        for r in np_.get("egress") or []:
            try:
                self.rules.append(norm_rule({"action": str(r.get("action") or ""),
                                             "target": str(r.get("target") or "")}))
            except (ValueError, AttributeError):
                pass
        da = np_.get("defaultAction")
        self.default = (da.strip().lower() if isinstance(da, str) else "") or "deny"
        self.enforcement = "dns"
        self.vault = None

    # ------------------------------------------------------------ plumbing

    def text(self, resp, status, msg, extra=()):
        resp.send(status, [("Content-Type", "text/plain; charset=utf-8"),
                           ("X-Content-Type-Options", "nosniff")] + list(extra),
                  (msg + "\n").encode("utf-8"))

    def json(self, resp, status, obj):
        resp.send(status, [("Content-Type", "application/json")], (go_json(obj) + "\n").encode("utf-8"))

    def handle(self, req, resp):
        path = req.path
        if path == "/healthz":
            return resp.send(200, [("Content-Type", "text/plain; charset=utf-8")], b"ok")
        if path == "/credential-vault/_active":  # answered before the token check
            if req.method != "GET":
                return self.text(resp, 405, "method not allowed", [("Allow", "GET")])
            return self.text(resp, 403, "forbidden")
        known = path == "/policy" or path == "/credential-vault" or path.startswith("/credential-vault/")
        if not known:
            return self.text(resp, 404, "404 page not found")
        if self.token and req.header("OPENSANDBOX-EGRESS-AUTH") != self.token:
            return self.text(resp, 401, "unauthorized")
        try:
            if path == "/policy":
                return self.policy(req, resp)
            return self.vault_route(req, resp, path)
        except EgressError as e:
            self.text(resp, e.status, e.message)

    def evaluate(self, domain):
        """policy.Evaluate for a DNS name: the first domain rule that matches (exact name, or
        `*.suffix` for names below it) decides, else the default action. IP and CIDR targets
        are not domain rules."""
        d = domain.lower().rstrip(".")
        with self.lock:
            rules, default = list(self.rules), self.default
        for r in rules:
            t = r["target"].strip().lower()
            if not t or is_ip_target(t):
                continue
            if (t.startswith("*.") and d.endswith(t[1:])) or t == d:
                return r["action"] or "deny"
        return default or "deny"

    def injection(self, scheme, host, port, method, path):
        """What the credential proxy does to a request (the sidecar's mitmproxy addon):
        (headers to set, values to redact from response headers), None when no binding
        matches, "ambiguous" when several match with the same precedence."""
        with self.lock:
            v = self.vault
            if v is None:
                return None
            bindings = [v["bindings"][n] for n in sorted(v["bindings"])]
            creds = {n: c["value"] for n, c in v["credentials"].items()}
        host = host.rstrip(".").lower()
        matches = []
        for b in bindings:
            m = b["match"]
            if scheme not in m["schemes"] or port not in m["ports"] or method.upper() not in m["methods"]:
                continue
            if not any(path.startswith(p[:-1]) if p.endswith("*") else path == p for p in m["paths"]):
                continue
            best = 0
            for pat in m["hosts"]:
                if pat.startswith("*."):
                    if host.endswith(pat[1:]) and host != pat[2:]:
                        best = max(best, 1)
                elif host == pat:
                    best = 2
            if best:
                matches.append((best, b))
        if not matches:
            return None
        top = max(p for p, _ in matches)
        chosen = [b for p, b in matches if p == top]
        if len(chosen) != 1:
            return "ambiguous"
        b = chosen[0]
        prefix = {"bearer": "Bearer ", "basic": "Basic "}.get(b["auth_meta"]["type"], "")
        headers = [(n, prefix + creds.get(r, "")) for n, r in zip(b["header_names"], b["refs"])]
        redact = set()
        for other in bindings:
            p = {"bearer": "Bearer ", "basic": "Basic "}.get(other["auth_meta"]["type"], "")
            for r in other["refs"]:
                if creds.get(r):
                    redact.add(creds[r])
                    if p:
                        redact.add(p + creds[r])
        return headers, sorted(redact, key=len, reverse=True)

    def mode(self, rules=None, default=None):
        rules = self.rules if rules is None else rules
        default = self.default if default is None else default
        if not rules and default in ("allow", "deny"):
            return "allow_all" if default == "allow" else "deny_all"
        return "enforcing"

    def read_json(self, req, t):
        """The trimmed body (at most 1 MiB) decoded as json.Unmarshal into t; (None, True) when
        empty.  ValueError carries Go's message."""
        raw = req.body[:1 << 20].strip(b" \t\r\n\v\f")
        if not raw:
            return None, True
        try:
            return gojson.decode(raw, t, whole=True), False
        except gojson.GoJSONError as e:
            raise ValueError(str(e))

    # ------------------------------------------------------------ policy

    def policy(self, req, resp):
        m = req.method
        if m == "GET":
            with self.lock:
                return self.json(resp, 200, {
                    "status": "ok", "mode": self.mode(), "enforcementMode": self.enforcement,
                    "policy": {"egress": list(self.rules) or None, "defaultAction": self.default}})
        if m in ("POST", "PUT"):
            if not req.body[:1 << 20].strip(b" \t\r\n\v\f"):
                with self.lock:
                    self._check_vault_cover([], "deny")
                    self.rules, self.default = [], "deny"
                return self.json(resp, 200, {"status": "ok", "mode": "deny_all",
                                             "reason": "policy reset to default deny-all"})
            try:
                body, _ = self.read_json(req, NETWORK_POLICY)
                rules = [norm_rule(r) for r in (body["egress"] or [])]
                # the sidecar takes any default action (lower-cased); only allow lets traffic out
                default = body["defaultAction"].strip().lower() or "deny"
            except ValueError as e:
                raise EgressError(400, "invalid policy: %s" % e)
            if MAX_RULES and len(rules) > MAX_RULES:
                raise EgressError(413, "egress rule total count %d exceeds limit %d"
                                  % (len(rules), MAX_RULES))
            with self.lock:
                self._check_vault_cover(rules, default)
                self.rules, self.default = rules, default
                return self.json(resp, 200, {"status": "ok", "mode": self.mode(),
                                             "enforcementMode": self.enforcement})
        if m == "PATCH":
            if not req.body[:1 << 20].strip(b" \t\r\n\v\f"):
                raise EgressError(400, "empty body")
            try:
                body, _ = self.read_json(req, RULE_LIST)
            except ValueError as e:
                raise EgressError(400, "invalid patch rules: %s" % e)
            if not body:
                raise EgressError(400, "invalid patch rules: empty array")
            try:
                incoming = [norm_rule(r) for r in body]
            except ValueError as e:
                raise EgressError(400, "invalid merged policy: %s" % e)
            with self.lock:
                merged, seen = [], set()
                for r in incoming:
                    k = r["target"].lower()
                    if k not in seen:
                        seen.add(k)
                        merged.append(r)
                for r in self.rules:
                    if r["target"].lower() not in seen:
                        merged.append(r)
                if MAX_RULES and len(merged) > MAX_RULES:
                    raise EgressError(413, "egress rule total count %d exceeds limit %d"
                                      % (len(merged), MAX_RULES))
                self._check_vault_cover(merged, self.default)
                self.rules = merged
                return self.json(resp, 200, {"status": "ok", "mode": self.mode(),
                                             "enforcementMode": self.enforcement})
        if m == "DELETE":
            if not req.body[:1 << 20].strip(b" \t\r\n\v\f"):
                raise EgressError(400, "empty body")
            try:
                body, _ = self.read_json(req, gojson.list_of(gojson.STRING, "[]string"))
            except ValueError as e:
                raise EgressError(400, "invalid delete targets: %s" % e)
            if not body:
                raise EgressError(400, "invalid delete targets: empty array")
            targets = {t.strip().lower() for t in body}
            with self.lock:
                kept = [r for r in self.rules if r["target"].strip().lower() not in targets]
                out = {"status": "ok"}
                if len(kept) == len(self.rules):
                    out.update({"mode": self.mode(), "enforcementMode": self.enforcement,
                                "reason": "no matching targets found"})
                    return self.json(resp, 200, out)
                self._check_vault_cover(kept, self.default)
                self.rules = kept
                out.update({"mode": self.mode(), "enforcementMode": self.enforcement})
                return self.json(resp, 200, out)
        return self.text(resp, 405, "method not allowed", [("Allow", "GET, POST, PUT, PATCH, DELETE")])

    def _check_vault_cover(self, rules, default):
        if self.vault is None:
            return
        for b in self.vault["bindings"].values():
            err = self._uncovered(b["name"], b["match"]["hosts"], rules, default)
            if err:
                raise EgressError(400, "credential vault policy validation: " + err)

    @staticmethod
    def _uncovered(name, hosts, rules, default):
        if not rules:
            return "binding %s requires a non-empty egress policy" % json.dumps(name)
        for h in hosts:
            verdict = None
            for r in rules:
                t = r["target"].lower()
                if t == h or (not h.startswith("*.") and host_matches(t, h)):
                    verdict = r["action"]
                    break
            if verdict != "allow":
                return "binding %s host %s is not covered by an allow rule of the egress policy" % (
                    json.dumps(name), json.dumps(h))
        return None

    # ------------------------------------------------------------ credential vault

    def vault_route(self, req, resp, path):
        m = req.method
        if path == "/credential-vault":
            if m not in ("GET", "POST", "PATCH", "DELETE"):
                return self.text(resp, 405, "method not allowed", [("Allow", "GET, POST, PATCH, DELETE")])
            if m == "GET":
                with self.lock:
                    if self.vault is None:
                        raise EgressError(404, "credential vault not found")
                    return self.json(resp, 200, self._vault_json())
            self._write_checks()
            if m == "DELETE":
                with self.lock:
                    if self.vault is None:
                        raise EgressError(404, "credential vault not found")
                    self.vault = None
                return resp.send(204, [], b"")
            if m == "POST":
                return self._create(req, resp)
            return self._patch(req, resp)
        sub = path[len("/credential-vault/"):]
        parts = sub.split("/")
        if parts[0] in ("credentials", "bindings") and len(parts) <= 2 and (len(parts) == 1 or parts[1]):
            if m != "GET":
                return self.text(resp, 405, "method not allowed", [("Allow", "GET")])
            with self.lock:
                if self.vault is None:
                    raise EgressError(404, "credential vault not found")
                v = self._vault_json()
                coll = v[parts[0]]
                if len(parts) == 1:
                    return self.json(resp, 200, {"revision": v["revision"], parts[0]: coll})
                for item in coll:
                    if item["name"] == parts[1]:
                        return self.json(resp, 200, item)
                raise EgressError(404, "%s not found" % ("credential" if parts[0] == "credentials"
                                                         else "binding"))
        return self.text(resp, 404, "not found")

    def _write_checks(self):
        if not self.token:
            raise EgressError(412, "credential vault requires egress API auth token")
        if not self.credential_proxy:
            raise EgressError(412, "credential vault requires transparent mitmproxy")
        if self.vault_state == "not-ready":
            raise EgressError(412, "credential proxy is not ready")
        if self.vault_state == "insecure-transport":
            raise EgressError(426, "credential vault writes require TLS or loopback transport")

    def _vault_json(self):
        v = self.vault
        creds = [{"name": n, "sourceType": "inline", "revision": c["revision"]}
                 for n, c in sorted(v["credentials"].items())]
        binds = []
        for n, b in sorted(v["bindings"].items()):
            binds.append({"name": n, "revision": v["revision"], "match": b["match"],
                          "auth": b["auth_meta"]})
        return {"revision": v["revision"], "credentials": creds, "bindings": binds}

    def read_plain_json(self, req):
        text = req.body[:1 << 20].decode("utf-8", "replace").strip()
        if not text:
            return None, True
        obj, _ = json.JSONDecoder().raw_decode(text)
        return obj, False

    def _decode_strict(self, req, what):
        try:
            body, empty = self.read_plain_json(req)
        except ValueError as e:
            raise EgressError(400, "invalid credential vault %s: %s" % (what, e))
        if empty or not isinstance(body, dict):
            raise EgressError(400, "invalid credential vault %s: %s" % (
                what, "EOF" if empty else "json: cannot unmarshal %s into Go value" % type(body).__name__))
        return body

    @staticmethod
    def _unknown(obj, allowed, what):
        if not isinstance(obj, dict):
            raise EgressError(400, "invalid credential vault %s: json: cannot unmarshal %s into Go "
                              "value of type object" % (what, type(obj).__name__))
        for k in obj:
            if k not in allowed:
                raise EgressError(400, 'invalid credential vault %s: json: unknown field "%s"' % (what, k))

    def _check_credential(self, c, what):
        self._unknown(c, ("name", "source"), what)
        name = c.get("name")
        if not isinstance(name, str) or not name.strip():
            raise EgressError(400, "credential name is required")
        src = c.get("source") or {}
        self._unknown(src, ("type", "value"), what)
        typ = src.get("type") or "inline"
        if typ != "inline":
            raise EgressError(400, "credential %s: unsupported source type %s" % (
                json.dumps(name), json.dumps(typ)))
        if not isinstance(src.get("value"), str) or not src.get("value"):
            raise EgressError(400, "credential %s: source value is required" % json.dumps(name))
        return name, src["value"]

    def _check_binding(self, b, what):
        self._unknown(b, ("name", "match", "auth"), what)
        name = b.get("name")
        if not isinstance(name, str) or not name.strip():
            raise EgressError(400, "binding name is required")
        q = json.dumps(name)
        match = b.get("match") or {}
        self._unknown(match, ("hosts", "schemes", "ports", "methods", "paths"), what)
        hosts = []
        for h in match.get("hosts") or []:
            if not isinstance(h, str):
                raise EgressError(400, "binding %s: invalid host" % q)
            h = h.strip().lower()
            base = h[2:] if h.startswith("*.") else h
            try:
                ipaddress.ip_address(base)
                raise EgressError(400, "binding %s: host %s must be a domain name, not an IP address"
                                  % (q, json.dumps(h)))
            except ValueError:
                pass
            if not FQDN_RE.match(base):
                raise EgressError(400, "binding %s: invalid host %s" % (q, json.dumps(h)))
            if h not in hosts:
                hosts.append(h)
        if not hosts:
            raise EgressError(400, "binding %s: match.hosts is required" % q)
        schemes = []
        for s in match.get("schemes") or ["https"]:
            s = str(s).strip().lower()
            if s not in ("http", "https"):
                raise EgressError(400, "binding %s: unsupported scheme %s" % (q, json.dumps(s)))
            if s not in schemes:
                schemes.append(s)
        ports = []
        for p in match.get("ports") or [443]:
            if p not in (80, 443) or isinstance(p, bool):
                raise EgressError(400, "binding %s: unsupported port %s (must be 80 or 443)" % (q, p))
            if p not in ports:
                ports.append(p)
        methods = []
        for mth in match.get("methods") or DEFAULT_METHODS:
            mth = str(mth).strip().upper()
            if not TOKEN_RE.match(mth):
                raise EgressError(400, "binding %s: invalid method %s" % (q, json.dumps(mth)))
            if mth not in methods:
                methods.append(mth)
        paths = []
        for p in match.get("paths") or ["/*"]:
            if not isinstance(p, str) or not p.startswith("/"):
                raise EgressError(400, "binding %s: path %s must start with /" % (q, json.dumps(p)))
            if p not in paths:
                paths.append(p)
        auth = b.get("auth") or {}
        self._unknown(auth, ("type", "credential", "name", "headers"), what)
        typ = auth.get("type")
        refs = []
        names = []  # header names to inject, in order (Authorization for bearer and basic)
        meta = {"type": typ}
        if typ in ("bearer", "basic"):
            refs.append(auth.get("credential"))
            names.append("Authorization")
        elif typ == "apiKey":
            hn = auth.get("name")
            if not isinstance(hn, str) or not TOKEN_RE.match(hn) or hn.lower() in FORBIDDEN_HEADERS:
                raise EgressError(400, "binding %s: invalid header name %s" % (q, json.dumps(hn)))
            meta["name"] = canonical_header(hn)
            refs.append(auth.get("credential"))
            names.append(hn)
        elif typ == "customHeaders":
            hs = auth.get("headers") or []
            if not isinstance(hs, list) or not hs:
                raise EgressError(400, "binding %s: customHeaders requires at least one header" % q)
            seen = set()
            for h in hs:
                self._unknown(h, ("name", "credential"), what)
                hn = h.get("name")
                if not isinstance(hn, str) or not TOKEN_RE.match(hn) or hn.lower() in FORBIDDEN_HEADERS:
                    raise EgressError(400, "binding %s: invalid header name %s" % (q, json.dumps(hn)))
                if hn.lower() in seen:
                    raise EgressError(400, "binding %s: duplicate header %s" % (q, json.dumps(hn)))
                seen.add(hn.lower())
                refs.append(h.get("credential"))
                names.append(hn)
        else:
            raise EgressError(400, "binding %s: unsupported auth type %s" % (q, json.dumps(typ)))
        for r in refs:
            if not isinstance(r, str) or not r:
                raise EgressError(400, "binding %s: auth credential is required" % q)
        return name, {"name": name, "match": {"schemes": schemes, "ports": ports, "hosts": hosts,
                                              "methods": methods, "paths": paths},
                      "auth_meta": meta, "refs": refs, "header_names": names}

    def _validate_vault(self, creds, binds):
        names = sorted(binds)
        for n in names:
            b = binds[n]
            for r in b["refs"]:
                if r not in creds:
                    raise EgressError(400, "binding %s references unknown credential %s"
                                      % (json.dumps(n), json.dumps(r)))
            err = self._uncovered(n, b["match"]["hosts"], self.rules, self.default)
            if err:
                raise EgressError(400, err)
        for i, a in enumerate(names):
            for bname in names[i + 1:]:
                if self._overlap(binds[a]["match"], binds[bname]["match"]):
                    raise EgressError(400, "bindings %s and %s can match the same request"
                                      % (json.dumps(a), json.dumps(bname)))

    @staticmethod
    def _overlap(x, y):
        def hosts_meet(a, b):
            return a == b or host_matches(a, b) or host_matches(b, a)

        def paths_meet(a, b):
            pa, pb = a.rstrip("*"), b.rstrip("*")
            if a.endswith("*") and b.startswith(pa):
                return True
            if b.endswith("*") and a.startswith(pb):
                return True
            return a == b
        return (any(hosts_meet(a, b) for a in x["hosts"] for b in y["hosts"])
                and set(x["schemes"]) & set(y["schemes"]) and set(x["ports"]) & set(y["ports"])
                and set(x["methods"]) & set(y["methods"])
                and any(paths_meet(a, b) for a in x["paths"] for b in y["paths"]))

    def _create(self, req, resp):
        body = self._decode_strict(req, "request")
        self._unknown(body, ("credentials", "bindings"), "request")
        creds, binds = {}, {}
        for c in body.get("credentials") or []:
            n, v = self._check_credential(c, "request")
            if n in creds:
                raise EgressError(400, "duplicate credential %s" % json.dumps(n))
            creds[n] = {"value": v, "revision": 1}
        for b in body.get("bindings") or []:
            n, nb = self._check_binding(b, "request")
            if n in binds:
                raise EgressError(400, "duplicate binding %s" % json.dumps(n))
            binds[n] = nb
        with self.lock:
            if self.vault is not None:
                raise EgressError(409, "credential vault already exists")
            self._validate_vault(creds, binds)
            self.vault = {"revision": 1, "credentials": creds, "bindings": binds}
            self.json(resp, 201, self._vault_json())

    def _patch(self, req, resp):
        what = "mutation request"
        body = self._decode_strict(req, what)
        self._unknown(body, ("expectedRevision", "credentials", "bindings"), what)
        with self.lock:
            if self.vault is None:
                raise EgressError(404, "credential vault not found")
            v = self.vault
            exp = body.get("expectedRevision")
            if exp is not None and exp != v["revision"]:
                raise EgressError(409, "expectedRevision %s does not match current revision %d"
                                  % (exp, v["revision"]))
            rev = v["revision"] + 1
            creds = dict(v["credentials"])
            binds = dict(v["bindings"])
            for coll, store, check in (("credentials", creds, self._check_credential),
                                       ("bindings", binds, self._check_binding)):
                ops = body.get(coll) or {}
                self._unknown(ops, ("add", "replace", "delete"), what)
                used = set()
                kind = "credential" if coll == "credentials" else "binding"
                for n in ops.get("delete") or []:
                    if n in used:
                        raise EgressError(400, "%s %s appears in more than one operation" % (kind, json.dumps(n)))
                    used.add(n)
                    if n not in store:
                        raise EgressError(400, "%s %s not found" % (kind, json.dumps(n)))
                    del store[n]
                for op in ("replace", "add"):
                    for item in ops.get(op) or []:
                        n, val = check(item, what)
                        if n in used:
                            raise EgressError(400, "%s %s appears in more than one operation"
                                              % (kind, json.dumps(n)))
                        used.add(n)
                        if op == "replace" and n not in store:
                            raise EgressError(400, "%s %s not found" % (kind, json.dumps(n)))
                        if op == "add" and n in store:
                            raise EgressError(400, "%s %s already exists" % (kind, json.dumps(n)))
                        store[n] = {"value": val, "revision": rev} if coll == "credentials" else val
            self._validate_vault(creds, binds)
            self.vault = {"revision": rev, "credentials": creds, "bindings": binds}
            self.json(resp, 200, self._vault_json())
