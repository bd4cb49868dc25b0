/* bench/tok_bench.c -- T1: in-memory tokenizing, opensandbox.h against jsmn
 * and cJSON, plus memcpy as the bandwidth reference.
 *
 *   tok_bench json FILE osb|osb-bind|jsmn|cjson   tokenize (or bind) a JSON document
 *   tok_bench sse FILE frame|tokens|typed         execd events: framing only,
 *                                                 framing + osb_json over each event, or
 *                                                 framing + osb_bind_into per event
 *   tok_bench chunked FILE                        the HTTP chunked decoder alone
 *   tok_bench memcpy MIB                          copy MIB MiB (256 MiB buffers)
 *
 * Each mode reads the file first, then times REPS passes (BENCH_REPS, default
 * 3) and prints the best: wall_s, bytes, units (tokens or events), allocs
 * (malloc/calloc/realloc calls during the timed passes, counted by wrapping
 * the C library's allocator at link time: -Wl,--wrap=malloc,...). */
#define _POSIX_C_SOURCE 200809L
#define OPENSANDBOX_IMPLEMENTATION
#include "opensandbox.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define JSMN_STATIC
#define JSMN_PARENT_LINKS /* jsmn's documented speed option */
#include <jsmn.h>
#include <cjson/cJSON.h>

static unsigned long long NALLOC;
void *__real_malloc(size_t);
void *__real_calloc(size_t, size_t);
void *__real_realloc(void *, size_t);
void *__wrap_malloc(size_t n) { NALLOC++; return __real_malloc(n); }
void *__wrap_calloc(size_t a, size_t b) { NALLOC++; return __real_calloc(a, b); }
void *__wrap_realloc(void *p, size_t n) { NALLOC++; return __real_realloc(p, n); }

static void *count_malloc(size_t n) { NALLOC++; return __real_malloc(n); }
static void count_free(void *p) { free(p); }

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static char *slurp(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    char *p;
    long n;
    if (!f) { perror(path); exit(1); }
    fseek(f, 0, SEEK_END);
    n = ftell(f);
    fseek(f, 0, SEEK_SET);
    p = (char *)malloc((size_t)n + 1);
    if (!p || fread(p, 1, (size_t)n, f) != (size_t)n) { perror(path); exit(1); }
    p[n] = 0;
    fclose(f);
    *len = (size_t)n;
    return p;
}

typedef struct bs_event {
    osb_str type, text;
    int64_t execution_count, execution_time, timestamp;
    osb_str results;
    osb_str ename, evalue;
} bs_event;
static const osb_field bs_event_fields[] = {
    OSB_FIELD_STR(bs_event, type, "type"),
    OSB_FIELD_STR(bs_event, text, "text"),
    OSB_FIELD_I64(bs_event, execution_count, "execution_count"),
    OSB_FIELD_I64(bs_event, execution_time, "execution_time"),
    OSB_FIELD_I64(bs_event, timestamp, "timestamp"),
    OSB_FIELD_RAW(bs_event, results, "results"),
};
static const osb_type bs_event_type = OSB_TYPE(bs_event, bs_event_fields);

