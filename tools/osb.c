/* osb -- the OpenSandbox command-line tool, built only on opensandbox.h.
 *
 * The command tree, flags, config file (~/.opensandbox/config.toml) and
 * output formats of the official `osb`, plus snapshots, metadata patches,
 * directory listings, egress rule deletion, code contexts, per-command
 * env/uid/gid and ranged/resumed downloads. `osb --help` lists the commands
 * and the exit codes; tools/README.md has the details.
 *
 * Build: cc -std=c99 -O2 -I. tools/osb.c -o build/osb   (add -DOSB_TLS=1 -lbearssl for https)
 */
#define _POSIX_C_SOURCE 200809L
#define OPENSANDBOX_IMPLEMENTATION
#include "opensandbox.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

/* >>exit-codes ============================================================= */
/* Documented in `osb --help` and tools/README.md; never renumbered. */
enum {
    EX_OK = 0,
    EX_ERROR = 1,        /* anything not listed below */
    EX_USAGE = 2,        /* unknown command or flag, bad or missing argument */
    EX_CONFIG = 3,       /* config file unreadable or invalid */
    EX_NOTFOUND = 4,     /* HTTP 404/410: no such sandbox, file, snapshot, ... */
    EX_AUTH = 5,         /* HTTP 401/403: API key missing or refused */
    EX_REJECTED = 6,     /* HTTP 400/405/413/415/422: the server refused the request */
    EX_CONFLICT = 7,     /* HTTP 409/412/416: wrong state, revision or range */
    EX_BUSY = 8,         /* HTTP 429/503/507: rate limited or no capacity, retry later */
    EX_SERVER = 9,       /* other 5xx, an error inside a stream, a malformed response */
    EX_CONNECT = 10,     /* DNS, connect, TLS or the connection broke */
    EX_TIMEOUT = 11,     /* a deadline passed (request timeout, ready timeout) */
    EX_LOCALIO = 12,     /* a local file could not be read or written */
    EX_UNAVAILABLE = 13, /* not available in this build (e.g. https without TLS) */
    EX_NOTIMPL = 14,     /* HTTP 501: the server does not implement it */
    EX_INTERRUPTED = 130 /* Ctrl-C */
};


/* >>globals ================================================================ */
typedef struct gopts {
    const char *api_key, *domain, *protocol, *config_path, *output;
    const char *request_timeout;
    int use_server_proxy;          /* -1 unset, 0, 1 */
    int verbose, no_color;
} gopts;

static gopts G = {NULL, NULL, NULL, NULL, NULL, NULL, -1, 0, 0};
static osb_client *CLI;
static volatile int g_cancel;           /* set by SIGINT; the library polls it */
static volatile sig_atomic_t g_sigint;
static int g_color;                      /* colour on stdout */
static const char *g_prog = "osb";

/* Connection settings after flag > env > file > default. */
static struct {
    char api_key[512], domain[512], protocol[512];
    double timeout_s;
    int use_server_proxy;
    int color;
    char image[256], sandbox_timeout[64];
    char path[1024];
    int file_found;
} C;

static void on_sigint(int sig) {
    (void)sig;
    if (g_sigint) _exit(EX_INTERRUPTED);  /* second Ctrl-C: leave now */
    g_sigint = 1;
    g_cancel = 1;
}

static void install_sigint(void) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_sigint;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = 0;  /* no SA_RESTART: blocking calls return EINTR */
    sigaction(SIGINT, &sa, NULL);
}

/* >>util =================================================================== */
static void die_oom(void) {
    fputs("osb: out of memory\n", stderr);
    exit(EX_ERROR);
}

static void *xmalloc(size_t n) {
    void *p = malloc(n ? n : 1);
    if (!p) die_oom();
    return p;
}

static void *xrealloc(void *p, size_t n) {
    p = realloc(p, n ? n : 1);
    if (!p) die_oom();
    return p;
}

static char *xstrndup(const char *s, size_t n) {
    char *p = (char *)xmalloc(n + 1);
    memcpy(p, s, n);
    p[n] = 0;
    return p;
}

static char *xstrdup(const char *s) { return xstrndup(s, strlen(s)); }

static int usage_error(const char *fmt, ...) {
    va_list ap;
    fprintf(stderr, "%s: ", g_prog);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    return EX_USAGE;
}

static int errorf(int code, const char *fmt, ...) {
    va_list ap;
    fprintf(stderr, "%s: error: ", g_prog);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    return code;
}

static void bput(osb_buf *b, const char *s) {
    if (osb_buf_append_str(b, s) != OSB_OK) die_oom();
}

static void bputn(osb_buf *b, const char *s, size_t n) {
    if (osb_buf_append(b, s, n) != OSB_OK) die_oom();
}

static void bprintf(osb_buf *b, const char *fmt, ...) {
    char tmp[1024];
    va_list ap;
    int n;
    va_start(ap, fmt);
    n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (n < 0) return;
    if ((size_t)n < sizeof tmp) {
        bputn(b, tmp, (size_t)n);
    } else {
        char *big = (char *)xmalloc((size_t)n + 1);
        va_start(ap, fmt);
        vsnprintf(big, (size_t)n + 1, fmt, ap);
        va_end(ap);
        bputn(b, big, (size_t)n);
        free(big);
    }
}

static const char *bstr(const osb_buf *b) { return b->data ? b->data : ""; }

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int streq_ci(const char *a, const char *b) {
    for (; *a && *b; a++, b++)
        if (tolower((unsigned char)*a) != tolower((unsigned char)*b)) return 0;
    return *a == *b;
}

/* "1h30m", "90s", "10m", "1h30m45s", "2d", "500ms", bare integer = seconds.
 * Returns 0 and *out seconds, or -1. */
static int parse_duration(const char *s, double *out) {
    double total = 0;
    int any = 0;
    const char *p = s;
    if (!s || !*s) return -1;
    while (*p == ' ') p++;
    if (!*p) return -1;
    {
        char *end;
        double v = strtod(p, &end);
        if (end != p && *end == 0 && isdigit((unsigned char)*p)) {
            if (v < 0) return -1;
            *out = v;
            return 0;
        }
    }
    while (*p) {
        char *end;
        double v;
        if (!isdigit((unsigned char)*p) && *p != '.') return -1;
        v = strtod(p, &end);
        if (end == p) return -1;
        p = end;
        if (p[0] == 'm' && p[1] == 's') { total += v / 1000.0; p += 2; }
        else if (*p == 'd') { total += v * 86400; p++; }
        else if (*p == 'h') { total += v * 3600; p++; }
        else if (*p == 'm') { total += v * 60; p++; }
        else if (*p == 's') { total += v; p++; }
        else return -1;
        any = 1;
    }
    if (!any) return -1;
    *out = total;
    return 0;
}

static int parse_int(const char *s, long long lo, long long hi, long long *out) {
    char *end;
    long long v;
    if (!s || !*s) return -1;
    errno = 0;
    v = strtoll(s, &end, 10);
    if (errno || *end || v < lo || v > hi) return -1;
    *out = v;
    return 0;
}

/* RFC 3339 UTC of now + secs. */
static void rfc3339_in(double secs, char *out, size_t cap) {
    time_t t = time(NULL) + (time_t)(secs + 0.5);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, cap, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* Reads a whole file (or stdin for "-"). */
static int read_all(const char *path, osb_buf *out) {
    char buf[65536];
    int fd = strcmp(path, "-") == 0 ? 0 : open(path, O_RDONLY);
    if (fd < 0) return -1;
    for (;;) {
        ssize_t n = read(fd, buf, sizeof buf);
        if (n < 0) {
            if (errno == EINTR && !g_sigint) continue;
            if (fd) close(fd);
            return -1;
        }
        if (n == 0) break;
        bputn(out, buf, (size_t)n);
    }
    if (fd) close(fd);
    if (!out->data) bputn(out, "", 0);
    return 0;
}

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

static const char *g_out = "table";   /* the resolved -o of the running command */

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

/* >>config-file ============================================================ */
/* ~/.opensandbox/config.toml, as the official CLI reads and writes it:
 *   [connection] api_key, domain, protocol, request_timeout, use_server_proxy
 *   [output]     color
 *   [defaults]   image, timeout ("10m" or "none")
 * Only what the CLI uses of TOML: sections, key = value, strings, numbers,
 * booleans, comments. */
static osb_buf g_toml;
static int g_toml_loaded;

static void config_path(char *out, size_t cap) {
    const char *home = getenv("HOME");
    if (G.config_path) snprintf(out, cap, "%s", G.config_path);
    else snprintf(out, cap, "%s/.opensandbox/config.toml", home && *home ? home : ".");
}

static const char *skip_ws(const char *p, const char *e) {
    while (p < e && (*p == ' ' || *p == '\t')) p++;
    return p;
}

/* Finds [section] key in TOML text; returns the unquoted value in out. */
static int toml_get(const char *text, size_t len, const char *section, const char *key, char *out, size_t cap) {
    const char *p = text, *end = text + len;
    int in_sec = 0;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *le = nl ? nl : end;
        const char *q = skip_ws(p, le);
        if (q < le && *q == '[') {
            const char *r = memchr(q, ']', (size_t)(le - q));
            size_t sl = strlen(section);
            const char *n0 = skip_ws(q + 1, le);
            const char *n1 = r ? r : le;
            while (n1 > n0 && (n1[-1] == ' ' || n1[-1] == '\t')) n1--;
            in_sec = r && (size_t)(n1 - n0) == sl && memcmp(n0, section, sl) == 0;
        } else if (in_sec && q < le && *q != '#') {
            size_t kl = strlen(key);
            const char *k1 = q;
            if ((*k1 == '"' || *k1 == '\'') && (size_t)(le - k1) > kl + 1 && memcmp(k1 + 1, key, kl) == 0 &&
                k1[kl + 1] == *k1)
                k1 += kl + 2;
            else if ((size_t)(le - q) >= kl && memcmp(q, key, kl) == 0)
                k1 = q + kl;
            else
                k1 = NULL;
            if (k1) {
                k1 = skip_ws(k1, le);
                if (k1 < le && *k1 == '=') {
                    const char *v = skip_ws(k1 + 1, le), *ve;
                    size_t o = 0;
                    if (v < le && (*v == '"' || *v == '\'')) {
                        char qc = *v++;
                        while (v < le && *v != qc && o + 1 < cap) {
                            if (qc == '"' && *v == '\\' && v + 1 < le) {
                                v++;
                                switch (*v) {
                                case 'n': out[o++] = '\n'; break;
                                case 't': out[o++] = '\t'; break;
                                default: out[o++] = *v;
                                }
                                v++;
                                continue;
                            }
                            out[o++] = *v++;
                        }
                    } else {
                        ve = v;
                        while (ve < le && *ve != '#') ve++;
                        while (ve > v && (ve[-1] == ' ' || ve[-1] == '\t' || ve[-1] == '\r')) ve--;
                        while (v < ve && o + 1 < cap) out[o++] = *v++;
                    }
                    out[o] = 0;
                    return 1;
                }
            }
        }
        p = nl ? nl + 1 : end;
    }
    return 0;
}

static void load_toml(void) {
    char path[1024];
    if (g_toml_loaded) return;
    g_toml_loaded = 1;
    config_path(path, sizeof path);
    snprintf(C.path, sizeof C.path, "%s", path);
    if (read_all(path, &g_toml) == 0) C.file_found = 1;
}

static int file_get(const char *section, const char *key, char *out, size_t cap) {
    if (!C.file_found) return 0;
    return toml_get(g_toml.data ? g_toml.data : "", g_toml.len, section, key, out, cap);
}


