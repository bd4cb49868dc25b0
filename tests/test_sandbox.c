/* test_sandbox.c -- the sandbox layer: configuration sources and their
 * precedence, create-and-wait, endpoint resolution, cleanup on failure,
 * server-proxy mode, credentials kept to their origin, the manager. */
#define _DEFAULT_SOURCE
#define OPENSANDBOX_IMPLEMENTATION
#include "../opensandbox.h"
#include "testlib.h"
#include "testdev.h"
#include <sys/stat.h>
#include <strings.h>
#include <time.h>

/* ---- configuration ------------------------------------------------------ */

static const char *const cfg_env[] = {"OPEN_SANDBOX_DOMAIN", "OPEN_SANDBOX_API_KEY", "OPEN_SANDBOX_PROTOCOL",
                                      "OPEN_SANDBOX_REQUEST_TIMEOUT", "OPEN_SANDBOX_USE_SERVER_PROXY", NULL};
static char cfg_home[256];

/* A fresh HOME (optionally with a config.toml) and no OPEN_SANDBOX_* variables. */
static void cfg_reset(const char *toml) {
    char path[512];
    int i;
    for (i = 0; cfg_env[i]; i++) unsetenv(cfg_env[i]);
    if (!cfg_home[0]) {
        snprintf(cfg_home, sizeof cfg_home, "/tmp/osb-test-home-%ld", (long)getpid());
        mkdir(cfg_home, 0700);
        snprintf(path, sizeof path, "%s/.opensandbox", cfg_home);
        mkdir(path, 0700);
    }
    setenv("HOME", cfg_home, 1);
    snprintf(path, sizeof path, "%s/.opensandbox/config.toml", cfg_home);
    unlink(path);
    if (toml) {
        FILE *f = fopen(path, "w");
        if (f) { fputs(toml, f); fclose(f); }
    }
}

/* What `opensandbox config init` and `config set` leave behind. */
static const char cli_toml[] =
    "# OpenSandbox CLI configuration\n"
    "\n"
    "[connection]\n"
    "api_key = \"file-key\"\n"
    "domain = \"file.example:9000\"\n"
    "protocol = \"https\"\n"
    "request_timeout = 45\n"
    "use_server_proxy = true\n"
    "\n"
    "[output]\n"
    "color = true\n"
    "\n"
    "[defaults]\n"
    "image = \"python:3.11\"\n"
    "timeout = \"10m\"\n"
    "domain = \"not-this-one\"\n";

TEST(config_defaults) {
    osb_config cfg;
    cfg_reset(NULL);
    memset(&cfg, 0, sizeof cfg);
    CHECK_EQ_INT(osb_config_load(&cfg), OSB_OK);
    CHECK_EQ_STR(cfg.client.domain, "localhost:8080");
    CHECK_EQ_STR(cfg.client.protocol, "http");
    CHECK(cfg.client.api_key == NULL);
    CHECK_EQ_INT(cfg.use_server_proxy, 0);
    CHECK_EQ_INT(cfg.request_timeout_ms, 0);
    CHECK_EQ_STR(cfg.domain_source, "default");
    CHECK_EQ_STR(cfg.api_key_source, "default");
    CHECK_EQ_STR(cfg.proxy_source, "default");
}

TEST(config_file) {
    osb_config cfg;
    cfg_reset(cli_toml);
    memset(&cfg, 0, sizeof cfg);
    CHECK_EQ_INT(osb_config_load(&cfg), OSB_OK);
    CHECK_EQ_STR(cfg.client.domain, "file.example:9000");
    CHECK_EQ_STR(cfg.client.api_key, "file-key");
    CHECK_EQ_STR(cfg.client.protocol, "https");
    CHECK_EQ_INT(cfg.request_timeout_ms, 45000);
    CHECK_EQ_INT(cfg.client.timeouts.total_ms, 45000);
    CHECK_EQ_INT(cfg.use_server_proxy, 1);
    CHECK_EQ_STR(cfg.domain_source, "file");
    CHECK_EQ_STR(cfg.timeout_source, "file");
    CHECK_EQ_STR(cfg.proxy_source, "file");
}

TEST(config_env_over_file) {
    osb_config cfg;
    cfg_reset(cli_toml);
    setenv("OPEN_SANDBOX_DOMAIN", "http://env.example:7000/v1", 1);
    setenv("OPEN_SANDBOX_API_KEY", "env-key", 1);
    setenv("OPEN_SANDBOX_PROTOCOL", "HTTP", 1);
    setenv("OPEN_SANDBOX_REQUEST_TIMEOUT", "2.5", 1);
    setenv("OPEN_SANDBOX_USE_SERVER_PROXY", "off", 1);
    memset(&cfg, 0, sizeof cfg);
    CHECK_EQ_INT(osb_config_load(&cfg), OSB_OK);
    CHECK_EQ_STR(cfg.client.domain, "http://env.example:7000/v1");
    CHECK_EQ_STR(cfg.client.api_key, "env-key");
    CHECK_EQ_STR(cfg.client.protocol, "http");
    CHECK_EQ_INT(cfg.request_timeout_ms, 2500);
    CHECK_EQ_INT(cfg.use_server_proxy, 0);
    CHECK_EQ_STR(cfg.domain_source, "env");
    CHECK_EQ_STR(cfg.proxy_source, "env");
    /* the values were copied: changing the environment afterwards is harmless */
    setenv("OPEN_SANDBOX_API_KEY", "changed", 1);
    CHECK_EQ_STR(cfg.client.api_key, "env-key");
    cfg_reset(NULL);
}

TEST(config_explicit_over_env) {
    osb_config cfg;
    cfg_reset(cli_toml);
    setenv("OPEN_SANDBOX_DOMAIN", "env.example:7000", 1);
    setenv("OPEN_SANDBOX_USE_SERVER_PROXY", "yes", 1);
    memset(&cfg, 0, sizeof cfg);
    cfg.client.domain = "explicit.example:1";
    cfg.use_server_proxy = -1;
    cfg.request_timeout_ms = 1234;
    CHECK_EQ_INT(osb_config_load(&cfg), OSB_OK);
    CHECK_EQ_STR(cfg.client.domain, "explicit.example:1");
    CHECK_EQ_INT(cfg.use_server_proxy, 0);
    CHECK_EQ_INT(cfg.request_timeout_ms, 1234);
    CHECK_EQ_STR(cfg.domain_source, "explicit");
    CHECK_EQ_STR(cfg.proxy_source, "explicit");
    CHECK_EQ_STR(cfg.api_key_source, "file");   /* the rest still comes from below */
    CHECK_EQ_STR(cfg.client.api_key, "file-key");
    cfg_reset(NULL);
}

TEST(config_skip_env_and_named_file) {
    osb_config cfg;
    char path[512];
    FILE *f;
    cfg_reset(NULL);
    setenv("OPEN_SANDBOX_DOMAIN", "env.example:7000", 1);
    snprintf(path, sizeof path, "%s/other.toml", cfg_home);
    f = fopen(path, "w");
    CHECK(f != NULL);
    if (!f) return;
    fputs("[connection]\r\n  domain   =   'literal.example:5'   # a comment\r\n"
          "\"api_key\" = \"k\\u00e9y\\\"q\"\r\nuse_server_proxy = 1\r\nrequest_timeout = 1_0\r\n", f);
    fclose(f);
    memset(&cfg, 0, sizeof cfg);
    cfg.file = path;
    cfg.skip_env = 1;
    CHECK_EQ_INT(osb_config_load(&cfg), OSB_OK);
    CHECK_EQ_STR(cfg.client.domain, "literal.example:5");
    CHECK_EQ_STR(cfg.client.api_key, "k\xc3\xa9y\"q");
    CHECK_EQ_INT(cfg.use_server_proxy, 1);
    CHECK_EQ_INT(cfg.request_timeout_ms, 10000);
    /* a named file that does not exist is an error; the default one is not */
    memset(&cfg, 0, sizeof cfg);
    cfg.file = "/nonexistent/osb.toml";
    CHECK_EQ_INT(osb_config_load(&cfg), OSB_ERR_IO);
    memset(&cfg, 0, sizeof cfg);
    cfg.file = "";
    CHECK_EQ_INT(osb_config_load(&cfg), OSB_OK);
    CHECK_EQ_STR(cfg.client.domain, "env.example:7000");
    unlink(path);
    cfg_reset(NULL);
}

