/* fuzz_request.c -- the request head builder (osb__request_head, the one
 * place that checks a request and writes its head) with fuzzed method,
 * URL, path, query, content type, accept, caller header lines and
 * configured header lines. A request is refused (OSB_ERR_INVALID_ARG), or
 * its head is well formed: one request line, token names, values without
 * controls, CRLF CRLF at the end; exactly one Host; the framing fields only
 * as the client writes them (one Content-Length or Transfer-Encoding, never
 * Connection, Upgrade, Expect, TE, ...); no field the client writes twice;
 * the API key, the configured lines and the client IP only on a lifecycle
 * API call (path form, not a proxy route).
 *
 * The client's execd access token only on execd calls (a configured line
 * of that name is a configured line: lifecycle calls only).
 *
 * Input: a flags byte, then fields separated by 0xFF: method, url, path,
 * query, content type, accept, then header lines (first byte even: a
 * caller line, odd: a configured line; the rest is the line).
 *   clang-14 -g -O1 -fsanitize=fuzzer,address,undefined -I. tests/fuzz/fuzz_request.c
 */
#define OPENSANDBOX_IMPLEMENTATION
#include "../../opensandbox.h"
#include "replay.h"
#include <string.h>

#define KEY "fuzz-key-3c9d"
#define TOK "fuzz-tok-77e1"

static char *take(const uint8_t **p, const uint8_t *end) {
    const uint8_t *s = *p, *e = s;
    char *out;
    while (e < end && *e != 0xFF) e++;
    out = (char *)malloc((size_t)(e - s) + 1);
    memcpy(out, s, (size_t)(e - s));
    out[e - s] = 0;
    *p = e < end ? e + 1 : e;
    return out;
}

/* Field lines of head[0..n) named name (any case). */
static int count_field(const char *head, size_t n, const char *name) {
    const char *p = (const char *)memchr(head, '\n', n), *end = head + n;
    size_t k = strlen(name);
    int c = 0;
    while (p && ++p < end) {
        if ((size_t)(end - p) > k && p[k] == ':' && osb__ieq(p, k, name)) c++;
        p = (const char *)memchr(p, '\n', (size_t)(end - p));
    }
    return c;
}

/* How many times text occurs in s. */
static int occurrences(const char *s, const char *text) {
    int c = 0;
    size_t k = strlen(text);
    while ((s = strstr(s, text)) != NULL) {
        c++;
        s += k;
    }
    return c;
}

static int line_has_name(const char *line, const char *name) {
    size_t n = osb__check_header_line(line);
    return n && osb__ieq(line, n, name);
}

/* bare: the head of the same request from a client without configured
 * lines (NULL on a lifecycle call) */
