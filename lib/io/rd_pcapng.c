/* pcapng, as in draft-ietf-opsawg-pcapng.
 *
 *  every block                          Section Header Block (type 0x0A0D0D0A)
 *  +--------------------------------+   +--------------------------------+
 *  | block type                     |   | byte-order magic 0x1A2B3C4D    |
 *  | block total length             |   | major (1) | minor (0)          |
 *  | body ... (padded to 32 bits)   |   | section length (64 bits, -1)   |
 *  | block total length (again)     |   | options                        |
 *  +--------------------------------+   +--------------------------------+
 *
 *  IDB (1): linktype(16) reserved(16) snaplen(32) options (if_tsresol 9, if_tsoffset 14)
 *  EPB (6): interface(32) ts high(32) ts low(32) caplen(32) origlen(32) data options
 *  SPB (3): origlen(32) data                (interface 0, no timestamp)
 *  PB  (2): interface(16) drops(16) ts high ts low caplen origlen data   (obsolete)
 *  Every other block (NRB, ISB, DSB, custom, unknown) is skipped by its length.
 *
 * Each section has its own byte order and its own interfaces; interface numbers in records
 * are relative to the section, and are made unique across the file here.
 */
#include "io/reader_int.h"

#define BT_SHB 0x0A0D0D0Au
#define BT_IDB 0x00000001u
#define BT_PB  0x00000002u
#define BT_SPB 0x00000003u
#define BT_NRB 0x00000004u
#define BT_ISB 0x00000005u
#define BT_EPB 0x00000006u

#define BOM_LE 0x1A2B3C4Du
#define BOM_BE 0x4D3C2B1Au

static const uint64_t pow10_tab[20] = {1ull,
                                       10ull,
                                       100ull,
                                       1000ull,
                                       10000ull,
                                       100000ull,
                                       1000000ull,
                                       10000000ull,
                                       100000000ull,
                                       1000000000ull,
                                       10000000000ull,
                                       100000000000ull,
                                       1000000000000ull,
                                       10000000000000ull,
                                       100000000000000ull,
                                       1000000000000000ull,
                                       10000000000000000ull,
                                       100000000000000000ull,
                                       1000000000000000000ull,
                                       10000000000000000000ull};

/* Converts a timestamp in the interface's units to nanoseconds since the epoch. Returns false
 * when the result does not fit (beyond the years 1678-2262: a damaged or bogus timestamp). */
static bool ng_ts_ns(const sift_iface_t *ifc, uint64_t units, int64_t *out)
{
    typedef __int128 i128;
    uint8_t res = ifc->tsresol;
    i128 ns;
    if (res == 6) {
        ns = (i128)units * 1000;
    } else if (res == 9) {
        ns = (i128)units;
    } else if (!(res & 0x80)) {
        unsigned n = res;
        if (n <= 9)
            ns = (i128)units * (i128)pow10_tab[9 - n];
        else if (n - 9 < 20)
            ns = (i128)(units / pow10_tab[n - 9]);
        else
            ns = 0;
    } else {
        unsigned n = res & 0x7f;
        ns = n >= 64 ? 0 : (i128)(((unsigned __int128)units * 1000000000u) >> n);
    }
    ns += (i128)ifc->tsoffset * 1000000000;
    if (ns > (i128)INT64_MAX || ns < (i128)INT64_MIN)
        return false;
    *out = (int64_t)ns;
    return true;
}

/* Parses IDB options for if_tsresol and if_tsoffset. */
static void ng_idb_options(sift_cursor_t *c, bool big, sift_iface_t *ifc)
{
    while (sift_cur_left(c) >= 4) {
        uint16_t code = sift_cur_u16o(c, big);
        uint16_t len = sift_cur_u16o(c, big);
        if (code == 0)
            break;
        const uint8_t *v = sift_cur_take(c, len);
        if (!v)
            break;
        sift_cur_skip(c, (4 - (len & 3)) & 3);
        if (code == 9 && len >= 1) {
            ifc->tsresol = v[0];
        } else if (code == 14 && len >= 8) {
            ifc->tsoffset = (int64_t)(big ? sift_load_be64(v) : sift_load_le64(v));
        }
    }
}

static uint8_t ng_digits(uint8_t res)
{
    unsigned n = res & 0x7f; /* 2^-n needs n decimals to be exact; 10^-n needs n */
    return (uint8_t)(n > 9 ? 9 : n);
}

