/* bench/osb_bench.c -- the opensandbox.h side of the benchmarks.
 *
 *   osb_bench URL w1 N          N sequential osb_sandbox_get on one keep-alive
 *                               connection (typed results)
 *   osb_bench URL w2 small|big  osb_command_run: the execd event stream decoded
 *                               into typed osb_event, counted in the callback
 *   osb_bench URL w2tok small|big  the same through the tokenizers directly
 *                               (osb_sse + osb_bind_into), for comparison
 *   osb_bench URL w3            osb_files_download of 1 GiB into a discarding sink
 *   osb_bench URL w4 MIB [FILE] osb_files_upload of MIB MiB from a reader, or
 *                               of FILE from its descriptor (sendfile on Linux)
 *   osb_bench URL chunked       1 GiB chunked response through osb_request_raw's sink
 *   osb_bench URL w5            create, run `echo`, write and read a file, kill
 *                               (against tools/devserver; URL is its domain)
 *   osb_bench URL cold          one GET, typed, then exit (cold start)
 *   osb_bench URL idle N        N clients, each holding one idle pooled
 *                               connection; reports heap and RSS per connection
 *   osb_bench URL m1 N small|big    N command streams at once from one thread
 *                               (a multi handle; typed events counted)
 *   osb_bench URL m1threads N small|big  the same as N blocking osb_command_run
 *                               on N threads (one client each)
 *
 * URL is the server's base ("http://127.0.0.1:PORT" or https://...).
 * Prints one line of key=value pairs: wall_s, cpu_s (user+sys of this
 * process), units (requests, events or bytes), bytes, allocs (calls into the
 * counting allocator during the timed part), peak_heap.
 * Built with -DOSB_TLS=1 -lbearssl for https. */
#define _POSIX_C_SOURCE 200809L
#define OPENSANDBOX_IMPLEMENTATION
#include "opensandbox.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <fcntl.h>
#include <unistd.h>
#include <sys/resource.h>
#include <pthread.h>

/* ---- counting allocator ------------------------------------------------ */

typedef struct counter {
    unsigned long long allocs, reallocs, frees;
    size_t live, peak;
} counter;

#define HDR 16

static void *c_alloc(void *ctx, size_t size) {
    counter *k = (counter *)ctx;
    unsigned char *p = (unsigned char *)malloc(size + HDR);
    if (!p) return NULL;
    memcpy(p, &size, sizeof size);
    k->allocs++;
    k->live += size;
    if (k->live > k->peak) k->peak = k->live;
    return p + HDR;
}

static void *c_realloc(void *ctx, void *ptr, size_t old_size, size_t new_size) {
    counter *k = (counter *)ctx;
    unsigned char *p;
    size_t old;
    (void)old_size;
    if (!ptr) return c_alloc(ctx, new_size);
    p = (unsigned char *)ptr - HDR;
    memcpy(&old, p, sizeof old);
    p = (unsigned char *)realloc(p, new_size + HDR);
    if (!p) return NULL;
    memcpy(p, &new_size, sizeof new_size);
    k->reallocs++;
    k->live = k->live - old + new_size;
    if (k->live > k->peak) k->peak = k->live;
    return p + HDR;
}

static void c_free(void *ctx, void *ptr) {
    counter *k = (counter *)ctx;
    unsigned char *p;
    size_t old;
    if (!ptr) return;
    p = (unsigned char *)ptr - HDR;
    memcpy(&old, p, sizeof old);
    k->frees++;
    k->live -= old;
    free(p);
}

static counter K;
static const osb_allocator ALLOC = {c_alloc, c_realloc, c_free, &K};

static unsigned long long calls(void) { return K.allocs + K.reallocs; }

