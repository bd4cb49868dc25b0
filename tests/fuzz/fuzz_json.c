/* fuzz_json.c -- the JSON tokenizer: every split gives the same tokens, and
 * a document that parses is written back by osb_jw into JSON that parses
 * again to the same tokens (numbers compared through their conversions).
 *   clang-14 -g -O1 -fsanitize=fuzzer,address,undefined -I. tests/fuzz/fuzz_json.c
 *   gcc -g -I. tests/fuzz/fuzz_json.c -o build/fuzz_json -lm && build/fuzz_json tests/fuzz/corpus/json/ *
 */
#define OPENSANDBOX_IMPLEMENTATION
#include "../../opensandbox.h"
#include "feed.h"
#include "replay.h"

/* Re-encodes a document with the writer; returns 0 when it did not parse. */
static int reencode(const char *doc, size_t len, osb_buf *out) {
    osb_json j;
    osb_json_token t;
    osb_jw w;
    osb_buf text;
    char scratch[OSB_JSON_MIN_SCRATCH];
    int r, ok = 0;
    osb_buf_init(&text, NULL);
    osb_jw_init(&w, out);
    osb_json_init(&j, scratch, sizeof scratch);
    osb_json_feed(&j, doc, len, 1);
    while ((r = osb_json_next(&j, &t)) > 0) {
        if (r == OSB_JSON_DONE) {
            ok = 1;
            break;
        }
        if (r == OSB_JSON_KEY || r == OSB_JSON_STRING || r == OSB_JSON_NUMBER) {
            osb_buf_append(&text, t.ptr ? t.ptr : "", t.len);
            if (t.more) continue;
            if (r == OSB_JSON_KEY) {
                FUZZ_ASSERT(osb_jw_key_n(&w, text.data, text.len) == OSB_OK);
            } else if (r == OSB_JSON_STRING) {
                FUZZ_ASSERT(osb_jw_str_n(&w, text.data, text.len) == OSB_OK);
            } else {
                int64_t i;
                uint64_t u;
                double d;
                osb_err ei = osb_json_to_i64(text.data, text.len, &i);
                osb_err eu = osb_json_to_u64(text.data, text.len, &u);
                osb_err ed = osb_json_to_double(text.data, text.len, &d);
                FUZZ_ASSERT(ei == OSB_OK || ei == OSB_ERR_RANGE);
                FUZZ_ASSERT(eu == OSB_OK || eu == OSB_ERR_RANGE);
                FUZZ_ASSERT(ed == OSB_OK || ed == OSB_ERR_RANGE);
                if (ei == OSB_OK && eu == OSB_OK) FUZZ_ASSERT(i >= 0 && (uint64_t)i == u);
                if (ei == OSB_OK && ed == OSB_OK) FUZZ_ASSERT(d == (double)i);
                /* integers go back as integers, the rest as doubles */
                if (ei == OSB_OK) osb_jw_int(&w, i);
                else if (eu == OSB_OK) osb_jw_uint(&w, u);
                else if (ed == OSB_OK) osb_jw_double(&w, d);
                else osb_jw_raw(&w, text.data, text.len);
            }
            text.len = 0;
            continue;
        }
        switch (r) {
        case OSB_JSON_OBJECT: osb_jw_object(&w); break;
        case OSB_JSON_OBJECT_END: osb_jw_object_end(&w); break;
        case OSB_JSON_ARRAY: osb_jw_array(&w); break;
        case OSB_JSON_ARRAY_END: osb_jw_array_end(&w); break;
        case OSB_JSON_TRUE: osb_jw_bool(&w, 1); break;
        case OSB_JSON_FALSE: osb_jw_bool(&w, 0); break;
        default: osb_jw_null(&w); break;
        }
    }
    if (ok) FUZZ_ASSERT(osb_jw_finish(&w) == OSB_OK);
    osb_buf_free(&text);
    return ok;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const char *doc = (const char *)data;
    feed_out whole = {NULL, 0, 0};
    feed_plan pw = {FEED_WHOLE, 0};
    uint32_t seed;
    osb_buf a, b;
    feed_json(doc, size, pw, 256, &whole);
    for (seed = 1; seed <= 3; seed++) {
        feed_out o = {NULL, 0, 0};
        feed_plan pl;
        pl.kind = FEED_RANDOM;
        pl.seed = seed * 2654435761u + (uint32_t)size;
        feed_json(doc, size, pl, seed == 1 ? OSB_JSON_MIN_SCRATCH : 64, &o);
        if (strcmp(whole.p ? whole.p : "", o.p ? o.p : "") != 0) {
            fprintf(stderr, "whole: %s\nsplit: %s\n", whole.p, o.p);
            abort();
        }
        feed_free(&o);
    }
    if (size < 4096) {
        feed_out o = {NULL, 0, 0};
        feed_plan pb = {FEED_BYTES, 0};
        feed_json(doc, size, pb, OSB_JSON_MIN_SCRATCH, &o);
        FUZZ_ASSERT(strcmp(whole.p ? whole.p : "", o.p ? o.p : "") == 0);
        feed_free(&o);
    }
    feed_free(&whole);
    /* write back: the writer's output must parse, and after one round
     * (which settles number spellings such as -0.0 -> "-0" -> 0) writing
     * must be a fixed point */
    osb_buf_init(&a, NULL);
    osb_buf_init(&b, NULL);
    if (reencode(doc, size, &a)) {
        osb_buf c;
        osb_buf_init(&c, NULL);
        FUZZ_ASSERT(reencode(a.data, a.len, &b));
        FUZZ_ASSERT(reencode(b.data, b.len, &c));
        FUZZ_ASSERT(b.len == c.len && memcmp(b.data, c.data, b.len) == 0);
        osb_buf_free(&c);
    }
    osb_buf_free(&a);
    osb_buf_free(&b);
    return 0;
}
