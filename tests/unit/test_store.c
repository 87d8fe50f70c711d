/* Store tests: the query compiler, times and addresses, the positions codec, and the index API
 * on the bundled captures. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zstd.h>

#include <cmocka.h>

#include "store/store_int.h"

#include <capsift/capsift.h>

static void test_query_sql(void **state)
{
    (void)state;
    static const struct {
        const char *expr, *sql;
        size_t nparams;
    } ok[] = {
        {"", "1", 0},
        {"host 10.0.0.1", "((f.src = ? OR f.dst = ?))", 2},
        {"src port 443", "((f.sport = ?))", 1},
        {"dst net 10.0.0.0/8 and not udp", "((f.dst BETWEEN ? AND ?)) AND NOT (f.proto = ?)", 3},
        {"tcp or (app DNS && packets >= 10)",
         "(f.proto = ?) OR (((f.app = ? COLLATE NOCASE OR f.app LIKE ? || '.%' OR f.app LIKE "
         "'%.' || ?)) AND ((f.packets_ab + f.packets_ba) >= ?))",
         5},
        {"after 2024-05-14 and before 1715680800.5", "(f.last_ns >= ?) AND (f.first_ns < ?)", 2},
        {"file '/data/*.pcap' and vlan 7", "(fi.path GLOB ?) AND (f.vlan = ?)", 2},
        {"duration > 1.5", "((f.last_ns - f.first_ns) > ?)", 1},
        /* BPF's spellings */
        {"tcp port 80", "(f.proto = ? AND (f.sport = ? OR f.dport = ?))", 3},
        {"udp dst portrange 1-1023", "(f.proto = ? AND (f.dport BETWEEN ? AND ?))", 3},
        {"ip6 and vlan", "(f.ip_version = ?) AND (f.vlan != 0)", 1},
        {"state rej or state S0", "(f.state = ?) OR (f.state = ?)", 2},
        {"net 10.0.0.0 mask 255.0.0.0", "((f.src BETWEEN ? AND ? OR f.dst BETWEEN ? AND ?))", 4},
    };
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        sift_query_t *q = NULL;
        char err[SIFT_ERRBUF_SIZE] = "";
        assert_int_equal(sift_query_compile(&q, ok[i].expr, err, NULL), 0);
        assert_string_equal(sift_query_sql(q), ok[i].sql);
        assert_int_equal(sift_query_nparams(q), ok[i].nparams);
        sift_query_free(q);
    }
    /* values are parameters, never SQL text */
    sift_query_t *q;
    assert_int_equal(sift_query_compile(&q, "app \"x' OR 1=1 --\"", NULL, NULL), 0);
    assert_null(strstr(sift_query_sql(q), "OR 1=1"));
    assert_string_equal(sift_query_param(q, 0)->t, "x' OR 1=1 --");
    sift_query_free(q);
    /* a CIDR becomes the range of 16-byte addresses */
    assert_int_equal(sift_query_compile(&q, "net 192.168.4.0/22", NULL, NULL), 0);
    const uint8_t lo[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 192, 168, 4, 0};
    const uint8_t hi[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 192, 168, 7, 255};
    assert_memory_equal(sift_query_param(q, 0)->b, lo, 16);
    assert_memory_equal(sift_query_param(q, 1)->b, hi, 16);
    sift_query_free(q);
    /* BPF's abbreviated network and a netmask give the same range */
    const char *const same[] = {"net 192.168", "net 192.168.0.0 mask 255.255.0.0",
                                "net 192.168.0.0/16"};
    const uint8_t lo16[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 192, 168, 0, 0};
    const uint8_t hi16[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 192, 168, 255, 255};
    for (size_t i = 0; i < 3; i++) {
        assert_int_equal(sift_query_compile(&q, same[i], NULL, NULL), 0);
        assert_memory_equal(sift_query_param(q, 0)->b, lo16, 16);
        assert_memory_equal(sift_query_param(q, 1)->b, hi16, 16);
        sift_query_free(q);
    }
}

