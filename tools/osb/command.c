/* tools/osb/command.c -- osb command ..., osb command session ... and osb code ....
 * Part of osb: built as one translation unit by main.c. */

/* >>executions ============================================================= */
/* Live output of command run, session run and code run. */
typedef struct live {
    int line_mode;      /* /command and /session events are lines without '\n' */
    int quiet;          /* -o json/yaml: aggregate only */
} live;

/* Prints one event into the live-output buffers. */
static int live_event(void *user, const osb_event *ev) {
    live *l = (live *)user;
    if (l->quiet) return 0;
    switch (ev->type) {
    case OSB_EVENT_STDOUT:
    case OSB_EVENT_STDERR: {
        int w = ev->type == OSB_EVENT_STDERR;
        if (ev->text.ptr) {
            ob_put(w, ev->text.ptr, ev->text.len);
            if (l->line_mode && !(ev->text.len == 1 && ev->text.ptr[0] == '\n')) ob_put(w, "\n", 1);
        }
        break;
    }
    case OSB_EVENT_RESULT: {
        size_t i;
        const char *t = NULL;
        for (i = 0; i < ev->results_count; i++)
            if (ev->results[i].key.ptr && (strcmp(ev->results[i].key.ptr, "text/plain") == 0 ||
                                           strcmp(ev->results[i].key.ptr, "text") == 0))
                t = ev->results[i].value.ptr;
        if (t) {
            ob_puts(0, t);
            ob_put(0, "\n", 1);
        }
        break;
    }
    case OSB_EVENT_ERROR: {
        long long ec;
        size_t i;
        /* a command's exit status is the exit code, not an error to print */
        if (ev->evalue.ptr && parse_int(ev->evalue.ptr, -1000000, 1000000, &ec) == 0) break;
        if (ev->traceback_count) {
            for (i = 0; i < ev->traceback_count; i++) {
                ob_puts(1, ev->traceback[i].ptr ? ev->traceback[i].ptr : "");
                ob_put(1, "\n", 1);
            }
        } else {
            ob_puts(1, ev->ename.ptr ? ev->ename.ptr : "Error");
            ob_puts(1, ": ");
            ob_puts(1, ev->evalue.ptr ? ev->evalue.ptr : "");
            ob_put(1, "\n", 1);
        }
        break;
    }
    default:
        break;
    }
    return 0;
}

static void live_flush(void *user) {
    (void)user;
    ob_flush();
}

/* Runs an opened stream to its end: each event into x and onto the output;
 * the output is written whenever the events already received are used up,
 * that is before osb waits on the network again (one write per read, on a
 * terminal or a pipe alike, so a reader of the pipe sees each line as soon
 * as a person at a terminal would). */
static osb_err live_drive(osb_stream *s, live *l, osb_execution *x) {
    osb_err e;
    out_flush();
    osb_stream_on_wait(s, live_flush, NULL);
    for (;;) {
        const osb_event *ev;
        e = osb_stream_next(s, &ev);
        if (e || !ev) break;
        if ((e = osb_execution_add(x, ev)) != OSB_OK) break;
        live_event(l, ev);
    }
    osb_stream_close(s);
    ob_flush();
    return e;
}

/* The CLI's exit status for a finished execution. */
static int exec_status(const osb_execution *x) {
    if (x->exit_code_known) {
        if (x->exit_code < 0) return 137;   /* killed by a signal or timed out */
        return x->exit_code > 255 ? 255 : x->exit_code;
    }
    if (x->has_error) return 1;             /* an exception (code) */
    return EX_OK;
}

static void exec_json(const osb_execution *x, int code) {
    jv *o = jobj();
    jset_str(o, "id", x->id[0] ? x->id : NULL);
    if (x->exit_code_known || x->completed || x->has_error) jset_num(o, "exit_code", code);
    else jset_raw(o, "exit_code", jv_new(J_NULL));
    jset_strn(o, "stdout", bstr(&x->out), x->out.len);
    jset_strn(o, "stderr", bstr(&x->err), x->err.len);
    if (x->results_count) {
        jv *arr = jv_new(J_ARR);
        size_t i;
        for (i = 0; i < x->results_count; i++) jv_add(arr, jstrv(x->results[i].text.ptr ? x->results[i].text.ptr : ""));
        jset_raw(o, "results", arr);
    }
    if (x->has_error) {
        jv *e = jobj(), *tb = jv_new(J_ARR);
        size_t i;
        jset_str(e, "ename", x->ename.ptr ? x->ename.ptr : "");
        jset_str(e, "evalue", x->evalue.ptr ? x->evalue.ptr : "");
        for (i = 0; i < x->traceback_count; i++) jv_add(tb, jstrv(x->traceback[i].ptr ? x->traceback[i].ptr : ""));
        jset_raw(e, "traceback", tb);
        jset_raw(o, "error", e);
    } else {
        jset_raw(o, "error", jv_new(J_NULL));
    }
    show(o, NULL);
    jv_free(o);
}

