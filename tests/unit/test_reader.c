/* Reader tests on the bundled real captures (tests/captures). Expected values were taken once
 * from tshark 4.0 (`tshark -r F -T fields -e frame.time_epoch -e frame.len -e frame.cap_len`)
 * and capinfos 4.0 (`capinfos -c`). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <capsift/reader.h>
#include <zlib.h>
#include <zstd.h>

typedef struct blob {
    uint8_t *data;
    size_t len;
} blob_t;

static char *capture_path(const char *name)
{
    const char *dir = getenv("SIFT_TEST_CAPTURES");
    static char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir ? dir : "tests/captures", name);
    return path;
}

static blob_t load(const char *name)
{
    blob_t b = {0};
    FILE *f = fopen(capture_path(name), "rb");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    b.data = malloc((size_t)n + 1);
    assert_non_null(b.data);
    b.len = fread(b.data, 1, (size_t)n, f);
    assert_int_equal(b.len, (size_t)n);
    fclose(f);
    return b;
}

typedef struct summary {
    uint64_t packets, bytes, wire;
    int64_t first, last;
    uint32_t last_caplen, last_iface;
    int end; /* what the last sift_reader_next returned */
    uint64_t problems;
    int first_problem;
} summary_t;

static summary_t walk(sift_reader_t *r)
{
    summary_t s = {0};
    sift_record_t rec;
    int rc;
    while ((rc = sift_reader_next(r, &rec)) == 1) {
        if (s.packets == 0)
            s.first = rec.ts_ns;
        s.last = rec.ts_ns;
        s.packets++;
        s.bytes += rec.caplen;
        s.wire += rec.wirelen;
        s.last_caplen = rec.caplen;
        s.last_iface = rec.iface;
    }
    s.end = rc;
    s.problems = sift_reader_problems_total(r);
    s.first_problem = s.problems ? sift_reader_problem(r, 0)->code : 0;
    assert_int_equal(sift_reader_next(r, &rec), rc); /* the end is sticky */
    return s;
}

static void assert_same(const summary_t *a, const summary_t *b)
{
    assert_int_equal(a->packets, b->packets);
    assert_int_equal(a->bytes, b->bytes);
    assert_int_equal(a->wire, b->wire);
    assert_int_equal(a->first, b->first);
    assert_int_equal(a->last, b->last);
    assert_int_equal(a->last_caplen, b->last_caplen);
    assert_int_equal(a->end, b->end);
    assert_int_equal(a->problems, b->problems);
}

static summary_t walk_path(const char *name)
{
    sift_ctx_t *ctx;
    assert_int_equal(sift_ctx_create(&ctx), 0);
    sift_reader_t *r;
    int rc = sift_reader_open(&r, ctx, capture_path(name), NULL);
    assert_int_equal(rc, 0);
    summary_t s = walk(r);
    sift_reader_close(r);
    sift_ctx_free(ctx);
    return s;
}

static summary_t walk_memory(const uint8_t *data, size_t len, int *open_rc)
{
    sift_ctx_t *ctx;
    assert_int_equal(sift_ctx_create(&ctx), 0);
    sift_reader_t *r = NULL;
    summary_t s = {0};
    *open_rc = sift_reader_open_memory(&r, ctx, data, len, "mem", NULL);
    if (*open_rc == 0) {
        s = walk(r);
        sift_reader_close(r);
    } else {
        assert_null(r);
        assert_true(strlen(sift_ctx_errmsg(ctx)) > 0);
    }
    sift_ctx_free(ctx);
    return s;
}

static void test_pcap_variants(void **state)
{
    (void)state;
    summary_t s = walk_path("dpkt--http.pcap");
    assert_int_equal(s.packets, 43);
    assert_int_equal(s.end, 0);
    assert_int_equal(s.problems, 0);
    assert_int_equal(s.first, 1084443427311224000LL);

    s = walk_path("arkime--bigendian.pcap");
    assert_int_equal(s.packets, 2);
    assert_int_equal(s.first, 1335958313152630000LL);
    assert_int_equal(s.last, 1335958317529201000LL);

    s = walk_path("pcapplusplus--nanosecs_big_endian.pcap");
    assert_int_equal(s.packets, 10);
    assert_int_equal(s.first, 1766361926167647291LL);
    assert_int_equal(s.last, 1766361926168451894LL);
    assert_int_equal(s.last_caplen, 66);
}