static void test_query_errors(void **state)
{
    (void)state;
    static const struct {
        const char *expr;
        size_t col;
        const char *msg;
    } bad[] = {
        {"host", 5, "expected an address at the end"},
        {"host 1.2.3", 6, "not an IPv4 or IPv6 address"},
        {"port 70000", 6, "not a port number"},
        {"host 10.0.0.1 port 80", 15, "expected 'and' or 'or' before 'port'"},
        {"(tcp", 1, "unclosed parenthesis"},
        {"tcp)", 4, "unmatched ')'"},
        {"packets 5", 9, "expected a comparison"},
        {"after yesterday", 7, "not a time"},
        {"frobnicate", 1, "unknown term"},
        {"net 10.0.0.0/33", 5, "not a network"},
        {"app 'open", 5, "unterminated"},
        {"ether host 1:2:3:4:5:6", 1, "a BPF term about packets"},
        {"tcp and greater 100", 9, "a packet length in BPF"},
        {"ip[8] < 5", 1, "reads packet bytes"},
        {"net 10.0.0.0 mask 255.255.0.255", 19, "not a contiguous IPv4 netmask"},
        {"net 10.0.0.0/8 mask 255.0.0.0", 5, "not a network"},
        {"portrange 80", 11, "not a port range"},
        {"tcp src vlan", 9, "expected host, net, port or portrange"},
        {"host example.com", 6, "host names are not looked up"},
        {"state XYZ", 7, "not a connection state"},
        {"dns", 4, "expected a domain name at the end"},
        {"uri /a?b&c", 9, "unexpected character '&' (quote a value"},
        {"sni ''", 5, "not a domain name"},
        {"uri contains", 13, "expected the text to look for at the end"},
        {"contains", 9, "expected the bytes to look for at the end"},
        {"port 80 and contains '|0g|'", 22, "'g' at column 3 is not a hex digit"},
        {"matches abc", 9, "matches takes a regular expression as /regex/flags"},
        {"matches '/a(/'", 9, "/a(/"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        sift_query_t *q = (sift_query_t *)1;
        char err[SIFT_ERRBUF_SIZE] = "";
        size_t col = 0;
        assert_int_equal(sift_query_compile(&q, bad[i].expr, err, &col), SIFT_EPARSE);
        assert_null(q);
        if (col != bad[i].col || !strstr(err, bad[i].msg))
            fail_msg("'%s': column %zu, '%s'", bad[i].expr, col, err);
    }
    /* nesting is bounded */
    char deep[400];
    memset(deep, '(', 200);
    memcpy(deep + 200, "tcp", 4);
    sift_query_t *q;
    assert_int_equal(sift_query_compile(&q, deep, NULL, NULL), SIFT_EPARSE);
}

/* Names: the key (normalised, labels reversed) and matching on labels. */
static void test_names(void **state)
{
    (void)state;
    static const struct {
        const char *in;
        bool http;
        const char *key;
    } keys[] = {
        {"www.Example.COM.", false, "com.example.www"},
        {"example.com:8080", true, "com.example"},
        {"example.com:8080", false, "com:8080.example"}, /* not a Host: no port */
        {"[2001:db8::1]:443", true, "2001:db8::1"},
        {"2001:db8::1", true, "2001:db8::1"}, /* bare IPv6 keeps its colons */
        {".", false, "."},
        {"a\\.b.example", false, "example.a\\.b"}, /* an escaped dot stays in its label */
        {"localhost", false, "localhost"},
    };
    char key[SIFT_NAME_KEY_MAX];
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        size_t n = sift__name_key(keys[i].in, strlen(keys[i].in), keys[i].http, key, sizeof key);
        if (n != strlen(keys[i].key) || strcmp(key, keys[i].key) != 0)
            fail_msg("key of '%s': '%s'", keys[i].in, n ? key : "(none)");
    }
    assert_int_equal(sift__name_key("", 0, false, key, sizeof key), 0);
    assert_int_equal(sift__name_key("[::1", 4, true, key, sizeof key), 0);
    assert_int_equal(sift__name_key("example.com", 11, false, key, 5), 0); /* does not fit */
    /* the Host rule itself, shared by the index, match and diff */
    const char *h;
    assert_int_equal(sift__http_host("example.com:8080", 16, &h), 11);
    assert_memory_equal(h, "example.com", 11);
    assert_int_equal(sift__http_host("[::1]:80", 8, &h), 3);
    assert_memory_equal(h, "::1", 3);
    assert_int_equal(sift__http_host("::1", 3, &h), 3);
    assert_int_equal(sift__http_host("[::1", 4, &h), 0);
    assert_int_equal(sift__http_host("", 0, &h), 0);

    static const struct {
        const char *pattern, *name;
        bool match;
    } m[] = {
        {"*.example.com", "a.example.com", true},
        {"*.example.com", "a.b.example.com", true},
        {"*.example.com", "example.com", false},
        {"*.example.com", "badexample.com", false},
        {"mail*.example.com", "mail2.example.com", true},
        {"mail*.example.com", "mail.example.com", true},
        {"mail*.example.com", "mail.x.example.com", false},
        {"m?il.example.com", "mail.example.com", true},
        {"m?il.example.com", "mil.example.com", false},
        {"www.*.com", "www.a.b.com", true},
        {"www.*.com", "www.com", false},
        {"*", "com", true},
        {"*.*", "com", false},
        {"*.*", "a.com", true},
        {"*a*b*", "xaybz", true},
        {"*a*b*", "xbya", false},
        {"example.com", "example.com", true},
        {"example.com", "www.example.com", false},
    };
    for (size_t i = 0; i < sizeof m / sizeof m[0]; i++) {
        char pk[SIFT_NAME_KEY_MAX], nk[SIFT_NAME_KEY_MAX];
        assert_true(sift__name_key(m[i].pattern, strlen(m[i].pattern), false, pk, sizeof pk) > 0);
        assert_true(sift__name_key(m[i].name, strlen(m[i].name), false, nk, sizeof nk) > 0);
        if (sift__name_match(pk, nk) != m[i].match)
            fail_msg("'%s' against '%s': wanted %d", m[i].pattern, m[i].name, m[i].match);
    }
    /* the fixed labels of a pattern, as keys: "com.example.*" begins with "com.example" */
    assert_int_equal(sift__name_prefix("com.example.*"), 11);
    assert_int_equal(sift__name_prefix("com.ex*"), 3);
    assert_int_equal(sift__name_prefix("*.com"), 0);
    assert_int_equal(sift__name_prefix("com.example"), 11); /* no wildcard: all of it */
    /* a long run of "*" labels against a long name stays fast (no backtracking over labels) */
    char pat[512] = "", name[512] = "";
    for (int i = 0; i < 120; i++) {
        strcat(pat, i ? ".*" : "*");
        strcat(name, i ? ".a" : "a");
    }
    strcat(pat, ".b");
    assert_false(sift__name_match(pat, name));
}

