/* Engine and pool tests: results never depend on threads or on how a file is split. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <dirent.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include <capsift/capsift.h>

static const char *captures(void)
{
    const char *dir = getenv("SIFT_TEST_CAPTURES");
    return dir ? dir : "tests/captures";
}

typedef struct run {
    sift_ctx_t *ctx;
    sift_engine_t *e;
    int pass;
    sift_engine_stats_t stats;
} run_t;

/* The bundled captures: every file of the directory but SOURCES.md. */
static size_t ncaptures(void)
{
    DIR *d = opendir(captures());
    assert_non_null(d);
    size_t n = 0;
    const struct dirent *e;
    while ((e = readdir(d)) != NULL)
        n += e->d_name[0] != '.' && strcmp(e->d_name, "SOURCES.md") != 0;
    closedir(d);
    return n;
}

static run_t run_filtered(const char *path, unsigned threads, uint64_t split, uint64_t chunk,
                          const char *filter)
{
    run_t r = {0};
    assert_int_equal(sift_ctx_create(&r.ctx), 0);
    sift_engine_opts_t opts = {.threads = threads,
                               .split_bytes = split,
                               .chunk_bytes = chunk,
                               .filter = filter,
                               .totals = true};
    assert_int_equal(sift_engine_create(&r.e, r.ctx, &opts), 0);
    r.pass = sift_engine_add_pass(r.e, &sift_info_pass, NULL);
    assert_true(r.pass >= 0);
    assert_true(sift_engine_add_input(r.e, path) > 0);
    assert_int_equal(sift_engine_run(r.e), 0);
    sift_engine_stats(r.e, &r.stats);
    return r;
}

static run_t run_info(const char *path, unsigned threads, uint64_t split, uint64_t chunk)
{
    return run_filtered(path, threads, split, chunk, NULL);
}

static void run_free(run_t *r)
{
    sift_engine_free(r->e);
    sift_ctx_free(r->ctx);
}

static void assert_info_equal(const sift_info_t *sa, const sift_info_t *sb)
{
    if (!sa || !sb) {
        assert_ptr_equal(sa, sb);
        return;
    }
    sift_info_summary_t va, vb, *a = &va, *b = &vb;
    sift_info_get(sa, a);
    sift_info_get(sb, b);
    assert_int_equal(a->packets, b->packets);
    assert_int_equal(a->bytes_captured, b->bytes_captured);
    assert_int_equal(a->bytes_wire, b->bytes_wire);
    assert_int_equal(a->truncated, b->truncated);
    assert_int_equal(a->timed, b->timed);
    assert_int_equal(a->first_ts_ns, b->first_ts_ns);
    assert_int_equal(a->last_ts_ns, b->last_ts_ns);
    assert_int_equal(a->time_ordered, b->time_ordered);
    assert_int_equal(a->nlinks, b->nlinks);
    for (unsigned i = 0; i < a->nlinks; i++) {
        assert_int_equal(a->linktype[i], b->linktype[i]);
        assert_int_equal(a->link_packets[i], b->link_packets[i]);
    }
}

static void compare_runs(const run_t *a, const run_t *b)
{
    size_t n = sift_engine_ninputs(a->e);
    assert_int_equal(n, sift_engine_ninputs(b->e));
    for (size_t i = 0; i < n; i++) {
        const sift_input_t *x = sift_engine_input(a->e, i), *y = sift_engine_input(b->e, i);
        assert_string_equal(x->path, y->path);
        assert_int_equal(x->status, y->status);
        assert_int_equal(x->problems_total, y->problems_total);
        assert_int_equal(x->nproblems, y->nproblems);
        for (size_t k = 0; k < x->nproblems; k++) {
            assert_int_equal(x->problems[k].offset, y->problems[k].offset);
            assert_string_equal(x->problems[k].message, y->problems[k].message);
        }
        assert_info_equal(sift_engine_state(a->e, i, a->pass), sift_engine_state(b->e, i, b->pass));
    }
    assert_info_equal(sift_engine_total(a->e, a->pass), sift_engine_total(b->e, b->pass));
}

/* Every bundled capture, split into ranges of 512 bytes .. 64 KiB on up to 16 workers, gives
 * what one worker reading it whole gives; damaged files fall back to a whole read. */
static void test_split_equals_whole(void **state)
{
    (void)state;
    run_t ref = run_info(captures(), 1, UINT64_MAX, 0);
    size_t n = ncaptures();
    assert_int_equal(sift_engine_ninputs(ref.e), n);
    assert_int_equal(ref.stats.chunks, n);
    static const uint64_t chunks[] = {512, 4096, 65536};
    for (size_t c = 0; c < sizeof chunks / sizeof chunks[0]; c++) {
        run_t split = run_info(captures(), 16, 1, chunks[c]);
        assert_true(split.stats.chunks > n); /* files really were split */
        compare_runs(&ref, &split);
        run_free(&split);
    }
    run_free(&ref);
}

/* pcapng is split too: a one-section file into ranges of 256 bytes tiles without a second read
 * (the ranges know the interfaces from the file's head); a file whose later sections bring new
 * interfaces is read again whole. Both equal a whole read. */
static void test_split_pcapng(void **state)
{
    (void)state;
    static const struct {
        const char *name;
        uint64_t reread;
    } files[] = {{"ndpi--http.pcapng", 0}, {"pcapng-testgen--le-difficult-test202.pcapng", 1}};
    for (size_t i = 0; i < sizeof files / sizeof *files; i++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", captures(), files[i].name);
        run_t ref = run_info(path, 1, UINT64_MAX, 0);
        run_t split = run_info(path, 4, 1, 256);
        assert_true(split.stats.chunks > 2);
        assert_int_equal(split.stats.reread, files[i].reread);
        compare_runs(&ref, &split);
        run_free(&ref);
        run_free(&split);
    }
}

