/* tools/osb/vault.c -- osb credential-vault ... (and the YAML payload reader).
 * Part of osb: built as one translation unit by main.c. */

/* >>yaml =================================================================== */
/* The YAML the official CLI accepts for credential-vault payloads, read into
 * the same tree as JSON: block mappings and sequences, "- key: value" items,
 * plain / single- / double-quoted scalars, flow [a, b] and {k: v} of scalars,
 * comments. Anchors, tags and block scalars (| >) are refused. */
typedef struct yline {
    int ind;
    char *text;     /* after the indentation, comment and trailing spaces removed */
} yline;

static jv *y_scalar(const char *s, size_t n) {
    jv *v;
    char tmp[64];
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t')) n--;
    if (n >= 2 && s[0] == '"' && s[n - 1] == '"') {
        jv *j = jparse(s, n);   /* JSON escapes are a subset of YAML's */
        if (j && j->t == J_STR) return j;
        jv_free(j);
    }
    if (n >= 2 && s[0] == '\'' && s[n - 1] == '\'') {
        osb_buf b;
        size_t i;
        memset(&b, 0, sizeof b);
        for (i = 1; i + 1 < n; i++) {
            bputn(&b, s + i, 1);
            if (s[i] == '\'' && s[i + 1] == '\'') i++;
        }
        v = jv_new(J_STR);
        v->s = b.data ? b.data : xstrdup("");
        v->n = b.len;
        return v;
    }
    if (n == 0 || (n == 1 && s[0] == '~') || (n == 4 && memcmp(s, "null", 4) == 0)) return jv_new(J_NULL);
    if (n == 4 && memcmp(s, "true", 4) == 0) return jv_new(J_TRUE);
    if (n == 5 && memcmp(s, "false", 5) == 0) return jv_new(J_FALSE);
    if (n < sizeof tmp) {
        memcpy(tmp, s, n);
        tmp[n] = 0;
        if ((isdigit((unsigned char)tmp[0]) || tmp[0] == '-') && strspn(tmp, "0123456789+-.eE") == n) {
            jv *num = jparse(tmp, n);   /* only JSON-shaped numbers stay numbers */
            if (num && num->t == J_NUM) return num;
            jv_free(num);
        }
    }
    v = jv_new(J_STR);
    v->s = xstrndup(s, n);
    v->n = n;
    return v;
}

/* Flow collections, nested: [a, "b", [c]] and {k: v, m: {n: [1, 2]}}.
 * Parses the node at s[*i] (n bytes in all) and moves *i past it. */
static jv *y_flow_at(const char *s, size_t n, size_t *i) {
    while (*i < n && s[*i] == ' ') (*i)++;
    if (*i < n && (s[*i] == '[' || s[*i] == '{')) {
        int obj = s[*i] == '{';
        char close = obj ? '}' : ']';
        jv *v = jv_new(obj ? J_OBJ : J_ARR);
        (*i)++;
        for (;;) {
            jv *item, *key = NULL;
            while (*i < n && s[*i] == ' ') (*i)++;
            if (*i < n && s[*i] == close) { (*i)++; return v; }
            if (*i >= n) break;
            if (obj) {
                size_t st = *i;
                char quote = 0;
                for (; *i < n; (*i)++) {
                    if (quote) { if (s[*i] == quote) quote = 0; continue; }
                    if (s[*i] == '"' || s[*i] == '\'') quote = s[*i];
                    else if (s[*i] == ':' || s[*i] == ',' || s[*i] == close) break;
                }
                if (*i >= n || s[*i] != ':') break;
                key = y_scalar(s + st, *i - st);
                (*i)++;
            }
            item = y_flow_at(s, n, i);
            if (!item || (obj && !key->s)) { jv_free(key); jv_free(item); break; }
            if (obj) {
                item->k = xstrdup(key->s);
                jv_free(key);
            }
            jv_add(v, item);
            while (*i < n && s[*i] == ' ') (*i)++;
            if (*i < n && s[*i] == ',') (*i)++;
            else if (!(*i < n && s[*i] == close)) break;
        }
        jv_free(v);
        return NULL;
    } else {
        size_t st = *i;
        char quote = 0;
        for (; *i < n; (*i)++) {
            if (quote) { if (s[*i] == quote) quote = 0; continue; }
            if (*i == st && (s[*i] == '"' || s[*i] == '\'')) quote = s[*i];
            else if (s[*i] == ',' || s[*i] == ']' || s[*i] == '}') break;
        }
        return y_scalar(s + st, *i - st);
    }
}

