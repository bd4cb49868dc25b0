"""Lifecycle API (PROTOCOL.md section 2): FastAPI-like behaviour of the real server."""

import base64
import hashlib
import hmac
import json
import http.client
import math
import os
import re
import signal
import subprocess
import threading
import time
import urllib.parse

from . import common, execd as execd_mod, httpcore, sandboxfs, volumes, wsproxy
from .common import py_json, py_time

EXECD_PORT = 44772
EGRESS_PORT = 18080
APP_PORT = 8080

MISSING_KEY = {"code": "MISSING_API_KEY",
               "message": "Authentication credentials are missing. Provide API key via "
                          "OPEN-SANDBOX-API-KEY header."}
INVALID_KEY = {"code": "INVALID_API_KEY",
               "message": "Authentication credentials are invalid. Check your API key and try again."}

AUTH_EXEMPT = ("/health", "/docs", "/redoc", "/openapi.json")
PROXY_RE = re.compile(r"^(?:/v1)?/sandboxes/([^/]+)/proxy/(\d+)(/.*)?$")
PROXY_EXEMPT_RE = re.compile(r"^(/v1)?/sandboxes/[^/]+/proxy/\d+(/|$)")

LABEL_VALUE_RE = re.compile(r"^([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?$")
LABEL_NAME_RE = re.compile(r"^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$")
DNS_SUBDOMAIN_RE = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
RESERVED_PREFIX = "opensandbox.io/"

HOP_BY_HOP = {"connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te",
              "trailer", "trailers", "transfer-encoding", "upgrade"}


class HTTPError(Exception):
    def __init__(self, status, code, message):
        Exception.__init__(self, message)
        self.status = status
        self.code = code
        self.message = message


class Invalid(Exception):
    """FastAPI request validation error: 422 {"detail": [...]}."""

    def __init__(self, details):
        Exception.__init__(self, "validation")
        self.details = details


def verr(typ, loc, msg, inp, ctx=None):
    d = {"type": typ, "loc": list(loc), "msg": msg, "input": inp}
    if ctx is not None:
        d["ctx"] = ctx
    return d


def missing(loc, inp):
    return verr("missing", loc, "Field required", inp)


# ---------------------------------------------------------------- pydantic-like checks

def _is_str(v):
    return isinstance(v, str)


def check_str(v, loc, errs):
    if not isinstance(v, str):
        errs.append(verr("string_type", loc, "Input should be a valid string", v))
        return False
    return True


_PYD_INT_RE = re.compile(r"^[+-]?[0-9]+(?:_[0-9]+)*(?:\.0+)?$")


def check_int(v, loc, errs):
    """pydantic's lax int: bools count (True is 1), integral floats, strings of ASCII digits
    (sign, single underscores, a ".0" tail, surrounding white space)."""
    if isinstance(v, bool):
        return int(v)
    if isinstance(v, int):
        return v
    if isinstance(v, float):
        if v == int(v):
            return int(v)
        errs.append(verr("int_from_float", loc,
                         "Input should be a valid integer, got a number with a fractional part", v))
        return None
    if isinstance(v, str):
        t = v.strip()
        if _PYD_INT_RE.match(t):
            return int(t.split(".")[0])
        errs.append(verr("int_parsing", loc,
                         "Input should be a valid integer, unable to parse string as an integer", v))
        return None
    errs.append(verr("int_type", loc, "Input should be a valid integer", v))
    return None


_NUM_RE = re.compile(r"^[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)$")


def check_datetime(v, loc, errs):
    """pydantic's lax datetime: RFC 3339 / ISO text, or Unix time as a number or numeric text
    (milliseconds above 2e10). Epoch seconds, or None with the error appended."""
    if isinstance(v, bool) or not isinstance(v, (str, int, float)):
        errs.append(verr("datetime_type", loc, "Input should be a valid datetime", v))
        return None
    num = v if not isinstance(v, str) else (float(v) if _NUM_RE.match(v) else None)
    if num is not None:
        if abs(num) > 2e10:
            num = num / 1000.0
        if abs(num) > 253402300799:
            errs.append(verr("datetime_parsing", loc, "Input should be a valid datetime, dates "
                             "after 9999 are not supported as unix timestamps", v,
                             {"error": "dates after 9999 are not supported as unix timestamps"}))
            return None
        return float(num)
    ts = common.parse_iso(v)
    if ts is None:
        why = "input is too short" if len(v) < 10 else "invalid character in year"
        errs.append(verr("datetime_from_date_parsing", loc,
                         "Input should be a valid datetime or date, " + why, v, {"error": why}))
    return ts


def check_bool(v, loc, errs):
    """pydantic's lax bool: 0/1 numbers and the usual words, case-insensitive, not stripped."""
    if isinstance(v, bool):
        return v
    if isinstance(v, (int, float)) and v in (0, 1):
        return bool(v)
    if isinstance(v, str) and v.lower() in BOOL_TRUE | BOOL_FALSE:
        return v.lower() in BOOL_TRUE
    if isinstance(v, (str, int)) or (isinstance(v, float) and v == int(v)):
        errs.append(verr("bool_parsing", loc,
                         "Input should be a valid boolean, unable to interpret input", v))
    else:
        errs.append(verr("bool_type", loc, "Input should be a valid boolean", v))
    return None


BOOL_TRUE = {"true", "1", "yes", "on", "t", "y"}
BOOL_FALSE = {"false", "0", "no", "off", "f", "n"}


def check_dict(v, loc, errs):
    if not isinstance(v, dict):
        errs.append(verr("dict_type", loc, "Input should be a valid dictionary", v))
        return False
    return True


def is_json_content_type(value):
    """FastAPI's test (through email.message): application/json or application/*+json."""
    mt = (value or "").split(";")[0].strip().lower()
    main, slash, sub = mt.partition("/")
    if not value or not slash or not main or not sub or "/" in sub:
        return False
    return main == "application" and (sub == "json" or sub.endswith("+json"))


def check_model(v, loc, errs):
    if not isinstance(v, dict):
        # FastAPI validates with from_attributes=True, so a non-object is this error
        errs.append(verr("model_attributes_type", loc,
                         "Input should be a valid dictionary or object to extract fields from", v))
        return False
    return True


def check_str_map(v, loc, errs, nullable=False):
    if not check_dict(v, loc, errs):
        return
    for k, x in v.items():
        if x is None and nullable:
            continue
        check_str(x, list(loc) + [k], errs)


NAME_PATTERN = "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"


def check_constr(v, loc, errs, pattern=None, min_length=None, max_length=None):
    """A constrained str field: type, then length, then pattern (pydantic-core's order)."""
    if not check_str(v, loc, errs):
        return False
    if min_length is not None and len(v) < min_length:
        errs.append(verr("string_too_short", loc, "String should have at least %d character%s"
                         % (min_length, "" if min_length == 1 else "s"), v, {"min_length": min_length}))
        return False
    if max_length is not None and len(v) > max_length:
        errs.append(verr("string_too_long", loc, "String should have at most %d characters"
                         % max_length, v, {"max_length": max_length}))
        return False
    if pattern is not None and not re.search(pattern, v):
        errs.append(verr("string_pattern_mismatch", loc, "String should match pattern '%s'" % pattern,
                         v, {"pattern": pattern}))
        return False
    return True


