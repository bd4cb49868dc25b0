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
 *   >>manual      this text
 *   >>core        errors, allocator, string slices, growable buffer
 *   >>json >>jsonw >>bind >>sse >>multipart >>url
 *                 tokenizers and writers (no I/O; only the binding allocates)
 *   >>http        HTTP/1.1 response head parser and chunked decoder
 *   >>tls         HTTPS through BearSSL: trust anchors, host names, limits
 *   >>transport   URLs, clients, timeouts, keep-alive pool, raw requests
 *   >>rest        targets (execd / egress endpoints), error classes, retries
 *   >>lifecycle >>diagnostics >>egress
 *                 every Lifecycle, Diagnostics and Egress operation
 *   >>execd       every execd operation: commands, sessions, code, files,
 *                 directories, metrics; event streams and executions
 *   >>config >>sandbox >>manager
 *                 configuration, the sandbox handle, listing and killing
 *   >>impl        the implementation (only with OPENSANDBOX_IMPLEMENTATION)
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
 *   file (then only that file can use the library). Include the header before
 *   any system header in the implementation file (it asks for POSIX
 *   declarations), or compile with -D_DEFAULT_SOURCE / -std=gnu99.
 *
 *   On Windows link with ws2_32. With TLS (OSB_TLS=1) link with -lbearssl.
 *
 * TL;DR
 * =====
 *       #define OPENSANDBOX_IMPLEMENTATION
 *       #include "opensandbox.h"
 *       #include <stdio.h>
 *
 *       static int show(void *user, const osb_event *ev) {
 *           (void)user;
 *           if (ev->type == OSB_EVENT_STDOUT) printf("%s\n", ev->text.ptr);
 *           return 0;                      // non-zero would stop the stream
 *       }
 *
 *       int main(void) {
 *           osb_config cfg;                // domain and key from the environment
 *           osb_client *c = NULL;          // (OPEN_SANDBOX_DOMAIN, ..._API_KEY)
 *           osb_sandbox_create_req req;    // or ~/.opensandbox/config.toml
 *           osb_sandbox *sb = NULL;
 *           osb_execution x;
 *           memset(&cfg, 0, sizeof cfg);   // zero means "default" everywhere
 *           memset(&req, 0, sizeof req);
 *           memset(&x, 0, sizeof x);
 *           if (osb_config_load(&cfg) || osb_client_new(&cfg.client, &c)) return 1;
 *           req.image = "python:3.11";
 *           if (osb_sandbox_open(c, &req, NULL, &sb) == OSB_OK) {
 *               if (osb_sandbox_run(sb, "echo hello", show, NULL, &x) == OSB_OK)
 *                   printf("exit code %d\n", x.exit_code);
 *               osb_execution_free(&x);
 *               osb_sandbox_kill(sb);
 *               osb_sandbox_close(sb);
 *           } else {
 *               fprintf(stderr, "%s\n", osb_client_error(c)->message);
 *           }
 *           osb_client_free(c);
 *           return 0;
 *       }
 *
 * THREADS
 * =======
 *   One osb_client is used by one thread at a time (as a libcurl easy handle).
 *   Separate clients share nothing, so one client per thread needs no locks.
 *   The library keeps no global state and never touches signal dispositions:
 *   SIGPIPE is suppressed on each send (MSG_NOSIGNAL / SO_NOSIGPIPE). The
 *   tokenizers are plain functions on caller-owned structs and are safe on any
 *   thread. Where OSB_RESOLVER_THREAD is 1 (Linux, macOS, the BSDs), a host
 *   name is resolved on a short-lived detached thread so that the connect
 *   deadline bounds DNS too; address literals never start one.
 *
 * MEMORY
 * ======
 *   Every allocation goes through the client's osb_allocator (alloc, realloc
 *   with the old size, free, and a context pointer). A NULL allocator means
 *   malloc/realloc/free. The tokenizers never allocate. Response bodies flow
 *   through a fixed buffer into a sink callback: memory does not grow with the
 *   size of a download or the length of a stream. Every result (a struct
 *   decoded from a response) is one block, freed with osb_result_free(). The
 *   one exception to the allocator rule is the resolver thread's job (a few
 *   hundred bytes from malloc), which may outlive the client when a lookup
 *   passes its deadline.
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
 *   Built with OSB_TLS=1 (link -lbearssl), https URLs go through BearSSL:
 *   TLS 1.2, ECDHE with AEAD suites, the chain checked against trust anchors
 *   (osb_tls_config.ca_file / ca_pem, then $SSL_CERT_FILE, $SSL_CERT_DIR, the
 *   system bundle, anchors compiled in; none found is an error, never "skip
 *   verification") and the host name always checked (IP literals against the
 *   certificate's IP addresses). The >>tls section says the rest. With
 *   OSB_TLS=0 (the default) an https URL fails with OSB_ERR_UNSUPPORTED.
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
 *     OSB_IO_BUFFER            65536   receive buffer per connection (also
 *                                      stages streamed request bodies)
 *     OSB_ERROR_BODY_MAX       4096    bytes of an error body read for its detail
 *     OSB_BODY_MAX             16 MiB  a response body collected in memory
 *     OSB_JSON_MAX_DEPTH       64      nesting of JSON arrays and objects
 *     OSB_SSE_MAX_EVENT        16 MiB  one event of an event stream
 *     OSB_STREAM_BUFFER        16384   first size of a stream's event buffer
 *     OSB_TLS_MAX_CERT         16384   server certificate kept for IP hosts
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
 *     OSB_RESOLVER_THREAD   1 on Linux/BSD/macOS: bound DNS by the deadline
 *     OSB_TLS_HALF_DUPLEX     0   1 = 24 KB per TLS connection instead of 40 KB
 *     OSB_TLS_EMBEDDED_ANCHORS    br_x509_trust_anchor array compiled in (with
 *                                 OSB_TLS_EMBEDDED_ANCHORS_NUM), tried last
 *     OSB_EXECD_PORT      44772   execd's port inside a sandbox
 *     OSB_EGRESS_PORT     18080   the egress sidecar's port
 *     OSB_DEFAULT_SANDBOX_TIMEOUT_S  600    time to live of a new sandbox
 *     OSB_DEFAULT_READY_TIMEOUT_MS   30000  wait for a new sandbox's execd
 *     OSB_DEFAULT_READY_POLL_MS      200    first wait between readiness probes
 */
/* The implementation needs POSIX declarations (sockets, poll, clock_gettime)
 * even under -std=c99; this only works if nothing was included before. */
#if defined(OPENSANDBOX_IMPLEMENTATION) && !defined(_WIN32) && !defined(_POSIX_C_SOURCE) && \
    !defined(_GNU_SOURCE) && !defined(_XOPEN_SOURCE) && !defined(_DEFAULT_SOURCE)
#  define _POSIX_C_SOURCE 200809L
#endif

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

/* >>tokens */
/* (during development the parts live in parts/; they are merged into this
   file before a release, and these includes go away) */
#ifdef OPENSANDBOX_IMPLEMENTATION
#  undef OPENSANDBOX_IMPLEMENTATION
#  define OSB__IMPL_WAS_ON
#endif
#include "parts/tokens.h"
#ifdef OSB__IMPL_WAS_ON
#  define OPENSANDBOX_IMPLEMENTATION
#  undef OSB__IMPL_WAS_ON
#endif

/* >>http ================================================================== */

/* One header field of a parsed head: slices into the caller's buffer. */
typedef struct osb_http_header {
    osb_str name;
    osb_str value;
} osb_http_header;

/* What osb_http_parse_response found. */
typedef struct osb_http_head {
    int minor_version;        /* 1 for HTTP/1.1, 0 for HTTP/1.0 */
    int status;               /* 100..599 */
    osb_str reason;
    osb_http_header *headers; /* caller's array ... */
    size_t num_headers;       /* ... in: its capacity; out: fields found */
} osb_http_head;

#define OSB_HTTP_INCOMPLETE (-2)  /* need more bytes */
#define OSB_HTTP_MALFORMED (-1)   /* not HTTP/1.x as RFC 9112 writes it */
#define OSB_HTTP_TOO_LARGE (-3)   /* a line, the field count or the head is over its limit */

/* Parses a response head (status line, fields, blank line) at the start of
 * buf[0..len). Returns the head's length in bytes when complete, or one of
 * OSB_HTTP_INCOMPLETE / OSB_HTTP_MALFORMED / OSB_HTTP_TOO_LARGE. Strict: lines
 * end in CRLF, no obsolete line folding, no space before the colon, field
 * values without control characters; the slices point into buf. Stateless:
 * after OSB_HTTP_INCOMPLETE call again with more bytes. Never allocates. */
OSB_API int osb_http_parse_response(const char *buf, size_t len, osb_http_head *head);

/* Incremental decoder of a chunked body (RFC 9112 §7.1). Zero-initialise. */
typedef struct osb_chunked {
    int state;
    uint64_t remaining;      /* data bytes left in the current chunk */
    size_t line_len;         /* bytes of the current size / trailer line */
    int digits;              /* hex digits of the size seen */
    size_t trailer_bytes;    /* total trailer bytes, capped */
    int done;                /* 1 once the last chunk and the trailers are read */
} osb_chunked;

/* Feeds len bytes of the chunked body. Returns the number of bytes consumed
 * (>= 0), or OSB_HTTP_MALFORMED / OSB_HTTP_TOO_LARGE. When it stops at body
 * data, *data and *data_len name that run inside buf (no copy); otherwise
 * *data_len is 0. Call again with the rest until everything is consumed or
 * d->done. Bytes after the end of the body are not consumed. */
OSB_API ptrdiff_t osb_chunked_feed(osb_chunked *d, const char *buf, size_t len,
                                   const char **data, size_t *data_len);

/* >>tls (declarations) */
/* (during development the parts live in parts/; they are merged into this
   file before a release, and these includes go away) */
#ifdef OPENSANDBOX_IMPLEMENTATION
#  undef OPENSANDBOX_IMPLEMENTATION
#  define OSB__IMPL_WAS_ON
#endif
#include "parts/tls.h"
#ifdef OSB__IMPL_WAS_ON
#  define OPENSANDBOX_IMPLEMENTATION
#  undef OSB__IMPL_WAS_ON
#endif

/* >>transport ============================================================= */

/* A parsed URL: http or https, host (IPv6 literals without brackets), port,
 * and the path prefix (without a trailing slash; "" for none). */
typedef struct osb_url {
    int https;
    char host[256];
    uint16_t port;
    char prefix[512];
} osb_url;

/* Parses "http://host:port/prefix", "https://[::1]/x" or, without a scheme,
 * "host:port/prefix" (then default_https chooses). Userinfo, query and
 * fragment are refused (OSB_ERR_INVALID_ARG). */
OSB_API osb_err osb_url_parse(const char *text, int default_https, osb_url *out);

typedef struct osb_client osb_client;

/* Timeouts in milliseconds; 0 takes the default, a negative value disables. */
typedef struct osb_timeouts {
    int connect_ms;     /* DNS + TCP (+ TLS) connect; default OSB_CONNECT_TIMEOUT_MS */
    int first_byte_ms;  /* request sent -> first response byte; default OSB_FIRST_BYTE_TIMEOUT_MS */
    int idle_ms;        /* longest gap between two received bytes; default OSB_IDLE_TIMEOUT_MS */
    int total_ms;       /* whole call, never applied to streams; default OSB_TOTAL_TIMEOUT_MS */
} osb_timeouts;

/* Automatic retries of REST calls (never of streams, never of the raw
 * request API). The contract: GET/HEAD/PUT/DELETE are retried after
 * connection failures and on 429, 502, 503 and 504; POST and PATCH only when
 * the request provably never left (DNS failure, connection refused) and on
 * 429 and 502. Backoff doubles from initial_ms up to max_ms with random
 * jitter; a Retry-After header is honoured up to 60 s and never past the
 * call's total deadline. A budget per client (one token per retry, a tenth
 * of one back per success) stops retries from multiplying load. */
typedef struct osb_retry {
    int max_retries;   /* retries per call; 0 = 2, negative = none */
    int initial_ms;    /* first backoff; 0 = 500 */
    int max_ms;        /* longest backoff; 0 = 30000 */
    int budget;        /* retry tokens per client; 0 = 10 */
} osb_retry;

/* How a client talks to the lifecycle server. Zero-initialise, set what you
 * need. Strings are copied by osb_client_new. */
typedef struct osb_client_config {
    const char *domain;            /* "host:port", "http://host:port", optionally with a path
                                      prefix; a trailing "/v1" is accepted and not doubled */
    const char *protocol;          /* "http" (default) or "https" when domain has no scheme */
    const char *api_key;           /* sent as OPEN-SANDBOX-API-KEY, to the lifecycle origin only */
    const char *user_agent;        /* default "opensandbox-c/<version>" */
    const char *const *headers;    /* extra "Name: value" lines for lifecycle requests, NULL-terminated */
    osb_timeouts timeouts;
    osb_retry retry;
    int pool_max;                  /* idle keep-alive connections kept; 0 = OSB_POOL_MAX, <0 = none */
    const osb_allocator *allocator;/* NULL = libc; must outlive the client */
    osb_tls_config tls;
} osb_client_config;

/* Creates a client. On failure *out is NULL and the return code says why. */
OSB_API osb_err osb_client_new(const osb_client_config *cfg, osb_client **out);
/* Closes pooled connections and frees the client. NULL is fine. */
OSB_API void osb_client_free(osb_client *c);
/* The detail of the last failed call on this client (never NULL). */
OSB_API const osb_error *osb_client_error(const osb_client *c);
/* The lifecycle base URL as parsed, e.g. scheme, host, port, prefix "/v1". */
OSB_API const osb_url *osb_client_url(const osb_client *c);
/* Idle connections currently pooled (for tests and diagnostics). */
OSB_API int osb_client_pooled(const osb_client *c);

/* Called for each response header; return non-zero to cancel. */
typedef int (*osb_header_fn)(void *user, osb_str name, osb_str value);

/* One HTTP request. Zero-initialise; only what you set is used. */
typedef struct osb_http_request {
    const char *method;            /* NULL = "GET" */
    const char *url;               /* absolute URL (another origin: no API key sent) ... */
    const char *path;              /* ... or a path under the lifecycle URL, e.g. "/v1/sandboxes".
                                      Already percent-encoded; spaces and controls are refused */
    const char *query;             /* encoded query without '?', or NULL */
    const char *const *headers;    /* "Name: value" lines, NULL-terminated, validated */
    const char *content_type;      /* for the body */
    const void *body;              /* body in memory ... */
    size_t body_len;
    osb_read_fn body_reader;       /* ... or read from here (body == NULL) */
    void *body_reader_user;
    int64_t body_reader_len;       /* length of the reader's body; -1 = unknown (chunked) */
    osb_write_fn sink;             /* response body goes here; NULL = into response->body */
    void *sink_user;
    osb_header_fn on_header;       /* optional: every response header */
    void *on_header_user;
    int stream;                    /* 1 = no total deadline (event streams, long downloads) */
    int idempotent;                /* 0 = by method (GET HEAD PUT DELETE OPTIONS), 1 yes, -1 no */
    int accept_error_body;         /* 1 = a non-2xx status is not an error (body still read) */
    const volatile int *cancel;    /* optional: non-zero stops the transfer (checked between reads) */
    osb_timeouts timeouts;         /* 0 fields = the client's */
    size_t max_body;               /* cap for the in-memory body; 0 = 16 MiB */
} osb_http_request;

/* What came back. The library fills it; free with osb_http_response_free. */
typedef struct osb_http_response {
    int status;
    int64_t content_length;        /* -1 if not given */
    uint64_t body_bytes;           /* body bytes delivered */
    int64_t retry_after_ms;        /* -1 if none */
    char request_id[80];
    char content_type[128];
    osb_buf body;                  /* the body, when no sink was given (capped by max_body) */
} osb_http_response;

/* Sends one request and reads the whole response, delivering the body to the
 * sink (or into response->body). A non-2xx status is OSB_ERR_HTTP (the body,
 * up to 4 KiB, is read to fill the error detail) unless accept_error_body.
 * Connections are reused; a request on a pooled connection that the server
 * had already closed is sent again once if it is idempotent and no byte of a
 * response arrived. Nothing is retried otherwise. */
OSB_API osb_err osb_request_raw(osb_client *c, const osb_http_request *req,
                                osb_http_response *response);
OSB_API void osb_http_response_free(osb_http_response *response);

/* The pull form: open the request, then read the body piece by piece. */
typedef struct osb_body osb_body;
/* Sends the request and reads the response head. On success *out reads the
 * body; response gets status and headers (response->body stays empty). */
OSB_API osb_err osb_request_open(osb_client *c, const osb_http_request *req,
                                 osb_http_response *response, osb_body **out);
/* Next piece of the body: *data points into an internal buffer valid until
 * the next call; *len == 0 means the body ended cleanly. */
OSB_API osb_err osb_body_read(osb_body *b, const void **data, size_t *len);
/* Ends the exchange (an unfinished body closes the connection). */
OSB_API void osb_body_close(osb_body *b);


/* >>rest ================================================================== */

/* Where an execd or egress call goes: the endpoint's base URL and the headers
 * the lifecycle server said to forward with every request to it (access
 * tokens, routing headers). The lifecycle API key is never sent there.
 * Build one from an endpoint with osb_target_from_endpoint, or by hand. */
typedef struct osb_target {
    const char *url;              /* "http://host:port/prefix"; without a scheme the
                                     client's protocol is used */
    const char *const *headers;   /* "Name: value" lines, NULL-terminated; may be NULL */
} osb_target;

/* Error classes, from the detail of a failed call (osb_client_error). */
OSB_API int osb_error_is_not_found(const osb_error *e);     /* HTTP 404 */
OSB_API int osb_error_is_conflict(const osb_error *e);      /* HTTP 409 */
OSB_API int osb_error_is_unauthorized(const osb_error *e);  /* HTTP 401 or 403 */
OSB_API int osb_error_is_rate_limited(const osb_error *e);  /* HTTP 429 */
OSB_API int osb_error_is_capacity(const osb_error *e);      /* HTTP 503 or 507: no room now */
/* 1 when repeating the same call later may succeed (connection failures
 * before anything was sent, timeouts of idempotent calls, 429/502/503/504). */
OSB_API int osb_error_is_retryable(const osb_error *e);

#ifdef __cplusplus
}
#endif

