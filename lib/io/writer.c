/* Capture writer: pcap (draft-ietf-opsawg-pcap) or pcapng (draft-ietf-opsawg-pcapng) with
 * native byte order headers, as every reader accepts. */
#include "common/internal.h"

#include <capsift/writer.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define WR_MAX_IFACES 64

struct sift_writer {
    FILE *out;
    sift_writer_opts_t opts;
    uint32_t ifaces[WR_MAX_IFACES]; /* pcapng: link type of each interface written */
    unsigned nifaces;
    int err;
};

static int wr_bytes(sift_writer_t *w, const void *p, size_t n, char *errbuf)
{
    if (w->err)
        return w->err;
    if (n && fwrite(p, 1, n, w->out) != n) {
        int e = errno;
        w->err = e == ENOSPC ? SIFT_ENOSPC : SIFT_EIO;
        return sift__errorf(errbuf, w->err, "cannot write the output: %s", strerror(e ? e : EIO));
    }
    return 0;
}

static int wr_u32(sift_writer_t *w, uint32_t v, char *errbuf)
{
    return wr_bytes(w, &v, 4, errbuf);
}

static int wr_idb(sift_writer_t *w, uint32_t linktype, char *errbuf)
{
    /* IDB: type, length 32, linktype(16) reserved(16) snaplen, if_tsresol=9 option, end */
    uint8_t body[20] = {0};
    uint16_t lt = (uint16_t)linktype, code = 9, len = 1;
    uint32_t snap = w->opts.snaplen ? w->opts.snaplen : 262144;
    memcpy(body, &lt, 2);
    memcpy(body + 4, &snap, 4);
    memcpy(body + 8, &code, 2);
    memcpy(body + 10, &len, 2);
    body[12] = 9; /* 10^-9 */
    /* body[16..19]: opt_endofopt */
    int rc = wr_u32(w, 1, errbuf);
    if (rc == 0)
        rc = wr_u32(w, 32, errbuf);
    if (rc == 0)
        rc = wr_bytes(w, body, sizeof body, errbuf);
    if (rc == 0)
        rc = wr_u32(w, 32, errbuf);
    return rc;
}

int sift_writer_open(sift_writer_t **out, FILE *f, const sift_writer_opts_t *opts, char *errbuf)
{
    *out = NULL;
    sift_writer_t *w = calloc(1, sizeof *w);
    if (!w)
        return sift__errorf(errbuf, SIFT_ENOMEM, "out of memory");
    w->out = f;
    w->opts = *opts;
    int rc;
    if (opts->pcapng) {
        /* SHB: type, length 28, byte-order magic, version 1.0, section length -1 */
        uint32_t shb[7] = {0x0A0D0D0Au, 28, 0x1A2B3C4Du, 1, 0xffffffffu, 0xffffffffu, 28};
        rc = wr_bytes(w, shb, sizeof shb, errbuf);
    } else {
        uint32_t hdr[6] = {opts->nanoseconds ? 0xa1b23c4du : 0xa1b2c3d4u, 2 | 4u << 16,  0, 0,
                           opts->snaplen ? opts->snaplen : 262144,        opts->linktype};
        rc = wr_bytes(w, hdr, sizeof hdr, errbuf);
    }
    if (rc < 0) {
        free(w);
        return rc;
    }
    *out = w;
    return 0;
}

int sift_writer_write(sift_writer_t *w, const sift_record_t *rec, char *errbuf)
{
    int64_t ts = rec->ts_ns;
    if (!w->opts.pcapng) {
        if (rec->linktype != w->opts.linktype)
            return sift__errorf(errbuf, SIFT_EINVAL,
                                "record of link type %u in a pcap of link type %u", rec->linktype,
                                w->opts.linktype);
        uint32_t sec = (uint32_t)(ts / 1000000000);
        uint32_t frac = (uint32_t)(ts % 1000000000);
        if (!w->opts.nanoseconds)
            frac /= 1000;
        uint32_t hdr[4] = {sec, frac, rec->caplen, rec->wirelen};
        int rc = wr_bytes(w, hdr, sizeof hdr, errbuf);
        return rc < 0 ? rc : wr_bytes(w, rec->data, rec->caplen, errbuf);
    }
    unsigned iface = 0;
    while (iface < w->nifaces && w->ifaces[iface] != rec->linktype)
        iface++;
    if (iface == w->nifaces) {
        if (w->nifaces == WR_MAX_IFACES)
            return sift__errorf(errbuf, SIFT_ELIMIT, "too many link types for one output");
        int rc = wr_idb(w, rec->linktype, errbuf);
        if (rc < 0)
            return rc;
        w->ifaces[w->nifaces++] = rec->linktype;
    }
    uint32_t pad = (4 - (rec->caplen & 3)) & 3;
    uint32_t total = 32 + rec->caplen + pad;
    uint64_t units = (uint64_t)ts;
    uint32_t hdr[7] = {6,           total,       iface, (uint32_t)(units >> 32), (uint32_t)units,
                       rec->caplen, rec->wirelen};
    static const uint8_t zeros[4] = {0};
    int rc = wr_bytes(w, hdr, sizeof hdr, errbuf);
    if (rc == 0)
        rc = wr_bytes(w, rec->data, rec->caplen, errbuf);
    if (rc == 0)
        rc = wr_bytes(w, zeros, pad, errbuf);
    if (rc == 0)
        rc = wr_u32(w, total, errbuf);
    return rc;
}

int sift_writer_close(sift_writer_t *w, char *errbuf)
{
    if (!w)
        return 0;
    int rc = w->err;
    if (rc == 0 && fflush(w->out) != 0)
        rc = sift__errorf(errbuf, errno == ENOSPC ? SIFT_ENOSPC : SIFT_EIO,
                          "cannot write the output: %s", strerror(errno));
    free(w);
    return rc;
}
