/* parts/sandbox.h -- merged into opensandbox.h: declarations at >>sandbox, implementation at >>impl-sandbox */
#ifndef OSB__SANDBOX_DECLARED
#define OSB__SANDBOX_DECLARED
#ifdef __cplusplus
extern "C" {
#endif

/* >>config ----------------------------------------------------------------
 * Connection settings resolved as the official CLI resolves them: a value set
 * in the struct wins, then the environment, then the [connection] table of
 * ~/.opensandbox/config.toml (as `opensandbox config init/set` writes it),
 * then the default.
 *
 *   setting           environment                     config.toml        default
 *   domain            OPEN_SANDBOX_DOMAIN             domain             localhost:8080
 *   api_key           OPEN_SANDBOX_API_KEY            api_key            (none)
 *   protocol          OPEN_SANDBOX_PROTOCOL           protocol           http
 *   request timeout   OPEN_SANDBOX_REQUEST_TIMEOUT    request_timeout    library timeouts
 *   server proxy      OPEN_SANDBOX_USE_SERVER_PROXY   use_server_proxy   off
 *
 * Booleans take 1/true/yes/on and 0/false/no/off (any case); the timeout is
 * in seconds (a decimal fraction is fine). A domain may carry a scheme and a
 * path prefix; a trailing "/v1" is not doubled.
 *
 *     osb_config cfg;
 *     osb_client *c;
 *     memset(&cfg, 0, sizeof cfg);          // or set what must win, e.g. cfg.client.domain
 *     if (osb_config_load(&cfg) != OSB_OK) { fprintf(stderr, "%s\n", cfg.message); ... }
 *     osb_client_new(&cfg.client, &c);      // cfg must outlive this call only
 */
typedef struct osb_config {
    /* In: explicit settings (NULL / 0 = not set). Out: the resolved values;
     * strings read from the environment or the file point into 'store'. */
    osb_client_config client;   /* domain, protocol, api_key (+ any other client field) */
    int request_timeout_ms;     /* in: 0 = not set; out: 0 = library defaults, else
                                   copied to client.timeouts.total_ms when that is 0 */
    int use_server_proxy;       /* in: 1 on, -1 off, 0 not set; out: 1 or 0 */
    const char *file;           /* config file; NULL = $HOME/.opensandbox/config.toml, "" = none */
    int skip_env;               /* 1 = ignore the environment */
    /* Out: where each value came from: "explicit", "env", "file" or "default". */
    const char *domain_source, *api_key_source, *protocol_source, *timeout_source, *proxy_source;
    char message[192];          /* why osb_config_load failed (never holds the API key) */
    char store[1536];
} osb_config;

/* Resolves every unset setting. OSB_ERR_INVALID_ARG for an unusable value
 * (bad protocol, boolean or timeout; 'message' names the setting and its
 * source), OSB_ERR_IO when an explicitly named file cannot be read,
 * OSB_ERR_TOO_LARGE when a value does not fit 'store'. A missing default file
 * is not an error. Call it once per struct (the resolved strings live in it). */
OSB_API osb_err osb_config_load(osb_config *cfg);

/* Parses a boolean as the CLI does: 1 / 0, or -1 when unrecognised. */
OSB_API int osb_config_bool(const char *text);

#ifdef __cplusplus
}
#endif
#endif /* OSB__SANDBOX_DECLARED */