/* >>lifecycle >>execd */
#ifdef OPENSANDBOX_IMPLEMENTATION
#  undef OPENSANDBOX_IMPLEMENTATION
#  define OSB__IMPL_WAS_ON
#endif
#include "parts/lifecycle.h"
#include "parts/execd.h"
#include "parts/sandbox.h"
#ifdef OSB__IMPL_WAS_ON
#  define OPENSANDBOX_IMPLEMENTATION
#  undef OSB__IMPL_WAS_ON
#endif
#endif /* OPENSANDBOX_H_INCLUDED */

/* >>impl =================================================================== */
#if defined(OPENSANDBOX_IMPLEMENTATION) && !defined(OSB__IMPLEMENTED)
#define OSB__IMPLEMENTED

#include <string.h>
#include <stdlib.h>
#include <stdio.h>
#include <stdarg.h>
#include <errno.h>
#include <time.h>
#ifdef _WIN32
#  include <winsock2.h>
#  include <ws2tcpip.h>
#  include <windows.h>
#else
#  include <sys/types.h>
#  include <sys/socket.h>
#  include <netdb.h>
#  include <netinet/in.h>
#  include <netinet/tcp.h>
#  include <unistd.h>
#  include <fcntl.h>
#  include <poll.h>
#endif
#ifndef OSB_RESOLVER_THREAD
#  if defined(__linux__) || defined(__APPLE__) || defined(__FreeBSD__) || defined(__NetBSD__) || defined(__OpenBSD__)
#    define OSB_RESOLVER_THREAD 1
#  else
#    define OSB_RESOLVER_THREAD 0
#  endif
#endif
#if OSB_RESOLVER_THREAD
#  include <pthread.h>
#endif

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
#include "parts/tokens.h"

/* >>impl-http -------------------------------------------------------------- */

#ifndef OSB_HTTP_MAX_LINE
#  define OSB_HTTP_MAX_LINE 8192
#endif
#ifndef OSB_HTTP_MAX_HEADERS
#  define OSB_HTTP_MAX_HEADERS 100
#endif
#ifndef OSB_HTTP_MAX_HEAD
#  define OSB_HTTP_MAX_HEAD 65536
#endif
#ifndef OSB_HTTP_MAX_CHUNK_LINE
#  define OSB_HTTP_MAX_CHUNK_LINE 4096
#endif
#ifndef OSB_HTTP_MAX_INTERIM
#  define OSB_HTTP_MAX_INTERIM 10
#endif

/* RFC 9110 tchar */
static int osb__is_tchar(unsigned char c) {
    if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) return 1;
    return c != 0 && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

/* A field value may hold visible characters, spaces, tabs and obs-text. */
static int osb__is_field_char(unsigned char c) { return c == '\t' || (c >= 0x20 && c != 0x7f); }

/* Finds the end of the line starting at p: returns the line length without
 * CRLF, -2 if no CRLF yet, -1 on a bare CR or LF, -3 when over max. */
static ptrdiff_t osb__line_end(const char *p, size_t avail, size_t max) {
    size_t i;
    for (i = 0; i < avail; i++) {
        if (p[i] == '\r') {
            if (i + 1 == avail) return i > max ? -3 : -2;
            if (p[i + 1] != '\n') return -1;
            return i > max ? -3 : (ptrdiff_t)i;
        }
        if (p[i] == '\n') return -1;
        if (i >= max) return -3;
    }
    return -2;
}

static int osb__parse_status_line(const char *p, size_t n, osb_http_head *h) {
    size_t i;
    if (n < 12 || memcmp(p, "HTTP/1.", 7) != 0) return OSB_HTTP_MALFORMED;
    if (p[7] != '0' && p[7] != '1') return OSB_HTTP_MALFORMED;
    h->minor_version = p[7] - '0';
    if (p[8] != ' ') return OSB_HTTP_MALFORMED;
    for (i = 9; i < 12; i++)
        if (p[i] < '0' || p[i] > '9') return OSB_HTTP_MALFORMED;
    h->status = (p[9] - '0') * 100 + (p[10] - '0') * 10 + (p[11] - '0');
    if (h->status < 100 || h->status > 599) return OSB_HTTP_MALFORMED;
    if (n == 12) { /* reason phrase left out entirely: tolerated */
        h->reason.ptr = p + 12;
        h->reason.len = 0;
        return 0;
    }
    if (p[12] != ' ') return OSB_HTTP_MALFORMED;
    for (i = 13; i < n; i++)
        if (!osb__is_field_char((unsigned char)p[i])) return OSB_HTTP_MALFORMED;
    h->reason.ptr = p + 13;
    h->reason.len = n - 13;
    return 0;
}

static int osb__parse_field(const char *p, size_t n, osb_http_header *f) {
    size_t colon = 0, b, e, i;
    while (colon < n && osb__is_tchar((unsigned char)p[colon])) colon++;
    /* an empty name, a space before the colon or a leading space (obs-fold) */
    if (colon == 0 || colon == n || p[colon] != ':') return OSB_HTTP_MALFORMED;
    b = colon + 1;
    e = n;
    while (b < e && (p[b] == ' ' || p[b] == '\t')) b++;
    while (e > b && (p[e - 1] == ' ' || p[e - 1] == '\t')) e--;
    for (i = b; i < e; i++)
        if (!osb__is_field_char((unsigned char)p[i])) return OSB_HTTP_MALFORMED;
    f->name.ptr = p;
    f->name.len = colon;
    f->value.ptr = p + b;
    f->value.len = e - b;
    return 0;
}

OSB_API int osb_http_parse_response(const char *buf, size_t len, osb_http_head *head) {
    size_t pos = 0, cap = head->num_headers, count = 0;
    size_t limit = OSB__MIN(len, (size_t)OSB_HTTP_MAX_HEAD);
    ptrdiff_t n;
    int first = 1;
    head->num_headers = 0;
    for (;;) {
        n = osb__line_end(buf + pos, limit - pos, OSB_HTTP_MAX_LINE);
        if (n == -2) return limit < len || limit == (size_t)OSB_HTTP_MAX_HEAD
                                ? OSB_HTTP_TOO_LARGE : OSB_HTTP_INCOMPLETE;
        if (n == -1) return OSB_HTTP_MALFORMED;
        if (n == -3) return OSB_HTTP_TOO_LARGE;
        if (first) {
            if (osb__parse_status_line(buf, (size_t)n, head)) return OSB_HTTP_MALFORMED;
            first = 0;
        } else if (n == 0) {
            head->num_headers = count;
            return (int)(pos + 2);
        } else {
            osb_http_header f;
            if (buf[pos] == ' ' || buf[pos] == '\t') return OSB_HTTP_MALFORMED; /* obs-fold */
            if (osb__parse_field(buf + pos, (size_t)n, &f)) return OSB_HTTP_MALFORMED;
            if (count >= cap || count >= OSB_HTTP_MAX_HEADERS) return OSB_HTTP_TOO_LARGE;
            head->headers[count++] = f;
        }
        pos += (size_t)n + 2;
    }
}

enum {
    OSB__CH_SIZE = 0,   /* reading hex digits */
    OSB__CH_EXT,        /* after the digits: extensions up to CRLF */
    OSB__CH_SIZE_LF,    /* CR seen at the end of the size line */
    OSB__CH_DATA,
    OSB__CH_DATA_CR,    /* expecting CR after the data */
    OSB__CH_DATA_LF,
    OSB__CH_TRAILER,    /* inside a trailer line (or the final empty line) */
    OSB__CH_TRAILER_LF,
    OSB__CH_DONE
};

