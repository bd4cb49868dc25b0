/* test_tokens.c -- the JSON tokenizer and writer, binding, event stream,
 * multipart and URL helpers. Every tokenizer case runs whole, one byte at a
 * time and at pseudo-random split points (several seeds, two scratch sizes),
 * with each chunk ending at a PROT_NONE guard page; all runs must give the
 * same transcript. */
#define _DEFAULT_SOURCE 1 /* mmap and MAP_ANONYMOUS for the guard pages */
#define OPENSANDBOX_IMPLEMENTATION
#include "../opensandbox.h"
#include "testlib.h"
#include <locale.h>
#include <math.h>

#define OSB_FEED_GUARD 1
#include "fuzz/feed.h"

/* ---- JSON: differential runner ------------------------------------------- */

/* Runs doc through every plan; returns the transcript of the whole run (to
 * free) after checking every other plan agrees with it. */
static char *json_all(const char *doc, size_t len) {
    static const size_t scratch[] = {OSB_JSON_MIN_SCRATCH, 13, 256};
    feed_out ref = {NULL, 0, 0};
    size_t si;
    uint32_t seed;
    feed_plan whole = {FEED_WHOLE, 0};
    feed_json(doc, len, whole, 256, &ref);
    for (si = 0; si < sizeof scratch / sizeof scratch[0]; si++) {
        feed_plan plans[6];
        int k, np = 0;
        plans[np].kind = FEED_WHOLE; plans[np++].seed = 0;
        plans[np].kind = FEED_BYTES; plans[np++].seed = 0;
        for (seed = 1; seed <= 4; seed++) {
            plans[np].kind = FEED_RANDOM;
            plans[np++].seed = seed * 2654435761u;
        }
        for (k = 0; k < np; k++) {
            feed_out o = {NULL, 0, 0};
            feed_json(doc, len, plans[k], scratch[si], &o);
            if (strcmp(o.p ? o.p : "", ref.p ? ref.p : "") != 0) {
                testlib_failed_checks++;
                fprintf(stderr, "  differential mismatch (plan %d seed %u scratch %zu) for %.60s\n"
                                "    whole: %s\n    split: %s\n",
                        plans[k].kind, plans[k].seed, scratch[si], doc, ref.p ? ref.p : "",
                        o.p ? o.p : "");
            }
            feed_free(&o);
        }
    }
    return ref.p ? ref.p : (char *)calloc(1, 1);
}

static void json_expect(const char *doc, const char *want, int line) {
    char *got = json_all(doc, strlen(doc));
    if (strcmp(got, want) != 0) {
        testlib_failed_checks++;
        fprintf(stderr, "  line %d: %s\n    want: %s\n    got:  %s\n", line, doc, want, got);
    }
    free(got);
}
#define JSON_EXPECT(doc, want) json_expect(doc, want, __LINE__)

/* The error code of a document ("E11@..." -> 11), 0 when it parsed. */
static int json_err(const char *doc, size_t len) {
    char *got = json_all(doc, len);
    char *e = strrchr(got, 'E');
    int code = 0;
    if (got[0] && got[strlen(got) - 1] != '$' && e) code = atoi(e + 1);
    free(got);
    return code;
}

TEST(json_tokens_basic) {
    JSON_EXPECT("{}", "{0 }0 $");
    JSON_EXPECT("[]", "[0 ]0 $");
    JSON_EXPECT(" \t\r\n[ 1 , -2.5e+3 ,true,false, null ] \n", "[0 N@6:1 N@10:-2.5e+3 t1 f1 n1 ]0 $");
    JSON_EXPECT("{\"a\":{\"b\":[\"c\"]}}", "{0 K@1:a {1 K@6:b [2 S@11:c ]2 }1 }0 $");
    JSON_EXPECT("\"top\"", "S@0:top $");
    JSON_EXPECT("0", "N@0:0 $");
    JSON_EXPECT("-0", "N@0:-0 $");
    JSON_EXPECT("123456789012345678901234567890", "N@0:123456789012345678901234567890 $");
    JSON_EXPECT("1E400", "N@0:1E400 $");
    JSON_EXPECT("true", "t0 $");
    JSON_EXPECT("null", "n0 $");
    JSON_EXPECT("{\"\":\"\"}", "{0 K@1: S@4: }0 $");
}

TEST(json_escapes) {
    JSON_EXPECT("\"\\\"\\\\\\/\\b\\f\\n\\r\\t\"", "S@0:\"\\x5c/\\x08\\x0c\\x0a\\x0d\\x09 $");
    JSON_EXPECT("\"\\u0041\\u00e9\\u20AC\\ud83d\\ude00\"", "S@0:A\\xc3\\xa9\\xe2\\x82\\xac\\xf0\\x9f\\x98\\x80 $");
    JSON_EXPECT("\"a\\u0000b\"", "S@0:a\\x00b $");                  /* escaped NUL is allowed */
    JSON_EXPECT("\"\\u003cscript\\u003e\\u0026\"", "S@0:<script>& $"); /* Go's HTML-safe escapes */
    JSON_EXPECT("\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\"", "S@0:\\xc3\\xa9\\xe2\\x82\\xac\\xf0\\x9f\\x98\\x80 $");
    JSON_EXPECT("{\"k\\u00e9y\":1}", "{0 K@1:k\\xc3\\xa9y N@12:1 }0 $");
}

TEST(json_long_strings_arrive_whole) {
    /* longer than every scratch size: pieces, joined, must equal the text */
    char doc[3000], want[3100];
    int i;
    doc[0] = '"';
    for (i = 1; i < 2000; i++) doc[i] = (char)('a' + i % 26);
    memcpy(doc + 2000, "\\n\xe2\x82\xac\"", 6);
    doc[2006] = 0;
    memcpy(want, "S@0:", 4);
    memcpy(want + 4, doc + 1, 1999);
    strcpy(want + 2003, "\\x0a\\xe2\\x82\\xac $");
    JSON_EXPECT(doc, want);
    /* a long number too */
    memset(doc, '7', 1500);
    strcpy(doc + 1500, "e-5");
    memcpy(want, "N@0:", 4);
    memcpy(want + 4, doc, 1503);
    strcpy(want + 1507, " $");
    JSON_EXPECT(doc, want);
}

TEST(json_invalid_documents) {
    static const struct { const char *doc; int code; } cases[] = {
        {"[1,]", OSB_ERR_JSON},           {"{\"a\":1,}", OSB_ERR_JSON},
        {"[01]", OSB_ERR_JSON},           {"[-]", OSB_ERR_JSON},
        {"[1.]", OSB_ERR_JSON},           {"[.5]", OSB_ERR_JSON},
        {"[1e]", OSB_ERR_JSON},           {"[+1]", OSB_ERR_JSON},
        {"[1.5e+]", OSB_ERR_JSON},        {"[0x10]", OSB_ERR_JSON},
        {"[tru]", OSB_ERR_JSON},          {"[True]", OSB_ERR_JSON},
        {"[nul1]", OSB_ERR_JSON},         {"{\"a\" 1}", OSB_ERR_JSON},
        {"{a:1}", OSB_ERR_JSON},          {"{\"a\":1 \"b\":2}", OSB_ERR_JSON},
        {"[1 2]", OSB_ERR_JSON},          {"[1}", OSB_ERR_JSON},
        {"{]", OSB_ERR_JSON},             {"]", OSB_ERR_JSON},
        {"{} {}", OSB_ERR_JSON},          {"1 2", OSB_ERR_JSON},
        {"\"a\"x", OSB_ERR_JSON},         {"[\"\\x\"]", OSB_ERR_JSON},
        {"[\"\\u12\"]", OSB_ERR_JSON},    {"[\"\\u12G4\"]", OSB_ERR_JSON},
        {"\"\\ud800\"", OSB_ERR_JSON},    {"\"\\udc00\"", OSB_ERR_JSON},
        {"\"\\ud800\\u0041\"", OSB_ERR_JSON}, {"\"\\ud800x\"", OSB_ERR_JSON},
        {"\"\\ud800\\n\"", OSB_ERR_JSON}, {"\"\\ud83d\\ud83d\"", OSB_ERR_JSON},
        {"\"a\tb\"", OSB_ERR_JSON},       {"\"a\nb\"", OSB_ERR_JSON},
        {"\"\xc0\xaf\"", OSB_ERR_JSON},   {"\"\xe0\x80\xaf\"", OSB_ERR_JSON},
        {"\"\xed\xa0\x80\"", OSB_ERR_JSON}, {"\"\xf4\x90\x80\x80\"", OSB_ERR_JSON},
        {"\"\xff\"", OSB_ERR_JSON},       {"\"\x80\"", OSB_ERR_JSON},
        {"\"\xc3\"", OSB_ERR_JSON},       {"\"\xe2\x82\"", OSB_ERR_JSON},
        {"\xef\xbb\xbf{}", OSB_ERR_JSON}, {"[NaN]", OSB_ERR_JSON},
        {"[Infinity]", OSB_ERR_JSON},     {"[-Infinity]", OSB_ERR_JSON},
        {"['a']", OSB_ERR_JSON},          {"[1,,2]", OSB_ERR_JSON},
        {"[,1]", OSB_ERR_JSON},           {"{\"a\"}", OSB_ERR_JSON},
        {"[\f]", OSB_ERR_JSON},           {"[1]\x01", OSB_ERR_JSON},
        /* truncated is not malformed */
        {"", OSB_ERR_TRUNCATED},          {"   ", OSB_ERR_TRUNCATED},
        {"{", OSB_ERR_TRUNCATED},         {"[1,", OSB_ERR_TRUNCATED},
        {"{\"a\"", OSB_ERR_TRUNCATED},    {"{\"a\":", OSB_ERR_TRUNCATED},
        {"\"abc", OSB_ERR_TRUNCATED},     {"\"a\\", OSB_ERR_TRUNCATED},
        {"\"\\u00", OSB_ERR_TRUNCATED},   {"\"\\ud83d", OSB_ERR_TRUNCATED},
        {"\"\\ud83d\\", OSB_ERR_TRUNCATED}, {"\"\xe2\x82", OSB_ERR_TRUNCATED},
        {"tr", OSB_ERR_TRUNCATED},        {"-", OSB_ERR_TRUNCATED},
        {"1.", OSB_ERR_TRUNCATED},        {"1e", OSB_ERR_TRUNCATED},
        {"1e-", OSB_ERR_TRUNCATED},       {"[1", OSB_ERR_TRUNCATED},
    };
    size_t i;
    for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int got = json_err(cases[i].doc, strlen(cases[i].doc));
        if (got != cases[i].code) {
            testlib_failed_checks++;
            fprintf(stderr, "  case %zu %s: want %d got %d\n", i, cases[i].doc, cases[i].code, got);
        }
    }
    /* a raw NUL inside a string is a control character */
    CHECK_EQ_INT(json_err("\"a\0b\"", 5), OSB_ERR_JSON);
    CHECK_EQ_INT(json_err("[1]\0", 4), OSB_ERR_JSON);
}

