/* Transport tests: the head parser and chunked decoder fed whole, byte by
 * byte and at every split point; URLs; then real exchanges against the
 * scripted server tests/servers/httpfault.py on 127.0.0.1. */
#define _DEFAULT_SOURCE /* MAP_ANONYMOUS, usleep */
#define OPENSANDBOX_IMPLEMENTATION
#include "../opensandbox.h"
#include "testlib.h"
#include "testproc.h"
#include <sys/mman.h>

/* ---- head parser ---- */

static int parse(const char *s, size_t len, osb_http_head *h, osb_http_header *f, size_t nf) {
    h->headers = f;
    h->num_headers = nf;
    return osb_http_parse_response(s, len, h);
}

TEST(head_parses_whole_and_every_prefix) {
    static const char resp[] =
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nX-Empty:\r\n"
        "X-Spaces:   padded value  \r\n\r\nBODY";
    size_t headlen = sizeof resp - 1 - 4, i;
    osb_http_header f[8];
    osb_http_head h;
    CHECK_EQ_INT(parse(resp, sizeof resp - 1, &h, f, 8), headlen);
    CHECK_EQ_INT(h.status, 200);
    CHECK_EQ_INT(h.minor_version, 1);
    CHECK_EQ_MEM(h.reason.ptr, h.reason.len, "OK", 2);
    CHECK_EQ_INT(h.num_headers, 3);
    CHECK_EQ_MEM(f[0].name.ptr, f[0].name.len, "Content-Type", 12);
    CHECK_EQ_MEM(f[0].value.ptr, f[0].value.len, "application/json", 16);
    CHECK_EQ_INT(f[1].value.len, 0);
    CHECK_EQ_MEM(f[2].value.ptr, f[2].value.len, "padded value", 12);
    for (i = 0; i < headlen; i++) CHECK_EQ_INT(parse(resp, i, &h, f, 8), OSB_HTTP_INCOMPLETE);
    CHECK_EQ_INT(parse(resp, headlen, &h, f, 8), headlen);
}

TEST(head_rejects_malformed) {
    static const char *const bad[] = {
        "HTTP/1.1 200 OK\nContent-Length: 0\r\n\r\n",     /* bare LF */
        "HTTP/1.1 200 OK\r\nA: b\r\n c\r\n\r\n",           /* obs-fold */
        "HTTP/1.1 200 OK\r\nA : b\r\n\r\n",                /* space before colon */
        "HTTP/1.1 2000 OK\r\n\r\n",                        /* four-digit status */
        "HTTP/1.1 099 OK\r\n\r\n",
        "HTTP/2.0 200 OK\r\n\r\n",
        "hello world\r\n\r\n",                             /* HTTP/0.9 */
        "HTTP/1.1 200 OK\r\nA: b\rc\r\n\r\n",              /* bare CR */
        "HTTP/1.1 200 OK\r\nA: b\x01\r\n\r\n",             /* control character */
        "HTTP/1.1 200 OK\r\n: novalue\r\n\r\n",            /* empty name */
        "HTTP/1.1 200 OK\r\nA\r\n\r\n",                    /* no colon */
        "HTTP/1.1 20x OK\r\n\r\n",
    };
    size_t i;
    for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        osb_http_header f[8];
        osb_http_head h;
        int r = parse(bad[i], strlen(bad[i]), &h, f, 8);
        if (r != OSB_HTTP_MALFORMED) fprintf(stderr, "  case %zu gave %d\n", i, r);
        CHECK_EQ_INT(r, OSB_HTTP_MALFORMED);
    }
}

TEST(head_limits) {
    static char big[OSB_HTTP_MAX_LINE + 64];
    osb_http_header f[4];
    osb_http_head h;
    char many[4096];
    size_t n = 0;
    int i;
    memcpy(big, "HTTP/1.1 200 OK\r\nX: ", 20);
    memset(big + 20, 'a', sizeof big - 20);
    CHECK_EQ_INT(parse(big, sizeof big, &h, f, 4), OSB_HTTP_TOO_LARGE);
    n = (size_t)sprintf(many, "HTTP/1.1 200 OK\r\n");
    for (i = 0; i < 5; i++) n += (size_t)sprintf(many + n, "X-%d: v\r\n", i);
    n += (size_t)sprintf(many + n, "\r\n");
    CHECK_EQ_INT(parse(many, n, &h, f, 4), OSB_HTTP_TOO_LARGE);   /* 5 fields, room for 4 */
    CHECK_EQ_INT(parse("HTTP/1.1 204\r\n\r\n", 16, &h, f, 4), 16); /* no reason phrase */
    CHECK_EQ_INT(h.status, 204);
}