/* The metadata terms compile to lookups in their tables, every value bound. */
static void test_query_meta(void **state)
{
    (void)state;
    static const struct {
        const char *expr, *sql;
        const char *params; /* the text parameters, '|' between */
    } ok[] = {
        {"dns Example.COM.",
         "(f.id IN (SELECT m.flow_id FROM names m WHERE m.kind = ? AND m.name = ?))",
         "com.example"},
        {"sni *.example.com",
         "(f.id IN (SELECT m.flow_id FROM names m WHERE m.kind = ? AND m.name > ? AND m.name < ? "
         "AND sift_name_match(?, m.name)))",
         "com.example.|com.example/|com.example.*"},
        {"name *.com",
         "(f.id IN (SELECT m.flow_id FROM names m WHERE m.kind IN (?, ?, ?, ?) AND m.name > ? AND "
         "m.name < ? AND sift_name_match(?, m.name)))",
         "com.|com/|com.*"},
        {"uri contains '50%_off'",
         "(f.id IN (SELECT m.flow_id FROM http m WHERE m.\"uri\" LIKE ? ESCAPE '\\'))",
         "%50\\%\\_off%"},
        {"ua 'curl/*'", "(f.id IN (SELECT m.flow_id FROM http m WHERE m.\"user_agent\" GLOB ?))",
         "curl/*"},
        {"uri \"contains\"", "(f.id IN (SELECT m.flow_id FROM http m WHERE m.\"uri\" = ?))",
         "contains"},
        {"ja3 B1FBF71983DC2A72277E70EC11E3A979",
         "(f.id IN (SELECT m.flow_id FROM tls m WHERE m.\"ja3\" = ?))",
         "b1fbf71983dc2a72277e70ec11e3a979"},
        {"ja3 771,4865-4866,0-23,29,0",
         "(f.id IN (SELECT m.flow_id FROM tls m WHERE m.\"ja3_string\" = ?))",
         "771,4865-4866,0-23,29,0"},
        {"ssh.client OpenSSH_7*",
         "(f.id IN (SELECT m.flow_id FROM ssh m WHERE m.\"client\" GLOB ? OR m.\"client\" GLOB "
         "?))",
         "OpenSSH_7*|SSH-*-OpenSSH_7*"},
        {"cert.issuer contains \"Let's Encrypt\"",
         "(f.id IN (SELECT m.flow_id FROM tls m WHERE m.\"issuer\" LIKE ? ESCAPE '\\'))",
         "%Let's Encrypt%"},
        {"cert.sha1 AE3D6031503C5AADABE0213902FB3214D1A5234A",
         "(f.id IN (SELECT m.flow_id FROM tls m WHERE m.\"cert_sha1\" = ?))",
         "ae3d6031503c5aadabe0213902fb3214d1a5234a"},
        {"ssh.server dropbear_2019.78",
         "(f.id IN (SELECT m.flow_id FROM ssh m WHERE m.\"server\" = ? OR m.\"server\" GLOB ?))",
         "dropbear_2019.78|SSH-*-dropbear_2019.78"},
    };
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        sift_query_t *q;
        char err[SIFT_ERRBUF_SIZE];
        if (sift_query_compile(&q, ok[i].expr, err, NULL) != 0)
            fail_msg("'%s': %s", ok[i].expr, err);
        if (strcmp(sift_query_sql(q), ok[i].sql) != 0)
            fail_msg("'%s' gave %s", ok[i].expr, sift_query_sql(q));
        char texts[512] = "";
        for (size_t k = 0; k < sift_query_nparams(q); k++) {
            const sift_query_param_t *p = sift_query_param(q, k);
            if (p->kind != 't')
                continue;
            if (texts[0])
                strcat(texts, "|");
            strcat(texts, p->t);
        }
        if (strcmp(texts, ok[i].params) != 0)
            fail_msg("'%s': values %s", ok[i].expr, texts);
        sift_query_free(q);
    }
}

