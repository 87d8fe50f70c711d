/* Tests of the cluster set and its clustering: a synthetic request/response protocol whose
 * types are known, duplicates, options, per-offset fields, thread-count and exact/LSH agreement,
 * and the pass run by the engine on a real capture. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <capsift/cluster.h>
#include <capsift/flow.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint64_t rng_next(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

#define NTYPES 4

/* A message of a made-up protocol: a 2-byte transaction id (random), a constant 0x00 0x00, a
 * 2-byte big-endian length of what follows, a unit byte (one of two), the type, then a body
 * whose layout depends on the type: some fixed bytes and a few that vary. Responses carry the
 * request's type and a longer body. */
static size_t make_msg(uint8_t *b, unsigned type, bool response, uint64_t *rng)
{
    size_t body = 4 + type * 3 + (response ? 6 : 0);
    uint64_t r = rng_next(rng);
    b[0] = (uint8_t)r;
    b[1] = (uint8_t)(r >> 8);
    b[2] = 0;
    b[3] = 0;
    b[4] = (uint8_t)((body + 2) >> 8);
    b[5] = (uint8_t)(body + 2);
    b[6] = (r >> 16) & 1 ? 0x11 : 0x22;
    b[7] = (uint8_t)(0x40 + type);
    for (size_t i = 0; i < body; i++) {
        uint64_t x = rng_next(rng);
        b[8 + i] = i % 3 == 0 ? (uint8_t)(x % 4) : (uint8_t)(0xa0 + type + i);
    }
    return 8 + body;
}

typedef struct truth {
    unsigned type;
    bool response;
} truth_t;

/* n request/response pairs over 8 flows into a new set (saying which answers which when pairs
 * is true); truth[unit] gets each unit's type. */
static sift_cluster_set_t *synthetic(size_t n, uint64_t seed, bool pairs, truth_t **truth)
{
    sift_cluster_set_t *s;
    assert_int_equal(sift_cluster_set_create(&s, 0), 0);
    *truth = calloc(2 * n, sizeof **truth);
    assert_non_null(*truth);
    uint64_t rng = seed;
    uint8_t b[128];
    for (size_t i = 0; i < n; i++) {
        unsigned type = (unsigned)(rng_next(&rng) % NTYPES);
        size_t unit[2];
        for (int resp = 0; resp < 2; resp++) {
            size_t len = make_msg(b, type, resp, &rng);
            sift_cluster_part_t part = {.proto = 6, .dir = (uint8_t)resp, .port = 4000};
            size_t before = sift_cluster_set_size(s);
            assert_int_equal(sift_cluster_set_add(s, part, b, len, 1, i % 8, &unit[resp]), 0);
            if (sift_cluster_set_size(s) > before)
                (*truth)[before] = (truth_t){type, resp};
        }
        if (pairs)
            assert_int_equal(sift_cluster_set_pair(s, unit[0], unit[1], 1), 0);
    }
    return s;
}

/* Every cluster holds one type and direction, and each (type, direction) is one cluster. */
static void assert_types(const sift_cluster_set_t *s, const sift_clustering_t *c,
                         const truth_t *truth)
{
    size_t n = sift_cluster_set_size(s);
    int of[NTYPES][2];
    memset(of, -1, sizeof of);
    for (size_t i = 0; i < n; i++) {
        uint32_t id = sift_clustering_of(c, i);
        int *slot = &of[truth[i].type][truth[i].response];
        if (*slot < 0)
            *slot = (int)id;
        assert_int_equal(*slot, (int)id); /* complete */
    }
    assert_int_equal(sift_clustering_count(c), 2 * NTYPES); /* so also homogeneous */
}