/* After a run call: the exit status, interrupting on Ctrl-C. kind: 0
 * command, 1 session, 2 code. */
static int exec_finish(osb_err e, osb_execution *x, int kind, const char *ctx) {
    if (g_sigint) {
        const char *id = kind == 2 && ctx ? ctx : x->id;
        if (kind != 1 && id[0]) {
            int saved = g_sigint;
            osb_err ie;
            g_cancel = 0;
            ie = kind == 2 ? osb_code_interrupt(CLI, EXECD, id) : osb_command_interrupt(CLI, EXECD, id);
            g_sigint = saved;
            out_fmt(1, "%s: interrupted; %s %s\n", g_prog, ie == OSB_OK ? "stopped" : "could not stop", id);
        } else {
            out_fmt(1, "%s: interrupted\n", g_prog);
        }
        return EX_INTERRUPTED;
    }
    if (e != OSB_OK) return report(e, "the execution failed");
    if (!x->exit_code_known && !x->completed && !x->has_error)
        return errorf(EX_SERVER, "the stream ended before the execution finished");
    return exec_status(x);
}

/* >>command ================================================================ */
/* One argument as a POSIX shell word, as the official CLI's shlex.quote:
 * left alone when it has only letters, digits and @%+=:,./-_ ; otherwise
 * in single quotes, each ' written as '"'"'. The empty string is ''. */
static void shell_quote(osb_buf *b, const char *s) {
    const char *p;
    int safe = *s != 0;
    for (p = s; *p && safe; p++)
        if (!isalnum((unsigned char)*p) && !strchr("@%+=:,./-_", *p)) safe = 0;
    if (safe) {
        bput(b, s);
        return;
    }
    bput(b, "'");
    for (p = s; *p; p++) {
        if (*p == '\'') bput(b, "'\"'\"'");
        else bputn(b, p, 1);
    }
    bput(b, "'");
}

/* The words after "--", quoted and joined: the remote shell splits them
 * back into exactly these arguments. */
static char *join_rest(const args *a) {
    osb_buf b;
    int i;
    memset(&b, 0, sizeof b);
    for (i = 0; i < a->nrest; i++) {
        if (i) bput(&b, " ");
        shell_quote(&b, a->rest[i]);
    }
    if (!b.data) bput(&b, "");
    return b.data;
}

static int c_sandbox_shell(args *a);   /* shell.c: command run -i */

/* >>command-all ============================================================ */
/* command run --all: one command in every running sandbox (or in those
 * whose metadata match), all at once from this one thread on a multi
 * handle; every output line starts with its sandbox's id; the exit status
 * is the worst of all. */
typedef struct all_run {
    char *id;
    osb_execution x;
    osb_err e;
    int code;
} all_run;

static int all_event(void *user, const osb_event *ev) {
    all_run *r = (all_run *)user;
    int w = ev->type == OSB_EVENT_STDERR;
    if ((ev->type != OSB_EVENT_STDOUT && !w) || !ev->text.ptr) return 0;
    ob_puts(w, r->id);
    ob_put(w, " | ", 3);
    if (!(ev->text.len == 1 && ev->text.ptr[0] == '\n')) ob_put(w, ev->text.ptr, ev->text.len);
    ob_put(w, "\n", 1);
    return 0;
}

static void all_done(void *user, osb_transfer *t, osb_err e, const osb_error *err) {
    all_run *r = (all_run *)user;
    (void)t;
    r->e = e;
    if (e) {
        ob_flush();
        out_fmt(1, "%s: %s: error: %s\n", g_prog, r->id, err->message);
        r->code = exit_for(e, err);
    } else if (!r->x.exit_code_known && !r->x.completed && !r->x.has_error) {
        out_fmt(1, "%s: %s: the stream ended before the execution finished\n", g_prog, r->id);
        r->code = EX_SERVER;
    } else {
        r->code = exec_status(&r->x);
    }
}

