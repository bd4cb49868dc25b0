/* opensandbox.h -- a C client for OpenSandbox, in one header.             v0.1.0
 *
 * OpenSandbox runs container sandboxes for AI agents: create a sandbox, run
 * commands and code in it, move files, watch its metrics, control its network.
 * This header is the whole client: a small HTTP/1.1 client on sockets (TLS
 * through BearSSL when enabled), streaming JSON and event-stream tokenizers,
 * every operation of the four OpenSandbox APIs and a sandbox layer on top.
 * C99, no dependency but libc (and BearSSL for https).
 *
 * CONTENTS (grep '>>' to jump; declarations and implementation follow the same order)
 *   >>manual    this text
 *   >>core      errors, allocator, string slices, growable buffer
 *   >>tokens    JSON, event stream, multipart, URL encoding (no I/O, no allocation)
 *   >>http      HTTP/1.1 response head parser and chunked decoder
 *   >>transport URLs, connections, timeouts, keep-alive pool, requests
 *   >>impl      the implementation (only with OPENSANDBOX_IMPLEMENTATION)
 *
 * DO THIS
 * =======
 *   In exactly one .c or .cpp file of your program:
 *
 *       #define OPENSANDBOX_IMPLEMENTATION
 *       #include "opensandbox.h"
 *
 *   Every other file includes "opensandbox.h" without the define. If the link
 *   fails with "undefined reference to `osb_client_new'" (or any osb_ symbol),
 *   no file defined OPENSANDBOX_IMPLEMENTATION before including the header.
 *   Define OPENSANDBOX_STATIC as well to make every function static to that one
 *   file (then only that file can use the library).
 *
 *   On Windows link with ws2_32. With TLS (OSB_TLS=1) link with -lbearssl.
 *
 * TL;DR
 * =====
 *       #define OPENSANDBOX_IMPLEMENTATION
 *       #include "opensandbox.h"
 *       #include <stdio.h>
 *
 *       static int print_body(void *user, const void *data, size_t len) {
 *           (void)user;
 *           fwrite(data, 1, len, stdout);
 *           return 0;                      // non-zero would stop the transfer
 *       }
 *
 *       int main(void) {
 *           osb_client_config cfg;
 *           osb_client *c = NULL;
 *           osb_http_request req;
 *           osb_http_response res;
 *           osb_err e;
 *           memset(&cfg, 0, sizeof cfg);   // zero means "default" everywhere
 *           cfg.domain = "127.0.0.1:8080";
 *           cfg.api_key = "secret";
 *           if (osb_client_new(&cfg, &c) != OSB_OK) return 1;
 *           memset(&req, 0, sizeof req);
 *           req.method = "GET";
 *           req.path = "/v1/sandboxes";
 *           req.sink = print_body;
 *           e = osb_request_raw(c, &req, &res);
 *           if (e != OSB_OK)
 *               fprintf(stderr, "%s: %s\n", osb_strerror(e), osb_client_error(c)->message);
 *           osb_client_free(c);
 *           return e == OSB_OK ? 0 : 1;
 *       }
 *
 * THREADS
 * =======
 *   One osb_client is used by one thread at a time (as a libcurl easy handle).
 *   Separate clients share nothing, so one client per thread needs no locks.
 *   The library keeps no global state and never touches signal dispositions:
 *   SIGPIPE is suppressed on each send (MSG_NOSIGNAL / SO_NOSIGPIPE). The
 *   tokenizers are plain functions on caller-owned structs and are safe on any
 *   thread.
 *
 * MEMORY
 * ======
 *   Every allocation goes through the client's osb_allocator (alloc, realloc
 *   with the old size, free, and a context pointer). A NULL allocator means
 *   malloc/realloc/free. The tokenizers never allocate. Response bodies flow
 *   through a fixed buffer into a sink callback: memory does not grow with the
 *   size of a download or the length of a stream.
 *
 * ERRORS
 * ======
 *   Every function that can fail returns osb_err: 0 (OSB_OK) on success, one of
 *   the stable OSB_ERR_* numbers otherwise. The numbers never change between
 *   versions; osb_strerror() names them. After a failure osb_client_error()
 *   gives the detail (osb_error): HTTP status, the server's code and message,
 *   the request id, errno, the TLS error, the phase that timed out, the byte
 *   offset of a parse error. The library prints nothing, and no message ever
 *   carries a credential.
 *
 * STREAMING
 * =========
 *   Bodies are delivered to an osb_write_fn as they arrive; returning non-zero
 *   stops the transfer with OSB_ERR_CANCELLED. Request bodies come from memory
 *   or an osb_read_fn. Streams have no total deadline, only a connect deadline
 *   and an idle deadline (no byte for that long).
 *
 * TLS
 * ===
 *   Built with OSB_TLS=1, https URLs go through BearSSL with certificate chain
 *   and host name verification. With OSB_TLS=0 (the default) an https URL fails
 *   with OSB_ERR_UNSUPPORTED.
 *
 * LIMITS
 * ======
 *   Hostile or broken servers cannot make the client use unbounded memory or
 *   time. Each limit below is a macro with a default; define it before the
 *   implementation to change it. Exceeding one is an error (OSB_ERR_TOO_LARGE
 *   or OSB_ERR_PROTOCOL), never a silent truncation.
 *
 *     OSB_HTTP_MAX_LINE        8192    longest status or header line
 *     OSB_HTTP_MAX_HEADERS     100     header fields in one response
 *     OSB_HTTP_MAX_HEAD        65536   bytes of one response head
 *     OSB_HTTP_MAX_CHUNK_LINE  4096    chunk-size line including extensions
 *     OSB_HTTP_MAX_INTERIM     10      1xx responses before the final one
 *     OSB_IO_BUFFER            16384   receive buffer per connection
 *
 * CONFIGURATION
 * =============
 *     OPENSANDBOX_IMPLEMENTATION  define in one file to compile the implementation
 *     OPENSANDBOX_STATIC          make every function static (one-file programs)
 *     OSB_API                     override the linkage of public functions
 *     OSB_TLS                 0   1 = https through BearSSL (link -lbearssl)
 *     OSB_POOL_MAX            4   idle keep-alive connections kept per client
 *     OSB_POOL_IDLE_MS    30000   an idle connection older than this is closed
 *     OSB_CONNECT_TIMEOUT_MS  10000   default connect deadline (DNS included)
 *     OSB_FIRST_BYTE_TIMEOUT_MS 30000 default wait for the response head
 *     OSB_IDLE_TIMEOUT_MS     60000   default longest gap between received bytes
 *     OSB_TOTAL_TIMEOUT_MS        0   default total deadline (0 = none), never
 *                                     applied to streams
 */
