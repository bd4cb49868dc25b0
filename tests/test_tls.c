/* test_tls.c -- HTTPS through BearSSL: trust anchors, verification, errors,
 * keep-alive, truncation, memory. Certificates are made at test time
 * (tests/tls/make-certs.sh) and served by tests/tls/server.py on loopback.
 *
 *   cc -std=c99 -Wall -Wextra -Werror -pedantic -g -I. tests/test_tls.c \
 *      -o build/test_tls -lbearssl && build/test_tls
 *
 * Run from the repository root. */
#define _POSIX_C_SOURCE 200809L
#define OSB_TLS 1
#define OPENSANDBOX_IMPLEMENTATION
#include "../opensandbox.h"

#include <signal.h>
#include <unistd.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include "testlib.h"

/* ---- helpers -------------------------------------------------------------- */

#define CERTS "build/tls-certs"

static void certs(void) {
    static int done;
    if (!done) {
        if (system("sh tests/tls/make-certs.sh " CERTS " >/dev/null 2>&1") != 0) {
            fprintf(stderr, "make-certs.sh failed\n");
            exit(2);
        }
        done = 1;
    }
}

typedef struct server {
    pid_t pid;
    int port;
} server;

/* Starts tests/tls/server.py with a leaf NAME (cert NAME.pem, key NAME.key)
 * on HOST (127.0.0.1 or ::1). Its lifetime is only a safety net (the test
 * stops it); under qemu (make test-cross) a 64 MiB transfer takes a minute. */
static int server_start_on(server *s, const char *name, const char *mode, const char *host) {
    int fds[2];
    char cert[256], key[256], line[64];
    ssize_t n;
    size_t have = 0;
    certs();
    snprintf(cert, sizeof cert, CERTS "/%s.pem", name);
    snprintf(key, sizeof key, CERTS "/%s.key", name);
    if (pipe(fds) != 0) return -1;
    s->pid = fork();
    if (s->pid == 0) {
        dup2(fds[1], 1);
        close(fds[0]);
        close(fds[1]);
        execlp("python3", "python3", "tests/tls/server.py", "--cert", cert, "--key", key,
               "--mode", mode, "--host", host, "--lifetime", "300", (char *)NULL);
        _exit(127);
    }
    close(fds[1]);
    while (have < sizeof line - 1 && (n = read(fds[0], line + have, 1)) == 1 && line[have] != '\n')
        have++;
    line[have] = 0;
    close(fds[0]);
    if (sscanf(line, "PORT %d", &s->port) != 1) {
        kill(s->pid, SIGTERM);
        waitpid(s->pid, NULL, 0);
        return -1;
    }
    return 0;
}

static int server_start(server *s, const char *name, const char *mode) {
    return server_start_on(s, name, mode, "127.0.0.1");
}

static void server_stop(server *s) {
    if (s->pid > 0) {
        kill(s->pid, SIGTERM);
        waitpid(s->pid, NULL, 0);
        s->pid = 0;
    }
}

static int tcp_connect(int port) {
    struct sockaddr_in sa;
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_port = htons((unsigned short)port);
    sa.sin_addr.s_addr = htonl(0x7f000001);
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
        close(fd);
        return -1;
    }
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL, 0) | O_NONBLOCK);  /* the transport's socket calls expect it */
    return fd;
}

/* A counting allocator: live bytes and the peak. */
typedef struct counter {
    size_t live, peak, allocs, frees;
} counter;

static void *cnt_alloc(void *ctx, size_t size) {
    counter *c = (counter *)ctx;
    size_t *p = (size_t *)malloc(size + sizeof(size_t) * 2);
    if (!p) return NULL;
    p[0] = size;
    c->live += size;
    c->allocs++;
    if (c->live > c->peak) c->peak = c->live;
    return p + 2;
}

static void cnt_free(void *ctx, void *ptr) {
    counter *c = (counter *)ctx;
    size_t *p = (size_t *)ptr - 2;
    c->live -= p[0];
    c->frees++;
    free(p);
}

static void *cnt_realloc(void *ctx, void *ptr, size_t old, size_t size) {
    void *q = cnt_alloc(ctx, size);
    if (!q) return NULL;
    if (ptr) {
        memcpy(q, ptr, old < size ? old : size);
        cnt_free(ctx, ptr);
    }
    return q;
}

/* One TLS connection over the transport's socket layer, without HTTP. */
typedef struct client {
    osb__tls_ctx *ctx;
    osb__conn conn;
    osb_error err;
    osb_allocator alloc;
    counter count;
} client;

static osb_err client_open(client *cl, const osb_tls_config *cfg, const char *host, int port) {
    osb_err e;
    memset(cl, 0, sizeof *cl);
    cl->alloc.alloc = cnt_alloc;
    cl->alloc.realloc = cnt_realloc;
    cl->alloc.free = cnt_free;
    cl->alloc.ctx = &cl->count;
    cl->conn.fd = -1;
    e = osb__tls_ctx_new(cfg, &cl->alloc, &cl->ctx, &cl->err);
    if (e) return e;
    cl->conn.fd = tcp_connect(port);
    if (cl->conn.fd < 0) return OSB_ERR_CONNECT;
    return osb__tls_open(cl->ctx, &cl->conn, host, osb__now_ms() + 5000, &cl->err);
}

static void client_close(client *cl) {
    osb__tls_close(&cl->conn, &cl->ctx->alloc);
    if (cl->conn.fd >= 0) close(cl->conn.fd);
    cl->conn.fd = -1;
    osb__tls_ctx_free(cl->ctx);
    cl->ctx = NULL;
}

static osb_tls_config ca_file_cfg(void) {
    osb_tls_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.ca_file = CERTS "/ca.pem";
    return cfg;
}

/* Handshake against a server with leaf NAME in MODE; returns the result and
 * leaves the detail in *err. */
static osb_err handshake(const char *leaf, const char *mode, const osb_tls_config *cfg,
                         const char *host, osb_error *err) {
    server s;
    client cl;
    osb_err e;
    if (server_start(&s, leaf, mode) != 0) {
        err->code = OSB_ERR_CONNECT;
        snprintf(err->message, sizeof err->message, "test server did not start");
        return OSB_ERR_CONNECT;
    }
    e = client_open(&cl, cfg, host, s.port);
    *err = cl.err;
    client_close(&cl);
    CHECK_EQ_INT(cl.count.live, 0);
    server_stop(&s);
    return e;
}

/* Sends a GET and reads the whole response head + Content-Length body.
 * Returns the body length, or -1 with *e set. */
static long get(client *cl, const char *path, unsigned long *sum, osb_err *e) {
    char req[256], head[4096];
    unsigned char buf[16384];
    size_t hl = 0, got;
    long clen = -1, body = 0;
    char *end, *p;
    snprintf(req, sizeof req, "GET %s HTTP/1.1\r\nHost: localhost\r\n\r\n", path);
    *e = osb__tls_send_all(&cl->conn, req, strlen(req), osb__now_ms() + 5000, &cl->err);
    if (*e) return -1;
    if (sum) *sum = 0;
    for (;;) {
        *e = osb__tls_recv_some(&cl->conn, head + hl, 1, &got, osb__now_ms() + 5000,
                                OSB_PHASE_FIRST_BYTE, &cl->err);
        if (*e) return -1;
        if (got == 0) { *e = OSB_ERR_CLOSED; return -1; }
        hl++;
        head[hl] = 0;
        if (hl >= 4 && memcmp(head + hl - 4, "\r\n\r\n", 4) == 0) break;
        if (hl >= sizeof head - 1) { *e = OSB_ERR_TOO_LARGE; return -1; }
    }
    end = strstr(head, "\r\n\r\n");
    (void)end;
    p = strstr(head, "Content-Length: ");
    if (p) clen = atol(p + 16);
    while (clen < 0 || body < clen) {
        size_t want = sizeof buf, i;
        if (clen >= 0 && (size_t)(clen - body) < want) want = (size_t)(clen - body);
        *e = osb__tls_recv_some(&cl->conn, buf, want, &got, osb__now_ms() + 10000,
                                OSB_PHASE_IDLE, &cl->err);
        if (*e) return -1;
        if (got == 0) break; /* close_notify */
        if (sum)
            for (i = 0; i < got; i++) *sum += buf[i];
        body += (long)got;
    }
    return body;
}

/* ---- error texts ------------------------------------------------------------- */

TEST(tls_strerror_names_the_cases) {
    CHECK(strstr(osb_tls_strerror(62), "not trusted") != NULL);
    CHECK(strstr(osb_tls_strerror(54), "expired") != NULL);
    CHECK(strstr(osb_tls_strerror(56), "host name") != NULL);
    CHECK(strstr(osb_tls_strerror(3), "TLS 1.2") != NULL);
    CHECK(strstr(osb_tls_strerror(3), "plain HTTP") != NULL);
    CHECK(strstr(osb_tls_strerror(256 + 70), "TLS 1.3") != NULL);
    CHECK(strstr(osb_tls_strerror(8), "entropy") != NULL);
    CHECK(strstr(osb_tls_strerror(53), "time") != NULL);
    CHECK(strstr(osb_tls_strerror(31), "reset") != NULL);
    CHECK(strstr(osb_tls_strerror(512 + 40), "sent a fatal alert") != NULL);
    CHECK_EQ_STR(osb_tls_strerror(0), "no error");
    CHECK(osb_tls_strerror(-5) != NULL);
    CHECK(osb_tls_strerror(99999) != NULL);
}

