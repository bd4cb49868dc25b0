/* tests/fuzz/replay.h -- lets a libFuzzer harness also build as a plain
 * program (gcc, no libFuzzer) that replays the files named on its command
 * line: `build/fuzz_json tests/fuzz/corpus/json/ *`.
 *
 * The replay main() is weak: linked with -fsanitize=fuzzer, libFuzzer's own
 * main wins; built without it, this one runs. Define OSB_FUZZ_LIBFUZZER to
 * leave it out entirely. */
#ifndef OSB_FUZZ_REPLAY_H
#define OSB_FUZZ_REPLAY_H
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A failed property: print it and abort, so the fuzzer keeps the input. */
#define FUZZ_ASSERT(cond)                                                        \
    do {                                                                         \
        if (!(cond)) {                                                           \
            fprintf(stderr, "%s:%d: property failed: %s\n", __FILE__, __LINE__, #cond); \
            abort();                                                             \
        }                                                                        \
    } while (0)

#ifndef OSB_FUZZ_LIBFUZZER
#if defined(__GNUC__) || defined(__clang__)
__attribute__((weak))
#endif
int main(int argc, char **argv) {
    int i, n = 0;
    for (i = 1; i < argc; i++) {
        FILE *f = fopen(argv[i], "rb");
        long len;
        uint8_t *buf;
        if (!f) {
            perror(argv[i]);
            return 1;
        }
        fseek(f, 0, SEEK_END);
        len = ftell(f);
        fseek(f, 0, SEEK_SET);
        buf = (uint8_t *)malloc(len > 0 ? (size_t)len : 1);
        if (!buf || (len > 0 && fread(buf, 1, (size_t)len, f) != (size_t)len)) {
            fprintf(stderr, "%s: read failed\n", argv[i]);
            return 1;
        }
        fclose(f);
        LLVMFuzzerTestOneInput(buf, (size_t)len);
        free(buf);
        n++;
    }
    printf("replayed %d inputs\n", n);
    return 0;
}
#endif
#endif