#ifndef OPENSANDBOX_H_INCLUDED
#define OPENSANDBOX_H_INCLUDED

#include <stddef.h>
#include <stdint.h>

#define OSB_VERSION_MAJOR 0
#define OSB_VERSION_MINOR 1
#define OSB_VERSION_PATCH 0
#define OSB_VERSION_STRING "0.1.0"
#define OSB_VERSION_NUM ((OSB_VERSION_MAJOR << 16) | (OSB_VERSION_MINOR << 8) | OSB_VERSION_PATCH)
#define OSB_AT_LEAST_VERSION(maj, min, pat) \
    (OSB_VERSION_NUM >= (((maj) << 16) | ((min) << 8) | (pat)))
/* The OpenSandbox specification revision the operations were written from. */
#define OSB_SPEC_VERSION "alibaba/OpenSandbox specs@4db3a993"

#ifndef OSB_API
#  ifdef OPENSANDBOX_STATIC
#    if defined(__GNUC__) || defined(__clang__)
#      define OSB_API static __attribute__((unused))
#    else
#      define OSB_API static
#    endif
#  else
#    define OSB_API extern
#  endif
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* >>core ================================================================= */

/* Error codes. The numbers are stable: never renumbered, only appended. */
typedef enum osb_err {
    OSB_OK = 0,
    OSB_ERR_INVALID_ARG = 1,   /* an argument or configuration value is unusable */
    OSB_ERR_NOMEM = 2,         /* the allocator returned NULL */
    OSB_ERR_DNS = 3,           /* the host name could not be resolved */
    OSB_ERR_CONNECT = 4,       /* refused, unreachable, or reset before a response */
    OSB_ERR_TIMEOUT = 5,       /* a deadline passed; osb_error.phase says which */
    OSB_ERR_TLS = 6,           /* handshake or verification failed; see tls_error */
    OSB_ERR_PROTOCOL = 7,      /* the server broke HTTP/1.1 framing */
    OSB_ERR_TRUNCATED = 8,     /* the connection ended before the body was complete */
    OSB_ERR_TOO_LARGE = 9,     /* a size limit was exceeded */
    OSB_ERR_HTTP = 10,         /* the server answered with a non-2xx status */
    OSB_ERR_JSON = 11,         /* malformed JSON, or JSON of an unexpected shape */
    OSB_ERR_CANCELLED = 12,    /* a callback or the cancel flag stopped the call */
    OSB_ERR_UNSUPPORTED = 13,  /* not compiled in, or not offered by the server */
    OSB_ERR_IO = 14,           /* a local file, reader or writer failed */
    OSB_ERR_SERVER = 15,       /* the server reported an error inside a 2xx reply */
    OSB_ERR_STATE = 16,        /* the call does not fit the object's state */
    OSB_ERR_CLOSED = 17,       /* the server closed the connection without replying */
    OSB_ERR_RANGE = 18         /* a number does not fit the requested C type */
} osb_err;
#define OSB_ERR_COUNT 19

