#!/usr/bin/env python3
"""The dev server keeps sandboxes apart as containers are: own root, /tmp, hostname, PIDs.

Each test is named after the behaviour of a real (Docker) sandbox it checks.
"""

import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import test_devserver as td  # noqa: E402
from test_devserver import KEY, DevServer, WSClient, events, no_pings, request  # noqa: E402


def setUpModule():
    td.SERVER = DevServer("--api-key", KEY, "--command-grace", "0.2")


def tearDownModule():
    if td.SERVER is not None:
        td.SERVER.stop()
        td.SERVER = None


def unique(prefix):
    return "%s-%s" % (prefix, uuid.uuid4().hex[:12])


def ns_members(kind, inode):
    """Host pids whose namespace of this kind ('pid', 'mnt') is inode (e.g. 'pid:[4026532]')."""
    out = []
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                if os.readlink("/proc/%s/ns/%s" % (d, kind)) == inode:
                    out.append(int(d))
            except OSError:
                pass
    return out


def background_logs(t, command, ep):
    """Run command in the background, wait for it to end, return its logs."""
    r = t.x("POST", "/command", {"command": command, "background": True}, ep=ep)
    cid = events(r.body)[0]["text"]
    deadline = time.time() + 10
    while t.x("GET", "/command/status/" + cid, ep=ep).json()["running"]:
        t.assertLess(time.time(), deadline)
        time.sleep(0.05)
    return t.x("GET", "/command/%s/logs" % cid, ep=ep).body