/* The ids of the running sandboxes that match the -m filters. */
static int all_ids(args *a, char ***out, int *count) {
    static const char *const running[] = {"Running", NULL};
    osb_sandbox_list_req f;
    osb_sandbox_iter it;
    const osb_sandbox_info *s;
    osb_pair *meta = NULL;
    const char **v;
    char **ids = NULL;
    int n, code, cap = 0, got = 0;
    osb_err e;
    memset(&f, 0, sizeof f);
    v = AM(a, "metadata", &n);
    if (n && (code = pairs_of(v, n, &meta, "metadata filter")) != 0) return code;
    f.states = running;
    f.metadata = meta;
    f.metadata_count = (size_t)n;
    osb_manager_iter(&it, CLI, &f);
    while ((e = osb_manager_next(&it, &s)) == OSB_OK && s) {
        if (got == cap) {
            cap = cap ? cap * 2 : 16;
            ids = (char **)xrealloc(ids, sizeof *ids * (size_t)cap);
        }
        ids[got++] = xstrndup(s->id.ptr ? s->id.ptr : "", s->id.len);
    }
    osb_manager_iter_free(&it);
    if (e != OSB_OK) return report(e, "cannot list sandboxes");
    *out = ids;
    *count = got;
    return EX_OK;
}

static int command_run_all(args *a, const osb_command_request *req) {
    osb_sandbox_options o;
    osb_sandbox **sbs;
    all_run *runs;
    osb_multi *m = NULL;
    char **ids = NULL;
    int n = 0, i, code, worst = EX_OK, running = 0;
    if ((code = all_ids(a, &ids, &n)) != EX_OK) return code;
    if (n == 0) return errorf(EX_ERROR, "no running sandbox matches");
    sbs = (osb_sandbox **)xmalloc(sizeof *sbs * (size_t)n);
    runs = (all_run *)xmalloc(sizeof *runs * (size_t)n);
    memset(runs, 0, sizeof *runs * (size_t)n);
    memset(&o, 0, sizeof o);
    o.use_server_proxy = C.use_server_proxy;
    o.skip_health_check = 1;
    o.skip_egress = 1;
    if (osb_multi_new(CLI, NULL, &m) != OSB_OK) return report(OSB_ERR_NOMEM, "out of memory");
    for (i = 0; i < n; i++) {
        osb_transfer_config tc;
        osb_err e;
        runs[i].id = ids[i];
        runs[i].x.forward_only = 1;   /* the output is printed as it comes */
        sbs[i] = NULL;
        memset(&tc, 0, sizeof tc);
        tc.on_done = all_done;
        tc.on_event = all_event;
        tc.user = &runs[i];
        tc.execution = &runs[i].x;
        e = osb_sandbox_connect(CLI, ids[i], &o, &sbs[i]);
        if (e == OSB_OK) e = osb_multi_command(m, osb_sandbox_execd(sbs[i]), req, &tc, NULL);
        if (e != OSB_OK) {
            char what[300];
            osb__fmt(what, sizeof what, "%s", ids[i]);
            runs[i].code = report(e, what);
        }
    }
    running = osb_multi_running(m);
    while (running > 0 && !g_cancel) {
        if (osb_multi_perform(m, 200, &running) != OSB_OK) break;
        ob_flush();
    }
    osb_multi_free(m);   /* after Ctrl-C: the rest end as cancelled */
    ob_flush();
    for (i = 0; i < n; i++) {
        if (g_sigint && runs[i].e == OSB_ERR_CANCELLED) runs[i].code = EX_INTERRUPTED;
        if (runs[i].code > worst) worst = runs[i].code;
        osb_execution_free(&runs[i].x);
        osb_sandbox_close(sbs[i]);
        free(ids[i]);
    }
    if (g_sigint) out_fmt(1, "%s: interrupted\n", g_prog);
    free(ids);
    free(runs);
    free(sbs);
    return worst;
}