/* Where a transfer was when it failed (osb_error.phase). */
typedef enum osb_phase {
    OSB_PHASE_NONE = 0,
    OSB_PHASE_DNS = 1,
    OSB_PHASE_CONNECT = 2,
    OSB_PHASE_TLS = 3,
    OSB_PHASE_SEND = 4,
    OSB_PHASE_FIRST_BYTE = 5,  /* waiting for the response head */
    OSB_PHASE_IDLE = 6,        /* no byte for longer than the idle deadline */
    OSB_PHASE_TOTAL = 7        /* the total deadline of a non-streaming call */
} osb_phase;

/* The detail of the last failure. Strings are NUL-terminated and empty when
 * unknown; they never contain credentials. */
typedef struct osb_error {
    osb_err code;
    osb_phase phase;
    int http_status;          /* 0 if no status line was received */
    int sys_errno;            /* errno (or WSA error) of a failed system call */
    int tls_error;            /* BearSSL error code, 0 if none */
    int retryable;            /* 1 if repeating the same call may succeed */
    int attempts;             /* how many times the request was sent */
    int64_t retry_after_ms;   /* from a Retry-After header, -1 if none */
    uint64_t offset;          /* byte offset of a parse error / bytes received */
    char server_code[64];     /* "code" of the server's error body */
    char request_id[80];      /* X-Request-ID of the failed exchange */
    char message[512];        /* what went wrong, for people */
} osb_error;

/* A runtime allocator. ctx is passed back to every function. NULL functions
 * (or a NULL osb_allocator pointer) mean the C library's. */
typedef struct osb_allocator {
    void *(*alloc)(void *ctx, size_t size);
    void *(*realloc)(void *ctx, void *ptr, size_t old_size, size_t new_size);
    void (*free)(void *ctx, void *ptr);
    void *ctx;
} osb_allocator;

/* A string slice: not necessarily NUL-terminated. */
typedef struct osb_str {
    const char *ptr;
    size_t len;
} osb_str;

/* Consumes len bytes of output; return 0 to go on, non-zero to stop the
 * transfer (it then fails with OSB_ERR_CANCELLED). */
typedef int (*osb_write_fn)(void *user, const void *data, size_t len);

/* Fills up to cap bytes of buf; returns the count, 0 at the end, -1 on error
 * (the transfer then fails with OSB_ERR_IO). */
typedef ptrdiff_t (*osb_read_fn)(void *user, void *buf, size_t cap);

/* A growable byte buffer. Zero-initialise it (or osb_buf_init), append, then
 * osb_buf_free. data is always NUL-terminated after a successful append. A
 * failed append leaves the buffer as it was and sets 'failed'. */
typedef struct osb_buf {
    char *data;
    size_t len;
    size_t cap;
    size_t max;                      /* 0 = no limit; beyond it: OSB_ERR_TOO_LARGE */
    const osb_allocator *allocator;  /* NULL = libc */
    osb_err failed;
} osb_buf;

OSB_API const char *osb_version(void);          /* OSB_VERSION_STRING */
OSB_API const char *osb_build_config(void);     /* e.g. "tls=bearssl pool=4" */
OSB_API const char *osb_strerror(osb_err code); /* never NULL */
OSB_API const char *osb_phase_name(osb_phase phase);

OSB_API void osb_buf_init(osb_buf *b, const osb_allocator *allocator);
OSB_API osb_err osb_buf_append(osb_buf *b, const void *data, size_t len);
OSB_API osb_err osb_buf_append_str(osb_buf *b, const char *s);
OSB_API osb_err osb_buf_reserve(osb_buf *b, size_t extra);
OSB_API void osb_buf_free(osb_buf *b);
/* An osb_write_fn that appends to the osb_buf passed as user. */
OSB_API int osb_buf_sink(void *user, const void *data, size_t len);

/* >>tokens (declarations are added by the tokenizer part) */
/* >>http */
/* >>transport */