static void test_synthetic_types(void **state)
{
    (void)state;
    truth_t *truth;
    sift_cluster_set_t *s = synthetic(3000, 7, true, &truth);
    sift_clustering_t *c;
    assert_int_equal(sift_cluster_run(s, NULL, &c), 0);
    assert_types(s, c, truth);
    sift_clustering_stats_t st;
    sift_clustering_stats(c, &st);
    assert_int_equal(st.parts, 2);
    assert_true(st.joined <= st.candidates);
    assert_true(st.merged > 0); /* the body's varying bytes split the types until merged */
    const sift_cluster_info_t *x = sift_clustering_get(c, 0);
    assert_non_null(x);
    assert_false(x->text);
    assert_int_equal(x->prefix, 0); /* the transaction id differs from the first byte on */
    /* a response is not a request */
    assert_int_equal(sift_cluster_set_pair(s, 1, 0, 1), SIFT_EINVAL);
    assert_int_equal(sift_cluster_set_pair(s, 0, sift_cluster_set_size(s), 1), SIFT_EINVAL);
    /* a segment follows one of its own part: units 0 and 1 are a request and a response */
    assert_int_equal(sift_cluster_set_follow(s, 0, 1, 1), SIFT_EINVAL);
    assert_int_equal(sift_cluster_set_follow(s, 0, sift_cluster_set_size(s), 1), SIFT_EINVAL);
    assert_int_equal(st.continued, 0); /* no part with a magic */
    /* without the merge by type field, the types stay split (but pure) */
    sift_cluster_opts_t o = {.no_merge = true};
    sift_clustering_t *fine;
    assert_int_equal(sift_cluster_run(s, &o, &fine), 0);
    assert_true(sift_clustering_count(fine) > sift_clustering_count(c));
    for (size_t i = 0; i < sift_cluster_set_size(s); i++)
        for (size_t j = i + 1; j < sift_cluster_set_size(s) && j < i + 50; j++)
            if (sift_clustering_of(fine, i) == sift_clustering_of(fine, j))
                assert_true(truth[i].type == truth[j].type &&
                            truth[i].response == truth[j].response);
    sift_clustering_free(fine);
    sift_clustering_free(c);
    sift_cluster_set_free(s);
    free(truth);
    /* without pairs nothing shows the type field: the clusters stay as found */
    s = synthetic(3000, 7, false, &truth);
    assert_int_equal(sift_cluster_run(s, NULL, &c), 0);
    sift_clustering_stats(c, &st);
    assert_int_equal(st.merged, 0);
    sift_clustering_free(c);
    sift_cluster_set_free(s);
    free(truth);
}

/* A made-up protocol over a stream: a 4-byte length, the magic fe 'C' 'S' 'P', a sequence
 * number of its flow (mod 16), the type, four bytes of the type, a random id; a response
 * carries the request's type and sequence number. Each response is followed by three segments that
 * continue it (random bytes). The magic tells the messages from the continuations, whose bytes
 * would hide the type field; the sequence number is no format field, though it takes 16 values. */
static size_t make_stream_msg(uint8_t *b, unsigned type, bool response, unsigned seq, uint64_t *rng)
{
    size_t len = 16 + (response ? 4 : 0);
    static const uint8_t magic[4] = {0xfe, 'C', 'S', 'P'};
    b[0] = 0;
    b[1] = 0;
    b[2] = 0;
    b[3] = (uint8_t)(len - 4);
    memcpy(b + 4, magic, 4);
    b[8] = (uint8_t)(seq % 16);
    b[9] = (uint8_t)(0x10 + type);
    for (size_t i = 10; i < len; i++)
        b[i] = (uint8_t)(0x30 + type * 7 + i + response);
    uint64_t x = rng_next(rng); /* a request id: every message is a payload of its own */
    b[14] = (uint8_t)x;
    b[15] = (uint8_t)(x >> 8);
    return len;
}