/* A head that ends exactly at a PROT_NONE page: any over-read faults. */
TEST(head_guard_page) {
    static const char resp[] = "HTTP/1.1 200 OK\r\nA: b\r\n\r\n";
    long pg = sysconf(_SC_PAGESIZE);
    char *m = (char *)mmap(NULL, (size_t)pg * 2, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    size_t n = sizeof resp - 1, i;
    osb_http_header f[4];
    osb_http_head h;
    CHECK(m != MAP_FAILED);
    if (m == MAP_FAILED) return;
    mprotect(m + pg, (size_t)pg, PROT_NONE);
    for (i = 0; i <= n; i++) {
        char *p = m + pg - i;
        memcpy(p, resp, i);
        CHECK_EQ_INT(parse(p, i, &h, f, 4), i == n ? (int)n : OSB_HTTP_INCOMPLETE);
    }
    munmap(m, (size_t)pg * 2);
}

/* ---- chunked decoder ---- */

/* Decodes input fed in pieces of at most 'step' bytes (0 = split once at
 * 'split'); returns the result code and the decoded bytes. */
static ptrdiff_t dechunk(const char *in, size_t len, size_t step, size_t split, char *out, size_t *outlen,
                         int *done) {
    osb_chunked d;
    size_t pos = 0;
    memset(&d, 0, sizeof d);
    *outlen = 0;
    while (pos < len && !d.done) {
        size_t end = step ? OSB__MIN(len, pos + step) : (pos < split ? split : len);
        while (pos < end && !d.done) {
            const char *data;
            size_t dl;
            ptrdiff_t r = osb_chunked_feed(&d, in + pos, end - pos, &data, &dl);
            if (r < 0) return r;
            if (dl) memcpy(out + *outlen, data, dl);
            *outlen += dl;
            pos += (size_t)r;
            if (r == 0 && dl == 0) break;
        }
    }
    *done = d.done;
    return (ptrdiff_t)pos;
}

TEST(chunked_every_split) {
    static const char in[] = "5\r\nhello\r\n1;name=value\r\n \r\nA\r\n0123456789\r\n0\r\nTrailer: x\r\n\r\nNEXT";
    size_t len = sizeof in - 1 - 4, i, n;
    char out[64];
    int done;
    CHECK_EQ_INT(dechunk(in, sizeof in - 1, 0, 0, out, &n, &done), len);
    CHECK(done);
    CHECK_EQ_MEM(out, n, "hello 0123456789", 16);
    for (i = 1; i < len; i++) {
        CHECK_EQ_INT(dechunk(in, len, 0, i, out, &n, &done), len);
        CHECK(done);
        CHECK_EQ_MEM(out, n, "hello 0123456789", 16);
    }
    CHECK_EQ_INT(dechunk(in, len, 1, 0, out, &n, &done), len);
    CHECK(done);
    CHECK_EQ_MEM(out, n, "hello 0123456789", 16);
    /* not done without the final empty line */
    CHECK_EQ_INT(dechunk(in, len - 2, 1, 0, out, &n, &done), len - 2);
    CHECK(!done);
}

TEST(chunked_rejects) {
    static const struct { const char *in; ptrdiff_t want; } cases[] = {
        {"zz\r\nhello\r\n0\r\n\r\n", OSB_HTTP_MALFORMED},
        {"5\nhello\r\n0\r\n\r\n", OSB_HTTP_MALFORMED},            /* bare LF after the size */
        {"5\r\nhelloX\r\n0\r\n\r\n", OSB_HTTP_MALFORMED},         /* no CRLF after the data */
        {"10000000000000000\r\n", OSB_HTTP_TOO_LARGE},            /* 17 hex digits */
        {"\r\n", OSB_HTTP_MALFORMED},                             /* no digits */
        {" 5\r\nhello\r\n", OSB_HTTP_MALFORMED},
        {"0\r\nA: b\n\r\n", OSB_HTTP_MALFORMED},                  /* bare LF in a trailer */
    };
    size_t i, n;
    char out[64];
    int done;
    for (i = 0; i < sizeof cases / sizeof cases[0]; i++)
        CHECK_EQ_INT(dechunk(cases[i].in, strlen(cases[i].in), 0, 0, out, &n, &done), cases[i].want);
    {
        static char ext[OSB_HTTP_MAX_CHUNK_LINE + 16];
        memset(ext, 'x', sizeof ext);
        memcpy(ext, "5;", 2);
        CHECK_EQ_INT(dechunk(ext, sizeof ext, 0, 0, out, &n, &done), OSB_HTTP_TOO_LARGE);
    }
}

/* The size line after a chunk's data is taken whole when a read holds it
 * (osb__chunked_next) and byte by byte otherwise: each input decodes the
 * same both ways, with the same error where there is one. */
TEST(chunked_size_lines_whole_and_by_bytes) {
    static const struct { const char *in; ptrdiff_t want; const char *out; } cases[] = {
        {"1\r\na\r\n3\r\nbcd\r\n0\r\n\r\n", 0, "abcd"},
        {"1\r\na\r\n0003\r\nbcd\r\n0\r\n\r\n", 0, "abcd"},                         /* leading zeros */
        {"1\r\na\r\n00000000000000B\r\nbcdefghijkl\r\n0\r\n\r\n", 0, "abcdefghijkl"},  /* 15 digits */
        {"1\r\na\r\n000000000000000B\r\nbcdefghijkl\r\n0\r\n\r\n", OSB_HTTP_TOO_LARGE, NULL},   /* 16 */
        {"1\r\na\r\nb\r\nbcdefghijkl\r\n0\r\n\r\n", 0, "abcdefghijkl"},               /* lower case */
        {"1\r\na\r\n3;ext=1\r\nbcd\r\n0\r\n\r\n", 0, "abcd"},
        {"1\r\na\r\n3 \r\nbcd\r\n0\r\n\r\n", 0, "abcd"},
        {"1\r\na\r\n0\r\nT: v\r\n\r\n", 0, "a"},
        {"1\r\na\r\n00\r\n\r\n", 0, "a"},
        {"1\r\na\r\n3\nbcd\r\n0\r\n\r\n", OSB_HTTP_MALFORMED, NULL},
        {"1\r\na\r\n3\rXbcd\r\n0\r\n\r\n", OSB_HTTP_MALFORMED, NULL},
        {"1\r\na\r\n\r\nbcd\r\n0\r\n\r\n", OSB_HTTP_MALFORMED, NULL},
        {"1\r\na\r\nG\r\nbcd\r\n0\r\n\r\n", OSB_HTTP_MALFORMED, NULL},
        {"1\r\na\n3\r\nbcd\r\n0\r\n\r\n", OSB_HTTP_MALFORMED, NULL},
        {"1\r\naX\r\n3\r\nbcd\r\n0\r\n\r\n", OSB_HTTP_MALFORMED, NULL},
        {"1\r\na\r\n3\r\nbcd\r\n2\r\nef\r\n1\r\ng\r\n0\r\n\r\n", 0, "abcdefg"},
    };
    size_t i, step, n;
    char out[64];
    int done;
    for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        size_t len = strlen(cases[i].in);
        for (step = 0; step < 8; step++) {
            ptrdiff_t r = dechunk(cases[i].in, len, step, 0, out, &n, &done);
            if (cases[i].out) {
                CHECK_EQ_INT(r, (ptrdiff_t)len);
                CHECK(done);
                CHECK_EQ_MEM(out, n, cases[i].out, strlen(cases[i].out));
            } else {
                CHECK_EQ_INT(r, cases[i].want);
            }
        }
    }
}