static void check_head(const char *h, size_t n, const char *bare, const osb_http_request *req, int lifecycle,
                       char **own, int nown, char **cfg, int ncfg) {
    static const char *const never[] = {"Connection", "Upgrade", "Expect", "TE", "Trailer", "Keep-Alive",
                                        "Proxy-Connection"};
    static const char *const once[] = {"User-Agent", "X-Request-ID"};
    static const char *const at_most_once[] = {"Content-Type", "Accept", "OPEN-SANDBOX-API-KEY",
                                               "OPEN-SANDBOX-CLIENT-IP"};
    const char *p = h, *end = h + n, *eol;
    size_t i;
    int k, framing, caller_key = 0, caller_ip = 0, caller_tok = 0;
    FUZZ_ASSERT(n >= 4 && memcmp(h + n - 4, "\r\n\r\n", 4) == 0);
    /* request line: METHOD SP target SP HTTP/1.1 */
    eol = strstr(p, "\r\n");
    FUZZ_ASSERT(eol != NULL);
    {
        const char *sp1 = (const char *)memchr(p, ' ', (size_t)(eol - p)), *sp2;
        FUZZ_ASSERT(sp1 && sp1 > p);
        sp2 = (const char *)memchr(sp1 + 1, ' ', (size_t)(eol - sp1 - 1));
        FUZZ_ASSERT(sp2 && sp2 > sp1 + 1 && sp2 + 9 == eol && memcmp(sp2, " HTTP/1.1", 9) == 0);
        for (i = 0; p + i < sp1; i++) FUZZ_ASSERT(osb__is_tchar((unsigned char)p[i]));
        FUZZ_ASSERT(sp1[1] == '/');
        for (i = 1; sp1 + i < sp2; i++) {
            unsigned char c = (unsigned char)sp1[i];
            FUZZ_ASSERT(c > 0x20 && c < 0x7f && c != '#');
        }
    }
    /* the fields */
    for (p = eol + 2; p < end - 2; p = eol + 2) {
        size_t nl;
        eol = strstr(p, "\r\n");
        FUZZ_ASSERT(eol != NULL && eol <= end - 2);
        for (nl = 0; osb__is_tchar((unsigned char)p[nl]); nl++) {}
        FUZZ_ASSERT(nl > 0 && p[nl] == ':');
        for (i = nl + 1; p + i < eol; i++) {
            unsigned char c = (unsigned char)p[i];
            FUZZ_ASSERT((c >= 0x20 || c == '\t') && c != 0x7f);
        }
    }
    FUZZ_ASSERT(count_field(h, n, "Host") == 1);
    for (i = 0; i < sizeof never / sizeof never[0]; i++) FUZZ_ASSERT(count_field(h, n, never[i]) == 0);
    /* a field the client writes itself: its own once, or else the lines
       given for it (the caller's win over the configured ones) */
    for (i = 0; i < sizeof once / sizeof once[0]; i++) {
        int mine = 0, conf = 0, want;
        for (k = 0; k < nown; k++) mine += line_has_name(own[k], once[i]);
        for (k = 0; k < ncfg && lifecycle; k++) conf += line_has_name(cfg[k], once[i]);
        want = mine ? mine : conf ? conf : 1;
        FUZZ_ASSERT(count_field(h, n, once[i]) == want);
    }
    for (i = 0; i < sizeof at_most_once / sizeof at_most_once[0]; i++) {
        int given = 0;
        for (k = 0; k < nown; k++) given += line_has_name(own[k], at_most_once[i]);
        for (k = 0; k < ncfg; k++) given += line_has_name(cfg[k], at_most_once[i]);
        if (!given) FUZZ_ASSERT(count_field(h, n, at_most_once[i]) <= 1);
    }
    framing = count_field(h, n, "Content-Length") + count_field(h, n, "Transfer-Encoding");
    FUZZ_ASSERT(framing <= 1);
    if (req->body || req->body_reader) FUZZ_ASSERT(framing == 1);
    for (k = 0; k < nown; k++) {
        caller_key |= line_has_name(own[k], "OPEN-SANDBOX-API-KEY");
        caller_ip |= line_has_name(own[k], "OPEN-SANDBOX-CLIENT-IP");
        caller_tok |= line_has_name(own[k], "X-EXECD-ACCESS-TOKEN");
    }
    /* the client's execd token only on execd calls, once; on a lifecycle
       call a configured line of that name goes out as every configured
       line does (the caller's configuration, not the client's token) */
    if (!req->execd && !caller_tok) {
        int conf_tok = 0;
        for (k = 0; k < ncfg && lifecycle; k++) conf_tok += line_has_name(cfg[k], "X-EXECD-ACCESS-TOKEN");
        FUZZ_ASSERT(count_field(h, n, "X-EXECD-ACCESS-TOKEN") == conf_tok);
    }
    if (req->execd && !caller_tok) {
        FUZZ_ASSERT(count_field(h, n, "X-EXECD-ACCESS-TOKEN") == 1);
        FUZZ_ASSERT(strstr(h, "\r\nX-EXECD-ACCESS-TOKEN: " TOK "\r\n") != NULL);
    }
    /* the credentials follow what the request is */
    if (!lifecycle) {
        if (!caller_ip) FUZZ_ASSERT(count_field(h, n, "OPEN-SANDBOX-CLIENT-IP") == 0);
        if (!caller_key) FUZZ_ASSERT(count_field(h, n, "OPEN-SANDBOX-API-KEY") == 0);
        for (k = 0; k < ncfg; k++) {
            /* a configured line adds nothing: the same text appears no more
               often than in the head built without configured lines (where
               the caller's lines or the client's own fields, an empty
               Content-Type say, may spell it) */
            char want[600];
            snprintf(want, sizeof want, "\r\n%s\r\n", cfg[k]);
            FUZZ_ASSERT(strlen(cfg[k]) > 500 || occurrences(h, want) == occurrences(bare, want));
        }
    } else if (!caller_key) {
        char want[64];
        snprintf(want, sizeof want, "\r\nOPEN-SANDBOX-API-KEY: %s\r\n", KEY);
        FUZZ_ASSERT(strstr(h, want) != NULL);
    }
}

