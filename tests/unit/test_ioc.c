/* Tests of indicator lists: what an indicator may be and the errors, the three formats, and
 * lookups - nested ranges, names and the domains they lie in, duplicates, and exactness over
 * a million keys behind the Bloom filters. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <capsift/cache.h>
#include <capsift/ioc.h>

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static sift_iocs_t *list_of(sift_ctx_t *ctx, const char *const *t, size_t n)
{
    sift_iocs_t *l;
    assert_int_equal(sift_iocs_create(&l), 0);
    for (size_t i = 0; i < n; i++)
        assert_int_equal(sift_iocs_add(l, ctx, t[i], "t", (unsigned)i + 1), 0);
    assert_int_equal(sift_iocs_build(l, ctx, 0), 0);
    return l;
}

static void v4(const char *s, uint8_t a[16])
{
    memset(a, 0, 10);
    a[10] = a[11] = 0xff;
    assert_int_equal(inet_pton(AF_INET, s, a + 12), 1);
}

static long find4(const sift_iocs_t *l, const char *s)
{
    uint8_t a[16];
    v4(s, a);
    return sift_iocs_find_addr(l, a);
}

static long find_name(const sift_iocs_t *l, const char *s)
{
    return sift_iocs_find_name(l, s, strlen(s));
}

static void test_kinds_and_errors(void **state)
{
    (void)state;
    sift_ctx_t *ctx;
    assert_int_equal(sift_ctx_create(&ctx), 0);
    const char *const t[] = {"10.1.2.3",      "2001:db8::1",        "10.0.0.0/8", "2001:db8::/32",
                             "Evil.Example.", "*.bad_host.example", "10.9.9.9/24"};
    sift_iocs_t *l = list_of(ctx, t, 7);
    assert_int_equal(sift_iocs_count(l), 7);
    assert_int_equal(sift_iocs_count_kind(l, SIFT_IOC_ADDR), 2);
    assert_int_equal(sift_iocs_count_kind(l, SIFT_IOC_CIDR), 3);
    assert_int_equal(sift_iocs_count_kind(l, SIFT_IOC_NAME), 2);
    assert_string_equal(sift_iocs_at(l, 4)->name, "evil.example");
    assert_string_equal(sift_iocs_at(l, 5)->name, "bad_host.example");
    assert_int_equal(sift_iocs_at(l, 2)->bits, 104);
    assert_int_equal(sift_iocs_at(l, 6)->addr[15], 0); /* the range's first address */
    assert_int_equal(sift_iocs_at(l, 6)->addr[14], 9);
    sift_iocs_free(l);
    static const struct {
        const char *text, *why;
    } bad[] = {{"10.0.0.0/33", "an IPv4 prefix is 0 to 32 bits"},
               {"2001:db8::/129", "an IPv6 prefix is 0 to 128 bits"},
               {"10.0.0.0/x", "ADDRESS/BITS"},
               {"10.0.0/8", "not an IPv4 or IPv6 address"},
               {"a..b", "an empty label"},
               {".a", "an empty label"},
               {"has space", "not an address"},
               {"http://x", "ADDRESS/BITS"},
               {"", "empty"}};
    assert_int_equal(sift_iocs_create(&l), 0);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(sift_iocs_add(l, ctx, bad[i].text, "list.txt", 9), SIFT_EPARSE);
        char want[128];
        snprintf(want, sizeof want, "list.txt:9: %s: ", bad[i].text);
        if (!strstr(sift_ctx_errmsg(ctx), want) || !strstr(sift_ctx_errmsg(ctx), bad[i].why))
            fail_msg("'%s': %s", bad[i].text, sift_ctx_errmsg(ctx));
    }
    char label[80];
    memset(label, 'a', 64);
    strcpy(label + 64, ".com");
    assert_int_equal(sift_iocs_add(l, ctx, label, "t", 1), SIFT_EPARSE);
    assert_int_equal(sift_iocs_count(l), 0);
    sift_iocs_free(l);
    sift_ctx_free(ctx);
}

static void test_ranges(void **state)
{
    (void)state;
    sift_ctx_t *ctx;
    assert_int_equal(sift_ctx_create(&ctx), 0);
    const char *const t[] = {"10.1.2.0/24", "10.0.0.0/8", "10.1.0.0/16",   "10.2.0.0/16",
                             "10.1.2.3",    "::/0",       "192.168.1.1/32"};
    sift_iocs_t *l = list_of(ctx, t, 7);
    assert_int_equal(find4(l, "10.1.2.3"), 4); /* the address before any range */
    assert_int_equal(find4(l, "10.1.2.4"), 0); /* the most specific range */
    assert_int_equal(find4(l, "10.1.9.9"), 2);
    assert_int_equal(find4(l, "10.2.255.255"), 3);
    assert_int_equal(find4(l, "10.3.0.0"), 1);
    assert_int_equal(find4(l, "10.255.255.255"), 1);
    assert_int_equal(find4(l, "11.0.0.0"), -1); /* ::/0 is IPv6 only */
    assert_int_equal(find4(l, "9.255.255.255"), -1);
    assert_int_equal(find4(l, "192.168.1.1"), 6);
    assert_int_equal(find4(l, "192.168.1.2"), -1);
    uint8_t a6[16];
    assert_int_equal(inet_pton(AF_INET6, "2001:db8::5", a6), 1);
    assert_int_equal(sift_iocs_find_addr(l, a6), 5);
    sift_iocs_free(l);
    sift_ctx_free(ctx);
}