TEST(json_error_offsets) {
    JSON_EXPECT("[1,]", "[0 N@1:1 E11@3");
    JSON_EXPECT("{\"a\":[tru]}", "{0 K@1:a [1 E11@9");
    JSON_EXPECT("[\"\xe2\x28\xa1\"]", "[0 E11@3");
    JSON_EXPECT("[1,2", "[0 N@1:1 N@3:2 E8@4");
    JSON_EXPECT("{} x", "{0 }0 E11@3");
}

TEST(json_depth_limit) {
    char doc[300];
    int i;
    for (i = 0; i < 64; i++) doc[i] = '[';
    for (i = 0; i < 64; i++) doc[64 + i] = ']';
    CHECK_EQ_INT(json_err(doc, 128), 0);
    for (i = 0; i < 65; i++) doc[i] = '[';
    for (i = 0; i < 65; i++) doc[65 + i] = ']';
    CHECK_EQ_INT(json_err(doc, 130), OSB_ERR_JSON);
    {
        /* 100,000 levels: bounded memory, no recursion, an error at 64 */
        size_t n = 100000;
        char *deep = (char *)malloc(n);
        memset(deep, '[', n);
        CHECK_EQ_INT(json_err(deep, n), OSB_ERR_JSON);
        free(deep);
    }
    {
        /* a raised limit (up to OSB_JSON_DEPTH_LIMIT) */
        osb_json j;
        osb_json_token t;
        char sc[16];
        int r, count = 0;
        memset(doc, '{', 1);
        osb_json_init(&j, sc, sizeof sc);
        j.max_depth = 200;
        for (i = 0; i < 150; i++) doc[i] = '[';
        for (i = 0; i < 150; i++) doc[150 + i] = ']';
        osb_json_feed(&j, doc, 300, 1);
        while ((r = osb_json_next(&j, &t)) > 0 && r != OSB_JSON_DONE) count++;
        CHECK_EQ_INT(r, OSB_JSON_DONE);
        CHECK_EQ_INT(count, 300);
    }
}

TEST(json_need_more_at_chunk_end) {
    osb_json j;
    osb_json_token t;
    char sc[16];
    osb_json_init(&j, sc, sizeof sc);
    osb_json_feed(&j, "[12", 3, 0);
    CHECK_EQ_INT(osb_json_next(&j, &t), OSB_JSON_ARRAY);
    CHECK_EQ_INT(osb_json_next(&j, &t), OSB_JSON_NEED_MORE); /* "12" may go on */
    CHECK_EQ_INT(osb_json_feed(&j, "3]", 2, 1), OSB_OK);
    CHECK_EQ_INT(osb_json_next(&j, &t), OSB_JSON_NUMBER);
    CHECK_EQ_MEM(t.ptr, t.len, "123", 3);
    CHECK_EQ_INT(osb_json_next(&j, &t), OSB_JSON_ARRAY_END);
    CHECK_EQ_INT(osb_json_next(&j, &t), OSB_JSON_DONE);
    /* a top-level number ends only with the input */
    osb_json_init(&j, sc, sizeof sc);
    osb_json_feed(&j, "42", 2, 0);
    CHECK_EQ_INT(osb_json_next(&j, &t), OSB_JSON_NEED_MORE);
    osb_json_feed(&j, NULL, 0, 1);
    CHECK_EQ_INT(osb_json_next(&j, &t), OSB_JSON_NUMBER);
    CHECK_EQ_INT(osb_json_next(&j, &t), OSB_JSON_DONE);
    /* feeding before the chunk is used up is refused */
    osb_json_init(&j, sc, sizeof sc);
    osb_json_feed(&j, "[1,2]", 5, 1);
    CHECK_EQ_INT(osb_json_next(&j, &t), OSB_JSON_ARRAY);
    CHECK_EQ_INT(osb_json_feed(&j, "x", 1, 1), OSB_ERR_STATE);
    /* a too small scratch buffer */
    CHECK_EQ_INT(osb_json_init(&j, sc, 4), OSB_ERR_INVALID_ARG);
    CHECK_EQ_INT(osb_json_next(&j, &t), OSB_JSON_ERROR);
}

TEST(json_skip) {
    osb_json j;
    osb_json_token t, first;
    char sc[8];
    const char *doc = "{\"a\":{\"x\":[1,{\"y\":\"long string here\"}]},\"b\":\"a very long string value\",\"c\":3}";
    size_t i;
    int r;
    /* byte by byte, so skip has to resume */
    osb_json_init(&j, sc, sizeof sc);
    osb_json_feed(&j, doc, 1, 0);
    i = 1;
    for (;;) {
        r = osb_json_next(&j, &t);
        if (r == OSB_JSON_NEED_MORE) { osb_json_feed(&j, doc + i, 1, i + 1 == strlen(doc)); i++; continue; }
        if (r == OSB_JSON_KEY && (t.ptr[0] == 'a' || t.ptr[0] == 'b')) {
            do {
                r = osb_json_next(&j, &first);
                if (r == OSB_JSON_NEED_MORE) { osb_json_feed(&j, doc + i, 1, i + 1 == strlen(doc)); i++; }
            } while (r == OSB_JSON_NEED_MORE);
            while ((r = osb_json_skip(&j, &first)) == OSB_JSON_NEED_MORE) {
                osb_json_feed(&j, doc + i, 1, i + 1 == strlen(doc));
                i++;
            }
            CHECK_EQ_INT(r, 1);
            continue;
        }
        if (r == OSB_JSON_KEY) CHECK(t.ptr[0] == 'c');
        if (r == OSB_JSON_NUMBER) CHECK_EQ_MEM(t.ptr, t.len, "3", 1);
        if (r <= 0 || r == OSB_JSON_DONE) break;
    }
    CHECK_EQ_INT(r, OSB_JSON_DONE);
}

TEST(json_conversions) {
    int64_t i;
    uint64_t u;
    double d;
    CHECK_EQ_INT(osb_json_to_i64("9223372036854775807", 19, &i), OSB_OK);
    CHECK(i == INT64_MAX);
    CHECK_EQ_INT(osb_json_to_i64("-9223372036854775808", 20, &i), OSB_OK);
    CHECK(i == INT64_MIN);
    CHECK_EQ_INT(osb_json_to_i64("9223372036854775808", 19, &i), OSB_ERR_RANGE);
    CHECK_EQ_INT(osb_json_to_i64("-9223372036854775809", 20, &i), OSB_ERR_RANGE);
    CHECK_EQ_INT(osb_json_to_u64("18446744073709551615", 20, &u), OSB_OK);
    CHECK(u == UINT64_MAX);
    CHECK_EQ_INT(osb_json_to_u64("18446744073709551616", 20, &u), OSB_ERR_RANGE);
    CHECK_EQ_INT(osb_json_to_u64("-1", 2, &u), OSB_ERR_RANGE);
    CHECK_EQ_INT(osb_json_to_u64("-0", 2, &u), OSB_OK);
    CHECK(u == 0);
    CHECK_EQ_INT(osb_json_to_i64("1e3", 3, &i), OSB_OK);
    CHECK_EQ_INT(i, 1000);
    CHECK_EQ_INT(osb_json_to_i64("4.0", 3, &i), OSB_OK);
    CHECK_EQ_INT(i, 4);
    CHECK_EQ_INT(osb_json_to_i64("1000e-3", 7, &i), OSB_OK);
    CHECK_EQ_INT(i, 1);
    CHECK_EQ_INT(osb_json_to_i64("1500e-3", 7, &i), OSB_ERR_RANGE);
    CHECK_EQ_INT(osb_json_to_i64("1.5", 3, &i), OSB_ERR_RANGE);
    CHECK_EQ_INT(osb_json_to_i64("1e-400", 6, &i), OSB_ERR_RANGE);
    CHECK_EQ_INT(osb_json_to_i64("0e999999999999", 14, &i), OSB_OK);
    CHECK_EQ_INT(i, 0);
    CHECK_EQ_INT(osb_json_to_i64("1e19", 4, &i), OSB_ERR_RANGE);
    CHECK_EQ_INT(osb_json_to_i64("1e999999999999999999", 20, &i), OSB_ERR_RANGE);
    CHECK_EQ_INT(osb_json_to_i64("0.000000000000000000000000001e27", 32, &i), OSB_OK);
    CHECK_EQ_INT(i, 1);
    CHECK_EQ_INT(osb_json_to_i64("12a", 3, &i), OSB_ERR_JSON);
    CHECK_EQ_INT(osb_json_to_i64("", 0, &i), OSB_ERR_JSON);
    CHECK_EQ_INT(osb_json_to_i64("01", 2, &i), OSB_ERR_JSON);
    CHECK_EQ_INT(osb_json_to_i64(" 1", 2, &i), OSB_ERR_JSON);
    CHECK_EQ_INT(osb_json_to_double("0.1", 3, &d), OSB_OK);
    CHECK(d == 0.1);
    CHECK_EQ_INT(osb_json_to_double("-2.5e-3", 7, &d), OSB_OK);
    CHECK(d == -2.5e-3);
    CHECK_EQ_INT(osb_json_to_double("1.7976931348623157e308", 22, &d), OSB_OK);
    CHECK(d == 1.7976931348623157e308);
    CHECK_EQ_INT(osb_json_to_double("1.8e308", 7, &d), OSB_ERR_RANGE);
    CHECK_EQ_INT(osb_json_to_double("-1e999999", 9, &d), OSB_ERR_RANGE);
    CHECK_EQ_INT(osb_json_to_double("1e-999999", 9, &d), OSB_OK);
    CHECK(d == 0);
    CHECK_EQ_INT(osb_json_to_double("4.9406564584124654e-324", 23, &d), OSB_OK);
    CHECK(d > 0 && d < 1e-323);
    CHECK_EQ_INT(osb_json_to_double("-0", 2, &d), OSB_OK);
    CHECK(d == 0 && signbit(d));
    CHECK_EQ_INT(osb_json_to_double("123456789012345678901234567890", 30, &d), OSB_OK);
    CHECK(d == 123456789012345678901234567890.0);
    CHECK_EQ_INT(osb_json_to_double("9007199254740993", 16, &d), OSB_OK);
    CHECK(d == 9007199254740992.0); /* ties to even */
    {
        /* 2^-1074 * 1.5 written with 800 digits: the sticky digit keeps
         * the rounding right when digits are cut */
        char big[1000];
        const char *half = "2.4703282292062327208828439643411068618252990130716238221279284125033775363510437593264991818081799618989828234772285886546332835517796989819938739800539093906315035659515570226392290858392449105184435931802849936536152500319370457678249219365623669863658480757001585769269903706311928279558551332927834338409351978015531246597263579574622766465272827220056374006485499977096599470454020828166226237857393450736339007967761930577506740176324673600968951340535537458516661134223766678604162159680461914467291840300530057530849048765391711386591646239524912623653881879636239373280423891018672348497668235089863388587925628302755995657524455507255189313690836254779186948667994968324049705821028513185451396213837722826145437693412532098591327667236328125e-324";
        CHECK_EQ_INT(osb_json_to_double(half, strlen(half), &d), OSB_OK);
        CHECK(d == 0.0); /* exactly half of the smallest subnormal: ties to even */
        memcpy(big, half, strlen(half) - 5);
        strcpy(big + strlen(half) - 5, "1e-324");
        CHECK_EQ_INT(osb_json_to_double(big, strlen(big), &d), OSB_OK);
        CHECK(d > 0); /* a hair above half rounds up */
    }
    /* conversions do not depend on the locale */
    if (setlocale(LC_NUMERIC, "de_DE.UTF-8") || setlocale(LC_NUMERIC, "fr_FR.UTF-8")) {
        CHECK_EQ_INT(osb_json_to_double("1.25e-30", 8, &d), OSB_OK);
        CHECK(d == 1.25e-30);
        setlocale(LC_NUMERIC, "C");
    }
}