static ptrdiff_t no_read(void *user, void *buf, size_t cap) {
    (void)user; (void)buf; (void)cap;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const uint8_t *p = data, *end = data + size;
    unsigned flags = size ? data[0] : 0;
    char *method, *url, *path, *query, *ctype, *accept;
    char *own[9], *cfgl[9];
    const char *ownp[9], *cfgp[9];
    int nown = 0, ncfg = 0, k, cfg_bad = 0;
    osb_client_config cc;
    osb_client *c = NULL;
    osb_err e;
    if (size) p++;
    method = take(&p, end);
    url = take(&p, end);
    path = take(&p, end);
    query = take(&p, end);
    ctype = take(&p, end);
    accept = take(&p, end);
    while (p < end && nown < 8 && ncfg < 8) {
        int is_cfg = (*p & 1) != 0;
        char *line;
        p++;
        line = take(&p, end);
        if (is_cfg) cfgl[ncfg++] = line;
        else own[nown++] = line;
    }
    for (k = 0; k < nown; k++) ownp[k] = own[k];
    ownp[nown] = NULL;
    for (k = 0; k < ncfg; k++) {
        size_t nl = osb__check_header_line(cfgl[k]);
        cfgp[k] = cfgl[k];
        if (!nl || osb__is_framing_header(cfgl[k], nl)) cfg_bad = 1;
    }
    cfgp[ncfg] = NULL;
    memset(&cc, 0, sizeof cc);
    cc.domain = "127.0.0.1:8080";
    cc.api_key = KEY;
    cc.execd_access_token = TOK;
    cc.client_ip = flags & 0x40 ? "192.0.2.1" : NULL;
    cc.headers = ncfg ? cfgp : NULL;
    cc.proxy = "";   /* direct: the head in origin form, whatever the environment says */
    e = osb_client_new(&cc, &c);
    FUZZ_ASSERT(cfg_bad ? e == OSB_ERR_INVALID_ARG : e == OSB_OK);
    if (c) {
        osb_http_request req;
        osb_url target;
        const osb_url *u = NULL;
        const osb__proxy *px = NULL;
        int route = 0;
        memset(&req, 0, sizeof req);
        req.method = (flags & 0x80) ? method : NULL;
        req.url = (flags & 1) ? url : NULL;
        req.path = (flags & 1) && !*path ? NULL : path;
        req.query = *query ? query : NULL;
        req.content_type = (flags & 2) ? ctype : NULL;
        req.accept = (flags & 4) ? accept : NULL;
        req.headers = nown ? ownp : NULL;
        req.execd = (flags & 0x20) != 0;
        switch ((flags >> 3) & 3) {
        case 1: req.body = "abc"; req.body_len = 3; break;
        case 2: req.body_reader = no_read; req.body_reader_len = 0; break;
        case 3: req.body_reader = no_read; req.body_reader_len = -1; break;
        default: break;
        }
        e = osb__request_head(c, &req, &target, &u, 0, &px, &route, &c->err);
        FUZZ_ASSERT(e == OSB_OK || e == OSB_ERR_INVALID_ARG);
        if (e == OSB_OK) {
            int lifecycle = osb__request_kind(&req) == OSB__TO_LIFECYCLE;
            char *h = (char *)malloc(c->scratch.len + 1), *bare = NULL;
            memcpy(h, c->scratch.data, c->scratch.len);
            h[c->scratch.len] = 0;
            if (!lifecycle) {
                /* the same request from a client without configured lines */
                osb_client *b = NULL;
                cc.headers = NULL;
                FUZZ_ASSERT(osb_client_new(&cc, &b) == OSB_OK);
                FUZZ_ASSERT(osb__request_head(b, &req, &target, &u, 0, &px, &route, &b->err) == OSB_OK);
                bare = (char *)malloc(b->scratch.len + 1);
                memcpy(bare, b->scratch.data, b->scratch.len);
                bare[b->scratch.len] = 0;
                osb_client_free(b);
            }
            check_head(h, c->scratch.len, bare, &req, lifecycle, own, nown, cfgl, ncfg);
            free(h);
            free(bare);
        } else {
            /* a refusal never quotes the API key (unless the input itself spelled
               it where an error may quote it: the URL's host, a header name) */
            int spelled = strstr(url, KEY) != NULL;
            for (k = 0; k < nown; k++) spelled |= strstr(own[k], KEY) != NULL;   /* e.g. as a name */
            if (!spelled) FUZZ_ASSERT(strstr(c->err.message, KEY) == NULL);
        }
        osb_client_free(c);
    }
    for (k = 0; k < nown; k++) free(own[k]);
    for (k = 0; k < ncfg; k++) free(cfgl[k]);
    free(method); free(url); free(path); free(query); free(ctype); free(accept);
    return 0;
}
