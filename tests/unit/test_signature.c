/* Tests of signatures: learnt from a clustering of a made-up protocol whose types are known,
 * the labelling rule (type byte, share of the mask, ties, minimum, short payloads), the
 * classification's counts and confidence, a TCP stream's continuation segments, the index's table
 * (save, names taken, load, rename, delete, usage, a damaged row), and the Lua dissector's text. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <capsift/index.h>
#include <capsift/signature.h>

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* A request of type t (0..3): 2 random id bytes, 00 00, the type at 4, then 8 bytes fixed per
 * type with one that varies. */
static size_t make_msg(uint8_t *b, unsigned t, uint64_t *rng)
{
    *rng = *rng * 6364136223846793005u + 1442695040888963407u;
    b[0] = (uint8_t)(*rng >> 33);
    b[1] = (uint8_t)(*rng >> 41);
    b[2] = 0;
    b[3] = 0;
    b[4] = (uint8_t)(0x10 + t);
    for (unsigned i = 0; i < 8; i++)
        b[5 + i] = i == 3 ? (uint8_t)(*rng >> 50) : (uint8_t)(0x80 + 16 * t + i);
    return 13;
}

static const sift_cluster_part_t part = {.proto = 17, .dir = 0, .port = 7000};

static sift_cluster_set_t *synthetic(size_t n, uint64_t seed, unsigned ntypes)
{
    sift_cluster_set_t *s;
    assert_int_equal(sift_cluster_set_create(&s, 0), 0);
    uint8_t b[64];
    for (size_t i = 0; i < n; i++) {
        size_t len = make_msg(b, (unsigned)(i % ntypes), &seed);
        assert_int_equal(sift_cluster_set_add(s, part, b, len, 1 + (i / ntypes) % 2, i % 5, NULL),
                         0);
    }
    return s;
}

static sift_signatures_t *learn(const sift_cluster_set_t *set, const char *name)
{
    sift_clustering_t *c;
    assert_int_equal(sift_cluster_run(set, NULL, &c), 0);
    sift_signatures_t *s;
    assert_int_equal(sift_signatures_create(&s), 0);
    int64_t n = sift_signatures_learn(s, set, c, name, 2, 1000);
    assert_int_equal(n, (int64_t)sift_clustering_count(c));
    assert_int_equal(sift_signatures_learn(s, set, c, "", 2, 1000), SIFT_EINVAL);
    sift_clustering_free(c);
    return s;
}

static void test_learn_and_label(void **state)
{
    (void)state;
    sift_cluster_set_t *set = synthetic(400, 3, 4);
    sift_signatures_t *s = learn(set, "toy");
    assert_int_equal(sift_signatures_count(s), 4);
    for (size_t i = 0; i < 4; i++) {
        const sift_signature_t *g = sift_signatures_get(s, i);
        assert_true(strncmp(g->name, "toy-", 4) == 0);
        assert_string_equal(g->set, "toy");
        /* the fixed bytes: 2, 3, the type and 7 of the body; not the id, not the varying one */
        assert_int_equal(g->nmask, 10);
        assert_int_equal(g->mask[0].offset, 2);
        assert_int_equal(g->packets, 150);
        assert_int_equal(g->confidence, 0.5);
        assert_int_equal(g->created, 1000);
        assert_true(i == 0 || strcmp(sift_signatures_get(s, i - 1)->name, g->name) < 0);
    }
    /* a fresh message of each type gets its type's signature, similarity 1 */
    uint64_t rng = 99;
    uint8_t b[64];
    for (unsigned t = 0; t < 4; t++) {
        size_t len = make_msg(b, t, &rng);
        double sim;
        int64_t k = sift_sigmatch(s, part, b, len, 0.75, &sim);
        assert_true(k >= 0);
        assert_int_equal(sim, 1.0);
        const sift_signature_t *g = sift_signatures_get(s, (size_t)k);
        for (uint32_t m = 0; m < g->nmask; m++)
            assert_int_equal(b[g->mask[m].offset], g->mask[m].value);
        /* two body bytes changed: 8 of 10, still it at 0.75, none at 0.9 */
        b[5] ^= 1;
        b[6] ^= 1;
        assert_int_equal(sift_sigmatch(s, part, b, len, 0.75, &sim), k);
        assert_int_equal(sim, 0.8);
        assert_int_equal(sift_sigmatch(s, part, b, len, 0.9, &sim), -1);
        assert_int_equal(sim, 0.8); /* the best is still said */
        /* and the type byte too: 7 of 10 */
        b[4] ^= 0x40;
        assert_int_equal(sift_sigmatch(s, part, b, len, 0.75, &sim), -1);
        assert_int_equal(sim, 0.7);
        b[4] ^= 0x40;
        /* cut short: the missing bytes count as different */
        assert_int_equal(sift_sigmatch(s, part, b, 7, 0, &sim), k);
        assert_true(sim < 0.5);
        /* another part: nothing */
        sift_cluster_part_t other = part;
        other.dir = 1;
        assert_int_equal(sift_sigmatch(s, other, b, len, 0, &sim), -1);
        assert_int_equal(sim, 0);
    }
    /* a signature with a type byte labels only payloads that have it, however similar */
    sift_signatures_t *typed;
    assert_int_equal(sift_signatures_create(&typed), 0);
    sift_signature_t g = *sift_signatures_get(s, 0);
    g.type_offset = 4;
    g.type = g.example[4];
    assert_int_equal(sift_signatures_add(typed, &g), 0);
    memcpy(b, g.example, g.example_len);
    double sim;
    assert_int_equal(sift_sigmatch(typed, part, b, g.example_len, 0, &sim), 0);
    b[4] ^= 0x40;
    assert_int_equal(sift_sigmatch(typed, part, b, g.example_len, 0, &sim), -1);
    assert_int_equal(sift_sigmatch(typed, part, b, 3, 0, &sim), -1); /* too short to have it */
    sift_signatures_free(typed);
    sift_signatures_free(s);
    sift_cluster_set_free(set);
}

