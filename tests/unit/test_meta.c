/* Application metadata parsers: DNS messages built here byte by byte from RFC 1035's format
 * (header, names with compression pointers, each record type with a text form), and damaged
 * ones (pointer loops, retired label types, records cut short, counts beyond the bytes). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <capsift/meta.h>

#include <string.h>

typedef struct msg {
    uint8_t b[4096];
    size_t n;
} msg_t;

static void put(msg_t *m, const void *p, size_t n)
{
    assert_true(m->n + n <= sizeof m->b);
    memcpy(m->b + m->n, p, n);
    m->n += n;
}

static void u16(msg_t *m, unsigned v)
{
    const uint8_t b[2] = {(uint8_t)(v >> 8), (uint8_t)v};
    put(m, b, 2);
}

static void u32(msg_t *m, uint32_t v)
{
    u16(m, v >> 16);
    u16(m, v & 0xffff);
}

/* "www.Example.com" as labels, ending in the root */
static void name(msg_t *m, const char *dotted)
{
    const char *p = dotted;
    while (*p) {
        const char *dot = strchr(p, '.');
        size_t l = dot ? (size_t)(dot - p) : strlen(p);
        const uint8_t len = (uint8_t)l;
        put(m, &len, 1);
        put(m, p, l);
        p += l + (dot != NULL);
    }
    put(m, "", 1);
}

static void header(msg_t *m, unsigned id, unsigned flags, unsigned qd, unsigned an)
{
    m->n = 0;
    u16(m, id);
    u16(m, flags);
    u16(m, qd);
    u16(m, an);
    u16(m, 0);
    u16(m, 0);
}

/* an answer whose name is a pointer to offset 12 (the question's name) */
static void answer(msg_t *m, unsigned type, uint32_t ttl, const void *rdata, size_t rdlen)
{
    u16(m, 0xc00c);
    u16(m, type);
    u16(m, 1);
    u32(m, ttl);
    u16(m, (unsigned)rdlen);
    put(m, rdata, rdlen);
}

static void test_query(void **st)
{
    (void)st;
    msg_t m;
    header(&m, 0xbeef, 0x0100, 1, 0);
    name(&m, "www.Example.COM");
    u16(&m, 28);
    u16(&m, 1);
    sift_dns_msg_t d;
    assert_int_equal(sift_dns_parse(m.b, m.n, &d), 0);
    assert_int_equal(d.id, 0xbeef);
    assert_false(d.response);
    assert_false(d.damaged);
    assert_int_equal(d.nrr, 1);
    assert_int_equal(d.rr[0].section, SIFT_DNS_QUESTION);
    assert_string_equal(d.rr[0].name, "www.example.com"); /* lower case, no trailing dot */
    assert_int_equal(d.rr[0].type, 28);
    assert_string_equal(sift_dns_type_name(d.rr[0].type), "AAAA");
}

static void test_response(void **st)
{
    (void)st;
    msg_t m, cname;
    header(&m, 7, 0x8183, 1, 6); /* a response, NXDOMAIN in the flags */
    name(&m, "example.com");
    u16(&m, 1);
    u16(&m, 1);
    const uint8_t a[4] = {192, 0, 2, 1};
    answer(&m, 1, 300, a, 4);
    const uint8_t aaaa[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = 1};
    answer(&m, 28, 60, aaaa, 16);
    cname.n = 0; /* "cdn." then a pointer to example.com */
    put(&cname, "\003cdn\300\014", 6);
    answer(&m, 5, 10, cname.b, cname.n);
    const uint8_t mx[] = {0, 10, 4, 'm', 'a', 'i', 'l', 0xc0, 12};
    answer(&m, 15, 10, mx, sizeof mx);
    const uint8_t txt[] = {5, 'h', 'e', 'l', 'l', 'o', 3, 'a', 0x01, 'b'};
    answer(&m, 16, 10, txt, sizeof txt);
    const uint8_t srv[] = {0, 1, 0, 5, 0x13, 0xc4, 3, 's', 'i', 'p', 0xc0, 12};
    answer(&m, 33, 10, srv, sizeof srv);
    sift_dns_msg_t d;
    assert_int_equal(sift_dns_parse(m.b, m.n, &d), 0);
    assert_true(d.response);
    assert_int_equal(d.rcode, 3);
    assert_false(d.damaged);
    assert_int_equal(d.nrr, 7);
    const char *want[][2] = {{"example.com", ""},
                             {"example.com", "192.0.2.1"},
                             {"example.com", "2001:db8::1"},
                             {"example.com", "cdn.example.com"},
                             {"example.com", "10 mail.example.com"},
                             {"example.com", "helloa\\001b"},
                             {"example.com", "1 5 5060 sip.example.com"}};
    for (size_t i = 0; i < 7; i++) {
        assert_string_equal(d.rr[i].name, want[i][0]);
        assert_string_equal(d.rr[i].data, want[i][1]);
    }
    assert_int_equal(d.rr[1].ttl, 300);
    assert_int_equal(d.rr[1].section, SIFT_DNS_ANSWER);
}

