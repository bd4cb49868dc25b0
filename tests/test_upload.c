/* Upload paths of osb_files_upload against tools/devserver's execd, checked
 * byte for byte by downloading the file again: from a file descriptor and a
 * local path (sendfile on Linux over plain http), from a pipe (no sendfile:
 * the read loop), from a reader of several sizes, from a descriptor that is
 * not at its start, over https (tests/servers/front.py terminating TLS in
 * front of execd), and with the connection cut in the middle of the body
 * (front.py --cut-after), plain and https: the call fails with a transport
 * error, the process lives (SIGPIPE is not ignored here), and the next
 * upload on the same client is whole. Also: the send buffer of a large
 * upload is raised only where the system allows more than autotuning. */
#define _DEFAULT_SOURCE
#define OSB_TLS 1
#define OPENSANDBOX_IMPLEMENTATION
#include "../opensandbox.h"
#include "testlib.h"
#include "testdev.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>

#define CERTS "build/tls-certs"

static osb_client *C;          /* plain http */
static osb_target T;
static char sandbox_id[128], execd_url[1024];
static int execd_port;
static int setup_done, setup_ok;
static char uniq[64];

static int setup(void) {
    const char *colon;
    if (setup_done) return setup_ok;
    setup_done = 1;
    C = testdev_client();
    if (!C) return 0;
    if (!testdev_sandbox(C, sandbox_id, sizeof sandbox_id, execd_url, sizeof execd_url)) return 0;
    T.url = execd_url;
    colon = strrchr(execd_url, ':');
    execd_port = colon ? atoi(colon + 1) : 0;
    snprintf(uniq, sizeof uniq, "/tmp/osbu-%ld-%ld", (long)getpid(), (long)time(NULL));
    if (system("sh tests/tls/make-certs.sh " CERTS " >/dev/null 2>&1") != 0) return 0;
    setup_ok = execd_port > 0;
    return setup_ok;
}

#define NEED_SERVER() do { if (!setup()) SKIP("dev server unavailable"); } while (0)

/* ---- content: a deterministic pattern and its FNV-1a 64 ---- */

static unsigned char pat(uint64_t i, unsigned seed) {
    uint64_t x = (i + 1) * 0x9E3779B97F4A7C15ull ^ seed;
    x ^= x >> 29;
    return (unsigned char)(x ^ (x >> 17));
}

typedef struct hasher { uint64_t h, n; } hasher;
static void h_init(hasher *h) { h->h = 1469598103934665603ull; h->n = 0; }
static void h_add(hasher *h, const void *d, size_t len) {
    const unsigned char *p = (const unsigned char *)d;
    size_t i;
    for (i = 0; i < len; i++) h->h = (h->h ^ p[i]) * 1099511628211ull;
    h->n += len;
}
static int h_sink(void *user, const void *d, size_t len) { h_add((hasher *)user, d, len); return 0; }

static uint64_t pat_hash(uint64_t from, uint64_t to, unsigned seed) {
    hasher h;
    unsigned char b[4096];
    uint64_t i = from;
    h_init(&h);
    while (i < to) {
        size_t k = 0;
        while (k < sizeof b && i < to) b[k++] = pat(i++, seed);
        h_add(&h, b, k);
    }
    return h.h;
}

/* Writes n pattern bytes to a new local file; returns its path in buf. */
static const char *pat_file(char *buf, size_t cap, const char *name, uint64_t n, unsigned seed) {
    unsigned char b[65536];
    uint64_t i = 0;
    FILE *f;
    snprintf(buf, cap, "/tmp/osb-upload-%ld-%s", (long)getpid(), name);
    f = fopen(buf, "wb");
    if (!f) return NULL;
    while (i < n) {
        size_t k = 0;
        while (k < sizeof b && i < n) b[k++] = pat(i++, seed);
        if (fwrite(b, 1, k, f) != k) { fclose(f); return NULL; }
    }
    if (fclose(f) != 0) return NULL;
    return buf;
}