static void test_classify(void **state)
{
    (void)state;
    sift_cluster_set_t *set = synthetic(400, 3, 4);
    sift_signatures_t *s = learn(set, "toy");
    /* only types 0..2 are known now: drop the signature of type 3 */
    sift_signatures_t *known;
    assert_int_equal(sift_signatures_create(&known), 0);
    for (size_t i = 0; i < sift_signatures_count(s); i++) {
        const sift_signature_t *g = sift_signatures_get(s, i);
        if (g->example[4] != 0x13)
            assert_int_equal(sift_signatures_add(known, g), 0);
    }
    sift_signatures_sort(known);
    assert_int_equal(sift_signatures_count(known), 3);
    sift_cluster_set_t *fresh = synthetic(80, 11, 4);
    sift_classification_t *c;
    assert_int_equal(sift_classify(fresh, known, 1.5, &c), SIFT_EINVAL);
    assert_int_equal(sift_classify(fresh, known, 0.75, &c), 0);
    uint64_t packets = 0;
    for (size_t i = 0; i < 3; i++) {
        const sift_class_sig_t *x = sift_classification_sig(c, i);
        assert_int_equal(x->units, 20);
        assert_int_equal(x->packets, 30); /* 1 or 2 packets a unit, alternately */
        assert_int_equal(x->flows, 5);
        assert_int_equal(x->min_similarity, 1.0);
        packets += x->packets;
    }
    assert_int_equal(sift_classification_nparts(c), 1);
    const sift_class_part_t *p = sift_classification_part(c, 0);
    assert_int_equal(p->packets, 120);
    assert_int_equal(p->unmatched_units, 20);
    assert_int_equal(p->unmatched_packets, 120 - packets);
    sift_cluster_unit_t u;
    sift_cluster_set_unit(fresh, p->example, &u);
    assert_int_equal(u.data[4], 0x13);
    /* the unknown type's nearest signature by sketch: a hint, a similarity below 1 */
    assert_true(p->nearest >= 0 && p->nearest < 3);
    assert_true(p->nearest_similarity >= 0 && p->nearest_similarity < 1);
    for (size_t i = 0; i < sift_cluster_set_size(fresh); i++) {
        sift_cluster_set_unit(fresh, i, &u);
        const sift_class_unit_t *r = sift_classification_unit(c, i);
        if (u.data[4] == 0x13)
            assert_int_equal(r->sig, -1);
        else
            assert_int_equal(sift_signatures_get(known, (size_t)r->sig)->example[4], u.data[4]);
    }
    /* confidence: up a fifth of the way for those that labelled, unchanged elsewhere */
    sift_classification_apply(c, known, 5000);
    for (size_t i = 0; i < 3; i++) {
        const sift_signature_t *g = sift_signatures_get(known, i);
        assert_int_equal(g->usage, 30);
        assert_int_equal(g->last_seen, 5000);
        assert_true(g->confidence > 0.5999 && g->confidence < 0.6001);
    }
    sift_classification_free(c);
    /* traffic of the part, none of one type: that one falls by a fifth */
    sift_cluster_set_t *two = synthetic(40, 5, 2);
    assert_int_equal(sift_classify(two, known, 0.75, &c), 0);
    assert_int_equal(sift_classification_part(c, 0)->nearest, -1); /* all labelled */
    sift_classification_apply(c, known, 6000);
    int fell = 0;
    for (size_t i = 0; i < 3; i++) {
        const sift_signature_t *g = sift_signatures_get(known, i);
        if (g->last_seen == 5000) {
            assert_true(g->confidence > 0.4799 && g->confidence < 0.4801);
            fell++;
        } else {
            assert_true(g->confidence > 0.6799 && g->confidence < 0.6801);
        }
    }
    assert_int_equal(fell, 1);
    sift_classification_free(c);
    sift_cluster_set_free(two);
    sift_cluster_set_free(fresh);
    sift_signatures_free(known);
    sift_signatures_free(s);
    sift_cluster_set_free(set);
}