#ifdef __cplusplus
}
#endif
#endif /* OPENSANDBOX_H_INCLUDED */

/* >>impl =================================================================== */
#if defined(OPENSANDBOX_IMPLEMENTATION) && !defined(OSB__IMPLEMENTED)
#define OSB__IMPLEMENTED

#include <string.h>
#include <stdlib.h>
#include <stdio.h>
#include <errno.h>

#ifndef OSB_TLS
#  define OSB_TLS 0
#endif
#if OSB_TLS != 0 && OSB_TLS != 1
#  error "OSB_TLS must be 0 (no TLS) or 1 (BearSSL)"
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* >>impl-core -------------------------------------------------------------- */

#define OSB__STR2(x) #x
#define OSB__STR(x) OSB__STR2(x)
#define OSB__UNUSED(x) ((void)(x))
#define OSB__MIN(a, b) ((a) < (b) ? (a) : (b))
/* Small internal helpers that not every configuration uses. */
#if defined(__GNUC__) || defined(__clang__)
#  define OSB__HELPER static __attribute__((unused))
#else
#  define OSB__HELPER static
#endif

OSB_API const char *osb_version(void) { return OSB_VERSION_STRING; }

OSB_API const char *osb_strerror(osb_err code) {
    switch (code) {
    case OSB_OK: return "ok";
    case OSB_ERR_INVALID_ARG: return "invalid argument";
    case OSB_ERR_NOMEM: return "out of memory";
    case OSB_ERR_DNS: return "host name not resolved";
    case OSB_ERR_CONNECT: return "connection failed";
    case OSB_ERR_TIMEOUT: return "timed out";
    case OSB_ERR_TLS: return "TLS failure";
    case OSB_ERR_PROTOCOL: return "malformed HTTP from the server";
    case OSB_ERR_TRUNCATED: return "response truncated";
    case OSB_ERR_TOO_LARGE: return "size limit exceeded";
    case OSB_ERR_HTTP: return "HTTP error status";
    case OSB_ERR_JSON: return "invalid JSON";
    case OSB_ERR_CANCELLED: return "cancelled";
    case OSB_ERR_UNSUPPORTED: return "not supported";
    case OSB_ERR_IO: return "local I/O error";
    case OSB_ERR_SERVER: return "server reported an error";
    case OSB_ERR_STATE: return "invalid state for this call";
    case OSB_ERR_CLOSED: return "connection closed without a response";
    case OSB_ERR_RANGE: return "number out of range";
    }
    return "unknown error";
}

OSB_API const char *osb_phase_name(osb_phase phase) {
    static const char *const names[] = {"none", "dns", "connect", "tls", "send",
                                        "first byte", "idle", "total"};
    if ((unsigned)phase < sizeof names / sizeof names[0]) return names[phase];
    return "unknown";
}

/* Allocation goes through these three; a NULL allocator means libc. */
OSB__HELPER void *osb__alloc(const osb_allocator *a, size_t size) {
    if (size == 0) size = 1;
    if (a && a->alloc) return a->alloc(a->ctx, size);
    return malloc(size);
}

OSB__HELPER void *osb__realloc(const osb_allocator *a, void *p, size_t old_size, size_t new_size) {
    if (new_size == 0) new_size = 1;
    if (a && a->realloc) return a->realloc(a->ctx, p, old_size, new_size);
    if (a && a->alloc) {
        /* an allocator without realloc: move by hand */
        void *q = a->alloc(a->ctx, new_size);
        if (!q) return NULL;
        if (p) {
            memcpy(q, p, OSB__MIN(old_size, new_size));
            if (a->free) a->free(a->ctx, p);
        }
        return q;
    }
    return realloc(p, new_size);
}

OSB__HELPER void osb__free(const osb_allocator *a, void *p) {
    if (!p) return;
    if (a && a->free) a->free(a->ctx, p);
    else if (!(a && a->alloc)) free(p);
}

/* Checked size arithmetic: 0 on overflow. */
OSB__HELPER int osb__add_ok(size_t a, size_t b, size_t *out) {
    if (a > (size_t)-1 - b) return 0;
    *out = a + b;
    return 1;
}

OSB__HELPER int osb__mul_ok(size_t a, size_t b, size_t *out) {
    if (a != 0 && b > (size_t)-1 / a) return 0;
    *out = a * b;
    return 1;
}

OSB__HELPER char *osb__strndup(const osb_allocator *a, const char *s, size_t n) {
    char *p = (char *)osb__alloc(a, n + 1);
    if (!p) return NULL;
    if (n) memcpy(p, s, n);
    p[n] = 0;
    return p;
}

