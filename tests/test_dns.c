/* The built-in resolver (OSB_DNS=1) against scripted DNS servers.
 *
 * tests/servers/dnsserver.py answers from a JSON zone on 127.0.0.1 (UDP and
 * TCP on one port), misbehaves on request (SERVFAIL, silence, truncation,
 * spoofed and hostile answers) and logs every query that arrives. The
 * resolver reads the resolv.conf and hosts files this suite writes
 * (OSB_RESOLV_CONF, OSB_HOSTS). The end-to-end case reaches the dev server
 * through a name only the scripted server knows. */
#define _DEFAULT_SOURCE
#define OSB_DNS 1
#define OPENSANDBOX_IMPLEMENTATION
#include "../opensandbox.h"
#include "testlib.h"
#include "testdev.h"
#include "no_random.h"
#include <unistd.h>

/* ---- servers and files ---- */

typedef struct dns_srv {
    testproc p;
    int port;
    char log[128];
} dns_srv;

static char conf_path[128], hosts_path[128], zone_path[128];

static void write_text(const char *path, const char *text) {
    FILE *f = fopen(path, "w");
    if (f) {
        fputs(text, f);
        fclose(f);
    }
}

/* Starts a server with the zone (JSON text) in mode. */
static int dns_start(dns_srv *s, const char *zone, const char *mode) {
    const char *argv[12];
    static int seq;
    int n = 0;
    snprintf(s->log, sizeof s->log, "/tmp/osb-dns-log-%ld-%d", (long)getpid(), ++seq);
    unlink(s->log);
    write_text(zone_path, zone);
    argv[n++] = "python3";
    argv[n++] = "tests/servers/dnsserver.py";
    argv[n++] = "--zone";
    argv[n++] = zone_path;
    argv[n++] = "--mode";
    argv[n++] = mode;
    argv[n++] = "--log";
    argv[n++] = s->log;
    argv[n] = NULL;
    if (testproc_start(&s->p, argv) != 0) return 0;
    s->port = atoi(s->p.ready);
    return s->port > 0;
}

static void dns_stop(dns_srv *s) {
    testproc_stop(&s->p);
    unlink(s->log);
}

/* The server's query log (JSON lines). */
static void dns_log(const dns_srv *s, char *out, size_t cap) {
    FILE *f = fopen(s->log, "r");
    size_t n = f ? fread(out, 1, cap - 1, f) : 0;
    if (f) fclose(f);
    out[n] = 0;
}

static int count_of(const char *hay, const char *needle) {
    int n = 0;
    for (; (hay = strstr(hay, needle)) != NULL; hay++) n++;
    return n;
}

/* resolv.conf naming the servers, with extra lines after them. */
static void use_servers(const dns_srv *a, const dns_srv *b, const char *extra) {
    char text[512];
    int n = 0;
    if (a) n += snprintf(text + n, sizeof text - (size_t)n, "nameserver 127.0.0.1:%d\n", a->port);
    if (b) n += snprintf(text + n, sizeof text - (size_t)n, "nameserver 127.0.0.1:%d\n", b->port);
    snprintf(text + n, sizeof text - (size_t)n, "%s", extra ? extra : "options timeout:2 attempts:1\n");
    write_text(conf_path, text);
}

/* Resolves host:80 within ms; the addresses as "a,b" in list. */
static int resolve(const char *host, int ms, char *list, size_t cap, char *why, size_t why_cap) {
    osb_url u;
    osb__addrs got;
    size_t i;
    int rc;
    memset(&u, 0, sizeof u);
    snprintf(u.host, sizeof u.host, "%s", host);
    u.port = 80;
    rc = osb__resolve(&u, osb__now_ms() + ms, &got, why, why_cap);
    list[0] = 0;
    for (i = 0; rc == 0 && i < got.n; i++) {
        char t[64];
        osb__ip_text(got.a[i].ip, got.a[i].family == AF_INET6 ? 16 : 4, t);
        snprintf(list + strlen(list), cap - strlen(list), "%s%s", i ? "," : "", t);
        CHECK_EQ_INT(got.a[i].port, 80);
    }
    return rc;
}

#define NEED(cond, what) do { if (!(cond)) { CHECK(!"could not start " what); return; } } while (0)

