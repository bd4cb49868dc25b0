/* Security checklist (RELIABILITY.md §5): a test for each item that can be
 * observed from outside the library (and a few white-box defaults). Item
 * numbers are the checklist's. The server is tests/servers/faults.py, which
 * also listens on 127.0.0.2 as "another origin" and counts the requests
 * (and the credential headers) that reach /record.
 *
 * The TLS items need BearSSL: build with -DOSB_TEST_TLS=1 -lbearssl (then
 * certificates come from tests/tls/make-certs.sh, the server from
 * tests/tls/server.py); without it they check that https never silently
 * falls back to plain http. */
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

#define KEY "sec-key-4f1c9a7e2b"
#define TOKEN "execd-token-77aa19c3"

static testproc server;
static int server_state;
static int port_main, port_other;

static int ready_port(const char *json, const char *key) {
    char pat[32];
    const char *p;
    snprintf(pat, sizeof pat, "\"%s\": ", key);
    p = strstr(json, pat);
    return p ? atoi(p + strlen(pat)) : 0;
}

static int start_server(void) {
    static const char *const argv[] = {"python3", "tests/servers/faults.py", "--lifetime", "120", NULL};
    if (server_state) return server_state > 0;
    server_state = -1;
    if (testproc_start(&server, argv) != 0) return 0;
    port_main = ready_port(server.ready, "port");
    port_other = ready_port(server.ready, "other");
    if (!port_main) return 0;
    server_state = 1;
    return 1;
}

#define NEED_SERVER() do { if (!start_server()) { CHECK(!"tests/servers/faults.py did not start"); return; } } while (0)

static osb_client *client_cfg(const char *const *headers) {
    osb_client_config cfg;
    osb_client *c = NULL;
    char dom[64];
    snprintf(dom, sizeof dom, "127.0.0.1:%d", port_main);
    memset(&cfg, 0, sizeof cfg);
    cfg.domain = dom;
    cfg.api_key = KEY;
    cfg.headers = headers;
    cfg.timeouts.first_byte_ms = 3000;
    cfg.timeouts.idle_ms = 3000;
    if (osb_client_new(&cfg, &c) != OSB_OK) return NULL;
    return c;
}

static osb_client *client(void) { return client_cfg(NULL); }

static osb_err get(osb_client *c, const char *url, const char *path, const char *query,
                   const char *const *headers, osb_http_response *r) {
    osb_http_request req;
    memset(&req, 0, sizeof req);
    req.url = url;
    req.path = path;
    req.query = query;
    req.headers = headers;
    return osb_request_raw(c, &req, r);
}

/* Reads /hits: requests that reached /record, and how many carried the
 * API key and the execd token. */
typedef struct hitcount { int hits, api_key, token; } hitcount;

static hitcount hits(void) {
    osb_client *c = client();
    osb_http_response r;
    hitcount h = {-1, -1, -1};
    const char *p;
    if (c && get(c, NULL, "/hits", NULL, NULL, &r) == OSB_OK) {
        if ((p = strstr(r.body.data, "\"hits\": "))) h.hits = atoi(p + 8);
        if ((p = strstr(r.body.data, "\"api_key\": "))) h.api_key = atoi(p + 11);
        if ((p = strstr(r.body.data, "\"token\": "))) h.token = atoi(p + 9);
        osb_http_response_free(&r);
    }
    osb_client_free(c);
    return h;
}

/* No prefix of the secret of 4 bytes or more appears in s. */
static int leaks(const char *s, const char *secret) {
    size_t n = strlen(secret), k;
    for (k = n; k >= 4; k--) {
        char part[128];
        snprintf(part, sizeof part, "%.*s", (int)k, secret);
        if (strstr(s, part)) return 1;
    }
    return 0;
}

/* ---- 5. no CR/LF/NUL injection ---- */

