/* fuzz_sse.c -- the event-stream tokenizer: whole, byte by byte and random
 * splits give the same events; the event buffer grows on OSB_SSE_FULL as the
 * stream layer would. The first byte picks the event cap.
 *   clang-14 -g -O1 -fsanitize=fuzzer,address,undefined -I. tests/fuzz/fuzz_sse.c
 */
#define OPENSANDBOX_IMPLEMENTATION
#include "../../opensandbox.h"
#include "feed.h"
#include "replay.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    size_t max_event;
    feed_out whole = {NULL, 0, 0};
    feed_plan pw = {FEED_WHOLE, 0};
    uint32_t seed;
    if (size < 1) return 0;
    max_event = data[0] < 128 ? (size_t)data[0] + 1 : OSB_SSE_MAX_EVENT;
    data++;
    size--;
    feed_sse((const char *)data, size, pw, max_event, &whole);
    for (seed = 0; seed <= 3; seed++) {
        feed_out o = {NULL, 0, 0};
        feed_plan pl;
        pl.kind = seed == 0 ? FEED_BYTES : FEED_RANDOM;
        pl.seed = seed * 40503u + (uint32_t)size;
        feed_sse((const char *)data, size, pl, max_event, &o);
        if (strcmp(whole.p ? whole.p : "", o.p ? o.p : "") != 0) {
            fprintf(stderr, "whole: %s\nsplit: %s\n", whole.p, o.p);
            abort();
        }
        feed_free(&o);
    }
    feed_free(&whole);
    return 0;
}
