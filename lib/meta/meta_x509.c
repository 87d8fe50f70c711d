/* X.509 certificates (RFC 5280), DER (X.690): the subject, issuer, validity and DNS names of
 * the subject alternative name extension, read through the bounds-checked cursor. Names are
 * written as RFC 4514 strings.
 *
 *   Certificate ::= SEQUENCE { tbsCertificate, signatureAlgorithm, signatureValue }
 *   TBSCertificate ::= SEQUENCE {
 *       [0] EXPLICIT version OPTIONAL, serialNumber INTEGER, signature AlgorithmIdentifier,
 *       issuer Name, validity SEQUENCE { notBefore Time, notAfter Time }, subject Name,
 *       subjectPublicKeyInfo, [1] issuerUniqueID OPTIONAL, [2] subjectUniqueID OPTIONAL,
 *       [3] EXPLICIT extensions SEQUENCE OF Extension OPTIONAL }
 *   Name ::= SEQUENCE OF SET OF SEQUENCE { type OBJECT IDENTIFIER, value ANY }
 *   Extension ::= SEQUENCE { extnID, critical BOOLEAN DEFAULT FALSE, extnValue OCTET STRING }
 *   subjectAltName (2.5.29.17) ::= SEQUENCE OF GeneralName; dNSName [2] IA5String
 */
#include "common/cursor.h"
#include "common/internal.h"

#include <capsift/meta.h>

#include <string.h>

enum {
    DER_BOOLEAN = 0x01,
    DER_INTEGER = 0x02,
    DER_OCTETS = 0x04,
    DER_OID = 0x06,
    DER_UTF8 = 0x0c,
    DER_PRINTABLE = 0x13,
    DER_T61 = 0x14,
    DER_IA5 = 0x16,
    DER_UTCTIME = 0x17,
    DER_GENTIME = 0x18,
    DER_UNIVERSAL = 0x1c,
    DER_BMP = 0x1e,
    DER_SEQUENCE = 0x30,
    DER_SET = 0x31
};

typedef struct der {
    uint8_t tag;
    const uint8_t *p;
    size_t len;
} der_t;

/* The next TLV of c (one-byte tags, definite lengths of at most four bytes, as DER has them). */
static bool der_next(sift_cursor_t *c, der_t *out)
{
    out->tag = sift_cur_u8(c);
    uint8_t l = sift_cur_u8(c);
    size_t len = l;
    if ((out->tag & 0x1f) == 0x1f || l == 0x80 || l > 0x84)
        return false;
    if (l & 0x80) {
        len = 0;
        for (int i = 0; i < (l & 0x7f); i++)
            len = len << 8 | sift_cur_u8(c);
    }
    out->len = len;
    out->p = sift_cur_take(c, len);
    return !c->trunc && out->p != NULL;
}

/* The next TLV, which must have tag. */
static bool der_expect(sift_cursor_t *c, uint8_t tag, der_t *out)
{
    return der_next(c, out) && out->tag == tag;
}

static sift_cursor_t der_inside(const der_t *d)
{
    return sift_cur_make(d->p, d->len);
}

/* ---- text ---- */

typedef struct out {
    char *s;
    size_t size, len;
    bool cut;
} out_t;

static void put(out_t *o, const char *s, size_t n)
{
    if (o->len + n + 1 > o->size) {
        o->cut = true;
        return;
    }
    memcpy(o->s + o->len, s, n);
    o->len += n;
    o->s[o->len] = '\0';
}

/* b as '\' and two hex digits (RFC 4514's escape of a byte). */
static void put_hex(out_t *o, uint8_t b)
{
    static const char hex[] = "0123456789ABCDEF";
    const char t[3] = {'\\', hex[b >> 4], hex[b & 15]};
    put(o, t, 3);
}

/* One code point as UTF-8. */
static void put_code(out_t *o, uint32_t cp)
{
    char t[4];
    size_t n;
    if (cp < 0x80) {
        t[0] = (char)cp;
        n = 1;
    } else if (cp < 0x800) {
        t[0] = (char)(0xc0 | cp >> 6);
        t[1] = (char)(0x80 | (cp & 0x3f));
        n = 2;
    } else if (cp < 0x10000) {
        t[0] = (char)(0xe0 | cp >> 12);
        t[1] = (char)(0x80 | (cp >> 6 & 0x3f));
        t[2] = (char)(0x80 | (cp & 0x3f));
        n = 3;
    } else {
        t[0] = (char)(0xf0 | cp >> 18);
        t[1] = (char)(0x80 | (cp >> 12 & 0x3f));
        t[2] = (char)(0x80 | (cp >> 6 & 0x3f));
        t[3] = (char)(0x80 | (cp & 0x3f));
        n = 4;
    }
    put(o, t, n);
}

