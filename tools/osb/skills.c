/* tools/osb/skills.c -- osb skills ...: short guides that teach coding agents
 * to drive sandboxes through osb, built into the binary, installed where each
 * agent tool looks for them (the tools, places and file layouts of the
 * official CLI's `skills` command; the guides are osb's own).
 * Part of osb: built as one translation unit by main.c. */

/* >>guides ================================================================= */
/* The guides' text is the files in tools/osb/guides/, packed into texts.h
 * with the help lines (plumbing.c >>texts): guide i is text i. */

/* >>skills ================================================================= */
/* Its package file is opensandbox-SLUG.md, its title "OpenSandbox" and the
 * slug's words capitalised (skill_file, skill_title). The summary and the
 * trigger of a row stay in the source but go into texts.h (skill_summary,
 * skill_trigger). */
typedef struct skill {
    const char *slug, *area;
} skill;
#define SKILL(slug, summary, trigger, area) {slug, area}

/* Guide i is row i: keep the order of ORDER in tools/osb/pack-texts.py. */
static const skill SKILLS[] = {
    SKILL("sandbox-troubleshooting",
     "Find out why a sandbox failed, is stuck or cannot be reached: state, health, metrics, diagnostics.",
     "Use when a sandbox does not start, crashes, runs out of memory, stays pending or stops answering.",
     "Troubleshooting"),
    SKILL("sandbox-lifecycle",
     "Create, inspect, renew, pause, resume and delete sandboxes with osb, and check the result.",
     "Use when a task needs a sandbox started, found, kept alive or cleaned up.",
     "Lifecycle"),
    SKILL("command-execution",
     "Run commands in a sandbox: foreground with the remote exit code, background with status and logs, sessions.",
     "Use when a task must execute a build, test, script or one-off command inside a sandbox.",
     "Execution"),
    SKILL("file-operations",
     "Write, read, upload, download, search, move and change files inside a sandbox.",
     "Use when files must go into or out of a sandbox, or be inspected or edited there.",
     "Files"),
    SKILL("network-egress",
     "Inspect and change which outbound hosts a sandbox may reach.",
     "Use when a sandbox cannot reach a host, or outbound access must be opened or closed.",
     "Network"),
    SKILL("credential-vault",
     "Inject credentials into a sandbox's outbound requests without the secret entering the sandbox.",
     "Use when sandboxed code needs API tokens, or vault credentials and bindings must change at run time.",
     "General"),
    {NULL, NULL}};
#define SKILL_COUNT (int)(sizeof SKILLS / sizeof SKILLS[0] - 1)
/* The texts before the help lines in texts.h: the guides (guide i is text
 * i), then each skill's summary and trigger. */
#define SKILL_TEXTS (3 * SKILL_COUNT)

static const char *skill_summary(const skill *s) { return packed_text(SKILL_COUNT + 2 * (int)(s - SKILLS)); }
static const char *skill_trigger(const skill *s) { return packed_text(SKILL_COUNT + 2 * (int)(s - SKILLS) + 1); }

/* Where a tool reads guides: one file per guide (copy) or blocks between
 * markers in one instructions file (append). dir: relative to the project,
 * or to $HOME for the global scope. */
typedef struct agent_tool {
    const char *name, *label;
    int append, keep_frontmatter;
    const char *dir;        /* copy: the directory; append: the file */
    const char *suffix;     /* copy: ".md" or ".mdc" */
    int per_dir;            /* copy: DIR/SLUG/SKILL.md */
} agent_tool;

static const agent_tool TOOLS[] = {
    {"claude", "Claude Code", 0, 1, ".claude/skills", ".md", 0},
    {"cursor", "Cursor", 0, 0, ".cursor/rules", ".mdc", 0},
    {"codex", "Codex", 0, 1, ".codex/skills", ".md", 1},
    {"copilot", "GitHub Copilot", 1, 0, ".github/copilot-instructions.md", NULL, 0},
    {"windsurf", "Windsurf", 1, 0, ".windsurfrules", NULL, 0},
    {"cline", "Cline", 1, 0, ".clinerules", NULL, 0},
    {"opencode", "OpenCode", 0, 1, ".agents/skills", ".md", 1},
    {NULL, NULL, 0, 0, NULL, NULL, 0}};

