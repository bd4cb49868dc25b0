/* tools/osb/configcmd.c -- osb config ....
 * Part of osb: built as one translation unit by main.c. */

/* >>config-commands ======================================================== */
/* What `osb config init` writes: every setting present and commented out,
 * as the official CLI's file, so that nothing is decided before the user
 * sets it (osb config set SECTION.FIELD VALUE uncomments and sets one). */
PACKED_TEXT(TEXT_CONFIG_TEMPLATE,
    "# osb / OpenSandbox CLI settings. Order: flags, then OPEN_SANDBOX_* variables,\n"
    "# then this file, then built-in defaults. Edit with: osb config set SECTION.FIELD VALUE\n"
    "\n"
    "[connection]\n"
    "# api_key = \"your-api-key\"\n"
    "# domain = \"localhost:8080\"\n"
    "# protocol = \"http\"\n"
    "# request_timeout = 30\n"
    "# use_server_proxy = false\n"
    "\n"
    "[output]\n"
    "# color = true\n"
    "\n"
    "[defaults]\n"
    "# image = \"python:3.11\"\n"
    "# timeout = \"10m\"   # or \"none\": no time limit\n")

static int write_file_atomic(const char *path, const char *data, size_t len) {
    char tmp[1100];
    int fd;
    osb__fmt(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid());
    if (mkdirs_for(path) != 0) return -1;
    fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fd < 0) return -1;
    while (len) {
        ssize_t n = write(fd, data, len);
        if (n < 0) {
            if (errno == EINTR) continue;
            close(fd);
            unlink(tmp);
            return -1;
        }
        data += n;
        len -= (size_t)n;
    }
    if (close(fd) != 0 || rename(tmp, path) != 0) {
        unlink(tmp);
        return -1;
    }
    return 0;
}

static int c_config_init(args *a) {
    struct stat st;
    const char *text;
    jv *o;
    if (stat(C.path, &st) == 0 && !AF(a, "force")) {
        /* as the official CLI: a warning, the file left alone, success */
        o = status_msg("warning", "Config file already exists at %s. Use --force to overwrite.", C.path);
        if (strcmp(g_out, "table") == 0) {
            out_fmt(1, "WARN: %s\n", jstr(o, "message"));
            jv_free(o);
            return EX_OK;
        }
        return show_msg(o, "%s", "");
    }
    text = packed_text(TEXT_CONFIG_TEMPLATE);
    if (write_file_atomic(C.path, text, strlen(text)) != 0)
        return errorf(EX_LOCALIO, "cannot write %s: %s", C.path, sys_text(errno));
    o = status_msg("ok", "Config file created: %s", C.path);
    return show_msg(o, "Config file created: %s", C.path);
}

/* TOML value for a string: bool > int > float > string, as the official CLI. */
static void toml_value(osb_buf *b, const char *v) {
    const char *p = m_sign(v), *q;
    long long i;
    if (strcmp(v, "true") == 0 || strcmp(v, "false") == 0) { bput(b, v); return; }
    if (streq_ci(v, "true")) { bput(b, "true"); return; }
    if (streq_ci(v, "false")) { bput(b, "false"); return; }
    if (parse_int(v, INT64_MIN, INT64_MAX, &i) == 0) { bprintf(b, "%lld", i); return; }
    /* a decimal float as strtod reads one: [+-](D+[.D*] | .D+)[(e|E)[+-]D+] */
    q = m_span(p, M_DIG);
    if (*q == '.') q = m_span(q + 1, M_DIG);
    if (q - p > (*p == '.' ? 1 : 0) && (*q == 'e' || *q == 'E') && m_in(*m_sign(q + 1), M_DIG)) q = m_span(m_sign(q + 1), M_DIG);
    if (q - p > (*p == '.' ? 1 : 0) && !*q) { bput(b, v); return; }
    bput(b, "\"");
    for (; *v; v++) {
        if (*v == '"' || *v == '\\') bprintf(b, "\\%c", *v);
        else if (*v == '\n') bput(b, "\\n");
        else if (*v == '\t') bput(b, "\\t");
        else bputn(b, v, 1);
    }
    bput(b, "\"");
}

