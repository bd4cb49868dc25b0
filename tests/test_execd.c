/* execd tests: every execd operation against tools/devserver (commands,
 * sessions, code, files, directories, metrics), streams and executions, plus
 * a download resumed after a dropped connection against
 * tests/servers/dropserver.py. */
#define _DEFAULT_SOURCE
#define OPENSANDBOX_IMPLEMENTATION
#include "../opensandbox.h"
#include "testlib.h"
#include "testdev.h"
#include "fuzz/feed.h"

#include <sys/stat.h>
#include <sys/wait.h>
#include <fcntl.h>

static osb_client *C;
static osb_target T;
static char sandbox_id[128], execd_url[1024];
static int setup_done, setup_ok;
static char uniq[64];   /* a unique prefix for paths under /tmp */

static int setup(void) {
    if (setup_done) return setup_ok;
    setup_done = 1;
    C = testdev_client();
    if (!C) return 0;
    if (!testdev_sandbox(C, sandbox_id, sizeof sandbox_id, execd_url, sizeof execd_url)) return 0;
    T.url = execd_url;
    T.headers = NULL;
    snprintf(uniq, sizeof uniq, "/tmp/osbx-%ld-%ld", (long)getpid(), (long)time(NULL));
    setup_ok = 1;
    return 1;
}

#define NEED_SERVER() do { if (!setup()) SKIP("dev server unavailable"); } while (0)

static int recording(void) {
    const char *r = getenv("OSB_RECORD");
    return r && *r;
}

/* A path under the test's unique /tmp directory. */
static const char *tmp_path(char *buf, size_t cap, const char *name) {
    snprintf(buf, cap, "%s/%s", uniq, name);
    return buf;
}

/* Runs a shell command, returning its execution (free it). */
static osb_err run(const char *cmd, osb_execution *x) {
    osb_command_request r;
    memset(&r, 0, sizeof r);
    r.command = cmd;
    return osb_command_run(C, &T, &r, NULL, NULL, x);
}

/* ---- FNV-1a 64 over a stream, to compare big transfers without holding them ---- */

typedef struct hasher {
    uint64_t h;
    uint64_t n;
} hasher;

static void hasher_init(hasher *s) { s->h = 1469598103934665603ull; s->n = 0; }
static void hasher_add(hasher *s, const void *d, size_t len) {
    const unsigned char *p = (const unsigned char *)d;
    size_t i;
    for (i = 0; i < len; i++) s->h = (s->h ^ p[i]) * 1099511628211ull;
    s->n += len;
}
static int hasher_sink(void *user, const void *d, size_t len) {
    hasher_add((hasher *)user, d, len);
    return 0;
}

/* Generated content: byte i of a file of seed s. */
static unsigned char gen_byte(uint64_t i, unsigned seed) {
    uint64_t z = i * 0x9E3779B97F4A7C15ull + seed;
    z ^= z >> 29;
    return (unsigned char)(z * 0xBF58476D1CE4E5B9ull >> 56);
}

typedef struct gen_reader {
    uint64_t at, size;
    unsigned seed;
} gen_reader;

static ptrdiff_t gen_read(void *user, void *buf, size_t cap) {
    gen_reader *g = (gen_reader *)user;
    unsigned char *p = (unsigned char *)buf;
    size_t n = cap, i;
    if (g->size - g->at < n) n = (size_t)(g->size - g->at);
    for (i = 0; i < n; i++) p[i] = gen_byte(g->at + i, g->seed);
    g->at += n;
    return (ptrdiff_t)n;
}

static uint64_t gen_hash(uint64_t size, unsigned seed) {
    hasher h;
    unsigned char buf[65536];
    gen_reader g;
    hasher_init(&h);
    g.at = 0;
    g.size = size;
    g.seed = seed;
    for (;;) {
        ptrdiff_t n = gen_read(&g, buf, sizeof buf);
        if (n <= 0) break;
        hasher_add(&h, buf, (size_t)n);
    }
    return h.h;
}

/* ---- commands ------------------------------------------------------------------ */

typedef struct seen {
    int init, stdout_n, stderr_n, complete, error, ping, unknown;
    char first_stdout[64];
} seen;

static int count_events(void *user, const osb_event *ev) {
    seen *s = (seen *)user;
    switch (ev->type) {
    case OSB_EVENT_INIT: s->init++; break;
    case OSB_EVENT_STDOUT:
        if (!s->stdout_n) snprintf(s->first_stdout, sizeof s->first_stdout, "%s", ev->text.ptr);
        s->stdout_n++;
        break;
    case OSB_EVENT_STDERR: s->stderr_n++; break;
    case OSB_EVENT_EXECUTION_COMPLETE: s->complete++; break;
    case OSB_EVENT_ERROR: s->error++; break;
    case OSB_EVENT_PING: s->ping++; break;
    default: s->unknown++; break;
    }
    return 0;
}

TEST(command_run_success) {
    osb_command_request r;
    osb_execution x;
    seen s;
    NEED_SERVER();
    memset(&r, 0, sizeof r);
    memset(&x, 0, sizeof x);
    memset(&s, 0, sizeof s);
    r.command = "echo hello; echo world; echo oops >&2";
    CHECK_EQ_INT(osb_command_run(C, &T, &r, count_events, &s, &x), OSB_OK);
    CHECK_EQ_INT(s.init, 1);
    CHECK_EQ_INT(s.stdout_n, 2);
    CHECK_EQ_INT(s.stderr_n, 1);
    CHECK_EQ_INT(s.complete, 1);
    CHECK_EQ_STR(s.first_stdout, "hello");
    CHECK_EQ_STR(x.out.data, "hello\nworld\n");
    CHECK_EQ_STR(x.err.data, "oops\n");
    CHECK(x.completed);
    CHECK(!x.has_error);
    CHECK(x.exit_code_known);
    CHECK_EQ_INT(x.exit_code, 0);
    CHECK_EQ_INT(strlen(x.id), 32);
    osb_execution_free(&x);
}

TEST(command_exit_codes) {
    osb_execution x;
    NEED_SERVER();
    memset(&x, 0, sizeof x);
    CHECK_EQ_INT(run("echo oops >&2; exit 3", &x), OSB_OK);
    CHECK(x.has_error);
    CHECK(x.exit_code_known);
    CHECK_EQ_INT(x.exit_code, 3);
    CHECK_EQ_STR(x.ename.ptr, "CommandExecError");
    CHECK_EQ_STR(x.evalue.ptr, "3");
    CHECK_EQ_INT(x.traceback_count, 1);
    if (x.traceback_count) CHECK_EQ_STR(x.traceback[0].ptr, "exit status 3");
    CHECK_EQ_STR(x.err.data, "oops\n");
    CHECK(!x.completed);
    CHECK_EQ_INT(run("kill -9 $$", &x), OSB_OK);
    CHECK(x.has_error);
    CHECK(x.exit_code_known);
    CHECK_EQ_INT(x.exit_code, -1);
    if (x.traceback_count) CHECK(strstr(x.traceback[0].ptr, "signal") != NULL);
    CHECK_EQ_INT(run("true", &x), OSB_OK);
    CHECK(x.exit_code_known);
    CHECK_EQ_INT(x.exit_code, 0);
    CHECK(x.out.data == NULL || x.out.len == 0);
    osb_execution_free(&x);
}

TEST(command_options_cwd_env_timeout) {
    osb_command_request r;
    osb_execution x;
    const char *envs[] = {"OSB_A=alpha beta", "OSB_B=", NULL};
    char dir[256];
    osb_file_perm p;
    NEED_SERVER();
    memset(&p, 0, sizeof p);
    p.path = tmp_path(dir, sizeof dir, "cwd");
    CHECK_EQ_INT(osb_dir_create(C, &T, &p, 1), OSB_OK);
    memset(&r, 0, sizeof r);
    memset(&x, 0, sizeof x);
    r.command = "pwd; echo \"[$OSB_A][$OSB_B]\"; id -u";
    r.cwd = dir;
    r.envs = envs;
    r.uid_set = 1;
    r.uid = (uint32_t)getuid();
    CHECK_EQ_INT(osb_command_run(C, &T, &r, NULL, NULL, &x), OSB_OK);
    {
        char want[512];
        snprintf(want, sizeof want, "%s\n[alpha beta][]\n%u\n", dir, (unsigned)getuid());
        CHECK_EQ_STR(x.out.data, want);
    }
    /* timeout: the process group is killed, exit -1 */
    memset(&r, 0, sizeof r);
    r.command = "sleep 30";
    r.timeout_ms = 500;
    {
        int64_t t0 = osb__now_ms();
        CHECK_EQ_INT(osb_command_run(C, &T, &r, NULL, NULL, &x), OSB_OK);
        CHECK(osb__now_ms() - t0 < 10000);
    }
    CHECK(x.has_error);
    CHECK(x.exit_code_known);
    CHECK_EQ_INT(x.exit_code, -1);
    /* a missing cwd is a 400 before the stream */
    memset(&r, 0, sizeof r);
    r.command = "true";
    r.cwd = "/nonexistent/osb/dir";
    CHECK_EQ_INT(osb_command_run(C, &T, &r, NULL, NULL, &x), OSB_ERR_HTTP);
    CHECK_EQ_INT(osb_client_error(C)->http_status, 400);
    /* gid without uid: 400 */
    memset(&r, 0, sizeof r);
    r.command = "true";
    r.gid_set = 1;
    CHECK_EQ_INT(osb_command_run(C, &T, &r, NULL, NULL, &x), OSB_ERR_HTTP);
    /* empty command: refused before sending */
    memset(&r, 0, sizeof r);
    CHECK_EQ_INT(osb_command_run(C, &T, &r, NULL, NULL, &x), OSB_ERR_INVALID_ARG);
    osb_execution_free(&x);
}

TEST(command_big_stdout_and_big_event) {
    osb_execution x;
    char cmd[256];
    size_t mib = recording() ? 1 : 8;
    NEED_SERVER();
    memset(&x, 0, sizeof x);
    /* several MiB of stdout in lines of 1 KiB */
    snprintf(cmd, sizeof cmd, "head -c %lu /dev/zero | tr '\\0' a | fold -w 1023", (unsigned long)(mib << 20));
    CHECK_EQ_INT(run(cmd, &x), OSB_OK);
    CHECK_EQ_INT(x.exit_code, 0);
    CHECK_EQ_INT(x.out_bytes, (mib << 20));
    CHECK_EQ_INT(x.out.len, (mib << 20) + (mib << 20) / 1023 + ((mib << 20) % 1023 ? 1 : 0));
    /* one line (one event) of 1.5 MiB: the event buffer grows past 1 MiB */
    CHECK_EQ_INT(run("head -c 1572864 /dev/zero | tr '\\0' b; echo", &x), OSB_OK);
    CHECK_EQ_INT(x.exit_code, 0);
    CHECK_EQ_INT(x.out.len, 1572865);
    CHECK(x.out.len == 1572865 && x.out.data[0] == 'b' && x.out.data[1572863] == 'b');
    /* forward-only: counted, not kept */
    x.forward_only = 1;
    CHECK_EQ_INT(run("seq 1 1000", &x), OSB_OK);
    CHECK_EQ_INT(x.out.len, 0);
    CHECK_EQ_INT(x.out_bytes, 2893);
    CHECK_EQ_INT(x.exit_code, 0);
    CHECK_EQ_INT(x.forward_only, 1);
    osb_execution_free(&x);
}

