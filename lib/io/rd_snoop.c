/* snoop (Sun), as in RFC 1761. All fields big-endian.
 *
 *  file header (16 bytes)                 record header (24 bytes), data, padding
 *  +-------------------------------+      +----------------+----------------+
 *  | "snoop\0\0\0"                 |      | original len   | included len   |
 *  +---------------+---------------+      | record len     | cumulative drops|
 *  | version (2)   | datalink type |      | ts seconds     | ts microseconds|
 *  +---------------+---------------+      +----------------+----------------+
 */
#include "io/reader_int.h"

#define SNOOP_FILE_HDR 16
#define SNOOP_REC_HDR  24

/* snoop datalink types that have a LINKTYPE equivalent. */
static uint32_t snoop_linktype(uint32_t dl)
{
    switch (dl) {
    case 0: /* IEEE 802.3 */
    case 4: /* Ethernet */
        return 1;
    case 2: /* IEEE 802.5 token ring */
        return 6;
    case 8: /* FDDI */
        return 10;
    case 18: /* ATM */
        return 123;
    default:
        return 0xffffu; /* unknown to capsift: counted, not decoded */
    }
}

static int snoop_open(sift_reader_t *r)
{
    int rc = sift__rd_fill(r, SNOOP_FILE_HDR);
    if (rc < 0)
        return rc;
    if (rc == 0)
        return sift__rd_stop(r, 0, SIFT_ETRUNC, "snoop file header is cut short");
    const uint8_t *h = r->buf + r->pos;
    uint32_t version = sift_load_be32(h + 8);
    uint32_t dl = sift_load_be32(h + 12);
    r->meta.format = SIFT_FORMAT_SNOOP;
    r->meta.big_endian = true;
    r->meta.version_major = (uint16_t)(version > 0xffff ? 0xffff : version);
    r->meta.sections = 1;
    if (version < 2 || version > 5)
        return sift__rd_stop(r, 8, SIFT_EFORMAT, "snoop version %" PRIu32 " is not supported",
                             version);
    r->big = true;
    r->max_record = r->opts.max_record;
    sift_iface_t ifc = {.linktype = snoop_linktype(dl), .ts_digits = 6, .tsresol = 6};
    rc = sift__rd_add_iface(r, &ifc);
    if (rc < 0)
        return sift__rd_stop(r, 0, rc, "cannot add interface");
    r->pos += SNOOP_FILE_HDR;
    return 0;
}

static int snoop_next(sift_reader_t *r, sift_record_t *rec)
{
    uint64_t at = rd_offset(r);
    int rc = sift__rd_fill(r, SNOOP_REC_HDR);
    if (rc < 0)
        return rc;
    if (rc == 0) {
        if (rd_avail(r) == 0) {
            r->done = true;
            return 0;
        }
        return sift__rd_stop(r, at, SIFT_ETRUNC, "last record header is cut short");
    }
    const uint8_t *h = r->buf + r->pos;
    uint32_t wirelen = sift_load_be32(h);
    uint32_t caplen = sift_load_be32(h + 4);
    uint32_t reclen = sift_load_be32(h + 8);
    uint32_t sec = sift_load_be32(h + 16);
    uint32_t usec = sift_load_be32(h + 20);
    /* No resynchronisation: snoop records carry no marker to find again. */
    if (caplen > r->max_record || reclen < SNOOP_REC_HDR + (uint64_t)caplen ||
        reclen > r->max_record + 64u)
        return sift__rd_stop(r, at, SIFT_ECORRUPT,
                             "record lengths are invalid (included %" PRIu32 ", record %" PRIu32
                             "); file ends here",
                             caplen, reclen);
    rc = sift__rd_fill(r, reclen);
    if (rc < 0)
        return rc;
    if (rc == 0)
        return sift__rd_stop(r, at, SIFT_ETRUNC,
                             "last record is cut short (%zu of %" PRIu32 " bytes present)",
                             rd_avail(r), reclen);
    h = r->buf + r->pos;
    rec->ts_ns = (int64_t)((uint64_t)sec * 1000000000u + (uint64_t)usec * 1000u);
    rec->caplen = caplen;
    rec->wirelen = wirelen;
    rec->iface = 0;
    rec->linktype = r->ifaces[0].linktype;
    rec->flags = 0;
    rec->offset = at;
    rec->data = h + SNOOP_REC_HDR;
    r->pos += reclen;
    return 1;
}

const rd_format_t sift__rd_snoop = {"snoop", snoop_open, snoop_next, NULL, NULL, 1};
