/* DNS messages: RFC 1035 (4.1 format, 4.1.4 compression, 5.1 escapes), RFC 3596 (AAAA),
 * RFC 2782 (SRV), RFC 6891 (extended label types retired: 0x40 and 0x80 are damage).
 *
 *  header  +--------+--------+   flags: QR(1) opcode(4) AA TC RD RA Z AD CD rcode(4)
 *          | ID     | flags  |
 *          | QDCOUNT| ANCOUNT|
 *          | NSCOUNT| ARCOUNT|
 *          +--------+--------+
 *  question: QNAME QTYPE(16) QCLASS(16)
 *  record:   NAME TYPE(16) CLASS(16) TTL(32) RDLENGTH(16) RDATA
 *  name:     labels (length 1-63, then bytes) ending in a zero byte, or a pointer
 *            (11 and a 14-bit offset into the message) to where the rest is
 */
#include "common/cursor.h"
#include "common/internal.h"

#include <capsift/meta.h>

#include <arpa/inet.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#define MAX_JUMPS 64 /* pointers followed in one name: more is a loop */

typedef struct text {
    char *s;
    size_t n, size; /* s[n] is the NUL; size includes it */
    bool cut;
} text_t;

static void put_char(text_t *t, char c)
{
    if (t->n + 1 < t->size)
        t->s[t->n++] = c;
    else
        t->cut = true;
    t->s[t->n] = '\0';
}

/* One byte of a label or a TXT string, escaped as master files write it. */
static void put_byte(text_t *t, uint8_t b, bool in_label)
{
    if (in_label && b >= 'A' && b <= 'Z')
        b = (uint8_t)(b - 'A' + 'a');
    if (b > 0x20 && b < 0x7f && !(in_label && (b == '.' || b == '\\'))) {
        put_char(t, (char)b);
    } else if (in_label && (b == '.' || b == '\\')) {
        put_char(t, '\\');
        put_char(t, (char)b);
    } else if (b == ' ' && !in_label) {
        put_char(t, ' ');
    } else {
        char e[5];
        snprintf(e, sizeof e, "\\%03u", b);
        for (const char *c = e; *c; c++)
            put_char(t, *c);
    }
}

/* Reads a name starting at c's position in msg (compression pointers are offsets into msg);
 * c moves past the name as it appears at that place. False when the name is damaged. */
static bool read_name(const uint8_t *msg, size_t len, sift_cursor_t *c, char *out, size_t size)
{
    text_t t = {out, 0, size, false};
    out[0] = '\0';
    sift_cursor_t at = *c; /* where labels are read: c itself until the first pointer */
    sift_cursor_t *cur = c;
    unsigned jumps = 0;
    for (;;) {
        uint8_t l = sift_cur_u8(cur);
        if (cur->trunc)
            return false;
        if (l == 0)
            break;
        if ((l & 0xc0) == 0xc0) {
            uint8_t lo = sift_cur_u8(cur);
            if (cur->trunc || ++jumps > MAX_JUMPS)
                return false;
            size_t off = (size_t)(l & 0x3f) << 8 | lo;
            if (off >= len)
                return false;
            at = sift_cur_make(msg + off, len - off);
            cur = &at; /* c stays just past the pointer */
            continue;
        }
        if (l & 0xc0)
            return false; /* 0x40 and 0x80: extended label types, retired */
        const uint8_t *b = sift_cur_take(cur, l);
        if (!b)
            return false;
        if (t.n > 0)
            put_char(&t, '.');
        for (unsigned i = 0; i < l; i++) {
            size_t u = b[i] >= 0x80 ? sift_utf8_seq(b + i, l - i) : 0;
            if (u == 0) {
                put_byte(&t, b[i], true);
                continue;
            }
            for (size_t k = 0; k < u; k++) /* UTF-8 (mDNS, LLMNR names) as sent */
                put_char(&t, (char)b[i + k]);
            i += (unsigned)u - 1;
        }
    }
    if (t.n == 0)
        put_char(&t, '.'); /* the root */
    return true;
}

/* The record's data as text, for the types that have a text form here. */
static bool read_data(const uint8_t *msg, size_t len, uint16_t type, sift_cursor_t rd, char *out,
                      size_t size)
{
    out[0] = '\0';
    size_t n = sift_cur_left(&rd);
    switch (type) {
    case 1:    /* A */
    case 28: { /* AAAA */
        if (n != (type == 1 ? 4u : 16u))
            return false;
        char a[INET6_ADDRSTRLEN];
        if (!inet_ntop(type == 1 ? AF_INET : AF_INET6, rd.p, a, sizeof a))
            return false;
        snprintf(out, size, "%s", a);
        return true;
    }
    case 2:  /* NS */
    case 5:  /* CNAME */
    case 6:  /* SOA: its primary server */
    case 12: /* PTR */
    case 39: /* DNAME */
        return read_name(msg, len, &rd, out, size);
    case 15: { /* MX */
        if (n < 3)
            return false;
        int k = snprintf(out, size, "%u ", sift_load_be16(rd.p)); /* then the name after it */
        sift_cur_skip(&rd, 2);
        return k > 0 && (size_t)k < size && read_name(msg, len, &rd, out + k, size - (size_t)k);
    }
    case 33: { /* SRV */
        if (n < 7)
            return false;
        int k = snprintf(out, size, "%u %u %u ", sift_load_be16(rd.p), sift_load_be16(rd.p + 2),
                         sift_load_be16(rd.p + 4));
        sift_cur_skip(&rd, 6);
        return k > 0 && (size_t)k < size && read_name(msg, len, &rd, out + k, size - (size_t)k);
    }
    case 16: { /* TXT: character-strings, joined */
        text_t t = {out, 0, size, false};
        while (sift_cur_left(&rd) > 0) {
            uint8_t l = sift_cur_u8(&rd);
            const uint8_t *b = sift_cur_take(&rd, l);
            if (!b)
                return false;
            for (unsigned i = 0; i < l; i++)
                put_byte(&t, b[i], false);
        }
        return true;
    }
    default:
        return true;
    }
}