typedef struct stopper {
    int events;
    int stop_after;
} stopper;

static int stop_cb(void *user, const osb_event *ev) {
    stopper *s = (stopper *)user;
    (void)ev;
    return ++s->events >= s->stop_after;
}

typedef struct interrupter {
    char id[OSB_EXEC_ID_MAX];
    int done, rc;
} interrupter;

/* On the first stdout line, interrupt the command from inside the callback
 * using a second client (one client serves one request at a time). */
static int interrupt_cb(void *user, const osb_event *ev) {
    interrupter *it = (interrupter *)user;
    if (ev->type == OSB_EVENT_INIT) snprintf(it->id, sizeof it->id, "%s", ev->text.ptr);
    if (ev->type == OSB_EVENT_STDOUT && !it->done) {
        osb_client *c2 = testdev_client();
        it->done = 1;
        it->rc = c2 ? (int)osb_command_interrupt(c2, &T, it->id) : -1;
        osb_client_free(c2);
    }
    return 0;
}

TEST(command_interrupt_and_cancel) {
    osb_command_request r;
    osb_execution x;
    interrupter it;
    stopper st;
    volatile int flag = 1;
    NEED_SERVER();
    memset(&r, 0, sizeof r);
    memset(&x, 0, sizeof x);
    memset(&it, 0, sizeof it);
    r.command = "echo started; sleep 30";
    {
        int64_t t0 = osb__now_ms();
        CHECK_EQ_INT(osb_command_run(C, &T, &r, interrupt_cb, &it, &x), OSB_OK);
        CHECK(osb__now_ms() - t0 < 15000);
    }
    CHECK_EQ_INT(it.rc, OSB_OK);
    CHECK(x.has_error);
    CHECK_EQ_INT(x.exit_code, -1);
    /* interrupting a finished command: 500 */
    CHECK_EQ_INT(osb_command_interrupt(C, &T, it.id), OSB_ERR_HTTP);
    CHECK_EQ_INT(osb_client_error(C)->http_status, 500);
    /* the callback stops the stream */
    memset(&st, 0, sizeof st);
    st.stop_after = 1;
    r.command = "echo a; echo b";
    CHECK_EQ_INT(osb_command_run(C, &T, &r, stop_cb, &st, &x), OSB_ERR_CANCELLED);
    CHECK_EQ_INT(st.events, 1);
    /* so does the flag (checked before each read) */
    r.cancel = &flag;
    CHECK_EQ_INT(osb_command_run(C, &T, &r, NULL, NULL, &x), OSB_ERR_CANCELLED);
    osb_execution_free(&x);
}

TEST(command_pull_stream) {
    osb_command_request r;
    osb_stream *s = NULL;
    const osb_event *ev;
    int n = 0, init = 0, out = 0, complete = 0;
    osb_err e;
    NEED_SERVER();
    memset(&r, 0, sizeof r);
    r.command = "printf 'x\\ny\\n'";
    CHECK_EQ_INT(osb_command_stream(C, &T, &r, 0, &s), OSB_OK);
    while ((e = osb_stream_next(s, &ev)) == OSB_OK && ev) {
        n++;
        if (ev->type == OSB_EVENT_INIT) init++;
        if (ev->type == OSB_EVENT_STDOUT) out++;
        if (ev->type == OSB_EVENT_EXECUTION_COMPLETE) complete++;
        CHECK(ev->timestamp > 0);
        CHECK(ev->raw.len > 0 && ev->raw.ptr[0] == '{');
    }
    CHECK_EQ_INT(e, OSB_OK);
    CHECK_EQ_INT(init, 1);
    CHECK_EQ_INT(out, 2);
    CHECK_EQ_INT(complete, 1);
    /* after the end: still the end */
    CHECK_EQ_INT(osb_stream_next(s, &ev), OSB_OK);
    CHECK(ev == NULL);
    osb_stream_close(s);
    /* a background command as a stream: init, execution_complete, end */
    n = init = complete = 0;
    r.command = "sleep 0.2";
    CHECK_EQ_INT(osb_command_stream(C, &T, &r, 1, &s), OSB_OK);
    while ((e = osb_stream_next(s, &ev)) == OSB_OK && ev) {
        if (ev->type == OSB_EVENT_INIT) init++;
        if (ev->type == OSB_EVENT_EXECUTION_COMPLETE) complete++;
    }
    CHECK_EQ_INT(e, OSB_OK);
    CHECK_EQ_INT(init, 1);
    CHECK_EQ_INT(complete, 1);
    CHECK_EQ_INT(osb_stream_next(s, &ev), OSB_OK);
    CHECK(ev == NULL);
    osb_stream_close(s);
}

static int buf_sink_count;
static int counting_buf_sink(void *user, const void *d, size_t n) {
    buf_sink_count++;
    return osb_buf_sink(user, d, n);
}

TEST(command_background_logs_follow) {
    osb_command_request r;
    char id[OSB_EXEC_ID_MAX];
    osb_command_status *st = NULL;
    osb_buf log;
    uint64_t cursor = 0, c2 = 0;
    int code = 12345, i, rounds = 0;
    NEED_SERVER();
    memset(&r, 0, sizeof r);
    osb_buf_init(&log, NULL);
    r.command = "for i in 1 2 3 4 5 6; do echo line$i; sleep 0.2; done; echo err >&2; exit 4";
    CHECK_EQ_INT(osb_command_start(C, &T, &r, id, sizeof id), OSB_OK);
    CHECK_EQ_INT(strlen(id), 32);
    CHECK_EQ_INT(osb_command_status_get(C, &T, id, &st), OSB_OK);
    if (st) {
        CHECK_EQ_STR(st->id.ptr, id);
        CHECK_EQ_STR(st->content.ptr, r.command);
        CHECK(st->running);
        CHECK(!st->has_exit_code);
        CHECK(st->started_at.len > 0);
        osb_result_free(st);
    }
    /* manual cursor round trips while it runs */
    for (i = 0; i < 3; i++) {
        uint64_t before = c2;
        CHECK_EQ_INT(osb_command_logs(C, &T, id, c2, osb_buf_sink, &log, &c2), OSB_OK);
        CHECK(c2 >= before);
        if (c2 > before) rounds++;
        osb__sleep_ms(300);
    }
    CHECK(rounds >= 2);
    CHECK(log.len > 0 && !memcmp(log.data, "line1\n", 6));
    /* then follow from 0 to the end */
    osb_buf_free(&log);
    buf_sink_count = 0;
    CHECK_EQ_INT(osb_command_follow(C, &T, id, counting_buf_sink, &log, &cursor, 100, NULL, &code), OSB_OK);
    CHECK_EQ_STR(log.data, "line1\nline2\nline3\nline4\nline5\nline6\nerr\n");
    CHECK_EQ_INT(cursor, 40);
    CHECK_EQ_INT(code, 4);
    CHECK_EQ_INT(osb_command_status_get(C, &T, id, &st), OSB_OK);
    if (st) {
        CHECK(!st->running);
        CHECK(st->has_exit_code);
        CHECK_EQ_INT(st->exit_code, 4);
        CHECK_EQ_STR(st->error.ptr, "exit status 4");
        CHECK(st->finished_at.len > 0);
        osb_result_free(st);
    }
    /* beyond the end: nothing, cursor unchanged */
    osb_buf_free(&log);
    CHECK_EQ_INT(osb_command_logs(C, &T, id, 40, osb_buf_sink, &log, &c2), OSB_OK);
    CHECK_EQ_INT(log.len, 0);
    CHECK_EQ_INT(c2, 40);
    /* unknown id: status 404, logs 400 */
    CHECK_EQ_INT(osb_command_status_get(C, &T, "0123456789abcdef0123456789abcdef", &st), OSB_ERR_HTTP);
    CHECK(osb_error_is_not_found(osb_client_error(C)));
    CHECK_EQ_INT(osb_command_logs(C, &T, "0123456789abcdef0123456789abcdef", 0, osb_buf_sink, &log, NULL), OSB_ERR_HTTP);
    CHECK_EQ_INT(osb_client_error(C)->http_status, 400);
    osb_buf_free(&log);
}

/* ---- sessions ------------------------------------------------------------------ */

TEST(session_env_and_cwd_persist) {
    char sid[OSB_EXEC_ID_MAX], dir[256], want[512];
    osb_session_run_request r;
    osb_execution x;
    NEED_SERVER();
    memset(&x, 0, sizeof x);
    tmp_path(dir, sizeof dir, "session");
    CHECK_EQ_INT(osb_session_create(C, &T, dir, sid, sizeof sid), OSB_OK);
    CHECK(strlen(sid) > 0);
    memset(&r, 0, sizeof r);
    r.command = "export OSB_S=persisted; mkdir -p sub && cd sub";
    CHECK_EQ_INT(osb_session_run(C, &T, sid, &r, NULL, NULL, &x), OSB_OK);
    CHECK_EQ_STR(x.id, sid);
    CHECK_EQ_INT(x.exit_code, 0);
    r.command = "echo $OSB_S; pwd; echo to-stderr >&2";
    CHECK_EQ_INT(osb_session_run(C, &T, sid, &r, NULL, NULL, &x), OSB_OK);
    snprintf(want, sizeof want, "persisted\n%s/sub\nto-stderr\n", dir);
    CHECK_EQ_STR(x.out.data, want);
    r.command = "exit 7";
    CHECK_EQ_INT(osb_session_run(C, &T, sid, &r, NULL, NULL, &x), OSB_OK);
    CHECK_EQ_INT(x.exit_code, 7);
    /* a timeout arrives as the bare {code,message} in the 200 stream */
    r.command = "sleep 5";
    r.timeout_ms = 300;
    CHECK_EQ_INT(osb_session_run(C, &T, sid, &r, NULL, NULL, &x), OSB_ERR_SERVER);
    CHECK_EQ_STR(osb_client_error(C)->server_code, "RUNTIME_ERROR");
    CHECK(strstr(osb_client_error(C)->message, "timeout") != NULL);
    CHECK_EQ_INT(osb_session_delete(C, &T, sid), OSB_OK);
    CHECK_EQ_INT(osb_session_delete(C, &T, sid), OSB_ERR_HTTP);
    CHECK(osb_error_is_not_found(osb_client_error(C)));
    r.timeout_ms = 0;
    r.command = "true";
    CHECK_EQ_INT(osb_session_run(C, &T, sid, &r, NULL, NULL, &x), OSB_ERR_HTTP);
    CHECK_EQ_INT(osb_client_error(C)->http_status, 500);
    osb_execution_free(&x);
}

/* ---- code ------------------------------------------------------------------------ */

typedef struct code_interrupter {
    char ctx[OSB_EXEC_ID_MAX];
    int done, rc;
} code_interrupter;

