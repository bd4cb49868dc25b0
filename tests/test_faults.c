/* Fault matrix (RELIABILITY.md §3) against tests/servers/faults.py: one test
 * per scenario that tests/test_http.c does not already cover. Every failing
 * exchange is checked for the row's error code and for the invariants: no
 * crash or leak (the sanitizer and valgrind runs of `make check`), a return
 * within the deadline plus slack, no pooled connection after the error, no
 * partial body reported as success, the request id kept when one arrived,
 * and no body bytes handed out after the error.
 *
 * Rows that need root (a mount or network namespace, nftables) run when the
 * tests run as root and the tools are there; otherwise they are skipped with
 * the reason. Row numbers are those of the matrix. */
#define _DEFAULT_SOURCE
#define OPENSANDBOX_IMPLEMENTATION
#include "../opensandbox.h"
#include "testlib.h"
#include "testproc.h"
#include <sys/stat.h>

#define SLACK_MS 600   /* generous: sanitizer and valgrind runs are slow */

static testproc server;
static int server_state;   /* 0 not tried, 1 up, -1 failed */
static int port_main, port_other, port_drip, port_stop;

static int ready_port(const char *json, const char *key) {
    char pat[32];
    const char *p;
    snprintf(pat, sizeof pat, "\"%s\": ", key);
    p = strstr(json, pat);
    return p ? atoi(p + strlen(pat)) : 0;
}

static int start_server(void) {
    static const char *const argv[] = {"python3", "tests/servers/faults.py", "--lifetime", "150", NULL};
    if (server_state) return server_state > 0;
    server_state = -1;
    if (testproc_start(&server, argv) != 0) return 0;
    port_main = ready_port(server.ready, "port");
    port_other = ready_port(server.ready, "other");
    port_drip = ready_port(server.ready, "drip");
    port_stop = ready_port(server.ready, "stop");
    if (!port_main) return 0;
    server_state = 1;
    return 1;
}

#define NEED_SERVER() do { if (!start_server()) { CHECK(!"tests/servers/faults.py did not start"); return; } } while (0)

static osb_client *client_on(int port, int first_byte_ms, int idle_ms, int total_ms) {
    osb_client_config cfg;
    osb_client *c = NULL;
    char dom[64];
    snprintf(dom, sizeof dom, "127.0.0.1:%d", port);
    memset(&cfg, 0, sizeof cfg);
    cfg.domain = dom;
    cfg.api_key = "fault-key-0123456789";
    cfg.timeouts.connect_ms = 2000;
    cfg.timeouts.first_byte_ms = first_byte_ms;
    cfg.timeouts.idle_ms = idle_ms;
    cfg.timeouts.total_ms = total_ms;
    if (osb_client_new(&cfg, &c) != OSB_OK) return NULL;
    return c;
}

static osb_client *client(void) { return client_on(port_main, 3000, 3000, 0); }

/* A sink that records what it was given. */
typedef struct rec_sink {
    uint64_t n;
    int calls;
    int pattern_bad;   /* for /bytes: byte i must be i & 255 */
    osb_buf text;      /* the first 64 KiB, for small bodies */
} rec_sink;

static int rec_write(void *user, const void *data, size_t len) {
    rec_sink *s = (rec_sink *)user;
    const unsigned char *p = (const unsigned char *)data;
    size_t i;
    for (i = 0; i < len; i++)
        if (p[i] != (unsigned char)((s->n + i) & 0xff)) s->pattern_bad = 1;
    if (s->text.len < 65536) osb_buf_append(&s->text, data, OSB__MIN(len, 65536 - s->text.len));
    s->n += len;
    s->calls++;
    return 0;
}

static osb_err get_path(osb_client *c, const char *path, osb_http_response *r, rec_sink *s) {
    osb_http_request req;
    char p[512];
    char *q;
    snprintf(p, sizeof p, "%s", path);
    memset(&req, 0, sizeof req);
    q = strchr(p, '?');
    if (q) { *q = 0; req.query = q + 1; }
    req.path = p;
    if (s) { req.sink = rec_write; req.sink_user = s; }
    return osb_request_raw(c, &req, r);
}

static int64_t since(int64_t t0) { return osb__now_ms() - t0; }

/* The invariants of a failed exchange. */
static void check_failed(osb_client *c, const osb_http_response *r, osb_err got, osb_err want) {
    if (got != want)
        fprintf(stderr, "  got %s (%s), want %s\n", osb_strerror(got), osb_client_error(c)->message,
                osb_strerror(want));
    CHECK_EQ_INT(got, want);
    CHECK_EQ_INT(osb_client_error(c)->code, want);
    CHECK_EQ_INT(r->body.len, 0);               /* no partial body reported */
    CHECK(r->body.data == NULL);
    CHECK_EQ_INT(osb_client_pooled(c), 0);      /* never pooled after an error */
    CHECK(osb_client_error(c)->message[0] != 0);
}

/* ---- A. connect and DNS ---- */

static int is_root(void) { return geteuid() == 0; }

static int have_tool(const char *name) {
    char cmd[128];
    snprintf(cmd, sizeof cmd, "command -v %s >/dev/null 2>&1", name);
    return system(cmd) == 0;
}

/* Runs this program again as "test_faults --child NAME" inside the wrapper
 * command; the child prints "child NAME: ok" on success. */
static char self_path[512];

static int run_child(const char *cmd, char *out, size_t cap) { return testproc_capture(cmd, out, cap); }

static int write_file(const char *dir, const char *name, const char *text) {
    char path[512];
    FILE *f;
    snprintf(path, sizeof path, "%s/%s", dir, name);
    f = fopen(path, "w");
    if (!f) return -1;
    fputs(text, f);
    return fclose(f);
}

