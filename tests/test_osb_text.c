/* test_osb_text.c -- the text conversions of osb (tools/osb), which prints
 * without the C library's printf, strtod, sscanf and strftime: each is held
 * against what those functions give for the same input (the C library is
 * the reference here, so osb's output stays byte-identical to before).
 *   fmt_fixed   "%.Nf" (N = 0..2)          utc_text     gmtime + strftime
 *   py_float    the former %.*e + strtod    dt_parse     the former sscanf
 *   scan_decimal / parse_duration           strtod         toml_value  strtod
 *   parse_int                               strtoll
 * The CLI is compiled in here whole (its main renamed). */
#define main osb_cli_main
#include "../tools/osb/main.c"
#undef main
#include "testlib.h"
#include <time.h>

static uint64_t rnd_state = 0x9e3779b97f4a7c15ull;
static uint64_t rnd(void) {
    rnd_state ^= rnd_state << 13;
    rnd_state ^= rnd_state >> 7;
    rnd_state ^= rnd_state << 17;
    return rnd_state;
}

/* A double of every kind: random bits, small decimals and their ties,
 * sizes, percentages. */
static double some_double(int i) {
    uint64_t bits = rnd();
    double v;
    switch (i % 5) {
    case 0: memcpy(&v, &bits, sizeof v); return v;
    case 1: return (double)(bits % 2000000) / 1000.0;               /* 3 decimals: ties for .2f */
    case 2: return (double)(bits % 200000) / 200.0 - 500;           /* halves of a cent */
    case 3: return (double)(bits % 100000000000ull) / 8.0;          /* exact binary fractions */
    default: return (double)(bits % 1000000) * 1e-6 * (double)((uint64_t)1 << (bits % 40));
    }
}

TEST(fixed_decimals_agree_with_printf) {
    static const double fixed[] = {0, -0.0, 0.05, 0.005, 0.125, 0.375, 2.675, 1.005, 1023.95, 1023.96, 99.995,
                                   0.5, 1.5, 2.5, -2.5, 1e16, 9.999999999999999e16, 123456789.125, 4.35, 5e-324};
    int i, d, bad = 0;
    for (i = 0; i < 10000; i++) {
        double v = i < (int)(sizeof fixed / sizeof fixed[0]) ? fixed[i] : some_double(i);
        if (v != v || v > 1e17 || v < -1e17) continue;
        for (d = 0; d <= 2; d++) {
            char libc[400], ours[48];
            snprintf(libc, sizeof libc, "%.*f", d, v);
            if (strcmp(fmt_fixed(ours, v, d), libc) != 0 && bad++ < 5)
                fprintf(stderr, "  %%.%df of %.17g: %s, printf %s\n", d, v, ours, libc);
        }
    }
    CHECK_EQ_INT(bad, 0);
    {
        char out[48];
        CHECK_EQ_STR(fmt_fixed(out, 1e300, 2), "1.0000000000000001e+300");   /* beyond 1e17: %.17g */
        CHECK_EQ_STR(fmt_fixed(out, HUGE_VAL, 1), "inf");
        CHECK_EQ_STR(fmt_fixed(out, -HUGE_VAL, 1), "-inf");
    }
}

TEST(g6_agrees_with_printf) {
    int i, bad = 0;
    for (i = 0; i < 5000; i++) {
        double v = some_double(i);
        char libc[64], ours[40];
        if (v != v || v > DBL_MAX || v < -DBL_MAX) continue;
        snprintf(libc, sizeof libc, "%g", v);
        osb__double_g(ours, v, 6);
        if (strcmp(ours, libc) != 0 && bad++ < 5) fprintf(stderr, "  %%g of %.17g: %s, printf %s\n", v, ours, libc);
    }
    CHECK_EQ_INT(bad, 0);
}

/* The digits py_float chose before: the first %.*e that strtod reads back. */
static void py_float_libc(double d, char *out, size_t cap) {
    char e[64], digits[32];
    int prec, nd = 0;
    const char *p;
    for (prec = 0; prec < 17; prec++) {
        snprintf(e, sizeof e, "%.*e", prec, d);
        if (strtod(e, NULL) == d) break;
    }
    p = e;
    if (*p == '-') p++;
    for (; *p && *p != 'e'; p++)
        if (isdigit((unsigned char)*p) && nd < (int)sizeof digits - 1) digits[nd++] = *p;
    digits[nd] = 0;
    while (nd > 1 && digits[nd - 1] == '0') digits[--nd] = 0;
    py_float_layout(d < 0 || (d == 0 && 1 / d < 0), digits, atoi(p + 1), out, cap);
}

