/* tools/osb/sandbox.c -- osb sandbox ... and osb snapshot ....
 * Part of osb: built as one translation unit by main.c. */

/* >>sandbox ================================================================ */
static const view V_SANDBOXES = {"ID=id,STATUS=status.state,IMAGE=image.uri,CREATED_AT=createdAt,EXPIRES_AT=expiresAt", "items"};
static const view V_SNAPSHOTS = {"ID=id,SANDBOX=sandboxId,NAME=name,STATE=status.state,CREATED=createdAt", "items"};

/* --network-policy-file: {"defaultAction": ..., "egress": [{"action","target"}]} */
static int policy_from_json(const jv *doc, osb_network_policy *np, osb_network_rule **rules) {
    const jv *eg = jget(doc, "egress"), *r;
    size_t n = 0;
    memset(np, 0, sizeof *np);
    np->default_action = jstr(doc, "defaultAction");
    *rules = (osb_network_rule *)xmalloc(sizeof **rules * (eg && eg->t == J_ARR ? eg->nkids + 1 : 1));
    for (r = eg && eg->t == J_ARR ? eg->kid : NULL; r; r = r->next) {
        if (!jstr(r, "action") || !jstr(r, "target")) return usage_error("network policy: each egress rule needs action and target");
        (*rules)[n].action = jstr(r, "action");
        (*rules)[n].target = jstr(r, "target");
        n++;
    }
    np->egress = *rules;
    np->egress_count = n;
    return EX_OK;
}

static const char *const *strv_of(const jv *arr) {
    const char **v;
    const jv *c;
    size_t n = 0;
    if (!arr || arr->t != J_ARR) return NULL;
    v = (const char **)xmalloc(sizeof *v * (arr->nkids + 1));
    for (c = arr->kid; c; c = c->next)
        if (c->t == J_STR) v[n++] = c->s;
    v[n] = NULL;
    return v;
}

static int tri(const jv *v) { return !v ? 0 : v->t == J_TRUE ? 1 : v->t == J_FALSE ? -1 : 0; }

/* --volumes-file: the API's Volume objects. */
static int volumes_from_json(const jv *doc, osb_volume **out, size_t *count) {
    const jv *c;
    size_t n = 0;
    osb_volume *v = (osb_volume *)xmalloc(sizeof *v * (doc->nkids + 1));
    for (c = doc->kid; c; c = c->next, n++) {
        const jv *h = jget(c, "host"), *p = jget(c, "pvc"), *o = jget(c, "ossfs");
        memset(&v[n], 0, sizeof v[n]);
        if (c->t != J_OBJ || !jstr(c, "name") || !jstr(c, "mountPath"))
            return usage_error("volumes: each volume needs name and mountPath");
        v[n].name = jstr(c, "name");
        v[n].mount_path = jstr(c, "mountPath");
        v[n].read_only = jget(c, "readOnly") && jget(c, "readOnly")->t == J_TRUE;
        v[n].sub_path = jstr(c, "subPath");
        if (h) {
            osb_volume_host *x = (osb_volume_host *)xmalloc(sizeof *x);
            x->path = jstr(h, "path");
            v[n].host = x;
        }
        if (p) {
            osb_volume_pvc *x = (osb_volume_pvc *)xmalloc(sizeof *x);
            memset(x, 0, sizeof *x);
            x->claim_name = jstr(p, "claimName");
            x->create_if_not_exists = tri(jget(p, "createIfNotExists"));
            x->delete_on_sandbox_termination = tri(jget(p, "deleteOnSandboxTermination"));
            x->storage_class = jstr(p, "storageClass");
            x->storage = jstr(p, "storage");
            x->access_modes = strv_of(jget(p, "accessModes"));
            v[n].pvc = x;
        }
        if (o) {
            osb_volume_ossfs *x = (osb_volume_ossfs *)xmalloc(sizeof *x);
            memset(x, 0, sizeof *x);
            x->bucket = jstr(o, "bucket");
            x->endpoint = jstr(o, "endpoint");
            x->version = jstr(o, "version");
            x->options = strv_of(jget(o, "options"));
            x->access_key_id = jstr(o, "accessKeyId");
            x->access_key_secret = jstr(o, "accessKeySecret");
            v[n].ossfs = x;
        }
        if (!!h + !!p + !!o != 1) return usage_error("volumes: '%s' needs exactly one of host, pvc, ossfs", v[n].name);
    }
    *out = v;
    *count = n;
    return EX_OK;
}

