/* The reader's internals, shared by the format parsers rd_*.c. Not installed. */
#ifndef SIFT_IO_READER_INT_H
#define SIFT_IO_READER_INT_H

#include "common/cursor.h"
#include "common/internal.h"
#include "io/source.h"

#include <capsift/reader.h>

#include <inttypes.h>

#define RD_DEFAULT_BUFFER     (1u << 20)
#define RD_DEFAULT_MAX_RECORD (256u * 1024u) /* libpcap's and wiretap's largest snaplen */
#define RD_MAX_BLOCK          (16u << 20)    /* largest pcapng block accepted */
#define RD_DEFAULT_PROBLEMS   64
#define RD_MAX_WIRELEN        (16u << 20) /* larger original lengths are damage */
#define RD_RESYNC_WINDOW      (4u << 20)  /* bytes scanned for the next good record */

typedef struct rd_format rd_format_t;

/* pcapng per-section state */
typedef struct rd_section {
    bool big;
    uint32_t first_iface; /* index in meta.iface of this section's interface 0 */
    uint64_t offset;      /* of the SHB */
} rd_section_t;

struct sift_reader {
    sift_ctx_t *ctx;
    char name[256];
    sift_reader_opts_t opts;
    sift_source_t *src;
    const rd_format_t *fmt;

    /* The window of the stream held in memory: buf[pos..len) is unread, buf[0] is at stream
     * offset `base`. A plain memory source is used in place (owns_buf false). */
    uint8_t *buf;
    size_t cap, pos, len;
    uint64_t base;
    bool owns_buf, eof, done;
    bool seeking;  /* read by offset (sift_reader_seek): fills read only what a record needs */
    int stop_code; /* the negative code that ended the file, 0 when it ended cleanly */

    sift_file_meta_t meta;
    sift_iface_t *ifaces;
    size_t iface_cap;

    /* format state */
    bool big;              /* byte order of the current pcap file / pcapng section */
    uint32_t snaplen;      /* pcap and snoop */
    uint64_t bad_ts;       /* pcapng records with a timestamp beyond int64 nanoseconds */
    uint64_t over_snaplen; /* pcap records longer than the snaplen */
    uint64_t bad_wirelen;  /* pcap records with an implausible original length */
    uint8_t swapped_lens;  /* pcap < 2.3: 2, always swap caplen/len; 2.3: 1, when caplen > len */
    uint32_t max_record;   /* records larger than this are damage */
    int64_t ts_mult;       /* pcap: ns per fractional unit */
    rd_section_t section;

    uint64_t range_end;   /* stop before a record at or after this offset (UINT64_MAX) */
    bool seen_packet;     /* a record was returned */
    bool headers_midway;  /* pcapng: a section or interface block came after a record */
    uint64_t range_start; /* where a range reader began (after syncing) */

    sift_problem_t *problems;
    size_t nproblems;
    uint64_t problems_total;

    sift_file_notes_t notes; /* rd_notes.c */
    uint64_t records;        /* records returned: the number of the last one */
};

/* rd_notes.c: the notes of a pcapng file, from option lists ({code, length, value} padded to 4
 * bytes, in the section's byte order). Each returns quietly when the notes are full. */
void sift__notes_section(sift_reader_t *r, const uint8_t *opts, size_t len);
void sift__notes_iface(sift_reader_t *r, uint32_t iface, const uint8_t *opts, size_t len);
void sift__notes_stats(sift_reader_t *r, uint32_t iface, const uint8_t *opts, size_t len);
void sift__notes_packet(sift_reader_t *r, const uint8_t *opts, size_t len);

struct rd_format {
    const char *name;
    /* Reads the file header at the start of the stream. */
    int (*open)(sift_reader_t *r);
    /* The next record, as sift_reader_next. */
    int (*next)(sift_reader_t *r, sift_record_t *rec);
    /* 1 when a chain of plausible records starts at the current position, 0 when not, or a
     * negative code: how a range reader finds its first record (NULL: not splittable). */
    int (*chain_at)(sift_reader_t *r);
    /* For a range reader, before it seeks: reads what a record far into the file depends on
     * (pcapng: the blocks before the first packet). NULL: nothing. */
    int (*prime)(sift_reader_t *r);
    unsigned align; /* records start at offsets that are multiples of this */
};

extern const rd_format_t sift__rd_pcap;
extern const rd_format_t sift__rd_pcapng;
extern const rd_format_t sift__rd_snoop;

/* Makes at least n unread bytes available at buf+pos. Returns 1 when they are, 0 when the
 * stream ends first (fewer are left), or a negative code on an I/O or decompression error
 * (already recorded as a problem). n may not exceed opts.buffer_size + max block. */
int sift__rd_fill(sift_reader_t *r, size_t n);

/* Stream offset of buf+pos. */
static inline uint64_t rd_offset(const sift_reader_t *r)
{
    return r->base + r->pos;
}

static inline size_t rd_avail(const sift_reader_t *r)
{
    return r->len - r->pos;
}

/* Records a problem at offset and returns code. */
int sift__rd_problem(sift_reader_t *r, uint64_t offset, int code, const char *fmt, ...)
    SIFT_PRINTF(4, 5);

/* Ends the file with code (negative): records the problem and makes every later next() return
 * code. */
int sift__rd_stop(sift_reader_t *r, uint64_t offset, int code, const char *fmt, ...)
    SIFT_PRINTF(4, 5);

/* Adds an interface; returns its index or a negative code. */
int sift__rd_add_iface(sift_reader_t *r, const sift_iface_t *ifc);

#endif
