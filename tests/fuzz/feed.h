/* tests/fuzz/feed.h -- drivers shared by the tokenizer tests and fuzz harnesses.
 *
 * Each driver runs one tokenizer over an input cut into chunks by a split
 * plan (whole, one byte at a time, or pseudo-random cuts) and writes a
 * transcript: a canonical text of everything the tokenizer reported. The
 * differential property is that every plan gives the same transcript.
 *
 * With OSB_FEED_GUARD (POSIX), every chunk is copied so that it ends right
 * before a PROT_NONE page: reading one byte past a chunk faults. */
#ifndef OSB_TESTS_FEED_H
#define OSB_TESTS_FEED_H
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if defined(OSB_FEED_GUARD)
#include <sys/mman.h>
#include <unistd.h>
#endif

/* Not every user needs every driver. */
#if defined(__GNUC__) || defined(__clang__)
#  define FEED_FN static __attribute__((unused))
#else
#  define FEED_FN static
#endif

/* A transcript: a growable text. */
typedef struct feed_out {
    char *p;
    size_t len, cap;
} feed_out;

FEED_FN void feed_put(feed_out *o, const char *s, size_t n) {
    if (o->len + n + 1 > o->cap) {
        size_t cap = o->cap ? o->cap : 256;
        while (cap < o->len + n + 1) cap *= 2;
        o->p = (char *)realloc(o->p, cap);
        if (!o->p) abort();
        o->cap = cap;
    }
    memcpy(o->p + o->len, s, n);
    o->len += n;
    o->p[o->len] = 0;
}

FEED_FN void feed_puts(feed_out *o, const char *s) { feed_put(o, s, strlen(s)); }

/* Bytes as text: printable ASCII as is, the rest as \xHH. */
FEED_FN void feed_put_escaped(feed_out *o, const char *s, size_t n) {
    size_t i;
    for (i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        char b[8];
        if (c >= 0x20 && c < 0x7f && c != '\\') {
            feed_put(o, (const char *)&c, 1);
        } else {
            snprintf(b, sizeof b, "\\x%02x", c);
            feed_puts(o, b);
        }
    }
}

FEED_FN void feed_free(feed_out *o) {
    free(o->p);
    o->p = NULL;
    o->len = o->cap = 0;
}

/* Split plans. */
enum { FEED_WHOLE = 0, FEED_BYTES = 1, FEED_RANDOM = 2 };

typedef struct feed_plan {
    int kind;
    uint32_t seed;
} feed_plan;

FEED_FN uint32_t feed_rand(uint32_t *s) {
    *s ^= *s << 13;
    *s ^= *s >> 17;
    *s ^= *s << 5;
    return *s;
}

/* Length of the next chunk of a plan, at least 1 when bytes remain. */
FEED_FN size_t feed_next_len(feed_plan *pl, size_t left) {
    size_t n;
    if (left == 0) return 0;
    if (pl->kind == FEED_WHOLE) return left;
    if (pl->kind == FEED_BYTES) return 1;
    n = 1 + feed_rand(&pl->seed) % 17;
    if (feed_rand(&pl->seed) % 8 == 0) n = 1 + feed_rand(&pl->seed) % 300;
    return n < left ? n : left;
}

/* Where a chunk is placed before it is handed to a tokenizer. */
typedef struct feed_mem {
    char *base;
    size_t size;   /* usable bytes before the guard page */
} feed_mem;

