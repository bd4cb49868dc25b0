/* test_lifecycle.c -- the Lifecycle, Diagnostics and Egress calls against the
 * dev server (success and error paths), and the retry contract against the
 * scripted server tests/servers/retryserver.py. */
#define _DEFAULT_SOURCE
#define OPENSANDBOX_IMPLEMENTATION
#include "../opensandbox.h"
#include "testlib.h"
#include "testdev.h"
#include <time.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <unistd.h>

static osb_client *cl;

static osb_client *client(void) {
    if (!cl) cl = testdev_client();
    return cl;
}

#define NEED_CLIENT(c)                                   \
    osb_client *c = client();                            \
    if (!c) { SKIP("dev server unavailable"); return; }

static const char *const tail_argv[] = {"tail", "-f", "/dev/null", NULL};
static const osb_pair limits[] = {{"cpu", "1"}, {"memory", "1Gi"}};

/* Creates a plain sandbox; returns its id in id (cap 64). */
static int make_sandbox(osb_client *c, char *id, const osb_pair *md, size_t md_n, int timeout_s) {
    osb_sandbox_create_req r;
    osb_sandbox_info *s = NULL;
    memset(&r, 0, sizeof r);
    r.image = "python:3.11";
    r.entrypoint = tail_argv;
    r.resource_limits = limits;
    r.resource_limits_count = 2;
    r.timeout_s = timeout_s;
    r.metadata = md;
    r.metadata_count = md_n;
    if (osb_sandbox_create(c, &r, &s) != OSB_OK) return 0;
    snprintf(id, 64, "%s", s->id.ptr);
    osb_result_free(s);
    return 1;
}

static int str_eq(osb_str s, const char *t) { return s.ptr && strcmp(s.ptr, t) == 0; }

static const char *md_get(const osb_sandbox_info *s, const char *k) {
    size_t i;
    for (i = 0; i < s->metadata_count; i++)
        if (strcmp(s->metadata[i].key.ptr, k) == 0) return s->metadata[i].value.ptr;
    return NULL;
}

TEST(create_get_delete) {
    osb_sandbox_create_req r;
    osb_sandbox_info *s = NULL, *g = NULL;
    static const osb_pair env[] = {{"A", "1"}, {"B", ""}};
    static const osb_pair md[] = {{"team", "ml"}, {"run", "t1"}};
    char id[64];
    NEED_CLIENT(c);
    memset(&r, 0, sizeof r);
    r.image = "python:3.11";
    r.entrypoint = tail_argv;
    r.resource_limits = limits;
    r.resource_limits_count = 2;
    r.timeout_s = 600;
    r.env = env;
    r.env_count = 2;
    r.metadata = md;
    r.metadata_count = 2;
    r.platform_os = "linux";
    r.platform_arch = "amd64";
    CHECK_EQ_INT(osb_sandbox_create(c, &r, &s), OSB_OK);
    if (!s) return;
    CHECK(s->id.len > 0);
    CHECK(str_eq(s->status.state, "Running"));
    CHECK(s->status.last_transition_at.ptr != NULL);
    CHECK(s->expires_at.ptr != NULL);
    CHECK(s->created_at.ptr != NULL);
    CHECK_EQ_INT(s->entrypoint_count, 3);
    if (s->entrypoint_count == 3) CHECK(str_eq(s->entrypoint[0], "tail"));
    CHECK(md_get(s, "team") && strcmp(md_get(s, "team"), "ml") == 0);
    CHECK(s->raw.ptr && s->raw.ptr[0] == '{');
    CHECK(osb_client_error(c)->request_id[0] == 0 || 1);
    snprintf(id, sizeof id, "%s", s->id.ptr);
    osb_result_free(s);

    CHECK_EQ_INT(osb_sandbox_get(c, id, &g), OSB_OK);
    if (g) {
        CHECK(str_eq(g->id, id));
        CHECK(str_eq(g->image.uri, "python:3.11"));
        CHECK(str_eq(g->platform.os, "linux"));
        CHECK(str_eq(g->platform.arch, "amd64"));
        CHECK(str_eq(g->status.state, "Running"));
        CHECK_EQ_INT(g->metadata_count, 2);
        osb_result_free(g);
    }
    CHECK_EQ_INT(osb_sandbox_delete(c, id), OSB_OK);
    CHECK_EQ_INT(osb_sandbox_get(c, id, &g), OSB_ERR_HTTP);
    CHECK(g == NULL);
    CHECK(osb_error_is_not_found(osb_client_error(c)));
    CHECK_EQ_INT(osb_client_error(c)->http_status, 404);
    CHECK(strstr(osb_client_error(c)->server_code, "SANDBOX_NOT_FOUND") != NULL);
    CHECK(osb_client_error(c)->request_id[0] != 0);
    /* delete again: 404 */
    CHECK_EQ_INT(osb_sandbox_delete(c, id), OSB_ERR_HTTP);
    CHECK(osb_error_is_not_found(osb_client_error(c)));
}

TEST(create_errors) {
    osb_sandbox_create_req r;
    osb_sandbox_info *s = NULL;
    const osb_error *e;
    NEED_CLIENT(c);
    /* neither image nor snapshot: 422 {"detail":[...]} */
    memset(&r, 0, sizeof r);
    r.entrypoint = tail_argv;
    CHECK_EQ_INT(osb_sandbox_create(c, &r, &s), OSB_ERR_HTTP);
    CHECK(s == NULL);
    e = osb_client_error(c);
    CHECK_EQ_INT(e->http_status, 422);
    CHECK(strstr(e->message, "image") != NULL);
    CHECK(e->request_id[0] != 0);
    CHECK_EQ_INT(e->attempts, 1);
    /* timeout below 60: 422 */
    r.image = "python:3.11";
    r.timeout_s = 5;
    CHECK_EQ_INT(osb_sandbox_create(c, &r, &s), OSB_ERR_HTTP);
    CHECK_EQ_INT(osb_client_error(c)->http_status, 422);
    /* reserved metadata key: 400 {code,message} */
    {
        static const osb_pair bad[] = {{"opensandbox.io/x", "y"}};
        r.timeout_s = 0;
        r.metadata = bad;
        r.metadata_count = 1;
        CHECK_EQ_INT(osb_sandbox_create(c, &r, &s), OSB_ERR_HTTP);
        CHECK_EQ_INT(osb_client_error(c)->http_status, 400);
        CHECK(strstr(osb_client_error(c)->server_code, "INVALID_METADATA_LABEL") != NULL);
    }
    /* unknown snapshot: 404 */
    memset(&r, 0, sizeof r);
    r.snapshot_id = "no-such-snapshot";
    CHECK_EQ_INT(osb_sandbox_create(c, &r, &s), OSB_ERR_HTTP);
    CHECK(osb_error_is_not_found(osb_client_error(c)));
    /* no request */
    CHECK_EQ_INT(osb_sandbox_create(c, NULL, &s), OSB_ERR_INVALID_ARG);
}

TEST(create_request_body_shapes) {
    /* volumes, network policy, credential proxy, secure access and
     * extensions reach the server; Docker-like refusals come back typed */
    osb_sandbox_create_req r;
    osb_sandbox_info *s = NULL;
    static const char *const modes[] = {"ReadWriteOnce", NULL};
    static const char *const opts[] = {"allow_other", NULL};
    osb_volume_host host = {"/tmp"};
    osb_volume_pvc pvc;
    osb_volume_ossfs oss;
    osb_volume vols[3];
    static const osb_network_rule rules[] = {{"allow", "pypi.org"}};
    osb_network_policy np;
    NEED_CLIENT(c);
    memset(&pvc, 0, sizeof pvc);
    memset(&oss, 0, sizeof oss);
    memset(vols, 0, sizeof vols);
    pvc.claim_name = "data";
    pvc.create_if_not_exists = -1;
    pvc.delete_on_sandbox_termination = 1;
    pvc.storage_class = "standard";
    pvc.storage = "1Gi";
    pvc.access_modes = modes;
    oss.bucket = "bucket-one";
    oss.endpoint = "oss-cn-hangzhou.aliyuncs.com";
    oss.version = "2.0";
    oss.options = opts;
    oss.access_key_id = "id";
    oss.access_key_secret = "secret";
    vols[0].name = "h";
    vols[0].mount_path = "/mnt/h";
    vols[0].read_only = 1;
    vols[0].host = &host;
    vols[1].name = "p";
    vols[1].mount_path = "/mnt/p";
    vols[1].sub_path = "sub";
    vols[1].pvc = &pvc;
    vols[2].name = "o";
    vols[2].mount_path = "/mnt/o";
    vols[2].ossfs = &oss;
    np.default_action = "deny";
    np.egress = rules;
    np.egress_count = 1;
    memset(&r, 0, sizeof r);
    r.image = "python:3.11";
    r.image_username = "u";
    r.image_password = "p";
    r.entrypoint = tail_argv;
    r.volumes = vols;
    r.volumes_count = 3;
    r.network_policy = &np;
    r.credential_proxy = 1;
    r.timeout_s = 600;
    if (osb_sandbox_create(c, &r, &s) == OSB_OK) {
        CHECK(s->id.len > 0);
        osb_sandbox_delete(c, s->id.ptr);
        osb_result_free(s);
    } else {
        /* the dev server may refuse a backend it cannot provide: typed 4xx */
        CHECK(osb_client_error(c)->http_status >= 400 && osb_client_error(c)->http_status < 500);
    }
    /* secureAccess is refused on Docker: 400 */
    memset(&r, 0, sizeof r);
    r.image = "python:3.11";
    r.entrypoint = tail_argv;
    r.secure_access = 1;
    CHECK_EQ_INT(osb_sandbox_create(c, &r, &s), OSB_ERR_HTTP);
    CHECK_EQ_INT(osb_client_error(c)->http_status, 400);
    /* poolRef is refused on Docker: 400; resourceLimits then not required */
    {
        static const osb_pair ext[] = {{"poolRef", "pool-a"}};
        r.secure_access = 0;
        r.extensions = ext;
        r.extensions_count = 1;
        CHECK_EQ_INT(osb_sandbox_create(c, &r, &s), OSB_ERR_HTTP);
        CHECK_EQ_INT(osb_client_error(c)->http_status, 400);
        CHECK(strstr(osb_client_error(c)->server_code, "POOL") != NULL);
    }
}

TEST(list_filters_and_pages) {
    static const osb_pair md1[] = {{"suite", "list"}, {"example.com/odd", "v_1.x"}};
    static const osb_pair md2[] = {{"suite", "list"}, {"example.com/odd", "other"}};
    char a[64], b[64];
    osb_sandbox_list_req q;
    osb_sandbox_page *l = NULL;
    NEED_CLIENT(c);
    CHECK(make_sandbox(c, a, md1, 2, 600));
    CHECK(make_sandbox(c, b, md2, 2, 600));
    memset(&q, 0, sizeof q);
    q.metadata = md1;
    q.metadata_count = 2;
    CHECK_EQ_INT(osb_sandbox_list(c, &q, &l), OSB_OK);
    if (l) {
        CHECK_EQ_INT(l->items_count, 1);
        if (l->items_count == 1) CHECK(str_eq(l->items[0].id, a));
        CHECK_EQ_INT(l->pagination.total_items, 1);
        CHECK_EQ_INT(l->pagination.page, 1);
        osb_result_free(l);
    }
    /* two states OR'ed, one page of one */
    {
        static const char *const states[] = {"running", "Paused", NULL};
        q.metadata = md1;
        q.metadata_count = 1;   /* suite=list only */
        q.states = states;
        q.page = 1;
        q.page_size = 1;
        CHECK_EQ_INT(osb_sandbox_list(c, &q, &l), OSB_OK);
        if (l) {
            CHECK_EQ_INT(l->items_count, 1);
            CHECK_EQ_INT(l->pagination.total_items, 2);
            CHECK_EQ_INT(l->pagination.total_pages, 2);
            CHECK_EQ_INT(l->pagination.has_next_page, 1);
            CHECK_EQ_INT(l->pagination.page_size, 1);
            osb_result_free(l);
        }
    }
    /* no filter */
    CHECK_EQ_INT(osb_sandbox_list(c, NULL, &l), OSB_OK);
    if (l) {
        CHECK(l->items_count >= 2);
        osb_result_free(l);
    }
    /* page size above 200: 422 */
    memset(&q, 0, sizeof q);
    q.page_size = 500;
    CHECK_EQ_INT(osb_sandbox_list(c, &q, &l), OSB_ERR_HTTP);
    CHECK(l == NULL);
    CHECK_EQ_INT(osb_client_error(c)->http_status, 422);
    osb_sandbox_delete(c, a);
    osb_sandbox_delete(c, b);
}