static int c_command_run(args *a) {
    osb_command_request req;
    osb_execution x;
    live l;
    double t = 0;
    long long uid = -1, gid = -1;
    const char **envs;
    int nenv, code, i, bg = AF(a, "background") > 0;
    osb_err e;
    char *cmdline;
    if (a->nrest == 0) return usage_error("missing command (osb command run ID -- CMD...)");
    if (AF(a, "all") > 0) {
        if (a->npos) return usage_error("--all runs in every running sandbox: give no ID");
        if (AF(a, "interactive") > 0 || AF(a, "background") > 0) return usage_error("--all does not go with -i or -d");
    } else {
        if (!a->npos) return usage_error("missing sandbox ID (osb command run ID -- CMD..., or --all)");
        if (AM(a, "metadata", &i) && i) return usage_error("-m/--metadata selects sandboxes for --all");
    }
    if (AF(a, "interactive") > 0) return c_sandbox_shell(a);   /* -it: shell.c */
    if (A(a, "timeout") && (parse_duration(A(a, "timeout"), &t) != 0 || t <= 0))
        return usage_error("invalid timeout '%s'", A(a, "timeout"));
    if (A(a, "uid") && parse_int(A(a, "uid"), 0, 4294967294LL, &uid) != 0) return usage_error("invalid uid '%s'", A(a, "uid"));
    if (A(a, "gid") && parse_int(A(a, "gid"), 0, 4294967294LL, &gid) != 0) return usage_error("invalid gid '%s'", A(a, "gid"));
    if (gid >= 0 && uid < 0) return usage_error("--gid needs --uid");
    envs = AM(a, "env", &nenv);
    for (i = 0; i < nenv; i++)
        if (!strchr(envs[i], '=') || envs[i][0] == '=') return usage_error("invalid env '%s' (expected KEY=VALUE)", envs[i]);
    if (bg && !G.output) g_out = "table";
    if (AF(a, "all") <= 0 && (code = connect_sb(a->pos[0], 0)) != 0) return code;
    cmdline = join_rest(a);
    memset(&req, 0, sizeof req);
    req.command = cmdline;
    req.cwd = A(a, "workdir");
    req.timeout_ms = (int64_t)(t * 1000);
    if (uid >= 0) { req.uid_set = 1; req.uid = (uint32_t)uid; }
    if (gid >= 0) { req.gid_set = 1; req.gid = (uint32_t)gid; }
    if (nenv) {
        const char **v = (const char **)xmalloc(sizeof *v * (size_t)(nenv + 1));
        for (i = 0; i < nenv; i++) v[i] = envs[i];
        v[nenv] = NULL;
        req.envs = v;
    }
    req.cancel = &g_cancel;
    if (AF(a, "all") > 0) {
        code = command_run_all(a, &req);
        free(cmdline);
        free((void *)req.envs);
        return code;
    }
    if (bg) {
        char id[OSB_EXEC_ID_MAX];
        jv *o;
        e = osb_command_start(CLI, EXECD, &req, id, sizeof id);
        free(cmdline);
        if (e != OSB_OK) return report(e, "cannot start the command");
        o = jobj();
        jset_str(o, "execution_id", id);
        jset_str(o, "sandbox_id", a->pos[0]);
        jset_str(o, "mode", "background");
        if (strcmp(g_out, "raw") == 0) out_fmt(0, "%s\n", id);
        else if (strcmp(g_out, "table") == 0) out_fmt(0, "Started background command %s\n", id);
        else show(o, NULL);
        out_flush();
        jv_free(o);
        return EX_OK;
    }
    memset(&x, 0, sizeof x);
    l.line_mode = 1;
    l.quiet = strcmp(g_out, "raw") != 0;
    x.forward_only = !l.quiet;
    if (l.quiet) {
        e = osb_command_run(CLI, EXECD, &req, live_event, &l, &x);
    } else {
        osb_stream *st = NULL;
        e = osb_command_stream(CLI, EXECD, &req, 0, &st);
        if (e == OSB_OK) e = live_drive(st, &l, &x);
    }
    free(cmdline);
    code = exec_finish(e, &x, 0, NULL);
    if (l.quiet && e == OSB_OK && !g_sigint) exec_json(&x, code);
    osb_execution_free(&x);
    return code;
}

static int c_command_status(args *a) {
    osb_command_status *s = NULL;
    osb_err e;
    int code = connect_sb(a->pos[0], 0);
    if (code) return code;
    e = osb_command_status_get(CLI, EXECD, a->pos[1], &s);
    if (e != OSB_OK) return report(e, "cannot get the command status");
    show_raw_shaped(s->raw, shape_command_status, NULL);
    osb_result_free(s);
    return EX_OK;
}