static int code_interrupt_cb(void *user, const osb_event *ev) {
    code_interrupter *it = (code_interrupter *)user;
    if (ev->type == OSB_EVENT_STDOUT && !it->done) {
        osb_client *c2 = testdev_client();
        it->done = 1;
        it->rc = c2 ? (int)osb_code_interrupt(c2, &T, it->ctx) : -1;
        osb_client_free(c2);
    }
    return 0;
}

TEST(code_contexts_and_runs) {
    osb_code_context *ctx = NULL, *got = NULL;
    osb_code_contexts *list = NULL;
    osb_code_request r;
    osb_execution x;
    size_t i;
    int found = 0;
    NEED_SERVER();
    memset(&x, 0, sizeof x);
    CHECK_EQ_INT(osb_code_context_create(C, &T, "python", NULL, &ctx), OSB_OK);
    if (!ctx) return;
    CHECK_EQ_STR(ctx->language.ptr, "python");
    CHECK(ctx->id.len > 0);
    CHECK_EQ_INT(osb_code_context_get(C, &T, ctx->id.ptr, &got), OSB_OK);
    if (got) CHECK_EQ_STR(got->id.ptr, ctx->id.ptr);
    osb_result_free(got);
    CHECK_EQ_INT(osb_code_context_list(C, &T, "python", &list), OSB_OK);
    for (i = 0; list && i < list->count; i++)
        if (!strcmp(list->items[i].id.ptr, ctx->id.ptr)) found = 1;
    CHECK(found);
    osb_result_free(list);
    memset(&r, 0, sizeof r);
    r.context_id = ctx->id.ptr;
    r.language = "python";
    r.code = "x = 40\nprint('hi')";
    CHECK_EQ_INT(osb_code_run(C, &T, &r, NULL, NULL, &x), OSB_OK);
    CHECK_EQ_STR(x.out.data, "hi\n");
    CHECK_EQ_INT(x.exit_code, 0);
    CHECK_EQ_STR(x.id, ctx->id.ptr);
    /* the variable persists; the result reads "text" */
    r.code = "x + 2";
    CHECK_EQ_INT(osb_code_run(C, &T, &r, NULL, NULL, &x), OSB_OK);
    if (x.results_count == 0) fprintf(stderr, "  %s\n", osb_client_error(C)->message);
    CHECK_EQ_INT(x.results_count, 1);
    if (x.results_count) {
        CHECK_EQ_STR(x.results[0].text.ptr, "42");
        CHECK(x.results[0].count >= 1);
        CHECK(x.results[0].execution_count > 0);
    }
    CHECK(x.execution_count > 0);
    /* an exception: status + error with a traceback, then execution_complete */
    r.code = "def f():\n    raise ValueError('bad value')\nf()";
    CHECK_EQ_INT(osb_code_run(C, &T, &r, NULL, NULL, &x), OSB_OK);
    CHECK(x.has_error);
    CHECK_EQ_STR(x.ename.ptr, "ValueError");
    CHECK_EQ_STR(x.evalue.ptr, "bad value");
    CHECK(x.traceback_count >= 1);
    CHECK(!x.exit_code_known);
    CHECK(x.completed);
    /* interrupt a running cell from the callback (a second client sends it) */
    {
        code_interrupter ci;
        int64_t t0 = osb__now_ms();
        memset(&ci, 0, sizeof ci);
        snprintf(ci.ctx, sizeof ci.ctx, "%s", ctx->id.ptr);
        r.code = "import time\nprint('sleeping', flush=True)\ntime.sleep(30)";
        CHECK_EQ_INT(osb_code_run(C, &T, &r, code_interrupt_cb, &ci, &x), OSB_OK);
        CHECK(osb__now_ms() - t0 < 15000);
        CHECK_EQ_INT(ci.rc, OSB_OK);
        CHECK(x.has_error);
        CHECK_EQ_STR(x.ename.ptr, "KeyboardInterrupt");
        /* the context still works afterwards */
        r.code = "x";
        CHECK_EQ_INT(osb_code_run(C, &T, &r, NULL, NULL, &x), OSB_OK);
        CHECK(x.results_count == 1 && !strcmp(x.results[0].text.ptr, "40"));
    }
    /* delete, then 404 */
    CHECK_EQ_INT(osb_code_context_delete(C, &T, ctx->id.ptr), OSB_OK);
    CHECK_EQ_INT(osb_code_context_get(C, &T, ctx->id.ptr, &got), OSB_ERR_HTTP);
    CHECK(osb_error_is_not_found(osb_client_error(C)));
    CHECK_EQ_INT(osb_code_context_delete(C, &T, ctx->id.ptr), OSB_ERR_HTTP);
    osb_result_free(ctx);
    CHECK_EQ_INT(osb_code_context_delete_language(C, &T, "python"), OSB_OK);
    CHECK_EQ_INT(osb_code_context_list(C, &T, "python", &list), OSB_OK);
    osb_result_free(list);
    osb_execution_free(&x);
}

/* ---- files ---------------------------------------------------------------------- */

static void upload_download_size(uint64_t size, unsigned seed) {
    char path[256], name[64];
    osb_upload_file f;
    gen_reader g;
    hasher h;
    osb_download_request dr;
    osb_download_info info;
    snprintf(name, sizeof name, "size-%llu.bin", (unsigned long long)size);
    tmp_path(path, sizeof path, name);
    memset(&f, 0, sizeof f);
    g.at = 0;
    g.size = size;
    g.seed = seed;
    f.path = path;
    f.read = gen_read;
    f.read_user = &g;
    f.size = size;
    f.mode = 600;
    CHECK_EQ_INT(osb_files_upload(C, &T, &f, 1), OSB_OK);
    memset(&dr, 0, sizeof dr);
    dr.path = path;
    hasher_init(&h);
    CHECK_EQ_INT(osb_files_download(C, &T, &dr, hasher_sink, &h, &info), OSB_OK);
    CHECK_EQ_INT(h.n, size);
    CHECK_EQ_INT(info.bytes, size);
    CHECK_EQ_INT(info.status, 200);
    CHECK(h.h == gen_hash(size, seed));
    if (h.h != gen_hash(size, seed)) fprintf(stderr, "  size %llu differs\n", (unsigned long long)size);
    {
        /* the file as the sandbox's own commands see it */
        osb_execution x;
        char cmd[320], want[64];
        memset(&x, 0, sizeof x);
        snprintf(cmd, sizeof cmd, "stat -c '%%s %%a' %s", path);
        snprintf(want, sizeof want, "%llu 600\n", (unsigned long long)size);
        CHECK_EQ_INT(run(cmd, &x), OSB_OK);
        CHECK_EQ_INT(x.exit_code, 0);
        CHECK_EQ_STR(x.out.data ? x.out.data : "", want);
        osb_execution_free(&x);
    }
}

TEST(files_upload_download_sizes) {
    static const uint64_t sizes[] = {0, 1, 16383, 16385, 65536, 1048576};
    size_t i;
    NEED_SERVER();
    for (i = 0; i < sizeof sizes / sizeof sizes[0]; i++) upload_download_size(sizes[i], (unsigned)i + 1);
}

TEST(files_upload_download_100mib) {
    NEED_SERVER();
    if (recording()) SKIP("100 MiB is not recorded");
    upload_download_size((uint64_t)100 << 20, 77);
}

TEST(files_upload_sources_and_download_targets) {
    char p1[256], p2[256], p3[256], local[256], out[256];
    osb_upload_file f[3];
    osb_download_request dr;
    osb_download_info info;
    static const char mem[] = "from memory\n";
    FILE *lf;
    int fd;
    char back[64];
    NEED_SERVER();
    snprintf(local, sizeof local, "/tmp/osbx-local-%ld.txt", (long)getpid());
    lf = fopen(local, "wb");
    CHECK(lf != NULL);
    if (!lf) return;
    fputs("from a local path\n", lf);
    fclose(lf);
    fd = open(local, O_RDONLY);
    CHECK(fd >= 0);
    memset(f, 0, sizeof f);
    f[0].path = tmp_path(p1, sizeof p1, "multi/a.txt");
    f[0].data = mem;
    f[0].size = sizeof mem - 1;
    f[0].mode = 644;
    f[1].path = tmp_path(p2, sizeof p2, "multi/deeper/b.txt");
    f[1].local_path = local;
    f[1].mode = 755;
    f[2].path = tmp_path(p3, sizeof p3, "multi/c.txt");
    f[2].use_fd = 1;
    f[2].fd = fd;
    CHECK_EQ_INT(osb_files_upload(C, &T, f, 3), OSB_OK);
    close(fd);
    {
        osb_execution x;
        char cmd[2048];
        memset(&x, 0, sizeof x);
        snprintf(cmd, sizeof cmd, "cat %s %s %s; stat -c %%a %s %s", p1, p2, p3, p1, p2);
        CHECK_EQ_INT(run(cmd, &x), OSB_OK);
        CHECK_EQ_STR(x.out.data, "from memory\nfrom a local path\nfrom a local path\n644\n755\n");
        osb_execution_free(&x);
    }
    /* download to a path and to a descriptor */
    snprintf(out, sizeof out, "/tmp/osbx-out-%ld.txt", (long)getpid());
    memset(&dr, 0, sizeof dr);
    dr.path = p2;
    CHECK_EQ_INT(osb_files_download_path(C, &T, &dr, out, &info), OSB_OK);
    lf = fopen(out, "rb");
    memset(back, 0, sizeof back);
    if (lf) { CHECK(fread(back, 1, sizeof back - 1, lf) > 0); fclose(lf); }
    CHECK_EQ_STR(back, "from a local path\n");
    fd = open(out, O_WRONLY | O_TRUNC);
    dr.path = p1;
    CHECK_EQ_INT(osb_files_download_fd(C, &T, &dr, fd, &info), OSB_OK);
    close(fd);
    lf = fopen(out, "rb");
    memset(back, 0, sizeof back);
    if (lf) { CHECK(fread(back, 1, sizeof back - 1, lf) > 0); fclose(lf); }
    CHECK_EQ_STR(back, "from memory\n");
    /* a missing file: 404 */
    dr.path = "/nonexistent/osb-file";
    CHECK_EQ_INT(osb_files_download_fd(C, &T, &dr, 1, &info), OSB_ERR_HTTP);
    CHECK(osb_error_is_not_found(osb_client_error(C)));
    /* bad mode digits: refused before sending */
    f[0].mode = 648;
    CHECK_EQ_INT(osb_files_upload(C, &T, f, 1), OSB_ERR_INVALID_ARG);
    unlink(local);
    unlink(out);
}