/* The reader and the writer agree with the C library's own conversions
 * (correctly rounded both ways) on bit patterns over the whole range. */
TEST(json_doubles_agree_with_libc) {
    /* halfway between two subnormals; 768 significant digits, so the digits
     * kept before the sticky one must reach that far: ties to even (up) */
    static const char mid768[] =
            "1.2852679433818756136606632824275345449232125214997383336263936890068193916354439901613454687342"
            "675760201054242184846097423005567437421046154722295611157527265681577952931233295554119869530655"
            "217279256758904613721915881272143575803808790773185486597210907463587281510510215595371656417457"
            "791094926830853096098750221943499326534115159752765285359086012506169126996965764167073566067605"
            "462892874566289072397540622585136063139257633042347268091893233147447089043780982675016005323519"
            "029217889306650668833441181141107628936225225437977119279569112650647399207926233594541154150271"
            "291261214994816104150252765536770673085057702519783313706905483199683314465657688382522153276768"
            "890952078730607228940021634244362029786427229817695071147770624619965929014142602682113647460937"
            "5e-308";
    uint64_t x = 0x9e3779b97f4a7c15ull;
    double d = 0, want = 0x0.93df8432a8be6p-1022;
    int i, bad = 0;
    CHECK_EQ_INT(osb_json_to_double(mid768, strlen(mid768), &d), OSB_OK);
    CHECK(d == want);
    for (i = 0; i < 20000; i++) {
        char libc[64], ours[64];
        double v, back = 0;
        uint64_t bits;
        osb_buf b;
        osb_jw w;
        x ^= x << 13; x ^= x >> 7; x ^= x << 17;
        bits = i % 4 == 0 ? x & 0x800fffffffffffffull : x;       /* subnormals too */
        memcpy(&v, &bits, sizeof v);
        if (v != v || v > DBL_MAX || v < -DBL_MAX) continue;
        snprintf(libc, sizeof libc, "%.25e", v * 0.75);
        if (osb_json_to_double(libc, strlen(libc), &back) != OSB_OK || back != strtod(libc, NULL)) bad++;
        osb_buf_init(&b, NULL);
        osb_jw_init(&w, &b);
        osb_jw_double(&w, v);
        if (osb_jw_finish(&w) != OSB_OK) bad++;
        else {
            int prec;
            for (prec = 15; prec <= 17; prec++) {           /* libc's shortest %.Ng that reads back */
                snprintf(libc, sizeof libc, "%.*g", prec, v);
                if (strtod(libc, NULL) == v) break;
            }
            snprintf(ours, sizeof ours, "%.*s", (int)b.len, b.data);
            if (strcmp(ours, libc) != 0) {
                if (bad < 3) fprintf(stderr, "  %s vs libc %s\n", ours, libc);
                bad++;
            }
            if (osb_json_to_double(b.data, b.len, &back) != OSB_OK || back != v) bad++;
        }
        osb_buf_free(&b);
    }
    CHECK_EQ_INT(bad, 0);
}

/* Address text for error messages (RFC 5952), without the C library. */
TEST(ip_text) {
    static const struct { const char *in, *want; } cases[] = {
        {"::1", "::1"}, {"::", "::"}, {"1::", "1::"}, {"2001:DB8:0:0:0:0:0:1", "2001:db8::1"},
        {"1:0:1:0:1:0:1:0", "1:0:1:0:1:0:1:0"},               /* one zero group stays */
        {"1:0:0:1:0:0:1:1", "1::1:0:0:1:1"},                  /* equal runs: the first */
        {"1:0:0:1:0:0:0:1", "1:0:0:1::1"},                    /* the longest */
        {"0:0:0:0:0:ffff:102:304", "::ffff:1.2.3.4"}, {"fe80:0:0:0:0:0:0:a", "fe80::a"},
        {"0001:00a0:0b00:c000:0:0:0:0", "1:a0:b00:c000::"}, {"10.0.255.1", "10.0.255.1"},
        {"0.0.0.0", "0.0.0.0"},
    };
    uint64_t x = 0x2545f4914f6cdd1dull;
    unsigned char a[16], back[16];
    char text[46];
    size_t i, n;
    int k, bad = 0;
    for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        n = osb__parse_ip(cases[i].in, a);
        CHECK(n == 4 || n == 16);
        osb__ip_text(a, n, text);
        CHECK_EQ_STR(text, cases[i].want);
    }
    for (i = 0; i < 20000; i++) {      /* random addresses with zero runs read back the same */
        for (k = 0; k < 16; k++) {
            x ^= x << 13; x ^= x >> 7; x ^= x << 17;
            a[k] = x % 3 == 0 ? 0 : (unsigned char)(x >> 8);
        }
        osb__ip_text(a, 16, text);
        if (osb__parse_ip(text, back) != 16 || memcmp(a, back, 16) != 0) bad++;
    }
    CHECK_EQ_INT(bad, 0);
}

/* ---- JSON writer ------------------------------------------------------------ */

TEST(jsonw_buffer) {
    osb_buf b;
    osb_jw w;
    osb_buf_init(&b, NULL);
    osb_jw_init(&w, &b);
    osb_jw_object(&w);
    osb_jw_key(&w, "s");
    osb_jw_str(&w, "q\"b\\n\n\t\x01\x1f\x7f \xc3\xa9/");
    osb_jw_key(&w, "n");
    osb_jw_null(&w);
    osb_jw_key(&w, "np");
    osb_jw_str(&w, NULL);
    osb_jw_key(&w, "a");
    osb_jw_array(&w);
    osb_jw_int(&w, INT64_MIN);
    osb_jw_int(&w, 0);
    osb_jw_uint(&w, UINT64_MAX);
    osb_jw_bool(&w, 1);
    osb_jw_bool(&w, 0);
    osb_jw_double(&w, 0.1);
    osb_jw_double(&w, 4.0);
    osb_jw_double(&w, -1e300);
    osb_jw_double(&w, 5e-324);
    osb_jw_array(&w);
    osb_jw_array_end(&w);
    osb_jw_object(&w);
    osb_jw_object_end(&w);
    osb_jw_raw(&w, "{\"r\":1}", 7);
    osb_jw_array_end(&w);
    osb_jw_key_n(&w, "nul\0k", 5);
    osb_jw_str_n(&w, "a\0b", 3);
    osb_jw_object_end(&w);
    CHECK_EQ_INT(osb_jw_finish(&w), OSB_OK);
    CHECK_EQ_STR(b.data, "{\"s\":\"q\\\"b\\\\n\\n\\t\\u0001\\u001f\x7f \xc3\xa9/\",\"n\":null,\"np\":null,"
                         "\"a\":[-9223372036854775808,0,18446744073709551615,true,false,0.1,4,-1e+300,"
                         "4.94065645841247e-324,[],{},{\"r\":1}],\"nul\\u0000k\":\"a\\u0000b\"}");
    /* what it wrote reads back */
    CHECK_EQ_INT(json_err(b.data, b.len), 0);
    osb_buf_free(&b);
}

TEST(jsonw_misuse_is_sticky) {
    osb_buf b;
    osb_jw w;
    osb_buf_init(&b, NULL);
    osb_jw_init(&w, &b);
    osb_jw_object(&w);
    CHECK_EQ_INT(osb_jw_int(&w, 1), OSB_ERR_STATE);      /* value without key */
    CHECK_EQ_INT(osb_jw_key(&w, "a"), OSB_ERR_STATE);    /* sticky */
    CHECK_EQ_INT(osb_jw_finish(&w), OSB_ERR_STATE);
    osb_buf_free(&b);

    osb_buf_init(&b, NULL);
    osb_jw_init(&w, &b);
    osb_jw_array(&w);
    CHECK_EQ_INT(osb_jw_key(&w, "a"), OSB_ERR_STATE);    /* key in an array */
    osb_buf_free(&b);

    osb_buf_init(&b, NULL);
    osb_jw_init(&w, &b);
    CHECK_EQ_INT(osb_jw_str(&w, "\xff"), OSB_ERR_INVALID_ARG);
    osb_buf_free(&b);

    osb_buf_init(&b, NULL);
    osb_jw_init(&w, &b);
    CHECK_EQ_INT(osb_jw_str_n(&w, "\xe2\x82", 2), OSB_ERR_INVALID_ARG); /* cut character */
    osb_buf_free(&b);

    osb_buf_init(&b, NULL);
    osb_jw_init(&w, &b);
    CHECK_EQ_INT(osb_jw_double(&w, NAN), OSB_ERR_INVALID_ARG);
    osb_buf_free(&b);

    osb_buf_init(&b, NULL);
    osb_jw_init(&w, &b);
    CHECK_EQ_INT(osb_jw_double(&w, INFINITY), OSB_ERR_INVALID_ARG);
    osb_buf_free(&b);

    osb_buf_init(&b, NULL);
    osb_jw_init(&w, &b);
    osb_jw_int(&w, 1);
    CHECK_EQ_INT(osb_jw_int(&w, 2), OSB_ERR_STATE);      /* two top-level values */
    osb_buf_free(&b);

    osb_buf_init(&b, NULL);
    osb_jw_init(&w, &b);
    osb_jw_array(&w);
    CHECK_EQ_INT(osb_jw_object_end(&w), OSB_ERR_STATE);  /* mismatched close */
    osb_buf_free(&b);

    osb_buf_init(&b, NULL);
    osb_jw_init(&w, &b);
    osb_jw_array(&w);
    CHECK_EQ_INT(osb_jw_finish(&w), OSB_ERR_STATE);      /* still open */
    osb_buf_free(&b);

    osb_buf_init(&b, NULL);
    b.max = 10;
    osb_jw_init(&w, &b);
    osb_jw_str(&w, "0123456789abc");
    CHECK_EQ_INT(osb_jw_finish(&w), OSB_ERR_TOO_LARGE);
    osb_buf_free(&b);
}