FEED_FN void feed_mem_init(feed_mem *m, size_t max) {
#if defined(OSB_FEED_GUARD)
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    size_t usable = (max + page - 1) / page * page;
    if (usable == 0) usable = page;
    m->base = (char *)mmap(NULL, usable + page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (m->base == MAP_FAILED) abort();
    if (mprotect(m->base + usable, page, PROT_NONE) != 0) abort();
    m->size = usable;
#else
    m->base = (char *)malloc(max ? max : 1);
    if (!m->base) abort();
    m->size = max ? max : 1;
#endif
}

FEED_FN void feed_mem_free(feed_mem *m) {
#if defined(OSB_FEED_GUARD)
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    munmap(m->base, m->size + page);
#else
    free(m->base);
#endif
}

/* Copies a chunk so that it ends at the end of the usable area. */
static const char *feed_place(feed_mem *m, const char *src, size_t n) {
    char *dst = m->base + m->size - n;
    if (n) memcpy(dst, src, n);
    return dst;
}

/* ---- JSON ------------------------------------------------------------------
 * Transcript: one word per token. Strings and keys are joined from their
 * pieces; each piece of a string must hold whole UTF-8 characters. */

FEED_FN int feed_utf8_whole(const char *s, size_t n) {
    size_t i = 0;
    while (i < n) {
        unsigned char c = (unsigned char)s[i];
        size_t k = c < 0x80 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
        if (c >= 0x80 && c < 0xC0) return 0;
        if (i + k > n) return 0;
        i += k;
    }
    return 1;
}

FEED_FN void feed_json(const char *doc, size_t len, feed_plan plan, size_t scratch_cap, feed_out *o) {
    osb_json j;
    osb_json_token t;
    char *scratch = (char *)malloc(scratch_cap);
    feed_mem mem;
    feed_out text = {NULL, 0, 0};
    size_t pos = 0;
    int r;
    char b[64];
    feed_mem_init(&mem, len);
    osb_json_init(&j, scratch, scratch_cap);
    {
        size_t n = feed_next_len(&plan, len - pos);
        osb_json_feed(&j, feed_place(&mem, doc + pos, n), n, pos + n == len);
        pos += n;
    }
    for (;;) {
        r = osb_json_next(&j, &t);
        if (r == OSB_JSON_NEED_MORE) {
            size_t n = feed_next_len(&plan, len - pos);
            if (osb_json_feed(&j, feed_place(&mem, doc + pos, n), n, pos + n == len) != OSB_OK) {
                feed_puts(o, "FEED-STATE");
                break;
            }
            pos += n;
            continue;
        }
        if (r == OSB_JSON_ERROR) {
            snprintf(b, sizeof b, "E%d@%llu", (int)j.err, (unsigned long long)j.err_offset);
            feed_puts(o, b);
            break;
        }
        if (r == OSB_JSON_DONE) {
            feed_puts(o, "$");
            break;
        }
        if (r == OSB_JSON_KEY || r == OSB_JSON_STRING || r == OSB_JSON_NUMBER) {
            if (r != OSB_JSON_NUMBER && !feed_utf8_whole(t.ptr, t.len)) feed_puts(o, "<SPLIT-UTF8>");
            if (t.len == 0 && t.more) feed_puts(o, "<EMPTY-PIECE>");
            feed_put(&text, t.ptr ? t.ptr : "", t.len);
            if (!t.more) {
                /* written only once whole: how many pieces came before an
                 * error depends on the chunking, the tokens do not */
                snprintf(b, sizeof b, "%s@%llu:", r == OSB_JSON_KEY ? "K" : r == OSB_JSON_STRING ? "S" : "N",
                         (unsigned long long)t.offset);
                feed_puts(o, b);
                feed_put_escaped(o, text.p ? text.p : "", text.len);
                feed_puts(o, " ");
                text.len = 0;
            }
            continue;
        }
        snprintf(b, sizeof b, "%c%u ", "?{}[]KSNtfn$"[r], t.depth);
        feed_puts(o, b);
    }
    feed_free(&text);
    feed_mem_free(&mem);
    free(scratch);
}

/* ---- event stream ----------------------------------------------------------
 * The driver plays the stream layer: it starts with a tiny event buffer and
 * doubles it whenever the tokenizer reports OSB_SSE_FULL. */

FEED_FN void feed_sse_event(osb_sse *s, feed_out *o) {
    osb_sse_event ev;
    char b[96];
    if (!osb_sse_event_get(s, &ev)) {
        feed_puts(o, "<NO-EVENT>");
        return;
    }
    snprintf(b, sizeof b, "[%s@%llu ", ev.bare ? "bare" : "sse", (unsigned long long)ev.offset);
    feed_puts(o, b);
    feed_put_escaped(o, ev.type, ev.type_len);
    feed_puts(o, "|");
    feed_put_escaped(o, ev.id, ev.id_len);
    feed_puts(o, "|");
    feed_put_escaped(o, ev.data, ev.data_len);
    if (ev.data[ev.data_len] != 0) feed_puts(o, "<NO-NUL>");
    feed_puts(o, "]");
}

FEED_FN void feed_sse(const char *in, size_t len, feed_plan plan, size_t max_event, feed_out *o) {
    osb_sse s;
    feed_mem mem;
    size_t pos = 0, cap = 4;
    char *buf = (char *)malloc(cap);
    char b[64];
    feed_mem_init(&mem, len);
    osb_sse_init(&s, buf, cap);
    s.max_event = max_event;
    while (pos < len) {
        size_t n = feed_next_len(&plan, len - pos), used = 0;
        const char *chunk = feed_place(&mem, in + pos, n);
        while (used < n) {
            int st;
            used += osb_sse_push(&s, chunk + used, n - used);
            st = osb_sse_status(&s);
            if (st == OSB_SSE_EVENT) {
                feed_sse_event(&s, o);
            } else if (st == OSB_SSE_FULL) {
                cap *= 2;
                buf = (char *)realloc(buf, cap);
                if (!buf || osb_sse_set_buffer(&s, buf, cap) != OSB_OK) abort();
            } else if (st == OSB_SSE_ERROR) {
                snprintf(b, sizeof b, "E%d@%llu", (int)s.err, (unsigned long long)s.err_offset);
                feed_puts(o, b);
                goto out;
            } else if (used < n) {
                feed_puts(o, "<STOPPED>");
                goto out;
            }
        }
        pos += n;
    }
    for (;;) {
        osb_sse_state st = osb_sse_finish(&s);
        if (st == OSB_SSE_EVENT) {
            feed_sse_event(&s, o);
            continue;
        }
        if (st == OSB_SSE_FULL) {
            cap *= 2;
            buf = (char *)realloc(buf, cap);
            if (!buf || osb_sse_set_buffer(&s, buf, cap) != OSB_OK) abort();
            continue;
        }
        if (st == OSB_SSE_ERROR) {
            snprintf(b, sizeof b, "E%d@%llu", (int)s.err, (unsigned long long)s.err_offset);
            feed_puts(o, b);
        } else {
            feed_puts(o, "$");
        }
        break;
    }
out:
    feed_mem_free(&mem);
    free(buf);
}

#if defined(OSB__EX_COMMAND)
/* The execd event stream (the execd layer is compiled in): every event
 * osb_stream_next hands out, then how the stream ended. */
FEED_FN void feed_stream(osb_stream *s, feed_out *o) {
    const osb_event *ev;
    char b[160];
    osb_err e;
    for (;;) {
        e = osb_stream_next(s, &ev);
        if (e || !ev) break;
        snprintf(b, sizeof b, "event %d ts=%lld count=%lld time=%lld name=", (int)ev->type, (long long)ev->timestamp,
                 (long long)ev->execution_count, (long long)ev->execution_time_ms);
        feed_puts(o, b);
        feed_put_escaped(o, ev->type_name.ptr, ev->type_name.len);
        feed_puts(o, " text=");
        feed_put_escaped(o, ev->text.ptr, ev->text.len);
        snprintf(b, sizeof b, " results=%zu evalue=", ev->results_count);
        feed_puts(o, b);
        feed_put_escaped(o, ev->evalue.ptr, ev->evalue.len);
        /* raw is NUL-terminated right after its length (the mark has a bare
           backslash, which escaped text never has; the error message at the
           end is escaped too, since it may quote the stream's text) */
        snprintf(b, sizeof b, " raw(%zu%s)=", ev->raw.len, strlen(ev->raw.ptr) == ev->raw.len ? "" : " \\unterminated");
        feed_puts(o, b);
        feed_put_escaped(o, ev->raw.ptr, ev->raw.len);
        feed_puts(o, "\n");
    }
    snprintf(b, sizeof b, "end %d offset %llu: ", (int)e, e ? (unsigned long long)s->c->err.offset : 0ull);
    feed_puts(o, b);
    if (e) feed_put_escaped(o, s->c->err.message, strlen(s->c->err.message));
    feed_puts(o, "\n");
}

/* in[0..len) as a command's whole response body, already received, through
 * osb_stream_next. no_fast: the general decoder for every event (no bare
 * lines decoded where they lie, no fast path). max_event 0: the default. c
 * only carries the errors. */
FEED_FN void feed_events(osb_client *c, const char *in, size_t len, int no_fast, size_t max_event, feed_out *o) {
    osb_stream s;
    osb_body b;
    /* the body bytes are writable, as in a connection's receive buffer
       (osb__ex_take_line ends ev.raw there) */
    char *body = (char *)malloc(len ? len : 1);   /* exactly: a write past the end is caught */
    if (!body) abort();
    memcpy(body, in, len);
    memset(&s, 0, sizeof s);
    memset(&b, 0, sizeof b);
    b.cl = c;
    b.finished = 1;   /* nothing more to read */
    s.c = c;
    s.kind = OSB__EX_COMMAND;
    s.no_fast = no_fast;
    s.body = &b;
    s.evcap = 64;     /* small: longer events grow it on the general path */
    s.evbuf = (char *)malloc(s.evcap);
    if (!s.evbuf) abort();
    osb_sse_init(&s.sse, s.evbuf, s.evcap);
    if (max_event) s.sse.max_event = max_event;
    s.pending = body;
    s.pending_len = len;
    feed_stream(&s, o);
    free(body);
    free(s.evbuf);
    free(s.bindbuf);
    free(s.resbuf);
}
#endif

#endif
