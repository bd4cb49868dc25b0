"""execd (PROTOCOL.md section 3): one instance per sandbox, running real processes on the host."""

import http.client
import json
import os
import queue
import re
import shutil
import signal
import stat
import subprocess
import tempfile
import threading
import time

from . import common, egress, egressdns, egressproxy, files, metrics, ptys, sandboxfs
from . import gojson
from .execd_base import JSON_CT, ExecdError, go_err, parse_go_int
from .common import go_json, go_time, now_ms

STREAM_HEADERS = [("Content-Type", "text/event-stream"), ("Cache-Control", "no-cache"),
                  ("Connection", "keep-alive"), ("X-Accel-Buffering", "no")]
UNAUTHORIZED = {"error": "Unauthorized: invalid or missing header X-EXECD-ACCESS-TOKEN"}
PING_INTERVAL = 3.0
POLL_INTERVAL = 0.05
BASH = shutil.which("bash") or "/bin/bash"
SHELL = BASH if os.path.exists(BASH) else "/bin/sh"
DEFAULT_EXECD_ENVS = "/opt/opensandbox/.env"  # what the bootstrap script exports when unset
CODE_LANGUAGES = ("python", "bash")
KNOWN_LANGUAGES = ("python", "bash", "java", "javascript", "typescript", "go", "sql")
HOP_BY_HOP = {"connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te",
              "trailer", "trailers", "transfer-encoding", "upgrade"}


def split_lines(buf, final):
    """Split on \\n, \\r and \\r\\n. Returns (lines, rest)."""
    lines = []
    i, start, n = 0, 0, len(buf)
    while i < n:
        c = buf[i]
        if c == 0x0A or c == 0x0D:
            if c == 0x0D and i + 1 == n and not final:
                break  # a \r\n may be split across reads
            lines.append(buf[start:i])
            if c == 0x0D and i + 1 < n and buf[i + 1] == 0x0A:
                i += 1
            start = i + 1
        i += 1
    rest = buf[start:]
    if final and rest:
        lines.append(rest)
        rest = b""
    return lines, rest


def event(typ, text=None, execution_count=None, execution_time=None, results=None, error=None,
          ts=None):
    e = {"type": typ}
    if text:
        e["text"] = text
    if execution_count:
        e["execution_count"] = execution_count
    if execution_time:
        e["execution_time"] = execution_time
    e["timestamp"] = ts if ts is not None else now_ms()
    if results:
        e["results"] = results
    if error is not None:
        e["error"] = error
    return e


class Stream(object):
    """execd event stream: lazy headers, JSON + blank line per event, pings every 3 s."""

    def __init__(self, resp, bare_errors=True):
        self.resp = resp
        self.bare_errors = bare_errors
        self.started = False
        self.last_ping = time.monotonic()

    def _start(self):
        if not self.started:
            self.started = True
            self.resp.start_stream(200, STREAM_HEADERS)

    def send(self, ev):
        self._start()
        self.resp.write_chunk(go_json(ev) + "\n\n")

    def ping(self):
        self.send(event("ping", text="pong"))
        self.last_ping = time.monotonic()

    def maybe_ping(self):
        if time.monotonic() - self.last_ping >= PING_INTERVAL:
            self.ping()

    def bare_error(self, message, code="RUNTIME_ERROR"):
        self._start()
        if not self.bare_errors:
            self.send(event("error", error={"ename": code, "evalue": message, "traceback": [message]}))
            return
        self.resp.write_chunk(go_json({"code": code, "message": message}))

    def end(self):
        self._start()
        self.resp.end_stream()


class Command(object):
    def __init__(self, cid, content, background):
        self.id = cid
        self.content = content
        self.background = background
        self.proc = None
        self.started = time.time_ns()
        self.finished = None
        self.exit_code = None
        self.error = None
        self.done = threading.Event()
        self.out_path = None
        self.err_path = None
        self.killed_by_timeout = False

    def status_json(self):
        out = {"id": self.id, "content": self.content, "running": not self.done.is_set()}
        if self.exit_code is not None:
            out["exit_code"] = self.exit_code
        if self.error:
            out["error"] = self.error
        out["started_at"] = go_time(self.started)
        if self.finished is not None:
            out["finished_at"] = go_time(self.finished)
        return out


class Session(object):
    def __init__(self, sid, cwd, env):
        self.id = sid
        self.cwd = cwd
        self.env = env
        self.procs = set()
        self.lock = threading.Lock()
        self.closed = False


class CodeContext(object):
    def __init__(self, cid, language, cwd, execd):
        self.id = cid
        self.language = language
        self.cwd = cwd
        self.execd = execd
        self.busy = threading.Lock()
        self.proc = None
        self.reader = None
        self.queue = None
        self.session = None  # bash contexts keep their state like a /session
        self.running_proc = None

    def ensure_python(self):
        if self.proc is not None and self.proc.poll() is None:
            return
        self.proc = self.execd.sb.popen(sandboxfs.python_worker_argv(), cwd=self.cwd or self.execd.cwd,
                                        env=self.execd.env, stdin=subprocess.PIPE,
                                        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                        start_new_session=True)
        self.queue = queue.Queue()
        q, out = self.queue, self.proc.stdout

        def read():
            for line in out:
                try:
                    q.put(json.loads(line.decode("utf-8", "replace")))
                except ValueError:
                    pass
            q.put(None)

        self.reader = threading.Thread(target=read, daemon=True)
        self.reader.start()

    def close(self):
        if self.proc is not None:
            common.kill_group(self.proc)
            common.unregister_process(self.proc)
        if self.running_proc is not None:
            common.kill_group(self.running_proc)

    def json(self):
        out = {"id": self.id, "language": self.language}
        return out