static jv *y_flow(const char *s, size_t n) {
    size_t i = 0;
    jv *v = y_flow_at(s, n, &i);
    while (i < n && s[i] == ' ') i++;
    if (v && i != n) {
        jv_free(v);
        return NULL;
    }
    return v;
}

static jv *y_value(const char *s) {
    size_t n = strlen(s);
    if (n >= 2 && ((s[0] == '[' && s[n - 1] == ']') || (s[0] == '{' && s[n - 1] == '}'))) return y_flow(s, n);
    if (n && (s[0] == '&' || s[0] == '*' || s[0] == '!' || s[0] == '|' || s[0] == '>')) return NULL;
    return y_scalar(s, n);
}

/* Where "key:" ends in a mapping line (the colon), or NULL. */
static const char *y_colon(const char *t) {
    char quote = 0;
    const char *p;
    for (p = t; *p; p++) {
        if (quote) { if (*p == quote) quote = 0; continue; }
        if ((*p == '"' || *p == '\'') && p == t) { quote = *p; continue; }
        if (*p == ':' && (p[1] == ' ' || p[1] == 0)) return p;
    }
    return NULL;
}

static jv *y_block(yline *L, int n, int *i, int ind);

static jv *y_seq(yline *L, int n, int *i, int ind) {
    jv *seq = jv_new(J_ARR);
    while (*i < n && L[*i].ind == ind && L[*i].text[0] == '-' && (L[*i].text[1] == ' ' || !L[*i].text[1])) {
        char *rest = L[*i].text + 1;
        int col = ind + 1;
        jv *item;
        while (*rest == ' ') { rest++; col++; }
        if (!*rest) {
            (*i)++;
            item = *i < n && L[*i].ind > ind ? y_block(L, n, i, L[*i].ind) : jv_new(J_NULL);
        } else if (y_colon(rest) && rest[0] != '[' && rest[0] != '{') {
            /* "- key: value": a mapping whose first line starts at col */
            L[*i].ind = col;
            L[*i].text = rest;
            item = y_block(L, n, i, col);
        } else {
            item = y_value(rest);
            (*i)++;
        }
        if (!item) { jv_free(seq); return NULL; }
        jv_add(seq, item);
    }
    return seq;
}

static jv *y_block(yline *L, int n, int *i, int ind) {
    jv *map;
    if (*i >= n) return jv_new(J_NULL);
    if (L[*i].text[0] == '-' && (L[*i].text[1] == ' ' || !L[*i].text[1])) return y_seq(L, n, i, ind);
    map = jv_new(J_OBJ);
    while (*i < n && L[*i].ind == ind) {
        const char *t = L[*i].text, *colon = y_colon(t);
        jv *k, *v;
        if (!colon) { jv_free(map); return NULL; }
        k = y_scalar(t, (size_t)(colon - t));
        (*i)++;
        if (colon[1]) {
            v = y_value(colon + 1 + strspn(colon + 1, " "));
        } else if (*i < n && L[*i].ind > ind) {
            v = y_block(L, n, i, L[*i].ind);
        } else if (*i < n && L[*i].ind == ind && L[*i].text[0] == '-') {
            v = y_seq(L, n, i, ind);
        } else {
            v = jv_new(J_NULL);
        }
        if (!v || !k->s) { jv_free(k); jv_free(v); jv_free(map); return NULL; }
        v->k = xstrdup(k->s);
        jv_free(k);
        jv_add(map, v);
    }
    return map;
}

