/* fuzz_config.c -- the config file's TOML reader (osb_config_load, osb's
 * [output] and [defaults]): any text, looked up for two keys with room for
 * 512, 8 and 1 bytes. Never reads outside the text (held in a buffer of
 * exactly its size, no NUL after it); a value is NUL-terminated and fits;
 * whether a key is there never depends on the room; a value that fits in
 * less room reads the same in more, and one read in less room was not cut.
 *   clang-14 -g -O1 -fsanitize=fuzzer,address,undefined -I. tests/fuzz/fuzz_config.c
 */
#define OPENSANDBOX_IMPLEMENTATION
#include "../../opensandbox.h"
#include "replay.h"

static void lookup_at_three_sizes(const char *text, size_t size, const char *section, const char *key) {
    char big[512], small[8], one[1];
    long nb, ns, n1;
    memset(big, 'Z', sizeof big);
    memset(small, 'Z', sizeof small);
    one[0] = 'Z';
    nb = osb__toml_get(text, size, section, key, big, sizeof big);
    ns = osb__toml_get(text, size, section, key, small, sizeof small);
    n1 = osb__toml_get(text, size, section, key, one, sizeof one);
    FUZZ_ASSERT(nb >= -2 && nb < (long)sizeof big && ns >= -2 && ns < (long)sizeof small && n1 >= -2 && n1 < 1);
    FUZZ_ASSERT(nb < 0 || big[nb] == 0);
    FUZZ_ASSERT(ns < 0 || small[ns] == 0);
    FUZZ_ASSERT(n1 < 0 || one[0] == 0);
    FUZZ_ASSERT((nb == -1) == (ns == -1) && (ns == -1) == (n1 == -1));
    if (nb >= 0 && nb < (long)sizeof small) FUZZ_ASSERT(ns == nb && memcmp(small, big, (size_t)nb + 1) == 0);
    if (ns >= 0) FUZZ_ASSERT(nb == ns && memcmp(small, big, (size_t)ns + 1) == 0);
    if (n1 >= 0) FUZZ_ASSERT(nb == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char *text = (char *)malloc(size ? size : 1);
    if (!text) return 0;
    if (size) memcpy(text, data, size);
    lookup_at_three_sizes(text, size, "connection", "api_key");
    lookup_at_three_sizes(text, size, "connection", "domain");
    lookup_at_three_sizes(text, size, "defaults", "image");
    free(text);
    return 0;
}