static jv *json_file(const char *path, int want, int *code) {
    osb_buf b;
    jv *doc;
    memset(&b, 0, sizeof b);
    *code = EX_OK;
    if (read_all(path, &b) != 0) {
        *code = errorf(EX_LOCALIO, "cannot read %s: %s", path, sys_text(errno));
        return NULL;
    }
    doc = jparse(b.data, b.len);
    osb_buf_free(&b);
    if (!doc || doc->t != want) {
        jv_free(doc);
        *code = usage_error("%s: expected a JSON %s", path, want == J_ARR ? "array" : "object");
        return NULL;
    }
    return doc;
}

/* sandbox create --count N: N sandboxes at once, all or none. */
static int create_many(const osb_sandbox_create_req *req, const osb_sandbox_options *o, long long n,
                       const char *tmo) {
    osb_sandbox **sbs = (osb_sandbox **)xmalloc(sizeof *sbs * (size_t)n);
    osb_err e = osb_sandbox_open_many(CLI, req, (size_t)n, o, &g_cancel, sbs);
    long long i;
    jv *arr;
    if (e != OSB_OK) {
        free(sbs);
        return report(e, "cannot create the sandboxes (the ones created were killed)");
    }
    arr = jv_new(J_ARR);   /* one official create result each */
    for (i = 0; i < n; i++) {
        jv *r = jobj();
        jset_str(r, "id", osb_sandbox_id(sbs[i]));
        jset_str(r, "image", req->image);
        jset_str(r, "status", "created");
        jset_str(r, "timeout", !tmo ? "sdk-default" : streq_ci(tmo, "none") ? "manual-cleanup" : tmo);
        jv_add(arr, r);
        osb_sandbox_close(sbs[i]);
    }
    show(arr, NULL);
    jv_free(arr);
    free(sbs);
    return EX_OK;
}