class Isolation(td.Base):
    def read(self, path, ep):
        r = self.x("GET", "/files/download?path=" + path, ep=ep)
        self.assertEqual(r.status, 200, r.text)
        return r.body

    def not_found(self, path, ep):
        r = self.x("GET", "/files/info?path=" + path, ep=ep)
        self.assertEqual(r.status, 404, r.text)
        self.assertEqual(r.json()["code"], "FILE_NOT_FOUND")
        self.assertEqual(r.json()["message"], "file not found. file not found: %s: lstat %s: no such "
                         "file or directory" % (path, path))

    def test_a_file_written_in_one_sandbox_is_seen_by_neither_another_sandbox_nor_the_host(self):
        # a host file outside /tmp (each sandbox's /tmp is its own, and the checkout may be there)
        host_dir = tempfile.mkdtemp(prefix="osb-isolation-", dir="/var/tmp")
        self.addCleanup(shutil.rmtree, host_dir, True)
        host_file = os.path.join(host_dir, "kept")
        with open(host_file, "w") as f:
            f.write("the host's\n")
        a, b = self.execd(self.create()), self.execd(self.create())
        up, cmd = "/tmp/" + unique("by-api"), "/tmp/" + unique("by-command")
        self.upload(up, "from the file API\n", ep=a)
        self.sh("echo from a command > " + cmd, ep=a)
        for p in (up, cmd):
            self.assertTrue(self.exists(p, ep=a))
            self.not_found(p, b)
            self.assertFalse(self.exists(p, ep=b))
            self.assertFalse(os.path.lexists(p))
        # the same path written in both holds each one's own content
        self.upload("/tmp/same-name", "A", ep=a)
        self.upload("/tmp/same-name", "B", ep=b)
        self.assertEqual((self.read("/tmp/same-name", a), self.read("/tmp/same-name", b)), (b"A", b"B"))
        # a sandbox's rm -rf never reaches the host: its root is its own copy of the host's
        self.sh("rm -f " + host_file, ep=a)
        self.assertFalse(self.exists(host_file, ep=a))
        self.assertTrue(os.path.exists(host_file))
        self.assertTrue(self.exists(host_file, ep=b))

    def test_file_api_commands_sessions_code_and_ptys_see_the_same_files(self):
        ep = self.execd(self.create())
        p = "/tmp/" + unique("shared")
        self.upload(p, "one view\n", ep=ep)
        r = self.x("POST", "/command", {"command": "cat " + p}, ep=ep)
        self.assertEqual([e["text"] for e in events(r.body) if e["type"] == "stdout"], ["one view"])
        self.assertEqual(background_logs(self, "cat %s; echo bg >> %s" % (p, p), ep), b"one view\n")
        self.assertEqual(self.read(p, ep), b"one view\nbg\n")
        self.assertEqual(self.sh("cat " + p, ep=ep), "one view\nbg")  # a bash session
        r = self.x("POST", "/code", {"context": {"language": "python"},
                                     "code": "print(open(%r).read().upper(), end='')" % p}, ep=ep)
        self.assertEqual([e["text"] for e in no_pings(events(r.body)) if e["type"] == "stdout"],
                         ["ONE VIEW\nBG\n"])
        r = self.x("POST", "/code", {"context": {"language": "bash"}, "code": "wc -l < " + p}, ep=ep)
        self.assertEqual([e["text"] for e in no_pings(events(r.body)) if e["type"] == "stdout"], ["2\n"])
        sid = self.x("POST", "/pty", {"command": "cat " + p}, ep=ep).json()["session_id"]
        ws = WSClient(ep + "/pty/%s/ws?pty=0" % sid)
        self.addCleanup(ws.close)
        out = b""
        while True:  # output may come first as a replay frame (0x03 + offset), before "connected"
            kind, data = ws.recv_data()
            if kind == "binary":
                out += data[9:] if data[:1] == b"\x03" else data[1:]
            elif data["type"] == "exit":
                self.assertEqual(data, {"type": "exit", "exit_code": 0})
                break
            else:
                self.assertEqual(data["type"], "connected")
        self.assertEqual(out, b"one view\nbg\n")

    def test_symlinks_resolve_inside_the_sandbox_root(self):
        ep = self.execd(self.create())
        d = self.tmpdir(ep=ep)
        self.sh("echo inside > /tmp/target && ln -s /tmp/target %s/abs && ln -s ../target %s/rel "
                "&& ln -s /etc/hostname %s/host" % (d, d, d), ep=ep)
        self.assertEqual(self.read(d + "/abs", ep), b"inside\n")
        self.assertEqual(self.read(d + "/rel", ep), b"inside\n")
        # /etc/hostname of the sandbox (its hostname), not the host's
        self.assertEqual(self.read(d + "/host", ep).decode().strip(), self.sh("hostname", ep=ep))
        info = self.x("GET", "/files/info?path=%s/abs" % d, ep=ep).json()[d + "/abs"]
        self.assertEqual((info["path"], info["type"], info["size"]), (d + "/abs", "symlink", 11))
        r = self.x("GET", "/files/search?path=%s&pattern=*" % d, ep=ep)
        self.assertEqual([i["path"] for i in r.json()], [d + "/abs", d + "/host", d + "/rel"])

    def test_hostname_is_the_first_12_hex_digits_of_the_container_id(self):
        a, b = self.execd(self.create()), self.execd(self.create())
        ha, hb = self.sh("hostname", ep=a), self.sh("hostname", ep=b)
        self.assertRegex(ha, r"^[0-9a-f]{12}$")
        self.assertRegex(hb, r"^[0-9a-f]{12}$")
        self.assertNotEqual(ha, hb)
        self.assertNotEqual(ha, socket.gethostname())
        self.assertEqual(self.sh("cat /etc/hostname", ep=a), ha)
        self.assertEqual(self.read("/etc/hostname", a).decode(), ha + "\n")
        r = self.x("POST", "/code", {"context": {"language": "python"},
                                     "code": "import socket; print(socket.gethostname())"}, ep=a)
        self.assertIn(ha + "\n", [e.get("text") for e in events(r.body)])

    def test_a_sandbox_sees_its_own_processes_only(self):
        a, b = self.execd(self.create()), self.execd(self.create())
        marker = unique("osb-proc")
        r = self.x("POST", "/command", {"command": "exec -a %s sleep 300" % marker, "background": True},
                   ep=b)
        self.assertEqual(r.status, 200)
        scan = ("for f in /proc/[0-9]*/cmdline; do tr '\\0' '\\n' < $f 2>/dev/null | head -1 | "
                "grep -qxF %s && echo found; done; true" % marker)
        deadline = time.time() + 10
        while "found" not in self.sh(scan, ep=b):
            self.assertLess(time.time(), deadline)
            time.sleep(0.05)
        self.assertEqual(self.sh(scan, ep=a), "")
        # PID 1 is the sandbox's own init; the host's processes are not there
        pids = sorted(int(x) for x in self.sh("ls /proc | grep -E '^[0-9]+$'", ep=a).split())
        self.assertEqual(pids[0], 1)
        self.assertNotIn(str(os.getpid()), self.sh("ls /proc", ep=a).split())
        self.assertLess(len(pids), 20)

    def test_delete_kills_every_process_and_drops_mounts_and_files(self):
        state = tempfile.mkdtemp(prefix="osb-isolation-state-")
        self.addCleanup(shutil.rmtree, state, True)
        self.server = DevServer("--api-key", KEY, "--command-grace", "0", "--state-dir", state)
        self.addCleanup(self.server.stop)
        self.addCleanup(setattr, self, "server", None)
        sid = self.create()
        self.assertTrue([n for n in os.listdir(state) if sid in n])
        ep = self.execd(sid)
        marker = unique("osb-del")
        self.x("POST", "/command", {"command": "exec -a %s sleep 300" % marker, "background": True}, ep=ep)
        self.x("POST", "/command", {"command": "setsid bash -c 'exec -a %s-2 sleep 300' & echo started" % marker,
                                    "background": True}, ep=ep)
        self.upload("/tmp/upper-file", "x" * 1000, ep=ep)
        deadline = time.time() + 10
        while not (td.pids_with_argv0(marker) and td.pids_with_argv0(marker + "-2")):
            self.assertLess(time.time(), deadline)
            time.sleep(0.05)
        pid = td.pids_with_argv0(marker)[0]
        pidns, mntns = os.readlink("/proc/%d/ns/pid" % pid), os.readlink("/proc/%d/ns/mnt" % pid)
        self.assertNotEqual(pidns, os.readlink("/proc/self/ns/pid"))
        self.assertNotEqual(mntns, os.readlink("/proc/self/ns/mnt"))
        self.assertTrue(os.path.isdir("/proc/%d/root/tmp" % pid))
        r = self.api("DELETE", "/v1/sandboxes/" + sid)
        self.assertEqual((r.status, r.body), (204, b""))
        deadline = time.time() + 10
        while ns_members("pid", pidns) or ns_members("mnt", mntns):
            self.assertLess(time.time(), deadline, "processes of the deleted sandbox survive")
            time.sleep(0.05)
        self.assertEqual(td.pids_with_argv0(marker, zombies=False), [])
        self.assertEqual(td.pids_with_argv0(marker + "-2", zombies=False), [])
        self.assertEqual([n for n in os.listdir(state) if sid in n], [])
        self.assertEqual(self.api("GET", "/v1/sandboxes/" + sid).status, 404)

    def test_pause_freezes_every_process_of_the_sandbox(self):
        sid = self.create()
        ep = self.execd(sid)
        marker = unique("osb-pause")
        # one that leaves its command's process group and session
        self.x("POST", "/command", {"command": "setsid bash -c 'exec -a %s sleep 300' &" % marker},
               ep=ep)
        deadline = time.time() + 10
        while not td.pids_with_argv0(marker):
            self.assertLess(time.time(), deadline)
            time.sleep(0.05)
        pid = td.pids_with_argv0(marker)[0]

        def reaches(want):  # signals are delivered when the process next runs
            deadline = time.time() + 10
            while True:
                with open("/proc/%d/stat" % pid) as f:
                    st = f.read().rpartition(")")[2].split()[0]
                if st == want or time.time() > deadline:
                    return st

        self.assertEqual(self.api("POST", "/v1/sandboxes/%s/pause" % sid).status, 202)
        self.assertEqual(reaches("T"), "T")
        self.assertEqual(self.api("POST", "/v1/sandboxes/%s/resume" % sid).status, 202)
        self.assertEqual(reaches("S"), "S")

    def test_when_the_entrypoint_exits_the_container_stops_with_everything_in_it(self):
        srv = DevServer("--api-key", KEY, "--command-grace", "0", "--run-entrypoint")
        self.server = srv
        self.addCleanup(srv.stop)
        self.addCleanup(setattr, self, "server", None)
        sid = self.create(entrypoint=["sh", "-c", "echo main-started; while [ ! -e /tmp/stop ]; do "
                                                  "sleep 0.05; done; exit 4"])
        ep = self.execd(sid)
        marker = unique("osb-main")
        self.x("POST", "/command", {"command": "exec -a %s sleep 300" % marker, "background": True},
               ep=ep)
        deadline = time.time() + 10
        while not td.pids_with_argv0(marker):
            self.assertLess(time.time(), deadline)
            time.sleep(0.05)
        self.upload("/tmp/stop", "", ep=ep)
        deadline = time.time() + 20
        while self.api("GET", "/v1/sandboxes/" + sid).json()["status"]["state"] != "Failed":
            self.assertLess(time.time(), deadline)
            time.sleep(0.05)
        deadline = time.time() + 10
        while td.pids_with_argv0(marker, zombies=False):
            self.assertLess(time.time(), deadline, "a process outlived its container")
            time.sleep(0.05)
        host, port, _ = td.split_target(ep)
        with self.assertRaises(ConnectionRefusedError):  # execd stopped with the container
            socket.create_connection((host, port), timeout=5).close()
        r = self.api("GET", "/v1/sandboxes/%s/diagnostics/logs" % sid)
        self.assertIn("main-started", r.text)
        self.assertEqual(self.api("DELETE", "/v1/sandboxes/" + sid).status, 204)

    def test_a_deleted_sandbox_answers_as_a_gone_container(self):
        srv = DevServer("--api-key", KEY, "--command-grace", "0")
        self.server = srv
        self.addCleanup(srv.stop)
        self.addCleanup(setattr, self, "server", None)
        sid = self.create()
        ep = self.execd(sid)
        host, port, _ = td.split_target(ep)
        # an open keep-alive connection and a command stream in flight
        keep = td.http.client.HTTPConnection(host, port, timeout=10)
        keep.request("GET", "/ping")
        self.assertEqual(keep.getresponse().read(), b"")
        stream = td.http.client.HTTPConnection(host, port, timeout=10)
        stream.request("POST", "/command", json.dumps({"command": "echo go; sleep 30"}),
                       {"Content-Type": "application/json"})
        resp = stream.getresponse()
        buf = b""
        while b'"go"' not in buf:
            chunk = resp.read1(4096)
            self.assertTrue(chunk)
            buf += chunk
        proxied = self.api("GET", "/sandboxes/%s/proxy/44772/ping" % sid)
        self.assertEqual(proxied.status, 200)
        self.assertEqual(self.api("DELETE", "/v1/sandboxes/" + sid).status, 204)
        # the stream ends without its final chunk; the kept connection is reset
        with self.assertRaises((OSError, td.http.client.HTTPException)):
            while resp.read1(4096):
                pass
            raise td.http.client.IncompleteRead(b"")  # ended cleanly: not what a gone peer does
        with self.assertRaises((OSError, td.http.client.HTTPException)):
            keep.request("GET", "/ping")
            keep.getresponse().read()
        with self.assertRaises(ConnectionRefusedError):
            socket.create_connection((host, port), timeout=5).close()
        r = self.api("GET", "/sandboxes/%s/proxy/44772/ping" % sid)
        self.assertEqual((r.status, r.json()), (404, {"code": "DOCKER::SANDBOX_NOT_FOUND",
                                                      "message": "Sandbox %s not found." % sid}))
        r = self.api("GET", "/v1/sandboxes/%s/endpoints/44772" % sid)
        self.assertEqual(r.status, 404)
        keep.close()
        stream.close()
        time.sleep(0.3)  # let the handler threads of the dropped connections finish
        with open(os.path.join(srv.dir, "stderr.log"), "rb") as f:
            self.assertEqual(f.read(), b"")


