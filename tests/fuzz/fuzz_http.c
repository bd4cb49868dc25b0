/* fuzz_http.c -- the response head parser: the whole input and every prefix
 * agree (a prefix of a complete head is INCOMPLETE, a prefix at least as long
 * gives the same head; a prefix of a refused head is INCOMPLETE or refused the
 * same way), every slice lies inside the input, names are tokens and values
 * free of CR/LF/NUL, and a complete head ends in CRLF CRLF.
 *   clang-14 -g -O1 -fsanitize=fuzzer,address,undefined -I. tests/fuzz/fuzz_http.c
 */
#define OPENSANDBOX_IMPLEMENTATION
#include "../../opensandbox.h"
#include "replay.h"
#include <string.h>

#define NF 128

static int parse(const char *buf, size_t len, osb_http_head *h, osb_http_header *f, size_t nf) {
    memset(h, 0, sizeof *h);
    h->headers = f;
    h->num_headers = nf;
    return osb_http_parse_response(buf, len, h);
}

static int inside(const char *buf, size_t len, osb_str s) {
    return s.ptr >= buf && s.ptr + s.len <= buf + len;
}

static void check_head(const char *buf, size_t len, int r, const osb_http_head *h) {
    size_t i, k;
    FUZZ_ASSERT(r >= 16 && (size_t)r <= len);
    FUZZ_ASSERT(memcmp(buf + r - 4, "\r\n\r\n", 4) == 0);
    FUZZ_ASSERT(h->status >= 100 && h->status <= 599);
    FUZZ_ASSERT(h->minor_version == 0 || h->minor_version == 1);
    FUZZ_ASSERT(inside(buf, (size_t)r, h->reason));
    FUZZ_ASSERT(h->num_headers <= NF && h->num_headers <= OSB_HTTP_MAX_HEADERS);
    for (i = 0; i < h->num_headers; i++) {
        const osb_http_header *f = &h->headers[i];
        FUZZ_ASSERT(f->name.len > 0 && inside(buf, (size_t)r, f->name) && inside(buf, (size_t)r, f->value));
        for (k = 0; k < f->name.len; k++) {
            unsigned char c = (unsigned char)f->name.ptr[k];
            FUZZ_ASSERT(c > 0x20 && c < 0x7f && c != ':');
        }
        for (k = 0; k < f->value.len; k++) {
            unsigned char c = (unsigned char)f->value.ptr[k];
            FUZZ_ASSERT(c != '\r' && c != '\n' && c != 0);
        }
        if (f->value.len) {
            FUZZ_ASSERT(f->value.ptr[0] != ' ' && f->value.ptr[0] != '\t');
            FUZZ_ASSERT(f->value.ptr[f->value.len - 1] != ' ' && f->value.ptr[f->value.len - 1] != '\t');
        }
    }
}

static int same_head(const osb_http_head *a, const osb_http_head *b) {
    size_t i;
    if (a->status != b->status || a->minor_version != b->minor_version ||
        a->reason.ptr != b->reason.ptr || a->reason.len != b->reason.len ||
        a->num_headers != b->num_headers)
        return 0;
    for (i = 0; i < a->num_headers; i++)
        if (a->headers[i].name.ptr != b->headers[i].name.ptr || a->headers[i].name.len != b->headers[i].name.len ||
            a->headers[i].value.ptr != b->headers[i].value.ptr || a->headers[i].value.len != b->headers[i].value.len)
            return 0;
    return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static osb_http_header fw[NF], fp[NF];
    osb_http_head whole, pre;
    /* a private copy, so that reading past 'size' is seen by ASan */
    char *buf = (char *)malloc(size ? size : 1);
    size_t n, step;
    int r, rp;
    memcpy(buf, data, size);
    r = parse(buf, size, &whole, fw, NF);
    FUZZ_ASSERT(r > 0 || r == OSB_HTTP_INCOMPLETE || r == OSB_HTTP_MALFORMED || r == OSB_HTTP_TOO_LARGE);
    if (r > 0) {
        check_head(buf, size, r, &whole);
        /* the head alone parses the same */
        rp = parse(buf, (size_t)r, &pre, fp, NF);
        FUZZ_ASSERT(rp == r && same_head(&whole, &pre));
        /* with exactly as many slots as fields it still fits; one fewer does not */
        rp = parse(buf, size, &pre, fp, whole.num_headers);
        FUZZ_ASSERT(rp == r);
        if (whole.num_headers > 0) {
            rp = parse(buf, size, &pre, fp, whole.num_headers - 1);
            FUZZ_ASSERT(rp == OSB_HTTP_TOO_LARGE);
        }
    }
    /* every prefix for small inputs, a stride through larger ones */
    step = size <= 2048 ? 1 : size / 1024;
    for (n = 0; n < size; n += step) {
        rp = parse(buf, n, &pre, fp, NF);
        if (r > 0 && n >= (size_t)r) {
            FUZZ_ASSERT(rp == r && same_head(&whole, &pre));
        } else {
            FUZZ_ASSERT(rp == OSB_HTTP_INCOMPLETE || rp == r);
        }
    }
    free(buf);
    return 0;
}