static const char zone[] =
    "{\"both.test\": {\"A\": [\"10.1.2.3\"], \"AAAA\": [\"fd00::5\"]},"
    " \"four.test\": {\"A\": [\"10.0.0.1\", \"10.0.0.2\"]},"
    " \"www.test\": {\"CNAME\": \"mid.test\"}, \"mid.test\": {\"CNAME\": \"end.test\"},"
    " \"end.test\": {\"A\": [\"10.0.0.9\"]},"
    " \"big.test\": {\"tc\": true, \"A\": [\"10.0.1.1\", \"10.0.1.2\"], \"AAAA\": [\"fd00::7\"]},"
    " \"spoof.test\": {\"spoof\": true, \"A\": [\"10.0.2.2\"], \"AAAA\": [\"fd00::2\"]},"
    " \"host.b.test\": {\"A\": [\"10.0.3.3\"]}, \"x.y.z\": {\"A\": [\"10.0.4.4\"]},"
    " \"loop.test\": {\"hostile\": \"loop\"}, \"pastend.test\": {\"hostile\": \"pastend\"},"
    " \"rdlength.test\": {\"hostile\": \"rdlength\"}, \"many.test\": {\"hostile\": \"many\"},"
    " \"short.test\": {\"hostile\": \"short\"},"
    " \"empty.test\": {}, \"devbox.test\": {\"A\": [\"127.0.0.1\"]}}";

/* ---- answers ---- */

TEST(a_and_aaaa_from_one_socket_with_random_ids) {
    dns_srv s;
    char list[256], why[160], log[4096];
    const char *p;
    long port1, port2;
    NEED(dns_start(&s, zone, "normal"), "tests/servers/dnsserver.py");
    use_servers(&s, NULL, NULL);
    CHECK_EQ_INT(resolve("both.test", 5000, list, sizeof list, why, sizeof why), 0);
    CHECK_EQ_STR(list, "10.1.2.3,fd00::5");
    CHECK_EQ_INT(resolve("Four.Test.", 5000, list, sizeof list, why, sizeof why), 0);
    CHECK_EQ_STR(list, "10.0.0.1,10.0.0.2");
    dns_log(&s, log, sizeof log);
    CHECK_EQ_INT(count_of(log, "\"type\": \"A\""), 2);
    CHECK_EQ_INT(count_of(log, "\"type\": \"AAAA\""), 2);
    CHECK_EQ_INT(count_of(log, "\"name\": \"four.test\""), 2);
    /* from random ports above 1023 */
    for (p = strstr(log, "\"port\": "), port1 = 0, port2 = 0; p; p = strstr(p + 1, "\"port\": ")) {
        long v = strtol(p + 8, NULL, 10);
        if (v < 1024) port1 = v;
        port2++;
    }
    CHECK_EQ_INT(port2, 4);
    CHECK_EQ_INT(port1, 0);
    dns_stop(&s);
}

TEST(cname_chain_inside_the_answer) {
    dns_srv s;
    char list[256], why[160];
    NEED(dns_start(&s, zone, "normal"), "tests/servers/dnsserver.py");
    use_servers(&s, NULL, NULL);
    CHECK_EQ_INT(resolve("www.test", 5000, list, sizeof list, why, sizeof why), 0);
    CHECK_EQ_STR(list, "10.0.0.9");
    dns_stop(&s);
}

TEST(nxdomain_is_a_dns_error) {
    dns_srv s;
    char list[256], why[160], url[64];
    osb_client_config cfg;
    osb_client *c = NULL;
    osb_http_request req;
    osb_http_response r;
    NEED(dns_start(&s, zone, "normal"), "tests/servers/dnsserver.py");
    use_servers(&s, NULL, NULL);
    CHECK_EQ_INT(resolve("nope.test", 5000, list, sizeof list, why, sizeof why), 1);
    CHECK_EQ_STR(why, "no such name");
    memset(&cfg, 0, sizeof cfg);
    snprintf(url, sizeof url, "http://nope.test:9");
    cfg.domain = url;
    cfg.retry.max_retries = -1;
    CHECK_EQ_INT(osb_client_new(&cfg, &c), OSB_OK);
    memset(&req, 0, sizeof req);
    req.path = "/x";
    CHECK_EQ_INT(osb_request_raw(c, &req, &r), OSB_ERR_DNS);
    CHECK_EQ_INT(osb_client_error(c)->phase, OSB_PHASE_DNS);
    CHECK_EQ_STR(osb_client_error(c)->message, "cannot resolve host 'nope.test': no such name");
    osb_client_free(c);
    dns_stop(&s);
}