TEST(files_download_ranges) {
    char path[256];
    osb_upload_file f;
    osb_download_request dr;
    osb_download_info info;
    osb_buf b;
    static const char text[] = "0123456789abcdefghij";
    NEED_SERVER();
    memset(&f, 0, sizeof f);
    f.path = tmp_path(path, sizeof path, "range.txt");
    f.data = text;
    f.size = 20;
    CHECK_EQ_INT(osb_files_upload(C, &T, &f, 1), OSB_OK);
    memset(&dr, 0, sizeof dr);
    dr.path = path;
    dr.offset = 5;
    dr.length = 4;
    osb_buf_init(&b, NULL);
    CHECK_EQ_INT(osb_files_download(C, &T, &dr, osb_buf_sink, &b, &info), OSB_OK);
    CHECK_EQ_MEM(b.data, b.len, "5678", 4);
    CHECK_EQ_INT(info.status, 206);
    CHECK_EQ_INT(info.total_size, 20);
    b.len = 0;
    dr.offset = 15;
    dr.length = 0;
    CHECK_EQ_INT(osb_files_download(C, &T, &dr, osb_buf_sink, &b, &info), OSB_OK);
    CHECK_EQ_MEM(b.data, b.len, "fghij", 5);
    /* the end beyond the file is clipped */
    b.len = 0;
    dr.offset = 18;
    dr.length = 100;
    CHECK_EQ_INT(osb_files_download(C, &T, &dr, osb_buf_sink, &b, &info), OSB_OK);
    CHECK_EQ_MEM(b.data, b.len, "ij", 2);
    /* past the end: 416 */
    b.len = 0;
    dr.offset = 20;
    dr.length = 0;
    CHECK_EQ_INT(osb_files_download(C, &T, &dr, osb_buf_sink, &b, &info), OSB_ERR_HTTP);
    CHECK_EQ_INT(osb_client_error(C)->http_status, 416);
    osb_buf_free(&b);
}

/* Line reads (GET /files/download?offset=N&limit=M): lines without their
 * CR/LF, joined by '\n' without a final newline; exclusive with a range. */
static void lines_expect(const char *path, int64_t off, int64_t lim, const char *want, int line) {
    osb_download_request dr;
    osb_download_info info;
    osb_buf b;
    osb_err e;
    memset(&dr, 0, sizeof dr);
    dr.path = path;
    dr.line_offset = off;
    dr.line_limit = lim;
    osb_buf_init(&b, NULL);
    e = osb_files_download(C, &T, &dr, osb_buf_sink, &b, &info);
    if (e != OSB_OK || b.len != strlen(want) || (b.len && memcmp(b.data, want, b.len) != 0)) {
        testlib_failed_checks++;
        fprintf(stderr, "  line %d: lines %lld+%lld: err %d, got \"%.*s\", want \"%s\"\n", line, (long long)off,
                (long long)lim, (int)e, (int)b.len, b.data ? b.data : "", want);
    }
    if (e == OSB_OK) CHECK_EQ_INT(info.status, 200);
    osb_buf_free(&b);
}

TEST(files_download_lines) {
    char path[256], path2[256];
    osb_upload_file f;
    osb_download_request dr;
    osb_buf b;
    static const char text[] = "one\ntwo\r\nthree\n\nfive";
    NEED_SERVER();
    memset(&f, 0, sizeof f);
    f.path = tmp_path(path, sizeof path, "lines.txt");
    f.data = text;
    f.size = sizeof text - 1;
    CHECK_EQ_INT(osb_files_upload(C, &T, &f, 1), OSB_OK);
    lines_expect(path, 1, 0, "one\ntwo\nthree\n\nfive", __LINE__);
    lines_expect(path, 2, 2, "two\nthree", __LINE__);
    lines_expect(path, 0, 1, "one", __LINE__);            /* limit alone: from line 1 */
    lines_expect(path, 4, 0, "\nfive", __LINE__);
    lines_expect(path, 5, 9, "five", __LINE__);           /* a last line without '\n' counts */
    lines_expect(path, 6, 0, "", __LINE__);               /* past the end: empty */
    f.path = tmp_path(path2, sizeof path2, "lines-nl.txt");
    f.data = "a\nb\n";
    f.size = 4;
    CHECK_EQ_INT(osb_files_upload(C, &T, &f, 1), OSB_OK);
    lines_expect(path2, 1, 0, "a\nb", __LINE__);         /* no newline after the last line */
    lines_expect(path2, 3, 0, "", __LINE__);
    /* refused before sending: both kinds of range, negative values */
    memset(&dr, 0, sizeof dr);
    dr.path = path;
    dr.line_offset = 2;
    dr.offset = 3;
    osb_buf_init(&b, NULL);
    CHECK_EQ_INT(osb_files_download(C, &T, &dr, osb_buf_sink, &b, NULL), OSB_ERR_INVALID_ARG);
    dr.offset = 0;
    dr.length = 5;
    CHECK_EQ_INT(osb_files_download(C, &T, &dr, osb_buf_sink, &b, NULL), OSB_ERR_INVALID_ARG);
    dr.length = 0;
    dr.line_offset = -1;
    CHECK_EQ_INT(osb_files_download(C, &T, &dr, osb_buf_sink, &b, NULL), OSB_ERR_INVALID_ARG);
    CHECK_EQ_INT(b.len, 0);
    /* a missing file is the usual 404 */
    dr.path = "/no/such/file.txt";
    dr.line_offset = 1;
    CHECK_EQ_INT(osb_files_download(C, &T, &dr, osb_buf_sink, &b, NULL), OSB_ERR_HTTP);
    CHECK_EQ_INT(osb_client_error(C)->http_status, 404);
    osb_buf_free(&b);
}

TEST(files_info_delete_chmod_move_search_replace) {
    char a[256], b[256], d[256], moved[256], dir[256];
    const char *paths[2];
    osb_upload_file f[2];
    osb_file_info_list *info = NULL;
    osb_file_perm perm;
    osb_file_move mv;
    osb_file_replace rep;
    osb_replace_counts *counts = NULL;
    size_t i;
    NEED_SERVER();
    tmp_path(dir, sizeof dir, "fs");
    memset(f, 0, sizeof f);
    f[0].path = tmp_path(a, sizeof a, "fs/a.txt");
    f[0].data = "alpha alpha beta";
    f[0].size = 16;
    f[0].mode = 640;
    f[1].path = tmp_path(b, sizeof b, "fs/sub/b.log");
    f[1].data = "b";
    f[1].size = 1;
    CHECK_EQ_INT(osb_files_upload(C, &T, f, 2), OSB_OK);
    paths[0] = a;
    paths[1] = b;
    CHECK_EQ_INT(osb_files_info(C, &T, paths, 2, &info), OSB_OK);
    CHECK(info && info->count == 2);
    for (i = 0; info && i < info->count; i++) {
        const osb_file_info *it = &info->items[i];
        CHECK_EQ_STR(it->key.ptr, it->path.ptr);
        CHECK_EQ_STR(it->type.ptr, "file");
        if (!strcmp(it->path.ptr, a)) {
            CHECK_EQ_INT(it->size, 16);
            CHECK_EQ_INT(it->mode, 640);
        } else {
            CHECK_EQ_STR(it->path.ptr, b);
            CHECK_EQ_INT(it->size, 1);
        }
        CHECK(it->modified_at.len > 0 && it->owner.len > 0 && it->group.len > 0);
    }
    osb_result_free(info);
    /* chmod (octal digits as decimal) */
    memset(&perm, 0, sizeof perm);
    perm.path = a;
    perm.mode = 604;
    CHECK_EQ_INT(osb_files_chmod(C, &T, &perm, 1), OSB_OK);
    CHECK_EQ_INT(osb_files_info(C, &T, paths, 1, &info), OSB_OK);
    if (info && info->count) CHECK_EQ_INT(info->items[0].mode, 604);
    osb_result_free(info);
    /* search: base names only, no directories */
    CHECK_EQ_INT(osb_files_search(C, &T, dir, "*.log", &info), OSB_OK);
    CHECK(info && info->count == 1 && !strcmp(info->items[0].path.ptr, b));
    osb_result_free(info);
    CHECK_EQ_INT(osb_files_search(C, &T, dir, NULL, &info), OSB_OK);
    CHECK(info && info->count == 2);
    osb_result_free(info);
    /* replace, verbose */
    memset(&rep, 0, sizeof rep);
    rep.path = a;
    rep.old_text = "alpha";
    rep.new_text = "A";
    CHECK_EQ_INT(osb_files_replace(C, &T, &rep, 1, &counts), OSB_OK);
    CHECK(counts && counts->count == 1);
    if (counts && counts->count) {
        CHECK_EQ_STR(counts->items[0].key.ptr, a);
        CHECK_EQ_INT(counts->items[0].replaced, 2);
    }
    osb_result_free(counts);
    rep.old_text = "beta";
    rep.new_text = "B";
    CHECK_EQ_INT(osb_files_replace(C, &T, &rep, 1, NULL), OSB_OK);
    {
        osb_execution x;
        char cmd[300];
        memset(&x, 0, sizeof x);
        snprintf(cmd, sizeof cmd, "cat %s", a);
        CHECK_EQ_INT(run(cmd, &x), OSB_OK);
        CHECK_EQ_STR(x.out.data, "A A B\n");
        osb_execution_free(&x);
    }
    /* move (parents created) */
    memset(&mv, 0, sizeof mv);
    mv.src = a;
    mv.dest = tmp_path(moved, sizeof moved, "fs/new/parent/a2.txt");
    CHECK_EQ_INT(osb_files_move(C, &T, &mv, 1), OSB_OK);
    paths[0] = a;
    CHECK_EQ_INT(osb_files_info(C, &T, paths, 1, &info), OSB_ERR_HTTP);
    CHECK(osb_error_is_not_found(osb_client_error(C)));
    paths[0] = moved;
    CHECK_EQ_INT(osb_files_info(C, &T, paths, 1, &info), OSB_OK);
    osb_result_free(info);
    /* delete: files, idempotent; a directory is refused */
    CHECK_EQ_INT(osb_files_delete(C, &T, paths, 1), OSB_OK);
    CHECK_EQ_INT(osb_files_delete(C, &T, paths, 1), OSB_OK);
    paths[0] = tmp_path(d, sizeof d, "fs/sub");
    CHECK_EQ_INT(osb_files_delete(C, &T, paths, 1), OSB_ERR_HTTP);
    CHECK_EQ_INT(osb_client_error(C)->http_status, 500);
}