static int osb__hexval(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

OSB_API ptrdiff_t osb_chunked_feed(osb_chunked *d, const char *buf, size_t len,
                                   const char **data, size_t *data_len) {
    size_t i = 0;
    *data = NULL;
    *data_len = 0;
    while (i < len) {
        char c = buf[i];
        switch (d->state) {
        case OSB__CH_SIZE: {
            int v = osb__hexval(c);
            if (v >= 0) {
                /* 15 hex digits keep the size below 2^60: no overflow possible */
                if (++d->digits > 15) return OSB_HTTP_TOO_LARGE;
                d->remaining = d->remaining * 16 + (uint64_t)v;
            } else if (d->digits == 0) {
                return OSB_HTTP_MALFORMED;
            } else if (c == ';' || c == ' ' || c == '\t') {
                d->state = OSB__CH_EXT;
            } else if (c == '\r') {
                d->state = OSB__CH_SIZE_LF;
            } else {
                return OSB_HTTP_MALFORMED;
            }
            if (++d->line_len > OSB_HTTP_MAX_CHUNK_LINE) return OSB_HTTP_TOO_LARGE;
            i++;
            break;
        }
        case OSB__CH_EXT:
            if (c == '\r') d->state = OSB__CH_SIZE_LF;
            else if (c == '\n' || (c != '\t' && ((unsigned char)c < 0x20 || c == 0x7f)))
                return OSB_HTTP_MALFORMED;
            if (++d->line_len > OSB_HTTP_MAX_CHUNK_LINE) return OSB_HTTP_TOO_LARGE;
            i++;
            break;
        case OSB__CH_SIZE_LF:
            if (c != '\n') return OSB_HTTP_MALFORMED;
            i++;
            d->line_len = 0;
            d->digits = 0;
            d->state = d->remaining ? OSB__CH_DATA : OSB__CH_TRAILER;
            break;
        case OSB__CH_DATA: {
            size_t take = len - i;
            if ((uint64_t)take > d->remaining) take = (size_t)d->remaining;
            d->remaining -= take;
            if (d->remaining == 0) d->state = OSB__CH_DATA_CR;
            *data = buf + i;
            *data_len = take;
            return (ptrdiff_t)(i + take);
        }
        case OSB__CH_DATA_CR:
            if (c != '\r') return OSB_HTTP_MALFORMED;
            d->state = OSB__CH_DATA_LF;
            i++;
            break;
        case OSB__CH_DATA_LF:
            if (c != '\n') return OSB_HTTP_MALFORMED;
            d->state = OSB__CH_SIZE;
            i++;
            break;
        case OSB__CH_TRAILER:
            if (c == '\r') {
                d->state = OSB__CH_TRAILER_LF;
            } else if (c == '\n') {
                return OSB_HTTP_MALFORMED;
            } else {
                d->line_len++;
                if (d->line_len > OSB_HTTP_MAX_LINE) return OSB_HTTP_TOO_LARGE;
            }
            if (++d->trailer_bytes > OSB_HTTP_MAX_HEAD) return OSB_HTTP_TOO_LARGE;
            i++;
            break;
        case OSB__CH_TRAILER_LF:
            if (c != '\n') return OSB_HTTP_MALFORMED;
            i++;
            if (d->line_len == 0) {
                d->state = OSB__CH_DONE;
                d->done = 1;
                return (ptrdiff_t)i;
            }
            d->line_len = 0;
            d->state = OSB__CH_TRAILER;
            break;
        default: /* done: the rest belongs to whatever follows */
            return (ptrdiff_t)i;
        }
    }
    return (ptrdiff_t)i;
}

/* >>impl-transport --------------------------------------------------------- */

#ifndef OSB_POOL_MAX
#  define OSB_POOL_MAX 4
#endif
#ifndef OSB_POOL_IDLE_MS
#  define OSB_POOL_IDLE_MS 30000
#endif
#ifndef OSB_CONNECT_TIMEOUT_MS
#  define OSB_CONNECT_TIMEOUT_MS 10000
#endif
#ifndef OSB_FIRST_BYTE_TIMEOUT_MS
#  define OSB_FIRST_BYTE_TIMEOUT_MS 30000
#endif
#ifndef OSB_IDLE_TIMEOUT_MS
#  define OSB_IDLE_TIMEOUT_MS 60000
#endif
#ifndef OSB_TOTAL_TIMEOUT_MS
#  define OSB_TOTAL_TIMEOUT_MS 0
#endif
#ifndef OSB_IO_BUFFER
#  define OSB_IO_BUFFER 65536
#endif
#ifndef OSB_ERROR_BODY_MAX
#  define OSB_ERROR_BODY_MAX 4096
#endif
#ifndef OSB_BODY_MAX
#  define OSB_BODY_MAX (16u * 1024u * 1024u)
#endif
#if OSB_IO_BUFFER < 1024
#  error "OSB_IO_BUFFER must be at least 1024"
#endif

static void osb__set_error(osb_error *err, osb_err code, const char *fmt, ...);

/* ---- clock ---- */

static int64_t osb__now_ms(void) {
#ifdef _WIN32
    return (int64_t)GetTickCount64();
#else
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
#endif
}

/* The earlier of two absolute deadlines, where 0 means none. */
static int64_t osb__earlier(int64_t a, int64_t b) {
    if (a == 0) return b;
    if (b == 0) return a;
    return a < b ? a : b;
}

static int64_t osb__deadline_in(int ms) { return ms > 0 ? osb__now_ms() + ms : 0; }

/* ---- errors ---- */

static void osb__set_error(osb_error *err, osb_err code, const char *fmt, ...) {
    va_list ap;
    if (!err) return;
    err->code = code;
    va_start(ap, fmt);
    vsnprintf(err->message, sizeof err->message, fmt, ap);
    va_end(ap);
}

static void osb__reset_error(osb_error *err) {
    memset(err, 0, sizeof *err);
    err->retry_after_ms = -1;
}

/* ---- sockets ---- */

#ifdef _WIN32
typedef SOCKET osb__socket;
#  define OSB__BAD_SOCKET INVALID_SOCKET
#  define osb__sock_close closesocket
#  define osb__sock_errno() WSAGetLastError()
#  define OSB__EINPROGRESS WSAEWOULDBLOCK
#  define OSB__EINTR WSAEINTR
#  define OSB__EAGAIN WSAEWOULDBLOCK
#  define osb__poll WSAPoll
typedef WSAPOLLFD osb__pollfd;
#else
typedef int osb__socket;
#  define OSB__BAD_SOCKET (-1)
#  define osb__sock_close close
#  define osb__sock_errno() errno
#  define OSB__EINPROGRESS EINPROGRESS
#  define OSB__EINTR EINTR
#  define OSB__EAGAIN EAGAIN
#  define osb__poll poll
typedef struct pollfd osb__pollfd;
#endif

#if defined(MSG_NOSIGNAL)
#  define OSB__SEND_FLAGS MSG_NOSIGNAL
#else
#  define OSB__SEND_FLAGS 0
#endif

typedef struct osb__conn {
    osb__socket fd;
    void *tls;                /* TLS engine state, NULL for plain http */
    int https;
    uint16_t port;
    char host[256];
    int64_t idle_since;       /* when it went back to the pool */
    int reused;               /* served an earlier request */
    const volatile int *cancel; /* the running request's cancel flag */
    char *buf;                /* receive buffer */
    size_t cap, start, end;   /* unread bytes are buf[start..end) */
} osb__conn;

static int osb__set_nonblocking(osb__socket fd) {
#ifdef _WIN32
    u_long on = 1;
    return ioctlsocket(fd, FIONBIO, &on) == 0 ? 0 : -1;
#else
    int fl = fcntl(fd, F_GETFL, 0);
    return fl < 0 ? -1 : fcntl(fd, F_SETFL, fl | O_NONBLOCK);
#endif
}

/* Waits until fd is readable (or writable) or the deadline passes.
 * Returns 1 ready, 0 timed out, -1 error, -2 cancelled. */
static int osb__wait(osb__socket fd, int for_write, int64_t deadline, const volatile int *cancel) {
    for (;;) {
        osb__pollfd p;
        int64_t left = deadline ? deadline - osb__now_ms() : -1;
        int r, wait_ms;
        if (cancel && *cancel) return -2;
        if (deadline && left <= 0) return 0;
        /* wake up at least every second so a cancel flag is seen */
        wait_ms = (left < 0 || left > 1000) ? 1000 : (int)left;
        p.fd = fd;
        p.events = for_write ? POLLOUT : POLLIN;
        p.revents = 0;
        r = osb__poll(&p, 1, wait_ms);
        if (r > 0) return 1;
        if (r < 0 && osb__sock_errno() != OSB__EINTR) return -1;
    }
}

static osb_err osb__timeout(osb_error *err, osb_phase phase) {
    osb__set_error(err, OSB_ERR_TIMEOUT, "timed out (%s)", osb_phase_name(phase));
    if (err) err->phase = phase;
    return OSB_ERR_TIMEOUT;
}

/* After a send or recv that returned -1: OSB_OK to try again (interrupted,
 * or the socket became ready before the deadline), else the error. */
static osb_err osb__sock_failure(osb__conn *c, int for_write, int64_t deadline, osb_phase phase,
                                 osb_error *err) {
    int e = osb__sock_errno();
    if (e == OSB__EINTR) return OSB_OK;
    if (e == OSB__EAGAIN || e == EWOULDBLOCK) {
        int w = osb__wait(c->fd, for_write, deadline, c->cancel);
        if (w > 0) return OSB_OK;
        if (w == 0) return osb__timeout(err, phase);
        if (w == -2) {
            osb__set_error(err, OSB_ERR_CANCELLED, "cancelled");
            return OSB_ERR_CANCELLED;
        }
        e = osb__sock_errno();
    }
    osb__set_error(err, OSB_ERR_CONNECT, "%s failed: %s", for_write ? "send" : "receive", strerror(e));
    if (err) {
        err->sys_errno = e;
        err->phase = phase;
    }
    return OSB_ERR_CONNECT;
}

static osb_err osb__sock_send_all(osb__conn *c, const void *data, size_t len, int64_t deadline,
                                  osb_error *err) {
    const char *p = (const char *)data;
    while (len > 0) {
        int chunk = len > 0x40000000u ? 0x40000000 : (int)len;
#ifdef _WIN32
        int n = send(c->fd, p, chunk, 0);
#else
        ptrdiff_t n = send(c->fd, p, (size_t)chunk, OSB__SEND_FLAGS);
#endif
        if (n > 0) {
            p += n;
            len -= (size_t)n;
        } else {
            osb_err e = osb__sock_failure(c, 1, deadline, OSB_PHASE_SEND, err);
            if (e) return e;
        }
    }
    return OSB_OK;
}

/* Receives what is there (at least one byte, or EOF as *got == 0). */
static osb_err osb__sock_recv_some(osb__conn *c, void *buf, size_t cap, size_t *got,
                                   int64_t deadline, osb_phase phase, osb_error *err) {
    int chunk = cap > 0x40000000u ? 0x40000000 : (int)cap;
    *got = 0;
    for (;;) {
#ifdef _WIN32
        int n = recv(c->fd, (char *)buf, chunk, 0);
#else
        ptrdiff_t n = recv(c->fd, buf, (size_t)chunk, 0);
#endif
        if (n >= 0) {
            *got = (size_t)n;
            return OSB_OK;
        } else {
            osb_err e = osb__sock_failure(c, 0, deadline, phase, err);
            if (e) return e;
        }
    }
}

/* >>impl-tls */
#include "parts/tls.h"

/* ---- URLs ---- */

OSB_API osb_err osb_url_parse(const char *text, int default_https, osb_url *out) {
    const char *p = text, *host, *host_end, *port_s = NULL, *path;
    size_t hlen, plen;
    memset(out, 0, sizeof *out);
    if (!text) return OSB_ERR_INVALID_ARG;
    out->https = default_https ? 1 : 0;
    if (strncmp(p, "http://", 7) == 0) { out->https = 0; p += 7; }
    else if (strncmp(p, "https://", 8) == 0) { out->https = 1; p += 8; }
    else if (strstr(p, "://")) return OSB_ERR_INVALID_ARG;   /* another scheme */
    if (*p == '[') {                                           /* IPv6 literal */
        host = p + 1;
        host_end = strchr(host, ']');
        if (!host_end) return OSB_ERR_INVALID_ARG;
        p = host_end + 1;
        if (*p == ':') port_s = ++p;
    } else {
        host = p;
        while (*p && *p != ':' && *p != '/') p++;
        host_end = p;
        if (*p == ':') port_s = ++p;
    }
    hlen = (size_t)(host_end - host);
    if (hlen == 0 || hlen >= sizeof out->host) return OSB_ERR_INVALID_ARG;
    memcpy(out->host, host, hlen);
    out->host[hlen] = 0;
    if (strpbrk(out->host, "@?# \t\r\n%/\\")) return OSB_ERR_INVALID_ARG;
    if (port_s) {
        unsigned long port = 0;
        int digits = 0;
        while (*p >= '0' && *p <= '9') {
            port = port * 10 + (unsigned long)(*p - '0');
            if (++digits > 5 || port > 65535) return OSB_ERR_INVALID_ARG;
            p++;
        }
        if (digits == 0 || port == 0) return OSB_ERR_INVALID_ARG;
        out->port = (uint16_t)port;
    } else {
        out->port = out->https ? 443 : 80;
    }
    if (*p && *p != '/') return OSB_ERR_INVALID_ARG;
    path = p;
    plen = strlen(path);
    while (plen > 0 && path[plen - 1] == '/') plen--;
    if (plen >= sizeof out->prefix) return OSB_ERR_INVALID_ARG;
    {
        size_t i;
        for (i = 0; i < plen; i++) {
            unsigned char ch = (unsigned char)path[i];
            if (ch <= 0x20 || ch == 0x7f || ch == '?' || ch == '#') return OSB_ERR_INVALID_ARG;
        }
    }
    memcpy(out->prefix, path, plen);
    out->prefix[plen] = 0;
    return OSB_OK;
}

/* ---- connections ---- */

static void osb__conn_close(osb__conn *c, const osb_allocator *a) {
    if (!c) return;
#if OSB_TLS
    if (c->tls) osb__tls_close(c, a);
#endif
    if (c->fd != OSB__BAD_SOCKET) osb__sock_close(c->fd);
    osb__free(a, c->buf);
    osb__free(a, c);
}

/* Connects to one resolved address, waiting until the deadline. */
static int osb__connect_one(const struct addrinfo *ai, int64_t deadline, osb__socket *out,
                            int *sys_err, int *timed_out) {
    osb__socket fd = socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol);
    int one = 1, r;
    *timed_out = 0;
    if (fd == OSB__BAD_SOCKET) { *sys_err = osb__sock_errno(); return -1; }
#if defined(SO_NOSIGPIPE)
    setsockopt(fd, SOL_SOCKET, SO_NOSIGPIPE, (const char *)&one, sizeof one);
#endif
#if !defined(_WIN32) && defined(FD_CLOEXEC)
    fcntl(fd, F_SETFD, FD_CLOEXEC);
#endif
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, (const char *)&one, sizeof one);
    if (osb__set_nonblocking(fd) != 0) { *sys_err = osb__sock_errno(); osb__sock_close(fd); return -1; }
    r = connect(fd, ai->ai_addr, (int)ai->ai_addrlen);
    if (r != 0) {
        int e = osb__sock_errno(), w;
        if (e != OSB__EINPROGRESS && e != EINPROGRESS && e != OSB__EAGAIN) {
            *sys_err = e;
            osb__sock_close(fd);
            return -1;
        }
        w = osb__wait(fd, 1, deadline, NULL);
        if (w <= 0) {
            *timed_out = (w == 0);
            *sys_err = w == 0 ? 0 : osb__sock_errno();
            osb__sock_close(fd);
            return -1;
        } else {
            int soerr = 0;
            socklen_t sl = sizeof soerr;
            getsockopt(fd, SOL_SOCKET, SO_ERROR, (char *)&soerr, &sl);
            if (soerr != 0) {
                *sys_err = soerr;
                osb__sock_close(fd);
                return -1;
            }
        }
    }
    *out = fd;
    return 0;
}