def check_volume_model(vol, loc, errs):
    """The Volume model of the lifecycle API (with Host, PVC and OSSFS) as pydantic checks it."""
    if not check_model(vol, loc, errs):
        return
    before = len(errs)
    has, v = field(vol, "name")
    if not has:
        errs.append(missing(loc + ["name"], vol))
    else:
        check_constr(v, loc + ["name"], errs, NAME_PATTERN, max_length=63)
    host = vol.get("host")
    if host is not None and check_model(host, loc + ["host"], errs):
        if "path" not in host:
            errs.append(missing(loc + ["host", "path"], host))
        else:
            check_constr(host["path"], loc + ["host", "path"], errs, r"^(/|[A-Za-z]:[\\/])")
    pvc = vol.get("pvc")
    if pvc is not None and check_model(pvc, loc + ["pvc"], errs):
        has, v = field(pvc, "claimName", "claim_name")
        if not has:
            errs.append(missing(loc + ["pvc", "claimName"], pvc))
        else:
            check_constr(v, loc + ["pvc", "claimName"], errs, NAME_PATTERN, max_length=253)
        for names in (("createIfNotExists", "create_if_not_exists"),
                      ("deleteOnSandboxTermination", "delete_on_sandbox_termination")):
            has, v = field(pvc, *names)
            if has:
                check_bool(v, loc + ["pvc", names[0]], errs)
        has, v = field(pvc, "storageClass", "storage_class")
        if has and v is not None:
            check_str(v, loc + ["pvc", "storageClass"], errs)
        if pvc.get("storage") is not None:
            check_constr(pvc["storage"], loc + ["pvc", "storage"], errs, r"^\d+(\.\d+)?(Ki|Mi|Gi|Ti|Pi|Ei)?$")
    ossfs = vol.get("ossfs")
    if ossfs is not None and check_model(ossfs, loc + ["ossfs"], errs):
        o_before = len(errs)
        for k, lo, hi in (("bucket", 3, 63), ("endpoint", 1, None)):
            if k not in ossfs:
                errs.append(missing(loc + ["ossfs", k], ossfs))
            else:
                check_constr(ossfs[k], loc + ["ossfs", k], errs, min_length=lo, max_length=hi)
        if "version" in ossfs and ossfs["version"] not in ("1.0", "2.0"):
            errs.append(verr("literal_error", loc + ["ossfs", "version"], "Input should be '1.0' or '2.0'",
                             ossfs["version"], {"expected": "'1.0' or '2.0'"}))
        for names in (("accessKeyId", "access_key_id"), ("accessKeySecret", "access_key_secret")):
            has, v = field(ossfs, *names)
            if has and v is not None:
                check_constr(v, loc + ["ossfs", names[0]], errs, min_length=1)
        if len(errs) == o_before and not (field(ossfs, "accessKeyId", "access_key_id")[1] and
                                          field(ossfs, "accessKeySecret", "access_key_secret")[1]):
            errs.append(verr("value_error", loc + ["ossfs"], "Value error, OSSFS inline credentials are "
                             "required: accessKeyId and accessKeySecret.", ossfs, {"error": {}}))
    has, v = field(vol, "mountPath", "mount_path")
    if not has:
        errs.append(missing(loc + ["mountPath"], vol))
    else:
        check_constr(v, loc + ["mountPath"], errs, "^/.*")
    has, v = field(vol, "readOnly", "read_only")
    if has:
        check_bool(v, loc + ["readOnly"], errs)
    has, v = field(vol, "subPath", "sub_path")
    if has and v is not None:
        check_str(v, loc + ["subPath"], errs)
    if len(errs) == before:
        n = sum(1 for k in ("host", "pvc", "ossfs") if vol.get(k) is not None)
        if n != 1:
            errs.append(verr("value_error", loc, "Value error, Exactly one backend (host, pvc, ossfs) "
                             "must be specified, but %s." % ("none was provided" if n == 0 else
                                                            "multiple were provided"),
                             vol, {"error": {}}))


def field(body, *names):
    """camelCase alias or snake_case name (populate_by_name)."""
    for n in names:
        if n in body:
            return True, body[n]
    return False, None


def label_error(key, value):
    """The server's ensure_metadata_labels message for one label, or None when it is valid."""
    if key.startswith(RESERVED_PREFIX):
        return ("Metadata key '%s' uses the reserved prefix '%s'. Keys under this prefix are "
                "managed by the system and cannot be set via metadata." % (key, RESERVED_PREFIX))
    prefix, slash, name = key.partition("/")
    if not slash:
        name = key
    if (slash and (not prefix or not name or len(prefix) > 253 or not DNS_SUBDOMAIN_RE.match(prefix))) \
            or len(name) > 63 or not LABEL_NAME_RE.match(name):
        return ("Metadata key '%s' is invalid: must be either a name or a DNS-subdomain prefix and "
                "name separated by /, where the name is up to 63 characters and matches "
                "[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?, and the optional prefix is a valid DNS "
                "subdomain up to 253 characters." % key)
    if len(value) > 63 or not LABEL_VALUE_RE.match(value):
        return ("Metadata value '%s' is invalid: must be 63 characters or less, start/end with an "
                "alphanumeric character, and contain only alphanumeric, '-', '_', or '.' "
                "characters." % value)
    return None


# ---------------------------------------------------------------- model

class Sandbox(object):
    def __init__(self, sid):
        self.id = sid
        self.image = None
        self.snapshot_id = None
        self.entrypoint = None
        self.resource_limits = {}
        self.env = {}
        self.metadata = {}
        self.platform = None
        self.network_policy = None
        self.credential_proxy = False
        self.extensions = {}
        self.volumes = None
        self.auto_volumes = []  # named volumes created for it, removed with it
        self.app_port = APP_PORT  # the host port where its 8080 is reached
        self.timeout = None
        self.created = time.time()
        self.expires = None
        self.state = "Running"
        self.reason = "CONTAINER_RUNNING"
        self.message = "Sandbox container started successfully."
        self.transition = self.created
        self.egress_token = None
        self.execd = None
        self.execd_server = None
        self.log = []
        self.pending_polls = 0
        self.entry_proc = None
        self.log_path = None

    def set_state(self, state, reason, message):
        self.state, self.reason, self.message = state, reason, message
        self.transition = time.time()
        self.log.append("%s %s: %s" % (py_time(self.transition), state, message))

    def status(self):
        return {"state": self.state, "reason": self.reason, "message": self.message,
                "lastTransitionAt": py_time(self.transition)}

    def to_json(self, create=False):
        out = {"id": self.id}
        if not create:
            if self.image is not None:
                out["image"] = {"uri": self.image["uri"]}
            if self.snapshot_id:
                out["snapshotId"] = self.snapshot_id
            if self.platform:
                out["platform"] = self.platform
            out["status"] = self.status()
            if self.metadata:
                out["metadata"] = dict(self.metadata)
            if self.entrypoint:
                out["entrypoint"] = list(self.entrypoint)
            if self.expires is not None:
                out["expiresAt"] = py_time(self.expires)
            out["createdAt"] = py_time(self.created)
        else:
            out["status"] = self.status()
            if self.metadata:
                out["metadata"] = dict(self.metadata)
            if self.platform:
                out["platform"] = self.platform
            if self.expires is not None:
                out["expiresAt"] = py_time(self.expires)
            out["createdAt"] = py_time(self.created)
            if self.entrypoint:
                out["entrypoint"] = list(self.entrypoint)
        return out


class Snapshot(object):
    def __init__(self, sid, sandbox_id, name):
        self.id = sid
        self.sandbox_id = sandbox_id
        self.name = name
        self.created = time.time()
        self.state = "Creating"
        self.reason = "snapshot_accepted"
        self.message = "Snapshot creation accepted."
        self.transition = self.created
        self.sandbox_config = None

    def to_json(self):
        out = {"id": self.id, "sandboxId": self.sandbox_id}
        if self.name is not None:
            out["name"] = self.name
        out["status"] = {"state": self.state, "reason": self.reason, "message": self.message,
                         "lastTransitionAt": py_time(self.transition)}
        out["createdAt"] = py_time(self.created)
        return out


