"""Minimal threaded HTTP/1.1 server core with keep-alive, chunked streaming and recording."""

import base64
import http.server
import json
import socket
import socketserver
import struct
import threading
import time
import urllib.parse
from http import HTTPStatus


class Recorder(object):
    """Appends one JSON line per exchange (shared/conformance/README.md format)."""

    def __init__(self, path):
        self.lock = threading.Lock()
        self.seq = 0
        self.f = open(path, "a", encoding="utf-8")

    def next_seq(self):
        with self.lock:
            self.seq += 1
            return self.seq

    @staticmethod
    def body(data):
        if not data:
            return {"text": ""}
        try:
            return {"text": data.decode("utf-8")}
        except UnicodeDecodeError:
            return {"base64": base64.b64encode(data).decode("ascii")}

    def write(self, rec):
        line = json.dumps(rec, ensure_ascii=False)
        with self.lock:
            if self.f:
                self.f.write(line + "\n")
                self.f.flush()

    def close(self):
        with self.lock:
            if self.f:
                self.f.close()
                self.f = None


class ClientGone(Exception):
    pass


class Request(object):
    """One HTTP request; the body is read on first access."""

    def __init__(self, handler):
        self.handler = handler
        self.method = handler.command
        raw = handler.path
        if raw.startswith("http://") or raw.startswith("https://"):
            raw = "/" + raw.split("/", 3)[3] if raw.count("/") >= 3 else "/"
        self.raw_path, _, self.query_string = raw.partition("?")
        self.path = urllib.parse.unquote(self.raw_path)
        self.record_path = self.path
        self.query = urllib.parse.parse_qs(self.query_string, keep_blank_values=True)
        self.headers = handler.headers
        self.peer = handler.client_address[0]
        self.peer_port = handler.client_address[1]
        self._body = None
        self.arrival = time.time()
        self.seq = 0

    def q(self, name, default=None):
        v = self.query.get(name)
        return v[0] if v else default

    def q_last(self, name, default=None):
        """The last value, as Starlette's query_params.get (FastAPI) returns it."""
        v = self.query.get(name)
        return v[-1] if v else default

    def qall(self, name):
        return self.query.get(name, [])

    def header(self, name, default=None):
        return self.headers.get(name, default)

    @property
    def body(self):
        if self._body is None:
            self._body = self.handler.read_body()
        return self._body