typedef struct sink_state {
    osb_buf out;
    int calls;
    int stop_after;
} sink_state;

static int test_sink(void *user, const void *data, size_t len) {
    sink_state *s = (sink_state *)user;
    s->calls++;
    if (s->stop_after && s->calls >= s->stop_after) return 1;
    return osb_buf_append(&s->out, data, len) != OSB_OK;
}

TEST(jsonw_streamed) {
    sink_state s;
    osb_jw w;
    int i;
    char big[1000];
    memset(&s, 0, sizeof s);
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = 0;
    osb_jw_init_writer(&w, test_sink, &s);
    osb_jw_array(&w);
    for (i = 0; i < 100; i++) osb_jw_int(&w, i);
    osb_jw_str(&w, big);
    osb_jw_array_end(&w);
    CHECK_EQ_INT(osb_jw_finish(&w), OSB_OK);
    CHECK(s.calls > 1 && s.calls < 20);  /* staged, not one call per token */
    CHECK(s.out.len == 1 + 190 + 100 + 1001 + 1);
    CHECK_EQ_MEM(s.out.data, 6, "[0,1,2", 6);
    CHECK_EQ_INT(json_err(s.out.data, s.out.len), 0);
    osb_buf_free(&s.out);
    /* a writer that stops: cancelled, sticky */
    memset(&s, 0, sizeof s);
    s.stop_after = 1;
    osb_jw_init_writer(&w, test_sink, &s);
    osb_jw_array(&w);
    osb_jw_str(&w, big);
    CHECK_EQ_INT(osb_jw_array_end(&w), OSB_ERR_CANCELLED);
    CHECK_EQ_INT(osb_jw_finish(&w), OSB_ERR_CANCELLED);
    osb_buf_free(&s.out);
}

TEST(jsonw_doubles_round_trip) {
    static const double vals[] = {0.0, -0.0, 1.0, -1.5, 0.1, 0.2, 0.30000000000000004, 1e21, 1e22, 1e-7,
                                  123456789.123456789, 2.2250738585072014e-308, 5e-324,
                                  1.7976931348623157e308, 3.141592653589793, 100.0, 1e100};
    size_t i;
    for (i = 0; i < sizeof vals / sizeof vals[0]; i++) {
        osb_buf b;
        osb_jw w;
        double back = -1;
        osb_buf_init(&b, NULL);
        osb_jw_init(&w, &b);
        osb_jw_double(&w, vals[i]);
        CHECK_EQ_INT(osb_jw_finish(&w), OSB_OK);
        CHECK_EQ_INT(osb_json_to_double(b.data, b.len, &back), OSB_OK);
        CHECK(back == vals[i] && signbit(back) == signbit(vals[i]));
        CHECK_EQ_INT(json_err(b.data, b.len), 0);
        osb_buf_free(&b);
    }
    if (setlocale(LC_NUMERIC, "de_DE.UTF-8") || setlocale(LC_NUMERIC, "fr_FR.UTF-8")) {
        osb_buf b;
        osb_jw w;
        osb_buf_init(&b, NULL);
        osb_jw_init(&w, &b);
        osb_jw_double(&w, 1.5);
        osb_jw_finish(&w);
        CHECK_EQ_STR(b.data, "1.5");
        osb_buf_free(&b);
        setlocale(LC_NUMERIC, "C");
    }
}

/* ---- binding ------------------------------------------------------------------ */

typedef struct t_err { osb_str ename, evalue; osb_str *traceback; size_t traceback_count; } t_err;
typedef struct t_item {
    osb_str id;
    int64_t n;
    uint64_t u;
    int small;
    double d;
    int ok;
    osb_str extra;
    t_err error;
    osb_str raw;
} t_item;
typedef struct t_list {
    t_item *items;
    size_t items_count;
    osb_kv *metadata;
    size_t metadata_count;
    int64_t *nums;
    size_t nums_count;
    osb_str raw;
} t_list;

static const osb_field t_err_fields[] = {
    OSB_FIELD_STR(t_err, ename, "ename"),
    OSB_FIELD_STR(t_err, evalue, "evalue"),
    OSB_FIELD_ARRAY(t_err, traceback, traceback_count, "traceback", OSB_KIND_STR),
};
static const osb_type t_err_type = OSB_TYPE(t_err, t_err_fields);
static const osb_field t_item_fields[] = {
    OSB_FIELD_STR(t_item, id, "id"),
    OSB_FIELD_I64(t_item, n, "n"),
    OSB_FIELD_U64(t_item, u, "u"),
    OSB_FIELD_INT(t_item, small, "small"),
    OSB_FIELD_DOUBLE(t_item, d, "d"),
    OSB_FIELD_BOOL(t_item, ok, "ok"),
    OSB_FIELD_RAW(t_item, extra, "extra"),
    OSB_FIELD_OBJECT(t_item, error, "error", &t_err_type),
};
static const osb_type t_item_type = OSB_TYPE_RAW(t_item, t_item_fields, raw);
static const osb_field t_list_fields[] = {
    OSB_FIELD_ARRAY_OF(t_list, items, items_count, "items", &t_item_type),
    OSB_FIELD_MAP(t_list, metadata, metadata_count, "metadata"),
    OSB_FIELD_ARRAY(t_list, nums, nums_count, "nums", OSB_KIND_I64),
};
static const osb_type t_list_type = OSB_TYPE_RAW(t_list, t_list_fields, raw);

/* An allocator that counts and can be told to fail. */
typedef struct count_alloc {
    int allocs, frees;
    int fail;
} count_alloc;
static void *ca_alloc(void *ctx, size_t n) {
    count_alloc *c = (count_alloc *)ctx;
    if (c->fail) return NULL;
    c->allocs++;
    return malloc(n);
}
static void ca_free(void *ctx, void *p) {
    ((count_alloc *)ctx)->frees++;
    free(p);
}

static osb_err bind_str(const osb_type *t, const char *doc, void **out, osb_error *err) {
    return osb_bind(t, doc, strlen(doc), NULL, out, err);
}

/* A field table row has no padding (the binder's tables are most of the
 * library's read-only data): four pointer-sized members, then two kinds. */
TEST(bind_field_row_has_no_padding) {
    CHECK_EQ_INT(sizeof(osb_field), 2 * sizeof(void *) + 2 * sizeof(size_t) + 2 * sizeof(osb_kind));
    CHECK_EQ_INT(t_list_fields[0].kind, OSB_KIND_ARRAY);
    CHECK_EQ_INT(t_list_fields[0].elem, OSB_KIND_OBJECT);
    CHECK(t_list_fields[0].type == &t_item_type);
    CHECK_EQ_INT(t_list_fields[1].kind, OSB_KIND_MAP);
    CHECK_EQ_INT(t_list_fields[2].kind, OSB_KIND_ARRAY);
    CHECK_EQ_INT(t_list_fields[2].elem, OSB_KIND_I64);
    CHECK(t_list_fields[2].type == NULL);
    CHECK_EQ_INT(t_list_fields[2].count_offset, offsetof(t_list, nums_count));
}

TEST(bind_full) {
    const char *doc =
        "{\"items\":[{\"id\":\"a\\u00e9\",\"n\":-5,\"u\":18446744073709551615,\"small\":7,\"d\":2.5,"
        "\"ok\":true,\"extra\":{\"x\":[1,2]},\"unknown\":{\"deep\":[[[]]]},\"error\":{\"ename\":\"E\","
        "\"evalue\":\"2\",\"traceback\":[\"l1\",\"l2\"]}},"
        "{\"id\":null,\"ok\":false,\"error\":{\"traceback\":null}},{}],"
        "\"metadata\":{\"team\":\"core\",\"n\":3,\"esc\":\"a\\\"b\"},\"nums\":[1,2,3],\"zzz\":\"skip\"}";
    t_list *l = NULL;
    osb_error err;
    count_alloc ca;
    osb_allocator a;
    memset(&ca, 0, sizeof ca);
    a.alloc = ca_alloc;
    a.realloc = NULL;
    a.free = ca_free;
    a.ctx = &ca;
    CHECK_EQ_INT(osb_bind(&t_list_type, doc, strlen(doc), &a, (void **)&l, &err), OSB_OK);
    CHECK_EQ_INT(ca.allocs, 1);  /* one block */
    if (!l) return;
    CHECK_EQ_INT(l->items_count, 3);
    CHECK_EQ_STR(l->items[0].id.ptr, "a\xc3\xa9");
    CHECK_EQ_INT(l->items[0].id.len, 3);
    CHECK_EQ_INT(l->items[0].n, -5);
    CHECK(l->items[0].u == UINT64_MAX);
    CHECK_EQ_INT(l->items[0].small, 7);
    CHECK(l->items[0].d == 2.5);
    CHECK_EQ_INT(l->items[0].ok, 1);
    CHECK_EQ_STR(l->items[0].extra.ptr, "{\"x\":[1,2]}");
    CHECK_EQ_STR(l->items[0].error.ename.ptr, "E");
    CHECK_EQ_INT(l->items[0].error.traceback_count, 2);
    CHECK_EQ_STR(l->items[0].error.traceback[1].ptr, "l2");
    CHECK(l->items[0].raw.ptr && l->items[0].raw.ptr[0] == '{' &&
          l->items[0].raw.ptr[l->items[0].raw.len - 1] == '}' && l->items[0].raw.ptr[l->items[0].raw.len] == 0);
    CHECK(l->items[1].id.ptr == NULL);
    CHECK_EQ_INT(l->items[1].ok, 0);
    CHECK(l->items[1].error.traceback == NULL);
    CHECK_EQ_STR(l->items[2].raw.ptr, "{}");
    CHECK_EQ_INT(l->metadata_count, 3);
    CHECK_EQ_STR(l->metadata[0].key.ptr, "team");
    CHECK_EQ_STR(l->metadata[0].value.ptr, "core");
    CHECK_EQ_STR(l->metadata[1].value.ptr, "3");
    CHECK_EQ_STR(l->metadata[2].value.ptr, "a\"b");
    CHECK_EQ_INT(l->nums_count, 3);
    CHECK_EQ_INT(l->nums[2], 3);
    CHECK_EQ_MEM(l->raw.ptr, l->raw.len, doc, strlen(doc));
    CHECK(osb_result_size(l) > sizeof(t_list));
    /* everything lies inside the one block */
    CHECK((const char *)l->items[0].error.traceback[1].ptr < (const char *)l + osb_result_size(l));
    osb_result_free(l);
    CHECK_EQ_INT(ca.frees, 1);
    osb_result_free(NULL);
}