TEST(python_floats_as_before) {
    static const double fixed[] = {0, -0.0, 2.0, 0.1, 1e-5, 1e16, 1e15, 123456789012345678.0, 0.0001, 5e-324,
                                   1.7976931348623157e308, -1.5, 2.5e-7, 100.0, 1e22};
    int i, bad = 0;
    char ours[64], libc[64];
    for (i = 0; i < 5000; i++) {
        double v = i < (int)(sizeof fixed / sizeof fixed[0]) ? fixed[i] : some_double(i);
        if (v != v || v > DBL_MAX || v < -DBL_MAX) continue;
        py_float(v, ours, sizeof ours);
        py_float_libc(v, libc, sizeof libc);
        if (strcmp(ours, libc) != 0 && bad++ < 5) fprintf(stderr, "  repr %.17g: %s, before %s\n", v, ours, libc);
    }
    CHECK_EQ_INT(bad, 0);
    py_float(HUGE_VAL, ours, sizeof ours);
    CHECK_EQ_STR(ours, "Infinity");
    {   /* a number beyond the doubles reads as infinity, as strtod */
        jv n;
        memset(&n, 0, sizeof n);
        n.s = (char *)"-1e999";
        n.n = 6;
        CHECK(jv_double(&n) == -HUGE_VAL);
    }
}

TEST(utc_text_agrees_with_strftime) {
    int i, bad = 0;
    for (i = 0; i < 20000; i++) {
        long long t = i < 3 ? (long long[]){0, -1, 951782400}[i]
                            : (long long)(rnd() % 400000000000ull) - 100000000000ll;   /* year -1200 to 14600 */
        time_t tt = (time_t)t;
        struct tm tm;
        char libc[64], ours[40];
        if (!gmtime_r(&tt, &tm) || tm.tm_year + 1900 < 0 || tm.tm_year + 1900 > 9999) continue;
        strftime(libc, sizeof libc, "%Y-%m-%dT%H:%M:%S", &tm);
        if (tm.tm_year + 1900 < 1000) continue;   /* %Y pads differently among C libraries */
        utc_text(t, ours);
        if (strcmp(ours, libc) != 0 && bad++ < 5) fprintf(stderr, "  %lld: %s, strftime %s\n", t, ours, libc);
    }
    CHECK_EQ_INT(bad, 0);
}

static const char *dt_again(const char *s) {
    static osb_buf b;
    dtime t;
    b.len = 0;
    if (dt_parse(s, &t) != 0) return "invalid";
    dt_format(&t, 0, &b);
    return bstr(&b);
}

TEST(datetimes_read_without_sscanf) {
    CHECK_EQ_STR(dt_again("2026-01-02T03:04:05Z"), "2026-01-02T03:04:05Z");
    CHECK_EQ_STR(dt_again("2026-01-02 03:04:05.5+08:00"), "2026-01-02T03:04:05.500000+08:00");
    CHECK_EQ_STR(dt_again("2026-01-02t03:04:05,1234567-0130"), "2026-01-02T03:04:05.123456-01:30");
    CHECK_EQ_STR(dt_again("2026-01-02T03:04:05+05"), "2026-01-02T03:04:05+05:00");
    CHECK_EQ_STR(dt_again("2026-01-02T03:04:05+00:00"), "2026-01-02T03:04:05Z");
    CHECK_EQ_STR(dt_again("2026-01-02T03:04:05"), "2026-01-02T03:04:05");
    CHECK_EQ_STR(dt_again("2026-01-02T03:04:05.Z"), "invalid");
    CHECK_EQ_STR(dt_again("2026-1-02T03:04:05Z"), "invalid");
    CHECK_EQ_STR(dt_again("2026-01-02T03:04"), "invalid");
    CHECK_EQ_STR(dt_again("2026-01-02T03:04:05+5"), "invalid");
    CHECK_EQ_STR(dt_again("2026-01-02T03:04:05Zx"), "invalid");
    CHECK_EQ_STR(dt_again(""), "invalid");
}

TEST(durations_read_as_strtod_did) {
    static const struct { const char *in; double want; } ok[] = {
        {"90", 90}, {"2.5", 2.5}, {"1e3", 1000}, {"007", 7}, {" 10m", 600}, {"1h30m", 5400},
        {"1h30m45s", 5445}, {"2d", 172800}, {"500ms", 0.5}, {"1.5h", 5400}, {".5m", 30}, {"2.h", 7200},
        {"1e1s", 10}, {"0", 0}};
    static const char *const bad[] = {"", " ", "h", "1x", "1h2", "-5", "1 h", ".", "1e", "e5", "1h-2m", "0x10"};
    size_t i;
    for (i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        double v = -1;
        CHECK_EQ_INT(parse_duration(ok[i].in, &v), 0);
        if (v != ok[i].want) fprintf(stderr, "  %s: %.17g\n", ok[i].in, v);
        CHECK(v == ok[i].want);
    }
    for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        double v;
        if (parse_duration(bad[i], &v) != -1) fprintf(stderr, "  '%s' was read\n", bad[i]);
        CHECK_EQ_INT(parse_duration(bad[i], &v), -1);
    }
    {   /* random decimals: exactly what strtod reads */
        int k, wrong = 0;
        for (k = 0; k < 3000; k++) {
            char t[64];
            double v = -1;
            snprintf(t, sizeof t, "%.*f", (int)(rnd() % 12), (double)(rnd() % 100000000) / 997.0);
            if (parse_duration(t, &v) != 0 || v != strtod(t, NULL)) wrong++;
        }
        CHECK_EQ_INT(wrong, 0);
    }
}

