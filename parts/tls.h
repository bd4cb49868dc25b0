/* parts/tls.h -- merged into opensandbox.h: declarations at >>tls, implementation at >>impl-tls */

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
 *   4. the first readable system bundle: /etc/ssl/certs/ca-certificates.crt,
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
#ifndef OSB__TLS_DECLARED
#define OSB__TLS_DECLARED

#ifdef __cplusplus
extern "C" {
#endif

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

#ifdef __cplusplus
}
#endif
#endif /* OSB__TLS_DECLARED */

/* >>impl-tls =============================================================== */
#if defined(OPENSANDBOX_IMPLEMENTATION) && defined(OSB__IMPLEMENTED) && !defined(OSB__TLS_IMPLEMENTED)
#define OSB__TLS_IMPLEMENTED

#ifdef __cplusplus
extern "C" {
#endif

/* BearSSL error codes are plain numbers; the table does not need bearssl.h. */
OSB_API const char *osb_tls_strerror(int e) {
    if (e >= 512 && e < 768) return "this client sent a fatal alert to the server";
    if (e >= 256 && e < 512) {
        switch (e - 256) {
        case 0: return "the server closed the TLS session (close_notify) during the handshake";
        case 10: return "the server received an unexpected message (alert unexpected_message)";
        case 20: return "the server could not authenticate a record (alert bad_record_mac)";
        case 40: return "the server found no acceptable parameters (alert handshake_failure): "
                        "it has no TLS 1.2 ECDHE suite with AES-GCM or ChaCha20-Poly1305 "
                        "(a TLS 1.0/1.1-only server is refused)";
        case 42: case 43: case 44: case 46:
            return "the server rejected a certificate (alert bad/unsupported certificate)";
        case 45: return "the server says a certificate expired (alert certificate_expired)";
        case 47: return "the server rejected a handshake value (alert illegal_parameter)";
        case 48: return "the server does not trust the client certificate's CA (alert unknown_ca)";
        case 49: return "the server refused access (alert access_denied)";
        case 50: return "the server could not decode a message (alert decode_error)";
        case 51: return "the server could not verify a message (alert decrypt_error)";
        case 70: return "the server does not accept TLS 1.2 (alert protocol_version): "
                        "it needs TLS 1.3, which BearSSL does not implement";
        case 71: return "the server wants stronger security (alert insufficient_security)";
        case 80: return "the server had an internal error (alert internal_error)";
        case 86: return "the server detected a downgrade (alert inappropriate_fallback)";
        case 109: return "the server wants a TLS extension this client does not send (alert missing_extension)";
        case 112: return "the server does not serve this host name (alert unrecognized_name, SNI)";
        case 116: return "the server requires a client certificate (alert certificate_required)";
        case 120: return "the server requires an ALPN protocol (alert no_application_protocol)";
        default: return "the server sent a fatal TLS alert";
        }
    }
    switch (e) {
    case 0: return "no error";
    case 1: return "bad TLS parameter (library misuse)";
    case 2: return "bad TLS engine state (library misuse)";
    case 3: return "the server did not offer TLS 1.2 (TLS 1.0/1.1 servers are refused), "
                   "or it does not speak TLS at all (plain HTTP on a TLS port?)";
    case 4: return "the server changed the TLS version during the connection";
    case 5: return "malformed TLS record length (is this a TLS server?)";
    case 6: return "TLS record too large";
    case 7: return "TLS record failed authentication (data corrupted or tampered with)";
    case 8: return "no entropy: the OS gave no random bytes; set tls.entropy";
    case 9: return "unknown TLS record type (is this a TLS server?)";
    case 10: return "unexpected TLS message from the server";
    case 12: return "bad ChangeCipherSpec from the server";
    case 13: return "bad TLS alert from the server";
    case 14: return "malformed TLS handshake message from the server";
    case 15: return "oversized session ID from the server";
    case 16: return "the server chose a cipher suite this client did not offer "
                    "(it must support ECDHE with AES-GCM or ChaCha20-Poly1305)";
    case 17: return "the server chose TLS compression, which is refused";
    case 18: return "bad maximum fragment length from the server";
    case 19: return "secure renegotiation check failed";
    case 20: return "the server sent an unrequested TLS extension";
    case 21: return "bad SNI from the server";
    case 22: return "malformed ServerHelloDone";
    case 23: return "a TLS limit was exceeded (e.g. certificate chain too long)";
    case 24: return "bad Finished message (handshake tampered with?)";
    case 25: return "session resumption mismatch";
    case 26: return "the server used an unsupported or forbidden algorithm";
    case 27: return "the server's key exchange signature is invalid";
    case 28: return "the server certificate's key usage does not allow this key exchange";
    case 29: return "the server requires a client certificate, which this client does not send";
    case 31: return "I/O error during TLS: the connection was reset or closed mid-handshake";
    case 33: case 34: case 35: case 36: case 37: case 38: case 39: case 40: case 41:
    case 42: case 43: case 44: case 45: case 46: case 47:
        return "the server's certificate is malformed";
    case 48: return "the server's certificate has malformed validity dates";
    case 49: return "the server's certificate uses an unsupported algorithm or feature "
                    "(e.g. a SHA-1 signature)";
    case 50: return "the server's certificate exceeds a size limit";
    case 51: return "the server's certificate has the wrong key type";
    case 52: return "a certificate signature is invalid";
    case 53: return "the current time is unknown, so certificate dates cannot be checked "
                    "(set tls.now)";
    case 54: return "the server's certificate has expired or is not yet valid "
                    "(or the clock is wrong)";
    case 55: return "the certificate chain is broken (issuer and subject names do not match)";
    case 56: return "the server's certificate does not match the host name";
    case 57: return "the server's certificate has an unsupported critical extension";
    case 58: return "a certificate in the chain is used as a CA but is not one";
    case 59: return "the server's certificate key usage forbids server authentication";
    case 60: return "the server's certificate key is too weak";
    case 62: return "the server's certificate is not trusted (unknown CA, or self-signed): "
                    "give the right CA with tls.ca_file, tls.ca_pem or SSL_CERT_FILE";
    default: break;
    }
    if (e > 32 && e < 64) return "certificate validation failed";
    return "TLS failure";
}

#if OSB_TLS

#include <bearssl.h>
#include <time.h>
#include <sys/stat.h>
#if !defined(_MSC_VER)
#  include <dirent.h>
#  define OSB__TLS_HAVE_DIR 1
#else
#  define OSB__TLS_HAVE_DIR 0
#endif

#ifndef OSB_TLS_HALF_DUPLEX
#  define OSB_TLS_HALF_DUPLEX 0
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

/* Returns -2 when the file cannot be opened (errno kept), -1 on a failed
 * load, else the number of certificates taken. */
static long osb__tls_load_file(osb__tls_ctx *ctx, const char *path, int strict, osb_error *err) {
    osb__pem_load L;
    unsigned char buf[4096];
    size_t got;
    FILE *f = fopen(path, "rb");
    if (!f) return -2;
    osb__tls_load_begin(&L, ctx, path, strict, err);
    while ((got = fread(buf, 1, sizeof buf, f)) > 0)
        if (osb__tls_pem_push(&L, buf, got)) break;
    if (!L.failed && ferror(f)) {
        osb__set_error(err, L.failed = OSB_ERR_IO, "trust anchors: cannot read %s", path);
    }
    fclose(f);
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
    long got;
    size_t i;
    if (cfg && (cfg->ca_file || cfg->ca_pem)) {
        long total = 0;
        if (cfg->ca_file) {
            got = osb__tls_load_file(ctx, cfg->ca_file, 1, err);
            if (got == -2) {
                osb__set_error(err, OSB_ERR_TLS, "tls.ca_file %s cannot be opened: %s",
                               cfg->ca_file, strerror(errno));
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
                           strerror(errno));
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

/* ---- IP literals ---------------------------------------------------------- */

/* a.b.c.d, each 0-255 in decimal; returns 1 if s is exactly that. */
static int osb__tls_parse_ip4(const char *p, unsigned char out[4]) {
    int part;
    for (part = 0; part < 4; part++) {
        unsigned v = 0, digits = 0;
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
static size_t osb__tls_parse_ip(const char *s, unsigned char out[16]) {
    size_t n = strlen(s), i;
    char tmp[64];
    if (n >= 2 && s[0] == '[' && s[n - 1] == ']') { s++; n -= 2; }
    for (i = 0; i < n && s[i] != '%'; i++) {}
    n = i;
    if (n == 0 || n >= sizeof tmp) return 0;
    memcpy(tmp, s, n);
    tmp[n] = 0;
    if (!strchr(tmp, ':')) {
        return osb__tls_parse_ip4(tmp, out) ? 4 : 0;
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
                if (nw > 6 || !osb__tls_parse_ip4(start, v4)) return 0;
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
    BR_TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
    BR_TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
};

/* Sets up the engine and the X.509 checks of one connection. */
static void osb__tls_setup(osb__tls_conn *t, const osb__tls_ctx *ctx) {
    br_ssl_engine_context *eng = &t->sc.eng;
    br_x509_minimal_context *xc = &t->x509.u.minimal;
    br_ssl_client_zero(&t->sc);
    br_ssl_engine_set_versions(eng, BR_TLS12, BR_TLS12);
    br_ssl_engine_set_suites(eng, osb__tls_suites,
                             sizeof osb__tls_suites / sizeof osb__tls_suites[0]);
    br_ssl_engine_set_hash(eng, br_sha256_ID, &br_sha256_vtable);
    br_ssl_engine_set_hash(eng, br_sha384_ID, &br_sha384_vtable);
    br_ssl_engine_set_hash(eng, br_sha512_ID, &br_sha512_vtable);
    br_ssl_engine_set_prf_sha256(eng, &br_tls12_sha256_prf);
    br_ssl_engine_set_prf_sha384(eng, &br_tls12_sha384_prf);
    br_ssl_engine_set_default_aes_gcm(eng);
    br_ssl_engine_set_default_chapol(eng);
    br_ssl_engine_set_default_ec(eng);
    br_ssl_engine_set_default_rsavrfy(eng);
    br_ssl_engine_set_default_ecdsa(eng);
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
        br_x509_minimal_set_rsa(xc, br_rsa_pkcs1_vrfy_get_default());
        br_x509_minimal_set_ecdsa(xc, br_ec_get_default(), br_ecdsa_vrfy_asn1_get_default());
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
        size_t len;
        unsigned char *buf;
        osb_err e;
        if (!(br_ssl_engine_current_state(&t->sc.eng) & BR_SSL_SENDREC)) return OSB_OK;
        buf = br_ssl_engine_sendrec_buf(&t->sc.eng, &len);
        e = osb__sock_send_all(c, buf, len, deadline_ms, err);
        if (e) {
            /* While reading, what the engine sends is an alert or a
             * close_notify answer: losing it is harmless and the next read
             * tells what happened. A deadline or a cancel is reported. */
            if (!lenient || e != OSB_ERR_CONNECT) return e;
            t->sent_failed = 1;
        }
        br_ssl_engine_sendrec_ack(&t->sc.eng, len);
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

OSB__HELPER osb_err osb__tls_open(osb__tls_ctx *ctx, osb__conn *c, const char *host,
                                  int64_t deadline_ms, osb_error *err) {
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
    ip_len = osb__tls_parse_ip(host, ip);
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
    /* The handshake is done once the engine accepts application data. */
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

OSB__HELPER osb_err osb__tls_send_all(osb__conn *c, const void *buf, size_t len,
                                      int64_t deadline_ms, osb_error *err) {
    osb__tls_conn *t = (osb__tls_conn *)c->tls;
    const unsigned char *p = (const unsigned char *)buf;
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
            n = OSB__MIN(avail, len);
            memcpy(dst, p, n);
            br_ssl_engine_sendapp_ack(&t->sc.eng, n);
            t->got_app = 0;
            p += n;
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

#ifdef __cplusplus
}
#endif
#endif /* OPENSANDBOX_IMPLEMENTATION */
