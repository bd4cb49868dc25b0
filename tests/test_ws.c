/* WebSocket tests: the frame codec (osb_ws_parse_frame, osb_ws_decoder) fed
 * whole, byte by byte and in random pieces; the connection against the
 * scripted server tests/servers/wsserver.py (handshake checks, masking,
 * fragments, ping/pong, close codes, limits, bad frames), also over TLS
 * (certificates from tests/tls/make-certs.sh); the PTY API and
 * the WebSocket route of the server proxy against tools/devserver. */
#define _DEFAULT_SOURCE
#define OSB_TLS 1
#define OPENSANDBOX_IMPLEMENTATION
#include "../opensandbox.h"
#include "testlib.h"
#include "testdev.h"
#include "no_random.h"
#include <stdarg.h>

/* ---- building frames ---- */

typedef struct stream {
    char data[300000];
    size_t len;
} stream;

static void put(stream *s, int fin, int op, const unsigned char *mask, const void *payload, size_t n) {
    unsigned char head[14];
    size_t hl = osb_ws_write_head(head, fin, op, mask, n);
    memcpy(s->data + s->len, head, hl);
    s->len += hl;
    if (n) memcpy(s->data + s->len, payload, n);
    if (mask) osb_ws_mask(s->data + s->len, n, mask, 0);
    s->len += n;
}

static void put_raw(stream *s, const char *bytes, size_t n) {
    memcpy(s->data + s->len, bytes, n);
    s->len += n;
}

/* Feeds a stream into a decoder in pieces (step 0: whole; 1: byte by byte;
 * otherwise random sizes from seed step) and writes what comes out as text,
 * one entry per message whatever the pieces: "T@text " (short text) or
 * "B@len:hash " for data, "C<code>:reason " for a close, "P:data " /
 * "O:data " for ping / pong, "E<fail_code>:bad|big" at a failure. */
typedef struct logbuf { char *p; size_t len, cap; } logbuf;

static void logf_(logbuf *l, const char *fmt, ...) {
    va_list ap;
    int n;
    if (l->len + 1 >= l->cap) return;
    va_start(ap, fmt);
    n = vsnprintf(l->p + l->len, l->cap - l->len, fmt, ap);
    va_end(ap);
    if (n > 0) l->len += (size_t)n < l->cap - l->len ? (size_t)n : l->cap - l->len - 1;
}

static void run_decoder(const stream *in, int expect_masked, uint64_t max, unsigned step, char *out, size_t cap) {
    static char copy[300000], text[64];
    osb_ws_decoder d;
    size_t at = 0, tlen = 0, msg_at = 0;
    uint64_t mlen = 0;
    uint32_t h = 0, rnd = step * 2654435761u + 1;
    logbuf l;
    l.p = out;
    l.len = 0;
    l.cap = cap;
    out[0] = 0;
    memcpy(copy, in->data, in->len);
    osb_ws_decoder_init(&d, expect_masked, max);
    while (at < in->len) {
        size_t n = in->len - at, end;
        if (step == 1) n = 1;
        else if (step > 1) {
            rnd = rnd * 1103515245u + 12345u;
            n = 1 + (rnd >> 16) % 23;
            if (n > in->len - at) n = in->len - at;
        }
        end = at + n;
        while (at < end) {
            osb_ws_piece p;
            ptrdiff_t r = osb_ws_feed(&d, copy + at, end - at, &p);
            if (r < 0) {
                if (d.msg_op) l.len = msg_at;   /* a message cut short: how far it got depends on the split */
                logf_(&l, "E%d:%s", d.fail_code, r == OSB_WS_TOO_LARGE ? "big" : "bad");
                return;
            }
            at += (size_t)r;
            if (p.opcode == OSB_WS_TEXT || p.opcode == OSB_WS_BINARY) {
                size_t i;
                if (p.first) {
                    msg_at = l.len;
                    logf_(&l, "%c@", p.opcode == OSB_WS_TEXT ? 'T' : 'B');
                    mlen = 0;
                    tlen = 0;
                    h = 2166136261u;
                }
                if (p.offset != mlen) logf_(&l, "OFFSET!");
                for (i = 0; i < p.len; i++) h = (h ^ (unsigned char)p.data[i]) * 16777619u;
                for (i = 0; i < p.len && tlen < sizeof text; i++) text[tlen++] = p.data[i];
                mlen += p.len;
                if (p.last) {
                    if (p.opcode == OSB_WS_TEXT && mlen < sizeof text) logf_(&l, "%.*s ", (int)tlen, text);
                    else logf_(&l, "%llu:%08x ", (unsigned long long)mlen, (unsigned)h);
                    mlen = 0;
                    tlen = 0;
                }
            } else if (p.opcode == OSB_WS_CLOSE) {
                logf_(&l, "C%d:%.*s ", p.close_code, (int)p.len, p.data);
            } else if (p.opcode) {
                logf_(&l, "%c:%.*s ", p.opcode == OSB_WS_PING ? 'P' : 'O', (int)p.len, p.data);
            } else if (r == 0) {
                break;
            }
        }
        at = end;
    }
}

/* Whole, byte by byte and three random splits must agree; returns the text. */
static const char *decode_all(const stream *in, int expect_masked, uint64_t max) {
    static char first[4096], other[4096];
    unsigned step;
    run_decoder(in, expect_masked, max, 0, first, sizeof first);
    for (step = 1; step < 5; step++) {
        run_decoder(in, expect_masked, max, step, other, sizeof other);
        if (strcmp(first, other) != 0) {
            fprintf(stderr, "  split %u differs:\n   whole: %s\n   split: %s\n", step, first, other);
            CHECK(!"feeding in pieces changed the result");
        }
    }
    return first;
}