/* Loads the config from a file holding toml (the environment cleared). */
static osb_err cfg_load_text(const char *toml, osb_config *cfg) {
    cfg_reset(toml);
    memset(cfg, 0, sizeof *cfg);
    return osb_config_load(cfg);
}

TEST(config_bad_values) {
    osb_config cfg;
    cfg_reset(NULL);
    setenv("OPEN_SANDBOX_USE_SERVER_PROXY", "maybe", 1);
    memset(&cfg, 0, sizeof cfg);
    CHECK_EQ_INT(osb_config_load(&cfg), OSB_ERR_INVALID_ARG);
    CHECK(strstr(cfg.message, "use_server_proxy") != NULL);
    cfg_reset(NULL);
    setenv("OPEN_SANDBOX_PROTOCOL", "ftp", 1);
    memset(&cfg, 0, sizeof cfg);
    CHECK_EQ_INT(osb_config_load(&cfg), OSB_ERR_INVALID_ARG);
    cfg_reset(NULL);
    setenv("OPEN_SANDBOX_REQUEST_TIMEOUT", "-3", 1);
    memset(&cfg, 0, sizeof cfg);
    CHECK_EQ_INT(osb_config_load(&cfg), OSB_ERR_INVALID_ARG);
    CHECK_EQ_INT(cfg_load_text("[connection]\napi_key = \"unterminated\n", &cfg), OSB_ERR_INVALID_ARG);
    CHECK(strstr(cfg.message, "unterminated") == NULL);   /* never echoes the key */
    /* an escape is a Unicode scalar value (as tomllib, which the official CLI reads
       its file with, has it): a surrogate or a code point past U+10FFFF is refused */
    CHECK_EQ_INT(cfg_load_text("[connection]\napi_key = \"k\\uD800\"\n", &cfg), OSB_ERR_INVALID_ARG);
    CHECK_EQ_INT(cfg_load_text("[connection]\napi_key = \"k\\U00110000\"\n", &cfg), OSB_ERR_INVALID_ARG);
    CHECK_EQ_INT(cfg_load_text("[connection]\napi_key = \"k\\uE000\\U0001F600\"\n", &cfg), OSB_OK);
    CHECK_EQ_STR(cfg.client.api_key, "k\xee\x80\x80\xf0\x9f\x98\x80");
    /* after a string only a comment */
    CHECK_EQ_INT(cfg_load_text("[connection]\napi_key = \"\"\"secret-k\"\"\" x\n", &cfg), OSB_ERR_INVALID_ARG);
    CHECK(strstr(cfg.message, "api_key") != NULL);
    CHECK(strstr(cfg.message, "secret-k") == NULL);
    CHECK_EQ_INT(cfg_load_text("[connection]\ndomain = 'd:1' x\n", &cfg), OSB_ERR_INVALID_ARG);
    /* config init's empty api_key means "none" */
    CHECK_EQ_INT(cfg_load_text("[connection]\napi_key = \"\"\ndomain = \"d:1\"\n", &cfg), OSB_OK);
    CHECK(cfg.client.api_key == NULL);
    CHECK_EQ_STR(cfg.client.domain, "d:1");
    cfg_reset(NULL);
}

/* The api_key a config text gives (or "(none)"), or the error message. */
static const char *cfg_key_of(const char *toml, osb_err *e) {
    static osb_config cfg;
    *e = cfg_load_text(toml, &cfg);
    return *e ? cfg.message : cfg.client.api_key ? cfg.client.api_key : "(none)";
}

/* Multi-line strings, which tomllib (the official CLI's reader) reads. */
TEST(config_multiline_strings) {
    static const struct { const char *toml, *key; } good[] = {
        {"[connection]\napi_key = \"\"\"k1\"\"\"  # a comment\n", "k1"},
        {"[connection]\napi_key = \"\"\"\nk2\"\"\"\n", "k2"},            /* the first line break is not in it */
        {"[connection]\napi_key = '''\r\nk3\r\nmore'''\r\n", "k3\nmore"}, /* CRLF reads as LF */
        {"[connection]\napi_key = \"\"\"k4\\\n    \n  tail\\t\\u00e9\"\"\"\n", "k4tail\t\xc3\xa9"},
        {"[connection]\napi_key = '''k5\\n'''\n", "k5\\n"},              /* literal: no escapes */
        {"[connection]\napi_key = \"\"\"k6\"\"\"\"\"\n", "k6\"\""},        /* two quotes before the closing three */
        {"[connection]\napi_key = \"\"\"k7 \\\"\"\" \"\"\"\n", "k7 \"\"\" "}, /* an escaped quote closes nothing */
        /* a multi-line string elsewhere: its lines are neither tables nor keys */
        {"[other]\nnote = '''\n[connection]\napi_key = \"evil\"\n'''\n[connection]\napi_key = \"k8\"\n", "k8"},
        {"[connection]\nnote = \"\"\"\napi_key = \"evil\"\n\"\"\"\n", "(none)"},
        {"[connection]\napi_key = \"\"\"\"\"\"\n", "(none)"},              /* empty, as config init's "" */
        /* an array over lines, nested, with brackets in its strings and comments */
        {"[connection]\nextra = [\n  [1, 2],\n  \"]\", # ]\n  '''x\n]'''\n]\napi_key = \"k9\"\n", "k9"},
        {"[connection]\nt = { a = \"}\", b = [\"[defaults]\"] }\napi_key = 'k10'\n", "k10"},
    };
    static const char *const bad[] = {
        "[connection]\napi_key = \"\"\"secret-unterminated\napi_key2 = 1\n",
        "[connection]\napi_key = \"\"\"secret\\q\"\"\"\n",                /* no such escape */
        "[connection]\napi_key = \"\"\"secret\\uD800\"\"\"\n",            /* no scalar value */
        "[connection]\napi_key = \"\"\"secret\"\"\"\"\"\"\n",             /* six quotes */
        "[connection]\napi_key = '''secret\n''' x\n",
        "[connection]\napi_key = [\n\"secret\"]\n",                          /* an array */
    };
    size_t i;
    osb_err e;
    for (i = 0; i < sizeof good / sizeof good[0]; i++) {
        const char *k = cfg_key_of(good[i].toml, &e);
        CHECK_EQ_INT(e, OSB_OK);
        CHECK_EQ_STR(k, good[i].key);
    }
    for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        const char *m = cfg_key_of(bad[i], &e);
        CHECK_EQ_INT(e, OSB_ERR_INVALID_ARG);
        CHECK(strstr(m, "[connection].api_key") != NULL);
        CHECK(strstr(m, "secret") == NULL);
    }
    cfg_reset(NULL);
}

TEST(config_bool) {
    CHECK_EQ_INT(osb_config_bool("1"), 1);
    CHECK_EQ_INT(osb_config_bool(" TRUE "), 1);
    CHECK_EQ_INT(osb_config_bool("On"), 1);
    CHECK_EQ_INT(osb_config_bool("no"), 0);
    CHECK_EQ_INT(osb_config_bool("OFF"), 0);
    CHECK_EQ_INT(osb_config_bool(""), -1);
    CHECK_EQ_INT(osb_config_bool("2"), -1);
}

/* The resolved settings reach a working client against the dev server: the
 * domain from the environment (with a scheme and /v1), the key from the file. */
