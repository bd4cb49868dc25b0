/* Allocation-failure torture: each representative flow runs once with an
 * allocator that counts its allocations (N), then once for every n in 1..N
 * with the n-th allocation failing. Every run must end in OSB_OK or
 * OSB_ERR_NOMEM (never another code, never a crash), and give back every
 * byte it took: the allocator counts live blocks and checks that realloc and
 * free get the sizes and pointers it handed out.
 *
 * Flows: a JSON call (request + osb_bind), a chunked stream read with
 * osb_request_open/osb_body_read and a second request on the pooled
 * connection, uploads from a body reader (chunked and with a length), a
 * download into a sink, a JSON error response, a head that outgrows the
 * receive buffer, a typed lifecycle call (osb_sandbox_get), and (built with -DOSB_TEST_TLS=1 -lbearssl) a TLS handshake
 * and request against tests/tls/server.py.
 *
 * The server is tests/servers/faults.py. The closing lines name the
 * allocation points covered per flow. */
#define _DEFAULT_SOURCE
#ifndef OSB_TEST_TLS
#  define OSB_TEST_TLS 0
#endif
#if OSB_TEST_TLS
#  define OSB_TLS 1
#endif
#define OPENSANDBOX_IMPLEMENTATION
#include "../opensandbox.h"
#include "testlib.h"
#include "testproc.h"
#include <sys/wait.h>

/* ---- the counting, failing allocator ---- */

typedef struct torture {
    long calls;        /* allocation calls (alloc, and realloc that grows or moves) */
    long fail_at;      /* 0 = never; else the call number that returns NULL */
    long failed;       /* how many calls returned NULL */
    long live;         /* blocks not yet freed */
    long bad;          /* a size or pointer the allocator did not hand out */
} torture;

#define MAGIC 0x6f73625f616c6c63ull   /* "osb_allc" */
typedef struct blk { uint64_t magic; size_t size; } blk;   /* 16 bytes before each block */

static int should_fail(torture *t) {
    t->calls++;
    if (t->fail_at && t->calls == t->fail_at) {
        t->failed++;
        return 1;
    }
    return 0;
}

static void *t_alloc(void *ctx, size_t size) {
    torture *t = (torture *)ctx;
    blk *b;
    if (should_fail(t)) return NULL;
    b = (blk *)malloc(sizeof(blk) + size);
    if (!b) return NULL;
    b->magic = MAGIC;
    b->size = size;
    t->live++;
    return b + 1;
}

static void *t_realloc(void *ctx, void *p, size_t old_size, size_t new_size) {
    torture *t = (torture *)ctx;
    blk *b, *nb;
    if (!p) return t_alloc(ctx, new_size);
    b = (blk *)p - 1;
    if (b->magic != MAGIC || b->size != old_size) t->bad++;
    if (should_fail(t)) return NULL;
    nb = (blk *)realloc(b, sizeof(blk) + new_size);
    if (!nb) return NULL;
    nb->size = new_size;
    return nb + 1;
}

static void t_free(void *ctx, void *p) {
    torture *t = (torture *)ctx;
    blk *b;
    if (!p) return;
    b = (blk *)p - 1;
    if (b->magic != MAGIC) { t->bad++; return; }
    b->magic = 0;
    t->live--;
    free(b);
}

/* ---- the server ---- */

static testproc server;
static int server_state;
static char domain[64];

static int start_server(void) {
    static const char *const argv[] = {"python3", "tests/servers/faults.py", "--lifetime", "240", NULL};
    const char *p;
    if (server_state) return server_state > 0;
    server_state = -1;
    if (testproc_start(&server, argv) != 0) return 0;
    p = strstr(server.ready, "\"port\": ");
    if (!p) return 0;
    snprintf(domain, sizeof domain, "127.0.0.1:%d", atoi(p + 8));
    server_state = 1;
    return 1;
}

/* ---- flows: each returns the first failure, or OSB_OK ---- */

typedef osb_err (*flow_fn)(const osb_allocator *a);

static osb_err new_client(const osb_allocator *a, const char *dom, osb_client **c) {
    osb_client_config cfg;
    static const char *const extra[] = {"X-Extra-One: 1", "X-Extra-Two: 2", NULL};
    memset(&cfg, 0, sizeof cfg);
    cfg.domain = dom;
    cfg.api_key = "alloc-key";
    cfg.headers = extra;
    cfg.allocator = a;
    cfg.timeouts.first_byte_ms = 5000;
    cfg.timeouts.idle_ms = 5000;
    return osb_client_new(&cfg, c);
}

