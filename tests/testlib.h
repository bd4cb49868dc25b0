/* testlib.h -- the tiny test harness shared by the C tests.
 *
 *   TEST(name) { CHECK(x == 1); CHECK_EQ_INT(a, b); CHECK_EQ_STR(s, "x"); }
 *   int main(int argc, char **argv) { return testlib_main(argc, argv); }
 *
 * Tests register themselves (constructor attribute on gcc/clang). Each test
 * runs in order; a failed CHECK records the file and line and the test goes
 * on, so one run shows every failure. The closing line is "N passed, N failed".
 * An argument filters tests by substring. */
#ifndef TESTLIB_H
#define TESTLIB_H
#include <stdio.h>
#include <string.h>
#include <stdlib.h>
#include <stdint.h>

typedef void (*testlib_fn)(void);
typedef struct testlib_case { const char *name; testlib_fn fn; } testlib_case;

static testlib_case testlib_cases[1024];
static int testlib_ncases;
static int testlib_failed_checks;
static int testlib_skipped;
static const char *testlib_skip_reason;

static void testlib_register(const char *name, testlib_fn fn) {
    if (testlib_ncases < (int)(sizeof testlib_cases / sizeof testlib_cases[0])) {
        testlib_cases[testlib_ncases].name = name;
        testlib_cases[testlib_ncases].fn = fn;
        testlib_ncases++;
    }
}

#define TEST(name)                                                           \
    static void test_##name(void);                                           \
    __attribute__((constructor)) static void testlib_reg_##name(void) {      \
        testlib_register(#name, test_##name);                                \
    }                                                                        \
    static void test_##name(void)

#define CHECK(cond)                                                          \
    do {                                                                     \
        if (!(cond)) {                                                       \
            testlib_failed_checks++;                                         \
            fprintf(stderr, "  %s:%d: CHECK(%s) failed\n", __FILE__,         \
                    __LINE__, #cond);                                        \
        }                                                                    \
    } while (0)

#define CHECK_EQ_INT(a, b)                                                   \
    do {                                                                     \
        long long testlib_a = (long long)(a), testlib_b = (long long)(b);    \
        if (testlib_a != testlib_b) {                                        \
            testlib_failed_checks++;                                         \
            fprintf(stderr, "  %s:%d: %s == %s failed: %lld != %lld\n",      \
                    __FILE__, __LINE__, #a, #b, testlib_a, testlib_b);       \
        }                                                                    \
    } while (0)

#define CHECK_EQ_STR(a, b)                                                   \
    do {                                                                     \
        const char *testlib_a = (a), *testlib_b = (b);                       \
        if (!testlib_a || !testlib_b || strcmp(testlib_a, testlib_b) != 0) { \
            testlib_failed_checks++;                                         \
            fprintf(stderr, "  %s:%d: %s == %s failed: \"%s\" != \"%s\"\n",  \
                    __FILE__, __LINE__, #a, #b,                              \
                    testlib_a ? testlib_a : "(null)",                        \
                    testlib_b ? testlib_b : "(null)");                       \
        }                                                                    \
    } while (0)

#define CHECK_EQ_MEM(a, alen, b, blen)                                       \
    do {                                                                     \
        size_t testlib_al = (size_t)(alen), testlib_bl = (size_t)(blen);     \
        if (testlib_al != testlib_bl ||                                      \
            (testlib_al && memcmp((a), (b), testlib_al) != 0)) {             \
            testlib_failed_checks++;                                         \
            fprintf(stderr, "  %s:%d: %s (%zu bytes) != %s (%zu bytes)\n",   \
                    __FILE__, __LINE__, #a, testlib_al, #b, testlib_bl);     \
        }                                                                    \
    } while (0)

/* Marks the running test as skipped (counted apart, with the reason). */
#define SKIP(reason) do { testlib_skip_reason = (reason); return; } while (0)

static int testlib_main(int argc, char **argv) {
    int passed = 0, failed = 0, i;
    for (i = 0; i < testlib_ncases; i++) {
        int before = testlib_failed_checks;
        if (argc > 1 && !strstr(testlib_cases[i].name, argv[1])) continue;
        testlib_skip_reason = NULL;
        testlib_cases[i].fn();
        if (testlib_skip_reason) {
            testlib_skipped++;
            fprintf(stderr, "skip %s: %s\n", testlib_cases[i].name, testlib_skip_reason);
        } else if (testlib_failed_checks == before) {
            passed++;
        } else {
            failed++;
            fprintf(stderr, "FAIL %s\n", testlib_cases[i].name);
        }
    }
    if (testlib_skipped)
        printf("%d passed, %d failed, %d skipped\n", passed, failed, testlib_skipped);
    else
        printf("%d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}
#endif