/* ---- URLs ---- */

TEST(url_parse) {
    osb_url u;
    CHECK_EQ_INT(osb_url_parse("127.0.0.1:8080", 0, &u), OSB_OK);
    CHECK_EQ_STR(u.host, "127.0.0.1");
    CHECK_EQ_INT(u.port, 8080);
    CHECK_EQ_INT(u.https, 0);
    CHECK_EQ_STR(u.prefix, "");
    CHECK_EQ_INT(osb_url_parse("https://example.com/api/v1/", 0, &u), OSB_OK);
    CHECK_EQ_INT(u.https, 1);
    CHECK_EQ_INT(u.port, 443);
    CHECK_EQ_STR(u.prefix, "/api/v1");
    CHECK_EQ_INT(osb_url_parse("http://[::1]:44772/proxy/44772", 1, &u), OSB_OK);
    CHECK_EQ_STR(u.host, "::1");
    CHECK_EQ_INT(u.port, 44772);
    CHECK_EQ_STR(u.prefix, "/proxy/44772");
    CHECK_EQ_INT(osb_url_parse("example.com", 1, &u), OSB_OK);
    CHECK_EQ_INT(u.https, 1);
    CHECK_EQ_INT(osb_url_parse("ftp://x", 0, &u), OSB_ERR_INVALID_ARG);
    CHECK_EQ_INT(osb_url_parse("http://user:pw@x", 0, &u), OSB_ERR_INVALID_ARG);
    CHECK_EQ_INT(osb_url_parse("http://x:0", 0, &u), OSB_ERR_INVALID_ARG);
    CHECK_EQ_INT(osb_url_parse("http://x:65536", 0, &u), OSB_ERR_INVALID_ARG);
    CHECK_EQ_INT(osb_url_parse("http://x:80a", 0, &u), OSB_ERR_INVALID_ARG);
    CHECK_EQ_INT(osb_url_parse("http://x/a b", 0, &u), OSB_ERR_INVALID_ARG);
    CHECK_EQ_INT(osb_url_parse("http://x/a?q", 0, &u), OSB_ERR_INVALID_ARG);
    CHECK_EQ_INT(osb_url_parse("http://[::1", 0, &u), OSB_ERR_INVALID_ARG);
    CHECK_EQ_INT(osb_url_parse("", 0, &u), OSB_ERR_INVALID_ARG);
}

