/* DHCP: RFC 2131 (2 the message format, 3 the exchanges), RFC 2132 (the options), RFC 951
 * (BOOTP, whose header DHCP keeps).
 *
 *  op(1) htype(1) hlen(1) hops(1) xid(4) secs(2) flags(2) ciaddr(4) yiaddr(4) siaddr(4)
 *  giaddr(4) chaddr(16) sname(64) file(128) magic cookie 99.130.83.99, options:
 *  code(1) length(1) data, 0 a pad without length, 255 the end
 *
 *  kept: 53 message type, 50 requested address, 54 server identifier, 51 lease time,
 *        12 host name, 60 vendor class identifier (the client's software)
 */
#include "common/cursor.h"
#include "common/internal.h"
#include "meta/meta_int.h"

#include <capsift/meta.h>

#include <string.h>

#define HEADER_LEN 236 /* up to the magic cookie */

static const char *const type_names[] = {
    NULL,           "DISCOVER",   "OFFER",  "REQUEST",    "DECLINE",    "ACK",
    "NAK",          "RELEASE",    "INFORM", "FORCERENEW", "LEASEQUERY", "LEASEUNASSIGNED",
    "LEASEUNKNOWN", "LEASEACTIVE"};

const char *sift_dhcp_type_name(unsigned t)
{
    return t < sizeof type_names / sizeof type_names[0] ? type_names[t] : NULL;
}

static void text(sift_dhcp_msg_t *out, char *dst, size_t size, const uint8_t *v, size_t n)
{
    while (n > 0 && v[n - 1] == '\0') /* some clients count a terminating NUL */
        n--;
    if (!dst[0] && !sift__meta_text(dst, size, v, n, false))
        out->cut = true;
}

int sift_dhcp_parse(const uint8_t *p, size_t len, sift_dhcp_msg_t *out)
{
    memset(out, 0, sizeof *out);
    /* a header cut before its cookie (a short snaplen) is read up to the client's address */
    const bool cut = len < HEADER_LEN + 4;
    if (!p || len < 44 || (p[0] != 1 && p[0] != 2) || p[2] > 16 ||
        (!cut && sift_load_be32(p + HEADER_LEN) != 0x63825363u))
        return SIFT_EINVAL;
    sift_cursor_t c = sift_cur_make(p, len);
    out->op = sift_cur_u8(&c);
    const uint8_t htype = sift_cur_u8(&c), hlen = sift_cur_u8(&c);
    sift_cur_skip(&c, 1);
    out->xid = sift_cur_be32(&c);
    sift_cur_skip(&c, 4);
    memcpy(out->ciaddr, sift_cur_take(&c, 4), 4);
    memcpy(out->yiaddr, sift_cur_take(&c, 4), 4);
    sift_cur_skip(&c, 8);
    const uint8_t *chaddr = sift_cur_take(&c, 16);
    if (htype == 1 && hlen == 6) { /* Ethernet */
        memcpy(out->mac, chaddr, 6);
        out->has_mac = true;
    }
    if (cut)
        return SIFT_ETRUNC;
    sift_cur_skip(&c, 64 + 128 + 4);
    for (;;) {
        uint8_t code = sift_cur_u8(&c);
        if (c.trunc)
            return SIFT_ETRUNC; /* no end option: as far as the bytes went */
        if (code == 255)
            return 0;
        if (code == 0)
            continue;
        uint8_t n = sift_cur_u8(&c);
        const uint8_t *v = sift_cur_take(&c, n);
        if (!v)
            return SIFT_ETRUNC;
        switch (code) {
        case 53:
            if (n >= 1)
                out->type = v[0];
            break;
        case 50:
            if (n == 4) {
                memcpy(out->requested, v, 4);
                out->has_requested = true;
            }
            break;
        case 54:
            if (n == 4) {
                memcpy(out->server, v, 4);
                out->has_server = true;
            }
            break;
        case 51:
            if (n == 4) {
                out->lease = sift_load_be32(v);
                out->has_lease = true;
            }
            break;
        case 12:
            text(out, out->host_name, sizeof out->host_name, v, n);
            break;
        case 60:
            text(out, out->vendor_class, sizeof out->vendor_class, v, n);
            break;
        default:
            break;
        }
    }
}
