/* fuzz_bind.c -- the binding over a table using every field kind. A result
 * must be one block: every string and array it points to lies inside it,
 * strings are NUL-terminated, and it frees with one call. The first byte
 * picks the table (object, or a bare array of objects).
 *   clang-14 -g -O1 -fsanitize=fuzzer,address,undefined -I. tests/fuzz/fuzz_bind.c
 */
#define OPENSANDBOX_IMPLEMENTATION
#include "../../opensandbox.h"
#include "replay.h"

typedef struct f_inner { osb_str s; osb_str *list; size_t list_count; int64_t *nums; size_t nums_count; } f_inner;
typedef struct f_item {
    osb_str id;
    int64_t i;
    uint64_t u;
    int small;
    double d;
    int b;
    osb_str raw_value;
    f_inner inner;
    osb_kv *map;
    size_t map_count;
    f_inner *inners;
    size_t inners_count;
    osb_str raw;
} f_item;
typedef struct f_top { f_item *items; size_t count; } f_top;

static const osb_field f_inner_fields[] = {
    OSB_FIELD_STR(f_inner, s, "s"),
    OSB_FIELD_ARRAY(f_inner, list, list_count, "list", OSB_KIND_STR),
    OSB_FIELD_ARRAY(f_inner, nums, nums_count, "nums", OSB_KIND_I64),
};
static const osb_type f_inner_type = OSB_TYPE(f_inner, f_inner_fields);
static const osb_field f_item_fields[] = {
    OSB_FIELD_STR(f_item, id, "id"),
    OSB_FIELD_I64(f_item, i, "i"),
    OSB_FIELD_U64(f_item, u, "u"),
    OSB_FIELD_INT(f_item, small, "small"),
    OSB_FIELD_DOUBLE(f_item, d, "d"),
    OSB_FIELD_BOOL(f_item, b, "b"),
    OSB_FIELD_RAW(f_item, raw_value, "r"),
    OSB_FIELD_OBJECT(f_item, inner, "inner", &f_inner_type),
    OSB_FIELD_MAP(f_item, map, map_count, "map"),
    OSB_FIELD_ARRAY_OF(f_item, inners, inners_count, "inners", &f_inner_type),
};
static const osb_type f_item_type = OSB_TYPE_RAW(f_item, f_item_fields, raw);
static const osb_field f_top_fields[] = {
    OSB_FIELD_ARRAY_OF(f_top, items, count, "", &f_item_type),
};
static const osb_type f_top_type = OSB_TYPE(f_top, f_top_fields);

static const char *lo, *hi;  /* the result's block */

static void check_str(osb_str s) {
    if (!s.ptr) {
        FUZZ_ASSERT(s.len == 0);
        return;
    }
    FUZZ_ASSERT(s.ptr >= lo && s.ptr + s.len < hi);
    FUZZ_ASSERT(s.ptr[s.len] == 0);
}

static void check_mem(const void *p, size_t n, size_t size) {
    if (!p) {
        FUZZ_ASSERT(n == 0);
        return;
    }
    FUZZ_ASSERT(n > 0 && (const char *)p >= lo && (const char *)p + n * size <= hi);
}

static void check_inner(const f_inner *in) {
    size_t k;
    check_str(in->s);
    check_mem(in->list, in->list_count, sizeof(osb_str));
    for (k = 0; k < in->list_count; k++) check_str(in->list[k]);
    check_mem(in->nums, in->nums_count, sizeof(int64_t));
}

static void check_item(const f_item *it) {
    size_t k;
    check_str(it->id);
    check_str(it->raw_value);
    check_str(it->raw);
    FUZZ_ASSERT(it->b == 0 || it->b == 1);
    check_inner(&it->inner);
    check_mem(it->map, it->map_count, sizeof(osb_kv));
    for (k = 0; k < it->map_count; k++) {
        check_str(it->map[k].key);
        check_str(it->map[k].value);
    }
    check_mem(it->inners, it->inners_count, sizeof(f_inner));
    for (k = 0; k < it->inners_count; k++) check_inner(&it->inners[k]);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    void *res = NULL;
    osb_error err;
    osb_err e;
    int top;
    if (size < 1) return 0;
    top = data[0] & 1;
    e = osb_bind(top ? &f_top_type : &f_item_type, (const char *)data + 1, size - 1, NULL, &res, &err);
    FUZZ_ASSERT(e == OSB_OK || e == OSB_ERR_JSON || e == OSB_ERR_TRUNCATED || e == OSB_ERR_RANGE);
    if (e != OSB_OK) {
        FUZZ_ASSERT(res == NULL && err.code == e && err.offset <= size);
        return 0;
    }
    {
        /* the allocation-free form agrees, with the size it asks for */
        const osb_type *t = top ? &f_top_type : &f_item_type;
        void *dst = malloc(t->size);
        size_t need = 0;
        char *buf;
        osb_err e2 = osb_bind_into(t, (const char *)data + 1, size - 1, dst, NULL, 0, &need, NULL);
        FUZZ_ASSERT(e2 == OSB_OK || e2 == OSB_ERR_TOO_LARGE);
        buf = (char *)malloc(need ? need : 1);
        FUZZ_ASSERT(osb_bind_into(t, (const char *)data + 1, size - 1, dst, buf, need, &need, NULL) == OSB_OK);
        free(buf);
        free(dst);
    }
    lo = (const char *)res;
    hi = lo + osb_result_size(res);
    if (top) {
        const f_top *t = (const f_top *)res;
        size_t k;
        check_mem(t->items, t->count, sizeof(f_item));
        for (k = 0; k < t->count; k++) check_item(&t->items[k]);
    } else {
        check_item((const f_item *)res);
    }
    osb_result_free(res);
    return 0;
}