/* The texts are one string in the order of a list of codes: the first and
 * last of each kind, the codes that share a text and those between listed
 * ones still read their own text (a text lost or added would shift them). */
TEST(tls_strerror_list_keeps_each_code_to_its_text) {
    CHECK_EQ_STR(osb_tls_strerror(256 + 0),
                 "the server closed the TLS session (close_notify) during the handshake");
    CHECK_EQ_STR(osb_tls_strerror(256 + 120),
                 "the server requires an ALPN protocol (alert no_application_protocol)");
    CHECK_EQ_STR(osb_tls_strerror(1), "bad TLS parameter (library misuse)");
    CHECK_EQ_STR(osb_tls_strerror(31), "I/O error during TLS: the connection was reset or closed mid-handshake");
    CHECK_EQ_STR(osb_tls_strerror(48), "the server's certificate has malformed validity dates");
    CHECK(strstr(osb_tls_strerror(62), "SSL_CERT_FILE") != NULL);
    CHECK_EQ_STR(osb_tls_strerror(256 + 46), osb_tls_strerror(256 + 42));
    CHECK(strstr(osb_tls_strerror(256 + 42), "rejected a certificate") != NULL);
    CHECK_EQ_STR(osb_tls_strerror(33), "the server's certificate is malformed");
    CHECK_EQ_STR(osb_tls_strerror(47), "the server's certificate is malformed");
    CHECK_EQ_STR(osb_tls_strerror(256 + 1), "the server sent a fatal TLS alert");
    CHECK_EQ_STR(osb_tls_strerror(61), "certificate validation failed");
    CHECK_EQ_STR(osb_tls_strerror(11), "TLS failure");
    CHECK_EQ_STR(osb_tls_strerror(64), "TLS failure");
}

/* ---- trust anchors ------------------------------------------------------- */

static void unset_env(void) {
    unsetenv("SSL_CERT_FILE");
    unsetenv("SSL_CERT_DIR");
}

TEST(tls_anchors_from_file_buffer_and_both) {
    osb_tls_config cfg;
    osb_error err;
    size_t n = 99;
    char src[160];
    char *pem;
    FILE *f;
    long len;
    certs();
    unset_env();
    cfg = ca_file_cfg();
    CHECK_EQ_INT(osb_tls_anchor_count(&cfg, &n, src, sizeof src, &err), OSB_OK);
    CHECK_EQ_INT(n, 1);
    CHECK_EQ_STR(src, CERTS "/ca.pem");

    f = fopen(CERTS "/other-ca.pem", "rb");
    CHECK(f != NULL);
    if (!f) return;
    fseek(f, 0, SEEK_END);
    len = ftell(f);
    fseek(f, 0, SEEK_SET);
    pem = (char *)malloc((size_t)len + 1);
    CHECK(fread(pem, 1, (size_t)len, f) == (size_t)len);
    pem[len] = 0;
    fclose(f);
    memset(&cfg, 0, sizeof cfg);
    cfg.ca_pem = pem;
    CHECK_EQ_INT(osb_tls_anchor_count(&cfg, &n, src, sizeof src, &err), OSB_OK);
    CHECK_EQ_INT(n, 1);
    CHECK_EQ_STR(src, "ca_pem");
    cfg.ca_pem_len = (size_t)len;
    cfg.ca_file = CERTS "/ca.pem";
    CHECK_EQ_INT(osb_tls_anchor_count(&cfg, &n, src, sizeof src, &err), OSB_OK);
    CHECK_EQ_INT(n, 2);
    /* the same certificate twice is one anchor */
    cfg.ca_file = CERTS "/other-ca.pem";
    CHECK_EQ_INT(osb_tls_anchor_count(&cfg, &n, NULL, 0, &err), OSB_OK);
    CHECK_EQ_INT(n, 1);
    free(pem);
}

TEST(tls_anchors_skip_non_certificate_blocks) {
    osb_tls_config cfg;
    osb_error err;
    size_t n = 0;
    certs();
    memset(&cfg, 0, sizeof cfg);
    cfg.ca_file = CERTS "/ca-bundle.pem";
    CHECK_EQ_INT(osb_tls_anchor_count(&cfg, &n, NULL, 0, &err), OSB_OK);
    CHECK_EQ_INT(n, 1);
}

TEST(tls_anchors_zero_is_an_error) {
    osb_tls_config cfg;
    osb_error err;
    size_t n = 5;
    certs();
    unset_env();
    memset(&cfg, 0, sizeof cfg);
    cfg.ca_file = CERTS "/empty.pem";
    memset(&err, 0, sizeof err);
    CHECK_EQ_INT(osb_tls_anchor_count(&cfg, &n, NULL, 0, &err), OSB_ERR_TLS);
    CHECK_EQ_INT(n, 0);
    CHECK(strstr(err.message, "no trust anchors") != NULL);
    CHECK(strstr(err.message, "never skipped") != NULL);

    cfg.ca_file = CERTS "/truncated.pem";
    CHECK_EQ_INT(osb_tls_anchor_count(&cfg, &n, NULL, 0, &err), OSB_ERR_TLS);
    CHECK(strstr(err.message, "truncated.pem") != NULL);

    cfg.ca_file = CERTS "/does-not-exist.pem";
    CHECK_EQ_INT(osb_tls_anchor_count(&cfg, &n, NULL, 0, &err), OSB_ERR_TLS);
    CHECK(strstr(err.message, "cannot be opened") != NULL);

    memset(&cfg, 0, sizeof cfg);
    cfg.ca_pem = "";
    cfg.ca_pem_len = 0;
    CHECK_EQ_INT(osb_tls_anchor_count(&cfg, &n, NULL, 0, &err), OSB_ERR_TLS);
    cfg.ca_pem = "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n";
    CHECK_EQ_INT(osb_tls_anchor_count(&cfg, &n, NULL, 0, &err), OSB_ERR_TLS);
    CHECK(strstr(err.message, "cannot be decoded") != NULL);
}

TEST(tls_anchors_environment_order) {
    osb_error err;
    size_t n = 0;
    char src[160];
    certs();
    unset_env();
    setenv("SSL_CERT_FILE", CERTS "/ca.pem", 1);
    setenv("SSL_CERT_DIR", "/nonexistent-dir", 1);
    CHECK_EQ_INT(osb_tls_anchor_count(NULL, &n, src, sizeof src, &err), OSB_OK);
    CHECK_EQ_INT(n, 1);
    CHECK_EQ_STR(src, CERTS "/ca.pem");
    /* a set SSL_CERT_FILE that is unusable is an error, not a fall-through */
    setenv("SSL_CERT_FILE", CERTS "/empty.pem", 1);
    CHECK_EQ_INT(osb_tls_anchor_count(NULL, &n, src, sizeof src, &err), OSB_ERR_TLS);
    CHECK(strstr(err.message, "SSL_CERT_FILE") != NULL);
    unsetenv("SSL_CERT_FILE");
    CHECK_EQ_INT(osb_tls_anchor_count(NULL, &n, src, sizeof src, &err), OSB_ERR_TLS);
    CHECK(strstr(err.message, "SSL_CERT_DIR") != NULL);
    setenv("SSL_CERT_DIR", CERTS "/certdir", 1);
    CHECK_EQ_INT(osb_tls_anchor_count(NULL, &n, src, sizeof src, &err), OSB_OK);
    CHECK_EQ_INT(n, 1);
    CHECK_EQ_STR(src, CERTS "/certdir");
    /* the config wins over the environment */
    {
        osb_tls_config cfg;
        memset(&cfg, 0, sizeof cfg);
        cfg.ca_file = CERTS "/other-ca.pem";
        setenv("SSL_CERT_FILE", CERTS "/ca.pem", 1);
        CHECK_EQ_INT(osb_tls_anchor_count(&cfg, &n, src, sizeof src, &err), OSB_OK);
        CHECK_EQ_STR(src, CERTS "/other-ca.pem");
    }
    unset_env();
}

TEST(tls_anchors_system_bundle) {
    osb_error err;
    size_t n = 0;
    char src[160];
    unset_env();
    if (access("/etc/ssl/certs/ca-certificates.crt", R_OK) != 0)
        SKIP("no /etc/ssl/certs/ca-certificates.crt on this machine");
    CHECK_EQ_INT(osb_tls_anchor_count(NULL, &n, src, sizeof src, &err), OSB_OK);
    CHECK(n > 50);
    CHECK_EQ_STR(src, "/etc/ssl/certs/ca-certificates.crt");
}

TEST(tls_anchors_allocations_are_freed) {
    counter cnt;
    osb_allocator a;
    osb__tls_ctx *ctx = NULL;
    osb_tls_config cfg;
    osb_error err;
    certs();
    memset(&cnt, 0, sizeof cnt);
    a.alloc = cnt_alloc;
    a.realloc = cnt_realloc;
    a.free = cnt_free;
    a.ctx = &cnt;
    cfg = ca_file_cfg();
    cfg.ca_file = CERTS "/ca-bundle.pem";
    CHECK_EQ_INT(osb__tls_ctx_new(&cfg, &a, &ctx, &err), OSB_OK);
    CHECK(cnt.live > 0);
    osb__tls_ctx_free(ctx);
    CHECK_EQ_INT(cnt.live, 0);
    CHECK_EQ_INT(cnt.allocs, cnt.frees);
    cfg.ca_file = CERTS "/empty.pem";
    CHECK_EQ_INT(osb__tls_ctx_new(&cfg, &a, &ctx, &err), OSB_ERR_TLS);
    CHECK(ctx == NULL);
    CHECK_EQ_INT(cnt.live, 0);
}