TEST(sha1_and_accept_key) {
    unsigned char d[20];
    char b64[32];
    const char *key = "dGhlIHNhbXBsZSBub25jZQ==258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
    osb__sha1((const unsigned char *)"abc", 3, d);
    osb__b64_encode(d, 20, b64);
    CHECK_EQ_STR(b64, "qZk+NkcGgWq6PiVxeFDCbJzQ2J0=");   /* SHA-1("abc") */
    osb__sha1((const unsigned char *)key, strlen(key), d);
    osb__b64_encode(d, 20, b64);
    CHECK_EQ_STR(b64, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");   /* RFC 6455 section 1.3 */
    osb__sha1((const unsigned char *)"", 0, d);
    osb__b64_encode(d, 20, b64);
    CHECK_EQ_STR(b64, "2jmj7l5rSw0yVb/vlWAYkK/YBwk=");
    {
        /* 56..64 bytes: the padding spills into a second block */
        char m[64];
        memset(m, 'a', sizeof m);
        osb__sha1((const unsigned char *)m, 56, d);
        osb__b64_encode(d, 20, b64);
        CHECK_EQ_STR(b64, "wtszD2CDhUyZ1LW/tujynyAb5pk=");
    }
    osb__b64_encode((const unsigned char *)"ab", 2, b64);
    CHECK_EQ_STR(b64, "YWI=");
    osb__b64_encode((const unsigned char *)"a", 1, b64);
    CHECK_EQ_STR(b64, "YQ==");
}

TEST(parse_frame_length_forms) {
    unsigned char h[14], mask[4] = {1, 2, 3, 4};
    osb_ws_frame_head f;
    size_t n, i;
    static const uint64_t lens[] = {0, 1, 125, 126, 127, 65535, 65536, 0x7FFFFFFFFFFFFFFFull};
    static const size_t heads[] = {2, 2, 2, 4, 4, 4, 10, 10};
    for (i = 0; i < sizeof lens / sizeof lens[0]; i++) {
        size_t k;
        n = osb_ws_write_head(h, 1, OSB_WS_BINARY, NULL, lens[i]);
        CHECK_EQ_INT(n, heads[i]);
        CHECK_EQ_INT(osb_ws_parse_frame((const char *)h, n, &f), (int)n);
        CHECK(f.length == lens[i]);
        CHECK(f.fin && f.opcode == OSB_WS_BINARY && !f.masked);
        for (k = 0; k < n; k++) CHECK_EQ_INT(osb_ws_parse_frame((const char *)h, k, &f), OSB_WS_INCOMPLETE);
        n = osb_ws_write_head(h, 0, OSB_WS_TEXT, mask, lens[i]);
        CHECK_EQ_INT(n, heads[i] + 4);
        CHECK_EQ_INT(osb_ws_parse_frame((const char *)h, n, &f), (int)n);
        CHECK(!f.fin && f.masked && f.opcode == OSB_WS_TEXT && memcmp(f.mask, mask, 4) == 0 && f.length == lens[i]);
        for (k = 0; k < n; k++) CHECK_EQ_INT(osb_ws_parse_frame((const char *)h, k, &f), OSB_WS_INCOMPLETE);
    }
}

TEST(parse_frame_rejects_bad_heads) {
    osb_ws_frame_head f;
    /* reserved bits, unknown opcodes */
    CHECK_EQ_INT(osb_ws_parse_frame("\xC1\x00", 2, &f), OSB_WS_MALFORMED);
    CHECK_EQ_INT(osb_ws_parse_frame("\xA1\x00", 2, &f), OSB_WS_MALFORMED);
    CHECK_EQ_INT(osb_ws_parse_frame("\x91\x00", 2, &f), OSB_WS_MALFORMED);
    CHECK_EQ_INT(osb_ws_parse_frame("\x83\x00", 2, &f), OSB_WS_MALFORMED);
    CHECK_EQ_INT(osb_ws_parse_frame("\x87\x00", 2, &f), OSB_WS_MALFORMED);
    CHECK_EQ_INT(osb_ws_parse_frame("\x8B\x00", 2, &f), OSB_WS_MALFORMED);
    CHECK_EQ_INT(osb_ws_parse_frame("\x8F\x00", 2, &f), OSB_WS_MALFORMED);
    /* control frames: fragmented, or over 125 bytes */
    CHECK_EQ_INT(osb_ws_parse_frame("\x09\x00", 2, &f), OSB_WS_MALFORMED);
    CHECK_EQ_INT(osb_ws_parse_frame("\x88\x7E\x00\x7E", 4, &f), OSB_WS_MALFORMED);
    CHECK_EQ_INT(osb_ws_parse_frame("\x89\x7E", 2, &f), OSB_WS_MALFORMED);   /* known from 2 bytes */
    /* lengths not in their shortest form, or with the top bit */
    CHECK_EQ_INT(osb_ws_parse_frame("\x82\x7E\x00\x7D", 4, &f), OSB_WS_MALFORMED);
    CHECK_EQ_INT(osb_ws_parse_frame("\x82\x7F\x00\x00\x00\x00\x00\x00\xFF\xFF", 10, &f), OSB_WS_MALFORMED);
    CHECK_EQ_INT(osb_ws_parse_frame("\x82\x7F\x80\x00\x00\x00\x00\x00\x00\x00", 10, &f), OSB_WS_MALFORMED);
    CHECK_EQ_INT(osb_ws_parse_frame("\x82\x7F\x00\x00\x00\x00\x00\x01\x00\x00", 10, &f), 10);
    /* every opcode that exists */
    CHECK_EQ_INT(osb_ws_parse_frame("\x00\x00", 2, &f), 2);
    CHECK_EQ_INT(osb_ws_parse_frame("\x81\x00", 2, &f), 2);
    CHECK_EQ_INT(osb_ws_parse_frame("\x82\x00", 2, &f), 2);
    CHECK_EQ_INT(osb_ws_parse_frame("\x88\x00", 2, &f), 2);
    CHECK_EQ_INT(osb_ws_parse_frame("\x89\x7D", 2, &f), 2);
    CHECK_EQ_INT(osb_ws_parse_frame("\x8A\x00", 2, &f), 2);
}

TEST(decoder_every_opcode_and_fragments) {
    static stream s;
    static char big[70000];
    size_t i;
    s.len = 0;
    for (i = 0; i < sizeof big; i++) big[i] = (char)(i % 251);
    put(&s, 1, OSB_WS_TEXT, NULL, "hello", 5);
    put(&s, 1, OSB_WS_BINARY, NULL, "\x00\x01\x02", 3);
    put(&s, 0, OSB_WS_TEXT, NULL, "frag", 4);
    put(&s, 1, OSB_WS_PING, NULL, "p1", 2);
    put(&s, 0, OSB_WS_CONT, NULL, "men", 3);
    put(&s, 1, OSB_WS_PONG, NULL, "", 0);
    put(&s, 0, OSB_WS_CONT, NULL, "", 0);         /* an empty middle fragment */
    put(&s, 1, OSB_WS_CONT, NULL, "ted", 3);
    put(&s, 1, OSB_WS_TEXT, NULL, "", 0);          /* an empty message */
    put(&s, 1, OSB_WS_BINARY, NULL, big, 300);     /* 16-bit length */
    put(&s, 1, OSB_WS_BINARY, NULL, big, 70000);   /* 64-bit length */
    put(&s, 1, OSB_WS_TEXT, NULL, "h\xC3\xA9llo \xE2\x82\xAC \xF0\x9F\x98\x80", 15);
    put(&s, 1, OSB_WS_CLOSE, NULL, "\x03\xE8" "bye", 5);
    CHECK_EQ_STR(decode_all(&s, 0, 0),
                 "T@hello B@3:22ae7a28 T@P:p1 O: fragmented T@ B@300:0d27bd68 B@70000:2e310430 T@h\xC3\xA9llo \xE2\x82\xAC \xF0\x9F\x98\x80 C1000:bye ");
}

TEST(decoder_split_pieces_carry_offsets) {
    /* fed byte by byte a message comes in many pieces: the offsets add up */
    static stream s;
    static char copy[400];
    char msg[300];
    osb_ws_decoder d;
    size_t at = 0, i;
    uint64_t next = 0;
    int firsts = 0, lasts = 0;
    s.len = 0;
    for (i = 0; i < sizeof msg; i++) msg[i] = (char)i;
    put(&s, 0, OSB_WS_BINARY, NULL, msg, 100);
    put(&s, 1, OSB_WS_CONT, NULL, msg + 100, 200);
    memcpy(copy, s.data, s.len);
    osb_ws_decoder_init(&d, 0, 0);
    while (at < s.len) {
        osb_ws_piece p;
        ptrdiff_t r = osb_ws_feed(&d, copy + at, 1, &p);
        CHECK_EQ_INT(r, 1);
        at++;
        if (p.opcode) {
            CHECK(p.offset == next);
            CHECK_EQ_INT(p.len, 1);
            CHECK_EQ_INT((unsigned char)p.data[0], (unsigned char)msg[next]);
            next += p.len;
            firsts += p.first;
            lasts += p.last;
        }
    }
    CHECK(next == 300);
    CHECK_EQ_INT(firsts, 1);
    CHECK_EQ_INT(lasts, 1);
}

TEST(decoder_masked_frames_from_a_client) {
    static stream s;
    unsigned char m1[4] = {0x37, 0xfa, 0x21, 0x3d}, m2[4] = {9, 8, 7, 6};
    s.len = 0;
    put(&s, 1, OSB_WS_TEXT, m1, "Hello", 5);   /* RFC 6455 section 5.7 */
    CHECK_EQ_MEM(s.data, 11, "\x81\x85\x37\xfa\x21\x3d\x7f\x9f\x4d\x51\x58", 11);
    put(&s, 0, OSB_WS_BINARY, m2, "abcdef", 6);
    put(&s, 1, OSB_WS_CONT, m1, "gh", 2);
    CHECK_EQ_STR(decode_all(&s, 1, 0), "T@Hello B@8:76daaa8d ");
    /* the same frames from a server are refused: a mask mismatch */
    CHECK_EQ_STR(decode_all(&s, 0, 0), "E1002:bad");
    s.len = 0;
    put(&s, 1, OSB_WS_TEXT, NULL, "Hello", 5);
    CHECK_EQ_STR(decode_all(&s, 1, 0), "E1002:bad");
}

TEST(decoder_bad_streams) {
    static stream s;
    /* continuation without a message, a new message inside one */
    s.len = 0;
    put(&s, 1, OSB_WS_CONT, NULL, "x", 1);
    CHECK_EQ_STR(decode_all(&s, 0, 0), "E1002:bad");
    s.len = 0;
    put(&s, 0, OSB_WS_TEXT, NULL, "a", 1);
    put(&s, 1, OSB_WS_BINARY, NULL, "b", 1);
    CHECK_EQ_STR(decode_all(&s, 0, 0), "E1002:bad");
    /* bad UTF-8: an invalid byte, a truncated sequence at the end of the
       message, an overlong form, a surrogate; a sequence split across
       fragments is fine */
    s.len = 0;
    put(&s, 1, OSB_WS_TEXT, NULL, "ok\xC3\x28", 4);
    CHECK_EQ_STR(decode_all(&s, 0, 0), "E1007:bad");
    s.len = 0;
    put(&s, 1, OSB_WS_TEXT, NULL, "ok\xE2\x82", 4);
    CHECK_EQ_STR(decode_all(&s, 0, 0), "E1007:bad");
    s.len = 0;
    put(&s, 1, OSB_WS_TEXT, NULL, "\xC0\xAF", 2);
    CHECK_EQ_STR(decode_all(&s, 0, 0), "E1007:bad");
    s.len = 0;
    put(&s, 1, OSB_WS_TEXT, NULL, "\xED\xA0\x80", 3);
    CHECK_EQ_STR(decode_all(&s, 0, 0), "E1007:bad");
    s.len = 0;
    put(&s, 0, OSB_WS_TEXT, NULL, "\xE2\x82", 2);
    put(&s, 1, OSB_WS_CONT, NULL, "\xAC", 1);
    CHECK_EQ_STR(decode_all(&s, 0, 0), "T@\xE2\x82\xAC ");
    /* binary is not checked */
    s.len = 0;
    put(&s, 1, OSB_WS_BINARY, NULL, "\xC0\xAF", 2);
    CHECK_EQ_STR(decode_all(&s, 0, 0), "B@2:209a1a50 ");
    /* close frames: one byte, a code that must not be sent, a bad reason,
       no payload at all (1005) */
    s.len = 0;
    put(&s, 1, OSB_WS_CLOSE, NULL, "\x03", 1);
    CHECK_EQ_STR(decode_all(&s, 0, 0), "E1002:bad");
    s.len = 0;
    put(&s, 1, OSB_WS_CLOSE, NULL, "\x03\xED", 2);   /* 1005 */
    CHECK_EQ_STR(decode_all(&s, 0, 0), "E1002:bad");
    s.len = 0;
    put(&s, 1, OSB_WS_CLOSE, NULL, "\x03\xE7", 2);   /* 999 */
    CHECK_EQ_STR(decode_all(&s, 0, 0), "E1002:bad");
    s.len = 0;
    put(&s, 1, OSB_WS_CLOSE, NULL, "\x0F\xA1\xFF", 3);   /* 4001 + not UTF-8 */
    CHECK_EQ_STR(decode_all(&s, 0, 0), "E1007:bad");
    s.len = 0;
    put(&s, 1, OSB_WS_CLOSE, NULL, "\x0F\xA1TAKEN_OVER", 12);
    put(&s, 1, OSB_WS_CLOSE, NULL, "", 0);
    CHECK_EQ_STR(decode_all(&s, 0, 0), "C4001:TAKEN_OVER C1005: ");
    /* a malformed head in the middle of good frames */
    s.len = 0;
    put(&s, 1, OSB_WS_TEXT, NULL, "a", 1);
    put_raw(&s, "\xC1\x01x", 3);
    CHECK_EQ_STR(decode_all(&s, 0, 0), "T@a E1002:bad");
    s.len = 0;
    put_raw(&s, "\x89\x7E\x00\x80", 4);
    CHECK_EQ_STR(decode_all(&s, 0, 0), "E1002:bad");
}

TEST(decoder_message_size_limit) {
    static stream s;
    static char data[1000];
    s.len = 0;
    put(&s, 1, OSB_WS_BINARY, NULL, data, 100);
    CHECK_EQ_STR(decode_all(&s, 0, 100), "B@100:e5464095 ");
    CHECK_EQ_STR(decode_all(&s, 0, 99), "E1009:big");
    /* the limit is per message: fragments add up, control frames do not count */
    s.len = 0;
    put(&s, 0, OSB_WS_BINARY, NULL, data, 60);
    put(&s, 1, OSB_WS_PING, NULL, "0123456789", 10);
    put(&s, 1, OSB_WS_CONT, NULL, data, 41);
    CHECK_EQ_STR(decode_all(&s, 0, 101), "B@P:0123456789 101:8297aa8f ");
    CHECK_EQ_STR(decode_all(&s, 0, 100), "E1009:big");
    /* a 64-bit length far over the limit fails at the head, before any payload */
    s.len = 0;
    put_raw(&s, "\x82\x7F\x00\x00\x01\x00\x00\x00\x00\x00", 10);
    CHECK_EQ_STR(decode_all(&s, 0, 1u << 20), "E1009:big");
}

TEST(decoder_failure_is_sticky) {
    osb_ws_decoder d;
    osb_ws_piece p;
    char bad[2] = {'\xC1', 0};
    char good[3] = {'\x81', 1, 'x'};
    osb_ws_decoder_init(&d, 0, 0);
    CHECK_EQ_INT(osb_ws_feed(&d, bad, 2, &p), OSB_WS_MALFORMED);
    CHECK(d.error && *d.error);
    CHECK_EQ_INT(osb_ws_feed(&d, good, 3, &p), OSB_WS_MALFORMED);
}

/* ---- the connection, against tests/servers/wsserver.py ---- */

static testproc ws_proc;
static int ws_port;
static osb_client *WC;

static int ws_setup(void) {
    const char *argv[] = {"python3", "tests/servers/wsserver.py", "--lifetime", "300", NULL};
    osb_client_config cfg;
    if (ws_port) return 1;
    if (testproc_start(&ws_proc, argv) != 0) return 0;
    ws_port = atoi(ws_proc.ready);
    memset(&cfg, 0, sizeof cfg);
    cfg.domain = "127.0.0.1:1";
    cfg.timeouts.idle_ms = 10000;
    if (ws_port <= 0 || osb_client_new(&cfg, &WC) != OSB_OK) return 0;
    return 1;
}

#define NEED_WS() do { if (!ws_setup()) { CHECK(!"tests/servers/wsserver.py did not start"); return; } } while (0)

static osb_err ws_open_path(const char *path, uint64_t max, osb_ws **out) {
    char url[64];
    osb_target t;
    osb_ws_options o;
    snprintf(url, sizeof url, "127.0.0.1:%d", ws_port);
    t.url = url;
    t.headers = NULL;
    memset(&o, 0, sizeof o);
    o.path = path;
    o.max_message = max;
    o.idle_ms = 10000;
    return osb_ws_open(WC, &t, &o, out);
}

/* GET /record/NAME: what the server saw on the last /NAME, as JSON text. */
static void ws_record(const char *name, osb_buf *b) {
    char url[120];
    osb_http_request req;
    osb_http_response res;
    snprintf(url, sizeof url, "http://127.0.0.1:%d/record/%s", ws_port, name);
    memset(&req, 0, sizeof req);
    req.url = url;
    req.sink = osb_buf_sink;
    req.sink_user = b;
    CHECK_EQ_INT(osb_request_raw(WC, &req, &res), OSB_OK);
    osb_http_response_free(&res);
}

/* The server writes its record when it has seen the close, which may come after our
   close returned: asks again until `want` is in it (or 10 s have passed). */
static int ws_record_has(const char *name, const char *want, osb_buf *b) {
    int tries;
    for (tries = 0; tries < 200; tries++) {
        b->len = 0;
        ws_record(name, b);
        if (b->data && strstr(b->data, want)) return 1;
        testproc_sleep_ms(50);
    }
    return 0;
}

/* Reads one whole message into buf; returns its opcode (or the close). */
static int ws_message(osb_ws *ws, osb_buf *buf) {
    buf->len = 0;
    for (;;) {
        osb_ws_msg m;
        osb_err e = osb_ws_read(ws, &m, -1);
        if (e) return -(int)e;
        if (m.opcode == OSB_WS_CLOSE) return OSB_WS_CLOSE;
        CHECK(m.offset == buf->len);
        osb_buf_append(buf, m.data, m.len);
        if (m.last) return m.opcode;
    }
}

TEST(ws_echo_masks_and_fragments) {
    osb_ws *ws = NULL;
    osb_buf b, rec;
    static char big[200000];
    size_t i;
    NEED_WS();
    osb_buf_init(&b, NULL);
    osb_buf_init(&rec, NULL);
    CHECK_EQ_INT(ws_open_path("/echo", 0, &ws), OSB_OK);
    if (!ws) return;
    CHECK_EQ_INT(osb_ws_send(ws, OSB_WS_TEXT, "hello", 5), OSB_OK);
    CHECK_EQ_INT(ws_message(ws, &b), OSB_WS_TEXT);
    CHECK_EQ_MEM(b.data, b.len, "hello", 5);
    for (i = 0; i < sizeof big; i++) big[i] = (char)(i * 7);
    CHECK_EQ_INT(osb_ws_send(ws, OSB_WS_BINARY, big, sizeof big), OSB_OK);   /* 64-bit length, several send chunks */
    CHECK_EQ_INT(ws_message(ws, &b), OSB_WS_BINARY);
    CHECK_EQ_MEM(b.data, b.len, big, sizeof big);
    /* a fragmented message with a ping in the middle */
    CHECK_EQ_INT(osb_ws_send_frame(ws, OSB_WS_TEXT, "frag", 4, 0), OSB_OK);
    CHECK_EQ_INT(osb_ws_send(ws, OSB_WS_PING, "x", 1), OSB_OK);
    CHECK_EQ_INT(osb_ws_send_frame(ws, OSB_WS_CONT, "ment", 4, 1), OSB_OK);
    CHECK_EQ_INT(ws_message(ws, &b), OSB_WS_TEXT);
    CHECK_EQ_MEM(b.data, b.len, "fragment", 8);
    /* misuse is refused locally */
    CHECK_EQ_INT(osb_ws_send_frame(ws, OSB_WS_CONT, "x", 1, 1), OSB_ERR_INVALID_ARG);
    CHECK_EQ_INT(osb_ws_send(ws, OSB_WS_PING, big, 126), OSB_ERR_INVALID_ARG);
    CHECK_EQ_INT(osb_ws_close(ws, 1000, "done"), OSB_OK);
    CHECK(ws_record_has("echo", "\"close_reason\": \"done\"", &rec));
    /* every frame from the client was masked; the close code arrived */
    CHECK(rec.data && !strstr(rec.data, "\"masked\": false"));
    CHECK(rec.data && strstr(rec.data, "\"close\": 1000"));
    CHECK(rec.data && strstr(rec.data, "\"close_reason\": \"done\""));
    CHECK(rec.data && strstr(rec.data, "{\"fin\": false, \"op\": 1, \"masked\": true, \"len\": 4}"));
    CHECK(rec.data && strstr(rec.data, "\"sec-websocket-version\": \"13\""));
    osb_buf_free(&b);
    osb_buf_free(&rec);
}

TEST(ws_ping_is_answered) {
    osb_ws *ws = NULL;
    osb_buf b;
    NEED_WS();
    osb_buf_init(&b, NULL);
    CHECK_EQ_INT(ws_open_path("/ping", 0, &ws), OSB_OK);
    if (!ws) return;
    CHECK_EQ_INT(ws_message(ws, &b), OSB_WS_TEXT);
    CHECK_EQ_MEM(b.data, b.len, "pong-ok", 7);
    osb_ws_close(ws, 1000, NULL);
    osb_buf_free(&b);
}

TEST(ws_server_fragments_and_close) {
    osb_ws *ws = NULL;
    osb_buf b;
    osb_ws_msg m;
    NEED_WS();
    osb_buf_init(&b, NULL);
    CHECK_EQ_INT(ws_open_path("/frag", 0, &ws), OSB_OK);
    if (!ws) return;
    CHECK_EQ_INT(ws_message(ws, &b), OSB_WS_TEXT);
    CHECK_EQ_MEM(b.data, b.len, "Hello, World", 12);
    CHECK_EQ_INT(ws_message(ws, &b), OSB_WS_BINARY);
    CHECK_EQ_INT(b.len, 300);
    CHECK_EQ_INT(ws_message(ws, &b), OSB_WS_BINARY);
    CHECK_EQ_INT(b.len, 70000);
    CHECK_EQ_INT((unsigned char)b.data[69999], 69999 % 251);
    CHECK_EQ_INT(ws_message(ws, &b), OSB_WS_TEXT);
    CHECK_EQ_INT(b.len, 0);
    CHECK_EQ_INT(osb_ws_read(ws, &m, -1), OSB_OK);
    CHECK_EQ_INT(m.opcode, OSB_WS_CLOSE);
    CHECK_EQ_INT(m.close_code, 1000);
    CHECK_EQ_MEM(m.data, m.len, "bye", 3);
    CHECK_EQ_INT(osb_ws_close_code(ws), 1000);
    /* after the close every read says so again */
    CHECK_EQ_INT(osb_ws_read(ws, &m, 0), OSB_OK);
    CHECK_EQ_INT(m.opcode, OSB_WS_CLOSE);
    CHECK_EQ_INT(osb_ws_send(ws, OSB_WS_TEXT, "x", 1), OSB_ERR_STATE);
    CHECK_EQ_INT(osb_ws_close(ws, 1000, NULL), OSB_OK);
    osb_buf_free(&b);
}

TEST(ws_close_code_from_server_is_echoed) {
    osb_ws *ws = NULL;
    osb_ws_msg m;
    osb_buf rec;
    NEED_WS();
    osb_buf_init(&rec, NULL);
    CHECK_EQ_INT(ws_open_path("/close4000", 0, &ws), OSB_OK);
    if (!ws) return;
    CHECK_EQ_INT(osb_ws_read(ws, &m, -1), OSB_OK);
    CHECK_EQ_INT(m.opcode, OSB_WS_CLOSE);
    CHECK_EQ_INT(m.close_code, 4000);
    CHECK_EQ_MEM(m.data, m.len, "custom", 6);
    osb_ws_close(ws, 1000, NULL);
    CHECK(ws_record_has("close4000", "\"close\": 4000", &rec));
    osb_buf_free(&rec);
}

TEST(ws_bad_frames_fail_with_a_close_code) {
    static const struct { const char *path; osb_err err; int code; } cases[] = {
        {"/masked", OSB_ERR_PROTOCOL, 1002},
        {"/reserved", OSB_ERR_PROTOCOL, 1002},
        {"/badutf8", OSB_ERR_PROTOCOL, 1007},
        {"/ctl-long", OSB_ERR_PROTOCOL, 1002},
        {"/big", OSB_ERR_TOO_LARGE, 1009},
    };
    size_t i;
    NEED_WS();
    for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        osb_ws *ws = NULL;
        osb_ws_msg m;
        osb_buf rec;
        char want[32];
        osb_buf_init(&rec, NULL);
        CHECK_EQ_INT(ws_open_path(cases[i].path, 1000000, &ws), OSB_OK);
        if (!ws) continue;
        CHECK_EQ_INT(osb_ws_read(ws, &m, -1), cases[i].err);
        CHECK(strstr(osb_client_error(WC)->message, "WebSocket") != NULL);
        CHECK_EQ_INT(osb_ws_read(ws, &m, -1), cases[i].err);   /* sticky */
        osb_ws_close(ws, 1000, NULL);
        snprintf(want, sizeof want, "\"close\": %d", cases[i].code);
        CHECK(ws_record_has(cases[i].path + 1, want, &rec));
        osb_buf_free(&rec);
    }
}