static void test_times_and_addresses(void **state)
{
    (void)state;
    int64_t ns;
    assert_int_equal(sift_parse_time("2024-05-14", &ns), 0);
    assert_int_equal(ns, 1715644800LL * 1000000000);
    assert_int_equal(sift_parse_time("2024-05-14T10:00:00.25Z", &ns), 0);
    assert_int_equal(ns, 1715680800LL * 1000000000 + 250000000);
    assert_int_equal(sift_parse_time("2024-05-14T12:00:00+02:00", &ns), 0);
    assert_int_equal(ns, 1715680800LL * 1000000000);
    assert_int_equal(sift_parse_time("1970-01-01 00:00", &ns), 0);
    assert_int_equal(ns, 0);
    assert_int_equal(sift_parse_time("1715680800.000000001", &ns), 0);
    assert_int_equal(ns, 1715680800LL * 1000000000 + 1);
    /* outside 64-bit nanoseconds: saturated, never wrapped (wrapped, 2300 was before 1970) */
    assert_int_equal(sift_parse_time("2300-01-01", &ns), 0);
    assert_true(ns == INT64_MAX);
    assert_int_equal(sift_parse_time("1600-01-01T00:00:00.5Z", &ns), 0);
    assert_true(ns == INT64_MIN);
    assert_int_equal(sift_parse_time("9999-12-31T23:59:59-14:00", &ns), 0);
    assert_true(ns == INT64_MAX);
    assert_int_equal(sift_parse_time("2262-04-11T23:47:16Z", &ns), 0);
    assert_true(ns == 9223372036000000000);
    assert_int_equal(sift_parse_time("1677-09-21T00:12:44Z", &ns), 0);
    assert_true(ns == -9223372036000000000);
    assert_int_equal(sift_parse_time("2024-13-01", &ns), SIFT_EPARSE);
    assert_int_equal(sift_parse_time("2024-05-14T25:00", &ns), SIFT_EPARSE);
    assert_int_equal(sift_parse_time("12abc", &ns), SIFT_EPARSE);

    uint8_t a[16];
    char buf[64];
    assert_int_equal(sift_parse_addr("10.1.2.3", a), 4);
    assert_string_equal(sift_format_addr(a, buf, sizeof buf), "10.1.2.3");
    /* every octet width, and a buffer too small for the fast path (inet_ntop's answer) */
    static const char *const v4[] = {"0.0.0.0", "255.255.255.255", "9.10.99.100", "192.168.0.255"};
    for (size_t i = 0; i < sizeof v4 / sizeof v4[0]; i++) {
        assert_int_equal(sift_parse_addr(v4[i], a), 4);
        assert_string_equal(sift_format_addr(a, buf, sizeof buf), v4[i]);
        assert_string_equal(sift_format_addr(a, buf, strlen(v4[i]) + 1), v4[i]);
    }
    assert_int_equal(sift_parse_addr("2001:db8::1", a), 6);
    assert_string_equal(sift_format_addr(a, buf, sizeof buf), "2001:db8::1");
    assert_int_equal(sift_parse_addr("10.1.2", a), 0);
}