static osb_err get(osb_client *c, const char *path, const char *query, osb_http_response *r,
                   osb_write_fn sink, void *user) {
    osb_http_request req;
    memset(&req, 0, sizeof req);
    req.path = path;
    req.query = query;
    req.sink = sink;
    req.sink_user = user;
    return osb_request_raw(c, &req, r);
}

typedef struct box { osb_str id; int64_t count; osb_str *tags; size_t ntags; } box;
static const osb_field box_fields[] = {
    OSB_FIELD_STR(box, id, "id"),
    OSB_FIELD_I64(box, count, "count"),
    OSB_FIELD_ARRAY(box, tags, ntags, "tags", OSB_KIND_STR),
};
static const osb_type box_type = OSB_TYPE(box, box_fields);

static osb_err flow_json_call(const osb_allocator *a) {
    osb_client *c = NULL;
    osb_http_response r;
    box *bx = NULL;
    osb_err e = new_client(a, domain, &c);
    if (e) return e;
    e = get(c, "/json", "kind=ok", &r, NULL, NULL);
    if (!e) {
        e = osb_bind(&box_type, r.body.data, r.body.len, a, (void **)&bx, NULL);
        if (!e) {
            CHECK_EQ_INT(bx->count, 3);
            CHECK_EQ_INT(bx->ntags, 2);
            osb_result_free(bx);
        }
        osb_http_response_free(&r);
    }
    osb_client_free(c);
    return e;
}

static osb_err read_stream(osb_client *c, const char *query, uint64_t want) {
    osb_http_request req;
    osb_http_response r;
    osb_body *b = NULL;
    uint64_t n = 0;
    osb_err e;
    memset(&req, 0, sizeof req);
    req.path = "/chunkedbytes";
    req.query = query;
    req.stream = 1;
    e = osb_request_open(c, &req, &r, &b);
    if (e) return e;
    for (;;) {
        const void *d;
        size_t len;
        e = osb_body_read(b, &d, &len);
        if (e || len == 0) break;
        n += len;
    }
    osb_body_close(b);
    osb_http_response_free(&r);
    if (!e) CHECK_EQ_INT(n, want);
    return e;
}

static osb_err flow_stream(const osb_allocator *a) {
    osb_client *c = NULL;
    osb_err e = new_client(a, domain, &c);
    if (e) return e;
    e = read_stream(c, "n=100000&c=999", 100000);
    if (!e) e = read_stream(c, "n=5000&c=100", 5000);   /* on the pooled connection */
    osb_client_free(c);
    return e;
}

typedef struct gen { size_t left; unsigned sum; } gen;
static ptrdiff_t gen_read(void *user, void *buf, size_t cap) {
    gen *g = (gen *)user;
    size_t n = cap < g->left ? cap : g->left, i;
    for (i = 0; i < n; i++) ((unsigned char *)buf)[i] = (unsigned char)(i * 7);
    for (i = 0; i < n; i++) g->sum += (unsigned char)(i * 7);
    g->left -= n;
    return (ptrdiff_t)n;
}

static osb_err upload(osb_client *c, int64_t len_field, size_t size) {
    osb_http_request req;
    osb_http_response r;
    gen g;
    osb_err e;
    char want[64];
    memset(&req, 0, sizeof req);
    memset(&g, 0, sizeof g);
    g.left = size;
    req.method = "POST";
    req.path = "/upload";
    req.content_type = "application/octet-stream";
    req.body_reader = gen_read;
    req.body_reader_user = &g;
    req.body_reader_len = len_field;
    e = osb_request_raw(c, &req, &r);
    if (e) return e;
    snprintf(want, sizeof want, "{\"count\":%lu,", (unsigned long)size);
    CHECK(r.body.data && strncmp(r.body.data, want, strlen(want)) == 0);
    osb_http_response_free(&r);
    return OSB_OK;
}

static osb_err flow_upload(const osb_allocator *a) {
    osb_client *c = NULL;
    osb_err e = new_client(a, domain, &c);
    if (e) return e;
    e = upload(c, -1, 70000);              /* chunked */
    if (!e) e = upload(c, 70000, 70000);   /* Content-Length */
    osb_client_free(c);
    return e;
}