# ---------------------------------------------------------------- app

class Lifecycle(object):
    def __init__(self, cfg, recorder):
        self.cfg = cfg
        self.recorder = recorder
        self.lock = threading.RLock()
        self.sandboxes = {}
        self.snapshots = {}
        self.server = None
        self.domain = None
        self.stopping = threading.Event()
        self.sign_key = os.urandom(32)
        self.gateway = None
        self.gateway_server = None
        self.gateway_port = None
        self.volumes = volumes.Volumes(cfg.volume_dir or os.path.join(cfg.state_dir, "volumes"),
                                       cfg.allowed_host_paths)
        for name, seed in cfg.volume_seeds:
            self.volumes.create(name, seed)
        self.routes = [
            (re.compile(r"^/sandboxes$"), {"GET": self.list_sandboxes, "POST": self.create_sandbox}),
            (re.compile(r"^/sandboxes/([^/]+)$"), {"GET": self.get_sandbox,
                                                   "DELETE": self.delete_sandbox}),
            (re.compile(r"^/sandboxes/([^/]+)/metadata$"), {"PATCH": self.patch_metadata}),
            (re.compile(r"^/sandboxes/([^/]+)/pause$"), {"POST": self.pause}),
            (re.compile(r"^/sandboxes/([^/]+)/resume$"), {"POST": self.resume}),
            (re.compile(r"^/sandboxes/([^/]+)/renew-expiration$"), {"POST": self.renew}),
            (re.compile(r"^/sandboxes/([^/]+)/endpoints/([^/]+)$"), {"GET": self.endpoint}),
            (re.compile(r"^/sandboxes/([^/]+)/snapshots$"), {"POST": self.create_snapshot}),
            (re.compile(r"^/snapshots$"), {"GET": self.list_snapshots}),
            (re.compile(r"^/snapshots/([^/]+)$"), {"GET": self.get_snapshot,
                                                   "DELETE": self.delete_snapshot}),
            (re.compile(r"^/sandboxes/([^/]+)/diagnostics/(logs|events)$"), {"GET": self.diag_text}),
            (re.compile(r"^/sandboxes/([^/]+)/diagnostics/(inspect|summary)$"),
             {"GET": self.diag_text}),
            (re.compile(r"^/pools$"), {"GET": self.pools, "POST": self.pools}),
            (re.compile(r"^/devserver/volumes$"), {"GET": self.list_volumes}),
            (re.compile(r"^/devserver/volumes/([^/]+)$"), {"PUT": self.put_volume}),
            (re.compile(r"^/pools/([^/]+)$"), {"GET": self.pools, "PUT": self.pools,
                                               "DELETE": self.pools}),
        ]

    # ------------------------------------------------------------ plumbing

    def handle(self, req, resp):
        rid = (req.header("X-Request-ID") or "").strip() or common.hex32()
        req.rid = rid
        origin = req.header("Origin")
        cors = []
        if origin:
            cors = [("Access-Control-Allow-Origin", origin if req.header("Cookie") else "*"),
                    ("Access-Control-Allow-Credentials", "true")]
        req.cors = cors
        if (req.method == "OPTIONS" and origin
                and req.header("Access-Control-Request-Method")):
            hdrs = [("Vary", "Origin"), ("Access-Control-Allow-Origin", origin),
                    ("Access-Control-Allow-Credentials", "true"),
                    ("Access-Control-Allow-Methods", "DELETE, GET, HEAD, OPTIONS, PATCH, POST, PUT"),
                    ("Access-Control-Max-Age", "600")]
            rh = req.header("Access-Control-Request-Headers")
            if rh:
                hdrs.append(("Access-Control-Allow-Headers", rh))
            hdrs += [("Content-Type", "text/plain; charset=utf-8"), ("X-Request-ID", rid)]
            resp.send(200, hdrs, b"OK")
            return
        path = req.path
        # Authentication runs before routing.
        if self.cfg.api_key and not self._auth_exempt(req.raw_path):
            key = req.header("OPEN-SANDBOX-API-KEY")
            if not key:
                return self.send_json(req, resp, 401, MISSING_KEY)
            if key != self.cfg.api_key:
                return self.send_json(req, resp, 401, INVALID_KEY)
        m = PROXY_RE.match(path)
        if m and ".." not in req.raw_path:
            return self.server_proxy(req, resp, m.group(1), m.group(2), m.group(3) or "")
        inner = path
        if path == "/v1" or path.startswith("/v1/"):
            inner = path[3:] or "/"
        elif path == "/health":
            if req.method == "GET":
                return self.send_json(req, resp, 200, {"status": "healthy"})
            return self.send_json(req, resp, 405, {"detail": "Method Not Allowed"})
        for rx, methods in self.routes:
            mm = rx.match(inner)
            if not mm:
                continue
            fn = methods.get(req.method)
            if fn is None:
                return self.send_json(req, resp, 405, {"detail": "Method Not Allowed"},
                                      [("Allow", ", ".join(methods))])
            try:
                return fn(req, resp, *mm.groups())
            except HTTPError as e:
                return self.send_json(req, resp, e.status,
                                      {"code": e.code, "message": e.message or
                                       "An unexpected error occurred."})
            except Invalid as e:
                return self.send_json(req, resp, 422, {"detail": e.details})
        return self.send_json(req, resp, 404, {"detail": "Not Found"})

    def _auth_exempt(self, raw_path):
        for p in AUTH_EXEMPT:
            if raw_path.startswith(p):
                return True
        if PROXY_EXEMPT_RE.match(raw_path) and ".." not in raw_path:
            return True
        return False

    def send_json(self, req, resp, status, obj, extra=()):
        hdrs = [("Content-Type", "application/json")] + list(extra) + \
            [("X-Request-ID", req.rid)] + req.cors
        resp.send(status, hdrs, py_json(obj).encode("utf-8"))

    def send_empty(self, req, resp, status):
        resp.send(status, [("X-Request-ID", req.rid)] + req.cors, b"")

    def send_text(self, req, resp, status, text, extra=()):
        hdrs = [("Content-Type", "text/plain; charset=utf-8")] + list(extra) + \
            [("X-Request-ID", req.rid)] + req.cors
        resp.send(status, hdrs, text.encode("utf-8"))

    def json_body(self, req, required=True):
        """The body as FastAPI (strict_content_type, the default since 0.132) hands it to
        validation: parsed JSON only under a JSON Content-Type (application/json or */*+json);
        any other body, also one without a Content-Type, stays bytes, shown as text, which no
        model or dict accepts.  An empty body is no body."""
        raw = req.body
        if not raw:
            if required:
                raise Invalid([missing(["body"], None)])
            return None
        if not is_json_content_type(req.header("Content-Type")):
            return raw.decode("utf-8", "replace")
        try:
            return json.loads(raw.decode("utf-8"))
        except (ValueError, UnicodeDecodeError) as e:
            pos = getattr(e, "pos", 0) or 0
            raise Invalid([verr("json_invalid", ["body", pos], "JSON decode error", {},
                                {"error": getattr(e, "msg", str(e))})])

    def find(self, sid):
        with self.lock:
            sb = self.sandboxes.get(sid)
        if sb is None:
            raise HTTPError(404, "DOCKER::SANDBOX_NOT_FOUND", "Sandbox %s not found." % sid)
        return sb

    # ------------------------------------------------------------ sandboxes

    def validate_create(self, body):
        errs = []
        if not isinstance(body, dict):
            raise Invalid([verr("model_attributes_type", ["body"],
                                "Input should be a valid dictionary or object to extract fields from",
                                body)])
        spec = {}
        has, image = field(body, "image")
        if has and image is not None:
            if check_model(image, ["body", "image"], errs):
                if "uri" not in image:
                    errs.append(missing(["body", "image", "uri"], image))
                else:
                    check_str(image["uri"], ["body", "image", "uri"], errs)
                auth = image.get("auth")
                if auth is not None and check_model(auth, ["body", "image", "auth"], errs):
                    for k in ("username", "password"):
                        if k not in auth:
                            errs.append(missing(["body", "image", "auth", k], auth))
                        else:
                            check_str(auth[k], ["body", "image", "auth", k], errs)
            spec["image"] = image
        has, snap = field(body, "snapshotId", "snapshot_id")
        if has and snap is not None:
            check_str(snap, ["body", "snapshotId"], errs)
            spec["snapshotId"] = snap
        has, ep = field(body, "entrypoint")
        if has and ep is not None:
            if not isinstance(ep, list):
                errs.append(verr("list_type", ["body", "entrypoint"], "Input should be a valid list", ep))
            else:
                for i, x in enumerate(ep):
                    check_str(x, ["body", "entrypoint", i], errs)
                if len(ep) < 1:
                    errs.append(verr("too_short", ["body", "entrypoint"],
                                     "List should have at least 1 item after validation, not 0", ep,
                                     {"field_type": "List", "min_length": 1, "actual_length": 0}))
            spec["entrypoint"] = ep
        has, rl = field(body, "resourceLimits", "resource_limits")
        if has and rl is not None:
            check_str_map(rl, ["body", "resourceLimits"], errs)
            spec["resourceLimits"] = rl
        has, to = field(body, "timeout")
        if has and to is not None:
            v = check_int(to, ["body", "timeout"], errs)
            if v is not None and v < 60:
                errs.append(verr("greater_than_equal", ["body", "timeout"],
                                 "Input should be greater than or equal to 60", to, {"ge": 60}))
            spec["timeout"] = v
        has, env = field(body, "env")
        if has and env is not None:
            check_str_map(env, ["body", "env"], errs, nullable=True)
            spec["env"] = env
        has, md = field(body, "metadata")
        if has and md is not None:
            check_str_map(md, ["body", "metadata"], errs)
            spec["metadata"] = md
        has, pf = field(body, "platform")
        if has and pf is not None:
            if check_model(pf, ["body", "platform"], errs):
                for k in ("os", "arch"):
                    if k not in pf:
                        errs.append(missing(["body", "platform", k], pf))
                    else:
                        check_str(pf[k], ["body", "platform", k], errs)
            spec["platform"] = pf
        has, np_ = field(body, "networkPolicy", "network_policy")
        if has and np_ is not None:
            if check_model(np_, ["body", "networkPolicy"], errs):
                da = np_.get("defaultAction", np_.get("default_action"))
                if da is not None:  # any string: the sidecar decides what it means
                    check_str(da, ["body", "networkPolicy", "defaultAction"], errs)
                eg = np_.get("egress")
                if eg is not None:
                    if not isinstance(eg, list):
                        errs.append(verr("list_type", ["body", "networkPolicy", "egress"],
                                         "Input should be a valid list", eg))
                    else:
                        for i, r in enumerate(eg):
                            loc = ["body", "networkPolicy", "egress", i]
                            if check_model(r, loc, errs):
                                for k in ("action", "target"):
                                    if k not in r:
                                        errs.append(missing(loc + [k], r))
                                if "action" in r:
                                    check_str(r["action"], loc + ["action"], errs)
                                if "target" in r and check_str(r["target"], loc + ["target"], errs) \
                                        and not r["target"]:
                                    errs.append(verr("string_too_short", loc + ["target"],
                                                     "String should have at least 1 character", "",
                                                     {"min_length": 1}))
            spec["networkPolicy"] = np_
        has, cp = field(body, "credentialProxy", "credential_proxy")
        if has and cp is not None:
            if check_model(cp, ["body", "credentialProxy"], errs):
                if "enabled" in cp:
                    spec["credentialProxy"] = check_bool(cp["enabled"],
                                                         ["body", "credentialProxy", "enabled"], errs)
                else:
                    spec["credentialProxy"] = False
        has, sa = field(body, "secureAccess", "secure_access")
        if has and sa is not None:
            spec["secureAccess"] = check_bool(sa, ["body", "secureAccess"], errs)
        has, vols = field(body, "volumes")
        if has and vols is not None:
            if not isinstance(vols, list):
                errs.append(verr("list_type", ["body", "volumes"], "Input should be a valid list", vols))
            else:
                for i, vol in enumerate(vols):
                    check_volume_model(vol, ["body", "volumes", i], errs)
            spec["volumes"] = vols
        has, ext = field(body, "extensions")
        if has and ext is not None:
            check_str_map(ext, ["body", "extensions"], errs)
            spec["extensions"] = ext
        if errs:
            raise Invalid(errs)
        # model validator
        pool = isinstance(spec.get("extensions"), dict) and spec["extensions"].get("poolRef")
        img = spec.get("image")
        img_set = isinstance(img, dict) and isinstance(img.get("uri"), str) and img["uri"].strip()
        snap_set = isinstance(spec.get("snapshotId"), str) and spec["snapshotId"].strip()
        msg = None  # the model validator of CreateSandboxRequest, in its order
        cp_on = bool(spec.get("credentialProxy"))
        if pool:
            if snap_set:
                msg = "snapshotId cannot be used together with poolRef."
            elif cp_on:
                msg = "credentialProxy.enabled cannot be used together with poolRef."
        elif cp_on and "networkPolicy" not in spec:
            msg = "credentialProxy.enabled requires networkPolicy."
        elif bool(img_set) == bool(snap_set):
            msg = "Exactly one of image or snapshotId must be provided."
        elif img_set and not spec.get("entrypoint"):
            msg = "Entrypoint is required when image is provided."
        elif "resourceLimits" not in spec:
            msg = "resourceLimits is required when poolRef is not provided."
        if msg:
            raise Invalid([verr("value_error", ["body"], "Value error, " + msg, body, {"error": {}})])
        return spec

    def create_sandbox(self, req, resp):
        body = self.json_body(req)
        spec = self.validate_create(body)
        cfg = self.cfg
        ext = spec.get("extensions") or {}
        self.check_renew_extension(ext)
        if str(ext.get("poolRef") or "").strip():
            raise HTTPError(400, "SANDBOX::UNSUPPORTED_POOL_REF",
                            "poolRef is not supported by the Docker provider. Use Kubernetes "
                            "BatchSandbox provider instead.")
        # then the server's order: snapshot, entrypoint, metadata, platform, timeout, secureAccess
        img = spec.get("image")
        if not (isinstance(img, dict) and str(img.get("uri") or "").strip()):
            sid_ = str(spec.get("snapshotId") or "").strip()
            if not sid_:
                raise HTTPError(400, "SANDBOX::INVALID_PARAMETER",
                                "Either image or snapshotId must be provided.")
            with self.lock:
                snap = self.snapshots.get(sid_)
            if snap is None:
                raise HTTPError(404, "SNAPSHOT::NOT_FOUND", "Snapshot %s not found" % sid_)
            if snap.state != "Ready":
                raise HTTPError(409, "SNAPSHOT::NOT_READY",
                                "Snapshot %s is not ready for restore." % sid_)
        for k, v in (spec.get("metadata") or {}).items():
            msg = label_error(k, v)
            if msg:
                raise HTTPError(400, "SANDBOX::INVALID_METADATA_LABEL", msg)
        pf = spec.get("platform")
        if pf:
            for part, allowed in (("os", ["linux", "windows"]), ("arch", ["amd64", "arm64"])):
                if str(pf.get(part)).strip().lower() not in allowed:
                    raise HTTPError(400, "SANDBOX::INVALID_PARAMETER",
                                    "Unsupported platform.%s '%s'. Supported values: %s."
                                    % (part, pf.get(part), allowed))
            pf["os"], pf["arch"] = pf["os"].strip().lower(), pf["arch"].strip().lower()
        if spec.get("timeout") is not None and cfg.max_timeout and spec["timeout"] > cfg.max_timeout:
            raise HTTPError(400, "SANDBOX::INVALID_PARAMETER",
                            "Sandbox timeout %ds exceeds configured maximum of %ds."
                            % (spec["timeout"], cfg.max_timeout))
        if spec.get("secureAccess"):
            raise HTTPError(400, "SANDBOX::INVALID_PARAMETER",
                            "secureAccess is not supported when runtime.type='docker'. Use the "
                            "Kubernetes runtime to create secured sandboxes.")
        entry = spec.get("entrypoint")
        snap_id = spec.get("snapshotId")
        snap_id = snap_id.strip() if isinstance(snap_id, str) and snap_id.strip() else None
        if snap_id and not entry:
            entry = ["tail", "-f", "/dev/null"]
        sb = Sandbox(common.uuid4())
        sb.image = spec.get("image") if not snap_id else None
        sb.snapshot_id = snap_id
        sb.entrypoint = entry
        sb.resource_limits = spec.get("resourceLimits") or {}
        sb.env = {k: v for k, v in (spec.get("env") or {}).items() if v is not None}
        sb.metadata = dict(spec.get("metadata") or {})
        sb.platform = pf
        sb.network_policy = spec.get("networkPolicy")
        sb.credential_proxy = bool(spec.get("credentialProxy"))
        sb.extensions = ext
        sb.volumes = spec.get("volumes")
        sb.timeout = spec.get("timeout")
        if sb.timeout is not None:
            sb.expires = sb.created + sb.timeout
        sb.set_state("Running", "CONTAINER_RUNNING", "Sandbox container started successfully.")
        sb.transition = sb.created
        if self.cfg.spec_mode > 0:
            sb.state, sb.reason, sb.message = ("Pending", "CONTAINER_STARTING",
                                               "Sandbox container is starting.")
            sb.pending_polls = self.cfg.spec_mode
        if sb.network_policy is not None:
            sb.egress_token = base64.urlsafe_b64encode(os.urandom(24)).decode("ascii")
        try:
            mounts, sb.auto_volumes = self.volumes.resolve(spec.get("volumes"))
        except volumes.VolumeError as e:
            raise HTTPError(e.status, e.code, e.message)
        sb.container_id = os.urandom(32).hex()
        fs = sandboxfs.SandboxFS(self.cfg.state_dir, sb.id, sb.container_id, mounts,
                                 net=sb.network_policy is not None, intercept=sb.credential_proxy)
        try:
            fs.start()
        except (sandboxfs.SandboxError, OSError) as e:
            fs.close()
            self.volumes.remove_managed(sb.auto_volumes)
            raise HTTPError(500, "DOCKER::SANDBOX_START_FAILED",
                            "Failed to create or start container: %s" % e)
        try:
            sb.execd = execd_mod.Execd(self.cfg, sb, fs)
        except OSError as e:
            fs.close()
            self.volumes.remove_managed(sb.auto_volumes)
            raise HTTPError(500, "DOCKER::SANDBOX_START_FAILED",
                            "Failed to create or start container: %s" % e)
        if fs.net:  # its own network: 8080 is published on a host port of its own, as by Docker
            sb.app_port = fs.publish(APP_PORT, self.cfg.host)
        sb.execd_server = httpcore.make_server(self.cfg.host, 0, sb.execd, self.recorder)
        httpcore.serve_in_thread(sb.execd_server)
        sb.execd.port = sb.execd_server.server_address[1]
        if sb.execd.start_error:  # execd exits at start-up (it panics): its port refuses
            sb.execd_server.vanish()
        with self.lock:
            self.sandboxes[sb.id] = sb
        if self.cfg.run_entrypoint and sb.entrypoint:
            self._start_entrypoint(sb)
        self.send_json(req, resp, 202, sb.to_json(create=True))

    @staticmethod
    def check_renew_extension(ext):
        """The server's validate_extensions for access.renew.extend.seconds."""
        key = "access.renew.extend.seconds"
        if key not in ext:
            return
        raw = ext[key]
        bad = None
        if raw is None:
            bad = ('Invalid extensions["%s"]: expected a string of digits between 300 and 86400 '
                   "(5 minutes to 24 hours inclusive)." % key)
        elif not str(raw).strip():
            bad = ('Invalid extensions["%s"]: empty value; omit the key to disable renew-on-access, '
                   "or use an integer between 300 and 86400 seconds." % key)
        else:
            try:
                n = int(str(raw).strip())
            except ValueError:
                bad = ('Invalid extensions["%s"]: must be a base-10 integer string between 300 and '
                       "86400, got %r." % (key, raw))
            else:
                if not 300 <= n <= 86400:
                    bad = ('Invalid extensions["%s"]: must be between 300 and 86400 seconds '
                           "(5 minutes to 24 hours inclusive), got %d." % (key, n))
        if bad:
            raise HTTPError(400, "SANDBOX::INVALID_PARAMETER", bad)

    def _start_entrypoint(self, sb):
        """--run-entrypoint: the entrypoint runs as the sandbox's main process (its output is the
        container log); when it exits the sandbox becomes Terminated (0) or Failed."""
        sb.log_path = os.path.join(sb.execd.dir, "entrypoint.log")
        try:
            with open(sb.log_path, "wb") as log:
                p = sb.execd.sb.popen(sb.entrypoint, cwd=sb.execd.cwd, env=sb.execd.env,
                                      stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                                      start_new_session=True)
        except (OSError, ValueError, subprocess.SubprocessError) as e:
            with open(sb.log_path, "ab") as log:
                log.write(("exec %s: %s\n" % (sb.entrypoint[0], e)).encode())
            sb.set_state("Failed", "CONTAINER_EXITED_ERROR", "Sandbox container exited with code 127.")
            return
        sb.entry_proc = p

        def wait():
            rc = p.wait()
            common.unregister_process(p)
            with self.lock:
                if self.sandboxes.get(sb.id) is not sb:
                    return
                if rc == 0:
                    sb.set_state("Terminated", "CONTAINER_EXITED", "Sandbox container exited.")
                else:
                    code = rc if rc > 0 else 128 - rc
                    sb.set_state("Failed", "CONTAINER_EXITED_ERROR",
                                 "Sandbox container exited with code %d." % code)
            # the container stopped: its execd and every other process with it
            sb.execd_server.vanish()
            sb.execd.close(keep_logs=True)

        threading.Thread(target=wait, daemon=True).start()

    def list_sandboxes(self, req, resp):
        errs = []
        page = self._qint(req, "page", 1, errs, ge=1)
        size = self._qint(req, "pageSize", 20, errs, ge=1, le=200)
        if errs:
            raise Invalid(errs)
        states = [s.lower() for s in req.qall("state")]
        md_filter = None
        raw = req.q_last("metadata")
        if raw:
            # exactly the server's parse: strict, blank values kept ("a=1&&b=2" is refused)
            try:
                md_filter = dict(urllib.parse.parse_qsl(raw, keep_blank_values=True,
                                                        strict_parsing=True))
            except ValueError as e:
                raise HTTPError(400, "INVALID_METADATA_FORMAT", "Invalid metadata format: %s" % e)
        with self.lock:
            items = list(self.sandboxes.values())
        if states:
            items = [s for s in items if s.state.lower() in states]
        if md_filter:
            items = [s for s in items if all(s.metadata.get(k) == v for k, v in md_filter.items())]
        items.sort(key=lambda s: s.created, reverse=True)
        self.send_json(req, resp, 200, self._page(items, page, size, lambda s: s.to_json()))

    def _page(self, items, page, size, conv):
        total = len(items)
        pages = int(math.ceil(total / float(size))) if total else 0
        chunk = items[(page - 1) * size: page * size]
        return {"items": [conv(x) for x in chunk],
                "pagination": {"page": page, "pageSize": size, "totalItems": total,
                               "totalPages": pages, "hasNextPage": page < pages}}

    def _qint(self, req, name, default, errs, ge=None, le=None):
        raw = req.q_last(name)
        if raw is None:
            return default
        v = check_int(raw, ["query", name], errs)
        if v is None:
            return default
        if ge is not None and v < ge:
            errs.append(verr("greater_than_equal", ["query", name],
                             "Input should be greater than or equal to %d" % ge, raw, {"ge": ge}))
        if le is not None and v > le:
            errs.append(verr("less_than_equal", ["query", name],
                             "Input should be less than or equal to %d" % le, raw, {"le": le}))
        return v

    def get_sandbox(self, req, resp, sid):
        sb = self.find(sid)
        with self.lock:
            if sb.pending_polls > 0:
                sb.pending_polls -= 1
                if sb.pending_polls == 0 and sb.state == "Pending":
                    sb.set_state("Running", "CONTAINER_RUNNING", "Sandbox container is running.")
            body = sb.to_json()
        self.send_json(req, resp, 200, body)

    def delete_sandbox(self, req, resp, sid):
        sb = self.find(sid)
        self._destroy(sb)
        self.send_empty(req, resp, 204)

    def _destroy(self, sb):
        with self.lock:
            if self.sandboxes.get(sb.id) is not sb:
                return
            del self.sandboxes[sb.id]
        if sb.execd_server is not None:
            sb.execd_server.vanish()  # as the container's address does: refused from now on
        if sb.entry_proc is not None and sb.entry_proc.poll() is None:
            common.kill_group(sb.entry_proc, signal.SIGKILL)
            common.kill_group(sb.entry_proc, signal.SIGCONT)
        sb.execd.close()
        self.volumes.remove_managed(sb.auto_volumes)

    def patch_metadata(self, req, resp, sid):
        body = self.json_body(req)
        if not isinstance(body, dict):
            raise Invalid([verr("dict_type", ["body"], "Input should be a valid dictionary", body)])
        errs = []
        for k, v in body.items():
            if v is not None:
                check_str(v, ["body", k], errs)
        if errs:
            raise Invalid(errs)
        sb = self.find(sid)
        for k in body:  # reserved keys first (also to delete them), then the new values
            if k.startswith(RESERVED_PREFIX):
                raise HTTPError(400, "INVALID_METADATA_LABEL",
                                "Metadata key '%s' is reserved (opensandbox.io/ prefix)." % k)
        for k, v in body.items():
            msg = label_error(k, v) if v is not None else None
            if msg:
                raise HTTPError(400, "SANDBOX::INVALID_METADATA_LABEL", msg)
        with self.lock:
            for k, v in body.items():
                if v is None:
                    sb.metadata.pop(k, None)
                else:
                    sb.metadata[k] = v
        self.send_json(req, resp, 200, sb.to_json())

    def pause(self, req, resp, sid):
        sb = self.find(sid)
        with self.lock:
            if sb.state != "Running":
                raise HTTPError(409, "DOCKER::SANDBOX_NOT_RUNNING",
                                "Sandbox is not in a running state.")
            sb.set_state("Paused", "CONTAINER_PAUSED", "Sandbox container is paused.")
        sb.execd.pause()
        if sb.entry_proc is not None and sb.entry_proc.poll() is None:
            common.kill_group(sb.entry_proc, signal.SIGSTOP)
        self.send_empty(req, resp, 202)

    def resume(self, req, resp, sid):
        sb = self.find(sid)
        with self.lock:
            if sb.state != "Paused":
                raise HTTPError(409, "DOCKER::SANDBOX_NOT_PAUSED",
                                "Sandbox is not in a paused state.")
            sb.set_state("Running", "CONTAINER_RUNNING", "Sandbox container is running.")
        sb.execd.resume()
        if sb.entry_proc is not None and sb.entry_proc.poll() is None:
            common.kill_group(sb.entry_proc, signal.SIGCONT)
        self.send_empty(req, resp, 202)

    def renew(self, req, resp, sid):
        body = self.json_body(req)
        if not isinstance(body, dict):
            raise Invalid([verr("model_attributes_type", ["body"],
                                "Input should be a valid dictionary or object to extract fields from",
                                body)])
        has, raw = field(body, "expiresAt", "expires_at")
        if not has:
            raise Invalid([missing(["body", "expiresAt"], body)])
        errs = []
        ts = check_datetime(raw, ["body", "expiresAt"], errs)
        if errs:
            raise Invalid(errs)
        sb = self.find(sid)
        if ts <= time.time():  # checked before the sandbox's own expiration mode
            raise HTTPError(400, "DOCKER::INVALID_EXPIRATION",
                            "New expiration time must be in the future.")
        if sb.expires is None:
            raise HTTPError(409, "DOCKER::INVALID_EXPIRATION",
                            "Sandbox %s does not have automatic expiration enabled." % sid)
        with self.lock:
            sb.expires = ts
        self.send_json(req, resp, 200, {"expiresAt": py_time(ts)})

    def endpoint(self, req, resp, sid, port_s):
        errs = []
        port = check_int(port_s, ["path", "port"], errs)
        usp = False
        if req.q_last("use_server_proxy") is not None:
            usp = check_bool(req.q_last("use_server_proxy"), ["query", "use_server_proxy"], errs)
        expires = None
        if req.q_last("expires") is not None:
            expires = check_int(req.q_last("expires"), ["query", "expires"], errs)
        if errs:
            raise Invalid(errs)
        if usp and expires is not None:
            raise HTTPError(400, "SANDBOX::INVALID_PARAMETER",
                            "use_server_proxy cannot be combined with expires; signed endpoints "
                            "require the gateway route.")
        mode = self.cfg.endpoint_mode
        if expires is not None and mode == "docker":
            # the Docker runtime refuses expires before it validates the port or looks the
            # sandbox up
            raise HTTPError(400, "SANDBOX::API_NOT_SUPPORTED",
                            "Signed routes (expires parameter) are not supported when "
                            "runtime.type='docker'. Use the Kubernetes runtime for signed routes.")
        if not 1 <= port <= 65535:
            raise HTTPError(400, "DOCKER::INVALID_PORT", "Port must be between 1 and 65535.")
        if expires is not None:  # the Kubernetes runtime checks these before the lookup
            now = int(time.time())
            if expires < 0:
                raise HTTPError(400, "SANDBOX::INVALID_PARAMETER",
                                "expires must be a non-negative Unix timestamp (uint64).")
            if expires <= now:
                raise HTTPError(400, "SANDBOX::INVALID_PARAMETER",
                                "expires (%d) must be greater than current time (%d)." % (expires, now))
            if expires > 18446744073709551615:
                raise HTTPError(400, "SANDBOX::INVALID_PARAMETER",
                                "expires exceeds uint64 maximum value.")
        sb = self.find(sid)
        headers = {}
        if port == EGRESS_PORT and sb.egress_token:
            headers["OPENSANDBOX-EGRESS-AUTH"] = sb.egress_token
        gw = "%s:%d" % (self._host(), self.gateway_port or 0)
        if usp:
            host = req.header("Host") or self.domain
            ep = "%s/sandboxes/%s/proxy/%d" % (host, sid, port)
        elif mode == "k8s-header":
            ep = gw
            route = "%s-%d" % (sid, port)
            if expires is not None:
                route += "-%s-%s" % (b36(expires), self.sign(sid, port, expires))
            headers["OpenSandbox-Ingress-To"] = route
        elif mode == "k8s-uri":
            ep = "%s/%s/%d" % (gw, sid, port)
            if expires is not None:
                ep += "/%s/%s" % (b36(expires), self.sign(sid, port, expires))
        elif port == APP_PORT:
            ep = "%s:%d" % (self._host(), sb.app_port)
        else:
            ep = "%s:%d/proxy/%d" % (self._host(), sb.execd.port, port)
        out = {"endpoint": ep}
        if headers:
            out["headers"] = headers
        self.send_json(req, resp, 200, out)

    def sign(self, sid, port, expires):
        msg = ("%s|%d|%d" % (sid, port, expires)).encode()
        return hmac.new(self.sign_key, msg, hashlib.sha256).hexdigest()[:16]

    def start_gateway(self):
        if self.cfg.endpoint_mode == "docker":
            return
        self.gateway = Gateway(self)
        self.gateway_server = httpcore.make_server(self.cfg.host, 0, self.gateway, self.recorder)
        httpcore.serve_in_thread(self.gateway_server)
        self.gateway_port = self.gateway_server.server_address[1]

    def _host(self):
        h = self.cfg.host
        if h in ("0.0.0.0", "", "::"):
            return "127.0.0.1"
        if ":" in h:
            return "[" + h + "]"
        return h

    # ------------------------------------------------------------ server proxy

    def server_proxy(self, req, resp, sid, port_s, rest):
        if req.method not in ("GET", "POST", "PUT", "DELETE", "PATCH"):
            return self.send_json(req, resp, 405, {"detail": "Method Not Allowed"})
        ws = wsproxy.is_upgrade(req)
        if (req.header("Upgrade") or "").lower() == "websocket" and not ws:
            return self.send_json(req, resp, 400, {"code": "GENERAL::UNKNOWN_ERROR",
                                                   "message": "Websocket upgrade is not supported yet"})
        with self.lock:
            sb = self.sandboxes.get(sid)
        if sb is None and ws:   # the WebSocket route accepts, then closes with 1011
            return wsproxy.fail_client(resp, req.header("Sec-WebSocket-Key") or "", 1011,
                                       b"Sandbox %s not found." % sid.encode())
        if sb is None:
            return self.send_json(req, resp, 404, {"code": "DOCKER::SANDBOX_NOT_FOUND",
                                                   "message": "Sandbox %s not found." % sid})
        port = int(port_s)
        renew = (sb.extensions or {}).get("access.renew.extend.seconds")
        if renew and sb.expires is not None:
            with self.lock:  # renew-on-access
                sb.expires = max(sb.expires, time.time() + int(renew))
        if port == APP_PORT:
            target_port, path = sb.app_port, rest or "/"
        else:
            target_port, path = sb.execd.port, "/proxy/%d%s" % (port, rest or "/")
        if req.query_string:
            path += "?" + req.query_string
        hdrs = {}
        for k, v in req.headers.items():
            lk = k.lower()
            if lk in HOP_BY_HOP or lk in ("host", "authorization", "cookie", "open-sandbox-api-key",
                                          "content-length"):
                continue
            hdrs[k] = v
        hdrs.setdefault("X-Forwarded-Proto", "http")
        hdrs.setdefault("X-Forwarded-Host", req.header("Host") or "")
        hdrs.setdefault("X-Forwarded-For", req.peer)
        if ws:
            return wsproxy.relay(req, resp, self._host().strip("[]"), target_port, path, hdrs)
        body = req.body
        if body or req.method in ("POST", "PUT", "PATCH"):
            hdrs["Content-Length"] = str(len(body))
        conn = http.client.HTTPConnection(self._host().strip("[]"), target_port, timeout=3600)
        try:
            conn.connect()
        except OSError as e:
            conn.close()
            return self.send_json(req, resp, 502, {
                "code": "GENERAL::UNKNOWN_ERROR",
                "message": "Could not connect to the backend sandbox %s on port %d: %s" % (sid, port, e)})
        try:
            conn.request(req.method, path, body=body if body else None, headers=hdrs)
            up = conn.getresponse()
            out_h = [(k, v) for k, v in up.getheaders()
                     if k.lower() not in HOP_BY_HOP and k.lower() not in ("content-length", "date")]
            out_h.append(("X-Request-ID", req.rid))
            if up.getheader("Content-Length") is not None and not up.chunked:
                data = up.read()
                resp.send(up.status, out_h, data)
            else:
                resp.start_stream(up.status, out_h)
                while True:
                    chunk = up.read1(65536) if hasattr(up, "read1") else up.read(4096)
                    if not chunk:
                        break
                    resp.write_chunk(chunk)
                resp.end_stream()
        except (OSError, http.client.HTTPException) as e:
            if resp.status is None:  # the backend went away before answering
                return self.send_json(req, resp, 500, {
                    "code": "GENERAL::UNKNOWN_ERROR",
                    "message": "An internal error occurred in the proxy: %s" % e})
            resp.abort()  # mid-answer: the client's connection drops too
        finally:
            conn.close()

    # ------------------------------------------------------------ snapshots

    def create_snapshot(self, req, resp, sid):
        name = None
        body = self.json_body(req, required=False)
        if body is not None:
            if not isinstance(body, dict):
                raise Invalid([verr("model_attributes_type", ["body"],
                                    "Input should be a valid dictionary or object to extract fields "
                                    "from", body)])
            if body.get("name") is not None:
                errs = []
                if check_str(body["name"], ["body", "name"], errs) and not body["name"]:
                    errs.append(verr("string_too_short", ["body", "name"],
                                     "String should have at least 1 character", "", {"min_length": 1}))
                if errs:
                    raise Invalid(errs)
                name = body["name"]
        sb = self.find(sid)
        if sb.state != "Running":
            raise HTTPError(409, "SNAPSHOT::INVALID_SOURCE_STATE",
                            "Snapshot can only be created from a Running sandbox.")
        snap = Snapshot(common.uuid4(), sid, name)
        with self.lock:
            self.snapshots[snap.id] = snap

        def ready():
            with self.lock:
                if snap.state == "Creating":
                    snap.state, snap.reason, snap.message = ("Ready", "snapshot_ready",
                                                             "Snapshot is ready.")
                    snap.transition = time.time()

        t = threading.Timer(0.5, ready)
        t.daemon = True
        t.start()
        self.send_json(req, resp, 202, snap.to_json(), [("Location", "/v1/snapshots/" + snap.id)])

    def list_snapshots(self, req, resp):
        errs = []
        page = self._qint(req, "page", 1, errs, ge=1)
        size = self._qint(req, "pageSize", 20, errs, ge=1, le=200)
        if errs:
            raise Invalid(errs)
        sid = req.q_last("sandboxId")
        states = [s.lower() for s in req.qall("state")]
        with self.lock:
            items = list(self.snapshots.values())
        if sid:
            items = [s for s in items if s.sandbox_id == sid]
        if states:
            items = [s for s in items if s.state.lower() in states]
        items.sort(key=lambda s: s.created, reverse=True)
        self.send_json(req, resp, 200, self._page(items, page, size, lambda s: s.to_json()))

    def _find_snapshot(self, snap_id):
        with self.lock:
            snap = self.snapshots.get(snap_id)
        if snap is None:
            raise HTTPError(404, "SNAPSHOT::NOT_FOUND", "Snapshot %s not found" % snap_id)
        return snap

    def get_snapshot(self, req, resp, snap_id):
        self.send_json(req, resp, 200, self._find_snapshot(snap_id).to_json())

    def delete_snapshot(self, req, resp, snap_id):
        snap = self._find_snapshot(snap_id)
        with self.lock:
            if snap.state == "Creating":
                raise HTTPError(409, "SNAPSHOT::INVALID_STATE",
                                "Snapshot %s is still being created and cannot be deleted" % snap_id)
            self.snapshots.pop(snap_id, None)
        self.send_empty(req, resp, 204)

    # ------------------------------------------------------------ diagnostics, pools

    def diag_text(self, req, resp, sid, kind):
        if kind in ("logs", "events") and "scope" in req.query:
            raise HTTPError(501, "DIAGNOSTICS_NOT_IMPLEMENTED",
                            "The stable Diagnostics API is not implemented by this OpenSandbox server.")
        sb = self.find(sid)
        extra = [("Deprecation", "true")] if kind in ("logs", "events") else []
        if kind == "logs":
            text = self._entry_log(req) or "(no logs)"
        elif kind == "events":
            text = "\n".join(sb.log) or "(no events)"
        elif kind == "inspect":
            text = "Sandbox %s\nState: %s (%s)\nImage: %s\nEntrypoint: %s\nCreated: %s\n" % (
                sb.id, sb.state, sb.reason, (sb.image or {}).get("uri", sb.snapshot_id),
                " ".join(sb.entrypoint or []), py_time(sb.created))
        else:
            text = "Sandbox %s is %s.\n\nEvents:\n%s\n\nLogs:\n(no logs)\n" % (
                sb.id, sb.state, "\n".join(sb.log))
        self.send_text(req, resp, 200, text, extra)

    def _entry_log(self, req):
        sb_path = None
        m = re.match(r"^(?:/v1)?/sandboxes/([^/]+)/", req.path)
        if m:
            with self.lock:
                sb = self.sandboxes.get(m.group(1))
            sb_path = sb.log_path if sb is not None else None
        if not sb_path:
            return ""
        try:
            tail = int(req.q_last("tail") or 100)
        except ValueError:
            tail = 100
        tail = max(1, min(10000, tail))
        try:
            with open(sb_path, "rb") as f:
                lines = f.read().decode("utf-8", "replace").splitlines()
        except OSError:
            return ""
        return "\n".join(lines[-tail:])

    # ------------------------------------------------------------ named volumes (dev server only)

    def list_volumes(self, req, resp):
        self.send_json(req, resp, 200, [{"name": n, "mountpoint": self.volumes.mountpoint(n)}
                                        for n in self.volumes.names()])

    def put_volume(self, req, resp, name):
        """Create named volume `name` (as `docker volume create`) and write the body's
        {"files": {"relative/path": "text", ...}} into it. 201 when new, else 200."""
        body = self.json_body(req, required=False) or {}
        files = body.get("files") if isinstance(body, dict) else None
        if files is not None and (not isinstance(files, dict) or
                                  not all(isinstance(v, str) for v in files.values())):
            raise HTTPError(400, "SANDBOX::INVALID_PARAMETER",
                            "files must map relative paths to text contents.")
        try:
            created = self.volumes.create(name, files=files)
        except volumes.VolumeError as e:
            raise HTTPError(e.status, e.code, e.message)
        self.send_json(req, resp, 201 if created else 200,
                       {"name": name, "mountpoint": self.volumes.mountpoint(name)})

    def pools(self, req, resp, *args):
        raise HTTPError(501, "KUBERNETES::POOL_NOT_SUPPORTED",
                        "Pool management is only available when runtime.type is 'kubernetes'.")

    # ------------------------------------------------------------ housekeeping

    def start_reaper(self):
        def loop():
            while not self.stopping.wait(0.5):
                now = time.time()
                with self.lock:
                    dead = [s for s in self.sandboxes.values()
                            if s.expires is not None and s.expires <= now]
                for s in dead:
                    self._destroy(s)
        threading.Thread(target=loop, daemon=True).start()

    def shutdown(self):
        self.stopping.set()
        if self.gateway_server is not None:
            try:
                self.gateway_server.shutdown()
                self.gateway_server.server_close()
            except Exception:
                pass
        with self.lock:
            sbs = list(self.sandboxes.values())
        for sb in sbs:
            try:
                sb.execd.close()
            except Exception:
                pass
            try:
                sb.execd_server.server_close()
            except Exception:
                pass