/* Downloads path from the sandbox; 1 when it is exactly n bytes hashing to want. */
static int same_in_sandbox(const char *path, uint64_t n, uint64_t want) {
    osb_download_request r;
    hasher h;
    osb_err e;
    memset(&r, 0, sizeof r);
    r.path = path;
    h_init(&h);
    e = osb_files_download(C, &T, &r, h_sink, &h, NULL);
    if (e) fprintf(stderr, "  download %s: %s\n", path, osb_client_error(C)->message);
    if (!e && h.n != n) fprintf(stderr, "  download %s: %llu bytes, want %llu\n", path,
                                (unsigned long long)h.n, (unsigned long long)n);
    return e == OSB_OK && h.n == n && h.h == want;
}

static const char *remote(char *buf, size_t cap, const char *name) {
    snprintf(buf, cap, "%s/%s", uniq, name);
    return buf;
}

/* ---- the front (plain or TLS, optionally cutting one connection) ---- */

static int front_start(testproc *p, int tls, long cut_after, int rst, char *url, size_t cap) {
    char port[16], cut[32];
    const char *argv[14];
    int n = 0;
    snprintf(port, sizeof port, "%d", execd_port);
    argv[n++] = "python3";
    argv[n++] = "tests/servers/front.py";
    argv[n++] = "--backend";
    argv[n++] = port;
    if (tls) {
        argv[n++] = "--cert";
        argv[n++] = CERTS "/iponly.pem";
        argv[n++] = "--key";
        argv[n++] = CERTS "/iponly.key";
    }
    if (cut_after >= 0) {
        snprintf(cut, sizeof cut, "%ld", cut_after);
        argv[n++] = "--cut-after";
        argv[n++] = cut;
        if (rst) argv[n++] = "--rst";
    }
    argv[n] = NULL;
    if (testproc_start(p, argv) != 0) return 0;
    snprintf(url, cap, "%s://127.0.0.1:%d", tls ? "https" : "http", atoi(p->ready));
    return 1;
}

static osb_client *tls_client(void) {
    osb_client_config cfg;
    osb_client *c = NULL;
    memset(&cfg, 0, sizeof cfg);
    cfg.domain = testdev_domain;
    cfg.api_key = testdev_api_key;
    cfg.tls.ca_file = CERTS "/ca.pem";
    if (osb_client_new(&cfg, &c) != OSB_OK) return NULL;
    return c;
}

static osb_err upload_fd(osb_client *c, const osb_target *t, int fd, uint64_t size, const char *path) {
    osb_upload_file f;
    memset(&f, 0, sizeof f);
    f.path = path;
    f.use_fd = 1;
    f.fd = fd;
    f.size = size;
    return osb_files_upload(c, t, &f, 1);
}

/* ---- tests ---- */

TEST(upload_from_fd_byte_exact) {
    char lp[256], rp[256];
    uint64_t n = (9u << 20) + 12345;   /* not a multiple of any block size */
    int fd;
    NEED_SERVER();
    CHECK(pat_file(lp, sizeof lp, "fd.bin", n, 1) != NULL);
    fd = open(lp, O_RDONLY);
    CHECK(fd >= 0);
    CHECK_EQ_INT(upload_fd(C, &T, fd, 0, remote(rp, sizeof rp, "fd.bin")), OSB_OK);
    close(fd);
    CHECK(same_in_sandbox(rp, n, pat_hash(0, n, 1)));
    unlink(lp);
}

TEST(upload_from_fd_starts_at_its_position) {
    char lp[256], rp[256];
    uint64_t n = (3u << 20) + 7, skip = 100003;
    int fd;
    NEED_SERVER();
    CHECK(pat_file(lp, sizeof lp, "pos.bin", n, 2) != NULL);
    fd = open(lp, O_RDONLY);
    CHECK(fd >= 0);
    CHECK(lseek(fd, (off_t)skip, SEEK_SET) == (off_t)skip);
    /* size 0: from the position to the end */
    CHECK_EQ_INT(upload_fd(C, &T, fd, 0, remote(rp, sizeof rp, "pos-all.bin")), OSB_OK);
    CHECK(same_in_sandbox(rp, n - skip, pat_hash(skip, n, 2)));
    /* an explicit size: that many bytes from the position, and the fd is left after them */
    CHECK(lseek(fd, (off_t)skip, SEEK_SET) == (off_t)skip);
    CHECK_EQ_INT(upload_fd(C, &T, fd, 1000000, remote(rp, sizeof rp, "pos-part.bin")), OSB_OK);
    CHECK(same_in_sandbox(rp, 1000000, pat_hash(skip, skip + 1000000, 2)));
    CHECK(lseek(fd, 0, SEEK_CUR) == (off_t)(skip + 1000000));
    close(fd);
    unlink(lp);
}

