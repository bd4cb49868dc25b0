/* What goes on the wire: which credentials go to which target, framing
 * headers no caller can bend, Connection option lists, address literals,
 * multipart names, integers and event streams. The server is
 * tests/servers/wire.py, which records every request that arrives (its
 * connection and its head byte for byte); the asserts read those records.
 * Upload bodies are read there by the rules of Go's mime package, and by
 * Go's own mime/multipart (tests/gomultipart, built here when `go` is
 * installed; without it those checks are skipped with a message). */
#define _DEFAULT_SOURCE
#define OPENSANDBOX_IMPLEMENTATION
#include "../opensandbox.h"
#include "testlib.h"
#include "testproc.h"
#include <sys/stat.h>

#define KEY "wire-key-5d2e8c1b"
#define CLIENT_IP "203.0.113.7"

static testproc server;
static int server_state, have_go;
static int port_main, port_v6;

static int ready_port(const char *json, const char *key) {
    char pat[32];
    const char *p;
    snprintf(pat, sizeof pat, "\"%s\": ", key);
    p = strstr(json, pat);
    return p ? atoi(p + strlen(pat)) : 0;
}

static int start_server(void) {
    const char *argv[8];
    int n = 0;
    if (server_state) return server_state > 0;
    server_state = -1;
    /* Go's own multipart reader, when a Go toolchain is installed */
    if (system("command -v go >/dev/null 2>&1") == 0) {
        mkdir("build", 0755);
        have_go = system("GOCACHE=\"$PWD/build/gocache\" GOPATH=\"$PWD/build/gopath\" GO111MODULE=off "
                         "go build -o build/gomultipart tests/gomultipart/main.go") == 0;
    }
    if (!have_go) fprintf(stderr, "note: go not installed: uploads are checked by the Go-rules parser in wire.py only\n");
    argv[n++] = "python3";
    argv[n++] = "tests/servers/wire.py";
    argv[n++] = "--lifetime";
    argv[n++] = "120";
    if (have_go) {
        argv[n++] = "--go-checker";
        argv[n++] = "build/gomultipart";
    }
    argv[n] = NULL;
    if (testproc_start(&server, argv) != 0) return 0;
    port_main = ready_port(server.ready, "port");
    port_v6 = ready_port(server.ready, "port6");
    if (!port_main) return 0;
    server_state = 1;
    return 1;
}

#define NEED_SERVER() do { if (!start_server()) { CHECK(!"tests/servers/wire.py did not start"); return; } } while (0)

static osb_client *client_with(const char *const *headers, const char *client_ip) {
    osb_client_config cfg;
    osb_client *c = NULL;
    char dom[64];
    snprintf(dom, sizeof dom, "127.0.0.1:%d", port_main);
    memset(&cfg, 0, sizeof cfg);
    cfg.domain = dom;
    cfg.api_key = KEY;
    cfg.headers = headers;
    cfg.client_ip = client_ip;
    cfg.timeouts.first_byte_ms = 5000;
    cfg.timeouts.idle_ms = 5000;
    cfg.retry.max_retries = -1;
    if (osb_client_new(&cfg, &c) != OSB_OK) return NULL;
    return c;
}

/* ---- the server's records ---- */

typedef struct up_item { osb_str path, filename; int64_t size; } up_item;
static const osb_field up_item_fields[] = {
    OSB_FIELD_STR(up_item, path, "path"),
    OSB_FIELD_STR(up_item, filename, "filename"),
    OSB_FIELD_I64(up_item, size, "size"),
};
static const osb_type up_item_type = OSB_TYPE(up_item, up_item_fields);
typedef struct go_res { osb_str error; up_item *items; size_t count; } go_res;
static const osb_field go_res_fields[] = {
    OSB_FIELD_STR(go_res, error, "error"),
    OSB_FIELD_ARRAY_OF(go_res, items, count, "items", &up_item_type),
};
static const osb_type go_res_type = OSB_TYPE(go_res, go_res_fields);
typedef struct rec {
    int64_t conn;
    osb_str method, target, head, upload_error;
    int after_close;
    up_item *upload;
    size_t upload_count;
    go_res go;
} rec;
static const osb_field rec_fields[] = {
    OSB_FIELD_I64(rec, conn, "conn"),
    OSB_FIELD_STR(rec, method, "method"),
    OSB_FIELD_STR(rec, target, "target"),
    OSB_FIELD_STR(rec, head, "head"),
    OSB_FIELD_STR(rec, upload_error, "upload_error"),
    OSB_FIELD_BOOL(rec, after_close, "after_close"),
    OSB_FIELD_ARRAY_OF(rec, upload, upload_count, "upload", &up_item_type),
    OSB_FIELD_OBJECT(rec, go, "go", &go_res_type),
};
static const osb_type rec_type = OSB_TYPE(rec, rec_fields);
typedef struct rec_list { rec *items; size_t count; } rec_list;
static const osb_field rec_list_fields[] = { OSB_FIELD_ARRAY_OF(rec_list, items, count, "", &rec_type) };
static const osb_type rec_list_type = OSB_TYPE(rec_list, rec_list_fields);

static osb_err plain(osb_client *c, const char *method, const char *url, const char *path,
                     const char *const *headers, osb_http_response *r) {
    osb_http_request req;
    memset(&req, 0, sizeof req);
    req.method = method;
    req.url = url;
    req.path = path;
    req.headers = headers;
    return osb_request_raw(c, &req, r);
}

/* A GET of path?query. */
static osb_err get_q(osb_client *c, const char *path, const char *query, osb_http_response *r) {
    osb_http_request req;
    memset(&req, 0, sizeof req);
    req.path = path;
    req.query = query;
    return osb_request_raw(c, &req, r);
}