static void test_magic_and_sequence(void **state)
{
    (void)state;
    /* mode 0: payloads only; 1: and the request/response pairs; 2: and each segment's
     * predecessor from the same sender, so the continuations join their messages */
    for (int mode = 0; mode < 3; mode++) {
        bool pairs = mode > 0, follows = mode == 2;
        sift_cluster_set_t *s;
        assert_int_equal(sift_cluster_set_create(&s, 0), 0);
        size_t n = 800, cap = 8 * n;
        truth_t *truth = calloc(cap, sizeof *truth);
        bool *is_msg = calloc(cap, sizeof *is_msg);
        assert_true(truth && is_msg);
        uint64_t rng = 11;
        unsigned seq[8] = {0};
        uint8_t b[128];
        for (size_t i = 0; i < n; i++) {
            unsigned type = (unsigned)(rng_next(&rng) % NTYPES), flow = (unsigned)(i % 8);
            size_t unit[2];
            for (int resp = 0; resp < 2; resp++) {
                size_t len = make_stream_msg(b, type, resp, seq[flow], &rng); /* echoed */
                sift_cluster_part_t part = {.proto = 6, .dir = (uint8_t)resp, .port = 4100};
                size_t before = sift_cluster_set_size(s);
                assert_int_equal(sift_cluster_set_add(s, part, b, len, 1, flow, &unit[resp]), 0);
                if (sift_cluster_set_size(s) > before) {
                    truth[before] = (truth_t){type, resp};
                    is_msg[before] = true;
                }
                size_t prev = unit[resp];
                for (int k = 0; resp && k < 3; k++) {
                    for (size_t j = 0; j < 64; j++)
                        b[j] = (uint8_t)rng_next(&rng);
                    size_t at = sift_cluster_set_size(s), cu;
                    assert_int_equal(sift_cluster_set_add(s, part, b, 64, 1, flow, &cu), 0);
                    assert_int_equal(cu, at);          /* random bytes: a new unit */
                    truth[at] = (truth_t){type, resp}; /* of the message it continues */
                    if (follows)
                        assert_int_equal(sift_cluster_set_follow(s, prev, cu, 1), 0);
                    prev = cu;
                }
            }
            seq[flow]++;
            if (pairs)
                assert_int_equal(sift_cluster_set_pair(s, unit[0], unit[1], 1), 0);
        }
        sift_clustering_t *c;
        assert_int_equal(sift_cluster_run(s, NULL, &c), 0);
        size_t m = sift_cluster_set_size(s);
        int of[NTYPES][2];
        memset(of, -1, sizeof of);
        for (size_t i = 0; i < m; i++) {
            if (!is_msg[i])
                continue;
            uint32_t id = sift_clustering_of(c, i);
            int *slot = &of[truth[i].type][truth[i].response];
            if (*slot < 0)
                *slot = (int)id;
            assert_int_equal(*slot, (int)id); /* complete: the sequence number splits nothing */
        }
        /* homogeneous: no continuation in a message's cluster, unless the flows show it
         * continues one of that cluster's messages (then all of them are there) */
        size_t continued = 0;
        for (size_t i = 0; i < m; i++) {
            uint32_t id = sift_clustering_of(c, i);
            continued += !is_msg[i];
            for (int t = 0; t < NTYPES; t++)
                for (int r = 0; r < 2; r++)
                    if (of[t][r] == (int)id)
                        assert_true((is_msg[i] || follows) && truth[i].type == (unsigned)t &&
                                    truth[i].response == r);
            if (follows && !is_msg[i])
                assert_int_equal(id, of[truth[i].type][truth[i].response]);
        }
        sift_clustering_stats_t st;
        sift_clustering_stats(c, &st);
        assert_int_equal(st.continued, follows ? continued : 0);
        if (follows) { /* what a cluster shows is of its messages; its continuations come last */
            const sift_cluster_info_t *x = sift_clustering_get(c, (size_t)of[0][1]);
            const uint32_t *units;
            size_t nu;
            sift_clustering_units(c, x->id, &units, &nu);
            assert_true(x->continuations > 0 && x->continuations < nu);
            for (size_t k = 0; k < nu; k++)
                assert_int_equal(is_msg[units[k]], k < nu - x->continuations);
            assert_true(x->prefix == 8 && x->min_len == 20 && x->max_len == 20);
        }
        if (pairs) { /* the type field, found under the continuations' noise */
            const sift_cluster_info_t *x = sift_clustering_get(c, (size_t)of[0][1]);
            assert_int_equal(x->type_offset, 9);
            assert_int_equal(x->type, 0x10);
        }
        /* a type byte only where every payload has it, or every message when continuations
         * joined them */
        for (size_t i = 0; i < m; i++) {
            const sift_cluster_info_t *x = sift_clustering_get(c, sift_clustering_of(c, i));
            if (!is_msg[i] && x->units > 1)
                assert_int_equal(x->type_offset, follows ? 9 : -1);
        }
        sift_clustering_free(c);
        sift_cluster_set_free(s);
        free(truth);
        free(is_msg);
    }
}

