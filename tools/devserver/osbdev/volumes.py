"""Sandbox volumes as the Docker runtime of the lifecycle server resolves them.

`host`: a bind of a host directory (or file), allowed only under the prefixes given with
--allowed-host-path (the real `storage.allowed_host_paths`, empty by default: every host
path is refused). `pvc`: a named volume, i.e. a directory the dev server keeps under its
volume directory (as Docker keeps /var/lib/docker/volumes/NAME/_data); created on demand
when `createIfNotExists` (the default), removed with the sandbox when the server created it
and `deleteOnSandboxTermination` says so. `subPath` selects a directory inside either,
`readOnly` mounts read-only. `ossfs` needs the ossfs FUSE client, which the dev server does
not run: it fails as a Docker host without that client does.

resolve() answers every error the real server answers (same status, code and message) and
returns the mounts for sandboxfs: (host source, sandbox destination, read only).
"""

import os
import posixpath
import re
import shutil
import threading

NAME_RE = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
HOST_PATH_RE = re.compile(r"^(/|[A-Za-z]:[\\/])")


class VolumeError(Exception):
    def __init__(self, status, code, message):
        Exception.__init__(self, message)
        self.status = status
        self.code = code
        self.message = message


def bad(code, message):
    return VolumeError(400, "VOLUME::" + code, message)


def _norm_prefix(p):
    p = p.replace("\\", "/")
    if re.match(r"^[A-Za-z]:", p):
        p = p[0].lower() + p[1:]
    return p[:-1] if len(p) > 1 and p.endswith("/") else p


def check_host_path(path, allowed):
    if not path:
        raise bad("INVALID_HOST_PATH", "Host path cannot be empty.")
    if not HOST_PATH_RE.match(path):
        raise bad("INVALID_HOST_PATH", "Host path '%s' must be an absolute path starting with '/' or a "
                  "Windows drive letter (e.g. 'C:\\' or 'D:/')." % path)
    fwd = path.replace("\\", "/")
    tail = fwd[2:] if re.match(r"^[A-Za-z]:/", fwd) else fwd
    if "/.." in tail or tail == "/..":
        raise bad("INVALID_HOST_PATH", "Host path '%s' contains path traversal component '..'." % path)
    if "//" in tail or (len(tail) > 1 and tail.endswith("/")):
        raise bad("INVALID_HOST_PATH", "Host path '%s' is not normalized. Remove redundant slashes." % path)
    if allowed is not None:
        n = _norm_prefix(path)
        if not any(n == _norm_prefix(a) or n.startswith(_norm_prefix(a) + "/") for a in allowed):
            raise bad("HOST_PATH_NOT_ALLOWED", "Host path '%s' is not under any allowed prefix. "
                      "Allowed prefixes: %s" % (path, _pylist(allowed)))


def _pylist(items):
    """str() of a Python list of strings, as the real message prints it."""
    return "[" + ", ".join(repr(s) for s in items) + "]"