/* The sandbox list, typed (for osb-bind). */
typedef struct bl_status { osb_str state, reason, message, last; } bl_status;
typedef struct bl_sandbox {
    osb_str id;
    bl_status status;
    osb_kv *metadata;
    size_t metadata_count;
    osb_str *entrypoint;
    size_t entrypoint_count;
    osb_str expires_at, created_at;
} bl_sandbox;
typedef struct bl_list { bl_sandbox *items; size_t items_count; } bl_list;
static const osb_field bl_status_fields[] = {
    OSB_FIELD_STR(bl_status, state, "state"),
    OSB_FIELD_STR(bl_status, reason, "reason"),
    OSB_FIELD_STR(bl_status, message, "message"),
    OSB_FIELD_STR(bl_status, last, "lastTransitionAt"),
};
static const osb_type bl_status_type = OSB_TYPE(bl_status, bl_status_fields);
static const osb_field bl_sandbox_fields[] = {
    OSB_FIELD_STR(bl_sandbox, id, "id"),
    OSB_FIELD_OBJECT(bl_sandbox, status, "status", &bl_status_type),
    OSB_FIELD_MAP(bl_sandbox, metadata, metadata_count, "metadata"),
    OSB_FIELD_ARRAY(bl_sandbox, entrypoint, entrypoint_count, "entrypoint", OSB_KIND_STR),
    OSB_FIELD_STR(bl_sandbox, expires_at, "expiresAt"),
    OSB_FIELD_STR(bl_sandbox, created_at, "createdAt"),
};
static const osb_type bl_sandbox_type = OSB_TYPE(bl_sandbox, bl_sandbox_fields);
static const osb_field bl_list_fields[] = {
    OSB_FIELD_ARRAY_OF(bl_list, items, items_count, "items", &bl_sandbox_type),
};
static const osb_type bl_list_type = OSB_TYPE(bl_list, bl_list_fields);

static char EVBUF[64 * 1024];
static char BINDBUF[64 * 1024];

static size_t count_cjson(const cJSON *n) {
    size_t k = 1;
    const cJSON *c;
    for (c = n->child; c; c = c->next) k += count_cjson(c) + (c->string ? 1 : 0);
    return k;
}

/* One pass; returns the unit count (tokens, events) or exits on failure. */
static unsigned long long pass(const char *mode, const char *impl, const char *data, size_t len,
                               void *aux) {
    unsigned long long units = 0;
    if (strcmp(mode, "json") == 0 && strcmp(impl, "osb") == 0) {
        static char scratch[4096];
        osb_json j;
        osb_json_token t;
        int r;
        osb_json_init(&j, scratch, sizeof scratch);
        osb_json_feed(&j, data, len, 1);
        while ((r = osb_json_next(&j, &t)) > 0 && r != OSB_JSON_DONE) units++;
        if (r != OSB_JSON_DONE) { fprintf(stderr, "osb json: %s\n", j.err_msg); exit(1); }
    } else if (strcmp(mode, "json") == 0 && strcmp(impl, "osb-bind") == 0) {
        bl_list *l = NULL;
        osb_err e = osb_bind(&bl_list_type, data, len, NULL, (void **)&l, NULL);
        if (e) { fprintf(stderr, "osb bind: %s\n", osb_strerror(e)); exit(1); }
        units = l->items_count;
        osb_result_free(l);
    } else if (strcmp(mode, "json") == 0 && strcmp(impl, "jsmn") == 0) {
        /* jsmn gets its token array preallocated (sized by a counting pass
         * outside the timed region), which is how it is meant to be used. */
        jsmn_parser p;
        int r;
        jsmntok_t *toks = (jsmntok_t *)aux;
        jsmn_init(&p);
        r = jsmn_parse(&p, data, len, toks, (unsigned)(*(size_t *)((char *)aux - sizeof(size_t))));
        if (r < 0) { fprintf(stderr, "jsmn: %d\n", r); exit(1); }
        units = (unsigned long long)r;
    } else if (strcmp(mode, "json") == 0 && strcmp(impl, "cjson") == 0) {
        cJSON *root = cJSON_ParseWithLength(data, len);
        if (!root) { fprintf(stderr, "cjson failed\n"); exit(1); }
        units = count_cjson(root);
        cJSON_Delete(root);
    } else if (strcmp(mode, "sse") == 0) {
        int typed = strcmp(impl, "typed") == 0, tokens = strcmp(impl, "tokens") == 0;
        osb_sse s;
        const char *p = data;
        size_t n = len;
        uint64_t textb = 0;
        osb_sse_init(&s, EVBUF, sizeof EVBUF);
        for (;;) {
            size_t k = osb_sse_push(&s, p, n);
            int st = (int)osb_sse_status(&s);
            p += k;
            n -= k;
            if (st == OSB_SSE_EVENT) {
                osb_sse_event ev;
                osb_sse_event_get(&s, &ev);
                units++;
                if (tokens) {
                    static char sc[256];
                    osb_json j;
                    osb_json_token t;
                    int r;
                    osb_json_init(&j, sc, sizeof sc);
                    osb_json_feed(&j, ev.data, ev.data_len, 1);
                    while ((r = osb_json_next(&j, &t)) > 0 && r != OSB_JSON_DONE) textb++;
                    if (r != OSB_JSON_DONE) exit(1);
                } else if (typed) {
                    bs_event te;
                    if (osb_bind_into(&bs_event_type, ev.data, ev.data_len, &te, BINDBUF,
                                      sizeof BINDBUF, NULL, NULL) != OSB_OK) {
                        fprintf(stderr, "bind_into failed\n");
                        exit(1);
                    }
                    textb += te.text.len;
                } else {
                    textb += ev.data_len;
                }
            } else if (st != OSB_SSE_MORE) {
                fprintf(stderr, "sse: %s\n", osb_strerror(s.err));
                exit(1);
            }
            if (n == 0 && st == OSB_SSE_MORE) break;
        }
        if (textb == 0) exit(1);
    } else if (strcmp(mode, "chunked") == 0) {
        osb_chunked d;
        const char *p = data;
        size_t n = len;
        memset(&d, 0, sizeof d);
        while (n && !d.done) {
            const char *out;
            size_t outlen = 0;
            ptrdiff_t k = osb_chunked_feed(&d, p, n, &out, &outlen);
            if (k < 0) { fprintf(stderr, "chunked: error\n"); exit(1); }
            p += k;
            n -= (size_t)k;
            units += outlen;
        }
    } else if (strcmp(mode, "memcpy") == 0) {
        char *dst = (char *)aux;
        size_t block = 256u << 20, done = 0;
        while (done < len) {
            size_t k = len - done < block ? len - done : block;
            memcpy(dst, data, k);
            done += k;
        }
        units = done;
    }
    return units;
}

