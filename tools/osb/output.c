/* tools/osb/output.c -- output: the JSON value tree and the table, json, yaml and raw emitters.
 * Part of osb: built as one translation unit by main.c. */

/* >>json-value ============================================================= */
/* A small tree built with the library's JSON tokenizer, for output. */
enum { J_NULL = 1, J_TRUE, J_FALSE, J_NUM, J_STR, J_OBJ, J_ARR };

typedef struct jv {
    int t;
    char *s;          /* string/number text (NUL-terminated) */
    size_t n;
    char *k;          /* member name inside an object */
    int fl;           /* J_NUM: a float of the official models (printed 2.0, not 2) */
    struct jv *kid, *last, *next;
    size_t nkids;
} jv;

static jv *jv_new(int t) {
    jv *v = (jv *)xmalloc(sizeof *v);
    memset(v, 0, sizeof *v);
    v->t = t;
    return v;
}

static void jv_free(jv *v) {
    while (v) {
        jv *next = v->next;
        jv_free(v->kid);
        free(v->s);
        free(v->k);
        free(v);
        v = next;
    }
}

static void jv_add(jv *parent, jv *kid) {
    if (parent->last) parent->last->next = kid;
    else parent->kid = kid;
    parent->last = kid;
    parent->nkids++;
}

/* Parses one JSON document; NULL when it is not JSON. */
static jv *jparse(const char *s, size_t n) {
    osb_json j;
    osb_json_token t;
    char scratch[4096];
    jv *stack[OSB_JSON_MAX_DEPTH + 2];
    int depth = 0;
    jv *root = NULL;
    osb_buf key, text;
    int have_key = 0;
    int r;
    memset(&key, 0, sizeof key);
    memset(&text, 0, sizeof text);
    if (osb_json_init(&j, scratch, sizeof scratch) != OSB_OK) return NULL;
    osb_json_feed(&j, s, n, 1);
    for (;;) {
        jv *v = NULL;
        r = osb_json_next(&j, &t);
        if (r == OSB_JSON_DONE) break;
        if (r <= 0) goto fail;
        if (r == OSB_JSON_KEY) {
            bputn(&key, t.ptr, t.len);
            if (!t.more) have_key = 1;
            continue;
        }
        if (r == OSB_JSON_STRING || r == OSB_JSON_NUMBER) {
            bputn(&text, t.ptr, t.len);
            if (t.more) continue;
            v = jv_new(r == OSB_JSON_STRING ? J_STR : J_NUM);
            v->s = xstrndup(text.data ? text.data : "", text.len);
            v->n = text.len;
            text.len = 0;
        } else if (r == OSB_JSON_OBJECT || r == OSB_JSON_ARRAY) {
            v = jv_new(r == OSB_JSON_OBJECT ? J_OBJ : J_ARR);
        } else if (r == OSB_JSON_OBJECT_END || r == OSB_JSON_ARRAY_END) {
            if (depth > 0) depth--;
            continue;
        } else if (r == OSB_JSON_TRUE) {
            v = jv_new(J_TRUE);
        } else if (r == OSB_JSON_FALSE) {
            v = jv_new(J_FALSE);
        } else if (r == OSB_JSON_NULL) {
            v = jv_new(J_NULL);
        } else {
            continue;
        }
        if (depth > 0) {
            if (have_key) {
                v->k = xstrndup(key.data ? key.data : "", key.len);
                key.len = 0;
                have_key = 0;
            }
            jv_add(stack[depth - 1], v);
        } else {
            root = v;
        }
        if (v->t == J_OBJ || v->t == J_ARR) {
            if (depth >= OSB_JSON_MAX_DEPTH + 1) goto fail;
            stack[depth++] = v;
        }
    }
    osb_buf_free(&key);
    osb_buf_free(&text);
    return root;
fail:
    osb_buf_free(&key);
    osb_buf_free(&text);
    jv_free(root);
    return NULL;
}

static jv *jmember(const jv *o, const char *k, size_t klen) {
    jv *c;
    if (!o || o->t != J_OBJ) return NULL;
    for (c = o->kid; c; c = c->next)
        if (strlen(c->k) == klen && memcmp(c->k, k, klen) == 0) return c;
    return NULL;
}

/* "status.state" style lookup. */
static jv *jget(const jv *o, const char *path) {
    const jv *cur = o;
    while (cur && *path) {
        const char *dot = strchr(path, '.');
        size_t len = dot ? (size_t)(dot - path) : strlen(path);
        cur = jmember(cur, path, len);
        path += len + (dot ? 1 : 0);
    }
    return (jv *)cur;
}

static const char *jstr(const jv *o, const char *path) {
    jv *v = jget(o, path);
    return v && (v->t == J_STR || v->t == J_NUM) ? v->s : NULL;
}

/* >>emit =================================================================== */
/* The emitters write into an osb_buf; show() prints it. */
static void bputc(osb_buf *b, char c) { bputn(b, &c, 1); }

static void indent(osb_buf *f, int n) {
    while (n-- > 0) bputc(f, ' ');
}

enum { JSON_WIRE, JSON_PY };   /* emit_json's two styles (>>official-json) */
static void emit_json(osb_buf *f, const jv *v, int ind, int style);

/* Compact JSON into a buffer (for table cells). */
static void emit_json_buf(osb_buf *b, const jv *v) { emit_json(b, v, -1, JSON_WIRE); }

static int jv_is_container(const jv *v) { return (v->t == J_OBJ || v->t == J_ARR) && v->kid; }

/* >>official-json ========================================================== */
/* -o json as the official CLI prints it: Python's json.dumps with indent 2
 * (", " inside one-line documents, ": " after names), floats as Python
 * writes them (2.0, 1e-05), non-ASCII as it is, or as \\uXXXX escapes when
 * colour is off (its plain-text path uses json.dumps' defaults). */
static int g_json_ascii;

/* Decodes one UTF-8 character at s (n bytes left); *len = its length.
 * Invalid bytes come back as U+FFFD, one byte long. */
static unsigned long utf8_next(const char *s, size_t n, size_t *len) {
    const unsigned char *u = (const unsigned char *)s;
    unsigned long c;
    size_t need, i;
    if (u[0] < 0x80) { *len = 1; return u[0]; }
    if ((u[0] & 0xE0) == 0xC0) { need = 2; c = u[0] & 0x1F; }
    else if ((u[0] & 0xF0) == 0xE0) { need = 3; c = u[0] & 0x0F; }
    else if ((u[0] & 0xF8) == 0xF0) { need = 4; c = u[0] & 0x07; }
    else { *len = 1; return 0xFFFD; }
    if (need > n) { *len = 1; return 0xFFFD; }
    for (i = 1; i < need; i++) {
        if ((u[i] & 0xC0) != 0x80) { *len = 1; return 0xFFFD; }
        c = (c << 6) | (u[i] & 0x3F);
    }
    *len = need;
    return c;
}

/* A J_NUM's value, read exactly (beyond the range of a double: infinity,
 * as strtod and Python's json read it). */
static double jv_double(const jv *v) {
    double d = 0;
    if (osb_json_to_double(v->s, v->n, &d) == OSB_ERR_RANGE) d = v->s[0] == '-' ? -HUGE_VAL : HUGE_VAL;
    return d;
}

/* Python's layout of a float's significant digits (no trailing zeros) with
 * the power of ten ex of the first: fixed between 1e-4 and 1e16, with ".0"
 * on whole numbers, else d.ddde+XX. */
static void py_float_layout(int neg, const char *digits, int ex, char *out, size_t cap) {
    int nd = (int)strlen(digits), i;
    osb_buf b;
    memset(&b, 0, sizeof b);
    if (neg) bput(&b, "-");
    if (ex >= -4 && ex < 16) {
        if (ex < 0) {
            bput(&b, "0.");
            for (i = 0; i < -ex - 1; i++) bput(&b, "0");
            bput(&b, digits);
        } else {
            for (i = 0; i <= ex; i++) bputn(&b, i < nd ? &digits[i] : "0", 1);
            bput(&b, ".");
            if (nd > ex + 1) bput(&b, digits + ex + 1);
            else bput(&b, "0");
        }
    } else {
        bputn(&b, digits, 1);
        if (nd > 1) {
            bput(&b, ".");
            bput(&b, digits + 1);
        }
        bprintf(&b, "e%c%02d", ex < 0 ? '-' : '+', ex < 0 ? -ex : ex);
    }
    osb__fmt(out, cap, "%s", bstr(&b));
    osb_buf_free(&b);
}