TEST(no_address_for_a_name_that_exists) {
    dns_srv s;
    char list[256], why[160];
    NEED(dns_start(&s, zone, "normal"), "tests/servers/dnsserver.py");
    use_servers(&s, NULL, NULL);
    CHECK_EQ_INT(resolve("empty.test", 5000, list, sizeof list, why, sizeof why), 1);
    CHECK_EQ_STR(why, "the name has no address");
    CHECK_EQ_INT(resolve("a..test", 5000, list, sizeof list, why, sizeof why), 1);
    CHECK_EQ_STR(why, "not a host name");
    dns_stop(&s);
}

/* ---- failing servers ---- */

TEST(servfail_then_the_next_server) {
    dns_srv bad, good;
    char list[256], why[160], log[4096];
    NEED(dns_start(&bad, zone, "servfail"), "tests/servers/dnsserver.py");
    NEED(dns_start(&good, zone, "normal"), "tests/servers/dnsserver.py");
    use_servers(&bad, &good, NULL);
    CHECK_EQ_INT(resolve("both.test", 5000, list, sizeof list, why, sizeof why), 0);
    CHECK_EQ_STR(list, "10.1.2.3,fd00::5");
    dns_log(&bad, log, sizeof log);
    CHECK(count_of(log, "both.test") >= 1);
    /* only the failing server: its failure is the reason */
    use_servers(&bad, NULL, NULL);
    CHECK_EQ_INT(resolve("both.test", 5000, list, sizeof list, why, sizeof why), 1);
    CHECK(strstr(why, "SERVFAIL") != NULL);
    dns_stop(&bad);
    NEED(dns_start(&bad, zone, "refused"), "tests/servers/dnsserver.py");
    use_servers(&bad, &good, NULL);
    CHECK_EQ_INT(resolve("four.test", 5000, list, sizeof list, why, sizeof why), 0);
    CHECK_EQ_STR(list, "10.0.0.1,10.0.0.2");
    dns_stop(&bad);
    dns_stop(&good);
}

TEST(silent_server_then_the_next_within_the_deadline) {
    dns_srv mute, good;
    char list[256], why[160], log[4096];
    NEED(dns_start(&mute, zone, "silent"), "tests/servers/dnsserver.py");
    NEED(dns_start(&good, zone, "normal"), "tests/servers/dnsserver.py");
    use_servers(&mute, &good, "options timeout:1 attempts:2\n");
    CHECK_EQ_INT(resolve("both.test", 8000, list, sizeof list, why, sizeof why), 0);
    CHECK_EQ_STR(list, "10.1.2.3,fd00::5");
    dns_log(&mute, log, sizeof log);
    CHECK(count_of(log, "both.test") >= 1);
    dns_stop(&mute);
    dns_stop(&good);
}

TEST(deadline_passed_is_a_timeout) {
    dns_srv mute;
    char list[256], why[160], url[64];
    osb_client_config cfg;
    osb_client *c = NULL;
    osb_http_request req;
    osb_http_response r;
    NEED(dns_start(&mute, zone, "silent"), "tests/servers/dnsserver.py");
    use_servers(&mute, NULL, "options timeout:30 attempts:5\n");
    CHECK_EQ_INT(resolve("both.test", 300, list, sizeof list, why, sizeof why), -1);
    memset(&cfg, 0, sizeof cfg);
    snprintf(url, sizeof url, "http://both.test:9");
    cfg.domain = url;
    cfg.timeouts.connect_ms = 300;
    cfg.retry.max_retries = -1;
    CHECK_EQ_INT(osb_client_new(&cfg, &c), OSB_OK);
    memset(&req, 0, sizeof req);
    req.path = "/x";
    CHECK_EQ_INT(osb_request_raw(c, &req, &r), OSB_ERR_TIMEOUT);
    CHECK_EQ_INT(osb_client_error(c)->phase, OSB_PHASE_DNS);
    CHECK_EQ_STR(osb_client_error(c)->message, "resolving host 'both.test' timed out");
    osb_client_free(c);
    /* every server tried its attempts: a DNS error saying so */
    use_servers(&mute, NULL, "options timeout:1 attempts:1\n");
    CHECK_EQ_INT(resolve("both.test", 20000, list, sizeof list, why, sizeof why), 1);
    CHECK_EQ_STR(why, "DNS server 127.0.0.1 did not answer");
    dns_stop(&mute);
}

