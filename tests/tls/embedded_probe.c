/* embedded_probe.c -- built by test_tls with OSB_TLS_EMBEDDED_ANCHORS: the
 * compiled-in anchors are used only when no other source is configured and no
 * system bundle exists. It fills its "compiled-in" array at run time from the
 * CA file given as argv[1] (a real build would use `brssl ta` output), then
 * prints where a client's anchors come from. With argv[2] = "none" the array
 * is left empty. */
#define _POSIX_C_SOURCE 200809L
#include <bearssl.h>
static br_x509_trust_anchor probe_tas[1];
static size_t probe_tas_num;
#define OSB_TLS 1
#define OSB_TLS_EMBEDDED_ANCHORS probe_tas
#define OSB_TLS_EMBEDDED_ANCHORS_NUM probe_tas_num
#define OPENSANDBOX_IMPLEMENTATION
#include "opensandbox.h"
#include <stdio.h>

int main(int argc, char **argv) {
    osb_tls_config cfg;
    osb__tls_ctx *ctx = NULL;
    osb_error err;
    size_t n = 0;
    char src[160];
    osb_err e;
    if (argc < 2) return 2;
    memset(&cfg, 0, sizeof cfg);
    memset(&err, 0, sizeof err);
    cfg.ca_file = argv[1];
    if (osb__tls_ctx_new(&cfg, NULL, &ctx, &err) != OSB_OK) {
        printf("load: %s\n", err.message);
        return 1;
    }
    if (!(argc > 2 && strcmp(argv[2], "none") == 0)) {
        probe_tas[0] = ctx->tas[0];
        probe_tas_num = 1;
    }
    e = osb_tls_anchor_count(NULL, &n, src, sizeof src, &err);
    if (e == OSB_OK) printf("anchors: %lu from %s\n", (unsigned long)n, src);
    else printf("anchors: error %d: %s\n", (int)e, err.message);
    osb__tls_ctx_free(ctx);
    return 0;
}