static int c_sandbox_create(args *a) {
    osb_sandbox_create_req req;
    osb_sandbox_options o;
    osb_sandbox_info *info = NULL;
    const char *image = A(a, "image"), *snapshot = A(a, "snapshot"), *tmo = A(a, "timeout");
    const char **kv;
    int n, code = EX_OK, i, pool = 0;
    double ttl = 600, ready = 30;
    osb_pair *env = NULL, *meta = NULL, *ext = NULL, *res = NULL;
    osb_network_policy np;
    osb_network_rule *rules = NULL;
    osb_volume *vols = NULL;
    size_t nvols = 0;
    jv *npdoc = NULL, *voldoc = NULL;
    char os_[32];
    long long count = 1;
    osb_err e;
    memset(&req, 0, sizeof req);
    if (!image && !snapshot && C.image[0]) image = C.image;
    if (!tmo && C.sandbox_timeout[0]) tmo = C.sandbox_timeout;
    kv = AM(a, "extension", &n);
    for (i = 0; i < n; i++)
        if (strncmp(kv[i], "poolRef=", 8) == 0) pool = 1;
    if (A(a, "image") && snapshot) return usage_error("--image and --snapshot are exclusive");
    if (!image && !snapshot && !pool) return usage_error("an image is required (-i/--image, or [defaults].image in the config file)");
    if (tmo && !streq_ci(tmo, "none") && (parse_duration(tmo, &ttl) != 0 || ttl < 1))
        return usage_error("invalid timeout '%s'", tmo);
    if (A(a, "ready-timeout") && parse_duration(A(a, "ready-timeout"), &ready) != 0)
        return usage_error("invalid ready timeout '%s'", A(a, "ready-timeout"));
    if (AF(a, "credential-proxy") && !A(a, "network-policy-file"))
        return usage_error("--credential-proxy needs --network-policy-file");
    if (A(a, "count") && parse_int(A(a, "count"), 1, 1000, &count) != 0)
        return usage_error("invalid count '%s' (1 to 1000)", A(a, "count"));
    req.image = snapshot ? NULL : image;
    req.snapshot_id = snapshot;
    req.image_username = A(a, "image-auth-username");
    req.image_password = A(a, "image-auth-password");
    if ((req.image_username || req.image_password) && !(req.image_username && req.image_password))
        return usage_error("--image-auth-username and --image-auth-password go together");
    req.timeout_s = tmo && streq_ci(tmo, "none") ? -1 : (int)ttl;
    kv = AM(a, "entrypoint", &n);
    if (n) {
        const char **ep_ = (const char **)xmalloc(sizeof *ep_ * (size_t)(n + 1));
        for (i = 0; i < n; i++) ep_[i] = kv[i];
        ep_[n] = NULL;
        req.entrypoint = ep_;
    }
    kv = AM(a, "resource", &n);
    if (n && (code = pairs_of(kv, n, &res, "resource")) != 0) return code;
    req.resource_limits = res;
    req.resource_limits_count = (size_t)n;
    kv = AM(a, "env", &n);
    if (n && (code = pairs_of(kv, n, &env, "env")) != 0) return code;
    req.env = env;
    req.env_count = (size_t)n;
    kv = AM(a, "metadata", &n);
    if (n && (code = pairs_of(kv, n, &meta, "metadata")) != 0) return code;
    req.metadata = meta;
    req.metadata_count = (size_t)n;
    kv = AM(a, "extension", &n);
    if (n && (code = pairs_of(kv, n, &ext, "extension")) != 0) return code;
    req.extensions = ext;
    req.extensions_count = (size_t)n;
    if (A(a, "platform")) {
        const char *p = A(a, "platform"), *slash = strchr(p, '/');
        size_t l = slash ? (size_t)(slash - p) : strlen(p);
        if (l == 0 || l >= sizeof os_) return usage_error("invalid platform '%s' (OS/ARCH, e.g. linux/amd64)", p);
        memcpy(os_, p, l);
        os_[l] = 0;
        req.platform_os = os_;
        req.platform_arch = slash ? slash + 1 : NULL;
    }
    if (A(a, "network-policy-file")) {
        if (!(npdoc = json_file(A(a, "network-policy-file"), J_OBJ, &code))) return code;
        if ((code = policy_from_json(npdoc, &np, &rules)) != 0) goto out;
        req.network_policy = &np;
    }
    if (A(a, "volumes-file")) {
        if (!(voldoc = json_file(A(a, "volumes-file"), J_ARR, &code))) goto out;
        if ((code = volumes_from_json(voldoc, &vols, &nvols)) != 0) goto out;
        req.volumes = vols;
        req.volumes_count = nvols;
    }
    if (AF(a, "credential-proxy")) req.credential_proxy = 1;
    if (AF(a, "secure-access")) req.secure_access = 1;
    memset(&o, 0, sizeof o);
    o.use_server_proxy = C.use_server_proxy;
    o.ready_timeout_ms = (int)(ready * 1000);
    o.skip_health_check = AF(a, "skip-health-check") > 0;
    o.skip_egress = !req.network_policy;
    if (count > 1) {
        code = create_many(&req, &o, count, tmo);
        goto out;
    }
    e = osb_sandbox_open(CLI, &req, &o, &SB);
    if (e != OSB_OK) {
        code = report(e, "cannot create the sandbox");
        goto out;
    }
    if (strcmp(g_out, "json") == 0 || strcmp(g_out, "yaml") == 0) {
        /* the official result: id, image, status, timeout */
        jv *r = jobj();
        char sb_id[256];
        osb__fmt(sb_id, sizeof sb_id, "%s", osb_sandbox_id(SB));
        jset_str(r, "id", sb_id);
        jset_str(r, "image", req.image);
        jset_str(r, "status", "created");
        if (!tmo) jset_str(r, "timeout", "sdk-default");
        else if (streq_ci(tmo, "none")) jset_str(r, "timeout", "manual-cleanup");
        else {
            char td[64];
            py_timedelta((long long)ttl, td, sizeof td);
            jset_str(r, "timeout", td);
        }
        show(r, NULL);
        jv_free(r);
        goto out;
    }
    e = osb_sandbox_describe(SB, &info);
    if (e != OSB_OK) {
        /* the create answer is all we have */
        const osb_sandbox_info *ci = osb_sandbox_created(SB);
        if (ci) show_raw(ci->raw, NULL);
    } else {
        show_raw(info->raw, NULL);
    }
out:
    osb_result_free(info);
    jv_free(npdoc);
    jv_free(voldoc);
    return code;
}