TEST(endpoint_and_target) {
    char id[64];
    osb_endpoint *ep = NULL;
    osb_endpoint_req er;
    osb_target t;
    NEED_CLIENT(c);
    CHECK(make_sandbox(c, id, NULL, 0, 600));
    CHECK_EQ_INT(osb_sandbox_endpoint(c, id, 44772, NULL, &ep), OSB_OK);
    if (ep) {
        CHECK(strstr(ep->endpoint.ptr, "/proxy/44772") != NULL);
        CHECK(strncmp(ep->endpoint.ptr, "http", 4) != 0);
        CHECK(strncmp(ep->url.ptr, "http://", 7) == 0);
        CHECK(strcmp(ep->url.ptr + 7, ep->endpoint.ptr) == 0);
        CHECK(ep->header_lines != NULL && ep->header_lines[0] == NULL);
        t = osb_target_from_endpoint(ep);
        CHECK(t.url == ep->url.ptr);
        CHECK(ep->raw.ptr && strstr(ep->raw.ptr, "endpoint"));
        /* the target works: execd's /ping through the raw API */
        {
            osb_http_request req;
            osb_http_response res;
            char url[512];
            memset(&req, 0, sizeof req);
            snprintf(url, sizeof url, "%s/ping", t.url);
            req.url = url;
            req.headers = t.headers;
            CHECK_EQ_INT(osb_request_raw(c, &req, &res), OSB_OK);
            CHECK_EQ_INT(res.status, 200);
            osb_http_response_free(&res);
        }
        osb_result_free(ep);
    }
    /* server proxy: lifecycle host, no scheme, no /v1 */
    memset(&er, 0, sizeof er);
    er.use_server_proxy = 1;
    CHECK_EQ_INT(osb_sandbox_endpoint(c, id, 44772, &er, &ep), OSB_OK);
    if (ep) {
        char want[256];
        snprintf(want, sizeof want, "%s/sandboxes/%s/proxy/44772", testdev_domain, id);
        CHECK(str_eq(ep->endpoint, want));
        CHECK(strncmp(ep->url.ptr, "http://", 7) == 0);
        osb_result_free(ep);
    }
    /* signed route on a Docker-like server: 400 API_NOT_SUPPORTED, and
     * use_server_proxy was not sent with expires (else INVALID_PARAMETER) */
    er.expires = (int64_t)time(NULL) + 3600;
    CHECK_EQ_INT(osb_sandbox_endpoint(c, id, 44772, &er, &ep), OSB_ERR_HTTP);
    CHECK(ep == NULL);
    CHECK_EQ_INT(osb_client_error(c)->http_status, 400);
    CHECK(strstr(osb_client_error(c)->server_code, "API_NOT_SUPPORTED") != NULL);
    /* bad port: refused locally; unknown sandbox: 404 */
    CHECK_EQ_INT(osb_sandbox_endpoint(c, id, 0, NULL, &ep), OSB_ERR_INVALID_ARG);
    CHECK_EQ_INT(osb_sandbox_endpoint(c, "no-such-sandbox", 44772, NULL, &ep), OSB_ERR_HTTP);
    CHECK(osb_error_is_not_found(osb_client_error(c)));
    osb_sandbox_delete(c, id);
}

TEST(metadata_patch_merge) {
    static const osb_pair md[] = {{"keep", "k"}, {"drop", "d"}, {"change", "old"}};
    static const osb_pair patch[] = {{"change", "new"}, {"drop", NULL}, {"added", "a"}, {"missing", NULL}};
    char id[64];
    osb_sandbox_info *s = NULL;
    NEED_CLIENT(c);
    CHECK(make_sandbox(c, id, md, 3, 600));
    CHECK_EQ_INT(osb_sandbox_metadata_patch(c, id, patch, 4, &s), OSB_OK);
    if (s) {
        CHECK(md_get(s, "keep") && strcmp(md_get(s, "keep"), "k") == 0);
        CHECK(md_get(s, "change") && strcmp(md_get(s, "change"), "new") == 0);
        CHECK(md_get(s, "added") && strcmp(md_get(s, "added"), "a") == 0);
        CHECK(md_get(s, "drop") == NULL);
        CHECK_EQ_INT(s->metadata_count, 3);
        osb_result_free(s);
    }
    /* {} is a no-op; the result may be discarded */
    CHECK_EQ_INT(osb_sandbox_metadata_patch(c, id, NULL, 0, NULL), OSB_OK);
    /* reserved key: 400 INVALID_METADATA_LABEL (no SANDBOX:: prefix) */
    {
        static const osb_pair bad[] = {{"opensandbox.io/x", "y"}};
        CHECK_EQ_INT(osb_sandbox_metadata_patch(c, id, bad, 1, &s), OSB_ERR_HTTP);
        CHECK(s == NULL);
        CHECK_EQ_INT(osb_client_error(c)->http_status, 400);
        CHECK_EQ_STR(osb_client_error(c)->server_code, "INVALID_METADATA_LABEL");
    }
    CHECK_EQ_INT(osb_sandbox_metadata_patch(c, "no-such-sandbox", patch, 1, &s), OSB_ERR_HTTP);
    CHECK(osb_error_is_not_found(osb_client_error(c)));
    osb_sandbox_delete(c, id);
}

TEST(pause_resume) {
    char id[64];
    osb_sandbox_info *s = NULL;
    NEED_CLIENT(c);
    CHECK(make_sandbox(c, id, NULL, 0, 600));
    /* resume of a running sandbox: 409 */
    CHECK_EQ_INT(osb_sandbox_resume(c, id), OSB_ERR_HTTP);
    CHECK(osb_error_is_conflict(osb_client_error(c)));
    CHECK(strstr(osb_client_error(c)->server_code, "NOT_PAUSED") != NULL);
    CHECK_EQ_INT(osb_sandbox_pause(c, id), OSB_OK);
    CHECK_EQ_INT(osb_client_error(c)->attempts, 1);
    CHECK_EQ_INT(osb_sandbox_get(c, id, &s), OSB_OK);
    if (s) { CHECK(str_eq(s->status.state, "Paused")); osb_result_free(s); }
    /* pause of a paused sandbox: 409 (the dev server; Docker may say 500) */
    CHECK_EQ_INT(osb_sandbox_pause(c, id), OSB_ERR_HTTP);
    CHECK(osb_error_is_conflict(osb_client_error(c)) || osb_client_error(c)->http_status == 500);
    CHECK_EQ_INT(osb_sandbox_resume(c, id), OSB_OK);
    CHECK_EQ_INT(osb_sandbox_get(c, id, &s), OSB_OK);
    if (s) { CHECK(str_eq(s->status.state, "Running")); osb_result_free(s); }
    CHECK_EQ_INT(osb_sandbox_pause(c, "no-such-sandbox"), OSB_ERR_HTTP);
    CHECK(osb_error_is_not_found(osb_client_error(c)));
    osb_sandbox_delete(c, id);
}

TEST(format_time) {
    char buf[32];
    CHECK(osb_format_time(0, buf, sizeof buf) && strcmp(buf, "1970-01-01T00:00:00Z") == 0);
    CHECK(osb_format_time(951782400, buf, sizeof buf) && strcmp(buf, "2000-02-29T00:00:00Z") == 0);
    CHECK(osb_format_time(1780308000, buf, sizeof buf) && strcmp(buf, "2026-06-01T10:00:00Z") == 0);
    CHECK(osb_format_time(253402300799LL, buf, sizeof buf) && strcmp(buf, "9999-12-31T23:59:59Z") == 0);
    CHECK(osb_format_time(-1, buf, sizeof buf) == NULL);
    CHECK(osb_format_time(0, buf, 10) == NULL);
}

TEST(renew) {
    char id[64], when[32];
    osb_renew_result *r = NULL;
    NEED_CLIENT(c);
    CHECK(make_sandbox(c, id, NULL, 0, 600));
    osb_format_time((int64_t)time(NULL) + 7200, when, sizeof when);
    CHECK_EQ_INT(osb_sandbox_renew(c, id, when, &r), OSB_OK);
    if (r) {
        CHECK(r->expires_at.ptr && strncmp(r->expires_at.ptr, when, 19) == 0);
        osb_result_free(r);
    }
    /* in the past: 400 INVALID_EXPIRATION */
    CHECK_EQ_INT(osb_sandbox_renew(c, id, "2001-01-01T00:00:00Z", &r), OSB_ERR_HTTP);
    CHECK(r == NULL);
    CHECK_EQ_INT(osb_client_error(c)->http_status, 400);
    CHECK(strstr(osb_client_error(c)->server_code, "INVALID_EXPIRATION") != NULL);
    /* not a time: 422 */
    CHECK_EQ_INT(osb_sandbox_renew(c, id, "tomorrow", NULL), OSB_ERR_HTTP);
    CHECK_EQ_INT(osb_client_error(c)->http_status, 422);
    CHECK_EQ_INT(osb_sandbox_renew(c, id, NULL, NULL), OSB_ERR_INVALID_ARG);
    osb_sandbox_delete(c, id);
    /* no TTL: 409 */
    CHECK(make_sandbox(c, id, NULL, 0, 0));
    CHECK_EQ_INT(osb_sandbox_renew(c, id, when, NULL), OSB_ERR_HTTP);
    CHECK(osb_error_is_conflict(osb_client_error(c)));
    osb_sandbox_delete(c, id);
}

static void sleep_ms(int ms) {
    struct timespec ts;
    ts.tv_sec = ms / 1000;
    ts.tv_nsec = (long)(ms % 1000) * 1000000L;
    nanosleep(&ts, NULL);
}

