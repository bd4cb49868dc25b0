#!/usr/bin/env python3
"""Runs every benchmark against a local nginx (and the dev server for W5) and
writes bench/RESULTS.md.

  python3 bench/run.py            (what `make bench` runs, after building)
  python3 bench/run.py --report   write RESULTS.md again from build/bench/last-run.json

Environment: BENCH_RUNS (default 5), BENCH_OUT (default bench/RESULTS.md),
BENCH_ONLY (comma-separated workload names, for a partial run).

The server (nginx, core 0) and the clients (core 1) are pinned with taskset.
nginx gets its own prefix and config in a temporary directory, listens on
127.0.0.1 only, is stopped by its pid at the end and runs under `timeout`, so
it stops by itself even if this script dies. Every client runs under
/usr/bin/time -v for its peak RSS. Nothing here asserts a timing: the goals
table reports met / missed.
"""
import json, os, platform, re, shutil, signal, socket, statistics, subprocess, sys, tempfile, time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
B = os.path.join(ROOT, "build", "bench")
DATA = os.path.join(B, "data")
RUNS = int(os.environ.get("BENCH_RUNS", "5"))
OUT = os.environ.get("BENCH_OUT", os.path.join(ROOT, "bench", "RESULTS.md"))
ONLY = set(filter(None, os.environ.get("BENCH_ONLY", "").split(",")))
JS_SDK = os.path.join(ROOT, "build", "bench-npm", "node_modules", "@alibaba-group", "opensandbox")
SERVER_CPU, CLIENT_CPU = "0", "1"
T_START = time.monotonic()
notes = []


def log(msg):
    print("[bench %5.1fs] %s" % (time.monotonic() - T_START, msg), flush=True)