TEST(ws_dropped_connection_is_truncated) {
    osb_ws *ws = NULL;
    osb_buf b;
    osb_ws_msg m;
    NEED_WS();
    osb_buf_init(&b, NULL);
    CHECK_EQ_INT(ws_open_path("/drop", 0, &ws), OSB_OK);
    if (!ws) return;
    CHECK_EQ_INT(ws_message(ws, &b), OSB_WS_TEXT);
    CHECK_EQ_INT(osb_ws_read(ws, &m, -1), OSB_ERR_TRUNCATED);
    CHECK_EQ_INT(osb_ws_close_code(ws), 1006);
    osb_ws_close(ws, 1000, NULL);
    osb_buf_free(&b);
}

TEST(ws_handshake_failures) {
    osb_ws *ws = NULL;
    NEED_WS();
    CHECK_EQ_INT(ws_open_path("/refuse", 0, &ws), OSB_ERR_HTTP);
    CHECK(ws == NULL);
    CHECK_EQ_INT(osb_client_error(WC)->http_status, 409);
    CHECK_EQ_STR(osb_client_error(WC)->server_code, "ALREADY_CONNECTED");
    CHECK_EQ_INT(ws_open_path("/bad-accept", 0, &ws), OSB_ERR_PROTOCOL);
    CHECK(strstr(osb_client_error(WC)->message, "Sec-WebSocket-Accept") != NULL);
    CHECK_EQ_INT(ws_open_path("/no-upgrade", 0, &ws), OSB_ERR_PROTOCOL);
    CHECK_EQ_INT(ws_open_path("/extension", 0, &ws), OSB_ERR_PROTOCOL);
    CHECK(ws == NULL);
    {
        char url[64];
        osb_target t;
        osb_ws_options o;
        snprintf(url, sizeof url, "127.0.0.1:%d", ws_port);
        t.url = url;
        t.headers = NULL;
        memset(&o, 0, sizeof o);
        o.path = "no-slash";
        CHECK_EQ_INT(osb_ws_open(WC, &t, &o, &ws), OSB_ERR_INVALID_ARG);
    }
}