/* Python's repr() of a float: the shortest digits that read back the same. */
static void py_float(double d, char *out, size_t cap) {
    char e[48], digits[24];
    double a = d < 0 ? -d : d, back;
    uint64_t q = 0;
    int prec = 1, ex = 0, nd;
    if (d != d) { osb__fmt(out, cap, "NaN"); return; }
    if (a > DBL_MAX) {
        osb__fmt(out, cap, d > 0 ? "Infinity" : "-Infinity");
        return;
    }
    /* the fewest significant digits that read back as a (at most 17) */
    for (; a != 0 && prec <= 17; prec++) {
        if (osb__double_digits(a, prec, &q, &ex) != 0) break;
        nd = osb__fmt(e, sizeof e, "%llue%d", (unsigned long long)q, ex - prec + 1);
        if (osb_json_to_double(e, (size_t)nd, &back) == OSB_OK && back == a) break;
    }
    nd = osb__fmt(digits, sizeof digits, "%llu", (unsigned long long)q);
    while (nd > 1 && digits[nd - 1] == '0') digits[--nd] = 0;
    py_float_layout(d < 0 || (d == 0 && 1 / d < 0), digits, ex, out, cap);
}

static void num_text(const jv *v, char *out, size_t cap) {
    if (v->fl) py_float(jv_double(v), out, cap);
    else osb__fmt(out, cap, "%s", v->s);
}

static void py_json_str(osb_buf *f, const char *s, size_t n, int ascii) {
    size_t i = 0;
    bputc(f, '"');
    while (i < n) {
        unsigned char c = (unsigned char)s[i];
        if (c == '"') bput(f, "\\\"");
        else if (c == '\\') bput(f, "\\\\");
        else if (c == '\n') bput(f, "\\n");
        else if (c == '\r') bput(f, "\\r");
        else if (c == '\t') bput(f, "\\t");
        else if (c == '\b') bput(f, "\\b");
        else if (c == '\f') bput(f, "\\f");
        else if (c < 0x20) bprintf(f, "\\u%04x", c);
        else if (c < 0x80 || !ascii) {
            if (c < 0x80) bputc(f, (char)c);
            else {
                size_t len;
                unsigned long u = utf8_next(s + i, n - i, &len);
                if (u == 0xFFFD && len == 1) bput(f, "\xEF\xBF\xBD");
                else bputn(f, s + i, len);
                i += len;
                continue;
            }
        } else {
            size_t len;
            unsigned long u = utf8_next(s + i, n - i, &len);
            if (u >= 0x10000) {
                u -= 0x10000;
                bprintf(f, "\\u%04lx\\u%04lx", 0xD800 + (u >> 10), 0xDC00 + (u & 0x3FF));
            } else {
                bprintf(f, "\\u%04lx", u);
            }
            i += len;
            continue;
        }
        i++;
    }
    bputc(f, '"');
}

/* One JSON emitter for every JSON osb prints. ind >= 0: indented by two as
 * json.dumps(indent=2); ind < 0: one line. style JSON_WIRE: the wire form
 * ("," and ":", numbers as received); JSON_PY: json.dumps (", " and ": "
 * on one line, floats as Python writes them, ASCII escapes when
 * g_json_ascii). */
static void emit_json(osb_buf *f, const jv *v, int ind, int style) {
    const jv *c;
    char num[64];
    int ascii = style == JSON_PY && g_json_ascii;
    switch (v->t) {
    case J_NULL: bput(f, "null"); return;
    case J_TRUE: bput(f, "true"); return;
    case J_FALSE: bput(f, "false"); return;
    case J_NUM:
        if (style == JSON_PY) num_text(v, num, sizeof num);
        bput(f, style == JSON_PY ? num : v->s);
        return;
    case J_STR: py_json_str(f, v->s, v->n, ascii); return;
    default: break;
    }
    bputc(f, v->t == J_OBJ ? '{' : '[');
    if (!v->kid) {
        bputc(f, v->t == J_OBJ ? '}' : ']');
        return;
    }
    for (c = v->kid; c; c = c->next) {
        if (ind >= 0) {
            bputc(f, '\n');
            indent(f, ind + 2);
        }
        if (v->t == J_OBJ) {
            py_json_str(f, c->k, strlen(c->k), ascii);
            bput(f, style == JSON_PY || ind >= 0 ? ": " : ":");
        }
        emit_json(f, c, ind >= 0 ? ind + 2 : -1, style);
        if (c->next) bput(f, ind < 0 && style == JSON_PY ? ", " : ",");
    }
    if (ind >= 0) {
        bputc(f, '\n');
        indent(f, ind);
    }
    bputc(f, v->t == J_OBJ ? '}' : ']');
}

/* >>official-yaml ========================================================== */
/* -o yaml as the official CLI prints it: PyYAML's yaml.dump with
 * default_flow_style=False and allow_unicode=True. Keys sorted; sequences
 * inside mappings not indented; a scalar stays plain unless YAML 1.1 would
 * read it as something else (true, 123, 1.5, null, a timestamp) or it holds
 * indicators, in which case it is single-quoted ('' for '), or double-quoted
 * when it has control characters; long scalars fold at column 80. */
typedef struct yw {
    osb_buf *f;
    int column, whitespace, indention, indent;
} yw;

/* Small matchers for the few fixed patterns osb checks (YAML 1.1 implicit
 * types as PyYAML resolves them, TOML scalars): each returns the end of
 * what it matched, or NULL. No regex library: it is not everywhere (mingw). */
#define M_DIG "0123456789"

static int m_in(char c, const char *set) { return c && strchr(set, c) != NULL; }
static const char *m_span(const char *p, const char *set) {
    while (m_in(*p, set)) p++;
    return p;
}
static const char *m_sign(const char *p) { return *p == '+' || *p == '-' ? p + 1 : p; }

/* n to m characters of set */
static const char *m_rep(const char *p, const char *set, int n, int m) {
    int k = 0;
    while (k < m && m_in(p[k], set)) k++;
    return k < n ? NULL : p + k;
}

/* [set](_?[set])* : digits with single underscores between them */
static const char *m_digits_us(const char *p, const char *set) {
    if (!m_in(*p, set)) return NULL;
    p++;
    for (;;) {
        if (m_in(*p, set)) p++;
        else if (*p == '_' && m_in(p[1], set)) p += 2;
        else return p;
    }
}

/* (:[0-5]?[0-9])+ */
static const char *m_sexagesimal(const char *p) {
    const char *end = NULL;
    while (*p == ':') {
        const char *r = p + 1;
        if (m_in(r[0], "012345") && m_in(r[1], M_DIG)) r += 2;
        else if (m_in(r[0], M_DIG)) r += 1;
        else break;
        end = p = r;
    }
    return end;
}

/* ([eE][-+][0-9]+)? */
static const char *m_yaml_exp(const char *p) {
    if ((*p == 'e' || *p == 'E') && (p[1] == '-' || p[1] == '+') && m_in(p[2], M_DIG)) return m_span(p + 2, M_DIG);
    return p;
}

static int m_full(const char *p) { return p && !*p; }

static int yaml_is_float(const char *s) {
    const char *p = m_sign(s), *q;
    if (m_in(*p, M_DIG)) {
        q = m_span(p + 1, M_DIG "_");
        if (*q == '.' && m_full(m_yaml_exp(m_span(q + 1, M_DIG "_")))) return 1;
        q = m_sexagesimal(q);
        if (q && *q == '.' && m_full(m_span(q + 1, M_DIG "_"))) return 1;
    }
    if (s[0] == '.' && m_in(s[1], M_DIG) && m_full(m_yaml_exp(m_span(s + 2, M_DIG "_")))) return 1;
    if (!strcmp(p, ".inf") || !strcmp(p, ".Inf") || !strcmp(p, ".INF")) return 1;
    return !strcmp(s, ".nan") || !strcmp(s, ".NaN") || !strcmp(s, ".NAN");
}

