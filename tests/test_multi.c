/* The multi interface: many transfers from one thread against the scripted
 * server tests/servers/multiserver.py (slow answers, answers out of order,
 * errors, dropped connections, streams), through osb_multi_perform and
 * through the test's own poll loop; cancel, timeouts, the per-host cap,
 * connection reuse, memory per waiting transfer. */
#define _DEFAULT_SOURCE
#define OSB_TLS 1
#define OPENSANDBOX_IMPLEMENTATION
#include "../opensandbox.h"
#include "testlib.h"
#include "testproc.h"
#include "testdev.h"
#include <poll.h>
#include <errno.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <sys/socket.h>

static testproc srv;
static char base[64];
static char stream_url[96];
static osb_target execd;

static int server_up(void) {
    const char *argv[] = {"python3", "tests/servers/multiserver.py", "--lifetime", "300", NULL};
    if (srv.pid) return 1;
    if (testproc_start(&srv, argv) != 0) return 0;
    snprintf(base, sizeof base, "http://127.0.0.1:%d", atoi(srv.ready));
    snprintf(stream_url, sizeof stream_url, "%s/ex", base);
    execd.url = stream_url;
    execd.headers = NULL;
    return 1;
}

/* ---- a counting allocator ---- */

typedef struct counter {
    long live;        /* bytes in use */
    long blocks;
    long calls;       /* allocations asked for */
    long fail_at;     /* > 0: that allocation (1-based) fails */
} counter;

static void *c_alloc(void *ctx, size_t size) {
    counter *k = (counter *)ctx;
    size_t *p;
    if (++k->calls == k->fail_at) return NULL;
    p = (size_t *)malloc(size + sizeof(size_t) * 2);
    if (!p) return NULL;
    p[0] = size;
    k->live += (long)size;
    k->blocks++;
    return p + 2;
}
static void c_free(void *ctx, void *ptr) {
    counter *k = (counter *)ctx;
    size_t *p;
    if (!ptr) return;
    p = (size_t *)ptr - 2;
    k->live -= (long)p[0];
    k->blocks--;
    free(p);
}
static void *c_realloc(void *ctx, void *ptr, size_t old_size, size_t new_size) {
    void *n;
    (void)old_size;
    if (!ptr) return c_alloc(ctx, new_size);
    n = c_alloc(ctx, new_size);
    if (!n) return NULL;
    memcpy(n, ptr, old_size < new_size ? old_size : new_size);
    c_free(ctx, ptr);
    return n;
}

static osb_client *client_with(counter *k, int pool_max) {
    osb_client_config cfg;
    osb_client *c = NULL;
    static osb_allocator a;
    memset(&cfg, 0, sizeof cfg);
    cfg.domain = base;
    cfg.pool_max = pool_max;
    if (k) {
        a.alloc = c_alloc;
        a.realloc = c_realloc;
        a.free = c_free;
        a.ctx = k;
        cfg.allocator = &a;
    }
    if (osb_client_new(&cfg, &c) != OSB_OK) return NULL;
    return c;
}

/* ---- what each transfer ended with ---- */

typedef struct outcome {
    int done;             /* on_done calls */
    int order;            /* when it ended (1-based) */
    osb_err result;
    osb_error err;
    int status;
    char body[256];
    size_t body_len;
    int events;
    int stop_after;       /* on_event: return 1 after this many (0 = never) */
    osb_multi *m;
    osb_transfer *t;
    int cancel_at;        /* on_event: cancel this transfer after this many events */
} outcome;

static int finished_count;

static void on_done(void *user, osb_transfer *t, osb_err result, const osb_error *err) {
    outcome *o = (outcome *)user;
    const osb_http_response *r = osb_transfer_response(t);
    o->done++;
    o->order = ++finished_count;
    o->result = result;
    o->err = *err;
    o->status = r ? r->status : 0;
    o->body_len = r ? r->body.len : 0;
    if (r && r->body.len < sizeof o->body) {
        memcpy(o->body, r->body.data ? r->body.data : "", r->body.len);
        o->body[r->body.len] = 0;
    }
}

static int on_event(void *user, const osb_event *ev) {
    outcome *o = (outcome *)user;
    (void)ev;
    o->events++;
    if (o->cancel_at && o->events == o->cancel_at) osb_multi_cancel(o->m, o->t);
    return o->stop_after && o->events >= o->stop_after;
}

static osb_transfer *add_get(osb_multi *m, const char *target, outcome *o, int timeout_ms) {
    char path[256], *q;
    osb_http_request req;
    osb_transfer_config tc;
    osb_transfer *t = NULL;
    memset(&req, 0, sizeof req);
    memset(&tc, 0, sizeof tc);
    snprintf(path, sizeof path, "%s", target);
    if ((q = strchr(path, '?')) != NULL) {
        *q = 0;
        req.query = q + 1;
    }
    req.url = base;
    req.path = path;
    tc.on_done = on_done;
    tc.user = o;
    tc.timeout_ms = timeout_ms;
    CHECK_EQ_INT(osb_multi_add(m, &req, &tc, &t), OSB_OK);
    o->m = m;
    o->t = t;
    return t;
}

static void run_all(osb_multi *m) {
    int running = 1, rounds = 0;
    while (running && rounds++ < 100000) CHECK_EQ_INT(osb_multi_perform(m, 1000, &running), OSB_OK);
    CHECK_EQ_INT(running, 0);
}

/* The server's counters. */
static void stats(osb_client *c, long *accepted, long *peak, long *closed_early) {
    osb_http_request req;
    osb_http_response res;
    char url[128];
    const char *p;
    memset(&req, 0, sizeof req);
    snprintf(url, sizeof url, "%s/stats", base);
    req.url = url;
    *accepted = *peak = *closed_early = -1;
    if (osb_request_raw(c, &req, &res) != OSB_OK) return;
    osb_buf_append(&res.body, "", 1);
    if ((p = strstr(res.body.data, "\"accepted\": "))) *accepted = atol(p + 12);
    if ((p = strstr(res.body.data, "\"peak\": "))) *peak = atol(p + 8);
    if ((p = strstr(res.body.data, "\"closed_early\": "))) *closed_early = atol(p + 16);
    osb_http_response_free(&res);
}

/* ---- tests ---- */

TEST(interleaved_requests_end_out_of_order_with_their_own_bodies) {
    enum { N = 40 };
    static outcome o[N];
    osb_client *c;
    osb_multi *m = NULL;
    int i, out_of_order = 0;
    if (!server_up()) { SKIP("no python3"); return; }
    c = client_with(NULL, 64);
    memset(o, 0, sizeof o);
    finished_count = 0;
    CHECK_EQ_INT(osb_multi_new(c, NULL, &m), OSB_OK);
    for (i = 0; i < N; i++) {
        char path[64];
        /* later ones answer sooner: they end first */
        snprintf(path, sizeof path, "/echo?id=%d&delay=%d", i, (N - i) * 15);
        add_get(m, path, &o[i], 0);
    }
    CHECK_EQ_INT(osb_multi_running(m), N);
    run_all(m);
    for (i = 0; i < N; i++) {
        char want[32];
        snprintf(want, sizeof want, "id=%d", i);
        CHECK_EQ_INT(o[i].done, 1);
        CHECK_EQ_INT(o[i].result, OSB_OK);
        CHECK_EQ_INT(o[i].status, 200);
        CHECK_EQ_STR(o[i].body, want);
        if (i > 0 && o[i].order < o[i - 1].order) out_of_order++;
    }
    CHECK(out_of_order > N / 2);
    osb_multi_free(m);
    osb_client_free(c);
}

TEST(errors_drops_and_good_answers_each_end_with_their_own_result) {
    static outcome ok1, busy, drop, mid, bad, ok2, gone;
    osb_client *c;
    osb_multi *m = NULL;
    osb_http_request req;
    osb_transfer_config tc;
    if (!server_up()) { SKIP("no python3"); return; }
    c = client_with(NULL, -1);   /* no pool: every transfer on its own connection */
    memset(&ok1, 0, sizeof ok1); memset(&busy, 0, sizeof busy); memset(&drop, 0, sizeof drop);
    memset(&mid, 0, sizeof mid); memset(&bad, 0, sizeof bad); memset(&ok2, 0, sizeof ok2);
    memset(&gone, 0, sizeof gone);
    CHECK_EQ_INT(osb_multi_new(c, NULL, &m), OSB_OK);
    add_get(m, "/echo?id=a&delay=50", &ok1, 0);
    add_get(m, "/error?status=503", &busy, 0);
    add_get(m, "/drop", &drop, 0);
    add_get(m, "/drop-mid", &mid, 0);
    add_get(m, "/malformed", &bad, 0);
    add_get(m, "/echo?id=b&delay=0", &ok2, 0);
    /* a port nobody listens on */
    memset(&req, 0, sizeof req);
    memset(&tc, 0, sizeof tc);
    req.url = "http://127.0.0.1:1/x";
    tc.on_done = on_done;
    tc.user = &gone;
    CHECK_EQ_INT(osb_multi_add(m, &req, &tc, NULL), OSB_OK);
    run_all(m);
    CHECK_EQ_INT(ok1.result, OSB_OK);
    CHECK_EQ_STR(ok1.body, "id=a");
    CHECK_EQ_INT(ok2.result, OSB_OK);
    CHECK_EQ_STR(ok2.body, "id=b");
    CHECK_EQ_INT(busy.result, OSB_ERR_HTTP);
    CHECK_EQ_INT(busy.err.http_status, 503);
    CHECK_EQ_STR(busy.err.server_code, "BUSY");
    CHECK(strstr(busy.err.message, "try later") != NULL);
    CHECK(osb_error_is_capacity(&busy.err));
    CHECK_EQ_INT(drop.result, OSB_ERR_CLOSED);
    CHECK_EQ_INT(mid.result, OSB_ERR_TRUNCATED);
    CHECK_EQ_INT(bad.result, OSB_ERR_PROTOCOL);
    CHECK_EQ_INT(gone.result, OSB_ERR_CONNECT);
    CHECK_EQ_INT(gone.err.phase, OSB_PHASE_CONNECT);
    CHECK(strstr(gone.err.message, "127.0.0.1") != NULL);
    CHECK_EQ_INT(ok1.done + busy.done + drop.done + mid.done + bad.done + ok2.done + gone.done, 7);
    osb_multi_free(m);
    osb_client_free(c);
}