TEST(bind_errors) {
    void *r = (void *)1;
    osb_error err;
    CHECK_EQ_INT(bind_str(&t_list_type, "[1]", &r, &err), OSB_ERR_JSON);
    CHECK(r == NULL);
    CHECK_EQ_INT(bind_str(&t_list_type, "{\"items\":{}}", &r, &err), OSB_ERR_JSON);
    CHECK_EQ_INT(err.offset, 9);
    CHECK(strstr(err.message, "items") != NULL);
    CHECK_EQ_INT(bind_str(&t_list_type, "{\"items\":[{\"n\":\"5\"}]}", &r, &err), OSB_ERR_JSON);
    CHECK_EQ_INT(bind_str(&t_list_type, "{\"items\":[{\"n\":1.5}]}", &r, &err), OSB_ERR_RANGE);
    CHECK_EQ_INT(bind_str(&t_list_type, "{\"items\":[{\"small\":3000000000}]}", &r, &err), OSB_ERR_RANGE);
    CHECK_EQ_INT(bind_str(&t_list_type, "{\"items\":[{\"u\":-1}]}", &r, &err), OSB_ERR_RANGE);
    CHECK_EQ_INT(bind_str(&t_list_type, "{\"items\":[{\"ok\":1}]}", &r, &err), OSB_ERR_JSON);
    CHECK_EQ_INT(bind_str(&t_list_type, "{\"items\":[", &r, &err), OSB_ERR_TRUNCATED);
    CHECK_EQ_INT(bind_str(&t_list_type, "{} x", &r, &err), OSB_ERR_JSON);
    CHECK_EQ_INT(err.offset, 3);
    CHECK_EQ_INT(bind_str(&t_list_type, "", &r, &err), OSB_ERR_TRUNCATED);
    CHECK_EQ_INT(osb_bind(NULL, "{}", 2, NULL, &r, &err), OSB_ERR_INVALID_ARG);
    CHECK(r == NULL);
    {
        count_alloc ca;
        osb_allocator a;
        memset(&ca, 0, sizeof ca);
        ca.fail = 1;
        a.alloc = ca_alloc;
        a.realloc = NULL;
        a.free = ca_free;
        a.ctx = &ca;
        CHECK_EQ_INT(osb_bind(&t_list_type, "{}", 2, &a, &r, &err), OSB_ERR_NOMEM);
        CHECK(r == NULL);
    }
}

TEST(bind_duplicates_last_wins) {
    t_item *it = NULL;
    CHECK_EQ_INT(bind_str(&t_item_type, "{\"id\":\"first\",\"n\":1,\"id\":\"second\",\"n\":2}", (void **)&it, NULL), OSB_OK);
    if (!it) return;
    CHECK_EQ_STR(it->id.ptr, "second");
    CHECK_EQ_INT(it->n, 2);
    osb_result_free(it);
}

/* An endpoint answering with a bare array binds to an unnamed first field. */
typedef struct t_files { t_item *files; size_t count; } t_files;
static const osb_field t_files_fields[] = {
    OSB_FIELD_ARRAY_OF(t_files, files, count, "", &t_item_type),
};
static const osb_type t_files_type = OSB_TYPE(t_files, t_files_fields);

TEST(bind_top_level_array) {
    t_files *f = NULL;
    CHECK_EQ_INT(bind_str(&t_files_type, " [{\"id\":\"a\"},{\"id\":\"b\\n\"}] ", (void **)&f, NULL), OSB_OK);
    if (!f) return;
    CHECK_EQ_INT(f->count, 2);
    CHECK_EQ_STR(f->files[1].id.ptr, "b\n");
    osb_result_free(f);
    CHECK_EQ_INT(bind_str(&t_files_type, "[]", (void **)&f, NULL), OSB_OK);
    CHECK(f && f->count == 0 && f->files == NULL);
    osb_result_free(f);
}

TEST(bind_long_strings_and_nul) {
    /* strings longer than the internal scratch, with escapes, and \u0000 */
    char doc[8000];
    t_item *it = NULL;
    size_t i, n = 0;
    n += (size_t)sprintf(doc, "{\"id\":\"");
    for (i = 0; i < 1000; i++) n += (size_t)sprintf(doc + n, "\\u0041b");
    n += (size_t)sprintf(doc + n, "\\u0000z\"}");
    CHECK_EQ_INT(osb_bind(&t_item_type, doc, n, NULL, (void **)&it, NULL), OSB_OK);
    if (!it) return;
    CHECK_EQ_INT(it->id.len, 2002);
    CHECK(it->id.ptr[0] == 'A' && it->id.ptr[1999] == 'b' && it->id.ptr[2000] == 0 && it->id.ptr[2001] == 'z');
    CHECK(it->id.ptr[2002] == 0);
    osb_result_free(it);
}

/* ---- event stream ---------------------------------------------------------- */

static char *sse_all(const char *in, size_t len, size_t max_event) {
    feed_out ref = {NULL, 0, 0};
    feed_plan whole = {FEED_WHOLE, 0}, bytes = {FEED_BYTES, 0};
    uint32_t seed;
    feed_sse(in, len, whole, max_event, &ref);
    {
        feed_out o = {NULL, 0, 0};
        feed_sse(in, len, bytes, max_event, &o);
        if (strcmp(o.p ? o.p : "", ref.p ? ref.p : "") != 0) {
            testlib_failed_checks++;
            fprintf(stderr, "  sse byte-by-byte mismatch\n    whole: %s\n    bytes: %s\n", ref.p ? ref.p : "",
                    o.p ? o.p : "");
        }
        feed_free(&o);
    }
    for (seed = 1; seed <= 6; seed++) {
        feed_out o = {NULL, 0, 0};
        feed_plan pl;
        pl.kind = FEED_RANDOM;
        pl.seed = seed * 40503u;
        feed_sse(in, len, pl, max_event, &o);
        if (strcmp(o.p ? o.p : "", ref.p ? ref.p : "") != 0) {
            testlib_failed_checks++;
            fprintf(stderr, "  sse random split mismatch (seed %u)\n    whole: %s\n    split: %s\n", pl.seed,
                    ref.p ? ref.p : "", o.p ? o.p : "");
        }
        feed_free(&o);
    }
    return ref.p ? ref.p : (char *)calloc(1, 1);
}

static void sse_expect(const char *in, const char *want, int line) {
    char *got = sse_all(in, strlen(in), OSB_SSE_MAX_EVENT);
    if (strcmp(got, want) != 0) {
        testlib_failed_checks++;
        fprintf(stderr, "  line %d:\n    want: %s\n    got:  %s\n", line, want, got);
    }
    free(got);
}
#define SSE_EXPECT(in, want) sse_expect(in, want, __LINE__)

TEST(sse_standard) {
    SSE_EXPECT("data: hello\n\n", "[sse@0 ||hello]$");
    SSE_EXPECT("data:a\ndata: b\ndata\n\n", "[sse@0 ||a\\x0ab\\x0a]$");
    SSE_EXPECT("event: stdout\nid: 7\ndata: {\"x\":1}\n\n", "[sse@0 stdout|7|{\"x\":1}]$");
    SSE_EXPECT(": ping\n\n: another\ndata: x\n\n", "[sse@18 ||x]$");
    SSE_EXPECT("data: x\r\n\r\ndata: y\r\rdata: z\n\n", "[sse@0 ||x][sse@11 ||y][sse@20 ||z]$");
    SSE_EXPECT("\xef\xbb\xbf" "data: bom\n\n", "[sse@3 ||bom]$");
    SSE_EXPECT("data:  two spaces\n\n", "[sse@0 || two spaces]$");
    SSE_EXPECT("data\n\n", "[sse@0 ||]$");
    SSE_EXPECT("event: only\n\ndata: x\n\n", "[sse@13 ||x]$");       /* no data: no event, type reset */
    SSE_EXPECT("id: 1\ndata: a\n\ndata: b\n\n", "[sse@6 |1|a][sse@15 |1|b]$"); /* the id persists */
    SSE_EXPECT("retry: 1500\nfoo: bar\nDATA: no\ndata: ok\n\n", "[sse@30 ||ok]$");
    SSE_EXPECT("datum: x\n\n", "$");
    SSE_EXPECT("", "$");
    SSE_EXPECT("\n\n\n", "$");
    SSE_EXPECT("data: x\n", "E8@8");                   /* no blank line: truncated */
    SSE_EXPECT("data: x", "E8@7");
    SSE_EXPECT(": only a comment", "$");
    /* only a BOM at the very start is skipped; the first bytes of one that
       then goes on otherwise are data (here: the name of an unknown field) */
    SSE_EXPECT("\xef\xbb" "data", "$");
    SSE_EXPECT("\xef", "$");
    SSE_EXPECT("\xef\n{\"a\":1}\n\n", "[bare@2 ||{\"a\":1}]$");
    SSE_EXPECT("\xef\xbb\n" "data: x\n\n", "[sse@3 ||x]$");
    SSE_EXPECT("\xef" "data: x\n\n", "$");
    SSE_EXPECT("\xef\xbb\xbf" "\xef\xbb\xbf" "data: x\n\n", "$");       /* a second BOM is not skipped */
    SSE_EXPECT("data: x\n\n\xef\xbb\xbf" "data: y\n\n", "[sse@0 ||x]$");
    SSE_EXPECT("data: \xe2\x82\xac\n\n", "[sse@0 ||\\xe2\\x82\\xac]$");
}

/* An event starts at its first line that gives it content, an event: line
 * included: an event after another one does not report the first one's
 * start. */
TEST(sse_event_offset_after_an_event_line) {
    SSE_EXPECT("data: a\n\nevent: e\ndata: b\n\n", "[sse@0 ||a][sse@9 e||b]$");
    SSE_EXPECT("{\"a\":1}\n\nevent: e\n{\"b\":2}\n", "[bare@0 ||{\"a\":1}][bare@9 e||{\"b\":2}]$");
    SSE_EXPECT("data: a\n\nid: 1\nevent: e\nevent: f\ndata: b\n\n", "[sse@0 ||a][sse@15 f|1|b]$");
    SSE_EXPECT("data: a\n\nevent:\ndata: b\n\n", "[sse@0 ||a][sse@16 ||b]$");   /* an empty type is no content */
}

