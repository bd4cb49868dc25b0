/* tools/osb/file.c -- osb file ....
 * Part of osb: built as one translation unit by main.c. */

/* >>file =================================================================== */
static int parse_mode(const char *s, int *out) {
    long long v;
    size_t i;
    if (!s) { *out = 0; return 0; }
    for (i = 0; s[i]; i++)
        if (s[i] < '0' || s[i] > '7') return -1;
    if (parse_int(s, 0, 7777, &v) != 0) return -1;
    *out = (int)v;  /* octal digits written as decimal, as execd wants */
    return 0;
}

typedef struct freader {
    int fd;
    progress *pg;
} freader;

static ptrdiff_t file_read(void *user, void *buf, size_t cap) {
    freader *f = (freader *)user;
    for (;;) {
        ssize_t n;
        if (g_sigint) return -1;   /* Ctrl-C: stop the upload */
        n = read(f->fd, buf, cap);
        if (n < 0 && errno == EINTR && !g_sigint) continue;
        if (n < 0) return -1;
        if (f->pg) {
            f->pg->done += n;
            progress_draw(f->pg, 0);
        }
        return (ptrdiff_t)n;
    }
}

static int check_encoding(const char *enc) {
    if (enc && !streq_ci(enc, "utf-8") && !streq_ci(enc, "utf8") && !streq_ci(enc, "ascii") && !streq_ci(enc, "binary"))
        return usage_error("unsupported encoding '%s' (utf-8, ascii or binary)", enc);
    return EX_OK;
}

static int c_file_write(args *a) {
    osb_upload_file f;
    osb_buf data;
    int mode, code;
    osb_err e;
    jv *o;
    if ((code = check_encoding(A(a, "encoding"))) != 0) return code;
    if (parse_mode(A(a, "mode"), &mode) != 0) return usage_error("invalid mode '%s' (octal, e.g. 644)", A(a, "mode"));
    memset(&data, 0, sizeof data);
    if (!A(a, "content") && isatty(0)) out_puts(1, "Reading from stdin (Ctrl+D to finish):\n");
    if (A(a, "content")) bput(&data, A(a, "content"));
    else if (read_all("-", &data) != 0) return errorf(EX_LOCALIO, "cannot read stdin: %s", sys_text(errno));
    if ((code = connect_sb(a->pos[0], 0)) != 0) {
        osb_buf_free(&data);
        return code;
    }
    memset(&f, 0, sizeof f);
    f.path = a->pos[1];
    f.owner = A(a, "owner");
    f.group = A(a, "group");
    f.mode = A(a, "mode") ? mode : 644;
    f.data = data.data;
    f.size = data.len;
    e = osb_files_upload(CLI, EXECD, &f, 1);
    if (e != OSB_OK) {
        osb_buf_free(&data);
        return report(e, "cannot write the file");
    }
    o = status_msg("ok", "Written: %s", a->pos[1]);
    show_msg(o, "Wrote %lu bytes to %s", (unsigned long)data.len, a->pos[1]);
    osb_buf_free(&data);
    return EX_OK;
}

static int c_file_upload(args *a) {
    struct stat st;
    osb_upload_file f;
    freader fr;
    progress pg;
    int fd, code, mode;
    osb_err e;
    jv *o;
    if (parse_mode(A(a, "mode"), &mode) != 0) return usage_error("invalid mode '%s' (octal, e.g. 644)", A(a, "mode"));
    fd = open(a->pos[1], O_RDONLY);
    if (fd < 0) return errorf(EX_LOCALIO, "cannot open %s: %s", a->pos[1], sys_text(errno));
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return errorf(EX_LOCALIO, "%s is not a regular file", a->pos[1]);
    }
    if ((code = connect_sb(a->pos[0], 0)) != 0) {
        close(fd);
        return code;
    }
    progress_start(&pg, "upload", (int64_t)st.st_size, 0);
    fr.fd = fd;
    fr.pg = &pg;
    memset(&f, 0, sizeof f);
    f.path = a->pos[2];
    f.owner = A(a, "owner");
    f.group = A(a, "group");
    f.mode = mode;
    f.read = file_read;
    f.read_user = &fr;
    f.size = (uint64_t)st.st_size;
    e = osb_files_upload(CLI, EXECD, &f, 1);
    close(fd);
    if (e != OSB_OK) {
        if (pg.on) out_put(1, "\n", 1);
        return report(e, "upload failed");
    }
    progress_draw(&pg, 1);
    o = status_msg("ok", "Uploaded: %s \xE2\x86\x92 %s", a->pos[1], a->pos[2]);
    return show_msg(o, "Uploaded %s -> %s (%lld bytes)", a->pos[1], a->pos[2], (long long)st.st_size);
}