TEST(upload_local_path_and_two_files_in_one_request) {
    char lp1[256], lp2[256], rp1[256], rp2[256];
    uint64_t n1 = (2u << 20) + 1, n2 = 777777;
    osb_upload_file f[2];
    NEED_SERVER();
    CHECK(pat_file(lp1, sizeof lp1, "a.bin", n1, 3) != NULL);
    CHECK(pat_file(lp2, sizeof lp2, "b.bin", n2, 4) != NULL);
    memset(f, 0, sizeof f);
    f[0].path = remote(rp1, sizeof rp1, "a.bin");
    f[0].local_path = lp1;
    f[1].path = remote(rp2, sizeof rp2, "b.bin");
    f[1].local_path = lp2;
    CHECK_EQ_INT(osb_files_upload(C, &T, f, 2), OSB_OK);
    CHECK(same_in_sandbox(rp1, n1, pat_hash(0, n1, 3)));
    CHECK(same_in_sandbox(rp2, n2, pat_hash(0, n2, 4)));
    unlink(lp1);
    unlink(lp2);
}

TEST(upload_from_pipe_byte_exact) {
    char rp[256];
    uint64_t n = (5u << 20) + 333;
    int p[2], status = 0;
    pid_t pid;
    NEED_SERVER();
    CHECK(pipe(p) == 0);
    pid = fork();
    if (pid == 0) {
        unsigned char b[8192];
        uint64_t i = 0;
        close(p[0]);
        while (i < n) {
            size_t k = 0, off = 0;
            while (k < sizeof b && i < n) b[k++] = pat(i++, 5);
            while (off < k) {
                ssize_t w = write(p[1], b + off, k - off);
                if (w <= 0) _exit(1);
                off += (size_t)w;
            }
        }
        _exit(0);
    }
    close(p[1]);
    CHECK_EQ_INT(upload_fd(C, &T, p[0], n, remote(rp, sizeof rp, "pipe.bin")), OSB_OK);
    close(p[0]);
    waitpid(pid, &status, 0);
    CHECK(same_in_sandbox(rp, n, pat_hash(0, n, 5)));
}

TEST(upload_from_pipe_that_ends_early_is_an_io_error) {
    char rp[256];
    int p[2];
    NEED_SERVER();
    CHECK(pipe(p) == 0);
    CHECK(write(p[1], "only this", 9) == 9);
    close(p[1]);
    CHECK_EQ_INT(upload_fd(C, &T, p[0], 1000, remote(rp, sizeof rp, "short.bin")), OSB_ERR_IO);
    close(p[0]);
}

TEST(upload_over_tls_byte_exact) {
    testproc fr;
    char url[128], lp[256], rp[256];
    uint64_t n = (6u << 20) + 99;
    osb_client *c;
    osb_target t;
    int fd;
    NEED_SERVER();
    CHECK(front_start(&fr, 1, -1, 0, url, sizeof url));
    c = tls_client();
    CHECK(c != NULL);
    if (!c) { testproc_stop(&fr); return; }
    t.url = url;
    t.headers = NULL;
    CHECK(pat_file(lp, sizeof lp, "tls.bin", n, 6) != NULL);
    fd = open(lp, O_RDONLY);
    CHECK_EQ_INT(upload_fd(c, &t, fd, 0, remote(rp, sizeof rp, "tls.bin")), OSB_OK);
    close(fd);
    CHECK(same_in_sandbox(rp, n, pat_hash(0, n, 6)));
    osb_client_free(c);
    testproc_stop(&fr);
    unlink(lp);
}

/* Over https the body is read straight into the TLS records: a pipe that
 * ends before its size is an I/O error there too, and the client goes on. */