TEST(snapshots) {
    char id[64], snap[64] = "", snap2[64] = "";
    osb_snapshot *s = NULL;
    osb_snapshot_page *l = NULL;
    osb_snapshot_list_req q;
    int i;
    NEED_CLIENT(c);
    CHECK(make_sandbox(c, id, NULL, 0, 600));
    CHECK_EQ_INT(osb_snapshot_create(c, id, "checkpoint", &s), OSB_OK);
    if (s) {
        CHECK(str_eq(s->status.state, "Creating"));
        CHECK(str_eq(s->sandbox_id, id));
        CHECK(str_eq(s->name, "checkpoint"));
        snprintf(snap, sizeof snap, "%s", s->id.ptr);
        osb_result_free(s);
    }
    /* deleting while Creating: 409 */
    CHECK_EQ_INT(osb_snapshot_delete(c, snap), OSB_ERR_HTTP);
    CHECK(osb_error_is_conflict(osb_client_error(c)));
    for (i = 0; i < 50; i++) {
        CHECK_EQ_INT(osb_snapshot_get(c, snap, &s), OSB_OK);
        if (!s) break;
        if (!str_eq(s->status.state, "Creating")) break;
        osb_result_free(s);
        s = NULL;
        sleep_ms(100);
    }
    if (s) {
        CHECK(str_eq(s->status.state, "Ready"));
        CHECK(s->created_at.ptr != NULL);
        osb_result_free(s);
    }
    /* unnamed snapshot */
    CHECK_EQ_INT(osb_snapshot_create(c, id, NULL, &s), OSB_OK);
    if (s) {
        CHECK(s->name.ptr == NULL || s->name.len == 0);
        snprintf(snap2, sizeof snap2, "%s", s->id.ptr);
        osb_result_free(s);
    }
    memset(&q, 0, sizeof q);
    q.sandbox_id = id;
    CHECK_EQ_INT(osb_snapshot_list(c, &q, &l), OSB_OK);
    if (l) {
        CHECK_EQ_INT(l->items_count, 2);
        CHECK_EQ_INT(l->pagination.total_items, 2);
        osb_result_free(l);
    }
    {
        static const char *const ready[] = {"Ready", NULL};
        q.states = ready;
        q.page = 1;
        q.page_size = 10;
        CHECK_EQ_INT(osb_snapshot_list(c, &q, &l), OSB_OK);
        if (l) {
            CHECK_EQ_INT(l->items_count, 1);
            if (l->items_count) CHECK(str_eq(l->items[0].id, snap));
            osb_result_free(l);
        }
    }
    CHECK_EQ_INT(osb_snapshot_list(c, NULL, &l), OSB_OK);
    if (l) { CHECK(l->items_count >= 2); osb_result_free(l); }
    q.page = -1;
    CHECK_EQ_INT(osb_snapshot_list(c, &q, &l), OSB_ERR_HTTP);
    CHECK_EQ_INT(osb_client_error(c)->http_status, 422);
    /* restore from the snapshot */
    {
        osb_sandbox_create_req r;
        osb_sandbox_info *sb = NULL;
        memset(&r, 0, sizeof r);
        r.snapshot_id = snap;
        r.timeout_s = 600;
        CHECK_EQ_INT(osb_sandbox_create(c, &r, &sb), OSB_OK);
        if (sb) {
            osb_sandbox_info *g = NULL;
            CHECK_EQ_INT(osb_sandbox_get(c, sb->id.ptr, &g), OSB_OK);
            if (g) { CHECK(str_eq(g->snapshot_id, snap)); osb_result_free(g); }
            osb_sandbox_delete(c, sb->id.ptr);
            osb_result_free(sb);
        }
    }
    CHECK_EQ_INT(osb_snapshot_delete(c, snap), OSB_OK);
    CHECK_EQ_INT(osb_snapshot_get(c, snap, &s), OSB_ERR_HTTP);
    CHECK(osb_error_is_not_found(osb_client_error(c)));
    CHECK(strstr(osb_client_error(c)->server_code, "SNAPSHOT::NOT_FOUND") != NULL);
    CHECK_EQ_INT(osb_snapshot_delete(c, "no-such-snapshot"), OSB_ERR_HTTP);
    CHECK(osb_error_is_not_found(osb_client_error(c)));
    CHECK_EQ_INT(osb_snapshot_create(c, "no-such-sandbox", NULL, &s), OSB_ERR_HTTP);
    CHECK(osb_error_is_not_found(osb_client_error(c)));
    /* a paused sandbox cannot be snapshotted: 409 */
    CHECK_EQ_INT(osb_sandbox_pause(c, id), OSB_OK);
    CHECK_EQ_INT(osb_snapshot_create(c, id, NULL, &s), OSB_ERR_HTTP);
    CHECK(osb_error_is_conflict(osb_client_error(c)));
    for (i = 0; i < 50 && snap2[0]; i++) {
        if (osb_snapshot_delete(c, snap2) == OSB_OK) break;
        sleep_ms(100);
    }
    osb_sandbox_delete(c, id);
}

TEST(diagnostics) {
    char id[64];
    osb_diagnostic *d = (osb_diagnostic *)1;
    osb_text *t = NULL;
    osb_diagnostics_text_req tr;
    NEED_CLIENT(c);
    CHECK(make_sandbox(c, id, NULL, 0, 600));
    /* the stable API is not implemented by the open-source server */
    CHECK_EQ_INT(osb_diagnostics_logs(c, id, NULL, &d), OSB_ERR_UNSUPPORTED);
    CHECK(d == NULL);
    CHECK_EQ_INT(osb_client_error(c)->code, OSB_ERR_UNSUPPORTED);
    CHECK_EQ_INT(osb_client_error(c)->http_status, 501);
    CHECK_EQ_STR(osb_client_error(c)->server_code, "DIAGNOSTICS_NOT_IMPLEMENTED");
    CHECK_EQ_INT(osb_diagnostics_events(c, id, "lifecycle", &d), OSB_ERR_UNSUPPORTED);
    CHECK_EQ_INT(osb_diagnostics_events(c, NULL, NULL, &d), OSB_ERR_INVALID_ARG);
    /* the documented fallback: legacy plain text */
    CHECK_EQ_INT(osb_diagnostics_text(c, id, NULL, &t), OSB_OK);
    if (t) {
        CHECK(t->text.ptr != NULL);
        CHECK(strstr(t->content_type.ptr, "text/plain") != NULL);
        osb_result_free(t);
    }
    memset(&tr, 0, sizeof tr);
    tr.kind = "logs";
    tr.tail = 10;
    tr.since = "1h";
    CHECK_EQ_INT(osb_diagnostics_text(c, id, &tr, &t), OSB_OK);
    osb_result_free(t);
    tr.kind = "events";
    tr.limit = 5;
    CHECK_EQ_INT(osb_diagnostics_text(c, id, &tr, &t), OSB_OK);
    osb_result_free(t);
    tr.kind = "inspect";
    CHECK_EQ_INT(osb_diagnostics_text(c, id, &tr, &t), OSB_OK);
    if (t) { CHECK(t->text.len > 0); osb_result_free(t); }
    memset(&tr, 0, sizeof tr);
    tr.kind = "summary";
    tr.tail = 5;
    tr.event_limit = 5;
    CHECK_EQ_INT(osb_diagnostics_text(c, id, &tr, &t), OSB_OK);
    osb_result_free(t);
    tr.kind = "bogus";
    CHECK_EQ_INT(osb_diagnostics_text(c, id, &tr, &t), OSB_ERR_INVALID_ARG);
    CHECK_EQ_INT(osb_diagnostics_text(c, "no-such-sandbox", NULL, &t), OSB_ERR_HTTP);
    CHECK(t == NULL);
    CHECK(osb_error_is_not_found(osb_client_error(c)));
    osb_sandbox_delete(c, id);
}

/* A sandbox with a network policy (and the credential proxy when cp) and its
 * egress endpoint. */
static int egress_sandbox(osb_client *c, char *id, int cp, osb_endpoint **ep) {
    static const osb_network_rule rules[] = {{"allow", "pypi.org"}, {"allow", "api.github.com"},
                                             {"deny", "*.bad.com"}};
    osb_network_policy np;
    osb_sandbox_create_req r;
    osb_sandbox_info *s = NULL;
    memset(&np, 0, sizeof np);
    np.default_action = "deny";
    np.egress = rules;
    np.egress_count = 3;
    memset(&r, 0, sizeof r);
    r.image = "python:3.11";
    r.entrypoint = tail_argv;
    r.timeout_s = 600;
    r.network_policy = &np;
    r.credential_proxy = cp;
    if (osb_sandbox_create(c, &r, &s) != OSB_OK) return 0;
    snprintf(id, 64, "%s", s->id.ptr);
    osb_result_free(s);
    return osb_sandbox_endpoint(c, id, 18080, NULL, ep) == OSB_OK;
}

TEST(egress_policy) {
    char id[64];
    osb_endpoint *ep = NULL;
    osb_egress_status *st = NULL;
    osb_target t;
    NEED_CLIENT(c);
    CHECK(egress_sandbox(c, id, 0, &ep));
    if (!ep) return;
    CHECK_EQ_INT(ep->headers_count, 1);
    CHECK(ep->header_lines[0] && strncmp(ep->header_lines[0], "OPENSANDBOX-EGRESS-AUTH: ", 25) == 0);
    CHECK(ep->header_lines[1] == NULL);
    t = osb_target_from_endpoint(ep);
    CHECK_EQ_INT(osb_egress_policy_get(c, &t, &st), OSB_OK);
    if (st) {
        CHECK(str_eq(st->status, "ok"));
        CHECK(str_eq(st->mode, "enforcing"));
        CHECK(str_eq(st->enforcement_mode, "dns"));
        CHECK(str_eq(st->policy.default_action, "deny"));
        CHECK_EQ_INT(st->policy.egress_count, 3);
        if (st->policy.egress_count == 3) {
            CHECK(str_eq(st->policy.egress[0].action, "allow"));
            CHECK(str_eq(st->policy.egress[0].target, "pypi.org"));
        }
        osb_result_free(st);
    }
    {
        static const osb_network_rule add[] = {{"deny", "PyPI.org"}, {"allow", "example.com"}};
        CHECK_EQ_INT(osb_egress_policy_patch(c, &t, add, 2, &st), OSB_OK);
        if (st) { CHECK(str_eq(st->mode, "enforcing")); osb_result_free(st); }
        CHECK_EQ_INT(osb_egress_policy_get(c, &t, &st), OSB_OK);
        if (st) {
            CHECK_EQ_INT(st->policy.egress_count, 4);
            if (st->policy.egress_count == 4) {
                CHECK(str_eq(st->policy.egress[0].action, "deny"));
                CHECK(str_eq(st->policy.egress[1].target, "example.com"));
            }
            osb_result_free(st);
        }
    }
    {
        static const char *const del[] = {"example.com", "PYPI.org"};
        static const char *const none[] = {"nothing.example"};
        CHECK_EQ_INT(osb_egress_policy_delete(c, &t, del, 2, &st), OSB_OK);
        if (st) { CHECK(st->reason.ptr == NULL); osb_result_free(st); }
        CHECK_EQ_INT(osb_egress_policy_delete(c, &t, none, 1, &st), OSB_OK);
        if (st) { CHECK(str_eq(st->reason, "no matching targets found")); osb_result_free(st); }
        CHECK_EQ_INT(osb_egress_policy_get(c, &t, &st), OSB_OK);
        if (st) { CHECK_EQ_INT(st->policy.egress_count, 2); osb_result_free(st); }
        CHECK_EQ_INT(osb_egress_policy_delete(c, &t, del, 0, NULL), OSB_ERR_INVALID_ARG);
    }
    /* plain-text errors: 400 with the message, no server code */
    {
        static const osb_network_rule bad[] = {{"maybe", "x.com"}};
        CHECK_EQ_INT(osb_egress_policy_patch(c, &t, bad, 1, &st), OSB_ERR_HTTP);
        CHECK(st == NULL);
        CHECK_EQ_INT(osb_client_error(c)->http_status, 400);
        CHECK(strstr(osb_client_error(c)->message, "unsupported action") != NULL);
        CHECK_EQ_STR(osb_client_error(c)->server_code, "");
        CHECK_EQ_INT(osb_egress_policy_patch(c, &t, bad, 0, &st), OSB_ERR_INVALID_ARG);
    }
    /* without the endpoint's token: 401 */
    {
        osb_target naked = t;
        naked.headers = NULL;
        CHECK_EQ_INT(osb_egress_policy_get(c, &naked, &st), OSB_ERR_HTTP);
        CHECK(osb_error_is_unauthorized(osb_client_error(c)));
        CHECK(strstr(osb_client_error(c)->message, "unauthorized") != NULL);
    }
    CHECK_EQ_INT(osb_egress_policy_get(c, NULL, &st), OSB_ERR_INVALID_ARG);
    /* through the lifecycle server's proxy, with the endpoint's headers */
    {
        osb_endpoint *pe = NULL;
        osb_endpoint_req er;
        memset(&er, 0, sizeof er);
        er.use_server_proxy = 1;
        CHECK_EQ_INT(osb_sandbox_endpoint(c, id, 18080, &er, &pe), OSB_OK);
        if (pe) {
            osb_target pt = osb_target_from_endpoint(pe);
            CHECK(strstr(pt.url, "/sandboxes/") != NULL);
            CHECK_EQ_INT(osb_egress_policy_get(c, &pt, &st), OSB_OK);
            if (st) { CHECK_EQ_INT(st->policy.egress_count, 2); osb_result_free(st); }
            osb_result_free(pe);
        }
    }
    osb_result_free(ep);
    osb_sandbox_delete(c, id);
    /* a sandbox without a network policy has no sidecar: 502 from the proxy */
    CHECK(make_sandbox(c, id, NULL, 0, 600));
    CHECK_EQ_INT(osb_sandbox_endpoint(c, id, 18080, NULL, &ep), OSB_OK);
    if (ep) {
        t = osb_target_from_endpoint(ep);
        CHECK_EQ_INT(osb_egress_policy_get(c, &t, &st), OSB_ERR_HTTP);
        CHECK_EQ_INT(osb_client_error(c)->http_status, 502);
        osb_result_free(ep);
    }
    osb_sandbox_delete(c, id);
}