TEST(command_streams_interleave_into_their_executions) {
    enum { N = 24 };
    static outcome o[N];
    static osb_execution x[N];
    static char cmd[N][64];
    osb_client *c;
    osb_multi *m = NULL;
    int i;
    if (!server_up()) { SKIP("no python3"); return; }
    c = client_with(NULL, 4);
    memset(o, 0, sizeof o);
    memset(x, 0, sizeof x);
    CHECK_EQ_INT(osb_multi_new(c, NULL, &m), OSB_OK);
    for (i = 0; i < N; i++) {
        osb_command_request cr;
        osb_transfer_config tc;
        memset(&cr, 0, sizeof cr);
        memset(&tc, 0, sizeof tc);
        if (i == 5) snprintf(cmd[i], sizeof cmd[i], "fail 3");
        else snprintf(cmd[i], sizeof cmd[i], "emit %d %d s%d", 3 + i % 4, (i * 7) % 20, i);
        cr.command = cmd[i];
        tc.on_done = on_done;
        tc.on_event = on_event;
        tc.user = &o[i];
        tc.execution = &x[i];
        CHECK_EQ_INT(osb_multi_command(m, &execd, &cr, &tc, &o[i].t), OSB_OK);
        o[i].m = m;
    }
    run_all(m);
    for (i = 0; i < N; i++) {
        CHECK_EQ_INT(o[i].done, 1);
        CHECK_EQ_INT(o[i].result, OSB_OK);
        if (i == 5) {
            CHECK_EQ_INT(x[i].exit_code, 3);
            CHECK_EQ_STR(x[i].err.data, "failing\n");
        } else {
            int n = 3 + i % 4, k;
            char want[256] = "";
            for (k = 0; k < n; k++) {
                size_t at = strlen(want);
                snprintf(want + at, sizeof want - at, "s%d %d\n", i, k);
            }
            CHECK(x[i].out.data != NULL);
            if (x[i].out.data) CHECK_EQ_STR(x[i].out.data, want);
            CHECK_EQ_INT(x[i].exit_code, 0);
            CHECK_EQ_INT(o[i].events, n + 2);   /* init, the lines, complete */
        }
        osb_execution_free(&x[i]);
    }
    osb_multi_free(m);
    osb_client_free(c);
}

TEST(a_stream_cancelled_mid_way_ends_alone_while_the_others_go_on) {
    enum { N = 6 };
    static outcome o[N];
    static osb_execution x[N];
    osb_client *c;
    osb_multi *m = NULL;
    long acc0, acc, peak, early0, early;
    int i, polls = 0;
    if (!server_up()) { SKIP("no python3"); return; }
    c = client_with(NULL, -1);
    memset(o, 0, sizeof o);
    memset(x, 0, sizeof x);
    stats(c, &acc0, &peak, &early0);
    CHECK_EQ_INT(osb_multi_new(c, NULL, &m), OSB_OK);
    for (i = 0; i < N; i++) {
        osb_command_request cr;
        osb_transfer_config tc;
        memset(&cr, 0, sizeof cr);
        memset(&tc, 0, sizeof tc);
        cr.command = i == 2 ? "idle" : "emit 8 30 t";
        tc.on_done = on_done;
        tc.on_event = on_event;
        tc.user = &o[i];
        tc.execution = &x[i];
        if (i == 4) o[i].stop_after = 3;   /* the callback stops this one */
        CHECK_EQ_INT(osb_multi_command(m, &execd, &cr, &tc, &o[i].t), OSB_OK);
        o[i].m = m;
    }
    /* the idle stream: cancelled by the test once its first event is in */
    for (;;) {
        int running;
        CHECK_EQ_INT(osb_multi_perform(m, 200, &running), OSB_OK);
        if (o[2].events >= 1 || ++polls > 500) break;
    }
    CHECK_EQ_INT(o[2].done, 0);
    osb_multi_cancel(m, o[2].t);
    CHECK_EQ_INT(o[2].done, 1);
    CHECK_EQ_INT(o[2].result, OSB_ERR_CANCELLED);
    CHECK(o[0].done == 0 || o[0].events > 0);
    run_all(m);
    for (i = 0; i < N; i++) {
        CHECK_EQ_INT(o[i].done, 1);
        if (i == 2) continue;
        if (i == 4) {
            CHECK_EQ_INT(o[i].result, OSB_ERR_CANCELLED);
            CHECK_EQ_INT(o[i].events, 3);
        } else {
            CHECK_EQ_INT(o[i].result, OSB_OK);
            CHECK_EQ_INT(o[i].events, 10);
            CHECK_EQ_INT(x[i].exit_code, 0);
        }
    }
    for (i = 0; i < N; i++) osb_execution_free(&x[i]);
    osb_multi_free(m);
    /* the server saw the cancelled connections close (poll: it notices late) */
    for (i = 0; i < 200; i++) {
        stats(c, &acc, &peak, &early);
        if (early - early0 >= 1) break;
        testproc_sleep_ms(10);
    }
    CHECK(early - early0 >= 1);
    CHECK(acc - acc0 >= N);   /* one connection a stream (and one a stats call) */
    osb_client_free(c);
}

TEST(the_tests_own_poll_loop_drives_the_multi) {
    enum { N = 16 };
    static outcome o[N];
    static osb_execution x[4];
    osb_client *c;
    osb_multi *m = NULL;
    osb_multi_socket socks[64];
    struct pollfd pf[64];
    int i, running = 1, rounds = 0;
    if (!server_up()) { SKIP("no python3"); return; }
    c = client_with(NULL, 8);
    memset(o, 0, sizeof o);
    memset(x, 0, sizeof x);
    CHECK_EQ_INT(osb_multi_new(c, NULL, &m), OSB_OK);
    for (i = 0; i < N; i++) {
        if (i < 4) {
            osb_command_request cr;
            osb_transfer_config tc;
            memset(&cr, 0, sizeof cr);
            memset(&tc, 0, sizeof tc);
            cr.command = "emit 4 10 loop";
            tc.on_done = on_done;
            tc.on_event = on_event;
            tc.user = &o[i];
            tc.execution = &x[i];
            CHECK_EQ_INT(osb_multi_command(m, &execd, &cr, &tc, NULL), OSB_OK);
        } else {
            char path[64];
            snprintf(path, sizeof path, "/echo?id=%d&delay=%d", i, (i % 5) * 20);
            add_get(m, path, &o[i], 0);
        }
    }
    /* nothing started yet: the first call needs no socket */
    CHECK_EQ_INT(osb_multi_timeout_ms(m), 0);
    CHECK_EQ_INT(osb_multi_fds(m, socks, 64), 0);
    CHECK_EQ_INT(osb_multi_socket_ready(m, OSB_MULTI_NO_FD, 0, &running), OSB_OK);
    while (running && rounds++ < 10000) {
        size_t n = osb_multi_fds(m, socks, 64), k;
        int wait = osb_multi_timeout_ms(m), r;
        CHECK(n <= 64);
        for (k = 0; k < n; k++) {
            pf[k].fd = socks[k].fd;
            pf[k].events = socks[k].events == OSB_MULTI_OUT ? POLLOUT : POLLIN;
            pf[k].revents = 0;
        }
        r = poll(pf, (nfds_t)n, wait < 0 || wait > 1000 ? 1000 : wait);
        if (r <= 0) {
            osb_multi_socket_ready(m, OSB_MULTI_NO_FD, 0, &running);
            continue;
        }
        for (k = 0; k < n; k++) {
            int ev = 0;
            if (!pf[k].revents) continue;
            if (pf[k].revents & (POLLIN | POLLHUP | POLLERR)) ev |= OSB_MULTI_IN;
            if (pf[k].revents & (POLLOUT | POLLHUP | POLLERR)) ev |= OSB_MULTI_OUT;
            osb_multi_socket_ready(m, pf[k].fd, ev, &running);
        }
    }
    CHECK_EQ_INT(running, 0);
    for (i = 0; i < N; i++) {
        CHECK_EQ_INT(o[i].done, 1);
        CHECK_EQ_INT(o[i].result, OSB_OK);
        if (i < 4) {
            CHECK_EQ_STR(x[i].out.data, "loop 0\nloop 1\nloop 2\nloop 3\n");
            osb_execution_free(&x[i]);
        } else {
            char want[32];
            snprintf(want, sizeof want, "id=%d", i);
            CHECK_EQ_STR(o[i].body, want);
        }
    }
    osb_multi_free(m);
    osb_client_free(c);
}

