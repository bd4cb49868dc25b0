/* test_proxy.c -- HTTP proxies: the NO_PROXY matcher, proxy URLs and the
 * environment's precedence (osb_proxy_for), and real traffic through
 * tests/servers/proxy.py (CONNECT tunnels, absolute-form forwarding, Basic
 * credentials and 407) against the dev server, plain and over TLS
 * (tests/servers/front.py with the test CA), against tests/servers/wire.py
 * to see what the target received, and against tests/servers/wsserver.py
 * for a WebSocket upgrade. Loopback only. */
#define OSB_TLS 1
#define OPENSANDBOX_IMPLEMENTATION
#include "../opensandbox.h"
#include "testlib.h"
#include "testdev.h"
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>

#define CERTS "build/tls-certs"

static const char *const PROXY_VARS[] = {"http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy",
                                         "ALL_PROXY", "no_proxy", "NO_PROXY", "REQUEST_METHOD", NULL};

static void clear_proxy_env(void) {
    int i;
    for (i = 0; PROXY_VARS[i]; i++) unsetenv(PROXY_VARS[i]);
}

/* ---- the NO_PROXY matcher ---- */

TEST(no_proxy_table) {
    static const struct { const char *list, *host; unsigned port; int want; } t[] = {
        {"", "example.com", 80, 0},
        {"*", "anything.test", 1, 1},
        {"example.com", "example.com", 80, 1},
        {"example.com", "EXAMPLE.com", 80, 1},
        {"Example.COM", "api.example.com", 443, 1},
        {"example.com", "badexample.com", 80, 0},            /* label boundary */
        {"example.com", "example.com.evil.test", 80, 0},
        {".example.com", "example.com", 80, 1},              /* curl: the leading dot is dropped */
        {".example.com", "a.b.example.com", 80, 1},
        {"*.example.com", "x.example.com", 80, 1},
        {"example.com.", "example.com", 80, 1},
        {"example.com", "example.com.", 80, 1},
        {"foo.test, example.com", "example.com", 80, 1},
        {"foo.test example.com", "example.com", 80, 1},
        {"foo.test,,  ,example.com", "example.com", 80, 1},
        {"foo.test", "example.com", 80, 0},
        {"example.com:8080", "example.com", 8080, 1},
        {"example.com:8080", "example.com", 80, 0},
        {"example.com:0", "example.com", 80, 0},
        {"example.com:x", "example.com", 80, 0},
        {"127.0.0.1", "127.0.0.1", 80, 1},
        {"127.0.0.1", "127.0.0.2", 80, 0},
        {"127.0.0.1:9", "127.0.0.1", 9, 1},
        {"127.0.0.1:9", "127.0.0.1", 10, 0},
        {"10.0.0.0/8", "10.200.3.4", 80, 1},
        {"10.0.0.0/8", "11.0.0.1", 80, 0},
        {"192.168.1.0/24", "192.168.1.255", 80, 1},
        {"192.168.1.0/24", "192.168.2.1", 80, 0},
        {"0.0.0.0/0", "8.8.8.8", 80, 1},
        {"10.0.0.0/33", "10.0.0.1", 80, 0},                  /* unreadable: matches nothing */
        {"10.0.0.0/8", "fd00::1", 80, 0},                    /* another family */
        {"::1", "::1", 80, 1},
        {"::1", "[::1]", 80, 1},
        {"[::1]", "::1", 80, 1},
        {"0:0::1", "::1", 80, 1},                            /* the same address, written otherwise */
        {"[::1]:8080", "[::1]", 8080, 1},
        {"[::1]:8080", "[::1]", 80, 0},
        {"fd00::/8", "fd12:3456::1", 80, 1},
        {"fd00::/8", "fe80::1", 80, 0},
        {"[fd00::]/8", "fdff::1", 80, 1},
        {"2001:db8::/32", "2001:db8:ffff::1", 443, 1},
        {"2001:db8::/32", "2001:db9::1", 443, 0},
        {"0.1", "127.0.0.1", 80, 0},                         /* names never match addresses */
        {"localhost", "127.0.0.1", 80, 0},                   /* no resolving */
        {"localhost", "localhost", 80, 1},
        {"*", "[::1]", 80, 1},
        {"exa*mple.com", "example.com", 80, 0},
    };
    size_t i;
    for (i = 0; i < sizeof t / sizeof t[0]; i++) {
        int got = osb_no_proxy_match(t[i].list, t[i].host, t[i].port);
        if (got != t[i].want) fprintf(stderr, "  no_proxy '%s' host '%s' port %u: got %d\n", t[i].list, t[i].host, t[i].port, got);
        CHECK_EQ_INT(got, t[i].want);
    }
    CHECK_EQ_INT(osb_no_proxy_match(NULL, "a", 1), 0);
    CHECK_EQ_INT(osb_no_proxy_match("*", NULL, 1), 0);
    CHECK_EQ_INT(osb_no_proxy_match("*", "", 1), 0);
}

/* ---- proxy URLs ---- */

static osb_err proxy_for(const char *proxy, const char *no_proxy, const char *url, char *out, size_t cap) {
    osb_client_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.proxy = proxy;
    cfg.no_proxy = no_proxy;
    return osb_proxy_for(&cfg, url, out, cap);
}