/* A payload without the part's magic that carries a header of another kind (a value common at
 * the magic's offset, as SMB1's beside SMB2's) is no continuation: it stays out of the cluster of
 * the message before it, while the data segments between join theirs (over TCP). */
static void other_header_on(uint8_t proto)
{
    sift_cluster_set_t *s;
    assert_int_equal(sift_cluster_set_create(&s, 0), 0);
    size_t n = 600;
    enum { MSG, DATA, OTHER } *kind = calloc(8 * n, sizeof *kind);
    size_t *msg_of = calloc(8 * n, sizeof *msg_of);
    assert_true(kind && msg_of);
    uint64_t rng = 5;
    uint8_t b[128];
    sift_cluster_part_t part = {.proto = proto, .dir = 1, .port = 4200};
    size_t datas = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned type = (unsigned)(rng_next(&rng) % NTYPES), flow = (unsigned)(i % 8);
        size_t len = make_stream_msg(b, type, true, (unsigned)i, &rng), m, prev, u;
        assert_int_equal(sift_cluster_set_add(s, part, b, len, 1, flow, &m), 0);
        kind[m] = MSG;
        prev = m;
        for (int k = 0; k < 2; k++) {
            for (size_t j = 0; j < 64; j++)
                b[j] = (uint8_t)rng_next(&rng);
            assert_int_equal(sift_cluster_set_add(s, part, b, 64, 1, flow, &u), 0);
            assert_int_equal(sift_cluster_set_follow(s, prev, u, 1), 0);
            kind[u] = DATA;
            msg_of[u] = m;
            prev = u;
            datas++;
        }
        if (i % 5 == 0) { /* then a message of the other kind, from the same sender */
            len = make_stream_msg(b, type, true, (unsigned)i, &rng);
            b[0] = 1; /* as a longer message's length would */
            memcpy(b + 4, "OTHR", 4);
            assert_int_equal(sift_cluster_set_add(s, part, b, len, 1, flow, &u), 0);
            assert_int_equal(sift_cluster_set_follow(s, prev, u, 1), 0);
            kind[u] = OTHER;
            msg_of[u] = m;
        }
    }
    sift_clustering_t *c;
    assert_int_equal(sift_cluster_run(s, NULL, &c), 0);
    sift_clustering_stats_t st;
    sift_clustering_stats(c, &st);
    assert_int_equal(st.continued, proto == 6 ? datas : 0);
    for (size_t i = 0; i < sift_cluster_set_size(s); i++) {
        if (kind[i] == DATA && proto == 6)
            assert_int_equal(sift_clustering_of(c, i), sift_clustering_of(c, msg_of[i]));
        if (kind[i] == OTHER)
            assert_int_not_equal(sift_clustering_of(c, i), sift_clustering_of(c, msg_of[i]));
    }
    sift_clustering_free(c);
    sift_cluster_set_free(s);
    free(kind);
    free(msg_of);
}

static void test_other_header(void **state)
{
    (void)state;
    for (uint8_t proto = 6; proto <= 17; proto += 11) /* over UDP, no payload continues another */
        other_header_on(proto);
}

