/* tools/osb/config.c -- configuration: ~/.opensandbox/config.toml and flag > env > file > default.
 * Part of osb: built as one translation unit by main.c. */

/* >>config-file ============================================================ */
/* ~/.opensandbox/config.toml, as the official CLI reads and writes it:
 *   [connection] api_key, domain, protocol, request_timeout, use_server_proxy
 *   [output]     color
 *   [defaults]   image, timeout ("10m" or "none")
 * Values are read as the library reads [connection] (osb__toml_get). */
static osb_buf g_toml;
static int g_toml_loaded;

static void config_path(char *out, size_t cap) {
    const char *home = getenv("HOME");
    if (G.config_path) osb__fmt(out, cap, "%s", G.config_path);
    else osb__fmt(out, cap, "%s/.opensandbox/config.toml", home && *home ? home : ".");
}

static void load_toml(void) {
    char path[1024];
    if (g_toml_loaded) return;
    g_toml_loaded = 1;
    config_path(path, sizeof path);
    osb__fmt(C.path, sizeof C.path, "%s", path);
    if (read_all(path, &g_toml) == 0) C.file_found = 1;
}

/* Checks that text is TOML (the subset a config file uses, strictly): tables
 * [a.b], key = value with strings, numbers, booleans, dates, arrays and
 * inline tables, comments; no table or key twice. The official CLI refuses a
 * file tomllib cannot read; so does osb (exit 3). Returns 0, or the line
 * number of the first error with *why set. */
static const char *toml_value_end(const char *p, const char *e, const char **why);
static const char *toml_escape_end(const char *p, const char *e, const char **why);

static const char *toml_ws(const char *p, const char *e) {
    while (p < e && (*p == ' ' || *p == '\t')) p++;
    return p;
}

/* A key: bare, quoted, dotted. Returns its end, NULL if none; the key's text
 * (dots and quotes kept) goes to out. */
static const char *toml_key(const char *p, const char *e, osb_buf *out) {
    int any = 0;
    for (;;) {
        p = toml_ws(p, e);
        if (p < e && (*p == '"' || *p == '\'')) {
            char q = *p;
            const char *s = p++;
            const char *why = NULL;
            while (p < e && *p != q && *p != '\n')
                if (!(p = q == '"' && *p == '\\' ? toml_escape_end(p, e, &why) : p + 1)) return NULL;
            if (p >= e || *p != q) return NULL;
            p++;
            bputn(out, s, (size_t)(p - s));
        } else {
            const char *s = p;
            while (p < e && (isalnum((unsigned char)*p) || *p == '_' || *p == '-')) p++;
            if (p == s) return NULL;
            bputn(out, s, (size_t)(p - s));
        }
        any = 1;
        p = toml_ws(p, e);
        if (p < e && *p == '.') {
            bput(out, ".");
            p++;
            continue;
        }
        return any ? p : NULL;
    }
}

/* The end of the escape whose backslash is at p (a basic string's), NULL
 * (and *why) when it is none of TOML's: by the library's reader, which also
 * holds \u and \U to Unicode scalar values, as tomllib does. */
static const char *toml_escape_end(const char *p, const char *e, const char **why) {
    size_t n = 0;
    if (osb__toml_escape(&p, e, NULL, 0, &n) == 0) return p;
    *why = "an invalid escape in a string (\\u and \\U: 4 or 8 hex digits of a Unicode scalar value)";
    return NULL;
}

/* The end of the string at p: one line, or multi-line (by the library's
 * reader: escapes, a backslash ending a line, one or two quotes before the
 * closing three). */
static const char *toml_string(const char *p, const char *e, const char **why) {
    char q = *p;
    if (osb__toml_is_multiline(p, e)) {
        const char *after;
        if (osb__toml_multiline(p, e, &after, NULL, 0) < 0) {
            *why = after ? "an invalid escape, or more than two quotes before the closing three, in a multi-line string"
                         : "unterminated multi-line string";
            return NULL;
        }
        return after;
    }
    p++;
    while (p < e && *p != q && *p != '\n') {
        if (q == '"' && *p == '\\') {
            if (!(p = toml_escape_end(p, e, why))) return NULL;
            continue;
        }
        p++;
    }
    if (p >= e || *p != q) { *why = "unterminated string"; return NULL; }
    return p + 1;
}

