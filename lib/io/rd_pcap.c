/* Classic pcap, as in draft-ietf-opsawg-pcap (the libpcap file format).
 *
 *  file header (24 bytes)                   record header (16 bytes), then caplen bytes
 *  +------------------+---------+---------+  +-----------+-------------------+
 *  | magic            | major   | minor   |  | ts_sec    | ts_usec / ts_nsec |
 *  +------------------+---------+---------+  +-----------+-------------------+
 *  | thiszone         | sigfigs           |  | caplen    | original length   |
 *  +------------------+-------------------+  +-----------+-------------------+
 *  | snaplen          | FCS | rsvd | LINKTYPE (16 bits) |
 *  +------------------+-------------------------------+
 *
 * magic a1b2c3d4: microseconds, a1b23c4d: nanoseconds; written in the writer's byte order.
 */
#include "io/reader_int.h"

#define PCAP_FILE_HDR 24
#define PCAP_REC_HDR  16

typedef struct pcap_hdr {
    uint32_t sec, frac, caplen, wirelen;
} pcap_hdr_t;

static inline pcap_hdr_t pcap_parse(const sift_reader_t *r, const uint8_t *h)
{
    bool big = r->big;
    pcap_hdr_t v;
    if (big) {
        v.sec = sift_load_be32(h);
        v.frac = sift_load_be32(h + 4);
        v.caplen = sift_load_be32(h + 8);
        v.wirelen = sift_load_be32(h + 12);
    } else {
        v.sec = sift_load_le32(h);
        v.frac = sift_load_le32(h + 4);
        v.caplen = sift_load_le32(h + 8);
        v.wirelen = sift_load_le32(h + 12);
    }
    /* Before version 2.3 the two lengths were written the other way round; 2.3 files exist
     * in both orders, told apart by caplen <= len (as libpcap does). */
    if (SIFT_UNLIKELY(r->swapped_lens) && (r->swapped_lens > 1 || v.caplen > v.wirelen)) {
        uint32_t t = v.caplen;
        v.caplen = v.wirelen;
        v.wirelen = t;
    }
    return v;
}

static int pcap_open(sift_reader_t *r)
{
    int rc = sift__rd_fill(r, PCAP_FILE_HDR);
    if (rc < 0)
        return rc;
    if (rc == 0)
        return sift__rd_stop(r, 0, SIFT_ETRUNC, "pcap file header is cut short (%zu of 24 bytes)",
                             rd_avail(r));
    sift_cursor_t c = sift_cur_make(r->buf + r->pos, PCAP_FILE_HDR);
    uint32_t magic = sift_cur_le32(&c);
    r->big = (magic == 0xd4c3b2a1 || magic == 0x4d3cb2a1);
    bool nsec = (magic == 0xa1b23c4d || magic == 0x4d3cb2a1);
    uint16_t major = sift_cur_u16o(&c, r->big);
    uint16_t minor = sift_cur_u16o(&c, r->big);
    sift_cur_skip(&c, 8); /* thiszone, sigfigs: unused in practice */
    uint32_t snaplen = sift_cur_u32o(&c, r->big);
    uint32_t ltfield = sift_cur_u32o(&c, r->big);
    assert(!c.trunc);
    r->meta.format = SIFT_FORMAT_PCAP;
    r->meta.big_endian = r->big;
    r->meta.version_major = major;
    r->meta.version_minor = minor;
    r->meta.sections = 1;
    if (major != 2)
        return sift__rd_stop(r, 4, SIFT_EFORMAT,
                             "pcap version %u.%u is not supported (only 2.x exists)", major, minor);
    if (ltfield & 0x03ff0000u)
        return sift__rd_stop(r, 20, SIFT_EFORMAT,
                             "pcap link-type field 0x%08x has reserved bits set (damaged header)",
                             ltfield);
    r->snaplen = snaplen;
    r->swapped_lens = minor < 3 ? 2 : minor == 3 ? 1 : 0;
    r->max_record = r->opts.max_record;
    r->ts_mult = nsec ? 1 : 1000;
    sift_iface_t ifc = {.linktype = ltfield & 0xffffu,
                        .snaplen = snaplen,
                        .ts_digits = nsec ? 9 : 6,
                        .tsresol = nsec ? 9 : 6};
    rc = sift__rd_add_iface(r, &ifc);
    if (rc < 0)
        return sift__rd_stop(r, 0, rc, "cannot add interface");
    r->pos += PCAP_FILE_HDR;
    return 0;
}

/* A record header that could be real: a length within limits and a sub-second part in range. */
static bool pcap_plausible(const sift_reader_t *r, const pcap_hdr_t *h)
{
    uint32_t frac_max = r->ts_mult == 1 ? 1000000000u : 1000000u;
    return h->caplen <= r->max_record && h->frac < frac_max && h->wirelen >= h->caplen &&
           h->wirelen <= RD_MAX_WIRELEN;
}

/* After a record header at the current position proved bad, scans forward for a header that
 * is plausible and is followed by another plausible header (or the end of the file). Returns
 * 1 with the position moved there, or 0 when none was found within the window. */