TEST(timeouts_end_only_their_transfer) {
    static outcome hang, slow, ok, queued;
    osb_client *c;
    osb_multi *m = NULL;
    osb_multi_config mc;
    osb_http_request req;
    osb_transfer_config tc;
    char url[128];
    if (!server_up()) { SKIP("no python3"); return; }
    c = client_with(NULL, -1);
    memset(&hang, 0, sizeof hang); memset(&slow, 0, sizeof slow);
    memset(&ok, 0, sizeof ok); memset(&queued, 0, sizeof queued);
    memset(&mc, 0, sizeof mc);
    mc.max_total = 3;   /* the fourth waits in line, and its deadline runs there */
    CHECK_EQ_INT(osb_multi_new(c, &mc, &m), OSB_OK);
    add_get(m, "/hang", &hang, 300);                 /* the transfer's own deadline */
    memset(&req, 0, sizeof req);
    memset(&tc, 0, sizeof tc);
    (void)url;
    req.url = base;
    req.path = "/echo";
    req.query = "id=s&delay=3000";
    req.timeouts.first_byte_ms = 200;                /* the request's first-byte deadline */
    tc.on_done = on_done;
    tc.user = &slow;
    CHECK_EQ_INT(osb_multi_add(m, &req, &tc, NULL), OSB_OK);
    add_get(m, "/echo?id=ok&delay=100", &ok, 0);
    add_get(m, "/echo?id=q&delay=0", &queued, 50);
    run_all(m);
    CHECK_EQ_INT(hang.result, OSB_ERR_TIMEOUT);
    CHECK_EQ_INT(hang.err.phase, OSB_PHASE_TOTAL);
    CHECK_EQ_INT(slow.result, OSB_ERR_TIMEOUT);
    CHECK_EQ_INT(slow.err.phase, OSB_PHASE_FIRST_BYTE);
    CHECK_EQ_INT(ok.result, OSB_OK);
    CHECK_EQ_STR(ok.body, "id=ok");
    CHECK_EQ_INT(queued.result, OSB_ERR_TIMEOUT);
    CHECK_EQ_INT(queued.err.phase, OSB_PHASE_TOTAL);
    osb_multi_free(m);
    osb_client_free(c);
}

static osb_multi *chain_m;
static outcome chain[5];
static int chain_at;
static void chain_done(void *user, osb_transfer *t, osb_err result, const osb_error *err) {
    on_done(user, t, result, err);
    if (++chain_at < 5) {   /* the next one, added from inside on_done */
        osb_http_request req;
        osb_transfer_config tc;
        memset(&req, 0, sizeof req);
        memset(&tc, 0, sizeof tc);
        req.url = base;
        req.path = "/conn";
        tc.on_done = chain_done;
        tc.user = &chain[chain_at];
        CHECK_EQ_INT(osb_multi_add(chain_m, &req, &tc, NULL), OSB_OK);
    }
}

TEST(transfers_to_one_host_reuse_the_connection) {
    osb_client *c;
    osb_transfer_config tc;
    osb_http_request req;
    char url[128];
    long acc0, acc, peak, early;
    int i;
    if (!server_up()) { SKIP("no python3"); return; }
    c = client_with(NULL, 4);
    stats(c, &acc0, &peak, &early);   /* its connection is pooled: the multi takes it */
    memset(chain, 0, sizeof chain);
    chain_at = 0;
    CHECK_EQ_INT(osb_multi_new(c, NULL, &chain_m), OSB_OK);
    memset(&req, 0, sizeof req);
    memset(&tc, 0, sizeof tc);
    snprintf(url, sizeof url, "%s/conn", base);
    req.url = url;
    tc.on_done = chain_done;
    tc.user = &chain[0];
    CHECK_EQ_INT(osb_multi_add(chain_m, &req, &tc, NULL), OSB_OK);
    run_all(chain_m);
    for (i = 0; i < 5; i++) {
        CHECK_EQ_INT(chain[i].result, OSB_OK);
        if (i) CHECK_EQ_STR(chain[i].body, chain[0].body);
    }
    osb_multi_free(chain_m);
    stats(c, &acc, &peak, &early);   /* and the blocking call gets it back */
    CHECK_EQ_INT(acc, acc0);
    osb_client_free(c);
}

TEST(the_per_host_cap_queues_the_rest) {
    enum { N = 12 };
    static outcome o[N];
    osb_client *c;
    osb_multi *m = NULL;
    osb_multi_config mc;
    long acc0, acc, peak0, peak, early;
    int i;
    if (!server_up()) { SKIP("no python3"); return; }
    c = client_with(NULL, -1);
    memset(o, 0, sizeof o);
    stats(c, &acc0, &peak0, &early);
    memset(&mc, 0, sizeof mc);
    mc.max_per_host = 3;
    CHECK_EQ_INT(osb_multi_new(c, &mc, &m), OSB_OK);
    for (i = 0; i < N; i++) add_get(m, "/echo?id=x&delay=60", &o[i], 0);
    run_all(m);
    for (i = 0; i < N; i++) CHECK_EQ_INT(o[i].result, OSB_OK);
    osb_multi_free(m);
    stats(c, &acc, &peak, &early);
    CHECK_EQ_INT(acc - acc0, N + 1);
    /* the server's peak counts every connection of this run, and an earlier
       test's may still be closing: the cap holds if no run went over it */
    CHECK(peak <= (peak0 > 4 ? peak0 : 4));
    osb_client_free(c);
}

static ptrdiff_t count_reader(void *user, void *buf, size_t cap) {
    long *left = (long *)user;
    size_t n = *left < (long)cap ? (size_t)*left : cap, i;
    for (i = 0; i < n; i++) ((unsigned char *)buf)[i] = (unsigned char)((*left - (long)i) & 0xff);
    *left -= (long)n;
    return (ptrdiff_t)n;
}

TEST(request_bodies_from_memory_and_readers_arrive_whole) {
    static outcome big, chunked, sized;
    static char data[300000];
    osb_client *c;
    osb_multi *m = NULL;
    osb_http_request req;
    osb_transfer_config tc;
    char url[128], want[64];
    long left1 = 200001, left2 = 150000;
    unsigned long sum = 0, sum1 = 0, sum2 = 0;
    size_t i;
    if (!server_up()) { SKIP("no python3"); return; }
    c = client_with(NULL, 4);
    memset(&big, 0, sizeof big); memset(&chunked, 0, sizeof chunked); memset(&sized, 0, sizeof sized);
    for (i = 0; i < sizeof data; i++) {
        data[i] = (char)(i * 7);
        sum += (unsigned char)data[i];
    }
    for (i = 0; i < 200001; i++) sum1 += (unsigned char)((200001 - i) & 0xff);
    for (i = 0; i < 150000; i++) sum2 += (unsigned char)((150000 - i) & 0xff);
    CHECK_EQ_INT(osb_multi_new(c, NULL, &m), OSB_OK);
    snprintf(url, sizeof url, "%s/upload", base);
    memset(&tc, 0, sizeof tc);
    tc.on_done = on_done;
    memset(&req, 0, sizeof req);
    req.method = "POST";
    req.url = url;
    req.body = data;
    req.body_len = sizeof data;
    tc.user = &big;
    CHECK_EQ_INT(osb_multi_add(m, &req, &tc, NULL), OSB_OK);
    memset(&req, 0, sizeof req);
    req.method = "POST";
    req.url = url;
    req.body_reader = count_reader;
    req.body_reader_user = &left1;
    req.body_reader_len = -1;
    tc.user = &chunked;
    CHECK_EQ_INT(osb_multi_add(m, &req, &tc, NULL), OSB_OK);
    req.body_reader_user = &left2;
    req.body_reader_len = 150000;
    tc.user = &sized;
    CHECK_EQ_INT(osb_multi_add(m, &req, &tc, NULL), OSB_OK);
    run_all(m);
    CHECK_EQ_INT(big.result, OSB_OK);
    snprintf(want, sizeof want, "len=%lu sum=%lu", (unsigned long)sizeof data, sum & 0xffffffffUL);
    CHECK_EQ_STR(big.body, want);
    CHECK_EQ_INT(chunked.result, OSB_OK);
    snprintf(want, sizeof want, "len=200001 sum=%lu", sum1 & 0xffffffffUL);
    CHECK_EQ_STR(chunked.body, want);
    CHECK_EQ_INT(sized.result, OSB_OK);
    snprintf(want, sizeof want, "len=150000 sum=%lu", sum2 & 0xffffffffUL);
    CHECK_EQ_STR(sized.body, want);
    osb_multi_free(m);
    osb_client_free(c);
}

/* A sized body from a reader, a byte pattern; counts what it gave. */
typedef struct pattern {
    uint64_t given, total;
    unsigned long sum;
} pattern;
static ptrdiff_t pattern_read(void *user, void *buf, size_t cap) {
    pattern *p = (pattern *)user;
    unsigned char *b = (unsigned char *)buf;
    size_t i, n = p->total - p->given < cap ? (size_t)(p->total - p->given) : cap;
    for (i = 0; i < n; i++) {
        b[i] = (unsigned char)(((p->given + i) * 13) >> 3);
        p->sum += b[i];
    }
    p->given += n;
    return (ptrdiff_t)n;
}

/* ---- upload sends: the blocking call's rule ---- */

/* What follows the head and when a send carries MSG_MORE: one rule, which
 * the blocking call and the multi both take. */
TEST(upload_send_rule) {
    osb_http_request r;
    memset(&r, 0, sizeof r);
    CHECK(osb__body_after_head(&r) == 0);                          /* no body */
    r.body = "x";
    r.body_len = OSB__JOIN_BODY;
    CHECK(osb__body_after_head(&r) == 0);                          /* with the head */
    r.body_len = OSB__JOIN_BODY + 1;
    CHECK(osb__body_after_head(&r) == OSB__JOIN_BODY + 1);
    r.body_reader = pattern_read;
    r.body_reader_len = 7;
    CHECK(osb__body_after_head(&r) == OSB__JOIN_BODY + 1);         /* memory first, as sent */
    r.body = NULL;
    CHECK(osb__body_after_head(&r) == 7);
    r.body_reader_len = -1;
    CHECK(osb__body_after_head(&r) == -1);
    CHECK(osb__more_follows(7, 0));                                /* the head, a body follows */
    CHECK(osb__more_follows(7, 6));
    CHECK(!osb__more_follows(7, 7));                               /* its last piece */
    CHECK(!osb__more_follows(0, 0));                               /* nothing after the head */
    CHECK(!osb__more_follows(-1, 0));                              /* chunked: as it comes */
    CHECK(!osb__more_follows(-1, 5));
}