static void test_names(void **state)
{
    (void)state;
    sift_ctx_t *ctx;
    assert_int_equal(sift_ctx_create(&ctx), 0);
    const char *const t[] = {"evil.example", "deep.sub.evil.example", "evil.example", "org"};
    sift_iocs_t *l = list_of(ctx, t, 4);
    assert_int_equal(find_name(l, "evil.example"), 0);
    assert_int_equal(find_name(l, "EVIL.Example."), 0);
    assert_int_equal(find_name(l, "a.b.evil.example"), 0);
    assert_int_equal(find_name(l, "x.deep.sub.evil.example"), 1); /* the longest */
    assert_int_equal(find_name(l, "notevil.example"), -1);
    assert_int_equal(find_name(l, "example"), -1);
    assert_int_equal(find_name(l, "www.example.org"), 3);
    assert_int_equal(find_name(l, ""), -1);
    sift_iocs_free(l);
    sift_ctx_free(ctx);
}

static void test_formats(void **state)
{
    (void)state;
    sift_ctx_t *ctx;
    assert_int_equal(sift_ctx_create(&ctx), 0);
    char dir[] = "/tmp/capsift-ioc-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[3][128];
    const char *body[3] = {
        "# feed\n10.0.0.1   # a comment\n\nevil.example\tmore words\r\n2001:db8::/48\n",
        "date,Indicator,note\n2024-01-01,10.0.0.1,x\n2024-01-02,\"evil.example\",\"a, b\"\n"
        "2024-01-03,2001:db8::/48,\n",
        "{\"type\": \"bundle\", \"objects\": [\n"
        " {\"type\": \"indicator\", \"pattern\": \"[ipv4-addr:value = '10.0.0.1']\"},\n"
        " {\"type\": \"indicator\", \"pattern\": \"[domain-name:value = 'evil.example'] OR "
        "[ipv6-addr:value = '2001:db8::/48']\"},\n"
        " {\"type\": \"indicator\", \"pattern\": \"[url:value = 'http://x/']\"},\n"
        " {\"type\": \"note\", \"content\": \"pattern\"}]}\n"};
    const char *ext[3] = {"txt", "csv", "json"};
    for (int k = 0; k < 3; k++) {
        snprintf(path[k], sizeof path[k], "%s/l.%s", dir, ext[k]);
        FILE *f = fopen(path[k], "w");
        fputs(body[k], f);
        fclose(f);
        sift_iocs_t *l;
        assert_int_equal(sift_iocs_create(&l), 0);
        assert_int_equal(sift_iocs_load(l, ctx, path[k]), 0);
        assert_int_equal(sift_iocs_count(l), 3);
        assert_string_equal(sift_iocs_at(l, 0)->text, "10.0.0.1");
        assert_string_equal(sift_iocs_at(l, 1)->text, "evil.example");
        assert_string_equal(sift_iocs_at(l, 2)->text, "2001:db8::/48");
        assert_int_equal(sift_iocs_at(l, 1)->line, k == 0 ? 4 : 3);
        assert_string_equal(sift_iocs_at(l, 0)->source, path[k]);
        assert_int_equal(sift_iocs_skipped(l), k == 2 ? 1 : 0);
        sift_iocs_free(l);
        unlink(path[k]);
    }
    rmdir(dir);
    sift_iocs_t *l;
    assert_int_equal(sift_iocs_create(&l), 0);
    assert_int_equal(sift_iocs_load(l, ctx, "/nonexistent/list"), SIFT_ENOENT);
    sift_iocs_free(l);
    sift_ctx_free(ctx);
}