static void test_escapes_and_root(void **st)
{
    (void)st;
    msg_t m;
    header(&m, 1, 0, 2, 0);
    put(&m, "\003a.b\002\\\x07\003com\0", 12); /* labels "a.b", "\\\x07", "com" */
    u16(&m, 1);
    u16(&m, 1);
    put(&m, "", 1); /* the root */
    u16(&m, 2);
    u16(&m, 1);
    sift_dns_msg_t d;
    assert_int_equal(sift_dns_parse(m.b, m.n, &d), 0);
    assert_false(d.damaged);
    assert_string_equal(d.rr[0].name, "a\\.b.\\\\\\007.com");
    assert_string_equal(d.rr[1].name, ".");
}

/* A label of UTF-8 (an mDNS host name) stays as sent; bytes that are not UTF-8 (a 2-byte
 * sequence cut short, an overlong form, a lone continuation) are escaped. */
static void test_utf8_labels(void **st)
{
    (void)st;
    msg_t m;
    header(&m, 1, 0, 1, 0);
    put(&m,
        "\006\xe5\xb0\x8f\xe4\xbd\x9b"
        "\006\xc3x\xc0\xaf\x80y"
        "\005local",
        21);
    u16(&m, 1);
    u16(&m, 1);
    sift_dns_msg_t d;
    assert_int_equal(sift_dns_parse(m.b, m.n, &d), 0);
    assert_string_equal(d.rr[0].name, "\xe5\xb0\x8f\xe4\xbd\x9b.\\195x\\192\\175\\128y.local");
    assert_int_equal(sift_utf8_seq((const uint8_t *)"\xe5\xb0\x8f", 3), 3);
    assert_int_equal(sift_utf8_seq((const uint8_t *)"\xe5\xb0\x8f", 2), 0); /* cut by n */
    assert_int_equal(sift_utf8_seq((const uint8_t *)"\xed\xa0\x80", 3), 0); /* a surrogate */
    assert_int_equal(sift_utf8_seq((const uint8_t *)"a", 1), 0);            /* ASCII */
}

static void test_damage(void **st)
{
    (void)st;
    sift_dns_msg_t d;
    msg_t m = {{0}, 0};
    assert_int_equal(sift_dns_parse(m.b, 11, &d), SIFT_ECORRUPT); /* shorter than a header */
    /* a pointer to itself: a loop, ended */
    header(&m, 1, 0, 1, 0);
    u16(&m, 0xc00c);
    assert_int_equal(sift_dns_parse(m.b, m.n, &d), 0);
    assert_true(d.damaged);
    assert_int_equal(d.nrr, 0);
    /* a retired extended label type */
    header(&m, 1, 0, 1, 0);
    put(&m, "\x41\x01", 2);
    assert_int_equal(sift_dns_parse(m.b, m.n, &d), 0);
    assert_true(d.damaged);
    /* an answer cut short: the question stays */
    header(&m, 1, 0x8000, 1, 1);
    name(&m, "example.com");
    u16(&m, 1);
    u16(&m, 1);
    const uint8_t a[4] = {192, 0, 2, 1};
    answer(&m, 1, 300, a, 4);
    assert_int_equal(sift_dns_parse(m.b, m.n - 2, &d), 0);
    assert_true(d.damaged);
    assert_int_equal(d.nrr, 1);
    assert_string_equal(d.rr[0].name, "example.com");
    /* an A record of the wrong length: kept without its data */
    header(&m, 1, 0x8000, 1, 1);
    name(&m, "example.com");
    u16(&m, 1);
    u16(&m, 1);
    answer(&m, 1, 5, a, 3);
    assert_int_equal(sift_dns_parse(m.b, m.n, &d), 0);
    assert_true(d.damaged);
    assert_int_equal(d.nrr, 2);
    assert_string_equal(d.rr[1].data, "");
    /* counts far beyond the bytes: bounded by the bytes */
    header(&m, 1, 0, 65535, 65535);
    assert_int_equal(sift_dns_parse(m.b, m.n, &d), 0);
    assert_true(d.damaged);
    assert_int_equal(d.nrr, 0);
}

