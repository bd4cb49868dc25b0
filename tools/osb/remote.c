/* tools/osb/remote.c -- requests: HTTP calls, errors as exit codes, connecting to a sandbox.
 * Part of osb: built as one translation unit by main.c. */

/* >>http =================================================================== */
static int exit_for_status(int st) {
    switch (st) {
    case 404: case 410: return EX_NOTFOUND;
    case 401: case 403: return EX_AUTH;
    case 400: case 405: case 413: case 414: case 415: case 422: case 426: return EX_REJECTED;
    case 409: case 412: case 416: case 423: return EX_CONFLICT;
    case 429: case 503: case 507: return EX_BUSY;
    case 501: return EX_NOTIMPL;
    default: return st >= 500 ? EX_SERVER : EX_ERROR;
    }
}

static int exit_for(osb_err e, const osb_error *d) {
    switch (e) {
    case OSB_OK: return EX_OK;
    case OSB_ERR_HTTP: return exit_for_status(d ? d->http_status : 0);
    case OSB_ERR_DNS: case OSB_ERR_CONNECT: case OSB_ERR_TLS: case OSB_ERR_PROTOCOL:
    case OSB_ERR_TRUNCATED: case OSB_ERR_CLOSED: return EX_CONNECT;
    case OSB_ERR_TIMEOUT: return EX_TIMEOUT;
    case OSB_ERR_CANCELLED: return EX_INTERRUPTED;
    case OSB_ERR_UNSUPPORTED: return d && d->http_status == 501 ? EX_NOTIMPL : EX_UNAVAILABLE;
    case OSB_ERR_IO: return EX_LOCALIO;
    case OSB_ERR_SERVER: case OSB_ERR_JSON: case OSB_ERR_TOO_LARGE: return EX_SERVER;
    case OSB_ERR_INVALID_ARG: return EX_USAGE;
    case OSB_ERR_STATE: return EX_CONFLICT;
    default: return EX_ERROR;
    }
}

/* Prints the failure of the last call: the server's code, message and
 * request id (the library never puts a credential in these). */
static int report(osb_err e, const char *what) {
    const osb_error *d = CLI ? osb_client_error(CLI) : NULL;
    int code = exit_for(e, d);
    if (g_sigint) {
        out_fmt(1, "%s: interrupted\n", g_prog);
        return EX_INTERRUPTED;
    }
    out_fmt(1, "%s: error: %s", g_prog, what ? what : osb_strerror(e));
    if (d && d->message[0]) out_fmt(1, ": %s", d->message);
    out_put(1, "\n", 1);
    if (d) {
        if (d->http_status) out_fmt(1, "  status:     %d\n", d->http_status);
        if (d->server_code[0]) out_fmt(1, "  code:       %s\n", d->server_code);
        if (d->request_id[0]) out_fmt(1, "  request id: %s\n", d->request_id);
        if (e == OSB_ERR_TIMEOUT && d->phase) out_fmt(1, "  phase:      %s\n", osb_phase_name(d->phase));
    }
    if (e == OSB_ERR_UNSUPPORTED && strcmp(C.protocol, "https") == 0)
        out_fmt(1, "  this build has no TLS: https is not available in this build\n");
    return code;
}

static int make_client(void) {
    osb_err e;
    CFG.client.user_agent = "osb/" OSB_VERSION_STRING " (opensandbox.h)";
    if (CFG.request_timeout_ms > 0) CFG.client.timeouts.first_byte_ms = CFG.request_timeout_ms;
    e = osb_client_new(&CFG.client, &CLI);
    if (e == OSB_OK && G.verbose) {
        const osb_url *u = osb_client_url(CLI);
        out_fmt(1, "%s: server %s://%s:%u%s (domain from %s, API key from %s)\n", g_prog, u->https ? "https" : "http", u->host, (unsigned)u->port, u->prefix, CFG.domain_source ? CFG.domain_source : "-", C.api_key[0] ? (CFG.api_key_source ? CFG.api_key_source : "-") : "nowhere");
    }
    if (e != OSB_OK) {
        if (e == OSB_ERR_UNSUPPORTED)
            return errorf(EX_UNAVAILABLE, "%s is not available in this build (no TLS)", C.protocol);
        return errorf(EX_USAGE, "invalid domain '%s': %s", C.domain, osb_strerror(e));
    }
    return EX_OK;
}

/* Where a request goes: NULL = the lifecycle server, else an endpoint. */
typedef struct ep {
    char base[1100];       /* scheme://endpoint, no trailing slash */
    char *hdrs[17];        /* "Name: value" */
    int nhdrs;
} ep;

typedef struct rq {
    const char *method;
    const ep *to;
    osb_buf path, query;   /* path: encoded; query: encoded, no '?' */
    const char *ctype;
    const char *body;
    size_t blen;
    const char *extra_hdr[4];
    osb_read_fn reader;
    void *reader_user;
    int64_t reader_len;
    osb_write_fn sink;
    void *sink_user;
    osb_header_fn on_header;
    void *on_header_user;
    int stream, accept_error, no_cancel;
} rq;

static void rq_init(rq *r, const char *method, const ep *to) {
    memset(r, 0, sizeof *r);
    r->method = method;
    r->to = to;
}

static void rq_free(rq *r) {
    osb_buf_free(&r->path);
    osb_buf_free(&r->query);
}

static void rq_json(rq *r, const osb_buf *b) {
    r->ctype = "application/json";
    r->body = bstr(b);
    r->blen = b->len;
}