TEST(proxy_urls) {
    static const struct { const char *proxy, *want; osb_err e; } t[] = {
        {"http://127.0.0.1:3128", "http://127.0.0.1:3128", OSB_OK},
        {"HTTP://127.0.0.1:3128/", "http://127.0.0.1:3128", OSB_OK},
        {"127.0.0.1:3128", "http://127.0.0.1:3128", OSB_OK},       /* no scheme: http */
        {"proxy.test", "http://proxy.test:80", OSB_OK},             /* the port defaults to 80 */
        {"http://user:pa%3Ass@proxy.test:8080", "http://proxy.test:8080", OSB_OK},   /* never credentials */
        {"http://us@er:p@ss@proxy.test:8080", "http://proxy.test:8080", OSB_OK},    /* the last '@' ends them */
        {"http://[::1]:3128", "http://[::1]:3128", OSB_OK},
        {"https://proxy.test:3129", "https://proxy.test:3129", OSB_ERR_UNSUPPORTED},
        {"socks5://proxy.test:1080", "socks5://proxy.test:1080", OSB_ERR_UNSUPPORTED},
        {"socks5h://proxy.test:1080", "socks5h://proxy.test:1080", OSB_ERR_UNSUPPORTED},
        {"ftp://proxy.test", "", OSB_ERR_INVALID_ARG},
        {"http://proxy.test:3128/path", "", OSB_ERR_INVALID_ARG},
        {"http://proxy.test:3128?x", "", OSB_ERR_INVALID_ARG},
        {"http://proxy.test:99999", "", OSB_ERR_INVALID_ARG},
        {"http://u:p@", "", OSB_ERR_INVALID_ARG},
        {"http://u:%zz@proxy.test", "", OSB_ERR_INVALID_ARG},
        {"http://010.0.0.1:3128", "", OSB_ERR_INVALID_ARG},
        {"http://proxy test:3128", "", OSB_ERR_INVALID_ARG},
    };
    char out[300];
    size_t i;
    for (i = 0; i < sizeof t / sizeof t[0]; i++) {
        osb_err e = proxy_for(t[i].proxy, NULL, "https://target.test", out, sizeof out);
        if (e != t[i].e || strcmp(out, t[i].want)) fprintf(stderr, "  proxy '%s': %d '%s'\n", t[i].proxy, e, out);
        CHECK_EQ_INT(e, t[i].e);
        CHECK_EQ_STR(out, t[i].want);
    }
    /* a configured proxy that cannot be read stops the client; one that cannot be used does not */
    {
        osb_client_config cfg;
        osb_client *c = NULL;
        memset(&cfg, 0, sizeof cfg);
        cfg.domain = "127.0.0.1:1";
        cfg.proxy = "ftp://proxy.test";
        CHECK_EQ_INT(osb_client_new(&cfg, &c), OSB_ERR_INVALID_ARG);
        CHECK(c == NULL);
        cfg.proxy = "https://proxy.test:3129";
        CHECK_EQ_INT(osb_client_new(&cfg, &c), OSB_OK);
        osb_client_free(c);
    }
    /* credentials longer than 255 bytes are refused, not cut */
    {
        char big[400];
        memset(big, 'a', sizeof big);
        memcpy(big, "http://", 7);
        memcpy(big + 300, "@proxy.test", 12);
        CHECK_EQ_INT(proxy_for(big, NULL, "http://t.test", out, sizeof out), OSB_ERR_INVALID_ARG);
    }
    /* out too small; the list of the configuration */
    CHECK_EQ_INT(proxy_for("http://127.0.0.1:3128", NULL, "http://t.test", out, 8), OSB_ERR_TOO_LARGE);
    CHECK_EQ_INT(proxy_for("http://127.0.0.1:3128", "t.test", "http://a.t.test:9", out, sizeof out), OSB_OK);
    CHECK_EQ_STR(out, "");
    CHECK_EQ_INT(proxy_for("http://127.0.0.1:3128", "t.test", "http://a.other.test:9", out, sizeof out), OSB_OK);
    CHECK_EQ_STR(out, "http://127.0.0.1:3128");
    CHECK_EQ_INT(proxy_for("", NULL, "http://a.test", out, sizeof out), OSB_OK);
    CHECK_EQ_STR(out, "");
    CHECK_EQ_INT(proxy_for("http://127.0.0.1:3128", NULL, "not a url", out, sizeof out), OSB_ERR_INVALID_ARG);
}

/* ---- the environment ---- */

static void set_env_line(const char *line) {
    char buf[512], *p, *save = NULL;
    snprintf(buf, sizeof buf, "%s", line);
    for (p = strtok_r(buf, " ", &save); p; p = strtok_r(NULL, " ", &save)) {
        char *eq = strchr(p, '=');
        if (!eq) continue;
        *eq = 0;
        setenv(p, eq + 1, 1);
    }
}

