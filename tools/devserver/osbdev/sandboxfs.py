"""A sandbox's own view of the machine, as a container has one.

Every process of a sandbox (commands, background commands, sessions, code contexts, PTY
sessions, the entrypoint) starts through SandboxFS.popen, and every file the execd file API
touches is reached through SandboxFS.host, so both always see the same files.

Modes (chosen once at start-up by choose_mode):

namespaces   The server is root (or may make user namespaces). Each sandbox has its own mount,
             PID, UTS and IPC namespaces, held by a small init process (PID 1 inside). Its root
             is an overlay: lower layer the host's root file system, upper layer in a tmpfs that
             only the sandbox's mount namespace has. /tmp and /dev/shm are fresh tmpfs mounts,
             /proc shows the sandbox's own processes, the hostname is the first 12 hex digits of
             its container id. Processes join with nsenter; the file API reaches the files
             through /proc/<init>/root and resolves symlinks inside the sandbox's root.
             Killing the init (delete) makes the kernel kill every process left in the sandbox
             and drop its mounts, upper layer included. With net (sandboxes that have a
             networkPolicy, as root) it also has a network namespace: loopback only, sockets
             opened there by socket(), port 8080 relayed from a host port by publish().
directories  No namespace can be made. Each sandbox gets a root directory under the state
             directory; file API paths map into it, and processes start in it with HOME and
             TMPDIR inside it, but they see the host's file system.
"""

import errno
import os
import pwd
import shutil
import signal
import socket
import stat
import subprocess
import sys
import tempfile
import threading
import time

from . import common

NSENTER = shutil.which("nsenter") or "/usr/bin/nsenter"
UNSHARE = shutil.which("unshare") or "/usr/bin/unshare"
SETPRIV = shutil.which("setpriv") or "/usr/bin/setpriv"
SETSID = shutil.which("setsid") or "/usr/bin/setsid"
IP = shutil.which("ip")  # iproute2: without it, no network namespace of its own
NFT = shutil.which("nft")  # nftables: without it, no credential proxy
SH = "/bin/sh"
MAX_LINKS = 40

# Runs as PID 1 of the new namespaces: build the root, report "ready", then reap orphans.
# $1 = directory for the private tmpfs, $2 = hostname, then triples SRC DEST ro|rw (volumes).
_INIT = r'''
set -eu
D=$1; HN=$2; shift 2
mount -t tmpfs -o mode=0700 osb-sandbox "$D"
mkdir "$D/upper" "$D/work" "$D/root"
if ! mount -t overlay osb-root -o "lowerdir=/,upperdir=$D/upper,workdir=$D/work" "$D/root" 2>/dev/null
then
  # In a user namespace "/" cannot be a lower layer (its submounts are locked): one overlay
  # per top-level directory on a tmpfs root instead.
  mount -t tmpfs -o mode=0755 osb-root "$D/root"
  mkdir "$D/u" "$D/w"
  for p in /* /.[!.]*; do
    e=${p#/}
    if [ -L "$p" ]; then ln -s "$(readlink "$p")" "$D/root/$e"
    elif [ -d "$p" ]; then
      mkdir "$D/root/$e" "$D/u/$e" "$D/w/$e"
      case $e in proc|sys|dev|tmp) continue ;; esac
      mount -t overlay osb-root -o "userxattr,lowerdir=$p,upperdir=$D/u/$e,workdir=$D/w/$e" \
        "$D/root/$e" 2>/dev/null || mount --rbind "$p" "$D/root/$e"
    elif [ -e "$p" ]; then : > "$D/root/$e"; mount --bind "$p" "$D/root/$e"
    fi
  done
fi
cd "$D/root"
mkdir .osb-host
pivot_root . .osb-host
cd /
O=/.osb-host
mount -t proc proc /proc
mount --rbind "$O/dev" /dev
mount -t tmpfs -o mode=1777,nosuid,nodev shm /dev/shm
if [ "$NET" = 1 ]; then mount -t sysfs sysfs /sys; else mount --rbind "$O/sys" /sys; fi
mount -t tmpfs -o mode=1777 tmpfs /tmp
hostname "$HN" 2>/dev/null || echo "$HN" > /proc/sys/kernel/hostname
# (in a user namespace the host's root-owned files stay read-only: best effort)
echo "$HN" 2>/dev/null > /etc/hostname || true
printf '127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n127.0.1.1\t%s\n' "$HN" \
  2>/dev/null > /etc/hosts || true
while [ $# -ge 3 ]; do
  if [ -d "$O$1" ]; then mkdir -p "$2"; else mkdir -p "$(dirname "$2")"; [ -e "$2" ] || : > "$2"; fi
  mount --bind "$O$1" "$2"
  if [ "$3" = ro ]; then mount -o remount,bind,ro "$2"; fi
  shift 3
done
if [ "$NET" = 1 ]; then  # its own network namespace: loopback only, DNS from the dev egress
  ip link set lo up
  printf 'nameserver 127.0.0.1\n' > /etc/resolv.conf
fi
if [ "$INTERCEPT" = 1 ]; then  # plain HTTP to other loopback addresses: the credential proxy
  nft add table ip osb-egress
  nft 'add chain ip osb-egress out { type nat hook output priority -100; }'
  nft add rule ip osb-egress out ip daddr 127.0.0.0/8 ip daddr != 127.0.0.1 tcp dport 80 \
    redirect to :15080
fi
umount -l "$O"
rmdir "$O"
echo ready
exec "$SH" -c 'while :; do sleep 2147483647 & wait; done' </dev/null >/dev/null 2>&1
'''