static const char *toml_of(const char *v) {
    static osb_buf b;
    b.len = 0;
    toml_value(&b, v);
    return bstr(&b);
}

TEST(config_values_typed_as_before) {
    CHECK_EQ_STR(toml_of("true"), "true");
    CHECK_EQ_STR(toml_of("FALSE"), "false");
    CHECK_EQ_STR(toml_of("30"), "30");
    CHECK_EQ_STR(toml_of("-7"), "-7");
    CHECK_EQ_STR(toml_of("2.5"), "2.5");
    CHECK_EQ_STR(toml_of(".5"), ".5");
    CHECK_EQ_STR(toml_of("5."), "5.");
    CHECK_EQ_STR(toml_of("-1.5e-3"), "-1.5e-3");
    CHECK_EQ_STR(toml_of("1E5"), "1E5");
    CHECK_EQ_STR(toml_of("1e"), "\"1e\"");
    CHECK_EQ_STR(toml_of("."), "\".\"");
    CHECK_EQ_STR(toml_of("-"), "\"-\"");
    CHECK_EQ_STR(toml_of("1.2.3"), "\"1.2.3\"");
    CHECK_EQ_STR(toml_of("inf"), "\"inf\"");
    CHECK_EQ_STR(toml_of("a\"b"), "\"a\\\"b\"");
}

/* parse_int against strtoll (what it replaced) on integers of every
 * length, at the limits, with space, signs and junk around them. */
static void int_agrees(const char *s, int *bad) {
    char *end;
    long long want, got = 0;
    int ok;
    errno = 0;
    want = strtoll(s, &end, 10);
    ok = *s && !errno && !*end && want >= -1000000 && want <= 4294967294LL;
    if ((parse_int(s, -1000000, 4294967294LL, &got) == 0) != ok || (ok && got != want)) {
        if ((*bad)++ < 5) fprintf(stderr, "parse_int(\"%s\") = %lld, strtoll %lld (%s)\n", s, got, want, ok ? "ok" : "error");
    }
    ok = *s && !errno && !*end;
    if ((parse_int(s, INT64_MIN, INT64_MAX, &got) == 0) != ok || (ok && got != want)) {
        if ((*bad)++ < 5) fprintf(stderr, "parse_int(\"%s\", full range) = %lld, strtoll %lld\n", s, got, want);
    }
}

TEST(integers_read_as_strtoll_reads_them) {
    static const char *const fixed[] = {"", " ", "+", "-", "0", "-0", "+0", "007", " 42", "\t-7", "42 ", "4x", "0x10",
                                        "1e3", "--1", "+-1", "9223372036854775807", "9223372036854775808",
                                        "-9223372036854775808", "-9223372036854775809", "99999999999999999999",
                                        "4294967294", "4294967295", "-1000000", "-1000001", "1.0"};
    static const char pieces[] = " +-0123456789x";
    char buf[32];
    int i, k, bad = 0;
    for (i = 0; i < (int)(sizeof fixed / sizeof fixed[0]); i++) int_agrees(fixed[i], &bad);
    for (i = 0; i < 50000; i++) {
        int n = (int)(rnd() % 22);
        for (k = 0; k < n; k++) buf[k] = k < 2 || rnd() % 8 == 0 ? pieces[rnd() % (sizeof pieces - 1)] : (char)('0' + rnd() % 10);
        buf[n] = 0;
        int_agrees(buf, &bad);
    }
    CHECK_EQ_INT(bad, 0);
}

TEST(sizes_as_progress_prints_them) {
    char out[64];
    human(0, out);
    CHECK_EQ_STR(out, "0 B");
    human(1023, out);
    CHECK_EQ_STR(out, "1023 B");
    human(1024, out);
    CHECK_EQ_STR(out, "1.0 KiB");
    human(1048575, out);
    CHECK_EQ_STR(out, "1024.0 KiB");
    human(10.0 * 1024 * 1024 * 1024 * 1024 * 1024, out);
    CHECK_EQ_STR(out, "10240.0 TiB");
}

int main(int argc, char **argv) { return testlib_main(argc, argv); }