static int yaml_is_int(const char *s) {
    const char *p = m_sign(s);
    if (p[0] == '0' && p[1] == 'b' && m_in(p[2], "01_") && m_full(m_span(p + 2, "01_"))) return 1;
    if (p[0] == '0' && p[1] == 'x' && m_in(p[2], M_DIG "abcdefABCDEF_") && m_full(m_span(p + 2, M_DIG "abcdefABCDEF_")))
        return 1;
    if (p[0] == '0' && (!p[1] || (m_in(p[1], "01234567_") && m_full(m_span(p + 1, "01234567_"))))) return 1;
    if (m_in(*p, "123456789")) {
        const char *q = m_span(p + 1, M_DIG "_");
        if (!*q || m_full(m_sexagesimal(q))) return 1;
    }
    return 0;
}

static int yaml_is_timestamp(const char *s) {
    const char *p = m_rep(s, M_DIG, 4, 4), *q;
    if (!p || *p != '-') return 0;
    if (m_rep(p + 1, M_DIG, 2, 2) && p[3] == '-' && m_rep(p + 4, M_DIG, 2, 2) && !p[6]) return 1;
    if (!(p = m_rep(p + 1, M_DIG, 1, 2)) || *p != '-' || !(p = m_rep(p + 1, M_DIG, 1, 2))) return 0;
    if (*p == 'T' || *p == 't') p++;
    else if (*p == ' ' || *p == '\t') p = m_span(p, " \t");
    else return 0;
    if (!(p = m_rep(p, M_DIG, 1, 2)) || *p != ':' || !(p = m_rep(p + 1, M_DIG, 2, 2)) || *p != ':' ||
        !(p = m_rep(p + 1, M_DIG, 2, 2)))
        return 0;
    if (*p == '.') p = m_span(p + 1, M_DIG);
    q = m_span(p, " \t");
    if (*q == 'Z') {
        p = q + 1;
    } else if (*q == '+' || *q == '-') {
        const char *r = m_rep(q + 1, M_DIG, 1, 2);
        if (r) {
            p = r;
            if (*r == ':' && m_rep(r + 1, M_DIG, 2, 2)) p = r + 3;
        }
    }
    return !*p;
}

/* Would YAML 1.1 (PyYAML's resolver) read s, written plain, as a non-string? */
static int yaml_implicit_other(const char *s) {
    static const char *const words[] = {"yes", "Yes", "YES", "no", "No", "NO", "true", "True", "TRUE", "false",
                                        "False", "FALSE", "on", "On", "ON", "off", "Off", "OFF", "~", "null",
                                        "Null", "NULL", "", "<<", "=", NULL};
    int i;
    for (i = 0; words[i]; i++)
        if (!strcmp(s, words[i])) return 1;
    return yaml_is_float(s) || yaml_is_int(s) || yaml_is_timestamp(s);
}

/* A TOML scalar: integer (decimal, 0x, 0o, 0b), float, inf/nan, boolean,
 * date, date-time or time. */
static int toml_is_scalar(const char *s) {
    const char *p = m_sign(s), *q;
    if (!strcmp(s, "true") || !strcmp(s, "false") || !strcmp(p, "inf") || !strcmp(p, "nan")) return 1;
    if (s[0] == '0' && s[1] == 'x' && m_full(m_digits_us(s + 2, M_DIG "abcdefABCDEF"))) return 1;
    if (s[0] == '0' && s[1] == 'o' && m_full(m_digits_us(s + 2, "01234567"))) return 1;
    if (s[0] == '0' && s[1] == 'b' && m_full(m_digits_us(s + 2, "01"))) return 1;
    q = *p == '0' ? p + 1 : m_in(*p, "123456789") ? m_digits_us(p, M_DIG) : NULL;
    if (q) {
        if (*q == '.') q = m_digits_us(q + 1, M_DIG);
        if (q && (*q == 'e' || *q == 'E')) q = m_digits_us(m_sign(q + 1), M_DIG);
        if (m_full(q)) return 1;
    }
    /* 1979-05-27[T07:32:00[.999][Z|+07:00]], 07:32:00[.999] */
    if ((p = m_rep(s, M_DIG, 4, 4)) && *p == '-' && (p = m_rep(p + 1, M_DIG, 2, 2)) && *p == '-' &&
        (p = m_rep(p + 1, M_DIG, 2, 2))) {
        if (!*p) return 1;
        if (*p != 'T' && *p != 't' && *p != ' ') return 0;
        s = p + 1;
        if (!(p = m_rep(s, M_DIG, 2, 2)) || *p != ':' || !(p = m_rep(p + 1, M_DIG, 2, 2))) return 0;
        if (*p == ':' && (q = m_rep(p + 1, M_DIG, 2, 2))) {
            p = q;
            if (*p == '.' && m_in(p[1], M_DIG)) p = m_span(p + 1, M_DIG);
        }
        if (*p == 'Z' || *p == 'z') p++;
        else if ((*p == '+' || *p == '-') && (q = m_rep(p + 1, M_DIG, 2, 2)) && *q == ':' && m_rep(q + 1, M_DIG, 2, 2))
            p = q + 3;
        return !*p;
    }
    if ((p = m_rep(s, M_DIG, 2, 2)) && *p == ':' && (p = m_rep(p + 1, M_DIG, 2, 2)) && *p == ':' &&
        (p = m_rep(p + 1, M_DIG, 2, 2))) {
        if (*p == '.' && m_in(p[1], M_DIG)) p = m_span(p + 1, M_DIG);
        return !*p;
    }
    return 0;
}

static int y_space(unsigned long c) { return c == 0 || c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == 0x85 || c == 0x2028 || c == 0x2029; }
static int y_break(unsigned long c) { return c == '\n' || c == 0x85 || c == 0x2028 || c == 0x2029; }
static int y_printable(unsigned long c) {
    return c == '\n' || (c >= 0x20 && c <= 0x7E) ||
           ((c == 0x85 || (c >= 0xA0 && c <= 0xD7FF) || (c >= 0xE000 && c <= 0xFFFD) || (c >= 0x10000 && c < 0x10FFFF)) && c != 0xFEFF);
}

/* 0 plain, 1 single-quoted, 2 double-quoted (PyYAML's analyze_scalar and
 * choose_scalar_style for a block context). */
static int yaml_style(const unsigned long *t, size_t n, const char *utf8, int key) {
    int block_ind = 0, flow_ind = 0, breaks = 0, special = 0;
    int lead_sp = 0, lead_br = 0, trail_sp = 0, trail_br = 0, br_sp = 0, sp_br = 0;
    int prev_sp = 0, prev_br = 0, preceded_ws = 1, followed_ws;
    int plain = 1, single = 1;
    size_t i;
    if (n == 0) return 1;
    if (n >= 3 && ((t[0] == '-' && t[1] == '-' && t[2] == '-') || (t[0] == '.' && t[1] == '.' && t[2] == '.')))
        block_ind = flow_ind = 1;
    followed_ws = n == 1 || y_space(t[1]);
    for (i = 0; i < n; i++) {
        unsigned long c = t[i];
        if (i == 0) {
            if (c < 128 && strchr("#,[]{}&*!|>'\"%@`", (int)c) && c) flow_ind = block_ind = 1;
            if (c == '?' || c == ':') {
                flow_ind = 1;
                if (followed_ws) block_ind = 1;
            }
            if (c == '-' && followed_ws) flow_ind = block_ind = 1;
        } else {
            if (c < 128 && c && strchr(",?[]{}", (int)c)) flow_ind = 1;
            if (c == ':') {
                flow_ind = 1;
                if (followed_ws) block_ind = 1;
            }
            if (c == '#' && preceded_ws) flow_ind = block_ind = 1;
        }
        if (y_break(c)) breaks = 1;
        if (!y_printable(c)) special = 1;
        if (c == ' ') {
            if (i == 0) lead_sp = 1;
            if (i == n - 1) trail_sp = 1;
            if (prev_br) br_sp = 1;
            prev_sp = 1;
            prev_br = 0;
        } else if (y_break(c)) {
            if (i == 0) lead_br = 1;
            if (i == n - 1) trail_br = 1;
            if (prev_sp) sp_br = 1;
            prev_sp = 0;
            prev_br = 1;
        } else {
            prev_sp = prev_br = 0;
        }
        preceded_ws = y_space(c);
        followed_ws = i + 2 >= n || y_space(t[i + 2]);
    }
    if (lead_sp || lead_br || trail_sp || trail_br) plain = 0;
    if (br_sp) plain = single = 0;
    if (sp_br || special) plain = single = 0;
    if (breaks) plain = 0;
    if (block_ind) plain = 0;
    if (plain && !(key && breaks) && !yaml_implicit_other(utf8)) return 0;
    if (single && !(key && breaks)) return 1;
    return 2;
}

