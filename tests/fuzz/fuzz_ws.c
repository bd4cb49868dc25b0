/* fuzz_ws.c -- the WebSocket frame codec: osb_ws_parse_frame on every prefix
 * (incomplete until complete, then the same answer), and the decoder fed
 * whole, byte by byte and in random pieces gives the same messages, control
 * frames and verdict; pieces stay inside the input, offsets add up, text is
 * only ever handed out when it can still be UTF-8. The first byte picks the
 * direction (masked or not) and the message limit.
 *   clang-14 -g -O1 -fsanitize=fuzzer,address,undefined -I. tests/fuzz/fuzz_ws.c
 */
#define OPENSANDBOX_IMPLEMENTATION
#include "../../opensandbox.h"
#include "replay.h"
#include <string.h>

typedef struct result {
    uint32_t hash;      /* of everything delivered, in order, with kinds and flags */
    uint64_t bytes;
    int verdict;        /* 0 ok, or the failure */
    int fail_code;
} result;

static void mix(uint32_t *h, uint32_t v) { *h = (*h ^ v) * 16777619u; }

static void run(const uint8_t *data, size_t size, int masked, uint64_t max, int plan, uint32_t seed, result *r) {
    char *copy = (char *)malloc(size ? size : 1);
    osb_ws_decoder d;
    size_t at = 0;
    uint64_t msg_len = 0;
    int in_msg = 0;
    uint32_t msg_hash = 2166136261u, done_hash = 2166136261u;
    memcpy(copy, data, size);
    memset(r, 0, sizeof *r);
    osb_ws_decoder_init(&d, masked, max);
    while (at < size) {
        size_t n = size - at, end;
        if (plan == 1) n = 1;
        else if (plan == 2) {
            seed = seed * 1103515245u + 12345u;
            n = 1 + (seed >> 16) % 17;
            if (n > size - at) n = size - at;
        }
        end = at + n;
        while (at < end) {
            osb_ws_piece p;
            ptrdiff_t used = osb_ws_feed(&d, copy + at, end - at, &p);
            if (used < 0) {
                FUZZ_ASSERT(used == OSB_WS_MALFORMED || used == OSB_WS_TOO_LARGE);
                FUZZ_ASSERT(d.error && d.fail_code >= 1000);
                r->verdict = (int)used;
                r->fail_code = d.fail_code;
                r->hash = done_hash;    /* a message cut short counts for nothing */
                free(copy);
                return;
            }
            FUZZ_ASSERT((size_t)used <= end - at);
            if (p.opcode == OSB_WS_TEXT || p.opcode == OSB_WS_BINARY) {
                size_t i;
                FUZZ_ASSERT(p.len == 0 || (p.data >= copy + at && p.data + p.len <= copy + at + used));
                if (p.first) {
                    FUZZ_ASSERT(!in_msg);
                    in_msg = 1;
                    msg_len = 0;
                    msg_hash = done_hash;
                    mix(&msg_hash, (uint32_t)p.opcode);
                }
                FUZZ_ASSERT(in_msg && p.offset == msg_len);
                for (i = 0; i < p.len; i++) mix(&msg_hash, (unsigned char)p.data[i]);
                msg_len += p.len;
                FUZZ_ASSERT(!max || msg_len <= max);
                if (p.last) {
                    in_msg = 0;
                    mix(&msg_hash, 0xFFFFFFFFu);
                    done_hash = msg_hash;
                    r->bytes += msg_len;
                }
            } else if (p.opcode) {
                size_t i;
                FUZZ_ASSERT(p.opcode >= OSB_WS_CLOSE && p.opcode <= OSB_WS_PONG && p.len <= 125);
                mix(&done_hash, (uint32_t)p.opcode << 8 | (uint32_t)p.close_code << 12);
                for (i = 0; i < p.len; i++) mix(&done_hash, (unsigned char)p.data[i]);
                if (in_msg) mix(&msg_hash, (uint32_t)p.opcode);
            } else {
                FUZZ_ASSERT((size_t)used == end - at);
            }
            at += (size_t)used;
            if (used == 0 && !p.opcode) break;
        }
        at = end;
    }
    r->hash = done_hash;
    free(copy);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    result whole, other;
    osb_ws_frame_head h1, h2;
    int masked, plan, r, k;
    uint64_t max;
    if (size < 1) return 0;
    masked = data[0] & 1;
    max = (data[0] >> 1) < 100 ? (uint64_t)(data[0] >> 1) * 37 : 0;
    data++;
    size--;
    /* the head parser: incomplete on every prefix shorter than the head */
    r = osb_ws_parse_frame((const char *)data, size, &h1);
    if (r > 0) {
        FUZZ_ASSERT(r >= 2 && r <= 14 && (size_t)r <= size);
        for (k = 0; k < r; k++) {
            int q = osb_ws_parse_frame((const char *)data, (size_t)k, &h2);
            FUZZ_ASSERT(q == OSB_WS_INCOMPLETE);
        }
        FUZZ_ASSERT(osb_ws_parse_frame((const char *)data, (size_t)r, &h2) == r);
        FUZZ_ASSERT(h1.length == h2.length && h1.opcode == h2.opcode && h1.fin == h2.fin);
        {
            unsigned char back[14];
            size_t bl = osb_ws_write_head(back, h1.fin, h1.opcode, h1.masked ? h1.mask : NULL, h1.length);
            FUZZ_ASSERT(bl == (size_t)r && memcmp(back, data, bl) == 0);   /* shortest forms round-trip */
        }
    }
    run(data, size, masked, max, 0, 0, &whole);
    for (plan = 1; plan <= 3; plan++) {
        run(data, size, masked, max, plan == 3 ? 2 : plan, (uint32_t)size * 7919u + (uint32_t)plan, &other);
        FUZZ_ASSERT(other.verdict == whole.verdict && other.fail_code == whole.fail_code);
        FUZZ_ASSERT(other.hash == whole.hash && other.bytes == whole.bytes);
    }
    return 0;
}
