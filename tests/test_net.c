/* The networks users have: a name with several addresses, some dead.
 *
 * The order addresses are tried in is checked on hand-made address lists.
 * The behaviour end to end runs in a network namespace of its own (root,
 * unshare, ip, nft; skipped with the reason otherwise) where /etc/hosts is
 * replaced by a bind mount and nftables drops the SYNs to the dead
 * addresses: the client must reach the live address after the dead ones
 * within its connect deadline, and name every address it tried when none
 * answers. */
#define _DEFAULT_SOURCE
#ifdef TEST_SOCKET_FCNTL   /* the path of systems whose socket() takes no flags */
#  include <sys/socket.h>
#  undef SOCK_NONBLOCK
#  undef SOCK_CLOEXEC
#endif
#define OPENSANDBOX_IMPLEMENTATION
#include "../opensandbox.h"
#include "testlib.h"
#include "testproc.h"
#include <arpa/inet.h>
#include <sys/wait.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <unistd.h>
#include <signal.h>
#include <fcntl.h>

static const char *self_path = "build/test_net";

/* ---- the order of addresses (RFC 8305 section 4) ---- */

/* An address list from "4:1.2.3.4" / "6:::1" strings. */
static const osb__addrs *addr_list(osb__addrs *l, const char *const *spec, size_t n) {
    size_t i;
    l->n = 0;
    for (i = 0; i < n; i++) {
        unsigned char ip[16];
        size_t len = osb__parse_ip(spec[i] + 2, ip);
        osb__addrs_add(l, ip, len, 9999);
    }
    return l;
}

static void order_is(const char *const *spec, size_t n, const char *want, int line) {
    osb__addrs l;
    osb__addr out[8];
    char got[256] = "";
    size_t k, m = osb__addr_order(addr_list(&l, spec, n), out, 8);
    for (k = 0; k < m; k++) osb__addr_note(got, sizeof got, &out[k], "x");
    if (strcmp(got, want) != 0) {
        testlib_failed_checks++;
        fprintf(stderr, "  line %d: order \"%s\", want \"%s\"\n", line, got, want);
    }
}
#define ORDER_IS(spec, want) order_is(spec, sizeof spec / sizeof spec[0], want, __LINE__)

TEST(addresses_alternate_families) {
    static const char *const a[] = {"6:fd00::1", "6:fd00::2", "6:fd00::3", "4:10.0.0.1"};
    static const char *const b[] = {"4:10.0.0.1", "4:10.0.0.2", "6:fd00::1", "6:fd00::2", "4:10.0.0.3"};
    static const char *const c[] = {"4:10.0.0.1", "4:10.0.0.2"};
    static const char *const d[] = {"6:fd00::1"};
    static const char *const e[] = {"6:fd00::1", "4:10.0.0.1", "6:fd00::2", "4:10.0.0.2"};
    ORDER_IS(a, "fd00::1 (x), 10.0.0.1 (x), fd00::2 (x), fd00::3 (x)");
    ORDER_IS(b, "10.0.0.1 (x), fd00::1 (x), 10.0.0.2 (x), fd00::2 (x), 10.0.0.3 (x)");
    ORDER_IS(c, "10.0.0.1 (x), 10.0.0.2 (x)");
    ORDER_IS(d, "fd00::1 (x)");
    ORDER_IS(e, "fd00::1 (x), 10.0.0.1 (x), fd00::2 (x), 10.0.0.2 (x)");
    {   /* more addresses than room: the first ones, still alternating */
        osb__addrs l;
        osb__addr out[2];
        CHECK_EQ_INT(osb__addr_order(addr_list(&l, b, 5), out, 2), 2);
        CHECK_EQ_INT(out[0].family, AF_INET);
        CHECK_EQ_INT(out[1].family, AF_INET6);
        CHECK_EQ_INT(osb__addr_order(NULL, out, 2), 0);
    }
}

/* ---- the client's sockets ---- */

static int nonblocking_cloexec(int fd) {
    int fl = fcntl(fd, F_GETFL), fd_fl = fcntl(fd, F_GETFD);
    return fl >= 0 && (fl & O_NONBLOCK) && fd_fl >= 0 && (fd_fl & FD_CLOEXEC);
}

/* Every socket the client opens (a connection, the resolver's UDP and TCP)
 * comes from osb__socket_open: it does not block, and a program the
 * process execs does not inherit it; by socket()'s flags where it takes
 * them, else by fcntl (build/test_net_fcntl runs this test that way). */