TEST(upload_over_tls_from_a_short_pipe_is_an_io_error) {
    testproc fr;
    char url[128], rp[256];
    osb_client *c;
    osb_target t;
    int p[2];
    NEED_SERVER();
    CHECK(front_start(&fr, 1, -1, 0, url, sizeof url));
    c = tls_client();
    CHECK(c != NULL);
    if (!c) { testproc_stop(&fr); return; }
    t.url = url;
    t.headers = NULL;
    CHECK(pipe(p) == 0);
    CHECK(write(p[1], "only this", 9) == 9);
    close(p[1]);
    CHECK_EQ_INT(upload_fd(c, &t, p[0], 100000, remote(rp, sizeof rp, "tls-short.bin")), OSB_ERR_IO);
    close(p[0]);
    CHECK(pipe(p) == 0);
    CHECK(write(p[1], "0123456789", 10) == 10);
    close(p[1]);
    CHECK_EQ_INT(upload_fd(c, &t, p[0], 10, rp), OSB_OK);
    close(p[0]);
    {
        hasher h;
        h_init(&h);
        h_add(&h, "0123456789", 10);
        CHECK(same_in_sandbox(rp, 10, h.h));
    }
    osb_client_free(c);
    testproc_stop(&fr);
}

/* The connection dies after 1 MiB of an 8 MiB upload (the server closes, or
 * resets it); then the same upload again. A close makes a later send fail
 * with EPIPE: with sendfile that would be a SIGPIPE, which this program does
 * not ignore. */
static void cut_in_the_middle(int tls, int rst) {
    testproc fr;
    char url[128], lp[256], rp[256];
    uint64_t n = 8u << 20;
    osb_client *c;
    osb_target t;
    osb_err e;
    int fd;
    CHECK(front_start(&fr, tls, 1L << 20, rst, url, sizeof url));
    c = tls ? tls_client() : testdev_client();
    CHECK(c != NULL);
    if (!c) { testproc_stop(&fr); return; }
    t.url = url;
    t.headers = NULL;
    CHECK(pat_file(lp, sizeof lp, tls ? "cut-tls.bin" : "cut.bin", n, 7) != NULL);
    fd = open(lp, O_RDONLY);
    CHECK(fd >= 0);
    e = upload_fd(c, &t, fd, 0, remote(rp, sizeof rp, tls ? "cut-tls.bin" : "cut.bin"));
    CHECK(e == OSB_ERR_CONNECT || e == OSB_ERR_CLOSED || e == OSB_ERR_TRUNCATED || e == OSB_ERR_TLS);
    if (e == OSB_OK) fprintf(stderr, "  the cut upload succeeded\n");
    /* the same file again, from its start, on the same client: whole */
    CHECK(lseek(fd, 0, SEEK_SET) == 0);
    CHECK_EQ_INT(upload_fd(c, &t, fd, 0, rp), OSB_OK);
    close(fd);
    CHECK(same_in_sandbox(rp, n, pat_hash(0, n, 7)));
    osb_client_free(c);
    testproc_stop(&fr);
    unlink(lp);
}

TEST(upload_cut_in_the_middle_plain_close) {
    NEED_SERVER();
    cut_in_the_middle(0, 0);
}

TEST(upload_cut_in_the_middle_plain_reset) {
    NEED_SERVER();
    cut_in_the_middle(0, 1);
}

TEST(upload_cut_in_the_middle_tls) {
    NEED_SERVER();
    cut_in_the_middle(1, 0);
}

/* A reader's bytes (no descriptor: staged in the connection buffer, each
 * full buffer sent with MSG_MORE but the last): sizes around the buffer. */
typedef struct pat_reader { uint64_t at, n; unsigned seed; } pat_reader;
static ptrdiff_t pat_read(void *user, void *buf, size_t cap) {
    pat_reader *r = (pat_reader *)user;
    unsigned char *b = (unsigned char *)buf;
    size_t k = 0;
    if (cap > 10007) cap = 10007;   /* pieces that do not line up with the buffer */
    while (k < cap && r->at < r->n) b[k++] = pat(r->at++, r->seed);
    return (ptrdiff_t)k;
}

