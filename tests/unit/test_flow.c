/* Unit tests of lib/flow: the flow table against a straightforward reference, the limit, the
 * idle timeout, merge associativity and independence from how the packets are split, and the
 * flows pass with nDPI on a hand-made DNS packet. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <capsift/flow.h>

#include "flow/flow_int.h"

#include <pthread.h>

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NS 1000000000LL

/* A generated packet: an endpoint pair by key id, a direction, a time and a length. */
typedef struct gen_pkt {
    unsigned key;
    int rev;
    int64_t ts;
    uint32_t len;
    uint8_t flags;
} gen_pkt_t;

static uint64_t rng_state = 88172645463325252ull;

static uint64_t rnd(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

/* Endpoints of key id k: some IPv4, some IPv6, some with equal addresses (ports decide). */
static void endpoints(unsigned k, sift_packet_t *p, int rev)
{
    uint8_t a[16] = {0}, b[16] = {0};
    uint16_t pa = (uint16_t)(1024 + k % 50000), pb = (uint16_t)(k % 7 == 0 ? 53 : 443);
    if (k % 3 == 0) {
        a[0] = 0x20;
        a[1] = 0x01;
        memcpy(a + 12, &k, 4);
        memcpy(b, a, 16);
        b[15] ^= 0x5a;
        p->ip_version = 6;
    } else {
        a[10] = b[10] = 0xff;
        a[11] = b[11] = 0xff;
        a[12] = 10;
        a[13] = (uint8_t)(k >> 16);
        a[14] = (uint8_t)(k >> 8);
        a[15] = (uint8_t)k;
        b[12] = 192;
        b[13] = 168;
        b[15] = (uint8_t)(k % 5);
        if (k % 11 == 0)
            memcpy(b, a, 16); /* same address both sides: the ports order the key */
        p->ip_version = 4;
    }
    p->ip_proto = k % 7 == 0 ? 17 : 6;
    p->flags = SIFT_PKT_L3 | SIFT_PKT_L4;
    memcpy(rev ? p->dst : p->src, a, 16);
    memcpy(rev ? p->src : p->dst, b, 16);
    p->sport = rev ? pb : pa;
    p->dport = rev ? pa : pb;
}

static void feed(const sift_pass_t *pass, void *state, const gen_pkt_t *g, size_t n)
{
    sift_record_t rec = {0};
    sift_packet_t pkt = {.rec = &rec};
    for (size_t i = 0; i < n; i++) {
        memset(&pkt, 0, sizeof pkt);
        pkt.rec = &rec;
        rec.ts_ns = g[i].ts;
        rec.wirelen = rec.caplen = g[i].len;
        endpoints(g[i].key, &pkt, g[i].rev);
        pkt.tcp_flags = g[i].flags;
        pkt.l4_len = g[i].len % 3 ? g[i].len - 40 : 0; /* history: D, A and W events */
        pkt.tcp_win = g[i].len % 5 ? 1000 : 0;
        pass->packet(state, &pkt);
    }
}

/* Packets over nkeys keys in time order, with gaps of up to max_gap ns. */
static gen_pkt_t *generate(size_t n, unsigned nkeys, int64_t max_gap)
{
    gen_pkt_t *g = calloc(n, sizeof *g);
    assert_non_null(g);
    int64_t t = 1700000000 * NS;
    for (size_t i = 0; i < n; i++) {
        t += (int64_t)(rnd() % (uint64_t)max_gap);
        g[i].key = (unsigned)(rnd() % nkeys);
        g[i].rev = (int)(rnd() & 1);
        g[i].ts = t;
        g[i].len = 60 + (uint32_t)(rnd() % 1400);
        g[i].flags = (uint8_t)(1u << (rnd() % 8) | (rnd() % 4 ? 0 : 0x10)); /* SYN+ACK too */
    }
    return g;
}

/* The reference: per key id, a list of flow instances, split by the idle timeout. */
typedef struct ref_flow {
    unsigned key;
    int init_rev; /* direction of the initiator's packets */
    int by;       /* what decided it: 1 the port rule (endpoints' a side), 2 a SYN+ACK, 3 a SYN */
    int64_t first, last;
    uint64_t packets[2], bytes[2];
    uint8_t flags[2];
} ref_flow_t;

static ref_flow_t *reference(const gen_pkt_t *g, size_t n, unsigned nkeys, int64_t timeout,
                             size_t *nout)
{
    ref_flow_t *out = calloc(n, sizeof *out);
    long *cur = malloc(nkeys * sizeof *cur);
    assert_non_null(out);
    assert_non_null(cur);
    for (unsigned k = 0; k < nkeys; k++)
        cur[k] = -1;
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        long c = cur[g[i].key];
        if (c < 0 || (timeout > 0 && g[i].ts - out[c].last > timeout)) {
            c = (long)m++;
            cur[g[i].key] = c;
            out[c].key = g[i].key;
            out[c].init_rev = 0; /* the side of port 53 or 443 is the responder */
            out[c].by = 1;
            out[c].first = g[i].ts;
        }
        int by = g[i].flags == 0x02 ? 3 : g[i].flags == 0x12 ? 2 : 0;
        if (g[i].key % 7 != 0 && by > out[c].by) {
            out[c].by = by; /* the first SYN's sender started it, or a SYN+ACK's receiver */
            int rev = by == 3 ? g[i].rev : !g[i].rev;
            if (rev != out[c].init_rev) {
                ref_flow_t *f = &out[c];
                f->init_rev = rev;
                uint64_t p = f->packets[0], b = f->bytes[0];
                uint8_t fl = f->flags[0];
                f->packets[0] = f->packets[1], f->bytes[0] = f->bytes[1], f->flags[0] = f->flags[1];
                f->packets[1] = p, f->bytes[1] = b, f->flags[1] = fl;
            }
        }
        int d = g[i].rev != out[c].init_rev;
        out[c].last = g[i].ts;
        out[c].packets[d]++;
        out[c].bytes[d] += g[i].len;
        if (g[i].key % 7 != 0)
            out[c].flags[d] |= g[i].flags;
    }
    free(cur);
    *nout = m;
    return out;
}