class Volumes(td.Base):
    """Volumes as a Docker-runtime lifecycle server configured the same way answers them."""

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="osb-volumes-test-")
        cls.allowed = os.path.join(cls.tmp, "allowed")
        os.makedirs(os.path.join(cls.allowed, "data"))
        with open(os.path.join(cls.allowed, "data", "h.txt"), "w") as f:
            f.write("from the host\n")
        seed = os.path.join(cls.tmp, "seed")
        os.makedirs(os.path.join(seed, "datasets", "train"))
        with open(os.path.join(seed, "marker.txt"), "w") as f:
            f.write("pvc-marker-data\n")
        with open(os.path.join(seed, "datasets", "train", "marker.txt"), "w") as f:
            f.write("pvc-subpath-marker\n")
        cls.voldir = os.path.join(cls.tmp, "volumes")
        cls.vserver = DevServer("--api-key", KEY, "--command-grace", "0",
                                "--allowed-host-path", cls.allowed, "--volume-dir", cls.voldir,
                                "--volume", "seeded=" + seed)

    @classmethod
    def tearDownClass(cls):
        cls.vserver.stop()
        shutil.rmtree(cls.tmp, True)

    def setUp(self):
        self.server = self.vserver

    def create_with(self, *vols):
        body = {"image": {"uri": "python:3.11"}, "entrypoint": ["tail", "-f", "/dev/null"],
                "resourceLimits": {}, "volumes": list(vols)}
        r = self.api("POST", "/v1/sandboxes", body)
        if r.status == 202:
            self.addCleanup(self.quiet_delete, self.srv.domain, r.json()["id"])
        return r

    def assert_error(self, r, status, code, message):
        self.assertEqual((r.status, r.json()), (status, {"code": code, "message": message}))

    def test_host_path_outside_the_allow_list_is_refused(self):
        r = self.create_with({"name": "h", "host": {"path": "/etc"}, "mountPath": "/mnt/h"})
        self.assert_error(r, 400, "VOLUME::HOST_PATH_NOT_ALLOWED",
                          "Host path '/etc' is not under any allowed prefix. Allowed prefixes: ['%s']"
                          % self.allowed)
        # a prefix match must end at a path separator
        r = self.create_with({"name": "h", "host": {"path": self.allowed + "-x"}, "mountPath": "/m"})
        self.assertEqual((r.status, r.json()["code"]), (400, "VOLUME::HOST_PATH_NOT_ALLOWED"))

    def test_host_paths_are_refused_by_default(self):
        # storage.allowed_host_paths is an empty list unless configured: every host path is refused
        self.server = None  # the module's server runs without --allowed-host-path
        r = self.create_with({"name": "h", "host": {"path": "/tmp"}, "mountPath": "/mnt/h"})
        self.assert_error(r, 400, "VOLUME::HOST_PATH_NOT_ALLOWED",
                          "Host path '/tmp' is not under any allowed prefix. Allowed prefixes: []")

    def test_missing_named_volume_without_create_if_not_exists(self):
        r = self.create_with({"name": "p", "pvc": {"claimName": "absent", "createIfNotExists": False},
                              "mountPath": "/mnt/p"})
        self.assert_error(r, 400, "VOLUME::PVC_NOT_FOUND",
                          "Volume 'p': Docker named volume 'absent' does not exist. Named volumes must "
                          "be created before sandbox creation (e.g., 'docker volume create <name>').")
        self.assertFalse(os.path.exists(os.path.join(self.voldir, "absent")))

    def test_volume_validation_errors(self):
        r = self.create_with({"name": "a", "host": {"path": self.allowed}, "mountPath": "/a"},
                             {"name": "a", "host": {"path": self.allowed}, "mountPath": "/b"})
        self.assert_error(r, 400, "VOLUME::DUPLICATE_NAME",
                          "Duplicate volume name 'a'. Each volume must have a unique name.")
        r = self.create_with({"name": "a", "host": {"path": self.allowed}, "mountPath": "/a",
                              "subPath": "../x"})
        self.assert_error(r, 400, "VOLUME::INVALID_SUB_PATH",
                          "SubPath '../x' contains path traversal '..' which is not allowed.")
        r = self.create_with({"name": "a", "host": {"path": self.allowed + "//x"}, "mountPath": "/a"})
        self.assert_error(r, 400, "VOLUME::INVALID_HOST_PATH", "Host path '%s//x' is not normalized. "
                          "Remove redundant slashes." % self.allowed)
        r = self.create_with({"name": "Bad", "pvc": {"claimName": "x"}, "mountPath": "/a"})
        self.assertEqual(r.status, 422)
        self.assertEqual(r.json()["detail"][0]["loc"], ["body", "volumes", 0, "name"])
        self.assertEqual(r.json()["detail"][0]["type"], "string_pattern_mismatch")
        r = self.create_with({"name": "a", "mountPath": "/a"})
        self.assertEqual(r.status, 422)
        self.assertEqual(r.json()["detail"][0]["msg"], "Value error, Exactly one backend (host, pvc, "
                         "ossfs) must be specified, but none was provided.")
        r = self.create_with({"name": "q", "pvc": {"claimName": "seeded"}, "mountPath": "/q",
                              "subPath": "no/such/dir"})
        self.assert_error(r, 500, "DOCKER::SANDBOX_START_FAILED",
                          "Failed to create or start container: invalid mount config for type \"bind\": "
                          "bind source path does not exist: %s/seeded/no/such/dir" % self.voldir)
        r = self.create_with({"name": "o", "ossfs": {"bucket": "bkt", "endpoint": "e",
                                                     "accessKeyId": "k", "accessKeySecret": "s"},
                              "mountPath": "/o"})
        self.assert_error(r, 500, "VOLUME::OSSFS_MOUNT_FAILED", "Volume 'o': failed to execute ossfs "
                          "command: [Errno 2] No such file or directory: 'ossfs'")

    def test_host_volume_is_mounted_read_write_and_read_only(self):
        r = self.create_with({"name": "rw", "host": {"path": self.allowed}, "mountPath": "/mnt/rw"},
                             {"name": "ro", "host": {"path": self.allowed}, "mountPath": "/mnt/ro",
                              "subPath": "data", "readOnly": True})
        self.assertEqual(r.status, 202, r.text)
        ep = self.execd(r.json()["id"])
        self.assertEqual(self.sh("cat /mnt/rw/data/h.txt /mnt/ro/h.txt", ep=ep),
                         "from the host\nfrom the host")
        self.assertEqual(self.x("GET", "/files/download?path=/mnt/ro/h.txt", ep=ep).body,
                         b"from the host\n")
        # writes through the read-write mount reach the host directory
        self.sh("echo written > /mnt/rw/new.txt", ep=ep)
        with open(os.path.join(self.allowed, "new.txt")) as f:
            self.assertEqual(f.read(), "written\n")
        self.upload("/mnt/rw/up.txt", "uploaded", ep=ep)
        with open(os.path.join(self.allowed, "up.txt")) as f:
            self.assertEqual(f.read(), "uploaded")
        r = self.x("POST", "/command", {"command": "echo no > /mnt/ro/x"}, ep=ep)
        evs = no_pings(events(r.body))
        self.assertIn("Read-only file system", " ".join(e.get("text", "") for e in evs))
        self.assertEqual(evs[-1]["error"]["evalue"], "1")
        self.assertFalse(os.path.exists(os.path.join(self.allowed, "data", "x")))

    def test_named_volume_is_mounted_with_sub_path_and_read_only(self):
        r = self.create_with({"name": "all", "pvc": {"claimName": "seeded"}, "mountPath": "/data"},
                             {"name": "train", "pvc": {"claimName": "seeded"}, "mountPath": "/train",
                              "subPath": "datasets/train", "readOnly": True})
        self.assertEqual(r.status, 202, r.text)
        ep = self.execd(r.json()["id"])
        self.assertEqual(self.sh("cat /data/marker.txt /train/marker.txt", ep=ep),
                         "pvc-marker-data\npvc-subpath-marker")
        self.sh("echo shared > /data/from-a.txt", ep=ep)
        # another sandbox mounting the same named volume sees the write
        r = self.create_with({"name": "v", "pvc": {"claimName": "seeded"}, "mountPath": "/v"})
        self.assertEqual(self.sh("cat /v/from-a.txt", ep=self.execd(r.json()["id"])), "shared")
        r = self.x("POST", "/command", {"command": "touch /train/x"}, ep=ep)
        self.assertIn("Read-only file system", r.text)

    def test_named_volume_created_on_demand_and_removed_with_its_sandbox(self):
        r = self.create_with({"name": "t", "pvc": {"claimName": "scratch", "deleteOnSandboxTermination":
                                                   True}, "mountPath": "/scratch"},
                             {"name": "k", "pvc": {"claimName": "kept"}, "mountPath": "/kept"})
        self.assertEqual(r.status, 202, r.text)
        sid = r.json()["id"]
        self.assertTrue(os.path.isdir(os.path.join(self.voldir, "scratch")))
        self.sh("echo x > /scratch/f && echo y > /kept/f", ep=self.execd(sid))
        self.assertEqual(self.api("DELETE", "/v1/sandboxes/" + sid).status, 204)
        self.assertFalse(os.path.exists(os.path.join(self.voldir, "scratch")))
        with open(os.path.join(self.voldir, "kept", "f")) as f:
            self.assertEqual(f.read(), "y\n")
        r = self.api("GET", "/devserver/volumes")
        self.assertIn({"name": "kept", "mountpoint": os.path.join(self.voldir, "kept")}, r.json())

    def test_admin_route_creates_and_seeds_a_named_volume(self):
        r = self.api("PUT", "/devserver/volumes/made-here", {"files": {"a/b.txt": "seeded by route"}})
        self.assertEqual((r.status, r.json()), (201, {"name": "made-here", "mountpoint":
                                                      os.path.join(self.voldir, "made-here")}))
        self.assertEqual(self.api("PUT", "/devserver/volumes/made-here", {}).status, 200)
        r = self.create_with({"name": "m", "pvc": {"claimName": "made-here", "createIfNotExists": False},
                              "mountPath": "/m"})
        self.assertEqual(r.status, 202, r.text)
        self.assertEqual(self.sh("cat /m/a/b.txt", ep=self.execd(r.json()["id"])), "seeded by route")
        r = self.api("PUT", "/devserver/volumes/Bad_Name", {})
        self.assert_error(r, 400, "VOLUME::INVALID_PVC_NAME",
                          "PVC claim name 'Bad_Name' is not a valid Kubernetes resource name.")