TEST(environment_precedence) {
    static const struct { const char *env, *cfg_proxy, *url, *want; osb_err e; } t[] = {
        {"", NULL, "http://t.test", "", OSB_OK},
        {"http_proxy=a.test:1", NULL, "http://t.test", "http://a.test:1", OSB_OK},
        {"http_proxy=a.test:1", NULL, "https://t.test", "", OSB_OK},              /* per scheme */
        {"HTTP_PROXY=b.test:2", NULL, "http://t.test", "http://b.test:2", OSB_OK},
        {"http_proxy=a.test:1 HTTP_PROXY=b.test:2", NULL, "http://t.test", "http://a.test:1", OSB_OK},   /* lower first */
        {"https_proxy=c.test:3 HTTPS_PROXY=d.test:4", NULL, "https://t.test", "http://c.test:3", OSB_OK},
        {"HTTPS_PROXY=d.test:4", NULL, "https://t.test", "http://d.test:4", OSB_OK},
        {"HTTPS_PROXY=d.test:4", NULL, "http://t.test", "", OSB_OK},
        {"ALL_PROXY=e.test:5", NULL, "http://t.test", "http://e.test:5", OSB_OK},
        {"ALL_PROXY=e.test:5", NULL, "https://t.test", "http://e.test:5", OSB_OK},
        {"all_proxy=f.test:6 ALL_PROXY=e.test:5", NULL, "https://t.test", "http://f.test:6", OSB_OK},
        {"HTTPS_PROXY=d.test:4 all_proxy=f.test:6", NULL, "https://t.test", "http://d.test:4", OSB_OK},
        {"http_proxy= HTTP_PROXY=b.test:2", NULL, "http://t.test", "http://b.test:2", OSB_OK},  /* empty = unset */
        /* CGI (httpoxy): HTTP_PROXY is not read, http_proxy and ALL_PROXY are */
        {"REQUEST_METHOD=GET HTTP_PROXY=b.test:2", NULL, "http://t.test", "", OSB_OK},
        {"REQUEST_METHOD=GET HTTP_PROXY=b.test:2 ALL_PROXY=e.test:5", NULL, "http://t.test", "http://e.test:5", OSB_OK},
        {"REQUEST_METHOD=GET http_proxy=a.test:1", NULL, "http://t.test", "http://a.test:1", OSB_OK},
        {"REQUEST_METHOD=GET HTTPS_PROXY=d.test:4", NULL, "https://t.test", "http://d.test:4", OSB_OK},
        /* NO_PROXY, lower case first */
        {"HTTP_PROXY=b.test:2 NO_PROXY=t.test", NULL, "http://t.test", "", OSB_OK},
        {"HTTP_PROXY=b.test:2 no_proxy=x.test NO_PROXY=t.test", NULL, "http://t.test", "http://b.test:2", OSB_OK},
        {"HTTP_PROXY=b.test:2 NO_PROXY=*", NULL, "http://t.test", "", OSB_OK},
        /* the configuration wins; "" ignores the environment; NO_PROXY still applies to a configured proxy */
        {"HTTP_PROXY=b.test:2", "http://g.test:7", "http://t.test", "http://g.test:7", OSB_OK},
        {"HTTP_PROXY=b.test:2", "", "http://t.test", "", OSB_OK},
        {"HTTP_PROXY=b.test:2 NO_PROXY=t.test", "http://g.test:7", "http://t.test", "", OSB_OK},
        /* a variable that cannot be read or used fails the requests that use it */
        {"HTTPS_PROXY=https://h.test:8", NULL, "https://t.test", "https://h.test:8", OSB_ERR_UNSUPPORTED},
        {"HTTPS_PROXY=ftp://h.test", NULL, "https://t.test", "", OSB_ERR_INVALID_ARG},
        {"HTTPS_PROXY=ftp://h.test", NULL, "http://t.test", "", OSB_OK},
    };
    char out[300];
    size_t i;
    for (i = 0; i < sizeof t / sizeof t[0]; i++) {
        osb_err e;
        clear_proxy_env();
        set_env_line(t[i].env);
        e = proxy_for(t[i].cfg_proxy, NULL, t[i].url, out, sizeof out);
        if (e != t[i].e || strcmp(out, t[i].want))
            fprintf(stderr, "  env '%s' proxy %s url %s: %d '%s'\n", t[i].env, t[i].cfg_proxy ? t[i].cfg_proxy : "NULL",
                    t[i].url, e, out);
        CHECK_EQ_INT(e, t[i].e);
        CHECK_EQ_STR(out, t[i].want);
    }
    clear_proxy_env();
}

/* ---- servers ---- */

typedef struct proxy_srv {
    testproc p;
    int port;
    char log[128];
    char url[64];
} proxy_srv;

/* Starts tests/servers/proxy.py; extra: more arguments, NULL-terminated. */
static int proxy_start(proxy_srv *s, const char *const *extra) {
    const char *argv[16];
    int n = 0;
    static int seq;
    snprintf(s->log, sizeof s->log, "/tmp/osb-proxy-log-%ld-%d", (long)getpid(), ++seq);
    unlink(s->log);
    argv[n++] = "python3";
    argv[n++] = "tests/servers/proxy.py";
    argv[n++] = "--log";
    argv[n++] = s->log;
    while (extra && *extra && n < 14) argv[n++] = *extra++;
    argv[n] = NULL;
    if (testproc_start(&s->p, argv) != 0) return 0;
    s->port = atoi(s->p.ready);
    snprintf(s->url, sizeof s->url, "http://127.0.0.1:%d", s->port);
    return s->port > 0;
}

static void proxy_stop(proxy_srv *s) {
    testproc_stop(&s->p);
    unlink(s->log);
}

/* The proxy's log (JSON lines) into b. */
static void proxy_log(const proxy_srv *s, osb_buf *b) {
    char chunk[4096];
    size_t n;
    FILE *f = fopen(s->log, "r");
    b->len = 0;
    if (!f) {
        osb_buf_append(b, "", 0);
        return;
    }
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) osb_buf_append(b, chunk, n);
    fclose(f);
    osb_buf_append(b, "", 0);
    if (b->data) b->data[b->len] = 0;
}

static int count_of(const char *hay, const char *needle) {
    int n = 0;
    const char *p = hay;
    while (p && (p = strstr(p, needle)) != NULL) {
        n++;
        p += strlen(needle);
    }
    return n;
}

static int certs_ready(void) {
    static int done, ok;
    if (!done) {
        done = 1;
        ok = system("sh tests/tls/make-certs.sh " CERTS " >/dev/null 2>&1") == 0;
    }
    return ok;
}

/* tests/servers/front.py: TLS (certificate for "localhost") in front of backend. */
static int front_start(testproc *p, int backend) {
    char port[16];
    const char *argv[] = {"python3", "tests/servers/front.py", "--backend", port, "--cert", CERTS "/good.pem",
                          "--key", CERTS "/good.key", NULL};
    snprintf(port, sizeof port, "%d", backend);
    if (testproc_start(p, argv) != 0) return 0;
    return atoi(p->ready);
}

static int dev_port(void) {
    const char *colon = strrchr(testdev_domain, ':');
    return colon ? atoi(colon + 1) : 0;
}

static osb_client *client_via(const char *domain, const char *protocol, const char *proxy) {
    osb_client_config cfg;
    osb_client *c = NULL;
    memset(&cfg, 0, sizeof cfg);
    cfg.domain = domain;
    cfg.protocol = protocol;
    cfg.api_key = testdev_api_key;
    cfg.proxy = proxy;
    cfg.tls.ca_file = CERTS "/ca.pem";
    if (osb_client_new(&cfg, &c) != OSB_OK) return NULL;
    return c;
}

/* The quickstart's flow: create, run a command, upload and download a
 * file, kill. */