/* Same clusters, ids and statistics for any thread count; --exact finds the same partition. */
static void test_threads_and_exact(void **state)
{
    (void)state;
    truth_t *truth;
    sift_cluster_set_t *s = synthetic(1500, 99, true, &truth);
    sift_cluster_opts_t o1 = {.threads = 1}, o4 = {.threads = 4}, oe = {.exact = true};
    sift_clustering_t *c1, *c4, *ce;
    assert_int_equal(sift_cluster_run(s, &o1, &c1), 0);
    assert_int_equal(sift_cluster_run(s, &o4, &c4), 0);
    assert_int_equal(sift_cluster_run(s, &oe, &ce), 0);
    assert_int_equal(sift_clustering_count(c1), sift_clustering_count(c4));
    for (size_t i = 0; i < sift_cluster_set_size(s); i++) {
        assert_int_equal(sift_clustering_of(c1, i), sift_clustering_of(c4, i));
        assert_int_equal(sift_clustering_of(c1, i), sift_clustering_of(ce, i));
    }
    sift_clustering_stats_t a, b;
    sift_clustering_stats(c1, &a);
    sift_clustering_stats(ce, &b);
    assert_true(b.candidates >= a.candidates); /* every pair against the LSH candidates */
    sift_clustering_free(c1);
    sift_clustering_free(c4);
    sift_clustering_free(ce);
    sift_cluster_set_free(s);
    free(truth);
}

static void test_duplicates_and_options(void **state)
{
    (void)state;
    sift_cluster_set_t *s;
    assert_int_equal(sift_cluster_set_create(&s, 4), 0);
    sift_cluster_part_t p = {.proto = 17, .dir = 0, .port = 53};
    assert_int_equal(sift_cluster_set_add(s, p, "abcdefgh", 8, 2, 1, NULL), 0);
    assert_int_equal(sift_cluster_set_add(s, p, "abcdefgh", 8, 3, 2, NULL), 0);
    assert_int_equal(sift_cluster_set_add(s, p, "abcdefgX", 8, 1, 2, NULL),
                     0); /* kept bytes equal */
    p.dir = 1;
    assert_int_equal(sift_cluster_set_add(s, p, "abcdefgh", 8, 1, 1, NULL), 0); /* another part */
    assert_int_equal(sift_cluster_set_size(s), 3);
    sift_cluster_unit_t u;
    sift_cluster_set_unit(s, 0, &u);
    assert_int_equal(u.packets, 5);
    assert_int_equal(u.kept, 4);
    assert_int_equal(u.len, 8);
    assert_memory_equal(u.data, "abcd", 4);
    assert_int_equal(sift_cluster_set_members(s, 0, NULL, 0), 0);
    sift_clustering_t *c;
    sift_cluster_opts_t bad = {.threshold = 1.5};
    assert_int_equal(sift_cluster_run(s, &bad, &c), SIFT_EINVAL);
    assert_null(c);
    bad = (sift_cluster_opts_t){.k = 12};
    assert_int_equal(sift_cluster_run(s, &bad, &c), SIFT_EINVAL);
    assert_int_equal(sift_cluster_run(s, NULL, &c), 0);
    /* text: 3-grams of the kept bytes, equal for the two client payloads */
    assert_int_equal(sift_clustering_count(c), 2);
    const sift_cluster_info_t *x = sift_clustering_get(c, 0);
    assert_int_equal(x->packets, 6);
    assert_int_equal(x->units, 2);
    assert_int_equal(x->flows, 2);
    assert_true(x->text);
    assert_int_equal(x->part.dir, 0);
    assert_true(x->part_share == 1.0);
    assert_null(sift_clustering_get(c, 2));
    sift_clustering_free(c);
    sift_cluster_set_free(s);
    sift_cluster_set_t *big;
    assert_int_equal(sift_cluster_set_create(&big, 65536), SIFT_EINVAL);
    assert_null(big);
}