static int name_ok(const char *s, size_t n) {
    size_t i;
    if (!n) return 0;
    for (i = 0; i < n; i++)
        if (!isalnum((unsigned char)s[i]) && s[i] != '_' && s[i] != '-') return 0;
    return 1;
}

static int c_config_set(args *a) {
    const char *key = a->pos[0], *val = a->pos[1], *dot = strchr(key, '.');
    osb_buf text, out, line;
    char section[128], field[128];
    const char *p, *end;
    int in_sec = 0, done = 0, sec_seen = 0;
    size_t insert_at = (size_t)-1;
    jv *o;
    if (!dot || !name_ok(key, (size_t)(dot - key)) || !name_ok(dot + 1, strlen(dot + 1)) ||
        (size_t)(dot - key) >= sizeof section || strlen(dot + 1) >= sizeof field)
        return usage_error("invalid key '%s' (expected SECTION.FIELD, e.g. connection.domain)", key);
    memcpy(section, key, (size_t)(dot - key));
    section[dot - key] = 0;
    osb__fmt(field, sizeof field, "%s", dot + 1);
    memset(&text, 0, sizeof text);
    memset(&out, 0, sizeof out);
    memset(&line, 0, sizeof line);
    if (read_all(C.path, &text) != 0) {
        if (errno != ENOENT) return errorf(EX_LOCALIO, "cannot read %s: %s", C.path, sys_text(errno));
        bput(&text, "");
    }
    bprintf(&line, "%s = ", field);
    toml_value(&line, val);
    bput(&line, "\n");
    p = bstr(&text);
    end = p + text.len;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *le = nl ? nl : end;
        const char *q = toml_ws(p, le), *cq;
        size_t fl = strlen(field);
        if (q < le && *q == '[') {
            if (in_sec && !done) {
                /* insert before the next section, after the last non-blank line */
                size_t at = insert_at == (size_t)-1 ? out.len : insert_at;
                osb_buf tail;
                memset(&tail, 0, sizeof tail);
                bputn(&tail, out.data + at, out.len - at);
                out.len = at;
                bputn(&out, line.data, line.len);
                bputn(&out, tail.data ? tail.data : "", tail.len);
                osb_buf_free(&tail);
                done = 1;
            }
            {
                const char *r = memchr(q, ']', (size_t)(le - q));
                const char *n0 = toml_ws(q + 1, le), *n1 = r ? r : le;
                while (n1 > n0 && (n1[-1] == ' ' || n1[-1] == '\t')) n1--;
                in_sec = r && (size_t)(n1 - n0) == strlen(section) && memcmp(n0, section, strlen(section)) == 0;
                if (in_sec) sec_seen = 1;
            }
            bputn(&out, p, (size_t)(le - p) + (nl ? 1 : 0));
            insert_at = out.len;
        } else if (in_sec && !done && (cq = *q == '#' ? toml_ws(q + 1, le) : q) != NULL && (size_t)(le - cq) >= fl &&
                   memcmp(cq, field, fl) == 0 && *toml_ws(cq + fl, le) == '=') {
            /* the field's line, also when commented out (as the official CLI) */
            bputn(&out, line.data, line.len);
            done = 1;
        } else {
            bputn(&out, p, (size_t)(le - p));
            if (nl) bput(&out, "\n");
            if (in_sec && q < le) insert_at = out.len;
        }
        p = nl ? nl + 1 : end;
    }
    if (!done) {
        if (sec_seen && in_sec) {
            size_t at = insert_at == (size_t)-1 ? out.len : insert_at;
            osb_buf tail;
            memset(&tail, 0, sizeof tail);
            if (out.len && out.data[out.len - 1] != '\n' && at == out.len) bput(&out, "\n"), at = out.len;
            bputn(&tail, out.data + at, out.len - at);
            out.len = at;
            bputn(&out, line.data, line.len);
            bputn(&out, tail.data ? tail.data : "", tail.len);
            osb_buf_free(&tail);
        } else {
            if (out.len && out.data[out.len - 1] != '\n') bput(&out, "\n");
            if (out.len) bput(&out, "\n");
            bprintf(&out, "[%s]\n", section);
            bputn(&out, line.data, line.len);
        }
    }
    if (write_file_atomic(C.path, bstr(&out), out.len) != 0) {
        osb_buf_free(&text);
        osb_buf_free(&out);
        osb_buf_free(&line);
        return errorf(EX_LOCALIO, "cannot write %s: %s", C.path, sys_text(errno));
    }
    osb_buf_free(&text);
    osb_buf_free(&out);
    osb_buf_free(&line);
    o = status_msg("ok", "Set %s = %s", key, val);
    return show_msg(o, "Set %s = %s", key, val);
}