/* Reads a Section Header Block at the current position (block header already in buffer).
 * Returns the block length, or a negative code. */
static int ng_shb(sift_reader_t *r, uint64_t at, uint32_t *blen)
{
    int rc = sift__rd_fill(r, 28);
    if (rc < 0)
        return rc;
    if (rc == 0)
        return sift__rd_stop(r, at, SIFT_ETRUNC, "section header block is cut short");
    const uint8_t *b = r->buf + r->pos;
    uint32_t bom = sift_load_le32(b + 8);
    bool big;
    if (bom == BOM_LE)
        big = false;
    else if (bom == BOM_BE)
        big = true;
    else
        return sift__rd_stop(r, at + 8, SIFT_ECORRUPT,
                             "section header has a bad byte-order magic 0x%08" PRIx32, bom);
    uint32_t len = big ? sift_load_be32(b + 4) : sift_load_le32(b + 4);
    uint16_t major = big ? sift_load_be16(b + 12) : sift_load_le16(b + 12);
    uint16_t minor = big ? sift_load_be16(b + 14) : sift_load_le16(b + 14);
    if (major != 1)
        return sift__rd_stop(r, at + 12, SIFT_EFORMAT,
                             "pcapng section version %u.%u is not supported (1.x is)", major,
                             minor);
    if (len < 28 || (len & 3) || len > RD_MAX_BLOCK)
        return sift__rd_stop(r, at + 4, SIFT_ECORRUPT,
                             "section header block length %" PRIu32 " is invalid", len);
    /* The specification defines 1.0; 1.2 is written in the wild with the same layout. libpcap
     * and capinfos refuse 1.1: read it as 1.0, but say so. */
    if (minor != 0 && minor != 2)
        sift__rd_problem(r, at + 14, SIFT_EFORMAT,
                         "pcapng section version 1.%u is not defined (1.0 is); read as 1.0", minor);
    if (r->meta.sections == 0) {
        r->meta.big_endian = big;
        r->meta.version_major = major;
        r->meta.version_minor = minor;
    } else if (big != r->meta.big_endian) {
        r->meta.mixed_endian = true;
    }
    r->meta.sections++;
    r->big = big;
    r->section.big = big;
    r->section.first_iface = (uint32_t)r->meta.niface;
    r->section.offset = at;
    *blen = len;
    return 0;
}

static int ng_idb(sift_reader_t *r, uint64_t at, const uint8_t *body, size_t blen)
{
    sift_cursor_t c = sift_cur_make(body, blen);
    sift_iface_t ifc = {0};
    ifc.linktype = sift_cur_u16o(&c, r->big);
    sift_cur_skip(&c, 2);
    ifc.snaplen = sift_cur_u32o(&c, r->big);
    if (c.trunc)
        return sift__rd_problem(r, at, SIFT_ECORRUPT, "interface description block is too short");
    ifc.tsresol = 6;
    ifc.section = r->meta.sections - 1;
    ng_idb_options(&c, r->big, &ifc);
    ifc.ts_digits = ng_digits(ifc.tsresol);
    int rc = sift__rd_add_iface(r, &ifc);
    if (rc < 0)
        return sift__rd_stop(r, at, rc, "too many interfaces");
    sift__notes_iface(r, (uint32_t)rc, body + 8, blen - 8);
    return 0;
}

/* Looks up a section-relative interface number. */
static const sift_iface_t *ng_iface(sift_reader_t *r, uint32_t id, uint32_t *global)
{
    uint64_t g = (uint64_t)r->section.first_iface + id;
    if (g >= r->meta.niface)
        return NULL;
    *global = (uint32_t)g;
    return &r->ifaces[g];
}

/* Fills rec from a packet block body; returns 1, or 0 when the block is damaged (a problem is
 * recorded and the block skipped). */