def want(name):
    return not ONLY or name in ONLY


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def wait_port(port, seconds=10):
    """True once 127.0.0.1:port accepts a connection (a server started)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return True
        except OSError:
            time.sleep(0.05)
    return False


def stop_process(proc):
    """Stops a server started under `timeout` (which forwards SIGTERM)."""
    if proc and proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


# ---- data ------------------------------------------------------------------

def ensure_data():
    stamp = os.path.join(DATA, "stamp")
    gen = os.path.join(ROOT, "bench", "gen.py")
    key = "%d" % os.stat(gen).st_mtime_ns
    if os.path.exists(stamp) and open(stamp).read() == key:
        return
    log("generating data in %s" % DATA)
    shutil.rmtree(DATA, ignore_errors=True)
    subprocess.run([sys.executable, gen, DATA], check=True)
    # big.bin: real bytes (a sparse file is not what a download serves)
    block = os.urandom(1 << 20)
    with open(os.path.join(DATA, "big.bin"), "wb") as f:
        for _ in range(1024):
            f.write(block)
    with open(os.path.join(DATA, "q256.bin"), "wb") as f:
        for _ in range(256):
            f.write(block)
    open(stamp, "w").write(key)


def warm_cache():
    for name in ("big.bin", "events-big.chunked", "events-mid.chunked", "q256.bin"):
        with open(os.path.join(DATA, name), "rb") as f:
            while f.read(8 << 20):
                pass


# ---- nginx -----------------------------------------------------------------

class Nginx:
    def __init__(self, tmp, tls, sink_port):
        self.tmp = tmp
        self.port = free_port()
        self.tls_port = free_port() if tls else None
        conf = open(os.path.join(ROOT, "bench", "nginx.conf.in")).read()
        tls_listen = ""
        if tls:
            tls_listen = ("listen 127.0.0.1:%d ssl;\n        ssl_certificate %s/cert.pem;\n"
                          "        ssl_certificate_key %s/key.pem;" % (self.tls_port, tmp, tmp))
        conf = (conf.replace("@PREFIX@", tmp).replace("@PORT@", str(self.port))
                .replace("@DATA@", DATA).replace("@TLS_LISTEN@", tls_listen)
                .replace("@SINK_PORT@", str(sink_port)))
        with open(os.path.join(tmp, "nginx.conf"), "w") as f:
            f.write(conf)
        # bounded lifetime: timeout ends nginx even if this script is killed
        self.proc = subprocess.Popen(
            ["taskset", "-c", SERVER_CPU, "timeout", "900", "nginx", "-p", tmp, "-c",
             os.path.join(tmp, "nginx.conf")], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        if wait_port(self.port):
            return
        self.stop()
        raise SystemExit("nginx did not start: " + open(os.path.join(tmp, "error.log")).read()[-2000:])

    def stop(self):
        stop_process(self.proc)
        self.proc = None


# ---- the upload sink (W4) --------------------------------------------------

class Sink:
    """bench/sink.c on core 0 beside nginx: takes execd's upload route and
    drops the body in the kernel (recv MSG_TRUNC), one log line per upload.
    Under `timeout` like nginx, stopped by its pid."""
    def __init__(self, tmp, port):
        self.port = port
        self.log = os.path.join(tmp, "sink.log")
        self.proc = None
        exe = os.path.join(B, "sink")
        if not port or not os.path.exists(exe):
            return
        self.proc = subprocess.Popen(["taskset", "-c", SERVER_CPU, "timeout", "900", exe, str(port), self.log],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        if not wait_port(port):
            self.stop()

    def lines(self):
        if not os.path.exists(self.log):
            return []
        return [l.strip().split(None, 2) for l in open(self.log) if l.strip()]

    def stop(self):
        stop_process(self.proc)
        self.proc = None


# ---- running one measurement -----------------------------------------------

def run_once(cmd, env=None, timeout=300):
    """Runs cmd on the client core under /usr/bin/time -v. Returns the key=value
    pairs it printed, plus rss_kib, time_cpu (of the whole process) and time_wall
    (start to exit, timed here)."""
    tf = os.path.join(TMP, "time.txt")
    full = ["/usr/bin/time", "-v", "-o", tf, "taskset", "-c", CLIENT_CPU] + cmd
    e = dict(os.environ)
    if env:
        e.update(env)
    # the wall time is taken here: /usr/bin/time prints it in 10 ms steps,
    # too coarse for the CLI rows (0.08 s for W2, under 0.01 s for W2-10k);
    # this adds the start of time and taskset (about a millisecond) to every
    # whole-process row alike
    t0 = time.perf_counter()
    p = subprocess.run(full, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=e, timeout=timeout)
    wall = time.perf_counter() - t0
    out = p.stdout.decode(errors="replace")
    if p.returncode != 0:
        raise RuntimeError("%s failed (%d): %s %s" % (" ".join(cmd), p.returncode, out[-500:],
                                                      p.stderr.decode(errors="replace")[-800:]))
    r = {}
    for m in re.finditer(r"(\w+)=([-\d.e+]+)", out):
        r[m.group(1)] = float(m.group(2))
    t = open(tf).read()
    r["rss_kib"] = float(re.search(r"Maximum resident set size \(kbytes\): (\d+)", t).group(1))
    user = float(re.search(r"User time \(seconds\): ([\d.]+)", t).group(1))
    sys_ = float(re.search(r"System time \(seconds\): ([\d.]+)", t).group(1))
    r["time_wall"] = wall
    r["time_cpu"] = user + sys_
    r["stdout"] = out
    return r


RESULTS = {}   # (workload, client) -> list of run dicts


def run_row(cmd, env, post):
    r = run_once(cmd, env)
    if "wall_s" not in r:          # whole-process figures (CLI tools)
        r["wall_s"] = r["time_wall"]
    if "cpu_s" not in r:
        r["cpu_s"] = r["time_cpu"]
    if post:
        post(r)
    return r


def measure(workload, client, cmd, env=None, runs=None, post=None):
    measure_in_turns(workload, [(client, cmd, post)], env, runs)


def measure_in_turns(workload, rows, env=None, runs=None):
    """rows: (client, cmd, post). Run k of every row is taken before run k+1
    of any, so a slow spell of the machine falls on all of them alike: the
    rows a ratio compares are measured in turns. A row that fails is
    reported and left out; the others go on."""
    got = {client: [] for client, _, _ in rows}
    live = list(rows)
    for _ in range(runs or RUNS):
        for row in list(live):
            client, cmd, post = row
            try:
                got[client].append(run_row(cmd, env, post))
            except Exception as ex:  # a peer failing is reported, not fatal
                notes.append("%s / %s failed: %s" % (workload, client, str(ex)[:300]))
                log("FAILED %s %s: %s" % (workload, client, str(ex)[:300]))
                live.remove(row)
                got[client] = None
    for client, _, _ in rows:
        rs = got[client]
        if rs:
            RESULTS[(workload, client)] = rs
            log("%-8s %-22s median wall %.4fs" % (workload, client, statistics.median(r["wall_s"] for r in rs)))


def measure_cold(client, cmd, env, runs):
    """Start-to-exit wall time of a whole process, timed here with
    perf_counter (/usr/bin/time has 10 ms resolution); peak RSS and CPU from
    wait4. The process is pinned to the client core."""
    e = dict(os.environ)
    if env:
        e.update(env)
    rs = []
    old = os.sched_getaffinity(0)
    try:
        # children inherit the runner's affinity; no preexec_fn keeps the
        # cheap vfork path of subprocess
        os.sched_setaffinity(0, {int(CLIENT_CPU)})
        for _ in range(runs):
            t0 = time.perf_counter()
            p = subprocess.Popen(cmd, env=e, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            _, status, ru = os.wait4(p.pid, 0)
            t1 = time.perf_counter()
            p.returncode = 0
            if status != 0:
                raise RuntimeError("exit status %d: %s" % (status, p.stderr.read().decode()[-300:]))
            p.stderr.close()
            rs.append({"wall_s": t1 - t0, "cpu_s": ru.ru_utime + ru.ru_stime, "units": 1})
    except Exception as ex:
        notes.append("cold / %s failed: %s" % (client, str(ex)[:300]))
        return
    finally:
        os.sched_setaffinity(0, old)
    RESULTS[("cold", client)] = rs
    log("%-8s %-22s median wall %.4fs" % ("cold", client, statistics.median(r["wall_s"] for r in rs)))


def stats(workload, client, f):
    rs = RESULTS.get((workload, client))
    if not rs:
        return None
    v = [f(r) for r in rs]
    return statistics.median(v), min(v), max(v)


# ---- the workloads ---------------------------------------------------------

def count_of(which):
    n, size = open(os.path.join(DATA, "events-%s.count" % which)).read().split()
    return int(n), int(size)


def build_go_bench():
    """bench/go_bench against the official Go SDK, when BENCH_GO_SDK names a
    checkout of it (github.com/alibaba/OpenSandbox/sdks/sandbox/go: standard
    library only, so nothing is downloaded). Returns the binary or None."""
    sdk = os.environ.get("BENCH_GO_SDK")
    if not sdk or not shutil.which("go"):
        notes.append("Go SDK: BENCH_GO_SDK (a checkout of sdks/sandbox/go) not given, skipped")
        return None
    d = os.path.join(B, "go_bench")
    shutil.rmtree(d, ignore_errors=True)
    shutil.copytree(os.path.join(ROOT, "bench", "go_bench"), d)
    env = dict(os.environ, GOPROXY="off", GOFLAGS="-mod=mod", GOCACHE=os.path.join(B, "go-cache"))
    try:
        subprocess.run(["go", "mod", "edit", "-replace",
                        "github.com/alibaba/OpenSandbox/sdks/sandbox/go=" + os.path.abspath(sdk)],
                       cwd=d, env=env, check=True, capture_output=True, timeout=60)
        subprocess.run(["go", "build", "-o", "go_bench", "."], cwd=d, env=env, check=True, capture_output=True,
                       timeout=600)
    except (subprocess.SubprocessError, OSError) as ex:
        notes.append("Go SDK: bench/go_bench did not build: %s" % str(ex)[:200])
        return None
    return os.path.join(d, "go_bench")


def run_all(ng, sink):
    U = "http://127.0.0.1:%d" % ng.port
    osb = os.path.join(B, "osb_bench")
    cb = os.path.join(B, "curl_bench")
    tok = os.path.join(B, "tok_bench")
    py = [sys.executable, os.path.join(ROOT, "bench", "py_bench.py")]
    have_js = os.path.exists(os.path.join(JS_SDK, "dist", "index.js")) and shutil.which("node")
    js = ["node", os.path.join(ROOT, "bench", "js_bench.mjs")]
    jsenv = {"BENCH_JS_SDK": JS_SDK}
    if not have_js:
        notes.append("JS SDK: not installed (npm @alibaba-group/opensandbox), skipped")

    if want("W1"):
        n = 2000
        measure("W1", "osb", [osb, U, "w1", str(n)])
        measure("W1", "libcurl+cJSON", [cb, U, "w1", str(n)])
        measure("W1", "python http.client", py + [U, "w1", str(n)])
        if have_js:   # ~1k req/s: 300 requests keep five runs short
            measure("W1", "JS SDK (300 GETs)", js + [U, "w1", "300"], env=jsenv)
        cfg = os.path.join(TMP, "curl-w1.cfg")
        with open(cfg, "w") as f:
            for _ in range(n):
                f.write('url = "%s/v1/sandboxes/6f1c2d3e-4a5b-4c6d-8e9f-000000000001"\n'
                        'output = "/dev/null"\n' % U)
        measure("W1", "curl CLI", ["curl", "-s", "-K", cfg], post=lambda r: r.update(units=n))

        def ab_post(r):
            m = re.search(r"Time taken for tests:\s+([\d.]+)", r["stdout"])
            r["wall_s"] = float(m.group(1))
            r["units"] = n
            if "Failed requests:        0" not in r["stdout"]:
                raise RuntimeError("ab: failed requests")
        measure("W1", "ab -k", ["ab", "-q", "-k", "-n", str(n), "-c", "1",
                                U + "/v1/sandboxes/6f1c2d3e-4a5b-4c6d-8e9f-000000000001"], post=ab_post)

    for which in ("big", "small"):
        wl = "W2" if which == "big" else "W2-10k"
        if not want("W2"):
            break
        nev, size = count_of(which)

        def fix(r, size=size, nev=nev):
            r["bytes"] = size
            r["units"] = r.get("units") or nev
        measure(wl, "osb", [osb, U, "w2", which], post=fix)
        measure(wl, "osb (tokenizers)", [osb, U, "w2tok", which], post=fix)
        measure(wl, "libcurl+cJSON", [cb, U, "w2", which, "cjson"], post=fix)
        measure(wl, "libcurl+jsmn", [cb, U, "w2", which, "jsmn"], post=fix)
        slow = "mid" if which == "big" else which   # the slow peers get the 40 MB stream
        nev2, size2 = count_of(slow)

        def fix2(r, size=size2, nev=nev2):
            r["bytes"] = size
            r["units"] = r.get("units") or nev
        sfx = " (40 MB)" if slow == "mid" else ""
        measure(wl, "python http.client" + sfx, py + [U, "w2", slow], post=fix2)
        if have_js:
            measure(wl, "JS SDK" + sfx, js + [U, "w2", slow], env=jsenv, post=fix2)
        rows = [("curl CLI (no parsing)", ["curl", "-s", "-o", "/dev/null", "-X", "POST",
                                           "-d", '{"command":"x"}', U + "/x/%s/command" % which], fix),
                # the same, its output through the pipe the CLI rows print to
                # (for reference: the goal is judged against the row above)
                ("curl CLI (no parsing), to a pipe", ["sh", "-c", '"$@" | cat >/dev/null', "sh", "curl", "-s",
                                                     "-X", "POST", "-d", '{"command":"x"}',
                                                     U + "/x/%s/command" % which], fix)]
        # the command-line tool: the stream printed to a pipe (read by cat),
        # in turns with curl's rows (the goal is a ratio between them)
        cli = os.path.join(ROOT, "build", "osb")
        if os.path.exists(cli):
            base = ["sh", "-c", '"$@" | cat >/dev/null', "sh", cli, "--domain", "127.0.0.1:%d" % ng.port,
                    "--api-key", "bench"]
            rows += [("osb CLI command run, to a pipe", base + ["command", "run", which, "--", "x"], fix),
                     ("osb CLI session run, to a pipe",
                      base + ["command", "session", "run", which, "s1", "--", "x"], fix),
                     ("osb CLI code run, to a pipe", base + ["code", "run", which, "-c", "x"], fix),
                     # for reference: the same output straight to /dev/null (no pipe, no cat)
                     ("osb CLI command run, to /dev/null",
                      ["sh", "-c", '"$@" >/dev/null'] + base[3:] + ["command", "run", which, "--", "x"], fix)]
        measure_in_turns(wl, rows)
        if which == "big":
            measure(wl, "framing alone, in memory (reference)",
                    [tok, "sse", os.path.join(DATA, "events-big.txt"), "frame"], post=fix)

    if want("M1"):
        # 256 command streams at once: one thread on a multi handle against
        # 256 blocking calls on 256 threads (and the JS SDK's Promise.all)
        nev, size = count_of("small")

        def m1fix(r, size=size):
            r["bytes"] = size * r.get("streams", 256)
        measure("M1", "osb multi, 1 thread", [osb, U, "m1", "256", "small"], post=m1fix)
        measure("M1", "osb blocking, 256 threads", [osb, U, "m1threads", "256", "small"], post=m1fix)
        if have_js:
            measure("M1", "JS SDK (Promise.all)", js + [U, "m1", "256"], env=jsenv, post=m1fix)
        gob = build_go_bench()
        if gob:
            measure("M1", "Go SDK (goroutines)", [gob, U, "m1", "256"], post=m1fix)

    if want("W3"):
        url = U + "/x/s/files/download?path=%2Fdata%2Fbig.bin"

        def gib(r):
            r["bytes"] = r["units"] = 1 << 30
        measure("W3", "osb", [osb, U, "w3"])
        measure("W3", "libcurl", [cb, U, "w3"])
        measure("W3", "curl CLI", ["curl", "-s", "-o", "/dev/null", url], post=gib)
        # the slow peers download 256 MiB (the rate is what is compared)
        measure("W3", "python http.client (256 MiB)", py + [U, "w3", "quarter"])
        if have_js:
            measure("W3", "JS SDK (256 MiB)", js + [U, "w3", "quarter"], env=jsenv)
        measure("W3", "memcpy 1 GiB (reference)", [tok, "memcpy", "1024"], post=gib)
        # issue 2's transport figure: 1 GiB chunked through the sink vs curl
        measure("T2", "osb (sink)", [osb, U, "chunked"])
        measure("T2", "curl CLI", ["curl", "-s", "-o", "/dev/null", U + "/chunked"], post=gib)
        # the same client built with a 128 KiB receive buffer (a configuration
        # macro): what the default of 16 KiB costs
        io128 = os.path.join(B, "osb_bench_io128")
        if os.path.exists(io128):
            measure("W3", "osb, OSB_IO_BUFFER=128K (variant)", [io128, U, "w3"])
            measure("T2", "osb, OSB_IO_BUFFER=128K (variant)", [io128, U, "chunked"])

    if want("W4"):
        run_w4(sink, U, osb, cb, py, js if have_js else None, jsenv)

    if want("T1"):
        lst = os.path.join(DATA, "list10m.json")
        for impl in ("osb", "jsmn", "cjson", "osb-bind"):
            measure("T1-json", impl, [tok, "json", lst, impl])
        ev = os.path.join(DATA, "events-mid.txt")   # 40 MB of the same events
        for impl in ("frame", "tokens", "typed"):
            measure("T1-sse", impl, [tok, "sse", ev, impl])
        measure("T1-chunked", "osb_chunked_feed", [tok, "chunked", os.path.join(DATA, "events-big.chunked")])

    if want("cold"):
        get = U + "/v1/sandboxes/6f1c2d3e-4a5b-4c6d-8e9f-000000000001"
        n = max(RUNS, 11)
        measure_cold("spawn /bin/true (reference)", ["/bin/true"], None, n)
        measure_cold("osb", [osb, U, "cold"], None, n)
        measure_cold("curl CLI", ["curl", "-s", "-o", "/dev/null", get], None, n)
        measure_cold("python http.client",
                     [sys.executable, "-c", "import http.client,json;c=http.client.HTTPConnection('127.0.0.1',%d);"
                      "c.request('GET','/v1/sandboxes/x');json.loads(c.getresponse().read())" % ng.port], None, RUNS)
        if have_js:
            measure_cold("node + JS SDK", js + [U, "cold"], jsenv, RUNS)

    if want("idle"):
        measure("idle", "osb plain", [osb, U, "idle", "200"], runs=1)
        if ng.tls_port and os.path.exists(os.path.join(B, "osb_bench_tls")):
            measure("idle", "osb TLS", [os.path.join(B, "osb_bench_tls"),
                                        "https://127.0.0.1:%d" % ng.tls_port, "idle", "200"],
                    env={"BENCH_CA": os.path.join(TMP, "cert.pem")}, runs=1)

    if want("W5"):
        run_w5(osb, js if have_js else None, jsenv)


def run_w4(sink, U, osb, cb, py, js, jsenv):
    """W4 goes to the sink (bench/sink.c), not to nginx: nginx on its one core
    reads every body into memory and takes in ~1 GB/s, so behind it every
    client measured the same. The sink drops the body in the kernel, so the
    figure is the client's. Every client sends the same 256 MiB file part in
    the same multipart shape (a metadata part, then the file) to the same
    sink; the JS SDK resolves its execd endpoint through nginx (sandbox
    "sink", whose endpoint is the sink)."""
    if not sink.proc:
        notes.append("W4: the upload sink (build/bench/sink) did not start; W4 skipped")
        return
    S = "http://127.0.0.1:%d" % sink.port
    mib = 256
    runs0 = len(sink.lines())

    def up(r):
        r["bytes"] = r["units"] = mib << 20
    measure("W4", "osb", [osb, S, "w4", str(mib)])
    measure("W4", "python http.client", py + [S, "w4", str(mib)])
    measure("W4", "libcurl", [cb, S, "w4", str(mib)])
    # the same body from a 256 MiB file: osb from its descriptor (sendfile),
    # python http.client reading it in 256 KiB blocks, libcurl's file part
    q = os.path.join(DATA, "q256.bin")
    measure("W4", "osb (from a file)", [osb, S, "w4", str(mib), q])
    measure("W4", "python http.client (from a file)", py + [S, "w4", str(mib), q])
    measure("W4", "libcurl (from a file)", [cb, S, "w4", str(mib), q])
    if js:
        measure("W4", "JS SDK", js + [U, "w4", str(mib), "sink"], env=jsenv)
    measure("W4", "curl CLI", ["curl", "-s", "-o", "/dev/null", "-F",
                               'metadata={"path":"/tmp/upload.bin","mode":644};type=application/json;filename=metadata',
                               "-F", "file=@%s;type=application/octet-stream;filename=upload.bin" % q,
                               S + "/x/s/files/upload"], post=up)
    # every run of every client must have its line: the whole body arrived
    # and its file part was exactly 256 MiB
    want_n = sum(len(rs) for (w, c), rs in RESULTS.items() if w == "W4")
    got = sink.lines()[runs0:]
    bad = [l for l in got if len(l) < 3 or l[2] != "ok" or int(l[1]) != (mib << 20)]
    if bad or len(got) != want_n:
        notes.append("W4: the sink did not get every upload whole: %d of %d uploads logged, %d short or "
                     "malformed: %s" % (len(got), want_n, len(bad), [" ".join(l) for l in bad[:3]]))
    else:
        notes.append("W4: the sink read every upload whole (%d requests, each a multipart body whose file "
                     "part was exactly %d bytes, from its own log)" % (len(got), mib << 20))


def run_w5(osb, js, jsenv):
    if subprocess.run([osb, "x", "w5", "0"], stdout=subprocess.DEVNULL).returncode == 3:
        notes.append("W5: TODO -- this build of the header has no sandbox layer "
                     "(osb_sandbox_open); the row awaits it")
        return
    dev = os.path.join(ROOT, "tools", "devserver", "devserver.py")
    ready = os.path.join(TMP, "devserver.ready")
    proc = subprocess.Popen(["taskset", "-c", SERVER_CPU, "timeout", "300", sys.executable, dev,
                             "--ready-file", ready], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 20
        while not (os.path.exists(ready) and os.path.getsize(ready)) and time.monotonic() < deadline:
            time.sleep(0.05)
        info = json.load(open(ready))
        env = {"OPEN_SANDBOX_API_KEY": info.get("api_key", "")}
        measure("W5", "osb", [osb, "http://" + info["domain"], "w5", "3"], env=env)
        if js:
            env.update(jsenv)
            measure("W5", "JS SDK", js + ["http://" + info["domain"], "w5", "3"], env=env)
    finally:
        stop_process(proc)


def make_cert():
    if not shutil.which("openssl"):
        notes.append("TLS idle connection: openssl CLI missing, skipped")
        return False
    r = subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
                        "-nodes", "-days", "2", "-subj", "/CN=127.0.0.1",
                        "-addext", "subjectAltName=IP:127.0.0.1",
                        "-keyout", os.path.join(TMP, "key.pem"), "-out", os.path.join(TMP, "cert.pem")],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return r.returncode == 0


# ---- the report --------------------------------------------------------------

def fmt(x, nd=0):
    if x is None:
        return "-"
    if abs(x) >= 100 or nd == 0:
        return "{:,.0f}".format(x)
    return ("{:,.%df}" % nd).format(x)


def mmm(t, nd=0):
    if not t:
        return "-", "-", "-"
    return fmt(t[0], nd), fmt(t[1], nd), fmt(t[2], nd)


TABLES = [
    # workload, title, throughput label, f(run) -> throughput, cpu label, f(run) -> cpu per unit, nd
    ("W1", "W1: 2,000 sequential GETs of a sandbox on one keep-alive connection, typed result",
     "req/s", lambda r: r["units"] / r["wall_s"], "client CPU µs/req", lambda r: r["cpu_s"] / r["units"] * 1e6),
    ("W2", "W2: execd event stream (200 MB, one chunk per event) decoded into typed events",
     "MB/s", lambda r: r["bytes"] / r["wall_s"] / 1e6, "client CPU s/GB", lambda r: r["cpu_s"] / (r["bytes"] / 1e9)),
    ("W2-10k", "W2: execd event stream of 10,000 events",
     "events/s", lambda r: r["units"] / r["wall_s"], "client CPU µs/event", lambda r: r["cpu_s"] / r["units"] * 1e6),
    ("M1", "M1: 256 execd command streams at once (10,000 events each), typed events",
     "events/s", lambda r: r["units"] / r["wall_s"], "client CPU µs/event", lambda r: r["cpu_s"] / r["units"] * 1e6),
    ("W3", "W3: 1 GiB download to a discarding sink",
     "MB/s", lambda r: r["bytes"] / r["wall_s"] / 1e6, "client CPU s/GB", lambda r: r["cpu_s"] / (r["bytes"] / 1e9)),
    ("T2", "Transport (issue 2): 1 GiB chunked response through the sink",
     "MB/s", lambda r: r["bytes"] / r["wall_s"] / 1e6, "client CPU s/GB", lambda r: r["cpu_s"] / (r["bytes"] / 1e9)),
    ("W4", "W4: 256 MiB multipart upload to a discarding sink (bench/sink.c; the client is what is measured)",
     "MB/s", lambda r: r["bytes"] / r["wall_s"] / 1e6, "client CPU s/GB", lambda r: r["cpu_s"] / (r["bytes"] / 1e9)),
    ("T1-json", "T1: tokenizing a 10 MB sandbox-list document in memory (best of 3 passes per run)",
     "MB/s", lambda r: r["bytes"] / r["wall_s"] / 1e6, None, None),
    ("T1-sse", "T1: execd stdout events in memory (40 MB): framing alone, + osb_json over each event, + osb_bind_into per event",
     "MB/s", lambda r: r["bytes"] / r["wall_s"] / 1e6, None, None),
    ("T1-chunked", "T1: the HTTP chunked decoder in memory (one chunk per event)",
     "MB/s", lambda r: r["bytes"] / r["wall_s"] / 1e6, None, None),
    ("cold", "Cold start + 1 GET (whole process, spawn to exit, timed by the runner; /bin/true is the cost of the spawn itself)",
     "ms", lambda r: r["wall_s"] * 1000, None, None),
    ("W5", "W5: create, run `echo`, write and read a file, kill (dev server)",
     "ms per flow", lambda r: r["wall_s"] / r["units"] * 1000, "client CPU ms/flow", lambda r: r["cpu_s"] / r["units"] * 1000),
]


def table(md, wl, title, tlabel, tf, clabel, cf):
    clients = [c for (w, c) in RESULTS if w == wl]
    if not clients:
        return
    lower_better = tlabel.startswith("ms")
    md.append("### " + title + "\n")
    head = "| client | %s median | min | max | osb vs it | %speak RSS MiB | allocs/unit |" % (
        tlabel, (clabel + " | ") if clabel else "")
    md.append(head)
    md.append("|" + "---|" * (head.count("|") - 1))
    osb_t = stats(wl, "osb", tf) or stats(wl, clients[0], tf)
    # no ratio for reference rows, for osb's own variants, nor in tables of osb alone
    ref = [c for c in clients if "(reference)" in c or "(variant)" in c or c.startswith("osb")]
    if wl in ("T1-sse", "T1-chunked"):
        ref = clients
    for c in clients:
        t = stats(wl, c, tf)
        ratio = "-"
        if osb_t and t and c != clients[0] and c != "osb" and c not in ref:
            ratio = "%.2fx" % ((t[0] / osb_t[0]) if lower_better else (osb_t[0] / t[0]))
        row = "| %s | %s | %s | %s | %s |" % ((c,) + mmm(t, 2 if tlabel in ("ms",) else 0) + (ratio,))
        if clabel:
            cs = stats(wl, c, cf)
            row += " %s |" % fmt(cs[0], 3 if cs and cs[0] < 10 else 0) if cs else " - |"
        rss = stats(wl, c, lambda r: r["rss_kib"] / 1024) if "rss_kib" in RESULTS[(wl, c)][0] else None
        al = stats(wl, c, lambda r: r["allocs"] / max(r["units"], 1) if "allocs" in r else float("nan"))
        alt = "-" if not al or al[0] != al[0] else ("%.4g" % al[0])
        row += " %s | %s |" % (fmt(rss[0], 1) if rss else "-", alt)
        md.append(row)
    md.append("")


def goals_table():
    rows = []

    def med(wl, c, f):
        s = stats(wl, c, f)
        return s[0] if s else None

    thr = lambda r: r["units"] / r["wall_s"]
    mbs = lambda r: r["bytes"] / r["wall_s"] / 1e6
    cpu_req = lambda r: r["cpu_s"] / r["units"] * 1e6
    cpu_gb = lambda r: r["cpu_s"] / (r["bytes"] / 1e9)
    rss = lambda r: r["rss_kib"] / 1024

    def row(name, goal, value, ok):
        rows.append("| %s | %s | %s | %s |" % (name, goal, value,
                                                 "-" if ok is None else ("met" if ok else "**missed**")))

    a, b = med("W1", "osb", thr), med("W1", "libcurl+cJSON", thr)
    c = med("W1", "osb", cpu_req)
    if a and b:
        row("W1 req/s", ">= 1.1x libcurl+cJSON", "%.2fx (%s vs %s)" % (a / b, fmt(a), fmt(b)), a / b >= 1.1)
    if c is not None:
        row("W1 client CPU", "<= 10 µs/req", "%.1f µs" % c, c <= 10)
    a = med("W2", "osb", mbs)
    if a:
        row("W2 typed events", ">= 600 MB/s", "%s MB/s" % fmt(a), a >= 600)
    # issue 20: the command-line tool's output to a pipe keeps up with curl
    # receiving the same stream unparsed (same run)
    b = med("W2", "curl CLI (no parsing)", mbs)
    for cmd in ("command run", "session run", "code run"):
        a = med("W2", "osb CLI %s, to a pipe" % cmd, mbs)
        if a and b:
            row("W2 osb CLI %s, to a pipe" % cmd, ">= 0.5x curl CLI (no parsing)",
                "%.2fx (%s vs %s MB/s)" % (a / b, fmt(a), fmt(b)), a / b >= 0.5)
    b = med("W2", "curl CLI (no parsing), to a pipe", mbs)
    a = med("W2", "osb CLI command run, to a pipe", mbs)
    if a and b:
        row("W2 osb CLI command run, both to a pipe", "reference: curl's output through the same pipe",
            "%.2fx (%s vs %s MB/s)" % (a / b, fmt(a), fmt(b)), None)
    b = med("W2", "curl CLI (no parsing)", mbs)
    a = med("W2", "osb CLI command run, to /dev/null", mbs)
    if a and b:
        row("W2 osb CLI command run, both to /dev/null", "reference: no pipe on either side",
            "%.2fx (%s vs %s MB/s)" % (a / b, fmt(a), fmt(b)), None)
    a = med("W2", "osb", rss)
    if a:
        row("W2 memory flat", "RSS independent of stream length",
            "%.1f MiB (200 MB) vs %.1f MiB (10k events)" % (a, med("W2-10k", "osb", rss) or 0),
            abs(a - (med("W2-10k", "osb", rss) or a)) < 1.0)
    a, b = med("M1", "osb multi, 1 thread", thr), med("M1", "osb blocking, 256 threads", thr)
    if a and b:
        row("M1 256 streams from one thread", ">= 0.9x 256 blocking threads",
            "%.2fx (%s vs %s events/s)" % (a / b, fmt(a), fmt(b)), a / b >= 0.9)
    a = med("M1", "osb multi, 1 thread", lambda r: r["heap_per_stream"])
    if a:
        row("M1 heap per stream in flight", "buffers (8 KiB receive, event buffer) + < 16 KiB",
            "%s bytes (peak heap / 256)" % fmt(a), None)
    for peer in ("JS SDK (Promise.all)", "Go SDK (goroutines)"):
        a, b = med("M1", "osb multi, 1 thread", thr), med("M1", peer, thr)
        ma, mb = med("M1", "osb multi, 1 thread", rss), med("M1", peer, rss)
        if a and b and ma and mb:
            row("M1 vs the %s" % peer, ">= 2x events/s, <= 1/10 the memory",
                "%.2fx, %.1f vs %.1f MiB" % (a / b, ma, mb), a / b >= 2 and ma * 10 <= mb)
    a, b = med("W3", "osb", mbs), med("W3", "libcurl", mbs)
    if a and b:
        row("W3 throughput", ">= 1.0x libcurl", "%.2fx (%s vs %s MB/s)" % (a / b, fmt(a), fmt(b)), a / b >= 1.0)
    a = med("W3", "osb", cpu_gb)
    if a is not None:
        row("W3 client CPU", "<= 0.18 s/GB", "%.3f s/GB" % a, a <= 0.18)
    a = med("W3", "osb", rss)
    if a:
        row("W3 RSS", "<= 4 MiB", "%.1f MiB" % a, a <= 4)
    a, b = med("T2", "osb (sink)", rss), med("T2", "osb (sink)", mbs)
    cc = med("T2", "curl CLI", mbs)
    if a:
        row("Transport: 1 GiB chunked, RSS", "< 8 MiB", "%.1f MiB" % a, a < 8)
    if b and cc:
        row("Transport: 1 GiB chunked, speed", "vs curl -o /dev/null", "%.2fx (%s vs %s MB/s)" % (b / cc, fmt(b), fmt(cc)), None)
    a, b = med("W4", "osb", mbs), med("W4", "python http.client", mbs)
    if a and b:
        row("W4 throughput", ">= 1.0x python http.client", "%.2fx (%s vs %s MB/s)" % (a / b, fmt(a), fmt(b)), a / b >= 1.0)
    for src in ("", " (from a file)"):
        a = med("W4", "osb" + src, mbs)
        for peer in ("python http.client", "libcurl"):
            b = med("W4", peer + src, mbs)
            if a and b:
                row("W4%s vs %s" % (src, peer), ">= 1.5x (issue 18)", "%.2fx (%s vs %s MB/s)" % (a / b, fmt(a), fmt(b)),
                    a / b >= 1.5)
    a = med("W4", "osb", rss)
    if a:
        row("W4 RSS", "<= 4 MiB", "%.1f MiB" % a, a <= 4)
    a = med("W4", "osb (from a file)", rss)
    if a:
        row("W4 RSS (from a file)", "<= 4 MiB", "%.1f MiB" % a, a <= 4)
    a = med("cold", "osb", lambda r: r["wall_s"] * 1000)
    if a:
        row("cold start + 1 GET", "<= 2 ms", "%.2f ms" % a, a <= 2)
    a, b, c2 = med("T1-json", "osb", mbs), med("T1-json", "jsmn", mbs), med("T1-json", "cjson", mbs)
    if a and b:
        row("T1 JSON vs jsmn", ">= 1.0x", "%.2fx (%s vs %s MB/s)" % (a / b, fmt(a), fmt(b)), a / b >= 1.0)
    if a and c2:
        row("T1 JSON vs cJSON", ">= 2x", "%.2fx (%s vs %s MB/s)" % (a / c2, fmt(a), fmt(c2)), a / c2 >= 2)
    a = med("T1-sse", "frame", mbs)
    if a:
        row("T1 event-stream framing", ">= 1 GB/s", "%s MB/s" % fmt(a), a >= 1000)
    al = med("W2", "osb", lambda r: r["allocs"] / r["units"])
    if al is not None:
        row("W2 allocations per event", "0 (after setup)", "%.5f (%d per stream)" % (al, med("W2", "osb", lambda r: r["allocs"])), al < 0.001)
    for name, limit, what in (("probe-static", 300_000, "minimal program (size_probe.c), TLS"),
                              ("probe-static-notls", 120_000, "minimal program (size_probe.c), no TLS"),
                              ("../osb-static", 300_000, "the osb tool, TLS"),
                              ("../osb-static-notls", 120_000, "the osb tool, no TLS")):
        p = os.path.normpath(os.path.join(B, name))
        if os.path.exists(p):
            sz = os.path.getsize(p)
            row("size: %s" % what, "<= %d KB" % (limit // 1000), "%s bytes" % fmt(sz), sz <= limit)
        else:
            row("size: %s" % what, "<= %d KB" % (limit // 1000), "not built", None)
    return rows


def loadavg():
    try:
        return open("/proc/loadavg").read().split()[0]
    except OSError:
        return "?"


LOAD = {}


WHY = """### What limits each figure, and what would reach the goals (analysis with strace and variant builds, 2026-11-22, header at 64b8724 and later)

