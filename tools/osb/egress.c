/* tools/osb/egress.c -- osb egress ....
 * Part of osb: built as one translation unit by main.c. */

/* >>egress ================================================================= */
static const view V_RULES = {"ACTION=action,TARGET=target", "policy.egress"};

static int show_policy(osb_str raw) {
    jv *doc = jparse(raw.ptr, raw.len);
    if (!doc) return EX_OK;
    if (strcmp(g_out, "table") == 0 && doc->t == J_OBJ) {
        printf("status: %s  mode: %s  enforcement: %s  default: %s\n", jstr(doc, "status") ? jstr(doc, "status") : "-",
               jstr(doc, "mode") ? jstr(doc, "mode") : "-", jstr(doc, "enforcementMode") ? jstr(doc, "enforcementMode") : "-",
               jstr(doc, "policy.defaultAction") ? jstr(doc, "policy.defaultAction") : "-");
        if (jget(doc, "policy.egress")) show(doc, &V_RULES);
        fflush(stdout);
    } else {
        show(doc, NULL);
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
        const char *eq = strchr(v[i], '=');
        if (!eq || eq == v[i] || !eq[1]) return usage_error("invalid rule '%s' (expected allow=HOST or deny=HOST)", v[i]);
        rules[i].action = xstrndup(v[i], (size_t)(eq - v[i]));
        rules[i].target = eq + 1;
    }
    if ((code = connect_sb(a->pos[0], 1)) != 0) return code;
    e = osb_egress_policy_patch(CLI, EGRESS, rules, (size_t)n, &s);
    if (e != OSB_OK) return report(e, "cannot patch the egress policy");
    show_policy(s->raw);
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
