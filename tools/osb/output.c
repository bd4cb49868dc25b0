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
typedef struct out {
    FILE *f;
} out;

static void json_escape(FILE *f, const char *s, size_t n) {
    size_t i;
    fputc('"', f);
    for (i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        switch (c) {
        case '"': fputs("\\\"", f); break;
        case '\\': fputs("\\\\", f); break;
        case '\n': fputs("\\n", f); break;
        case '\r': fputs("\\r", f); break;
        case '\t': fputs("\\t", f); break;
        case '\b': fputs("\\b", f); break;
        case '\f': fputs("\\f", f); break;
        default:
            if (c < 0x20 || c == 0x7f) fprintf(f, "\\u%04x", c);
            else fputc(c, f);
        }
    }
    fputc('"', f);
}

static void indent(FILE *f, int n) {
    while (n-- > 0) fputc(' ', f);
}

static void emit_json(FILE *f, const jv *v, int ind, int pretty) {
    const jv *c;
    switch (v->t) {
    case J_NULL: fputs("null", f); return;
    case J_TRUE: fputs("true", f); return;
    case J_FALSE: fputs("false", f); return;
    case J_NUM: fputs(v->s, f); return;
    case J_STR: json_escape(f, v->s, v->n); return;
    default: break;
    }
    fputc(v->t == J_OBJ ? '{' : '[', f);
    if (!v->kid) {
        fputc(v->t == J_OBJ ? '}' : ']', f);
        return;
    }
    for (c = v->kid; c; c = c->next) {
        if (pretty) {
            fputc('\n', f);
            indent(f, ind + 2);
        }
        if (v->t == J_OBJ) {
            json_escape(f, c->k, strlen(c->k));
            fputs(pretty ? ": " : ":", f);
        }
        emit_json(f, c, ind + 2, pretty);
        if (c->next) fputc(',', f);
    }
    if (pretty) {
        fputc('\n', f);
        indent(f, ind);
    }
    fputc(v->t == J_OBJ ? '}' : ']', f);
}

/* Compact JSON into a buffer (for table cells). */
static void emit_json_buf(osb_buf *b, const jv *v) {
    char *mem = NULL;
    size_t len = 0;
    FILE *f = NULL;
#if defined(__GLIBC__) || defined(__linux__)
    f = open_memstream(&mem, &len);
#endif
    if (!f) {
        bput(b, "...");
        return;
    }
    emit_json(f, v, 0, 0);
    fclose(f);
    bputn(b, mem, len);
    free(mem);
}

static int yaml_plain_ok(const char *s, size_t n) {
    size_t i;
    static const char *const words[] = {"true", "false", "yes", "no", "on", "off", "null", "~", "y", "n"};
    char *end;
    if (n == 0) return 0;
    if (!isalnum((unsigned char)s[0]) && s[0] != '/' && s[0] != '_' && s[0] != '.') return 0;
    for (i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (!(isalnum(c) || c == '_' || c == '-' || c == '.' || c == '/' || c == '+' || c == '@' || c >= 0x80 ||
              (c == ':' && i + 1 < n && s[i + 1] != ' ') || (c == ' ' && i + 1 < n && s[i + 1] != '#' && s[i + 1] != ' ')))
            return 0;
    }
    if (s[n - 1] == ' ' || s[n - 1] == ':') return 0;
    for (i = 0; i < sizeof words / sizeof words[0]; i++)
        if (streq_ci(s, words[i])) return 0;
    strtod(s, &end);
    if (*end == 0) return 0;  /* looks like a number */
    return 1;
}

static void yaml_scalar(FILE *f, const jv *v) {
    switch (v->t) {
    case J_NULL: fputs("null", f); break;
    case J_TRUE: fputs("true", f); break;
    case J_FALSE: fputs("false", f); break;
    case J_NUM: fputs(v->s, f); break;
    case J_STR:
        if (yaml_plain_ok(v->s, v->n)) fputs(v->s, f);
        else json_escape(f, v->s, v->n);
        break;
    default:
        fputs(v->t == J_OBJ ? "{}" : "[]", f);
    }
}

static int jv_is_container(const jv *v) { return (v->t == J_OBJ || v->t == J_ARR) && v->kid; }