/* Row 3: the resolver never answers. getaddrinfo() cannot be cancelled, so
 * the library can only be as quick as the resolver's own timeout; the row
 * asks for the connect deadline. The child runs in new mount and network
 * namespaces with a resolv.conf naming a silent server on 127.0.0.1:53. */
static int child_dns_timeout(void) {
    osb_client_config cfg;
    osb_client *c = NULL;
    osb_http_response r;
    int64_t t0;
    osb_err e;
    memset(&cfg, 0, sizeof cfg);
    cfg.domain = "box.example.test:8080";
    cfg.timeouts.connect_ms = 300;
    if (osb_client_new(&cfg, &c)) return 1;
    t0 = osb__now_ms();
    e = get_path(c, "/x", &r, NULL);
    printf("child dns-timeout: err=%s phase=%s elapsed=%lld\n", osb_strerror(e),
           osb_phase_name(osb_client_error(c)->phase), (long long)since(t0));
    osb_client_free(c);
    return 0;
}

TEST(row03_dns_timeout_is_bounded) {
    char out[1024], cmd[2048], dir[] = "/tmp/osb-dns-XXXXXX", *p;
    int rc;
    long long elapsed = -1;
    if (!is_root()) SKIP("row 3 needs root (mount + network namespace)");
    if (!have_tool("unshare") || !have_tool("ip") || !have_tool("python3"))
        SKIP("row 3 needs unshare, ip (iproute2) and python3");
    if (!mkdtemp(dir)) SKIP("row 3: no temporary directory");
    write_file(dir, "resolv.conf", "nameserver 127.0.0.1\noptions timeout:2 attempts:1\n");
    write_file(dir, "nsswitch.conf", "hosts: dns\n");
    /* a resolver that reads queries and never answers, for at most 10 s */
    write_file(dir, "silent_dns.py",
               "import socket, time\n"
               "s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\n"
               "import sys\n"
               "s.bind(('127.0.0.1', 53))\n"
               "open(sys.argv[1], 'w').close()\n"
               "s.settimeout(0.5)\n"
               "end = time.time() + 10\n"
               "while time.time() < end:\n"
               "    try:\n"
               "        s.recv(4096)\n"
               "    except socket.timeout:\n"
               "        pass\n");
    snprintf(cmd, sizeof cmd,
             "unshare -m -n sh -c 'ip link set lo up && mount --bind %s/resolv.conf /etc/resolv.conf && "
             "mount --bind %s/nsswitch.conf /etc/nsswitch.conf && "
             "{ python3 %s/silent_dns.py %s/ready & pid=$!; i=0; "
             "while [ ! -e %s/ready ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i+1)); done; "
             "%s --child dns-timeout; rc=$?; kill $pid; exit $rc; }' 2>&1",
             dir, dir, dir, dir, dir, self_path);
    rc = run_child(cmd, out, sizeof out);
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd) != 0) fprintf(stderr, "  could not remove %s\n", dir);
    p = strstr(out, "elapsed=");
    if (p) elapsed = atoll(p + 8);
    if (rc != 0 || !p) {
        fprintf(stderr, "  child output: %s\n", out);
        SKIP("row 3: could not set up the namespaces (unshare or mount refused here)");
    }
    fprintf(stderr, "  %s", out);
    CHECK(strstr(out, "phase=dns") != NULL || strstr(out, "phase=connect") != NULL);
    CHECK(elapsed < 8000);   /* bounded by the resolver's own timeout at least */
    CHECK(elapsed <= 300 + SLACK_MS);   /* the connect deadline bounds resolution too */
}

/* Row 4: SYN black hole, in a network namespace where nftables drops
 * everything sent to port 9999. */
static int child_syn_blackhole(void) {
    osb_client_config cfg;
    osb_client *c = NULL;
    osb_http_response r;
    int64_t t0;
    osb_err e;
    memset(&cfg, 0, sizeof cfg);
    cfg.domain = "127.0.0.1:9999";
    cfg.timeouts.connect_ms = 500;
    if (osb_client_new(&cfg, &c)) return 1;
    t0 = osb__now_ms();
    e = get_path(c, "/x", &r, NULL);
    printf("child syn-blackhole: code=%d phase=%d pooled=%d elapsed=%lld\n", (int)e,
           (int)osb_client_error(c)->phase, osb_client_pooled(c), (long long)since(t0));
    osb_client_free(c);
    return 0;
}

static int ensure_nft(void) {
    if (have_tool("nft") && have_tool("ip")) return 1;
    if (!is_root() || !have_tool("apt-get")) return 0;
    if (system("DEBIAN_FRONTEND=noninteractive apt-get install -y -q nftables iproute2 >/dev/null 2>&1") != 0)
        return 0;
    return have_tool("nft") && have_tool("ip");
}

TEST(row04_syn_black_hole_times_out_at_connect_deadline) {
    char out[1024], *p;
    int rc, code = -1, phase = -1, pooled = -1;
    long long elapsed = -1;
    if (!is_root()) SKIP("row 4 needs root (network namespace + nftables)");
    if (!ensure_nft()) SKIP("row 4 needs nft and ip (apt-get install nftables iproute2 failed)");
    {
        char cmd[1024];
        snprintf(cmd, sizeof cmd,
                 "unshare -n sh -c 'ip link set lo up && nft add table inet osbt && "
                 "nft add chain inet osbt out \"{ type filter hook output priority 0; }\" && "
                 "nft add rule inet osbt out tcp dport 9999 drop && %s --child syn-blackhole' 2>&1",
                 self_path);
        rc = run_child(cmd, out, sizeof out);
    }
    p = strstr(out, "code=");
    if (rc != 0 || !p) {
        fprintf(stderr, "  child output: %s\n", out);
        SKIP("row 4: could not set up the network namespace or the nft rule here");
    }
    sscanf(p, "code=%d phase=%d pooled=%d elapsed=%lld", &code, &phase, &pooled, &elapsed);
    CHECK_EQ_INT(code, OSB_ERR_TIMEOUT);
    CHECK_EQ_INT(phase, OSB_PHASE_CONNECT);
    CHECK_EQ_INT(pooled, 0);
    CHECK(elapsed >= 450 && elapsed < 500 + SLACK_MS);
}