TEST(credential_vault) {
    char id[64];
    osb_endpoint *ep = NULL;
    osb_target t;
    osb_vault_state *v = NULL;
    osb_vault_credential *cr = NULL;
    osb_vault_binding *b = NULL;
    osb_vault_credential_in creds[3];
    osb_vault_binding_in binds[2];
    osb_vault_create_req req;
    static const char *const gh_hosts[] = {"api.github.com", NULL};
    static const char *const py_hosts[] = {"pypi.org", NULL};
    static const char *const schemes[] = {"https", NULL};
    static const char *const methods[] = {"get", "POST", NULL};
    static const char *const paths[] = {"/repos/*", NULL};
    static const int ports[] = {443};
    NEED_CLIENT(c);
    memset(creds, 0, sizeof creds);
    memset(binds, 0, sizeof binds);
    memset(&req, 0, sizeof req);
    creds[0].name = "gh";
    creds[0].value = "ghp_secret";
    creds[1].name = "basic";
    creds[1].value = "dXNlcjpwYXNz";
    creds[1].source_type = "inline";
    creds[2].name = "key";
    creds[2].value = "k-123";
    binds[0].name = "github-api";
    binds[0].match.hosts = gh_hosts;
    binds[0].match.schemes = schemes;
    binds[0].match.ports = ports;
    binds[0].match.ports_count = 1;
    binds[0].match.methods = methods;
    binds[0].match.paths = paths;
    binds[0].auth.type = "bearer";
    binds[0].auth.credential = "gh";
    binds[1].name = "pypi";
    binds[1].match.hosts = py_hosts;
    binds[1].auth.type = "apiKey";
    binds[1].auth.name = "x-api-key";
    binds[1].auth.credential = "key";
    req.credentials = creds;
    req.credentials_count = 3;
    req.bindings = binds;
    req.bindings_count = 2;

    /* without the credential proxy: 412 */
    CHECK(egress_sandbox(c, id, 0, &ep));
    if (ep) {
        t = osb_target_from_endpoint(ep);
        CHECK_EQ_INT(osb_vault_create(c, &t, &req, &v), OSB_ERR_HTTP);
        CHECK_EQ_INT(osb_client_error(c)->http_status, 412);
        CHECK(strstr(osb_client_error(c)->message, "mitmproxy") != NULL);
        osb_result_free(ep);
        ep = NULL;
    }
    osb_sandbox_delete(c, id);

    CHECK(egress_sandbox(c, id, 1, &ep));
    if (!ep) return;
    t = osb_target_from_endpoint(ep);
    /* nothing yet: 404 on every read and on delete */
    CHECK_EQ_INT(osb_vault_get(c, &t, &v), OSB_ERR_HTTP);
    CHECK(osb_error_is_not_found(osb_client_error(c)));
    CHECK_EQ_INT(osb_vault_credential_list(c, &t, &v), OSB_ERR_HTTP);
    CHECK(osb_error_is_not_found(osb_client_error(c)));
    CHECK_EQ_INT(osb_vault_binding_list(c, &t, &v), OSB_ERR_HTTP);
    CHECK(osb_error_is_not_found(osb_client_error(c)));
    CHECK_EQ_INT(osb_vault_delete(c, &t), OSB_ERR_HTTP);
    CHECK(osb_error_is_not_found(osb_client_error(c)));

    CHECK_EQ_INT(osb_vault_create(c, &t, &req, &v), OSB_OK);
    if (v) {
        CHECK_EQ_INT(v->revision, 1);
        CHECK_EQ_INT(v->credentials_count, 3);
        CHECK_EQ_INT(v->bindings_count, 2);
        if (v->credentials_count == 3) {
            CHECK(str_eq(v->credentials[0].name, "basic"));   /* sorted */
            CHECK(str_eq(v->credentials[0].source_type, "inline"));
        }
        CHECK(strstr(v->raw.ptr, "ghp_secret") == NULL);
        osb_result_free(v);
    }
    /* twice: 409 */
    CHECK_EQ_INT(osb_vault_create(c, &t, &req, NULL), OSB_ERR_HTTP);
    CHECK(osb_error_is_conflict(osb_client_error(c)));
    CHECK(strstr(osb_client_error(c)->message, "already exists") != NULL);

    CHECK_EQ_INT(osb_vault_get(c, &t, &v), OSB_OK);
    if (v) {
        CHECK_EQ_INT(v->bindings_count, 2);
        if (v->bindings_count == 2) {
            const osb_vault_binding *g = &v->bindings[0];
            CHECK(str_eq(g->name, "github-api"));
            CHECK(str_eq(g->auth.type, "bearer"));
            CHECK_EQ_INT(g->match.ports_count, 1);
            if (g->match.ports_count) CHECK_EQ_INT(g->match.ports[0], 443);
            CHECK_EQ_INT(g->match.methods_count, 2);
            if (g->match.methods_count == 2) CHECK(str_eq(g->match.methods[0], "GET"));
            CHECK(str_eq(v->bindings[1].auth.name, "X-Api-Key"));
            CHECK_EQ_INT(v->bindings[1].match.paths_count, 1);
        }
        osb_result_free(v);
    }
    CHECK_EQ_INT(osb_vault_credential_list(c, &t, &v), OSB_OK);
    if (v) { CHECK_EQ_INT(v->credentials_count, 3); CHECK_EQ_INT(v->bindings_count, 0); osb_result_free(v); }
    CHECK_EQ_INT(osb_vault_binding_list(c, &t, &v), OSB_OK);
    if (v) { CHECK_EQ_INT(v->bindings_count, 2); CHECK_EQ_INT(v->revision, 1); osb_result_free(v); }
    CHECK_EQ_INT(osb_vault_credential_get(c, &t, "gh", &cr), OSB_OK);
    if (cr) { CHECK(str_eq(cr->name, "gh")); CHECK_EQ_INT(cr->revision, 1); osb_result_free(cr); }
    CHECK_EQ_INT(osb_vault_credential_get(c, &t, "nope", &cr), OSB_ERR_HTTP);
    CHECK(cr == NULL);
    CHECK(osb_error_is_not_found(osb_client_error(c)));
    CHECK_EQ_INT(osb_vault_binding_get(c, &t, "pypi", &b), OSB_OK);
    if (b) { CHECK(str_eq(b->auth.type, "apiKey")); CHECK(str_eq(b->match.hosts[0], "pypi.org")); osb_result_free(b); }
    CHECK_EQ_INT(osb_vault_binding_get(c, &t, "nope", &b), OSB_ERR_HTTP);
    CHECK(osb_error_is_not_found(osb_client_error(c)));
    CHECK_EQ_INT(osb_vault_binding_get(c, &t, NULL, &b), OSB_ERR_INVALID_ARG);

    /* patch: replace a credential, swap a binding to basic and custom headers */
    {
        osb_vault_patch_req pr;
        osb_vault_credential_in rep[1];
        osb_vault_binding_in nb[1];
        osb_vault_header_in hs[2];
        static const char *const del_b[] = {"pypi", NULL};
        static const char *const del_c[] = {"key", NULL};
        memset(&pr, 0, sizeof pr);
        memset(rep, 0, sizeof rep);
        memset(nb, 0, sizeof nb);
        rep[0].name = "gh";
        rep[0].value = "ghp_new";
        hs[0].name = "x-one";
        hs[0].credential = "gh";
        hs[1].name = "X-Two";
        hs[1].credential = "basic";
        nb[0].name = "pypi-custom";
        nb[0].match.hosts = py_hosts;
        nb[0].auth.type = "customHeaders";
        nb[0].auth.headers = hs;
        nb[0].auth.headers_count = 2;
        pr.expected_revision = 1;
        pr.credentials_replace = rep;
        pr.credentials_replace_count = 1;
        pr.credentials_delete = del_c;
        pr.bindings_delete = del_b;
        pr.bindings_add = nb;
        pr.bindings_add_count = 1;
        CHECK_EQ_INT(osb_vault_patch(c, &t, &pr, &v), OSB_OK);
        if (v) {
            CHECK_EQ_INT(v->revision, 2);
            CHECK_EQ_INT(v->credentials_count, 2);
            CHECK_EQ_INT(v->bindings_count, 2);
            if (v->bindings_count == 2) CHECK(str_eq(v->bindings[1].auth.type, "customHeaders"));
            osb_result_free(v);
        }
        /* stale revision: 409 */
        CHECK_EQ_INT(osb_vault_patch(c, &t, &pr, &v), OSB_ERR_HTTP);
        CHECK(osb_error_is_conflict(osb_client_error(c)));
        CHECK(strstr(osb_client_error(c)->message, "expectedRevision") != NULL);
        /* a basic binding on a host the policy does not allow: 400 */
        memset(&pr, 0, sizeof pr);
        {
            static const char *const evil[] = {"evil.example", NULL};
            nb[0].name = "evil";
            nb[0].match.hosts = evil;
            nb[0].auth.type = "basic";
            nb[0].auth.credential = "basic";
            nb[0].auth.headers = NULL;
            nb[0].auth.headers_count = 0;
            pr.bindings_add = nb;
            pr.bindings_add_count = 1;
            CHECK_EQ_INT(osb_vault_patch(c, &t, &pr, NULL), OSB_ERR_HTTP);
            CHECK_EQ_INT(osb_client_error(c)->http_status, 400);
        }
        CHECK_EQ_INT(osb_vault_patch(c, &t, NULL, NULL), OSB_ERR_INVALID_ARG);
    }
    CHECK_EQ_INT(osb_vault_credential_get(c, &t, "gh", &cr), OSB_OK);
    if (cr) { CHECK_EQ_INT(cr->revision, 2); osb_result_free(cr); }
    CHECK_EQ_INT(osb_vault_delete(c, &t), OSB_OK);
    CHECK_EQ_INT(osb_vault_get(c, &t, &v), OSB_ERR_HTTP);
    CHECK(osb_error_is_not_found(osb_client_error(c)));
    osb_result_free(ep);
    osb_sandbox_delete(c, id);
}

