/* size_probe.c -- a small complete program for the static size figures until
 * tools/osb/main.c exists: one GET through osb_request_raw, body to stdout.
 *
 *   size_probe URL            e.g. https://localhost:8443/hello
 *
 * With OSB_TLS=1 it speaks https (CA from SSL_CERT_FILE / system bundle). */
#define _POSIX_C_SOURCE 200809L
#define OPENSANDBOX_IMPLEMENTATION
#include "opensandbox.h"
#include <stdio.h>

static int print_body(void *user, const void *data, size_t len) {
    (void)user;
    return fwrite(data, 1, len, stdout) != len;
}

int main(int argc, char **argv) {
    osb_client_config cfg;
    osb_client *c = NULL;
    osb_http_request req;
    osb_http_response res;
    osb_err e;
    if (argc < 2) {
        fprintf(stderr, "usage: %s URL\n%s\n", argv[0], osb_build_config());
        return 2;
    }
    memset(&cfg, 0, sizeof cfg);
    cfg.domain = argv[1];
    if ((e = osb_client_new(&cfg, &c)) != OSB_OK) {
        fprintf(stderr, "client: %s\n", osb_strerror(e));
        return 1;
    }
    memset(&req, 0, sizeof req);
    memset(&res, 0, sizeof res);
    req.url = argv[1];
    req.sink = print_body;
    e = osb_request_raw(c, &req, &res);
    if (e != OSB_OK)
        fprintf(stderr, "%s: %s\n", osb_strerror(e), osb_client_error(c)->message);
    osb_http_response_free(&res);
    osb_client_free(c);
    return e == OSB_OK ? 0 : 1;
}
