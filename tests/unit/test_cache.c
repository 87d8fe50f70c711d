/* Tests of the result cache (L1, L2, promotion, eviction, TTL, damaged files), the key builder,
 * content fingerprints and the fingerprint memo. Time is injected through the options, so no
 * test sleeps; no test asserts a timing. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <capsift/cache.h>
#include <capsift/fingerprint.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <xxhash.h>

#define SEC 1000000000ull

typedef struct fake_clock {
    uint64_t now;
} fake_clock_t;

static uint64_t fake_now(void *user)
{
    return ((fake_clock_t *)user)->now;
}

typedef struct logbuf {
    char text[4096];
    int warnings;
} logbuf_t;

static void log_cb(void *user, sift_log_level_t level, const char *msg)
{
    logbuf_t *l = user;
    if (level <= SIFT_LOG_WARN)
        l->warnings++;
    size_t n = strlen(l->text);
    snprintf(l->text + n, sizeof l->text - n, "%s\n", msg);
}

typedef struct fixture {
    char dir[64];
    char db[128];
    sift_ctx_t *ctx;
    logbuf_t log;
    fake_clock_t clock;
} fixture_t;

static int setup(void **state)
{
    fixture_t *f = calloc(1, sizeof *f);
    assert_non_null(f);
    snprintf(f->dir, sizeof f->dir, "/tmp/test_cache.XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    snprintf(f->db, sizeof f->db, "%s/cache.db", f->dir);
    assert_int_equal(sift_ctx_create(&f->ctx), 0);
    sift_ctx_set_log(f->ctx, log_cb, &f->log);
    f->clock.now = 1700000000 * SEC;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture_t *f = *state;
    char cmd[256];
    chmod(f->dir, 0700);
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", f->dir);
    assert_int_equal(system(cmd), 0);
    sift_ctx_free(f->ctx);
    free(f);
    return 0;
}

static sift_cache_opts_t opts_with_clock(fixture_t *f)
{
    sift_cache_opts_t o = {.clock = fake_now, .clock_user = &f->clock};
    return o;
}

static void put_str(sift_cache_t *c, const char *k, const char *v)
{
    assert_int_equal(sift_cache_put(c, k, strlen(k), v, strlen(v)), 0);
}

/* The value of k as a string, or NULL on a miss. */
static const char *get_str(sift_cache_t *c, const char *k)
{
    static char buf[4096];
    const void *v;
    size_t n;
    if (sift_cache_get(c, k, strlen(k), &v, &n) != 0)
        return NULL;
    assert_true(n < sizeof buf);
    memcpy(buf, v, n);
    buf[n] = '\0';
    return buf;
}

static void test_l1_lru_order(void **state)
{
    fixture_t *f = *state;
    sift_cache_opts_t o = opts_with_clock(f);
    o.l1_max_entries = 3;
    sift_cache_t *c;
    assert_int_equal(sift_cache_open(&c, f->ctx, NULL, &o), 0);
    put_str(c, "a", "1");
    put_str(c, "b", "2");
    put_str(c, "c", "3");
    assert_string_equal(get_str(c, "a"), "1"); /* a is now the most recent; b the least */
    put_str(c, "d", "4");
    assert_null(get_str(c, "b"));
    assert_string_equal(get_str(c, "a"), "1");
    assert_string_equal(get_str(c, "c"), "3");
    assert_string_equal(get_str(c, "d"), "4");
    put_str(c, "a", "one"); /* replacing does not evict */
    assert_string_equal(get_str(c, "a"), "one");
    sift_cache_stats_t s;
    sift_cache_stats(c, &s);
    assert_int_equal(s.l1_entries, 3);
    assert_int_equal(s.session.l1_evictions, 1);
    assert_int_equal(s.session.l1_hits, 5);
    assert_int_equal(s.session.misses, 1);
    assert_int_equal(s.session.puts, 5);
    assert_false(s.l2_on);
    assert_int_equal(sift_cache_del(c, "a", 1), 0);
    assert_null(get_str(c, "a"));
    sift_cache_close(c);
}