TEST(config_against_devserver) {
    osb_config cfg;
    osb_client *c = NULL;
    osb_http_request req;
    osb_http_response res;
    char dom[256], toml[512];
    if (!testdev_start()) SKIP("dev server did not start");
    snprintf(toml, sizeof toml, "[connection]\napi_key = \"%s\"\ndomain = \"nowhere.invalid:1\"\n", testdev_api_key);
    cfg_reset(toml);
    snprintf(dom, sizeof dom, "http://%s/v1", testdev_domain);
    setenv("OPEN_SANDBOX_DOMAIN", dom, 1);
    memset(&cfg, 0, sizeof cfg);
    CHECK_EQ_INT(osb_config_load(&cfg), OSB_OK);
    CHECK_EQ_INT(osb_client_new(&cfg.client, &c), OSB_OK);
    if (!c) { cfg_reset(NULL); return; }
    CHECK_EQ_STR(osb_client_url(c)->prefix, "");
    memset(&req, 0, sizeof req);
    req.path = "/v1/sandboxes";
    CHECK_EQ_INT(osb_request_raw(c, &req, &res), OSB_OK);
    CHECK_EQ_INT(res.status, 200);
    osb_http_response_free(&res);
    osb_client_free(c);
    cfg_reset(NULL);
}


/* ---- the sandbox layer against the dev server ------------------------------ */

static char rec_path[256];

/* A unique metadata tag per test, so list filters see only its sandboxes. */
static const osb_pair *tag_of(const char *name) {
    static osb_pair p[1];
    static char v[64];
    snprintf(v, sizeof v, "%s-%ld", name, (long)getpid());
    p[0].key = "test";
    p[0].value = v;
    return p;
}

static size_t count_tagged(osb_client *c, const osb_pair *tag) {
    osb_sandbox_list_req lr;
    osb_sandbox_page *page = NULL;
    size_t n;
    memset(&lr, 0, sizeof lr);
    lr.metadata = tag;
    lr.metadata_count = 1;
    if (osb_manager_list(c, &lr, &page) != OSB_OK) return (size_t)-1;
    n = page->items_count;
    osb_result_free(page);
    return n;
}

static void base_req(osb_sandbox_create_req *r, const osb_pair *tag) {
    memset(r, 0, sizeof *r);
    r->image = "python:3.11";
    r->metadata = tag;
    r->metadata_count = tag ? 1 : 0;
}

TEST(open_ping_kill) {
    osb_client *c = testdev_client();
    osb_sandbox_create_req r;
    osb_sandbox *sb = NULL;
    osb_sandbox_info *info = NULL;
    const osb_pair *tag = tag_of("open");
    if (!c) SKIP("dev server did not start");
    base_req(&r, tag);
    CHECK_EQ_INT(osb_sandbox_open(c, &r, NULL, &sb), OSB_OK);
    if (!sb) { fprintf(stderr, "  %s\n", osb_client_error(c)->message); osb_client_free(c); return; }
    CHECK(strlen(osb_sandbox_id(sb)) > 0);
    CHECK(osb_sandbox_client(sb) == c);
    CHECK(strstr(osb_sandbox_execd(sb)->url, "/proxy/44772") != NULL);
    CHECK(strncmp(osb_sandbox_execd(sb)->url, "http://", 7) == 0);
    CHECK(osb_sandbox_egress(sb) != NULL);
    CHECK(osb_sandbox_created(sb) != NULL);
    /* the other SDKs' defaults went out: 600 s TTL, tail -f /dev/null, 1 cpu / 2Gi */
    CHECK(osb_sandbox_created(sb)->expires_at.ptr != NULL);
    CHECK_EQ_INT(osb_sandbox_ping(sb), OSB_OK);
    CHECK_EQ_INT(osb_sandbox_describe(sb, &info), OSB_OK);
    if (info) {
        CHECK_EQ_STR(info->status.state.ptr, "Running");
        CHECK_EQ_INT(info->entrypoint_count, 3);
        if (info->entrypoint_count == 3) CHECK_EQ_STR(info->entrypoint[0].ptr, "tail");
        osb_result_free(info);
    }
    CHECK_EQ_INT(count_tagged(c, tag), 1);
    CHECK_EQ_INT(osb_sandbox_kill(sb), OSB_OK);
    CHECK_EQ_INT(count_tagged(c, tag), 0);
    CHECK_EQ_INT(osb_sandbox_describe(sb, &info), OSB_ERR_HTTP);
    CHECK(osb_error_is_not_found(osb_client_error(c)));
    osb_sandbox_close(sb);
    osb_client_free(c);
}

TEST(open_no_timeout) {
    osb_client *c = testdev_client();
    osb_sandbox_create_req r;
    osb_sandbox *sb = NULL;
    if (!c) SKIP("dev server did not start");
    base_req(&r, NULL);
    r.timeout_s = -1;   /* manual cleanup */
    CHECK_EQ_INT(osb_sandbox_open(c, &r, NULL, &sb), OSB_OK);
    if (sb) {
        CHECK(osb_sandbox_created(sb)->expires_at.ptr == NULL);
        CHECK_EQ_INT(osb_sandbox_extend(sb, 600, NULL), OSB_ERR_HTTP);   /* 409: no TTL to renew */
        CHECK(osb_error_is_conflict(osb_client_error(c)));
        osb_sandbox_kill(sb);
        osb_sandbox_close(sb);
    }
    osb_client_free(c);
}

/* A health check that never says ready; it notes when it was asked. */
typedef struct probe_log {
    int calls;
    int64_t at[64];
} probe_log;

static int never_ready(void *user, osb_sandbox *sb) {
    probe_log *l = (probe_log *)user;
    (void)sb;
    if (l->calls < 64) l->at[l->calls] = osb__now_ms();
    l->calls++;
    return 0;
}

TEST(ready_timeout_deletes) {
    osb_client *c = testdev_client();
    osb_sandbox_create_req r;
    osb_sandbox_options o;
    osb_sandbox *sb = NULL;
    const osb_pair *tag = tag_of("readyto");
    probe_log probes;
    int i;
    if (!c) SKIP("dev server did not start");
    base_req(&r, tag);
    memset(&o, 0, sizeof o);
    memset(&probes, 0, sizeof probes);
    o.ready_timeout_ms = 700;
    o.poll_ms = 50;
    o.health_check = never_ready;
    o.health_user = &probes;
    CHECK_EQ_INT(osb_sandbox_open(c, &r, &o, &sb), OSB_ERR_TIMEOUT);
    CHECK(sb == NULL);
    /* asked again after 50, 100, 200 ms (at least: a busy machine wakes
       later), and given up once the next wait would pass the 700 ms */
    CHECK(probes.calls >= 2 && probes.calls <= 4);
    for (i = 1; i < probes.calls; i++) CHECK(probes.at[i] - probes.at[i - 1] >= 50 << (i - 1));
    CHECK_EQ_INT(osb_client_error(c)->code, OSB_ERR_TIMEOUT);
    CHECK(strstr(osb_client_error(c)->message, "not ready") != NULL);
    CHECK_EQ_INT(count_tagged(c, tag), 0);   /* deleted */
    osb_client_free(c);
}

TEST(unreachable_endpoint_deletes) {
    osb_client *c = testdev_client();
    osb_sandbox_create_req r;
    osb_sandbox_options o;
    osb_sandbox *sb = NULL;
    const osb_pair *tag = tag_of("unreach");
    static const char *const rw[] = {"127.0.0.1=127.0.0.2", NULL};
    if (!c) SKIP("dev server did not start");
    base_req(&r, tag);
    memset(&o, 0, sizeof o);
    o.host_rewrite = rw;             /* nothing listens there: every /ping is refused */
    o.ready_timeout_ms = 500;
    CHECK_EQ_INT(osb_sandbox_open(c, &r, &o, &sb), OSB_ERR_TIMEOUT);
    CHECK(strstr(osb_client_error(c)->message, "use_server_proxy") != NULL);
    CHECK_EQ_INT(count_tagged(c, tag), 0);
    osb_client_free(c);
}