static void demo_flow(osb_client *c, int use_server_proxy) {
    static const char text[] = "through the proxy\n";
    osb_sandbox_create_req req;
    osb_sandbox_options opt;
    osb_sandbox *sb = NULL;
    osb_execution x;
    osb_buf back;
    memset(&req, 0, sizeof req);
    memset(&opt, 0, sizeof opt);
    memset(&x, 0, sizeof x);
    req.image = "python:3.11";
    opt.use_server_proxy = use_server_proxy;
    CHECK_EQ_INT(osb_sandbox_open(c, &req, &opt, &sb), OSB_OK);
    if (!sb) {
        fprintf(stderr, "  open: %s\n", osb_client_error(c)->message);
        return;
    }
    CHECK_EQ_INT(osb_sandbox_run(sb, "echo hello; exit 3", NULL, NULL, &x), OSB_OK);
    CHECK(x.exit_code_known && x.exit_code == 3);
    osb_execution_free(&x);
    CHECK_EQ_INT(osb_sandbox_write_file(sb, "/tmp/proxied.txt", text, sizeof text - 1), OSB_OK);
    osb_buf_init(&back, NULL);
    CHECK_EQ_INT(osb_sandbox_read_file(sb, "/tmp/proxied.txt", &back), OSB_OK);
    CHECK_EQ_MEM(back.data, back.len, text, sizeof text - 1);
    osb_buf_free(&back);
    CHECK_EQ_INT(osb_sandbox_kill(sb), OSB_OK);
    osb_sandbox_close(sb);
}

#define NEED(x, what) do { if (!(x)) { CHECK(!what); return; } } while (0)

/* Plain http: every request forwarded in absolute form, over pooled
 * connections to the proxy. */
TEST(demo_flow_plain_through_proxy) {
    proxy_srv px;
    osb_client *c;
    osb_buf log;
    char line[256];
    clear_proxy_env();
    NEED(testdev_start(), "dev server");
    NEED(proxy_start(&px, NULL), "tests/servers/proxy.py");
    c = client_via(testdev_domain, NULL, px.url);
    NEED(c, "client");
    demo_flow(c, 0);
    CHECK(osb_client_pooled(c) >= 1);
    osb_client_free(c);
    osb_buf_init(&log, NULL);
    proxy_log(&px, &log);
    snprintf(line, sizeof line, "\"line\": \"POST http://%s/v1/sandboxes HTTP/1.1\"", testdev_domain);
    CHECK_EQ_INT(count_of(log.data, line), 1);
    CHECK(count_of(log.data, "\"line\": \"GET http://") >= 1);
    CHECK(count_of(log.data, "/files/upload HTTP/1.1") >= 1);
    CHECK(count_of(log.data, "/files/download") >= 1);
    CHECK(count_of(log.data, "\"line\": \"DELETE http://") >= 1);
    CHECK_EQ_INT(count_of(log.data, "CONNECT "), 0);
    CHECK_EQ_INT(count_of(log.data, "\"auth\": null"), count_of(log.data, "\"line\""));
    /* requests shared connections to the proxy */
    CHECK(count_of(log.data, "\"conn\": 1,") >= 2);
    osb_buf_free(&log);
    proxy_stop(&px);
}

/* https: one CONNECT tunnel per target, TLS inside with the target's name
 * ("localhost", which the certificate names), reused by the pool. */
TEST(demo_flow_tls_through_proxy) {
    proxy_srv px;
    testproc fr;
    osb_client *c;
    osb_buf log;
    char domain[64], line[96];
    int fport;
    clear_proxy_env();
    NEED(testdev_start(), "dev server");
    NEED(certs_ready(), "tests/tls/make-certs.sh");
    NEED((fport = front_start(&fr, dev_port())) > 0, "tests/servers/front.py");
    NEED(proxy_start(&px, NULL), "tests/servers/proxy.py");
    snprintf(domain, sizeof domain, "localhost:%d", fport);
    c = client_via(domain, "https", px.url);
    NEED(c, "client");
    demo_flow(c, 1);
    osb_client_free(c);
    osb_buf_init(&log, NULL);
    proxy_log(&px, &log);
    snprintf(line, sizeof line, "\"line\": \"CONNECT localhost:%d HTTP/1.1\"", fport);
    /* the pool kept the tunnel: far fewer CONNECTs than requests (the
       flow makes well over ten), and nothing else reached the proxy */
    CHECK(count_of(log.data, line) >= 1);
    CHECK(count_of(log.data, line) <= 3);
    CHECK_EQ_INT(count_of(log.data, "\"line\""), count_of(log.data, line));
    CHECK_EQ_INT(count_of(log.data, testdev_api_key), 0);     /* the target's credentials stay in the tunnel */
    CHECK(count_of(log.data, "Host: localhost:") >= 1);
    osb_buf_free(&log);
    proxy_stop(&px);
    testproc_stop(&fr);
}

/* A tunnel is pooled by target; a direct connection to the same target is
 * another pool entry. */
TEST(pool_reuses_a_tunnel_for_its_target) {
    proxy_srv px;
    testproc fr;
    osb_client *c;
    osb_client_config cfg;
    osb_http_request req;
    osb_http_response res;
    osb_buf log;
    char url[64], line[96];
    int fport, i;
    clear_proxy_env();
    NEED(testdev_start(), "dev server");
    NEED(certs_ready(), "tests/tls/make-certs.sh");
    NEED((fport = front_start(&fr, dev_port())) > 0, "tests/servers/front.py");
    NEED(proxy_start(&px, NULL), "tests/servers/proxy.py");
    snprintf(url, sizeof url, "https://localhost:%d", fport);
    memset(&cfg, 0, sizeof cfg);
    cfg.domain = url;
    cfg.api_key = testdev_api_key;
    cfg.proxy = px.url;
    cfg.no_proxy = "direct.invalid";
    cfg.tls.ca_file = CERTS "/ca.pem";
    NEED(osb_client_new(&cfg, &c) == OSB_OK, "client");
    for (i = 0; i < 5; i++) {
        memset(&req, 0, sizeof req);
        req.path = "/v1/sandboxes";
        CHECK_EQ_INT(osb_request_raw(c, &req, &res), OSB_OK);
        CHECK_EQ_INT(res.status, 200);
        osb_http_response_free(&res);
        CHECK_EQ_INT(osb_client_pooled(c), 1);
    }
    osb_buf_init(&log, NULL);
    proxy_log(&px, &log);
    snprintf(line, sizeof line, "\"line\": \"CONNECT localhost:%d HTTP/1.1\"", fport);
    CHECK_EQ_INT(count_of(log.data, line), 1);
    osb_client_free(c);
    /* the same target, direct (NO_PROXY names it), next to the tunnel */
    cfg.no_proxy = "localhost";
    NEED(osb_client_new(&cfg, &c) == OSB_OK, "client");
    memset(&req, 0, sizeof req);
    req.path = "/v1/sandboxes";
    CHECK_EQ_INT(osb_request_raw(c, &req, &res), OSB_OK);
    osb_http_response_free(&res);
    osb_client_free(c);
    proxy_log(&px, &log);
    CHECK_EQ_INT(count_of(log.data, line), 1);   /* not through the proxy */
    osb_buf_free(&log);
    proxy_stop(&px);
    testproc_stop(&fr);
}