static void yw_put(yw *w, const unsigned long *t, size_t a, size_t b) {
    size_t i;
    for (i = a; i < b; i++) {
        unsigned long c = t[i];
        char u[4];
        if (c < 0x80) { bputc(w->f, (char)c); }
        else if (c < 0x800) { u[0] = (char)(0xC0 | (c >> 6)); u[1] = (char)(0x80 | (c & 0x3F)); bputn(w->f, u, 2); }
        else if (c < 0x10000) { u[0] = (char)(0xE0 | (c >> 12)); u[1] = (char)(0x80 | ((c >> 6) & 0x3F)); u[2] = (char)(0x80 | (c & 0x3F)); bputn(w->f, u, 3); }
        else { u[0] = (char)(0xF0 | (c >> 18)); u[1] = (char)(0x80 | ((c >> 12) & 0x3F)); u[2] = (char)(0x80 | ((c >> 6) & 0x3F)); u[3] = (char)(0x80 | (c & 0x3F)); bputn(w->f, u, 4); }
        w->column++;
    }
}

static void yw_raw(yw *w, const char *s) {
    bput(w->f, s);
    w->column += (int)strlen(s);
}

static void yw_break(yw *w) {
    bputc(w->f, '\n');
    w->whitespace = w->indention = 1;
    w->column = 0;
}

static void yw_indent(yw *w) {
    if (!w->indention || w->column > w->indent || (w->column == w->indent && !w->whitespace)) yw_break(w);
    if (w->column < w->indent) {
        w->whitespace = 1;
        while (w->column < w->indent) { bputc(w->f, ' '); w->column++; }
    }
}

#define YAML_WIDTH 80

static void yw_plain(yw *w, const unsigned long *t, size_t n) {
    size_t start = 0, end = 0;
    int spaces = 0;
    w->whitespace = w->indention = 0;
    while (end <= n) {
        unsigned long c = end < n ? t[end] : 0;
        int none = end >= n;
        if (spaces) {
            if (none || c != ' ') {
                if (start + 1 == end && w->column > YAML_WIDTH) {
                    yw_indent(w);
                    w->whitespace = w->indention = 0;
                } else {
                    yw_put(w, t, start, end);
                }
                start = end;
            }
        } else if (none || c == ' ') {
            yw_put(w, t, start, end);
            start = end;
        }
        if (!none) spaces = c == ' ';
        end++;
    }
}

static void yw_single(yw *w, const unsigned long *t, size_t n) {
    size_t start = 0, end = 0, k;
    int spaces = 0, breaks = 0;
    yw_raw(w, "'");
    w->whitespace = 0;
    w->indention = 0;
    while (end <= n) {
        int none = end >= n;
        unsigned long c = none ? 0 : t[end];
        if (spaces) {
            if (none || c != ' ') {
                if (start + 1 == end && w->column > YAML_WIDTH && start != 0 && end != n) yw_indent(w);
                else yw_put(w, t, start, end);
                start = end;
            }
        } else if (breaks) {
            if (none || !y_break(c)) {
                if (t[start] == '\n') yw_break(w);
                for (k = start; k < end; k++) {
                    if (t[k] == '\n') yw_break(w);
                    else {
                        /* a Unicode line break is written as it is and counts as one */
                        yw_put(w, t, k, k + 1);
                        w->whitespace = w->indention = 1;
                        w->column = 0;
                    }
                }
                yw_indent(w);
                start = end;
            }
        } else if (none || c == ' ' || y_break(c) || c == '\'') {
            if (start < end) {
                yw_put(w, t, start, end);
                start = end;
            }
        }
        if (!none && c == '\'') {
            yw_raw(w, "''");
            start = end + 1;
        }
        if (!none) {
            spaces = c == ' ';
            breaks = y_break(c);
        }
        end++;
    }
    yw_raw(w, "'");
    w->whitespace = w->indention = 0;
}

static void yw_double(yw *w, const unsigned long *t, size_t n) {
    size_t start = 0, end = 0;
    yw_raw(w, "\"");
    w->whitespace = w->indention = 0;
    while (end <= n) {
        int none = end >= n;
        unsigned long c = none ? 0 : t[end];
        if (none || c == '"' || c == '\\' || c == 0x85 || c == 0x2028 || c == 0x2029 || c == 0xFEFF ||
            !((c >= 0x20 && c <= 0x7E) || (c >= 0xA0 && c <= 0xD7FF) || (c >= 0xE000 && c <= 0xFFFD))) {
            if (start < end) {
                yw_put(w, t, start, end);
                start = end;
            }
            if (!none) {
                char esc[24];
                const char *r = NULL;
                switch (c) {
                case 0: r = "0"; break; case 7: r = "a"; break; case 8: r = "b"; break; case 9: r = "t"; break;
                case 10: r = "n"; break; case 11: r = "v"; break; case 12: r = "f"; break; case 13: r = "r"; break;
                case 27: r = "e"; break; case '"': r = "\""; break; case '\\': r = "\\"; break; case 0x85: r = "N"; break;
                case 0xA0: r = "_"; break; case 0x2028: r = "L"; break; case 0x2029: r = "P"; break;
                default: break;
                }
                if (r) osb__fmt(esc, sizeof esc, "\\%s", r);
                else if (c <= 0xFF) osb__fmt(esc, sizeof esc, "\\x%02lX", c);
                else if (c <= 0xFFFF) osb__fmt(esc, sizeof esc, "\\u%04lX", c);
                else osb__fmt(esc, sizeof esc, "\\U%08lX", c);
                yw_raw(w, esc);
                start = end + 1;
            }
        }
        if (end > 0 && end + 1 < n && (c == ' ' || start >= end) && w->column + (int)(end - start) > YAML_WIDTH) {
            yw_put(w, t, start, end);
            yw_raw(w, "\\");
            if (start < end) start = end;
            yw_indent(w);
            w->whitespace = w->indention = 0;
            if (t[start] == ' ') yw_raw(w, "\\");
        }
        end++;
    }
    yw_raw(w, "\"");
    w->whitespace = w->indention = 0;
}

static void yw_scalar_text(yw *w, const char *s, size_t n, int key) {
    unsigned long *t = (unsigned long *)xmalloc(sizeof *t * (n + 1));
    size_t m = 0, i = 0;
    char *z = xstrndup(s, n);
    int style;
    while (i < n) {
        size_t len;
        t[m++] = utf8_next(s + i, n - i, &len);
        i += len;
    }
    style = yaml_style(t, m, z, key);
    if (style == 0) yw_plain(w, t, m);
    else if (style == 1) yw_single(w, t, m);
    else yw_double(w, t, m);
    free(z);
    free(t);
}

static void yw_scalar(yw *w, const jv *v) {
    char num[80];
    switch (v->t) {
    case J_NULL: yw_raw(w, "null"); break;
    case J_TRUE: yw_raw(w, "true"); break;
    case J_FALSE: yw_raw(w, "false"); break;
    case J_NUM:
        if (v->fl) {
            char *e, *p;
            py_float(jv_double(v), num, sizeof num - 2);
            for (p = num; *p; p++) *p = (char)tolower((unsigned char)*p);
            if (strcmp(num, "nan") == 0) strcpy(num, ".nan");
            else if (strcmp(num, "infinity") == 0) strcpy(num, ".inf");
            else if (strcmp(num, "-infinity") == 0) strcpy(num, "-.inf");
            else if (!strchr(num, '.') && (e = strchr(num, 'e')) != NULL) {
                memmove(e + 2, e, strlen(e) + 1);
                e[0] = '.';
                e[1] = '0';
            }
            yw_raw(w, num);
        } else {
            yw_raw(w, v->s);
        }
        break;
    case J_STR: yw_scalar_text(w, v->s, v->n, 0); break;
    default: yw_raw(w, v->t == J_OBJ ? "{}" : "[]");
    }
    w->whitespace = w->indention = 0;
}

/* The members of o sorted by name (yaml.dump's sort_keys; stable, as
 * Python's sorted()). */