static void test_l1_byte_budget(void **state)
{
    fixture_t *f = *state;
    char v[1000];
    memset(v, 'x', sizeof v);
    sift_cache_opts_t o = opts_with_clock(f);
    o.l1_max_bytes = 2500; /* two 1000-byte values with their overhead, not three */
    sift_cache_t *c;
    assert_int_equal(sift_cache_open(&c, f->ctx, NULL, &o), 0);
    assert_int_equal(sift_cache_put(c, "k1", 2, v, sizeof v), 0);
    assert_int_equal(sift_cache_put(c, "k2", 2, v, sizeof v), 0);
    assert_int_equal(sift_cache_put(c, "k3", 2, v, sizeof v), 0);
    const void *p;
    size_t n;
    assert_int_equal(sift_cache_get(c, "k1", 2, &p, &n), SIFT_ENOTFOUND);
    assert_int_equal(sift_cache_get(c, "k3", 2, &p, &n), 0);
    assert_int_equal(n, sizeof v);
    assert_memory_equal(p, v, sizeof v);
    sift_cache_stats_t s;
    sift_cache_stats(c, &s);
    assert_true(s.l1_bytes <= 2500);
    assert_int_equal(s.l1_entries, 2);
    assert_int_equal(s.session.l1_evictions, 1);
    /* A value larger than the whole budget is not kept in L1 (and not an error). */
    char big[4000] = {0};
    assert_int_equal(sift_cache_put(c, "big", 3, big, sizeof big), 0);
    assert_int_equal(sift_cache_get(c, "big", 3, &p, &n), SIFT_ENOTFOUND);
    assert_int_equal(sift_cache_get(c, "k3", 2, &p, &n), 0);
    sift_cache_close(c);
}

static void test_l1_ttl(void **state)
{
    fixture_t *f = *state;
    sift_cache_opts_t o = opts_with_clock(f);
    o.l1_ttl_ns = 10 * SEC;
    sift_cache_t *c;
    assert_int_equal(sift_cache_open(&c, f->ctx, NULL, &o), 0);
    put_str(c, "k", "v");
    f->clock.now += 9 * SEC;
    assert_string_equal(get_str(c, "k"), "v");
    f->clock.now += 1 * SEC;
    assert_null(get_str(c, "k"));
    sift_cache_stats_t s;
    sift_cache_stats(c, &s);
    assert_int_equal(s.session.expired, 1);
    assert_int_equal(s.l1_entries, 0);
    sift_cache_close(c);
}

static void test_l2_persistence_and_promotion(void **state)
{
    fixture_t *f = *state;
    sift_cache_opts_t o = opts_with_clock(f);
    sift_cache_t *c;
    assert_int_equal(sift_cache_open(&c, f->ctx, f->db, &o), 0);
    sift_cache_stats_t s;
    sift_cache_stats(c, &s);
    assert_true(s.l2_on);
    assert_string_equal(sift_cache_l2_error(c), "");
    put_str(c, "key", "a value that outlives the process");
    assert_int_equal(sift_cache_put(c, "empty", 5, "", 0), 0);
    assert_null(get_str(c, "absent"));
    sift_cache_close(c);

    assert_int_equal(sift_cache_open(&c, f->ctx, f->db, &o), 0);
    assert_string_equal(get_str(c, "key"), "a value that outlives the process"); /* L2 */
    assert_string_equal(get_str(c, "key"), "a value that outlives the process"); /* L1 */
    assert_string_equal(get_str(c, "empty"), "");
    sift_cache_stats(c, &s);
    assert_int_equal(s.session.l2_hits, 2);
    assert_int_equal(s.session.l1_hits, 1);
    assert_int_equal(s.l1_entries, 2); /* promoted */
    assert_int_equal(s.l2_entries, 2);
    /* Totals cover the earlier run: 2 puts and 1 miss there. */
    assert_int_equal(s.total.puts, 2);
    assert_int_equal(s.total.misses, 1);
    assert_int_equal(s.total.l2_hits, 2);

    /* A second cache on the same file (as another process would) sees new entries at once. */
    sift_cache_t *c2;
    assert_int_equal(sift_cache_open(&c2, f->ctx, f->db, &o), 0);
    put_str(c2, "shared", "yes");
    assert_string_equal(get_str(c, "shared"), "yes");
    sift_cache_close(c2);

    assert_int_equal(sift_cache_clear(c, true), 0);
    assert_null(get_str(c, "key"));
    sift_cache_stats(c, &s);
    assert_int_equal(s.l2_entries, 0);
    assert_int_equal(s.l2_bytes, 0);
    assert_int_equal(s.l1_entries, 0);
    sift_cache_close(c);
    assert_int_equal(f->log.warnings, 0);
}

