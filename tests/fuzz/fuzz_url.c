/* fuzz_url.c -- percent-encoding: encode then decode gives the input back,
 * the encoding holds only unreserved characters and %XX, and decoding any
 * input in place never writes past it.
 *   clang-14 -g -O1 -fsanitize=fuzzer,address,undefined -I. tests/fuzz/fuzz_url.c
 */
#define OPENSANDBOX_IMPLEMENTATION
#include "../../opensandbox.h"
#include "replay.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const char *s = (const char *)data;
    osb_buf enc, q;
    char *dec = (char *)malloc(size + 1);
    size_t n = 0, i;
    osb_err e;
    osb_buf_init(&enc, NULL);
    FUZZ_ASSERT(osb_url_encode(&enc, s, size) == OSB_OK);
    for (i = 0; i < enc.len; i++) {
        char c = enc.data[i];
        int ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                 c == '-' || c == '.' || c == '_' || c == '~' || c == '%';
        FUZZ_ASSERT(ok);
        if (c == '%') {
            FUZZ_ASSERT(i + 2 < enc.len);
            FUZZ_ASSERT(strchr("0123456789ABCDEF", enc.data[i + 1]) && strchr("0123456789ABCDEF", enc.data[i + 2]));
        }
    }
    {
        char *back = (char *)malloc(enc.len + 1);
        FUZZ_ASSERT(osb_url_decode(enc.data, enc.len, back, enc.len + 1, &n, 0) == OSB_OK);
        FUZZ_ASSERT(n == size && (size == 0 || memcmp(back, s, size) == 0));
        FUZZ_ASSERT(osb_url_decode(enc.data, enc.len, back, enc.len + 1, &n, 1) == OSB_OK);
        FUZZ_ASSERT(n == size && (size == 0 || memcmp(back, s, size) == 0)); /* no '+' survives encoding */
        free(back);
    }
    /* decode arbitrary input into an exactly sized buffer, then in place */
    memcpy(dec, s, size);
    e = osb_url_decode(s, size, dec, size, &n, (int)(size & 1));
    FUZZ_ASSERT(e == OSB_OK || e == OSB_ERR_INVALID_ARG);
    if (e == OSB_OK) {
        osb_buf re;
        char *back;
        FUZZ_ASSERT(n <= size);
        osb_buf_init(&re, NULL);
        FUZZ_ASSERT(osb_url_encode(&re, dec, n) == OSB_OK);
        back = (char *)malloc(re.len + 1);
        FUZZ_ASSERT(osb_url_decode(re.data, re.len, back, re.len + 1, &i, 0) == OSB_OK);
        FUZZ_ASSERT(i == n && (n == 0 || memcmp(back, dec, n) == 0));
        free(back);
        osb_buf_free(&re);
        memcpy(dec, s, size);
        FUZZ_ASSERT(osb_url_decode(dec, size, dec, size, &i, (int)(size & 1)) == OSB_OK && i == n);
    }
    osb_buf_init(&q, NULL);
    if (size && memchr(s, 0, size) == NULL) {
        char *z = (char *)malloc(size + 1);
        memcpy(z, s, size);
        z[size] = 0;
        FUZZ_ASSERT(osb_url_query(&q, z, z) == OSB_OK);
        FUZZ_ASSERT(q.data[0] == '?');
        free(z);
    }
    osb_buf_free(&q);
    osb_buf_free(&enc);
    free(dec);
    return 0;
}
