"""execd file and directory endpoints (PROTOCOL.md sections 3.9-3.12)."""

import email.utils
import errno
import grp
import json
import os
import pwd
import re
import stat
import time
import urllib.parse

from .common import go_json, go_time
from .execd_base import ExecdError, bad_body, decode_json, getk

_VAR_RE = re.compile(r"\$(?:\{([^}]*)\}|([A-Za-z_][A-Za-z0-9_]*))")


def expand_path(p, env, cwd):
    def sub(m):
        name = m.group(1) if m.group(1) is not None else m.group(2)
        if name not in env:
            raise ValueError("environment variable %s is not set" % name)
        return env[name]

    if "$" in p:
        p = _VAR_RE.sub(sub, p)
    if p == "~" or p.startswith("~/"):
        p = env.get("HOME", "/") + p[1:]
    if not os.path.isabs(p):
        p = os.path.join(cwd, p)
    return os.path.normpath(p) if p != "/" else p


def mode_to_json(m):
    return int("%o" % (m & 0o777))


def json_to_mode(v):
    """Decimal integer whose digits are octal -> permission bits (None = leave alone)."""
    if v is None or v == 0:
        return None
    s = str(int(v))
    try:
        return int(s, 8) & 0o777
    except ValueError:
        raise ValueError('strconv.ParseUint: parsing "%s": invalid syntax' % s)


def owner_name(uid):
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return str(uid)


def group_name(gid):
    try:
        return grp.getgrgid(gid).gr_name
    except KeyError:
        return str(gid)


def file_info(hp, path, st=None):
    """FileInfo of the file at host path hp, shown as sandbox path `path`."""
    if st is None:
        st = os.lstat(hp)
    if stat.S_ISLNK(st.st_mode):
        typ = "symlink"
    elif stat.S_ISDIR(st.st_mode):
        typ = "directory"
    elif stat.S_ISREG(st.st_mode):
        typ = "file"
    else:
        typ = "other"
    return {"path": path, "type": typ, "size": st.st_size,
            "modified_at": go_time(st.st_mtime_ns), "created_at": go_time(st.st_ctime_ns),
            "owner": owner_name(st.st_uid), "group": group_name(st.st_gid),
            "mode": mode_to_json(st.st_mode)}


def apply_perm(path, owner, group, mode):
    """chmod (when mode is non-zero), then always the execd chown rule (PROTOCOL.md 3.9)."""
    m = json_to_mode(mode)
    if m is not None:
        os.chmod(path, m)
    uid = gid = -1
    if isinstance(owner, str) and owner:
        try:
            uid = pwd.getpwnam(owner).pw_uid
        except KeyError:
            pass
    if isinstance(group, str) and group:
        try:
            gid = grp.getgrnam(group).gr_gid
        except KeyError:
            pass
    if uid == -1 and gid == -1:
        uid, gid = os.getuid(), os.getgid()
    try:
        os.chown(path, uid, gid)
    except PermissionError:
        if os.getuid() == 0:
            raise


def glob_to_regex(pat):
    """doublestar-like glob for a base name: * ? [..] {a,b} **."""
    i, n, out = 0, len(pat), []
    depth = 0
    while i < n:
        c = pat[i]
        if c == "*":
            while i + 1 < n and pat[i + 1] == "*":
                i += 1
            out.append(".*")
        elif c == "?":
            out.append(".")
        elif c == "[":
            j = pat.find("]", i + 1)
            if j < 0:
                raise ValueError("syntax error in pattern")
            body = pat[i + 1:j]
            if body.startswith("!") or body.startswith("^"):
                body = "^" + body[1:]
            out.append("[" + body.replace("\\", "\\\\") + "]")
            i = j
        elif c == "{":
            depth += 1
            out.append("(?:")
        elif c == "}" and depth:
            depth -= 1
            out.append(")")
        elif c == "," and depth:
            out.append("|")
        elif c == "\\" and i + 1 < n:
            i += 1
            out.append(re.escape(pat[i]))
        else:
            out.append(re.escape(c))
        i += 1
    if depth:
        raise ValueError("syntax error in pattern")
    return re.compile("^" + "".join(out) + "$", re.S)