/* Sections concatenated (`cat a.pcapng b.pcapng`): later sections bring their own byte order and
 * interfaces in the middle of the file, so ranges that start past one are not trusted: the
 * result is that of a whole read, at every range size. */
static void test_split_pcapng_sections(void **state)
{
    (void)state;
    static const char *const parts[] = {
        "ndpi--http.pcapng", "pcapng-testgen--le-difficult-test202.pcapng",
        "pcapng-testgen--be-basic-test002.pcapng", "ndpi--http.pcapng"};
    char tmp[] = "/tmp/capsift-test-XXXXXX";
    int fd = mkstemp(tmp);
    assert_true(fd >= 0);
    FILE *out = fdopen(fd, "wb");
    for (size_t i = 0; i < sizeof parts / sizeof *parts; i++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", captures(), parts[i]);
        FILE *f = fopen(path, "rb");
        assert_non_null(f);
        uint8_t buf[8192];
        size_t n;
        while ((n = fread(buf, 1, sizeof buf, f)) > 0)
            assert_int_equal(fwrite(buf, 1, n, out), n);
        fclose(f);
    }
    fclose(out);
    run_t ref = run_info(tmp, 1, UINT64_MAX, 0);
    for (uint64_t chunk = 64; chunk <= 1024; chunk *= 4) {
        run_t split = run_info(tmp, 8, 1, chunk);
        assert_true(split.stats.chunks > 1);
        compare_runs(&ref, &split);
        run_free(&split);
    }
    run_free(&ref);
    unlink(tmp);
}

/* A packet whose payload is a long run of zero bytes: every 16 bytes of it parse as an empty
 * pcap record, so a range starting inside it must not take it for a chain of records (that
 * forced a re-read of the whole file). Ranges start at many points of the run. */
static void test_split_zero_payload(void **state)
{
    (void)state;
    char tmp[] = "/tmp/capsift-test-XXXXXX";
    int fd = mkstemp(tmp);
    assert_true(fd >= 0);
    FILE *out = fdopen(fd, "wb");
    static const uint8_t head[24] = {0xd4, 0xc3, 0xb2, 0xa1, 2,    0,    4, 0, 0, 0, 0, 0,
                                     0,    0,    0,    0,    0xff, 0xff, 0, 0, 1, 0, 0, 0};
    fwrite(head, 1, sizeof head, out);
    static uint8_t frame[4096]; /* Ethernet, IPv4, UDP, then zeros */
    for (uint32_t i = 0; i < 40; i++) {
        uint32_t len = i == 20 ? sizeof frame : 60;
        memset(frame, 0, sizeof frame);
        frame[12] = 0x08;
        frame[14] = 0x45;
        frame[16] = (uint8_t)((len - 14) >> 8);
        frame[17] = (uint8_t)(len - 14);
        frame[23] = 17;
        frame[26] = 10, frame[29] = (uint8_t)i, frame[30] = 10, frame[33] = 1;
        uint32_t rec[4] = {1700000000u + i, 0, len, len};
        fwrite(rec, 1, sizeof rec, out);
        fwrite(frame, 1, len, out);
    }
    fclose(out);
    run_t ref = run_info(tmp, 1, UINT64_MAX, 0);
    for (uint64_t chunk = 700; chunk <= 1500; chunk += 100) {
        run_t split = run_info(tmp, 8, 1, chunk);
        assert_true(split.stats.chunks > 1);
        assert_int_equal(split.stats.reread, 0);
        compare_runs(&ref, &split);
        run_free(&split);
    }
    run_free(&ref);
    unlink(tmp);
}

/* A damaged record in the middle of a split file: the file is read again whole, and the result
 * (problems included) is that of a single reader. */
static void test_split_damaged(void **state)
{
    (void)state;
    char src[4096];
    snprintf(src, sizeof src, "%s/pcapplusplus--http-packets.pcap", captures());
    FILE *f = fopen(src, "rb");
    assert_non_null(f);
    static uint8_t buf[4 << 20];
    size_t len = fread(buf, 1, sizeof buf, f);
    fclose(f);
    assert_true(len > 1000000);
    size_t off = 24; /* walk to the record at the middle of the file, damage its caplen */
    while (off < len / 2) {
        uint32_t caplen = (uint32_t)buf[off + 8] | (uint32_t)buf[off + 9] << 8 |
                          (uint32_t)buf[off + 10] << 16 | (uint32_t)buf[off + 11] << 24;
        off += 16 + caplen;
    }
    buf[off + 11] = 0x40;
    char tmp[] = "/tmp/capsift-test-XXXXXX";
    int fd = mkstemp(tmp);
    assert_true(fd >= 0);
    FILE *out = fdopen(fd, "wb");
    assert_int_equal(fwrite(buf, 1, len, out), len);
    fclose(out);
    run_t ref = run_info(tmp, 1, UINT64_MAX, 0);
    run_t split = run_info(tmp, 4, 1, 65536);
    assert_int_equal(split.stats.reread, 1);
    compare_runs(&ref, &split);
    const sift_input_t *in = sift_engine_input(split.e, 0);
    assert_true(in->problems_total > 0);
    assert_int_equal(in->problems[0].offset, off);
    run_free(&ref);
    run_free(&split);
    unlink(tmp);
}

/* The shared corpus, when present (realistic traffic, damaged files, format variants): the
 * same with 2 workers and 64 KiB and 4 KiB ranges. */