typedef struct dl {
    int fd;
    progress pg;
    uint64_t bytes;
    int err;
} dl;

static int dl_sink(void *user, const void *data, size_t len) {
    dl *d = (dl *)user;
    const char *p = (const char *)data;
    while (len) {
        ssize_t n = write(d->fd, p, len);
        if (n < 0) {
            if (errno == EINTR && !g_sigint) continue;
            d->err = errno;
            return 1;
        }
        p += n;
        len -= (size_t)n;
        d->bytes += (uint64_t)n;
        d->pg.done += n;
    }
    progress_draw(&d->pg, 0);
    return 0;
}

/* "A-B", "A-" or "-N" into offset/length (-N needs the size). */
static int parse_range(const char *r, uint64_t size, int have_size, uint64_t *off, uint64_t *len) {
    const char *dash = strchr(r, '-');
    long long a_ = -1, b_ = -1;
    char tmp[32];
    if (!dash || strchr(dash + 1, '-')) return -1;
    if (dash > r) {
        if ((size_t)(dash - r) >= sizeof tmp) return -1;
        memcpy(tmp, r, (size_t)(dash - r));
        tmp[dash - r] = 0;
        if (parse_int(tmp, 0, INT64_MAX, &a_) != 0) return -1;
    }
    if (dash[1] && parse_int(dash + 1, 0, INT64_MAX, &b_) != 0) return -1;
    if (a_ < 0 && b_ < 0) return -1;
    if (a_ < 0) {   /* suffix */
        if (!have_size) return -2;
        *off = (uint64_t)b_ >= size ? 0 : size - (uint64_t)b_;
        *len = size - *off;
        if (*len == 0) return -1;
        return 0;
    }
    *off = (uint64_t)a_;
    if (b_ >= 0) {
        if (b_ < a_) return -1;
        *len = (uint64_t)(b_ - a_ + 1);
    } else {
        *len = 0;
    }
    return 0;
}

static int check_range(const char *range) {
    uint64_t o, l;
    if (range && parse_range(range, UINT64_MAX / 2, 1, &o, &l) != 0)
        return usage_error("invalid range '%s' (START-END, START- or -SUFFIX)", range);
    return EX_OK;
}

static int file_size(const char *remote, uint64_t *size) {
    osb_file_info_list *l = NULL;
    const char *paths[1];
    osb_err e;
    paths[0] = remote;
    e = osb_files_info(CLI, EXECD, paths, 1, &l);
    if (e != OSB_OK) return report(e, "cannot get the file size");
    *size = l->count ? (uint64_t)l->items[0].size : 0;
    osb_result_free(l);
    return EX_OK;
}

/* Downloads remote into fd. Returns the exit code; *already: 416 on resume. */
/* lines: NULL, or {first line (1-based), at most this many; 0 = not sent}
 * for execd's line reads. */