#if defined(__linux__)
/* The key and the mask seed come from the OS: getrandom, /dev/urandom when
 * the kernel refuses it, and without either the open fails before it
 * connects, rather than masking with guessable bytes. */
static int opens_and_echoes(void) {
    osb_ws *ws = NULL;
    osb_buf b;
    int ok;
    osb_buf_init(&b, NULL);
    if (ws_open_path("/echo", 0, &ws) != OSB_OK || !ws) return 1;
    ok = osb_ws_send(ws, OSB_WS_TEXT, "masked", 6) == OSB_OK && ws_message(ws, &b) == OSB_WS_TEXT &&
         b.len == 6 && !memcmp(b.data, "masked", 6);
    osb_ws_close(ws, 1000, NULL);
    osb_buf_free(&b);
    return !ok;
}

static int fails_for_want_of_random_bytes(void) {
    osb_ws *ws = NULL;
    osb_err e = ws_open_path("/echo", 0, &ws);
    return !(e == OSB_ERR_IO && ws == NULL &&
             !strcmp(osb_client_error(WC)->message, "the OS gave no random bytes for the WebSocket key and masks"));
}

TEST(ws_key_and_masks_need_the_os_random_source) {
    int r[3], i;
    NEED_WS();
    r[0] = without_os_random(1, 0, opens_and_echoes);   /* getrandom refused: /dev/urandom */
    r[1] = without_os_random(0, 1, opens_and_echoes);   /* getrandom alone */
    r[2] = without_os_random(1, 1, fails_for_want_of_random_bytes);
    for (i = 0; i < 3; i++)
        if (r[i] >= 0) CHECK_EQ_INT(r[i], 0);
    if (r[0] < 0 || r[1] < 0 || r[2] < 0) SKIP("no user namespaces or seccomp here");
}
#endif

