"""Shared helpers: configuration, JSON encodings, timestamps, ids, process registry."""

import datetime
import json
import math
import os
import re
import shutil
import signal
import socket
import threading
import time
import uuid


class Config(object):
    def __init__(self, host, api_key, execd_token, command_grace, max_timeout, state_dir):
        self.host = host
        self.api_key = api_key
        self.execd_token = execd_token
        self.command_grace = command_grace
        self.max_timeout = max_timeout
        self.state_dir = state_dir
        self.spec_mode = 0
        self.stream_errors = "bare"
        self.code_interpreter = True
        self.vault_state = "ready"
        self.endpoint_mode = "docker"
        self.run_entrypoint = False
        self.allowed_host_paths = []  # storage.allowed_host_paths: empty refuses every host path
        self.volume_dir = None       # named volumes (default: STATE_DIR/volumes)
        self.volume_seeds = []       # [(name, seed directory or None)] created at start-up
        self.dns_upstreams = []      # resolvers the egress DNS proxy forwards to (default: host's)


# ---------------------------------------------------------------- JSON

def _go_fix(v):
    """Go prints integral float64 values without a decimal point."""
    if isinstance(v, float) and math.isfinite(v) and v == int(v) and abs(v) < 1e21:
        return int(v)
    if isinstance(v, dict):
        return {k: _go_fix(x) for k, x in v.items()}
    if isinstance(v, list):
        return [_go_fix(x) for x in v]
    return v


def go_json(obj):
    """encoding/json style: compact, UTF-8, HTML-safe escaping of < > & and U+2028/2029."""
    s = json.dumps(_go_fix(obj), ensure_ascii=False, separators=(",", ":"))
    return (s.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
            .replace("\u2028", "\\u2028").replace("\u2029", "\\u2029"))


def py_json(obj):
    """FastAPI JSONResponse style: compact, UTF-8."""
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":"))


# ---------------------------------------------------------------- time

def go_time(ts=None):
    """RFC 3339 with nanoseconds, trailing zeros trimmed, UTC 'Z' (Go time.Time)."""
    if ts is None:
        ts = time.time_ns()
    elif isinstance(ts, float):
        ts = int(ts * 1e9)
    sec, ns = divmod(ts, 1000000000)
    base = datetime.datetime.fromtimestamp(sec, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S")
    if ns:
        base += "." + ("%09d" % ns).rstrip("0")
    return base + "Z"


def py_time(ts):
    """pydantic v2 style: microseconds when non-zero, 'Z' for UTC."""
    dt = datetime.datetime.fromtimestamp(ts, datetime.timezone.utc)
    s = dt.strftime("%Y-%m-%dT%H:%M:%S")
    if dt.microsecond:
        s += ".%06d" % dt.microsecond
    return s + "Z"


def now_ms():
    return int(time.time() * 1000)


_ISO_RE = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})(?:[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?)?"
    r"\s*(Z|z|[+-]\d{2}(?::?\d{2})?)?$")


def parse_iso(s):
    """Parse an ISO-8601 / RFC 3339 datetime (naive = UTC). Returns epoch seconds or None."""
    if not isinstance(s, str):
        if isinstance(s, (int, float)) and not isinstance(s, bool):
            return float(s)
        return None
    m = _ISO_RE.match(s.strip())
    if not m:
        return None
    y, mo, d, hh, mm, ss, frac, tz = m.groups()
    try:
        dt = datetime.datetime(int(y), int(mo), int(d), int(hh or 0), int(mm or 0), int(ss or 0),
                               int((frac or "0")[:6].ljust(6, "0")))
    except ValueError:
        return None
    off = 0
    if tz and tz not in ("Z", "z"):
        sign = -1 if tz[0] == "-" else 1
        digits = tz[1:].replace(":", "")
        off = sign * (int(digits[:2]) * 3600 + int(digits[2:4] or 0) * 60)
    dt = dt.replace(tzinfo=datetime.timezone.utc)
    return dt.timestamp() - off


# ---------------------------------------------------------------- durations

_DUR_RE = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)")
_DUR_UNIT = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}


def parse_duration(s):
    """Go duration ("1s", "200ms", "1m30s") or plain seconds -> float seconds."""
    s = str(s).strip()
    try:
        return max(0.0, float(s))
    except ValueError:
        pass
    total, pos = 0.0, 0
    for m in _DUR_RE.finditer(s):
        if m.start() != pos:
            raise ValueError("bad duration %r" % s)
        total += float(m.group(1)) * _DUR_UNIT[m.group(2)]
        pos = m.end()
    if pos != len(s) or not s:
        raise ValueError("bad duration %r" % s)
    return total


_GO_DUR_RE = re.compile(r"([0-9]*(?:\.[0-9]*)?)(ns|us|\u00b5s|\u03bcs|ms|s|m|h)")


