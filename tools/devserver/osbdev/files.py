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
from . import gojson, searchglob
from .execd_base import ExecdError, bad_body, go_err, parse_go_int

_NAME_RE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}|\$([A-Za-z_][A-Za-z0-9_]*)")
_EXPAND_RE = re.compile(r"\$(?:\{([^}]*)\}|([A-Za-z_][A-Za-z0-9_]*))")


def expand_path(p, env, cwd, absolute=True):
    """execd's path expansion: $VAR / ${VAR} from the environment (every name must be set),
    a leading ~ or ~/ to $HOME, then (absolute=True) relative to cwd and cleaned.

    ValueError carries execd's message.  "" stays "" when absolute=False."""
    if not p:
        return cwd if absolute else ""
    missing = sorted({m.group(1) or m.group(2) for m in _NAME_RE.finditer(p)} - set(env))
    if missing:
        raise ValueError("path references undefined environment variables: " + ",".join(missing))
    if "$" in p:
        p = _EXPAND_RE.sub(lambda m: env.get(m.group(1) if m.group(1) is not None else m.group(2),
                                             ""), p)
    if p == "~" or p.startswith("~/"):
        p = env.get("HOME", "/") + p[1:]
    if not absolute:
        return p
    if not os.path.isabs(p):
        p = os.path.join(cwd, p)
    return os.path.normpath(p) if p != "/" else p


def mode_to_json(m):
    return int("%o" % (m & 0o777))


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