TEST(ws_poll_style_read) {
    osb_ws *ws = NULL;
    osb_ws_msg m;
    NEED_WS();
    CHECK_EQ_INT(ws_open_path("/echo", 0, &ws), OSB_OK);
    if (!ws) return;
    CHECK(osb_ws_fd(ws) >= 0);
    CHECK_EQ_INT(osb_ws_read(ws, &m, 0), OSB_OK);    /* nothing there yet */
    CHECK_EQ_INT(m.opcode, 0);
    CHECK_EQ_INT(osb_ws_read(ws, &m, 50), OSB_OK);
    CHECK_EQ_INT(m.opcode, 0);
    CHECK_EQ_INT(osb_ws_send(ws, OSB_WS_TEXT, "x", 1), OSB_OK);
    CHECK_EQ_INT(osb_ws_read(ws, &m, 5000), OSB_OK);
    CHECK_EQ_INT(m.opcode, OSB_WS_TEXT);
    osb_ws_close(ws, 1000, NULL);
}

/* The same server behind TLS: a wss connection through BearSSL. */
TEST(ws_over_tls) {
    testproc tp;
    const char *argv[] = {"python3", "tests/servers/wsserver.py", "--lifetime", "60",
                          "--cert", "build/tls-certs/good.pem", "--key", "build/tls-certs/good.key", NULL};
    osb_client_config cfg;
    osb_client *tc = NULL;
    osb_target t;
    osb_ws_options o;
    osb_ws *ws = NULL;
    osb_buf b;
    char url[80];
    static char big[100000];
    if (system("sh tests/tls/make-certs.sh build/tls-certs >/dev/null 2>&1") != 0) {
        CHECK(!"tests/tls/make-certs.sh failed");
        return;
    }
    if (testproc_start(&tp, argv) != 0) {
        CHECK(!"the TLS WebSocket server did not start");
        return;
    }
    memset(&cfg, 0, sizeof cfg);
    cfg.domain = "https://localhost:1";
    cfg.tls.ca_file = "build/tls-certs/ca.pem";
    CHECK_EQ_INT(osb_client_new(&cfg, &tc), OSB_OK);
    snprintf(url, sizeof url, "https://localhost:%d", atoi(tp.ready));
    t.url = url;
    t.headers = NULL;
    memset(&o, 0, sizeof o);
    o.path = "/echo";
    o.idle_ms = 10000;
    osb_buf_init(&b, NULL);
    if (tc) CHECK_EQ_INT(osb_ws_open(tc, &t, &o, &ws), OSB_OK);
    if (ws) {
        memset(big, 'z', sizeof big);
        CHECK_EQ_INT(osb_ws_send(ws, OSB_WS_TEXT, "over tls", 8), OSB_OK);
        CHECK_EQ_INT(ws_message(ws, &b), OSB_WS_TEXT);
        CHECK_EQ_MEM(b.data, b.len, "over tls", 8);
        CHECK_EQ_INT(osb_ws_send(ws, OSB_WS_BINARY, big, sizeof big), OSB_OK);
        CHECK_EQ_INT(ws_message(ws, &b), OSB_WS_BINARY);
        CHECK_EQ_MEM(b.data, b.len, big, sizeof big);
        CHECK_EQ_INT(osb_ws_close(ws, 1000, NULL), OSB_OK);
    }
    osb_buf_free(&b);
    osb_client_free(tc);
    testproc_stop(&tp);
}

