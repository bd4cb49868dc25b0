/* testdev.h -- integration tests against tools/devserver.
 *
 *   testdev_start()        starts one dev server for the test program (once);
 *                          with $OSB_RECORD set it records every exchange to
 *                          that file (make conformance validates it)
 *   testdev_client()       a client for it (free with osb_client_free)
 *   testdev_domain/api_key what the server printed in its ready line
 *   testdev_sandbox(c, id, execd_url) creates a sandbox with raw requests
 *                          and resolves its execd endpoint (for suites that
 *                          must not depend on the typed lifecycle calls)
 *   testdev_stop()         stops the server (by pid)
 */
#ifndef TESTDEV_H
#define TESTDEV_H
#include "testproc.h"

static testproc testdev_proc;
static char testdev_domain[128];
static char testdev_api_key[128];
static int testdev_up;

/* The string value of "key" in a flat JSON line (the ready line). */
static int testdev_json_field(const char *json, const char *key, char *out, size_t cap) {
    char pat[64];
    const char *p, *e;
    snprintf(pat, sizeof pat, "\"%s\": \"", key);
    p = strstr(json, pat);
    if (!p) {
        snprintf(pat, sizeof pat, "\"%s\":\"", key);
        p = strstr(json, pat);
        if (!p) return 0;
    }
    p += strlen(pat);
    e = strchr(p, '"');
    if (!e || (size_t)(e - p) >= cap) return 0;
    memcpy(out, p, (size_t)(e - p));
    out[e - p] = 0;
    return 1;
}

static int testdev_start(void) {
    const char *argv[16];
    int n = 0;
    const char *rec = getenv("OSB_RECORD");
    if (testdev_up) return 1;
    argv[n++] = "python3";
    argv[n++] = "tools/devserver/devserver.py";
    argv[n++] = "--command-grace";
    argv[n++] = "0.1";
    if (rec && *rec) {
        argv[n++] = "--record";
        argv[n++] = rec;
    }
    argv[n] = NULL;
    if (testproc_start(&testdev_proc, argv) != 0) return 0;
    if (!testdev_json_field(testdev_proc.ready, "domain", testdev_domain, sizeof testdev_domain) ||
        !testdev_json_field(testdev_proc.ready, "api_key", testdev_api_key, sizeof testdev_api_key)) {
        testproc_stop(&testdev_proc);
        return 0;
    }
    testdev_up = 1;
    return 1;
}

static void testdev_stop(void) {
    if (testdev_up) testproc_stop(&testdev_proc);
    testdev_up = 0;
}

static osb_client *testdev_client(void) {
    osb_client_config cfg;
    osb_client *c = NULL;
    if (!testdev_start()) return NULL;
    memset(&cfg, 0, sizeof cfg);
    cfg.domain = testdev_domain;
    cfg.api_key = testdev_api_key;
    if (osb_client_new(&cfg, &c) != OSB_OK) return NULL;
    return c;
}

/* Creates a sandbox and resolves its execd endpoint into execd_url
 * ("http://host:port/prefix"). Returns 1 on success. */
#if defined(__GNUC__) || defined(__clang__)
__attribute__((unused))
#endif
static int testdev_sandbox(osb_client *c, char *id, size_t id_cap, char *execd_url, size_t url_cap) {
    osb_http_request req;
    osb_http_response res;
    char path[256], ep[512];
    static const char body[] =
        "{\"image\":{\"uri\":\"python:3.11\"},\"timeout\":600,\"resourceLimits\":{\"cpu\":\"1\",\"memory\":\"1Gi\"},"
        "\"entrypoint\":[\"tail\",\"-f\",\"/dev/null\"]}";
    memset(&req, 0, sizeof req);
    req.method = "POST";
    req.path = "/v1/sandboxes";
    req.content_type = "application/json";
    req.body = body;
    req.body_len = sizeof body - 1;
    if (osb_request_raw(c, &req, &res) != OSB_OK) return 0;
    if (!testdev_json_field(res.body.data, "id", id, id_cap)) { osb_http_response_free(&res); return 0; }
    osb_http_response_free(&res);
    snprintf(path, sizeof path, "/v1/sandboxes/%s/endpoints/44772", id);
    memset(&req, 0, sizeof req);
    req.path = path;
    if (osb_request_raw(c, &req, &res) != OSB_OK) return 0;
    if (!testdev_json_field(res.body.data, "endpoint", ep, sizeof ep)) { osb_http_response_free(&res); return 0; }
    osb_http_response_free(&res);
    snprintf(execd_url, url_cap, "http://%s", ep);
    return 1;
}
#endif