/* Fails the n-th allocation; every failure must come back as NOMEM, leak-free. */
typedef struct failing {
    counter c;
    long fail_at, calls;
} failing;

static void *fail_alloc(void *ctx, size_t size) {
    failing *f = (failing *)ctx;
    if (f->calls++ == f->fail_at) return NULL;
    return cnt_alloc(&f->c, size);
}
static void *fail_realloc(void *ctx, void *ptr, size_t old, size_t size) {
    failing *f = (failing *)ctx;
    void *q;
    if (f->calls++ == f->fail_at) return NULL;
    q = cnt_alloc(&f->c, size);
    if (!q) return NULL;
    if (ptr) {
        memcpy(q, ptr, old < size ? old : size);
        cnt_free(&f->c, ptr);
    }
    return q;
}
static void fail_free(void *ctx, void *ptr) { cnt_free(&((failing *)ctx)->c, ptr); }

TEST(tls_anchors_out_of_memory) {
    long i;
    certs();
    unset_env();
    for (i = 0; i < 40; i++) {
        failing f;
        osb_allocator a;
        osb__tls_ctx *ctx = NULL;
        osb_tls_config cfg;
        osb_error err;
        osb_err e;
        memset(&f, 0, sizeof f);
        f.fail_at = i;
        a.alloc = fail_alloc;
        a.realloc = fail_realloc;
        a.free = fail_free;
        a.ctx = &f;
        memset(&cfg, 0, sizeof cfg);
        cfg.ca_file = CERTS "/ca.pem";
        cfg.ca_pem = "";
        e = osb__tls_ctx_new(&cfg, &a, &ctx, &err);
        if (e == OSB_OK) {
            osb__tls_ctx_free(ctx);
        } else {
            CHECK_EQ_INT(e, OSB_ERR_NOMEM);
        }
        CHECK_EQ_INT(f.c.live, 0);
        if (e == OSB_OK) break;
    }
}

/* The library's PEM reader against BearSSL's PEM decoder: the same anchors
 * (DN and key), in the same order, from the system bundle and the test CAs. */
typedef struct ref_load {
    br_x509_decoder_context x509;
    unsigned char dn[4096];
    size_t dn_len;
    int in_cert;
} ref_load;

static void ref_dn(void *ctx, const void *p, size_t n) {
    ref_load *r = (ref_load *)ctx;
    if (n <= sizeof r->dn - r->dn_len) memcpy(r->dn + r->dn_len, p, n);
    r->dn_len += n;
}

static void ref_push(void *ctx, const void *p, size_t n) {
    br_x509_decoder_push(&((ref_load *)ctx)->x509, p, n);
}

/* 1 if anchor ta holds the DN, key and CA flag the reference decoder found. */
static int same_anchor(const br_x509_trust_anchor *ta, const ref_load *r, const br_x509_pkey *pk) {
    if (ta->dn.len != r->dn_len || memcmp(ta->dn.data, r->dn, r->dn_len) != 0) return 0;
    if (ta->pkey.key_type != pk->key_type) return 0;
    if (!(ta->flags & BR_X509_TA_CA) != !br_x509_decoder_isCA((br_x509_decoder_context *)&r->x509))
        return 0;
    if (pk->key_type == BR_KEYTYPE_RSA)
        return ta->pkey.key.rsa.nlen == pk->key.rsa.nlen &&
               memcmp(ta->pkey.key.rsa.n, pk->key.rsa.n, pk->key.rsa.nlen) == 0 &&
               ta->pkey.key.rsa.elen == pk->key.rsa.elen &&
               memcmp(ta->pkey.key.rsa.e, pk->key.rsa.e, pk->key.rsa.elen) == 0;
    return ta->pkey.key.ec.curve == pk->key.ec.curve && ta->pkey.key.ec.qlen == pk->key.ec.qlen &&
           memcmp(ta->pkey.key.ec.q, pk->key.ec.q, pk->key.ec.qlen) == 0;
}

/* Reads path with BearSSL's own PEM decoder: every certificate it decodes
 * must be one of ctx's anchors, and every anchor must be among them (the
 * library drops exact duplicates). Returns the number of certificates
 * compared, or -1 on a difference. */
static long compare_with_bearssl(const char *path, const osb__tls_ctx *ctx) {
    static char text[1 << 20];
    static unsigned char hit[4096];
    br_pem_decoder_context pc;
    ref_load r;
    size_t n, off = 0, k = 0, i;
    FILE *f = fopen(path, "rb");
    if (!f || ctx->n > sizeof hit) {
        if (f) fclose(f);
        return -1;
    }
    n = fread(text, 1, sizeof text, f);
    fclose(f);
    memset(hit, 0, sizeof hit);
    br_pem_decoder_init(&pc);
    memset(&r, 0, sizeof r);
    while (off < n) {
        off += br_pem_decoder_push(&pc, text + off, n - off);
        switch (br_pem_decoder_event(&pc)) {
        case BR_PEM_BEGIN_OBJ:
            r.in_cert = strcmp(br_pem_decoder_name(&pc), "CERTIFICATE") == 0;
            r.dn_len = 0;
            br_x509_decoder_init(&r.x509, ref_dn, &r);
            br_pem_decoder_setdest(&pc, r.in_cert ? ref_push : 0, &r);
            break;
        case BR_PEM_END_OBJ:
            if (r.in_cert) {
                br_x509_pkey *pk = br_x509_decoder_get_pkey(&r.x509);
                int found = 0;
                if (!pk) break; /* undecodable: skipped by both */
                k++;
                for (i = 0; i < ctx->n; i++)
                    if (same_anchor(&ctx->tas[i], &r, pk)) { hit[i] = 1; found = 1; }
                if (!found) {
                    fprintf(stderr, "  certificate %lu of %s is not among the anchors\n",
                            (unsigned long)k, path);
                    return -1;
                }
            }
            break;
        case BR_PEM_ERROR:
            return -1;
        default:
            break;
        }
    }
    for (i = 0; i < ctx->n; i++)
        if (!hit[i]) {
            fprintf(stderr, "  anchor %lu of %s was not read by BearSSL\n", (unsigned long)i, path);
            return -1;
        }
    return (long)k;
}

TEST(tls_pem_reader_matches_bearssl) {
    static const char *const files[] = {"/etc/ssl/certs/ca-certificates.crt",
                                        CERTS "/ca-bundle.pem", CERTS "/rsa.pem",
                                        CERTS "/other-ca.pem"};
    size_t i;
    certs();
    for (i = 0; i < sizeof files / sizeof files[0]; i++) {
        osb_tls_config cfg;
        osb__tls_ctx *ctx = NULL;
        osb_error err;
        long k;
        if (access(files[i], R_OK) != 0) continue;
        memset(&cfg, 0, sizeof cfg);
        cfg.ca_file = files[i];
        CHECK_EQ_INT(osb__tls_ctx_new(&cfg, NULL, &ctx, &err), OSB_OK);
        if (!ctx) continue;
        k = compare_with_bearssl(files[i], ctx);
        CHECK(k > 0);
        osb__tls_ctx_free(ctx);
    }
}

/* Line endings, a missing final newline, blanks: all read the same. */
TEST(tls_pem_reader_text_variants) {
    char text[4096], variant[8192];
    size_t n, i, j;
    FILE *f;
    osb_tls_config cfg;
    osb_error err;
    size_t count;
    certs();
    f = fopen(CERTS "/ca.pem", "rb");
    CHECK(f != NULL);
    if (!f) return;
    n = fread(text, 1, sizeof text, f);
    fclose(f);
    memset(&cfg, 0, sizeof cfg);
    cfg.ca_pem = variant;
    /* CRLF */
    for (i = j = 0; i < n; i++) {
        if (text[i] == '\n') variant[j++] = '\r';
        variant[j++] = text[i];
    }
    cfg.ca_pem_len = j;
    CHECK_EQ_INT(osb_tls_anchor_count(&cfg, &count, NULL, 0, &err), OSB_OK);
    CHECK_EQ_INT(count, 1);
    /* no final newline */
    memcpy(variant, text, n);
    cfg.ca_pem_len = n - 1;
    CHECK_EQ_INT(osb_tls_anchor_count(&cfg, &count, NULL, 0, &err), OSB_OK);
    CHECK_EQ_INT(count, 1);
    /* trailing blanks on every line */
    for (i = j = 0; i < n; i++) {
        if (text[i] == '\n') { variant[j++] = ' '; variant[j++] = '\t'; }
        variant[j++] = text[i];
    }
    cfg.ca_pem_len = j;
    CHECK_EQ_INT(osb_tls_anchor_count(&cfg, &count, NULL, 0, &err), OSB_OK);
    CHECK_EQ_INT(count, 1);
    /* a stray character in the base64 */
    memcpy(variant, text, n);
    variant[40] = '*';
    cfg.ca_pem_len = n;
    CHECK_EQ_INT(osb_tls_anchor_count(&cfg, &count, NULL, 0, &err), OSB_ERR_TLS);
    CHECK(strstr(err.message, "base64") != NULL);
    /* data after the padding */
    {
        const char *end = strstr(text, "-----END");
        size_t at = (size_t)(end - text);
        memcpy(variant, text, at);
        memcpy(variant + at, "==AA\n", 5);
        memcpy(variant + at + 5, end, n - at);
        cfg.ca_pem_len = n + 5;
        CHECK_EQ_INT(osb_tls_anchor_count(&cfg, &count, NULL, 0, &err), OSB_ERR_TLS);
    }
    /* one byte at a time through the file reader is the same as all at once */
    {
        osb__tls_ctx ctx;
        osb__pem_load L;
        memset(&ctx, 0, sizeof ctx);
        osb__tls_load_begin(&L, &ctx, "bytes", 1, &err);
        for (i = 0; i < n; i++) osb__tls_pem_push(&L, (const unsigned char *)text + i, 1);
        CHECK_EQ_INT(osb__tls_load_end(&L), 1);
        osb__tls_free_anchors(&ctx);
    }
}

