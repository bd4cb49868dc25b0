"""execd PTY sessions (PROTOCOL.md section 3.14): REST routes and the WebSocket attach."""

import fcntl
import json
import os
import signal
import socket
import struct
import subprocess
import termios
import threading

from . import common, wsproxy
from .common import go_json
from . import gojson
from .execd_base import ExecdError, go_err

RING = 1 << 20
PING_EVERY = 30.0
READ_DEADLINE = 60.0
CHUNK = 32 * 1024
SIGNALS = {"SIGINT": signal.SIGINT, "SIGTERM": signal.SIGTERM, "SIGKILL": signal.SIGKILL,
           "SIGQUIT": signal.SIGQUIT, "SIGHUP": signal.SIGHUP}


class WSClosed(Exception):
    pass


class WebSocket(object):
    """Server side of one RFC 6455 connection on top of a BaseHTTPRequestHandler."""

    def __init__(self, handler):
        self.h = handler
        self.wlock = threading.Lock()
        self.open = True

    def _send(self, opcode, payload):
        n = len(payload)
        if n < 126:
            head = struct.pack("!BB", 0x80 | opcode, n)
        elif n < 65536:
            head = struct.pack("!BBH", 0x80 | opcode, 126, n)
        else:
            head = struct.pack("!BBQ", 0x80 | opcode, 127, n)
        with self.wlock:
            if not self.open:
                raise WSClosed()
            try:
                self.h.wfile.write(head + payload)
            except OSError:
                self.open = False
                raise WSClosed()

    def text(self, obj):
        self._send(0x1, (go_json(obj) + "\n").encode("utf-8"))

    def binary(self, data):
        self._send(0x2, data)

    def close(self, code, reason):
        try:
            self._send(0x8, struct.pack("!H", code) + reason.encode())
        except WSClosed:
            pass
        with self.wlock:
            self.open = False
        # Unblock the reader of this connection.
        try:
            self.h.connection.settimeout(2.0)
        except OSError:
            pass

    def drop(self):
        with self.wlock:
            self.open = False
        try:
            self.h.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def read_message(self):
        """Returns (opcode, payload) for data frames; None at close/EOF."""
        rf = self.h.rfile
        parts, first_op = [], None
        while True:
            try:
                head = rf.read(2)
            except (OSError, ValueError):
                return None
            if len(head) < 2:
                return None
            fin, op = head[0] & 0x80, head[0] & 0x0F
            masked, n = head[1] & 0x80, head[1] & 0x7F
            # gorilla fails the connection (1002) on what RFC 6455 forbids a client to send
            bad = None
            if not masked:
                bad = "incorrect mask flag"
            elif head[0] & 0x70:
                bad = "unexpected reserved bits 0x%02x" % (head[0] & 0x70)
            elif op not in (0, 1, 2, 8, 9, 10):
                bad = "unknown opcode %d" % op
            elif op >= 8 and (not fin or n > 125):
                bad = "control frame length > 125" if n > 125 else "control frame not final"
            elif op == 0 and first_op is None:
                bad = "continuation after final message frame"
            elif op in (1, 2) and first_op is not None:
                bad = "message start before final message frame"
            if bad:
                self.close(1002, bad)
                return None
            try:
                if n == 126:
                    n = struct.unpack("!H", rf.read(2))[0]
                elif n == 127:
                    n = struct.unpack("!Q", rf.read(8))[0]
                mask = rf.read(4) if masked else b""
                data = rf.read(n)
            except (OSError, ValueError, struct.error):
                return None
            if len(data) < n:
                return None
            if masked:
                data = bytes(b ^ mask[i % 4] for i, b in enumerate(data))
            if op == 0x8:
                if self.open:
                    self.close(struct.unpack("!H", data[:2])[0] if len(data) >= 2 else 1000, "")
                return None
            if op == 0x9:
                try:
                    self._send(0xA, data)
                except WSClosed:
                    return None
                continue
            if op == 0xA:
                continue
            if op != 0:
                first_op = op
            parts.append(data)
            if fin:
                return first_op, b"".join(parts)