TEST(item05_header_and_request_line_injection_refused) {
    static const char *const crlf_value[] = {"X-A: b\r\nX-Evil: 1", NULL};
    static const char *const lf_value[] = {"X-A: b\nX-Evil: 1", NULL};
    static const char *const cr_value[] = {"X-A: b\rX-Evil: 1", NULL};
    static const char *const bad_name[] = {"X A: b", NULL};
    static const char *const no_colon[] = {"X-A b", NULL};
    static const char *const empty_name[] = {": b", NULL};
    static const char *const *const bad_headers[] = {crlf_value, lf_value, cr_value, bad_name, no_colon, empty_name};
    static const char *const bad_paths[] = {"/record HTTP/1.1\r\nX: y", "/a b", "/a\tb", "/a\nb",
                                            "record", "/a?b", "/a#b", "/\x7f", "/\xc3\xa9"};
    static const char *const bad_queries[] = {"a=b c", "a=b\r\nX: y", "a#b", "a=\x01"};
    static const char *const bad_methods[] = {"GET /x", "GE\r\nT", "", "G(T"};
    osb_client *c;
    osb_http_request req;
    osb_http_response r;
    hitcount before, after;
    size_t i;
    NEED_SERVER();
    before = hits();
    c = client();
    for (i = 0; i < sizeof bad_headers / sizeof bad_headers[0]; i++)
        CHECK_EQ_INT(get(c, NULL, "/record", NULL, bad_headers[i], &r), OSB_ERR_INVALID_ARG);
    for (i = 0; i < sizeof bad_paths / sizeof bad_paths[0]; i++)
        CHECK_EQ_INT(get(c, NULL, bad_paths[i], NULL, NULL, &r), OSB_ERR_INVALID_ARG);
    for (i = 0; i < sizeof bad_queries / sizeof bad_queries[0]; i++)
        CHECK_EQ_INT(get(c, NULL, "/record", bad_queries[i], NULL, &r), OSB_ERR_INVALID_ARG);
    memset(&req, 0, sizeof req);
    req.path = "/record";
    for (i = 0; i < sizeof bad_methods / sizeof bad_methods[0]; i++) {
        req.method = bad_methods[i];
        CHECK_EQ_INT(osb_request_raw(c, &req, &r), OSB_ERR_INVALID_ARG);
    }
    req.method = NULL;
    req.content_type = "text/plain\r\nX-Evil: 1";
    CHECK_EQ_INT(osb_request_raw(c, &req, &r), OSB_ERR_INVALID_ARG);
    req.content_type = NULL;
    req.url = "http://127.0.0.1:1/x\r\nX-Evil: 1";
    CHECK_EQ_INT(osb_request_raw(c, &req, &r), OSB_ERR_INVALID_ARG);
    req.url = "http://evil.example\r\n:80";
    CHECK_EQ_INT(osb_request_raw(c, &req, &r), OSB_ERR_INVALID_ARG);
    CHECK_EQ_INT(osb_client_pooled(c), 0);
    osb_client_free(c);
    after = hits();
    CHECK_EQ_INT(after.hits, before.hits);   /* nothing reached the server */
}

TEST(item05_configuration_injection_refused) {
    static const char *const bad_cfg_header[] = {"X-A: 1\r\nX-Evil: 1", NULL};
    osb_client_config cfg;
    osb_client *c = (osb_client *)1;
    memset(&cfg, 0, sizeof cfg);
    cfg.domain = "127.0.0.1:8080";
    cfg.api_key = "k\r\nX-Evil: 1";
    CHECK_EQ_INT(osb_client_new(&cfg, &c), OSB_ERR_INVALID_ARG);
    CHECK(c == NULL);
    cfg.api_key = "k\nX";
    CHECK_EQ_INT(osb_client_new(&cfg, &c), OSB_ERR_INVALID_ARG);
    cfg.api_key = NULL;
    cfg.user_agent = "ua\r\nX-Evil: 1";
    CHECK_EQ_INT(osb_client_new(&cfg, &c), OSB_ERR_INVALID_ARG);
    cfg.user_agent = NULL;
    cfg.headers = bad_cfg_header;
    CHECK_EQ_INT(osb_client_new(&cfg, &c), OSB_ERR_INVALID_ARG);
    cfg.headers = NULL;
    cfg.domain = "127.0.0.1:8080\r\nX-Evil: 1";
    CHECK_EQ_INT(osb_client_new(&cfg, &c), OSB_ERR_INVALID_ARG);
    cfg.domain = "http://user:pw@127.0.0.1:8080";    /* userinfo is refused */
    CHECK_EQ_INT(osb_client_new(&cfg, &c), OSB_ERR_INVALID_ARG);
}

/* ---- 6. path and query encoding by construction ---- */