def b36(n):
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    out = ""
    while True:
        n, r = divmod(n, 36)
        out = digits[r] + out
        if n == 0:
            return out


class Gateway(object):
    """Kubernetes-style ingress gateway (PROTOCOL.md section 5), header or URI routing."""

    def __init__(self, lifecycle):
        self.lc = lifecycle

    def fail(self, resp, status, reason):
        resp.send(status, [("Content-Type", "text/plain; charset=utf-8")],
                  ("OpenSandbox Ingress: %s" % reason).encode())

    def handle(self, req, resp):
        lc = self.lc
        signed = None
        if lc.cfg.endpoint_mode == "k8s-header":
            route = req.header("OpenSandbox-Ingress-To") or req.header("OPEN-SANDBOX-INGRESS")
            if not route:
                return self.fail(resp, 400, "missing OpenSandbox-Ingress-To header")
            sid, rest_route = route[:36], route[37:]
            parts = rest_route.split("-") if rest_route else []
            if len(route) < 38 or route[36] != "-" or len(parts) not in (1, 3):
                return self.fail(resp, 400, "invalid route %s" % route)
            port_s = parts[0]
            if len(parts) == 3:
                signed = (parts[1], parts[2])
            raw_rest, rest = req.raw_path, req.path
        else:
            segs = req.raw_path.split("/")
            if len(segs) < 3 or not segs[1] or not segs[2]:
                return self.fail(resp, 400, "invalid route %s" % req.path)
            sid, port_s = segs[1], segs[2]
            used = 3
            if len(segs) >= 5 and segs[3] and segs[4] and port_s.isdigit():
                try:
                    exp = int(segs[3], 36)
                    if hmac.compare_digest(lc.sign(sid, int(port_s), exp), segs[4]):
                        signed = (segs[3], segs[4])
                        used = 5
                except ValueError:
                    pass
            raw_rest = "/" + "/".join(segs[used:])
            rest = urllib.parse.unquote(raw_rest)
        if not port_s.isdigit():
            return self.fail(resp, 400, "invalid port %s" % port_s)
        port = int(port_s)
        if signed is not None:
            try:
                exp = int(signed[0], 36)
            except ValueError:
                return self.fail(resp, 401, "invalid signature")
            if not hmac.compare_digest(lc.sign(sid, port, exp), signed[1]):
                return self.fail(resp, 401, "invalid signature")
            if exp <= time.time():
                return self.fail(resp, 401, "signed route expired")
        with lc.lock:
            sb = lc.sandboxes.get(sid)
        if sb is None:
            return self.fail(resp, 404, "sandbox %s not found" % sid)
        for h in ("OpenSandbox-Ingress-To", "OPEN-SANDBOX-INGRESS", "OpenSandbox-Secure-Access"):
            del req.headers[h]
        req.path = "/proxy/%d%s" % (port, rest)
        req.raw_path = "/proxy/%d%s" % (port, raw_rest)
        req.record_path = req.path
        sb.execd.handle(req, resp)
