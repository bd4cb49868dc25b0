/* fuzz_proxy.c -- proxy URLs and NO_PROXY lists. The input is
 * "proxy-url \n no-proxy-list \n host" (missing parts are empty), the
 * port its first byte. Properties: the parser always decides (http, not
 * supported, or unreadable with a reason); a usable proxy has a host, a
 * port and a name without credentials, and its Basic credentials are
 * base64; osb_proxy_for never shows credentials; the matcher answers 0 or
 * 1, ignores case, and "*" in a list matches every host it can read.
 *   clang-14 -g -O1 -fsanitize=fuzzer,address,undefined -I. tests/fuzz/fuzz_proxy.c
 */
#define OPENSANDBOX_IMPLEMENTATION
#include "../../opensandbox.h"
#include "replay.h"
#include <ctype.h>

static char *part(const uint8_t **p, const uint8_t *end) {
    const uint8_t *nl = (const uint8_t *)memchr(*p, '\n', (size_t)(end - *p));
    const uint8_t *stop = nl ? nl : end;
    size_t n = (size_t)(stop - *p), i;
    char *s = (char *)malloc(n + 1);
    for (i = 0; i < n; i++) s[i] = (*p)[i] ? (char)(*p)[i] : ' ';   /* C strings: no NUL inside */
    s[n] = 0;
    *p = nl ? nl + 1 : end;
    return s;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const uint8_t *p = data, *end = data + size;
    unsigned port = size ? data[0] : 0;
    char *url = part(&p, end), *list = part(&p, end), *host = part(&p, end);
    osb__proxy px;
    osb_client_config cfg;
    char out[320];
    size_t i;
    int m;
    osb__proxy_parse(url, &px);
    FUZZ_ASSERT(px.state == OSB__PX_HTTP || px.state == OSB__PX_UNSUPPORTED || px.state == OSB__PX_INVALID);
    FUZZ_ASSERT(px.state == OSB__PX_HTTP || px.why != NULL);
    if (px.state != OSB__PX_INVALID) {
        FUZZ_ASSERT(px.url.host[0] && px.url.port > 0 && px.name[0]);
        FUZZ_ASSERT(!strchr(px.name, '@'));
    }
    if (px.state == OSB__PX_HTTP && px.auth[0]) {
        FUZZ_ASSERT(!strncmp(px.auth, "Basic ", 6));
        for (i = 6; px.auth[i]; i++) FUZZ_ASSERT(isalnum((unsigned char)px.auth[i]) || strchr("+/=", px.auth[i]));
    }
    if (px.state != OSB__PX_HTTP) FUZZ_ASSERT(px.auth[0] == 0);
    memset(&cfg, 0, sizeof cfg);
    cfg.proxy = url;
    cfg.no_proxy = list;
    if (osb_proxy_for(&cfg, "http://target.test:8080", out, sizeof out) == OSB_OK && out[0]) {
        FUZZ_ASSERT(!strncmp(out, "http://", 7) && !strchr(out, '@'));
        FUZZ_ASSERT(!strcmp(out + 7, px.name));
    }
    m = osb_no_proxy_match(list, host, port);
    FUZZ_ASSERT(m == 0 || m == 1);
    {   /* any case */
        char *up = (char *)malloc(strlen(list) + 1);
        for (i = 0; list[i]; i++) up[i] = (char)toupper((unsigned char)list[i]);
        up[i] = 0;
        FUZZ_ASSERT(osb_no_proxy_match(up, host, port) == m);
        free(up);
    }
    {   /* "*" first matches every host that is not empty or too long once one
         * pair of brackets and one trailing dot are taken off ("[]", ".", "[.]") */
        size_t hl = strlen(host), core = hl;
        if (core >= 2 && host[0] == '[' && host[core - 1] == ']') core -= 2;
        if (core > 0 && host[hl - 1 - (core < hl)] == '.') core--;
        char *star = (char *)malloc(strlen(list) + 3);
        memcpy(star, "*,", 2);
        memcpy(star + 2, list, strlen(list) + 1);
        if (core > 0 && hl < 200) FUZZ_ASSERT(osb_no_proxy_match(star, host, port) == 1);
        free(star);
    }
    free(url);
    free(list);
    free(host);
    return 0;
}