# Joins the working directory inside the sandbox, then runs the command.
_CD = 'cd -- "$0" && exec "$@"'

MODE = "namespaces"


class SandboxError(Exception):
    pass


def choose_mode(requested, state_dir):
    """Pick the isolation mode ('auto': namespaces where they can be made). Returns the line to
    print at start-up when sandboxes do not get their own namespaces (else None)."""
    global MODE
    why = "--isolation directories"
    if requested != "directories":
        probe = SandboxFS(state_dir, "probe-" + common.hex32()[:8], "0" * 64, mode="namespaces")
        try:
            probe.start()
            MODE = "namespaces"
            return None
        except (SandboxError, OSError) as e:
            if requested == "namespaces":
                raise SandboxError(str(e))
            why = "no namespaces: %s" % e
        finally:
            probe.close()
    MODE = "directories"
    return ("devserver: sandboxes are not isolated (%s): each has its own root directory for the "
            "file API, but its processes see the host's file system" % why)


class SandboxFS(object):
    """One sandbox's root: popen() starts a process in it, host() maps one of its paths."""

    def __init__(self, state_dir, sid, container_id, mounts=(), mode=None, net=False,
                 intercept=False):
        self.mode = mode or MODE
        # its own network namespace too (needs root: the server joins it to open sockets there)
        self.net = bool(net) and self.mode == "namespaces" and os.geteuid() == 0 and bool(IP)
        # and port 80 of other loopback addresses redirected to the credential proxy
        self.intercept = self.net and bool(intercept) and bool(NFT)
        self.sid = sid
        self.hostname = container_id[:12]
        # (host source, sandbox destination, read only), parents before what is mounted in them
        self.mounts = sorted(mounts, key=lambda m: len([c for c in m[1].split("/") if c]))
        self.dir = os.path.join(state_dir, "sandbox-%s.root" % sid)
        self.root = self.dir
        self.cwd = "/"
        self.init_proc = None
        self.init_pid = None
        self.lock = threading.Lock()
        self.closed = False
        self.published = []  # listening sockets of published ports

    # ------------------------------------------------------------ start / close

    def start(self):
        if self.mode == "namespaces":
            self._start_namespaces()
        elif self.mode == "directories":
            os.makedirs(os.path.join(self.dir, "tmp"), exist_ok=True)
            os.chmod(os.path.join(self.dir, "tmp"), 0o1777)
            self.root = self.dir
            for src, dst, ro in self.mounts:
                self._link_volume(src, dst)
        return self

    def _start_namespaces(self):
        os.makedirs(self.dir, exist_ok=True)
        args = [self.dir, self.hostname]
        for src, dst, ro in self.mounts:
            args += [src, dst, "ro" if ro else "rw"]
        argv = [UNSHARE, "--mount", "--pid", "--uts", "--ipc", "--fork", "--kill-child",
                "--propagation", "private"] + (["--net"] if self.net else [])
        if os.geteuid() != 0:
            argv += ["--user", "--map-root-user"]
        env = {"PATH": os.environ.get("PATH", "/usr/sbin:/usr/bin:/sbin:/bin"), "SH": SH,
               "NET": "1" if self.net else "0", "INTERCEPT": "1" if self.intercept else "0"}
        err = tempfile.TemporaryFile()
        try:
            p = subprocess.Popen(argv + ["--", SH, "-c", _INIT, "osb-init"] + args,
                                 stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=err,
                                 env=env, start_new_session=True)
        except OSError as e:
            err.close()
            raise SandboxError("%s: %s" % (UNSHARE, e.strerror))
        common.register_process(p)
        self.init_proc = p
        line = p.stdout.readline()
        p.stdout.close()
        if line.strip() != b"ready":
            p.wait()
            err.seek(0)
            msg = err.read().decode("utf-8", "replace").strip().splitlines()
            err.close()
            raise SandboxError(msg[-1] if msg else "namespace set-up failed (exit %s)" % p.returncode)
        err.close()
        try:
            with open("/proc/%d/task/%d/children" % (p.pid, p.pid)) as f:
                self.init_pid = int(f.read().split()[0])
        except (OSError, ValueError, IndexError) as e:
            raise SandboxError("cannot find the sandbox's init process: %s" % e)
        self.root = "/proc/%d/root" % self.init_pid

    def _link_volume(self, src, dst):
        # directories mode: the best it can do is a symlink at the mapped mount path
        hp = self.host(dst, follow=False)
        os.makedirs(os.path.dirname(hp), exist_ok=True)
        if not os.path.lexists(hp):
            os.symlink(src, hp)

    def alive(self):
        return self.mode != "namespaces" or (self.init_proc is not None and self.init_proc.poll() is None)

    def close(self):
        """Kill everything in the sandbox and drop its files."""
        with self.lock:
            if self.closed:
                return
            self.closed = True
        for lsock in self.published:
            try:
                lsock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            lsock.close()
        p = self.init_proc
        if p is not None:
            if self.init_pid is not None:
                try:  # the kernel ends every other process of the namespace with it
                    os.kill(self.init_pid, signal.SIGKILL)
                except OSError:
                    pass
            try:
                p.wait(timeout=5)  # unshare reaps the init, then exits
            except subprocess.TimeoutExpired:
                common.kill_group(p, signal.SIGKILL)
                p.wait()
            common.unregister_process(p)
            try:
                os.rmdir(self.dir)  # the tmpfs was mounted in the sandbox's namespace only
            except OSError:
                pass
        elif self.mode == "directories":
            common.rmtree_quiet(self.dir)

    def socket(self, family=socket.AF_INET, type=socket.SOCK_STREAM):
        """A socket in the sandbox's network (its own namespace when it has one)."""
        if not self.net:
            return socket.socket(family, type)
        out = {}

        def make():  # setns changes only this thread's network namespace; it then ends
            try:
                own = os.open("/proc/thread-self/ns/net", os.O_RDONLY)
                try:
                    target = os.open("/proc/%d/ns/net" % self.init_pid, os.O_RDONLY)
                    try:
                        _setns(target, CLONE_NEWNET)
                        try:
                            out["sock"] = socket.socket(family, type)
                        finally:
                            _setns(own, CLONE_NEWNET)
                    finally:
                        os.close(target)
                finally:
                    os.close(own)
            except OSError as e:
                out["error"] = e

        t = threading.Thread(target=make)
        t.start()
        t.join()
        if "error" in out:
            if "sock" in out:
                out["sock"].close()
            raise out["error"]
        return out["sock"]

    def publish(self, port, host="127.0.0.1"):
        """As Docker publishes a container port: a new host port whose connections are
        relayed to `port` inside the sandbox's network. Returns the host port."""
        fam = socket.AF_INET6 if ":" in host else socket.AF_INET
        lsock = socket.socket(fam, socket.SOCK_STREAM)
        lsock.bind((host, 0))
        lsock.listen(64)
        self.published.append(lsock)

        def relay(client):
            try:
                inner = self.socket()
                inner.connect(("127.0.0.1", port))
            except OSError:
                client.close()  # nothing listens inside: as a refused connection, reset
                return
            t = threading.Thread(target=common.pump, args=(inner, client), daemon=True)
            t.start()
            common.pump(client, inner)
            t.join()
            client.close()
            inner.close()

        def serve():
            while True:
                try:
                    client, _ = lsock.accept()
                except OSError:
                    return
                threading.Thread(target=relay, args=(client,), daemon=True).start()

        threading.Thread(target=serve, daemon=True).start()
        return lsock.getsockname()[1]

    def signal_all(self, sig):
        """Signal every process of the sandbox (its init included), as a cgroup freeze reaches
        all of them. Only with namespaces; returns whether it could."""
        if self.mode != "namespaces" or self.init_pid is None:
            return False
        try:
            ns = os.readlink("/proc/%d/ns/pid" % self.init_pid)
        except OSError:
            return False
        for d in os.listdir("/proc"):
            if d.isdigit():
                try:
                    if os.readlink("/proc/%s/ns/pid" % d) == ns:
                        os.kill(int(d), sig)
                except OSError:
                    pass
        return True

    # ------------------------------------------------------------ paths

    def host(self, path, follow=True):
        """Host path for the absolute sandbox path `path`. Symlinks on the way resolve inside
        the sandbox's root; with follow=False a symlink as last component is left alone."""
        parts = [c for c in path.split("/") if c and c != "."]
        done = []
        links = 0
        while parts:
            name = parts.pop(0)
            if name == "..":
                if done:
                    done.pop()
                continue
            cand = done + [name]
            if parts or follow:
                hp = self.root + "/" + "/".join(cand)
                try:
                    st = os.lstat(hp)
                except OSError:
                    st = None
                if st is not None and stat.S_ISLNK(st.st_mode):
                    links += 1
                    if links > MAX_LINKS:
                        raise OSError(errno.ELOOP, os.strerror(errno.ELOOP), path)
                    target = os.readlink(hp)
                    if target.startswith("/"):
                        done = []
                    parts = [c for c in target.split("/") if c and c != "."] + parts
                    continue
            done = cand
        return self.root + "/" + "/".join(done) if done else self.root

    def proc_path(self, path):
        """How the sandbox's processes name the sandbox path `path` (they see the host's file
        system in directories mode; a shell's own `cd` target, for instance)."""
        return path if self.mode == "namespaces" else self.host(path)

    def guest(self, host_path):
        """The sandbox path of a host path that host() (or a walk below it) produced."""
        if host_path == self.root:
            return "/"
        if host_path.startswith(self.root + "/"):
            return host_path[len(self.root):]
        return host_path

    def scrub(self, text):
        """Replace host paths of this sandbox in a message by sandbox paths."""
        if not text:
            return text
        return text.replace(self.root + "/", "/").replace(self.root, "/")

    # ------------------------------------------------------------ processes

    def popen(self, argv, cwd=None, env=None, uid=None, gid=None, ctty=False, **kw):
        """subprocess.Popen of argv inside the sandbox, working directory cwd (a sandbox path),
        as uid/gid when given (supplementary groups: the user's, as execd sets them), leader of
        its own session (with its stdin as controlling terminal when ctty)."""
        cwd = cwd or self.cwd
        if self.mode == "namespaces":
            kw.pop("start_new_session", None)
            pre = [NSENTER, "-t", str(self.init_pid)]
            if os.geteuid() != 0:  # its user namespace, where we are root
                pre += ["-U", "--preserve-credentials"]
            pre += ["-m", "-u", "-i", "-p"] + (["-n"] if self.net else []) + ["-r", "-w", "--", SETSID]
            pre += (["--ctty"] if ctty else []) + ["--"]
            if uid is not None:
                g, groups = _ids(uid, gid)
                pre += [SETPRIV, "--reuid=%d" % uid, "--regid=%d" % g]
                pre += ["--groups=" + ",".join(str(x) for x in groups)] if groups else ["--clear-groups"]
                pre += ["--"]
            pre += [SH, "-c", _CD, cwd]
            p = SandboxProc(pre + list(argv), env=env, start_new_session=True, **kw)
        else:
            if uid is not None:
                g, groups = _ids(uid, gid)
                kw.update(user=uid, group=g, extra_groups=groups)
            if ctty:
                kw["preexec_fn"] = _take_ctty
            kw["start_new_session"] = True
            if self.mode == "directories":
                env = dict(env if env is not None else os.environ)
                env["TMPDIR"] = os.path.join(self.root, "tmp")
                env["HOME"] = self.root
            p = subprocess.Popen(list(argv), cwd=self.host(cwd), env=env, **kw)
        common.register_process(p)
        return p