static void test_split_traffic_corpus(void **state)
{
    (void)state;
    const char *shared = getenv("SIFT_SHARED_CAPTURES");
    char path[4096];
    if (shared)
        snprintf(path, sizeof path, "%s/traffic", shared);
    if (!shared || access(path, R_OK) != 0)
        skip();
    static const char *const dirs[] = {"traffic", "malformed", "formats"};
    for (size_t d = 0; d < sizeof dirs / sizeof *dirs; d++) {
        snprintf(path, sizeof path, "%s/%s", shared, dirs[d]);
        run_t ref = run_info(path, 1, UINT64_MAX, 0);
        for (uint64_t chunk = 65536; chunk >= 4096; chunk /= 16) {
            run_t split = run_info(path, 2, 1, chunk);
            assert_true(split.stats.chunks > ref.stats.chunks || chunk > 4096);
            compare_runs(&ref, &split);
            run_free(&split);
        }
        run_free(&ref);
    }
}

/* A filter gives the same counts split or whole; a bad one is refused at create. */
static void test_filter(void **state)
{
    (void)state;
    char path[4096];
    snprintf(path, sizeof path, "%s/pcapplusplus--http-packets.pcap", captures());
    run_t ref = run_filtered(path, 1, UINT64_MAX, 0, "src host 172.16.210.84");
    run_t split = run_filtered(path, 4, 1, 65536, "src host 172.16.210.84");
    compare_runs(&ref, &split);
    sift_info_summary_t info;
    sift_info_get(sift_engine_state(ref.e, 0, ref.pass), &info);
    assert_int_equal(info.packets, 1869); /* tcpdump -r F 'src host 172.16.210.84' | wc -l */
    assert_int_equal(sift_engine_input(ref.e, 0)->filtered_out, 1985 - 1869);
    run_free(&ref);
    run_free(&split);

    sift_ctx_t *ctx;
    sift_engine_t *e = NULL;
    assert_int_equal(sift_ctx_create(&ctx), 0);
    sift_engine_opts_t opts = {.filter = "port eighty"};
    assert_int_equal(sift_engine_create(&e, ctx, &opts), SIFT_EFILTER);
    assert_null(e);
    assert_non_null(strstr(sift_ctx_errmsg(ctx), "port eighty"));
    sift_ctx_free(ctx);
}

static void test_inputs(void **state)
{
    (void)state;
    sift_ctx_t *ctx;
    sift_engine_t *e;
    assert_int_equal(sift_ctx_create(&ctx), 0);
    assert_int_equal(sift_engine_create(&e, ctx, NULL), 0);
    assert_int_equal(sift_engine_add_input(e, "/nonexistent/dir"), SIFT_ENOENT);
    assert_non_null(strstr(sift_ctx_errmsg(ctx), "/nonexistent/dir"));
    assert_int_equal(sift_engine_add_input(e, captures()), (int)ncaptures()); /* not SOURCES.md */
    int p = sift_engine_add_pass(e, &sift_info_pass, NULL);
    assert_int_equal(sift_engine_run(e), 0);
    assert_int_equal(sift_engine_run(e), SIFT_EINVAL); /* once only */
    size_t unreadable = 0;
    for (size_t i = 0; i < sift_engine_ninputs(e); i++) {
        const sift_input_t *in = sift_engine_input(e, i);
        if (in->error[0]) {
            unreadable++;
            assert_null(sift_engine_state(e, i, p));
            assert_true(in->status < 0);
        }
    }
    assert_int_equal(unreadable, 1); /* the bad file header */
    assert_null(sift_engine_input(e, 999));
    sift_engine_free(e);
    sift_engine_free(NULL);
    sift_ctx_free(ctx);
}

typedef struct pool_check {
    unsigned *hits;
    unsigned nthreads;
    int bad_worker;
} pool_check_t;

static void pool_task(void *user, size_t t, unsigned worker)
{
    pool_check_t *c = user;
    __atomic_fetch_add(&c->hits[t], 1, __ATOMIC_RELAXED);
    if (worker >= c->nthreads)
        c->bad_worker = 1;
}

static void test_pool(void **state)
{
    (void)state;
    for (unsigned threads = 1; threads <= 8; threads *= 2) {
        size_t n = 10000;
        pool_check_t c = {calloc(n, sizeof(unsigned)), threads, 0};
        assert_int_equal(sift_pool_run(threads, n, pool_task, &c, NULL, 0), 0);
        for (size_t t = 0; t < n; t++)
            assert_int_equal(c.hits[t], 1);
        assert_int_equal(c.bad_worker, 0);
        free(c.hits);
    }
    assert_int_equal(sift_pool_run(4, 0, pool_task, NULL, NULL, 0), 0);
    assert_true(sift_ncpu() >= 1);
}

/* A pass that reports a limit at the first packet at or past a byte offset, and one whose merge
 * fails: what they report is the input's, the same for a whole read and any split. */
typedef struct cap_state {
    uint64_t packets;
} cap_state_t;

static void cap_packet(void *state, const sift_packet_t *pkt)
{
    (void)pkt;
    ((cap_state_t *)state)->packets++;
}

static uint64_t cap_at;

static void cap_packet_limit(void *state, const sift_packet_t *pkt)
{
    cap_state_t *s = state;
    s->packets++;
    if (pkt->rec->offset >= cap_at)
        sift_pass_report(state, SIFT_ELIMIT, "a cap reached at byte %" PRIu64, pkt->rec->offset);
}

static int cap_merge(void *into, const void *from)
{
    ((cap_state_t *)into)->packets += ((const cap_state_t *)from)->packets;
    return 0;
}

static int failing_merge(void *into, const void *from)
{
    (void)into;
    (void)from;
    return SIFT_ENOMEM;
}

static const sift_pass_t cap_pass = {.name = "cap",
                                     .state_size = sizeof(cap_state_t),
                                     .packet = cap_packet_limit,
                                     .merge = cap_merge};
static const sift_pass_t failing_pass = {.name = "failing",
                                         .state_size = sizeof(cap_state_t),
                                         .packet = cap_packet,
                                         .merge = failing_merge};