static unsigned char pattern_at(uint64_t i) { return (unsigned char)((i * 13) >> 3); }

/* "len=L sha1=HEX" as /upload?digest=1 answers for the first n bytes of
 * the pattern. */
static void pattern_digest(const unsigned char *data, size_t n, char *out, size_t cap) {
    unsigned char d[20];
    char hex[41];
    int i;
    osb__sha1(data, n, d);
    for (i = 0; i < 20; i++) snprintf(hex + 2 * i, 3, "%02x", d[i]);
    snprintf(out, cap, "len=%lu sha1=%s", (unsigned long)n, hex);
}

/* Bodies around the sizes where the sending changes (with the head or
 * after it: OSB__JOIN_BODY; the larger send buffer: OSB__BIG_UPLOAD), from
 * memory, from a reader of known length and from a chunked one, all at
 * once on a few connections: each arrives byte for byte. */
TEST(uploads_around_the_send_thresholds_arrive_byte_exact) {
    static const size_t sizes[] = {0, 1, OSB__JOIN_BODY, OSB__JOIN_BODY + 1, OSB__BIG_UPLOAD - 1,
                                   OSB__BIG_UPLOAD, (3u << 20) + 7};
    enum { NS = sizeof sizes / sizeof sizes[0] };
    static unsigned char data[(3u << 20) + 7];
    static outcome got[NS][3];
    static pattern readers[NS][2];
    osb_client *c;
    osb_multi *m = NULL;
    osb_transfer_config tc;
    char url[128], want[80];
    size_t i, how;
    if (!server_up()) { SKIP("no python3"); return; }
    for (i = 0; i < sizeof data; i++) data[i] = pattern_at(i);
    c = client_with(NULL, 4);
    CHECK(c != NULL);
    if (!c) return;
    CHECK_EQ_INT(osb_multi_new(c, NULL, &m), OSB_OK);
    snprintf(url, sizeof url, "%s/upload", base);
    memset(got, 0, sizeof got);
    memset(readers, 0, sizeof readers);
    memset(&tc, 0, sizeof tc);
    tc.on_done = on_done;
    for (i = 0; i < NS; i++) {
        for (how = 0; how < 3; how++) {   /* memory, a sized reader, a chunked reader */
            osb_http_request req;
            memset(&req, 0, sizeof req);
            req.method = "POST";
            req.url = url;
            req.query = "digest=1";
            if (how == 0) {
                req.body = data;
                req.body_len = sizes[i];
            } else {
                readers[i][how - 1].total = sizes[i];
                req.body_reader = pattern_read;
                req.body_reader_user = &readers[i][how - 1];
                req.body_reader_len = how == 1 ? (int64_t)sizes[i] : -1;
            }
            tc.user = &got[i][how];
            CHECK_EQ_INT(osb_multi_add(m, &req, &tc, NULL), OSB_OK);
        }
    }
    run_all(m);
    for (i = 0; i < NS; i++) {
        pattern_digest(data, sizes[i], want, sizeof want);
        for (how = 0; how < 3; how++) {
            CHECK_EQ_INT(got[i][how].result, OSB_OK);
            CHECK_EQ_INT(got[i][how].status, 200);
            CHECK_EQ_STR(got[i][how].body, want);
        }
    }
    osb_multi_free(m);
    osb_client_free(c);
}

#if defined(__linux__)
/* One upload of n bytes (from memory or a sized reader) on a new client;
 * the send buffer its connection kept (back in the pool), or -1. */
static int sndbuf_after_a_multi_upload(size_t n, int from_reader) {
    static unsigned char data[OSB__BIG_UPLOAD];
    static outcome o;
    pattern r;
    osb_client *c = client_with(NULL, 4);
    osb_multi *m = NULL;
    osb_http_request req;
    osb_transfer_config tc;
    char url[128];
    int size = -1;
    socklen_t len = sizeof size;
    size_t i;
    if (!c) return -1;
    for (i = 0; i < n && i < sizeof data; i++) data[i] = pattern_at(i);
    memset(&o, 0, sizeof o);
    memset(&r, 0, sizeof r);
    memset(&req, 0, sizeof req);
    memset(&tc, 0, sizeof tc);
    snprintf(url, sizeof url, "%s/upload", base);
    req.method = "POST";
    req.url = url;
    if (from_reader) {
        r.total = n;
        req.body_reader = pattern_read;
        req.body_reader_user = &r;
        req.body_reader_len = (int64_t)n;
    } else {
        req.body = data;
        req.body_len = n;
    }
    tc.on_done = on_done;
    tc.user = &o;
    if (osb_multi_new(c, NULL, &m) == OSB_OK && osb_multi_add(m, &req, &tc, NULL) == OSB_OK) run_all(m);
    CHECK_EQ_INT(o.result, OSB_OK);
    CHECK_EQ_INT(c->npool, 1);
    if (o.result == OSB_OK && c->npool == 1 &&
        getsockopt(c->pool[0]->fd, SOL_SOCKET, SO_SNDBUF, &size, &len) != 0)
        size = -1;
    osb_multi_free(m);
    osb_client_free(c);
    return size;
}

/* The send buffer a multi upload gets: raised from OSB__BIG_UPLOAD bytes,
 * as the blocking call raises it, where the system allows more than TCP's
 * autotuning reaches (then to a size autotuning cannot reach). */
TEST(multi_uploads_raise_the_send_buffer_as_the_blocking_call_does) {
    int want, raised;
    if (!server_up()) { SKIP("no python3"); return; }
    want = osb__sndbuf_rule(osb__file_number("/proc/sys/net/core/wmem_max", 0),
                            osb__file_number("/proc/sys/net/ipv4/tcp_wmem", 2));
    raised = 2 * want;   /* Linux doubles what was asked */
    if (!want) {
        CHECK(sndbuf_after_a_multi_upload(OSB__BIG_UPLOAD, 1) > 0);
        SKIP("this system leaves the send buffer to autotuning (net.core.wmem_max)");
        return;
    }
    CHECK(sndbuf_after_a_multi_upload(OSB__BIG_UPLOAD - 1, 0) != raised);
    CHECK(sndbuf_after_a_multi_upload(OSB__BIG_UPLOAD - 1, 1) != raised);
    CHECK_EQ_INT(sndbuf_after_a_multi_upload(OSB__BIG_UPLOAD, 0), raised);
    CHECK_EQ_INT(sndbuf_after_a_multi_upload(OSB__BIG_UPLOAD, 1), raised);
}
#endif

/* One turn of a caller's own loop: poll what the multi wants (at most as
 * long as it says), then tell it what became ready. Returns how many of
 * its sockets it wanted for writing. */
static int poll_turn(osb_multi *m, int *running) {
    osb_multi_socket socks[16];
    struct pollfd pf[16];
    size_t n = osb_multi_fds(m, socks, 16), k;
    int wait = osb_multi_timeout_ms(m), writers = 0, r;
    CHECK(n <= 16);
    if (n > 16) n = 16;
    for (k = 0; k < n; k++) {
        pf[k].fd = socks[k].fd;
        pf[k].events = socks[k].events == OSB_MULTI_OUT ? POLLOUT : POLLIN;
        pf[k].revents = 0;
        writers += socks[k].events == OSB_MULTI_OUT;
    }
    r = poll(pf, (nfds_t)n, wait < 0 || wait > 1000 ? 1000 : wait);
    if (r <= 0) {
        osb_multi_socket_ready(m, OSB_MULTI_NO_FD, 0, running);
        return writers;
    }
    for (k = 0; k < n; k++) {
        int ev = 0;
        if (!pf[k].revents) continue;
        if (pf[k].revents & (POLLIN | POLLHUP | POLLERR)) ev |= OSB_MULTI_IN;
        if (pf[k].revents & (POLLOUT | POLLHUP | POLLERR)) ev |= OSB_MULTI_OUT;
        osb_multi_socket_ready(m, pf[k].fd, ev, running);
    }
    return writers;
}

TEST(a_big_upload_to_a_fast_reader_leaves_turns_to_the_others) {
    static outcome up, small;
    static pattern pat;
    static char url[96], want[64];
    osb_client *c;
    osb_multi *m = NULL;
    osb_http_request req;
    osb_transfer_config tc;
    uint64_t given_when_small_ended = 0;
    int running = 1, rounds = 0, writers_mid_way = 0;
    if (!server_up()) { SKIP("no python3"); return; }
    c = client_with(NULL, 4);
    memset(&up, 0, sizeof up); memset(&small, 0, sizeof small); memset(&pat, 0, sizeof pat);
    pat.total = 16u << 20;
    CHECK_EQ_INT(osb_multi_new(c, NULL, &m), OSB_OK);
    snprintf(url, sizeof url, "%s/upload", base);
    memset(&req, 0, sizeof req);
    memset(&tc, 0, sizeof tc);
    req.method = "POST";
    req.url = url;
    req.body_reader = pattern_read;
    req.body_reader_user = &pat;
    req.body_reader_len = (int64_t)pat.total;
    tc.on_done = on_done;
    tc.user = &up;
    CHECK_EQ_INT(osb_multi_add(m, &req, &tc, NULL), OSB_OK);
    /* the upload starts (the server reads as fast as it comes) ... */
    while (running && pat.given == 0 && rounds++ < 10000) poll_turn(m, &running);
    CHECK(pat.given > 0);
    /* ... and a small request added now ends while it is still going out */
    add_get(m, "/echo?id=small", &small, 0);
    while (running && !small.done && rounds++ < 10000) {
        int writers = poll_turn(m, &running);
        if (pat.given < pat.total) writers_mid_way += writers;
    }
    given_when_small_ended = pat.given;
    CHECK_EQ_INT(small.result, OSB_OK);
    CHECK_EQ_STR(small.body, "id=small");
    CHECK(given_when_small_ended < pat.total);
    CHECK_EQ_INT(up.done, 0);
    CHECK(writers_mid_way > 0);   /* yielding, the upload still wanted its socket for writing */
    while (running && rounds++ < 100000) poll_turn(m, &running);
    CHECK_EQ_INT(running, 0);
    /* every byte arrived, once and in order */
    CHECK_EQ_INT(up.result, OSB_OK);
    snprintf(want, sizeof want, "len=%lu sum=%lu", (unsigned long)pat.total, pat.sum & 0xffffffffUL);
    CHECK_EQ_STR(up.body, want);
    osb_multi_free(m);
    osb_client_free(c);
}

