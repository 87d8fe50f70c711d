/* Tests of the search module and pass: the pattern syntax and its errors, block and stream
 * scans with their offsets, the database cache (hits, and damaged or foreign entries rebuilt),
 * and the pass over a real capture read whole and in ranges. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <capsift/engine.h>
#include <capsift/reader.h>
#include <capsift/searchpass.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct match {
    unsigned id;
    uint64_t from, to;
} match_t;

typedef struct matches {
    match_t v[64];
    size_t n;
} matches_t;

static bool collect(void *user, unsigned id, uint64_t from, uint64_t to)
{
    matches_t *m = user;
    if (m->n < 64)
        m->v[m->n++] = (match_t){id, from, to};
    return true;
}

static sift_patterns_t *set_of(sift_ctx_t *ctx, const char *const *texts, size_t n)
{
    sift_patterns_t *ps;
    assert_int_equal(sift_patterns_create(&ps), 0);
    for (size_t i = 0; i < n; i++)
        assert_int_equal(sift_patterns_add(ps, ctx, texts[i], false, "-e", (unsigned)i + 1), 0);
    return ps;
}

static void test_parse(void **state)
{
    (void)state;
    sift_ctx_t *ctx;
    assert_int_equal(sift_ctx_create(&ctx), 0);
    const char *const t[] = {"GET |0d 0a|", "a\\|b\\\\c", "\"host:\"i",         "/ab+c/is",
                             "/etc/passwd", "|0d0a|",     "\"say \\\"hi\\\"\"", "C:\\Windows"};
    sift_patterns_t *ps = set_of(ctx, t, sizeof t / sizeof t[0]);
    assert_int_equal(sift_patterns_count(ps), 8);
    const sift_pattern_t *p = sift_patterns_at(ps, 0);
    assert_int_equal(p->len, 6);
    assert_memory_equal(p->bytes, "GET \r\n", 6);
    assert_false(p->regex);
    p = sift_patterns_at(ps, 1);
    assert_int_equal(p->len, 5);
    assert_memory_equal(p->bytes, "a|b\\c", 5);
    p = sift_patterns_at(ps, 2);
    assert_true(p->caseless);
    assert_int_equal(p->len, 5);
    assert_memory_equal(p->bytes, "host:", 5);
    p = sift_patterns_at(ps, 3);
    assert_true(p->regex && p->caseless && p->dotall && !p->multiline);
    assert_string_equal((const char *)p->bytes, "ab+c");
    p = sift_patterns_at(ps, 4); /* "passwd" are not flags: a literal */
    assert_false(p->regex);
    assert_int_equal(p->len, 11);
    p = sift_patterns_at(ps, 5);
    assert_int_equal(p->len, 2);
    assert_memory_equal(p->bytes, "\r\n", 2);
    p = sift_patterns_at(ps, 6);
    assert_int_equal(p->len, 8);
    assert_memory_equal(p->bytes, "say \"hi\"", 8);
    p = sift_patterns_at(ps, 7); /* a backslash before anything else is itself */
    assert_int_equal(p->len, 10);
    assert_string_equal(p->source, "-e");
    assert_int_equal(p->line, 8);
    assert_null(sift_patterns_at(ps, 8));
    sift_patterns_free(ps);
    sift_ctx_free(ctx);
}

static void expect_error(sift_ctx_t *ctx, const char *text, const char *why)
{
    sift_patterns_t *ps;
    assert_int_equal(sift_patterns_create(&ps), 0);
    assert_int_equal(sift_patterns_add(ps, ctx, text, false, "rules.txt", 7), SIFT_EPARSE);
    const char *msg = sift_ctx_errmsg(ctx);
    if (strncmp(msg, "rules.txt:7: ", 13) != 0 || !strstr(msg, text) || !strstr(msg, why))
        fail_msg("'%s': got '%s', wanted '%s'", text, msg, why);
    assert_int_equal(sift_patterns_count(ps), 0);
    sift_patterns_free(ps);
}