static void log_reset(void) {
    osb_client *c = client_with(NULL, NULL);
    osb_http_response r;
    CHECK_EQ_INT(plain(c, NULL, NULL, "/__reset", NULL, &r), OSB_OK);
    osb_http_response_free(&r);
    osb_client_free(c);
}

/* The records since the last reset (free with osb_result_free). */
static rec_list *log_get(void) {
    osb_client *c = client_with(NULL, NULL);
    osb_http_response r;
    rec_list *l = NULL;
    if (plain(c, NULL, NULL, "/__log", NULL, &r) == OSB_OK)
        CHECK_EQ_INT(osb_bind(&rec_list_type, r.body.data, r.body.len, NULL, (void **)&l, NULL), OSB_OK);
    osb_http_response_free(&r);
    osb_client_free(c);
    return l;
}

/* How many lines of the head carry the field name (any case). */
static int fields(const rec *r, const char *name) {
    const char *p = r->head.ptr, *end = p + r->head.len;
    size_t n = strlen(name);
    int count = 0;
    p = (const char *)memchr(p, '\n', r->head.len);   /* past the request line */
    while (p && ++p < end) {
        if ((size_t)(end - p) > n && p[n] == ':' && osb__ieq(p, n, name)) count++;
        p = (const char *)memchr(p, '\n', (size_t)(end - p));
    }
    return count;
}

static int has_line(const rec *r, const char *line) {
    char want[256];
    snprintf(want, sizeof want, "\r\n%s\r\n", line);
    return strstr(r->head.ptr, want) != NULL;
}

static int starts(const osb_str s, const char *prefix) { return strncmp(s.ptr, prefix, strlen(prefix)) == 0; }

/* No request ever carries two of a framing field (or of the fields the
 * client writes itself). */
static void check_single_fields(const rec_list *l) {
    static const char *const once[] = {"Host", "Content-Length", "Transfer-Encoding", "Connection", "Upgrade",
                                       "Expect", "TE", "User-Agent", "X-Request-ID", "Content-Type", "Accept",
                                       "OPEN-SANDBOX-API-KEY", "OPEN-SANDBOX-CLIENT-IP", "X-EXECD-ACCESS-TOKEN"};
    size_t i, k;
    for (i = 0; i < l->count; i++) {
        for (k = 0; k < sizeof once / sizeof once[0]; k++)
            if (fields(&l->items[i], once[k]) > 1) {
                fprintf(stderr, "  %s twice in: %s\n", once[k], l->items[i].head.ptr);
                CHECK(!"a field twice");
            }
        CHECK_EQ_INT(fields(&l->items[i], "Host"), 1);
        CHECK(fields(&l->items[i], "Content-Length") + fields(&l->items[i], "Transfer-Encoding") <= 1);
    }
}

/* ---- credentials: decided by what the request is ---- */

static int on_event_count(void *user, const osb_event *ev) {
    (void)ev;
    ++*(int *)user;
    return 0;
}

/* Every execd, egress and proxy-route request of one sandbox flow; the
 * lifecycle calls are the endpoint look-ups. */
static void run_flow(int server_proxy) {
    static const char *const extra[] = {"X-Lifecycle-Only: yes", NULL};
    osb_client *c = client_with(extra, CLIENT_IP);
    osb_endpoint_req er;
    osb_endpoint *ep = NULL, *eg = NULL;
    osb_target t, te;
    osb_command_request cr;
    osb_code_request code;
    osb_session_run_request sr;
    osb_execution x;
    osb_egress_status *st = NULL;
    osb_http_response r;
    int events = 0;
    char path[96];
    CHECK(c != NULL);
    if (!c) return;
    memset(&er, 0, sizeof er);
    er.use_server_proxy = server_proxy;
    CHECK_EQ_INT(osb_sandbox_endpoint(c, "sb1", 44772, &er, &ep), OSB_OK);
    CHECK_EQ_INT(osb_sandbox_endpoint(c, "sb1", 18080, &er, &eg), OSB_OK);
    if (!ep || !eg) { osb_client_free(c); return; }
    t = osb_target_from_endpoint(ep);
    te = osb_target_from_endpoint(eg);
    memset(&cr, 0, sizeof cr);
    cr.command = "echo hi";
    memset(&x, 0, sizeof x);
    CHECK_EQ_INT(osb_command_run(c, &t, &cr, on_event_count, &events, &x), OSB_OK);
    CHECK_EQ_STR(x.id, "exec-1");
    CHECK_EQ_STR(x.out.data, "one\ntwo\n");   /* a data: line and a bare line: two events */
    CHECK(x.completed);
    osb_execution_free(&x);
    memset(&code, 0, sizeof code);
    code.code = "1+1";
    CHECK_EQ_INT(osb_code_run(c, &t, &code, NULL, NULL, NULL), OSB_OK);
    memset(&sr, 0, sizeof sr);
    sr.command = "pwd";
    CHECK_EQ_INT(osb_session_run(c, &t, "s1", &sr, NULL, NULL, NULL), OSB_OK);
    CHECK_EQ_INT(osb_execd_ping(c, &t), OSB_OK);
    CHECK_EQ_INT(osb_egress_policy_get(c, &te, &st), OSB_OK);
    osb_result_free(st);
    /* the proxy routes in path form are no lifecycle calls either */
    snprintf(path, sizeof path, "/v1/sandboxes/sb1/proxy/8080/app?x=1");
    CHECK_EQ_INT(plain(c, NULL, NULL, "/v1/sandboxes/sb1/proxy/8080/app", NULL, &r), OSB_OK);
    osb_http_response_free(&r);
    CHECK_EQ_INT(plain(c, "POST", NULL, "/sandboxes/sb1/proxy/8080", NULL, &r), OSB_OK);
    osb_http_response_free(&r);
    CHECK_EQ_INT(plain(c, NULL, NULL, "/v1/sandboxes/sb1/%70roxy/8080/", NULL, &r), OSB_OK);
    osb_http_response_free(&r);
    /* ...while a route that only looks alike is one */
    CHECK_EQ_INT(plain(c, NULL, NULL, "/v1/sandboxes/sb1/proxy/http", NULL, &r), OSB_OK);
    osb_http_response_free(&r);
    osb_result_free(ep);
    osb_result_free(eg);
    osb_client_free(c);
    (void)events;
}