/* data: lines and bare JSON lines in one stream are each their own event */
TEST(sse_data_lines_and_bare_lines_never_glued) {
    SSE_EXPECT("data: a\n{\"b\":1}\n\n", "[sse@0 ||a][bare@8 ||{\"b\":1}]$");
    SSE_EXPECT("data: a\ndata: b\n[1]\ndata: c\n\n", "[sse@0 ||a\\x0ab][bare@16 ||[1]][sse@20 ||c]$");
    SSE_EXPECT("event: e\ndata: a\n{\"b\":1}\n", "[sse@0 e||a][bare@17 ||{\"b\":1}]$");
    SSE_EXPECT("{\"a\":1}\ndata: b\n\n{\"c\":2}\n", "[bare@0 ||{\"a\":1}][sse@8 ||b][bare@17 ||{\"c\":2}]$");
}

TEST(sse_execd_and_metrics) {
    /* execd: bare JSON object + blank line */
    SSE_EXPECT("{\"type\":\"init\",\"text\":\"abc\"}\n\n{\"type\":\"stdout\",\"text\":\"hi\\n\"}\n\n",
               "[bare@0 ||{\"type\":\"init\",\"text\":\"abc\"}][bare@30 ||{\"type\":\"stdout\",\"text\":\"hi\\x5cn\"}]$");
    /* /metrics/watch: one object per single newline */
    SSE_EXPECT("{\"cpu_count\":2}\n{\"cpu_count\":3}\n", "[bare@0 ||{\"cpu_count\":2}][bare@16 ||{\"cpu_count\":3}]$");
    /* a bare {code,message} ending the stream without a newline */
    SSE_EXPECT("{\"type\":\"init\"}\n\n{\"code\":\"RUNTIME_ERROR\",\"message\":\"x\"}",
               "[bare@0 ||{\"type\":\"init\"}][bare@17 ||{\"code\":\"RUNTIME_ERROR\",\"message\":\"x\"}]$");
    /* ...or with one newline and no blank line */
    SSE_EXPECT("{\"code\":\"E\"}\n", "[bare@0 ||{\"code\":\"E\"}]$");
    /* CRLF framing and arrays */
    SSE_EXPECT("{\"a\":1}\r\n\r\n[1,2]\r\n", "[bare@0 ||{\"a\":1}][bare@11 ||[1,2]]$");
    /* a data: prefix before the JSON works too */
    SSE_EXPECT("data: {\"type\":\"ping\"}\n\n", "[sse@0 ||{\"type\":\"ping\"}]$");
}

TEST(sse_cr_at_chunk_end) {
    /* "\r" ends a chunk and "\n" starts the next: one line end, not two */
    osb_sse s;
    char buf[64];
    osb_sse_event ev;
    size_t n;
    osb_sse_init(&s, buf, sizeof buf);
    n = osb_sse_push(&s, "data: a\r", 8);
    CHECK_EQ_INT(n, 8);
    CHECK_EQ_INT(osb_sse_status(&s), OSB_SSE_MORE);
    n = osb_sse_push(&s, "\n\r", 2);
    CHECK_EQ_INT(n, 2);
    CHECK_EQ_INT(osb_sse_status(&s), OSB_SSE_EVENT);
    CHECK(osb_sse_event_get(&s, &ev) == 1);
    CHECK_EQ_STR(ev.data, "a");
    n = osb_sse_push(&s, "\ndata: b\n\n", 10);   /* the LF of the CRLF blank line */
    CHECK_EQ_INT(n, 10);
    CHECK(osb_sse_event_get(&s, &ev) == 1);
    CHECK_EQ_STR(ev.data, "b");
    CHECK_EQ_INT(osb_sse_finish(&s), OSB_SSE_END);
    CHECK_EQ_INT(osb_sse_finish(&s), OSB_SSE_END);
}

TEST(sse_event_cap) {
    /* the cap is its own error, never a silent cut */
    char *got = sse_all("data: 0123456789\n\n", 18, 8);
    CHECK(strncmp(got, "E9@", 3) == 0);
    free(got);
    got = sse_all("data: 0123456\n\n", 15, 8);
    CHECK_EQ_STR(got, "[sse@0 ||0123456]$");
    free(got);
    got = sse_all("{\"a\":\"0123456789\"}\n", 19, 8);
    CHECK(strncmp(got, "E9@", 3) == 0);
    free(got);
    {
        /* a full buffer stops the push (FULL), nothing is lost */
        osb_sse s;
        char small[4], big[64];
        osb_sse_event ev;
        size_t n;
        osb_sse_init(&s, small, sizeof small);
        n = osb_sse_push(&s, "data: abcdef\n\n", 14);
        CHECK_EQ_INT(osb_sse_status(&s), OSB_SSE_FULL);
        CHECK_EQ_INT(n, 10);
        memcpy(big, small, s.len);
        CHECK_EQ_INT(osb_sse_set_buffer(&s, big, 2), OSB_ERR_INVALID_ARG);
        CHECK_EQ_INT(osb_sse_set_buffer(&s, big, sizeof big), OSB_OK);
        n += osb_sse_push(&s, &"data: abcdef\n\n"[n], 14 - n);
        CHECK_EQ_INT(n, 14);
        CHECK(osb_sse_event_get(&s, &ev) == 1);
        CHECK_EQ_STR(ev.data, "abcdef");
    }
    {
        /* long event names and ids are errors too */
        char in[300];
        memset(in, 'e', sizeof in);
        memcpy(in, "event: ", 7);
        in[298] = '\n';
        in[299] = '\n';
        got = sse_all(in, sizeof in, 1000);
        CHECK(strncmp(got, "E9@", 3) == 0);
        free(got);
    }
}

TEST(sse_retry_and_errors) {
    osb_sse s;
    char buf[32];
    osb_sse_init(&s, buf, sizeof buf);
    osb_sse_push(&s, "retry: 2500\n", 12);
    CHECK(s.retry_ms == 2500);
    osb_sse_push(&s, "retry: 12x\n", 11);
    CHECK(s.retry_ms == 2500);
    CHECK_EQ_INT(osb_sse_finish(&s), OSB_SSE_END);
    CHECK_EQ_INT(osb_sse_push(&s, "data: x\n\n", 9), 0);   /* after finish */
    CHECK_EQ_INT(osb_sse_status(&s), OSB_SSE_ERROR);
    CHECK_EQ_INT(s.err, OSB_ERR_STATE);
    /* a zero-size buffer asks for one at the first data byte */
    osb_sse_init(&s, NULL, 0);
    CHECK_EQ_INT(osb_sse_push(&s, "data: x\n\n", 9), 6);
    CHECK_EQ_INT(osb_sse_status(&s), OSB_SSE_FULL);
}

/* ---- JSON string scan: 16 bytes per step against the words ------------------ */

/* Pieces of string text of every byte class: plain ASCII, the stops ('"',
 * '\\', control bytes), escapes good and bad, UTF-8 characters of each
 * length, the leads whose second byte is narrowed at both edges of their
 * range, and malformed UTF-8 (stray continuation bytes, bytes never
 * allowed, overlongs, surrogates, characters cut short). */
static const char *const scan_valid[] = {
    "a", "Zz", "0123456789abcdef", " ", "~", "\x7f", "\\\"", "\\\\", "\\/", "\\b", "\\f", "\\n", "\\r", "\\t",
    "\\u0041", "\\u00e9", "\\ud83d\\ude00", "\xc2\x80", "\xc3\xa9", "\xdf\xbf", "\xe0\xa0\x80", "\xe0\xbf\xbf",
    "\xe6\x97\xa5", "\xec\xbf\xbf", "\xed\x80\x80", "\xed\x9f\xbf", "\xee\x80\x80", "\xef\xbf\xbf",
    "\xf0\x90\x80\x80", "\xf0\xbf\xbf\xbf", "\xf1\x80\x80\x80", "\xf3\xbf\xbf\xbf", "\xf4\x80\x80\x80",
    "\xf4\x8f\xbf\xbf",
};
static const char *const scan_bad[] = {
    "\"", "\\", "\x01", "\x1f", "\t", "\n", "\\x", "\\u12", "\\ud800", "\\udc00", "\\ud800\\u0041", "\x80", "\xbf",
    "\xc0\x80", "\xc1\xbf", "\xc2", "\xc3\x41", "\xe0\x9f\xbf", "\xe0\xa0", "\xe6\x97", "\xed\xa0\x80",
    "\xed\xbf\xbf", "\xf0\x8f\xbf\xbf", "\xf0\x9f\x98", "\xf4\x90\x80\x80", "\xf5\x80\x80\x80", "\xf8", "\xff",
    "\xe6\x41\xa5", "\xf0\x90\x41\x80",
};

/* Random text of exactly len bytes from the pieces (cut at len); mostly
 * valid ones, a bad one now and then when bad is set, and sometimes a
 * closing quote at the end. */
static void scan_text(char *buf, size_t len, int bad, uint32_t *rng) {
    size_t at = 0;
    while (at < len) {
        const char *pc;
        size_t pl;
        uint32_t r = feed_rand(rng);
        if (bad && r % 8 == 0) pc = scan_bad[(r >> 8) % (sizeof scan_bad / sizeof scan_bad[0])];
        else pc = scan_valid[(r >> 8) % (sizeof scan_valid / sizeof scan_valid[0])];
        pl = strlen(pc);
        if (pl > len - at) pl = len - at;
        memcpy(buf + at, pc, pl);
        at += pl;
    }
    if (len && feed_rand(rng) % 3) buf[len - 1] = '"';
}

/* The string scans of this build, each held against the words: 16 bytes
 * per step where the machine has vectors, 64 with AVX2 where the CPU has
 * it, and osb__ex_fast_str, which picks one of them. */
typedef int (*scan_fn)(const char *p, size_t n, size_t *at, char *out, size_t *o, osb_str *dst);
static const struct {
    const char *name;
    scan_fn fn;
} scan_fns[] = {
    {"picked", osb__ex_fast_str},
#if defined(OSB__SIMD)
    {"16 bytes", osb__ex_fast_str_v16},
#endif
#if defined(OSB__AVX2)
    {"AVX2", osb__ex_fast_str_v64},
#endif
#if defined(OSB__AVX512)
    {"AVX-512", osb__ex_fast_str_v512},
#endif
};