/* ---- transport and trust ---- */

TEST(truncated_answer_asks_again_over_tcp) {
    dns_srv s;
    char list[256], why[160], log[4096];
    NEED(dns_start(&s, zone, "normal"), "tests/servers/dnsserver.py");
    use_servers(&s, NULL, NULL);
    CHECK_EQ_INT(resolve("big.test", 5000, list, sizeof list, why, sizeof why), 0);
    CHECK_EQ_STR(list, "10.0.1.1,10.0.1.2,fd00::7");
    dns_log(&s, log, sizeof log);
    CHECK_EQ_INT(count_of(log, "\"proto\": \"udp\""), 2);
    CHECK_EQ_INT(count_of(log, "\"proto\": \"tcp\""), 2);
    dns_stop(&s);
}

TEST(spoofed_answers_are_ignored) {
    dns_srv s;
    char list[256], why[160];
    NEED(dns_start(&s, zone, "normal"), "tests/servers/dnsserver.py");
    use_servers(&s, NULL, NULL);
    /* a wrong id, a wrong question and the right answer from another port
       come first, each with 6.6.6.6 / 6666::6 */
    CHECK_EQ_INT(resolve("spoof.test", 5000, list, sizeof list, why, sizeof why), 0);
    CHECK_EQ_STR(list, "10.0.2.2,fd00::2");
    dns_stop(&s);
}

TEST(search_domains_per_ndots) {
    dns_srv s;
    char list[256], why[160], log[8192];
    const char *a, *b;
    NEED(dns_start(&s, zone, "normal"), "tests/servers/dnsserver.py");
    use_servers(&s, NULL, "search a.test b.test\noptions ndots:2 timeout:2\n");
    CHECK_EQ_INT(resolve("host", 5000, list, sizeof list, why, sizeof why), 0);
    CHECK_EQ_STR(list, "10.0.3.3");
    dns_log(&s, log, sizeof log);
    a = strstr(log, "host.a.test");
    b = strstr(log, "host.b.test");
    CHECK(a && b && a < b);
    CHECK(strstr(log, "\"name\": \"host\"") == NULL);   /* found before the bare name */
    /* two dots (ndots 2): the name as given first, no search */
    unlink(s.log);
    CHECK_EQ_INT(resolve("x.y.z", 5000, list, sizeof list, why, sizeof why), 0);
    CHECK_EQ_STR(list, "10.0.4.4");
    dns_log(&s, log, sizeof log);
    CHECK(strstr(log, "x.y.z.a.test") == NULL);
    /* a final dot: never a search domain */
    unlink(s.log);
    CHECK_EQ_INT(resolve("host.", 5000, list, sizeof list, why, sizeof why), 1);
    dns_log(&s, log, sizeof log);
    CHECK(strstr(log, "a.test") == NULL && strstr(log, "\"name\": \"host\"") != NULL);
    /* "domain" is a one-entry search list */
    use_servers(&s, NULL, "domain b.test\n");
    CHECK_EQ_INT(resolve("host", 5000, list, sizeof list, why, sizeof why), 0);
    CHECK_EQ_STR(list, "10.0.3.3");
    dns_stop(&s);
}

TEST(hosts_file_comes_first) {
    dns_srv s;
    char list[256], why[160], log[4096];
    NEED(dns_start(&s, zone, "normal"), "tests/servers/dnsserver.py");
    use_servers(&s, NULL, NULL);
    write_text(hosts_path, "# local names\n10.9.9.9   other both.test  # the override\nfd00::99 BOTH.test\n"
                           "not-an-address both.test\n");
    CHECK_EQ_INT(resolve("both.test", 5000, list, sizeof list, why, sizeof why), 0);
    CHECK_EQ_STR(list, "10.9.9.9,fd00::99");
    dns_log(&s, log, sizeof log);
    CHECK(strstr(log, "both.test") == NULL);
    write_text(hosts_path, "");
    dns_stop(&s);
}