static void test_parse_errors(void **state)
{
    (void)state;
    sift_ctx_t *ctx;
    assert_int_equal(sift_ctx_create(&ctx), 0);
    expect_error(ctx, "ab|zz|", "not a hex digit");
    expect_error(ctx, "ab|0d", "never closed");
    expect_error(ctx, "|0|", "lone hex digit");
    expect_error(ctx, "|0 d|", "lone hex digit");
    expect_error(ctx, "\"abc", "never closed");
    expect_error(ctx, "\"abc\"x", "after the closing quote");
    expect_error(ctx, "", "empty pattern");
    expect_error(ctx, "||", "empty pattern");
    expect_error(ctx, "/(ab/", "");
    expect_error(ctx, "/a*/", "matches empty data");
    expect_error(ctx, "//i", "empty regular expression");
    sift_ctx_free(ctx);
}

static void test_load(void **state)
{
    (void)state;
    sift_ctx_t *ctx;
    assert_int_equal(sift_ctx_create(&ctx), 0);
    char path[] = "/tmp/capsift-patterns-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    FILE *f = fdopen(fd, "w");
    fputs("# indicators\n\nevil.example\r\n  # indented comment\n/x[0-9]+y/\n", f);
    fclose(f);
    sift_patterns_t *ps;
    assert_int_equal(sift_patterns_create(&ps), 0);
    assert_int_equal(sift_patterns_load(ps, ctx, path, true), 0);
    assert_int_equal(sift_patterns_count(ps), 2);
    assert_int_equal(sift_patterns_at(ps, 0)->line, 3);
    assert_true(sift_patterns_at(ps, 0)->caseless);
    assert_int_equal(sift_patterns_at(ps, 0)->len, 12); /* the CR is not part of it */
    assert_int_equal(sift_patterns_at(ps, 1)->line, 5);
    f = fopen(path, "a");
    fputs("fine\n|bad\n", f);
    fclose(f);
    assert_int_equal(sift_patterns_load(ps, ctx, path, false), SIFT_EPARSE);
    char want[64];
    snprintf(want, sizeof want, "%s:7: |bad:", path);
    assert_non_null(strstr(sift_ctx_errmsg(ctx), want));
    unlink(path);
    assert_int_equal(sift_patterns_load(ps, ctx, path, false), SIFT_ENOENT);
    sift_patterns_free(ps);
    sift_ctx_free(ctx);
}

static void test_block(void **state)
{
    (void)state;
    sift_ctx_t *ctx;
    assert_int_equal(sift_ctx_create(&ctx), 0);
    const char *const t[] = {"abc", "|00 00|", "\"HOST\"i", "/b[0-9]+c/"};
    sift_patterns_t *ps = set_of(ctx, t, 4);
    sift_matcher_t *m;
    sift_matcher_info_t info;
    assert_int_equal(sift_matcher_compile(&m, ctx, ps, NULL, &info), 0);
    assert_false(info.from_cache);
    assert_true(info.db_bytes > 0);
    assert_false(sift_matcher_streaming(m));
    sift_scanner_t *s;
    assert_int_equal(sift_scanner_create(&s, m), 0);
    static const char data[] = "xxabcab12c\0\0\0 host";
    matches_t got = {0};
    assert_int_equal(sift_scan_block(s, data, sizeof data - 1, collect, &got), 0);
    /* abc [2,5); b12c [6,10) leftmost start; 00 00 ends at 12 and 13; host [14,18) */
    const match_t want[] = {{0, 2, 5}, {3, 6, 10}, {1, 10, 12}, {1, 11, 13}, {2, 14, 18}};
    assert_int_equal(got.n, 5);
    for (size_t i = 0; i < 5; i++) {
        assert_int_equal(got.v[i].id, want[i].id);
        assert_int_equal(got.v[i].from, want[i].from);
        assert_int_equal(got.v[i].to, want[i].to);
    }
    got.n = 0;
    assert_int_equal(sift_scan_block(s, "nothing here", 12, collect, &got), 0);
    assert_int_equal(got.n, 0);
    sift_scanner_free(s);
    sift_matcher_free(m);
    sift_patterns_free(ps);
    sift_ctx_free(ctx);
}

