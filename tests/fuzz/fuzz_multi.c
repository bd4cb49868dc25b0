/* fuzz_multi.c -- server bytes into a multi's transfers: a raw request and
 * an execd command stream each get a pooled connection whose far end (a
 * socketpair) answers with the input, cut in two at a point the input
 * chooses, with the multi run in between (so every step resumes from what
 * it kept), then closed. Properties: each transfer ends exactly once, with
 * OSB_OK or one of the errors a bad answer may give; a raw transfer that
 * succeeded has a 2xx status and the body it counted; a stream's execution
 * holds what its events said; the multi never spins (bounded turns) and
 * frees everything (ASan).
 *
 * Input: byte 0 picks the cut (its share of the rest), byte 1 bit 0 the
 * transfer (raw GET or command stream), bit 1 a sink for the raw body; the
 * rest is the server's answer.
 *   clang-14 -g -O1 -fsanitize=fuzzer,address,undefined -I. tests/fuzz/fuzz_multi.c
 */
#define _DEFAULT_SOURCE
#define OPENSANDBOX_IMPLEMENTATION
#include "../../opensandbox.h"
#include "replay.h"
#include <fcntl.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

typedef struct seen {
    int done;
    osb_err result;
    int status;
    uint64_t body_bytes, sunk;
    size_t body_len;
} seen;

static void on_done(void *user, osb_transfer *t, osb_err result, const osb_error *err) {
    seen *s = (seen *)user;
    const osb_http_response *r = osb_transfer_response(t);
    s->done++;
    s->result = result;
    FUZZ_ASSERT(err && err->code == result);
    FUZZ_ASSERT(result == OSB_OK || err->message[0]);
    s->status = r->status;
    s->body_bytes = r->body_bytes;
    s->body_len = r->body.len;
}

static int sink(void *user, const void *data, size_t len) {
    (void)data;
    ((seen *)user)->sunk += len;
    return 0;
}

static int allowed(osb_err e) {
    switch (e) {
    case OSB_OK: case OSB_ERR_HTTP: case OSB_ERR_PROTOCOL: case OSB_ERR_TOO_LARGE: case OSB_ERR_TRUNCATED:
    case OSB_ERR_CLOSED: case OSB_ERR_CONNECT: case OSB_ERR_JSON: case OSB_ERR_SERVER: case OSB_ERR_TIMEOUT:
    case OSB_ERR_CANCELLED:
    case OSB_ERR_RANGE:     /* a number in an event that does not fit its field */
        return 1;
    default:
        return 0;
    }
}

/* Writes all of p to fd (blocking; the input is small). */
static void put(int fd, const uint8_t *p, size_t n) {
    while (n > 0) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL);   /* the client may have closed its end */
        if (w <= 0) return;   /* closed or full: the client has what it will read */
        p += w;
        n -= (size_t)w;
    }
}

/* Runs the multi a bounded number of turns, without waiting. */
static void turns(osb_multi *m, int n) {
    int running = 1;
    while (n-- > 0 && running) osb_multi_perform(m, 0, &running);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    osb_client_config cfg;
    osb_client *c = NULL;
    osb_multi *m = NULL;
    osb_transfer_config tc;
    osb_execution x;
    seen s;
    int sv[2], stream, with_sink, running = 1, i;
    size_t cut;
    osb_url u;
    osb__conn *k;
    char drain[4096];
    if (size < 2) return 0;
    stream = data[1] & 1;
    with_sink = (data[1] >> 1) & 1;
    cut = (size - 2) * data[0] / 256;
    data += 2;
    size -= 2;
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0) return 0;
    memset(&cfg, 0, sizeof cfg);
    cfg.domain = "http://127.0.0.1:9";
    cfg.timeouts.first_byte_ms = 2000;
    cfg.timeouts.idle_ms = 2000;
    if (osb_client_new(&cfg, &c) != OSB_OK) abort();
    /* the client side of the pair, as a pooled connection to the server */
    FUZZ_ASSERT(osb_url_parse("http://127.0.0.1:9", 0, &u) == OSB_OK);
    fcntl(sv[0], F_SETFL, fcntl(sv[0], F_GETFL, 0) | O_NONBLOCK);
    fcntl(sv[1], F_SETFL, fcntl(sv[1], F_GETFL, 0) | O_NONBLOCK);   /* the harness never waits either */
    if (osb__conn_new(c, sv[0], &u, OSB_MULTI_IO_BUFFER, &k, &c->err) != OSB_OK) abort();
    osb__pool_put(c, k);
    FUZZ_ASSERT(osb_multi_new(c, NULL, &m) == OSB_OK);
    memset(&s, 0, sizeof s);
    memset(&x, 0, sizeof x);
    memset(&tc, 0, sizeof tc);
    tc.on_done = on_done;
    tc.user = &s;
    if (stream) {
        osb_target t;
        osb_command_request r;
        memset(&t, 0, sizeof t);
        memset(&r, 0, sizeof r);
        t.url = "http://127.0.0.1:9";
        r.command = "x";
        tc.execution = &x;
        FUZZ_ASSERT(osb_multi_command(m, &t, &r, &tc, NULL) == OSB_OK);
    } else {
        osb_http_request req;
        memset(&req, 0, sizeof req);
        req.path = "/x";
        req.idempotent = -1;   /* no second connection: the answer is the input */
        req.max_body = 1 << 20;
        if (with_sink) {
            req.sink = sink;
            req.sink_user = &s;
        }
        FUZZ_ASSERT(osb_multi_add(m, &req, &tc, NULL) == OSB_OK);
    }
    turns(m, 4);                             /* the request goes out */
    while (read(sv[1], drain, sizeof drain) == (ssize_t)sizeof drain) {}
    put(sv[1], data, cut);
    turns(m, 8);                             /* the first part: every step resumes */
    put(sv[1], data + cut, size - cut);
    shutdown(sv[1], SHUT_WR);
    for (i = 0; i < 10000 && running; i++) osb_multi_perform(m, 100, &running);
    FUZZ_ASSERT(running == 0);
    FUZZ_ASSERT(s.done == 1);
    if (getenv("FUZZ_SHOW"))   /* replaying seeds by hand: what each gave */
        fprintf(stderr, "%s: result %d status %d body %llu out '%s'\n", stream ? "stream" : "raw", (int)s.result,
                s.status, (unsigned long long)s.body_bytes, x.out.data ? x.out.data : "");
    FUZZ_ASSERT(allowed(s.result));
    if (!stream && s.result == OSB_OK) {
        FUZZ_ASSERT(s.status >= 200 && s.status <= 299);
        FUZZ_ASSERT(with_sink ? s.sunk == s.body_bytes : s.body_len == s.body_bytes);
    }
    if (stream && s.result == OSB_OK) FUZZ_ASSERT(x.out.len <= size && x.err.len <= size);
    osb_multi_free(m);
    FUZZ_ASSERT(s.done == 1);
    osb_execution_free(&x);
    osb_client_free(c);
    close(sv[1]);
    return 0;
}