class WithoutNamespaces(td.Base):
    def test_without_namespaces_each_sandbox_gets_its_own_root_directory_and_the_server_says_so(self):
        srv = DevServer("--api-key", KEY, "--command-grace", "0", "--isolation", "directories")
        self.server = srv
        self.addCleanup(srv.stop)
        with open(os.path.join(srv.dir, "stderr.log")) as f:
            lines = f.read().splitlines()
        self.assertEqual(len(lines), 1)
        self.assertTrue(lines[0].startswith("devserver: sandboxes are not isolated (--isolation "
                                            "directories): "), lines)
        a, b = self.execd(self.create()), self.execd(self.create())
        p = "/tmp/" + unique("mapped")
        self.upload(p, "in a", ep=a)
        self.assertEqual(self.x("GET", "/files/download?path=" + p, ep=a).body, b"in a")
        self.assertEqual(self.x("GET", "/files/info?path=" + p, ep=b).status, 404)
        self.assertFalse(os.path.lexists(p))
        # commands start in the sandbox's root directory, with its tmp as TMPDIR
        root = self.sh("pwd", ep=a)
        self.assertNotEqual(root, "/")
        self.assertEqual(self.sh("cat ." + p, ep=a), "in a")
        self.assertEqual(self.sh("echo $TMPDIR", ep=a), root + "/tmp")