static sift_engine_t *run_reports(sift_ctx_t *ctx, const char *path, unsigned threads,
                                  uint64_t chunk)
{
    sift_engine_t *e = NULL;
    sift_engine_opts_t opts = {
        .threads = threads, .split_bytes = chunk ? 1 : UINT64_MAX, .chunk_bytes = chunk};
    assert_int_equal(sift_engine_create(&e, ctx, &opts), 0);
    assert_int_equal(sift_engine_add_pass(e, &cap_pass, NULL), 0);
    assert_int_equal(sift_engine_add_pass(e, &failing_pass, NULL), 1);
    assert_true(sift_engine_add_input(e, path) == 1);
    assert_int_equal(sift_engine_run(e), 0);
    return e;
}

static void test_pass_reports(void **state)
{
    (void)state;
    char path[4096];
    snprintf(path, sizeof path, "%s/pcapplusplus--http-packets.pcap", captures());
    cap_at = 1000000;
    sift_ctx_t *ctx = NULL;
    assert_int_equal(sift_ctx_create(&ctx), 0);
    sift_engine_t *whole = run_reports(ctx, path, 1, 0);
    const sift_input_t *in = sift_engine_input(whole, 0);
    assert_int_equal(in->status, 0);
    assert_int_equal(in->pass_status, SIFT_ELIMIT);
    assert_int_equal(in->nreports, 1); /* a whole read merges nothing */
    assert_string_equal(in->reports[0].name, "cap");
    assert_int_equal(in->reports[0].pass, 0);
    assert_non_null(strstr(in->reports[0].message, "a cap reached at byte 10"));
    char first[SIFT_REPORT_SIZE];
    snprintf(first, sizeof first, "%s", in->reports[0].message);

    sift_engine_t *split = run_reports(ctx, path, 4, 65536);
    in = sift_engine_input(split, 0);
    assert_int_equal(in->pass_status, SIFT_ELIMIT);
    assert_int_equal(in->nreports, 2);
    assert_string_equal(in->reports[0].message, first); /* the earliest range's report */
    assert_string_equal(in->reports[1].name, "failing");
    assert_int_equal(in->reports[1].code, SIFT_ENOMEM);
    assert_string_equal(in->reports[1].message,
                        "out of memory while merging: some results are missing");
    const cap_state_t *a = sift_engine_state(whole, 0, 0), *b = sift_engine_state(split, 0, 0);
    assert_int_equal(a->packets, b->packets); /* a report does not stop the pass */
    sift_engine_free(whole);
    sift_engine_free(split);
    sift_ctx_free(ctx);

    void *s = NULL; /* outside the engine: the first report stays */
    assert_int_equal(sift_pass_state_new(&cap_pass, NULL, &s), 0);
    const char *msg = NULL;
    assert_int_equal(sift_pass_status(s, &msg), 0);
    sift_pass_report(s, SIFT_ENOMEM, "first %d", 1);
    sift_pass_report(s, SIFT_ELIMIT, "second");
    assert_int_equal(sift_pass_status(s, &msg), SIFT_ENOMEM);
    assert_string_equal(msg, "first 1");
    sift_pass_state_free(&cap_pass, s);
    sift_pass_state_free(&cap_pass, NULL);
}

/* A pass with a shared read-only table built by its setup: one setup and one teardown per run
 * whatever the threads and ranges, every state reads the same table from init on, and the
 * result is the same as without sharing. */
typedef struct weigh_config {
    int *setups, *teardowns;
    bool fail;
} weigh_config_t;

typedef struct weigh_state {
    uint64_t sum;
    bool saw_shared; /* at init */
} weigh_state_t;

static int weigh_setup(const void *config, void **shared, char err[SIFT_ERRBUF_SIZE])
{
    const weigh_config_t *c = config;
    if (c->fail) {
        snprintf(err, SIFT_ERRBUF_SIZE, "no weights for this run");
        return SIFT_EINVAL;
    }
    uint32_t *w = malloc(256 * sizeof *w);
    if (!w)
        return SIFT_ENOMEM;
    for (unsigned p = 0; p < 256; p++)
        w[p] = p * 3 + 1;
    (*c->setups)++;
    *shared = w;
    return 0;
}

static int *weigh_teardowns;

static void weigh_teardown(void *shared)
{
    (*weigh_teardowns)++;
    free(shared);
}

static int weigh_init(void *state, const void *config)
{
    (void)config;
    ((weigh_state_t *)state)->saw_shared = sift_pass_shared(state) != NULL;
    return 0;
}

static void weigh_packet(void *state, const sift_packet_t *pkt)
{
    const uint32_t *w = sift_pass_shared(state);
    ((weigh_state_t *)state)->sum += w[pkt->ip_proto];
}

static void plain_packet(void *state, const sift_packet_t *pkt)
{
    ((weigh_state_t *)state)->sum += (uint64_t)pkt->ip_proto * 3 + 1;
}

static int weigh_merge(void *into, const void *from)
{
    weigh_state_t *a = into;
    const weigh_state_t *b = from;
    a->sum += b->sum;
    a->saw_shared = a->saw_shared && b->saw_shared;
    return 0;
}

static const sift_pass_t weigh_pass = {.name = "weigh",
                                       .needs = SIFT_NEED_NETWORK,
                                       .state_size = sizeof(weigh_state_t),
                                       .init = weigh_init,
                                       .packet = weigh_packet,
                                       .merge = weigh_merge,
                                       .setup = weigh_setup,
                                       .teardown = weigh_teardown};
static const sift_pass_t plain_pass = {.name = "plain",
                                       .needs = SIFT_NEED_NETWORK,
                                       .state_size = sizeof(weigh_state_t),
                                       .packet = plain_packet,
                                       .merge = weigh_merge};