TEST(directories_list_create_delete) {
    char root[256], d1[256], d2[256], file[256];
    osb_file_perm p[2];
    osb_file_info_list *l = NULL;
    osb_upload_file f;
    const char *paths[1];
    NEED_SERVER();
    tmp_path(root, sizeof root, "dirs");
    memset(p, 0, sizeof p);
    p[0].path = tmp_path(d1, sizeof d1, "dirs/a/deep");
    p[0].mode = 700;
    p[1].path = tmp_path(d2, sizeof d2, "dirs/b");
    CHECK_EQ_INT(osb_dir_create(C, &T, p, 2), OSB_OK);
    memset(&f, 0, sizeof f);
    f.path = tmp_path(file, sizeof file, "dirs/a/deep/f.txt");
    f.data = "x";
    f.size = 1;
    CHECK_EQ_INT(osb_files_upload(C, &T, &f, 1), OSB_OK);
    CHECK_EQ_INT(osb_dir_list(C, &T, root, 0, &l), OSB_OK);   /* default depth 1 */
    CHECK(l && l->count == 2);
    if (l && l->count == 2) {
        CHECK(strstr(l->items[0].path.ptr, "/dirs/a") != NULL);
        CHECK_EQ_STR(l->items[0].type.ptr, "directory");
        CHECK(strstr(l->items[1].path.ptr, "/dirs/b") != NULL);
    }
    osb_result_free(l);
    CHECK_EQ_INT(osb_dir_list(C, &T, root, 3, &l), OSB_OK);
    CHECK(l && l->count == 4);   /* a, a/deep, a/deep/f.txt, b (pre-order) */
    if (l && l->count == 4) {
        CHECK_EQ_STR(l->items[1].path.ptr, d1);
        CHECK_EQ_INT(l->items[1].mode, 700);
        CHECK_EQ_STR(l->items[2].path.ptr, file);
    }
    osb_result_free(l);
    paths[0] = root;
    CHECK_EQ_INT(osb_dir_delete(C, &T, paths, 1), OSB_OK);
    CHECK_EQ_INT(osb_dir_delete(C, &T, paths, 1), OSB_OK);
    CHECK_EQ_INT(osb_dir_list(C, &T, root, 1, &l), OSB_ERR_HTTP);
    CHECK(osb_error_is_not_found(osb_client_error(C)));
}

/* ---- metrics and ping ----------------------------------------------------------- */

typedef struct mwatch {
    int samples;
} mwatch;

static int metrics_cb(void *user, const osb_event *ev) {
    mwatch *m = (mwatch *)user;
    if (ev->type == OSB_EVENT_METRICS) {
        m->samples++;
        CHECK(ev->metrics.cpu_count >= 1);
        CHECK(ev->metrics.mem_total_mib > 0);
        CHECK(ev->metrics.timestamp > 0);
    }
    return m->samples >= 2;
}

TEST(metrics_get_watch_ping) {
    osb_metrics *m = NULL;
    mwatch w;
    NEED_SERVER();
    CHECK_EQ_INT(osb_execd_ping(C, &T), OSB_OK);
    CHECK_EQ_INT(osb_metrics_get(C, &T, &m), OSB_OK);
    if (m) {
        CHECK(m->cpu_count >= 1);
        CHECK(m->mem_total_mib > 0 && m->mem_used_mib > 0);
        CHECK(m->cpu_used_pct >= 0 && m->cpu_used_pct <= 100);
        CHECK(m->timestamp > 0);
    }
    osb_result_free(m);
    memset(&w, 0, sizeof w);
    CHECK_EQ_INT(osb_metrics_watch(C, &T, metrics_cb, &w, NULL), OSB_ERR_CANCELLED);
    CHECK_EQ_INT(w.samples, 2);
}

/* ---- the scripted server: resumed downloads, canned event streams ------------------ */

static testproc drop_proc;
static int drop_port;
static osb_client *DC;

static int drop_setup(void) {
    const char *argv[] = {"python3", "tests/servers/dropserver.py", NULL};
    osb_client_config cfg;
    if (drop_port) return 1;
    if (testproc_start(&drop_proc, argv) != 0) return 0;
    drop_port = atoi(drop_proc.ready);
    memset(&cfg, 0, sizeof cfg);
    cfg.domain = "127.0.0.1:1";
    if (drop_port <= 0 || osb_client_new(&cfg, &DC) != OSB_OK) return 0;
    return 1;
}

/* A target whose URL is /canned/NAME on the scripted server. */
static osb_target canned(const char *name, char *url, size_t cap) {
    osb_target t;
    snprintf(url, cap, "127.0.0.1:%d/canned/%s", drop_port, name);
    t.url = url;
    t.headers = NULL;
    return t;
}

typedef struct collected {
    int n;
    osb_event_type types[32];
    char names[32][24];
    int64_t timestamps[32];
} collected;

static int collect(void *user, const osb_event *ev) {
    collected *c = (collected *)user;
    if (c->n < 32) {
        c->types[c->n] = ev->type;
        snprintf(c->names[c->n], sizeof c->names[0], "%s", ev->type_name.ptr);
        c->timestamps[c->n] = ev->timestamp;
    }
    if (ev->type == OSB_EVENT_RESULT && ev->results_count == 6) {
        /* non-string MIME values come as JSON text, strings unescaped */
        CHECK_EQ_STR(ev->results[0].key.ptr, "text");
        CHECK_EQ_STR(ev->results[0].value.ptr, "42");
        CHECK_EQ_STR(ev->results[1].key.ptr, "text/html");
        CHECK_EQ_STR(ev->results[1].value.ptr, "<b>42</b>");
        CHECK_EQ_STR(ev->results[2].key.ptr, "application/json");
        CHECK_EQ_STR(ev->results[2].value.ptr, "{\"a\":[1,2]}");
        CHECK_EQ_STR(ev->results[3].value.ptr, "3.5");
        CHECK_EQ_STR(ev->results[4].value.ptr, "null");
        CHECK_EQ_STR(ev->results[5].value.ptr, "q\"uote");
    }
    if (ev->type == OSB_EVENT_UNKNOWN) {
        CHECK_EQ_STR(ev->type_name.ptr, "future_thing");
        CHECK(strstr(ev->raw.ptr, "\"extra\":[1,2]") != NULL);
    }
    c->n++;
    return 0;
}

TEST(stream_canned_every_event_type) {
    char url[128];
    osb_target t;
    osb_code_request r;
    osb_execution x;
    collected col;
    static const osb_event_type want[] = {OSB_EVENT_INIT, OSB_EVENT_PING, OSB_EVENT_STDOUT, OSB_EVENT_UNKNOWN,
                                          OSB_EVENT_EXECUTION_COUNT, OSB_EVENT_RESULT, OSB_EVENT_STATUS,
                                          OSB_EVENT_ERROR, OSB_EVENT_EXECUTION_COMPLETE};
    size_t i;
    if (!drop_setup()) SKIP("python3 unavailable");
    t = canned("mixed", url, sizeof url);
    memset(&r, 0, sizeof r);
    memset(&x, 0, sizeof x);
    memset(&col, 0, sizeof col);
    r.code = "anything";
    CHECK_EQ_INT(osb_code_run(DC, &t, &r, collect, &col, &x), OSB_OK);
    CHECK_EQ_INT(col.n, 9);   /* ends at execution_complete: the ping after it is not read */
    for (i = 0; i < sizeof want / sizeof want[0] && i < (size_t)col.n; i++) {
        CHECK_EQ_INT(col.types[i], want[i]);
        CHECK_EQ_INT(col.timestamps[i], (int64_t)(i + 1));
    }
    CHECK_EQ_STR(x.id, "ctx-1");
    CHECK_EQ_STR(x.out.data, "a\xc3\xa9\n");
    CHECK_EQ_INT(x.results_count, 1);
    if (x.results_count) {
        CHECK_EQ_INT(x.results[0].count, 6);
        CHECK_EQ_STR(x.results[0].text.ptr, "42");
        CHECK_EQ_INT(x.results[0].execution_count, 7);
    }
    CHECK(x.has_error);
    CHECK_EQ_STR(x.ename.ptr, "NameError");
    CHECK_EQ_STR(x.evalue.ptr, "name 'y' is not defined");
    CHECK_EQ_INT(x.traceback_count, 2);
    if (x.traceback_count == 2) CHECK_EQ_STR(x.traceback[1].ptr, "l2");
    CHECK(x.completed);
    CHECK_EQ_INT(x.execution_time_ms, 57);
    CHECK_EQ_INT(x.execution_count, 7);
    CHECK(!x.exit_code_known);   /* an error whose evalue is not a number */
    /* text/plain is read before text */
    t = canned("plain", url, sizeof url);
    CHECK_EQ_INT(osb_code_run(DC, &t, &r, NULL, NULL, &x), OSB_OK);
    CHECK(x.results_count == 1 && !strcmp(x.results[0].text.ptr, "p"));
    CHECK(x.exit_code_known && x.exit_code == 0);
    /* one 3 MiB event */
    t = canned("big", url, sizeof url);
    CHECK_EQ_INT(osb_code_run(DC, &t, &r, NULL, NULL, &x), OSB_OK);
    CHECK_EQ_INT(x.out.len, 3u << 20);
    osb_execution_free(&x);
}

TEST(stream_canned_errors) {
    char url[128];
    osb_target t;
    osb_code_request r;
    osb_execution x;
    osb_stream *s = NULL;
    const osb_event *ev;
    int n = 0;
    osb_err e;
    if (!drop_setup()) SKIP("python3 unavailable");
    memset(&r, 0, sizeof r);
    memset(&x, 0, sizeof x);
    r.code = "anything";
    /* the bare {code,message} at the end is an error, not dropped */
    t = canned("bare-error", url, sizeof url);
    CHECK_EQ_INT(osb_code_run(DC, &t, &r, NULL, NULL, &x), OSB_ERR_SERVER);
    CHECK_EQ_STR(osb_client_error(DC)->server_code, "RUNTIME_ERROR");
    CHECK(strstr(osb_client_error(DC)->message, "session is busy") != NULL);
    CHECK_EQ_INT(osb_client_error(DC)->http_status, 200);
    CHECK_EQ_STR(x.id, "ctx-2");
    /* the pull form gives the events, then the error, then the error again */
    CHECK_EQ_INT(osb_code_stream(DC, &t, &r, &s), OSB_OK);
    while ((e = osb_stream_next(s, &ev)) == OSB_OK && ev) n++;
    CHECK_EQ_INT(n, 2);
    CHECK_EQ_INT(e, OSB_ERR_SERVER);
    CHECK_EQ_INT(osb_stream_next(s, &ev), OSB_ERR_SERVER);
    CHECK(ev == NULL);
    osb_stream_close(s);
    /* an event that is not JSON */
    t = canned("notjson", url, sizeof url);
    CHECK_EQ_INT(osb_code_run(DC, &t, &r, NULL, NULL, &x), OSB_ERR_JSON);
    osb_execution_free(&x);
}

/* osb_stream_on_wait: called when every byte received so far is decoded,
 * before the stream waits on the network; never while a received event is
 * still to come. */
typedef struct waits {
    int events;        /* events the caller has taken so far */
    int at[16];        /* the event count at each call */
    int calls;
} waits;

static void on_wait(void *user) {
    waits *w = (waits *)user;
    if (w->calls < 16) w->at[w->calls] = w->events;
    w->calls++;
}