static const char *const SCOPES[] = {"project", "global", NULL};

static const char *skill_file(const skill *s) {
    static char f[64];
    osb__fmt(f, sizeof f, "opensandbox-%s.md", s->slug);
    return f;
}

static const char *skill_title(const skill *s) {
    static char t[64];
    char *p;
    osb__fmt(t, sizeof t, "OpenSandbox %s", s->slug);
    for (p = t + 12; *p; p++) {
        if (*p == '-') *p = ' ';
        if (p[-1] == ' ') *p = (char)toupper((unsigned char)*p);
    }
    return t;
}

static void skill_markdown(const skill *s, osb_buf *b) {
    bput(b, packed_text((int)(s - SKILLS)));
}

/* The text after the "---" front matter. */
static const char *skill_body(const char *md) {
    const char *end;
    if (strncmp(md, "---\n", 4) != 0) return md;
    end = osb__strstr(md + 4, "\n---\n");
    return end ? end + 5 : md;
}

/* s without leading and trailing white space, into b. */
static void bput_trimmed(osb_buf *b, const char *s, size_t n) {
    while (n && isspace((unsigned char)*s)) s++, n--;
    while (n && isspace((unsigned char)s[n - 1])) n--;
    bputn(b, s, n);
}

/* The guide as installed for a tool: as it is when the tool reads front
 * matter, else a title and summary over the body. */
static void skill_render(const skill *s, const agent_tool *t, osb_buf *out) {
    osb_buf md;
    memset(&md, 0, sizeof md);
    skill_markdown(s, &md);
    if (t->keep_frontmatter) {
        bput_trimmed(out, bstr(&md), md.len);
    } else {
        const char *body = skill_body(bstr(&md));
        bprintf(out, "# %s\n\n%s\n\n", skill_title(s), skill_summary(s));
        bput_trimmed(out, body, strlen(body));
    }
    bput(out, "\n");
    osb_buf_free(&md);
}

static void tool_base(const agent_tool *t, int global, osb_buf *b) {
    const char *home = getenv("HOME");
    if (global) bprintf(b, "%s/", home && *home ? home : ".");
    bput(b, t->dir);
}

static void skill_dest(const agent_tool *t, int global, const skill *s, osb_buf *b) {
    tool_base(t, global, b);
    if (t->append) return;
    if (t->per_dir) bprintf(b, "/%s/SKILL.md", s->slug);
    else bprintf(b, "/%s%s", s->slug, t->suffix);
}

static void tool_layout(const agent_tool *t, int global, osb_buf *b) {
    osb_buf base;
    memset(&base, 0, sizeof base);
    tool_base(t, global, &base);
    if (t->append) bprintf(b, "aggregate into one instructions file at %s", bstr(&base));
    else if (t->per_dir) bprintf(b, "install one file per skill under %s/<skill-name>/SKILL.md", bstr(&base));
    else bprintf(b, "install one file per skill under %s/<skill-name>%s", bstr(&base), t->suffix);
    osb_buf_free(&base);
}

static int file_text(const char *path, osb_buf *b) {
    struct stat st;
    if (stat(path, &st) != 0 || !S_ISREG(st.st_mode)) return -1;
    return read_all(path, b);
}

static void marker(const skill *s, int end, osb_buf *b) {
    bprintf(b, "<!-- %s opensandbox-%s -->", end ? "END" : "BEGIN", s->slug);
}

