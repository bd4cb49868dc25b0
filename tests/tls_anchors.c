/* tls_anchors.c -- where a client's trust anchors come from, and that an
 * https call with a CA file works, for builds run on another system (the
 * Windows build under wine: tests/edge_flow.py).
 *
 *   tls_anchors                    prints "anchors: SOURCE COUNT" for a client
 *                                  with nothing configured (exit 1 if none)
 *   tls_anchors CA_FILE HOST:PORT API_KEY
 *                                  the same for tls.ca_file = CA_FILE, then
 *                                  lists sandboxes over https at HOST:PORT
 *                                  with it (exit 0 when that works) */
#define OPENSANDBOX_IMPLEMENTATION
#include "opensandbox.h"
#include <stdio.h>
#include <string.h>

int main(int argc, char **argv) {
    osb_client_config cfg;
    osb_client *c = NULL;
    osb_sandbox_page *page = NULL;
    osb_error err;
    char source[256];
    size_t n = 0;
    osb_err e;
    memset(&cfg, 0, sizeof cfg);
    memset(&err, 0, sizeof err);
    if (argc == 4) cfg.tls.ca_file = argv[1];
    e = osb_tls_anchor_count(&cfg.tls, &n, source, sizeof source, &err);
    if (e != OSB_OK) {
        fprintf(stderr, "anchors: %s (%s)\n", osb_strerror(e), err.message);
        return 1;
    }
    printf("anchors: %s %lu\n", source, (unsigned long)n);
    if (argc != 4) return 0;
    cfg.domain = argv[2];
    cfg.protocol = "https";
    cfg.api_key = argv[3];
    if (osb_client_new(&cfg, &c) != OSB_OK) return fprintf(stderr, "bad domain\n"), 1;
    e = osb_sandbox_list(c, NULL, &page);
    if (e != OSB_OK) {
        fprintf(stderr, "list over https: %s (%s)\n", osb_strerror(e), osb_client_error(c)->message);
        osb_client_free(c);
        return 1;
    }
    printf("https with the CA file: ok\n");
    osb_result_free(page);
    osb_client_free(c);
    return 0;
}
