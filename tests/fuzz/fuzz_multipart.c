/* fuzz_multipart.c -- the multipart writer: the input is cut into parts
 * (name, filename, content type, body; some bodies from a reader that
 * returns a few bytes at a time), the body is read with random read sizes,
 * and it must be exactly osb_multipart_length bytes and equal the body
 * composed here independently from RFC 7578's layout.
 *   clang-14 -g -O1 -fsanitize=fuzzer,address,undefined -I. tests/fuzz/fuzz_multipart.c
 */
#define OPENSANDBOX_IMPLEMENTATION
#include "../../opensandbox.h"
#include "replay.h"

typedef struct drip { const char *p; size_t left, step; } drip;

static ptrdiff_t drip_read(void *user, void *buf, size_t cap) {
    drip *d = (drip *)user;
    size_t n = cap < d->left ? cap : d->left;
    if (n > d->step) n = d->step;
    memcpy(buf, d->p, n);
    d->p += n;
    d->left -= n;
    return (ptrdiff_t)n;
}

/* Takes the next field of the input, up to a 0xFF byte. */
static char *take(const uint8_t **p, const uint8_t *end, size_t *len) {
    const uint8_t *s = *p, *e = s;
    char *out;
    while (e < end && *e != 0xFF) e++;
    *len = (size_t)(e - s);
    out = (char *)malloc(*len + 1);
    memcpy(out, s, *len);
    out[*len] = 0;
    *p = e < end ? e + 1 : e;
    return out;
}

/* a quoted-string as Go's mime package reads it back: quoted-pairs for
   '"' and '\\', '_' for every control character */
static void quoted(osb_buf *b, const char *s) {
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\') {
            osb_buf_append(b, "\\", 1);
            osb_buf_append(b, s, 1);
        } else if (c < 0x20 || c == 0x7f) {
            osb_buf_append(b, "_", 1);
        } else {
            osb_buf_append(b, s, 1);
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const uint8_t *p = data, *end = data + size;
    osb_mpart parts[8];
    char *owned[32];
    drip drips[8];
    size_t nparts = 0, nowned = 0, i, len;
    osb_multipart m;
    osb_buf want, got;
    osb_err e;
    uint32_t rng = (uint32_t)size * 2654435761u + 1;
    memset(parts, 0, sizeof parts);
    while (p < end && nparts < 8) {
        osb_mpart *pt = &parts[nparts];
        char *name = take(&p, end, &len), *fname, *ctype, *body;
        size_t blen;
        owned[nowned++] = name;
        fname = take(&p, end, &len);
        owned[nowned++] = fname;
        ctype = take(&p, end, &len);
        owned[nowned++] = ctype;
        body = take(&p, end, &blen);
        owned[nowned++] = body;
        pt->name = name;
        pt->filename = (len & 1) ? NULL : fname;
        pt->content_type = ctype[0] ? ctype : NULL;
        pt->size = blen;
        if (blen % 3 == 1) {
            drips[nparts].p = body;
            drips[nparts].left = blen;
            drips[nparts].step = 1 + blen % 5;
            pt->read = drip_read;
            pt->read_user = &drips[nparts];
        } else {
            pt->data = body;
        }
        nparts++;
    }
    e = osb_multipart_init(&m, parts, nparts, "fuzz-boundary");
    FUZZ_ASSERT(e == OSB_OK || e == OSB_ERR_INVALID_ARG || e == OSB_ERR_TOO_LARGE);
    if (e == OSB_OK) {
        /* the body as RFC 7578 lays it out */
        osb_buf_init(&want, NULL);
        for (i = 0; i < nparts; i++) {
            osb_buf_append_str(&want, "--fuzz-boundary\r\nContent-Disposition: form-data; name=\"");
            quoted(&want, parts[i].name);
            osb_buf_append_str(&want, "\"");
            if (parts[i].filename) {
                osb_buf_append_str(&want, "; filename=\"");
                quoted(&want, parts[i].filename);
                osb_buf_append_str(&want, "\"");
            }
            if (parts[i].content_type) {
                FUZZ_ASSERT(!strpbrk(parts[i].content_type, "\r\n"));
                osb_buf_append_str(&want, "\r\nContent-Type: ");
                osb_buf_append_str(&want, parts[i].content_type);
            }
            osb_buf_append_str(&want, "\r\n\r\n");
            osb_buf_append(&want, parts[i].read ? drips[i].p : (const char *)parts[i].data, (size_t)parts[i].size);
            osb_buf_append_str(&want, "\r\n");
        }
        osb_buf_append_str(&want, "--fuzz-boundary--\r\n");
        FUZZ_ASSERT(osb_multipart_length(&m) == want.len);
        osb_buf_init(&got, NULL);
        for (;;) {
            char buf[600];
            size_t step;
            ptrdiff_t n;
            rng ^= rng << 13; rng ^= rng >> 17; rng ^= rng << 5;
            step = 1 + rng % sizeof buf;
            n = osb_multipart_read(&m, buf, step);
            FUZZ_ASSERT(n >= 0 && (size_t)n <= step);
            if (n == 0) break;
            osb_buf_append(&got, buf, (size_t)n);
        }
        FUZZ_ASSERT(got.len == want.len && memcmp(got.data, want.data, want.len) == 0);
        osb_buf_free(&got);
        osb_buf_free(&want);
    }
    for (i = 0; i < nowned; i++) free(owned[i]);
    return 0;
}