/* text without the guide's marked block (and the blank lines around it). */
static void without_block(const skill *s, const char *text, osb_buf *out) {
    osb_buf a, z;
    const char *p, *q;
    memset(&a, 0, sizeof a);
    memset(&z, 0, sizeof z);
    marker(s, 0, &a);
    marker(s, 1, &z);
    p = osb__strstr(text, bstr(&a));
    q = osb__strstr(text, bstr(&z));
    if (!p || !q) {
        bput(out, text);
    } else {
        const char *bend = p, *after = q + z.len;
        while (bend > text && bend[-1] == '\n') bend--;
        while (*after == '\n') after++;
        bputn(out, text, (size_t)(bend - text));
        if (bend > text && *after) bput(out, "\n\n");
        bput(out, after);
    }
    if (!out->data) bput(out, "");
    osb_buf_free(&a);
    osb_buf_free(&z);
}

static int has_block(const skill *s, const char *text) {
    osb_buf a, z;
    int r;
    memset(&a, 0, sizeof a);
    memset(&z, 0, sizeof z);
    marker(s, 0, &a);
    marker(s, 1, &z);
    r = osb__strstr(text, bstr(&a)) && osb__strstr(text, bstr(&z));
    osb_buf_free(&a);
    osb_buf_free(&z);
    return r;
}

static int skill_installed(const agent_tool *t, int global, const skill *s) {
    osb_buf dest, text;
    int r;
    memset(&dest, 0, sizeof dest);
    memset(&text, 0, sizeof text);
    skill_dest(t, global, s, &dest);
    if (t->append) r = file_text(bstr(&dest), &text) == 0 && has_block(s, bstr(&text));
    else r = access(bstr(&dest), F_OK) == 0;
    osb_buf_free(&dest);
    osb_buf_free(&text);
    return r;
}

/* Installs one guide for one tool; *status: installed, updated or
 * already_present. -1 (errno) when a file could not be written. */
static int skill_install(const agent_tool *t, int global, const skill *s, const char **status, osb_buf *dest) {
    osb_buf content, old, next;
    int had, r;
    memset(&content, 0, sizeof content);
    memset(&old, 0, sizeof old);
    memset(&next, 0, sizeof next);
    skill_dest(t, global, s, dest);
    skill_render(s, t, &content);
    had = file_text(bstr(dest), &old) == 0;
    if (!t->append) {
        *status = !had ? "installed" : (old.len == content.len && memcmp(bstr(&old), bstr(&content), old.len) == 0)
                                           ? "already_present" : "updated";
        bputn(&next, bstr(&content), content.len);
    } else {
        osb_buf cleaned;
        memset(&cleaned, 0, sizeof cleaned);
        without_block(s, had ? bstr(&old) : "", &cleaned);
        while (cleaned.len && cleaned.data[cleaned.len - 1] == '\n') cleaned.len--;
        if (cleaned.len) {
            bputn(&next, cleaned.data, cleaned.len);
            bput(&next, "\n\n");
        }
        marker(s, 0, &next);
        bput(&next, "\n");
        bput_trimmed(&next, bstr(&content), content.len);
        bput(&next, "\n");
        marker(s, 1, &next);
        bput(&next, "\n");
        if (!had || !old.len) *status = "installed";
        else if (old.len == next.len && memcmp(old.data, next.data, old.len) == 0) *status = "already_present";
        else *status = has_block(s, bstr(&old)) ? "updated" : "installed";
        osb_buf_free(&cleaned);
    }
    r = mkdirs_for(bstr(dest)) == 0 ? write_file_atomic(bstr(dest), bstr(&next), next.len) : -1;
    osb_buf_free(&content);
    osb_buf_free(&old);
    osb_buf_free(&next);
    return r;
}