def chmod_file(hp, ap, perm):
    """execd's ChmodFile on host path hp (sandbox path ap): the mode when non-zero (its decimal
    digits read as octal), then owner and group when either is given.  Returns the error text
    or None."""
    mode = perm.get("mode") or 0
    if mode:
        digits = str(mode)
        if not re.match(r"^[0-7]+$", digits):
            return 'strconv.ParseUint: parsing "%s": invalid syntax' % digits
        if int(digits, 8) > 0xFFFFFFFF:
            return 'strconv.ParseUint: parsing "%s": value out of range' % digits
        try:
            os.chmod(hp, int(digits, 8) & 0o777)
        except OSError as e:
            return go_err("chmod", ap, e)
    owner, group = perm.get("owner") or "", perm.get("group") or ""
    if not owner and not group:
        return None
    uid = gid = -1
    if owner:
        try:
            uid = pwd.getpwnam(owner).pw_uid
        except KeyError:
            return "failed to lookup user %s: user: unknown user %s" % (owner, owner)
    if group:
        try:
            gid = grp.getgrnam(group).gr_gid
        except KeyError:
            return "failed to lookup group %s: group: unknown group %s" % (group, group)
    try:
        os.chown(hp, uid, gid)
    except OSError as e:
        return "failed to set owner/group for %s: %s" % (ap, go_err("chown", ap, e))
    return None


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

    def expand(self, p, fmt, absolute=True):
        """The sandbox path of p (absolute unless absolute=False, as execd's ExpandPath leaves
        a relative path relative); fmt % {"p": p, "e": error} is the 500 message otherwise."""
        try:
            return expand_path(p, self.x.env, self.x.cwd, absolute)
        except ValueError as e:
            raise self.err(500, "RUNTIME_ERROR", fmt % {"p": p, "e": e})

    def absolute(self, path):
        return path if os.path.isabs(path) else os.path.normpath(os.path.join(self.x.cwd, path))

    def host(self, ap, follow=True):
        """Where the sandbox path ap is on the host (every file operation goes there)."""
        try:
            return self.x.sb.host(self.absolute(ap), follow)
        except OSError as e:
            raise self.err(500, "RUNTIME_ERROR", "%s: %s" % (ap, e.strerror))

    def file_error(self, text, missing):
        """execd's handleFileError: 404 when the cause is a missing file, else 500."""
        if missing:
            return self.err(404, "FILE_NOT_FOUND", "file not found. %s" % text)
        return self.err(500, "RUNTIME_ERROR", "error accessing file: %s" % text)

    def decode(self, req, t):
        try:
            return gojson.decode(req.body, t)
        except gojson.GoJSONError as e:
            raise bad_body(str(e))

    def chmod(self, ap, perm):
        return chmod_file(self.host(ap), ap, perm)

    # ------------------------------------------------------------ info / delete / permissions

    def info(self, req, resp):
        out = {}
        for p in req.qall("path"):
            ap = self.expand(p, "error accessing file: invalid path %(p)s: %(e)s")
            try:
                out[p] = file_info(self.host(ap, False), ap)
            except FileNotFoundError as e:
                raise self.file_error("file not found: %s: %s" % (p, go_err("lstat", ap, e)), True)
            except OSError as e:
                raise self.file_error("error accessing file %s: %s" % (p, go_err("lstat", ap, e)),
                                      False)
        self.x.send_json(resp, 200, out)

    def delete_files(self, req, resp):
        for p in req.qall("path"):
            ap = self.expand(p, "error removing file %(p)s. invalid path: %(e)s")
            try:
                st = os.stat(self.host(ap))  # stat follows links, as execd's DeleteFile does
            except FileNotFoundError:
                continue
            except OSError as e:
                raise self.err(500, "RUNTIME_ERROR", "error removing file %s. %s"
                               % (p, go_err("stat", ap, e)))
            if stat.S_ISDIR(st.st_mode):
                raise self.err(500, "RUNTIME_ERROR",
                               "error removing file %s. path is a directory: %s" % (p, p))
            try:
                os.unlink(self.host(ap, False))
            except OSError as e:
                raise self.err(500, "RUNTIME_ERROR", "error removing file %s. failed to remove "
                               "file: %s" % (p, go_err("remove", ap, e)))
        self.x.ok(resp)

    def permissions(self, req, resp):
        body = self.decode(req, PERMISSION_MAP)
        for p, perm in body.items():
            ap = self.expand(p, "error changing permissions for %(p)s. %(e)s")
            e = self.chmod(ap, perm)
            if e:
                raise self.err(500, "RUNTIME_ERROR", "error changing permissions for %s. %s" % (p, e))
        self.x.ok(resp)

    # ------------------------------------------------------------ mv / search / replace

    def move(self, req, resp):
        items = self.decode(req, RENAME_LIST) or []
        for item in items:
            src, dst = item["src"], item["dest"]
            asrc = self.expand(src, "error accessing file: invalid source path: %(e)s")
            adst = self.expand(dst, "error accessing file: invalid destination path: %(e)s")
            try:
                os.stat(self.host(asrc))
            except FileNotFoundError as e:
                raise self.file_error("source path not found: %s: %s"
                                      % (src, go_err("stat", asrc, e)), True)
            except OSError:
                pass
            hdst = self.host(adst, False)
            parent = os.path.dirname(adst)
            try:
                os.makedirs(self.host(parent), mode=0o755, exist_ok=True)
            except OSError as e:
                raise self.file_error("failed to create destination directory: %s"
                                      % go_err("mkdir", parent, e), isinstance(e, FileNotFoundError))
            if os.path.exists(self.host(adst)):
                raise self.file_error("destination path already exists: %s" % dst, False)
            if asrc in ("/", self.x.sb.cwd) and self.host(asrc) in ("/", os.getcwd()):
                # the working directory of a container (or of this server): never moved
                raise self.file_error("failed to rename file: rename %s %s: device or resource busy"
                                      % (asrc, adst), False)
            try:
                os.rename(self.host(asrc, False), hdst)
            except OSError as e:
                raise self.file_error("failed to rename file: rename %s %s: %s"
                                      % (asrc, adst, go_err("", "", e)[3:]),
                                      isinstance(e, FileNotFoundError))
        self.x.ok(resp)

    def search(self, req, resp):
        p = req.q("path", "")
        if not p:
            raise self.err(400, "MISSING_QUERY", "missing query parameter 'path'")
        # (execd reports the path it failed to convert as "")
        ap = self.expand(p, "error converting path  to absolute. %(e)s")
        try:
            os.stat(self.host(ap))
        except OSError as e:
            raise self.file_error(go_err("stat", ap, e), isinstance(e, FileNotFoundError))
        pattern = req.q("pattern", "") or "**"
        root = self.host(ap, False)
        out = []
        try:
            for hp, st in searchglob.walk(root):
                try:
                    ok = searchglob.match(pattern, os.path.basename(hp))
                except searchglob.BadPattern:
                    raise self.err(500, "RUNTIME_ERROR", "error searching files. invalid pattern "
                                   "%s: syntax error in pattern" % pattern)
                if ok:
                    out.append(file_info(hp, ap if hp == root else self.x.sb.guest(hp), st))
        except searchglob.WalkError as e:
            raise self.err(500, "RUNTIME_ERROR", "error searching files. %s" % e)
        self.x.send_json(resp, 200, out)

    def replace(self, req, resp):
        body = self.decode(req, REPLACE_MAP)
        counts = {}
        for p, item in body.items():
            try:
                ap = expand_path(p, self.x.env, self.x.cwd)
            except ValueError as e:
                raise self.file_error(str(e), False)
            hp = self.host(ap)
            try:
                with open(hp, "rb") as f:
                    data = f.read()
            except IsADirectoryError as e:
                raise self.file_error(go_err("read", ap, e), False)
            except OSError as e:
                op = "stat" if isinstance(e, FileNotFoundError) else "open"
                raise self.file_error(go_err(op, ap, e), isinstance(e, FileNotFoundError))
            old, new = item["old"], item["new"]
            if not old:
                raise self.err(400, "INVALID_REQUEST_BODY", "old content must not be empty")
            ob = old.encode("utf-8")
            try:
                with open(hp, "wb") as f:
                    f.write(data.replace(ob, new.encode("utf-8")))
            except OSError as e:
                raise self.file_error(go_err("open", ap, e), False)
            counts[p] = {"replacedCount": data.count(ob)}
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
        # Go's multipart reader: a part with no (or an empty) filename is a form value, not a file
        metas = [p for p in parts if p["name"] == "metadata" and p["filename"]]
        datas = [p for p in parts if p["name"] == "file" and p["filename"]]
        if not metas:
            raise self.err(400, "INVALID_FILE_METADATA", "metadata file is missing")
        if not datas:
            raise self.err(400, "INVALID_FILE_CONTENT", "file is missing")
        if len(metas) != len(datas):
            raise self.err(400, "INVALID_FILE", "metadata and file count mismatch: %d vs %d"
                           % (len(metas), len(datas)))
        for meta, data in zip(metas, datas):
            try:
                md = gojson.decode(meta["data"], FILE_METADATA, whole=True)
            except gojson.GoJSONError as e:
                raise self.err(400, "INVALID_FILE_METADATA", "invalid metadata format. %s" % e)
            path = md["path"]
            if not path:
                raise self.err(400, "INVALID_FILE_METADATA", "metadata path is empty")
            ap = self.expand(path, "error resolving target path %(p)s. %(e)s", absolute=False)
            parent = os.path.dirname(ap) or "."
            try:
                os.makedirs(self.host(parent), exist_ok=True)
            except OSError as e:
                raise self.err(500, "RUNTIME_ERROR", "error creating target directory %s. %s"
                               % (parent, go_err("mkdir", parent, e)))
            try:
                fd = os.open(self.host(ap), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o777)
            except OSError as e:
                raise self.err(500, "RUNTIME_ERROR", "error opening destination file %s. %s"
                               % (ap, go_err("open", ap, e)))
            try:
                view = memoryview(data["data"])
                while view:
                    n = os.write(fd, view)
                    view = view[n:]
                os.fsync(fd)
            except OSError as e:
                raise self.err(500, "RUNTIME_ERROR", "error copying file %s. %s"
                               % (ap, go_err("write", ap, e)))
            finally:
                os.close(fd)
            e = self.chmod(self.absolute(ap), md)
            if e:
                raise self.err(500, "RUNTIME_ERROR", "error chmoding file %s. %s" % (ap, e))
        self.x.ok(resp)

    def download(self, req, resp):
        p = req.q("path", "")
        if not p:
            raise self.err(400, "MISSING_QUERY", "missing query parameter 'path'")
        ap = self.expand(p, "error resolving file path: %(p)s. %(e)s", absolute=False)
        raw_offset, raw_limit = req.q("offset", ""), req.q("limit", "")
        lines = raw_offset != "" or raw_limit != ""
        if lines and req.header("Range"):
            raise self.err(400, "INVALID_REQUEST_BODY", "line-based reading (offset/limit) and byte "
                           "range (Range header) are mutually exclusive")
        hp = self.host(ap)
        try:
            f = open(hp, "rb")
        except IsADirectoryError:
            f = None  # Go opens a directory; reading it fails
        except OSError as e:
            raise self.file_error(go_err("open", ap, e), isinstance(e, FileNotFoundError))
        if lines:
            return self.serve_lines(resp, f, raw_offset, raw_limit)
        if f is None:
            raise self.err(500, "RUNTIME_ERROR", "error reading file %s. is a directory" % p)
        with f:
            self.serve_bytes(req, resp, f, ap)

    def serve_lines(self, resp, f, raw_offset, raw_limit):
        """3bb6fad3's line reads: lines offset.. (1-based), at most limit of them, without their
        line ends, joined by \n; text/plain, no Content-Disposition."""
        try:
            offset = 1
            if raw_offset != "":
                offset = parse_go_int(raw_offset)
                if offset is None or offset < 1:
                    raise self.err(400, "INVALID_REQUEST_BODY",
                                   "invalid query parameter 'offset': %s" % raw_offset)
            limit = -1
            if raw_limit != "":
                limit = parse_go_int(raw_limit)
                if limit is None or limit < 1:
                    raise self.err(400, "INVALID_REQUEST_BODY",
                                   "invalid query parameter 'limit': %s" % raw_limit)
            hdrs = [("Content-Type", "text/plain; charset=utf-8")]
            buf, streaming, n, written = [], False, 0, 0
            size = 0
            for line in (f if f is not None else ()):
                n += 1
                if n < offset:
                    continue
                piece = (b"\n" if written else b"") + line.rstrip(b"\r\n")
                written += 1
                if streaming:
                    resp.write_chunk(piece)
                else:
                    buf.append(piece)
                    size += len(piece)
                    if size > 2048:  # net/http sends a small body with a length, a big one chunked
                        resp.start_stream(200, hdrs)
                        streaming = True
                        for b in buf:
                            resp.write_chunk(b)
                if 0 <= limit <= written:
                    break
            if streaming:
                resp.end_stream()
            else:
                resp.send(200, hdrs, b"".join(buf))
        finally:
            if f is not None:
                f.close()

    def serve_bytes(self, req, resp, f, ap):
        st = os.fstat(f.fileno())
        size = st.st_size
        disp = content_disposition(os.path.basename(ap))
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
        raw = req.q("depth", "")
        depth = 1
        if raw != "":
            depth = parse_go_int(raw)
            if depth is None or depth < 0 or depth >= 1 << 63:
                raise self.err(400, "INVALID_REQUEST_BODY", "invalid query parameter 'depth': %s" % raw)
        ap = self.expand(p, "error converting path  to absolute. %(e)s")
        hp = self.host(ap, False)
        try:
            st = os.lstat(hp)
        except OSError as e:
            raise self.file_error(go_err("lstat", ap, e), isinstance(e, FileNotFoundError))
        if stat.S_ISLNK(st.st_mode):
            raise self.err(400, "INVALID_REQUEST_BODY",
                           "path is a symbolic link, refusing to traverse: %s" % ap)
        if not stat.S_ISDIR(st.st_mode):
            raise self.err(400, "INVALID_REQUEST_BODY", "path is not a directory: %s" % ap)
        out = []

        def walk(d, level):
            try:
                names = sorted(os.listdir(d), key=os.fsencode)
            except OSError as e:
                raise self.err(500, "RUNTIME_ERROR", "error listing directory %s. %s"
                               % (ap, go_err("open", self.x.sb.guest(d), e)))
            for n in names:
                full = os.path.join(d, n)
                try:
                    est = os.lstat(full)
                except OSError as e:
                    raise self.err(500, "RUNTIME_ERROR", "error listing directory %s. %s"
                                   % (ap, go_err("lstat", self.x.sb.guest(full), e)))
                out.append(file_info(full, self.x.sb.guest(full), est))
                if stat.S_ISDIR(est.st_mode) and level + 1 < depth:
                    walk(full, level + 1)

        if depth > 0:
            walk(hp, 0)
        self.x.send_json(resp, 200, out)

    def make_dirs(self, req, resp):
        body = self.decode(req, PERMISSION_MAP)
        for p, perm in body.items():
            try:
                ap = expand_path(p, self.x.env, self.x.cwd)
            except ValueError as e:
                raise self.file_error(str(e), False)
            hp = self.host(ap)
            # 3bb6fad3: a directory that exists keeps its mode and owner
            existed = os.path.exists(hp)
            if existed and os.path.isdir(hp):
                continue
            err = self.mkdir_all(ap)
            if err:
                raise self.file_error(err[0], err[1])
            e = self.chmod(ap, perm)
            if e:
                raise self.file_error(e, False)
        self.x.ok(resp)

    def mkdir_all(self, ap):
        """os.MkdirAll(ap, 0777): None, or (Go's error text, whether it is a missing file)."""
        hp = self.host(ap)
        if os.path.exists(hp):
            if os.path.isdir(hp):
                return None
            return "mkdir %s: not a directory" % ap, False
        parent = os.path.dirname(ap)
        if parent != ap:
            err = self.mkdir_all(parent)
            if err:
                return err
        try:
            os.mkdir(hp, 0o777)
        except FileExistsError:
            if not os.path.isdir(hp):
                return "mkdir %s: file exists" % ap, False
        except OSError as e:
            return go_err("mkdir", ap, e), isinstance(e, FileNotFoundError)
        return None

    def remove_dirs(self, req, resp):
        import shutil
        for p in req.qall("path"):
            rp = self.expand(p, "error resolving directory %(p)s. %(e)s", absolute=False)
            if not rp:
                continue  # os.RemoveAll("") does nothing
            hp = self.host(rp, False)
            try:
                if os.path.islink(hp) or (os.path.exists(hp) and not os.path.isdir(hp)):
                    os.unlink(hp)
                elif os.path.isdir(hp):
                    shutil.rmtree(hp)
            except FileNotFoundError:
                continue
            except OSError as e:
                raise self.err(500, "RUNTIME_ERROR", "error removing directory %s. %s"
                               % (p, go_err("unlinkat", self.x.sb.guest(e.filename or hp), e)))
        self.x.ok(resp)