def parse_range(header, size):
    """Go http.ServeContent range parsing. Returns ('none'|'bad'|'unsat'|'ok', start, length)."""
    if not header:
        return "none", 0, size
    if not header.startswith("bytes="):
        return "bad", 0, 0
    first = None
    any_overlap = False
    for part in header[6:].split(","):
        part = part.strip()
        if not part:
            continue
        if "-" not in part:
            return "bad", 0, 0
        s, _, e = part.partition("-")
        s, e = s.strip(), e.strip()
        if s == "":
            if not e.isdigit():
                return "bad", 0, 0
            n = int(e)
            if n == 0:
                continue  # suffix of zero length cannot overlap
            n = min(n, size)
            start, length = size - n, n
        else:
            if not s.isdigit():
                return "bad", 0, 0
            start = int(s)
            if e == "":
                end = size - 1
            else:
                if not e.isdigit():
                    return "bad", 0, 0
                end = int(e)
                if start > end:
                    return "bad", 0, 0
                end = min(end, size - 1)
            if start >= size:
                continue
            length = end - start + 1
        if first is None:
            first = (start, length)
            any_overlap = True
    if not any_overlap:
        return "unsat", 0, 0
    return "ok", first[0], first[1]


class FileError(Exception):
    pass


class Files(object):
    def __init__(self, execd):
        self.x = execd

    def routes(self):
        return {
            ("GET", "/files/info"): self.info,
            ("DELETE", "/files"): self.delete_files,
            ("POST", "/files/permissions"): self.permissions,
            ("POST", "/files/mv"): self.move,
            ("GET", "/files/search"): self.search,
            ("POST", "/files/replace"): self.replace,
            ("POST", "/files/upload"): self.upload,
            ("GET", "/files/download"): self.download,
            ("GET", "/directories/list"): self.list_dir,
            ("POST", "/directories"): self.make_dirs,
            ("DELETE", "/directories"): self.remove_dirs,
        }

    def err(self, status, code, message):
        return ExecdError(status, code, self.x.sb.scrub(message))

    def expand(self, p):
        """The absolute sandbox path of p (what messages and bodies show)."""
        try:
            return self.x.expand(p)
        except ValueError as e:
            raise self.err(500, "RUNTIME_ERROR", str(e))

    def host(self, ap, follow=True):
        """Where the sandbox path ap is on the host (every file operation goes there)."""
        try:
            return self.x.sb.host(ap, follow)
        except OSError as e:
            raise self.err(500, "RUNTIME_ERROR", "%s: %s" % (ap, e.strerror))

    def not_found(self, p, ap, what="lstat"):
        return self.err(404, "FILE_NOT_FOUND", "file not found. file not found: %s: %s %s: no such "
                        "file or directory" % (p, what, ap))

    def body_map(self, req):
        body = decode_json(req)
        if not isinstance(body, dict):
            raise bad_body("json: cannot unmarshal %s into Go value of type map[string]"
                           % type(body).__name__)
        return body

    # ------------------------------------------------------------ info / delete / permissions

    def info(self, req, resp):
        out = {}
        for p in req.qall("path"):
            ap = self.expand(p)
            try:
                out[p] = file_info(self.host(ap, False), ap)
            except FileNotFoundError:
                raise self.not_found(p, ap)
            except OSError as e:
                raise self.err(500, "RUNTIME_ERROR", "error getting file info %s: %s" % (p, e))
        self.x.send_json(resp, 200, out)

    def delete_files(self, req, resp):
        for p in req.qall("path"):
            ap = self.expand(p)
            try:
                if os.path.isdir(self.host(ap)):  # stat follows links, as execd's DeleteFile does
                    raise self.err(500, "RUNTIME_ERROR",
                                   "error removing file %s. path is a directory: %s" % (p, p))
                os.unlink(self.host(ap, False))
            except FileNotFoundError:
                continue
            except OSError as e:
                raise self.err(500, "RUNTIME_ERROR", "error removing file %s. %s" % (p, e))
        self.x.ok(resp)

    def permissions(self, req, resp):
        body = self.body_map(req)
        for p, perm in body.items():
            ap = self.expand(p)
            perm = perm if isinstance(perm, dict) else {}
            try:
                hp = self.host(ap)
                if not os.path.lexists(hp):
                    raise FileNotFoundError(errno.ENOENT, "no such file or directory")
                apply_perm(hp, getk(perm, "owner"), getk(perm, "group"), getk(perm, "mode"))
            except (OSError, ValueError) as e:
                raise self.err(500, "RUNTIME_ERROR", "error changing permissions of %s. %s" % (p, e))
        self.x.ok(resp)

    # ------------------------------------------------------------ mv / search / replace

    def move(self, req, resp):
        body = decode_json(req)
        if not isinstance(body, list):
            raise bad_body("json: cannot unmarshal %s into Go value of type []model.RenameFileItem"
                           % type(body).__name__)
        for item in body:
            src, dst = getk(item, "src") or "", getk(item, "dest") or ""
            if not src or not dst:
                raise self.err(400, "INVALID_REQUEST_BODY",
                               "invalid request, validation error src and dest are required")
            asrc, adst = self.expand(src), self.expand(dst)
            hsrc, hdst = self.host(asrc, False), self.host(adst, False)
            if not os.path.lexists(hsrc):
                raise self.not_found(src, asrc)
            if os.path.lexists(hdst):
                raise self.err(500, "RUNTIME_ERROR", "error renaming file %s. destination path "
                               "already exists: %s" % (src, dst))
            try:
                parent = os.path.dirname(hdst)
                if parent:
                    os.makedirs(parent, mode=0o755, exist_ok=True)
                os.rename(hsrc, hdst)
            except OSError as e:
                raise self.err(500, "RUNTIME_ERROR", "error renaming file %s. %s" % (src, e))
        self.x.ok(resp)

    def search(self, req, resp):
        p = req.q("path", "")
        if not p:
            raise self.err(400, "MISSING_QUERY", "missing query parameter 'path'")
        pattern = req.q("pattern", "") or "**"
        ap = self.expand(p)
        hp = self.host(ap)
        if not os.path.exists(hp):
            raise self.not_found(p, ap)
        try:
            rx = glob_to_regex(pattern)
        except (ValueError, re.error):
            raise self.err(500, "RUNTIME_ERROR", "error searching files. syntax error in pattern")
        out = []
        for root, dirs, names in os.walk(hp, followlinks=False):
            dirs.sort()
            for name in sorted(names + [d for d in dirs if os.path.islink(os.path.join(root, d))]):
                if rx.match(name):
                    full = os.path.join(root, name)
                    try:
                        out.append(file_info(full, self.x.sb.guest(full)))
                    except OSError:
                        pass
        self.x.send_json(resp, 200, out)

    def replace(self, req, resp):
        body = self.body_map(req)
        items = []
        for p, spec in body.items():
            ap = self.expand(p)
            if not os.path.exists(self.host(ap)):
                raise self.not_found(p, ap, "stat")
            spec = spec if isinstance(spec, dict) else {}
            old, new = getk(spec, "old") or "", getk(spec, "new") or ""
            if not old:
                raise self.err(400, "INVALID_REQUEST_BODY", "old content must not be empty")
            items.append((p, self.host(ap), old, new))
        counts = {}
        for p, hp, old, new in items:
            try:
                with open(hp, "rb") as f:
                    data = f.read()
                ob, nb = old.encode("utf-8"), new.encode("utf-8")
                n = data.count(ob)
                mode = os.stat(hp).st_mode
                with open(hp, "wb") as f:
                    f.write(data.replace(ob, nb))
                os.chmod(hp, stat.S_IMODE(mode))
            except OSError as e:
                raise self.err(500, "RUNTIME_ERROR", "error replacing content of %s. %s" % (p, e))
            counts[p] = {"replacedCount": n}
        if req.q("verbose") == "true":
            self.x.send_json(resp, 200, counts)
        else:
            self.x.ok(resp)

    # ------------------------------------------------------------ upload / download

    def upload(self, req, resp):
        ctype = req.header("Content-Type", "") or ""
        parts = parse_multipart(ctype, req.body)
        if parts is None:
            raise self.err(400, "INVALID_FILE", "multipart form is empty")
        metas = [p for p in parts if p["name"] == "metadata" and p["filename"] is not None]
        datas = [p for p in parts if p["name"] == "file" and p["filename"] is not None]
        if not metas:
            raise self.err(400, "INVALID_FILE_METADATA", "metadata file is missing")
        if not datas:
            raise self.err(400, "INVALID_FILE_CONTENT", "file is missing")
        if len(metas) != len(datas):
            raise self.err(400, "INVALID_FILE", "metadata and file count mismatch: %d vs %d"
                           % (len(metas), len(datas)))
        for meta, data in zip(metas, datas):
            try:
                md = json.loads(meta["data"].decode("utf-8"))
                if not isinstance(md, dict):
                    raise ValueError("json: cannot unmarshal %s into Go value of type model.FileMetadata"
                                     % type(md).__name__)
            except (ValueError, UnicodeDecodeError) as e:
                raise self.err(400, "INVALID_FILE_METADATA", "invalid metadata format. %s" % e)
            path = getk(md, "path") or ""
            if not path:
                raise self.err(400, "INVALID_FILE_METADATA", "metadata path is empty")
            ap = self.expand(path)
            try:
                hp = self.host(ap)
                parent = os.path.dirname(hp)
                if parent:
                    os.makedirs(parent, exist_ok=True)
                fd = os.open(hp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o777)
                try:
                    view = memoryview(data["data"])
                    while view:
                        n = os.write(fd, view)
                        view = view[n:]
                    os.fsync(fd)
                finally:
                    os.close(fd)
                apply_perm(hp, getk(md, "owner"), getk(md, "group"), getk(md, "mode"))
            except (OSError, ValueError) as e:
                raise self.err(500, "RUNTIME_ERROR", "error uploading file %s. %s" % (path, e))
        self.x.ok(resp)

    def download(self, req, resp):
        p = req.q("path", "")
        if not p:
            raise self.err(400, "MISSING_QUERY", "missing query parameter 'path'")
        ap = self.expand(p)
        try:
            f = open(self.host(ap), "rb")
        except FileNotFoundError:
            raise self.not_found(p, ap, "open")
        except IsADirectoryError:
            raise self.err(500, "RUNTIME_ERROR", "error reading file %s. is a directory" % p)
        except OSError as e:
            raise self.err(500, "RUNTIME_ERROR", "error reading file %s. %s" % (p, e))
        with f:
            st = os.fstat(f.fileno())
            if stat.S_ISDIR(st.st_mode):
                raise self.err(500, "RUNTIME_ERROR", "error reading file %s. is a directory" % p)
            size = st.st_size
            base = os.path.basename(ap)
            if all(32 <= ord(c) < 127 for c in base) and '"' not in base and "\\" not in base:
                disp = 'attachment; filename="%s"' % base
            else:
                enc = urllib.parse.quote(base, safe="")
                disp = "attachment; filename=\"%s\"; filename*=UTF-8''%s" % (enc, enc)
            ims = req.header("If-Modified-Since")
            if ims and not req.header("If-None-Match"):
                try:
                    since = email.utils.parsedate_to_datetime(ims).timestamp()
                except (TypeError, ValueError, IndexError):
                    since = None
                if since is not None and int(st.st_mtime) <= since:
                    lm = time.strftime("%a, %d %b %Y %H:%M:%S GMT", time.gmtime(st.st_mtime))
                    resp.send(304, [("Content-Disposition", disp), ("Last-Modified", lm)], b"")
                    return
            kind, start, length = parse_range(req.header("Range"), size)
            if kind == "bad":
                resp.send(416, [("Content-Type", "application/octet-stream"),
                                ("Content-Disposition", disp),
                                ("Content-Length", str(size))], go_json({"code": "UNKNOWN"}))
                return
            if kind == "unsat":
                if size == 0:
                    kind, start, length = "none", 0, 0
                else:
                    resp.send(416, [("Content-Type", "text/plain; charset=utf-8"),
                                    ("X-Content-Type-Options", "nosniff"),
                                    ("Content-Range", "bytes */%d" % size)],
                              b"invalid range: failed to overlap\n")
                    return
            if kind == "ok":
                f.seek(start)
                data = f.read(length)
                resp.send(206, [("Content-Type", "application/octet-stream"),
                                ("Content-Disposition", disp),
                                ("Content-Range", "bytes %d-%d/%d" % (start, start + length - 1, size))],
                          data)
                return
            data = f.read()
            lm = time.strftime("%a, %d %b %Y %H:%M:%S GMT", time.gmtime(st.st_mtime))
            resp.send(200, [("Content-Type", "application/octet-stream"),
                            ("Content-Disposition", disp), ("Accept-Ranges", "bytes"),
                            ("Last-Modified", lm)], data)

    # ------------------------------------------------------------ directories

    def list_dir(self, req, resp):
        p = req.q("path", "")
        if not p:
            raise self.err(400, "MISSING_QUERY", "missing query parameter 'path'")
        raw = req.q("depth")
        depth = 1
        if raw is not None and raw != "":
            try:
                depth = int(raw)
                if depth < 0:
                    raise ValueError
            except ValueError:
                raise self.err(400, "INVALID_REQUEST_BODY", "invalid query parameter 'depth': %s" % raw)
        ap = self.expand(p)
        hp = self.host(ap, False)
        try:
            st = os.lstat(hp)
        except FileNotFoundError:
            raise self.not_found(p, ap)
        if stat.S_ISLNK(st.st_mode):
            raise self.err(400, "INVALID_REQUEST_BODY",
                           "path is a symbolic link, refusing to traverse: %s" % p)
        if not stat.S_ISDIR(st.st_mode):
            raise self.err(400, "INVALID_REQUEST_BODY", "path is not a directory: %s" % p)
        out = []

        def walk(d, level):
            if level > depth:
                return
            try:
                names = sorted(os.listdir(d), key=lambda n: n.encode("utf-8", "surrogateescape"))
            except OSError:
                return
            for n in names:
                full = os.path.join(d, n)
                try:
                    est = os.lstat(full)
                except OSError:
                    continue
                out.append(file_info(full, self.x.sb.guest(full), est))
                if stat.S_ISDIR(est.st_mode):
                    walk(full, level + 1)

        walk(hp, 1)
        self.x.send_json(resp, 200, out)

    def make_dirs(self, req, resp):
        body = self.body_map(req)
        for p, perm in body.items():
            ap = self.expand(p)
            perm = perm if isinstance(perm, dict) else {}
            try:
                hp = self.host(ap)
                existed = os.path.exists(hp)
                os.makedirs(hp, exist_ok=True)
                # Like current execd: a pre-existing directory (say /tmp) keeps its mode and owner.
                if not existed:
                    apply_perm(hp, getk(perm, "owner"), getk(perm, "group"), getk(perm, "mode"))
            except FileNotFoundError as e:
                raise self.err(404, "FILE_NOT_FOUND", "error creating directory %s. %s" % (p, e))
            except (OSError, ValueError) as e:
                raise self.err(500, "RUNTIME_ERROR", "error creating directory %s. %s" % (p, e))
        self.x.ok(resp)

    def remove_dirs(self, req, resp):
        import shutil
        for p in req.qall("path"):
            hp = self.host(self.expand(p), False)
            try:
                if os.path.islink(hp) or (os.path.exists(hp) and not os.path.isdir(hp)):
                    os.unlink(hp)
                elif os.path.isdir(hp):
                    shutil.rmtree(hp)
            except FileNotFoundError:
                continue
            except OSError as e:
                raise self.err(500, "RUNTIME_ERROR", "error removing directory %s. %s" % (p, e))
        self.x.ok(resp)