TEST(item06_encoded_segments_stay_data) {
    static const char *const ids[] = {"../../etc/passwd", "a/b", "%2F", "x?y=1", "x#frag", "a b\r\nc", "..", "\xc3\xa9"};
    osb_client *c;
    size_t i;
    NEED_SERVER();
    c = client();
    for (i = 0; i < sizeof ids / sizeof ids[0]; i++) {
        osb_buf enc, path, q;
        osb_http_response r;
        char line[600];
        size_t k;
        osb_buf_init(&enc, NULL);
        osb_buf_init(&path, NULL);
        osb_buf_init(&q, NULL);
        CHECK_EQ_INT(osb_url_encode(&enc, ids[i], strlen(ids[i])), OSB_OK);
        for (k = 0; k < enc.len; k++) CHECK(strchr("/?# \r\n", enc.data[k]) == NULL);
        osb_buf_append_str(&path, "/echo/");
        osb_buf_append(&path, enc.data, enc.len);
        CHECK_EQ_INT(osb_url_query(&q, "path", ids[i]), OSB_OK);
        CHECK_EQ_INT(get(c, NULL, path.data, q.data + 1, NULL, &r), OSB_OK);
        /* the request line the server saw is exactly ours: one segment, one query value */
        snprintf(line, sizeof line, "GET %s?%s HTTP/1.1\r\n", path.data, q.data + 1);
        CHECK(r.body.data && strncmp(r.body.data, line, strlen(line)) == 0);
        osb_http_response_free(&r);
        osb_buf_free(&enc);
        osb_buf_free(&path);
        osb_buf_free(&q);
    }
    osb_client_free(c);
}

/* A whole segment "." or ".." is a dot-segment that servers and proxies
 * resolve (RFC 3986 5.2.4): "/v1/sandboxes/.." reaches "/v1". An id must
 * stay one segment of data, so these need %2E (or refusing). Checked through
 * the public calls: the request line the server saw. */
TEST(item06_dot_segments_stay_data) {
    static const char *const ids[] = {"..", ".", "a..", "..a", "../x"};
    osb_client *c;
    size_t i;
    int bad = 0;
    NEED_SERVER();
    c = client();
    for (i = 0; i < sizeof ids / sizeof ids[0]; i++) {
        osb_sandbox_info *info = NULL;
        osb_http_response r;
        osb_err e = osb_sandbox_get(c, ids[i], &info);
        CHECK(e == OSB_ERR_HTTP || e == OSB_ERR_INVALID_ARG);   /* 404 here, or refused */
        CHECK(info == NULL);
        if (e != OSB_ERR_HTTP) continue;
        CHECK_EQ_INT(get(c, NULL, "/last-line", NULL, NULL, &r), OSB_OK);
        if (r.body.data) {
            const char *t = strchr(r.body.data, ' ');
            char seg[64] = "";
            /* the id segment: after "/sandboxes/", up to the next '/', '?' or ' ' */
            t = t ? strstr(t, "/sandboxes/") : NULL;
            if (t) sscanf(t + 11, "%63[^/? ]", seg);
            CHECK(t != NULL);
            if (!strcmp(seg, "..") || !strcmp(seg, ".")) {
                fprintf(stderr, "  id \"%s\" went out as: %s\n", ids[i], r.body.data);
                bad++;
            }
            CHECK(strstr(r.body.data, "/../") == NULL || bad);
        }
        osb_http_response_free(&r);
    }
    osb_client_free(c);
    CHECK(!bad);   /* a whole-dot id travels as %2E, never as a dot-segment */
}

/* ---- 7. credentials scoped per destination ---- */