/* Removes one guide; 1 removed, 0 not installed, -1 (errno) on failure. */
static int skill_uninstall(const agent_tool *t, int global, const skill *s, osb_buf *dest) {
    osb_buf old, cleaned;
    int r = 0;
    skill_dest(t, global, s, dest);
    if (access(bstr(dest), F_OK) != 0) return 0;
    if (!t->append) {
        char *slash;
        if (unlink(bstr(dest)) != 0) return -1;
        slash = strrchr(dest->data, '/');
        if (slash) {
            char *dir = xstrndup(dest->data, (size_t)(slash - dest->data));
            rmdir(dir);   /* only when it is now empty */
            free(dir);
        }
        return 1;
    }
    memset(&old, 0, sizeof old);
    memset(&cleaned, 0, sizeof cleaned);
    if (file_text(bstr(dest), &old) != 0) return -1;
    without_block(s, bstr(&old), &cleaned);
    if (cleaned.len != old.len || memcmp(bstr(&cleaned), bstr(&old), old.len) != 0) {
        const char *p = bstr(&cleaned);
        while (*p && isspace((unsigned char)*p)) p++;
        if (*p) {
            while (cleaned.len && cleaned.data[cleaned.len - 1] == '\n') cleaned.len--;
            bput(&cleaned, "\n");
            r = write_file_atomic(bstr(dest), bstr(&cleaned), cleaned.len) == 0 ? 1 : -1;
        } else {
            r = unlink(bstr(dest)) == 0 ? 1 : -1;
        }
    }
    osb_buf_free(&old);
    osb_buf_free(&cleaned);
    return r;
}

static const skill *find_skill(const char *name) {
    int i;
    for (i = 0; SKILLS[i].slug; i++)
        if (streq_ci(SKILLS[i].slug, name)) return &SKILLS[i];
    return NULL;
}

static void names_of(osb_buf *b, int what) {
    int i;
    if (what == 0) for (i = 0; SKILLS[i].slug; i++) bprintf(b, "%s%s", i ? ", " : "", SKILLS[i].slug);
    if (what == 1) for (i = 0; TOOLS[i].name; i++) bprintf(b, "%s%s", i ? ", " : "", TOOLS[i].name);
    if (what == 2) bput(b, "project, global");
}

/* The usage of `skills install`: why, then the program's name four times. */
PACKED_TEXT(TEXT_SKILLS_USAGE,
    "%s\n\nInstall guidance:\n\n"
    "  Discover bundled skills first:\n    %s skills list\n    %s skills show <skill-name>\n\n"
    "  Install one skill for one tool:\n    %s skills install <skill-name> --target <tool> --scope <scope>\n\n"
    "  Install all bundled skills for one tool:\n"
    "    %s skills install --all-builtins --target <tool> --scope <scope>\n\n  Available skills: ")

static int skills_usage(const char *why) {
    osb_buf b;
    memset(&b, 0, sizeof b);
    bprintf(&b, packed_text(TEXT_SKILLS_USAGE), why, g_prog, g_prog, g_prog, g_prog);
    names_of(&b, 0);
    bput(&b, "\n  Available targets: ");
    names_of(&b, 1);
    bput(&b, ", all\n  Available scopes: ");
    names_of(&b, 2);
    usage_error("%s", bstr(&b));
    osb_buf_free(&b);
    return EX_USAGE;
}

/* --target and --scope: the tools (all of them for "all") and the scope. */
static int skill_targets(args *a, const agent_tool **tools, int *ntools, int *global) {
    const char *t = A(a, "target"), *sc = A(a, "scope");
    int i;
    if (!t) return skills_usage("Missing required option '--target'.");
    if (!sc) return skills_usage("Missing required option '--scope'.");
    if (streq_ci(sc, "project")) *global = 0;
    else if (streq_ci(sc, "global")) *global = 1;
    else return usage_error("invalid scope '%s' (project or global)", sc);
    *ntools = 0;
    for (i = 0; TOOLS[i].name; i++)
        if (streq_ci(t, "all") || streq_ci(t, TOOLS[i].name)) tools[(*ntools)++] = &TOOLS[i];
    if (!*ntools) {
        osb_buf b;
        memset(&b, 0, sizeof b);
        names_of(&b, 1);
        usage_error("invalid target '%s' (%s or all)", t, bstr(&b));
        osb_buf_free(&b);
        return EX_USAGE;
    }
    return EX_OK;
}

static int unknown_skill(const char *name) {
    osb_buf b;
    memset(&b, 0, sizeof b);
    names_of(&b, 0);
    usage_error("no skill '%s' (%s)", name, bstr(&b));
    osb_buf_free(&b);
    return EX_USAGE;
}