TEST(endpoint_failure_deletes) {
    osb_client *c = testdev_client();
    osb_sandbox_create_req r;
    osb_sandbox_options o;
    osb_sandbox *sb = NULL;
    const osb_pair *tag = tag_of("epfail");
    if (!c) SKIP("dev server did not start");
    base_req(&r, tag);
    memset(&o, 0, sizeof o);
    o.egress_port = 70000;           /* resolving it fails */
    CHECK(osb_sandbox_open(c, &r, &o, &sb) != OSB_OK);
    CHECK(sb == NULL);
    CHECK_EQ_INT(count_tagged(c, tag), 0);
    /* keep_on_failure leaves it for inspection */
    o.keep_on_failure = 1;
    CHECK(osb_sandbox_open(c, &r, &o, &sb) != OSB_OK);
    CHECK_EQ_INT(count_tagged(c, tag), 1);
    {
        osb_sandbox_iter it;
        const osb_sandbox_info *s;
        osb_sandbox_list_req lr;
        memset(&lr, 0, sizeof lr);
        lr.metadata = tag;
        lr.metadata_count = 1;
        osb_manager_iter(&it, c, &lr);
        while (osb_manager_next(&it, &s) == OSB_OK && s) osb_sandbox_delete(c, s->id.ptr);
        osb_manager_iter_free(&it);
    }
    CHECK_EQ_INT(count_tagged(c, tag), 0);
    osb_client_free(c);
}

TEST(create_error_reported) {
    osb_client *c = testdev_client();
    osb_sandbox_create_req r;
    osb_sandbox *sb = NULL;
    if (!c) SKIP("dev server did not start");
    memset(&r, 0, sizeof r);           /* neither image nor snapshot: 422 */
    CHECK_EQ_INT(osb_sandbox_open(c, &r, NULL, &sb), OSB_ERR_HTTP);
    CHECK_EQ_INT(osb_client_error(c)->http_status, 422);
    CHECK(sb == NULL);
    osb_client_free(c);
}

TEST(host_rewrite) {
    osb_client *c = testdev_client();
    osb_sandbox_create_req r;
    osb_sandbox_options o;
    osb_sandbox *sb = NULL;
    static const char *const rw[] = {"example.invalid=x", "127.0.0.1=LocalHost", NULL};
    static const char *const bad[] = {"nohost", NULL};
    if (!c) SKIP("dev server did not start");
    base_req(&r, NULL);
    memset(&o, 0, sizeof o);
    o.host_rewrite = rw;
    o.skip_health_check = 1;
    CHECK_EQ_INT(osb_sandbox_open(c, &r, &o, &sb), OSB_OK);
    if (sb) {
        CHECK(strncmp(osb_sandbox_execd(sb)->url, "http://LocalHost:", 17) == 0);
        CHECK(strstr(osb_sandbox_execd(sb)->url, "/proxy/44772") != NULL);
        CHECK(strncmp(osb_sandbox_egress(sb)->url, "http://LocalHost:", 17) == 0);
        osb_sandbox_kill(sb);
        osb_sandbox_close(sb);
    }
    o.host_rewrite = bad;
    CHECK_EQ_INT(osb_sandbox_connect(c, "whatever", &o, &sb), OSB_ERR_INVALID_ARG);
    osb_client_free(c);
}

TEST(connect_suspend_wake_extend) {
    osb_client *c = testdev_client();
    osb_sandbox_create_req r;
    osb_sandbox *sb = NULL, *sb2 = NULL;
    osb_sandbox_info *info = NULL;
    osb_renew_result *rr = NULL;
    if (!c) SKIP("dev server did not start");
    base_req(&r, NULL);
    CHECK_EQ_INT(osb_sandbox_open(c, &r, NULL, &sb), OSB_OK);
    if (!sb) { osb_client_free(c); return; }
    CHECK_EQ_INT(osb_sandbox_connect(c, osb_sandbox_id(sb), NULL, &sb2), OSB_OK);
    if (sb2) {
        CHECK_EQ_STR(osb_sandbox_id(sb2), osb_sandbox_id(sb));
        CHECK_EQ_STR(osb_sandbox_execd(sb2)->url, osb_sandbox_execd(sb)->url);
        CHECK(osb_sandbox_created(sb2) == NULL);
        CHECK_EQ_INT(osb_sandbox_suspend(sb2), OSB_OK);
        CHECK_EQ_INT(osb_sandbox_describe(sb, &info), OSB_OK);
        if (info) CHECK_EQ_STR(info->status.state.ptr, "Paused");
        osb_result_free(info);
        CHECK_EQ_INT(osb_sandbox_wake(sb2), OSB_OK);
        CHECK_EQ_INT(osb_sandbox_describe(sb, &info), OSB_OK);
        if (info) CHECK_EQ_STR(info->status.state.ptr, "Running");
        osb_result_free(info);
        CHECK_EQ_INT(osb_sandbox_extend(sb2, 3600, &rr), OSB_OK);
        if (rr) {
            CHECK(rr->expires_at.ptr && strcmp(rr->expires_at.ptr, osb_sandbox_created(sb)->expires_at.ptr) > 0);
            osb_result_free(rr);
        }
        CHECK_EQ_INT(osb_sandbox_extend(sb2, 0, NULL), OSB_ERR_INVALID_ARG);
        osb_sandbox_close(sb2);
    }
    {   /* connecting: a sandbox without an egress endpoint is still usable */
        osb_sandbox_options o;
        osb_egress_status *st = NULL;
        memset(&o, 0, sizeof o);
        o.egress_port = 70000;
        CHECK_EQ_INT(osb_sandbox_connect(c, osb_sandbox_id(sb), &o, &sb2), OSB_OK);
        if (sb2) {
            CHECK(osb_sandbox_egress(sb2) == NULL);
            CHECK_EQ_INT(osb_sandbox_egress_policy(sb2, &st), OSB_ERR_STATE);
            CHECK_EQ_INT(osb_sandbox_suspend(sb2), OSB_OK);
            CHECK_EQ_INT(osb_sandbox_wake(sb2), OSB_OK);
            CHECK(osb_sandbox_egress(sb2) == NULL);
            CHECK_EQ_INT(osb_sandbox_ping(sb2), OSB_OK);
            osb_sandbox_close(sb2);
            sb2 = NULL;
        }
    }
    CHECK_EQ_INT(osb_sandbox_connect(c, "no-such-sandbox", NULL, &sb2), OSB_ERR_HTTP);
    CHECK(osb_error_is_not_found(osb_client_error(c)));
    CHECK(sb2 == NULL);
    osb_sandbox_kill(sb);
    osb_sandbox_close(sb);
    osb_client_free(c);
}

static const osb_network_rule allow_pypi[] = {{"allow", "pypi.org"}};