/* ---- exchanges with the scripted server ---- */

static testproc server;
static char base[64];
static int server_ok;

static int start_server(void) {
    static const char *const argv[] = {"python3", "tests/servers/httpfault.py", "--lifetime", "300", NULL};
    if (server_ok) return 1;
    if (testproc_start(&server, argv) != 0) return 0;
    snprintf(base, sizeof base, "127.0.0.1:%d", atoi(server.ready));
    server_ok = 1;
    return 1;
}

static osb_client *client_with(int first_byte_ms, int idle_ms, int total_ms) {
    osb_client_config cfg;
    osb_client *c = NULL;
    memset(&cfg, 0, sizeof cfg);
    cfg.domain = base;
    cfg.api_key = "sekret-key-123";
    cfg.timeouts.first_byte_ms = first_byte_ms;
    cfg.timeouts.idle_ms = idle_ms;
    cfg.timeouts.total_ms = total_ms;
    if (osb_client_new(&cfg, &c) != OSB_OK) return NULL;
    return c;
}

static osb_client *client(void) { return client_with(0, 0, 0); }

/* GET path, where "?..." in path is sent as the query. */
static osb_err get_into(osb_client *c, const char *path, osb_http_response *res, osb_write_fn sink,
                        void *sink_user) {
    osb_http_request req;
    char p[256];
    char *q;
    snprintf(p, sizeof p, "%s", path);
    memset(&req, 0, sizeof req);
    q = strchr(p, '?');
    if (q) {
        *q = 0;
        req.query = q + 1;
    }
    req.path = p;
    req.sink = sink;
    req.sink_user = sink_user;
    return osb_request_raw(c, &req, res);
}

static osb_err get(osb_client *c, const char *path, osb_http_response *res) {
    return get_into(c, path, res, NULL, NULL);
}

#define NEED_SERVER() do { if (!start_server()) { CHECK(!"test server did not start"); return; } } while (0)

TEST(keep_alive_reuses_one_connection) {
    osb_client *c;
    osb_http_response r;
    int i;
    NEED_SERVER();
    c = client();
    CHECK_EQ_INT(get(c, "/conns", &r), OSB_OK);
    {
        int before = atoi(r.body.data);
        osb_http_response_free(&r);
        for (i = 0; i < 20; i++) {
            CHECK_EQ_INT(get(c, "/ok", &r), OSB_OK);
            CHECK_EQ_STR(r.body.data, "hello");
            CHECK_EQ_STR(r.content_type, "text/plain");
            CHECK_EQ_INT(r.content_length, 5);
            osb_http_response_free(&r);
        }
        CHECK_EQ_INT(osb_client_pooled(c), 1);
        CHECK_EQ_INT(get(c, "/conns", &r), OSB_OK);
        CHECK_EQ_INT(atoi(r.body.data), before);   /* no new connection was opened */
        osb_http_response_free(&r);
    }
    osb_client_free(c);
}

TEST(body_framings) {
    osb_client *c;
    osb_http_response r;
    NEED_SERVER();
    c = client();
    CHECK_EQ_INT(get(c, "/chunked", &r), OSB_OK);
    CHECK_EQ_STR(r.body.data, "hello world");
    osb_http_response_free(&r);
    CHECK_EQ_INT(osb_client_pooled(c), 1);
    CHECK_EQ_INT(get(c, "/close", &r), OSB_OK);
    CHECK_EQ_STR(r.body.data, "until close");
    osb_http_response_free(&r);
    CHECK_EQ_INT(osb_client_pooled(c), 0);     /* a close-delimited body ends the connection */
    CHECK_EQ_INT(get(c, "/drip", &r), OSB_OK);  /* one byte per send */
    CHECK_EQ_STR(r.body.data, "hello world");
    osb_http_response_free(&r);
    CHECK_EQ_INT(get(c, "/interim?n=3", &r), OSB_OK);
    CHECK_EQ_STR(r.body.data, "after interim");
    osb_http_response_free(&r);
    CHECK_EQ_INT(get(c, "/raw/no-reason", &r), OSB_OK);
    CHECK_EQ_INT(r.status, 204);
    osb_http_response_free(&r);
    CHECK_EQ_INT(get(c, "/raw/http10", &r), OSB_OK);
    CHECK_EQ_STR(r.body.data, "hello");
    osb_http_response_free(&r);
    CHECK_EQ_INT(osb_client_pooled(c), 0);     /* HTTP/1.0 without keep-alive */
    CHECK_EQ_INT(get(c, "/raw/cl-same-twice", &r), OSB_OK);
    CHECK_EQ_STR(r.body.data, "hello");
    osb_http_response_free(&r);
    {
        osb_http_request req;
        memset(&req, 0, sizeof req);
        req.method = "HEAD";
        req.path = "/ok";
        CHECK_EQ_INT(osb_request_raw(c, &req, &r), OSB_OK);
        CHECK_EQ_INT(r.body.len, 0);
        osb_http_response_free(&r);
    }
    osb_client_free(c);
}