static osb_err osb__connect(osb_client *cl, const osb_url *u, int64_t deadline, osb__conn **out,
                            osb_error *err);

/* ---- the client ---- */

struct osb_client {
    const osb_allocator *alloc;
    osb_url base;                 /* the lifecycle server */
    char *api_key;
    char *user_agent;
    char **headers;               /* extra "Name: value" lines for the lifecycle server */
    size_t nheaders;
    osb_timeouts timeouts;
    osb_retry retry;
    int retry_tokens;             /* tenths of a retry token */
    int pool_max;
    int npool;
    osb__conn **pool;
    osb_buf scratch;              /* request heads are built here, reused */
    osb_error err;
    uint64_t rng;                 /* request ids */
    osb_tls_config tls;
    void *tls_ctx;                /* trust anchors, loaded on the first https request */
#ifdef _WIN32
    int wsa_started;
#endif
};

static int osb__timeout_or(int v, int dflt) { return v == 0 ? dflt : (v < 0 ? 0 : v); }

static uint64_t osb__splitmix(uint64_t *s) {
    uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/* Checks a "Name: value" line: the name a token, the value free of CR, LF
 * and NUL. Returns the length of the name, or 0 when it is unusable. */
static size_t osb__check_header_line(const char *line) {
    size_t n = 0;
    const char *v;
    while (osb__is_tchar((unsigned char)line[n])) n++;
    if (n == 0 || line[n] != ':') return 0;
    for (v = line + n + 1; *v; v++)
        if (*v == '\r' || *v == '\n') return 0;
    return n;
}

OSB_API osb_err osb_client_new(const osb_client_config *cfg, osb_client **out) {
    osb_client *c;
    const osb_allocator *a = cfg ? cfg->allocator : NULL;
    osb_err e = OSB_OK;
    size_t i, n = 0;
    int https_default = 0;
    *out = NULL;
    if (!cfg || !cfg->domain || !*cfg->domain) return OSB_ERR_INVALID_ARG;
    if (cfg->protocol) {
        if (strcmp(cfg->protocol, "https") == 0) https_default = 1;
        else if (strcmp(cfg->protocol, "http") != 0) return OSB_ERR_INVALID_ARG;
    }
    c = (osb_client *)osb__alloc(a, sizeof *c);
    if (!c) return OSB_ERR_NOMEM;
    memset(c, 0, sizeof *c);
    c->alloc = a;
    osb__reset_error(&c->err);
    osb_buf_init(&c->scratch, a);
    e = osb_url_parse(cfg->domain, https_default, &c->base);
    if (e) goto fail;
    {   /* "host:8080/v1" and "host:8080" name the same server: keep one /v1 */
        size_t pl = strlen(c->base.prefix);
        if (pl >= 3 && strcmp(c->base.prefix + pl - 3, "/v1") == 0) c->base.prefix[pl - 3] = 0;
    }
    if (cfg->api_key) {
        const char *k;
        for (k = cfg->api_key; *k; k++)
            if (*k == '\r' || *k == '\n') { e = OSB_ERR_INVALID_ARG; goto fail; }
        if (!(c->api_key = osb__strndup(a, cfg->api_key, strlen(cfg->api_key)))) goto nomem;
    }
    {
        const char *ua = cfg->user_agent ? cfg->user_agent : "opensandbox-c/" OSB_VERSION_STRING;
        if (strchr(ua, '\r') || strchr(ua, '\n')) { e = OSB_ERR_INVALID_ARG; goto fail; }
        if (!(c->user_agent = osb__strndup(a, ua, strlen(ua)))) goto nomem;
    }
    if (cfg->headers) {
        while (cfg->headers[n]) {
            if (!osb__check_header_line(cfg->headers[n])) { e = OSB_ERR_INVALID_ARG; goto fail; }
            n++;
        }
        if (n) {
            c->headers = (char **)osb__alloc(a, (n + 1) * sizeof(char *));
            if (!c->headers) goto nomem;
            memset(c->headers, 0, (n + 1) * sizeof(char *));   /* NULL-terminated */
            for (i = 0; i < n; i++) {
                c->headers[i] = osb__strndup(a, cfg->headers[i], strlen(cfg->headers[i]));
                if (!c->headers[i]) goto nomem;
                c->nheaders++;
            }
        }
    }
    c->timeouts.connect_ms = osb__timeout_or(cfg->timeouts.connect_ms, OSB_CONNECT_TIMEOUT_MS);
    c->timeouts.first_byte_ms = osb__timeout_or(cfg->timeouts.first_byte_ms, OSB_FIRST_BYTE_TIMEOUT_MS);
    c->timeouts.idle_ms = osb__timeout_or(cfg->timeouts.idle_ms, OSB_IDLE_TIMEOUT_MS);
    c->timeouts.total_ms = osb__timeout_or(cfg->timeouts.total_ms, OSB_TOTAL_TIMEOUT_MS);
    c->retry.max_retries = cfg->retry.max_retries == 0 ? 2 : (cfg->retry.max_retries < 0 ? 0 : cfg->retry.max_retries);
    c->retry.initial_ms = cfg->retry.initial_ms > 0 ? cfg->retry.initial_ms : 500;
    c->retry.max_ms = cfg->retry.max_ms > 0 ? cfg->retry.max_ms : 30000;
    c->retry.budget = cfg->retry.budget > 0 ? cfg->retry.budget : 10;
    c->retry_tokens = c->retry.budget * 10;
    c->pool_max = cfg->pool_max == 0 ? OSB_POOL_MAX : (cfg->pool_max < 0 ? 0 : cfg->pool_max);
    if (c->pool_max) {
        c->pool = (osb__conn **)osb__alloc(a, (size_t)c->pool_max * sizeof(osb__conn *));
        if (!c->pool) goto nomem;
    }
    c->tls = cfg->tls;
    c->rng = (uint64_t)osb__now_ms() ^ ((uint64_t)(uintptr_t)c << 16) ^ (uint64_t)time(NULL);
#ifdef _WIN32
    {
        WSADATA wd;
        if (WSAStartup(MAKEWORD(2, 2), &wd) != 0) { e = OSB_ERR_CONNECT; goto fail; }
        c->wsa_started = 1;
    }
#endif
    *out = c;
    return OSB_OK;
nomem:
    e = OSB_ERR_NOMEM;
fail:
    osb_client_free(c);
    return e;
}

OSB_API void osb_client_free(osb_client *c) {
    size_t i;
    int k;
    if (!c) return;
    for (k = 0; k < c->npool; k++) osb__conn_close(c->pool[k], c->alloc);
    osb__free(c->alloc, c->pool);
    if (c->api_key) {
        volatile char *p = c->api_key;  /* wipe the secret before it goes back */
        while (*p) *p++ = 0;
        osb__free(c->alloc, c->api_key);
    }
    osb__free(c->alloc, c->user_agent);
    for (i = 0; i < c->nheaders; i++) osb__free(c->alloc, c->headers[i]);
    osb__free(c->alloc, c->headers);
    osb_buf_free(&c->scratch);
#if OSB_TLS
    if (c->tls_ctx) osb__tls_ctx_free((osb__tls_ctx *)c->tls_ctx);
#endif
#ifdef _WIN32
    if (c->wsa_started) WSACleanup();
#endif
    osb__free(c->alloc, c);
}

OSB_API const osb_error *osb_client_error(const osb_client *c) { return &c->err; }
OSB_API const osb_url *osb_client_url(const osb_client *c) { return &c->base; }
OSB_API int osb_client_pooled(const osb_client *c) { return c->npool; }

static int osb__same_origin(const osb_url *a, const osb_url *b) {
    return a->https == b->https && a->port == b->port && osb__ieq(a->host, strlen(a->host), b->host);
}

static int osb__conn_matches(const osb__conn *k, const osb_url *u) {
    return k->https == u->https && k->port == u->port && strcmp(k->host, u->host) == 0;
}

/* A pooled connection is alive if it is quiet: readable means the server
 * closed it (EOF) or sent bytes nobody asked for; either way it is unusable. */
static int osb__conn_alive(osb__conn *k) {
    osb__pollfd p;
    if (k->start != k->end) return 0;
    p.fd = k->fd;
    p.events = POLLIN;
    p.revents = 0;
    return osb__poll(&p, 1, 0) == 0;
}

static osb__conn *osb__pool_take(osb_client *c, const osb_url *u) {
    int i;
    int64_t now = osb__now_ms();
    for (i = c->npool - 1; i >= 0; i--) {
        osb__conn *k = c->pool[i];
        int expired = now - k->idle_since > OSB_POOL_IDLE_MS;
        if (!expired && !osb__conn_matches(k, u)) continue;
        c->pool[i] = c->pool[--c->npool];
        if (!expired && osb__conn_alive(k)) return k;
        osb__conn_close(k, c->alloc);
    }
    return NULL;
}

static void osb__pool_put(osb_client *c, osb__conn *k) {
    if (c->pool_max == 0) { osb__conn_close(k, c->alloc); return; }
    if (c->npool == c->pool_max) {          /* drop the oldest */
        osb__conn_close(c->pool[0], c->alloc);
        memmove(c->pool, c->pool + 1, (size_t)(c->npool - 1) * sizeof(osb__conn *));
        c->npool--;
    }
    k->idle_since = osb__now_ms();
    k->reused = 1;
    k->start = k->end = 0;
    k->cancel = NULL;
    c->pool[c->npool++] = k;
}

/* ---- name resolution ---- */

#if OSB_RESOLVER_THREAD
/* getaddrinfo cannot be cancelled or given a deadline, and a resolver that
 * never answers would hold the caller for as long as the C library likes.
 * So a name (not an address literal) is resolved on a detached thread while
 * the caller waits until the connect deadline; if that passes, the caller
 * leaves and the thread frees the job when the lookup finally returns. The
 * job comes from malloc, not the client's allocator: it may outlive the
 * client. */
typedef struct osb__lookup {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int refs;                 /* the caller and the thread */
    int done, rc;
    struct addrinfo hints, *res;
    char host[256], port[8];
} osb__lookup;

static void osb__lookup_release(osb__lookup *j) {
    int last;
    pthread_mutex_lock(&j->mu);
    last = --j->refs == 0;
    pthread_mutex_unlock(&j->mu);
    if (!last) return;
    if (j->res) freeaddrinfo(j->res);
    pthread_cond_destroy(&j->cv);
    pthread_mutex_destroy(&j->mu);
    free(j);
}

static void *osb__lookup_run(void *arg) {
    osb__lookup *j = (osb__lookup *)arg;
    struct addrinfo *res = NULL;
    int rc = getaddrinfo(j->host, j->port, &j->hints, &res);
    pthread_mutex_lock(&j->mu);
    j->rc = rc;
    j->res = res;
    j->done = 1;
    pthread_cond_signal(&j->cv);
    pthread_mutex_unlock(&j->mu);
    osb__lookup_release(j);
    return NULL;
}

/* 0 and *res on success, a getaddrinfo code on failure, -1 when the
 * deadline passed first. */
static int osb__resolve_bounded(const char *host, const char *port, const struct addrinfo *hints,
                                int64_t deadline, struct addrinfo **res) {
    osb__lookup *j;
    pthread_t th;
    pthread_attr_t attr;
    pthread_condattr_t ca;
    int rc = -1, started;
    if (!deadline || strlen(host) >= sizeof j->host) return getaddrinfo(host, port, hints, res);
    j = (osb__lookup *)calloc(1, sizeof *j);
    if (!j) return getaddrinfo(host, port, hints, res);
    memcpy(j->host, host, strlen(host) + 1);
    memcpy(j->port, port, strlen(port) + 1);
    j->hints = *hints;
    j->refs = 2;
    pthread_mutex_init(&j->mu, NULL);
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&j->cv, &ca);
    pthread_condattr_destroy(&ca);
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    started = pthread_create(&th, &attr, osb__lookup_run, j) == 0;
    pthread_attr_destroy(&attr);
    if (!started) {                  /* no thread to be had: resolve here */
        j->refs = 1;
        osb__lookup_release(j);
        return getaddrinfo(host, port, hints, res);
    }
    pthread_mutex_lock(&j->mu);
    while (!j->done) {
        struct timespec ts;
        ts.tv_sec = (time_t)(deadline / 1000);
        ts.tv_nsec = (long)(deadline % 1000) * 1000000L;
        if (pthread_cond_timedwait(&j->cv, &j->mu, &ts) != 0 && !j->done &&
            osb__now_ms() >= deadline)
            break;
    }
    if (j->done) {
        rc = j->rc;
        *res = j->res;
        j->res = NULL;               /* now the caller's */
    }
    pthread_mutex_unlock(&j->mu);
    osb__lookup_release(j);
    return rc;
}
#endif