/* Inputs that crash BearSSL 0.6's X.509 decoder when it is fed past an
 * error or past the end of a certificate: refused cleanly. */
TEST(tls_pem_reader_guards_the_x509_decoder) {
    osb_tls_config cfg;
    osb_error err;
    size_t n;
    certs();
    memset(&cfg, 0, sizeof cfg);
    cfg.ca_file = CERTS "/trailing.pem";
    CHECK_EQ_INT(osb_tls_anchor_count(&cfg, &n, NULL, 0, &err), OSB_ERR_TLS);
    CHECK(strstr(err.message, "bytes after its end") != NULL ||
          strstr(err.message, "cannot be decoded") != NULL);
    cfg.ca_file = "tests/fuzz/corpus/tls/x509-push-after-error.pem";
    CHECK_EQ_INT(osb_tls_anchor_count(&cfg, &n, NULL, 0, &err), OSB_ERR_TLS);
    CHECK(strstr(err.message, "cannot be decoded") != NULL);
}

/* ---- IP literals -------------------------------------------------------------- */

TEST(tls_ip_literal_parser) {
    unsigned char ip[16];
    static const unsigned char v6_1[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
    static const unsigned char v6_b[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0,
                                           0, 0, 0, 0, 0, 0, 0x12, 0x34};
    static const unsigned char v6_m[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 10, 0, 0, 5};
    CHECK_EQ_INT(osb__parse_ip("127.0.0.1", ip), 4);
    CHECK(ip[0] == 127 && ip[1] == 0 && ip[2] == 0 && ip[3] == 1);
    CHECK_EQ_INT(osb__parse_ip("255.255.255.255", ip), 4);
    CHECK_EQ_INT(osb__parse_ip("::1", ip), 16);
    CHECK(memcmp(ip, v6_1, 16) == 0);
    CHECK_EQ_INT(osb__parse_ip("[::1]", ip), 16);
    CHECK(memcmp(ip, v6_1, 16) == 0);
    CHECK_EQ_INT(osb__parse_ip("2001:db8::1234", ip), 16);
    CHECK(memcmp(ip, v6_b, 16) == 0);
    CHECK_EQ_INT(osb__parse_ip("2001:DB8:0:0:0:0:0:1234", ip), 16);
    CHECK(memcmp(ip, v6_b, 16) == 0);
    CHECK_EQ_INT(osb__parse_ip("::ffff:10.0.0.5", ip), 16);
    CHECK(memcmp(ip, v6_m, 16) == 0);
    CHECK_EQ_INT(osb__parse_ip("fe80::1%eth0", ip), 16);
    CHECK_EQ_INT(osb__parse_ip("localhost", ip), 0);
    CHECK_EQ_INT(osb__parse_ip("example.com", ip), 0);
    CHECK_EQ_INT(osb__parse_ip("256.0.0.1", ip), 0);
    CHECK_EQ_INT(osb__parse_ip("1.2.3", ip), 0);
    CHECK_EQ_INT(osb__parse_ip("1.2.3.4.5", ip), 0);
    CHECK_EQ_INT(osb__parse_ip("1.2.3.4x", ip), 0);
    CHECK_EQ_INT(osb__parse_ip("1::2::3", ip), 0);
    CHECK_EQ_INT(osb__parse_ip("1:2:3:4:5:6:7:8:9", ip), 0);
    CHECK_EQ_INT(osb__parse_ip("12345::", ip), 0);
    CHECK_EQ_INT(osb__parse_ip(":1", ip), 0);
    CHECK_EQ_INT(osb__parse_ip("1:", ip), 0);
    CHECK_EQ_INT(osb__parse_ip("", ip), 0);
    /* a leading zero is octal to the C library's resolver: refused, so that
       the address checked is the address connected */
    CHECK_EQ_INT(osb__parse_ip("1.2.3.04", ip), 0);
    CHECK_EQ_INT(osb__parse_ip("010.0.0.1", ip), 0);
    CHECK_EQ_INT(osb__parse_ip("::ffff:010.0.0.1", ip), 0);
    CHECK_EQ_INT(osb__parse_ip("0.0.0.0", ip), 4);
    CHECK_EQ_INT(osb__parse_ip("10.0.0.100", ip), 4);
}

/* ---- the iPAddress SAN reader ------------------------------------------------ */

typedef struct der_buf {
    unsigned char data[8192];
    size_t len;
} der_buf;

static void der_append(void *ctx, const void *p, size_t n) {
    der_buf *d = (der_buf *)ctx;
    if (n <= sizeof d->data - d->len) {
        memcpy(d->data + d->len, p, n);
        d->len += n;
    }
}

/* The first certificate of a PEM file, as DER. */
static size_t pem_to_der(const char *path, der_buf *out) {
    br_pem_decoder_context pc;
    char text[16384];
    size_t n, off = 0;
    FILE *f = fopen(path, "rb");
    out->len = 0;
    if (!f) return 0;
    n = fread(text, 1, sizeof text, f);
    fclose(f);
    br_pem_decoder_init(&pc);
    while (off < n) {
        off += br_pem_decoder_push(&pc, text + off, n - off);
        switch (br_pem_decoder_event(&pc)) {
        case BR_PEM_BEGIN_OBJ: br_pem_decoder_setdest(&pc, der_append, out); break;
        case BR_PEM_END_OBJ: return out->len;
        case BR_PEM_ERROR: return 0;
        default: break;
        }
    }
    return 0;
}

TEST(tls_ip_san_reader) {
    static const unsigned char lo4[4] = {127, 0, 0, 1}, other4[4] = {127, 0, 0, 2};
    static const unsigned char lo6[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
    der_buf d;
    certs();
    CHECK(pem_to_der(CERTS "/iponly.pem", &d) > 0);
    CHECK_EQ_INT(osb__tls_cert_has_ip(d.data, d.len, lo4, 4), 1);
    CHECK_EQ_INT(osb__tls_cert_has_ip(d.data, d.len, lo6, 16), 1);
    CHECK_EQ_INT(osb__tls_cert_has_ip(d.data, d.len, other4, 4), 0);
    CHECK(pem_to_der(CERTS "/ipother.pem", &d) > 0);
    CHECK_EQ_INT(osb__tls_cert_has_ip(d.data, d.len, lo4, 4), 0);
    CHECK(pem_to_der(CERTS "/good.pem", &d) > 0);
    CHECK_EQ_INT(osb__tls_cert_has_ip(d.data, d.len, lo4, 4), 0);
    CHECK_EQ_INT(osb__tls_cert_has_ip(d.data, 0, lo4, 4), -1);
}

/* Every prefix and many random corruptions: never a read out of bounds
 * (run under ASan or valgrind), never a match that is not there. */
TEST(tls_ip_san_reader_hostile_input) {
    static const unsigned char lo4[4] = {127, 0, 0, 1}, none[4] = {10, 9, 8, 7};
    der_buf d;
    unsigned char *copy;
    size_t i;
    unsigned long seed = 12345;
    certs();
    CHECK(pem_to_der(CERTS "/iponly.pem", &d) > 0);
    for (i = 0; i < d.len; i++) {
        /* a heap copy of exactly i bytes, so an over-read is caught */
        copy = (unsigned char *)malloc(i ? i : 1);
        memcpy(copy, d.data, i);
        CHECK(osb__tls_cert_has_ip(copy, i, lo4, 4) != 1 || i == d.len);
        free(copy);
    }
    for (i = 0; i < 20000; i++) {
        int r;
        copy = (unsigned char *)malloc(d.len);
        memcpy(copy, d.data, d.len);
        seed = seed * 1103515245ul + 12345ul;
        copy[(seed >> 8) % d.len] = (unsigned char)(seed >> 20);
        seed = seed * 1103515245ul + 12345ul;
        if (i & 1) copy[(seed >> 8) % d.len] = (unsigned char)(seed >> 20);
        r = osb__tls_cert_has_ip(copy, d.len, none, 4);
        CHECK(r == 0 || r == -1);
        free(copy);
    }
}

/* The PEM loader on cut and corrupted bundles: an error or some anchors,
 * never a crash or a leak. */
TEST(tls_pem_loader_hostile_input) {
    char text[4096];
    size_t n, i;
    unsigned long seed = 777;
    FILE *f;
    counter cnt;
    osb_allocator a;
    certs();
    f = fopen(CERTS "/ca-bundle.pem", "rb");
    CHECK(f != NULL);
    if (!f) return;
    n = fread(text, 1, sizeof text, f);
    fclose(f);
    memset(&cnt, 0, sizeof cnt);
    a.alloc = cnt_alloc;
    a.realloc = cnt_realloc;
    a.free = cnt_free;
    a.ctx = &cnt;
    for (i = 0; i < n + 3000; i++) {
        osb_tls_config cfg;
        osb__tls_ctx *ctx = NULL;
        osb_error err;
        char *buf = (char *)malloc(n);
        size_t len = i < n ? i : n;
        memcpy(buf, text, n);
        if (i >= n) {
            seed = seed * 1103515245ul + 12345ul;
            buf[(seed >> 8) % n] = (char)(seed >> 20);
        }
        memset(&cfg, 0, sizeof cfg);
        cfg.ca_pem = buf;
        cfg.ca_pem_len = len ? len : 1;
        if (osb__tls_ctx_new(&cfg, &a, &ctx, &err) == OSB_OK) {
            CHECK(ctx->n >= 1);
            osb__tls_ctx_free(ctx);
        } else {
            CHECK_EQ_INT(err.code, OSB_ERR_TLS);
        }
        CHECK_EQ_INT(cnt.live, 0);
        free(buf);
    }
}

/* ---- handshakes ---------------------------------------------------------- */

TEST(tls_handshake_good_ec_and_rsa) {
    osb_tls_config cfg = ca_file_cfg();
    osb_error err;
    CHECK_EQ_INT(handshake("good", "http", &cfg, "localhost", &err), OSB_OK);
    CHECK_EQ_INT(handshake("rsa", "http", &cfg, "localhost", &err), OSB_OK);
    CHECK_EQ_INT(handshake("good", "http", &cfg, "LOCALHOST", &err), OSB_OK);
    CHECK_EQ_INT(handshake("good", "http", &cfg, "localhost.", &err), OSB_OK);
}

TEST(tls_handshake_bad_certificates) {
    osb_tls_config cfg = ca_file_cfg();
    osb_error err;
    CHECK_EQ_INT(handshake("wrongname", "http", &cfg, "localhost", &err), OSB_ERR_TLS);
    CHECK_EQ_INT(err.tls_error, 56);
    CHECK(strstr(err.message, "does not match the host name") != NULL);
    CHECK_EQ_INT(err.phase, OSB_PHASE_TLS);
    CHECK_EQ_INT(handshake("expired", "http", &cfg, "localhost", &err), OSB_ERR_TLS);
    CHECK_EQ_INT(err.tls_error, 54);
    CHECK(strstr(err.message, "expired") != NULL);
    CHECK_EQ_INT(handshake("selfsigned", "http", &cfg, "localhost", &err), OSB_ERR_TLS);
    CHECK_EQ_INT(err.tls_error, 62);
    CHECK(strstr(err.message, "not trusted") != NULL);
    CHECK_EQ_INT(handshake("unknownca", "http", &cfg, "localhost", &err), OSB_ERR_TLS);
    CHECK_EQ_INT(err.tls_error, 62);
    /* the name check is not skipped under a different spelling */
    CHECK_EQ_INT(handshake("good", "http", &cfg, "localhost.example", &err), OSB_ERR_TLS);
    CHECK_EQ_INT(err.tls_error, 56);
}

TEST(tls_handshake_ip_literals) {
    osb_tls_config cfg = ca_file_cfg();
    osb_error err;
    /* an iPAddress SAN for 127.0.0.1 */
    CHECK_EQ_INT(handshake("iponly", "http", &cfg, "127.0.0.1", &err), OSB_OK);
    /* a leaf for "localhost" has no address: refused */
    CHECK_EQ_INT(handshake("good", "http", &cfg, "127.0.0.1", &err), OSB_ERR_TLS);
    CHECK_EQ_INT(err.tls_error, 56);
    /* a dNSName that spells the address does not count; the IP SAN is another */
    CHECK_EQ_INT(handshake("ipother", "http", &cfg, "127.0.0.1", &err), OSB_ERR_TLS);
    CHECK_EQ_INT(err.tls_error, 56);
    /* the chain is still checked for addresses */
    {
        osb_tls_config other;
        memset(&other, 0, sizeof other);
        other.ca_file = CERTS "/other-ca.pem";
        CHECK_EQ_INT(handshake("iponly", "http", &other, "127.0.0.1", &err), OSB_ERR_TLS);
        CHECK_EQ_INT(err.tls_error, 62);
    }
}

static int64_t clock_2020(void *user) { (void)user; return 1579046400; /* 2020-01-15 */ }
static int64_t clock_unknown(void *user) { (void)user; return -1; }

TEST(tls_handshake_clock_hook) {
    osb_tls_config cfg = ca_file_cfg();
    osb_error err;
    cfg.now = clock_2020;
    /* valid in January 2020 */
    CHECK_EQ_INT(handshake("expired", "http", &cfg, "localhost", &err), OSB_OK);
    /* not yet valid in 2020 */
    CHECK_EQ_INT(handshake("good", "http", &cfg, "localhost", &err), OSB_ERR_TLS);
    CHECK_EQ_INT(err.tls_error, 54);
    cfg.now = clock_unknown;
    CHECK_EQ_INT(handshake("good", "http", &cfg, "localhost", &err), OSB_ERR_TLS);
    CHECK_EQ_INT(err.tls_error, 53);
    CHECK(strstr(err.message, "time is unknown") != NULL);
}

static int entropy_fails(void *user, void *buf, size_t len) {
    (void)user; (void)buf; (void)len;
    return -1;
}
static int entropy_fixed(void *user, void *buf, size_t len) {
    (void)user;
    memset(buf, 0x5a, len);
    return 0;
}

TEST(tls_handshake_entropy_hook) {
    osb_tls_config cfg = ca_file_cfg();
    osb_error err;
    cfg.entropy = entropy_fixed;
    CHECK_EQ_INT(handshake("good", "http", &cfg, "localhost", &err), OSB_OK);
    cfg.entropy = entropy_fails;
    CHECK_EQ_INT(handshake("good", "http", &cfg, "localhost", &err), OSB_ERR_TLS);
    CHECK_EQ_INT(err.tls_error, 8);
    CHECK(strstr(err.message, "entropy") != NULL);
}

TEST(tls_handshake_insecure_skip_verify) {
    osb_tls_config cfg;
    osb_error err;
    memset(&cfg, 0, sizeof cfg);
    cfg.insecure_skip_verify = 1;
    CHECK_EQ_INT(handshake("selfsigned", "http", &cfg, "localhost", &err), OSB_OK);
    CHECK_EQ_INT(handshake("wrongname", "http", &cfg, "localhost", &err), OSB_OK);
    CHECK_EQ_INT(handshake("expired", "http", &cfg, "127.0.0.1", &err), OSB_OK);
    CHECK_EQ_INT(handshake("rsa", "http", &cfg, "localhost", &err), OSB_OK);
}

TEST(tls_handshake_protocol_versions) {
    osb_tls_config cfg = ca_file_cfg();
    osb_error err;
    CHECK_EQ_INT(handshake("rsa", "tls10", &cfg, "localhost", &err), OSB_ERR_TLS);
    /* refused either as a version (3, alert 70) or for want of a TLS 1.2 suite (alert 40) */
    CHECK(err.tls_error == 3 || err.tls_error == 256 + 70 || err.tls_error == 256 + 40);
    CHECK(strstr(err.message, "TLS 1.0") != NULL || strstr(err.message, "TLS 1.2") != NULL);
    CHECK_EQ_INT(handshake("good", "tls13", &cfg, "localhost", &err), OSB_ERR_TLS);
    CHECK_EQ_INT(err.tls_error, 256 + 70);
    CHECK(strstr(err.message, "TLS 1.3") != NULL);
}

TEST(tls_handshake_not_tls_and_resets) {
    osb_tls_config cfg = ca_file_cfg();
    osb_error err;
    CHECK_EQ_INT(handshake("good", "plain", &cfg, "localhost", &err), OSB_ERR_TLS);
    CHECK(strstr(err.message, "plain HTTP") != NULL);
    CHECK_EQ_INT(handshake("good", "reset", &cfg, "localhost", &err), OSB_ERR_TLS);
    CHECK_EQ_INT(err.tls_error, 31);
    CHECK_EQ_INT(err.phase, OSB_PHASE_TLS);
    CHECK_EQ_INT(handshake("good", "silent", &cfg, "localhost", &err), OSB_ERR_TLS);
    CHECK(strstr(err.message, "closed the connection") != NULL);
}

TEST(tls_handshake_deadline) {
    osb_tls_config cfg = ca_file_cfg();
    server s;
    client cl;
    int64_t t0;
    osb_err e;
    if (server_start(&s, "good", "stall") != 0) { CHECK(0); return; }
    memset(&cl, 0, sizeof cl);
    CHECK_EQ_INT(osb__tls_ctx_new(&cfg, NULL, &cl.ctx, &cl.err), OSB_OK);
    cl.conn.fd = tcp_connect(s.port);
    t0 = osb__now_ms();
    e = osb__tls_open(cl.ctx, &cl.conn, "localhost", t0 + 300, &cl.err);
    CHECK_EQ_INT(e, OSB_ERR_TIMEOUT);
    CHECK_EQ_INT(cl.err.phase, OSB_PHASE_TLS);
    CHECK(osb__now_ms() - t0 < 2500);   /* not the server's 5 s of silence */
    CHECK(cl.conn.tls == NULL);
    close(cl.conn.fd);
    osb__tls_ctx_free(cl.ctx);
    server_stop(&s);
}

/* ---- data over TLS ------------------------------------------------------------- */

TEST(tls_keep_alive_and_pending) {
    osb_tls_config cfg = ca_file_cfg();
    server s;
    client cl;
    osb_err e;
    size_t got;
    char b[4];
    if (server_start(&s, "good", "http") != 0) { CHECK(0); return; }
    CHECK_EQ_INT(client_open(&cl, &cfg, "localhost", s.port), OSB_OK);
    CHECK_EQ_INT(get(&cl, "/hello", NULL, &e), 5);
    CHECK_EQ_INT(get(&cl, "/hello", NULL, &e), 5);
    CHECK_EQ_INT(get(&cl, "/big?n=100000", NULL, &e), 100000);
    /* a partly read response leaves decrypted bytes pending */
    CHECK_EQ_INT(osb__tls_pending(&cl.conn), 0);
    CHECK_EQ_INT(osb__tls_send_all(&cl.conn, "GET /hello HTTP/1.1\r\n\r\n", 23,
                                   osb__now_ms() + 2000, &cl.err), OSB_OK);
    CHECK_EQ_INT(osb__tls_recv_some(&cl.conn, b, 4, &got, osb__now_ms() + 2000,
                                    OSB_PHASE_FIRST_BYTE, &cl.err), OSB_OK);
    CHECK_EQ_INT(got, 4);
    CHECK(osb__tls_pending(&cl.conn) > 0);
    client_close(&cl);
    CHECK_EQ_INT(cl.count.live, 0);
    server_stop(&s);
}

TEST(tls_truncation_is_reported) {
    osb_tls_config cfg = ca_file_cfg();
    server s;
    client cl;
    osb_err e;
    if (server_start(&s, "good", "http") != 0) { CHECK(0); return; }
    /* Content-Length 1000, 100 bytes, then a TCP close without close_notify */
    CHECK_EQ_INT(client_open(&cl, &cfg, "localhost", s.port), OSB_OK);
    CHECK_EQ_INT(get(&cl, "/cut", NULL, &e), -1);
    CHECK_EQ_INT(e, OSB_ERR_TRUNCATED);
    CHECK(strstr(cl.err.message, "close_notify") != NULL);
    client_close(&cl);
    /* body until close: a bare TCP close is a truncation ... */
    CHECK_EQ_INT(client_open(&cl, &cfg, "localhost", s.port), OSB_OK);
    CHECK_EQ_INT(get(&cl, "/eof-bare", NULL, &e), -1);
    CHECK_EQ_INT(e, OSB_ERR_TRUNCATED);
    client_close(&cl);
    /* ... and close_notify is a proper end */
    CHECK_EQ_INT(client_open(&cl, &cfg, "localhost", s.port), OSB_OK);
    CHECK_EQ_INT(get(&cl, "/eof-notify", NULL, &e), 11);
    CHECK_EQ_INT(e, OSB_OK);
    client_close(&cl);
    CHECK_EQ_INT(cl.count.live, 0);
    server_stop(&s);
}

TEST(tls_large_download_constant_memory) {
    osb_tls_config cfg = ca_file_cfg();
    server s;
    client cl;
    osb_err e;
    unsigned long sum = 0, want = 0;
    long n = 32L << 20, i;
    size_t peak_after_open;
    int64_t t0;
    if (server_start(&s, "good", "http") != 0) { CHECK(0); return; }
    CHECK_EQ_INT(client_open(&cl, &cfg, "localhost", s.port), OSB_OK);
    peak_after_open = cl.count.peak;
    t0 = osb__now_ms();
    CHECK_EQ_INT(get(&cl, "/big?n=33554432", &sum, &e), n);
    for (i = 0; i < n; i++) want += (unsigned long)(i % 256);
    CHECK_EQ_INT(sum, want);
    CHECK_EQ_INT(cl.count.peak, peak_after_open);
    fprintf(stderr, "    32 MiB over TLS in %lld ms; peak heap %lu bytes "
                    "(TLS connection %lu, of which record buffer %lu)\n",
            (long long)(osb__now_ms() - t0), (unsigned long)cl.count.peak,
            (unsigned long)osb__tls_conn_size(0), (unsigned long)OSB__TLS_IOBUF);
    client_close(&cl);
    server_stop(&s);
}

TEST(tls_send_after_close_fails_cleanly) {
    osb_tls_config cfg = ca_file_cfg();
    server s;
    client cl;
    osb_err e;
    if (server_start(&s, "good", "http") != 0) { CHECK(0); return; }
    CHECK_EQ_INT(client_open(&cl, &cfg, "localhost", s.port), OSB_OK);
    CHECK_EQ_INT(get(&cl, "/eof-notify", NULL, &e), 11);
    e = osb__tls_send_all(&cl.conn, "x", 1, osb__now_ms() + 1000, &cl.err);
    CHECK(e != OSB_OK);
    client_close(&cl);
    server_stop(&s);
}

/* ---- end to end through the public request API ------------------------------ */

typedef struct e2e {
    server s;
    osb_client *c;
    counter count;
    osb_allocator alloc;
    char url[128];
} e2e;

/* Starts a server with leaf LEAF in MODE and a client for https://HOST:port
 * (HOST "[::1]" puts the server on ::1). */
static osb_err e2e_open(e2e *t, const char *leaf, const char *mode, const char *host,
                        const osb_tls_config *tls) {
    osb_client_config cfg;
    memset(t, 0, sizeof *t);
    if (server_start_on(&t->s, leaf, mode, strchr(host, ':') ? "::1" : "127.0.0.1") != 0)
        return OSB_ERR_CONNECT;
    t->alloc.alloc = cnt_alloc;
    t->alloc.realloc = cnt_realloc;
    t->alloc.free = cnt_free;
    t->alloc.ctx = &t->count;
    snprintf(t->url, sizeof t->url, "https://%s:%d", host, t->s.port);
    memset(&cfg, 0, sizeof cfg);
    cfg.domain = t->url;
    cfg.allocator = &t->alloc;
    cfg.timeouts.connect_ms = 5000;
    if (tls) cfg.tls = *tls;
    return osb_client_new(&cfg, &t->c);
}

static void e2e_close(e2e *t) {
    osb_client_free(t->c);
    t->c = NULL;
    CHECK_EQ_INT(t->count.live, 0);
    server_stop(&t->s);
}

/* GET path; the body lands in *body (freed by the caller with osb_buf_free). */
static osb_err e2e_get(e2e *t, const char *path, osb_buf *body) {
    osb_http_request req;
    osb_http_response res;
    osb_err e;
    memset(&req, 0, sizeof req);
    memset(&res, 0, sizeof res);
    req.path = path;
    if (body) {
        req.sink = osb_buf_sink;
        req.sink_user = body;
    }
    e = osb_request_raw(t->c, &req, &res);
    osb_http_response_free(&res);
    return e;
}

/* One GET /hello on a fresh server and client; the client's error detail
 * is copied to *err. */
static osb_err e2e_hello(const char *leaf, const char *mode, const char *host,
                         const osb_tls_config *tls, osb_error *err) {
    e2e t;
    osb_buf body;
    osb_err e = e2e_open(&t, leaf, mode, host, tls);
    osb_buf_init(&body, NULL);
    if (e == OSB_OK) {
        e = e2e_get(&t, "/hello", &body);
        *err = *osb_client_error(t.c);
        if (e == OSB_OK) CHECK_EQ_STR(body.data, "hello");
    }
    osb_buf_free(&body);
    e2e_close(&t);
    return e;
}

TEST(e2e_ca_as_file_buffer_and_env) {
    osb_tls_config tls = ca_file_cfg();
    osb_error err;
    char pem[8192];
    FILE *f;
    size_t n;
    unset_env();
    CHECK_EQ_INT(e2e_hello("good", "http", "localhost", &tls, &err), OSB_OK);
    CHECK_EQ_INT(e2e_hello("rsa", "http", "localhost", &tls, &err), OSB_OK);
    f = fopen(CERTS "/ca.pem", "rb");
    CHECK(f != NULL);
    if (!f) return;
    n = fread(pem, 1, sizeof pem - 1, f);
    fclose(f);
    memset(&tls, 0, sizeof tls);
    tls.ca_pem = pem;
    tls.ca_pem_len = n;
    CHECK_EQ_INT(e2e_hello("good", "http", "localhost", &tls, &err), OSB_OK);
    setenv("SSL_CERT_FILE", CERTS "/ca.pem", 1);
    CHECK_EQ_INT(e2e_hello("good", "http", "localhost", NULL, &err), OSB_OK);
    unsetenv("SSL_CERT_FILE");
    setenv("SSL_CERT_DIR", CERTS "/certdir", 1);
    CHECK_EQ_INT(e2e_hello("good", "http", "localhost", NULL, &err), OSB_OK);
    unset_env();
    /* the system bundle (or, without one, nothing) does not know the test CA */
    CHECK_EQ_INT(e2e_hello("good", "http", "localhost", NULL, &err), OSB_ERR_TLS);
}

TEST(e2e_bad_certificates) {
    osb_tls_config tls = ca_file_cfg();
    osb_error err;
    static const struct { const char *leaf, *host; int tls_error; const char *words; } cases[] = {
        {"wrongname", "localhost", 56, "host name"},
        {"expired", "localhost", 54, "expired"},
        {"selfsigned", "localhost", 62, "not trusted"},
        {"unknownca", "localhost", 62, "not trusted"},
        {"good", "127.0.0.1", 56, "iPAddress"},
        {"ipother", "127.0.0.1", 56, "iPAddress"},
    };
    size_t i;
    for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        osb_err e = e2e_hello(cases[i].leaf, "http", cases[i].host, &tls, &err);
        CHECK_EQ_INT(e, OSB_ERR_TLS);
        CHECK_EQ_INT(err.code, OSB_ERR_TLS);
        CHECK_EQ_INT(err.tls_error, cases[i].tls_error);
        CHECK_EQ_INT(err.phase, OSB_PHASE_TLS);
        if (!strstr(err.message, cases[i].words)) {
            fprintf(stderr, "  %s: \"%s\" lacks \"%s\"\n", cases[i].leaf, err.message,
                    cases[i].words);
            CHECK(0);
        }
    }
    CHECK_EQ_INT(e2e_hello("iponly", "http", "127.0.0.1", &tls, &err), OSB_OK);
}

TEST(e2e_versions_and_non_tls_peers) {
    osb_tls_config tls = ca_file_cfg();
    osb_error err;
    CHECK_EQ_INT(e2e_hello("rsa", "tls10", "localhost", &tls, &err), OSB_ERR_TLS);
    CHECK(err.tls_error == 3 || err.tls_error == 256 + 70 || err.tls_error == 256 + 40);
    CHECK_EQ_INT(e2e_hello("good", "tls13", "localhost", &tls, &err), OSB_ERR_TLS);
    CHECK(strstr(err.message, "TLS 1.3") != NULL);
    CHECK_EQ_INT(e2e_hello("good", "plain", "localhost", &tls, &err), OSB_ERR_TLS);
    CHECK(strstr(err.message, "plain HTTP") != NULL);
    CHECK_EQ_INT(e2e_hello("good", "reset", "localhost", &tls, &err), OSB_ERR_TLS);
    CHECK_EQ_INT(err.tls_error, 31);
    CHECK(strstr(err.message, "reset") != NULL);
    CHECK_EQ_INT(e2e_hello("good", "silent", "localhost", &tls, &err), OSB_ERR_TLS);
}

/* Every suite the client offers (with an ECDSA and an RSA certificate) and
 * every ECDHE group it supports, each against a TLS 1.2 server allowing only
 * that one, completes a request; a CBC suite and X448, which it does not
 * offer, fail the handshake (so the server's restriction is real). */
TEST(e2e_every_offered_suite_and_group) {
    static const char *const kinds[] = {"AES128-GCM-SHA256", "AES256-GCM-SHA384", "CHACHA20-POLY1305"};
    static const char *const groups[] = {"X25519", "prime256v1", "secp384r1", "secp521r1"};
    osb_tls_config tls = ca_file_cfg();
    osb_error err;
    char mode[64];
    size_t i;
    for (i = 0; i < sizeof kinds / sizeof kinds[0]; i++) {
        snprintf(mode, sizeof mode, "suite=ECDHE-ECDSA-%s", kinds[i]);
        CHECK_EQ_INT(e2e_hello("good", mode, "localhost", &tls, &err), OSB_OK);
        snprintf(mode, sizeof mode, "suite=ECDHE-RSA-%s", kinds[i]);
        CHECK_EQ_INT(e2e_hello("rsa", mode, "localhost", &tls, &err), OSB_OK);
    }
    for (i = 0; i < sizeof groups / sizeof groups[0]; i++) {
        snprintf(mode, sizeof mode, "group=%s", groups[i]);
        CHECK_EQ_INT(e2e_hello("good", mode, "localhost", &tls, &err), OSB_OK);
    }
    CHECK_EQ_INT(e2e_hello("rsa", "suite=ECDHE-RSA-AES128-SHA256", "localhost", &tls, &err), OSB_ERR_TLS);
    CHECK_EQ_INT(e2e_hello("good", "group=X448", "localhost", &tls, &err), OSB_ERR_TLS);
}

TEST(e2e_zero_anchors_is_an_error) {
    osb_tls_config tls;
    osb_error err;
    memset(&tls, 0, sizeof tls);
    tls.ca_file = CERTS "/empty.pem";
    CHECK_EQ_INT(e2e_hello("good", "http", "localhost", &tls, &err), OSB_ERR_TLS);
    CHECK(strstr(err.message, "no trust anchors") != NULL);
}

TEST(e2e_insecure_skip_verify) {
    osb_tls_config tls;
    osb_error err;
    memset(&tls, 0, sizeof tls);
    tls.insecure_skip_verify = 1;
    CHECK_EQ_INT(e2e_hello("selfsigned", "http", "localhost", &tls, &err), OSB_OK);
    CHECK_EQ_INT(e2e_hello("wrongname", "http", "127.0.0.1", &tls, &err), OSB_OK);
}

TEST(e2e_keep_alive_over_tls) {
    osb_tls_config tls = ca_file_cfg();
    e2e t;
    osb_buf a, b;
    osb_buf_init(&a, NULL);
    osb_buf_init(&b, NULL);
    CHECK_EQ_INT(e2e_open(&t, "good", "http", "localhost", &tls), OSB_OK);
    CHECK_EQ_INT(e2e_get(&t, "/connid", &a), OSB_OK);
    CHECK_EQ_INT(osb_client_pooled(t.c), 1);
    CHECK_EQ_INT(e2e_get(&t, "/connid", &b), OSB_OK);
    CHECK(a.data && b.data && strcmp(a.data, b.data) == 0);
    CHECK_EQ_INT(osb_client_pooled(t.c), 1);
    osb_buf_free(&a);
    osb_buf_free(&b);
    e2e_close(&t);
}

TEST(e2e_ipv6_literal) {
    osb_tls_config tls = ca_file_cfg();
    osb_error err;
    int fd = socket(AF_INET6, SOCK_STREAM, 0);
    struct sockaddr_in6 sa;
    memset(&sa, 0, sizeof sa);
    sa.sin6_family = AF_INET6;
    sa.sin6_addr.s6_addr[15] = 1;
    if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
        if (fd >= 0) close(fd);
        SKIP("no IPv6 loopback");
    }
    close(fd);
    CHECK_EQ_INT(e2e_hello("iponly", "http", "[::1]", &tls, &err), OSB_OK);
    CHECK_EQ_INT(e2e_hello("good", "http", "[::1]", &tls, &err), OSB_ERR_TLS);
    CHECK_EQ_INT(err.tls_error, 56);
    CHECK(strstr(err.message, "iPAddress") != NULL);
}