/* A comparable line per flow, sorted. */
static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* with_history: also the history, state and origin (not in the reference's lines) */
static char **flow_lines(const sift_flows_t *s, size_t *n, bool with_history)
{
    *n = sift_flows_count(s);
    char **v = calloc(*n + 1, sizeof *v);
    assert_non_null(v);
    for (size_t i = 0; i < *n; i++) {
        const sift_flow_t *f = sift_flows_at(s, i);
        v[i] = malloc(256);
        const uint8_t *a = sift_flow_addr_a(f);
        snprintf(v[i], 256, "%02x%02x%02x%02x%02x:%u>%u %lld %lld %llu/%llu %llu/%llu %x/%x", a[0],
                 a[12], a[13], a[14], a[15], sift_flow_port_a(f), sift_flow_port_b(f),
                 (long long)f->first_ns, (long long)f->last_ns, (unsigned long long)f->packets[0],
                 (unsigned long long)f->packets[1], (unsigned long long)f->bytes[0],
                 (unsigned long long)f->bytes[1], f->tcp_flags[0], f->tcp_flags[1]);
        if (with_history) {
            char h[SIFT_FLOW_HISTORY_MAX];
            sift_flow_history(f, h, sizeof h);
            size_t len = strlen(v[i]);
            snprintf(v[i] + len, 256 - len, " %s %s %x", h, sift_flow_state(f), f->origin);
        }
    }
    qsort(v, *n, sizeof *v, cmp_str);
    return v;
}

static char **ref_lines(const ref_flow_t *r, size_t n)
{
    char **v = calloc(n + 1, sizeof *v);
    assert_non_null(v);
    for (size_t i = 0; i < n; i++) {
        sift_packet_t p = {0};
        endpoints(r[i].key, &p, r[i].init_rev);
        v[i] = malloc(256);
        snprintf(v[i], 256, "%02x%02x%02x%02x%02x:%u>%u %lld %lld %llu/%llu %llu/%llu %x/%x",
                 p.src[0], p.src[12], p.src[13], p.src[14], p.src[15], p.sport, p.dport,
                 (long long)r[i].first, (long long)r[i].last, (unsigned long long)r[i].packets[0],
                 (unsigned long long)r[i].packets[1], (unsigned long long)r[i].bytes[0],
                 (unsigned long long)r[i].bytes[1], r[i].flags[0], r[i].flags[1]);
    }
    qsort(v, n, sizeof *v, cmp_str);
    return v;
}

static void free_lines(char **v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

static void assert_same_lines(char **a, size_t na, char **b, size_t nb)
{
    assert_int_equal(na, nb);
    for (size_t i = 0; i < na; i++)
        assert_string_equal(a[i], b[i]);
}

static sift_flows_summary_t summary(const sift_flows_t *s)
{
    sift_flows_summary_t v;
    sift_flows_summary(s, &v);
    return v;
}

static sift_flows_t *new_state(const sift_flows_config_t *cfg)
{
    void *s = NULL;
    assert_int_equal(sift_pass_state_new(&sift_flows_pass, cfg, &s), 0);
    return s;
}

static void free_state(sift_flows_t *s)
{
    sift_pass_state_free(&sift_flows_pass, s);
}

static void check_against_reference(size_t n, unsigned nkeys, int64_t gap, int64_t timeout)
{
    gen_pkt_t *g = generate(n, nkeys, gap);
    sift_flows_config_t cfg = {.no_app = true, .table = {.idle_timeout_ns = timeout}};
    sift_flows_t *s = new_state(&cfg);
    feed(&sift_flows_pass, s, g, n);
    size_t nr, nf;
    ref_flow_t *r = reference(g, n, nkeys, timeout, &nr);
    char **lf = flow_lines(s, &nf, false), **lr = ref_lines(r, nr);
    assert_same_lines(lf, nf, lr, nr);
    assert_int_equal(summary(s).packets, n);
    free_lines(lf, nf);
    free_lines(lr, nr);
    free(r);
    free(g);
    free_state(s);
}

static void test_key_symmetric(void **st)
{
    (void)st;
    sift_packet_t p = {0}, q = {0};
    sift_record_t rec = {0};
    p.rec = q.rec = &rec;
    endpoints(12, &p, 0);
    endpoints(12, &q, 1);
    sift_flow_key_t a, b;
    int da, db;
    assert_true(sift_flow_key_make(&a, &da, &p, false));
    assert_true(sift_flow_key_make(&b, &db, &q, false));
    assert_memory_equal(&a, &b, sizeof a);
    assert_int_not_equal(da, db);
    endpoints(22, &p, 0); /* same addresses, ports decide */
    endpoints(22, &q, 1);
    assert_true(sift_flow_key_make(&a, &da, &p, false));
    assert_true(sift_flow_key_make(&b, &db, &q, false));
    assert_memory_equal(&a, &b, sizeof a);
    assert_int_not_equal(da, db);
    p.flags = 0; /* no IP layer: no flow */
    assert_false(sift_flow_key_make(&a, &da, &p, false));
}

static void test_reference_small(void **st)
{
    (void)st;
    check_against_reference(20000, 3000, NS / 1000, 0);
}

static void test_growth(void **st)
{
    (void)st;
    check_against_reference(300000, 120000, 1000, 0);
}

static void test_idle_timeout(void **st)
{
    (void)st;
    /* ~ every key is seen every 2000 packets; gaps up to 2 ms: a 1 s timeout splits often */
    check_against_reference(100000, 2000, 2 * NS / 1000, NS);
}

static void test_idle_sweep_bounds_table(void **st)
{
    (void)st;
    /* every key used once in a short burst, keys never come back: the active table must stay
     * small while the finished list takes the flows */
    size_t n = 50000;
    gen_pkt_t *g = calloc(n, sizeof *g);
    assert_non_null(g);
    for (size_t i = 0; i < n; i++) {
        g[i].key = (unsigned)(i / 4);
        g[i].rev = (int)(i & 1);
        g[i].ts = (int64_t)i * (NS / 100); /* 100 packets per second */
        g[i].len = 100;
    }
    sift_flows_config_t cfg = {.no_app = true, .table = {.idle_timeout_ns = NS}};
    sift_flows_t *s = new_state(&cfg);
    feed(&sift_flows_pass, s, g, n);
    assert_true(summary(s).active < 200);
    assert_int_equal(sift_flows_count(s), n / 4);
    free_state(s);
    free(g);
}

/* Memory per flow without application state stays within SIFT_FLOW_BYTES at every size the
 * table passes through (right after it doubles is the worst), and the cap derived from a
 * memory budget keeps a table of that many flows within the budget. */
static void test_memory_per_flow(void **st)
{
    (void)st;
    size_t n = 300000;
    gen_pkt_t *g = calloc(n, sizeof *g);
    assert_non_null(g);
    for (size_t i = 0; i < n; i++) {
        g[i].key = (unsigned)i; /* every packet its own flow, as in a scan */
        g[i].ts = (int64_t)i * 1000;
        g[i].len = 60;
    }
    sift_flows_config_t cfg = {.no_app = true};
    sift_flows_t *s = new_state(&cfg);
    for (size_t done = 0; done < n; done += 10000) {
        feed(&sift_flows_pass, s, g + done, 10000);
        size_t bytes = summary(s).memory;
        assert_true(bytes <= (done + 10000) * (size_t)SIFT_FLOW_BYTES + 1024 * 8);
    }
    assert_int_equal(sift_flows_count(s), n);
    free_state(s);
    /* a budget of 64 MB: a cap whose table fits in it */
    uint64_t cap = sift_flows_max_for_memory(64000000, false);
    assert_true(cap * SIFT_FLOW_BYTES <= 64000000);
    assert_true(cap * SIFT_FLOW_BYTES > 63000000);
    assert_true(sift_flows_max_for_memory(64000000, true) * SIFT_FLOW_APP_BYTES <= 64000000);
    assert_int_equal(sift_flows_max_for_memory(10, false), 1000);
    free(g);
}

static uint64_t emitted_packets;

static void count_emit(void *user, const sift_flow_t *f)
{
    (void)user;
    emitted_packets += f->packets[0] + f->packets[1];
}

static void test_emit(void **st)
{
    (void)st;
    gen_pkt_t *g = generate(50000, 500, NS / 10);
    sift_flows_config_t cfg = {
        .no_app = true, .table = {.idle_timeout_ns = 5 * NS}, .emit = count_emit};
    sift_flows_t *s = new_state(&cfg);
    emitted_packets = 0;
    feed(&sift_flows_pass, s, g, 50000);
    assert_int_equal(summary(s).flows, summary(s).active);
    assert_true(summary(s).emitted > 0);
    uint64_t active = 0;
    for (size_t i = 0; i < sift_flows_count(s); i++)
        active += sift_flows_at(s, i)->packets[0] + sift_flows_at(s, i)->packets[1];
    assert_int_equal(active + emitted_packets, 50000);
    free_state(s);
    free(g);
}

static void test_limit(void **st)
{
    (void)st;
    gen_pkt_t *g = generate(10000, 1000, 1000);
    sift_flows_config_t cfg = {.no_app = true, .table = {.max_flows = 100}};
    sift_flows_t *s = new_state(&cfg);
    feed(&sift_flows_pass, s, g, 10000);
    assert_int_equal(sift_flows_count(s), 100);
    assert_true(summary(s).full);
    uint64_t placed = 0;
    for (size_t i = 0; i < sift_flows_count(s); i++)
        placed += sift_flows_at(s, i)->packets[0] + sift_flows_at(s, i)->packets[1];
    assert_int_equal(placed + summary(s).dropped_packets, 10000);
    const char *msg = NULL;
    assert_int_equal(sift_pass_status(s, &msg), 0);
    sift_flows_pass.finish(s); /* the end of the read reports the limit */
    assert_int_equal(sift_pass_status(s, &msg), SIFT_ELIMIT);
    char want[128];
    snprintf(want, sizeof want,
             "the flow limit of 100 flows was reached: %" PRIu64
             " packets of further flows are not counted",
             summary(s).dropped_packets);
    assert_string_equal(msg, want);
    free_state(s);
    free(g);
}

/* Splits the packets into chunks at the given cut points, processes each chunk in its own
 * state and merges them (left fold, or right fold when right is set); the result must equal the
 * single-state result. */
static void check_split(size_t n, unsigned nkeys, int64_t gap, int64_t timeout, const size_t *cuts,
                        size_t ncuts, bool right)
{
    gen_pkt_t *g = generate(n, nkeys, gap);
    sift_flows_config_t cfg = {.no_app = true, .table = {.idle_timeout_ns = timeout}};
    sift_flows_t *whole = new_state(&cfg);
    feed(&sift_flows_pass, whole, g, n);
    sift_flows_t *parts[16];
    size_t at = 0;
    for (size_t i = 0; i <= ncuts; i++) {
        size_t end = i < ncuts ? cuts[i] : n;
        parts[i] = new_state(&cfg);
        feed(&sift_flows_pass, parts[i], g + at, end - at);
        at = end;
    }
    sift_flows_t *acc;
    if (!right) {
        acc = new_state(&cfg); /* as the engine's total: an empty state first */
        for (size_t i = 0; i <= ncuts; i++)
            assert_int_equal(sift_flows_pass.merge(acc, parts[i]), 0);
    } else {
        acc = parts[ncuts];
        for (size_t i = ncuts; i-- > 0;) {
            assert_int_equal(sift_flows_pass.merge(parts[i], acc), 0);
            acc = parts[i]; /* parts are freed below */
        }
    }
    size_t na, nb;
    char **la = flow_lines(whole, &na, true), **lb = flow_lines(acc, &nb, true);
    assert_same_lines(la, na, lb, nb);
    assert_int_equal(acc->packets, n);
    free_lines(la, na);
    free_lines(lb, nb);
    for (size_t i = 0; i <= ncuts; i++)
        free_state(parts[i]);
    if (!right)
        free_state(acc);
    free_state(whole);
    free(g);
}

static void test_merge_split(void **st)
{
    (void)st;
    const size_t cuts[] = {1, 7000, 7001, 15000, 29999};
    check_split(30000, 2500, NS / 1000, 0, cuts, 5, false);
    check_split(30000, 2500, NS / 1000, 0, cuts, 5, true);
    const size_t two[] = {15000};
    check_split(30000, 2500, NS / 1000, 0, two, 1, false);
}

static void test_merge_split_timeout(void **st)
{
    (void)st;
    const size_t cuts[] = {3000, 3001, 12000, 25000};
    check_split(40000, 1500, 2 * NS / 1000, NS, cuts, 4, false);
    check_split(40000, 1500, 2 * NS / 1000, NS, cuts, 4, true);
}

/* An IPv4/UDP DNS query for example.com; nDPI names it on the first packet. */
static void test_app_dns(void **st)
{
    (void)st;
    static const uint8_t dns[] = {
        0x45, 0x00, 0x00, 0x39, 0x12, 0x34, 0x00, 0x00, 0x40, 0x11, 0x00, 0x00, 10,   0,    0,
        1,    192,  0,    2,    1,    0xc3, 0x50, 0x00, 0x35, 0x00, 0x25, 0x00, 0x00, 0xab, 0xcd,
        0x01, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 7,    'e',  'x',  'a',  'm',
        'p',  'l',  'e',  3,    'c',  'o',  'm',  0,    0x00, 0x01, 0x00, 0x01};
    sift_record_t rec = {.ts_ns = 5 * NS, .caplen = sizeof dns, .wirelen = sizeof dns, .data = dns};
    sift_packet_t p = {.rec = &rec,
                       .flags = SIFT_PKT_L3 | SIFT_PKT_L4,
                       .ip_version = 4,
                       .ip_proto = 17,
                       .sport = 50000,
                       .dport = 53,
                       .l3_offset = 0};
    p.src[10] = p.src[11] = p.dst[10] = p.dst[11] = 0xff;
    memcpy(p.src + 12, dns + 12, 4);
    memcpy(p.dst + 12, dns + 16, 4);
    p.payload = dns + 28;
    p.payload_len = sizeof dns - 28;
    sift_flows_t *s = new_state(NULL);
    sift_flows_pass.packet(s, &p);
    assert_int_equal(sift_flows_count(s), 1);
    char buf[64];
    sift_flows_t *total = new_state(NULL);
    assert_int_equal(sift_flows_pass.merge(total, s), 0);
    assert_string_equal(sift_flows_app_name(total, sift_flows_at(total, 0), buf, sizeof buf),
                        "DNS");
    assert_string_equal(sift_flows_app_name(s, sift_flows_at(s, 0), buf, sizeof buf), "DNS");
    free_state(s);
    free_state(total);
}

static void test_flags_str(void **st)
{
    (void)st;
    char b[16];
    assert_string_equal(sift_flow_tcp_flags_str(0x13, b, sizeof b), "SAF");
    assert_string_equal(sift_flow_tcp_flags_str(0, b, sizeof b), "");
    assert_string_equal(sift_flow_tcp_flags_str(0xff, b, sizeof b), "SAFPRUEC");
}

/* Detector set-ups on several threads at once: nDPI's first set-up initialises libgcrypt,
 * which aborted when two workers did it together (seen as a rare crash of index -j 2). */
static void *setup_detectors(void *arg)
{
    pthread_barrier_wait(arg); /* all threads start their first set-up together */
    void *m = sift__app_module();
    assert_non_null(m);
    assert_ptr_equal(sift__app_module(), m); /* one per thread, freed when it ends */
    return NULL;
}

/* Connection states and histories of crafted TCP exchanges between a client port 1025 and a
 * server port 443: (direction, flags, payload bytes) in order, and what Zeek's conn.log would
 * say of them, with the initiator (0: the client). */
typedef struct conn_case {
    const char *state, *history;
    int init_rev;
    struct {
        int rev;
        uint8_t flags;
        uint32_t len;
    } p[8];
} conn_case_t;

enum { FIN = 0x01, SYN = 0x02, RST = 0x04, PSH = 0x08, ACK = 0x10 };

static const conn_case_t conn_cases[] = {
    {"S0", "S", 0, {{0, SYN, 0}}},
    {"REJ", "Sr", 0, {{0, SYN, 0}, {1, RST | ACK, 0}}},
    {"SF",
     "ShADadFf",
     0,
     {{0, SYN, 0},
      {1, SYN | ACK, 0},
      {0, ACK, 0},
      {0, PSH | ACK, 100},
      {1, ACK, 0},
      {1, PSH | ACK, 900},
      {0, FIN | ACK, 0},
      {1, FIN | ACK, 0}}},
    {"S1", "ShAD", 0, {{0, SYN, 0}, {1, SYN | ACK, 0}, {0, ACK, 0}, {0, ACK, 10}}},
    {"RSTO", "ShADR", 0, {{0, SYN, 0}, {1, SYN | ACK, 0}, {0, ACK, 0}, {0, ACK, 10}, {0, RST, 0}}},
    {"RSTOS0", "SR", 0, {{0, SYN, 0}, {0, RST, 0}}},
    {"SH", "SF", 0, {{0, SYN, 0}, {0, FIN, 0}}},
    /* the SYN was not captured: the SYN+ACK's receiver started it */
    {"OTH", "^hA", 0, {{1, SYN | ACK, 0}, {0, ACK, 0}}},
    /* mid-stream, the server's packet first: the port rule */
    {"OTH", "^dA", 0, {{1, PSH | ACK, 500}, {0, ACK, 0}}},
    {"RSTRH", "^r", 0, {{1, RST, 0}}},
    /* the server port's side sent the SYN: it started the flow whatever the ports say */
    {"S0", "S", 1, {{1, SYN, 0}}},
    /* a SYN seen after the first packets: the counters change sides */
    {"OTH", "^dSa", 1, {{0, PSH | ACK, 50}, {1, SYN, 0}, {0, ACK, 0}}},
};

static void test_conn_states(void **st)
{
    (void)st;
    for (size_t c = 0; c < sizeof conn_cases / sizeof conn_cases[0]; c++) {
        const conn_case_t *cc = &conn_cases[c];
        sift_flows_config_t cfg = {.no_app = true};
        sift_flows_t *s = new_state(&cfg);
        sift_record_t rec = {.caplen = 60, .wirelen = 60};
        uint64_t sent[2] = {0, 0};
        for (size_t i = 0; i < 8 && cc->p[i].flags; i++) {
            sift_packet_t pkt = {.rec = &rec, .ip_proto = 6};
            endpoints(1, &pkt, cc->p[i].rev);
            pkt.ip_proto = 6;
            pkt.tcp_flags = cc->p[i].flags;
            pkt.l4_len = cc->p[i].len;
            pkt.tcp_win = 1000;
            rec.ts_ns = (int64_t)i * NS;
            sift_flows_pass.packet(s, &pkt);
            sent[cc->p[i].rev]++;
        }
        assert_int_equal(sift_flows_count(s), 1);
        const sift_flow_t *f = sift_flows_at(s, 0);
        char h[SIFT_FLOW_HISTORY_MAX];
        sift_flow_history(f, h, sizeof h);
        assert_string_equal(h, cc->history);
        assert_string_equal(sift_flow_state(f), cc->state);
        sift_packet_t want = {0};
        endpoints(1, &want, cc->init_rev);
        assert_memory_equal(sift_flow_addr_a(f), want.src, 16);
        assert_int_equal(sift_flow_port_a(f), want.sport);
        assert_int_equal(f->packets[SIFT_FLOW_AB], sent[cc->init_rev]);
        assert_int_equal(f->packets[SIFT_FLOW_BA], sent[!cc->init_rev]);
        free_state(s);
    }
}

/* Packets without IP, of 40 EtherTypes in random order: the 16 smallest are counted exactly,
 * the others together, and so whether the packets went through one state or were split and
 * merged anywhere. */
static void test_unplaced(void **st)
{
    (void)st;
    enum { N = 5000, TYPES = 40 };
    uint16_t type[N];
    uint64_t count[TYPES] = {0};
    for (size_t i = 0; i < N; i++) {
        unsigned t = (unsigned)(rnd() % TYPES);
        type[i] = (uint16_t)(0x8800 + t);
        count[t]++;
    }
    sift_flows_config_t cfg = {.no_app = true};
    sift_flows_t *whole = new_state(&cfg), *acc = new_state(&cfg);
    const size_t cuts[] = {0, 1, 700, 2500, 2501, 4999, N};
    sift_record_t rec = {.caplen = 60, .wirelen = 60, .linktype = 1};
    for (size_t c = 0; c + 1 < sizeof cuts / sizeof cuts[0]; c++) {
        sift_flows_t *part = new_state(&cfg);
        for (size_t i = cuts[c]; i < cuts[c + 1]; i++) {
            sift_packet_t pkt = {.rec = &rec, .flags = SIFT_PKT_NON_IP, .ethertype = type[i]};
            sift_flows_pass.packet(whole, &pkt);
            sift_flows_pass.packet(part, &pkt);
        }
        assert_int_equal(sift_flows_pass.merge(acc, part), 0);
        free_state(part);
    }
    sift_unplaced_t a[SIFT_FLOWS_UNPLACED_MAX + 1], b[SIFT_FLOWS_UNPLACED_MAX + 1];
    size_t na = sift_flows_unplaced(whole, a, 17), nb = sift_flows_unplaced(acc, b, 17);
    assert_int_equal(na, SIFT_FLOWS_UNPLACED_MAX + 1);
    assert_int_equal(nb, na);
    uint64_t other = 0;
    for (unsigned t = SIFT_FLOWS_UNPLACED_MAX; t < TYPES; t++)
        other += count[t];
    for (size_t i = 0; i < na; i++) {
        assert_int_equal(a[i].kind, b[i].kind);
        assert_int_equal(a[i].value, b[i].value);
        assert_int_equal(a[i].packets, b[i].packets);
        if (i < SIFT_FLOWS_UNPLACED_MAX) {
            assert_int_equal(a[i].kind, SIFT_UNPLACED_ETHERTYPE);
            assert_int_equal(a[i].value, 0x8800 + i);
            assert_int_equal(a[i].packets, count[i]);
        } else {
            assert_int_equal(a[i].kind, SIFT_UNPLACED_OTHER);
            assert_int_equal(a[i].packets, other);
        }
    }
    free_state(whole);
    free_state(acc);
}

static void test_app_create_threads(void **state)
{
    (void)state;
    pthread_t t[6];
    pthread_barrier_t go;
    pthread_barrier_init(&go, NULL, 6);
    for (int i = 0; i < 6; i++)
        assert_int_equal(pthread_create(&t[i], NULL, setup_detectors, &go), 0);
    for (int i = 0; i < 6; i++)
        pthread_join(t[i], NULL);
    pthread_barrier_destroy(&go);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_app_create_threads), /* first: it needs nDPI untouched */
        cmocka_unit_test(test_key_symmetric),
        cmocka_unit_test(test_reference_small),
        cmocka_unit_test(test_growth),
        cmocka_unit_test(test_idle_timeout),
        cmocka_unit_test(test_idle_sweep_bounds_table),
        cmocka_unit_test(test_emit),
        cmocka_unit_test(test_limit),
        cmocka_unit_test(test_memory_per_flow),
        cmocka_unit_test(test_merge_split),
        cmocka_unit_test(test_conn_states),
        cmocka_unit_test(test_unplaced),
        cmocka_unit_test(test_merge_split_timeout),
        cmocka_unit_test(test_app_dns),
        cmocka_unit_test(test_flags_str),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