static void test_l2_ttl(void **state)
{
    fixture_t *f = *state;
    sift_cache_opts_t o = opts_with_clock(f);
    o.l2_ttl_ns = 100 * SEC;
    sift_cache_t *c;
    assert_int_equal(sift_cache_open(&c, f->ctx, f->db, &o), 0);
    put_str(c, "k", "v");
    sift_cache_close(c);
    f->clock.now += 99 * SEC;
    assert_int_equal(sift_cache_open(&c, f->ctx, f->db, &o), 0);
    assert_string_equal(get_str(c, "k"), "v");
    /* The promoted copy must not outlive the L2 entry's TTL either. */
    f->clock.now += 1 * SEC;
    assert_null(get_str(c, "k"));
    sift_cache_close(c);
    assert_int_equal(sift_cache_open(&c, f->ctx, f->db, &o), 0);
    assert_null(get_str(c, "k"));
    sift_cache_stats_t s;
    sift_cache_stats(c, &s);
    assert_int_equal(s.l2_entries, 0); /* the expired row was removed when found */
    assert_true(s.total.expired >= 1);
    sift_cache_close(c);
}

static void test_l2_size_eviction(void **state)
{
    fixture_t *f = *state;
    sift_cache_opts_t o = opts_with_clock(f);
    o.l1_max_bytes = 1; /* nothing fits in L1: every get goes to L2 */
    o.l2_max_bytes = 10000;
    char v[1000];
    memset(v, 'v', sizeof v);
    char key[16];
    sift_cache_t *c;
    assert_int_equal(sift_cache_open(&c, f->ctx, f->db, &o), 0);
    for (int i = 0; i < 9; i++) {
        snprintf(key, sizeof key, "k%02d", i);
        assert_int_equal(sift_cache_put(c, key, strlen(key), v, sizeof v), 0);
        f->clock.now += SEC;
    }
    /* k00 is used again: it becomes the most recent; k01 is now the least recent. */
    const void *p;
    size_t n;
    assert_int_equal(sift_cache_get(c, "k00", 3, &p, &n), 0);
    assert_int_equal(n, sizeof v);
    sift_cache_stats_t s;
    sift_cache_stats(c, &s);
    assert_int_equal(s.session.l2_evictions, 0);
    assert_int_equal(s.l2_entries, 9);
    for (int i = 9; i < 12; i++) {
        f->clock.now += SEC;
        snprintf(key, sizeof key, "k%02d", i);
        assert_int_equal(sift_cache_put(c, key, strlen(key), v, sizeof v), 0);
    }
    sift_cache_stats(c, &s);
    assert_true(s.l2_bytes <= 10000);
    assert_true(s.session.l2_evictions >= 2);
    assert_int_equal(s.l2_entries, 12 - s.session.l2_evictions);
    assert_int_equal(sift_cache_get(c, "k00", 3, &p, &n), 0);
    assert_int_equal(sift_cache_get(c, "k01", 3, &p, &n), SIFT_ENOTFOUND);
    assert_int_equal(sift_cache_get(c, "k11", 3, &p, &n), 0);
    /* A value over the limit is not stored in L2, and leaves no older value behind. */
    char big[20000] = {0};
    assert_int_equal(sift_cache_put(c, "k11", 3, big, sizeof big), 0);
    assert_int_equal(sift_cache_get(c, "k11", 3, &p, &n), SIFT_ENOTFOUND);
    sift_cache_close(c);
}