/* Copies src into a fixed field, always terminating, cutting on a UTF-8
 * character boundary so the result stays valid text. */
OSB__HELPER void osb__copy_field(char *dst, size_t cap, const char *src, size_t n) {
    if (cap == 0) return;
    if (n >= cap) {
        n = cap - 1;
        while (n > 0 && ((unsigned char)src[n] & 0xC0) == 0x80) n--;
    }
    if (n) memcpy(dst, src, n);
    dst[n] = 0;
}

OSB__HELPER int osb__lower(int c) { return (c >= 'A' && c <= 'Z') ? c + 32 : c; }

OSB__HELPER int osb__ieq(const char *a, size_t an, const char *b) {
    size_t i;
    for (i = 0; i < an; i++)
        if (b[i] == 0 || osb__lower((unsigned char)a[i]) != osb__lower((unsigned char)b[i]))
            return 0;
    return b[an] == 0;
}

OSB_API void osb_buf_init(osb_buf *b, const osb_allocator *allocator) {
    memset(b, 0, sizeof *b);
    b->allocator = allocator;
}

OSB_API osb_err osb_buf_reserve(osb_buf *b, size_t extra) {
    size_t need, cap;
    char *p;
    if (b->failed) return b->failed;
    if (!osb__add_ok(b->len, extra, &need) || !osb__add_ok(need, 1, &need))
        return b->failed = OSB_ERR_TOO_LARGE;
    if (b->max && need - 1 > b->max) return b->failed = OSB_ERR_TOO_LARGE;
    if (need <= b->cap) return OSB_OK;
    cap = b->cap ? b->cap : 64;
    while (cap < need) {
        if (cap > (size_t)-1 / 2) { cap = need; break; }
        cap *= 2;
    }
    p = (char *)osb__realloc(b->allocator, b->data, b->cap, cap);
    if (!p) return b->failed = OSB_ERR_NOMEM;
    b->data = p;
    b->cap = cap;
    return OSB_OK;
}

OSB_API osb_err osb_buf_append(osb_buf *b, const void *data, size_t len) {
    osb_err e = osb_buf_reserve(b, len);
    if (e) return e;
    if (len) memcpy(b->data + b->len, data, len);
    b->len += len;
    b->data[b->len] = 0;
    return OSB_OK;
}

OSB_API osb_err osb_buf_append_str(osb_buf *b, const char *s) {
    return osb_buf_append(b, s, strlen(s));
}

OSB_API void osb_buf_free(osb_buf *b) {
    osb__free(b->allocator, b->data);
    b->data = NULL;
    b->len = b->cap = 0;
    b->failed = OSB_OK;
}

OSB_API int osb_buf_sink(void *user, const void *data, size_t len) {
    return osb_buf_append((osb_buf *)user, data, len) != OSB_OK;
}

/* >>impl-tokens */
/* >>impl-http */
/* >>impl-transport */

OSB_API const char *osb_build_config(void) {
    return "version=" OSB_VERSION_STRING
#if OSB_TLS
           " tls=bearssl"
#else
           " tls=none"
#endif
        ;
}

#ifdef __cplusplus
}
#endif
#endif /* OPENSANDBOX_IMPLEMENTATION */

/*
 * MIT License
 *
 * Copyright (c) 2026 the opensandbox.h authors
 *
 * Permission is hereby granted, free of charge, to any person obtaining a copy
 * of this software and associated documentation files (the "Software"), to deal
 * in the Software without restriction, including without limitation the rights
 * to use, copy, modify, merge, publish, distribute, sublicense, and/or sell
 * copies of the Software, and to permit persons to whom the Software is
 * furnished to do so, subject to the following conditions:
 *
 * The above copyright notice and this permission notice shall be included in
 * all copies or substantial portions of the Software.
 *
 * THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR
 * IMPLIED, INCLUDING BUT NOT LIMITED TO THE WARRANTIES OF MERCHANTABILITY,
 * FITNESS FOR A PARTICULAR PURPOSE AND NONINFRINGEMENT. IN NO EVENT SHALL THE
 * AUTHORS OR COPYRIGHT HOLDERS BE LIABLE FOR ANY CLAIM, DAMAGES OR OTHER
 * LIABILITY, WHETHER IN AN ACTION OF CONTRACT, TORT OR OTHERWISE, ARISING FROM,
 * OUT OF OR IN CONNECTION WITH THE SOFTWARE OR THE USE OR OTHER DEALINGS IN THE
 * SOFTWARE.
 */