TEST(e2e_pooled_connection_closed_by_server) {
    osb_tls_config tls = ca_file_cfg();
    e2e t;
    osb_buf a, b;
    struct timespec ts;
    osb_buf_init(&a, NULL);
    osb_buf_init(&b, NULL);
    CHECK_EQ_INT(e2e_open(&t, "good", "http", "localhost", &tls), OSB_OK);
    CHECK_EQ_INT(e2e_get(&t, "/hello-then-notify", &a), OSB_OK);
    CHECK_EQ_INT(osb_client_pooled(t.c), 1);
    ts.tv_sec = 0;
    ts.tv_nsec = 500 * 1000000L;
    nanosleep(&ts, NULL);   /* the server sends close_notify and closes meanwhile */
    CHECK_EQ_INT(e2e_get(&t, "/connid", &b), OSB_OK);
    CHECK(b.data && strcmp(b.data, "conn 2") == 0);
    osb_buf_free(&a);
    osb_buf_free(&b);
    e2e_close(&t);
}

/* The server drops a pooled connection as the next request arrives, with no
 * close_notify: not a truncation, the request goes again on a new connection. */
TEST(e2e_pooled_connection_dropped_under_a_request) {
    osb_tls_config tls = ca_file_cfg();
    e2e t;
    osb_buf a, b;
    osb_buf_init(&a, NULL);
    osb_buf_init(&b, NULL);
    CHECK_EQ_INT(e2e_open(&t, "good", "http", "localhost", &tls), OSB_OK);
    CHECK_EQ_INT(e2e_get(&t, "/hello-then-drop-next", &a), OSB_OK);
    CHECK_EQ_INT(osb_client_pooled(t.c), 1);
    CHECK_EQ_INT(e2e_get(&t, "/connid", &b), OSB_OK);
    CHECK(b.data && strcmp(b.data, "conn 2") == 0);
    osb_buf_free(&a);
    osb_buf_free(&b);
    e2e_close(&t);
}