/* Whether scan_fns[k] runs on this machine. */
static int scan_runs(size_t k) {
#if defined(OSB__AVX2)
    if (scan_fns[k].fn == osb__ex_fast_str_v64) return osb__avx2_usable();
#endif
#if defined(OSB__AVX512)
    if (scan_fns[k].fn == osb__ex_fast_str_v512) return (osb__cpu_vectors() & 2) != 0;
#endif
    (void)k;
    return 1;
}

/* One string every way, starting at p[at] with the input ending at p[n]
 * (at >= 3, ASCII before it, as in an object): the same result, end and
 * text as the words. Counts the strings taken in *ok. */
static int scan_same(const char *p, size_t n, size_t at, int *ok) {
    static char out_v[1024], out_w[1024];
    size_t at_w = at, o_w = 3, k;
    osb_str sw = {NULL, 0};
    int rw = osb__ex_fast_str_words(p, n, &at_w, out_w, &o_w, &sw), same = 1;
    *ok += rw;
    for (k = 0; k < sizeof scan_fns / sizeof scan_fns[0]; k++) {
        size_t at_v = at, o_v = 3;
        osb_str sv = {NULL, 0};
        int rv;
        if (!scan_runs(k)) continue;
        rv = scan_fns[k].fn(p, n, &at_v, out_v, &o_v, &sv);
        if (rv != rw || (rv && (at_v != at_w || o_v != o_w || sv.len != sw.len ||
                                memcmp(sv.ptr, sw.ptr, sv.len) != 0 || sv.ptr[sv.len] != 0))) {
            fprintf(stderr, "  string scans differ at %zu of %zu: %s %d (end %zu, %zu bytes), words %d (end %zu, %zu bytes)\n",
                    at, n, scan_fns[k].name, rv, at_v, sv.len, rw, at_w, sw.len);
            same = 0;
        }
    }
    return same;
}

/* The string scans and osb__str_plain_end (16 bytes per step where the
 * machine has vectors) against their portable word versions, on texts of
 * every length 0..80 and of lengths up to 330 (several 64-byte steps),
 * starting at every alignment, ending right before an unreadable page (the
 * scan must not read on) and inside a longer input. */
TEST(json_string_scan_vector_matches_words) {
    feed_mem mem;
    char text[400];
    uint32_t rng = 2024;
    size_t len, align;
    int k, bad = 0, ok = 0, plain_bad = 0;
    feed_mem_init(&mem, 512);
    for (len = 0; len <= 330 && bad < 5; len += len < 80 ? 1 : 3) {
        for (align = 0; align < 16; align++) {
            for (k = 0; k < 12; k++) {
                size_t n, at, q;
                const char *p;
                int mode = k % 3;   /* 0: valid text, 1: with bad pieces, 2: any bytes */
                size_t at0 = 3 + align;   /* after '":"' and the alignment */
                memcpy(text, "\":\"", 3);
                memset(text + 3, 'p', align);
                if (mode == 2) {
                    for (q = 0; q < len; q++) text[at0 + q] = (char)(feed_rand(&rng) & 0xff);
                } else {
                    scan_text(text + at0, len, mode == 1, &rng);
                }
                /* ending right at the guard page */
                n = at0 + len;
                p = feed_place(&mem, text, n);
                if (!scan_same(p, n, at0, &ok)) bad++;
                /* followed by more input */
                memcpy(text + n, "\",\"x\":\"0123456789abcdef0123456789\"}", 36);
                if (!scan_same(text, n + 36, at0, &ok)) bad++;
                if (len <= 80)
                    for (at = align; at <= n; at++)
                        if (osb__str_plain_end((const unsigned char *)p, at, n) !=
                            osb__str_plain_end_words((const unsigned char *)p, at, n))
                            plain_bad++;
            }
        }
    }
    CHECK_EQ_INT(bad, 0);
    CHECK_EQ_INT(plain_bad, 0);
    CHECK(ok > 1000);   /* the valid texts do get through */
    feed_mem_free(&mem);
}

/* The value of every byte as a hex digit (chunk sizes, %XX, \\u escapes),
 * as signed and unsigned char alike, against its definition. */
TEST(hex_digit_values) {
    int c, bad = 0;
    for (c = -128; c < 256; c++) {
        int want = c >= '0' && c <= '9'   ? c - '0'
                   : c >= 'a' && c <= 'f' ? c - 'a' + 10
                   : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                          : -1;
        if (osb__hexval(c) != want) bad++;
    }
    CHECK_EQ_INT(bad, 0);
}

/* Every pair of bytes, with a third byte after it, as UTF-8 in a string at
 * places around the 16-, 32- and 64-byte steps (the pair split by a step's
 * edge, the bytes before it in the step before): every scan takes or
 * refuses each the way the words do. Runs of escapes before the pair move
 * the output against the input and leave ASCII before the pair. */
TEST(json_string_scan_utf8_pairs) {
    static const size_t places[] = {0, 14, 31, 47, 62, 63, 95};
    static const unsigned char thirds[] = {'a', 0x80, 0xBF, 0xC3};
    char text[256], *str = text + 3;   /* the string after '":"' */
    int bad = 0, ok = 0;
    unsigned b0, b1;
    size_t pl, t;
    for (pl = 0; pl < sizeof places / sizeof places[0]; pl++) {
        for (t = 0; t < sizeof thirds; t++) {
            for (b0 = 0x20; b0 < 0x100 && bad < 5; b0++) {
                for (b1 = 0x20; b1 < 0x100; b1++) {
                    size_t q;
                    if (b0 == '"' || b0 == '\\' || b1 == '"' || b1 == '\\') continue;
                    if (b0 < 0x80 && b1 < 0x80 && b1 != 'z') continue;   /* ASCII pairs: one stands for all */
                    for (q = 0; q < places[pl]; q++) str[q] = (char)(q % 7 == 3 && pl % 2 ? '\\' : 'x');
                    for (q = 0; q < places[pl]; q++)   /* a lone backslash escapes the next byte as 'n' */
                        if (str[q] == '\\') str[++q] = 'n';
                    q = places[pl];
                    str[q] = (char)b0;
                    str[q + 1] = (char)b1;
                    str[q + 2] = (char)thirds[t];
                    str[q + 3] = 'y';
                    str[q + 4] = '"';
                    memcpy(str + q + 5, ",\"k\":1}", 8);
                    memcpy(text, "\":\"", 3);
                    if (!scan_same(text, 3 + q + 12, 3, &ok)) bad++;
                }
            }
        }
    }
    CHECK_EQ_INT(bad, 0);
    CHECK(ok > 1000);
}

#if defined(OSB__AVX512)
/* The escaped bytes of a 64-byte step against reading it byte by byte, for
 * random runs of backslashes, short and long, with and without an escape
 * carried in from the step before. */
TEST(json_string_escaped_bits) {
    uint32_t rng = 7;
    int step, bad = 0;
    for (step = 0; step < 20000 && bad < 5; step++) {
        uint64_t bs = 0, want = 0, carry_in = (uint64_t)(step % 2), carry = carry_in, got;
        int k, escaped = (int)carry_in;
        for (k = 0; k < 64; k++)
            if (feed_rand(&rng) % (step % 3 == 0 ? 2 : 5) == 0) bs |= 1ull << k;
        for (k = 0; k < 64; k++) {
            if (escaped) want |= 1ull << k;
            escaped = !escaped && (bs >> k & 1);
        }
        got = osb__v64_escaped(bs, &carry);
        if (got != want || carry != (uint64_t)escaped) {
            fprintf(stderr, "  backslashes %016llx carry %d: escaped %016llx carry %d, want %016llx carry %d\n",
                    (unsigned long long)bs, (int)carry_in, (unsigned long long)got, (int)carry,
                    (unsigned long long)want, escaped);
            bad++;
        }
    }
    CHECK_EQ_INT(bad, 0);
}
#endif

/* ---- multipart --------------------------------------------------------------- */

typedef struct mem_reader {
    const char *p;
    size_t left;
    size_t max_per_call;
    int fail;
} mem_reader;

static ptrdiff_t mem_read(void *user, void *buf, size_t cap) {
    mem_reader *r = (mem_reader *)user;
    size_t n = cap < r->left ? cap : r->left;
    if (r->fail) return -1;
    if (r->max_per_call && n > r->max_per_call) n = r->max_per_call;
    memcpy(buf, r->p, n);
    r->p += n;
    r->left -= n;
    return (ptrdiff_t)n;
}

/* Reads the whole body with reads of at most step bytes. */
static ptrdiff_t mp_drain(osb_multipart *m, osb_buf *out, size_t step) {
    char buf[4096];
    for (;;) {
        ptrdiff_t n = osb_multipart_read(m, buf, step);
        if (n < 0) return n;
        if (n == 0) return (ptrdiff_t)out->len;
        osb_buf_append(out, buf, (size_t)n);
    }
}

TEST(multipart_upload_body) {
    static const char want[] =
        "--XyZ\r\n"
        "Content-Disposition: form-data; name=\"metadata\"; filename=\"metadata\"\r\n"
        "Content-Type: application/json\r\n\r\n"
        "{\"path\":\"/workspace/hello.txt\",\"mode\":644}\r\n"
        "--XyZ\r\n"
        "Content-Disposition: form-data; name=\"file\"; filename=\"hello.txt\"\r\n"
        "Content-Type: application/octet-stream\r\n\r\n"
        "hello world\r\n"
        "--XyZ\r\n"
        "Content-Disposition: form-data; name=\"metadata\"; filename=\"metadata\"\r\n"
        "Content-Type: application/json\r\n\r\n"
        "{\"path\":\"/workspace/b \\\"q\\\".bin\",\"owner\":\"root\",\"group\":\"root\",\"mode\":600}\r\n"
        "--XyZ\r\n"
        "Content-Disposition: form-data; name=\"file\"; filename=\"b \\\"q\\\"__.bin\"\r\n"
        "Content-Type: application/octet-stream\r\n\r\n"
        "0123456789\r\n"
        "--XyZ--\r\n";
    osb_buf meta1, meta2;
    osb_mpart parts[4];
    osb_multipart m;
    size_t steps[] = {1, 3, 7, 64, 4096};
    size_t si;
    osb_buf_init(&meta1, NULL);
    osb_buf_init(&meta2, NULL);
    CHECK_EQ_INT(osb_upload_metadata(&meta1, "/workspace/hello.txt", NULL, NULL, 644), OSB_OK);
    CHECK_EQ_INT(osb_upload_metadata(&meta2, "/workspace/b \"q\".bin", "root", "root", 600), OSB_OK);
    for (si = 0; si < sizeof steps / sizeof steps[0]; si++) {
        mem_reader r;
        osb_buf out;
        memset(parts, 0, sizeof parts);
        parts[0].name = "metadata";
        parts[0].filename = "metadata";
        parts[0].content_type = "application/json";
        parts[0].data = meta1.data;
        parts[0].size = meta1.len;
        parts[1].name = "file";
        parts[1].filename = "hello.txt";
        parts[1].content_type = "application/octet-stream";
        parts[1].data = "hello world";
        parts[1].size = 11;
        parts[2] = parts[0];
        parts[2].data = meta2.data;
        parts[2].size = meta2.len;
        parts[3] = parts[1];
        parts[3].filename = "b \"q\"\r\n.bin";
        parts[3].data = NULL;
        parts[3].size = 10;
        parts[3].read = mem_read;
        parts[3].read_user = &r;
        r.p = "0123456789";
        r.left = 10;
        r.max_per_call = 3;
        r.fail = 0;
        CHECK_EQ_INT(osb_multipart_init(&m, parts, 4, "XyZ"), OSB_OK);
        CHECK_EQ_STR(osb_multipart_content_type(&m), "multipart/form-data; boundary=XyZ");
        CHECK(osb_multipart_length(&m) == sizeof want - 1);
        osb_buf_init(&out, NULL);
        CHECK(mp_drain(&m, &out, steps[si]) == (ptrdiff_t)(sizeof want - 1));
        CHECK_EQ_MEM(out.data, out.len, want, sizeof want - 1);
        CHECK_EQ_INT(osb_multipart_read(&m, out.data, 10), 0);  /* stays at the end */
        osb_buf_free(&out);
    }
    osb_buf_free(&meta1);
    osb_buf_free(&meta2);
}