/* The operations of install and uninstall: table lines, or the official
 * {"operations": [...], "requires_restart": true}. */
static int skill_ops_done(jv *ops) {
    if (strcmp(g_out, "table") == 0) {
        const jv *o;
        for (o = ops->kid; o; o = o->next)
            out_fmt(0, "  %-15s %s [%s]: %s -> %s\n", jstr(o, "status"), jstr(o, "target_label"), jstr(o, "scope"), jstr(o, "skill"), jstr(o, "path"));
        jv_free(ops);
    } else {
        jv *doc = jobj();
        jset_raw(doc, "operations", ops);
        jset_bool(doc, "requires_restart", 1);
        g_json_ascii = 1;   /* the official skills commands print json.dumps' ASCII */
        show(doc, NULL);
        jv_free(doc);
    }
    out_flush();
    return EX_OK;
}

static jv *skill_op(const skill *s, const agent_tool *t, int global, const char *path, const char *status) {
    jv *o = jobj();
    jset_str(o, "skill", s->slug);
    jset_str(o, "target", t->name);
    jset_str(o, "target_label", t->label);
    jset_str(o, "scope", global ? "global" : "project");
    jset_str(o, "path", path);
    jset_str(o, "status", status);
    jset_bool(o, "requires_restart", 1);
    return o;
}

static int c_skills_install(args *a) {
    const agent_tool *tools[16];
    const skill *one = NULL;
    int ntools, global, i, k, code;
    jv *ops;
    if (AF(a, "all-builtins") && a->npos) return usage_error("Pass either a skill name or --all-builtins, not both.");
    if ((code = skill_targets(a, tools, &ntools, &global)) != EX_OK) return code;
    if (!AF(a, "all-builtins")) {
        if (!a->npos) return skills_usage("A skill name is required unless --all-builtins is used.");
        if (!(one = find_skill(a->pos[0]))) return unknown_skill(a->pos[0]);
    }
    if (strcmp(g_out, "table") == 0) {
        out_fmt(0, "Install plan:\n\n");
        for (k = 0; k < ntools; k++) {
            osb_buf l;
            memset(&l, 0, sizeof l);
            tool_layout(tools[k], global, &l);
            out_fmt(0, "  %s [%s]: %s\n", tools[k]->label, global ? "global" : "project", bstr(&l));
            osb_buf_free(&l);
        }
        out_fmt(0, "\n");
    }
    ops = jv_new(J_ARR);
    for (i = 0; SKILLS[i].slug; i++) {
        if (one && one != &SKILLS[i]) continue;
        for (k = 0; k < ntools; k++) {
            osb_buf dest;
            const char *status = NULL;
            memset(&dest, 0, sizeof dest);
            if (skill_install(tools[k], global, &SKILLS[i], &status, &dest) != 0) {
                code = errorf(EX_LOCALIO, "cannot write %s: %s", bstr(&dest), sys_text(errno));
                osb_buf_free(&dest);
                jv_free(ops);
                return code;
            }
            jv_add(ops, skill_op(&SKILLS[i], tools[k], global, bstr(&dest), status));
            osb_buf_free(&dest);
        }
    }
    skill_ops_done(ops);
    if (strcmp(g_out, "table") == 0) out_fmt(0, "\nDone! Restart your AI coding tool to pick up the updated skill set.\n");
    return EX_OK;
}

static int c_skills_uninstall(args *a) {
    const agent_tool *tools[16];
    const skill *s = find_skill(a->npos ? a->pos[0] : "sandbox-troubleshooting");
    int ntools, global, k, code;
    jv *ops;
    if (!s) return unknown_skill(a->pos[0]);
    if ((code = skill_targets(a, tools, &ntools, &global)) != EX_OK) return code;
    ops = jv_new(J_ARR);
    for (k = 0; k < ntools; k++) {
        osb_buf dest;
        int r;
        memset(&dest, 0, sizeof dest);
        r = skill_uninstall(tools[k], global, s, &dest);
        if (r < 0) {
            code = errorf(EX_LOCALIO, "cannot change %s: %s", bstr(&dest), sys_text(errno));
            osb_buf_free(&dest);
            jv_free(ops);
            return code;
        }
        jv_add(ops, skill_op(s, tools[k], global, bstr(&dest), r ? "removed" : "not_installed"));
        osb_buf_free(&dest);
    }
    return skill_ops_done(ops);
}