static const jv **sorted_kids(const jv *o) {
    const jv **v = (const jv **)xmalloc(sizeof *v * (o->nkids + 1));
    const jv *c;
    size_t n = 0, k;
    for (c = o->kid; c; c = c->next) {
        for (k = n++; k > 0 && strcmp(v[k - 1]->k, c->k) > 0; k--) v[k] = v[k - 1];
        v[k] = c;
    }
    v[n] = NULL;
    return v;
}

static void yw_node(yw *w, const jv *v, int ind);

/* A mapping whose keys go at column ind; the first key is written where
 * the writer stands (after "- " in a sequence). */
static void yw_map(yw *w, const jv *o, int ind) {
    const jv **kids = sorted_kids(o);
    size_t i;
    for (i = 0; kids[i]; i++) {
        const jv *c = kids[i];
        if (i > 0 || w->column != ind) {
            if (w->column > 0) yw_break(w);
            while (w->column < ind) { bputc(w->f, ' '); w->column++; }
        }
        w->indent = ind;
        w->whitespace = 1;
        yw_scalar_text(w, c->k, strlen(c->k), 1);
        yw_raw(w, ":");
        if (jv_is_container(c)) {
            yw_break(w);
            yw_node(w, c, c->t == J_ARR ? ind : ind + 2);
        } else {
            yw_raw(w, " ");
            w->indent = ind + 2;
            w->whitespace = 1;
            yw_scalar(w, c);
        }
    }
    free((void *)kids);
}

/* A sequence whose dashes go at column ind. */
static void yw_seq(yw *w, const jv *a, int ind) {
    const jv *c;
    for (c = a->kid; c; c = c->next) {
        if (c != a->kid || w->column != ind) {
            if (w->column > 0) yw_break(w);
            while (w->column < ind) { bputc(w->f, ' '); w->column++; }
        }
        yw_raw(w, "- ");
        if (jv_is_container(c)) {
            yw_node(w, c, ind + 2);
        } else {
            w->indent = ind + 2;
            w->whitespace = 1;
            yw_scalar(w, c);
        }
    }
}

static void yw_node(yw *w, const jv *v, int ind) {
    if (v->t == J_OBJ && v->kid) yw_map(w, v, ind);
    else if (v->t == J_ARR && v->kid) yw_seq(w, v, ind);
    else {
        w->indent = ind;
        yw_scalar(w, v);
    }
}

/* The document, ending in one newline (the CLI strips yaml.dump's end). */
static void emit_official_yaml(osb_buf *f, const jv *v) {
    yw w;
    memset(&w, 0, sizeof w);
    w.f = f;
    w.whitespace = w.indention = 1;
    yw_node(&w, v, 0);
    if (!jv_is_container(v) && v->t != J_OBJ && v->t != J_ARR) bput(f, "\n...");
    bputc(f, '\n');
}

/* Text of a value for a table cell. */
static void cell_text(osb_buf *b, const jv *v) {
    if (!v) { bput(b, "-"); return; }
    switch (v->t) {
    case J_NULL: bput(b, "-"); break;
    case J_TRUE: bput(b, "true"); break;
    case J_FALSE: bput(b, "false"); break;
    case J_NUM:
    case J_STR: bputn(b, v->s, v->n); break;
    case J_ARR: {
        const jv *c;
        int scalars = 1;
        for (c = v->kid; c; c = c->next)
            if (c->t == J_OBJ || c->t == J_ARR) scalars = 0;
        if (scalars) {
            for (c = v->kid; c; c = c->next) {
                if (c != v->kid) bput(b, ", ");
                cell_text(b, c);
            }
            if (!v->kid) bput(b, "-");
            break;
        }
        emit_json_buf(b, v);
        break;
    }
    case J_OBJ:
        if (!v->kid) { bput(b, "-"); break; }
        {
            const jv *c;
            int scalars = 1;
            for (c = v->kid; c; c = c->next)
                if (c->t == J_OBJ || c->t == J_ARR) scalars = 0;
            if (scalars) {
                for (c = v->kid; c; c = c->next) {
                    if (c != v->kid) bput(b, ", ");
                    bput(b, c->k);
                    bput(b, "=");
                    cell_text(b, c);
                }
                break;
            }
        }
        emit_json_buf(b, v);
        break;
    }
}

/* >>table ================================================================== */
typedef struct table {
    int ncols, nrows;
    char **cells;   /* (nrows + 1) * ncols, row 0 = header */
} table;

static void table_init(table *t, int ncols) {
    memset(t, 0, sizeof *t);
    t->ncols = ncols;
}

static void table_row(table *t, char **vals) {
    int i;
    t->cells = (char **)xrealloc(t->cells, sizeof(char *) * (size_t)t->ncols * (size_t)(t->nrows + 1));
    for (i = 0; i < t->ncols; i++) t->cells[t->nrows * t->ncols + i] = vals[i];
    t->nrows++;
}

static size_t utf8_width(const char *s) {
    size_t w = 0;
    for (; *s; s++)
        if (((unsigned char)*s & 0xC0) != 0x80) w++;
    return w;
}

static void table_print(table *t) {
    size_t *w = (size_t *)xmalloc(sizeof(size_t) * (size_t)t->ncols);
    int r, c;
    for (c = 0; c < t->ncols; c++) w[c] = 0;
    for (r = 0; r < t->nrows; r++)
        for (c = 0; c < t->ncols; c++) {
            char *s = t->cells[r * t->ncols + c], *p;
            /* one line per cell: newlines shown as spaces */
            for (p = s; *p; p++)
                if (*p == '\n' || *p == '\r' || *p == '\t') *p = ' ';
            if (utf8_width(s) > w[c]) w[c] = utf8_width(s);
        }
    for (r = 0; r < t->nrows; r++) {
        for (c = 0; c < t->ncols; c++) {
            const char *s = t->cells[r * t->ncols + c];
            if (r == 0 && g_color) out_puts(0, "\033[1m");
            out_puts(0, s);
            if (r == 0 && g_color) out_puts(0, "\033[0m");
            if (c + 1 < t->ncols) {
                size_t pad = w[c] - utf8_width(s) + 2;
                while (pad--) out_put(0, " ", 1);
            }
        }
        out_put(0, "\n", 1);
    }
    for (r = 0; r < t->nrows * t->ncols; r++) free(t->cells[r]);
    free(t->cells);
    free(w);
}

/* Columns "HEADER=path,HEADER=path". */
static void table_of_list(const jv *items, const char *cols) {
    table t;
    char *spec = xstrdup(cols), *next, *tok;
    const char *paths[32];
    char *heads[32];
    int n = 0, i;
    const jv *it;
    for (tok = spec; tok && n < 32; tok = next) {
        char *eq, *comma = strchr(tok, ',');
        next = comma ? comma + 1 : NULL;
        if (comma) *comma = 0;
        if (!(eq = strchr(tok, '='))) continue;
        *eq = 0;
        heads[n] = xstrdup(tok);
        paths[n] = eq + 1;
        n++;
    }
    table_init(&t, n);
    table_row(&t, heads);
    for (it = items ? items->kid : NULL; it; it = it->next) {
        char *vals[32];
        for (i = 0; i < n; i++) {
            osb_buf b;
            memset(&b, 0, sizeof b);
            if (strcmp(paths[i], ".") == 0) cell_text(&b, it);
            else cell_text(&b, jget(it, paths[i]));
            if (!b.data) bput(&b, "");
            vals[i] = b.data;
        }
        table_row(&t, vals);
    }
    table_print(&t);
    free(spec);
}

/* An object as FIELD / VALUE rows, nested objects flattened with dots. */
static void kv_rows(table *t, const jv *v, const char *prefix) {
    const jv *c;
    for (c = v->kid; c; c = c->next) {
        osb_buf key, val;
        memset(&key, 0, sizeof key);
        memset(&val, 0, sizeof val);
        if (prefix && *prefix) {
            bput(&key, prefix);
            bput(&key, ".");
        }
        bput(&key, c->k);
        if (c->t == J_OBJ && c->kid) {
            int nested = 0;
            const jv *m;
            for (m = c->kid; m; m = m->next)
                if (m->t == J_OBJ && m->kid) nested = 1;
            if (nested || c->nkids <= 8) {
                kv_rows(t, c, key.data);
                osb_buf_free(&key);
                continue;
            }
        }
        cell_text(&val, c);
        if (!val.data) bput(&val, "");
        {
            char *row[2];
            row[0] = key.data;
            row[1] = val.data;
            table_row(t, row);
        }
    }
}