/* Row 7 with nftables: inside a network namespace the child starts the
 * server, and once the body is flowing the sink adds a rule that drops every
 * packet from the server: the idle deadline must end the call. */
static int nft_dropped;
static int64_t last_byte_ms;
static int drop_sink(void *user, const void *data, size_t len) {
    char cmd[512];
    (void)data;
    *(uint64_t *)user += len;
    last_byte_ms = osb__now_ms();
    if (!nft_dropped) {
        nft_dropped = 1;
        snprintf(cmd, sizeof cmd,
                 "nft add table inet osbm && nft add chain inet osbm in '{ type filter hook input priority 0; }' && "
                 "nft add rule inet osbm in tcp sport %d drop", port_main);
        if (system(cmd) != 0) nft_dropped = -1;
    }
    return 0;
}

static int start_server(void);

static int child_midstream_nft(void) {
    osb_client *c;
    osb_http_request req;
    osb_http_response r;
    uint64_t got = 0;
    osb_err e;
    if (!start_server()) { printf("child midstream-nft: no server\n"); return 1; }
    c = client_on(port_main, 2000, 400, 0);
    memset(&req, 0, sizeof req);
    req.path = "/bytes";
    req.query = "n=200000000";
    req.stream = 1;
    req.sink = drop_sink;
    req.sink_user = &got;
    e = osb_request_raw(c, &req, &r);
    printf("child midstream-nft: code=%d phase=%d pooled=%d nft=%d got=%llu offset=%llu after_last=%lld\n", (int)e,
           (int)osb_client_error(c)->phase, osb_client_pooled(c), nft_dropped, (unsigned long long)got,
           (unsigned long long)osb_client_error(c)->offset, (long long)since(last_byte_ms));
    osb_client_free(c);
    testproc_stop(&server);
    return 0;
}

/* Row 22 with a slow link: tbf on the namespace's loopback. A download
 * whose byte gaps stay under the idle deadline completes; a total deadline
 * on the same unary call stops it. */
static int child_slow_link(void) {
    osb_client *c;
    osb_http_response r;
    rec_sink s;
    osb_err e1, e2;
    int64_t t0, el1, el2;
    if (!start_server()) { printf("child slow-link: no server\n"); return 1; }
    c = client_on(port_main, 3000, 1500, 0);
    memset(&s, 0, sizeof s);
    t0 = osb__now_ms();
    e1 = get_path(c, "/bytes?n=100000", &r, &s);
    el1 = since(t0);
    osb_client_free(c);
    c = client_on(port_main, 3000, 1500, 500);
    t0 = osb__now_ms();
    e2 = get_path(c, "/bytes?n=100000", &r, NULL);
    el2 = since(t0);
    printf("child slow-link: code1=%d got=%llu bad=%d elapsed1=%lld code2=%d phase2=%d elapsed2=%lld\n", (int)e1,
           (unsigned long long)s.n, s.pattern_bad, (long long)el1, (int)e2, (int)osb_client_error(c)->phase,
           (long long)el2);
    osb_buf_free(&s.text);
    osb_client_free(c);
    testproc_stop(&server);
    return 0;
}

TEST(row07_mid_stream_black_hole_nft) {
    char out[1024], cmd[1024], *p;
    int rc, code = -1, phase = -1, pooled = -1, nft = 0;
    unsigned long long got = 0, offset = 0;
    long long after = -1;
    if (!is_root()) SKIP("row 7 (nft variant) needs root (network namespace + nftables)");
    if (!ensure_nft()) SKIP("row 7 (nft variant) needs nft and ip (apt-get install nftables iproute2 failed)");
    snprintf(cmd, sizeof cmd, "unshare -n sh -c 'ip link set lo up && %s --child midstream-nft' 2>&1", self_path);
    rc = run_child(cmd, out, sizeof out);
    p = strstr(out, "code=");
    if (rc != 0 || !p) {
        fprintf(stderr, "  child output: %s\n", out);
        SKIP("row 7 (nft variant): could not set up the network namespace here");
    }
    sscanf(p, "code=%d phase=%d pooled=%d nft=%d got=%llu offset=%llu after_last=%lld", &code, &phase, &pooled,
           &nft, &got, &offset, &after);
    CHECK_EQ_INT(nft, 1);
    CHECK_EQ_INT(code, OSB_ERR_TIMEOUT);
    CHECK_EQ_INT(phase, OSB_PHASE_IDLE);
    CHECK_EQ_INT(pooled, 0);
    CHECK(got > 0 && got < 200000000ull);
    CHECK_EQ_INT(offset, got);
    CHECK(after >= 0 && after < 400 + SLACK_MS);
}

