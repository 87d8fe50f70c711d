/* Application metadata parsers: DNS messages built here byte by byte from RFC 1035's format
 * (header, names with compression pointers, each record type with a text form), and damaged
 * ones (pointer loops, retired label types, records cut short, counts beyond the bytes);
 * DHCP; an X.509 certificate built in DER from RFC 5280's structure, and a TLS server flight
 * carrying it. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <capsift/meta.h>

#include <stdlib.h>
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

/* ---- X.509 ---- */

/* Appends the TLV tag, len, bytes to m (lengths up to 64 KiB). */
static void tlv(msg_t *m, uint8_t tag, const void *p, size_t n)
{
    uint8_t h[4] = {tag};
    size_t k = 2;
    if (n < 0x80) {
        h[1] = (uint8_t)n;
    } else {
        h[1] = 0x82;
        h[2] = (uint8_t)(n >> 8);
        h[3] = (uint8_t)n;
        k = 4;
    }
    put(m, h, k);
    put(m, p, n);
}

static void wrap(msg_t *m, uint8_t tag, const msg_t *inner)
{
    tlv(m, tag, inner->b, inner->n);
}

/* SET { SEQUENCE { OID 2.5.4.type, value } } */
static void atv(msg_t *seq, uint8_t type, uint8_t vtag, const void *v, size_t n)
{
    msg_t a = {.n = 0};
    const uint8_t oid[3] = {0x55, 0x04, type};
    tlv(&a, 0x06, oid, 3);
    tlv(&a, vtag, v, n);
    wrap(seq, 0x30, &a);
}

static void make_cert(msg_t *cert)
{
    msg_t subject = {.n = 0}, issuer = {.n = 0}, rdn = {.n = 0}, tbs = {.n = 0}, x = {.n = 0};
    atv(&rdn, 0x06, 0x13, "US", 2); /* C, PrintableString */
    wrap(&subject, 0x31, &rdn);
    rdn.n = 0;
    atv(&rdn, 0x0a, 0x0c, "Acme, Inc.", 10); /* O, UTF8String with a comma */
    wrap(&subject, 0x31, &rdn);
    rdn.n = 0;
    atv(&rdn, 0x03, 0x1e, "\0w\0\xe9", 4); /* CN, BMPString "wé" */
    wrap(&subject, 0x31, &rdn);
    rdn.n = 0;
    atv(&rdn, 0x0b, 0x0c, "a", 1); /* one RDN of two OUs */
    atv(&rdn, 0x0b, 0x0c, "b", 1);
    wrap(&subject, 0x31, &rdn);
    rdn.n = 0;
    atv(&rdn, 0x03, 0x13, " #x ", 4); /* spaces at both ends */
    wrap(&issuer, 0x31, &rdn);

    msg_t v = {.n = 0}, t = {.n = 0};
    tlv(&v, 0x02, "\x02", 1);
    tlv(&tbs, 0xa0, v.b, v.n);          /* version 3 */
    tlv(&tbs, 0x02, "\x01\x23", 2);     /* serial */
    tlv(&tbs, 0x30, "\x06\x01\x2a", 3); /* algorithm */
    wrap(&tbs, 0x30, &issuer);
    tlv(&t, 0x17, "250115120000+0530", 17); /* an offset, as some send */
    tlv(&t, 0x18, "20260115120000Z", 15);
    wrap(&tbs, 0x30, &t);
    wrap(&tbs, 0x30, &subject);
    tlv(&tbs, 0x30, "\x05\x00", 2); /* a key, not read */
    msg_t gn = {.n = 0}, san = {.n = 0}, ext = {.n = 0}, exts = {.n = 0}, e3 = {.n = 0};
    tlv(&gn, 0x82, "a.example.com", 13);
    tlv(&gn, 0x87, "\x0a\x00\x00\x01", 4); /* an address: not a DNS name */
    tlv(&gn, 0x82, "b,c", 3);
    wrap(&san, 0x30, &gn);
    const uint8_t oid_san[3] = {0x55, 0x1d, 0x11};
    tlv(&ext, 0x06, oid_san, 3);
    wrap(&ext, 0x04, &san);
    wrap(&exts, 0x30, &ext);
    wrap(&e3, 0x30, &exts);
    wrap(&tbs, 0xa3, &e3);
    wrap(&x, 0x30, &tbs);
    tlv(&x, 0x30, "\x06\x01\x2a", 3);
    tlv(&x, 0x03, "\x00\x01", 2);
    cert->n = 0;
    wrap(cert, 0x30, &x);
}