typedef struct sum_sink { uint64_t n; uint32_t sum; int bad; } sum_sink;

static int sum_write(void *user, const void *data, size_t len) {
    sum_sink *s = (sum_sink *)user;
    const unsigned char *p = (const unsigned char *)data;
    size_t i;
    for (i = 0; i < len; i++) {
        if (p[i] != (unsigned char)((s->n + i) & 0xff)) s->bad = 1;  /* the server's pattern */
    }
    s->n += len;
    return 0;
}

TEST(large_bodies_through_sink) {
    static const char *const paths[] = {"/bytes?n=3000001", "/chunkedbytes?n=3000001&c=7777",
                                        "/chunkedbytes?n=100000&c=1"};
    static const uint64_t sizes[] = {3000001, 3000001, 100000};
    osb_client *c;
    size_t i;
    NEED_SERVER();
    c = client();
    for (i = 0; i < 3; i++) {
        osb_http_response r;
        sum_sink s;
        memset(&s, 0, sizeof s);
        CHECK_EQ_INT(get_into(c, paths[i], &r, sum_write, &s), OSB_OK);
        CHECK_EQ_INT(s.n, sizes[i]);
        CHECK_EQ_INT(r.body_bytes, sizes[i]);
        CHECK(!s.bad);
        CHECK_EQ_INT(r.body.len, 0);
        osb_http_response_free(&r);
    }
    osb_client_free(c);
}

TEST(pull_form_reads_pieces) {
    osb_client *c;
    osb_http_request req;
    osb_http_response r;
    osb_body *b = NULL;
    char all[64];
    size_t n = 0;
    NEED_SERVER();
    c = client();
    memset(&req, 0, sizeof req);
    req.path = "/chunked";
    CHECK_EQ_INT(osb_request_open(c, &req, &r, &b), OSB_OK);
    CHECK_EQ_INT(r.status, 200);
    for (;;) {
        const void *d;
        size_t len;
        if (osb_body_read(b, &d, &len) != OSB_OK || len == 0) break;
        memcpy(all + n, d, len);
        n += len;
    }
    osb_body_close(b);
    CHECK_EQ_MEM(all, n, "hello world", 11);
    CHECK_EQ_INT(osb_client_pooled(c), 1);
    osb_client_free(c);
}

TEST(framing_errors_have_their_codes) {
    static const struct { const char *path; osb_err want; } cases[] = {
        {"/raw/cl-te-both", OSB_ERR_PROTOCOL},
        {"/raw/cl-conflict", OSB_ERR_PROTOCOL},
        {"/raw/cl-negative", OSB_ERR_PROTOCOL},
        {"/raw/cl-huge", OSB_ERR_PROTOCOL},
        {"/raw/cl-short", OSB_ERR_TRUNCATED},
        {"/raw/bad-chunk-size", OSB_ERR_PROTOCOL},
        {"/raw/chunk-size-overflow", OSB_ERR_TOO_LARGE},
        {"/raw/chunk-ext-flood", OSB_ERR_TOO_LARGE},
        {"/raw/bare-lf-chunk", OSB_ERR_PROTOCOL},
        {"/raw/truncated-chunked", OSB_ERR_TRUNCATED},
        {"/raw/huge-header-line", OSB_ERR_TOO_LARGE},
        {"/raw/many-headers", OSB_ERR_TOO_LARGE},
        {"/raw/bad-status", OSB_ERR_PROTOCOL},
        {"/raw/http09", OSB_ERR_PROTOCOL},
        {"/raw/obs-fold", OSB_ERR_PROTOCOL},
        {"/raw/bare-lf-head", OSB_ERR_PROTOCOL},
        {"/raw/interim-flood", OSB_ERR_PROTOCOL},
        {"/raw/upgrade", OSB_ERR_PROTOCOL},
        {"/raw/te-gzip", OSB_ERR_PROTOCOL},
        {"/empty", OSB_ERR_CLOSED},
        {"/reset-body", OSB_ERR_TRUNCATED},
    };
    size_t i;
    NEED_SERVER();
    for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        osb_client *c = client();
        osb_http_response r;
        osb_err e = get(c, cases[i].path, &r);
        if (e != cases[i].want)
            fprintf(stderr, "  %s: got %s (%s)\n", cases[i].path, osb_strerror(e), osb_client_error(c)->message);
        CHECK_EQ_INT(e, cases[i].want);
        CHECK_EQ_INT(osb_client_error(c)->code, cases[i].want);
        CHECK_EQ_INT(r.body.len, 0);               /* no partial body reported */
        CHECK_EQ_INT(osb_client_pooled(c), 0);     /* never pooled after an error */
        osb_http_response_free(&r);
        osb_client_free(c);
    }
    {   /* a reset inside the head is a connection failure, not a response */
        osb_client *c = client();
        osb_http_response r;
        osb_err e = get(c, "/reset-head", &r);
        CHECK(e == OSB_ERR_CONNECT || e == OSB_ERR_TRUNCATED);
        osb_client_free(c);
    }
}