/* An attribute value as RFC 4514 writes it: the characters special there escaped with '\',
 * control bytes and bytes that are not UTF-8 as \HH; BMPString and UniversalString turned into
 * UTF-8. */
static void put_value(out_t *o, const der_t *v)
{
    size_t unit = v->tag == DER_BMP ? 2 : v->tag == DER_UNIVERSAL ? 4 : 1;
    for (size_t i = 0; i + unit <= v->len;) {
        const uint8_t *b = v->p + i;
        if (unit > 1) {
            uint32_t cp = unit == 2 ? sift_load_be16(b) : sift_load_be32(b);
            i += unit;
            if (cp < 0x20 || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
                put(o, "\\3F", 3); /* '?' for what is not a character */
            else if (strchr(",+\"\\<>;", (int)cp) && cp < 0x80)
                put(o, (const char[2]){'\\', (char)cp}, 2);
            else
                put_code(o, cp);
            continue;
        }
        size_t n = sift_utf8_seq(b, v->len - i);
        if (n) {
            put(o, (const char *)b, n);
            i += n;
        } else if (b[0] < 0x20 || b[0] >= 0x7f) {
            put_hex(o, b[0]);
            i++;
        } else {
            bool special = strchr(",+\"\\<>;", b[0]) != NULL ||
                           (i == 0 && (b[0] == '#' || b[0] == ' ')) ||
                           (i + 1 == v->len && b[0] == ' ');
            if (special)
                put(o, "\\", 1);
            put(o, (const char *)b, 1);
            i++;
        }
    }
}

/* ---- names ---- */

static const struct {
    uint8_t len;
    uint8_t oid[10];
    const char *name;
} attrs[] = {
    {3, {0x55, 0x04, 0x03}, "CN"},
    {3, {0x55, 0x04, 0x06}, "C"},
    {3, {0x55, 0x04, 0x07}, "L"},
    {3, {0x55, 0x04, 0x08}, "ST"},
    {3, {0x55, 0x04, 0x09}, "STREET"},
    {3, {0x55, 0x04, 0x0a}, "O"},
    {3, {0x55, 0x04, 0x0b}, "OU"},
    {3, {0x55, 0x04, 0x05}, "serialNumber"},
    {3, {0x55, 0x04, 0x04}, "SN"},
    {3, {0x55, 0x04, 0x2a}, "GN"},
    {3, {0x55, 0x04, 0x0c}, "title"},
    {3, {0x55, 0x04, 0x11}, "postalCode"},
    {3, {0x55, 0x04, 0x0f}, "businessCategory"},
    {9, {0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x01}, "emailAddress"},
    {10, {0x09, 0x92, 0x26, 0x89, 0x93, 0xf2, 0x2c, 0x64, 0x01, 0x19}, "DC"},
    {10, {0x09, 0x92, 0x26, 0x89, 0x93, 0xf2, 0x2c, 0x64, 0x01, 0x01}, "UID"},
};

/* An OID in dotted decimal. */
static void put_oid(out_t *o, const der_t *d)
{
    uint64_t v = 0;
    bool first = true;
    for (size_t i = 0; i < d->len; i++) {
        if (v > (UINT64_MAX >> 7))
            return;
        v = v << 7 | (d->p[i] & 0x7f);
        if (d->p[i] & 0x80)
            continue;
        char buf[SIFT_DEC_U32_MAX + 2];
        size_t n = 0;
        if (first) { /* the first two arcs share a byte */
            unsigned a = v < 40 ? 0 : v < 80 ? 1 : 2;
            buf[n++] = (char)('0' + a);
            buf[n++] = '.';
            v -= a * 40;
            first = false;
        } else {
            buf[n++] = '.';
        }
        if (v > UINT32_MAX)
            return;
        n += sift__dec_u32(buf + n, (uint32_t)v);
        put(o, buf, n);
        v = 0;
    }
}

static void put_type(out_t *o, const der_t *oid)
{
    for (size_t i = 0; i < sizeof attrs / sizeof attrs[0]; i++)
        if (oid->len == attrs[i].len && memcmp(oid->p, attrs[i].oid, oid->len) == 0) {
            put(o, attrs[i].name, strlen(attrs[i].name));
            return;
        }
    put_oid(o, oid);
}

#define MAX_RDNS 64

/* A Name as RFC 4514 writes it: its RDNs last first, ',' between them, '+' inside one. */
static bool put_name(out_t *o, const der_t *name)
{
    der_t rdn[MAX_RDNS];
    size_t n = 0;
    sift_cursor_t c = der_inside(name);
    while (sift_cur_left(&c) > 0) {
        if (n == MAX_RDNS || !der_expect(&c, DER_SET, &rdn[n]))
            return false;
        n++;
    }
    for (size_t i = n; i-- > 0;) {
        sift_cursor_t a = der_inside(&rdn[i]);
        bool first = true;
        while (sift_cur_left(&a) > 0) {
            der_t atv, type, value;
            if (!der_expect(&a, DER_SEQUENCE, &atv))
                return false;
            sift_cursor_t t = der_inside(&atv);
            if (!der_expect(&t, DER_OID, &type) || !der_next(&t, &value))
                return false;
            if (!first || i + 1 < n)
                put(o, first ? "," : "+", 1);
            first = false;
            put_type(o, &type);
            put(o, "=", 1);
            put_value(o, &value);
        }
    }
    return true;
}

/* ---- times ---- */

static bool two(const uint8_t *p, unsigned *v)
{
    if (p[0] < '0' || p[0] > '9' || p[1] < '0' || p[1] > '9')
        return false;
    *v = (unsigned)(p[0] - '0') * 10 + (unsigned)(p[1] - '0');
    return true;
}

/* UTCTime YYMMDDHHMM[SS] (years 1950-2049, RFC 5280 4.1.2.5.1) or GeneralizedTime
 * YYYYMMDDHHMM[SS][.fff], then Z or an offset +hhmm / -hhmm (not DER, but sent), into seconds
 * since the epoch. */
static bool der_time(const der_t *d, int64_t *out)
{
    size_t ylen = d->tag == DER_UTCTIME ? 2 : d->tag == DER_GENTIME ? 4 : 0;
    const uint8_t *p = d->p, *end = d->p + d->len;
    unsigned hi = 0, lo, mo, day, h, mi, se = 0;
    if (ylen == 0 || d->len < ylen + 9 || (ylen == 4 && !two(p, &hi)) || !two(p + ylen - 2, &lo) ||
        !two(p + ylen, &mo) || !two(p + ylen + 2, &day) || !two(p + ylen + 4, &h) ||
        !two(p + ylen + 6, &mi))
        return false;
    p += ylen + 8;
    if (end - p >= 2 && two(p, &se))
        p += 2;
    if (ylen == 4 && p < end && (*p == '.' || *p == ','))
        for (p++; p < end && *p >= '0' && *p <= '9'; p++) /* a fraction: whole seconds kept */
            ;
    int64_t offset = 0;
    if (end - p == 5 && (*p == '+' || *p == '-')) {
        unsigned oh, om;
        if (!two(p + 1, &oh) || !two(p + 3, &om) || oh > 23 || om > 59)
            return false;
        offset = (*p == '-' ? -1 : 1) * (int64_t)(oh * 3600 + om * 60);
    } else if (end - p != 1 || *p != 'Z') {
        return false;
    }
    int64_t year = ylen == 4 ? hi * 100 + lo : lo >= 50 ? 1900 + lo : 2000 + lo;
    if (mo < 1 || mo > 12 || day < 1 || day > 31 || h > 23 || mi > 59 || se > 60)
        return false;
    *out = sift__days_from_civil(year, mo, day) * 86400 + h * 3600 + mi * 60 + se - offset;
    return true;
}

/* ---- extensions ---- */

static const uint8_t oid_san[] = {0x55, 0x1d, 0x11};

/* The dNSNames of a subjectAltName: host name bytes as they are, anything else \xHH (so ','
 * separates them unambiguously). */
static void san_names(sift_x509_t *x, const der_t *value)
{
    sift_cursor_t c = der_inside(value);
    der_t seq, gn;
    if (!der_expect(&c, DER_SEQUENCE, &seq))
        return;
    out_t o = {x->san, sizeof x->san, strlen(x->san), false};
    sift_cursor_t g = der_inside(&seq);
    while (sift_cur_left(&g) > 0 && der_next(&g, &gn)) {
        if (gn.tag != 0x82) /* [2] IMPLICIT IA5String */
            continue;
        if (x->nsan == SIFT_X509_SAN_COUNT) {
            x->san_left_out++;
            continue;
        }
        size_t before = o.len;
        if (o.len)
            put(&o, ",", 1);
        for (size_t i = 0; i < gn.len; i++) {
            uint8_t b = gn.p[i];
            bool plain = (b >= 'a' && b <= 'z') || (b >= 'A' && b <= 'Z') ||
                         (b >= '0' && b <= '9') || b == '.' || b == '-' || b == '*' || b == '_';
            if (plain)
                put(&o, (const char *)&gn.p[i], 1);
            else
                put_hex(&o, b); /* "\2C" */
        }
        if (o.cut) { /* a name that does not fit is left out whole */
            o.len = before;
            o.s[before] = '\0';
            o.cut = false;
            x->cut = true;
            x->san_left_out++;
            continue;
        }
        x->nsan++;
    }
}

static void extensions(sift_x509_t *x, const der_t *wrapped)
{
    sift_cursor_t c = der_inside(wrapped);
    der_t list, ext;
    if (!der_expect(&c, DER_SEQUENCE, &list))
        return;
    sift_cursor_t e = der_inside(&list);
    while (sift_cur_left(&e) > 0 && der_expect(&e, DER_SEQUENCE, &ext)) {
        sift_cursor_t f = der_inside(&ext);
        der_t oid, v;
        if (!der_expect(&f, DER_OID, &oid) || !der_next(&f, &v))
            continue;
        if (v.tag == DER_BOOLEAN && !der_next(&f, &v))
            continue;
        if (v.tag == DER_OCTETS && oid.len == sizeof oid_san &&
            memcmp(oid.p, oid_san, sizeof oid_san) == 0)
            san_names(x, &v);
    }
}

int sift_x509_parse(const uint8_t *der, size_t len, sift_x509_t *x)
{
    memset(x, 0, sizeof *x);
    x->not_before = x->not_after = INT64_MIN;
    sift_cursor_t c = sift_cur_make(der, len);
    der_t cert, tbs, d, issuer, validity, subject;
    if (!der_expect(&c, DER_SEQUENCE, &cert))
        return SIFT_EINVAL;
    x->der_len = (size_t)(c.p - der);
    sift_cursor_t cc = der_inside(&cert);
    if (!der_expect(&cc, DER_SEQUENCE, &tbs))
        return SIFT_EINVAL;
    sift_cursor_t t = der_inside(&tbs);
    if (!der_next(&t, &d))
        return SIFT_EINVAL;
    if (d.tag == 0xa0 && !der_next(&t, &d)) /* the version; then the serial number */
        return SIFT_EINVAL;
    if (d.tag != DER_INTEGER || !der_expect(&t, DER_SEQUENCE, &d) ||
        !der_expect(&t, DER_SEQUENCE, &issuer) || !der_expect(&t, DER_SEQUENCE, &validity) ||
        !der_expect(&t, DER_SEQUENCE, &subject))
        return SIFT_EINVAL;
    out_t os = {x->subject, sizeof x->subject, 0, false};
    out_t oi = {x->issuer, sizeof x->issuer, 0, false};
    if (!put_name(&os, &subject) || !put_name(&oi, &issuer))
        return SIFT_EINVAL;
    x->cut = os.cut || oi.cut;
    sift_cursor_t v = der_inside(&validity);
    der_t nb, na;
    if (der_next(&v, &nb) && der_next(&v, &na)) {
        if (!der_time(&nb, &x->not_before))
            x->not_before = INT64_MIN;
        if (!der_time(&na, &x->not_after))
            x->not_after = INT64_MIN;
    }
    while (sift_cur_left(&t) > 0 && der_next(&t, &d)) /* the key, unique ids, extensions */
        if (d.tag == 0xa3)
            extensions(x, &d);
    return 0;
}