/* ---- credentials ---- */

static osb_err get_through(const char *domain, const char *protocol, const char *proxy, osb_client **out) {
    osb_http_request req;
    osb_http_response res;
    osb_err e;
    osb_client *c = client_via(domain, protocol, proxy);
    *out = c;
    if (!c) return OSB_ERR_NOMEM;
    memset(&req, 0, sizeof req);
    req.path = "/v1/sandboxes";
    e = osb_request_raw(c, &req, &res);
    osb_http_response_free(&res);
    return e;
}

TEST(proxy_authentication_407) {
    static const char *const extra[] = {"--user", "alice", "--password", "s3cr:t @x", NULL};
    proxy_srv px;
    testproc fr;
    osb_client *c;
    osb_buf log;
    char domain[64], plain[160], url[160], want[64];
    int fport, tls;
    clear_proxy_env();
    NEED(testdev_start(), "dev server");
    NEED(certs_ready(), "tests/tls/make-certs.sh");
    NEED((fport = front_start(&fr, dev_port())) > 0, "tests/servers/front.py");
    NEED(proxy_start(&px, extra), "tests/servers/proxy.py");
    snprintf(domain, sizeof domain, "localhost:%d", fport);
    snprintf(plain, sizeof plain, "%s", testdev_domain);
    snprintf(want, sizeof want, "proxy 127.0.0.1:%d refused", px.port);
    for (tls = 0; tls < 2; tls++) {
        const osb_error *d;
        /* no credentials */
        CHECK_EQ_INT(get_through(tls ? domain : plain, tls ? "https" : "http", px.url, &c), OSB_ERR_CONNECT);
        d = osb_client_error(c);
        CHECK_EQ_INT(d->http_status, 407);
        CHECK(strstr(d->message, want) != NULL);
        CHECK(strstr(d->message, "none were sent") != NULL);
        CHECK(!osb_error_is_retryable(d));
        osb_client_free(c);
        /* wrong ones: said so, and neither they nor the URL's userinfo show */
        snprintf(url, sizeof url, "http://alice:wrong-pass@127.0.0.1:%d", px.port);
        CHECK_EQ_INT(get_through(tls ? domain : plain, tls ? "https" : "http", url, &c), OSB_ERR_CONNECT);
        d = osb_client_error(c);
        CHECK_EQ_INT(d->http_status, 407);
        CHECK(strstr(d->message, "were refused") != NULL);
        CHECK(strstr(d->message, "wrong-pass") == NULL && strstr(d->message, "alice") == NULL);
        CHECK(strstr(d->message, want) != NULL);
        osb_client_free(c);
        /* the right ones, percent-encoded in the URL */
        snprintf(url, sizeof url, "http://alice:s3cr%%3At%%20%%40x@127.0.0.1:%d", px.port);
        CHECK_EQ_INT(get_through(tls ? domain : plain, tls ? "https" : "http", url, &c), OSB_OK);
        osb_client_free(c);
    }
    osb_buf_init(&log, NULL);
    proxy_log(&px, &log);
    CHECK_EQ_INT(count_of(log.data, "\"auth\": null"), 2);   /* a 407 is not retried */
    /* base64("alice:s3cr:t @x") */
    CHECK(count_of(log.data, "\"auth\": \"Basic YWxpY2U6czNjcjp0IEB4\"") >= 2);
    CHECK(count_of(log.data, "\"auth\": \"Basic YWxpY2U6d3JvbmctcGFzcw==\"") >= 2);
    osb_buf_free(&log);
    proxy_stop(&px);
    testproc_stop(&fr);
}

/* What the target received, recorded by tests/servers/wire.py: no proxy
 * credentials, directly (forwarded) or inside a tunnel (TLS front). */