TEST(literals_ask_nobody) {
    char list[256], why[160];
    write_text(conf_path, "nameserver 127.0.0.1:1\n");
    CHECK_EQ_INT(resolve("127.0.0.1", 5000, list, sizeof list, why, sizeof why), 0);
    CHECK_EQ_STR(list, "127.0.0.1");
    CHECK_EQ_INT(resolve("::1", 5000, list, sizeof list, why, sizeof why), 0);
    CHECK_EQ_STR(list, "::1");
}

TEST(hostile_answers_are_refused) {
    static const char *const names[] = {"loop.test", "pastend.test", "rdlength.test", "many.test", "short.test"};
    dns_srv s;
    char list[256], why[160];
    size_t i;
    NEED(dns_start(&s, zone, "normal"), "tests/servers/dnsserver.py");
    use_servers(&s, NULL, NULL);
    for (i = 0; i < sizeof names / sizeof names[0]; i++) {
        CHECK_EQ_INT(resolve(names[i], 5000, list, sizeof list, why, sizeof why), 1);
        CHECK(strstr(why, "malformed") != NULL);
    }
    dns_stop(&s);
}

/* The parser on hand-made messages. */
TEST(parser_refuses_loops_and_overruns) {
    /* header: id 0x1234, response, 1 question, 1 answer */
    static const unsigned char head[12] = {0x12, 0x34, 0x81, 0x80, 0, 1, 0, 1, 0, 0, 0, 0};
    static const unsigned char q[] = {1, 'a', 4, 't', 'e', 's', 't', 0, 0, 1, 0, 1};
    unsigned char m[128];
    osb__addrs out;
    char name[256];
    int rcode, tc;
    size_t n = 0;
    memcpy(m, head, 12);
    memcpy(m + 12, q, sizeof q);
    n = 12 + sizeof q;
    /* a good A record */
    memcpy(m + n, "\xc0\x0c\x00\x01\x00\x01\x00\x00\x00\x3c\x00\x04\x0a\x00\x00\x01", 16);
    out.n = 0;
    CHECK_EQ_INT(osb__dns_parse(m, n + 16, 0x1234, "a.test", 1, 80, &out, &rcode, &tc), 0);
    CHECK_EQ_INT(out.n, 1);
    /* another id, another type, another name: not an answer to the question */
    CHECK_EQ_INT(osb__dns_parse(m, n + 16, 0x1235, "a.test", 1, 80, &out, &rcode, &tc), -2);
    CHECK_EQ_INT(osb__dns_parse(m, n + 16, 0x1234, "a.test", 28, 80, &out, &rcode, &tc), -2);
    CHECK_EQ_INT(osb__dns_parse(m, n + 16, 0x1234, "b.test", 1, 80, &out, &rcode, &tc), -2);
    /* every cut of the message is refused or not ours, never read past */
    {
        size_t cut;
        for (cut = 0; cut < n + 16; cut++) {
            out.n = 0;
            CHECK(osb__dns_parse(m, cut, 0x1234, "a.test", 1, 80, &out, &rcode, &tc) < 0);
        }
    }
    /* a pointer to itself, a pointer forward, two pointers to each other */
    m[n] = 0xc0;
    m[n + 1] = (unsigned char)n;
    CHECK_EQ_INT(osb__dns_parse(m, n + 16, 0x1234, "a.test", 1, 80, &out, &rcode, &tc), -1);
    m[n + 1] = (unsigned char)(n + 2);
    CHECK_EQ_INT(osb__dns_parse(m, n + 16, 0x1234, "a.test", 1, 80, &out, &rcode, &tc), -1);
    m[0x40] = 0xc0;
    m[0x41] = 0x42;
    m[0x42] = 0xc0;
    m[0x43] = 0x40;
    CHECK_EQ_INT(osb__dns_name(m, 0x44, 0x42, name), 0);
    /* a name longer than 253 characters through pointers */
    {
        unsigned char big[600];
        size_t at = 0, k;
        for (k = 0; k < 4; k++) {
            big[at++] = 63;
            memset(big + at, 'x', 63);
            at += 63;
        }
        big[at++] = 0;
        CHECK_EQ_INT(osb__dns_name(big, at, 0, name), 0);
        CHECK(osb__dns_name(big, at, 64, name) == at);    /* three labels fit */
    }
}