/* The per-offset view finds the synthetic protocol's length field and constants. */
static void test_fields(void **state)
{
    (void)state;
    truth_t *truth;
    sift_cluster_set_t *s = synthetic(400, 3, true, &truth);
    sift_clustering_t *c;
    assert_int_equal(sift_cluster_run(s, NULL, &c), 0);
    for (size_t id = 0; id < sift_clustering_count(c); id++) {
        sift_cluster_field_t *f;
        int64_t n = sift_clustering_fields(c, id, &f);
        assert_true(n > 4);
        bool length = false, type = false;
        for (int64_t i = 0; i < n; i++) {
            if (f[i].offset <= 4 && f[i].offset + f[i].width >= 6 &&
                f[i].kind == SIFT_FIELD_CONSTANT)
                fail_msg("offset %u: the length bytes are one field", f[i].offset);
            /* the length's two bytes are constant within a type: one length per type here */
            if (f[i].offset == 7) {
                type = f[i].kind == SIFT_FIELD_CONSTANT && f[i].value >= 0x40;
                assert_true(type);
            }
            length |= f[i].offset == 4;
        }
        (void)length;
        free(f);
    }
    sift_clustering_free(c);
    sift_cluster_set_free(s);
    free(truth);
}

/* A length field where the lengths differ: a cluster with two lengths. */
static void test_length_field(void **state)
{
    (void)state;
    sift_cluster_set_t *s;
    assert_int_equal(sift_cluster_set_create(&s, 0), 0);
    sift_cluster_part_t p = {.proto = 6, .dir = 0, .port = 9};
    uint8_t b[64];
    for (unsigned i = 0; i < 40; i++) {
        size_t len = 10 + (i % 5);
        memset(b, 0x55, sizeof b);
        b[0] = 0xab;
        b[1] = (uint8_t)(len - 3); /* length minus the 3 header bytes */
        b[2] = (uint8_t)i;         /* a counter */
        assert_int_equal(sift_cluster_set_add(s, p, b, len, 1, 0, NULL), 0);
    }
    sift_cluster_opts_t o = {.threshold = 0.3};
    sift_clustering_t *c;
    assert_int_equal(sift_cluster_run(s, &o, &c), 0);
    assert_int_equal(sift_clustering_count(c), 1);
    sift_cluster_field_t *f;
    int64_t n = sift_clustering_fields(c, 0, &f);
    assert_true(n >= 3);
    assert_int_equal(f[0].kind, SIFT_FIELD_CONSTANT);
    assert_int_equal(f[0].value, 0xab);
    assert_int_equal(f[1].kind, SIFT_FIELD_LENGTH);
    assert_int_equal(f[1].width, 1);
    assert_int_equal(f[1].delta, -3);
    free(f);
    sift_clustering_free(c);
    sift_cluster_set_free(s);
}

typedef struct cap_run {
    sift_ctx_t *ctx;
    sift_engine_t *e;
    int pass;
} cap_run_t;

static void run_capture(cap_run_t *r, const char *path, unsigned threads, bool by_flow)
{
    static sift_cluster_config_t cfg[2];
    cfg[by_flow] = (sift_cluster_config_t){.members = true, .by_flow = by_flow};
    assert_int_equal(sift_ctx_create(&r->ctx), 0);
    sift_engine_opts_t eo = {.threads = threads, .split_bytes = 4096, .chunk_bytes = 4096};
    assert_int_equal(sift_engine_create(&r->e, r->ctx, &eo), 0);
    r->pass = sift_engine_add_pass(r->e, &sift_cluster_pass, &cfg[by_flow]);
    assert_true(r->pass >= 0);
    assert_int_equal(sift_engine_add_input(r->e, path), 1);
    assert_int_equal(sift_engine_run(r->e), 0);
}