/* ---- PTY sessions against tools/devserver: directly and through the server proxy ---- */

static osb_client *DC;
static osb_sandbox *DSB, *PSB;
static int dev_done, dev_ok;

static int dev_setup(void) {
    char id[128], url[1024];
    osb_sandbox_options o;
    if (dev_done) return dev_ok;
    dev_done = 1;
    DC = testdev_client();
    if (!DC || !testdev_sandbox(DC, id, sizeof id, url, sizeof url)) return 0;
    memset(&o, 0, sizeof o);
    o.skip_egress = 1;
    if (osb_sandbox_connect(DC, id, &o, &DSB) != OSB_OK) return 0;
    o.use_server_proxy = 1;
    if (osb_sandbox_connect(DC, id, &o, &PSB) != OSB_OK) return 0;
    dev_ok = 1;
    return 1;
}

#define NEED_DEV() do { if (!dev_setup()) SKIP("dev server unavailable"); } while (0)

/* Output collected until it holds want (or the session ends / an error). */
typedef struct seen {
    osb_buf out, err;
    int exit_code, exited, closed, close_code, connected, replays;
    uint64_t replay_offset;
    char mode[16];
} seen;

static int on_pty_event(void *user, const osb_pty_event *ev) {
    seen *s = (seen *)user;
    switch (ev->type) {
    case OSB_PTY_OUTPUT: osb_buf_append(&s->out, ev->data, ev->len); break;
    case OSB_PTY_STDERR: osb_buf_append(&s->err, ev->data, ev->len); break;
    case OSB_PTY_REPLAY:
        if (!s->replays++) s->replay_offset = ev->offset;
        osb_buf_append(&s->out, ev->data, ev->len);
        break;
    case OSB_PTY_CONNECTED:
        s->connected = 1;
        snprintf(s->mode, sizeof s->mode, "%.*s", (int)ev->mode.len, ev->mode.ptr);
        break;
    case OSB_PTY_EXIT: s->exited = 1; s->exit_code = ev->exit_code; break;
    case OSB_PTY_CLOSED: s->closed = 1; s->close_code = ev->close_code; break;
    default: break;
    }
    return 0;
}