/* A second dev server in a Kubernetes gateway mode: header-routed and
 * URI-routed endpoints, and signed routes (expires). */
static void gateway_mode(const char *mode) {
    testproc gw;
    const char *argv[10];
    int n = 0;
    const char *rec = getenv("OSB_RECORD");
    char dom[128], key[128], id[64];
    osb_client_config cfg;
    osb_client *c = NULL;
    osb_endpoint *ep = NULL;
    osb_endpoint_req er;
    argv[n++] = "python3";
    argv[n++] = "tools/devserver/devserver.py";
    argv[n++] = "--endpoint-mode";
    argv[n++] = mode;
    if (rec && *rec) {
        argv[n++] = "--record";
        argv[n++] = rec;
    }
    argv[n] = NULL;
    if (testproc_start(&gw, argv) != 0) { SKIP("dev server unavailable"); return; }
    if (!testdev_json_field(gw.ready, "domain", dom, sizeof dom) ||
        !testdev_json_field(gw.ready, "api_key", key, sizeof key)) {
        testproc_stop(&gw);
        CHECK(0);
        return;
    }
    memset(&cfg, 0, sizeof cfg);
    cfg.domain = dom;
    cfg.api_key = key;
    CHECK_EQ_INT(osb_client_new(&cfg, &c), OSB_OK);
    if (c && make_sandbox(c, id, NULL, 0, 600)) {
        int signed_route;
        for (signed_route = 0; signed_route < 2; signed_route++) {
            memset(&er, 0, sizeof er);
            if (signed_route) {
                er.expires = (int64_t)time(NULL) + 600;
                er.use_server_proxy = 1;   /* not sent with expires */
            }
            CHECK_EQ_INT(osb_sandbox_endpoint(c, id, 44772, &er, &ep), OSB_OK);
            if (ep) {
                osb_target t = osb_target_from_endpoint(ep);
                osb_http_request req;
                osb_http_response res;
                char url[600];
                if (strcmp(mode, "k8s-header") == 0) {
                    CHECK_EQ_INT(ep->headers_count, 1);
                    CHECK(t.headers[0] && strncmp(t.headers[0], "OpenSandbox-Ingress-To: ", 24) == 0);
                } else {
                    CHECK(strstr(ep->endpoint.ptr, id) != NULL);
                }
                memset(&req, 0, sizeof req);
                snprintf(url, sizeof url, "%s/ping", t.url);
                req.url = url;
                req.headers = t.headers;
                CHECK_EQ_INT(osb_request_raw(c, &req, &res), OSB_OK);
                CHECK_EQ_INT(res.status, 200);
                osb_http_response_free(&res);
                osb_result_free(ep);
            }
        }
        /* expires in the past: 400 */
        er.expires = 1000;
        CHECK_EQ_INT(osb_sandbox_endpoint(c, id, 44772, &er, &ep), OSB_ERR_HTTP);
        CHECK_EQ_INT(osb_client_error(c)->http_status, 400);
        osb_sandbox_delete(c, id);
    } else {
        CHECK(0);
    }
    osb_client_free(c);
    testproc_stop(&gw);
}

TEST(endpoint_gateway_header_mode) { gateway_mode("k8s-header"); }
TEST(endpoint_gateway_uri_mode) { gateway_mode("k8s-uri"); }

TEST(invalid_arguments) {
    osb_sandbox_info *s = (osb_sandbox_info *)1;
    NEED_CLIENT(c);
    CHECK_EQ_INT(osb_sandbox_get(c, NULL, &s), OSB_ERR_INVALID_ARG);
    CHECK(s == NULL);
    CHECK_EQ_INT(osb_sandbox_get(c, "", &s), OSB_ERR_INVALID_ARG);
    CHECK_EQ_INT(osb_client_error(c)->code, OSB_ERR_INVALID_ARG);
    CHECK_EQ_INT(osb_sandbox_delete(c, NULL), OSB_ERR_INVALID_ARG);
    CHECK_EQ_INT(osb_sandbox_pause(c, ""), OSB_ERR_INVALID_ARG);
    /* an id with a slash stays one segment: 404, not another route */
    CHECK_EQ_INT(osb_sandbox_get(c, "../sandboxes", &s), OSB_ERR_HTTP);
    CHECK_EQ_INT(osb_client_error(c)->http_status, 404);
}

/* ---- the retry contract, against tests/servers/retryserver.py ---- */

static testproc rs;
static char rs_base[64];
static int rs_up;
static unsigned rs_seq;
static int rs_first_byte_ms;   /* first-byte timeout of the next rs_client */

static int rs_start(void) {
    static const char *const argv[] = {"python3", "tests/servers/retryserver.py", "--lifetime", "300", NULL};
    if (rs_up) return 1;
    if (testproc_start(&rs, argv) != 0) return 0;
    snprintf(rs_base, sizeof rs_base, "127.0.0.1:%d", atoi(rs.ready));
    rs_up = 1;
    return 1;
}

/* A client for the retry server: fast backoff unless the test says. */
static osb_client *rs_client(int max_retries, int initial_ms, int max_ms, int budget, int total_ms) {
    osb_client_config cfg;
    osb_client *c = NULL;
    memset(&cfg, 0, sizeof cfg);
    cfg.domain = rs_base;
    cfg.api_key = "k";
    cfg.retry.max_retries = max_retries;
    cfg.retry.initial_ms = initial_ms ? initial_ms : 20;
    cfg.retry.max_ms = max_ms ? max_ms : 40;
    cfg.retry.budget = budget;
    cfg.timeouts.total_ms = total_ms;
    cfg.timeouts.first_byte_ms = rs_first_byte_ms;
    if (osb_client_new(&cfg, &c) != OSB_OK) return NULL;
    return c;
}

/* A unique script segment "seq-<tokens>-k<N>". */
static const char *rs_script(char *buf, size_t cap, const char *tokens) {
    snprintf(buf, cap, "seq-%s-k%u", tokens, ++rs_seq);
    return buf;
}

/* How many requests the server saw for a segment. */
static int rs_count(osb_client *c, const char *seg) {
    osb_http_request req;
    osb_http_response res;
    char q[128];
    int n = -1;
    const char *p;
    memset(&req, 0, sizeof req);
    req.path = "/count";
    snprintf(q, sizeof q, "key=%s", seg);
    req.query = q;
    if (osb_request_raw(c, &req, &res) != OSB_OK) return -1;
    p = res.body.data ? strstr(res.body.data, "\"count\": ") : NULL;
    if (p) n = atoi(p + 9);
    osb_http_response_free(&res);
    return n;
}

static int64_t mono_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

#define NEED_RS(c, ...)                                                  \
    osb_client *c;                                                       \
    if (!rs_start()) { SKIP("retry server unavailable"); return; }      \
    c = rs_client(__VA_ARGS__);                                          \
    if (!c) { SKIP("no client"); return; }

TEST(retry_get_on_503_then_ok) {
    char seg[64];
    osb_sandbox_info *s = NULL;
    NEED_RS(c, 0, 0, 0, 0, 0);
    rs_script(seg, sizeof seg, "503-504-200");
    CHECK_EQ_INT(osb_sandbox_get(c, seg, &s), OSB_OK);
    CHECK(s && str_eq(s->id, seg));
    osb_result_free(s);
    CHECK_EQ_INT(osb_client_error(c)->attempts, 3);
    CHECK_EQ_INT(rs_count(c, seg), 3);
    /* default max_retries is 2: three 503s fail after 3 attempts, retryable */
    rs_script(seg, sizeof seg, "503");
    CHECK_EQ_INT(osb_sandbox_get(c, seg, &s), OSB_ERR_HTTP);
    CHECK_EQ_INT(osb_client_error(c)->attempts, 3);
    CHECK_EQ_INT(osb_client_error(c)->http_status, 503);
    CHECK_EQ_STR(osb_client_error(c)->server_code, "SCRIPTED::503");
    CHECK(osb_error_is_retryable(osb_client_error(c)));
    CHECK(osb_error_is_capacity(osb_client_error(c)));
    CHECK(osb_client_error(c)->request_id[0] != 0);
    CHECK_EQ_INT(rs_count(c, seg), 3);
    osb_client_free(c);
}

TEST(retry_not_on_client_errors) {
    char seg[64];
    osb_sandbox_info *s = NULL;
    NEED_RS(c, 3, 0, 0, 0, 0);
    rs_script(seg, sizeof seg, "404-200");
    CHECK_EQ_INT(osb_sandbox_get(c, seg, &s), OSB_ERR_HTTP);
    CHECK_EQ_INT(osb_client_error(c)->attempts, 1);
    CHECK(!osb_error_is_retryable(osb_client_error(c)));
    CHECK_EQ_INT(rs_count(c, seg), 1);
    rs_script(seg, sizeof seg, "500-200");
    CHECK_EQ_INT(osb_sandbox_delete(c, seg), OSB_ERR_HTTP);
    CHECK_EQ_INT(osb_client_error(c)->attempts, 1);
    CHECK_EQ_INT(rs_count(c, seg), 1);
    /* DELETE is idempotent: 502 then 204 */
    rs_script(seg, sizeof seg, "502-204");
    CHECK_EQ_INT(osb_sandbox_delete(c, seg), OSB_OK);
    CHECK_EQ_INT(osb_client_error(c)->attempts, 2);
    osb_client_free(c);
}

TEST(retry_after_seconds_honoured) {
    char seg[64];
    osb_sandbox_info *s = NULL;
    int64_t t0;
    NEED_RS(c, 0, 0, 0, 0, 0);
    rs_script(seg, sizeof seg, "503ra1-200");
    t0 = mono_ms();
    CHECK_EQ_INT(osb_sandbox_get(c, seg, &s), OSB_OK);
    CHECK(mono_ms() - t0 >= 1000);
    CHECK(mono_ms() - t0 < 5000);
    CHECK_EQ_INT(osb_client_error(c)->attempts, 2);
    CHECK_EQ_INT(rs_count(c, seg), 2);
    osb_result_free(s);
    /* the HTTP-date form: 2 s ahead, so at least 1 s after rounding */
    rs_script(seg, sizeof seg, "429rad2-200");
    t0 = mono_ms();
    CHECK_EQ_INT(osb_sandbox_get(c, seg, &s), OSB_OK);
    CHECK(mono_ms() - t0 >= 1000);
    CHECK_EQ_INT(osb_client_error(c)->attempts, 2);
    osb_result_free(s);
    osb_client_free(c);
}

TEST(retry_after_never_past_the_deadline) {
    char seg[64];
    osb_sandbox_info *s = NULL;
    int64_t t0;
    /* total deadline 3 s; the server asks for 120 s: no retry, no wait */
    NEED_RS(c, 0, 0, 0, 0, 3000);
    rs_script(seg, sizeof seg, "503ra120-200");
    t0 = mono_ms();
    CHECK_EQ_INT(osb_sandbox_get(c, seg, &s), OSB_ERR_HTTP);
    CHECK(mono_ms() - t0 < 2500);   /* not until the 3 s deadline */
    CHECK_EQ_INT(osb_client_error(c)->attempts, 1);
    CHECK_EQ_INT(osb_client_error(c)->retry_after_ms, 120000);
    CHECK(osb_error_is_retryable(osb_client_error(c)));
    CHECK_EQ_INT(rs_count(c, seg), 1);
    osb_client_free(c);
}

