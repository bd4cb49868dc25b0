/* json_diff_driver.c -- the C side of tests/json_diff.py.
 *
 * Reads records "<length>\n<bytes>" from stdin. Each document is tokenized
 * (cut into pseudo-random chunks, so resumption is exercised too) and written
 * back with the JSON writer; one line per record goes to stdout:
 *   OK <the document re-encoded by osb_jw>
 *   ERR <osb_err code> <byte offset>
 * Numbers: integers through osb_json_to_i64, the rest through
 * osb_json_to_double; a value out of range is copied as its text (Python
 * reads it as a big int or as inf, as it did the original). */
#define OPENSANDBOX_IMPLEMENTATION
#include "../opensandbox.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint32_t rng = 12345;
static uint32_t next_rand(void) {
    rng ^= rng << 13;
    rng ^= rng >> 17;
    rng ^= rng << 5;
    return rng;
}

static void run(const char *doc, size_t len, osb_buf *out) {
    osb_json j;
    osb_json_token t;
    osb_jw w;
    osb_buf text;
    char scratch[16];
    size_t pos = 0;
    int r;
    osb_buf_init(&text, NULL);
    osb_jw_init(&w, out);
    osb_json_init(&j, scratch, sizeof scratch);
    for (;;) {
        r = osb_json_next(&j, &t);
        if (r == OSB_JSON_NEED_MORE) {
            size_t n = len - pos;
            if (n > 1 && next_rand() % 2) n = 1 + next_rand() % n;
            osb_json_feed(&j, doc + pos, n, pos + n == len);
            pos += n;
            continue;
        }
        if (r == OSB_JSON_ERROR) {
            char b[64];
            snprintf(b, sizeof b, "ERR %d %llu", (int)j.err, (unsigned long long)j.err_offset);
            out->len = 0;
            osb_buf_append_str(out, b);
            break;
        }
        if (r == OSB_JSON_DONE) break;
        if (r == OSB_JSON_KEY || r == OSB_JSON_STRING || r == OSB_JSON_NUMBER) {
            osb_buf_append(&text, t.ptr ? t.ptr : "", t.len);
            if (t.more) continue;
            if (r == OSB_JSON_KEY) {
                osb_jw_key_n(&w, text.data, text.len);
            } else if (r == OSB_JSON_STRING) {
                osb_jw_str_n(&w, text.data, text.len);
            } else {
                int is_int = !memchr(text.data, '.', text.len) && !memchr(text.data, 'e', text.len) &&
                             !memchr(text.data, 'E', text.len);
                if (is_int) {
                    int64_t v;
                    if (osb_json_to_i64(text.data, text.len, &v) == OSB_OK) osb_jw_int(&w, v);
                    else osb_jw_raw(&w, text.data, text.len);
                } else {
                    double v;
                    if (osb_json_to_double(text.data, text.len, &v) == OSB_OK) osb_jw_double(&w, v);
                    else osb_jw_raw(&w, text.data, text.len);
                }
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
    if (r == OSB_JSON_DONE && osb_jw_finish(&w) != OSB_OK) {
        out->len = 0;
        osb_buf_append_str(out, "ERR writer");
    }
    osb_buf_free(&text);
}

int main(void) {
    static char doc[1 << 20];
    osb_buf out;
    unsigned long len;
    osb_buf_init(&out, NULL);
    while (scanf("%lu", &len) == 1) {
        if (getchar() != '\n' || len > sizeof doc) return 2;
        if (fread(doc, 1, len, stdin) != len) return 2;
        out.len = 0;
        osb_buf_append_str(&out, "OK ");
        run(doc, len, &out);
        fwrite(out.data, 1, out.len, stdout);
        fputc('\n', stdout);
    }
    osb_buf_free(&out);
    return 0;
}