static int pcap_resync(sift_reader_t *r)
{
    uint64_t start = rd_offset(r);
    size_t scanned = 0;
    for (;;) {
        r->pos++;
        scanned++;
        if (scanned > RD_RESYNC_WINDOW)
            return 0;
        int rc = sift__rd_fill(r, PCAP_REC_HDR);
        if (rc <= 0)
            return rc;
        pcap_hdr_t h = pcap_parse(r, r->buf + r->pos);
        if (!pcap_plausible(r, &h))
            continue;
        size_t next = PCAP_REC_HDR + (size_t)h.caplen;
        rc = sift__rd_fill(r, next + PCAP_REC_HDR);
        if (rc < 0)
            return rc;
        if (rc == 0) {
            if (rd_avail(r) == next)
                break; /* the last record of the file */
            continue;
        }
        pcap_hdr_t h2 = pcap_parse(r, r->buf + r->pos + next);
        if (pcap_plausible(r, &h2))
            break;
    }
    sift__rd_problem(r, start, SIFT_ECORRUPT,
                     "skipped %" PRIu64 " damaged bytes; resumed at %" PRIu64, rd_offset(r) - start,
                     rd_offset(r));
    return 1;
}

static int pcap_next(sift_reader_t *r, sift_record_t *rec)
{
    for (;;) {
        if (SIFT_UNLIKELY(rd_offset(r) >= r->range_end)) {
            r->done = true;
            return 0;
        }
        if (SIFT_UNLIKELY(rd_avail(r) < PCAP_REC_HDR)) {
            int rc = sift__rd_fill(r, PCAP_REC_HDR);
            if (rc < 0)
                return rc;
            if (rc == 0) {
                if (rd_avail(r) == 0) {
                    r->done = true;
                    return 0;
                }
                return sift__rd_stop(r, rd_offset(r), SIFT_ETRUNC,
                                     "last record header is cut short (%zu of 16 bytes)",
                                     rd_avail(r));
            }
        }
        pcap_hdr_t h = pcap_parse(r, r->buf + r->pos);
        if (SIFT_UNLIKELY(h.caplen > r->max_record)) {
            uint64_t at = rd_offset(r);
            sift__rd_problem(r, at, SIFT_ECORRUPT,
                             "record length %" PRIu32 " is larger than the maximum %" PRIu32
                             " (damaged record header)",
                             h.caplen, r->max_record);
            int rc = pcap_resync(r);
            if (rc < 0)
                return rc;
            if (rc == 0)
                return sift__rd_stop(r, at, SIFT_ECORRUPT,
                                     "no valid record found after the damage; file ends here");
            continue;
        }
        size_t need = PCAP_REC_HDR + (size_t)h.caplen;
        if (SIFT_UNLIKELY(rd_avail(r) < need)) {
            int rc = sift__rd_fill(r, need);
            if (rc < 0)
                return rc;
            if (rc == 0)
                return sift__rd_stop(r, rd_offset(r), SIFT_ETRUNC,
                                     "last record is cut short (%zu of %zu bytes present)",
                                     rd_avail(r), need);
        }
        if (SIFT_UNLIKELY(h.caplen > r->snaplen) && r->snaplen && !r->over_snaplen++)
            sift__rd_problem(r, rd_offset(r), SIFT_ECORRUPT,
                             "record length %" PRIu32 " is larger than the snaplen %" PRIu32
                             " (kept; later such records are not listed)",
                             h.caplen, r->snaplen);
        if (SIFT_UNLIKELY(h.wirelen > RD_MAX_WIRELEN) && !r->bad_wirelen++)
            sift__rd_problem(r, rd_offset(r), SIFT_ECORRUPT,
                             "original length %" PRIu32 " is implausible (record kept; later "
                             "such records are not listed)",
                             h.wirelen);
        rec->ts_ns =
            (int64_t)((uint64_t)h.sec * 1000000000u + (uint64_t)h.frac * (uint64_t)r->ts_mult);
        rec->caplen = h.caplen;
        rec->wirelen = h.wirelen;
        rec->iface = 0;
        rec->linktype = r->ifaces[0].linktype;
        rec->flags = 0;
        rec->offset = rd_offset(r);
        rec->data = r->buf + r->pos + PCAP_REC_HDR;
        r->pos += need;
        return 1;
    }
}

#define PCAP_SYNC_CHAIN 8

#define PCAP_SYNC_SPAN 86400u /* seconds the records of a chain may lie apart */

/* A chain of PCAP_SYNC_CHAIN plausible headers (or fewer, ending exactly at the end of the
 * file) starts at the current position: none empty, within a day of the first. Stricter than
 * resynchronisation after damage (runs of zero bytes inside a packet would pass that): the
 * caller verifies the guess anyway, and a wrong guess costs a sequential re-read. */
static int pcap_chain_at(sift_reader_t *r)
{
    size_t off = 0;
    uint32_t first = 0;
    for (int i = 0; i < PCAP_SYNC_CHAIN; i++) {
        int rc = sift__rd_fill(r, off + PCAP_REC_HDR);
        if (rc < 0)
            return rc;
        if (rc == 0)
            return i > 0 && rd_avail(r) == off;
        pcap_hdr_t h = pcap_parse(r, r->buf + r->pos + off);
        if (!pcap_plausible(r, &h) || (r->snaplen && h.caplen > r->snaplen) || h.caplen == 0)
            return 0;
        if (i == 0)
            first = h.sec;
        else if ((h.sec > first ? h.sec - first : first - h.sec) > PCAP_SYNC_SPAN)
            return 0;
        off += PCAP_REC_HDR + (size_t)h.caplen;
    }
    return 1;
}

const rd_format_t sift__rd_pcap = {"pcap", pcap_open, pcap_next, pcap_chain_at, NULL, 1};