TEST(credentials_never_reach_the_target) {
    const char *wargv[] = {"python3", "tests/servers/wire.py", "--lifetime", "120", NULL};
    proxy_srv px;
    testproc wire, fr;
    osb_client *c;
    osb_buf log;
    osb_http_request req;
    osb_http_response res;
    char wdomain[64], fdomain[64], url[160], logurl[96];
    int wport, fport, tls;
    clear_proxy_env();
    NEED(certs_ready(), "tests/tls/make-certs.sh");
    NEED(testproc_start(&wire, wargv) == 0, "tests/servers/wire.py");
    wport = atoi(strstr(wire.ready, "\"port\"") ? strstr(wire.ready, "\"port\"") + 7 : "0");
    NEED(wport > 0, "wire port");
    NEED((fport = front_start(&fr, wport)) > 0, "tests/servers/front.py");
    NEED(proxy_start(&px, NULL), "tests/servers/proxy.py");
    snprintf(wdomain, sizeof wdomain, "127.0.0.1:%d", wport);
    snprintf(fdomain, sizeof fdomain, "localhost:%d", fport);
    snprintf(url, sizeof url, "http://alice:pw-SECRET-1@127.0.0.1:%d", px.port);
    for (tls = 0; tls < 2; tls++) {
        CHECK_EQ_INT(get_through(tls ? fdomain : wdomain, tls ? "https" : "http", url, &c), OSB_OK);
        osb_client_free(c);
    }
    /* a caller cannot send Proxy-Authorization itself */
    c = client_via(wdomain, NULL, url);
    NEED(c, "client");
    {
        const char *h[] = {"Proxy-Authorization: Basic eA==", NULL};
        memset(&req, 0, sizeof req);
        req.path = "/v1/sandboxes";
        req.headers = h;
        CHECK_EQ_INT(osb_request_raw(c, &req, &res), OSB_ERR_INVALID_ARG);
        CHECK(strstr(osb_client_error(c)->message, "Proxy-Authorization") != NULL);
        osb_http_response_free(&res);
    }
    osb_client_free(c);
    /* the target's log, fetched directly */
    {
        osb_client_config cfg;
        memset(&cfg, 0, sizeof cfg);
        cfg.domain = wdomain;
        cfg.proxy = "";
        NEED(osb_client_new(&cfg, &c) == OSB_OK, "client");
        snprintf(logurl, sizeof logurl, "http://%s/__log", wdomain);
        memset(&req, 0, sizeof req);
        req.url = logurl;
        CHECK_EQ_INT(osb_request_raw(c, &req, &res), OSB_OK);
        CHECK_EQ_INT(count_of(res.body.data, "\"target\": \"/v1/sandboxes\""), 2);            /* both arrived */
        CHECK_EQ_INT(count_of(res.body.data, "roxy-Authorization"), 0);
        CHECK_EQ_INT(count_of(res.body.data, "YWxpY2U6cHctU0VDUkVULTE"), 0);  /* base64("alice:pw-SECRET-1") */
        CHECK_EQ_INT(count_of(res.body.data, "SECRET"), 0);
        CHECK_EQ_INT(count_of(res.body.data, "http://"), 0);               /* origin form at the target */
        osb_http_response_free(&res);
        osb_client_free(c);
    }
    /* the proxy saw them: once forwarded, once on CONNECT */
    osb_buf_init(&log, NULL);
    proxy_log(&px, &log);
    CHECK_EQ_INT(count_of(log.data, "\"auth\": \"Basic YWxpY2U6cHctU0VDUkVULTE=\""), 2);
    CHECK_EQ_INT(count_of(log.data, "alice:"), 0);                          /* never in a request line */
    osb_buf_free(&log);
    proxy_stop(&px);
    testproc_stop(&fr);
    testproc_stop(&wire);
}

/* ---- refusals ---- */

TEST(https_and_socks_proxies_are_refused) {
    static const char *const proxies[] = {"https://127.0.0.1:9", "socks5://127.0.0.1:9", "socks4://127.0.0.1:9"};
    size_t i;
    clear_proxy_env();
    for (i = 0; i < 3; i++) {
        osb_client *c;
        CHECK_EQ_INT(get_through("127.0.0.1:9", "http", proxies[i], &c), OSB_ERR_UNSUPPORTED);
        CHECK(strstr(osb_client_error(c)->message, "127.0.0.1:9") != NULL);
        CHECK(strstr(osb_client_error(c)->message, "the configuration") != NULL);
        osb_client_free(c);
    }
    /* from the environment, it fails only what would use it */
    {
        osb_client_config cfg;
        osb_client *c;
        osb_http_request req;
        osb_http_response res;
        setenv("HTTPS_PROXY", "https://user:pw-hidden@127.0.0.1:9", 1);
        NEED(testdev_start(), "dev server");
        memset(&cfg, 0, sizeof cfg);
        cfg.domain = "https://127.0.0.1:9";
        NEED(osb_client_new(&cfg, &c) == OSB_OK, "client");
        memset(&req, 0, sizeof req);
        req.path = "/v1/sandboxes";
        CHECK_EQ_INT(osb_request_raw(c, &req, &res), OSB_ERR_UNSUPPORTED);
        CHECK(strstr(osb_client_error(c)->message, "https://127.0.0.1:9 (from HTTPS_PROXY)") != NULL);
        CHECK(strstr(osb_client_error(c)->message, "pw-hidden") == NULL);
        osb_http_response_free(&res);
        {   /* an http target does not use HTTPS_PROXY */
            char url[256];
            snprintf(url, sizeof url, "http://%s/v1/sandboxes", testdev_domain);
            memset(&req, 0, sizeof req);
            req.url = url;
            req.accept_error_body = 1;
            CHECK_EQ_INT(osb_request_raw(c, &req, &res), OSB_OK);
            osb_http_response_free(&res);
        }
        osb_client_free(c);
        clear_proxy_env();
    }
}

TEST(connect_refused_by_the_proxy) {
    static const char *const extra[] = {"--refuse-connect", "403", NULL};
    proxy_srv px;
    osb_client *c;
    char want[80];
    clear_proxy_env();
    NEED(proxy_start(&px, extra), "tests/servers/proxy.py");
    CHECK_EQ_INT(get_through("localhost:9", "https", px.url, &c), OSB_ERR_CONNECT);
    snprintf(want, sizeof want, "proxy 127.0.0.1:%d refused CONNECT to localhost:9: HTTP 403", px.port);
    CHECK(strstr(osb_client_error(c)->message, want) != NULL);
    CHECK_EQ_INT(osb_client_error(c)->http_status, 403);
    CHECK_EQ_INT(osb_client_error(c)->phase, OSB_PHASE_CONNECT);
    osb_client_free(c);
    proxy_stop(&px);
    /* a proxy that is not there: the error names it */
    CHECK_EQ_INT(get_through("localhost:9", "https", "http://127.0.0.1:1", &c), OSB_ERR_CONNECT);
    CHECK(strstr(osb_client_error(c)->message, "cannot connect to proxy 127.0.0.1:1") != NULL);
    osb_client_free(c);
}

