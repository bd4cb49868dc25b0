/* tools/osb/plumbing.c -- shared plumbing: exit codes, globals, small utilities, arguments, progress.
 * Part of osb: built as one translation unit by main.c. */

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
static const char *g_out = "table";   /* the resolved -o of the running command */

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

/* >>print ================================================================== */
/* Everything osb prints goes through two buffers (stdout, stderr) written
 * with write(2); no stdio, so no printf: formats go through the library's
 * formatter (osb__vfmt: printf's %s %d %u %x %c with widths and flags),
 * numbers with a fraction through fmt_fixed / osb__double_g. Before one
 * stream is written, the other is flushed, so their order is kept on a
 * shared pipe. The live output of command/session/code runs (ob_put) is
 * written once per network read; everything else (out_put) as stdio did:
 * stderr at each newline, stdout at each newline on a terminal, otherwise
 * when full, at out_flush() and at exit. */
#define OB_CAP 65536
typedef struct obuf {
    size_t len;
    char data[OB_CAP];
} obuf;

static obuf g_ob[2];   /* stdout, stderr (zero-initialised: not stored in the binary) */
static int g_tty_out;  /* stdout is a terminal */

static void ob_write(int fd, const char *p, size_t len) {
    size_t off = 0;
    while (off < len) {
        ssize_t n = write(fd, p + off, len - off);
        if (n < 0) {
            if (errno == EINTR) continue;
            break;   /* a closed pipe: the output is lost, as with stdio */
        }
        off += (size_t)n;
    }
}

static void ob_flush_one(obuf *b) {
    ob_write(b == &g_ob[0] ? 1 : 2, b->data, b->len);
    b->len = 0;
}

static void ob_flush(void) {
    ob_flush_one(&g_ob[0]);
    ob_flush_one(&g_ob[1]);
}

/* which: 0 stdout, 1 stderr. */
static void ob_put(int which, const char *p, size_t n) {
    obuf *b = &g_ob[which];
    if (g_ob[!which].len) ob_flush_one(&g_ob[!which]);
    if (n > OB_CAP - b->len) {
        ob_flush_one(b);
        if (n >= OB_CAP) {
            ob_write(which ? 2 : 1, p, n);
            return;
        }
    }
    memcpy(b->data + b->len, p, n);
    b->len += n;
}

static void ob_puts(int which, const char *s) { ob_put(which, s, strlen(s)); }

static void out_put(int which, const char *p, size_t n) {
    ob_put(which, p, n);
    if ((which || g_tty_out) && memchr(p, '\n', n)) ob_flush_one(&g_ob[which]);
}

static void out_puts(int which, const char *s) { out_put(which, s, strlen(s)); }

static void out_flush(void) { ob_flush(); }