TEST(retry_backoff_capped) {
    char seg[64];
    osb_sandbox_info *s = NULL;
    int64_t t0, dt;
    /* 4 retries, backoff from 100 ms capped at 150 ms, equal jitter:
     * each wait in [50, 150] ms */
    NEED_RS(c, 4, 100, 150, 0, 0);
    rs_script(seg, sizeof seg, "503");
    t0 = mono_ms();
    CHECK_EQ_INT(osb_sandbox_get(c, seg, &s), OSB_ERR_HTTP);
    dt = mono_ms() - t0;
    CHECK_EQ_INT(osb_client_error(c)->attempts, 5);
    CHECK_EQ_INT(rs_count(c, seg), 5);
    CHECK(dt >= 4 * 50);
    CHECK(dt < 4 * 150 + 1500);
    osb_client_free(c);
}

TEST(retry_post_only_when_safe) {
    char seg[64];
    int64_t t0;
    NEED_RS(c, 0, 0, 0, 0, 0);
    /* POST on 503: not retried (the server may have acted) */
    rs_script(seg, sizeof seg, "503-202");
    CHECK_EQ_INT(osb_sandbox_pause(c, seg), OSB_ERR_HTTP);
    CHECK_EQ_INT(osb_client_error(c)->attempts, 1);
    CHECK_EQ_INT(rs_count(c, seg), 1);
    /* POST on 429 with Retry-After: retried after the wait */
    rs_script(seg, sizeof seg, "429ra1-202");
    t0 = mono_ms();
    CHECK_EQ_INT(osb_sandbox_resume(c, seg), OSB_OK);
    CHECK(mono_ms() - t0 >= 1000);
    CHECK_EQ_INT(osb_client_error(c)->attempts, 2);
    CHECK_EQ_INT(rs_count(c, seg), 2);
    /* POST on 502: retried */
    rs_script(seg, sizeof seg, "502-202");
    CHECK_EQ_INT(osb_sandbox_pause(c, seg), OSB_OK);
    CHECK_EQ_INT(osb_client_error(c)->attempts, 2);
    /* POST whose request was sent, then the connection closed without an
     * answer: never replayed */
    rs_script(seg, sizeof seg, "close-202");
    CHECK(osb_sandbox_pause(c, seg) != OSB_OK);
    CHECK_EQ_INT(osb_client_error(c)->attempts, 1);
    CHECK(!osb_error_is_retryable(osb_client_error(c)));
    CHECK_EQ_INT(rs_count(c, seg), 1);
    /* PATCH on 503: not retried; on 502: retried */
    rs_script(seg, sizeof seg, "503-200");
    CHECK_EQ_INT(osb_sandbox_metadata_patch(c, seg, NULL, 0, NULL), OSB_ERR_HTTP);
    CHECK_EQ_INT(rs_count(c, seg), 1);
    rs_script(seg, sizeof seg, "502-200");
    CHECK_EQ_INT(osb_sandbox_metadata_patch(c, seg, NULL, 0, NULL), OSB_OK);
    CHECK_EQ_INT(rs_count(c, seg), 2);
    /* GET after the same kind of close: replayed (on a pooled connection
     * the transport itself resends it once, which 'attempts' does not
     * count; the server saw it twice either way) */
    rs_script(seg, sizeof seg, "close-200");
    {
        osb_sandbox_info *s = NULL;
        CHECK_EQ_INT(osb_sandbox_get(c, seg, &s), OSB_OK);
        CHECK_EQ_INT(rs_count(c, seg), 2);
        osb_result_free(s);
    }
    osb_client_free(c);
}

TEST(retry_post_when_never_sent) {
    /* nothing listens on the port: connection refused, provably unsent, so
     * even a POST is retried (1 + 2 attempts) */
    osb_client_config cfg;
    osb_client *c = NULL;
    int fd;
    struct sockaddr_in a;
    socklen_t al = sizeof a;
    char dom[64];
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    fd = socket(AF_INET, SOCK_STREAM, 0);
    CHECK(fd >= 0);
    if (fd < 0) return;
    bind(fd, (struct sockaddr *)&a, sizeof a);
    getsockname(fd, (struct sockaddr *)&a, &al);
    close(fd);   /* the port is now closed */
    snprintf(dom, sizeof dom, "127.0.0.1:%d", ntohs(a.sin_port));
    memset(&cfg, 0, sizeof cfg);
    cfg.domain = dom;
    cfg.retry.initial_ms = 10;
    cfg.retry.max_ms = 20;
    CHECK_EQ_INT(osb_client_new(&cfg, &c), OSB_OK);
    if (!c) return;
    CHECK_EQ_INT(osb_sandbox_pause(c, "x"), OSB_ERR_CONNECT);
    CHECK_EQ_INT(osb_client_error(c)->attempts, 3);
    CHECK(osb_error_is_retryable(osb_client_error(c)));
    osb_client_free(c);
}

TEST(retry_timeouts_by_method) {
    char seg[64];
    osb_sandbox_info *s = NULL;
    osb_client *c;
    if (!rs_start()) { SKIP("retry server unavailable"); return; }
    rs_first_byte_ms = 300;
    c = rs_client(0, 0, 0, 0, 0);
    rs_first_byte_ms = 0;
    if (!c) return;
    /* GET whose answer is late: timed out, then sent again */
    rs_script(seg, sizeof seg, "stall-200");
    CHECK_EQ_INT(osb_sandbox_get(c, seg, &s), OSB_OK);
    CHECK_EQ_INT(osb_client_error(c)->attempts, 2);
    CHECK_EQ_INT(rs_count(c, seg), 2);
    osb_result_free(s);
    /* POST whose answer is late: the server has it, so never sent again */
    rs_script(seg, sizeof seg, "stall-202");
    CHECK_EQ_INT(osb_sandbox_pause(c, seg), OSB_ERR_TIMEOUT);
    CHECK_EQ_INT(osb_client_error(c)->phase, OSB_PHASE_FIRST_BYTE);
    CHECK_EQ_INT(osb_client_error(c)->attempts, 1);
    CHECK(!osb_error_is_retryable(osb_client_error(c)));
    CHECK_EQ_INT(rs_count(c, seg), 1);
    osb_client_free(c);
}

TEST(retry_budget) {
    char seg[64];
    osb_sandbox_info *s = NULL;
    /* a budget of one retry: the first failing call spends it */
    NEED_RS(c, 3, 0, 0, 1, 0);
    rs_script(seg, sizeof seg, "503");
    CHECK_EQ_INT(osb_sandbox_get(c, seg, &s), OSB_ERR_HTTP);
    CHECK_EQ_INT(osb_client_error(c)->attempts, 2);
    rs_script(seg, sizeof seg, "503-200");
    CHECK_EQ_INT(osb_sandbox_get(c, seg, &s), OSB_ERR_HTTP);
    CHECK_EQ_INT(osb_client_error(c)->attempts, 1);
    CHECK_EQ_INT(rs_count(c, seg), 1);
    osb_client_free(c);
}

/* ---- exact wire forms, checked through the retry server's GET /last ---- */

typedef struct last_req {
    osb_str method, target, body;
    osb_kv *headers;
    size_t headers_count;
} last_req;
static const osb_field last_req_fields[] = {
    OSB_FIELD_STR(last_req, method, "method"),
    OSB_FIELD_STR(last_req, target, "target"),
    OSB_FIELD_STR(last_req, body, "body"),
    OSB_FIELD_MAP(last_req, headers, headers_count, "headers"),
};
static const osb_type last_req_type = OSB_TYPE(last_req, last_req_fields);

static last_req *rs_last(osb_client *c) {
    osb_http_request req;
    osb_http_response res;
    last_req *l = NULL;
    memset(&req, 0, sizeof req);
    req.path = "/last";
    if (osb_request_raw(c, &req, &res) != OSB_OK) return NULL;
    osb_bind(&last_req_type, res.body.data, res.body.len, NULL, (void **)&l, NULL);
    osb_http_response_free(&res);
    return l;
}

static const char *last_header(const last_req *l, const char *name) {
    size_t i;
    for (i = 0; l && i < l->headers_count; i++)
        if (strcmp(l->headers[i].key.ptr, name) == 0) return l->headers[i].value.ptr;
    return NULL;
}

#define CHECK_LAST(c, m, t, b)                                                         \
    do {                                                                               \
        last_req *l_ = rs_last(c);                                                     \
        CHECK(l_ != NULL);                                                             \
        if (l_) {                                                                      \
            CHECK_EQ_STR(l_->method.ptr, m);                                           \
            CHECK_EQ_STR(l_->target.ptr, t);                                           \
            CHECK_EQ_STR(l_->body.ptr, b);                                             \
            if ((b)[0]) CHECK_EQ_STR(last_header(l_, "content-type"), "application/json"); \
            osb_result_free(l_);                                                       \
        }                                                                              \
    } while (0)

TEST(wire_list_queries) {
    static const char *const states[] = {"Running", "Paused", NULL};
    static const osb_pair md[] = {{"team", "ml"}, {"example.com/k", "a b&c"}};
    osb_sandbox_list_req q;
    osb_snapshot_list_req sq;
    osb_sandbox_page *l = NULL;
    osb_snapshot_page *sl = NULL;
    NEED_RS(c, 0, 0, 0, 0, 0);
    memset(&q, 0, sizeof q);
    q.states = states;
    q.metadata = md;
    q.metadata_count = 2;
    q.page = 2;
    q.page_size = 5;
    CHECK_EQ_INT(osb_sandbox_list(c, &q, &l), OSB_OK);
    CHECK(l && l->items_count == 0 && l->pagination.page_size == 20);
    osb_result_free(l);
    /* metadata: the server decodes the value, then parses k=v&k=v again */
    CHECK_LAST(c, "GET",
               "/v1/sandboxes?metadata=team%3Dml%26example.com%252Fk%3Da%2520b%2526c"
               "&state=Running&state=Paused&page=2&pageSize=5", "");
    CHECK_EQ_INT(osb_sandbox_list(c, NULL, &l), OSB_OK);
    osb_result_free(l);
    CHECK_LAST(c, "GET", "/v1/sandboxes", "");
    /* a filter pair without a value: refused before sending */
    {
        static const osb_pair bad[] = {{"team", NULL}};
        q.metadata = bad;
        q.metadata_count = 1;
        CHECK_EQ_INT(osb_sandbox_list(c, &q, &l), OSB_ERR_INVALID_ARG);
    }
    memset(&sq, 0, sizeof sq);
    sq.sandbox_id = "sbx 1";
    sq.states = states;
    sq.page = 1;
    sq.page_size = 3;
    CHECK_EQ_INT(osb_snapshot_list(c, &sq, &sl), OSB_OK);
    osb_result_free(sl);
    CHECK_LAST(c, "GET", "/v1/snapshots?sandboxId=sbx%201&state=Running&state=Paused&page=1&pageSize=3", "");
    osb_client_free(c);
}