/* NO_PROXY and "" send requests past a proxy that is not there. */
TEST(no_proxy_goes_direct) {
    osb_client_config cfg;
    osb_client *c;
    osb_http_request req;
    osb_http_response res;
    clear_proxy_env();
    NEED(testdev_start(), "dev server");
    memset(&cfg, 0, sizeof cfg);
    cfg.domain = testdev_domain;
    cfg.api_key = testdev_api_key;
    cfg.proxy = "http://127.0.0.1:1";
    cfg.no_proxy = "example.test, 127.0.0.0/8";
    NEED(osb_client_new(&cfg, &c) == OSB_OK, "client");
    memset(&req, 0, sizeof req);
    req.path = "/v1/sandboxes";
    CHECK_EQ_INT(osb_request_raw(c, &req, &res), OSB_OK);
    osb_http_response_free(&res);
    osb_client_free(c);
    /* the environment's proxy, with "" in the configuration: not used */
    setenv("http_proxy", "http://127.0.0.1:1", 1);
    cfg.proxy = "";
    cfg.no_proxy = NULL;
    NEED(osb_client_new(&cfg, &c) == OSB_OK, "client");
    CHECK_EQ_INT(osb_request_raw(c, &req, &res), OSB_OK);
    osb_http_response_free(&res);
    osb_client_free(c);
    clear_proxy_env();
}

/* A zero-initialised configuration honours the environment. */
TEST(environment_proxy_is_used) {
    proxy_srv px;
    osb_client *c;
    osb_buf log;
    char line[256];
    clear_proxy_env();
    NEED(testdev_start(), "dev server");
    NEED(proxy_start(&px, NULL), "tests/servers/proxy.py");
    setenv("http_proxy", px.url, 1);
    c = testdev_client();
    NEED(c, "client");
    {
        osb_http_request req;
        osb_http_response res;
        memset(&req, 0, sizeof req);
        req.path = "/v1/sandboxes";
        CHECK_EQ_INT(osb_request_raw(c, &req, &res), OSB_OK);
        osb_http_response_free(&res);
    }
    osb_client_free(c);
    clear_proxy_env();
    osb_buf_init(&log, NULL);
    proxy_log(&px, &log);
    snprintf(line, sizeof line, "\"line\": \"GET http://%s/v1/sandboxes HTTP/1.1\"", testdev_domain);
    CHECK_EQ_INT(count_of(log.data, line), 1);
    osb_buf_free(&log);
    proxy_stop(&px);
}

/* A WebSocket upgrade to a plain http target goes through a tunnel too
 * (proxies seldom forward an upgrade in absolute form). */
TEST(websocket_through_proxy) {
    const char *argv[] = {"python3", "tests/servers/wsserver.py", "--lifetime", "60", NULL};
    testproc ws;
    proxy_srv px;
    osb_client_config cfg;
    osb_client *c;
    osb_target t;
    osb_ws_options o;
    osb_ws *w = NULL;
    osb_ws_msg m;
    osb_buf log;
    char url[64], line[96];
    int i;
    clear_proxy_env();
    NEED(testproc_start(&ws, argv) == 0, "tests/servers/wsserver.py");
    NEED(proxy_start(&px, NULL), "tests/servers/proxy.py");
    memset(&cfg, 0, sizeof cfg);
    cfg.domain = "127.0.0.1:1";
    cfg.proxy = px.url;
    NEED(osb_client_new(&cfg, &c) == OSB_OK, "client");
    snprintf(url, sizeof url, "127.0.0.1:%d", atoi(ws.ready));
    t.url = url;
    t.headers = NULL;
    memset(&o, 0, sizeof o);
    o.path = "/echo";
    o.idle_ms = 10000;
    CHECK_EQ_INT(osb_ws_open(c, &t, &o, &w), OSB_OK);
    if (w) {
        CHECK_EQ_INT(osb_ws_send(w, OSB_WS_TEXT, "ping-through", 12), OSB_OK);
        memset(&m, 0, sizeof m);
        for (i = 0; i < 100 && m.opcode == 0; i++) CHECK_EQ_INT(osb_ws_read(w, &m, 100), OSB_OK);
        CHECK_EQ_INT(m.opcode, OSB_WS_TEXT);
        CHECK_EQ_MEM(m.data, m.len, "ping-through", 12);
        osb_ws_close(w, 1000, NULL);
    }
    osb_client_free(c);
    osb_buf_init(&log, NULL);
    proxy_log(&px, &log);
    snprintf(line, sizeof line, "\"line\": \"CONNECT 127.0.0.1:%d HTTP/1.1\"", atoi(ws.ready));
    CHECK_EQ_INT(count_of(log.data, line), 1);
    osb_buf_free(&log);
    proxy_stop(&px);
    testproc_stop(&ws);
}

/* The multi interface goes through the proxy too: a forwarded request and
 * one in a CONNECT tunnel, side by side. */
static void multi_done(void *user, osb_transfer *t, osb_err result, const osb_error *err) {
    int *status = (int *)user;
    (void)err;
    *status = result == OSB_OK ? osb_transfer_response(t)->status : -(int)result;
}