static void check_flow_records(int server_proxy) {
    rec_list *l = log_get();
    size_t i;
    int lifecycle = 0, execd = 0, egress = 0, proxy = 0, looks_alike = 0, streams = 0;
    CHECK(l != NULL);
    if (!l) return;
    check_single_fields(l);
    for (i = 0; i < l->count; i++) {
        const rec *r = &l->items[i];
        int is_lc = starts(r->target, "/v1/sandboxes/sb1/endpoints/");
        int alike = starts(r->target, "/v1/sandboxes/sb1/proxy/http");
        if (is_lc || alike) {
            /* the lifecycle API calls: key, configured header and client IP, once each */
            CHECK(has_line(r, "OPEN-SANDBOX-API-KEY: " KEY));
            CHECK(has_line(r, "X-Lifecycle-Only: yes"));
            CHECK(has_line(r, "OPEN-SANDBOX-CLIENT-IP: " CLIENT_IP));
            CHECK_EQ_INT(fields(r, "X-EXECD-ACCESS-TOKEN"), 0);
            lifecycle += is_lc;
            looks_alike += alike;
            continue;
        }
        /* everything else: none of them */
        if (strstr(r->head.ptr, KEY) || fields(r, "OPEN-SANDBOX-API-KEY") || fields(r, "X-Lifecycle-Only") ||
            fields(r, "OPEN-SANDBOX-CLIENT-IP")) {
            fprintf(stderr, "  a lifecycle credential went to: %s\n", r->head.ptr);
            CHECK(!"lifecycle credentials on a non-lifecycle request");
        }
        if (strstr(r->target.ptr, "/proxy/8080") || strstr(r->target.ptr, "%70roxy")) {
            proxy++;
            CHECK_EQ_INT(fields(r, "X-EXECD-ACCESS-TOKEN"), 0);
        } else if (strstr(r->target.ptr, "/policy")) {
            egress++;
            CHECK(has_line(r, "X-EXECD-ACCESS-TOKEN: tok-18080"));   /* that endpoint's own headers */
        } else {
            execd++;
            CHECK(has_line(r, "X-EXECD-ACCESS-TOKEN: tok-44772"));
            if (server_proxy) CHECK(starts(r->target, "/v1/sandboxes/sb1/proxy/44772/"));
            else CHECK(!starts(r->target, "/v1/"));
            if (!strcmp(r->method.ptr, "POST")) {
                streams++;
                CHECK(has_line(r, "Accept: text/event-stream"));
            }
        }
    }
    CHECK_EQ_INT(lifecycle, 2);
    CHECK_EQ_INT(looks_alike, 1);
    CHECK_EQ_INT(execd, 4);      /* command, code, session run, ping */
    CHECK_EQ_INT(streams, 3);
    CHECK_EQ_INT(egress, 1);
    CHECK_EQ_INT(proxy, 3);
    osb_result_free(l);
}

TEST(no_api_key_on_execd_egress_or_proxy_routes) {
    NEED_SERVER();
    /* server proxy off: the endpoints are the lifecycle server's own host and
       port, so an origin rule would send the key there */
    log_reset();
    run_flow(0);
    check_flow_records(0);
    /* server proxy on: execd and egress are reached through
       /v1/sandboxes/{id}/proxy/{port}/... on the lifecycle server */
    log_reset();
    run_flow(1);
    check_flow_records(1);
}

static int sink_count(void *user, const void *data, size_t len) {
    (void)data;
    *(size_t *)user += len;
    return 0;
}

/* The configured execd access token goes on execd calls only: never to the
 * lifecycle server, egress or a proxy route; an endpoint's own token wins. */