def check_common(vols, allowed):
    """ensure_volumes_valid: per volume its name, mount path, sub path, backend count and
    backend (host path against the allow-list, claim name)."""
    seen = set()
    for v in vols:
        name = v.get("name")
        if name in seen:
            raise bad("DUPLICATE_NAME", "Duplicate volume name '%s'. Each volume must have a unique "
                      "name." % name)
        seen.add(name)
        if not name:
            raise bad("INVALID_NAME", "Volume name cannot be empty.")
        if len(name) > 63:
            raise bad("INVALID_NAME", "Volume name '%s' exceeds maximum length of 63 characters." % name)
        if not NAME_RE.match(name):
            raise bad("INVALID_NAME", "Volume name '%s' is not a valid DNS label. Must be lowercase "
                      "alphanumeric with optional hyphens." % name)
        mp = v.get("mountPath")
        if not mp:
            raise bad("INVALID_MOUNT_PATH", "Mount path cannot be empty.")
        if not mp.startswith("/"):
            raise bad("INVALID_MOUNT_PATH", "Mount path '%s' must be an absolute path starting with "
                      "'/'." % mp)
        sp = v.get("subPath")
        if sp:
            if sp.startswith("/"):
                raise bad("INVALID_SUB_PATH", "SubPath '%s' must be a relative path, not absolute." % sp)
            if ".." in sp.split("/"):
                raise bad("INVALID_SUB_PATH", "SubPath '%s' contains path traversal '..' which is not "
                          "allowed." % sp)
        n = sum(1 for k in ("host", "pvc", "ossfs") if v.get(k) is not None)
        if n != 1:
            raise bad("INVALID_BACKEND", "Volume '%s' must specify exactly one backend (host, pvc, "
                      "ossfs), but %s." % (name, "none was provided" if n == 0 else
                                             "multiple were provided"))
        if v["host"] is not None:
            check_host_path(v["host"]["path"], allowed)
        if v["pvc"] is not None:
            check_claim_name(v["pvc"]["claimName"])


def check_claim_name(cn):
    if not cn:
        raise bad("INVALID_PVC_NAME", "PVC claim name cannot be empty.")
    if len(cn) > 253:
        raise bad("INVALID_PVC_NAME", "PVC claim name '%s' exceeds maximum length of 253 characters." % cn)
    if not NAME_RE.match(cn):
        raise bad("INVALID_PVC_NAME", "PVC claim name '%s' is not a valid Kubernetes resource name." % cn)


def field(d, name, alias=None):
    if not isinstance(d, dict):
        return None
    if name in d:
        return d[name]
    return d.get(alias) if alias else None


def normalise(vol):
    """The request's volume with aliases resolved and defaults filled (pydantic's model)."""
    out = {"name": field(vol, "name"), "mountPath": field(vol, "mountPath", "mount_path"),
           "readOnly": bool(field(vol, "readOnly", "read_only")),
           "subPath": field(vol, "subPath", "sub_path")}
    host, pvc, ossfs = vol.get("host"), vol.get("pvc"), vol.get("ossfs")
    out["host"] = {"path": host.get("path")} if isinstance(host, dict) else None
    if isinstance(pvc, dict):
        cine = field(pvc, "createIfNotExists", "create_if_not_exists")
        out["pvc"] = {"claimName": field(pvc, "claimName", "claim_name"),
                      "createIfNotExists": True if cine is None else bool(cine),
                      "deleteOnSandboxTermination": bool(field(pvc, "deleteOnSandboxTermination",
                                                               "delete_on_sandbox_termination"))}
    else:
        out["pvc"] = None
    out["ossfs"] = ossfs if isinstance(ossfs, dict) else None
    return out