TEST(stream_on_wait) {
    char url[128];
    osb_target t;
    osb_code_request r;
    osb_stream *s = NULL;
    const osb_event *ev;
    waits w;
    osb_err e;
    int i, seen3 = 0;
    if (!drop_setup()) SKIP("python3 unavailable");
    memset(&r, 0, sizeof r);
    memset(&w, 0, sizeof w);
    r.code = "anything";
    t = canned("paced", url, sizeof url);
    CHECK_EQ_INT(osb_code_stream(DC, &t, &r, &s), OSB_OK);
    osb_stream_on_wait(s, on_wait, &w);
    while ((e = osb_stream_next(s, &ev)) == OSB_OK && ev) w.events++;
    CHECK_EQ_INT(e, OSB_OK);
    CHECK_EQ_INT(w.events, 5);
    /* the server sends events 1-3 in one write, pauses, then 4-5: the stream
     * waited after the third event, and never with an event of a batch left */
    CHECK(w.calls >= 1 && w.calls <= 16);
    for (i = 0; i < w.calls && i < 16; i++) {
        CHECK(w.at[i] == 0 || w.at[i] == 3 || w.at[i] == 5);
        if (w.at[i] == 3) seen3 = 1;
    }
    CHECK(seen3);
    osb_stream_close(s);
    osb_stream_on_wait(NULL, on_wait, &w);   /* NULL is ignored */
}

typedef struct msamples {
    int n, errors;
    double used[4];
} msamples;

static int msample(void *user, const osb_event *ev) {
    msamples *m = (msamples *)user;
    if (ev->type == OSB_EVENT_METRICS && m->n < 4) m->used[m->n++] = ev->metrics.mem_used_mib;
    if (ev->type == OSB_EVENT_ERROR) {
        m->errors++;
        CHECK_EQ_STR(ev->text.ptr, "failed to get CPU percent: boom");
    }
    return 0;
}

TEST(stream_canned_metrics_lines) {
    char url[128];
    osb_target t;
    msamples m;
    if (!drop_setup()) SKIP("python3 unavailable");
    t = canned("metrics", url, sizeof url);
    memset(&m, 0, sizeof m);
    /* this server ends the stream; a real one never does */
    CHECK_EQ_INT(osb_metrics_watch(DC, &t, msample, &m, NULL), OSB_OK);
    CHECK_EQ_INT(m.n, 2);
    CHECK_EQ_INT(m.errors, 1);
    CHECK(m.used[0] == 50 && m.used[1] == 51);
}


TEST(files_download_resume_after_drop) {
    osb_target t;
    char url[128];
    osb_download_request dr;
    osb_download_info info;
    hasher h;
    if (!drop_setup()) SKIP("python3 unavailable");
    snprintf(url, sizeof url, "127.0.0.1:%d/proxy/44772", drop_port);
    t.url = url;
    t.headers = NULL;
    memset(&dr, 0, sizeof dr);
    /* the server cuts every response longer than 450000 bytes after 300000
       bytes, and honours Range */
    dr.path = "/data/file.bin";
    hasher_init(&h);
    CHECK_EQ_INT(osb_files_download(DC, &t, &dr, hasher_sink, &h, &info), OSB_OK);
    CHECK_EQ_INT(h.n, 1000000);
    CHECK(h.h == gen_hash(1000000, 5));
    CHECK_EQ_INT(info.resumes, 2);
    CHECK_EQ_INT(info.status, 206);
    CHECK_EQ_INT(info.total_size, 1000000);
    /* a range, resumed inside the range */
    dr.offset = 100000;
    dr.length = 800000;
    hasher_init(&h);
    CHECK_EQ_INT(osb_files_download(DC, &t, &dr, hasher_sink, &h, &info), OSB_OK);
    CHECK_EQ_INT(h.n, 800000);
    CHECK_EQ_INT(info.resumes, 2);
    {
        hasher w;
        uint64_t i;
        hasher_init(&w);
        for (i = 100000; i < 900000; i++) {
            unsigned char b = gen_byte(i, 5);
            hasher_add(&w, &b, 1);
        }
        CHECK(w.h == h.h);
    }
    dr.offset = 0;
    dr.length = 0;
    /* without resumption the drop is an error */
    dr.max_resumes = -1;
    hasher_init(&h);
    CHECK_EQ_INT(osb_files_download(DC, &t, &dr, hasher_sink, &h, &info), OSB_ERR_TRUNCATED);
    CHECK_EQ_INT(h.n, 300000);
    /* a server that answers a resume with another range is refused */
    dr.max_resumes = 0;
    dr.path = "/data/wrong-range.bin";
    hasher_init(&h);
    CHECK_EQ_INT(osb_files_download(DC, &t, &dr, hasher_sink, &h, &info), OSB_ERR_PROTOCOL);
    /* everything had arrived: the resume gets 416 and that is success */
    dr.path = "/data/drop-at-end.bin";
    hasher_init(&h);
    CHECK_EQ_INT(osb_files_download(DC, &t, &dr, hasher_sink, &h, &info), OSB_OK);
    CHECK_EQ_INT(h.n, 1000000);
    CHECK(h.h == gen_hash(1000000, 5));
    CHECK_EQ_INT(info.resumes, 1);
}

/* ---- unit: events and executions without a server ------------------------------ */

TEST(execution_exit_code_inference) {
    osb_execution x;
    osb_event ev;
    memset(&x, 0, sizeof x);
    memset(&ev, 0, sizeof ev);
    ev.type = OSB_EVENT_ERROR;
    ev.ename.ptr = "CommandExecError";
    ev.ename.len = 16;
    ev.evalue.ptr = "fork/exec: permission denied";
    ev.evalue.len = strlen(ev.evalue.ptr);
    CHECK_EQ_INT(osb_execution_add(&x, &ev), OSB_OK);
    CHECK(x.has_error && !x.exit_code_known);
    ev.evalue.ptr = "-1";
    ev.evalue.len = 2;
    CHECK_EQ_INT(osb_execution_add(&x, &ev), OSB_OK);
    CHECK(x.exit_code_known);
    CHECK_EQ_INT(x.exit_code, -1);
    ev.evalue.ptr = "99999999999";
    ev.evalue.len = 11;
    CHECK_EQ_INT(osb_execution_add(&x, &ev), OSB_OK);
    CHECK(!x.exit_code_known);
    ev.evalue.ptr = "143";
    ev.evalue.len = 3;
    CHECK_EQ_INT(osb_execution_add(&x, &ev), OSB_OK);
    CHECK_EQ_INT(x.exit_code, 143);
    /* complete after an error keeps the error's verdict */
    ev.type = OSB_EVENT_EXECUTION_COMPLETE;
    CHECK_EQ_INT(osb_execution_add(&x, &ev), OSB_OK);
    CHECK_EQ_INT(x.exit_code, 143);
    osb_execution_free(&x);
    CHECK(!x.has_error && !x.completed);
    ev.type = OSB_EVENT_EXECUTION_COMPLETE;
    CHECK_EQ_INT(osb_execution_add(&x, &ev), OSB_OK);
    CHECK(x.exit_code_known && x.exit_code == 0);
    osb_execution_free(&x);
}

/* ---- unit: the fast event decoder agrees with the general one ------------------- */

typedef struct decoded {
    osb_err err;
    int skip;
    osb_event_type type;
    char type_name[64], text[512], code[64];
    int64_t ts, count, time;
} decoded;

static void decode_one(const char *json, int no_fast, decoded *out) {
    static osb_client *uc;
    osb_stream s;
    osb_client_config cfg;
    char line[1024];
    size_t n;
    memset(out, 0, sizeof *out);
    if (!uc) {
        memset(&cfg, 0, sizeof cfg);
        cfg.domain = "127.0.0.1:1";
        osb_client_new(&cfg, &uc);
    }
    memset(&s, 0, sizeof s);
    s.c = uc;
    s.kind = OSB__EX_CODE;
    s.no_fast = no_fast;
    s.evcap = 4096;
    s.evbuf = (char *)malloc(s.evcap);
    osb_sse_init(&s.sse, s.evbuf, s.evcap);
    n = (size_t)snprintf(line, sizeof line, "%s\n\n", json);
    osb_sse_push(&s.sse, line, n);
    if (osb_sse_status(&s.sse) != OSB_SSE_EVENT) {
        out->err = (osb_err)-1;
    } else {
        out->err = osb__ex_decode(&s, &out->skip);
        if (!out->err && !out->skip) {
            out->type = s.ev.type;
            snprintf(out->type_name, sizeof out->type_name, "%s", s.ev.type_name.ptr);
            if (s.ev.text.len < sizeof out->text) memcpy(out->text, s.ev.text.ptr, s.ev.text.len + 1);
            out->ts = s.ev.timestamp;
            out->count = s.ev.execution_count;
            out->time = s.ev.execution_time_ms;
        } else if (out->err == OSB_ERR_SERVER) {
            snprintf(out->code, sizeof out->code, "%s", uc->err.server_code);
        }
    }
    free(s.evbuf);
    free(s.bindbuf);
    free(s.resbuf);
}

static int same_decoding(const char *json) {
    decoded a, b;
    decode_one(json, 0, &a);
    decode_one(json, 1, &b);
    if (a.err != b.err || a.skip != b.skip || a.type != b.type || strcmp(a.type_name, b.type_name) ||
        strcmp(a.text, b.text) || strcmp(a.code, b.code) || a.ts != b.ts || a.count != b.count || a.time != b.time) {
        fprintf(stderr, "  decoders differ on %s: err %d/%d text \"%s\"/\"%s\"\n", json, a.err, b.err, a.text, b.text);
        return 0;
    }
    return 1;
}