int sift_dns_parse(const uint8_t *msg, size_t len, sift_dns_msg_t *out)
{
    memset(out, 0, offsetof(sift_dns_msg_t, rr));
    out->left_out = 0;
    out->damaged = false;
    if (!msg || len < 12) {
        memset(out, 0, sizeof *out);
        return SIFT_ECORRUPT;
    }
    sift_cursor_t c = sift_cur_make(msg, len);
    out->id = sift_load_be16(msg);
    uint16_t flags = sift_load_be16(msg + 2);
    out->response = (flags & 0x8000) != 0;
    out->opcode = (uint8_t)((flags >> 11) & 15);
    out->truncated = (flags & 0x0200) != 0;
    out->rcode = (uint8_t)(flags & 15);
    for (int i = 0; i < 4; i++)
        out->count[i] = sift_load_be16(msg + 4 + 2 * i);
    sift_cur_skip(&c, 12);
    const uint32_t total = (uint32_t)out->count[0] + out->count[1];
    for (uint32_t k = 0; k < total; k++) {
        const bool question = k < out->count[0];
        sift_dns_rr_t scratch, *rr = out->nrr < SIFT_DNS_MAX_RR ? &out->rr[out->nrr] : &scratch;
        rr->section = question ? SIFT_DNS_QUESTION : SIFT_DNS_ANSWER;
        if (!read_name(msg, len, &c, rr->name, sizeof rr->name)) {
            out->damaged = true;
            break;
        }
        rr->type = (uint16_t)(sift_cur_u8(&c) << 8);
        rr->type |= sift_cur_u8(&c);
        rr->rclass = (uint16_t)(sift_cur_u8(&c) << 8);
        rr->rclass |= sift_cur_u8(&c);
        rr->ttl = 0;
        rr->data[0] = '\0';
        if (!question) {
            const uint8_t *h = sift_cur_take(&c, 6);
            const uint8_t *rd = h ? sift_cur_take(&c, sift_load_be16(h + 4)) : NULL;
            if (!rd) {
                out->damaged = true;
                break;
            }
            rr->ttl = sift_load_be32(h);
            sift_cursor_t data = sift_cur_make(rd, sift_load_be16(h + 4));
            if (!read_data(msg, len, rr->type, data, rr->data, sizeof rr->data)) {
                rr->data[0] = '\0';
                out->damaged = true; /* the record is kept, its data is not */
            }
        }
        if (c.trunc) {
            out->damaged = true;
            break;
        }
        if (rr == &scratch)
            out->left_out++;
        else
            out->nrr++;
    }
    return 0;
}

const char *sift_dns_type_name(uint16_t type)
{
    switch (type) {
    case 1:
        return "A";
    case 2:
        return "NS";
    case 5:
        return "CNAME";
    case 6:
        return "SOA";
    case 12:
        return "PTR";
    case 15:
        return "MX";
    case 16:
        return "TXT";
    case 28:
        return "AAAA";
    case 33:
        return "SRV";
    case 39:
        return "DNAME";
    case 41:
        return "OPT";
    case 43:
        return "DS";
    case 46:
        return "RRSIG";
    case 48:
        return "DNSKEY";
    case 64:
        return "SVCB";
    case 65:
        return "HTTPS";
    case 255:
        return "ANY";
    default:
        return NULL;
    }
}

bool sift_dns_plausible(const uint8_t *p, size_t len)
{
    if (len < 17 || sift_load_be16(p + 4) != 1 || (p[2] & 0x78) != 0 || (p[3] & 0x40) != 0)
        return false;
    unsigned rr = sift_load_be16(p + 6) + sift_load_be16(p + 8) + sift_load_be16(p + 10);
    if (rr > 64)
        return false;
    size_t i = 12; /* the question's name: labels only, no pointer before anything to point at */
    while (i < len && p[i] != 0) {
        if (p[i] > 63)
            return false;
        i += 1 + p[i];
    }
    if (i == 12 || i + 5 > len)
        return false;
    const uint16_t type = sift_load_be16(p + i + 1), cls = sift_load_be16(p + i + 3) & 0x7fff;
    return type != 0 && (cls == 1 || cls == 3 || cls == 255);
}