TEST(row22_slow_link_tbf) {
    char out[1024], cmd[1024], *p;
    int rc, code1 = -1, bad = 1, code2 = -1, phase2 = -1;
    unsigned long long got = 0;
    long long el1 = -1, el2 = -1;
    if (!is_root()) SKIP("row 22 (tbf) needs root (network namespace + tc)");
    if (!have_tool("tc") || !have_tool("unshare")) SKIP("row 22 (tbf) needs tc (iproute2) and unshare");
    /* 400 kbit/s: 100 KB take about 2 s, in packets well under the idle deadline apart */
    snprintf(cmd, sizeof cmd,
             "unshare -n sh -c 'ip link set lo up mtu 1500 && tc qdisc add dev lo root tbf rate 400kbit burst 10kb latency 500ms "
             "&& %s --child slow-link' 2>&1", self_path);
    rc = run_child(cmd, out, sizeof out);
    p = strstr(out, "code1=");
    if (rc != 0 || !p) {
        fprintf(stderr, "  child output: %s\n", out);
        SKIP("row 22 (tbf): could not shape the namespace's loopback here (no sch_tbf?)");
    }
    sscanf(p, "code1=%d got=%llu bad=%d elapsed1=%lld code2=%d phase2=%d elapsed2=%lld", &code1, &got, &bad, &el1,
           &code2, &phase2, &el2);
    CHECK_EQ_INT(code1, OSB_OK);
    CHECK_EQ_INT(got, 100000);
    CHECK_EQ_INT(bad, 0);
    CHECK(el1 > 1000);            /* the link really was slow */
    CHECK_EQ_INT(code2, OSB_ERR_TIMEOUT);
    CHECK_EQ_INT(phase2, OSB_PHASE_TOTAL);
    CHECK(el2 < 500 + SLACK_MS);
}

/* Row 7: the response starts, then the path goes silent (a relay that
 * stops forwarding, as a load balancer that drops idle flows). */
TEST(row07_mid_stream_black_hole_relay) {
    osb_client *c;
    osb_http_response r;
    rec_sink s;
    int64_t t0;
    osb_err e;
    NEED_SERVER();
    c = client_on(port_stop, 2000, 400, 0);
    memset(&s, 0, sizeof s);
    t0 = osb__now_ms();
    e = get_path(c, "/bytes?n=200000", &r, &s);
    check_failed(c, &r, e, OSB_ERR_TIMEOUT);
    CHECK_EQ_INT(osb_client_error(c)->phase, OSB_PHASE_IDLE);
    CHECK(since(t0) < 400 + SLACK_MS);
    CHECK(s.n > 0 && s.n < 600);                          /* what came before the silence */
    CHECK_EQ_INT(osb_client_error(c)->offset, s.n);       /* resumable from here */
    CHECK_EQ_INT(r.body_bytes, s.n);
    CHECK(!s.pattern_bad);
    osb_buf_free(&s.text);
    osb_client_free(c);
}

/* Row 7 with the pull form: the read that fails returns no bytes, and so
 * does every read after it. */
TEST(row07_mid_stream_black_hole_pull_form) {
    osb_client *c;
    osb_http_request req;
    osb_http_response r;
    osb_body *b = NULL;
    uint64_t got = 0;
    const void *d;
    size_t n;
    osb_err e;
    int64_t t0;
    NEED_SERVER();
    c = client_on(port_stop, 2000, 300, 0);
    memset(&req, 0, sizeof req);
    req.path = "/bytes";
    req.query = "n=200000";
    req.stream = 1;
    CHECK_EQ_INT(osb_request_open(c, &req, &r, &b), OSB_OK);
    if (!b) { osb_client_free(c); return; }
    t0 = osb__now_ms();
    for (;;) {
        e = osb_body_read(b, &d, &n);
        if (e || n == 0) break;
        got += n;
    }
    CHECK_EQ_INT(e, OSB_ERR_TIMEOUT);
    CHECK_EQ_INT(n, 0);
    CHECK(d == NULL);
    CHECK(since(t0) < 300 + SLACK_MS);
    CHECK_EQ_INT(osb_body_read(b, &d, &n), OSB_ERR_TIMEOUT);   /* sticky, and no bytes */
    CHECK_EQ_INT(n, 0);
    CHECK_EQ_INT(r.body_bytes, got);
    osb_body_close(b);
    CHECK_EQ_INT(osb_client_pooled(c), 0);
    osb_client_free(c);
}

/* ---- B. framing ---- */

/* Row 8: RST while the head is arriving: no response is exposed. */
TEST(row08_reset_inside_head) {
    osb_client *c;
    osb_http_response r;
    rec_sink s;
    osb_err e;
    NEED_SERVER();
    c = client();
    memset(&s, 0, sizeof s);
    e = get_path(c, "/reset-head", &r, &s);
    CHECK(e == OSB_ERR_CONNECT || e == OSB_ERR_TRUNCATED);
    CHECK_EQ_INT(osb_client_error(c)->code, e);
    CHECK_EQ_INT(r.status, 0);             /* the status line was never exposed */
    CHECK_EQ_INT(s.calls, 0);
    CHECK_EQ_INT(r.body.len, 0);
    CHECK_EQ_INT(osb_client_pooled(c), 0);
    osb_client_free(c);
}

/* Row 9: RST inside a chunk. */
TEST(row09_reset_inside_chunk) {
    osb_client *c;
    osb_http_response r;
    rec_sink s;
    osb_err e;
    NEED_SERVER();
    c = client();
    memset(&s, 0, sizeof s);
    e = get_path(c, "/reset-chunk", &r, &s);
    check_failed(c, &r, e, OSB_ERR_TRUNCATED);
    CHECK_EQ_INT(s.n, 15);                               /* 10 + half of the next chunk */
    CHECK_EQ_INT(osb_client_error(c)->offset, 15);
    CHECK_EQ_STR(osb_client_error(c)->request_id, "req-rc");
    CHECK_EQ_INT(osb_client_error(c)->http_status, 200);
    osb_buf_free(&s.text);
    /* into memory: the partial body is dropped, not returned */
    e = get_path(c, "/reset-chunk", &r, NULL);
    check_failed(c, &r, e, OSB_ERR_TRUNCATED);
    osb_client_free(c);
}

