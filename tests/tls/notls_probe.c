/* notls_probe.c -- built with OSB_TLS=0 by test_tls: every TLS entry point is
 * declared, and an https URL fails with OSB_ERR_UNSUPPORTED naming the switch. */
#define _POSIX_C_SOURCE 200809L
#define OPENSANDBOX_IMPLEMENTATION
#include "opensandbox.h"
#include <stdio.h>

int main(void) {
    osb_client_config cfg;
    osb_client *c = NULL;
    osb_http_request req;
    osb_http_response res;
    osb_error err;
    size_t n = 7;
    osb_err e;
    memset(&cfg, 0, sizeof cfg);
    cfg.domain = "https://localhost:1";
    cfg.tls.ca_file = "/nonexistent";
    if (osb_client_new(&cfg, &c) != OSB_OK) return 1;
    memset(&req, 0, sizeof req);
    memset(&res, 0, sizeof res);
    req.path = "/x";
    e = osb_request_raw(c, &req, &res);
    printf("request: %d %s\n", (int)e, osb_client_error(c)->message);
    osb_http_response_free(&res);
    osb_client_free(c);
    memset(&err, 0, sizeof err);
    e = osb_tls_anchor_count(NULL, &n, NULL, 0, &err);
    printf("anchors: %d %lu %s\n", (int)e, (unsigned long)n, err.message);
    printf("strerror: %s\n", osb_tls_strerror(62));
    return 0;
}