def content_disposition(base):
    """execd's Content-Disposition: RFC 5987 form only for names with non-ASCII characters."""
    base = base.replace("\r", " ").replace("\n", " ")
    if all(ord(c) < 128 for c in base):
        return 'attachment; filename="%s"' % base
    enc = urllib.parse.quote(base, safe="$&+:=@")
    return "attachment; filename=\"%s\"; filename*=UTF-8''%s" % (enc, enc)


PERMISSION = gojson.struct("model.Permission", [("owner", gojson.STRING), ("group", gojson.STRING),
                                                ("mode", gojson.INT)])
PERMISSION_MAP = gojson.map_of(PERMISSION, "map[string]model.Permission")
FILE_METADATA = gojson.struct("model.FileMetadata", [
    ("path", gojson.STRING), ("owner", gojson.STRING, "Permission"),
    ("group", gojson.STRING, "Permission"), ("mode", gojson.INT, "Permission")])
RENAME_LIST = gojson.list_of(gojson.struct("model.RenameFileItem", [
    ("src", gojson.STRING), ("dest", gojson.STRING)]), "[]model.RenameFileItem")
REPLACE_MAP = gojson.map_of(gojson.struct("model.ReplaceFileContentItem", [
    ("old", gojson.STRING), ("new", gojson.STRING)]), "map[string]model.ReplaceFileContentItem")


def parse_multipart(ctype, body):
    """Returns [{"name", "filename" (None without filename=), "data"}] or None if not multipart."""
    if ctype.split(";")[0].strip().lower() != "multipart/form-data":
        return None  # Go's ParseMultipartForm takes multipart/form-data only
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
                if v.split(";")[0].strip().lower() != "form-data":
                    continue  # not a form field: Go's FormName() is ""
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