static void test_pcapng_variants(void **state)
{
    (void)state;
    /* if_tsresol 2^-8: 50/256 s */
    summary_t s = walk_path("gopacket--le-test902.pcapng");
    assert_int_equal(s.packets, 1);
    assert_int_equal(s.first, 1519128000195312500LL);

    /* two interfaces, nanoseconds, a decryption secrets block to skip */
    s = walk_path("ndpi--dtls.pcap");
    assert_int_equal(s.packets, 24);
    assert_int_equal(s.first, 1545143424891780000LL);
    assert_int_equal(s.last, 1715267278694728712LL);
    assert_int_equal(s.last_iface, 1);

    /* sections of both byte orders */
    s = walk_path("pcapng-testgen--le-difficult-test202.pcapng");
    assert_int_equal(s.packets, 8);
    assert_int_equal(s.last, 1340954905301858000LL);
    assert_int_equal(s.last_caplen, 168);
    assert_int_equal(s.problems, 0);

    s = walk_path("pcapng-testgen--be-basic-test002.pcapng");
    assert_int_equal(s.packets, 0);
    assert_int_equal(s.end, 0);
}

static void test_meta(void **state)
{
    (void)state;
    sift_ctx_t *ctx;
    assert_int_equal(sift_ctx_create(&ctx), 0);
    sift_reader_t *r;
    assert_int_equal(sift_reader_open(&r, ctx,
                                      capture_path("pcapng-testgen--le-difficult-test202.pcapng"),
                                      NULL),
                     0);
    walk(r);
    const sift_file_meta_t *m = sift_reader_meta(r);
    assert_int_equal(m->format, SIFT_FORMAT_PCAPNG);
    assert_true(m->mixed_endian);
    assert_true(m->sections >= 2);
    sift_reader_close(r);

    assert_int_equal(sift_reader_open(&r, ctx, capture_path("pcapplusplus--solaris.snoop"), NULL),
                     0);
    m = sift_reader_meta(r);
    assert_int_equal(m->format, SIFT_FORMAT_SNOOP);
    assert_true(m->big_endian);
    assert_int_equal(m->niface, 1);
    assert_int_equal(m->iface[0].linktype, 1);
    summary_t s = walk(r);
    assert_int_equal(s.packets, 250);
    assert_int_equal(s.first, 911274719885516000LL);
    sift_reader_close(r);
    sift_ctx_free(ctx);
}

static void test_compressed_files(void **state)
{
    (void)state;
    summary_t s = walk_path("zeek--mime-header-size-limit.pcap.gz");
    assert_int_equal(s.packets, 44);
    assert_int_equal(s.first, 1777577852342122000LL);
    assert_int_equal(s.last, 1777577852378123000LL);

    s = walk_path("pcapplusplus--pcapng-example.pcapng.zst");
    assert_int_equal(s.packets, 159);
}

/* The same capture plain, gzip (two members) and zstd, from a file and from memory, gives the
 * same records. */