/* Resolves u's host, bounded by the deadline where the platform allows. An
 * address literal never waits on a resolver. Returns 0, a getaddrinfo code,
 * or -1 when the deadline passed. */
static int osb__resolve(const osb_url *u, const char *port, int64_t deadline, struct addrinfo **res) {
    struct addrinfo hints;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICSERV | AI_NUMERICHOST;
    if (getaddrinfo(u->host, port, &hints, res) == 0) return 0;
    hints.ai_flags = AI_NUMERICSERV;
#if OSB_RESOLVER_THREAD
    return osb__resolve_bounded(u->host, port, &hints, deadline, res);
#else
    OSB__UNUSED(deadline);
    return getaddrinfo(u->host, port, &hints, res);
#endif
}

static osb_err osb__connect(osb_client *cl, const osb_url *u, int64_t deadline, osb__conn **out,
                            osb_error *err) {
    struct addrinfo *res = NULL, *ai;
    char port[8];
    int rc, n = 0, i = 0, sys_err = 0, timed_out = 0;
    osb__conn *k;
    osb__socket fd = OSB__BAD_SOCKET;
    *out = NULL;
#if !OSB_TLS
    if (u->https) {
        osb__set_error(err, OSB_ERR_UNSUPPORTED,
                       "https needs TLS: build the implementation with OSB_TLS=1 and link -lbearssl");
        return OSB_ERR_UNSUPPORTED;
    }
#endif
    snprintf(port, sizeof port, "%u", (unsigned)u->port);
    rc = osb__resolve(u, port, deadline, &res);
    if (rc == -1) {
        osb__set_error(err, OSB_ERR_TIMEOUT, "resolving host '%s' timed out", u->host);
        if (err) err->phase = OSB_PHASE_DNS;
        return OSB_ERR_TIMEOUT;
    }
    if (rc != 0 || !res) {
        osb__set_error(err, OSB_ERR_DNS, "cannot resolve host '%s'", u->host);
        if (err) err->phase = OSB_PHASE_DNS;
        return OSB_ERR_DNS;
    }
    for (ai = res; ai; ai = ai->ai_next) n++;
    for (ai = res; ai; ai = ai->ai_next, i++) {
        /* share what is left of the deadline among the remaining addresses,
           so one black-holed address cannot use all of it */
        int64_t now = osb__now_ms(), d = deadline;
        if (deadline) {
            if (now >= deadline) { timed_out = 1; break; }
            if (n - i > 1) d = now + (deadline - now) / (n - i);
        }
        if (osb__connect_one(ai, d, &fd, &sys_err, &timed_out) == 0) break;
        fd = OSB__BAD_SOCKET;
    }
    freeaddrinfo(res);
    if (fd == OSB__BAD_SOCKET) {
        if (timed_out && (!deadline || osb__now_ms() >= deadline - 1)) {
            osb__set_error(err, OSB_ERR_TIMEOUT, "connect to %s:%u timed out", u->host, (unsigned)u->port);
            if (err) err->phase = OSB_PHASE_CONNECT;
            return OSB_ERR_TIMEOUT;
        }
        osb__set_error(err, OSB_ERR_CONNECT, "cannot connect to %s:%u: %s", u->host,
                       (unsigned)u->port, sys_err ? strerror(sys_err) : "timed out");
        if (err) { err->sys_errno = sys_err; err->phase = OSB_PHASE_CONNECT; err->retryable = 1; }
        return OSB_ERR_CONNECT;
    }
    k = (osb__conn *)osb__alloc(cl->alloc, sizeof *k);
    if (k) {
        memset(k, 0, sizeof *k);
        k->fd = fd;
        k->buf = (char *)osb__alloc(cl->alloc, OSB_IO_BUFFER);
        k->cap = OSB_IO_BUFFER;
    }
    if (!k || !k->buf) {
        if (k) osb__free(cl->alloc, k);
        osb__sock_close(fd);
        osb__set_error(err, OSB_ERR_NOMEM, "out of memory");
        return OSB_ERR_NOMEM;
    }
    k->https = u->https;
    k->port = u->port;
    memcpy(k->host, u->host, sizeof k->host);
#if OSB_TLS
    if (u->https) {
        osb_err e = OSB_OK;
        if (!cl->tls_ctx) e = osb__tls_ctx_new(&cl->tls, cl->alloc, (osb__tls_ctx **)&cl->tls_ctx, err);
        if (!e) e = osb__tls_open((osb__tls_ctx *)cl->tls_ctx, k, u->host, deadline, err);
        if (e) {
            osb__conn_close(k, cl->alloc);
            return e;
        }
    }
#endif
    *out = k;
    return OSB_OK;
}

/* ---- one exchange ---- */

static osb_err osb__conn_send(osb__conn *k, const void *p, size_t n, int64_t deadline, osb_error *err) {
#if OSB_TLS
    if (k->tls) return osb__tls_send_all(k, p, n, deadline, err);
#endif
    return osb__sock_send_all(k, p, n, deadline, err);
}

static osb_err osb__conn_recv(osb__conn *k, void *p, size_t cap, size_t *got, int64_t deadline,
                              osb_phase phase, osb_error *err) {
#if OSB_TLS
    if (k->tls) return osb__tls_recv_some(k, p, cap, got, deadline, phase, err);
#endif
    return osb__sock_recv_some(k, p, cap, got, deadline, phase, err);
}

enum { OSB__BODY_NONE, OSB__BODY_LENGTH, OSB__BODY_CHUNKED, OSB__BODY_CLOSE };

struct osb_body {
    osb_client *cl;
    osb__conn *conn;
    osb_http_response *res;
    int framing;
    uint64_t remaining;          /* OSB__BODY_LENGTH: bytes still to come */
    osb_chunked chunked;
    int keep_alive;
    int finished;                /* the body ended cleanly */
    osb_err sticky;              /* once failed, always failed */
    int64_t total_deadline;
    int idle_ms;
    const volatile int *cancel;
    int allocated;               /* osb_body_close frees it */
};

static int osb__method_idempotent(const char *m) {
    return !strcmp(m, "GET") || !strcmp(m, "HEAD") || !strcmp(m, "PUT") ||
           !strcmp(m, "DELETE") || !strcmp(m, "OPTIONS");
}

/* A path or query may only hold visible ASCII: percent-encoding is the
 * caller's (or the REST layer's) job, and anything else could split the
 * request line. */
static int osb__check_target(const char *s, int is_query) {
    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch <= 0x20 || ch >= 0x7f || ch == '#') return 0;
        if (!is_query && ch == '?') return 0;
    }
    return 1;
}

static int osb__has_header(const char *const *lines, const char *name) {
    size_t n = strlen(name);
    if (!lines) return 0;
    for (; *lines; lines++)
        if (osb__check_header_line(*lines) == n) {
            size_t i;
            for (i = 0; i < n; i++)
                if (osb__lower((unsigned char)(*lines)[i]) != osb__lower((unsigned char)name[i])) break;
            if (i == n) return 1;
        }
    return 0;
}

static osb_err osb__add_line(osb_buf *b, const char *name, const char *value) {
    osb_buf_append_str(b, name);
    osb_buf_append(b, ": ", 2);
    osb_buf_append_str(b, value);
    return osb_buf_append(b, "\r\n", 2);
}

/* Writes the request head into the client's scratch buffer. */
static osb_err osb__build_head(osb_client *c, const osb_http_request *req, const osb_url *u,
                               const char *method, int to_lifecycle, osb_error *err) {
    osb_buf *b = &c->scratch;
    char tmp[64];
    size_t i;
    b->len = 0;
    b->failed = OSB_OK;
    osb_buf_append_str(b, method);
    osb_buf_append(b, " ", 1);
    osb_buf_append_str(b, u->prefix);
    if (req->path && *req->path) osb_buf_append_str(b, req->path);
    else if (!u->prefix[0]) osb_buf_append(b, "/", 1);
    if (req->query && *req->query) {
        osb_buf_append(b, "?", 1);
        osb_buf_append_str(b, req->query);
    }
    osb_buf_append(b, " HTTP/1.1\r\nHost: ", 17);
    if (strchr(u->host, ':')) {
        osb_buf_append(b, "[", 1);
        osb_buf_append_str(b, u->host);
        osb_buf_append(b, "]", 1);
    } else {
        osb_buf_append_str(b, u->host);
    }
    if (u->port != (u->https ? 443 : 80)) {
        snprintf(tmp, sizeof tmp, ":%u", (unsigned)u->port);
        osb_buf_append_str(b, tmp);
    }
    osb_buf_append(b, "\r\n", 2);
    if (!osb__has_header(req->headers, "User-Agent")) osb__add_line(b, "User-Agent", c->user_agent);
    if (!osb__has_header(req->headers, "X-Request-ID") &&
        !(to_lifecycle && osb__has_header((const char *const *)c->headers, "X-Request-ID"))) {
        uint64_t r1 = osb__splitmix(&c->rng), r2 = osb__splitmix(&c->rng);
        snprintf(tmp, sizeof tmp, "%08x%08x%08x%08x", (unsigned)(r1 >> 32), (unsigned)r1,
                 (unsigned)(r2 >> 32), (unsigned)r2);
        osb__add_line(b, "X-Request-ID", tmp);
    }
    if (to_lifecycle) {
        /* the API key and the configured headers belong to the lifecycle
           origin only: never to execd, egress or any other host */
        if (c->api_key && !osb__has_header(req->headers, "OPEN-SANDBOX-API-KEY"))
            osb__add_line(b, "OPEN-SANDBOX-API-KEY", c->api_key);
        for (i = 0; i < c->nheaders; i++) {
            osb_buf_append_str(b, c->headers[i]);
            osb_buf_append(b, "\r\n", 2);
        }
    }
    if (req->headers) {
        const char *const *h;
        for (h = req->headers; *h; h++) {
            if (!osb__check_header_line(*h)) {
                osb__set_error(err, OSB_ERR_INVALID_ARG, "invalid request header line");
                return OSB_ERR_INVALID_ARG;
            }
            osb_buf_append_str(b, *h);
            osb_buf_append(b, "\r\n", 2);
        }
    }
    if (req->content_type) osb__add_line(b, "Content-Type", req->content_type);
    if (req->body || req->body_len) {
        snprintf(tmp, sizeof tmp, "%lu", (unsigned long)req->body_len);
        osb__add_line(b, "Content-Length", tmp);
    } else if (req->body_reader) {
        if (req->body_reader_len >= 0) {
            snprintf(tmp, sizeof tmp, "%llu", (unsigned long long)req->body_reader_len);
            osb__add_line(b, "Content-Length", tmp);
        } else {
            osb__add_line(b, "Transfer-Encoding", "chunked");
        }
    } else if (!strcmp(method, "POST") || !strcmp(method, "PUT") || !strcmp(method, "PATCH")) {
        osb__add_line(b, "Content-Length", "0");
    }
    if (osb_buf_append(b, "\r\n", 2) != OSB_OK) {
        osb__set_error(err, OSB_ERR_NOMEM, "out of memory");
        return OSB_ERR_NOMEM;
    }
    return OSB_OK;
}

/* Streams a reader's body, chunk-encoded when its length is unknown. The
 * connection's receive buffer stages it: no response is read before the
 * request is sent, and large blocks mean few system calls. */