def parse_go_duration(s):
    """time.ParseDuration, strictly (a unit on every number; "0" alone allowed) -> seconds."""
    orig = s
    neg = s[:1] == "-"
    if s[:1] in "+-":
        s = s[1:]
    if s == "0":
        return 0.0
    if not s:
        raise ValueError('time: invalid duration "%s"' % orig)
    total, pos = 0.0, 0
    for m in _GO_DUR_RE.finditer(s):
        num = m.group(1)
        if m.start() != pos or num in ("", "."):
            raise ValueError('time: invalid duration "%s"' % orig)
        total += float(num) * _DUR_UNIT.get(m.group(2), 1e-6)
        pos = m.end()
    if pos != len(s):
        if s[pos:].replace(".", "").isdigit():
            raise ValueError('time: missing unit in duration "%s"' % orig)
        raise ValueError('time: invalid duration "%s"' % orig)
    return -total if neg else total


_EXPAND_RE = re.compile(r"\$(?:\{([^}]*)\}|([A-Za-z0-9_]+)|([*#$@!?\-]))")


def go_expand_env(s, env):
    """os.ExpandEnv: $NAME and ${NAME} replaced by their values (unset: empty)."""
    def sub(m):
        name = m.group(1) if m.group(1) is not None else (m.group(2) or m.group(3))
        if m.group(2) and m.group(2)[0].isdigit():
            name = m.group(2)[0]
            return env.get(name, "") + m.group(2)[1:]
        return env.get(name, "")
    return _EXPAND_RE.sub(sub, s)


def go_duration_ms(ms):
    """time.Duration.String() for a whole number of milliseconds."""
    if ms == 0:
        return "0s"
    neg = ms < 0
    ms = abs(ms)
    if ms < 1000:
        out = "%dms" % ms
    else:
        h, rem = divmod(ms, 3600000)
        m, rem = divmod(rem, 60000)
        s, frac = divmod(rem, 1000)
        sec = str(s)
        if frac:
            sec += "." + ("%03d" % frac).rstrip("0")
        out = ""
        if h:
            out += "%dh" % h
        if h or m:
            out += "%dm" % m
        out += sec + "s"
    return ("-" if neg else "") + out


# ---------------------------------------------------------------- ids

def uuid4():
    return str(uuid.uuid4())


def hex32():
    return uuid.uuid4().hex


# ---------------------------------------------------------------- processes

_procs_lock = threading.Lock()
_procs = {}


def register_process(p):
    with _procs_lock:
        _procs[p.pid] = p


def unregister_process(p):
    with _procs_lock:
        _procs.pop(p.pid, None)


def kill_group(p, sig=signal.SIGKILL):
    """Signal the process group led by p (all our children start their own group)."""
    if hasattr(p, "signal_group"):  # started in a sandbox's namespaces (sandboxfs.SandboxProc)
        return p.signal_group(sig)
    try:
        os.killpg(p.pid, sig)
    except (ProcessLookupError, PermissionError, OSError):
        try:
            p.send_signal(sig)
        except Exception:
            pass


def kill_all_processes():
    with _procs_lock:
        procs = list(_procs.values())
        _procs.clear()
    for p in procs:
        if p.poll() is None:
            kill_group(p, signal.SIGKILL)
        else:
            # The leader is gone but members of its group may still run.
            try:
                os.killpg(p.pid, signal.SIGKILL)
            except Exception:
                pass
    for p in procs:
        try:
            p.wait(timeout=2)
        except Exception:
            pass


def pump(a, b, half_close=True):
    """Copy socket a into socket b until a ends; then (half_close) pass the end on."""
    try:
        while True:
            data = a.recv(65536)
            if not data:
                break
            b.sendall(data)
    except OSError:
        pass
    if half_close:
        for s, how in ((b, socket.SHUT_WR), (a, socket.SHUT_RD)):
            try:
                s.shutdown(how)
            except OSError:
                pass


def rmtree_quiet(path):
    shutil.rmtree(path, ignore_errors=True)


def signal_name(sig):
    """Go's syscall.Signal.String() for the common signals."""
    names = {
        signal.SIGHUP: "hangup", signal.SIGINT: "interrupt", signal.SIGQUIT: "quit",
        signal.SIGILL: "illegal instruction", signal.SIGTRAP: "trace/breakpoint trap",
        signal.SIGABRT: "aborted", signal.SIGBUS: "bus error",
        signal.SIGFPE: "floating point exception", signal.SIGKILL: "killed",
        signal.SIGUSR1: "user defined signal 1", signal.SIGSEGV: "segmentation fault",
        signal.SIGUSR2: "user defined signal 2", signal.SIGPIPE: "broken pipe",
        signal.SIGALRM: "alarm clock", signal.SIGTERM: "terminated",
    }
    return names.get(sig, "signal %d" % sig)


def exit_description(returncode):
    """(exit_code, ProcessState.String()) for a finished Popen returncode."""
    if returncode is None:
        return None, None
    if returncode < 0:
        return -1, "signal: " + signal_name(-returncode)
    return returncode, "exit status %d" % returncode
