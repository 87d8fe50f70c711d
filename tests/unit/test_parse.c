/* Checked number parsers: every accepted form, and every way a value used to wrap, round to
 * zero or pass as "no limit". */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <capsift/parse.h>

static void test_count(void **state)
{
    (void)state;
    uint64_t v = 7;
    assert_int_equal(sift_parse_count("0", 0, 10, &v), 0);
    assert_int_equal(v, 0);
    assert_int_equal(sift_parse_count("10k", 0, UINT64_MAX, &v), 0);
    assert_int_equal(v, 10000);
    assert_int_equal(sift_parse_count("2M", 0, UINT64_MAX, &v), 0);
    assert_int_equal(v, 2000000);
    assert_int_equal(sift_parse_count("18446744073709551615", 0, UINT64_MAX, &v), 0);
    assert_true(v == UINT64_MAX);
    v = 7;
    /* signs, space, exponents, fractions, hex: not counts (strtoull took "-1" as 2^64-1) */
    static const char *const bad[] = {"",    "-1",   "+1",   " 1", "1 ",  "1e3",
                                      "1.5", "0x10", "10kk", "k",  "10m", "1,000"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        assert_int_equal(sift_parse_count(bad[i], 0, UINT64_MAX, &v), SIFT_EPARSE);
    assert_int_equal(sift_parse_count(NULL, 0, 1, &v), SIFT_EPARSE);
    /* past 64 bits, or past the range: out of range, never wrapped */
    assert_int_equal(sift_parse_count("18446744073709551616", 0, UINT64_MAX, &v), SIFT_ELIMIT);
    assert_int_equal(sift_parse_count("18446744073709552k", 0, UINT64_MAX, &v), SIFT_ELIMIT);
    assert_int_equal(sift_parse_count("99999999999999999999999", 0, UINT64_MAX, &v), SIFT_ELIMIT);
    assert_int_equal(sift_parse_count("0", 1, 10, &v), SIFT_ELIMIT);
    assert_int_equal(sift_parse_count("11", 1, 10, &v), SIFT_ELIMIT);
    assert_int_equal(v, 7); /* untouched on failure */
}

static void test_size(void **state)
{
    (void)state;
    static const struct {
        const char *s;
        uint64_t v;
    } ok[] = {{"4096", 4096},         {"500M", 500000000}, {"500MB", 500000000},
              {"1.5G", 1500000000},   {"64KiB", 65536},    {"64Ki", 65536},
              {"2TB", 2000000000000}, {"1.5MiB", 1572864}, {"10B", 10},
              {"0.001k", 1},          {"1k", 1000},        {"1K", 1000},
              {"3GiB", 3221225472ull}};
    for (size_t i = 0; i < sizeof ok / sizeof *ok; i++) {
        uint64_t v;
        assert_int_equal(sift_parse_size(ok[i].s, 0, UINT64_MAX, &v), 0);
        assert_true(v == ok[i].v);
    }
    uint64_t v;
    assert_int_equal(sift_parse_size("16777216TiB", 0, UINT64_MAX, &v), SIFT_ELIMIT); /* 2^64 */
    assert_int_equal(sift_parse_size("18446744073709552k", 0, UINT64_MAX, &v), SIFT_ELIMIT);
    assert_int_equal(sift_parse_size("-1", 0, UINT64_MAX, &v), SIFT_EPARSE);
    assert_int_equal(sift_parse_size("1.", 0, UINT64_MAX, &v), SIFT_EPARSE);
    assert_int_equal(sift_parse_size(".5G", 0, UINT64_MAX, &v), SIFT_EPARSE);
    assert_int_equal(sift_parse_size("1Q", 0, UINT64_MAX, &v), SIFT_EPARSE);
    assert_int_equal(sift_parse_size("0.0001k", 1, UINT64_MAX, &v), SIFT_ELIMIT); /* 0 bytes */
}

static void test_duration(void **state)
{
    (void)state;
    static const struct {
        const char *s;
        int64_t ns;
    } ok[] = {{"30", 30000000000},    {"1.5s", 1500000000},  {"500ms", 500000000},
              {"20us", 20000},        {"100ns", 100},        {"2m", 120000000000},
              {"2min", 120000000000}, {"1h", 3600000000000}, {"1d", 86400000000000},
              {"0.000000001", 1},     {"0.5", 500000000},    {"1.0000000001", 1000000000}};
    for (size_t i = 0; i < sizeof ok / sizeof *ok; i++) {
        int64_t v;
        assert_int_equal(sift_parse_duration(ok[i].s, 1, INT64_MAX, &v), 0);
        assert_true(v == ok[i].ns);
    }
    int64_t v = 5;
    /* rounds to 0 ns: below a minimum of 1 ns (strtod took 1e-12 and the timeout went off) */
    assert_int_equal(sift_parse_duration("0.0000000001", 1, INT64_MAX, &v), SIFT_ELIMIT);
    assert_int_equal(sift_parse_duration("1e-12", 1, INT64_MAX, &v), SIFT_EPARSE);
    assert_int_equal(sift_parse_duration("-1", 1, INT64_MAX, &v), SIFT_EPARSE);
    assert_int_equal(sift_parse_duration("inf", 1, INT64_MAX, &v), SIFT_EPARSE);
    assert_int_equal(sift_parse_duration("nan", 1, INT64_MAX, &v), SIFT_EPARSE);
    assert_int_equal(sift_parse_duration("300000000000d", 1, INT64_MAX, &v), SIFT_ELIMIT);
    assert_int_equal(sift_parse_duration("10", 1, 1000000000, &v), SIFT_ELIMIT);
    assert_int_equal(sift_parse_duration("1", 5, 1, &v), SIFT_EINVAL);
    assert_int_equal(v, 5);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_count),
        cmocka_unit_test(test_size),
        cmocka_unit_test(test_duration),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