TEST(event_fast_decoder_matches_general) {
    static const char *const cases[] = {
        "{\"type\":\"stdout\",\"text\":\"hello\",\"timestamp\":1780308000105}",
        "{\"type\":\"stdout\",\"text\":\"a\\nb\\tc\\\"d\\\\e\\/f\\u00e9\\ud83d\\ude00\\b\\f\\r\",\"timestamp\":1}",
        "{\"type\":\"stdout\",\"text\":\"h\xc3\xa9llo \xf0\x9f\x98\x80 raw utf-8 0123456789abcdef\",\"timestamp\":1}",
        "{\"type\":\"stdout\",\"text\":\"bad \xc3\x28 utf-8\",\"timestamp\":1}",
        "{\"type\":\"stdout\",\"text\":\"overlong \xc0\xaf\",\"timestamp\":1}",
        "{\"type\":\"stdout\",\"text\":\"surrogate \xed\xa0\x80\",\"timestamp\":1}",
        "{\"type\":\"stdout\",\"text\":\"ctrl \x01 in string\",\"timestamp\":1}",
        "{\"type\":\"stdout\",\"text\":\"lone \\ud800 high\",\"timestamp\":1}",
        "{\"type\":\"stdout\",\"text\":\"lone \\udc00 low\",\"timestamp\":1}",
        "{\"type\":\"stdout\",\"text\":\"bad escape \\x\",\"timestamp\":1}",
        "{\"type\":\"stdout\",\"text\":\"short \\u12\",\"timestamp\":1}",
        "{\"type\":\"execution_count\",\"execution_count\":-3,\"timestamp\":0}",
        "{\"type\":\"execution_complete\",\"execution_time\":9223372036854775807,\"timestamp\":1}",
        "{\"type\":\"execution_complete\",\"execution_time\":9223372036854775808,\"timestamp\":1}",
        "{\"type\":\"execution_complete\",\"execution_time\":18446744073709551616,\"timestamp\":1}",
        "{\"type\":\"execution_complete\",\"execution_time\":012,\"timestamp\":1}",
        "{\"type\":\"execution_complete\",\"execution_time\":1.5,\"timestamp\":1}",
        "{\"type\":\"execution_complete\",\"execution_time\":1e3,\"timestamp\":1}",
        "{\"type\":\"execution_complete\",\"execution_time\":-,\"timestamp\":1}",
        "{\"type\":\"execution_complete\",\"timestamp\":\"1\"}",
        "{\"type\":7}",
        "{\"type\":null,\"text\":\"x\"}",
        "{ \"type\" : \"ping\" , \"text\" : \"pong\" , \"timestamp\" : 5 }",
        "{\"type\":\"ping\",\"text\":\"a\",\"text\":\"b\"}",
        "{\"type\":\"ping\",\"unknown\":\"x\",\"n\":12,\"nested\":{\"a\":[1,2]}}",
        "{\"type\":\"ping\",\"flag\":true}",
        "{\"type\":\"ping\",}",
        "{\"type\":\"ping\" \"text\":\"x\"}",
        "{\"type\":\"ping\"} trailing",
        "{\"type\":\"ping\"",
        "{\"ty\\u0070e\":\"ping\"}",
        "{}",
        "{\"code\":\"RUNTIME_ERROR\",\"message\":\"error running codes session is busy\"}",
        "{\"code\":\"UNKNOWN\"}",
        "{\"type\":\"error\",\"error\":{\"ename\":\"E\",\"evalue\":\"1\",\"traceback\":[\"t\"]}}",
        "{\"type\":\"result\",\"results\":{\"text\":\"4\"}}",
        "{\"type\":\"stdout\",\"text\":\"\",\"timestamp\":1}",
        "{\"type\":\"stdout\",\"text\":\"12345678\\\"12345678\",\"timestamp\":1}",
        "{\"type\":\"stdout\",\"text\":\"1234567\\\\\",\"timestamp\":1}",
        /* types: short words are taken byte by byte, anything else by the string scan */
        "{\"type\":\"\",\"text\":\"x\"}",
        "{\"type\":\"abcdefghijklmn_\",\"text\":\"x\"}",
        "{\"type\":\"abcdefghijklmnop\",\"text\":\"x\"}",
        "{\"type\":\"Stdout\",\"text\":\"x\"}",
        "{\"type\":\"std\\u006fut\",\"text\":\"x\"}",
        "{\"type\":\"stdout\\\"\",\"text\":\"x\"}",
        "{\"type\":\"stdout",
    };
    size_t i;
    for (i = 0; i < sizeof cases / sizeof cases[0]; i++) CHECK(same_decoding(cases[i]));
    /* random events from pieces, including broken ones */
    {
        static const char *const keys[] = {"\"type\":", "\"text\":", "\"timestamp\":", "\"execution_count\":",
                                           "\"x\":", "\"code\":", "\"message\":", "\"execution_time\":"};
        static const char *const vals[] = {"\"stdout\"", "\"init\"", "\"a\\nb\"", "\"\xc3\xa9\"", "12", "-1",
                                           "0", "1.0", "null", "\"\\u0041\"", "\"\\ud83d\\ude00\"", "[1]",
                                           "\"x", "01", "{\"a\":1}", "\"\\\"\"", "\"tab\\tx\""};
        uint64_t rng = 12345;
        int k, bad = 0;
        for (k = 0; k < 3000; k++) {
            char ev[512];
            size_t at = 0, m, j;
            rng = rng * 6364136223846793005ull + 1442695040888963407ull;
            m = (size_t)(rng >> 60) % 5;
            ev[at++] = '{';
            for (j = 0; j < m; j++) {
                const char *kk, *vv;
                rng = rng * 6364136223846793005ull + 1442695040888963407ull;
                kk = keys[(rng >> 33) % (sizeof keys / sizeof keys[0])];
                vv = vals[(rng >> 45) % (sizeof vals / sizeof vals[0])];
                at += (size_t)snprintf(ev + at, sizeof ev - at, "%s%s%s", j ? "," : "", kk, vv);
            }
            ev[at++] = '}';
            ev[at] = 0;
            if (!same_decoding(ev)) bad++;
        }
        CHECK_EQ_INT(bad, 0);
    }
}

/* Whether the fast path takes the event json (whole, as osb__ex_decode
 * hands it over). */
static int fast_takes(const char *json) {
    static char out[2048];
    osb__ex_wire w;
    return osb__ex_fast(json, strlen(json), &w, out, NULL);
}

/* The parts of the fast path that take the usual shapes whole: the keys
 * "type", "text" and "timestamp" written as they come, numbers eight digits
 * at a time, and UTF-8 checked by the common rules with the full rules only
 * for a string that has a byte needing them. Each case decodes as the
 * general decoder does (value, or the same error), and the well-formed
 * ones are taken by the fast path, so the fast code is what is compared. */
TEST(event_fast_keys_numbers_and_utf8) {
    static const char *const nums[] = {
        "0", "7", "1234567", "12345678", "123456789", "1780308000105", "1234567812345678", "12345678123456789",
        "922337203685477580", "9223372036854775807", "-9223372036854775807", "-12345678", "-0",
        "9223372036854775808", "-9223372036854775808", "18446744073709551615", "18446744073709551616",
        "99999999999999999999", "123456781234567812345678", "100000000000000000000000",
        "400000000000000000000001", "1000000000000000000000000000000001", "1234567812345678123456789", "00", "01234567",
        "012345678", "12345678.5", "12345678e3", "1234567812345678E1", "12345678x", "1234567/", "12345678:",
        "1234567:8", "-", "-a", "--1",
    };
    static const char *const seqs[] = {
        /* valid: 2, 3 and 4 bytes, each narrowed second-byte range at its edges */
        "\xc3\xa9", "\xe6\x97\xa5", "\xe0\xa0\x80", "\xed\x9f\xbf", "\xee\x80\x80", "\xf0\x90\x80\x80",
        "\xf4\x8f\xbf\xbf", "\xf3\xbf\xbf\xbf", "\xc2\x80", "\xdf\xbf",
        /* invalid: overlong, surrogate, above U+10FFFF, never-bytes, stray and missing continuations */
        "\xe0\x9f\xbf", "\xed\xa0\x80", "\xf0\x8f\xbf\xbf", "\xf4\x90\x80\x80", "\xc0\xaf", "\xc1\xbf", "\xf5\x80\x80\x80",
        "\xff", "\x80", "\xbf\xbf", "\xc3", "\xe6\x97", "\xf0\x90\x80", "\xc3\xc3\xa9", "\xf0\x90\x80\x80\x80",
        /* a character cut short by an escape, an escape between its bytes */
        "\xc3\\t", "\xe6\x97\\n\xa5", "\xf0\x90\\\"\x80\x80", "\\t\xa9", "\xf0\x90\x80\x80\\u00e9\xc3\xa9",
    };
    static char ev[1024];
    size_t i, pad, post;
    int bad = 0, taken = 0, want_taken = 0;
    for (i = 0; i < sizeof nums / sizeof nums[0]; i++) {
        const char *form[] = {"{\"type\":\"stdout\",\"text\":\"x\",\"timestamp\":%s}",
                              "{\"timestamp\":%s,\"type\":\"stdout\"}", "{\"timestamp\" : %s }",
                              "{\"type\":\"execution_complete\",\"execution_time\":%s}"};
        size_t f;
        for (f = 0; f < 4; f++) {
            char *end = NULL;
            long long v;
            snprintf(ev, sizeof ev, form[f], nums[i]);
            if (!same_decoding(ev)) bad++;
            /* a plain integer within int64 (no leading zero) must be taken;
             * INT64_MIN alone is left to the general decoder */
            errno = 0;
            v = strtoll(nums[i], &end, 10);
            if (!errno && end && !*end && end != nums[i] && (nums[i][0] != '0' || !nums[i][1]) &&
                !(nums[i][0] == '-' && (nums[i][1] == '0' || !nums[i][1])) && v != LLONG_MIN) {
                want_taken++;
                if (fast_takes(ev)) taken++;
                else fprintf(stderr, "  the fast path leaves %s\n", ev);
            }
        }
    }
    /* keys close to the usual ones, and the usual ones spaced out */
    {
        static const char *const keyed[] = {
            "{\"text\" :\"a\",\"type\": \"stdout\" ,\"timestamp\" :5}", "{\"texts\":\"a\",\"type\":\"stdout\"}",
            "{\"tex\":\"a\",\"type\":\"stdout\"}", "{\"type\":\"stdout\",\"timestampx\":1}",
            "{\"type\":\"stdout\",\"timestamp\":\"1\"}", "{\"type\":5}", "{\"text\":1}", "{\"type\":\"stdout\",\"text\"}",
            "{\"type\":\"stdout\",\"text\":}", "{\"type\"\"stdout\"}", "{\"text\\u0022:\"a\"}", "{\"type\":\"s\",\"te",
            "{\"typ", "{\"timestamp\":", "{\"timestamp\":1", "{\"timestamp\":12345678", "{\"timestamp\":123456789012",
        };
        for (i = 0; i < sizeof keyed / sizeof keyed[0]; i++)
            if (!same_decoding(keyed[i])) bad++;
        CHECK(fast_takes(keyed[0]));
    }
    /* each sequence at every place around the 16-byte steps, with an escape
     * before it or not, and raw bytes after the closing quote */
    for (i = 0; i < sizeof seqs / sizeof seqs[0]; i++) {
        for (pad = 0; pad < 34; pad++) {
            for (post = 0; post < 3; post++) {
                static const char *const after[] = {"", ",\"code\":\"\xff\"", ",\"code\":\"\xf0\x90\x80\x80\""};
                size_t n = 0, k;
                decoded a;
                n += (size_t)snprintf(ev + n, sizeof ev - n, "{\"type\":\"stdout\",\"text\":\"%s",
                                      pad % 3 == 2 ? "\\t" : "");
                for (k = 0; k < pad; k++) ev[n++] = (char)('a' + k % 26);
                n += (size_t)snprintf(ev + n, sizeof ev - n, "%s%s\"%s,\"timestamp\":1}", seqs[i],
                                      pad % 2 ? "z" : "", after[post]);
                if (!same_decoding(ev)) bad++;
                /* what the general decoder takes, the fast path takes too */
                decode_one(ev, 1, &a);
                if (!a.err && post != 1) {
                    want_taken++;
                    if (fast_takes(ev)) taken++;
                    else fprintf(stderr, "  the fast path leaves %s\n", ev);
                }
            }
        }
    }
    CHECK_EQ_INT(bad, 0);
    CHECK_EQ_INT(taken, want_taken);
    CHECK(want_taken > 500);
}

/* ---- unit: bare lines decoded where they lie agree with the tokenizer's events -------- */

/* The stream decoded with bare lines taken where they lie and the fast
 * path, and with the general decoder only, gives the same events and ends
 * the same way (error, message and offset). */
static osb_client *unit_client(void) {
    static osb_client *uc;
    if (!uc) {
        osb_client_config cfg;
        memset(&cfg, 0, sizeof cfg);
        cfg.domain = "127.0.0.1:1";
        osb_client_new(&cfg, &uc);
    }
    return uc;
}