class PtySession(object):
    def __init__(self, sid, cwd, command, env, sb):
        self.id = sid
        self.sb = sb
        self.cwd = cwd
        self.command = command
        self.env = env
        self.lock = threading.Lock()
        self.buf = bytearray()
        self.base = 0
        self.client = None
        self.proc = None
        self.master = None
        self.mode = None
        self.running = False

    @property
    def total(self):
        return self.base + len(self.buf)

    def status(self):
        return {"session_id": self.id, "running": self.running, "output_offset": self.total}

    def _append(self, tag, data):
        with self.lock:
            self.buf += data
            if len(self.buf) > RING:
                drop = len(self.buf) - RING
                del self.buf[:drop]
                self.base += drop
            client = self.client
        if client is not None:
            for i in range(0, len(data), CHUNK):
                try:
                    client.binary(bytes([tag]) + data[i:i + CHUNK])
                except WSClosed:
                    break

    def start(self, pipe_mode):
        # as execd: bash without rc files, interactive by its terminal in PTY mode
        argv = ["bash", "--norc", "--noprofile"] + (["-c", self.command] if self.command else [])
        env = dict(self.env)
        env.setdefault("TERM", "xterm-256color")
        if pipe_mode:
            self.mode = "pipe"
            p = self.sb.popen(argv, cwd=self.cwd, env=env, stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            outs = [(p.stdout.fileno(), 0x01), (p.stderr.fileno(), 0x02)]
        else:
            self.mode = "pty"
            master, slave = os.openpty()
            fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))

            try:
                p = self.sb.popen(argv, cwd=self.cwd, env=env, stdin=slave, stdout=slave,
                                  stderr=slave, ctty=True)
            finally:
                os.close(slave)
            self.master = master
            outs = [(master, 0x01)]
        self.proc = p
        self.running = True
        readers = []
        for fd, tag in outs:
            t = threading.Thread(target=self._pump, args=(fd, tag), daemon=True)
            t.start()
            readers.append(t)
        threading.Thread(target=self._reap, args=(p, readers), daemon=True).start()

    def _pump(self, fd, tag):
        while True:
            try:
                data = os.read(fd, CHUNK)
            except OSError:
                break
            if not data:
                break
            self._append(tag, data)

    def _reap(self, p, readers):
        rc = p.wait()
        for t in readers:
            t.join(2.0)
        common.unregister_process(p)
        if self.master is not None:
            try:
                os.close(self.master)
            except OSError:
                pass
            self.master = None
        code = rc if rc >= 0 else -1
        with self.lock:
            self.running = False
            client, self.client = self.client, None
        if client is not None:
            try:
                client.text({"type": "exit", "exit_code": code})
            except WSClosed:
                pass
            client.close(1000, "process exited")

    def write_stdin(self, data):
        if self.mode == "pty":
            os.write(self.master, data)
        else:
            self.proc.stdin.write(data)
            self.proc.stdin.flush()

    def kill(self):
        if self.proc is not None and self.proc.poll() is None:
            common.kill_group(self.proc, signal.SIGKILL)