TEST(server_proxy_mode) {
    osb_client *c = testdev_client();
    osb_sandbox_create_req r;
    osb_sandbox_options o;
    osb_network_policy np;
    osb_sandbox *sb = NULL;
    osb_egress_status *st = NULL;
    osb_endpoint *ep = NULL;
    char want[256];
    if (!c) SKIP("dev server did not start");
    base_req(&r, NULL);
    memset(&np, 0, sizeof np);
    np.default_action = "deny";
    np.egress = allow_pypi;
    np.egress_count = 1;
    r.network_policy = &np;
    memset(&o, 0, sizeof o);
    o.use_server_proxy = 1;
    CHECK_EQ_INT(osb_sandbox_open(c, &r, &o, &sb), OSB_OK);
    if (!sb) { fprintf(stderr, "  %s\n", osb_client_error(c)->message); osb_client_free(c); return; }
    snprintf(want, sizeof want, "http://%s/sandboxes/%s/proxy/44772", testdev_domain, osb_sandbox_id(sb));
    CHECK_EQ_STR(osb_sandbox_execd(sb)->url, want);
    snprintf(want, sizeof want, "http://%s/sandboxes/%s/proxy/18080", testdev_domain, osb_sandbox_id(sb));
    CHECK_EQ_STR(osb_sandbox_egress(sb)->url, want);
    CHECK_EQ_INT(osb_sandbox_ping(sb), OSB_OK);
    /* the egress token is forwarded by the client: the proxy does not add it */
    CHECK_EQ_INT(osb_sandbox_egress_policy(sb, &st), OSB_OK);
    if (st) {
        CHECK_EQ_STR(st->mode.ptr, "enforcing");
        osb_result_free(st);
    }
    CHECK_EQ_INT(osb_sandbox_expose(sb, 8080, &ep), OSB_OK);
    if (ep) {
        CHECK(strstr(ep->endpoint.ptr, "/proxy/8080") != NULL);
        osb_result_free(ep);
    }
    /* signed routes: the proxy flag is left out; Docker-mode servers refuse them */
    CHECK_EQ_INT(osb_sandbox_expose_signed(sb, 8080, (int64_t)time(NULL) + 600, &ep), OSB_ERR_HTTP);
    CHECK_EQ_INT(osb_client_error(c)->http_status, 400);
    CHECK_EQ_STR(osb_client_error(c)->server_code, "SANDBOX::API_NOT_SUPPORTED");
    CHECK_EQ_INT(osb_sandbox_expose_signed(sb, 8080, 0, &ep), OSB_ERR_INVALID_ARG);
    osb_sandbox_kill(sb);
    osb_sandbox_close(sb);
    osb_client_free(c);
}

TEST(egress_and_vault_shortcuts) {
    osb_client *c = testdev_client();
    osb_sandbox_create_req r;
    osb_network_policy np;
    osb_sandbox *sb = NULL, *plain = NULL;
    osb_egress_status *st = NULL;
    osb_vault_state *v = NULL;
    static const osb_network_rule more[] = {{"allow", "*.example.com"}};
    static const char *const gone[] = {"pypi.org", NULL};
    if (!c) SKIP("dev server did not start");
    base_req(&r, NULL);
    memset(&np, 0, sizeof np);
    np.default_action = "deny";
    np.egress = allow_pypi;
    np.egress_count = 1;
    r.network_policy = &np;
    r.credential_proxy = 1;
    CHECK_EQ_INT(osb_sandbox_open(c, &r, NULL, &sb), OSB_OK);
    if (!sb) { osb_client_free(c); return; }
    CHECK_EQ_INT(osb_sandbox_egress_patch(sb, more, 1, NULL), OSB_OK);
    CHECK_EQ_INT(osb_sandbox_egress_delete(sb, gone, 1, NULL), OSB_OK);
    CHECK_EQ_INT(osb_sandbox_egress_policy(sb, &st), OSB_OK);
    if (st) {
        CHECK_EQ_INT(st->policy.egress_count, 1);
        if (st->policy.egress_count == 1) CHECK_EQ_STR(st->policy.egress[0].target.ptr, "*.example.com");
        osb_result_free(st);
    }
    CHECK_EQ_INT(osb_sandbox_vault_get(sb, &v), OSB_ERR_HTTP);   /* none yet */
    CHECK(osb_error_is_not_found(osb_client_error(c)));
    {
        osb_vault_create_req vr;
        osb_vault_credential_in cred = {"token", "s3cret", NULL};
        memset(&vr, 0, sizeof vr);
        vr.credentials = &cred;
        vr.credentials_count = 1;
        CHECK_EQ_INT(osb_sandbox_vault_create(sb, &vr, &v), OSB_OK);
        osb_result_free(v);
        v = NULL;
    }
    CHECK_EQ_INT(osb_sandbox_vault_get(sb, &v), OSB_OK);
    if (v) {
        CHECK_EQ_INT(v->credentials_count, 1);
        osb_result_free(v);
    }
    CHECK_EQ_INT(osb_sandbox_vault_credentials(sb, &v), OSB_OK);
    if (v) {
        CHECK_EQ_INT(v->credentials_count, 1);
        if (v->credentials_count == 1) CHECK_EQ_STR(v->credentials[0].name.ptr, "token");
        osb_result_free(v);
    }
    CHECK_EQ_INT(osb_sandbox_vault_bindings(sb, &v), OSB_OK);
    if (v) {
        CHECK_EQ_INT(v->bindings_count, 0);
        osb_result_free(v);
    }
    {
        osb_vault_patch_req pr;
        static const char *const del[] = {"token", NULL};
        memset(&pr, 0, sizeof pr);
        pr.credentials_delete = del;
        CHECK_EQ_INT(osb_sandbox_vault_patch(sb, &pr, &v), OSB_OK);
        if (v) {
            CHECK_EQ_INT(v->credentials_count, 0);
            osb_result_free(v);
        }
    }
    CHECK_EQ_INT(osb_sandbox_vault_delete(sb), OSB_OK);
    osb_sandbox_kill(sb);
    osb_sandbox_close(sb);
    /* without a sidecar egress calls fail cleanly (the proxy answers 502) */
    base_req(&r, NULL);
    CHECK_EQ_INT(osb_sandbox_open(c, &r, NULL, &plain), OSB_OK);
    if (plain) {
        CHECK(osb_sandbox_egress_policy(plain, &st) != OSB_OK);
        osb_sandbox_kill(plain);
        osb_sandbox_close(plain);
    }
    osb_client_free(c);
}

TEST(manager_iterate_and_kill) {
    osb_client *c = testdev_client();
    osb_sandbox_create_req r;
    osb_sandbox_options o;
    osb_sandbox *sb[5];
    const char *ids[6];
    osb_err res[6];
    const osb_pair *tag = tag_of("manager");
    osb_sandbox_list_req lr;
    osb_sandbox_iter it;
    const osb_sandbox_info *s;
    static const char *const running[] = {"running", NULL};
    static const char *const paused[] = {"Paused", NULL};
    int i, seen = 0;
    if (!c) SKIP("dev server did not start");
    base_req(&r, tag);
    memset(&o, 0, sizeof o);
    o.skip_health_check = 1;
    o.skip_egress = 1;
    for (i = 0; i < 5; i++) {
        sb[i] = NULL;
        CHECK_EQ_INT(osb_sandbox_open(c, &r, &o, &sb[i]), OSB_OK);
        if (!sb[i]) { osb_client_free(c); return; }
        ids[i] = osb_sandbox_id(sb[i]);
        CHECK(osb_sandbox_egress(sb[i]) == NULL);
    }
    CHECK_EQ_INT(osb_sandbox_suspend(sb[0]), OSB_OK);
    memset(&lr, 0, sizeof lr);
    lr.metadata = tag;
    lr.metadata_count = 1;
    lr.page_size = 2;                 /* three pages */
    osb_manager_iter(&it, c, &lr);
    while (osb_manager_next(&it, &s) == OSB_OK && s) seen++;
    CHECK_EQ_INT(it.err, OSB_OK);
    osb_manager_iter_free(&it);
    CHECK_EQ_INT(seen, 5);
    lr.states = running;              /* case-insensitive */
    seen = 0;
    osb_manager_iter(&it, c, &lr);
    while (osb_manager_next(&it, &s) == OSB_OK && s) seen++;
    osb_manager_iter_free(&it);
    CHECK_EQ_INT(seen, 4);
    lr.states = paused;
    seen = 0;
    osb_manager_iter(&it, c, &lr);
    while (osb_manager_next(&it, &s) == OSB_OK && s) {
        CHECK_EQ_STR(s->id.ptr, ids[0]);
        seen++;
    }
    osb_manager_iter_free(&it);
    CHECK_EQ_INT(seen, 1);
    {
        osb_sandbox_info *one = NULL;
        CHECK_EQ_INT(osb_manager_get(c, ids[1], &one), OSB_OK);
        if (one) CHECK_EQ_STR(one->id.ptr, ids[1]);
        osb_result_free(one);
    }
    ids[5] = "no-such-sandbox";
    CHECK_EQ_INT(osb_manager_kill(c, ids, 6, res), OSB_ERR_HTTP);
    for (i = 0; i < 5; i++) CHECK_EQ_INT(res[i], OSB_OK);
    CHECK_EQ_INT(res[5], OSB_ERR_HTTP);
    CHECK(osb_error_is_not_found(osb_client_error(c)));
    CHECK_EQ_INT(count_tagged(c, tag), 0);
    for (i = 0; i < 5; i++) osb_sandbox_close(sb[i]);
    osb_client_free(c);
}