class ExecdEnvironment(td.Base):
    """Settings execd reads from its own environment, i.e. from the sandbox's env."""

    def stream_after_complete(self, ep, read_timeout):
        """POST /command `true`: what follows the terminal event within read_timeout (EOF: b"")."""
        host, port, path = td.split_target(ep + "/command")
        s = socket.create_connection((host, port), timeout=10)
        self.addCleanup(s.close)
        body = json.dumps({"command": "true"}).encode()
        s.sendall(("POST %s HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                   "Content-Length: %d\r\n\r\n" % (path, len(body))).encode() + body)
        buf = b""
        while b"execution_complete" not in buf:
            chunk = s.recv(65536)
            self.assertTrue(chunk, buf)
            buf += chunk
        buf = buf[buf.index(b"execution_complete"):]
        s.settimeout(read_timeout)
        try:
            while not buf.endswith(b"0\r\n\r\n"):
                chunk = s.recv(65536)
                if not chunk:
                    break
                buf += chunk
            return "ended"
        except socket.timeout:
            return "open"

    def test_execd_api_grace_shutdown_in_the_sandbox_env_sets_the_stream_grace(self):
        srv = DevServer("--api-key", KEY, "--command-grace", "60s")
        self.server = srv
        self.addCleanup(srv.stop)
        self.addCleanup(setattr, self, "server", None)
        ep = self.execd(self.create(env={"EXECD_API_GRACE_SHUTDOWN": "0s"}))
        self.assertEqual(self.stream_after_complete(ep, 10), "ended")
        ep = self.execd(self.create())  # the image's default (here the server's 60s) applies
        self.assertEqual(self.stream_after_complete(ep, 0.5), "open")

    def test_unparsable_execd_api_grace_shutdown_leaves_no_execd_listening(self):
        sid = self.create(env={"EXECD_API_GRACE_SHUTDOWN": "1"})  # Go wants a unit: execd panics
        host, port, _ = td.split_target(self.execd(sid))
        with self.assertRaises(ConnectionRefusedError):
            socket.create_connection((host, port), timeout=5).close()
        self.assertEqual(self.api("GET", "/v1/sandboxes/" + sid).json()["status"]["state"], "Running")

    def test_execd_access_token_in_the_sandbox_env_is_required_by_that_execd(self):
        ep = self.execd(self.create(env={"EXECD_ACCESS_TOKEN": "per-sandbox"}))
        r = self.x("GET", "/ping", ep=ep)
        self.assertEqual((r.status, r.json()), (401, {"error": "Unauthorized: invalid or missing "
                                                      "header X-EXECD-ACCESS-TOKEN"}))
        r = self.x("GET", "/ping", headers={"X-EXECD-ACCESS-TOKEN": "per-sandbox"}, ep=ep)
        self.assertEqual(r.status, 200)
        self.assertEqual(self.x("GET", "/ping", ep=self.execd(self.create())).status, 200)

    def test_execd_envs_file_adds_to_every_command_environment(self):
        ep = self.execd(self.create(env={"GREETING": "hello"}))
        r = self.x("POST", "/command", {"command": "echo $EXECD_ENVS"}, ep=ep)
        self.assertIn("/opt/opensandbox/.env", [e.get("text") for e in events(r.body)])
        self.assertEqual(self.x("GET", "/files/download?path=/opt/opensandbox/.env", ep=ep).body, b"")
        self.upload("/opt/opensandbox/.env", "# extra\nFROM_FILE=${GREETING}-file\nBOTH=file\nbad line\n",
                    ep=ep)
        r = self.x("POST", "/command", {"command": "echo $FROM_FILE $BOTH", "envs": {"BOTH": "request"}},
                   ep=ep)
        self.assertIn("hello-file request", [e.get("text") for e in events(r.body)])
        self.assertEqual(background_logs(self, "echo $FROM_FILE", ep), b"hello-file\n")
        # a sandbox that names its own file
        ep = self.execd(self.create(env={"EXECD_ENVS": "/etc/my-envs"}))
        self.upload("/etc/my-envs", "MINE=1\n", ep=ep)
        r = self.x("POST", "/command", {"command": "echo mine=$MINE"}, ep=ep)
        self.assertIn("mine=1", [e.get("text") for e in events(r.body)])


class AsAnotherUser(td.Base):
    def test_without_root_user_namespaces_isolate_sandboxes_too(self):
        python = "/usr/bin/python3"
        if os.geteuid() != 0 or not os.path.exists(python) or not shutil.which("setpriv"):
            self.skipTest("needs root (to become nobody), setpriv and %s" % python)
        probe = subprocess.run(["setpriv", "--reuid", "65534", "--regid", "65534", "--clear-groups",
                                "unshare", "--user", "--map-root-user", "--mount", "true"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        if probe.returncode != 0:
            self.skipTest("user namespaces are not allowed here")
        d = tempfile.mkdtemp(prefix="osb-nobody-")
        self.addCleanup(shutil.rmtree, d, True)
        os.chmod(d, 0o777)
        ready = os.path.join(d, "ready")
        proc = subprocess.Popen(["setpriv", "--reuid", "65534", "--regid", "65534", "--clear-groups",
                                 "env", "HOME=" + d, python, td.DEVSERVER, "--api-key", KEY,
                                 "--isolation", "namespaces", "--ready-file", ready,
                                 "--state-dir", os.path.join(d, "state")],
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)

        def stop():
            proc.terminate()
            proc.wait(15)
            proc.stderr.close()
        self.addCleanup(stop)
        deadline = time.time() + 30
        while not os.path.exists(ready):
            self.assertIsNone(proc.poll(), proc.stderr.read() if proc.poll() is not None else "")
            self.assertLess(time.time(), deadline)
            time.sleep(0.05)
        with open(ready) as f:
            domain = json.load(f)["domain"]
        self.server = type("S", (), {"domain": domain})()
        a, b = self.execd(self.create()), self.execd(self.create())
        self.assertEqual(self.sh("id -u", ep=a), "0")  # root inside, nobody outside
        self.assertRegex(self.sh("hostname", ep=a), r"^[0-9a-f]{12}$")
        self.upload("/tmp/only-a", "a", ep=a)
        self.assertEqual(self.sh("cat /tmp/only-a", ep=a), "a")
        self.assertFalse(self.exists("/tmp/only-a", ep=b))
        self.assertFalse(os.path.exists("/tmp/only-a"))
        self.assertLess(int(self.sh("ls /proc | grep -cE '^[0-9]+$'", ep=a)), 20)


DNS_QUERY = """
import socket, struct, sys
def rcode(name):
    q = struct.pack("!HHHHHH", 0x4242, 0x0100, 1, 0, 0, 0)
    q += b"".join(bytes([len(p)]) + p.encode() for p in name.split(".")) + b"\\0"
    q += struct.pack("!HH", 1, 1)
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(30)
    s.sendto(q, ("127.0.0.1", 53))
    d = s.recv(65535)
    assert d[:2] == q[:2] and d[2] & 0x80
    return d[3] & 15
print(" ".join("%s=%d" % (n, rcode(n)) for n in sys.argv[1:]))
"""


class EgressNetwork(td.Base):
    """A sandbox created with a networkPolicy has its own network namespace, whose DNS goes
    through the dev egress as through the real sidecar."""

    def rcodes(self, ep, *names):
        out = self.sh("python3 /tmp/dnsq.py " + " ".join(names), ep=ep)
        return dict(kv.split("=") for kv in out.split())

    def upstream(self):
        """A resolver of the test's own on loopback: every name is 192.0.2.7 (NOERROR)."""
        u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        u.bind(("127.0.0.1", 0))
        self.addCleanup(u.close)
        self.asked = []

        def serve():
            while True:
                try:
                    q, peer = u.recvfrom(65535)
                except OSError:
                    return
                end = q.index(b"\0", 12) + 5
                self.asked.append(q[12:end - 4])
                u.sendto(q[:2] + b"\x81\x80\x00\x01\x00\x01\x00\x00\x00\x00" + q[12:end] +
                         b"\xc0\x0c\x00\x01\x00\x01\x00\x00\x00\x3c\x00\x04\xc0\x00\x02\x07", peer)

        threading.Thread(target=serve, daemon=True).start()
        return "127.0.0.1:%d" % u.getsockname()[1]

    def test_denied_names_answer_nxdomain_as_the_sidecar_does(self):
        srv = DevServer("--api-key", KEY, "--command-grace", "0", "--dns-upstream", self.upstream())
        self.server = srv
        self.addCleanup(srv.stop)
        self.addCleanup(setattr, self, "server", None)
        sid = self.create(networkPolicy={"defaultAction": "deny", "egress": [
            {"action": "deny", "target": "blocked.allowed.test"},
            {"action": "allow", "target": "*.allowed.test"},
            {"action": "allow", "target": "10.0.0.0/8"}]})
        ep = self.execd(sid)
        self.upload("/tmp/dnsq.py", DNS_QUERY, ep=ep)
        self.assertEqual(self.sh("cat /etc/resolv.conf", ep=ep), "nameserver 127.0.0.1")
        # NXDOMAIN (3) where the first matching rule, else the default action, denies; the
        # allowed name is forwarded to the resolver (NOERROR, 0)
        self.assertEqual(self.rcodes(ep, "blocked.allowed.test", "other.example", "allowed.test",
                                     "a.allowed.test", "B.Allowed.Test."),
                         {"blocked.allowed.test": "3", "other.example": "3", "allowed.test": "3",
                          "a.allowed.test": "0", "B.Allowed.Test.": "0"})
        self.assertEqual(self.asked, [b"\x01a\x07allowed\x04test\x00", b"\x01B\x07Allowed\x04Test\x00"])
        r = self.sh("python3 -c \"import socket\ntry: socket.getaddrinfo('other.example', 80)\n"
                    "except socket.gaierror as e: print(e.errno == socket.EAI_NONAME)\"", ep=ep)
        self.assertEqual(r, "True")
        self.assertEqual(self.sh("getent hosts x.allowed.test", ep=ep).split(), ["192.0.2.7", "x.allowed.test"])
        # the policy changes at run time, so do the answers
        eg = self.endpoint(sid, 18080)
        r = request("PATCH", eg["endpoint"] + "/policy", [{"action": "allow", "target": "other.example"}],
                    dict(eg.get("headers", {}), **{"Content-Type": "application/json"}))
        self.assertEqual(r.status, 200, r.text)
        self.assertEqual(self.rcodes(ep, "other.example"), {"other.example": "0"})

    def test_a_sandbox_with_a_network_policy_has_its_own_network(self):
        ep = self.execd(self.create(networkPolicy={"defaultAction": "allow"}))
        self.assertEqual(self.sh("ls /sys/class/net", ep=ep), "lo")
        port = 20000 + int(uuid.uuid4().hex[:4], 16) % 20000
        self.x("POST", "/command", {"command": "cd /tmp && echo inside > page.txt && exec python3 -m "
                                               "http.server %d --bind 127.0.0.1" % port,
                                    "background": True}, ep=ep)
        deadline = time.time() + 10
        while True:  # reached through execd's proxy, which runs where the service does
            r = self.x("GET", "/proxy/%d/page.txt" % port, ep=ep)
            if r.status == 200 or time.time() > deadline:
                break
            time.sleep(0.1)
        self.assertEqual((r.status, r.body), (200, b"inside\n"))
        with self.assertRaises(ConnectionRefusedError):  # not on the host's loopback
            socket.create_connection(("127.0.0.1", port), timeout=5).close()

    def test_port_8080_of_a_sandbox_with_its_own_network_is_published_on_a_host_port(self):
        sid = self.create(networkPolicy={"defaultAction": "deny"})
        ep = self.execd(sid)
        self.x("POST", "/command", {"command": "cd /tmp && echo app > app.txt && exec python3 -m "
                                               "http.server 8080 --bind 127.0.0.1", "background": True},
               ep=ep)
        app = self.endpoint(sid, 8080)["endpoint"]
        host, _, port = app.rpartition(":")
        self.assertEqual(host, "127.0.0.1")
        self.assertNotEqual(port, "8080")  # as Docker maps it: a host port of its own
        deadline = time.time() + 10
        while True:
            try:
                r = request("GET", app + "/app.txt")
                if r.status == 200:
                    break
            except OSError:
                pass
            self.assertLess(time.time(), deadline)
            time.sleep(0.1)
        self.assertEqual(r.body, b"app\n")
        r = self.api("GET", "/sandboxes/%s/proxy/8080/app.txt" % sid)
        self.assertEqual((r.status, r.body), (200, b"app\n"))


class CredentialProxy(td.Base):
    def echo_target(self):
        """An HTTP server on port 80 of a loopback address of its own: answers with the headers
        it got, and echoes Authorization back in a response header."""
        import http.server
        seen = []

        class H(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                seen.append(dict(self.headers.items()))
                body = json.dumps({"path": self.path, "headers": dict(self.headers.items())}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("X-Echo-Auth", self.headers.get("Authorization", "-"))
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *a):
                pass

        addr = "127.%d.%d.%d" % tuple(2 + int(uuid.uuid4().hex[i:i + 2], 16) % 250 for i in (0, 2, 4))
        srv = http.server.HTTPServer((addr, 80), H)
        threading.Thread(target=srv.serve_forever, daemon=True).start()
        self.addCleanup(srv.server_close)
        self.addCleanup(srv.shutdown)
        return addr, seen

    def curl(self, ep, addr, path):
        out = self.sh("curl --silent --show-error --max-time 20 -D /tmp/h --resolve vault.target.test:80:%s "
                      "http://vault.target.test%s; echo; cat /tmp/h" % (addr, path), ep=ep)
        body, _, head = out.partition("\n")
        return json.loads(body), head

    def test_credential_vault_headers_are_injected_into_plain_http_to_bound_hosts(self):
        if os.geteuid() != 0 or not shutil.which("nft") or not shutil.which("curl"):
            self.skipTest("needs root, nft and curl")
        addr, seen = self.echo_target()
        sid = self.create(networkPolicy={"defaultAction": "allow", "egress": [
            {"action": "allow", "target": "vault.target.test"}, {"action": "allow", "target": "*.target.test"}]},
            credentialProxy={"enabled": True})
        ep = self.execd(sid)
        eg = self.endpoint(sid, 18080)
        h = dict(eg.get("headers", {}), **{"Content-Type": "application/json"})
        binding = {"name": "b", "match": {"schemes": ["http"], "ports": [80], "hosts": ["vault.target.test"],
                                          "methods": ["GET"], "paths": ["/secure/*"]},
                   "auth": {"type": "bearer", "credential": "tok"}}
        r = request("POST", eg["endpoint"] + "/credential-vault", {
            "credentials": [{"name": "tok", "source": {"type": "inline", "value": "s3cret-value"}},
                            {"name": "key", "source": {"type": "inline", "value": "k3y"}}],
            "bindings": [binding, {"name": "k", "match": {"schemes": ["http"], "ports": [80],
                                                          "hosts": ["*.target.test"], "paths": ["/api"]},
                                   "auth": {"type": "apiKey", "name": "X-Api-Key", "credential": "key"}}]}, h)
        self.assertEqual(r.status, 201, r.text)
        got, head = self.curl(ep, addr, "/secure/x?q=1")
        self.assertEqual(got["headers"].get("Authorization"), "Bearer s3cret-value")
        self.assertIn("X-Echo-Auth: [REDACTED]", head)  # credentials never come back in headers
        got, _ = self.curl(ep, addr, "/elsewhere")  # no binding matches: untouched
        self.assertNotIn("Authorization", got["headers"])
        got, _ = self.curl(ep, addr, "/api")  # the wildcard binding (lower precedence) applies
        self.assertEqual(got["headers"].get("X-Api-Key"), "k3y")
        self.assertEqual(len(seen), 3)
        # a binding removed at run time is no longer injected
        r = request("PATCH", eg["endpoint"] + "/credential-vault",
                    {"expectedRevision": 1, "bindings": {"delete": ["b"]}}, h)
        self.assertEqual(r.status, 200, r.text)
        got, _ = self.curl(ep, addr, "/secure/x")
        self.assertNotIn("Authorization", got["headers"])


if __name__ == "__main__":
    td.watchdog()
    unittest.main()