TEST(a_waiting_stream_costs_less_than_16_KiB_beyond_its_buffers) {
    enum { N = 64 };
    static outcome o[N];
    counter k;
    osb_client *c;
    osb_multi *m = NULL;
    long before, per;
    int i, polls = 0;
    if (!server_up()) { SKIP("no python3"); return; }
    memset(&k, 0, sizeof k);
    c = client_with(&k, -1);
    memset(o, 0, sizeof o);
    CHECK_EQ_INT(osb_multi_new(c, NULL, &m), OSB_OK);
    before = k.live;
    for (i = 0; i < N; i++) {
        osb_command_request cr;
        osb_transfer_config tc;
        memset(&cr, 0, sizeof cr);
        memset(&tc, 0, sizeof tc);
        cr.command = "idle";
        tc.on_done = on_done;
        tc.on_event = on_event;
        tc.user = &o[i];
        CHECK_EQ_INT(osb_multi_command(m, &execd, &cr, &tc, NULL), OSB_OK);
    }
    for (;;) {   /* until every stream has its first event and waits */
        int running, all = 1;
        CHECK_EQ_INT(osb_multi_perform(m, 200, &running), OSB_OK);
        for (i = 0; i < N; i++) all &= o[i].events >= 1;
        if (all || ++polls > 1000) break;
    }
    per = (k.live - before) / N;
    printf("    a waiting command stream: %ld bytes, %ld beyond its buffers (receive %d, first event %d)\n",
           per, per - (long)(OSB_MULTI_IO_BUFFER + OSB_MULTI_STREAM_BUFFER), (int)OSB_MULTI_IO_BUFFER,
           (int)OSB_MULTI_STREAM_BUFFER);
    CHECK(per - (long)(OSB_MULTI_IO_BUFFER + OSB_MULTI_STREAM_BUFFER) < 16384);
    osb_multi_free(m);
    for (i = 0; i < N; i++) CHECK_EQ_INT(o[i].result, OSB_ERR_CANCELLED);   /* on_done from osb_multi_free */
    osb_client_free(c);
    CHECK_EQ_INT(k.live, 0);
    CHECK_EQ_INT(k.blocks, 0);
}

/* One run of three transfers (a raw GET, a command stream, an upload from
 * a reader) with allocation number fail_at failing (0: none). Returns how
 * many allocations the run asked for. */
static long alloc_run(long fail_at, int *ended, int *added) {
    static outcome o[4];
    static const char text[] = "a file upload";
    osb_upload_file f;
    static osb_execution x;
    counter k;
    osb_client *c;
    osb_multi *m = NULL;
    osb_transfer_config tc;
    osb_http_request req;
    osb_command_request cr;
    long left = 70000, calls;
    int i;
    memset(&k, 0, sizeof k);
    memset(o, 0, sizeof o);
    memset(&x, 0, sizeof x);
    *ended = *added = 0;
    k.fail_at = fail_at;
    c = client_with(&k, 4);
    if (!c) return k.calls;
    if (osb_multi_new(c, NULL, &m) == OSB_OK) {
        memset(&tc, 0, sizeof tc);
        tc.on_done = on_done;
        tc.user = &o[0];
        memset(&req, 0, sizeof req);
        req.url = base;
        req.path = "/echo";
        req.query = "id=a&delay=0";
        *added += osb_multi_add(m, &req, &tc, NULL) == OSB_OK;
        memset(&cr, 0, sizeof cr);
        cr.command = "emit 3 0 al";
        tc.user = &o[1];
        tc.execution = &x;
        *added += osb_multi_command(m, &execd, &cr, &tc, NULL) == OSB_OK;
        tc.execution = NULL;
        tc.user = &o[2];
        memset(&req, 0, sizeof req);
        req.method = "POST";
        req.url = base;
        req.path = "/upload";
        req.body_reader = count_reader;
        req.body_reader_user = &left;
        req.body_reader_len = -1;
        *added += osb_multi_add(m, &req, &tc, NULL) == OSB_OK;
        memset(&f, 0, sizeof f);
        f.path = "/tmp/alloc.txt";
        f.data = text;
        f.size = sizeof text - 1;
        tc.user = &o[3];
        *added += osb_multi_file_upload(m, &execd, &f, 1, &tc, NULL) == OSB_OK;
        {   /* perform itself may fail once (its poll array): called again, it goes on */
            int running = 1, rounds = 0;
            osb_err e;
            while (running && rounds++ < 10000) {
                e = osb_multi_perform(m, 1000, &running);
                CHECK(e == OSB_OK || e == OSB_ERR_NOMEM);
            }
        }
        osb_multi_free(m);
    }
    if (!fail_at) {   /* the upload went through the multipart body to the server */
        CHECK_EQ_INT(o[3].result, OSB_OK);
        CHECK(strncmp(o[3].body, "len=", 4) == 0);
    }
    for (i = 0; i < 4; i++) {
        CHECK(o[i].done <= 1);
        *ended += o[i].done;
        if (o[i].done) CHECK(o[i].result == OSB_OK || o[i].result == OSB_ERR_NOMEM || fail_at);
    }
    osb_execution_free(&x);
    osb_client_free(c);
    calls = k.calls;
    CHECK_EQ_INT(k.live, 0);     /* nothing leaks, whichever allocation failed */
    CHECK_EQ_INT(k.blocks, 0);
    return calls;
}

TEST(every_failing_allocation_ends_cleanly) {
    long n, i;
    int ended, added;
    if (!server_up()) { SKIP("no python3"); return; }
    n = alloc_run(0, &ended, &added);
    CHECK_EQ_INT(added, 4);
    CHECK_EQ_INT(ended, 4);
    for (i = 1; i <= n; i++) {
        alloc_run(i, &ended, &added);
        CHECK_EQ_INT(ended, added);   /* every transfer added ends exactly once */
    }
    printf("    %ld allocation points, each failed once\n", n);
}

TEST(bad_arguments_are_refused_without_a_transfer) {
    osb_client *c;
    osb_multi *m = NULL;
    osb_http_request req;
    osb_transfer *t = (osb_transfer *)&req;
    osb_command_request cr;
    if (!server_up()) { SKIP("no python3"); return; }
    c = client_with(NULL, 0);
    CHECK_EQ_INT(osb_multi_new(NULL, NULL, &m), OSB_ERR_INVALID_ARG);
    CHECK_EQ_INT(osb_multi_new(c, NULL, &m), OSB_OK);
    memset(&req, 0, sizeof req);
    req.url = "http://127.0.0.1:1/a b";
    CHECK_EQ_INT(osb_multi_add(m, &req, NULL, &t), OSB_ERR_INVALID_ARG);
    CHECK(t == NULL);
    memset(&cr, 0, sizeof cr);
    CHECK_EQ_INT(osb_multi_command(m, &execd, &cr, NULL, &t), OSB_ERR_INVALID_ARG);
    CHECK_EQ_INT(osb_multi_running(m), 0);
    CHECK_EQ_INT(osb_multi_timeout_ms(m), -1);
    CHECK_EQ_INT(osb_multi_perform(m, 0, NULL), OSB_OK);
    osb_multi_free(m);
    osb_multi_free(NULL);
    osb_client_free(c);
}

#define CERTS "build/multi-certs"