/* The dissector of s (minimum 0.75), malloc'd. */
static char *lua_text(const sift_signatures_t *s)
{
    char *text = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&text, &len);
    assert_non_null(out);
    assert_int_equal(sift_signatures_lua(s, 0.75, out), 0);
    fclose(out);
    return text;
}

/* A hand-made signature of tcp/9000 client: the mask is the first n bytes of bytes. */
static void add_sig(sift_signatures_t *s, const char *name, const uint8_t *bytes, uint32_t n)
{
    sift_sig_byte_t mask[16];
    for (uint32_t i = 0; i < n; i++)
        mask[i] = (sift_sig_byte_t){.offset = (uint16_t)i, .value = bytes[i]};
    sift_signature_t g = {.name = name,
                          .set = "seg",
                          .part = {.proto = 6, .dir = 0, .port = 9000},
                          .mask = mask,
                          .nmask = n,
                          .type_offset = -1,
                          .example = bytes,
                          .example_len = n,
                          .confidence = 0.5};
    assert_int_equal(sift_signatures_add(s, &g), 0);
}

static void test_continuations(void **state)
{
    (void)state;
    const sift_cluster_part_t tcp = {.proto = 6, .dir = 0, .port = 9000};
    sift_signatures_t *s;
    assert_int_equal(sift_signatures_create(&s), 0);
    add_sig(s, "seg-a", (const uint8_t *)"MGK1\x01", 5);
    add_sig(s, "seg-b", (const uint8_t *)"MGK1\x02", 5);
    sift_signatures_sort(s);
    /* the header: "MGK1" at 0, held by both; none for another part, none with one signature
     * without it, none with one signature alone */
    uint32_t off = 99;
    uint8_t v[4];
    assert_true(sift_signatures_header(s, tcp, &off, v));
    assert_int_equal(off, 0);
    assert_memory_equal(v, "MGK1", 4);
    sift_cluster_part_t other = tcp;
    other.dir = 1;
    assert_false(sift_signatures_header(s, other, &off, v));
    sift_signatures_t *few;
    assert_int_equal(sift_signatures_create(&few), 0);
    add_sig(few, "one", (const uint8_t *)"MGK1\x01", 5);
    assert_false(sift_signatures_header(few, tcp, &off, v));
    add_sig(few, "two", (const uint8_t *)"MGK2\x01", 5);
    sift_signatures_sort(few);
    assert_false(sift_signatures_header(few, tcp, &off, v));
    sift_signatures_free(few);
    /* one that knows none of the header's bytes does not count against it; one that knows
     * some of them only (a field that is constant in some types) does */
    assert_int_equal(sift_signatures_create(&few), 0);
    add_sig(few, "one", (const uint8_t *)"MGK1\x01", 5);
    add_sig(few, "two", (const uint8_t *)"MGK1\x02", 5);
    sift_signature_t blank = *sift_signatures_get(few, 0);
    const sift_sig_byte_t late = {.offset = 8, .value = 'q'};
    blank.name = "blank";
    blank.mask = &late;
    blank.nmask = 1;
    assert_int_equal(sift_signatures_add(few, &blank), 0);
    sift_signatures_sort(few);
    assert_true(sift_signatures_header(few, tcp, &off, v));
    add_sig(few, "part", (const uint8_t *)"MG", 2);
    sift_signatures_sort(few);
    assert_false(sift_signatures_header(few, tcp, &off, v));
    sift_signatures_free(few);
    add_sig(s, "seg-z", (const uint8_t *)"MGK1zzzzzzzz", 12); /* data a segment may hold */
    sift_signatures_sort(s);
    assert_true(sift_signatures_header(s, tcp, &off, v));

    /* a stream: A, two segments, B, one segment; an unknown message U and its segment; a segment
     * with no predecessor; two that follow each other only; a segment of zs after A, and one
     * after nothing */
    static const char *const payload[] = {
        "MGK1\x01 hello", "segment one..",  "segment two..",        "MGK1\x02 world",
        "segment three",  "MGK1\x09 other", "segment of U.",        "orphan segment",
        "loop segment 1", "loop segment 2", "MGK2zzzzzzzz after A", "MGK1zzzzzzzz alone"};
    enum { A, S1, S2, B, S3, U, SU, ORPHAN, L1, L2, ZA, Z };
    sift_cluster_set_t *set;
    assert_int_equal(sift_cluster_set_create(&set, 0), 0);
    size_t id[12];
    for (size_t i = 0; i < 12; i++)
        assert_int_equal(
            sift_cluster_set_add(set, tcp, payload[i], strlen(payload[i]), 1, 1, &id[i]), 0);
    static const int follow[][2] = {{A, S1},  {S1, S2}, {B, S3}, {U, SU},
                                    {L1, L2}, {L2, L1}, {A, ZA}};
    for (size_t i = 0; i < sizeof follow / sizeof follow[0]; i++)
        assert_int_equal(sift_cluster_set_follow(set, id[follow[i][0]], id[follow[i][1]], 1), 0);
    sift_classification_t *c;
    assert_int_equal(sift_classify(set, s, 0.9, &c), 0); /* U has 4 of a's 5 */
    const char *want[12] = {[A] = "seg-a",  [S1] = "seg-a", [S2] = "seg-a", [B] = "seg-b",
                            [S3] = "seg-b", [ZA] = "seg-a", [Z] = "seg-z"};
    const bool cont[12] = {[S1] = true, [S2] = true, [S3] = true, [ZA] = true};
    for (size_t i = 0; i < 12; i++) {
        const sift_class_unit_t *r = sift_classification_unit(c, id[i]);
        if (want[i])
            assert_string_equal(sift_signatures_get(s, (size_t)r->sig)->name, want[i]);
        else
            assert_int_equal(r->sig, -1);
        assert_int_equal(r->continuation, cont[i]);
    }
    /* counted: a's 4 packets, 3 of them continuations; its lowest similarity is of A alone */
    for (size_t g = 0; g < 3; g++) {
        const sift_class_sig_t *x = sift_classification_sig(c, g);
        const char *name = sift_signatures_get(s, g)->name;
        if (strcmp(name, "seg-a") == 0) {
            assert_int_equal(x->packets, 4);
            assert_int_equal(x->continuations, 3);
            assert_int_equal(x->min_similarity, 1.0);
        } else if (strcmp(name, "seg-b") == 0) {
            assert_int_equal(x->continuations, 1);
        } else {
            assert_int_equal(x->continuations, 0);
        }
    }
    assert_int_equal(sift_classification_part(c, 0)->unmatched_units, 5);
    sift_classification_free(c);

    /* over UDP, no continuations: each datagram is a message */
    sift_cluster_set_t *udp;
    assert_int_equal(sift_cluster_set_create(&udp, 0), 0);
    sift_cluster_part_t dgram = tcp;
    dgram.proto = 17;
    sift_signatures_t *su;
    assert_int_equal(sift_signatures_create(&su), 0);
    for (size_t i = 0; i < sift_signatures_count(s); i++) {
        sift_signature_t g = *sift_signatures_get(s, i);
        g.part = dgram;
        assert_int_equal(sift_signatures_add(su, &g), 0);
    }
    sift_signatures_sort(su);
    for (size_t i = 0; i < 3; i++)
        assert_int_equal(
            sift_cluster_set_add(udp, dgram, payload[i], strlen(payload[i]), 1, 1, &id[i]), 0);
    sift_cluster_set_follow(udp, id[A], id[S1], 1);
    assert_int_equal(sift_classify(udp, su, 0.75, &c), 0);
    assert_int_equal(sift_classification_unit(c, id[S1])->sig, -1);
    sift_classification_free(c);
    sift_signatures_free(su);
    sift_cluster_set_free(udp);

    /* the dissector holds the header and follows the stream */
    char *text = lua_text(s);
    assert_non_null(strstr(text, "[\"6/9000/0\"] = {0, 77, 71, 75, 49},"));
    assert_non_null(strstr(text, "LAST[st] = {dir = dir, chain = chain}"));
    free(text);
    sift_cluster_set_free(set);
    sift_signatures_free(s);
}