TEST(e2e_deadlines_over_tls) {
    osb_tls_config tls = ca_file_cfg();
    osb_client_config cfg;
    e2e t;
    osb_http_request req;
    osb_http_response res;
    osb_client *c = NULL;
    int64_t t0;
    osb_err e;
    /* the handshake is bounded by the connect deadline */
    CHECK_EQ_INT(server_start(&t.s, "good", "stall"), 0);
    snprintf(t.url, sizeof t.url, "https://localhost:%d", t.s.port);
    memset(&cfg, 0, sizeof cfg);
    cfg.domain = t.url;
    cfg.tls = tls;
    cfg.timeouts.connect_ms = 300;
    CHECK_EQ_INT(osb_client_new(&cfg, &c), OSB_OK);
    memset(&req, 0, sizeof req);
    memset(&res, 0, sizeof res);
    req.path = "/hello";
    t0 = osb__now_ms();
    e = osb_request_raw(c, &req, &res);
    CHECK_EQ_INT(e, OSB_ERR_TIMEOUT);
    CHECK_EQ_INT(osb_client_error(c)->phase, OSB_PHASE_TLS);
    CHECK(osb__now_ms() - t0 < 2500);   /* not the server's 5 s of silence */
    osb_http_response_free(&res);
    osb_client_free(c);
    server_stop(&t.s);
    /* a stalled body is bounded by the idle deadline */
    CHECK_EQ_INT(e2e_open(&t, "good", "http", "localhost", &tls), OSB_OK);
    memset(&req, 0, sizeof req);
    memset(&res, 0, sizeof res);
    req.path = "/stall-body";
    req.timeouts.idle_ms = 300;
    t0 = osb__now_ms();
    e = osb_request_raw(t.c, &req, &res);
    CHECK_EQ_INT(e, OSB_ERR_TIMEOUT);
    CHECK_EQ_INT(osb_client_error(t.c)->phase, OSB_PHASE_IDLE);
    CHECK(osb__now_ms() - t0 < 2000);   /* not the server's 3 s of silence */
    osb_http_response_free(&res);
    e2e_close(&t);
}

