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
 *   >>ws          WebSocket client (RFC 6455): frame codec and connections
 *   >>lifecycle >>diagnostics >>egress
 *                 every Lifecycle, Diagnostics and Egress operation
 *   >>execd       every execd operation: commands, sessions, code, files,
 *                 directories, metrics; event streams and executions
 *   >>pty         interactive terminals: execd's PTY sessions over a WebSocket
 *   >>config >>sandbox >>manager
 *                 configuration, the sandbox handle, listing and killing
 *   >>multi       many transfers from one thread: poll or your own event loop
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
 *   deadline bounds DNS too; address literals never start one. With
 *   OSB_DNS=1 the library's own resolver asks the DNS servers itself within
 *   the deadline, and no thread is ever started. For many
 *   calls at once from one thread (hundreds of sandboxes, your own event
 *   loop) there is the multi handle (>>multi).
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
 *   passes its deadline. The built-in resolver (OSB_DNS=1) keeps its ~8 KB
 *   of state on the stack of the blocking call, or from the client's
 *   allocator for a multi's lookup, and has no global state.
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
 * TERMINALS
 * =========
 *   osb_ws_open speaks WebSocket (RFC 6455) to any sandbox port, on the same
 *   connections, pool, TLS and error detail as HTTP, through an endpoint or
 *   the server proxy. execd's interactive terminals (osb_pty_*, and
 *   osb_sandbox_shell for a shell in one call) run on it: input, window
 *   size, signals, output as it comes, detach and re-attach, the exit code.
 *   Incoming messages are read in pieces as they arrive, never collected;
 *   pings are answered. No total deadline, only an idle one the caller sets.
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
 *     OSB_WS_MAX_MESSAGE       16 MiB  one incoming WebSocket message (default of
 *                                      osb_ws_options.max_message)
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
 *     OSB_DNS                 0   1 = the built-in stub resolver instead of
 *                                 getaddrinfo (POSIX only; an #error on
 *                                 Windows): /etc/hosts, then A and AAAA over
 *                                 UDP (TCP when truncated) to the servers of
 *                                 /etc/resolv.conf (nameserver, search/domain,
 *                                 options ndots timeout attempts), within the
 *                                 connect deadline, without a thread; the
 *                                 environment variables OSB_RESOLV_CONF and
 *                                 OSB_HOSTS name other files. No getaddrinfo
 *                                 or pthreads in a static link.
 *     OSB_TLS_HALF_DUPLEX     0   1 = 24 KB per TLS connection instead of 40 KB
 *     OSB_TLS_SMALL_EC        0   1 = the same curves (X25519, P-256/384/521) through
 *                                 BearSSL's generic code: 9 KB less, each ECDHE and
 *                                 ECDSA check several times slower
 *     OSB_TLS_SMALL_CIPHERS   0   1 = AES-GCM and Poly1305 through BearSSL's portable
 *                                 constant-time code only (no AES-NI/PCLMUL code,
 *                                 the 32-bit multiply Poly1305): 6 KB less on x86-64,
 *                                 the same suites on every CPU, bulk encryption
 *                                 several times slower
 *     OSB_TLS_EMBEDDED_ANCHORS    br_x509_trust_anchor array compiled in (with
 *                                 OSB_TLS_EMBEDDED_ANCHORS_NUM), tried last
 *     OSB_EXECD_PORT      44772   execd's port inside a sandbox
 *     OSB_EGRESS_PORT     18080   the egress sidecar's port
 *     OSB_DEFAULT_SANDBOX_TIMEOUT_S  600    time to live of a new sandbox
 *     OSB_DEFAULT_READY_TIMEOUT_MS   30000  wait for a new sandbox's execd
 *     OSB_DEFAULT_READY_POLL_MS      200    first wait between readiness probes
 *     OSB_MULTI_IO_BUFFER  8192   receive buffer of a multi's connection (>>multi)
 *     OSB_MULTI_STREAM_BUFFER 2048 first event buffer of a multi's stream
 *     OSB_MULTI_STEP_READS   32   body pieces one transfer reads per turn
 *     OSB_MULTI_STEP_WRITES  32   sends of one transfer's request per turn
 *     OSB_NO_SENDFILE             defined: uploads from a descriptor use read(),
 *                                 never sendfile (Linux)
 *     OSB_NO_SIMD                 defined: JSON strings are scanned by 8-byte
 *                                 words, never with SSE2, AVX2 or NEON
 *     OSB_NO_AVX2                 defined: the strings of execd events are not
 *                                 scanned 64 bytes per step with AVX2 (nor
 *                                 AVX-512) on the x86-64 CPUs that have it
 *                                 (3 KB less code)
 *     OSB_NO_AVX512               defined: not with AVX-512 VBMI2 either
 *                                 (1 KB less code)
 *     OSB_SHORT_ERRNO_TEXT    0   1 = system errors in messages read from a short
 *                                 table of those sockets and files give (musl's
 *                                 wording), "error N" for the rest, not strerror
 *                                 (1.5 KB of a static musl build); POSIX only
 *   Feature switches (0 by default; 1 leaves the family out of the
 *   declarations and the implementation, for builds without section garbage
 *   collection; define them alike wherever the header is included):
 *     OSB_NO_EGRESS           osb_egress_policy_*, osb_sandbox_egress_{policy,patch,delete}
 *     OSB_NO_VAULT            osb_vault_*, osb_sandbox_vault_*
 *     OSB_NO_CODE             osb_code_*, osb_sandbox_code, osb_sandbox_code_context
 *     OSB_NO_SESSION          osb_session_*, osb_sandbox_session, osb_sandbox_session_run
 *     OSB_NO_MANAGER          osb_manager_*
 *     OSB_NO_MULTI            osb_multi_*, osb_transfer_*, osb_sandbox_open_many,
 *                             osb_sandbox_run_many
 *     OSB_NO_PTY              osb_pty_*, osb_sandbox_shell
 *     OSB_NO_WS               osb_ws_* (the WebSocket codec and connection);
 *                             implies OSB_NO_PTY (terminals speak WebSocket)
 *     OSB_NO_PROXY            HTTP proxies: osb_no_proxy_match, osb_proxy_for; the
 *                             proxy variables (https_proxy, ...) are not read, every
 *                             connection is direct, and osb_client_new refuses a
 *                             client_config.proxy other than NULL or "" with
 *                             OSB_ERR_UNSUPPORTED
 *     OSB_NO_CONFIG_FILE      osb_config_load without the config file: explicit
 *                             settings and the environment only, no TOML reader;
 *                             an osb_config.file other than NULL or "" is refused
 *                             with OSB_ERR_UNSUPPORTED
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

/* feature switches (CONFIGURATION above) */
#ifndef OSB_NO_EGRESS
#  define OSB_NO_EGRESS 0
#endif
#ifndef OSB_NO_VAULT
#  define OSB_NO_VAULT 0
#endif
#ifndef OSB_NO_CODE
#  define OSB_NO_CODE 0
#endif
#ifndef OSB_NO_SESSION
#  define OSB_NO_SESSION 0
#endif
#ifndef OSB_NO_MANAGER
#  define OSB_NO_MANAGER 0
#endif
#ifndef OSB_NO_MULTI
#  define OSB_NO_MULTI 0
#endif
#ifndef OSB_NO_WS
#  define OSB_NO_WS 0
#endif
#ifndef OSB_NO_PROXY
#  define OSB_NO_PROXY 0
#endif
#ifndef OSB_NO_PTY
#  define OSB_NO_PTY OSB_NO_WS
#endif
#ifndef OSB_NO_CONFIG_FILE
#  define OSB_NO_CONFIG_FILE 0
#endif
#ifndef OSB_NO_FAST_EVENTS
#  define OSB_NO_FAST_EVENTS 0
#endif
#if OSB_NO_WS && !OSB_NO_PTY
#  error "the terminals (OSB_NO_PTY=0) speak WebSocket: they need OSB_NO_WS=0"
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
/* The tokenizers below do no I/O and never allocate: they work on memory the
 * caller owns (a scratch buffer, an event buffer, a part list). Only the
 * binding (osb_bind) allocates, once per result, through the allocator it is
 * given. Every struct here may be zero-filled by an init function and lives
 * wherever the caller likes (stack, heap, inside another struct). */

/* >>json ------------------------------------------------------------------- */

/* The deepest nesting of arrays and objects the JSON tokenizer accepts by
 * default (osb_json.max_depth may lower or raise it up to OSB_JSON_DEPTH_LIMIT).
 * Deeper documents fail with OSB_ERR_JSON. */
#ifndef OSB_JSON_MAX_DEPTH
#  define OSB_JSON_MAX_DEPTH 64
#endif
/* The fixed size of the nesting stack inside osb_json (one bit per level); it
 * does not depend on configuration, so the struct layout never changes. */
#define OSB_JSON_DEPTH_LIMIT 1024
/* The smallest scratch buffer osb_json_init accepts (one UTF-8 character plus
 * slack, so pieces of long strings always end on a character boundary). */
#define OSB_JSON_MIN_SCRATCH 8

/* What osb_json_next returns. Values > 0 are tokens. */
typedef enum osb_json_type {
    OSB_JSON_ERROR = -1,      /* see osb_json.err / err_offset; sticky */
    OSB_JSON_NEED_MORE = 0,   /* the chunk is used up: osb_json_feed the next one */
    OSB_JSON_OBJECT = 1,      /* '{' */
    OSB_JSON_OBJECT_END = 2,  /* '}' */
    OSB_JSON_ARRAY = 3,       /* '[' */
    OSB_JSON_ARRAY_END = 4,   /* ']' */
    OSB_JSON_KEY = 5,         /* an object member name (unescaped text) */
    OSB_JSON_STRING = 6,      /* a string value (unescaped text) */
    OSB_JSON_NUMBER = 7,      /* a number, as its text (see osb_json_to_*) */
    OSB_JSON_TRUE = 8,
    OSB_JSON_FALSE = 9,
    OSB_JSON_NULL = 10,
    OSB_JSON_DONE = 11        /* the input ended after one complete value */
} osb_json_type;

/* One token. For KEY, STRING and NUMBER, ptr/len hold the text: either inside
 * the caller's input chunk (a string without escapes that lies in one chunk)
 * or inside the scratch buffer. Either way it is valid until the next call to
 * osb_json_next or osb_json_feed, and it is not NUL-terminated. When more is
 * 1 the text is one piece of a longer value: the following calls return the
 * rest, with the same type, until a piece with more == 0. Pieces of strings
 * and keys always end on a UTF-8 character boundary. */
typedef struct osb_json_token {
    osb_json_type type;
    const char *ptr;
    size_t len;
    int more;
    uint32_t depth;           /* containers around the token (0 = top level) */
    uint64_t offset;          /* byte offset of the token's first byte */
} osb_json_token;

/* A resumable pull tokenizer for one JSON document (RFC 8259), fed in chunks
 * that need not be contiguous. Memory is bounded: the struct itself plus the
 * caller's scratch buffer, whatever the document's size.
 *
 *     osb_json j; osb_json_token t; char scratch[256]; int r;
 *     osb_json_init(&j, scratch, sizeof scratch);
 *     osb_json_feed(&j, chunk, chunk_len, is_last_chunk);
 *     while ((r = osb_json_next(&j, &t)) > 0 && r != OSB_JSON_DONE) { ...t... }
 *     r == OSB_JSON_NEED_MORE: feed the next chunk and call again;
 *     r == OSB_JSON_ERROR: j.err is OSB_ERR_JSON (malformed) or
 *     OSB_ERR_TRUNCATED (the input ended inside the document), j.err_offset
 *     the byte offset, j.err_msg a static description.
 *
 * A number or a partial literal at the end of a chunk is not returned until
 * the next byte, or until a chunk is fed with final = 1.
 *
 * To read one value out of a longer input (a JSON line, NDJSON), stop at the
 * token that completes the top-level value (depth 0: a scalar, OBJECT_END or
 * ARRAY_END); osb_json_offset then says how many bytes it used.
 *
 * Policy. Text inside strings must be valid UTF-8 (no overlong forms, no
 * encoded surrogates, nothing above U+10FFFF) and escapes must not leave a
 * lone surrogate (\ud800 alone): both are OSB_ERR_JSON, so the caller never
 * sees invalid UTF-8. Raw control characters (below 0x20) in strings are
 * errors; an escaped \u0000 is allowed and yields a NUL byte inside the text
 * (lengths are always explicit). Duplicate keys are returned as they come;
 * osb_bind lets the last one win, as Go and Python do. Anything but
 * whitespace after the top-level value is an error ("trailing data"). The
 * fields are private except err, err_offset, err_msg and max_depth. */
typedef struct osb_json {
    const char *in;           /* current chunk */
    size_t in_len, in_pos;
    uint64_t base;            /* offset of in[0] within the document */
    char *scratch;
    size_t scratch_cap, scratch_len;
    uint64_t tok_start;       /* offset of the token being read */
    uint32_t depth;
    uint32_t max_depth;       /* OSB_JSON_MAX_DEPTH after init; <= OSB_JSON_DEPTH_LIMIT */
    int final;                /* the current chunk is the last one */
    int gram;                 /* what may come next */
    int lex;                  /* inside which token */
    int sub;                  /* sub-state of the token */
    int direct;               /* the token's text is still a run of the input */
    int reset_scratch;        /* the last token pointed into scratch */
    int is_key;
    size_t run_start;         /* start of the direct run in the chunk */
    uint32_t acc;             /* \u accumulator / literal progress */
    uint32_t high;            /* pending high surrogate */
    int hex_count;
    int u8need, u8have;       /* UTF-8 continuation bytes still expected / seen */
    unsigned char u8lo, u8hi; /* allowed range of the next continuation byte */
    osb_err err;              /* OSB_OK until an error */
    uint64_t err_offset;      /* byte offset of the error */
    const char *err_msg;      /* static text, "" when no error */
    unsigned char stack[OSB_JSON_DEPTH_LIMIT / 8]; /* 1 bit per level: object */
} osb_json;

/* Prepares j. scratch (cap >= OSB_JSON_MIN_SCRATCH bytes, owned by the caller
 * and kept alive while j is used) receives unescaped strings and numbers that
 * cross chunk boundaries; values longer than it arrive in pieces. Returns
 * OSB_ERR_INVALID_ARG when scratch is NULL or too small. */
OSB_API osb_err osb_json_init(osb_json *j, char *scratch, size_t cap);
/* Hands the next chunk to j (data may be NULL when len is 0). final = 1 says
 * no input follows it. The previous chunk must have been used up (the last
 * osb_json_next returned OSB_JSON_NEED_MORE), else OSB_ERR_STATE and nothing
 * changes. The chunk must stay unchanged until the next feed. */
OSB_API osb_err osb_json_feed(osb_json *j, const void *data, size_t len, int final);
/* Reads the next token into *t; returns its type, OSB_JSON_NEED_MORE,
 * OSB_JSON_DONE (after the whole input, final chunk included, was checked) or
 * OSB_JSON_ERROR. */
OSB_API int osb_json_next(osb_json *j, osb_json_token *t);
/* Skips the rest of the value whose first token *first was just returned
 * (an OBJECT or ARRAY, or a piece with more == 1; for anything else there is
 * nothing to skip), so the next token is the one after that value. Returns 1
 * when done, OSB_JSON_NEED_MORE (feed, then call again with the same *first)
 * or OSB_JSON_ERROR. */
OSB_API int osb_json_skip(osb_json *j, const osb_json_token *first);
/* Bytes consumed so far from the start of the document. */
OSB_API uint64_t osb_json_offset(const osb_json *j);

/* Checked conversions of a JSON number's text (as returned in pieces joined,
 * or whole). Integers accept any exact integral value, so "1e3" and "4.0"
 * convert to 1000 and 4; a fraction or a value outside the type is
 * OSB_ERR_RANGE (never a wrap); text that is not a JSON number is
 * OSB_ERR_JSON. Doubles are correctly rounded and do not depend on the
 * locale; overflow to infinity is OSB_ERR_RANGE, underflow gives 0 or a
 * subnormal. *out is written only on success. */
OSB_API osb_err osb_json_to_i64(const char *text, size_t len, int64_t *out);
OSB_API osb_err osb_json_to_u64(const char *text, size_t len, uint64_t *out);
OSB_API osb_err osb_json_to_double(const char *text, size_t len, double *out);

/* >>jsonw ------------------------------------------------------------------- */

/* A JSON writer, into an osb_buf or streamed to an osb_write_fn. Each call
 * returns the writer's sticky error: after the first failure (a full buffer,
 * a stopped writer, a key where a value belongs, invalid UTF-8, a NaN) every
 * later call does nothing and returns the same code, so a request body can be
 * written with unchecked calls and one check of osb_jw_finish. Commas and
 * colons are placed automatically. Strings must be valid UTF-8
 * (OSB_ERR_INVALID_ARG otherwise, never silently altered); quotes, backslash
 * and control characters are escaped. Numbers never depend on the locale.
 * The fields are private. */
typedef struct osb_jw {
    osb_buf *buf;              /* destination buffer, or */
    osb_write_fn write;        /* destination writer (output is staged in out[]) */
    void *user;
    osb_err err;
    uint32_t depth;
    int after_key;             /* a key was written, its value is due */
    int done;                  /* a complete top-level value was written */
    size_t out_len;
    unsigned char is_obj[OSB_JSON_DEPTH_LIMIT / 8];
    unsigned char has_item[OSB_JSON_DEPTH_LIMIT / 8];
    char out[256];
} osb_jw;

/* Writes into buf (appending; buf->max limits the size: OSB_ERR_TOO_LARGE). */
OSB_API void osb_jw_init(osb_jw *w, osb_buf *buf);
/* Streams to write(user, ...); a non-zero return makes the writer fail with
 * OSB_ERR_CANCELLED. Output is staged in small blocks: call osb_jw_finish. */
OSB_API void osb_jw_init_writer(osb_jw *w, osb_write_fn write, void *user);
OSB_API osb_err osb_jw_object(osb_jw *w);      /* { */
OSB_API osb_err osb_jw_object_end(osb_jw *w);  /* } */
OSB_API osb_err osb_jw_array(osb_jw *w);       /* [ */
OSB_API osb_err osb_jw_array_end(osb_jw *w);   /* ] */
/* A member name; only inside an object, before each value. */
OSB_API osb_err osb_jw_key(osb_jw *w, const char *key);
OSB_API osb_err osb_jw_key_n(osb_jw *w, const char *key, size_t len);
/* A string value; osb_jw_str(w, NULL) writes null. len may include NUL bytes. */
OSB_API osb_err osb_jw_str(osb_jw *w, const char *s);
OSB_API osb_err osb_jw_str_n(osb_jw *w, const char *s, size_t len);
OSB_API osb_err osb_jw_int(osb_jw *w, int64_t v);
OSB_API osb_err osb_jw_uint(osb_jw *w, uint64_t v);
/* v with 15, 16 or 17 significant digits, the fewest that read back as
 * exactly v ("4", "0.1", "1e+300"); NaN and infinities have no JSON form:
 * OSB_ERR_INVALID_ARG. */
OSB_API osb_err osb_jw_double(osb_jw *w, double v);
OSB_API osb_err osb_jw_bool(osb_jw *w, int v);
/* An explicit null (merge-patch uses it to delete a key). */
OSB_API osb_err osb_jw_null(osb_jw *w);
/* Copies one complete JSON value given as text, unchecked (the caller
 * vouches for it), e.g. a raw field kept by osb_bind. */
OSB_API osb_err osb_jw_raw(osb_jw *w, const char *json, size_t len);
/* Flushes staged output and returns the sticky error; OSB_ERR_STATE if an
 * object or array is still open or nothing was written. */
OSB_API osb_err osb_jw_finish(osb_jw *w);

/* >>bind -------------------------------------------------------------------- */

/* Binding: one generic decoder fills C structs from JSON through static
 * field tables, so each response type is declared, not hand-parsed.
 *
 *     typedef struct my_item { osb_str id; int64_t n; } my_item;
 *     typedef struct my_list { my_item *items; size_t items_count;
 *                              osb_str raw; } my_list;
 *     static const osb_field my_item_fields[] = {
 *         OSB_FIELD_STR(my_item, id, "id"),
 *         OSB_FIELD_I64(my_item, n, "n"),
 *     };
 *     static const osb_type my_item_type = OSB_TYPE(my_item, my_item_fields);
 *     static const osb_field my_list_fields[] = {
 *         OSB_FIELD_ARRAY_OF(my_list, items, items_count, "items", &my_item_type),
 *     };
 *     static const osb_type my_list_type =
 *         OSB_TYPE_RAW(my_list, my_list_fields, raw);
 *
 *     my_list *l = NULL;
 *     if (osb_bind(&my_list_type, body, body_len, NULL, (void **)&l, NULL) == OSB_OK) {
 *         ... l->items[0].id.ptr ...
 *         osb_result_free(l);
 *     }
 *
 * A result is ONE allocation: the struct, its arrays, its strings and a copy
 * of the raw JSON, all in one block freed by osb_result_free. Strings are
 * osb_str whose ptr is NUL-terminated inside the block (the length is also
 * there, and the text may hold NUL bytes from \u0000). Absent or null
 * members leave their field zero (strings: ptr NULL, len 0). Unknown members
 * are skipped. Member names match exactly (case-sensitive). A duplicate
 * member: the last one wins. A value of the wrong JSON type is OSB_ERR_JSON;
 * a number that does not fit the field is OSB_ERR_RANGE. */

/* Field kinds. */
typedef enum osb_kind {
    OSB_KIND_STR = 1,      /* osb_str: a JSON string */
    OSB_KIND_I64 = 2,      /* int64_t: an integral number */
    OSB_KIND_U64 = 3,      /* uint64_t */
    OSB_KIND_INT = 4,      /* int (range-checked) */
    OSB_KIND_DOUBLE = 5,   /* double: any number */
    OSB_KIND_BOOL = 6,     /* int: true = 1, false = 0 */
    OSB_KIND_RAW = 7,      /* osb_str: the member's value as JSON text (any type) */
    OSB_KIND_OBJECT = 8,   /* a nested struct (field type = its osb_type) */
    OSB_KIND_ARRAY = 9,    /* T *items + size_t count; elements of kind elem */
    OSB_KIND_MAP = 10      /* osb_kv *items + size_t count: an object of strings */
} osb_kind;

/* One member of an object with a string value (OSB_KIND_MAP). */
typedef struct osb_kv {
    osb_str key;
    osb_str value;
} osb_kv;

struct osb_type;

/* One row of a field table; write rows with the OSB_FIELD_* macros (the
 * members are in the order that leaves no padding: 40 bytes a row on 64-bit
 * systems, not 48). */
typedef struct osb_field {
    const char *name;               /* JSON member name */
    const struct osb_type *type;    /* OBJECT, or ARRAY of OBJECT: the nested type */
    size_t offset;                  /* offsetof the member */
    size_t count_offset;            /* ARRAY and MAP: offsetof the size_t count */
    osb_kind kind;
    osb_kind elem;                  /* ARRAY: kind of the elements */
} osb_field;

/* A struct type: its size, its field table and where to keep the raw JSON. */
typedef struct osb_type {
    const char *name;               /* the C type's name, for error messages */
    size_t size;                    /* sizeof the struct */
    const osb_field *fields;
    size_t nfields;
    size_t raw_offset;              /* osb_str member receiving the object's raw JSON, or OSB_NO_RAW */
} osb_type;

#define OSB_NO_RAW ((size_t)-1)

/* A constant expression that fails to compile when cond is false; used so a
 * field macro naming a member of the wrong C type does not compile. */
#define OSB__CHECK0(cond) (0 * sizeof(char[(cond) ? 1 : -1]))
#define OSB__MSIZE(T, m) sizeof(((T *)0)->m)
#define OSB__FIELD(T, m, name, kind, size)                                          \
    { name, (const struct osb_type *)0,                                             \
      offsetof(T, m) + OSB__CHECK0(OSB__MSIZE(T, m) == (size)), 0, kind, (osb_kind)0 }

#define OSB_FIELD_STR(T, m, name)    OSB__FIELD(T, m, name, OSB_KIND_STR, sizeof(osb_str))
#define OSB_FIELD_RAW(T, m, name)    OSB__FIELD(T, m, name, OSB_KIND_RAW, sizeof(osb_str))
#define OSB_FIELD_I64(T, m, name)    OSB__FIELD(T, m, name, OSB_KIND_I64, sizeof(int64_t))
#define OSB_FIELD_U64(T, m, name)    OSB__FIELD(T, m, name, OSB_KIND_U64, sizeof(uint64_t))
#define OSB_FIELD_INT(T, m, name)    OSB__FIELD(T, m, name, OSB_KIND_INT, sizeof(int))
#define OSB_FIELD_DOUBLE(T, m, name) OSB__FIELD(T, m, name, OSB_KIND_DOUBLE, sizeof(double))
#define OSB_FIELD_BOOL(T, m, name)   OSB__FIELD(T, m, name, OSB_KIND_BOOL, sizeof(int))
/* A nested object stored inline (member of the struct type described by st). */
#define OSB_FIELD_OBJECT(T, m, name, st)                                            \
    { name, st, offsetof(T, m), 0, OSB_KIND_OBJECT, (osb_kind)0 }
/* An array: member m is a pointer to the elements, member n a size_t count;
 * elem is the kind of the elements (not OBJECT: see OSB_FIELD_ARRAY_OF). */
#define OSB_FIELD_ARRAY(T, m, n, name, elem)                                        \
    { name, (const struct osb_type *)0,                                             \
      offsetof(T, m) + OSB__CHECK0(OSB__MSIZE(T, m) == sizeof(void *)),             \
      offsetof(T, n) + OSB__CHECK0(OSB__MSIZE(T, n) == sizeof(size_t)), OSB_KIND_ARRAY, elem }
/* An array of objects of the struct type st. */
#define OSB_FIELD_ARRAY_OF(T, m, n, name, st)                                       \
    { name, st, offsetof(T, m) + OSB__CHECK0(OSB__MSIZE(T, m) == sizeof(void *)),   \
      offsetof(T, n) + OSB__CHECK0(OSB__MSIZE(T, n) == sizeof(size_t)), OSB_KIND_ARRAY, \
      OSB_KIND_OBJECT }
/* An object whose values are strings, as osb_kv *m with size_t count n. */
#define OSB_FIELD_MAP(T, m, n, name)                                                \
    { name, (const struct osb_type *)0,                                             \
      offsetof(T, m) + OSB__CHECK0(OSB__MSIZE(T, m) == sizeof(void *)),             \
      offsetof(T, n) + OSB__CHECK0(OSB__MSIZE(T, n) == sizeof(size_t)), OSB_KIND_MAP, (osb_kind)0 }
/* The type of struct T with field table f (an array, not a pointer). */
#define OSB_TYPE(T, f) { #T, sizeof(T), f, sizeof(f) / sizeof((f)[0]), OSB_NO_RAW }
/* The same, keeping the object's raw JSON in the osb_str member raw. */
#define OSB_TYPE_RAW(T, f, raw)                                                     \
    { #T, sizeof(T), f, sizeof(f) / sizeof((f)[0]),                                 \
      offsetof(T, raw) + OSB__CHECK0(OSB__MSIZE(T, raw) == sizeof(osb_str)) }
/* A type with no decoded fields: only the raw JSON is kept (the object is
 * still checked to be well-formed JSON). */
#define OSB_TYPE_RAW_ONLY(T, raw)                                                   \
    { #T, sizeof(T), (const osb_field *)0, 0,                                       \
      offsetof(T, raw) + OSB__CHECK0(OSB__MSIZE(T, raw) == sizeof(osb_str)) }

/* Decodes the JSON document json[0..len) into a new result of type t and
 * stores it in *out (set to NULL first). The document must be an object; or,
 * when t's first field has the empty name "", an array bound to that field
 * (for endpoints answering with a bare array). allocator NULL = libc; the
 * result remembers it, so osb_result_free needs no argument. err (may be
 * NULL) receives the code, the byte offset and a message on failure.
 * Errors: OSB_ERR_JSON, OSB_ERR_TRUNCATED, OSB_ERR_RANGE, OSB_ERR_NOMEM,
 * OSB_ERR_INVALID_ARG (a NULL argument or a bad table). */
OSB_API osb_err osb_bind(const osb_type *t, const char *json, size_t len,
                         const osb_allocator *allocator, void **out, osb_error *err);
/* Binds without allocating: the struct goes to dst (t->size bytes, zeroed
 * first) and its strings and arrays into buf[0..cap), which must outlive
 * dst's use. For decoding many small documents (stream events) with one
 * reusable buffer. *need (may be NULL) receives the bytes of buf used, or on
 * OSB_ERR_TOO_LARGE the size that suffices. dst is left zero on failure.
 * Other errors as osb_bind. */
OSB_API osb_err osb_bind_into(const osb_type *t, const char *json, size_t len, void *dst,
                              void *buf, size_t cap, size_t *need, osb_error *err);
/* Frees any result made by this library (osb_bind and the REST calls) with
 * the allocator it came from. NULL is ignored. */
OSB_API void osb_result_free(void *result);
/* The total size of a result's block, for accounting. 0 for NULL. */
OSB_API size_t osb_result_size(const void *result);

/* >>sse --------------------------------------------------------------------- */

/* The largest event (its data) accepted by default; beyond it the tokenizer
 * fails with OSB_ERR_TOO_LARGE (osb_sse.max_event changes it per stream). */
#ifndef OSB_SSE_MAX_EVENT
#  define OSB_SSE_MAX_EVENT (16u * 1024u * 1024u)
#endif
#define OSB_SSE_MAX_TYPE 64   /* event: names up to 63 bytes (else OSB_ERR_TOO_LARGE) */
#define OSB_SSE_MAX_ID 128    /* id: values up to 127 bytes (else OSB_ERR_TOO_LARGE) */

/* What osb_sse_status reports after osb_sse_push / osb_sse_finish. */
typedef enum osb_sse_state {
    OSB_SSE_ERROR = -1,   /* osb_sse.err says why (sticky) */
    OSB_SSE_MORE = 0,     /* every byte given was consumed; push more */
    OSB_SSE_EVENT = 1,    /* an event is complete: osb_sse_event_get reads it */
    OSB_SSE_FULL = 2,     /* the event buffer is full but below max_event:
                             give a larger one (osb_sse_set_buffer) and push
                             the unconsumed bytes again */
    OSB_SSE_END = 3       /* osb_sse_finish: the stream ended cleanly */
} osb_sse_state;

/* One event; the pointers stay valid until the next push, finish or
 * set_buffer. data is NUL-terminated (inside the caller's buffer). */
typedef struct osb_sse_event {
    const char *data;     /* joined data: lines ('\n' between lines), or the bare JSON line */
    size_t data_len;
    const char *type;     /* "event:" value, "" when none ("message" per the SSE spec) */
    size_t type_len;
    const char *id;       /* the last event id seen on the stream, "" when none */
    size_t id_len;
    int bare;             /* 1: a bare JSON line (execd / metrics framing), 0: data: lines */
    uint64_t offset;      /* stream byte offset where the event started */
} osb_sse_event;

/* A push tokenizer for event streams (BearSSL's PEM decoder is the model):
 * osb_sse_push consumes bytes and stops right after each event; the caller
 * then reads the event and pushes the rest. It understands
 *   - standard SSE: "event:", "data:" (several lines joined by '\n'), "id:",
 *     "retry:", ":" comments (skipped), unknown fields (skipped), a blank line
 *     dispatching the event; lines end in LF, CR or CRLF (a CR at the end of a
 *     chunk is remembered, so a LF starting the next chunk does not count as
 *     a second line end); a UTF-8 BOM at the start is skipped;
 *   - execd framing: a line starting with '{' or '[' is a bare JSON event by
 *     itself, dispatched at its end of line; the blank line execd writes
 *     after it is then just an empty line. This also covers /metrics/watch
 *     (one object per single newline) and a bare {code,message} object that
 *     ends the stream without a newline (osb_sse_finish dispatches it).
 * Event data accumulates in a caller buffer; the tokenizer never allocates.
 * When the buffer is full it stops with OSB_SSE_FULL so the stream layer may
 * grow it up to max_event; data beyond max_event fails with
 * OSB_ERR_TOO_LARGE: events are never silently cut or dropped. The fields are
 * private except err, err_offset, max_event and retry_ms. */
typedef struct osb_sse {
    char *buf;                 /* event data (caller's) */
    size_t cap;                /* its size in bytes */
    size_t len;                /* data bytes of the event being read */
    size_t max_event;          /* OSB_SSE_MAX_EVENT after init */
    int64_t retry_ms;          /* last "retry:" value, -1 if none */
    uint64_t offset;           /* bytes consumed from the stream */
    uint64_t ev_offset;        /* where the current event started */
    osb_err err;
    uint64_t err_offset;
    int state;                 /* line-level state */
    int status;                /* osb_sse_state of the last call */
    int after_cr;              /* the last byte was a CR */
    int bom;                   /* BOM bytes matched so far (3 = done) */
    int bom_seen;              /* bytes of a BOM start that may turn out to be data */
    int has_data;              /* a data line was seen in this event */
    int bare;                  /* the current line is a bare JSON line */
    int field;                 /* which field the current line sets */
    int ended;                 /* finish was called */
    size_t name_len;           /* field name bytes so far */
    size_t type_len, id_len;
    size_t val_len;            /* bytes of an id/event value being read */
    uint64_t line_start;       /* offset of the current line */
    int64_t retry_acc;
    int retry_ok;
    char name[8];              /* field name being read */
    char type[OSB_SSE_MAX_TYPE];
    char id[OSB_SSE_MAX_ID];   /* last event id */
    char val[OSB_SSE_MAX_ID];  /* id or event value being read */
} osb_sse;

/* Prepares s with the event buffer buf of cap bytes (cap >= 1; NULL/0 is
 * allowed and makes the first data byte report OSB_SSE_FULL). */
OSB_API void osb_sse_init(osb_sse *s, char *buf, size_t cap);
/* Replaces the event buffer, keeping the data read so far: the new buffer
 * must already hold the first s->len bytes of the old one (realloc does
 * that). OSB_ERR_INVALID_ARG if cap <= s->len. */
OSB_API osb_err osb_sse_set_buffer(osb_sse *s, char *buf, size_t cap);
/* Consumes bytes of data[0..len) and returns how many; stops after the byte
 * that completes an event (status OSB_SSE_EVENT), when the buffer is full
 * (OSB_SSE_FULL), or on an error (OSB_SSE_ERROR, consumed up to the bad
 * byte). Otherwise every byte is consumed (OSB_SSE_MORE). Pushing after an
 * event discards that event. */
OSB_API size_t osb_sse_push(osb_sse *s, const void *data, size_t len);
/* The stream ended. Dispatches a final bare JSON line without a line end
 * (OSB_SSE_EVENT; call finish again afterwards): execd may end a stream with
 * a bare {code,message} and nothing after it. If the connection was cut in
 * the middle of such a line, parsing the event's JSON reports
 * OSB_ERR_TRUNCATED. Returns OSB_SSE_END when nothing was pending, or fails
 * with OSB_ERR_TRUNCATED when "data:" lines were not closed by a blank line
 * (the SSE spec discards such an event; the stream layer decides whether
 * that matters, e.g. after a terminal event). */
OSB_API osb_sse_state osb_sse_finish(osb_sse *s);
/* The state of the last push/finish. */
OSB_API osb_sse_state osb_sse_status(const osb_sse *s);
/* Fills *ev when the status is OSB_SSE_EVENT and returns 1; else zeroes *ev
 * and returns 0. */
OSB_API int osb_sse_event_get(const osb_sse *s, osb_sse_event *ev);

/* >>multipart ------------------------------------------------------------- */

/* One part of a multipart/form-data body. The body comes from memory (data,
 * size) or from a reader (read, read_user) that must deliver exactly size
 * bytes. name and filename are written as quoted-strings that Go's
 * multipart reader (execd) reads back: '"' and '\' as quoted-pairs,
 * control characters (CR, LF, ...) as '_'. */
typedef struct osb_mpart {
    const char *name;          /* form field name, required */
    const char *filename;      /* NULL: no filename parameter */
    const char *content_type;  /* NULL: no Content-Type header */
    const void *data;          /* in-memory body, when read is NULL */
    uint64_t size;             /* body length in bytes */
    osb_read_fn read;          /* streamed body */
    void *read_user;
} osb_mpart;

/* Streams a multipart/form-data body for a part list; osb_multipart_read is
 * an osb_read_fn. The length is known in advance (Content-Length). execd's
 * /files/upload wants, per file, a part "metadata" WITH a filename and
 * Content-Type application/json (see osb_upload_metadata), then a part
 * "file"; several files go in one request, pairs in order. The fields are
 * private except err. */
typedef struct osb_multipart {
    const osb_mpart *parts;
    size_t nparts;
    size_t part;               /* current part */
    int phase;                 /* head, body, body end, tail, done */
    uint64_t done_body;        /* body bytes of the current part sent */
    size_t head_len, head_pos;
    uint64_t total;            /* whole body length */
    uint64_t sent;
    osb_err err;
    char boundary[72];
    char content_type[104];    /* "multipart/form-data; boundary=..." */
    char head[1024];           /* the current part's head */
} osb_multipart;

/* Prepares m for parts[0..n) (kept alive by the caller while m is read).
 * boundary: 1..70 characters of [0-9A-Za-z'()+_,-./:=?]; NULL makes one
 * from the addresses and sizes involved and the clock, which is unique enough
 * for trusted content; pass random bytes (hex) when the content is hostile.
 * Errors: OSB_ERR_INVALID_ARG (no name, bad boundary, data NULL with size >
 * 0 and no reader), OSB_ERR_TOO_LARGE (a part head above 1000 bytes). */
OSB_API osb_err osb_multipart_init(osb_multipart *m, const osb_mpart *parts, size_t n,
                                   const char *boundary);
/* The exact body length, for Content-Length. */
OSB_API uint64_t osb_multipart_length(const osb_multipart *m);
/* "multipart/form-data; boundary=...", for the Content-Type header. */
OSB_API const char *osb_multipart_content_type(const osb_multipart *m);
/* osb_read_fn over the body: user is the osb_multipart. Returns bytes, 0 at
 * the end, -1 on error (m->err: OSB_ERR_IO when a reader fails or delivers
 * fewer bytes than its part's size). */
OSB_API ptrdiff_t osb_multipart_read(void *user, void *buf, size_t cap);
/* Appends execd's upload metadata JSON to out:
 * {"path":..., "owner":..., "group":..., "mode":...}; owner/group NULL and
 * mode 0 are left out. mode is the octal permission written with decimal
 * digits (0644 -> 644), as execd expects. */
OSB_API osb_err osb_upload_metadata(osb_buf *out, const char *path, const char *owner,
                                    const char *group, int mode);

/* >>url --------------------------------------------------------------------- */

/* Appends s[0..len) percent-encoded to out: everything but the unreserved
 * set (A-Z a-z 0-9 - . _ ~) becomes %XX (upper-case hex), space included
 * (%20). Right for a path segment and for a query key or value. */
OSB_API osb_err osb_url_encode(osb_buf *out, const char *s, size_t len);
/* Decodes %XX escapes of s[0..len) into out (cap bytes; cap >= len always
 * suffices, and out may equal s). form = 1 also turns '+' into a space, as
 * query strings are read. *out_len gets the length; out is NUL-terminated
 * when there is room. A '%' not followed by two hex digits is
 * OSB_ERR_INVALID_ARG; too small a buffer, OSB_ERR_TOO_LARGE. */
OSB_API osb_err osb_url_decode(const char *s, size_t len, char *out, size_t cap,
                               size_t *out_len, int form);
/* Appends "?key=value" (or "&key=value" when out already holds a '?'),
 * both encoded. value NULL appends nothing (an absent parameter). */
OSB_API osb_err osb_url_query(osb_buf *out, const char *key, const char *value);

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

/* >>tls ===================================================================
 *
 * HTTPS through BearSSL (compile with OSB_TLS=1 and link -lbearssl).
 *
 * Verification is always on: the server's certificate chain must end at a
 * trust anchor, be valid at the current time, and name the URL's host.
 * Nothing here turns verification off except the loudly named
 * insecure_skip_verify field, which exists for tests.
 *
 * Trust anchors are loaded once per client (before its first https
 * connection) from the first of these sources that is configured, and are
 * read-only afterwards; a configured source that cannot be
 * read, or yields no usable certificate, is an error (never a fall-through
 * to the next source, never "skip verification"):
 *   1. tls.ca_file and/or tls.ca_pem (both are loaded when both are set);
 *   2. $SSL_CERT_FILE (a PEM bundle);
 *   3. $SSL_CERT_DIR (every regular file in it; PEM certificates are kept,
 *      other files are ignored; not on MSVC builds);
 *   4. on Windows the system's ROOT certificate store ("windows:ROOT";
 *      links crypt32); then the first readable system bundle:
 *      /etc/ssl/certs/ca-certificates.crt,
 *      /etc/pki/tls/certs/ca-bundle.crt, /usr/share/ssl/certs/ca-bundle.crt,
 *      /usr/local/share/certs/ca-root-nss.crt, /etc/ssl/cert.pem;
 *   5. anchors compiled in: define OSB_TLS_EMBEDDED_ANCHORS to an array of
 *      br_x509_trust_anchor (as printed by `brssl ta`) and
 *      OSB_TLS_EMBEDDED_ANCHORS_NUM to its length before the implementation.
 * Zero anchors is an error (OSB_ERR_TLS). Only files holding PEM
 * "CERTIFICATE" objects are used; other PEM objects are skipped.
 *
 * Protocol: TLS 1.2 only (BearSSL has no TLS 1.3), ECDHE key exchange with
 * AES-GCM or ChaCha20-Poly1305, server keys RSA or EC; certificate
 * signatures with SHA-256/384/512 (SHA-1 signatures are refused).
 * Renegotiation is refused.
 *
 * Host names: the URL host is always given to BearSSL, which sends it as
 * SNI and matches it against the certificate's dNSName SANs (a single
 * leading "*." wildcard; the subject CN only when there is no SAN). For an
 * IP-literal host (https://10.0.0.5:8443, https://[::1]:443) BearSSL has
 * no support, so this library checks the certificate's iPAddress SANs
 * itself; no SNI is sent (RFC 6066 forbids IP literals there). A dNSName
 * that happens to spell the address does not count.
 *
 * Clock and entropy: certificate dates are checked against tls.now (seconds
 * since 1970) or time(); a clock that says "unknown" (a negative value)
 * fails validation. Randomness comes from the OS through BearSSL, plus
 * whatever tls.entropy adds; with neither the handshake fails with its own
 * message (tls_error 8).
 *
 * Memory: each TLS connection holds one allocation, made at connect time
 * and freed at close, nothing more while it is open or idle in the pool:
 * 40,448 bytes on x86-64, that is the BearSSL engine and X.509 contexts
 * (about 7.3 KB) and a full-duplex record buffer of BR_SSL_BUFSIZE_BIDI
 * (33,178 bytes). Define OSB_TLS_HALF_DUPLEX to 1 for a half-duplex buffer
 * of BR_SSL_BUFSIZE_MONO (16,709 bytes; 23,976 bytes a connection), which
 * is enough for HTTP/1.1 request-then-response. An IP-literal host adds
 * room for the server's certificate (OSB_TLS_MAX_CERT, default 16384). The
 * trust anchors are one allocation per certificate plus an array, per
 * client (78 KB for the 143 certificates of Debian 12's bundle).
 *
 * Errors: handshake and verification failures are OSB_ERR_TLS with
 * osb_error.tls_error set to BearSSL's code (osb_tls_strerror names it) and
 * a message that says what to do; a deadline is OSB_ERR_TIMEOUT with phase
 * OSB_PHASE_TLS; a TLS stream that ends without close_notify once reply
 * bytes have come is OSB_ERR_TRUNCATED (before any, it reads as the server
 * closing without a response, so an idempotent request may be sent again).
 *
 * Configuration (define before the implementation):
 *   OSB_TLS_HALF_DUPLEX        0   1 = 16.7 KB record buffer instead of 33.2 KB
 *   OSB_TLS_MAX_CERT       16384   largest server certificate for IP-literal hosts
 *   OSB_TLS_EMBEDDED_ANCHORS       compiled-in anchors (with ..._NUM), see above
 */


/* TLS settings of a client (osb_client_config.tls). Zero means: verify with
 * the trust anchors found as described above, time(), OS entropy. */
typedef struct osb_tls_config {
    /* The trust anchors are read once, when the client loads them (at the
     * latest before its first https connection); keep both strings valid for
     * as long as the client lives. */
    const char *ca_file;      /* PEM bundle path; NULL = environment, then system */
    const char *ca_pem;       /* PEM bundle in memory */
    size_t ca_pem_len;        /* its length; 0 = strlen(ca_pem) */
    /* TESTS ONLY: accept any certificate for any name. Never ship with it. */
    int insecure_skip_verify;
    /* Seconds since 1970-01-01 UTC, or a negative value when unknown (the
     * handshake then fails rather than skip the date check). NULL = time(). */
    int64_t (*now)(void *user);
    void *now_user;
    /* Fills len bytes of buf with unpredictable bytes; returns 0 on success.
     * Mixed with the OS's randomness; needed where the OS has none.
     * NULL = OS only. */
    int (*entropy)(void *user, void *buf, size_t len);
    void *entropy_user;
} osb_tls_config;

/* A readable text for a BearSSL error code (osb_error.tls_error): the SSL
 * codes 1-31, the X.509 codes 32-63, and received (256 + alert) or sent
 * (512 + alert) fatal alerts. Never NULL; works without OSB_TLS too. */
OSB_API const char *osb_tls_strerror(int tls_error);

/* Loads the trust anchors as a client with this configuration would and
 * reports how many were found (*count) and where (source, if not NULL: a
 * path, "ca_pem", "embedded", ...; cut to source_cap bytes). Useful to
 * check a deployment's trust store without a network call. OSB_ERR_TLS when
 * none could be loaded, OSB_ERR_UNSUPPORTED without OSB_TLS. */
OSB_API osb_err osb_tls_anchor_count(const osb_tls_config *cfg, size_t *count,
                                     char *source, size_t source_cap, osb_error *err);

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
    const char *api_key;           /* sent as OPEN-SANDBOX-API-KEY on lifecycle API calls only
                                      (never to execd, egress or a server-proxy route) */
    const char *user_agent;        /* default "opensandbox-c/<version>" */
    const char *const *headers;    /* extra "Name: value" lines for lifecycle API calls, NULL-terminated;
                                      framing headers (Host, Content-Length, ...) are refused */
    osb_timeouts timeouts;
    osb_retry retry;
    int pool_max;                  /* idle keep-alive connections kept; 0 = OSB_POOL_MAX, <0 = none */
    const osb_allocator *allocator;/* NULL = libc; must outlive the client */
    osb_tls_config tls;
    const char *execd_access_token;/* NULL: not sent. Sent as X-EXECD-ACCESS-TOKEN on execd calls
                                      only (the typed execd calls; osb_http_request.execd),
                                      unless the endpoint's headers carry one: execd's
                                      --access-token; the lifecycle server never hands it out */
    const char *client_ip;         /* NULL: not sent. An IPv4 or IPv6 address sent as
                                      OPEN-SANDBOX-CLIENT-IP on lifecycle API calls only
                                      (for gateways that log or route by it; the upstream
                                      server itself does not read it) */
    const char *proxy;             /* NULL: from the environment (https_proxy / HTTPS_PROXY,
                                      http_proxy / HTTP_PROXY, all_proxy / ALL_PROXY; README.md
                                      "Behind a proxy"). "http://[user:password@]host[:port]":
                                      this proxy for every request. "": no proxy, the environment
                                      is not read. https:// and socks proxies fail the requests
                                      that would use them with OSB_ERR_UNSUPPORTED */
    const char *no_proxy;          /* hosts reached directly (osb_no_proxy_match); NULL:
                                      no_proxy / NO_PROXY from the environment */
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

#if !OSB_NO_PROXY
/* 1 when host (a name or an address, IPv6 with or without brackets) at port
 * is in list, a NO_PROXY value: entries separated by commas or spaces, "*"
 * for every host; "example.com", ".example.com" and "*.example.com" all
 * match example.com and every name under it (whole labels, any case, as
 * curl reads them); an address matches itself, "10.0.0.0/8" or "fd00::/8"
 * the addresses in the range; ":port" after an entry ("[::1]:8080" for
 * IPv6) limits it to that port. Names never match addresses, and no
 * resolving is done. Entries that cannot be read match nothing. */
OSB_API int osb_no_proxy_match(const char *list, const char *host, unsigned port);
/* The proxy a client made from cfg would use for url (absolute, or
 * host[:port] with cfg's protocol): out gets "http://host:port" (never
 * credentials), or "" for a direct connection. OSB_ERR_UNSUPPORTED (out
 * naming it) for an https:// or socks proxy, OSB_ERR_INVALID_ARG for a
 * proxy URL or url that cannot be read, OSB_ERR_TOO_LARGE when out is too
 * small. Reads the environment as osb_client_new does. */
OSB_API osb_err osb_proxy_for(const osb_client_config *cfg, const char *url, char *out, size_t cap);
#endif /* OSB_NO_PROXY */

/* Called for each response header; return non-zero to cancel. */
typedef int (*osb_header_fn)(void *user, osb_str name, osb_str value);

/* One HTTP request. Zero-initialise; only what you set is used. */
typedef struct osb_http_request {
    const char *method;            /* NULL = "GET" */
    const char *url;               /* absolute URL (execd, egress, any endpoint; never gets the API
                                      key or the configured headers), then path is appended ... */
    const char *path;              /* ... or alone: a lifecycle API path, e.g. "/v1/sandboxes" (gets
                                      the API key and configured headers, except the server-proxy
                                      routes /v1/sandboxes/{id}/proxy/{port}/...). Already
                                      percent-encoded; spaces and controls are refused */
    const char *query;             /* encoded query without '?', or NULL */
    const char *const *headers;    /* "Name: value" lines, NULL-terminated, validated; Host,
                                      Content-Length, Transfer-Encoding, Connection, Upgrade,
                                      Expect, TE and Proxy-Authorization are the client's and
                                      refused here */
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
    const char *accept;            /* Accept value, unless a header line gives one; NULL: none */
    int execd;                     /* 1: an execd call (with url): it carries the client's
                                      execd_access_token unless a header line gives one */
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


/* >>ws =====================================================================
 *
 * A WebSocket client (RFC 6455) on the same transport as every other call:
 * the client's pool, TLS, connect deadline, allocator and error detail. It
 * reaches any sandbox port that speaks WebSocket, directly through an
 * endpoint or through the lifecycle server's proxy (an osb_target either way).
 *
 * Two layers:
 *   - the frame codec (no I/O, no allocation): osb_ws_parse_frame reads one
 *     frame head with the picohttpparser contract (head length / -2 need
 *     more / -1 malformed); osb_ws_decoder turns a byte stream into message
 *     pieces and control frames, checking fragmentation, masking, UTF-8 of
 *     text and close frames, and the size limit of a message;
 *   - the connection: osb_ws_open (the opening handshake, Sec-WebSocket-Accept
 *     checked), osb_ws_send / osb_ws_send_frame (masked, optionally
 *     fragmented), osb_ws_read (pieces of messages as they arrive: a large
 *     message is never collected in memory), osb_ws_close (the closing
 *     handshake). Pings are answered inside osb_ws_read; pongs are dropped.
 *
 * No total deadline: osb_ws_options.idle_ms (0 = none) bounds the silence
 * between two received frames; sends use the client's idle timeout. One
 * thread at a time per connection (and per client), as everywhere.
 * Errors: OSB_ERR_HTTP (the server answered the handshake with a status:
 * its code and message are in the error detail), OSB_ERR_PROTOCOL (a bad
 * handshake answer or a malformed frame: the connection is failed with close
 * code 1002, or 1007 for bad UTF-8), OSB_ERR_TOO_LARGE (a message over
 * max_message: close code 1009), OSB_ERR_TRUNCATED (the connection ended
 * without a close frame), OSB_ERR_TIMEOUT (phase OSB_PHASE_IDLE), and the
 * transport's errors. */

#define OSB_WS_MALFORMED (-1)   /* osb_ws_parse_frame / osb_ws_feed: not RFC 6455 */
#define OSB_WS_INCOMPLETE (-2)  /* osb_ws_parse_frame: need more bytes */
#define OSB_WS_TOO_LARGE (-3)   /* osb_ws_feed: a message over the decoder's limit */

/* Opcodes. */
#define OSB_WS_CONT 0x0
#define OSB_WS_TEXT 0x1
#define OSB_WS_BINARY 0x2
#define OSB_WS_CLOSE 0x8
#define OSB_WS_PING 0x9
#define OSB_WS_PONG 0xA

/* Close status codes used here (RFC 6455 section 7.4.1). */
#define OSB_WS_NORMAL 1000         /* done */
#define OSB_WS_GOING_AWAY 1001
#define OSB_WS_PROTOCOL_ERROR 1002
#define OSB_WS_NO_STATUS 1005      /* a close frame without a code (never sent) */
#define OSB_WS_ABNORMAL 1006       /* the connection dropped without a close frame (never sent) */
#define OSB_WS_INVALID_DATA 1007   /* text that is not UTF-8 */
#define OSB_WS_TOO_BIG 1009        /* a message over the limit */

/* One frame head. */
typedef struct osb_ws_frame_head {
    int fin;                 /* 1: the last frame of its message */
    int opcode;              /* OSB_WS_* */
    int masked;
    unsigned char mask[4];
    uint64_t length;         /* payload bytes */
} osb_ws_frame_head;

#if !OSB_NO_WS
/* Parses the frame head at buf[0..len): returns its length (2 to 14) when
 * complete, OSB_WS_INCOMPLETE, or OSB_WS_MALFORMED (reserved bits set, an
 * unknown opcode, a fragmented or over-125-byte control frame, a length not
 * in its shortest form or above 2^63). Stateless; never allocates. */
OSB_API int osb_ws_parse_frame(const char *buf, size_t len, osb_ws_frame_head *h);
/* Writes a frame head (at most 14 bytes) into out; mask NULL: unmasked.
 * Returns its length. */
OSB_API size_t osb_ws_write_head(unsigned char out[14], int fin, int opcode, const unsigned char *mask,
                                 uint64_t length);
/* XORs len bytes with the mask, as the bytes at payload offset 'offset'
 * (so a payload can be masked or unmasked in pieces). */
OSB_API void osb_ws_mask(void *data, size_t len, const unsigned char mask[4], uint64_t offset);
#endif /* OSB_NO_WS */

/* What osb_ws_feed found. opcode 0: nothing complete yet (feed more). */
typedef struct osb_ws_piece {
    int opcode;              /* OSB_WS_TEXT / OSB_WS_BINARY: a piece of a message;
                                OSB_WS_CLOSE / _PING / _PONG: a whole control frame */
    const char *data;        /* the payload bytes (unmasked), inside the fed buffer for data,
                                inside the decoder for control frames */
    size_t len;
    int first;               /* the first piece of its message */
    int last;                /* the message ends with this piece */
    uint64_t offset;         /* offset of data[0] in its message */
    int close_code;          /* OSB_WS_CLOSE: the status code, 1005 when none */
} osb_ws_piece;

/* A streaming decoder of the frames of one direction. Zero-initialise (or
 * osb_ws_decoder_init), set the two inputs, feed. */
typedef struct osb_ws_decoder {
    int expect_masked;       /* input: 0 = frames from a server (a masked one is an error),
                                1 = frames from a client (an unmasked one is an error) */
    uint64_t max_message;    /* input: largest data message; 0 = no limit */
    const char *error;       /* after a failure: what was wrong */
    int fail_code;           /* after a failure: the close code to send (1002, 1007, 1009) */
    /* private */
    int failed, in_frame, msg_op, msg_first;
    uint32_t utf8;
    size_t head_len, ctl_len;
    uint64_t done, msg_len;
    osb_ws_frame_head f;
    char head[14];
    char ctl[125];
} osb_ws_decoder;

#if !OSB_NO_WS
OSB_API void osb_ws_decoder_init(osb_ws_decoder *d, int expect_masked, uint64_t max_message);
/* Feeds len bytes. Returns the number consumed (>= 0) and fills *p when a
 * piece or a control frame is complete (then call again with the rest), or
 * OSB_WS_MALFORMED / OSB_WS_TOO_LARGE (sticky; d->error says why). Masked
 * payloads are unmasked in place (buf is written). Data pieces point into
 * buf; an empty data frame that starts or ends a message gives an empty
 * piece. Control frames may come between the frames of a message. Bytes are
 * consumed as far as they go, so a call that finds nothing consumed all. */
OSB_API ptrdiff_t osb_ws_feed(osb_ws_decoder *d, char *buf, size_t len, osb_ws_piece *p);
#endif /* OSB_NO_WS */

/* ---- the connection -------------------------------------------------------- */

typedef struct osb_ws osb_ws;

/* Zero-initialise; path is required. */
typedef struct osb_ws_options {
    const char *path;              /* under the target URL, percent-encoded, e.g. "/pty/ID/ws" */
    const char *query;             /* encoded query without '?', or NULL */
    const char *const *headers;    /* more "Name: value" lines (after the target's), or NULL */
    const char *protocol;          /* Sec-WebSocket-Protocol to offer, or NULL */
    uint64_t max_message;          /* largest incoming message; 0 = OSB_WS_MAX_MESSAGE */
    int idle_ms;                   /* longest silence from the server; 0 = no limit */
    const volatile int *cancel;    /* non-zero stops a wait with OSB_ERR_CANCELLED */
    int execd;                     /* 1: the target is execd (the client's execd access token
                                      goes with the upgrade, as on every execd call) */
} osb_ws_options;

/* What osb_ws_read gives: a piece of a message, the close, or nothing. */
typedef struct osb_ws_msg {
    int opcode;                    /* OSB_WS_TEXT / OSB_WS_BINARY, OSB_WS_CLOSE (the peer closed:
                                      close_code and the reason in data), 0 = nothing yet */
    const void *data;              /* valid until the next call on the connection */
    size_t len;
    int first, last;               /* where the piece sits in its message */
    uint64_t offset;               /* of data[0] in the message */
    int close_code;
} osb_ws_msg;

#if !OSB_NO_WS
/* Connects (or takes a pooled connection), sends the upgrade request (GET,
 * Sec-WebSocket-Key from the OS's randomness, version 13, the target's
 * headers) and checks the answer: 101, Upgrade: websocket, Connection:
 * upgrade, the Sec-WebSocket-Accept for the key, no extension, a protocol
 * only if offered. On failure *out is NULL. */
OSB_API osb_err osb_ws_open(osb_client *c, const osb_target *t, const osb_ws_options *o, osb_ws **out);
/* Sends a whole message as one frame (TEXT, BINARY, PING, PONG). */
OSB_API osb_err osb_ws_send(osb_ws *ws, int opcode, const void *data, size_t len);
/* Sends one frame of a fragmented message: the first with OSB_WS_TEXT or
 * OSB_WS_BINARY, the next ones with OSB_WS_CONT, fin = 1 on the last.
 * Control frames (osb_ws_send) may go in between. */
OSB_API osb_err osb_ws_send_frame(osb_ws *ws, int opcode, const void *data, size_t len, int fin);
/* The next piece of an incoming message. wait_ms < 0: wait until one comes
 * (bounded by idle_ms only); 0: only what is already here; > 0: at most that
 * long. Nothing yet: OSB_OK with m->opcode 0. After the peer's close frame
 * (answered at once) every call gives OSB_WS_CLOSE again. */
OSB_API osb_err osb_ws_read(osb_ws *ws, osb_ws_msg *m, int wait_ms);
/* The socket, to wait on with poll()/select() together with other files;
 * call osb_ws_read(ws, m, 0) when it is readable, and before waiting
 * whenever osb_ws_buffered says bytes are already here. */
OSB_API int osb_ws_fd(const osb_ws *ws);
OSB_API int osb_ws_buffered(const osb_ws *ws);
/* The close status the peer sent (0 while open, 1006 for a dropped connection). */
OSB_API int osb_ws_close_code(const osb_ws *ws);
/* Closes: sends a close frame with code (and reason, at most 123 bytes) unless
 * one was sent, waits up to 2 s for the peer's, closes the connection and
 * frees ws. code 0: drop the connection without a close frame. NULL is fine. */
OSB_API osb_err osb_ws_close(osb_ws *ws, int code, const char *reason);
#endif /* OSB_NO_WS */

/* >>lifecycle ============================================================== */

/* The Lifecycle (13 operations), Diagnostics (2) and Egress sidecar (11)
 * APIs, one function per operation.
 *
 * Conventions for every function below:
 *  - c is the client (never NULL). The lifecycle calls go to its domain with
 *    its API key; the egress calls go to an osb_target (the endpoint of port
 *    18080, see osb_target_from_endpoint) with that endpoint's headers and
 *    never with the API key.
 *  - Return: OSB_OK, or an error code with the detail in osb_client_error(c)
 *    (HTTP status, server code, message, X-Request-ID, attempts). A non-2xx
 *    answer is OSB_ERR_HTTP; classify it with osb_error_is_not_found() etc.
 *    A NULL or empty id/name argument is OSB_ERR_INVALID_ARG (nothing sent).
 *  - Results: *out is set to NULL first, then to ONE allocation on success,
 *    owned by the caller and freed with osb_result_free(). out may be NULL
 *    to discard the result (not for osb_sandbox_endpoint and
 *    osb_diagnostics_text, whose result is the point). Strings are osb_str
 *    (NUL-terminated, with length); absent or null JSON members leave fields
 *    zero (ptr NULL, count 0). Every result keeps the response JSON in
 *    'raw', so fields this version does not decode remain reachable.
 *  - X-Request-ID: every request carries one (generated, or the caller's
 *    from the client's configured headers); the id the server answered
 *    with is in osb_client_error(c)->request_id, after failures too.
 *  - Request structs: zero-initialise; a zero/NULL field means "not sent"
 *    (server default). The struct and everything it points to are only read
 *    during the call.
 *  - Retries follow the client's contract (osb_retry): GET/DELETE retried on
 *    connection failures and 429/502/503/504; POST/PATCH only when nothing
 *    was sent, and on 429/502.
 *  - Lists of strings in requests are NULL-terminated arrays.
 *  - Thread use: as the client (one thread at a time per client).
 *
 *     osb_sandbox_create_req r = {0};
 *     const char *const argv[] = {"python", "app.py", NULL};
 *     osb_sandbox_info *sb;
 *     osb_endpoint *ep;
 *     r.image = "python:3.11";
 *     r.entrypoint = argv;
 *     r.timeout_s = 600;
 *     if (osb_sandbox_create(c, &r, &sb) == OSB_OK) {
 *         if (osb_sandbox_endpoint(c, sb->id.ptr, 44772, NULL, &ep) == OSB_OK) {
 *             osb_target execd = osb_target_from_endpoint(ep);
 *             ... execd calls with &execd ...
 *             osb_result_free(ep);
 *         }
 *         osb_sandbox_delete(c, sb->id.ptr);
 *         osb_result_free(sb);
 *     } else {
 *         fprintf(stderr, "%s\n", osb_client_error(c)->message);
 *     } */

/* A key and a value for request maps (env, metadata, resource limits,
 * extensions, filters). value NULL writes JSON null where the API allows it
 * (metadata patch: delete the key; env: the server accepts null although
 * the spec says string). */
typedef struct osb_pair {
    const char *key;
    const char *value;
} osb_pair;

/* One egress rule: action "allow" or "deny", target a domain ("pypi.org"),
 * a wildcard ("*.example.com"), an IP or a CIDR. */
typedef struct osb_network_rule {
    const char *action;
    const char *target;
} osb_network_rule;

/* The network policy of a new sandbox (starts the egress sidecar). */
typedef struct osb_network_policy {
    const char *default_action;          /* "allow"/"deny"; NULL: not sent (server: deny) */
    const osb_network_rule *egress;      /* rules, first match wins */
    size_t egress_count;
} osb_network_policy;

/* Volume backends: exactly one of host, pvc, ossfs per osb_volume. */
typedef struct osb_volume_host {
    const char *path;                    /* absolute host path (or Windows drive path) */
} osb_volume_host;

typedef struct osb_volume_pvc {
    const char *claim_name;
    int create_if_not_exists;            /* 0: not sent (server: true), 1: true, -1: false */
    int delete_on_sandbox_termination;   /* 0: not sent (false), 1: true, -1: false */
    const char *storage_class;           /* NULL: not sent */
    const char *storage;                 /* e.g. "10Gi"; NULL: not sent */
    const char *const *access_modes;     /* e.g. {"ReadWriteOnce", NULL}; NULL: not sent */
} osb_volume_pvc;

typedef struct osb_volume_ossfs {
    const char *bucket;
    const char *endpoint;
    const char *version;                 /* "1.0" or "2.0"; NULL: not sent */
    const char *const *options;          /* NULL: not sent */
    const char *access_key_id;
    const char *access_key_secret;
} osb_volume_ossfs;

typedef struct osb_volume {
    const char *name;                    /* DNS label */
    const char *mount_path;              /* absolute path inside the sandbox */
    int read_only;                       /* 1: true; 0: not sent (false) */
    const char *sub_path;                /* NULL: not sent */
    const osb_volume_host *host;
    const osb_volume_pvc *pvc;
    const osb_volume_ossfs *ossfs;
} osb_volume;

/* POST /v1/sandboxes. Exactly one of image / snapshot_id (unless the
 * extensions carry "poolRef"); entrypoint is required with image. */
typedef struct osb_sandbox_create_req {
    const char *image;                   /* image URI, e.g. "python:3.11" */
    const char *image_username;          /* registry auth; both or neither */
    const char *image_password;
    const char *snapshot_id;             /* restore from a Ready snapshot */
    const char *const *entrypoint;       /* argv, NULL-terminated */
    const osb_pair *resource_limits;     /* {"cpu","1"}, {"memory","1Gi"}; none: {} is sent */
    size_t resource_limits_count;
    int timeout_s;                       /* seconds to live (>= 60); 0: not sent = no expiry */
    const osb_pair *env;                 /* value NULL is sent as null */
    size_t env_count;
    const osb_pair *metadata;
    size_t metadata_count;
    const char *platform_os;             /* "linux"/"windows"; NULL: not sent */
    const char *platform_arch;           /* "amd64"/"arm64" (send both or neither) */
    const osb_network_policy *network_policy;   /* NULL: no sidecar */
    int credential_proxy;                /* 1: {"enabled":true}, -1: false, 0: not sent */
    int secure_access;                   /* 1: true, -1: false, 0: not sent */
    const osb_volume *volumes;
    size_t volumes_count;
    const osb_pair *extensions;          /* e.g. {"poolRef","pool-a"} */
    size_t extensions_count;
} osb_sandbox_create_req;

/* status of a sandbox or a snapshot. */
typedef struct osb_sandbox_status {
    osb_str state;              /* "Pending" "Running" "Pausing" "Paused" "Resuming" "Stopping"
                                   "Terminated" "Failed"; also "Allocated", "Unknown"; free text */
    osb_str reason;
    osb_str message;
    osb_str last_transition_at; /* RFC 3339 */
} osb_sandbox_status;

typedef struct osb_image_info {
    osb_str uri;
} osb_image_info;

typedef struct osb_platform_info {
    osb_str os;
    osb_str arch;
} osb_platform_info;

/* A sandbox (create, get, list items, metadata patch). The create answer
 * has no image/snapshot_id. */
typedef struct osb_sandbox_info {
    osb_str id;
    osb_image_info image;       /* image.uri.ptr NULL when restored from a snapshot */
    osb_str snapshot_id;
    osb_platform_info platform;
    osb_sandbox_status status;
    osb_kv *metadata;
    size_t metadata_count;
    osb_str *entrypoint;
    size_t entrypoint_count;
    osb_str expires_at;         /* absent (ptr NULL) when the sandbox has no TTL */
    osb_str created_at;
    osb_str raw;
} osb_sandbox_info;

typedef struct osb_pagination {
    int64_t page;
    int64_t page_size;
    int64_t total_items;
    int64_t total_pages;
    int has_next_page;
} osb_pagination;

/* GET /v1/sandboxes filters. */
typedef struct osb_sandbox_list_req {
    const char *const *states;           /* any of (OR), case-insensitive; NULL: all */
    const osb_pair *metadata;            /* all must match exactly (AND) */
    size_t metadata_count;
    int page;                            /* >= 1; 0: not sent (1) */
    int page_size;                       /* 1..200; 0: not sent (20) */
} osb_sandbox_list_req;

typedef struct osb_sandbox_page {
    osb_sandbox_info *items;             /* newest first */
    size_t items_count;
    osb_pagination pagination;
    osb_str raw;
} osb_sandbox_page;

/* GET /v1/sandboxes/{id}/endpoints/{port} options. */
typedef struct osb_endpoint_req {
    int use_server_proxy;                /* 1: route through the lifecycle server's proxy */
    int64_t expires;                     /* > 0: a signed route valid until this Unix time
                                            (seconds); then use_server_proxy is never sent,
                                            the server refuses the combination */
} osb_endpoint_req;

/* Where a sandbox port is reached. */
typedef struct osb_endpoint {
    osb_str endpoint;                    /* as sent: usually scheme-less "host:port/prefix" */
    osb_kv *headers;                     /* headers to send with every request to it */
    size_t headers_count;
    osb_str url;                         /* endpoint with a scheme (the client's protocol
                                            when the server gave none) */
    const char *const *header_lines;     /* the headers as "Name: value", NULL-terminated
                                            (never NULL) */
    osb_str raw;
} osb_endpoint;

typedef struct osb_renew_result {
    osb_str expires_at;                  /* as normalised by the server (UTC) */
    osb_str raw;
} osb_renew_result;

/* A snapshot. status.state: "Creating", "Ready", "Failed", "Deleting". */
typedef struct osb_snapshot {
    osb_str id;
    osb_str sandbox_id;
    osb_str name;
    osb_sandbox_status status;
    osb_str created_at;
    osb_str raw;
} osb_snapshot;

typedef struct osb_snapshot_list_req {
    const char *sandbox_id;              /* NULL: snapshots of every sandbox */
    const char *const *states;           /* NULL: all */
    int page;                            /* 0: not sent */
    int page_size;                       /* 0: not sent */
} osb_snapshot_list_req;

typedef struct osb_snapshot_page {
    osb_snapshot *items;
    size_t items_count;
    osb_pagination pagination;
    osb_str raw;
} osb_snapshot_page;

/* POST /v1/sandboxes: creates a sandbox. The real servers answer 202 once it
 * is Running (status.state "Running"); in the spec's asynchronous mode it
 * may still be "Pending": poll osb_sandbox_get. *out: the new sandbox (id,
 * status, metadata, expires_at, created_at, entrypoint). Errors: 422/400
 * (OSB_ERR_HTTP, validation), 404/409 for snapshot_id, 500/503/504. */
OSB_API osb_err osb_sandbox_create(osb_client *c, const osb_sandbox_create_req *req,
                                   osb_sandbox_info **out);
/* GET /v1/sandboxes/{id}: one sandbox. 404 when unknown or deleted. */
OSB_API osb_err osb_sandbox_get(osb_client *c, const char *sandbox_id, osb_sandbox_info **out);
/* GET /v1/sandboxes: one page of sandboxes. req NULL: no filter, server
 * defaults. The metadata filter is encoded the way the server decodes it
 * (one "metadata" parameter holding an encoded "k=v&k2=v2"). */
OSB_API osb_err osb_sandbox_list(osb_client *c, const osb_sandbox_list_req *req,
                                 osb_sandbox_page **out);
/* DELETE /v1/sandboxes/{id}: kills and removes it (204). 404 when unknown. */
OSB_API osb_err osb_sandbox_delete(osb_client *c, const char *sandbox_id);
/* PATCH /v1/sandboxes/{id}/metadata as a JSON merge patch: a pair with a
 * value sets the key, a pair with value NULL deletes it (explicit null),
 * keys not given are kept; count 0 sends {} (no change). *out: the whole
 * sandbox after the change (out may be NULL to discard it). 400 for
 * invalid or reserved ("opensandbox.io/") keys, 404, 422. */
OSB_API osb_err osb_sandbox_metadata_patch(osb_client *c, const char *sandbox_id,
                                           const osb_pair *patch, size_t count,
                                           osb_sandbox_info **out);
/* POST /v1/sandboxes/{id}/pause (202, no body). 409 when not Running. */
OSB_API osb_err osb_sandbox_pause(osb_client *c, const char *sandbox_id);
/* POST /v1/sandboxes/{id}/resume (202, no body). 409 when not Paused. */
OSB_API osb_err osb_sandbox_resume(osb_client *c, const char *sandbox_id);
/* POST /v1/sandboxes/{id}/renew-expiration with expires_at, an RFC 3339
 * time (osb_format_time makes one). *out (may be NULL): the new expiry.
 * 400 when not in the future, 409 when the sandbox has no TTL, 404, 422. */
OSB_API osb_err osb_sandbox_renew(osb_client *c, const char *sandbox_id, const char *expires_at,
                                  osb_renew_result **out);
/* GET /v1/sandboxes/{id}/endpoints/{port}: how to reach a port (44772 execd,
 * 18080 egress, or any port of the sandbox). req NULL: a plain endpoint.
 * *out: the endpoint and its headers; turn it into a target with
 * osb_target_from_endpoint. port outside 1..65535: OSB_ERR_INVALID_ARG.
 * 400 (signed routes unsupported, bad port), 404, 422. */
OSB_API osb_err osb_sandbox_endpoint(osb_client *c, const char *sandbox_id, int port,
                                     const osb_endpoint_req *req, osb_endpoint **out);
/* A target for egress/execd calls, pointing into ep (valid while ep lives):
 * url = ep->url, headers = ep->header_lines. In server-proxy mode the url
 * is the lifecycle host's proxy route; the headers are still sent (the
 * proxy does not add the egress token itself). ep NULL: a zero target. */
OSB_API osb_target osb_target_from_endpoint(const osb_endpoint *ep);

/* POST /v1/sandboxes/{id}/snapshots: starts a snapshot (202, state
 * "Creating"; poll osb_snapshot_get until "Ready" or "Failed"). name NULL:
 * unnamed. 404, 409 (sandbox not Running), 501 (runtime without snapshots). */
OSB_API osb_err osb_snapshot_create(osb_client *c, const char *sandbox_id, const char *name,
                                    osb_snapshot **out);
/* GET /v1/snapshots/{id}. 404 when unknown. */
OSB_API osb_err osb_snapshot_get(osb_client *c, const char *snapshot_id, osb_snapshot **out);
/* GET /v1/snapshots: one page. req NULL: no filter. */
OSB_API osb_err osb_snapshot_list(osb_client *c, const osb_snapshot_list_req *req,
                                  osb_snapshot_page **out);
/* DELETE /v1/snapshots/{id} (204). 404, 409 while "Creating". */
OSB_API osb_err osb_snapshot_delete(osb_client *c, const char *snapshot_id);

/* Writes t (Unix seconds, UTC) as "YYYY-MM-DDTHH:MM:SSZ" into out (at least
 * 21 bytes). Returns out, or NULL when cap is too small or t is out of range. */
OSB_API char *osb_format_time(int64_t t, char *out, size_t cap);

/* >>diagnostics ------------------------------------------------------------ */

/* The stable diagnostics descriptor (specs/diagnostic-api.yml). */
typedef struct osb_diagnostic {
    osb_str sandbox_id;
    osb_str kind;                        /* "logs" or "events" */
    osb_str scope;
    osb_str delivery;                    /* "inline": content; "url": content_url */
    osb_str content_type;
    osb_str content;
    osb_str content_url;
    osb_str expires_at;                  /* of content_url */
    int64_t content_length;              /* 0 when absent */
    int truncated;
    osb_str *warnings;
    size_t warnings_count;
    osb_str raw;
} osb_diagnostic;

/* GET /v1/sandboxes/{id}/diagnostics/logs?scope=... scope NULL: "all"
 * (others: "container", "lifecycle", "runtime", "network", "process").
 * The open-source server does not implement the stable API: its 501 is
 * returned as OSB_ERR_UNSUPPORTED (detail: http_status 501, server code
 * DIAGNOSTICS_NOT_IMPLEMENTED); fall back to osb_diagnostics_text. */
OSB_API osb_err osb_diagnostics_logs(osb_client *c, const char *sandbox_id, const char *scope,
                                     osb_diagnostic **out);
/* GET .../diagnostics/events?scope=...; as osb_diagnostics_logs. */
OSB_API osb_err osb_diagnostics_events(osb_client *c, const char *sandbox_id, const char *scope,
                                       osb_diagnostic **out);

/* The legacy plain-text diagnostics routes (not in the spec; deprecated by
 * the servers but the only ones the open-source server serves). */
typedef struct osb_diagnostics_text_req {
    const char *kind;                    /* "logs" (NULL), "events", "inspect", "summary" */
    int tail;                            /* logs/summary: last lines; 0: not sent (100/50) */
    const char *since;                   /* logs: "30s", "10m", "1h", "2d"; NULL: not sent */
    int limit;                           /* events: 0: not sent (50) */
    int event_limit;                     /* summary: 0: not sent (20) */
} osb_diagnostics_text_req;

typedef struct osb_text {
    osb_str text;                        /* the body, NUL-terminated */
    osb_str content_type;
} osb_text;

/* GET /v1/sandboxes/{id}/diagnostics/{kind} without scope: the body as
 * text. req NULL: logs with the server's defaults. 404 when unknown. Not
 * retried. */
OSB_API osb_err osb_diagnostics_text(osb_client *c, const char *sandbox_id,
                                     const osb_diagnostics_text_req *req, osb_text **out);

/* >>egress ----------------------------------------------------------------- */

/* The egress calls take t = the endpoint of port 18080 of a sandbox created
 * with a network policy (osb_target_from_endpoint). Their error bodies are
 * plain text: the message lands in the error detail, server_code stays
 * empty. 401 when the OPENSANDBOX-EGRESS-AUTH header is missing or wrong;
 * 502 from the proxy when the sandbox has no sidecar. */

typedef struct osb_network_rule_info {
    osb_str action;
    osb_str target;
} osb_network_rule_info;

typedef struct osb_network_policy_info {
    osb_str default_action;
    osb_network_rule_info *egress;
    size_t egress_count;
} osb_network_policy_info;

typedef struct osb_egress_status {
    osb_str status;                      /* "ok" */
    osb_str mode;                        /* "allow_all", "deny_all", "enforcing" */
    osb_str enforcement_mode;            /* "dns" or "dns+nft" */
    osb_str reason;                      /* e.g. "no matching targets found" */
    osb_network_policy_info policy;      /* only from osb_egress_policy_get */
    osb_str raw;
} osb_egress_status;

/* GET /policy: the policy and its mode. */
#if !OSB_NO_EGRESS
OSB_API osb_err osb_egress_policy_get(osb_client *c, const osb_target *t, osb_egress_status **out);
/* PATCH /policy: merges rules (count >= 1; incoming first, first duplicate
 * target wins; default action unchanged). *out (may be NULL): mode only.
 * count 0: OSB_ERR_INVALID_ARG. 400 invalid rule, 413 too many rules. */
OSB_API osb_err osb_egress_policy_patch(osb_client *c, const osb_target *t,
                                        const osb_network_rule *rules, size_t count,
                                        osb_egress_status **out);
/* DELETE /policy with a JSON body: removes the rules for these targets
 * (count >= 1, case-insensitive; unknown targets are fine: reason says
 * "no matching targets found"). *out may be NULL. */
OSB_API osb_err osb_egress_policy_delete(osb_client *c, const osb_target *t,
                                         const char *const *targets, size_t count,
                                         osb_egress_status **out);
#endif /* OSB_NO_EGRESS */

/* Credential Vault inputs. Secrets are write-only: they are never returned. */
typedef struct osb_vault_credential_in {
    const char *name;
    const char *value;                   /* the secret (non-empty) */
    const char *source_type;             /* NULL: "inline" (the only kind) */
} osb_vault_credential_in;

typedef struct osb_vault_header_in {
    const char *name;                    /* header name */
    const char *credential;              /* credential NAME */
} osb_vault_header_in;

/* How a binding injects a credential. type: "bearer" (credential),
 * "basic" (credential holding base64 "user:pass"), "apiKey" (name = header
 * name, credential), "customHeaders" (headers). credential fields name a
 * credential of the vault, never a secret. */
typedef struct osb_vault_auth_in {
    const char *type;
    const char *credential;
    const char *name;
    const osb_vault_header_in *headers;
    size_t headers_count;
} osb_vault_auth_in;

/* Which requests a binding applies to; NULL lists are not sent (server
 * defaults: https, 443, GET POST PUT PATCH DELETE, every path). hosts required. */
typedef struct osb_vault_match_in {
    const char *const *hosts;
    const char *const *schemes;
    const int *ports;                    /* 80 and/or 443 */
    size_t ports_count;
    const char *const *methods;
    const char *const *paths;
} osb_vault_match_in;

typedef struct osb_vault_binding_in {
    const char *name;
    osb_vault_match_in match;
    osb_vault_auth_in auth;
} osb_vault_binding_in;

/* POST /credential-vault body. */
typedef struct osb_vault_create_req {
    const osb_vault_credential_in *credentials;
    size_t credentials_count;
    const osb_vault_binding_in *bindings;
    size_t bindings_count;
} osb_vault_create_req;

/* PATCH /credential-vault body: per collection delete, then replace, then
 * add; atomic. NULL/0 parts are not sent. */
typedef struct osb_vault_patch_req {
    int64_t expected_revision;           /* > 0: 409 unless it is the current revision */
    const osb_vault_credential_in *credentials_add;
    size_t credentials_add_count;
    const osb_vault_credential_in *credentials_replace;
    size_t credentials_replace_count;
    const char *const *credentials_delete;   /* names */
    const osb_vault_binding_in *bindings_add;
    size_t bindings_add_count;
    const osb_vault_binding_in *bindings_replace;
    size_t bindings_replace_count;
    const char *const *bindings_delete;      /* names */
} osb_vault_patch_req;

typedef struct osb_vault_credential {
    osb_str name;
    osb_str source_type;
    int64_t revision;                    /* vault revision of its last add/replace */
    osb_str raw;
} osb_vault_credential;

typedef struct osb_vault_match {
    osb_str *schemes;
    size_t schemes_count;
    int *ports;
    size_t ports_count;
    osb_str *hosts;
    size_t hosts_count;
    osb_str *methods;
    size_t methods_count;
    osb_str *paths;
    size_t paths_count;
} osb_vault_match;

typedef struct osb_vault_auth {
    osb_str type;
    osb_str name;                        /* header name, apiKey only */
} osb_vault_auth;

typedef struct osb_vault_binding {
    osb_str name;
    int64_t revision;                    /* the vault's current revision */
    osb_vault_match match;               /* normalised (defaults filled in) */
    osb_vault_auth auth;
    osb_str raw;
} osb_vault_binding;

/* The vault (sanitised). The list calls return it too, with only
 * credentials or only bindings. */
typedef struct osb_vault_state {
    int64_t revision;
    osb_vault_credential *credentials;   /* sorted by name */
    size_t credentials_count;
    osb_vault_binding *bindings;
    size_t bindings_count;
    osb_str raw;
} osb_vault_state;

/* POST /credential-vault (201). 409 exists, 412 not ready (sandbox created
 * without credential_proxy), 400 invalid (e.g. a host not allowed by the
 * egress policy), 426 insecure transport. out may be NULL. */
#if !OSB_NO_VAULT
OSB_API osb_err osb_vault_create(osb_client *c, const osb_target *t, const osb_vault_create_req *req,
                                 osb_vault_state **out);
/* GET /credential-vault. 404 when there is none. */
OSB_API osb_err osb_vault_get(osb_client *c, const osb_target *t, osb_vault_state **out);
/* PATCH /credential-vault. 404, 409 (revision), 400, 412. out may be NULL. */
OSB_API osb_err osb_vault_patch(osb_client *c, const osb_target *t, const osb_vault_patch_req *req,
                                osb_vault_state **out);
/* DELETE /credential-vault (204). 404 when there is none; 412. */
OSB_API osb_err osb_vault_delete(osb_client *c, const osb_target *t);
/* GET /credential-vault/credentials: revision + credentials. 404 no vault. */
OSB_API osb_err osb_vault_credential_list(osb_client *c, const osb_target *t, osb_vault_state **out);
/* GET /credential-vault/credentials/{name}. 404 unknown. */
OSB_API osb_err osb_vault_credential_get(osb_client *c, const osb_target *t, const char *name,
                                         osb_vault_credential **out);
/* GET /credential-vault/bindings: revision + bindings. 404 no vault. */
OSB_API osb_err osb_vault_binding_list(osb_client *c, const osb_target *t, osb_vault_state **out);
/* GET /credential-vault/bindings/{name}. 404 unknown. */
OSB_API osb_err osb_vault_binding_get(osb_client *c, const osb_target *t, const char *name,
                                      osb_vault_binding **out);
#endif /* OSB_NO_VAULT */

/* The execd API: commands, bash sessions, code contexts, files,
 * directories and metrics inside one sandbox. Every call takes the client
 * (its connection pool, allocator and last error) and the execd target (the
 * endpoint of port 44772 plus the headers to forward; see osb_target).
 *
 * Streams (run a command, run in a session, run code, watch metrics) come in
 * two forms over the same fixed buffers:
 *   - the callback form (osb_command_run, osb_session_run, osb_code_run,
 *     osb_metrics_watch): the callback sees every event; returning non-zero
 *     stops the stream with OSB_ERR_CANCELLED;
 *   - the pull form (osb_command_stream, ... then osb_stream_next until it
 *     gives no event, then osb_stream_close).
 * Streams have no total deadline, only the connect and idle (no byte)
 * deadlines of the client; the cancel flag of a request is checked between
 * reads. A bare {"code","message"} object inside a 200 stream (execd's way
 * of failing after the first event) ends the stream with OSB_ERR_SERVER;
 * the detail (server code and message) is in osb_client_error(c). */

/* Sizes of the fixed id buffers used below (execd ids are 32 hex digits or
 * a UUID; the slack is for other servers). */
#define OSB_EXEC_ID_MAX 128

/* ---- events ---------------------------------------------------------------- */

typedef enum osb_event_type {
    OSB_EVENT_UNKNOWN = 0,            /* a type this library does not know: see type_name, raw */
    OSB_EVENT_INIT = 1,               /* text: the execution id (command, session or context id) */
    OSB_EVENT_STATUS = 2,             /* text: e.g. "error" */
    OSB_EVENT_STDOUT = 3,             /* text: an output chunk */
    OSB_EVENT_STDERR = 4,             /* text: an error-output chunk */
    OSB_EVENT_RESULT = 5,             /* results: MIME type -> value */
    OSB_EVENT_ERROR = 6,              /* ename, evalue, traceback */
    OSB_EVENT_EXECUTION_COMPLETE = 7, /* execution_time_ms */
    OSB_EVENT_EXECUTION_COUNT = 8,    /* execution_count */
    OSB_EVENT_PING = 9,               /* keep-alive */
    OSB_EVENT_METRICS = 10            /* one /metrics/watch sample: metrics */
} osb_event_type;

/* One resource sample (GET /metrics, /metrics/watch). */
typedef struct osb_metrics {
    double cpu_count;        /* CPUs available (cgroup quota) */
    double cpu_used_pct;     /* busy percentage 0-100 over the sample */
    double mem_total_mib;
    double mem_used_mib;
    int64_t timestamp;       /* Unix milliseconds at the start of sampling */
    osb_str raw;             /* the JSON object as received */
} osb_metrics;

/* One decoded stream event. Every pointer points into the stream's buffers
 * and stays valid until the next osb_stream_next (or until the callback
 * returns); strings are NUL-terminated and carry their length. Absent
 * members are zero / empty. Decoding an event allocates nothing once the
 * buffers have grown to the largest event seen. */
typedef struct osb_event {
    osb_event_type type;
    osb_str type_name;           /* the "type" member as sent ("" for metrics samples) */
    osb_str text;                /* init, status, stdout, stderr, ping; a metrics stream's error */
    int64_t timestamp;           /* Unix milliseconds */
    int64_t execution_count;     /* execution_count events */
    int64_t execution_time_ms;   /* execution_complete (absent when 0 ms) */
    const osb_kv *results;       /* result: MIME type -> value. execd names text/plain "text".
                                    String values are unescaped text; other JSON values
                                    (objects, numbers) are their JSON text */
    size_t results_count;
    osb_str ename;               /* error: exception / error class */
    osb_str evalue;              /* error: the value (for commands the exit code as text) */
    const osb_str *traceback;    /* error: traceback lines */
    size_t traceback_count;
    osb_metrics metrics;         /* OSB_EVENT_METRICS */
    osb_str raw;                 /* the event's JSON text */
} osb_event;

/* Receives each event of a stream; return 0 to go on, non-zero to stop (the
 * call then fails with OSB_ERR_CANCELLED). */
typedef int (*osb_event_fn)(void *user, const osb_event *ev);

/* An open event stream (pull form). */
typedef struct osb_stream osb_stream;

/* Next event of the stream. On OSB_OK *ev is the event, or NULL when the
 * stream ended (after the terminal event of an execution, or at the end of
 * the body). After an error or the end, further calls repeat it. *ev is
 * valid until the next call. Errors: transport errors, OSB_ERR_SERVER (a bare
 * {code,message} in the stream), OSB_ERR_JSON (an event that is not a JSON
 * object), OSB_ERR_TOO_LARGE (an event above max_event), OSB_ERR_CANCELLED
 * (the cancel flag). */
OSB_API osb_err osb_stream_next(osb_stream *s, const osb_event **ev);
/* Calls fn(user) inside osb_stream_next each time the stream has decoded every
 * byte received so far and is about to wait on the network for more: the
 * moment to write out what the events so far produced (one write per network
 * read instead of one per event). Never called while a received event is still
 * to be returned; not called from osb_stream_close. fn NULL removes it; s NULL
 * is ignored. */
OSB_API void osb_stream_on_wait(osb_stream *s, void (*fn)(void *user), void *user);
/* Closes the stream (an unfinished body closes the connection) and frees it.
 * NULL is ignored. */
OSB_API void osb_stream_close(osb_stream *s);

/* ---- executions (aggregated results of a stream) --------------------------- */

/* One result event kept by an execution. */
typedef struct osb_execution_result {
    osb_kv *items;               /* every MIME type -> value, as in osb_event.results */
    size_t count;
    osb_str text;                /* the "text/plain" value, else the "text" value, else empty */
    int64_t execution_count;     /* the execution_count event before it, 0 if none */
} osb_execution_result;

/* What an execution produced. Zero-initialise it (optionally set
 * forward_only and allocator), pass it to a run call or feed it events with
 * osb_execution_add, read it, then osb_execution_free (which keeps the two
 * input fields, so the struct can be reused). */
typedef struct osb_execution {
    /* inputs */
    int forward_only;            /* 1 = keep no output text and no results (long runs):
                                    only the id, the error, counts, times and exit code */
    const osb_allocator *allocator; /* NULL = the client's (run calls) or libc */
    /* outputs */
    char id[OSB_EXEC_ID_MAX];    /* the init event's text: command / session / context id */
    osb_buf out;                 /* stdout text (for /command: one line per event, joined by '\n') */
    osb_buf err;                 /* stderr text (same) */
    osb_execution_result *results;
    size_t results_count;
    int has_error;               /* an error event arrived */
    osb_str ename, evalue;       /* its fields (NUL-terminated, owned by the execution) */
    osb_str *traceback;
    size_t traceback_count;
    int completed;               /* an execution_complete event arrived */
    int64_t execution_count;     /* the last execution_count, 0 if none */
    int64_t execution_time_ms;   /* from execution_complete */
    int exit_code_known;         /* 1 when exit_code is meaningful */
    int exit_code;               /* PROTOCOL.md 3.3: complete without error -> 0; an error whose
                                    evalue is a decimal integer -> that integer (-1: killed by a
                                    signal or timed out); otherwise unknown */
    uint64_t events;             /* events seen, pings included */
    uint64_t out_bytes, err_bytes; /* output text seen (counted even when forward_only) */
    /* private */
    void *priv_block;            /* ename/evalue/traceback storage */
    size_t results_cap;
    int line_mode;               /* 1: stdout/stderr events are lines (commands) */
} osb_execution;

/* Adds one event to an execution (what the run calls do for each event).
 * Errors: OSB_ERR_NOMEM (the execution keeps what it had). */
OSB_API osb_err osb_execution_add(osb_execution *x, const osb_event *ev);
/* Frees what the execution holds and clears it, keeping forward_only and
 * allocator. NULL is ignored. */
OSB_API void osb_execution_free(osb_execution *x);

/* ---- commands --------------------------------------------------------------- */

/* POST /command. Zero-initialise; command is required. */
typedef struct osb_command_request {
    const char *command;         /* run as `bash -c command` */
    const char *cwd;             /* working directory (must exist); NULL = execd's */
    int64_t timeout_ms;          /* 0 = no limit; the process group is killed after it */
    int uid_set;                 /* 1: run as uid */
    uint32_t uid;
    int gid_set;                 /* 1: with gid (execd requires uid then) */
    uint32_t gid;
    const char *const *envs;     /* "NAME=value" strings, NULL-terminated; NULL = none */
    const volatile int *cancel;  /* non-zero stops the stream (the command keeps running:
                                    use osb_command_interrupt) */
} osb_command_request;

/* Runs a command in the foreground and streams its events until the
 * terminal one. on_event (may be NULL) sees every event; x (may be NULL)
 * aggregates them (see osb_execution). A non-zero exit status is not an
 * error of the call: read x->exit_code. Errors: OSB_ERR_HTTP (400 bad
 * request / cwd, 500), OSB_ERR_SERVER, transport errors, OSB_ERR_CANCELLED. */
OSB_API osb_err osb_command_run(osb_client *c, const osb_target *execd, const osb_command_request *req,
                                osb_event_fn on_event, void *user, osb_execution *x);
/* The same as a pull stream (*out NULL on failure). background = 1 starts a
 * background command (the stream then ends after init + execution_complete). */
OSB_API osb_err osb_command_stream(osb_client *c, const osb_target *execd, const osb_command_request *req,
                                   int background, osb_stream **out);
/* Starts a background command and stores its id (NUL-terminated) in
 * id[0..cap). The output goes to a log read with osb_command_logs. */
OSB_API osb_err osb_command_start(osb_client *c, const osb_target *execd, const osb_command_request *req,
                                  char *id, size_t cap);

/* GET /command/status/{id}. */
typedef struct osb_command_status {
    osb_str id;
    osb_str content;             /* the command line */
    int running;
    int has_exit_code;           /* 0 while running (execd omits it) */
    int64_t exit_code;           /* -1: killed by a signal; 255: a background start failure */
    osb_str error;               /* e.g. "exit status 2", "signal: killed"; empty if none */
    osb_str started_at, finished_at; /* RFC 3339 text; finished_at empty while running */
    osb_str exit_code_json;      /* private: the raw member */
    osb_str raw;
} osb_command_status;

/* The status of a command (foreground or background). *out is one result,
 * free it with osb_result_free. Unknown id: OSB_ERR_HTTP 404. */
OSB_API osb_err osb_command_status_get(osb_client *c, const osb_target *execd, const char *id,
                                       osb_command_status **out);
/* GET /command/{id}/logs?cursor=N: the output of a background command from
 * byte offset cursor to its current end, delivered to sink (bytes as
 * written, possibly ending inside a line or a UTF-8 sequence).
 * *next_cursor (may be NULL) receives EXECD-COMMANDS-TAIL-CURSOR, the offset
 * to pass next time (cursor + the bytes delivered if the header is absent).
 * Errors: OSB_ERR_HTTP (400 for an unknown or a foreground id),
 * OSB_ERR_CANCELLED (the sink stopped). */
OSB_API osb_err osb_command_logs(osb_client *c, const osb_target *execd, const char *id, uint64_t cursor,
                                 osb_write_fn sink, void *user, uint64_t *next_cursor);
/* Follows a background command's log until it ends: logs from the cursor,
 * then the status, every poll_ms (0 = 500) until the command is no longer
 * running, and one last logs read. *cursor (in/out; NULL = from 0) is the
 * byte offset. *exit_code (may be NULL) receives the final exit code (-1
 * for a signal; left untouched when execd reports none). cancel (may be
 * NULL) stops between polls with OSB_ERR_CANCELLED. */
OSB_API osb_err osb_command_follow(osb_client *c, const osb_target *execd, const char *id,
                                   osb_write_fn sink, void *user, uint64_t *cursor, int poll_ms,
                                   const volatile int *cancel, int *exit_code);
/* DELETE /command?id=: SIGTERM to a running command's process group (SIGKILL
 * after 3 s; the call can take that long). A finished command: OSB_ERR_HTTP
 * 500. Given a session id, execd deletes the session. */
OSB_API osb_err osb_command_interrupt(osb_client *c, const osb_target *execd, const char *id);

/* ---- bash sessions ------------------------------------------------------------ */

/* POST /session: a session whose exported variables and working directory
 * persist from one run to the next. cwd (may be NULL) is created if
 * missing. The id goes to id[0..cap). */
#if !OSB_NO_SESSION
OSB_API osb_err osb_session_create(osb_client *c, const osb_target *execd, const char *cwd,
                                   char *id, size_t cap);
#endif /* OSB_NO_SESSION */

/* POST /session/{id}/run. */
typedef struct osb_session_run_request {
    const char *command;         /* required */
    const char *cwd;             /* NULL = the session's current directory */
    int64_t timeout_ms;          /* 0 = execd's cap (24 h); a timeout ends the stream with
                                    OSB_ERR_SERVER (execd's bare error object) */
    const volatile int *cancel;  /* stops the stream (which kills the run) */
} osb_session_run_request;

/* Runs a command in the session. stderr is merged into stdout by execd; each
 * output line is one stdout event. Arguments as osb_command_run. Unknown
 * session: OSB_ERR_HTTP 500. */
#if !OSB_NO_SESSION
OSB_API osb_err osb_session_run(osb_client *c, const osb_target *execd, const char *session_id,
                                const osb_session_run_request *req, osb_event_fn on_event, void *user,
                                osb_execution *x);
OSB_API osb_err osb_session_stream(osb_client *c, const osb_target *execd, const char *session_id,
                                   const osb_session_run_request *req, osb_stream **out);
/* DELETE /session/{id}. Unknown: OSB_ERR_HTTP 404. */
OSB_API osb_err osb_session_delete(osb_client *c, const osb_target *execd, const char *session_id);
#endif /* OSB_NO_SESSION */

/* ---- code interpreter --------------------------------------------------------- */

typedef struct osb_code_context {
    osb_str id;
    osb_str language;
    osb_str cwd;                 /* only when it was given at creation */
    osb_str raw;
} osb_code_context;

typedef struct osb_code_contexts {
    osb_code_context *items;
    size_t count;
    osb_str raw;
} osb_code_contexts;

/* POST /code/context. language is required ("python", ...); cwd may be NULL.
 * Beware: execd retries a failing creation (unknown language, no
 * interpreter) for a very long time; the call then ends by the client's
 * total deadline. */
#if !OSB_NO_CODE
OSB_API osb_err osb_code_context_create(osb_client *c, const osb_target *execd, const char *language,
                                        const char *cwd, osb_code_context **out);
/* GET /code/contexts?language=. language NULL omits the parameter: execd
 * then lists every context, although the spec requires it (PROTOCOL.md 6.1
 * #24). */
OSB_API osb_err osb_code_context_list(osb_client *c, const osb_target *execd, const char *language,
                                      osb_code_contexts **out);
/* GET /code/contexts/{id}. Unknown: OSB_ERR_HTTP 404. */
OSB_API osb_err osb_code_context_get(osb_client *c, const osb_target *execd, const char *id,
                                     osb_code_context **out);
/* DELETE /code/contexts/{id}. Unknown: OSB_ERR_HTTP 404. */
OSB_API osb_err osb_code_context_delete(osb_client *c, const osb_target *execd, const char *id);
/* DELETE /code/contexts?language=: every context of that language. */
OSB_API osb_err osb_code_context_delete_language(osb_client *c, const osb_target *execd,
                                                 const char *language);
#endif /* OSB_NO_CODE */

/* POST /code. */
typedef struct osb_code_request {
    const char *code;            /* required */
    const char *context_id;      /* NULL = the language's default context */
    const char *language;        /* required in practice: without it execd runs the code as a
                                    shell command and ignores context_id; NULL = "python" */
    const volatile int *cancel;
} osb_code_request;

/* Runs code in a context. An exception arrives as status + error events and
 * the stream still ends with execution_complete (x->has_error is set, the
 * exit code stays unknown). A busy context: OSB_ERR_SERVER. Arguments as
 * osb_command_run. */
#if !OSB_NO_CODE
OSB_API osb_err osb_code_run(osb_client *c, const osb_target *execd, const osb_code_request *req,
                             osb_event_fn on_event, void *user, osb_execution *x);
OSB_API osb_err osb_code_stream(osb_client *c, const osb_target *execd, const osb_code_request *req,
                                osb_stream **out);
/* DELETE /code?id=: interrupts the code running in a context (or a command). */
OSB_API osb_err osb_code_interrupt(osb_client *c, const osb_target *execd, const char *id);
#endif /* OSB_NO_CODE */

/* ---- files and directories ---------------------------------------------------- */

/* One file's metadata (FileInfo). */
typedef struct osb_file_info {
    osb_str key;                 /* files_info: the path as it was asked for; else empty */
    osb_str path;                /* absolute */
    osb_str type;                /* "file", "directory", "symlink", "other" */
    int64_t size;
    osb_str modified_at, created_at; /* RFC 3339 text; created_at is the ctime */
    osb_str owner, group;        /* names, or numeric ids as text */
    int mode;                    /* permission bits as octal digits read in decimal: 644 = 0644 */
} osb_file_info;

typedef struct osb_file_info_list {
    osb_file_info *items;
    size_t count;
    osb_str raw;
} osb_file_info_list;

/* GET /files/info for paths[0..n): one item per path, in the server's
 * order, with key = the path as asked. Any missing path fails the whole call
 * with OSB_ERR_HTTP 404. */
OSB_API osb_err osb_files_info(osb_client *c, const osb_target *execd, const char *const *paths, size_t n,
                               osb_file_info_list **out);
/* DELETE /files for paths[0..n): missing files are fine; a directory is
 * OSB_ERR_HTTP 500 (use osb_dir_delete). */
OSB_API osb_err osb_files_delete(osb_client *c, const osb_target *execd, const char *const *paths, size_t n);

/* Owner, group and mode of one path (chmod, mkdir). */
typedef struct osb_file_perm {
    const char *path;
    const char *owner;           /* NULL = not given (see the chown rule below) */
    const char *group;
    int mode;                    /* octal digits in decimal (755 = 0755); 0 = no chmod */
} osb_file_perm;

/* POST /files/permissions. execd chowns after every chmod: with neither
 * owner nor group the file goes to execd's own user. mode digits 8 or 9:
 * OSB_ERR_INVALID_ARG before sending. Missing file: OSB_ERR_HTTP 500. */
OSB_API osb_err osb_files_chmod(osb_client *c, const osb_target *execd, const osb_file_perm *items, size_t n);

typedef struct osb_file_move {
    const char *src;
    const char *dest;            /* parents are created; an existing dest is OSB_ERR_HTTP 500 */
} osb_file_move;

/* POST /files/mv, items in order. */
OSB_API osb_err osb_files_move(osb_client *c, const osb_target *execd, const osb_file_move *items, size_t n);
/* GET /files/search: files (never directories) under dir whose base name
 * matches the glob pattern (NULL = every file). */
OSB_API osb_err osb_files_search(osb_client *c, const osb_target *execd, const char *dir, const char *pattern,
                                 osb_file_info_list **out);

typedef struct osb_file_replace {
    const char *path;
    const char *old_text;        /* non-empty; replaced everywhere (plain bytes) */
    const char *new_text;
} osb_file_replace;

typedef struct osb_replace_count {
    osb_str key;                 /* the path as sent */
    int64_t replaced;
} osb_replace_count;

typedef struct osb_replace_counts {
    osb_replace_count *items;
    size_t count;
    osb_str raw;
} osb_replace_counts;

/* POST /files/replace. counts NULL: plain call; non-NULL: verbose=true, and
 * *counts receives the count per path (free with osb_result_free). */
OSB_API osb_err osb_files_replace(osb_client *c, const osb_target *execd, const osb_file_replace *items,
                                  size_t n, osb_replace_counts **counts);

/* One file of an upload. The content comes from exactly one source, tried
 * in this order: read + size (a reader that must deliver exactly size
 * bytes), use_fd + fd (read from its current position; size 0 = up to the
 * end, measured with fstat), local_path (a local file; size ignored), or
 * data + size (memory; data may be NULL when size is 0). */
typedef struct osb_upload_file {
    const char *path;            /* destination in the sandbox (parents are created) */
    const char *owner, *group;   /* NULL = execd's default */
    int mode;                    /* octal digits in decimal (644); 0 = default */
    const void *data;
    uint64_t size;
    int use_fd;                  /* 1: read from fd */
    int fd;
    const char *local_path;
    osb_read_fn read;
    void *read_user;
} osb_upload_file;

/* POST /files/upload: files[0..n) in one multipart request, streamed with a
 * Content-Length (memory stays constant whatever the sizes). Existing files
 * are overwritten. Over plain http, content from a descriptor or a local
 * path goes from the file to the socket with sendfile(2) on Linux
 * (OSB_NO_SENDFILE: read() instead); other content is staged in the
 * connection's buffer, and every send but the last carries MSG_MORE (whole
 * segments, not a small one at the end of each send). Over https the body is
 * read straight into the TLS records. For 1 MiB and more (Linux) the
 * socket's send buffer is raised (SO_SNDBUF, kept by the pooled connection)
 * where net.core.wmem_max allows more than TCP's autotuning would reach
 * (tcp_wmem's maximum): more of the body stays queued while the receiver
 * is away. Errors: OSB_ERR_IO (a local file or reader failed),
 * OSB_ERR_HTTP (400 bad metadata, 500), transport errors. */
OSB_API osb_err osb_files_upload(osb_client *c, const osb_target *execd, const osb_upload_file *files,
                                 size_t n);

/* GET /files/download options. Zero-initialised = the whole file, up to 3
 * resumptions.
 *
 * Line reads (execd of OpenSandbox 3bb6fad3 and later): line_offset and/or
 * line_limit > 0 ask for lines instead of bytes (?offset=N&limit=M): lines
 * split on '\n', each without its trailing CR/LF, joined by '\n' with no
 * newline after the last one; an offset past the end gives an empty body;
 * streamed to the sink like any download. They exclude a byte range
 * (offset/length): both is OSB_ERR_INVALID_ARG before anything is sent, as
 * execd refuses the pair. A line read is not resumed once bytes have
 * arrived (a byte Range cannot continue it); an older execd ignores the
 * parameters and sends the whole file. */
typedef struct osb_download_request {
    const char *path;            /* the file in the sandbox, required */
    uint64_t offset;             /* first byte wanted */
    uint64_t length;             /* bytes wanted from offset; 0 = to the end */
    int max_resumes;             /* after a dropped connection, continue with a Range from the
                                    last byte received: 0 = 3 times, negative = never */
    const volatile int *cancel;
    int64_t line_offset;         /* > 0: line mode, the first line wanted (1-based); 0 = line 1 */
    int64_t line_limit;          /* > 0: line mode, at most this many lines; 0 = to the end */
} osb_download_request;

/* What a download did. */
typedef struct osb_download_info {
    int status;                  /* status of the last response (200 or 206) */
    uint64_t total_size;         /* the file's size when the server said it, else 0 */
    uint64_t bytes;              /* bytes delivered to the sink */
    int resumes;                 /* how many times it was resumed */
} osb_download_info;

/* Downloads a file (or a range of it) to sink. A range starting at or past
 * the end of the file is OSB_ERR_HTTP 416. A resumed response must be a 206
 * whose Content-Range starts at the byte asked for (else OSB_ERR_PROTOCOL);
 * a 200 answer to a range is trimmed to the range. info may be NULL. */
OSB_API osb_err osb_files_download(osb_client *c, const osb_target *execd, const osb_download_request *req,
                                   osb_write_fn sink, void *user, osb_download_info *info);
/* The same into a file descriptor (written from its current position). */
OSB_API osb_err osb_files_download_fd(osb_client *c, const osb_target *execd, const osb_download_request *req,
                                      int fd, osb_download_info *info);
/* The same into a local file, created or truncated. */
OSB_API osb_err osb_files_download_path(osb_client *c, const osb_target *execd, const osb_download_request *req,
                                        const char *local_path, osb_download_info *info);

/* GET /directories/list: entries under path to depth levels (0 or
 * negative = execd's default, 1), in lexical pre-order, the root excluded. */
OSB_API osb_err osb_dir_list(osb_client *c, const osb_target *execd, const char *path, int depth,
                             osb_file_info_list **out);
/* POST /directories: mkdir -p for each item, mode/owner applied to the leaf. */
OSB_API osb_err osb_dir_create(osb_client *c, const osb_target *execd, const osb_file_perm *items, size_t n);
/* DELETE /directories: rm -rf for each path; missing ones are fine. */
OSB_API osb_err osb_dir_delete(osb_client *c, const osb_target *execd, const char *const *paths, size_t n);

/* ---- metrics and health --------------------------------------------------------- */

/* GET /metrics (takes about a second on a real execd). Free *out with
 * osb_result_free. */
OSB_API osb_err osb_metrics_get(osb_client *c, const osb_target *execd, osb_metrics **out);
/* GET /metrics/watch: one OSB_EVENT_METRICS event per sample (about every
 * 2 s) until the callback returns non-zero or *cancel (may be NULL) is set;
 * the server never ends it. A sampling failure is an OSB_EVENT_ERROR event
 * whose text is the server's message. Ending by the callback or the flag
 * returns OSB_ERR_CANCELLED. */
OSB_API osb_err osb_metrics_watch(osb_client *c, const osb_target *execd, osb_event_fn on_event, void *user,
                                  const volatile int *cancel);
OSB_API osb_err osb_metrics_stream(osb_client *c, const osb_target *execd, const volatile int *cancel,
                                   osb_stream **out);
/* GET /ping: OSB_OK once execd answers. */
OSB_API osb_err osb_execd_ping(osb_client *c, const osb_target *execd);

/* >>pty ---------------------------------------------------------------------
 * Interactive terminals: execd's PTY sessions (PROTOCOL.md 3.14), a bash (or
 * one command) on a pseudo-terminal, driven over a WebSocket (>>ws).
 *
 *   create (POST /pty) -> attach (GET /pty/{id}/ws) -> write input, resize,
 *   signal, read output as it comes -> the exit event -> delete (DELETE /pty/{id})
 *
 * The session outlives a connection: detach (osb_pty_detach) and attach again
 * later (output produced meanwhile is replayed from execd's 1 MiB ring, from
 * an offset of your choice); after the program exits, the next attach starts
 * it again in the same session. One client at a time (409 for a second one,
 * unless it takes over: the first then sees close code 4001).
 *
 * Reading comes in the two forms of the other streams: the pull form
 * (osb_pty_read, with a wait so that it fits a poll() loop on osb_pty_fd) and
 * the callback form (osb_pty_run). No total deadline: only the idle_ms the
 * caller sets (execd pings every 30 s, so 90 s notices a dead server). */

typedef struct osb_pty osb_pty;

/* POST /pty. Zero-initialise. */
typedef struct osb_pty_request {
    const char *command;           /* run as `bash -c command`; NULL = an interactive bash */
    const char *cwd;               /* created if missing; NULL = execd's */
    const char *const *envs;       /* "NAME=value", NULL-terminated. execd takes no environment
                                      for a PTY: they are exported by the command line
                                      (`export NAME='value'; exec ...`) */
} osb_pty_request;

#if !OSB_NO_PTY
/* Creates a session (the program starts at the first attach) and stores its
 * id in id[0..cap). */
OSB_API osb_err osb_pty_create(osb_client *c, const osb_target *execd, const osb_pty_request *req,
                               char *id, size_t cap);
#endif /* OSB_NO_PTY */

/* GET /pty/{id}. */
typedef struct osb_pty_status {
    osb_str session_id;
    int running;                   /* the program runs now */
    int64_t output_offset;         /* bytes of output ever produced (pass as since to catch up) */
    osb_str raw;
} osb_pty_status;
#if !OSB_NO_PTY
/* *out is one result (osb_result_free). Unknown id: OSB_ERR_HTTP 404. */
OSB_API osb_err osb_pty_status_get(osb_client *c, const osb_target *execd, const char *id,
                                   osb_pty_status **out);
/* DELETE /pty/{id}: the process group is killed and the session removed.
 * (execd offers no listing of PTY sessions: keep the ids you create.) */
OSB_API osb_err osb_pty_delete(osb_client *c, const osb_target *execd, const char *id);
#endif /* OSB_NO_PTY */

/* How to attach. Zero-initialise: PTY mode, replay of everything buffered. */
typedef struct osb_pty_attach_options {
    int pipe_mode;                 /* 1: no terminal, stdout and stderr apart (only when the
                                      program starts with this attach) */
    int64_t since;                 /* replay from this output offset; 0 = all that is buffered */
    int no_replay;                 /* 1: skip replayed output (since = the current offset) */
    int takeover;                  /* 1: evict a client that is attached */
    int cols, rows;                /* window size sent right after attaching; 0 = leave it */
    int idle_ms;                   /* longest silence from the server; 0 = no limit */
    uint64_t max_message;          /* largest WebSocket message; 0 = OSB_WS_MAX_MESSAGE */
    const volatile int *cancel;
} osb_pty_attach_options;

#if !OSB_NO_PTY
/* Opens the WebSocket of session id (o may be NULL). Errors before the
 * upgrade are OSB_ERR_HTTP: 404 unknown session, 409 another client is
 * attached. */
OSB_API osb_err osb_pty_attach(osb_client *c, const osb_target *execd, const char *id,
                               const osb_pty_attach_options *o, osb_pty **out);
#endif /* OSB_NO_PTY */

typedef enum osb_pty_event_type {
    OSB_PTY_NONE = 0,              /* nothing yet (a pull with a wait that ran out) */
    OSB_PTY_OUTPUT = 1,            /* data: terminal output (stdout in pipe mode) */
    OSB_PTY_STDERR = 2,            /* data: stderr (pipe mode) */
    OSB_PTY_REPLAY = 3,            /* data: output from before this attach; offset says where */
    OSB_PTY_CONNECTED = 4,         /* mode ("pty" / "pipe"), session_id */
    OSB_PTY_EXIT = 5,              /* exit_code (-1: killed by a signal) */
    OSB_PTY_ERROR = 6,             /* code, message: an error frame from execd */
    OSB_PTY_PONG = 7,              /* the answer to osb_pty_ping */
    OSB_PTY_CLOSED = 8             /* the end: close_code (1000 after an exit, 4001 taken over) */
} osb_pty_event_type;

/* One event. Pointers are valid until the next read (or until the callback
 * returns). Output comes in pieces as it arrives, never collected. */
typedef struct osb_pty_event {
    osb_pty_event_type type;
    const void *data;
    size_t len;
    uint64_t offset;               /* OUTPUT / REPLAY: session output offset of data[0] (counted
                                      from the replay's offset, or from the attach when none) */
    int exit_code;
    int close_code;
    osb_str mode, session_id;      /* CONNECTED */
    osb_str code, message;         /* ERROR */
    osb_str raw;                   /* a text frame's JSON */
} osb_pty_event;

#if !OSB_NO_PTY
/* The next event. wait_ms as osb_ws_read (< 0: until one comes). After
 * OSB_PTY_CLOSED every call gives it again. Errors: OSB_ERR_TRUNCATED (the
 * connection dropped), OSB_ERR_PROTOCOL / OSB_ERR_TOO_LARGE (bad frames),
 * OSB_ERR_JSON (a text frame that is not a JSON object), OSB_ERR_TIMEOUT. */
OSB_API osb_err osb_pty_read(osb_pty *p, osb_pty_event *ev, int wait_ms);
/* Callback form: every event until the session's end. Returns OSB_OK after
 * a normal end (exit, then close 1000; *exit_code set, -1 if none came);
 * OSB_ERR_SERVER when the server ended it otherwise (an error frame, close
 * code not 1000: the detail says which); OSB_ERR_CANCELLED when fn returned
 * non-zero. fn may be NULL. */
typedef int (*osb_pty_fn)(void *user, const osb_pty_event *ev);
OSB_API osb_err osb_pty_run(osb_pty *p, osb_pty_fn fn, void *user, int *exit_code);

/* Input (binary frames: 0x00 + bytes), window size, a signal to the process
 * group (execd: SIGINT SIGTERM SIGKILL SIGQUIT SIGHUP; others are ignored by
 * it and refused here), an application-level ping. */
OSB_API osb_err osb_pty_write(osb_pty *p, const void *data, size_t len);
OSB_API osb_err osb_pty_resize(osb_pty *p, int cols, int rows);
OSB_API osb_err osb_pty_signal(osb_pty *p, const char *name);
OSB_API osb_err osb_pty_ping(osb_pty *p);
/* For poll(): see osb_ws_fd / osb_ws_buffered. */
OSB_API int osb_pty_fd(const osb_pty *p);
OSB_API int osb_pty_buffered(const osb_pty *p);
OSB_API const char *osb_pty_id(const osb_pty *p);
/* The exit code once OSB_PTY_EXIT came, else -1; *known (may be NULL) says which. */
OSB_API int osb_pty_exit_code(const osb_pty *p, int *known);
/* The WebSocket underneath (for osb_ws_* calls). */
OSB_API osb_ws *osb_pty_ws(osb_pty *p);
/* Leaves the session running (close 1000) and frees p. NULL is fine. */
OSB_API void osb_pty_detach(osb_pty *p);
#endif /* OSB_NO_PTY */

/* >>config ----------------------------------------------------------------
 * Connection settings resolved as the official CLI resolves them: a value set
 * in the struct wins, then the environment, then the [connection] table of
 * ~/.opensandbox/config.toml (as `opensandbox config init/set` writes it),
 * then the default.
 *
 *   setting           environment                     config.toml        default
 *   domain            OPEN_SANDBOX_DOMAIN             domain             localhost:8080
 *   api_key           OPEN_SANDBOX_API_KEY            api_key            (none)
 *   protocol          OPEN_SANDBOX_PROTOCOL           protocol           http
 *   request timeout   OPEN_SANDBOX_REQUEST_TIMEOUT    request_timeout    library timeouts
 *   server proxy      OPEN_SANDBOX_USE_SERVER_PROXY   use_server_proxy   off
 *
 * Booleans take 1/true/yes/on and 0/false/no/off (any case); the timeout is
 * in seconds (a decimal fraction is fine). A domain may carry a scheme and a
 * path prefix; a trailing "/v1" is not doubled. In the file a value is a
 * "basic" string (TOML's escapes), a 'literal' one, either of them
 * """multi-line""", a number or a boolean, then at most a comment; anything
 * else (an array, an escape that is no Unicode scalar value) is
 * OSB_ERR_INVALID_ARG naming the key.
 *
 *     osb_config cfg;
 *     osb_client *c;
 *     memset(&cfg, 0, sizeof cfg);          // or set what must win, e.g. cfg.client.domain
 *     if (osb_config_load(&cfg) != OSB_OK) { fprintf(stderr, "%s\n", cfg.message); ... }
 *     osb_client_new(&cfg.client, &c);      // cfg must outlive this call only
 */
typedef struct osb_config {
    /* In: explicit settings (NULL / 0 = not set). Out: the resolved values;
     * strings read from the environment or the file point into 'store'. */
    osb_client_config client;   /* domain, protocol, api_key (+ any other client field) */
    int request_timeout_ms;     /* in: 0 = not set; out: 0 = library defaults, else
                                   copied to client.timeouts.total_ms when that is 0 */
    int use_server_proxy;       /* in: 1 on, -1 off, 0 not set; out: 1 or 0 */
    const char *file;           /* config file; NULL = $HOME/.opensandbox/config.toml, "" = none */
    int skip_env;               /* 1 = ignore the environment */
    /* Out: where each value came from: "explicit", "env", "file" or "default". */
    const char *domain_source, *api_key_source, *protocol_source, *timeout_source, *proxy_source;
    char message[192];          /* why osb_config_load failed (never holds the API key) */
    char store[1536];
} osb_config;

/* Resolves every unset setting. OSB_ERR_INVALID_ARG for an unusable value
 * (bad protocol, boolean or timeout; 'message' names the setting and its
 * source), OSB_ERR_IO when an explicitly named file cannot be read,
 * OSB_ERR_TOO_LARGE when a value does not fit 'store'. A missing default file
 * is not an error. Call it once per struct (the resolved strings live in it).
 * Built with OSB_NO_CONFIG_FILE no file is read (the table's config.toml
 * column does not apply) and a named 'file' is OSB_ERR_UNSUPPORTED. */
OSB_API osb_err osb_config_load(osb_config *cfg);

/* Parses a boolean as the CLI does: 1 / 0, or -1 when unrecognised. */
OSB_API int osb_config_bool(const char *text);


/* >>sandbox ----------------------------------------------------------------
 * The sandbox layer: a handle that holds a client, a sandbox id and the
 * resolved execd (44772) and egress (18080) endpoints, so that the calls
 * below need nothing else. It only composes the REST calls of the
 * lifecycle and execd sections; each of those stays usable directly with
 * osb_sandbox_client(), osb_sandbox_id(), osb_sandbox_execd() and
 * osb_sandbox_egress().
 *
 *     osb_sandbox_create_req req = {0};
 *     osb_sandbox *sb;
 *     req.image = "python:3.11";
 *     if (osb_sandbox_open(c, &req, NULL, &sb) != OSB_OK) ...   // created, reachable, ready
 *     ... osb_sandbox_run(sb, "echo hi", ...) ...
 *     osb_sandbox_kill(sb);                                     // delete it on the server
 *     osb_sandbox_close(sb);                                    // free the handle
 *
 * Errors: the return code, and the detail in osb_client_error(client). */

/* Ports and defaults (the other SDKs' values); define any of them before
 * including the header to change it. */
#ifndef OSB_EXECD_PORT
#  define OSB_EXECD_PORT 44772                  /* execd inside every sandbox */
#endif
#ifndef OSB_EGRESS_PORT
#  define OSB_EGRESS_PORT 18080                 /* the egress sidecar's policy API */
#endif
#ifndef OSB_DEFAULT_SANDBOX_TIMEOUT_S
#  define OSB_DEFAULT_SANDBOX_TIMEOUT_S 600     /* time to live of a new sandbox */
#endif
#ifndef OSB_DEFAULT_READY_TIMEOUT_MS
#  define OSB_DEFAULT_READY_TIMEOUT_MS 30000    /* wait for readiness */
#endif
#ifndef OSB_DEFAULT_READY_POLL_MS
#  define OSB_DEFAULT_READY_POLL_MS 200         /* first wait between readiness probes */
#endif

typedef struct osb_sandbox osb_sandbox;

/* A custom readiness probe: return 1 when the sandbox is ready, 0 to probe
 * again after the next backoff step, negative to give up (the wait then
 * fails with OSB_ERR_STATE). Called instead of execd's GET /ping. */
typedef int (*osb_health_fn)(void *user, osb_sandbox *sb);

/* How a handle reaches and waits for its sandbox. Zero-initialise; a NULL
 * options pointer means all defaults. */
typedef struct osb_sandbox_options {
    int use_server_proxy;            /* 1: reach execd and egress through the lifecycle
                                        server's proxy route (osb_config.use_server_proxy) */
    const char *const *host_rewrite; /* "from=to" lines, NULL-terminated: an endpoint host
                                        equal to "from" (any case) is replaced by "to", e.g.
                                        "host.docker.internal=127.0.0.1" (IPv6 hosts in
                                        brackets, as in URLs). Copied. */
    int ready_timeout_ms;            /* 0: OSB_DEFAULT_READY_TIMEOUT_MS */
    int poll_ms;                     /* first wait between probes, doubling up to 1 s;
                                        0: OSB_DEFAULT_READY_POLL_MS */
    int skip_health_check;           /* 1: do not wait for readiness at all */
    osb_health_fn health_check;      /* NULL: GET /ping on execd */
    void *health_user;
    int execd_port;                  /* 0: OSB_EXECD_PORT */
    int egress_port;                 /* 0: OSB_EGRESS_PORT */
    int skip_egress;                 /* 1: do not resolve the egress endpoint */
    int keep_on_failure;             /* 1: osb_sandbox_open leaves a sandbox that did not
                                        become ready (default: it is deleted) */
} osb_sandbox_options;

/* Creates a sandbox and waits until it is usable:
 *   1. POST /v1/sandboxes with req, after the defaults the other SDKs apply:
 *      timeout_s 0 -> 600 s (negative: no expiry, manual cleanup); an image
 *      without entrypoint -> ["tail","-f","/dev/null"]; no resource limits
 *      (and no "poolRef" extension) -> cpu "1", memory "2Gi". req itself is
 *      not changed. Every other field goes out as given (registry auth,
 *      snapshot_id, platform, env, metadata, network policy, credential
 *      proxy, secure access, volumes, extensions; pool mode without image).
 *   2. while the answer's state is not Running (asynchronous servers), polls
 *      GET /v1/sandboxes/{id} until Running; Failed/Terminated -> OSB_ERR_STATE;
 *   3. resolves the execd and egress endpoints (server-proxy mode and host
 *      rewrites per options; endpoint headers are kept and forwarded verbatim
 *      on every execd/egress call; the API key never goes there);
 *   4. waits for GET /ping (or the health callback) with backoff, up to
 *      ready_timeout_ms (OSB_ERR_TIMEOUT), unless skip_health_check.
 * When step 2, 3 or 4 fails the sandbox is deleted (unless keep_on_failure)
 * and the error of the failed step is what osb_client_error() reports.
 * opt NULL: defaults. On failure *out is NULL. */
OSB_API osb_err osb_sandbox_open(osb_client *c, const osb_sandbox_create_req *req,
                                 const osb_sandbox_options *opt, osb_sandbox **out);
/* A handle for an existing sandbox: resolves its endpoints and waits for
 * readiness (as steps 3-4 above; nothing is deleted on failure). */
OSB_API osb_err osb_sandbox_connect(osb_client *c, const char *sandbox_id,
                                    const osb_sandbox_options *opt, osb_sandbox **out);
/* Frees the handle (the sandbox keeps running; see osb_sandbox_kill). NULL is fine. */
OSB_API void osb_sandbox_close(osb_sandbox *sb);
/* DELETE /v1/sandboxes/{id}. The handle stays valid until osb_sandbox_close. */
OSB_API osb_err osb_sandbox_kill(osb_sandbox *sb);
/* POST .../pause. */
OSB_API osb_err osb_sandbox_suspend(osb_sandbox *sb);
/* POST .../resume, then resolves the endpoints again and waits for
 * readiness (a resumed sandbox may be reached at another address). */
OSB_API osb_err osb_sandbox_wake(osb_sandbox *sb);
/* Renews the expiry to now + seconds (a relative duration, as the CLI's
 * `renew -t 30m`). *out (may be NULL): the expiry the server set. */
OSB_API osb_err osb_sandbox_extend(osb_sandbox *sb, int seconds, osb_renew_result **out);
/* Resolves the execd and egress endpoints again (after a resume, or when a
 * gateway moved). */
OSB_API osb_err osb_sandbox_resolve(osb_sandbox *sb);
/* One readiness probe: GET /ping on execd (2xx = OSB_OK). */
OSB_API osb_err osb_sandbox_ping(osb_sandbox *sb);
/* Waits for readiness as osb_sandbox_open does; timeout_ms 0: the handle's
 * ready timeout. */
OSB_API osb_err osb_sandbox_wait_ready(osb_sandbox *sb, int timeout_ms);

OSB_API osb_client *osb_sandbox_client(const osb_sandbox *sb);
OSB_API const char *osb_sandbox_id(const osb_sandbox *sb);
/* The resolved targets (URL after rewrites + endpoint headers); egress is
 * NULL when it was not resolved (skip_egress, or it failed for a connected
 * handle: an existing sandbox may have no sidecar endpoint). */
OSB_API const osb_target *osb_sandbox_execd(const osb_sandbox *sb);
OSB_API const osb_target *osb_sandbox_egress(const osb_sandbox *sb);
/* The sandbox as the create call returned it (id, state, expiry, ...); NULL
 * for a connected handle. Call osb_sandbox_describe for the current state. */
OSB_API const osb_sandbox_info *osb_sandbox_created(const osb_sandbox *sb);

/* Shortcuts: the lifecycle and egress calls with this sandbox's id/target. */
OSB_API osb_err osb_sandbox_describe(osb_sandbox *sb, osb_sandbox_info **out);
OSB_API osb_err osb_sandbox_set_metadata(osb_sandbox *sb, const osb_pair *patch, size_t count,
                                         osb_sandbox_info **out);
/* Any other port of the sandbox (with the handle's server-proxy setting). */
OSB_API osb_err osb_sandbox_expose(osb_sandbox *sb, int port, osb_endpoint **out);
/* A signed route to a port, valid until expires (Unix seconds); never through
 * the server proxy (servers refuse the combination). Gateways only: Docker
 * answers 400 SANDBOX::API_NOT_SUPPORTED. */
OSB_API osb_err osb_sandbox_expose_signed(osb_sandbox *sb, int port, int64_t expires, osb_endpoint **out);
/* Takes a snapshot; wait_ms > 0 polls until it is Ready (Failed ->
 * OSB_ERR_STATE, no result in time -> OSB_ERR_TIMEOUT). */
OSB_API osb_err osb_sandbox_snapshot(osb_sandbox *sb, const char *name, int wait_ms, osb_snapshot **out);
/* Diagnostics as text (req NULL: container logs). */
OSB_API osb_err osb_sandbox_diagnostics(osb_sandbox *sb, const osb_diagnostics_text_req *req, osb_text **out);
#if !OSB_NO_EGRESS
OSB_API osb_err osb_sandbox_egress_policy(osb_sandbox *sb, osb_egress_status **out);
OSB_API osb_err osb_sandbox_egress_patch(osb_sandbox *sb, const osb_network_rule *rules, size_t count,
                                         osb_egress_status **out);
OSB_API osb_err osb_sandbox_egress_delete(osb_sandbox *sb, const char *const *targets, size_t count,
                                          osb_egress_status **out);
#endif /* OSB_NO_EGRESS */
#if !OSB_NO_VAULT
OSB_API osb_err osb_sandbox_vault_create(osb_sandbox *sb, const osb_vault_create_req *req, osb_vault_state **out);
OSB_API osb_err osb_sandbox_vault_get(osb_sandbox *sb, osb_vault_state **out);
OSB_API osb_err osb_sandbox_vault_patch(osb_sandbox *sb, const osb_vault_patch_req *req, osb_vault_state **out);
OSB_API osb_err osb_sandbox_vault_delete(osb_sandbox *sb);
OSB_API osb_err osb_sandbox_vault_credentials(osb_sandbox *sb, osb_vault_state **out);
OSB_API osb_err osb_sandbox_vault_bindings(osb_sandbox *sb, osb_vault_state **out);
#endif /* OSB_NO_VAULT */


/* Shortcuts: the execd calls with this sandbox's target (see the execd
 * section for each one's arguments, events and errors). */

/* Runs `bash -c command` in the foreground (osb_command_run). on_event (may
 * be NULL) sees each event as it arrives (live output); x (may be NULL)
 * aggregates stdout, stderr and the exit code. */
OSB_API osb_err osb_sandbox_run(osb_sandbox *sb, const char *command, osb_event_fn on_event, void *user,
                                osb_execution *x);
/* The same with every command option (cwd, timeout, uid/gid, envs, cancel). */
OSB_API osb_err osb_sandbox_command(osb_sandbox *sb, const osb_command_request *req, osb_event_fn on_event,
                                    void *user, osb_execution *x);
/* Starts a background command; its id goes to id[0..cap). */
OSB_API osb_err osb_sandbox_start(osb_sandbox *sb, const char *command, char *id, size_t cap);
/* Follows a background command's output to sink until it ends (polling
 * every 500 ms); *exit_code (may be NULL) gets its exit code. */
OSB_API osb_err osb_sandbox_follow(osb_sandbox *sb, const char *id, osb_write_fn sink, void *user, int *exit_code);
OSB_API osb_err osb_sandbox_interrupt(osb_sandbox *sb, const char *id);
/* A bash session (state kept between runs) and a run in it. */
#if !OSB_NO_SESSION
OSB_API osb_err osb_sandbox_session(osb_sandbox *sb, const char *cwd, char *id, size_t cap);
OSB_API osb_err osb_sandbox_session_run(osb_sandbox *sb, const char *session_id, const char *command,
                                        osb_event_fn on_event, void *user, osb_execution *x);
#endif /* OSB_NO_SESSION */
/* Code interpreter: a context (language NULL: "python") and code run in it
 * (context_id NULL: the language's default context). */
#if !OSB_NO_CODE
OSB_API osb_err osb_sandbox_code_context(osb_sandbox *sb, const char *language, osb_code_context **out);
OSB_API osb_err osb_sandbox_code(osb_sandbox *sb, const char *context_id, const char *language, const char *code,
                                 osb_event_fn on_event, void *user, osb_execution *x);
#endif /* OSB_NO_CODE */

/* Progress of a transfer: done bytes of total (0 when unknown). Return
 * non-zero to stop it (OSB_ERR_CANCELLED). */
typedef int (*osb_progress_fn)(void *user, uint64_t done, uint64_t total);

/* Writes len bytes of data to path in the sandbox (created or replaced). */
OSB_API osb_err osb_sandbox_write_file(osb_sandbox *sb, const char *path, const void *data, size_t len);
/* Reads a whole file of the sandbox into out (appended; out->max caps it). */
OSB_API osb_err osb_sandbox_read_file(osb_sandbox *sb, const char *path, osb_buf *out);
/* Reads lines first_line .. first_line + max_lines - 1 (1-based; max_lines
 * 0 = to the end) of a text file into out (appended), joined by '\n'
 * without a final newline: osb_download_request.line_offset/line_limit.
 * first_line < 1 or max_lines < 0: OSB_ERR_INVALID_ARG. */
OSB_API osb_err osb_sandbox_read_lines(osb_sandbox *sb, const char *path, int64_t first_line,
                                       int64_t max_lines, osb_buf *out);
/* Uploads a local file, streamed (memory stays constant). progress may be NULL. */
OSB_API osb_err osb_sandbox_upload(osb_sandbox *sb, const char *local_path, const char *remote_path,
                                   osb_progress_fn progress, void *user);
/* Downloads a file of the sandbox to a local path (created or truncated),
 * resuming after dropped connections. progress may be NULL. */
OSB_API osb_err osb_sandbox_download(osb_sandbox *sb, const char *remote_path, const char *local_path,
                                     osb_progress_fn progress, void *user);
OSB_API osb_err osb_sandbox_list_dir(osb_sandbox *sb, const char *path, int depth, osb_file_info_list **out);
/* One resource sample, and the live samples (until on_event returns
 * non-zero or *cancel is set: then OSB_ERR_CANCELLED). */
OSB_API osb_err osb_sandbox_metrics(osb_sandbox *sb, osb_metrics **out);
OSB_API osb_err osb_sandbox_watch(osb_sandbox *sb, osb_event_fn on_event, void *user, const volatile int *cancel);

#if !OSB_NO_PTY
/* An interactive terminal in the sandbox: creates a PTY session (req NULL:
 * an interactive bash) and attaches to it (o NULL: defaults). osb_pty_id()
 * names the session; it outlives osb_pty_detach until osb_pty_delete (on
 * osb_sandbox_execd(sb)). When the attach fails the session is deleted. */
OSB_API osb_err osb_sandbox_shell(osb_sandbox *sb, const osb_pty_request *req,
                                  const osb_pty_attach_options *o, osb_pty **out);
#endif /* OSB_NO_PTY */

/* >>manager ----------------------------------------------------------------
 * Sandboxes of a lifecycle server as a whole. */

/* One page (the list call itself; req NULL: no filter). */
#if !OSB_NO_MANAGER
OSB_API osb_err osb_manager_list(osb_client *c, const osb_sandbox_list_req *req, osb_sandbox_page **out);
OSB_API osb_err osb_manager_get(osb_client *c, const char *sandbox_id, osb_sandbox_info **out);
/* Deletes every id (all are tried). results (may be NULL) gets one code per
 * id; the return value is OSB_OK or the first failure's code. */
OSB_API osb_err osb_manager_kill(osb_client *c, const char *const *ids, size_t count, osb_err *results);
#endif /* OSB_NO_MANAGER */

/* Every sandbox matching a filter, page after page:
 *     osb_sandbox_iter it;
 *     const osb_sandbox_info *s;
 *     osb_manager_iter(&it, c, &filter);           // filter NULL: all
 *     while (osb_manager_next(&it, &s) == OSB_OK && s) ... s->id.ptr ...
 *     osb_manager_iter_free(&it);
 * The filter (and what it points to) must live until the iteration ends;
 * page_size 0 asks for 100 per page. The item is valid until the next call. */
typedef struct osb_sandbox_iter {
    osb_client *c;
    osb_sandbox_list_req req;
    osb_sandbox_page *page;
    size_t index;
    int done;
    osb_err err;
} osb_sandbox_iter;
#if !OSB_NO_MANAGER
OSB_API void osb_manager_iter(osb_sandbox_iter *it, osb_client *c, const osb_sandbox_list_req *filter);
/* *item: the next sandbox, or NULL at the end (return OSB_OK). */
OSB_API osb_err osb_manager_next(osb_sandbox_iter *it, const osb_sandbox_info **item);
OSB_API void osb_manager_iter_free(osb_sandbox_iter *it);
#endif /* OSB_NO_MANAGER */

/* >>multi ==================================================================
 *
 * Many transfers from one thread, in the manner of curl's multi interface
 * and c-ares: add requests, command streams, metrics watches, file uploads
 * and downloads and lifecycle calls to a multi as transfers, then either
 *   - let the library wait: osb_multi_perform(m, timeout_ms, &running)
 *     polls every socket once (at most timeout_ms), moves every transfer on
 *     and returns; call it until running is 0; or
 *   - wait in your own loop (epoll, kqueue, libuv, a game loop):
 *     osb_multi_fds lists the sockets and what each waits for,
 *     osb_multi_timeout_ms says when to come back at the latest, and
 *     osb_multi_socket_ready(m, fd, events, &running) moves the transfers
 *     on (fd OSB_MULTI_NO_FD: time passed, no socket). The socket set
 *     changes between calls: ask osb_multi_fds again after each.
 * Every transfer ends exactly once, in its on_done callback, with the
 * osb_err and osb_error detail the blocking call gives. Nothing blocks
 * except name resolution: each host name is resolved once per multi (with
 * the blocking resolver, bounded by the connect deadline; address literals
 * and /etc/hosts names cost nothing; with OSB_DNS=1 the built-in resolver's
 * socket is one more to wait on, and nothing blocks) and its addresses are
 * reused (transfers to one host that start before its lookup ends each
 * look it up); and
 * through an HTTP proxy (osb_client_config.proxy) the connect to the proxy
 * and its CONNECT tunnel, which use the blocking connect.
 *
 * It is the blocking client's own machinery, not a second HTTP client: the
 * same head builder, head parser, chunked and event-stream decoders, TLS
 * engine and pool. Where the blocking path waits for a socket, a multi's
 * connection returns "not yet" and the step resumes from the state kept
 * in the connection, the body and the TLS engine. Connects are
 * non-blocking over every address (families alternating, each with a
 * share of the connect deadline), so is the TLS handshake. Connections
 * come from and go back to the client's pool (osb_client_config.pool_max
 * idle ones kept: raise it to reuse more), so a transfer to a host that an
 * earlier one used skips the connect. A multi never retries (the blocking
 * REST calls do): on_done tells, the caller adds the transfer again.
 *
 * Threads and ownership: a multi belongs to its client, one thread at a
 * time; while it runs it uses the client's error detail as its scratch
 * (each transfer has its own, given to on_done). osb_multi_add copies the
 * request head at once; a body in memory over 64 KiB, a body reader, a
 * sink and the callbacks must stay valid until on_done. A transfer pointer
 * is valid until its on_done returns. on_done may add transfers and cancel
 * others.
 *
 * Memory: a transfer holds about 3 KB while it waits (more for a stream:
 * its decoder state, about 3 KB more, and its first event buffer,
 * OSB_MULTI_STREAM_BUFFER, 2 KiB, grown as events need); its connection
 * adds a receive buffer of OSB_MULTI_IO_BUFFER (8 KiB) instead of the
 * blocking client's OSB_IO_BUFFER, and TLS its engine (>>tls). A command
 * stream waiting for output holds about 16 KB in all. */
#if !OSB_NO_MULTI
typedef struct osb_multi osb_multi;
typedef struct osb_transfer osb_transfer;

/* Zero-initialise (or pass NULL) for the defaults. */
typedef struct osb_multi_config {
    int max_per_host;     /* connections at once to one scheme://host:port; 0 = no cap.
                             Transfers over the cap wait in line, in the order added */
    int max_total;        /* transfers running at once; 0 = no cap */
} osb_multi_config;

/* The end of a transfer: result OSB_OK or the error, err its detail (as
 * osb_client_error after the blocking call). */
typedef void (*osb_done_fn)(void *user, osb_transfer *t, osb_err result, const osb_error *err);

/* Zero-initialise; only what you set is used. */
typedef struct osb_transfer_config {
    osb_done_fn on_done;
    void *user;                   /* for both callbacks */
    osb_event_fn on_event;        /* streams: each event (non-zero stops it: OSB_ERR_CANCELLED) */
    osb_execution *execution;     /* streams: events collected as osb_command_run does, or NULL */
    int timeout_ms;               /* the whole transfer, streams too, time in line included;
                                     0 = only the request's and client's timeouts */
} osb_transfer_config;

OSB_API osb_err osb_multi_new(osb_client *c, const osb_multi_config *cfg, osb_multi **out);
/* Cancels what is left (each on_done gets OSB_ERR_CANCELLED), closes its
 * connections and frees the multi. NULL is fine. */
OSB_API void osb_multi_free(osb_multi *m);

/* A raw request, sent as osb_request_raw sends it (an idempotent one goes
 * once more on a new connection when a pooled one turns out dead before
 * any answer). The response: osb_transfer_response(t) in on_done. */
OSB_API osb_err osb_multi_add(osb_multi *m, const osb_http_request *req, const osb_transfer_config *tc,
                              osb_transfer **out);
/* osb_command_run as a transfer: events to tc->on_event and tc->execution. */
OSB_API osb_err osb_multi_command(osb_multi *m, const osb_target *execd, const osb_command_request *req,
                                  const osb_transfer_config *tc, osb_transfer **out);
/* osb_metrics_watch as a transfer (it ends when cancelled or on a timeout). */
OSB_API osb_err osb_multi_metrics_watch(osb_multi *m, const osb_target *execd, const osb_transfer_config *tc,
                                        osb_transfer **out);
/* osb_files_download as a transfer: the file's bytes go to sink. */
OSB_API osb_err osb_multi_file_download(osb_multi *m, const osb_target *execd, const char *path,
                                        osb_write_fn sink, void *sink_user, const osb_transfer_config *tc,
                                        osb_transfer **out);
/* osb_files_upload as a transfer: the same multipart request, result and
 * errors. Paths and metadata are copied; memory contents (data), readers
 * and descriptors (use_fd) must stay valid until on_done; a local_path is
 * opened now and closed when the transfer ends. Readers and descriptors
 * are sent through the connection buffer (never sendfile). */
OSB_API osb_err osb_multi_file_upload(osb_multi *m, const osb_target *execd, const osb_upload_file *files,
                                      size_t n, const osb_transfer_config *tc, osb_transfer **out);
/* Lifecycle calls as transfers; the decoded result (osb_sandbox_info for
 * create and get) comes from osb_transfer_take_result in on_done. */
OSB_API osb_err osb_multi_sandbox_create(osb_multi *m, const osb_sandbox_create_req *req,
                                         const osb_transfer_config *tc, osb_transfer **out);
OSB_API osb_err osb_multi_sandbox_get(osb_multi *m, const char *sandbox_id, const osb_transfer_config *tc,
                                      osb_transfer **out);
OSB_API osb_err osb_multi_sandbox_delete(osb_multi *m, const char *sandbox_id, const osb_transfer_config *tc,
                                         osb_transfer **out);

/* Ends t now (on_done is called with OSB_ERR_CANCELLED before this
 * returns); its connection is closed, the others go on. */
OSB_API void osb_multi_cancel(osb_multi *m, osb_transfer *t);
/* The status, headers and (without a sink) the body of t's response. */
OSB_API const osb_http_response *osb_transfer_response(const osb_transfer *t);
/* The decoded result of a typed call; the caller owns it then
 * (osb_result_free). NULL when there is none. */
OSB_API void *osb_transfer_take_result(osb_transfer *t);
OSB_API void *osb_transfer_user(const osb_transfer *t);

/* Waits at most timeout_ms (0: not at all; negative: until the next
 * deadline or socket event) for the sockets, moves every transfer on,
 * calls the on_done of the ended ones. *running (may be NULL): transfers
 * not ended yet. */
OSB_API osb_err osb_multi_perform(osb_multi *m, int timeout_ms, int *running);

#define OSB_MULTI_IN 1            /* wait until readable */
#define OSB_MULTI_OUT 2           /* wait until writable */
#define OSB_MULTI_NO_FD (-1)      /* osb_multi_socket_ready: no socket, time passed */
typedef struct osb_multi_socket {
    int fd;                       /* the socket (a SOCKET on Windows) */
    int events;                   /* OSB_MULTI_IN or OSB_MULTI_OUT */
} osb_multi_socket;
/* Fills up to cap sockets the transfers wait on; returns how many there
 * are (more than cap: call again with more room). */
OSB_API size_t osb_multi_fds(osb_multi *m, osb_multi_socket *out, size_t cap);
/* The longest wait before osb_multi_socket_ready must be called anyway:
 * milliseconds, 0 = now (work that needs no socket), -1 = no deadline. */
OSB_API int osb_multi_timeout_ms(osb_multi *m);
/* Tells that fd is ready for events (OSB_MULTI_IN / OSB_MULTI_OUT; an
 * error or hang-up counts as both), or OSB_MULTI_NO_FD when the timeout
 * passed; moves the transfers on. */
OSB_API osb_err osb_multi_socket_ready(osb_multi *m, int fd, int events, int *running);
OSB_API int osb_multi_running(const osb_multi *m);
#endif /* OSB_NO_MULTI */

/* ---- the sandbox layer on a multi ------------------------------------------ */
#if !OSB_NO_MULTI
/* Creates n sandboxes from one request, the create calls all at once on a
 * multi, and waits for each as osb_sandbox_open does (Running, execd
 * reachable; that wait goes one sandbox after the other, and is short once
 * they all run). out[0..n) get the handles. When any fails, or *cancel
 * (may be NULL) becomes non-zero (creates already sent are waited for,
 * the others dropped), the sandboxes created are killed (unless
 * opt->keep_on_failure) and closed, every out[i] is NULL, and the first
 * failure's code is returned (OSB_ERR_CANCELLED; the detail in
 * osb_client_error). */
OSB_API osb_err osb_sandbox_open_many(osb_client *c, const osb_sandbox_create_req *req, size_t n,
                                      const osb_sandbox_options *opt, const volatile int *cancel,
                                      osb_sandbox **out);
/* An event of sandbox index's run (osb_sandbox_run_many); non-zero stops
 * that run with OSB_ERR_CANCELLED. */
typedef int (*osb_batch_event_fn)(void *user, size_t index, const osb_event *ev);
/* Runs `bash -c command` in each of n sandboxes (all of one client) at
 * once, from this thread. x (may be NULL) gets n executions (as
 * osb_sandbox_run fills one), results (may be NULL) each run's code.
 * Returns OSB_OK when every run did (then see x[i].exit_code), else the
 * first failure's code. */
OSB_API osb_err osb_sandbox_run_many(osb_sandbox *const *sbs, size_t n, const char *command,
                                     osb_batch_event_fn on_event, void *user, osb_execution *x,
                                     osb_err *results);
#endif /* OSB_NO_MULTI */
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
#include <stdarg.h>
#include <errno.h>
#include <time.h>
#ifdef _WIN32
#  include <winsock2.h>
#  include <ws2tcpip.h>
#  include <windows.h>
#  include <io.h>
#  include <fcntl.h>
#else
#  include <sys/types.h>
#  include <sys/socket.h>
#  include <netdb.h>
#  include <netinet/in.h>
#  include <netinet/tcp.h>
#  include <unistd.h>
#  include <fcntl.h>
#  include <poll.h>
#  if defined(__linux__) && !defined(OSB_NO_SENDFILE)
#    include <sys/sendfile.h>
#    include <signal.h>
#  endif
#endif
#ifndef OSB_DNS
#  define OSB_DNS 0
#endif
#if OSB_DNS != 0 && OSB_DNS != 1
#  error "OSB_DNS must be 0 (getaddrinfo) or 1 (the built-in resolver)"
#endif
#if OSB_DNS && defined(_WIN32)
#  error "OSB_DNS=1 is for POSIX systems; Windows builds resolve with getaddrinfo (OSB_DNS=0)"
#endif
/* the resolver's query ids and a WebSocket's key and masks come from the OS */
#if OSB_DNS || !OSB_NO_WS
#  define OSB__OS_RANDOM 1
#else
#  define OSB__OS_RANDOM 0
#endif
#if OSB__OS_RANDOM && defined(__linux__) && (!defined(__GLIBC__) || __GLIBC__ > 2 || __GLIBC_MINOR__ >= 25)
#  define OSB__GETRANDOM 1
#  include <sys/random.h>
#else
#  define OSB__GETRANDOM 0
#endif
#if OSB_DNS
#  undef OSB_RESOLVER_THREAD
#  define OSB_RESOLVER_THREAD 0  /* the built-in resolver keeps the deadline itself */
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
/* JSON strings are scanned 16 bytes per step where the machine has 16-byte
 * vectors in its baseline (SSE2 on x86-64, NEON on little-endian aarch64),
 * by 8-byte words elsewhere (>>json). OSB_NO_SIMD forces the words. */
#if !defined(OSB_NO_SIMD) && (defined(__GNUC__) || defined(__clang__)) && defined(__SSE2__)
#  include <emmintrin.h>
#  define OSB__SIMD_SSE2 1
#elif !defined(OSB_NO_SIMD) && (defined(__GNUC__) || defined(__clang__)) && defined(__ARM_NEON) && \
    defined(__aarch64__) && defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#  include <arm_neon.h>
#  define OSB__SIMD_NEON 1
#endif
/* On x86-64 the strings of execd events are also scanned 64 bytes per step
 * with AVX2, or AVX-512 VBMI2, chosen at run time when the CPU and the OS
 * have it (>>execd). The code is compiled for them function by function
 * (target attributes: GCC 8 and Clang 6 know every one used), so the rest
 * of the program still runs on any x86-64. */
#if defined(OSB__SIMD_SSE2) && defined(__x86_64__) && !defined(OSB_NO_AVX2) && !OSB_NO_FAST_EVENTS && \
    ((defined(__clang__) && __clang_major__ >= 6) || (!defined(__clang__) && __GNUC__ >= 8))
#  include <immintrin.h>
#  include <cpuid.h>
#  define OSB__AVX2 1
#  if !defined(OSB_NO_AVX512)
#    define OSB__AVX512 1
#  endif
#endif

#ifndef OSB_TLS
#  define OSB_TLS 0
#endif
#ifndef OSB_SHORT_ERRNO_TEXT
#  define OSB_SHORT_ERRNO_TEXT 0
#endif
#if OSB_SHORT_ERRNO_TEXT && defined(_WIN32)
#  error "OSB_SHORT_ERRNO_TEXT=1 is for POSIX systems (Windows socket errors are not errno values)"
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
/* The library's formats are checked like printf's (osb__fmt). */
#if defined(__GNUC__) || defined(__clang__)
#  define OSB__PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#  define OSB__PRINTF(f, a)
#endif

/* ---- formatting: one small snprintf for the library's own messages ----
 * Only what the header's formats use: %s %.Ns %.*s %c %d %i %u %x %X with
 * l, ll, z, a width (0 or - flag) and %%; GCC/Clang check the calls as
 * printf formats. A program that prints nothing itself links no printf. */
typedef struct osb__out {
    char *buf;
    size_t cap, n;                          /* n counts what would be written */
} osb__out;

OSB__HELPER void osb__out_c(osb__out *o, char c) {
    if (o->n + 1 < o->cap) o->buf[o->n] = c;
    o->n++;
}

OSB__HELPER void osb__out_pad(osb__out *o, const char *s, size_t len, size_t width, int left, char pad) {
    size_t i;
    if (!left)
        for (i = len; i < width; i++) osb__out_c(o, pad);
    for (i = 0; i < len; i++) osb__out_c(o, s[i]);
    if (left)
        for (i = len; i < width; i++) osb__out_c(o, ' ');
}

OSB__HELPER int osb__vfmt(char *buf, size_t cap, const char *fmt, va_list ap) {
    osb__out o;
    o.buf = buf;
    o.cap = cap;
    o.n = 0;
    for (; *fmt; fmt++) {
        char num[24], conv;
        const char *s;
        size_t width = 0, prec = (size_t)-1, len;
        int left = 0, zero = 0, longs = 0, size_t_arg = 0;
        unsigned long long u;
        int neg = 0;
        if (*fmt != '%') { osb__out_c(&o, *fmt); continue; }
        for (fmt++; *fmt == '-' || *fmt == '0'; fmt++) {
            if (*fmt == '-') left = 1;
            else zero = 1;
        }
        if (*fmt == '*') { int w = va_arg(ap, int); if (w < 0) { left = 1; w = -w; } width = (size_t)w; fmt++; }
        for (; *fmt >= '0' && *fmt <= '9'; fmt++) width = width * 10 + (size_t)(*fmt - '0');
        if (*fmt == '.') {
            fmt++;
            if (*fmt == '*') { int p = va_arg(ap, int); prec = p < 0 ? (size_t)-1 : (size_t)p; fmt++; }
            else for (prec = 0; *fmt >= '0' && *fmt <= '9'; fmt++) prec = prec * 10 + (size_t)(*fmt - '0');
        }
        for (; *fmt == 'l'; fmt++) longs++;
        if (*fmt == 'z') { size_t_arg = 1; fmt++; }
        conv = *fmt;
        switch (conv) {
        case 's':
            s = va_arg(ap, const char *);
            if (!s) s = "(null)";
            for (len = 0; len < prec && s[len]; len++) {}
            osb__out_pad(&o, s, len, width, left, ' ');
            continue;
        case 'c':
            num[0] = (char)va_arg(ap, int);
            osb__out_pad(&o, num, 1, width, left, ' ');
            continue;
        case 'd': case 'i': {
            long long v = size_t_arg ? (long long)va_arg(ap, size_t) : longs >= 2 ? va_arg(ap, long long)
                        : longs ? (long long)va_arg(ap, long) : (long long)va_arg(ap, int);
            neg = v < 0;
            u = neg ? 0ull - (unsigned long long)v : (unsigned long long)v;
            break;
        }
        case 'u': case 'x': case 'X':
            u = size_t_arg ? (unsigned long long)va_arg(ap, size_t) : longs >= 2 ? va_arg(ap, unsigned long long)
              : longs ? (unsigned long long)va_arg(ap, unsigned long) : (unsigned long long)va_arg(ap, unsigned);
            break;
        case '%':
            osb__out_c(&o, '%');
            continue;
        default:                                            /* not used by the header */
            osb__out_c(&o, '%');
            if (conv) osb__out_c(&o, conv);
            else fmt--;                                     /* the format ended inside it */
            continue;
        }
        {   /* digits right to left, then sign and padding */
            unsigned base = conv == 'x' || conv == 'X' ? 16 : 10;
            const char *dig = conv == 'X' ? "0123456789ABCDEF" : "0123456789abcdef";
            size_t at = sizeof num;
            do { num[--at] = dig[u % base]; u /= base; } while (u);
            if (neg && zero && !left) {
                osb__out_c(&o, '-');
                width = width ? width - 1 : 0;
            } else if (neg) {
                num[--at] = '-';
            }
            osb__out_pad(&o, num + at, sizeof num - at, width, left, zero && !left ? '0' : ' ');
        }
    }
    if (cap) buf[o.n < cap ? o.n : cap - 1] = 0;
    return (int)o.n;
}

OSB__HELPER int osb__fmt(char *buf, size_t cap, const char *fmt, ...) OSB__PRINTF(3, 4);
OSB__HELPER int osb__fmt(char *buf, size_t cap, const char *fmt, ...) {
    va_list ap;
    int n;
    va_start(ap, fmt);
    n = osb__vfmt(buf, cap, fmt, ap);
    va_end(ap);
    return n;
}


OSB_API const char *osb_version(void) { return OSB_VERSION_STRING; }

/* Text i of texts, one text after another, each ended by '\0'. A switch
 * or an array of pointers takes 8 bytes a text more. */
OSB__HELPER const char *osb__nth_text(const char *texts, unsigned i) {
    for (; i; i--) texts += strlen(texts) + 1;
    return texts;
}

OSB_API const char *osb_strerror(osb_err code) {
    /* in the order of the codes, then the text for any other */
    static const char texts[] =
        "ok\0invalid argument\0out of memory\0host name not resolved\0connection failed\0timed out\0"
        "TLS failure\0malformed HTTP from the server\0response truncated\0size limit exceeded\0"
        "HTTP error status\0invalid JSON\0cancelled\0not supported\0local I/O error\0"
        "server reported an error\0invalid state for this call\0connection closed without a response\0"
        "number out of range\0unknown error";
    return osb__nth_text(texts, (unsigned)code < OSB_ERR_COUNT ? (unsigned)code : OSB_ERR_COUNT);
}

OSB_API const char *osb_phase_name(osb_phase phase) {
    static const char texts[] = "none\0dns\0connect\0tls\0send\0first byte\0idle\0total\0unknown";
    return osb__nth_text(texts, (unsigned)phase <= OSB_PHASE_TOTAL ? (unsigned)phase : OSB_PHASE_TOTAL + 1);
}

/* strstr for the short strings searched here ("://" in a URL, a secret in
 * a message): a plain scan, where a static C library's strstr brings a
 * two-way search of 1.3 KB. */
OSB__HELPER char *osb__strstr(const char *s, const char *sub) {
    size_t n = strlen(sub);
    for (;; s++) {
        if (strncmp(s, sub, n) == 0) return (char *)(uintptr_t)s;
        if (!*s) return NULL;
    }
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

/* The text of list (texts each ended by '\0', the list by an empty one)
 * that a[0..an) is, ignoring case; NULL when none. */
OSB__HELPER const char *osb__ieq_any(const char *a, size_t an, const char *list) {
    for (; *list; list += strlen(list) + 1)
        if (osb__ieq(a, an, list)) return list;
    return NULL;
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
#include <float.h>
#include <limits.h>
#include <time.h>

#if OSB_JSON_MAX_DEPTH < 1 || OSB_JSON_MAX_DEPTH > OSB_JSON_DEPTH_LIMIT
#  error "OSB_JSON_MAX_DEPTH must be between 1 and OSB_JSON_DEPTH_LIMIT (1024)"
#endif


// >>json ---------------------------------------------------------------------

/* Eight bytes as a little-endian word, so byte k of the input is byte k of
 * the word on every machine. One load (memcpy: any alignment) where the
 * compiler names the byte order, byte by byte elsewhere. It has to stay
 * small enough to be inlined into every scanning loop. */
OSB__HELPER uint64_t osb__load_le64(const unsigned char *p) {
#if defined(__BYTE_ORDER__) && defined(__ORDER_LITTLE_ENDIAN__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    uint64_t x;
    memcpy(&x, p, 8);
    return x;
#elif defined(__BYTE_ORDER__) && defined(__ORDER_BIG_ENDIAN__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    uint64_t x;
    memcpy(&x, p, 8);
    return __builtin_bswap64(x);
#else
    return (uint64_t)p[0] | (uint64_t)p[1] << 8 | (uint64_t)p[2] << 16 | (uint64_t)p[3] << 24 |
           (uint64_t)p[4] << 32 | (uint64_t)p[5] << 40 | (uint64_t)p[6] << 48 | (uint64_t)p[7] << 56;
#endif
}

/* The index of the first byte in s[p..n) that string text cannot take as it
 * is -- a control byte, '"', '\\' or a byte at or above 0x80 -- or n.
 * String runs are long and this is the hottest loop of both decoders, so it
 * tests eight bytes at a time: each term sets the top bit of a byte that is
 * below 0x20, at or above 0x80, '\\' or '"'. A borrow only carries upward out
 * of such a byte, so a clean word never tests positive and the lowest flagged
 * byte is the first hit. Its index comes from isolating the lowest flag and
 * multiplying: byte k of the word maps to 7 - k in the top byte. */
OSB__HELPER uint64_t osb__str_special(uint64_t x) {
    return ((x - 0x2020202020202020ull) | x | ((x ^ 0x5C5C5C5C5C5C5C5Cull) - 0x0101010101010101ull) |
            ((x ^ 0x2222222222222222ull) - 0x0101010101010101ull)) &
           0x8080808080808080ull;
}

/* The index (0-7) of the lowest flagged byte of a nonzero osb__str_special. */
OSB__HELPER size_t osb__str_first(uint64_t m) {
    return (size_t)((((m & (0 - m)) >> 7) * 0x0001020304050607ull) >> 56);
}

OSB__HELPER size_t osb__str_plain_end_words(const unsigned char *s, size_t p, size_t n) {
    while (n - p >= 8) {
        uint64_t m = osb__str_special(osb__load_le64(s + p));
        if (m) return p + osb__str_first(m);
        p += 8;
    }
    while (p < n && s[p] >= 0x20 && s[p] < 0x80 && s[p] != '"' && s[p] != '\\') p++;
    return p;
}

#if defined(OSB__SIMD_SSE2) || defined(OSB__SIMD_NEON)
#define OSB__SIMD 1
/* Vector helpers are small and only pay inside their loops. */
#define OSB__V16_FN static inline __attribute__((always_inline, unused))
/* Sixteen bytes per step (osb__v16). The same byte classes as the words
 * above; a mask has OSB__V16_BITS bits per byte, byte k's lowest at bit
 * k * OSB__V16_BITS, so a trailing zero count shifted right by
 * OSB__V16_SHIFT is the index of the lowest flagged byte. Loads and stores
 * are unaligned; no load reaches past the end of its input. */
#if defined(OSB__SIMD_SSE2)
typedef __m128i osb__v16;
#define OSB__V16_SHIFT 0

OSB__V16_FN osb__v16 osb__v16_load(const void *p) { return _mm_loadu_si128((const __m128i *)p); }
OSB__V16_FN void osb__v16_store(void *w, osb__v16 x) { _mm_storeu_si128((__m128i *)w, x); }
OSB__V16_FN osb__v16 osb__v16_zero(void) { return _mm_setzero_si128(); }
OSB__V16_FN osb__v16 osb__v16_or(osb__v16 a, osb__v16 b) { return _mm_or_si128(a, b); }
/* movemask: a flagged lane has its top bit set */
OSB__V16_FN uint64_t osb__v16_mask(osb__v16 m) { return (uint64_t)(unsigned)_mm_movemask_epi8(m); }
OSB__V16_FN osb__v16 osb__v16_bytes(int c) { return _mm_set1_epi8((char)c); }

/* Unsigned a >= c, as a == max(a, c) (SSE2 compares bytes signed only). */
OSB__V16_FN osb__v16 osb__v16_ge(osb__v16 a, int c) {
    return _mm_cmpeq_epi8(_mm_max_epu8(a, osb__v16_bytes(c)), a);
}

/* '"', '\\' and control bytes (x <= 0x1F as x == min(x, 0x1F)). */
OSB__V16_FN osb__v16 osb__v16_stops(osb__v16 x) {
    osb__v16 ctl = _mm_cmpeq_epi8(_mm_min_epu8(x, osb__v16_bytes(0x1F)), x);
    return _mm_or_si128(ctl, _mm_or_si128(_mm_cmpeq_epi8(x, osb__v16_bytes('"')),
                                          _mm_cmpeq_epi8(x, osb__v16_bytes('\\'))));
}

/* Bytes at or above 0x80: their top bit is the flag already. */
OSB__V16_FN osb__v16 osb__v16_highs(osb__v16 x) { return x; }

/* The bytes one, two and three places before each byte of x, prev being the
 * 16 bytes before x. */
#define OSB__V16_BEFORE(x, prev, k) _mm_or_si128(_mm_slli_si128(x, k), _mm_srli_si128(prev, 16 - (k)))

/* The second bytes of three- and four-byte characters whose lead narrows
 * their range (E0: A0-BF, ED: 80-9F, F0: 90-BF, F4: 80-8F), as signed
 * compares: 0x80-0xBF are -128..-65 signed. A byte out of 0x80-0xBF is
 * flagged by the continuation rule anyway. */
OSB__V16_FN osb__v16 osb__v16_utf8_ranges(osb__v16 x, osb__v16 p1) {
    osb__v16 e0 = _mm_and_si128(_mm_cmpeq_epi8(p1, osb__v16_bytes(0xE0)), _mm_cmplt_epi8(x, osb__v16_bytes(0xA0)));
    osb__v16 ed = _mm_and_si128(_mm_cmpeq_epi8(p1, osb__v16_bytes(0xED)), _mm_cmpgt_epi8(x, osb__v16_bytes(0x9F)));
    osb__v16 f0 = _mm_and_si128(_mm_cmpeq_epi8(p1, osb__v16_bytes(0xF0)), _mm_cmplt_epi8(x, osb__v16_bytes(0x90)));
    osb__v16 f4 = _mm_and_si128(_mm_cmpeq_epi8(p1, osb__v16_bytes(0xF4)), _mm_cmpgt_epi8(x, osb__v16_bytes(0x8F)));
    return _mm_or_si128(_mm_or_si128(e0, ed), _mm_or_si128(f0, f4));
}

/* Continuation bytes (0x80-0xBF, below -64 signed) and the bytes no UTF-8
 * has (C0, C1, F5-FF). */
OSB__V16_FN osb__v16 osb__v16_is_cont(osb__v16 x) { return _mm_cmplt_epi8(x, osb__v16_bytes(-64)); }
OSB__V16_FN osb__v16 osb__v16_never(osb__v16 x) {
    return _mm_or_si128(_mm_cmpeq_epi8(_mm_and_si128(x, osb__v16_bytes(0xFE)), osb__v16_bytes(0xC0)),
                        osb__v16_ge(x, 0xF5));
}

/* Where a continuation byte is due after leads of two or three bytes (a
 * byte before at C0 or above, or two before at E0 or above) and x has none,
 * or x has one not due. Saturating subtraction leaves nonzero exactly where
 * a byte is above the bound. */
OSB__V16_FN osb__v16 osb__v16_utf8_common(osb__v16 x, osb__v16 prev) {
    osb__v16 due = _mm_or_si128(_mm_subs_epu8(OSB__V16_BEFORE(x, prev, 1), osb__v16_bytes(0xBF)),
                                _mm_subs_epu8(OSB__V16_BEFORE(x, prev, 2), osb__v16_bytes(0xDF)));
    return _mm_cmpeq_epi8(_mm_cmpeq_epi8(due, _mm_setzero_si128()), osb__v16_is_cont(x));
}

/* The bytes that need more than osb__v16_utf8_common: never allowed (C0,
 * C1, F5-FF), leads of a narrowed second byte (E0, ED, F0, F4) and the other
 * leads of four bytes (F1-F3). */
OSB__V16_FN osb__v16 osb__v16_utf8_rare(osb__v16 x) {
    return _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(_mm_and_si128(x, osb__v16_bytes(0xFE)), osb__v16_bytes(0xC0)),
                                     _mm_cmpeq_epi8(x, osb__v16_bytes(0xE0))),
                        _mm_or_si128(_mm_cmpeq_epi8(x, osb__v16_bytes(0xED)), osb__v16_ge(x, 0xF0)));
}
#else /* OSB__SIMD_NEON */
typedef uint8x16_t osb__v16;
#define OSB__V16_SHIFT 2

OSB__V16_FN osb__v16 osb__v16_load(const void *p) { return vld1q_u8((const uint8_t *)p); }
OSB__V16_FN void osb__v16_store(void *w, osb__v16 x) { vst1q_u8((uint8_t *)w, x); }
OSB__V16_FN osb__v16 osb__v16_zero(void) { return vdupq_n_u8(0); }
OSB__V16_FN osb__v16 osb__v16_or(osb__v16 a, osb__v16 b) { return vorrq_u8(a, b); }
/* A flagged lane is 0xFF; shifting each 16-bit pair right by 4 and
 * narrowing keeps four bits of every byte. */
OSB__V16_FN uint64_t osb__v16_mask(osb__v16 m) {
    return vget_lane_u64(vreinterpret_u64_u8(vshrn_n_u16(vreinterpretq_u16_u8(m), 4)), 0);
}
OSB__V16_FN osb__v16 osb__v16_bytes(int c) { return vdupq_n_u8((uint8_t)c); }
OSB__V16_FN osb__v16 osb__v16_ge(osb__v16 a, int c) { return vcgeq_u8(a, osb__v16_bytes(c)); }

OSB__V16_FN osb__v16 osb__v16_stops(osb__v16 x) {
    return vorrq_u8(vcltq_u8(x, osb__v16_bytes(0x20)),
                    vorrq_u8(vceqq_u8(x, osb__v16_bytes('"')), vceqq_u8(x, osb__v16_bytes('\\'))));
}

OSB__V16_FN osb__v16 osb__v16_highs(osb__v16 x) { return vcgeq_u8(x, osb__v16_bytes(0x80)); }

#define OSB__V16_BEFORE(x, prev, k) vextq_u8(prev, x, 16 - (k))

OSB__V16_FN osb__v16 osb__v16_utf8_ranges(osb__v16 x, osb__v16 p1) {
    osb__v16 e0 = vandq_u8(vceqq_u8(p1, osb__v16_bytes(0xE0)), vcltq_u8(x, osb__v16_bytes(0xA0)));
    osb__v16 ed = vandq_u8(vceqq_u8(p1, osb__v16_bytes(0xED)), vcgtq_u8(x, osb__v16_bytes(0x9F)));
    osb__v16 f0 = vandq_u8(vceqq_u8(p1, osb__v16_bytes(0xF0)), vcltq_u8(x, osb__v16_bytes(0x90)));
    osb__v16 f4 = vandq_u8(vceqq_u8(p1, osb__v16_bytes(0xF4)), vcgtq_u8(x, osb__v16_bytes(0x8F)));
    return vorrq_u8(vorrq_u8(e0, ed), vorrq_u8(f0, f4));
}

OSB__V16_FN osb__v16 osb__v16_is_cont(osb__v16 x) {
    return vceqq_u8(vandq_u8(x, osb__v16_bytes(0xC0)), osb__v16_bytes(0x80));
}
OSB__V16_FN osb__v16 osb__v16_never(osb__v16 x) {
    return vorrq_u8(vceqq_u8(vandq_u8(x, osb__v16_bytes(0xFE)), osb__v16_bytes(0xC0)), osb__v16_ge(x, 0xF5));
}

OSB__V16_FN osb__v16 osb__v16_utf8_common(osb__v16 x, osb__v16 prev) {
    osb__v16 due = vorrq_u8(osb__v16_ge(OSB__V16_BEFORE(x, prev, 1), 0xC0), osb__v16_ge(OSB__V16_BEFORE(x, prev, 2), 0xE0));
    return veorq_u8(due, osb__v16_is_cont(x));
}

OSB__V16_FN osb__v16 osb__v16_utf8_rare(osb__v16 x) {
    return vorrq_u8(vorrq_u8(vceqq_u8(vandq_u8(x, osb__v16_bytes(0xFE)), osb__v16_bytes(0xC0)),
                             vceqq_u8(x, osb__v16_bytes(0xE0))),
                    vorrq_u8(vceqq_u8(x, osb__v16_bytes(0xED)), osb__v16_ge(x, 0xF0)));
}
#endif

/* The index of the lowest flagged byte of a nonzero mask. */
OSB__V16_FN size_t osb__v16_first(uint64_t m) { return (size_t)__builtin_ctzll(m) >> OSB__V16_SHIFT; }

/* The UTF-8 errors of x (RFC 3629, as osb__u8_step judges byte by byte),
 * prev being the 16 bytes before it (zero where ASCII came before). A byte
 * must be a continuation byte exactly when the byte before it is a lead
 * byte (C0 and up), or the one two before leads three or four bytes (E0 and
 * up), or the one three before leads four (F0 and up); on top of that come
 * the bytes never allowed and the narrowed second-byte ranges. Valid text
 * flags no byte; in other text the byte where reading it character by
 * character first fails is flagged (for a character cut short, the first
 * byte after it that is no continuation byte). So a run checked up to and
 * including the ASCII byte after it is valid exactly when none of those
 * bytes is flagged. */
OSB__V16_FN osb__v16 osb__v16_utf8_errors(osb__v16 x, osb__v16 prev) {
    osb__v16 p1 = OSB__V16_BEFORE(x, prev, 1), p2 = OSB__V16_BEFORE(x, prev, 2), p3 = OSB__V16_BEFORE(x, prev, 3);
    osb__v16 need = osb__v16_or(osb__v16_ge(p1, 0xC0), osb__v16_or(osb__v16_ge(p2, 0xE0), osb__v16_ge(p3, 0xF0)));
#if defined(OSB__SIMD_SSE2)
    osb__v16 wrong = _mm_xor_si128(need, osb__v16_is_cont(x));
#else
    osb__v16 wrong = veorq_u8(need, osb__v16_is_cont(x));
#endif
    return osb__v16_or(osb__v16_or(wrong, osb__v16_never(x)), osb__v16_utf8_ranges(x, p1));
}
#endif /* OSB__SIMD */

#if defined(OSB__SIMD)
/* Sixteen bytes from p, or the left (< 16) that are there followed by zeros
 * (copied to a zeroed block first), so no load passes the end of the input. */
OSB__V16_FN osb__v16 osb__v16_load_upto(const char *p, size_t left) {
    unsigned char tail[16];
    if (left >= 16) return osb__v16_load(p);
    memset(tail, 0, sizeof tail);
    memcpy(tail, p, left);
    return osb__v16_load(tail);
}
#endif

/* The index of the first byte in s[p..n) that string text cannot take as it
 * is, or n (see osb__str_special): 16 bytes per step where the machine has
 * vectors, the rest (fewer than 16 bytes) by words. */
OSB__HELPER size_t osb__str_plain_end(const unsigned char *s, size_t p, size_t n) {
#if defined(OSB__SIMD)
    while (n - p >= 16) {
        osb__v16 x = osb__v16_load(s + p);
        uint64_t m = osb__v16_mask(osb__v16_or(osb__v16_stops(x), osb__v16_highs(x)));
        if (m) return p + osb__v16_first(m);
        p += 16;
    }
#endif
    return osb__str_plain_end_words(s, p, n);
}

/* Grammar states: what the next significant byte may be. */
enum {
    OSB__G_VALUE,        /* a value (top level, after ':' or after ',' in an array) */
    OSB__G_VALUE_OR_END, /* after '[' */
    OSB__G_KEY_OR_END,   /* after '{' */
    OSB__G_KEY,          /* after ',' in an object */
    OSB__G_COLON,        /* after a key */
    OSB__G_COMMA_OR_END, /* after a value inside a container */
    OSB__G_DONE          /* the top-level value is complete */
};

/* Lexer states: inside which token. */
enum { OSB__L_NONE, OSB__L_STR, OSB__L_NUM, OSB__L_LIT };

/* String sub-states. */
enum { OSB__S_CHAR, OSB__S_ESC, OSB__S_HEX, OSB__S_LOW_BS, OSB__S_LOW_U, OSB__S_LOW_HEX };

/* Number sub-states (RFC 8259 section 6). */
enum { OSB__N_MINUS, OSB__N_ZERO, OSB__N_INT, OSB__N_DOT, OSB__N_FRAC,
       OSB__N_E, OSB__N_ESIGN, OSB__N_EXP };

static const char *const osb__json_lits[3] = {"true", "false", "null"};

OSB__HELPER int osb__json_fail(osb_json *j, osb_err code, uint64_t offset, const char *msg) {
    j->err = code;
    j->err_offset = offset;
    j->err_msg = msg;
    return OSB_JSON_ERROR;
}

OSB_API osb_err osb_json_init(osb_json *j, char *scratch, size_t cap) {
    if (!j) return OSB_ERR_INVALID_ARG;
    memset(j, 0, sizeof *j);
    j->err_msg = "";
    j->max_depth = OSB_JSON_MAX_DEPTH;
    j->gram = OSB__G_VALUE;
    if (!scratch || cap < OSB_JSON_MIN_SCRATCH) {
        osb__json_fail(j, OSB_ERR_INVALID_ARG, 0, "scratch buffer missing or too small");
        return OSB_ERR_INVALID_ARG;
    }
    j->scratch = scratch;
    j->scratch_cap = cap;
    return OSB_OK;
}

OSB_API osb_err osb_json_feed(osb_json *j, const void *data, size_t len, int final) {
    if (j->in_pos < j->in_len) return OSB_ERR_STATE;  /* the last chunk is not used up */
    if (!data && len) return OSB_ERR_INVALID_ARG;
    j->base += j->in_len;
    j->in = (const char *)data;
    j->in_len = len;
    j->in_pos = 0;
    j->final = final != 0;
    return OSB_OK;
}

OSB_API uint64_t osb_json_offset(const osb_json *j) { return j->base + j->in_pos; }

/* The bit stack: 1 = object, 0 = array, one bit per open container. */
OSB__HELPER int osb__json_top_is_object(const osb_json *j) {
    uint32_t d = j->depth - 1;
    return (j->stack[d >> 3] >> (d & 7)) & 1;
}

OSB__HELPER int osb__json_push(osb_json *j, int is_object) {
    uint32_t d = j->depth;
    if (d >= j->max_depth || d >= OSB_JSON_DEPTH_LIMIT)
        return osb__json_fail(j, OSB_ERR_JSON, j->base + j->in_pos,
                              "nesting deeper than the depth limit");
    if (is_object) j->stack[d >> 3] = (unsigned char)(j->stack[d >> 3] | (1u << (d & 7)));
    else j->stack[d >> 3] = (unsigned char)(j->stack[d >> 3] & ~(1u << (d & 7)));
    j->depth = d + 1;
    return 1;
}

/* After a complete value: either the document is done or a ',' / end follows. */
OSB__HELPER void osb__json_after_value(osb_json *j) {
    j->gram = j->depth == 0 ? OSB__G_DONE : OSB__G_COMMA_OR_END;
}

/* A hex digit's value, -1 for any other byte. */
OSB__HELPER int osb__hexval(int c) {
    /* as selects, not branches: chunk sizes mix digits and letters at random */
    unsigned digit = (unsigned)c - '0', letter = ((unsigned)c | 0x20) - 'a';
    int v = letter < 6 ? (int)letter + 10 : -1;
    return digit < 10 ? (int)digit : v;
}

/* UTF-8 validation, one byte at a time so it resumes across chunks. A lead
 * byte sets how many continuation bytes follow and the range the first of
 * them must fall in (this rejects overlong forms, encoded surrogates and
 * code points above U+10FFFF). Returns 0 or -1. */
OSB__HELPER int osb__u8_step(osb_json *j, unsigned c) {
    if (j->u8need) {
        if (c < j->u8lo || c > j->u8hi) return -1;
        j->u8lo = 0x80;
        j->u8hi = 0xBF;
        j->u8need--;
        j->u8have++;
        return 0;
    }
    j->u8have = 1;
    j->u8lo = 0x80;
    j->u8hi = 0xBF;
    if (c < 0x80) { j->u8have = 0; return 0; }
    if (c < 0xC2) return -1;
    if (c < 0xE0) { j->u8need = 1; return 0; }
    if (c < 0xF0) {
        j->u8need = 2;
        if (c == 0xE0) j->u8lo = 0xA0;
        if (c == 0xED) j->u8hi = 0x9F;
        return 0;
    }
    if (c < 0xF5) {
        j->u8need = 3;
        if (c == 0xF0) j->u8lo = 0x90;
        if (c == 0xF4) j->u8hi = 0x8F;
        return 0;
    }
    return -1;
}

OSB__HELPER size_t osb__utf8_put(char *o, uint32_t cp) {
    if (cp < 0x80) { o[0] = (char)cp; return 1; }
    if (cp < 0x800) {
        o[0] = (char)(0xC0 | (cp >> 6));
        o[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        o[0] = (char)(0xE0 | (cp >> 12));
        o[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        o[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    o[0] = (char)(0xF0 | (cp >> 18));
    o[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    o[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
    o[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

/* Token text handed to the caller. */
OSB__HELPER int osb__json_emit(osb_json *j, osb_json_token *t, int type, const char *p,
                               size_t n, int more) {
    t->type = (osb_json_type)type;
    t->ptr = p;
    t->len = n;
    t->more = more;
    t->offset = j->tok_start;
    t->depth = j->depth;
    return type;
}

OSB__HELPER int osb__json_emit_scratch(osb_json *j, osb_json_token *t, int type, int more) {
    j->reset_scratch = 1;  /* cleared at the next call, once the caller had it */
    return osb__json_emit(j, t, type, j->scratch, j->scratch_len, more);
}

/* The direct run [run_start, end) leaves the input: copy it into scratch, or,
 * when it does not fit, hand it over as a piece straight from the input. A
 * piece must end on a character boundary, so the bytes of an unfinished
 * UTF-8 character (u8have of them) go to scratch. Returns the token type when
 * a piece was emitted, 0 when the run now lives in scratch. */
OSB__HELPER int osb__json_spill(osb_json *j, osb_json_token *t, int type, size_t end) {
    size_t run = end - j->run_start;
    j->direct = 0;
    /* direct mode starts with scratch empty; the continuation bytes still
     * due for a cut character must fit after the run too */
    if (run + (size_t)j->u8need <= j->scratch_cap) {
        memcpy(j->scratch + j->scratch_len, j->in + j->run_start, run);
        j->scratch_len += run;
        return 0;
    } else {
        size_t partial = j->u8need ? (size_t)j->u8have : 0;
        size_t whole = run - partial;
        memcpy(j->scratch, j->in + end - partial, partial);
        j->scratch_len = partial;
        return osb__json_emit(j, t, type, j->in + j->run_start, whole, 1);
    }
}

/* Appends one byte to scratch (room was checked by the caller). */
#define OSB__SCRATCH_PUT(j, c) ((j)->scratch[(j)->scratch_len++] = (char)(c))

/* Reads string text: returns the token type (a whole string or a piece), 0
 * when the chunk is used up, OSB_JSON_ERROR on bad input. */
OSB__HELPER int osb__json_string(osb_json *j, osb_json_token *t) {
    const unsigned char *s = (const unsigned char *)j->in;
    size_t p = j->in_pos, n = j->in_len;
    int type = j->is_key ? OSB_JSON_KEY : OSB_JSON_STRING;
    for (;;) {
        unsigned c;
        if (j->direct && j->sub == OSB__S_CHAR && !j->u8need) {
            /* the hot loop: plain ASCII needs no work at all */
            p = osb__str_plain_end(s, p, n);
        } else if (!j->direct && j->sub == OSB__S_CHAR && !j->u8need && j->scratch_cap - j->scratch_len >= 4) {
            /* after an escape: plain ASCII goes into scratch as a block, as
               far as the byte-wise path below would put it (that one keeps
               room for a whole character, 4 bytes, before each byte) */
            size_t room = j->scratch_cap - j->scratch_len - 3;
            size_t e = osb__str_plain_end(s, p, p + OSB__MIN(n - p, room));
            memcpy(j->scratch + j->scratch_len, s + p, e - p);
            j->scratch_len += e - p;
            p = e;
        }
        if (p == n) {
            j->in_pos = p;
            if (j->direct) {
                int r = osb__json_spill(j, t, type, p);
                if (r) return r;
            }
            return 0;
        }
        c = s[p];
        if (j->sub == OSB__S_CHAR) {
            if (j->u8need) {
                if (osb__u8_step(j, c) < 0)
                    return osb__json_fail(j, OSB_ERR_JSON, j->base + p, "invalid UTF-8 in string");
                if (!j->direct) OSB__SCRATCH_PUT(j, c);  /* room was reserved at the lead byte */
                p++;
                continue;
            }
            if (c == '"') {
                j->in_pos = p + 1;
                j->lex = OSB__L_NONE;
                if (j->is_key) j->gram = OSB__G_COLON;
                else osb__json_after_value(j);
                if (j->direct) return osb__json_emit(j, t, type, j->in + j->run_start, p - j->run_start, 0);
                return osb__json_emit_scratch(j, t, type, 0);
            }
            if (c < 0x20)
                return osb__json_fail(j, OSB_ERR_JSON, j->base + p, "control character in string");
            if (j->direct && c == '\\') {
                int r = osb__json_spill(j, t, type, p);
                if (r) { j->in_pos = p; return r; }
            }
            /* scratch mode from here: keep room for a whole character */
            if (!j->direct && j->scratch_cap - j->scratch_len < 4) {
                j->in_pos = p;
                return osb__json_emit_scratch(j, t, type, 1);
            }
            if (c == '\\') { j->sub = OSB__S_ESC; p++; continue; }
            if (c >= 0x80 && osb__u8_step(j, c) < 0)
                return osb__json_fail(j, OSB_ERR_JSON, j->base + p, "invalid UTF-8 in string");
            if (!j->direct) OSB__SCRATCH_PUT(j, c);
            p++;
            continue;
        }
        /* escapes: only in scratch mode, with 4 bytes of room reserved */
        p++;
        switch (j->sub) {
        case OSB__S_ESC:
            switch (c) {
            case '"': case '\\': case '/': OSB__SCRATCH_PUT(j, c); break;
            case 'b': OSB__SCRATCH_PUT(j, '\b'); break;
            case 'f': OSB__SCRATCH_PUT(j, '\f'); break;
            case 'n': OSB__SCRATCH_PUT(j, '\n'); break;
            case 'r': OSB__SCRATCH_PUT(j, '\r'); break;
            case 't': OSB__SCRATCH_PUT(j, '\t'); break;
            case 'u': j->sub = OSB__S_HEX; j->acc = 0; j->hex_count = 0; continue;
            default:
                return osb__json_fail(j, OSB_ERR_JSON, j->base + p - 1, "invalid escape in string");
            }
            j->sub = OSB__S_CHAR;
            continue;
        case OSB__S_HEX:
        case OSB__S_LOW_HEX: {
            int v = osb__hexval((int)c);
            if (v < 0) return osb__json_fail(j, OSB_ERR_JSON, j->base + p - 1, "invalid \\u escape");
            j->acc = (j->acc << 4) | (uint32_t)v;
            if (++j->hex_count < 4) continue;
            if (j->sub == OSB__S_HEX) {
                if (j->acc >= 0xD800 && j->acc <= 0xDBFF) {
                    j->high = j->acc;
                    j->sub = OSB__S_LOW_BS;
                    continue;
                }
                if (j->acc >= 0xDC00 && j->acc <= 0xDFFF)
                    return osb__json_fail(j, OSB_ERR_JSON, j->base + p - 6, "lone low surrogate");
                j->scratch_len += osb__utf8_put(j->scratch + j->scratch_len, j->acc);
            } else {
                if (j->acc < 0xDC00 || j->acc > 0xDFFF)
                    return osb__json_fail(j, OSB_ERR_JSON, j->base + p - 12, "lone high surrogate");
                j->scratch_len += osb__utf8_put(j->scratch + j->scratch_len,
                                                0x10000 + ((j->high - 0xD800) << 10) + (j->acc - 0xDC00));
            }
            j->sub = OSB__S_CHAR;
            continue;
        }
        case OSB__S_LOW_BS:
            if (c != '\\') return osb__json_fail(j, OSB_ERR_JSON, j->base + p - 7, "lone high surrogate");
            j->sub = OSB__S_LOW_U;
            continue;
        default: /* OSB__S_LOW_U */
            if (c != 'u') return osb__json_fail(j, OSB_ERR_JSON, j->base + p - 8, "lone high surrogate");
            j->sub = OSB__S_LOW_HEX;
            j->acc = 0;
            j->hex_count = 0;
            continue;
        }
    }
}

/* Reads number text; the number ends at the first byte that cannot continue
 * it (not consumed), or at the end of the final chunk. */
OSB__HELPER int osb__json_number(osb_json *j, osb_json_token *t) {
    const unsigned char *s = (const unsigned char *)j->in;
    size_t p = j->in_pos, n = j->in_len;
    for (;;) {
        int c, next;
        if (p == n) {
            j->in_pos = p;
            if (!j->final) {
                if (j->direct) {
                    int r = osb__json_spill(j, t, OSB_JSON_NUMBER, p);
                    if (r) return r;
                }
                return 0;
            }
            c = -1;  /* the end of input ends the number */
        } else {
            c = s[p];
        }
        next = -1;
        switch (j->sub) {
        case OSB__N_MINUS:
            if (c == '0') next = OSB__N_ZERO;
            else if (c >= '1' && c <= '9') next = OSB__N_INT;
            break;
        case OSB__N_ZERO:
            if (c == '.') next = OSB__N_DOT;
            else if (c == 'e' || c == 'E') next = OSB__N_E;
            else if (c >= '0' && c <= '9')
                return osb__json_fail(j, OSB_ERR_JSON, j->base + p, "leading zero in number");
            break;
        case OSB__N_INT:
        case OSB__N_FRAC:
            if (c >= '0' && c <= '9') next = j->sub;
            else if (c == '.' && j->sub == OSB__N_INT) next = OSB__N_DOT;
            else if (c == 'e' || c == 'E') next = OSB__N_E;
            break;
        case OSB__N_DOT:
            if (c >= '0' && c <= '9') next = OSB__N_FRAC;
            break;
        case OSB__N_E:
            if (c == '+' || c == '-') next = OSB__N_ESIGN;
            else if (c >= '0' && c <= '9') next = OSB__N_EXP;
            break;
        default: /* OSB__N_ESIGN, OSB__N_EXP */
            if (c >= '0' && c <= '9') next = OSB__N_EXP;
            break;
        }
        if (next < 0) {
            /* the number ends here: complete only in an accepting state */
            if (j->sub == OSB__N_MINUS || j->sub == OSB__N_DOT || j->sub == OSB__N_E ||
                j->sub == OSB__N_ESIGN) {
                if (c < 0) return osb__json_fail(j, OSB_ERR_TRUNCATED, j->base + p, "input ends inside a number");
                return osb__json_fail(j, OSB_ERR_JSON, j->base + p, "invalid number");
            }
            j->in_pos = p;
            j->lex = OSB__L_NONE;
            osb__json_after_value(j);
            if (j->direct) return osb__json_emit(j, t, OSB_JSON_NUMBER, j->in + j->run_start, p - j->run_start, 0);
            return osb__json_emit_scratch(j, t, OSB_JSON_NUMBER, 0);
        }
        if (j->direct && (next == OSB__N_INT || next == OSB__N_FRAC || next == OSB__N_EXP)) {
            /* a run of digits needs no state change: skip it at once */
            p++;
            while (p < n && s[p] >= '0' && s[p] <= '9') p++;
            j->sub = next;
            continue;
        }
        if (!j->direct) {
            if (j->scratch_len == j->scratch_cap) {
                j->in_pos = p;
                return osb__json_emit_scratch(j, t, OSB_JSON_NUMBER, 1);
            }
            OSB__SCRATCH_PUT(j, c);
        }
        j->sub = next;
        p++;
    }
}

/* Matches the rest of true/false/null; acc = which literal, hex_count = how
 * many of its bytes matched. */
OSB__HELPER int osb__json_literal(osb_json *j, osb_json_token *t) {
    const char *lit = osb__json_lits[j->acc];
    size_t p = j->in_pos, n = j->in_len;
    while (lit[j->hex_count]) {
        if (p == n) { j->in_pos = p; return 0; }
        if (j->in[p] != lit[j->hex_count])
            return osb__json_fail(j, OSB_ERR_JSON, j->base + p, "invalid literal");
        p++;
        j->hex_count++;
    }
    j->in_pos = p;
    j->lex = OSB__L_NONE;
    osb__json_after_value(j);
    return osb__json_emit(j, t, OSB_JSON_TRUE + (int)j->acc, NULL, 0, 0);
}

/* Starts a token at in[p]: records where it began. */
OSB__HELPER void osb__json_begin(osb_json *j, int lex, size_t p) {
    j->lex = lex;
    j->tok_start = j->base + p;
    j->direct = 1;
    j->scratch_len = 0;
    j->u8need = 0;
    j->u8have = 0;
}

/* Starts the string whose quote is at in[p]. One that ends in this chunk
 * with nothing to unescape or check (the common case) is handed over at
 * once, without a round through the lexer states; returns its token type.
 * Otherwise returns 0 with the plain prefix already read: the general
 * string reader goes on from there in the same state it would have reached. */
OSB__HELPER int osb__json_quick_string(osb_json *j, osb_json_token *t, size_t p, int is_key) {
    const unsigned char *s = (const unsigned char *)j->in;
    size_t q = osb__str_plain_end(s, p + 1, j->in_len);
    osb__json_begin(j, OSB__L_STR, p);
    j->is_key = is_key;
    j->sub = OSB__S_CHAR;
    j->run_start = p + 1;
    if (q < j->in_len && s[q] == '"') {
        j->in_pos = q + 1;
        j->lex = OSB__L_NONE;
        if (is_key) j->gram = OSB__G_COLON;
        else osb__json_after_value(j);
        return osb__json_emit(j, t, is_key ? OSB_JSON_KEY : OSB_JSON_STRING, j->in + p + 1, q - (p + 1), 0);
    }
    j->in_pos = q;
    return 0;
}

OSB_API int osb_json_next(osb_json *j, osb_json_token *t) {
    if (j->err) return OSB_JSON_ERROR;
    if (j->reset_scratch) {
        j->scratch_len = 0;
        j->reset_scratch = 0;
    }
    t->ptr = NULL;
    t->len = 0;
    t->more = 0;
    for (;;) {
        size_t p;
        int c, r;
        if (j->lex != OSB__L_NONE) {
            if (j->lex == OSB__L_STR) r = osb__json_string(j, t);
            else if (j->lex == OSB__L_NUM) r = osb__json_number(j, t);
            else r = osb__json_literal(j, t);
            if (r != 0) return r;
            if (!j->final) return OSB_JSON_NEED_MORE;
            return osb__json_fail(j, OSB_ERR_TRUNCATED, j->base + j->in_pos,
                                  j->lex == OSB__L_STR ? "input ends inside a string"
                                                       : "input ends inside a literal");
        }
        /* between tokens: skip whitespace (any byte above ' ' is none, which
           settles compact documents with one test) */
        p = j->in_pos;
        while (p < j->in_len && (unsigned char)j->in[p] <= ' ' &&
               (j->in[p] == ' ' || j->in[p] == '\n' || j->in[p] == '\r' || j->in[p] == '\t'))
            p++;
        j->in_pos = p;
        if (p == j->in_len) {
            if (!j->final) return OSB_JSON_NEED_MORE;
            if (j->gram == OSB__G_DONE) {
                t->type = OSB_JSON_DONE;
                t->offset = j->base + p;
                t->depth = 0;
                return OSB_JSON_DONE;
            }
            return osb__json_fail(j, OSB_ERR_TRUNCATED, j->base + p,
                                  j->depth || j->gram != OSB__G_VALUE ? "input ends inside the document"
                                                                      : "empty document");
        }
        c = (unsigned char)j->in[p];
        if (j->gram == OSB__G_DONE)
            return osb__json_fail(j, OSB_ERR_JSON, j->base + p, "trailing data after the document");
        if (j->gram == OSB__G_COLON) {
            if (c != ':') return osb__json_fail(j, OSB_ERR_JSON, j->base + p, "expected ':'");
            j->gram = OSB__G_VALUE;
            j->in_pos = p + 1;
            continue;
        }
        if (j->gram == OSB__G_COMMA_OR_END) {
            int obj = osb__json_top_is_object(j);
            if (c == ',') {
                j->gram = obj ? OSB__G_KEY : OSB__G_VALUE;
                j->in_pos = p + 1;
                continue;
            }
            if (c != (obj ? '}' : ']'))
                return osb__json_fail(j, OSB_ERR_JSON, j->base + p,
                                      obj ? "expected ',' or '}'" : "expected ',' or ']'");
        }
        if (c == '}' || c == ']') {
            int want = c == '}' ? OSB__G_KEY_OR_END : OSB__G_VALUE_OR_END;
            if (j->gram != OSB__G_COMMA_OR_END && j->gram != want)
                return osb__json_fail(j, OSB_ERR_JSON, j->base + p,
                                      j->gram == OSB__G_KEY ||
                                              (j->gram == OSB__G_VALUE && j->depth > 0 &&
                                               !osb__json_top_is_object(j))
                                          ? "trailing comma" : "unexpected closing bracket");
            j->depth--;
            j->in_pos = p + 1;
            j->tok_start = j->base + p;
            osb__json_after_value(j);
            return osb__json_emit(j, t, c == '}' ? OSB_JSON_OBJECT_END : OSB_JSON_ARRAY_END, NULL, 0, 0);
        }
        if (j->gram == OSB__G_KEY_OR_END || j->gram == OSB__G_KEY) {
            if (c != '"') return osb__json_fail(j, OSB_ERR_JSON, j->base + p, "expected a member name");
            r = osb__json_quick_string(j, t, p, 1);
            if (r) return r;
            continue;
        }
        /* a value */
        switch (c) {
        case '{':
        case '[':
            j->tok_start = j->base + p;
            t->depth = j->depth;
            if (osb__json_push(j, c == '{') < 0) return OSB_JSON_ERROR;
            j->in_pos = p + 1;
            j->gram = c == '{' ? OSB__G_KEY_OR_END : OSB__G_VALUE_OR_END;
            t->type = c == '{' ? OSB_JSON_OBJECT : OSB_JSON_ARRAY;
            t->offset = j->tok_start;
            return t->type;
        case '"':
            r = osb__json_quick_string(j, t, p, 0);
            if (r) return r;
            continue;
        case 't': case 'f': case 'n':
            osb__json_begin(j, OSB__L_LIT, p);
            j->acc = c == 't' ? 0 : c == 'f' ? 1 : 2;
            j->hex_count = 1;
            j->in_pos = p + 1;
            continue;
        default:
            if (c == '-' || (c >= '0' && c <= '9')) {
                osb__json_begin(j, OSB__L_NUM, p);
                j->sub = c == '-' ? OSB__N_MINUS : c == '0' ? OSB__N_ZERO : OSB__N_INT;
                j->run_start = p;
                j->in_pos = p + 1;
                continue;
            }
            return osb__json_fail(j, OSB_ERR_JSON, j->base + p, "expected a value");
        }
    }
}

OSB_API int osb_json_skip(osb_json *j, const osb_json_token *first) {
    osb_json_token t;
    uint32_t depth = first->depth;
    int container = first->type == OSB_JSON_OBJECT || first->type == OSB_JSON_ARRAY;
    if (!container && !first->more) return 1;
    for (;;) {
        int r = osb_json_next(j, &t);
        if (r <= 0) return r;
        if (container) {
            if ((r == OSB_JSON_OBJECT_END || r == OSB_JSON_ARRAY_END) && t.depth == depth) return 1;
        } else if (!t.more) {
            return 1;
        }
    }
}

/* A JSON number split into its parts: the significant digits (int and
 * fraction digits, the '.' skipped by the reader) and a power of ten, so
 * value = digits * 10^exp10. Leading zeros are dropped; nd counts the
 * remaining digits. The exponent saturates far beyond any double. */
typedef struct osb__num {
    int neg;
    const char *int_p, *frac_p;
    size_t int_n, frac_n;
    size_t lead;        /* leading zero digits skipped (over int then frac) */
    size_t nd;          /* significant digits after the leading zeros */
    int64_t exp10;      /* power of ten of the last digit */
} osb__num;

/* The i-th digit of int part followed by fraction part. */
OSB__HELPER int osb__num_digit(const osb__num *m, size_t i) {
    return i < m->int_n ? m->int_p[i] - '0' : m->frac_p[i - m->int_n] - '0';
}

OSB__HELPER osb_err osb__num_parse(const char *s, size_t n, osb__num *m) {
    size_t i = 0, total;
    int64_t e = 0;
    int eneg = 0;
    memset(m, 0, sizeof *m);
    if (!s) return OSB_ERR_JSON;
    if (i < n && s[i] == '-') { m->neg = 1; i++; }
    if (i >= n || s[i] < '0' || s[i] > '9') return OSB_ERR_JSON;
    m->int_p = s + i;
    if (s[i] == '0') i++;
    else while (i < n && s[i] >= '0' && s[i] <= '9') i++;
    m->int_n = (size_t)(s + i - m->int_p);
    m->frac_p = s + i;
    if (i < n && s[i] == '.') {
        i++;
        m->frac_p = s + i;
        while (i < n && s[i] >= '0' && s[i] <= '9') i++;
        m->frac_n = (size_t)(s + i - m->frac_p);
        if (m->frac_n == 0) return OSB_ERR_JSON;
    }
    if (i < n && (s[i] == 'e' || s[i] == 'E')) {
        size_t start;
        i++;
        if (i < n && (s[i] == '+' || s[i] == '-')) { eneg = s[i] == '-'; i++; }
        start = i;
        while (i < n && s[i] >= '0' && s[i] <= '9') {
            if (e < 1000000000) e = e * 10 + (s[i] - '0');
            i++;
        }
        if (i == start) return OSB_ERR_JSON;
    }
    if (i != n) return OSB_ERR_JSON;
    total = m->int_n + m->frac_n;
    while (m->lead < total && osb__num_digit(m, m->lead) == 0) m->lead++;
    m->nd = total - m->lead;
    m->exp10 = (eneg ? -e : e) - (int64_t)m->frac_n;
    return OSB_OK;
}

/* The magnitude as an integer, or OSB_ERR_RANGE when it is not integral or
 * does not fit 64 bits. */
OSB__HELPER osb_err osb__num_to_u64(const osb__num *m, uint64_t *out) {
    size_t total = m->int_n + m->frac_n, last = total, i;
    int64_t e = m->exp10;
    uint64_t v = 0;
    if (m->nd == 0) { *out = 0; return OSB_OK; }
    /* trailing zero digits only scale the exponent */
    while (last > m->lead && osb__num_digit(m, last - 1) == 0) { last--; e++; }
    if (e < 0) return OSB_ERR_RANGE;  /* a fraction remains */
    if ((int64_t)(last - m->lead) + e > 20) return OSB_ERR_RANGE;
    for (i = m->lead; i < last; i++) {
        unsigned d = (unsigned)osb__num_digit(m, i);
        if (v > (UINT64_MAX - d) / 10) return OSB_ERR_RANGE;
        v = v * 10 + d;
    }
    for (; e > 0; e--) {
        if (v > UINT64_MAX / 10) return OSB_ERR_RANGE;
        v *= 10;
    }
    *out = v;
    return OSB_OK;
}

OSB_API osb_err osb_json_to_u64(const char *text, size_t len, uint64_t *out) {
    osb__num m;
    uint64_t v;
    osb_err e = osb__num_parse(text, len, &m);
    if (e) return e;
    if ((e = osb__num_to_u64(&m, &v)) != OSB_OK) return e;
    if (m.neg && v) return OSB_ERR_RANGE;
    *out = v;
    return OSB_OK;
}

OSB_API osb_err osb_json_to_i64(const char *text, size_t len, int64_t *out) {
    osb__num m;
    uint64_t v;
    osb_err e = osb__num_parse(text, len, &m);
    if (e) return e;
    if ((e = osb__num_to_u64(&m, &v)) != OSB_OK) return e;
    if (m.neg) {
        if (v > (uint64_t)INT64_MAX + 1) return OSB_ERR_RANGE;
        /* -(v - 1) - 1 reaches INT64_MIN without overflowing */
        *out = v ? -(int64_t)(v - 1) - 1 : 0;
    } else {
        if (v > (uint64_t)INT64_MAX) return OSB_ERR_RANGE;
        *out = (int64_t)v;
    }
    return OSB_OK;
}

/* ---- exact decimal <-> double, without strtod and printf ----
 * Both directions come down to one step on big integers: the quotient of two
 * exact integers to 64 bits, and whether a remainder is left. 4160 bits hold
 * every case (768 significant digits, powers of five up to 5^1112); a number
 * that would not fit is refused, never guessed. */
typedef struct osb__big {
    size_t n;               /* words in use; no zero word on top */
    uint32_t w[130];        /* little-endian, base 2^32 */
} osb__big;

OSB__HELPER void osb__big_set(osb__big *b, uint64_t v) {
    b->w[0] = (uint32_t)v;
    b->w[1] = (uint32_t)(v >> 32);
    b->n = b->w[1] ? 2 : b->w[0] ? 1 : 0;
}

/* b = b * m + add; -1 when it no longer fits */
OSB__HELPER int osb__big_muladd(osb__big *b, uint32_t m, uint32_t add) {
    uint64_t carry = add;
    size_t i;
    for (i = 0; i < b->n; i++) {
        carry += (uint64_t)b->w[i] * m;
        b->w[i] = (uint32_t)carry;
        carry >>= 32;
    }
    if (!carry) return 0;
    if (b->n == sizeof b->w / sizeof b->w[0]) return -1;
    b->w[b->n++] = (uint32_t)carry;
    return 0;
}

/* b *= 5^k */
OSB__HELPER int osb__big_pow5(osb__big *b, uint32_t k) {
    static const uint32_t p5[13] = {1, 5, 25, 125, 625, 3125, 15625, 78125, 390625, 1953125,
                                    9765625, 48828125, 244140625};
    for (; k >= 13; k -= 13)
        if (osb__big_muladd(b, 1220703125u, 0)) return -1;
    return osb__big_muladd(b, p5[k], 0);
}

OSB__HELPER size_t osb__big_bits(const osb__big *b) {
    size_t bits;
    uint32_t top;
    if (!b->n) return 0;
    bits = (b->n - 1) * 32;
    for (top = b->w[b->n - 1]; top; top >>= 1) bits++;
    return bits;
}

/* b <<= k */
OSB__HELPER int osb__big_shl(osb__big *b, size_t k) {
    size_t words = k / 32, i;
    unsigned bits = (unsigned)(k % 32);
    if (!b->n) return 0;
    if (b->n + words + 1 > sizeof b->w / sizeof b->w[0]) return -1;
    b->w[b->n + words] = 0;
    for (i = b->n; i-- > 0;) {
        b->w[i + words + 1] |= bits ? b->w[i] >> (32 - bits) : 0;
        b->w[i + words] = b->w[i] << bits;
    }
    for (i = 0; i < words; i++) b->w[i] = 0;
    b->n += words + 1;
    while (b->n && !b->w[b->n - 1]) b->n--;
    return 0;
}

OSB__HELPER void osb__big_shr1(osb__big *b) {
    size_t i;
    for (i = 0; i < b->n; i++) b->w[i] = (b->w[i] >> 1) | (i + 1 < b->n ? b->w[i + 1] << 31 : 0);
    while (b->n && !b->w[b->n - 1]) b->n--;
}

OSB__HELPER int osb__big_cmp(const osb__big *a, const osb__big *b) {
    size_t i;
    if (a->n != b->n) return a->n < b->n ? -1 : 1;
    for (i = a->n; i-- > 0;)
        if (a->w[i] != b->w[i]) return a->w[i] < b->w[i] ? -1 : 1;
    return 0;
}

/* a -= b, a >= b */
OSB__HELPER void osb__big_sub(osb__big *a, const osb__big *b) {
    uint64_t borrow = 0;
    size_t i;
    for (i = 0; i < a->n; i++) {
        uint64_t d = (uint64_t)a->w[i] - (i < b->n ? b->w[i] : 0) - borrow;
        a->w[i] = (uint32_t)d;
        borrow = (d >> 32) & 1;
    }
    while (a->n && !a->w[a->n - 1]) a->n--;
}

/* q = num / den for a quotient below 2^(top+1) (top <= 63); num keeps the
 * remainder. Bit by bit: at most 64 rounds of compare and subtract. */
OSB__HELPER int osb__big_div(osb__big *num, const osb__big *den, unsigned top, uint64_t *q) {
    osb__big t = *den;
    unsigned i;
    *q = 0;
    if (osb__big_shl(&t, top)) return -1;
    for (i = top + 1; i-- > 0;) {
        if (osb__big_cmp(num, &t) >= 0) {
            osb__big_sub(num, &t);
            *q |= (uint64_t)1 << i;
        }
        osb__big_shr1(&t);
    }
    return 0;
}

/* The double nearest to q * 2^e (ties to even), q >= 2^62; sticky: a
 * non-zero remainder lies below q's last bit. Built from its bits (IEEE 754
 * binary64, the byte order of uint64_t), so no ldexp (libm) is needed.
 * -1 when it is beyond DBL_MAX. */
OSB__HELPER int osb__double_from(uint64_t q, int64_t e, int sticky, double *out) {
    uint64_t mant, rest, half, bits;
    int64_t top, drop;
    while (!(q >> 63)) { q <<= 1; e--; }
    top = e + 63;                                   /* q * 2^e is in [2^top, 2^(top+1)) */
    drop = top >= -1022 ? 11 : 11 + (-1022 - top);  /* below the smallest subnormal bit */
    if (drop > 64) { *out = 0.0; return 0; }
    mant = drop == 64 ? 0 : q >> drop;
    rest = drop == 64 ? q : q & (((uint64_t)1 << drop) - 1);
    half = (uint64_t)1 << (drop - 1);
    if (rest > half || (rest == half && (sticky || (mant & 1)))) mant++;
    if (top >= -1022) {
        if (mant >> 53) { mant >>= 1; top++; }
        if (top > 1023) return -1;
        bits = ((uint64_t)(top + 1023) << 52) | (mant & (((uint64_t)1 << 52) - 1));
    } else {
        bits = mant;                                /* subnormal; 2^52 is the smallest normal */
    }
    memcpy(out, &bits, sizeof *out);
    return 0;
}

/* digits (nd of them, from m->lead) * 10^exp10, exactly rounded. */
OSB__HELPER osb_err osb__num_to_double(const osb__num *m, size_t nd, int sticky_digit, int64_t exp10,
                                     double *out) {
    osb__big num, den;
    size_t i, nb, db;
    uint64_t q;
    int64_t shift;
    osb__big_set(&num, 0);
    for (i = 0; i < nd; i++)
        if (osb__big_muladd(&num, 10, (uint32_t)osb__num_digit(m, m->lead + i))) return OSB_ERR_RANGE;
    if (sticky_digit) {                     /* stands for the non-zero digits cut off */
        if (osb__big_muladd(&num, 10, 1)) return OSB_ERR_RANGE;
        exp10--;
    }
    osb__big_set(&den, 1);
    if (osb__big_pow5(exp10 >= 0 ? &num : &den, (uint32_t)(exp10 >= 0 ? exp10 : -exp10))) return OSB_ERR_RANGE;
    /* num * 2^shift / den in [2^62, 2^64) */
    nb = osb__big_bits(&num);
    db = osb__big_bits(&den);
    shift = (int64_t)db - (int64_t)nb + 63;
    if (shift > 0 ? osb__big_shl(&num, (size_t)shift) : osb__big_shl(&den, (size_t)-shift)) return OSB_ERR_RANGE;
    if (osb__big_div(&num, &den, 63, &q)) return OSB_ERR_RANGE;
    return osb__double_from(q, exp10 - shift, num.n != 0, out) ? OSB_ERR_RANGE : OSB_OK;
}

/* The prec (<= 17) significant digits of v > 0 rounded to nearest (ties to
 * even, as printf does on the exact binary value), and the power of ten of
 * the first. */
OSB__HELPER int osb__double_digits(double v, int prec, uint64_t *digits, int *x10) {
    static const uint64_t p10[] = {1, 10, 100, 1000, 10000, 100000, 1000000, 10000000, 100000000,
                                   1000000000, 10000000000ull, 100000000000ull, 1000000000000ull,
                                   10000000000000ull, 100000000000000ull, 1000000000000000ull,
                                   10000000000000000ull, 100000000000000000ull};
    osb__big num, den;
    uint64_t bits, m, q;
    int e, x, t, tries, c;
    memcpy(&bits, &v, sizeof bits);
    m = bits & (((uint64_t)1 << 52) - 1);
    e = (int)((bits >> 52) & 0x7ff);
    if (e) m |= (uint64_t)1 << 52;
    e = e ? e - 1075 : -1074;
    /* first guess from the binary exponent; corrected below */
    for (x = 63; x >= 0 && !(m >> x); x--) {}
    x += e;                                                 /* v in [2^x, 2^(x+1)) */
    x = x < 0 ? -(int)((double)-x * 0.30102999566398120) - 1 : (int)((double)x * 0.30102999566398120);
    for (tries = 0; tries < 4; tries++) {
        t = prec - 1 - x;                                   /* q = v * 10^t */
        osb__big_set(&num, m);
        osb__big_set(&den, 1);
        if (osb__big_shl(&num, (size_t)(e > 0 ? e : 0)) || osb__big_shl(&den, (size_t)(e < 0 ? -e : 0)) ||
            osb__big_pow5(t > 0 ? &num : &den, (uint32_t)(t > 0 ? t : -t)) ||
            osb__big_shl(t > 0 ? &num : &den, (size_t)(t > 0 ? t : -t)))
            return -1;
        if (osb__big_bits(&num) > osb__big_bits(&den) + 62) { x++; continue; }
        if (osb__big_div(&num, &den, 62, &q)) return -1;
        if (q >= p10[prec]) { x++; continue; }
        if (q < p10[prec - 1]) { x--; continue; }
        if (osb__big_shl(&num, 1)) return -1;               /* 2 * remainder against den */
        c = osb__big_cmp(&num, &den);
        if (c > 0 || (c == 0 && (q & 1))) q++;
        if (q == p10[prec]) { q = p10[prec - 1]; x++; }
        *digits = q;
        *x10 = x;
        return 0;
    }
    return -1;
}

/* v as printf's "%.{prec}g" writes it in the C locale (trailing zeros
 * dropped; exponent form below 1e-4 and from 10^prec on). */
OSB__HELPER size_t osb__double_g(char *out, double v, int prec) {
    char d[20];
    uint64_t bits, q;
    size_t o = 0;
    int nd, x, i;
    memcpy(&bits, &v, sizeof bits);
    if (bits >> 63) out[o++] = '-';
    if (v == 0 || osb__double_digits(v < 0 ? -v : v, prec, &q, &x)) {
        out[o++] = '0';
        out[o] = 0;
        return o;
    }
    for (i = prec; i-- > 0; q /= 10) d[i] = (char)('0' + q % 10);
    for (nd = prec; nd > 1 && d[nd - 1] == '0'; nd--) {}
    if (x < -4 || x >= prec) {
        int a = x < 0 ? -x : x;
        out[o++] = d[0];
        if (nd > 1) out[o++] = '.';
        for (i = 1; i < nd; i++) out[o++] = d[i];
        out[o++] = 'e';
        out[o++] = x < 0 ? '-' : '+';
        if (a >= 100) out[o++] = (char)('0' + a / 100);
        out[o++] = (char)('0' + a / 10 % 10);
        out[o++] = (char)('0' + a % 10);
    } else if (x < 0) {
        out[o++] = '0';
        out[o++] = '.';
        for (i = x + 1; i < 0; i++) out[o++] = '0';
        for (i = 0; i < nd; i++) out[o++] = d[i];
    } else {
        for (i = 0; i <= x; i++) out[o++] = i < nd ? d[i] : '0';
        if (nd > x + 1) out[o++] = '.';
        for (i = x + 1; i < nd; i++) out[o++] = d[i];
    }
    out[o] = 0;
    return o;
}

OSB_API osb_err osb_json_to_double(const char *text, size_t len, double *out) {
    /* Exact powers of ten representable in a double. */
    static const double pow10[] = {1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10,
                                   1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19,
                                   1e20, 1e21, 1e22};
    osb__num m;
    size_t i, keep;
    int64_t e10, mag;
    int sticky = 0;
    double v;
    osb_err e = osb__num_parse(text, len, &m);
    if (e) return e;
    if (m.nd == 0) { *out = m.neg ? -0.0 : 0.0; return OSB_OK; }
    e10 = m.exp10;
    if (m.nd <= 15 && e10 >= -22 && e10 <= 22) {
        /* Clinger's fast path: both operands exact, one rounding */
        uint64_t d = 0;
        for (i = m.lead; i < m.lead + m.nd; i++) d = d * 10 + (unsigned)osb__num_digit(&m, i);
        v = (double)d;
        v = e10 < 0 ? v / pow10[-e10] : v * pow10[e10];
        *out = m.neg ? -v : v;
        return OSB_OK;
    }
    mag = (int64_t)m.nd - 1 + e10;                  /* the value is in [10^mag, 10^(mag+1)) */
    if (mag > 308) return OSB_ERR_RANGE;
    if (mag < -325) { *out = m.neg ? -0.0 : 0.0; return OSB_OK; }   /* below half the least subnormal */
    /* Otherwise exactly, on big integers. A point halfway between two
     * doubles has at most 768 significant digits, so 800 decide the rounding;
     * one more "sticky" digit stands for everything cut off after them. */
    keep = m.nd > 800 ? 800 : m.nd;
    for (i = keep; i < m.nd; i++)
        if (osb__num_digit(&m, m.lead + i)) { sticky = 1; break; }
    e10 += (int64_t)(m.nd - keep);
    if ((e = osb__num_to_double(&m, keep, sticky, e10, &v)) != OSB_OK) return e;
    *out = m.neg ? -v : v;
    return OSB_OK;
}

// >>jsonw --------------------------------------------------------------------

OSB_API void osb_jw_init(osb_jw *w, osb_buf *buf) {
    memset(w, 0, sizeof *w);
    w->buf = buf;
    if (!buf) w->err = OSB_ERR_INVALID_ARG;
}

OSB_API void osb_jw_init_writer(osb_jw *w, osb_write_fn write, void *user) {
    memset(w, 0, sizeof *w);
    w->write = write;
    w->user = user;
    if (!write) w->err = OSB_ERR_INVALID_ARG;
}

OSB__HELPER osb_err osb__jw_flush(osb_jw *w) {
    if (w->write && w->out_len && !w->err) {
        if (w->write(w->user, w->out, w->out_len) != 0) w->err = OSB_ERR_CANCELLED;
    }
    w->out_len = 0;
    return w->err;
}

/* All output goes through here: straight into the buffer, or staged in out[]
 * for the writer so small tokens do not each cost a callback. */
OSB__HELPER osb_err osb__jw_put(osb_jw *w, const char *s, size_t n) {
    if (w->err) return w->err;
    if (w->buf) {
        osb_err e = osb_buf_append(w->buf, s, n);
        if (e) w->err = e;
        return w->err;
    }
    if (w->out_len + n > sizeof w->out) {
        if (osb__jw_flush(w)) return w->err;
        if (n > sizeof w->out) {
            if (w->write(w->user, s, n) != 0) w->err = OSB_ERR_CANCELLED;
            return w->err;
        }
    }
    memcpy(w->out + w->out_len, s, n);
    w->out_len += n;
    return OSB_OK;
}

OSB__HELPER int osb__bit(const unsigned char *bits, uint32_t i) { return (bits[i >> 3] >> (i & 7)) & 1; }
OSB__HELPER void osb__bit_set(unsigned char *bits, uint32_t i, int v) {
    if (v) bits[i >> 3] = (unsigned char)(bits[i >> 3] | (1u << (i & 7)));
    else bits[i >> 3] = (unsigned char)(bits[i >> 3] & ~(1u << (i & 7)));
}

/* Before a value: checks it is allowed here and writes the ',' it needs. */
OSB__HELPER osb_err osb__jw_value(osb_jw *w) {
    if (w->err) return w->err;
    if (w->depth == 0) {
        if (w->done) return w->err = OSB_ERR_STATE;  /* one top-level value only */
        return OSB_OK;
    }
    if (osb__bit(w->is_obj, w->depth - 1)) {
        if (!w->after_key) return w->err = OSB_ERR_STATE;  /* a value needs a key first */
        w->after_key = 0;
        return OSB_OK;
    }
    if (osb__bit(w->has_item, w->depth - 1)) return osb__jw_put(w, ",", 1);
    osb__bit_set(w->has_item, w->depth - 1, 1);
    return OSB_OK;
}

/* After a scalar or a closed container. */
OSB__HELPER osb_err osb__jw_after(osb_jw *w) {
    if (!w->err && w->depth == 0) w->done = 1;
    return w->err;
}

OSB__HELPER osb_err osb__jw_open(osb_jw *w, int obj) {
    if (osb__jw_value(w)) return w->err;
    if (w->depth >= OSB_JSON_DEPTH_LIMIT) return w->err = OSB_ERR_TOO_LARGE;
    osb__bit_set(w->is_obj, w->depth, obj);
    osb__bit_set(w->has_item, w->depth, 0);
    w->depth++;
    return osb__jw_put(w, obj ? "{" : "[", 1);
}

OSB__HELPER osb_err osb__jw_close(osb_jw *w, int obj) {
    if (w->err) return w->err;
    if (w->depth == 0 || osb__bit(w->is_obj, w->depth - 1) != obj || w->after_key)
        return w->err = OSB_ERR_STATE;
    w->depth--;
    osb__jw_put(w, obj ? "}" : "]", 1);
    return osb__jw_after(w);
}

OSB_API osb_err osb_jw_object(osb_jw *w) { return osb__jw_open(w, 1); }
OSB_API osb_err osb_jw_object_end(osb_jw *w) { return osb__jw_close(w, 1); }
OSB_API osb_err osb_jw_array(osb_jw *w) { return osb__jw_open(w, 0); }
OSB_API osb_err osb_jw_array_end(osb_jw *w) { return osb__jw_close(w, 0); }

/* Writes s as a quoted JSON string. Runs of plain bytes are copied whole;
 * the input must be valid UTF-8. */
OSB__HELPER osb_err osb__jw_quoted(osb_jw *w, const char *s, size_t n) {
    static const char hex[] = "0123456789abcdef";
    const unsigned char *u = (const unsigned char *)s;
    size_t i = 0, run = 0;
    osb_json check;  /* only its UTF-8 validator state is used */
    if (!s && n) return w->err = OSB_ERR_INVALID_ARG;
    check.u8need = 0;
    check.u8have = 0;
    osb__jw_put(w, "\"", 1);
    while (i < n && !w->err) {
        unsigned c = u[i];
        char esc[6];
        size_t en = 0;
        if (c >= 0x80 || check.u8need) {
            if (osb__u8_step(&check, c) < 0) return w->err = OSB_ERR_INVALID_ARG;
            i++;
            continue;
        }
        if (c >= 0x20 && c != '"' && c != '\\') { i++; continue; }
        osb__jw_put(w, s + run, i - run);
        esc[en++] = '\\';
        switch (c) {
        case '"': esc[en++] = '"'; break;
        case '\\': esc[en++] = '\\'; break;
        case '\n': esc[en++] = 'n'; break;
        case '\r': esc[en++] = 'r'; break;
        case '\t': esc[en++] = 't'; break;
        case '\b': esc[en++] = 'b'; break;
        case '\f': esc[en++] = 'f'; break;
        default:
            esc[en++] = 'u';
            esc[en++] = '0';
            esc[en++] = '0';
            esc[en++] = hex[c >> 4];
            esc[en++] = hex[c & 15];
        }
        osb__jw_put(w, esc, en);
        run = ++i;
    }
    if (check.u8need) return w->err = OSB_ERR_INVALID_ARG;  /* cut inside a character */
    osb__jw_put(w, s + run, n - run);
    return osb__jw_put(w, "\"", 1);
}

OSB_API osb_err osb_jw_key_n(osb_jw *w, const char *key, size_t len) {
    if (w->err) return w->err;
    if (w->depth == 0 || !osb__bit(w->is_obj, w->depth - 1) || w->after_key)
        return w->err = OSB_ERR_STATE;
    if (osb__bit(w->has_item, w->depth - 1)) osb__jw_put(w, ",", 1);
    osb__bit_set(w->has_item, w->depth - 1, 1);
    osb__jw_quoted(w, key, len);
    osb__jw_put(w, ":", 1);
    w->after_key = 1;
    return w->err;
}

OSB_API osb_err osb_jw_key(osb_jw *w, const char *key) {
    if (!key) return w->err ? w->err : (w->err = OSB_ERR_INVALID_ARG);
    return osb_jw_key_n(w, key, strlen(key));
}

OSB_API osb_err osb_jw_str_n(osb_jw *w, const char *s, size_t len) {
    if (osb__jw_value(w)) return w->err;
    osb__jw_quoted(w, s, len);
    return osb__jw_after(w);
}

OSB_API osb_err osb_jw_str(osb_jw *w, const char *s) {
    if (!s) return osb_jw_null(w);
    return osb_jw_str_n(w, s, strlen(s));
}

OSB__HELPER osb_err osb__jw_scalar(osb_jw *w, const char *text, size_t n) {
    if (osb__jw_value(w)) return w->err;
    osb__jw_put(w, text, n);
    return osb__jw_after(w);
}

/* Decimal digits of v, written backwards from the end of buf; returns the start. */
OSB__HELPER char *osb__u64_text(char *end, uint64_t v) {
    do {
        *--end = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    return end;
}

OSB_API osb_err osb_jw_uint(osb_jw *w, uint64_t v) {
    char buf[24], *p = osb__u64_text(buf + sizeof buf, v);
    return osb__jw_scalar(w, p, (size_t)(buf + sizeof buf - p));
}

OSB_API osb_err osb_jw_int(osb_jw *w, int64_t v) {
    char buf[24], *p;
    /* the magnitude of INT64_MIN does not fit int64_t: go through uint64_t */
    uint64_t mag = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
    p = osb__u64_text(buf + sizeof buf, mag);
    if (v < 0) *--p = '-';
    return osb__jw_scalar(w, p, (size_t)(buf + sizeof buf - p));
}

/* The shortest "%.{15,16,17}g" text that reads back as v exactly. */
OSB__HELPER size_t osb__double_text(char buf[40], double v) {
    int prec;
    size_t n = 0;
    for (prec = 15; prec <= 17; prec++) {
        double back;
        n = osb__double_g(buf, v, prec);
        if (osb_json_to_double(buf, n, &back) == OSB_OK && back == v) break;
    }
    return n;
}

OSB_API osb_err osb_jw_double(osb_jw *w, double v) {
    char buf[40];
    size_t n;
    if (w->err) return w->err;
    if (v != v || v > DBL_MAX || v < -DBL_MAX) return w->err = OSB_ERR_INVALID_ARG;
    n = osb__double_text(buf, v);
    return osb__jw_scalar(w, buf, n);
}

OSB_API osb_err osb_jw_bool(osb_jw *w, int v) {
    return v ? osb__jw_scalar(w, "true", 4) : osb__jw_scalar(w, "false", 5);
}

OSB_API osb_err osb_jw_null(osb_jw *w) { return osb__jw_scalar(w, "null", 4); }

OSB_API osb_err osb_jw_raw(osb_jw *w, const char *json, size_t len) {
    if (!json || !len) return w->err ? w->err : (w->err = OSB_ERR_INVALID_ARG);
    return osb__jw_scalar(w, json, len);
}

OSB_API osb_err osb_jw_finish(osb_jw *w) {
    if (w->err) return w->err;
    if (w->depth != 0 || !w->done) return w->err = OSB_ERR_STATE;
    return osb__jw_flush(w);
}

// >>bind ---------------------------------------------------------------------

/* Results: one block = a hidden header, then the struct, then its arrays,
 * then its strings (and raw JSON copies). The header keeps the allocator, so
 * osb_result_free needs nothing else. Its size is rounded up so the struct
 * after it is aligned for any member. */
typedef union osb__maxalign {
    long double ld;
    double d;
    int64_t i;
    void *p;
    void (*f)(void);
} osb__maxalign;

typedef struct osb__rhdr {
    osb_allocator alloc;   /* a copy: the caller's struct may not outlive the result */
    int has_alloc;
    size_t size;           /* the whole block */
} osb__rhdr;

#define OSB__ALIGN sizeof(osb__maxalign)
#define OSB__ROUND(n) (((n) + OSB__ALIGN - 1) / OSB__ALIGN * OSB__ALIGN)
#define OSB__RHDR_SIZE OSB__ROUND(sizeof(osb__rhdr))

/* A zeroed result of size bytes; free it with osb_result_free. Every result
 * of the library comes from here. */
OSB__HELPER void *osb__result_new(const osb_allocator *a, size_t size) {
    size_t total;
    char *block;
    osb__rhdr *h;
    if (!osb__add_ok(size, OSB__RHDR_SIZE, &total)) return NULL;
    block = (char *)osb__alloc(a, total);
    if (!block) return NULL;
    memset(block, 0, total);
    h = (osb__rhdr *)(void *)block;
    if (a) {
        h->alloc = *a;
        h->has_alloc = 1;
    }
    h->size = total;
    return block + OSB__RHDR_SIZE;
}

OSB_API void osb_result_free(void *result) {
    osb__rhdr *h;
    if (!result) return;
    h = (osb__rhdr *)(void *)((char *)result - OSB__RHDR_SIZE);
    if (h->has_alloc) {
        osb_allocator a = h->alloc;
        osb__free(&a, h);
    } else {
        osb__free(NULL, h);
    }
}

OSB_API size_t osb_result_size(const void *result) {
    if (!result) return 0;
    return ((const osb__rhdr *)(const void *)((const char *)result - OSB__RHDR_SIZE))->size;
}

/* The decoder runs twice over the document with the same code: first to
 * measure (how many bytes of arrays and of strings), then to fill the block
 * allocated from those sizes. */
typedef struct osb__bind {
    int fill;
    const char *json;
    size_t arr_size, str_size;       /* measured */
    char *arr, *arr_end;             /* fill cursors */
    char *str, *str_end;
    osb_err err;
    uint64_t err_offset;
    const char *msg;
    const char *where;               /* member name for the message */
    char scratch[256];
    char text[512];                  /* a number's text / a key */
} osb__bind;

OSB__HELPER osb_err osb__bind_fail(osb__bind *b, osb_err e, uint64_t offset, const char *msg) {
    if (!b->err) {
        b->err = e;
        b->err_offset = offset;
        b->msg = msg;
    }
    return b->err;
}

/* The tokenizer's error, as the binding's. */
OSB__HELPER osb_err osb__bind_json_fail(osb__bind *b, const osb_json *j) {
    return osb__bind_fail(b, j->err ? j->err : OSB_ERR_JSON, j->err_offset, j->err_msg);
}

/* The next token; the input is one final chunk, so NEED_MORE cannot happen. */
OSB__HELPER int osb__bind_next(osb__bind *b, osb_json *j, osb_json_token *t) {
    int r = osb_json_next(j, t);
    if (r <= 0) {
        osb__bind_json_fail(b, j);
        return -1;
    }
    return r;
}

/* Room for n bytes of string text (plus the NUL added at its end). */
OSB__HELPER char *osb__bind_str_put(osb__bind *b, const char *p, size_t n) {
    char *dst = b->str;
    if (!b->fill) {
        b->str_size += n;
        return NULL;
    }
    if ((size_t)(b->str_end - b->str) < n) return NULL;  /* cannot happen: measured */
    if (n) memcpy(b->str, p, n);
    b->str += n;
    return dst;
}

/* Copies a string value (all its pieces) into the block; *out gets it. */
OSB__HELPER osb_err osb__bind_string(osb__bind *b, osb_json *j, osb_json_token *t, osb_str *out) {
    char *start = b->str;
    size_t len = 0;
    for (;;) {
        osb__bind_str_put(b, t->ptr, t->len);
        len += t->len;
        if (!t->more) break;
        if (osb__bind_next(b, j, t) < 0) return b->err;
    }
    if (!b->fill) {
        b->str_size += 1;
        return OSB_OK;
    }
    if (b->str == b->str_end) return osb__bind_fail(b, OSB_ERR_STATE, t->offset, "internal size mismatch");
    *b->str++ = 0;
    out->ptr = start;
    out->len = len;
    return OSB_OK;
}

/* The value starting with *t, skipped; *out gets its raw JSON text (copied). */
OSB__HELPER osb_err osb__bind_raw(osb__bind *b, osb_json *j, osb_json_token *t, osb_str *out) {
    uint64_t start = t->offset, end;
    const char *p;
    if (osb_json_skip(j, t) <= 0) return osb__bind_json_fail(b, j);
    end = osb_json_offset(j);
    p = osb__bind_str_put(b, b->json + start, (size_t)(end - start));
    if (!b->fill) {
        b->str_size += 1;
        return OSB_OK;
    }
    if (!p && end > start) return osb__bind_fail(b, OSB_ERR_STATE, start, "internal size mismatch");
    if (b->str == b->str_end) return osb__bind_fail(b, OSB_ERR_STATE, start, "internal size mismatch");
    *b->str++ = 0;
    out->ptr = p ? p : b->str - 1;
    out->len = (size_t)(end - start);
    return OSB_OK;
}

/* Joins the pieces of a number into b->text. */
OSB__HELPER osb_err osb__bind_number_text(osb__bind *b, osb_json *j, osb_json_token *t, size_t *len) {
    size_t n = 0;
    uint64_t at = t->offset;
    for (;;) {
        if (t->len > sizeof b->text - n)
            return osb__bind_fail(b, OSB_ERR_RANGE, at, "number too long for a C number");
        memcpy(b->text + n, t->ptr, t->len);
        n += t->len;
        if (!t->more) break;
        if (osb__bind_next(b, j, t) < 0) return b->err;
    }
    *len = n;
    return OSB_OK;
}

OSB__HELPER size_t osb__kind_size(osb_kind k, const struct osb_type *type) {
    switch (k) {
    case OSB_KIND_STR: case OSB_KIND_RAW: return sizeof(osb_str);
    case OSB_KIND_I64: return sizeof(int64_t);
    case OSB_KIND_U64: return sizeof(uint64_t);
    case OSB_KIND_INT: case OSB_KIND_BOOL: return sizeof(int);
    case OSB_KIND_DOUBLE: return sizeof(double);
    case OSB_KIND_OBJECT: return type ? type->size : 0;
    default: return 0;
    }
}

OSB__HELPER osb_err osb__bind_object(osb__bind *b, osb_json *j, osb_json_token *t,
                                     const osb_type *type, char *dst);
OSB__HELPER osb_err osb__bind_array(osb__bind *b, osb_json *j, osb_json_token *t,
                                    const osb_field *f, char *dst);
OSB__HELPER osb_err osb__bind_map(osb__bind *b, osb_json *j, osb_json_token *t,
                                  const osb_field *f, char *dst);

/* Decodes one value (first token *t) of kind k into dst (NULL while measuring). */
OSB__HELPER osb_err osb__bind_value(osb__bind *b, osb_json *j, osb_json_token *t, osb_kind k,
                                    const osb_field *f, char *dst) {
    int r = t->type;
    if (r == OSB_JSON_NULL && k != OSB_KIND_RAW) return OSB_OK;  /* null leaves the zero */
    switch (k) {
    case OSB_KIND_STR: {
        osb_str s;
        if (r != OSB_JSON_STRING) break;
        if (osb__bind_string(b, j, t, &s)) return b->err;
        if (dst) memcpy(dst, &s, sizeof s);
        return OSB_OK;
    }
    case OSB_KIND_RAW: {
        osb_str s;
        if (osb__bind_raw(b, j, t, &s)) return b->err;
        if (dst) memcpy(dst, &s, sizeof s);
        return OSB_OK;
    }
    case OSB_KIND_BOOL: {
        int v = r == OSB_JSON_TRUE;
        if (r != OSB_JSON_TRUE && r != OSB_JSON_FALSE) break;
        if (dst) memcpy(dst, &v, sizeof v);
        return OSB_OK;
    }
    case OSB_KIND_I64: case OSB_KIND_U64: case OSB_KIND_INT: case OSB_KIND_DOUBLE: {
        size_t n = 0;
        uint64_t at = t->offset;
        osb_err e;
        if (r != OSB_JSON_NUMBER) break;
        if (osb__bind_number_text(b, j, t, &n)) return b->err;
        if (k == OSB_KIND_DOUBLE) {
            double v = 0;
            e = osb_json_to_double(b->text, n, &v);
            if (!e && dst) memcpy(dst, &v, sizeof v);
        } else if (k == OSB_KIND_U64) {
            uint64_t v = 0;
            e = osb_json_to_u64(b->text, n, &v);
            if (!e && dst) memcpy(dst, &v, sizeof v);
        } else {
            int64_t v = 0;
            e = osb_json_to_i64(b->text, n, &v);
            if (!e && k == OSB_KIND_INT && (v < INT_MIN || v > INT_MAX)) e = OSB_ERR_RANGE;
            if (!e && dst) {
                if (k == OSB_KIND_INT) {
                    int iv = (int)v;
                    memcpy(dst, &iv, sizeof iv);
                } else {
                    memcpy(dst, &v, sizeof v);
                }
            }
        }
        if (e) return osb__bind_fail(b, e, at, "number does not fit the field");
        return OSB_OK;
    }
    case OSB_KIND_OBJECT:
        if (r != OSB_JSON_OBJECT) break;
        return osb__bind_object(b, j, t, f->type, dst);
    case OSB_KIND_ARRAY:
        if (r != OSB_JSON_ARRAY) break;
        return osb__bind_array(b, j, t, f, dst);
    case OSB_KIND_MAP:
        if (r != OSB_JSON_OBJECT) break;
        return osb__bind_map(b, j, t, f, dst);
    default:
        return osb__bind_fail(b, OSB_ERR_INVALID_ARG, t->offset, "bad field kind in a table");
    }
    return osb__bind_fail(b, OSB_ERR_JSON, t->offset, "value of the wrong JSON type");
}

/* Counts the direct children of the array or object whose first token is
 * *first (elements, or members), with a copy of the tokenizer so the real
 * one does not move. Only the fill pass needs it: the elements must be laid
 * out together before they are decoded. */
OSB__HELPER osb_err osb__bind_count(osb__bind *b, const osb_json *j, const osb_json_token *first,
                                    size_t *count) {
    osb_json c = *j;
    osb_json_token t;
    size_t n = 0;
    int cont = 0;  /* the previous token was a piece with more to come */
    char scratch[64];
    c.scratch = scratch;
    c.scratch_cap = sizeof scratch;
    c.scratch_len = 0;
    c.reset_scratch = 0;
    for (;;) {
        int r = osb_json_next(&c, &t);
        if (r <= 0) return osb__bind_json_fail(b, &c);
        if (t.depth == first->depth + 1 && !cont && r != OSB_JSON_OBJECT_END && r != OSB_JSON_ARRAY_END) {
            if (first->type == OSB_JSON_ARRAY || r == OSB_JSON_KEY) n++;
        }
        cont = t.more;
        if ((r == OSB_JSON_OBJECT_END || r == OSB_JSON_ARRAY_END) && t.depth == first->depth) break;
    }
    *count = n;
    return OSB_OK;
}

/* Reserves room for count elements of size each in the arrays area. */
OSB__HELPER char *osb__bind_arr_alloc(osb__bind *b, size_t count, size_t size, uint64_t at) {
    size_t bytes;
    char *p;
    if (!osb__mul_ok(count, size, &bytes) || bytes > (size_t)-1 - OSB__ALIGN) {
        osb__bind_fail(b, OSB_ERR_TOO_LARGE, at, "array too large");
        return NULL;
    }
    bytes = OSB__ROUND(bytes);
    if (!b->fill) {
        if (!osb__add_ok(b->arr_size, bytes, &b->arr_size))
            osb__bind_fail(b, OSB_ERR_TOO_LARGE, at, "result too large");
        return NULL;
    }
    if ((size_t)(b->arr_end - b->arr) < bytes) {
        osb__bind_fail(b, OSB_ERR_STATE, at, "internal size mismatch");
        return NULL;
    }
    p = b->arr;
    b->arr += bytes;
    return p;
}

OSB__HELPER osb_err osb__bind_array(osb__bind *b, osb_json *j, osb_json_token *t,
                                    const osb_field *f, char *dst) {
    size_t esize = osb__kind_size(f->elem, f->type), count = 0, i = 0;
    uint32_t depth = t->depth;
    uint64_t at = t->offset;
    char *items = NULL;
    osb_field ef = *f;  /* describes one element */
    if (esize == 0 || f->elem == OSB_KIND_ARRAY || f->elem == OSB_KIND_MAP)
        return osb__bind_fail(b, OSB_ERR_INVALID_ARG, at, "bad array element kind in a table");
    ef.kind = f->elem;
    if (b->fill) {
        if (osb__bind_count(b, j, t, &count)) return b->err;
        items = count ? osb__bind_arr_alloc(b, count, esize, at) : NULL;
        if (b->err) return b->err;
    }
    for (;;) {
        int r = osb__bind_next(b, j, t);
        if (r < 0) return b->err;
        if (r == OSB_JSON_ARRAY_END && t->depth == depth) break;
        if (b->fill && i >= count) return osb__bind_fail(b, OSB_ERR_STATE, at, "internal count mismatch");
        if (osb__bind_value(b, j, t, f->elem, &ef, items ? items + i * esize : NULL)) return b->err;
        i++;
    }
    if (!b->fill) {
        if (i) osb__bind_arr_alloc(b, i, esize, at);
        return b->err;
    }
    memcpy(dst, &items, sizeof items);
    memcpy(dst + (f->count_offset - f->offset), &i, sizeof i);
    return OSB_OK;
}

OSB__HELPER osb_err osb__bind_map(osb__bind *b, osb_json *j, osb_json_token *t,
                                  const osb_field *f, char *dst) {
    size_t count = 0, i = 0;
    uint32_t depth = t->depth;
    uint64_t at = t->offset;
    osb_kv *items = NULL;
    if (b->fill) {
        if (osb__bind_count(b, j, t, &count)) return b->err;
        items = count ? (osb_kv *)(void *)osb__bind_arr_alloc(b, count, sizeof(osb_kv), at) : NULL;
        if (b->err) return b->err;
    }
    for (;;) {
        osb_kv kv;
        int r = osb__bind_next(b, j, t);
        if (r < 0) return b->err;
        if (r == OSB_JSON_OBJECT_END && t->depth == depth) break;
        if (b->fill && i >= count) return osb__bind_fail(b, OSB_ERR_STATE, at, "internal count mismatch");
        memset(&kv, 0, sizeof kv);
        if (osb__bind_string(b, j, t, &kv.key)) return b->err;            /* the key */
        if (osb__bind_next(b, j, t) < 0) return b->err;
        /* string values unescaped; anything else kept as its JSON text */
        if (t->type == OSB_JSON_STRING) {
            if (osb__bind_string(b, j, t, &kv.value)) return b->err;
        } else if (osb__bind_raw(b, j, t, &kv.value)) {
            return b->err;
        }
        if (items) items[i] = kv;
        i++;
    }
    if (!b->fill) {
        if (i) osb__bind_arr_alloc(b, i, sizeof(osb_kv), at);
        return b->err;
    }
    memcpy(dst, &items, sizeof items);
    memcpy(dst + (f->count_offset - f->offset), &i, sizeof i);
    return OSB_OK;
}

/* Reads a member name (all pieces) into b->text; *len = (size_t)-1 when it
 * is longer than any field name can be. */
OSB__HELPER osb_err osb__bind_key(osb__bind *b, osb_json *j, osb_json_token *t, size_t *len) {
    size_t n = 0;
    for (;;) {
        if (n != (size_t)-1) {
            if (t->len < sizeof b->text - n) {
                memcpy(b->text + n, t->ptr, t->len);
                n += t->len;
            } else {
                n = (size_t)-1;
            }
        }
        if (!t->more) break;
        if (osb__bind_next(b, j, t) < 0) return b->err;
    }
    *len = n;
    return OSB_OK;
}

OSB__HELPER const osb_field *osb__bind_find(const osb_type *type, const char *name, size_t n) {
    size_t i;
    if (n == (size_t)-1) return NULL;
    /* the last match wins, so a table may override a row; names are short */
    for (i = type->nfields; i-- > 0;) {
        const char *fn = type->fields[i].name;
        if (fn && strlen(fn) == n && memcmp(fn, name, n) == 0) return &type->fields[i];
    }
    return NULL;
}

OSB__HELPER osb_err osb__bind_object(osb__bind *b, osb_json *j, osb_json_token *t,
                                     const osb_type *type, char *dst) {
    uint32_t depth = t->depth;
    uint64_t start = t->offset;
    if (!type) return osb__bind_fail(b, OSB_ERR_INVALID_ARG, start, "missing nested type in a table");
    for (;;) {
        const osb_field *f;
        size_t n = 0;
        int r = osb__bind_next(b, j, t);
        if (r < 0) return b->err;
        if (r == OSB_JSON_OBJECT_END && t->depth == depth) break;
        if (osb__bind_key(b, j, t, &n)) return b->err;
        f = osb__bind_find(type, b->text, n);
        if (osb__bind_next(b, j, t) < 0) return b->err;
        if (!f) {
            if (osb_json_skip(j, t) <= 0) return osb__bind_json_fail(b, j);
            continue;
        }
        b->where = f->name;
        if (osb__bind_value(b, j, t, f->kind, f, dst ? dst + f->offset : NULL)) return b->err;
    }
    if (type->raw_offset != OSB_NO_RAW) {
        uint64_t end = osb_json_offset(j);
        char *p = osb__bind_str_put(b, b->json + start, (size_t)(end - start));
        if (!b->fill) {
            b->str_size += 1;
        } else {
            osb_str s;
            if (!p || b->str == b->str_end)
                return osb__bind_fail(b, OSB_ERR_STATE, start, "internal size mismatch");
            *b->str++ = 0;
            s.ptr = p;
            s.len = (size_t)(end - start);
            memcpy(dst + type->raw_offset, &s, sizeof s);
        }
    }
    return OSB_OK;
}

/* One pass over the whole document. */
OSB__HELPER osb_err osb__bind_pass(osb__bind *b, const osb_type *type, const char *json, size_t len,
                                   char *dst) {
    osb_json j;
    osb_json_token t;
    int r;
    osb_json_init(&j, b->scratch, sizeof b->scratch);
    osb_json_feed(&j, json, len, 1);
    if (osb__bind_next(b, &j, &t) < 0) return b->err;
    if (t.type == OSB_JSON_ARRAY && type->nfields && type->fields[0].name &&
        !type->fields[0].name[0] && type->fields[0].kind == OSB_KIND_ARRAY) {
        /* a document that is a bare array, bound to the unnamed first field */
        if (osb__bind_array(b, &j, &t, &type->fields[0], dst ? dst + type->fields[0].offset : NULL))
            return b->err;
    } else if (t.type != OSB_JSON_OBJECT) {
        return osb__bind_fail(b, OSB_ERR_JSON, t.offset, "expected a JSON object");
    } else if (osb__bind_object(b, &j, &t, type, dst)) {
        return b->err;
    }
    r = osb_json_next(&j, &t);
    if (r != OSB_JSON_DONE) return osb__bind_json_fail(b, &j);
    return OSB_OK;
}

/* Fills err (may be NULL) from a failed binding. */
OSB__HELPER osb_err osb__bind_report(const osb__bind *b, const osb_type *t, osb_err e, osb_error *err) {
    char msg[sizeof err->message];
    int n;
    if (!err) return e;
    memset(err, 0, sizeof *err);
    err->code = e;
    err->offset = b->err_offset;
    err->retry_after_ms = -1;
    n = osb__fmt(msg, sizeof msg, "%s at byte %llu (%s%s%s)", b->msg ? b->msg : "",
                 (unsigned long long)b->err_offset, t && t->name ? t->name : "",
                 b->where ? "." : "", b->where ? b->where : "");
    if (n < 0) n = 0;
    osb__copy_field(err->message, sizeof err->message, msg,
                    (size_t)n < sizeof msg ? (size_t)n : sizeof msg - 1);
    return e;
}

OSB__HELPER int osb__bind_args_ok(const osb_type *t, const char *json, size_t len) {
    return t && (json || !len) && (t->fields || !t->nfields);
}

/* The fill pass: dst is the zeroed struct, area the bytes for its arrays
 * (arr_size, aligned) followed by its strings (str_size). */
OSB__HELPER osb_err osb__bind_fill(osb__bind *b, const osb_type *t, const char *json, size_t len,
                                   char *dst, char *area) {
    size_t arr = b->arr_size, str = b->str_size;
    b->fill = 1;
    b->arr = area;
    b->arr_end = area + arr;
    b->str = b->arr_end;
    b->str_end = b->str + str;
    return osb__bind_pass(b, t, json, len, dst);
}

OSB_API osb_err osb_bind(const osb_type *t, const char *json, size_t len,
                         const osb_allocator *allocator, void **out, osb_error *err) {
    osb__bind local, *b = &local;
    size_t base, total;
    char *res = NULL;
    osb_err e;
    memset(b, 0, sizeof *b);
    if (out) *out = NULL;
    if (!out || !osb__bind_args_ok(t, json, len)) {
        b->msg = "NULL argument or bad type";
        return osb__bind_report(b, t, OSB_ERR_INVALID_ARG, err);
    }
    b->json = json;
    e = osb__bind_pass(b, t, json, len, NULL);
    if (!e) {
        base = OSB__ROUND(t->size);
        if (!osb__add_ok(base, b->arr_size, &total) || !osb__add_ok(total, b->str_size, &total))
            e = osb__bind_fail(b, OSB_ERR_TOO_LARGE, 0, "result too large");
        else if (!(res = (char *)osb__result_new(allocator, total)))
            e = osb__bind_fail(b, OSB_ERR_NOMEM, 0, "out of memory");
        else
            e = osb__bind_fill(b, t, json, len, res, res + base);
    }
    if (e) {
        osb_result_free(res);
        return osb__bind_report(b, t, e, err);
    }
    *out = res;
    return OSB_OK;
}

OSB_API osb_err osb_bind_into(const osb_type *t, const char *json, size_t len, void *dst,
                              void *buf, size_t cap, size_t *need, osb_error *err) {
    osb__bind local, *b = &local;
    size_t pad, total;
    osb_err e;
    memset(b, 0, sizeof *b);
    if (need) *need = 0;
    if (!dst || (!buf && cap) || !osb__bind_args_ok(t, json, len)) {
        b->msg = "NULL argument or bad type";
        return osb__bind_report(b, t, OSB_ERR_INVALID_ARG, err);
    }
    memset(dst, 0, t->size);
    b->json = json;
    e = osb__bind_pass(b, t, json, len, NULL);
    if (e) return osb__bind_report(b, t, e, err);
    /* arrays start at the first aligned address of buf */
    pad = (OSB__ALIGN - (size_t)((uintptr_t)buf % OSB__ALIGN)) % OSB__ALIGN;
    if (!osb__add_ok(pad, b->arr_size, &total) || !osb__add_ok(total, b->str_size, &total)) {
        osb__bind_fail(b, OSB_ERR_TOO_LARGE, 0, "result too large");
        return osb__bind_report(b, t, OSB_ERR_TOO_LARGE, err);
    }
    if (need) *need = total + OSB__ALIGN - 1;  /* enough at any alignment */
    if (total > cap) {
        osb__bind_fail(b, OSB_ERR_TOO_LARGE, 0, "buffer too small for the strings and arrays");
        return osb__bind_report(b, t, OSB_ERR_TOO_LARGE, err);
    }
    if (need) *need = total;
    /* nothing goes to the area when total is 0, but the cursors still need
     * a real address (arithmetic on NULL is undefined) */
    e = osb__bind_fill(b, t, json, len, (char *)dst, buf ? (char *)buf + pad : (char *)dst);
    if (e) {
        memset(dst, 0, t->size);
        return osb__bind_report(b, t, e, err);
    }
    return OSB_OK;
}

// >>sse ----------------------------------------------------------------------

/* Line states. */
enum { OSB__SL_START, OSB__SL_NAME, OSB__SL_SPACE, OSB__SL_VALUE, OSB__SL_BARE, OSB__SL_IGNORE };
/* Fields. */
enum { OSB__SF_IGNORE, OSB__SF_DATA, OSB__SF_EVENT, OSB__SF_ID, OSB__SF_RETRY };

OSB_API void osb_sse_init(osb_sse *s, char *buf, size_t cap) {
    memset(s, 0, sizeof *s);
    s->buf = buf;
    s->cap = buf ? cap : 0;
    s->max_event = OSB_SSE_MAX_EVENT;
    s->retry_ms = -1;
}

OSB_API osb_err osb_sse_set_buffer(osb_sse *s, char *buf, size_t cap) {
    if (!buf || cap <= s->len) return OSB_ERR_INVALID_ARG;
    s->buf = buf;
    s->cap = cap;
    return OSB_OK;
}

OSB_API osb_sse_state osb_sse_status(const osb_sse *s) { return (osb_sse_state)s->status; }

/* s->offset counts every byte consumed, so it is the bad byte's offset. */
OSB__HELPER size_t osb__sse_fail(osb_sse *s, osb_err e, size_t consumed) {
    s->err = e;
    s->err_offset = s->offset;
    s->status = OSB_SSE_ERROR;
    return consumed;
}

/* The event that was handed out is over: forget its data and type. */
OSB__HELPER void osb__sse_clear(osb_sse *s) {
    s->len = 0;
    s->has_data = 0;
    s->type_len = 0;
    s->type[0] = 0;
    s->status = OSB_SSE_MORE;
}

/* The first line that gives the event content marks where it starts. */
OSB__HELPER void osb__sse_mark(osb_sse *s) {
    if (!s->has_data && !s->type_len) s->ev_offset = s->line_start;
}

OSB__HELPER int osb__sse_field(const osb_sse *s) {
    if (s->name_len == 4 && !memcmp(s->name, "data", 4)) return OSB__SF_DATA;
    if (s->name_len == 5 && !memcmp(s->name, "event", 5)) return OSB__SF_EVENT;
    if (s->name_len == 2 && !memcmp(s->name, "id", 2)) return OSB__SF_ID;
    if (s->name_len == 5 && !memcmp(s->name, "retry", 5)) return OSB__SF_RETRY;
    return OSB__SF_IGNORE;
}

/* A field name is complete (at ':' or at the end of a line without one). */
OSB__HELPER void osb__sse_begin_value(osb_sse *s) {
    s->field = osb__sse_field(s);
    s->val_len = 0;
    s->retry_acc = 0;
    s->retry_ok = 1;
    if (s->field == OSB__SF_DATA) {
        osb__sse_mark(s);
        s->has_data = 1;
    }
}

/* Appends up to n data bytes and returns how many it took: fewer when the
 * buffer is full (the rest waits for a larger one) or when the event would
 * pass max_event, which sets *over: the byte after those taken is the first
 * one beyond the cap, whatever the chunking. Data lines are stored each
 * followed by '\n'; the last '\n' becomes the NUL at dispatch. */
OSB__HELPER size_t osb__sse_append(osb_sse *s, const char *p, size_t n, int *over) {
    size_t room = s->cap - s->len, cap_left = s->max_event > s->len ? s->max_event - s->len : 0;
    *over = 0;
    if (n > cap_left) {
        n = cap_left;
        *over = 1;
    }
    if (n > room) {
        n = room;
        *over = 0;  /* the buffer fills first: the cap is checked again later */
    }
    if (n == 0) return 0;
    memcpy(s->buf + s->len, p, n);
    s->len += n;
    return n;
}

/* The end of a line. Returns 1 when it completes an event, 0 otherwise, -1
 * when the buffer has no room for the line's '\n' (FULL), -2 on error. */
OSB__HELPER int osb__sse_line_end(osb_sse *s) {
    int st = s->state;
    if (st == OSB__SL_NAME) {  /* a field with no ':' has an empty value */
        osb__sse_begin_value(s);
        st = OSB__SL_VALUE;
    }
    if (st == OSB__SL_START) {  /* a blank line dispatches the event */
        if (s->has_data) {
            s->buf[s->len - 1] = 0;
            s->bare = 0;
            return 1;
        }
        s->type_len = 0;  /* an event without data is not dispatched */
        s->type[0] = 0;
        return 0;
    }
    if (st == OSB__SL_BARE || ((st == OSB__SL_VALUE || st == OSB__SL_SPACE) && s->field == OSB__SF_DATA)) {
        int over;
        size_t r = osb__sse_append(s, "\n", 1, &over);
        if (over) { s->err = OSB_ERR_TOO_LARGE; return -2; }
        if (r == 0) return -1;
        if (st == OSB__SL_BARE) {
            /* a bare JSON line is an event by itself */
            s->buf[s->len - 1] = 0;
            s->bare = 1;
            s->state = OSB__SL_START;
            return 1;
        }
    } else if (st == OSB__SL_VALUE || st == OSB__SL_SPACE) {
        if (s->field == OSB__SF_EVENT) {
            if (s->val_len) osb__sse_mark(s);   /* before type_len says the event has begun */
            memcpy(s->type, s->val, s->val_len);
            s->type_len = s->val_len;
            s->type[s->type_len] = 0;
        } else if (s->field == OSB__SF_ID) {
            /* per the SSE spec an id holding NUL is ignored */
            if (!memchr(s->val, 0, s->val_len)) {
                memcpy(s->id, s->val, s->val_len);
                s->id_len = s->val_len;
                s->id[s->id_len] = 0;
            }
        } else if (s->field == OSB__SF_RETRY) {
            if (s->retry_ok && s->val_len) s->retry_ms = s->retry_acc;
        }
    }
    s->state = OSB__SL_START;
    return 0;
}

/* Index of the first CR or LF in d[i..n), or n. Two memchr calls (SIMD in
 * most C libraries) beat a byte loop on long lines; CR is rare, so the
 * second search only covers the bytes before the LF. */
OSB__HELPER size_t osb__sse_eol(const unsigned char *d, size_t i, size_t n) {
    const unsigned char *lf = (const unsigned char *)memchr(d + i, '\n', n - i);
    size_t end = lf ? (size_t)(lf - d) : n;
    const unsigned char *cr = (const unsigned char *)memchr(d + i, '\r', end - i);
    return cr ? (size_t)(cr - d) : end;
}

/* Copies the data bytes from d[*i] up to the line end (or the chunk end)
 * into the event. Returns 0 to go on, 1 when the push must stop: the buffer
 * is full (FULL) or the event passed max_event (ERROR). */
OSB__HELPER int osb__sse_data_run(osb_sse *s, const unsigned char *d, size_t *i, size_t len) {
    size_t end = osb__sse_eol(d, *i, len), k;
    int over;
    k = osb__sse_append(s, (const char *)d + *i, end - *i, &over);
    *i += k;
    s->offset += k;
    if (over) {
        osb__sse_fail(s, OSB_ERR_TOO_LARGE, *i);
        return 1;
    }
    if (*i < end) {
        s->status = OSB_SSE_FULL;
        return 1;
    }
    return 0;
}

/* The first bytes matched the start of a BOM (EF, or EF BB) and then the
 * stream went on otherwise: they were data after all. At the start of the
 * stream they begin a line whose field name they are (no '{', '[' or ':'),
 * so they go where the field-name state would have put them. */
OSB__HELPER void osb__sse_bom_replay(osb_sse *s) {
    static const unsigned char bom[2] = {0xEF, 0xBB};
    int k;
    s->line_start = 0;
    s->state = OSB__SL_NAME;
    s->name_len = 0;
    for (k = 0; k < s->bom_seen && k < 2; k++) s->name[s->name_len++] = (char)bom[k];
    s->bom_seen = 0;
}

OSB_API size_t osb_sse_push(osb_sse *s, const void *data, size_t len) {
    static const unsigned char bom[3] = {0xEF, 0xBB, 0xBF};
    const unsigned char *d = (const unsigned char *)data;
    size_t i = 0;
    if (s->status == OSB_SSE_ERROR) return 0;
    if (s->ended) return osb__sse_fail(s, OSB_ERR_STATE, 0);
    if (s->status == OSB_SSE_EVENT) osb__sse_clear(s);
    s->status = OSB_SSE_MORE;
    if (!d && len) return osb__sse_fail(s, OSB_ERR_INVALID_ARG, 0);
    while (i < len) {
        unsigned c = d[i];
        if (s->bom < 3) {
            if (c == bom[s->bom]) {
                s->bom++;
                s->bom_seen = s->bom < 3 ? s->bom : 0;
                i++;
                s->offset++;
                continue;
            }
            s->bom = 3;
            if (s->bom_seen) osb__sse_bom_replay(s);
        }
        if (s->after_cr) {
            s->after_cr = 0;
            if (c == '\n') {  /* the LF of a CRLF split over two pushes */
                i++;
                s->offset++;
                continue;
            }
        }
        if (c == '\n' || c == '\r') {
            int r = osb__sse_line_end(s);
            if (r == -2) return osb__sse_fail(s, s->err, i);
            if (r == -1) {
                s->status = OSB_SSE_FULL;
                return i;
            }
            s->after_cr = c == '\r';
            i++;
            s->offset++;
            s->line_start = s->offset;
            if (r == 1) {
                s->status = OSB_SSE_EVENT;
                return i;
            }
            continue;
        }
        switch (s->state) {
        case OSB__SL_START:
            s->line_start = s->offset;
            if (c == ':') {
                s->state = OSB__SL_IGNORE;
            } else if ((c == '{' || c == '[') && s->has_data) {
                /* data: lines not yet closed by a blank line, then a bare
                   JSON line: two events, never one glued from both */
                s->buf[s->len - 1] = 0;
                s->bare = 0;
                s->status = OSB_SSE_EVENT;
                return i;
            } else if (c == '{' || c == '[') {
                osb__sse_mark(s);
                s->has_data = 1;
                s->state = OSB__SL_BARE;
                continue;  /* the brace is data: the BARE case copies it */
            } else {
                s->state = OSB__SL_NAME;
                s->name_len = 0;
                continue;
            }
            break;
        case OSB__SL_NAME:
            if (c == ':') {
                osb__sse_begin_value(s);
                s->state = OSB__SL_SPACE;
            } else {
                if (s->name_len < sizeof s->name) s->name[s->name_len] = (char)c;
                if (s->name_len <= sizeof s->name) s->name_len++;
            }
            break;
        case OSB__SL_SPACE:
            s->state = OSB__SL_VALUE;
            if (c == ' ') break;  /* one space after the colon is not part of the value */
            continue;
        case OSB__SL_VALUE:
            if (s->field == OSB__SF_DATA) {
                if (osb__sse_data_run(s, d, &i, len)) return i;
                continue;
            }
            if (s->field == OSB__SF_EVENT || s->field == OSB__SF_ID) {
                size_t lim = s->field == OSB__SF_EVENT ? OSB_SSE_MAX_TYPE : OSB_SSE_MAX_ID;
                if (s->val_len + 1 >= lim) return osb__sse_fail(s, OSB_ERR_TOO_LARGE, i);
                s->val[s->val_len++] = (char)c;
            } else if (s->field == OSB__SF_RETRY) {
                s->val_len++;
                if (c < '0' || c > '9') s->retry_ok = 0;
                else if (s->retry_acc < INT64_MAX / 10 - 10) s->retry_acc = s->retry_acc * 10 + (c - '0');
                else s->retry_ok = 0;
            }
            break;
        case OSB__SL_BARE:
            if (osb__sse_data_run(s, d, &i, len)) return i;
            continue;
        default: /* OSB__SL_IGNORE: comments and unknown fields */
            {
                size_t end = osb__sse_eol(d, i, len);
                s->offset += end - i;
                i = end;
                continue;
            }
        }
        i++;
        s->offset++;
    }
    return i;
}

/* For a reader that takes whole lines past the tokenizer (the execd stream,
 * to decode bare JSON lines where they lie): whether the tokenizer is at the
 * start of a line with no event, data, event type or BOM pending, so that a
 * bare JSON line pushed now would be an event of its own and nothing else.
 * An event handed out before is cleared, as the next push would. */
OSB__HELPER int osb__sse_at_line(osb_sse *s) {
    if (s->status == OSB_SSE_EVENT) osb__sse_clear(s);
    return s->status == OSB_SSE_MORE && !s->ended && s->bom == 3 && !s->after_cr && s->state == OSB__SL_START &&
           !s->has_data && !s->type_len;
}

/* The reader took n bytes itself after osb__sse_at_line: a bare JSON line
 * (with its LF) and perhaps a blank line. The state becomes what pushing
 * them would leave, the event's start (osb_sse_event.offset) included. */
OSB__HELPER void osb__sse_skip_lines(osb_sse *s, size_t n) {
    s->ev_offset = s->offset;
    s->offset += n;
    s->line_start = s->offset;
}

OSB_API osb_sse_state osb_sse_finish(osb_sse *s) {
    int r;
    if (s->status == OSB_SSE_ERROR) return OSB_SSE_ERROR;
    if (s->status == OSB_SSE_EVENT) osb__sse_clear(s);
    s->status = OSB_SSE_MORE;
    if (s->ended) return (osb_sse_state)(s->status = OSB_SSE_END);
    if (s->bom > 0 && s->bom < 3) {  /* a stream of the first bytes of a BOM only: a line of them */
        s->bom = 3;
        osb__sse_bom_replay(s);
    }
    if (s->state != OSB__SL_START) {
        /* the last line had no line end: treat the end of input as one */
        r = osb__sse_line_end(s);
        if (r == -2) {
            osb__sse_fail(s, s->err, 0);
            return OSB_SSE_ERROR;
        }
        if (r == -1) return (osb_sse_state)(s->status = OSB_SSE_FULL);
        if (r == 1) {
            s->ended = 1;
            return (osb_sse_state)(s->status = OSB_SSE_EVENT);
        }
    }
    s->ended = 1;
    if (s->has_data) {
        /* data: lines never closed by a blank line */
        osb__sse_fail(s, OSB_ERR_TRUNCATED, 0);
        return OSB_SSE_ERROR;
    }
    return (osb_sse_state)(s->status = OSB_SSE_END);
}

OSB_API int osb_sse_event_get(const osb_sse *s, osb_sse_event *ev) {
    memset(ev, 0, sizeof *ev);
    if (s->status != OSB_SSE_EVENT) return 0;
    ev->data = s->buf;
    ev->data_len = s->len - 1;
    ev->type = s->type;
    ev->type_len = s->type_len;
    ev->id = s->id;
    ev->id_len = s->id_len;
    ev->bare = s->bare;
    ev->offset = s->ev_offset;
    return 1;
}

// >>multipart ----------------------------------------------------------------

enum { OSB__MP_HEAD, OSB__MP_BODY, OSB__MP_BODY_END, OSB__MP_TAIL, OSB__MP_DONE };

/* RFC 2046 boundary characters (bchars without the space). */
OSB__HELPER int osb__mp_bchar(char c) {
    return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
           (c != 0 && strchr("'()+_,-./:=?", c) != NULL);
}

/* Appends text to dst[*n..cap) as the inside of a quoted-string that Go's
 * mime.ParseMediaType (execd's multipart reader) reads back: '"' and '\'
 * as quoted-pairs (\" and \\), every control character (CR and LF
 * included, which no quoting can carry) as '_'. A name written as it is
 * would end the string early (a trailing '\' escapes the closing quote)
 * and the part would be dropped. 0 when it does not fit. */
OSB__HELPER int osb__mp_quoted(char *dst, size_t cap, size_t *n, const char *s) {
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        char rep[2];
        size_t k = 1;
        rep[0] = (char)c;
        if (c == '"' || c == '\\') { rep[0] = '\\'; rep[1] = (char)c; k = 2; }
        else if (c < 0x20 || c == 0x7f) rep[0] = '_';
        if (cap - *n < k + 1) return 0;
        memcpy(dst + *n, rep, k);
        *n += k;
    }
    return 1;
}

OSB__HELPER int osb__mp_lit(char *dst, size_t cap, size_t *n, const char *s) {
    size_t k = strlen(s);
    if (cap - *n < k + 1) return 0;
    memcpy(dst + *n, s, k);
    *n += k;
    return 1;
}

/* Renders the head of part i ("--B\r\nheaders\r\n\r\n") into dst. Returns
 * its length, 0 when it does not fit. */
OSB__HELPER size_t osb__mp_head(const osb_multipart *m, size_t i, char *dst, size_t cap) {
    const osb_mpart *p = &m->parts[i];
    size_t n = 0;
    int ok = osb__mp_lit(dst, cap, &n, "--") && osb__mp_lit(dst, cap, &n, m->boundary) &&
             osb__mp_lit(dst, cap, &n, "\r\nContent-Disposition: form-data; name=\"") &&
             osb__mp_quoted(dst, cap, &n, p->name) && osb__mp_lit(dst, cap, &n, "\"");
    if (ok && p->filename)
        ok = osb__mp_lit(dst, cap, &n, "; filename=\"") && osb__mp_quoted(dst, cap, &n, p->filename) &&
             osb__mp_lit(dst, cap, &n, "\"");
    if (ok && p->content_type) {
        /* a header value must not smuggle a line break */
        if (strpbrk(p->content_type, "\r\n")) return 0;
        ok = osb__mp_lit(dst, cap, &n, "\r\nContent-Type: ") && osb__mp_lit(dst, cap, &n, p->content_type);
    }
    if (ok) ok = osb__mp_lit(dst, cap, &n, "\r\n\r\n");
    return ok ? n : 0;
}

OSB_API osb_err osb_multipart_init(osb_multipart *m, const osb_mpart *parts, size_t n,
                                   const char *boundary) {
    size_t i, blen;
    uint64_t total;
    memset(m, 0, sizeof *m);
    m->err = OSB_ERR_INVALID_ARG;
    if (!parts && n) return m->err;
    if (boundary) {
        blen = strlen(boundary);
        if (blen < 1 || blen > 70) return m->err;
        for (i = 0; i < blen; i++)
            if (!osb__mp_bchar(boundary[i])) return m->err;
        memcpy(m->boundary, boundary, blen + 1);
    } else {
        /* No randomness source without I/O or global state: mix what differs
         * between calls (addresses, sizes, the clocks) through splitmix64. */
        uint64_t x = (uint64_t)(uintptr_t)m ^ ((uint64_t)(uintptr_t)parts << 17) ^
                     (uint64_t)time(NULL) ^ ((uint64_t)clock() << 32);
        char *o = m->boundary;
        int k;
        for (i = 0; i < n; i++) x ^= parts[i].size + (uint64_t)(uintptr_t)parts[i].data + i;
        memcpy(o, "osb-", 4);
        o += 4;
        for (k = 0; k < 2; k++) {
            uint64_t z = (x += 0x9E3779B97F4A7C15ull);
            int d;
            z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
            z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
            z ^= z >> 31;
            for (d = 0; d < 16; d++) *o++ = "0123456789abcdef"[(z >> (d * 4)) & 15];
        }
        *o = 0;
        blen = 36;
    }
    memcpy(m->content_type, "multipart/form-data; boundary=", 30);
    memcpy(m->content_type + 30, m->boundary, blen + 1);
    total = 0;
    for (i = 0; i < n; i++) {
        size_t h;
        if (!parts[i].name) return m->err;
        if (!parts[i].read && !parts[i].data && parts[i].size) return m->err;
        m->parts = parts;  /* osb__mp_head reads it */
        h = osb__mp_head(m, i, m->head, sizeof m->head);
        if (h == 0) {
            m->err = OSB_ERR_TOO_LARGE;
            if (parts[i].content_type && strpbrk(parts[i].content_type, "\r\n")) m->err = OSB_ERR_INVALID_ARG;
            return m->err;
        }
        if (parts[i].size > (uint64_t)INT64_MAX / 2 - total) return m->err = OSB_ERR_TOO_LARGE;  /* the sum stays a valid Content-Length */
        total += h + parts[i].size + 2;  /* the body's closing CRLF */
    }
    total += 2 + blen + 4;  /* "--B--\r\n" */
    m->parts = parts;
    m->nparts = n;
    m->total = total;
    m->phase = OSB__MP_TAIL;
    if (n) {
        m->phase = OSB__MP_HEAD;
        m->head_len = osb__mp_head(m, 0, m->head, sizeof m->head);
    } else {
        m->head_len = (size_t)osb__fmt(m->head, sizeof m->head, "--%s--\r\n", m->boundary);
    }
    m->err = OSB_OK;
    return OSB_OK;
}

OSB_API uint64_t osb_multipart_length(const osb_multipart *m) { return m->total; }
OSB_API const char *osb_multipart_content_type(const osb_multipart *m) { return m->content_type; }

/* Moves to the next part's head, or to the closing delimiter. */
OSB__HELPER void osb__mp_next_part(osb_multipart *m) {
    m->part++;
    m->head_pos = 0;
    m->done_body = 0;
    if (m->part < m->nparts) {
        m->phase = OSB__MP_HEAD;
        m->head_len = osb__mp_head(m, m->part, m->head, sizeof m->head);
    } else {
        m->phase = OSB__MP_TAIL;
        m->head_len = (size_t)osb__fmt(m->head, sizeof m->head, "--%s--\r\n", m->boundary);
    }
}

OSB_API ptrdiff_t osb_multipart_read(void *user, void *buf, size_t cap) {
    osb_multipart *m = (osb_multipart *)user;
    char *out = (char *)buf;
    size_t n = 0;
    if (m->err) return -1;
    if (cap > (size_t)PTRDIFF_MAX) cap = (size_t)PTRDIFF_MAX;
    while (n < cap && m->phase != OSB__MP_DONE) {
        if (m->phase == OSB__MP_HEAD || m->phase == OSB__MP_TAIL || m->phase == OSB__MP_BODY_END) {
            /* head, tail and the CRLF after a body are all staged in head[] */
            size_t k = OSB__MIN(cap - n, m->head_len - m->head_pos);
            memcpy(out + n, m->head + m->head_pos, k);
            m->head_pos += k;
            n += k;
            if (m->head_pos < m->head_len) break;
            if (m->phase == OSB__MP_HEAD) {
                m->phase = OSB__MP_BODY;
            } else if (m->phase == OSB__MP_BODY_END) {
                osb__mp_next_part(m);
            } else {
                m->phase = OSB__MP_DONE;
            }
            continue;
        }
        /* OSB__MP_BODY */
        {
            const osb_mpart *p = &m->parts[m->part];
            uint64_t left = p->size - m->done_body;
            size_t want = (size_t)OSB__MIN((uint64_t)(cap - n), left);
            if (want) {
                ptrdiff_t got;
                if (p->read) {
                    got = p->read(p->read_user, out + n, want);
                    if (got < 0 || (size_t)got > want) { m->err = OSB_ERR_IO; return -1; }
                    if (got == 0) { m->err = OSB_ERR_IO; return -1; }  /* shorter than its size */
                } else {
                    memcpy(out + n, (const char *)p->data + m->done_body, want);
                    got = (ptrdiff_t)want;
                }
                n += (size_t)got;
                m->done_body += (uint64_t)got;
            }
            if (m->done_body == p->size) {
                m->phase = OSB__MP_BODY_END;
                memcpy(m->head, "\r\n", 2);
                m->head_len = 2;
                m->head_pos = 0;
            }
        }
    }
    m->sent += n;
    return (ptrdiff_t)n;
}

OSB_API osb_err osb_upload_metadata(osb_buf *out, const char *path, const char *owner,
                                    const char *group, int mode) {
    osb_jw w;
    if (!out || !path) return OSB_ERR_INVALID_ARG;
    osb_jw_init(&w, out);
    osb_jw_object(&w);
    osb_jw_key(&w, "path");
    osb_jw_str(&w, path);
    if (owner) {
        osb_jw_key(&w, "owner");
        osb_jw_str(&w, owner);
    }
    if (group) {
        osb_jw_key(&w, "group");
        osb_jw_str(&w, group);
    }
    if (mode) {
        osb_jw_key(&w, "mode");
        osb_jw_int(&w, mode);
    }
    osb_jw_object_end(&w);
    return osb_jw_finish(&w);
}

// >>url ----------------------------------------------------------------------

OSB__HELPER int osb__unreserved(unsigned char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
           c == '-' || c == '.' || c == '_' || c == '~';
}

OSB_API osb_err osb_url_encode(osb_buf *out, const char *s, size_t len) {
    static const char hex[] = "0123456789ABCDEF";
    size_t i, run = 0;
    if (!out || (!s && len)) return OSB_ERR_INVALID_ARG;
    if (osb_buf_reserve(out, len)) return out->failed;
    for (i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        char esc[3];
        if (osb__unreserved(c)) continue;
        if (i > run && osb_buf_append(out, s + run, i - run)) return out->failed;
        esc[0] = '%';
        esc[1] = hex[c >> 4];
        esc[2] = hex[c & 15];
        if (osb_buf_append(out, esc, 3)) return out->failed;
        run = i + 1;
    }
    /* even an empty tail is appended: it leaves out NUL-terminated */
    return osb_buf_append(out, len ? s + run : "", len - run);
}

OSB_API osb_err osb_url_decode(const char *s, size_t len, char *out, size_t cap,
                               size_t *out_len, int form) {
    size_t i, o = 0;
    if ((!s && len) || (!out && cap)) return OSB_ERR_INVALID_ARG;
    for (i = 0; i < len; i++) {
        char c = s[i];
        if (c == '%') {
            int hi, lo;
            if (len - i < 3) return OSB_ERR_INVALID_ARG;
            hi = osb__hexval((unsigned char)s[i + 1]);
            lo = osb__hexval((unsigned char)s[i + 2]);
            if (hi < 0 || lo < 0) return OSB_ERR_INVALID_ARG;
            c = (char)(hi * 16 + lo);
            i += 2;
        } else if (c == '+' && form) {
            c = ' ';
        }
        if (o >= cap) return OSB_ERR_TOO_LARGE;
        out[o++] = c;  /* o <= i, so decoding in place is safe */
    }
    if (o < cap) out[o] = 0;
    if (out_len) *out_len = o;
    return OSB_OK;
}

OSB_API osb_err osb_url_query(osb_buf *out, const char *key, const char *value) {
    if (!out || !key) return OSB_ERR_INVALID_ARG;
    if (!value) return OSB_OK;
    if (osb_buf_append(out, out->len && memchr(out->data, '?', out->len) ? "&" : "?", 1)) return out->failed;
    if (osb_url_encode(out, key, strlen(key))) return out->failed;
    if (osb_buf_append(out, "=", 1)) return out->failed;
    return osb_url_encode(out, value, strlen(value));
}

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

/* The usual step after a chunk's data, taken whole: CRLF, the next
 * chunk's size in hex (1-15 digits, not zero) and CRLF, all in buf from *at.
 * Returns 0, changing nothing, for anything else (an extension, the last
 * chunk, a line cut by the end of buf): the byte-by-byte states take it. */
static int osb__chunked_next(osb_chunked *d, const char *buf, size_t len, size_t *at) {
    size_t i = *at, k = i + 2;
    uint64_t v = 0;
    int h;
    if (len - i < 5 || buf[i] != '\r' || buf[i + 1] != '\n') return 0;
    while (k < len && k - i - 2 < 15 && (h = osb__hexval(buf[k])) >= 0) {
        v = v * 16 + (uint64_t)h;
        k++;
    }
    if (v == 0 || len - k < 2 || buf[k] != '\r' || buf[k + 1] != '\n') return 0;
    d->remaining = v;
    d->state = OSB__CH_DATA;
    *at = k + 2;
    return 1;
}

OSB_API ptrdiff_t osb_chunked_feed(osb_chunked *d, const char *buf, size_t len,
                                   const char **data, size_t *data_len) {
    size_t i = 0;
    *data = NULL;
    *data_len = 0;
    while (i < len) {
        char c = buf[i];
        if (d->state == OSB__CH_DATA_CR && osb__chunked_next(d, buf, len, &i)) continue;
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

/* "Would block": what a step on a connection driven by a multi (>>multi)
 * returns where the blocking path would wait; osb__conn.want says for what.
 * Internal: no public call ever returns it. */
#define OSB__AGAIN ((osb_err)1000)

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
    osb__vfmt(err->message, sizeof err->message, fmt, ap);
    va_end(ap);
}

static void osb__reset_error(osb_error *err) {
    memset(err, 0, sizeof *err);
    err->retry_after_ms = -1;
}

/* ---- system error texts ---- */

/* The text listed for code e: texts holds one text per code, in the order
 * of codes, each ended by '\0'; NULL when e is not listed. A switch that
 * returns a literal per case compiles to a table of pointers, 8 bytes a
 * code, where this takes 2. */
static const char *osb__listed_text(int e, const short *codes, size_t n, const char *texts) {
    size_t i;
    for (i = 0; i < n; i++, texts += strlen(texts) + 1)
        if (codes[i] == e) return texts;
    return NULL;
}

#define OSB__ERRNO_BUF 24   /* room for "error N" */
#if OSB_SHORT_ERRNO_TEXT
/* The text of errno value e from a short table of the errors sockets and
 * files give (musl's wording), else "error N" in buf (OSB__ERRNO_BUF
 * bytes): libc's table of every errno is 2 KB of a static build. */
static const char *osb__errno_text(int e, char *buf) {
    static const short codes[] = {
        EPERM, ENOENT, EINTR, EIO, EBADF, ENOMEM, EACCES, EINVAL, ENFILE, EMFILE, EISDIR, ENOTDIR,
        ENOSPC, EPIPE, EAFNOSUPPORT, EADDRINUSE, EADDRNOTAVAIL, ENETDOWN, ENETUNREACH, ECONNABORTED,
        ECONNRESET, ENOBUFS, ENOTCONN, ETIMEDOUT, ECONNREFUSED, EHOSTDOWN, EHOSTUNREACH};
    static const char texts[] =
        "Operation not permitted\0No such file or directory\0Interrupted system call\0I/O error\0"
        "Bad file descriptor\0Out of memory\0Permission denied\0Invalid argument\0"
        "Too many open files in system\0No file descriptors available\0Is a directory\0Not a directory\0"
        "No space left on device\0Broken pipe\0Address family not supported by protocol\0Address in use\0"
        "Address not available\0Network is down\0Network unreachable\0Connection aborted\0"
        "Connection reset by peer\0No buffer space available\0Socket not connected\0Operation timed out\0"
        "Connection refused\0Host is down\0Host is unreachable";
    const char *t = osb__listed_text(e, codes, sizeof codes / sizeof codes[0], texts);
    if (t) return t;
    osb__fmt(buf, OSB__ERRNO_BUF, "error %d", e);
    return buf;
}
#else
#  define osb__errno_text(e, buf) ((void)(buf), strerror(e))
#endif

/* ---- small local files ----
 * Read with read(2), not stdio: a static program that reads only its
 * settings, resolv.conf or a CA file then links no FILE code. */
#ifdef _WIN32
#  define osb__file_open(path) _open((path), _O_RDONLY | _O_BINARY)
#  define osb__file_close _close
#else
#  define osb__file_open(path) open((path), O_RDONLY | O_CLOEXEC)
#  define osb__file_close close
#endif

/* Reads fd until buf is full or the file ends: the bytes read, -1 on a
 * read error. */
OSB__HELPER ptrdiff_t osb__file_read(int fd, char *buf, size_t cap) {
    size_t got = 0;
    while (got < cap) {
#ifdef _WIN32
        int r = _read(fd, buf + got, (unsigned)OSB__MIN(cap - got, (size_t)1 << 30));
#else
        ssize_t r = read(fd, buf + got, cap - got);
        if (r < 0 && errno == EINTR) continue;
#endif
        if (r < 0) return -1;
        if (r == 0) break;
        got += (size_t)r;
    }
    return (ptrdiff_t)got;
}

/* ---- sockets ---- */

#ifdef _WIN32
typedef SOCKET osb__socket;
#  define OSB__BAD_SOCKET INVALID_SOCKET
#  define osb__sock_close closesocket
#  define osb__sock_errno() WSAGetLastError()
#  define osb__sock_set_errno WSASetLastError
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
#  define osb__sock_set_errno(e) (errno = (e))
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
/* A send that more of the same request follows: no partial segment is
 * pushed at its end (Linux; elsewhere every send is pushed). */
#if defined(MSG_MORE)
#  define OSB__MSG_MORE MSG_MORE
#else
#  define OSB__MSG_MORE 0
#endif
/* Uploads from a file descriptor go out with sendfile(2) on Linux over
 * plain http (define OSB_NO_SENDFILE to always use the read loop). */
#if !defined(_WIN32) && defined(__linux__) && !defined(OSB_NO_SENDFILE)
#  define OSB__HAVE_SENDFILE 1
#else
#  define OSB__HAVE_SENDFILE 0
#endif

/* How a connection reaches its target: directly, through a proxy's CONNECT
 * tunnel (https, WebSocket upgrades), or as requests a proxy forwards
 * (plain http in absolute form: one connection serves every http target). */
enum { OSB__ROUTE_DIRECT, OSB__ROUTE_TUNNEL, OSB__ROUTE_FORWARD };

typedef struct osb__conn {
    osb__socket fd;
    void *tls;                /* TLS engine state, NULL for plain http */
    int https;
    uint16_t port;
    char host[256];
    int64_t idle_since;       /* when it went back to the pool */
    int reused;               /* served an earlier request */
    const volatile int *cancel; /* the running request's cancel flag */
    int nb;                   /* a multi drives it: never wait, return OSB__AGAIN */
    int want;                 /* after OSB__AGAIN: 1 = until readable, 2 = writable */
    int route;                /* OSB__ROUTE_* */
    char via[300];            /* the proxy's "host:port", "" when direct */
    int proxy_auth;           /* credentials went to the proxy (for a 407's message) */
    int more;                 /* the request goes on after the next send (MSG_MORE) */
    char *buf;                /* receive buffer */
    size_t cap, start, end;   /* unread bytes are buf[start..end) */
} osb__conn;

/* A socket of family and type (SOCK_STREAM, SOCK_DGRAM) that does not
 * block and that programs the process execs do not inherit. Where socket()
 * takes SOCK_NONBLOCK and SOCK_CLOEXEC (Linux, the BSDs) one call sets
 * both: no moment in which a fork and exec in another thread inherits it,
 * and a static program links no fcntl. */
static osb__socket osb__socket_open(int family, int type) {
#if defined(SOCK_NONBLOCK) && defined(SOCK_CLOEXEC)
    return socket(family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
#else
    osb__socket fd = socket(family, type, 0);
    int failed;
#  ifdef _WIN32
    u_long on = 1;
    if (fd == OSB__BAD_SOCKET) return fd;
    failed = ioctlsocket(fd, FIONBIO, &on) != 0;
#  else
    int fl;
    if (fd == OSB__BAD_SOCKET) return fd;
    fcntl(fd, F_SETFD, FD_CLOEXEC);
    fl = fcntl(fd, F_GETFL, 0);
    failed = fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0;
#  endif
    if (failed) {
        int e = osb__sock_errno();
        osb__sock_close(fd);
        osb__sock_set_errno(e);
        return OSB__BAD_SOCKET;
    }
    return fd;
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
    char eb[OSB__ERRNO_BUF];
    if (e == OSB__EINTR) return OSB_OK;
    if (e == OSB__EAGAIN || e == EWOULDBLOCK) {
        int w;
        if (c->nb) {
            c->want = for_write ? 2 : 1;
            return OSB__AGAIN;
        }
        w = osb__wait(c->fd, for_write, deadline, c->cancel);
        if (w > 0) return OSB_OK;
        if (w == 0) return osb__timeout(err, phase);
        if (w == -2) {
            osb__set_error(err, OSB_ERR_CANCELLED, "cancelled");
            return OSB_ERR_CANCELLED;
        }
        e = osb__sock_errno();
    }
    osb__set_error(err, OSB_ERR_CONNECT, "%s failed: %s", for_write ? "send" : "receive",
                   osb__errno_text(e, eb));
    if (err) {
        err->sys_errno = e;
        err->phase = phase;
    }
    return OSB_ERR_CONNECT;
}

/* Sends what the socket takes now (*sent > 0 on OSB_OK), waiting for room
 * first if there is none (a multi's connection: OSB__AGAIN instead). */
static osb_err osb__sock_send_some(osb__conn *c, const void *data, size_t len, size_t *sent,
                                   int64_t deadline, osb_error *err) {
    int chunk = len > 0x40000000u ? 0x40000000 : (int)len;
    *sent = 0;
    for (;;) {
#ifdef _WIN32
        int n = send(c->fd, (const char *)data, chunk, 0);
#else
        ptrdiff_t n = send(c->fd, data, (size_t)chunk, OSB__SEND_FLAGS | (c->more ? OSB__MSG_MORE : 0));
#endif
        if (n > 0) {
            *sent = (size_t)n;
            return OSB_OK;
        } else {
            osb_err e = osb__sock_failure(c, 1, deadline, OSB_PHASE_SEND, err);
            if (e) return e;
        }
    }
}

static osb_err osb__sock_send_all(osb__conn *c, const void *data, size_t len, int64_t deadline,
                                  osb_error *err) {
    const char *p = (const char *)data;
    while (len > 0) {
        size_t n;
        osb_err e = osb__sock_send_some(c, p, len, &n, deadline, err);
        if (e) return e;
        p += n;
        len -= n;
    }
    return OSB_OK;
}

#if OSB__HAVE_SENDFILE
/* Sends up to len bytes of fd, from its position (which moves on), to the
 * socket; *sent gets how many (> 0 on OSB_OK unless *unsupported). The socket
 * is non-blocking: EAGAIN waits for room until the deadline. sendfile has no
 * MSG_NOSIGNAL, so SIGPIPE is blocked for this thread around it and a
 * SIGPIPE it raised is taken back (unless one was already pending).
 * *unsupported = 1 (OSB_OK, nothing sent) when fd cannot be sent this
 * way (a pipe, some file systems): the caller reads it instead. */
static osb_err osb__sock_sendfile(osb__conn *c, int fd, uint64_t len, uint64_t *sent, int *unsupported,
                                  int64_t deadline, osb_error *err) {
    sigset_t pipe_set, old_set, pending;
    size_t chunk = len > 0x40000000u ? 0x40000000u : (size_t)len;
    *unsupported = 0;
    *sent = 0;
    sigemptyset(&pipe_set);
    sigaddset(&pipe_set, SIGPIPE);
    for (;;) {
        ssize_t n;
        int e, had_pipe;
        sigemptyset(&pending);
        sigpending(&pending);
        had_pipe = sigismember(&pending, SIGPIPE) == 1;
        pthread_sigmask(SIG_BLOCK, &pipe_set, &old_set);
        n = sendfile(c->fd, fd, NULL, chunk);
        e = errno;
        if (n < 0 && e == EPIPE && !had_pipe) {
            struct timespec zero = {0, 0};
            while (sigtimedwait(&pipe_set, NULL, &zero) < 0 && errno == EINTR) {}
        }
        pthread_sigmask(SIG_SETMASK, &old_set, NULL);
        if (n > 0) {
            *sent = (uint64_t)n;
            return OSB_OK;
        }
        if (n == 0) {
            osb__set_error(err, OSB_ERR_IO, "the file to upload ended before its size");
            return OSB_ERR_IO;
        }
        if (e == EINVAL || e == ENOSYS || e == EOPNOTSUPP || e == ESPIPE) {
            *unsupported = 1;
            return OSB_OK;
        }
        errno = e;
        {
            osb_err x = osb__sock_failure(c, 1, deadline, OSB_PHASE_SEND, err);
            if (x) return x;
        }
    }
}
#endif

/* The send buffer for a large upload. TCP autotunes a socket's send buffer
 * up to tcp_wmem's maximum (4 MiB by default); a buffer set with SO_SNDBUF
 * may be larger, up to twice net.core.wmem_max, and then stays fixed. A
 * larger one keeps more of the body queued while the receiver is away (on
 * loopback the sender waits for the receiving process to be scheduled), so
 * for bodies of OSB__BIG_UPLOAD bytes and more it is raised -- only where
 * the system allows more than autotuning would reach, since a fixed buffer
 * below that ceiling would slow a long, fast path. Linux only. */
#define OSB__BIG_UPLOAD (1u << 20)

/* What SO_SNDBUF to ask for given net.core.wmem_max and tcp_wmem's maximum
 * (0: leave autotuning alone). The kernel doubles the value; 16 MiB at most. */
OSB__HELPER int osb__sndbuf_rule(long wmem_max, long tcp_wmem_max) {
    long want = wmem_max < (8L << 20) ? wmem_max : (8L << 20);
    return wmem_max > 0 && tcp_wmem_max > 0 && 2 * want > tcp_wmem_max ? (int)want : 0;
}

#if defined(__linux__)
/* The index-th number (from 0) of a small file such as /proc/sys/...; -1
 * when there is none. */
OSB__HELPER long osb__file_number(const char *path, int index) {
    char b[128];
    ptrdiff_t n;
    int fd = open(path, O_RDONLY), i = 0;
    long v = -1;
    const char *p = b;
    if (fd < 0) return -1;
    n = read(fd, b, sizeof b - 1);
    close(fd);
    if (n <= 0) return -1;
    b[n] = 0;
    for (;;) {
        while (*p == ' ' || *p == '\t' || *p == '\n') p++;
        if (*p < '0' || *p > '9') return -1;
        for (v = 0; *p >= '0' && *p <= '9'; p++)
            if (v < 0x7fffffffL / 10) v = v * 10 + (*p - '0');
        if (i++ == index) return v;
    }
}
#endif

/* Raises k's send buffer for a body of len bytes (-1: unknown length). */
static void osb__sndbuf_for_upload(osb__conn *k, int64_t len) {
#if defined(__linux__)
    int want;
    if (len >= 0 && len < (int64_t)OSB__BIG_UPLOAD) return;
    want = osb__sndbuf_rule(osb__file_number("/proc/sys/net/core/wmem_max", 0),
                            osb__file_number("/proc/sys/net/ipv4/tcp_wmem", 2));
    if (want) setsockopt(k->fd, SOL_SOCKET, SO_SNDBUF, &want, sizeof want);
#else
    (void)k;
    (void)len;
#endif
}

/* How a request's body goes out, for the blocking call and the multi alike.
 * A body of at most OSB__JOIN_BODY bytes in memory travels with the head in
 * one write; any other is sent after the head, and then: every send of the
 * request but its last carries MSG_MORE, so the kernel fills whole segments
 * instead of sending a short one at the end of each send -- except for a
 * reader of unknown length (chunked), which may be a live stream whose
 * pieces must go out as they come; and a body of OSB__BIG_UPLOAD bytes or
 * more (or of unknown length) gets the larger send buffer. */
#define OSB__JOIN_BODY 65536

/* The length of what req sends after its head: 0 when there is nothing or
 * the body travels with the head, -1 for a reader of unknown length. */
OSB__HELPER int64_t osb__body_after_head(const osb_http_request *req) {
    if (req->body) return req->body_len <= OSB__JOIN_BODY ? 0 : (int64_t)req->body_len;
    return req->body_reader ? req->body_reader_len : 0;
}

/* Whether a send leaves more of the request to follow at once (MSG_MORE):
 * after the send, done of the body_len bytes that follow the head are out
 * or staged (0 for the head itself). */
OSB__HELPER int osb__more_follows(int64_t body_len, uint64_t done) {
    return body_len > 0 && done < (uint64_t)body_len;
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
/* BearSSL error codes are plain numbers; the table does not need bearssl.h.
 * The texts are one string, listed in the order of codes (osb__listed_text). */
OSB_API const char *osb_tls_strerror(int e) {
    static const short codes[] = {
        /* fatal alerts from the server: 256 + the alert number */
        256 + 0, 256 + 10, 256 + 20, 256 + 40, 256 + 42, 256 + 45, 256 + 47, 256 + 48, 256 + 49,
        256 + 50, 256 + 51, 256 + 70, 256 + 71, 256 + 80, 256 + 86, 256 + 109, 256 + 112,
        256 + 116, 256 + 120,
        /* BearSSL's own codes (BR_ERR_*) */
        0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25,
        26, 27, 28, 29, 31, 33, 48, 49, 50, 51, 52, 53, 54, 55, 56, 57, 58, 59, 60, 62};
    static const char texts[] =
        /* 256 + 0 */ "the server closed the TLS session (close_notify) during the handshake\0"
        /* 256 + 10 */ "the server received an unexpected message (alert unexpected_message)\0"
        /* 256 + 20 */ "the server could not authenticate a record (alert bad_record_mac)\0"
        /* 256 + 40 */ "the server found no acceptable parameters (alert handshake_failure): it "
                       "has no TLS 1.2 ECDHE suite with AES-GCM or ChaCha20-Poly1305 (a TLS "
                       "1.0/1.1-only server is refused)\0"
        /* 256 + 42 */ "the server rejected a certificate (alert bad/unsupported certificate)\0"
        /* 256 + 45 */ "the server says a certificate expired (alert certificate_expired)\0"
        /* 256 + 47 */ "the server rejected a handshake value (alert illegal_parameter)\0"
        /* 256 + 48 */ "the server does not trust the client certificate's CA (alert unknown_ca)\0"
        /* 256 + 49 */ "the server refused access (alert access_denied)\0"
        /* 256 + 50 */ "the server could not decode a message (alert decode_error)\0"
        /* 256 + 51 */ "the server could not verify a message (alert decrypt_error)\0"
        /* 256 + 70 */ "the server does not accept TLS 1.2 (alert protocol_version): it needs "
                       "TLS 1.3, which BearSSL does not implement\0"
        /* 256 + 71 */ "the server wants stronger security (alert insufficient_security)\0"
        /* 256 + 80 */ "the server had an internal error (alert internal_error)\0"
        /* 256 + 86 */ "the server detected a downgrade (alert inappropriate_fallback)\0"
        /* 256 + 109 */ "the server wants a TLS extension this client does not send (alert "
                        "missing_extension)\0"
        /* 256 + 112 */ "the server does not serve this host name (alert unrecognized_name, SNI)\0"
        /* 256 + 116 */ "the server requires a client certificate (alert certificate_required)\0"
        /* 256 + 120 */ "the server requires an ALPN protocol (alert no_application_protocol)\0"
        /* 0 */ "no error\0"
        /* 1 */ "bad TLS parameter (library misuse)\0"
        /* 2 */ "bad TLS engine state (library misuse)\0"
        /* 3 */ "the server did not offer TLS 1.2 (TLS 1.0/1.1 servers are refused), or it does "
                "not speak TLS at all (plain HTTP on a TLS port?)\0"
        /* 4 */ "the server changed the TLS version during the connection\0"
        /* 5 */ "malformed TLS record length (is this a TLS server?)\0"
        /* 6 */ "TLS record too large\0"
        /* 7 */ "TLS record failed authentication (data corrupted or tampered with)\0"
        /* 8 */ "no entropy: the OS gave no random bytes; set tls.entropy\0"
        /* 9 */ "unknown TLS record type (is this a TLS server?)\0"
        /* 10 */ "unexpected TLS message from the server\0"
        /* 12 */ "bad ChangeCipherSpec from the server\0"
        /* 13 */ "bad TLS alert from the server\0"
        /* 14 */ "malformed TLS handshake message from the server\0"
        /* 15 */ "oversized session ID from the server\0"
        /* 16 */ "the server chose a cipher suite this client did not offer (it must support "
                 "ECDHE with AES-GCM or ChaCha20-Poly1305)\0"
        /* 17 */ "the server chose TLS compression, which is refused\0"
        /* 18 */ "bad maximum fragment length from the server\0"
        /* 19 */ "secure renegotiation check failed\0"
        /* 20 */ "the server sent an unrequested TLS extension\0"
        /* 21 */ "bad SNI from the server\0"
        /* 22 */ "malformed ServerHelloDone\0"
        /* 23 */ "a TLS limit was exceeded (e.g. certificate chain too long)\0"
        /* 24 */ "bad Finished message (handshake tampered with?)\0"
        /* 25 */ "session resumption mismatch\0"
        /* 26 */ "the server used an unsupported or forbidden algorithm\0"
        /* 27 */ "the server's key exchange signature is invalid\0"
        /* 28 */ "the server certificate's key usage does not allow this key exchange\0"
        /* 29 */ "the server requires a client certificate, which this client does not send\0"
        /* 31 */ "I/O error during TLS: the connection was reset or closed mid-handshake\0"
        /* 33 */ "the server's certificate is malformed\0"
        /* 48 */ "the server's certificate has malformed validity dates\0"
        /* 49 */ "the server's certificate uses an unsupported algorithm or feature (e.g. a "
                 "SHA-1 signature)\0"
        /* 50 */ "the server's certificate exceeds a size limit\0"
        /* 51 */ "the server's certificate has the wrong key type\0"
        /* 52 */ "a certificate signature is invalid\0"
        /* 53 */ "the current time is unknown, so certificate dates cannot be checked (set "
                 "tls.now)\0"
        /* 54 */ "the server's certificate has expired or is not yet valid (or the clock is "
                 "wrong)\0"
        /* 55 */ "the certificate chain is broken (issuer and subject names do not match)\0"
        /* 56 */ "the server's certificate does not match the host name\0"
        /* 57 */ "the server's certificate has an unsupported critical extension\0"
        /* 58 */ "a certificate in the chain is used as a CA but is not one\0"
        /* 59 */ "the server's certificate key usage forbids server authentication\0"
        /* 60 */ "the server's certificate key is too weak\0"
        /* 62 */ "the server's certificate is not trusted (unknown CA, or self-signed): give "
                 "the right CA with tls.ca_file, tls.ca_pem or SSL_CERT_FILE";
    const char *t;
    if (e >= 512 && e < 768) return "this client sent a fatal alert to the server";
    if (e == 256 + 43 || e == 256 + 44 || e == 256 + 46) e = 256 + 42;   /* certificate alerts */
    if (e > 33 && e <= 47) e = 33;   /* the certificate's encoding */
    if ((t = osb__listed_text(e, codes, sizeof codes / sizeof codes[0], texts)) != NULL) return t;
    if (e >= 256 && e < 512) return "the server sent a fatal TLS alert";
    if (e > 32 && e < 64) return "certificate validation failed";
    return "TLS failure";
}

/* ---- IP literals ---------------------------------------------------------- */

/* a.b.c.d, each 0-255 in decimal without a leading zero; returns 1 if s
 * is exactly that. (The C library's resolver reads "010" as octal 8, so a
 * leading zero would name one address here and another there.) */
static int osb__parse_ip4(const char *p, unsigned char out[4]) {
    int part;
    for (part = 0; part < 4; part++) {
        unsigned v = 0, digits = 0;
        if (p[0] == '0' && p[1] >= '0' && p[1] <= '9') return 0;
        while (*p >= '0' && *p <= '9' && digits < 4) {
            v = v * 10 + (unsigned)(*p++ - '0');
            digits++;
        }
        if (digits == 0 || digits > 3 || v > 255) return 0;
        out[part] = (unsigned char)v;
        if (part < 3) {
            if (*p != '.') return 0;
            p++;
        }
    }
    return *p == 0;
}

/* Parses an IPv4 dotted quad or an IPv6 address (brackets and a %zone are
 * ignored). Returns the address length (4 or 16), or 0 if s is a name. */
static size_t osb__parse_ip(const char *s, unsigned char out[16]) {
    size_t n = strlen(s), i;
    char tmp[64];
    if (n >= 2 && s[0] == '[' && s[n - 1] == ']') { s++; n -= 2; }
    for (i = 0; i < n && s[i] != '%'; i++) {}
    n = i;
    if (n == 0 || n >= sizeof tmp) return 0;
    memcpy(tmp, s, n);
    tmp[n] = 0;
    if (!strchr(tmp, ':')) {
        return osb__parse_ip4(tmp, out) ? 4 : 0;
    } else {
        unsigned short w[8];
        int nw = 0, gap = -1;
        const char *p = tmp;
        if (p[0] == ':') { if (p[1] != ':') return 0; gap = 0; p += 2; }
        while (*p) {
            unsigned v = 0, digits = 0;
            const char *start = p;
            while (digits < 5) {
                int c = *p, d;
                if (c >= '0' && c <= '9') d = c - '0';
                else if (c >= 'a' && c <= 'f') d = c - 'a' + 10;
                else if (c >= 'A' && c <= 'F') d = c - 'A' + 10;
                else break;
                v = v * 16 + (unsigned)d;
                digits++;
                p++;
            }
            if (*p == '.') {
                /* an IPv4 tail takes two words */
                unsigned char v4[4];
                if (nw > 6 || !osb__parse_ip4(start, v4)) return 0;
                w[nw++] = (unsigned short)((v4[0] << 8) | v4[1]);
                w[nw++] = (unsigned short)((v4[2] << 8) | v4[3]);
                p = start + strlen(start);
                break;
            }
            if (digits == 0 || digits > 4 || nw >= 8) return 0;
            w[nw++] = (unsigned short)v;
            if (*p == ':') {
                p++;
                if (*p == ':') {
                    if (gap >= 0) return 0;
                    gap = nw;
                    p++;
                } else if (*p == 0) {
                    return 0;
                }
            } else if (*p != 0) {
                return 0;
            }
        }
        if (gap < 0 && nw != 8) return 0;
        if (gap >= 0 && nw > 7) return 0;
        memset(out, 0, 16);
        if (gap < 0) gap = nw;
        for (i = 0; i < (size_t)gap; i++) {
            out[2 * i] = (unsigned char)(w[i] >> 8);
            out[2 * i + 1] = (unsigned char)w[i];
        }
        for (i = (size_t)gap; i < (size_t)nw; i++) {
            size_t at = 8 - ((size_t)nw - i);
            out[2 * at] = (unsigned char)(w[i] >> 8);
            out[2 * at + 1] = (unsigned char)w[i];
        }
        return 16;
    }
}

/* The text of an address (4 or 16 bytes), as inet_ntop writes it (RFC 5952:
 * lower-case hex, the longest run of two or more zero groups as "::", the
 * first of equal runs; ::ffff:a.b.c.d for IPv4-mapped). Our own, because
 * musl's inet_ntop goes through snprintf and so links all of printf. */
static void osb__ip_text(const unsigned char *a, size_t len, char out[46]) {
    static const char hex[] = "0123456789abcdef";
    size_t o = 0;
    int i, best = -1, best_n = 0, run = 0, v4 = len == 4, groups = 8;
    if (len == 16) {
        static const unsigned char mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
        if (memcmp(a, mapped, 12) == 0) { memcpy(out, "::ffff:", 7); o = 7; v4 = 1; a += 12; }
    }
    if (v4) {
        for (i = 0; i < 4; i++) {
            unsigned b = a[i];
            if (i) out[o++] = '.';
            if (b >= 100) out[o++] = (char)('0' + b / 100);
            if (b >= 10) out[o++] = (char)('0' + b / 10 % 10);
            out[o++] = (char)('0' + b % 10);
        }
        out[o] = 0;
        return;
    }
    for (i = 0; i < groups; i++) {                  /* the longest run of zero groups */
        run = a[2 * i] || a[2 * i + 1] ? 0 : run + 1;
        if (run > best_n) { best_n = run; best = i - run + 1; }
    }
    if (best_n < 2) best = -1;
    for (i = 0; i < groups; i++) {
        unsigned g = (unsigned)a[2 * i] << 8 | a[2 * i + 1];
        int shift, lead = 1;
        if (i == best) {
            out[o++] = ':';
            out[o++] = ':';
            i += best_n - 1;
            continue;
        }
        if (i && !(best >= 0 && i == best + best_n)) out[o++] = ':';
        for (shift = 12; shift >= 0; shift -= 4) {
            unsigned d = (g >> shift) & 15;
            if (d || !lead || shift == 0) { out[o++] = hex[d]; lead = 0; }
        }
    }
    out[o] = 0;
}

#if OSB_TLS

#include <bearssl.h>
#include <time.h>
#include <sys/stat.h>
#ifdef _WIN32
#  include <wincrypt.h>             /* the system's ROOT certificate store (crypt32) */
#  ifdef _MSC_VER
#    pragma comment(lib, "crypt32")
#  endif
#endif
#if !defined(_MSC_VER)
#  include <dirent.h>
#  define OSB__TLS_HAVE_DIR 1
#else
#  define OSB__TLS_HAVE_DIR 0
#endif

#ifndef OSB_TLS_HALF_DUPLEX
#  define OSB_TLS_HALF_DUPLEX 0
#endif
#ifndef OSB_TLS_SMALL_EC
#  define OSB_TLS_SMALL_EC 0
#endif
#ifndef OSB_TLS_SMALL_CIPHERS
#  define OSB_TLS_SMALL_CIPHERS 0
#endif
#ifndef OSB_TLS_MAX_CERT
#  define OSB_TLS_MAX_CERT 16384
#endif
#if OSB_TLS_HALF_DUPLEX
#  define OSB__TLS_IOBUF BR_SSL_BUFSIZE_MONO
#else
#  define OSB__TLS_IOBUF BR_SSL_BUFSIZE_BIDI
#endif

/* ---- trust anchors ------------------------------------------------------ */

struct osb__tls_ctx {
    osb_allocator alloc;           /* a copy of the client's allocator */
    br_x509_trust_anchor *tas;     /* loaded anchors; each dn.data block also holds the key */
    size_t n, cap;
    const br_x509_trust_anchor *use;   /* what connections use: tas or the embedded ones */
    size_t use_n;
    int insecure;
    int64_t (*now)(void *user);
    void *now_user;
    int (*entropy)(void *user, void *buf, size_t len);
    void *entropy_user;
    char source[160];              /* where the anchors came from */
};

typedef struct osb__tls_ctx osb__tls_ctx;

/* State of one PEM load. The reader is this library's own (BearSSL's PEM
 * decoder runs at about 5 MB/s, which made a system bundle cost 60 ms): it
 * takes the text in pieces of any size, decodes the base64 of CERTIFICATE
 * objects straight into BearSSL's X.509 decoder, and skips every other
 * object (keys, parameters) without decoding it. */
typedef struct osb__pem_load {
    osb__tls_ctx *ctx;
    br_x509_decoder_context x509;
    osb_buf dn;
    int strict;           /* a bad certificate fails the load (else it is skipped) */
    size_t added, seen;
    osb_err failed;
    const char *what;     /* for messages */
    osb_error *err;
    /* the reader */
    int line_start, marker, in_obj, in_cert, bad;
    char mline[80];       /* the current "-----BEGIN ...-----" or END line */
    size_t mlen;
    int mover;            /* the marker line did not fit */
    uint32_t acc;         /* base64: bits of the current quantum */
    int nacc, pads;
    unsigned char out[192];
    size_t nout;
} osb__pem_load;

static void osb__tls_dn_append(void *ctx, const void *buf, size_t len) {
    osb_buf_append((osb_buf *)ctx, buf, len);
}

static int osb__tls_same_key(const br_x509_pkey *a, const br_x509_pkey *b) {
    if (a->key_type != b->key_type) return 0;
    if (a->key_type == BR_KEYTYPE_RSA)
        return a->key.rsa.nlen == b->key.rsa.nlen && a->key.rsa.elen == b->key.rsa.elen &&
               memcmp(a->key.rsa.n, b->key.rsa.n, a->key.rsa.nlen) == 0 &&
               memcmp(a->key.rsa.e, b->key.rsa.e, a->key.rsa.elen) == 0;
    return a->key.ec.curve == b->key.ec.curve && a->key.ec.qlen == b->key.ec.qlen &&
           memcmp(a->key.ec.q, b->key.ec.q, a->key.ec.qlen) == 0;
}

/* Adds one anchor (DN + key packed in one allocation); duplicates are dropped. */
static osb_err osb__tls_add_anchor(osb__tls_ctx *ctx, const unsigned char *dn, size_t dn_len,
                                   const br_x509_pkey *pk, int is_ca) {
    size_t i, klen, total;
    unsigned char *block;
    br_x509_trust_anchor *ta;
    for (i = 0; i < ctx->n; i++)
        if (ctx->tas[i].dn.len == dn_len && memcmp(ctx->tas[i].dn.data, dn, dn_len) == 0 &&
            osb__tls_same_key(&ctx->tas[i].pkey, pk))
            return OSB_OK;
    if (ctx->n == ctx->cap) {
        size_t ncap = ctx->cap ? ctx->cap * 2 : 16, bytes;
        br_x509_trust_anchor *p;
        if (!osb__mul_ok(ncap, sizeof *p, &bytes)) return OSB_ERR_NOMEM;
        p = (br_x509_trust_anchor *)osb__realloc(&ctx->alloc, ctx->tas,
                                                 ctx->cap * sizeof *p, bytes);
        if (!p) return OSB_ERR_NOMEM;
        ctx->tas = p;
        ctx->cap = ncap;
    }
    klen = pk->key_type == BR_KEYTYPE_RSA ? pk->key.rsa.nlen + pk->key.rsa.elen : pk->key.ec.qlen;
    total = dn_len + klen;
    block = (unsigned char *)osb__alloc(&ctx->alloc, total);
    if (!block) return OSB_ERR_NOMEM;
    ta = &ctx->tas[ctx->n];
    memset(ta, 0, sizeof *ta);
    memcpy(block, dn, dn_len);
    ta->dn.data = block;
    ta->dn.len = dn_len;
    ta->flags = is_ca ? BR_X509_TA_CA : 0;
    ta->pkey.key_type = pk->key_type;
    if (pk->key_type == BR_KEYTYPE_RSA) {
        ta->pkey.key.rsa.n = block + dn_len;
        ta->pkey.key.rsa.nlen = pk->key.rsa.nlen;
        memcpy(ta->pkey.key.rsa.n, pk->key.rsa.n, pk->key.rsa.nlen);
        ta->pkey.key.rsa.e = block + dn_len + pk->key.rsa.nlen;
        ta->pkey.key.rsa.elen = pk->key.rsa.elen;
        memcpy(ta->pkey.key.rsa.e, pk->key.rsa.e, pk->key.rsa.elen);
    } else {
        ta->pkey.key.ec.curve = pk->key.ec.curve;
        ta->pkey.key.ec.q = block + dn_len;
        ta->pkey.key.ec.qlen = pk->key.ec.qlen;
        memcpy(ta->pkey.key.ec.q, pk->key.ec.q, pk->key.ec.qlen);
    }
    ctx->n++;
    return OSB_OK;
}

static int osb__tls_is_cert_name(const char *name, size_t len) {
    return (len == 11 && memcmp(name, "CERTIFICATE", 11) == 0) ||
           (len == 16 && memcmp(name, "X509 CERTIFICATE", 16) == 0) ||
           (len == 19 && memcmp(name, "TRUSTED CERTIFICATE", 19) == 0);
}

static void osb__pem_fail(osb__pem_load *L, const char *why) {
    if (L->strict && !L->failed)
        osb__set_error(L->err, L->failed = OSB_ERR_TLS, "trust anchors: %s: %s", L->what, why);
}

/* BearSSL 0.6's X.509 decoder must not be given bytes once it has finished
 * or failed: it then runs on from a stale state and can crash. Every push
 * goes through here. Returns 0 if the bytes were refused: after an error
 * (kept and reported at the end) or after the end of the certificate. */
static int osb__x509_decoder_feed(br_x509_decoder_context *xd, const void *p, size_t n) {
    if (n == 0) return 1;
    if (br_x509_decoder_last_error(xd) != BR_ERR_X509_TRUNCATED) return 0;
    br_x509_decoder_push(xd, p, n);
    return 1;
}

static void osb__pem_flush(osb__pem_load *L) {
    if (!osb__x509_decoder_feed(&L->x509, L->out, L->nout) &&
        br_x509_decoder_last_error(&L->x509) == 0)
        L->bad = 2; /* bytes after the end of the certificate */
    L->nout = 0;
}

/* The END line of a CERTIFICATE: decode and keep it. */
static void osb__pem_cert_done(osb__pem_load *L) {
    int xe;
    br_x509_pkey *pk;
    L->seen++;
    if (L->bad == 2) {
        osb__pem_fail(L, "a certificate has bytes after its end");
        return;
    }
    if (L->bad || L->nacc != 0) {
        osb__pem_fail(L, "a certificate is not valid base64");
        return;
    }
    osb__pem_flush(L);
    if (L->bad) {
        osb__pem_fail(L, "a certificate has bytes after its end");
        return;
    }
    xe = br_x509_decoder_last_error(&L->x509);
    pk = br_x509_decoder_get_pkey(&L->x509);
    if (L->dn.failed) {
        osb__set_error(L->err, L->failed = L->dn.failed, "trust anchors: out of memory reading %s",
                       L->what);
    } else if (xe || !pk) {
        if (L->strict) {
            osb__set_error(L->err, L->failed = OSB_ERR_TLS,
                           "trust anchors: certificate %lu of %s cannot be decoded "
                           "(BearSSL X.509 error %d%s)",
                           (unsigned long)L->seen, L->what, xe,
                           xe == BR_ERR_X509_UNSUPPORTED ? ": unsupported key or algorithm" : "");
            if (L->err) L->err->tls_error = xe;
        }
    } else {
        /* a duplicate is dropped but still counts as found here */
        osb_err e = osb__tls_add_anchor(L->ctx, (const unsigned char *)L->dn.data, L->dn.len, pk,
                                        br_x509_decoder_isCA(&L->x509));
        if (e) osb__set_error(L->err, L->failed = e, "trust anchors: out of memory reading %s",
                              L->what);
        else L->added++;
    }
}

/* The end of a line: act on a BEGIN or END marker. */
static void osb__pem_eol(osb__pem_load *L) {
    if (L->marker) {
        const char *m = L->mline;
        size_t n = L->mlen;
        while (n > 0 && (m[n - 1] == '\r' || m[n - 1] == ' ' || m[n - 1] == '\t')) n--;
        if (!L->mover && n >= 16 && memcmp(m, "-----BEGIN ", 11) == 0 &&
            memcmp(m + n - 5, "-----", 5) == 0) {
            if (L->in_obj) osb__pem_fail(L, "BEGIN inside an object");
            L->in_obj = 1;
            L->in_cert = osb__tls_is_cert_name(m + 11, n - 16);
            L->bad = 0;
            L->acc = 0;
            L->nacc = L->pads = 0;
            L->nout = 0;
            if (L->in_cert) {
                L->dn.len = 0;
                L->dn.failed = OSB_OK;
                br_x509_decoder_init(&L->x509, osb__tls_dn_append, &L->dn);
            }
        } else if (!L->mover && n >= 9 && memcmp(m, "-----END ", 9) == 0) {
            if (!L->in_obj) osb__pem_fail(L, "END without BEGIN");
            else if (L->in_cert) osb__pem_cert_done(L);
            L->in_obj = L->in_cert = 0;
        } else if (L->in_obj) {
            L->bad = 1;
        }
    }
    L->line_start = 1;
    L->marker = 0;
}

static int osb__b64(int c) {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
}

/* Feeds PEM text; returns non-zero once the load failed. */
static int osb__tls_pem_push(osb__pem_load *L, const unsigned char *p, size_t n) {
    size_t i;
    for (i = 0; i < n && !L->failed; i++) {
        int c = p[i], v;
        if (c == '\n') {
            osb__pem_eol(L);
            continue;
        }
        if (L->line_start) {
            L->line_start = 0;
            L->marker = c == '-';
            L->mlen = 0;
            L->mover = 0;
        }
        if (L->marker) {
            if (L->mlen < sizeof L->mline) L->mline[L->mlen++] = (char)c;
            else L->mover = 1;
            continue;
        }
        if (!L->in_cert || L->bad || c == ' ' || c == '\t' || c == '\r') continue;
        if (c == '=') {
            if (L->nacc < 2) { L->bad = 1; continue; }
            L->pads++;
            v = 0;
        } else {
            v = osb__b64(c);
            if (v < 0 || L->pads) { L->bad = 1; continue; }
        }
        L->acc = (L->acc << 6) | (uint32_t)v;
        if (++L->nacc == 4) {
            int k = 3 - L->pads;
            L->out[L->nout++] = (unsigned char)(L->acc >> 16);
            if (k > 1) L->out[L->nout++] = (unsigned char)(L->acc >> 8);
            if (k > 2) L->out[L->nout++] = (unsigned char)L->acc;
            L->acc = 0;
            L->nacc = 0;
            if (L->pads) L->pads = 4; /* nothing may follow the padding */
            if (L->nout > sizeof L->out - 3) osb__pem_flush(L);
        }
    }
    return L->failed != OSB_OK;
}

static void osb__tls_load_begin(osb__pem_load *L, osb__tls_ctx *ctx, const char *what, int strict,
                                osb_error *err) {
    memset(L, 0, sizeof *L);
    L->ctx = ctx;
    L->what = what;
    L->strict = strict;
    L->err = err;
    L->line_start = 1;
    osb_buf_init(&L->dn, &ctx->alloc);
    L->dn.max = 16384;
}

/* Finishes a load: a text that ends inside an object is an error when
 * strict. Returns the number of certificates taken from it, or -1. */
static long osb__tls_load_end(osb__pem_load *L) {
    if (!L->failed && !L->line_start) osb__pem_eol(L);   /* no final newline */
    if (!L->failed && L->in_obj) osb__pem_fail(L, "it ends in the middle of a certificate");
    osb_buf_free(&L->dn);
    return L->failed ? -1 : (long)L->added;
}

static long osb__tls_load_mem(osb__tls_ctx *ctx, const char *pem, size_t len, const char *what,
                              int strict, osb_error *err) {
    osb__pem_load L;
    osb__tls_load_begin(&L, ctx, what, strict, err);
    osb__tls_pem_push(&L, (const unsigned char *)pem, len);
    return osb__tls_load_end(&L);
}

#ifdef _WIN32
/* One DER certificate, taken as if it had come from a PEM file. */
static void osb__tls_load_der(osb__pem_load *L, const unsigned char *der, size_t len) {
    L->bad = 0;
    L->nacc = L->pads = 0;
    L->nout = 0;
    L->dn.len = 0;
    L->dn.failed = OSB_OK;
    br_x509_decoder_init(&L->x509, osb__tls_dn_append, &L->dn);
    for (; len > sizeof L->out && !L->bad; der += sizeof L->out, len -= sizeof L->out) {
        memcpy(L->out, der, sizeof L->out);
        L->nout = sizeof L->out;
        osb__pem_flush(L);
    }
    memcpy(L->out, der, len);               /* the rest goes in at the end */
    L->nout = len;
    osb__pem_cert_done(L);
}

/* The certificates of the system's "ROOT" store (the user's view, which
 * includes the machine's); ones BearSSL cannot use are skipped. Returns -2
 * when the store cannot be opened, else as osb__tls_load_file. */
static long osb__tls_load_windows(osb__tls_ctx *ctx, osb_error *err) {
    osb__pem_load L;
    PCCERT_CONTEXT cert = NULL;
    HCERTSTORE store = CertOpenSystemStoreA(0, "ROOT");
    if (!store) return -2;
    osb__tls_load_begin(&L, ctx, "windows:ROOT", 0, err);
    while (!L.failed && (cert = CertEnumCertificatesInStore(store, cert)) != NULL)
        if (cert->dwCertEncodingType & X509_ASN_ENCODING)
            osb__tls_load_der(&L, cert->pbCertEncoded, cert->cbCertEncoded);
    if (cert) CertFreeCertificateContext(cert);
    CertCloseStore(store, 0);
    return osb__tls_load_end(&L);
}
#endif

/* Returns -2 when the file cannot be opened (errno kept), -1 on a failed
 * load, else the number of certificates taken. */
static long osb__tls_load_file(osb__tls_ctx *ctx, const char *path, int strict, osb_error *err) {
    osb__pem_load L;
    char buf[4096];
    ptrdiff_t got;
    int fd = osb__file_open(path);
    if (fd < 0) return -2;
    osb__tls_load_begin(&L, ctx, path, strict, err);
    while ((got = osb__file_read(fd, buf, sizeof buf)) > 0)
        if (osb__tls_pem_push(&L, (const unsigned char *)buf, (size_t)got)) break;
    if (!L.failed && got < 0) {
        osb__set_error(err, L.failed = OSB_ERR_IO, "trust anchors: cannot read %s", path);
    }
    osb__file_close(fd);
    return osb__tls_load_end(&L);
}

#if OSB__TLS_HAVE_DIR
typedef struct osb__file_id {
    dev_t dev;
    ino_t ino;
} osb__file_id;
#endif

/* Every regular file in a directory; files that are not PEM are ignored.
 * A file reached through several names (OpenSSL's hash links) is read once. */
static long osb__tls_load_dir(osb__tls_ctx *ctx, const char *dir, osb_error *err) {
#if OSB__TLS_HAVE_DIR
    DIR *d = opendir(dir);
    struct dirent *ent;
    long total = 0;
    osb_buf path, seen;
    if (!d) return -2;
    osb_buf_init(&path, &ctx->alloc);
    osb_buf_init(&seen, &ctx->alloc);
    while ((ent = readdir(d)) != NULL) {
        struct stat st;
        osb__file_id id;
        size_t i, n;
        int dup = 0;
        long got;
        if (ent->d_name[0] == '.') continue;
        path.len = 0;
        if (osb_buf_append_str(&path, dir) || osb_buf_append_str(&path, "/") ||
            osb_buf_append_str(&path, ent->d_name)) {
            osb__set_error(err, OSB_ERR_NOMEM, "trust anchors: out of memory");
            total = -1;
            break;
        }
        if (stat(path.data, &st) != 0 || !S_ISREG(st.st_mode)) continue;
        if (st.st_ino != 0) { /* 0 where the platform has no inode numbers */
            memset(&id, 0, sizeof id);
            id.dev = st.st_dev;
            id.ino = st.st_ino;
            n = seen.len / sizeof id;
            for (i = 0; i < n && !dup; i++) {
                osb__file_id other;
                memcpy(&other, seen.data + i * sizeof id, sizeof id);
                dup = other.dev == id.dev && other.ino == id.ino;
            }
            if (dup) continue;
            if (osb_buf_append(&seen, &id, sizeof id)) {
                osb__set_error(err, OSB_ERR_NOMEM, "trust anchors: out of memory");
                total = -1;
                break;
            }
        }
        got = osb__tls_load_file(ctx, path.data, 0, err);
        if (got == -1) { total = -1; break; }
        if (got > 0) total += got;
    }
    closedir(d);
    osb_buf_free(&path);
    osb_buf_free(&seen);
    return total;
#else
    (void)ctx; (void)dir; (void)err;
    return -2;
#endif
}

static void osb__tls_free_anchors(osb__tls_ctx *ctx) {
    size_t i;
    for (i = 0; i < ctx->n; i++) osb__free(&ctx->alloc, ctx->tas[i].dn.data);
    osb__free(&ctx->alloc, ctx->tas);
    ctx->tas = NULL;
    ctx->n = ctx->cap = 0;
}

/* Loads anchors from the first configured source. */
static osb_err osb__tls_load_anchors(osb__tls_ctx *ctx, const osb_tls_config *cfg,
                                     osb_error *err) {
    static const char *const system_paths[] = {
        "/etc/ssl/certs/ca-certificates.crt", "/etc/pki/tls/certs/ca-bundle.crt",
        "/usr/share/ssl/certs/ca-bundle.crt", "/usr/local/share/certs/ca-root-nss.crt",
        "/etc/ssl/cert.pem"};
    const char *env;
    char eb[OSB__ERRNO_BUF];
    long got;
    size_t i;
    if (cfg && (cfg->ca_file || cfg->ca_pem)) {
        long total = 0;
        if (cfg->ca_file) {
            got = osb__tls_load_file(ctx, cfg->ca_file, 1, err);
            if (got == -2) {
                osb__set_error(err, OSB_ERR_TLS, "tls.ca_file %s cannot be opened: %s",
                               cfg->ca_file, osb__errno_text(errno, eb));
                return OSB_ERR_TLS;
            }
            if (got < 0) return err ? err->code : OSB_ERR_TLS;
            total += got;
            osb__copy_field(ctx->source, sizeof ctx->source, cfg->ca_file, strlen(cfg->ca_file));
        }
        if (cfg->ca_pem) {
            size_t len = cfg->ca_pem_len ? cfg->ca_pem_len : strlen(cfg->ca_pem);
            got = osb__tls_load_mem(ctx, cfg->ca_pem, len, "tls.ca_pem", 1, err);
            if (got < 0) return err ? err->code : OSB_ERR_TLS;
            total += got;
            if (cfg->ca_file) {
                size_t used = strlen(ctx->source);
                osb__copy_field(ctx->source + used, sizeof ctx->source - used, " + ca_pem", 9);
            } else {
                osb__copy_field(ctx->source, sizeof ctx->source, "ca_pem", 6);
            }
        }
        if (total == 0) {
            osb__set_error(err, OSB_ERR_TLS,
                           "no trust anchors: %s holds no certificate (verification is never "
                           "skipped)", cfg->ca_file ? cfg->ca_file : "tls.ca_pem");
            return OSB_ERR_TLS;
        }
        return OSB_OK;
    }
    env = getenv("SSL_CERT_FILE");
    if (env && *env) {
        got = osb__tls_load_file(ctx, env, 1, err);
        if (got == -2) {
            osb__set_error(err, OSB_ERR_TLS, "SSL_CERT_FILE=%s cannot be opened: %s", env,
                           osb__errno_text(errno, eb));
            return OSB_ERR_TLS;
        }
        if (got < 0) return err ? err->code : OSB_ERR_TLS;
        if (got == 0) {
            osb__set_error(err, OSB_ERR_TLS, "no trust anchors: SSL_CERT_FILE=%s holds no "
                           "certificate (verification is never skipped)", env);
            return OSB_ERR_TLS;
        }
        osb__copy_field(ctx->source, sizeof ctx->source, env, strlen(env));
        return OSB_OK;
    }
    env = getenv("SSL_CERT_DIR");
    if (env && *env) {
        got = osb__tls_load_dir(ctx, env, err);
        if (got == -2) {
            osb__set_error(err, OSB_ERR_TLS, "SSL_CERT_DIR=%s cannot be opened", env);
            return OSB_ERR_TLS;
        }
        if (got < 0) return err ? err->code : OSB_ERR_TLS;
        if (got == 0) {
            osb__set_error(err, OSB_ERR_TLS, "no trust anchors: SSL_CERT_DIR=%s holds no "
                           "certificate (verification is never skipped)", env);
            return OSB_ERR_TLS;
        }
        osb__copy_field(ctx->source, sizeof ctx->source, env, strlen(env));
        return OSB_OK;
    }
#ifdef _WIN32
    got = osb__tls_load_windows(ctx, err);
    if (got == -1) return err ? err->code : OSB_ERR_TLS;
    if (got > 0) {
        osb__copy_field(ctx->source, sizeof ctx->source, "windows:ROOT", 12);
        return OSB_OK;
    }
#endif
    for (i = 0; i < sizeof system_paths / sizeof system_paths[0]; i++) {
        got = osb__tls_load_file(ctx, system_paths[i], 0, err);
        if (got == -2) continue;
        if (got < 0) return err ? err->code : OSB_ERR_TLS;
        if (got > 0) {
            osb__copy_field(ctx->source, sizeof ctx->source, system_paths[i],
                            strlen(system_paths[i]));
            return OSB_OK;
        }
    }
#ifdef OSB_TLS_EMBEDDED_ANCHORS
    if ((OSB_TLS_EMBEDDED_ANCHORS_NUM) > 0) {
        ctx->use = OSB_TLS_EMBEDDED_ANCHORS;
        ctx->use_n = (size_t)(OSB_TLS_EMBEDDED_ANCHORS_NUM);
        osb__copy_field(ctx->source, sizeof ctx->source, "embedded", 8);
        return OSB_OK;
    }
#endif
    osb__set_error(err, OSB_ERR_TLS,
                   "no trust anchors: set tls.ca_file or tls.ca_pem, or SSL_CERT_FILE or "
                   "SSL_CERT_DIR (no system bundle such as %s was found; verification is "
                   "never skipped)", system_paths[0]);
    return OSB_ERR_TLS;
}

OSB__HELPER void osb__tls_ctx_free(osb__tls_ctx *ctx) {
    osb_allocator a;
    if (!ctx) return;
    a = ctx->alloc;
    osb__tls_free_anchors(ctx);
    osb__free(&a, ctx);
}

OSB__HELPER osb_err osb__tls_ctx_new(const osb_tls_config *cfg, const osb_allocator *a,
                                     osb__tls_ctx **out, osb_error *err) {
    osb__tls_ctx *ctx;
    osb_err e;
    *out = NULL;
    ctx = (osb__tls_ctx *)osb__alloc(a, sizeof *ctx);
    if (!ctx) {
        osb__set_error(err, OSB_ERR_NOMEM, "out of memory creating the TLS context");
        return OSB_ERR_NOMEM;
    }
    memset(ctx, 0, sizeof *ctx);
    if (a) ctx->alloc = *a;
    if (cfg) {
        ctx->insecure = cfg->insecure_skip_verify != 0;
        ctx->now = cfg->now;
        ctx->now_user = cfg->now_user;
        ctx->entropy = cfg->entropy;
        ctx->entropy_user = cfg->entropy_user;
    }
    if (ctx->insecure) {
        osb__copy_field(ctx->source, sizeof ctx->source, "none (insecure_skip_verify)", 27);
    } else {
        e = osb__tls_load_anchors(ctx, cfg, err);
        if (e) {
            if (err) err->phase = OSB_PHASE_TLS;
            osb__tls_ctx_free(ctx);
            return e;
        }
        if (!ctx->use) {
            ctx->use = ctx->tas;
            ctx->use_n = ctx->n;
        }
    }
    *out = ctx;
    return OSB_OK;
}

OSB_API osb_err osb_tls_anchor_count(const osb_tls_config *cfg, size_t *count, char *source,
                                     size_t source_cap, osb_error *err) {
    osb__tls_ctx *ctx = NULL;
    osb_tls_config c;
    osb_err e;
    if (count) *count = 0;
    if (source && source_cap) source[0] = 0;
    if (cfg) c = *cfg;
    else memset(&c, 0, sizeof c);
    c.insecure_skip_verify = 0;
    e = osb__tls_ctx_new(&c, NULL, &ctx, err);
    if (e) return e;
    if (count) *count = ctx->use_n;
    if (source && source_cap)
        osb__copy_field(source, source_cap, ctx->source, strlen(ctx->source));
    osb__tls_ctx_free(ctx);
    return OSB_OK;
}

/* One DER element at p[0..n): its tag, header size and content size. */
static int osb__der_next(const unsigned char *p, size_t n, unsigned *tag, size_t *hdr,
                         size_t *len) {
    size_t l, k, i;
    if (n < 2 || (p[0] & 0x1F) == 0x1F) return 0;
    *tag = p[0];
    if (p[1] < 0x80) {
        l = p[1];
        *hdr = 2;
    } else {
        k = p[1] & 0x7F;
        if (k == 0 || k > 4 || n < 2 + k) return 0;
        for (l = 0, i = 0; i < k; i++) l = (l << 8) | p[2 + i];
        *hdr = 2 + k;
    }
    if (l > n - *hdr) return 0;
    *len = l;
    return 1;
}

/* 1 if the DER certificate has an iPAddress SAN equal to ip, 0 if not,
 * -1 if the certificate cannot be parsed this far. */
static int osb__tls_cert_has_ip(const unsigned char *cert, size_t n, const unsigned char *ip,
                                size_t ip_len) {
    static const unsigned char san_oid[] = {0x06, 0x03, 0x55, 0x1D, 0x11};
    unsigned tag;
    size_t hdr, len;
    const unsigned char *p, *end;
    if (!osb__der_next(cert, n, &tag, &hdr, &len) || tag != 0x30) return -1;
    p = cert + hdr;                                   /* Certificate content */
    if (!osb__der_next(p, len, &tag, &hdr, &len) || tag != 0x30) return -1;
    end = p + hdr + len;                              /* TBSCertificate */
    p += hdr;
    while (p < end) {
        if (!osb__der_next(p, (size_t)(end - p), &tag, &hdr, &len)) return -1;
        if (tag == 0xA3) {                            /* [3] extensions */
            const unsigned char *q = p + hdr, *qend;
            size_t ehdr, elen;
            if (!osb__der_next(q, len, &tag, &ehdr, &elen) || tag != 0x30) return -1;
            qend = q + ehdr + elen;
            q += ehdr;
            while (q < qend) {                        /* each Extension */
                const unsigned char *x, *xend;
                size_t xh, xl;
                if (!osb__der_next(q, (size_t)(qend - q), &tag, &xh, &xl) || tag != 0x30)
                    return -1;
                x = q + xh;
                xend = x + xl;
                q = xend;
                if ((size_t)(xend - x) < sizeof san_oid ||
                    memcmp(x, san_oid, sizeof san_oid) != 0)
                    continue;
                x += sizeof san_oid;
                if (!osb__der_next(x, (size_t)(xend - x), &tag, &xh, &xl)) return -1;
                if (tag == 0x01) {                    /* critical flag */
                    x += xh + xl;
                    if (!osb__der_next(x, (size_t)(xend - x), &tag, &xh, &xl)) return -1;
                }
                if (tag != 0x04) return -1;           /* extnValue */
                x += xh;
                if (!osb__der_next(x, xl, &tag, &xh, &xl) || tag != 0x30) return -1;
                xend = x + xh + xl;                   /* GeneralNames */
                x += xh;
                while (x < xend) {
                    if (!osb__der_next(x, (size_t)(xend - x), &tag, &xh, &xl)) return -1;
                    if (tag == 0x87 && xl == ip_len && memcmp(x + xh, ip, ip_len) == 0)
                        return 1;
                    x += xh + xl;
                }
                return 0;
            }
            return 0;
        }
        p += hdr + len;
    }
    return 0;
}

/* ---- the X.509 wrapper ----------------------------------------------------
 * Chain validation is BearSSL's "minimal" engine. The wrapper adds the clock
 * hook, the iPAddress check for IP-literal hosts, and (tests only) the
 * insecure mode, which decodes the server's key without any check. */

enum { OSB__X509_NAME = 0, OSB__X509_IP = 1, OSB__X509_INSECURE = 2 };

typedef struct osb__x509 {
    const br_x509_class *vtable;      /* must stay first */
    union {
        br_x509_minimal_context minimal;
        br_x509_decoder_context decoder;
    } u;
    int mode;
    unsigned cert_index;
    unsigned own_err;                 /* set by the wrapper itself */
    const osb__tls_ctx *ctx;
    unsigned char ip[16];
    size_t ip_len;
    unsigned char *ee;                /* IP mode: the end-entity certificate */
    size_t ee_len, ee_cap;
    int ee_over;
} osb__x509;

#define OSB__X509_SELF(ctx) ((osb__x509 *)(void *)(ctx))

/* Days from 0000-01-01 (proleptic Gregorian) to 1970-01-01. */
#define OSB__TLS_EPOCH_DAYS 719528

static void osb__x509_start_chain(const br_x509_class **ctx, const char *server_name) {
    osb__x509 *x = OSB__X509_SELF(ctx);
    x->cert_index = 0;
    x->own_err = 0;
    x->ee_len = 0;
    x->ee_over = 0;
    if (x->mode == OSB__X509_INSECURE) {
        br_x509_decoder_init(&x->u.decoder, 0, NULL);
        return;
    }
    {
        int64_t now = x->ctx->now ? x->ctx->now(x->ctx->now_user) : (int64_t)time(NULL);
        if (now < 0 || now > (int64_t)253402300799) { /* unknown, or past year 9999 */
            x->own_err = BR_ERR_X509_TIME_UNKNOWN;
        } else {
            br_x509_minimal_set_time(&x->u.minimal,
                                     (uint32_t)(now / 86400 + OSB__TLS_EPOCH_DAYS),
                                     (uint32_t)(now % 86400));
        }
    }
    x->u.minimal.vtable->start_chain(&x->u.minimal.vtable,
                                     x->mode == OSB__X509_IP ? NULL : server_name);
}

static void osb__x509_start_cert(const br_x509_class **ctx, uint32_t length) {
    osb__x509 *x = OSB__X509_SELF(ctx);
    if (x->mode == OSB__X509_INSECURE) return;
    if (x->mode == OSB__X509_IP && x->cert_index == 0 && length > x->ee_cap) x->ee_over = 1;
    x->u.minimal.vtable->start_cert(&x->u.minimal.vtable, length);
}

static void osb__x509_append(const br_x509_class **ctx, const unsigned char *buf, size_t len) {
    osb__x509 *x = OSB__X509_SELF(ctx);
    if (x->mode == OSB__X509_INSECURE) {
        if (x->cert_index == 0 && !osb__x509_decoder_feed(&x->u.decoder, buf, len) &&
            br_x509_decoder_last_error(&x->u.decoder) == 0)
            x->own_err = BR_ERR_X509_EXTRA_ELEMENT; /* bytes after the certificate */
        return;
    }
    if (x->mode == OSB__X509_IP && x->cert_index == 0 && !x->ee_over) {
        if (len > x->ee_cap - x->ee_len) {
            x->ee_over = 1;
        } else {
            memcpy(x->ee + x->ee_len, buf, len);
            x->ee_len += len;
        }
    }
    x->u.minimal.vtable->append(&x->u.minimal.vtable, buf, len);
}

static void osb__x509_end_cert(const br_x509_class **ctx) {
    osb__x509 *x = OSB__X509_SELF(ctx);
    if (x->mode != OSB__X509_INSECURE) x->u.minimal.vtable->end_cert(&x->u.minimal.vtable);
    x->cert_index++;
}

static unsigned osb__x509_end_chain(const br_x509_class **ctx) {
    osb__x509 *x = OSB__X509_SELF(ctx);
    unsigned r;
    if (x->mode == OSB__X509_INSECURE) {
        int e = br_x509_decoder_last_error(&x->u.decoder);
        if (x->cert_index == 0) return BR_ERR_X509_EMPTY_CHAIN;
        if (x->own_err) return x->own_err;
        return e ? (unsigned)e : 0;
    }
    r = x->u.minimal.vtable->end_chain(&x->u.minimal.vtable);
    if (x->own_err) return x->own_err;
    if (r) return r;
    if (x->mode == OSB__X509_IP) {
        int m;
        if (x->ee_over) return BR_ERR_X509_LIMIT_EXCEEDED;
        m = osb__tls_cert_has_ip(x->ee, x->ee_len, x->ip, x->ip_len);
        if (m < 0) return BR_ERR_X509_INVALID_VALUE;
        if (m == 0) return BR_ERR_X509_BAD_SERVER_NAME;
    }
    return 0;
}

static const br_x509_pkey *osb__x509_get_pkey(const br_x509_class *const *ctx, unsigned *usages) {
    osb__x509 *x = (osb__x509 *)(void *)(uintptr_t)ctx;
    if (x->mode == OSB__X509_INSECURE) {
        if (usages) *usages = BR_KEYTYPE_KEYX | BR_KEYTYPE_SIGN;
        return br_x509_decoder_get_pkey(&x->u.decoder);
    }
    return x->u.minimal.vtable->get_pkey(&x->u.minimal.vtable, usages);
}

static const br_x509_class osb__x509_vtable = {
    sizeof(osb__x509),     osb__x509_start_chain, osb__x509_start_cert, osb__x509_append,
    osb__x509_end_cert,    osb__x509_end_chain,   osb__x509_get_pkey};

/* ---- connections ------------------------------------------------------- */

typedef struct osb__tls_conn {
    br_ssl_client_context sc;
    osb__x509 x509;
    char host[256];
    int handshake_done;
    int sent_failed;                  /* a record could not be sent */
    int got_app;                      /* application bytes came since the last send */
    unsigned char first[8];           /* the first bytes the server sent */
    size_t nfirst;
    unsigned char iobuf[OSB__TLS_IOBUF];
    unsigned char ee[1];              /* IP mode: OSB_TLS_MAX_CERT bytes follow */
} osb__tls_conn;

static const uint16_t osb__tls_suites[] = {
    BR_TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
    BR_TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
    BR_TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
    BR_TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
    BR_TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,   /* these two last: left out */
    BR_TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,     /* without ChaCha20 code */
};

#if OSB_TLS_SMALL_EC
/* OSB_TLS_SMALL_EC: the same curves through BearSSL's generic 31-bit code
 * (X25519: br_ec_c25519_i31, P-256/P-384/P-521: br_ec_prime_i31) instead of
 * the P-256 and X25519 code specialised for speed: 9 KB less, each curve
 * operation several times slower. */
static const br_ec_impl *osb__ec_of(int curve) {
    return curve == BR_EC_curve25519 ? &br_ec_c25519_i31 : &br_ec_prime_i31;
}
static const unsigned char *osb__ec_generator(int curve, size_t *len) {
    return osb__ec_of(curve)->generator(curve, len);
}
static const unsigned char *osb__ec_order(int curve, size_t *len) {
    return osb__ec_of(curve)->order(curve, len);
}
static size_t osb__ec_xoff(int curve, size_t *len) {
    return osb__ec_of(curve)->xoff(curve, len);
}
static uint32_t osb__ec_mul(unsigned char *g, size_t glen, const unsigned char *x, size_t xlen, int curve) {
    return osb__ec_of(curve)->mul(g, glen, x, xlen, curve);
}
static size_t osb__ec_mulgen(unsigned char *r, const unsigned char *x, size_t xlen, int curve) {
    return osb__ec_of(curve)->mulgen(r, x, xlen, curve);
}
static uint32_t osb__ec_muladd(unsigned char *a, const unsigned char *b, size_t len, const unsigned char *x,
                               size_t xlen, const unsigned char *y, size_t ylen, int curve) {
    return osb__ec_of(curve)->muladd(a, b, len, x, xlen, y, ylen, curve);
}
static const br_ec_impl osb__ec_small = {
    (uint32_t)1 << BR_EC_secp256r1 | (uint32_t)1 << BR_EC_secp384r1 | (uint32_t)1 << BR_EC_secp521r1 |
        (uint32_t)1 << BR_EC_curve25519,
    osb__ec_generator, osb__ec_order, osb__ec_xoff, osb__ec_mul, osb__ec_mulgen, osb__ec_muladd};
#  define OSB__TLS_EC (&osb__ec_small)
#else
#  define OSB__TLS_EC br_ec_get_default()
#endif

/* ChaCha20 and Poly1305 as br_ssl_engine_set_default_chapol picks them,
 * without linking the portable code where the fast one always exists:
 * SSE2 ChaCha20 on x86-64, the 128-bit multiply Poly1305 on 64-bit
 * compilers (BearSSL's own test for it). 0 when none is at hand: the
 * ChaCha20 suites are then not offered. */
static int osb__tls_set_chapol(br_ssl_engine_context *eng) {
    br_chacha20_run chacha = br_chacha20_sse2_get();
#if OSB_TLS_SMALL_CIPHERS
    br_poly1305_run poly = &br_poly1305_ctmul_run;
#else
    br_poly1305_run poly = br_poly1305_ctmulq_get();
#endif
#if !defined(__x86_64__) && !defined(_M_X64)
    if (!chacha) chacha = &br_chacha20_ct_run;
#endif
#if !defined(__SIZEOF_INT128__) && !defined(_M_X64) && !OSB_TLS_SMALL_CIPHERS
    if (!poly) poly = &br_poly1305_ctmul_run;
#endif
    if (!chacha || !poly) return 0;
    br_ssl_engine_set_chapol(eng, &br_sslrec_in_chapol_vtable, &br_sslrec_out_chapol_vtable);
    br_ssl_engine_set_chacha20(eng, chacha);
    br_ssl_engine_set_poly1305(eng, poly);
    return 1;
}

/* AES-GCM: with OSB_TLS_SMALL_CIPHERS BearSSL's portable constant-time AES
 * and GHASH only (what br_ssl_engine_set_default_aes_gcm uses on CPUs
 * without AES instructions), else the CPU's instructions where it has them. */
static void osb__tls_set_gcm(br_ssl_engine_context *eng) {
#if OSB_TLS_SMALL_CIPHERS
    br_ssl_engine_set_gcm(eng, &br_sslrec_in_gcm_vtable, &br_sslrec_out_gcm_vtable);
#  if UINTPTR_MAX > 0xffffffffu
    br_ssl_engine_set_aes_ctr(eng, &br_aes_ct64_ctr_vtable);
    br_ssl_engine_set_ghash(eng, &br_ghash_ctmul64);
#  else
    br_ssl_engine_set_aes_ctr(eng, &br_aes_ct_ctr_vtable);
    br_ssl_engine_set_ghash(eng, &br_ghash_ctmul);
#  endif
#else
    br_ssl_engine_set_default_aes_gcm(eng);
#endif
}

/* Sets up the engine and the X.509 checks of one connection. RSA
 * signatures are checked with the 31-bit code: a public exponent is small,
 * and the 62-bit code would add 3 KB for no measurable gain. */
static void osb__tls_setup(osb__tls_conn *t, const osb__tls_ctx *ctx) {
    br_ssl_engine_context *eng = &t->sc.eng;
    br_x509_minimal_context *xc = &t->x509.u.minimal;
    br_ssl_client_zero(&t->sc);
    br_ssl_engine_set_versions(eng, BR_TLS12, BR_TLS12);
    br_ssl_engine_set_suites(eng, osb__tls_suites,
                             sizeof osb__tls_suites / sizeof osb__tls_suites[0] - (osb__tls_set_chapol(eng) ? 0 : 2));
    br_ssl_engine_set_hash(eng, br_sha256_ID, &br_sha256_vtable);
    br_ssl_engine_set_hash(eng, br_sha384_ID, &br_sha384_vtable);
    br_ssl_engine_set_hash(eng, br_sha512_ID, &br_sha512_vtable);
    br_ssl_engine_set_prf_sha256(eng, &br_tls12_sha256_prf);
    br_ssl_engine_set_prf_sha384(eng, &br_tls12_sha384_prf);
    osb__tls_set_gcm(eng);
    br_ssl_engine_set_ec(eng, OSB__TLS_EC);
    br_ssl_engine_set_rsavrfy(eng, &br_rsa_i31_pkcs1_vrfy);
    br_ssl_engine_set_ecdsa(eng, br_ecdsa_vrfy_asn1_get_default());   /* set_default_ecdsa would
                                                                        also reset the curves */
    br_ssl_engine_add_flags(eng, BR_OPT_NO_RENEGOTIATION);

    t->x509.vtable = &osb__x509_vtable;
    t->x509.ctx = ctx;
    if (ctx->insecure) {
        t->x509.mode = OSB__X509_INSECURE;
    } else {
        br_x509_minimal_init(xc, &br_sha256_vtable, ctx->use, ctx->use_n);
        br_x509_minimal_set_hash(xc, br_sha256_ID, &br_sha256_vtable);
        br_x509_minimal_set_hash(xc, br_sha384_ID, &br_sha384_vtable);
        br_x509_minimal_set_hash(xc, br_sha512_ID, &br_sha512_vtable);
        br_x509_minimal_set_rsa(xc, &br_rsa_i31_pkcs1_vrfy);
        br_x509_minimal_set_ecdsa(xc, OSB__TLS_EC, br_ecdsa_vrfy_asn1_get_default());
    }
    br_ssl_engine_set_x509(eng, &t->x509.vtable);
    br_ssl_engine_set_buffer(eng, t->iobuf, sizeof t->iobuf, !OSB_TLS_HALF_DUPLEX);
}

static int osb__tls_looks_like_http(const osb__tls_conn *t) {
    return t->nfirst >= 5 && memcmp(t->first, "HTTP/", 5) == 0;
}

/* Fills err from the engine's error code. */
static osb_err osb__tls_engine_error(osb__tls_conn *t, osb_error *err) {
    int e = br_ssl_engine_last_error(&t->sc.eng);
    if (!t->handshake_done && osb__tls_looks_like_http(t)) {
        osb__set_error(err, OSB_ERR_TLS,
                       "TLS handshake with %s: the server answered in plain HTTP, not TLS "
                       "(use http:// for this port?)", t->host);
    } else if (e == BR_ERR_X509_BAD_SERVER_NAME && t->x509.mode == OSB__X509_IP) {
        osb__set_error(err, OSB_ERR_TLS,
                       "TLS handshake with %s failed: the server's certificate has no "
                       "iPAddress SAN for %s (a DNS name spelling the address does not count; "
                       "BearSSL error %d)", t->host, t->host, e);
    } else if (t->handshake_done) {
        osb__set_error(err, OSB_ERR_TLS, "TLS connection to %s failed: %s (BearSSL error %d)",
                       t->host, osb_tls_strerror(e), e);
    } else {
        osb__set_error(err, OSB_ERR_TLS, "TLS handshake with %s failed: %s (BearSSL error %d)",
                       t->host, osb_tls_strerror(e), e);
    }
    if (err) {
        err->tls_error = e;
        err->phase = OSB_PHASE_TLS;
    }
    return OSB_ERR_TLS;
}

/* Sends every record the engine has ready. */
static osb_err osb__tls_flush_records(osb__conn *c, osb__tls_conn *t, int64_t deadline_ms,
                                      int lenient, osb_error *err) {
    for (;;) {
        size_t len, sent;
        unsigned char *buf;
        osb_err e;
        if (!(br_ssl_engine_current_state(&t->sc.eng) & BR_SSL_SENDREC)) return OSB_OK;
        buf = br_ssl_engine_sendrec_buf(&t->sc.eng, &len);
        e = osb__sock_send_some(c, buf, len, &sent, deadline_ms, err);
        if (e) {
            /* While reading, what the engine sends is an alert or a
             * close_notify answer: losing it is harmless and the next read
             * tells what happened. A deadline or a cancel is reported. */
            if (!lenient || e != OSB_ERR_CONNECT) return e;
            t->sent_failed = 1;
            sent = len;
        }
        br_ssl_engine_sendrec_ack(&t->sc.eng, sent);
    }
}

/* Reads records from the socket into the engine. *eof is set on a TCP EOF. */
static osb_err osb__tls_read_records(osb__conn *c, osb__tls_conn *t, int64_t deadline_ms,
                                     osb_phase phase, int *eof, osb_error *err) {
    size_t len, got = 0;
    unsigned char *buf = br_ssl_engine_recvrec_buf(&t->sc.eng, &len);
    osb_err e = osb__sock_recv_some(c, buf, len, &got, deadline_ms, phase, err);
    *eof = 0;
    if (e) return e;
    if (got == 0) {
        *eof = 1;
        return OSB_OK;
    }
    if (t->nfirst < sizeof t->first) {
        size_t k = OSB__MIN(got, sizeof t->first - t->nfirst);
        memcpy(t->first + t->nfirst, buf, k);
        t->nfirst += k;
    }
    br_ssl_engine_recvrec_ack(&t->sc.eng, got);
    return OSB_OK;
}

OSB__HELPER void osb__tls_close(osb__conn *c, const osb_allocator *a) {
    osb__tls_conn *t;
    if (!c || !c->tls) return;
    t = (osb__tls_conn *)c->tls;
    if (t->handshake_done && !t->sent_failed &&
        !(br_ssl_engine_current_state(&t->sc.eng) & BR_SSL_CLOSED)) {
        /* best effort close_notify, without waiting for the answer */
        osb_error ignored;
        br_ssl_engine_close(&t->sc.eng);
        (void)osb__tls_flush_records(c, t, osb__now_ms() + 200, 0, &ignored);
    }
    osb__free(a, t);
    c->tls = NULL;
}

OSB__HELPER osb_err osb__tls_handshake(osb__tls_ctx *ctx, osb__conn *c, int64_t deadline_ms, osb_error *err);

/* Sets up the TLS session of a connection (c->tls); the handshake is
 * osb__tls_handshake's. */
OSB__HELPER osb_err osb__tls_start(osb__tls_ctx *ctx, osb__conn *c, const char *host, osb_error *err) {
    osb__tls_conn *t;
    size_t hlen, size, ip_len;
    unsigned char ip[16];
    const char *sni;
    if (!ctx || !c || !host || !*host) {
        osb__set_error(err, OSB_ERR_INVALID_ARG, "TLS: no host name to verify");
        return OSB_ERR_INVALID_ARG;
    }
    hlen = strlen(host);
    if (hlen >= sizeof t->host) {
        osb__set_error(err, OSB_ERR_INVALID_ARG, "TLS: host name too long (%lu bytes)",
                       (unsigned long)hlen);
        return OSB_ERR_INVALID_ARG;
    }
    ip_len = osb__parse_ip(host, ip);
    size = sizeof *t + (ip_len && !ctx->insecure ? OSB_TLS_MAX_CERT : 0);
    t = (osb__tls_conn *)osb__alloc(&ctx->alloc, size);
    if (!t) {
        osb__set_error(err, OSB_ERR_NOMEM, "out of memory for a TLS connection");
        return OSB_ERR_NOMEM;
    }
    memset(t, 0, sizeof *t);
    memcpy(t->host, host, hlen + 1);
    /* "example.com." names the same host; certificates carry no final dot */
    if (hlen > 1 && t->host[hlen - 1] == '.') t->host[hlen - 1] = 0;
    osb__tls_setup(t, ctx);
    sni = t->host;
    if (ip_len) {
        sni = NULL; /* no SNI for an address; the wrapper checks iPAddress SANs */
        if (!ctx->insecure) {
            t->x509.mode = OSB__X509_IP;
            memcpy(t->x509.ip, ip, ip_len);
            t->x509.ip_len = ip_len;
            t->x509.ee = t->ee;
            t->x509.ee_cap = OSB_TLS_MAX_CERT;
        }
    }
    if (ctx->entropy) {
        unsigned char seed[32];
        if (ctx->entropy(ctx->entropy_user, seed, sizeof seed) != 0) {
            osb__free(&ctx->alloc, t);
            osb__set_error(err, OSB_ERR_TLS, "TLS: the tls.entropy callback failed");
            if (err) { err->tls_error = BR_ERR_NO_RANDOM; err->phase = OSB_PHASE_TLS; }
            return OSB_ERR_TLS;
        }
        br_ssl_engine_inject_entropy(&t->sc.eng, seed, sizeof seed);
        memset(seed, 0, sizeof seed);
    }
    if (!br_ssl_client_reset(&t->sc, sni, 0)) {
        int e = br_ssl_engine_last_error(&t->sc.eng);
        osb__free(&ctx->alloc, t);
        if (e == BR_ERR_NO_RANDOM)
            osb__set_error(err, OSB_ERR_TLS, "TLS: no entropy: the OS gave no random bytes "
                                             "and tls.entropy is not set");
        else
            osb__set_error(err, OSB_ERR_TLS, "TLS: cannot start the handshake: %s (BearSSL "
                                             "error %d)", osb_tls_strerror(e), e);
        if (err) { err->tls_error = e; err->phase = OSB_PHASE_TLS; }
        return OSB_ERR_TLS;
    }
    c->tls = t;
    return OSB_OK;
}

OSB__HELPER osb_err osb__tls_open(osb__tls_ctx *ctx, osb__conn *c, const char *host,
                                  int64_t deadline_ms, osb_error *err) {
    osb_err e = osb__tls_start(ctx, c, host, err);
    return e ? e : osb__tls_handshake(ctx, c, deadline_ms, err);
}

/* Drives the handshake until the engine accepts application data. The
 * engine keeps the state: on a multi's connection OSB__AGAIN returns with
 * everything in place, to be called again once the socket is ready. Any
 * failure closes the TLS session. */
OSB__HELPER osb_err osb__tls_handshake(osb__tls_ctx *ctx, osb__conn *c, int64_t deadline_ms, osb_error *err) {
    osb__tls_conn *t = (osb__tls_conn *)c->tls;
    const char *host = t->host;
    for (;;) {
        unsigned st = br_ssl_engine_current_state(&t->sc.eng);
        osb_err e;
        int eof;
        if (st & BR_SSL_CLOSED) {
            int be = br_ssl_engine_last_error(&t->sc.eng);
            if (be == 0) {
                osb__set_error(err, OSB_ERR_TLS,
                               "TLS handshake with %s: the server closed the session", host);
                if (err) { err->tls_error = 0; err->phase = OSB_PHASE_TLS; }
                e = OSB_ERR_TLS;
            } else {
                e = osb__tls_engine_error(t, err);
            }
            osb__tls_close(c, &ctx->alloc);
            return e;
        }
        if (st & BR_SSL_SENDREC) {
            e = osb__tls_flush_records(c, t, deadline_ms, 0, err);
        } else if (st & BR_SSL_SENDAPP) {
            t->handshake_done = 1;
            return OSB_OK;
        } else if (st & BR_SSL_RECVREC) {
            e = osb__tls_read_records(c, t, deadline_ms, OSB_PHASE_TLS, &eof, err);
            if (!e && eof) {
                if (osb__tls_looks_like_http(t))
                    osb__set_error(err, OSB_ERR_TLS,
                                   "TLS handshake with %s: the server answered in plain HTTP, "
                                   "not TLS (use http:// for this port?)", host);
                else
                    osb__set_error(err, OSB_ERR_TLS,
                                   "TLS handshake with %s: the server closed the connection "
                                   "(does it speak TLS 1.2 on this port?)", host);
                if (err) { err->tls_error = BR_ERR_IO; err->phase = OSB_PHASE_TLS; }
                e = OSB_ERR_TLS;
            }
        } else {
            osb__set_error(err, OSB_ERR_TLS, "TLS handshake with %s: engine stalled", host);
            e = OSB_ERR_TLS;
        }
        if (e) {
            if (e == OSB__AGAIN) return e;
            if (e == OSB_ERR_TIMEOUT) {
                if (err) err->phase = OSB_PHASE_TLS;
            } else if (e == OSB_ERR_CONNECT) {
                /* reset or closed under the handshake */
                char msg[sizeof err->message];
                if (err) memcpy(msg, err->message, sizeof msg);
                else msg[0] = 0;
                osb__set_error(err, OSB_ERR_TLS, "TLS handshake with %s: connection lost (%s)",
                               host, msg);
                if (err) { err->tls_error = BR_ERR_IO; err->phase = OSB_PHASE_TLS; }
                e = OSB_ERR_TLS;
            }
            osb__tls_close(c, &ctx->alloc);
            return e;
        }
    }
}

/* Where osb__tls_send_src takes its plaintext: memory (p), or a reader
 * that writes straight into the engine's record buffer (no staging copy;
 * cancel, if set, is checked before each record). */
typedef struct osb__tls_src {
    const unsigned char *p;
    osb_read_fn read;
    void *user;
    const volatile int *cancel;
} osb__tls_src;

OSB__HELPER osb_err osb__tls_send_src(osb__conn *c, osb__tls_src *src, uint64_t len,
                                      int64_t deadline_ms, osb_error *err) {
    osb__tls_conn *t = (osb__tls_conn *)c->tls;
    if (!t) {
        osb__set_error(err, OSB_ERR_STATE, "TLS: the connection has no TLS session");
        return OSB_ERR_STATE;
    }
    for (;;) {
        unsigned st = br_ssl_engine_current_state(&t->sc.eng);
        osb_err e;
        if (st & BR_SSL_CLOSED) {
            if (br_ssl_engine_last_error(&t->sc.eng) == 0) {
                osb__set_error(err, OSB_ERR_CLOSED, "TLS: %s closed the session", t->host);
                return OSB_ERR_CLOSED;
            }
            return osb__tls_engine_error(t, err);
        }
        if (st & BR_SSL_SENDREC) {
            e = osb__tls_flush_records(c, t, deadline_ms, 0, err);
            if (e) return e;
            continue;
        }
        if (len == 0) return OSB_OK;
        if (st & BR_SSL_SENDAPP) {
            size_t avail, n;
            unsigned char *dst = br_ssl_engine_sendapp_buf(&t->sc.eng, &avail);
            n = (size_t)OSB__MIN((uint64_t)avail, len);
            if (src->read) {
                ptrdiff_t got;
                if (src->cancel && *src->cancel) {
                    osb__set_error(err, OSB_ERR_CANCELLED, "cancelled");
                    return OSB_ERR_CANCELLED;
                }
                got = src->read(src->user, dst, n);
                if (got <= 0 || (size_t)got > n) {
                    osb__set_error(err, OSB_ERR_IO, got == 0 ? "the request body reader ended early"
                                                             : "the request body reader failed");
                    return OSB_ERR_IO;
                }
                n = (size_t)got;
            } else {
                memcpy(dst, src->p, n);
                src->p += n;
            }
            br_ssl_engine_sendapp_ack(&t->sc.eng, n);
            t->got_app = 0;
            len -= n;
            if (len == 0) br_ssl_engine_flush(&t->sc.eng, 0);
            continue;
        }
        if (st & BR_SSL_RECVREC) {
            /* half duplex: the engine must read before it can write */
            int eof;
            e = osb__tls_read_records(c, t, deadline_ms, OSB_PHASE_SEND, &eof, err);
            if (e) return e;
            if (eof) {
                osb__set_error(err, OSB_ERR_CLOSED, "TLS: %s closed the connection", t->host);
                return OSB_ERR_CLOSED;
            }
            continue;
        }
        osb__set_error(err, OSB_ERR_TLS, "TLS: engine stalled while sending");
        return OSB_ERR_TLS;
    }
}

OSB__HELPER osb_err osb__tls_send_all(osb__conn *c, const void *buf, size_t len,
                                      int64_t deadline_ms, osb_error *err) {
    osb__tls_src src;
    memset(&src, 0, sizeof src);
    src.p = (const unsigned char *)buf;
    return osb__tls_send_src(c, &src, len, deadline_ms, err);
}

OSB__HELPER osb_err osb__tls_recv_some(osb__conn *c, void *buf, size_t cap, size_t *got,
                                       int64_t deadline_ms, osb_phase phase, osb_error *err) {
    osb__tls_conn *t = (osb__tls_conn *)c->tls;
    *got = 0;
    if (!t) {
        osb__set_error(err, OSB_ERR_STATE, "TLS: the connection has no TLS session");
        return OSB_ERR_STATE;
    }
    for (;;) {
        unsigned st = br_ssl_engine_current_state(&t->sc.eng);
        osb_err e;
        if (st & BR_SSL_RECVAPP) {
            size_t avail, n;
            unsigned char *src = br_ssl_engine_recvapp_buf(&t->sc.eng, &avail);
            if (cap == 0) return OSB_OK;
            n = OSB__MIN(avail, cap);
            memcpy(buf, src, n);
            br_ssl_engine_recvapp_ack(&t->sc.eng, n);
            t->got_app = 1;
            *got = n;
            return OSB_OK;
        }
        if (st & BR_SSL_CLOSED) {
            if (br_ssl_engine_last_error(&t->sc.eng) == 0) return OSB_OK; /* close_notify */
            return osb__tls_engine_error(t, err);
        }
        if (st & BR_SSL_SENDREC) {
            e = osb__tls_flush_records(c, t, deadline_ms, 1, err);
            if (e) return e;
            continue;
        }
        if (st & BR_SSL_RECVREC) {
            int eof;
            e = osb__tls_read_records(c, t, deadline_ms, phase, &eof, err);
            if (e) return e;
            if (eof) {
                /* No byte since the request went out: the server dropped the
                 * connection without answering (an idle keep-alive connection
                 * it had closed). Reported as a plain EOF so the caller sees
                 * "closed without a response"; nothing can be mistaken for a
                 * complete reply. After reply bytes it is a truncation. */
                if (!t->got_app) return OSB_OK;
                osb__set_error(err, OSB_ERR_TRUNCATED,
                               "TLS: %s closed the connection without close_notify "
                               "(the response may be cut short)", t->host);
                return OSB_ERR_TRUNCATED;
            }
            continue;
        }
        osb__set_error(err, OSB_ERR_TLS, "TLS: engine stalled while receiving");
        return OSB_ERR_TLS;
    }
}

OSB__HELPER int osb__tls_pending(osb__conn *c) {
    osb__tls_conn *t = c ? (osb__tls_conn *)c->tls : NULL;
    size_t avail = 0;
    if (!t) return 0;
    if (br_ssl_engine_current_state(&t->sc.eng) & BR_SSL_RECVAPP)
        (void)br_ssl_engine_recvapp_buf(&t->sc.eng, &avail);
    return avail > 0x7fffffff ? 0x7fffffff : (int)avail;
}

/* Bytes one TLS connection allocates (for documentation and tests). */
OSB__HELPER size_t osb__tls_conn_size(int ip_host) {
    return sizeof(osb__tls_conn) + (ip_host ? OSB_TLS_MAX_CERT : 0);
}

#else /* !OSB_TLS: every entry point says how to get TLS */

typedef struct osb__tls_ctx osb__tls_ctx;

#define OSB__TLS_OFF_MSG "https needs TLS, which this build leaves out: compile with -DOSB_TLS=1 and link -lbearssl"

OSB_API osb_err osb_tls_anchor_count(const osb_tls_config *cfg, size_t *count, char *source,
                                     size_t source_cap, osb_error *err) {
    (void)cfg;
    if (count) *count = 0;
    if (source && source_cap) source[0] = 0;
    osb__set_error(err, OSB_ERR_UNSUPPORTED, OSB__TLS_OFF_MSG);
    return OSB_ERR_UNSUPPORTED;
}

OSB__HELPER osb_err osb__tls_ctx_new(const osb_tls_config *cfg, const osb_allocator *a,
                                     osb__tls_ctx **out, osb_error *err) {
    (void)cfg; (void)a;
    *out = NULL;
    osb__set_error(err, OSB_ERR_UNSUPPORTED, OSB__TLS_OFF_MSG);
    return OSB_ERR_UNSUPPORTED;
}

OSB__HELPER void osb__tls_ctx_free(osb__tls_ctx *ctx) { (void)ctx; }

OSB__HELPER osb_err osb__tls_open(osb__tls_ctx *ctx, osb__conn *c, const char *host,
                                  int64_t deadline_ms, osb_error *err) {
    (void)ctx; (void)c; (void)host; (void)deadline_ms;
    osb__set_error(err, OSB_ERR_UNSUPPORTED, OSB__TLS_OFF_MSG);
    return OSB_ERR_UNSUPPORTED;
}

OSB__HELPER osb_err osb__tls_send_all(osb__conn *c, const void *buf, size_t len,
                                      int64_t deadline_ms, osb_error *err) {
    (void)c; (void)buf; (void)len; (void)deadline_ms;
    osb__set_error(err, OSB_ERR_UNSUPPORTED, OSB__TLS_OFF_MSG);
    return OSB_ERR_UNSUPPORTED;
}

OSB__HELPER osb_err osb__tls_recv_some(osb__conn *c, void *buf, size_t cap, size_t *got,
                                       int64_t deadline_ms, osb_phase phase, osb_error *err) {
    (void)c; (void)buf; (void)cap; (void)deadline_ms; (void)phase;
    *got = 0;
    osb__set_error(err, OSB_ERR_UNSUPPORTED, OSB__TLS_OFF_MSG);
    return OSB_ERR_UNSUPPORTED;
}

OSB__HELPER int osb__tls_pending(osb__conn *c) { (void)c; return 0; }

OSB__HELPER void osb__tls_close(osb__conn *c, const osb_allocator *a) { (void)c; (void)a; }

#endif /* OSB_TLS */

/* ---- URLs ---- */

/* Why a host cannot be used as it is written, or NULL. An address must
 * read the same to every part that reads it: the resolver of the C library
 * takes "010.0.0.1" as 8.0.0.1 (octal), "0x7f.1" and "127.1" as 127.0.0.1,
 * while a certificate check or a person reads them otherwise. So a host
 * whose last label is a number (as the URL standard decides) must be an
 * IPv4 address in the one plain form, and a bracketed host an IPv6 one. */
static const char *osb__host_problem(const char *host, int bracketed) {
    unsigned char ip[16];
    const char *label, *end;
    if (bracketed)
        return osb__parse_ip(host, ip) == 16 && !strchr(host, '%') ? NULL
               : "a host in brackets must be an IPv6 address (without a zone)";
    for (label = host; *label; label++)
        if ((unsigned char)*label <= 0x20 || *label == 0x7f || strchr("@?#%/\\[]", *label))
            return "the host holds a character a host name cannot have";
    end = host + strlen(host);
    if (end > host && end[-1] == '.') end--;                /* "a.b." reads as "a.b" */
    for (label = end; label > host && label[-1] != '.'; label--) {}
    if (label < end) {
        const char *q = label;
        int hex = end - label >= 2 && label[0] == '0' && (label[1] == 'x' || label[1] == 'X');
        if (hex) q += 2;
        while (q < end && ((*q >= '0' && *q <= '9') ||
                           (hex && ((*q >= 'a' && *q <= 'f') || (*q >= 'A' && *q <= 'F')))))
            q++;
        if (q == end && (end != host + strlen(host) || osb__parse_ip(host, ip) != 4))
            return "an IPv4 address must be four decimal numbers 0-255 without leading zeros "
                   "(octal, hex and short forms are refused)";
    }
    return NULL;
}

/* osb_url_parse with the reason for a refusal (a static string) in *why;
 * out->host holds the host as written when the host is the problem. */
static osb_err osb__url_parse_why(const char *text, int default_https, osb_url *out, const char **why) {
    const char *p = text, *host, *host_end, *port_s = NULL, *path;
    size_t hlen, plen;
    int bracketed = 0;
    memset(out, 0, sizeof *out);
    *why = "not a URL";
    if (!text) return OSB_ERR_INVALID_ARG;
    out->https = default_https ? 1 : 0;
    if (strncmp(p, "http://", 7) == 0) { out->https = 0; p += 7; }
    else if (strncmp(p, "https://", 8) == 0) { out->https = 1; p += 8; }
    else if (osb__strstr(p, "://")) { *why = "only http and https URLs are supported"; return OSB_ERR_INVALID_ARG; }
    if (*p == '[') {                                           /* IPv6 literal */
        host = p + 1;
        host_end = strchr(host, ']');
        if (!host_end) { *why = "a '[' without its ']'"; return OSB_ERR_INVALID_ARG; }
        bracketed = 1;
        p = host_end + 1;
        if (*p == ':') port_s = ++p;
    } else {
        host = p;
        while (*p && *p != ':' && *p != '/') p++;
        host_end = p;
        if (*p == ':') port_s = ++p;
    }
    hlen = (size_t)(host_end - host);
    if (hlen == 0 || hlen >= sizeof out->host) {
        *why = hlen ? "the host name is too long" : "no host";
        return OSB_ERR_INVALID_ARG;
    }
    memcpy(out->host, host, hlen);
    out->host[hlen] = 0;
    if ((*why = osb__host_problem(out->host, bracketed)) != NULL) return OSB_ERR_INVALID_ARG;
    *why = "the port must be a number 1-65535";
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
    *why = "userinfo, a query or a fragment (or a stray character after the host)";
    if (*p && *p != '/') return OSB_ERR_INVALID_ARG;
    path = p;
    plen = strlen(path);
    while (plen > 0 && path[plen - 1] == '/') plen--;
    *why = "the path is too long";
    if (plen >= sizeof out->prefix) return OSB_ERR_INVALID_ARG;
    {
        size_t i;
        *why = "the path holds spaces, controls, non-ASCII bytes, '?' or '#'";
        for (i = 0; i < plen; i++) {
            unsigned char ch = (unsigned char)path[i];
            if (ch <= 0x20 || ch >= 0x7f || ch == '?' || ch == '#') return OSB_ERR_INVALID_ARG;
        }
    }
    memcpy(out->prefix, path, plen);
    out->prefix[plen] = 0;
    *why = NULL;
    return OSB_OK;
}

OSB_API osb_err osb_url_parse(const char *text, int default_https, osb_url *out) {
    const char *why;
    return osb__url_parse_why(text, default_https, out, &why);
}

/* ---- proxies ---- */

/* Where a client's proxy settings come from, and what one proxy URL says.
 * A proxy URL is "[http://][user[:password]@]host[:port][/]": the port
 * defaults to 80, user and password are percent-decoded and go to the proxy
 * only, as Basic credentials. https:// proxies (TLS to the proxy, and inside
 * it TLS to the target: a second TLS engine per connection) and SOCKS
 * proxies are read but refused when a request would use them. */
enum { OSB__PX_NONE, OSB__PX_HTTP, OSB__PX_UNSUPPORTED, OSB__PX_INVALID };

typedef struct osb__proxy {
    int state;                /* OSB__PX_* */
    const char *scheme;       /* "http", "https", "socks5", ... */
    osb_url url;              /* its host and port */
    char name[300];           /* "host:port", IPv6 in brackets: messages and the pool key */
    char auth[352];           /* "Basic <base64 of user:password>" or "": a secret */
    const char *from;         /* where it was set: "HTTPS_PROXY", "the configuration", ... */
    const char *why;          /* OSB__PX_INVALID, OSB__PX_UNSUPPORTED: why it cannot be used */
} osb__proxy;

/* A client's proxies: one for http targets, one for https targets (and
 * WebSocket upgrades to http targets), and the hosts reached directly. */
typedef struct osb__proxies {
    osb__proxy http, https;
    char *no_proxy;           /* a NO_PROXY list, or NULL */
} osb__proxies;

#if !OSB_NO_PROXY
static void osb__b64_encode(const unsigned char *p, size_t n, char *out);

static void osb__wipe(void *p, size_t n) {
    volatile unsigned char *v = (volatile unsigned char *)p;
    while (n--) *v++ = 0;
}

/* "host:port" with an IPv6 host in brackets. */
static void osb__hostport(char *out, size_t cap, const osb_url *u) {
    osb__fmt(out, cap, strchr(u->host, ':') ? "[%s]:%u" : "%s:%u", u->host, (unsigned)u->port);
}

/* Basic credentials from the userinfo u[0..n) of a proxy URL, user and
 * password percent-decoded. 0, or a reason. */
static const char *osb__proxy_auth(const char *u, size_t n, char *auth) {
    unsigned char cred[256];
    const char *colon = (const char *)memchr(u, ':', n);
    size_t ul = 0, pl = 0, un = colon ? (size_t)(colon - u) : n;
    const char *why = NULL;
    osb_err e = osb_url_decode(u, un, (char *)cred, sizeof cred, &ul, 0);
    if (!e && ul + 1 < sizeof cred) {
        cred[ul++] = ':';
        if (colon) e = osb_url_decode(colon + 1, n - un - 1, (char *)cred + ul, sizeof cred - ul, &pl, 0);
    } else if (!e) {
        e = OSB_ERR_TOO_LARGE;
    }
    if (e == OSB_ERR_TOO_LARGE) why = "the proxy credentials are longer than 255 bytes";
    else if (e) why = "the proxy credentials hold a '%' that is not %XX";
    else {
        memcpy(auth, "Basic ", 6);
        osb__b64_encode(cred, ul + pl, auth + 6);
    }
    osb__wipe(cred, sizeof cred);
    return why;
}

/* Reads a proxy URL into out (see osb__proxy); out->state is always set. */
static void osb__proxy_parse(const char *text, osb__proxy *out) {
    const char *p = text, *s, *end, *at = NULL, *why;
    char hostport[300];
    size_t n;
    int default_https = 0;
    memset(out, 0, sizeof *out);
    out->state = OSB__PX_INVALID;
    out->scheme = "http";
    out->why = "not a proxy URL";
    if (!text) return;
    for (s = p; (*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9'); s++) {}
    if (s > p && !strncmp(s, "://", 3)) {
        size_t sl = (size_t)(s - p);
        out->scheme = osb__ieq_any(p, sl, "http\0https\0socks4\0socks4a\0socks5\0socks5h\0");
        default_https = out->scheme && !strcmp(out->scheme, "https");
        if (!out->scheme) {
            out->scheme = "http";
            out->why = "a proxy URL must start with http:// (or give host:port alone)";
            return;
        }
        p = s + 3;
    }
    end = p + strcspn(p, "/?#");
    if (*end && strcmp(end, "/") != 0) { out->why = "a proxy URL has no path, query or fragment"; return; }
    for (s = p; s < end; s++)
        if (*s == '@') at = s;
    s = at ? at + 1 : p;
    n = (size_t)(end - s);
    if (n == 0 || n >= sizeof hostport) { out->why = n ? "the proxy host is too long" : "no proxy host"; return; }
    memcpy(hostport, s, n);
    hostport[n] = 0;
    if (osb__url_parse_why(hostport, default_https, &out->url, &why) != OSB_OK) {
        out->url.host[0] = 0;
        out->why = why;
        return;
    }
    out->url.https = 0;
    osb__hostport(out->name, sizeof out->name, &out->url);
    if (at && (out->why = osb__proxy_auth(p, (size_t)(at - p), out->auth)) != NULL) return;
    out->why = NULL;
    out->state = OSB__PX_HTTP;
    if (strcmp(out->scheme, "http") != 0) {
        osb__wipe(out->auth, sizeof out->auth);
        out->state = OSB__PX_UNSUPPORTED;
        out->why = default_https ? "https:// proxies are not supported (TLS to the proxy around TLS to "
                                   "the target); use an http:// proxy, which tunnels https with CONNECT"
                                 : "SOCKS proxies are not supported; use an http:// proxy";
    }
}

/* A port "1".."65535" at p[0..n); 0 if it is not one. */
static unsigned osb__port_of(const char *p, size_t n) {
    unsigned long v = 0;
    size_t i;
    if (n == 0 || n > 5) return 0;
    for (i = 0; i < n; i++) {
        if (p[i] < '0' || p[i] > '9') return 0;
        v = v * 10 + (unsigned long)(p[i] - '0');
    }
    return v <= 65535 ? (unsigned)v : 0;
}

/* One NO_PROXY entry, e (NUL-terminated, a copy we may cut), against a
 * host (without brackets or a trailing dot) whose address is ip[0..ipn)
 * when it is an address literal. */
static int osb__no_proxy_entry(char *e, const char *host, const unsigned char *ip, size_t ipn, unsigned port) {
    unsigned char want[16];
    size_t wn, hl, el;
    char *q, *slash;
    if (!strcmp(e, "*")) return 1;
    if (e[0] == '[') {                                   /* "[v6]", "[v6]:port", "[v6]/bits" */
        q = strchr(e, ']');
        if (!q) return 0;
        *q++ = 0;
        e++;
        if (*q == ':') {
            unsigned p = osb__port_of(q + 1, strlen(q + 1));
            if (!p || p != port) return 0;
        } else if (*q == '/') {
            memmove(e + strlen(e), q, strlen(q) + 1);   /* back to "v6/bits" */
        } else if (*q) {
            return 0;
        }
    } else if ((q = strchr(e, ':')) != NULL && !strchr(q + 1, ':')) {   /* "name:port", "a.b.c.d:port" */
        unsigned p = osb__port_of(q + 1, strlen(q + 1));
        if (!p || p != port) return 0;
        *q = 0;
    }
    if ((slash = strchr(e, '/')) != NULL) {              /* a CIDR range */
        unsigned bits = osb__port_of(slash + 1, strlen(slash + 1)), i;
        if (!strcmp(slash + 1, "0")) bits = 0;
        else if (!bits) return 0;
        *slash = 0;
        wn = osb__parse_ip(e, want);
        if (!wn || wn != ipn || strchr(e, '%') || bits > wn * 8) return 0;
        for (i = 0; i < bits; i++)
            if (((want[i / 8] ^ ip[i / 8]) >> (7 - i % 8)) & 1) return 0;
        return 1;
    }
    if ((wn = osb__parse_ip(e, want)) != 0)
        return !strchr(e, '%') && wn == ipn && memcmp(want, ip, wn) == 0;
    if (ipn) return 0;                                    /* names never match an address */
    if (e[0] == '*' && e[1] == '.') e += 2;               /* "*.example.com" as ".example.com" */
    if (e[0] == '.') e++;                                 /* curl: ".example.com" as "example.com" */
    el = strlen(e);
    if (el && e[el - 1] == '.') e[--el] = 0;
    hl = strlen(host);
    if (el == 0 || el > hl) return 0;
    if (!osb__ieq(host + hl - el, el, e)) return 0;
    return hl == el || host[hl - el - 1] == '.';          /* whole labels only */
}

OSB_API int osb_no_proxy_match(const char *list, const char *host, unsigned port) {
    char h[256], e[300];
    unsigned char ip[16];
    size_t hl, ipn;
    const char *p;
    if (!list || !host) return 0;
    hl = strlen(host);
    if (hl >= 2 && host[0] == '[' && host[hl - 1] == ']') { host++; hl -= 2; }
    if (hl && host[hl - 1] == '.') hl--;
    if (hl == 0 || hl >= sizeof h) return 0;
    memcpy(h, host, hl);
    h[hl] = 0;
    ipn = strchr(h, '%') ? 0 : osb__parse_ip(h, ip);
    for (p = list; *p;) {
        size_t n = strcspn(p, ", \t\r\n");
        if (n > 0 && n < sizeof e) {
            memcpy(e, p, n);
            e[n] = 0;
            if (osb__no_proxy_entry(e, h, ip, ipn, port)) return 1;
        }
        p += n;
        if (*p) p++;
    }
    return 0;
}

/* A variable of the environment when it is set and not empty. */
static const char *osb__env(const char *name, const char **from) {
    const char *v = getenv(name);
    if (!v || !*v) return NULL;
    *from = name;
    return v;
}

/* The proxy for targets of one scheme from the environment, in curl's
 * order: the lower-case name, the upper-case one, then ALL_PROXY. For http
 * targets HTTP_PROXY is not read while REQUEST_METHOD is set: in a CGI
 * program a request's "Proxy:" header arrives as HTTP_PROXY ("httpoxy"),
 * which is why Go's net/http ignores it there too. */
static const char *osb__proxy_env(int https, const char **from) {
    const char *v = NULL;
    if (https) {
        if ((v = osb__env("https_proxy", from)) || (v = osb__env("HTTPS_PROXY", from))) return v;
    } else {
        if ((v = osb__env("http_proxy", from))) return v;
        if (!getenv("REQUEST_METHOD") && (v = osb__env("HTTP_PROXY", from))) return v;
    }
    if ((v = osb__env("all_proxy", from)) || (v = osb__env("ALL_PROXY", from))) return v;
    return NULL;
}

static void osb__proxies_free(osb__proxies *px, const osb_allocator *a) {
    osb__wipe(px->http.auth, sizeof px->http.auth);
    osb__wipe(px->https.auth, sizeof px->https.auth);
    osb__free(a, px->no_proxy);
    px->no_proxy = NULL;
}

/* A client's proxies from cfg and, unless cfg sets the proxy, the
 * environment. A cfg->proxy that cannot be read is OSB_ERR_INVALID_ARG; a
 * variable that cannot be read fails only the requests that would use it
 * (as Go does), so it cannot stop calls that go direct. */
static osb_err osb__proxies_init(osb__proxies *px, const osb_client_config *cfg, const osb_allocator *a) {
    const char *list = cfg->no_proxy, *from = NULL, *v;
    memset(px, 0, sizeof *px);
    if (cfg->proxy && !*cfg->proxy) return OSB_OK;          /* "": no proxy, the environment unread */
    if (cfg->proxy) {
        osb__proxy_parse(cfg->proxy, &px->http);
        px->http.from = "the configuration";
        if (px->http.state == OSB__PX_INVALID) {
            osb__proxies_free(px, a);
            return OSB_ERR_INVALID_ARG;
        }
        px->https = px->http;
    } else {
        if ((v = osb__proxy_env(0, &from)) != NULL) {
            osb__proxy_parse(v, &px->http);
            px->http.from = from;
        }
        if ((v = osb__proxy_env(1, &from)) != NULL) {
            osb__proxy_parse(v, &px->https);
            px->https.from = from;
        }
    }
    if (!list && !(list = osb__env("no_proxy", &from))) list = osb__env("NO_PROXY", &from);
    if (list && *list && !(px->no_proxy = osb__strndup(a, list, strlen(list)))) {
        osb__proxies_free(px, a);
        return OSB_ERR_NOMEM;
    }
    return OSB_OK;
}

/* The proxy a request to u goes through, or NULL for a direct connection. */
static const osb__proxy *osb__proxy_of(const osb__proxies *px, const osb_url *u) {
    const osb__proxy *p = u->https ? &px->https : &px->http;
    if (p->state == OSB__PX_NONE) return NULL;
    if (px->no_proxy && osb_no_proxy_match(px->no_proxy, u->host, u->port)) return NULL;
    return p;
}

/* A proxy that cannot be used, as an error naming it (host and port
 * only: never its credentials). */
static osb_err osb__proxy_unusable(const osb__proxy *p, osb_error *err) {
    if (p->state == OSB__PX_UNSUPPORTED) {
        osb__set_error(err, OSB_ERR_UNSUPPORTED, "proxy %s://%s (from %s): %s", p->scheme, p->name, p->from, p->why);
        return OSB_ERR_UNSUPPORTED;
    }
    osb__set_error(err, OSB_ERR_INVALID_ARG, "the proxy URL in %s cannot be read: %s", p->from, p->why);
    return OSB_ERR_INVALID_ARG;
}

OSB_API osb_err osb_proxy_for(const osb_client_config *cfg, const char *url, char *out, size_t cap) {
    osb__proxies px;
    const osb__proxy *p;
    osb_url u;
    osb_err e;
    if (!cfg || !url || !out || cap == 0) return OSB_ERR_INVALID_ARG;
    out[0] = 0;
    if (osb_url_parse(url, cfg->protocol && !strcmp(cfg->protocol, "https"), &u) != OSB_OK)
        return OSB_ERR_INVALID_ARG;
    if ((e = osb__proxies_init(&px, cfg, cfg->allocator)) != OSB_OK) return e;
    p = osb__proxy_of(&px, &u);
    if (p && p->state == OSB__PX_INVALID) {
        e = OSB_ERR_INVALID_ARG;
    } else if (p) {
        if ((size_t)osb__fmt(out, cap, "%s://%s", p->scheme, p->name) >= cap) {
            out[0] = 0;
            e = OSB_ERR_TOO_LARGE;
        } else if (p->state == OSB__PX_UNSUPPORTED) {
            e = OSB_ERR_UNSUPPORTED;
        }
    }
    osb__proxies_free(&px, cfg->allocator);
    return e;
}

#else /* OSB_NO_PROXY: no proxy is read or used; an explicit one is refused */
static void osb__proxies_free(osb__proxies *px, const osb_allocator *a) {
    (void)px;
    (void)a;
}

static osb_err osb__proxies_init(osb__proxies *px, const osb_client_config *cfg, const osb_allocator *a) {
    (void)a;
    memset(px, 0, sizeof *px);
    return cfg->proxy && *cfg->proxy ? OSB_ERR_UNSUPPORTED : OSB_OK;
}

#  define osb__proxy_of(px, u) ((void)(px), (void)(u), (const osb__proxy *)NULL)
#  define osb__proxy_unusable(p, err) ((void)(p), (void)(err), OSB_ERR_UNSUPPORTED)
#endif /* OSB_NO_PROXY */


/* ---- addresses ---- */

/* One address to connect to: what a resolver (getaddrinfo or the built-in
 * one) found, without the C library's linked list. */
typedef struct osb__addr {
    int family;                   /* AF_INET or AF_INET6 */
    unsigned char ip[16];         /* 4 or 16 bytes used */
    uint16_t port;
} osb__addr;

#define OSB__MAX_ADDRS 32         /* addresses kept per host */
typedef struct osb__addrs {
    osb__addr a[OSB__MAX_ADDRS];
    size_t n;
} osb__addrs;

/* Appends one address (4 or 16 bytes) unless the list is full or has it. */
static void osb__addrs_add(osb__addrs *l, const unsigned char *ip, size_t len, uint16_t port) {
    osb__addr *a;
    size_t i;
    for (i = 0; i < l->n; i++)
        if (l->a[i].family == (len == 16 ? AF_INET6 : AF_INET) && !memcmp(l->a[i].ip, ip, len))
            return;
    if (l->n == OSB__MAX_ADDRS) return;
    a = &l->a[l->n++];
    memset(a, 0, sizeof *a);
    a->family = len == 16 ? AF_INET6 : AF_INET;
    memcpy(a->ip, ip, len);
    a->port = port;
}

/* The socket address of a; returns its length. */
static socklen_t osb__addr_sockaddr(const osb__addr *a, struct sockaddr_storage *ss) {
    memset(ss, 0, sizeof *ss);
    if (a->family == AF_INET6) {
        struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)(void *)ss;
        s6->sin6_family = AF_INET6;
        s6->sin6_port = htons(a->port);
        memcpy(&s6->sin6_addr, a->ip, 16);
        return (socklen_t)sizeof *s6;
    } else {
        struct sockaddr_in *s4 = (struct sockaddr_in *)(void *)ss;
        s4->sin_family = AF_INET;
        s4->sin_port = htons(a->port);
        memcpy(&s4->sin_addr, a->ip, 4);
        return (socklen_t)sizeof *s4;
    }
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

/* Starts a non-blocking connect to one resolved address: 0 connected, 1
 * under way (wait until writable, then osb__connect_result), -1 failed
 * (*sys_err says why). */
static int osb__connect_start(const osb__addr *a, osb__socket *out, int *sys_err) {
    osb__socket fd = osb__socket_open(a->family, SOCK_STREAM);
    struct sockaddr_storage ss;
    int one = 1, r;
    if (fd == OSB__BAD_SOCKET) { *sys_err = osb__sock_errno(); return -1; }
#if defined(SO_NOSIGPIPE)
    setsockopt(fd, SOL_SOCKET, SO_NOSIGPIPE, (const char *)&one, sizeof one);
#endif
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, (const char *)&one, sizeof one);
    r = connect(fd, (struct sockaddr *)&ss, (int)osb__addr_sockaddr(a, &ss));
    *out = fd;
    if (r == 0) return 0;
    r = osb__sock_errno();
    if (r == OSB__EINPROGRESS || r == EINPROGRESS || r == OSB__EAGAIN) return 1;
    *sys_err = r;
    osb__sock_close(fd);
    *out = OSB__BAD_SOCKET;
    return -1;
}

/* Once a connect under way made the socket writable: 0 connected, -1 failed
 * (*sys_err). */
static int osb__connect_result(osb__socket fd, int *sys_err) {
    int soerr = 0;
    socklen_t sl = sizeof soerr;
    getsockopt(fd, SOL_SOCKET, SO_ERROR, (char *)&soerr, &sl);
    *sys_err = soerr;
    return soerr ? -1 : 0;
}

/* Connects to one resolved address, waiting until the deadline. */
static int osb__connect_one(const osb__addr *a, int64_t deadline, osb__socket *out,
                            int *sys_err, int *timed_out) {
    osb__socket fd;
    int r = osb__connect_start(a, &fd, sys_err), w;
    *timed_out = 0;
    if (r <= 0) {
        if (r == 0) *out = fd;
        return r;
    }
    w = osb__wait(fd, 1, deadline, NULL);
    if (w <= 0) {
        *timed_out = (w == 0);
        *sys_err = w == 0 ? 0 : osb__sock_errno();
        osb__sock_close(fd);
        return -1;
    }
    if (osb__connect_result(fd, sys_err) != 0) {
        osb__sock_close(fd);
        return -1;
    }
    *out = fd;
    return 0;
}

static osb_err osb__connect(osb_client *cl, const osb_url *u, const osb__proxy *px, int route,
                            int64_t deadline, osb__conn **out, osb_error *err);

/* ---- the client ---- */

struct osb_client {
    const osb_allocator *alloc;
    osb_url base;                 /* the lifecycle server */
    char *api_key;
    char *execd_token;            /* X-EXECD-ACCESS-TOKEN for execd calls, or NULL */
    char *user_agent;
    char client_ip[48];           /* OPEN-SANDBOX-CLIENT-IP value, "" = none */
    char **headers;               /* extra "Name: value" lines for lifecycle API calls */
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
    void *defer;                  /* a multi turning the next typed call into a transfer */
    /* what hands the call to it (osb__multi_defer): through a pointer, so a
       program that never adds a typed transfer links no multi code */
    osb_err (*defer_fn)(osb_client *c, const osb_http_request *req, const osb_type *type, osb_stream *s);
    osb__proxies proxies;
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

/* Checks the form of a "Name: value" line: the name a token, the value
 * free of control characters but HTAB (so no CR, LF or NUL can split the
 * head). Returns the length of the name, or 0 when it is unusable. */
static size_t osb__check_header_line(const char *line) {
    size_t n = 0;
    const char *v;
    while (osb__is_tchar((unsigned char)line[n])) n++;
    if (n == 0 || line[n] != ':') return 0;
    for (v = line + n + 1; *v; v++)
        if (((unsigned char)*v < 0x20 && *v != '\t') || *v == 0x7f) return 0;
    return n;
}

/* A value the library writes into a field: no control characters. */
static int osb__field_value_ok(const char *v) {
    for (; *v; v++)
        if (((unsigned char)*v < 0x20 && *v != '\t') || *v == 0x7f) return 0;
    return 1;
}

/* The fields that frame a request or steer its connection. The client
 * writes them itself (Host, Content-Length or Transfer-Encoding from the
 * body) or never sends them; taken from a caller, the configuration or an
 * endpoint's headers they could split one request into two, or make the
 * server read the body differently from how it is sent. */
static int osb__is_framing_header(const char *name, size_t n) {
    return osb__ieq_any(name, n, "host\0content-length\0transfer-encoding\0connection\0upgrade\0expect\0te\0"
                                 "trailer\0keep-alive\0proxy-connection\0proxy-authorization\0") != NULL;
}

/* The one check for every header line that does not come from the client
 * itself (request headers, configured headers, an endpoint's headers):
 * the form of the line, then its name. On refusal err says which line and
 * why (the name only: a value may be a credential). from names the source
 * ("request", "configured"). */
static osb_err osb__header_allowed(const char *line, const char *from, osb_error *err) {
    size_t n = osb__check_header_line(line);
    if (n == 0) {
        size_t k = 0;
        while (osb__is_tchar((unsigned char)line[k])) k++;
        if (k > 0 && k <= 64 && line[k] == ':')   /* the name only: the value may be a secret */
            osb__set_error(err, OSB_ERR_INVALID_ARG, "%s header '%.*s': a control character in the value",
                           from, (int)k, line);
        else   /* no name: quote nothing (it might be a misplaced secret) */
            osb__set_error(err, OSB_ERR_INVALID_ARG, "a %s header line is not 'Name: value'", from);
        return OSB_ERR_INVALID_ARG;
    }
    if (osb__is_framing_header(line, n)) {
        osb__set_error(err, OSB_ERR_INVALID_ARG,
                       "%s header '%.*s' refused: the client writes the framing headers (Host, "
                       "Content-Length, Transfer-Encoding, Connection, Upgrade, Expect, TE) and "
                       "Proxy-Authorization (from the proxy URL) itself",
                       from, (int)OSB__MIN(n, 64), line);
        return OSB_ERR_INVALID_ARG;
    }
    return OSB_OK;
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
    if (cfg->execd_access_token) {
        if (!osb__field_value_ok(cfg->execd_access_token)) { e = OSB_ERR_INVALID_ARG; goto fail; }
        if (!(c->execd_token = osb__strndup(a, cfg->execd_access_token, strlen(cfg->execd_access_token))))
            goto nomem;
    }
    if (cfg->client_ip) {
        unsigned char ip[16];
        size_t l = strlen(cfg->client_ip);
        if (l >= sizeof c->client_ip || strpbrk(cfg->client_ip, "[]%") || !osb__parse_ip(cfg->client_ip, ip)) {
            e = OSB_ERR_INVALID_ARG;
            goto fail;
        }
        memcpy(c->client_ip, cfg->client_ip, l + 1);
    }
    if (cfg->headers) {
        while (cfg->headers[n]) {
            if ((e = osb__header_allowed(cfg->headers[n], "configured", NULL)) != OSB_OK) goto fail;
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
    if ((e = osb__proxies_init(&c->proxies, cfg, a)) != OSB_OK) goto fail;
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
    if (c->execd_token) {
        volatile char *p = c->execd_token;
        while (*p) *p++ = 0;
        osb__free(c->alloc, c->execd_token);
    }
    osb__free(c->alloc, c->user_agent);
    osb__proxies_free(&c->proxies, c->alloc);
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

/* The pool key: the route and the proxy, then the target (a forwarding
 * proxy connection serves every http target, so its target does not count). */
static int osb__conn_matches(const osb__conn *k, const osb_url *u, const osb__proxy *px, int route) {
    if (k->route != route || strcmp(k->via, px ? px->name : "") != 0) return 0;
    if (route == OSB__ROUTE_FORWARD) return 1;
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

static osb__conn *osb__pool_take(osb_client *c, const osb_url *u, const osb__proxy *px, int route) {
    int i;
    int64_t now = osb__now_ms();
    for (i = c->npool - 1; i >= 0; i--) {
        osb__conn *k = c->pool[i];
        int expired = now - k->idle_since > OSB_POOL_IDLE_MS;
        if (!expired && !osb__conn_matches(k, u, px, route)) continue;
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

/* ---- random bytes from the OS ---- */

#if OSB__OS_RANDOM
#if defined(_WIN32)
/* RtlGenRandom, found at run time so that no program needs -ladvapi32 */
typedef BOOLEAN (WINAPI *osb__rtl_gen_random)(PVOID, ULONG);
#endif

/* n unpredictable bytes into buf, for what an attacker must not guess: the
 * resolver's query ids and source ports, a WebSocket's key and mask seed.
 * getrandom(2) on Linux; /dev/urandom where that is missing (an old kernel,
 * a sandbox refusing the call) and on other POSIX systems; RtlGenRandom on
 * Windows. 0 when the OS gave fewer than n bytes: the callers then fail
 * rather than go on with guessable ones. */
static int osb__os_random(void *buf, size_t n) {
    unsigned char *p = (unsigned char *)buf;
#if defined(_WIN32)
    HMODULE lib = LoadLibraryA("advapi32.dll");
    osb__rtl_gen_random gen = NULL;
    int ok = 0;
    if (lib) gen = (osb__rtl_gen_random)(void (*)(void))GetProcAddress(lib, "SystemFunction036");
    while (gen && n) {   /* it takes a ULONG: larger requests in pieces */
        ULONG piece = n > 0x10000u ? 0x10000u : (ULONG)n;
        if (!gen(p, piece)) break;
        p += piece;
        n -= piece;
    }
    ok = n == 0;
    if (lib) FreeLibrary(lib);
    return ok;
#else
    int fd;
#if OSB__GETRANDOM
    while (n) {
        ssize_t r = getrandom(p, n, 0);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) break;
        p += r;
        n -= (size_t)r;
    }
    if (!n) return 1;
#endif
#if defined(O_CLOEXEC)
    fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
#else
    fd = open("/dev/urandom", O_RDONLY);
#endif
    if (fd < 0) return 0;
    while (n) {
        ssize_t r = read(fd, p, n);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) break;   /* an end of file is not random bytes */
        p += r;
        n -= (size_t)r;
    }
    close(fd);
    return n == 0;
#endif
}
#endif /* OSB__OS_RANDOM */

/* ---- name resolution ---- */

#if OSB_RESOLVER_THREAD && !OSB_DNS
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

#if OSB_DNS
/* The built-in stub resolver (OSB_DNS=1): /etc/hosts, then A and AAAA
 * questions over UDP (TCP when an answer is truncated) to the servers of
 * /etc/resolv.conf, as a state machine: osb__dns_start, then, while it
 * says OSB__DNS_WAIT, wait until d->fd is ready for d->want (1 read, 2
 * write) or the clock reaches d->wake, and call osb__dns_step. The caller
 * owns the deadline; the state machine only times its tries. It needs no
 * thread, no allocation and no C library resolver, so getaddrinfo and
 * pthreads stay out of a static link. OSB_RESOLV_CONF and OSB_HOSTS name
 * other files (tests, chroots). */
enum { OSB__DNS_WAIT, OSB__DNS_FOUND, OSB__DNS_NOTFOUND, OSB__DNS_FAILED };
enum { OSB__DQ_UDP, OSB__DQ_TCP_CONNECT, OSB__DQ_TCP_SEND, OSB__DQ_TCP_READ };

#define OSB__DNS_SERVERS 3        /* nameserver lines read, as the C libraries do */
#define OSB__DNS_SEARCH 6         /* search domains read */
#define OSB__DNS_MAX_ANSWERS 64   /* an answer with more records is refused */
#define OSB__DNS_MSG 4096         /* the largest answer taken, UDP or TCP */
#define OSB__DNS_CNAME_HOPS 8     /* aliases followed inside one answer */

typedef struct osb__dns_conf {
    osb__addr server[OSB__DNS_SERVERS];
    size_t nserver;
    char search[OSB__DNS_SEARCH][254];
    size_t nsearch;
    int ndots, timeout_ms, attempts;
} osb__dns_conf;

typedef struct osb__dns {
    osb__dns_conf conf;
    char host[254];               /* the name asked, without a trailing dot */
    char name[256];               /* the candidate (host or host.search) asked now */
    int cand;                     /* which candidate */
    int tries;                    /* tries of this candidate so far (servers x attempts) */
    int phase;                    /* OSB__DQ_* */
    osb__socket fd;
    int want;                     /* 1 readable, 2 writable */
    int64_t wake;                 /* the current try gives up at */
    const osb__addr *server;      /* asked now */
    unsigned char q[2][280];      /* the A and AAAA questions (2 bytes for TCP's length first) */
    size_t qlen[2];
    uint16_t id[2];
    int pending;                  /* bit k: question k not answered yet */
    int truncated;                /* bit k: answer k was truncated, ask again over TCP */
    int tq;                       /* the question asked over TCP */
    size_t io;                    /* bytes of it sent, or of the answer read */
    int nxdomain;                 /* a server said the candidate does not exist */
    int absolute;                 /* the host ended with a dot: no search domains */
    unsigned char msg[OSB__DNS_MSG];
    osb__addrs out;
    uint16_t port;                /* given to every address found */
    char why[160];                /* why it failed, for the error message */
} osb__dns;

static size_t osb__dns_question(unsigned char *q, const char *name, int qtype, uint16_t id);

/* The next whitespace-separated word of *p into w (cut at cap - 1);
 * 0 at the end of the line. */
static size_t osb__dns_word(const char **p, char *w, size_t cap) {
    const char *s = *p;
    size_t n = 0;
    while (*s == ' ' || *s == '\t') s++;
    while (*s && *s != ' ' && *s != '\t' && *s != '\n' && *s != '\r') {
        if (n + 1 < cap) w[n++] = *s;
        s++;
    }
    w[n] = 0;
    *p = s;
    return n;
}

/* A text file read in pieces (-1: none). */
typedef struct osb__dns_file {
    int fd;
    size_t at, end;
    char buf[1024];
} osb__dns_file;

/* Opens the file the variable env names when it is set, else path. */
static void osb__dns_open(osb__dns_file *f, const char *env, const char *path) {
    const char *v = getenv(env);
    f->at = f->end = 0;
    f->fd = osb__file_open(v && *v ? v : path);
}

/* Reads the next line into line (NUL-terminated, without its newline and
 * its # or ; comment); a longer line is cut. 0 at the end of the file,
 * which is then closed. */
static int osb__dns_line(osb__dns_file *r, char *line, size_t cap) {
    size_t n = 0;
    int any = 0;
    for (;;) {
        ptrdiff_t got;
        char ch;
        if (r->at == r->end) {
            r->at = 0;
            got = r->fd >= 0 ? osb__file_read(r->fd, r->buf, sizeof r->buf) : 0;
            if (got <= 0) {
                if (r->fd >= 0) osb__file_close(r->fd);
                r->fd = -1;
                break;
            }
            r->end = (size_t)got;
        }
        any = 1;
        ch = r->buf[r->at++];
        if (ch == '\n') break;
        if (n + 1 < cap) line[n++] = ch;
    }
    line[n] = 0;
    line[strcspn(line, "#;")] = 0;
    return any;
}

/* A decimal number at p (at most 6 digits, so no overflow), *end past
 * it; -1 when there is none. (strtoul would link musl's intscan.) */
static long osb__dns_num(const char *p, const char **end) {
    long v = 0;
    int n = 0;
    while (*p >= '0' && *p <= '9' && n < 6) {
        v = v * 10 + (*p++ - '0');
        n++;
    }
    *end = p;
    return n ? v : -1;
}

/* "ADDR" or, as an extension for tests, "ADDR:PORT" / "[ADDR6]:PORT". */
static int osb__dns_server(const char *w, osb__addr *out) {
    osb__addrs one;
    char host[64];
    const char *colon = strrchr(w, ':');
    long port = 53;
    size_t hl = strlen(w);
    unsigned char ip[16];
    size_t n;
    one.n = 0;
    if (hl >= sizeof host) return 0;
    if (w[0] == '[' || (colon && strchr(w, ':') == colon)) {   /* a port follows */
        const char *end;
        if (!colon) return 0;
        port = osb__dns_num(colon + 1, &end);
        if (*end || port <= 0 || port > 65535) return 0;
        hl = (size_t)(colon - w);
        if (w[0] == '[') {
            if (hl < 2 || w[hl - 1] != ']') return 0;
        }
    }
    memcpy(host, w, hl);
    host[hl] = 0;
    if ((n = osb__parse_ip(host, ip)) == 0 || strchr(host, '%')) return 0;
    osb__addrs_add(&one, ip, n, (uint16_t)port);
    *out = one.a[0];
    return 1;
}

/* An "option:N" value, clamped to [lo, hi]. */
static int osb__dns_opt(const char *w, const char *name, int lo, int hi, int *out) {
    size_t n = strlen(name);
    const char *end;
    long v;
    if (strncmp(w, name, n) != 0 || w[n] != ':') return 0;
    v = osb__dns_num(w + n + 1, &end);
    *out = v < lo ? lo : v > hi ? hi : (int)v;
    return 1;
}

/* Reads resolv.conf: nameserver (up to 3), search / domain (the last one
 * wins), options ndots timeout attempts. Without a nameserver line the
 * server is 127.0.0.1, as in glibc and musl. */
static void osb__dns_conf_load(osb__dns_conf *c) {
    char line[1024], w[256];
    unsigned char q[280];
    osb__dns_file f;
    memset(c, 0, sizeof *c);
    c->ndots = 1;
    c->timeout_ms = 5000;
    c->attempts = 2;
    osb__dns_open(&f, "OSB_RESOLV_CONF", "/etc/resolv.conf");
    while (osb__dns_line(&f, line, sizeof line)) {
        const char *p = line;
        osb__dns_word(&p, w, sizeof w);
        if (!strcmp(w, "nameserver")) {
            if (c->nserver < OSB__DNS_SERVERS && osb__dns_word(&p, w, sizeof w) &&
                osb__dns_server(w, &c->server[c->nserver]))
                c->nserver++;
        } else if (!strcmp(w, "search") || !strcmp(w, "domain")) {
            c->nsearch = 0;
            while (c->nsearch < OSB__DNS_SEARCH && osb__dns_word(&p, w, sizeof w)) {
                size_t n = strlen(w);
                if (n && w[n - 1] == '.') w[--n] = 0;
                if (n == 0 || n > 200 || !osb__dns_question(q, w, 1, 0)) continue;
                memcpy(c->search[c->nsearch++], w, n + 1);
            }
        } else if (!strcmp(w, "options")) {
            int t;
            while (osb__dns_word(&p, w, sizeof w)) {
                osb__dns_opt(w, "ndots", 0, 15, &c->ndots);
                if (osb__dns_opt(w, "timeout", 1, 30, &t)) c->timeout_ms = t * 1000;
                osb__dns_opt(w, "attempts", 1, 5, &c->attempts);
            }
        }
    }
    if (!c->nserver) {
        static const unsigned char lo[4] = {127, 0, 0, 1};
        osb__addrs one;
        one.n = 0;
        osb__addrs_add(&one, lo, 4, 53);
        c->server[c->nserver++] = one.a[0];
    }
}

/* Looks host up in the hosts file (OSB_HOSTS, else /etc/hosts): every
 * address of every line that names it, in file order. */
static void osb__dns_hosts(const char *host, uint16_t port, osb__addrs *out) {
    char line[1024], w[256];
    osb__dns_file f;
    osb__dns_open(&f, "OSB_HOSTS", "/etc/hosts");
    while (osb__dns_line(&f, line, sizeof line)) {
        const char *p = line;
        unsigned char ip[16];
        size_t n;
        if (!osb__dns_word(&p, w, sizeof w) || strchr(w, '%') || (n = osb__parse_ip(w, ip)) == 0) continue;
        while (osb__dns_word(&p, w, sizeof w)) {
            size_t l = strlen(w);
            if (l && w[l - 1] == '.') w[--l] = 0;
            if (osb__ieq(w, l, host)) {
                osb__addrs_add(out, ip, n, port);
                break;
            }
        }
    }
}

/* ---- DNS messages ---- */

/* Reads the name at off in m[0..len) as dotted lowercase text without the
 * final dot (at most 253 characters) into out. Returns the offset just
 * past the name where it sits, 0 when it is malformed. A compression
 * pointer must point below the last place jumped to (or the name's
 * start), so every chain of pointers ends. */
static size_t osb__dns_name(const unsigned char *m, size_t len, size_t off, char out[256]) {
    size_t end = 0, o = 0, below = off;
    for (;;) {
        unsigned c;
        if (off >= len) return 0;
        c = m[off];
        if (c == 0) break;
        if ((c & 0xC0) == 0xC0) {
            size_t to;
            if (off + 1 >= len) return 0;
            to = ((size_t)(c & 0x3F) << 8) | m[off + 1];
            if (!end) end = off + 2;
            if (to >= below) return 0;
            below = off = to;
            continue;
        }
        if (c & 0xC0) return 0;                       /* the 0x40 and 0x80 label types */
        if (off + 1 + c > len || o + (o ? 1 : 0) + c > 253) return 0;
        if (o) out[o++] = '.';
        for (off++; c; c--, off++) {
            int ch = m[off];
            if (ch == '.' || ch == 0) return 0;       /* would read as another name */
            out[o++] = (char)osb__lower(ch);
        }
    }
    out[o] = 0;
    return end ? end : off + 1;
}

/* Writes the question "name, type qtype, class IN" with a recursion-
 * desired header and the given id into q (after 2 bytes left for TCP's
 * length); returns its length, 0 when the name cannot be asked (an empty
 * label, a label over 63 bytes). */
static size_t osb__dns_question(unsigned char *q, const char *name, int qtype, uint16_t id) {
    unsigned char *p = q + 2;
    const char *s = name;
    static const unsigned char head[10] = {0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0};
    p[0] = (unsigned char)(id >> 8);
    p[1] = (unsigned char)id;
    memcpy(p + 2, head, sizeof head);
    p += 12;
    while (*s) {
        size_t l = strcspn(s, ".");
        if (l == 0 || l > 63) return 0;
        *p++ = (unsigned char)l;
        memcpy(p, s, l);
        p += l;
        s += l;
        if (*s) s++;
    }
    *p++ = 0;
    *p++ = 0;
    *p++ = (unsigned char)qtype;
    *p++ = 0;
    *p++ = 1;
    q[0] = (unsigned char)((p - q - 2) >> 8);
    q[1] = (unsigned char)(p - q - 2);
    return (size_t)(p - q - 2);
}

static unsigned osb__dns_u16(const unsigned char *p) { return (unsigned)p[0] << 8 | p[1]; }

/* One record of the answer section. */
typedef struct osb__dns_rr {
    size_t owner, rd;             /* offsets of its name and its data */
    unsigned type, rdlen;
} osb__dns_rr;

/* Reads an answer to the question (id, name, qtype 1 or 28) and appends
 * the addresses it gives for name, following CNAMEs inside the answer.
 * Returns -2 when the message does not answer that question (a stray or
 * spoofed datagram: ignore it), -1 when it is malformed, else 0 with
 * *rcode and *tc set. */
static int osb__dns_parse(const unsigned char *m, size_t len, uint16_t id, const char *name, unsigned qtype,
                          uint16_t port, osb__addrs *out, int *rcode, int *tc) {
    osb__dns_rr rr[OSB__DNS_MAX_ANSWERS];
    char qn[256], owner[256], target[256];
    size_t off, n, i, hops;
    unsigned ancount;
    if (len < 12 || osb__dns_u16(m) != id || !(m[2] & 0x80) || (m[2] & 0x78) != 0) return -2;
    if (osb__dns_u16(m + 4) != 1) return -2;
    off = osb__dns_name(m, len, 12, qn);
    if (!off || off + 4 > len || strcmp(qn, name) != 0 || osb__dns_u16(m + off) != qtype ||
        osb__dns_u16(m + off + 2) != 1)
        return -2;
    off += 4;
    *rcode = m[3] & 0x0F;
    *tc = (m[2] & 0x02) != 0;
    if (*rcode != 0 || *tc) return 0;
    ancount = osb__dns_u16(m + 6);
    if (ancount > OSB__DNS_MAX_ANSWERS) return -1;
    for (n = 0; n < ancount; n++) {
        size_t at = osb__dns_name(m, len, off, owner);
        if (!at || at + 10 > len) return -1;
        rr[n].owner = off;
        rr[n].type = osb__dns_u16(m + at);
        rr[n].rdlen = osb__dns_u16(m + at + 8);
        rr[n].rd = at + 10;
        if (rr[n].rd + rr[n].rdlen > len) return -1;
        if (osb__dns_u16(m + at + 2) != 1) rr[n].type = 0;   /* not class IN: not ours */
        off = rr[n].rd + rr[n].rdlen;
    }
    memcpy(target, name, strlen(name) + 1);
    for (hops = 0; hops <= OSB__DNS_CNAME_HOPS; hops++) {   /* follow the aliases */
        int moved = 0;
        for (i = 0; i < n && !moved; i++) {
            if (rr[i].type != 5) continue;
            osb__dns_name(m, len, rr[i].owner, owner);
            if (strcmp(owner, target) != 0) continue;
            if (osb__dns_name(m, len, rr[i].rd, target) != rr[i].rd + rr[i].rdlen) return -1;
            moved = 1;
        }
        if (!moved) break;
    }
    if (hops > OSB__DNS_CNAME_HOPS) return -1;
    for (i = 0; i < n; i++) {
        if (rr[i].type != qtype) continue;
        osb__dns_name(m, len, rr[i].owner, owner);
        if (strcmp(owner, target) != 0) continue;
        if (rr[i].rdlen != (qtype == 1 ? 4u : 16u)) return -1;
        osb__addrs_add(out, m + rr[i].rd, rr[i].rdlen, port);
    }
    return 0;
}

/* ---- the exchange ---- */

static void osb__dns_close(osb__dns *d) {
    if (d->fd != OSB__BAD_SOCKET) osb__sock_close(d->fd);
    d->fd = OSB__BAD_SOCKET;
}

/* Sets d->name to the cand-th name to ask for host: with fewer than ndots
 * dots the search domains first and the name as given last, otherwise
 * the other way round; a name with a final dot only as given. 0 when
 * there are no more. A name too long to ask is skipped. */
static int osb__dns_candidate(osb__dns *d, int cand) {
    const osb__dns_conf *c = &d->conf;
    size_t dots = 0, i, hl = strlen(d->host);
    int nsearch = d->absolute ? 0 : (int)c->nsearch, as_is_first;
    for (i = 0; i < hl; i++) dots += d->host[i] == '.';
    as_is_first = (int)dots >= c->ndots;
    for (; cand <= nsearch; cand++) {
        int as_is = as_is_first ? cand == 0 : cand == nsearch;
        const char *dom;
        d->cand = cand;
        if (as_is) {
            memcpy(d->name, d->host, hl + 1);
            return 1;
        }
        dom = c->search[as_is_first ? cand - 1 : cand];
        if (hl + 1 + strlen(dom) <= 253) {
            osb__fmt(d->name, sizeof d->name, "%s.%s", d->host, dom);
            return 1;
        }
    }
    return 0;
}

/* A UDP socket for the server's family bound to a random port (a few
 * tries, then any port the kernel picks). */
static osb__socket osb__dns_udp(const osb__addr *server) {
    osb__socket fd = osb__socket_open(server->family, SOCK_DGRAM);
    int i;
    if (fd == OSB__BAD_SOCKET) return fd;
    for (i = 0; i < 8; i++) {
        struct sockaddr_storage ss;
        osb__addr any;
        unsigned char r[2];
        memset(&any, 0, sizeof any);
        any.family = server->family;
        if (!osb__os_random(r, 2)) break;   /* then the kernel picks the port */
        any.port = (uint16_t)(1024 + (((unsigned)r[0] << 8 | r[1]) % (65536 - 1024)));
        if (bind(fd, (struct sockaddr *)&ss, osb__addr_sockaddr(&any, &ss)) == 0) break;
    }
    return fd;
}

/* Starts the next try of the current name: the next server in turn, a
 * fresh socket and fresh ids, both questions sent. OSB__DNS_FAILED when
 * every server had its attempts. */
static int osb__dns_try(osb__dns *d, int64_t now) {
    const osb__dns_conf *c = &d->conf;
    char eb[OSB__ERRNO_BUF];
    struct sockaddr_storage ss;
    socklen_t sl;
    int k;
    osb__dns_close(d);
    if (d->tries >= (int)c->nserver * c->attempts) {
        if (!d->why[0]) osb__fmt(d->why, sizeof d->why, "no DNS server answered");
        return OSB__DNS_FAILED;
    }
    d->server = &c->server[d->tries % (int)c->nserver];
    d->tries++;
    d->out.n = 0;
    d->pending = 3;
    d->truncated = 0;
    d->phase = OSB__DQ_UDP;
    d->want = 1;
    d->wake = now + c->timeout_ms;
    if (!osb__os_random(d->id, sizeof d->id)) {
        osb__fmt(d->why, sizeof d->why, "the OS gave no random bytes for DNS query ids");
        return OSB__DNS_FAILED;
    }
    if (d->id[0] == d->id[1]) d->id[1] ^= 1;
    if ((d->fd = osb__dns_udp(d->server)) == OSB__BAD_SOCKET) {
        osb__fmt(d->why, sizeof d->why, "cannot open a UDP socket: %s", osb__errno_text(osb__sock_errno(), eb));
        return OSB__DNS_FAILED;
    }
    sl = osb__addr_sockaddr(d->server, &ss);
    for (k = 0; k < 2; k++) {
        d->qlen[k] = osb__dns_question(d->q[k], d->name, k ? 28 : 1, d->id[k]);
        /* a lost datagram is a silent server: the try times out */
        sendto(d->fd, (const char *)d->q[k] + 2, d->qlen[k], 0, (struct sockaddr *)&ss, sl);
    }
    return OSB__DNS_WAIT;
}

/* Starts asking for the cand-th name, or ends: the last name asked does
 * not exist, or has no address. */
static int osb__dns_ask(osb__dns *d, int cand, int64_t now) {
    if (!osb__dns_candidate(d, cand)) {
        osb__fmt(d->why, sizeof d->why, "%s", d->nxdomain ? "no such name" : "the name has no address");
        return OSB__DNS_NOTFOUND;
    }
    d->nxdomain = 0;
    d->tries = 0;
    return osb__dns_try(d, now);
}

/* What one answer to question k says, once it is ours. */
static int osb__dns_answered(osb__dns *d, int k, const unsigned char *m, size_t len, int64_t now) {
    int rcode = 0, tc = 0, r;
    char srv[64];
    r = osb__dns_parse(m, len, d->id[k], d->name, k ? 28u : 1u, d->port, &d->out, &rcode, &tc);
    if (r == -2) return OSB__DNS_WAIT;                         /* not an answer to it */
    osb__ip_text(d->server->ip, d->server->family == AF_INET6 ? 16 : 4, srv);
    if (r == -1 || (rcode != 0 && rcode != 3)) {               /* this server is no help */
        osb__fmt(d->why, sizeof d->why, "DNS server %s %s", srv,
                 r == -1 ? "sent a malformed answer"
                 : rcode == 2 ? "failed (SERVFAIL)"
                 : rcode == 5 ? "refused the query" : "answered with an error");
        return osb__dns_try(d, now);
    }
    d->pending &= ~(1 << k);
    if (tc && d->phase == OSB__DQ_UDP) d->truncated |= 1 << k;
    if (rcode == 3) d->nxdomain = 1;
    if (d->pending) return OSB__DNS_WAIT;
    if (d->truncated) {                                        /* again over TCP */
        struct sockaddr_storage ss;
        int sys;
        d->tq = (d->truncated & 1) ? 0 : 1;
        d->truncated &= ~(1 << d->tq);
        d->pending |= 1 << d->tq;
        osb__dns_close(d);
        d->fd = osb__socket_open(d->server->family, SOCK_STREAM);
        if (d->fd == OSB__BAD_SOCKET) return osb__dns_try(d, now);
        d->phase = OSB__DQ_TCP_CONNECT;
        d->want = 2;
        d->io = 0;
        d->wake = now + d->conf.timeout_ms;
        if (connect(d->fd, (struct sockaddr *)&ss, osb__addr_sockaddr(d->server, &ss)) == 0) return OSB__DNS_WAIT;
        sys = osb__sock_errno();
        return sys == OSB__EINPROGRESS || sys == OSB__EAGAIN ? OSB__DNS_WAIT : osb__dns_try(d, now);
    }
    if (d->out.n) {
        osb__dns_close(d);
        return OSB__DNS_FOUND;
    }
    return osb__dns_ask(d, d->cand + 1, now);                  /* no such name or no address */
}

/* Reads every datagram waiting; only one from the server asked can
 * answer. */
static int osb__dns_udp_step(osb__dns *d, int64_t now) {
    for (;;) {
        struct sockaddr_storage from, ss;
        socklen_t fl = sizeof from, sl = osb__addr_sockaddr(d->server, &ss);
        int r = (int)recvfrom(d->fd, (char *)d->msg, sizeof d->msg, 0, (struct sockaddr *)&from, &fl);
        int st;
        if (r < 0) {
            int e = osb__sock_errno();
            if (e == OSB__EAGAIN || e == EWOULDBLOCK || e == OSB__EINTR) return OSB__DNS_WAIT;
            return osb__dns_try(d, now);                       /* e.g. ICMP port unreachable */
        }
        if (fl != sl || memcmp(&from, &ss, sl) != 0) continue;  /* not from the server asked */
        if (r >= 2 && (osb__dns_u16(d->msg) == d->id[0] || osb__dns_u16(d->msg) == d->id[1])) {
            int k = osb__dns_u16(d->msg) == d->id[1];
            if (!(d->pending & (1 << k))) continue;
            st = osb__dns_answered(d, k, d->msg, (size_t)r, now);
            if (st != OSB__DNS_WAIT || d->phase != OSB__DQ_UDP) return st;
        }
    }
}

/* The TCP exchange for question d->tq: connect, send it with its length,
 * read the length and the answer. */
static int osb__dns_tcp_step(osb__dns *d, int64_t now) {
    int sys = 0;
    if (d->phase == OSB__DQ_TCP_CONNECT) {
        if (osb__connect_result(d->fd, &sys) != 0) return osb__dns_try(d, now);
        d->phase = OSB__DQ_TCP_SEND;
    }
    if (d->phase == OSB__DQ_TCP_SEND) {
        size_t total = d->qlen[d->tq] + 2;
        while (d->io < total) {
            int r = (int)send(d->fd, (const char *)d->q[d->tq] + d->io, total - d->io, OSB__SEND_FLAGS);
            if (r < 0) {
                sys = osb__sock_errno();
                if (sys == OSB__EAGAIN || sys == EWOULDBLOCK || sys == OSB__EINTR) return OSB__DNS_WAIT;
                return osb__dns_try(d, now);
            }
            d->io += (size_t)r;
        }
        d->phase = OSB__DQ_TCP_READ;
        d->want = 1;
        d->io = 0;
    }
    for (;;) {
        size_t need = d->io < 2 ? 2 : 2 + osb__dns_u16(d->msg);
        int r;
        if (d->io >= 2 && need > sizeof d->msg) {
            osb__fmt(d->why, sizeof d->why, "a DNS answer over TCP is larger than %u bytes", (unsigned)sizeof d->msg);
            return osb__dns_try(d, now);
        }
        if (d->io == need) break;
        r = (int)recv(d->fd, (char *)d->msg + d->io, need - d->io, 0);
        if (r < 0) {
            sys = osb__sock_errno();
            if (sys == OSB__EAGAIN || sys == EWOULDBLOCK || sys == OSB__EINTR) return OSB__DNS_WAIT;
        }
        if (r <= 0) return osb__dns_try(d, now);
        d->io += (size_t)r;
    }
    d->phase = OSB__DQ_TCP_READ + 1;           /* answers over TCP: no more truncation */
    {
        int st = osb__dns_answered(d, d->tq, d->msg + 2, d->io - 2, now);
        if (st == OSB__DNS_WAIT && d->phase == OSB__DQ_TCP_READ + 1) {  /* not an answer to it */
            osb__fmt(d->why, sizeof d->why, "a DNS answer over TCP did not match the question");
            return osb__dns_try(d, now);
        }
        return st;
    }
}

/* Starts resolving host (not an address literal) for port: the hosts file
 * first, then DNS. */
static int osb__dns_start(osb__dns *d, const char *host, uint16_t port, int64_t now) {
    size_t hl = strlen(host);
    memset(d, 0, sizeof *d);
    d->fd = OSB__BAD_SOCKET;
    d->port = port;
    if (hl && host[hl - 1] == '.') {
        d->absolute = 1;
        hl--;
    }
    if (hl == 0 || hl > 253) {
        osb__fmt(d->why, sizeof d->why, "not a host name");
        return OSB__DNS_NOTFOUND;
    }
    memcpy(d->host, host, hl);
    d->host[hl] = 0;
    for (hl = 0; d->host[hl]; hl++) d->host[hl] = (char)osb__lower((unsigned char)d->host[hl]);
    if (!osb__dns_question(d->q[0], d->host, 1, 0)) {      /* an empty or overlong label */
        osb__fmt(d->why, sizeof d->why, "not a host name");
        return OSB__DNS_NOTFOUND;
    }
    osb__dns_hosts(d->host, port, &d->out);
    if (d->out.n) return OSB__DNS_FOUND;
    osb__dns_conf_load(&d->conf);
    return osb__dns_ask(d, 0, now);
}

/* Goes on after d->fd became ready or the clock passed d->wake. */
static int osb__dns_step(osb__dns *d, int64_t now) {
    int st = d->phase == OSB__DQ_UDP ? osb__dns_udp_step(d, now) : osb__dns_tcp_step(d, now);
    if (st == OSB__DNS_WAIT && now >= d->wake) {
        char srv[64];
        osb__ip_text(d->server->ip, d->server->family == AF_INET6 ? 16 : 4, srv);
        osb__fmt(d->why, sizeof d->why, "DNS server %s did not answer", srv);
        st = osb__dns_try(d, now);
    }
    if (st != OSB__DNS_WAIT) osb__dns_close(d);
    return st;
}
#endif

/* Resolves u's host into out (the resolver's order), bounded by the
 * deadline where the platform allows. An address literal never waits on a
 * resolver. Returns 0, -1 when the deadline passed, or 1 on failure with
 * the reason in why ("" when the resolver gave none). */
static int osb__resolve(const osb_url *u, int64_t deadline, osb__addrs *out, char *why, size_t whycap) {
#if OSB_DNS
    osb__dns d;
    int st;
    out->n = 0;
    why[0] = 0;
    if (osb__parse_ip(u->host, d.msg)) {
        osb__addrs_add(out, d.msg, osb__parse_ip(u->host, d.msg), u->port);
        return 0;
    }
    st = osb__dns_start(&d, u->host, u->port, osb__now_ms());
    while (st == OSB__DNS_WAIT) {
        if (deadline && osb__now_ms() >= deadline) {
            osb__dns_close(&d);
            return -1;
        }
        osb__wait(d.fd, d.want == 2, osb__earlier(deadline, d.wake), NULL);
        st = osb__dns_step(&d, osb__now_ms());
    }
    if (st == OSB__DNS_FOUND) {
        *out = d.out;
        return 0;
    }
    osb__fmt(why, whycap, "%s", d.why);
    return 1;
#else
    struct addrinfo hints, *res = NULL, *ai;
    unsigned char ip[16];
    char port[8];
    size_t n = osb__parse_ip(u->host, ip);
    int rc;
    OSB__UNUSED(whycap);
    out->n = 0;
    why[0] = 0;
    if (n) {
        osb__addrs_add(out, ip, n, u->port);
        return 0;
    }
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICSERV;
    osb__fmt(port, sizeof port, "%u", (unsigned)u->port);
#if OSB_RESOLVER_THREAD
    rc = osb__resolve_bounded(u->host, port, &hints, deadline, &res);
#else
    OSB__UNUSED(deadline);
    rc = getaddrinfo(u->host, port, &hints, &res);
#endif
    if (rc == -1) return -1;
    if (rc != 0 || !res) return 1;
    for (ai = res; ai; ai = ai->ai_next) {
        if (ai->ai_family == AF_INET6)
            osb__addrs_add(out, (const unsigned char *)&((const struct sockaddr_in6 *)(const void *)ai->ai_addr)->sin6_addr,
                           16, u->port);
        else if (ai->ai_family == AF_INET)
            osb__addrs_add(out, (const unsigned char *)&((const struct sockaddr_in *)(const void *)ai->ai_addr)->sin_addr,
                           4, u->port);
    }
    freeaddrinfo(res);
    return out->n ? 0 : 1;
#endif
}

/* The order to try resolved addresses in (RFC 8305 section 4): the
 * resolver's order, but alternating families, starting with the family of
 * the first address, so that a dead IPv6 path does not hold back every
 * IPv4 address (or the reverse). Fills out[0..n) and returns n. */
static size_t osb__addr_order(const osb__addrs *res, osb__addr *out, size_t cap) {
    size_t n = 0, f = 0, o = 0;
    int fam;
    if (!res || !res->n) return 0;
    fam = res->a[0].family;
    while (o < res->n && res->a[o].family == fam) o++;
    while (n < cap && (f < res->n || o < res->n)) {
        if (f < res->n) {
            out[n++] = res->a[f];
            for (f++; f < res->n && res->a[f].family != fam; f++) {}
        }
        if (o < res->n && n < cap) {
            out[n++] = res->a[o];
            for (o++; o < res->n && res->a[o].family == fam; o++) {}
        }
    }
    return n;
}

/* Appends "addr (why)" for one address tried to the list in buf. */
static void osb__addr_note(char *buf, size_t cap, const osb__addr *a, const char *why) {
    char host[64];
    size_t at = strlen(buf);
    osb__ip_text(a->ip, a->family == AF_INET6 ? 16 : 4, host);
    if (at + 1 < cap) osb__fmt(buf + at, cap - at, "%s%s (%s)", at ? ", " : "", host, why);
}

/* 1 when the resolved addresses are what the host spells: for an address
 * literal exactly that address (the one TLS verifies is the one connected),
 * for a name anything but a numeric reading of it (the C library's
 * resolver reads "127.1" as 127.0.0.1; the built-in one never reads
 * numbers, and the URL rules refuse such hosts already). */
static int osb__addresses_are_literal(const char *host, const osb__addrs *res) {
    unsigned char ip[16];
    size_t n = osb__parse_ip(host, ip), i;
    if (n == 0) {
#if OSB_DNS
        return osb__host_problem(host, 0) == NULL;
#else
        struct addrinfo hints, *num = NULL;
        int numeric;
        memset(&hints, 0, sizeof hints);
        hints.ai_family = AF_UNSPEC;
        hints.ai_socktype = SOCK_STREAM;
        hints.ai_flags = AI_NUMERICHOST;
        numeric = getaddrinfo(host, NULL, &hints, &num) == 0;
        if (num) freeaddrinfo(num);
        return !numeric;
#endif
    }
    for (i = 0; i < res->n; i++)
        if (res->a[i].family != (n == 16 ? AF_INET6 : AF_INET) || memcmp(res->a[i].ip, ip, n) != 0) return 0;
    return 1;
}

static void osb__append_clean(char *dst, size_t cap, const char *src, size_t n);

#if !OSB_NO_PROXY
/* A proxy's refusal as an error: OSB_ERR_CONNECT (the request never
 * reached its target), http_status the proxy's status, retryable only
 * for 502/503/504. Names the proxy by host and port. */
static osb_err osb__proxy_refused(osb_error *err, const char *proxy, const char *target, int status,
                                  osb_str reason, int sent_auth) {
    char what[320];
    if (target) osb__fmt(what, sizeof what, "CONNECT to %s", target);
    else osb__fmt(what, sizeof what, "the request");
    if (status == 407)
        osb__set_error(err, OSB_ERR_CONNECT, "proxy %s refused %s: HTTP 407, it wants credentials; %s", proxy,
                       what, sent_auth ? "the credentials sent were refused"
                                       : "none were sent (give them in the proxy URL: http://user:password@host:port)");
    else
        osb__set_error(err, OSB_ERR_CONNECT, "proxy %s refused %s: HTTP %d", proxy, what, status);
    if (err) {
        if (status != 407 && reason.len) {
            osb__append_clean(err->message, sizeof err->message, " ", 1);
            osb__append_clean(err->message, sizeof err->message, reason.ptr, OSB__MIN(reason.len, 80));
        }
        err->http_status = status;
        err->phase = OSB_PHASE_CONNECT;
        err->retryable = status == 502 || status == 503 || status == 504;
    }
    return OSB_ERR_CONNECT;
}

/* Opens a tunnel to u through the proxy on the fresh connection k:
 * "CONNECT host:port" with the proxy's credentials when it has them, the
 * answer read within the connect deadline. A 2xx answer leaves k a clean
 * byte stream to the target (TLS with the target's name comes next). */
static osb_err osb__tunnel(osb_client *cl, osb__conn *k, const osb__proxy *px, const osb_url *u,
                           int64_t deadline, osb_error *err) {
    char head[1400], target[300];
    osb_http_header fields[OSB_HTTP_MAX_HEADERS];
    osb_http_head h;
    int n, r;
    osb_err e;
    osb__hostport(target, sizeof target, u);
    n = osb__fmt(head, sizeof head, "CONNECT %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: %.200s\r\n%s%s%s\r\n", target,
                 target, cl->user_agent, px->auth[0] ? "Proxy-Authorization: " : "", px->auth,
                 px->auth[0] ? "\r\n" : "");
    e = osb__sock_send_all(k, head, (size_t)n, deadline, err);
    osb__wipe(head, sizeof head);
    k->start = k->end = 0;
    for (;;) {
        size_t got = 0;
        if (e) {
            if (e == OSB_ERR_TIMEOUT)
                osb__set_error(err, OSB_ERR_TIMEOUT, "proxy %s did not answer CONNECT to %s in time", px->name, target);
            else if (err && e != OSB_ERR_CANCELLED) {
                char was[sizeof err->message];
                memcpy(was, err->message, sizeof was);
                osb__set_error(err, e, "proxy %s, CONNECT to %s: %.200s", px->name, target, was);
            }
            if (err) err->phase = OSB_PHASE_CONNECT;
            return e;
        }
        h.headers = fields;
        h.num_headers = OSB_HTTP_MAX_HEADERS;
        r = k->end ? osb_http_parse_response(k->buf, k->end, &h) : OSB_HTTP_INCOMPLETE;
        if (r > 0 && h.status < 200) {                   /* an interim answer: skip it */
            memmove(k->buf, k->buf + r, k->end - (size_t)r);
            k->end -= (size_t)r;
            continue;
        }
        if (r != OSB_HTTP_INCOMPLETE) break;
        if (k->end == k->cap) { r = OSB_HTTP_TOO_LARGE; break; }
        e = osb__sock_recv_some(k, k->buf + k->end, k->cap - k->end, &got, deadline, OSB_PHASE_CONNECT, err);
        if (!e && got == 0) {
            osb__set_error(err, OSB_ERR_CONNECT, "proxy %s closed the connection before answering CONNECT to %s",
                           px->name, target);
            if (err) err->phase = OSB_PHASE_CONNECT;
            return OSB_ERR_CONNECT;
        }
        k->end += got;
    }
    if (r < 0) {
        osb__set_error(err, OSB_ERR_PROTOCOL, "proxy %s answered CONNECT to %s with a malformed head", px->name, target);
        return OSB_ERR_PROTOCOL;
    }
    if (h.status >= 300) return osb__proxy_refused(err, px->name, target, h.status, h.reason, px->auth[0] != 0);
    if ((size_t)r != k->end) {   /* the target speaks only after the client: these came from the proxy */
        osb__set_error(err, OSB_ERR_PROTOCOL, "proxy %s sent bytes after accepting CONNECT to %s", px->name, target);
        return OSB_ERR_PROTOCOL;
    }
    k->start = k->end = 0;
    return OSB_OK;
}

#endif /* OSB_NO_PROXY */

/* Connects to u: directly, or to the proxy px (then route says whether to
 * open a CONNECT tunnel to u on it); TLS with u's name when u is https. */
/* Resolves where a connection dials (the target, or "proxy " to = its
 * proxy) with the checks every connect makes: the addresses are what the
 * host spells. */
/* What a resolution of dial (rc as osb__resolve returns it, why its
 * reason) means: OSB_OK with out checked, or the error. */
static osb_err osb__resolve_outcome(const osb_url *dial, const char *to, int rc, const char *why, osb__addrs *out,
                                    osb_error *err) {
    if (rc == -1) {
        osb__set_error(err, OSB_ERR_TIMEOUT, "resolving %shost '%s' timed out", to, dial->host);
        if (err) err->phase = OSB_PHASE_DNS;
        return OSB_ERR_TIMEOUT;
    }
    if (rc != 0 || !out->n) {
        osb__set_error(err, OSB_ERR_DNS, "cannot resolve %shost '%s'%s%s", to, dial->host, why[0] ? ": " : "", why);
        if (err) err->phase = OSB_PHASE_DNS;
        return OSB_ERR_DNS;
    }
    if (!osb__addresses_are_literal(dial->host, out)) {
        /* the resolver read the host as an address other than the one it
           spells (or as one where we see a name): TLS would verify one
           address and the socket reach another */
        out->n = 0;
        osb__set_error(err, OSB_ERR_INVALID_ARG,
                       "host '%s' is an address in a form the resolver reads differently; write "
                       "IPv4 as four decimal numbers without leading zeros, IPv6 in brackets", dial->host);
        return OSB_ERR_INVALID_ARG;
    }
    return OSB_OK;
}

static osb_err osb__resolve_checked(const osb_url *dial, const char *to, int64_t deadline,
                                    osb__addrs *out, osb_error *err) {
    char why[160];
    int rc = osb__resolve(dial, deadline, out, why, sizeof why);
    return osb__resolve_outcome(dial, to, rc, why, out, err);
}

/* The error of a connect that reached no address of dial; tried lists them. */
static osb_err osb__connect_failed(const osb_url *dial, const char *to, const char *tried, int timed_out,
                                   int sys_err, int64_t deadline, osb_error *err) {
    char eb[OSB__ERRNO_BUF];
    if (timed_out && (!deadline || osb__now_ms() >= deadline - 1)) {
        osb__set_error(err, OSB_ERR_TIMEOUT, "connect to %s%.200s:%u timed out; tried %s", to, dial->host,
                       (unsigned)dial->port, tried);
        if (err) err->phase = OSB_PHASE_CONNECT;
        return OSB_ERR_TIMEOUT;
    }
    osb__set_error(err, OSB_ERR_CONNECT, "cannot connect to %s%.200s:%u: %s; tried %s", to, dial->host,
                   (unsigned)dial->port, sys_err ? osb__errno_text(sys_err, eb) : "timed out", tried);
    if (err) { err->sys_errno = sys_err; err->phase = OSB_PHASE_CONNECT; err->retryable = 1; }
    return OSB_ERR_CONNECT;
}

/* Wraps a connected socket (closed on failure) into a direct connection to
 * u with a receive buffer of cap bytes. */
static osb_err osb__conn_new(osb_client *cl, osb__socket fd, const osb_url *u, size_t cap, osb__conn **out,
                             osb_error *err) {
    osb__conn *k = (osb__conn *)osb__alloc(cl->alloc, sizeof *k);
    *out = NULL;
    if (k) {
        memset(k, 0, sizeof *k);
        k->fd = fd;
        k->buf = (char *)osb__alloc(cl->alloc, cap);
        k->cap = cap;
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
    *out = k;
    return OSB_OK;
}

#if OSB_TLS
/* The client's trust anchors, loaded on its first https connection. */
static osb_err osb__tls_ctx_of(osb_client *cl, osb__tls_ctx **out, osb_error *err) {
    osb_err e = OSB_OK;
    if (!cl->tls_ctx) e = osb__tls_ctx_new(&cl->tls, cl->alloc, (osb__tls_ctx **)&cl->tls_ctx, err);
    *out = (osb__tls_ctx *)cl->tls_ctx;
    return e;
}
#endif

static osb_err osb__connect(osb_client *cl, const osb_url *u, const osb__proxy *px, int route,
                            int64_t deadline, osb__conn **out, osb_error *err) {
    const osb_url *dial = px ? &px->url : u;   /* where the socket goes */
    const char *to = px ? "proxy " : "";
    osb__addrs res;
    char tried[240] = "", eb[OSB__ERRNO_BUF];
    int sys_err = 0, timed_out = 0;
    osb__conn *k;
    osb__socket fd = OSB__BAD_SOCKET;
    osb_err e;
    *out = NULL;
#if !OSB_TLS
    if (u->https) {
        osb__set_error(err, OSB_ERR_UNSUPPORTED,
                       "https needs TLS: build the implementation with OSB_TLS=1 and link -lbearssl");
        return OSB_ERR_UNSUPPORTED;
    }
#endif
    if ((e = osb__resolve_checked(dial, to, deadline, &res, err)) != OSB_OK) return e;
    {
        /* every address, families alternating, each with its share of what
           is left of the deadline: one dead address cannot use all of it */
        osb__addr order[OSB__MAX_ADDRS];
        size_t n = osb__addr_order(&res, order, OSB__MAX_ADDRS), i;
        for (i = 0; i < n; i++) {
            int64_t now = osb__now_ms(), d = deadline;
            if (deadline) {
                if (now >= deadline) { timed_out = 1; break; }
                if (n - i > 1) d = now + (deadline - now) / (int64_t)(n - i);
            }
            if (osb__connect_one(&order[i], d, &fd, &sys_err, &timed_out) == 0) break;
            osb__addr_note(tried, sizeof tried, &order[i], timed_out ? "timed out" : osb__errno_text(sys_err, eb));
            fd = OSB__BAD_SOCKET;
        }
        for (; i < n && fd == OSB__BAD_SOCKET; i++) osb__addr_note(tried, sizeof tried, &order[i], "not tried");
    }
    if (fd == OSB__BAD_SOCKET) return osb__connect_failed(dial, to, tried, timed_out, sys_err, deadline, err);
    if ((e = osb__conn_new(cl, fd, u, OSB_IO_BUFFER, &k, err)) != OSB_OK) return e;
    k->route = route;
    if (px) {
        memcpy(k->via, px->name, sizeof k->via);
        k->proxy_auth = px->auth[0] != 0;
    }
#if !OSB_NO_PROXY
    if (route == OSB__ROUTE_TUNNEL) {
        osb_err e = osb__tunnel(cl, k, px, u, deadline, err);
        if (e) {
            osb__conn_close(k, cl->alloc);
            return e;
        }
    }
#endif
#if OSB_TLS
    if (u->https) {
        osb__tls_ctx *ctx;
        e = osb__tls_ctx_of(cl, &ctx, err);
        if (!e) e = osb__tls_open(ctx, k, u->host, deadline, err);
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
    int upgrade;                 /* a 101 answer ends the head (WebSocket) */
    int got_any;                 /* reading the head: a byte of the answer came */
    int interim;                 /* reading the head: 1xx answers skipped */
    void (*on_wait)(void *);     /* before waiting on the network (osb_stream_on_wait) */
    void *on_wait_user;
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

/* A server-proxy route, (/v1)/sandboxes/{id}/proxy/{port}[/...], read as
 * the lifecycle server reads it (percent-decoded, the port all digits).
 * What it carries is forwarded to code in the sandbox. */
static int osb__is_proxy_route(const char *path) {
    char d[320];
    size_t n = 0;
    const char *p = path, *q;
    while (*p && n + 1 < sizeof d) {
        int hi, lo;
        if (p[0] == '%' && (hi = osb__hexval(p[1])) >= 0 && (lo = osb__hexval(p[2])) >= 0) {
            d[n++] = (char)(hi * 16 + lo);
            p += 3;
        } else {
            d[n++] = *p++;
        }
    }
    d[n] = 0;
    q = d;
    if (!strncmp(q, "/v1/", 4)) q += 3;
    if (strncmp(q, "/sandboxes/", 11) != 0) return 0;
    q += 11;
    if (*q == '/' || !*q) return 0;
    while (*q && *q != '/') q++;
    if (strncmp(q, "/proxy/", 7) != 0) return 0;
    q += 7;
    if (*q < '0' || *q > '9') return 0;
    while (*q >= '0' && *q <= '9') q++;
    return *q == '/' || *q == 0;
}

/* Which credentials a request carries is decided here and nowhere else,
 * by what the request is, not by where it goes:
 *  - a lifecycle API call (req->path alone, under the lifecycle URL, and
 *    not a server-proxy route) carries the API key, the configured headers
 *    and OPEN-SANDBOX-CLIENT-IP;
 *  - an execd call (req->execd: the typed execd calls) carries its own
 *    lines (the endpoint's headers) and the configured execd access token;
 *  - every other request (an absolute req->url: egress, any endpoint, even
 *    one on the lifecycle server's host and port; a server-proxy route)
 *    carries its own header lines only: for an endpoint, the headers the
 *    lifecycle server gave for it.
 * Redirects are never followed, so nothing is re-sent to another origin. */
enum { OSB__TO_OTHER, OSB__TO_LIFECYCLE, OSB__TO_EXECD };
static int osb__request_kind(const osb_http_request *req) {
    if (req->execd) return OSB__TO_EXECD;
    return !req->url && !osb__is_proxy_route(req->path ? req->path : "") ? OSB__TO_LIFECYCLE : OSB__TO_OTHER;
}

static osb_err osb__add_line(osb_buf *b, const char *name, const char *value) {
    osb_buf_append_str(b, name);
    osb_buf_append(b, ": ", 2);
    osb_buf_append_str(b, value);
    return osb_buf_append(b, "\r\n", 2);
}

/* Writes the request head into the client's scratch buffer. The one place
 * that decides the head: every caller line is checked (form, and no
 * framing header: those come from here only, once each), a field the
 * library would add is left out when a caller line gives it, and the
 * credentials follow osb__is_lifecycle_call. */
static void osb__append_authority(osb_buf *b, const osb_url *u) {
    char port[16];
    if (strchr(u->host, ':')) {
        osb_buf_append(b, "[", 1);
        osb_buf_append_str(b, u->host);
        osb_buf_append(b, "]", 1);
    } else {
        osb_buf_append_str(b, u->host);
    }
    if (u->port != (u->https ? 443 : 80)) {
        osb__fmt(port, sizeof port, ":%u", (unsigned)u->port);
        osb_buf_append_str(b, port);
    }
}

/* fwd: the proxy that forwards this request (plain http through a proxy):
 * the request line takes the absolute form, and the proxy's credentials go
 * in Proxy-Authorization (the proxy removes it; it is not the target's). */
static osb_err osb__build_head(osb_client *c, const osb_http_request *req, const osb_url *u,
                               const osb__proxy *fwd, const char *method, int kind, osb_error *err) {
    int lifecycle = kind == OSB__TO_LIFECYCLE;
    osb_buf *b = &c->scratch;
    const char *const *own = req->headers;
    const char *const *cfg = lifecycle ? (const char *const *)c->headers : NULL;
    char tmp[64];
    size_t i;
    b->len = 0;
    b->failed = OSB_OK;
    if (own) {
        const char *const *h;
        for (h = own; *h; h++) {
            osb_err e = osb__header_allowed(*h, "request", err);
            if (e) return e;
        }
    }
    if (req->content_type && (osb__has_header(own, "Content-Type") || osb__has_header(cfg, "Content-Type"))) {
        osb__set_error(err, OSB_ERR_INVALID_ARG, "Content-Type given twice (content_type and a header line)");
        return OSB_ERR_INVALID_ARG;
    }
#define OSB__GIVEN(name) (osb__has_header(own, name) || osb__has_header(cfg, name))
    osb_buf_append_str(b, method);
    osb_buf_append(b, " ", 1);
    if (fwd) {
        osb_buf_append_str(b, "http://");
        osb__append_authority(b, u);
    }
    osb_buf_append_str(b, u->prefix);
    if (req->path && *req->path) osb_buf_append_str(b, req->path);
    else if (!u->prefix[0]) osb_buf_append(b, "/", 1);
    if (req->query && *req->query) {
        osb_buf_append(b, "?", 1);
        osb_buf_append_str(b, req->query);
    }
    osb_buf_append(b, " HTTP/1.1\r\nHost: ", 17);
    osb__append_authority(b, u);
    osb_buf_append(b, "\r\n", 2);
    if (fwd && fwd->auth[0]) osb__add_line(b, "Proxy-Authorization", fwd->auth);
    if (!OSB__GIVEN("User-Agent")) osb__add_line(b, "User-Agent", c->user_agent);
    if (!OSB__GIVEN("X-Request-ID")) {
        uint64_t r1 = osb__splitmix(&c->rng), r2 = osb__splitmix(&c->rng);
        osb__fmt(tmp, sizeof tmp, "%08x%08x%08x%08x", (unsigned)(r1 >> 32), (unsigned)r1,
                 (unsigned)(r2 >> 32), (unsigned)r2);
        osb__add_line(b, "X-Request-ID", tmp);
    }
    if (lifecycle) {
        if (c->api_key && !OSB__GIVEN("OPEN-SANDBOX-API-KEY"))
            osb__add_line(b, "OPEN-SANDBOX-API-KEY", c->api_key);
        if (c->client_ip[0] && !OSB__GIVEN("OPEN-SANDBOX-CLIENT-IP"))
            osb__add_line(b, "OPEN-SANDBOX-CLIENT-IP", c->client_ip);
        for (i = 0; i < c->nheaders; i++) {
            char name[128];
            size_t n = osb__check_header_line(c->headers[i]);
            if (n < sizeof name) {     /* a line of the caller's with the same name wins */
                memcpy(name, c->headers[i], n);
                name[n] = 0;
                if (osb__has_header(own, name)) continue;
            }
            osb_buf_append_str(b, c->headers[i]);
            osb_buf_append(b, "\r\n", 2);
        }
    }
    if (kind == OSB__TO_EXECD && c->execd_token && !OSB__GIVEN("X-EXECD-ACCESS-TOKEN"))
        osb__add_line(b, "X-EXECD-ACCESS-TOKEN", c->execd_token);
    if (req->accept && !OSB__GIVEN("Accept")) osb__add_line(b, "Accept", req->accept);
#undef OSB__GIVEN
    if (own) {
        const char *const *h;
        for (h = own; *h; h++) {
            osb_buf_append_str(b, *h);
            osb_buf_append(b, "\r\n", 2);
        }
    }
    if (req->content_type) osb__add_line(b, "Content-Type", req->content_type);
    if (req->body || req->body_len) {
        osb__fmt(tmp, sizeof tmp, "%lu", (unsigned long)req->body_len);
        osb__add_line(b, "Content-Length", tmp);
    } else if (req->body_reader) {
        if (req->body_reader_len >= 0) {
            osb__fmt(tmp, sizeof tmp, "%llu", (unsigned long long)req->body_reader_len);
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

/* osb_files_upload's file-descriptor parts (defined with it below). */
static int osb__ex_src_fd(const osb_mpart *p);

/* A multipart body (osb_multipart_read) of known length. Heads, tails and
 * in-memory parts are staged in the connection's buffer, several per send;
 * a part read from a file descriptor goes from the file to the socket with
 * sendfile where there is one (plain http on Linux), without passing through
 * this process; elsewhere, and for descriptors sendfile refuses (a pipe),
 * it is read into the buffer as any reader. */
static osb_err osb__send_multipart(osb__conn *k, const osb_http_request *req, osb_multipart *m,
                                   int64_t deadline, osb_error *err) {
    char *data = k->buf;
    size_t room = k->cap, fill = 0;
    int direct = OSB__HAVE_SENDFILE && !k->tls;
    osb_err e;
    for (;;) {
        const osb_mpart *p = m->phase == OSB__MP_BODY ? &m->parts[m->part] : NULL;
        int fd = p && direct ? osb__ex_src_fd(p) : -1;
        size_t want;
        ptrdiff_t n;
        if (req->cancel && *req->cancel) {
            osb__set_error(err, OSB_ERR_CANCELLED, "cancelled");
            return OSB_ERR_CANCELLED;
        }
#if OSB__HAVE_SENDFILE
        if (fd >= 0 && m->done_body < p->size) {
            uint64_t got = 0;
            int unsupported = 0;
            k->more = 1;   /* the file's bytes follow */
            e = fill ? osb__conn_send(k, data, fill, deadline, err) : OSB_OK;
            k->more = 0;
            if (e) return e;
            fill = 0;
            e = osb__sock_sendfile(k, fd, p->size - m->done_body, &got, &unsupported, deadline, err);
            if (e) {
                if (e == OSB_ERR_IO) m->err = OSB_ERR_IO;
                return e;
            }
            if (unsupported) {
                direct = 0;
                continue;
            }
            m->done_body += got;
            m->sent += got;
            if (m->done_body == p->size) {
                m->phase = OSB__MP_BODY_END;
                memcpy(m->head, "\r\n", 2);
                m->head_len = 2;
                m->head_pos = 0;
            }
            continue;
        }
#else
        (void)fd;
#endif
        if (m->phase == OSB__MP_DONE) break;
        /* with sendfile at hand, stop at the end of this head or part so that
         * a descriptor's part starts a sendfile of its own (reading a part
         * of it would do no harm: the descriptor's position moves with it) */
        want = room - fill;
        if (direct) {
            uint64_t seg = m->phase == OSB__MP_BODY ? p->size - m->done_body : (uint64_t)(m->head_len - m->head_pos);
            if (seg > 0 && seg < want) want = (size_t)seg;
        }
        n = want ? osb_multipart_read(m, data + fill, want) : 0;
        if (n < 0 || (size_t)n > want) {
            osb__set_error(err, OSB_ERR_IO, "the request body reader failed");
            return OSB_ERR_IO;
        }
        fill += (size_t)n;
        if (fill == room) {
            k->more = m->phase != OSB__MP_DONE;
            e = osb__conn_send(k, data, fill, deadline, err);
            k->more = 0;
            if (e) return e;
            fill = 0;
        }
    }
    if (fill && (e = osb__conn_send(k, data, fill, deadline, err)) != OSB_OK) return e;
    if (m->sent != m->total || m->total != (uint64_t)req->body_reader_len) {
        osb__set_error(err, OSB_ERR_IO, "the multipart body ended after %llu of %lld bytes",
                       (unsigned long long)m->sent, (long long)req->body_reader_len);
        return OSB_ERR_IO;
    }
    return OSB_OK;
}

/* Streams a reader's body, chunk-encoded when its length is unknown. The
 * connection's receive buffer stages it: no response is read before the
 * request is sent, and large blocks mean few system calls. */
/* Reads the next piece of a reader's body into the connection's buffer,
 * chunk-framed when the length is unknown: *out / *out_len name what to
 * send (possibly nothing), *last is 1 once the body is complete with it.
 * *sent counts the reader's bytes. */
static osb_err osb__reader_stage(osb__conn *k, const osb_http_request *req, uint64_t *sent,
                                 const char **out, size_t *out_len, int *last, osb_error *err) {
    char *data = k->buf + 12;                 /* room before the data for a chunk-size line */
    size_t room = k->cap - 16;                /* and after it for CRLF */
    ptrdiff_t n = req->body_reader(req->body_reader_user, data, room);
    *out = data;
    *out_len = 0;
    *last = 0;
    if (n < 0 || (size_t)n > room) {
        osb__set_error(err, OSB_ERR_IO, "the request body reader failed");
        return OSB_ERR_IO;
    }
    if (req->cancel && *req->cancel) {
        osb__set_error(err, OSB_ERR_CANCELLED, "cancelled");
        return OSB_ERR_CANCELLED;
    }
    if (req->body_reader_len < 0) {
        char head[12];
        int hl = osb__fmt(head, sizeof head, "%lx\r\n", (unsigned long)n);
        memcpy(data - hl, head, (size_t)hl);
        memcpy(data + n, "\r\n", 2);   /* ends the data, or for the last chunk the empty trailer */
        *out = data - hl;
        *out_len = (size_t)(hl + n + 2);
        *last = n == 0;
        return OSB_OK;
    }
    if (n == 0) {
        if (*sent != (uint64_t)req->body_reader_len) {
            osb__set_error(err, OSB_ERR_IO, "the request body reader ended after %llu of %lld bytes",
                           (unsigned long long)*sent, (long long)req->body_reader_len);
            return OSB_ERR_IO;
        }
        *last = 1;
        return OSB_OK;
    }
    if (*sent + (uint64_t)n > (uint64_t)req->body_reader_len) {
        osb__set_error(err, OSB_ERR_IO, "the request body reader gave more than body_reader_len bytes");
        return OSB_ERR_IO;
    }
    *sent += (uint64_t)n;
    *out_len = (size_t)n;
    return OSB_OK;
}

static osb_err osb__send_reader(osb__conn *k, const osb_http_request *req, int64_t deadline,
                                osb_error *err) {
    uint64_t sent = 0;
    int chunked = req->body_reader_len < 0;
    osb_err e;
#if OSB_TLS
    if (!chunked && k->tls) {   /* the reader fills TLS records directly */
        osb__tls_src src;
        memset(&src, 0, sizeof src);
        src.read = req->body_reader;
        src.user = req->body_reader_user;
        src.cancel = req->cancel;
        return osb__tls_send_src(k, &src, (uint64_t)req->body_reader_len, deadline, err);
    }
#endif
    if (!chunked && req->body_reader == osb_multipart_read)
        return osb__send_multipart(k, req, (osb_multipart *)req->body_reader_user, deadline, err);
    for (;;) {
        const char *p;
        size_t n;
        int last;
        e = osb__reader_stage(k, req, &sent, &p, &n, &last, err);
        k->more = osb__more_follows(req->body_reader_len, sent);
        if (!e && n) e = osb__conn_send(k, p, n, deadline, err);
        k->more = 0;
        if (e || last) return e;
    }
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
/* The number in text[0..n) of decimal digits only; -1 otherwise. */
static int osb__digits(const char *text, size_t n) {
    int v = 0;
    size_t i;
    for (i = 0; i < n; i++) {
        if (text[i] < '0' || text[i] > '9') return -1;
        v = v * 10 + (text[i] - '0');
    }
    return v;
}

static int64_t osb__parse_retry_after(osb_str v) {
    static const char months[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
    uint64_t secs;
    if (osb__parse_u64(v, &secs)) return secs > 86400u * 365u ? (int64_t)86400 * 365 * 1000 : (int64_t)secs * 1000;
    /* "Sun, 06 Nov 1994 08:49:37 GMT": fixed columns, read in place (the
       value is a slice of the receive buffer, not a C string) */
    if (v.len == 29 && v.ptr[3] == ',' && v.ptr[4] == ' ' && v.ptr[7] == ' ' && v.ptr[11] == ' ' &&
        v.ptr[16] == ' ' && v.ptr[19] == ':' && v.ptr[22] == ':' && memcmp(v.ptr + 25, " GMT", 4) == 0) {
        const char *p = v.ptr;
        int day = osb__digits(p + 5, 2), year = osb__digits(p + 12, 4);
        int hh = osb__digits(p + 17, 2), mm = osb__digits(p + 20, 2), ss = osb__digits(p + 23, 2);
        int mon = 0, i;
        for (i = 0; i < 12; i++)
            if (memcmp(p + 8, months + 3 * i, 3) == 0) mon = i + 1;
        if (day < 1 || day > 31 || year < 0 || hh < 0 || hh > 23 || mm < 0 || mm > 59 || ss < 0 ||
            ss > 60 || mon == 0)
            return -1;
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
        /* a comma-separated list of options, any case: "keep-alive, Close" closes */
        const char *p = h->value.ptr, *end = p + h->value.len;
        while (p < end) {
            const char *t, *te;
            while (p < end && (*p == ' ' || *p == '\t' || *p == ',')) p++;
            t = p;
            while (p < end && *p != ',') p++;
            te = p;
            while (te > t && (te[-1] == ' ' || te[-1] == '\t')) te--;
            if (osb__ieq(t, (size_t)(te - t), "close")) *conn_close = 1;
            if (osb__ieq(t, (size_t)(te - t), "keep-alive")) *conn_keep = 1;
        }
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
        if (e) {
            if (e != OSB__AGAIN) b->sticky = e;   /* a multi comes back */
            return e;
        }
    }
    k->end += *got;
    return OSB_OK;
}

static int64_t osb__idle_deadline(osb_body *b, int ms) {
    return osb__earlier(osb__deadline_in(ms), b->total_deadline);
}

/* Reads and parses the response head; skips 1xx responses. Resumable: the
 * parse starts over on the buffered bytes, progress is in b (got_any and
 * interim, zeroed by the caller before the first call). */
static osb_err osb__read_head(osb_body *b, const osb_http_request *req, int is_head,
                              int first_byte_ms, osb_error *err) {
    osb__conn *k = b->conn;
    osb_http_header fields[OSB_HTTP_MAX_HEADERS];
    for (;;) {
        osb_http_head h;
        int r;
        h.headers = fields;
        h.num_headers = OSB_HTTP_MAX_HEADERS;
        r = k->end > k->start ? osb_http_parse_response(k->buf + k->start, k->end - k->start, &h)
                              : OSB_HTTP_INCOMPLETE;
        if (r == OSB_HTTP_INCOMPLETE) {
            size_t got;
            osb_err e = osb__fill(b, osb__idle_deadline(b, b->got_any ? b->idle_ms : first_byte_ms),
                                  b->got_any ? OSB_PHASE_IDLE : OSB_PHASE_FIRST_BYTE, &got, err);
            if (e) return e;
            if (got == 0) {
                if (!b->got_any) return osb__fail(b, OSB_ERR_CLOSED, err, "the server closed the connection without a response");
                return osb__fail(b, OSB_ERR_TRUNCATED, err, "the connection closed inside the response head");
            }
            b->got_any = 1;
            continue;
        }
        if (r == OSB_HTTP_MALFORMED) return osb__fail(b, OSB_ERR_PROTOCOL, err, "malformed response head");
        if (r == OSB_HTTP_TOO_LARGE) return osb__fail(b, OSB_ERR_TOO_LARGE, err, "response head over its limits");
        k->start += (size_t)r;
#if !OSB_NO_PROXY
        if (h.status == 407 && k->route == OSB__ROUTE_FORWARD) {   /* the proxy's answer, not the target's */
            b->sticky = osb__proxy_refused(err, k->via, NULL, 407, h.reason, k->proxy_auth);
            return b->sticky;
        }
#endif
        if (h.status < 200 && !(h.status == 101 && b->upgrade)) {
            if (h.status == 101) return osb__fail(b, OSB_ERR_PROTOCOL, err, "unexpected protocol upgrade");
            if (++b->interim > OSB_HTTP_MAX_INTERIM) return osb__fail(b, OSB_ERR_PROTOCOL, err, "too many interim responses");
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
            if (is_head || h.status == 204 || h.status == 304 || h.status == 101) {
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
        if (b->on_wait) b->on_wait(b->on_wait_user);   /* all received bytes are used */
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
    ) {
        k->nb = 0;
        osb__pool_put(b->cl, k);
    } else {
        osb__conn_close(k, b->cl->alloc);
    }
}

OSB_API void osb_body_close(osb_body *b) {
    if (!b) return;
    osb__body_end(b);
    if (b->allocated) osb__free(b->cl->alloc, b);
}

/* Checks every part of a request that goes into its head and writes the
 * head into the client's scratch buffer (osb__build_head). *u gets the URL
 * it goes to (parsed into *target for an absolute req->url). */
static osb_err osb__request_head(osb_client *c, const osb_http_request *req, osb_url *target,
                                 const osb_url **u, int upgrade, const osb__proxy **px, int *route,
                                 osb_error *err) {
    const char *method = req->method ? req->method : "GET", *m;
    *u = &c->base;
    for (m = method; *m; m++)
        if (!osb__is_tchar((unsigned char)*m)) break;
    if (*m || m == method) { osb__set_error(err, OSB_ERR_INVALID_ARG, "invalid method"); return OSB_ERR_INVALID_ARG; }
    if (req->url) {
        const char *why;
        if (osb__url_parse_why(req->url, c->base.https, target, &why) != OSB_OK) {
            if (target->host[0] && !strchr(target->host, '@'))   /* userinfo may be a secret */
                osb__set_error(err, OSB_ERR_INVALID_ARG, "invalid URL (host '%s'): %s", target->host, why);
            else
                osb__set_error(err, OSB_ERR_INVALID_ARG, "invalid URL: %s", why);
            return OSB_ERR_INVALID_ARG;
        }
        *u = target;
    }
    if ((req->path && (req->path[0] != '/' || !osb__check_target(req->path, 0))) ||
        (req->query && !osb__check_target(req->query, 1))) {
        osb__set_error(err, OSB_ERR_INVALID_ARG, "the path or query holds characters that must be percent-encoded");
        return OSB_ERR_INVALID_ARG;
    }
    if ((req->content_type && !osb__field_value_ok(req->content_type)) ||
        (req->accept && !osb__field_value_ok(req->accept))) {
        osb__set_error(err, OSB_ERR_INVALID_ARG, "invalid content type or accept value");
        return OSB_ERR_INVALID_ARG;
    }
    /* through a proxy: https and WebSocket upgrades in a CONNECT tunnel,
       plain http forwarded in absolute form */
    *px = osb__proxy_of(&c->proxies, *u);
    *route = !*px ? OSB__ROUTE_DIRECT : ((*u)->https || upgrade) ? OSB__ROUTE_TUNNEL : OSB__ROUTE_FORWARD;
    if (*px && (*px)->state != OSB__PX_HTTP) return osb__proxy_unusable(*px, err);
    return osb__build_head(c, req, *u, *route == OSB__ROUTE_FORWARD ? *px : NULL, method,
                           osb__request_kind(req), err);
}

/* Sends the request (once more on a fresh connection if a pooled one turned
 * out to be dead) and reads the response head into b. upgrade: a 101 answer
 * is the end of the head (the WebSocket handshake), not an error. */
static osb_err osb__exchange_begin(osb_client *c, const osb_http_request *req,
                                   osb_http_response *res, osb_body *b, int upgrade) {
    osb_error *err = &c->err;
    const char *method = req->method ? req->method : "GET";
    osb_url target;
    const osb_url *u = &c->base;
    const osb__proxy *px = NULL;
    int idempotent, attempt, is_head, route = OSB__ROUTE_DIRECT;
    int connect_ms = osb__timeout_or(req->timeouts.connect_ms, c->timeouts.connect_ms);
    int first_ms = osb__timeout_or(req->timeouts.first_byte_ms, c->timeouts.first_byte_ms);
    int total_ms = req->stream ? 0 : osb__timeout_or(req->timeouts.total_ms, c->timeouts.total_ms);
    osb_err e;

    osb__reset_error(err);
    memset(res, 0, sizeof *res);
    res->content_length = -1;
    res->retry_after_ms = -1;
    osb_buf_init(&res->body, c->alloc);
    memset(b, 0, sizeof *b);
    b->cl = c;
    b->res = res;
    b->upgrade = upgrade;
    b->cancel = req->cancel;
    b->idle_ms = osb__timeout_or(req->timeouts.idle_ms, c->timeouts.idle_ms);
    b->total_deadline = osb__deadline_in(total_ms);

    e = osb__request_head(c, req, &target, &u, upgrade, &px, &route, err);
    if (e) return e;
    if (upgrade) {   /* framing fields are the client's own: they go before the blank line */
        c->scratch.len -= 2;
        if (osb_buf_append_str(&c->scratch, "Upgrade: websocket\r\nConnection: Upgrade\r\n\r\n") != OSB_OK) {
            osb__set_error(err, OSB_ERR_NOMEM, "out of memory");
            return OSB_ERR_NOMEM;
        }
    }
    idempotent = req->idempotent ? req->idempotent > 0 : osb__method_idempotent(method);
    is_head = !strcmp(method, "HEAD");

    for (attempt = 0;; attempt++) {
        int64_t connect_deadline = osb__earlier(osb__deadline_in(connect_ms), b->total_deadline);
        int fresh = 0;
        osb__conn *k = osb__pool_take(c, u, px, route);
        if (!k) {
            e = osb__connect(c, u, px, route, connect_deadline, &k, err);
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
            int64_t after = osb__body_after_head(req);
            int joined = req->body && after == 0;
            if (joined && osb_buf_append(&c->scratch, req->body, req->body_len) != OSB_OK) {
                osb__body_end(b);
                osb__set_error(err, OSB_ERR_NOMEM, "out of memory");
                return OSB_ERR_NOMEM;
            }
            osb__sndbuf_for_upload(k, after);
            k->more = osb__more_follows(after, 0);
            e = osb__conn_send(k, c->scratch.data, c->scratch.len, send_deadline, err);
            k->more = 0;
            if (joined) c->scratch.len -= req->body_len;
            if (!e && req->body && !joined) e = osb__conn_send(k, req->body, req->body_len, send_deadline, err);
            if (!e && !req->body && req->body_reader) e = osb__send_reader(k, req, send_deadline, err);
        }
        b->got_any = b->interim = 0;
        if (!e) e = osb__read_head(b, req, is_head, first_ms, err);
        if (!e) return OSB_OK;
        b->sticky = OSB_OK;
        osb__body_end(b);
        /* a pooled connection the server had closed: the request never
           reached it, so an idempotent one may go once more */
        if (!fresh && !b->got_any && attempt == 0 && idempotent && !req->body_reader &&
            (e == OSB_ERR_CLOSED || e == OSB_ERR_CONNECT))
            continue;
        if ((e == OSB_ERR_CLOSED || e == OSB_ERR_CONNECT) && !err->http_status) err->retryable = idempotent;
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
    e = osb__exchange_begin(c, req, response, b, 0);
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

/* Appends ": " and text (made printable) to the error's message. */
static void osb__error_add(osb_error *err, const char *text, size_t n) {
    osb__append_clean(err->message, sizeof err->message, ": ", 2);
    osb__append_clean(err->message, sizeof err->message, text, n);
}

/* The code an error body names (a JSON string) becomes the error's server_code. */
static void osb__errbody_code(osb_error *err, const osb_str *code, char *text, size_t cap) {
    if (osb__json_string_text(code, text, cap))
        osb__copy_field(err->server_code, sizeof err->server_code, text, strlen(text));
}

/* A FastAPI validation error: name the first problem and where it is. */
static void osb__error_from_detail_array(osb_error *err, const osb_str *detail) {
    osb__erritems list;
    char buf[OSB_ERROR_BODY_MAX + 1024];
    const osb__erritem *it;
    if (osb_bind_into(&osb__erritems_type, detail->ptr, detail->len, &list, buf, sizeof buf, NULL, NULL) != OSB_OK ||
        list.count == 0)
        return;
    it = &list.items[0];
    osb__error_add(err, it->msg.ptr ? it->msg.ptr : "", it->msg.len);
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
    while ((hit = osb__strstr(msg, secret)) != NULL) {
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
    return osb__ieq_any(name, n, "open-sandbox-api-key\0x-execd-access-token\0opensandbox-egress-auth\0"
                                 "opensandbox-secure-access\0authorization\0proxy-authorization\0cookie\0") != NULL;
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
    osb__fmt(err->message, sizeof err->message, "HTTP %d", status);
    while (len > 0 && (body[len - 1] == '\n' || body[len - 1] == '\r' || body[len - 1] == ' ')) len--;
    if (len && body[0] == '{' &&
        osb_bind_into(&osb__errbody_type, body, len, &eb, buf, sizeof buf, NULL, NULL) == OSB_OK) {
        osb__errbody_code(err, &eb.code, text, sizeof text);
        if (osb__json_string_text(&eb.message, text, sizeof text) ||
            osb__json_string_text(&eb.detail, text, sizeof text) ||
            osb__json_string_text(&eb.error, text, sizeof text)) {
            osb__error_add(err, text, strlen(text));
        } else if (eb.detail.ptr && eb.detail.ptr[0] == '[') {
            osb__error_from_detail_array(err, &eb.detail);
        } else if (eb.error.ptr && eb.error.ptr[0] == '{') {
            osb__errbody inner;
            char ibuf[OSB_ERROR_BODY_MAX + 512];
            if (osb_bind_into(&osb__errbody_type, eb.error.ptr, eb.error.len, &inner, ibuf, sizeof ibuf, NULL, NULL) == OSB_OK) {
                osb__errbody_code(err, &inner.code, text, sizeof text);
                if (osb__json_string_text(&inner.message, text, sizeof text)) osb__error_add(err, text, strlen(text));
            }
        } else if (!err->server_code[0]) {   /* a code alone (execd's {"code":"UNKNOWN"}) says enough */
            osb__error_add(err, body, len);
        }
    } else if (len) {
        osb__error_add(err, body, len);
    }
    osb__redact_credentials(c, err->message);
}

/* Takes one piece of a response body as osb_request_raw does: into errbody
 * for an error status (up to OSB_ERROR_BODY_MAX bytes, then *enough), else
 * to the sink or into res->body. */
static osb_err osb__body_piece(osb_body *b, const osb_http_request *req, osb_http_response *res,
                               char *errbody, size_t *errlen, const void *d, size_t n, int *enough) {
    osb_err e;
    *enough = 0;
    if (errbody) {
        size_t room = OSB_ERROR_BODY_MAX - *errlen;
        if (n > room) n = room;
        memcpy(errbody + *errlen, d, n);
        *errlen += n;
        *enough = *errlen == OSB_ERROR_BODY_MAX;   /* enough to explain; drop the rest */
        return OSB_OK;
    }
    if (req->sink) {
        if (!req->sink(req->sink_user, d, n)) return OSB_OK;
        return osb__fail(b, OSB_ERR_CANCELLED, &b->cl->err, "the body sink stopped the transfer");
    }
    if ((e = osb_buf_append(&res->body, d, n)) != OSB_OK)
        osb__fail(b, e, &b->cl->err, e == OSB_ERR_TOO_LARGE ? "response body over max_body" : "out of memory");
    return e;
}

OSB_API osb_err osb_request_raw(osb_client *c, const osb_http_request *req,
                                osb_http_response *response) {
    osb_body b;
    osb_err e;
    int is_error;
    char errbody[OSB_ERROR_BODY_MAX];
    size_t errlen = 0;
    if (!c || !req || !response) return OSB_ERR_INVALID_ARG;
    e = osb__exchange_begin(c, req, response, &b, 0);
    if (e) return e;
    response->body.max = req->max_body ? req->max_body : OSB_BODY_MAX;
    is_error = (response->status < 200 || response->status > 299) && !req->accept_error_body;
    for (;;) {
        const void *d;
        size_t n;
        int enough;
        e = osb_body_read(&b, &d, &n);
        if (e || n == 0) break;
        e = osb__body_piece(&b, req, response, is_error ? errbody : NULL, &errlen, d, n, &enough);
        if (e || enough) break;
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
    int execd;                    /* an execd call (osb_http_request.execd) */
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

/* An execd call: osb__call_init, and the request is marked as one (it then
 * carries the client's execd access token). */
OSB__HELPER void osb__ex_call_init(osb__call *k, osb_client *c, const char *method, const osb_target *execd) {
    osb__call_init(k, c, method, execd);
    k->execd = 1;
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
    osb__fmt(num, sizeof num, "%lld", (long long)v);
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
    if (e == OSB_ERR_CONNECT && err->http_status) return err->retryable;   /* a proxy refused */
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

/* The error of an answer with error status: its body (up to
 * OSB_ERROR_BODY_MAX bytes) read for the detail. */
OSB__HELPER osb_err osb__body_http_error(osb_client *c, osb_body *body, int status) {
    char buf[OSB_ERROR_BODY_MAX];
    size_t len = 0;
    for (;;) {
        const void *d;
        size_t n;
        if (osb_body_read(body, &d, &n) != OSB_OK || n == 0) break;
        if (n > sizeof buf - len) n = sizeof buf - len;
        memcpy(buf + len, d, n);
        len += n;
        if (len == sizeof buf) break;
    }
    osb__http_error_detail(c, status, buf, len);
    return OSB_ERR_HTTP;
}

/* A call that fails before it sends (an argument check, memory): c's
 * error becomes e with msg alone; returns e. */
OSB__HELPER osb_err osb__call_fail(osb_client *c, osb_err e, const char *msg) {
    osb__reset_error(&c->err);
    osb__set_error(&c->err, e, "%s", msg);
    return e;
}

/* The scheme to put before a target's URL u: none when it has one, else
 * the client's. */
OSB__HELPER const char *osb__scheme_for(const osb_client *c, const char *u) {
    return osb__strstr(u, "://") ? "" : c->base.https ? "https://" : "http://";
}

/* The target's URL with a scheme into url (cap bytes). */
OSB__HELPER osb_err osb__target_url(osb_client *c, const osb_target *t, char *url, size_t cap) {
    const char *u = t ? t->url : NULL;
    int n;
    if (!u || !*u) return osb__call_fail(c, OSB_ERR_INVALID_ARG, "the target has no URL");
    n = osb__fmt(url, cap, "%s%s", osb__scheme_for(c, u), u);
    if (n < 0 || (size_t)n >= cap) return osb__call_fail(c, OSB_ERR_INVALID_ARG, "the target URL is too long");
    return OSB_OK;
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
    req.execd = k->execd;
    if (k->target) {
        if ((e = osb__target_url(c, k->target, url, sizeof url)) != OSB_OK) {
            osb__call_free(k);
            return e;
        }
        req.url = url;
        req.headers = k->headers ? k->headers : k->target->headers;
    }
#if !OSB_NO_MULTI
    if (c->defer) {   /* a multi's typed adder: the call becomes a transfer */
        e = c->defer_fn(c, &req, k->type, NULL);
        osb__call_free(k);
        return e;
    }
#endif
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

/* >>impl-ws ----------------------------------------------------------------- */

/* Standard base64 with padding; out needs 4 * ((n + 2) / 3) + 1 bytes
 * (WebSocket keys, a proxy's Basic credentials). */
OSB__HELPER void osb__b64_encode(const unsigned char *p, size_t n, char *out) {
    static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t i;
    for (i = 0; i + 2 < n; i += 3) {
        uint32_t v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8 | p[i + 2];
        *out++ = tab[v >> 18]; *out++ = tab[(v >> 12) & 63]; *out++ = tab[(v >> 6) & 63]; *out++ = tab[v & 63];
    }
    if (i < n) {
        uint32_t v = (uint32_t)p[i] << 16 | (i + 1 < n ? (uint32_t)p[i + 1] << 8 : 0);
        *out++ = tab[v >> 18];
        *out++ = tab[(v >> 12) & 63];
        *out++ = i + 1 < n ? tab[(v >> 6) & 63] : '=';
        *out++ = '=';
    }
    *out = 0;
}

#if !OSB_NO_WS

#ifndef OSB_WS_MAX_MESSAGE
#  define OSB_WS_MAX_MESSAGE (16u * 1024u * 1024u)
#endif
#define OSB__WS_SEND_CHUNK 16384

/* SHA-1 (FIPS 180-4) of a short message, for Sec-WebSocket-Accept only. */
static void osb__sha1(const unsigned char *msg, size_t len, unsigned char out[20]) {
    uint32_t h[5] = {0x67452301u, 0xEFCDAB89u, 0x98BADCFEu, 0x10325476u, 0xC3D2E1F0u};
    unsigned char blk[64];
    uint64_t bits = (uint64_t)len * 8;
    size_t off = 0, total = ((len + 8) / 64 + 1) * 64, i;
    for (off = 0; off < total; off += 64) {
        uint32_t w[80], a, b, c, d, e, t;
        for (i = 0; i < 64; i++) {
            size_t at = off + i;
            if (at < len) blk[i] = msg[at];
            else if (at == len) blk[i] = 0x80;
            else if (at >= total - 8) blk[i] = (unsigned char)(bits >> (8 * (total - 1 - at)));
            else blk[i] = 0;
        }
        for (i = 0; i < 16; i++)
            w[i] = (uint32_t)blk[4 * i] << 24 | (uint32_t)blk[4 * i + 1] << 16 | (uint32_t)blk[4 * i + 2] << 8 | blk[4 * i + 3];
        for (i = 16; i < 80; i++) {
            t = w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16];
            w[i] = t << 1 | t >> 31;
        }
        a = h[0]; b = h[1]; c = h[2]; d = h[3]; e = h[4];
        for (i = 0; i < 80; i++) {
            uint32_t f, k;
            if (i < 20) { f = (b & c) | (~b & d); k = 0x5A827999u; }
            else if (i < 40) { f = b ^ c ^ d; k = 0x6ED9EBA1u; }
            else if (i < 60) { f = (b & c) | (b & d) | (c & d); k = 0x8F1BBCDCu; }
            else { f = b ^ c ^ d; k = 0xCA62C1D6u; }
            t = (a << 5 | a >> 27) + f + e + k + w[i];
            e = d; d = c; c = b << 30 | b >> 2; b = a; a = t;
        }
        h[0] += a; h[1] += b; h[2] += c; h[3] += d; h[4] += e;
    }
    for (i = 0; i < 20; i++) out[i] = (unsigned char)(h[i / 4] >> (24 - 8 * (i % 4)));
}

/* ---- the codec ---- */

OSB_API int osb_ws_parse_frame(const char *buf, size_t len, osb_ws_frame_head *h) {
    const unsigned char *p = (const unsigned char *)buf;
    size_t need = 2, i;
    uint64_t n;
    int op;
    if (len < 2) return OSB_WS_INCOMPLETE;
    op = p[0] & 0x0F;
    if (p[0] & 0x70) return OSB_WS_MALFORMED;                   /* no extension was agreed */
    if (op > OSB_WS_BINARY && (op < OSB_WS_CLOSE || op > OSB_WS_PONG)) return OSB_WS_MALFORMED;
    n = p[1] & 0x7F;
    if (op >= OSB_WS_CLOSE && (!(p[0] & 0x80) || n > 125)) return OSB_WS_MALFORMED;
    if (n == 126) need += 2;
    else if (n == 127) need += 8;
    if (p[1] & 0x80) need += 4;
    if (len < need) return OSB_WS_INCOMPLETE;
    if (n == 126) {
        n = (uint64_t)p[2] << 8 | p[3];
        if (n < 126) return OSB_WS_MALFORMED;
    } else if (n == 127) {
        n = 0;
        for (i = 0; i < 8; i++) n = n << 8 | p[2 + i];
        if (n >> 63 || n < 65536) return OSB_WS_MALFORMED;
    }
    h->fin = (p[0] & 0x80) != 0;
    h->opcode = op;
    h->masked = (p[1] & 0x80) != 0;
    if (h->masked) memcpy(h->mask, p + need - 4, 4);
    else memset(h->mask, 0, 4);
    h->length = n;
    return (int)need;
}

OSB_API size_t osb_ws_write_head(unsigned char out[14], int fin, int opcode, const unsigned char *mask,
                                 uint64_t length) {
    size_t n = 2, i;
    out[0] = (unsigned char)((fin ? 0x80 : 0) | (opcode & 0x0F));
    if (length < 126) {
        out[1] = (unsigned char)length;
    } else if (length < 65536) {
        out[1] = 126;
        out[2] = (unsigned char)(length >> 8);
        out[3] = (unsigned char)length;
        n = 4;
    } else {
        out[1] = 127;
        for (i = 0; i < 8; i++) out[2 + i] = (unsigned char)(length >> (56 - 8 * i));
        n = 10;
    }
    if (mask) {
        out[1] |= 0x80;
        memcpy(out + n, mask, 4);
        n += 4;
    }
    return n;
}

OSB_API void osb_ws_mask(void *data, size_t len, const unsigned char mask[4], uint64_t offset) {
    unsigned char *p = (unsigned char *)data;
    size_t i;
    for (i = 0; i < len; i++) p[i] ^= mask[(offset + i) & 3];
}

OSB_API void osb_ws_decoder_init(osb_ws_decoder *d, int expect_masked, uint64_t max_message) {
    memset(d, 0, sizeof *d);
    d->expect_masked = expect_masked;
    d->max_message = max_message;
}

/* One step of a UTF-8 check. State: continuation bytes still due (bits
 * 0-3) and the range of the next one (bits 8-15 low, 16-23 high). */
static int osb__utf8_step(uint32_t *st, unsigned char c) {
    uint32_t need = *st & 0xF, lo = (*st >> 8) & 0xFF, hi = (*st >> 16) & 0xFF;
    if (need == 0) {
        if (c < 0x80) return 1;
        lo = 0x80, hi = 0xBF;
        if (c >= 0xC2 && c <= 0xDF) need = 1;
        else if (c == 0xE0) need = 2, lo = 0xA0;
        else if (c == 0xED) need = 2, hi = 0x9F;
        else if (c >= 0xE1 && c <= 0xEF) need = 2;
        else if (c == 0xF0) need = 3, lo = 0x90;
        else if (c >= 0xF1 && c <= 0xF3) need = 3;
        else if (c == 0xF4) need = 3, hi = 0x8F;
        else return 0;
    } else {
        if (c < lo || c > hi) return 0;
        need--;
        lo = 0x80, hi = 0xBF;
    }
    *st = need | lo << 8 | hi << 16;
    return 1;
}

static int osb__utf8_ok(uint32_t *st, const char *p, size_t n) {
    size_t i;
    for (i = 0; i < n; i++)
        if (!osb__utf8_step(st, (unsigned char)p[i])) return 0;
    return 1;
}

static ptrdiff_t osb__ws_bad(osb_ws_decoder *d, int code, const char *why) {
    d->failed = code == OSB_WS_TOO_BIG ? OSB_WS_TOO_LARGE : OSB_WS_MALFORMED;
    d->fail_code = code;
    d->error = why;
    return d->failed;
}

static int osb__ws_code_ok(int code) {
    return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014) || (code >= 3000 && code <= 4999);
}

OSB_API ptrdiff_t osb_ws_feed(osb_ws_decoder *d, char *buf, size_t len, osb_ws_piece *p) {
    size_t used = 0;
    memset(p, 0, sizeof *p);
    if (d->failed) return d->failed;
    for (;;) {
        size_t take;
        if (!d->in_frame) {
            int r;
            for (;;) {
                r = osb_ws_parse_frame(d->head, d->head_len, &d->f);
                if (r > 0) break;
                if (r == OSB_WS_MALFORMED) return osb__ws_bad(d, OSB_WS_PROTOCOL_ERROR, "malformed frame head");
                if (used == len) return (ptrdiff_t)used;
                d->head[d->head_len++] = buf[used++];
            }
            d->head_len = 0;
            if (d->f.masked != (d->expect_masked != 0))
                return osb__ws_bad(d, OSB_WS_PROTOCOL_ERROR, d->expect_masked ? "an unmasked frame from a client"
                                                                              : "a masked frame from the server");
            if (d->f.opcode == OSB_WS_CONT) {
                if (!d->msg_op) return osb__ws_bad(d, OSB_WS_PROTOCOL_ERROR, "a continuation frame outside a message");
            } else if (d->f.opcode < OSB_WS_CLOSE) {
                if (d->msg_op) return osb__ws_bad(d, OSB_WS_PROTOCOL_ERROR, "a new message inside a fragmented one");
                d->msg_op = d->f.opcode;
                d->msg_first = 1;
                d->msg_len = 0;
                d->utf8 = 0;
            }
            if (d->f.opcode < OSB_WS_CLOSE && d->max_message && d->f.length > d->max_message - d->msg_len)
                return osb__ws_bad(d, OSB_WS_TOO_BIG, "a message over the size limit");
            d->in_frame = 1;
            d->done = 0;
            d->ctl_len = 0;
        }
        take = len - used;
        if ((uint64_t)take > d->f.length - d->done) take = (size_t)(d->f.length - d->done);
        if (d->f.masked) osb_ws_mask(buf + used, take, d->f.mask, d->done);
        if (d->f.opcode >= OSB_WS_CLOSE) {
            memcpy(d->ctl + d->ctl_len, buf + used, take);
            d->ctl_len += take;
            d->done += take;
            used += take;
            if (d->done < d->f.length) return (ptrdiff_t)used;
            d->in_frame = 0;
            p->opcode = d->f.opcode;
            p->data = d->ctl;
            p->len = d->ctl_len;
            p->first = p->last = 1;
            if (d->f.opcode == OSB_WS_CLOSE) {
                uint32_t st = 0;
                if (d->ctl_len == 1) return osb__ws_bad(d, OSB_WS_PROTOCOL_ERROR, "a close frame of one byte");
                p->close_code = OSB_WS_NO_STATUS;
                if (d->ctl_len >= 2) {
                    p->close_code = (unsigned char)d->ctl[0] << 8 | (unsigned char)d->ctl[1];
                    if (!osb__ws_code_ok(p->close_code))
                        return osb__ws_bad(d, OSB_WS_PROTOCOL_ERROR, "an invalid close status code");
                    if (!osb__utf8_ok(&st, d->ctl + 2, d->ctl_len - 2) || (st & 0xF))
                        return osb__ws_bad(d, OSB_WS_INVALID_DATA, "a close reason that is not UTF-8");
                    p->data = d->ctl + 2;
                    p->len = d->ctl_len - 2;
                }
            }
            return (ptrdiff_t)used;
        }
        if (take == 0 && d->f.length > 0) return (ptrdiff_t)used;
        {
            int last = d->f.fin && d->done + take == d->f.length;
            int first = d->msg_first;
            if (d->msg_op == OSB_WS_TEXT &&
                (!osb__utf8_ok(&d->utf8, buf + used, take) || (last && (d->utf8 & 0xF))))
                return osb__ws_bad(d, OSB_WS_INVALID_DATA, "text that is not UTF-8");
            if (d->done + take == d->f.length) d->in_frame = 0;
            if (take == 0 && !first && !last) continue;   /* an empty middle frame says nothing */
            p->opcode = d->msg_op;
            p->data = buf + used;
            p->len = take;
            p->first = first;
            p->last = last;
            p->offset = d->msg_len;
            d->msg_first = 0;
            d->msg_len += take;
            d->done += take;
            used += take;
            if (last) d->msg_op = 0;
            return (ptrdiff_t)used;
        }
    }
}

/* ---- the connection ---- */

struct osb_ws {
    osb_client *c;
    osb__conn *k;
    osb_ws_decoder dec;
    int idle_ms;
    int64_t last_rx;
    const volatile int *cancel;
    uint64_t mask_rng;
    int send_op;                     /* opcode of a fragmented message being sent; 0 none */
    int sent_close, got_close, close_code;
    osb_err sticky;
    unsigned char out[OSB__WS_SEND_CHUNK + 14];
};

static osb_err osb__ws_set(osb_ws *ws, osb_err e, const char *fmt, const char *detail) {
    osb__set_error(&ws->c->err, e, fmt, detail);
    ws->sticky = e;
    return e;
}

static osb_err osb__ws_send_raw(osb_ws *ws, int fin, int opcode, const void *data, size_t len) {
    osb_client *c = ws->c;
    unsigned char mask[4];
    uint64_t r = osb__splitmix(&ws->mask_rng);
    size_t hl, off = 0;
    int ms = ws->idle_ms > 0 ? ws->idle_ms : c->timeouts.idle_ms;
    osb_err e;
    memcpy(mask, &r, 4);
    hl = osb_ws_write_head(ws->out, fin, opcode, mask, len);
    ws->k->cancel = ws->cancel;
    do {
        size_t n = len - off, room = OSB__WS_SEND_CHUNK - (off == 0 ? hl : 0);
        unsigned char *dst = ws->out + (off == 0 ? hl : 0);
        if (n > room) n = room;
        if (n) memcpy(dst, (const char *)data + off, n);
        osb_ws_mask(dst, n, mask, off);
        e = osb__conn_send(ws->k, ws->out, (size_t)(dst - ws->out) + n, osb__deadline_in(ms), &c->err);
        if (e) {
            ws->sticky = e;
            return e;
        }
        off += n;
    } while (off < len);
    return OSB_OK;
}

static osb_err osb__ws_check(osb_ws *ws) {
    if (!ws) return OSB_ERR_INVALID_ARG;
    osb__reset_error(&ws->c->err);
    if (ws->sticky) {
        osb__set_error(&ws->c->err, ws->sticky, "the WebSocket connection failed earlier");
        return ws->sticky;
    }
    return OSB_OK;
}

OSB_API osb_err osb_ws_send_frame(osb_ws *ws, int opcode, const void *data, size_t len, int fin) {
    osb_err e = osb__ws_check(ws);
    if (e) return e;
    if (ws->sent_close) return osb__ws_set(ws, OSB_ERR_STATE, "%s", "the WebSocket connection is closing");
    if (!data && len) return OSB_ERR_INVALID_ARG;
    if (opcode >= OSB_WS_CLOSE) {
        if (opcode > OSB_WS_PONG || len > 125 || !fin) {
            osb__set_error(&ws->c->err, OSB_ERR_INVALID_ARG, "a control frame is one frame of at most 125 bytes");
            return OSB_ERR_INVALID_ARG;
        }
    } else if ((opcode == OSB_WS_CONT) != (ws->send_op != 0) || opcode > OSB_WS_BINARY) {
        osb__set_error(&ws->c->err, OSB_ERR_INVALID_ARG,
                       ws->send_op ? "a fragmented message goes on with OSB_WS_CONT frames"
                                   : "a message starts with OSB_WS_TEXT or OSB_WS_BINARY");
        return OSB_ERR_INVALID_ARG;
    } else {
        ws->send_op = fin ? 0 : (opcode ? opcode : ws->send_op);
    }
    return osb__ws_send_raw(ws, fin, opcode, data, len);
}

OSB_API osb_err osb_ws_send(osb_ws *ws, int opcode, const void *data, size_t len) {
    return osb_ws_send_frame(ws, opcode, data, len, 1);
}

static osb_err osb__ws_send_close(osb_ws *ws, int code, const char *reason, size_t rl) {
    char pl[125];
    if (ws->sent_close) return OSB_OK;
    ws->sent_close = 1;
    if (rl > 123) rl = 123;
    pl[0] = (char)(code >> 8);
    pl[1] = (char)code;
    if (rl) memcpy(pl + 2, reason, rl);
    return osb__ws_send_raw(ws, 1, OSB_WS_CLOSE, pl, code ? 2 + rl : 0);
}

OSB_API int osb_ws_fd(const osb_ws *ws) { return ws && ws->k ? (int)ws->k->fd : -1; }

OSB_API int osb_ws_buffered(const osb_ws *ws) {
    if (!ws || !ws->k || ws->sticky) return 0;
    return ws->got_close || ws->k->start < ws->k->end || osb__tls_pending(ws->k);
}

OSB_API int osb_ws_close_code(const osb_ws *ws) { return ws ? ws->close_code : 0; }

/* Readable within wait_ms? 1 yes, 0 not yet, -1 error (poll failed). */
static int osb__ws_ready(osb_ws *ws, int wait_ms) {
    osb__pollfd pf;
    int r;
    if (ws->k->start < ws->k->end || osb__tls_pending(ws->k)) return 1;
    pf.fd = ws->k->fd;
    pf.events = POLLIN;
    pf.revents = 0;
    r = osb__poll(&pf, 1, wait_ms);
    if (r < 0 && osb__sock_errno() == OSB__EINTR) return 0;
    return r < 0 ? -1 : r > 0;
}

OSB_API osb_err osb_ws_read(osb_ws *ws, osb_ws_msg *m, int wait_ms) {
    osb_client *c;
    osb__conn *k;
    int64_t until = wait_ms > 0 ? osb__now_ms() + wait_ms : 0;
    osb_err e;
    if (!m) return OSB_ERR_INVALID_ARG;
    memset(m, 0, sizeof *m);
    e = osb__ws_check(ws);
    if (e) return e;
    c = ws->c;
    k = ws->k;
    if (ws->got_close) {
        m->opcode = OSB_WS_CLOSE;
        m->close_code = ws->close_code;
        return OSB_OK;
    }
    for (;;) {
        size_t got;
        int64_t idle_deadline = ws->idle_ms > 0 ? ws->last_rx + ws->idle_ms : 0;
        if (k->start < k->end) {
            osb_ws_piece p;
            ptrdiff_t used = osb_ws_feed(&ws->dec, k->buf + k->start, k->end - k->start, &p);
            if (used < 0) {
                osb_err fe = used == OSB_WS_TOO_LARGE ? OSB_ERR_TOO_LARGE : OSB_ERR_PROTOCOL;
                osb__ws_send_close(ws, ws->dec.fail_code, ws->dec.error, strlen(ws->dec.error));
                osb__reset_error(&c->err);
                return osb__ws_set(ws, fe, "WebSocket: %s", ws->dec.error);
            }
            k->start += (size_t)used;
            if (p.opcode == OSB_WS_PING) {
                if (!ws->sent_close && (e = osb__ws_send_raw(ws, 1, OSB_WS_PONG, p.data, p.len)) != OSB_OK) return e;
                continue;
            }
            if (p.opcode == OSB_WS_PONG) continue;
            if (p.opcode == OSB_WS_CLOSE) {
                ws->got_close = 1;
                ws->close_code = p.close_code;
                /* answer with the same code; a close without one is answered without one */
                if (!ws->sent_close)
                    osb__ws_send_close(ws, p.close_code == OSB_WS_NO_STATUS ? 0 : p.close_code, NULL, 0);
            }
            if (p.opcode) {
                m->opcode = p.opcode;
                m->data = p.data;
                m->len = p.len;
                m->first = p.first;
                m->last = p.last;
                m->offset = p.offset;
                m->close_code = p.close_code;
                return OSB_OK;
            }
            continue;
        }
        k->start = k->end = 0;
        if (wait_ms >= 0) {
            int64_t now = osb__now_ms();
            int left = wait_ms == 0 ? 0 : (int)(until > now ? until - now : 0);
            int r;
            if (idle_deadline && idle_deadline - now < left) left = (int)(idle_deadline > now ? idle_deadline - now : 0);
            r = osb__ws_ready(ws, left);
            if (r < 0) return osb__ws_set(ws, OSB_ERR_CONNECT, "%s", "poll on the WebSocket connection failed");
            if (r == 0) {
                if (idle_deadline && osb__now_ms() >= idle_deadline) {
                    osb__timeout(&c->err, OSB_PHASE_IDLE);
                    ws->sticky = OSB_ERR_TIMEOUT;
                    return OSB_ERR_TIMEOUT;
                }
                if (ws->cancel && *ws->cancel) return osb__ws_set(ws, OSB_ERR_CANCELLED, "%s", "cancelled");
                return OSB_OK;
            }
        }
        k->cancel = ws->cancel;
        e = osb__conn_recv(k, k->buf, k->cap, &got, idle_deadline, OSB_PHASE_IDLE, &c->err);
        if (e) {
            ws->sticky = e;
            return e;
        }
        if (got == 0) {
            ws->close_code = OSB_WS_ABNORMAL;
            return osb__ws_set(ws, OSB_ERR_TRUNCATED, "%s", "the WebSocket connection ended without a close frame");
        }
        k->end = got;
        ws->last_rx = osb__now_ms();
    }
}

/* After a bad frame we sent our close frame and gave up reading. Closing a
 * socket that still holds unread bytes makes the kernel send a reset, and a
 * reset can reach the peer before it has read our close frame, which is then
 * lost (the peer sees 1006, not 1002/1007/1009). So we stop sending (plain
 * sockets: FIN after the close frame) and read and drop what still comes until
 * the peer closes, for at most 2 s and 4 MiB. */
static void osb__ws_linger(osb_ws *ws) {
    osb__conn *k = ws->k;
    int64_t until = osb__now_ms() + 2000;
    size_t drained = 0, got = 0;
    osb_error scratch;
#if OSB_TLS
    if (!k->tls)
#endif
        (void)shutdown(k->fd, 1);   /* SHUT_WR, SD_SEND on Windows */
    while (drained < ((size_t)4 << 20)) {
        osb__reset_error(&scratch);
        if (osb__conn_recv(k, k->buf, k->cap, &got, until, OSB_PHASE_IDLE, &scratch) != OSB_OK || got == 0) break;
        drained += got;
    }
}

OSB_API osb_err osb_ws_close(osb_ws *ws, int code, const char *reason) {
    osb_client *c;
    osb_err e = OSB_OK;
    if (!ws) return OSB_OK;
    c = ws->c;
    if (ws->k && ws->sent_close && !ws->got_close &&
        (ws->sticky == OSB_ERR_PROTOCOL || ws->sticky == OSB_ERR_TOO_LARGE))
        osb__ws_linger(ws);
    if (code && !ws->sticky) {
        int64_t until = osb__now_ms() + 2000;
        e = osb__ws_send_close(ws, code, reason, reason ? strlen(reason) : 0);
        while (!e && !ws->got_close) {
            osb_ws_msg m;
            int64_t left = until - osb__now_ms();
            if (left <= 0) break;
            e = osb_ws_read(ws, &m, (int)left);
        }
        if (e == OSB_ERR_TRUNCATED) e = OSB_OK;   /* a peer that just hangs up is fine here */
    }
    if (ws->k) osb__conn_close(ws->k, c->alloc);
    osb__free(c->alloc, ws);
    return e;
}

typedef struct osb__ws_hs {
    int upgrade, connection, accept_ok, extensions, protocol_ok, protocol_seen;
    const char *accept;
    const char *protocol;
} osb__ws_hs;

/* Does the comma-separated list v hold token t (any case)? */
static int osb__has_token(osb_str v, const char *t) {
    size_t i = 0, n = strlen(t);
    while (i < v.len) {
        size_t s, e;
        while (i < v.len && (v.ptr[i] == ' ' || v.ptr[i] == '\t' || v.ptr[i] == ',')) i++;
        s = i;
        while (i < v.len && v.ptr[i] != ',') i++;
        e = i;
        while (e > s && (v.ptr[e - 1] == ' ' || v.ptr[e - 1] == '\t')) e--;
        if (e - s == n && osb__ieq(v.ptr + s, n, t)) return 1;
    }
    return 0;
}

static int osb__ws_on_header(void *user, osb_str name, osb_str value) {
    osb__ws_hs *h = (osb__ws_hs *)user;
    if (osb__ieq(name.ptr, name.len, "upgrade")) h->upgrade = osb__has_token(value, "websocket");
    else if (osb__ieq(name.ptr, name.len, "connection")) h->connection = osb__has_token(value, "upgrade");
    else if (osb__ieq(name.ptr, name.len, "sec-websocket-accept"))
        h->accept_ok = value.len == strlen(h->accept) && memcmp(value.ptr, h->accept, value.len) == 0;
    else if (osb__ieq(name.ptr, name.len, "sec-websocket-extensions")) h->extensions = 1;
    else if (osb__ieq(name.ptr, name.len, "sec-websocket-protocol")) {
        h->protocol_seen = 1;
        h->protocol_ok = h->protocol && value.len == strlen(h->protocol) && memcmp(value.ptr, h->protocol, value.len) == 0;
    }
    return 0;
}

OSB_API osb_err osb_ws_open(osb_client *c, const osb_target *t, const osb_ws_options *o, osb_ws **out) {
    static const char guid[] = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
    osb_http_request req;
    osb_http_response res;
    osb_body b;
    osb__ws_hs hs;
    osb_ws *ws;
    unsigned char nonce[16], digest[20], src[24 + 36];
    uint64_t mask_seed;
    char key[25], accept[29], url[1400], l_key[64], l_proto[300];
    const char **lines;
    size_t n = 0, i;
    osb_err e;
    if (out) *out = NULL;
    if (!c) return OSB_ERR_INVALID_ARG;
    osb__reset_error(&c->err);
    if (!out || !o || !o->path || o->path[0] != '/' || !t || !t->url || !*t->url)
        return osb__call_fail(c, OSB_ERR_INVALID_ARG, "osb_ws_open needs a target URL and a path");
    if ((e = osb__target_url(c, t, url, sizeof url)) != OSB_OK) return e;
    if (o->protocol && (strlen(o->protocol) > 256 || !*o->protocol))
        return osb__call_fail(c, OSB_ERR_INVALID_ARG, "invalid WebSocket protocol name");
    if (!osb__os_random(nonce, sizeof nonce) || !osb__os_random(&mask_seed, sizeof mask_seed))
        return osb__call_fail(c, OSB_ERR_IO, "the OS gave no random bytes for the WebSocket key and masks");
    osb__b64_encode(nonce, sizeof nonce, key);
    memcpy(src, key, 24);
    memcpy(src + 24, guid, 36);
    osb__sha1(src, sizeof src, digest);
    osb__b64_encode(digest, sizeof digest, accept);
    osb__fmt(l_key, sizeof l_key, "Sec-WebSocket-Key: %s", key);
    if (o->protocol) osb__fmt(l_proto, sizeof l_proto, "Sec-WebSocket-Protocol: %s", o->protocol);
    for (i = 0; t->headers && t->headers[i]; i++) n++;
    for (i = 0; o->headers && o->headers[i]; i++) n++;
    lines = (const char **)osb__alloc(c->alloc, (n + 6) * sizeof *lines);
    if (!lines) return osb__call_fail(c, OSB_ERR_NOMEM, "out of memory");
    n = 0;
    lines[n++] = "Sec-WebSocket-Version: 13";
    lines[n++] = l_key;
    if (o->protocol) lines[n++] = l_proto;
    for (i = 0; t->headers && t->headers[i]; i++) lines[n++] = t->headers[i];
    for (i = 0; o->headers && o->headers[i]; i++) lines[n++] = o->headers[i];
    lines[n] = NULL;
    memset(&hs, 0, sizeof hs);
    hs.accept = accept;
    hs.protocol = o->protocol;
    memset(&req, 0, sizeof req);
    req.method = "GET";
    req.url = url;
    req.path = o->path;
    req.query = o->query;
    req.headers = lines;
    req.on_header = osb__ws_on_header;
    req.on_header_user = &hs;
    req.stream = 1;
    req.cancel = o->cancel;
    req.execd = o->execd;
    e = osb__exchange_begin(c, &req, &res, &b, 1);
    osb__free(c->alloc, lines);
    if (e) return e;
    if (res.status != 101) {
        int status = res.status;
        if (status >= 200 && status < 300) {
            osb__set_error(&c->err, OSB_ERR_PROTOCOL, "the server answered %d instead of switching to WebSocket", status);
            e = OSB_ERR_PROTOCOL;
        } else {
            e = osb__body_http_error(c, &b, status);
        }
        osb__body_end(&b);
        osb_http_response_free(&res);
        return e;
    }
    osb_http_response_free(&res);
    {
        const char *why = NULL;
        if (!hs.upgrade) why = "no 'Upgrade: websocket' in the 101 answer";
        else if (!hs.connection) why = "no 'Connection: upgrade' in the 101 answer";
        else if (!hs.accept_ok) why = "the Sec-WebSocket-Accept of the 101 answer does not match the key";
        else if (hs.extensions) why = "the server chose a WebSocket extension that was not offered";
        else if (hs.protocol_seen && !hs.protocol_ok) why = "the server chose a WebSocket protocol that was not offered";
        if (why) {
            osb__set_error(&c->err, OSB_ERR_PROTOCOL, "%s", why);
            osb__conn_close(b.conn, c->alloc);
            return OSB_ERR_PROTOCOL;
        }
    }
    ws = (osb_ws *)osb__alloc(c->alloc, sizeof *ws);
    if (!ws) {
        osb__conn_close(b.conn, c->alloc);
        return osb__call_fail(c, OSB_ERR_NOMEM, "out of memory");
    }
    memset(ws, 0, sizeof *ws);
    ws->c = c;
    ws->k = b.conn;
    b.conn = NULL;
    osb_ws_decoder_init(&ws->dec, 0, o->max_message ? o->max_message : OSB_WS_MAX_MESSAGE);
    ws->idle_ms = o->idle_ms > 0 ? o->idle_ms : 0;
    ws->cancel = o->cancel;
    ws->last_rx = osb__now_ms();
    ws->mask_rng = mask_seed;
    *out = ws;
    return OSB_OK;
}

#endif /* OSB_NO_WS */

/* >>impl-lifecycle --------------------------------------------------------- */

static const osb_field osb__lc_status_fields[] = {
    OSB_FIELD_STR(osb_sandbox_status, state, "state"),
    OSB_FIELD_STR(osb_sandbox_status, reason, "reason"),
    OSB_FIELD_STR(osb_sandbox_status, message, "message"),
    OSB_FIELD_STR(osb_sandbox_status, last_transition_at, "lastTransitionAt"),
};
static const osb_type osb__lc_status_type = OSB_TYPE(osb_sandbox_status, osb__lc_status_fields);
static const osb_field osb__lc_image_fields[] = { OSB_FIELD_STR(osb_image_info, uri, "uri") };
static const osb_type osb__lc_image_type = OSB_TYPE(osb_image_info, osb__lc_image_fields);
static const osb_field osb__lc_platform_fields[] = {
    OSB_FIELD_STR(osb_platform_info, os, "os"),
    OSB_FIELD_STR(osb_platform_info, arch, "arch"),
};
static const osb_type osb__lc_platform_type = OSB_TYPE(osb_platform_info, osb__lc_platform_fields);
static const osb_field osb__lc_sandbox_fields[] = {
    OSB_FIELD_STR(osb_sandbox_info, id, "id"),
    OSB_FIELD_OBJECT(osb_sandbox_info, image, "image", &osb__lc_image_type),
    OSB_FIELD_STR(osb_sandbox_info, snapshot_id, "snapshotId"),
    OSB_FIELD_OBJECT(osb_sandbox_info, platform, "platform", &osb__lc_platform_type),
    OSB_FIELD_OBJECT(osb_sandbox_info, status, "status", &osb__lc_status_type),
    OSB_FIELD_MAP(osb_sandbox_info, metadata, metadata_count, "metadata"),
    OSB_FIELD_ARRAY(osb_sandbox_info, entrypoint, entrypoint_count, "entrypoint", OSB_KIND_STR),
    OSB_FIELD_STR(osb_sandbox_info, expires_at, "expiresAt"),
    OSB_FIELD_STR(osb_sandbox_info, created_at, "createdAt"),
};
static const osb_type osb__lc_sandbox_type = OSB_TYPE_RAW(osb_sandbox_info, osb__lc_sandbox_fields, raw);
static const osb_field osb__lc_page_fields[] = {
    OSB_FIELD_I64(osb_pagination, page, "page"),
    OSB_FIELD_I64(osb_pagination, page_size, "pageSize"),
    OSB_FIELD_I64(osb_pagination, total_items, "totalItems"),
    OSB_FIELD_I64(osb_pagination, total_pages, "totalPages"),
    OSB_FIELD_BOOL(osb_pagination, has_next_page, "hasNextPage"),
};
static const osb_type osb__lc_page_type = OSB_TYPE(osb_pagination, osb__lc_page_fields);
static const osb_field osb__lc_sandbox_list_fields[] = {
    OSB_FIELD_ARRAY_OF(osb_sandbox_page, items, items_count, "items", &osb__lc_sandbox_type),
    OSB_FIELD_OBJECT(osb_sandbox_page, pagination, "pagination", &osb__lc_page_type),
};
static const osb_type osb__lc_sandbox_list_type = OSB_TYPE_RAW(osb_sandbox_page, osb__lc_sandbox_list_fields, raw);
static const osb_field osb__lc_endpoint_fields[] = {
    OSB_FIELD_STR(osb_endpoint, endpoint, "endpoint"),
    OSB_FIELD_MAP(osb_endpoint, headers, headers_count, "headers"),
};
static const osb_type osb__lc_endpoint_type = OSB_TYPE_RAW(osb_endpoint, osb__lc_endpoint_fields, raw);
static const osb_field osb__lc_renew_fields[] = { OSB_FIELD_STR(osb_renew_result, expires_at, "expiresAt") };
static const osb_type osb__lc_renew_type = OSB_TYPE_RAW(osb_renew_result, osb__lc_renew_fields, raw);
static const osb_field osb__lc_snapshot_fields[] = {
    OSB_FIELD_STR(osb_snapshot, id, "id"),
    OSB_FIELD_STR(osb_snapshot, sandbox_id, "sandboxId"),
    OSB_FIELD_STR(osb_snapshot, name, "name"),
    OSB_FIELD_OBJECT(osb_snapshot, status, "status", &osb__lc_status_type),
    OSB_FIELD_STR(osb_snapshot, created_at, "createdAt"),
};
static const osb_type osb__lc_snapshot_type = OSB_TYPE_RAW(osb_snapshot, osb__lc_snapshot_fields, raw);
static const osb_field osb__lc_snapshot_list_fields[] = {
    OSB_FIELD_ARRAY_OF(osb_snapshot_page, items, items_count, "items", &osb__lc_snapshot_type),
    OSB_FIELD_OBJECT(osb_snapshot_page, pagination, "pagination", &osb__lc_page_type),
};
static const osb_type osb__lc_snapshot_list_type = OSB_TYPE_RAW(osb_snapshot_page, osb__lc_snapshot_list_fields, raw);
static const osb_field osb__lc_diag_fields[] = {
    OSB_FIELD_STR(osb_diagnostic, sandbox_id, "sandboxId"),
    OSB_FIELD_STR(osb_diagnostic, kind, "kind"),
    OSB_FIELD_STR(osb_diagnostic, scope, "scope"),
    OSB_FIELD_STR(osb_diagnostic, delivery, "delivery"),
    OSB_FIELD_STR(osb_diagnostic, content_type, "contentType"),
    OSB_FIELD_STR(osb_diagnostic, content, "content"),
    OSB_FIELD_STR(osb_diagnostic, content_url, "contentUrl"),
    OSB_FIELD_STR(osb_diagnostic, expires_at, "expiresAt"),
    OSB_FIELD_I64(osb_diagnostic, content_length, "contentLength"),
    OSB_FIELD_BOOL(osb_diagnostic, truncated, "truncated"),
    OSB_FIELD_ARRAY(osb_diagnostic, warnings, warnings_count, "warnings", OSB_KIND_STR),
};
static const osb_type osb__lc_diag_type = OSB_TYPE_RAW(osb_diagnostic, osb__lc_diag_fields, raw);
static const osb_field osb__lc_rule_fields[] = {
    OSB_FIELD_STR(osb_network_rule_info, action, "action"),
    OSB_FIELD_STR(osb_network_rule_info, target, "target"),
};
static const osb_type osb__lc_rule_type = OSB_TYPE(osb_network_rule_info, osb__lc_rule_fields);
static const osb_field osb__lc_policy_fields[] = {
    OSB_FIELD_STR(osb_network_policy_info, default_action, "defaultAction"),
    OSB_FIELD_ARRAY_OF(osb_network_policy_info, egress, egress_count, "egress", &osb__lc_rule_type),
};
static const osb_type osb__lc_policy_type = OSB_TYPE(osb_network_policy_info, osb__lc_policy_fields);
static const osb_field osb__lc_egress_fields[] = {
    OSB_FIELD_STR(osb_egress_status, status, "status"),
    OSB_FIELD_STR(osb_egress_status, mode, "mode"),
    OSB_FIELD_STR(osb_egress_status, enforcement_mode, "enforcementMode"),
    OSB_FIELD_STR(osb_egress_status, reason, "reason"),
    OSB_FIELD_OBJECT(osb_egress_status, policy, "policy", &osb__lc_policy_type),
};
static const osb_type osb__lc_egress_type = OSB_TYPE_RAW(osb_egress_status, osb__lc_egress_fields, raw);
static const osb_field osb__lc_vcred_fields[] = {
    OSB_FIELD_STR(osb_vault_credential, name, "name"),
    OSB_FIELD_STR(osb_vault_credential, source_type, "sourceType"),
    OSB_FIELD_I64(osb_vault_credential, revision, "revision"),
};
static const osb_type osb__lc_vcred_type = OSB_TYPE_RAW(osb_vault_credential, osb__lc_vcred_fields, raw);
static const osb_field osb__lc_vmatch_fields[] = {
    OSB_FIELD_ARRAY(osb_vault_match, schemes, schemes_count, "schemes", OSB_KIND_STR),
    OSB_FIELD_ARRAY(osb_vault_match, ports, ports_count, "ports", OSB_KIND_INT),
    OSB_FIELD_ARRAY(osb_vault_match, hosts, hosts_count, "hosts", OSB_KIND_STR),
    OSB_FIELD_ARRAY(osb_vault_match, methods, methods_count, "methods", OSB_KIND_STR),
    OSB_FIELD_ARRAY(osb_vault_match, paths, paths_count, "paths", OSB_KIND_STR),
};
static const osb_type osb__lc_vmatch_type = OSB_TYPE(osb_vault_match, osb__lc_vmatch_fields);
static const osb_field osb__lc_vauth_fields[] = {
    OSB_FIELD_STR(osb_vault_auth, type, "type"),
    OSB_FIELD_STR(osb_vault_auth, name, "name"),
};
static const osb_type osb__lc_vauth_type = OSB_TYPE(osb_vault_auth, osb__lc_vauth_fields);
static const osb_field osb__lc_vbind_fields[] = {
    OSB_FIELD_STR(osb_vault_binding, name, "name"),
    OSB_FIELD_I64(osb_vault_binding, revision, "revision"),
    OSB_FIELD_OBJECT(osb_vault_binding, match, "match", &osb__lc_vmatch_type),
    OSB_FIELD_OBJECT(osb_vault_binding, auth, "auth", &osb__lc_vauth_type),
};
static const osb_type osb__lc_vbind_type = OSB_TYPE_RAW(osb_vault_binding, osb__lc_vbind_fields, raw);
static const osb_field osb__lc_vstate_fields[] = {
    OSB_FIELD_I64(osb_vault_state, revision, "revision"),
    OSB_FIELD_ARRAY_OF(osb_vault_state, credentials, credentials_count, "credentials", &osb__lc_vcred_type),
    OSB_FIELD_ARRAY_OF(osb_vault_state, bindings, bindings_count, "bindings", &osb__lc_vbind_type),
};
static const osb_type osb__lc_vstate_type = OSB_TYPE_RAW(osb_vault_state, osb__lc_vstate_fields, raw);

/* JSON helpers for request bodies. A count with a NULL array makes the
 * writer fail (the call then returns OSB_ERR_INVALID_ARG, nothing sent). */
static int osb__lc_jw_bad(osb_jw *w, const void *items, size_t n) {
    if (n && !items) {
        if (!w->err) w->err = OSB_ERR_INVALID_ARG;
        return 1;
    }
    return 0;
}

static void osb__lc_strs(osb_jw *w, const char *const *list) {
    osb_jw_array(w);
    if (list)
        for (; *list; list++) osb_jw_str(w, *list);
    osb_jw_array_end(w);
}

static void osb__lc_pairs(osb_jw *w, const osb_pair *p, size_t n) {
    size_t i;
    if (osb__lc_jw_bad(w, p, n)) return;
    osb_jw_object(w);
    for (i = 0; i < n; i++) {
        if (!p[i].key) { osb_jw_null(w); continue; }  /* a value where a key is due: the writer fails */
        osb_jw_key(w, p[i].key);
        if (p[i].value) osb_jw_str(w, p[i].value);
        else osb_jw_null(w);
    }
    osb_jw_object_end(w);
}

/* Writes a JSON key with a string value when the value is not NULL. */
static void osb__jw_kstr(osb_jw *w, const char *key, const char *v) {
    if (!v) return;
    osb_jw_key(w, key);
    osb_jw_str(w, v);
}

static void osb__lc_rules(osb_jw *w, const osb_network_rule *r, size_t n) {
    size_t i;
    if (osb__lc_jw_bad(w, r, n)) return;
    osb_jw_array(w);
    for (i = 0; i < n; i++) {
        osb_jw_object(w);
        osb__jw_kstr(w, "action", r[i].action);
        osb__jw_kstr(w, "target", r[i].target);
        osb_jw_object_end(w);
    }
    osb_jw_array_end(w);
}

static int osb__lc_bad(const char *s) { return !s || !*s; }

/* The common shape: METHOD path with an optional typed result. A path
 * with "{}" takes id; what names it for the error when it is missing
 * ("no sandbox id"), NULL for a path without one. */
static osb_err osb__lc_simple(osb_client *c, const char *method, const osb_target *t, const char *fmt,
                              const char *id, const char *what, const osb_type *type, void **out) {
    osb__call k;
    if (out) *out = NULL;
    if (what && osb__lc_bad(id)) return osb__call_fail(c, OSB_ERR_INVALID_ARG, what);
    osb__call_init(&k, c, method, t);
    osb__call_path(&k, fmt, id);   /* a path without "{}" leaves id unread */
    k.type = type;
    k.out = out;
    return osb__call_run(&k);
}

OSB_API osb_err osb_sandbox_create(osb_client *c, const osb_sandbox_create_req *r, osb_sandbox_info **out) {
    osb__call k;
    osb_jw *w;
    size_t i;
    if (out) *out = NULL;
    if (!r) return osb__call_fail(c, OSB_ERR_INVALID_ARG, "no create request");
    osb__call_init(&k, c, "POST", NULL);
    osb__call_path(&k, "/v1/sandboxes");
    w = osb__call_json(&k);
    osb_jw_object(w);
    if (r->image) {
        osb_jw_key(w, "image");
        osb_jw_object(w);
        osb__jw_kstr(w, "uri", r->image);
        if (r->image_username || r->image_password) {
            osb_jw_key(w, "auth");
            osb_jw_object(w);
            osb__jw_kstr(w, "username", r->image_username ? r->image_username : "");
            osb__jw_kstr(w, "password", r->image_password ? r->image_password : "");
            osb_jw_object_end(w);
        }
        osb_jw_object_end(w);
    }
    osb__jw_kstr(w, "snapshotId", r->snapshot_id);
    if (r->entrypoint) {
        osb_jw_key(w, "entrypoint");
        osb__lc_strs(w, r->entrypoint);
    }
    {
        int pool = 0;
        for (i = 0; i < r->extensions_count; i++)
            if (r->extensions[i].key && strcmp(r->extensions[i].key, "poolRef") == 0) pool = 1;
        if (r->resource_limits_count || !pool) {
            osb_jw_key(w, "resourceLimits");
            osb__lc_pairs(w, r->resource_limits, r->resource_limits_count);
        }
    }
    if (r->timeout_s) {
        osb_jw_key(w, "timeout");
        osb_jw_int(w, r->timeout_s);
    }
    if (r->env_count) {
        osb_jw_key(w, "env");
        osb__lc_pairs(w, r->env, r->env_count);
    }
    if (r->metadata_count) {
        osb_jw_key(w, "metadata");
        osb__lc_pairs(w, r->metadata, r->metadata_count);
    }
    if (r->platform_os || r->platform_arch) {
        osb_jw_key(w, "platform");
        osb_jw_object(w);
        osb__jw_kstr(w, "os", r->platform_os);
        osb__jw_kstr(w, "arch", r->platform_arch);
        osb_jw_object_end(w);
    }
    if (r->network_policy) {
        osb_jw_key(w, "networkPolicy");
        osb_jw_object(w);
        osb__jw_kstr(w, "defaultAction", r->network_policy->default_action);
        if (r->network_policy->egress_count) {
            osb_jw_key(w, "egress");
            osb__lc_rules(w, r->network_policy->egress, r->network_policy->egress_count);
        }
        osb_jw_object_end(w);
    }
    if (r->credential_proxy) {
        osb_jw_key(w, "credentialProxy");
        osb_jw_object(w);
        osb_jw_key(w, "enabled");
        osb_jw_bool(w, r->credential_proxy > 0);
        osb_jw_object_end(w);
    }
    if (r->secure_access) {
        osb_jw_key(w, "secureAccess");
        osb_jw_bool(w, r->secure_access > 0);
    }
    if (r->volumes_count && !osb__lc_jw_bad(w, r->volumes, r->volumes_count)) {
        osb_jw_key(w, "volumes");
        osb_jw_array(w);
        for (i = 0; i < r->volumes_count; i++) {
            const osb_volume *v = &r->volumes[i];
            osb_jw_object(w);
            osb__jw_kstr(w, "name", v->name);
            if (v->host) {
                osb_jw_key(w, "host");
                osb_jw_object(w);
                osb__jw_kstr(w, "path", v->host->path);
                osb_jw_object_end(w);
            }
            if (v->pvc) {
                const osb_volume_pvc *p = v->pvc;
                osb_jw_key(w, "pvc");
                osb_jw_object(w);
                osb__jw_kstr(w, "claimName", p->claim_name);
                if (p->create_if_not_exists) {
                    osb_jw_key(w, "createIfNotExists");
                    osb_jw_bool(w, p->create_if_not_exists > 0);
                }
                if (p->delete_on_sandbox_termination) {
                    osb_jw_key(w, "deleteOnSandboxTermination");
                    osb_jw_bool(w, p->delete_on_sandbox_termination > 0);
                }
                osb__jw_kstr(w, "storageClass", p->storage_class);
                osb__jw_kstr(w, "storage", p->storage);
                if (p->access_modes) {
                    osb_jw_key(w, "accessModes");
                    osb__lc_strs(w, p->access_modes);
                }
                osb_jw_object_end(w);
            }
            if (v->ossfs) {
                const osb_volume_ossfs *o = v->ossfs;
                osb_jw_key(w, "ossfs");
                osb_jw_object(w);
                osb__jw_kstr(w, "bucket", o->bucket);
                osb__jw_kstr(w, "endpoint", o->endpoint);
                osb__jw_kstr(w, "version", o->version);
                if (o->options) {
                    osb_jw_key(w, "options");
                    osb__lc_strs(w, o->options);
                }
                osb__jw_kstr(w, "accessKeyId", o->access_key_id);
                osb__jw_kstr(w, "accessKeySecret", o->access_key_secret);
                osb_jw_object_end(w);
            }
            osb__jw_kstr(w, "mountPath", v->mount_path);
            if (v->read_only) {
                osb_jw_key(w, "readOnly");
                osb_jw_bool(w, v->read_only > 0);
            }
            osb__jw_kstr(w, "subPath", v->sub_path);
            osb_jw_object_end(w);
        }
        osb_jw_array_end(w);
    }
    if (r->extensions_count) {
        osb_jw_key(w, "extensions");
        osb__lc_pairs(w, r->extensions, r->extensions_count);
    }
    osb_jw_object_end(w);
    k.type = &osb__lc_sandbox_type;
    k.out = (void **)out;
    return osb__call_run(&k);
}

OSB_API osb_err osb_sandbox_get(osb_client *c, const char *id, osb_sandbox_info **out) {
    return osb__lc_simple(c, "GET", NULL, "/v1/sandboxes/{}",
                          id, "no sandbox id", &osb__lc_sandbox_type, (void **)out);
}

/* The query of the list calls: any number of states, the page and its size. */
static void osb__lc_page_query(osb__call *k, const char *const *states, int page, int page_size) {
    const char *const *st;
    if (states)
        for (st = states; *st; st++) osb__call_query(k, "state", *st);
    if (page) osb__call_query_int(k, "page", page);
    if (page_size) osb__call_query_int(k, "pageSize", page_size);
    if (k->query.failed && !k->err) k->err = k->query.failed;
}

OSB_API osb_err osb_sandbox_list(osb_client *c, const osb_sandbox_list_req *r, osb_sandbox_page **out) {
    osb__call k;
    if (out) *out = NULL;
    osb__call_init(&k, c, "GET", NULL);
    osb__call_path(&k, "/v1/sandboxes");
    if (r) {
        if (r->metadata_count) {
            /* the server decodes the parameter, then parses it as a query
             * string: encode each key and value, then the whole again */
            osb_buf inner;
            size_t i;
            osb_buf_init(&inner, c->alloc);
            for (i = 0; i < r->metadata_count; i++) {
                const osb_pair *p = &r->metadata[i];
                if (!p->key || !p->value) { k.err = OSB_ERR_INVALID_ARG; break; }
                if (i) osb_buf_append(&inner, "&", 1);
                osb_url_encode(&inner, p->key, strlen(p->key));
                osb_buf_append(&inner, "=", 1);
                osb_url_encode(&inner, p->value, strlen(p->value));
            }
            if (inner.failed && !k.err) k.err = inner.failed;
            if (!k.err) osb__call_query(&k, "metadata", inner.data ? inner.data : "");
            osb_buf_free(&inner);
        }
        osb__lc_page_query(&k, r->states, r->page, r->page_size);
    }
    k.type = &osb__lc_sandbox_list_type;
    k.out = (void **)out;
    return osb__call_run(&k);
}

OSB_API osb_err osb_sandbox_delete(osb_client *c, const char *id) {
    return osb__lc_simple(c, "DELETE", NULL, "/v1/sandboxes/{}", id, "no sandbox id", NULL, NULL);
}

OSB_API osb_err osb_sandbox_metadata_patch(osb_client *c, const char *id, const osb_pair *patch, size_t count,
                                           osb_sandbox_info **out) {
    osb__call k;
    if (out) *out = NULL;
    if (osb__lc_bad(id)) return osb__call_fail(c, OSB_ERR_INVALID_ARG, "no sandbox id");
    if (count && !patch) return osb__call_fail(c, OSB_ERR_INVALID_ARG, "no patch");
    osb__call_init(&k, c, "PATCH", NULL);
    osb__call_path(&k, "/v1/sandboxes/{}/metadata", id);
    osb__lc_pairs(osb__call_json(&k), patch, count);
    k.type = out ? &osb__lc_sandbox_type : NULL;
    k.out = (void **)out;
    return osb__call_run(&k);
}

OSB_API osb_err osb_sandbox_pause(osb_client *c, const char *id) {
    return osb__lc_simple(c, "POST", NULL, "/v1/sandboxes/{}/pause", id, "no sandbox id", NULL, NULL);
}

OSB_API osb_err osb_sandbox_resume(osb_client *c, const char *id) {
    return osb__lc_simple(c, "POST", NULL, "/v1/sandboxes/{}/resume", id, "no sandbox id", NULL, NULL);
}

OSB_API osb_err osb_sandbox_renew(osb_client *c, const char *id, const char *expires_at, osb_renew_result **out) {
    osb__call k;
    osb_jw *w;
    if (out) *out = NULL;
    if (osb__lc_bad(id)) return osb__call_fail(c, OSB_ERR_INVALID_ARG, "no sandbox id");
    if (osb__lc_bad(expires_at)) return osb__call_fail(c, OSB_ERR_INVALID_ARG, "no expiry time");
    osb__call_init(&k, c, "POST", NULL);
    osb__call_path(&k, "/v1/sandboxes/{}/renew-expiration", id);
    w = osb__call_json(&k);
    osb_jw_object(w);
    osb__jw_kstr(w, "expiresAt", expires_at);
    osb_jw_object_end(w);
    k.type = out ? &osb__lc_renew_type : NULL;
    k.out = (void **)out;
    return osb__call_run(&k);
}

/* Copies n bytes of src to p as a NUL-terminated osb_str; returns the next free byte. */
static char *osb__lc_put(char *p, osb_str *dst, const char *src, size_t n) {
    if (n) memcpy(p, src, n);
    p[n] = 0;
    dst->ptr = p;
    dst->len = n;
    return p + n + 1;
}

/* Re-packs a bound endpoint into one block that also holds the URL with a
 * scheme and the "Name: value" header lines. */
static osb_err osb__lc_endpoint_finish(osb_client *c, osb_endpoint *ep, osb_endpoint **out) {
    const char *scheme = osb__scheme_for(c, ep->endpoint.ptr ? ep->endpoint.ptr : "");
    size_t n = ep->headers_count, i, size, slen = strlen(scheme);
    char *p, **lines;
    osb_endpoint *r;
    size = sizeof(osb_endpoint) + (n + 1) * sizeof(char *) + n * sizeof(osb_kv);
    size += ep->raw.len + 1 + ep->endpoint.len + 1 + slen + ep->endpoint.len + 1;
    for (i = 0; i < n; i++) size += 2 * (ep->headers[i].key.len + ep->headers[i].value.len) + 5;
    r = (osb_endpoint *)osb__result_new(c->alloc, size);
    if (!r) {
        osb_result_free(ep);
        return osb__call_fail(c, OSB_ERR_NOMEM, "out of memory");
    }
    lines = (char **)(void *)(r + 1);
    r->headers = n ? (osb_kv *)(void *)(lines + n + 1) : NULL;
    r->headers_count = n;
    p = (char *)(void *)((osb_kv *)(void *)(lines + n + 1) + n);
    p = osb__lc_put(p, &r->raw, ep->raw.ptr ? ep->raw.ptr : "", ep->raw.len);
    p = osb__lc_put(p, &r->endpoint, ep->endpoint.ptr ? ep->endpoint.ptr : "", ep->endpoint.len);
    memcpy(p, scheme, slen);
    if (ep->endpoint.len) memcpy(p + slen, ep->endpoint.ptr, ep->endpoint.len);
    p[slen + ep->endpoint.len] = 0;
    r->url.ptr = p;
    r->url.len = slen + ep->endpoint.len;
    p += r->url.len + 1;
    for (i = 0; i < n; i++) {
        const osb_kv *h = &ep->headers[i];
        p = osb__lc_put(p, &r->headers[i].key, h->key.ptr, h->key.len);
        p = osb__lc_put(p, &r->headers[i].value, h->value.ptr, h->value.len);
        lines[i] = p;
        if (h->key.len) memcpy(p, h->key.ptr, h->key.len);
        memcpy(p + h->key.len, ": ", 2);
        if (h->value.len) memcpy(p + h->key.len + 2, h->value.ptr, h->value.len);
        p[h->key.len + 2 + h->value.len] = 0;
        p += h->key.len + 2 + h->value.len + 1;
    }
    lines[n] = NULL;
    r->header_lines = (const char *const *)lines;
    osb_result_free(ep);
    *out = r;
    return OSB_OK;
}

OSB_API osb_err osb_sandbox_endpoint(osb_client *c, const char *id, int port, const osb_endpoint_req *req,
                                     osb_endpoint **out) {
    osb__call k;
    osb_endpoint *ep = NULL;
    char num[16];
    osb_err e;
    if (out) *out = NULL;
    if (!out) return osb__call_fail(c, OSB_ERR_INVALID_ARG, "no result pointer");
    if (osb__lc_bad(id)) return osb__call_fail(c, OSB_ERR_INVALID_ARG, "no sandbox id");
    if (port < 1 || port > 65535) return osb__call_fail(c, OSB_ERR_INVALID_ARG, "port out of range");
    osb__fmt(num, sizeof num, "%d", port);
    osb__call_init(&k, c, "GET", NULL);
    osb__call_path(&k, "/v1/sandboxes/{}/endpoints/{}", id, num);
    if (req) {
        if (req->expires > 0) osb__call_query_int(&k, "expires", req->expires);
        else if (req->use_server_proxy) osb__call_query(&k, "use_server_proxy", "true");
    }
    k.type = &osb__lc_endpoint_type;
    k.out = (void **)&ep;
    e = osb__call_run(&k);
    if (e) return e;
    return osb__lc_endpoint_finish(c, ep, out);
}

OSB_API osb_target osb_target_from_endpoint(const osb_endpoint *ep) {
    osb_target t;
    t.url = ep ? ep->url.ptr : NULL;
    t.headers = ep ? ep->header_lines : NULL;
    return t;
}

OSB_API osb_err osb_snapshot_create(osb_client *c, const char *sandbox_id, const char *name, osb_snapshot **out) {
    osb__call k;
    if (out) *out = NULL;
    if (osb__lc_bad(sandbox_id)) return osb__call_fail(c, OSB_ERR_INVALID_ARG, "no sandbox id");
    osb__call_init(&k, c, "POST", NULL);
    osb__call_path(&k, "/v1/sandboxes/{}/snapshots", sandbox_id);
    if (name) {
        osb_jw *w = osb__call_json(&k);
        osb_jw_object(w);
        osb__jw_kstr(w, "name", name);
        osb_jw_object_end(w);
    }
    k.type = out ? &osb__lc_snapshot_type : NULL;
    k.out = (void **)out;
    return osb__call_run(&k);
}

OSB_API osb_err osb_snapshot_get(osb_client *c, const char *id, osb_snapshot **out) {
    return osb__lc_simple(c, "GET", NULL, "/v1/snapshots/{}",
                          id, "no snapshot id", &osb__lc_snapshot_type, (void **)out);
}

OSB_API osb_err osb_snapshot_list(osb_client *c, const osb_snapshot_list_req *r, osb_snapshot_page **out) {
    osb__call k;
    if (out) *out = NULL;
    osb__call_init(&k, c, "GET", NULL);
    osb__call_path(&k, "/v1/snapshots");
    if (r) {
        osb__call_query(&k, "sandboxId", r->sandbox_id);
        osb__lc_page_query(&k, r->states, r->page, r->page_size);
    }
    k.type = &osb__lc_snapshot_list_type;
    k.out = (void **)out;
    return osb__call_run(&k);
}

OSB_API osb_err osb_snapshot_delete(osb_client *c, const char *id) {
    return osb__lc_simple(c, "DELETE", NULL, "/v1/snapshots/{}", id, "no snapshot id", NULL, NULL);
}

OSB_API char *osb_format_time(int64_t t, char *out, size_t cap) {
    /* days from civil, inverted (proleptic Gregorian, no libc time zone) */
    int64_t days, secs, z, era, doe, yoe, y, doy, mp, d, m;
    if (!out || cap < 21 || t < 0 || t > INT64_C(253402300799)) return NULL;
    days = t / 86400;
    secs = t % 86400;
    z = days + 719468;
    era = z / 146097;
    doe = z - era * 146097;
    yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    y = yoe + era * 400;
    doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    mp = (5 * doy + 2) / 153;
    d = doy - (153 * mp + 2) / 5 + 1;
    m = mp < 10 ? mp + 3 : mp - 9;
    if (m <= 2) y++;
    osb__fmt(out, cap, "%04d-%02d-%02dT%02d:%02d:%02dZ", (int)y, (int)m, (int)d, (int)(secs / 3600),
             (int)(secs / 60 % 60), (int)(secs % 60));
    return out;
}

/* >>impl-diagnostics */

static osb_err osb__lc_diag(osb_client *c, const char *kind, const char *id, const char *scope,
                            osb_diagnostic **out) {
    osb__call k;
    osb_err e;
    if (out) *out = NULL;
    if (osb__lc_bad(id)) return osb__call_fail(c, OSB_ERR_INVALID_ARG, "no sandbox id");
    osb__call_init(&k, c, "GET", NULL);
    osb__call_path(&k, kind, id);
    osb__call_query(&k, "scope", scope ? scope : "all");
    k.type = &osb__lc_diag_type;
    k.out = (void **)out;
    e = osb__call_run(&k);
    if (e == OSB_ERR_HTTP && c->err.http_status == 501) {
        c->err.code = OSB_ERR_UNSUPPORTED;
        e = OSB_ERR_UNSUPPORTED;
    }
    return e;
}

OSB_API osb_err osb_diagnostics_logs(osb_client *c, const char *id, const char *scope, osb_diagnostic **out) {
    return osb__lc_diag(c, "/v1/sandboxes/{}/diagnostics/logs", id, scope, out);
}

OSB_API osb_err osb_diagnostics_events(osb_client *c, const char *id, const char *scope, osb_diagnostic **out) {
    return osb__lc_diag(c, "/v1/sandboxes/{}/diagnostics/events", id, scope, out);
}

OSB_API osb_err osb_diagnostics_text(osb_client *c, const char *id, const osb_diagnostics_text_req *r,
                                     osb_text **out) {
    osb__call k;
    osb_http_request req;
    osb_http_response res;
    osb_err e;
    const char *kind = r && r->kind ? r->kind : "logs";
    osb_text *t;
    size_t ctl;
    if (out) *out = NULL;
    if (!out) return osb__call_fail(c, OSB_ERR_INVALID_ARG, "no result pointer");
    if (osb__lc_bad(id)) return osb__call_fail(c, OSB_ERR_INVALID_ARG, "no sandbox id");
    if (strcmp(kind, "logs") && strcmp(kind, "events") && strcmp(kind, "inspect") && strcmp(kind, "summary"))
        return osb__call_fail(c, OSB_ERR_INVALID_ARG, "unknown diagnostics kind");
    osb__call_init(&k, c, "GET", NULL);
    osb__call_path(&k, "/v1/sandboxes/{}/diagnostics/{}", id, kind);
    if (r) {
        if (r->tail) osb__call_query_int(&k, "tail", r->tail);
        osb__call_query(&k, "since", r->since);
        if (r->limit) osb__call_query_int(&k, "limit", r->limit);
        if (r->event_limit) osb__call_query_int(&k, "event_limit", r->event_limit);
    }
    if (k.err || k.path.failed || k.query.failed) {
        osb__call_free(&k);
        return osb__call_fail(c, OSB_ERR_NOMEM, "out of memory");
    }
    memset(&req, 0, sizeof req);
    req.method = "GET";
    req.path = k.path.data;
    req.query = k.query.len ? k.query.data : NULL;
    e = osb_request_raw(c, &req, &res);
    osb__call_free(&k);
    if (e) {
        osb_http_response_free(&res);
        return e;
    }
    ctl = strlen(res.content_type);
    t = (osb_text *)osb__result_new(c->alloc, sizeof *t + res.body.len + 1 + ctl + 1);
    if (!t) {
        osb_http_response_free(&res);
        return osb__call_fail(c, OSB_ERR_NOMEM, "out of memory");
    }
    {
        char *p = (char *)(t + 1);
        if (res.body.len) memcpy(p, res.body.data, res.body.len);
        p[res.body.len] = 0;
        t->text.ptr = p;
        t->text.len = res.body.len;
        p += res.body.len + 1;
        memcpy(p, res.content_type, ctl + 1);
        t->content_type.ptr = p;
        t->content_type.len = ctl;
    }
    osb_http_response_free(&res);
    *out = t;
    return OSB_OK;
}

/* >>impl-egress */

/* The first step of an egress or vault call: *out (when given) cleared,
 * then the target checked. */
OSB__HELPER osb_err osb__lc_need_target(osb_client *c, const osb_target *t, void **out) {
    if (out) *out = NULL;
    if (!t || osb__lc_bad(t->url)) return osb__call_fail(c, OSB_ERR_INVALID_ARG, "no egress target");
    return OSB_OK;
}

#if !OSB_NO_EGRESS
OSB_API osb_err osb_egress_policy_get(osb_client *c, const osb_target *t, osb_egress_status **out) {
    if (osb__lc_need_target(c, t, (void **)out)) return OSB_ERR_INVALID_ARG;
    return osb__lc_simple(c, "GET", t, "/policy", NULL, NULL, &osb__lc_egress_type, (void **)out);
}

OSB_API osb_err osb_egress_policy_patch(osb_client *c, const osb_target *t, const osb_network_rule *rules,
                                        size_t count, osb_egress_status **out) {
    osb__call k;
    if (osb__lc_need_target(c, t, (void **)out)) return OSB_ERR_INVALID_ARG;
    if (!rules || !count) return osb__call_fail(c, OSB_ERR_INVALID_ARG, "no rules");
    osb__call_init(&k, c, "PATCH", t);
    osb__call_path(&k, "/policy");
    osb__lc_rules(osb__call_json(&k), rules, count);
    k.type = out ? &osb__lc_egress_type : NULL;
    k.out = (void **)out;
    return osb__call_run(&k);
}

OSB_API osb_err osb_egress_policy_delete(osb_client *c, const osb_target *t, const char *const *targets,
                                         size_t count, osb_egress_status **out) {
    osb__call k;
    osb_jw *w;
    size_t i;
    if (osb__lc_need_target(c, t, (void **)out)) return OSB_ERR_INVALID_ARG;
    if (!targets || !count) return osb__call_fail(c, OSB_ERR_INVALID_ARG, "no targets");
    osb__call_init(&k, c, "DELETE", t);
    osb__call_path(&k, "/policy");
    w = osb__call_json(&k);
    osb_jw_array(w);
    for (i = 0; i < count; i++) osb_jw_str(w, targets[i] ? targets[i] : "");
    osb_jw_array_end(w);
    k.type = out ? &osb__lc_egress_type : NULL;
    k.out = (void **)out;
    return osb__call_run(&k);
}
#endif /* OSB_NO_EGRESS */

OSB__HELPER void osb__lc_vcreds(osb_jw *w, const osb_vault_credential_in *v, size_t n) {
    size_t i;
    if (osb__lc_jw_bad(w, v, n)) return;
    osb_jw_array(w);
    for (i = 0; i < n; i++) {
        osb_jw_object(w);
        osb__jw_kstr(w, "name", v[i].name);
        osb_jw_key(w, "source");
        osb_jw_object(w);
        osb__jw_kstr(w, "type", v[i].source_type ? v[i].source_type : "inline");
        osb__jw_kstr(w, "value", v[i].value);
        osb_jw_object_end(w);
        osb_jw_object_end(w);
    }
    osb_jw_array_end(w);
}

OSB__HELPER void osb__lc_vbinds(osb_jw *w, const osb_vault_binding_in *b, size_t n) {
    size_t i, j;
    if (osb__lc_jw_bad(w, b, n)) return;
    osb_jw_array(w);
    for (i = 0; i < n; i++) {
        const osb_vault_match_in *m = &b[i].match;
        const osb_vault_auth_in *a = &b[i].auth;
        osb_jw_object(w);
        osb__jw_kstr(w, "name", b[i].name);
        osb_jw_key(w, "match");
        osb_jw_object(w);
        if (m->hosts) { osb_jw_key(w, "hosts"); osb__lc_strs(w, m->hosts); }
        if (m->schemes) { osb_jw_key(w, "schemes"); osb__lc_strs(w, m->schemes); }
        if (m->ports_count && !osb__lc_jw_bad(w, m->ports, m->ports_count)) {
            osb_jw_key(w, "ports");
            osb_jw_array(w);
            for (j = 0; j < m->ports_count; j++) osb_jw_int(w, m->ports[j]);
            osb_jw_array_end(w);
        }
        if (m->methods) { osb_jw_key(w, "methods"); osb__lc_strs(w, m->methods); }
        if (m->paths) { osb_jw_key(w, "paths"); osb__lc_strs(w, m->paths); }
        osb_jw_object_end(w);
        osb_jw_key(w, "auth");
        osb_jw_object(w);
        osb__jw_kstr(w, "type", a->type);
        osb__jw_kstr(w, "name", a->name);
        osb__jw_kstr(w, "credential", a->credential);
        if (a->headers_count && !osb__lc_jw_bad(w, a->headers, a->headers_count)) {
            osb_jw_key(w, "headers");
            osb_jw_array(w);
            for (j = 0; j < a->headers_count; j++) {
                osb_jw_object(w);
                osb__jw_kstr(w, "name", a->headers[j].name);
                osb__jw_kstr(w, "credential", a->headers[j].credential);
                osb_jw_object_end(w);
            }
            osb_jw_array_end(w);
        }
        osb_jw_object_end(w);
        osb_jw_object_end(w);
    }
    osb_jw_array_end(w);
}

#if !OSB_NO_VAULT
OSB_API osb_err osb_vault_create(osb_client *c, const osb_target *t, const osb_vault_create_req *r,
                                 osb_vault_state **out) {
    osb__call k;
    osb_jw *w;
    if (osb__lc_need_target(c, t, (void **)out)) return OSB_ERR_INVALID_ARG;
    if (!r) return osb__call_fail(c, OSB_ERR_INVALID_ARG, "no vault request");
    osb__call_init(&k, c, "POST", t);
    osb__call_path(&k, "/credential-vault");
    w = osb__call_json(&k);
    osb_jw_object(w);
    osb_jw_key(w, "credentials");
    osb__lc_vcreds(w, r->credentials, r->credentials_count);
    osb_jw_key(w, "bindings");
    osb__lc_vbinds(w, r->bindings, r->bindings_count);
    osb_jw_object_end(w);
    k.type = out ? &osb__lc_vstate_type : NULL;
    k.out = (void **)out;
    return osb__call_run(&k);
}

OSB_API osb_err osb_vault_get(osb_client *c, const osb_target *t, osb_vault_state **out) {
    if (osb__lc_need_target(c, t, (void **)out)) return OSB_ERR_INVALID_ARG;
    return osb__lc_simple(c, "GET", t, "/credential-vault", NULL, NULL, &osb__lc_vstate_type, (void **)out);
}

OSB_API osb_err osb_vault_patch(osb_client *c, const osb_target *t, const osb_vault_patch_req *r,
                                osb_vault_state **out) {
    osb__call k;
    osb_jw *w;
    if (osb__lc_need_target(c, t, (void **)out)) return OSB_ERR_INVALID_ARG;
    if (!r) return osb__call_fail(c, OSB_ERR_INVALID_ARG, "no vault patch");
    osb__call_init(&k, c, "PATCH", t);
    osb__call_path(&k, "/credential-vault");
    w = osb__call_json(&k);
    osb_jw_object(w);
    if (r->expected_revision > 0) {
        osb_jw_key(w, "expectedRevision");
        osb_jw_int(w, r->expected_revision);
    }
    if (r->credentials_add_count || r->credentials_replace_count || r->credentials_delete) {
        osb_jw_key(w, "credentials");
        osb_jw_object(w);
        if (r->credentials_add_count) { osb_jw_key(w, "add"); osb__lc_vcreds(w, r->credentials_add, r->credentials_add_count); }
        if (r->credentials_replace_count) {
            osb_jw_key(w, "replace");
            osb__lc_vcreds(w, r->credentials_replace, r->credentials_replace_count);
        }
        if (r->credentials_delete) { osb_jw_key(w, "delete"); osb__lc_strs(w, r->credentials_delete); }
        osb_jw_object_end(w);
    }
    if (r->bindings_add_count || r->bindings_replace_count || r->bindings_delete) {
        osb_jw_key(w, "bindings");
        osb_jw_object(w);
        if (r->bindings_add_count) { osb_jw_key(w, "add"); osb__lc_vbinds(w, r->bindings_add, r->bindings_add_count); }
        if (r->bindings_replace_count) {
            osb_jw_key(w, "replace");
            osb__lc_vbinds(w, r->bindings_replace, r->bindings_replace_count);
        }
        if (r->bindings_delete) { osb_jw_key(w, "delete"); osb__lc_strs(w, r->bindings_delete); }
        osb_jw_object_end(w);
    }
    osb_jw_object_end(w);
    k.type = out ? &osb__lc_vstate_type : NULL;
    k.out = (void **)out;
    return osb__call_run(&k);
}

OSB_API osb_err osb_vault_delete(osb_client *c, const osb_target *t) {
    if (osb__lc_need_target(c, t, NULL)) return OSB_ERR_INVALID_ARG;
    return osb__lc_simple(c, "DELETE", t, "/credential-vault", NULL, NULL, NULL, NULL);
}

OSB_API osb_err osb_vault_credential_list(osb_client *c, const osb_target *t, osb_vault_state **out) {
    if (osb__lc_need_target(c, t, (void **)out)) return OSB_ERR_INVALID_ARG;
    return osb__lc_simple(c, "GET", t, "/credential-vault/credentials",
                          NULL, NULL, &osb__lc_vstate_type, (void **)out);
}

OSB_API osb_err osb_vault_credential_get(osb_client *c, const osb_target *t, const char *name,
                                         osb_vault_credential **out) {
    if (osb__lc_need_target(c, t, (void **)out)) return OSB_ERR_INVALID_ARG;
    return osb__lc_simple(c, "GET", t, "/credential-vault/credentials/{}",
                          name, "no credential name", &osb__lc_vcred_type, (void **)out);
}

OSB_API osb_err osb_vault_binding_list(osb_client *c, const osb_target *t, osb_vault_state **out) {
    if (osb__lc_need_target(c, t, (void **)out)) return OSB_ERR_INVALID_ARG;
    return osb__lc_simple(c, "GET", t, "/credential-vault/bindings",
                          NULL, NULL, &osb__lc_vstate_type, (void **)out);
}

OSB_API osb_err osb_vault_binding_get(osb_client *c, const osb_target *t, const char *name,
                                      osb_vault_binding **out) {
    if (osb__lc_need_target(c, t, (void **)out)) return OSB_ERR_INVALID_ARG;
    return osb__lc_simple(c, "GET", t, "/credential-vault/bindings/{}",
                          name, "no binding name", &osb__lc_vbind_type, (void **)out);
}
#endif /* OSB_NO_VAULT */
#include <limits.h>
#include <sys/stat.h>
#ifdef _WIN32
#  include <io.h>
#endif

/* ---- shared helpers ----------------------------------------------------------- */

/* The headers of a target plus up to two more lines, NULL-terminated, in a
 * new array (free with osb__free). */
static const char **osb__ex_headers(osb_client *c, const osb_target *t, const char *extra1, const char *extra2) {
    size_t n = 0, i = 0;
    const char **h;
    if (t && t->headers)
        while (t->headers[n]) n++;
    h = (const char **)osb__alloc(c->alloc, (n + 3) * sizeof *h);
    if (!h) return NULL;
    for (; i < n; i++) h[i] = t->headers[i];
    if (extra1) h[i++] = extra1;
    if (extra2) h[i++] = extra2;
    h[i] = NULL;
    return h;
}

/* Checks that mode's decimal digits are all octal (755 yes, 758 no). */
static int osb__ex_mode_ok(int mode) {
    if (mode < 0) return 0;
    while (mode) {
        if (mode % 10 > 7) return 0;
        mode /= 10;
    }
    return 1;
}

/* Adds path=... once per path. */
static void osb__ex_query_paths(osb__call *k, const char *const *paths, size_t n) {
    size_t i;
    if (!paths && n) k->err = OSB_ERR_INVALID_ARG;
    for (i = 0; i < n && paths; i++) {
        if (!paths[i]) k->err = OSB_ERR_INVALID_ARG;
        else osb__call_query(k, "path", paths[i]);
    }
}

/* ---- events and streams ---------------------------------------------------------- */

typedef struct osb__ex_wire_error {
    osb_str ename, evalue;
    osb_str *traceback;
    size_t traceback_count;
} osb__ex_wire_error;
static const osb_field osb__ex_wire_error_fields[] = {
    OSB_FIELD_STR(osb__ex_wire_error, ename, "ename"),
    OSB_FIELD_STR(osb__ex_wire_error, evalue, "evalue"),
    OSB_FIELD_ARRAY(osb__ex_wire_error, traceback, traceback_count, "traceback", OSB_KIND_STR),
};
static const osb_type osb__ex_wire_error_type = OSB_TYPE(osb__ex_wire_error, osb__ex_wire_error_fields);

/* An execd stream event as it travels. */
typedef struct osb__ex_wire {
    osb_str type, text;
    int64_t timestamp, execution_count, execution_time;
    osb_str results;                    /* raw JSON, walked by osb__ex_results */
    osb__ex_wire_error error;
    osb_str code, message;              /* a bare error object */
    osb_str raw;
} osb__ex_wire;
static const osb_field osb__ex_wire_fields[] = {
    OSB_FIELD_STR(osb__ex_wire, type, "type"),
    OSB_FIELD_STR(osb__ex_wire, text, "text"),
    OSB_FIELD_I64(osb__ex_wire, timestamp, "timestamp"),
    OSB_FIELD_I64(osb__ex_wire, execution_count, "execution_count"),
    OSB_FIELD_I64(osb__ex_wire, execution_time, "execution_time"),
    OSB_FIELD_RAW(osb__ex_wire, results, "results"),
    OSB_FIELD_OBJECT(osb__ex_wire, error, "error", &osb__ex_wire_error_type),
    OSB_FIELD_STR(osb__ex_wire, code, "code"),
    OSB_FIELD_STR(osb__ex_wire, message, "message"),
};
static const osb_type osb__ex_wire_type = OSB_TYPE_RAW(osb__ex_wire, osb__ex_wire_fields, raw);

/* A /metrics/watch record (or a /metrics body). */
typedef struct osb__ex_mwire {
    osb_metrics m;
    osb_str error;                      /* {"error":"failed to get CPU percent: ..."} */
    osb_str code, message;
} osb__ex_mwire;
static const osb_field osb__ex_mwire_fields[] = {
    OSB_FIELD_DOUBLE(osb__ex_mwire, m.cpu_count, "cpu_count"),
    OSB_FIELD_DOUBLE(osb__ex_mwire, m.cpu_used_pct, "cpu_used_pct"),
    OSB_FIELD_DOUBLE(osb__ex_mwire, m.mem_total_mib, "mem_total_mib"),
    OSB_FIELD_DOUBLE(osb__ex_mwire, m.mem_used_mib, "mem_used_mib"),
    OSB_FIELD_I64(osb__ex_mwire, m.timestamp, "timestamp"),
    OSB_FIELD_STR(osb__ex_mwire, error, "error"),
    OSB_FIELD_STR(osb__ex_mwire, code, "code"),
    OSB_FIELD_STR(osb__ex_mwire, message, "message"),
};
static const osb_type osb__ex_mwire_type = OSB_TYPE_RAW(osb__ex_mwire, osb__ex_mwire_fields, m.raw);

#define OSB__EX_COMMAND 1     /* /command: error or execution_complete ends it */
#define OSB__EX_SESSION 2     /* /session/{id}/run: the same */
#define OSB__EX_CODE 3        /* /code: execution_complete ends it (errors come before it) */
#define OSB__EX_METRICS 4     /* /metrics/watch: never ends */

#ifndef OSB_STREAM_BUFFER
#  define OSB_STREAM_BUFFER 16384   /* first size of a stream's event buffer */
#endif

struct osb_stream {
    osb_client *c;
    osb_body *body;
    osb_http_response res;
    int kind;
    osb_sse sse;
    char *evbuf;                  /* event data (osb_sse) */
    size_t evcap;
    char *bindbuf;                /* decoded strings and arrays of one event */
    size_t bindcap;
    char *resbuf;                 /* results map of one event */
    size_t rescap;
    const char *pending;          /* body bytes not pushed yet */
    size_t pending_len;
    int eof;                      /* the body ended */
    int finished;                 /* no more events */
    osb_err err;                  /* sticky */
    const volatile int *cancel;
    int no_fast;                  /* tests: always use the general decoder */
    osb__ex_wire wire;
    osb__ex_mwire mwire;
    osb_event ev;
};

/* Grows one of the stream's buffers to at least need bytes (doubling). */
static osb_err osb__ex_grow(osb_stream *s, char **buf, size_t *cap, size_t need) {
    size_t n = *cap ? *cap : 1024;
    char *p;
    if (need <= *cap) return OSB_OK;
    while (n < need) {
        if (n > ((size_t)-1) / 2) { n = need; break; }
        n *= 2;
    }
    p = (char *)osb__realloc(s->c->alloc, *buf, *cap, n);
    if (!p) return OSB_ERR_NOMEM;
    *buf = p;
    *cap = n;
    return OSB_OK;
}

static osb_err osb__ex_stream_fail(osb_stream *s, osb_err e, const char *msg) {
    if (msg) {
        osb__reset_error(&s->c->err);
        osb__set_error(&s->c->err, e, "%s", msg);
        s->c->err.http_status = s->res.status;
    }
    s->err = e;
    s->finished = 1;
    return e;
}

/* Walks the raw "results" object into key/value pairs in s->resbuf: string
 * values unescaped, others as JSON text. No allocation once resbuf is big
 * enough (it is sized from the raw text, which bounds the output). */
static osb_err osb__ex_results(osb_stream *s, const osb_str *raw) {
    osb_json j;
    osb_json_token t;
    char scratch[256];
    size_t max_items, need, text_at, ni = 0;
    osb_kv *kv;
    int r, depth_ok = 0;
    osb_str *cur = NULL;
    char *text;
    s->ev.results = NULL;
    s->ev.results_count = 0;
    if (!raw->ptr || raw->len == 0 || raw->ptr[0] != '{') return OSB_OK;  /* null or not an object */
    max_items = raw->len / 4 + 1;
    need = max_items * sizeof(osb_kv) + raw->len + 2 * max_items + 16;
    if (osb__ex_grow(s, &s->resbuf, &s->rescap, need)) return OSB_ERR_NOMEM;
    kv = (osb_kv *)(void *)s->resbuf;
    text = s->resbuf + max_items * sizeof(osb_kv);
    text_at = 0;
    osb_json_init(&j, scratch, sizeof scratch);
    osb_json_feed(&j, raw->ptr, raw->len, 1);
    while ((r = osb_json_next(&j, &t)) > 0 && r != OSB_JSON_DONE) {
        if (t.depth == 0) {
            depth_ok = 1;
            continue;   /* the object's own braces */
        }
        if (t.depth == 1 && r == OSB_JSON_KEY) {
            if (!cur) {
                if (ni >= max_items) return OSB_ERR_JSON;
                kv[ni].key.ptr = text + text_at;
                kv[ni].key.len = 0;
                cur = &kv[ni].key;
            }
            memcpy(text + text_at, t.ptr, t.len);
            text_at += t.len;
            cur->len += t.len;
            if (!t.more) {
                text[text_at++] = 0;
                kv[ni].value.ptr = text + text_at;
                kv[ni].value.len = 0;
                cur = &kv[ni].value;
            }
            continue;
        }
        if (t.depth == 1 && cur == &kv[ni].value) {
            if (r == OSB_JSON_OBJECT || r == OSB_JSON_ARRAY) {
                uint64_t start = t.offset;
                int k;
                while ((k = osb_json_skip(&j, &t)) == OSB_JSON_NEED_MORE) {}
                if (k != 1) return OSB_ERR_JSON;
                memcpy(text + text_at, raw->ptr + start, (size_t)(osb_json_offset(&j) - start));
                text_at += (size_t)(osb_json_offset(&j) - start);
                cur->len = (size_t)(osb_json_offset(&j) - start);
                text[text_at++] = 0;
                ni++;
                cur = NULL;
                continue;
            }
            if (r == OSB_JSON_TRUE || r == OSB_JSON_FALSE || r == OSB_JSON_NULL) {
                const char *lit = r == OSB_JSON_TRUE ? "true" : r == OSB_JSON_FALSE ? "false" : "null";
                memcpy(text + text_at, lit, strlen(lit));
                text_at += strlen(lit);
                cur->len = strlen(lit);
                text[text_at++] = 0;
                ni++;
                cur = NULL;
                continue;
            }
            /* a string or a number, perhaps in pieces */
            memcpy(text + text_at, t.ptr, t.len);
            text_at += t.len;
            cur->len += t.len;
            if (!t.more) {
                text[text_at++] = 0;
                ni++;
                cur = NULL;
            }
        }
    }
    if (r == OSB_JSON_ERROR || !depth_ok) return OSB_ERR_JSON;
    s->ev.results = kv;
    s->ev.results_count = ni;
    return OSB_OK;
}

/* Once per event: by length first, then one comparison of known size. */
static osb_event_type osb__ex_type(const osb_str *t) {
    const char *p = t->ptr;
    if (!p) return OSB_EVENT_UNKNOWN;
    switch (t->len) {
    case 4:
        if (!memcmp(p, "init", 4)) return OSB_EVENT_INIT;
        if (!memcmp(p, "ping", 4)) return OSB_EVENT_PING;
        break;
    case 5:
        if (!memcmp(p, "error", 5)) return OSB_EVENT_ERROR;
        break;
    case 6:
        if (!memcmp(p, "stdout", 6)) return OSB_EVENT_STDOUT;
        if (!memcmp(p, "stderr", 6)) return OSB_EVENT_STDERR;
        if (!memcmp(p, "status", 6)) return OSB_EVENT_STATUS;
        if (!memcmp(p, "result", 6)) return OSB_EVENT_RESULT;
        break;
    case 15:
        if (!memcmp(p, "execution_count", 15)) return OSB_EVENT_EXECUTION_COUNT;
        break;
    case 18:
        if (!memcmp(p, "execution_complete", 18)) return OSB_EVENT_EXECUTION_COMPLETE;
        break;
    default:
        break;
    }
    return OSB_EVENT_UNKNOWN;
}

/* A bare {code,message} inside the stream: the server failed after the
 * first event. */
static osb_err osb__ex_server_error(osb_stream *s, const osb_str *code, const osb_str *message) {
    osb_client *c = s->c;
    osb__reset_error(&c->err);
    c->err.code = OSB_ERR_SERVER;
    c->err.http_status = s->res.status;
    memcpy(c->err.request_id, s->res.request_id, sizeof c->err.request_id);
    if (code->ptr) osb__copy_field(c->err.server_code, sizeof c->err.server_code, code->ptr, code->len);
    osb__fmt(c->err.message, sizeof c->err.message, "the stream reported an error");
    if (code->ptr) {
        osb__append_clean(c->err.message, sizeof c->err.message, ": ", 2);
        osb__append_clean(c->err.message, sizeof c->err.message, code->ptr, code->len);
    }
    if (message->ptr) {
        osb__append_clean(c->err.message, sizeof c->err.message, ": ", 2);
        osb__append_clean(c->err.message, sizeof c->err.message, message->ptr, message->len);
    }
    s->err = OSB_ERR_SERVER;
    s->finished = 1;
    return OSB_ERR_SERVER;
}

#if !OSB_NO_FAST_EVENTS
/* The fast path for the events that make up nearly all of a stream (init,
 * ping, stdout, stderr, status, execution_count, execution_complete): one
 * flat object whose values are strings and integers. One pass, strings
 * unescaped into out (which has room for n + 256 bytes). Returns 1 when w is
 * filled, 0 when the event needs the general decoder (nested values,
 * fractions, odd keys, anything malformed: the general decoder then reports
 * the error precisely, so this path only has to be right about accepting). */

/* The byte each one-letter escape stands for, by the letter; 0 for 'u' and
 * for letters that are no escape. */
static const unsigned char osb__ex_esc[128] = {
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, '"', 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, '/',
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, '\\', 0, 0, 0,
    0, 0, '\b', 0, 0, 0, '\f', 0, 0, 0, 0, 0, 0, 0, '\n', 0,
    0, 0, '\r', 0, '\t', 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
};

static int osb__ex_hex4(const char *p, uint32_t *v) {
    int i;
    *v = 0;
    for (i = 0; i < 4; i++) {
        int d = osb__hexval((unsigned char)p[i]);
        if (d < 0) return 0;
        *v = *v << 4 | (uint32_t)d;
    }
    return 1;
}

/* Decodes the \u escape at p[*at] (a '\\' then 'u'), a surrogate pair as one
 * character, moving *at past it and appending its UTF-8 at *w. Returns 0 for
 * a malformed escape or a lone surrogate. */
static int osb__ex_unescape_u(const char *p, size_t n, size_t *at, char **w) {
    size_t i = *at;
    uint32_t u, u2;
    if (i + 6 > n || !osb__ex_hex4(p + i + 2, &u)) return 0;
    i += 6;
    if (u >= 0xDC00 && u <= 0xDFFF) return 0;
    if (u >= 0xD800 && u <= 0xDBFF) {
        if (i + 6 > n || p[i] != '\\' || p[i + 1] != 'u' || !osb__ex_hex4(p + i + 2, &u2) || u2 < 0xDC00 ||
            u2 > 0xDFFF)
            return 0;
        i += 6;
        u = 0x10000 + ((u - 0xD800) << 10) + (u2 - 0xDC00);
    }
    *w += osb__utf8_put(*w, u);
    *at = i;
    return 1;
}

/* Whether s[0..n) is UTF-8 (RFC 3629: no overlongs, surrogates or values
 * above U+10FFFF). ASCII goes by words; each other character is checked as a
 * whole: its lead byte gives its length and the range of its second byte,
 * the bytes after that must be continuation bytes, and a stray continuation
 * byte is no lead byte. */
static int osb__ex_utf8_valid(const unsigned char *s, size_t n) {
    size_t i = 0;
    for (;;) {
        unsigned c0, b1, len, lo, hi;
        while (n - i >= 8) {
            uint64_t h = osb__load_le64(s + i) & 0x8080808080808080ull;
            if (h) {
                i += osb__str_first(h);
                break;
            }
            i += 8;
        }
        while (i < n && s[i] < 0x80) i++;
        if (i >= n) return 1;
        c0 = s[i];
        len = c0 < 0xC2 ? 0 : c0 < 0xE0 ? 2 : c0 < 0xF0 ? 3 : c0 < 0xF5 ? 4 : 0;
        if (len == 0 || n - i < len) return 0;
        lo = c0 == 0xE0 ? 0xA0 : c0 == 0xF0 ? 0x90 : 0x80;
        hi = c0 == 0xED ? 0x9F : c0 == 0xF4 ? 0x8F : 0xBF;
        b1 = s[i + 1];
        if (b1 < lo || b1 > hi) return 0;
        if (len > 2 && (s[i + 2] & 0xC0) != 0x80) return 0;
        if (len > 3 && (s[i + 3] & 0xC0) != 0x80) return 0;
        i += len;
    }
}

/* osb__str_special without the bytes at or above 0x80: '"', '\\' and control
 * bytes only. High bytes cause no borrow, so the lowest flag is still exact. */
OSB__HELPER uint64_t osb__ex_stop(uint64_t x) {
    return ((x - 0x2020202020202020ull) | ((x ^ 0x5C5C5C5C5C5C5C5Cull) - 0x0101010101010101ull) |
            ((x ^ 0x2222222222222222ull) - 0x0101010101010101ull)) &
           ~x & 0x8080808080808080ull;
}

/* The escape at p[*at] ('\\'), unescaped at *w; *at moves past it. Returns 0
 * for a malformed or unfinished escape. */
static int osb__ex_fast_escape(const char *p, size_t n, size_t *at, char **w) {
    size_t i = *at;
    unsigned char e;
    if (i + 1 >= n) return 0;
    e = (unsigned char)p[i + 1];
    if (e < 128 && osb__ex_esc[e]) {
        *(*w)++ = (char)osb__ex_esc[e];
        *at = i + 2;
        return 1;
    }
    return e == 'u' && osb__ex_unescape_u(p, n, at, w);
}

/* The string's text is complete at w: *at moves past the closing quote at
 * p[i], and the text is kept (NUL-terminated, *o moved past it) when dst is
 * not NULL. */
static int osb__ex_fast_done(size_t i, size_t *at, char *start, char *w, size_t *o, osb_str *dst) {
    *at = i + 1;
    if (dst) {
        *w = 0;
        dst->ptr = start;
        dst->len = (size_t)(w - start);
        *o += dst->len + 1;
    }
    return 1;
}

/* Reads the string starting after its opening quote at p[*at] and unescapes
 * it into out at *o. The three bytes before p[*at] are in the input and
 * ASCII, as before every value of an object: the opening quote, the ':'
 * and the key's closing quote, or whitespace (the AVX-512 step reads them
 * as the bytes before the text). The text is kept (and *o moved past it and its NUL) only
 * when dst is not NULL. Plain text, non-ASCII included, is copied by words
 * up to the next '"', '\\' or control byte; whole words are stored, the bytes
 * after the stop included: they are overwritten by what follows or lie past
 * the text. That needs 63 bytes of slack (64-byte steps with AVX2,
 * osb__ex_fast_str_v64), which out always has: the output never runs ahead of the input (a
 * string's text is shorter than its JSON) and out is 256 bytes longer than
 * the event. Bytes at or above 0x80 are noted on the way and the text is
 * checked as UTF-8 once at the end, only if it had any (the characters
 * escapes make are valid by construction, and none of them starts with a
 * continuation byte, so raw bytes around them are judged as they would be
 * in the input). The portable way, and the reference of osb__ex_fast_str. */
OSB__HELPER int osb__ex_fast_str_words(const char *p, size_t n, size_t *at, char *out, size_t *o, osb_str *dst) {
    size_t i = *at;
    char *const start = out + *o;
    char *w = start;
    uint64_t high = 0;
    for (;;) {
        unsigned char ch;
        while (n - i >= 8) {
            uint64_t x = osb__load_le64((const unsigned char *)p + i), m = osb__ex_stop(x);
            memcpy(w, p + i, 8);
            if (m) {
                size_t f = osb__str_first(m);
                high |= x & ((m & (0 - m)) - 1);   /* the bytes before the stop */
                i += f;
                w += f;
                goto stop;
            }
            high |= x;
            i += 8;
            w += 8;
        }
        while (i < n) {
            ch = (unsigned char)p[i];
            if (ch < 0x20 || ch == '"' || ch == '\\') break;
            high |= ch;
            *w++ = (char)ch;
            i++;
        }
        if (i >= n) return 0;
    stop:
        if (p[i] == '"') break;
        if (p[i] != '\\' || !osb__ex_fast_escape(p, n, &i, &w)) return 0;   /* a control byte, a bad escape */
    }
    if ((high & 0x8080808080808080ull) && !osb__ex_utf8_valid((const unsigned char *)start, (size_t)(w - start)))
        return 0;
    return osb__ex_fast_done(i, at, start, w, o, dst);
}

#if defined(OSB__SIMD)
/* Whether the raw string text p[s..e] has a UTF-8 error, e (the closing
 * quote) included, 16 bytes per step from s with zero (ASCII) before it and
 * by the full rules. Escapes are ASCII in the raw text, so this judges each
 * run between them with ASCII before and after it, exactly as checking the
 * runs one by one does. */
static int osb__ex_utf8_raw_v16(const char *p, size_t s, size_t e) {
    osb__v16 prev = osb__v16_zero();
    uint64_t prev_rare = 0, bad = 0;
    size_t i = s;
    e++;
    for (;;) {
        osb__v16 x;
        uint64_t rare;
        if (i >= e) return bad != 0;
        x = osb__v16_load_upto(p + i, e - i);
        rare = osb__v16_mask(osb__v16_utf8_rare(x));
        bad |= osb__v16_mask((rare | prev_rare) ? osb__v16_utf8_errors(x, prev) : osb__v16_utf8_common(x, prev));
        prev = x;
        prev_rare = rare;
        i += 16;
    }
}

/* osb__ex_fast_str_words 16 bytes per step, with the UTF-8 check in the
 * same pass: osb__v16_utf8_common on every step, and the full rules over
 * the whole raw string (osb__ex_utf8_raw_v16) only when it has a byte that
 * needs them (osb__v16_utf8_rare). A step is judged against the 16 raw
 * bytes before it, or zero (ASCII) after an escape; in the step that stops
 * a run, the bytes up to the stop, the stop included, which catches a
 * character cut short by it. This judges the raw text between escapes, as
 * the general decoder does. Fewer than 16 bytes left are copied to a zeroed
 * block first, so no load passes the end of the input: the first NUL added
 * is a stop, past the input's end. */
static int osb__ex_fast_str_v16(const char *p, size_t n, size_t *at, char *out, size_t *o, osb_str *dst) {
    size_t i = *at;
    char *const start = out + *o;
    char *w = start;
    osb__v16 prev = osb__v16_zero(), bad = osb__v16_zero(), rare = osb__v16_zero();
    uint64_t bad_stop = 0, rare_stop = 0;
    for (;;) {
        unsigned char e;
        osb__v16 x, err, r;
        uint64_t m;
        x = osb__v16_load_upto(p + i, n - i);
        osb__v16_store(w, x);
        m = osb__v16_mask(osb__v16_stops(x));
        err = osb__v16_utf8_common(x, prev);
        r = osb__v16_utf8_rare(x);
        if (!m) {
            bad = osb__v16_or(bad, err);
            rare = osb__v16_or(rare, r);
            prev = x;
            i += 16;
            w += 16;
            continue;
        }
        {
            size_t f = osb__v16_first(m);
            uint64_t upto = m ^ (m - 1);   /* up to the stop, the stop included */
            bad_stop |= osb__v16_mask(err) & upto;
            rare_stop |= osb__v16_mask(r) & upto;
            if (f >= n - i) return 0;   /* the end of the input, no closing quote */
            i += f;
            w += f;
        }
        if (p[i] != '\\') break;
        if (i + 1 >= n) return 0;
        e = (unsigned char)p[i + 1];
        if (e < 128 && osb__ex_esc[e]) {
            *w++ = (char)osb__ex_esc[e];
            i += 2;
        } else if (!(e == 'u' && osb__ex_unescape_u(p, n, &i, &w))) {
            return 0;
        }
        prev = osb__v16_zero();
    }
    if (p[i] != '"') return 0;   /* a control byte */
    /* bad UTF-8; with a rare byte, the full rules alone decide */
    if ((rare_stop || osb__v16_mask(rare)) ? osb__ex_utf8_raw_v16(p, *at, i) : (bad_stop || osb__v16_mask(bad)))
        return 0;
    return osb__ex_fast_done(i, at, start, w, o, dst);
}
#endif

#if defined(OSB__AVX2)
/* ---- 64 bytes per step with AVX2 or AVX-512 (x86-64, chosen at run time) */

/* Functions with AVX2 code; they run only after osb__avx2_usable said yes. */
#define OSB__AVX2_FN __attribute__((target("avx2,bmi,popcnt")))
#define OSB__V32_FN static inline __attribute__((target("avx2,bmi,popcnt"), always_inline, unused))

/* What this CPU runs, asked once: bit 0 AVX2 (with BMI1 and POPCNT, which
 * every AVX2 CPU has), bit 1 AVX-512 F, BW, VBMI and VBMI2 on top; each only
 * where the OS keeps the registers (XCR0: SSE and AVX state, and the opmask
 * and ZMM state for AVX-512). CPUID leaf 1: POPCNT, OSXSAVE, AVX; leaf 7:
 * BMI1, AVX2, AVX512F, AVX512BW (EBX), AVX512VBMI, AVX512VBMI2 (ECX).
 * Threads racing to the first call store the same answer. */
static int osb__cpu_vectors(void) {
    static int known;   /* the answer + 4, 0 until asked */
    if (!known) {
        unsigned a, b, c, d, xcr0, xcr0_high;
        int has = 0;
        if (__get_cpuid(1, &a, &b, &c, &d) && (c >> 23 & 1) && (c >> 27 & 1) && (c >> 28 & 1)) {
            __asm__ __volatile__("xgetbv" : "=a"(xcr0), "=d"(xcr0_high) : "c"(0));
            if ((xcr0 & 6) == 6 && __get_cpuid_max(0, NULL) >= 7) {
                __cpuid_count(7, 0, a, b, c, d);
                if ((b >> 3 & 1) && (b >> 5 & 1)) has = 1;
                if (has && (xcr0 & 0xE0) == 0xE0 && (b >> 16 & 1) && (b >> 30 & 1) && (c >> 1 & 1) && (c >> 6 & 1))
                    has |= 2;
            }
            (void)xcr0_high;
        }
        known = has + 4;
    }
    return known - 4;
}

static int osb__avx2_usable(void) { return osb__cpu_vectors() & 1; }

OSB__V32_FN __m256i osb__v32_load(const void *p) { return _mm256_loadu_si256((const __m256i *)p); }
OSB__V32_FN void osb__v32_store(void *w, __m256i x) { _mm256_storeu_si256((__m256i *)w, x); }
OSB__V32_FN uint64_t osb__v32_mask(__m256i m) { return (uint64_t)(uint32_t)_mm256_movemask_epi8(m); }
/* A bit for each nonzero byte of x. */
OSB__V32_FN uint64_t osb__v32_nonzero(__m256i x) {
    return ~osb__v32_mask(_mm256_cmpeq_epi8(x, _mm256_setzero_si256())) & 0xFFFFFFFFull;
}

/* '"', '\\' and control bytes (x <= 0x1F as x == min(x, 0x1F)). */
OSB__V32_FN __m256i osb__v32_stops(__m256i x) {
    __m256i ctl = _mm256_cmpeq_epi8(_mm256_min_epu8(x, _mm256_set1_epi8(0x1F)), x);
    return _mm256_or_si256(ctl, _mm256_or_si256(_mm256_cmpeq_epi8(x, _mm256_set1_epi8('"')),
                                                _mm256_cmpeq_epi8(x, _mm256_set1_epi8('\\'))));
}

/* The UTF-8 errors of the 32 bytes x (nonzero bytes), prev being the 32
 * before them (zero where ASCII came before); valid text has none, and
 * other text has one at or before the first byte where osb__v16_utf8_errors
 * flags one. Every error but one is a byte that must not follow the byte
 * before it, and each kind is a set of (high nibble before, low nibble
 * before, high nibble of this byte): a table per nibble gives the kinds it
 * allows (one bit each), and a kind holds where all three tables allow it.
 *   0x01 a lead (C0-FF) not followed by a continuation byte (80-BF)
 *   0x02 a continuation byte after ASCII
 *   0x04 E0 then 80-9F (overlong)
 *   0x08 F4-FF then 90-BF (above U+10FFFF)
 *   0x10 ED then A0-BF (a surrogate)
 *   0x20 C0 or C1 then a continuation byte (overlong)
 *   0x40 F0 then 80-8F (overlong), F5-FF then 80-8F (above U+10FFFF)
 *   0x80 a continuation byte after a continuation byte
 * The last is no error where a lead two or three bytes before (E0 and up,
 * F0 and up) asks for this byte as its third or fourth, and the lack of it
 * is one where such a lead asks: so the two are XORed. */
static const unsigned char osb__utf8_nibble_kinds[3][16] = {
    {0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x80, 0x80, 0x80, 0x80, 0x21, 0x01, 0x15, 0x49},   /* high before */
    {0xE7, 0xA3, 0x83, 0x83, 0x8B, 0xCB, 0xCB, 0xCB, 0xCB, 0xCB, 0xCB, 0xCB, 0xCB, 0xDB, 0xCB, 0xCB},   /* low before */
    {0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0xE6, 0xAE, 0xBA, 0xBA, 0x01, 0x01, 0x01, 0x01}};  /* high, this */
OSB__V32_FN __m256i osb__v32_table(int k) {
    return _mm256_broadcastsi128_si256(_mm_loadu_si128((const __m128i *)osb__utf8_nibble_kinds[k]));
}
OSB__V32_FN __m256i osb__v32_utf8_errors(__m256i x, __m256i prev) {
    const __m256i high_before = osb__v32_table(0), low_before = osb__v32_table(1), high_this = osb__v32_table(2);
    const __m256i nibble = _mm256_set1_epi8(0x0F);
    __m256i joined = _mm256_permute2x128_si256(prev, x, 0x21);   /* prev's high lane, x's low lane */
    __m256i p1 = _mm256_alignr_epi8(x, joined, 15), p2 = _mm256_alignr_epi8(x, joined, 14),
            p3 = _mm256_alignr_epi8(x, joined, 13);
    __m256i kinds = _mm256_and_si256(
        _mm256_and_si256(_mm256_shuffle_epi8(high_before, _mm256_and_si256(_mm256_srli_epi16(p1, 4), nibble)),
                         _mm256_shuffle_epi8(low_before, _mm256_and_si256(p1, nibble))),
        _mm256_shuffle_epi8(high_this, _mm256_and_si256(_mm256_srli_epi16(x, 4), nibble)));
    /* 0x80 where p2 >= E0 or p3 >= F0: saturating subtraction lands at or above 0x80 exactly then */
    __m256i asked = _mm256_and_si256(_mm256_or_si256(_mm256_subs_epu8(p2, _mm256_set1_epi8(0x60)),
                                                     _mm256_subs_epu8(p3, _mm256_set1_epi8(0x70))),
                                     _mm256_set1_epi8((char)0x80));
    return _mm256_xor_si256(kinds, asked);
}

/* The last min(n, 128) bytes of p placed to end at tail[128], zeros in
 * tail[128..256): the input near its end, readable 128 bytes on. */
OSB__AVX2_FN static void osb__v64_tail(const char *p, size_t n, unsigned char *tail) {
    int k;
    if (n >= 128) {   /* four vectors: a call to memcpy costs more here */
        for (k = 0; k < 128; k += 32) osb__v32_store(tail + k, osb__v32_load(p + n - 128 + k));
    } else {
        memcpy(tail + 128 - n, p, n);
    }
    for (k = 128; k < 256; k += 32) osb__v32_store(tail + k, _mm256_setzero_si256());
}

/* osb__ex_fast_str_words 64 bytes per step with AVX2 (after
 * osb__avx2_usable), from p[i] on: the text so far is start..w, the 32
 * bytes before p[i] are prev and bad holds the UTF-8 errors so far
 * (osb__ex_fast_str_v64 starts at the string with zeros). A step loads 64 bytes, stores them at the output,
 * judges them as UTF-8 and finds their stops; its stops are then taken in
 * order from the mask, without waiting for another load to find the next:
 * after an escape the rest of the step is stored again from the input,
 * where the output now is. A step is judged whole against the 32 bytes
 * before it; in the step with the closing quote, only the bytes up to the
 * quote count, which catches a character cut short by it. That is the raw text between escapes, as the
 * other scans judge it. Within 128 bytes of the input's end the bytes are
 * read from a copy followed by zeros (osb__v64_tail), so no load passes the
 * end; a zero is a stop, past the end it means no closing quote. */
OSB__AVX2_FN static int osb__ex_fast_str_v64_at(const char *p, size_t n, size_t i, char *start, char *w, __m256i prev,
                                                __m256i bad, size_t *at, size_t *o, osb_str *dst) {
    unsigned char tail[256];
    int tailed = 0;
    for (;;) {
        const char *src;
        char *wseg = w;
        size_t ib = i, seg = 0;
        uint64_t m;
        __m256i a, b, err_a, err_b;
        if (!tailed && n - i < 128) {
            osb__v64_tail(p, n, tail);
            tailed = 1;
        }
        src = tailed ? (const char *)tail + 128 - (n - i) : p + i;
        a = osb__v32_load(src);
        b = osb__v32_load(src + 32);
        osb__v32_store(w, a);
        osb__v32_store(w + 32, b);
        err_a = osb__v32_utf8_errors(a, prev);
        err_b = osb__v32_utf8_errors(b, a);
        prev = b;
        m = osb__v32_mask(osb__v32_stops(a)) | osb__v32_mask(osb__v32_stops(b)) << 32;
        if (!m) {
            bad = _mm256_or_si256(bad, _mm256_or_si256(err_a, err_b));
            i += 64;
            w += 64;
            continue;
        }
        for (;;) {   /* the stops of this step, in order */
            size_t f = (size_t)__builtin_ctzll(m), k;
            unsigned char e;
            if (f >= n - ib) return 0;   /* past the input's end: no closing quote */
            w = wseg + (f - seg);
            if (src[f] != '\\') {
                if (src[f] != '"') return 0;   /* a control byte */
                /* bad UTF-8 before this step, or in it up to the quote, the quote included */
                if (!_mm256_testz_si256(bad, bad) ||
                    (osb__v32_nonzero(err_a) | osb__v32_nonzero(err_b) << 32) & (m ^ (m - 1)))
                    return 0;
                return osb__ex_fast_done(ib + f, at, start, w, o, dst);
            }
            if (f + 1 >= n - ib) return 0;
            e = (unsigned char)src[f + 1];
            if (e < 128 && osb__ex_esc[e]) {
                *w++ = (char)osb__ex_esc[e];
                k = f + 2;
            } else {
                size_t j = ib + f;
                if (e != 'u' || !osb__ex_unescape_u(p, n, &j, &w)) return 0;
                k = j - ib;
            }
            /* The escape ends the step or runs past it. b stays the bytes
             * before the next step: it ends in the escape's ASCII, and a
             * lead byte before that is an error of this step already. */
            if (k >= 64) {
                bad = _mm256_or_si256(bad, _mm256_or_si256(err_a, err_b));
                i = ib + k;
                break;
            }
            m &= ~0ull << k;   /* not the stops inside the escape */
            seg = k;
            wseg = w;
            osb__v32_store(w, osb__v32_load(src + k));
            osb__v32_store(w + 32, osb__v32_load(src + k + 32));
            if (!m) {
                bad = _mm256_or_si256(bad, _mm256_or_si256(err_a, err_b));
                i = ib + 64;
                w = wseg + (64 - k);
                break;
            }
        }
    }
}

/* osb__ex_fast_str_v64_at from the string's start. */
OSB__AVX2_FN static int osb__ex_fast_str_v64(const char *p, size_t n, size_t *at, char *out, size_t *o,
                                             osb_str *dst) {
    return osb__ex_fast_str_v64_at(p, n, *at, out + *o, out + *o, _mm256_setzero_si256(), _mm256_setzero_si256(),
                                   at, o, dst);
}

#if defined(OSB__AVX512)
/* The escaped bytes of a 64-byte step: bit k where byte k follows a
 * backslash that is not escaped itself, as reading byte by byte finds them.
 * bs: the backslashes; *carry: in, whether byte 0 is escaped (the step
 * before ended in an odd run of backslashes); out, the same for the next
 * step. In a run of backslashes every other byte from the second is
 * escaped, and the byte after the run when the run is odd: the bytes of the
 * run and the one after it whose position has the other parity than the
 * run's start. Adding the starts to the backslashes clears each run and
 * sets the bit after it, so the runs are taken in two groups, those that
 * start at even and those at odd positions. */
static uint64_t osb__v64_escaped(uint64_t bs, uint64_t *carry) {
    const uint64_t even = 0x5555555555555555ull, odd = ~even;
    uint64_t in = *carry, b = bs & ~in;   /* an escaped backslash starts no run */
    uint64_t starts = b & ~(b << 1);
    uint64_t after_even = b + (starts & even), after_odd = b + (starts & odd);
    *carry = after_odd < b;   /* a run from an odd position up to bit 63 escapes the next byte 0 */
    return ((b ^ after_even) & odd) | ((b ^ after_odd) & even) | in;
}

#define OSB__AVX512_FN __attribute__((target("avx2,bmi,popcnt,avx512f,avx512bw,avx512vbmi,avx512vbmi2")))
#define OSB__V64_FN static inline __attribute__((target("avx2,bmi,popcnt,avx512f,avx512bw,avx512vbmi,avx512vbmi2"), \
                                                 always_inline, unused))

/* osb__v32_utf8_errors for 64 bytes: the same kinds at the same bytes;
 * p1, p2 and p3 are the bytes one, two and three before each byte of x. */
OSB__V64_FN __m512i osb__v64_table(int k) {
    return _mm512_broadcast_i32x4(_mm_loadu_si128((const __m128i *)osb__utf8_nibble_kinds[k]));
}
OSB__V64_FN __m512i osb__v64_utf8_errors(__m512i x, __m512i p1, __m512i p2, __m512i p3) {
    const __m512i high_before = osb__v64_table(0), low_before = osb__v64_table(1), high_this = osb__v64_table(2);
    const __m512i nibble = _mm512_set1_epi8(0x0F);
    __m512i kinds = _mm512_ternarylogic_epi32(   /* all three allow it: a & b & c */
        _mm512_shuffle_epi8(high_before, _mm512_and_si512(_mm512_srli_epi16(p1, 4), nibble)),
        _mm512_shuffle_epi8(low_before, _mm512_and_si512(p1, nibble)),
        _mm512_shuffle_epi8(high_this, _mm512_and_si512(_mm512_srli_epi16(x, 4), nibble)), 0x80);
    __m512i asked = _mm512_or_si512(_mm512_subs_epu8(p2, _mm512_set1_epi8(0x60)),
                                    _mm512_subs_epu8(p3, _mm512_set1_epi8(0x70)));
    return _mm512_ternarylogic_epi32(kinds, asked, _mm512_set1_epi8((char)0x80), 0x78);   /* a ^ (b & c) */
}

/* osb__ex_fast_str_words with AVX-512 VBMI2 (after osb__cpu_vectors said
 * so), 64 bytes per step with no loop over the stops: a step is loaded with
 * the bytes past the input's end masked off (zeros, which no load of
 * AVX-512 fetches), its escaped bytes are found from the backslashes
 * (osb__v64_escaped), the escaped letters become their bytes through the
 * escape table (osb__ex_esc, a byte permute), the backslashes before them
 * are dropped (a compress), and the step is stored and judged as UTF-8 as
 * the AVX2 step does (osb__v64_utf8_errors). An escape may run into the
 * next step: its backslash is dropped in one, its letter taken in the next.
 * A step that holds the closing quote is stored up to it and the string
 * ends. A \u escape or any other than one letter: from that step on the
 * string goes to osb__ex_fast_str_v64_at, which starts from the same state
 * and takes or refuses it (from the string's start, where the escape's
 * backslash ended the step before). */
OSB__AVX512_FN static int osb__ex_fast_str_v512(const char *p, size_t n, size_t *at, char *out, size_t *o,
                                               osb_str *dst) {
    const __m512i esc_lo = _mm512_loadu_si512((const void *)osb__ex_esc),
                  esc_hi = _mm512_loadu_si512((const void *)(osb__ex_esc + 64));
    const __m512i backslash = _mm512_set1_epi8('\\'), quote = _mm512_set1_epi8('"'), top = _mm512_set1_epi8(0x1F);
    size_t i = *at;
    char *const start = out + *o;
    char *w = start;
    __m512i bad = _mm512_setzero_si512();
    uint64_t carry = 0;   /* the step before ended in an escaping backslash */
    for (;;) {
        size_t left = n - i;
        __m512i x, b1, b2, b3, letters, err;   /* b1-b3: the bytes one, two and three before each */
        /* loaded rather than shifted from the step before (loads are not the
         * shuffle unit, which the rest of the step keeps busy); masked only
         * near the input's end */
        if (left >= 64) {
            x = _mm512_loadu_si512((const void *)(p + i));
            b1 = _mm512_loadu_si512((const void *)(p + i - 1));
            b2 = _mm512_loadu_si512((const void *)(p + i - 2));
            b3 = _mm512_loadu_si512((const void *)(p + i - 3));
        } else {
            uint64_t in = (1ull << left) - 1;   /* the bytes before the input's end */
            x = _mm512_maskz_loadu_epi8(in, (const void *)(p + i));
            b1 = _mm512_maskz_loadu_epi8(in << 1 | 1, (const void *)(p + i - 1));
            b2 = _mm512_maskz_loadu_epi8(in << 2 | 3, (const void *)(p + i - 2));
            b3 = _mm512_maskz_loadu_epi8(in << 3 | 7, (const void *)(p + i - 3));
        }
        uint64_t carried = carry, bs = _mm512_cmpeq_epi8_mask(x, backslash), escaped = osb__v64_escaped(bs, &carry);
        uint64_t stops = (_mm512_cmpeq_epi8_mask(x, quote) & ~escaped) | _mm512_cmple_epu8_mask(x, top);
        uint64_t upto = stops ^ (stops - 1);   /* up to the first stop, the stop included; all without one */
        uint64_t dropped = bs & ~escaped, one_letter;
        letters = _mm512_permutex2var_epi8(esc_lo, x, esc_hi);   /* by the low 7 bits: ASCII only, below */
        one_letter = _mm512_test_epi8_mask(letters, letters) & ~_mm512_movepi8_mask(x);
        if (escaped & ~one_letter & upto) {
            if (carried)   /* the escape began in the step before: all again the AVX2 way */
                return osb__ex_fast_str_v64(p, n, at, out, o, dst);
            break;
        }
        err = osb__v64_utf8_errors(x, b1, b2, b3);
        letters = _mm512_mask_mov_epi8(x, escaped, letters);   /* the text, backslashes yet to drop */
        if (stops) {   /* the string's end: the closing quote, or an error */
            size_t f = (size_t)_tzcnt_u64(stops);
            uint64_t keep = ~dropped & (upto >> 1);   /* the text before the stop */
            if (f >= left || p[i + f] != '"') return 0;   /* a control byte, or no closing quote */
            if (_mm512_test_epi8_mask(bad, bad) || (_mm512_test_epi8_mask(err, err) & upto)) return 0;   /* bad UTF-8 */
            _mm512_storeu_si512((void *)w, _mm512_maskz_compress_epi8(keep, letters));
            return osb__ex_fast_done(i + f, at, start, w + (size_t)_mm_popcnt_u64(keep), o, dst);
        }
        bad = _mm512_or_si512(bad, err);
        _mm512_storeu_si512((void *)w, _mm512_maskz_compress_epi8(~dropped, letters));
        w += 64 - (size_t)_mm_popcnt_u64(dropped);
        i += 64;
    }
    return osb__ex_fast_str_v64_at(p, n, i, start, w, i == *at ? _mm256_setzero_si256() : osb__v32_load(p + i - 32),
                                   _mm256_or_si256(_mm512_castsi512_si256(bad), _mm512_extracti64x4_epi64(bad, 1)), at,
                                   o, dst);
}
#endif

#endif /* OSB__AVX2 */

/* A string of an event the fast way (osb__ex_fast_str_words: the contract). */
static int osb__ex_fast_str(const char *p, size_t n, size_t *at, char *out, size_t *o, osb_str *dst) {
#if defined(OSB__AVX512)
    if (osb__cpu_vectors() & 2) return osb__ex_fast_str_v512(p, n, at, out, o, dst);
#endif
#if defined(OSB__AVX2)
    if (osb__avx2_usable()) return osb__ex_fast_str_v64(p, n, at, out, o, dst);
#endif
#if defined(OSB__SIMD)
    return osb__ex_fast_str_v16(p, n, at, out, o, dst);
#else
    return osb__ex_fast_str_words(p, n, at, out, o, dst);
#endif
}

/* A string of lowercase letters and '_' closed within 16 bytes, as an
 * event's type is, from p[*at] on: byte by byte, which for so few costs
 * less than a call into a vector scan. Returns 0, changing nothing, for
 * anything else (osb__ex_fast_str takes it). */
static int osb__ex_fast_word(const char *p, size_t n, size_t *at, char *out, size_t *o, osb_str *dst) {
    size_t i = *at, k;
    for (k = i; k < n && k - i < 16; k++) {
        char c = p[k];
        if (c == '"') {
            memcpy(out + *o, p + i, k - i);
            return osb__ex_fast_done(k, at, out + *o, out + *o + (k - i), o, dst);
        }
        if ((c < 'a' || c > 'z') && c != '_') return 0;
    }
    return 0;
}

/* Whether the eight bytes at p are all ASCII digits: each byte's high
 * nibble is 3 and adding 6 keeps it there (so the low one is 0-9). */
static int osb__ex_digits8(const char *p) {
    uint64_t x = osb__load_le64((const unsigned char *)p);
    return ((x & 0xF0F0F0F0F0F0F0F0ull) | ((x + 0x0606060606060606ull) & 0xF0F0F0F0F0F0F0F0ull) >> 4) ==
           0x3333333333333333ull;
}

/* The value of eight ASCII digits at p (checked by osb__ex_digits8), the
 * first the most significant: pairs, then fours, then eights, each step
 * one multiply-add in every lane. */
static uint64_t osb__ex_value8(const char *p) {
    uint64_t x = osb__load_le64((const unsigned char *)p) - 0x3030303030303030ull;
    x = (x * 10 + (x >> 8)) & 0x00FF00FF00FF00FFull;
    x = (x * 100 + (x >> 16)) & 0x0000FFFF0000FFFFull;
    return (x * 10000 + (x >> 32)) & 0xFFFFFFFFull;
}

/* The whole of p[0..n) is the event, or, when line is not NULL, the event
 * is the line at the start of p: the object and any spaces or tabs after it
 * up to a LF, whose index goes to *line. A line holds no CR or LF (not even
 * as whitespace between tokens), so it is the line the event tokenizer
 * would cut. */
static int osb__ex_fast(const char *p, size_t n, osb__ex_wire *w, char *out, size_t *line) {
    size_t i = 0, o = 0, start, end;
    int first = 1;
    /* field by field: cheaper than a memset of the whole struct per event */
    w->type.ptr = w->text.ptr = w->results.ptr = w->code.ptr = w->message.ptr = NULL;
    w->type.len = w->text.len = w->results.len = w->code.len = w->message.len = 0;
    w->timestamp = w->execution_count = w->execution_time = 0;
    w->error.ename.ptr = w->error.evalue.ptr = NULL;
    w->error.ename.len = w->error.evalue.len = 0;
    w->error.traceback = NULL;
    w->error.traceback_count = 0;
#define OSB__EX_WS()                                                                             \
    while (i < n && (p[i] == ' ' || p[i] == '\t' || (!line && (p[i] == '\n' || p[i] == '\r')))) i++
    OSB__EX_WS();
    if (i >= n || p[i] != '{') return 0;
    start = i++;
    for (;;) {
        const char *key;
        size_t klen;
        osb_str *sdst = NULL;
        int64_t *idst = NULL;
        OSB__EX_WS();
        if (i < n && p[i] == '}' && first) { i++; break; }
        if (i >= n || p[i] != '"') return 0;
        if (n - i >= 12 && !memcmp(p + i, "\"text\":", 7)) {   /* the usual keys, as they come */
            sdst = &w->text;
            i += 7;
        } else if (n - i >= 12 && !memcmp(p + i, "\"type\":", 7)) {
            sdst = &w->type;
            i += 7;
        } else if (n - i >= 12 && !memcmp(p + i, "\"timestamp\":", 12)) {
            idst = &w->timestamp;
            i += 12;
        } else {
            i++;
            key = p + i;
            {
                /* a plain ASCII name; anything else is the general decoder's */
                size_t q = osb__str_plain_end((const unsigned char *)p, i, n);
                if (q >= n || p[q] != '"') return 0;
                klen = q - i;
                i = q + 1;
            }
            OSB__EX_WS();
            if (i >= n || p[i] != ':') return 0;
            i++;
            switch (klen) {
            case 4:
                if (!memcmp(key, "type", 4)) sdst = &w->type;
                else if (!memcmp(key, "text", 4)) sdst = &w->text;
                else if (!memcmp(key, "code", 4)) sdst = &w->code;
                break;
            case 5: if (!memcmp(key, "error", 5)) return 0; break;
            case 7:
                if (!memcmp(key, "message", 7)) sdst = &w->message;
                else if (!memcmp(key, "results", 7)) return 0;
                break;
            case 9: if (!memcmp(key, "timestamp", 9)) idst = &w->timestamp; break;
            case 14: if (!memcmp(key, "execution_time", 14)) idst = &w->execution_time; break;
            case 15: if (!memcmp(key, "execution_count", 15)) idst = &w->execution_count; break;
            default: break;
            }
        }
        OSB__EX_WS();
        if (i >= n) return 0;
        if (p[i] == '"') {
            if (idst) return 0;
            i++;
            if (!(sdst == &w->type && osb__ex_fast_word(p, n, &i, out, &o, sdst)) &&
                !osb__ex_fast_str(p, n, &i, out, &o, sdst))
                return 0;
        } else if (p[i] == '-' || (p[i] >= '0' && p[i] <= '9')) {
            int neg = p[i] == '-';
            uint64_t v = 0;
            size_t d0;
            if (sdst) return 0;
            if (neg) i++;
            d0 = i;
            while (n - i >= 8 && osb__ex_digits8(p + i)) {   /* eight digits at a time, then one by one */
                if (i - d0 >= 16) return 0;
                v = v * 100000000u + osb__ex_value8(p + i);
                i += 8;
            }
            while (i < n && p[i] >= '0' && p[i] <= '9') {
                if (v > (UINT64_MAX - 9) / 10) return 0;
                v = v * 10 + (uint64_t)(p[i] - '0');
                i++;
            }
            if (i == d0 || (p[d0] == '0' && i - d0 > 1)) return 0;
            if (i < n && (p[i] == '.' || p[i] == 'e' || p[i] == 'E')) return 0;
            if (v > (uint64_t)INT64_MAX) return 0;
            if (idst) *idst = neg ? -(int64_t)v : (int64_t)v;
        } else {
            return 0;   /* objects, arrays, literals: the general decoder */
        }
        first = 0;
        OSB__EX_WS();
        if (i < n && p[i] == ',') { i++; continue; }
        if (i < n && p[i] == '}') { i++; break; }
        return 0;
    }
    end = i;
    OSB__EX_WS();
#undef OSB__EX_WS
    if (line) {
        if (i >= n || p[i] != '\n') return 0;
        *line = i;
    } else if (i != n) {
        return 0;
    }
    w->raw.ptr = p + start;   /* the object, as the general decoder has it */
    w->raw.len = end - start;
    return 1;
}
#else /* OSB_NO_FAST_EVENTS: every event goes through the general decoder (osb_bind_into) */
#  define osb__ex_fast(p, n, w, out, line) ((void)(p), (void)(n), (void)(w), (void)(out), (void)(line), 0)
#endif

/* Makes s->ev of the decoded wire form. */
static osb_err osb__ex_event(osb_stream *s) {
    if (s->kind == OSB__EX_METRICS) {
        osb__ex_mwire *m = &s->mwire;
        memset(&s->ev, 0, sizeof s->ev);
        if ((m->code.ptr || m->message.ptr) && !m->error.ptr && m->m.timestamp == 0)
            return osb__ex_server_error(s, &m->code, &m->message);
        s->ev.raw = m->m.raw;
        s->ev.type_name.ptr = "";
        if (m->error.ptr) {
            s->ev.type = OSB_EVENT_ERROR;
            s->ev.text = m->error;
            s->ev.evalue = m->error;
        } else {
            s->ev.type = OSB_EVENT_METRICS;
            s->ev.metrics = m->m;
            s->ev.timestamp = m->m.timestamp;
        }
        return OSB_OK;
    } else {
        osb__ex_wire *w = &s->wire;
        if (!w->type.ptr && (w->code.ptr || w->message.ptr)) return osb__ex_server_error(s, &w->code, &w->message);
        s->ev.type = osb__ex_type(&w->type);
        s->ev.type_name = w->type;
        if (!s->ev.type_name.ptr) s->ev.type_name.ptr = "";
        s->ev.text = w->text;
        if (!s->ev.text.ptr) s->ev.text.ptr = "";
        s->ev.timestamp = w->timestamp;
        s->ev.execution_count = w->execution_count;
        s->ev.execution_time_ms = w->execution_time;
        s->ev.ename = w->error.ename;
        s->ev.evalue = w->error.evalue;
        if (!s->ev.ename.ptr) s->ev.ename.ptr = "";
        if (!s->ev.evalue.ptr) s->ev.evalue.ptr = "";
        s->ev.traceback = w->error.traceback;
        s->ev.traceback_count = w->error.traceback_count;
        s->ev.raw = w->raw;
        s->ev.results = NULL;
        s->ev.results_count = 0;
        /* (s->ev.metrics stays zero: this stream never has metrics) */
        if (w->results.ptr && osb__ex_results(s, &w->results) != OSB_OK)
            return osb__ex_stream_fail(s, OSB_ERR_JSON, "malformed results in a stream event");
        return OSB_OK;
    }
}

/* Decodes the event the tokenizer holds into s->ev. Returns OSB_OK with
 * *skip = 1 for an event without data. */
static osb_err osb__ex_decode(osb_stream *s, int *skip) {
    osb_sse_event se;
    osb_error berr;
    size_t need = 0;
    osb_err e;
    const osb_type *type = s->kind == OSB__EX_METRICS ? &osb__ex_mwire_type : &osb__ex_wire_type;
    void *dst = s->kind == OSB__EX_METRICS ? (void *)&s->mwire : (void *)&s->wire;
    *skip = 0;
    osb_sse_event_get(&s->sse, &se);
    if (se.data_len == 0) { *skip = 1; return OSB_OK; }
    if (s->bindcap < se.data_len + 256 &&
        osb__ex_grow(s, &s->bindbuf, &s->bindcap, se.data_len + 256))
        return osb__ex_stream_fail(s, OSB_ERR_NOMEM, "out of memory");
    if (s->kind != OSB__EX_METRICS && !s->no_fast && osb__ex_fast(se.data, se.data_len, &s->wire, s->bindbuf, NULL)) {
        s->evbuf[(size_t)(s->wire.raw.ptr - s->evbuf) + s->wire.raw.len] = 0;   /* over any whitespace after it */
        return osb__ex_event(s);
    }
    for (;;) {
        memset(&berr, 0, sizeof berr);
        e = osb_bind_into(type, se.data, se.data_len, dst, s->bindbuf, s->bindcap, &need, &berr);
        if (e != OSB_ERR_TOO_LARGE || need <= s->bindcap) break;
        if (osb__ex_grow(s, &s->bindbuf, &s->bindcap, need))
            return osb__ex_stream_fail(s, OSB_ERR_NOMEM, "out of memory");
    }
    if (e) {
        osb__reset_error(&s->c->err);
        s->c->err = berr;
        s->c->err.code = e;
        s->c->err.http_status = s->res.status;
        s->c->err.offset = se.offset;
        if (!s->c->err.message[0]) osb__set_error(&s->c->err, e, "a stream event is not a JSON object");
        s->err = e;
        s->finished = 1;
        return e;
    }
    return osb__ex_event(s);
}

/* The common case without the event tokenizer: a bare JSON line at the
 * front of the unread body bytes, while the tokenizer waits at the start of
 * a line with nothing pending, decoded by the fast path where it lies. The
 * fast path takes no CR or LF inside a line, so the line it finds is the one
 * the tokenizer would cut. The object stays where it is (ev.raw, NUL-
 * terminated as always), and the tokenizer moves past the line
 * and a blank line after it as if it had read them. Its limits hold
 * (max_event, the LF counted) and the buffers stay as they are: a line
 * longer than the text buffer goes the general way, which grows it. Returns 1 when s->wire holds
 * the event. */
static int osb__ex_take_line(osb_stream *s) {
    const char *p = s->pending;
    size_t n = s->pending_len, end, used;
    if (s->kind == OSB__EX_METRICS || s->no_fast || p[0] != '{' || s->bindcap <= 256 || s->sse.max_event < 2 ||
        !osb__sse_at_line(&s->sse))
        return 0;
    n = OSB__MIN(n, s->bindcap - 256);
    n = OSB__MIN(n, s->sse.max_event - 1);
    if (!osb__ex_fast(p, n, &s->wire, s->bindbuf, &end)) return 0;
    /* ev.raw is NUL-terminated where it lies, over the blank or LF after
     * the object (read already): the body bytes are in the connection's
     * receive buffer, the library's own, which keeps them until the next
     * read, that is past the next osb_stream_next */
    ((char *)p)[(size_t)(s->wire.raw.ptr - p) + s->wire.raw.len] = 0;
    used = end + 1;
    if (used < s->pending_len && p[used] == '\n') used++;
    osb__sse_skip_lines(&s->sse, used);
    s->pending += used;
    s->pending_len -= used;
    return 1;
}

/* Hands out the event in s->ev. */
static osb_err osb__ex_deliver(osb_stream *s, const osb_event **ev) {
    if (s->ev.type == OSB_EVENT_EXECUTION_COMPLETE ||
        (s->ev.type == OSB_EVENT_ERROR && (s->kind == OSB__EX_COMMAND || s->kind == OSB__EX_SESSION)))
        s->finished = 1;   /* the terminal event: nothing useful follows */
    *ev = &s->ev;
    return OSB_OK;
}

OSB_API osb_err osb_stream_next(osb_stream *s, const osb_event **ev) {
    if (ev) *ev = NULL;
    if (!s || !ev) return OSB_ERR_INVALID_ARG;
    for (;;) {
        int st, skip;
        osb_err e;
        if (s->finished) {
            if (s->err) s->c->err.code = s->err;
            return s->err;
        }
        if (s->cancel && *s->cancel) return osb__ex_stream_fail(s, OSB_ERR_CANCELLED, "cancelled");
        if (s->eof) {
            st = osb_sse_finish(&s->sse);
        } else {
            if (s->pending_len == 0) {
                const void *d;
                size_t n;
                e = osb_body_read(s->body, &d, &n);
                if (e == OSB__AGAIN) return e;   /* a multi's: nothing lost, call again */
                if (e) {
                    s->err = e;
                    s->finished = 1;
                    return e;
                }
                if (n == 0) {
                    s->eof = 1;
                    continue;
                }
                s->pending = (const char *)d;
                s->pending_len = n;
            }
            if (osb__ex_take_line(s)) {
                e = osb__ex_event(s);
                if (e) return e;
                return osb__ex_deliver(s, ev);
            }
            {
                size_t used = osb_sse_push(&s->sse, s->pending, s->pending_len);
                s->pending += used;
                s->pending_len -= used;
            }
            st = osb_sse_status(&s->sse);
        }
        if (st == OSB_SSE_FULL) {
            size_t want = s->evcap * 2;
            if (want > s->sse.max_event + 1) want = s->sse.max_event + 1;
            if (want <= s->evcap) return osb__ex_stream_fail(s, OSB_ERR_TOO_LARGE, "a stream event is over max_event");
            if (osb__ex_grow(s, &s->evbuf, &s->evcap, want))
                return osb__ex_stream_fail(s, OSB_ERR_NOMEM, "out of memory");
            /* osb__ex_grow may round up past want; the tokenizer gets all of it */
            osb_sse_set_buffer(&s->sse, s->evbuf, s->evcap);
            continue;
        }
        if (st == OSB_SSE_ERROR) {
            osb__reset_error(&s->c->err);
            osb__set_error(&s->c->err, s->sse.err, s->sse.err == OSB_ERR_TOO_LARGE ? "a stream event is over max_event"
                                                                               : "malformed event stream");
            s->c->err.offset = s->sse.err_offset;
            s->err = s->sse.err;
            s->finished = 1;
            return s->err;
        }
        if (st == OSB_SSE_END) {
            s->finished = 1;
            return OSB_OK;
        }
        if (st != OSB_SSE_EVENT) continue;
        e = osb__ex_decode(s, &skip);
        if (e) return e;
        if (skip) continue;
        return osb__ex_deliver(s, ev);
    }
}

OSB_API void osb_stream_on_wait(osb_stream *s, void (*fn)(void *user), void *user) {
    if (!s || !s->body) return;
    s->body->on_wait = fn;
    s->body->on_wait_user = user;
}

OSB_API void osb_stream_close(osb_stream *s) {
    const osb_allocator *a;
    if (!s) return;
    a = s->c->alloc;
    if (s->body) s->body->on_wait = NULL;
    if (s->body && !s->eof && !s->err && s->finished &&
        (s->kind == OSB__EX_CODE || s->kind == OSB__EX_SESSION)) {
        /* these streams close right after their terminal event: reading
           the rest keeps the connection and lets the server finish the
           execution before the next request */
        uint64_t budget = 1u << 20;
        for (;;) {
            const void *d;
            size_t n;
            if (osb_body_read(s->body, &d, &n) != OSB_OK || n == 0 || n >= budget) break;
            budget -= n;
        }
    }
    if (s->body) osb_body_close(s->body);
    osb_http_response_free(&s->res);
    osb__free(a, s->evbuf);
    osb__free(a, s->bindbuf);
    osb__free(a, s->resbuf);
    osb__free(a, s);
}

/* Sends a built call as a stream request and reads the response head. */
static osb_err osb__ex_open(osb__call *k, int kind, const volatile int *cancel, osb_stream **out) {
    osb_client *c = k->c;
    osb_http_request req;
    osb_stream *s;
    osb_err e;
    char url[1400];
    *out = NULL;
    if (!k->err && k->has_body && (e = osb_jw_finish(&k->jw)) != OSB_OK) k->err = e;
    if (k->err) {
        e = k->err;
        osb__call_free(k);
        return osb__call_fail(c, e, e == OSB_ERR_NOMEM ? "out of memory" : "invalid argument");
    }
    if ((e = osb__target_url(c, k->target, url, sizeof url)) != OSB_OK) {
        osb__call_free(k);
        return e;
    }
    s = (osb_stream *)osb__alloc(c->alloc, sizeof *s);
    if (!s) {
        osb__call_free(k);
        return osb__call_fail(c, OSB_ERR_NOMEM, "out of memory");
    }
    memset(s, 0, sizeof *s);
    s->c = c;
    s->kind = kind;
    s->cancel = cancel;
    s->evcap = OSB_STREAM_BUFFER;
    s->evbuf = (char *)osb__alloc(c->alloc, s->evcap);
    if (!s->evbuf) {
        osb__free(c->alloc, s);
        osb__call_free(k);
        return osb__call_fail(c, OSB_ERR_NOMEM, "out of memory");
    }
    osb_sse_init(&s->sse, s->evbuf, s->evcap);
    memset(&req, 0, sizeof req);
    req.method = k->method;
    req.url = url;
    req.execd = 1;
    req.path = k->path.data;
    req.query = k->query.len ? k->query.data : NULL;
    req.headers = k->target->headers;
    if (k->has_body) {
        req.content_type = k->content_type;
        req.body = k->body.data;
        req.body_len = k->body.len;
    }
    req.stream = 1;
    req.cancel = cancel;
    req.accept = "text/event-stream";   /* as the official SDKs ask for every stream */
#if !OSB_NO_MULTI
    if (c->defer) {   /* a multi's typed adder: the stream becomes a transfer */
        e = c->defer_fn(c, &req, NULL, s);
        osb__call_free(k);
        if (e) {
            osb_stream_close(s);
            return e;
        }
        *out = s;
        return OSB_OK;
    }
#endif
    e = osb_request_open(c, &req, &s->res, &s->body);
    osb__call_free(k);
    if (!e && (s->res.status < 200 || s->res.status > 299)) e = osb__body_http_error(c, s->body, s->res.status);
    if (e) {
        osb_stream_close(s);
        return e;
    }
    *out = s;
    return OSB_OK;
}

/* Runs a stream to its end through the callback and the execution. */
static osb_err osb__ex_drive(osb_client *c, osb_stream *s, osb_event_fn on_event, void *user, osb_execution *x) {
    osb_err e;
    for (;;) {
        const osb_event *ev;
        e = osb_stream_next(s, &ev);
        if (e || !ev) break;
        if (x && (e = osb_execution_add(x, ev)) != OSB_OK) {
            osb__call_fail(c, e, "out of memory");
            break;
        }
        if (on_event && on_event(user, ev)) {
            e = osb__call_fail(c, OSB_ERR_CANCELLED, "the event callback stopped the stream");
            break;
        }
    }
    osb_stream_close(s);
    return e;
}

/* Prepares an execution for a run: frees what it held, takes the client's
 * allocator when none is set. */
static void osb__ex_exec_begin(osb_client *c, osb_execution *x, int line_mode) {
    if (!x) return;
    osb_execution_free(x);
    if (!x->allocator) x->allocator = c->alloc;
    x->line_mode = line_mode;
}

/* ---- executions ---------------------------------------------------------------- */

/* Whether evalue is a decimal integer (optionally negative) fitting an int. */
static int osb__ex_exit_code(const osb_str *v, int *out) {
    int64_t n;
    size_t i = 0;
    if (!v->ptr || v->len == 0 || v->len > 12) return 0;
    if (v->ptr[0] == '-') i = 1;
    if (i == v->len) return 0;
    for (; i < v->len; i++)
        if (v->ptr[i] < '0' || v->ptr[i] > '9') return 0;
    if (osb_json_to_i64(v->ptr, v->len, &n) != OSB_OK || n < INT_MIN || n > INT_MAX) {
        /* osb_json_to_i64 refuses leading zeros ("007"): read it by hand */
        n = 0;
        for (i = v->ptr[0] == '-'; i < v->len; i++) n = n * 10 + (v->ptr[i] - '0');
        if (v->ptr[0] == '-') n = -n;
        if (n < INT_MIN || n > INT_MAX) return 0;
    }
    *out = (int)n;
    return 1;
}

/* Appends a stream text chunk; command lines (line_mode) are joined by '\n'
 * as execd cut them ("\n" alone stands for an empty line). */
static osb_err osb__ex_append_text(osb_execution *x, osb_buf *b, const osb_str *t) {
    if (b->allocator == NULL) b->allocator = x->allocator;
    if (!x->line_mode) return osb_buf_append(b, t->ptr, t->len);
    if (t->len == 1 && t->ptr[0] == '\n') return osb_buf_append(b, "\n", 1);
    if (osb_buf_append(b, t->ptr, t->len)) return b->failed;
    return osb_buf_append(b, "\n", 1);
}

OSB_API osb_err osb_execution_add(osb_execution *x, const osb_event *ev) {
    if (!x || !ev) return OSB_ERR_INVALID_ARG;
    x->events++;
    switch (ev->type) {
    case OSB_EVENT_INIT:
        osb__copy_field(x->id, sizeof x->id, ev->text.ptr, ev->text.len);
        break;
    case OSB_EVENT_STDOUT:
        x->out_bytes += ev->text.len;
        if (!x->forward_only) return osb__ex_append_text(x, &x->out, &ev->text);
        break;
    case OSB_EVENT_STDERR:
        x->err_bytes += ev->text.len;
        if (!x->forward_only) return osb__ex_append_text(x, &x->err, &ev->text);
        break;
    case OSB_EVENT_EXECUTION_COUNT:
        x->execution_count = ev->execution_count;
        break;
    case OSB_EVENT_EXECUTION_COMPLETE:
        x->completed = 1;
        x->execution_time_ms = ev->execution_time_ms;
        if (!x->has_error) {
            x->exit_code_known = 1;
            x->exit_code = 0;
        }
        break;
    case OSB_EVENT_RESULT:
        if (!x->forward_only) {
            size_t bytes = ev->results_count * sizeof(osb_kv), i;
            char *blk, *p;
            osb_execution_result *r;
            for (i = 0; i < ev->results_count; i++) bytes += ev->results[i].key.len + ev->results[i].value.len + 2;
            if (x->results_count == x->results_cap) {
                size_t ncap = x->results_cap ? x->results_cap * 2 : 4;
                void *nr = osb__realloc(x->allocator, x->results, x->results_cap * sizeof *x->results,
                                        ncap * sizeof *x->results);
                if (!nr) return OSB_ERR_NOMEM;
                x->results = (osb_execution_result *)nr;
                x->results_cap = ncap;
            }
            blk = (char *)osb__alloc(x->allocator, bytes ? bytes : 1);
            if (!blk) return OSB_ERR_NOMEM;
            r = &x->results[x->results_count++];
            memset(r, 0, sizeof *r);
            r->items = (osb_kv *)(void *)blk;
            r->count = ev->results_count;
            r->execution_count = x->execution_count;
            p = blk + ev->results_count * sizeof(osb_kv);
            for (i = 0; i < ev->results_count; i++) {
                const osb_kv *s = &ev->results[i];
                memcpy(p, s->key.ptr, s->key.len);
                p[s->key.len] = 0;
                r->items[i].key.ptr = p;
                r->items[i].key.len = s->key.len;
                p += s->key.len + 1;
                memcpy(p, s->value.ptr, s->value.len);
                p[s->value.len] = 0;
                r->items[i].value.ptr = p;
                r->items[i].value.len = s->value.len;
                p += s->value.len + 1;
            }
            for (i = 0; i < r->count; i++)
                if (r->items[i].key.len == 10 && !memcmp(r->items[i].key.ptr, "text/plain", 10)) r->text = r->items[i].value;
            if (!r->text.ptr)
                for (i = 0; i < r->count; i++)
                    if (r->items[i].key.len == 4 && !memcmp(r->items[i].key.ptr, "text", 4)) r->text = r->items[i].value;
            if (!r->text.ptr) r->text.ptr = "";
        }
        break;
    case OSB_EVENT_ERROR: {
        size_t bytes = ev->traceback_count * sizeof(osb_str) + ev->ename.len + ev->evalue.len + 2, i;
        char *blk, *p;
        int code;
        for (i = 0; i < ev->traceback_count; i++) bytes += ev->traceback[i].len + 1;
        blk = (char *)osb__alloc(x->allocator, bytes);
        if (!blk) return OSB_ERR_NOMEM;
        osb__free(x->allocator, x->priv_block);
        x->priv_block = blk;
        x->traceback = (osb_str *)(void *)blk;
        x->traceback_count = ev->traceback_count;
        p = blk + ev->traceback_count * sizeof(osb_str);
        for (i = 0; i < ev->traceback_count; i++) {
            memcpy(p, ev->traceback[i].ptr, ev->traceback[i].len);
            p[ev->traceback[i].len] = 0;
            x->traceback[i].ptr = p;
            x->traceback[i].len = ev->traceback[i].len;
            p += ev->traceback[i].len + 1;
        }
        memcpy(p, ev->ename.ptr, ev->ename.len);
        p[ev->ename.len] = 0;
        x->ename.ptr = p;
        x->ename.len = ev->ename.len;
        p += ev->ename.len + 1;
        memcpy(p, ev->evalue.ptr, ev->evalue.len);
        p[ev->evalue.len] = 0;
        x->evalue.ptr = p;
        x->evalue.len = ev->evalue.len;
        x->has_error = 1;
        if (osb__ex_exit_code(&ev->evalue, &code)) {
            x->exit_code_known = 1;
            x->exit_code = code;
        } else {
            x->exit_code_known = 0;
            x->exit_code = 0;
        }
        break;
    }
    default:
        break;
    }
    return OSB_OK;
}

OSB_API void osb_execution_free(osb_execution *x) {
    int fwd;
    const osb_allocator *a;
    size_t i;
    if (!x) return;
    fwd = x->forward_only;
    a = x->allocator;
    osb_buf_free(&x->out);
    osb_buf_free(&x->err);
    for (i = 0; i < x->results_count; i++) osb__free(a, x->results[i].items);
    osb__free(a, x->results);
    osb__free(a, x->priv_block);
    memset(x, 0, sizeof *x);
    x->forward_only = fwd;
    x->allocator = a;
}

/* ---- commands --------------------------------------------------------------------- */

static osb_err osb__ex_command_open(osb_client *c, const osb_target *execd, const osb_command_request *r,
                                    int background, osb_stream **out) {
    osb__call k;
    osb_jw *w;
    if (out) *out = NULL;
    if (!c) return OSB_ERR_INVALID_ARG;
    if (!execd || !r || !r->command || !*r->command || !out || r->timeout_ms < 0)
        return osb__call_fail(c, OSB_ERR_INVALID_ARG, "a command and a target are required");
    osb__ex_call_init(&k, c, "POST", execd);
    osb__call_path(&k, "/command");
    w = osb__call_json(&k);
    osb_jw_object(w);
    osb__jw_kstr(w, "command", r->command);
    osb__jw_kstr(w, "cwd", r->cwd);
    if (background) {
        osb_jw_key(w, "background");
        osb_jw_bool(w, 1);
    }
    if (r->timeout_ms > 0) {
        osb_jw_key(w, "timeout");
        osb_jw_int(w, r->timeout_ms);
    }
    if (r->uid_set) {
        osb_jw_key(w, "uid");
        osb_jw_uint(w, r->uid);
    }
    if (r->gid_set) {
        osb_jw_key(w, "gid");
        osb_jw_uint(w, r->gid);
    }
    if (r->envs) {
        const char *const *e;
        osb_jw_key(w, "envs");
        osb_jw_object(w);
        for (e = r->envs; *e; e++) {
            const char *eq = strchr(*e, '=');
            if (!eq || eq == *e) {
                k.err = OSB_ERR_INVALID_ARG;
                break;
            }
            osb_jw_key_n(w, *e, (size_t)(eq - *e));
            osb_jw_str(w, eq + 1);
        }
        osb_jw_object_end(w);
    }
    osb_jw_object_end(w);
    return osb__ex_open(&k, OSB__EX_COMMAND, r->cancel, out);
}

OSB_API osb_err osb_command_stream(osb_client *c, const osb_target *execd, const osb_command_request *req,
                                   int background, osb_stream **out) {
    return osb__ex_command_open(c, execd, req, background, out);
}

OSB_API osb_err osb_command_run(osb_client *c, const osb_target *execd, const osb_command_request *req,
                                osb_event_fn on_event, void *user, osb_execution *x) {
    osb_stream *s;
    osb_err e;
    if (!c) return OSB_ERR_INVALID_ARG;
    osb__ex_exec_begin(c, x, 1);
    e = osb__ex_command_open(c, execd, req, 0, &s);
    if (e) return e;
    return osb__ex_drive(c, s, on_event, user, x);
}

OSB_API osb_err osb_command_start(osb_client *c, const osb_target *execd, const osb_command_request *req,
                                  char *id, size_t cap) {
    osb_stream *s;
    osb_err e;
    osb_execution x;
    if (!c) return OSB_ERR_INVALID_ARG;
    if (!id || cap == 0) return osb__call_fail(c, OSB_ERR_INVALID_ARG, "no buffer for the command id");
    id[0] = 0;
    e = osb__ex_command_open(c, execd, req, 1, &s);
    if (e) return e;
    memset(&x, 0, sizeof x);
    x.forward_only = 1;
    x.allocator = c->alloc;
    e = osb__ex_drive(c, s, NULL, NULL, &x);
    if (!e && !x.id[0]) e = osb__call_fail(c, OSB_ERR_PROTOCOL, "the stream gave no command id");
    if (!e && x.has_error) {
        osb__reset_error(&c->err);
        c->err.code = OSB_ERR_SERVER;
        c->err.http_status = 200;
        osb__set_error(&c->err, OSB_ERR_SERVER, "the command did not start: %s", x.evalue.ptr ? x.evalue.ptr : "");
        e = OSB_ERR_SERVER;
    }
    if (!e) {
        if (strlen(x.id) >= cap) e = osb__call_fail(c, OSB_ERR_TOO_LARGE, "the command id does not fit the buffer");
        else memcpy(id, x.id, strlen(x.id) + 1);
    }
    osb_execution_free(&x);
    return e;
}

static const osb_field osb__ex_status_fields[] = {
    OSB_FIELD_STR(osb_command_status, id, "id"),
    OSB_FIELD_STR(osb_command_status, content, "content"),
    OSB_FIELD_BOOL(osb_command_status, running, "running"),
    OSB_FIELD_RAW(osb_command_status, exit_code_json, "exit_code"),
    OSB_FIELD_STR(osb_command_status, error, "error"),
    OSB_FIELD_STR(osb_command_status, started_at, "started_at"),
    OSB_FIELD_STR(osb_command_status, finished_at, "finished_at"),
};
static const osb_type osb__ex_status_type = OSB_TYPE_RAW(osb_command_status, osb__ex_status_fields, raw);

OSB_API osb_err osb_command_status_get(osb_client *c, const osb_target *execd, const char *id,
                                       osb_command_status **out) {
    osb__call k;
    osb_err e;
    if (!c || !out) return OSB_ERR_INVALID_ARG;
    *out = NULL;
    osb__ex_call_init(&k, c, "GET", execd);
    osb__call_path(&k, "/command/status/{}", id);
    k.type = &osb__ex_status_type;
    k.out = (void **)out;
    e = osb__call_run(&k);
    if (!e && *out) {
        osb_command_status *st = *out;
        const osb_str *j = &st->exit_code_json;
        if (j->ptr && j->len && strcmp(j->ptr, "null") != 0 &&
            osb_json_to_i64(j->ptr, j->len, &st->exit_code) == OSB_OK)
            st->has_exit_code = 1;
    }
    return e;
}

typedef struct osb__ex_cursor {
    uint64_t value;
    int seen;
} osb__ex_cursor;

static int osb__ex_on_cursor(void *user, osb_str name, osb_str value) {
    osb__ex_cursor *cur = (osb__ex_cursor *)user;
    static const char h[] = "EXECD-COMMANDS-TAIL-CURSOR";
    size_t i;
    uint64_t v = 0;
    if (name.len != sizeof h - 1) return 0;
    for (i = 0; i < name.len; i++)
        if (osb__lower((unsigned char)name.ptr[i]) != osb__lower((unsigned char)h[i])) return 0;
    while (value.len && (value.ptr[value.len - 1] == ' ' || value.ptr[value.len - 1] == '\t')) value.len--;
    while (value.len && (value.ptr[0] == ' ' || value.ptr[0] == '\t')) { value.ptr++; value.len--; }
    if (value.len && osb_json_to_u64(value.ptr, value.len, &v) == OSB_OK && v <= (uint64_t)INT64_MAX) {
        cur->value = v;
        cur->seen = 1;
    }
    return 0;
}

OSB_API osb_err osb_command_logs(osb_client *c, const osb_target *execd, const char *id, uint64_t cursor,
                                 osb_write_fn sink, void *user, uint64_t *next_cursor) {
    osb__call k;
    osb_http_request req;
    osb_http_response res;
    osb__ex_cursor cur;
    osb_err e;
    char url[1400];
    if (!c) return OSB_ERR_INVALID_ARG;
    if (!sink) return osb__call_fail(c, OSB_ERR_INVALID_ARG, "no sink for the log");
    if (cursor > (uint64_t)INT64_MAX) return osb__call_fail(c, OSB_ERR_INVALID_ARG, "the log cursor is above INT64_MAX");
    if ((e = osb__target_url(c, execd, url, sizeof url)) != OSB_OK) return e;
    osb__ex_call_init(&k, c, "GET", execd);
    osb__call_path(&k, "/command/{}/logs", id);
    osb__call_query_int(&k, "cursor", (int64_t)cursor);
    if (k.err || k.query.failed) {
        e = k.err ? k.err : k.query.failed;
        osb__call_free(&k);
        return osb__call_fail(c, e, "invalid argument");
    }
    memset(&cur, 0, sizeof cur);
    memset(&req, 0, sizeof req);
    req.url = url;
    req.execd = 1;
    req.path = k.path.data;
    req.query = k.query.data;
    req.headers = execd->headers;
    req.sink = sink;
    req.sink_user = user;
    req.on_header = osb__ex_on_cursor;
    req.on_header_user = &cur;
    e = osb_request_raw(c, &req, &res);
    if (!e && next_cursor) *next_cursor = cur.seen ? cur.value : cursor + res.body_bytes;
    osb_http_response_free(&res);
    osb__call_free(&k);
    return e;
}

OSB_API osb_err osb_command_follow(osb_client *c, const osb_target *execd, const char *id,
                                   osb_write_fn sink, void *user, uint64_t *cursor, int poll_ms,
                                   const volatile int *cancel, int *exit_code) {
    uint64_t at = cursor ? *cursor : 0;
    osb_err e;
    if (!c) return OSB_ERR_INVALID_ARG;
    if (poll_ms <= 0) poll_ms = 500;
    for (;;) {
        osb_command_status *st = NULL;
        int running;
        if (cancel && *cancel) return osb__call_fail(c, OSB_ERR_CANCELLED, "cancelled");
        e = osb_command_logs(c, execd, id, at, sink, user, &at);
        if (cursor) *cursor = at;
        if (e) return e;
        e = osb_command_status_get(c, execd, id, &st);
        if (e) return e;
        running = st->running;
        if (!running && exit_code && st->has_exit_code) *exit_code = (int)st->exit_code;
        osb_result_free(st);
        if (!running) {
            /* the output written between the last read and the exit */
            e = osb_command_logs(c, execd, id, at, sink, user, &at);
            if (cursor) *cursor = at;
            return e;
        }
        osb__sleep_ms(poll_ms);
    }
}

static osb_err osb__ex_delete_query(osb_client *c, const osb_target *execd, const char *path,
                                    const char *key, const char *value) {
    osb__call k;
    if (!c) return OSB_ERR_INVALID_ARG;
    osb__ex_call_init(&k, c, "DELETE", execd);
    osb__call_path(&k, path);
    if (!value || !*value) k.err = OSB_ERR_INVALID_ARG;
    osb__call_query(&k, key, value);
    return osb__call_run(&k);
}

/* DELETE of one object named by id in fmt's "{}". */
OSB__HELPER osb_err osb__ex_delete_id(osb_client *c, const osb_target *execd, const char *fmt, const char *id) {
    osb__call k;
    if (!c) return OSB_ERR_INVALID_ARG;
    osb__ex_call_init(&k, c, "DELETE", execd);
    osb__call_path(&k, fmt, id);
    return osb__call_run(&k);
}

OSB_API osb_err osb_command_interrupt(osb_client *c, const osb_target *execd, const char *id) {
    return osb__ex_delete_query(c, execd, "/command", "id", id);
}

/* ---- sessions -------------------------------------------------------------------- */

typedef struct osb__ex_session_id {
    osb_str session_id;
} osb__ex_session_id;
static const osb_field osb__ex_session_id_fields[] = {
    OSB_FIELD_STR(osb__ex_session_id, session_id, "session_id"),
};
static const osb_type osb__ex_session_id_type = OSB_TYPE(osb__ex_session_id, osb__ex_session_id_fields);

/* Copies the session_id of an answer into id[0..cap) and frees the answer. */
OSB__HELPER osb_err osb__ex_take_session_id(osb_client *c, osb__ex_session_id *r, char *id, size_t cap) {
    osb_err e = OSB_OK;
    if (!r->session_id.ptr || !r->session_id.len) e = osb__call_fail(c, OSB_ERR_JSON, "no session_id in the answer");
    else if (r->session_id.len >= cap) e = osb__call_fail(c, OSB_ERR_TOO_LARGE, "the session id does not fit the buffer");
    else memcpy(id, r->session_id.ptr, r->session_id.len + 1);
    osb_result_free(r);
    return e;
}

#if !OSB_NO_SESSION
OSB_API osb_err osb_session_create(osb_client *c, const osb_target *execd, const char *cwd,
                                   char *id, size_t cap) {
    osb__call k;
    osb_jw *w;
    osb__ex_session_id *r = NULL;
    osb_err e;
    if (!c) return OSB_ERR_INVALID_ARG;
    if (!id || cap == 0) return osb__call_fail(c, OSB_ERR_INVALID_ARG, "no buffer for the session id");
    id[0] = 0;
    osb__ex_call_init(&k, c, "POST", execd);
    osb__call_path(&k, "/session");
    w = osb__call_json(&k);
    osb_jw_object(w);
    osb__jw_kstr(w, "cwd", cwd);
    osb_jw_object_end(w);
    k.type = &osb__ex_session_id_type;
    k.out = (void **)&r;
    e = osb__call_run(&k);
    if (e) return e;
    return osb__ex_take_session_id(c, r, id, cap);
}

OSB_API osb_err osb_session_stream(osb_client *c, const osb_target *execd, const char *session_id,
                                   const osb_session_run_request *r, osb_stream **out) {
    osb__call k;
    osb_jw *w;
    if (out) *out = NULL;
    if (!c) return OSB_ERR_INVALID_ARG;
    if (!execd || !r || !r->command || !*r->command || !out || r->timeout_ms < 0)
        return osb__call_fail(c, OSB_ERR_INVALID_ARG, "a command and a target are required");
    osb__ex_call_init(&k, c, "POST", execd);
    osb__call_path(&k, "/session/{}/run", session_id);
    w = osb__call_json(&k);
    osb_jw_object(w);
    osb__jw_kstr(w, "command", r->command);
    osb__jw_kstr(w, "cwd", r->cwd);
    if (r->timeout_ms > 0) {
        osb_jw_key(w, "timeout");
        osb_jw_int(w, r->timeout_ms);
    }
    osb_jw_object_end(w);
    return osb__ex_open(&k, OSB__EX_SESSION, r->cancel, out);
}

OSB_API osb_err osb_session_run(osb_client *c, const osb_target *execd, const char *session_id,
                                const osb_session_run_request *req, osb_event_fn on_event, void *user,
                                osb_execution *x) {
    osb_stream *s;
    osb_err e;
    if (!c) return OSB_ERR_INVALID_ARG;
    osb__ex_exec_begin(c, x, 1);
    e = osb_session_stream(c, execd, session_id, req, &s);
    if (e) return e;
    return osb__ex_drive(c, s, on_event, user, x);
}

OSB_API osb_err osb_session_delete(osb_client *c, const osb_target *execd, const char *session_id) {
    return osb__ex_delete_id(c, execd, "/session/{}", session_id);
}
#endif /* OSB_NO_SESSION */

/* ---- code ------------------------------------------------------------------------ */

static const osb_field osb__ex_ctx_fields[] = {
    OSB_FIELD_STR(osb_code_context, id, "id"),
    OSB_FIELD_STR(osb_code_context, language, "language"),
    OSB_FIELD_STR(osb_code_context, cwd, "cwd"),
};
static const osb_type osb__ex_ctx_type = OSB_TYPE_RAW(osb_code_context, osb__ex_ctx_fields, raw);
static const osb_field osb__ex_ctx_list_fields[] = {
    OSB_FIELD_ARRAY_OF(osb_code_contexts, items, count, "", &osb__ex_ctx_type),
};
static const osb_type osb__ex_ctx_list_type = OSB_TYPE_RAW(osb_code_contexts, osb__ex_ctx_list_fields, raw);

#if !OSB_NO_CODE
OSB_API osb_err osb_code_context_create(osb_client *c, const osb_target *execd, const char *language,
                                        const char *cwd, osb_code_context **out) {
    osb__call k;
    osb_jw *w;
    if (!c || !out) return OSB_ERR_INVALID_ARG;
    *out = NULL;
    osb__ex_call_init(&k, c, "POST", execd);
    osb__call_path(&k, "/code/context");
    if (!language || !*language) k.err = OSB_ERR_INVALID_ARG;
    w = osb__call_json(&k);
    osb_jw_object(w);
    osb__jw_kstr(w, "language", language);
    osb__jw_kstr(w, "cwd", cwd);
    osb_jw_object_end(w);
    k.type = &osb__ex_ctx_type;
    k.out = (void **)out;
    return osb__call_run(&k);
}

OSB_API osb_err osb_code_context_list(osb_client *c, const osb_target *execd, const char *language,
                                      osb_code_contexts **out) {
    osb__call k;
    if (!c || !out) return OSB_ERR_INVALID_ARG;
    *out = NULL;
    osb__ex_call_init(&k, c, "GET", execd);
    osb__call_path(&k, "/code/contexts");
    osb__call_query(&k, "language", language);
    k.type = &osb__ex_ctx_list_type;
    k.out = (void **)out;
    return osb__call_run(&k);
}

OSB_API osb_err osb_code_context_get(osb_client *c, const osb_target *execd, const char *id,
                                     osb_code_context **out) {
    osb__call k;
    if (!c || !out) return OSB_ERR_INVALID_ARG;
    *out = NULL;
    osb__ex_call_init(&k, c, "GET", execd);
    osb__call_path(&k, "/code/contexts/{}", id);
    k.type = &osb__ex_ctx_type;
    k.out = (void **)out;
    return osb__call_run(&k);
}

OSB_API osb_err osb_code_context_delete(osb_client *c, const osb_target *execd, const char *id) {
    return osb__ex_delete_id(c, execd, "/code/contexts/{}", id);
}

OSB_API osb_err osb_code_context_delete_language(osb_client *c, const osb_target *execd,
                                                 const char *language) {
    return osb__ex_delete_query(c, execd, "/code/contexts", "language", language);
}

OSB_API osb_err osb_code_stream(osb_client *c, const osb_target *execd, const osb_code_request *r,
                                osb_stream **out) {
    osb__call k;
    osb_jw *w;
    if (out) *out = NULL;
    if (!c) return OSB_ERR_INVALID_ARG;
    if (!execd || !r || !r->code || !*r->code || !out)
        return osb__call_fail(c, OSB_ERR_INVALID_ARG, "code and a target are required");
    osb__ex_call_init(&k, c, "POST", execd);
    osb__call_path(&k, "/code");
    w = osb__call_json(&k);
    osb_jw_object(w);
    osb_jw_key(w, "context");
    osb_jw_object(w);
    osb__jw_kstr(w, "id", r->context_id);
    osb__jw_kstr(w, "language", r->language ? r->language : "python");
    osb_jw_object_end(w);
    osb__jw_kstr(w, "code", r->code);
    osb_jw_object_end(w);
    return osb__ex_open(&k, OSB__EX_CODE, r->cancel, out);
}

OSB_API osb_err osb_code_run(osb_client *c, const osb_target *execd, const osb_code_request *req,
                             osb_event_fn on_event, void *user, osb_execution *x) {
    osb_stream *s;
    osb_err e;
    if (!c) return OSB_ERR_INVALID_ARG;
    osb__ex_exec_begin(c, x, 0);
    e = osb_code_stream(c, execd, req, &s);
    if (e) return e;
    return osb__ex_drive(c, s, on_event, user, x);
}

OSB_API osb_err osb_code_interrupt(osb_client *c, const osb_target *execd, const char *id) {
    return osb__ex_delete_query(c, execd, "/code", "id", id);
}
#endif /* OSB_NO_CODE */

/* ---- files --------------------------------------------------------------------------- */

static const osb_field osb__ex_info_fields[] = {
    OSB_FIELD_STR(osb_file_info, key, "\x01key"),
    OSB_FIELD_STR(osb_file_info, path, "path"),
    OSB_FIELD_STR(osb_file_info, type, "type"),
    OSB_FIELD_I64(osb_file_info, size, "size"),
    OSB_FIELD_STR(osb_file_info, modified_at, "modified_at"),
    OSB_FIELD_STR(osb_file_info, created_at, "created_at"),
    OSB_FIELD_STR(osb_file_info, owner, "owner"),
    OSB_FIELD_STR(osb_file_info, group, "group"),
    OSB_FIELD_INT(osb_file_info, mode, "mode"),
};
static const osb_type osb__ex_info_type = OSB_TYPE(osb_file_info, osb__ex_info_fields);
static const osb_field osb__ex_info_list_fields[] = {
    OSB_FIELD_ARRAY_OF(osb_file_info_list, items, count, "", &osb__ex_info_type),
};
static const osb_type osb__ex_info_list_type = OSB_TYPE_RAW(osb_file_info_list, osb__ex_info_list_fields, raw);

static const osb_field osb__ex_count_fields[] = {
    OSB_FIELD_STR(osb_replace_count, key, "\x01key"),
    OSB_FIELD_I64(osb_replace_count, replaced, "replacedCount"),
};
static const osb_type osb__ex_count_type = OSB_TYPE(osb_replace_count, osb__ex_count_fields);
static const osb_field osb__ex_counts_fields[] = {
    OSB_FIELD_ARRAY_OF(osb_replace_counts, items, count, "", &osb__ex_count_type),
};
static const osb_type osb__ex_counts_type = OSB_TYPE_RAW(osb_replace_counts, osb__ex_counts_fields, raw);

/* Rewrites a JSON object of objects {"k": {...}, ...} as an array
 * [{"\u0001key": "k", ...}, ...] so the binding decodes it in one result
 * (a member name no server sends carries the key). */
static osb_err osb__ex_map_to_array(const char *json, size_t len, osb_buf *out) {
    osb_json j;
    osb_json_token t;
    osb_jw w;
    char scratch[512];
    osb_buf key;
    int r;
    osb_buf_init(&key, out->allocator);
    osb_json_init(&j, scratch, sizeof scratch);
    osb_json_feed(&j, json, len, 1);
    r = osb_json_next(&j, &t);
    if (r != OSB_JSON_OBJECT) return OSB_ERR_JSON;
    osb_buf_append(out, "[", 1);
    for (;;) {
        r = osb_json_next(&j, &t);
        if (r == OSB_JSON_OBJECT_END) break;
        if (r != OSB_JSON_KEY) { osb_buf_free(&key); return OSB_ERR_JSON; }
        key.len = 0;
        for (;;) {
            osb_buf_append(&key, t.ptr, t.len);
            if (!t.more) break;
            if (osb_json_next(&j, &t) != OSB_JSON_KEY) { osb_buf_free(&key); return OSB_ERR_JSON; }
        }
        r = osb_json_next(&j, &t);
        if (r != OSB_JSON_OBJECT) { osb_buf_free(&key); return OSB_ERR_JSON; }
        {
            uint64_t start = t.offset, end;
            if (osb_json_skip(&j, &t) != 1) { osb_buf_free(&key); return OSB_ERR_JSON; }
            end = osb_json_offset(&j);
            if (out->len > 1) osb_buf_append(out, ",", 1);
            osb_buf_append(out, "{", 1);
            osb_jw_init(&w, out);
            osb_jw_str_n(&w, "\x01key", 4);
            osb_buf_append(out, ":", 1);
            osb_jw_init(&w, out);
            osb_jw_str_n(&w, key.data ? key.data : "", key.len);
            /* the members of the value object, if any */
            {
                const char *p = json + start + 1;
                size_t n = (size_t)(end - start - 2);
                size_t i;
                for (i = 0; i < n && (p[i] == ' ' || p[i] == '\n' || p[i] == '\r' || p[i] == '\t'); i++) {}
                if (i < n) osb_buf_append(out, ",", 1);
                osb_buf_append(out, p, n);
            }
            osb_buf_append(out, "}", 1);
        }
    }
    osb_buf_free(&key);
    osb_buf_append(out, "]", 1);
    return out->failed;
}

typedef struct osb__ex_rawonly {
    osb_str raw;
} osb__ex_rawonly;
static const osb_type osb__ex_rawonly_type = OSB_TYPE_RAW_ONLY(osb__ex_rawonly, raw);

/* Runs a call whose answer is a map of objects, decoding it as an array of
 * type (whose first field is the "" array). */
static osb_err osb__ex_call_map(osb__call *k, const osb_type *type, void **out) {
    osb_client *c = k->c;
    osb_str *raw_slot;
    osb__ex_rawonly *tmp = NULL;
    osb_buf arr;
    osb_err e;
    k->type = &osb__ex_rawonly_type;
    k->out = (void **)(void *)&tmp;
    e = osb__call_run(k);
    if (e) return e;
    raw_slot = &tmp->raw;
    osb_buf_init(&arr, c->alloc);
    e = osb__ex_map_to_array(raw_slot->ptr, raw_slot->len, &arr);
    if (!e) e = osb_bind(type, arr.data, arr.len, c->alloc, out, &c->err);
    if (e && !c->err.message[0]) osb__set_error(&c->err, e, "unexpected response body");
    if (e) c->err.code = e;
    osb_buf_free(&arr);
    osb_result_free(tmp);
    return e;
}

OSB_API osb_err osb_files_info(osb_client *c, const osb_target *execd, const char *const *paths, size_t n,
                               osb_file_info_list **out) {
    osb__call k;
    if (!c || !out) return OSB_ERR_INVALID_ARG;
    *out = NULL;
    osb__ex_call_init(&k, c, "GET", execd);
    osb__call_path(&k, "/files/info");
    osb__ex_query_paths(&k, paths, n);
    return osb__ex_call_map(&k, &osb__ex_info_list_type, (void **)out);
}

/* DELETE of files or directories (where): every path in the query. */
OSB__HELPER osb_err osb__ex_delete_paths(osb_client *c, const osb_target *execd, const char *where,
                                         const char *const *paths, size_t n) {
    osb__call k;
    if (!c) return OSB_ERR_INVALID_ARG;
    osb__ex_call_init(&k, c, "DELETE", execd);
    osb__call_path(&k, where);
    if (n == 0) k.err = OSB_ERR_INVALID_ARG;
    osb__ex_query_paths(&k, paths, n);
    return osb__call_run(&k);
}

OSB_API osb_err osb_files_delete(osb_client *c, const osb_target *execd, const char *const *paths, size_t n) {
    return osb__ex_delete_paths(c, execd, "/files", paths, n);
}

/* {"path": {"owner":..,"group":..,"mode":..}, ...} for chmod and mkdir. */
static osb_err osb__ex_perm_call(osb_client *c, const osb_target *execd, const char *path,
                                 const osb_file_perm *items, size_t n) {
    osb__call k;
    osb_jw *w;
    size_t i;
    if (!c) return OSB_ERR_INVALID_ARG;
    osb__ex_call_init(&k, c, "POST", execd);
    osb__call_path(&k, path);
    if (!items || n == 0) k.err = OSB_ERR_INVALID_ARG;
    w = osb__call_json(&k);
    osb_jw_object(w);
    for (i = 0; i < n && items; i++) {
        if (!items[i].path || !*items[i].path || !osb__ex_mode_ok(items[i].mode)) {
            k.err = OSB_ERR_INVALID_ARG;
            break;
        }
        osb_jw_key(w, items[i].path);
        osb_jw_object(w);
        osb__jw_kstr(w, "owner", items[i].owner);
        osb__jw_kstr(w, "group", items[i].group);
        osb_jw_key(w, "mode");
        osb_jw_int(w, items[i].mode);
        osb_jw_object_end(w);
    }
    osb_jw_object_end(w);
    return osb__call_run(&k);
}

OSB_API osb_err osb_files_chmod(osb_client *c, const osb_target *execd, const osb_file_perm *items, size_t n) {
    return osb__ex_perm_call(c, execd, "/files/permissions", items, n);
}

OSB_API osb_err osb_files_move(osb_client *c, const osb_target *execd, const osb_file_move *items, size_t n) {
    osb__call k;
    osb_jw *w;
    size_t i;
    if (!c) return OSB_ERR_INVALID_ARG;
    osb__ex_call_init(&k, c, "POST", execd);
    osb__call_path(&k, "/files/mv");
    if (!items || n == 0) k.err = OSB_ERR_INVALID_ARG;
    w = osb__call_json(&k);
    osb_jw_array(w);
    for (i = 0; i < n && items; i++) {
        if (!items[i].src || !items[i].dest) {
            k.err = OSB_ERR_INVALID_ARG;
            break;
        }
        osb_jw_object(w);
        osb__jw_kstr(w, "src", items[i].src);
        osb__jw_kstr(w, "dest", items[i].dest);
        osb_jw_object_end(w);
    }
    osb_jw_array_end(w);
    return osb__call_run(&k);
}

OSB_API osb_err osb_files_search(osb_client *c, const osb_target *execd, const char *dir, const char *pattern,
                                 osb_file_info_list **out) {
    osb__call k;
    if (!c || !out) return OSB_ERR_INVALID_ARG;
    *out = NULL;
    osb__ex_call_init(&k, c, "GET", execd);
    osb__call_path(&k, "/files/search");
    if (!dir || !*dir) k.err = OSB_ERR_INVALID_ARG;
    osb__call_query(&k, "path", dir);
    osb__call_query(&k, "pattern", pattern);
    k.type = &osb__ex_info_list_type;
    k.out = (void **)out;
    return osb__call_run(&k);
}

OSB_API osb_err osb_files_replace(osb_client *c, const osb_target *execd, const osb_file_replace *items,
                                  size_t n, osb_replace_counts **counts) {
    osb__call k;
    osb_jw *w;
    size_t i;
    if (!c) return OSB_ERR_INVALID_ARG;
    if (counts) *counts = NULL;
    osb__ex_call_init(&k, c, "POST", execd);
    osb__call_path(&k, "/files/replace");
    if (counts) osb__call_query(&k, "verbose", "true");
    if (!items || n == 0) k.err = OSB_ERR_INVALID_ARG;
    w = osb__call_json(&k);
    osb_jw_object(w);
    for (i = 0; i < n && items; i++) {
        if (!items[i].path || !items[i].old_text || !*items[i].old_text || !items[i].new_text) {
            k.err = OSB_ERR_INVALID_ARG;
            break;
        }
        osb_jw_key(w, items[i].path);
        osb_jw_object(w);
        osb__jw_kstr(w, "old", items[i].old_text);
        osb__jw_kstr(w, "new", items[i].new_text);
        osb_jw_object_end(w);
    }
    osb_jw_object_end(w);
    if (!counts) return osb__call_run(&k);
    return osb__ex_call_map(&k, &osb__ex_counts_type, (void **)counts);
}

/* ---- upload ---------------------------------------------------------------------------- */

/* One file's content source, as a reader. */
typedef struct osb__ex_src {
    int fd;                       /* use_fd, or local_path opened */
    int kind;                     /* 0 memory/reader (direct), 1 fd, 2 local_path (closed with the upload) */
} osb__ex_src;

static ptrdiff_t osb__ex_read_fd(void *user, void *buf, size_t cap) {
    osb__ex_src *s = (osb__ex_src *)user;
    for (;;) {
#ifdef _WIN32
        int n = _read(s->fd, buf, (unsigned)(cap > 0x40000000u ? 0x40000000u : cap));
#else
        ssize_t n = read(s->fd, buf, cap);
#endif
        if (n < 0 && errno == EINTR) continue;
        return n < 0 ? -1 : (ptrdiff_t)n;
    }
}

/* The descriptor behind a part that osb_files_upload reads from one, else -1. */
static int osb__ex_src_fd(const osb_mpart *p) {
    return p->read == osb__ex_read_fd ? ((const osb__ex_src *)p->read_user)->fd : -1;
}

/* The size of an open descriptor's file from its current position. */
static int osb__ex_fd_size(int fd, uint64_t *out) {
#ifdef _WIN32
    struct _stati64 st;
    __int64 pos = _lseeki64(fd, 0, SEEK_CUR);
    if (_fstati64(fd, &st) != 0 || pos < 0) return 0;
#else
    struct stat st;
    off_t pos = lseek(fd, 0, SEEK_CUR);
    if (fstat(fd, &st) != 0) return 0;
    if (pos < 0) pos = 0;   /* a pipe: no position */
#endif
    *out = (uint64_t)st.st_size > (uint64_t)pos ? (uint64_t)st.st_size - (uint64_t)pos : 0;
    return 1;
}

/* An upload request put together: its parts, their metadata and sources,
 * the multipart body and the request reading it. Nothing in it points into
 * the caller's osb_upload_file array (paths and names are copied); memory
 * contents and readers stay the caller's. osb_files_upload keeps it on its
 * stack, osb_multi_file_upload on the heap for its transfer. */
typedef struct osb__upload {
    osb_client *c;
    size_t n;
    osb_mpart *parts;
    osb_buf *meta;                /* per file: the metadata JSON, then its file name */
    osb__ex_src *src;
    osb_multipart mp;
    osb__call k;
    osb_http_request req;
    char url[1400];
} osb__upload;

static void osb__upload_free(osb__upload *u) {
    size_t i;
    for (i = 0; u->meta && i < u->n; i++) osb_buf_free(&u->meta[i]);
    for (i = 0; u->src && i < u->n; i++)
        if (u->src[i].kind == 2) osb__file_close(u->src[i].fd);
    osb__free(u->c->alloc, u->parts);
    osb__free(u->c->alloc, u->meta);
    osb__free(u->c->alloc, u->src);
    osb__call_free(&u->k);
}

/* Fills p (a file's content part) from f's source. */
static osb_err osb__upload_source(osb_client *c, const osb_upload_file *f, osb__ex_src *s, osb_mpart *p) {
    s->fd = -1;
    if (f->read) {
        p->read = f->read;
        p->read_user = f->read_user;
        p->size = f->size;
    } else if (f->use_fd) {
        uint64_t sz = f->size;
        if (f->fd < 0 || (!sz && !osb__ex_fd_size(f->fd, &sz)))
            return osb__call_fail(c, OSB_ERR_IO, "cannot measure the file descriptor to upload");
        s->kind = 1;
        s->fd = f->fd;
        p->read = osb__ex_read_fd;
        p->read_user = s;
        p->size = sz;
    } else if (f->local_path) {
        uint64_t sz = 0;
        s->fd = osb__file_open(f->local_path);   /* read unbuffered, as a descriptor */
        if (s->fd >= 0) s->kind = 2;
        if (s->fd < 0 || !osb__ex_fd_size(s->fd, &sz)) {
            osb__reset_error(&c->err);
            osb__set_error(&c->err, OSB_ERR_IO, "cannot open %s", f->local_path);
            c->err.sys_errno = errno;
            return OSB_ERR_IO;
        }
        p->read = osb__ex_read_fd;
        p->read_user = s;
        p->size = sz;
    } else {
        if (!f->data && f->size) return osb__call_fail(c, OSB_ERR_INVALID_ARG, "an upload has no content source");
        p->data = f->data ? f->data : "";
        p->size = f->size;
    }
    return OSB_OK;
}

/* Fills the metadata part m and names the content part p after f's path. */
static osb_err osb__upload_meta(osb_client *c, const osb_upload_file *f, osb_buf *meta, osb_mpart *m,
                                osb_mpart *p) {
    const char *base;
    size_t json_len;
    if (!f->path || !*f->path || !osb__ex_mode_ok(f->mode))
        return osb__call_fail(c, OSB_ERR_INVALID_ARG, "an upload needs a path and a mode of octal digits");
    if (f->size > (uint64_t)INT64_MAX)
        return osb__call_fail(c, OSB_ERR_INVALID_ARG, "an upload size is above INT64_MAX");
    if (osb_upload_metadata(meta, f->path, f->owner, f->group, f->mode) != OSB_OK)
        return osb__call_fail(c, meta->failed ? meta->failed : OSB_ERR_INVALID_ARG, "bad upload metadata");
    base = strrchr(f->path, '/');
    base = base && base[1] ? base + 1 : "file";
    json_len = meta->len;
    if (osb_buf_append(meta, base, strlen(base) + 1) != OSB_OK)
        return osb__call_fail(c, OSB_ERR_NOMEM, "out of memory");
    m->name = "metadata";
    m->filename = "metadata";
    m->content_type = "application/json";
    m->data = meta->data;
    m->size = json_len;
    p->name = "file";
    p->filename = meta->data + json_len;
    p->content_type = "application/octet-stream";
    return OSB_OK;
}

/* Puts u together for files[0..n) (u's address must not change after). On
 * an error the detail is in c's error; osb__upload_free(u) in every case. */
static osb_err osb__upload_build(osb__upload *u, osb_client *c, const osb_target *execd,
                                 const osb_upload_file *files, size_t n) {
    osb_err e;
    size_t i;
    memset(u, 0, sizeof *u);
    u->c = c;
    osb__ex_call_init(&u->k, c, "POST", execd);
    if (!files || n == 0) return osb__call_fail(c, OSB_ERR_INVALID_ARG, "no files to upload");
    if ((e = osb__target_url(c, execd, u->url, sizeof u->url)) != OSB_OK) return e;
    u->parts = (osb_mpart *)osb__alloc(c->alloc, 2 * n * sizeof *u->parts);
    u->meta = (osb_buf *)osb__alloc(c->alloc, n * sizeof *u->meta);
    u->src = (osb__ex_src *)osb__alloc(c->alloc, n * sizeof *u->src);
    if (!u->parts || !u->meta || !u->src) return osb__call_fail(c, OSB_ERR_NOMEM, "out of memory");
    u->n = n;
    memset(u->parts, 0, 2 * n * sizeof *u->parts);
    memset(u->src, 0, n * sizeof *u->src);
    for (i = 0; i < n; i++) {
        osb_buf_init(&u->meta[i], c->alloc);
        u->src[i].fd = -1;
    }
    for (i = 0; i < n; i++) {
        osb_mpart *p = &u->parts[2 * i + 1];
        if ((e = osb__upload_meta(c, &files[i], &u->meta[i], &u->parts[2 * i], p)) != OSB_OK) return e;
        if ((e = osb__upload_source(c, &files[i], &u->src[i], p)) != OSB_OK) return e;
    }
    if ((e = osb_multipart_init(&u->mp, u->parts, 2 * n, NULL)) != OSB_OK)
        return osb__call_fail(c, e, "cannot build the multipart body");
    osb__call_path(&u->k, "/files/upload");
    if (u->k.err || u->k.path.failed) return osb__call_fail(c, OSB_ERR_NOMEM, "out of memory");
    u->req.method = "POST";
    u->req.url = u->url;
    u->req.execd = 1;
    u->req.path = u->k.path.data;
    u->req.headers = execd->headers;
    u->req.content_type = osb_multipart_content_type(&u->mp);
    u->req.body_reader = osb_multipart_read;
    u->req.body_reader_user = &u->mp;
    u->req.body_reader_len = (int64_t)osb_multipart_length(&u->mp);
    u->req.stream = 1;   /* large files: the idle deadline applies, not the total one */
    return OSB_OK;
}

OSB_API osb_err osb_files_upload(osb_client *c, const osb_target *execd, const osb_upload_file *files,
                                 size_t n) {
    osb__upload u;
    osb_http_response res;
    osb_err e;
    if (!c) return OSB_ERR_INVALID_ARG;
    e = osb__upload_build(&u, c, execd, files, n);
    if (!e) {
        e = osb_request_raw(c, &u.req, &res);
        osb_http_response_free(&res);
        if (e && u.mp.err && (e == OSB_ERR_IO || e == OSB_ERR_CANCELLED)) c->err.code = e;
    }
    osb__upload_free(&u);
    return e;
}

/* ---- download --------------------------------------------------------------------------- */

typedef struct osb__ex_range {
    int seen;
    uint64_t start, end, total;
    int has_total;
} osb__ex_range;

/* "bytes S-E/T", "bytes S-E/" "*" or "bytes " "*" "/T" (RFC 9110 14.4): digits
 * only, nothing around them; anything else is ignored (no range seen). */
static int osb__ex_on_range(void *user, osb_str name, osb_str value) {
    osb__ex_range *r = (osb__ex_range *)user;
    static const char h[] = "content-range";
    const char *p = value.ptr, *end = value.ptr + value.len, *dash, *slash;
    osb_str a, b, t;
    uint64_t av, bv, tv = 0;
    int has_total;
    size_t i;
    if (name.len != sizeof h - 1) return 0;
    for (i = 0; i < name.len; i++)
        if (osb__lower((unsigned char)name.ptr[i]) != h[i]) return 0;
    if (value.len < 6 || memcmp(p, "bytes ", 6) != 0) return 0;
    p += 6;
    slash = (const char *)memchr(p, '/', (size_t)(end - p));
    if (!slash) return 0;
    t.ptr = slash + 1;
    t.len = (size_t)(end - t.ptr);
    has_total = !(t.len == 1 && *t.ptr == '*');
    if (has_total && !osb__parse_u64(t, &tv)) return 0;
    if (slash - p == 1 && *p == '*') {
        if (has_total) {
            r->total = tv;
            r->has_total = 1;
        }
        return 0;
    }
    dash = (const char *)memchr(p, '-', (size_t)(slash - p));
    if (!dash) return 0;
    a.ptr = p;
    a.len = (size_t)(dash - p);
    b.ptr = dash + 1;
    b.len = (size_t)(slash - b.ptr);
    if (!osb__parse_u64(a, &av) || !osb__parse_u64(b, &bv)) return 0;
    r->seen = 1;
    r->start = av;
    r->end = bv;
    if (has_total) {
        r->total = tv;
        r->has_total = 1;
    }
    return 0;
}

OSB_API osb_err osb_files_download(osb_client *c, const osb_target *execd, const osb_download_request *r,
                                   osb_write_fn sink, void *user, osb_download_info *info) {
    osb__call k;
    osb_download_info local;
    uint64_t got = 0;           /* bytes delivered */
    int max_resumes, lines;
    osb_err e = OSB_OK;
    char url[1400];
    char range[80];
    if (!info) info = &local;
    memset(info, 0, sizeof *info);
    if (!c) return OSB_ERR_INVALID_ARG;
    if (!r || !r->path || !*r->path || !sink) return osb__call_fail(c, OSB_ERR_INVALID_ARG, "a path and a sink are required");
    if (r->offset > (uint64_t)INT64_MAX || r->length > (uint64_t)INT64_MAX - r->offset)
        return osb__call_fail(c, OSB_ERR_INVALID_ARG, "the download offset and length must stay within INT64_MAX");
    if (r->line_offset < 0 || r->line_limit < 0)
        return osb__call_fail(c, OSB_ERR_INVALID_ARG, "line_offset and line_limit must not be negative");
    lines = r->line_offset > 0 || r->line_limit > 0;
    if (lines && (r->offset || r->length))
        return osb__call_fail(c, OSB_ERR_INVALID_ARG,
                            "a line read (line_offset/line_limit) and a byte range (offset/length) are exclusive");
    if ((e = osb__target_url(c, execd, url, sizeof url)) != OSB_OK) return e;
    max_resumes = r->max_resumes == 0 ? 3 : r->max_resumes < 0 ? 0 : r->max_resumes;
    osb__ex_call_init(&k, c, "GET", execd);
    osb__call_path(&k, "/files/download");
    osb__call_query(&k, "path", r->path);
    if (r->line_offset > 0) osb__call_query_int(&k, "offset", r->line_offset);
    if (r->line_limit > 0) osb__call_query_int(&k, "limit", r->line_limit);
    if (k.err || k.path.failed || k.query.failed) {
        osb__call_free(&k);
        return osb__call_fail(c, OSB_ERR_NOMEM, "out of memory");
    }
    for (;;) {
        osb_http_request req;
        osb_http_response res;
        osb_body *body = NULL;
        osb__ex_range rng;
        const char **hdrs;
        uint64_t want_from = r->offset + got;
        uint64_t skip = 0;               /* bytes of this body before the wanted range */
        int ranged = !lines && (want_from > 0 || r->length > 0);
        if (ranged) {
            if (r->length > 0)
                osb__fmt(range, sizeof range, "Range: bytes=%llu-%llu", (unsigned long long)want_from,
                         (unsigned long long)(r->offset + r->length - 1));
            else
                osb__fmt(range, sizeof range, "Range: bytes=%llu-", (unsigned long long)want_from);
        }
        hdrs = osb__ex_headers(c, execd, ranged ? range : NULL, NULL);
        if (!hdrs) {
            e = osb__call_fail(c, OSB_ERR_NOMEM, "out of memory");
            break;
        }
        memset(&rng, 0, sizeof rng);
        memset(&req, 0, sizeof req);
        req.url = url;
        req.execd = 1;
        req.path = k.path.data;
        req.query = k.query.data;
        req.headers = hdrs;
        req.on_header = osb__ex_on_range;
        req.on_header_user = &rng;
        req.stream = 1;
        req.cancel = r->cancel;
        e = osb_request_open(c, &req, &res, &body);
        osb__free(c->alloc, (void *)hdrs);
        if (e) {
            osb_http_response_free(&res);
            goto retry_or_stop;
        }
        info->status = res.status;
        if (res.status == 416 && got > 0 && rng.has_total && want_from >= rng.total) {
            /* everything had arrived before the connection dropped */
            osb_body_close(body);
            osb_http_response_free(&res);
            info->total_size = rng.total;
            e = OSB_OK;
            break;
        }
        if (res.status < 200 || res.status > 299) {
            e = osb__body_http_error(c, body, res.status);
            osb_body_close(body);
            osb_http_response_free(&res);
            break;
        }
        if (res.status == 206) {
            if (lines || !rng.seen || rng.start != want_from) {
                osb_body_close(body);
                osb_http_response_free(&res);
                e = osb__call_fail(c, OSB_ERR_PROTOCOL, "the server answered another range than the one asked for");
                break;
            }
            if (rng.has_total) info->total_size = rng.total;
        } else {
            /* a whole-file answer: drop what is before the wanted range */
            if (res.content_length >= 0) info->total_size = (uint64_t)res.content_length;
            skip = want_from;
        }
        for (;;) {
            const void *d;
            size_t n;
            e = osb_body_read(body, &d, &n);
            if (e || n == 0) break;
            if (skip) {
                size_t drop = (uint64_t)n < skip ? n : (size_t)skip;
                skip -= drop;
                d = (const char *)d + drop;
                n -= drop;
                if (!n) continue;
            }
            if (r->length && (uint64_t)n > r->length - got) n = (size_t)(r->length - got);
            if (n && sink(user, d, n)) {
                e = osb__call_fail(c, OSB_ERR_CANCELLED, "the download sink stopped the transfer");
                break;
            }
            got += n;
            info->bytes = got;
            if (r->length && got >= r->length) break;   /* the range is complete */
        }
        osb_body_close(body);
        osb_http_response_free(&res);
        if (!e && skip) e = osb__call_fail(c, OSB_ERR_TRUNCATED, "the body ended before the range");
        if (!e) break;
    retry_or_stop:
        if (e == OSB_ERR_CANCELLED || (r->cancel && *r->cancel)) break;
        if ((e == OSB_ERR_TRUNCATED || e == OSB_ERR_CLOSED || e == OSB_ERR_CONNECT || e == OSB_ERR_TIMEOUT ||
             e == OSB_ERR_PROTOCOL) &&
            info->resumes < max_resumes && !(lines && got > 0)) {
            info->resumes++;
            continue;
        }
        break;
    }
    osb__call_free(&k);
    return e;
}

static int osb__ex_write_fd(void *user, const void *data, size_t len) {
    int fd = *(const int *)user;
    const char *p = (const char *)data;
    while (len) {
#ifdef _WIN32
        int n = _write(fd, p, (unsigned)(len > 0x40000000u ? 0x40000000u : len));
#else
        ssize_t n = write(fd, p, len);
#endif
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return 1;
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

OSB_API osb_err osb_files_download_fd(osb_client *c, const osb_target *execd, const osb_download_request *req,
                                      int fd, osb_download_info *info) {
    osb_err e;
    if (!c) return OSB_ERR_INVALID_ARG;
    if (fd < 0) return osb__call_fail(c, OSB_ERR_INVALID_ARG, "bad file descriptor");
    e = osb_files_download(c, execd, req, osb__ex_write_fd, &fd, info);
    if (e == OSB_ERR_CANCELLED && !(req && req->cancel && *req->cancel)) {
        c->err.code = OSB_ERR_IO;
        c->err.sys_errno = errno;
        e = OSB_ERR_IO;
    }
    return e;
}

static int osb__ex_write_file(void *user, const void *data, size_t len) {
    return fwrite(data, 1, len, (FILE *)user) != len;
}

OSB_API osb_err osb_files_download_path(osb_client *c, const osb_target *execd, const osb_download_request *req,
                                        const char *local_path, osb_download_info *info) {
    FILE *f;
    osb_err e;
    if (!c) return OSB_ERR_INVALID_ARG;
    if (!local_path) return osb__call_fail(c, OSB_ERR_INVALID_ARG, "no local path");
    f = fopen(local_path, "wb");
    if (!f) {
        osb__call_fail(c, OSB_ERR_IO, "cannot create the local file");
        c->err.sys_errno = errno;
        return OSB_ERR_IO;
    }
    e = osb_files_download(c, execd, req, osb__ex_write_file, f, info);
    if (e == OSB_ERR_CANCELLED && !(req && req->cancel && *req->cancel)) {
        c->err.code = OSB_ERR_IO;
        e = OSB_ERR_IO;
    }
    if (fclose(f) != 0 && !e) e = osb__call_fail(c, OSB_ERR_IO, "cannot write the local file");
    return e;
}

/* ---- directories ------------------------------------------------------------------------ */

OSB_API osb_err osb_dir_list(osb_client *c, const osb_target *execd, const char *path, int depth,
                             osb_file_info_list **out) {
    osb__call k;
    if (!c || !out) return OSB_ERR_INVALID_ARG;
    *out = NULL;
    osb__ex_call_init(&k, c, "GET", execd);
    osb__call_path(&k, "/directories/list");
    if (!path || !*path) k.err = OSB_ERR_INVALID_ARG;
    osb__call_query(&k, "path", path);
    if (depth > 0) osb__call_query_int(&k, "depth", depth);
    k.type = &osb__ex_info_list_type;
    k.out = (void **)out;
    return osb__call_run(&k);
}

OSB_API osb_err osb_dir_create(osb_client *c, const osb_target *execd, const osb_file_perm *items, size_t n) {
    return osb__ex_perm_call(c, execd, "/directories", items, n);
}

OSB_API osb_err osb_dir_delete(osb_client *c, const osb_target *execd, const char *const *paths, size_t n) {
    return osb__ex_delete_paths(c, execd, "/directories", paths, n);
}

/* ---- metrics and ping ---------------------------------------------------------------------- */

static const osb_field osb__ex_metrics_fields[] = {
    OSB_FIELD_DOUBLE(osb_metrics, cpu_count, "cpu_count"),
    OSB_FIELD_DOUBLE(osb_metrics, cpu_used_pct, "cpu_used_pct"),
    OSB_FIELD_DOUBLE(osb_metrics, mem_total_mib, "mem_total_mib"),
    OSB_FIELD_DOUBLE(osb_metrics, mem_used_mib, "mem_used_mib"),
    OSB_FIELD_I64(osb_metrics, timestamp, "timestamp"),
};
static const osb_type osb__ex_metrics_type = OSB_TYPE_RAW(osb_metrics, osb__ex_metrics_fields, raw);

OSB_API osb_err osb_metrics_get(osb_client *c, const osb_target *execd, osb_metrics **out) {
    osb__call k;
    if (!c || !out) return OSB_ERR_INVALID_ARG;
    *out = NULL;
    osb__ex_call_init(&k, c, "GET", execd);
    osb__call_path(&k, "/metrics");
    k.type = &osb__ex_metrics_type;
    k.out = (void **)out;
    return osb__call_run(&k);
}

OSB_API osb_err osb_metrics_stream(osb_client *c, const osb_target *execd, const volatile int *cancel,
                                   osb_stream **out) {
    osb__call k;
    if (out) *out = NULL;
    if (!c) return OSB_ERR_INVALID_ARG;
    if (!out || !execd) return osb__call_fail(c, OSB_ERR_INVALID_ARG, "a target is required");
    osb__ex_call_init(&k, c, "GET", execd);
    osb__call_path(&k, "/metrics/watch");
    return osb__ex_open(&k, OSB__EX_METRICS, cancel, out);
}

OSB_API osb_err osb_metrics_watch(osb_client *c, const osb_target *execd, osb_event_fn on_event, void *user,
                                  const volatile int *cancel) {
    osb_stream *s;
    osb_err e = osb_metrics_stream(c, execd, cancel, &s);
    if (e) return e;
    return osb__ex_drive(c, s, on_event, user, NULL);
}

OSB_API osb_err osb_execd_ping(osb_client *c, const osb_target *execd) {
    osb__call k;
    if (!c) return OSB_ERR_INVALID_ARG;
    osb__ex_call_init(&k, c, "GET", execd);
    osb__call_path(&k, "/ping");
    return osb__call_run(&k);
}
/* >>impl-pty ---------------------------------------------------------------- */

#if !OSB_NO_PTY

#define OSB__PTY_TEXT_MAX (1u << 20)   /* a text (JSON) frame from execd */

struct osb_pty {
    osb_client *c;
    osb_ws *ws;
    char id[OSB_EXEC_ID_MAX];
    osb_buf text;                /* the text message being collected */
    int chan;                    /* channel byte of the binary message; -1 not read yet */
    unsigned char hdr[9];
    size_t hdr_len;
    uint64_t offset;             /* output offset of the next byte */
    int exit_known, exit_code, ended, close_code;
    void *result;                /* the last decoded text frame (freed on the next read) */
    char err_code[64];           /* the last error frame */
    char err_msg[256];
};

typedef struct osb__pty_frame {
    osb_str type, session_id, mode, error, code, exit_code;
    osb_str raw;
} osb__pty_frame;
static const osb_field osb__pty_frame_fields[] = {
    OSB_FIELD_STR(osb__pty_frame, type, "type"),
    OSB_FIELD_STR(osb__pty_frame, session_id, "session_id"),
    OSB_FIELD_STR(osb__pty_frame, mode, "mode"),
    OSB_FIELD_STR(osb__pty_frame, error, "error"),
    OSB_FIELD_STR(osb__pty_frame, code, "code"),
    OSB_FIELD_RAW(osb__pty_frame, exit_code, "exit_code"),
};
static const osb_type osb__pty_frame_type = OSB_TYPE_RAW(osb__pty_frame, osb__pty_frame_fields, raw);

static const osb_field osb__pty_status_fields[] = {
    OSB_FIELD_STR(osb_pty_status, session_id, "session_id"),
    OSB_FIELD_BOOL(osb_pty_status, running, "running"),
    OSB_FIELD_I64(osb_pty_status, output_offset, "output_offset"),
};
static const osb_type osb__pty_status_type = OSB_TYPE_RAW(osb_pty_status, osb__pty_status_fields, raw);

/* Appends s to b inside single quotes, for bash. */
static void osb__sh_quote(osb_buf *b, const char *s, size_t n) {
    size_t i;
    osb_buf_append(b, "'", 1);
    for (i = 0; i < n; i++) {
        if (s[i] == '\'') osb_buf_append(b, "'\\''", 4);
        else osb_buf_append(b, s + i, 1);
    }
    osb_buf_append(b, "'", 1);
}

OSB_API osb_err osb_pty_create(osb_client *c, const osb_target *execd, const osb_pty_request *req,
                               char *id, size_t cap) {
    osb__call k;
    osb_jw *w;
    osb__ex_session_id *r = NULL;
    osb_buf cmd;
    osb_err e;
    if (!c) return OSB_ERR_INVALID_ARG;
    if (!id || cap == 0) return osb__call_fail(c, OSB_ERR_INVALID_ARG, "no buffer for the session id");
    id[0] = 0;
    osb_buf_init(&cmd, c->alloc);
    if (req && req->envs && req->envs[0]) {
        size_t i;
        for (i = 0; req->envs[i]; i++) {
            const char *s = req->envs[i], *eq = strchr(s, '=');
            size_t j;
            int ok = eq && eq > s && !(s[0] >= '0' && s[0] <= '9');
            for (j = 0; ok && s + j < eq; j++)
                ok = s[j] == '_' || (s[j] >= 'A' && s[j] <= 'Z') || (s[j] >= 'a' && s[j] <= 'z') || (s[j] >= '0' && s[j] <= '9');
            if (!ok) {
                osb_buf_free(&cmd);
                return osb__call_fail(c, OSB_ERR_INVALID_ARG, "an environment entry is not NAME=value");
            }
            osb_buf_append_str(&cmd, "export ");
            osb_buf_append(&cmd, s, (size_t)(eq - s) + 1);
            osb__sh_quote(&cmd, eq + 1, strlen(eq + 1));
            osb_buf_append_str(&cmd, "; ");
        }
        osb_buf_append_str(&cmd, req->command ? req->command : "exec bash --norc --noprofile");
        if (cmd.failed) {
            osb_buf_free(&cmd);
            return osb__call_fail(c, cmd.failed, "out of memory");
        }
    }
    osb__ex_call_init(&k, c, "POST", execd);
    osb__call_path(&k, "/pty");
    w = osb__call_json(&k);
    osb_jw_object(w);
    osb__jw_kstr(w, "cwd", req ? req->cwd : NULL);
    osb__jw_kstr(w, "command", cmd.len ? cmd.data : req ? req->command : NULL);
    osb_jw_object_end(w);
    k.type = &osb__ex_session_id_type;
    k.out = (void **)&r;
    e = osb__call_run(&k);
    osb_buf_free(&cmd);
    if (e) return e;
    return osb__ex_take_session_id(c, r, id, cap);
}

OSB_API osb_err osb_pty_status_get(osb_client *c, const osb_target *execd, const char *id,
                                   osb_pty_status **out) {
    osb__call k;
    if (!c || !out) return OSB_ERR_INVALID_ARG;
    *out = NULL;
    osb__ex_call_init(&k, c, "GET", execd);
    osb__call_path(&k, "/pty/{}", id);
    k.type = &osb__pty_status_type;
    k.out = (void **)out;
    return osb__call_run(&k);
}

OSB_API osb_err osb_pty_delete(osb_client *c, const osb_target *execd, const char *id) {
    osb__call k;
    if (!c) return OSB_ERR_INVALID_ARG;
    osb__ex_call_init(&k, c, "DELETE", execd);
    osb__call_path(&k, "/pty/{}", id);
    return osb__call_run(&k);
}

static osb_err osb__pty_text(osb_pty *p, const char *json) {
    char msg[160];
    int n = osb__fmt(msg, sizeof msg, "{\"type\":\"%s\"}", json);
    if (n < 0 || (size_t)n >= sizeof msg) return OSB_ERR_INVALID_ARG;
    return osb_ws_send(p->ws, OSB_WS_TEXT, msg, (size_t)n);
}

OSB_API osb_err osb_pty_resize(osb_pty *p, int cols, int rows) {
    char msg[96];
    if (!p) return OSB_ERR_INVALID_ARG;
    if (cols <= 0 || rows <= 0 || cols > 65535 || rows > 65535)
        return osb__call_fail(p->c, OSB_ERR_INVALID_ARG, "a window size is 1..65535 columns and rows");
    osb__fmt(msg, sizeof msg, "{\"type\":\"resize\",\"cols\":%d,\"rows\":%d}", cols, rows);
    return osb_ws_send(p->ws, OSB_WS_TEXT, msg, strlen(msg));
}

OSB_API osb_err osb_pty_signal(osb_pty *p, const char *name) {
    static const char *const known[] = {"SIGINT", "SIGTERM", "SIGKILL", "SIGQUIT", "SIGHUP"};
    char msg[64];
    size_t i;
    if (!p || !name) return OSB_ERR_INVALID_ARG;
    for (i = 0; i < sizeof known / sizeof known[0]; i++)
        if (!strcmp(name, known[i])) break;
    if (i == sizeof known / sizeof known[0])
        return osb__call_fail(p->c, OSB_ERR_INVALID_ARG, "execd sends only SIGINT, SIGTERM, SIGKILL, SIGQUIT and SIGHUP");
    osb__fmt(msg, sizeof msg, "signal\",\"signal\":\"%s", name);
    return osb__pty_text(p, msg);
}

OSB_API osb_err osb_pty_ping(osb_pty *p) {
    if (!p) return OSB_ERR_INVALID_ARG;
    return osb__pty_text(p, "ping");
}

OSB_API osb_err osb_pty_write(osb_pty *p, const void *data, size_t len) {
    static const unsigned char stdin_tag = 0x00;
    osb_err e;
    if (!p || (!data && len)) return OSB_ERR_INVALID_ARG;
    if (len == 0) return OSB_OK;
    /* one message in two frames: the channel byte, then the bytes as they are */
    e = osb_ws_send_frame(p->ws, OSB_WS_BINARY, &stdin_tag, 1, 0);
    if (!e) e = osb_ws_send_frame(p->ws, OSB_WS_CONT, data, len, 1);
    return e;
}

OSB_API int osb_pty_fd(const osb_pty *p) { return p ? osb_ws_fd(p->ws) : -1; }
OSB_API int osb_pty_buffered(const osb_pty *p) { return p ? (p->ended || osb_ws_buffered(p->ws)) : 0; }
OSB_API const char *osb_pty_id(const osb_pty *p) { return p ? p->id : ""; }
OSB_API osb_ws *osb_pty_ws(osb_pty *p) { return p ? p->ws : NULL; }
OSB_API int osb_pty_exit_code(const osb_pty *p, int *known) {
    if (known) *known = p && p->exit_known;
    return p && p->exit_known ? p->exit_code : -1;
}

OSB_API osb_err osb_pty_attach(osb_client *c, const osb_target *execd, const char *id,
                               const osb_pty_attach_options *o, osb_pty **out) {
    osb_pty_attach_options none;
    osb_ws_options wo;
    osb_buf path, query;
    osb_pty *p;
    int64_t since;
    osb_err e;
    if (out) *out = NULL;
    if (!c || !out) return OSB_ERR_INVALID_ARG;
    if (!id || !*id || strlen(id) >= OSB_EXEC_ID_MAX) return osb__call_fail(c, OSB_ERR_INVALID_ARG, "invalid pty session id");
    if (!o) {
        memset(&none, 0, sizeof none);
        o = &none;
    }
    since = o->since > 0 ? o->since : 0;
    if (o->no_replay) {
        osb_pty_status *st = NULL;
        e = osb_pty_status_get(c, execd, id, &st);
        if (e) return e;
        since = st->output_offset;
        osb_result_free(st);
    }
    p = (osb_pty *)osb__alloc(c->alloc, sizeof *p);
    if (!p) return osb__call_fail(c, OSB_ERR_NOMEM, "out of memory");
    memset(p, 0, sizeof *p);
    p->c = c;
    p->chan = -1;
    memcpy(p->id, id, strlen(id) + 1);
    osb_buf_init(&p->text, c->alloc);
    p->text.max = OSB__PTY_TEXT_MAX;
    osb_buf_init(&path, c->alloc);
    osb_buf_init(&query, c->alloc);
    osb_buf_append_str(&path, "/pty/");
    osb_url_encode(&path, id, strlen(id));
    osb_buf_append_str(&path, "/ws");
    if (o->pipe_mode) osb_buf_append_str(&query, "pty=0&");
    if (since > 0) {
        char num[40];
        osb__fmt(num, sizeof num, "since=%lld&", (long long)since);
        osb_buf_append_str(&query, num);
    }
    if (o->takeover) osb_buf_append_str(&query, "takeover=1&");
    if (path.failed || query.failed) {
        e = osb__call_fail(c, OSB_ERR_NOMEM, "out of memory");
    } else {
        if (query.len) query.data[--query.len] = 0;   /* the last '&' */
        memset(&wo, 0, sizeof wo);
        wo.path = path.data;
        wo.query = query.len ? query.data : NULL;
        wo.max_message = o->max_message;
        wo.idle_ms = o->idle_ms;
        wo.cancel = o->cancel;
        wo.execd = 1;
        e = osb_ws_open(c, execd, &wo, &p->ws);
    }
    osb_buf_free(&path);
    osb_buf_free(&query);
    if (!e && o->cols > 0 && o->rows > 0) e = osb_pty_resize(p, o->cols, o->rows);
    if (e) {
        if (p->ws) osb_ws_close(p->ws, 0, NULL);
        osb_buf_free(&p->text);
        osb__free(c->alloc, p);
        return e;
    }
    p->offset = (uint64_t)since;
    *out = p;
    return OSB_OK;
}

OSB_API void osb_pty_detach(osb_pty *p) {
    if (!p) return;
    osb_ws_close(p->ws, OSB_WS_NORMAL, "detach");
    osb_result_free(p->result);
    osb_buf_free(&p->text);
    osb__free(p->c->alloc, p);
}

static void osb__pty_copy(char *dst, size_t cap, osb_str s) {
    size_t n = s.len < cap - 1 ? s.len : cap - 1;
    if (n) memcpy(dst, s.ptr, n);
    dst[n] = 0;
}

/* A whole text frame: the JSON events of execd. 1 = an event, 0 = skip it. */
static int osb__pty_json(osb_pty *p, osb_pty_event *ev, osb_err *e) {
    osb__pty_frame *f = NULL;
    osb_error scratch;
    memset(&scratch, 0, sizeof scratch);
    *e = osb_bind(&osb__pty_frame_type, p->text.data ? p->text.data : "", p->text.len, p->c->alloc,
                  (void **)&f, &scratch);
    if (*e) {
        osb__reset_error(&p->c->err);
        osb__set_error(&p->c->err, *e, "a text frame from execd that is not a JSON object: %s", scratch.message);
        return 0;
    }
    p->result = f;
    ev->raw = f->raw;
    if (f->type.ptr && !strcmp(f->type.ptr, "connected")) {
        ev->type = OSB_PTY_CONNECTED;
        ev->mode = f->mode;
        ev->session_id = f->session_id;
    } else if (f->type.ptr && !strcmp(f->type.ptr, "exit")) {
        int64_t v = -1;
        if (f->exit_code.ptr) osb_json_to_i64(f->exit_code.ptr, f->exit_code.len, &v);
        ev->type = OSB_PTY_EXIT;
        ev->exit_code = (int)v;
        p->exit_known = 1;
        p->exit_code = (int)v;
    } else if (f->type.ptr && !strcmp(f->type.ptr, "error")) {
        ev->type = OSB_PTY_ERROR;
        ev->code = f->code;
        ev->message = f->error;
        osb__pty_copy(p->err_code, sizeof p->err_code, f->code);
        osb__pty_copy(p->err_msg, sizeof p->err_msg, f->error);
    } else if (f->type.ptr && !strcmp(f->type.ptr, "pong")) {
        ev->type = OSB_PTY_PONG;
    } else {
        return 0;   /* a type this library does not know */
    }
    return 1;
}

OSB_API osb_err osb_pty_read(osb_pty *p, osb_pty_event *ev, int wait_ms) {
    osb_err e;
    if (!p || !ev) return OSB_ERR_INVALID_ARG;
    memset(ev, 0, sizeof *ev);
    osb_result_free(p->result);
    p->result = NULL;
    if (p->ended) {
        ev->type = OSB_PTY_CLOSED;
        ev->close_code = p->close_code;
        return OSB_OK;
    }
    for (;;) {
        osb_ws_msg m;
        const unsigned char *d;
        size_t n;
        e = osb_ws_read(p->ws, &m, wait_ms);
        if (e) {
            if (e == OSB_ERR_TRUNCATED && p->err_code[0]) {
                osb__set_error(&p->c->err, OSB_ERR_SERVER, "execd: %s (%s)", p->err_msg, p->err_code);
                osb__fmt(p->c->err.server_code, sizeof p->c->err.server_code, "%s", p->err_code);
                return OSB_ERR_SERVER;
            }
            return e;
        }
        if (m.opcode == 0) return OSB_OK;
        if (m.opcode == OSB_WS_CLOSE) {
            p->ended = 1;
            p->close_code = m.close_code;
            ev->type = OSB_PTY_CLOSED;
            ev->close_code = m.close_code;
            ev->message.ptr = (const char *)m.data;
            ev->message.len = m.len;
            return OSB_OK;
        }
        if (m.opcode == OSB_WS_TEXT) {
            if (m.first) p->text.len = 0;
            if ((e = osb_buf_append(&p->text, m.data, m.len)) != OSB_OK) {
                osb__reset_error(&p->c->err);
                osb__set_error(&p->c->err, e, "a text frame from execd over %u bytes", (unsigned)OSB__PTY_TEXT_MAX);
                return e;
            }
            if (!m.last) continue;
            if (osb__pty_json(p, ev, &e)) return OSB_OK;
            if (e) return e;
            continue;
        }
        d = (const unsigned char *)m.data;
        n = m.len;
        if (m.first) {
            p->chan = -1;
            p->hdr_len = 0;
        }
        if (p->chan < 0) {
            while (n > 0 && (p->hdr_len == 0 || (p->hdr[0] == 0x03 && p->hdr_len < 9))) {
                p->hdr[p->hdr_len++] = *d++;
                n--;
            }
            if (p->hdr_len == 0 || (p->hdr[0] == 0x03 && p->hdr_len < 9)) {
                if (!m.last) continue;
                if (p->hdr_len == 0) continue;   /* an empty binary message */
                osb__reset_error(&p->c->err);
                osb__set_error(&p->c->err, OSB_ERR_PROTOCOL, "%s", "a replay frame shorter than its header");
                return OSB_ERR_PROTOCOL;
            }
            p->chan = p->hdr[0];
            if (p->chan == 0x03) {
                size_t i;
                p->offset = 0;
                for (i = 1; i < 9; i++) p->offset = p->offset << 8 | p->hdr[i];
            }
        }
        if (n == 0 || p->chan < 1 || p->chan > 3) continue;   /* other channels are not for clients */
        ev->type = p->chan == 1 ? OSB_PTY_OUTPUT : p->chan == 2 ? OSB_PTY_STDERR : OSB_PTY_REPLAY;
        ev->data = d;
        ev->len = n;
        ev->offset = p->offset;
        p->offset += n;
        return OSB_OK;
    }
}

OSB_API osb_err osb_pty_run(osb_pty *p, osb_pty_fn fn, void *user, int *exit_code) {
    osb_pty_event ev;
    osb_err e;
    if (exit_code) *exit_code = -1;
    if (!p) return OSB_ERR_INVALID_ARG;
    for (;;) {
        e = osb_pty_read(p, &ev, -1);
        if (e == OSB_ERR_TRUNCATED && p->exit_known) {   /* exited, then hung up without a close frame */
            if (exit_code) *exit_code = p->exit_code;
            return OSB_OK;
        }
        if (e) return e;
        if (fn && fn(user, &ev)) {
            osb__reset_error(&p->c->err);
            osb__set_error(&p->c->err, OSB_ERR_CANCELLED, "%s", "the callback stopped the session");
            return OSB_ERR_CANCELLED;
        }
        if (ev.type != OSB_PTY_CLOSED) continue;
        if (exit_code && p->exit_known) *exit_code = p->exit_code;
        if (p->exit_known && ev.close_code == OSB_WS_NORMAL) return OSB_OK;
        osb__reset_error(&p->c->err);
        if (p->err_code[0]) {
            osb__set_error(&p->c->err, OSB_ERR_SERVER, "execd: %s (%s)", p->err_msg, p->err_code);
            osb__fmt(p->c->err.server_code, sizeof p->c->err.server_code, "%s", p->err_code);
        } else {
            osb__set_error(&p->c->err, OSB_ERR_SERVER, "the server closed the session with code %d%s%.*s",
                           ev.close_code, ev.message.len ? ": " : "", (int)ev.message.len,
                           ev.message.ptr ? ev.message.ptr : "");
        }
        return OSB_ERR_SERVER;
    }
}

#endif /* OSB_NO_PTY */

/* >>impl-config ------------------------------------------------------------ */

OSB_API int osb_config_bool(const char *s) {
    size_t n;
    if (!s) return -1;
    while (*s == ' ' || *s == '\t') s++;
    n = strlen(s);
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t')) n--;
    if (osb__ieq_any(s, n, "1\0true\0yes\0on\0")) return 1;
    if (osb__ieq_any(s, n, "0\0false\0no\0off\0")) return 0;
    return -1;
}

/* Appends s to the config's store; NULL when it does not fit. */
static const char *osb__cfg_keep(osb_config *cfg, size_t *used, const char *s, size_t n) {
    char *p;
    if (*used + n + 1 > sizeof cfg->store) return NULL;
    p = cfg->store + *used;
    memcpy(p, s, n);
    p[n] = 0;
    *used += n + 1;
    return p;
}

#if !OSB_NO_CONFIG_FILE
static int osb__toml_space(int c) { return c == ' ' || c == '\t'; }

/* Whether the line from p to end has nothing more than spaces and a comment. */
static int osb__toml_rest_empty(const char *p, const char *end) {
    while (p < end && osb__toml_space((unsigned char)*p)) p++;
    return p == end || *p == '#';
}

/* Puts ch in out at *n; 0, or -1 when out (cap bytes, one for the NUL) is
 * full. Without out, only counts. */
static int osb__toml_put(char *out, size_t cap, size_t *n, char ch) {
    if (!out) {
        (*n)++;
        return 0;
    }
    if (*n + 1 >= cap) return -1;
    out[(*n)++] = ch;
    return 0;
}

/* Decodes the escape whose backslash is at *pv (a basic string's) into out
 * at *n and steps *pv past it; -1 (*pv where it was) when it is none of
 * TOML's or does not fit. A \u or \U escape must be a Unicode scalar value,
 * as tomllib (which the official CLI reads its file with) has it: no
 * surrogate, nothing past U+10FFFF. */
static int osb__toml_escape(const char **pv, const char *end, char *out, size_t cap, size_t *n) {
    static const char from[] = "btnfr\"\\", to[] = "\b\t\n\f\r\"\\";
    const char *v = *pv + 1, *hit;
    unsigned long cp = 0;
    int digits, i, c;
    char u8[4];
    size_t k, m;
    if (v >= end || !*v) return -1;
    if ((hit = strchr(from, *v)) != NULL) {
        if (osb__toml_put(out, cap, n, to[hit - from]) < 0) return -1;
        *pv = v + 1;
        return 0;
    }
    if (*v != 'u' && *v != 'U') return -1;
    for (i = 0, digits = *v == 'u' ? 4 : 8; i < digits; i++) {
        if (++v >= end || (c = osb__hexval((unsigned char)*v)) < 0) return -1;
        cp = cp * 16 + (unsigned long)c;
    }
    if (cp >= 0x110000 || (cp >= 0xD800 && cp <= 0xDFFF)) return -1;
    for (k = 0, m = osb__utf8_put(u8, (uint32_t)cp); k < m; k++)
        if (osb__toml_put(out, cap, n, u8[k]) < 0) return -1;
    *pv = v + 1;
    return 0;
}

/* The end of the line at p: its newline (or the CR before it), or end. */
static const char *osb__toml_line_end(const char *p, const char *end) {
    const char *e = (const char *)memchr(p, '\n', (size_t)(end - p));
    if (!e) return end;
    return e > p && e[-1] == '\r' ? e - 1 : e;
}

/* The start of the line after the one that ends at le. */
static const char *osb__toml_next_line(const char *le, const char *end) {
    while (le < end && *le != '\n') le++;
    return le < end ? le + 1 : end;
}

/* Whether a multi-line string (three quotes of either kind) starts at v. */
static int osb__toml_is_multiline(const char *v, const char *end) {
    return end - v >= 3 && (*v == '"' || *v == '\'') && v[1] == *v && v[2] == *v;
}

/* Decodes the multi-line string at v, which may run on to the end of the
 * text, into out. The line break right after the opening quotes is not part
 * of it; CRLF reads as LF (as tomllib reads it); in a basic one a backslash
 * ending a line drops the line break and the blanks after it; one or two
 * quotes may stand right before the closing three. Returns the length, or
 * -1 when malformed, unterminated or longer than cap-1 (out NULL: only
 * checks it and finds its end). *after: past its closing quotes, NULL when
 * it does not close. */
static long osb__toml_multiline(const char *v, const char *end, const char **after, char *out, size_t cap) {
    char q = *v;
    size_t n = 0;
    int run, bad = 0;
    *after = NULL;
    v += 3;
    if (v < end && *v == '\r' && v + 1 < end && v[1] == '\n') v++;
    if (v < end && *v == '\n') v++;
    for (;;) {
        if (v >= end) return -1;
        if (*v == q) {
            int closing;
            for (run = 0; v + run < end && v[run] == q; run++) continue;
            v += run;
            closing = run >= 3;
            if (run > 5) bad = 1;
            for (run -= closing ? 3 : 0; run > 0; run--) bad |= osb__toml_put(out, cap, &n, q);
            if (closing) break;
            continue;
        }
        if (q == '"' && *v == '\\') {
            const char *w = v + 1;
            while (w < end && osb__toml_space((unsigned char)*w)) w++;
            if (w < end && (*w == '\n' || *w == '\r')) {   /* a backslash ending the line */
                while (w < end && (osb__toml_space((unsigned char)*w) || *w == '\n' || *w == '\r')) w++;
                v = w;
            } else if (osb__toml_escape(&v, end, out, cap, &n) < 0) {
                bad = 1;
                v += v + 1 < end ? 2 : 1;   /* on to the string's end all the same */
            }
            continue;
        }
        if (*v == '\r' && v + 1 < end && v[1] == '\n') v++;
        bad |= osb__toml_put(out, cap, &n, *v++);
    }
    *after = v;
    if (bad) return -1;
    if (out) out[n] = 0;
    return (long)n;
}

/* The end of the array or inline table at v (past its closing bracket),
 * which may run over lines; NULL when it does not close. The strings and
 * comments in it are stepped over whole, brackets in them included. */
static const char *osb__toml_skip_nested(const char *v, const char *end) {
    int depth = 0;
    while (v < end) {
        if (osb__toml_is_multiline(v, end)) {
            const char *after;
            osb__toml_multiline(v, end, &after, NULL, 0);
            if (!after) return NULL;
            v = after;
            continue;
        }
        switch (*v) {
        case '"':
        case '\'':
            {
                char q = *v++;
                while (v < end && *v != q && *v != '\n') v += q == '"' && *v == '\\' && v + 1 < end ? 2 : 1;
            }
            break;
        case '#':
            while (v < end && *v != '\n') v++;
            continue;
        case '[':
        case '{':
            depth++;
            break;
        case ']':
        case '}':
            if (--depth == 0) return v + 1;
            break;
        default:
            break;
        }
        v++;
    }
    return NULL;
}

/* Decodes the one-line TOML value at v (up to le, the end of its line) into
 * out: a basic string with escapes, a literal string or a bare value
 * (boolean, number). Returns the length, or -1 when malformed, when
 * something other than a comment follows a string or when longer than
 * cap-1. */
static long osb__toml_value(const char *v, const char *le, char *out, size_t cap) {
    size_t n = 0;
    if (v < le && (*v == '"' || *v == '\'')) {
        char q = *v;
        for (v++; v < le && *v != q;) {
            if (q == '"' && *v == '\\') {
                if (osb__toml_escape(&v, le, out, cap, &n) < 0) return -1;
            } else if (osb__toml_put(out, cap, &n, *v++) < 0) {
                return -1;
            }
        }
        if (v >= le || !osb__toml_rest_empty(v + 1, le)) return -1;
    } else {
        const char *e = v;
        while (e < le && *e != '#') e++;
        while (e > v && osb__toml_space((unsigned char)e[-1])) e--;
        if (e == v) return -1;
        for (; v < e; v++) {
            if (*v == '"' || *v == '\'' || *v == '[' || *v == '{') return -1;
            if (*v != '_' && osb__toml_put(out, cap, &n, *v) < 0) return -1;   /* 1_000 = 1000 */
        }
    }
    out[n] = 0;
    return (long)n;
}

/* Finds key in [section] of a TOML text. Returns the value's length, -1 when
 * the key is absent, -2 when its value cannot be read. Understood: [tables],
 * bare or quoted keys, strings of one line or many, bare values (numbers,
 * booleans); arrays and inline tables are stepped over (the lines of a value
 * are never taken for keys or tables); other lines are skipped. */
static long osb__toml_get(const char *text, size_t len, const char *section, const char *key,
                          char *out, size_t cap) {
    const char *p = text, *end = text + len;
    int in_section = 0;
    long found = -1;
    while (p < end) {
        const char *line = p, *le = osb__toml_line_end(p, end), *q = line, *ks, *ke;
        int match;
        p = osb__toml_next_line(le, end);
        while (q < le && osb__toml_space((unsigned char)*q)) q++;
        if (q == le || *q == '#') continue;
        if (*q == '[') {
            const char *s = q + 1, *e;
            if (s < le && *s == '[') { in_section = 0; continue; }   /* array of tables */
            while (s < le && osb__toml_space((unsigned char)*s)) s++;
            e = (const char *)memchr(s, ']', (size_t)(le - s));
            if (!e) { in_section = 0; continue; }
            while (e > s && osb__toml_space((unsigned char)e[-1])) e--;
            if (e - s >= 2 && (*s == '"' || *s == '\'') && e[-1] == *s) { s++; e--; }
            in_section = (size_t)(e - s) == strlen(section) && memcmp(s, section, (size_t)(e - s)) == 0;
            continue;
        }
        ks = q;
        if (*q == '"' || *q == '\'') {
            ke = (const char *)memchr(q + 1, *q, (size_t)(le - q - 1));
            if (!ke) continue;
            ks = q + 1;
            q = ke + 1;
        } else {
            while (q < le && *q != '=' && !osb__toml_space((unsigned char)*q)) q++;
            ke = q;
        }
        while (q < le && osb__toml_space((unsigned char)*q)) q++;
        if (q >= le || *q != '=') continue;
        q++;
        while (q < le && osb__toml_space((unsigned char)*q)) q++;
        match = in_section && (size_t)(ke - ks) == strlen(key) && memcmp(ks, key, (size_t)(ke - ks)) == 0;
        /* TOML forbids a key twice; should a file have it, the last one wins */
        if (osb__toml_is_multiline(q, end)) {
            const char *after;
            long n = osb__toml_multiline(q, end, &after, match ? out : NULL, match ? cap : 0);
            if (!after) {   /* unterminated: the rest of the text is in it */
                if (match) found = -2;
                break;
            }
            le = osb__toml_line_end(after, end);
            if (match) found = n < 0 || !osb__toml_rest_empty(after, le) ? -2 : n;
            p = osb__toml_next_line(le, end);
        } else if (q < le && (*q == '[' || *q == '{')) {   /* an array or inline table, which may run over lines */
            const char *after = osb__toml_skip_nested(q, end);
            if (match) found = -2;
            if (!after) break;
            p = osb__toml_next_line(after, end);
        } else if (match) {
            found = osb__toml_value(q, le, out, cap);
            if (found < 0) found = -2;
        }
    }
    return found;
}

/* Reads a whole small file into a buffer of the caller's (at most cap-1 bytes). */
static long osb__cfg_read_file(const char *path, char *buf, size_t cap) {
    int fd = osb__file_open(path);
    ptrdiff_t got;
    if (fd < 0) return -1;
    got = osb__file_read(fd, buf, cap - 1);
    osb__file_close(fd);
    if (got < 0) return -1;
    buf[got] = 0;
    return (long)got;
}
#endif /* OSB_NO_CONFIG_FILE */

/* Seconds ("30", "2.5") to milliseconds; -1 when not a positive number. */
static int osb__cfg_seconds(const char *s) {
    size_t n;
    double d;
    while (*s == ' ' || *s == '\t') s++;
    for (n = strlen(s); n && (s[n - 1] == ' ' || s[n - 1] == '\t'); n--) {}
    if (!n || osb_json_to_double(s, n, &d) != OSB_OK || !(d > 0) || d > 2000000.0) return -1;
    return (int)(d * 1000.0 + 0.999);
}

OSB_API osb_err osb_config_load(osb_config *cfg) {
    enum { DOMAIN, API_KEY, PROTOCOL, TIMEOUT, PROXY, NSET };
    static const char *const env_names[NSET] = {
        "OPEN_SANDBOX_DOMAIN", "OPEN_SANDBOX_API_KEY", "OPEN_SANDBOX_PROTOCOL",
        "OPEN_SANDBOX_REQUEST_TIMEOUT", "OPEN_SANDBOX_USE_SERVER_PROXY"};
    const char *val[NSET];
    const char *src[NSET];
    size_t used = 0;
    int i;
#if !OSB_NO_CONFIG_FILE
    static const char *const file_keys[NSET] = {"domain", "api_key", "protocol", "request_timeout",
                                                "use_server_proxy"};
    char *filetext = NULL;
    long filelen = -1;
    osb_err e = OSB_OK;
    char path[1024];
    char tmp[512];
#endif

    if (!cfg) return OSB_ERR_INVALID_ARG;
    cfg->message[0] = 0;
    val[DOMAIN] = cfg->client.domain;
    val[API_KEY] = cfg->client.api_key;
    val[PROTOCOL] = cfg->client.protocol;
    val[TIMEOUT] = NULL;
    val[PROXY] = NULL;
    for (i = 0; i < NSET; i++) src[i] = val[i] ? "explicit" : NULL;
    if (val[DOMAIN] && !*val[DOMAIN]) val[DOMAIN] = NULL, src[DOMAIN] = NULL;
    if (cfg->request_timeout_ms > 0) src[TIMEOUT] = "explicit";
    if (cfg->use_server_proxy != 0) src[PROXY] = "explicit";

    /* the environment */
    if (!cfg->skip_env) {
        for (i = 0; i < NSET; i++) {
            const char *v;
            if (src[i]) continue;
            v = getenv(env_names[i]);
            if (!v || !*v) continue;
            val[i] = v;
            src[i] = "env";
        }
    }

#if OSB_NO_CONFIG_FILE
    if (cfg->file && *cfg->file) {
        osb__fmt(cfg->message, sizeof cfg->message, "config files are not compiled in (OSB_NO_CONFIG_FILE)");
        return OSB_ERR_UNSUPPORTED;
    }
#else
    /* the config file, read only when something is still unset */
    for (i = 0; i < NSET; i++) if (!src[i]) break;
    if (i < NSET && !(cfg->file && !*cfg->file)) {
        int named = cfg->file != NULL;
        if (named) {
            osb__fmt(path, sizeof path, "%s", cfg->file);
        } else {
            const char *home = getenv("HOME");
#ifdef _WIN32
            if (!home || !*home) home = getenv("USERPROFILE");
#endif
            path[0] = 0;
            if (home && *home) osb__fmt(path, sizeof path, "%s/.opensandbox/config.toml", home);
        }
        if (path[0]) {
            filetext = (char *)malloc(65536);
            if (!filetext) return OSB_ERR_NOMEM;
            filelen = osb__cfg_read_file(path, filetext, 65536);
            if (filelen < 0 && named) {
                osb__fmt(cfg->message, sizeof cfg->message, "cannot read the config file %.150s", path);
                free(filetext);
                return OSB_ERR_IO;
            }
        }
    }
    if (filelen >= 0) {
        for (i = 0; i < NSET; i++) {
            long n;
            if (src[i]) continue;
            n = osb__toml_get(filetext, (size_t)filelen, "connection", file_keys[i], tmp, sizeof tmp);
            if (n == -1) continue;
            if (n < 0) {
                osb__fmt(cfg->message, sizeof cfg->message,
                         "config file %.100s: [connection].%s cannot be read (a string, number or boolean)",
                         path, file_keys[i]);
                e = OSB_ERR_INVALID_ARG;
                break;
            }
            if (i == API_KEY && n == 0) continue;   /* config init writes api_key = "" */
            if (!(val[i] = osb__cfg_keep(cfg, &used, tmp, (size_t)n))) { e = OSB_ERR_TOO_LARGE; break; }
            src[i] = "file";
        }
    }
    free(filetext);
    if (e) {
        if (e == OSB_ERR_TOO_LARGE) osb__fmt(cfg->message, sizeof cfg->message, "a configuration value is too long");
        return e;
    }
#endif /* OSB_NO_CONFIG_FILE */

    /* env values are copied too, so the result does not depend on the environment later */
    for (i = 0; i < NSET; i++) {
        if (src[i] && strcmp(src[i], "env") == 0) {
            if (!(val[i] = osb__cfg_keep(cfg, &used, val[i], strlen(val[i])))) {
                osb__fmt(cfg->message, sizeof cfg->message, "%s is too long", env_names[i]);
                return OSB_ERR_TOO_LARGE;
            }
        }
    }

    /* defaults and checks */
    if (!src[DOMAIN]) { val[DOMAIN] = "localhost:8080"; src[DOMAIN] = "default"; }
    if (!src[API_KEY]) src[API_KEY] = "default";
    if (!src[PROTOCOL]) { val[PROTOCOL] = "http"; src[PROTOCOL] = "default"; }
    if (osb__ieq(val[PROTOCOL], strlen(val[PROTOCOL]), "http")) val[PROTOCOL] = "http";
    else if (osb__ieq(val[PROTOCOL], strlen(val[PROTOCOL]), "https")) val[PROTOCOL] = "https";
    else {
        osb__fmt(cfg->message, sizeof cfg->message, "protocol (%s) must be http or https", src[PROTOCOL]);
        return OSB_ERR_INVALID_ARG;
    }
    if (val[DOMAIN]) {
        osb_url u;
        const char *why;
        if (osb__url_parse_why(val[DOMAIN], !strcmp(val[PROTOCOL], "https"), &u, &why) != OSB_OK) {
            if (u.host[0] && !strchr(u.host, '@'))    /* userinfo may be a secret */
                osb__fmt(cfg->message, sizeof cfg->message, "domain (%s), host '%.40s': %s", src[DOMAIN], u.host, why);
            else
                osb__fmt(cfg->message, sizeof cfg->message, "domain (%s): %s", src[DOMAIN], why);
            return OSB_ERR_INVALID_ARG;
        }
    }
    if (src[TIMEOUT] && strcmp(src[TIMEOUT], "explicit") != 0) {
        int ms = osb__cfg_seconds(val[TIMEOUT]);
        if (ms < 0) {
            osb__fmt(cfg->message, sizeof cfg->message, "request timeout (%s) must be a positive number of seconds",
                     src[TIMEOUT]);
            return OSB_ERR_INVALID_ARG;
        }
        cfg->request_timeout_ms = ms;
    } else if (!src[TIMEOUT]) {
        src[TIMEOUT] = "default";
    }
    if (src[PROXY] && strcmp(src[PROXY], "explicit") != 0) {
        int b = osb_config_bool(val[PROXY]);
        if (b < 0) {
            osb__fmt(cfg->message, sizeof cfg->message, "use_server_proxy (%s) must be true or false", src[PROXY]);
            return OSB_ERR_INVALID_ARG;
        }
        cfg->use_server_proxy = b;
    } else if (!src[PROXY]) {
        src[PROXY] = "default";
        cfg->use_server_proxy = 0;
    } else {
        cfg->use_server_proxy = cfg->use_server_proxy > 0;
    }
    cfg->client.domain = val[DOMAIN];
    cfg->client.api_key = val[API_KEY];
    cfg->client.protocol = val[PROTOCOL];
    if (cfg->request_timeout_ms > 0 && cfg->client.timeouts.total_ms == 0)
        cfg->client.timeouts.total_ms = cfg->request_timeout_ms;
    cfg->domain_source = src[DOMAIN];
    cfg->api_key_source = src[API_KEY];
    cfg->protocol_source = src[PROTOCOL];
    cfg->timeout_source = src[TIMEOUT];
    cfg->proxy_source = src[PROXY];
    return OSB_OK;
}


/* >>impl-sandbox ----------------------------------------------------------- */

struct osb_sandbox {
    osb_client *c;
    char *id;
    osb_sandbox_options opt;     /* host_rewrite points at 'rewrite' */
    char **rewrite;              /* "from=to" copies, NULL-terminated */
    osb_sandbox_info *created;
    osb_endpoint *ep[2];         /* execd, egress */
    char *url[2];                /* after host rewrites */
    osb_target t[2];
    int egress_optional;         /* connected handles: a missing egress endpoint is fine */
};

static osb_err osb__sb_fail(osb_client *c, osb_err e, const char *fmt, const char *arg) {
    osb__reset_error(&c->err);
    osb__set_error(&c->err, e, fmt, arg ? arg : "");
    return e;
}

static void osb__sb_free(osb_sandbox *sb) {
    const osb_allocator *a;
    size_t i;
    if (!sb) return;
    a = sb->c->alloc;
    for (i = 0; i < 2; i++) {
        osb_result_free(sb->ep[i]);
        osb__free(a, sb->url[i]);
    }
    if (sb->rewrite) {
        for (i = 0; sb->rewrite[i]; i++) osb__free(a, sb->rewrite[i]);
        osb__free(a, sb->rewrite);
    }
    osb_result_free(sb->created);
    osb__free(a, sb->id);
    osb__free(a, sb);
}

static osb_err osb__sb_new(osb_client *c, const char *id, const osb_sandbox_options *opt, osb_sandbox **out) {
    const osb_allocator *a = c->alloc;
    osb_sandbox *sb = (osb_sandbox *)osb__alloc(a, sizeof *sb);
    size_t n = 0, i;
    *out = NULL;
    if (!sb) return osb__call_fail(c, OSB_ERR_NOMEM, "out of memory");
    memset(sb, 0, sizeof *sb);
    sb->c = c;
    if (opt) sb->opt = *opt;
    if (sb->opt.ready_timeout_ms <= 0) sb->opt.ready_timeout_ms = OSB_DEFAULT_READY_TIMEOUT_MS;
    if (sb->opt.poll_ms <= 0) sb->opt.poll_ms = OSB_DEFAULT_READY_POLL_MS;
    if (sb->opt.execd_port == 0) sb->opt.execd_port = OSB_EXECD_PORT;
    if (sb->opt.egress_port == 0) sb->opt.egress_port = OSB_EGRESS_PORT;
    sb->opt.host_rewrite = NULL;
    if (!(sb->id = osb__strndup(a, id, strlen(id)))) goto nomem;
    if (opt && opt->host_rewrite) {
        while (opt->host_rewrite[n]) {
            const char *eq = strchr(opt->host_rewrite[n], '=');
            if (!eq || eq == opt->host_rewrite[n] || !eq[1]) {
                osb__sb_free(sb);
                return osb__call_fail(c, OSB_ERR_INVALID_ARG, "host_rewrite entries are \"from=to\"");
            }
            n++;
        }
        sb->rewrite = (char **)osb__alloc(a, (n + 1) * sizeof(char *));
        if (!sb->rewrite) goto nomem;
        memset(sb->rewrite, 0, (n + 1) * sizeof(char *));
        for (i = 0; i < n; i++)
            if (!(sb->rewrite[i] = osb__strndup(a, opt->host_rewrite[i], strlen(opt->host_rewrite[i])))) goto nomem;
        sb->opt.host_rewrite = (const char *const *)sb->rewrite;
    }
    *out = sb;
    return OSB_OK;
nomem:
    osb__sb_free(sb);
    return osb__call_fail(c, OSB_ERR_NOMEM, "out of memory");
}

/* The endpoint URL with its host replaced when a rewrite rule names it. */
static char *osb__sb_rewrite(osb_sandbox *sb, const char *url) {
    const osb_allocator *a = sb->c->alloc;
    const char *h = osb__strstr(url, "://"), *he;
    size_t i;
    h = h ? h + 3 : url;
    if (*h == '[') {
        he = strchr(h, ']');
        he = he ? he + 1 : h + strlen(h);
    } else {
        he = h;
        while (*he && *he != ':' && *he != '/') he++;
    }
    for (i = 0; sb->rewrite && sb->rewrite[i]; i++) {
        const char *r = sb->rewrite[i], *eq = strchr(r, '=');
        size_t fl = (size_t)(eq - r);
        if ((size_t)(he - h) == fl) {
            char from[256];
            if (fl >= sizeof from) continue;
            memcpy(from, r, fl);
            from[fl] = 0;
            if (osb__ieq(h, fl, from)) {
                size_t pre = (size_t)(h - url), tl = strlen(eq + 1), rest = strlen(he);
                char *out = (char *)osb__alloc(a, pre + tl + rest + 1);
                if (!out) return NULL;
                memcpy(out, url, pre);
                memcpy(out + pre, eq + 1, tl);
                memcpy(out + pre + tl, he, rest + 1);
                return out;
            }
        }
    }
    return osb__strndup(a, url, strlen(url));
}

/* Resolves endpoint i (0 execd, 1 egress) into sb->t[i]. */
static osb_err osb__sb_resolve_one(osb_sandbox *sb, int i) {
    osb_endpoint_req er;
    osb_endpoint *ep = NULL;
    char *url;
    osb_err e;
    memset(&er, 0, sizeof er);
    er.use_server_proxy = sb->opt.use_server_proxy > 0;
    e = osb_sandbox_endpoint(sb->c, sb->id, i == 0 ? sb->opt.execd_port : sb->opt.egress_port, &er, &ep);
    if (e) return e;
    url = osb__sb_rewrite(sb, ep->url.ptr ? ep->url.ptr : "");
    if (!url) {
        osb_result_free(ep);
        return osb__call_fail(sb->c, OSB_ERR_NOMEM, "out of memory");
    }
    osb_result_free(sb->ep[i]);
    osb__free(sb->c->alloc, sb->url[i]);
    sb->ep[i] = ep;
    sb->url[i] = url;
    sb->t[i].url = url;
    sb->t[i].headers = ep->header_lines;
    return OSB_OK;
}

OSB_API osb_err osb_sandbox_resolve(osb_sandbox *sb) {
    osb_err e;
    if (!sb) return OSB_ERR_INVALID_ARG;
    e = osb__sb_resolve_one(sb, 0);
    if (e || sb->opt.skip_egress) return e;
    e = osb__sb_resolve_one(sb, 1);
    if (e && sb->egress_optional) {
        /* an existing sandbox may predate the sidecar: go on without egress */
        osb_result_free(sb->ep[1]);
        osb__free(sb->c->alloc, sb->url[1]);
        sb->ep[1] = NULL;
        sb->url[1] = NULL;
        sb->t[1].url = NULL;
        sb->t[1].headers = NULL;
        osb__reset_error(&sb->c->err);
        e = OSB_OK;
    }
    return e;
}

/* GET {execd}/ping with deadlines that end by 'deadline' (0: the client's). */
static osb_err osb__sb_ping(osb_sandbox *sb, int64_t deadline) {
    osb_http_request req;
    osb_http_response res;
    osb_err e;
    char url[1400];
    if (!sb->url[0]) return osb__call_fail(sb->c, OSB_ERR_STATE, "the execd endpoint is not resolved");
    osb__fmt(url, sizeof url, "%s/ping", sb->url[0]);
    memset(&req, 0, sizeof req);
    req.url = url;
    req.execd = 1;
    req.headers = sb->t[0].headers;
    if (deadline) {
        int64_t left = deadline - osb__now_ms();
        int ms = left < 1 ? 1 : (left > 5000 ? 5000 : (int)left);
        req.timeouts.connect_ms = ms;
        req.timeouts.first_byte_ms = ms;
        req.timeouts.idle_ms = ms;
        req.timeouts.total_ms = ms;
    }
    e = osb_request_raw(sb->c, &req, &res);
    osb_http_response_free(&res);
    return e;
}

OSB_API osb_err osb_sandbox_ping(osb_sandbox *sb) {
    if (!sb) return OSB_ERR_INVALID_ARG;
    return osb__sb_ping(sb, 0);
}

OSB_API osb_err osb_sandbox_wait_ready(osb_sandbox *sb, int timeout_ms) {
    int64_t start, deadline;
    int delay, probes = 0;
    char last[200];
    if (!sb) return OSB_ERR_INVALID_ARG;
    if (timeout_ms <= 0) timeout_ms = sb->opt.ready_timeout_ms;
    start = osb__now_ms();
    deadline = start + timeout_ms;
    delay = sb->opt.poll_ms;
    last[0] = 0;
    for (;;) {
        int ok;
        probes++;
        if (sb->opt.health_check) {
            ok = sb->opt.health_check(sb->opt.health_user, sb);
            if (ok < 0)
                return osb__sb_fail(sb->c, OSB_ERR_STATE, "the health check rejected sandbox %s", sb->id);
            if (!ok) osb__fmt(last, sizeof last, "the health check said not ready");
        } else {
            osb_err e = osb__sb_ping(sb, deadline);
            ok = e == OSB_OK;
            if (!ok) osb__fmt(last, sizeof last, "%.190s", sb->c->err.message[0] ? sb->c->err.message : osb_strerror(e));
        }
        if (ok > 0) {
            osb__reset_error(&sb->c->err);
            return OSB_OK;
        }
        if (osb__now_ms() + delay >= deadline) break;
        osb__sleep_ms(delay);
        delay = delay * 2 > 1000 ? 1000 : delay * 2;
    }
    osb__reset_error(&sb->c->err);
    osb__set_error(&sb->c->err, OSB_ERR_TIMEOUT,
                   "sandbox %.64s not ready after %d ms (%d probes; last: %s). If its endpoint is not "
                   "reachable from here, try use_server_proxy or a host_rewrite",
                   sb->id, timeout_ms, probes, last);
    sb->c->err.phase = OSB_PHASE_TOTAL;
    return OSB_ERR_TIMEOUT;
}

/* Resolve, then wait (unless skipped). */
static osb_err osb__sb_reach(osb_sandbox *sb) {
    osb_err e = osb_sandbox_resolve(sb);
    if (e) return e;
    if (sb->opt.skip_health_check) return OSB_OK;
    return osb_sandbox_wait_ready(sb, 0);
}

static int osb__sb_state_is(const osb_sandbox_info *s, const char *state) {
    return s && s->status.state.ptr && osb__ieq(s->status.state.ptr, s->status.state.len, state);
}

/* Polls GET /v1/sandboxes/{id} until Running (servers that answer create
 * with Pending). */
static osb_err osb__sb_wait_running(osb_sandbox *sb, int64_t deadline) {
    int delay = sb->opt.poll_ms;
    for (;;) {
        osb_sandbox_info *s = NULL;
        osb_err e = osb_sandbox_get(sb->c, sb->id, &s);
        if (e) return e;
        if (osb__sb_state_is(s, "Running")) { osb_result_free(s); return OSB_OK; }
        if (osb__sb_state_is(s, "Failed") || osb__sb_state_is(s, "Terminated")) {
            char msg[160];
            osb__fmt(msg, sizeof msg, "%.40s: %.110s", s->status.state.ptr,
                     s->status.message.ptr ? s->status.message.ptr : "");
            osb_result_free(s);
            return osb__sb_fail(sb->c, OSB_ERR_STATE, "sandbox did not start (%s)", msg);
        }
        osb_result_free(s);
        if (osb__now_ms() + delay >= deadline)
            return osb__sb_fail(sb->c, OSB_ERR_TIMEOUT, "sandbox %s did not reach Running in time", sb->id);
        osb__sleep_ms(delay);
        delay = delay * 2 > 2000 ? 2000 : delay * 2;
    }
}

/* The create request osb_sandbox_open sends: req with its defaults (time
 * to live, an entrypoint that keeps the container up, resource limits
 * unless a pool gives them). */
static void osb__sb_create_defaults(const osb_sandbox_create_req *req, osb_sandbox_create_req *r) {
    static const char *const default_entrypoint[] = {"tail", "-f", "/dev/null", NULL};
    static const osb_pair default_limits[] = {{"cpu", "1"}, {"memory", "2Gi"}};
    size_t i;
    int pool = 0;
    *r = *req;
    for (i = 0; i < r->extensions_count; i++)
        if (r->extensions[i].key && strcmp(r->extensions[i].key, "poolRef") == 0) pool = 1;
    if (r->timeout_s == 0) r->timeout_s = OSB_DEFAULT_SANDBOX_TIMEOUT_S;
    else if (r->timeout_s < 0) r->timeout_s = 0;
    if (!r->entrypoint && r->image && *r->image) r->entrypoint = default_entrypoint;
    if (!r->resource_limits_count && !pool) {
        r->resource_limits = default_limits;
        r->resource_limits_count = 2;
    }
}

OSB_API osb_err osb_sandbox_open(osb_client *c, const osb_sandbox_create_req *req,
                                 const osb_sandbox_options *opt, osb_sandbox **out) {
    osb_sandbox_create_req r;
    osb_sandbox_info *info = NULL;
    osb_sandbox *sb = NULL;
    osb_err e;
    if (out) *out = NULL;
    if (!c) return OSB_ERR_INVALID_ARG;
    if (!req || !out) return osb__call_fail(c, OSB_ERR_INVALID_ARG, "no create request or result pointer");
    osb__sb_create_defaults(req, &r);
    e = osb_sandbox_create(c, &r, &info);
    if (e) return e;
    if (!info->id.ptr || !*info->id.ptr) {
        osb_result_free(info);
        return osb__call_fail(c, OSB_ERR_JSON, "the create answer has no sandbox id");
    }
    e = osb__sb_new(c, info->id.ptr, opt, &sb);
    if (e) {
        osb_error saved = c->err;
        if (!(opt && opt->keep_on_failure)) osb_sandbox_delete(c, info->id.ptr);
        c->err = saved;
        osb_result_free(info);
        return e;
    }
    sb->created = info;
    if (info->status.state.ptr && !osb__sb_state_is(info, "Running"))
        e = osb__sb_wait_running(sb, osb__now_ms() + sb->opt.ready_timeout_ms);
    if (!e) e = osb__sb_reach(sb);
    if (e) {
        if (!sb->opt.keep_on_failure) {
            osb_error saved = c->err;
            osb_sandbox_delete(c, sb->id);
            c->err = saved;
        }
        osb__sb_free(sb);
        return e;
    }
    *out = sb;
    return OSB_OK;
}

OSB_API osb_err osb_sandbox_connect(osb_client *c, const char *sandbox_id,
                                    const osb_sandbox_options *opt, osb_sandbox **out) {
    osb_sandbox *sb = NULL;
    osb_err e;
    if (out) *out = NULL;
    if (!c) return OSB_ERR_INVALID_ARG;
    if (!sandbox_id || !*sandbox_id || !out) return osb__call_fail(c, OSB_ERR_INVALID_ARG, "no sandbox id");
    e = osb__sb_new(c, sandbox_id, opt, &sb);
    if (e) return e;
    sb->egress_optional = 1;
    e = osb_sandbox_resolve(sb);
    if (!e && !sb->opt.skip_health_check) e = osb_sandbox_wait_ready(sb, 0);
    if (e) {
        osb__sb_free(sb);
        return e;
    }
    *out = sb;
    return OSB_OK;
}

OSB_API void osb_sandbox_close(osb_sandbox *sb) { osb__sb_free(sb); }

OSB_API osb_err osb_sandbox_kill(osb_sandbox *sb) {
    if (!sb) return OSB_ERR_INVALID_ARG;
    return osb_sandbox_delete(sb->c, sb->id);
}

OSB_API osb_err osb_sandbox_suspend(osb_sandbox *sb) {
    if (!sb) return OSB_ERR_INVALID_ARG;
    return osb_sandbox_pause(sb->c, sb->id);
}

OSB_API osb_err osb_sandbox_wake(osb_sandbox *sb) {
    osb_err e;
    if (!sb) return OSB_ERR_INVALID_ARG;
    e = osb_sandbox_resume(sb->c, sb->id);
    if (e) return e;
    return osb__sb_reach(sb);
}

OSB_API osb_err osb_sandbox_extend(osb_sandbox *sb, int seconds, osb_renew_result **out) {
    char when[40];
    if (out) *out = NULL;
    if (!sb) return OSB_ERR_INVALID_ARG;
    if (seconds <= 0 || !osb_format_time((int64_t)time(NULL) + seconds, when, sizeof when))
        return osb__call_fail(sb->c, OSB_ERR_INVALID_ARG, "renew needs a positive duration");
    return osb_sandbox_renew(sb->c, sb->id, when, out);
}

OSB_API osb_client *osb_sandbox_client(const osb_sandbox *sb) { return sb ? sb->c : NULL; }
OSB_API const char *osb_sandbox_id(const osb_sandbox *sb) { return sb ? sb->id : NULL; }
OSB_API const osb_target *osb_sandbox_execd(const osb_sandbox *sb) {
    return sb && sb->t[0].url ? &sb->t[0] : NULL;
}
OSB_API const osb_target *osb_sandbox_egress(const osb_sandbox *sb) {
    return sb && sb->t[1].url ? &sb->t[1] : NULL;
}
OSB_API const osb_sandbox_info *osb_sandbox_created(const osb_sandbox *sb) { return sb ? sb->created : NULL; }

OSB_API osb_err osb_sandbox_describe(osb_sandbox *sb, osb_sandbox_info **out) {
    if (!sb) return OSB_ERR_INVALID_ARG;
    return osb_sandbox_get(sb->c, sb->id, out);
}

OSB_API osb_err osb_sandbox_set_metadata(osb_sandbox *sb, const osb_pair *patch, size_t count,
                                         osb_sandbox_info **out) {
    if (!sb) return OSB_ERR_INVALID_ARG;
    return osb_sandbox_metadata_patch(sb->c, sb->id, patch, count, out);
}

OSB_API osb_err osb_sandbox_expose(osb_sandbox *sb, int port, osb_endpoint **out) {
    osb_endpoint_req er;
    if (!sb) return OSB_ERR_INVALID_ARG;
    memset(&er, 0, sizeof er);
    er.use_server_proxy = sb->opt.use_server_proxy > 0;
    return osb_sandbox_endpoint(sb->c, sb->id, port, &er, out);
}

OSB_API osb_err osb_sandbox_expose_signed(osb_sandbox *sb, int port, int64_t expires, osb_endpoint **out) {
    osb_endpoint_req er;
    if (out) *out = NULL;
    if (!sb) return OSB_ERR_INVALID_ARG;
    if (expires <= 0) return osb__call_fail(sb->c, OSB_ERR_INVALID_ARG, "a signed route needs an expiry");
    memset(&er, 0, sizeof er);
    er.expires = expires;
    return osb_sandbox_endpoint(sb->c, sb->id, port, &er, out);
}

OSB_API osb_err osb_sandbox_snapshot(osb_sandbox *sb, const char *name, int wait_ms, osb_snapshot **out) {
    osb_snapshot *s = NULL;
    osb_err e;
    int64_t deadline;
    int delay = 100;
    if (out) *out = NULL;
    if (!sb) return OSB_ERR_INVALID_ARG;
    e = osb_snapshot_create(sb->c, sb->id, name, &s);
    if (e) return e;
    deadline = osb__now_ms() + wait_ms;
    while (wait_ms > 0) {
        osb_snapshot *n = NULL;
        if (s->status.state.ptr && osb__ieq(s->status.state.ptr, s->status.state.len, "Ready")) break;
        if (s->status.state.ptr && osb__ieq(s->status.state.ptr, s->status.state.len, "Failed")) {
            e = osb__sb_fail(sb->c, OSB_ERR_STATE, "snapshot failed: %.200s",
                             s->status.message.ptr ? s->status.message.ptr : "");
            break;
        }
        if (osb__now_ms() + delay >= deadline) {
            e = osb__sb_fail(sb->c, OSB_ERR_TIMEOUT, "snapshot %.100s not ready in time", s->id.ptr);
            break;
        }
        osb__sleep_ms(delay);
        delay = delay * 2 > 1000 ? 1000 : delay * 2;
        e = osb_snapshot_get(sb->c, s->id.ptr, &n);
        if (e) break;
        osb_result_free(s);
        s = n;
    }
    if (out) *out = s;
    else osb_result_free(s);
    return e;
}

OSB_API osb_err osb_sandbox_diagnostics(osb_sandbox *sb, const osb_diagnostics_text_req *req, osb_text **out) {
    if (!sb) return OSB_ERR_INVALID_ARG;
    return osb_diagnostics_text(sb->c, sb->id, req, out);
}

/* The egress target, or OSB_ERR_STATE when it was not resolved. */
#define OSB__SB_EGRESS(sb, out)                                                                      \
    do {                                                                                             \
        if (out) *(out) = NULL;                                                                      \
        if (!(sb)) return OSB_ERR_INVALID_ARG;                                                       \
        if (!(sb)->t[1].url)                                                                         \
            return osb__call_fail((sb)->c, OSB_ERR_STATE, "the egress endpoint is not resolved");    \
    } while (0)

#if !OSB_NO_EGRESS
OSB_API osb_err osb_sandbox_egress_policy(osb_sandbox *sb, osb_egress_status **out) {
    OSB__SB_EGRESS(sb, out);
    return osb_egress_policy_get(sb->c, &sb->t[1], out);
}
OSB_API osb_err osb_sandbox_egress_patch(osb_sandbox *sb, const osb_network_rule *rules, size_t count,
                                         osb_egress_status **out) {
    OSB__SB_EGRESS(sb, out);
    return osb_egress_policy_patch(sb->c, &sb->t[1], rules, count, out);
}
OSB_API osb_err osb_sandbox_egress_delete(osb_sandbox *sb, const char *const *targets, size_t count,
                                          osb_egress_status **out) {
    OSB__SB_EGRESS(sb, out);
    return osb_egress_policy_delete(sb->c, &sb->t[1], targets, count, out);
}
#endif /* OSB_NO_EGRESS */
#if !OSB_NO_VAULT
OSB_API osb_err osb_sandbox_vault_create(osb_sandbox *sb, const osb_vault_create_req *req, osb_vault_state **out) {
    OSB__SB_EGRESS(sb, out);
    return osb_vault_create(sb->c, &sb->t[1], req, out);
}
OSB_API osb_err osb_sandbox_vault_get(osb_sandbox *sb, osb_vault_state **out) {
    OSB__SB_EGRESS(sb, out);
    return osb_vault_get(sb->c, &sb->t[1], out);
}
OSB_API osb_err osb_sandbox_vault_patch(osb_sandbox *sb, const osb_vault_patch_req *req, osb_vault_state **out) {
    OSB__SB_EGRESS(sb, out);
    return osb_vault_patch(sb->c, &sb->t[1], req, out);
}
OSB_API osb_err osb_sandbox_vault_delete(osb_sandbox *sb) {
    osb_vault_state **none = NULL;
    OSB__SB_EGRESS(sb, none);
    return osb_vault_delete(sb->c, &sb->t[1]);
}
OSB_API osb_err osb_sandbox_vault_credentials(osb_sandbox *sb, osb_vault_state **out) {
    OSB__SB_EGRESS(sb, out);
    return osb_vault_credential_list(sb->c, &sb->t[1], out);
}
OSB_API osb_err osb_sandbox_vault_bindings(osb_sandbox *sb, osb_vault_state **out) {
    OSB__SB_EGRESS(sb, out);
    return osb_vault_binding_list(sb->c, &sb->t[1], out);
}
#endif /* OSB_NO_VAULT */


/* >>impl-sandbox-execd ----------------------------------------------------- */

#define OSB__SB_EXECD(sb)                                                                            \
    do {                                                                                             \
        if (!(sb)) return OSB_ERR_INVALID_ARG;                                                       \
        if (!(sb)->t[0].url)                                                                         \
            return osb__call_fail((sb)->c, OSB_ERR_STATE, "the execd endpoint is not resolved");     \
    } while (0)

OSB_API osb_err osb_sandbox_run(osb_sandbox *sb, const char *command, osb_event_fn on_event, void *user,
                                osb_execution *x) {
    osb_command_request r;
    OSB__SB_EXECD(sb);
    memset(&r, 0, sizeof r);
    r.command = command;
    return osb_command_run(sb->c, &sb->t[0], &r, on_event, user, x);
}

OSB_API osb_err osb_sandbox_command(osb_sandbox *sb, const osb_command_request *req, osb_event_fn on_event,
                                    void *user, osb_execution *x) {
    OSB__SB_EXECD(sb);
    return osb_command_run(sb->c, &sb->t[0], req, on_event, user, x);
}

OSB_API osb_err osb_sandbox_start(osb_sandbox *sb, const char *command, char *id, size_t cap) {
    osb_command_request r;
    OSB__SB_EXECD(sb);
    memset(&r, 0, sizeof r);
    r.command = command;
    return osb_command_start(sb->c, &sb->t[0], &r, id, cap);
}

OSB_API osb_err osb_sandbox_follow(osb_sandbox *sb, const char *id, osb_write_fn sink, void *user, int *exit_code) {
    OSB__SB_EXECD(sb);
    return osb_command_follow(sb->c, &sb->t[0], id, sink, user, NULL, 0, NULL, exit_code);
}

OSB_API osb_err osb_sandbox_interrupt(osb_sandbox *sb, const char *id) {
    OSB__SB_EXECD(sb);
    return osb_command_interrupt(sb->c, &sb->t[0], id);
}

#if !OSB_NO_SESSION
OSB_API osb_err osb_sandbox_session(osb_sandbox *sb, const char *cwd, char *id, size_t cap) {
    OSB__SB_EXECD(sb);
    return osb_session_create(sb->c, &sb->t[0], cwd, id, cap);
}

OSB_API osb_err osb_sandbox_session_run(osb_sandbox *sb, const char *session_id, const char *command,
                                        osb_event_fn on_event, void *user, osb_execution *x) {
    osb_session_run_request r;
    OSB__SB_EXECD(sb);
    memset(&r, 0, sizeof r);
    r.command = command;
    return osb_session_run(sb->c, &sb->t[0], session_id, &r, on_event, user, x);
}
#endif /* OSB_NO_SESSION */

#if !OSB_NO_CODE
OSB_API osb_err osb_sandbox_code_context(osb_sandbox *sb, const char *language, osb_code_context **out) {
    if (out) *out = NULL;
    OSB__SB_EXECD(sb);
    return osb_code_context_create(sb->c, &sb->t[0], language ? language : "python", NULL, out);
}

OSB_API osb_err osb_sandbox_code(osb_sandbox *sb, const char *context_id, const char *language, const char *code,
                                 osb_event_fn on_event, void *user, osb_execution *x) {
    osb_code_request r;
    OSB__SB_EXECD(sb);
    memset(&r, 0, sizeof r);
    r.code = code;
    r.context_id = context_id;
    r.language = language ? language : "python";
    return osb_code_run(sb->c, &sb->t[0], &r, on_event, user, x);
}
#endif /* OSB_NO_CODE */

OSB_API osb_err osb_sandbox_write_file(osb_sandbox *sb, const char *path, const void *data, size_t len) {
    osb_upload_file f;
    OSB__SB_EXECD(sb);
    memset(&f, 0, sizeof f);
    f.path = path;
    f.data = data;
    f.size = len;
    return osb_files_upload(sb->c, &sb->t[0], &f, 1);
}

OSB_API osb_err osb_sandbox_read_file(osb_sandbox *sb, const char *path, osb_buf *out) {
    osb_download_request r;
    OSB__SB_EXECD(sb);
    memset(&r, 0, sizeof r);
    r.path = path;
    return osb_files_download(sb->c, &sb->t[0], &r, osb_buf_sink, out, NULL);
}

OSB_API osb_err osb_sandbox_read_lines(osb_sandbox *sb, const char *path, int64_t first_line,
                                       int64_t max_lines, osb_buf *out) {
    osb_download_request r;
    OSB__SB_EXECD(sb);
    if (first_line < 1 || max_lines < 0)
        return osb__call_fail(sb->c, OSB_ERR_INVALID_ARG, "lines start at 1 and a count is not negative");
    memset(&r, 0, sizeof r);
    r.path = path;
    r.line_offset = first_line;
    r.line_limit = max_lines;
    return osb_files_download(sb->c, &sb->t[0], &r, osb_buf_sink, out, NULL);
}

/* Progress-reporting reader and writer for the transfer shortcuts. */
typedef struct osb__sb_xfer {
    FILE *f;
    uint64_t done, total;
    osb_progress_fn progress;
    void *user;
    int stopped;
} osb__sb_xfer;

static ptrdiff_t osb__sb_xfer_read(void *user, void *buf, size_t cap) {
    osb__sb_xfer *t = (osb__sb_xfer *)user;
    size_t got;
    if (t->total - t->done < cap) cap = (size_t)(t->total - t->done);
    if (cap == 0) return 0;
    got = fread(buf, 1, cap, t->f);
    if (got == 0) return -1;              /* the file shrank or failed */
    t->done += got;
    if (t->progress && t->progress(t->user, t->done, t->total)) { t->stopped = 1; return -1; }
    return (ptrdiff_t)got;
}

static int osb__sb_xfer_write(void *user, const void *data, size_t len) {
    osb__sb_xfer *t = (osb__sb_xfer *)user;
    if (fwrite(data, 1, len, t->f) != len) return 1;
    t->done += len;
    if (t->progress && t->progress(t->user, t->done, t->total)) { t->stopped = 1; return 1; }
    return 0;
}

OSB_API osb_err osb_sandbox_upload(osb_sandbox *sb, const char *local_path, const char *remote_path,
                                   osb_progress_fn progress, void *user) {
    osb__sb_xfer t;
    osb_upload_file f;
    osb_err e;
    long size;
    OSB__SB_EXECD(sb);
    memset(&t, 0, sizeof t);
    if (!local_path || !(t.f = fopen(local_path, "rb")))
        return osb__sb_fail(sb->c, OSB_ERR_IO, "cannot open %.200s", local_path ? local_path : "(null)");
    if (fseek(t.f, 0, SEEK_END) != 0 || (size = ftell(t.f)) < 0 || fseek(t.f, 0, SEEK_SET) != 0) {
        fclose(t.f);
        return osb__sb_fail(sb->c, OSB_ERR_IO, "cannot size %.200s", local_path);
    }
    t.total = (uint64_t)size;
    t.progress = progress;
    t.user = user;
    memset(&f, 0, sizeof f);
    f.path = remote_path;
    f.size = t.total;
    f.read = osb__sb_xfer_read;
    f.read_user = &t;
    e = osb_files_upload(sb->c, &sb->t[0], &f, 1);
    fclose(t.f);
    if (e && t.stopped) return osb__call_fail(sb->c, OSB_ERR_CANCELLED, "the progress callback stopped the upload");
    return e;
}

OSB_API osb_err osb_sandbox_download(osb_sandbox *sb, const char *remote_path, const char *local_path,
                                     osb_progress_fn progress, void *user) {
    osb__sb_xfer t;
    osb_download_request r;
    osb_err e;
    OSB__SB_EXECD(sb);
    memset(&t, 0, sizeof t);
    if (progress && remote_path) {   /* the size, for the progress total */
        osb_file_info_list *info = NULL;
        if (osb_files_info(sb->c, &sb->t[0], &remote_path, 1, &info) == OSB_OK && info->count == 1 &&
            info->items[0].size > 0)
            t.total = (uint64_t)info->items[0].size;
        osb_result_free(info);
    }
    if (!local_path || !(t.f = fopen(local_path, "wb")))
        return osb__sb_fail(sb->c, OSB_ERR_IO, "cannot create %.200s", local_path ? local_path : "(null)");
    t.progress = progress;
    t.user = user;
    memset(&r, 0, sizeof r);
    r.path = remote_path;
    e = osb_files_download(sb->c, &sb->t[0], &r, osb__sb_xfer_write, &t, NULL);
    if (fclose(t.f) != 0 && !e) e = osb__sb_fail(sb->c, OSB_ERR_IO, "cannot write %.200s", local_path);
    return e;
}

OSB_API osb_err osb_sandbox_list_dir(osb_sandbox *sb, const char *path, int depth, osb_file_info_list **out) {
    if (out) *out = NULL;
    OSB__SB_EXECD(sb);
    return osb_dir_list(sb->c, &sb->t[0], path, depth, out);
}

OSB_API osb_err osb_sandbox_metrics(osb_sandbox *sb, osb_metrics **out) {
    if (out) *out = NULL;
    OSB__SB_EXECD(sb);
    return osb_metrics_get(sb->c, &sb->t[0], out);
}

OSB_API osb_err osb_sandbox_watch(osb_sandbox *sb, osb_event_fn on_event, void *user, const volatile int *cancel) {
    OSB__SB_EXECD(sb);
    return osb_metrics_watch(sb->c, &sb->t[0], on_event, user, cancel);
}

#if !OSB_NO_PTY
OSB_API osb_err osb_sandbox_shell(osb_sandbox *sb, const osb_pty_request *req,
                                  const osb_pty_attach_options *o, osb_pty **out) {
    char id[OSB_EXEC_ID_MAX];
    osb_err e;
    if (out) *out = NULL;
    OSB__SB_EXECD(sb);
    e = osb_pty_create(sb->c, &sb->t[0], req, id, sizeof id);
    if (e) return e;
    e = osb_pty_attach(sb->c, &sb->t[0], id, o, out);
    if (e) {
        osb_error keep = sb->c->err;
        osb_pty_delete(sb->c, &sb->t[0], id);
        sb->c->err = keep;
    }
    return e;
}
#endif /* OSB_NO_PTY */

/* >>impl-manager ----------------------------------------------------------- */

#if !OSB_NO_MANAGER
OSB_API osb_err osb_manager_list(osb_client *c, const osb_sandbox_list_req *req, osb_sandbox_page **out) {
    return osb_sandbox_list(c, req, out);
}

OSB_API osb_err osb_manager_get(osb_client *c, const char *sandbox_id, osb_sandbox_info **out) {
    return osb_sandbox_get(c, sandbox_id, out);
}

OSB_API osb_err osb_manager_kill(osb_client *c, const char *const *ids, size_t count, osb_err *results) {
    osb_err first = OSB_OK;
    osb_error first_detail;
    size_t i;
    memset(&first_detail, 0, sizeof first_detail);
    for (i = 0; i < count; i++) {
        osb_err e = osb_sandbox_delete(c, ids[i]);
        if (results) results[i] = e;
        if (e && !first) {
            first = e;
            first_detail = c->err;
        }
    }
    if (first) c->err = first_detail;
    return first;
}

OSB_API void osb_manager_iter(osb_sandbox_iter *it, osb_client *c, const osb_sandbox_list_req *filter) {
    memset(it, 0, sizeof *it);
    it->c = c;
    if (filter) it->req = *filter;
    if (it->req.page <= 0) it->req.page = 1;
    if (it->req.page_size <= 0) it->req.page_size = 100;
}

OSB_API osb_err osb_manager_next(osb_sandbox_iter *it, const osb_sandbox_info **item) {
    *item = NULL;
    if (it->err) return it->err;
    for (;;) {
        if (it->page && it->index < it->page->items_count) {
            *item = &it->page->items[it->index++];
            return OSB_OK;
        }
        if (it->done) return OSB_OK;
        if (it->page) {
            int more = it->page->pagination.has_next_page && it->page->items_count > 0;
            osb_result_free(it->page);
            it->page = NULL;
            if (!more) { it->done = 1; return OSB_OK; }
            it->req.page++;
        }
        it->index = 0;
        it->err = osb_sandbox_list(it->c, &it->req, &it->page);
        if (it->err) return it->err;
    }
}

OSB_API void osb_manager_iter_free(osb_sandbox_iter *it) {
    osb_result_free(it->page);
    it->page = NULL;
    it->done = 1;
}
#endif /* OSB_NO_MANAGER */

OSB_API const char *osb_build_config(void) {
    return "version=" OSB_VERSION_STRING
#if OSB_TLS
           " tls=bearssl"
#else
           " tls=none"
#endif
        ;
}

/* >>impl-multi ------------------------------------------------------------- */
#if !OSB_NO_MULTI

#ifndef OSB_MULTI_IO_BUFFER
#  define OSB_MULTI_IO_BUFFER 8192    /* receive buffer of a multi's connection (a head
                                         that needs more grows it, as everywhere) */
#endif
#ifndef OSB_MULTI_STREAM_BUFFER
#  define OSB_MULTI_STREAM_BUFFER 2048  /* first event buffer of a multi's stream (it grows
                                           as events need, as every stream's does) */
#endif
#ifndef OSB_MULTI_STEP_READS
#  define OSB_MULTI_STEP_READS 32     /* body pieces per transfer per turn, so one busy
                                         stream cannot starve the others */
#endif
#ifndef OSB_MULTI_STEP_WRITES
#  define OSB_MULTI_STEP_WRITES 32    /* sends per transfer per turn, so one big upload to
                                         a fast reader cannot starve the others */
#endif

enum { OSB__TS_QUEUED, OSB__TS_RESOLVE, OSB__TS_CONNECT, OSB__TS_TLS, OSB__TS_SEND, OSB__TS_HEAD, OSB__TS_BODY, OSB__TS_DONE };
enum { OSB__TK_RAW, OSB__TK_CALL, OSB__TK_STREAM };

/* A host's addresses, resolved once per multi, in connect order. */
typedef struct osb__mdns {
    struct osb__mdns *next;
    char host[256];
    uint16_t port;
    osb__addr order[OSB__MAX_ADDRS];
    size_t n;
} osb__mdns;

struct osb_transfer {
    osb_multi *m;
    osb_transfer *next;
    int state, kind;
    osb_transfer_config tc;
    osb_http_request req;         /* the caller's; its head is already in out */
    osb_url url;
    osb_buf out;                  /* request head, with a small body joined */
    size_t out_off;
    const char *big;              /* a body over OSB__JOIN_BODY, sent from the caller's memory */
    size_t big_len, big_off;
    const char *stage;            /* a reader's piece staged in the connection buffer */
    size_t stage_len;
    int stage_last, stage_done;
    uint64_t reader_sent;
    int64_t body_after;           /* osb__body_after_head of the request */
    const osb__proxy *px;         /* the proxy it goes through, or NULL */
    int route;                    /* OSB__ROUTE_* */
    osb__mdns *dns;
#if OSB_DNS
    osb__dns *lookup;             /* its host being resolved (state RESOLVE), else NULL: in
                                     state RESOLVE then it waits on another transfer's lookup */
#endif
    size_t at;                    /* address being tried */
    osb__socket fd;               /* its connect under way */
    int sys_err, timed_out;
    char tried[160];
    int fresh, attempt, idempotent, is_head, ready, drain;
    int first_ms;
    int64_t connect_deadline, addr_deadline, head_deadline, total_deadline, deadline;
    osb_body b;
    osb_http_response res;
    char *errbody;                /* an error status's body, for the detail */
    size_t errlen;
    osb_stream *stream;
    const osb_type *type;         /* a typed call's result */
    void *result;
    struct osb__upload *upload;   /* an upload's parts and body, freed with it */
    osb_error err;
};

struct osb_multi {
    osb_client *c;
    osb_multi_config cfg;
    osb_transfer *head, *tail;    /* ended ones stay (state DONE) until the turn ends */
    int count;                    /* not ended */
    int active;                   /* started, not ended */
    int sched;                    /* a queued transfer may start */
    int depth;                    /* inside a turn: ended transfers are freed at its end */
    osb__mdns *dns;
    const osb_transfer_config *defer_tc;
    osb_transfer *deferred;
    osb__pollfd *pfd;
    osb_transfer **pt;
    size_t pcap;
};

OSB_API osb_err osb_multi_new(osb_client *c, const osb_multi_config *cfg, osb_multi **out) {
    osb_multi *m;
    if (out) *out = NULL;
    if (!c || !out) return OSB_ERR_INVALID_ARG;
    if (cfg && (cfg->max_per_host < 0 || cfg->max_total < 0)) {
        osb__set_error(&c->err, OSB_ERR_INVALID_ARG, "max_per_host and max_total must not be negative");
        return OSB_ERR_INVALID_ARG;
    }
    m = (osb_multi *)osb__alloc(c->alloc, sizeof *m);
    if (!m) return OSB_ERR_NOMEM;
    memset(m, 0, sizeof *m);
    m->c = c;
    if (cfg) m->cfg = *cfg;
    *out = m;
    return OSB_OK;
}

OSB_API int osb_multi_running(const osb_multi *m) { return m ? m->count : 0; }
OSB_API const osb_http_response *osb_transfer_response(const osb_transfer *t) { return t ? t->b.res : NULL; }
OSB_API void *osb_transfer_user(const osb_transfer *t) { return t ? t->tc.user : NULL; }
OSB_API void *osb_transfer_take_result(osb_transfer *t) {
    void *r = t ? t->result : NULL;
    if (t) t->result = NULL;
    return r;
}

/* ---- ending ---- */

#if OSB_DNS
static int osb__t_same_host(const osb_transfer *a, const osb_transfer *b) {
    return a->url.port == b->url.port && !strcmp(a->url.host, b->url.host);
}

/* Ends t's lookup. The transfers waiting on it go on at the next sweep:
 * with the addresses it found (the multi's now), or else with a lookup of
 * their own. */
static void osb__t_lookup_drop(osb_transfer *t) {
    osb_transfer *o;
    osb__dns_close(t->lookup);
    osb__free(t->m->c->alloc, t->lookup);
    t->lookup = NULL;
    for (o = t->m->head; o; o = o->next)
        if (o != t && o->state == OSB__TS_RESOLVE && !o->lookup && osb__t_same_host(o, t)) o->ready = 1;
}
#endif

/* Ends a transfer: gives its connection back (to the pool when the
 * exchange ended cleanly), fills its error detail from the client's (the
 * scratch of the step that failed) and calls on_done. Freed later, when
 * the turn ends (osb__multi_reap), so that pointers held by the turn stay
 * valid. */
static void osb__t_end(osb_transfer *t, osb_err e) {
    osb_multi *m = t->m;
    osb_client *c = m->c;
    if (t->state == OSB__TS_DONE) return;
    if (t->state != OSB__TS_QUEUED) m->active--;
    t->state = OSB__TS_DONE;
    m->count--;
    m->sched = 1;
    if (t->fd != OSB__BAD_SOCKET) osb__sock_close(t->fd);
    t->fd = OSB__BAD_SOCKET;
#if OSB_DNS
    if (t->lookup) osb__t_lookup_drop(t);
#endif
    if (t->b.conn) osb__body_end(&t->b);
    if (e) {
        t->err = c->err;
        t->err.code = e;
        if (!t->err.message[0]) osb__set_error(&t->err, e, "%s", osb_strerror(e));
    } else {
        osb__reset_error(&t->err);
    }
    if (!t->err.http_status) t->err.http_status = t->b.res->status;
    if (!t->err.request_id[0]) memcpy(t->err.request_id, t->b.res->request_id, sizeof t->err.request_id);
    t->err.attempts = t->attempt + 1;
    if (t->tc.on_done) t->tc.on_done(t->tc.user, t, e, &t->err);
}

static osb_err osb__t_fail(osb_transfer *t, osb_err e, const char *msg) {
    osb__reset_error(&t->m->c->err);
    osb__set_error(&t->m->c->err, e, "%s", msg);
    osb__t_end(t, e);
    return e;
}

static void osb__t_free(osb_transfer *t) {
    const osb_allocator *a = t->m->c->alloc;
    osb_buf_free(&t->out);
    osb_http_response_free(&t->res);
    osb__free(a, t->errbody);
    if (t->stream) {
        t->stream->body = NULL;   /* the transfer's, already given back */
        osb_stream_close(t->stream);
    }
    if (t->result) osb_result_free(t->result);
    if (t->upload) {
        osb__upload_free(t->upload);
        osb__free(a, t->upload);
    }
    osb__free(a, t);
}

/* Frees the ended transfers once no turn is running. */
static void osb__multi_reap(osb_multi *m) {
    osb_transfer **pp = &m->head, *last = NULL;
    if (m->depth) return;
    while (*pp) {
        osb_transfer *t = *pp;
        if (t->state == OSB__TS_DONE) {
            *pp = t->next;
            osb__t_free(t);
        } else {
            last = t;
            pp = &t->next;
        }
    }
    m->tail = last;
}

OSB_API void osb_multi_cancel(osb_multi *m, osb_transfer *t) {
    if (!m || !t || t->m != m || t->state == OSB__TS_DONE) return;
    m->depth++;
    osb__t_fail(t, OSB_ERR_CANCELLED, "cancelled");
    m->depth--;
    osb__multi_reap(m);
}

OSB_API void osb_multi_free(osb_multi *m) {
    osb_transfer *t;
    if (!m) return;
    m->depth++;
    for (t = m->head; t; t = t->next) osb_multi_cancel(m, t);
    m->depth--;
    osb__multi_reap(m);
    while (m->dns) {
        osb__mdns *d = m->dns;
        m->dns = d->next;
        osb__free(m->c->alloc, d);
    }
    osb__free(m->c->alloc, m->pfd);
    osb__free(m->c->alloc, m->pt);
    osb__free(m->c->alloc, m);
}

/* ---- adding ---- */

static osb_err osb__multi_add_req(osb_multi *m, const osb_http_request *req, const osb_transfer_config *tc,
                                  int kind, osb_transfer **out) {
    osb_client *c = m->c;
    osb_transfer *t;
    const osb_url *u;
    const char *method = req->method ? req->method : "GET";
    int total_ms;
    osb_err e;
    t = (osb_transfer *)osb__alloc(c->alloc, sizeof *t);
    if (!t) {
        osb__set_error(&c->err, OSB_ERR_NOMEM, "out of memory");
        return OSB_ERR_NOMEM;
    }
    memset(t, 0, sizeof *t);
    t->m = m;
    t->kind = kind;
    t->fd = OSB__BAD_SOCKET;
    if (tc) t->tc = *tc;
    osb__reset_error(&c->err);
    osb_buf_init(&t->out, c->alloc);
    osb_buf_init(&t->res.body, c->alloc);
    e = osb__request_head(c, req, &t->url, &u, 0, &t->px, &t->route, &c->err);
    if (!e) {
        if (u != &t->url) t->url = *u;
        osb_buf_append(&t->out, c->scratch.data, c->scratch.len);
        t->body_after = osb__body_after_head(req);
        if (req->body && t->body_after == 0) osb_buf_append(&t->out, req->body, req->body_len);
        else if (req->body) {
            t->big = (const char *)req->body;
            t->big_len = req->body_len;
        }
        if (t->out.failed) {
            osb__set_error(&c->err, OSB_ERR_NOMEM, "out of memory");
            e = OSB_ERR_NOMEM;
        }
    }
    if (e) {
        osb_buf_free(&t->out);
        osb__free(c->alloc, t);
        return e;
    }
    /* what the head holds is not needed again; the rest stays the caller's */
    t->req = *req;
    t->req.url = t->req.path = t->req.query = t->req.content_type = t->req.accept = NULL;
    t->req.headers = NULL;
    t->req.method = NULL;
    t->req.body = NULL;
    if (!req->body_reader || req->body) t->req.body_reader = NULL;
    t->idempotent = req->idempotent ? req->idempotent > 0 : osb__method_idempotent(method);
    t->is_head = !strcmp(method, "HEAD");
    t->first_ms = osb__timeout_or(req->timeouts.first_byte_ms, c->timeouts.first_byte_ms);
    total_ms = req->stream ? 0 : osb__timeout_or(req->timeouts.total_ms, c->timeouts.total_ms);
    t->total_deadline = osb__earlier(osb__deadline_in(total_ms), osb__deadline_in(t->tc.timeout_ms));
    t->res.content_length = -1;
    t->res.retry_after_ms = -1;
    t->res.body.max = req->max_body ? req->max_body : OSB_BODY_MAX;
    t->b.cl = c;
    t->b.res = &t->res;
    t->b.cancel = req->cancel;
    t->b.idle_ms = osb__timeout_or(req->timeouts.idle_ms, c->timeouts.idle_ms);
    t->b.total_deadline = t->total_deadline;
    t->state = OSB__TS_QUEUED;
    t->deadline = t->total_deadline;
    if (m->tail) m->tail->next = t;
    else m->head = t;
    m->tail = t;
    m->count++;
    m->sched = 1;
    if (out) *out = t;
    return OSB_OK;
}

OSB_API osb_err osb_multi_add(osb_multi *m, const osb_http_request *req, const osb_transfer_config *tc,
                              osb_transfer **out) {
    if (out) *out = NULL;
    if (!m || !req) return OSB_ERR_INVALID_ARG;
    return osb__multi_add_req(m, req, tc, OSB__TK_RAW, out);
}

/* Hands a typed call's request (and its result type, or its stream) to the
 * multi that captures calls on c (c->defer). */
static osb_err osb__multi_defer(osb_client *c, const osb_http_request *req, const osb_type *type,
                                osb_stream *s) {
    osb_multi *m = (osb_multi *)c->defer;
    osb_transfer *t;
    osb_err e = osb__multi_add_req(m, req, m->defer_tc, s ? OSB__TK_STREAM : OSB__TK_CALL, &t);
    if (e) return e;
    t->type = type;
    if (s) {
        char *small = (char *)osb__realloc(c->alloc, s->evbuf, s->evcap, OSB_MULTI_STREAM_BUFFER);
        if (small) {   /* nothing decoded yet: a waiting stream keeps a small buffer */
            s->evbuf = small;
            s->evcap = OSB_MULTI_STREAM_BUFFER;
            osb_sse_set_buffer(&s->sse, s->evbuf, s->evcap);
        }
        t->stream = s;
        s->body = &t->b;
        s->res = t->res;          /* as initialised; the stream's is the one filled */
        t->b.res = &s->res;
    }
    m->deferred = t;
    return OSB_OK;
}

/* A typed adder: the typed call, run with c->defer set, hands its request
 * to osb__multi_defer instead of sending it. */
static void osb__multi_capture(osb_multi *m, const osb_transfer_config *tc) {
    m->c->defer = m;
    m->c->defer_fn = osb__multi_defer;
    m->defer_tc = tc;
    m->deferred = NULL;
}

static osb_err osb__multi_captured(osb_multi *m, osb_err e, osb_transfer **out) {
    m->c->defer = NULL;
    if (!e && !m->deferred) e = OSB_ERR_STATE;
    if (out) *out = e ? NULL : m->deferred;
    return e;
}

OSB_API osb_err osb_multi_command(osb_multi *m, const osb_target *execd, const osb_command_request *req,
                                  const osb_transfer_config *tc, osb_transfer **out) {
    osb_stream *s = NULL;
    osb_err e;
    if (out) *out = NULL;
    if (!m) return OSB_ERR_INVALID_ARG;
    if (tc && tc->execution) osb__ex_exec_begin(m->c, tc->execution, 1);
    osb__multi_capture(m, tc);
    e = osb__ex_command_open(m->c, execd, req, 0, &s);
    return osb__multi_captured(m, e, out);
}

OSB_API osb_err osb_multi_metrics_watch(osb_multi *m, const osb_target *execd, const osb_transfer_config *tc,
                                        osb_transfer **out) {
    osb_stream *s = NULL;
    osb_err e;
    if (out) *out = NULL;
    if (!m) return OSB_ERR_INVALID_ARG;
    if (tc && tc->execution) osb__ex_exec_begin(m->c, tc->execution, 0);
    osb__multi_capture(m, tc);
    e = osb_metrics_stream(m->c, execd, NULL, &s);
    return osb__multi_captured(m, e, out);
}

OSB_API osb_err osb_multi_file_download(osb_multi *m, const osb_target *execd, const char *path,
                                        osb_write_fn sink, void *sink_user, const osb_transfer_config *tc,
                                        osb_transfer **out) {
    osb_client *c;
    osb__call k;
    osb_http_request req;
    char url[1400];
    osb_err e;
    if (out) *out = NULL;
    if (!m) return OSB_ERR_INVALID_ARG;
    c = m->c;
    if (!path || !*path || !sink) return osb__call_fail(c, OSB_ERR_INVALID_ARG, "a path and a sink are required");
    if ((e = osb__target_url(c, execd, url, sizeof url)) != OSB_OK) return e;
    osb__ex_call_init(&k, c, "GET", execd);
    osb__call_path(&k, "/files/download");
    osb__call_query(&k, "path", path);
    if (k.err || k.query.failed) {
        osb__call_free(&k);
        return osb__call_fail(c, OSB_ERR_NOMEM, "out of memory");
    }
    memset(&req, 0, sizeof req);
    req.url = url;
    req.execd = 1;
    req.path = k.path.data;
    req.query = k.query.data;
    req.headers = execd->headers;
    req.sink = sink;
    req.sink_user = sink_user;
    req.stream = 1;               /* a long download has no total deadline */
    e = osb__multi_add_req(m, &req, tc, OSB__TK_RAW, out);
    osb__call_free(&k);
    return e;
}

OSB_API osb_err osb_multi_file_upload(osb_multi *m, const osb_target *execd, const osb_upload_file *files,
                                      size_t n, const osb_transfer_config *tc, osb_transfer **out) {
    osb__upload *u;
    osb_transfer *t = NULL;
    osb_err e;
    if (out) *out = NULL;
    if (!m) return OSB_ERR_INVALID_ARG;
    u = (osb__upload *)osb__alloc(m->c->alloc, sizeof *u);
    if (!u) return osb__call_fail(m->c, OSB_ERR_NOMEM, "out of memory");
    e = osb__upload_build(u, m->c, execd, files, n);
    if (!e) e = osb__multi_add_req(m, &u->req, tc, OSB__TK_RAW, &t);
    if (e) {
        osb__upload_free(u);
        osb__free(m->c->alloc, u);
        return e;
    }
    t->upload = u;   /* the transfer reads the body from it until it is freed */
    if (out) *out = t;
    return OSB_OK;
}

OSB_API osb_err osb_multi_sandbox_create(osb_multi *m, const osb_sandbox_create_req *req,
                                         const osb_transfer_config *tc, osb_transfer **out) {
    osb_sandbox_info *unused = NULL;
    if (out) *out = NULL;
    if (!m) return OSB_ERR_INVALID_ARG;
    osb__multi_capture(m, tc);
    return osb__multi_captured(m, osb_sandbox_create(m->c, req, &unused), out);
}

OSB_API osb_err osb_multi_sandbox_get(osb_multi *m, const char *sandbox_id, const osb_transfer_config *tc,
                                      osb_transfer **out) {
    osb_sandbox_info *unused = NULL;
    if (out) *out = NULL;
    if (!m) return OSB_ERR_INVALID_ARG;
    osb__multi_capture(m, tc);
    return osb__multi_captured(m, osb_sandbox_get(m->c, sandbox_id, &unused), out);
}

OSB_API osb_err osb_multi_sandbox_delete(osb_multi *m, const char *sandbox_id, const osb_transfer_config *tc,
                                         osb_transfer **out) {
    if (out) *out = NULL;
    if (!m) return OSB_ERR_INVALID_ARG;
    osb__multi_capture(m, tc);
    return osb__multi_captured(m, osb_sandbox_delete(m->c, sandbox_id), out);
}

/* ---- the steps ---- */

static osb_err osb__t_connect_next(osb_transfer *t);

/* Keeps the addresses of t's host for the multi's later transfers there. */
static osb_err osb__t_resolved(osb_transfer *t, const osb__addrs *res) {
    osb_multi *m = t->m;
    osb__mdns *d = (osb__mdns *)osb__alloc(m->c->alloc, sizeof *d);
    if (!d) {
        osb__set_error(&m->c->err, OSB_ERR_NOMEM, "out of memory");
        return OSB_ERR_NOMEM;
    }
    memset(d, 0, sizeof *d);
    memcpy(d->host, t->url.host, sizeof d->host);
    d->port = t->url.port;
    d->n = osb__addr_order(res, d->order, OSB__MAX_ADDRS);
    d->next = m->dns;
    m->dns = d;
    t->dns = d;
    return OSB_OK;
}

#if OSB_DNS
/* The lookup of t's host ended (st, or -1: the connect deadline passed):
 * the addresses, or the error, as the blocking resolution gives them. */
static osb_err osb__t_lookup_end(osb_transfer *t, int st) {
    osb__dns *q = t->lookup;
    osb_client *c = t->m->c;
    osb_err e = osb__resolve_outcome(&t->url, "", st == OSB__DNS_FOUND ? 0 : st == -1 ? -1 : 1, q->why, &q->out,
                                     &c->err);
    if (!e) e = osb__t_resolved(t, &q->out);
    osb__t_lookup_drop(t);
    return e;
}

static osb_err osb__t_resolve(osb_transfer *t);

/* The lookup's socket is ready or its try's time is up: on with it, then
 * to the connects. */
static osb_err osb__t_lookup_step(osb_transfer *t) {
    int64_t now = osb__now_ms();
    int st;
    osb_err e;
    if (t->connect_deadline && now >= t->connect_deadline) {
        if (!t->lookup) return osb__resolve_outcome(&t->url, "", -1, "", NULL, &t->m->c->err);
        return osb__t_lookup_end(t, -1);
    }
    if (!t->lookup) {   /* the lookup it waited on ended (or it runs still) */
        if ((e = osb__t_resolve(t)) != OSB_OK) return e;
        return osb__t_connect_next(t);
    }
    st = osb__dns_step(t->lookup, now);
    if (st == OSB__DNS_WAIT) return OSB__AGAIN;
    if ((e = osb__t_lookup_end(t, st)) != OSB_OK) return e;
    return osb__t_connect_next(t);
}
#endif

/* The addresses of t's host, resolved on the first transfer there; with
 * OSB_DNS a name is looked up without waiting (OSB__AGAIN, state RESOLVE),
 * once for all the transfers that want it while the lookup runs. */
static osb_err osb__t_resolve(osb_transfer *t) {
    osb_multi *m = t->m;
    osb__mdns *d;
    osb__addrs res;
    osb_err e;
    for (d = m->dns; d; d = d->next)
        if (d->port == t->url.port && !strcmp(d->host, t->url.host)) {
            t->dns = d;
            return OSB_OK;
        }
#if OSB_DNS
    if (!osb__parse_ip(t->url.host, (unsigned char *)res.a[0].ip)) {
        osb_transfer *o;
        int st;
        t->state = OSB__TS_RESOLVE;
        for (o = m->head; o; o = o->next)
            if (o != t && o->state == OSB__TS_RESOLVE && o->lookup && osb__t_same_host(o, t))
                return OSB__AGAIN;   /* its answer will do for t too */
        if (!(t->lookup = (osb__dns *)osb__alloc(m->c->alloc, sizeof *t->lookup))) {
            osb__set_error(&m->c->err, OSB_ERR_NOMEM, "out of memory");
            return OSB_ERR_NOMEM;
        }
        st = osb__dns_start(t->lookup, t->url.host, t->url.port, osb__now_ms());
        if (st != OSB__DNS_WAIT) return osb__t_lookup_end(t, st);
        return OSB__AGAIN;
    }
#endif
    if ((e = osb__resolve_checked(&t->url, "", t->connect_deadline, &res, &m->c->err)) != OSB_OK) return e;
    return osb__t_resolved(t, &res);
}

/* A connection is there (pooled or new): send. */
static void osb__t_attach(osb_transfer *t, osb__conn *k) {
    k->nb = 1;
    k->want = 0;
    k->cancel = t->req.cancel;
    t->b.conn = k;
    t->b.got_any = t->b.interim = 0;
    t->out_off = t->big_off = 0;
    t->state = OSB__TS_SEND;
    osb__sndbuf_for_upload(k, t->body_after);
}

static osb_err osb__t_connected(osb_transfer *t) {
    osb_client *c = t->m->c;
    osb__conn *k;
    osb__socket fd = t->fd;
    osb_err e;
    t->fd = OSB__BAD_SOCKET;
    if ((e = osb__conn_new(c, fd, &t->url, OSB_MULTI_IO_BUFFER, &k, &c->err)) != OSB_OK) return e;
    osb__t_attach(t, k);
#if OSB_TLS
    if (t->url.https) {
        osb__tls_ctx *ctx;
        e = osb__tls_ctx_of(c, &ctx, &c->err);
        if (!e) e = osb__tls_start(ctx, k, t->url.host, &c->err);
        if (e) return e;
        t->state = OSB__TS_TLS;
    }
#endif
    return OSB_OK;
}

/* Starts connects until one is under way or done; the error once every
 * address failed. */
static osb_err osb__t_connect_next(osb_transfer *t) {
    osb__mdns *d = t->dns;
    char eb[OSB__ERRNO_BUF];
    while (t->at < d->n) {
        int64_t now = osb__now_ms(), cd = t->connect_deadline;
        int r;
        if (cd && now >= cd) {
            t->timed_out = 1;
            break;
        }
        t->addr_deadline = cd && d->n - t->at > 1 ? now + (cd - now) / (int64_t)(d->n - t->at) : cd;
        r = osb__connect_start(&d->order[t->at], &t->fd, &t->sys_err);
        if (r == 0) return osb__t_connected(t);
        if (r == 1) {
            t->state = OSB__TS_CONNECT;
            return OSB__AGAIN;
        }
        osb__addr_note(t->tried, sizeof t->tried, &d->order[t->at], osb__errno_text(t->sys_err, eb));
        t->at++;
    }
    for (; t->at < d->n; t->at++) osb__addr_note(t->tried, sizeof t->tried, &d->order[t->at], "not tried");
    return osb__connect_failed(&t->url, "", t->tried, t->timed_out, t->sys_err, t->connect_deadline, &t->m->c->err);
}

/* The connect under way reported (writable, or its share of time is up). */
static osb_err osb__t_connect_done(osb_transfer *t, int timed_out) {
    char eb[OSB__ERRNO_BUF];
    if (!timed_out && osb__connect_result(t->fd, &t->sys_err) == 0) return osb__t_connected(t);
    osb__addr_note(t->tried, sizeof t->tried, &t->dns->order[t->at], timed_out ? "timed out" :
                   osb__errno_text(t->sys_err, eb));
    if (timed_out) t->timed_out = 1;
    osb__sock_close(t->fd);
    t->fd = OSB__BAD_SOCKET;
    t->at++;
    return osb__t_connect_next(t);
}

static osb_err osb__t_connect_begin(osb_transfer *t) {
    osb_client *c = t->m->c;
    osb_err e;
    t->fresh = 1;
    t->at = 0;
    t->tried[0] = 0;
    t->timed_out = t->sys_err = 0;
    t->connect_deadline = osb__earlier(osb__deadline_in(osb__timeout_or(t->req.timeouts.connect_ms, c->timeouts.connect_ms)),
                                       t->total_deadline);
    t->state = OSB__TS_CONNECT;
#if !OSB_TLS
    if (t->url.https) {
        osb__set_error(&c->err, OSB_ERR_UNSUPPORTED,
                       "https needs TLS: build the implementation with OSB_TLS=1 and link -lbearssl");
        return OSB_ERR_UNSUPPORTED;
    }
#endif
    if (t->px) {
        /* through a proxy the connect (and its CONNECT tunnel) is the
           blocking one, bounded by the connect deadline */
        osb__conn *k;
        if ((e = osb__connect(c, &t->url, t->px, t->route, t->connect_deadline, &k, &c->err)) != OSB_OK) return e;
        osb__t_attach(t, k);
        return OSB_OK;
    }
    if ((e = osb__t_resolve(t)) != OSB_OK) return e;
    return osb__t_connect_next(t);
}

static osb_err osb__t_start(osb_transfer *t) {
    osb__conn *k = osb__pool_take(t->m->c, &t->url, t->px, t->route);
    t->m->active++;
    if (!k) return osb__t_connect_begin(t);
    t->fresh = 0;
    osb__t_attach(t, k);
    return OSB_OK;
}

/* What the transport sends now: plain, or into the TLS engine. *sent > 0
 * on OSB_OK. */
static osb_err osb__t_send_some(osb__conn *k, const char *p, size_t n, size_t *sent, osb_error *err) {
#if OSB_TLS
    if (k->tls) {
        osb__tls_src src;
        osb_err e;
        memset(&src, 0, sizeof src);
        src.p = (const unsigned char *)p;
        e = osb__tls_send_src(k, &src, n, 0, err);
        *sent = (size_t)((const char *)src.p - p);
        if (e == OSB__AGAIN && *sent > 0) e = OSB_OK;   /* the rest of the records go out later */
        return e;
    }
#endif
    return osb__sock_send_some(k, p, n, sent, 0, err);
}

/* Sends the head, then the body (in memory or a reader's), resuming where
 * the last turn stopped. After OSB_MULTI_STEP_WRITES sends in one turn it
 * yields as a full socket would: OSB__AGAIN with the socket wanted for
 * writing, so the next turn goes on from the kept offsets at once. */
static osb_err osb__t_send(osb_transfer *t) {
    osb__conn *k = t->b.conn;
    osb_error *err = &t->m->c->err;
    int sends = 0;
    for (;;) {
        const char *p;
        size_t n, sent;
        uint64_t done;            /* of the body after the head, once this send is out */
        osb_err e;
        if (t->out_off < t->out.len) {
            p = t->out.data + t->out_off;
            n = t->out.len - t->out_off;
            done = 0;
        } else if (t->big_off < t->big_len) {
            p = t->big + t->big_off;
            n = t->big_len - t->big_off;
            done = t->big_len;
        } else if (t->req.body_reader && !t->stage_done) {
            if (t->stage_len == 0) {
                if (t->stage_last) {
                    t->stage_done = 1;
                } else if ((e = osb__reader_stage(k, &t->req, &t->reader_sent, &t->stage, &t->stage_len,
                                                  &t->stage_last, err)) != OSB_OK) {
                    return e;
                }
                continue;
            }
            p = t->stage;
            n = t->stage_len;
            done = t->reader_sent;
        } else {
            return OSB_OK;
        }
        if (sends == OSB_MULTI_STEP_WRITES) {
            k->want = 2;
            return OSB__AGAIN;
        }
        k->more = osb__more_follows(t->body_after, done);
        e = osb__t_send_some(k, p, n, &sent, err);
        k->more = 0;
        if (e != OSB_OK) return e;
        sends++;
        if (t->out_off < t->out.len) t->out_off += sent;
        else if (t->big_off < t->big_len) t->big_off += sent;
        else {
            t->stage += sent;
            t->stage_len -= sent;
        }
    }
}

static osb_err osb__t_head_done(osb_transfer *t) {
    const osb_http_response *r = t->b.res;
    int is_error = (r->status < 200 || r->status > 299) && (t->kind != OSB__TK_RAW || !t->req.accept_error_body);
    if (is_error) {
        t->errbody = (char *)osb__alloc(t->m->c->alloc, OSB_ERROR_BODY_MAX);
        if (!t->errbody) return osb__fail(&t->b, OSB_ERR_NOMEM, &t->m->c->err, "out of memory");
    }
    t->state = OSB__TS_BODY;
    return OSB_OK;
}

/* The end of a body: the result as the blocking call gives it. */
static osb_err osb__t_body_done(osb_transfer *t) {
    osb_client *c = t->m->c;
    if (t->errbody) {
        osb__http_error_detail(c, t->b.res->status, t->errbody, t->errlen);
        return OSB_ERR_HTTP;
    }
    if (t->kind == OSB__TK_CALL && t->type) {
        osb_http_response *r = t->b.res;
        osb_err e = osb_bind(t->type, r->body.data ? r->body.data : "", r->body.len, c->alloc, &t->result, &c->err);
        if (e && !c->err.message[0]) osb__set_error(&c->err, e, "unexpected response body");
        return e;
    }
    return OSB_OK;
}

/* Reads the body on: at most OSB_MULTI_STEP_READS pieces (then t->ready
 * asks for another turn without waiting). OSB_OK: it ended. */
static osb_err osb__t_body(osb_transfer *t) {
    osb_client *c = t->m->c;
    int i;
    for (i = 0; i < OSB_MULTI_STEP_READS; i++) {
        const void *d;
        size_t n;
        int enough = 0;
        osb_err e;
        if (t->stream && !t->errbody && !t->drain) {
            const osb_event *ev;
            if ((e = osb_stream_next(t->stream, &ev)) != OSB_OK) return e;
            if (!ev) {
                t->drain = 1;   /* read what is left, so the connection can be kept */
                continue;
            }
            if (t->tc.execution && (e = osb_execution_add(t->tc.execution, ev)) != OSB_OK)
                return osb__call_fail(c, e, "out of memory");
            if (t->tc.on_event && t->tc.on_event(t->tc.user, ev))
                return osb__call_fail(c, OSB_ERR_CANCELLED, "the event callback stopped the stream");
            continue;
        }
        if ((e = osb_body_read(&t->b, &d, &n)) != OSB_OK) {
            if (t->drain && e != OSB__AGAIN) return OSB_OK;   /* the stream's result stands */
            return e;
        }
        if (n == 0) return t->drain ? OSB_OK : osb__t_body_done(t);
        if (t->drain) continue;
        e = osb__body_piece(&t->b, &t->req, t->b.res, t->errbody, &t->errlen, d, n, &enough);
        if (e) return e;
        if (enough) return osb__t_body_done(t);
    }
    t->ready = 1;
    return OSB__AGAIN;
}

/* A pooled connection that the server had closed before any answer: the
 * request never reached it, so an idempotent one goes on a new connection. */
static int osb__t_resend(osb_transfer *t, osb_err e) {
    if (t->fresh || t->b.got_any || t->attempt > 0 || !t->idempotent || t->req.body_reader ||
        (e != OSB_ERR_CLOSED && e != OSB_ERR_CONNECT))
        return 0;
    t->b.sticky = OSB_OK;
    osb__body_end(&t->b);
    t->attempt++;
    return 1;
}

/* Moves t on as far as it goes without waiting. */
static void osb__t_drive(osb_transfer *t, int events) {
    osb_client *c = t->m->c;
    osb_err e = OSB_OK;
    int64_t now;
    t->ready = 0;
    osb__reset_error(&c->err);
    for (;;) {
        int state = t->state;
        switch (state) {
        case OSB__TS_QUEUED: e = osb__t_start(t); break;
#if OSB_DNS
        case OSB__TS_RESOLVE: e = osb__t_lookup_step(t); break;
#endif
        case OSB__TS_CONNECT:
            if (!(events & OSB_MULTI_OUT)) { e = OSB__AGAIN; break; }
            e = osb__t_connect_done(t, 0);
            break;
#if OSB_TLS
        case OSB__TS_TLS: {
            osb__tls_ctx *ctx;
            e = osb__tls_ctx_of(c, &ctx, &c->err);
            if (!e) e = osb__tls_handshake(ctx, t->b.conn, 0, &c->err);
            if (!e) t->state = OSB__TS_SEND;
            break;
        }
#endif
        case OSB__TS_SEND:
            e = osb__t_send(t);
            if (!e) {
                t->state = OSB__TS_HEAD;
                t->head_deadline = osb__deadline_in(t->first_ms);
            }
            break;
        case OSB__TS_HEAD:
            e = osb__read_head(&t->b, &t->req, t->is_head, t->first_ms, &c->err);
            if (!e) e = osb__t_head_done(t);
            break;
        case OSB__TS_BODY:
            e = osb__t_body(t);
            if (!e) {
                osb__t_end(t, OSB_OK);
                return;
            }
            break;
        default: return;
        }
        if (e == OSB__AGAIN) break;
        if (e) {
            if ((state == OSB__TS_SEND || state == OSB__TS_HEAD) && osb__t_resend(t, e)) {
                osb__reset_error(&c->err);
                t->m->active--;
                t->state = OSB__TS_QUEUED;
                e = osb__t_connect_begin(t);
                t->m->active++;
                if (e == OSB__AGAIN) break;
                if (!e) continue;
            }
            osb__t_end(t, e);
            return;
        }
        events = 0;
    }
    /* waiting: for what, and until when */
    now = osb__now_ms();
    switch (t->state) {
#if OSB_DNS
    case OSB__TS_RESOLVE:
        t->deadline = t->lookup ? osb__earlier(t->lookup->wake, t->connect_deadline) : t->connect_deadline;
        break;
#endif
    case OSB__TS_CONNECT: t->deadline = t->addr_deadline; break;
    case OSB__TS_TLS: t->deadline = t->connect_deadline; break;
    case OSB__TS_HEAD:
        t->deadline = t->b.got_any ? (t->b.idle_ms > 0 ? now + t->b.idle_ms : 0) : t->head_deadline;
        break;
    default: t->deadline = t->b.idle_ms > 0 ? now + t->b.idle_ms : 0; break;
    }
    t->deadline = osb__earlier(t->deadline, t->total_deadline);
}

/* t's deadline passed. */
static void osb__t_expire(osb_transfer *t, int64_t now) {
    osb_client *c = t->m->c;
    osb_phase phase;
    osb__reset_error(&c->err);
    if (t->total_deadline && now >= t->total_deadline) {
        osb__t_end(t, osb__timeout(&c->err, OSB_PHASE_TOTAL));
        return;
    }
    switch (t->state) {
    case OSB__TS_RESOLVE:                     /* a try's time or the connect deadline */
        osb__t_drive(t, 0);
        return;
    case OSB__TS_CONNECT: {
        osb_err e = osb__t_connect_done(t, 1);
        if (e == OSB__AGAIN) t->deadline = osb__earlier(t->addr_deadline, t->total_deadline);
        else if (e) osb__t_end(t, e);
        else osb__t_drive(t, 0);
        return;
    }
    case OSB__TS_TLS: phase = OSB_PHASE_TLS; break;
    case OSB__TS_SEND: phase = OSB_PHASE_SEND; break;
    case OSB__TS_HEAD: phase = t->b.got_any ? OSB_PHASE_IDLE : OSB_PHASE_FIRST_BYTE; break;
    default: phase = OSB_PHASE_IDLE; break;
    }
    osb__t_end(t, osb__timeout(&c->err, phase));
}

/* ---- the loop ---- */

static osb__socket osb__t_socket(const osb_transfer *t, int *events) {
#if OSB_DNS
    if (t->state == OSB__TS_RESOLVE && t->lookup && t->lookup->fd != OSB__BAD_SOCKET) {
        *events = t->lookup->want == 2 ? OSB_MULTI_OUT : OSB_MULTI_IN;
        return t->lookup->fd;
    }
#endif
    if (t->state == OSB__TS_CONNECT && t->fd != OSB__BAD_SOCKET) {
        *events = OSB_MULTI_OUT;
        return t->fd;
    }
    if (t->state > OSB__TS_CONNECT && t->state < OSB__TS_DONE && t->b.conn && !t->ready) {
        *events = t->b.conn->want == 2 ? OSB_MULTI_OUT : OSB_MULTI_IN;
        return t->b.conn->fd;
    }
    return OSB__BAD_SOCKET;
}

/* Starts queued transfers as far as the caps allow. */
static void osb__multi_schedule(osb_multi *m) {
    osb_transfer *t;
    m->sched = 0;
    for (t = m->head; t; t = t->next) {
        if (t->state != OSB__TS_QUEUED) continue;
        if (m->cfg.max_total && m->active >= m->cfg.max_total) break;
        if (m->cfg.max_per_host) {
            const osb_transfer *o;
            int n = 0;
            for (o = m->head; o; o = o->next)
                if (o->state > OSB__TS_QUEUED && o->state < OSB__TS_DONE && o->url.port == t->url.port &&
                    o->url.https == t->url.https && !strcmp(o->url.host, t->url.host))
                    n++;
            if (n >= m->cfg.max_per_host) continue;
        }
        osb__t_drive(t, 0);
    }
}

/* Everything that needs no socket: transfers with more to do, deadlines,
 * queued transfers that may start now, cancel flags. */
static void osb__multi_sweep(osb_multi *m) {
    osb_transfer *t;
    int64_t now = osb__now_ms();
    for (t = m->head; t; t = t->next) {
        if (t->state == OSB__TS_DONE) continue;
        if (t->req.cancel && *t->req.cancel) osb__t_fail(t, OSB_ERR_CANCELLED, "cancelled");
        else if (t->ready) osb__t_drive(t, 0);
        else if (t->deadline && now >= t->deadline) osb__t_expire(t, now);
    }
    if (m->sched) osb__multi_schedule(m);
}

OSB_API size_t osb_multi_fds(osb_multi *m, osb_multi_socket *out, size_t cap) {
    osb_transfer *t;
    size_t n = 0;
    if (!m) return 0;
    for (t = m->head; t; t = t->next) {
        int ev;
        osb__socket fd = osb__t_socket(t, &ev);
        if (fd == OSB__BAD_SOCKET) continue;
        if (out && n < cap) {
            out[n].fd = (int)fd;
            out[n].events = ev;
        }
        n++;
    }
    return n;
}

OSB_API int osb_multi_timeout_ms(osb_multi *m) {
    osb_transfer *t;
    int64_t next = 0, now;
    if (!m) return -1;
    if (m->sched) return 0;
    for (t = m->head; t; t = t->next) {
        if (t->state == OSB__TS_DONE) continue;
        if (t->ready) return 0;
        if (t->req.cancel) next = osb__earlier(next, osb__now_ms() + 1000);   /* look at the flag */
        next = osb__earlier(next, t->deadline);
    }
    if (!next) return -1;
    now = osb__now_ms();
    if (next <= now) return 0;
    return next - now > 0x7fffffff ? 0x7fffffff : (int)(next - now);
}

OSB_API osb_err osb_multi_socket_ready(osb_multi *m, int fd, int events, int *running) {
    if (!m) return OSB_ERR_INVALID_ARG;
    m->depth++;
    if (fd != OSB_MULTI_NO_FD) {
        osb_transfer *t;
        for (t = m->head; t; t = t->next) {
            int ev;
            if (t->state == OSB__TS_DONE || (int)osb__t_socket(t, &ev) != fd) continue;
            osb__t_drive(t, events);
            break;
        }
    }
    osb__multi_sweep(m);
    m->depth--;
    osb__multi_reap(m);
    if (running) *running = m->count;
    return OSB_OK;
}

OSB_API osb_err osb_multi_perform(osb_multi *m, int timeout_ms, int *running) {
    size_t n, i;
    int wait, r;
    if (running) *running = m ? m->count : 0;
    if (!m) return OSB_ERR_INVALID_ARG;
    if (m->count == 0) return OSB_OK;   /* nothing to wait for */
    if (m->sched) osb_multi_socket_ready(m, OSB_MULTI_NO_FD, 0, NULL);
    n = osb_multi_fds(m, NULL, 0);
    if (n > m->pcap) {
        size_t cap = n * 2;
        osb__pollfd *p = (osb__pollfd *)osb__realloc(m->c->alloc, m->pfd, m->pcap * sizeof *p, cap * sizeof *p);
        osb_transfer **q;
        if (p) m->pfd = p;
        q = p ? (osb_transfer **)osb__realloc(m->c->alloc, m->pt, m->pcap * sizeof *q, cap * sizeof *q) : NULL;
        if (!q) {
            osb__set_error(&m->c->err, OSB_ERR_NOMEM, "out of memory");
            return OSB_ERR_NOMEM;
        }
        m->pt = q;
        m->pcap = cap;
    }
    n = 0;
    {
        osb_transfer *t;
        for (t = m->head; t; t = t->next) {
            int ev;
            osb__socket fd = osb__t_socket(t, &ev);
            if (fd == OSB__BAD_SOCKET) continue;
            m->pfd[n].fd = fd;
            m->pfd[n].events = ev == OSB_MULTI_OUT ? POLLOUT : POLLIN;
            m->pfd[n].revents = 0;
            m->pt[n++] = t;
        }
    }
    wait = osb_multi_timeout_ms(m);
    if (timeout_ms >= 0 && (wait < 0 || wait > timeout_ms)) wait = timeout_ms;
    if (n == 0 && wait < 0) wait = 0;    /* nothing to wait for */
    r = n ? osb__poll(m->pfd, (unsigned long)n, wait) : 0;
    if (!n && wait > 0) osb__sleep_ms(wait);
    m->depth++;
    for (i = 0; r > 0 && i < n; i++) {
        osb_transfer *t = m->pt[i];
        int ev = 0, want;
        short re = m->pfd[i].revents;
        if (!re || t->state == OSB__TS_DONE || osb__t_socket(t, &want) != m->pfd[i].fd) continue;
        if (re & (POLLIN | POLLHUP | POLLERR | POLLNVAL)) ev |= OSB_MULTI_IN;
        if (re & (POLLOUT | POLLHUP | POLLERR | POLLNVAL)) ev |= OSB_MULTI_OUT;
        osb__t_drive(t, ev);
    }
    osb__multi_sweep(m);
    m->depth--;
    osb__multi_reap(m);
    if (running) *running = m->count;
    return OSB_OK;
}

#endif /* OSB_NO_MULTI */

/* ---- the sandbox layer on a multi ---- */
#if !OSB_NO_MULTI

typedef struct osb__batch_slot {
    size_t index;
    osb_err result;
    osb_error err;
    osb_sandbox_info *info;        /* a create's result */
    osb_batch_event_fn on_event;
    void *user;
    int done;
} osb__batch_slot;

static void osb__batch_done(void *user, osb_transfer *t, osb_err result, const osb_error *err) {
    osb__batch_slot *s = (osb__batch_slot *)user;
    s->done = 1;
    s->result = result;
    s->err = *err;
    s->info = (osb_sandbox_info *)osb_transfer_take_result(t);
}

static int osb__batch_event(void *user, const osb_event *ev) {
    osb__batch_slot *s = (osb__batch_slot *)user;
    return s->on_event ? s->on_event(s->user, s->index, ev) : 0;
}

/* Runs the multi until every transfer ended. Once *cancel is set, the
 * transfers not started yet are dropped; the ones under way are answered,
 * so that what they created is known and can be killed. */
static void osb__batch_wait(osb_multi *m, const volatile int *cancel) {
    int running = osb_multi_running(m);
    while (running > 0) {
        if (cancel && *cancel) {
            osb_transfer *t;
            m->depth++;
            for (t = m->head; t; t = t->next)
                if (t->state == OSB__TS_QUEUED) osb_multi_cancel(m, t);
            m->depth--;
            osb__multi_reap(m);
            if ((running = m->count) == 0) break;
        }
        if (osb_multi_perform(m, cancel ? 200 : -1, &running) != OSB_OK) break;
    }
}

/* Kills (unless keep) and deletes the created ones, all at once. */
static void osb__batch_kill(osb_client *c, osb__batch_slot *slots, size_t n, int keep) {
    osb_multi *m = NULL;
    size_t i;
    if (keep || osb_multi_new(c, NULL, &m) != OSB_OK) return;
    for (i = 0; i < n; i++) {
        if (!slots[i].info || !slots[i].info->id.ptr || !*slots[i].info->id.ptr) continue;
        osb_multi_sandbox_delete(m, slots[i].info->id.ptr, NULL, NULL);
    }
    osb__batch_wait(m, NULL);
    osb_multi_free(m);
}

OSB_API osb_err osb_sandbox_open_many(osb_client *c, const osb_sandbox_create_req *req, size_t n,
                                      const osb_sandbox_options *opt, const volatile int *cancel,
                                      osb_sandbox **out) {
    osb_sandbox_create_req r;
    osb__batch_slot *slots;
    osb_multi *m = NULL;
    osb_err e = OSB_OK;
    osb_error first;
    size_t i;
    int keep = opt && opt->keep_on_failure;
    if (!c) return OSB_ERR_INVALID_ARG;
    if (!req || !out || n == 0)
        return osb__call_fail(c, OSB_ERR_INVALID_ARG, "no create request, count or result array");
    for (i = 0; i < n; i++) out[i] = NULL;
    osb__sb_create_defaults(req, &r);
    slots = (osb__batch_slot *)osb__alloc(c->alloc, n * sizeof *slots);
    if (!slots || osb_multi_new(c, NULL, &m) != OSB_OK) {
        osb__free(c->alloc, slots);
        return osb__call_fail(c, OSB_ERR_NOMEM, "out of memory");
    }
    memset(slots, 0, n * sizeof *slots);
    memset(&first, 0, sizeof first);
    for (i = 0; i < n && !e; i++) {
        osb_transfer_config tc;
        memset(&tc, 0, sizeof tc);
        tc.on_done = osb__batch_done;
        tc.user = &slots[i];
        slots[i].index = i;
        if ((e = osb_multi_sandbox_create(m, &r, &tc, NULL)) != OSB_OK) first = c->err;
    }
    osb__batch_wait(m, cancel);
    osb_multi_free(m);
    for (i = 0; i < n; i++) {
        if (!slots[i].done || e) continue;
        if (slots[i].result) {
            e = slots[i].result;
            first = slots[i].err;
        } else if (!slots[i].info || !slots[i].info->id.ptr || !*slots[i].info->id.ptr) {
            e = osb__call_fail(c, OSB_ERR_JSON, "the create answer has no sandbox id");
            first = c->err;
        }
    }
    /* every create answered: wait for each as osb_sandbox_open does */
    for (i = 0; i < n && !e; i++) {
        osb_sandbox *sb = NULL;
        if (cancel && *cancel) {
            e = osb__call_fail(c, OSB_ERR_CANCELLED, "cancelled");
            first = c->err;
            break;
        }
        if ((e = osb__sb_new(c, slots[i].info->id.ptr, opt, &sb)) == OSB_OK) {
            sb->created = slots[i].info;
            slots[i].info = NULL;
            out[i] = sb;
            if (sb->created->status.state.ptr && !osb__sb_state_is(sb->created, "Running"))
                e = osb__sb_wait_running(sb, osb__now_ms() + sb->opt.ready_timeout_ms);
            if (!e) e = osb__sb_reach(sb);
        }
            if (e) first = c->err;
    }
    if (e) {
        /* the handles' infos go back to their slots, so one pass kills all */
        for (i = 0; i < n; i++) {
            if (!out[i]) continue;
            slots[i].info = out[i]->created;
            out[i]->created = NULL;
            osb__sb_free(out[i]);
            out[i] = NULL;
        }
        osb__batch_kill(c, slots, n, keep);
        c->err = first;
        c->err.code = e;
    }
    for (i = 0; i < n; i++)
        if (slots[i].info) osb_result_free(slots[i].info);
    osb__free(c->alloc, slots);
    return e;
}

OSB_API osb_err osb_sandbox_run_many(osb_sandbox *const *sbs, size_t n, const char *command,
                                     osb_batch_event_fn on_event, void *user, osb_execution *x,
                                     osb_err *results) {
    osb_client *c;
    osb__batch_slot *slots;
    osb_multi *m = NULL;
    osb_err e = OSB_OK;
    osb_error first;
    size_t i;
    if (!sbs || n == 0 || !sbs[0]) return OSB_ERR_INVALID_ARG;
    c = sbs[0]->c;
    for (i = 0; i < n; i++)
        if (!sbs[i] || sbs[i]->c != c)
            return osb__call_fail(c, OSB_ERR_INVALID_ARG, "every sandbox must be of one client");
    if (!command || !*command) return osb__call_fail(c, OSB_ERR_INVALID_ARG, "no command");
    slots = (osb__batch_slot *)osb__alloc(c->alloc, n * sizeof *slots);
    if (!slots || osb_multi_new(c, NULL, &m) != OSB_OK) {
        osb__free(c->alloc, slots);
        return osb__call_fail(c, OSB_ERR_NOMEM, "out of memory");
    }
    memset(slots, 0, n * sizeof *slots);
    memset(&first, 0, sizeof first);
    for (i = 0; i < n; i++) {
        osb_command_request r;
        osb_transfer_config tc;
        osb_err ae;
        memset(&r, 0, sizeof r);
        memset(&tc, 0, sizeof tc);
        r.command = command;
        slots[i].index = i;
        slots[i].on_event = on_event;
        slots[i].user = user;
        tc.on_done = osb__batch_done;
        tc.on_event = osb__batch_event;
        tc.user = &slots[i];
        tc.execution = x ? &x[i] : NULL;
        if (!sbs[i]->t[0].url) {
            ae = osb__call_fail(c, OSB_ERR_STATE, "the sandbox has no execd endpoint");
        } else {
            ae = osb_multi_command(m, &sbs[i]->t[0], &r, &tc, NULL);
        }
        if (ae) {
            slots[i].done = 1;
            slots[i].result = ae;
            slots[i].err = c->err;
        }
    }
    osb__batch_wait(m, NULL);
    osb_multi_free(m);
    for (i = 0; i < n; i++) {
        if (results) results[i] = slots[i].result;
        if (slots[i].result && !e) {
            e = slots[i].result;
            first = slots[i].err;
        }
    }
    if (e) c->err = first;
    osb__free(c->alloc, slots);
    return e;
}

#endif /* OSB_NO_MULTI */

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