static void test_corrupt_file(void **state)
{
    fixture_t *f = *state;
    FILE *fp = fopen(f->db, "wb");
    assert_non_null(fp);
    unsigned char junk[8192];
    for (size_t i = 0; i < sizeof junk; i++)
        junk[i] = (unsigned char)(i * 131 + 7);
    assert_int_equal(fwrite(junk, 1, sizeof junk, fp), sizeof junk);
    fclose(fp);
    sift_cache_opts_t o = opts_with_clock(f);
    sift_cache_t *c;
    assert_int_equal(sift_cache_open(&c, f->ctx, f->db, &o), 0);
    sift_cache_stats_t s;
    sift_cache_stats(c, &s);
    assert_false(s.l2_on);
    assert_non_null(strstr(sift_cache_l2_error(c), "not a database"));
    assert_non_null(strstr(f->log.text, "persistent cache is off"));
    assert_int_equal(f->log.warnings, 1);
    /* Still a working cache, in memory. */
    put_str(c, "k", "v");
    assert_string_equal(get_str(c, "k"), "v");
    sift_fingerprint_t fpr;
    sift_fpmemo_info_t info;
    assert_int_equal(sift_fpmemo_get(sift_cache_fpmemo(c), f->db, &fpr, &info), 0);
    sift_cache_close(c);
    /* The file was left as it was. */
    struct stat st;
    assert_int_equal(stat(f->db, &st), 0);
    assert_int_equal(st.st_size, sizeof junk);
}

static void test_unwritable_location(void **state)
{
    fixture_t *f = *state;
    char ro[160], path[200];
    snprintf(ro, sizeof ro, "%s/ro", f->dir);
    assert_int_equal(mkdir(ro, 0555), 0);
    if (access(ro, W_OK) == 0) {
        /* Running as root: permissions do not stop us; a regular file as the "directory"
         * does. */
        snprintf(path, sizeof path, "%s/cache.db", f->db);
        FILE *fp = fopen(f->db, "w");
        assert_non_null(fp);
        fclose(fp);
    } else {
        snprintf(path, sizeof path, "%s/cache.db", ro);
    }
    sift_cache_opts_t o = opts_with_clock(f);
    sift_cache_t *c;
    assert_int_equal(sift_cache_open(&c, f->ctx, path, &o), 0);
    sift_cache_stats_t s;
    sift_cache_stats(c, &s);
    assert_false(s.l2_on);
    assert_string_not_equal(sift_cache_l2_error(c), "");
    assert_true(f->log.warnings >= 1);
    put_str(c, "k", "v");
    assert_string_equal(get_str(c, "k"), "v");
    sift_cache_close(c);
}

static void test_key_builder(void **state)
{
    (void)state;
    sift_cache_key_t k1, k2, k3, k4, k5;
    sift_cache_keyb_t kb;
    sift_cache_keyb_init(&kb);
    sift_cache_keyb_str(&kb, "ab");
    sift_cache_keyb_str(&kb, "c");
    assert_int_equal(sift_cache_keyb_finish(&kb, &k1), 0);
    sift_cache_keyb_init(&kb);
    sift_cache_keyb_str(&kb, "a");
    sift_cache_keyb_str(&kb, "bc");
    assert_int_equal(sift_cache_keyb_finish(&kb, &k2), 0);
    sift_cache_keyb_init(&kb);
    sift_cache_keyb_str(&kb, "ab");
    sift_cache_keyb_str(&kb, "c");
    assert_int_equal(sift_cache_keyb_finish(&kb, &k3), 0);
    sift_cache_keyb_init(&kb);
    sift_cache_keyb_str(&kb, NULL);
    assert_int_equal(sift_cache_keyb_finish(&kb, &k4), 0);
    sift_cache_keyb_init(&kb);
    sift_cache_keyb_str(&kb, "");
    assert_int_equal(sift_cache_keyb_finish(&kb, &k5), 0);
    assert_memory_not_equal(k1.bytes, k2.bytes, 16);
    assert_memory_equal(k1.bytes, k3.bytes, 16);
    assert_memory_not_equal(k4.bytes, k5.bytes, 16);
    /* a u64 is not its 8 bytes as a string */
    sift_cache_keyb_init(&kb);
    sift_cache_keyb_u64(&kb, 0x6867666564636261ull);
    assert_int_equal(sift_cache_keyb_finish(&kb, &k1), 0);
    sift_cache_keyb_init(&kb);
    sift_cache_keyb_str(&kb, "abcdefgh");
    assert_int_equal(sift_cache_keyb_finish(&kb, &k2), 0);
    assert_memory_not_equal(k1.bytes, k2.bytes, 16);
}