TEST(upload_from_a_reader_byte_exact) {
    static const uint64_t sizes[] = {0, 1, 65536, 65536 * 3 + 1, (3u << 20) + 7};
    size_t i;
    NEED_SERVER();
    for (i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        char rp[256], name[32];
        osb_upload_file f;
        pat_reader r;
        r.at = 0;
        r.n = sizes[i];
        r.seed = 9 + (unsigned)i;
        memset(&f, 0, sizeof f);
        snprintf(name, sizeof name, "reader-%u.bin", (unsigned)i);
        f.path = remote(rp, sizeof rp, name);
        f.read = pat_read;
        f.read_user = &r;
        f.size = sizes[i];
        CHECK_EQ_INT(osb_files_upload(C, &T, &f, 1), OSB_OK);
        CHECK(r.at == sizes[i]);
        CHECK(same_in_sandbox(rp, sizes[i], pat_hash(0, sizes[i], 9 + (unsigned)i)));
    }
}

/* The staged path (MSG_MORE on all but the last send, a raised send buffer)
 * with the connection cut after 1 MiB of an 8 MiB reader: a transport
 * error, then the same upload again on the same client, whole. */
TEST(upload_from_a_reader_cut_in_the_middle) {
    testproc fr;
    char url[128], rp[256];
    uint64_t n = 8u << 20;
    osb_client *c;
    osb_target t;
    osb_upload_file f;
    pat_reader r;
    osb_err e;
    NEED_SERVER();
    CHECK(front_start(&fr, 0, 1L << 20, 0, url, sizeof url));
    c = testdev_client();
    CHECK(c != NULL);
    if (!c) { testproc_stop(&fr); return; }
    t.url = url;
    t.headers = NULL;
    memset(&f, 0, sizeof f);
    f.path = remote(rp, sizeof rp, "reader-cut.bin");
    f.read = pat_read;
    f.read_user = &r;
    f.size = n;
    r.at = 0;
    r.n = n;
    r.seed = 20;
    e = osb_files_upload(c, &t, &f, 1);
    CHECK(e == OSB_ERR_CONNECT || e == OSB_ERR_CLOSED || e == OSB_ERR_TRUNCATED);
    r.at = 0;
    CHECK_EQ_INT(osb_files_upload(c, &t, &f, 1), OSB_OK);
    CHECK(same_in_sandbox(rp, n, pat_hash(0, n, 20)));
    osb_client_free(c);
    testproc_stop(&fr);
}

/* The send buffer of a large upload: raised only where the system lets a
 * fixed buffer go above what autotuning would reach. */
TEST(sndbuf_rule_and_proc_numbers) {
    CHECK_EQ_INT(osb__sndbuf_rule(4194304, 4194304), 4194304);   /* 8 MiB > 4 MiB */
    CHECK_EQ_INT(osb__sndbuf_rule(212992, 4194304), 0);          /* Linux's default cap: leave it */
    CHECK_EQ_INT(osb__sndbuf_rule(64L << 20, 4194304), 8 << 20); /* at most 8 MiB asked */
    CHECK_EQ_INT(osb__sndbuf_rule(-1, 4194304), 0);              /* unreadable */
    CHECK_EQ_INT(osb__sndbuf_rule(4194304, -1), 0);
#if defined(__linux__)
    {
        char lp[256];
        FILE *f;
        snprintf(lp, sizeof lp, "/tmp/osb-upload-%ld-wmem", (long)getpid());
        f = fopen(lp, "w");
        CHECK(f != NULL);
        if (!f) return;
        fputs("4096\t16384\t4194304\n", f);
        fclose(f);
        CHECK_EQ_INT(osb__file_number(lp, 0), 4096);
        CHECK_EQ_INT(osb__file_number(lp, 2), 4194304);
        CHECK_EQ_INT(osb__file_number(lp, 3), -1);
        CHECK_EQ_INT(osb__file_number("/nonexistent/osb", 0), -1);
        unlink(lp);
    }
#endif
}