static void test_stream(void **state)
{
    (void)state;
    sift_ctx_t *ctx;
    assert_int_equal(sift_ctx_create(&ctx), 0);
    const char *const t[] = {"SECRET-TOKEN", "/id=[0-9]+;/"};
    sift_patterns_t *ps = set_of(ctx, t, 2);
    sift_matcher_t *m;
    sift_matcher_info_t info;
    assert_int_equal(
        sift_matcher_compile(&m, ctx, ps, &(sift_matcher_opts_t){.stream = true}, &info), 0);
    assert_true(info.stream_bytes > 0);
    sift_scanner_t *s;
    sift_stream_t *st;
    assert_int_equal(sift_scanner_create(&s, m), 0);
    assert_int_equal(sift_stream_open(&st, m), 0);
    matches_t got = {0};
    assert_int_equal(sift_stream_scan(st, s, "xxSECRET-", 9, collect, &got), 0);
    assert_int_equal(sift_stream_scan(st, s, "TOK", 3, collect, &got), 0);
    assert_int_equal(got.n, 0);
    assert_int_equal(sift_stream_scan(st, s, "EN id=4", 7, collect, &got), 0);
    assert_int_equal(sift_stream_scan(st, s, "2;", 2, collect, &got), 0);
    assert_int_equal(got.n, 2);
    assert_int_equal(got.v[0].id, 0);
    assert_int_equal(got.v[0].from, 2);
    assert_int_equal(got.v[0].to, 14);
    assert_int_equal(got.v[1].id, 1);
    assert_int_equal(got.v[1].from, 15);
    assert_int_equal(got.v[1].to, 21);
    /* after a reset nothing spans the cut, and offsets count from it */
    got.n = 0;
    assert_int_equal(sift_stream_scan(st, s, "SECRET-", 7, collect, &got), 0);
    assert_int_equal(sift_stream_reset(st, s, NULL, NULL), 0);
    assert_int_equal(sift_stream_scan(st, s, "TOKEN SECRET-TOKEN", 18, collect, &got), 0);
    assert_int_equal(got.n, 1);
    assert_int_equal(got.v[0].from, 6);
    sift_stream_close(st, s, collect, &got);
    sift_scanner_free(s);
    sift_matcher_free(m);
    sift_patterns_free(ps);

    /* a regex that needs the end of the data has none in a stream */
    const char *const eod[] = {"/abc$/"};
    ps = set_of(ctx, eod, 1);
    assert_int_equal(
        sift_matcher_compile(&m, ctx, ps, &(sift_matcher_opts_t){.stream = true}, NULL),
        SIFT_EPARSE);
    assert_non_null(strstr(sift_ctx_errmsg(ctx), "-e:1: /abc$/: it needs the end of the data"));
    assert_int_equal(sift_matcher_compile(&m, ctx, ps, NULL, NULL), 0);
    sift_matcher_free(m);
    sift_patterns_free(ps);
    sift_ctx_free(ctx);
}

/* Scans `data` with a fresh matcher of ps compiled through the cache; returns its info. */
static sift_matcher_info_t scan_via(sift_ctx_t *ctx, const sift_patterns_t *ps, sift_cache_t *c,
                                    size_t want_matches)
{
    sift_matcher_t *m;
    sift_matcher_info_t info;
    assert_int_equal(sift_matcher_compile(&m, ctx, ps, &(sift_matcher_opts_t){.cache = c}, &info),
                     0);
    sift_scanner_t *s;
    assert_int_equal(sift_scanner_create(&s, m), 0);
    matches_t got = {0};
    assert_int_equal(sift_scan_block(s, "one two three two", 17, collect, &got), 0);
    assert_int_equal(got.n, want_matches);
    sift_scanner_free(s);
    sift_matcher_free(m);
    return info;
}