/* Sends r; res gets the answer. Returns the osb_err. */
static osb_err rq_send(rq *r, osb_http_response *res) {
    osb_http_request q;
    osb_buf url;
    const char *hdrs[24];
    int nh = 0, i;
    osb_err e;
    memset(&q, 0, sizeof q);
    memset(&url, 0, sizeof url);
    q.method = r->method;
    if (r->to) {
        bput(&url, r->to->base);
        bput(&url, bstr(&r->path));
        q.url = url.data;
        for (i = 0; i < r->to->nhdrs; i++) hdrs[nh++] = r->to->hdrs[i];
    } else {
        q.path = bstr(&r->path);
    }
    for (i = 0; i < 4 && r->extra_hdr[i]; i++) hdrs[nh++] = r->extra_hdr[i];
    hdrs[nh] = NULL;
    q.headers = nh ? hdrs : NULL;
    q.query = r->query.len ? r->query.data : NULL;
    q.content_type = r->ctype;
    q.body = r->body;
    q.body_len = r->blen;
    if (r->reader) {
        q.body_reader = r->reader;
        q.body_reader_user = r->reader_user;
        q.body_reader_len = r->reader_len;
    }
    q.sink = r->sink;
    q.sink_user = r->sink_user;
    q.on_header = r->on_header;
    q.on_header_user = r->on_header_user;
    q.stream = r->stream;
    q.accept_error_body = r->accept_error;
    q.cancel = r->no_cancel ? NULL : &g_cancel;
    if (G.verbose)
        out_fmt(1, "> %s %s%s%s%s\n", r->method, r->to ? r->to->base : C.domain, bstr(&r->path), r->query.len ? "?" : "", bstr(&r->query));
    memset(res, 0, sizeof *res);
    e = osb_request_raw(CLI, &q, res);
    if (G.verbose) {
        if (e == OSB_OK)
            out_fmt(1, "< %d%s%s\n", res->status, res->request_id[0] ? " request-id " : "", res->request_id);
        else
            out_fmt(1, "< %s (HTTP %d)\n", osb_strerror(e), osb_client_error(CLI)->http_status);
    }
    osb_buf_free(&url);
    return e;
}

/* A JSON call: sends, parses the body (may be empty: *out NULL). Prints
 * the error and returns the exit code on failure. */
static int call_json(rq *r, jv **out, const char *what) {
    osb_http_response res;
    osb_err e = rq_send(r, &res);
    int code = EX_OK;
    *out = NULL;
    if (e != OSB_OK) {
        code = report(e, what);
    } else if (res.body.len) {
        *out = jparse(res.body.data, res.body.len);
        if (!*out) {
            /* plain text answers (legacy diagnostics) become one string */
            jv *s = jv_new(J_STR);
            s->s = xstrndup(res.body.data, res.body.len);
            s->n = res.body.len;
            *out = s;
        }
    }
    osb_http_response_free(&res);
    rq_free(r);
    return code;
}

static void ep_free(ep *e) {
    int i;
    for (i = 0; i < e->nhdrs; i++) free(e->hdrs[i]);
    e->nhdrs = 0;
}

/* >>sandbox-handle ========================================================= */
/* Commands that work inside a sandbox connect to it through the sandbox
 * layer (endpoint resolution, server proxy, forwarded headers) without a
 * health check, as the official CLI does. */
static osb_sandbox *SB;
static const osb_target *EXECD, *EGRESS;

static int connect_sb(const char *id, int want_egress) {
    osb_sandbox_options o;
    osb_err e;
    memset(&o, 0, sizeof o);
    o.use_server_proxy = C.use_server_proxy;
    o.skip_health_check = 1;
    o.skip_egress = !want_egress;
    e = osb_sandbox_connect(CLI, id, &o, &SB);
    if (e != OSB_OK) return report(e, "cannot reach the sandbox");
    EXECD = osb_sandbox_execd(SB);
    EGRESS = osb_sandbox_egress(SB);
    if (G.verbose) {
        /* URLs only: endpoint header values are access tokens */
        if (EXECD) out_fmt(1, "%s: execd %s\n", g_prog, EXECD->url);
        if (EGRESS) out_fmt(1, "%s: egress %s\n", g_prog, EGRESS->url);
    }
    if (want_egress && !EGRESS) return errorf(EX_SERVER, "sandbox %s has no egress endpoint", id);
    return EX_OK;
}

/* A target as an ep for the few raw calls (credential-vault payloads). */
static void ep_from_target(const osb_target *t, ep *out) {
    int i;
    memset(out, 0, sizeof *out);
    if (osb__strstr(t->url, "://")) osb__fmt(out->base, sizeof out->base, "%s", t->url);
    else osb__fmt(out->base, sizeof out->base, "%s://%s", C.protocol, t->url);
    for (i = 0; t->headers && t->headers[i] && out->nhdrs < 16; i++) out->hdrs[out->nhdrs++] = xstrdup(t->headers[i]);
}

/* K=V strings into osb_pair (pointing into the argument strings). */
static int pairs_of(const char *const *kvs, int n, osb_pair **out, const char *what) {
    int i;
    osb_pair *p = (osb_pair *)xmalloc(sizeof *p * (size_t)(n + 1));
    for (i = 0; i < n; i++) {
        const char *eq = strchr(kvs[i], '=');
        if (!eq || eq == kvs[i]) {
            free(p);
            return usage_error("invalid %s '%s' (expected KEY=VALUE)", what, kvs[i]);
        }
        p[i].key = xstrndup(kvs[i], (size_t)(eq - kvs[i]));
        p[i].value = eq + 1;
    }
    *out = p;
    return EX_OK;
}