static int64_t load_count(sift_index_t *ix, const char *which)
{
    sift_signatures_t *s;
    assert_int_equal(sift_signatures_create(&s), 0);
    int rc = sift_index_signatures(ix, which, s);
    int64_t n = rc < 0 ? rc : (int64_t)sift_signatures_count(s);
    sift_signatures_free(s);
    return n;
}

static void test_store(void **state)
{
    (void)state;
    char db[] = "/tmp/capsift-sig-XXXXXX";
    int fd = mkstemp(db);
    assert_true(fd >= 0);
    close(fd);
    unlink(db);
    sift_ctx_t *ctx;
    assert_int_equal(sift_ctx_create(&ctx), 0);
    sift_index_t *ix;
    assert_int_equal(sift_index_open(&ix, ctx, db, NULL), 0);
    assert_int_equal(load_count(ix, NULL), 0);
    sift_cluster_set_t *set = synthetic(400, 3, 4);
    sift_signatures_t *s = learn(set, "toy");
    assert_int_equal(sift_index_save_signatures(ix, s), 0);
    /* the same name again: refused, nothing added */
    assert_int_equal(sift_index_save_signatures(ix, s), SIFT_EEXIST);
    assert_non_null(strstr(sift_ctx_errmsg(ctx), "toy"));
    assert_int_equal(load_count(ix, NULL), 4);
    assert_int_equal(load_count(ix, "toy"), 4);
    const char *one = sift_signatures_get(s, 1)->name;
    assert_int_equal(load_count(ix, one), 1);
    /* read back whole */
    sift_signatures_t *back;
    assert_int_equal(sift_signatures_create(&back), 0);
    assert_int_equal(sift_index_signatures(ix, "toy", back), 0);
    sift_signatures_sort(back);
    for (size_t i = 0; i < 4; i++) {
        const sift_signature_t *a = sift_signatures_get(s, i), *b = sift_signatures_get(back, i);
        assert_string_equal(a->name, b->name);
        assert_true(b->id > 0);
        assert_int_equal(a->nmask, b->nmask);
        for (uint32_t m = 0; m < a->nmask; m++)
            assert_true(a->mask[m].offset == b->mask[m].offset &&
                        a->mask[m].value == b->mask[m].value);
        assert_int_equal(a->nfields, b->nfields);
        for (uint32_t f = 0; f < a->nfields; f++) {
            const sift_cluster_field_t *x = &a->fields[f], *y = &b->fields[f];
            assert_true(x->offset == y->offset && x->width == y->width && x->kind == y->kind &&
                        x->little == y->little && x->value == y->value &&
                        x->distinct == y->distinct && x->delta == y->delta);
        }
        assert_int_equal(a->example_len, b->example_len);
        assert_memory_equal(a->example, b->example, a->example_len);
        assert_memory_equal(a->sketch, b->sketch, sizeof a->sketch);
        assert_int_equal(a->part.port, b->part.port);
        assert_int_equal(a->type_offset, b->type_offset);
        assert_int_equal(a->packets, b->packets);
    }
    /* usage stored */
    sift_cluster_set_t *fresh = synthetic(80, 11, 4);
    sift_classification_t *c;
    assert_int_equal(sift_classify(fresh, back, 0.75, &c), 0);
    sift_classification_apply(c, back, 7000);
    assert_int_equal(sift_index_update_signatures(ix, back), 0);
    sift_signatures_t *again;
    assert_int_equal(sift_signatures_create(&again), 0);
    assert_int_equal(sift_index_signatures(ix, NULL, again), 0);
    for (size_t i = 0; i < 4; i++) {
        assert_int_equal(sift_signatures_get(again, i)->last_seen, 7000);
        assert_true(sift_signatures_get(again, i)->usage > 0);
    }
    /* rename: a set carries its names along; a taken name is refused; one signature alone */
    assert_int_equal(sift_index_rename_signatures(ix, "toy", one), SIFT_EEXIST);
    assert_int_equal(sift_index_rename_signatures(ix, "toy", "game"), 4);
    assert_int_equal(load_count(ix, "toy"), 0);
    assert_int_equal(load_count(ix, "game"), 4);
    char renamed[64];
    snprintf(renamed, sizeof renamed, "game%s", one + 3);
    assert_int_equal(load_count(ix, renamed), 1);
    assert_int_equal(sift_index_rename_signatures(ix, renamed, "hello"), 1);
    assert_int_equal(load_count(ix, "hello"), 1);
    assert_int_equal(sift_index_rename_signatures(ix, "nothing", "x"), 0);
    /* delete one, then the set */
    assert_int_equal(sift_index_delete_signatures(ix, "hello"), 1);
    assert_int_equal(sift_index_delete_signatures(ix, "game"), 3);
    assert_int_equal(load_count(ix, NULL), 0);
    /* a damaged row is named, not read as something else */
    assert_int_equal(sift_index_save_signatures(ix, s), 0);
    sift_index_close(ix);
    sqlite3 *raw;
    assert_int_equal(sqlite3_open(db, &raw), SQLITE_OK);
    assert_int_equal(
        sqlite3_exec(raw,
                     "UPDATE signatures SET mask = x'0102' WHERE id = (SELECT min(id) FROM "
                     "signatures)",
                     NULL, NULL, NULL),
        SQLITE_OK);
    sqlite3_close(raw);
    sift_index_opts_t ro = {.read_only = true};
    assert_int_equal(sift_index_open(&ix, ctx, db, &ro), 0);
    assert_int_equal(load_count(ix, NULL), SIFT_EDB);
    assert_non_null(strstr(sift_ctx_errmsg(ctx), "damaged"));
    sift_index_close(ix);
    sift_classification_free(c);
    sift_signatures_free(again);
    sift_signatures_free(back);
    sift_signatures_free(s);
    sift_cluster_set_free(fresh);
    sift_cluster_set_free(set);
    sift_ctx_free(ctx);
    char side[4200];
    unlink(db);
    snprintf(side, sizeof side, "%s-wal", db);
    unlink(side);
    snprintf(side, sizeof side, "%s-shm", db);
    unlink(side);
}