TEST(item07_api_key_only_to_the_lifecycle_origin) {
    static const char *const extra[] = {"X-Lifecycle-Only: yes", NULL};
    static const char *const tok[] = {"X-EXECD-ACCESS-TOKEN: " TOKEN, NULL};
    osb_client *c;
    osb_http_response r;
    hitcount h0, h1;
    char url[96];
    NEED_SERVER();
    c = client_cfg(extra);
    h0 = hits();
    /* the lifecycle origin gets the key and the configured headers */
    CHECK_EQ_INT(get(c, NULL, "/record", NULL, NULL, &r), OSB_OK);
    osb_http_response_free(&r);
    CHECK_EQ_INT(get(c, NULL, "/echo", NULL, NULL, &r), OSB_OK);
    CHECK(r.body.data && strstr(r.body.data, "OPEN-SANDBOX-API-KEY: " KEY "\r\n") != NULL);
    CHECK(r.body.data && strstr(r.body.data, "X-Lifecycle-Only: yes\r\n") != NULL);
    osb_http_response_free(&r);
    /* another host (127.0.0.2), another name for the same host, another
       port: none of them gets the key or the configured headers; the execd
       token goes exactly where the caller sends it */
    if (port_other) {
        snprintf(url, sizeof url, "http://127.0.0.2:%d", port_other);
        CHECK_EQ_INT(get(c, url, "/record", NULL, tok, &r), OSB_OK);
        osb_http_response_free(&r);
        CHECK_EQ_INT(get(c, url, "/echo", NULL, tok, &r), OSB_OK);
        CHECK(r.body.data && strstr(r.body.data, KEY) == NULL);
        CHECK(r.body.data && strstr(r.body.data, "X-Lifecycle-Only") == NULL);
        CHECK(r.body.data && strstr(r.body.data, "X-EXECD-ACCESS-TOKEN: " TOKEN "\r\n") != NULL);
        osb_http_response_free(&r);
    }
    snprintf(url, sizeof url, "http://localhost:%d", port_main);
    CHECK_EQ_INT(get(c, url, "/record", NULL, tok, &r), OSB_OK);
    osb_http_response_free(&r);
    CHECK_EQ_INT(get(c, url, "/echo", NULL, NULL, &r), OSB_OK);
    CHECK(r.body.data && strstr(r.body.data, KEY) == NULL);
    CHECK(r.body.data && strstr(r.body.data, "X-Lifecycle-Only") == NULL);
    osb_http_response_free(&r);
    h1 = hits();
    CHECK_EQ_INT(h1.hits - h0.hits, port_other ? 3 : 2);
    CHECK_EQ_INT(h1.api_key - h0.api_key, 1);      /* only the lifecycle request */
    CHECK_EQ_INT(h1.token - h0.token, port_other ? 2 : 1);
    /* the lifecycle request itself never carried the token */
    osb_client_free(c);
}

/* The typed execd/egress calls go to an endpoint (osb_target): the target's
 * own headers go along, the lifecycle key and configured headers do not. */
TEST(item07_typed_endpoint_calls_carry_no_api_key) {
    static const char *const extra[] = {"X-Lifecycle-Only: yes", NULL};
    static const char *const ep_headers[] = {"X-EXECD-ACCESS-TOKEN: " TOKEN, NULL};
    osb_client *c;
    osb_target t;
    osb_http_response r;
    char url[96];
    int k;
    NEED_SERVER();
    c = client_cfg(extra);
    snprintf(url, sizeof url, "http://127.0.0.%d:%d", port_other ? 2 : 1, port_other ? port_other : port_main);
    t.url = url;
    t.headers = ep_headers;
    for (k = 0; k < 2; k++) {
        if (k == 0) {
            osb_egress_status *st = NULL;
            CHECK_EQ_INT(osb_egress_policy_get(c, &t, &st), OSB_ERR_HTTP);   /* 404 from this server */
            CHECK(st == NULL);
        } else {
            osb_vault_state *vs = NULL;
            CHECK_EQ_INT(osb_vault_get(c, &t, &vs), OSB_ERR_HTTP);
            CHECK(vs == NULL);
        }
        CHECK_EQ_INT(get(c, NULL, "/last-head", NULL, NULL, &r), OSB_OK);
        CHECK(r.body.data != NULL);
        if (r.body.data) {
            CHECK(strstr(r.body.data, KEY) == NULL);
            CHECK(strstr(r.body.data, "OPEN-SANDBOX-API-KEY") == NULL);
            CHECK(strstr(r.body.data, "X-Lifecycle-Only") == NULL);
            CHECK(strstr(r.body.data, "X-EXECD-ACCESS-TOKEN: " TOKEN "\r\n") != NULL);
        }
        osb_http_response_free(&r);
    }
    osb_client_free(c);
}

/* ---- 8. no redirects followed ---- */