static void test_pass_setup(void **state)
{
    (void)state;
    char path[4096];
    snprintf(path, sizeof path, "%s/pcapplusplus--http-packets.pcap", captures());
    sift_ctx_t *ctx = NULL;
    assert_int_equal(sift_ctx_create(&ctx), 0);
    uint64_t first = 0;
    for (int run = 0; run < 3; run++) {
        static const unsigned threads[] = {1, 4, 2};
        static const uint64_t chunk[] = {0, 65536, 4096};
        int setups = 0, teardowns = 0;
        weigh_teardowns = &teardowns;
        weigh_config_t cfg = {&setups, &teardowns, false};
        sift_engine_t *e = NULL;
        sift_engine_opts_t opts = {.threads = threads[run],
                                   .split_bytes = chunk[run] ? 1 : UINT64_MAX,
                                   .chunk_bytes = chunk[run]};
        assert_int_equal(sift_engine_create(&e, ctx, &opts), 0);
        assert_int_equal(sift_engine_add_pass(e, &weigh_pass, &cfg), 0);
        assert_int_equal(sift_engine_add_pass(e, &plain_pass, NULL), 1);
        assert_true(sift_engine_add_input(e, path) == 1);
        assert_int_equal(sift_engine_run(e), 0);
        const weigh_state_t *w = sift_engine_state(e, 0, 0), *p = sift_engine_state(e, 0, 1);
        assert_true(w->saw_shared);
        assert_true(w->sum > 0);
        assert_true(w->sum == p->sum);
        if (run == 0)
            first = w->sum;
        assert_true(w->sum == first);
        assert_int_equal(setups, 1);
        assert_int_equal(teardowns, 0); /* the states still read it */
        sift_engine_free(e);
        assert_int_equal(teardowns, 1);
    }
    /* a failing setup fails the run, naming the pass, and owes no teardown */
    int setups = 0, teardowns = 0;
    weigh_teardowns = &teardowns;
    weigh_config_t bad = {&setups, &teardowns, true};
    sift_engine_t *e = NULL;
    assert_int_equal(sift_engine_create(&e, ctx, NULL), 0);
    assert_int_equal(sift_engine_add_pass(e, &weigh_pass, &bad), 0);
    assert_true(sift_engine_add_input(e, path) == 1);
    assert_int_equal(sift_engine_run(e), SIFT_EINVAL);
    assert_string_equal(sift_ctx_errmsg(ctx), "weigh: no weights for this run");
    sift_engine_free(e);
    assert_int_equal(teardowns, 0);
    /* outside the engine, with the caller's own setup */
    void *shared = NULL, *st = NULL;
    char err[SIFT_ERRBUF_SIZE];
    weigh_config_t cfg = {&setups, &teardowns, false};
    assert_int_equal(weigh_pass.setup(&cfg, &shared, err), 0);
    assert_int_equal(sift_pass_state_new_shared(&weigh_pass, &cfg, shared, &st), 0);
    assert_ptr_equal(sift_pass_shared(st), shared);
    assert_true(((weigh_state_t *)st)->saw_shared);
    sift_pass_state_free(&weigh_pass, st);
    weigh_pass.teardown(shared);
    sift_ctx_free(ctx);
}

/* sift_pass_fetch and sift_pass_later_range: at flow_end a pass reads a flow's first record of
 * every part again by offset and gets the record it saw, whatever range saw it; outside
 * flow_end it gets nothing. */
typedef struct first_seen {
    uint64_t offset;
    int64_t ts_ns;
    uint32_t caplen;
    uint16_t sport;
    bool set;
} first_seen_t;

typedef struct refetch_state {
    size_t flows, same, outside_refused;
    bool later;
} refetch_state_t;

static void refetch_packet(void *state, const sift_packet_t *pkt)
{
    refetch_state_t *s = state;
    first_seen_t *f = pkt->flow_state;
    const sift_packet_t *again;
    s->later = s->later || sift_pass_later_range(s);
    s->outside_refused += sift_pass_fetch(s, pkt->rec->offset, &again) == SIFT_EINVAL;
    if (f && !f->set)
        *f = (first_seen_t){pkt->rec->offset, pkt->rec->ts_ns, pkt->rec->caplen, pkt->sport, true};
}

static int refetch_merge(void *into, const void *from)
{
    refetch_state_t *a = into;
    const refetch_state_t *b = from;
    a->outside_refused += b->outside_refused;
    a->later = a->later || b->later;
    return 0;
}

static void refetch_join(void *into, const void *from)
{
    first_seen_t *a = into;
    if (!a->set)
        *a = *(const first_seen_t *)from;
}

static void refetch_end(void *state, const sift_flows_t *flows, const sift_flow_t *f, void *fs)
{
    (void)flows;
    (void)f;
    refetch_state_t *s = state;
    const first_seen_t *first = fs;
    const sift_packet_t *pkt;
    if (!first || !first->set)
        return;
    s->flows++;
    if (sift_pass_fetch(s, first->offset, &pkt) == 0 && pkt->rec->offset == first->offset &&
        pkt->rec->ts_ns == first->ts_ns && pkt->rec->caplen == first->caplen &&
        pkt->sport == first->sport)
        s->same++;
}

static const sift_pass_t refetch_pass = {.name = "refetch",
                                         .needs = SIFT_NEED_TRANSPORT,
                                         .state_size = sizeof(refetch_state_t),
                                         .packet = refetch_packet,
                                         .merge = refetch_merge,
                                         .flags = SIFT_PASS_FLOWS,
                                         .flow_state_size = sizeof(first_seen_t),
                                         .flow_join = refetch_join,
                                         .flow_end = refetch_end};