Figures near a goal flip between runs on this shared machine (W1 came out at 0.84x, 1.27x and
1.83x of libcurl+cJSON in runs today, W4 at 0.67x, 1.35x and 0.85x of python), so read these as
the causes, whatever a single run says.

- **Client CPU per request / per GB (W1, W3)**: loopback TCP charges most of the receive path
  of the peer's socket to the sending process, and a loaded machine inflates CPU time for every
  client alike: even `ab -k` spends 65-85 µs per request here, so the 10 µs and 0.18 s/GB goals
  (set on a quiet machine) cannot be judged from this one. Compare the rows: per request osb
  spends about what `ab -k` does (61-102 µs against 55-85 µs across today's runs) and less
  than every other client; per GB it is at or below libcurl, curl and python.
- **W1**: per request osb makes 1 `sendto`, 1 `recvfrom` and 1 `poll` (strace of 2,000 GETs:
  2,000 / 2,016 / 2,016); the `poll` is the liveness check before reusing a pooled connection.
  Skipping it when the connection was used a moment ago (say, within 1 s; a dead connection is
  retried anyway for idempotent requests) would save a third of the system calls. 3 allocations
  per request (1 is the result): reading small bodies into the connection's buffer instead of
  a fresh osb_buf would save one or two.
- **W3 and the chunked transport**: the receive buffer is 64 KiB (OSB_IO_BUFFER): 16,614
  `recvfrom` per GiB. The `OSB_IO_BUFFER=128K` variant rows show what a larger one gains (about
  1.1-1.4x throughput, a third less CPU per GB). But the same buffer is what every pooled idle
  connection holds: 67,860 heap bytes per idle plain connection now, against 18,708 with the
  16 KiB buffer of the day before. Suggested: a small buffer (16 KiB) for heads, small bodies
  and the idle pool, and a larger one (128 KiB) taken for the duration of a sink-bound or
  streamed body and released when the connection goes back to the pool.
- **W2 typed events and the CLI** (perf, 2026-12-08, header at 190caf76 and later): a bare
  JSON line at the front of the body is decoded where it lies, and its raw object stays there
  (NUL-terminated in the receive buffer, no copy). An event's type (a short lowercase word) is
  copied byte by byte; other string text goes 64 bytes per step. With AVX-512 VBMI2 a step has
  no loop over its stops: escapes from the backslash runs (an odd run at a step's end carries
  into the next), one-letter escapes by a byte permute, backslashes dropped by a compress, and
  UTF-8 judged 64 bytes at once against the bytes one to three before each, loaded rather than
  shifted (the shuffle port is the step's bottleneck). With AVX2 the stops are taken from the
  step's mask; SSE2/NEON elsewhere take 16 bytes. The canned stream (484k events of ~413
  bytes, each with ~9 escapes and ~25 non-ASCII bytes) decodes in ~62-70 ms per 200 MB from a
  hot buffer with the AVX-512 step, ~120 with the AVX2 one and ~105-110 with 16-byte steps.
  What is left there is mostly per event: the mispredicted branch at each string's end and
  the field parsing around it. In the CLI (`osb command run` to a pipe, osb and `cat` on the
  client core) the string scan is ~26% of the core's time, osb__ex_fast ~13%, the kernel's
  receive copy ~13%, chunked framing ~6%, the pipe and `cat` ~12%. A larger pipe
  (F_SETPIPE_SZ up to 1 MiB, with the output buffered up to 1 MiB), a receive buffer of 16 to
  256 KiB or an output buffer of 256 KiB changed nothing measurable; the CLI writes once per
  network read (~3,100 writes of ~55 KiB). The general path (osb_bind_into) walks every event
  twice (measure, then fill).
- **W4** goes to bench/sink.c, not to nginx (bench/README.md): behind nginx (one core, reading
  each body into memory) every client landed at the same ~0.4-1 GB/s, so the rows measured
  nginx. The sink drops bodies in the kernel (recv MSG_TRUNC), and every client sends the same
  bytes in the same multipart shape to it in the same run. What is left is the client: its CPU
  per GB and how much it keeps queued while the sink waits for its core (on loopback a sender
  stalls until the receiving process runs, so on a busy machine the throughput follows the send
  buffer as much as the CPU). osb from a file: sendfile, no copy in the process (~0.13 s/GB
  against ~0.45 for python and libcurl, which read the file and send it: two copies). From a
  reader: the reader fills the connection buffer and each 64 KiB goes out with one send, every
  send but the last with MSG_MORE (whole 64 KiB segments, not a full one and a 53-byte one per
  send); for 1 MiB and more the send buffer is raised to 8 MiB where net.core.wmem_max allows
  it (autotuning stops at tcp_wmem's 4 MiB), which measured +25-40% on this machine under load.
  The reader row against python stays near 1x: python's generator body also costs one copy
  into the kernel per byte (~0.21 s/GB, osb ~0.22 including the reader's own memcpy), and a
  quiet machine makes both CPU-bound. 1.5x would need no copy at all: vmsplice(2) of the
  caller's pages into a pipe spliced to the socket measured ~0.13-0.17 s/GB, but the socket then
  holds the caller's pages until the receiver has read them, so the bytes must not change until
  the upload returns -- a contract a reader (which refills its block) cannot keep; not done.
- **T1 JSON vs jsmn**: jsmn neither unescapes nor validates UTF-8 and only records offsets;
  osb_json validates and unescapes every string byte by byte. The SWAR string scan above is the
  fix; a jsmn-like "offsets only, no validation" mode is not worth the API.
- **cold start**: most of it is the process spawn (the /bin/true row); osb's own part is the
  difference (0.3-1 ms here).
- **size**: build/osb-static is the whole `osb` command-line tool (every command, table and
  JSON output); the goal was set for a small program, which the size probe rows measure (one
  GET through the transport). Without TLS the probe sits at the 120 KB line. Of its ~110 KB of
  text, osb's own functions are ~26 KB; the rest is musl: printf and scanf with float support
  (fmt_fp, printf_core, vfscanf, floatscan: ~17 KB; the transport's `sscanf` of the Retry-After
  HTTP date pulls in scanf, and musl links its float formatting into any use of the printf
  family, here `snprintf` for error messages), the resolver (getaddrinfo and the DNS client,
  ~10 KB) and pthreads (~5 KB: the DNS lookup thread for the connect deadline). Parsing the
  date by hand and building error messages with a small formatter of the header's own (no
  printf family) would take the no-TLS probe well under the line.
"""


def report(elapsed):
    md = []
    md.append("# Benchmark results\n")
    md.append("Written by `make bench` (bench/run.py) on %s UTC; the whole run took %.0f s." %
              (time.strftime("%Y-%m-%d %H:%M", time.gmtime(WHEN[0] or time.time())), elapsed))
    cpu = "?"
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    rev = subprocess.run(["git", "-C", ROOT, "log", "-1", "--format=%h %cd", "--date=short", "--",
                          "opensandbox.h"], stdout=subprocess.PIPE).stdout.decode().strip()
    md.append("Header: opensandbox.h as of commit %s (plus any uncommitted edits in the tree)." % rev)
    md.append("Machine: %d cores (%s), %s, Python %s. nginx %s on core %s, clients on core %s; "
              "%d runs per row (median, min, max), except where a table says otherwise.\n" %
              (os.cpu_count(), cpu, platform.platform(), platform.python_version(),
               subprocess.run(["nginx", "-v"], stderr=subprocess.PIPE).stderr.decode().strip().split("/")[-1],
               SERVER_CPU, CLIENT_CPU, RUNS))
    md.append("Load average (1 min) at the start: %s, at the end: %s. Other work on the machine "
              "(a load above ~1) makes every figure noisier and slower; compare rows of one run, not runs." %
              (LOAD.get("start", "?"), LOAD.get("end", "?")))
    md.append("")
    md.append("\"osb vs it\" is osb's median throughput over the peer's (above 1 = osb faster; for "
              "milliseconds, the peer's time over osb's). Peak RSS is /usr/bin/time -v's maximum resident set of the whole "
              "client process (interpreters included). allocs/unit counts calls into the allocator during the timed "
              "part (osb: a counting osb_allocator; libcurl/cJSON: curl_global_init_mem and cJSON_InitHooks; T1: "
              "the C library's malloc wrapped at link time) divided by requests or events. Python and JS time "
              "the workload inside the process (interpreter start excluded, except in the cold-start table); "
              "the curl CLI and ab rows are the whole process.\n")
    md.append("## Goals (issue 11, issues 2 and 3)\n")
    md.append("| figure | goal | this run | |")
    md.append("|---|---|---|---|")
    md.extend(goals_table())
    md.append("")
    md.append(WHY)
    md.append("## Workloads\n")
    for t in TABLES:
        table(md, *t)
    idle = RESULTS.get(("idle", "osb plain")), RESULTS.get(("idle", "osb TLS"))
    if any(idle):
        md.append("### Memory per idle pooled connection (200 clients, one idle keep-alive connection each; "
                  "the figure includes each client's own struct)\n")
        md.append("| | heap bytes per connection (counting allocator) | RSS bytes per connection |")
        md.append("|---|---|---|")
        for name, rs in zip(("plain", "TLS (BearSSL)"), idle):
            if rs:
                md.append("| %s | %s | %s |" % (name, fmt(rs[0]["heap_per_conn"]), fmt(rs[0]["rss_per_conn"])))
        md.append("")
    md.append("### Static binaries\n")
    md.append("Static, musl, stripped (-Os, --gc-sections). The probe is tests/tls/size_probe.c (one GET "
              "through osb_request_raw, built by this run); the tool is build/osb-static* from `make static`.\n")
    for name in ("bench/probe-static", "bench/probe-static-notls", "osb-static", "osb-static-notls"):
        p = os.path.join(ROOT, "build", name)
        md.append("- build/%s: %s" % (name, ("%s bytes" % fmt(os.path.getsize(p))) if os.path.exists(p)
                                      else "not built (`make static` builds the tool)"))
    md.append("")
    md.append("## Notes\n")
    base_notes = [
        "Peers not run: the Go SDK (no Go toolchain on this machine).",
        "jsmn is Debian's libjsmn-dev 1.1.0, built with JSMN_PARENT_LINKS (without it, closing a "
        "container scans back over all tokens and the 10 MB list takes seconds); its token array is "
        "sized by a counting pass outside the timed region.",
        "The W2 stream is canned execd output: bare `{json}\\n\\n` events of type stdout (one line of "
        "a build log each, 40-1,900 bytes, with escapes and non-ASCII text), init/ping first and "
        "execution_complete last, sent with one HTTP chunk per event as execd flushes per event. "
        "The W2 rows of curl and of the osb CLI are measured in turns (run k of each before run k+1 "
        "of any), so a slow spell of the machine falls on both sides of their ratio.",
        "nginx serves the event stream pre-chunked from disk (nginx's own chunking is off and "
        "Transfer-Encoding: chunked is added), so each event is its own chunk; that response ends "
        "with the connection (Connection: close).",
    ]
    for n in base_notes + notes:
        md.append("- " + n)
    md.append("")
    with open(OUT, "w") as f:
        f.write("\n".join(md))
    log("wrote %s" % OUT)


LAST = os.path.join(B, "last-run.json")
WHEN = [None]   # when the figures were measured (set when re-rendering)
PROBES = (("probe-static", 1), ("probe-static-notls", 0))


def build_probes():
    """The library's size floor: tests/tls/size_probe.c (one GET through
    osb_request_raw), static, musl, stripped, as mk/static.mk builds the tool."""
    src = os.path.join(ROOT, "tests", "tls", "size_probe.c")
    lib = [p for p in ("/usr/lib/x86_64-linux-gnu/libbearssl.a", "/usr/lib/libbearssl.a",
                       "/usr/local/lib/libbearssl.a") if os.path.exists(p)]
    if not shutil.which("musl-gcc") or not os.path.exists(src):
        notes.append("size probe: musl-gcc (musl-tools) or tests/tls/size_probe.c missing, not built")
        return
    for name, tls in PROBES:
        cmd = ["musl-gcc", "-std=c99", "-Os", "-ffunction-sections", "-fdata-sections",
               "-DOSB_TLS=%d" % tls, "-I" + ROOT, "-I/usr/include/bearssl", src]
        if tls:
            if not lib:
                continue
            cmd += [os.path.join(ROOT, "tools", "musl_fortify_shim.c"), lib[0]]
        cmd += ["-static", "-Wl,--gc-sections", "-s", "-o", os.path.join(B, name)]
        if subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode:
            notes.append("size probe %s: build failed" % name)


def save(elapsed):
    for rs in RESULTS.values():
        for r in rs:
            r.pop("stdout", None)
    with open(LAST, "w") as f:
        json.dump({"results": [[w, c, rs] for (w, c), rs in RESULTS.items()], "notes": notes,
                   "load": LOAD, "elapsed": elapsed, "runs": RUNS, "when": time.time()}, f)


def load_last():
    global RUNS
    d = json.load(open(LAST))
    for w, c, rs in d["results"]:
        RESULTS[(w, c)] = rs
    notes.extend(d["notes"])
    LOAD.update(d["load"])
    RUNS = d["runs"]
    WHEN[0] = d.get("when") or os.path.getmtime(LAST)
    return d["elapsed"]


def on_term(signum, frame):
    raise SystemExit("bench: stopped by signal %d" % signum)


def main():
    global TMP
    signal.signal(signal.SIGTERM, on_term)
    if "--report" in sys.argv:   # render RESULTS.md again from the last run's figures
        elapsed = load_last()
        build_probes()
        report(elapsed)
        return
    for tool in ("nginx", "taskset", "/usr/bin/time"):
        if not shutil.which(tool):
            raise SystemExit("bench: %s is missing (tools/ensure-bench-deps.sh installs it)" % tool)
    LOAD["start"] = loadavg()
    build_probes()
    ensure_data()
    warm_cache()
    TMP = tempfile.mkdtemp(prefix="osb-bench-")
    tls = make_cert()
    sink = Sink(TMP, free_port()) if want("W4") else Sink(TMP, 0)
    try:
        ng = Nginx(TMP, tls, sink.port)
        try:
            log("nginx on 127.0.0.1:%d (pid %d)" % (ng.port, ng.proc.pid))
            run_all(ng, sink)
        finally:
            ng.stop()
    finally:
        sink.stop()
    LOAD["end"] = loadavg()
    elapsed = time.monotonic() - T_START
    save(elapsed)
    report(elapsed)
    shutil.rmtree(TMP, ignore_errors=True)


if __name__ == "__main__":
    main()