TEST(item08_redirects_are_not_followed) {
    static const int codes[] = {301, 302, 303, 307, 308};
    osb_client *c;
    hitcount h0, h1;
    size_t i;
    NEED_SERVER();
    c = client();
    h0 = hits();
    for (i = 0; i < sizeof codes / sizeof codes[0]; i++) {
        osb_http_request req;
        osb_http_response r;
        char q[160];
        snprintf(q, sizeof q, "code=%d&to=http%%3A%%2F%%2F127.0.0.%d%%3A%d%%2Frecord", codes[i],
                 port_other ? 2 : 1, port_other ? port_other : port_main);
        CHECK_EQ_INT(get(c, NULL, "/redirect", q, NULL, &r), OSB_ERR_HTTP);   /* an error, not a hop */
        CHECK_EQ_INT(osb_client_error(c)->http_status, codes[i]);
        CHECK_EQ_INT(osb_client_error(c)->attempts, 1);
        /* with accept_error_body it is a plain response, still not followed */
        memset(&req, 0, sizeof req);
        req.path = "/redirect";
        req.query = q;
        req.accept_error_body = 1;
        CHECK_EQ_INT(osb_request_raw(c, &req, &r), OSB_OK);
        CHECK_EQ_INT(r.status, codes[i]);
        CHECK_EQ_STR(r.body.data, "moved");
        osb_http_response_free(&r);
    }
    h1 = hits();
    CHECK_EQ_INT(h1.hits, h0.hits);
    CHECK_EQ_INT(h1.api_key, h0.api_key);
    osb_client_free(c);
}

/* ---- 9. secrets never in error messages ---- */

TEST(item09_echoed_api_key_is_not_in_the_error) {
    osb_client *c;
    osb_http_response r;
    NEED_SERVER();
    c = client();
    CHECK_EQ_INT(get(c, NULL, "/echo-key", NULL, NULL, &r), OSB_ERR_HTTP);
    CHECK(!leaks(osb_client_error(c)->message, KEY));
    CHECK(!leaks(osb_client_error(c)->server_code, KEY));
    CHECK(strstr(osb_client_error(c)->message, "bad key") != NULL);   /* the rest is kept */
    CHECK_EQ_INT(get(c, NULL, "/echo-key-plain", NULL, NULL, &r), OSB_ERR_HTTP);
    CHECK(!leaks(osb_client_error(c)->message, KEY));
    CHECK(strstr(osb_client_error(c)->message, "unauthorized") != NULL);
    osb_client_free(c);
}

/* The key cut by the end of the message must not leave a prefix of it. */
TEST(item09_key_cut_at_the_end_of_the_message) {
    osb_client *c;
    int pad, leaked = 0;
    NEED_SERVER();
    c = client();
    for (pad = 470; pad < 512; pad++) {
        osb_http_response r;
        char q[32];
        snprintf(q, sizeof q, "pad=%d", pad);
        CHECK_EQ_INT(get(c, NULL, "/echo-key-cut", q, NULL, &r), OSB_ERR_HTTP);
        if (leaks(osb_client_error(c)->message, KEY)) {
            if (!leaked) fprintf(stderr, "  pad %d: message ends \"...%s\"\n", pad,
                                 osb_client_error(c)->message + strlen(osb_client_error(c)->message) - 24);
            leaked++;
        }
    }
    osb_client_free(c);
    CHECK(!leaked);
}

/* The execd access token is a credential too. */
TEST(item09_echoed_execd_token_is_not_in_the_error) {
    static const char *const tok[] = {"X-EXECD-ACCESS-TOKEN: " TOKEN, NULL};
    osb_client *c;
    osb_http_response r;
    char url[96];
    int leaked;
    NEED_SERVER();
    c = client();
    snprintf(url, sizeof url, "http://localhost:%d", port_main);
    CHECK_EQ_INT(get(c, url, "/echo-key", NULL, tok, &r), OSB_ERR_HTTP);
    CHECK(!leaks(osb_client_error(c)->message, KEY));
    leaked = leaks(osb_client_error(c)->message, TOKEN);
    osb_client_free(c);
    CHECK(!leaked);
}