/* Positions survive the codec exactly, for random walks with timestamps that step back. */
static void test_positions_codec(void **state)
{
    (void)state;
    srand(7);
    for (int round = 0; round < 50; round++) {
        st_posbuf_t pb = {0};
        size_t n = (size_t)(rand() % 5000);
        uint64_t *off = malloc((n + 1) * sizeof *off);
        int64_t *ts = malloc((n + 1) * sizeof *ts);
        uint64_t o = 24;
        int64_t t = 1700000000LL * 1000000000;
        for (size_t i = 0; i < n; i++) {
            o += 16 + (uint64_t)(rand() % 70000);
            t += (int64_t)(rand() % 2000000) - 300000;
            off[i] = o;
            ts[i] = t;
            assert_int_equal(sift__pos_append(&pb, o, t), 0);
        }
        uint8_t *blob;
        size_t blen;
        ZSTD_CCtx *z = ZSTD_createCCtx();
        assert_int_equal(sift__pos_encode(&pb, round % 2 ? z : NULL, &blob, &blen), 0);
        ZSTD_freeCCtx(z);
        uint64_t *doff;
        int64_t *dts;
        size_t dn;
        assert_int_equal(sift__pos_decode(blob, blen, &doff, &dts, &dn), 0);
        assert_int_equal(dn, n);
        if (n) {
            assert_memory_equal(doff, off, n * sizeof *off);
            assert_memory_equal(dts, ts, n * sizeof *ts);
        }
        /* every truncation of the blob is refused, never overread */
        for (size_t cut = 0; cut < blen; cut += 1 + blen / 16) {
            uint8_t *part = malloc(cut ? cut : 1);
            memcpy(part, blob, cut);
            uint64_t *x;
            int64_t *y;
            size_t m;
            assert_true(sift__pos_decode(part, cut, &x, &y, &m) < 0 || m == 0);
            free(part);
        }
        free(blob);
        free(doff);
        free(dts);
        free(off);
        free(ts);
        free(pb.buf);
    }
}

static int count_rows(void *user, const sift_flow_row_t *r)
{
    (void)r;
    (*(size_t *)user)++;
    return 0;
}

/* The library API on the bundled captures: an update, a second one with nothing to do, a
 * query equal to the flows pass, and a read-only handle refusing updates. */