static int same_stream(const char *data, size_t len, size_t max_event) {
    feed_out a = {NULL, 0, 0}, b = {NULL, 0, 0};
    int same;
    feed_events(unit_client(), data, len, 0, max_event, &a);
    feed_events(unit_client(), data, len, 1, max_event, &b);
    same = strcmp(a.p, b.p) == 0 && !strstr(a.p, "\\unterminated");
    if (!same) fprintf(stderr, "  the paths differ on [%.*s]:\n%s----\n%s", (int)len, data, a.p, b.p);
    feed_free(&a);
    feed_free(&b);
    return same;
}

#define SAME_STREAM(lit) same_stream(lit, sizeof lit - 1, 0)

TEST(stream_bare_lines_match_the_tokenizer) {
    static char buf[8192];
    size_t i;
    /* the shapes around a bare line the fast way must leave to the tokenizer */
    CHECK(SAME_STREAM("{\"type\":\"init\",\"text\":\"c\",\"timestamp\":1}\n\n{\"type\":\"stdout\",\"text\":\"a\\u00e9\\n\","
                      "\"timestamp\":3}\n\n{\"type\":\"execution_complete\",\"execution_time\":5}\n\n"));
    CHECK(SAME_STREAM("{\"type\":\"ping\"} \t\n\n{\"type\":\"stdout\",\"text\":\"x\"}\t\n"));
    CHECK(SAME_STREAM("{\"type\":\"ping\",\r\"text\":\"x\"}\n\n{\"type\":\"stdout\",\"text\":\"y\"}\n\n"));
    CHECK(SAME_STREAM("{\"type\":\"ping\",\n\"text\":\"x\"}\n\n"));
    CHECK(SAME_STREAM("{\"type\":\"ping\"}\r\n\r\n{\"type\":\"stdout\",\"text\":\"y\"}\r\n{\"type\":\"stdout\"}\n"));
    CHECK(SAME_STREAM("{\"type\":\"ping\"}\r{\"type\":\"stdout\",\"text\":\"y\"}\n\n"));
    CHECK(SAME_STREAM("event: odd\n{\"type\":\"ping\",\"text\":\"p\"}\n\n{\"type\":\"stdout\",\"text\":\"q\"}\n\n"));
    CHECK(SAME_STREAM("data: {\"type\":\"init\",\"text\":\"a\"}\n{\"type\":\"ping\"}\n\n"));
    CHECK(SAME_STREAM("data: {\"type\":\"init\",\n{\"type\":\"ping\"}\n\n"));
    CHECK(SAME_STREAM("\xEF\xBB\xBF{\"type\":\"ping\"}\n\n{\"type\":\"stdout\",\"text\":\"b\"}\n\n"));
    CHECK(SAME_STREAM("\xEF\xBB{\"type\":\"ping\"}\n\n"));
    CHECK(SAME_STREAM(": comment\n{\"type\":\"ping\"}\n:\n{\"type\":\"stdout\",\"text\":\"c\"}\n\n\n\n"));
    CHECK(SAME_STREAM("{\"type\":\"stdout\",\"text\":\"a\"}\n{\"type\":\"stdout\",\"text\":\"b\"}\n"));
    CHECK(SAME_STREAM("{\"type\":\"stdout\",\"text\":\"no line end\"}"));
    CHECK(SAME_STREAM("{\"type\":\"stdout\",\"text\":\"a\"}\n\n{\"type\":\"stdout\",\"text\":\"bad \xc3\x28\"}\n\n"));
    CHECK(SAME_STREAM("{\"type\":\"stdout\",\"text\":\"a\"}\n\n{\"type\":\"stdout\",\"text\":\"ctl \x01\"}\n\n"));
    CHECK(same_stream("{\"type\":\"stdout\",\"text\":\"a\\u0000b\"}\n\n{\"text\":\"n\0ul\"}\n\n", 51, 0));
    CHECK(SAME_STREAM("{\"type\":\"stdout\",\"text\":\"a\"}\n\n{\"type\": oops}\n\n"));
    CHECK(SAME_STREAM("{\"type\":\"stdout\",\"text\":\"a\"}\n\n{\"code\":\"RUNTIME_ERROR\",\"message\":\"busy\"}\n\n"));
    CHECK(SAME_STREAM("{\"type\":\"error\",\"error\":{\"ename\":\"E\",\"evalue\":\"3\",\"traceback\":[]}}\n\n"
                      "{\"type\":\"stdout\",\"text\":\"after\"}\n\n"));
    CHECK(SAME_STREAM("{\"type\":\"stdout\",\"text\":\"x\"} {\"type\":\"ping\"}\n\n"));
    CHECK(SAME_STREAM("{\"type\":\"stdout\",\"text\":\"x\"}}\n\n"));
    CHECK(SAME_STREAM("{\"type\":\"stdout\",\"text\":\"x\"}\n\n[1,2]\n\n{\"type\":\"ping\"}\n\n"));
    CHECK(SAME_STREAM("\n\n\n{\"type\":\"stdout\",\"text\":\"after blank lines\"}\n\n"));
    /* longer than the first event buffer (64 bytes), then a line of each
     * length around max_event (which counts the line's LF) */
    for (i = 0; i < 3; i++) {
        size_t n = 0, k;
        n += (size_t)snprintf(buf + n, sizeof buf - n, "{\"type\":\"stdout\",\"text\":\"");
        for (k = 0; k < 200 + i * 700; k++) buf[n++] = (char)('a' + k % 26);
        n += (size_t)snprintf(buf + n, sizeof buf - n, "\"}\n\n{\"type\":\"ping\"}\n\n");
        CHECK(same_stream(buf, n, 0));
    }
    for (i = 0; i < 4; i++) {
        /* {"type":"stdout","text":"<k bytes>"} is 28 + k bytes */
        size_t n = 0, k, line = 60 + i - 2;
        n += (size_t)snprintf(buf + n, sizeof buf - n, "{\"type\":\"stdout\",\"text\":\"");
        for (k = 0; k < line - 28; k++) buf[n++] = 'z';
        n += (size_t)snprintf(buf + n, sizeof buf - n, "\"}\n\n{\"type\":\"ping\"}\n\n");
        CHECK(same_stream(buf, n, 60));
        CHECK(same_stream(buf, n, 61));
    }
    /* random streams from lines, blank lines, CRs and broken pieces */
    {
        static const char *const pieces[] = {
            "{\"type\":\"stdout\",\"text\":\"plain\",\"timestamp\":1}\n",
            "{\"type\":\"stderr\",\"text\":\"tab\\there \\\"q\\\" r\xc3\xa9sum\xc3\xa9 \xe6\x97\xa5\",\"timestamp\":2}\n",
            "{\"type\":\"stdout\",\"text\":\"\\ud83d\\ude00 \\/ \\\\\"}\n", "\n", "\r\n", "\r", ": c\n",
            "{\"type\":\"ping\"}", " ", "data: {\"type\":\"init\",\"text\":\"i\"}\n", "event: e\n",
            "{\"type\":\"execution_count\",\"execution_count\":4}\n", "{\"type\":\"stdout\",\"text\":\"\xc3\"}\n",
            "{\"type\":\"stdout\",\"text\":\"x\\q\"}\n", "{\"type\":\"stdout\",\"text\":\"x\",}\n", "{\"a\":[1]}\n",
            "{\"type\":\"result\",\"results\":{\"text\":\"4\"}}\n", "id: 7\n", "{\"type\":1.5}\n", "{",
        };
        uint64_t rng = 99;
        int k, bad = 0;
        for (k = 0; k < 3000 && bad < 5; k++) {
            size_t n = 0, m, j;
            rng = rng * 6364136223846793005ull + 1442695040888963407ull;
            m = 1 + (size_t)(rng >> 59) % 12;
            for (j = 0; j < m; j++) {
                const char *pc;
                size_t pl;
                rng = rng * 6364136223846793005ull + 1442695040888963407ull;
                pc = pieces[(rng >> 33) % (sizeof pieces / sizeof pieces[0])];
                pl = strlen(pc);
                if (n + pl >= sizeof buf) break;
                memcpy(buf + n, pc, pl);
                n += pl;
            }
            if (!same_stream(buf, n, 0)) bad++;
        }
        CHECK_EQ_INT(bad, 0);
    }
}

/* A malformed event after an event: line is reported at that event's start
 * (the event: line, byte 17), not at the start of the event before it. */
TEST(stream_error_offset_after_an_event_line) {
    static const char in[] = "{\"type\":\"ping\"}\n\nevent: e\n{\"type\": oops}\n\n";
    int no_fast;
    for (no_fast = 0; no_fast < 2; no_fast++) {
        feed_out o = {NULL, 0, 0};
        feed_events(unit_client(), in, sizeof in - 1, no_fast, 0, &o);
        CHECK(o.p && strstr(o.p, "offset 17: ") != NULL);
        if (o.p && !strstr(o.p, "offset 17: ")) fprintf(stderr, "  got:\n%s", o.p);
        feed_free(&o);
    }
}

/* The same through the transport: the scripted server sends the stream in
 * HTTP chunks of 1, 7, 64 and 1000 bytes, so some lines arrive whole at the
 * front of a read and others in pieces. */
TEST(stream_canned_lines_both_ways) {
    feed_out out[2] = {{NULL, 0, 0}, {NULL, 0, 0}};
    char url[128];
    osb_target t;
    osb_command_request r;
    osb_stream *s = NULL;
    int no_fast;
    if (!drop_setup()) SKIP("python3 unavailable");
    t = canned("lines", url, sizeof url);
    memset(&r, 0, sizeof r);
    r.command = "anything";
    for (no_fast = 0; no_fast < 2; no_fast++) {
        CHECK_EQ_INT(osb_command_stream(DC, &t, &r, 0, &s), OSB_OK);
        if (!s) return;
        s->no_fast = no_fast;
        feed_stream(s, &out[no_fast]);
        osb_stream_close(s);
    }
    if (!out[0].p || !out[1].p) return;
    CHECK_EQ_STR(out[0].p, out[1].p);
    CHECK(strstr(out[0].p, "ts=7 count=0 time=0 name=stdout text=tab\\x09here \"q\" r\\xc3\\xa9sum\\xc3\\xa9 "
                           "\\xe6\\x97\\xa5 ") != NULL);
    CHECK(strstr(out[0].p, "event 7 ts=12 count=0 time=3 name=execution_complete") != NULL);
    CHECK(strstr(out[0].p, "\nend 0 offset 0: \n") != NULL);
    CHECK(strstr(out[0].p, "\\unterminated") == NULL);
    feed_free(&out[0]);
    feed_free(&out[1]);
}

TEST(zz_stop_server) {
    testdev_stop();
    osb_client_free(C);
    C = NULL;
    if (drop_port) testproc_stop(&drop_proc);
    osb_client_free(DC);
    DC = NULL;
    drop_port = 0;
}

int main(int argc, char **argv) { return testlib_main(argc, argv); }