TEST(item09_no_credentials_in_transport_errors) {
    osb_client_config cfg;
    osb_client *c = NULL;
    osb_http_response r;
    static const char *const tok[] = {"X-EXECD-ACCESS-TOKEN: " TOKEN, NULL};
    memset(&cfg, 0, sizeof cfg);
    cfg.domain = "127.0.0.1:1";
    cfg.api_key = KEY;
    CHECK_EQ_INT(osb_client_new(&cfg, &c), OSB_OK);
    CHECK_EQ_INT(get(c, NULL, "/x", NULL, tok, &r), OSB_ERR_CONNECT);
    CHECK(!leaks(osb_client_error(c)->message, KEY));
    CHECK(!leaks(osb_client_error(c)->message, TOKEN));
    CHECK_EQ_INT(get(c, "http://u:" KEY "@127.0.0.1:1", "/x", NULL, NULL, &r), OSB_ERR_INVALID_ARG);
    CHECK(!leaks(osb_client_error(c)->message, KEY));
    osb_client_free(c);
}

/* ---- 10. bounded memory ---- */

TEST(item10_size_caps) {
    osb_client *c;
    osb_http_request req;
    osb_http_response r;
    NEED_SERVER();
    c = client();
    memset(&req, 0, sizeof req);
    req.path = "/bytes";
    req.query = "n=100000";
    req.max_body = 1000;
    CHECK_EQ_INT(osb_request_raw(c, &req, &r), OSB_ERR_TOO_LARGE);   /* never a cut body */
    CHECK_EQ_INT(r.body.len, 0);
    CHECK(r.body.data == NULL);
    CHECK_EQ_INT(osb_client_pooled(c), 0);
    req.query = "n=1000";
    CHECK_EQ_INT(osb_request_raw(c, &req, &r), OSB_OK);              /* exactly at the cap */
    CHECK_EQ_INT(r.body.len, 1000);
    osb_http_response_free(&r);
    /* the error body is read up to its cap; the message stays bounded */
    CHECK_EQ_INT(get(c, NULL, "/502-html", NULL, NULL, &r), OSB_ERR_HTTP);
    CHECK(strlen(osb_client_error(c)->message) < sizeof osb_client_error(c)->message);
    CHECK_EQ_INT(get(c, NULL, "/endless-headers", NULL, NULL, &r), OSB_ERR_TOO_LARGE);
    osb_client_free(c);
    {   /* a capped buffer refuses to grow past max and stays as it was */
        osb_buf b;
        osb_buf_init(&b, NULL);
        b.max = 8;
        CHECK_EQ_INT(osb_buf_append(&b, "12345678", 8), OSB_OK);
        CHECK_EQ_INT(osb_buf_append(&b, "9", 1), OSB_ERR_TOO_LARGE);
        CHECK_EQ_INT(b.len, 8);
        osb_buf_free(&b);
    }
}

/* ---- 11. integer-safe sizes ---- */

TEST(item11_overflow_checked_sizes) {
    osb_buf b;
    static const char one[1] = {'x'};
    volatile size_t huge = (size_t)-1;   /* hidden from the compiler's constant checks */
    osb_chunked d;
    const char *data;
    size_t dl;
    osb_buf_init(&b, NULL);
    CHECK_EQ_INT(osb_buf_append(&b, "abc", 3), OSB_OK);
    /* lengths that would wrap size_t arithmetic: refused, buffer untouched */
    CHECK(osb_buf_append(&b, one, huge) != OSB_OK);
    CHECK(osb_buf_append(&b, one, huge - 2) != OSB_OK);
    CHECK(osb_buf_reserve(&b, huge) != OSB_OK);
    CHECK_EQ_INT(b.len, 3);
    CHECK_EQ_STR(b.data, "abc");
    osb_buf_free(&b);
    /* 15 hex digits are the most a chunk size may have */
    memset(&d, 0, sizeof d);
    CHECK_EQ_INT(osb_chunked_feed(&d, "fffffffffffffff\r\n", 17, &data, &dl), 17);
    CHECK(d.remaining == 0xfffffffffffffffull);
    memset(&d, 0, sizeof d);
    CHECK_EQ_INT(osb_chunked_feed(&d, "ffffffffffffffff\r\n", 18, &data, &dl), OSB_HTTP_TOO_LARGE);
}