int main(int argc, char **argv) {
    const char *mode, *file, *impl;
    char *data;
    size_t len;
    void *aux = NULL;
    int reps = getenv("BENCH_REPS") ? atoi(getenv("BENCH_REPS")) : 3, i;
    double best = 1e30;
    unsigned long long units = 0, a0, allocs = 0;
    if (argc < 3) {
        fprintf(stderr, "usage: tok_bench json|sse|chunked|memcpy FILE|MIB [impl]\n");
        return 2;
    }
    mode = argv[1];
    file = argv[2];
    impl = argc > 3 ? argv[3] : "";
    {
        cJSON_Hooks h;
        h.malloc_fn = count_malloc;
        h.free_fn = count_free;
        cJSON_InitHooks(&h);
    }
    if (strcmp(mode, "memcpy") == 0) {
        size_t mib = (size_t)atol(file);
        len = mib << 20;
        data = (char *)malloc(256u << 20);
        aux = malloc(256u << 20);
        memset(data, 1, 256u << 20);
        memset(aux, 2, 256u << 20);
    } else {
        data = slurp(file, &len);
    }
    if (strcmp(mode, "json") == 0 && strcmp(impl, "jsmn") == 0) {
        jsmn_parser p;
        int n;
        char *block;
        jsmn_init(&p);
        n = jsmn_parse(&p, data, len, NULL, 0);
        if (n < 0) { fprintf(stderr, "jsmn count: %d\n", n); return 1; }
        block = (char *)malloc(sizeof(size_t) + (size_t)n * sizeof(jsmntok_t));
        *(size_t *)block = (size_t)n;
        aux = block + sizeof(size_t);
    }
    for (i = 0; i < reps; i++) {
        double t0, t1;
        a0 = NALLOC;
        t0 = now_s();
        units = pass(mode, impl, data, len, aux);
        t1 = now_s();
        if (t1 - t0 < best) best = t1 - t0;
        allocs = NALLOC - a0;
    }
    printf("wall_s=%.6f bytes=%zu units=%llu allocs=%llu\n", best, len, units, allocs);
    return 0;
}