static void emit_yaml(FILE *f, const jv *v, int ind) {
    const jv *c;
    if (!jv_is_container(v)) {
        indent(f, ind);
        yaml_scalar(f, v);
        fputc('\n', f);
        return;
    }
    for (c = v->kid; c; c = c->next) {
        indent(f, ind);
        if (v->t == J_OBJ) {
            if (yaml_plain_ok(c->k, strlen(c->k))) fputs(c->k, f);
            else json_escape(f, c->k, strlen(c->k));
            fputc(':', f);
            if (jv_is_container(c)) {
                fputc('\n', f);
                emit_yaml(f, c, c->t == J_ARR ? ind : ind + 2);
            } else {
                fputc(' ', f);
                yaml_scalar(f, c);
                fputc('\n', f);
            }
        } else {
            fputs("- ", f);
            if (c->t == J_OBJ && c->kid) {
                /* first member on the dash line, the rest indented */
                const jv *m;
                int first = 1;
                for (m = c->kid; m; m = m->next) {
                    if (!first) indent(f, ind + 2);
                    first = 0;
                    if (yaml_plain_ok(m->k, strlen(m->k))) fputs(m->k, f);
                    else json_escape(f, m->k, strlen(m->k));
                    fputc(':', f);
                    if (jv_is_container(m)) {
                        fputc('\n', f);
                        emit_yaml(f, m, m->t == J_ARR ? ind + 2 : ind + 4);
                    } else {
                        fputc(' ', f);
                        yaml_scalar(f, m);
                        fputc('\n', f);
                    }
                }
            } else if (jv_is_container(c)) {
                fputc('\n', f);
                emit_yaml(f, c, ind + 2);
            } else {
                yaml_scalar(f, c);
                fputc('\n', f);
            }
        }
    }
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
            if (r == 0 && g_color) fputs("\033[1m", stdout);
            fputs(s, stdout);
            if (r == 0 && g_color) fputs("\033[0m", stdout);
            if (c + 1 < t->ncols) {
                size_t pad = w[c] - utf8_width(s) + 2;
                while (pad--) fputc(' ', stdout);
            }
        }
        fputc('\n', stdout);
    }
    for (r = 0; r < t->nrows * t->ncols; r++) free(t->cells[r]);
    free(t->cells);
    free(w);
}

/* Columns "HEADER=path,HEADER=path". */
static void table_of_list(const jv *items, const char *cols) {
    table t;
    char *spec = xstrdup(cols), *save = NULL, *tok;
    const char *paths[32];
    char *heads[32];
    int n = 0, i;
    const jv *it;
    for (tok = strtok_r(spec, ",", &save); tok && n < 32; tok = strtok_r(NULL, ",", &save)) {
        char *eq = strchr(tok, '=');
        if (!eq) continue;
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
    if (strcmp(g_out, "json") == 0) {
        emit_json(stdout, doc, 0, 1);
        fputc('\n', stdout);
    } else if (strcmp(g_out, "yaml") == 0) {
        if (!jv_is_container(doc)) {
            yaml_scalar(stdout, doc);
            fputc('\n', stdout);
        } else {
            emit_yaml(stdout, doc, 0);
        }
    } else if (strcmp(g_out, "raw") == 0) {
        if (doc->t == J_STR) fputs(doc->s, stdout);
        else emit_json(stdout, doc, 0, 0);
        fputc('\n', stdout);
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
                    fprintf(stdout, "(page %s of %s, %s total)\n", jstr(pg, "page") ? jstr(pg, "page") : "?",
                            jstr(pg, "totalPages") ? jstr(pg, "totalPages") : "?", jstr(pg, "totalItems"));
            }
        } else if (doc->t == J_OBJ) {
            if (doc->kid) table_of_object(doc);
        } else {
            osb_buf b;
            memset(&b, 0, sizeof b);
            cell_text(&b, doc);
            printf("%s\n", bstr(&b));
            osb_buf_free(&b);
        }
    }
    fflush(stdout);
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
    snprintf(tmp, sizeof tmp, "%lld", n);
    v->s = xstrdup(tmp);
    v->n = strlen(tmp);
    jset_raw(o, k, v);
}

static void jset_bool(jv *o, const char *k, int b) { jset_raw(o, k, jv_new(b ? J_TRUE : J_FALSE)); }

/* >>output-helpers ========================================================= */
static int check_output(const cmd *c, const char *o) {
    const char *p = c->outputs ? c->outputs : "table,json,yaml";
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
        vprintf(fmt, ap);
        va_end(ap);
        fputc('\n', stdout);
        fflush(stdout);
    }
    jv_free(doc);
    return EX_OK;
}