TEST(multipart_errors) {
    osb_mpart p;
    osb_multipart m;
    mem_reader r;
    osb_buf out;
    char longname[1100];
    memset(&p, 0, sizeof p);
    p.name = "file";
    p.size = 10;
    p.read = mem_read;
    p.read_user = &r;
    r.p = "short";
    r.left = 5;
    r.max_per_call = 0;
    r.fail = 0;
    /* a reader shorter than its declared size: an error, not a short body */
    CHECK_EQ_INT(osb_multipart_init(&m, &p, 1, NULL), OSB_OK);
    CHECK(strncmp(osb_multipart_content_type(&m), "multipart/form-data; boundary=osb-", 34) == 0);
    osb_buf_init(&out, NULL);
    CHECK(mp_drain(&m, &out, 100) == -1);
    CHECK_EQ_INT(m.err, OSB_ERR_IO);
    osb_buf_free(&out);
    /* a failing reader */
    r.fail = 1;
    CHECK_EQ_INT(osb_multipart_init(&m, &p, 1, "b"), OSB_OK);
    osb_buf_init(&out, NULL);
    CHECK(mp_drain(&m, &out, 100) == -1);
    osb_buf_free(&out);
    /* bad arguments */
    CHECK_EQ_INT(osb_multipart_init(&m, &p, 1, ""), OSB_ERR_INVALID_ARG);
    CHECK_EQ_INT(osb_multipart_init(&m, &p, 1, "bad boundary"), OSB_ERR_INVALID_ARG);
    p.read = NULL;
    CHECK_EQ_INT(osb_multipart_init(&m, &p, 1, "b"), OSB_ERR_INVALID_ARG);  /* no body source */
    p.data = "0123456789";
    p.content_type = "text/plain\r\nX-Evil: 1";
    CHECK_EQ_INT(osb_multipart_init(&m, &p, 1, "b"), OSB_ERR_INVALID_ARG);
    p.content_type = NULL;
    memset(longname, 'n', sizeof longname - 1);
    longname[sizeof longname - 1] = 0;
    p.filename = longname;
    CHECK_EQ_INT(osb_multipart_init(&m, &p, 1, "b"), OSB_ERR_TOO_LARGE);
    /* no parts: just the closing delimiter */
    CHECK_EQ_INT(osb_multipart_init(&m, NULL, 0, "b"), OSB_OK);
    osb_buf_init(&out, NULL);
    CHECK(mp_drain(&m, &out, 100) == 7);
    CHECK_EQ_STR(out.data, "--b--\r\n");
    CHECK(osb_multipart_length(&m) == 7);
    osb_buf_free(&out);
}

/* ---- URL ------------------------------------------------------------------- */

TEST(url_encode_decode) {
    osb_buf b;
    char out[64];
    size_t n;
    int c;
    osb_buf_init(&b, NULL);
    CHECK_EQ_INT(osb_url_encode(&b, "a b/c?d=e&f+g~h.i_j-k%\xc3\xa9", 24), OSB_OK);
    CHECK_EQ_STR(b.data, "a%20b%2Fc%3Fd%3De%26f%2Bg~h.i_j-k%25%C3%A9");
    CHECK_EQ_INT(osb_url_decode(b.data, b.len, out, sizeof out, &n, 0), OSB_OK);
    CHECK_EQ_MEM(out, n, "a b/c?d=e&f+g~h.i_j-k%\xc3\xa9", 24);
    osb_buf_free(&b);
    /* every byte round-trips */
    osb_buf_init(&b, NULL);
    for (c = 0; c < 256; c++) {
        char ch = (char)c;
        b.len = 0;
        osb_url_encode(&b, &ch, 1);
        CHECK_EQ_INT(osb_url_decode(b.data, b.len, out, sizeof out, &n, 1), OSB_OK);
        CHECK(n == 1 && out[0] == ch);
    }
    osb_buf_free(&b);
    CHECK_EQ_INT(osb_url_decode("a+b%41", 6, out, sizeof out, &n, 1), OSB_OK);
    CHECK_EQ_STR(out, "a bA");
    CHECK_EQ_INT(osb_url_decode("a+b", 3, out, sizeof out, &n, 0), OSB_OK);
    CHECK_EQ_STR(out, "a+b");
    CHECK_EQ_INT(osb_url_decode("%4", 2, out, sizeof out, &n, 0), OSB_ERR_INVALID_ARG);
    CHECK_EQ_INT(osb_url_decode("%G1", 3, out, sizeof out, &n, 0), OSB_ERR_INVALID_ARG);
    CHECK_EQ_INT(osb_url_decode("abc", 3, out, 2, &n, 0), OSB_ERR_TOO_LARGE);
    {
        char inplace[] = "x%2Fy";
        CHECK_EQ_INT(osb_url_decode(inplace, 5, inplace, sizeof inplace, &n, 0), OSB_OK);
        CHECK_EQ_STR(inplace, "x/y");
    }
    osb_buf_init(&b, NULL);
    osb_buf_append_str(&b, "/files/download");
    CHECK_EQ_INT(osb_url_query(&b, "path", "/tmp/a b&c.txt"), OSB_OK);
    CHECK_EQ_INT(osb_url_query(&b, "skip", NULL), OSB_OK);
    CHECK_EQ_INT(osb_url_query(&b, "state", "Running"), OSB_OK);
    CHECK_EQ_STR(b.data, "/files/download?path=%2Ftmp%2Fa%20b%26c.txt&state=Running");
    osb_buf_free(&b);
    osb_buf_init(&b, NULL);
    CHECK_EQ_INT(osb_url_encode(&b, "", 0), OSB_OK);
    CHECK(b.data && b.data[0] == 0);
    osb_buf_free(&b);
}

TEST(url_decode_at_guard_page) {
    /* a '%' in the last bytes before an unreadable page must not read on */
    static const char *cases[] = {"%", "%4", "a%41", "%41%"};
    feed_mem mem;
    size_t i, n;
    char out[8];
    feed_mem_init(&mem, 16);
    for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        size_t len = strlen(cases[i]);
        const char *p = feed_place(&mem, cases[i], len);
        osb_err e = osb_url_decode(p, len, out, sizeof out, &n, 1);
        CHECK(e == (i == 2 ? OSB_OK : OSB_ERR_INVALID_ARG));
    }
    feed_mem_free(&mem);
}

TEST(bind_into_caller_memory) {
    /* decoding stream events with one reusable buffer and no allocation */
    static const char *events[] = {
        "{\"items\":[{\"id\":\"a\",\"error\":{\"traceback\":[\"x\",\"y\"]}}],\"nums\":[1,2,3]}",
        "{\"metadata\":{\"k\":\"v\"}}",
        "{}",
    };
    union { double align; char bytes[512]; } buf;
    t_list l;
    size_t need, i;
    for (i = 0; i < 3; i++) {
        CHECK_EQ_INT(osb_bind_into(&t_list_type, events[i], strlen(events[i]), &l, buf.bytes + 1,
                                   sizeof buf.bytes - 1, &need, NULL), OSB_OK);
        CHECK(need <= sizeof buf.bytes - 1);
        CHECK_EQ_MEM(l.raw.ptr, l.raw.len, events[i], strlen(events[i]));
    }
    CHECK_EQ_INT(osb_bind_into(&t_list_type, events[0], strlen(events[0]), &l, buf.bytes, sizeof buf.bytes, &need, NULL), OSB_OK);
    CHECK_EQ_INT(l.items_count, 1);
    CHECK_EQ_STR(l.items[0].error.traceback[1].ptr, "y");
    CHECK_EQ_INT(l.nums[2], 3);
    CHECK(((uintptr_t)l.items % sizeof(double)) == 0);
    /* too small: the size that suffices is reported, dst stays zero */
    CHECK_EQ_INT(osb_bind_into(&t_list_type, events[0], strlen(events[0]), &l, buf.bytes, 16, &need, NULL), OSB_ERR_TOO_LARGE);
    CHECK(need > 16 && need <= sizeof buf.bytes);
    CHECK_EQ_INT(osb_bind_into(&t_list_type, events[0], strlen(events[0]), &l, buf.bytes, need, &need, NULL), OSB_OK);
    CHECK_EQ_INT(osb_bind_into(&t_list_type, "{\"nums\":[1.5]}", 14, &l, buf.bytes, sizeof buf.bytes, NULL, NULL), OSB_ERR_RANGE);
    CHECK(l.nums == NULL && l.raw.ptr == NULL);
}

typedef struct t_raw_only { osb_str raw; } t_raw_only;
static const osb_type t_raw_only_type = OSB_TYPE_RAW_ONLY(t_raw_only, raw);

TEST(bind_raw_only) {
    t_raw_only *r = NULL;
    CHECK_EQ_INT(bind_str(&t_raw_only_type, " {\"anything\":[1,{\"x\":null}]} ", (void **)&r, NULL), OSB_OK);
    if (!r) return;
    CHECK_EQ_STR(r->raw.ptr, "{\"anything\":[1,{\"x\":null}]}");
    osb_result_free(r);
    CHECK_EQ_INT(bind_str(&t_raw_only_type, "{\"a\":[1,}", (void **)&r, NULL), OSB_ERR_JSON);
}

int main(int argc, char **argv) { return testlib_main(argc, argv); }