TEST(snapshot_and_diagnostics) {
    osb_client *c = testdev_client();
    osb_sandbox_create_req r;
    osb_sandbox *sb = NULL, *restored = NULL;
    osb_snapshot *snap = NULL;
    osb_text *txt = NULL;
    if (!c) SKIP("dev server did not start");
    base_req(&r, NULL);
    CHECK_EQ_INT(osb_sandbox_open(c, &r, NULL, &sb), OSB_OK);
    if (!sb) { osb_client_free(c); return; }
    CHECK_EQ_INT(osb_sandbox_snapshot(sb, "checkpoint", 10000, &snap), OSB_OK);
    if (snap) {
        CHECK_EQ_STR(snap->status.state.ptr, "Ready");
        CHECK_EQ_STR(snap->name.ptr, "checkpoint");
        /* restore: snapshot_id instead of an image, no entrypoint sent */
        memset(&r, 0, sizeof r);
        r.snapshot_id = snap->id.ptr;
        CHECK_EQ_INT(osb_sandbox_open(c, &r, NULL, &restored), OSB_OK);
        if (restored) {
            osb_sandbox_kill(restored);
            osb_sandbox_close(restored);
        }
        CHECK_EQ_INT(osb_snapshot_delete(c, snap->id.ptr), OSB_OK);
        osb_result_free(snap);
    }
    CHECK_EQ_INT(osb_sandbox_diagnostics(sb, NULL, &txt), OSB_OK);
    if (txt) {
        CHECK(txt->text.ptr != NULL);
        osb_result_free(txt);
    }
    osb_sandbox_kill(sb);
    osb_sandbox_close(sb);
    osb_client_free(c);
}

/* ---- credentials stay with their origin (checked on the recorded log) ----- */

/* Calls fn for each recorded exchange on the lifecycle server (lifecycle 1:
 * paths under /v1/ or /sandboxes/) or on a sandbox's execd/egress listener
 * (lifecycle 0; recorded without the /proxy/<port> prefix) whose path starts
 * with prefix. Returns how many matched, negative when fn rejected one. */
static int ci_contains(const char *hay, const char *needle);

static int rec_scan(int lifecycle, const char *prefix, int (*fn)(const char *line, void *u), void *u,
                    const char *needle) {
    FILE *f = fopen(rec_path, "r");
    char *line = NULL;
    size_t cap = 0;
    int count = 0, bad = 0;
    char pat[128];
    snprintf(pat, sizeof pat, "\"path\": \"%s", prefix);
    if (!f) return -1;
    while (getline(&line, &cap, f) > 0) {
        int lc = strstr(line, "\"path\": \"/v1/") || strstr(line, "\"path\": \"/sandboxes/");
        if (lc != lifecycle || !strstr(line, pat)) continue;
        if (needle && !ci_contains(line, needle)) continue;
        count++;
        if (fn && !fn(line, u)) bad = 1;
    }
    free(line);
    fclose(f);
    return bad ? -1 : count;
}

static int ci_contains(const char *hay, const char *needle) {
    size_t n = strlen(needle);
    for (; *hay; hay++)
        if (strncasecmp(hay, needle, n) == 0) return 1;
    return 0;
}

static int no_api_key(const char *line, void *u) {
    (void)u;
    return !ci_contains(line, "OPEN-SANDBOX-API-KEY") && !strstr(line, testdev_api_key);
}

TEST(credentials_stay_with_their_origin) {
    osb_client *c = testdev_client();
    osb_sandbox_create_req r;
    osb_network_policy np;
    osb_sandbox *sb = NULL;
    osb_egress_status *st = NULL;
    char hdr[300];
    if (!c) SKIP("dev server did not start");
    if (!rec_path[0]) { osb_client_free(c); SKIP("not recording"); }
    base_req(&r, NULL);
    memset(&np, 0, sizeof np);
    np.default_action = "deny";
    np.egress = allow_pypi;
    np.egress_count = 1;
    r.network_policy = &np;
    CHECK_EQ_INT(osb_sandbox_open(c, &r, NULL, &sb), OSB_OK);
    if (!sb) { osb_client_free(c); return; }
    CHECK_EQ_INT(osb_sandbox_egress_policy(sb, &st), OSB_OK);
    osb_result_free(st);
    /* the egress endpoint came with a token header; it went out verbatim */
    CHECK(osb_sandbox_egress(sb)->headers && osb_sandbox_egress(sb)->headers[0]);
    if (osb_sandbox_egress(sb)->headers && osb_sandbox_egress(sb)->headers[0]) {
        const char *line = osb_sandbox_egress(sb)->headers[0];
        const char *colon = strchr(line, ':');
        CHECK(strncasecmp(line, "OPENSANDBOX-EGRESS-AUTH:", 24) == 0);
        /* as recorded: "Name": "value" */
        snprintf(hdr, sizeof hdr, "\"%.*s\": \"%s\"", (int)(colon - line), line, colon + 2);
        {   /* the server writes a record just after its answer: give it a moment */
            int tries = 0;
            while (rec_scan(0, "/policy", NULL, NULL, hdr) < 1 && tries++ < 40) testproc_sleep_ms(50);
        }
        CHECK(rec_scan(0, "/policy", NULL, NULL, hdr) >= 1);
    }
    /* execd and egress requests never carried the lifecycle API key */
    CHECK(rec_scan(0, "/ping", NULL, NULL, NULL) >= 1);
    CHECK(rec_scan(0, "/", no_api_key, NULL, NULL) >= 2);
    /* the lifecycle requests did */
    CHECK(rec_scan(1, "/v1/sandboxes", NULL, NULL, "\"OPEN-SANDBOX-API-KEY\": ") >= 3);
    CHECK(rec_scan(1, "/v1/sandboxes", NULL, NULL, NULL) == rec_scan(1, "/v1/sandboxes", NULL, NULL,
                                                                      "\"OPEN-SANDBOX-API-KEY\": "));
    osb_sandbox_kill(sb);
    osb_sandbox_close(sb);
    osb_client_free(c);
}

/* Extra headers and the user agent set through osb_config reach the
 * lifecycle server; the extra headers stay off execd and egress. */
static int no_team_header(const char *line, void *u) {
    (void)u;
    return !ci_contains(line, "X-Team-Marker");
}

TEST(config_headers_and_user_agent) {
    osb_config cfg;
    osb_client *c = NULL;
    osb_sandbox_create_req r;
    osb_sandbox *sb = NULL;
    static const char *const extra[] = {"X-Team-Marker: blue-7", NULL};
    char ua[64];
    if (!testdev_start()) SKIP("dev server did not start");
    if (!rec_path[0]) SKIP("not recording");
    cfg_reset(NULL);
    memset(&cfg, 0, sizeof cfg);
    cfg.client.domain = testdev_domain;
    cfg.client.api_key = testdev_api_key;
    cfg.client.headers = extra;
    CHECK_EQ_INT(osb_config_load(&cfg), OSB_OK);
    CHECK(cfg.client.headers == extra);
    CHECK_EQ_INT(osb_client_new(&cfg.client, &c), OSB_OK);
    if (!c) return;
    base_req(&r, NULL);
    CHECK_EQ_INT(osb_sandbox_open(c, &r, NULL, &sb), OSB_OK);
    if (sb) {
        CHECK_EQ_INT(osb_sandbox_ping(sb), OSB_OK);
        osb_sandbox_kill(sb);
        osb_sandbox_close(sb);
    }
    testproc_sleep_ms(200);   /* the server writes each record just after its answer */
    CHECK(rec_scan(1, "/v1/sandboxes", NULL, NULL, "\"X-Team-Marker\": \"blue-7\"") >= 3);
    snprintf(ua, sizeof ua, "\"User-Agent\": \"opensandbox-c/%s\"", OSB_VERSION_STRING);
    CHECK(rec_scan(1, "/v1/sandboxes", NULL, NULL, ua) >= 3);
    CHECK(rec_scan(0, "/ping", NULL, NULL, ua) >= 1);
    CHECK(rec_scan(0, "/", no_team_header, NULL, NULL) >= 1);
    osb_client_free(c);
}