TEST(execd_access_token_only_on_execd_calls) {
    osb_client_config cfg;
    osb_client *c = NULL;
    osb_endpoint *ep = NULL, *eg = NULL, *ep2 = NULL;
    osb_target t, te, t2;
    osb_command_request cr;
    osb_download_request dr;
    osb_upload_file f;
    osb_egress_status *st = NULL;
    osb_http_response r;
    rec_list *l;
    size_t got = 0, i;
    int execd = 0, with_endpoint_token = 0;
    char dom[64];
    NEED_SERVER();
    log_reset();
    snprintf(dom, sizeof dom, "127.0.0.1:%d", port_main);
    memset(&cfg, 0, sizeof cfg);
    cfg.domain = dom;
    cfg.api_key = KEY;
    cfg.execd_access_token = "cfg-tok-9";
    CHECK_EQ_INT(osb_client_new(&cfg, &c), OSB_OK);
    if (!c) return;
    CHECK_EQ_INT(osb_sandbox_endpoint(c, "notoken", 44772, NULL, &ep), OSB_OK);
    CHECK_EQ_INT(osb_sandbox_endpoint(c, "notoken", 18080, NULL, &eg), OSB_OK);
    CHECK_EQ_INT(osb_sandbox_endpoint(c, "sb1", 44772, NULL, &ep2), OSB_OK);
    if (!ep || !eg || !ep2) { osb_client_free(c); return; }
    t = osb_target_from_endpoint(ep);
    te = osb_target_from_endpoint(eg);
    t2 = osb_target_from_endpoint(ep2);
    memset(&cr, 0, sizeof cr);
    cr.command = "true";
    CHECK_EQ_INT(osb_command_run(c, &t, &cr, NULL, NULL, NULL), OSB_OK);
    CHECK_EQ_INT(osb_execd_ping(c, &t), OSB_OK);
    CHECK_EQ_INT(osb_command_logs(c, &t, "cmd", 0, sink_count, &got, NULL), OSB_OK);
    memset(&dr, 0, sizeof dr);
    dr.path = "/f";
    CHECK_EQ_INT(osb_files_download(c, &t, &dr, sink_count, &got, NULL), OSB_OK);
    memset(&f, 0, sizeof f);
    f.path = "/up.txt";
    f.data = "x";
    f.size = 1;
    CHECK_EQ_INT(osb_files_upload(c, &t, &f, 1), OSB_OK);
    CHECK_EQ_INT(osb_egress_policy_get(c, &te, &st), OSB_OK);
    osb_result_free(st);
    CHECK_EQ_INT(osb_execd_ping(c, &t2), OSB_OK);                 /* the endpoint's token wins */
    CHECK_EQ_INT(plain(c, NULL, NULL, "/v1/sandboxes/notoken/proxy/44772/ping", NULL, &r), OSB_OK);
    osb_http_response_free(&r);
    osb_result_free(ep);
    osb_result_free(eg);
    osb_result_free(ep2);
    osb_client_free(c);
    l = log_get();
    CHECK(l != NULL);
    if (!l) return;
    check_single_fields(l);
    for (i = 0; i < l->count; i++) {
        const rec *q = &l->items[i];
        int is_execd = !starts(q->target, "/v1/") && !starts(q->target, "/policy");
        if (is_execd && has_line(q, "X-EXECD-ACCESS-TOKEN: tok-44772")) {
            with_endpoint_token++;
            CHECK(strstr(q->head.ptr, "cfg-tok-9") == NULL);
        } else if (is_execd) {
            execd++;
            CHECK(has_line(q, "X-EXECD-ACCESS-TOKEN: cfg-tok-9"));
        } else {
            CHECK(strstr(q->head.ptr, "cfg-tok-9") == NULL);
            CHECK_EQ_INT(fields(q, "X-EXECD-ACCESS-TOKEN"), 0);
        }
        if (starts(q->target, "/policy")) CHECK(has_line(q, "OPENSANDBOX-EGRESS-AUTH: eg-18080"));
    }
    CHECK_EQ_INT(execd, 5);   /* command, ping, logs, download, upload */
    CHECK_EQ_INT(with_endpoint_token, 1);
    CHECK_EQ_INT(l->count, 3 + 5 + 1 + 1 + 1);
    osb_result_free(l);
    cfg.execd_access_token = "tok\r\nX-Evil: 1";
    c = (osb_client *)1;
    CHECK_EQ_INT(osb_client_new(&cfg, &c), OSB_ERR_INVALID_ARG);
    CHECK(c == NULL);
}

TEST(client_ip_only_when_configured) {
    osb_client *c;
    osb_http_response r;
    rec_list *l;
    osb_client_config cfg;
    osb_client *bad = (osb_client *)1;
    static const char *const bad_ips[] = {"203.0.113", "010.0.0.1", "[::1]", "::1%lo", "host", "1.2.3.4\r\nX: y", ""};
    size_t i;
    NEED_SERVER();
    log_reset();
    c = client_with(NULL, NULL);
    CHECK_EQ_INT(plain(c, NULL, NULL, "/v1/sandboxes", NULL, &r), OSB_OK);
    osb_http_response_free(&r);
    osb_client_free(c);
    c = client_with(NULL, "2001:db8::7");
    CHECK_EQ_INT(plain(c, NULL, NULL, "/v1/sandboxes", NULL, &r), OSB_OK);
    osb_http_response_free(&r);
    osb_client_free(c);
    l = log_get();
    CHECK(l && l->count == 2);
    if (l && l->count == 2) {
        CHECK_EQ_INT(fields(&l->items[0], "OPEN-SANDBOX-CLIENT-IP"), 0);
        CHECK(has_line(&l->items[1], "OPEN-SANDBOX-CLIENT-IP: 2001:db8::7"));
    }
    osb_result_free(l);
    memset(&cfg, 0, sizeof cfg);
    cfg.domain = "127.0.0.1:8080";
    for (i = 0; i < sizeof bad_ips / sizeof bad_ips[0]; i++) {
        cfg.client_ip = bad_ips[i];
        CHECK_EQ_INT(osb_client_new(&cfg, &bad), OSB_ERR_INVALID_ARG);
        CHECK(bad == NULL);
    }
}

/* ---- framing headers: the client's alone ---- */

static ptrdiff_t read_five(void *user, void *buf, size_t cap) {
    int *left = (int *)user;
    size_t n = (size_t)*left < cap ? (size_t)*left : cap;
    memset(buf, 'x', n);
    *left -= (int)n;
    return (ptrdiff_t)n;
}