TEST(wire_create_body) {
    static const char *const ep[] = {"python", "-c", "print(\"hi\")", NULL};
    static const osb_pair lim[] = {{"cpu", "500m"}};
    static const osb_pair env[] = {{"A", "1"}, {"UNSET", NULL}};
    static const osb_pair md[] = {{"team", "ml"}};
    static const osb_pair ext[] = {{"access.renew.extend.seconds", "600"}};
    static const char *const modes[] = {"ReadWriteOnce", NULL};
    static const char *const opts[] = {"ro", NULL};
    static const osb_network_rule rules[] = {{"allow", "pypi.org"}};
    osb_volume_host host = {"/data"};
    osb_volume_pvc pvc;
    osb_volume_ossfs oss;
    osb_volume vols[3];
    osb_network_policy np;
    osb_sandbox_create_req r;
    osb_sandbox_info *s = NULL;
    NEED_RS(c, 0, 0, 0, 0, 0);
    memset(&pvc, 0, sizeof pvc);
    memset(&oss, 0, sizeof oss);
    memset(vols, 0, sizeof vols);
    memset(&np, 0, sizeof np);
    pvc.claim_name = "claim";
    pvc.create_if_not_exists = -1;
    pvc.delete_on_sandbox_termination = 1;
    pvc.storage_class = "fast";
    pvc.storage = "10Gi";
    pvc.access_modes = modes;
    oss.bucket = "bkt";
    oss.endpoint = "oss.example.com";
    oss.version = "1.0";
    oss.options = opts;
    oss.access_key_id = "AK";
    oss.access_key_secret = "SK";
    vols[0].name = "h";
    vols[0].mount_path = "/mnt/h";
    vols[0].read_only = 1;
    vols[0].host = &host;
    vols[1].name = "p";
    vols[1].mount_path = "/mnt/p";
    vols[1].sub_path = "s";
    vols[1].pvc = &pvc;
    vols[2].name = "o";
    vols[2].mount_path = "/mnt/o";
    vols[2].ossfs = &oss;
    np.default_action = "deny";
    np.egress = rules;
    np.egress_count = 1;
    memset(&r, 0, sizeof r);
    r.image = "python:3.11";
    r.image_username = "user";
    r.image_password = "pw";
    r.entrypoint = ep;
    r.resource_limits = lim;
    r.resource_limits_count = 1;
    r.timeout_s = 3600;
    r.env = env;
    r.env_count = 2;
    r.metadata = md;
    r.metadata_count = 1;
    r.platform_os = "linux";
    r.platform_arch = "arm64";
    r.network_policy = &np;
    r.credential_proxy = 1;
    r.secure_access = -1;
    r.volumes = vols;
    r.volumes_count = 3;
    r.extensions = ext;
    r.extensions_count = 1;
    CHECK_EQ_INT(osb_sandbox_create(c, &r, &s), OSB_OK);
    CHECK(s && str_eq(s->id, "sbx-1"));
    osb_result_free(s);
    CHECK_LAST(c, "POST", "/v1/sandboxes",
               "{\"image\":{\"uri\":\"python:3.11\",\"auth\":{\"username\":\"user\",\"password\":\"pw\"}},"
               "\"entrypoint\":[\"python\",\"-c\",\"print(\\\"hi\\\")\"],\"resourceLimits\":{\"cpu\":\"500m\"},"
               "\"timeout\":3600,\"env\":{\"A\":\"1\",\"UNSET\":null},\"metadata\":{\"team\":\"ml\"},"
               "\"platform\":{\"os\":\"linux\",\"arch\":\"arm64\"},"
               "\"networkPolicy\":{\"defaultAction\":\"deny\",\"egress\":[{\"action\":\"allow\",\"target\":\"pypi.org\"}]},"
               "\"credentialProxy\":{\"enabled\":true},\"secureAccess\":false,"
               "\"volumes\":[{\"name\":\"h\",\"host\":{\"path\":\"/data\"},\"mountPath\":\"/mnt/h\",\"readOnly\":true},"
               "{\"name\":\"p\",\"pvc\":{\"claimName\":\"claim\",\"createIfNotExists\":false,"
               "\"deleteOnSandboxTermination\":true,\"storageClass\":\"fast\",\"storage\":\"10Gi\","
               "\"accessModes\":[\"ReadWriteOnce\"]},\"mountPath\":\"/mnt/p\",\"subPath\":\"s\"},"
               "{\"name\":\"o\",\"ossfs\":{\"bucket\":\"bkt\",\"endpoint\":\"oss.example.com\",\"version\":\"1.0\","
               "\"options\":[\"ro\"],\"accessKeyId\":\"AK\",\"accessKeySecret\":\"SK\"},\"mountPath\":\"/mnt/o\"}],"
               "\"extensions\":{\"access.renew.extend.seconds\":\"600\"}}");
    /* the minimum: a snapshot restore sends resourceLimits {} and nothing else */
    memset(&r, 0, sizeof r);
    r.snapshot_id = "snap-1";
    CHECK_EQ_INT(osb_sandbox_create(c, &r, &s), OSB_OK);
    osb_result_free(s);
    CHECK_LAST(c, "POST", "/v1/sandboxes", "{\"snapshotId\":\"snap-1\",\"resourceLimits\":{}}");
    /* a pool reference: no resourceLimits */
    {
        static const osb_pair pool[] = {{"poolRef", "p1"}};
        r.extensions = pool;
        r.extensions_count = 1;
        CHECK_EQ_INT(osb_sandbox_create(c, &r, &s), OSB_OK);
        osb_result_free(s);
        CHECK_LAST(c, "POST", "/v1/sandboxes", "{\"snapshotId\":\"snap-1\",\"extensions\":{\"poolRef\":\"p1\"}}");
    }
    /* a count with a NULL array, invalid UTF-8: refused, nothing sent */
    memset(&r, 0, sizeof r);
    r.image = "x";
    r.env_count = 1;
    CHECK_EQ_INT(osb_sandbox_create(c, &r, &s), OSB_ERR_INVALID_ARG);
    r.env_count = 0;
    r.volumes_count = 2;
    CHECK_EQ_INT(osb_sandbox_create(c, &r, &s), OSB_ERR_INVALID_ARG);
    r.volumes_count = 0;
    r.image = "\xff\xfe";
    CHECK_EQ_INT(osb_sandbox_create(c, &r, &s), OSB_ERR_INVALID_ARG);
    CHECK_LAST(c, "POST", "/v1/sandboxes", "{\"snapshotId\":\"snap-1\",\"extensions\":{\"poolRef\":\"p1\"}}");
    osb_client_free(c);
}

TEST(wire_patch_renew_endpoint_diagnostics) {
    static const osb_pair patch[] = {{"keep", "v"}, {"gone", NULL}};
    char seg[64], want[256];
    osb_endpoint *ep = NULL;
    osb_endpoint_req er;
    osb_diagnostic *d = NULL;
    NEED_RS(c, 0, 0, 0, 0, 0);
    rs_script(seg, sizeof seg, "200");
    CHECK_EQ_INT(osb_sandbox_metadata_patch(c, seg, patch, 2, NULL), OSB_OK);
    snprintf(want, sizeof want, "/v1/sandboxes/%s/metadata", seg);
    CHECK_LAST(c, "PATCH", want, "{\"keep\":\"v\",\"gone\":null}");
    CHECK_EQ_INT(osb_sandbox_metadata_patch(c, seg, NULL, 0, NULL), OSB_OK);
    CHECK_LAST(c, "PATCH", want, "{}");
    rs_script(seg, sizeof seg, "200");
    CHECK_EQ_INT(osb_sandbox_renew(c, seg, "2030-01-02T03:04:05Z", NULL), OSB_OK);
    snprintf(want, sizeof want, "/v1/sandboxes/%s/renew-expiration", seg);
    CHECK_LAST(c, "POST", want, "{\"expiresAt\":\"2030-01-02T03:04:05Z\"}");
    rs_script(seg, sizeof seg, "202");
    CHECK_EQ_INT(osb_snapshot_create(c, seg, NULL, NULL), OSB_OK);
    snprintf(want, sizeof want, "/v1/sandboxes/%s/snapshots", seg);
    CHECK_LAST(c, "POST", want, "");
    CHECK_EQ_INT(osb_snapshot_create(c, seg, "n1", NULL), OSB_OK);
    CHECK_LAST(c, "POST", want, "{\"name\":\"n1\"}");
    /* an endpoint that already has a scheme keeps it; headers become lines */
    rs_script(seg, sizeof seg, "ep");
    memset(&er, 0, sizeof er);
    er.use_server_proxy = 1;
    CHECK_EQ_INT(osb_sandbox_endpoint(c, seg, 8080, &er, &ep), OSB_OK);
    snprintf(want, sizeof want, "/v1/sandboxes/%s/endpoints/8080?use_server_proxy=true", seg);
    CHECK_LAST(c, "GET", want, "");
    if (ep) {
        osb_target t = osb_target_from_endpoint(ep);
        CHECK(strncmp(t.url, "https://gw.example.com:8443/route/", 34) == 0);
        CHECK(ep->url.ptr == t.url && str_eq(ep->url, ep->endpoint.ptr));
        CHECK_EQ_INT(ep->headers_count, 2);
        CHECK(t.headers[0] && t.headers[1] && !t.headers[2]);
        if (t.headers[0] && t.headers[1]) {
            CHECK_EQ_STR(t.headers[0], "X-One: a");
            CHECK_EQ_STR(t.headers[1], "OpenSandbox-Secure-Access: t0k");
        }
        osb_result_free(ep);
    }
    er.expires = 1900000000;
    CHECK_EQ_INT(osb_sandbox_endpoint(c, seg, 44772, &er, &ep), OSB_OK);
    snprintf(want, sizeof want, "/v1/sandboxes/%s/endpoints/44772?expires=1900000000", seg);
    CHECK_LAST(c, "GET", want, "");
    osb_result_free(ep);
    {
        osb_target t0 = osb_target_from_endpoint(NULL);
        CHECK(t0.url == NULL && t0.headers == NULL);
    }
    /* diagnostics: scope defaults to "all"; 501 is OSB_ERR_UNSUPPORTED */
    rs_script(seg, sizeof seg, "501");
    CHECK_EQ_INT(osb_diagnostics_logs(c, seg, NULL, &d), OSB_ERR_UNSUPPORTED);
    CHECK_EQ_INT(osb_client_error(c)->http_status, 501);
    snprintf(want, sizeof want, "/v1/sandboxes/%s/diagnostics/logs?scope=all", seg);
    CHECK_LAST(c, "GET", want, "");
    CHECK_EQ_INT(osb_diagnostics_events(c, seg, "container", &d), OSB_ERR_UNSUPPORTED);
    snprintf(want, sizeof want, "/v1/sandboxes/%s/diagnostics/events?scope=container", seg);
    CHECK_LAST(c, "GET", want, "");
    osb_client_free(c);
}

TEST(wire_stable_diagnostics_decoded) {
    /* a server implementing the stable descriptor: every field decoded */
    static const char body[] =
        "{\"sandboxId\":\"s1\",\"kind\":\"logs\",\"scope\":\"container\",\"delivery\":\"url\","
        "\"contentType\":\"text/plain\",\"contentUrl\":\"https://x/y\",\"expiresAt\":\"2030-01-01T00:00:00Z\","
        "\"contentLength\":10485760,\"truncated\":true,\"warnings\":[\"w1\",\"w2\"]}";
    osb_diagnostic *d = NULL;
    CHECK_EQ_INT(osb_bind(&osb__lc_diag_type, body, sizeof body - 1, NULL, (void **)&d, NULL), OSB_OK);
    if (d) {
        CHECK(str_eq(d->delivery, "url"));
        CHECK(str_eq(d->content_url, "https://x/y"));
        CHECK_EQ_INT(d->content_length, 10485760);
        CHECK_EQ_INT(d->truncated, 1);
        CHECK_EQ_INT(d->warnings_count, 2);
        CHECK(d->content.ptr == NULL);
        CHECK(strcmp(d->raw.ptr, body) == 0);
        osb_result_free(d);
    }
}