TEST(e2e_truncation_over_tls) {
    osb_tls_config tls = ca_file_cfg();
    e2e t;
    osb_buf body;
    osb_buf_init(&body, NULL);
    CHECK_EQ_INT(e2e_open(&t, "good", "http", "localhost", &tls), OSB_OK);
    /* Content-Length 1000, 100 bytes, TCP close */
    CHECK_EQ_INT(e2e_get(&t, "/cut", &body), OSB_ERR_TRUNCATED);
    CHECK_EQ_INT(osb_client_pooled(t.c), 0);
    /* body until close, TCP close without close_notify */
    body.len = 0;
    CHECK_EQ_INT(e2e_get(&t, "/eof-bare", &body), OSB_ERR_TRUNCATED);
    /* body until close, properly closed */
    body.len = 0;
    CHECK_EQ_INT(e2e_get(&t, "/eof-notify", &body), OSB_OK);
    CHECK(body.data && body.len == 11 && memcmp(body.data, "until close", 11) == 0);
    CHECK_EQ_INT(osb_client_pooled(t.c), 0);
    osb_buf_free(&body);
    e2e_close(&t);
}

typedef struct sum_sink {
    unsigned long sum;
    uint64_t n;
} sum_sink;

static int sum_bytes(void *user, const void *data, size_t len) {
    sum_sink *s = (sum_sink *)user;
    const unsigned char *p = (const unsigned char *)data;
    size_t i;
    for (i = 0; i < len; i++) s->sum += p[i];
    s->n += len;
    return 0;
}

