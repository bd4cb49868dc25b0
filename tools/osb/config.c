/* tools/osb/config.c -- configuration: ~/.opensandbox/config.toml and flag > env > file > default.
 * Part of osb: built as one translation unit by main.c. */

/* >>config-file ============================================================ */
/* ~/.opensandbox/config.toml, as the official CLI reads and writes it:
 *   [connection] api_key, domain, protocol, request_timeout, use_server_proxy
 *   [output]     color
 *   [defaults]   image, timeout ("10m" or "none")
 * Only what the CLI uses of TOML: sections, key = value, strings, numbers,
 * booleans, comments. */
static osb_buf g_toml;
static int g_toml_loaded;

static void config_path(char *out, size_t cap) {
    const char *home = getenv("HOME");
    if (G.config_path) snprintf(out, cap, "%s", G.config_path);
    else snprintf(out, cap, "%s/.opensandbox/config.toml", home && *home ? home : ".");
}

static const char *skip_ws(const char *p, const char *e) {
    while (p < e && (*p == ' ' || *p == '\t')) p++;
    return p;
}

/* Finds [section] key in TOML text; returns the unquoted value in out. */
static int toml_get(const char *text, size_t len, const char *section, const char *key, char *out, size_t cap) {
    const char *p = text, *end = text + len;
    int in_sec = 0;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *le = nl ? nl : end;
        const char *q = skip_ws(p, le);
        if (q < le && *q == '[') {
            const char *r = memchr(q, ']', (size_t)(le - q));
            size_t sl = strlen(section);
            const char *n0 = skip_ws(q + 1, le);
            const char *n1 = r ? r : le;
            while (n1 > n0 && (n1[-1] == ' ' || n1[-1] == '\t')) n1--;
            in_sec = r && (size_t)(n1 - n0) == sl && memcmp(n0, section, sl) == 0;
        } else if (in_sec && q < le && *q != '#') {
            size_t kl = strlen(key);
            const char *k1 = q;
            if ((*k1 == '"' || *k1 == '\'') && (size_t)(le - k1) > kl + 1 && memcmp(k1 + 1, key, kl) == 0 &&
                k1[kl + 1] == *k1)
                k1 += kl + 2;
            else if ((size_t)(le - q) >= kl && memcmp(q, key, kl) == 0)
                k1 = q + kl;
            else
                k1 = NULL;
            if (k1) {
                k1 = skip_ws(k1, le);
                if (k1 < le && *k1 == '=') {
                    const char *v = skip_ws(k1 + 1, le), *ve;
                    size_t o = 0;
                    if (v < le && (*v == '"' || *v == '\'')) {
                        char qc = *v++;
                        while (v < le && *v != qc && o + 1 < cap) {
                            if (qc == '"' && *v == '\\' && v + 1 < le) {
                                v++;
                                switch (*v) {
                                case 'n': out[o++] = '\n'; break;
                                case 't': out[o++] = '\t'; break;
                                default: out[o++] = *v;
                                }
                                v++;
                                continue;
                            }
                            out[o++] = *v++;
                        }
                    } else {
                        ve = v;
                        while (ve < le && *ve != '#') ve++;
                        while (ve > v && (ve[-1] == ' ' || ve[-1] == '\t' || ve[-1] == '\r')) ve--;
                        while (v < ve && o + 1 < cap) out[o++] = *v++;
                    }
                    out[o] = 0;
                    return 1;
                }
            }
        }
        p = nl ? nl + 1 : end;
    }
    return 0;
}

static void load_toml(void) {
    char path[1024];
    if (g_toml_loaded) return;
    g_toml_loaded = 1;
    config_path(path, sizeof path);
    snprintf(C.path, sizeof C.path, "%s", path);
    if (read_all(path, &g_toml) == 0) C.file_found = 1;
}

static int file_get(const char *section, const char *key, char *out, size_t cap) {
    if (!C.file_found) return 0;
    return toml_get(g_toml.data ? g_toml.data : "", g_toml.len, section, key, out, cap);
}

/* Connection settings: flag > environment > config file > default, resolved
 * by the sandbox layer's osb_config_load (the same rules and file as the
 * official CLI). use_file = 0 for `osb config ...`, which uses only flags
 * and the environment. [output] and [defaults] are read here. */
static osb_config CFG;

static int resolve_config(int use_file) {
    char tmp[512];
    osb_err e;
    double secs;
    config_path(C.path, sizeof C.path);
    if (G.protocol && strcmp(G.protocol, "http") != 0 && strcmp(G.protocol, "https") != 0)
        return usage_error("invalid protocol '%s' (http or https)", G.protocol);
    memset(&CFG, 0, sizeof CFG);
    CFG.client.domain = G.domain;
    CFG.client.api_key = G.api_key;
    CFG.client.protocol = G.protocol;
    if (G.request_timeout) {
        if (parse_duration(G.request_timeout, &secs) != 0 || secs <= 0 || secs > 2000000)
            return usage_error("invalid request timeout '%s'", G.request_timeout);
        CFG.request_timeout_ms = (int)(secs * 1000 + 0.5);
        if (CFG.request_timeout_ms <= 0) CFG.request_timeout_ms = 1;
    }
    CFG.use_server_proxy = G.use_server_proxy < 0 ? 0 : (G.use_server_proxy ? 1 : -1);
    CFG.file = use_file ? C.path : "";
    if (use_file && !G.config_path) {
        struct stat st;
        if (stat(C.path, &st) != 0) CFG.file = NULL;   /* a missing default file is fine */
    }
    e = osb_config_load(&CFG);
    if (e != OSB_OK) {
        if (e == OSB_ERR_IO) return errorf(EX_CONFIG, "cannot read %s", C.path);
        return errorf(EX_CONFIG, "%s", CFG.message[0] ? CFG.message : osb_strerror(e));
    }
    snprintf(C.api_key, sizeof C.api_key, "%s", CFG.client.api_key ? CFG.client.api_key : "");
    snprintf(C.domain, sizeof C.domain, "%s", CFG.client.domain ? CFG.client.domain : "localhost:8080");
    snprintf(C.protocol, sizeof C.protocol, "%s", CFG.client.protocol ? CFG.client.protocol : "http");
    C.timeout_s = CFG.request_timeout_ms > 0 ? CFG.request_timeout_ms / 1000.0 : 30;
    C.use_server_proxy = CFG.use_server_proxy == 1;
    C.color = 1;
    C.image[0] = C.sandbox_timeout[0] = 0;
    if (use_file) {
        load_toml();
        if (file_get("output", "color", tmp, sizeof tmp)) {
            int b = osb_config_bool(tmp);
            if (b >= 0) C.color = b;
        }
        file_get("defaults", "image", C.image, sizeof C.image);
        file_get("defaults", "timeout", C.sandbox_timeout, sizeof C.sandbox_timeout);
    }
    return EX_OK;
}