class SandboxProc(subprocess.Popen):
    """A process started in a sandbox's namespaces. Its pid is nsenter's, which waits for the
    real process (its only child, leader of its own session) and exits as it does. Signals go
    to the real process's group; stop, continue and kill also to nsenter's own."""

    def inner_pid(self):
        deadline = time.monotonic() + 1.0
        while True:
            try:
                with open("/proc/%d/task/%d/children" % (self.pid, self.pid)) as f:
                    kids = f.read().split()
            except OSError:
                return None
            if kids:
                return int(kids[0])
            if self.returncode is not None or time.monotonic() > deadline or _exited(self.pid):
                return None
            time.sleep(0.005)

    def signal_group(self, sig):
        kid = self.inner_pid()
        if kid is not None:
            try:
                os.killpg(kid, sig)
            except OSError:  # not yet its own group leader
                try:
                    os.kill(kid, sig)
                except OSError:
                    pass
        if kid is None or sig in (signal.SIGKILL, signal.SIGSTOP, signal.SIGCONT):
            try:
                os.killpg(self.pid, sig)
            except OSError:
                pass

    def send_signal(self, sig):
        kid = self.inner_pid()
        if kid is None:
            subprocess.Popen.send_signal(self, sig)
        else:
            try:
                os.kill(kid, sig)
            except OSError:
                pass