TEST(https_handshakes_and_streams_without_blocking) {
    enum { N = 12 };
    static outcome o[N], plain;
    static osb_execution x[4];
    static testproc front;
    static char https_base[64], https_ex[96];
    osb_client_config cfg;
    osb_client *c = NULL;
    osb_multi *m = NULL;
    osb_target tx;
    osb_http_request req;
    osb_transfer_config tc;
    const char *argv[10];
    char port[16];
    int i;
    if (!server_up()) { SKIP("no python3"); return; }
    if (system("sh tests/tls/make-certs.sh " CERTS " >/dev/null 2>&1") != 0) { SKIP("no openssl"); return; }
    snprintf(port, sizeof port, "%d", atoi(srv.ready));
    argv[0] = "python3"; argv[1] = "tests/servers/front.py"; argv[2] = "--backend"; argv[3] = port;
    argv[4] = "--cert"; argv[5] = CERTS "/iponly.pem"; argv[6] = "--key"; argv[7] = CERTS "/iponly.key";
    argv[8] = NULL;
    CHECK_EQ_INT(testproc_start(&front, argv), 0);
    snprintf(https_base, sizeof https_base, "https://127.0.0.1:%d", atoi(front.ready));
    snprintf(https_ex, sizeof https_ex, "%s/ex", https_base);
    memset(&cfg, 0, sizeof cfg);
    cfg.domain = https_base;
    cfg.tls.ca_file = CERTS "/ca.pem";
    cfg.pool_max = 8;
    CHECK_EQ_INT(osb_client_new(&cfg, &c), OSB_OK);
    memset(o, 0, sizeof o);
    memset(&plain, 0, sizeof plain);
    memset(x, 0, sizeof x);
    CHECK_EQ_INT(osb_multi_new(c, NULL, &m), OSB_OK);
    tx.url = https_ex;
    tx.headers = NULL;
    for (i = 0; i < N; i++) {
        memset(&tc, 0, sizeof tc);
        tc.on_done = on_done;
        tc.user = &o[i];
        if (i < 4) {
            osb_command_request cr;
            memset(&cr, 0, sizeof cr);
            cr.command = "emit 5 5 tls";
            tc.on_event = on_event;
            tc.execution = &x[i];
            CHECK_EQ_INT(osb_multi_command(m, &tx, &cr, &tc, NULL), OSB_OK);
        } else {
            char q[32];
            memset(&req, 0, sizeof req);
            snprintf(q, sizeof q, "id=%d&delay=%d", i, (i % 3) * 30);
            req.path = "/echo";   /* the client's own (https) base */
            req.query = q;
            CHECK_EQ_INT(osb_multi_add(m, &req, &tc, NULL), OSB_OK);
        }
    }
    /* TLS to a port that speaks plain HTTP (and waits for a request head):
       the handshake runs out of its connect deadline, alone */
    memset(&req, 0, sizeof req);
    memset(&tc, 0, sizeof tc);
    {
        static char wrong[64];
        snprintf(wrong, sizeof wrong, "https://127.0.0.1:%d", atoi(srv.ready));
        req.url = wrong;
    }
    req.path = "/echo";
    req.timeouts.connect_ms = 300;
    tc.on_done = on_done;
    tc.user = &plain;
    CHECK_EQ_INT(osb_multi_add(m, &req, &tc, NULL), OSB_OK);
    run_all(m);
    for (i = 0; i < N; i++) {
        CHECK_EQ_INT(o[i].result, OSB_OK);
        if (i < 4) {
            CHECK_EQ_STR(x[i].out.data, "tls 0\ntls 1\ntls 2\ntls 3\ntls 4\n");
            osb_execution_free(&x[i]);
        } else {
            char want[32];
            snprintf(want, sizeof want, "id=%d", i);
            CHECK_EQ_STR(o[i].body, want);
        }
    }
    CHECK_EQ_INT(plain.result, OSB_ERR_TIMEOUT);
    CHECK_EQ_INT(plain.err.phase, OSB_PHASE_TLS);
    osb_multi_free(m);
    osb_client_free(c);
    testproc_stop(&front);
}

/* ---- the faults of the blocking suite, through a multi ---- */

/* Every fault scenario of tests/servers/faults.py that test_faults runs
 * through the blocking calls, run here once blocking and once as transfers
 * of one multi all at once: each must end with the same result, status,
 * error detail and body. */
typedef struct fault_case {
    int port;            /* 0 main, 1 drip (a byte per send), 2 stop (black hole after 600 bytes) */
    const char *path, *query;
    int idle_ms;
    int sink;            /* the body to a sink (else into the response) */
} fault_case;

typedef struct fault_seen {
    outcome o;
    uint64_t sunk;
    int pattern_bad;
} fault_seen;

static int fault_sink(void *user, const void *data, size_t len) {
    fault_seen *f = (fault_seen *)user;
    const unsigned char *p = (const unsigned char *)data;
    size_t i;
    for (i = 0; i < len; i++)
        if (p[i] != (unsigned char)((f->sunk + i) & 0xff)) f->pattern_bad = 1;
    f->sunk += len;
    return 0;
}

static void fault_request(const fault_case *fc, const int *ports, char *url, size_t cap, osb_http_request *req,
                          fault_seen *f) {
    snprintf(url, cap, "http://127.0.0.1:%d", ports[fc->port]);
    memset(req, 0, sizeof *req);
    req->url = url;
    req->path = fc->path;
    req->query = fc->query;
    req->timeouts.connect_ms = 2000;
    req->timeouts.first_byte_ms = 3000;
    req->timeouts.idle_ms = fc->idle_ms ? fc->idle_ms : 3000;
    req->idempotent = -1;   /* one exchange each, as the scenario sends it */
    if (fc->sink) {
        req->sink = fault_sink;
        req->sink_user = f;
    }
}

TEST(the_fault_scenarios_end_as_they_do_for_the_blocking_calls) {
    static const fault_case cases[] = {
        {0, "/ok", NULL, 0, 0},
        {0, "/bytes", "n=300000", 0, 1},
        {0, "/chunkedbytes", "n=200000&c=777", 0, 1},
        {0, "/reset-head", NULL, 0, 0},
        {0, "/reset-chunk", NULL, 0, 1},
        {0, "/reset-length", NULL, 0, 1},
        {0, "/endless-headers", NULL, 0, 0},
        {0, "/bigheaders", NULL, 0, 0},
        {0, "/gzip-unasked", NULL, 0, 0},
        {0, "/stall-chunk", "s=3", 400, 1},
        {0, "/status", "code=409", 0, 0},
        {0, "/502-html", NULL, 0, 0},
        {0, "/429", NULL, 0, 0},
        {0, "/sse", "kind=cut", 0, 1},
        {0, "/json", "kind=deep", 0, 0},
        {0, "/no-such-scenario", NULL, 0, 0},
        {1, "/bytes", "n=3000", 0, 1},
        {1, "/chunkedbytes", "n=3000&c=100", 0, 1},
        {2, "/bytes", "n=100000", 400, 1},
    };
    enum { N = sizeof cases / sizeof cases[0] };
    static fault_seen blocking[N], multi[N];
    static const char *const argv[] = {"python3", "tests/servers/faults.py", "--lifetime", "120", NULL};
    static testproc faults;
    static char urls[N][64];
    int ports[3];
    osb_client *c;
    osb_multi *m = NULL;
    size_t i;
    if (!server_up() || testproc_start(&faults, argv) != 0) { SKIP("no python3"); return; }
    {
        const char *keys[3] = {"\"port\": ", "\"drip\": ", "\"stop\": "};
        for (i = 0; i < 3; i++) {
            const char *p = strstr(faults.ready, keys[i]);
            ports[i] = p ? atoi(p + strlen(keys[i])) : 0;
        }
    }
    memset(blocking, 0, sizeof blocking);
    memset(multi, 0, sizeof multi);
    c = client_with(NULL, -1);
    for (i = 0; i < N; i++) {
        osb_http_request req;
        osb_http_response res;
        osb_err e;
        fault_request(&cases[i], ports, urls[i], sizeof urls[i], &req, &blocking[i]);
        e = osb_request_raw(c, &req, &res);
        blocking[i].o.result = e;
        blocking[i].o.err = *osb_client_error(c);
        blocking[i].o.status = res.status;
        blocking[i].o.events = (int)res.body.len;   /* (the body's length, for the comparison) */
        osb_http_response_free(&res);
    }
    CHECK_EQ_INT(osb_multi_new(c, NULL, &m), OSB_OK);
    for (i = 0; i < N; i++) {
        osb_http_request req;
        osb_transfer_config tc;
        fault_request(&cases[i], ports, urls[i], sizeof urls[i], &req, &multi[i]);
        memset(&tc, 0, sizeof tc);
        tc.on_done = on_done;
        tc.user = &multi[i].o;
        CHECK_EQ_INT(osb_multi_add(m, &req, &tc, NULL), OSB_OK);
    }
    run_all(m);
    for (i = 0; i < N; i++) {
        const outcome *b = &blocking[i].o, *x = &multi[i].o;
        if (x->result != b->result || x->status != b->status || x->err.phase != b->err.phase ||
            x->err.http_status != b->err.http_status || strcmp(x->err.server_code, b->err.server_code) != 0 ||
            strcmp(x->err.request_id, b->err.request_id) != 0 || multi[i].sunk != blocking[i].sunk)
            fprintf(stderr, "  %s?%s: blocking %d (%s) status %d, %llu bytes; multi %d (%s) status %d, %llu bytes\n",
                    cases[i].path, cases[i].query ? cases[i].query : "", b->result, b->err.message, b->status,
                    (unsigned long long)blocking[i].sunk, x->result, x->err.message, x->status,
                    (unsigned long long)multi[i].sunk);
        CHECK_EQ_INT(x->done, 1);
        CHECK_EQ_INT(x->result, b->result);
        CHECK_EQ_INT(x->status, b->status);
        CHECK_EQ_INT(x->err.phase, b->err.phase);
        CHECK_EQ_INT(x->err.http_status, b->err.http_status);
        CHECK_EQ_STR(x->err.server_code, b->err.server_code);
        CHECK_EQ_STR(x->err.request_id, b->err.request_id);
        CHECK_EQ_INT(x->err.retry_after_ms, b->err.retry_after_ms);
        CHECK_EQ_INT(multi[i].sunk, blocking[i].sunk);
        CHECK_EQ_INT(multi[i].pattern_bad, blocking[i].pattern_bad);   /* /bytes: byte i is i & 255 */
        if (!strcmp(cases[i].path, "/bytes") || !strcmp(cases[i].path, "/chunkedbytes"))
            CHECK_EQ_INT(multi[i].pattern_bad, 0);
        if (!cases[i].sink && b->result == OSB_OK) CHECK_EQ_INT(x->body_len, (size_t)b->events);
    }
    osb_multi_free(m);
    osb_client_free(c);
    testproc_stop(&faults);
}

/* ---- the sandbox layer, against the dev server ---- */

static size_t count_tagged(osb_client *c, const osb_pair *tag) {
    osb_sandbox_list_req f;
    osb_sandbox_page *page = NULL;
    size_t n = 0;
    memset(&f, 0, sizeof f);
    f.metadata = tag;
    f.metadata_count = 1;
    f.page_size = 200;
    if (osb_manager_list(c, &f, &page) != OSB_OK) return (size_t)-1;
    n = page->items_count;
    osb_result_free(page);
    return n;
}