static int c_skills_list(args *a) {
    jv *doc = jobj(), *sk = jv_new(J_ARR), *tg = jv_new(J_ARR);
    int i, k, g;
    (void)a;
    for (i = 0; SKILLS[i].slug; i++) {
        jv *o = jobj();
        char tmp[256];
        jset_str(o, "slug", SKILLS[i].slug);
        jset_str(o, "package_file", skill_file(&SKILLS[i]));
        jset_str(o, "title", skill_title(&SKILLS[i]));
        jset_str(o, "summary", skill_summary(&SKILLS[i]));
        jset_str(o, "trigger_hint", skill_trigger(&SKILLS[i]));
        osb__fmt(tmp, sizeof tmp, "opensandbox-%s", SKILLS[i].slug);
        jset_str(o, "marker_id", tmp);
        jset_str(o, "area", SKILLS[i].area);
        osb__fmt(tmp, sizeof tmp, "(built into %s)/%s", g_prog, skill_file(&SKILLS[i]));
        jset_str(o, "source_path", tmp);
        jv_add(sk, o);
    }
    for (k = 0; TOOLS[k].name; k++)
        for (g = 0; g < 2; g++) {
            jv *o = jobj(), *list = jv_new(J_ARR);
            osb_buf l;
            memset(&l, 0, sizeof l);
            tool_layout(&TOOLS[k], g, &l);
            jset_str(o, "target", TOOLS[k].name);
            jset_str(o, "scope", SCOPES[g]);
            jset_str(o, "label", TOOLS[k].label);
            jset_str(o, "layout", bstr(&l));
            for (i = 0; SKILLS[i].slug; i++) {
                jv *r = jobj();
                osb_buf d;
                memset(&d, 0, sizeof d);
                skill_dest(&TOOLS[k], g, &SKILLS[i], &d);
                jset_str(r, "skill", SKILLS[i].slug);
                jset_str(r, "status", skill_installed(&TOOLS[k], g, &SKILLS[i]) ? "installed" : "not installed");
                jset_str(r, "path", bstr(&d));
                jv_add(list, r);
                osb_buf_free(&d);
            }
            jset_raw(o, "skills", list);
            jv_add(tg, o);
            osb_buf_free(&l);
        }
    jset_raw(doc, "skills", sk);
    jset_raw(doc, "targets", tg);
    if (strcmp(g_out, "table") == 0) {
        const jv *t, *r;
        out_fmt(0, "Bundled skills:\n\n");
        for (i = 0; SKILLS[i].slug; i++) {
            out_fmt(0, "  %-24s  [%s] %s\n", SKILLS[i].slug, SKILLS[i].area, skill_summary(&SKILLS[i]));
            out_fmt(0, "  %-24s  Trigger: %s\n", "", skill_trigger(&SKILLS[i]));
        }
        out_fmt(0, "\nSupported targets:\n\n");
        for (t = tg->kid; t; t = t->next) {
            out_fmt(0, "  %-10s  %-8s  %-18s  %s\n", jstr(t, "target"), jstr(t, "scope"), jstr(t, "label"), jstr(t, "layout"));
            for (r = jget(t, "skills")->kid; r; r = r->next)
                out_fmt(0, "  %-10s  %-8s  %-18s  %-24s  %-13s  (%s)\n", "", "", "", jstr(r, "skill"), jstr(r, "status"), jstr(r, "path"));
        }
    } else {
        g_json_ascii = 1;
        show(doc, NULL);
    }
    out_flush();
    jv_free(doc);
    return EX_OK;
}