static jv *yaml_parse(char *text) {
    yline *L = NULL;
    int n = 0, cap = 0, i = 0;
    char *p = text, *line;
    jv *doc;
    while ((line = p) != NULL && *p) {
        char *nl = strchr(p, '\n'), *q, quote = 0;
        int ind = 0;
        if (nl) *nl = 0;
        p = nl ? nl + 1 : NULL;
        while (line[ind] == ' ') ind++;
        if (line[ind] == '\t') { free(L); return NULL; }
        for (q = line + ind; *q; q++) {
            if (quote) { if (*q == quote) quote = 0; continue; }
            if (*q == '"' || *q == '\'') quote = *q;
            else if (*q == '#' && (q == line + ind || q[-1] == ' ')) { *q = 0; break; }
        }
        q = line + strlen(line);
        while (q > line + ind && (q[-1] == ' ' || q[-1] == '\r')) *--q = 0;
        if (!line[ind] || strcmp(line + ind, "---") == 0) {
            if (!p) break;
            continue;
        }
        if (n == cap) {
            cap = cap ? cap * 2 : 32;
            L = (yline *)xrealloc(L, sizeof *L * (size_t)cap);
        }
        L[n].ind = ind;
        L[n].text = line + ind;
        n++;
        if (!p) break;
    }
    doc = n ? y_block(L, n, &i, L[0].ind) : NULL;
    if (doc && i != n) {   /* lines that fit nowhere */
        jv_free(doc);
        doc = NULL;
    }
    free(L);
    return doc;
}

/* >>vault ================================================================== */
static const view V_CREDS = {"NAME=name,SOURCE=sourceType,REVISION=revision", "credentials"};
static const view V_BINDINGS = {"NAME=name,REVISION=revision,HOSTS=match.hosts,AUTH=auth.type", "bindings"};

/* shape: the official document of this answer (json/yaml). */
static int vault_show(osb_str raw, const view *vw, jv *(*shape)(const jv *)) {
    jv *doc = jparse(raw.ptr, raw.len);
    if (!doc) return EX_OK;
    if (strcmp(g_out, "table") == 0 && doc->t == J_OBJ && !vw && jget(doc, "credentials") && jget(doc, "bindings")) {
        out_fmt(0, "revision: %s\n", jstr(doc, "revision") ? jstr(doc, "revision") : "-");
        show(doc, &V_CREDS);
        show(doc, &V_BINDINGS);
    } else {
        show_shaped(doc, shape, vw);
    }
    jv_free(doc);
    return EX_OK;
}

/* create/patch send the payload file as it is (JSON), through the sandbox's
 * egress target. */
static int vault_write(args *a, const char *method) {
    osb_buf body;
    jv *doc;
    rq r;
    ep e;
    int code;
    memset(&body, 0, sizeof body);
    if (read_all(A(a, "file"), &body) != 0) return errorf(EX_LOCALIO, "cannot read %s: %s", A(a, "file"), sys_text(errno));
    doc = jparse(body.data, body.len);
    if (!doc) {
        /* not JSON: a YAML payload, sent as JSON */
        doc = yaml_parse(body.data ? body.data : (char *)"");
        if (doc && doc->t == J_OBJ) {
            osb_buf js;
            memset(&js, 0, sizeof js);
            emit_json_buf(&js, doc);
            osb_buf_free(&body);
            body = js;
        }
    }
    if (!doc || doc->t != J_OBJ) {
        jv_free(doc);
        osb_buf_free(&body);
        return usage_error("%s: expected a JSON or YAML object", strcmp(A(a, "file"), "-") == 0 ? "stdin" : A(a, "file"));
    }
    /* the official CLI's checks: create needs both lists, patch one of the
     * two mutation objects */
    code = EX_OK;
    if (strcmp(method, "POST") == 0) {
        const char *k = !jget(doc, "credentials") || jget(doc, "credentials")->t != J_ARR ? "credentials"
                        : !jget(doc, "bindings") || jget(doc, "bindings")->t != J_ARR  ? "bindings" : NULL;
        if (k) code = usage_error("Credential vault payload field '%s' must be a list.", k);
    } else {
        const jv *c = jget(doc, "credentials"), *b = jget(doc, "bindings");
        if ((c && c->t != J_OBJ && c->t != J_NULL) || (b && b->t != J_OBJ && b->t != J_NULL))
            code = usage_error("Credential vault patch field '%s' must be an object.",
                               c && c->t != J_OBJ && c->t != J_NULL ? "credentials" : "bindings");
        else if ((!c || c->t == J_NULL) && (!b || b->t == J_NULL))
            code = usage_error("Credential vault patch payload must include credentials or bindings.");
    }
    jv_free(doc);
    if (code || (code = connect_sb(a->pos[0], 1)) != 0) {
        osb_buf_free(&body);
        return code;
    }
    ep_from_target(EGRESS, &e);
    rq_init(&r, method, &e);
    bput(&r.path, "/credential-vault");
    rq_json(&r, &body);
    doc = NULL;
    code = call_json(&r, &doc, "credential vault request failed");
    if (!code && doc) {
        osb_buf b;
        osb_str s;
        memset(&b, 0, sizeof b);
        emit_json_buf(&b, doc);
        s.ptr = bstr(&b);
        s.len = b.len;
        vault_show(s, NULL, shape_vault);
        osb_buf_free(&b);
    }
    jv_free(doc);
    ep_free(&e);
    osb_buf_free(&body);
    return code;
}