static void table_of_object(const jv *v) {
    table t;
    char *head[2];
    table_init(&t, 2);
    head[0] = xstrdup("FIELD");
    head[1] = xstrdup("VALUE");
    table_row(&t, head);
    kv_rows(&t, v, "");
    table_print(&t);
}

/* >>output ================================================================= */
/* What a command prints: a JSON document shown as table/json/yaml/raw.
 * cols: columns for a list; list_key: where the list is inside the object
 * ("items"), "" when the document itself is the list. */
typedef struct view {
    const char *cols;
    const char *list_key;
} view;

static int show(const jv *doc, const view *vw) {
    if (!doc) return EX_OK;
    if (strcmp(g_out, "json") == 0 || strcmp(g_out, "yaml") == 0 || strcmp(g_out, "raw") == 0) {
        osb_buf b;
        memset(&b, 0, sizeof b);
        if (g_out[0] == 'y') emit_official_yaml(&b, doc);
        else if (g_out[0] == 'r' && doc->t == J_STR) bput(&b, doc->s);
        else emit_json(&b, doc, g_out[0] == 'j' ? 0 : -1, g_out[0] == 'j' ? JSON_PY : JSON_WIRE);
        if (g_out[0] != 'y') bputc(&b, '\n');
        out_put(0, bstr(&b), b.len);
        osb_buf_free(&b);
    } else {
        const jv *list = NULL;
        if (vw && vw->cols) {
            if (vw->list_key && *vw->list_key) list = jget(doc, vw->list_key);
            else if (doc->t == J_ARR) list = doc;
        } else if (doc->t == J_ARR) {
            list = doc;
        }
        if (list && list->t == J_ARR) {
            if (vw && vw->cols) {
                table_of_list(list, vw->cols);
            } else {
                /* columns: the scalar members of the first item */
                osb_buf cols;
                const jv *first = list->kid, *m;
                memset(&cols, 0, sizeof cols);
                if (first && first->t == J_OBJ) {
                    for (m = first->kid; m; m = m->next) {
                        char up[128];
                        size_t i;
                        for (i = 0; m->k[i] && i < sizeof up - 1; i++) up[i] = (char)toupper((unsigned char)m->k[i]);
                        up[i] = 0;
                        if (cols.len) bput(&cols, ",");
                        bprintf(&cols, "%s=%s", up, m->k);
                    }
                    table_of_list(list, cols.data);
                } else {
                    bput(&cols, "VALUE=.");
                    table_of_list(list, cols.data);
                }
                osb_buf_free(&cols);
            }
            if (vw && vw->list_key && *vw->list_key) {
                const jv *pg = jget(doc, "pagination");
                if (pg && jstr(pg, "totalItems"))
                    out_fmt(0, "(page %s of %s, %s total)\n", jstr(pg, "page") ? jstr(pg, "page") : "?",
                            jstr(pg, "totalPages") ? jstr(pg, "totalPages") : "?", jstr(pg, "totalItems"));
            }
        } else if (doc->t == J_OBJ) {
            if (doc->kid) table_of_object(doc);
        } else {
            osb_buf b;
            memset(&b, 0, sizeof b);
            cell_text(&b, doc);
            out_fmt(0, "%s\n", bstr(&b));
            osb_buf_free(&b);
        }
    }
    out_flush();
    return EX_OK;
}

/* Builds a small JSON object from key/value strings (values already JSON). */
static jv *jobj(void) { return jv_new(J_OBJ); }

static void jset_raw(jv *o, const char *k, jv *v) {
    v->k = xstrdup(k);
    jv_add(o, v);
}

static void jset_str(jv *o, const char *k, const char *s) {
    jv *v = jv_new(s ? J_STR : J_NULL);
    if (s) {
        v->s = xstrdup(s);
        v->n = strlen(s);
    }
    jset_raw(o, k, v);
}

static void jset_strn(jv *o, const char *k, const char *s, size_t n) {
    jv *v = jv_new(J_STR);
    v->s = xstrndup(s, n);
    v->n = n;
    jset_raw(o, k, v);
}

static void jset_num(jv *o, const char *k, long long n) {
    char tmp[32];
    jv *v = jv_new(J_NUM);
    osb__fmt(tmp, sizeof tmp, "%lld", n);
    v->s = xstrdup(tmp);
    v->n = strlen(tmp);
    jset_raw(o, k, v);
}

static void jset_bool(jv *o, const char *k, int b) { jset_raw(o, k, jv_new(b ? J_TRUE : J_FALSE)); }

/* >>output-helpers ========================================================= */
static int check_output(const cmd *c, const char *o) {
    const char *p = OUTS[c->outs][0];
    size_t n = strlen(o);
    while (*p) {
        const char *e = strchr(p, ',');
        size_t l = e ? (size_t)(e - p) : strlen(p);
        if (l == n && memcmp(p, o, n) == 0) return 1;
        p += l + (e ? 1 : 0);
    }
    return 0;
}

/* A one-line message in table/raw output, an object in json/yaml. */
static int show_msg(jv *doc, const char *fmt, ...) {
    if (strcmp(g_out, "json") == 0 || strcmp(g_out, "yaml") == 0) {
        show(doc, NULL);
    } else {
        va_list ap;
        va_start(ap, fmt);
        out_vfmt(0, fmt, ap);
        va_end(ap);
        out_put(0, "\n", 1);
        out_flush();
    }
    jv_free(doc);
    return EX_OK;
}

/* Shows a result's raw JSON. */
static int show_raw(osb_str raw, const view *vw) {
    jv *doc = raw.ptr ? jparse(raw.ptr, raw.len) : NULL;
    if (!doc && raw.ptr && raw.len) {
        doc = jv_new(J_STR);
        doc->s = xstrndup(raw.ptr, raw.len);
        doc->n = raw.len;
    }
    if (doc) show(doc, vw);
    jv_free(doc);
    return EX_OK;
}

static jv *sjv(osb_str s) {
    jv *v = jv_new(s.ptr ? J_STR : J_NULL);
    if (s.ptr) {
        v->s = xstrndup(s.ptr, s.len);
        v->n = s.len;
    }
    return v;
}

static jv *jstrv(const char *s) {
    jv *v = jv_new(J_STR);
    v->s = xstrdup(s);
    v->n = strlen(s);
    return v;
}

/* >>official-shapes ======================================================== */
/* The documents the official CLI prints for -o json and -o yaml: the Python
 * SDK's models dumped in JSON mode (snake_case names in model order, floats
 * as floats, datetimes as pydantic writes them), built here from the wire
 * JSON (camelCase). Table and raw output keep the wire document. */

static jv *jdup(const jv *v) {
    jv *d, *c;
    const jv *k;
    if (!v) return jv_new(J_NULL);
    d = jv_new(v->t);
    d->fl = v->fl;
    if (v->s) {
        d->s = xstrndup(v->s, v->n);
        d->n = v->n;
    }
    for (k = v->kid; k; k = k->next) {
        c = jdup(k);
        if (k->k) c->k = xstrdup(k->k);
        jv_add(d, c);
    }
    return d;
}

/* A copy, or null when absent or of another type (t = 0: any type). */
static jv *jcopy(const jv *v, int t) {
    if (!v || (t && v->t != t)) return jv_new(J_NULL);
    return jdup(v);
}

static jv *jfloat(const jv *v) {
    jv *n;
    if (!v || v->t != J_NUM) return jv_new(J_NULL);
    n = jdup(v);
    n->fl = 1;
    return n;
}

/* A bool member: true/false, else null. */
static jv *jbool(const jv *v) {
    if (!v || (v->t != J_TRUE && v->t != J_FALSE)) return jv_new(J_NULL);
    return jv_new(v->t);
}

typedef struct dtime {
    int y, mo, d, h, mi, s;
    long us;
    int tz;       /* 0 none, 1 UTC, 2 offset */
    int off;      /* minutes east */
} dtime;

/* s against shape: each run of one letter (D or d) is a number of exactly
 * that many digits, stored in turn from v on (which starts at zero); every
 * other character stands for itself. The end of the match, or NULL. */