/* >>util =================================================================== */
static void die_oom(void) {
    out_puts(1, "osb: out of memory\n");
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

static void bput(osb_buf *b, const char *s) {
    if (osb_buf_append_str(b, s) != OSB_OK) die_oom();
}

static void bputn(osb_buf *b, const char *s, size_t n) {
    if (osb_buf_append(b, s, n) != OSB_OK) die_oom();
}

/* Appends the formatted text (the library's formatter: see >>print). */
static void bvprintf(osb_buf *b, const char *fmt, va_list ap) {
    va_list again;
    size_t n, room;
    va_copy(again, ap);
    if (osb_buf_reserve(b, 256) != OSB_OK) die_oom();
    room = b->cap - b->len;
    n = (size_t)osb__vfmt(b->data + b->len, room, fmt, ap);
    if (n >= room) {
        if (osb_buf_reserve(b, n) != OSB_OK) die_oom();
        osb__vfmt(b->data + b->len, b->cap - b->len, fmt, again);
    }
    va_end(again);
    b->len += n;
}

static void bprintf(osb_buf *b, const char *fmt, ...) OSB__PRINTF(2, 3);
static void bprintf(osb_buf *b, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    bvprintf(b, fmt, ap);
    va_end(ap);
}

/* Formatted output on stdout (which 0) or stderr (1). */
static void out_vfmt(int which, const char *fmt, va_list ap) {
    static osb_buf line;
    line.len = 0;
    bvprintf(&line, fmt, ap);
    out_put(which, line.data, line.len);
}

static void out_fmt(int which, const char *fmt, ...) OSB__PRINTF(2, 3);
static void out_fmt(int which, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    out_vfmt(which, fmt, ap);
    va_end(ap);
}

/* The text of errno value e as the library words it in its own messages:
 * strerror's, or with OSB_SHORT_ERRNO_TEXT its short table of file and
 * socket errors ("error N" for the rest), so strerror's table of every
 * errno is not linked then. One call per message (one buffer). */
static const char *sys_text(int e) {
    static char buf[OSB__ERRNO_BUF];
    return osb__errno_text(e, buf);
}

/* "osb: [error: ]MESSAGE" on stderr. */
static void say_error(const char *kind, const char *fmt, va_list ap) {
    out_fmt(1, "%s: %s", g_prog, kind);
    out_vfmt(1, fmt, ap);
    out_put(1, "\n", 1);
}

static int usage_error(const char *fmt, ...) OSB__PRINTF(1, 2);
static int usage_error(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    say_error("", fmt, ap);
    va_end(ap);
    return EX_USAGE;
}

static int errorf(int code, const char *fmt, ...) OSB__PRINTF(2, 3);
static int errorf(int code, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    say_error("error: ", fmt, ap);
    va_end(ap);
    return code;
}

/* v with d (0 to 2) decimals, as printf's "%.{d}f": rounded exactly (to
 * even on a tie of the binary value), on the library's big integers.
 * Beyond 1e17 (never a size, rate or percentage): "%.17g". */
static const char *fmt_fixed(char out[48], double v, int d) {
    uint64_t bits, m, q, p10 = d == 2 ? 100 : d == 1 ? 10 : 1;
    osb__big num, den;
    int e, c, neg;
    memcpy(&bits, &v, sizeof bits);
    neg = (int)(bits >> 63);
    if (v != v) return neg ? "-nan" : "nan";
    if (v > DBL_MAX || v < -DBL_MAX) return neg ? "-inf" : "inf";
    if (v >= 1e17 || v <= -1e17) {
        osb__double_g(out, v, 17);
        return out;
    }
    m = bits & (((uint64_t)1 << 52) - 1);
    e = (int)((bits >> 52) & 0x7ff);
    if (e) m |= (uint64_t)1 << 52;
    e = e ? e - 1075 : -1074;                  /* |v| = m * 2^e */
    osb__big_set(&num, m * p10);               /* m < 2^53: no overflow */
    osb__big_set(&den, 1);
    if (e > 0) osb__big_shl(&num, (size_t)e);
    else osb__big_shl(&den, (size_t)-e);
    osb__big_div(&num, &den, 63, &q);
    osb__big_shl(&num, 1);                     /* twice the remainder against den */
    c = osb__big_cmp(&num, &den);
    if (c > 0 || (c == 0 && (q & 1))) q++;
    if (d) osb__fmt(out, 48, "%s%llu.%0*llu", neg ? "-" : "", (unsigned long long)(q / p10), d,
                    (unsigned long long)(q % p10));
    else osb__fmt(out, 48, "%s%llu", neg ? "-" : "", (unsigned long long)q);
    return out;
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

/* An unsigned decimal number at p ("12", "1.5", ".5", "2.", "1e3"):
 * its end, or NULL; *v its value (read exactly by the library). */
static const char *scan_decimal(const char *p, double *v) {
    char t[80];
    size_t n = 0;
    const char *q, *r;
    while (*p == '0' && isdigit((unsigned char)p[1])) p++;   /* JSON has no leading zeros */
    for (q = p; isdigit((unsigned char)*q); q++) {}
    if (q == p && !(*q == '.' && isdigit((unsigned char)q[1]))) return NULL;
    if (q == p) t[n++] = '0';
    if ((size_t)(q - p) > sizeof t - 8) return NULL;
    memcpy(t + n, p, (size_t)(q - p));
    n += (size_t)(q - p);
    if (*q == '.') {
        for (r = ++q; isdigit((unsigned char)*q); q++) {}
        if (q > r) {
            if (n + (size_t)(q - r) > sizeof t - 8) return NULL;
            t[n++] = '.';
            memcpy(t + n, r, (size_t)(q - r));
            n += (size_t)(q - r);
        }
    }
    if (*q == 'e' || *q == 'E') {   /* an exponent only when digits follow, as strtod */
        r = q + 1 + (q[1] == '+' || q[1] == '-');
        if (isdigit((unsigned char)*r)) {
            while (isdigit((unsigned char)*r)) r++;
            if (n + (size_t)(r - q) >= sizeof t) return NULL;
            memcpy(t + n, q, (size_t)(r - q));
            n += (size_t)(r - q);
            q = r;
        }
    }
    return osb_json_to_double(t, n, v) == OSB_OK ? q : NULL;
}

/* "1h30m", "90s", "10m", "1h30m45s", "2d", "500ms", bare number = seconds.
 * Returns 0 and *out seconds, or -1. */
static int parse_duration(const char *s, double *out) {
    double total = 0, v;
    int any = 0;
    const char *p = s, *end;
    if (!s || !*s) return -1;
    while (*p == ' ') p++;
    if (!*p) return -1;
    if (isdigit((unsigned char)*p) && (end = scan_decimal(p, &v)) != NULL && !*end) {
        *out = v;
        return 0;
    }
    while (*p) {
        if (!(end = scan_decimal(p, &v))) return -1;
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

/* A whole decimal integer in [lo, hi], read as strtoll reads it (leading
 * space, a sign; out of range is an error), by a digit loop: a static C
 * library's strtoll brings its general number scanner (2.3 KB). */
static int parse_int(const char *s, long long lo, long long hi, long long *out) {
    unsigned long long v = 0, lim = LLONG_MAX;
    const char *digits;
    long long r;
    if (!s || !*s) return -1;
    while (isspace((unsigned char)*s)) s++;
    if (*s == '+' || *s == '-') {
        if (*s == '-') lim = (unsigned long long)LLONG_MAX + 1;
        s++;
    }
    for (digits = s; *s >= '0' && *s <= '9'; s++) {
        unsigned d = (unsigned)(*s - '0');
        if (v > (lim - d) / 10) return -1;
        v = v * 10 + d;
    }
    if (s == digits || *s) return -1;
    r = lim == (unsigned long long)LLONG_MAX ? (long long)v : v == lim ? LLONG_MIN : -(long long)v;
    if (r < lo || r > hi) return -1;
    *out = r;
    return 0;
}

/* "YYYY-MM-DDTHH:MM:SS" of t seconds since 1970 in UTC (the civil date of a
 * day number: Howard Hinnant's days_from_civil, inverted). */
static void utc_text(long long t, char out[40]) {
    long long days = (t >= 0 ? t : t - 86399) / 86400, s = t - days * 86400, z = days + 719468;
    long long era = (z >= 0 ? z : z - 146096) / 146097;
    unsigned doe = (unsigned)(z - era * 146097);
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100), mp = (5 * doy + 2) / 153;
    unsigned day = doy - (153 * mp + 2) / 5 + 1, month = mp < 10 ? mp + 3 : mp - 9;
    osb__fmt(out, 40, "%04lld-%02u-%02uT%02lld:%02lld:%02lld", (long long)yoe + era * 400 + (month <= 2), month, day,
             s / 3600, s / 60 % 60, s % 60);
}

/* RFC 3339 UTC of now + secs. */
static void rfc3339_in(double secs, char out[40]) {
    utc_text((long long)time(NULL) + (long long)(secs + 0.5), out);
    strcat(out, "Z");
}

/* Creates the missing directories above path (mkdir -p of its dirname). */
static int mkdirs_for(const char *path) {
    char dir[4096];
    char *p;
    size_t n = strlen(path);
    if (n >= sizeof dir) {
        errno = ENAMETOOLONG;
        return -1;
    }
    memcpy(dir, path, n + 1);
    p = strrchr(dir, '/');
    if (!p || p == dir) return 0;
    *p = 0;
    for (p = dir + 1; *p; p++) {
        if (*p != '/') continue;
        *p = 0;
        if (mkdir(dir, 0755) != 0 && errno != EEXIST) return -1;
        *p = '/';
    }
    if (mkdir(dir, 0755) != 0 && errno != EEXIST) return -1;
    return 0;
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

/* >>texts ================================================================== */
/* The long texts (the skills guides and the help lines of commands and
 * options) are packed into texts.h by tools/osb/pack-texts.py: about half
 * their bytes in the binary. Unpacked once, on first use: a byte below 0x80
 * is itself; a byte t >= 0x80 and the next byte u copy ((t >> 4) & 7) + 3
 * bytes from ((t & 15) << 8 | u) + 1 bytes back. The texts follow each
 * other, each ended by a NUL (their order: pack-texts.py). */
#include "texts.h"

/* A long text written where it is used, packed into texts.h as well: the
 * build leaves it out here, and pack-texts.py gives it its number (NAME, an
 * enum in texts.h; packed_text(NAME) is the text). */
#define PACKED_TEXT(name, text)

static char g_texts[TEXTS_UNPACKED];

static void texts_unpack(void) {
    const unsigned char *p = TEXTS_PACKED, *end = p + sizeof TEXTS_PACKED;
    char *o = g_texts;
    while (p < end) {
        unsigned t = *p++, n, back;
        if (t < 0x80) {
            *o++ = (char)t;
            continue;
        }
        back = ((t & 15u) << 8 | *p++) + 1;
        for (n = ((t >> 4) & 7u) + 3; n; n--, o++) *o = o[-(long)back];
    }
}

/* Text number i. */
static const char *packed_text(int i) {
    if (!g_texts[0]) texts_unpack();
    return osb__nth_text(g_texts, (unsigned)i);
}

/* >>args =================================================================== */
enum { O_FLAG, O_VAL, O_MULTI, O_REQ };   /* O_REQ: a value that must be given */

/* An option row is one string (8 bytes, not 32): lng is "NAME\0META\0KS",
 * the long name without "--" (so lng compares as the name), the value's
 * placeholder ("" for a flag), then its kind (O_... + 1) and its short form
 * ("" in the row: none). The help line stays in the source but goes into
 * texts.h (opt_help). */
typedef struct opt {
    const char *lng;
} opt;
#define OPT_KIND_O_FLAG "\1"
#define OPT_KIND_O_VAL "\2"
#define OPT_KIND_O_MULTI "\3"
#define OPT_KIND_O_REQ "\4"
#define OPT(lng, shrt, kind, meta, help) {lng "\0" meta "\0" OPT_KIND_##kind shrt}

/* The piece after s in a "A\0B" row string. */
static const char *next_piece(const char *s) { return s + strlen(s) + 1; }

/* An option's kind (O_...) and short form (0: none). */
static int opt_kind(const opt *o) { return next_piece(next_piece(o->lng))[0] - 1; }
static char opt_short(const opt *o) { return next_piece(next_piece(o->lng))[1]; }

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

/* The -o choices of a command and its default (cmd.outs: an index, so a
 * row of the command tree is half as large as with two pointers). */
enum { OUTS_NONE, OUTS_STD, OUTS_ALL, OUTS_ALL_RAW, OUTS_RAW, OUTS_RUN, OUTS_STREAM };
static const char *const OUTS[][2] = {{"table,json,yaml", "table"},     {"table,json,yaml", "table"},
                                      {"table,json,yaml,raw", "table"}, {"table,json,yaml,raw", "raw"},
                                      {"raw", "raw"},                   {"raw,json,table,yaml", "raw"},
                                      {"raw,json,yaml", "raw"}};

/* path is "PATH\0USAGE": the command words ("sandbox create") and the
 * positional arguments' usage, one pointer for two. The help line goes
 * into texts.h (cmd_help). */
typedef struct cmd {
    const char *path;
    cmd_fn fn;            /* NULL: a group */
    const opt *opts;
    signed char min_pos, max_pos; /* -1: unlimited */
    signed char rest;     /* 1: takes a trailing command (-- CMD...) */
    unsigned char outs;   /* OUTS_... */
} cmd;
#define CMD(path, fn, opts, usage, help, min_pos, max_pos, rest, outs) \
    {path "\0" usage, fn, opts, min_pos, max_pos, rest, outs}
#define cmd_usage(c) next_piece((c)->path)

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

static void human(double v, char out[64]) {
    static const char u[][4] = {"B", "KiB", "MiB", "GiB", "TiB"};
    char num[48];
    int i = 0;
    while (v >= 1024 && i < 4) { v /= 1024; i++; }
    osb__fmt(out, 64, "%s %s", fmt_fixed(num, v, i ? 1 : 0), u[i]);
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
    char a[64], b[64], rate[64], eta[64], bar[32], num[48];
    double t = now_s(), el = t - p->start, r;
    int64_t cur = p->base + p->done;
    if (!p->on) return;
    if (!final && t - p->last < 0.1) return;
    p->last = t;
    r = el > 0 ? (double)p->done / el : 0;
    human((double)cur, a);
    human(r, rate);
    if (p->total > 0) {
        int pct = (int)(cur * 100 / p->total), fill = (int)(cur * 20 / p->total), i;
        if (pct > 100) pct = 100;
        if (fill > 20) fill = 20;
        for (i = 0; i < 20; i++) bar[i] = i < fill ? '=' : (i == fill ? '>' : ' ');
        bar[20] = 0;
        human((double)p->total, b);
        if (final) osb__fmt(eta, sizeof eta, "%ss", fmt_fixed(num, el, 1));
        else if (r > 0) {
            long s = (long)((double)(p->total - cur) / r);
            osb__fmt(eta, sizeof eta, "ETA %ld:%02ld", s / 60, s % 60);
        } else osb__fmt(eta, sizeof eta, "ETA --:--");
        out_fmt(1, "\r%s [%s] %3d%% %s / %s  %s/s  %s\033[K%s", p->label, bar, pct, a, b, rate, eta, final ? "\n" : "");
    } else {
        out_fmt(1, "\r%s %s  %s/s  %ss\033[K%s", p->label, a, rate, fmt_fixed(num, el, 1), final ? "\n" : "");
    }
    out_flush();
}