/* Reads events until the output holds want; 1 if it did. */
static int wait_for(osb_pty *p, seen *s, const char *want) {
    for (;;) {
        osb_pty_event ev;
        if (s->out.data && strstr(s->out.data, want)) return 1;
        if (osb_pty_read(p, &ev, 20000) != OSB_OK || ev.type == OSB_PTY_NONE) return 0;
        on_pty_event(s, &ev);
        if (s->closed) return s->out.data && strstr(s->out.data, want);
    }
}

static void seen_init(seen *s) {
    memset(s, 0, sizeof *s);
    osb_buf_init(&s->out, NULL);
    osb_buf_init(&s->err, NULL);
}

static void seen_free(seen *s) {
    osb_buf_free(&s->out);
    osb_buf_free(&s->err);
}

static void interactive_shell(osb_sandbox *sb) {
    osb_pty_attach_options o;
    osb_pty *p = NULL;
    seen s;
    int code = -2;
    seen_init(&s);
    memset(&o, 0, sizeof o);
    o.cols = 100;
    o.rows = 30;
    o.idle_ms = 90000;
    CHECK_EQ_INT(osb_sandbox_shell(sb, NULL, &o, &p), OSB_OK);
    if (!p) return;
    CHECK(strlen(osb_pty_id(p)) > 0);
    CHECK_EQ_INT(osb_pty_write(p, "stty size; echo mark-$((6*7))\n", 30), OSB_OK);
    CHECK(wait_for(p, &s, "mark-42"));
    CHECK(strstr(s.out.data, "30 100") != NULL);   /* the size sent at the attach */
    CHECK(s.connected && strcmp(s.mode, "pty") == 0);
    CHECK_EQ_INT(osb_pty_resize(p, 120, 40), OSB_OK);
    CHECK_EQ_INT(osb_pty_write(p, "stty size; echo mark-2\n", 23), OSB_OK);
    CHECK(wait_for(p, &s, "40 120"));
    /* Ctrl-C as a byte reaches the foreground job; the shell lives on */
    CHECK_EQ_INT(osb_pty_write(p, "sleep 100\n", 10), OSB_OK);
    testproc_sleep_ms(300);
    CHECK_EQ_INT(osb_pty_write(p, "\x03", 1), OSB_OK);
    CHECK_EQ_INT(osb_pty_write(p, "echo alive-$((1+1))\n", 20), OSB_OK);
    CHECK(wait_for(p, &s, "alive-2"));
    CHECK_EQ_INT(osb_pty_ping(p), OSB_OK);
    CHECK_EQ_INT(osb_pty_signal(p, "SIGWINCH"), OSB_ERR_INVALID_ARG);
    CHECK_EQ_INT(osb_pty_write(p, "exit 7\n", 7), OSB_OK);
    CHECK_EQ_INT(osb_pty_run(p, on_pty_event, &s, &code), OSB_OK);
    CHECK_EQ_INT(code, 7);
    CHECK(s.exited && s.exit_code == 7 && s.closed && s.close_code == 1000);
    {
        int known = 0;
        CHECK_EQ_INT(osb_pty_exit_code(p, &known), 7);
        CHECK(known);
    }
    CHECK_EQ_INT(osb_pty_delete(DC, osb_sandbox_execd(sb), osb_pty_id(p)), OSB_OK);
    osb_pty_detach(p);
    seen_free(&s);
}

TEST(pty_interactive_shell_direct) { NEED_DEV(); interactive_shell(DSB); }
TEST(pty_interactive_shell_through_the_server_proxy) { NEED_DEV(); interactive_shell(PSB); }

TEST(pty_signal_and_pipe_mode) {
    osb_pty_request rq;
    osb_pty_attach_options o;
    osb_pty *p = NULL;
    seen s;
    int code = 0;
    static const char *const envs[] = {"GREETING=it's me", "N=3", NULL};
    NEED_DEV();
    seen_init(&s);
    memset(&rq, 0, sizeof rq);
    memset(&o, 0, sizeof o);
    rq.command = "echo sig-ready; exec sleep 100";
    CHECK_EQ_INT(osb_sandbox_shell(DSB, &rq, &o, &p), OSB_OK);
    if (!p) return;
    CHECK(wait_for(p, &s, "sig-ready"));   /* the program runs before the signal goes */
    CHECK_EQ_INT(osb_pty_signal(p, "SIGTERM"), OSB_OK);
    CHECK_EQ_INT(osb_pty_run(p, on_pty_event, &s, &code), OSB_OK);
    CHECK_EQ_INT(code, -1);   /* killed by a signal */
    osb_pty_delete(DC, osb_sandbox_execd(DSB), osb_pty_id(p));
    osb_pty_detach(p);
    seen_free(&s);
    /* pipe mode: stdout and stderr apart, environment and working directory.
     * execd starts the program at the attach and replays what it wrote before
     * the output is attached as one untagged stream (stdout and stderr merged,
     * runtime/pty_session.go writeAndFanout), so the program first waits for a
     * line: stdin is read only once the output is attached, so all it writes
     * arrives live, each byte on its own channel. */
    seen_init(&s);
    rq.command = "read -r go; echo \"out $GREETING $N $(pwd) $go\"; echo err >&2; exit 3";
    rq.envs = envs;
    rq.cwd = "/tmp/osb-pty-cwd";
    o.pipe_mode = 1;
    CHECK_EQ_INT(osb_sandbox_shell(DSB, &rq, &o, &p), OSB_OK);
    if (!p) return;
    CHECK_EQ_INT(osb_pty_write(p, "go\n", 3), OSB_OK);
    CHECK_EQ_INT(osb_pty_run(p, on_pty_event, &s, &code), OSB_OK);
    CHECK_EQ_INT(s.replays, 0);
    CHECK_EQ_INT(code, 3);
    CHECK_EQ_STR(s.mode, "pipe");
    CHECK_EQ_STR(s.out.data, "out it's me 3 /tmp/osb-pty-cwd go\n");
    CHECK_EQ_STR(s.err.data, "err\n");
    osb_pty_delete(DC, osb_sandbox_execd(DSB), osb_pty_id(p));
    osb_pty_detach(p);
    seen_free(&s);
    rq.envs = NULL;
    {
        static const char *const bad[] = {"1X=y", NULL};
        rq.envs = bad;
        CHECK_EQ_INT(osb_sandbox_shell(DSB, &rq, &o, &p), OSB_ERR_INVALID_ARG);
    }
}