static const char *dt_digits(const char *s, const char *shape, int *v) {
    for (; *shape; shape++, s++) {
        if (*shape != 'D' && *shape != 'd') {
            if (*s != *shape) return NULL;
            continue;
        }
        if (!isdigit((unsigned char)*s)) return NULL;
        *v = *v * 10 + (*s - '0');
        if (shape[1] != *shape) v++;
    }
    return s;
}

/* RFC 3339 / ISO 8601 "YYYY-MM-DD[T ]HH:MM:SS[.frac][Z|+HH:MM]". */
static int dt_parse(const char *s, dtime *t) {
    int f[6] = {0, 0, 0, 0, 0, 0};
    memset(t, 0, sizeof *t);
    if (!(s = dt_digits(s, "DDDD-DD-DD", f)) || (*s != 'T' && *s != 't' && *s != ' ') ||
        !(s = dt_digits(s + 1, "DD:DD:DD", f + 3)))
        return -1;
    t->y = f[0], t->mo = f[1], t->d = f[2], t->h = f[3], t->mi = f[4], t->s = f[5];
    if (*s == '.' || *s == ',') {
        long mul = 100000;
        s++;
        if (!isdigit((unsigned char)*s)) return -1;
        for (; isdigit((unsigned char)*s); s++) {
            t->us += (*s - '0') * mul;   /* beyond microseconds: dropped, as dateutil */
            mul /= 10;
        }
    }
    if (*s == 'Z' || *s == 'z') {
        t->tz = 1;
        s++;
    } else if (*s == '+' || *s == '-') {
        static const char *const shapes[] = {"DD:DD", "DDdd", "DD"};
        int hm[2], sign = *s == '-' ? -1 : 1, k;
        const char *e = NULL;
        for (k = 0; k < 3 && !e; k++) {
            hm[0] = hm[1] = 0;
            e = dt_digits(s + 1, shapes[k], hm);
        }
        if (!e) return -1;
        s = e;
        t->off = sign * (hm[0] * 60 + hm[1]);
        t->tz = t->off == 0 ? 1 : 2;
    }
    return *s ? -1 : 0;
}

/* pydantic's JSON form: 2026-01-02T03:04:05[.123456][Z|+08:00].
 * pystr: Python's str(datetime) instead: a space, and +00:00 for UTC. */
static void dt_format(const dtime *t, int pystr, osb_buf *b) {
    bprintf(b, "%04d-%02d-%02d%c%02d:%02d:%02d", t->y, t->mo, t->d, pystr ? ' ' : 'T', t->h, t->mi, t->s);
    if (t->us) bprintf(b, ".%06ld", t->us);
    if (t->tz == 1 && !pystr) bput(b, "Z");
    else if (t->tz) {
        int o = t->off < 0 ? -t->off : t->off;
        bprintf(b, "%c%02d:%02d", t->off < 0 ? '-' : '+', o / 60, o % 60);
    }
}

static jv *jtime_as(const jv *v, int pystr) {
    dtime t;
    osb_buf b;
    jv *r;
    if (!v || v->t != J_STR) return jv_new(J_NULL);
    if (dt_parse(v->s, &t) != 0) return jdup(v);
    memset(&b, 0, sizeof b);
    dt_format(&t, pystr, &b);
    r = jstrv(bstr(&b));
    osb_buf_free(&b);
    return r;
}

static jv *jtime(const jv *v) { return jtime_as(v, 0); }

static jv *jstrof(const jv *v) {
    if (!v || v->t != J_STR) return jv_new(J_NULL);
    return jdup(v);
}

/* A model as a table of its fields, in the model's order, one string:
 * per field its kind ('s' string, 'n' number, 'f' float, 'b' boolean, 't'
 * datetime, 'a' array; each null when absent), the output name and the wire
 * name ("" when the same), each ended by a NUL; an empty kind ends it. */
#define FLD(kind, out, wire) #kind out "\0" wire "\0"

static jv *shape_fields(const jv *w, const char *f) {
    jv *o = jobj();
    while (*f) {
        char kind = *f++;
        const char *wire = next_piece(f);
        const jv *v = jget(w, *wire ? wire : f);
        jset_raw(o, f, kind == 's' ? jstrof(v) : kind == 'n' ? jcopy(v, J_NUM) : kind == 'f' ? jfloat(v)
                       : kind == 'b' ? jbool(v) : kind == 't' ? jtime(v) : jcopy(v, J_ARR));
        f = next_piece(wire);
    }
    return o;
}

static const char F_STATUS[] = FLD(s, "state", "") FLD(s, "reason", "") FLD(s, "message", "")
    FLD(t, "last_transition_at", "lastTransitionAt");
static const char F_PAGINATION[] = FLD(n, "page", "") FLD(n, "page_size", "pageSize")
    FLD(n, "total_items", "totalItems") FLD(n, "total_pages", "totalPages")
    FLD(b, "has_next_page", "hasNextPage");
static const char F_METRICS[] = FLD(f, "cpu_count", "") FLD(f, "cpu_used_percentage", "cpu_used_pct")
    FLD(f, "memory_total_in_mib", "mem_total_mib") FLD(f, "memory_used_in_mib", "mem_used_mib")
    FLD(n, "timestamp", "");
static const char F_COMMAND_STATUS[] = FLD(s, "id", "") FLD(s, "content", "") FLD(b, "running", "")
    FLD(n, "exit_code", "") FLD(s, "error", "") FLD(t, "started_at", "") FLD(t, "finished_at", "");
static const char F_CREDENTIAL[] = FLD(s, "name", "") FLD(s, "source_type", "sourceType")
    FLD(n, "revision", "");
static const char F_DIAGNOSTIC[] = FLD(s, "sandbox_id", "sandboxId") FLD(s, "kind", "") FLD(s, "scope", "")
    FLD(s, "delivery", "") FLD(s, "content_type", "contentType") FLD(b, "truncated", "") FLD(s, "content", "")
    FLD(s, "content_url", "contentUrl") FLD(n, "content_length", "contentLength")
    FLD(t, "expires_at", "expiresAt") FLD(a, "warnings", "");
static const char F_ENTRY[] = FLD(s, "path", "") FLD(s, "entry_type", "type") FLD(n, "mode", "")
    FLD(s, "owner", "") FLD(s, "group", "") FLD(n, "size", "") FLD(t, "modified_at", "")
    FLD(t, "created_at", "");

/* Makes v the string t (keeping its member name). */
static void jv_become_str(jv *v, const char *t) {
    free(v->s);
    v->t = J_STR;
    v->s = xstrdup(t);
    v->n = strlen(t);
}

/* SandboxStatus and SnapshotStatus (state "Unknown" when there is none). */
static jv *shape_status(const jv *st) {
    jv *o = shape_fields(st && st->t == J_OBJ ? st : NULL, F_STATUS);
    if (!st || st->t != J_OBJ) jv_become_str(o->kid, "Unknown");
    return o;
}

/* SandboxInfo. */
static jv *shape_sandbox(const jv *w) {
    jv *o = jobj(), *img = jget(w, "image"), *pf = jget(w, "platform"), *md = jget(w, "metadata");
    jset_raw(o, "id", jstrof(jget(w, "id")));
    jset_raw(o, "status", shape_status(jget(w, "status")));
    jset_raw(o, "entrypoint", jcopy(jget(w, "entrypoint"), J_ARR));
    jset_raw(o, "expires_at", jtime(jget(w, "expiresAt")));
    jset_raw(o, "created_at", jtime(jget(w, "createdAt")));
    if (img && img->t == J_OBJ) {
        jv *i = jobj(), *au = jget(img, "auth");
        jset_raw(i, "image", jstrof(jget(img, "uri")));
        if (au && jstr(au, "username") && jstr(au, "password") && jget(au, "username")->t == J_STR &&
            jget(au, "password")->t == J_STR) {
            jv *a = jobj();
            jset_str(a, "username", jstr(au, "username"));
            jset_str(a, "password", jstr(au, "password"));
            jset_raw(i, "auth", a);
        } else {
            jset_raw(i, "auth", jv_new(J_NULL));
        }
        jset_raw(o, "image", i);
    } else {
        jset_raw(o, "image", jv_new(J_NULL));
    }
    jset_raw(o, "snapshot_id", jstrof(jget(w, "snapshotId")));
    if (pf && pf->t == J_OBJ) {
        jv *p = jobj();
        jset_raw(p, "os", jstrof(jget(pf, "os")));
        jset_raw(p, "arch", jstrof(jget(pf, "arch")));
        jset_raw(o, "platform", p);
    } else {
        jset_raw(o, "platform", jv_new(J_NULL));
    }
    jset_raw(o, "metadata", md && md->t == J_OBJ ? jdup(md) : jobj());
    return o;
}