static void test_cache(void **state)
{
    (void)state;
    sift_ctx_t *ctx;
    assert_int_equal(sift_ctx_create(&ctx), 0);
    sift_cache_t *c;
    assert_int_equal(sift_cache_open(&c, ctx, NULL, NULL), 0);
    const char *const t[] = {"two", "/th+ree/"}, *const other[] = {"one"};
    sift_patterns_t *ps = set_of(ctx, t, 2), *po = set_of(ctx, other, 1);
    assert_false(scan_via(ctx, ps, c, 3).from_cache);
    assert_true(scan_via(ctx, ps, c, 3).from_cache);
    assert_false(scan_via(ctx, po, c, 1).from_cache);

    /* a different mode, flag or pattern is another key */
    sift_cache_key_t k, ks, ko;
    assert_int_equal(sift_matcher_key(ps, false, &k), 0);
    assert_int_equal(sift_matcher_key(ps, true, &ks), 0);
    assert_int_equal(sift_matcher_key(po, false, &ko), 0);
    assert_memory_not_equal(k.bytes, ks.bytes, 16);
    assert_memory_not_equal(k.bytes, ko.bytes, 16);

    /* damaged or foreign entries under the set's key are compiled again, then replaced */
    const void *v;
    size_t n;
    assert_int_equal(sift_cache_get(c, ko.bytes, 16, &v, &n), 0);
    unsigned char *foreign = malloc(n);
    memcpy(foreign, v, n);
    size_t foreign_len = n;
    assert_int_equal(sift_cache_get(c, k.bytes, 16, &v, &n), 0);
    unsigned char *good = malloc(n);
    memcpy(good, v, n);
    size_t good_len = n;
    struct {
        const void *p;
        size_t n;
    } bad[] = {{"garbage", 7}, {good, good_len / 2}, {foreign, foreign_len}, {good, 40}};
    unsigned char *flipped = malloc(good_len);
    memcpy(flipped, good, good_len);
    flipped[good_len - 9] ^= 0x5a;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(sift_cache_put(c, k.bytes, 16, bad[i].p, bad[i].n), 0);
        assert_false(scan_via(ctx, ps, c, 3).from_cache);
        assert_true(scan_via(ctx, ps, c, 3).from_cache);
    }
    /* a flipped byte inside the database: whatever Hyperscan makes of it, the scan is right
     * or the entry is rebuilt */
    assert_int_equal(sift_cache_put(c, k.bytes, 16, flipped, good_len), 0);
    scan_via(ctx, ps, c, 3);
    free(flipped);
    free(foreign);
    free(good);
    sift_patterns_free(ps);
    sift_patterns_free(po);
    sift_cache_close(c);
    sift_ctx_free(ctx);
}

/* The pass over a real capture: the same hits read whole and in small ranges on 4 workers, the
 * packet numbers those of a plain read. */