/* The filters the list commands share: --state (repeatable), --page and
 * --page-size. */
static int list_filters(args *a, const char *const **states, int *page, int *page_size) {
    const char **v, **list;
    long long num;
    int n, i;
    v = AM(a, "state", &n);
    if (n) {
        list = (const char **)xmalloc(sizeof *list * (size_t)(n + 1));
        for (i = 0; i < n; i++) list[i] = v[i];
        list[n] = NULL;
        *states = list;
    }
    if (A(a, "page")) {
        if (parse_int(A(a, "page"), 1, 1000000000, &num) != 0) return usage_error("invalid page '%s'", A(a, "page"));
        *page = (int)num;
    }
    if (A(a, "page-size")) {
        if (parse_int(A(a, "page-size"), 1, 1000000, &num) != 0) return usage_error("invalid page size '%s'", A(a, "page-size"));
        *page_size = (int)num;
    }
    return EX_OK;
}

/* The sandbox states, case-insensitive on the command line as in the
 * official CLI; an unknown one is an error that names the valid ones. */
static int canonical_states(const char **states) {
    static const char *const known[] = {"Failed", "Paused", "Pausing", "Pending", "Running", "Stopping",
                                        "Terminated", "Unknown", NULL};
    int i, k;
    for (i = 0; states && states[i]; i++) {
        for (k = 0; known[k] && !streq_ci(states[i], known[k]); k++) {}
        if (!known[k])
            return usage_error("Invalid sandbox state '%s'. Valid values: Failed, Paused, Pausing, Pending, Running, "
                               "Stopping, Terminated, Unknown", states[i]);
        states[i] = known[k];
    }
    return EX_OK;
}

static int c_sandbox_list(args *a) {
    osb_sandbox_list_req req;
    osb_sandbox_page *page = NULL;
    const char **v;
    osb_pair *meta = NULL;
    int n, code;
    osb_err e;
    memset(&req, 0, sizeof req);
    if ((code = list_filters(a, &req.states, &req.page, &req.page_size)) != EX_OK) return code;
    if ((code = canonical_states((const char **)req.states)) != EX_OK) return code;
    v = AM(a, "metadata", &n);
    if (n && (code = pairs_of(v, n, &meta, "metadata filter")) != 0) return code;
    req.metadata = meta;
    req.metadata_count = (size_t)n;
    e = osb_sandbox_list(CLI, &req, &page);
    if (e != OSB_OK) return report(e, "cannot list sandboxes");
    if (strcmp(g_out, "table") == 0 && page->items_count == 0) out_fmt(0, "No sandboxes found.\n");
    else show_raw_shaped(page->raw, shape_sandbox_page, &V_SANDBOXES);
    osb_result_free(page);
    return EX_OK;
}

static int c_sandbox_get(args *a) {
    osb_sandbox_info *info = NULL;
    osb_err e = osb_sandbox_get(CLI, a->pos[0], &info);
    if (e != OSB_OK) return report(e, "cannot get the sandbox");
    show_raw_shaped(info->raw, shape_sandbox, NULL);
    osb_result_free(info);
    return EX_OK;
}

/* Deletes every positional id with del, going on past a failure (each is
 * reported on stderr): a line per id in table output, else the official
 * rows [{id_key: ID, "status": status}] of the ids that went. */