static int c_vault_create(args *a) { return vault_write(a, "POST"); }
static int c_vault_patch(args *a) { return vault_write(a, "PATCH"); }

/* The vault calls that answer the vault's state, shown with view vw. */
static int vault_state_cmd(args *a, osb_err (*call)(osb_client *, const osb_target *, osb_vault_state **),
                           const view *vw, jv *(*shape)(const jv *), const char *failed) {
    osb_vault_state *s = NULL;
    osb_err e;
    int code = connect_sb(a->pos[0], 1);
    if (code) return code;
    e = call(CLI, EGRESS, &s);
    if (e != OSB_OK) return report(e, failed);
    vault_show(s->raw, vw, shape);
    osb_result_free(s);
    return EX_OK;
}

static int c_vault_get(args *a) {
    return vault_state_cmd(a, osb_vault_get, NULL, shape_vault, "cannot get the credential vault");
}

static int c_vault_cred_list(args *a) {
    return vault_state_cmd(a, osb_vault_credential_list, &V_CREDS, shape_credential_list, "cannot list credentials");
}

static int c_vault_cred_get(args *a) {
    osb_vault_credential *s = NULL;
    osb_err e;
    int code = connect_sb(a->pos[0], 1);
    if (code) return code;
    e = osb_vault_credential_get(CLI, EGRESS, a->pos[1], &s);
    if (e != OSB_OK) return report(e, "cannot get the credential");
    show_raw_shaped(s->raw, shape_credential, NULL);
    osb_result_free(s);
    return EX_OK;
}

static int c_vault_bind_list(args *a) {
    return vault_state_cmd(a, osb_vault_binding_list, &V_BINDINGS, shape_binding_list, "cannot list bindings");
}

static int c_vault_bind_get(args *a) {
    osb_vault_binding *s = NULL;
    osb_err e;
    int code = connect_sb(a->pos[0], 1);
    if (code) return code;
    e = osb_vault_binding_get(CLI, EGRESS, a->pos[1], &s);
    if (e != OSB_OK) return report(e, "cannot get the binding");
    show_raw_shaped(s->raw, shape_binding, NULL);
    osb_result_free(s);
    return EX_OK;
}

static int c_vault_delete(args *a) {
    jv *o;
    osb_err e;
    int code = connect_sb(a->pos[0], 1);
    if (code) return code;
    e = osb_vault_delete(CLI, EGRESS);
    if (e != OSB_OK) return report(e, "cannot delete the credential vault");
    o = jobj();
    jset_str(o, "sandbox_id", a->pos[0]);
    jset_str(o, "status", "deleted");
    return show_msg(o, "Deleted the credential vault of %s", a->pos[0]);
}