static void test_pass_fetch(void **state)
{
    (void)state;
    char path[4096];
    snprintf(path, sizeof path, "%s/pcapplusplus--http-packets.pcap", captures());
    sift_ctx_t *ctx = NULL;
    assert_int_equal(sift_ctx_create(&ctx), 0);
    for (int run = 0; run < 2; run++) {
        sift_engine_t *e = NULL;
        sift_engine_opts_t opts = {
            .threads = 2, .split_bytes = run ? 1 : UINT64_MAX, .chunk_bytes = run ? 4096 : 0};
        assert_int_equal(sift_engine_create(&e, ctx, &opts), 0);
        int p = sift_engine_add_pass(e, &refetch_pass, NULL);
        assert_true(p >= 0);
        assert_true(sift_engine_add_input(e, path) == 1);
        assert_int_equal(sift_engine_run(e), 0);
        const refetch_state_t *s = sift_engine_state(e, 0, p);
        assert_true(s->flows > 0);
        assert_int_equal(s->same, s->flows);
        assert_true(s->outside_refused > 1000); /* every packet's try, outside flow_end */
        assert_int_equal(s->later, run == 1);   /* only a split read has later ranges */
        sift_engine_free(e);
    }
    sift_ctx_free(ctx);
}

/* The result cache: a second run over the same files answers every input from it (nothing is
 * read), with the same state and record, problems of a damaged file included; a run with a
 * pass that cannot be saved never uses it. */
typedef struct served {
    size_t calls;
    bool all_cached;
} served_t;

static bool count_done(void *user, size_t i, const sift_input_t *in, void *const *states)
{
    (void)i;
    served_t *s = user;
    s->calls++;
    s->all_cached = s->all_cached && in->cached && states[0] != NULL;
    return false;
}

static sift_engine_t *run_cached(sift_ctx_t *ctx, sift_cache_t *cache, const char *const *paths,
                                 size_t n, bool with_plain, served_t *served)
{
    sift_engine_t *e = NULL;
    sift_engine_opts_t opts = {.threads = 2,
                               .cache = cache,
                               .split_bytes = 1,
                               .chunk_bytes = 65536,
                               .input_done = count_done,
                               .input_done_user = served};
    assert_int_equal(sift_engine_create(&e, ctx, &opts), 0);
    assert_int_equal(sift_engine_add_pass(e, &sift_info_pass, NULL), 0);
    if (with_plain)
        assert_int_equal(sift_engine_add_pass(e, &plain_pass, NULL), 1);
    for (size_t k = 0; k < n; k++)
        assert_true(sift_engine_add_input(e, paths[k]) == 1);
    served->calls = 0;
    served->all_cached = true;
    assert_int_equal(sift_engine_run(e), 0);
    assert_int_equal(served->calls, n);
    return e;
}

static void test_result_cache(void **state)
{
    (void)state;
    static const char *const names[] = {"pcapplusplus--http-packets.pcap",
                                        "dpkt--truncated_dns_2.pcap", "gopacket--le-test901.pcapng",
                                        "pcapplusplus--solaris.snoop"};
    char paths[4][4096];
    const char *p[4];
    for (int k = 0; k < 4; k++) {
        snprintf(paths[k], sizeof paths[k], "%s/%s", captures(), names[k]);
        p[k] = paths[k];
    }
    sift_ctx_t *ctx = NULL;
    sift_cache_t *cache = NULL;
    assert_int_equal(sift_ctx_create(&ctx), 0);
    assert_int_equal(sift_cache_open(&cache, ctx, NULL, NULL), 0);
    served_t sv;
    /* info looks at record headers only: cheaper than a fingerprint, so it caches only files
     * whose fingerprint is known */
    sift_engine_t *unknown = run_cached(ctx, cache, p, 4, false, &sv);
    sift_cache_stats_t cs;
    sift_cache_stats(cache, &cs);
    assert_int_equal(cs.session.puts, 0);
    sift_engine_free(unknown);
    for (int k = 0; k < 4; k++) {
        sift_fingerprint_t fp;
        assert_int_equal(sift_fpmemo_get(sift_cache_fpmemo(cache), p[k], &fp, NULL), 0);
    }
    sift_engine_t *read = run_cached(ctx, cache, p, 4, false, &sv);
    assert_false(sv.all_cached);
    sift_cache_stats(cache, &cs);
    assert_int_equal(cs.session.puts, 4);
    sift_engine_t *hit = run_cached(ctx, cache, p, 4, false, &sv);
    assert_true(sv.all_cached);
    for (size_t k = 0; k < 4; k++) {
        const sift_input_t *a = sift_engine_input(read, k), *b = sift_engine_input(hit, k);
        assert_false(a->cached);
        assert_true(b->cached);
        assert_int_equal(a->status, b->status);
        assert_int_equal(a->meta.format, b->meta.format);
        assert_int_equal(a->meta.niface, b->meta.niface);
        for (size_t f = 0; f < a->meta.niface; f++)
            assert_int_equal(a->meta.iface[f].linktype, b->meta.iface[f].linktype);
        assert_int_equal(a->nproblems, b->nproblems);
        assert_int_equal(a->problems_total, b->problems_total);
        for (size_t q = 0; q < a->nproblems; q++) {
            assert_int_equal(a->problems[q].offset, b->problems[q].offset);
            assert_string_equal(a->problems[q].message, b->problems[q].message);
        }
        sift_info_summary_t vx, vy, *x = &vx, *y = &vy;
        sift_info_get(sift_engine_state(read, k, 0), x);
        sift_info_get(sift_engine_state(hit, k, 0), y);
        assert_int_equal(x->packets, y->packets);
        assert_int_equal(x->bytes_wire, y->bytes_wire);
        assert_int_equal(x->first_ts_ns, y->first_ts_ns);
        assert_int_equal(x->last_ts_ns, y->last_ts_ns);
        assert_int_equal(x->nlinks, y->nlinks);
        assert_int_equal(x->time_ordered, y->time_ordered);
    }
    assert_true(sift_engine_input(read, 1)->nproblems > 0); /* the damaged one */
    sift_engine_free(read);
    sift_engine_free(hit);
    /* a pass without save and load: every input is read */
    sift_engine_t *mixed = run_cached(ctx, cache, p, 4, true, &sv);
    for (size_t k = 0; k < 4; k++)
        assert_false(sift_engine_input(mixed, k)->cached);
    sift_engine_free(mixed);
    sift_cache_close(cache);
    sift_ctx_free(ctx);
}