TEST(framing_headers_refused_from_every_source) {
    static const char *const names[] = {"Host", "content-length", "Transfer-Encoding", "CONNECTION", "Upgrade",
                                        "Expect", "TE", "te", "Trailer", "Keep-Alive", "Proxy-Connection"};
    static const char *const values[] = {"evil.example", "0", "chunked", "close", "websocket", "100-continue",
                                         "trailers", "gzip", "X-A", "timeout=5", "keep-alive"};
    osb_client *c;
    osb_client_config cfg;
    osb_client *bad = (osb_client *)1;
    osb_endpoint *ep = NULL;
    rec_list *l;
    size_t i;
    int kind;
    NEED_SERVER();
    log_reset();
    c = client_with(NULL, NULL);
    for (i = 0; i < sizeof names / sizeof names[0]; i++) {
        char line[96], cfgline[96];
        const char *hdrs[3];
        const char *cfgh[2];
        snprintf(line, sizeof line, "%s: %s", names[i], values[i]);
        /* caller headers, with every kind of body */
        for (kind = 0; kind < 4; kind++) {
            osb_http_request req;
            osb_http_response r;
            int left = 5;
            memset(&req, 0, sizeof req);
            hdrs[0] = "X-Fine: 1";
            hdrs[1] = line;
            hdrs[2] = NULL;
            req.method = kind ? "POST" : "GET";
            req.path = "/v1/sandboxes";
            req.headers = hdrs;
            if (kind == 1) { req.body = "hello"; req.body_len = 5; }
            if (kind >= 2) {
                req.body_reader = read_five;
                req.body_reader_user = &left;
                req.body_reader_len = kind == 2 ? 5 : -1;
            }
            CHECK_EQ_INT(osb_request_raw(c, &req, &r), OSB_ERR_INVALID_ARG);
            CHECK(strstr(osb_client_error(c)->message, names[i]) != NULL);   /* names the field */
            CHECK(strstr(osb_client_error(c)->message, values[i]) == NULL);  /* not its value */
        }
        /* configured headers: refused when the client is made */
        snprintf(cfgline, sizeof cfgline, "%s: %s", names[i], values[i]);
        cfgh[0] = cfgline;
        cfgh[1] = NULL;
        memset(&cfg, 0, sizeof cfg);
        cfg.domain = "127.0.0.1:8080";
        cfg.headers = cfgh;
        CHECK_EQ_INT(osb_client_new(&cfg, &bad), OSB_ERR_INVALID_ARG);
        CHECK(bad == NULL);
    }
    /* an endpoint whose headers hold a Host: the execd call is refused,
       naming it, and nothing is sent */
    CHECK_EQ_INT(osb_sandbox_endpoint(c, "hostile", 44772, NULL, &ep), OSB_OK);
    if (ep) {
        osb_target t = osb_target_from_endpoint(ep);
        CHECK_EQ_INT(osb_execd_ping(c, &t), OSB_ERR_INVALID_ARG);
        CHECK(strstr(osb_client_error(c)->message, "Host") != NULL);
        osb_result_free(ep);
    }
    /* a Content-Type both as content_type and as a line */
    {
        static const char *const ct[] = {"content-type: text/plain", NULL};
        osb_http_request req;
        osb_http_response r;
        memset(&req, 0, sizeof req);
        req.method = "POST";
        req.path = "/v1/sandboxes";
        req.headers = ct;
        req.content_type = "application/json";
        req.body = "{}";
        req.body_len = 2;
        CHECK_EQ_INT(osb_request_raw(c, &req, &r), OSB_ERR_INVALID_ARG);
    }
    osb_client_free(c);
    l = log_get();
    CHECK(l != NULL);
    if (l) {
        CHECK_EQ_INT(l->count, 1);   /* the endpoint look-up only */
        osb_result_free(l);
    }
}

/* Fields the client would write itself come once: from the caller or the
 * configuration when given there, else from the client. */
TEST(own_fields_never_duplicated) {
    static const char *const cfgh[] = {"User-Agent: cfg-agent/1", "X-Request-ID: cfg-rid", NULL};
    static const char *const mine[] = {"OPEN-SANDBOX-API-KEY: other-key", "Accept: application/json",
                                       "x-request-id: my-rid", NULL};
    osb_client *c;
    osb_http_response r;
    osb_http_request req;
    rec_list *l;
    NEED_SERVER();
    log_reset();
    c = client_with(cfgh, NULL);
    CHECK_EQ_INT(plain(c, NULL, NULL, "/v1/sandboxes", mine, &r), OSB_OK);
    osb_http_response_free(&r);
    memset(&req, 0, sizeof req);
    req.path = "/v1/sandboxes";
    req.accept = "text/event-stream";
    req.headers = mine;
    CHECK_EQ_INT(osb_request_raw(c, &req, &r), OSB_OK);
    osb_http_response_free(&r);
    CHECK_EQ_INT(plain(c, "POST", NULL, "/v1/sandboxes", NULL, &r), OSB_OK);
    osb_http_response_free(&r);
    osb_client_free(c);
    l = log_get();
    CHECK(l && l->count == 3);
    if (l && l->count == 3) {
        check_single_fields(l);
        CHECK(has_line(&l->items[0], "OPEN-SANDBOX-API-KEY: other-key"));
        CHECK(has_line(&l->items[0], "User-Agent: cfg-agent/1"));
        CHECK(has_line(&l->items[1], "Accept: application/json"));
        CHECK(has_line(&l->items[2], "OPEN-SANDBOX-API-KEY: " KEY));
        CHECK(has_line(&l->items[2], "X-Request-ID: cfg-rid"));
        CHECK(has_line(&l->items[2], "Content-Length: 0"));
    }
    osb_result_free(l);
}

/* ---- Connection: an option list ---- */