TEST(e2e_large_download_constant_memory) {
    osb_tls_config tls = ca_file_cfg();
    e2e t;
    osb_http_request req;
    osb_http_response res;
    sum_sink sink;
    size_t peak_small;
    uint64_t i, n = (uint64_t)64 << 20;
    unsigned long want = 0;
    int64_t t0;
    CHECK_EQ_INT(e2e_open(&t, "good", "http", "localhost", &tls), OSB_OK);
    memset(&sink, 0, sizeof sink);
    memset(&req, 0, sizeof req);
    req.path = "/big";
    req.query = "n=1000";
    req.sink = sum_bytes;
    req.sink_user = &sink;
    memset(&res, 0, sizeof res);
    CHECK_EQ_INT(osb_request_raw(t.c, &req, &res), OSB_OK);
    osb_http_response_free(&res);
    peak_small = t.count.peak;
    memset(&sink, 0, sizeof sink);
    req.query = "n=67108864";
    req.stream = 1;
    memset(&res, 0, sizeof res);
    t0 = osb__now_ms();
    CHECK_EQ_INT(osb_request_raw(t.c, &req, &res), OSB_OK);
    osb_http_response_free(&res);
    CHECK_EQ_INT(sink.n, n);
    for (i = 0; i < n; i++) want += (unsigned long)(i % 256);
    CHECK_EQ_INT(sink.sum, want);
    CHECK_EQ_INT(t.count.peak, peak_small);
    fprintf(stderr, "    64 MiB over TLS through osb_request_raw in %lld ms; client heap peak "
                    "%lu bytes for a 1 KB and a 64 MiB body\n",
            (long long)(osb__now_ms() - t0), (unsigned long)t.count.peak);
    e2e_close(&t);
}

typedef struct pattern_reader {
    uint64_t left, pos;
} pattern_reader;

static ptrdiff_t read_pattern(void *user, void *buf, size_t cap) {
    pattern_reader *r = (pattern_reader *)user;
    unsigned char *p = (unsigned char *)buf;
    size_t i, n = cap < r->left ? cap : (size_t)r->left;
    for (i = 0; i < n; i++) p[i] = (unsigned char)((r->pos + i) % 251);
    r->pos += n;
    r->left -= n;
    return (ptrdiff_t)n;
}

TEST(e2e_large_upload_constant_memory) {
    osb_tls_config tls = ca_file_cfg();
    e2e t;
    osb_http_request req;
    osb_http_response res;
    pattern_reader rd;
    osb_buf body;
    uint64_t i, n = (uint64_t)16 << 20, sum = 0;
    size_t peak_small;
    char want[64];
    CHECK_EQ_INT(e2e_open(&t, "good", "http", "localhost", &tls), OSB_OK);
    osb_buf_init(&body, NULL);
    CHECK_EQ_INT(e2e_get(&t, "/hello", &body), OSB_OK);
    peak_small = t.count.peak;
    memset(&req, 0, sizeof req);
    memset(&res, 0, sizeof res);
    memset(&rd, 0, sizeof rd);
    rd.left = n;
    req.method = "POST";
    req.path = "/upload";
    req.body_reader = read_pattern;
    req.body_reader_user = &rd;
    req.body_reader_len = (int64_t)n;
    body.len = 0;
    req.sink = osb_buf_sink;
    req.sink_user = &body;
    CHECK_EQ_INT(osb_request_raw(t.c, &req, &res), OSB_OK);
    osb_http_response_free(&res);
    for (i = 0; i < n; i++) sum += i % 251;
    snprintf(want, sizeof want, "%llu %llu", (unsigned long long)n, (unsigned long long)sum);
    CHECK(body.data && strcmp(body.data, want) == 0);
    /* a longer request head may grow a scratch buffer a little; 16 MiB may not */
    CHECK(t.count.peak <= peak_small + 4096);
    osb_buf_free(&body);
    e2e_close(&t);
}

/* An OSB_TLS=0 build: the TLS entry points exist and https says how to get it. */
TEST(e2e_build_without_tls) {
    FILE *p;
    char out[2048];
    size_t n;
    int rc = system("cc -std=c99 -Wall -Wextra -Werror -pedantic -DOSB_TLS=0"
                    " -I. tests/tls/notls_probe.c -o build/notls_probe");
    CHECK_EQ_INT(rc, 0);
    if (rc != 0) return;
    p = popen("build/notls_probe 2>&1", "r");
    CHECK(p != NULL);
    if (!p) return;
    n = fread(out, 1, sizeof out - 1, p);
    out[n] = 0;
    CHECK_EQ_INT(pclose(p), 0);
    CHECK(strstr(out, "request: 13") != NULL);   /* OSB_ERR_UNSUPPORTED */
    CHECK(strstr(out, "OSB_TLS=1") != NULL);
    CHECK(strstr(out, "anchors: 13") != NULL);
    CHECK(strstr(out, "strerror: the server's certificate is not trusted") != NULL);
}

/* Runs CMD and returns its output (at most cap - 1 bytes). */
static int run_capture(const char *cmd, char *out, size_t cap) {
    FILE *p = popen(cmd, "r");
    size_t n;
    if (!p) return -1;
    n = fread(out, 1, cap - 1, p);
    out[n] = 0;
    return pclose(p);
}

/* Compiled-in anchors come last: after the environment and the system bundle.
 * The system bundle is hidden in a private mount namespace (root only). */
TEST(e2e_embedded_anchors_come_last) {
    char out[1024];
    int rc;
    certs();
    unset_env();
    rc = system("cc -std=c99 -Wall -Wextra -Werror -pedantic"
                " -I. tests/tls/embedded_probe.c -o build/embedded_probe -lbearssl");
    CHECK_EQ_INT(rc, 0);
    if (rc != 0) return;
    CHECK_EQ_INT(run_capture("build/embedded_probe " CERTS "/ca.pem 2>&1", out, sizeof out), 0);
    if (access("/etc/ssl/certs/ca-certificates.crt", R_OK) == 0)
        CHECK(strstr(out, "from /etc/ssl/certs/ca-certificates.crt") != NULL);
    if (run_capture("unshare -m sh -c 'mount -t tmpfs none /etc/ssl/certs' 2>&1", out,
                    sizeof out) != 0)
        SKIP("cannot hide the system bundle (needs root and unshare)");
    CHECK_EQ_INT(run_capture("unshare -m sh -c 'mount -t tmpfs none /etc/ssl/certs && "
                             "build/embedded_probe " CERTS "/ca.pem' 2>&1", out, sizeof out), 0);
    CHECK(strstr(out, "anchors: 1 from embedded") != NULL);
    CHECK_EQ_INT(run_capture("unshare -m sh -c 'mount -t tmpfs none /etc/ssl/certs && "
                             "build/embedded_probe " CERTS "/ca.pem none' 2>&1", out, sizeof out),
                 0);
    CHECK(strstr(out, "no trust anchors") != NULL);
}

int main(int argc, char **argv) {
    signal(SIGPIPE, SIG_IGN);
    return testlib_main(argc, argv);
}