TEST(sockets_do_not_block_and_close_on_exec) {
    struct sockaddr_in sa;
    socklen_t sl = sizeof sa;
    osb__addrs l;
    unsigned char ip[4] = {127, 0, 0, 1};
    int ls = socket(AF_INET, SOCK_STREAM, 0), fd = -1, sys_err = 0, udp;
#ifdef TEST_SOCKET_FCNTL
    fprintf(stderr, "    through fcntl after socket()\n");
#endif
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    CHECK(ls >= 0 && bind(ls, (struct sockaddr *)&sa, sizeof sa) == 0 && listen(ls, 1) == 0 &&
          getsockname(ls, (struct sockaddr *)&sa, &sl) == 0);
    l.n = 0;
    osb__addrs_add(&l, ip, 4, ntohs(sa.sin_port));
    CHECK(osb__connect_start(&l.a[0], &fd, &sys_err) >= 0);
    CHECK(fd >= 0 && nonblocking_cloexec(fd));
    if (fd >= 0) close(fd);
    udp = osb__socket_open(AF_INET, SOCK_DGRAM);
    CHECK(udp >= 0 && nonblocking_cloexec(udp));
    if (udp >= 0) close(udp);
    close(ls);
}

/* ---- end to end in a namespace ---- */

static int is_root(void) { return geteuid() == 0; }

static int have_tool(const char *name) {
    char cmd[128];
    snprintf(cmd, sizeof cmd, "command -v %s >/dev/null 2>&1", name);
    return system(cmd) == 0;
}

/* Answers one HTTP request per connection on addr:port until killed. */
static pid_t serve_on(const char *addr, int port) {
    int ls = socket(AF_INET, SOCK_STREAM, 0), one = 1;
    struct sockaddr_in sa;
    pid_t pid;
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_port = htons((unsigned short)port);
    inet_pton(AF_INET, addr, &sa.sin_addr);
    setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (bind(ls, (struct sockaddr *)&sa, sizeof sa) != 0 || listen(ls, 8) != 0) return -1;
    pid = fork();
    if (pid != 0) {
        close(ls);
        return pid;
    }
    alarm(30);
    for (;;) {
        char buf[4096];
        int s = accept(ls, NULL, NULL);
        static const char ok[] = "HTTP/1.1 200 OK\r\nContent-Length: 4\r\nConnection: close\r\n\r\nlive";
        if (s < 0) continue;
        if (read(s, buf, sizeof buf) > 0 && write(s, ok, sizeof ok - 1) < 0) {}
        close(s);
    }
}

/* Runs in the namespace: multi.test has dead addresses first and a live
 * one last; dead.test has only dead ones. */
static int child_multi(void) {
    osb_client_config cfg;
    osb_client *c = NULL;
    osb_http_request req;
    osb_http_response r;
    osb_err e;
    pid_t srv = serve_on("127.0.0.2", 9999);
    if (srv < 0) { printf("child: no server\n"); return 1; }
    {   /* the order the client will try multi.test's addresses in */
        osb__addrs res;
        osb__addr order[8];
        osb_url u;
        char list[256] = "", why[160];
        size_t n, k;
        if (osb_url_parse("multi.test:9999", 0, &u) == OSB_OK && osb__resolve(&u, 0, &res, why, sizeof why) == 0) {
            n = osb__addr_order(&res, order, 8);
            for (k = 0; k < n; k++) osb__addr_note(list, sizeof list, &order[k], "-");
        }
        printf("order: %s\n", list);
    }
    memset(&cfg, 0, sizeof cfg);
    cfg.domain = "multi.test:9999";
    cfg.timeouts.connect_ms = 3000;
    cfg.retry.max_retries = -1;
    if (osb_client_new(&cfg, &c)) return 1;
    memset(&req, 0, sizeof req);
    req.path = "/x";
    e = osb_request_raw(c, &req, &r);
    printf("multi: code=%d body=%s\n", (int)e, e == OSB_OK && r.body.data ? r.body.data : "-");
    if (e) printf("multi-message: %s\n", osb_client_error(c)->message);
    osb_http_response_free(&r);
    osb_client_free(c);
    cfg.domain = "dead.test:9999";
    cfg.timeouts.connect_ms = 1200;
    if (osb_client_new(&cfg, &c)) return 1;
    e = osb_request_raw(c, &req, &r);
    printf("dead: code=%d phase=%d\ndead-message: %s\n", (int)e, (int)osb_client_error(c)->phase,
           osb_client_error(c)->message);
    osb_http_response_free(&r);
    osb_client_free(c);
    kill(srv, SIGKILL);
    waitpid(srv, NULL, 0);
    return 0;
}