/* Connection settings: flag > environment > config file > default, resolved
 * by the sandbox layer's osb_config_load (the same rules and file as the
 * official CLI). use_file = 0 for `osb config ...`, which uses only flags
 * and the environment. [output] and [defaults] are read here. */
static osb_config CFG;

static int resolve_config(int use_file) {
    char tmp[512];
    osb_err e;
    double secs;
    config_path(C.path, sizeof C.path);
    if (G.protocol && strcmp(G.protocol, "http") != 0 && strcmp(G.protocol, "https") != 0)
        return usage_error("invalid protocol '%s' (http or https)", G.protocol);
    memset(&CFG, 0, sizeof CFG);
    CFG.client.domain = G.domain;
    CFG.client.api_key = G.api_key;
    CFG.client.protocol = G.protocol;
    if (G.request_timeout) {
        if (parse_duration(G.request_timeout, &secs) != 0 || secs <= 0 || secs > 2000000)
            return usage_error("invalid request timeout '%s'", G.request_timeout);
        CFG.request_timeout_ms = (int)(secs * 1000 + 0.5);
        if (CFG.request_timeout_ms <= 0) CFG.request_timeout_ms = 1;
    }
    CFG.use_server_proxy = G.use_server_proxy < 0 ? 0 : (G.use_server_proxy ? 1 : -1);
    CFG.file = use_file ? C.path : "";
    if (use_file && !G.config_path) {
        struct stat st;
        if (stat(C.path, &st) != 0) CFG.file = NULL;   /* a missing default file is fine */
    }
    e = osb_config_load(&CFG);
    if (e != OSB_OK) {
        if (e == OSB_ERR_IO) return errorf(EX_CONFIG, "cannot read %s", C.path);
        return errorf(EX_CONFIG, "%s", CFG.message[0] ? CFG.message : osb_strerror(e));
    }
    snprintf(C.api_key, sizeof C.api_key, "%s", CFG.client.api_key ? CFG.client.api_key : "");
    snprintf(C.domain, sizeof C.domain, "%s", CFG.client.domain ? CFG.client.domain : "localhost:8080");
    snprintf(C.protocol, sizeof C.protocol, "%s", CFG.client.protocol ? CFG.client.protocol : "http");
    C.timeout_s = CFG.request_timeout_ms > 0 ? CFG.request_timeout_ms / 1000.0 : 30;
    C.use_server_proxy = CFG.use_server_proxy == 1;
    C.color = 1;
    C.image[0] = C.sandbox_timeout[0] = 0;
    if (use_file) {
        load_toml();
        if (file_get("output", "color", tmp, sizeof tmp)) {
            int b = osb_config_bool(tmp);
            if (b >= 0) C.color = b;
        }
        file_get("defaults", "image", C.image, sizeof C.image);
        file_get("defaults", "timeout", C.sandbox_timeout, sizeof C.sandbox_timeout);
    }
    return EX_OK;
}

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
        fprintf(stderr, "%s: interrupted\n", g_prog);
        return EX_INTERRUPTED;
    }
    fprintf(stderr, "%s: error: %s", g_prog, what ? what : osb_strerror(e));
    if (d && d->message[0]) fprintf(stderr, ": %s", d->message);
    fputc('\n', stderr);
    if (d) {
        if (d->http_status) fprintf(stderr, "  status:     %d\n", d->http_status);
        if (d->server_code[0]) fprintf(stderr, "  code:       %s\n", d->server_code);
        if (d->request_id[0]) fprintf(stderr, "  request id: %s\n", d->request_id);
        if (e == OSB_ERR_TIMEOUT && d->phase) fprintf(stderr, "  phase:      %s\n", osb_phase_name(d->phase));
    }
    if (e == OSB_ERR_UNSUPPORTED && strcmp(C.protocol, "https") == 0)
        fprintf(stderr, "  this build has no TLS: https is not available in this build\n");
    return code;
}

