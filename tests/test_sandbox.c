/* test_sandbox.c -- the sandbox layer: configuration sources and their
 * precedence, create-and-wait, endpoint resolution, cleanup on failure,
 * server-proxy mode, credentials kept to their origin, the manager. */
#define _DEFAULT_SOURCE
#define OPENSANDBOX_IMPLEMENTATION
#include "../opensandbox.h"
#include "../parts/sandbox.h"
#include "testlib.h"
#include "testdev.h"
#include <sys/stat.h>

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
    cfg_reset("[connection]\napi_key = \"unterminated\n");
    memset(&cfg, 0, sizeof cfg);
    CHECK_EQ_INT(osb_config_load(&cfg), OSB_ERR_INVALID_ARG);
    CHECK(strstr(cfg.message, "unterminated") == NULL);   /* never echoes the key */
    /* config init's empty api_key means "none" */
    cfg_reset("[connection]\napi_key = \"\"\ndomain = \"d:1\"\n");
    memset(&cfg, 0, sizeof cfg);
    CHECK_EQ_INT(osb_config_load(&cfg), OSB_OK);
    CHECK(cfg.client.api_key == NULL);
    CHECK_EQ_STR(cfg.client.domain, "d:1");
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

int main(int argc, char **argv) {
    int rc;
    (void)testdev_sandbox;
    (void)testdev_client;
    rc = testlib_main(argc, argv);
    testdev_stop();
    if (cfg_home[0]) {
        char path[512];
        snprintf(path, sizeof path, "%s/.opensandbox", cfg_home);
        rmdir(path);
        rmdir(cfg_home);
    }
    return rc;
}