/* Row 9: RST inside a Content-Length body. */
TEST(row09_reset_inside_length_body) {
    osb_client *c;
    osb_http_response r;
    rec_sink s;
    osb_err e;
    NEED_SERVER();
    c = client();
    memset(&s, 0, sizeof s);
    e = get_path(c, "/reset-length", &r, &s);
    check_failed(c, &r, e, OSB_ERR_TRUNCATED);
    CHECK_EQ_INT(s.n, 10);
    CHECK(!s.pattern_bad);
    CHECK_EQ_INT(osb_client_error(c)->offset, 10);    /* a download resumes from here with Range */
    CHECK_EQ_STR(osb_client_error(c)->request_id, "req-rl");
    CHECK_EQ_INT(r.content_length, 100);
    osb_buf_free(&s.text);
    osb_client_free(c);
}

/* Row 15 (endless variant): header lines keep coming; the head cap ends it
 * long before any deadline. */
TEST(row15_endless_headers) {
    osb_client *c;
    osb_http_response r;
    int64_t t0;
    osb_err e;
    NEED_SERVER();
    c = client_on(port_main, 5000, 5000, 0);
    t0 = osb__now_ms();
    e = get_path(c, "/endless-headers", &r, NULL);
    check_failed(c, &r, e, OSB_ERR_TOO_LARGE);
    CHECK(since(t0) < 2000);
    osb_client_free(c);
}

/* Row 20: a gzip body the client never asked for passes through as bytes,
 * and the request carries no Accept-Encoding. */
TEST(row20_gzip_not_asked_passes_through) {
    osb_client *c;
    osb_http_response r;
    NEED_SERVER();
    c = client();
    CHECK_EQ_INT(get_path(c, "/gzip-unasked", &r, NULL), OSB_OK);
    CHECK(r.body.len > 10 && (unsigned char)r.body.data[0] == 0x1f && (unsigned char)r.body.data[1] == 0x8b);
    osb_http_response_free(&r);
    CHECK_EQ_INT(get_path(c, "/echo", &r, NULL), OSB_OK);
    CHECK(r.body.data && strstr(r.body.data, "Accept-Encoding") == NULL);
    osb_http_response_free(&r);
    osb_client_free(c);
}

/* ---- C. timing ---- */

/* Row 21, stall in the middle of a chunk: idle deadline, bytes so far
 * reported, request id kept. */
TEST(row21_stall_inside_chunk) {
    osb_client *c;
    osb_http_response r;
    rec_sink s;
    int64_t t0;
    osb_err e;
    NEED_SERVER();
    c = client_on(port_main, 2000, 300, 0);
    memset(&s, 0, sizeof s);
    t0 = osb__now_ms();
    e = get_path(c, "/stall-chunk?s=2", &r, &s);
    check_failed(c, &r, e, OSB_ERR_TIMEOUT);
    CHECK_EQ_INT(osb_client_error(c)->phase, OSB_PHASE_IDLE);
    CHECK(since(t0) < 300 + SLACK_MS);
    CHECK_EQ_INT(s.n, 15);
    CHECK_EQ_INT(osb_client_error(c)->offset, 15);
    CHECK_EQ_STR(osb_client_error(c)->request_id, "req-sc");
    osb_buf_free(&s.text);
    osb_client_free(c);
}

/* Row 21 with a total deadline on a unary call: the total phase is named. */
TEST(row21_total_deadline_on_unary_call) {
    osb_client *c;
    osb_http_response r;
    int64_t t0;
    osb_err e;
    NEED_SERVER();
    c = client_on(port_main, 2000, 2000, 400);
    t0 = osb__now_ms();
    e = get_path(c, "/stall-chunk?s=2", &r, NULL);
    check_failed(c, &r, e, OSB_ERR_TIMEOUT);
    CHECK_EQ_INT(osb_client_error(c)->phase, OSB_PHASE_TOTAL);
    CHECK(since(t0) < 400 + SLACK_MS);
    osb_client_free(c);
}

/* Row 23: every response byte in its own TCP segment (a relay that writes
 * one byte per send with TCP_NODELAY). */
typedef struct box {
    osb_str id;
    int64_t count;
} box;
static const osb_field box_fields[] = {
    OSB_FIELD_STR(box, id, "id"),
    OSB_FIELD_I64(box, count, "count"),
};
static const osb_type box_type = OSB_TYPE(box, box_fields);

TEST(row23_one_byte_per_segment) {
    osb_client *c;
    osb_http_response r;
    rec_sink s;
    box *bx = NULL;
    NEED_SERVER();
    c = client_on(port_drip, 5000, 5000, 0);
    CHECK_EQ_INT(get_path(c, "/json?kind=ok", &r, NULL), OSB_OK);
    CHECK_EQ_STR(r.request_id, "req-json");
    CHECK_EQ_INT(osb_bind(&box_type, r.body.data, r.body.len, NULL, (void **)&bx, NULL), OSB_OK);
    if (bx) {
        CHECK_EQ_MEM(bx->id.ptr, bx->id.len, "sbx-1", 5);
        CHECK_EQ_INT(bx->count, 3);
        osb_result_free(bx);
    }
    osb_http_response_free(&r);
    memset(&s, 0, sizeof s);
    CHECK_EQ_INT(get_path(c, "/chunkedbytes?n=3000&c=97", &r, &s), OSB_OK);
    CHECK_EQ_INT(s.n, 3000);
    CHECK(!s.pattern_bad);
    osb_buf_free(&s.text);
    memset(&s, 0, sizeof s);
    CHECK_EQ_INT(get_path(c, "/bytes?n=4000", &r, &s), OSB_OK);
    CHECK_EQ_INT(s.n, 4000);
    CHECK(!s.pattern_bad);
    osb_buf_free(&s.text);
    CHECK_EQ_INT(get_path(c, "/status?code=404", &r, NULL), OSB_ERR_HTTP);
    CHECK_EQ_INT(osb_client_error(c)->http_status, 404);
    CHECK_EQ_STR(osb_client_error(c)->server_code, "E_404");
    CHECK_EQ_STR(osb_client_error(c)->request_id, "req-404");
    CHECK(strstr(osb_client_error(c)->message, "status 404") != NULL);
    CHECK_EQ_INT(osb_client_pooled(c), 1);   /* a whole error body keeps the connection */
    osb_client_free(c);
}