TEST(item11_content_length_bounds) {
    static const struct { const char *cl; int ok; } cases[] = {
        {"9223372036854775807", 1},    /* INT64_MAX: representable */
        {"9223372036854775808", 0},    /* 2^63 */
        {"18446744073709551615", 0},   /* 2^64 - 1 */
        {"18446744073709551616", 0},   /* 2^64: would wrap */
        {"99999999999999999999", 0},
        {"-1", 0}, {"+5", 0}, {"5 5", 0}, {"0x10", 0}, {"", 0},
    };
    size_t i;
    for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        uint64_t v = 0;
        osb_str s;
        s.ptr = cases[i].cl;
        s.len = strlen(cases[i].cl);
        CHECK_EQ_INT(osb__parse_u64(s, &v), cases[i].ok);
    }
}

/* ---- 13. timeouts on by default ---- */

TEST(item13_default_deadlines) {
    osb_client_config cfg;
    osb_client *c = NULL;
    memset(&cfg, 0, sizeof cfg);
    cfg.domain = "127.0.0.1:8080";
    CHECK_EQ_INT(osb_client_new(&cfg, &c), OSB_OK);
    if (!c) return;
    CHECK_EQ_INT(c->timeouts.connect_ms, 10000);
    CHECK_EQ_INT(c->timeouts.first_byte_ms, 30000);
    CHECK_EQ_INT(c->timeouts.idle_ms, 60000);
    CHECK(OSB_POOL_IDLE_MS <= 30000);
    osb_client_free(c);
}

/* ---- 16. connection reuse keyed on the origin ---- */

TEST(item16_pool_is_keyed_on_origin) {
    osb_client *c;
    osb_http_response r;
    char url[96];
    int a, b, a2;
    NEED_SERVER();
    c = client();
    CHECK_EQ_INT(get(c, NULL, "/connid", NULL, NULL, &r), OSB_OK);
    a = atoi(r.body.data);
    osb_http_response_free(&r);
    snprintf(url, sizeof url, "http://localhost:%d", port_main);   /* same socket address, other origin */
    CHECK_EQ_INT(get(c, url, "/connid", NULL, NULL, &r), OSB_OK);
    b = atoi(r.body.data);
    osb_http_response_free(&r);
    CHECK(a != b);
    CHECK_EQ_INT(get(c, NULL, "/connid", NULL, NULL, &r), OSB_OK);
    a2 = atoi(r.body.data);
    osb_http_response_free(&r);
    CHECK_EQ_INT(a2, a);   /* the lifecycle connection was kept for the lifecycle origin */
    osb_client_free(c);
}

/* ---- 17. no content decoding asked for, no protocol switch ---- */

TEST(item17_no_accept_encoding_no_upgrade) {
    osb_client *c;
    osb_http_response r;
    NEED_SERVER();
    c = client();
    CHECK_EQ_INT(get(c, NULL, "/echo", NULL, NULL, &r), OSB_OK);
    CHECK(r.body.data && strstr(r.body.data, "Accept-Encoding") == NULL);
    CHECK(r.body.data && strstr(r.body.data, "Upgrade") == NULL);
    osb_http_response_free(&r);
    osb_client_free(c);
}

/* ---- 1-3. TLS verification on by default ---- */

#if OSB_TEST_TLS
#define CERTS "build/tls-certs"
static pid_t tls_start(const char *leaf, int *port) {
    int fds[2];
    char line[64], cert[128], key[128];
    size_t have = 0;
    ssize_t n;
    pid_t pid;
    if (system("sh tests/tls/make-certs.sh " CERTS " >/dev/null 2>&1") != 0) return -1;
    snprintf(cert, sizeof cert, CERTS "/%s.pem", leaf);
    snprintf(key, sizeof key, CERTS "/%s.key", leaf);
    if (pipe(fds) != 0) return -1;
    pid = fork();
    if (pid == 0) {
        dup2(fds[1], 1);
        close(fds[0]);
        close(fds[1]);
        execlp("python3", "python3", "tests/tls/server.py", "--cert", cert, "--key", key, "--mode", "http",
               "--host", "127.0.0.1", "--lifetime", "30", (char *)NULL);
        _exit(127);
    }
    close(fds[1]);
    while (have < sizeof line - 1 && (n = read(fds[0], line + have, 1)) == 1 && line[have] != '\n') have++;
    line[have] = 0;
    close(fds[0]);
    if (sscanf(line, "PORT %d", port) != 1) { kill(pid, SIGTERM); waitpid(pid, NULL, 0); return -1; }
    return pid;
}