TEST(multi_through_proxy) {
    proxy_srv px;
    testproc fr;
    osb_client *c;
    osb_multi *m = NULL;
    osb_http_request req[2];
    osb_transfer_config tc[2];
    osb_buf log;
    char urls[2][128], line[256];
    int status[2] = {0, 0}, fport, i, running = 1, rounds = 0;
    clear_proxy_env();
    NEED(testdev_start(), "dev server");
    NEED(certs_ready(), "tests/tls/make-certs.sh");
    NEED((fport = front_start(&fr, dev_port())) > 0, "tests/servers/front.py");
    NEED(proxy_start(&px, NULL), "tests/servers/proxy.py");
    c = client_via(testdev_domain, NULL, px.url);
    NEED(c, "client");
    NEED(osb_multi_new(c, NULL, &m) == OSB_OK, "multi");
    snprintf(urls[0], sizeof urls[0], "http://%.80s/v1/sandboxes", testdev_domain);
    snprintf(urls[1], sizeof urls[1], "https://localhost:%d/v1/sandboxes", fport);
    for (i = 0; i < 2; i++) {
        memset(&req[i], 0, sizeof req[i]);
        memset(&tc[i], 0, sizeof tc[i]);
        req[i].url = urls[i];
        req[i].accept_error_body = 1;   /* no API key on an absolute URL: 401 is an answer too */
        tc[i].on_done = multi_done;
        tc[i].user = &status[i];
        CHECK_EQ_INT(osb_multi_add(m, &req[i], &tc[i], NULL), OSB_OK);
    }
    while (running && rounds++ < 1000) CHECK_EQ_INT(osb_multi_perform(m, 1000, &running), OSB_OK);
    CHECK(status[0] >= 200 && status[0] < 500);
    CHECK(status[1] >= 200 && status[1] < 500);
    osb_multi_free(m);
    osb_client_free(c);
    osb_buf_init(&log, NULL);
    proxy_log(&px, &log);
    snprintf(line, sizeof line, "\"line\": \"GET %s HTTP/1.1\"", urls[0]);
    CHECK_EQ_INT(count_of(log.data, line), 1);
    snprintf(line, sizeof line, "\"line\": \"CONNECT localhost:%d HTTP/1.1\"", fport);
    CHECK_EQ_INT(count_of(log.data, line), 1);
    osb_buf_free(&log);
    proxy_stop(&px);
    testproc_stop(&fr);
}

/* ---- a real proxy, when one is installed (optional) ---- */

/* Runs tinyproxy -d -c CONF and writes its port to the ready file once it
 * accepts connections; SIGTERM stops it. */
static const char TINY_WRAPPER[] =
    "import os, signal, socket, subprocess, sys, time\n"
    "conf, port, ready = sys.argv[1], int(sys.argv[2]), sys.argv[4]\n"
    "p = subprocess.Popen(['tinyproxy', '-d', '-c', conf], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)\n"
    "signal.signal(signal.SIGTERM, lambda *a: (p.terminate(), sys.exit(0)))\n"
    "for i in range(400):\n"
    "    try:\n"
    "        socket.create_connection(('127.0.0.1', port), 1).close(); break\n"
    "    except OSError:\n"
    "        if p.poll() is not None: sys.exit(1)\n"
    "        time.sleep(0.05)\n"
    "open(ready + '.tmp', 'w').write(str(port)); os.rename(ready + '.tmp', ready)\n"
    "p.wait()\n";

static int free_port(void) {
    struct sockaddr_in a;
    socklen_t l = sizeof a;
    int fd = socket(AF_INET, SOCK_STREAM, 0), port = 0;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof a) == 0 && getsockname(fd, (struct sockaddr *)&a, &l) == 0)
        port = ntohs(a.sin_port);
    if (fd >= 0) close(fd);
    return port;
}

static int tiny_start(testproc *p, const char *conf_path, int auth, char *port_s, size_t cap) {
    const char *argv[] = {"python3", "-c", TINY_WRAPPER, conf_path, port_s, NULL};
    FILE *f;
    int port = free_port();
    if (!port) return 0;
    snprintf(port_s, cap, "%d", port);
    f = fopen(conf_path, "w");
    if (!f) return 0;
    fprintf(f, "Port %d\nListen 127.0.0.1\nTimeout 60\nMaxClients 20\nAllow 127.0.0.1\nLogLevel Critical\n%s", port,
            auth ? "BasicAuth alice s3cret\n" : "");
    fclose(f);
    return testproc_start(p, argv) == 0;
}

/* tinyproxy (when installed): https through its CONNECT, http forwarded,
 * its 407 with and without credentials. */
TEST(tinyproxy_when_installed) {
    testproc tp, fr;
    char conf[96], port_s[16], proxy[96], domain[64];
    osb_client *c;
    int fport, auth;
    if (system("command -v tinyproxy >/dev/null 2>&1") != 0) SKIP("tinyproxy is not installed (optional)");
    clear_proxy_env();
    NEED(testdev_start(), "dev server");
    NEED(certs_ready(), "tests/tls/make-certs.sh");
    NEED((fport = front_start(&fr, dev_port())) > 0, "tests/servers/front.py");
    snprintf(domain, sizeof domain, "localhost:%d", fport);
    for (auth = 0; auth < 2; auth++) {
        snprintf(conf, sizeof conf, "/tmp/osb-tinyproxy-%ld-%d.conf", (long)getpid(), auth);
        if (!tiny_start(&tp, conf, auth, port_s, sizeof port_s)) {
            CHECK(!"tinyproxy did not start");
            break;
        }
        snprintf(proxy, sizeof proxy, "http://%s127.0.0.1:%s", auth ? "alice:s3cret@" : "", port_s);
        CHECK_EQ_INT(get_through(domain, "https", proxy, &c), OSB_OK);
        if (osb_client_error(c)->code) fprintf(stderr, "  tinyproxy https: %s\n", osb_client_error(c)->message);
        osb_client_free(c);
        CHECK_EQ_INT(get_through(testdev_domain, "http", proxy, &c), OSB_OK);
        if (osb_client_error(c)->code) fprintf(stderr, "  tinyproxy http: %s\n", osb_client_error(c)->message);
        osb_client_free(c);
        if (auth) {
            snprintf(proxy, sizeof proxy, "http://127.0.0.1:%s", port_s);
            CHECK_EQ_INT(get_through(domain, "https", proxy, &c), OSB_ERR_CONNECT);
            CHECK_EQ_INT(osb_client_error(c)->http_status, 407);
            osb_client_free(c);
            CHECK_EQ_INT(get_through(testdev_domain, "http", proxy, &c), OSB_ERR_CONNECT);
            CHECK_EQ_INT(osb_client_error(c)->http_status, 407);
            CHECK(strstr(osb_client_error(c)->message, "none were sent") != NULL);
            osb_client_free(c);
        }
        testproc_stop(&tp);
        unlink(conf);
    }
    testproc_stop(&fr);
}

int main(int argc, char **argv) {
    int r;
    clear_proxy_env();
    r = testlib_main(argc, argv);
    testdev_stop();
    return r;
}