TEST(extra_bytes_after_body_are_not_reused) {
    osb_client *c;
    osb_http_response r;
    NEED_SERVER();
    c = client();
    CHECK_EQ_INT(get(c, "/raw/cl-long", &r), OSB_OK);
    CHECK_EQ_STR(r.body.data, "hello");          /* exactly Content-Length bytes */
    CHECK_EQ_INT(osb_client_pooled(c), 0);       /* desynchronised: closed */
    osb_http_response_free(&r);
    osb_client_free(c);
}

TEST(connect_refused_and_dns) {
    osb_client_config cfg;
    osb_client *c = NULL;
    osb_http_response r;
    memset(&cfg, 0, sizeof cfg);
    cfg.domain = "127.0.0.1:1";
    CHECK_EQ_INT(osb_client_new(&cfg, &c), OSB_OK);
    CHECK_EQ_INT(get(c, "/x", &r), OSB_ERR_CONNECT);
    CHECK(osb_client_error(c)->sys_errno != 0);
    CHECK_EQ_INT(osb_client_error(c)->phase, OSB_PHASE_CONNECT);
    osb_client_free(c);
    cfg.domain = "no-such-host.invalid:80";
    CHECK_EQ_INT(osb_client_new(&cfg, &c), OSB_OK);
    CHECK_EQ_INT(get(c, "/x", &r), OSB_ERR_DNS);
    CHECK_EQ_INT(osb_client_error(c)->phase, OSB_PHASE_DNS);
    osb_client_free(c);
}

static int64_t elapsed_since(int64_t t0) { return osb__now_ms() - t0; }

/* The deadline fires, and well before the server's 3 s stall ends: a
   generous bound, so that sanitizer, valgrind and qemu runs on a busy
   machine pass too. */
#define SLACK_MS 1500

TEST(first_byte_and_idle_timeouts) {
    osb_client *c;
    osb_http_response r;
    int64_t t0;
    NEED_SERVER();
    c = client_with(300, 300, 0);
    t0 = osb__now_ms();
    CHECK_EQ_INT(get(c, "/stall-head?s=3", &r), OSB_ERR_TIMEOUT);
    CHECK_EQ_INT(osb_client_error(c)->phase, OSB_PHASE_FIRST_BYTE);
    CHECK(elapsed_since(t0) >= 290 && elapsed_since(t0) < 300 + SLACK_MS);
    t0 = osb__now_ms();
    CHECK_EQ_INT(get(c, "/stall-body?s=3", &r), OSB_ERR_TIMEOUT);
    CHECK_EQ_INT(osb_client_error(c)->phase, OSB_PHASE_IDLE);
    CHECK_EQ_INT(osb_client_error(c)->offset, 5);   /* five body bytes had arrived */
    CHECK(elapsed_since(t0) < 300 + SLACK_MS);
    CHECK_EQ_INT(osb_client_pooled(c), 0);
    osb_client_free(c);
    /* a slow drip never trips the idle deadline; the total one catches it */
    c = client_with(1000, 1000, 500);
    t0 = osb__now_ms();
    CHECK_EQ_INT(get(c, "/drip-slow?s=0.15", &r), OSB_ERR_TIMEOUT);
    CHECK_EQ_INT(osb_client_error(c)->phase, OSB_PHASE_TOTAL);
    CHECK(elapsed_since(t0) < 500 + SLACK_MS);
    osb_client_free(c);
}