typedef struct count_sink { uint64_t n; int bad; } count_sink;
static int count_write(void *user, const void *data, size_t len) {
    count_sink *s = (count_sink *)user;
    const unsigned char *p = (const unsigned char *)data;
    size_t i;
    for (i = 0; i < len; i++)
        if (p[i] != (unsigned char)((s->n + i) & 0xff)) s->bad = 1;
    s->n += len;
    return 0;
}

static osb_err flow_download(const osb_allocator *a) {
    osb_client *c = NULL;
    osb_http_response r;
    count_sink s;
    osb_err e = new_client(a, domain, &c);
    if (e) return e;
    memset(&s, 0, sizeof s);
    e = get(c, "/bytes", "n=300000", &r, count_write, &s);
    if (!e) {
        CHECK_EQ_INT(s.n, 300000);
        CHECK(!s.bad);
        osb_http_response_free(&r);
    }
    osb_client_free(c);
    return e;
}

/* An error status: the detail is filled from the JSON body. OSB_ERR_HTTP is
 * the success of this flow. */
static osb_err flow_error_response(const osb_allocator *a) {
    osb_client *c = NULL;
    osb_http_response r;
    osb_err e = new_client(a, domain, &c);
    if (e) return e;
    e = get(c, "/status", "code=404", &r, NULL, NULL);
    if (e == OSB_ERR_HTTP) {
        CHECK_EQ_STR(osb_client_error(c)->server_code, "E_404");
        e = OSB_OK;
    }
    osb_client_free(c);
    return e;
}

/* A 40 KB head: the receive buffer has to grow. */
static osb_err flow_big_head(const osb_allocator *a) {
    osb_client *c = NULL;
    osb_http_response r;
    osb_err e = new_client(a, domain, &c);
    if (e) return e;
    e = get(c, "/bigheaders", NULL, &r, NULL, NULL);
    if (!e) {
        CHECK_EQ_STR(r.body.data, "big");
        osb_http_response_free(&r);
    }
    osb_client_free(c);
    return e;
}

/* A typed lifecycle call: path building, the call machinery, the result. */
static osb_err flow_typed_call(const osb_allocator *a) {
    osb_client *c = NULL;
    osb_sandbox_info *info = NULL;
    osb_err e = new_client(a, domain, &c);
    if (e) return e;
    e = osb_sandbox_get(c, "sbx-ok", &info);
    if (!e) {
        CHECK_EQ_MEM(info->id.ptr, info->id.len, "sbx-ok", 6);
        CHECK_EQ_INT(info->metadata_count, 2);
        CHECK_EQ_INT(info->entrypoint_count, 2);
        osb_result_free(info);
    }
    osb_client_free(c);
    return e;
}

/* Runs one flow without failures, then with each allocation failing in
 * turn. Returns the number of allocation points. */
static long torture_flow(const char *name, flow_fn fn) {
    torture t;
    osb_allocator a;
    long n, total, nomem = 0, ok = 0;
    osb_err e;
    memset(&t, 0, sizeof t);
    a.alloc = t_alloc;
    a.realloc = t_realloc;
    a.free = t_free;
    a.ctx = &t;
    e = fn(&a);
    CHECK_EQ_INT(e, OSB_OK);
    CHECK_EQ_INT(t.live, 0);
    CHECK_EQ_INT(t.bad, 0);
    total = t.calls;
    for (n = 1; n <= total; n++) {
        memset(&t, 0, sizeof t);
        t.fail_at = n;
        e = fn(&a);
        if (e != OSB_OK && e != OSB_ERR_NOMEM)
            fprintf(stderr, "  %s: allocation %ld failing gave %s\n", name, n, osb_strerror(e));
        CHECK(e == OSB_OK || e == OSB_ERR_NOMEM);
        if (t.live != 0) fprintf(stderr, "  %s: allocation %ld failing leaked %ld blocks\n", name, n, t.live);
        CHECK_EQ_INT(t.live, 0);
        CHECK_EQ_INT(t.bad, 0);
        if (e == OSB_ERR_NOMEM) nomem++;
        else ok++;
    }
    fprintf(stderr, "  %s: %ld allocation points, %ld runs ended in OSB_ERR_NOMEM, %ld recovered\n",
            name, total, nomem, ok);
    printf("alloc-points %s %ld\n", name, total);
    return total;
}