static void test_bounds(void **st)
{
    (void)st;
    msg_t m;
    header(&m, 1, 0x8000, 1, 80); /* more records than are kept */
    name(&m, "example.com");
    u16(&m, 1);
    u16(&m, 1);
    const uint8_t a[4] = {192, 0, 2, 1};
    for (int i = 0; i < 80; i++)
        answer(&m, 1, 1, a, 4);
    sift_dns_msg_t d;
    assert_int_equal(sift_dns_parse(m.b, m.n, &d), 0);
    assert_false(d.damaged);
    assert_int_equal(d.nrr, SIFT_DNS_MAX_RR);
    assert_int_equal(d.left_out, 81 - SIFT_DNS_MAX_RR);
    /* a long TXT is cut to what a record keeps, terminated */
    header(&m, 1, 0x8000, 1, 1);
    name(&m, "example.com");
    u16(&m, 16);
    u16(&m, 1);
    uint8_t txt[256];
    txt[0] = 255;
    memset(txt + 1, 'x', 255);
    answer(&m, 16, 1, txt, sizeof txt);
    assert_int_equal(sift_dns_parse(m.b, m.n, &d), 0);
    assert_false(d.damaged);
    assert_int_equal(strlen(d.rr[1].data), SIFT_DNS_DATA_MAX - 1);
}

/* DNS's form on another port: a query and a response pass, other shapes do not */
/* A DHCP REQUEST: the header's fields, the options kept, a pad, a text with its NUL; cut
 * before the end option; no magic cookie. */
static void test_dhcp(void **st)
{
    (void)st;
    uint8_t b[300] = {1, 1, 6, 0, 0xde, 0xad, 0xbe, 0xef};
    memcpy(b + 28, "\x4c\x6a\xf6\x9f\xf6\x27", 6);
    memcpy(b + 236, "\x63\x82\x53\x63", 4);
    static const uint8_t opts[] = {53,  1,   3,   0,  50, 4, 192, 168,  2,    16, 54, 4,
                                   192, 168, 2,   1,  12, 4, 'p', 'h',  'o',  0,  60, 3,
                                   'a', 'b', 'c', 51, 4,  0, 0,   0x0e, 0x10, 255};
    memcpy(b + 240, opts, sizeof opts);
    sift_dhcp_msg_t d;
    assert_int_equal(sift_dhcp_parse(b, 240 + sizeof opts, &d), 0);
    assert_int_equal(d.op, 1);
    assert_int_equal(d.type, 3);
    assert_string_equal(sift_dhcp_type_name(d.type), "REQUEST");
    assert_int_equal(d.xid, 0xdeadbeef);
    assert_true(d.has_mac && d.mac[0] == 0x4c && d.mac[5] == 0x27);
    assert_true(d.has_requested && d.requested[3] == 16 && d.has_server && d.server[3] == 1);
    assert_string_equal(d.host_name, "pho");
    assert_string_equal(d.vendor_class, "abc");
    assert_true(d.has_lease && d.lease == 3600);
    assert_int_equal(sift_dhcp_parse(b, 240 + 8, &d), SIFT_ETRUNC); /* inside option 50 */
    assert_int_equal(d.type, 3);
    assert_false(d.has_requested);
    b[237] = 0;
    assert_int_equal(sift_dhcp_parse(b, sizeof b, &d), SIFT_EINVAL);
}

static void test_plausible(void **st)
{
    (void)st;
    msg_t m;
    header(&m, 7, 0x0100, 1, 0);
    name(&m, "2.dnscrypt-cert.example");
    u16(&m, 16);
    u16(&m, 1);
    assert_true(sift_dns_plausible(m.b, m.n));
    assert_false(sift_dns_plausible(m.b, m.n - 1)); /* the question cut */
    m.b[5] = 2;                                     /* two questions */
    assert_false(sift_dns_plausible(m.b, m.n));
    m.b[5] = 1;
    m.b[2] = 0x28; /* opcode 5, UPDATE */
    assert_false(sift_dns_plausible(m.b, m.n));
    m.b[2] = 0x81; /* a response */
    assert_true(sift_dns_plausible(m.b, m.n));
    m.b[m.n - 1] = 4; /* class 4 */
    assert_false(sift_dns_plausible(m.b, m.n));
    const char *http = "GET / HTTP/1.1\r\nHost: example.com\r\n\r\n";
    assert_false(sift_dns_plausible((const uint8_t *)http, strlen(http)));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_query),
        cmocka_unit_test(test_response),
        cmocka_unit_test(test_escapes_and_root),
        cmocka_unit_test(test_utf8_labels),
        cmocka_unit_test(test_damage),
        cmocka_unit_test(test_bounds),
        cmocka_unit_test(test_dhcp),
        cmocka_unit_test(test_plausible),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