static int ng_packet(sift_reader_t *r, uint32_t type, uint64_t at, const uint8_t *body, size_t blen,
                     sift_record_t *rec)
{
    sift_cursor_t c = sift_cur_make(body, blen);
    uint32_t id, caplen, wirelen;
    uint64_t units = 0;
    rec->flags = 0;
    if (type == BT_SPB) {
        id = 0;
        wirelen = sift_cur_u32o(&c, r->big);
        caplen = wirelen;
        rec->flags = SIFT_RECORD_NO_TS;
    } else {
        if (type == BT_EPB) {
            id = sift_cur_u32o(&c, r->big);
        } else {
            id = sift_cur_u16o(&c, r->big);
            sift_cur_skip(&c, 2);
        }
        uint32_t hi = sift_cur_u32o(&c, r->big);
        uint32_t lo = sift_cur_u32o(&c, r->big);
        units = (uint64_t)hi << 32 | lo;
        caplen = sift_cur_u32o(&c, r->big);
        wirelen = sift_cur_u32o(&c, r->big);
    }
    if (c.trunc) {
        sift__rd_problem(r, at, SIFT_ECORRUPT, "packet block is too short for its header");
        return 0;
    }
    uint32_t g;
    const sift_iface_t *ifc = ng_iface(r, id, &g);
    if (!ifc) {
        sift__rd_problem(r, at, SIFT_ECORRUPT,
                         "packet block names interface %" PRIu32
                         " but the section describes only %zu (record skipped)",
                         id, r->meta.niface - r->section.first_iface);
        return 0;
    }
    if (type == BT_SPB) {
        if (ifc->snaplen && caplen > ifc->snaplen)
            caplen = ifc->snaplen;
        if (caplen > sift_cur_left(&c))
            caplen = (uint32_t)sift_cur_left(&c);
    } else if (caplen > sift_cur_left(&c)) {
        sift__rd_problem(r, at, SIFT_ECORRUPT,
                         "packet length %" PRIu32 " overruns its block (%zu bytes left; record "
                         "skipped)",
                         caplen, sift_cur_left(&c));
        return 0;
    }
    if (type != BT_SPB && sift_cur_left(&c) - caplen > 4) { /* options after the padded data */
        size_t pad = ((size_t)caplen + 3) & ~(size_t)3;
        if (pad < sift_cur_left(&c))
            sift__notes_packet(r, c.p + pad, sift_cur_left(&c) - pad);
    }
    rec->data = c.p;
    rec->caplen = caplen;
    rec->wirelen = wirelen;
    rec->iface = g;
    rec->linktype = ifc->linktype;
    rec->offset = at;
    rec->ts_ns = 0;
    if (type != BT_SPB && !ng_ts_ns(ifc, units, &rec->ts_ns)) {
        rec->flags |= SIFT_RECORD_NO_TS;
        if (!r->bad_ts++)
            sift__rd_problem(r, at, SIFT_ECORRUPT,
                             "timestamp 0x%016" PRIx64 " is beyond the year 2262 (record kept "
                             "without a time; later such records are not listed)",
                             units);
    }
    return 1;
}

/* A block that could be real: known framing and a matching trailing length. */
static bool ng_plausible(const sift_reader_t *r, const uint8_t *b, size_t avail)
{
    if (avail < 12)
        return false;
    uint32_t type = r->big ? sift_load_be32(b) : sift_load_le32(b);
    uint32_t len = r->big ? sift_load_be32(b + 4) : sift_load_le32(b + 4);
    if (type != BT_SHB && (type == 0 || type > 0x0000000Au) && (type & 0x7fffffffu) != 0x0BADu)
        return false;
    if (len < 12 || (len & 3) || len > avail)
        return false;
    uint32_t tail = r->big ? sift_load_be32(b + len - 4) : sift_load_le32(b + len - 4);
    return tail == len;
}

/* Scans forward in 4-byte steps for a plausible block. Returns 1 when found, 0 if not. */
static int ng_resync(sift_reader_t *r, uint64_t start)
{
    for (size_t scanned = 0; scanned < RD_RESYNC_WINDOW; scanned += 4) {
        r->pos += 4;
        int rc = sift__rd_fill(r, 12);
        if (rc <= 0)
            return rc;
        const uint8_t *b = r->buf + r->pos;
        uint32_t len = r->big ? sift_load_be32(b + 4) : sift_load_le32(b + 4);
        if (len < 12 || len > RD_MAX_BLOCK || (len & 3))
            continue;
        rc = sift__rd_fill(r, len);
        if (rc < 0)
            return rc;
        if (ng_plausible(r, r->buf + r->pos, rd_avail(r))) {
            sift__rd_problem(r, start, SIFT_ECORRUPT,
                             "skipped %" PRIu64 " damaged bytes; resumed at %" PRIu64,
                             rd_offset(r) - start, rd_offset(r));
            return 1;
        }
    }
    return 0;
}