CLONE_NEWNET = 0x40000000
_libc = []


def _setns(fd, nstype):
    if not _libc:
        import ctypes
        _libc.append(ctypes.CDLL(None, use_errno=True))
    if _libc[0].setns(fd, nstype) != 0:
        import ctypes
        err = ctypes.get_errno()
        raise OSError(err, os.strerror(err))


def _exited(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rpartition(")")[2].split()[0] in ("Z", "X")
    except (OSError, IndexError):
        return True


def _take_ctty():
    import fcntl
    import termios
    fcntl.ioctl(0, termios.TIOCSCTTY, 0)


def _ids(uid, gid):
    """(gid, supplementary groups) for a command run as uid (and gid when given), as execd's
    buildCredential: a known user brings its primary group and all its groups (kept when gid
    is given too); an unknown uid runs with gid 0 unless gid is given, and no groups."""
    try:
        pw = pwd.getpwuid(uid)
        primary, groups = pw.pw_gid, os.getgrouplist(pw.pw_name, pw.pw_gid)
    except KeyError:
        primary, groups = 0, []
    return (gid if gid is not None else primary), groups


def python_worker_argv():
    """argv of a code-context Python worker (its source is passed inline: the sandbox may not
    see this checkout)."""
    with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "pyworker.py")) as f:
        src = f.read()
    return [sys.executable, "-u", "-c", src]