/* The flows and stats passes through the result cache: a stats run (with the flows it is
 * built on), split in small ranges on 2 threads, then answered from the cache with the inputs
 * in another order: every flow (counters, times, application name; its input the new run's),
 * node, map entry (in slot order) and size bucket as computed. A flows run that hands flows
 * to a callback never uses the cache; a result that ran out of memory is never stored. */
static sift_engine_t *run_stats_cached(sift_ctx_t *ctx, sift_cache_t *cache,
                                       const char *const *paths, size_t n,
                                       const sift_stats_config_t *cfg)
{
    sift_engine_t *e = NULL;
    sift_engine_opts_t opts = {
        .threads = 2, .cache = cache, .split_bytes = 1, .chunk_bytes = 65536, .totals = true};
    assert_int_equal(sift_engine_create(&e, ctx, &opts), 0);
    assert_int_equal(sift_engine_add_pass(e, &sift_stats_pass, cfg), 0);
    for (size_t k = 0; k < n; k++)
        assert_true(sift_engine_add_input(e, paths[k]) == 1);
    assert_int_equal(sift_engine_run(e), 0);
    return e;
}

static void assert_flows_equal(const sift_flows_t *a, const sift_flows_t *b, uint32_t b_input)
{
    sift_flows_summary_t va, vb;
    sift_flows_summary(a, &va);
    sift_flows_summary(b, &vb);
    assert_int_equal(va.packets, vb.packets);
    assert_int_equal(va.ip_packets, vb.ip_packets);
    assert_int_equal(va.non_ip_packets, vb.non_ip_packets);
    assert_int_equal(va.flows, vb.flows);
    assert_int_equal(va.active, vb.active);
    assert_int_equal(va.full, vb.full);
    assert_int_equal(sift_flows_count(a), sift_flows_count(b));
    for (size_t i = 0; i < sift_flows_count(a); i++) {
        const sift_flow_t *x = sift_flows_at(a, i), *y = sift_flows_at(b, i);
        assert_memory_equal(&x->key, &y->key, sizeof x->key);
        assert_int_equal(x->first_ns, y->first_ns);
        assert_int_equal(x->last_ns, y->last_ns);
        assert_memory_equal(x->packets, y->packets, sizeof x->packets);
        assert_memory_equal(x->bytes, y->bytes, sizeof x->bytes);
        assert_memory_equal(x->tcp_flags, y->tcp_flags, sizeof x->tcp_flags);
        assert_int_equal(x->a_is_hi, y->a_is_hi);
        assert_int_equal(x->origin, y->origin);
        assert_int_equal(x->vlan, y->vlan);
        assert_int_equal(x->history, y->history);
        assert_int_equal(x->app_state, y->app_state);
        assert_int_equal(y->input, b_input);
        char n1[80], n2[80];
        assert_string_equal(sift_flows_app_name(a, x, n1, sizeof n1),
                            sift_flows_app_name(b, y, n2, sizeof n2));
    }
}

static void assert_stats_equal(const sift_stats_t *a, const sift_stats_t *b)
{
    sift_stats_summary_t x, y;
    sift_stats_summary(a, &x);
    sift_stats_summary(b, &y);
    assert_int_equal(x.packets, y.packets);
    assert_int_equal(x.bytes, y.bytes);
    assert_int_equal(x.nnodes, y.nnodes);
    assert_int_equal(x.nodes_dropped, y.nodes_dropped);
    assert_memory_equal(x.size_packets, y.size_packets, sizeof x.size_packets);
    assert_memory_equal(x.size_bytes, y.size_bytes, sizeof x.size_bytes);
    assert_memory_equal(x.keys, y.keys, sizeof x.keys);
    assert_memory_equal(x.other_packets, y.other_packets, sizeof x.other_packets);
    for (unsigned i = 0; i < x.nnodes; i++) {
        const sift_stats_node_t *m = sift_stats_node(a, i), *n = sift_stats_node(b, i);
        assert_string_equal(m->name, n->name);
        assert_int_equal(m->parent, n->parent);
        assert_int_equal(m->packets, n->packets);
        assert_int_equal(m->bytes, n->bytes);
    }
    assert_null(sift_stats_node(a, x.nnodes));
    for (int map = 0; map < SIFT_STATS_NMAPS; map++) {
        sift_stats_entry_t *v, *w;
        int64_t n = sift_stats_entries(a, (sift_stats_map_id_t)map, 0, &v);
        assert_int_equal(n, (int64_t)x.keys[map]);
        assert_int_equal(sift_stats_entries(b, (sift_stats_map_id_t)map, 0, &w), n);
        if (n)
            assert_memory_equal(v, w, (size_t)n * sizeof *v);
        free(v);
        free(w);
    }
}

static void ignore_flow(void *user, const sift_flow_t *f)
{
    (void)f;
    (*(size_t *)user)++;
}

static void oom_finish(void *state)
{
    sift_pass_report(state, SIFT_ENOMEM, "out of memory: test");
}

static void oom_save(const void *state, sift_blob_t *out)
{
    (void)state;
    sift_blob_put(out, "x", 1);
}

static int oom_load(void *state, sift_blob_reader_t *in)
{
    (void)state;
    char c;
    return sift_blob_get(in, &c, 1) ? 0 : SIFT_ECORRUPT;
}

static const sift_pass_t oom_pass = {.name = "oom",
                                     .state_size = sizeof(cap_state_t),
                                     .packet = cap_packet,
                                     .merge = cap_merge,
                                     .finish = oom_finish,
                                     .save = oom_save,
                                     .load = oom_load};