def parse_multipart(ctype, body):
    """Returns [{"name", "filename" (None without filename=), "data"}] or None if not multipart."""
    if not ctype.lower().startswith("multipart/"):
        return None
    m = re.search(r'boundary=(?:"([^"]+)"|([^;\s]+))', ctype, re.I)
    if not m:
        return None
    boundary = (m.group(1) or m.group(2)).encode("latin-1")
    delim = b"--" + boundary
    pos = body.find(delim)
    if pos < 0:
        return None
    parts = []
    while True:
        pos += len(delim)
        if body[pos:pos + 2] == b"--":
            break
        # skip transport padding and the line break
        eol = body.find(b"\n", pos)
        if eol < 0:
            return None if not parts else parts
        start = eol + 1
        nxt = body.find(b"\r\n" + delim, start)
        sep_len = 2
        if nxt < 0:
            nxt = body.find(b"\n" + delim, start)
            sep_len = 1
            if nxt < 0:
                return None if not parts else parts
        chunk = body[start:nxt]
        hdr_end = chunk.find(b"\r\n\r\n")
        skip = 4
        if hdr_end < 0:
            hdr_end = chunk.find(b"\n\n")
            skip = 2
        if hdr_end < 0:
            headers, data = chunk, b""
        else:
            headers, data = chunk[:hdr_end], chunk[hdr_end + skip:]
        name = filename = None
        for line in headers.decode("utf-8", "replace").splitlines():
            k, _, v = line.partition(":")
            if k.strip().lower() == "content-disposition":
                for param in re.finditer(r';\s*([A-Za-z*]+)=(?:"((?:[^"\\]|\\.)*)"|([^;]*))', v):
                    key = param.group(1).lower()
                    val = param.group(2) if param.group(2) is not None else param.group(3).strip()
                    if key == "name":
                        name = val
                    elif key == "filename":
                        filename = val
        parts.append({"name": name, "filename": filename, "data": data})
        pos = nxt + sep_len
    return parts if parts else None