static uint64_t rng(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

/* A million members and a million others: every member found as itself, no other found. */
static void test_exact(void **state)
{
    (void)state;
    sift_ctx_t *ctx;
    assert_int_equal(sift_ctx_create(&ctx), 0);
    sift_iocs_t *l;
    assert_int_equal(sift_iocs_create(&l), 0);
    const size_t n = 500000;
    uint64_t seed = 99;
    char buf[64];
    for (size_t i = 0; i < n; i++) { /* even values are members, odd ones not */
        uint32_t v = (uint32_t)(rng(&seed) & ~1u);
        snprintf(buf, sizeof buf, "%u.%u.%u.%u", v >> 24, v >> 16 & 255, v >> 8 & 255, v & 255);
        assert_int_equal(sift_iocs_add(l, ctx, buf, "t", 1), 0);
        snprintf(buf, sizeof buf, "n%08x.example", (unsigned)(rng(&seed) & ~1u));
        assert_int_equal(sift_iocs_add(l, ctx, buf, "t", 2), 0);
    }
    assert_int_equal(sift_iocs_build(l, ctx, 0.01), 0);
    size_t found = 0, wrong = 0;
    for (size_t i = 0; i < sift_iocs_count(l); i++) {
        const sift_ioc_t *o = sift_iocs_at(l, i);
        long id =
            o->kind == SIFT_IOC_NAME ? find_name(l, o->name) : sift_iocs_find_addr(l, o->addr);
        found += id >= 0;
        if (id >= 0 && strcmp(sift_iocs_at(l, (size_t)id)->text, o->text) != 0)
            wrong++;
    }
    assert_int_equal(found, 2 * n);
    assert_int_equal(wrong, 0);
    size_t false_hits = 0;
    for (size_t i = 0; i < n; i++) {
        uint32_t v = (uint32_t)(rng(&seed) | 1u);
        uint8_t a[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
        a[12] = (uint8_t)(v >> 24);
        a[13] = (uint8_t)(v >> 16);
        a[14] = (uint8_t)(v >> 8);
        a[15] = (uint8_t)v;
        false_hits += sift_iocs_find_addr(l, a) >= 0;
        snprintf(buf, sizeof buf, "n%08x.example", (unsigned)(rng(&seed) | 1u));
        false_hits += find_name(l, buf) >= 0;
    }
    assert_int_equal(false_hits, 0);
    sift_iocs_free(l);
    sift_ctx_free(ctx);
}

/* The same answers from a list read back from the cache as from one built; lists whose content
 * changed are built again (a damaged entry: tests/cli/test_match.sh). */
static void test_cached(void **state)
{
    (void)state;
    sift_ctx_t *ctx;
    assert_int_equal(sift_ctx_create(&ctx), 0);
    char path[] = "/tmp/capsift-iocs-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    FILE *f = fdopen(fd, "w");
    fputs("# a list\n10.0.0.1\n10.0.0.0/8\n10.1.0.0/16\n2001:db8::/32\n2001:db8::5\n"
          "evil.example\n*.bad.example\nwww.other.example.\n",
          f);
    fclose(f);
    sift_cache_t *cache;
    assert_int_equal(sift_cache_open(&cache, ctx, NULL, NULL), 0);
    const char *paths[] = {path};
    sift_iocs_t *built, *read;
    bool cached = true;
    assert_int_equal(sift_iocs_load_all(&built, ctx, paths, 1, 0, cache, &cached), 0);
    assert_false(cached);
    assert_int_equal(sift_iocs_load_all(&read, ctx, paths, 1, 0, cache, &cached), 0);
    assert_true(cached);
    assert_int_equal(sift_iocs_count(read), sift_iocs_count(built));
    for (size_t i = 0; i < sift_iocs_count(built); i++) {
        const sift_ioc_t *a = sift_iocs_at(built, i), *b = sift_iocs_at(read, i);
        assert_string_equal(a->text, b->text);
        assert_string_equal(a->source, b->source);
        assert_int_equal(a->line, b->line);
        assert_memory_equal(a->addr, b->addr, 16);
        assert_int_equal(a->bits, b->bits);
    }
    const char *addrs[] = {"10.0.0.1", "10.0.0.2", "10.1.2.3", "11.0.0.1"};
    for (size_t i = 0; i < 4; i++)
        assert_int_equal(find4(read, addrs[i]), find4(built, addrs[i]));
    assert_true(find4(read, "10.1.2.3") >= 0);
    const char *names[] = {"a.evil.example", "x.bad.example", "bad.example", "WWW.other.example",
                           "good.example"};
    for (size_t i = 0; i < 5; i++)
        assert_int_equal(find_name(read, names[i]), find_name(built, names[i]));
    sift_iocs_free(read);
    f = fopen(path, "a");
    fputs("added.example\n", f);
    fclose(f);
    assert_int_equal(sift_iocs_load_all(&read, ctx, paths, 1, 0, cache, &cached), 0);
    assert_false(cached); /* the content changed */
    assert_true(find_name(read, "added.example") >= 0);
    sift_iocs_free(read);
    sift_iocs_free(built);
    sift_cache_close(cache);
    unlink(path);
    sift_ctx_free(ctx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_kinds_and_errors),
        cmocka_unit_test(test_ranges),
        cmocka_unit_test(test_names),
        cmocka_unit_test(test_formats),
        cmocka_unit_test(test_exact),
        cmocka_unit_test(test_cached),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