/* ---- the OS's random bytes ---- */

#if defined(__linux__)
/* Query ids and source ports come from the OS: getrandom, /dev/urandom when
 * the kernel refuses it, and without either no question goes out. */
static int resolves_both(void) {
    char list[256], why[160];
    return !(resolve("both.test", 5000, list, sizeof list, why, sizeof why) == 0 &&
             !strcmp(list, "10.1.2.3,fd00::5"));
}

static int fails_for_want_of_random_bytes(void) {
    char list[256], why[160];
    why[0] = 0;
    return !(resolve("both.test", 5000, list, sizeof list, why, sizeof why) != 0 &&
             !strcmp(why, "the OS gave no random bytes for DNS query ids"));
}

TEST(query_ids_need_the_os_random_source) {
    dns_srv s;
    char log[4096];
    int r[3], i;
    NEED(dns_start(&s, zone, "normal"), "tests/servers/dnsserver.py");
    use_servers(&s, NULL, NULL);
    r[0] = without_os_random(1, 0, resolves_both);   /* getrandom refused: /dev/urandom */
    r[1] = without_os_random(0, 1, resolves_both);   /* getrandom alone */
    r[2] = without_os_random(1, 1, fails_for_want_of_random_bytes);
    for (i = 0; i < 3; i++)
        if (r[i] >= 0) CHECK_EQ_INT(r[i], 0);
    dns_log(&s, log, sizeof log);
    dns_stop(&s);
    if (r[0] < 0 || r[1] < 0 || r[2] < 0) {
        SKIP("no user namespaces or seccomp here");
        return;
    }
    /* the lookups that had ids asked A and AAAA; the one without, nothing */
    CHECK_EQ_INT(count_of(log, "\"name\": \"both.test\""), 4);
}
#endif

/* ---- end to end ---- */

TEST(dev_server_through_a_resolved_name) {
    dns_srv s;
    char domain[160];
    const char *colon;
    osb_client_config cfg;
    osb_client *c = NULL;
    osb_http_request req;
    osb_http_response r;
    osb_err e;
    char log[4096];
    c = testdev_client();                   /* the dev server, by address */
    NEED(c != NULL, "the dev server");
    osb_client_free(c);
    NEED(dns_start(&s, zone, "normal"), "tests/servers/dnsserver.py");
    use_servers(&s, NULL, NULL);
    colon = strrchr(testdev_domain, ':');
    NEED(colon != NULL, "the dev server's port");
    snprintf(domain, sizeof domain, "devbox.test%s", colon);
    memset(&cfg, 0, sizeof cfg);
    cfg.domain = domain;
    cfg.api_key = testdev_api_key;
    CHECK_EQ_INT(osb_client_new(&cfg, &c), OSB_OK);
    memset(&req, 0, sizeof req);
    req.path = "/v1/sandboxes";
    e = osb_request_raw(c, &req, &r);
    CHECK_EQ_INT(e, OSB_OK);
    if (e == OSB_OK) {
        CHECK_EQ_INT(r.status, 200);
        osb_http_response_free(&r);
    }
    dns_log(&s, log, sizeof log);
    CHECK(strstr(log, "devbox.test") != NULL);
    osb_client_free(c);
    dns_stop(&s);
}

/* ---- the multi resolves without waiting ---- */

typedef struct done_rec {
    int n;                          /* transfers ended so far */
    int order[4];                   /* which, in the order they ended */
    osb_err result[4];
    int status[4];
    char message[4][512];
} done_rec;

static done_rec dones;

static void on_done(void *user, osb_transfer *t, osb_err result, const osb_error *err) {
    int which = (int)(intptr_t)user;
    const osb_http_response *r = osb_transfer_response(t);
    if (dones.n < 4) dones.order[dones.n++] = which;
    dones.result[which] = result;
    dones.status[which] = r ? r->status : 0;
    snprintf(dones.message[which], sizeof dones.message[which], "%s", err ? err->message : "");
}