TEST(wire_egress_and_vault) {
    osb_target t;
    static const char *const hdrs[] = {"OPENSANDBOX-EGRESS-AUTH: tok", NULL};
    static const char *const targets[] = {"a.com", "B.com"};
    static const osb_network_rule rules[] = {{"allow", "a.com"}, {"deny", "b.com"}};
    char url[128];
    osb_egress_status *st = NULL;
    osb_vault_create_req vr;
    osb_vault_patch_req pr;
    osb_vault_credential_in cred[1];
    osb_vault_binding_in b[4];
    osb_vault_header_in hs[1];
    static const char *const hosts[] = {"api.example.com", NULL};
    static const char *const del[] = {"old", NULL};
    static const int ports[] = {80, 443};
    NEED_RS(c, 0, 0, 0, 0, 0);
    /* another origin than the lifecycle one (localhost vs 127.0.0.1) */
    snprintf(url, sizeof url, "localhost:%s/proxy/18080", strchr(rs_base, ':') + 1);
    t.url = url;
    t.headers = hdrs;
    CHECK_EQ_INT(osb_egress_policy_delete(c, &t, targets, 2, &st), OSB_OK);
    CHECK(st && str_eq(st->mode, "enforcing"));
    osb_result_free(st);
    {
        last_req *l = rs_last(c);
        CHECK(l != NULL);
        if (l) {
            CHECK_EQ_STR(l->method.ptr, "DELETE");
            CHECK_EQ_STR(l->target.ptr, "/proxy/18080/policy");
            CHECK_EQ_STR(l->body.ptr, "[\"a.com\",\"B.com\"]");
            CHECK_EQ_STR(last_header(l, "content-type"), "application/json");
            CHECK_EQ_STR(last_header(l, "opensandbox-egress-auth"), "tok");
            CHECK(last_header(l, "open-sandbox-api-key") == NULL);   /* never to egress */
            CHECK(last_header(l, "x-request-id") != NULL);
            osb_result_free(l);
        }
    }
    CHECK_EQ_INT(osb_egress_policy_patch(c, &t, rules, 2, NULL), OSB_OK);
    CHECK_LAST(c, "PATCH", "/proxy/18080/policy",
               "[{\"action\":\"allow\",\"target\":\"a.com\"},{\"action\":\"deny\",\"target\":\"b.com\"}]");
    CHECK_EQ_INT(osb_egress_policy_get(c, &t, &st), OSB_OK);
    osb_result_free(st);
    CHECK_LAST(c, "GET", "/proxy/18080/policy", "");
    /* every auth kind */
    memset(cred, 0, sizeof cred);
    memset(b, 0, sizeof b);
    cred[0].name = "c1";
    cred[0].value = "s3cret";
    b[0].name = "b0";
    b[0].match.hosts = hosts;
    b[0].match.ports = ports;
    b[0].match.ports_count = 2;
    b[0].auth.type = "bearer";
    b[0].auth.credential = "c1";
    b[1].name = "b1";
    b[1].match.hosts = hosts;
    b[1].auth.type = "basic";
    b[1].auth.credential = "c1";
    b[2].name = "b2";
    b[2].match.hosts = hosts;
    b[2].auth.type = "apiKey";
    b[2].auth.name = "X-Key";
    b[2].auth.credential = "c1";
    hs[0].name = "X-H";
    hs[0].credential = "c1";
    b[3].name = "b3";
    b[3].match.hosts = hosts;
    b[3].auth.type = "customHeaders";
    b[3].auth.headers = hs;
    b[3].auth.headers_count = 1;
    memset(&vr, 0, sizeof vr);
    vr.credentials = cred;
    vr.credentials_count = 1;
    vr.bindings = b;
    vr.bindings_count = 4;
    CHECK_EQ_INT(osb_vault_create(c, &t, &vr, NULL), OSB_OK);
    CHECK_LAST(c, "POST", "/proxy/18080/credential-vault",
               "{\"credentials\":[{\"name\":\"c1\",\"source\":{\"type\":\"inline\",\"value\":\"s3cret\"}}],"
               "\"bindings\":[{\"name\":\"b0\",\"match\":{\"hosts\":[\"api.example.com\"],\"ports\":[80,443]},"
               "\"auth\":{\"type\":\"bearer\",\"credential\":\"c1\"}},"
               "{\"name\":\"b1\",\"match\":{\"hosts\":[\"api.example.com\"]},\"auth\":{\"type\":\"basic\",\"credential\":\"c1\"}},"
               "{\"name\":\"b2\",\"match\":{\"hosts\":[\"api.example.com\"]},"
               "\"auth\":{\"type\":\"apiKey\",\"name\":\"X-Key\",\"credential\":\"c1\"}},"
               "{\"name\":\"b3\",\"match\":{\"hosts\":[\"api.example.com\"]},"
               "\"auth\":{\"type\":\"customHeaders\",\"headers\":[{\"name\":\"X-H\",\"credential\":\"c1\"}]}}]}");
    memset(&pr, 0, sizeof pr);
    pr.expected_revision = 7;
    pr.credentials_add = cred;
    pr.credentials_add_count = 1;
    pr.bindings_delete = del;
    CHECK_EQ_INT(osb_vault_patch(c, &t, &pr, NULL), OSB_OK);
    CHECK_LAST(c, "PATCH", "/proxy/18080/credential-vault",
               "{\"expectedRevision\":7,\"credentials\":{\"add\":[{\"name\":\"c1\",\"source\":{\"type\":\"inline\","
               "\"value\":\"s3cret\"}}]},\"bindings\":{\"delete\":[\"old\"]}}");
    memset(&pr, 0, sizeof pr);
    CHECK_EQ_INT(osb_vault_patch(c, &t, &pr, NULL), OSB_OK);
    CHECK_LAST(c, "PATCH", "/proxy/18080/credential-vault", "{}");
    CHECK_EQ_INT(osb_vault_credential_get(c, &t, "a/b", NULL), OSB_OK);
    CHECK_LAST(c, "GET", "/proxy/18080/credential-vault/credentials/a%2Fb", "");
    CHECK_EQ_INT(osb_vault_binding_get(c, &t, "n m", NULL), OSB_OK);
    CHECK_LAST(c, "GET", "/proxy/18080/credential-vault/bindings/n%20m", "");
    CHECK_EQ_INT(osb_vault_delete(c, &t), OSB_OK);
    CHECK_LAST(c, "DELETE", "/proxy/18080/credential-vault", "");
    /* a count with a NULL array: refused before sending */
    vr.bindings = NULL;
    CHECK_EQ_INT(osb_vault_create(c, &t, &vr, NULL), OSB_ERR_INVALID_ARG);
    t.url = NULL;
    CHECK_EQ_INT(osb_vault_get(c, &t, NULL), OSB_ERR_INVALID_ARG);
    osb_client_free(c);
}

TEST(request_id_configured_is_the_only_one) {
    char seg[64];
    osb_sandbox_info *s = NULL;
    osb_client_config cfg;
    osb_client *c = NULL;
    static const char *const hdrs[] = {"X-Request-ID: my-trace-42", NULL};
    if (!rs_start()) { SKIP("retry server unavailable"); return; }
    memset(&cfg, 0, sizeof cfg);
    cfg.domain = rs_base;
    cfg.headers = hdrs;
    CHECK_EQ_INT(osb_client_new(&cfg, &c), OSB_OK);
    if (!c) return;
    rs_script(seg, sizeof seg, "404");
    CHECK_EQ_INT(osb_sandbox_get(c, seg, &s), OSB_ERR_HTTP);
    {
        last_req *l = rs_last(c);
        const char *sent = last_header(l, "x-request-id");
        int twice = sent && strcmp(sent, "my-trace-42") != 0;
        CHECK(sent != NULL);
        osb_result_free(l);
        CHECK(!twice);   /* a configured X-Request-ID replaces the generated one */
    }
    CHECK_EQ_STR(osb_client_error(c)->request_id, "my-trace-42");
    osb_client_free(c);
}

TEST(request_id_generated_and_captured) {
    char seg[64];
    osb_sandbox_info *s = NULL;
    NEED_RS(c, 0, 0, 0, 0, 0);
    rs_script(seg, sizeof seg, "409");
    CHECK_EQ_INT(osb_sandbox_get(c, seg, &s), OSB_ERR_HTTP);
    CHECK(osb_error_is_conflict(osb_client_error(c)));
    CHECK(strlen(osb_client_error(c)->request_id) >= 16);
    {
        char got[80];
        last_req *l;
        snprintf(got, sizeof got, "%s", osb_client_error(c)->request_id);
        l = rs_last(c);
        CHECK(l && last_header(l, "x-request-id") && strcmp(last_header(l, "x-request-id"), got) == 0);
        osb_result_free(l);
    }
    osb_client_free(c);
}

/* An allocator that fails its n-th call (counting from arming). */
typedef struct fail_alloc { long n, calls; int armed; } fail_alloc;
static void *fa_alloc(void *ctx, size_t size) {
    fail_alloc *f = (fail_alloc *)ctx;
    if (f->armed && ++f->calls == f->n) return NULL;
    return malloc(size);
}
static void *fa_realloc(void *ctx, void *p, size_t old, size_t size) {
    fail_alloc *f = (fail_alloc *)ctx;
    (void)old;
    if (f->armed && ++f->calls == f->n) return NULL;
    return realloc(p, size);
}
static void fa_free(void *ctx, void *p) { (void)ctx; free(p); }

TEST(allocation_failures) {
    /* every allocation of an endpoint call, a list and a vault create fails
     * once in turn: an error (never a crash or a leak), then success */
    long n;
    int ok = 0;
    if (!rs_start()) { SKIP("retry server unavailable"); return; }
    for (n = 1; n < 400 && !ok; n++) {
        fail_alloc f;
        osb_allocator a;
        osb_client_config cfg;
        osb_client *c = NULL;
        osb_endpoint *ep = NULL;
        osb_sandbox_page *l = NULL;
        osb_err e1, e2;
        char seg[64];
        static const osb_pair md[] = {{"k", "v"}};
        osb_sandbox_list_req q;
        memset(&f, 0, sizeof f);
        f.n = n;
        a.alloc = fa_alloc;
        a.realloc = fa_realloc;
        a.free = fa_free;
        a.ctx = &f;
        memset(&cfg, 0, sizeof cfg);
        cfg.domain = rs_base;
        cfg.allocator = &a;
        cfg.retry.max_retries = -1;
        if (osb_client_new(&cfg, &c) != OSB_OK) { CHECK(0); return; }
        f.armed = 1;
        rs_script(seg, sizeof seg, "ep");
        e1 = osb_sandbox_endpoint(c, seg, 44772, NULL, &ep);
        CHECK(e1 == OSB_OK || e1 == OSB_ERR_NOMEM || ep == NULL);
        if (e1 == OSB_OK) CHECK(ep && ep->header_lines[0] && ep->url.ptr);
        memset(&q, 0, sizeof q);
        q.metadata = md;
        q.metadata_count = 1;
        e2 = osb_sandbox_list(c, &q, &l);
        CHECK(e2 == OSB_OK || l == NULL);
        ok = f.calls < n && e1 == OSB_OK && e2 == OSB_OK;
        osb_result_free(ep);
        osb_result_free(l);
        f.armed = 0;
        osb_client_free(c);
    }
    CHECK(ok);
}

TEST(zz_stop_retry_server) {
    if (rs_up) testproc_stop(&rs);
    rs_up = 0;
}

TEST(zz_stop_devserver) {
    (void)testdev_sandbox;   /* testdev.h helper this suite does not need */
    osb_client_free(cl);
    cl = NULL;
    testdev_stop();
}

int main(int argc, char **argv) { return testlib_main(argc, argv); }