#define NEED_SERVER() do { if (!start_server()) { CHECK(!"tests/servers/faults.py did not start"); return; } } while (0)

TEST(torture_json_call) { NEED_SERVER(); CHECK(torture_flow("json-call", flow_json_call) > 5); }
TEST(torture_stream) { NEED_SERVER(); CHECK(torture_flow("stream", flow_stream) > 3); }
TEST(torture_upload) { NEED_SERVER(); CHECK(torture_flow("upload", flow_upload) > 3); }
TEST(torture_download) { NEED_SERVER(); CHECK(torture_flow("download", flow_download) > 3); }
TEST(torture_error_response) { NEED_SERVER(); CHECK(torture_flow("error-response", flow_error_response) > 3); }
TEST(torture_typed_call) { NEED_SERVER(); CHECK(torture_flow("typed-call", flow_typed_call) > 5); }
TEST(torture_big_head) { NEED_SERVER(); CHECK(torture_flow("big-head", flow_big_head) > 4); }

/* A client that fails to be made leaves nothing behind, whatever fails. */
static osb_err flow_client_only(const osb_allocator *a) {
    osb_client *c = NULL;
    osb_err e = new_client(a, "127.0.0.1:1", &c);
    if (!e) {
        CHECK(c != NULL);
        osb_client_free(c);
    } else {
        CHECK(c == NULL);
    }
    return e;
}
TEST(torture_client_new) { CHECK(torture_flow("client-new", flow_client_only) > 3); }

#if OSB_TEST_TLS
/* ---- TLS: handshake + one request against tests/tls/server.py ---- */
#define CERTS "build/tls-certs"
static pid_t tls_pid;
static char tls_domain[64];
static char *tls_ca;

static int tls_start(void) {
    int fds[2], port = 0;
    char line[64];
    size_t have = 0;
    ssize_t n;
    if (tls_pid) return 1;
    if (system("sh tests/tls/make-certs.sh " CERTS " >/dev/null 2>&1") != 0) return 0;
    if (pipe(fds) != 0) return 0;
    tls_pid = fork();
    if (tls_pid == 0) {
        dup2(fds[1], 1);
        close(fds[0]);
        close(fds[1]);
        execlp("python3", "python3", "tests/tls/server.py", "--cert", CERTS "/good.pem", "--key",
               CERTS "/good.key", "--mode", "http", "--host", "127.0.0.1", "--lifetime", "120", (char *)NULL);
        _exit(127);
    }
    close(fds[1]);
    while (have < sizeof line - 1 && (n = read(fds[0], line + have, 1)) == 1 && line[have] != '\n') have++;
    line[have] = 0;
    close(fds[0]);
    if (sscanf(line, "PORT %d", &port) != 1) return 0;
    snprintf(tls_domain, sizeof tls_domain, "https://localhost:%d", port);
    return 1;
}

static osb_err flow_tls(const osb_allocator *a) {
    osb_client_config cfg;
    osb_client *c = NULL;
    osb_http_response r;
    osb_err e;
    memset(&cfg, 0, sizeof cfg);
    cfg.domain = tls_domain;
    cfg.allocator = a;
    cfg.tls.ca_file = CERTS "/ca.pem";
    e = osb_client_new(&cfg, &c);
    if (e) return e;
    e = get(c, "/hello", NULL, &r, NULL, NULL);
    if (!e) {
        CHECK_EQ_STR(r.body.data, "hello");
        osb_http_response_free(&r);
        e = get(c, "/hello", NULL, &r, NULL, NULL);   /* the pooled TLS connection */
        if (!e) osb_http_response_free(&r);
    }
    osb_client_free(c);
    return e;
}

TEST(torture_tls) {
    (void)tls_ca;
    if (!tls_start()) { CHECK(!"tests/tls/server.py did not start"); return; }
    CHECK(torture_flow("tls", flow_tls) > 3);
}
TEST(zz_stop_tls) {
    if (tls_pid > 0) { kill(tls_pid, SIGTERM); waitpid(tls_pid, NULL, 0); tls_pid = 0; }
}
#else
TEST(torture_tls) {
    SKIP("TLS flow not built: build with -DOSB_TEST_TLS=1 -lbearssl (needs LDLIBS_test_alloc)");
}
#endif

TEST(zz_stop_server) {
    if (server_state > 0) testproc_stop(&server);
    server_state = 0;
}

int main(int argc, char **argv) { return testlib_main(argc, argv); }