static size_t run_pass(const sift_matcher_t *m, uint64_t chunk, unsigned threads,
                       sift_search_hit_t **out, uint64_t *total)
{
    sift_ctx_t *ctx;
    assert_int_equal(sift_ctx_create(&ctx), 0);
    sift_engine_opts_t opts = {
        .threads = threads, .split_bytes = chunk ? 1 : UINT64_MAX, .chunk_bytes = chunk};
    sift_engine_t *e;
    assert_int_equal(sift_engine_create(&e, ctx, &opts), 0);
    sift_search_config_t sc = {.matcher = m};
    int p = sift_engine_add_pass(e, &sift_search_pass, &sc);
    assert_true(p >= 0);
    char path[1024];
    snprintf(path, sizeof path, "%s/pcapplusplus--http-packets.pcap", getenv("SIFT_TEST_CAPTURES"));
    assert_int_equal(sift_engine_add_input(e, path), 1);
    assert_int_equal(sift_engine_run(e), 0);
    const sift_search_t *s = sift_engine_state(e, 0, p);
    assert_non_null(s);
    const sift_search_hit_t *h;
    size_t n = sift_search_hits(s, &h);
    *out = malloc((n ? n : 1) * sizeof **out);
    memcpy(*out, h, n * sizeof *h);
    *total = sift_search_total_hits(s);
    if (chunk) {
        sift_engine_stats_t st;
        sift_engine_stats(e, &st);
        assert_true(st.chunks > 8);
    }
    sift_engine_free(e);
    sift_ctx_free(ctx);
    return n;
}

static void test_pass_ranges(void **state)
{
    (void)state;
    sift_ctx_t *ctx;
    assert_int_equal(sift_ctx_create(&ctx), 0);
    const char *const t[] = {"HTTP/1.1 200", "\"content-type: image/\"i", "/Host: [a-z.]+com/"};
    sift_patterns_t *ps = set_of(ctx, t, 3);
    sift_matcher_t *m;
    assert_int_equal(sift_matcher_compile(&m, ctx, ps, NULL, NULL), 0);
    sift_search_hit_t *whole, *split;
    uint64_t tw, ts;
    size_t nw = run_pass(m, 0, 1, &whole, &tw);
    size_t ns = run_pass(m, 64 * 1024, 4, &split, &ts);
    assert_true(nw > 100);
    assert_int_equal(nw, tw);
    assert_int_equal(ns, nw);
    assert_int_equal(ts, tw);
    assert_memory_equal(whole, split, nw * sizeof *whole);

    /* every hit's packet number and offset are those of its record in a plain read */
    char path[1024];
    snprintf(path, sizeof path, "%s/pcapplusplus--http-packets.pcap", getenv("SIFT_TEST_CAPTURES"));
    sift_reader_t *r;
    assert_int_equal(sift_reader_open(&r, ctx, path, NULL), 0);
    sift_record_t rec;
    uint64_t no = 0;
    size_t k = 0;
    while (sift_reader_next(r, &rec) == 1 && k < nw) {
        no++;
        while (k < nw && whole[k].packet == no) {
            assert_int_equal(whole[k].file_offset, rec.offset);
            assert_int_equal(whole[k].ts_ns, rec.ts_ns);
            k++;
        }
    }
    assert_int_equal(k, nw);
    sift_reader_close(r);
    free(whole);
    free(split);

    /* a cap keeps the first hits and counts the rest */
    sift_engine_t *e;
    assert_int_equal(sift_engine_create(&e, ctx, &(sift_engine_opts_t){.threads = 1}), 0);
    sift_search_config_t sc = {.matcher = m, .max_hits = 10};
    int p = sift_engine_add_pass(e, &sift_search_pass, &sc);
    assert_int_equal(sift_engine_add_input(e, path), 1);
    assert_int_equal(sift_engine_run(e), 0);
    const sift_search_hit_t *h;
    assert_int_equal(sift_search_hits(sift_engine_state(e, 0, p), &h), 10);
    assert_int_equal(sift_search_total_hits(sift_engine_state(e, 0, p)), tw);
    assert_int_equal(sift_engine_input(e, 0)->pass_status, SIFT_ELIMIT);
    sift_engine_free(e);
    sift_matcher_free(m);
    sift_patterns_free(ps);
    sift_ctx_free(ctx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse),       cmocka_unit_test(test_parse_errors),
        cmocka_unit_test(test_load),        cmocka_unit_test(test_block),
        cmocka_unit_test(test_stream),      cmocka_unit_test(test_cache),
        cmocka_unit_test(test_pass_ranges),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