#if defined(__linux__)
TEST(a_large_upload_raises_the_send_buffer_where_allowed) {
    osb__conn k;
    int before = 0, after = 0, want;
    socklen_t len = sizeof before;
    memset(&k, 0, sizeof k);
    k.fd = socket(AF_INET, SOCK_STREAM, 0);
    CHECK(k.fd >= 0);
    if (k.fd < 0) return;
    CHECK(getsockopt(k.fd, SOL_SOCKET, SO_SNDBUF, &before, &len) == 0);
    osb__sndbuf_for_upload(&k, 100000);   /* small: untouched */
    len = sizeof after;
    CHECK(getsockopt(k.fd, SOL_SOCKET, SO_SNDBUF, &after, &len) == 0);
    CHECK_EQ_INT(after, before);
    want = osb__sndbuf_rule(osb__file_number("/proc/sys/net/core/wmem_max", 0),
                            osb__file_number("/proc/sys/net/ipv4/tcp_wmem", 2));
    osb__sndbuf_for_upload(&k, (int64_t)OSB__BIG_UPLOAD);
    len = sizeof after;
    CHECK(getsockopt(k.fd, SOL_SOCKET, SO_SNDBUF, &after, &len) == 0);
    CHECK_EQ_INT(after, want ? 2 * want : before);   /* Linux doubles what was asked */
    close(k.fd);
}
#endif

/* Content-Range as the download's resume reads it: digits only, exactly. */
static osb__ex_range range_of(const char *v) {
    osb__ex_range r;
    osb_str name, value;
    memset(&r, 0, sizeof r);
    name.ptr = "Content-Range";
    name.len = 13;
    value.ptr = v;
    value.len = strlen(v);
    osb__ex_on_range(&r, name, value);
    return r;
}

TEST(content_range_parsing_is_strict) {
    osb__ex_range r = range_of("bytes 0-9/100");
    CHECK(r.seen && r.start == 0 && r.end == 9 && r.has_total && r.total == 100);
    r = range_of("bytes 5-9/*");
    CHECK(r.seen && r.start == 5 && r.end == 9 && !r.has_total);
    r = range_of("bytes */4096");
    CHECK(!r.seen && r.has_total && r.total == 4096);
    r = range_of("bytes 18446744073709551615-1/2");   /* above INT64_MAX */
    CHECK(!r.seen && !r.has_total);
    r = range_of("bytes -1-5/10");
    CHECK(!r.seen && !r.has_total);
    r = range_of("bytes +1-5/10");
    CHECK(!r.seen);
    r = range_of("bytes  1-5/10");
    CHECK(!r.seen);
    r = range_of("bytes 1-5/10x");
    CHECK(!r.seen && !r.has_total);
    r = range_of("bytes 1-5");
    CHECK(!r.seen);
    r = range_of("items 1-5/10");
    CHECK(!r.seen);
    r = range_of("bytes */*");
    CHECK(!r.seen && !r.has_total);
}

#if OSB__HAVE_SENDFILE
/* sendfile into a socket whose peer is gone fails with EPIPE, which raises
 * SIGPIPE (sendfile has no MSG_NOSIGNAL): the call must return an error and
 * leave neither a dead process nor a pending signal. An AF_UNIX pair gives
 * EPIPE on the first write, where TCP often says ECONNRESET first. */
TEST(sendfile_to_a_closed_peer_is_an_error_not_a_signal) {
    char lp[256];
    int sv[2], fd, unsupported = 1;
    uint64_t sent = 1;
    osb__conn k;
    osb_error err;
    sigset_t pending;
    CHECK(pat_file(lp, sizeof lp, "epipe.bin", 100000, 8) != NULL);
    fd = open(lp, O_RDONLY);
    CHECK(fd >= 0);
    CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
    close(sv[1]);
    memset(&k, 0, sizeof k);
    memset(&err, 0, sizeof err);
    k.fd = sv[0];
    CHECK_EQ_INT(osb__sock_sendfile(&k, fd, 100000, &sent, &unsupported, osb__now_ms() + 5000, &err),
                 OSB_ERR_CONNECT);
    CHECK_EQ_INT(err.sys_errno, EPIPE);
    CHECK_EQ_INT(unsupported, 0);
    sigemptyset(&pending);
    sigpending(&pending);
    CHECK(!sigismember(&pending, SIGPIPE));
    close(sv[0]);
    close(fd);
    unlink(lp);
}
#endif

int main(int argc, char **argv) {
    int r = testlib_main(argc, argv);
    if (C) osb_client_free(C);
    testdev_stop();
    return r;
}