/* A second server that requires an execd token and, like every real
 * server, does not hand it out: the client's execd_access_token goes on
 * every execd call of the sandbox layer (readiness, commands). */
TEST(execd_token_forwarded) {
    testproc p;
    const char *argv[] = {"python3", "tools/devserver/devserver.py", "--execd-token", "tok-123",
                          "--api-key", "", NULL};
    osb_client_config cc;
    osb_client *c = NULL;
    osb_sandbox_create_req r;
    osb_sandbox *sb = NULL;
    osb_execution x;
    char dom[128];
    if (testproc_start(&p, argv) != 0) SKIP("second dev server did not start");
    if (!testdev_json_field(p.ready, "domain", dom, sizeof dom)) { testproc_stop(&p); SKIP("no ready line"); }
    memset(&cc, 0, sizeof cc);
    cc.domain = dom;
    cc.execd_access_token = "tok-123";
    CHECK_EQ_INT(osb_client_new(&cc, &c), OSB_OK);
    base_req(&r, NULL);
    CHECK_EQ_INT(osb_sandbox_open(c, &r, NULL, &sb), OSB_OK);
    if (sb) {
        const char *const *h = osb_sandbox_execd(sb)->headers;
        CHECK(!h || !h[0] || strstr(h[0], "tok-123") == NULL);   /* not from the endpoint */
        CHECK_EQ_INT(osb_sandbox_ping(sb), OSB_OK);
        memset(&x, 0, sizeof x);
        CHECK_EQ_INT(osb_sandbox_run(sb, "echo ok", NULL, NULL, &x), OSB_OK);
        CHECK_EQ_STR(x.out.data, "ok\n");
        osb_execution_free(&x);
        {   /* PTY sessions: the REST calls and the WebSocket upgrade carry it too */
            osb_pty_request pr;
            osb_pty *pt = NULL;
            int code = -2;
            memset(&pr, 0, sizeof pr);
            pr.command = "exit 4";
            CHECK_EQ_INT(osb_sandbox_shell(sb, &pr, NULL, &pt), OSB_OK);
            if (pt) {
                CHECK_EQ_INT(osb_pty_run(pt, NULL, NULL, &code), OSB_OK);
                CHECK_EQ_INT(code, 4);
                CHECK_EQ_INT(osb_pty_delete(c, osb_sandbox_execd(sb), osb_pty_id(pt)), OSB_OK);
                osb_pty_detach(pt);
            }
        }
        osb_sandbox_kill(sb);
        osb_sandbox_close(sb);
    }
    osb_client_free(c);
    testproc_stop(&p);
}

/* Kubernetes-style gateways: with header routing nothing reaches execd
 * unless OpenSandbox-Ingress-To is forwarded; with URI routing the endpoint
 * carries a path prefix. Signed routes work there. */
static void gateway_mode(const char *mode) {
    testproc p;
    const char *argv[] = {"python3", "tools/devserver/devserver.py", "--endpoint-mode", mode, "--api-key", "",
                          "--command-grace", "0.1", NULL};
    osb_client_config cc;
    osb_client *c = NULL;
    osb_sandbox_create_req r;
    osb_sandbox *sb = NULL;
    osb_execution x;
    osb_endpoint *ep = NULL;
    char dom[128];
    if (testproc_start(&p, argv) != 0) { fprintf(stderr, "  (no %s dev server)\n", mode); return; }
    if (!testdev_json_field(p.ready, "domain", dom, sizeof dom)) { testproc_stop(&p); return; }
    memset(&cc, 0, sizeof cc);
    cc.domain = dom;
    CHECK_EQ_INT(osb_client_new(&cc, &c), OSB_OK);
    base_req(&r, NULL);
    CHECK_EQ_INT(osb_sandbox_open(c, &r, NULL, &sb), OSB_OK);
    if (sb) {
        const char *const *h = osb_sandbox_execd(sb)->headers;
        if (strcmp(mode, "k8s-header") == 0) {
            CHECK(h && h[0] && strncmp(h[0], "OpenSandbox-Ingress-To: ", 24) == 0);
        } else {
            CHECK(strstr(osb_sandbox_execd(sb)->url, osb_sandbox_id(sb)) != NULL);
        }
        memset(&x, 0, sizeof x);
        CHECK_EQ_INT(osb_sandbox_run(sb, "echo through the gateway", NULL, NULL, &x), OSB_OK);
        CHECK_EQ_STR(x.out.data, "through the gateway\n");
        osb_execution_free(&x);
        CHECK_EQ_INT(osb_sandbox_expose_signed(sb, 44772, (int64_t)time(NULL) + 600, &ep), OSB_OK);
        osb_result_free(ep);
        osb_sandbox_kill(sb);
        osb_sandbox_close(sb);
    } else {
        fprintf(stderr, "  %s: %s\n", mode, osb_client_error(c)->message);
    }
    osb_client_free(c);
    testproc_stop(&p);
}

TEST(gateway_header_routing) { gateway_mode("k8s-header"); }
TEST(gateway_uri_routing) { gateway_mode("k8s-uri"); }

/* A server that answers create with Pending: the layer polls until Running. */
TEST(pending_then_running) {
    testproc p;
    const char *argv[] = {"python3", "tools/devserver/devserver.py", "--spec-mode", "2", "--api-key", "", NULL};
    osb_client_config cc;
    osb_client *c = NULL;
    osb_sandbox_create_req r;
    osb_sandbox *sb = NULL;
    char dom[128];
    if (testproc_start(&p, argv) != 0) SKIP("second dev server did not start");
    if (!testdev_json_field(p.ready, "domain", dom, sizeof dom)) { testproc_stop(&p); SKIP("no ready line"); }
    memset(&cc, 0, sizeof cc);
    cc.domain = dom;
    CHECK_EQ_INT(osb_client_new(&cc, &c), OSB_OK);
    base_req(&r, NULL);
    CHECK_EQ_INT(osb_sandbox_open(c, &r, NULL, &sb), OSB_OK);
    if (sb) {
        CHECK_EQ_STR(osb_sandbox_created(sb)->status.state.ptr, "Pending");
        osb_sandbox_kill(sb);
        osb_sandbox_close(sb);
    }
    osb_client_free(c);
    testproc_stop(&p);
}

/* ---- execd shortcuts ----------------------------------------------------- */

static int count_lines(void *user, const osb_event *ev) {
    if (ev->type == OSB_EVENT_STDOUT) (*(int *)user)++;
    return 0;
}

static int prog_calls(void *user, uint64_t done, uint64_t total) {
    uint64_t *last = (uint64_t *)user;
    if (done < last[0] || total != last[1]) last[2] = 1;   /* must only grow; total fixed */
    last[0] = done;
    last[3]++;
    return 0;
}

static int prog_stop(void *user, uint64_t done, uint64_t total) {
    (void)user; (void)total;
    return done > 100000;
}

static int collect(void *user, const void *data, size_t len) {
    return osb_buf_append((osb_buf *)user, data, len) != OSB_OK;
}

