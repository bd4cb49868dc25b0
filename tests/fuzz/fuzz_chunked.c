/* fuzz_chunked.c -- the chunked body decoder: the input fed whole, one byte
 * at a time and cut at pseudo-random points (seeded by the input) gives the
 * same decoded bytes, the same outcome (error code, or bytes consumed and the
 * done flag) and never hands out data outside the piece it was given. The
 * decoded data is also checked against a small reference decoder.
 *   clang-14 -g -O1 -fsanitize=fuzzer,address,undefined -I. tests/fuzz/fuzz_chunked.c
 */
#define OPENSANDBOX_IMPLEMENTATION
#include "../../opensandbox.h"
#include "replay.h"
#include <string.h>

typedef struct outcome {
    ptrdiff_t code;     /* < 0: the error; else bytes consumed */
    int done;
    char *out;
    size_t outlen;
} outcome;

/* plan 0: whole; 1: byte by byte; else: pseudo-random cuts seeded by 'plan' */
static void run(const char *in, size_t len, unsigned plan, outcome *o) {
    osb_chunked d;
    size_t pos = 0;
    uint32_t rng = plan * 2654435761u + 1;
    memset(&d, 0, sizeof d);
    memset(o, 0, sizeof *o);
    o->out = (char *)malloc(len ? len : 1);
    while (pos < len && !d.done) {
        size_t piece = len - pos;
        char *copy;
        if (plan == 1) piece = 1;
        else if (plan > 1) {
            rng = rng * 1103515245u + 12345u;
            piece = 1 + (rng >> 8) % (piece < 64 ? piece : 64);
        }
        /* each piece in its own allocation: reading past it is caught */
        copy = (char *)malloc(piece);
        memcpy(copy, in + pos, piece);
        {
            size_t at = 0;
            while (at < piece && !d.done) {
                const char *data;
                size_t dl;
                ptrdiff_t r = osb_chunked_feed(&d, copy + at, piece - at, &data, &dl);
                if (r < 0) {
                    FUZZ_ASSERT(r == OSB_HTTP_MALFORMED || r == OSB_HTTP_TOO_LARGE);
                    o->code = r;
                    free(copy);
                    return;
                }
                FUZZ_ASSERT((size_t)r <= piece - at);
                if (dl) {
                    FUZZ_ASSERT(data >= copy + at && data + dl <= copy + at + (size_t)r);
                    FUZZ_ASSERT(o->outlen + dl <= len);
                    memcpy(o->out + o->outlen, data, dl);
                    o->outlen += dl;
                }
                at += (size_t)r;
                if (r == 0 && dl == 0) {
                    FUZZ_ASSERT(d.done);   /* no progress only once the body ended */
                    break;
                }
            }
            pos += at;
        }
        free(copy);
    }
    o->code = (ptrdiff_t)pos;
    o->done = d.done;
}

static int hexv(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* A deliberately plain decoder: returns 1 and the data when the input holds
 * a complete, well-formed body (chunk lines "HEX[;ext]\r\n", no trailers
 * considered beyond skipping "name: value\r\n" lines). 0 when it cannot say. */
static int reference(const char *in, size_t len, char *out, size_t *outlen, size_t *used) {
    size_t p = 0;
    *outlen = 0;
    for (;;) {
        uint64_t sz = 0;
        int digits = 0, v;
        while (p < len && (v = hexv(in[p])) >= 0) {
            if (++digits > 15) return 0;
            sz = sz * 16 + (uint64_t)v;
            p++;
        }
        if (digits == 0 || p >= len) return 0;
        if (in[p] != '\r') return 0;             /* extensions: leave to the fuzz plans */
        if (p + 1 >= len || in[p + 1] != '\n') return 0;
        p += 2;
        if (sz == 0) break;
        if (sz > len - p || len - p - sz < 2) return 0;
        memcpy(out + *outlen, in + p, (size_t)sz);
        *outlen += (size_t)sz;
        p += (size_t)sz;
        if (in[p] != '\r' || in[p + 1] != '\n') return 0;
        p += 2;
    }
    if (p + 1 < len && in[p] == '\r' && in[p + 1] == '\n') {
        *used = p + 2;
        return 1;
    }
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const char *in = (const char *)data;
    outcome w, o;
    unsigned plan;
    run(in, size, 0, &w);
    FUZZ_ASSERT(w.code < 0 || (size_t)w.code <= size);
    if (w.code >= 0 && !w.done) FUZZ_ASSERT((size_t)w.code == size);  /* all consumed, wants more */
    for (plan = 1; plan < 5; plan++) {
        run(in, size, plan, &o);
        FUZZ_ASSERT(o.code == w.code && o.done == w.done);
        {   /* before an error the bytes handed out can only differ in how
               far the decoder got; after success they are identical */
            size_t m = o.outlen < w.outlen ? o.outlen : w.outlen;
            FUZZ_ASSERT(m == 0 || memcmp(o.out, w.out, m) == 0);
        }
        if (w.code >= 0) FUZZ_ASSERT(o.outlen == w.outlen);
        free(o.out);
    }
    {
        char *ref = (char *)malloc(size ? size : 1);
        size_t rl = 0, used = 0;
        if (reference(in, size, ref, &rl, &used)) {
            FUZZ_ASSERT(w.done && (size_t)w.code == used);
            FUZZ_ASSERT(w.outlen == rl && (rl == 0 || memcmp(w.out, ref, rl) == 0));
        }
        free(ref);
    }
    free(w.out);
    return 0;
}