/* Handles a block whose length is unusable: resynchronise or end the file. */
static int ng_bad_length(sift_reader_t *r, uint64_t at, uint32_t len)
{
    sift__rd_problem(r, at + 4, SIFT_ECORRUPT,
                     "block length %" PRIu32 " is invalid (too small, unaligned or too large)",
                     len);
    int rc = ng_resync(r, at);
    if (rc < 0)
        return rc;
    if (rc == 0)
        return sift__rd_stop(r, at, SIFT_ECORRUPT,
                             "no valid block found after the damage; file ends here");
    return 1;
}

static int ng_next(sift_reader_t *r, sift_record_t *rec)
{
    for (;;) {
        uint64_t at = rd_offset(r);
        if (SIFT_UNLIKELY(at >= r->range_end)) {
            r->done = true;
            return 0;
        }
        int rc = sift__rd_fill(r, 8);
        if (rc < 0)
            return rc;
        if (rc == 0) {
            if (rd_avail(r) == 0) {
                r->done = true;
                return 0;
            }
            return sift__rd_stop(r, at, SIFT_ETRUNC, "last block is cut short (%zu bytes)",
                                 rd_avail(r));
        }
        const uint8_t *b = r->buf + r->pos;
        uint32_t type = r->big ? sift_load_be32(b) : sift_load_le32(b);
        uint32_t len = 0;
        if ((type == BT_SHB || type == BT_IDB) && r->seen_packet)
            r->headers_midway = true; /* ranges after this one did not see it */
        if (type == BT_SHB) {
            rc = ng_shb(r, at, &len);
            if (rc < 0)
                return rc;
        } else {
            len = r->big ? sift_load_be32(b + 4) : sift_load_le32(b + 4);
            if (SIFT_UNLIKELY(len & 3) && len >= 12 && len <= RD_MAX_BLOCK) {
                /* Written unpadded by some tools; the block is padded on disk, and other
                 * readers accept it the same way. */
                sift__rd_problem(r, at + 4, SIFT_ECORRUPT,
                                 "block length %" PRIu32 " is not a multiple of 4 (read as %" PRIu32
                                 "; block kept)",
                                 len, (len + 3) & ~3u);
                len = (len + 3) & ~3u;
            }
            if (len < 12 || (len & 3) || len > RD_MAX_BLOCK) {
                rc = ng_bad_length(r, at, len);
                if (rc < 0)
                    return rc;
                continue;
            }
        }
        rc = sift__rd_fill(r, len);
        if (rc < 0)
            return rc;
        if (rc == 0)
            return sift__rd_stop(r, at, SIFT_ETRUNC,
                                 "last block is cut short (%zu of %" PRIu32 " bytes present)",
                                 rd_avail(r), len);
        b = r->buf + r->pos;
        uint32_t tail = r->big ? sift_load_be32(b + len - 4) : sift_load_le32(b + len - 4);
        if (tail != len && ((tail + 3) & ~3u) != len) {
            sift__rd_problem(r, at + len - 4, SIFT_ECORRUPT,
                             "block trailing length %" PRIu32 " does not match %" PRIu32, tail,
                             len);
            rc = ng_resync(r, at);
            if (rc < 0)
                return rc;
            if (rc == 0)
                return sift__rd_stop(r, at, SIFT_ECORRUPT,
                                     "no valid block found after the damage; file ends here");
            continue;
        }
        const uint8_t *body = b + 8;
        size_t blen = len - 12;
        r->pos += len;
        switch (type) {
        case BT_SHB: /* byte-order magic, version, section length, then options */
            if (blen > 16)
                sift__notes_section(r, body + 16, blen - 16);
            break;
        case BT_ISB: /* interface, timestamp, then options */
            if (blen >= 12) {
                uint32_t id = r->big ? sift_load_be32(body) : sift_load_le32(body);
                uint64_t g = (uint64_t)r->section.first_iface + id;
                if (g < r->meta.niface)
                    sift__notes_stats(r, (uint32_t)g, body + 12, blen - 12);
            }
            break;
        case BT_IDB:
            rc = ng_idb(r, at, body, blen);
            if (rc < 0 && r->done)
                return rc;
            break;
        case BT_EPB:
        case BT_SPB:
        case BT_PB:
            if (ng_packet(r, type, at, body, blen, rec)) {
                r->seen_packet = true;
                return 1;
            }
            break;
        default:
            break; /* NRB, DSB, custom and unknown blocks skipped */
        }
    }
}