static int c_command_logs(args *a) {
    long long cur = 0;
    uint64_t next = 0;
    osb_buf out;
    osb_err e;
    int code;
    if (A(a, "cursor") && parse_int(A(a, "cursor"), 0, INT64_MAX, &cur) != 0)
        return usage_error("invalid cursor '%s'", A(a, "cursor"));
    if ((code = connect_sb(a->pos[0], 0)) != 0) return code;
    memset(&out, 0, sizeof out);
    e = osb_command_logs(CLI, EXECD, a->pos[1], (uint64_t)cur, osb_buf_sink, &out, &next);
    if (e != OSB_OK) {
        osb_buf_free(&out);
        return report(e, "cannot read the command logs");
    }
    if (strcmp(g_out, "raw") == 0) {
        out_put(0, bstr(&out), out.len);
        out_put(0, "\n", 1);   /* as the official CLI's echo */
    } else if (strcmp(g_out, "table") == 0) {
        out_put(0, bstr(&out), out.len);
        if (out.len && out.data[out.len - 1] != '\n') out_put(0, "\n", 1);
        out_fmt(0, "(cursor %llu)\n", (unsigned long long)next);
    } else {
        jv *o = jobj();   /* CommandLogs */
        jset_strn(o, "content", bstr(&out), out.len);
        jset_num(o, "cursor", (long long)next);
        show(o, NULL);
        jv_free(o);
    }
    out_flush();
    osb_buf_free(&out);
    return EX_OK;
}

/* A command that is one execd call on the id in its second argument: the
 * message done (one %s, the id) with status "ok" when it worked. */
static int execd_call(args *a, osb_err (*call)(osb_client *, const osb_target *, const char *), const char *fail,
                      const char *done) {
    osb_err e;
    int code = connect_sb(a->pos[0], 0);
    if (code) return code;
    e = call(CLI, EXECD, a->pos[1]);
    if (e != OSB_OK) return report(e, fail);
    return show_msg(status_msg("ok", done, a->pos[1]), done, a->pos[1]);
}

static int c_command_interrupt(args *a) {
    return execd_call(a, osb_command_interrupt, "cannot interrupt the command", "Interrupted: %s");
}

static int c_session_create(args *a) {
    char sid[256];
    osb_err e;
    jv *o;
    int code = connect_sb(a->pos[0], 0);
    if (code) return code;
    e = osb_session_create(CLI, EXECD, A(a, "workdir"), sid, sizeof sid);
    if (e != OSB_OK) return report(e, "cannot create the session");
    o = jobj();
    jset_str(o, "sandbox_id", a->pos[0]);
    jset_str(o, "session_id", sid);
    jset_str(o, "working_directory", A(a, "workdir"));
    if (strcmp(g_out, "raw") == 0) {
        out_fmt(0, "%s\n", sid);
        jv_free(o);
        return EX_OK;
    }
    return show_msg(o, "Created session %s", sid);
}

static int c_session_run(args *a) {
    osb_session_run_request req;
    osb_execution x;
    live l;
    double t = 0;
    osb_err e;
    char *cmdline;
    int code;
    if (a->nrest == 0) return usage_error("missing command (osb command session run ID SESSION_ID -- CMD...)");
    if (A(a, "timeout") && (parse_duration(A(a, "timeout"), &t) != 0 || t <= 0))
        return usage_error("invalid timeout '%s'", A(a, "timeout"));
    if ((code = connect_sb(a->pos[0], 0)) != 0) return code;
    cmdline = join_rest(a);
    memset(&req, 0, sizeof req);
    req.command = cmdline;
    req.cwd = A(a, "workdir");
    req.timeout_ms = (int64_t)(t * 1000);
    req.cancel = &g_cancel;   /* ending the stream ends the run */
    memset(&x, 0, sizeof x);
    l.line_mode = 1;
    l.quiet = strcmp(g_out, "raw") != 0;
    x.forward_only = !l.quiet;
    if (l.quiet) {
        e = osb_session_run(CLI, EXECD, a->pos[1], &req, live_event, &l, &x);
    } else {
        osb_stream *st = NULL;
        e = osb_session_stream(CLI, EXECD, a->pos[1], &req, &st);
        if (e == OSB_OK) e = live_drive(st, &l, &x);
    }
    free(cmdline);
    if (e == OSB_ERR_SERVER && !g_sigint) {
        /* execd ends a run it could not finish (a --timeout that passed)
         * with an error inside the stream: the official CLI prints it as an
         * execution error and exits 1 */
        const osb_error *d = osb_client_error(CLI);
        out_fmt(1, "%s: Execution Error: %s\n", g_prog, d && d->message[0] ? d->message : osb_strerror(e));
        osb_execution_free(&x);
        return EX_ERROR;
    }
    code = exec_finish(e, &x, 1, NULL);
    if (l.quiet && e == OSB_OK && !g_sigint) exec_json(&x, code);
    osb_execution_free(&x);
    return code;
}