static int download(const char *remote, int fd, const char *range, uint64_t resume_from, int show_progress,
                    const int64_t *lines, uint64_t *got, int *already) {
    osb_download_request req;
    osb_download_info info;
    dl d;
    osb_err e;
    uint64_t size = 0;
    int code, have_size = 0;
    memset(&req, 0, sizeof req);
    memset(&d, 0, sizeof d);
    memset(&info, 0, sizeof info);
    req.path = remote;
    req.cancel = &g_cancel;
    if (lines) {
        req.line_offset = lines[0];
        req.line_limit = lines[1];
    }
    d.fd = fd;
    if ((show_progress && isatty(2)) || (range && range[0] == '-')) {
        if ((code = file_size(remote, &size)) != 0) return code;
        have_size = 1;
    }
    if (range) {
        int r = parse_range(range, size, have_size, &req.offset, &req.length);
        if (r != 0) return usage_error("invalid range '%s' (START-END, START- or -SUFFIX)", range);
    } else if (resume_from) {
        req.offset = resume_from;
    }
    progress_start(&d.pg, "download", have_size ? (int64_t)(req.length ? req.offset + req.length : size) : -1,
                   (int64_t)req.offset);
    if (!show_progress) d.pg.on = 0;
    e = osb_files_download(CLI, EXECD, &req, dl_sink, &d, &info);
    if (d.pg.on) progress_draw(&d.pg, 1);
    *got = d.bytes;
    if (d.err) return errorf(EX_LOCALIO, "cannot write: %s", sys_text(d.err));
    if (e == OSB_ERR_HTTP && osb_client_error(CLI)->http_status == 416 && resume_from) {
        *already = 1;
        return EX_OK;
    }
    if (e != OSB_OK) return report(e, "download failed");
    return EX_OK;
}

static int c_file_cat(args *a) {
    uint64_t got = 0;
    int already = 0, code;
    if ((code = check_encoding(A(a, "encoding"))) != 0) return code;
    int64_t lines[2] = {0, 0};
    long long v;
    if ((code = check_range(A(a, "range"))) != 0) return code;
    if (A(a, "offset")) {
        if (parse_int(A(a, "offset"), 1, INT64_MAX, &v) != 0) return usage_error("invalid --offset '%s' (a line number from 1)", A(a, "offset"));
        lines[0] = v;
    }
    if (A(a, "limit")) {
        if (parse_int(A(a, "limit"), 1, INT64_MAX, &v) != 0) return usage_error("invalid --limit '%s' (1 or more lines)", A(a, "limit"));
        lines[1] = v;
    }
    if ((lines[0] || lines[1]) && A(a, "range")) return usage_error("--range and --offset/--limit are exclusive");
    if ((code = connect_sb(a->pos[0], 0)) != 0) return code;
    out_flush();
    return download(a->pos[1], 1, A(a, "range"), 0, 0, lines[0] || lines[1] ? lines : NULL, &got, &already);
}