static int ng_open(sift_reader_t *r)
{
    r->meta.format = SIFT_FORMAT_PCAPNG;
    r->max_record = RD_MAX_BLOCK;
    uint32_t len = 0;
    int rc = sift__rd_fill(r, 12);
    if (rc < 0)
        return rc;
    if (rc == 0)
        return sift__rd_stop(r, 0, SIFT_ETRUNC, "pcapng section header is cut short");
    rc = ng_shb(r, 0, &len);
    if (rc < 0)
        return rc;
    rc = sift__rd_fill(r, len);
    if (rc < 0)
        return rc;
    if (rc == 0)
        return sift__rd_stop(r, 0, SIFT_ETRUNC, "pcapng section header is cut short");
    const uint8_t *b = r->buf + r->pos;
    if ((r->big ? sift_load_be32(b + len - 4) : sift_load_le32(b + len - 4)) != len)
        return sift__rd_stop(r, len - 4, SIFT_ECORRUPT,
                             "section header block trailing length does not match");
    if (len > 28)
        sift__notes_section(r, b + 24, len - 28); /* after the 24 fixed bytes */
    r->pos += len;
    return 0;
}

static bool ng_packet_block(uint32_t type)
{
    return type == BT_EPB || type == BT_SPB || type == BT_PB;
}

/* A block's type and length at b (at least 8 bytes), in the section's byte order. */
static void ng_head(const sift_reader_t *r, const uint8_t *b, uint32_t *type, uint32_t *len)
{
    *type = r->big ? sift_load_be32(b) : sift_load_le32(b);
    *len = r->big ? sift_load_be32(b + 4) : sift_load_le32(b + 4);
}

/* A chain of NG_SYNC_CHAIN plausible blocks (or fewer up to the end of the file) at the current
 * position, the first a packet, name or statistics block. Like pcap's, stricter than a resync:
 * the engine verifies the guess, and a wrong one only costs a sequential read. */
#define NG_SYNC_CHAIN 3
static int ng_chain_at(sift_reader_t *r)
{
    size_t off = 0;
    for (int i = 0; i < NG_SYNC_CHAIN; i++) {
        int rc = sift__rd_fill(r, off + 12);
        if (rc < 0)
            return rc;
        if (rc == 0)
            return i > 0 && rd_avail(r) == off;
        uint32_t type, len;
        ng_head(r, r->buf + r->pos + off, &type, &len);
        bool starts = ng_packet_block(type) || type == BT_NRB || type == BT_ISB;
        if ((i == 0 && !starts) || len < 12 || (len & 3) || len > RD_MAX_BLOCK)
            return 0;
        rc = sift__rd_fill(r, off + len);
        if (rc <= 0)
            return rc;
        if (!ng_plausible(r, r->buf + r->pos + off, rd_avail(r) - off))
            return 0;
        off += len;
    }
    return 1;
}

/* Reads the blocks before the first packet, section headers and interface descriptions as a
 * whole read does, leaving the position at that packet: what a range far into the file needs.
 * It stops early at anything unusual; the ranges are verified afterwards. */
static int ng_prime(sift_reader_t *r)
{
    for (;;) {
        uint64_t at = rd_offset(r);
        int rc = sift__rd_fill(r, 12);
        if (rc <= 0)
            return rc;
        uint32_t type, len;
        ng_head(r, r->buf + r->pos, &type, &len);
        if (ng_packet_block(type))
            return 0;
        if (type == BT_SHB) {
            rc = ng_shb(r, at, &len);
            if (rc < 0)
                return rc;
        } else if (len < 12 || (len & 3) || len > RD_MAX_BLOCK) {
            return 0;
        }
        rc = sift__rd_fill(r, len);
        if (rc <= 0)
            return rc;
        if (!ng_plausible(r, r->buf + r->pos, rd_avail(r)))
            return 0;
        const uint8_t *body = r->buf + r->pos + 8;
        r->pos += len;
        if (type == BT_IDB) {
            rc = ng_idb(r, at, body, len - 12);
            if (rc < 0)
                return rc;
        }
    }
}

const rd_format_t sift__rd_pcapng = {"pcapng", ng_open, ng_next, ng_chain_at, ng_prime, 4};