static osb_transfer *add_get(osb_multi *m, const char *url, int which, int connect_ms) {
    osb_http_request req;
    osb_transfer_config tc;
    osb_transfer *t = NULL;
    memset(&req, 0, sizeof req);
    memset(&tc, 0, sizeof tc);
    req.url = url;
    req.path = "/health";                   /* the API key goes only to the client's own domain */
    req.timeouts.connect_ms = connect_ms;
    tc.on_done = on_done;
    tc.user = (void *)(intptr_t)which;
    CHECK_EQ_INT(osb_multi_add(m, &req, &tc, &t), OSB_OK);
    return t;
}

TEST(multi_resolves_without_blocking_the_others) {
    dns_srv mute, good;
    osb_client *c;
    osb_multi *m = NULL;
    osb_transfer *muted_t;
    char named[160], literal[160], muted[160], log[4096];
    const char *colon;
    int running = 1, rounds = 0;
    c = testdev_client();
    NEED(c != NULL, "the dev server");
    NEED(dns_start(&mute, "{}", "silent"), "tests/servers/dnsserver.py");
    NEED(dns_start(&good, zone, "normal"), "tests/servers/dnsserver.py");
    colon = strrchr(testdev_domain, ':');
    snprintf(literal, sizeof literal, "http://%s", testdev_domain);
    snprintf(named, sizeof named, "http://devbox.test%s", colon);
    snprintf(muted, sizeof muted, "http://mute.test%s", colon);
    memset(&dones, 0, sizeof dones);
    CHECK_EQ_INT(osb_multi_new(c, NULL, &m), OSB_OK);
    /* mute.test: its only server never answers, and its deadline is far
       off; added first, it must not hold up the others, however slow the
       machine (the loop ends when they are done or when it gives up) */
    use_servers(&mute, NULL, "options timeout:30 attempts:1\n");
    muted_t = add_get(m, muted, 0, 120000);
    CHECK_EQ_INT(osb_multi_perform(m, 0, &running), OSB_OK);
    CHECK_EQ_INT(running, 1);
    CHECK(osb_multi_fds(m, NULL, 0) == 1);     /* the lookup's socket, to wait on */
    use_servers(&good, NULL, NULL);
    add_get(m, literal, 1, 5000);
    add_get(m, named, 2, 5000);
    while (running && dones.n < 2 && rounds++ < 10000) CHECK_EQ_INT(osb_multi_perform(m, 1000, &running), OSB_OK);
    CHECK_EQ_INT(dones.n, 2);
    CHECK_EQ_INT(running, 1);                 /* the muted lookup goes on */
    CHECK(dones.order[0] != 0 && dones.order[1] != 0);
    CHECK(osb_multi_fds(m, NULL, 0) == 1);   /* only its socket is left */
    CHECK_EQ_INT(dones.result[1], OSB_OK);
    CHECK_EQ_INT(dones.status[1], 200);
    CHECK_EQ_INT(dones.result[2], OSB_OK);
    CHECK_EQ_INT(dones.status[2], 200);
    osb_multi_cancel(m, muted_t);
    CHECK_EQ_INT(dones.n, 3);
    CHECK_EQ_INT(dones.result[0], OSB_ERR_CANCELLED);
    CHECK_EQ_INT(osb_multi_fds(m, NULL, 0), 0);
    /* a lookup that outlives its transfer's deadline is a timeout */
    memset(&dones, 0, sizeof dones);
    use_servers(&mute, NULL, "options timeout:30 attempts:1\n");
    add_get(m, muted, 0, 300);
    rounds = 0;
    running = 1;
    while (running && rounds++ < 10000) CHECK_EQ_INT(osb_multi_perform(m, 1000, &running), OSB_OK);
    CHECK_EQ_INT(dones.n, 1);
    CHECK_EQ_INT(dones.result[0], OSB_ERR_TIMEOUT);
    CHECK_EQ_STR(dones.message[0], "resolving host 'mute.test' timed out");
    dns_log(&good, log, sizeof log);
    CHECK(strstr(log, "devbox.test") != NULL);
    dns_log(&mute, log, sizeof log);
    CHECK_EQ_INT(count_of(log, "mute.test"), 4);    /* A and AAAA, for each transfer */
    osb_multi_free(m);
    osb_client_free(c);
    dns_stop(&mute);
    dns_stop(&good);
}