static int delete_each(args *a, osb_err (*del)(osb_client *, const char *), const char *id_key, const char *status,
                       const char *done, const char *failed) {
    int i, code = EX_OK;
    jv *list = jv_new(J_ARR);
    for (i = 0; i < a->npos && !g_sigint; i++) {
        osb_err e = del(CLI, a->pos[i]);
        if (e != OSB_OK) {
            code = report(e, failed);
            continue;
        }
        if (strcmp(g_out, "table") == 0) {
            out_fmt(0, "%s %s\n", done, a->pos[i]);
        } else {
            jv *o = jobj();
            jset_str(o, id_key, a->pos[i]);
            jset_str(o, "status", status);
            jv_add(list, o);
        }
    }
    if (strcmp(g_out, "table") != 0) show(list, NULL);
    out_flush();
    jv_free(list);
    return code;
}

static int c_sandbox_kill(args *a) {
    return delete_each(a, osb_sandbox_delete, "sandbox_id", "terminated", "Killed sandbox", "cannot kill the sandbox");
}

static int state_msg(const char *id, const char *verb) {
    return show_msg(status_msg("ok", "Sandbox %s: %s", verb, id), "Sandbox %s: %s", verb, id);
}

static int c_sandbox_pause(args *a) {
    osb_err e = osb_sandbox_pause(CLI, a->pos[0]);
    if (e != OSB_OK) return report(e, "cannot pause the sandbox");
    return state_msg(a->pos[0], "paused");
}

static int c_sandbox_resume(args *a) {
    double t = 30;
    osb_err e;
    if (A(a, "resume-timeout") && parse_duration(A(a, "resume-timeout"), &t) != 0)
        return usage_error("invalid resume timeout '%s'", A(a, "resume-timeout"));
    e = osb_sandbox_resume(CLI, a->pos[0]);
    if (e != OSB_OK) return report(e, "cannot resume the sandbox");
    if (!AF(a, "skip-health-check")) {
        osb_sandbox_options o;
        memset(&o, 0, sizeof o);
        o.use_server_proxy = C.use_server_proxy;
        o.ready_timeout_ms = (int)(t * 1000);
        o.skip_egress = 1;
        e = osb_sandbox_connect(CLI, a->pos[0], &o, &SB);
        if (e != OSB_OK) return report(e, "the sandbox did not become ready");
    }
    return state_msg(a->pos[0], "resumed");
}

static int c_sandbox_renew(args *a) {
    double secs;
    char when[64];
    osb_renew_result *r = NULL;
    osb_err e;
    if (parse_duration(A(a, "timeout"), &secs) != 0 || secs <= 0)
        return usage_error("invalid timeout '%s'", A(a, "timeout"));
    rfc3339_in(secs, when);
    e = osb_sandbox_renew(CLI, a->pos[0], when, &r);
    if (e != OSB_OK) return report(e, "cannot renew the sandbox");
    if (strcmp(g_out, "table") == 0) {
        out_fmt(0, "Sandbox %s expires at %s\n", a->pos[0], r->expires_at.ptr ? r->expires_at.ptr : when);
    } else {
        /* the official result: expires_at as Python's str(datetime) */
        jv *o = jobj(), *w = jparse(r->raw.ptr ? r->raw.ptr : "", r->raw.len);
        jset_str(o, "sandbox_id", a->pos[0]);
        jset_raw(o, "expires_at", jtime_as(jget(w, "expiresAt"), 1));
        show(o, NULL);
        jv_free(o);
        jv_free(w);
    }
    out_flush();
    osb_result_free(r);
    return EX_OK;
}

static int c_sandbox_endpoint(args *a) {
    osb_endpoint_req req;
    osb_endpoint *ep_ = NULL;
    long long port;
    osb_err e;
    if (parse_int(A(a, "port"), 1, 65535, &port) != 0) return usage_error("invalid port '%s' (1-65535)", A(a, "port"));
    memset(&req, 0, sizeof req);
    req.use_server_proxy = C.use_server_proxy;
    if (A(a, "expires")) {
        double secs;
        if (parse_duration(A(a, "expires"), &secs) != 0) return usage_error("invalid --expires '%s'", A(a, "expires"));
        req.expires = (int64_t)time(NULL) + (int64_t)secs;
    }
    e = osb_sandbox_endpoint(CLI, a->pos[0], (int)port, &req, &ep_);
    if (e != OSB_OK) return report(e, "cannot get the endpoint");
    show_raw_shaped(ep_->raw, shape_endpoint, NULL);
    osb_result_free(ep_);
    return EX_OK;
}