static int c_file_download(args *a) {
    int fd, code, already = 0;
    uint64_t got = 0, from = 0;
    const char *range = A(a, "range"), *local = a->pos[2];
    jv *o;
    if (range && AF(a, "resume")) return usage_error("--range and --resume are exclusive");
    if ((code = check_range(range)) != 0) return code;
    if ((code = connect_sb(a->pos[0], 0)) != 0) return code;
    if (strcmp(local, "-") == 0) {
        out_flush();
        return download(a->pos[1], 1, range, 0, 0, NULL, &got, &already);
    }
    if (mkdirs_for(local) != 0) return errorf(EX_LOCALIO, "cannot create the directory of %s: %s", local, sys_text(errno));
    if (AF(a, "resume")) {
        struct stat st;
        if (stat(local, &st) == 0 && S_ISREG(st.st_mode)) from = (uint64_t)st.st_size;
        fd = open(local, O_WRONLY | O_CREAT | O_APPEND, 0644);
    } else {
        fd = open(local, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    }
    if (fd < 0) return errorf(EX_LOCALIO, "cannot open %s: %s", local, sys_text(errno));
    code = download(a->pos[1], fd, range, from, 1, NULL, &got, &already);
    if (close(fd) != 0 && !code) code = errorf(EX_LOCALIO, "cannot write %s: %s", local, sys_text(errno));
    if (code) return code;
    o = status_msg("ok", "Downloaded: %s \xE2\x86\x92 %s", a->pos[1], local);
    if (already) return show_msg(o, "%s is already complete (%llu bytes)", local, (unsigned long long)from);
    return show_msg(o, "Downloaded %s -> %s (%llu bytes)", a->pos[1], local, (unsigned long long)got);
}

/* Table: "VERB PATH" lines; json/yaml: the official rows
 * [{"path": PATH, "status": status}]. */
static int paths_done(args *a, const char *verb, const char *status) {
    jv *list;
    int i;
    if (strcmp(g_out, "table") == 0) {
        for (i = 1; i < a->npos; i++) out_fmt(0, "%s %s\n", verb, a->pos[i]);
        out_flush();
        return EX_OK;
    }
    list = jv_new(J_ARR);
    for (i = 1; i < a->npos; i++) {
        jv *o = jobj();
        jset_str(o, "path", a->pos[i]);
        jset_str(o, "status", status);
        jv_add(list, o);
    }
    show(list, NULL);
    jv_free(list);
    return EX_OK;
}

static int c_file_rm(args *a) {
    osb_err e;
    int code = connect_sb(a->pos[0], 0);
    if (code) return code;
    e = osb_files_delete(CLI, EXECD, (const char *const *)&a->pos[1], (size_t)(a->npos - 1));
    return e != OSB_OK ? report(e, "cannot remove") : paths_done(a, "Removed", "deleted");
}

static int c_file_rmdir(args *a) {
    osb_err e;
    int code = connect_sb(a->pos[0], 0);
    if (code) return code;
    e = osb_dir_delete(CLI, EXECD, (const char *const *)&a->pos[1], (size_t)(a->npos - 1));
    return e != OSB_OK ? report(e, "cannot remove the directory") : paths_done(a, "Removed", "removed");
}

static int c_file_mv(args *a) {
    osb_file_move m;
    osb_err e;
    jv *o;
    int code = connect_sb(a->pos[0], 0);
    if (code) return code;
    m.src = a->pos[1];
    m.dest = a->pos[2];
    e = osb_files_move(CLI, EXECD, &m, 1);
    if (e != OSB_OK) return report(e, "cannot move");
    o = status_msg("ok", "Moved: %s \xE2\x86\x92 %s", a->pos[1], a->pos[2]);
    return show_msg(o, "Moved %s -> %s", a->pos[1], a->pos[2]);
}

static int perms(args *a, int first, int last, int def_mode, osb_file_perm **out) {
    int i, mode;
    osb_file_perm *p;
    if (parse_mode(A(a, "mode"), &mode) != 0) return usage_error("invalid mode '%s' (octal, e.g. 755)", A(a, "mode"));
    p = (osb_file_perm *)xmalloc(sizeof *p * (size_t)(last - first + 1));
    for (i = first; i <= last; i++) {
        p[i - first].path = a->pos[i];
        p[i - first].owner = A(a, "owner");
        p[i - first].group = A(a, "group");
        p[i - first].mode = A(a, "mode") ? mode : def_mode;
    }
    *out = p;
    return EX_OK;
}

static int c_file_mkdir(args *a) {
    osb_file_perm *p;
    osb_err e;
    int code = perms(a, 1, a->npos - 1, 755, &p);
    if (code) return code;
    if ((code = connect_sb(a->pos[0], 0)) != 0) return code;
    e = osb_dir_create(CLI, EXECD, p, (size_t)(a->npos - 1));
    free(p);
    return e != OSB_OK ? report(e, "cannot create the directory") : paths_done(a, "Created", "created");
}

static int c_file_chmod(args *a) {
    osb_file_perm *p;
    osb_err e;
    jv *o;
    int code = perms(a, 1, 1, 0, &p);
    if (code) return code;
    if ((code = connect_sb(a->pos[0], 0)) != 0) return code;
    e = osb_files_chmod(CLI, EXECD, p, 1);
    free(p);
    if (e != OSB_OK) return report(e, "cannot change permissions");
    o = status_msg("ok", "Permissions set: %s", a->pos[1]);
    return show_msg(o, "Changed %s to mode %s", a->pos[1], A(a, "mode"));
}

static const view V_FILES = {"PATH=path,TYPE=type,SIZE=size,MODE=mode,OWNER=owner,GROUP=group,MODIFIED=modified_at", ""};

/* FileInfo objects from the typed list (field names as execd sends them). */
static jv *file_jv(const osb_file_info *f) {
    jv *o = jobj();
    jset_raw(o, "path", sjv(f->path));
    if (f->type.ptr) jset_raw(o, "type", sjv(f->type));
    jset_num(o, "size", (long long)f->size);
    jset_raw(o, "modified_at", sjv(f->modified_at));
    jset_raw(o, "created_at", sjv(f->created_at));
    jset_raw(o, "owner", sjv(f->owner));
    jset_raw(o, "group", sjv(f->group));
    jset_num(o, "mode", f->mode);
    return o;
}

static int show_files(osb_file_info_list *l, int as_map) {
    jv *doc = as_map && strcmp(g_out, "table") != 0 ? jobj() : jv_new(J_ARR);
    size_t i;
    for (i = 0; i < l->count; i++) {
        jv *f = file_jv(&l->items[i]);
        if (doc->t == J_OBJ) {
            f->k = xstrndup(l->items[i].key.ptr ? l->items[i].key.ptr : "", l->items[i].key.len);
            jv_add(doc, f);
        } else {
            jv_add(doc, f);
        }
    }
    if (strcmp(g_out, "table") == 0 && !as_map && l->count == 0) out_fmt(0, "No files found.\n");
    else show_shaped(doc, as_map ? shape_file_info : shape_entries, &V_FILES);
    jv_free(doc);
    return EX_OK;
}

static int c_file_search(args *a) {
    osb_file_info_list *l = NULL;
    osb_err e;
    int code = connect_sb(a->pos[0], 0);
    if (code) return code;
    e = osb_files_search(CLI, EXECD, a->pos[1], A(a, "pattern"), &l);
    if (e != OSB_OK) return report(e, "search failed");
    show_files(l, 0);
    osb_result_free(l);
    return EX_OK;
}

static int c_file_ls(args *a) {
    osb_file_info_list *l = NULL;
    long long depth = 1;
    osb_err e;
    int code;
    if (A(a, "depth") && parse_int(A(a, "depth"), 1, 2147483647LL, &depth) != 0)
        return usage_error("invalid depth '%s' (1 or more)", A(a, "depth"));
    if ((code = connect_sb(a->pos[0], 0)) != 0) return code;
    e = osb_dir_list(CLI, EXECD, a->npos > 1 ? a->pos[1] : "/", (int)depth, &l);
    if (e != OSB_OK) return report(e, "cannot list the directory");
    show_files(l, 0);
    osb_result_free(l);
    return EX_OK;
}

static int c_file_info(args *a) {
    osb_file_info_list *l = NULL;
    osb_err e;
    int code = connect_sb(a->pos[0], 0);
    if (code) return code;
    e = osb_files_info(CLI, EXECD, (const char *const *)&a->pos[1], (size_t)(a->npos - 1), &l);
    if (e != OSB_OK) return report(e, "cannot get file info");
    show_files(l, 1);
    osb_result_free(l);
    return EX_OK;
}

static int c_file_replace(args *a) {
    osb_file_replace r;
    osb_replace_counts *counts = NULL;
    osb_err e;
    jv *o;
    long long n = -1;
    int code;
    if (!*A(a, "old")) return usage_error("--old must not be empty");
    if ((code = connect_sb(a->pos[0], 0)) != 0) return code;
    r.path = a->pos[1];
    r.old_text = A(a, "old");
    r.new_text = A(a, "new");
    e = osb_files_replace(CLI, EXECD, &r, 1, &counts);
    if (e != OSB_OK) return report(e, "replace failed");
    if (counts && counts->count) n = (long long)counts->items[0].replaced;
    osb_result_free(counts);
    o = status_msg("ok", "Replaced in: %s", a->pos[1]);
    if (n >= 0) return show_msg(o, "Replaced %lld occurrence(s) in %s", n, a->pos[1]);
    return show_msg(o, "Replaced in %s", a->pos[1]);
}