static void test_lua(void **state)
{
    (void)state;
    sift_cluster_set_t *set = synthetic(400, 3, 4);
    sift_signatures_t *s = learn(set, "to\"y");
    char *text = lua_text(s);
    assert_non_null(strstr(text, "local MIN_SIMILARITY = 0.75"));
    assert_non_null(strstr(text, "[\"17/7000/0\"] = {"));
    assert_non_null(strstr(text, "DissectorTable.get(name):add(port, proto)"));
    assert_non_null(strstr(text, "name = \"to\\\"y-")); /* quoted */
    /* each signature's mask in labelling order, as "offset, byte" pairs */
    const char *at = text;
    for (size_t i = 0; i < sift_signatures_count(s); i++) {
        const sift_signature_t *g = sift_signatures_get(s, i);
        char want[64];
        snprintf(want, sizeof want, "mask = {%u, %u, %u, %u", g->mask[0].offset, g->mask[0].value,
                 g->mask[1].offset, g->mask[1].value);
        at = strstr(at, want);
        assert_non_null(at);
    }
    free(text);
    sift_signatures_free(s);
    sift_cluster_set_free(set);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_learn_and_label),
        cmocka_unit_test(test_classify),
        cmocka_unit_test(test_continuations),
        cmocka_unit_test(test_store),
        cmocka_unit_test(test_lua),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