/* ---- clocks ------------------------------------------------------------ */

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double cpu_s(void) {
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
           (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

static long rss_kib(void) {
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long v = -1;
    if (!f) return -1;
    while (fgets(line, sizeof line, f))
        if (strncmp(line, "VmRSS:", 6) == 0) v = strtol(line + 6, NULL, 10);
    fclose(f);
    return v;
}

static void die(osb_client *c, const char *what, osb_err e) {
    const osb_error *d = c ? osb_client_error(c) : NULL;
    fprintf(stderr, "osb_bench: %s: %s (%s)\n", what, osb_strerror(e), d ? d->message : "");
    exit(1);
}

/* ---- typed results ----------------------------------------------------- */

/* An execd event, as the typed stream layer decodes it. */
typedef struct bs_error { osb_str ename, evalue; osb_str *traceback; size_t traceback_count; } bs_error;
typedef struct bs_event {
    osb_str type, text;
    int64_t execution_count, execution_time, timestamp;
    osb_str results;
    bs_error error;
    osb_str code, message;
} bs_event;
static const osb_field bs_error_fields[] = {
    OSB_FIELD_STR(bs_error, ename, "ename"),
    OSB_FIELD_STR(bs_error, evalue, "evalue"),
    OSB_FIELD_ARRAY(bs_error, traceback, traceback_count, "traceback", OSB_KIND_STR),
};
static const osb_type bs_error_type = OSB_TYPE(bs_error, bs_error_fields);
static const osb_field bs_event_fields[] = {
    OSB_FIELD_STR(bs_event, type, "type"),
    OSB_FIELD_STR(bs_event, text, "text"),
    OSB_FIELD_I64(bs_event, execution_count, "execution_count"),
    OSB_FIELD_I64(bs_event, execution_time, "execution_time"),
    OSB_FIELD_I64(bs_event, timestamp, "timestamp"),
    OSB_FIELD_RAW(bs_event, results, "results"),
    OSB_FIELD_OBJECT(bs_event, error, "error", &bs_error_type),
    OSB_FIELD_STR(bs_event, code, "code"),
    OSB_FIELD_STR(bs_event, message, "message"),
};
static const osb_type bs_event_type = OSB_TYPE(bs_event, bs_event_fields);

/* ---- workloads --------------------------------------------------------- */

static osb_client *make_client(const char *url, int pool_max) {
    osb_client_config cfg;
    osb_client *c = NULL;
    osb_err e;
    memset(&cfg, 0, sizeof cfg);
    cfg.domain = url;
    cfg.api_key = getenv("OPEN_SANDBOX_API_KEY");
    cfg.allocator = &ALLOC;
    cfg.pool_max = pool_max;
    cfg.tls.insecure_skip_verify = getenv("BENCH_CA") ? 0 : 1;
    cfg.tls.ca_file = getenv("BENCH_CA");
    e = osb_client_new(&cfg, &c);
    if (e) die(NULL, "client", e);
    return c;
}

static unsigned long long get_sandbox(osb_client *c) {
    osb_sandbox_info *sb = NULL;
    unsigned long long n;
    osb_err e = osb_sandbox_get(c, "6f1c2d3e-4a5b-4c6d-8e9f-000000000001", &sb);
    if (e) die(c, "osb_sandbox_get", e);
    n = sb->status.state.len;
    osb_result_free(sb);
    return n;
}

static int discard(void *user, const void *data, size_t len) {
    (void)data;
    *(uint64_t *)user += len;
    return 0;
}

typedef struct zero_reader { uint64_t left; } zero_reader;
static char ZEROS[256 * 1024];
static ptrdiff_t zread(void *user, void *buf, size_t cap) {
    zero_reader *z = (zero_reader *)user;
    size_t n = cap < sizeof ZEROS ? cap : sizeof ZEROS;
    if (n > z->left) n = (size_t)z->left;
    memcpy(buf, ZEROS, n);
    z->left -= n;
    return (ptrdiff_t)n;
}

static char EVBUF[64 * 1024];   /* event data (osb_sse) */
static char BINDBUF[64 * 1024]; /* strings of one bound event (osb_bind_into) */

typedef struct w2_stats { uint64_t events, stdout_events, text_bytes, other; } w2_stats;

static void on_event(osb_client *c, const osb_sse *s, w2_stats *st) {
    osb_sse_event ev;
    bs_event te;
    osb_err e;
    osb_error berr;
    osb_sse_event_get(s, &ev);
    e = osb_bind_into(&bs_event_type, ev.data, ev.data_len, &te, BINDBUF, sizeof BINDBUF, NULL,
                      &berr);
    if (e) die(c, "event bind", e);
    st->events++;
    if (te.type.len == 6 && memcmp(te.type.ptr, "stdout", 6) == 0) {
        st->stdout_events++;
        st->text_bytes += te.text.len;
    } else {
        st->other++;
    }
}

static int on_typed(void *user, const osb_event *ev) {
    w2_stats *st = (w2_stats *)user;
    st->events++;
    if (ev->type == OSB_EVENT_STDOUT) {
        st->stdout_events++;
        st->text_bytes += ev->text.len;
    } else {
        st->other++;
    }
    return 0;
}

static void target_for(osb_target *t, char *buf, size_t cap, const char *url, const char *id) {
    snprintf(buf, cap, "%s/x/%s", url, id);
    memset(t, 0, sizeof *t);
    t->url = buf;
}

/* ---- M1: many streams at once ------------------------------------------ */

typedef struct m1_job {
    const char *url, *which;
    w2_stats st;
    osb_err e;
} m1_job;

static void m1_done(void *user, osb_transfer *t, osb_err result, const osb_error *err) {
    m1_job *j = (m1_job *)user;
    (void)t;
    j->e = result;
    if (result) fprintf(stderr, "osb_bench: a stream failed: %s\n", err->message);
}

static int m1_event(void *user, const osb_event *ev) { return on_typed(&((m1_job *)user)->st, ev); }

/* One thread, one client, one multi: every stream in flight together. */
static uint64_t m1_multi(osb_client *c, m1_job *jobs, int n, const char *url, const char *which) {
    char tu[256];
    osb_target t;
    osb_command_request rq;
    osb_multi *m = NULL;
    osb_multi_config mc;
    uint64_t events = 0;
    int i, running = 0;
    memset(&mc, 0, sizeof mc);
    memset(&rq, 0, sizeof rq);
    target_for(&t, tu, sizeof tu, url, which);
    rq.command = "cat /var/log/build.log";
    if (osb_multi_new(c, &mc, &m)) die(c, "osb_multi_new", OSB_ERR_NOMEM);
    for (i = 0; i < n; i++) {
        osb_transfer_config tc;
        memset(&tc, 0, sizeof tc);
        tc.on_done = m1_done;
        tc.on_event = m1_event;
        tc.user = &jobs[i];
        if (osb_multi_command(m, &t, &rq, &tc, NULL)) die(c, "osb_multi_command", OSB_ERR_STATE);
    }
    do
        if (osb_multi_perform(m, 1000, &running)) die(c, "osb_multi_perform", OSB_ERR_STATE);
    while (running > 0);
    osb_multi_free(m);
    for (i = 0; i < n; i++) {
        if (jobs[i].e || jobs[i].st.stdout_events == 0) die(c, "a stream failed", jobs[i].e ? jobs[i].e : OSB_ERR_STATE);
        events += jobs[i].st.events;
    }
    return events;
}

/* One blocking stream on its own thread and client. */
static void *m1_thread(void *arg) {
    m1_job *j = (m1_job *)arg;
    osb_client_config cfg;
    osb_client *c = NULL;
    char tu[256];
    osb_target t;
    osb_command_request rq;
    memset(&cfg, 0, sizeof cfg);
    cfg.domain = j->url;
    memset(&rq, 0, sizeof rq);
    rq.command = "cat /var/log/build.log";
    target_for(&t, tu, sizeof tu, j->url, j->which);
    j->e = osb_client_new(&cfg, &c);
    if (!j->e) j->e = osb_command_run(c, &t, &rq, on_typed, &j->st, NULL);
    osb_client_free(c);
    return NULL;
}

static uint64_t m1_threads(m1_job *jobs, int n) {
    pthread_t *th = (pthread_t *)calloc((size_t)n, sizeof *th);
    uint64_t events = 0;
    int i;
    for (i = 0; i < n; i++)
        if (pthread_create(&th[i], NULL, m1_thread, &jobs[i]) != 0) die(NULL, "pthread_create", OSB_ERR_STATE);
    for (i = 0; i < n; i++) pthread_join(th[i], NULL);
    for (i = 0; i < n; i++) {
        if (jobs[i].e || jobs[i].st.stdout_events == 0) die(NULL, "a stream failed", jobs[i].e ? jobs[i].e : OSB_ERR_STATE);
        events += jobs[i].st.events;
    }
    free(th);
    return events;
}

/* the sandbox layer is there (merged into the header, or included above) */
#if defined(OSB_DEFAULT_READY_TIMEOUT_MS)
#define HAVE_W5 1
static int w5(const char *domain) {
    osb_client *c = make_client(domain, 0);
    osb_sandbox *sb = NULL;
    osb_sandbox_create_req cr;
    osb_command_request rq;
    osb_execution x;
    osb_upload_file f;
    osb_download_request d;
    osb_buf got;
    osb_err e;
    static const char content[] = "hello from the benchmark\n";
    memset(&cr, 0, sizeof cr);
    cr.image = "python:3.11";
    e = osb_sandbox_open(c, &cr, NULL, &sb);
    if (e) die(c, "osb_sandbox_open", e);
    memset(&rq, 0, sizeof rq);
    memset(&x, 0, sizeof x);
    rq.command = "echo hello";
    e = osb_command_run(c, osb_sandbox_execd(sb), &rq, NULL, NULL, &x);
    if (e) die(c, "osb_command_run", e);
    if (!x.exit_code_known || x.exit_code != 0 || x.out.len < 5) die(c, "echo output", OSB_ERR_STATE);
    osb_execution_free(&x);
    memset(&f, 0, sizeof f);
    f.path = "/tmp/bench.txt";
    f.data = content;
    f.size = sizeof content - 1;
    e = osb_files_upload(c, osb_sandbox_execd(sb), &f, 1);
    if (e) die(c, "osb_files_upload", e);
    memset(&d, 0, sizeof d);
    d.path = "/tmp/bench.txt";
    osb_buf_init(&got, &ALLOC);
    e = osb_files_download(c, osb_sandbox_execd(sb), &d, osb_buf_sink, &got, NULL);
    if (e) die(c, "osb_files_download", e);
    if (got.len != sizeof content - 1 || memcmp(got.data, content, got.len) != 0)
        die(c, "file content", OSB_ERR_STATE);
    osb_buf_free(&got);
    e = osb_sandbox_kill(sb);
    if (e) die(c, "osb_sandbox_kill", e);
    osb_sandbox_close(sb);
    osb_client_free(c);
    return 0;
}
#else
#define HAVE_W5 0
static int w5(const char *domain) { (void)domain; return 1; }
#endif

int main(int argc, char **argv) {
    const char *url, *w;
    osb_client *c;
    double t0, c0, t1, c1;
    unsigned long long a0;
    uint64_t units = 0, bytes = 0;
    if (argc < 3) {
        fprintf(stderr, "usage: osb_bench URL w1 N | w2|w2tok small|big | w3 | w4 MIB | chunked | w5 [N] | cold | idle N\n");
        return 2;
    }
    url = argv[1];
    w = argv[2];

    if (strcmp(w, "cold") == 0) {
        c = make_client(url, 0);
        get_sandbox(c);
        osb_client_free(c);
        printf("ok=1\n");
        return 0;
    }
    if (strcmp(w, "w5") == 0) {
        int n = argc > 3 ? atoi(argv[3]) : 1, i;
        if (!HAVE_W5) {
            printf("unavailable=1\n");
            return 3;
        }
        t0 = now_s();
        c0 = cpu_s();
        for (i = 0; i < n; i++) w5(url);
        printf("wall_s=%.6f cpu_s=%.6f units=%d\n", now_s() - t0, cpu_s() - c0, n);
        return 0;
    }
    if (strcmp(w, "m1") == 0 || strcmp(w, "m1threads") == 0) {
        int n = argc > 3 ? atoi(argv[3]) : 256, i;
        const char *which = argc > 4 ? argv[4] : "small";
        m1_job *jobs = (m1_job *)calloc((size_t)n, sizeof *jobs);
        uint64_t events;
        for (i = 0; i < n; i++) {
            jobs[i].url = url;
            jobs[i].which = which;
        }
        c = make_client(url, n);
        t0 = now_s();
        c0 = cpu_s();
        events = strcmp(w, "m1") == 0 ? m1_multi(c, jobs, n, url, which) : m1_threads(jobs, n);
        t1 = now_s();
        c1 = cpu_s();
        printf("wall_s=%.6f cpu_s=%.6f units=%llu streams=%d peak_heap=%zu heap_per_stream=%.0f\n", t1 - t0, c1 - c0,
               (unsigned long long)events, n, K.peak, (double)K.peak / n);
        osb_client_free(c);
        free(jobs);
        return 0;
    }
    if (strcmp(w, "idle") == 0) {
        int n = argc > 3 ? atoi(argv[3]) : 100, i;
        osb_client **cs = (osb_client **)calloc((size_t)n, sizeof *cs);
        long r0, r1;
        size_t h0;
        /* warm the libc and the first client's one-time costs */
        c = make_client(url, 1);
        get_sandbox(c);
        osb_client_free(c);
        r0 = rss_kib();
        h0 = K.live;
        for (i = 0; i < n; i++) {
            cs[i] = make_client(url, 1);
            get_sandbox(cs[i]);
            if (osb_client_pooled(cs[i]) != 1) die(cs[i], "not pooled", OSB_ERR_STATE);
        }
        r1 = rss_kib();
        printf("conns=%d heap_per_conn=%.0f rss_per_conn=%.0f\n", n,
               (double)(K.live - h0) / n, (double)(r1 - r0) * 1024.0 / n);
        for (i = 0; i < n; i++) osb_client_free(cs[i]);
        free(cs);
        return 0;
    }

    c = make_client(url, 0);
    t0 = now_s();
    c0 = cpu_s();
    a0 = calls();
    if (strcmp(w, "w1") == 0) {
        long n = argc > 3 ? atol(argv[3]) : 2000, i;
        for (i = 0; i < n; i++) bytes += get_sandbox(c);
        units = (uint64_t)n;
    } else if (strcmp(w, "w2") == 0) {
        char tu[256];
        osb_target t;
        osb_command_request rq;
        w2_stats st;
        osb_err e;
        memset(&st, 0, sizeof st);
        memset(&rq, 0, sizeof rq);
        target_for(&t, tu, sizeof tu, url, argc > 3 ? argv[3] : "big");
        rq.command = "cat /var/log/build.log";
        e = osb_command_run(c, &t, &rq, on_typed, &st, NULL);
        if (e) die(c, "osb_command_run", e);
        if (st.stdout_events == 0 || st.text_bytes == 0) die(c, "no stdout events", OSB_ERR_STATE);
        units = st.events;
    } else if (strcmp(w, "w2tok") == 0) {
        char path[64];
        const char *which = argc > 3 ? argv[3] : "big";
        static const char body[] = "{\"command\":\"cat /var/log/build.log\"}";
        osb_http_request rq;
        osb_http_response rs;
        osb_body *b = NULL;
        osb_sse s;
        w2_stats st;
        osb_err e;
        const void *data;
        size_t len;
        memset(&st, 0, sizeof st);
        memset(&rq, 0, sizeof rq);
        memset(&rs, 0, sizeof rs);
        snprintf(path, sizeof path, "/x/%s/command", which);
        rq.method = "POST";
        rq.path = path;
        rq.content_type = "application/json";
        rq.body = body;
        rq.body_len = sizeof body - 1;
        rq.stream = 1;
        e = osb_request_open(c, &rq, &rs, &b);
        if (e) die(c, "POST /command", e);
        osb_sse_init(&s, EVBUF, sizeof EVBUF);
        for (;;) {
            const char *p;
            e = osb_body_read(b, &data, &len);
            if (e) die(c, "body", e);
            if (len == 0) break;
            bytes += len;
            p = (const char *)data;
            while (len) {
                size_t k = osb_sse_push(&s, p, len);
                int stt = (int)osb_sse_status(&s);
                p += k;
                len -= k;
                if (stt == OSB_SSE_EVENT) on_event(c, &s, &st);
                else if (stt != OSB_SSE_MORE) die(c, "event stream", s.err ? s.err : OSB_ERR_TOO_LARGE);
            }
        }
        while (osb_sse_finish(&s) == OSB_SSE_EVENT) on_event(c, &s, &st);
        osb_body_close(b);
        osb_http_response_free(&rs);
        units = st.events;
        if (st.stdout_events == 0 || st.text_bytes == 0) die(c, "no stdout events", OSB_ERR_STATE);
    } else if (strcmp(w, "w3") == 0) {
        char tu[256];
        osb_target t;
        osb_download_request d;
        osb_err e;
        target_for(&t, tu, sizeof tu, url, "s");
        memset(&d, 0, sizeof d);
        d.path = "/data/big.bin";
        e = osb_files_download(c, &t, &d, discard, &bytes, NULL);
        if (e) die(c, "osb_files_download", e);
        units = bytes;
    } else if (strcmp(w, "chunked") == 0) {
        osb_http_request rq;
        osb_http_response rs;
        osb_err e;
        memset(&rq, 0, sizeof rq);
        memset(&rs, 0, sizeof rs);
        rq.path = "/chunked";
        rq.sink = discard;
        rq.sink_user = &bytes;
        rq.stream = 1;
        e = osb_request_raw(c, &rq, &rs);
        if (e) die(c, "chunked download", e);
        if (rs.content_length != -1) die(c, "response was not chunked", OSB_ERR_STATE);
        osb_http_response_free(&rs);
        units = bytes;
    } else if (strcmp(w, "w4") == 0) {
        uint64_t size = (uint64_t)(argc > 3 ? atol(argv[3]) : 256) << 20;
        char tu[256];
        osb_target t;
        osb_upload_file f;
        zero_reader z;
        osb_err e;
        target_for(&t, tu, sizeof tu, url, "s");
        memset(&f, 0, sizeof f);
        f.path = "/tmp/upload.bin";
        f.mode = 644;
        f.size = size;
        f.read = zread;
        f.read_user = &z;
        z.left = size;
        if (argc > 4) {   /* from a file: its descriptor */
            f.read = NULL;
            f.use_fd = 1;
            f.fd = open(argv[4], O_RDONLY);
            if (f.fd < 0) die(c, argv[4], OSB_ERR_IO);
            z.left = 0;
        }
        e = osb_files_upload(c, &t, &f, 1);
        if (e) die(c, "osb_files_upload", e);
        if (z.left) die(c, "upload short", OSB_ERR_STATE);
        if (f.use_fd) close(f.fd);
        bytes = units = size;
    } else {
        fprintf(stderr, "osb_bench: unknown workload %s\n", w);
        return 2;
    }
    t1 = now_s();
    c1 = cpu_s();
    printf("wall_s=%.6f cpu_s=%.6f units=%llu bytes=%llu allocs=%llu peak_heap=%zu\n", t1 - t0,
           c1 - c0, (unsigned long long)units, (unsigned long long)bytes, calls() - a0, K.peak);
    osb_client_free(c);
    return 0;
}