/* The official mask: the first and last two characters, '*' between; a
 * key of four characters or fewer is all '*'. */
static jv *masked(const char *k) {
    size_t n, i;
    char *m;
    jv *v;
    if (!k || !*k) return jv_new(J_NULL);
    n = strlen(k);
    m = xstrdup(k);
    for (i = 0; i < n; i++)
        if (n <= 4 || (i >= 2 && i < n - 2)) m[i] = '*';
    v = jstrv(m);
    free(m);
    return v;
}

/* json/yaml: the official flat document (API key masked); the table adds
 * where each connection setting came from. */
static int c_config_show(args *a) {
    jv *o, *n;
    char tmp[64];
    const char *dom;
    (void)a;
    if (resolve_config(1) != EX_OK) return EX_CONFIG;
    o = jobj();
    dom = CFG.domain_source && strcmp(CFG.domain_source, "default") != 0 ? C.domain : NULL;
    jset_raw(o, "api_key", masked(C.api_key));
    jset_str(o, "domain", dom);
    jset_str(o, "protocol", C.protocol);
    if (C.timeout_s == (double)(long long)C.timeout_s) osb__fmt(tmp, sizeof tmp, "%lld", (long long)C.timeout_s);
    else osb__double_g(tmp, C.timeout_s, 17);
    n = jv_new(J_NUM);
    n->s = xstrdup(tmp);
    n->n = strlen(tmp);
    n->fl = strchr(tmp, '.') != NULL;
    jset_raw(o, "request_timeout", n);
    jset_bool(o, "use_server_proxy", C.use_server_proxy);
    jset_bool(o, "color", C.color);
    jset_str(o, "default_image", C.image[0] ? C.image : NULL);
    jset_str(o, "default_timeout", C.sandbox_timeout[0] ? C.sandbox_timeout : NULL);
    jset_str(o, "config_path", C.path);
    jset_bool(o, "config_file_exists", C.file_found);
    if (strcmp(g_out, "table") == 0) {
        /* the proxy the lifecycle server is reached through (never its
           credentials); json and yaml keep the official CLI's document */
        char px[320], line[360];
        osb_err pe = osb_proxy_for(&CFG.client, C.domain, px, sizeof px);
        if (pe == OSB_OK) osb__fmt(line, sizeof line, "%s", px[0] ? px : "none");
        else if (pe == OSB_ERR_UNSUPPORTED) osb__fmt(line, sizeof line, "%s (not supported)", px);
        else osb__fmt(line, sizeof line, "(the proxy URL cannot be read)");
        jset_str(o, "proxy", line);
    }
    if (strcmp(g_out, "table") == 0) {
        jv *s = jobj();
        jset_str(s, "api_key", CFG.api_key_source);
        jset_str(s, "domain", CFG.domain_source);
        jset_str(s, "protocol", CFG.protocol_source);
        jset_str(s, "request_timeout", CFG.timeout_source);
        jset_str(s, "use_server_proxy", CFG.proxy_source);
        jset_raw(o, "sources", s);
    }
    show(o, NULL);
    jv_free(o);
    return EX_OK;
}