/* Transfers to one name started together: one lookup, whose answer serves
 * all; when the transfer that looks it up goes first (cancelled), one that
 * waited on it asks again for itself. The second part's server holds its
 * answers until told (SIGUSR1), so the lookup is still under way when the
 * test looks, however fast the server and however slow the client. */
TEST(multi_transfers_to_one_name_share_its_lookup) {
    dns_srv good, held;
    osb_client *c;
    osb_multi *m = NULL;
    osb_transfer *first;
    char named[160], log[4096];
    int running = 1, rounds = 0, i;
    c = testdev_client();
    NEED(c != NULL, "the dev server");
    NEED(dns_start(&good, zone, "normal"), "tests/servers/dnsserver.py");
    use_servers(&good, NULL, NULL);
    snprintf(named, sizeof named, "http://devbox.test%s", strrchr(testdev_domain, ':'));
    memset(&dones, 0, sizeof dones);
    CHECK_EQ_INT(osb_multi_new(c, NULL, &m), OSB_OK);
    for (i = 0; i < 3; i++) add_get(m, named, i, 5000);
    while (running && rounds++ < 10000) CHECK_EQ_INT(osb_multi_perform(m, 1000, &running), OSB_OK);
    CHECK_EQ_INT(dones.n, 3);
    for (i = 0; i < 3; i++) {
        CHECK_EQ_INT(dones.result[i], OSB_OK);
        CHECK_EQ_INT(dones.status[i], 200);
    }
    dns_log(&good, log, sizeof log);
    CHECK_EQ_INT(count_of(log, "\"type\": \"A\""), 1);
    CHECK_EQ_INT(count_of(log, "\"type\": \"AAAA\""), 1);
    osb_multi_free(m);
    osb_client_free(c);

    dns_stop(&good);

    /* a new client and multi: no pooled connection, no address known */
    NEED(dns_start(&held, zone, "held"), "tests/servers/dnsserver.py");
    use_servers(&held, NULL, NULL);
    c = testdev_client();
    NEED(c != NULL, "the dev server");
    memset(&dones, 0, sizeof dones);
    CHECK_EQ_INT(osb_multi_new(c, NULL, &m), OSB_OK);
    first = add_get(m, named, 0, 5000);
    add_get(m, named, 1, 5000);
    CHECK_EQ_INT(osb_multi_perform(m, 0, &running), OSB_OK);
    CHECK_EQ_INT(running, 2);
    CHECK(osb_multi_fds(m, NULL, 0) == 1);   /* one lookup under way, the other waits on it */
    osb_multi_cancel(m, first);
    kill(held.p.pid, SIGUSR1);   /* the answers go out: the cancelled lookup's to nobody */
    rounds = 0;
    while (running && rounds++ < 10000) CHECK_EQ_INT(osb_multi_perform(m, 1000, &running), OSB_OK);
    CHECK_EQ_INT(dones.n, 2);
    CHECK_EQ_INT(dones.result[0], OSB_ERR_CANCELLED);
    CHECK_EQ_INT(dones.result[1], OSB_OK);
    CHECK_EQ_INT(dones.status[1], 200);
    dns_log(&held, log, sizeof log);
    CHECK_EQ_INT(count_of(log, "\"type\": \"A\""), 2);   /* the cancelled lookup's, and its own */
    osb_multi_free(m);
    osb_client_free(c);
    dns_stop(&held);
}

int main(int argc, char **argv) {
    int r;
    snprintf(conf_path, sizeof conf_path, "/tmp/osb-dns-resolv-%ld", (long)getpid());
    snprintf(hosts_path, sizeof hosts_path, "/tmp/osb-dns-hosts-%ld", (long)getpid());
    snprintf(zone_path, sizeof zone_path, "/tmp/osb-dns-zone-%ld", (long)getpid());
    write_text(hosts_path, "");
    setenv("OSB_RESOLV_CONF", conf_path, 1);
    setenv("OSB_HOSTS", hosts_path, 1);
    r = testlib_main(argc, argv);
    testdev_stop();
    unlink(conf_path);
    unlink(hosts_path);
    unlink(zone_path);
    return r;
}