static osb_err osb__send_reader(osb__conn *k, const osb_http_request *req, int64_t deadline,
                                osb_error *err) {
    char *data = k->buf + 12;                 /* room before the data for a chunk-size line */
    size_t room = k->cap - 16;                /* and after it for CRLF */
    uint64_t sent = 0;
    int chunked = req->body_reader_len < 0;
    osb_err e;
    for (;;) {
        ptrdiff_t n = req->body_reader(req->body_reader_user, data, room);
        if (n < 0 || (size_t)n > room) {
            osb__set_error(err, OSB_ERR_IO, "the request body reader failed");
            return OSB_ERR_IO;
        }
        if (req->cancel && *req->cancel) {
            osb__set_error(err, OSB_ERR_CANCELLED, "cancelled");
            return OSB_ERR_CANCELLED;
        }
        if (chunked) {
            char head[12];
            int hl = snprintf(head, sizeof head, "%lx\r\n", (unsigned long)n);
            memcpy(data - hl, head, (size_t)hl);
            memcpy(data + n, "\r\n", 2);   /* ends the data, or for the last chunk the empty trailer */
            e = osb__conn_send(k, data - hl, (size_t)(hl + n + 2), deadline, err);
            if (e) return e;
            if (n == 0) return OSB_OK;
            continue;
        }
        if (n == 0) break;
        if (sent + (uint64_t)n > (uint64_t)req->body_reader_len) {
            osb__set_error(err, OSB_ERR_IO, "the request body reader gave more than body_reader_len bytes");
            return OSB_ERR_IO;
        }
        e = osb__conn_send(k, data, (size_t)n, deadline, err);
        if (e) return e;
        sent += (uint64_t)n;
    }
    if (sent != (uint64_t)req->body_reader_len) {
        osb__set_error(err, OSB_ERR_IO, "the request body reader ended after %llu of %lld bytes",
                       (unsigned long long)sent, (long long)req->body_reader_len);
        return OSB_ERR_IO;
    }
    return OSB_OK;
}

static int osb__parse_u64(osb_str s, uint64_t *out) {
    uint64_t v = 0;
    size_t i;
    if (s.len == 0 || s.len > 19) return 0;   /* 19 digits stay below 2^63 only if checked */
    for (i = 0; i < s.len; i++) {
        if (s.ptr[i] < '0' || s.ptr[i] > '9') return 0;
        v = v * 10 + (uint64_t)(s.ptr[i] - '0');
    }
    if (v > (uint64_t)INT64_MAX) return 0;
    *out = v;
    return 1;
}

