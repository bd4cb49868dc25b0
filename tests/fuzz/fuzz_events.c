/* fuzz_events.c -- the execd event stream as a command's response body: with
 * bare lines decoded where they lie and the fast path for common events, and
 * with the general decoder only, it gives the same events, the same error,
 * message and offset. The first byte picks the event cap.
 *   clang-14 -g -O1 -fsanitize=fuzzer,address,undefined -I. tests/fuzz/fuzz_events.c
 */
#define OPENSANDBOX_IMPLEMENTATION
#include "../../opensandbox.h"
#include "feed.h"
#include "replay.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static osb_client *c;
    feed_out fast = {NULL, 0, 0}, general = {NULL, 0, 0};
    size_t max_event;
    if (size < 1) return 0;
    if (!c) {
        osb_client_config cfg;
        memset(&cfg, 0, sizeof cfg);
        cfg.domain = "127.0.0.1:1";
        if (osb_client_new(&cfg, &c) != OSB_OK) abort();
    }
    max_event = data[0] < 128 ? (size_t)data[0] + 1 : OSB_SSE_MAX_EVENT;
    data++;
    size--;
    feed_events(c, (const char *)data, size, 0, max_event, &fast);
    feed_events(c, (const char *)data, size, 1, max_event, &general);
    if (strcmp(fast.p, general.p) != 0 || strstr(fast.p, "\\unterminated")) {
        fprintf(stderr, "fast:\n%s\ngeneral:\n%s\n", fast.p, general.p);
        abort();
    }
    feed_free(&fast);
    feed_free(&general);
    return 0;
}