class Ptys(object):
    def __init__(self, execd):
        self.x = execd
        self.lock = threading.Lock()
        self.sessions = {}

    def err(self, status, code, message):
        return ExecdError(status, code, message)

    def find(self, sid):
        with self.lock:
            s = self.sessions.get(sid)
        if s is None:
            raise self.err(404, "CONTEXT_NOT_FOUND", "pty session %s not found" % sid)
        return s

    def create(self, req, resp):
        body = {"cwd": "", "command": ""}
        if req.body.strip(b" \t\r\n"):
            try:
                body = gojson.decode(req.body, PTY_CREATE)
            except gojson.GoJSONError as e:
                raise self.err(400, "INVALID_REQUEST_BODY", "error parsing request: %s" % e)
        cwd, command = body["cwd"], body["command"] or None
        sid = common.uuid4()
        problem = None
        if cwd:
            try:
                cwd = self.x.expand(cwd)
            except ValueError as e:
                problem = "error resolving PTY session work directory: %s" % e
            else:
                try:
                    os.makedirs(self.x.sb.host(cwd), exist_ok=True)
                except OSError as e:
                    problem = "error creating PTY session work directory: %s" % go_err(
                        "mkdir", cwd, e)
        if problem:
            # execd writes its error and then, not returning, the 201 body after it
            resp.send(500, [("Content-Type", "application/json; charset=utf-8")],
                      (go_json({"code": "RUNTIME_ERROR", "message": "error creating pty session: "
                                + problem}) + go_json({"session_id": sid})).encode("utf-8"))
            return
        s = PtySession(sid, cwd or self.x.cwd, command, self.x.env, self.x.sb)
        with self.lock:
            self.sessions[s.id] = s
        self.x.send_json(resp, 201, {"session_id": s.id})

    def status(self, req, resp, sid):
        s = self.find(sid)
        with s.lock:
            body = s.status()
        self.x.send_json(resp, 200, body)

    def delete(self, req, resp, sid):
        s = self.find(sid)
        with self.lock:
            self.sessions.pop(sid, None)
        s.kill()
        with s.lock:
            client, s.client = s.client, None
        if client is not None:
            client.close(1000, "session deleted")
        self.x.ok(resp)

    def close_all(self):
        with self.lock:
            ss = list(self.sessions.values())
            self.sessions.clear()
        for s in ss:
            s.kill()

    def procs(self):
        with self.lock:
            return [s.proc for s in self.sessions.values() if s.proc is not None and s.running]

    def attach(self, req, resp, sid):
        s = self.find(sid)
        takeover = req.q("takeover") == "1"
        with s.lock:
            busy = s.client is not None
        if busy and not takeover:
            raise self.err(409, "ALREADY_CONNECTED",
                           "another client is already connected to pty session %s" % sid)
        if not wsproxy.handshake_ok(req):   # gorilla's checks: GET, Upgrade, Connection, version 13, key
            return resp.send(400, [("Content-Type", "text/plain; charset=utf-8"),
                                   ("Sec-Websocket-Version", "13")],
                             b"Bad Request")
        wsproxy.send_101(resp, req.header("Sec-WebSocket-Key"))
        h = resp.handler
        ws = WebSocket(h)
        # 60 s read deadline (any frame, including a pong, extends it) and pings every 30 s.
        try:
            h.connection.settimeout(READ_DEADLINE)
        except OSError:
            pass

        def pinger():
            while ws.open:
                stop.wait(PING_EVERY)
                if stop.is_set():
                    return
                try:
                    ws._send(0x9, b"")
                except WSClosed:
                    return

        stop = threading.Event()
        threading.Thread(target=pinger, daemon=True).start()
        try:
            self._attached(req, s, ws)
        finally:
            stop.set()

    def _attached(self, req, s, ws):
        pipe_mode = req.q("pty") == "0"
        try:
            since = int(req.q("since") or 0)
        except ValueError:
            since = 0
        with s.lock:
            old, s.client = s.client, None
        if old is not None:
            old.close(4001, "TAKEN_OVER")
            old.drop()
        if not s.running:
            try:
                s.start(pipe_mode)
            except (OSError, subprocess.SubprocessError) as e:
                try:
                    ws.text({"type": "error", "error": "failed to start: %s" % e, "code": "START_FAILED"})
                except WSClosed:
                    pass
                ws.drop()
                return
        try:
            with s.lock:
                start = max(since, s.base)
                if start < s.total:
                    data = bytes(s.buf[start - s.base:])
                    ws.binary(b"\x03" + struct.pack("!Q", start) + data)
                ws.text({"type": "connected", "session_id": s.id, "mode": s.mode})
                if s.running:
                    s.client = ws
                else:
                    ws.text({"type": "exit", "exit_code": s.proc.returncode if s.proc.returncode >= 0
                             else -1})
                    ws.close(1000, "process exited")
                    return
            self._serve(s, ws)
        except WSClosed:
            pass
        finally:
            with s.lock:
                if s.client is ws:
                    s.client = None

    def _serve(self, s, ws):
        while ws.open:
            msg = ws.read_message()
            if msg is None:
                return
            op, data = msg
            if op == 0x2:
                if data[:1] == b"\x00" and len(data) > 1:
                    if not self._stdin(s, ws, data[1:]):
                        return
                continue
            try:
                frame = json.loads(data.decode("utf-8"))
            except (ValueError, UnicodeDecodeError):
                continue
            if not isinstance(frame, dict):
                continue
            typ = frame.get("type")
            if typ == "stdin":
                if not self._stdin(s, ws, str(frame.get("data", "")).encode("utf-8")):
                    return
            elif typ == "resize":
                cols, rows = frame.get("cols"), frame.get("rows")
                if s.mode == "pty" and isinstance(cols, int) and isinstance(rows, int) \
                        and cols > 0 and rows > 0 and s.master is not None:
                    try:
                        fcntl.ioctl(s.master, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
                    except OSError:
                        pass
            elif typ == "signal":
                sig = SIGNALS.get(frame.get("signal"))
                if sig is not None and s.proc is not None:
                    common.kill_group(s.proc, sig)
            elif typ == "ping":
                ws.text({"type": "pong"})
            else:
                ws.text({"type": "error", "error": "unknown frame type %s" % json.dumps(typ),
                         "code": "INVALID_FRAME"})

    def _stdin(self, s, ws, data):
        try:
            s.write_stdin(data)
            return True
        except (OSError, ValueError, AttributeError) as e:
            try:
                ws.text({"type": "error", "error": "stdin write failed: %s" % e,
                         "code": "STDIN_WRITE_FAILED"})
            except WSClosed:
                pass
            ws.drop()
            return False


PTY_CREATE = gojson.struct("model.CreatePTYSessionRequest", [("cwd", gojson.STRING),
                                                            ("command", gojson.STRING)])