static int c_sandbox_health(args *a) {
    jv *o;
    osb_err e;
    int code = connect_sb(a->pos[0], 0);
    if (code) return code;
    e = osb_execd_ping(CLI, EXECD);
    o = jobj();
    jset_str(o, "sandbox_id", a->pos[0]);
    jset_bool(o, "healthy", e == OSB_OK);
    if (e != OSB_OK) {
        /* the official document says healthy: false; the exit code says why */
        if (strcmp(g_out, "table") != 0) show(o, NULL);
        jv_free(o);
        return report(e, "the sandbox is not healthy");
    }
    return show_msg(o, "Sandbox %s is healthy", a->pos[0]);
}


/* One sample of `metrics --watch`, as the official CLI: table and raw a
 * line "[ISO time] cpu=12.50% cores=2 mem=256.00/1024.00MiB", json one
 * compact document per line, yaml one document per sample. */
static int metrics_event(void *user, const osb_event *ev) {
    jv *doc, *m;
    (void)user;
    if (ev->type == OSB_EVENT_ERROR) {
        const char *why = ev->text.ptr ? ev->text.ptr : "metrics sample failed";
        if (strcmp(g_out, "json") == 0 || strcmp(g_out, "yaml") == 0) {
            jv *w = status_msg("warning", "Metrics stream error: %s", why);
            show(w, NULL);
            jv_free(w);
        } else {
            out_fmt(1, "%s: warning: Metrics stream error: %s\n", g_prog, why);
        }
        return 0;
    }
    if (ev->type != OSB_EVENT_METRICS) return 0;
    if (strcmp(g_out, "table") == 0 || strcmp(g_out, "raw") == 0) {
        long long ms = (long long)ev->metrics.timestamp;
        long long secs = ms >= 0 ? ms / 1000 : -((-ms + 999) / 1000);
        long us = (long)((ms - secs * 1000) * 1000);
        char when[40], cpu[48], total[48], used[48], cores[40];
        utc_text(secs, when);
        if (us) out_fmt(0, "[%s.%06ld+00:00]", when, us);
        else out_fmt(0, "[%s+00:00]", when);
        osb__double_g(cores, ev->metrics.cpu_count, 6);   /* %g */
        out_fmt(0, " cpu=%s%% cores=%s mem=%s/%sMiB\n", fmt_fixed(cpu, ev->metrics.cpu_used_pct, 2), cores,
                fmt_fixed(used, ev->metrics.mem_used_mib, 2), fmt_fixed(total, ev->metrics.mem_total_mib, 2));
        out_flush();
        return 0;
    }
    doc = jparse(ev->metrics.raw.ptr, ev->metrics.raw.len);
    if (!doc) return 0;
    m = shape_metrics(doc);
    {
        osb_buf b;
        memset(&b, 0, sizeof b);
        if (strcmp(g_out, "json") == 0) {
            emit_json(&b, m, -1, JSON_PY);
            bputc(&b, '\n');
        } else {
            emit_official_yaml(&b, m);
        }
        out_put(0, bstr(&b), b.len);
        osb_buf_free(&b);
    }
    out_flush();
    jv_free(m);
    jv_free(doc);
    return 0;
}

static int c_sandbox_metrics(args *a) {
    osb_metrics *m = NULL;
    osb_err e;
    int code = connect_sb(a->pos[0], 0);
    if (code) return code;
    if (AF(a, "watch")) {
        if (!G.output) g_out = "raw";
        e = osb_metrics_watch(CLI, EXECD, metrics_event, NULL, &g_cancel);
        if (g_sigint) return EX_INTERRUPTED;
        return e == OSB_OK ? EX_OK : report(e, "cannot watch metrics");
    }
    e = osb_metrics_get(CLI, EXECD, &m);
    if (e != OSB_OK) return report(e, "cannot read metrics");
    show_raw_shaped(m->raw, shape_metrics, NULL);
    osb_result_free(m);
    return EX_OK;
}

