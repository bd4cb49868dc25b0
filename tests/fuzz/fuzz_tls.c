/* fuzz_tls.c -- the TLS parsers on hostile input: the PEM trust-anchor
 * reader (strict and lenient, fed whole and in pieces), the iPAddress SAN
 * reader, the X.509 wrapper in its three modes (certificate bytes in
 * pieces, as from the network) and the IP-literal parser. Besides "no crash":
 * every allocation is
 * freed, whole and split feeding load the same anchors, and a SAN match is
 * only reported for an address that is really in the input.
 *
 *   clang-14 -g -O1 -fsanitize=fuzzer,address,undefined -I. tests/fuzz/fuzz_tls.c \
 *       -o build/fuzz_tls_lf -lbearssl
 *   build/fuzz_tls_lf -max_total_time=60 build/corpus-tls tests/fuzz/corpus/tls
 *
 * With gcc (no libFuzzer) it replays the files named on the command line. */
#define _POSIX_C_SOURCE 200809L
#define OSB_TLS 1
#define OPENSANDBOX_IMPLEMENTATION
#include "../../opensandbox.h"
#include <stdio.h>
#include <stdlib.h>

#define FZ_ASSERT(c) do { if (!(c)) { fprintf(stderr, "assertion failed: %s (line %d)\n", #c, __LINE__); abort(); } } while (0)

static size_t fz_live;
static void *fz_alloc(void *ctx, size_t n) {
    size_t *p = (size_t *)malloc(n + 16);
    (void)ctx;
    if (!p) return NULL;
    p[0] = n;
    fz_live += n;
    return p + 2;
}
static void fz_free(void *ctx, void *q) {
    size_t *p = (size_t *)q - 2;
    (void)ctx;
    fz_live -= p[0];
    free(p);
}
static void *fz_realloc(void *ctx, void *q, size_t old, size_t n) {
    void *x = fz_alloc(ctx, n);
    if (x && q) {
        memcpy(x, q, old < n ? old : n);
        fz_free(ctx, q);
    }
    return x;
}

/* Loads data as PEM, split after every 'step' bytes (0 = whole). */
static long fz_load(const uint8_t *data, size_t size, int strict, size_t step, osb__tls_ctx *ctx) {
    osb__pem_load L;
    osb_error err;
    size_t off = 0;
    osb__tls_load_begin(&L, ctx, "fuzz", strict, &err);
    while (off < size) {
        size_t n = step && step < size - off ? step : size - off;
        if (osb__tls_pem_push(&L, data + off, n)) break;
        off += n;
    }
    return osb__tls_load_end(&L);
}

/* Runs the X.509 wrapper as the engine would: the input as a one-certificate
 * chain, appended in pieces of 'step' bytes. */
static unsigned fz_chain(int mode, const uint8_t *data, size_t size, size_t step) {
    static unsigned char ee[OSB_TLS_MAX_CERT];
    static const unsigned char ip[4] = {127, 0, 0, 1};
    osb__tls_ctx ctx;
    osb__x509 x;
    const br_x509_class **vt = &x.vtable;
    size_t off = 0;
    unsigned r, usages = 0;
    memset(&ctx, 0, sizeof ctx);
    memset(&x, 0, sizeof x);
    x.vtable = &osb__x509_vtable;
    x.ctx = &ctx;
    x.mode = mode;
    if (mode != OSB__X509_INSECURE) br_x509_minimal_init_full(&x.u.minimal, NULL, 0);
    if (mode == OSB__X509_IP) {
        memcpy(x.ip, ip, 4);
        x.ip_len = 4;
        x.ee = ee;
        x.ee_cap = sizeof ee;
    }
    x.vtable->start_chain(vt, mode == OSB__X509_NAME ? "localhost" : NULL);
    x.vtable->start_cert(vt, (uint32_t)size);
    while (off < size) {
        size_t n = step < size - off ? step : size - off;
        x.vtable->append(vt, data + off, n);
        off += n;
    }
    x.vtable->end_cert(vt);
    r = x.vtable->end_chain(vt);
    (void)x.vtable->get_pkey((const br_x509_class *const *)vt, &usages);
    return r;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static const uint8_t v4[4] = {127, 0, 0, 1};
    static const uint8_t v6[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
    osb_allocator a = {fz_alloc, fz_realloc, fz_free, NULL};
    osb__tls_ctx whole, split;
    unsigned char ip[16];
    char *text;
    long n1, n2;
    size_t i;
    int r;

    /* PEM: whole and split feeding agree; nothing leaks */
    memset(&whole, 0, sizeof whole);
    memset(&split, 0, sizeof split);
    whole.alloc = a;
    split.alloc = a;
    n1 = fz_load(data, size, size & 1, 0, &whole);
    n2 = fz_load(data, size, size & 1, 1 + (size % 7), &split);
    FZ_ASSERT(n1 == n2);
    FZ_ASSERT(whole.n == split.n);
    for (i = 0; i < whole.n; i++) {
        FZ_ASSERT(whole.tas[i].dn.len == split.tas[i].dn.len);
        FZ_ASSERT(memcmp(whole.tas[i].dn.data, split.tas[i].dn.data, whole.tas[i].dn.len) == 0);
    }
    osb__tls_free_anchors(&whole);
    osb__tls_free_anchors(&split);
    FZ_ASSERT(fz_live == 0);

    /* iPAddress SANs: a match needs the address bytes in the input */
    r = osb__tls_cert_has_ip(data, size, v4, 4);
    FZ_ASSERT(r >= -1 && r <= 1);
    if (r == 1) {
        int found = 0;
        for (i = 0; i + 4 <= size && !found; i++) found = memcmp(data + i, v4, 4) == 0;
        FZ_ASSERT(found);
    }
    r = osb__tls_cert_has_ip(data, size, v6, 16);
    FZ_ASSERT(r >= -1 && r <= 1);

    /* the X.509 wrapper: no anchors, so nothing may validate but the
     * insecure mode, which only decodes */
    FZ_ASSERT(fz_chain(OSB__X509_NAME, data, size, 1 + size % 61) != 0);
    FZ_ASSERT(fz_chain(OSB__X509_IP, data, size, 1 + size % 29) != 0);
    (void)fz_chain(OSB__X509_INSECURE, data, size, 1 + size % 13);

    /* IP literals */
    text = (char *)malloc(size + 1);
    memcpy(text, data, size);
    text[size] = 0;
    r = (int)osb__parse_ip(text, ip);
    FZ_ASSERT(r == 0 || r == 4 || r == 16);
    free(text);
    return 0;
}

#ifndef OSB_FUZZ_LIBFUZZER
__attribute__((weak)) int main(int argc, char **argv) {
    int i;
    for (i = 1; i < argc; i++) {
        FILE *f = fopen(argv[i], "rb");
        uint8_t *buf;
        long n;
        if (!f) continue;
        fseek(f, 0, SEEK_END);
        n = ftell(f);
        fseek(f, 0, SEEK_SET);
        buf = (uint8_t *)malloc(n > 0 ? (size_t)n : 1);
        if (n > 0 && fread(buf, 1, (size_t)n, f) != (size_t)n) n = 0;
        fclose(f);
        LLVMFuzzerTestOneInput(buf, n > 0 ? (size_t)n : 0);
        free(buf);
    }
    printf("%d inputs replayed\n", argc - 1);
    return 0;
}
#endif