/* ---- D. JSON bodies (a JSON call: request, then osb_bind) ---- */

static osb_err json_call(osb_client *c, const char *kind, box **out, osb_error *berr) {
    osb_http_response r;
    char path[64];
    osb_err e;
    *out = NULL;
    snprintf(path, sizeof path, "/json?kind=%s", kind);
    e = get_path(c, path, &r, NULL);
    if (e) return e;
    e = osb_bind(&box_type, r.body.data, r.body.len, NULL, (void **)out, berr);
    osb_http_response_free(&r);
    return e;
}

/* Row 24: invalid UTF-8 and a lone surrogate are refused. */
TEST(row24_invalid_utf8_json) {
    osb_client *c;
    box *bx;
    osb_error be;
    NEED_SERVER();
    c = client();
    memset(&be, 0, sizeof be);
    CHECK_EQ_INT(json_call(c, "utf8", &bx, &be), OSB_ERR_JSON);
    CHECK(bx == NULL);
    CHECK(be.message[0] != 0);
    {
        osb_err e = json_call(c, "surrogate", &bx, &be);
        /* refused, or replaced by U+FFFD: never invalid UTF-8 handed out */
        CHECK(e == OSB_ERR_JSON || e == OSB_OK);
        if (e == OSB_OK && bx) {
            CHECK_EQ_MEM(bx->id.ptr, bx->id.len, "\xef\xbf\xbd", 3);
            osb_result_free(bx);
        }
    }
    CHECK_EQ_INT(osb_client_pooled(c), 1);   /* the HTTP exchange itself was fine */
    osb_client_free(c);
}

/* Row 25: 100,000 nested arrays: a depth error, no deep recursion. */
TEST(row25_deep_json) {
    osb_client *c;
    box *bx;
    osb_error be;
    NEED_SERVER();
    c = client();
    CHECK_EQ_INT(json_call(c, "deep", &bx, &be), OSB_ERR_JSON);
    CHECK(bx == NULL);
    osb_client_free(c);
}

/* Row 26: numbers beyond int64 and double. */
TEST(row26_huge_numbers) {
    osb_client *c;
    box *bx;
    osb_error be;
    osb_err e;
    NEED_SERVER();
    c = client();
    e = json_call(c, "hugenum", &bx, &be);
    CHECK(e == OSB_ERR_RANGE || e == OSB_ERR_JSON);
    CHECK(bx == NULL);
    e = json_call(c, "negzero", &bx, &be);
    CHECK_EQ_INT(e, OSB_OK);
    if (bx) {
        CHECK_EQ_INT(bx->count, 0);
        osb_result_free(bx);
    }
    osb_client_free(c);
}

/* Row 27: duplicate keys follow one fixed rule; trailing garbage is refused. */
TEST(row27_duplicate_keys_and_trailing_garbage) {
    osb_client *c;
    box *bx, *bx2;
    osb_error be;
    osb_err e;
    NEED_SERVER();
    c = client();
    e = json_call(c, "dup", &bx, &be);
    if (e == OSB_OK) {
        CHECK(bx->id.len == 5 || bx->id.len == 6);   /* "first" or "second" ... */
        CHECK_EQ_INT(json_call(c, "dup", &bx2, &be), OSB_OK);
        if (bx2) {                                   /* ... the same one every time */
            CHECK_EQ_MEM(bx->id.ptr, bx->id.len, bx2->id.ptr, bx2->id.len);
            osb_result_free(bx2);
        }
        osb_result_free(bx);
    } else {
        CHECK_EQ_INT(e, OSB_ERR_JSON);
    }
    CHECK_EQ_INT(json_call(c, "trailing", &bx, &be), OSB_ERR_JSON);
    CHECK(bx == NULL);
    osb_client_free(c);
}

/* ---- E. event streams (osb_request_open + the event-stream tokenizer) ---- */

typedef struct sse_run {
    osb_err transport;      /* first error of osb_body_read, or OSB_OK */
    osb_err tokenizer;      /* the tokenizer's error, or OSB_OK */
    int finish;             /* osb_sse_finish's state (0 if not reached) */
    int nev;
    char ev[8][64];         /* the first bytes of each event's data */
    size_t ev_len[8];
    int64_t elapsed;
} sse_run;