TEST(pty_detach_reattach_takeover_delete) {
    osb_pty_attach_options o;
    osb_pty *a = NULL, *b = NULL;
    osb_pty_status *st = NULL;
    const osb_target *t;
    seen s;
    char id[OSB_EXEC_ID_MAX];
    NEED_DEV();
    t = osb_sandbox_execd(DSB);
    seen_init(&s);
    memset(&o, 0, sizeof o);
    CHECK_EQ_INT(osb_pty_create(DC, t, NULL, id, sizeof id), OSB_OK);
    CHECK_EQ_INT(osb_pty_attach(DC, t, id, &o, &a), OSB_OK);
    if (!a) return;
    CHECK_EQ_INT(osb_pty_write(a, "echo first-$((2*3))\n", 20), OSB_OK);
    CHECK(wait_for(a, &s, "first-6"));
    osb_pty_detach(a);
    a = NULL;
    CHECK_EQ_INT(osb_pty_status_get(DC, t, id, &st), OSB_OK);
    if (st) {
        CHECK(st->running);
        CHECK(st->output_offset > 0);
        osb_result_free(st);
    }
    /* again: what was said is replayed, from offset 0 */
    seen_free(&s);
    seen_init(&s);
    CHECK_EQ_INT(osb_pty_attach(DC, t, id, &o, &a), OSB_OK);
    if (!a) return;
    CHECK(wait_for(a, &s, "first-6"));
    CHECK(s.replays > 0 && s.replay_offset == 0);
    /* a second client is refused, unless it takes over */
    CHECK_EQ_INT(osb_pty_attach(DC, t, id, &o, &b), OSB_ERR_HTTP);
    CHECK_EQ_INT(osb_client_error(DC)->http_status, 409);
    CHECK_EQ_STR(osb_client_error(DC)->server_code, "ALREADY_CONNECTED");
    o.takeover = 1;
    o.no_replay = 1;
    CHECK_EQ_INT(osb_pty_attach(DC, t, id, &o, &b), OSB_OK);
    {
        int code = 0;
        seen s2;
        seen_init(&s2);
        CHECK_EQ_INT(osb_pty_run(a, on_pty_event, &s2, &code), OSB_ERR_SERVER);
        CHECK_EQ_INT(s2.close_code, 4001);
        CHECK(strstr(osb_client_error(DC)->message, "4001") != NULL);
        seen_free(&s2);
    }
    if (b) {
        seen s3;
        seen_init(&s3);
        CHECK_EQ_INT(osb_pty_write(b, "echo second\n", 12), OSB_OK);
        CHECK(wait_for(b, &s3, "second"));
        CHECK(!strstr(s3.out.data, "first-6"));   /* no replay asked */
        seen_free(&s3);
        osb_pty_detach(b);
    }
    osb_pty_detach(a);
    CHECK_EQ_INT(osb_pty_delete(DC, t, id), OSB_OK);
    CHECK_EQ_INT(osb_pty_status_get(DC, t, id, &st), OSB_ERR_HTTP);
    CHECK_EQ_INT(osb_client_error(DC)->http_status, 404);
    CHECK_EQ_INT(osb_pty_attach(DC, t, id, &o, &a), OSB_ERR_HTTP);
    CHECK_EQ_STR(osb_client_error(DC)->server_code, "CONTEXT_NOT_FOUND");
    seen_free(&s);
}

TEST(pty_unknown_session_through_the_proxy_is_a_close_1008) {
    osb_pty *p = NULL;
    int code = 0;
    NEED_DEV();
    /* the proxy accepts, then closes with 1008 when execd refuses (404) */
    CHECK_EQ_INT(osb_pty_attach(DC, osb_sandbox_execd(PSB), "no-such-session", NULL, &p), OSB_OK);
    if (!p) return;
    CHECK_EQ_INT(osb_pty_run(p, NULL, NULL, &code), OSB_ERR_SERVER);
    CHECK(strstr(osb_client_error(DC)->message, "1008") != NULL);
    osb_pty_detach(p);
}

/* 50 MB of output through the terminal arrive complete, in pieces. */
static int count_x(void *user, const osb_pty_event *ev) {
    uint64_t *n = (uint64_t *)user;
    size_t i;
    if (ev->type == OSB_PTY_OUTPUT || ev->type == OSB_PTY_REPLAY)
        for (i = 0; i < ev->len; i++) n[((const char *)ev->data)[i] == 'x' ? 0 : 1]++;
    return 0;
}

TEST(pty_50_mb_of_output) {
    osb_pty_request rq;
    osb_pty *p = NULL;
    uint64_t n[2] = {0, 0};
    int code = -2;
    NEED_DEV();
    memset(&rq, 0, sizeof rq);
    rq.command = "head -c 50000000 /dev/zero | tr '\\0' x";
    CHECK_EQ_INT(osb_sandbox_shell(DSB, &rq, NULL, &p), OSB_OK);
    if (!p) return;
    CHECK_EQ_INT(osb_pty_run(p, count_x, n, &code), OSB_OK);
    CHECK_EQ_INT(code, 0);
    CHECK(n[0] == 50000000u);
    CHECK(n[1] == 0);
    osb_pty_delete(DC, osb_sandbox_execd(DSB), osb_pty_id(p));
    osb_pty_detach(p);
}

int main(int argc, char **argv) {
    int rc = testlib_main(argc, argv);
    if (WC) osb_client_free(WC);
    osb_sandbox_close(DSB);
    osb_sandbox_close(PSB);
    if (DC) osb_client_free(DC);
    testproc_stop(&ws_proc);
    testdev_stop();
    return rc;
}