typedef struct batch_seen { int events[8]; int bad_index; } batch_seen;
static int batch_event(void *user, size_t index, const osb_event *ev) {
    batch_seen *b = (batch_seen *)user;
    (void)ev;
    if (index >= 8) b->bad_index++;
    else b->events[index]++;
    return 0;
}

TEST(sandboxes_open_together_and_run_one_command_each) {
    enum { N = 5 };
    osb_client *c = testdev_client();
    osb_sandbox_create_req req;
    osb_sandbox *sb[N];
    osb_execution x[N];
    osb_err results[N];
    osb_pair tag = {"batch", "ok-run"};
    batch_seen seen;
    int i;
    if (!c) { SKIP("dev server unavailable"); return; }
    memset(&req, 0, sizeof req);
    memset(x, 0, sizeof x);
    memset(&seen, 0, sizeof seen);
    req.image = "python:3.11";
    req.metadata = &tag;
    req.metadata_count = 1;
    CHECK_EQ_INT(osb_sandbox_open_many(c, &req, N, NULL, NULL, sb), OSB_OK);
    CHECK_EQ_INT(count_tagged(c, &tag), N);
    for (i = 0; i < N; i++) CHECK(sb[i] != NULL);
    CHECK_EQ_INT(osb_sandbox_run_many(sb, N, "echo out-$((6*7)); echo err >&2; exit 3", batch_event, &seen, x,
                                      results), OSB_OK);
    for (i = 0; i < N; i++) {
        CHECK_EQ_INT(results[i], OSB_OK);
        CHECK_EQ_STR(x[i].out.data, "out-42\n");
        CHECK_EQ_STR(x[i].err.data, "err\n");
        CHECK_EQ_INT(x[i].exit_code, 3);
        CHECK(seen.events[i] >= 3);
        osb_execution_free(&x[i]);
        CHECK_EQ_INT(osb_sandbox_kill(sb[i]), OSB_OK);
        osb_sandbox_close(sb[i]);
    }
    CHECK_EQ_INT(seen.bad_index, 0);
    CHECK_EQ_INT(count_tagged(c, &tag), 0);
    osb_client_free(c);
}

static int health_calls;
static int cancel_on_second(void *user, osb_sandbox *sb) {
    (void)sb;
    if (++health_calls == 2) *(volatile int *)user = 1;   /* Ctrl-C in the middle of the batch */
    return 1;
}
static int third_never_ready(void *user, osb_sandbox *sb) {
    (void)user;
    (void)sb;
    return ++health_calls == 3 ? -1 : 1;
}

TEST(a_batch_that_fails_kills_the_sandboxes_it_created) {
    enum { N = 4 };
    osb_client *c = testdev_client();
    osb_sandbox_create_req req;
    osb_sandbox_options opt;
    osb_sandbox *sb[N];
    osb_pair tag = {"batch", "fails"};
    int i;
    if (!c) { SKIP("dev server unavailable"); return; }
    memset(&req, 0, sizeof req);
    memset(&opt, 0, sizeof opt);
    req.image = "python:3.11";
    req.metadata = &tag;
    req.metadata_count = 1;
    opt.health_check = third_never_ready;
    health_calls = 0;
    CHECK_EQ_INT(osb_sandbox_open_many(c, &req, N, &opt, NULL, sb), OSB_ERR_STATE);
    CHECK_EQ_INT(osb_client_error(c)->code, OSB_ERR_STATE);
    for (i = 0; i < N; i++) CHECK(sb[i] == NULL);
    CHECK_EQ_INT(count_tagged(c, &tag), 0);
    /* a cancel flag already set: nothing is created */
    {
        volatile int stop = 1;
        CHECK_EQ_INT(osb_sandbox_open_many(c, &req, N, NULL, &stop, sb), OSB_ERR_CANCELLED);
        CHECK_EQ_INT(count_tagged(c, &tag), 0);
    }
    /* cancelled once every create answered: the batch kills what it created */
    {
        volatile int stop = 0;
        health_calls = 0;
        opt.health_check = cancel_on_second;
        opt.health_user = (void *)&stop;
        CHECK_EQ_INT(osb_sandbox_open_many(c, &req, N, &opt, &stop, sb), OSB_ERR_CANCELLED);
        CHECK_EQ_INT(stop, 1);
        for (i = 0; i < N; i++) CHECK(sb[i] == NULL);
        CHECK_EQ_INT(count_tagged(c, &tag), 0);
    }
    osb_client_free(c);
}

static int sink_buf(void *user, const void *data, size_t len) {
    return osb_buf_append((osb_buf *)user, data, len) != OSB_OK;
}

/* A sandbox of the dev server to read and write files in. */
static osb_sandbox *python_sandbox(osb_client *c) {
    osb_sandbox_create_req req;
    osb_sandbox *sb = NULL;
    memset(&req, 0, sizeof req);
    req.image = "python:3.11";
    CHECK_EQ_INT(osb_sandbox_open(c, &req, NULL, &sb), OSB_OK);
    return sb;
}

TEST(metrics_watches_and_downloads_run_beside_each_other) {
    osb_client *c = testdev_client();
    osb_sandbox *sb;
    osb_multi *m = NULL;
    osb_transfer_config tc;
    static outcome watch, dl, missing, got;
    osb_buf file;
    static char big[100000];
    size_t i;
    if (!c) { SKIP("dev server unavailable"); return; }
    memset(&watch, 0, sizeof watch); memset(&dl, 0, sizeof dl);
    memset(&missing, 0, sizeof missing); memset(&got, 0, sizeof got);
    sb = python_sandbox(c);
    if (!sb) { osb_client_free(c); return; }
    for (i = 0; i < sizeof big; i++) big[i] = (char)('a' + i % 26);
    CHECK_EQ_INT(osb_sandbox_write_file(sb, "/tmp/multi.txt", big, sizeof big), OSB_OK);
    osb_buf_init(&file, NULL);
    CHECK_EQ_INT(osb_multi_new(c, NULL, &m), OSB_OK);
    memset(&tc, 0, sizeof tc);
    tc.on_done = on_done;
    tc.on_event = on_event;
    tc.user = &watch;
    watch.stop_after = 2;   /* two samples, then the callback stops it */
    CHECK_EQ_INT(osb_multi_metrics_watch(m, osb_sandbox_execd(sb), &tc, NULL), OSB_OK);
    tc.on_event = NULL;
    tc.user = &dl;
    CHECK_EQ_INT(osb_multi_file_download(m, osb_sandbox_execd(sb), "/tmp/multi.txt", sink_buf, &file, &tc, NULL), OSB_OK);
    tc.user = &missing;
    CHECK_EQ_INT(osb_multi_file_download(m, osb_sandbox_execd(sb), "/tmp/no-such-file", sink_buf, &file, &tc, NULL),
                 OSB_OK);
    tc.user = &got;
    CHECK_EQ_INT(osb_multi_sandbox_get(m, osb_sandbox_id(sb), &tc, &got.t), OSB_OK);
    run_all(m);
    CHECK_EQ_INT(watch.result, OSB_ERR_CANCELLED);
    CHECK_EQ_INT(watch.events, 2);
    CHECK_EQ_INT(dl.result, OSB_OK);
    CHECK_EQ_MEM(file.data, file.len, big, sizeof big);
    CHECK_EQ_INT(missing.result, OSB_ERR_HTTP);
    CHECK(osb_error_is_not_found(&missing.err));
    CHECK_EQ_INT(got.result, OSB_OK);
    osb_multi_free(m);   /* the get's result, not taken, is freed with its transfer */
    osb_buf_free(&file);
    CHECK_EQ_INT(osb_sandbox_kill(sb), OSB_OK);
    osb_sandbox_close(sb);
    osb_client_free(c);
}

/* A long upload body (a byte pattern); once past 1 MiB it asks the test's
 * loop to cancel its transfer. */
typedef struct endless {
    uint64_t given;
    int want_cancel;
} endless;
static ptrdiff_t endless_read(void *user, void *buf, size_t cap) {
    endless *e = (endless *)user;
    memset(buf, 'z', cap);
    e->given += cap;
    if (e->given > (1u << 20)) e->want_cancel = 1;
    return (ptrdiff_t)cap;
}

/* A loopback listener that never accepts or reads: a body sent to it fills
 * the socket buffers and then waits. Returns the socket, -1 on failure. */
static int stalled_listener(char *url, size_t cap) {
    struct sockaddr_in a;
    socklen_t len = sizeof a;
    int s = socket(AF_INET, SOCK_STREAM, 0);
    if (s < 0) return -1;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(s, (struct sockaddr *)&a, sizeof a) != 0 || listen(s, 4) != 0 ||
        getsockname(s, (struct sockaddr *)&a, &len) != 0) {
        close(s);
        return -1;
    }
    snprintf(url, cap, "http://127.0.0.1:%d/stalled", ntohs(a.sin_port));
    return s;
}

/* Accepts the listener's connection and reads it to the end: 1 when the
 * client closed it (end of stream or reset). */
static int closed_by_client(int listener) {
    char buf[65536];
    ssize_t n;
    int s = accept(listener, NULL, NULL);
    if (s < 0) return 0;
    while ((n = recv(s, buf, sizeof buf, 0)) > 0) continue;
    close(s);
    return n == 0 || errno == ECONNRESET;
}

static int download_to(osb_client *c, const osb_target *t, const char *path, osb_buf *out) {
    osb_multi *m = NULL;
    osb_transfer_config tc;
    static outcome o;
    memset(&o, 0, sizeof o);
    memset(&tc, 0, sizeof tc);
    tc.on_done = on_done;
    tc.user = &o;
    out->len = 0;
    CHECK_EQ_INT(osb_multi_new(c, NULL, &m), OSB_OK);
    CHECK_EQ_INT(osb_multi_file_download(m, t, path, sink_buf, out, &tc, NULL), OSB_OK);
    run_all(m);
    osb_multi_free(m);
    return o.result;
}

