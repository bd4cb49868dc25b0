/* toml_diff_driver.c -- the C side of tests/toml_diff.py.
 *
 * Reads records "<length>\n<bytes>" from stdin: config file texts. For each
 * it looks up [connection] api_key, [connection] domain and [defaults] image
 * with the reader osb_config_load and osb use, and writes one line:
 *   <n> <hex of the value> (three times, space-separated; the hex is "-"
 *   when n < 0: -1 absent, -2 cannot be read) */
#define OPENSANDBOX_IMPLEMENTATION
#include "../opensandbox.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(void) {
    static const char *const keys[3][2] = {{"connection", "api_key"}, {"connection", "domain"}, {"defaults", "image"}};
    static char out[4096];
    size_t len;
    while (scanf("%zu", &len) == 1 && getchar() == '\n') {
        char *text = (char *)malloc(len ? len : 1);
        int k;
        if (!text || fread(text, 1, len, stdin) != len) return 1;
        for (k = 0; k < 3; k++) {
            long n = osb__toml_get(text, len, keys[k][0], keys[k][1], out, sizeof out), i;
            printf("%s%ld ", k ? " " : "", n);
            if (n < 0) putchar('-');
            for (i = 0; i < n; i++) printf("%02x", (unsigned char)out[i]);
        }
        putchar('\n');
        free(text);
    }
    return 0;
}