static osb_err tls_get(const char *dom, const char *ca_file, osb_client **out) {
    osb_client_config cfg;
    osb_http_response r;
    osb_err e;
    memset(&cfg, 0, sizeof cfg);
    cfg.domain = dom;
    cfg.api_key = KEY;
    cfg.tls.ca_file = ca_file;
    cfg.timeouts.connect_ms = 3000;
    if (osb_client_new(&cfg, out) != OSB_OK) return OSB_ERR_INVALID_ARG;
    e = get(*out, NULL, "/hello", NULL, NULL, &r);
    if (!e) osb_http_response_free(&r);
    return e;
}

TEST(item01_tls_verification_on_by_default) {
    int port = 0;
    pid_t pid = tls_start("selfsigned", &port);
    char dom[64];
    osb_client *c = NULL;
    if (pid < 0) { CHECK(!"tests/tls/server.py did not start"); return; }
    snprintf(dom, sizeof dom, "https://localhost:%d", port);
    /* no configuration at all: the system trust store does not know it */
    CHECK_EQ_INT(tls_get(dom, NULL, &c), OSB_ERR_TLS);
    CHECK(osb_client_error(c)->tls_error != 0);
    CHECK(!leaks(osb_client_error(c)->message, KEY));
    CHECK_EQ_INT(osb_client_pooled(c), 0);
    osb_client_free(c);
    /* "protocol" https with a bare domain is verified the same way */
    snprintf(dom, sizeof dom, "localhost:%d", port);
    {
        osb_client_config cfg;
        osb_http_response r;
        memset(&cfg, 0, sizeof cfg);
        cfg.domain = dom;
        cfg.protocol = "https";
        CHECK_EQ_INT(osb_client_new(&cfg, &c), OSB_OK);
        CHECK_EQ_INT(get(c, NULL, "/hello", NULL, NULL, &r), OSB_ERR_TLS);
        osb_client_free(c);
    }
    kill(pid, SIGTERM);
    waitpid(pid, NULL, 0);
}

TEST(item02_host_name_always_checked) {
    int port = 0;
    pid_t pid = tls_start("wrongname", &port);
    char dom[64];
    osb_client *c = NULL;
    if (pid < 0) { CHECK(!"tests/tls/server.py did not start"); return; }
    snprintf(dom, sizeof dom, "https://localhost:%d", port);
    CHECK_EQ_INT(tls_get(dom, CERTS "/ca.pem", &c), OSB_ERR_TLS);   /* trusted CA, wrong name */
    osb_client_free(c);
    kill(pid, SIGTERM);
    waitpid(pid, NULL, 0);
    pid = tls_start("good", &port);
    if (pid < 0) { CHECK(!"tests/tls/server.py did not start"); return; }
    snprintf(dom, sizeof dom, "https://localhost:%d", port);
    CHECK_EQ_INT(tls_get(dom, CERTS "/ca.pem", &c), OSB_OK);        /* and the right one passes */
    osb_client_free(c);
    snprintf(dom, sizeof dom, "https://127.0.0.1:%d", port);       /* a name-only cert via an IP */
    CHECK_EQ_INT(tls_get(dom, CERTS "/ca.pem", &c), OSB_ERR_TLS);
    osb_client_free(c);
    kill(pid, SIGTERM);
    waitpid(pid, NULL, 0);
}
#else
TEST(item01_https_never_falls_back_to_plain) {
    osb_client_config cfg;
    osb_client *c = NULL;
    osb_http_response r;
    memset(&cfg, 0, sizeof cfg);
    cfg.domain = "https://127.0.0.1:1";
    CHECK_EQ_INT(osb_client_new(&cfg, &c), OSB_OK);
    CHECK_EQ_INT(get(c, NULL, "/x", NULL, NULL, &r), OSB_ERR_UNSUPPORTED);
    osb_client_free(c);
    SKIP("TLS verification items (1, 2) not built: build with -DOSB_TEST_TLS=1 -lbearssl");
}
#endif

TEST(zz_stop_server) {
    if (server_state > 0) testproc_stop(&server);
    server_state = 0;
}

int main(int argc, char **argv) { return testlib_main(argc, argv); }