/* sandbox metadata ID KEY=VALUE... KEY-...: a JSON merge patch (KEY- deletes). */
static int c_sandbox_metadata(args *a) {
    osb_sandbox_info *info = NULL;
    osb_pair *p;
    int i, n, nsets, k = 0;
    const char **un = AM(a, "unset", &n), **sets = AM(a, "set", &nsets);
    osb_err e;
    p = (osb_pair *)xmalloc(sizeof *p * (size_t)(a->npos + n + nsets + 1));
    for (i = 1; i < a->npos; i++) {
        const char *s = a->pos[i], *eq = strchr(s, '=');
        size_t l = strlen(s);
        if (eq && eq != s) {
            p[k].key = xstrndup(s, (size_t)(eq - s));
            p[k++].value = eq + 1;
        } else if (l > 1 && s[l - 1] == '-') {
            p[k].key = xstrndup(s, l - 1);
            p[k++].value = NULL;
        } else {
            return usage_error("invalid metadata '%s' (KEY=VALUE sets, KEY- removes)", s);
        }
    }
    for (i = 0; i < nsets; i++) {
        const char *eq = strchr(sets[i], '=');
        if (!eq || eq == sets[i]) return usage_error("invalid metadata '%s' (expected KEY=VALUE)", sets[i]);
        p[k].key = xstrndup(sets[i], (size_t)(eq - sets[i]));
        p[k++].value = eq + 1;
    }
    for (i = 0; i < n; i++) {
        p[k].key = un[i];
        p[k++].value = NULL;
    }
    e = osb_sandbox_metadata_patch(CLI, a->pos[0], p, (size_t)k, &info);
    if (e != OSB_OK) return report(e, "cannot update the metadata");
    if (strcmp(g_out, "table") == 0) {
        jv *doc = jparse(info->raw.ptr, info->raw.len), *m = jget(doc, "metadata");
        if (m && m->kid) table_of_object(m);
        else out_fmt(0, "Sandbox %s has no metadata\n", a->pos[0]);
        out_flush();
        jv_free(doc);
    } else {
        show_raw_shaped(info->raw, shape_sandbox, NULL);
    }
    osb_result_free(info);
    return EX_OK;
}

/* >>snapshot =============================================================== */
static int c_snapshot_create(args *a) {
    osb_snapshot *s = NULL;
    osb_err e;
    if (AF(a, "wait")) {
        osb_sandbox_options o;
        memset(&o, 0, sizeof o);
        o.use_server_proxy = C.use_server_proxy;
        o.skip_health_check = 1;
        o.skip_egress = 1;
        e = osb_sandbox_connect(CLI, a->pos[0], &o, &SB);
        if (e == OSB_OK) e = osb_sandbox_snapshot(SB, A(a, "name"), 600000, &s);
    } else {
        e = osb_snapshot_create(CLI, a->pos[0], A(a, "name"), &s);
    }
    if (e != OSB_OK) return report(e, "cannot create the snapshot");
    show_raw_shaped(s->raw, shape_snapshot, NULL);
    osb_result_free(s);
    return EX_OK;
}

static int c_snapshot_list(args *a) {
    osb_snapshot_list_req req;
    osb_snapshot_page *page = NULL;
    int code;
    osb_err e;
    memset(&req, 0, sizeof req);
    req.sandbox_id = A(a, "sandbox");
    if ((code = list_filters(a, &req.states, &req.page, &req.page_size)) != EX_OK) return code;
    e = osb_snapshot_list(CLI, &req, &page);
    if (e != OSB_OK) return report(e, "cannot list snapshots");
    show_raw_shaped(page->raw, shape_snapshot_page, &V_SNAPSHOTS);
    osb_result_free(page);
    return EX_OK;
}

static int c_snapshot_get(args *a) {
    osb_snapshot *s = NULL;
    osb_err e = osb_snapshot_get(CLI, a->pos[0], &s);
    if (e != OSB_OK) return report(e, "cannot get the snapshot");
    show_raw_shaped(s->raw, shape_snapshot, NULL);
    osb_result_free(s);
    return EX_OK;
}

static int c_snapshot_delete(args *a) {
    return delete_each(a, osb_snapshot_delete, "snapshot_id", "deleted", "Deleted snapshot", "cannot delete the snapshot");
}