class Response(object):
    """Collects what is sent so that it can be recorded."""

    def __init__(self, handler):
        self.handler = handler
        self.status = None
        self.headers = []
        self.body_parts = []
        self.streaming = False
        self.finished = False
        self.gone = False
        self.close_after = False

    def send(self, status, headers, body=b""):
        if isinstance(body, str):
            body = body.encode("utf-8")
        hdrs = [(k, v) for k, v in headers if k.lower() != "content-length"]
        has_len = any(k.lower() == "content-length" for k, v in headers)
        if has_len:
            # An explicit (possibly deliberately wrong) Content-Length: keep it, close afterwards.
            hdrs = list(headers)
            self.close_after = True
        elif status not in (204, 304) and status >= 200:
            hdrs.append(("Content-Length", str(len(body))))
        self.status = status
        self.headers = hdrs
        self.body_parts = [body]
        if self.handler.command == "HEAD":
            body = b""
        self._write(self._head(status, hdrs) + body)
        self.finished = True

    def _head(self, status, hdrs):
        try:
            reason = HTTPStatus(status).phrase
        except ValueError:
            reason = "Status"
        lines = ["HTTP/1.1 %d %s" % (status, reason)]
        lines.append("Date: " + self.handler.date_time_string())
        for k, v in hdrs:
            lines.append("%s: %s" % (k, v))
        if self.close_after:
            lines.append("Connection: close")
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1", "replace")

    def _write(self, data):
        if self.gone:
            raise ClientGone()
        try:
            self.handler.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError, ConnectionAbortedError, OSError):
            self.gone = True
            self.handler.close_connection = True
            raise ClientGone()

    def start_stream(self, status, headers):
        hdrs = list(headers) + [("Transfer-Encoding", "chunked")]
        self.status = status
        self.headers = hdrs
        self.streaming = True
        self._write(self._head(status, hdrs))

    def write_chunk(self, data):
        if isinstance(data, str):
            data = data.encode("utf-8")
        if not data:
            return
        self.body_parts.append(data)
        self._write(b"%x\r\n" % len(data) + data + b"\r\n")

    def end_stream(self):
        if not self.finished:
            self.finished = True
            try:
                self._write(b"0\r\n\r\n")
            except ClientGone:
                pass

    def abort(self):
        """Drop the connection mid-answer (reset), as when the peer behind a proxy vanishes."""
        self.gone = True
        self.handler.close_connection = True
        Server.abort_conn(self.handler.connection)

    def body_bytes(self):
        return b"".join(self.body_parts)


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "osb-devserver"
    sys_version = ""
    timeout = 300

    def setup(self):
        super().setup()
        try:
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except OSError:
            pass
        with self.server.conns_lock:
            self.server.conns.add(self.connection)
            gone = self.server.gone
        if gone:
            self.server.abort_conn(self.connection)

    def finish(self):
        with self.server.conns_lock:
            self.server.conns.discard(self.connection)
        try:
            super().finish()
        except OSError:
            pass

    def log_message(self, fmt, *args):
        pass

    def read_body(self):
        te = (self.headers.get("Transfer-Encoding") or "").lower()
        if "chunked" in te:
            out = []
            while True:
                line = self.rfile.readline(65537)
                if not line:
                    break
                size = int(line.split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while True:
                        t = self.rfile.readline(65537)
                        if not t or t in (b"\r\n", b"\n"):
                            break
                    break
                out.append(self.rfile.read(size))
                self.rfile.readline(65537)
            return b"".join(out)
        n = self.headers.get("Content-Length")
        if n:
            try:
                n = int(n)
            except ValueError:
                n = 0
            if n > 0:
                return self.rfile.read(n)
        return b""

    def dispatch(self):
        req = Request(self)
        resp = Response(self)
        rec = self.server.recorder
        if rec:
            req.seq = rec.next_seq()
        try:
            self.server.app.handle(req, resp)
        except ClientGone:
            pass
        except Exception:
            if self.server.gone:  # its sandbox was deleted under it: the connection just drops
                self.close_connection = True
                return
            import traceback
            traceback.print_exc()
            if resp.status is None:
                try:
                    resp.send(500, [("Content-Type", "text/plain; charset=utf-8")],
                              b"Internal Server Error")
                except ClientGone:
                    pass
        if resp.streaming:
            resp.end_stream()
        # Make sure the request body was consumed so that keep-alive stays in sync.
        if req._body is None and not resp.gone:
            try:
                req._body = self.read_body()
            except Exception:
                self.close_connection = True
        if resp.close_after:
            self.close_connection = True
        if rec and not getattr(req, "no_record", False) and resp.status is not None:
            rec.write({
                "seq": req.seq,
                "t": req.arrival,
                "method": req.method,
                "path": req.record_path,
                "query": req.query_string,
                "requestHeaders": dict(self.headers.items()),
                "requestBody": Recorder.body(req._body or b""),
                "status": resp.status,
                "responseHeaders": dict(resp.headers),
                "responseBody": Recorder.body(resp.body_bytes()),
            })

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = dispatch


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 256
    block_on_close = False

    def __init__(self, addr, app, recorder):
        self.app = app
        self.recorder = recorder
        self.conns = set()
        self.conns_lock = threading.Lock()
        self.gone = False
        http.server.HTTPServer.__init__(self, addr, Handler)

    @staticmethod
    def abort_conn(conn):
        try:
            conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            conn.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def vanish(self):
        """Behave as the listener of a container that no longer exists: refuse new connections,
        reset the open ones, then stop (in the background)."""
        with self.conns_lock:
            self.gone = True
            conns = list(self.conns)
        try:
            self.socket.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        for c in conns:
            self.abort_conn(c)

        def stop():
            try:
                self.shutdown()
                self.server_close()
            except Exception:
                pass

        threading.Thread(target=stop, daemon=True).start()

    def server_bind(self):
        # HTTPServer.server_bind would resolve the host name (slow without DNS).
        socketserver.TCPServer.server_bind(self)
        self.server_name = self.server_address[0]
        self.server_port = self.server_address[1]

    def handle_error(self, request, client_address):
        pass


class Server6(Server):
    address_family = socket.AF_INET6


def make_server(host, port, app, recorder):
    cls = Server6 if ":" in host else Server
    return cls((host, port), app, recorder)


def serve_in_thread(server):
    t = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.2}, daemon=True)
    t.start()
    return t
