/* bench/curl_bench.c -- the libcurl peer (cJSON or jsmn for parsing), the
 * same workloads and output as osb_bench.c:
 *
 *   curl_bench URL w1 N                 N GETs on one easy handle, each parsed by cJSON
 *   curl_bench URL w2 small|big cjson   POST /command, lines split, each event parsed by
 *                                       cJSON and its type/text read
 *   curl_bench URL w2 small|big jsmn    ... parsed by jsmn (a plain tokenizer)
 *   curl_bench URL w3                   1 GiB download into a discarding callback
 *   curl_bench URL w4 MIB [FILE]        multipart upload (curl_mime) from a read callback,
 *                                       or of FILE (curl_mime_filedata)
 *
 * allocs counts libcurl's and cJSON's allocator calls (curl_global_init_mem,
 * cJSON_InitHooks) during the timed part. */
#define _POSIX_C_SOURCE 200809L
#include <curl/curl.h>
#include <cjson/cJSON.h>
#define JSMN_STATIC
#define JSMN_PARENT_LINKS
#include <jsmn.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/resource.h>

static unsigned long long NALLOC;
static void *m_malloc(size_t n) { NALLOC++; return malloc(n); }
static void m_free(void *p) { free(p); }
static void *m_realloc(void *p, size_t n) { NALLOC++; return realloc(p, n); }
static char *m_strdup(const char *s) { NALLOC++; return strdup(s); }
static void *m_calloc(size_t a, size_t b) { NALLOC++; return calloc(a, b); }

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double cpu_s(void) {
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
           (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

typedef struct mem { char *p; size_t len, cap; } mem;

static size_t to_mem(char *data, size_t sz, size_t n, void *user) {
    mem *m = (mem *)user;
    size_t k = sz * n;
    if (m->len + k + 1 > m->cap) {
        size_t cap = m->cap ? m->cap * 2 : 4096;
        while (cap < m->len + k + 1) cap *= 2;
        m->p = (char *)m_realloc(m->p, cap);
        m->cap = cap;
    }
    memcpy(m->p + m->len, data, k);
    m->len += k;
    m->p[m->len] = 0;
    return k;
}

static size_t discard(char *data, size_t sz, size_t n, void *user) {
    (void)data;
    *(uint64_t *)user += sz * n;
    return sz * n;
}

/* ---- W2: split lines, parse each event ---------------------------------- */

typedef struct w2 {
    mem line;                /* an incomplete line carried over */
    int use_jsmn;
    uint64_t events, stdout_events, text_bytes, bytes;
    jsmntok_t toks[256];
} w2;

static int jeq(const char *js, const jsmntok_t *t, const char *s) {
    size_t n = strlen(s);
    return t->type == JSMN_STRING && (size_t)(t->end - t->start) == n &&
           memcmp(js + t->start, s, n) == 0;
}

static void event(w2 *st, const char *p, size_t n) {
    if (n == 0 || (p[0] != '{' && p[0] != '[')) return;
    st->events++;
    if (st->use_jsmn) {
        jsmn_parser jp;
        int r, i, is_stdout = 0;
        size_t text = 0;
        jsmn_init(&jp);
        r = jsmn_parse(&jp, p, n, st->toks, 256);
        if (r < 1) { fprintf(stderr, "jsmn: %d\n", r); exit(1); }
        for (i = 1; i + 1 < r; i++) {
            if (st->toks[i].parent != 0) continue;
            if (jeq(p, &st->toks[i], "type")) is_stdout = jeq(p, &st->toks[i + 1], "stdout");
            else if (jeq(p, &st->toks[i], "text")) text = (size_t)(st->toks[i + 1].end - st->toks[i + 1].start);
        }
        if (is_stdout) { st->stdout_events++; st->text_bytes += text; }
    } else {
        cJSON *o = cJSON_ParseWithLength(p, n), *ty, *tx;
        if (!o) { fprintf(stderr, "cJSON: bad event\n"); exit(1); }
        ty = cJSON_GetObjectItemCaseSensitive(o, "type");
        tx = cJSON_GetObjectItemCaseSensitive(o, "text");
        if (cJSON_IsString(ty) && strcmp(ty->valuestring, "stdout") == 0 && cJSON_IsString(tx)) {
            st->stdout_events++;
            st->text_bytes += strlen(tx->valuestring);
        }
        cJSON_Delete(o);
    }
}

static size_t w2_write(char *data, size_t sz, size_t nm, void *user) {
    w2 *st = (w2 *)user;
    size_t n = sz * nm;
    const char *p = data, *end = data + n;
    st->bytes += n;
    while (p < end) {
        const char *nl = (const char *)memchr(p, '\n', (size_t)(end - p));
        if (!nl) { to_mem((char *)p, 1, (size_t)(end - p), &st->line); break; }
        if (st->line.len) {
            to_mem((char *)p, 1, (size_t)(nl - p), &st->line);
            event(st, st->line.p, st->line.len);
            st->line.len = 0;
        } else {
            event(st, p, (size_t)(nl - p));
        }
        p = nl + 1;
    }
    return n;
}

typedef struct zero_reader { uint64_t left; } zero_reader;
static char ZEROS[256 * 1024];
static size_t zread(char *buf, size_t sz, size_t nm, void *user) {
    zero_reader *z = (zero_reader *)user;
    size_t n = sz * nm;
    if (n > sizeof ZEROS) n = sizeof ZEROS;
    if (n > z->left) n = (size_t)z->left;
    memcpy(buf, ZEROS, n);
    z->left -= n;
    return n;
}

static void check(CURLcode rc, const char *what) {
    if (rc != CURLE_OK) {
        fprintf(stderr, "curl_bench: %s: %s\n", what, curl_easy_strerror(rc));
        exit(1);
    }
}

int main(int argc, char **argv) {
    const char *base, *w;
    char url[512];
    CURL *h;
    double t0, c0, t1, c1;
    unsigned long long a0;
    uint64_t units = 0, bytes = 0;
    cJSON_Hooks hooks;
    if (argc < 3) {
        fprintf(stderr, "usage: curl_bench URL w1 N | w2 small|big cjson|jsmn | w3 | w4 MIB\n");
        return 2;
    }
    base = argv[1];
    w = argv[2];
    curl_global_init_mem(CURL_GLOBAL_DEFAULT, m_malloc, m_free, m_realloc, m_strdup, m_calloc);
    hooks.malloc_fn = m_malloc;
    hooks.free_fn = m_free;
    cJSON_InitHooks(&hooks);
    h = curl_easy_init();
    curl_easy_setopt(h, CURLOPT_TCP_NODELAY, 1L);
    t0 = now_s();
    c0 = cpu_s();
    a0 = NALLOC;
    if (strcmp(w, "w1") == 0) {
        long n = argc > 3 ? atol(argv[3]) : 2000, i;
        mem m = {NULL, 0, 0};
        snprintf(url, sizeof url, "%s/v1/sandboxes/6f1c2d3e-4a5b-4c6d-8e9f-000000000001", base);
        curl_easy_setopt(h, CURLOPT_URL, url);
        curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, to_mem);
        curl_easy_setopt(h, CURLOPT_WRITEDATA, &m);
        for (i = 0; i < n; i++) {
            cJSON *o, *st, *state;
            long code = 0;
            m.len = 0;
            check(curl_easy_perform(h), "GET");
            curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
            if (code != 200) { fprintf(stderr, "status %ld\n", code); return 1; }
            o = cJSON_ParseWithLength(m.p, m.len);
            st = cJSON_GetObjectItemCaseSensitive(o, "status");
            state = cJSON_GetObjectItemCaseSensitive(st, "state");
            if (!cJSON_IsString(state)) { fprintf(stderr, "bad sandbox\n"); return 1; }
            bytes += strlen(state->valuestring);
            cJSON_Delete(o);
        }
        units = (uint64_t)n;
        free(m.p);
    } else if (strcmp(w, "w2") == 0) {
        static w2 st;
        static const char body[] = "{\"command\":\"cat /var/log/build.log\"}";
        struct curl_slist *hd = curl_slist_append(NULL, "Content-Type: application/json");
        st.use_jsmn = argc > 4 && strcmp(argv[4], "jsmn") == 0;
        snprintf(url, sizeof url, "%s/x/%s/command", base, argc > 3 ? argv[3] : "big");
        curl_easy_setopt(h, CURLOPT_URL, url);
        curl_easy_setopt(h, CURLOPT_HTTPHEADER, hd);
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, w2_write);
        curl_easy_setopt(h, CURLOPT_WRITEDATA, &st);
        check(curl_easy_perform(h), "POST /command");
        if (st.line.len) event(&st, st.line.p, st.line.len);
        if (!st.stdout_events || !st.text_bytes) { fprintf(stderr, "no stdout events\n"); return 1; }
        units = st.events;
        bytes = st.bytes;
        curl_slist_free_all(hd);
    } else if (strcmp(w, "w3") == 0) {
        snprintf(url, sizeof url, "%s/x/s/files/download?path=%%2Fdata%%2Fbig.bin", base);
        curl_easy_setopt(h, CURLOPT_URL, url);
        curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, discard);
        curl_easy_setopt(h, CURLOPT_WRITEDATA, &bytes);
        check(curl_easy_perform(h), "download");
        units = bytes;
    } else if (strcmp(w, "w4") == 0) {
        uint64_t size = (uint64_t)(argc > 3 ? atol(argv[3]) : 256) << 20;
        zero_reader z;
        curl_mime *mime = curl_mime_init(h);
        curl_mimepart *part = curl_mime_addpart(mime);
        static const char meta[] = "{\"path\":\"/tmp/upload.bin\",\"mode\":644}";
        mem m = {NULL, 0, 0};
        curl_mime_name(part, "metadata");
        curl_mime_filename(part, "metadata");
        curl_mime_type(part, "application/json");
        curl_mime_data(part, meta, CURL_ZERO_TERMINATED);
        part = curl_mime_addpart(mime);
        curl_mime_name(part, "file");
        curl_mime_filename(part, "upload.bin");
        curl_mime_type(part, "application/octet-stream");
        z.left = size;
        if (argc > 4) {
            curl_mime_filedata(part, argv[4]);
            curl_mime_filename(part, "upload.bin");
            z.left = 0;
        } else {
            curl_mime_data_cb(part, (curl_off_t)size, zread, NULL, NULL, &z);
        }
        snprintf(url, sizeof url, "%s/x/s/files/upload", base);
        curl_easy_setopt(h, CURLOPT_URL, url);
        curl_easy_setopt(h, CURLOPT_MIMEPOST, mime);
        curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, to_mem);
        curl_easy_setopt(h, CURLOPT_WRITEDATA, &m);
        check(curl_easy_perform(h), "upload");
        if (z.left) { fprintf(stderr, "upload short\n"); return 1; }
        bytes = units = size;
        curl_mime_free(mime);
        free(m.p);
    } else {
        fprintf(stderr, "curl_bench: unknown workload %s\n", w);
        return 2;
    }
    t1 = now_s();
    c1 = cpu_s();
    printf("wall_s=%.6f cpu_s=%.6f units=%llu bytes=%llu allocs=%llu\n", t1 - t0, c1 - c0,
           (unsigned long long)units, (unsigned long long)bytes, NALLOC - a0);
    curl_easy_cleanup(h);
    curl_global_cleanup();
    return 0;
}