/* Writes n bytes of a capture from the test corpus (repeated as needed) to path. */
static void write_test_file(const char *path, size_t n, unsigned char **content)
{
    const char *caps = getenv("SIFT_TEST_CAPTURES");
    char src[512];
    snprintf(src, sizeof src, "%s/zeek--206_example_b.pcap", caps ? caps : "tests/captures");
    FILE *in = fopen(src, "rb");
    unsigned char *buf = malloc(n);
    assert_non_null(buf);
    size_t got = in ? fread(buf, 1, n, in) : 0;
    for (size_t i = got; i < n; i++) /* past the capture's end: a fixed pattern */
        buf[i] = got ? buf[i % got] : (unsigned char)(i * 7);
    if (in)
        fclose(in);
    FILE *out = fopen(path, "wb");
    assert_non_null(out);
    assert_int_equal(fwrite(buf, 1, n, out), n);
    assert_int_equal(fclose(out), 0);
    *content = buf;
}

static void set_mtime(const char *path, time_t sec, long nsec)
{
    struct timespec ts[2] = {{sec, nsec}, {sec, nsec}};
    assert_int_equal(utimensat(AT_FDCWD, path, ts, 0), 0);
}

static void test_fingerprint_is_xxh3_128(void **state)
{
    fixture_t *f = *state;
    char path[160];
    snprintf(path, sizeof path, "%s/data.bin", f->dir);
    size_t n = (3u << 20) + 12345; /* crosses several 1 MiB read buffers */
    unsigned char *content;
    write_test_file(path, n, &content);
    XXH128_canonical_t want;
    XXH128_canonicalFromHash(&want, XXH3_128bits(content, n));
    sift_fingerprint_t fp, fb;
    sift_file_id_t id;
    assert_int_equal(sift_fingerprint_file(f->ctx, path, &fp, &id), 0);
    assert_memory_equal(fp.bytes, want.digest, 16);
    assert_int_equal(id.size, n);
    sift_fingerprint_buffer(content, n, &fb);
    assert_memory_equal(fb.bytes, want.digest, 16);
    char hex[33];
    sift_fingerprint_hex(&fp, hex);
    assert_int_equal(strlen(hex), 32);
    free(content);
    assert_int_equal(sift_fingerprint_file(f->ctx, "/nonexistent/x", &fp, NULL), SIFT_ENOENT);
    assert_int_equal(sift_fingerprint_file(f->ctx, f->dir, &fp, NULL), SIFT_EINVAL);
    /* the empty file */
    snprintf(path, sizeof path, "%s/empty", f->dir);
    FILE *e = fopen(path, "w");
    fclose(e);
    assert_int_equal(sift_fingerprint_file(f->ctx, path, &fp, NULL), 0);
    XXH128_canonicalFromHash(&want, XXH3_128bits("", 0));
    assert_memory_equal(fp.bytes, want.digest, 16);
}