static void close_then_post(const char *path, const char *query) {
    osb_client *c = client_with(NULL, NULL);
    osb_http_response r;
    rec_list *l;
    log_reset();
    CHECK_EQ_INT(get_q(c, path, query, &r), OSB_OK);
    osb_http_response_free(&r);
    CHECK_EQ_INT(osb_client_pooled(c), 0);
    /* a POST is never sent twice: it must go on a fresh connection */
    CHECK_EQ_INT(plain(c, "POST", NULL, "/v1/sandboxes/x/pause", NULL, &r), OSB_OK);
    osb_http_response_free(&r);
    osb_client_free(c);
    l = log_get();
    CHECK(l && l->count == 2);
    if (l && l->count == 2) {
        CHECK(l->items[0].conn != l->items[1].conn);
        CHECK(!l->items[1].after_close);
        CHECK_EQ_STR(l->items[1].method.ptr, "POST");
    }
    osb_result_free(l);
}

TEST(connection_close_in_an_option_list) {
    NEED_SERVER();
    close_then_post("/close-token", "v=foo,%20close");
    close_then_post("/close-token", "v=keep-alive,%20Close");
    close_then_post("/close-token", "v=CLOSE");
    close_then_post("/close-token", "v=x,,%20%09close%09,y");
    close_then_post("/http10", NULL);                 /* HTTP/1.0 without keep-alive */
}

TEST(connection_keep_alive_stays_pooled) {
    osb_client *c;
    osb_http_response r;
    rec_list *l;
    NEED_SERVER();
    log_reset();
    c = client_with(NULL, NULL);
    CHECK_EQ_INT(plain(c, NULL, NULL, "/http10-keep", NULL, &r), OSB_OK);
    osb_http_response_free(&r);
    CHECK_EQ_INT(osb_client_pooled(c), 1);
    CHECK_EQ_INT(get_q(c, "/close-token", "v=keep-alive%2C%20closer", &r), OSB_OK);
    osb_http_response_free(&r);
    CHECK_EQ_INT(osb_client_pooled(c), 1);   /* "closer" is not "close" */
    osb_client_free(c);
    l = log_get();
    CHECK(l && l->count == 2 && l->items[0].conn == l->items[1].conn);
    osb_result_free(l);
}

/* ---- host literals ---- */

TEST(ambiguous_ipv4_literals_refused) {
    static const char *const hosts[] = {"010.0.0.1", "0177.0.0.1", "127.0.0.01", "0x7f.0.0.1", "127.0.0.0x1",
                                        "127.1", "127.0.1", "2130706433", "0x7f000001", "1.2.3.4.", "1.2.3.4.5",
                                        "256.1.1.1", "a.b.0x10", "x.123"};
    static const char *const brackets[] = {"[127.0.0.1]", "[::1%25lo]", "[fe80::1%eth0]", "[example.com]", "[::1"};
    osb_client *c;
    osb_client_config cfg;
    osb_client *bad = (osb_client *)1;
    rec_list *l;
    size_t i;
    char url[128];
    NEED_SERVER();
    log_reset();
    c = client_with(NULL, NULL);
    for (i = 0; i < sizeof hosts / sizeof hosts[0]; i++) {
        osb_http_response r;
        osb_config oc;
        snprintf(url, sizeof url, "http://%s:%d", hosts[i], port_main);
        CHECK_EQ_INT(plain(c, NULL, url, "/x", NULL, &r), OSB_ERR_INVALID_ARG);
        if (!strstr(osb_client_error(c)->message, hosts[i]))
            fprintf(stderr, "  %s: %s\n", hosts[i], osb_client_error(c)->message);
        CHECK(strstr(osb_client_error(c)->message, hosts[i]) != NULL);   /* names it */
        memset(&cfg, 0, sizeof cfg);
        cfg.domain = url;
        CHECK_EQ_INT(osb_client_new(&cfg, &bad), OSB_ERR_INVALID_ARG);
        CHECK(bad == NULL);
        /* the configuration loader says which setting and which host */
        memset(&oc, 0, sizeof oc);
        oc.client.domain = url;
        oc.file = "";
        oc.skip_env = 1;
        CHECK_EQ_INT(osb_config_load(&oc), OSB_ERR_INVALID_ARG);
        CHECK(strstr(oc.message, hosts[i]) != NULL);
    }
    for (i = 0; i < sizeof brackets / sizeof brackets[0]; i++) {
        osb_http_response r;
        snprintf(url, sizeof url, "http://%s:%d", brackets[i], port_main);
        CHECK_EQ_INT(plain(c, NULL, url, "/x", NULL, &r), OSB_ERR_INVALID_ARG);
    }
    /* the plain forms work */
    {
        osb_http_response r;
        snprintf(url, sizeof url, "http://127.0.0.1:%d", port_main);
        CHECK_EQ_INT(plain(c, NULL, url, "/ok4", NULL, &r), OSB_OK);
        osb_http_response_free(&r);
        snprintf(url, sizeof url, "http://localhost:%d", port_main);
        CHECK_EQ_INT(plain(c, NULL, url, "/okname", NULL, &r), OSB_OK);
        osb_http_response_free(&r);
    }
    osb_client_free(c);
    l = log_get();
    CHECK(l && l->count == 2);   /* nothing of the refused ones arrived */
    osb_result_free(l);
}

