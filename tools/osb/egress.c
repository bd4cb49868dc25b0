/* tools/osb/egress.c -- osb egress ....
 * Part of osb: built as one translation unit by main.c. */

/* >>egress ================================================================= */
static const view V_RULES = {"ACTION=action,TARGET=target", "policy.egress"};

static int show_policy(osb_str raw) {
    jv *doc = jparse(raw.ptr, raw.len);
    if (!doc) return EX_OK;
    if (strcmp(g_out, "table") == 0 && doc->t == J_OBJ) {
        out_fmt(0, "status: %s  mode: %s  enforcement: %s  default: %s\n", jstr(doc, "status") ? jstr(doc, "status") : "-", jstr(doc, "mode") ? jstr(doc, "mode") : "-", jstr(doc, "enforcementMode") ? jstr(doc, "enforcementMode") : "-", jstr(doc, "policy.defaultAction") ? jstr(doc, "policy.defaultAction") : "-");
        if (jget(doc, "policy.egress")) show(doc, &V_RULES);
        out_flush();
    } else {
        show_shaped(doc, shape_policy, NULL);
    }
    jv_free(doc);
    return EX_OK;
}

static int c_egress_get(args *a) {
    osb_egress_status *s = NULL;
    osb_err e;
    int code = connect_sb(a->pos[0], 1);
    if (code) return code;
    e = osb_egress_policy_get(CLI, EGRESS, &s);
    if (e != OSB_OK) return report(e, "cannot get the egress policy");
    show_policy(s->raw);
    osb_result_free(s);
    return EX_OK;
}

static int c_egress_patch(args *a) {
    osb_egress_status *s = NULL;
    osb_network_rule *rules;
    const char **v;
    int n, i, code;
    osb_err e;
    v = AM(a, "rule", &n);
    if (!n) return usage_error("at least one --rule ACTION=TARGET is required");
    rules = (osb_network_rule *)xmalloc(sizeof *rules * (size_t)n);
    for (i = 0; i < n; i++) {
        /* ACTION=TARGET, checked here as the official CLI does: the action
         * allow or deny (any case, spaces trimmed), a target */
        const char *eq = strchr(v[i], '='), *t0, *t1, *a0 = v[i], *a1;
        char act[16];
        size_t k;
        if (!eq) return usage_error("Invalid rule '%s'. Use ACTION=TARGET, for example allow=pypi.org.", v[i]);
        while (a0 < eq && isspace((unsigned char)*a0)) a0++;
        for (a1 = eq; a1 > a0 && isspace((unsigned char)a1[-1]); a1--) {}
        for (k = 0; a0 + k < a1 && k < sizeof act - 1; k++) act[k] = (char)tolower((unsigned char)a0[k]);
        act[k] = 0;
        if ((size_t)(a1 - a0) != k || (strcmp(act, "allow") != 0 && strcmp(act, "deny") != 0))
            return usage_error("Invalid rule action '%.*s'. Use allow or deny.", (int)(a1 - a0), a0);
        for (t0 = eq + 1; isspace((unsigned char)*t0); t0++) {}
        for (t1 = t0 + strlen(t0); t1 > t0 && isspace((unsigned char)t1[-1]); t1--) {}
        if (t1 == t0) return usage_error("Invalid rule '%s': the target is empty.", v[i]);
        rules[i].action = strcmp(act, "allow") == 0 ? "allow" : "deny";
        rules[i].target = xstrndup(t0, (size_t)(t1 - t0));
    }
    if ((code = connect_sb(a->pos[0], 1)) != 0) return code;
    e = osb_egress_policy_patch(CLI, EGRESS, rules, (size_t)n, &s);
    if (e != OSB_OK) return report(e, "cannot patch the egress policy");
    if (strcmp(g_out, "json") == 0 || strcmp(g_out, "yaml") == 0) {
        /* the official result: the sandbox and the rules sent */
        jv *o = jobj(), *l = jv_new(J_ARR);
        jset_str(o, "sandbox_id", a->pos[0]);
        for (i = 0; i < n; i++) {
            jv *r = jobj();
            jset_str(r, "action", rules[i].action);
            jset_str(r, "target", rules[i].target);
            jv_add(l, r);
        }
        jset_raw(o, "patched_rules", l);
        show(o, NULL);
        jv_free(o);
    } else {
        show_policy(s->raw);
    }
    osb_result_free(s);
    return EX_OK;
}

static int c_egress_delete(args *a) {
    osb_egress_status *s = NULL;
    const char **t, **all;
    int n, i, k = 0, code;
    osb_err e;
    t = AM(a, "target", &n);
    if (!n && a->npos < 2) return usage_error("give the targets to remove (osb egress delete ID TARGET...)");
    all = (const char **)xmalloc(sizeof *all * (size_t)(n + a->npos));
    for (i = 1; i < a->npos; i++) all[k++] = a->pos[i];
    for (i = 0; i < n; i++) all[k++] = t[i];
    if ((code = connect_sb(a->pos[0], 1)) != 0) return code;
    e = osb_egress_policy_delete(CLI, EGRESS, all, (size_t)k, &s);
    if (e != OSB_OK) return report(e, "cannot delete egress rules");
    show_policy(s->raw);
    osb_result_free(s);
    return EX_OK;
}