static int make_client(void) {
    osb_err e;
    CFG.client.user_agent = "osb/" OSB_VERSION_STRING " (opensandbox.h)";
    if (CFG.request_timeout_ms > 0) CFG.client.timeouts.first_byte_ms = CFG.request_timeout_ms;
    e = osb_client_new(&CFG.client, &CLI);
    if (e == OSB_OK && G.verbose) {
        const osb_url *u = osb_client_url(CLI);
        fprintf(stderr, "%s: server %s://%s:%u%s (domain from %s, API key from %s)\n", g_prog, u->https ? "https" : "http",
                u->host, (unsigned)u->port, u->prefix, CFG.domain_source ? CFG.domain_source : "-",
                C.api_key[0] ? (CFG.api_key_source ? CFG.api_key_source : "-") : "nowhere");
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
        fprintf(stderr, "> %s %s%s%s%s\n", r->method, r->to ? r->to->base : C.domain, bstr(&r->path),
                r->query.len ? "?" : "", bstr(&r->query));
    memset(res, 0, sizeof *res);
    e = osb_request_raw(CLI, &q, res);
    if (G.verbose) {
        if (e == OSB_OK)
            fprintf(stderr, "< %d%s%s\n", res->status, res->request_id[0] ? " request-id " : "", res->request_id);
        else
            fprintf(stderr, "< %s (HTTP %d)\n", osb_strerror(e), osb_client_error(CLI)->http_status);
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

/* >>args =================================================================== */
enum { O_FLAG, O_VAL, O_MULTI, O_REQ };   /* O_REQ: a value that must be given */

typedef struct opt {
    const char *lng;      /* without "--" */
    char shrt;            /* 0: none */
    int kind;
    const char *meta;
    const char *help;
} opt;

#define MAXO 40
#define MAXPOS 256

struct cmd;
typedef struct args {
    const struct cmd *cmd;
    const char *pos[MAXPOS];
    int npos;
    char **rest;          /* after "--" or the first word of a trailing command */
    int nrest;
    const char **vals[MAXO];
    int nvals[MAXO];
} args;

typedef int (*cmd_fn)(args *a);

typedef struct cmd {
    const char *path;     /* "sandbox create" */
    cmd_fn fn;            /* NULL: a group */
    const opt *opts;
    int min_pos, max_pos; /* -1: unlimited */
    int rest;             /* 1: takes a trailing command (-- CMD...) */
    const char *pos_usage;
    const char *outputs;  /* "table,json,yaml" */
    const char *def_out;
    const char *help;
} cmd;

static int opt_index(const cmd *c, const char *name) {
    int i;
    for (i = 0; c->opts && c->opts[i].lng; i++)
        if (strcmp(c->opts[i].lng, name) == 0) return i;
    return -1;
}

static const char *A(const args *a, const char *name) {
    int i = opt_index(a->cmd, name);
    if (i < 0 || a->nvals[i] == 0) return NULL;
    return a->vals[i][a->nvals[i] - 1];
}

static int AF(const args *a, const char *name) {
    int i = opt_index(a->cmd, name);
    return i >= 0 ? a->nvals[i] : 0;
}

static const char **AM(const args *a, const char *name, int *n) {
    int i = opt_index(a->cmd, name);
    *n = i >= 0 ? a->nvals[i] : 0;
    return i >= 0 ? a->vals[i] : NULL;
}

static void args_add(args *a, int i, const char *v) {
    a->vals[i] = (const char **)xrealloc((void *)a->vals[i], sizeof(char *) * (size_t)(a->nvals[i] + 1));
    a->vals[i][a->nvals[i]++] = v;
}

/* >>progress =============================================================== */
typedef struct progress {
    int on;
    int64_t total;        /* -1 unknown */
    int64_t done, base;   /* base: bytes already there (resume) */
    double start, last;
    const char *label;
} progress;

static void human(double v, char *out, size_t cap) {
    const char *u[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    int i = 0;
    while (v >= 1024 && i < 4) { v /= 1024; i++; }
    if (i == 0) snprintf(out, cap, "%.0f %s", v, u[i]);
    else snprintf(out, cap, "%.1f %s", v, u[i]);
}

static void progress_start(progress *p, const char *label, int64_t total, int64_t base) {
    memset(p, 0, sizeof *p);
    p->on = isatty(2) && strcmp(g_out, "json") != 0;
    p->total = total;
    p->base = base;
    p->label = label;
    p->start = p->last = now_s();
}

static void progress_draw(progress *p, int final) {
    char a[32], b[32], rate[32], eta[32], bar[32];
    double t = now_s(), el = t - p->start, r;
    int64_t cur = p->base + p->done;
    if (!p->on) return;
    if (!final && t - p->last < 0.1) return;
    p->last = t;
    r = el > 0 ? (double)p->done / el : 0;
    human((double)cur, a, sizeof a);
    human(r, rate, sizeof rate);
    if (p->total > 0) {
        int pct = (int)(cur * 100 / p->total), fill = (int)(cur * 20 / p->total), i;
        if (pct > 100) pct = 100;
        if (fill > 20) fill = 20;
        for (i = 0; i < 20; i++) bar[i] = i < fill ? '=' : (i == fill ? '>' : ' ');
        bar[20] = 0;
        human((double)p->total, b, sizeof b);
        if (final) snprintf(eta, sizeof eta, "%.1fs", el);
        else if (r > 0) {
            long s = (long)((double)(p->total - cur) / r);
            snprintf(eta, sizeof eta, "ETA %ld:%02ld", s / 60, s % 60);
        } else snprintf(eta, sizeof eta, "ETA --:--");
        fprintf(stderr, "\r%s [%s] %3d%% %s / %s  %s/s  %s\033[K", p->label, bar, pct, a, b, rate, eta);
    } else {
        fprintf(stderr, "\r%s %s  %s/s  %.1fs\033[K", p->label, a, rate, el);
    }
    if (final) fputc('\n', stderr);
    fflush(stderr);
}

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
        if (EXECD) fprintf(stderr, "%s: execd %s\n", g_prog, EXECD->url);
        if (EGRESS) fprintf(stderr, "%s: egress %s\n", g_prog, EGRESS->url);
    }
    if (want_egress && !EGRESS) return errorf(EX_SERVER, "sandbox %s has no egress endpoint", id);
    return EX_OK;
}

/* A target as an ep for the few raw calls (credential-vault payloads). */
static void ep_from_target(const osb_target *t, ep *out) {
    int i;
    memset(out, 0, sizeof *out);
    if (strstr(t->url, "://")) snprintf(out->base, sizeof out->base, "%s", t->url);
    else snprintf(out->base, sizeof out->base, "%s://%s", C.protocol, t->url);
    for (i = 0; t->headers && t->headers[i] && out->nhdrs < 16; i++) out->hdrs[out->nhdrs++] = xstrdup(t->headers[i]);
}

/* Shows a result's raw JSON. */
static int show_raw(osb_str raw, const view *vw) {
    jv *doc = raw.ptr ? jparse(raw.ptr, raw.len) : NULL;
    if (!doc && raw.ptr && raw.len) {
        doc = jv_new(J_STR);
        doc->s = xstrndup(raw.ptr, raw.len);
        doc->n = raw.len;
    }
    if (doc) show(doc, vw);
    jv_free(doc);
    return EX_OK;
}

static jv *sjv(osb_str s) {
    jv *v = jv_new(s.ptr ? J_STR : J_NULL);
    if (s.ptr) {
        v->s = xstrndup(s.ptr, s.len);
        v->n = s.len;
    }
    return v;
}

static jv *jstrv(const char *s) {
    jv *v = jv_new(J_STR);
    v->s = xstrdup(s);
    v->n = strlen(s);
    return v;
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

/* >>sandbox ================================================================ */
static const view V_SANDBOXES = {"ID=id,STATE=status.state,IMAGE=image.uri,CREATED=createdAt,EXPIRES=expiresAt", "items"};
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
        *code = errorf(EX_LOCALIO, "cannot read %s: %s", path, strerror(errno));
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
    e = osb_sandbox_open(CLI, &req, &o, &SB);
    if (e != OSB_OK) {
        code = report(e, "cannot create the sandbox");
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

static int c_sandbox_list(args *a) {
    osb_sandbox_list_req req;
    osb_sandbox_page *page = NULL;
    const char **v;
    osb_pair *meta = NULL;
    int n, code;
    osb_err e;
    memset(&req, 0, sizeof req);
    if ((code = list_filters(a, &req.states, &req.page, &req.page_size)) != EX_OK) return code;
    v = AM(a, "metadata", &n);
    if (n && (code = pairs_of(v, n, &meta, "metadata filter")) != 0) return code;
    req.metadata = meta;
    req.metadata_count = (size_t)n;
    e = osb_sandbox_list(CLI, &req, &page);
    if (e != OSB_OK) return report(e, "cannot list sandboxes");
    show_raw(page->raw, &V_SANDBOXES);
    osb_result_free(page);
    return EX_OK;
}

static int c_sandbox_get(args *a) {
    osb_sandbox_info *info = NULL;
    osb_err e = osb_sandbox_get(CLI, a->pos[0], &info);
    if (e != OSB_OK) return report(e, "cannot get the sandbox");
    show_raw(info->raw, NULL);
    osb_result_free(info);
    return EX_OK;
}

/* Deletes every positional id with del, reporting each: a table line, or
 * one JSON/YAML list of {"id", flag: true|false}. */
static int delete_each(args *a, osb_err (*del)(osb_client *, const char *), const char *flag,
                       const char *done, const char *failed) {
    int i, code = EX_OK;
    jv *list = jv_new(J_ARR);
    for (i = 0; i < a->npos && !g_sigint; i++) {
        osb_err e = del(CLI, a->pos[i]);
        jv *o = jobj();
        jset_str(o, "id", a->pos[i]);
        jset_bool(o, flag, e == OSB_OK);
        jv_add(list, o);
        if (e != OSB_OK) code = report(e, failed);
        else if (strcmp(g_out, "table") == 0) printf("%s %s\n", done, a->pos[i]);
    }
    if (strcmp(g_out, "table") != 0) show(list, NULL);
    fflush(stdout);
    jv_free(list);
    return code;
}

static int c_sandbox_kill(args *a) {
    return delete_each(a, osb_sandbox_delete, "killed", "Killed sandbox", "cannot kill the sandbox");
}

static int state_msg(const char *id, const char *verb) {
    jv *o = jobj();
    jset_str(o, "id", id);
    jset_str(o, "status", verb);
    return show_msg(o, "Sandbox %s %s", id, verb);
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
    rfc3339_in(secs, when, sizeof when);
    e = osb_sandbox_renew(CLI, a->pos[0], when, &r);
    if (e != OSB_OK) return report(e, "cannot renew the sandbox");
    if (strcmp(g_out, "table") == 0) printf("Sandbox %s expires at %s\n", a->pos[0], r->expires_at.ptr ? r->expires_at.ptr : when);
    else show_raw(r->raw, NULL);
    fflush(stdout);
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
    show_raw(ep_->raw, NULL);
    osb_result_free(ep_);
    return EX_OK;
}

static int c_sandbox_health(args *a) {
    jv *o;
    osb_err e;
    int code = connect_sb(a->pos[0], 0);
    if (code) return code;
    e = osb_execd_ping(CLI, EXECD);
    if (e != OSB_OK) return report(e, "the sandbox is not healthy");
    o = jobj();
    jset_str(o, "id", a->pos[0]);
    jset_bool(o, "healthy", 1);
    return show_msg(o, "Sandbox %s is healthy", a->pos[0]);
}

static int g_watch_rows;

static int metrics_event(void *user, const osb_event *ev) {
    jv *doc;
    (void)user;
    if (ev->type == OSB_EVENT_ERROR) {
        fprintf(stderr, "%s: error: %s\n", g_prog, ev->text.ptr ? ev->text.ptr : "metrics sample failed");
        return 0;
    }
    if (ev->type != OSB_EVENT_METRICS) return 0;
    if (strcmp(g_out, "raw") == 0) {
        fwrite(ev->metrics.raw.ptr, 1, ev->metrics.raw.len, stdout);
        fputc('\n', stdout);
        fflush(stdout);
        return 0;
    }
    doc = jparse(ev->metrics.raw.ptr, ev->metrics.raw.len);
    if (!doc) return 0;
    if (strcmp(g_out, "json") == 0) {
        emit_json(stdout, doc, 0, 0);
        fputc('\n', stdout);
    } else if (strcmp(g_out, "yaml") == 0) {
        fputs("---\n", stdout);
        emit_yaml(stdout, doc, 0);
    } else {
        if (g_watch_rows++ == 0) printf("%-15s %5s %8s %12s %13s\n", "TIMESTAMP", "CPUS", "CPU%", "MEM_USED_MIB", "MEM_TOTAL_MIB");
        printf("%-15lld %5g %8.1f %12.1f %13.1f\n", (long long)ev->metrics.timestamp, ev->metrics.cpu_count,
               ev->metrics.cpu_used_pct, ev->metrics.mem_used_mib, ev->metrics.mem_total_mib);
    }
    fflush(stdout);
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
    show_raw(m->raw, NULL);
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
        else printf("Sandbox %s has no metadata\n", a->pos[0]);
        fflush(stdout);
        jv_free(doc);
    } else {
        show_raw(info->raw, NULL);
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
    show_raw(s->raw, NULL);
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
    show_raw(page->raw, &V_SNAPSHOTS);
    osb_result_free(page);
    return EX_OK;
}

static int c_snapshot_get(args *a) {
    osb_snapshot *s = NULL;
    osb_err e = osb_snapshot_get(CLI, a->pos[0], &s);
    if (e != OSB_OK) return report(e, "cannot get the snapshot");
    show_raw(s->raw, NULL);
    osb_result_free(s);
    return EX_OK;
}

static int c_snapshot_delete(args *a) {
    return delete_each(a, osb_snapshot_delete, "deleted", "Deleted snapshot", "cannot delete the snapshot");
}

/* >>executions ============================================================= */
/* Live output of command run, session run and code run. */
typedef struct live {
    int line_mode;      /* /command and /session events are lines without '\n' */
    int quiet;          /* -o json/yaml: aggregate only */
} live;

static int live_event(void *user, const osb_event *ev) {
    live *l = (live *)user;
    FILE *f;
    if (l->quiet) return 0;
    switch (ev->type) {
    case OSB_EVENT_STDOUT:
    case OSB_EVENT_STDERR:
        f = ev->type == OSB_EVENT_STDOUT ? stdout : stderr;
        if (ev->text.ptr) {
            fwrite(ev->text.ptr, 1, ev->text.len, f);
            if (l->line_mode && !(ev->text.len == 1 && ev->text.ptr[0] == '\n')) fputc('\n', f);
        }
        fflush(f);
        break;
    case OSB_EVENT_RESULT: {
        size_t i;
        const char *t = NULL;
        for (i = 0; i < ev->results_count; i++)
            if (ev->results[i].key.ptr && (strcmp(ev->results[i].key.ptr, "text/plain") == 0 ||
                                           strcmp(ev->results[i].key.ptr, "text") == 0))
                t = ev->results[i].value.ptr;
        if (t) {
            fputs(t, stdout);
            fputc('\n', stdout);
            fflush(stdout);
        }
        break;
    }
    case OSB_EVENT_ERROR: {
        long long ec;
        size_t i;
        /* a command's exit status is the exit code, not an error to print */
        if (ev->evalue.ptr && parse_int(ev->evalue.ptr, -1000000, 1000000, &ec) == 0) break;
        if (ev->traceback_count) {
            for (i = 0; i < ev->traceback_count; i++) fprintf(stderr, "%s\n", ev->traceback[i].ptr ? ev->traceback[i].ptr : "");
        } else {
            fprintf(stderr, "%s: %s\n", ev->ename.ptr ? ev->ename.ptr : "Error", ev->evalue.ptr ? ev->evalue.ptr : "");
        }
        fflush(stderr);
        break;
    }
    default:
        break;
    }
    return 0;
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
            fprintf(stderr, "%s: interrupted; %s %s\n", g_prog, ie == OSB_OK ? "stopped" : "could not stop", id);
        } else {
            fprintf(stderr, "%s: interrupted\n", g_prog);
        }
        return EX_INTERRUPTED;
    }
    if (e != OSB_OK) return report(e, "the execution failed");
    if (!x->exit_code_known && !x->completed && !x->has_error)
        return errorf(EX_SERVER, "the stream ended before the execution finished");
    return exec_status(x);
}

/* >>command ================================================================ */
static char *join_rest(const args *a) {
    osb_buf b;
    int i;
    memset(&b, 0, sizeof b);
    for (i = 0; i < a->nrest; i++) {
        if (i) bput(&b, " ");
        bput(&b, a->rest[i]);
    }
    if (!b.data) bput(&b, "");
    return b.data;
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
    if (A(a, "timeout") && (parse_duration(A(a, "timeout"), &t) != 0 || t <= 0))
        return usage_error("invalid timeout '%s'", A(a, "timeout"));
    if (A(a, "uid") && parse_int(A(a, "uid"), 0, 4294967294LL, &uid) != 0) return usage_error("invalid uid '%s'", A(a, "uid"));
    if (A(a, "gid") && parse_int(A(a, "gid"), 0, 4294967294LL, &gid) != 0) return usage_error("invalid gid '%s'", A(a, "gid"));
    if (gid >= 0 && uid < 0) return usage_error("--gid needs --uid");
    envs = AM(a, "env", &nenv);
    for (i = 0; i < nenv; i++)
        if (!strchr(envs[i], '=') || envs[i][0] == '=') return usage_error("invalid env '%s' (expected KEY=VALUE)", envs[i]);
    if (bg && !G.output) g_out = "table";
    if ((code = connect_sb(a->pos[0], 0)) != 0) return code;
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
    if (bg) {
        char id[OSB_EXEC_ID_MAX];
        jv *o;
        e = osb_command_start(CLI, EXECD, &req, id, sizeof id);
        free(cmdline);
        if (e != OSB_OK) return report(e, "cannot start the command");
        o = jobj();
        jset_str(o, "execution_id", id);
        jset_str(o, "sandbox_id", a->pos[0]);
        if (strcmp(g_out, "raw") == 0) printf("%s\n", id);
        else if (strcmp(g_out, "table") == 0) printf("Started background command %s\n", id);
        else show(o, NULL);
        fflush(stdout);
        jv_free(o);
        return EX_OK;
    }
    memset(&x, 0, sizeof x);
    l.line_mode = 1;
    l.quiet = strcmp(g_out, "raw") != 0;
    x.forward_only = !l.quiet;
    e = osb_command_run(CLI, EXECD, &req, live_event, &l, &x);
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
    show_raw(s->raw, NULL);
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
        fwrite(bstr(&out), 1, out.len, stdout);
    } else if (strcmp(g_out, "table") == 0) {
        fwrite(bstr(&out), 1, out.len, stdout);
        if (out.len && out.data[out.len - 1] != '\n') fputc('\n', stdout);
        printf("(cursor %llu)\n", (unsigned long long)next);
    } else {
        jv *o = jobj();
        jset_strn(o, "output", bstr(&out), out.len);
        jset_num(o, "cursor", (long long)next);
        show(o, NULL);
        jv_free(o);
    }
    fflush(stdout);
    osb_buf_free(&out);
    return EX_OK;
}

static int c_command_interrupt(args *a) {
    jv *o;
    osb_err e;
    int code = connect_sb(a->pos[0], 0);
    if (code) return code;
    e = osb_command_interrupt(CLI, EXECD, a->pos[1]);
    if (e != OSB_OK) return report(e, "cannot interrupt the command");
    o = jobj();
    jset_str(o, "execution_id", a->pos[1]);
    jset_bool(o, "interrupted", 1);
    return show_msg(o, "Interrupted %s", a->pos[1]);
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
    jset_str(o, "session_id", sid);
    if (strcmp(g_out, "raw") == 0) {
        printf("%s\n", sid);
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
    e = osb_session_run(CLI, EXECD, a->pos[1], &req, live_event, &l, &x);
    free(cmdline);
    code = exec_finish(e, &x, 1, NULL);
    if (l.quiet && e == OSB_OK && !g_sigint) exec_json(&x, code);
    osb_execution_free(&x);
    return code;
}

static int c_session_delete(args *a) {
    jv *o;
    osb_err e;
    int code = connect_sb(a->pos[0], 0);
    if (code) return code;
    e = osb_session_delete(CLI, EXECD, a->pos[1]);
    if (e != OSB_OK) return report(e, "cannot delete the session");
    o = jobj();
    jset_str(o, "session_id", a->pos[1]);
    jset_bool(o, "deleted", 1);
    return show_msg(o, "Deleted session %s", a->pos[1]);
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
        if (read_all(a->pos[1], &src) != 0) return errorf(EX_LOCALIO, "cannot read %s: %s", a->pos[1], strerror(errno));
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
    e = osb_code_run(CLI, EXECD, &req, live_event, &l, &x);
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
    if (A(a, "content")) bput(&data, A(a, "content"));
    else if (read_all("-", &data) != 0) return errorf(EX_LOCALIO, "cannot read stdin: %s", strerror(errno));
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
    o = jobj();
    jset_str(o, "path", a->pos[1]);
    jset_num(o, "bytes", (long long)data.len);
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
    if (fd < 0) return errorf(EX_LOCALIO, "cannot open %s: %s", a->pos[1], strerror(errno));
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
        if (pg.on) fputc('\n', stderr);
        return report(e, "upload failed");
    }
    progress_draw(&pg, 1);
    o = jobj();
    jset_str(o, "local", a->pos[1]);
    jset_str(o, "remote", a->pos[2]);
    jset_num(o, "bytes", (long long)st.st_size);
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
static int download(const char *remote, int fd, const char *range, uint64_t resume_from, int show_progress,
                    uint64_t *got, int *already) {
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
    if (d.err) return errorf(EX_LOCALIO, "cannot write: %s", strerror(d.err));
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
    if ((code = check_range(A(a, "range"))) != 0) return code;
    if ((code = connect_sb(a->pos[0], 0)) != 0) return code;
    fflush(stdout);
    return download(a->pos[1], 1, A(a, "range"), 0, 0, &got, &already);
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
        fflush(stdout);
        return download(a->pos[1], 1, range, 0, 0, &got, &already);
    }
    if (AF(a, "resume")) {
        struct stat st;
        if (stat(local, &st) == 0 && S_ISREG(st.st_mode)) from = (uint64_t)st.st_size;
        fd = open(local, O_WRONLY | O_CREAT | O_APPEND, 0644);
    } else {
        fd = open(local, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    }
    if (fd < 0) return errorf(EX_LOCALIO, "cannot open %s: %s", local, strerror(errno));
    code = download(a->pos[1], fd, range, from, 1, &got, &already);
    if (close(fd) != 0 && !code) code = errorf(EX_LOCALIO, "cannot write %s: %s", local, strerror(errno));
    if (code) return code;
    o = jobj();
    jset_str(o, "remote", a->pos[1]);
    jset_str(o, "local", local);
    jset_num(o, "bytes", (long long)got);
    if (AF(a, "resume")) jset_num(o, "resumed_from", (long long)from);
    if (already) return show_msg(o, "%s is already complete (%llu bytes)", local, (unsigned long long)from);
    return show_msg(o, "Downloaded %s -> %s (%llu bytes)", a->pos[1], local, (unsigned long long)got);
}

static int paths_done(args *a, const char *verb) {
    jv *o, *list;
    int i;
    if (strcmp(g_out, "table") == 0) {
        for (i = 1; i < a->npos; i++) printf("%s %s\n", verb, a->pos[i]);
        fflush(stdout);
        return EX_OK;
    }
    list = jv_new(J_ARR);
    for (i = 1; i < a->npos; i++) jv_add(list, jstrv(a->pos[i]));
    o = jobj();
    jset_raw(o, "paths", list);
    jset_str(o, "status", verb);
    show(o, NULL);
    jv_free(o);
    return EX_OK;
}

static int c_file_rm(args *a) {
    osb_err e;
    int code = connect_sb(a->pos[0], 0);
    if (code) return code;
    e = osb_files_delete(CLI, EXECD, (const char *const *)&a->pos[1], (size_t)(a->npos - 1));
    return e != OSB_OK ? report(e, "cannot remove") : paths_done(a, "Removed");
}

static int c_file_rmdir(args *a) {
    osb_err e;
    int code = connect_sb(a->pos[0], 0);
    if (code) return code;
    e = osb_dir_delete(CLI, EXECD, (const char *const *)&a->pos[1], (size_t)(a->npos - 1));
    return e != OSB_OK ? report(e, "cannot remove the directory") : paths_done(a, "Removed");
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
    o = jobj();
    jset_str(o, "src", a->pos[1]);
    jset_str(o, "dest", a->pos[2]);
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
    return e != OSB_OK ? report(e, "cannot create the directory") : paths_done(a, "Created");
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
    o = jobj();
    jset_str(o, "path", a->pos[1]);
    jset_str(o, "mode", A(a, "mode"));
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
    show(doc, &V_FILES);
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
    o = jobj();
    jset_str(o, "path", a->pos[1]);
    if (n >= 0) jset_num(o, "replaced", n);
    if (n >= 0) return show_msg(o, "Replaced %lld occurrence(s) in %s", n, a->pos[1]);
    return show_msg(o, "Replaced in %s", a->pos[1]);
}

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
    char *end;
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
        strtod(tmp, &end);
        if (*end == 0 && (isdigit((unsigned char)tmp[0]) || tmp[0] == '-') && strspn(tmp, "0123456789+-.eE") == n) {
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

/* Flow collections of scalars: [a, "b"] and {k: v}. */
static jv *y_flow(const char *s, size_t n) {
    jv *v = jv_new(s[0] == '[' ? J_ARR : J_OBJ);
    size_t i = 1, end = n - 1;
    while (i < end) {
        size_t st, q;
        char quote = 0;
        while (i < end && (s[i] == ' ' || s[i] == ',')) i++;
        if (i >= end) break;
        st = i;
        for (q = i; q < end; q++) {
            if (quote) { if (s[q] == quote) quote = 0; continue; }
            if (s[q] == '"' || s[q] == '\'') quote = s[q];
            else if (s[q] == ',') break;
        }
        if (v->t == J_ARR) {
            jv_add(v, y_scalar(s + st, q - st));
        } else {
            const char *colon = memchr(s + st, ':', q - st);
            jv *k, *val;
            if (!colon) { jv_free(v); return NULL; }
            k = y_scalar(s + st, (size_t)(colon - (s + st)));
            val = y_scalar(colon + 1 + strspn(colon + 1, " "), (size_t)(s + q - colon - 1) - strspn(colon + 1, " "));
            val->k = xstrdup(k->s ? k->s : "");
            jv_free(k);
            jv_add(v, val);
        }
        i = q + 1;
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

static int vault_show(osb_str raw, const view *vw) {
    jv *doc = jparse(raw.ptr, raw.len);
    if (!doc) return EX_OK;
    if (strcmp(g_out, "table") == 0 && doc->t == J_OBJ && !vw && jget(doc, "credentials") && jget(doc, "bindings")) {
        printf("revision: %s\n", jstr(doc, "revision") ? jstr(doc, "revision") : "-");
        show(doc, &V_CREDS);
        show(doc, &V_BINDINGS);
    } else {
        show(doc, vw);
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
    if (read_all(A(a, "file"), &body) != 0) return errorf(EX_LOCALIO, "cannot read %s: %s", A(a, "file"), strerror(errno));
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
    jv_free(doc);
    if ((code = connect_sb(a->pos[0], 1)) != 0) {
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
        vault_show(s, NULL);
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
                           const view *vw, const char *failed) {
    osb_vault_state *s = NULL;
    osb_err e;
    int code = connect_sb(a->pos[0], 1);
    if (code) return code;
    e = call(CLI, EGRESS, &s);
    if (e != OSB_OK) return report(e, failed);
    vault_show(s->raw, vw);
    osb_result_free(s);
    return EX_OK;
}

static int c_vault_get(args *a) {
    return vault_state_cmd(a, osb_vault_get, NULL, "cannot get the credential vault");
}

static int c_vault_cred_list(args *a) {
    return vault_state_cmd(a, osb_vault_credential_list, &V_CREDS, "cannot list credentials");
}

static int c_vault_cred_get(args *a) {
    osb_vault_credential *s = NULL;
    osb_err e;
    int code = connect_sb(a->pos[0], 1);
    if (code) return code;
    e = osb_vault_credential_get(CLI, EGRESS, a->pos[1], &s);
    if (e != OSB_OK) return report(e, "cannot get the credential");
    show_raw(s->raw, NULL);
    osb_result_free(s);
    return EX_OK;
}

static int c_vault_bind_list(args *a) {
    return vault_state_cmd(a, osb_vault_binding_list, &V_BINDINGS, "cannot list bindings");
}

static int c_vault_bind_get(args *a) {
    osb_vault_binding *s = NULL;
    osb_err e;
    int code = connect_sb(a->pos[0], 1);
    if (code) return code;
    e = osb_vault_binding_get(CLI, EGRESS, a->pos[1], &s);
    if (e != OSB_OK) return report(e, "cannot get the binding");
    show_raw(s->raw, NULL);
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
    jset_bool(o, "deleted", 1);
    return show_msg(o, "Deleted the credential vault of %s", a->pos[0]);
}

/* >>diagnostics ============================================================ */
static int diag(args *a, int events) {
    osb_diagnostic *d = NULL;
    osb_err e = events ? osb_diagnostics_events(CLI, a->pos[0], A(a, "scope"), &d)
                       : osb_diagnostics_logs(CLI, a->pos[0], A(a, "scope"), &d);
    if (e != OSB_OK) return report(e, "cannot read diagnostics");
    if (strcmp(g_out, "raw") == 0 || strcmp(g_out, "table") == 0) {
        const char *c = d->content.ptr ? d->content.ptr : NULL;
        if (strcmp(g_out, "table") == 0)
            printf("sandbox: %s  kind: %s  scope: %s  delivery: %s%s\n", d->sandbox_id.ptr ? d->sandbox_id.ptr : a->pos[0],
                   d->kind.ptr ? d->kind.ptr : (events ? "events" : "logs"), d->scope.ptr ? d->scope.ptr : A(a, "scope"),
                   d->delivery.ptr ? d->delivery.ptr : "-", d->truncated ? "  (truncated)" : "");
        if (c) {
            fputs(c, stdout);
            if (*c && c[strlen(c) - 1] != '\n') fputc('\n', stdout);
        } else if (d->content_url.ptr) {
            printf("%s\n", d->content_url.ptr);
        }
        fflush(stdout);
    } else {
        show_raw(d->raw, NULL);
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
        fwrite(t->text.ptr, 1, t->text.len, stdout);
        if (t->text.ptr[t->text.len - 1] != '\n') fputc('\n', stdout);
    }
    fflush(stdout);
    osb_result_free(t);
    return EX_OK;
}

static int c_devops_logs(args *a) { return devops(a, "logs"); }
static int c_devops_inspect(args *a) { return devops(a, "inspect"); }
static int c_devops_events(args *a) { return devops(a, "events"); }
static int c_devops_summary(args *a) { return devops(a, "summary"); }

/* >>config-commands ======================================================== */
static const char CONFIG_TEMPLATE[] =
    "# OpenSandbox CLI configuration (osb config set SECTION.FIELD VALUE edits it)\n"
    "\n"
    "[connection]\n"
    "# api_key = \"your-api-key\"\n"
    "domain = \"localhost:8080\"\n"
    "protocol = \"http\"\n"
    "request_timeout = 30\n"
    "use_server_proxy = false\n"
    "\n"
    "[output]\n"
    "color = true\n"
    "\n"
    "[defaults]\n"
    "image = \"python:3.11\"\n"
    "timeout = \"10m\"\n";

static int mkdir_parent(const char *path) {
    char dir[1024];
    char *slash;
    snprintf(dir, sizeof dir, "%s", path);
    slash = strrchr(dir, '/');
    if (!slash || slash == dir) return 0;
    *slash = 0;
    if (mkdir(dir, 0700) != 0 && errno != EEXIST) return -1;
    return 0;
}

static int write_file_atomic(const char *path, const char *data, size_t len) {
    char tmp[1100];
    int fd;
    snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid());
    if (mkdir_parent(path) != 0) return -1;
    fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fd < 0) return -1;
    while (len) {
        ssize_t n = write(fd, data, len);
        if (n < 0) {
            if (errno == EINTR) continue;
            close(fd);
            unlink(tmp);
            return -1;
        }
        data += n;
        len -= (size_t)n;
    }
    if (close(fd) != 0 || rename(tmp, path) != 0) {
        unlink(tmp);
        return -1;
    }
    return 0;
}

static int c_config_init(args *a) {
    struct stat st;
    jv *o;
    if (stat(C.path, &st) == 0 && !AF(a, "force"))
        return errorf(EX_CONFLICT, "%s already exists (use --force to overwrite)", C.path);
    if (write_file_atomic(C.path, CONFIG_TEMPLATE, strlen(CONFIG_TEMPLATE)) != 0)
        return errorf(EX_LOCALIO, "cannot write %s: %s", C.path, strerror(errno));
    o = jobj();
    jset_str(o, "path", C.path);
    jset_str(o, "status", "created");
    return show_msg(o, "Created %s", C.path);
}

/* TOML value for a string: bool > int > float > string, as the official CLI. */
static void toml_value(osb_buf *b, const char *v) {
    char *end;
    long long i;
    if (strcmp(v, "true") == 0 || strcmp(v, "false") == 0) { bput(b, v); return; }
    if (streq_ci(v, "true")) { bput(b, "true"); return; }
    if (streq_ci(v, "false")) { bput(b, "false"); return; }
    if (parse_int(v, INT64_MIN, INT64_MAX, &i) == 0) { bprintf(b, "%lld", i); return; }
    if (*v && (strtod(v, &end), *end == 0) && strspn(v, "0123456789.eE+-") == strlen(v)) { bput(b, v); return; }
    bput(b, "\"");
    for (; *v; v++) {
        if (*v == '"' || *v == '\\') bprintf(b, "\\%c", *v);
        else if (*v == '\n') bput(b, "\\n");
        else if (*v == '\t') bput(b, "\\t");
        else bputn(b, v, 1);
    }
    bput(b, "\"");
}

static int name_ok(const char *s, size_t n) {
    size_t i;
    if (!n) return 0;
    for (i = 0; i < n; i++)
        if (!isalnum((unsigned char)s[i]) && s[i] != '_' && s[i] != '-') return 0;
    return 1;
}

static int c_config_set(args *a) {
    const char *key = a->pos[0], *val = a->pos[1], *dot = strchr(key, '.');
    osb_buf text, out, line;
    char section[128], field[128];
    const char *p, *end;
    int in_sec = 0, done = 0, sec_seen = 0;
    size_t insert_at = (size_t)-1;
    jv *o;
    if (!dot || !name_ok(key, (size_t)(dot - key)) || !name_ok(dot + 1, strlen(dot + 1)) ||
        (size_t)(dot - key) >= sizeof section || strlen(dot + 1) >= sizeof field)
        return usage_error("invalid key '%s' (expected SECTION.FIELD, e.g. connection.domain)", key);
    memcpy(section, key, (size_t)(dot - key));
    section[dot - key] = 0;
    snprintf(field, sizeof field, "%s", dot + 1);
    memset(&text, 0, sizeof text);
    memset(&out, 0, sizeof out);
    memset(&line, 0, sizeof line);
    if (read_all(C.path, &text) != 0) {
        if (errno != ENOENT) return errorf(EX_LOCALIO, "cannot read %s: %s", C.path, strerror(errno));
        bput(&text, "");
    }
    bprintf(&line, "%s = ", field);
    toml_value(&line, val);
    bput(&line, "\n");
    p = bstr(&text);
    end = p + text.len;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *le = nl ? nl : end;
        const char *q = skip_ws(p, le);
        size_t fl = strlen(field);
        if (q < le && *q == '[') {
            if (in_sec && !done) {
                /* insert before the next section, after the last non-blank line */
                size_t at = insert_at == (size_t)-1 ? out.len : insert_at;
                osb_buf tail;
                memset(&tail, 0, sizeof tail);
                bputn(&tail, out.data + at, out.len - at);
                out.len = at;
                bputn(&out, line.data, line.len);
                bputn(&out, tail.data ? tail.data : "", tail.len);
                osb_buf_free(&tail);
                done = 1;
            }
            {
                const char *r = memchr(q, ']', (size_t)(le - q));
                const char *n0 = skip_ws(q + 1, le), *n1 = r ? r : le;
                while (n1 > n0 && (n1[-1] == ' ' || n1[-1] == '\t')) n1--;
                in_sec = r && (size_t)(n1 - n0) == strlen(section) && memcmp(n0, section, strlen(section)) == 0;
                if (in_sec) sec_seen = 1;
            }
            bputn(&out, p, (size_t)(le - p) + (nl ? 1 : 0));
            insert_at = out.len;
        } else if (in_sec && !done && (size_t)(le - q) >= fl && memcmp(q, field, fl) == 0 &&
                   *skip_ws(q + fl, le) == '=') {
            bputn(&out, line.data, line.len);
            done = 1;
        } else {
            bputn(&out, p, (size_t)(le - p));
            if (nl) bput(&out, "\n");
            if (in_sec && q < le) insert_at = out.len;
        }
        p = nl ? nl + 1 : end;
    }
    if (!done) {
        if (sec_seen && in_sec) {
            size_t at = insert_at == (size_t)-1 ? out.len : insert_at;
            osb_buf tail;
            memset(&tail, 0, sizeof tail);
            if (out.len && out.data[out.len - 1] != '\n' && at == out.len) bput(&out, "\n"), at = out.len;
            bputn(&tail, out.data + at, out.len - at);
            out.len = at;
            bputn(&out, line.data, line.len);
            bputn(&out, tail.data ? tail.data : "", tail.len);
            osb_buf_free(&tail);
        } else {
            if (out.len && out.data[out.len - 1] != '\n') bput(&out, "\n");
            if (out.len) bput(&out, "\n");
            bprintf(&out, "[%s]\n", section);
            bputn(&out, line.data, line.len);
        }
    }
    if (write_file_atomic(C.path, bstr(&out), out.len) != 0) {
        osb_buf_free(&text);
        osb_buf_free(&out);
        osb_buf_free(&line);
        return errorf(EX_LOCALIO, "cannot write %s: %s", C.path, strerror(errno));
    }
    osb_buf_free(&text);
    osb_buf_free(&out);
    osb_buf_free(&line);
    o = jobj();
    jset_str(o, "key", key);
    jset_str(o, "value", strcmp(key, "connection.api_key") == 0 ? "********" : val);
    jset_str(o, "path", C.path);
    return show_msg(o, "Set %s in %s", key, C.path);
}

static int c_config_show(args *a) {
    jv *o = jobj(), *s;
    char tmp[512];
    (void)a;
    if (resolve_config(1) != EX_OK) return EX_CONFIG;
    jset_str(o, "config_file", C.path);
    jset_bool(o, "config_file_exists", C.file_found);
    s = jobj();
    jset_str(s, "api_key", C.api_key[0] ? "********" : NULL);
    jset_str(s, "domain", C.domain);
    jset_str(s, "protocol", C.protocol);
    snprintf(tmp, sizeof tmp, "%g", C.timeout_s);
    {
        jv *n = jv_new(J_NUM);
        n->s = xstrdup(tmp);
        n->n = strlen(tmp);
        jset_raw(s, "request_timeout", n);
    }
    jset_bool(s, "use_server_proxy", C.use_server_proxy);
    jset_raw(o, "connection", s);
    s = jobj();
    jset_str(s, "api_key", CFG.api_key_source);
    jset_str(s, "domain", CFG.domain_source);
    jset_str(s, "protocol", CFG.protocol_source);
    jset_str(s, "request_timeout", CFG.timeout_source);
    jset_str(s, "use_server_proxy", CFG.proxy_source);
    jset_raw(o, "sources", s);
    s = jobj();
    jset_bool(s, "color", C.color);
    jset_raw(o, "output", s);
    s = jobj();
    jset_str(s, "image", C.image[0] ? C.image : NULL);
    jset_str(s, "timeout", C.sandbox_timeout[0] ? C.sandbox_timeout : NULL);
    jset_raw(o, "defaults", s);
    show(o, NULL);
    jv_free(o);
    return EX_OK;
}

/* >>unavailable ============================================================ */
static int c_unavailable(args *a) {
    return errorf(EX_UNAVAILABLE, "'%s' is not available in this build", a->cmd->path);
}

/* >>tree =================================================================== */
#define OUT_ALL "table,json,yaml,raw"
#define OUT_STD "table,json,yaml"

static const opt O_NONE[] = {{NULL, 0, 0, NULL, NULL}};

static const opt O_SB_CREATE[] = {
    {"image", 'i', O_VAL, "IMAGE", "container image (default: [defaults].image)"},
    {"image-auth-username", 0, O_VAL, "USER", "registry user name"},
    {"image-auth-password", 0, O_VAL, "PASS", "registry password"},
    {"timeout", 't', O_VAL, "DUR|none", "time to live, e.g. 10m, 1h30m; none = no TTL (default [defaults].timeout or 10m)"},
    {"env", 'e', O_MULTI, "K=V", "environment variable (repeatable)"},
    {"metadata", 'm', O_MULTI, "K=V", "metadata label (repeatable)"},
    {"extension", 0, O_MULTI, "K=V", "provider extension (repeatable)"},
    {"resource", 0, O_MULTI, "K=V", "resource limit, e.g. cpu=1 memory=2Gi (repeatable)"},
    {"entrypoint", 0, O_MULTI, "ARG", "entrypoint argument (repeatable; default tail -f /dev/null)"},
    {"network-policy-file", 0, O_VAL, "FILE", "JSON network policy"},
    {"credential-proxy", 0, O_FLAG, NULL, "enable the credential proxy (needs --network-policy-file)"},
    {"volumes-file", 0, O_VAL, "FILE", "JSON array of volumes"},
    {"skip-health-check", 0, O_FLAG, NULL, "do not wait until the sandbox answers"},
    {"ready-timeout", 0, O_VAL, "DUR", "how long to wait until ready (default 30s)"},
    {"platform", 0, O_VAL, "OS[/ARCH]", "platform, e.g. linux/amd64, linux/arm64"},
    {"secure-access", 0, O_FLAG, NULL, "require the secure-access token on sandbox endpoints"},
    {"snapshot", 0, O_VAL, "SNAPSHOT_ID", "restore from a snapshot instead of an image"},
    {NULL, 0, 0, NULL, NULL}};

static const opt O_SB_LIST[] = {
    {"state", 's', O_MULTI, "STATE", "filter by state, case-insensitive (repeatable: OR)"},
    {"metadata", 'm', O_MULTI, "K=V", "filter by metadata (repeatable: AND)"},
    {"page", 0, O_VAL, "N", "page number (from 1)"},
    {"page-size", 0, O_VAL, "N", "items per page"},
    {NULL, 0, 0, NULL, NULL}};

static const opt O_SB_RESUME[] = {
    {"skip-health-check", 0, O_FLAG, NULL, "do not wait until the sandbox answers"},
    {"resume-timeout", 0, O_VAL, "DUR", "how long to wait until ready (default 30s)"},
    {NULL, 0, 0, NULL, NULL}};

static const opt O_SB_RENEW[] = {
    {"timeout", 't', O_REQ, "DUR", "new time to live from now, e.g. 30m (required)"},
    {NULL, 0, 0, NULL, NULL}};

static const opt O_SB_ENDPOINT[] = {
    {"port", 'p', O_REQ, "PORT", "port inside the sandbox, 1-65535 (required)"},
    {"expires", 0, O_VAL, "DUR", "signed route valid for DUR (gateway deployments)"},
    {NULL, 0, 0, NULL, NULL}};

static const opt O_SB_METRICS[] = {
    {"watch", 0, O_FLAG, NULL, "stream metrics until Ctrl-C"},
    {NULL, 0, 0, NULL, NULL}};

static const opt O_SB_METADATA[] = {
    {"set", 0, O_MULTI, "K=V", "set a key (repeatable; same as a KEY=VALUE argument)"},
    {"unset", 0, O_MULTI, "KEY", "remove a key (repeatable; same as a KEY- argument)"},
    {NULL, 0, 0, NULL, NULL}};

static const opt O_SNAP_CREATE[] = {
    {"name", 0, O_VAL, "NAME", "snapshot name"},
    {"wait", 0, O_FLAG, NULL, "wait until the snapshot is Ready"},
    {NULL, 0, 0, NULL, NULL}};

static const opt O_SNAP_LIST[] = {
    {"sandbox", 0, O_VAL, "ID", "only snapshots of this sandbox"},
    {"state", 's', O_MULTI, "STATE", "filter by state (repeatable)"},
    {"page", 0, O_VAL, "N", "page number (from 1)"},
    {"page-size", 0, O_VAL, "N", "items per page"},
    {NULL, 0, 0, NULL, NULL}};

static const opt O_CMD_RUN[] = {
    {"background", 'd', O_FLAG, NULL, "run in the background and print the execution id"},
    {"workdir", 'w', O_VAL, "DIR", "working directory"},
    {"timeout", 't', O_VAL, "DUR", "kill the command after DUR"},
    {"env", 'e', O_MULTI, "K=V", "environment variable (repeatable)"},
    {"uid", 0, O_VAL, "UID", "run as this user id"},
    {"gid", 0, O_VAL, "GID", "run with this group id (needs --uid)"},
    {NULL, 0, 0, NULL, NULL}};

static const opt O_CMD_LOGS[] = {
    {"cursor", 0, O_VAL, "N", "byte offset to read from (from the last call)"},
    {NULL, 0, 0, NULL, NULL}};

static const opt O_WORKDIR[] = {
    {"workdir", 'w', O_VAL, "DIR", "working directory"},
    {NULL, 0, 0, NULL, NULL}};

static const opt O_SESSION_RUN[] = {
    {"workdir", 'w', O_VAL, "DIR", "working directory"},
    {"timeout", 't', O_VAL, "DUR", "kill the command after DUR"},
    {NULL, 0, 0, NULL, NULL}};

static const opt O_FILE_CAT[] = {
    {"encoding", 0, O_VAL, "ENC", "text encoding (utf-8)"},
    {"range", 0, O_VAL, "A-B", "only bytes A to B"},
    {NULL, 0, 0, NULL, NULL}};

static const opt O_FILE_WRITE[] = {
    {"content", 'c', O_VAL, "TEXT", "content (default: read stdin)"},
    {"encoding", 0, O_VAL, "ENC", "text encoding (utf-8)"},
    {"mode", 0, O_VAL, "MODE", "octal permissions, e.g. 644"},
    {"owner", 0, O_VAL, "USER", "owner"},
    {"group", 0, O_VAL, "GROUP", "group"},
    {NULL, 0, 0, NULL, NULL}};

static const opt O_FILE_UPLOAD[] = {
    {"mode", 0, O_VAL, "MODE", "octal permissions, e.g. 644"},
    {"owner", 0, O_VAL, "USER", "owner"},
    {"group", 0, O_VAL, "GROUP", "group"},
    {NULL, 0, 0, NULL, NULL}};

static const opt O_FILE_DOWNLOAD[] = {
    {"range", 0, O_VAL, "A-B", "only bytes A to B (A-, -N also)"},
    {"resume", 0, O_FLAG, NULL, "continue a partial download of LOCAL_PATH"},
    {NULL, 0, 0, NULL, NULL}};

static const opt O_PERM[] = {
    {"mode", 0, O_VAL, "MODE", "octal permissions, e.g. 755"},
    {"owner", 0, O_VAL, "USER", "owner"},
    {"group", 0, O_VAL, "GROUP", "group"},
    {NULL, 0, 0, NULL, NULL}};

static const opt O_CHMOD[] = {
    {"mode", 0, O_REQ, "MODE", "octal permissions, e.g. 644 (required)"},
    {"owner", 0, O_VAL, "USER", "owner"},
    {"group", 0, O_VAL, "GROUP", "group"},
    {NULL, 0, 0, NULL, NULL}};

static const opt O_FILE_SEARCH[] = {
    {"pattern", 'p', O_VAL, "GLOB", "glob pattern (default **)"},
    {NULL, 0, 0, NULL, NULL}};

static const opt O_FILE_REPLACE[] = {
    {"old", 0, O_REQ, "TEXT", "text to replace (required)"},
    {"new", 0, O_REQ, "TEXT", "replacement (required)"},
    {NULL, 0, 0, NULL, NULL}};

static const opt O_FILE_LS[] = {
    {"depth", 0, O_VAL, "N", "levels to descend (default 1)"},
    {NULL, 0, 0, NULL, NULL}};

static const opt O_EGRESS_PATCH[] = {
    {"rule", 0, O_MULTI, "ACTION=TARGET", "rule, e.g. allow=pypi.org (repeatable)"},
    {NULL, 0, 0, NULL, NULL}};

static const opt O_EGRESS_DELETE[] = {
    {"target", 0, O_MULTI, "TARGET", "target whose rule is removed (repeatable)"},
    {NULL, 0, 0, NULL, NULL}};

static const opt O_VAULT_FILE[] = {
    {"file", 0, O_REQ, "PATH|-", "JSON or YAML payload ('-' = stdin) (required)"},
    {NULL, 0, 0, NULL, NULL}};

static const opt O_DIAG[] = {
    {"scope", 's', O_REQ, "SCOPE", "container, lifecycle, runtime, network, process or all (required)"},
    {NULL, 0, 0, NULL, NULL}};

static const opt O_DEVOPS_LOGS[] = {
    {"tail", 'n', O_VAL, "N", "last N lines (default 100)"},
    {"since", 's', O_VAL, "DUR", "only newer than DUR"},
    {NULL, 0, 0, NULL, NULL}};

static const opt O_DEVOPS_EVENTS[] = {
    {"limit", 'l', O_VAL, "N", "at most N events (default 50)"},
    {NULL, 0, 0, NULL, NULL}};

static const opt O_DEVOPS_SUMMARY[] = {
    {"tail", 'n', O_VAL, "N", "last N log lines (default 50)"},
    {"event-limit", 0, O_VAL, "N", "at most N events (default 20)"},
    {NULL, 0, 0, NULL, NULL}};

static const opt O_CONFIG_INIT[] = {
    {"force", 0, O_FLAG, NULL, "overwrite an existing file"},
    {NULL, 0, 0, NULL, NULL}};

static const opt O_CODE_RUN[] = {
    {"language", 'l', O_VAL, "LANG", "language (default python)"},
    {"context", 0, O_VAL, "CONTEXT_ID", "run in this context (keeps state)"},
    {"code", 'c', O_VAL, "CODE", "code to run (default: FILE or stdin)"},
    {NULL, 0, 0, NULL, NULL}};

static const opt O_LANG[] = {
    {"language", 'l', O_VAL, "LANG", "language (default python)"},
    {NULL, 0, 0, NULL, NULL}};

static const opt O_SKILLS_INSTALL[] = {
    {"all-builtins", 0, O_FLAG, NULL, "every built-in skill"},
    {"target", 't', O_MULTI, "TOOL", "claude, cursor, codex, copilot, windsurf, cline, opencode or all"},
    {"scope", 0, O_VAL, "SCOPE", "project or global"},
    {"force", 'f', O_FLAG, NULL, "overwrite"},
    {NULL, 0, 0, NULL, NULL}};

static const cmd TREE[] = {
    {"sandbox", NULL, O_NONE, 0, 0, 0, NULL, NULL, NULL, "Manage sandboxes"},
    {"sandbox create", c_sandbox_create, O_SB_CREATE, 0, 0, 0, "", OUT_STD, "table", "Create a sandbox and wait until it is ready"},
    {"sandbox list", c_sandbox_list, O_SB_LIST, 0, 0, 0, "", OUT_STD, "table", "List sandboxes"},
    {"sandbox get", c_sandbox_get, O_NONE, 1, 1, 0, "ID", OUT_STD, "table", "Show a sandbox"},
    {"sandbox kill", c_sandbox_kill, O_NONE, 1, -1, 0, "ID...", OUT_STD, "table", "Delete sandboxes"},
    {"sandbox pause", c_sandbox_pause, O_NONE, 1, 1, 0, "ID", OUT_STD, "table", "Pause a sandbox"},
    {"sandbox resume", c_sandbox_resume, O_SB_RESUME, 1, 1, 0, "ID", OUT_STD, "table", "Resume a paused sandbox"},
    {"sandbox renew", c_sandbox_renew, O_SB_RENEW, 1, 1, 0, "ID", OUT_STD, "table", "Extend a sandbox's time to live"},
    {"sandbox endpoint", c_sandbox_endpoint, O_SB_ENDPOINT, 1, 1, 0, "ID", OUT_STD, "table", "Show the endpoint of a sandbox port"},
    {"sandbox health", c_sandbox_health, O_NONE, 1, 1, 0, "ID", OUT_STD, "table", "Check that the sandbox answers"},
    {"sandbox metrics", c_sandbox_metrics, O_SB_METRICS, 1, 1, 0, "ID", OUT_ALL, "table", "CPU and memory of a sandbox"},
    {"sandbox metadata", c_sandbox_metadata, O_SB_METADATA, 1, -1, 0, "ID [KEY=VALUE | KEY-]...", OUT_STD, "table", "Change metadata (JSON merge patch)"},
    {"snapshot", NULL, O_NONE, 0, 0, 0, NULL, NULL, NULL, "Manage snapshots"},
    {"snapshot create", c_snapshot_create, O_SNAP_CREATE, 1, 1, 0, "SANDBOX_ID", OUT_STD, "table", "Snapshot a sandbox"},
    {"snapshot list", c_snapshot_list, O_SNAP_LIST, 0, 0, 0, "", OUT_STD, "table", "List snapshots"},
    {"snapshot get", c_snapshot_get, O_NONE, 1, 1, 0, "SNAPSHOT_ID", OUT_STD, "table", "Show a snapshot"},
    {"snapshot delete", c_snapshot_delete, O_NONE, 1, -1, 0, "SNAPSHOT_ID...", OUT_STD, "table", "Delete snapshots"},
    {"command", NULL, O_NONE, 0, 0, 0, NULL, NULL, NULL, "Run commands in a sandbox"},
    {"command run", c_command_run, O_CMD_RUN, 1, 1, 1, "ID -- CMD...", "raw,json,table,yaml", "raw", "Run a command (streams its output, exits with its code)"},
    {"command status", c_command_status, O_NONE, 2, 2, 0, "ID EXECUTION_ID", OUT_STD, "table", "Status of a command"},
    {"command logs", c_command_logs, O_CMD_LOGS, 2, 2, 0, "ID EXECUTION_ID", OUT_ALL, "table", "Output of a background command"},
    {"command interrupt", c_command_interrupt, O_NONE, 2, 2, 0, "ID EXECUTION_ID", OUT_STD, "table", "Interrupt a command"},
    {"command session", NULL, O_NONE, 0, 0, 0, NULL, NULL, NULL, "Persistent shell sessions"},
    {"command session create", c_session_create, O_WORKDIR, 1, 1, 0, "ID", OUT_ALL, "table", "Create a session"},
    {"command session run", c_session_run, O_SESSION_RUN, 2, 2, 1, "ID SESSION_ID -- CMD...", "raw,json,yaml", "raw", "Run a command in a session"},
    {"command session delete", c_session_delete, O_NONE, 2, 2, 0, "ID SESSION_ID", OUT_STD, "table", "Delete a session"},
    {"code", NULL, O_NONE, 0, 0, 0, NULL, NULL, NULL, "Run code in a code interpreter"},
    {"code run", c_code_run, O_CODE_RUN, 1, 2, 0, "ID [FILE]", "raw,json,yaml", "raw", "Run code (from -c, FILE or stdin)"},
    {"code context", NULL, O_NONE, 0, 0, 0, NULL, NULL, NULL, "Code contexts (interpreter state)"},
    {"code context create", c_context_create, O_LANG, 1, 1, 0, "ID", OUT_STD, "table", "Create a context"},
    {"code context list", c_context_list, O_LANG, 1, 1, 0, "ID", OUT_STD, "table", "List contexts of a language"},
    {"code context delete", c_context_delete, O_LANG, 1, 2, 0, "ID [CONTEXT_ID]", OUT_STD, "table", "Delete a context (or all of --language)"},
    {"file", NULL, O_NONE, 0, 0, 0, NULL, NULL, NULL, "Files and directories in a sandbox"},
    {"file cat", c_file_cat, O_FILE_CAT, 2, 2, 0, "ID PATH", "raw", "raw", "Print a file"},
    {"file write", c_file_write, O_FILE_WRITE, 2, 2, 0, "ID PATH", OUT_STD, "table", "Write a file from -c or stdin"},
    {"file upload", c_file_upload, O_FILE_UPLOAD, 3, 3, 0, "ID LOCAL_PATH REMOTE_PATH", OUT_STD, "table", "Upload a file"},
    {"file download", c_file_download, O_FILE_DOWNLOAD, 3, 3, 0, "ID REMOTE_PATH LOCAL_PATH", OUT_STD, "table", "Download a file"},
    {"file rm", c_file_rm, O_NONE, 2, -1, 0, "ID PATH...", OUT_STD, "table", "Remove files"},
    {"file mv", c_file_mv, O_NONE, 3, 3, 0, "ID SRC DEST", OUT_STD, "table", "Move or rename"},
    {"file mkdir", c_file_mkdir, O_PERM, 2, -1, 0, "ID PATH...", OUT_STD, "table", "Create directories (with parents)"},
    {"file rmdir", c_file_rmdir, O_NONE, 2, -1, 0, "ID PATH...", OUT_STD, "table", "Remove directories (recursively)"},
    {"file search", c_file_search, O_FILE_SEARCH, 2, 2, 0, "ID DIR", OUT_STD, "table", "Find files by glob"},
    {"file info", c_file_info, O_NONE, 2, -1, 0, "ID PATH...", OUT_STD, "table", "File metadata"},
    {"file chmod", c_file_chmod, O_CHMOD, 2, 2, 0, "ID PATH", OUT_STD, "table", "Change mode, owner, group"},
    {"file replace", c_file_replace, O_FILE_REPLACE, 2, 2, 0, "ID PATH", OUT_STD, "table", "Replace text in a file"},
    {"file ls", c_file_ls, O_FILE_LS, 1, 2, 0, "ID [PATH]", OUT_STD, "table", "List a directory"},
    {"egress", NULL, O_NONE, 0, 0, 0, NULL, NULL, NULL, "Network egress policy"},
    {"egress get", c_egress_get, O_NONE, 1, 1, 0, "ID", OUT_STD, "table", "Show the egress policy"},
    {"egress patch", c_egress_patch, O_EGRESS_PATCH, 1, 1, 0, "ID", OUT_STD, "table", "Add or change rules"},
    {"egress delete", c_egress_delete, O_EGRESS_DELETE, 1, -1, 0, "ID [TARGET...]", OUT_STD, "table", "Remove the rules of targets"},
    {"credential-vault", NULL, O_NONE, 0, 0, 0, NULL, NULL, NULL, "Credentials injected by the egress proxy"},
    {"credential-vault create", c_vault_create, O_VAULT_FILE, 1, 1, 0, "ID", OUT_STD, "table", "Create the vault"},
    {"credential-vault get", c_vault_get, O_NONE, 1, 1, 0, "ID", OUT_STD, "table", "Show the vault (sanitised)"},
    {"credential-vault patch", c_vault_patch, O_VAULT_FILE, 1, 1, 0, "ID", OUT_STD, "table", "Change the vault"},
    {"credential-vault delete", c_vault_delete, O_NONE, 1, 1, 0, "ID", OUT_STD, "table", "Delete the vault"},
    {"credential-vault credential", NULL, O_NONE, 0, 0, 0, NULL, NULL, NULL, "Vault credentials"},
    {"credential-vault credential list", c_vault_cred_list, O_NONE, 1, 1, 0, "ID", OUT_STD, "table", "List credentials"},
    {"credential-vault credential get", c_vault_cred_get, O_NONE, 2, 2, 0, "ID NAME", OUT_STD, "table", "Show a credential"},
    {"credential-vault binding", NULL, O_NONE, 0, 0, 0, NULL, NULL, NULL, "Vault bindings"},
    {"credential-vault binding list", c_vault_bind_list, O_NONE, 1, 1, 0, "ID", OUT_STD, "table", "List bindings"},
    {"credential-vault binding get", c_vault_bind_get, O_NONE, 2, 2, 0, "ID NAME", OUT_STD, "table", "Show a binding"},
    {"diagnostics", NULL, O_NONE, 0, 0, 0, NULL, NULL, NULL, "Sandbox diagnostics"},
    {"diagnostics logs", c_diag_logs, O_DIAG, 1, 1, 0, "ID", OUT_ALL, "table", "Diagnostic logs"},
    {"diagnostics events", c_diag_events, O_DIAG, 1, 1, 0, "ID", OUT_ALL, "table", "Diagnostic events"},
    {"devops", NULL, O_NONE, 0, 0, 0, NULL, NULL, NULL, "Legacy plain-text diagnostics (experimental)"},
    {"devops logs", c_devops_logs, O_DEVOPS_LOGS, 1, 1, 0, "ID", "raw", "raw", "Container logs"},
    {"devops inspect", c_devops_inspect, O_NONE, 1, 1, 0, "ID", "raw", "raw", "Container inspection"},
    {"devops events", c_devops_events, O_DEVOPS_EVENTS, 1, 1, 0, "ID", "raw", "raw", "Container events"},
    {"devops summary", c_devops_summary, O_DEVOPS_SUMMARY, 1, 1, 0, "ID", "raw", "raw", "Everything above, short"},
    {"config", NULL, O_NONE, 0, 0, 0, NULL, NULL, NULL, "The config file (~/.opensandbox/config.toml)"},
    {"config init", c_config_init, O_CONFIG_INIT, 0, 0, 0, "", OUT_STD, "table", "Write a default config file"},
    {"config show", c_config_show, O_NONE, 0, 0, 0, "", OUT_STD, "table", "Show the effective configuration (API key masked)"},
    {"config set", c_config_set, O_NONE, 2, 2, 0, "SECTION.FIELD VALUE", OUT_STD, "table", "Set a value, e.g. connection.domain"},
    {"skills", NULL, O_NONE, 0, 0, 0, NULL, NULL, NULL, "Agent skills (not available in this build)"},
    {"skills install", c_unavailable, O_SKILLS_INSTALL, 0, 1, 0, "[SKILL]", OUT_STD, "table", "not available in this build"},
    {"skills show", c_unavailable, O_NONE, 1, 1, 0, "SKILL", OUT_STD, "table", "not available in this build"},
    {"skills list", c_unavailable, O_NONE, 0, 0, 0, "", OUT_STD, "table", "not available in this build"},
    {"skills uninstall", c_unavailable, O_SKILLS_INSTALL, 0, 1, 0, "[SKILL]", OUT_STD, "table", "not available in this build"},
    {NULL, NULL, NULL, 0, 0, 0, NULL, NULL, NULL, NULL}};

/* Global options: accepted before or after the command words. */
static const opt GLOBAL_OPTS[] = {
    {"api-key", 0, O_VAL, "KEY", "API key (env OPEN_SANDBOX_API_KEY)"},
    {"domain", 0, O_VAL, "HOST[:PORT]", "server (env OPEN_SANDBOX_DOMAIN; default localhost:8080)"},
    {"protocol", 0, O_VAL, "http|https", "scheme when the domain has none (env OPEN_SANDBOX_PROTOCOL)"},
    {"request-timeout", 0, O_VAL, "SECONDS", "per-request timeout (env OPEN_SANDBOX_REQUEST_TIMEOUT; default 30)"},
    {"use-server-proxy", 0, O_FLAG, NULL, "reach sandboxes through the server (env OPEN_SANDBOX_USE_SERVER_PROXY)"},
    {"no-use-server-proxy", 0, O_FLAG, NULL, "reach sandboxes directly"},
    {"config", 0, O_VAL, "PATH", "config file (default ~/.opensandbox/config.toml)"},
    {"verbose", 'v', O_FLAG, NULL, "print each request and status to stderr"},
    {"no-color", 0, O_FLAG, NULL, "no colours"},
    {"output", 'o', O_VAL, "FORMAT", "table, json, yaml or raw (per command)"},
    {"version", 0, O_FLAG, NULL, "print the version"},
    {"help", 'h', O_FLAG, NULL, "show help"},
    {NULL, 0, 0, NULL, NULL}};

/* Where each global option goes. */
static const struct {
    const char *lng;
    const char **str;   /* value options */
    int *flag;          /* flags: set to value */
    int value;          /* neither: 1 = --version, 2 = --help */
} GLOBAL_DEST[] = {
    {"api-key", &G.api_key, NULL, 0},
    {"domain", &G.domain, NULL, 0},
    {"protocol", &G.protocol, NULL, 0},
    {"request-timeout", &G.request_timeout, NULL, 0},
    {"use-server-proxy", NULL, &G.use_server_proxy, 1},
    {"no-use-server-proxy", NULL, &G.use_server_proxy, 0},
    {"config", &G.config_path, NULL, 0},
    {"verbose", NULL, &G.verbose, 1},
    {"no-color", NULL, &G.no_color, 1},
    {"output", &G.output, NULL, 0},
    {"version", NULL, NULL, 1},
    {"help", NULL, NULL, 2}};

static const char *EXIT_HELP[] = {
    "  0    success",
    "  1    other error",
    "  2    usage: unknown command or flag, bad or missing argument",
    "  3    config file unreadable or invalid",
    "  4    not found (HTTP 404/410)",
    "  5    authentication: API key missing or refused (HTTP 401/403)",
    "  6    request rejected by the server (HTTP 400/405/413/415/422)",
    "  7    conflict or wrong state (HTTP 409/412/416), sandbox failed",
    "  8    rate limited or no capacity, retry later (HTTP 429/503/507)",
    "  9    server error (other 5xx, error inside a stream, bad response)",
    "  10   connection failed (DNS, refused, TLS, reset)",
    "  11   timed out",
    "  12   local file could not be read or written",
    "  13   not available in this build",
    "  14   not implemented by the server (HTTP 501)",
    "  130  interrupted (Ctrl-C; a running remote command is interrupted first)",
    "  command run, command session run and code run exit with the remote",
    "  command's exit code when it ran to the end (137 when it was killed by a",
    "  signal or by --timeout).",
    NULL};

static size_t path_words(const char *p) {
    size_t n = 1;
    for (; *p; p++)
        if (*p == ' ') n++;
    return n;
}

static void print_opts(FILE *f, const opt *o) {
    for (; o && o->lng; o++) {
        char left[96];
        if (o->shrt) snprintf(left, sizeof left, "-%c, --%s%s%s", o->shrt, o->lng, o->meta ? " " : "", o->meta ? o->meta : "");
        else snprintf(left, sizeof left, "    --%s%s%s", o->lng, o->meta ? " " : "", o->meta ? o->meta : "");
        fprintf(f, "  %-34s %s\n", left, o->help);
    }
}

static void print_help(FILE *f, const cmd *c) {
    const cmd *k;
    if (!c) {
        int i;
        fprintf(f, "Usage: %s [GLOBAL OPTIONS] COMMAND [ARGS]...\n\n", g_prog);
        fprintf(f, "The OpenSandbox command-line tool (opensandbox.h %s, %s).\n\n", osb_version(), osb_build_config());
        fputs("Global options:\n", f);
        print_opts(f, GLOBAL_OPTS);
        fputs("\nCommands:\n", f);
        for (k = TREE; k->path; k++)
            if (path_words(k->path) == 1) fprintf(f, "  %-18s %s\n", k->path, k->help);
        fputs("\nDurations: 90s, 10m, 1h30m, 1h30m45s, 2d; a bare number is seconds.\n", f);
        fputs("Settings: flag > environment > config file > default.\n", f);
        fputs("\nExit codes:\n", f);
        for (i = 0; EXIT_HELP[i]; i++) fprintf(f, "%s\n", EXIT_HELP[i]);
        fprintf(f, "\nRun '%s COMMAND --help' for a command's options.\n", g_prog);
        return;
    }
    if (!c->fn) {
        size_t depth = path_words(c->path), l = strlen(c->path);
        fprintf(f, "Usage: %s %s COMMAND [ARGS]...\n\n%s.\n\nCommands:\n", g_prog, c->path, c->help);
        for (k = TREE; k->path; k++)
            if (path_words(k->path) == depth + 1 && strncmp(k->path, c->path, l) == 0 && k->path[l] == ' ')
                fprintf(f, "  %-18s %s\n", k->path + l + 1, k->help);
        return;
    }
    fprintf(f, "Usage: %s %s [OPTIONS]%s%s\n\n%s.\n\nOptions:\n", g_prog, c->path, c->pos_usage && *c->pos_usage ? " " : "",
            c->pos_usage ? c->pos_usage : "", c->help);
    print_opts(f, c->opts);
    fprintf(f, "  %-34s output format: %s (default %s)\n", "-o, --output FORMAT", c->outputs, c->def_out);
    fprintf(f, "  %-34s show this help\n", "-h, --help");
    fprintf(f, "\nGlobal options (%s --help) are accepted too.\n", g_prog);
}

/* Handles a global option at argv[*i]; 1 if it was one, -1 on error. */
static int global_opt(int argc, char **argv, int *i, int *want_help, int *want_version) {
    const char *s = argv[*i], *val = NULL, *name;
    char namebuf[64];
    const opt *o;
    if (s[0] != '-' || !s[1]) return 0;
    if (s[1] == '-') {
        const char *eq = strchr(s + 2, '=');
        size_t n = eq ? (size_t)(eq - s - 2) : strlen(s + 2);
        if (n >= sizeof namebuf) return 0;
        memcpy(namebuf, s + 2, n);
        namebuf[n] = 0;
        name = namebuf;
        if (eq) val = eq + 1;
        for (o = GLOBAL_OPTS; o->lng; o++)
            if (strcmp(o->lng, name) == 0) break;
    } else {
        for (o = GLOBAL_OPTS; o->lng; o++)
            if (o->shrt && o->shrt == s[1]) break;
        if (o->lng && s[2]) {
            if (o->kind == O_FLAG) return 0;
            val = s + 2;
        }
    }
    if (!o->lng) return 0;
    if (o->kind != O_FLAG && !val) {
        if (*i + 1 >= argc) {
            usage_error("option --%s needs a value", o->lng);
            return -1;
        }
        val = argv[++*i];
    }
    {
        size_t k;
        for (k = 0; k < sizeof GLOBAL_DEST / sizeof GLOBAL_DEST[0]; k++) {
            if (strcmp(GLOBAL_DEST[k].lng, o->lng) != 0) continue;
            if (GLOBAL_DEST[k].str) *GLOBAL_DEST[k].str = val;
            else if (GLOBAL_DEST[k].flag) *GLOBAL_DEST[k].flag = GLOBAL_DEST[k].value;
            else if (GLOBAL_DEST[k].value == 1) *want_version = 1;
            else *want_help = 1;
        }
    }
    return 1;
}

static const cmd *find_cmd(const char *path) {
    const cmd *k;
    for (k = TREE; k->path; k++)
        if (strcmp(k->path, path) == 0) return k;
    return NULL;
}

int main(int argc, char **argv) {
    args a;
    const cmd *c = NULL;
    char path[128] = "";
    int i, want_help = 0, want_version = 0, rest_mode = 0, code;
    memset(&a, 0, sizeof a);
    for (i = 1; i < argc; i++) {
        char *s = argv[i];
        int r;
        if (rest_mode) {
            a.rest = &argv[i];
            a.nrest = argc - i;
            break;
        }
        if (strcmp(s, "--") == 0) {
            if (c && c->rest) {
                a.rest = &argv[i + 1];
                a.nrest = argc - i - 1;
                break;
            }
            /* everything after -- is positional */
            for (i++; i < argc; i++) {
                if (a.npos >= MAXPOS) return usage_error("too many arguments");
                a.pos[a.npos++] = argv[i];
            }
            break;
        }
        /* command options first (they may shadow a global short flag) */
        if (c && c->fn && s[0] == '-' && s[1]) {
            const opt *o = NULL;
            const char *val = NULL;
            int idx = -1, k;
            if (s[1] == '-') {
                const char *eq = strchr(s + 2, '=');
                size_t n = eq ? (size_t)(eq - s - 2) : strlen(s + 2);
                for (k = 0; c->opts[k].lng; k++)
                    if (strlen(c->opts[k].lng) == n && strncmp(c->opts[k].lng, s + 2, n) == 0) { idx = k; break; }
                if (idx >= 0 && eq) val = eq + 1;
            } else {
                for (k = 0; c->opts[k].lng; k++)
                    if (c->opts[k].shrt == s[1]) { idx = k; break; }
                if (idx >= 0 && s[2]) {
                    if (c->opts[idx].kind == O_FLAG) idx = -1;
                    else val = s + 2;
                }
            }
            if (idx >= 0) {
                o = &c->opts[idx];
                if (o->kind == O_FLAG) {
                    if (val) return usage_error("option --%s takes no value", o->lng);
                    args_add(&a, idx, "1");
                } else {
                    if (!val) {
                        if (i + 1 >= argc) return usage_error("option --%s needs a value", o->lng);
                        val = argv[++i];
                    }
                    args_add(&a, idx, val);
                }
                continue;
            }
        }
        r = global_opt(argc, argv, &i, &want_help, &want_version);
        if (r < 0) return EX_USAGE;
        if (r > 0) continue;
        if (s[0] == '-' && s[1] && !(c && c->fn && isdigit((unsigned char)s[1]))) {
            if (c && c->fn) return usage_error("no such option: %s (see '%s %s --help')", s, g_prog, c->path);
            return usage_error("no such option: %s", s);
        }
        /* a word: the next level of the tree, or a positional argument */
        if (!c || !c->fn) {
            char next[128];
            const cmd *k;
            if (strlen(path) + strlen(s) + 2 > sizeof next) return usage_error("no such command '%s'", s);
            strcpy(next, path);
            if (path[0]) strcat(next, " ");
            strcat(next, s);
            k = find_cmd(next);
            if (!k) {
                if (!c) return usage_error("no such command '%s' (see '%s --help')", s, g_prog);
                return usage_error("no such command '%s %s' (see '%s %s --help')", c->path, s, g_prog, c->path);
            }
            memcpy(path, next, sizeof path);
            c = k;
            a.cmd = c;
            continue;
        }
        if (c->rest && a.npos >= c->max_pos) {
            /* the first word of the trailing command: the rest is its argv */
            a.rest = &argv[i];
            a.nrest = argc - i;
            rest_mode = 1;
            break;
        }
        if (a.npos >= MAXPOS) return usage_error("too many arguments");
        a.pos[a.npos++] = s;
    }
    if (want_version) {
        printf("osb %s (opensandbox.h %s, %s)\n", OSB_VERSION_STRING, osb_version(), osb_build_config());
        return EX_OK;
    }
    if (want_help || !c || !c->fn) {
        print_help(stdout, c);
        return (want_help || !c || !c->fn) ? EX_OK : EX_USAGE;
    }
    if (a.npos < c->min_pos) return usage_error("missing argument (usage: %s %s %s)", g_prog, c->path, c->pos_usage);
    if (c->max_pos >= 0 && a.npos > c->max_pos)
        return usage_error("unexpected argument '%s' (usage: %s %s %s)", a.pos[c->max_pos], g_prog, c->path, c->pos_usage);
    /* required options */
    for (i = 0; c->opts[i].lng; i++)
        if (c->opts[i].kind == O_REQ && !a.nvals[i])
            return usage_error("missing option --%s (see '%s %s --help')", c->opts[i].lng, g_prog, c->path);
    g_out = G.output ? G.output : c->def_out;
    if (!check_output(c, g_out))
        return usage_error("invalid output '%s' for '%s' (choose from %s)", g_out, c->path, c->outputs);
    /* settings: `osb config ...` uses only flags and the environment */
    code = resolve_config(strncmp(c->path, "config", 6) != 0);
    if (code) return code;
    g_color = !G.no_color && C.color && isatty(1) && !getenv("NO_COLOR");
    /* Ctrl-C is caught only where it must reach the server (interrupting a
     * remote execution) or stop a transfer cleanly; elsewhere it ends osb at once. */
    {
        static const char *const catching[] = {"command run", "command session run", "code run", "sandbox metrics",
                                               "file upload", "file download", "file cat", NULL};
        for (i = 0; catching[i]; i++)
            if (strcmp(c->path, catching[i]) == 0) install_sigint();
    }
    if (strncmp(c->path, "config", 6) != 0 && c->fn != c_unavailable && (code = make_client()) != 0) return code;
    code = c->fn(&a);
    fflush(stdout);
    osb_client_free(CLI);
    return code;
}