TEST(ipv6_literal_in_brackets) {
    osb_client *c;
    osb_client_config cfg;
    osb_http_response r;
    rec_list *l;
    char url[96], host[64];
    NEED_SERVER();
    if (!port_v6) SKIP("no IPv6 loopback here");
    log_reset();
    snprintf(url, sizeof url, "http://[::1]:%d/prefix", port_v6);
    memset(&cfg, 0, sizeof cfg);
    cfg.domain = url;
    cfg.api_key = KEY;
    CHECK_EQ_INT(osb_client_new(&cfg, &c), OSB_OK);
    CHECK_EQ_STR(osb_client_url(c)->host, "::1");
    CHECK_EQ_INT(plain(c, NULL, NULL, "/v1/sandboxes", NULL, &r), OSB_OK);
    osb_http_response_free(&r);
    snprintf(url, sizeof url, "http://[0:0:0:0:0:0:0:1]:%d", port_v6);
    CHECK_EQ_INT(plain(c, NULL, url, "/other", NULL, &r), OSB_OK);
    osb_http_response_free(&r);
    osb_client_free(c);
    l = log_get();
    CHECK(l && l->count == 2);
    if (l && l->count == 2) {
        snprintf(host, sizeof host, "Host: [::1]:%d", port_v6);
        CHECK(has_line(&l->items[0], host));
        CHECK_EQ_STR(l->items[0].target.ptr, "/prefix/v1/sandboxes");
        snprintf(host, sizeof host, "Host: [0:0:0:0:0:0:0:1]:%d", port_v6);
        CHECK(has_line(&l->items[1], host));
    }
    osb_result_free(l);
}

/* ---- multipart names ---- */

static int write_file(const char *path, const char *content) {
    FILE *f = fopen(path, "wb");
    if (!f) return 0;
    fputs(content, f);
    fclose(f);
    return 1;
}

TEST(upload_names_go_reads_back) {
    static const char *const names[] = {"a\"b.txt", "c\\", "new\nline.txt", "tab\there \\\"both\\", "\xc3\xa9t\xc3\xa9.txt"};
    /* what Go's FileName() gives for each (quoted-pairs read back, controls as '_') */
    static const char *const go_names[] = {"a\"b.txt", "c\\", "new_line.txt", "tab_here \\\"both\\", "\xc3\xa9t\xc3\xa9.txt"};
    enum { N = sizeof names / sizeof names[0] };
    char dir[64], local[N][160], target[N][160];
    osb_upload_file files[N];
    osb_client *c;
    osb_target t;
    rec_list *l;
    size_t i;
    NEED_SERVER();
    snprintf(dir, sizeof dir, "build/wire-up-%ld", (long)getpid());
    mkdir("build", 0755);
    CHECK_EQ_INT(mkdir(dir, 0755), 0);
    memset(files, 0, sizeof files);
    for (i = 0; i < N; i++) {
        snprintf(local[i], sizeof local[i], "%s/%s", dir, names[i]);
        snprintf(target[i], sizeof target[i], "/data/dir \"q\"/%s", names[i]);
        CHECK(write_file(local[i], i % 2 ? "odd" : "even!"));
        files[i].path = target[i];
        files[i].local_path = local[i];
    }
    log_reset();
    c = client_with(NULL, NULL);
    {
        char url[64];
        static const char *const tok[] = {"X-EXECD-ACCESS-TOKEN: t", NULL};
        snprintf(url, sizeof url, "127.0.0.1:%d", port_main);
        t.url = url;
        t.headers = tok;
        /* one request with all of them, then each alone */
        CHECK_EQ_INT(osb_files_upload(c, &t, files, N), OSB_OK);
        for (i = 0; i < N; i++) CHECK_EQ_INT(osb_files_upload(c, &t, &files[i], 1), OSB_OK);
    }
    osb_client_free(c);
    l = log_get();
    CHECK(l && l->count == N + 1);
    if (l && l->count == N + 1) {
        size_t k;
        for (k = 0; k < l->count; k++) {
            const rec *r = &l->items[k];
            size_t first = k == 0 ? 0 : k - 1, n = k == 0 ? N : 1, j;
            CHECK(r->upload_error.ptr == NULL);
            CHECK_EQ_INT(r->upload_count, n);
            for (j = 0; j < n && j < r->upload_count; j++) {
                CHECK_EQ_STR(r->upload[j].path.ptr, target[first + j]);    /* exact */
                CHECK_EQ_STR(r->upload[j].filename.ptr, go_names[first + j]);
                CHECK_EQ_INT(r->upload[j].size, (first + j) % 2 ? 3 : 5);
            }
            if (have_go) {
                CHECK(r->go.error.ptr == NULL);
                if (r->go.error.ptr) fprintf(stderr, "  Go: %s\n", r->go.error.ptr);
                CHECK_EQ_INT(r->go.count, n);
                for (j = 0; j < n && j < r->go.count; j++) {
                    CHECK_EQ_STR(r->go.items[j].path.ptr, target[first + j]);
                    CHECK_EQ_STR(r->go.items[j].filename.ptr, go_names[first + j]);
                }
            }
        }
    }
    osb_result_free(l);
    for (i = 0; i < N; i++) remove(local[i]);
    rmdir(dir);
    if (!have_go) SKIP("go not installed: Go's own mime/multipart not run (the Go-rules parser was)");
}

/* ---- integers on the wire ---- */

static int sink_none(void *user, const void *data, size_t len) {
    (void)user; (void)data; (void)len;
    return 0;
}

