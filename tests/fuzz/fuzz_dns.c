/* fuzz_dns.c -- the built-in resolver's answer parser (OSB_DNS=1): any
 * message is refused (-1), not an answer to the question (-2) or read
 * (0) without reading past its end, looping on compression pointers or
 * keeping more addresses than the list holds. The question asked is taken
 * from the message itself (its id, its first name, type A or AAAA from the
 * low bit of the last byte), so inputs get past the matching.
 *   clang-14 -g -O1 -fsanitize=fuzzer,address,undefined -I. tests/fuzz/fuzz_dns.c
 */
#define OSB_DNS 1
#define OPENSANDBOX_IMPLEMENTATION
#include "../../opensandbox.h"
#include "replay.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    unsigned char *m = (unsigned char *)malloc(size ? size : 1);   /* exact size: ASan sees overreads */
    char name[256], again[256];
    osb__addrs out;
    size_t i, end;
    unsigned qtype = size && (data[size - 1] & 1) ? 28u : 1u;
    uint16_t id = size >= 2 ? (uint16_t)(data[0] << 8 | data[1]) : 0;
    int rcode = -1, tc = -1, r;
    if (size) memcpy(m, data, size);
    end = osb__dns_name(m, size, 12, name);
    if (!end) memcpy(name, "a.test", 7);
    FUZZ_ASSERT(strlen(name) <= 253);
    if (end) {   /* reading a name twice gives the same name */
        FUZZ_ASSERT(osb__dns_name(m, size, 12, again) == end && !strcmp(name, again));
    }
    out.n = 0;
    r = osb__dns_parse(m, size, id, name, qtype, 80, &out, &rcode, &tc);
    FUZZ_ASSERT(r == 0 || r == -1 || r == -2);
    FUZZ_ASSERT(out.n <= OSB__MAX_ADDRS);
    if (r == 0) {
        FUZZ_ASSERT(rcode >= 0 && rcode <= 15 && (tc == 0 || tc == 1));
        if (rcode || tc) FUZZ_ASSERT(out.n == 0);
    } else if (r == -2) {
        FUZZ_ASSERT(out.n == 0);
    }
    for (i = 0; i < out.n; i++) {
        FUZZ_ASSERT(out.a[i].port == 80);
        FUZZ_ASSERT(out.a[i].family == (qtype == 28 ? AF_INET6 : AF_INET));
    }
    /* names anywhere in the message */
    for (i = 0; i < size && i < 64; i++) {
        size_t e = osb__dns_name(m, size, i, again);
        FUZZ_ASSERT(e == 0 || (e > i && e <= size && strlen(again) <= 253));
    }
    free(m);
    return 0;
}