static void test_index_api(void **state)
{
    (void)state;
    const char *caps = getenv("SIFT_TEST_CAPTURES");
    char path[4096], db[] = "/tmp/capsift-store-XXXXXX";
    int fd = mkstemp(db);
    assert_true(fd >= 0);
    close(fd);
    unlink(db);
    snprintf(path, sizeof path, "%s/pcapplusplus--http-packets.pcap",
             caps ? caps : "tests/captures");
    sift_ctx_t *ctx;
    assert_int_equal(sift_ctx_create(&ctx), 0);
    sift_index_t *ix;
    assert_int_equal(sift_index_open(&ix, ctx, db, NULL), 0);
    const char *paths[] = {path};
    sift_index_summary_t sum;
    assert_int_equal(sift_index_update(ix, paths, 1, NULL, &sum), 0);
    assert_int_equal(sum.files[SIFT_INDEX_INDEXED], 1);
    assert_int_equal(sum.packets, 1985);
    assert_int_equal(sum.flows, 12);
    assert_int_equal(sift_index_update(ix, paths, 1, NULL, &sum), 0);
    assert_int_equal(sum.files[SIFT_INDEX_SKIPPED], 1);
    assert_int_equal(sum.files[SIFT_INDEX_INDEXED], 0);
    sift_query_t *q;
    assert_int_equal(sift_query_compile(&q, "port 8868 or port 8869", NULL, NULL), 0);
    size_t n = 0;
    assert_int_equal(sift_index_query(ix, q, SIFT_SORT_PACKETS, 0, count_rows, &n), 0);
    assert_int_equal(n, 2);
    FILE *out = tmpfile();
    sift_extract_summary_t xs;
    assert_int_equal(sift_index_extract(ix, q, out, &xs), 0);
    assert_int_equal(xs.packets, 628); /* tcpdump -r F 'port 8868 or port 8869' | wc -l */
    fclose(out);
    sift_query_free(q);
    sift_index_close(ix);

    sift_index_opts_t ro = {.read_only = true};
    assert_int_equal(sift_index_open(&ix, ctx, db, &ro), 0);
    assert_int_equal(sift_index_update(ix, paths, 1, NULL, NULL), SIFT_EINVAL);
    sift_index_close(ix);
    sift_index_close(NULL);
    char wal[4200];
    snprintf(wal, sizeof wal, "%s-wal", db);
    unlink(wal);
    snprintf(wal, sizeof wal, "%s-shm", db);
    unlink(wal);
    unlink(db);
    sift_ctx_free(ctx);
}

/* sift_index_flows gives what the flows and metadata passes gave: every flow in order with its
 * key, initiator, counters and application, and its rows with every text, list and number. */
static int count_flows(void *user, const sift_index_flow_t *f)
{
    (void)f;
    ++*(size_t *)user;
    return 0;
}

typedef struct flows_cmp {
    const sift_engine_t *e;
    int fp, mp;
    size_t flow, rows, texts;
} flows_cmp_t;

static int compare_flow(void *user, const sift_index_flow_t *x)
{
    flows_cmp_t *c = user;
    const sift_flows_t *fs = sift_engine_state(c->e, 0, c->fp);
    const sift_meta_t *m = sift_engine_state(c->e, 0, c->mp);
    assert_true(c->flow < sift_flows_count(fs));
    const sift_flow_t *f = sift_flows_at(fs, c->flow++);
    assert_memory_equal(&x->flow->key, &f->key, sizeof f->key);
    assert_memory_equal(sift_flow_addr_a(x->flow), sift_flow_addr_a(f), 16);
    assert_int_equal(x->flow->first_ns, f->first_ns);
    assert_int_equal(x->flow->last_ns, f->last_ns);
    assert_memory_equal(x->flow->packets, f->packets, sizeof f->packets);
    assert_memory_equal(x->flow->bytes, f->bytes, sizeof f->bytes);
    assert_memory_equal(x->flow->tcp_flags, f->tcp_flags, sizeof f->tcp_flags);
    char app[64];
    assert_string_equal(x->app, sift_flows_app_name(fs, f, app, sizeof app));
    assert_true(x->meta);
    const sift_meta_row_t *const *rows;
    size_t n = sift_meta_flow_rows(m, f, &rows);
    assert_int_equal(x->nrows, n);
    for (size_t i = 0; i < n; i++) {
        const sift_meta_row_t *a = x->rows[i], *b = rows[i];
        assert_int_equal(a->proto, b->proto);
        assert_memory_equal(a->ts_ns, b->ts_ns, sizeof b->ts_ns);
        assert_memory_equal(a->src, b->src, 16);
        assert_int_equal(a->dport, b->dport);
        size_t nf;
        const sift_meta_field_t *fd = sift_meta_fields((sift_meta_proto_t)a->proto, &nf);
        for (size_t k = 0; k < nf; k++) {
            if (fd[k].type == SIFT_META_T_STR || fd[k].type == SIFT_META_T_LIST) {
                const char *sa = a->str[fd[k].slot], *sb = b->str[fd[k].slot];
                assert_true((sa == NULL) == (sb == NULL));
                if (sa) {
                    assert_string_equal(sa, sb);
                    c->texts++;
                }
            } else if (fd[k].type != SIFT_META_T_NAME) {
                assert_int_equal(a->num[fd[k].slot], b->num[fd[k].slot]);
            }
        }
        c->rows++;
    }
    return 0;
}