TEST(stale_pooled_connection) {
    osb_client *c;
    osb_http_response r;
    osb_http_request req;
    NEED_SERVER();
    c = client();
    /* the server closed the idle connection: the liveness check notices */
    CHECK_EQ_INT(get(c, "/close-after", &r), OSB_OK);
    osb_http_response_free(&r);
    CHECK_EQ_INT(osb_client_pooled(c), 1);
    usleep(500000);
    CHECK_EQ_INT(get(c, "/ok", &r), OSB_OK);
    osb_http_response_free(&r);
    CHECK_EQ_INT(osb_client_error(c)->attempts, 1);
    /* closed after reading the request: a GET is sent again once ... */
    CHECK_EQ_INT(get(c, "/empty-if-reused", &r), OSB_OK);
    CHECK_EQ_STR(r.body.data, "fresh connection");
    CHECK_EQ_INT(osb_client_error(c)->attempts, 2);
    osb_http_response_free(&r);
    /* ... a POST is not */
    memset(&req, 0, sizeof req);
    req.method = "POST";
    req.path = "/empty-if-reused";
    req.body = "{}";
    req.body_len = 2;
    CHECK_EQ_INT(osb_client_pooled(c), 1);
    CHECK_EQ_INT(osb_request_raw(c, &req, &r), OSB_ERR_CLOSED);
    CHECK_EQ_INT(osb_client_error(c)->attempts, 1);
    osb_client_free(c);
}

TEST(injection_refused_before_sending) {
    osb_client *c;
    osb_http_request req;
    osb_http_response r;
    static const char *const bad_hdr[] = {"X-A: b\r\nX-Evil: 1", NULL};
    static const char *const bad_name[] = {"X A: b", NULL};
    NEED_SERVER();
    c = client();
    memset(&req, 0, sizeof req);
    req.path = "/ok";
    req.headers = bad_hdr;
    CHECK_EQ_INT(osb_request_raw(c, &req, &r), OSB_ERR_INVALID_ARG);
    req.headers = bad_name;
    CHECK_EQ_INT(osb_request_raw(c, &req, &r), OSB_ERR_INVALID_ARG);
    req.headers = NULL;
    req.path = "/ok HTTP/1.1\r\nX: y";
    CHECK_EQ_INT(osb_request_raw(c, &req, &r), OSB_ERR_INVALID_ARG);
    req.path = "/a b";
    CHECK_EQ_INT(osb_request_raw(c, &req, &r), OSB_ERR_INVALID_ARG);
    req.path = "/ok";
    req.query = "a=b c";
    CHECK_EQ_INT(osb_request_raw(c, &req, &r), OSB_ERR_INVALID_ARG);
    req.query = NULL;
    req.method = "GET /x";
    CHECK_EQ_INT(osb_request_raw(c, &req, &r), OSB_ERR_INVALID_ARG);
    CHECK_EQ_INT(osb_client_pooled(c), 0);   /* nothing was even connected */
    osb_client_free(c);
    {
        osb_client_config cfg;
        memset(&cfg, 0, sizeof cfg);
        cfg.domain = base;
        cfg.api_key = "key\r\nX-Evil: 1";
        CHECK_EQ_INT(osb_client_new(&cfg, &c), OSB_ERR_INVALID_ARG);
        CHECK(c == NULL);
    }
}

TEST(api_key_only_to_lifecycle_origin) {
    osb_client *c;
    osb_http_request req;
    osb_http_response r;
    char url[128];
    static const char *const hdr[] = {"X-EXECD-ACCESS-TOKEN: tok", NULL};
    NEED_SERVER();
    c = client();
    CHECK_EQ_INT(get(c, "/echo", &r), OSB_OK);
    CHECK(strstr(r.body.data, "OPEN-SANDBOX-API-KEY: sekret-key-123\r\n") != NULL);
    CHECK(strstr(r.body.data, "X-Request-ID: ") != NULL);
    CHECK(strstr(r.body.data, "User-Agent: opensandbox-c/") != NULL);
    CHECK(strncmp(r.body.data, "GET /echo HTTP/1.1\r\nHost: 127.0.0.1:", 36) == 0);
    osb_http_response_free(&r);
    /* the same server under another name is another origin */
    snprintf(url, sizeof url, "http://localhost:%d", atoi(server.ready));
    memset(&req, 0, sizeof req);
    req.url = url;
    req.path = "/echo";
    req.headers = hdr;
    CHECK_EQ_INT(osb_request_raw(c, &req, &r), OSB_OK);
    CHECK(strstr(r.body.data, "sekret") == NULL);
    CHECK(strstr(r.body.data, "X-EXECD-ACCESS-TOKEN: tok\r\n") != NULL);
    osb_http_response_free(&r);
    osb_client_free(c);
}

TEST(error_status_detail) {
    osb_client *c;
    osb_http_response r;
    NEED_SERVER();
    c = client();
    CHECK_EQ_INT(get(c, "/raw/request-id", &r), OSB_ERR_HTTP);
    CHECK_EQ_INT(osb_client_error(c)->http_status, 404);
    CHECK_EQ_STR(osb_client_error(c)->request_id, "abc123");
    CHECK(strstr(osb_client_error(c)->message, "no such box") != NULL);
    CHECK_EQ_INT(r.body.len, 0);
    CHECK_EQ_INT(get(c, "/raw/retry-after", &r), OSB_ERR_HTTP);
    CHECK_EQ_INT(osb_client_error(c)->retry_after_ms, 7000);
    CHECK_EQ_INT(osb_client_error(c)->retryable, 1);
    CHECK_EQ_INT(get(c, "/status/409", &r), OSB_ERR_HTTP);
    CHECK_EQ_INT(osb_client_error(c)->retryable, 0);
    CHECK_EQ_INT(osb_client_pooled(c), 1);      /* a whole error body keeps the connection */
    osb_client_free(c);
}