class Volumes(object):
    """The allow-list and the named volumes of one dev server."""

    def __init__(self, root, allowed_host_paths=()):
        self.root = root
        self.allowed = list(allowed_host_paths)
        self.lock = threading.Lock()
        self.managed = set()  # named volumes this server created on demand
        os.makedirs(root, exist_ok=True)

    # ------------------------------------------------------------ named volumes

    def mountpoint(self, name):
        return os.path.join(self.root, name)

    def exists(self, name):
        return os.path.isdir(self.mountpoint(name))

    def create(self, name, seed=None, files=None):
        """Create named volume `name` (if new); copy the tree `seed` and write `files`
        ({relative path: text}) into it. Returns True when it was created."""
        check_claim_name(name)
        mp = self.mountpoint(name)
        created = not os.path.isdir(mp)
        os.makedirs(mp, exist_ok=True)
        if seed:
            shutil.copytree(seed, mp, symlinks=True, dirs_exist_ok=True)
        for rel, text in (files or {}).items():
            target = os.path.normpath(os.path.join(mp, rel))
            if not target.startswith(mp + "/"):
                raise bad("INVALID_SUB_PATH", "File path '%s' escapes the volume." % rel)
            os.makedirs(os.path.dirname(target), exist_ok=True)
            with open(target, "w") as f:
                f.write(text)
        return created

    def names(self):
        try:
            return sorted(n for n in os.listdir(self.root) if os.path.isdir(self.mountpoint(n)))
        except OSError:
            return []

    def remove_managed(self, names):
        for n in names:
            with self.lock:
                if n not in self.managed:
                    continue
                self.managed.discard(n)
            shutil.rmtree(self.mountpoint(n), ignore_errors=True)

    # ------------------------------------------------------------ a create request

    def resolve(self, raw_vols):
        """Check the volumes of a create request as the Docker runtime does. Returns
        (mounts, auto_created): mounts = [(host source, sandbox path, read only)]."""
        if not raw_vols:
            return [], []
        vols = [normalise(v) for v in raw_vols]
        check_common(vols, self.allowed)
        created = []
        try:
            mounts = [self._one(v, created) for v in vols]
        except Exception:
            self.remove_managed(created)
            raise
        return mounts, [n for n, delete in created if delete]

    def _one(self, v, created):
        sub = v["subPath"]
        ro = v["readOnly"]
        if v["host"] is not None:
            path = v["host"]["path"]
            resolved = os.path.normpath(os.path.join(path, sub)) if sub else path
            if self.allowed and resolved != path:
                check_host_path(resolved, self.allowed)
            if self.allowed:
                canon = os.path.realpath(resolved)
                canon_prefixes = [os.path.realpath(p) for p in self.allowed]
                if canon != resolved or canon_prefixes != self.allowed:
                    check_host_path(canon, canon_prefixes)
            if not os.path.isfile(resolved):
                try:
                    os.makedirs(resolved, exist_ok=True)
                except OSError as e:
                    raise VolumeError(500, "VOLUME::HOST_PATH_CREATE_FAILED",
                                      "Volume '%s': could not ensure host path directory exists at "
                                      "'%s': %s" % (v["name"], resolved, type(e).__name__))
            return (resolved, v["mountPath"], ro)
        if v["pvc"] is not None:
            name = v["pvc"]["claimName"]
            with self.lock:
                if not self.exists(name):
                    if not v["pvc"]["createIfNotExists"]:
                        raise bad("PVC_NOT_FOUND", "Volume '%s': Docker named volume '%s' does not "
                                  "exist. Named volumes must be created before sandbox creation "
                                  "(e.g., 'docker volume create <name>')." % (v["name"], name))
                    os.makedirs(self.mountpoint(name))
                    self.managed.add(name)
                    created.append((name, v["pvc"]["deleteOnSandboxTermination"]))
            mp = self.mountpoint(name)
            src = mp
            if sub:
                src = posixpath.normpath(posixpath.join(mp, sub))
                if src != mp and not src.startswith(mp + "/"):
                    raise bad("INVALID_SUB_PATH", "Volume '%s': resolved subPath escapes the volume "
                              "mountpoint." % v["name"])
                canon_mp = os.path.realpath(mp)
                canon = os.path.realpath(src)
                if os.path.exists(src) and canon != canon_mp and not canon.startswith(canon_mp + "/"):
                    raise bad("INVALID_SUB_PATH", "Volume '%s': resolved subPath escapes the volume "
                              "mountpoint after symlink resolution." % v["name"])
                if not os.path.exists(src):
                    # Docker refuses the bind when the container is created
                    raise VolumeError(500, "DOCKER::SANDBOX_START_FAILED",
                                      "Failed to create or start container: invalid mount config for "
                                      "type \"bind\": bind source path does not exist: %s" % src)
            return (src, v["mountPath"], ro)
        raise VolumeError(500, "VOLUME::OSSFS_MOUNT_FAILED",
                          "Volume '%s': failed to execute ossfs command: [Errno 2] No such file or "
                          "directory: 'ossfs'" % v["name"])