TEST(uploads_run_together_and_end_as_the_blocking_call_does) {
    osb_client *c = testdev_client();
    osb_sandbox *sb;
    const osb_target *t;
    osb_multi *m = NULL;
    osb_transfer_config tc;
    osb_transfer *endless_t = NULL;
    static outcome big, two, bad, cut;
    static char mem[1536 * 1024 + 7], local[300001], viafd[777];
    osb_upload_file f[2], refused, forever;
    endless fill;
    osb_buf got;
    osb_err blocking;
    osb_target stalled;
    char stalled_url[80];
    int blocking_status, running = 1, rounds = 0, fd, listener;
    char local_path[] = "build/test_multi_upload_XXXXXX", fd_path[] = "build/test_multi_fd_XXXXXX";
    FILE *lf;
    size_t i;
    if (!c) { SKIP("dev server unavailable"); return; }
    memset(&big, 0, sizeof big); memset(&two, 0, sizeof two);
    memset(&bad, 0, sizeof bad); memset(&cut, 0, sizeof cut);
    sb = python_sandbox(c);
    if (!sb) { osb_client_free(c); return; }
    t = osb_sandbox_execd(sb);
    for (i = 0; i < sizeof mem; i++) mem[i] = (char)(i * 31 + i / 4096);
    for (i = 0; i < sizeof local; i++) local[i] = (char)(i * 7 + 3);
    for (i = 0; i < sizeof viafd; i++) viafd[i] = (char)('A' + i % 23);
    fd = mkstemp(local_path);
    CHECK(fd >= 0);
    lf = fdopen(fd, "wb");
    CHECK(lf != NULL && fwrite(local, 1, sizeof local, lf) == sizeof local);
    if (lf) fclose(lf);
    fd = mkstemp(fd_path);
    CHECK(fd >= 0);
    CHECK(write(fd, viafd, sizeof viafd) == (ssize_t)sizeof viafd);
    CHECK(lseek(fd, 0, SEEK_SET) == 0);
    /* a path the server refuses (its parent is a file): the blocking call's result first */
    CHECK_EQ_INT(osb_sandbox_write_file(sb, "/tmp/up-plain", "x", 1), OSB_OK);
    memset(&refused, 0, sizeof refused);
    refused.path = "/tmp/up-plain/inside";
    refused.data = "no";
    refused.size = 2;
    blocking = osb_files_upload(c, t, &refused, 1);
    blocking_status = osb_client_error(c)->http_status;
    CHECK_EQ_INT(blocking, OSB_ERR_HTTP);
    CHECK_EQ_INT(blocking_status, 500);

    CHECK_EQ_INT(osb_multi_new(c, NULL, &m), OSB_OK);
    memset(&tc, 0, sizeof tc);
    tc.on_done = on_done;
    memset(f, 0, sizeof f);
    {   /* the path strings are the adder's to copy: these go out of scope first */
        char p0[64], p1[64];
        snprintf(p0, sizeof p0, "/tmp/up/big.bin");
        f[0].path = p0;
        f[0].data = mem;
        f[0].size = sizeof mem;
        tc.user = &big;
        CHECK_EQ_INT(osb_multi_file_upload(m, t, f, 1, &tc, NULL), OSB_OK);
        snprintf(p0, sizeof p0, "/tmp/up/local.bin");
        snprintf(p1, sizeof p1, "/tmp/up/fd.bin");
        f[0].path = p0;
        f[0].data = NULL;
        f[0].size = 0;
        f[0].local_path = local_path;
        f[1].path = p1;
        f[1].use_fd = 1;
        f[1].fd = fd;
        f[1].mode = 600;
        tc.user = &two;
        CHECK_EQ_INT(osb_multi_file_upload(m, t, f, 2, &tc, NULL), OSB_OK);
        memset(p0, 0, sizeof p0);
        memset(p1, 0, sizeof p1);
    }
    tc.user = &bad;
    CHECK_EQ_INT(osb_multi_file_upload(m, t, &refused, 1, &tc, NULL), OSB_OK);
    memset(&forever, 0, sizeof forever);
    memset(&fill, 0, sizeof fill);
    forever.path = "/tmp/up/long.bin";
    forever.read = endless_read;
    forever.read_user = &fill;
    forever.size = (uint64_t)64 << 20;
    tc.user = &cut;
    listener = stalled_listener(stalled_url, sizeof stalled_url);
    CHECK(listener >= 0);
    memset(&stalled, 0, sizeof stalled);
    stalled.url = stalled_url;
    CHECK_EQ_INT(osb_multi_file_upload(m, &stalled, &forever, 1, &tc, &endless_t), OSB_OK);
    CHECK_EQ_INT(osb_multi_running(m), 4);
    while (running && rounds++ < 100000) {
        CHECK_EQ_INT(osb_multi_perform(m, 1000, &running), OSB_OK);
        if (fill.want_cancel && endless_t) {
            osb_multi_cancel(m, endless_t);   /* mid-way: on_done runs now */
            endless_t = NULL;
            CHECK_EQ_INT(cut.done, 1);
        }
    }
    CHECK_EQ_INT(running, 0);
    osb_multi_free(m);
    CHECK_EQ_INT(big.done, 1);
    CHECK_EQ_INT(big.result, OSB_OK);
    CHECK_EQ_INT(two.done, 1);
    CHECK_EQ_INT(two.result, OSB_OK);
    CHECK_EQ_INT(bad.done, 1);
    CHECK_EQ_INT(bad.result, blocking);
    CHECK_EQ_INT(bad.err.http_status, blocking_status);
    CHECK(strstr(bad.err.message, "error creating target directory") != NULL);
    CHECK_EQ_INT(cut.done, 1);
    CHECK_EQ_INT(cut.result, OSB_ERR_CANCELLED);
    CHECK(fill.given > (1u << 20) && fill.given < forever.size);
    CHECK(closed_by_client(listener));
    close(listener);

    osb_buf_init(&got, NULL);
    CHECK_EQ_INT(download_to(c, t, "/tmp/up/big.bin", &got), OSB_OK);
    CHECK_EQ_MEM(got.data, got.len, mem, sizeof mem);
    CHECK_EQ_INT(download_to(c, t, "/tmp/up/local.bin", &got), OSB_OK);
    CHECK_EQ_MEM(got.data, got.len, local, sizeof local);
    CHECK_EQ_INT(download_to(c, t, "/tmp/up/fd.bin", &got), OSB_OK);
    CHECK_EQ_MEM(got.data, got.len, viafd, sizeof viafd);
    osb_buf_free(&got);
    close(fd);
    remove(local_path);
    remove(fd_path);
    CHECK_EQ_INT(osb_sandbox_kill(sb), OSB_OK);
    osb_sandbox_close(sb);
    osb_client_free(c);
}

static osb_sandbox_info *taken;
static void take_done(void *user, osb_transfer *t, osb_err result, const osb_error *err) {
    on_done(user, t, result, err);
    taken = (osb_sandbox_info *)osb_transfer_take_result(t);
}

TEST(lifecycle_calls_as_transfers_give_the_typed_results) {
    osb_client *c = testdev_client();
    osb_sandbox_create_req req;
    osb_multi *m = NULL;
    osb_transfer_config tc;
    static outcome made, gone, again;
    static const char *const entry[] = {"tail", "-f", "/dev/null", NULL};
    char id[128] = "";
    if (!c) { SKIP("dev server unavailable"); return; }
    memset(&req, 0, sizeof req);
    memset(&made, 0, sizeof made); memset(&gone, 0, sizeof gone); memset(&again, 0, sizeof again);
    req.image = "python:3.11";
    req.timeout_s = 60;
    CHECK_EQ_INT(osb_multi_new(c, NULL, &m), OSB_OK);
    memset(&tc, 0, sizeof tc);
    tc.on_done = take_done;
    tc.user = &made;
    taken = NULL;
    CHECK_EQ_INT(osb_multi_sandbox_create(m, &req, &tc, NULL), OSB_OK);
    run_all(m);
    /* the raw create call has no defaults: without an entrypoint the server
       refuses it, and the detail says why, as for osb_sandbox_create */
    CHECK_EQ_INT(made.result, OSB_ERR_HTTP);
    CHECK_EQ_INT(made.err.http_status, 422);
    CHECK(strstr(made.err.message, "ntrypoint") != NULL);
    CHECK(taken == NULL);
    req.entrypoint = entry;
    memset(&made, 0, sizeof made);
    CHECK_EQ_INT(osb_multi_sandbox_create(m, &req, &tc, NULL), OSB_OK);
    run_all(m);
    CHECK_EQ_INT(made.result, OSB_OK);
    CHECK(taken != NULL && taken->id.ptr != NULL);
    if (taken && taken->id.ptr) snprintf(id, sizeof id, "%s", taken->id.ptr);
    osb_result_free(taken);
    tc.on_done = on_done;
    tc.user = &gone;
    CHECK_EQ_INT(osb_multi_sandbox_delete(m, id, &tc, NULL), OSB_OK);
    run_all(m);
    CHECK_EQ_INT(gone.result, OSB_OK);
    tc.user = &again;
    CHECK_EQ_INT(osb_multi_sandbox_get(m, id, &tc, NULL), OSB_OK);
    run_all(m);
    CHECK_EQ_INT(again.result, OSB_ERR_HTTP);
    CHECK(osb_error_is_not_found(&again.err));
    osb_multi_free(m);
    osb_client_free(c);
}

int main(int argc, char **argv) {
    int r = testlib_main(argc, argv);
    testproc_stop(&srv);
    testdev_stop();
    return r;
}