/* The pass on a real capture, split into 4 KiB ranges or not: the same units, counts and
 * members, numbered as tshark numbers packets; per packet and per flow direction. */
static void pass_on_capture(bool by_flow)
{
    const char *dir = getenv("SIFT_TEST_CAPTURES");
    if (!dir)
        skip();
    char path[1024];
    snprintf(path, sizeof path, "%s/dpkt--http.pcap", dir);
    cap_run_t a, b;
    run_capture(&a, path, 1, by_flow);
    run_capture(&b, path, 4, by_flow);
    sift_cluster_set_t *sa, *sb;
    assert_int_equal(sift_cluster_set_create(&sa, 0), 0);
    assert_int_equal(sift_cluster_set_create(&sb, 0), 0);
    const void *st = sift_engine_state(a.e, 0, a.pass);
    assert_non_null(st);
    sift_cluster_summary_t sum;
    sift_cluster_summary(st, &sum);
    assert_true(sum.packets > 0);
    assert_int_equal(sift_cluster_set_add_state(sa, st, 0), 0);
    assert_int_equal(sift_cluster_set_add_state(sb, sift_engine_state(b.e, 0, b.pass), 0), 0);
    assert_int_equal(sift_cluster_set_size(sa), sift_cluster_set_size(sb));
    uint64_t packets = 0;
    for (size_t i = 0; i < sift_cluster_set_size(sa); i++) {
        sift_cluster_unit_t ua, ub;
        sift_cluster_set_unit(sa, i, &ua);
        sift_cluster_set_unit(sb, i, &ub);
        assert_int_equal(ua.packets, ub.packets);
        assert_int_equal(ua.part.dir, ub.part.dir);
        assert_int_equal(ua.part.port, ub.part.port);
        assert_memory_equal(ua.data, ub.data, ua.kept);
        size_t n = sift_cluster_set_members(sa, i, NULL, 0);
        assert_int_equal(n, ua.packets);
        sift_cluster_member_t ma[64], mb[64];
        assert_int_equal(sift_cluster_set_members(sb, i, NULL, 0), n);
        sift_cluster_set_members(sa, i, ma, 64);
        sift_cluster_set_members(sb, i, mb, 64);
        for (size_t k = 0; k < n && k < 64; k++) {
            assert_int_equal(ma[k].packet, mb[k].packet);
            assert_true(ma[k].packet >= 1);
        }
        packets += ua.packets;
        assert_true(ua.part.port == 80 || ua.part.port == 53); /* HTTP, DNS: servers' ports */
        if (by_flow)
            assert_int_equal(ua.packets, 1); /* one flow's direction each: all differ */
    }
    if (!by_flow)
        assert_int_equal(packets, sum.packets);
    else
        assert_true(packets < sum.packets);
    sift_clustering_t *c;
    assert_int_equal(sift_cluster_run(sa, NULL, &c), 0);
    assert_true(sift_clustering_count(c) >= 2); /* requests and responses apart */
    assert_true(sift_clustering_get(c, 0)->text || sift_clustering_get(c, 1)->text);
    sift_clustering_free(c);
    sift_cluster_set_free(sa);
    sift_cluster_set_free(sb);
    sift_engine_free(a.e);
    sift_engine_free(b.e);
    sift_ctx_free(a.ctx);
    sift_ctx_free(b.ctx);
}

static void test_pass_on_capture(void **state)
{
    (void)state;
    pass_on_capture(false);
}

static void test_pass_by_flow(void **state)
{
    (void)state;
    pass_on_capture(true);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_synthetic_types),        cmocka_unit_test(test_threads_and_exact),
        cmocka_unit_test(test_duplicates_and_options), cmocka_unit_test(test_fields),
        cmocka_unit_test(test_length_field),           cmocka_unit_test(test_pass_on_capture),
        cmocka_unit_test(test_pass_by_flow),           cmocka_unit_test(test_magic_and_sequence),
        cmocka_unit_test(test_other_header),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