static void test_memo_trust_rule(void **state)
{
    fixture_t *f = *state;
    char path[160], other[160];
    snprintf(path, sizeof path, "%s/cap.pcap", f->dir);
    snprintf(other, sizeof other, "%s/cap.new", f->dir);
    unsigned char *content;
    write_test_file(path, 100000, &content);
    free(content);
    time_t past = time(NULL) - 1000;
    set_mtime(path, past, 0);
    sift_fpmemo_t *m;
    assert_int_equal(sift_fpmemo_open(&m, f->ctx, f->db), 0);
    sift_fingerprint_t a, b;
    sift_fpmemo_info_t info;
    assert_int_equal(sift_fpmemo_get(m, path, &a, &info), 0);
    assert_false(info.reused);
    assert_int_equal(info.bytes_read, 100000);
    assert_int_equal(sift_fpmemo_get(m, path, &b, &info), 0);
    assert_true(info.reused);
    assert_memory_equal(a.bytes, b.bytes, 16);
    sift_fpmemo_close(m);

    /* A later run trusts the remembered value without reading. */
    assert_int_equal(sift_fpmemo_open(&m, f->ctx, f->db), 0);
    assert_int_equal(sift_fpmemo_get(m, path, &b, &info), 0);
    assert_true(info.reused);
    assert_memory_equal(a.bytes, b.bytes, 16);

    /* The rule is about identity, not content: the same bytes with a new mtime are read again
     * (and give the same fingerprint). */
    set_mtime(path, past, 5);
    assert_int_equal(sift_fpmemo_get(m, path, &b, &info), 0);
    assert_false(info.reused);
    assert_memory_equal(a.bytes, b.bytes, 16);
    assert_int_equal(sift_fpmemo_get(m, path, &b, &info), 0);
    assert_true(info.reused);

    /* A changed size (mtime put back as it was) is read again, with a new fingerprint. */
    FILE *fp = fopen(path, "ab");
    fputc('x', fp);
    fclose(fp);
    set_mtime(path, past, 5);
    assert_int_equal(sift_fpmemo_get(m, path, &b, &info), 0);
    assert_false(info.reused);
    assert_memory_not_equal(a.bytes, b.bytes, 16);

    /* A new inode (a file renamed over it, same size and mtime) is read again. */
    sift_fingerprint_t before = b;
    write_test_file(other, 100001, &content);
    content[100] ^= 1;
    fp = fopen(other, "wb");
    fwrite(content, 1, 100001, fp);
    fclose(fp);
    free(content);
    set_mtime(other, past, 5);
    assert_int_equal(rename(other, path), 0);
    assert_int_equal(sift_fpmemo_get(m, path, &b, &info), 0);
    assert_false(info.reused);
    assert_memory_not_equal(before.bytes, b.bytes, 16);

    /* A file modified just now is not remembered: its mtime may not be final. */
    set_mtime(path, time(NULL), 0);
    assert_int_equal(sift_fpmemo_get(m, path, &b, &info), 0);
    assert_false(info.reused);
    assert_int_equal(sift_fpmemo_get(m, path, &b, &info), 0);
    assert_false(info.reused);

    sift_fpmemo_stats_t st;
    sift_fpmemo_stats(m, &st);
    assert_int_equal(st.entries, 1);
    assert_int_equal(sift_fpmemo_clear(m), 0);
    sift_fpmemo_stats(m, &st);
    assert_int_equal(st.entries, 0);
    sift_fpmemo_close(m);
    assert_int_equal(f->log.warnings, 0);
}

static void test_memo_in_cache_file(void **state)
{
    fixture_t *f = *state;
    char path[160];
    snprintf(path, sizeof path, "%s/in.pcap", f->dir);
    unsigned char *content;
    write_test_file(path, 5000, &content);
    free(content);
    set_mtime(path, time(NULL) - 100, 0);
    sift_cache_t *c;
    sift_cache_opts_t o = opts_with_clock(f);
    assert_int_equal(sift_cache_open(&c, f->ctx, f->db, &o), 0);
    sift_fingerprint_t a;
    sift_fpmemo_info_t info;
    assert_int_equal(sift_fpmemo_get(sift_cache_fpmemo(c), path, &a, &info), 0);
    assert_false(info.reused);
    sift_cache_close(c);
    assert_int_equal(sift_cache_open(&c, f->ctx, f->db, &o), 0);
    assert_int_equal(sift_fpmemo_get(sift_cache_fpmemo(c), path, &a, &info), 0);
    assert_true(info.reused);
    sift_cache_stats_t s;
    sift_cache_stats(c, &s);
    assert_int_equal(s.fp_entries, 1);
    assert_int_equal(sift_cache_clear(c, false), 0);
    sift_cache_stats(c, &s);
    assert_int_equal(s.fp_entries, 0);
    sift_cache_close(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_l1_lru_order, setup, teardown),
        cmocka_unit_test_setup_teardown(test_l1_byte_budget, setup, teardown),
        cmocka_unit_test_setup_teardown(test_l1_ttl, setup, teardown),
        cmocka_unit_test_setup_teardown(test_l2_persistence_and_promotion, setup, teardown),
        cmocka_unit_test_setup_teardown(test_l2_ttl, setup, teardown),
        cmocka_unit_test_setup_teardown(test_l2_size_eviction, setup, teardown),
        cmocka_unit_test_setup_teardown(test_corrupt_file, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unwritable_location, setup, teardown),
        cmocka_unit_test_setup_teardown(test_key_builder, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fingerprint_is_xxh3_128, setup, teardown),
        cmocka_unit_test_setup_teardown(test_memo_trust_rule, setup, teardown),
        cmocka_unit_test_setup_teardown(test_memo_in_cache_file, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