class Execd(object):
    def __init__(self, cfg, sandbox, sb):
        self.cfg = cfg
        self.sandbox = sandbox
        self.sb = sb  # sandboxfs.SandboxFS: every process and every file goes through it
        self.port = None
        self.lock = threading.RLock()
        self.commands = {}
        self.sessions = {}
        self.contexts = {}
        self.default_contexts = {}
        self.cwd = sb.cwd
        env = dict(os.environ)
        env.update(sandbox.env or {})
        self.env = env
        self.dir = os.path.join(cfg.state_dir, "sandbox-" + sandbox.id)
        os.makedirs(self.dir, exist_ok=True)
        # What execd reads from its environment, i.e. the sandbox's (PROTOCOL.md 3.1): a token,
        # the stream grace, and (set by the bootstrap script) the file of extra command envs.
        self.token = env.get("EXECD_ACCESS_TOKEN") or cfg.execd_token
        self.grace = cfg.command_grace
        self.start_error = None  # execd would exit at start-up: nothing listens
        if env.get("EXECD_API_GRACE_SHUTDOWN"):
            try:
                self.grace = max(0.0, common.parse_go_duration(env["EXECD_API_GRACE_SHUTDOWN"]))
            except ValueError as e:
                self.start_error = "Failed to parse graceful shutdown timeout from env: %s" % e
        if not env.get("EXECD_ENVS"):
            env["EXECD_ENVS"] = DEFAULT_EXECD_ENVS
        try:
            hp = sb.host(env["EXECD_ENVS"] if env["EXECD_ENVS"].startswith("/") else
                         os.path.join(self.cwd, env["EXECD_ENVS"]))
            os.makedirs(os.path.dirname(hp), exist_ok=True)
            open(hp, "ab").close()
        except OSError:
            pass  # as the bootstrap script: only a warning
        self.egress = None
        if sandbox.network_policy is not None:
            self.egress = egress.Egress(sandbox.network_policy, sandbox.egress_token,
                                        sandbox.credential_proxy, cfg.vault_state)
        self.dns = None
        if self.egress is not None and sb.net:  # the sidecar's DNS proxy, in its namespace
            self.dns = egressdns.DnsProxy(self.egress, sb, cfg.dns_upstreams)
        self.vault_proxy = None
        if self.egress is not None and sb.intercept:  # the sidecar's credential proxy (HTTP)
            self.vault_proxy = egressproxy.VaultProxy(self.egress, sb)
        self.closed = False
        self.routes = {
            ("GET", "/ping"): self.ping,
            ("POST", "/command"): self.run_command,
            ("DELETE", "/command"): self.interrupt,
            ("DELETE", "/code"): self.interrupt,
            ("POST", "/session"): self.create_session,
            ("POST", "/code/context"): self.create_context,
            ("GET", "/code/contexts"): self.list_contexts,
            ("DELETE", "/code/contexts"): self.delete_contexts,
            ("POST", "/code"): self.run_code,
            ("GET", "/metrics"): self.metrics,
            ("GET", "/metrics/watch"): self.metrics_watch,
        }
        self.fs = files.Files(self)
        self.routes.update(self.fs.routes())
        self.ptys = ptys.Ptys(self)
        self.routes[("POST", "/pty")] = self.ptys.create
        self.patterns = [
            (re.compile(r"^/command/status/([^/]+)$"), "GET", self.command_status),
            (re.compile(r"^/command/([^/]+)/logs$"), "GET", self.command_logs),
            (re.compile(r"^/session/([^/]+)/run$"), "POST", self.run_session),
            (re.compile(r"^/session/([^/]+)$"), "DELETE", self.delete_session),
            (re.compile(r"^/code/contexts/([^/]+)$"), "GET", self.get_context),
            (re.compile(r"^/code/contexts/([^/]+)$"), "DELETE", self.delete_context),
            (re.compile(r"^/pty/([^/]+)$"), "GET", self.ptys.status),
            (re.compile(r"^/pty/([^/]+)$"), "DELETE", self.ptys.delete),
            (re.compile(r"^/pty/([^/]+)/ws$"), "GET", self.ptys.attach),
        ]

    # ------------------------------------------------------------ plumbing

    def handle(self, req, resp):
        m = re.match(r"^/proxy/(44772|18080)(/.*)?$", req.path)
        if m:
            # Record the exchange as the addressed service sees it (execd or egress path).
            req.record_path = m.group(2) or "/"
        tok = self.token
        if tok and req.header("X-EXECD-ACCESS-TOKEN") != tok:
            return self.send_json(resp, 401, UNAUTHORIZED)
        if req.path.startswith("/proxy/"):  # (plain "/proxy" is an unknown route)
            return self.proxy(req, resp)
        return self.route(req, resp)

    def route(self, req, resp):
        fn = self.routes.get((req.method, req.path))
        args = ()
        if fn is None:
            for rx, method, f in self.patterns:
                if method != req.method:
                    continue
                m = rx.match(req.path)
                if m:
                    fn, args = f, m.groups()
                    break
        if fn is None:
            if req.path.endswith("/") and len(req.path) > 1 and self._routable(req.method, req.path[:-1]):
                # gin's RedirectTrailingSlash
                target = req.path[:-1] + ("?" + req.query_string if req.query_string else "")
                code = 301 if req.method == "GET" else 307
                body = b""
                if req.method == "GET":
                    body = ('<a href="%s">Moved Permanently</a>.\n\n' % target).encode()
                return resp.send(code, [("Content-Type", "text/html; charset=utf-8"),
                                        ("Location", target)], body)
            return resp.send(404, [("Content-Type", "text/plain")], b"404 page not found")
        try:
            fn(req, resp, *args)
        except ExecdError as e:
            if resp.status is None:
                self.send_error(resp, e.status, e.code, e.message)

    def _routable(self, method, path):
        if (method, path) in self.routes:
            return True
        return any(m == method and rx.match(path) for rx, m, _ in self.patterns)

    def send_json(self, resp, status, obj, extra=()):
        resp.send(status, [("Content-Type", JSON_CT)] + list(extra), go_json(obj).encode("utf-8"))

    def send_error(self, resp, status, code, message):
        body = {}
        if code:
            body["code"] = code
        if message:
            body["message"] = message
        self.send_json(resp, status, body)

    def ok(self, resp):
        resp.send(200, [], b"")

    def proxy(self, req, resp):
        m = re.match(r"^/proxy/([^/]*)(/.*)?$", req.path)
        port_s = m.group(1) if m else ""
        if not port_s:
            return http_error(resp, 400, "port is required")
        rest = (m.group(2) or "/")
        raw_rest = req.raw_path.split("/", 3)[3] if req.raw_path.count("/") >= 3 else ""
        raw_rest = "/" + raw_rest
        try:
            port = int(port_s)
        except ValueError:
            port = -1
        if port == 44772 or port == self.port:
            req.path = rest
            req.raw_path = raw_rest
            req.record_path = rest
            if rest.startswith("/proxy/"):  # execd proxying to itself proxies again
                return self.proxy(req, resp)
            return self.route(req, resp)
        if port == 18080:
            if self.egress is None:
                return http_error(resp, 502, "Bad Gateway")
            req.path = rest
            req.raw_path = raw_rest
            req.record_path = rest
            return self.egress.handle(req, resp)
        return self.forward(req, resp, port, raw_rest)

    def forward(self, req, resp, port, path):
        """httputil.ReverseProxy as execd sets it up: the client's Host kept, X-Forwarded-For
        = the first of the client's X-Forwarded-For (else X-Real-IP, else its address with
        port) followed by the client's IP, X-Forwarded-Proto: http, no X-Forwarded-Host."""
        if port <= 0 or port > 65535:
            return http_error(resp, 502, "Bad Gateway")
        if req.query_string:
            path += "?" + req.query_string
        drop = HOP_BY_HOP | {"content-length", "x-forwarded-for", "x-forwarded-proto",
                             "x-forwarded-host"}
        hdrs = [(k, v) for k, v in req.headers.items() if k.lower() not in drop]
        first = req.header("X-Forwarded-For")
        first = first.split(",")[0] if first else (req.header("X-Real-IP") or
                                                   "%s:%d" % (req.peer, req.peer_port))
        hdrs += [("X-Forwarded-For", "%s, %s" % (first, req.peer)), ("X-Forwarded-Proto", "http")]
        body = req.body
        if body or req.method in ("POST", "PUT", "PATCH"):
            hdrs.append(("Content-Length", str(len(body))))
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=3600)
        try:
            if self.sb.net:  # the service listens in the sandbox's own network namespace
                conn.sock = self.sb.socket()
                conn.sock.settimeout(3600)
                conn.sock.connect(("127.0.0.1", port))
            conn.putrequest(req.method, path, skip_host=any(k.lower() == "host" for k, _ in hdrs),
                            skip_accept_encoding=True)
            for k, v in hdrs:
                conn.putheader(k, v)
            conn.endheaders(body or None)
            up = conn.getresponse()
        except (OSError, http.client.HTTPException):
            conn.close()
            return http_error(resp, 502, "Bad Gateway")
        try:
            out_h = [(k, v) for k, v in up.getheaders()
                     if k.lower() not in HOP_BY_HOP and k.lower() not in ("content-length", "date")]
            if up.getheader("Content-Length") is not None and not up.chunked:
                resp.send(up.status, out_h, up.read())
            else:
                resp.start_stream(up.status, out_h)
                while True:
                    chunk = up.read1(65536)
                    if not chunk:
                        break
                    resp.write_chunk(chunk)
                resp.end_stream()
        except (OSError, http.client.HTTPException):
            resp.abort()  # the service went away mid-answer: so does the client's connection
        finally:
            conn.close()

    def expand(self, p):
        return files.expand_path(p, self.env, self.cwd)

    # ------------------------------------------------------------ lifecycle hooks

    def _all_procs(self):
        with self.lock:
            procs = [c.proc for c in self.commands.values() if c.proc is not None and not c.done.is_set()]
            for s in self.sessions.values():
                procs.extend(s.procs)
            for c in self.contexts.values():
                if c.proc is not None:
                    procs.append(c.proc)
                if c.running_proc is not None:
                    procs.append(c.running_proc)
        procs.extend(self.ptys.procs())
        return procs

    def pause(self):
        self.sb.signal_all(signal.SIGSTOP)  # also what left its process group
        for p in self._all_procs():
            common.kill_group(p, signal.SIGSTOP)

    def resume(self):
        for p in self._all_procs():
            common.kill_group(p, signal.SIGCONT)
        self.sb.signal_all(signal.SIGCONT)

    def close(self, keep_logs=False):
        """End every process of the sandbox (the container stops); with keep_logs its state
        directory (the container log) stays until the sandbox is deleted."""
        self.closed = True
        if self.dns is not None:
            self.dns.close()
        if self.vault_proxy is not None:
            self.vault_proxy.close()
        self.sb.close()  # with namespaces, this alone ends every process of the sandbox
        for p in self._all_procs():
            common.kill_group(p, signal.SIGKILL)
            common.kill_group(p, signal.SIGCONT)
        with self.lock:
            ctxs = list(self.contexts.values())
        for c in ctxs:
            c.close()
        self.ptys.close_all()
        if not keep_logs:
            common.rmtree_quiet(self.dir)

    # ------------------------------------------------------------ simple routes

    def ping(self, req, resp):
        self.ok(resp)

    # ------------------------------------------------------------ processes

    def extra_envs(self):
        """execd's loadExtraEnvFromFile: KEY=VALUE lines of the file $EXECD_ENVS names (read on
        every command), values expanded against execd's environment."""
        try:
            p = self.expand(self.env["EXECD_ENVS"])
            with open(self.sb.host(p), "rb") as f:
                data = f.read().decode("utf-8", "replace")
        except (OSError, ValueError, KeyError):
            return {}
        out = {}
        for line in data.split("\n"):
            line = line.strip()
            if not line or line.startswith("#") or "=" not in line:
                continue
            k, _, v = line.partition("=")
            out[k] = common.go_expand_env(v, self.env)
        return out

    def _spawn(self, command, cwd, envs, uid, gid, stdout, stderr):
        env = dict(self.env)
        env.update(self.extra_envs())
        if envs:
            env.update({str(k): str(v) for k, v in envs.items()})
        return self.sb.popen([SHELL, "-c", command], cwd=cwd or self.cwd, env=env, uid=uid, gid=gid,
                             stdin=subprocess.DEVNULL, stdout=stdout, stderr=stderr,
                             start_new_session=True, close_fds=True)

    def _watch(self, cmd, timeout_ms):
        def wait():
            rc = cmd.proc.wait()
            cmd.exit_code, err = common.exit_description(rc)
            cmd.error = None if rc == 0 else err
            cmd.finished = time.time_ns()
            common.unregister_process(cmd.proc)
            cmd.done.set()

        threading.Thread(target=wait, daemon=True).start()
        if timeout_ms:
            def expire():
                if not cmd.done.wait(timeout_ms / 1000.0):
                    cmd.killed_by_timeout = True
                    common.kill_group(cmd.proc, signal.SIGKILL)
            threading.Thread(target=expire, daemon=True).start()

    def decode(self, req, t, prefix="error parsing request, MAYBE invalid body format. "):
        try:
            return gojson.decode(req.body, t)
        except gojson.GoJSONError as e:
            raise ExecdError(400, "INVALID_REQUEST_BODY", prefix + str(e))

    def check_cwd(self, cwd):
        """execd's ValidateWorkingDir: the error text, or None."""
        if not cwd:
            return None
        try:
            rel = files.expand_path(cwd, self.env, self.cwd, absolute=False)
        except ValueError as e:
            return "cannot resolve working directory %s: %s" % (go_quote(cwd), e)
        try:
            st = os.stat(self.sb.host(self.expand(rel)))
        except FileNotFoundError as e:
            return "working directory does not exist: %s: %s" % (cwd, go_err("stat", rel, e))
        except OSError as e:
            return "cannot access working directory %s: %s" % (go_quote(cwd), go_err("stat", rel, e))
        if not stat.S_ISDIR(st.st_mode):
            return "working directory path is not a directory: %s" % cwd
        return None

    def _parse_command_request(self, req):
        body = self.decode(req, RUN_COMMAND)
        command, cwd, timeout = body["command"], body["cwd"], body["timeout"]
        uid, gid, envs = body["uid"], body["gid"], body["envs"]
        failures = []
        if not command:
            failures.append(("Command", "required"))
        if timeout and timeout < 1:
            failures.append(("TimeoutMs", "gte"))
        problem = gojson.validation_error("RunCommandRequest", failures) if failures else None
        if problem is None and gid is not None and uid is None:
            problem = "uid is required when gid is provided"
        if problem is None:
            problem = self.check_cwd(cwd)
        if problem is not None:
            raise ExecdError(400, "INVALID_REQUEST_BODY", "invalid request, validation error " + problem)
        if cwd:
            try:
                cwd = files.expand_path(cwd, dict(self.env, **(envs or {})), self.cwd)
            except ValueError as e:
                raise ExecdError(500, "RUNTIME_ERROR", "error running commands resolve request cwd "
                                 "%s: %s" % (body["cwd"], e))
        return command, cwd, body["background"], timeout, uid, gid, envs

    def run_command(self, req, resp):
        command, cwd, background, timeout, uid, gid, envs = self._parse_command_request(req)
        if background:
            return self._run_background(resp, command, cwd, timeout, uid, gid, envs)
        self._run_foreground(resp, command, cwd, timeout, uid, gid, envs, self.grace)

    def _run_foreground(self, resp, command, cwd, timeout, uid, gid, envs, grace):
        cmd = Command(common.hex32(), command, False)
        cmd.out_path = os.path.join(self.dir, cmd.id + ".stdout")
        cmd.err_path = os.path.join(self.dir, cmd.id + ".stderr")
        if not os.path.isdir(self.dir):
            # the sandbox was deleted while this request was on its way
            raise ExecdError(500, "RUNTIME_ERROR", "the sandbox no longer exists")
        stream = Stream(resp, self.cfg.stream_errors == "bare")
        start_error = None
        with open(cmd.out_path, "wb") as fo, open(cmd.err_path, "wb") as fe:
            try:
                cmd.proc = self._spawn(command, cwd, envs, uid, gid, fo, fe)
            except (OSError, subprocess.SubprocessError, ValueError) as e:
                start_error = str(e)
        with self.lock:
            self.commands[cmd.id] = cmd
        stream.send(event("init", text=cmd.id))
        if start_error is not None:
            cmd.exit_code, cmd.error, cmd.finished = 255, start_error, time.time_ns()
            cmd.done.set()
            stream.ping()
            stream.send(event("error", error={"ename": "CommandExecError", "evalue": start_error,
                                              "traceback": [start_error]}))
            time.sleep(grace)
            stream.end()
            return
        self._watch(cmd, timeout)
        stream.ping()
        t0 = time.monotonic()
        fo, fe = open(cmd.out_path, "rb"), open(cmd.err_path, "rb")
        try:
            bufs = {"stdout": b"", "stderr": b""}
            while True:
                finished = cmd.done.is_set()
                for name, f in (("stdout", fo), ("stderr", fe)):
                    data = f.read()
                    if data or finished:
                        lines, bufs[name] = split_lines(bufs[name] + data, finished)
                        for ln in lines:
                            text = ln.decode("utf-8", "replace") if ln else "\n"
                            stream.send(event(name, text=text))
                if finished:
                    break
                stream.maybe_ping()
                cmd.done.wait(POLL_INTERVAL)
        finally:
            fo.close()
            fe.close()
            for p in (cmd.out_path, cmd.err_path):
                try:
                    os.unlink(p)
                except OSError:
                    pass
        if cmd.exit_code == 0:
            stream.send(event("execution_complete",
                              execution_time=int((time.monotonic() - t0) * 1000)))
        else:
            stream.send(event("error", error={"ename": "CommandExecError", "evalue": str(cmd.exit_code),
                                              "traceback": [cmd.error]}))
        if grace > 0:
            time.sleep(grace)
        stream.end()

    def _run_background(self, resp, command, cwd, timeout, uid, gid, envs):
        cmd = Command(common.hex32(), command, True)
        cmd.out_path = os.path.join(self.dir, cmd.id + ".log")
        stream = Stream(resp, self.cfg.stream_errors == "bare")
        t0 = time.monotonic()
        start_error = None
        with open(cmd.out_path, "wb") as fo:
            try:
                cmd.proc = self._spawn(command, cwd, envs, uid, gid, fo, subprocess.STDOUT)
            except (OSError, subprocess.SubprocessError, ValueError) as e:
                start_error = str(e)
        with self.lock:
            self.commands[cmd.id] = cmd
        stream.send(event("init", text=cmd.id))
        stream.ping()
        if start_error is not None:
            cmd.exit_code, cmd.error, cmd.finished = 255, start_error, time.time_ns()
            cmd.done.set()
            stream.bare_error("error running commands failed to start commands: " + start_error)
            stream.end()
            return
        self._watch(cmd, timeout)
        stream.send(event("execution_complete", execution_time=int((time.monotonic() - t0) * 1000)))
        if self.grace > 0:
            time.sleep(self.grace)
        stream.end()

    def command_status(self, req, resp, cid):
        with self.lock:
            cmd = self.commands.get(cid)
        if cmd is None:
            raise ExecdError(404, "INVALID_REQUEST_BODY", "command not found: %s" % cid)
        self.send_json(resp, 200, cmd.status_json())

    def command_logs(self, req, resp, cid):
        with self.lock:
            cmd = self.commands.get(cid)
        if cmd is None:
            raise ExecdError(400, "INVALID_REQUEST_BODY", "command not found: %s" % cid)
        if not cmd.background:
            raise ExecdError(400, "INVALID_REQUEST_BODY", "command %s is not running in background" % cid)
        cursor = parse_go_int(req.q("cursor", "")) or 0
        if cursor < 0:
            raise ExecdError(400, "INVALID_REQUEST_BODY", "error seek file: seek /tmp/%s.output: "
                             "invalid argument" % cid)
        try:
            with open(cmd.out_path, "rb") as f:
                f.seek(cursor)
                data = f.read()
                size = f.tell()  # a cursor past the end stays where it is
        except OSError as e:
            raise ExecdError(400, "INVALID_REQUEST_BODY", "error open combined output file for "
                             "command %s: %s" % (cid, go_err("open", "/tmp/%s.output" % cid, e)))
        resp.send(200, [("Content-Type", "text/plain; charset=utf-8"),
                        ("EXECD-COMMANDS-TAIL-CURSOR", str(size))], data)

    # ------------------------------------------------------------ interrupt

    def interrupt(self, req, resp):
        cid = req.q("id", "")
        if not cid:
            raise ExecdError(400, "MISSING_QUERY", "missing query parameter 'id'")
        with self.lock:
            ctx = self.contexts.get(cid)
            cmd = self.commands.get(cid)
            sess = self.sessions.get(cid)
        if ctx is not None:
            if ctx.language == "python" and ctx.proc is not None and ctx.proc.poll() is None \
                    and ctx.busy.locked():
                try:
                    ctx.proc.send_signal(signal.SIGINT)
                except OSError:
                    pass
            elif ctx.running_proc is not None:
                common.kill_group(ctx.running_proc, signal.SIGINT)
            return self.ok(resp)
        if cmd is not None:
            if cmd.done.is_set():
                raise ExecdError(500, "RUNTIME_ERROR", "error interruptting code context. command "
                                 "session %s is not running" % cid)
            common.kill_group(cmd.proc, signal.SIGTERM)
            if not cmd.done.wait(3.0):
                common.kill_group(cmd.proc, signal.SIGKILL)
                cmd.done.wait(2.0)
            return self.ok(resp)
        if sess is not None:
            self._close_session(sess)
            return self.ok(resp)
        raise ExecdError(500, "RUNTIME_ERROR", "error interruptting code context. no such session")

    # ------------------------------------------------------------ bash sessions

    def create_session(self, req, resp):
        cwd = ""
        if req.body.strip(b" \t\r\n"):
            cwd = self.decode(req, CREATE_SESSION, "error parsing request. ")["cwd"]
        if cwd:
            try:
                cwd = self.expand(cwd)
            except ValueError as e:
                raise ExecdError(500, "RUNTIME_ERROR", "error creating session. resolve request "
                                 "cwd %s: %s" % (cwd, e))
            try:
                os.makedirs(self.sb.host(cwd), exist_ok=True)
            except OSError as e:
                raise ExecdError(500, "RUNTIME_ERROR", "error creating session. %s"
                                 % go_err("mkdir", cwd, e))
        s = Session(common.uuid4(), self.sb.proc_path(cwd or self.cwd), None)
        with self.lock:
            self.sessions[s.id] = s
        self.send_json(resp, 200, {"session_id": s.id})

    def _close_session(self, s):
        with self.lock:
            self.sessions.pop(s.id, None)
        s.closed = True
        for p in list(s.procs):
            common.kill_group(p, signal.SIGKILL)

    def delete_session(self, req, resp, sid):
        with self.lock:
            s = self.sessions.get(sid)
        if s is None:
            raise ExecdError(404, "CONTEXT_NOT_FOUND", "session %s not found" % sid)
        self._close_session(s)
        self.ok(resp)

    def _bash_run(self, state, command, cwd, on_output, timeout_ms, check_abort=None, raw=False):
        """Run command in a fresh bash that restores and then saves state (env + cwd).

        on_output(bytes) receives output (lines without terminator, or raw chunks when raw).
        Returns (exit_code or None, timed_out)."""
        # The state comes back through two host-side files the shell inherits as open fds (the
        # sandbox has no path to them).
        envf = tempfile.TemporaryFile(dir=self.dir)
        cwdf = tempfile.TemporaryFile(dir=self.dir)
        script = ("trap '__osb_rc=$?; env -0 >&%d; pwd >&%d; exit $__osb_rc' EXIT\n"
                  % (envf.fileno(), cwdf.fileno()))
        script += "cd %s || exit 1\n" % shquote(self.sb.proc_path(cwd) if cwd else state.cwd)
        script += command + "\n"
        env = state.env if state.env is not None else self.env
        try:
            p = self.sb.popen([BASH, "--noprofile", "--norc", "-c", script], cwd=self.cwd, env=env,
                              stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, start_new_session=True,
                              pass_fds=(envf.fileno(), cwdf.fileno()))
        except BaseException:
            envf.close()
            cwdf.close()
            raise
        state.procs.add(p)
        q = queue.Queue()

        def reader():
            fd = p.stdout.fileno()
            if raw:
                while True:
                    chunk = os.read(fd, 65536)
                    if not chunk:
                        break
                    q.put(chunk)
            else:
                for line in p.stdout:
                    q.put(line)
            q.put(None)

        threading.Thread(target=reader, daemon=True).start()
        deadline = time.monotonic() + (timeout_ms / 1000.0 if timeout_ms else 86400)
        timed_out = False
        try:
            while True:
                try:
                    item = q.get(timeout=0.2)
                except queue.Empty:
                    item = False
                if item is None:
                    break
                if item:
                    on_output(item)
                elif check_abort:
                    check_abort()
                if not timed_out and time.monotonic() > deadline:
                    timed_out = True
                    common.kill_group(p, signal.SIGKILL)
        except BaseException:
            common.kill_group(p, signal.SIGKILL)
            raise
        finally:
            rc = p.wait()
            state.procs.discard(p)
            common.unregister_process(p)
            p.stdout.close()
            if not timed_out and not state.closed:
                try:
                    envf.seek(0)
                    data = envf.read()
                    newenv = {}
                    for item in data.split(b"\0"):
                        if b"=" in item:
                            k, _, v = item.partition(b"=")
                            newenv[k.decode("utf-8", "replace")] = v.decode("utf-8", "replace")
                    if newenv:
                        state.env = newenv
                    cwdf.seek(0)
                    c = cwdf.read().decode("utf-8", "surrogateescape").strip()
                    if c:
                        state.cwd = c
                except OSError:
                    pass
            envf.close()
            cwdf.close()
        if timed_out:
            return None, True
        return rc, False

    def run_session(self, req, resp, sid):
        body = self.decode(req, RUN_IN_SESSION, "error parsing request. ")
        command, cwd, timeout = body["command"], body["cwd"], body["timeout"]
        failures = []
        if not command:
            failures.append(("Command", "required"))
        if timeout < 0:
            failures.append(("Timeout", "gte"))
        problem = gojson.validation_error("RunInSessionRequest", failures) if failures else None
        if problem is None:
            problem = self.check_cwd(cwd)
        if problem is not None:
            raise ExecdError(400, "INVALID_REQUEST_BODY", "invalid request. " + problem)
        if cwd:
            cwd = self.expand(cwd)
        with self.lock:
            s = self.sessions.get(sid)
        if s is None:
            raise ExecdError(500, "RUNTIME_ERROR", "error running in session. context not found")
        stream = Stream(resp, self.cfg.stream_errors == "bare")
        stream.send(event("init", text=s.id))
        stream.ping()
        t0 = time.monotonic()

        def out(line):
            text = line.rstrip(b"\n").rstrip(b"\r")
            if text:
                stream.send(event("stdout", text=text.decode("utf-8", "replace")))
            stream.maybe_ping()

        rc, timed_out = self._bash_run(s, command, cwd, out, timeout or 0, stream.maybe_ping)
        if timed_out:
            stream.bare_error("error running in session. timeout after %s"
                              % common.go_duration_ms(timeout))
        elif rc == 0:
            stream.send(event("execution_complete", execution_time=int((time.monotonic() - t0) * 1000)))
        else:
            code, desc = common.exit_description(rc)
            stream.send(event("error", error={"ename": "CommandExecError", "evalue": str(code),
                                              "traceback": [desc]}))
        stream.end()

    # ------------------------------------------------------------ code contexts

    def create_context(self, req, resp):
        body = self.decode(req, CODE_CONTEXT_REQUEST)
        lang, cwd = body["language"], body["cwd"]
        if lang not in CODE_LANGUAGES or not self.cfg.code_interpreter:
            # what execd answers when Jupyter has no kernel for the language ("" included)
            raise ExecdError(500, "RUNTIME_ERROR", "error creating code context. no kernel specs found")
        if cwd:
            try:
                self.expand(cwd)
            except ValueError as e:
                raise ExecdError(500, "RUNTIME_ERROR", "error creating code context. %s" % e)
        ctx = self._new_context(lang, cwd)
        out = {"id": ctx.id, "language": lang}
        if cwd:
            out["cwd"] = cwd
        self.send_json(resp, 200, out)

    def _new_context(self, lang, cwd=None):
        real_cwd = None
        if cwd:
            real_cwd = self.expand(cwd)
            os.makedirs(self.sb.host(real_cwd), exist_ok=True)
        ctx = CodeContext(common.uuid4(), lang, real_cwd, self)
        if lang == "python":
            try:
                ctx.ensure_python()
            except OSError as e:
                raise ExecdError(500, "RUNTIME_ERROR", "error creating code context. %s" % e)
        else:
            ctx.session = Session(ctx.id, self.sb.proc_path(real_cwd or self.cwd), None)
        with self.lock:
            self.contexts[ctx.id] = ctx
        return ctx

    def list_contexts(self, req, resp):
        lang = req.q("language", "")
        if lang in ("command", "background-command", "sql"):
            raise ExecdError(500, "RUNTIME_ERROR", "unsupported language context operation: %s" % lang)
        with self.lock:
            ctxs = [c for c in self.contexts.values() if not lang or c.language == lang]
        self.send_json(resp, 200, [c.json() for c in ctxs])

    def delete_contexts(self, req, resp):
        lang = req.q("language", "")
        if not lang:
            raise ExecdError(400, "MISSING_QUERY", "missing query parameter 'language'")
        with self.lock:
            victims = [c for c in self.contexts.values() if c.language == lang]
            for c in victims:
                del self.contexts[c.id]
                if self.default_contexts.get(lang) is c:
                    del self.default_contexts[lang]
        for c in victims:
            c.close()
        self.ok(resp)

    def get_context(self, req, resp, cid):
        with self.lock:
            c = self.contexts.get(cid)
        if c is None:
            raise ExecdError(404, "CONTEXT_NOT_FOUND", "context %s not found" % cid)
        self.send_json(resp, 200, c.json())

    def delete_context(self, req, resp, cid):
        with self.lock:
            c = self.contexts.pop(cid, None)
            if c is not None and self.default_contexts.get(c.language) is c:
                del self.default_contexts[c.language]
        if c is None:
            raise ExecdError(404, "CONTEXT_NOT_FOUND", "context %s not found" % cid)
        c.close()
        self.ok(resp)

    def run_code(self, req, resp):
        body = self.decode(req, RUN_CODE)
        code = body["code"]
        if not code:
            raise ExecdError(400, "INVALID_REQUEST_BODY", "invalid request, validation error "
                             + gojson.validation_error("RunCodeRequest", [("Code", "required")]))
        lang, cid = body["context"]["language"], body["context"]["id"]
        if not lang:
            return self._run_foreground(resp, code, None, 0, None, None, None, 0)
        if lang not in KNOWN_LANGUAGES:
            raise ExecdError(500, "RUNTIME_ERROR", "error running codes unknown language: %s" % lang)
        if not self.cfg.code_interpreter or lang == "sql":  # (no SQL server here)
            raise ExecdError(500, "RUNTIME_ERROR", "error running codes language runtime server not "
                             "configured, please check your image runtime")
        if cid:
            # execd runs on the context's own kernel, whatever language the request names
            with self.lock:
                ctx = self.contexts.get(cid)
            if ctx is None:
                raise ExecdError(500, "RUNTIME_ERROR", "error running codes context not found")
        elif lang not in CODE_LANGUAGES:
            # Jupyter has no kernel for it (this server has python and bash only)
            raise ExecdError(500, "RUNTIME_ERROR", "error running codes no kernel specs found")
        else:
            with self.lock:
                ctx = self.default_contexts.get(lang)
            if ctx is None:
                ctx = self._new_context(lang)
                with self.lock:
                    self.default_contexts[lang] = ctx
        stream = Stream(resp, self.cfg.stream_errors == "bare")
        stream.send(event("init", text=ctx.id))
        if not ctx.busy.acquire(blocking=False):
            stream.bare_error("error running codes session is busy")
            stream.end()
            return
        try:
            stream.ping()
            if ctx.language == "python":
                self._run_python(ctx, code, stream)
            else:
                self._run_bash_code(ctx, code, stream)
        finally:
            ctx.busy.release()
        stream.end()

    def _run_python(self, ctx, code, stream):
        t0 = time.monotonic()
        try:
            ctx.ensure_python()
            ctx.proc.stdin.write((json.dumps({"code": code}) + "\n").encode("utf-8"))
            ctx.proc.stdin.flush()
        except (OSError, ValueError) as e:
            stream.bare_error("error running codes %s" % e)
            return
        q = ctx.queue
        while True:
            try:
                msg = q.get(timeout=0.2)
            except queue.Empty:
                stream.maybe_ping()
                continue
            if msg is None:
                stream.send(event("status", text="error"))
                stream.send(event("error", error={"ename": "DeadKernelError",
                                                  "evalue": "the kernel process exited",
                                                  "traceback": None}))
                break
            t = msg.get("t")
            if t in ("stdout", "stderr"):
                stream.send(event(t, text=msg["text"]))
            elif t == "result":
                ts = now_ms()
                stream.send(event("execution_count", execution_count=msg["count"], ts=ts))
                stream.send(event("result", results={"text": msg["text"]}, ts=ts))
            elif t == "error":
                stream.send(event("status", text="error"))
                stream.send(event("error", error={"ename": msg["ename"], "evalue": msg["evalue"],
                                                  "traceback": msg["traceback"] or None}))
            elif t == "done":
                break
            stream.maybe_ping()
        stream.send(event("execution_complete", execution_time=int((time.monotonic() - t0) * 1000)))

    def _run_bash_code(self, ctx, code, stream):
        t0 = time.monotonic()

        def out(chunk):
            stream.send(event("stdout", text=chunk.decode("utf-8", "replace")))

        rc, _ = self._bash_run(ctx.session, code, None, out, 0, stream.maybe_ping, raw=True)
        if rc:
            code_, _desc = common.exit_description(rc)
            stream.send(event("status", text="error"))
            stream.send(event("error", error={"ename": "", "evalue": str(code_), "traceback": []}))
        stream.send(event("execution_complete", execution_time=int((time.monotonic() - t0) * 1000)))

    # ------------------------------------------------------------ metrics

    def metrics(self, req, resp):
        try:
            m = metrics.sample(0.25)
        except Exception as e:
            raise ExecdError(500, "RUNTIME_ERROR", "error reading runtime metrics. %s" % e)
        self.send_json(resp, 200, m)

    def metrics_watch(self, req, resp):
        resp.start_stream(200, STREAM_HEADERS)
        while not self.closed:
            time.sleep(1.0)
            try:
                line = go_json(metrics.sample(1.0))
            except Exception as e:
                line = go_json({"error": "failed to get CPU percent: %s" % e})
            resp.write_chunk(line + "\n")