static void test_x509(void **st)
{
    (void)st;
    msg_t cert;
    make_cert(&cert);
    sift_x509_t x;
    assert_int_equal(sift_x509_parse(cert.b, cert.n, &x), 0);
    assert_string_equal(x.subject, "OU=a+OU=b,CN=w\xc3\xa9,O=Acme\\, Inc.,C=US");
    assert_string_equal(x.issuer, "CN=\\ #x\\ ");
    assert_string_equal(x.san, "a.example.com,b\\2Cc");
    assert_int_equal(x.nsan, 2);
    assert_int_equal(x.der_len, cert.n);
    assert_true(x.not_before == 1736922600); /* 2025-01-15T06:30:00Z */
    assert_true(x.not_after == 1768478400);  /* 2026-01-15T12:00:00Z */
    /* every cut of it: parsed or refused, never read past */
    for (size_t n = 0; n < cert.n; n++) {
        uint8_t *copy = malloc(n ? n : 1);
        memcpy(copy, cert.b, n);
        int rc = sift_x509_parse(copy, n, &x);
        assert_true(rc == 0 || rc == SIFT_EINVAL);
        free(copy);
    }
    assert_int_equal(sift_x509_parse((const uint8_t *)"\x30\x84\xff\xff\xff\xff", 6, &x),
                     SIFT_EINVAL);
}

/* A server's flight: ServerHello in one record, Certificate over two. */
static void test_server_cert(void **st)
{
    (void)st;
    msg_t cert, hs = {.n = 0}, flight = {.n = 0};
    make_cert(&cert);
    const uint8_t hello[] = {2, 0, 0, 6, 3, 3, 0, 0, 0, 0}; /* type, length 6, body */
    put(&hs, hello, sizeof hello);
    const size_t clen = cert.n, mlen = clen + 6;
    const uint8_t ch[] = {11,
                          (uint8_t)(mlen >> 16),
                          (uint8_t)(mlen >> 8),
                          (uint8_t)mlen,
                          (uint8_t)((clen + 3) >> 16),
                          (uint8_t)((clen + 3) >> 8),
                          (uint8_t)(clen + 3),
                          (uint8_t)(clen >> 16),
                          (uint8_t)(clen >> 8),
                          (uint8_t)clen};
    put(&hs, ch, sizeof ch);
    put(&hs, cert.b, cert.n);
    const size_t split = 40; /* the second record begins inside the certificate */
    const uint8_t r1[] = {22, 3, 3, 0, (uint8_t)split};
    put(&flight, r1, 5);
    put(&flight, hs.b, split);
    const uint8_t r2[] = {22, 3, 3, (uint8_t)((hs.n - split) >> 8), (uint8_t)(hs.n - split)};
    put(&flight, r2, 5);
    put(&flight, hs.b + split, hs.n - split);
    uint8_t der[4096];
    size_t dlen;
    assert_int_equal(sift_tls_server_cert(flight.b, flight.n, der, sizeof der, &dlen, NULL), 1);
    assert_int_equal(dlen, cert.n);
    assert_memory_equal(der, cert.b, cert.n);
    for (size_t n = 0; n < flight.n; n++) { /* before its last byte: more is wanted, and no
                                             * more than there is */
        size_t need;
        assert_int_equal(sift_tls_server_cert(flight.b, n, der, sizeof der, &dlen, &need), 0);
        assert_true(need > n && need <= flight.n);
    }
    /* a ChangeCipherSpec after the ServerHello (a resumed session): no certificate */
    msg_t resumed = {.n = 0};
    const uint8_t r0[] = {22, 3, 3, 0, sizeof hello};
    put(&resumed, r0, 5);
    put(&resumed, hello, sizeof hello);
    put(&resumed, "\x14\x03\x03\x00\x01\x01", 6);
    assert_int_equal(sift_tls_server_cert(resumed.b, resumed.n, der, sizeof der, &dlen, NULL),
                     SIFT_EINVAL);
    /* larger than the caller keeps */
    assert_int_equal(sift_tls_server_cert(flight.b, flight.n, der, 16, &dlen, NULL), SIFT_EINVAL);
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
        cmocka_unit_test(test_x509),
        cmocka_unit_test(test_server_cert),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