TEST(integers_above_int64_max_refused_locally) {
    osb_client *c;
    osb_target t;
    osb_download_request dr;
    osb_upload_file f;
    uint64_t next = 0;
    rec_list *l;
    char url[64];
    NEED_SERVER();
    log_reset();
    c = client_with(NULL, NULL);
    snprintf(url, sizeof url, "127.0.0.1:%d", port_main);
    t.url = url;
    t.headers = NULL;
    CHECK_EQ_INT(osb_command_logs(c, &t, "cmd", (uint64_t)INT64_MAX + 1, sink_none, NULL, &next), OSB_ERR_INVALID_ARG);
    CHECK_EQ_INT(osb_command_logs(c, &t, "cmd", UINT64_MAX, sink_none, NULL, &next), OSB_ERR_INVALID_ARG);
    CHECK_EQ_INT(osb_command_logs(c, &t, "cmd", (uint64_t)INT64_MAX, sink_none, NULL, &next), OSB_OK);
    memset(&dr, 0, sizeof dr);
    dr.path = "/f";
    dr.offset = (uint64_t)INT64_MAX + 1;
    CHECK_EQ_INT(osb_files_download(c, &t, &dr, sink_none, NULL, NULL), OSB_ERR_INVALID_ARG);
    dr.offset = 10;
    dr.length = (uint64_t)INT64_MAX;           /* the last byte would pass INT64_MAX */
    CHECK_EQ_INT(osb_files_download(c, &t, &dr, sink_none, NULL, NULL), OSB_ERR_INVALID_ARG);
    dr.length = UINT64_MAX;
    CHECK_EQ_INT(osb_files_download(c, &t, &dr, sink_none, NULL, NULL), OSB_ERR_INVALID_ARG);
    memset(&f, 0, sizeof f);
    f.path = "/big";
    f.read = read_five;
    f.size = (uint64_t)INT64_MAX + 1;
    CHECK_EQ_INT(osb_files_upload(c, &t, &f, 1), OSB_ERR_INVALID_ARG);
    osb_client_free(c);
    l = log_get();
    CHECK(l && l->count == 1);   /* only the log read at INT64_MAX */
    if (l && l->count == 1) CHECK(strstr(l->items[0].target.ptr, "cursor=9223372036854775807") != NULL);
    osb_result_free(l);
}

/* ---- line reads: the query, never a Range, no resumption ---- */

TEST(line_reads_on_the_wire) {
    osb_client *c;
    osb_target t;
    osb_download_request dr;
    osb_download_info info;
    osb_buf b;
    rec_list *l;
    char url[64];
    NEED_SERVER();
    log_reset();
    c = client_with(NULL, NULL);
    snprintf(url, sizeof url, "127.0.0.1:%d", port_main);
    t.url = url;
    t.headers = NULL;
    memset(&dr, 0, sizeof dr);
    dr.path = "/w/f.txt";
    dr.line_offset = 2;
    dr.line_limit = 3;
    osb_buf_init(&b, NULL);
    CHECK_EQ_INT(osb_files_download(c, &t, &dr, osb_buf_sink, &b, &info), OSB_OK);
    CHECK_EQ_MEM(b.data, b.len, "l2\nl3", 5);
    dr.line_offset = 0;                     /* a limit alone sends no offset */
    CHECK_EQ_INT(osb_files_download(c, &t, &dr, osb_buf_sink, &b, &info), OSB_OK);
    dr.line_limit = 0;
    dr.line_offset = 7;
    CHECK_EQ_INT(osb_files_download(c, &t, &dr, osb_buf_sink, &b, &info), OSB_OK);
    /* refused locally: a byte range as well */
    dr.offset = 1;
    CHECK_EQ_INT(osb_files_download(c, &t, &dr, osb_buf_sink, &b, &info), OSB_ERR_INVALID_ARG);
    dr.offset = 0;
    /* a line read cut after some bytes is not resumed with a byte Range */
    dr.path = "/cut";
    b.len = 0;
    CHECK_EQ_INT(osb_files_download(c, &t, &dr, osb_buf_sink, &b, &info), OSB_ERR_TRUNCATED);
    CHECK_EQ_INT(info.resumes, 0);
    CHECK_EQ_MEM(b.data, b.len, "abc", 3);
    osb_buf_free(&b);
    osb_client_free(c);
    l = log_get();
    CHECK(l && l->count == 4);
    if (l && l->count == 4) {
        size_t i;
        CHECK_EQ_STR(l->items[0].target.ptr, "/files/download?path=%2Fw%2Ff.txt&offset=2&limit=3");
        CHECK_EQ_STR(l->items[1].target.ptr, "/files/download?path=%2Fw%2Ff.txt&limit=3");
        CHECK_EQ_STR(l->items[2].target.ptr, "/files/download?path=%2Fw%2Ff.txt&offset=7");
        CHECK_EQ_STR(l->items[3].target.ptr, "/files/download?path=%2Fcut&offset=7");
        for (i = 0; i < l->count; i++) CHECK_EQ_INT(fields(&l->items[i], "Range"), 0);
    }
    osb_result_free(l);
}

/* ---- redirects carry nothing anywhere ---- */

TEST(redirects_not_followed_with_credentials) {
    osb_client *c;
    osb_http_response r;
    osb_target t;
    rec_list *l;
    char url[64], q[160];
    static const char *const tok[] = {"X-EXECD-ACCESS-TOKEN: secret-tok", NULL};
    NEED_SERVER();
    log_reset();
    c = client_with(NULL, NULL);
    snprintf(q, sizeof q, "to=http%%3A%%2F%%2F127.0.0.1%%3A%d%%2Fstolen", port_main);
    {
        osb_http_request req;
        memset(&req, 0, sizeof req);
        req.path = "/redirect";
        req.query = q;
        CHECK_EQ_INT(osb_request_raw(c, &req, &r), OSB_ERR_HTTP);
    }
    CHECK_EQ_INT(osb_client_error(c)->http_status, 307);
    snprintf(url, sizeof url, "127.0.0.1:%d", port_main);
    t.url = url;
    t.headers = tok;
    CHECK_EQ_INT(osb_execd_ping(c, &t), OSB_OK);   /* /ping answers 200 here */
    osb_client_free(c);
    l = log_get();
    CHECK(l && l->count == 2);
    if (l) {
        size_t i;
        for (i = 0; i < l->count; i++) CHECK(!starts(l->items[i].target, "/stolen"));
    }
    osb_result_free(l);
}

TEST(zz_stop_server) {
    if (server_state > 0) testproc_stop(&server);
    server_state = 0;
}

int main(int argc, char **argv) { return testlib_main(argc, argv); }