/* The text of a "## heading" or "### heading" section, trimmed. */
static int md_section(const char *body, const char *heading, osb_buf *out) {
    const char *p = body;
    int level = 0;
    size_t hl = strlen(heading);
    osb_buf acc;
    memset(&acc, 0, sizeof acc);
    while (*p) {
        const char *nl = strchr(p, '\n');
        size_t n = nl ? (size_t)(nl - p) : strlen(p);
        int h = n >= 3 && strncmp(p, "## ", 3) == 0 ? 2 : n >= 4 && strncmp(p, "### ", 4) == 0 ? 3 : 0;
        if (h) {
            if (level == 2 && h == 2) break;
            if (level == 3) break;
            if (!level && n == (size_t)h + 1 + hl && strncmp(p + h + 1, heading, hl) == 0) {
                level = h;
                p = nl ? nl + 1 : p + n;
                continue;
            }
        }
        if (level) {
            bputn(&acc, p, n);
            bput(&acc, "\n");
        }
        p = nl ? nl + 1 : p + n;
    }
    if (acc.len) bput_trimmed(out, acc.data, acc.len);
    osb_buf_free(&acc);
    return level && out->len;
}

static int c_skills_show(args *a) {
    static const char *const quick[] = {"Triage Order", "Golden Paths", "Core Workflow", "Command Map",
                                        "Inspect Current Policy", NULL};
    const skill *s = find_skill(a->pos[0]);
    osb_buf md, when, qs, shapes;
    const char *body, *js;
    jv *doc;
    int i;
    if (!s) return unknown_skill(a->pos[0]);
    memset(&md, 0, sizeof md);
    memset(&when, 0, sizeof when);
    memset(&qs, 0, sizeof qs);
    memset(&shapes, 0, sizeof shapes);
    skill_markdown(s, &md);
    body = skill_body(bstr(&md));
    md_section(body, "When To Use", &when);
    for (i = 0; quick[i] && !qs.len; i++) md_section(body, quick[i], &qs);
    if ((js = osb__strstr(body, "```json")) != NULL) {
        const char *e = osb__strstr(js + 7, "```");
        if (e) bput_trimmed(&shapes, js + 7, (size_t)(e - js - 7));
    }
    if (strcmp(g_out, "table") == 0) {
        out_fmt(0, "Skill: %s\nTitle: %s\nArea: %s\nSummary: %s\nTrigger: %s\n\n", s->slug, skill_title(s), s->area, skill_summary(s), skill_trigger(s));
        if (when.len) out_fmt(0, "When To Use:\n%s\n\n", bstr(&when));
        if (qs.len) out_fmt(0, "Quick Start:\n%s\n\n", bstr(&qs));
        if (shapes.len) out_fmt(0, "JSON Shapes:\n%s\n\n", bstr(&shapes));
        out_fmt(0, "Full Skill:\n");
        out_put(0, md.data, md.len);
    } else {
        osb_buf full;
        memset(&full, 0, sizeof full);
        bput_trimmed(&full, bstr(&md), md.len);
        doc = jobj();
        jset_str(doc, "skill", s->slug);
        jset_str(doc, "title", skill_title(s));
        jset_str(doc, "area", s->area);
        jset_str(doc, "summary", skill_summary(s));
        jset_str(doc, "trigger_hint", skill_trigger(s));
        jset_str(doc, "when_to_use", when.len ? bstr(&when) : NULL);
        jset_str(doc, "quick_start", qs.len ? bstr(&qs) : NULL);
        jset_str(doc, "json_shapes", shapes.len ? bstr(&shapes) : NULL);
        jset_str(doc, "content", bstr(&full));
        g_json_ascii = 1;
        show(doc, NULL);
        jv_free(doc);
        osb_buf_free(&full);
    }
    out_flush();
    osb_buf_free(&md);
    osb_buf_free(&when);
    osb_buf_free(&qs);
    osb_buf_free(&shapes);
    return EX_OK;
}