static void test_index_flows(void **state)
{
    (void)state;
    const char *caps = getenv("SIFT_TEST_CAPTURES");
    char path[4096], db[] = "/tmp/capsift-store-XXXXXX";
    int fd = mkstemp(db);
    assert_true(fd >= 0);
    close(fd);
    unlink(db);
    /* DNS and HTTP, with lists (more than one answer) */
    snprintf(path, sizeof path, "%s/dpkt--http.pcap", caps ? caps : "tests/captures");
    sift_ctx_t *ctx;
    assert_int_equal(sift_ctx_create(&ctx), 0);
    sift_index_t *ix;
    assert_int_equal(sift_index_open(&ix, ctx, db, NULL), 0);
    const char *paths[] = {path};
    assert_int_equal(sift_index_update(ix, paths, 1, NULL, NULL), 0);

    sift_engine_t *e;
    assert_int_equal(sift_engine_create(&e, ctx, NULL), 0);
    flows_cmp_t c = {.e = e};
    c.mp = sift_engine_add_pass(e, &sift_meta_pass, NULL);
    assert_true(c.mp >= 0);
    assert_int_equal(sift_engine_add_input(e, path), 1);
    assert_int_equal(sift_engine_run(e), 0);
    c.fp = sift_engine_flows_pass(e);
    assert_int_equal(sift_index_flows(ix, NULL, (1u << SIFT_META_NPROTO) - 1, compare_flow, &c), 0);
    assert_int_equal(c.flow, sift_flows_count(sift_engine_state(e, 0, c.fp)));
    assert_int_equal(c.rows, sift_meta_count(sift_engine_state(e, 0, c.mp)));
    assert_true(c.rows >= 3 && c.texts >= 10);
    /* a query selects flows, and their rows come with them */
    sift_query_t *q;
    assert_int_equal(sift_query_compile(&q, "port 80", NULL, NULL), 0);
    size_t n = 0, want = 0;
    assert_int_equal(sift_index_flows(ix, q, 0, count_flows, &n), 0);
    assert_int_equal(sift_index_query(ix, q, SIFT_SORT_NONE, 0, count_rows, &want), 0);
    assert_true(n == want && n > 0 && n < c.flow);
    sift_query_free(q);
    sift_engine_free(e);
    sift_index_close(ix);
    char wal[4200];
    snprintf(wal, sizeof wal, "%s-wal", db);
    unlink(wal);
    snprintf(wal, sizeof wal, "%s-shm", db);
    unlink(wal);
    unlink(db);
    sift_ctx_free(ctx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_query_sql),           cmocka_unit_test(test_query_errors),
        cmocka_unit_test(test_times_and_addresses), cmocka_unit_test(test_positions_codec),
        cmocka_unit_test(test_index_api),           cmocka_unit_test(test_names),
        cmocka_unit_test(test_query_meta),          cmocka_unit_test(test_index_flows),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