static void test_compression_equivalence(void **state)
{
    (void)state;
    blob_t plain = load("zeek--206_example_b.pcap");
    int rc;
    summary_t ref = walk_memory(plain.data, plain.len, &rc);
    assert_int_equal(rc, 0);
    assert_int_equal(ref.packets, 1556);

    /* gzip in two members, split mid-record, as `cat a.gz b.gz` makes */
    size_t half = plain.len / 2 + 7;
    uint8_t *gz = malloc(plain.len * 2 + 1024);
    size_t gzlen = 0;
    for (int part = 0; part < 2; part++) {
        z_stream z = {0};
        assert_int_equal(deflateInit2(&z, 1, Z_DEFLATED, 31, 8, Z_DEFAULT_STRATEGY), Z_OK);
        z.next_in = plain.data + (part ? half : 0);
        z.avail_in = (uInt)(part ? plain.len - half : half);
        z.next_out = gz + gzlen;
        z.avail_out = (uInt)(plain.len * 2 + 1024 - gzlen);
        assert_int_equal(deflate(&z, Z_FINISH), Z_STREAM_END);
        gzlen += z.total_out;
        deflateEnd(&z);
    }
    summary_t g = walk_memory(gz, gzlen, &rc);
    assert_int_equal(rc, 0);
    assert_same(&g, &ref);

    size_t zcap = ZSTD_compressBound(plain.len);
    uint8_t *zs = malloc(zcap);
    size_t zlen = ZSTD_compress(zs, zcap, plain.data, plain.len, 1);
    assert_false(ZSTD_isError(zlen));
    summary_t z = walk_memory(zs, zlen, &rc);
    assert_int_equal(rc, 0);
    assert_same(&z, &ref);

    /* a compressed stream cut short is reported, with what came before kept */
    summary_t cut = walk_memory(zs, zlen / 2, &rc);
    assert_int_equal(rc, 0);
    assert_true(cut.packets > 0 && cut.packets < ref.packets);
    assert_true(cut.end < 0);
    cut = walk_memory(gz, gzlen / 3, &rc);
    assert_int_equal(rc, 0);
    assert_true(cut.packets > 0 && cut.packets < ref.packets);
    assert_true(cut.end < 0);
    free(zs);
    free(gz);
    free(plain.data);
}

/* A small buffer forces records across buffer refills and the growth path. */
static void test_small_buffer(void **state)
{
    (void)state;
    sift_ctx_t *ctx;
    assert_int_equal(sift_ctx_create(&ctx), 0);
    sift_reader_opts_t opts = {.buffer_size = 4096};
    sift_reader_t *r;
    assert_int_equal(
        sift_reader_open(&r, ctx, capture_path("pcapplusplus--http-packets.pcap"), &opts), 0);
    summary_t s = walk(r);
    sift_reader_close(r);
    summary_t ref = walk_path("pcapplusplus--http-packets.pcap");
    assert_same(&s, &ref);
    assert_int_equal(ref.packets, 1985);
    sift_ctx_free(ctx);
}

/* Every prefix of a real capture: never a crash; records wholly inside the prefix are read;
 * a cut inside a record is reported as truncation. */
static void test_every_prefix(void **state)
{
    (void)state;
    const char *files[] = {"dpkt--http.pcap", "ndpi--dtls.pcap", "pcapplusplus--solaris.snoop"};
    for (size_t f = 0; f < sizeof files / sizeof files[0]; f++) {
        blob_t b = load(files[f]);
        int rc;
        summary_t full = walk_memory(b.data, b.len, &rc);
        uint64_t prev = 0;
        for (size_t len = 0; len <= b.len; len++) {
            uint8_t *copy = malloc(len ? len : 1); /* exact size: ASan sees any overread */
            memcpy(copy, b.data, len);
            summary_t s = walk_memory(copy, len, &rc);
            if (rc == 0) {
                assert_true(s.packets >= prev);
                assert_true(s.packets <= full.packets);
                prev = s.packets;
                if (s.end == 0)
                    assert_int_equal(s.problems, 0);
                else
                    assert_int_equal(s.first_problem, SIFT_ETRUNC);
            }
            free(copy);
        }
        assert_int_equal(prev, full.packets);
        free(b.data);
    }
}

/* Every single-byte corruption of the headers region of real captures terminates cleanly. */
static void test_byte_flips(void **state)
{
    (void)state;
    const char *files[] = {"dpkt--http.pcap", "pcapng-testgen--le-difficult-test202.pcapng",
                           "ndpi--http.pcapng"};
    for (size_t f = 0; f < sizeof files / sizeof files[0]; f++) {
        blob_t b = load(files[f]);
        size_t limit = b.len < 2048 ? b.len : 2048;
        uint8_t *copy = malloc(b.len);
        for (size_t i = 0; i < limit; i++) {
            static const uint8_t vals[] = {0x00, 0xff, 0x80, 0x7f};
            for (size_t v = 0; v < sizeof vals; v++) {
                memcpy(copy, b.data, b.len);
                copy[i] = vals[v];
                int rc;
                summary_t s = walk_memory(copy, b.len, &rc);
                assert_true(s.bytes <= b.len);
            }
        }
        free(copy);
        free(b.data);
    }
}