static int stop_at_once(void *user, const void *data, size_t len) {
    (void)user; (void)data; (void)len;
    return 1;
}

TEST(sink_can_cancel) {
    osb_client *c;
    osb_http_response r;
    NEED_SERVER();
    c = client();
    CHECK_EQ_INT(get_into(c, "/bytes?n=1000000", &r, stop_at_once, NULL), OSB_ERR_CANCELLED);
    CHECK_EQ_INT(osb_client_pooled(c), 0);
    osb_client_free(c);
}

typedef struct text_reader { const char *s; size_t pos, len, step; } text_reader;

static ptrdiff_t read_text(void *user, void *buf, size_t cap) {
    text_reader *t = (text_reader *)user;
    size_t n = OSB__MIN(OSB__MIN(cap, t->len - t->pos), t->step);
    memcpy(buf, t->s + t->pos, n);
    t->pos += n;
    return (ptrdiff_t)n;
}

TEST(reader_bodies) {
    osb_client *c;
    osb_http_request req;
    osb_http_response r;
    text_reader t;
    NEED_SERVER();
    c = client();
    memset(&req, 0, sizeof req);
    req.method = "POST";
    req.path = "/echo";
    req.content_type = "text/plain";
    req.body_reader = read_text;
    req.body_reader_user = &t;
    t.s = "streamed body text";
    t.pos = 0;
    t.len = strlen(t.s);
    t.step = 5;
    req.body_reader_len = -1;                       /* chunked */
    CHECK_EQ_INT(osb_request_raw(c, &req, &r), OSB_OK);
    CHECK(strstr(r.body.data, "Transfer-Encoding: chunked\r\n") != NULL);
    CHECK(strstr(r.body.data, "\r\n\r\nstreamed body text") != NULL);
    osb_http_response_free(&r);
    t.pos = 0;
    req.body_reader_len = (int64_t)t.len;           /* known length */
    CHECK_EQ_INT(osb_request_raw(c, &req, &r), OSB_OK);
    if (!r.body.data) { fprintf(stderr, "  %s\n", osb_client_error(c)->message); return; }
    CHECK(strstr(r.body.data, "Content-Length: 18\r\n") != NULL);
    CHECK(strstr(r.body.data, "\r\n\r\nstreamed body text") != NULL);
    osb_http_response_free(&r);
    t.pos = 0;
    req.body_reader_len = 100;                      /* the reader falls short */
    CHECK_EQ_INT(osb_request_raw(c, &req, &r), OSB_ERR_IO);
    CHECK_EQ_INT(osb_client_pooled(c), 0);
    osb_client_free(c);
}

TEST(domain_forms) {
    osb_client_config cfg;
    osb_client *c = NULL;
    memset(&cfg, 0, sizeof cfg);
    cfg.domain = "http://127.0.0.1:8080/v1";
    CHECK_EQ_INT(osb_client_new(&cfg, &c), OSB_OK);
    CHECK_EQ_STR(osb_client_url(c)->prefix, "");   /* the REST layer adds /v1 once */
    osb_client_free(c);
    cfg.domain = "example.com";
    cfg.protocol = "https";
    CHECK_EQ_INT(osb_client_new(&cfg, &c), OSB_OK);
    CHECK_EQ_INT(osb_client_url(c)->https, 1);
    CHECK_EQ_INT(osb_client_url(c)->port, 443);
    osb_client_free(c);
    cfg.protocol = "gopher";
    CHECK_EQ_INT(osb_client_new(&cfg, &c), OSB_ERR_INVALID_ARG);
    CHECK_EQ_INT(osb_client_new(NULL, &c), OSB_ERR_INVALID_ARG);
}

TEST(https_without_tls_is_unsupported) {
#if !OSB_TLS
    osb_client_config cfg;
    osb_client *c = NULL;
    osb_http_response r;
    memset(&cfg, 0, sizeof cfg);
    cfg.domain = "https://127.0.0.1:1";
    CHECK_EQ_INT(osb_client_new(&cfg, &c), OSB_OK);
    CHECK_EQ_INT(get(c, "/x", &r), OSB_ERR_UNSUPPORTED);
    CHECK(strstr(osb_client_error(c)->message, "OSB_TLS") != NULL);
    osb_client_free(c);
#endif
}

TEST(zz_stop_server) { testproc_stop(&server); server_ok = 0; }

int main(int argc, char **argv) { return testlib_main(argc, argv); }