static int c_session_delete(args *a) {
    return execd_call(a, osb_session_delete, "cannot delete the session", "Deleted session: %s");
}

/* >>code =================================================================== */
static int c_code_run(args *a) {
    osb_code_request req;
    osb_execution x;
    live l;
    osb_buf src;
    osb_err e;
    int code;
    memset(&src, 0, sizeof src);
    if (A(a, "code")) bput(&src, A(a, "code"));
    else if (a->npos > 1) {
        if (read_all(a->pos[1], &src) != 0) return errorf(EX_LOCALIO, "cannot read %s: %s", a->pos[1], sys_text(errno));
    } else if (read_all("-", &src) != 0) {
        return errorf(EX_LOCALIO, "cannot read stdin");
    }
    if ((code = connect_sb(a->pos[0], 0)) != 0) {
        osb_buf_free(&src);
        return code;
    }
    memset(&req, 0, sizeof req);
    req.code = bstr(&src);
    req.context_id = A(a, "context");
    req.language = A(a, "language") ? A(a, "language") : "python";
    req.cancel = &g_cancel;
    memset(&x, 0, sizeof x);
    l.line_mode = 0;
    l.quiet = strcmp(g_out, "raw") != 0;
    x.forward_only = !l.quiet;
    if (l.quiet) {
        e = osb_code_run(CLI, EXECD, &req, live_event, &l, &x);
    } else {
        osb_stream *st = NULL;
        e = osb_code_stream(CLI, EXECD, &req, &st);
        if (e == OSB_OK) e = live_drive(st, &l, &x);
    }
    code = exec_finish(e, &x, 2, A(a, "context"));
    if (l.quiet && e == OSB_OK && !g_sigint) exec_json(&x, code);
    osb_execution_free(&x);
    osb_buf_free(&src);
    return code;
}

static int c_context_create(args *a) {
    osb_code_context *cx = NULL;
    osb_err e;
    int code = connect_sb(a->pos[0], 0);
    if (code) return code;
    e = osb_code_context_create(CLI, EXECD, A(a, "language") ? A(a, "language") : "python", NULL, &cx);
    if (e != OSB_OK) return report(e, "cannot create the context");
    show_raw(cx->raw, NULL);
    osb_result_free(cx);
    return EX_OK;
}

static int c_context_list(args *a) {
    static const view v = {"ID=id,LANGUAGE=language", ""};
    osb_code_contexts *list = NULL;
    osb_err e;
    int code = connect_sb(a->pos[0], 0);
    if (code) return code;
    e = osb_code_context_list(CLI, EXECD, A(a, "language") ? A(a, "language") : "python", &list);
    if (e != OSB_OK) return report(e, "cannot list contexts");
    {
        jv *arr = jv_new(J_ARR);
        size_t i;
        for (i = 0; i < list->count; i++) {
            jv *o = jobj();
            jset_raw(o, "id", sjv(list->items[i].id));
            jset_raw(o, "language", sjv(list->items[i].language));
            jv_add(arr, o);
        }
        show(arr, &v);
        jv_free(arr);
    }
    osb_result_free(list);
    return EX_OK;
}

static int c_context_delete(args *a) {
    jv *o;
    osb_err e;
    int code;
    if (a->npos < 2 && !A(a, "language")) return usage_error("give a CONTEXT_ID or --language LANG (deletes all of that language)");
    if ((code = connect_sb(a->pos[0], 0)) != 0) return code;
    if (a->npos >= 2) e = osb_code_context_delete(CLI, EXECD, a->pos[1]);
    else e = osb_code_context_delete_language(CLI, EXECD, A(a, "language"));
    if (e != OSB_OK) return report(e, "cannot delete the context");
    o = jobj();
    if (a->npos >= 2) jset_str(o, "context_id", a->pos[1]);
    else jset_str(o, "language", A(a, "language"));
    jset_bool(o, "deleted", 1);
    return show_msg(o, "Deleted %s%s", a->npos >= 2 ? "context " : "all contexts of ", a->npos >= 2 ? a->pos[1] : A(a, "language"));
}