static void test_damaged(void **state)
{
    (void)state;
    /* last record header cut short: the one record before it is kept */
    summary_t s = walk_path("dpkt--truncated_dns_2.pcap");
    assert_int_equal(s.packets, 1);
    assert_int_equal(s.end, SIFT_ETRUNC);
    assert_int_equal(s.first_problem, SIFT_ETRUNC);

    /* a later section of an unsupported version ends the file after its first packet */
    s = walk_path("gopacket--le-test901.pcapng");
    assert_int_equal(s.packets, 1);
    assert_int_equal(s.end, SIFT_EFORMAT);

    /* a record length beyond every limit: reported, nothing found after it */
    s = walk_path("pcapplusplus--clusterfuzz-testcase-minimized-FuzzTarget-5717750942269440");
    assert_int_equal(s.packets, 2);
    assert_int_equal(s.first_problem, SIFT_ECORRUPT);
    assert_true(s.end < 0);

    /* unpadded block length: read as padded, reported */
    s = walk_path("python-pcapng--test006.ntar");
    assert_int_equal(s.packets, 1);
    assert_int_equal(s.end, 0);
    assert_int_equal(s.problems, 1);

    /* bad file header: refused at open with a message naming the file */
    sift_ctx_t *ctx;
    assert_int_equal(sift_ctx_create(&ctx), 0);
    sift_reader_t *r = NULL;
    const char *bad = capture_path("libpcap--linktype-reserved-field-not-zero.pcap");
    assert_int_equal(sift_reader_open(&r, ctx, bad, NULL), SIFT_EFORMAT);
    assert_null(r);
    assert_non_null(strstr(sift_ctx_errmsg(ctx), "libpcap--linktype-reserved-field-not-zero"));
    assert_int_equal(sift_reader_open(&r, ctx, "/nonexistent/x.pcap", NULL), SIFT_ENOENT);
    assert_int_equal(sift_reader_open(&r, ctx, capture_path("SOURCES.md"), NULL), SIFT_EFORMAT);
    assert_non_null(strstr(sift_ctx_errmsg(ctx), "not a pcap"));
    sift_ctx_free(ctx);
}

/* A pcap record longer than the limit in the middle of a file: the reader skips to the next
 * chain of good records and keeps everything else. */
static void test_resync(void **state)
{
    (void)state;
    blob_t b = load("dpkt--http.pcap");
    int rc;
    summary_t ref = walk_memory(b.data, b.len, &rc);
    /* damage the caplen of the 3rd record */
    size_t off = 24;
    for (int i = 0; i < 2; i++) {
        uint32_t caplen = (uint32_t)b.data[off + 8] | (uint32_t)b.data[off + 9] << 8 |
                          (uint32_t)b.data[off + 10] << 16 | (uint32_t)b.data[off + 11] << 24;
        off += 16 + caplen;
    }
    b.data[off + 11] = 0x7f;
    summary_t s = walk_memory(b.data, b.len, &rc);
    assert_int_equal(rc, 0);
    assert_int_equal(s.packets, ref.packets - 1);
    assert_int_equal(s.end, 0);
    assert_int_equal(s.first_problem, SIFT_ECORRUPT);
    free(b.data);
}