#if defined(OPENSANDBOX_IMPLEMENTATION) && defined(OSB__IMPLEMENTED) && !defined(OSB__SANDBOX_IMPLEMENTED)
#define OSB__SANDBOX_IMPLEMENTED
#ifdef __cplusplus
extern "C" {
#endif

/* >>impl-config ------------------------------------------------------------ */

OSB_API int osb_config_bool(const char *s) {
    static const char *const yes[] = {"1", "true", "yes", "on"};
    static const char *const no[] = {"0", "false", "no", "off"};
    size_t i, n;
    if (!s) return -1;
    while (*s == ' ' || *s == '\t') s++;
    n = strlen(s);
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t')) n--;
    for (i = 0; i < 4; i++) {
        if (osb__ieq(s, n, yes[i])) return 1;
        if (osb__ieq(s, n, no[i])) return 0;
    }
    return -1;
}

/* Appends s to the config's store; NULL when it does not fit. */
static const char *osb__cfg_keep(osb_config *cfg, size_t *used, const char *s, size_t n) {
    char *p;
    if (*used + n + 1 > sizeof cfg->store) return NULL;
    p = cfg->store + *used;
    memcpy(p, s, n);
    p[n] = 0;
    *used += n + 1;
    return p;
}

static int osb__toml_space(int c) { return c == ' ' || c == '\t'; }

/* Decodes the TOML value at v (up to end) into out. Handles basic strings
 * with escapes, literal strings and bare values (booleans, numbers). Returns
 * the length, or -1 when malformed or longer than cap-1. */
static long osb__toml_value(const char *v, const char *end, char *out, size_t cap) {
    size_t n = 0;
#define OSB__TOML_PUT(ch) do { if (n + 1 >= cap) return -1; out[n++] = (char)(ch); } while (0)
    if (v < end && *v == '"') {
        for (v++; v < end && *v != '"'; v++) {
            if (*v != '\\') { OSB__TOML_PUT(*v); continue; }
            if (++v >= end) return -1;
            switch (*v) {
            case 'b': OSB__TOML_PUT('\b'); break;
            case 't': OSB__TOML_PUT('\t'); break;
            case 'n': OSB__TOML_PUT('\n'); break;
            case 'f': OSB__TOML_PUT('\f'); break;
            case 'r': OSB__TOML_PUT('\r'); break;
            case '"': OSB__TOML_PUT('"'); break;
            case '\\': OSB__TOML_PUT('\\'); break;
            case 'u': case 'U': {
                int digits = *v == 'u' ? 4 : 8, i;
                unsigned long cp = 0;
                for (i = 0; i < digits; i++) {
                    int c;
                    if (++v >= end) return -1;
                    c = *v;
                    if (c >= '0' && c <= '9') c -= '0';
                    else if (c >= 'a' && c <= 'f') c -= 'a' - 10;
                    else if (c >= 'A' && c <= 'F') c -= 'A' - 10;
                    else return -1;
                    cp = cp * 16 + (unsigned long)c;
                }
                if (cp < 0x80) OSB__TOML_PUT(cp);
                else if (cp < 0x800) { OSB__TOML_PUT(0xC0 | (cp >> 6)); OSB__TOML_PUT(0x80 | (cp & 0x3F)); }
                else if (cp < 0x10000) {
                    OSB__TOML_PUT(0xE0 | (cp >> 12)); OSB__TOML_PUT(0x80 | ((cp >> 6) & 0x3F));
                    OSB__TOML_PUT(0x80 | (cp & 0x3F));
                } else if (cp < 0x110000) {
                    OSB__TOML_PUT(0xF0 | (cp >> 18)); OSB__TOML_PUT(0x80 | ((cp >> 12) & 0x3F));
                    OSB__TOML_PUT(0x80 | ((cp >> 6) & 0x3F)); OSB__TOML_PUT(0x80 | (cp & 0x3F));
                } else return -1;
                break;
            }
            default: return -1;
            }
        }
        if (v >= end) return -1;      /* unterminated (multi-line strings are not read) */
    } else if (v < end && *v == '\'') {
        for (v++; v < end && *v != '\''; v++) OSB__TOML_PUT(*v);
        if (v >= end) return -1;
    } else {
        const char *e = v;
        while (e < end && *e != '#') e++;
        while (e > v && osb__toml_space((unsigned char)e[-1])) e--;
        if (e == v) return -1;
        for (; v < e; v++) {
            if (*v == '"' || *v == '\'' || *v == '[' || *v == '{') return -1;
            if (*v != '_') OSB__TOML_PUT(*v);   /* 1_000 = 1000 */
        }
    }
#undef OSB__TOML_PUT
    out[n] = 0;
    return (long)n;
}

/* Finds key in [section] of a TOML text. Returns the value's length, -1 when
 * the key is absent, -2 when its value cannot be read. Only the subset the
 * CLI writes is understood: [tables], bare or quoted keys, one-line values;
 * other lines are skipped. */
static long osb__toml_get(const char *text, size_t len, const char *section, const char *key,
                          char *out, size_t cap) {
    const char *p = text, *end = text + len;
    int in_section = 0;
    long found = -1;
    while (p < end) {
        const char *line = p, *eol = (const char *)memchr(p, '\n', (size_t)(end - p));
        const char *q, *le;
        if (!eol) eol = end;
        p = eol < end ? eol + 1 : end;
        le = eol;
        if (le > line && le[-1] == '\r') le--;
        q = line;
        while (q < le && osb__toml_space((unsigned char)*q)) q++;
        if (q == le || *q == '#') continue;
        if (*q == '[') {
            const char *s = q + 1, *e;
            if (s < le && *s == '[') { in_section = 0; continue; }   /* array of tables */
            while (s < le && osb__toml_space((unsigned char)*s)) s++;
            e = (const char *)memchr(s, ']', (size_t)(le - s));
            if (!e) { in_section = 0; continue; }
            while (e > s && osb__toml_space((unsigned char)e[-1])) e--;
            if (e - s >= 2 && (*s == '"' || *s == '\'') && e[-1] == *s) { s++; e--; }
            in_section = (size_t)(e - s) == strlen(section) && memcmp(s, section, (size_t)(e - s)) == 0;
            continue;
        }
        if (!in_section) continue;
        {
            const char *ks = q, *ke;
            if (*q == '"' || *q == '\'') {
                ke = (const char *)memchr(q + 1, *q, (size_t)(le - q - 1));
                if (!ke) continue;
                ks = q + 1;
                q = ke + 1;
            } else {
                while (q < le && *q != '=' && !osb__toml_space((unsigned char)*q)) q++;
                ke = q;
            }
            while (q < le && osb__toml_space((unsigned char)*q)) q++;
            if (q >= le || *q != '=') continue;
            q++;
            while (q < le && osb__toml_space((unsigned char)*q)) q++;
            if ((size_t)(ke - ks) != strlen(key) || memcmp(ks, key, (size_t)(ke - ks)) != 0) continue;
            found = osb__toml_value(q, le, out, cap);
            if (found < 0) found = -2;
            /* TOML forbids a key twice; should a file have it, the last one wins */
        }
    }
    return found;
}

/* Reads a whole small file into a buffer of the caller's (at most cap-1 bytes). */
static long osb__cfg_read_file(const char *path, char *buf, size_t cap) {
    FILE *f = fopen(path, "rb");
    size_t got;
    if (!f) return -1;
    got = fread(buf, 1, cap - 1, f);
    if (ferror(f)) { fclose(f); return -1; }
    fclose(f);
    buf[got] = 0;
    return (long)got;
}

/* Seconds ("30", "2.5") to milliseconds; -1 when not a positive number. */
static int osb__cfg_seconds(const char *s) {
    char *end;
    double d;
    while (*s == ' ' || *s == '\t') s++;
    if (!*s) return -1;
    d = strtod(s, &end);
    while (*end == ' ' || *end == '\t') end++;
    if (*end || !(d > 0) || d > 2000000.0) return -1;
    return (int)(d * 1000.0 + 0.999);
}

OSB_API osb_err osb_config_load(osb_config *cfg) {
    enum { DOMAIN, API_KEY, PROTOCOL, TIMEOUT, PROXY, NSET };
    static const char *const env_names[NSET] = {
        "OPEN_SANDBOX_DOMAIN", "OPEN_SANDBOX_API_KEY", "OPEN_SANDBOX_PROTOCOL",
        "OPEN_SANDBOX_REQUEST_TIMEOUT", "OPEN_SANDBOX_USE_SERVER_PROXY"};
    static const char *const file_keys[NSET] = {"domain", "api_key", "protocol", "request_timeout",
                                                "use_server_proxy"};
    const char *val[NSET];
    const char *src[NSET];
    char *filetext = NULL;
    long filelen = -1;
    size_t used = 0;
    int i;
    osb_err e = OSB_OK;
    char path[1024];
    char tmp[512];

    if (!cfg) return OSB_ERR_INVALID_ARG;
    cfg->message[0] = 0;
    val[DOMAIN] = cfg->client.domain;
    val[API_KEY] = cfg->client.api_key;
    val[PROTOCOL] = cfg->client.protocol;
    val[TIMEOUT] = NULL;
    val[PROXY] = NULL;
    for (i = 0; i < NSET; i++) src[i] = val[i] ? "explicit" : NULL;
    if (val[DOMAIN] && !*val[DOMAIN]) val[DOMAIN] = NULL, src[DOMAIN] = NULL;
    if (cfg->request_timeout_ms > 0) src[TIMEOUT] = "explicit";
    if (cfg->use_server_proxy != 0) src[PROXY] = "explicit";

    /* the environment */
    if (!cfg->skip_env) {
        for (i = 0; i < NSET; i++) {
            const char *v;
            if (src[i]) continue;
            v = getenv(env_names[i]);
            if (!v || !*v) continue;
            val[i] = v;
            src[i] = "env";
        }
    }

    /* the config file, read only when something is still unset */
    for (i = 0; i < NSET; i++) if (!src[i]) break;
    if (i < NSET && !(cfg->file && !*cfg->file)) {
        int named = cfg->file != NULL;
        if (named) {
            snprintf(path, sizeof path, "%s", cfg->file);
        } else {
            const char *home = getenv("HOME");
#ifdef _WIN32
            if (!home || !*home) home = getenv("USERPROFILE");
#endif
            path[0] = 0;
            if (home && *home) snprintf(path, sizeof path, "%s/.opensandbox/config.toml", home);
        }
        if (path[0]) {
            filetext = (char *)malloc(65536);
            if (!filetext) return OSB_ERR_NOMEM;
            filelen = osb__cfg_read_file(path, filetext, 65536);
            if (filelen < 0 && named) {
                snprintf(cfg->message, sizeof cfg->message, "cannot read the config file %.150s", path);
                free(filetext);
                return OSB_ERR_IO;
            }
        }
    }
    if (filelen >= 0) {
        for (i = 0; i < NSET; i++) {
            long n;
            if (src[i]) continue;
            n = osb__toml_get(filetext, (size_t)filelen, "connection", file_keys[i], tmp, sizeof tmp);
            if (n == -1) continue;
            if (n < 0) {
                snprintf(cfg->message, sizeof cfg->message,
                         "config file %.100s: [connection].%s is not a one-line value", path, file_keys[i]);
                e = OSB_ERR_INVALID_ARG;
                break;
            }
            if (i == API_KEY && n == 0) continue;   /* config init writes api_key = "" */
            if (!(val[i] = osb__cfg_keep(cfg, &used, tmp, (size_t)n))) { e = OSB_ERR_TOO_LARGE; break; }
            src[i] = "file";
        }
    }
    free(filetext);
    if (e) {
        if (e == OSB_ERR_TOO_LARGE) snprintf(cfg->message, sizeof cfg->message, "a configuration value is too long");
        return e;
    }

    /* env values are copied too, so the result does not depend on the environment later */
    for (i = 0; i < NSET; i++) {
        if (src[i] && strcmp(src[i], "env") == 0) {
            if (!(val[i] = osb__cfg_keep(cfg, &used, val[i], strlen(val[i])))) {
                snprintf(cfg->message, sizeof cfg->message, "%s is too long", env_names[i]);
                return OSB_ERR_TOO_LARGE;
            }
        }
    }

    /* defaults and checks */
    if (!src[DOMAIN]) { val[DOMAIN] = "localhost:8080"; src[DOMAIN] = "default"; }
    if (!src[API_KEY]) src[API_KEY] = "default";
    if (!src[PROTOCOL]) { val[PROTOCOL] = "http"; src[PROTOCOL] = "default"; }
    if (osb__ieq(val[PROTOCOL], strlen(val[PROTOCOL]), "http")) val[PROTOCOL] = "http";
    else if (osb__ieq(val[PROTOCOL], strlen(val[PROTOCOL]), "https")) val[PROTOCOL] = "https";
    else {
        snprintf(cfg->message, sizeof cfg->message, "protocol (%s) must be http or https", src[PROTOCOL]);
        return OSB_ERR_INVALID_ARG;
    }
    if (src[TIMEOUT] && strcmp(src[TIMEOUT], "explicit") != 0) {
        int ms = osb__cfg_seconds(val[TIMEOUT]);
        if (ms < 0) {
            snprintf(cfg->message, sizeof cfg->message, "request timeout (%s) must be a positive number of seconds",
                     src[TIMEOUT]);
            return OSB_ERR_INVALID_ARG;
        }
        cfg->request_timeout_ms = ms;
    } else if (!src[TIMEOUT]) {
        src[TIMEOUT] = "default";
    }
    if (src[PROXY] && strcmp(src[PROXY], "explicit") != 0) {
        int b = osb_config_bool(val[PROXY]);
        if (b < 0) {
            snprintf(cfg->message, sizeof cfg->message, "use_server_proxy (%s) must be true or false", src[PROXY]);
            return OSB_ERR_INVALID_ARG;
        }
        cfg->use_server_proxy = b;
    } else if (!src[PROXY]) {
        src[PROXY] = "default";
        cfg->use_server_proxy = 0;
    } else {
        cfg->use_server_proxy = cfg->use_server_proxy > 0;
    }
    cfg->client.domain = val[DOMAIN];
    cfg->client.api_key = val[API_KEY];
    cfg->client.protocol = val[PROTOCOL];
    if (cfg->request_timeout_ms > 0 && cfg->client.timeouts.total_ms == 0)
        cfg->client.timeouts.total_ms = cfg->request_timeout_ms;
    cfg->domain_source = src[DOMAIN];
    cfg->api_key_source = src[API_KEY];
    cfg->protocol_source = src[PROTOCOL];
    cfg->timeout_source = src[TIMEOUT];
    cfg->proxy_source = src[PROXY];
    return OSB_OK;
}

#ifdef __cplusplus
}
#endif
#endif /* OSB__SANDBOX_IMPLEMENTED */