static void test_result_cache_flows(void **state)
{
    (void)state;
    static const char *const names[] = {"pcapplusplus--http-packets.pcap", "ndpi--dtls.pcap",
                                        "dpkt--truncated_dns_2.pcap",
                                        "gopacket--le-test901.pcapng"};
    enum { N = 4 };
    char paths[N][4096];
    const char *p[N], *rev[N];
    for (int k = 0; k < N; k++) {
        snprintf(paths[k], sizeof paths[k], "%s/%s", captures(), names[k]);
        p[k] = rev[N - 1 - k] = paths[k];
    }
    sift_ctx_t *ctx = NULL;
    sift_cache_t *cache = NULL;
    assert_int_equal(sift_ctx_create(&ctx), 0);
    assert_int_equal(sift_cache_open(&cache, ctx, NULL, NULL), 0);
    sift_stats_config_t cfg = {.interval_ns = 1000000000};
    sift_engine_t *read = run_stats_cached(ctx, cache, p, N, &cfg);
    sift_cache_stats_t cs;
    sift_cache_stats(cache, &cs);
    assert_int_equal(cs.session.puts, N);
    sift_engine_t *hit = run_stats_cached(ctx, cache, rev, N, &cfg);
    int fp = sift_engine_flows_pass(read);
    assert_int_equal(fp, sift_engine_flows_pass(hit));
    for (size_t k = 0; k < N; k++) {
        size_t h = N - 1 - k;
        assert_false(sift_engine_input(read, k)->cached);
        assert_true(sift_engine_input(hit, h)->cached);
        assert_int_equal(sift_engine_input(read, k)->status, sift_engine_input(hit, h)->status);
        assert_flows_equal(sift_engine_state(read, k, fp), sift_engine_state(hit, h, fp),
                           (uint32_t)h);
        assert_stats_equal(sift_engine_state(read, k, 0), sift_engine_state(hit, h, 0));
    }
    assert_true(sift_flows_count(sift_engine_state(read, 0, fp)) > 0);
    /* the total of the answers merges as the total of the reads (in the same order: the
     * nodes of a total are in order of the inputs) */
    sift_engine_t *again = run_stats_cached(ctx, cache, p, N, &cfg);
    assert_stats_equal(sift_engine_total(read, 0), sift_engine_total(again, 0));
    sift_engine_free(again);
    /* the first k entries of a map are the first k of all of them */
    const sift_stats_t *st = sift_engine_total(read, 0);
    sift_stats_entry_t *all, *top;
    int64_t n = sift_stats_entries(st, SIFT_STATS_HOSTS, 0, &all);
    assert_true(n > 3);
    for (size_t k = 1; k <= (size_t)n + 1; k++) {
        int64_t m = sift_stats_entries(st, SIFT_STATS_HOSTS, k, &top);
        assert_int_equal(m, k < (size_t)n ? (int64_t)k : n);
        assert_memory_equal(top, all, (size_t)m * sizeof *top);
        free(top);
    }
    for (int64_t i = 1; i < n; i++)
        assert_true(all[i - 1].bytes >= all[i].bytes);
    free(all);
    sift_engine_free(read);
    sift_engine_free(hit);
    /* another config is another entry */
    sift_stats_config_t other = {.interval_ns = 60000000000};
    sift_engine_t *e = run_stats_cached(ctx, cache, p, 1, &other);
    assert_false(sift_engine_input(e, 0)->cached);
    sift_engine_free(e);
    /* flows handed to a callback: nothing looked up, nothing stored */
    sift_cache_stats(cache, &cs);
    uint64_t lookups = cs.session.l1_hits + cs.session.l2_hits + cs.session.misses,
             puts = cs.session.puts;
    size_t emitted = 0;
    sift_flows_config_t fc = {
        .table = {.idle_timeout_ns = 1}, .emit = ignore_flow, .emit_user = &emitted};
    sift_engine_opts_t opts = {.threads = 1, .cache = cache};
    assert_int_equal(sift_engine_create(&e, ctx, &opts), 0);
    assert_int_equal(sift_engine_add_pass(e, &sift_flows_pass, &fc), 0);
    assert_true(sift_engine_add_input(e, p[0]) == 1);
    assert_int_equal(sift_engine_run(e), 0);
    assert_true(emitted > 0);
    sift_engine_free(e);
    sift_cache_stats(cache, &cs);
    assert_int_equal(cs.session.l1_hits + cs.session.l2_hits + cs.session.misses, lookups);
    /* a result that ran out of memory is looked up but not stored */
    assert_int_equal(sift_engine_create(&e, ctx, &opts), 0);
    assert_int_equal(sift_engine_add_pass(e, &oom_pass, NULL), 0);
    assert_true(sift_engine_add_input(e, p[0]) == 1);
    assert_int_equal(sift_engine_run(e), 0);
    assert_int_equal(sift_engine_input(e, 0)->pass_status, SIFT_ENOMEM);
    sift_engine_free(e);
    sift_cache_stats(cache, &cs);
    assert_int_equal(cs.session.l1_hits + cs.session.l2_hits + cs.session.misses, lookups + 1);
    assert_int_equal(cs.session.puts, puts);
    sift_cache_close(cache);
    sift_ctx_free(ctx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_split_equals_whole),
        cmocka_unit_test(test_split_pcapng),
        cmocka_unit_test(test_split_pcapng_sections),
        cmocka_unit_test(test_split_damaged),
        cmocka_unit_test(test_split_zero_payload),
        cmocka_unit_test(test_split_traffic_corpus),
        cmocka_unit_test(test_filter),
        cmocka_unit_test(test_inputs),
        cmocka_unit_test(test_pool),
        cmocka_unit_test(test_pass_reports),
        cmocka_unit_test(test_pass_setup),
        cmocka_unit_test(test_pass_fetch),
        cmocka_unit_test(test_result_cache),
        cmocka_unit_test(test_result_cache_flows),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