static void run_stream(osb_client *c, const char *query, size_t max_event, sse_run *o) {
    osb_http_request req;
    osb_http_response r;
    osb_body *b = NULL;
    osb_sse s;
    size_t cap = 4096;
    char *buf = (char *)malloc(cap);
    int64_t t0 = osb__now_ms();
    memset(o, 0, sizeof *o);
    memset(&req, 0, sizeof req);
    req.path = "/sse";
    req.query = query;
    req.stream = 1;
    osb_sse_init(&s, buf, cap);
    if (max_event) s.max_event = max_event;
    o->transport = osb_request_open(c, &req, &r, &b);
    while (!o->transport && !o->tokenizer) {
        const void *d;
        size_t n, at = 0;
        o->transport = osb_body_read(b, &d, &n);
        if (o->transport) break;
        if (n == 0) {
            int st = osb_sse_finish(&s);
            while (st == OSB_SSE_EVENT) st = osb_sse_finish(&s);
            o->finish = st;
            if (st == OSB_SSE_ERROR) o->tokenizer = s.err;
            break;
        }
        while (at < n) {
            int st;
            at += osb_sse_push(&s, (const char *)d + at, n - at);
            st = osb_sse_status(&s);
            if (st == OSB_SSE_EVENT) {
                osb_sse_event ev;
                if (osb_sse_event_get(&s, &ev) && o->nev < 8) {
                    o->ev_len[o->nev] = ev.data_len;
                    snprintf(o->ev[o->nev], sizeof o->ev[0], "%.*s", (int)OSB__MIN(ev.data_len, 63), ev.data);
                    o->nev++;
                }
            } else if (st == OSB_SSE_FULL) {
                char *nb = (char *)realloc(buf, cap * 4);
                if (!nb) { o->tokenizer = OSB_ERR_NOMEM; break; }
                buf = nb;
                cap *= 4;
                CHECK_EQ_INT(osb_sse_set_buffer(&s, buf, cap), OSB_OK);
            } else if (st == OSB_SSE_ERROR) {
                o->tokenizer = s.err;
                break;
            }
        }
    }
    osb_body_close(b);
    free(buf);
    o->elapsed = since(t0);
}

/* Row 28: one 8 MiB event is delivered whole below the cap; above the cap
 * it is an error, and the connection is not reused. */
TEST(row28_huge_event) {
    osb_client *c;
    sse_run o;
    NEED_SERVER();
    c = client();
    run_stream(c, "kind=huge", 0, &o);
    CHECK_EQ_INT(o.transport, OSB_OK);
    CHECK_EQ_INT(o.tokenizer, OSB_OK);
    CHECK_EQ_INT(o.nev, 2);
    CHECK_EQ_INT(o.ev_len[0], 8u << 20);
    CHECK_EQ_STR(o.ev[1], "end");
    CHECK_EQ_INT(osb_client_pooled(c), 1);
    run_stream(c, "kind=huge", 1u << 20, &o);
    CHECK_EQ_INT(o.tokenizer, OSB_ERR_TOO_LARGE);
    CHECK_EQ_INT(o.nev, 0);
    CHECK_EQ_INT(osb_client_pooled(c), 0);   /* closed mid-body */
    osb_client_free(c);
}

/* Row 29: CRLF and a UTF-8 character split across segments. */
TEST(row29_split_crlf_and_utf8) {
    osb_client *c;
    sse_run o;
    NEED_SERVER();
    c = client();
    run_stream(c, "kind=crlf-split", 0, &o);
    CHECK_EQ_INT(o.transport, OSB_OK);
    CHECK_EQ_INT(o.nev, 2);
    CHECK_EQ_STR(o.ev[0], "one");
    CHECK_EQ_STR(o.ev[1], "two");
    run_stream(c, "kind=utf8-split", 0, &o);
    CHECK_EQ_INT(o.nev, 2);
    CHECK_EQ_STR(o.ev[0], "a\xc3\xa9\xe2\x82\xac" "b");
    CHECK_EQ_STR(o.ev[1], "two");
    osb_client_free(c);
}

/* Rows 23 and 29 together: an event stream through the one-byte relay. */
TEST(row23_event_stream_one_byte_per_segment) {
    osb_client *c;
    sse_run o;
    NEED_SERVER();
    c = client_on(port_drip, 5000, 5000, 0);
    run_stream(c, "kind=utf8-split", 0, &o);
    CHECK_EQ_INT(o.transport, OSB_OK);
    CHECK_EQ_INT(o.tokenizer, OSB_OK);
    CHECK_EQ_INT(o.nev, 2);
    CHECK_EQ_STR(o.ev[0], "a\xc3\xa9\xe2\x82\xac" "b");
    CHECK_EQ_STR(o.ev[1], "two");
    run_stream(c, "kind=truncated", 0, &o);
    CHECK_EQ_INT(o.nev, 1);
    CHECK_EQ_INT(o.tokenizer, OSB_ERR_TRUNCATED);
    osb_client_free(c);
}

/* Row 30: the stream ends inside an event: that event is never dispatched;
 * a cut connection is a transport error. */
TEST(row30_stream_ends_mid_event) {
    osb_client *c;
    sse_run o;
    NEED_SERVER();
    c = client();
    run_stream(c, "kind=truncated", 0, &o);
    CHECK_EQ_INT(o.transport, OSB_OK);
    CHECK_EQ_INT(o.nev, 1);
    CHECK_EQ_STR(o.ev[0], "whole");
    CHECK_EQ_INT(o.tokenizer, OSB_ERR_TRUNCATED);
    run_stream(c, "kind=cut", 0, &o);
    CHECK_EQ_INT(o.transport, OSB_ERR_TRUNCATED);
    CHECK_EQ_INT(o.nev, 1);
    CHECK_EQ_STR(osb_client_error(c)->request_id, "req-sse");
    CHECK_EQ_INT(osb_client_pooled(c), 0);
    osb_client_free(c);
}

/* Row 31: comments every 0.1 s for 1.2 s keep a 0.4 s idle deadline from
 * firing and never show up as events. */