TEST(execd_shortcuts) {
    osb_client *c = testdev_client();
    osb_sandbox_create_req r;
    osb_sandbox *sb = NULL;
    osb_execution x;
    osb_buf b;
    int lines = 0, code = -100;
    char id[OSB_EXEC_ID_MAX], sid[OSB_EXEC_ID_MAX], local[128], back[128], remote[128];
    uint64_t prog[4];
    osb_metrics *m = NULL;
    osb_code_context *ctx = NULL;
    FILE *f;
    int i;
    if (!c) SKIP("dev server did not start");
    base_req(&r, NULL);
    CHECK_EQ_INT(osb_sandbox_open(c, &r, NULL, &sb), OSB_OK);
    if (!sb) { osb_client_free(c); return; }
    memset(&x, 0, sizeof x);
    CHECK_EQ_INT(osb_sandbox_run(sb, "echo a; echo b; exit 4", count_lines, &lines, &x), OSB_OK);
    CHECK_EQ_INT(lines, 2);
    CHECK_EQ_STR(x.out.data, "a\nb\n");
    CHECK_EQ_INT(x.exit_code, 4);
    osb_execution_free(&x);
    {
        osb_command_request cr;
        static const char *const envs[] = {"GREETING=hi there", NULL};
        memset(&cr, 0, sizeof cr);
        cr.command = "echo \"$GREETING\" from $(pwd)";
        cr.cwd = "/tmp";
        cr.envs = envs;
        CHECK_EQ_INT(osb_sandbox_command(sb, &cr, NULL, NULL, &x), OSB_OK);
        CHECK_EQ_STR(x.out.data, "hi there from /tmp\n");
        osb_execution_free(&x);
    }
    /* background */
    CHECK_EQ_INT(osb_sandbox_start(sb, "echo one; sleep 0.2; echo two; exit 5", id, sizeof id), OSB_OK);
    osb_buf_init(&b, NULL);
    CHECK_EQ_INT(osb_sandbox_follow(sb, id, collect, &b, &code), OSB_OK);
    CHECK_EQ_STR(b.data, "one\ntwo\n");
    CHECK_EQ_INT(code, 5);
    osb_buf_free(&b);
    CHECK_EQ_INT(osb_sandbox_start(sb, "sleep 30", id, sizeof id), OSB_OK);
    CHECK_EQ_INT(osb_sandbox_interrupt(sb, id), OSB_OK);
    /* sessions keep state */
    CHECK_EQ_INT(osb_sandbox_session(sb, "/tmp", sid, sizeof sid), OSB_OK);
    CHECK_EQ_INT(osb_sandbox_session_run(sb, sid, "export V=kept; cd /", NULL, NULL, NULL), OSB_OK);
    CHECK_EQ_INT(osb_sandbox_session_run(sb, sid, "echo $V $(pwd)", NULL, NULL, &x), OSB_OK);
    CHECK_EQ_STR(x.out.data, "kept /\n");
    osb_execution_free(&x);
    /* code contexts keep state */
    CHECK_EQ_INT(osb_sandbox_code_context(sb, NULL, &ctx), OSB_OK);
    if (ctx) {
        CHECK_EQ_INT(osb_sandbox_code(sb, ctx->id.ptr, NULL, "y = 6", NULL, NULL, NULL), OSB_OK);
        CHECK_EQ_INT(osb_sandbox_code(sb, ctx->id.ptr, NULL, "y * 7", NULL, NULL, &x), OSB_OK);
        CHECK_EQ_INT(x.results_count, 1);
        if (x.results_count == 1) CHECK_EQ_STR(x.results[0].text.ptr, "42");
        osb_execution_free(&x);
        osb_result_free(ctx);
    }
    /* files: memory, then local files with progress */
    snprintf(remote, sizeof remote, "/tmp/osb-test-sb-%ld/f.txt", (long)getpid());
    CHECK_EQ_INT(osb_sandbox_write_file(sb, remote, "content\n", 8), OSB_OK);
    osb_buf_init(&b, NULL);
    CHECK_EQ_INT(osb_sandbox_read_file(sb, remote, &b), OSB_OK);
    CHECK_EQ_STR(b.data, "content\n");
    osb_buf_free(&b);
    /* line reads: lines 2..3, without the final newline */
    CHECK_EQ_INT(osb_sandbox_write_file(sb, remote, "l1\nl2\nl3\nl4\n", 12), OSB_OK);
    osb_buf_init(&b, NULL);
    CHECK_EQ_INT(osb_sandbox_read_lines(sb, remote, 2, 2, &b), OSB_OK);
    CHECK_EQ_STR(b.data, "l2\nl3");
    b.len = 0;
    CHECK_EQ_INT(osb_sandbox_read_lines(sb, remote, 4, 0, &b), OSB_OK);
    CHECK_EQ_STR(b.data, "l4");
    CHECK_EQ_INT(osb_sandbox_read_lines(sb, remote, 0, 1, &b), OSB_ERR_INVALID_ARG);
    osb_buf_free(&b);
    snprintf(local, sizeof local, "/tmp/osb-test-sb-%ld.up", (long)getpid());
    snprintf(back, sizeof back, "/tmp/osb-test-sb-%ld.down", (long)getpid());
    f = fopen(local, "wb");
    for (i = 0; f && i < 300000; i++) fputc(i & 0xFF, f);
    if (f) fclose(f);
    memset(prog, 0, sizeof prog);
    prog[1] = 300000;
    CHECK_EQ_INT(osb_sandbox_upload(sb, local, remote, prog_calls, prog), OSB_OK);
    CHECK_EQ_INT(prog[0], 300000);
    CHECK_EQ_INT(prog[2], 0);
    CHECK(prog[3] >= 2);
    memset(prog, 0, sizeof prog);
    prog[1] = 300000;
    CHECK_EQ_INT(osb_sandbox_download(sb, remote, back, prog_calls, prog), OSB_OK);
    CHECK_EQ_INT(prog[0], 300000);
    CHECK_EQ_INT(prog[2], 0);
    {
        struct stat st;
        CHECK(stat(back, &st) == 0 && st.st_size == 300000);
    }
    CHECK_EQ_INT(osb_sandbox_upload(sb, local, remote, prog_stop, NULL), OSB_ERR_CANCELLED);
    CHECK_EQ_INT(osb_sandbox_download(sb, remote, back, prog_stop, NULL), OSB_ERR_CANCELLED);
    CHECK_EQ_INT(osb_sandbox_upload(sb, "/nonexistent/x", remote, NULL, NULL), OSB_ERR_IO);
    {
        osb_file_info_list *ls = NULL;
        char dir[128];
        const char *d = dir;
        snprintf(dir, sizeof dir, "/tmp/osb-test-sb-%ld", (long)getpid());
        CHECK_EQ_INT(osb_sandbox_list_dir(sb, dir, 1, &ls), OSB_OK);
        if (ls) {
            CHECK_EQ_INT(ls->count, 1);
            osb_result_free(ls);
        }
        osb_dir_delete(c, osb_sandbox_execd(sb), &d, 1);
    }
    unlink(local);
    unlink(back);
    CHECK_EQ_INT(osb_sandbox_metrics(sb, &m), OSB_OK);
    if (m) {
        CHECK(m->cpu_count > 0);
        osb_result_free(m);
    }
    CHECK_EQ_INT(osb_sandbox_kill(sb), OSB_OK);
    osb_sandbox_close(sb);
    osb_client_free(c);
}

int main(int argc, char **argv) {
    int rc;
    (void)testdev_sandbox;
    (void)testdev_client;
    if (!getenv("OSB_RECORD")) {
        snprintf(rec_path, sizeof rec_path, "/tmp/osb-test-sandbox-%ld.jsonl", (long)getpid());
        unlink(rec_path);
        setenv("OSB_RECORD", rec_path, 1);
    } else {
        snprintf(rec_path, sizeof rec_path, "%s", getenv("OSB_RECORD"));
    }
    rc = testlib_main(argc, argv);
    testdev_stop();
    if (strstr(rec_path, "/tmp/osb-test-sandbox-")) unlink(rec_path);
    if (cfg_home[0]) {
        char path[512];
        snprintf(path, sizeof path, "%s/.opensandbox", cfg_home);
        rmdir(path);
        rmdir(cfg_home);
    }
    return rc;
}