static jv *shape_pagination(const jv *w) { return shape_fields(w, F_PAGINATION); }

/* {"items": [...], "pagination": {...}} of sandbox list (and snapshot list). */
static jv *shape_page(const jv *w, jv *(*item)(const jv *)) {
    jv *o = jobj(), *items = jv_new(J_ARR), *it = jget(w, "items");
    const jv *c;
    for (c = it && it->t == J_ARR ? it->kid : NULL; c; c = c->next) jv_add(items, item(c));
    jset_raw(o, "items", items);
    jset_raw(o, "pagination", shape_pagination(jget(w, "pagination")));
    return o;
}

static jv *shape_sandbox_page(const jv *w) { return shape_page(w, shape_sandbox); }

/* SnapshotInfo (not printed by the official CLI; the SDK's model). */
static jv *shape_snapshot(const jv *w) {
    jv *o = jobj();
    jset_raw(o, "id", jstrof(jget(w, "id")));
    jset_raw(o, "sandbox_id", jstrof(jget(w, "sandboxId")));
    jset_raw(o, "name", jstrof(jget(w, "name")));
    jset_raw(o, "status", shape_status(jget(w, "status")));
    jset_raw(o, "created_at", jtime(jget(w, "createdAt")));
    return o;
}

static jv *shape_snapshot_page(const jv *w) { return shape_page(w, shape_snapshot); }

/* SandboxEndpoint. */
static jv *shape_endpoint(const jv *w) {
    jv *o = jobj(), *h = jget(w, "headers");
    jset_raw(o, "endpoint", jstrof(jget(w, "endpoint")));
    jset_raw(o, "headers", h && h->t == J_OBJ ? jdup(h) : jobj());
    return o;
}

/* SandboxMetrics, from execd's metrics document. */
static jv *shape_metrics(const jv *w) { return shape_fields(w, F_METRICS); }

/* CommandStatus. */
static jv *shape_command_status(const jv *w) { return shape_fields(w, F_COMMAND_STATUS); }

/* NetworkPolicy: what `egress get` prints (the policy of the status). */
static jv *shape_policy(const jv *w) {
    jv *o = jobj(), *p = jget(w, "policy"), *eg, *rules;
    const jv *c;
    if (!p || p->t != J_OBJ) p = (jv *)w;
    eg = jget(p, "egress");
    jset_raw(o, "default_action", jget(p, "defaultAction") ? jstrof(jget(p, "defaultAction")) : jstrv("deny"));
    if (eg && eg->t == J_ARR) {
        rules = jv_new(J_ARR);
        for (c = eg->kid; c; c = c->next) {
            jv *r = jobj();
            jset_raw(r, "action", jstrof(jget(c, "action")));
            jset_raw(r, "target", jstrof(jget(c, "target")));
            jv_add(rules, r);
        }
        jset_raw(o, "egress", rules);
    } else {
        jset_raw(o, "egress", jv_new(J_NULL));
    }
    return o;
}

/* CredentialMetadata. */
static jv *shape_credential(const jv *w) { return shape_fields(w, F_CREDENTIAL); }

/* CredentialBindingMetadata. */
static jv *shape_binding(const jv *w) {
    jv *o = jobj(), *m = jget(w, "match"), *a = jget(w, "auth");
    jset_raw(o, "name", jstrof(jget(w, "name")));
    jset_raw(o, "revision", jcopy(jget(w, "revision"), J_NUM));
    if (m && m->t == J_OBJ) {
        jv *x = jobj();
        jset_raw(x, "schemes", jcopy(jget(m, "schemes"), J_ARR));
        jset_raw(x, "ports", jcopy(jget(m, "ports"), J_ARR));
        jset_raw(x, "hosts", jcopy(jget(m, "hosts"), J_ARR));
        jset_raw(x, "methods", jcopy(jget(m, "methods"), J_ARR));
        jset_raw(x, "paths", jcopy(jget(m, "paths"), J_ARR));
        jset_raw(o, "match", x);
    } else {
        jset_raw(o, "match", jv_new(J_NULL));
    }
    if (a && a->t == J_OBJ) {
        jv *x = jobj();
        jset_raw(x, "type", jstrof(jget(a, "type")));
        jset_raw(x, "name", jstrof(jget(a, "name")));
        jset_raw(o, "auth", x);
    } else {
        jset_raw(o, "auth", jv_new(J_NULL));
    }
    return o;
}

static jv *shape_list(const jv *arr, jv *(*item)(const jv *)) {
    jv *l = jv_new(J_ARR);
    const jv *c;
    for (c = arr && arr->t == J_ARR ? arr->kid : NULL; c; c = c->next) jv_add(l, item(c));
    return l;
}

/* CredentialVaultState. */
static jv *shape_vault(const jv *w) {
    jv *o = jobj();
    jset_raw(o, "revision", jcopy(jget(w, "revision"), J_NUM));
    jset_raw(o, "credentials", shape_list(jget(w, "credentials"), shape_credential));
    jset_raw(o, "bindings", shape_list(jget(w, "bindings"), shape_binding));
    return o;
}

/* `credential list` and `binding list` print the bare lists. */
static jv *shape_credential_list(const jv *w) { return shape_list(jget(w, "credentials"), shape_credential); }
static jv *shape_binding_list(const jv *w) { return shape_list(jget(w, "bindings"), shape_binding); }

/* DiagnosticContent. */
static jv *shape_diagnostic(const jv *w) { return shape_fields(w, F_DIAGNOSTIC); }

/* EntryInfo (file search, file ls); path: the name to use when the entry
 * has none. */
static jv *shape_entry_at(const jv *w, const char *path) {
    jv *o = shape_fields(w, F_ENTRY);
    if (!jstr(w, "path") && path) jv_become_str(o->kid, path);
    return o;
}

static jv *shape_entry(const jv *w) { return shape_entry_at(w, NULL); }
static jv *shape_entries(const jv *w) { return shape_list(w, shape_entry); }

/* `file info`: one row per path, {"path": ..., then the entry}. */
static jv *shape_file_info(const jv *w) {
    jv *l = jv_new(J_ARR);
    const jv *c;
    for (c = w && w->t == J_OBJ ? w->kid : NULL; c; c = c->next) jv_add(l, shape_entry_at(c, c->k));
    return l;
}

/* Python's str(timedelta(seconds=secs)): "0:10:00", "1 day, 2:00:00". */
static void py_timedelta(long long secs, char *out, size_t cap) {
    long long d = secs / 86400, r = secs % 86400;
    if (d) osb__fmt(out, cap, "%lld day%s, %lld:%02lld:%02lld", d, d == 1 ? "" : "s", r / 3600, r / 60 % 60, r % 60);
    else osb__fmt(out, cap, "%lld:%02lld:%02lld", r / 3600, r / 60 % 60, r % 60);
}

/* The official success(), info() and warning() messages in json/yaml. */
static jv *status_msg(const char *status, const char *fmt, ...) {
    char tmp[2048];
    va_list ap;
    jv *o = jobj();
    va_start(ap, fmt);
    osb__vfmt(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    jset_str(o, "status", status);
    jset_str(o, "message", tmp);
    return o;
}

/* A wire document: json/yaml as the official shape, table/raw as it came. */
static int show_shaped(const jv *wire, jv *(*shape)(const jv *), const view *vw) {
    if (!wire) return EX_OK;
    if (strcmp(g_out, "json") == 0 || strcmp(g_out, "yaml") == 0) {
        jv *d = shape(wire);
        show(d, vw);
        jv_free(d);
    } else {
        show(wire, vw);
    }
    return EX_OK;
}

static int show_raw_shaped(osb_str raw, jv *(*shape)(const jv *), const view *vw) {
    jv *doc = raw.ptr ? jparse(raw.ptr, raw.len) : NULL;
    if (!doc) return show_raw(raw, vw);
    show_shaped(doc, shape, vw);
    jv_free(doc);
    return EX_OK;
}