static void test_errors_and_names(void **state)
{
    (void)state;
    assert_string_equal(sift_strerror(SIFT_ETRUNC), "capture file is truncated");
    assert_string_equal(sift_errname(SIFT_ECORRUPT), "SIFT_ECORRUPT");
    assert_string_equal(sift_strerror(12345), "unknown error");
    assert_string_equal(sift_format_name(SIFT_FORMAT_PCAPNG), "pcapng");
    assert_string_equal(sift_compression_name(SIFT_COMPRESSION_ZSTD), "zstd");
    assert_string_equal(sift_linktype_name(1), "EN10MB");
    char buf[64];
    assert_string_equal(sift_format_ts(buf, sizeof buf, 1519128000195312500LL, 8),
                        "1519128000.19531250");
    assert_string_equal(sift_format_ts(buf, sizeof buf, -500000000LL, 6), "-0.500000");
    assert_string_equal(sift_format_ts(buf, sizeof buf, 5, 0), "0");
    assert_string_equal(sift_format_ts(buf, sizeof buf, 0, 3), "0.000");
    assert_string_equal(sift_format_ts(buf, sizeof buf, 1000000007, 9), "1.000000007");
    assert_string_equal(sift_format_ts(buf, sizeof buf, INT64_MAX, 9), "9223372036.854775807");
    assert_string_equal(sift_format_ts(buf, sizeof buf, INT64_MIN, 3), "-9223372037.145");
    assert_string_equal(sift_format_ts(buf, 8, 1519128000195312500LL, 2), "1519128"); /* cut */
    assert_string_equal(sift_format_ts(buf, sizeof buf, 42000000000LL, 12), "42.000000000");
    /* ISO 8601: dates as `date -u -d @S` gives them, leap days, before 1970, the int64 ends */
    assert_string_equal(sift_format_iso(buf, sizeof buf, 1420268708180056789LL, 6, 0),
                        "2015-01-03T07:05:08.180056Z");
    assert_string_equal(sift_format_iso(buf, sizeof buf, 0, 0, 0), "1970-01-01T00:00:00Z");
    assert_string_equal(sift_format_iso(buf, sizeof buf, 951782400LL * 1000000000, 3, 0),
                        "2000-02-29T00:00:00.000Z");
    assert_string_equal(sift_format_iso(buf, sizeof buf, 4107542399LL * 1000000000, 0, 0),
                        "2100-02-28T23:59:59Z");
    assert_string_equal(sift_format_iso(buf, sizeof buf, -1, 9, 0),
                        "1969-12-31T23:59:59.999999999Z");
    assert_string_equal(sift_format_iso(buf, sizeof buf, INT64_MAX, 9, 0),
                        "2262-04-11T23:47:16.854775807Z");
    assert_string_equal(sift_format_iso(buf, sizeof buf, INT64_MIN, 0, 0), "1677-09-21T00:12:43Z");
    assert_string_equal(sift_format_iso(buf, sizeof buf, 1420268708180056789LL, 2, 3600),
                        "2015-01-03T08:05:08.18+01:00");
    assert_string_equal(sift_format_iso(buf, sizeof buf, 1420268708000000000LL, 0, -34200),
                        "2015-01-02T21:35:08-09:30");
    assert_string_equal(sift_format_iso(buf, 10, 0, 0, 0), ""); /* too small: nothing */
}

/* pcapng 1.1 is no version the specification defines (libpcap and capinfos refuse it): read on,
 * with a problem at the version field. 1.0 and 1.2 are clean. */
static void test_pcapng_minor_versions(void **state)
{
    (void)state;
    blob_t b = load("ndpi--http.pcapng"); /* little-endian, one section */
    int rc;
    summary_t clean = walk_memory(b.data, b.len, &rc);
    assert_int_equal(rc, 0);
    assert_int_equal(clean.problems, 0);
    static const uint16_t minors[] = {1, 2, 3, 0xffff};
    for (size_t i = 0; i < sizeof minors / sizeof *minors; i++) {
        b.data[14] = (uint8_t)minors[i];
        b.data[15] = (uint8_t)(minors[i] >> 8);
        summary_t s = walk_memory(b.data, b.len, &rc);
        assert_int_equal(rc, 0);
        assert_int_equal(s.packets, clean.packets);
        assert_int_equal(s.problems, minors[i] == 2 ? 0 : 1);
        if (minors[i] != 2)
            assert_int_equal(s.first_problem, SIFT_EFORMAT);
    }
    free(b.data);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pcap_variants),
        cmocka_unit_test(test_pcapng_variants),
        cmocka_unit_test(test_pcapng_minor_versions),
        cmocka_unit_test(test_meta),
        cmocka_unit_test(test_compressed_files),
        cmocka_unit_test(test_compression_equivalence),
        cmocka_unit_test(test_small_buffer),
        cmocka_unit_test(test_every_prefix),
        cmocka_unit_test(test_byte_flips),
        cmocka_unit_test(test_damaged),
        cmocka_unit_test(test_resync),
        cmocka_unit_test(test_errors_and_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