TEST(row31_heartbeats_reset_the_idle_timer) {
    osb_client *c;
    sse_run o;
    NEED_SERVER();
    c = client_on(port_main, 2000, 400, 300);   /* the total deadline never applies to streams */
    run_stream(c, "kind=heartbeat", 0, &o);
    CHECK_EQ_INT(o.transport, OSB_OK);
    CHECK_EQ_INT(o.tokenizer, OSB_OK);
    CHECK_EQ_INT(o.nev, 1);
    CHECK_EQ_STR(o.ev[0], "after pings");
    CHECK(o.elapsed >= 1000);
    osb_client_free(c);
}

/* ---- F. status codes ---- */

/* Rows 32 and 33 for the raw request API, which never retries: the 429 and
 * 503 come back at once with Retry-After parsed (and capped) and the
 * retryable flag set; nothing sleeps on a hostile Retry-After. */
TEST(row32_33_retry_after_reported_not_slept) {
    osb_client *c;
    osb_http_response r;
    osb_http_request req;
    int64_t t0;
    NEED_SERVER();
    c = client();
    t0 = osb__now_ms();
    CHECK_EQ_INT(get_path(c, "/429", &r, NULL), OSB_ERR_HTTP);
    CHECK_EQ_INT(osb_client_error(c)->http_status, 429);
    CHECK_EQ_INT(osb_client_error(c)->retry_after_ms, 1000);
    CHECK_EQ_INT(osb_client_error(c)->retryable, 1);
    CHECK_EQ_INT(osb_client_error(c)->attempts, 1);
    CHECK_EQ_STR(osb_client_error(c)->request_id, "req-429");
    CHECK(osb_error_is_rate_limited(osb_client_error(c)));
    CHECK_EQ_INT(get_path(c, "/retry-after-huge", &r, NULL), OSB_ERR_HTTP);
    CHECK(osb_client_error(c)->retry_after_ms > 0);
    CHECK(osb_client_error(c)->retry_after_ms <= (int64_t)86400 * 365 * 1000);   /* no overflow */
    CHECK_EQ_INT(get_path(c, "/retry-after-date", &r, NULL), OSB_ERR_HTTP);
    CHECK(osb_client_error(c)->retry_after_ms > (int64_t)86400 * 1000);
    memset(&req, 0, sizeof req);
    req.method = "POST";
    req.path = "/retry-after-huge";
    req.body = "{}";
    req.body_len = 2;
    CHECK_EQ_INT(osb_request_raw(c, &req, &r), OSB_ERR_HTTP);
    CHECK_EQ_INT(osb_client_error(c)->attempts, 1);
    CHECK_EQ_INT(osb_client_error(c)->http_status, 503);
    CHECK(since(t0) < 1000);
    osb_client_free(c);
}

/* Row 34: JSON errors with code, message and request id; an HTML 502 gives
 * a capped, cleaned snippet. */
TEST(row34_error_statuses) {
    static const int codes[] = {401, 404, 409};
    osb_client *c;
    osb_http_response r;
    size_t i;
    NEED_SERVER();
    c = client();
    for (i = 0; i < 3; i++) {
        char path[64], want[32];
        const osb_error *er;
        snprintf(path, sizeof path, "/status?code=%d", codes[i]);
        CHECK_EQ_INT(get_path(c, path, &r, NULL), OSB_ERR_HTTP);
        er = osb_client_error(c);
        CHECK_EQ_INT(er->http_status, codes[i]);
        snprintf(want, sizeof want, "E_%d", codes[i]);
        CHECK_EQ_STR(er->server_code, want);
        snprintf(want, sizeof want, "req-%d", codes[i]);
        CHECK_EQ_STR(er->request_id, want);
        CHECK_EQ_INT(er->retryable, 0);
        CHECK_EQ_INT(er->attempts, 1);
        CHECK_EQ_INT(r.body.len, 0);
    }
    CHECK(osb_error_is_conflict(osb_client_error(c)));
    CHECK_EQ_INT(get_path(c, "/502-html", &r, NULL), OSB_ERR_HTTP);
    {
        const osb_error *er = osb_client_error(c);
        size_t k, n = strlen(er->message);
        CHECK_EQ_INT(er->http_status, 502);
        CHECK_EQ_STR(er->request_id, "req-502");
        CHECK_EQ_STR(er->server_code, "");
        CHECK(strstr(er->message, "<title>502") != NULL);
        CHECK(n < sizeof er->message);
        for (k = 0; k < n; k++) CHECK((unsigned char)er->message[k] >= 0x20);
        CHECK_EQ_INT(er->retryable, 1);
    }
    /* whether the rest of the body was still unread (connection closed) or
       already buffered whole (connection clean), the next call works */
    CHECK_EQ_INT(get_path(c, "/echo", &r, NULL), OSB_OK);
    osb_http_response_free(&r);
    osb_client_free(c);
}

TEST(zz_stop_server) {
    if (server_state > 0) testproc_stop(&server);
    server_state = 0;
}

int main(int argc, char **argv) {
    snprintf(self_path, sizeof self_path, "%s", argv[0]);
    if (self_path[0] != '/') {
        char cwd[256];
        if (getcwd(cwd, sizeof cwd)) snprintf(self_path, sizeof self_path, "%s/%s", cwd, argv[0]);
    }
    if (argc == 3 && strcmp(argv[1], "--child") == 0) {
        if (strcmp(argv[2], "dns-timeout") == 0) return child_dns_timeout();
        if (strcmp(argv[2], "syn-blackhole") == 0) return child_syn_blackhole();
        if (strcmp(argv[2], "midstream-nft") == 0) return child_midstream_nft();
        if (strcmp(argv[2], "slow-link") == 0) return child_slow_link();
        return 2;
    }
    return testlib_main(argc, argv);
}