def http_error(resp, status, text):
    """Go's http.Error: the text and a newline, as text/plain with nosniff."""
    resp.send(status, [("Content-Type", "text/plain; charset=utf-8"),
                       ("X-Content-Type-Options", "nosniff")], (text + "\n").encode())


def go_quote(s):
    """Go's %q of a string."""
    out = []
    for ch in s:
        o = ord(ch)
        if ch in '"\\':
            out.append("\\" + ch)
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\t":
            out.append("\\t")
        elif ch == "\r":
            out.append("\\r")
        elif o < 0x20 or o == 0x7F:
            out.append("\\x%02x" % o)
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


RUN_COMMAND = gojson.struct("model.RunCommandRequest", [
    ("command", gojson.STRING), ("cwd", gojson.STRING), ("background", gojson.BOOL),
    ("timeout", gojson.INT64), ("uid", gojson.ptr(gojson.UINT32)), ("gid", gojson.ptr(gojson.UINT32)),
    ("envs", gojson.map_of(gojson.STRING, "map[string]string"))])
RUN_IN_SESSION = gojson.struct("model.RunInSessionRequest", [
    ("command", gojson.STRING), ("cwd", gojson.STRING), ("timeout", gojson.INT64)])
CREATE_SESSION = gojson.struct("model.CreateSessionRequest", [("cwd", gojson.STRING)])
CODE_CONTEXT_REQUEST = gojson.struct("model.CodeContextRequest", [
    ("language", gojson.STRING), ("cwd", gojson.STRING)])
RUN_CODE = gojson.struct("model.RunCodeRequest", [
    ("context", gojson.struct("model.CodeContext", [
        ("id", gojson.STRING), ("language", gojson.STRING, "CodeContextRequest"),
        ("cwd", gojson.STRING, "CodeContextRequest")])),
    ("code", gojson.STRING)])


def shquote(s):
    return "'" + s.replace("'", "'\\''") + "'"
