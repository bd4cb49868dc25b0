/* tools/osb/diagnostics.c -- osb diagnostics ... and osb devops ....
 * Part of osb: built as one translation unit by main.c. */

/* >>diagnostics ============================================================ */
static int diag(args *a, int events) {
    osb_diagnostic *d = NULL;
    osb_err e = events ? osb_diagnostics_events(CLI, a->pos[0], A(a, "scope"), &d)
                       : osb_diagnostics_logs(CLI, a->pos[0], A(a, "scope"), &d);
    if (e != OSB_OK) return report(e, "cannot read diagnostics");
    if (strcmp(g_out, "raw") == 0 || strcmp(g_out, "table") == 0) {
        const char *c = d->content.ptr ? d->content.ptr : NULL;
        if (strcmp(g_out, "table") == 0)
            out_fmt(0, "sandbox: %s  kind: %s  scope: %s  delivery: %s%s\n", d->sandbox_id.ptr ? d->sandbox_id.ptr : a->pos[0], d->kind.ptr ? d->kind.ptr : (events ? "events" : "logs"), d->scope.ptr ? d->scope.ptr : A(a, "scope"), d->delivery.ptr ? d->delivery.ptr : "-", d->truncated ? "  (truncated)" : "");
        /* raw (the default) as the official CLI: the inline text and a
         * newline, or the content URL */
        if (d->delivery.ptr && strcmp(d->delivery.ptr, "inline") == 0) {
            out_puts(0, c ? c : "");
            out_put(0, "\n", 1);
        } else if (d->content_url.ptr) {
            out_fmt(0, "%s\n", d->content_url.ptr);
        } else if (c) {
            out_puts(0, c);
            out_put(0, "\n", 1);
        } else {
            osb_result_free(d);
            return errorf(EX_SERVER, "Diagnostic response did not include inline content or a content URL.");
        }
        out_flush();
    } else {
        show_raw_shaped(d->raw, shape_diagnostic, NULL);
    }
    osb_result_free(d);
    return EX_OK;
}

static int c_diag_logs(args *a) { return diag(a, 0); }
static int c_diag_events(args *a) { return diag(a, 1); }

/* devops: the legacy plain-text routes. */
static int devops(args *a, const char *kind) {
    osb_diagnostics_text_req req;
    osb_text *t = NULL;
    long long v;
    osb_err e;
    memset(&req, 0, sizeof req);
    req.kind = kind;
    if (A(a, "tail")) {
        if (parse_int(A(a, "tail"), 1, 1000000, &v) != 0) return usage_error("invalid tail '%s'", A(a, "tail"));
        req.tail = (int)v;
    }
    if (A(a, "limit")) {
        if (parse_int(A(a, "limit"), 1, 1000000, &v) != 0) return usage_error("invalid limit '%s'", A(a, "limit"));
        req.limit = (int)v;
    }
    if (A(a, "event-limit")) {
        if (parse_int(A(a, "event-limit"), 1, 1000000, &v) != 0) return usage_error("invalid event limit '%s'", A(a, "event-limit"));
        req.event_limit = (int)v;
    }
    req.since = A(a, "since");
    e = osb_diagnostics_text(CLI, a->pos[0], &req, &t);
    if (e != OSB_OK) return report(e, "cannot read diagnostics");
    if (t->text.len) {
        out_put(0, t->text.ptr, t->text.len);
        if (t->text.ptr[t->text.len - 1] != '\n') out_put(0, "\n", 1);
    }
    out_flush();
    osb_result_free(t);
    return EX_OK;
}

static int c_devops_logs(args *a) { return devops(a, "logs"); }
static int c_devops_inspect(args *a) { return devops(a, "inspect"); }
static int c_devops_events(args *a) { return devops(a, "events"); }
static int c_devops_summary(args *a) { return devops(a, "summary"); }