static int toml_scalar_ok(const char *s, size_t n) {
    char t[128];
    if (n == 0 || n >= sizeof t) return 0;
    memcpy(t, s, n);
    t[n] = 0;
    return toml_is_scalar(t);
}

static const char *toml_skip_ws_nl(const char *p, const char *e) {
    for (;;) {
        while (p < e && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')) p++;
        if (p < e && *p == '#') {
            while (p < e && *p != '\n') p++;
            continue;
        }
        return p;
    }
}

static const char *toml_value_end(const char *p, const char *e, const char **why) {
    p = toml_ws(p, e);
    if (p >= e || *p == '\n' || *p == '#') { *why = "a key without a value"; return NULL; }
    if (*p == '"' || *p == '\'') return toml_string(p, e, why);
    if (*p == '[') {
        p = toml_skip_ws_nl(p + 1, e);
        while (p < e && *p != ']') {
            if (!(p = toml_value_end(p, e, why))) return NULL;
            p = toml_skip_ws_nl(p, e);
            if (p < e && *p == ',') p = toml_skip_ws_nl(p + 1, e);
            else if (p < e && *p != ']') { *why = "expected ',' or ']' in an array"; return NULL; }
        }
        if (p >= e) { *why = "unterminated array"; return NULL; }
        return p + 1;
    }
    if (*p == '{') {
        osb_buf k;
        p = toml_ws(p + 1, e);
        memset(&k, 0, sizeof k);
        while (p < e && *p != '}') {
            k.len = 0;
            if (!(p = toml_key(p, e, &k)) || *p != '=') { osb_buf_free(&k); *why = "invalid inline table"; return NULL; }
            if (!(p = toml_value_end(p + 1, e, why))) { osb_buf_free(&k); return NULL; }
            p = toml_ws(p, e);
            if (p < e && *p == ',') p = toml_ws(p + 1, e);
            else if (p < e && *p != '}') { osb_buf_free(&k); *why = "expected ',' or '}' in an inline table"; return NULL; }
        }
        osb_buf_free(&k);
        if (p >= e) { *why = "unterminated inline table"; return NULL; }
        return p + 1;
    }
    {
        const char *s = p;
        while (p < e && *p != '\n' && *p != '\r' && *p != '#' && *p != ',' && *p != ']' && *p != '}') p++;
        while (p > s && (p[-1] == ' ' || p[-1] == '\t')) p--;
        if (!toml_scalar_ok(s, (size_t)(p - s))) { *why = "invalid value"; return NULL; }
        return p;
    }
}

/* The first byte TOML allows nowhere, not even in a string or a comment (a
 * control character other than tab, a CR not before an LF, a byte that is
 * not UTF-8), NULL when there is none. */
static const char *toml_bad_byte(const char *p, const char *e, const char **why) {
    uint32_t st = 0;
    for (; p < e; p++) {
        unsigned char c = (unsigned char)*p;
        if (c == '\r' && (p + 1 >= e || p[1] != '\n')) { *why = "a carriage return not before a line feed"; return p; }
        if ((c < 0x20 && c != '\t' && c != '\n' && c != '\r') || c == 0x7f) { *why = "a control character"; return p; }
        if (!osb__utf8_step(&st, c)) { *why = "not UTF-8"; return p; }
    }
    if (st & 0xF) { *why = "not UTF-8"; return e; }
    return NULL;
}

static int toml_check(const char *text, size_t len, const char **why) {
    const char *p = text, *e = text + len, *wrong = toml_bad_byte(text, e, why);
    osb_buf seen, key, table;
    int line = 1, bad = 0;
    if (wrong) {
        for (; p < wrong; p++) line += *p == '\n';
        return line;
    }
    memset(&seen, 0, sizeof seen);
    memset(&key, 0, sizeof key);
    memset(&table, 0, sizeof table);
    bput(&seen, "\n");
    while (p < e && !bad) {
        const char *q = toml_ws(p, e), *start = p;
        key.len = 0;
        if (q < e && *q == '[') {
            int arr = q + 1 < e && q[1] == '[';
            q = toml_key(q + 1 + arr, e, &key);
            if (!q || *q != ']' || (arr && (q + 1 >= e || q[1] != ']'))) { *why = "invalid table header"; bad = 1; break; }
            q += 1 + arr;
            table.len = 0;
            bputn(&table, key.data, key.len);
            if (!arr) {
                osb_buf probe;
                memset(&probe, 0, sizeof probe);
                bprintf(&probe, "\n[%.*s]\n", (int)key.len, bstr(&key));
                if (osb__strstr(bstr(&seen), bstr(&probe))) { *why = "a table defined twice"; bad = 1; }
                else bputn(&seen, probe.data + 1, probe.len - 1);
                osb_buf_free(&probe);
                if (bad) break;
            }
        } else if (q < e && *q != '\n' && *q != '\r' && *q != '#') {
            osb_buf probe;
            q = toml_key(q, e, &key);
            if (!q || q >= e || *q != '=') { *why = "expected key = value"; bad = 1; break; }
            memset(&probe, 0, sizeof probe);
            bprintf(&probe, "\n%.*s=%.*s\n", (int)table.len, bstr(&table), (int)key.len, bstr(&key));
            if (osb__strstr(bstr(&seen), bstr(&probe))) { *why = "a key defined twice"; bad = 1; }
            else bputn(&seen, probe.data + 1, probe.len - 1);
            osb_buf_free(&probe);
            if (bad) break;
            if (!(q = toml_value_end(q + 1, e, why))) { bad = 1; break; }
        }
        q = toml_ws(q, e);
        if (q < e && *q == '#') while (q < e && *q != '\n') q++;
        if (q < e && *q == '\r') q++;
        if (q < e && *q != '\n') { *why = "unexpected text after a value"; bad = 1; break; }
        for (; start < q; start++)
            if (*start == '\n') line++;
        p = q < e ? q + 1 : e;
        if (p <= e) line++;
    }
    osb_buf_free(&seen);
    osb_buf_free(&key);
    osb_buf_free(&table);
    return bad ? line : 0;
}

/* [section] key of the config file into out, by the reader the library's
 * osb_config_load uses for [connection] (the file has passed toml_check, so
 * no key is there twice). 1 when there; 0 (out "") when absent, or when
 * *code already holds an error. A value that cannot be read (an array or a
 * table, or too long) is an error as in [connection]: *code becomes EX_CONFIG. */
static int file_get(const char *section, const char *key, char *out, size_t cap, int *code) {
    long n = C.file_found && !*code ? osb__toml_get(bstr(&g_toml), g_toml.len, section, key, out, cap) : -1;
    if (n < -1)
        *code = errorf(EX_CONFIG, "config file %s: [%s].%s cannot be read (a string, number or boolean)",
                       C.path, section, key);
    if (n < 0) out[0] = 0;
    return n >= 0;
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
    if (use_file && CFG.file) {
        const char *why = NULL;
        int line;
        load_toml();
        if (C.file_found && (line = toml_check(bstr(&g_toml), g_toml.len, &why)) != 0)
            return errorf(EX_CONFIG, "%s is not valid TOML: line %d: %s", C.path, line, why);
    }
    e = osb_config_load(&CFG);
    if (e != OSB_OK) {
        if (e == OSB_ERR_IO) return errorf(EX_CONFIG, "cannot read %s", C.path);
        return errorf(EX_CONFIG, "%s", CFG.message[0] ? CFG.message : osb_strerror(e));
    }
    osb__fmt(C.api_key, sizeof C.api_key, "%s", CFG.client.api_key ? CFG.client.api_key : "");
    osb__fmt(C.domain, sizeof C.domain, "%s", CFG.client.domain ? CFG.client.domain : "localhost:8080");
    osb__fmt(C.protocol, sizeof C.protocol, "%s", CFG.client.protocol ? CFG.client.protocol : "http");
    C.timeout_s = CFG.request_timeout_ms > 0 ? CFG.request_timeout_ms / 1000.0 : 30;
    C.use_server_proxy = CFG.use_server_proxy == 1;
    C.color = 1;
    C.image[0] = C.sandbox_timeout[0] = 0;
    if (use_file) {
        int code = EX_OK;
        load_toml();
        if (file_get("output", "color", tmp, sizeof tmp, &code)) {
            int b = osb_config_bool(tmp);
            if (b >= 0) C.color = b;
        }
        file_get("defaults", "image", C.image, sizeof C.image, &code);
        file_get("defaults", "timeout", C.sandbox_timeout, sizeof C.sandbox_timeout, &code);
        return code;
    }
    return EX_OK;
}