static int run_child(const char *cmd, char *out, size_t cap) { return testproc_capture(cmd, out, cap); }

TEST(dead_addresses_then_a_live_one) {
    char cmd[2048], out[4096], hosts[128];
    const char *p, *m;
    int code = -1;
    FILE *f;
    if (!is_root()) SKIP("needs root (network namespace, nftables, a bind-mounted /etc/hosts)");
    if (!have_tool("unshare") || !have_tool("ip") || !have_tool("nft")) SKIP("needs unshare, ip and nft");
    snprintf(hosts, sizeof hosts, "/tmp/osb-test-net-hosts-%ld", (long)getpid());
    f = fopen(hosts, "w");
    if (!f) SKIP("cannot write a hosts file");
    /* dead: fd00::1, fd00::2, 127.0.0.3 (SYNs dropped); live: 127.0.0.2 */
    fputs("fd00::1 multi.test\nfd00::2 multi.test\n127.0.0.3 multi.test\n127.0.0.2 multi.test\n"
          "fd00::1 dead.test\nfd00::2 dead.test\n127.0.0.3 dead.test\n127.0.0.4 dead.test\n", f);
    fclose(f);
    snprintf(cmd, sizeof cmd,
             "unshare -n -m sh -c 'ip link set lo up && ip -6 addr add fd00::1/128 dev lo nodad && "
             "ip -6 addr add fd00::2/128 dev lo nodad && mount --bind %s /etc/hosts && "
             "nft add table inet osbn && nft add chain inet osbn out \"{ type filter hook output priority 0; }\" && "
             "nft add rule inet osbn out ip6 daddr { fd00::1, fd00::2 } tcp dport 9999 drop && "
             "nft add rule inet osbn out ip daddr { 127.0.0.3, 127.0.0.4 } tcp dport 9999 drop && "
             "%s --child multi' 2>&1",
             hosts, self_path);
    if (run_child(cmd, out, sizeof out) != 0 || !(p = strstr(out, "multi: code="))) {
        remove(hosts);
        fprintf(stderr, "  child output: %s\n", out);
        SKIP("could not set up the namespace here");
    }
    remove(hosts);
    sscanf(p, "multi: code=%d", &code);
    {   /* the live address is not the first one tried */
        const char *o = strstr(out, "order: ");
        CHECK(o != NULL);
        if (o) {
            CHECK(strncmp(o + 7, "127.0.0.2", 9) != 0);
            CHECK(strstr(o, "127.0.0.2") != NULL);
        }
    }
    CHECK_EQ_INT(code, OSB_OK);
    CHECK(strstr(p, "body=live") != NULL);
    /* none answers: a connect timeout naming every address, families alternating */
    m = strstr(out, "dead-message: ");
    CHECK(strstr(out, "dead: code=") != NULL);
    CHECK(m != NULL);
    if (m) {
        const char *a1 = strstr(m, "fd00::1"), *a2 = strstr(m, "fd00::2"), *b1 = strstr(m, "127.0.0.3"),
                   *b2 = strstr(m, "127.0.0.4");
        CHECK(strstr(m, "dead.test") != NULL);
        CHECK(a1 && a2 && b1 && b2);
        if (a1 && a2 && b1 && b2) {
            /* whichever family the resolver put first, the families alternate */
            int v6first = a1 < b1;
            if (v6first) CHECK(a1 < b1 && b1 < a2 && a2 < b2);
            else CHECK(b1 < a1 && a1 < b2 && b2 < a2);
        }
        if (!(a1 && a2 && b1 && b2)) fprintf(stderr, "  %s\n", m);
    }
    {
        int dcode = -1, phase = -1;
        const char *d = strstr(out, "dead: code=");
        if (d) sscanf(d, "dead: code=%d phase=%d", &dcode, &phase);
        CHECK_EQ_INT(dcode, OSB_ERR_TIMEOUT);
        CHECK_EQ_INT(phase, OSB_PHASE_CONNECT);
    }
}

int main(int argc, char **argv) {
    self_path = argv[0];
    if (argc > 2 && !strcmp(argv[1], "--child") && !strcmp(argv[2], "multi")) return child_multi();
    return testlib_main(argc, argv);
}