/* Days since 1970-01-01 of a civil date (proleptic Gregorian). */
static int64_t osb__days_from_civil(int64_t y, int m, int d) {
    int64_t era, yoe, doy, doe;
    y -= m <= 2;
    era = (y >= 0 ? y : y - 399) / 400;
    yoe = y - era * 400;
    doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

/* Retry-After: delay-seconds or an IMF-fixdate ("Sun, 06 Nov 1994 08:49:37 GMT").
 * Returns milliseconds from now (0 for a date in the past), or -1. */
static int64_t osb__parse_retry_after(osb_str v) {
    static const char months[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
    uint64_t secs;
    if (osb__parse_u64(v, &secs)) return secs > 86400u * 365u ? (int64_t)86400 * 365 * 1000 : (int64_t)secs * 1000;
    if (v.len == 29 && v.ptr[3] == ',' && memcmp(v.ptr + 26, "GMT", 3) == 0) {
        const char *p = v.ptr + 5, *mp;
        int day, year, hh, mm, ss, mon;
        char mon_s[4];
        if (sscanf(p, "%2d %3c %4d %2d:%2d:%2d", &day, mon_s, &year, &hh, &mm, &ss) != 6) return -1;
        mon_s[3] = 0;
        mp = strstr(months, mon_s);
        if (!mp || (mp - months) % 3) return -1;
        mon = (int)((mp - months) / 3) + 1;
        {
            int64_t t = osb__days_from_civil(year, mon, day) * 86400 + hh * 3600 + mm * 60 + ss;
            int64_t now = (int64_t)time(NULL);
            return t > now ? (t - now) * 1000 : 0;
        }
    }
    return -1;
}

/* Fills the response fields the library tracks from one header. */
static osb_err osb__note_header(osb_body *b, const osb_http_request *req, osb_http_header *h,
                                int *te_chunked, int *te_other, int *cl_seen, uint64_t *cl,
                                int *conn_close, int *conn_keep) {
    osb_http_response *r = b->res;
    if (osb__ieq(h->name.ptr, h->name.len, "content-length")) {
        uint64_t v;
        if (!osb__parse_u64(h->value, &v) || (*cl_seen && v != *cl)) return OSB_ERR_PROTOCOL;
        *cl_seen = 1;
        *cl = v;
    } else if (osb__ieq(h->name.ptr, h->name.len, "transfer-encoding")) {
        /* only "chunked" as the one and last coding is something we can read */
        if (osb__ieq(h->value.ptr, h->value.len, "chunked") && !*te_chunked) *te_chunked = 1;
        else *te_other = 1;
    } else if (osb__ieq(h->name.ptr, h->name.len, "connection")) {
        if (osb__ieq(h->value.ptr, h->value.len, "close")) *conn_close = 1;
        if (osb__ieq(h->value.ptr, h->value.len, "keep-alive")) *conn_keep = 1;
    } else if (osb__ieq(h->name.ptr, h->name.len, "x-request-id")) {
        osb__copy_field(r->request_id, sizeof r->request_id, h->value.ptr, h->value.len);
    } else if (osb__ieq(h->name.ptr, h->name.len, "content-type")) {
        osb__copy_field(r->content_type, sizeof r->content_type, h->value.ptr, h->value.len);
    } else if (osb__ieq(h->name.ptr, h->name.len, "retry-after")) {
        r->retry_after_ms = osb__parse_retry_after(h->value);
    }
    if (req->on_header && req->on_header(req->on_header_user, h->name, h->value))
        return OSB_ERR_CANCELLED;
    return OSB_OK;
}

static osb_err osb__fail(osb_body *b, osb_err e, osb_error *err, const char *msg) {
    if (msg) osb__set_error(err, e, "%s", msg);
    else if (err && err->code != e) osb__set_error(err, e, "%s", osb_strerror(e));
    b->sticky = e;
    return e;
}

/* Reads more bytes into the connection buffer (compacting it first). */
static osb_err osb__fill(osb_body *b, int64_t deadline, osb_phase phase, size_t *got, osb_error *err) {
    osb__conn *k = b->conn;
    if (k->start == k->end) k->start = k->end = 0;
    if (k->end == k->cap && k->start > 0) {
        memmove(k->buf, k->buf + k->start, k->end - k->start);
        k->end -= k->start;
        k->start = 0;
    }
    if (k->end == k->cap) {
        /* only a head can outgrow the buffer; its limit caps the growth */
        size_t ncap = k->cap * 2;
        char *nb;
        if (k->cap >= (size_t)OSB_HTTP_MAX_HEAD + 16) return osb__fail(b, OSB_ERR_TOO_LARGE, err, "response head too large");
        nb = (char *)osb__realloc(b->cl->alloc, k->buf, k->cap, ncap);
        if (!nb) return osb__fail(b, OSB_ERR_NOMEM, err, "out of memory");
        k->buf = nb;
        k->cap = ncap;
    }
    if (b->cancel && *b->cancel) return osb__fail(b, OSB_ERR_CANCELLED, err, "cancelled");
    k->cancel = b->cancel;
    {
        osb_err e = osb__conn_recv(k, k->buf + k->end, k->cap - k->end, got, deadline, phase, err);
        if (e == OSB_ERR_TIMEOUT && b->total_deadline && osb__now_ms() >= b->total_deadline) {
            osb__timeout(err, OSB_PHASE_TOTAL);
        }
        if (e) { b->sticky = e; return e; }
    }
    k->end += *got;
    return OSB_OK;
}

static int64_t osb__idle_deadline(osb_body *b, int ms) {
    return osb__earlier(osb__deadline_in(ms), b->total_deadline);
}

/* Reads and parses the response head; skips 1xx responses. */
static osb_err osb__read_head(osb_body *b, const osb_http_request *req, int is_head,
                              int first_byte_ms, int *got_any, osb_error *err) {
    osb__conn *k = b->conn;
    int interim = 0;
    osb_http_header fields[OSB_HTTP_MAX_HEADERS];
    *got_any = 0;
    for (;;) {
        osb_http_head h;
        int r;
        h.headers = fields;
        h.num_headers = OSB_HTTP_MAX_HEADERS;
        r = k->end > k->start ? osb_http_parse_response(k->buf + k->start, k->end - k->start, &h)
                              : OSB_HTTP_INCOMPLETE;
        if (r == OSB_HTTP_INCOMPLETE) {
            size_t got;
            osb_err e = osb__fill(b, osb__idle_deadline(b, *got_any ? b->idle_ms : first_byte_ms),
                                  *got_any ? OSB_PHASE_IDLE : OSB_PHASE_FIRST_BYTE, &got, err);
            if (e) return e;
            if (got == 0) {
                if (!*got_any) return osb__fail(b, OSB_ERR_CLOSED, err, "the server closed the connection without a response");
                return osb__fail(b, OSB_ERR_TRUNCATED, err, "the connection closed inside the response head");
            }
            *got_any = 1;
            continue;
        }
        if (r == OSB_HTTP_MALFORMED) return osb__fail(b, OSB_ERR_PROTOCOL, err, "malformed response head");
        if (r == OSB_HTTP_TOO_LARGE) return osb__fail(b, OSB_ERR_TOO_LARGE, err, "response head over its limits");
        k->start += (size_t)r;
        if (h.status < 200) {
            if (h.status == 101) return osb__fail(b, OSB_ERR_PROTOCOL, err, "unexpected protocol upgrade");
            if (++interim > OSB_HTTP_MAX_INTERIM) return osb__fail(b, OSB_ERR_PROTOCOL, err, "too many interim responses");
            continue;
        }
        {
            int te_chunked = 0, te_other = 0, cl_seen = 0, conn_close = 0, conn_keep = 0;
            uint64_t cl = 0;
            size_t i;
            b->res->status = h.status;
            if (err) err->http_status = h.status;
            for (i = 0; i < h.num_headers; i++) {
                osb_err e = osb__note_header(b, req, &fields[i], &te_chunked, &te_other, &cl_seen,
                                             &cl, &conn_close, &conn_keep);
                if (e == OSB_ERR_CANCELLED) return osb__fail(b, e, err, "cancelled by the header callback");
                if (e) return osb__fail(b, e, err, "invalid or conflicting Content-Length");
            }
            if (b->res->request_id[0] && err)
                memcpy(err->request_id, b->res->request_id, sizeof err->request_id);
            if (b->res->retry_after_ms >= 0 && err) err->retry_after_ms = b->res->retry_after_ms;
            if ((te_chunked || te_other) && cl_seen)
                return osb__fail(b, OSB_ERR_PROTOCOL, err, "both Content-Length and Transfer-Encoding");
            if (te_other) return osb__fail(b, OSB_ERR_PROTOCOL, err, "unsupported Transfer-Encoding");
            b->keep_alive = h.minor_version == 1 ? !conn_close : (conn_keep && !conn_close);
            if (is_head || h.status == 204 || h.status == 304) {
                b->framing = OSB__BODY_NONE;
            } else if (te_chunked) {
                b->framing = OSB__BODY_CHUNKED;
            } else if (cl_seen) {
                b->framing = OSB__BODY_LENGTH;
                b->remaining = cl;
                b->res->content_length = (int64_t)cl;
            } else {
                b->framing = OSB__BODY_CLOSE;
                b->keep_alive = 0;
            }
            if (b->framing == OSB__BODY_NONE || (b->framing == OSB__BODY_LENGTH && cl == 0))
                b->finished = 1;
            return OSB_OK;
        }
    }
}

OSB_API osb_err osb_body_read(osb_body *b, const void **data, size_t *len) {
    osb_error *err = &b->cl->err;
    osb__conn *k = b->conn;
    *data = NULL;
    *len = 0;
    if (b->sticky) return b->sticky;
    while (!b->finished) {
        size_t avail = k->end - k->start, got;
        osb_err e;
        if (avail > 0) {
            const char *p = k->buf + k->start;
            if (b->framing == OSB__BODY_LENGTH) {
                size_t take = avail;
                if ((uint64_t)take > b->remaining) take = (size_t)b->remaining;
                b->remaining -= take;
                k->start += take;
                if (b->remaining == 0) b->finished = 1;
                *data = p;
                *len = take;
            } else if (b->framing == OSB__BODY_CHUNKED) {
                const char *d;
                size_t dl;
                ptrdiff_t used = osb_chunked_feed(&b->chunked, p, avail, &d, &dl);
                if (used == OSB_HTTP_MALFORMED) return osb__fail(b, OSB_ERR_PROTOCOL, err, "malformed chunked body");
                if (used < 0) return osb__fail(b, OSB_ERR_TOO_LARGE, err, "chunked body line over its limit");
                k->start += (size_t)used;
                if (b->chunked.done) b->finished = 1;
                if (dl == 0) continue;
                *data = d;
                *len = dl;
            } else {
                k->start += avail;
                *data = p;
                *len = avail;
            }
            b->res->body_bytes += *len;
            return OSB_OK;
        }
        e = osb__fill(b, osb__idle_deadline(b, b->idle_ms), OSB_PHASE_IDLE, &got, err);
        if (e == OSB_ERR_CONNECT) {   /* a reset inside the body */
            osb__set_error(err, OSB_ERR_TRUNCATED, "connection reset after %llu body bytes",
                           (unsigned long long)b->res->body_bytes);
            e = b->sticky = OSB_ERR_TRUNCATED;
        }
        if (e) {
            if (err) err->offset = b->res->body_bytes;
            return e;
        }
        if (got == 0) {
            if (b->framing == OSB__BODY_CLOSE) {
                b->finished = 1;
                break;
            }
            if (err) err->offset = b->res->body_bytes;
            return osb__fail(b, OSB_ERR_TRUNCATED, err, "the connection closed before the body was complete");
        }
    }
    return OSB_OK;
}

/* Returns the connection to the pool when the exchange ended cleanly and
 * nothing is left over; anything else closes it. */
static void osb__body_end(osb_body *b) {
    osb__conn *k = b->conn;
    if (!k) return;
    b->conn = NULL;
    if (b->finished && !b->sticky && b->keep_alive && k->start == k->end
#if OSB_TLS
        && !(k->tls && osb__tls_pending(k))
#endif
    )
        osb__pool_put(b->cl, k);
    else
        osb__conn_close(k, b->cl->alloc);
}

OSB_API void osb_body_close(osb_body *b) {
    if (!b) return;
    osb__body_end(b);
    if (b->allocated) osb__free(b->cl->alloc, b);
}

/* Sends the request (once more on a fresh connection if a pooled one turned
 * out to be dead) and reads the response head into b. */
static osb_err osb__exchange_begin(osb_client *c, const osb_http_request *req,
                                   osb_http_response *res, osb_body *b) {
    osb_error *err = &c->err;
    const char *method = req->method ? req->method : "GET";
    osb_url target;
    const osb_url *u = &c->base;
    int to_lifecycle, idempotent, attempt, is_head;
    int connect_ms = osb__timeout_or(req->timeouts.connect_ms, c->timeouts.connect_ms);
    int first_ms = osb__timeout_or(req->timeouts.first_byte_ms, c->timeouts.first_byte_ms);
    int total_ms = req->stream ? 0 : osb__timeout_or(req->timeouts.total_ms, c->timeouts.total_ms);
    osb_err e;
    const char *m;

    osb__reset_error(err);
    memset(res, 0, sizeof *res);
    res->content_length = -1;
    res->retry_after_ms = -1;
    osb_buf_init(&res->body, c->alloc);
    memset(b, 0, sizeof *b);
    b->cl = c;
    b->res = res;
    b->cancel = req->cancel;
    b->idle_ms = osb__timeout_or(req->timeouts.idle_ms, c->timeouts.idle_ms);
    b->total_deadline = osb__deadline_in(total_ms);

    for (m = method; *m; m++)
        if (!osb__is_tchar((unsigned char)*m)) break;
    if (*m || m == method) { osb__set_error(err, OSB_ERR_INVALID_ARG, "invalid method"); return OSB_ERR_INVALID_ARG; }
    if (req->url) {
        if (osb_url_parse(req->url, c->base.https, &target) != OSB_OK) {
            osb__set_error(err, OSB_ERR_INVALID_ARG, "invalid URL");
            return OSB_ERR_INVALID_ARG;
        }
        u = &target;
    }
    if ((req->path && (req->path[0] != '/' || !osb__check_target(req->path, 0))) ||
        (req->query && !osb__check_target(req->query, 1))) {
        osb__set_error(err, OSB_ERR_INVALID_ARG, "the path or query holds characters that must be percent-encoded");
        return OSB_ERR_INVALID_ARG;
    }
    if (req->content_type && (strchr(req->content_type, '\r') || strchr(req->content_type, '\n'))) {
        osb__set_error(err, OSB_ERR_INVALID_ARG, "invalid content type");
        return OSB_ERR_INVALID_ARG;
    }
    to_lifecycle = osb__same_origin(u, &c->base);
    idempotent = req->idempotent ? req->idempotent > 0 : osb__method_idempotent(method);
    is_head = !strcmp(method, "HEAD");
    e = osb__build_head(c, req, u, method, to_lifecycle, err);
    if (e) return e;

    for (attempt = 0;; attempt++) {
        int64_t connect_deadline = osb__earlier(osb__deadline_in(connect_ms), b->total_deadline);
        int got_any = 0, fresh = 0;
        osb__conn *k = osb__pool_take(c, u);
        if (!k) {
            e = osb__connect(c, u, connect_deadline, &k, err);
            if (e) {
                if (e == OSB_ERR_TIMEOUT && b->total_deadline && osb__now_ms() >= b->total_deadline)
                    osb__timeout(err, OSB_PHASE_TOTAL);
                return e;
            }
            fresh = 1;
        }
        b->conn = k;
        k->cancel = req->cancel;
        err->attempts = attempt + 1;
        {
            int64_t send_deadline = osb__idle_deadline(b, b->idle_ms);
            /* a small body travels with the head in one write */
            int joined = req->body && req->body_len <= 65536;
            if (joined && osb_buf_append(&c->scratch, req->body, req->body_len) != OSB_OK) {
                osb__body_end(b);
                osb__set_error(err, OSB_ERR_NOMEM, "out of memory");
                return OSB_ERR_NOMEM;
            }
            e = osb__conn_send(k, c->scratch.data, c->scratch.len, send_deadline, err);
            if (joined) c->scratch.len -= req->body_len;
            if (!e && req->body && !joined) e = osb__conn_send(k, req->body, req->body_len, send_deadline, err);
            if (!e && !req->body && req->body_reader) e = osb__send_reader(k, req, send_deadline, err);
        }
        if (!e) e = osb__read_head(b, req, is_head, first_ms, &got_any, err);
        if (!e) return OSB_OK;
        b->sticky = OSB_OK;
        osb__body_end(b);
        /* a pooled connection the server had closed: the request never
           reached it, so an idempotent one may go once more */
        if (!fresh && !got_any && attempt == 0 && idempotent && !req->body_reader &&
            (e == OSB_ERR_CLOSED || e == OSB_ERR_CONNECT))
            continue;
        if (e == OSB_ERR_CLOSED || e == OSB_ERR_CONNECT) err->retryable = idempotent;
        return e;
    }
}

OSB_API osb_err osb_request_open(osb_client *c, const osb_http_request *req,
                                 osb_http_response *response, osb_body **out) {
    osb_body *b;
    osb_err e;
    *out = NULL;
    if (!c || !req || !response) return OSB_ERR_INVALID_ARG;
    b = (osb_body *)osb__alloc(c->alloc, sizeof *b);
    if (!b) {
        osb__set_error(&c->err, OSB_ERR_NOMEM, "out of memory");
        return OSB_ERR_NOMEM;
    }
    e = osb__exchange_begin(c, req, response, b);
    if (e) {
        osb__free(c->alloc, b);
        return e;
    }
    b->allocated = 1;
    *out = b;
    return OSB_OK;
}

/* The error bodies of the OpenSandbox servers come in four shapes:
 * {"code","message"} (lifecycle, execd), FastAPI's {"detail": "..." or
 * [{"loc","msg","type"}, ...]}, {"error": "..."} (execd's 401) and plain
 * text (egress, proxies, crashes). */
typedef struct osb__errbody {
    osb_str code, message, detail, error;
} osb__errbody;
static const osb_field osb__errbody_fields[] = {
    OSB_FIELD_RAW(osb__errbody, code, "code"),
    OSB_FIELD_RAW(osb__errbody, message, "message"),
    OSB_FIELD_RAW(osb__errbody, detail, "detail"),
    OSB_FIELD_RAW(osb__errbody, error, "error"),
};
static const osb_type osb__errbody_type = OSB_TYPE(osb__errbody, osb__errbody_fields);

typedef struct osb__erritem {
    osb_str msg, type, loc;
} osb__erritem;
static const osb_field osb__erritem_fields[] = {
    OSB_FIELD_STR(osb__erritem, msg, "msg"),
    OSB_FIELD_STR(osb__erritem, type, "type"),
    OSB_FIELD_RAW(osb__erritem, loc, "loc"),
};
static const osb_type osb__erritem_type = OSB_TYPE(osb__erritem, osb__erritem_fields);

/* Appends text to a fixed field as printable characters (controls become
 * spaces), keeping it NUL-terminated. */
static void osb__append_clean(char *dst, size_t cap, const char *src, size_t n) {
    size_t at = strlen(dst), i;
    for (i = 0; i < n && at + 1 < cap; i++) {
        unsigned char ch = (unsigned char)src[i];
        dst[at++] = (ch < 0x20 || ch == 0x7f) ? ' ' : (char)ch;
    }
    dst[at] = 0;
    osb__copy_field(dst, cap, dst, at);   /* never end inside a UTF-8 character */
}

/* The text of a JSON string value (raw JSON in v); 0 if v is not a string. */
static int osb__json_string_text(const osb_str *v, char *out, size_t cap) {
    osb_json j;
    osb_json_token t;
    char scratch[64];
    size_t at = 0;
    int r;
    out[0] = 0;
    if (!v->ptr || v->len == 0 || v->ptr[0] != '"') return 0;
    osb_json_init(&j, scratch, sizeof scratch);
    osb_json_feed(&j, v->ptr, v->len, 1);
    while ((r = osb_json_next(&j, &t)) == OSB_JSON_STRING) {
        size_t i;
        for (i = 0; i < t.len && at + 1 < cap; i++) out[at++] = t.ptr[i];
        if (!t.more) break;
    }
    out[at] = 0;
    if (r != OSB_JSON_STRING) return 0;
    osb__copy_field(out, cap, out, at);
    return 1;
}

typedef struct osb__erritems {
    osb__erritem *items;
    size_t count;
} osb__erritems;
static const osb_field osb__erritems_fields[] = {
    OSB_FIELD_ARRAY_OF(osb__erritems, items, count, "", &osb__erritem_type),
};
static const osb_type osb__erritems_type = OSB_TYPE(osb__erritems, osb__erritems_fields);

/* A FastAPI validation error: name the first problem and where it is. */
static void osb__error_from_detail_array(osb_error *err, const osb_str *detail) {
    osb__erritems list;
    char buf[OSB_ERROR_BODY_MAX + 1024];
    const osb__erritem *it;
    if (osb_bind_into(&osb__erritems_type, detail->ptr, detail->len, &list, buf, sizeof buf, NULL, NULL) != OSB_OK ||
        list.count == 0)
        return;
    it = &list.items[0];
    osb__append_clean(err->message, sizeof err->message, ": ", 2);
    if (it->msg.ptr) osb__append_clean(err->message, sizeof err->message, it->msg.ptr, it->msg.len);
    if (it->loc.ptr) {
        osb__append_clean(err->message, sizeof err->message, " (at ", 5);
        osb__append_clean(err->message, sizeof err->message, it->loc.ptr, it->loc.len);
        osb__append_clean(err->message, sizeof err->message, ")", 1);
    }
    if (it->type.ptr) osb__copy_field(err->server_code, sizeof err->server_code, it->type.ptr, it->type.len);
}

/* Removes a secret from a message: every whole occurrence becomes "***",
 * and a tail that is the start of the secret (the message was cut inside
 * it) is cut off too. */
static void osb__redact(char *msg, const char *secret, size_t sl) {
    char *hit;
    size_t ml, k;
    if (sl == 0) return;
    while ((hit = strstr(msg, secret)) != NULL) {
        if (sl < 3) { memset(hit, '*', sl); continue; }
        memcpy(hit, "***", 3);
        memmove(hit + 3, hit + sl, strlen(hit + sl) + 1);
    }
    ml = strlen(msg);
    for (k = OSB__MIN(sl - 1, ml); k >= 4; k--) {
        if (memcmp(msg + ml - k, secret, k) == 0) {
            memcpy(msg + ml - k, "***", 4);
            break;
        }
    }
}

static int osb__is_credential_header(const char *name, size_t n) {
    static const char *const names[] = {"open-sandbox-api-key", "x-execd-access-token",
                                        "opensandbox-egress-auth", "opensandbox-secure-access",
                                        "authorization", "proxy-authorization", "cookie"};
    size_t i;
    for (i = 0; i < sizeof names / sizeof names[0]; i++)
        if (osb__ieq(name, n, names[i])) return 1;
    return 0;
}

/* Keeps every credential out of an error message: the API key and the
 * values of credential headers in the request just sent (its head is still
 * in the client's scratch buffer). */
static void osb__redact_credentials(osb_client *c, char *msg) {
    const char *p = c->scratch.data, *end = p ? p + c->scratch.len : NULL;
    if (c->api_key) osb__redact(msg, c->api_key, strlen(c->api_key));
    while (p && p < end) {
        const char *eol = (const char *)memchr(p, '\r', (size_t)(end - p));
        const char *colon = (const char *)memchr(p, ':', (size_t)((eol ? eol : end) - p));
        if (!eol) break;
        if (colon && osb__is_credential_header(p, (size_t)(colon - p))) {
            const char *v = colon + 1;
            char secret[512];
            while (v < eol && *v == ' ') v++;
            if ((size_t)(eol - v) < sizeof secret) {
                memcpy(secret, v, (size_t)(eol - v));
                secret[eol - v] = 0;
                osb__redact(msg, secret, (size_t)(eol - v));
            }
        }
        p = eol + 2;
    }
}

/* Fills the error detail from an error response: status, the server's code
 * and message in whichever shape they came, never the API key. */
static void osb__http_error_detail(osb_client *c, int status, const char *body, size_t len) {
    osb_error *err = &c->err;
    char text[sizeof err->message];
    osb__errbody eb;
    char buf[OSB_ERROR_BODY_MAX + 512];
    err->code = OSB_ERR_HTTP;
    err->http_status = status;
    err->retryable = status == 429 || status == 502 || status == 503 || status == 504;
    err->server_code[0] = 0;
    snprintf(err->message, sizeof err->message, "HTTP %d", status);
    while (len > 0 && (body[len - 1] == '\n' || body[len - 1] == '\r' || body[len - 1] == ' ')) len--;
    if (len && body[0] == '{' &&
        osb_bind_into(&osb__errbody_type, body, len, &eb, buf, sizeof buf, NULL, NULL) == OSB_OK) {
        if (osb__json_string_text(&eb.code, text, sizeof text))
            osb__copy_field(err->server_code, sizeof err->server_code, text, strlen(text));
        if (osb__json_string_text(&eb.message, text, sizeof text) ||
            osb__json_string_text(&eb.detail, text, sizeof text) ||
            osb__json_string_text(&eb.error, text, sizeof text)) {
            osb__append_clean(err->message, sizeof err->message, ": ", 2);
            osb__append_clean(err->message, sizeof err->message, text, strlen(text));
        } else if (eb.detail.ptr && eb.detail.ptr[0] == '[') {
            osb__error_from_detail_array(err, &eb.detail);
        } else if (eb.error.ptr && eb.error.ptr[0] == '{') {
            osb__errbody inner;
            char ibuf[OSB_ERROR_BODY_MAX + 512];
            if (osb_bind_into(&osb__errbody_type, eb.error.ptr, eb.error.len, &inner, ibuf, sizeof ibuf, NULL, NULL) == OSB_OK) {
                if (osb__json_string_text(&inner.code, text, sizeof text))
                    osb__copy_field(err->server_code, sizeof err->server_code, text, strlen(text));
                if (osb__json_string_text(&inner.message, text, sizeof text)) {
                    osb__append_clean(err->message, sizeof err->message, ": ", 2);
                    osb__append_clean(err->message, sizeof err->message, text, strlen(text));
                }
            }
        } else if (err->server_code[0]) {
            /* a code without a message: execd's {"code":"UNKNOWN"} */
        } else {
            osb__append_clean(err->message, sizeof err->message, ": ", 2);
            osb__append_clean(err->message, sizeof err->message, body, len);
        }
    } else if (len) {
        osb__append_clean(err->message, sizeof err->message, ": ", 2);
        osb__append_clean(err->message, sizeof err->message, body, len);
    }
    osb__redact_credentials(c, err->message);
}

OSB_API osb_err osb_request_raw(osb_client *c, const osb_http_request *req,
                                osb_http_response *response) {
    osb_body b;
    osb_err e;
    int is_error;
    char errbody[OSB_ERROR_BODY_MAX];
    size_t errlen = 0;
    if (!c || !req || !response) return OSB_ERR_INVALID_ARG;
    e = osb__exchange_begin(c, req, response, &b);
    if (e) return e;
    response->body.max = req->max_body ? req->max_body : OSB_BODY_MAX;
    is_error = (response->status < 200 || response->status > 299) && !req->accept_error_body;
    for (;;) {
        const void *d;
        size_t n;
        e = osb_body_read(&b, &d, &n);
        if (e || n == 0) break;
        if (is_error) {
            size_t room = sizeof errbody - errlen;
            if (n > room) n = room;
            memcpy(errbody + errlen, d, n);
            errlen += n;
            if (errlen == sizeof errbody) break;  /* enough to explain; drop the rest */
        } else if (req->sink) {
            if (req->sink(req->sink_user, d, n)) {
                e = osb__fail(&b, OSB_ERR_CANCELLED, &c->err, "the body sink stopped the transfer");
                break;
            }
        } else if ((e = osb_buf_append(&response->body, d, n)) != OSB_OK) {
            osb__fail(&b, e, &c->err, e == OSB_ERR_TOO_LARGE ? "response body over max_body" : "out of memory");
            break;
        }
    }
    osb__body_end(&b);
    if (e) {
        if (!is_error) osb_buf_free(&response->body);
        return e;
    }
    if (is_error) {
        osb__http_error_detail(c, response->status, errbody, errlen);
        return OSB_ERR_HTTP;
    }
    return OSB_OK;
}

OSB_API void osb_http_response_free(osb_http_response *response) {
    if (response) osb_buf_free(&response->body);
}

/* >>impl-rest -------------------------------------------------------------- */

OSB_API int osb_error_is_not_found(const osb_error *e) { return e && e->code == OSB_ERR_HTTP && e->http_status == 404; }
OSB_API int osb_error_is_conflict(const osb_error *e) { return e && e->code == OSB_ERR_HTTP && e->http_status == 409; }
OSB_API int osb_error_is_unauthorized(const osb_error *e) {
    return e && e->code == OSB_ERR_HTTP && (e->http_status == 401 || e->http_status == 403);
}
OSB_API int osb_error_is_rate_limited(const osb_error *e) { return e && e->code == OSB_ERR_HTTP && e->http_status == 429; }
OSB_API int osb_error_is_capacity(const osb_error *e) {
    return e && e->code == OSB_ERR_HTTP && (e->http_status == 503 || e->http_status == 507);
}
OSB_API int osb_error_is_retryable(const osb_error *e) { return e && e->code != OSB_OK && e->retryable; }

/* One REST call being put together: method, target, encoded path and query,
 * JSON body, and where the decoded result goes. */
typedef struct osb__call {
    osb_client *c;
    const char *method;
    const osb_target *target;     /* NULL: the lifecycle server */
    osb_buf path, query, body;
    osb_jw jw;                    /* writes the body */
    int has_body;
    const char *content_type;
    const char *const *headers;   /* extra request headers */
    const osb_type *type;         /* result type; NULL: the body is discarded */
    void **out;
    int stream;
    osb_err err;                  /* sticky while building */
} osb__call;

OSB__HELPER void osb__call_init(osb__call *k, osb_client *c, const char *method, const osb_target *t) {
    memset(k, 0, sizeof *k);
    k->c = c;
    k->method = method;
    k->target = t;
    osb_buf_init(&k->path, c->alloc);
    osb_buf_init(&k->query, c->alloc);
    osb_buf_init(&k->body, c->alloc);
}

static void osb__call_free(osb__call *k) {
    osb_buf_free(&k->path);
    osb_buf_free(&k->query);
    osb_buf_free(&k->body);
}

/* Appends a path: each "{}" in fmt takes the next string argument,
 * percent-encoded as one segment (so "/" or ".." inside an id stay data). */
OSB__HELPER osb_err osb__call_path(osb__call *k, const char *fmt, ...) {
    va_list ap;
    const char *p;
    va_start(ap, fmt);
    for (p = fmt; *p; p++) {
        if (p[0] == '{' && p[1] == '}') {
            const char *seg = va_arg(ap, const char *);
            if (!seg || !*seg) k->err = OSB_ERR_INVALID_ARG;
            else if (!strcmp(seg, ".") || !strcmp(seg, ".."))
                osb_buf_append_str(&k->path, seg[1] ? "%2E%2E" : "%2E");   /* data, not a dot-segment */
            else osb_url_encode(&k->path, seg, strlen(seg));
            p++;
        } else {
            osb_buf_append(&k->path, p, 1);
        }
    }
    va_end(ap);
    if (k->path.failed && !k->err) k->err = k->path.failed;
    return k->err;
}

/* Adds key=value to the query (both encoded); a NULL value adds nothing. */
OSB__HELPER void osb__call_query(osb__call *k, const char *key, const char *value) {
    if (!value) return;
    if (k->query.len) osb_buf_append(&k->query, "&", 1);
    osb_url_encode(&k->query, key, strlen(key));
    osb_buf_append(&k->query, "=", 1);
    osb_url_encode(&k->query, value, strlen(value));
}

OSB__HELPER void osb__call_query_int(osb__call *k, const char *key, int64_t v) {
    char num[32];
    snprintf(num, sizeof num, "%lld", (long long)v);
    osb__call_query(k, key, num);
}

/* Starts the JSON body; write it with the osb_jw_* calls on k->jw. */
OSB__HELPER osb_jw *osb__call_json(osb__call *k) {
    k->has_body = 1;
    k->content_type = "application/json";
    osb_jw_init(&k->jw, &k->body);
    return &k->jw;
}

/* Sleeps ms milliseconds (between retries), waking early if cancelled. */
static void osb__sleep_ms(int64_t ms) {
    if (ms <= 0) return;
#ifdef _WIN32
    Sleep((DWORD)ms);
#else
    {
        struct timespec ts;
        ts.tv_sec = (time_t)(ms / 1000);
        ts.tv_nsec = (long)(ms % 1000) * 1000000L;
        while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {}
    }
#endif
}

/* Whether a failed attempt may be sent again, by the retry contract. */
static int osb__may_retry(const osb__call *k, osb_err e, const osb_error *err) {
    int idempotent = osb__method_idempotent(k->method);
    if (k->stream) return 0;
    if (e == OSB_ERR_HTTP) {
        int s = err->http_status;
        if (s == 429 || s == 502) return 1;
        return idempotent && (s == 503 || s == 504);
    }
    if (e == OSB_ERR_DNS) return 1;   /* nothing left the machine */
    if (e == OSB_ERR_CONNECT && err->phase == OSB_PHASE_CONNECT) return 1;
    if (e == OSB_ERR_TIMEOUT && err->phase == OSB_PHASE_CONNECT) return 1;
    return idempotent && (e == OSB_ERR_CONNECT || e == OSB_ERR_CLOSED || e == OSB_ERR_TIMEOUT);
}

/* The wait before retry number n (1-based): capped exponential backoff with
 * jitter, or the server's Retry-After up to 60 s. */
static int64_t osb__backoff_ms(osb_client *c, int n, const osb_error *err) {
    int64_t base = c->retry.initial_ms, wait;
    int i;
    if (err->retry_after_ms >= 0) return err->retry_after_ms > 60000 ? 60000 : err->retry_after_ms;
    for (i = 1; i < n && base < c->retry.max_ms; i++) base *= 2;
    if (base > c->retry.max_ms) base = c->retry.max_ms;
    /* "equal jitter": half fixed, half random, so retries spread out */
    wait = base / 2 + (int64_t)(osb__splitmix(&c->rng) % (uint64_t)(base / 2 + 1));
    return wait;
}

/* Sends the call, retrying as the contract allows, and decodes the result. */
OSB__HELPER osb_err osb__call_run(osb__call *k) {
    osb_client *c = k->c;
    osb_http_request req;
    osb_http_response res;
    osb_err e;
    int attempt;
    int64_t deadline = osb__deadline_in(c->timeouts.total_ms);
    char url[1400];
    if (k->out) *k->out = NULL;
    if (!k->err && k->has_body) {
        e = osb_jw_finish(&k->jw);
        if (e) k->err = e;
    }
    if (k->err) {
        osb__reset_error(&c->err);
        osb__set_error(&c->err, k->err, k->err == OSB_ERR_NOMEM ? "out of memory" : "invalid argument");
        osb__call_free(k);
        return k->err;
    }
    memset(&req, 0, sizeof req);
    req.method = k->method;
    req.path = k->path.data;
    req.query = k->query.len ? k->query.data : NULL;
    req.content_type = k->content_type;
    if (k->has_body) {
        req.body = k->body.data;
        req.body_len = k->body.len;
    }
    req.headers = k->headers;
    if (k->target) {
        const char *u = k->target->url;
        if (!u || !*u) {
            osb__reset_error(&c->err);
            osb__set_error(&c->err, OSB_ERR_INVALID_ARG, "the target has no URL");
            osb__call_free(k);
            return OSB_ERR_INVALID_ARG;
        }
        snprintf(url, sizeof url, "%s%s", strstr(u, "://") ? "" : (c->base.https ? "https://" : "http://"), u);
        req.url = url;
        req.headers = k->headers ? k->headers : k->target->headers;
    }
    for (attempt = 0;; attempt++) {
        e = osb_request_raw(c, &req, &res);
        if (e == OSB_OK) break;
        osb_http_response_free(&res);
        c->err.attempts = attempt + 1;
        if (attempt >= c->retry.max_retries || !osb__may_retry(k, e, &c->err) || c->retry_tokens < 10)
            break;
        {
            int64_t wait = osb__backoff_ms(c, attempt + 1, &c->err);
            if (deadline && osb__now_ms() + wait >= deadline) break;   /* no time left for it */
            c->retry_tokens -= 10;
            osb__sleep_ms(wait);
        }
    }
    if (e == OSB_OK) {
        int attempts = attempt + 1;
        if (c->retry_tokens < c->retry.budget * 10) c->retry_tokens++;
        if (k->type && k->out) {
            e = osb_bind(k->type, res.body.data ? res.body.data : "", res.body.len, c->alloc, k->out, &c->err);
            if (e) {
                char id[sizeof c->err.request_id];
                memcpy(id, res.request_id, sizeof id);
                c->err.http_status = res.status;
                memcpy(c->err.request_id, id, sizeof id);
                if (!c->err.message[0]) osb__set_error(&c->err, e, "unexpected response body");
            }
        }
        c->err.attempts = attempts;
    }
    osb_http_response_free(&res);
    osb__call_free(k);
    return e;
}

/* >>impl-lifecycle >>impl-execd */
#include "parts/lifecycle.h"
#include "parts/execd.h"
#include "parts/sandbox.h"

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
