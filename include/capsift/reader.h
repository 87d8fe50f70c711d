/* capsift: the streaming capture reader.
 *
 * Reads classic pcap (all four magics), pcapng (any number of sections of either byte order,
 * per-interface link types and timestamp resolution) and snoop, plain or gzip- or
 * zstd-compressed (detected from the content, never from the name), from a path, standard
 * input ("-") or a memory buffer. Records are handed out without copying: the data pointer
 * points into the reader's buffer (or into the caller's memory buffer).
 *
 * Memory is bounded: a plain file is read through one buffer of `buffer_size` bytes that grows
 * only to hold one record larger than it, and never beyond `max_record` plus the buffer size.
 *
 * Damage never crashes the reader. Each problem found is recorded with its byte offset; a
 * damaged record is skipped when the format lets the reader find the next one (pcap: a chain
 * of plausible record headers; pcapng: a block whose trailing length matches), otherwise the
 * file ends there with everything before it kept.
 *
 * Thread safety: a reader is used by one thread at a time. Distinct readers are independent.
 */
#ifndef CAPSIFT_READER_H
#define CAPSIFT_READER_H

#include <capsift/common.h>

#include <stdbool.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum sift_format {
    SIFT_FORMAT_UNKNOWN = 0,
    SIFT_FORMAT_PCAP,
    SIFT_FORMAT_PCAPNG,
    SIFT_FORMAT_SNOOP
} sift_format_t;

typedef enum sift_compression {
    SIFT_COMPRESSION_NONE = 0,
    SIFT_COMPRESSION_GZIP,
    SIFT_COMPRESSION_ZSTD
} sift_compression_t;

/* The record has no usable timestamp: a pcapng simple packet, or a timestamp beyond what
 * int64 nanoseconds hold (years 1678-2262), reported as a problem. ts_ns is 0. */
#define SIFT_RECORD_NO_TS 0x1u

/* One captured record. `data` (caplen bytes) is valid until the next sift_reader_next or
 * sift_reader_close on the same reader. */
typedef struct sift_record {
    int64_t ts_ns;       /* nanoseconds since the Unix epoch (UTC) */
    uint32_t caplen;     /* bytes captured, the length of data */
    uint32_t wirelen;    /* bytes on the wire */
    uint32_t iface;      /* interface number, unique within the file (0 for pcap) */
    uint32_t linktype;   /* LINKTYPE_ value of that interface */
    uint32_t flags;      /* SIFT_RECORD_* */
    uint64_t offset;     /* byte offset of the record (pcap header / pcapng block) in the file;
                          * for a compressed file, in the decompressed stream */
    const uint8_t *data; /* the captured bytes */
} sift_record_t;

/* One interface (pcapng IDB; the single implied interface of pcap and snoop). */
typedef struct sift_iface {
    uint32_t linktype;
    uint32_t snaplen;  /* 0 when the file gives none */
    uint32_t section;  /* pcapng section number, from 0 */
    uint8_t ts_digits; /* decimal digits of timestamp precision, at most 9 */
    uint8_t tsresol;   /* pcapng if_tsresol byte as given (6 when absent) */
    int64_t tsoffset;  /* pcapng if_tsoffset, seconds */
} sift_iface_t;

/* What the reader learned about the file. Valid until sift_reader_close; the interface array
 * grows (and may move) as sift_reader_next meets new interface blocks. */
typedef struct sift_file_meta {
    sift_format_t format;
    sift_compression_t compression;
    bool big_endian;   /* byte order of the file (pcapng: of its first section) */
    bool mixed_endian; /* pcapng sections of both byte orders */
    uint16_t version_major, version_minor;
    uint8_t ts_digits; /* the largest ts_digits of all interfaces */
    uint32_t sections; /* pcapng sections seen; 1 for pcap and snoop */
    size_t niface;
    const sift_iface_t *iface;
} sift_file_meta_t;

/* What a pcapng file says of itself beyond what reading needs: the options of its section
 * header, interface description and interface statistics blocks, and packet comments
 * (sift_reader_notes). Texts are as the file gives them (UTF-8), NUL-terminated, cut to
 * SIFT_NOTE_MAX - 1 bytes; "" when absent. The first SIFT_NOTES_SECTIONS sections and
 * SIFT_NOTES_IFACES interfaces have notes (interfaces numbered as meta.iface), and the first
 * SIFT_NOTES_COMMENTS packet comments are kept; all comments are counted. */
#define SIFT_NOTE_MAX       256
#define SIFT_NOTES_SECTIONS 64
#define SIFT_NOTES_IFACES   256
#define SIFT_NOTES_COMMENTS 16
#define SIFT_NOTE_UNSET     UINT64_MAX /* a statistic the file did not give */

typedef struct sift_section_notes {
    char hardware[SIFT_NOTE_MAX], os[SIFT_NOTE_MAX], application[SIFT_NOTE_MAX];
    char comment[SIFT_NOTE_MAX]; /* the first opt_comment */
} sift_section_notes_t;

typedef struct sift_iface_notes {
    char name[SIFT_NOTE_MAX], description[SIFT_NOTE_MAX], filter[SIFT_NOTE_MAX];
    char os[SIFT_NOTE_MAX], hardware[SIFT_NOTE_MAX], comment[SIFT_NOTE_MAX];
    uint64_t stats_blocks; /* interface statistics blocks for it; the counters are the last's */
    uint64_t received, dropped, filter_accepted, os_dropped, delivered; /* isb_ifrecv ... */
} sift_iface_notes_t;

typedef struct sift_packet_comment {
    uint64_t packet; /* its number in the file, from 1, as tshark numbers frames */
    char text[SIFT_NOTE_MAX];
} sift_packet_comment_t;

typedef struct sift_file_notes {
    size_t nsections;
    sift_section_notes_t *sections;
    size_t nifaces;
    sift_iface_notes_t *ifaces;
    uint64_t comments_total;
    size_t ncomments;
    sift_packet_comment_t comments[SIFT_NOTES_COMMENTS];
} sift_file_notes_t;

/* A problem found in the file. */
typedef struct sift_problem {
    uint64_t offset; /* byte offset where it was found */
    int code;        /* SIFT_ETRUNC, SIFT_ECORRUPT, SIFT_EFORMAT, SIFT_EIO ... */
    char message[160];
} sift_problem_t;

typedef struct sift_reader_opts {
    size_t buffer_size;  /* read size; default 1 MiB */
    uint32_t max_record; /* largest record accepted; default 256 KiB (as libpcap/wiretap) for
                          * pcap and snoop, 16 MiB for a pcapng block */
    size_t max_problems; /* problems kept in detail (all are counted); default 64 */
} sift_reader_opts_t;

typedef struct sift_reader sift_reader_t;

/* Opens path ("-" is standard input) and reads the file header. opts may be NULL.
 * On failure *out is NULL and the context's error message names the file and the cause. */
SIFT_API int sift_reader_open(sift_reader_t **out, sift_ctx_t *ctx, const char *path,
                              const sift_reader_opts_t *opts);

/* Reads from a caller-owned buffer that must stay valid and unchanged until close. A plain
 * capture in memory is read without any copy. name is used in messages (may be NULL). */
SIFT_API int sift_reader_open_memory(sift_reader_t **out, sift_ctx_t *ctx, const void *data,
                                     size_t len, const char *name, const sift_reader_opts_t *opts);

/* NULL is fine. */
SIFT_API void sift_reader_close(sift_reader_t *r);

/* The next record: returns 1 and fills *rec, 0 at the end of the file, or a negative code when
 * the file ends early because of damage or an I/O error (the problem is in the list). */
SIFT_API int sift_reader_next(sift_reader_t *r, sift_record_t *rec);

SIFT_API const sift_file_meta_t *sift_reader_meta(const sift_reader_t *r);

/* The notes of what was read so far (pcapng; empty for other formats). Valid until the next
 * sift_reader_next or close. */
SIFT_API const sift_file_notes_t *sift_reader_notes(const sift_reader_t *r);

/* A caller-owned copy of notes (dst's own arrays are released first): 0 or SIFT_ENOMEM (dst is
 * then empty); and the release of a copy's arrays (a zeroed struct is fine). */
SIFT_API int sift_file_notes_copy(sift_file_notes_t *dst, const sift_file_notes_t *src);
SIFT_API void sift_file_notes_release(sift_file_notes_t *n);

/* Problems found so far: the first max_problems in detail, and the total count. */
SIFT_API size_t sift_reader_nproblems(const sift_reader_t *r);
SIFT_API const sift_problem_t *sift_reader_problem(const sift_reader_t *r, size_t i);
SIFT_API uint64_t sift_reader_problems_total(const sift_reader_t *r);

/* True when the file can be read in parallel by byte ranges: a plain (uncompressed) pcap or
 * pcapng file on disk. A pcapng range reader first reads the interface descriptions before the
 * file's first packet, then looks for a chain of plausible blocks. */
SIFT_API bool sift_reader_splittable(const sift_reader_t *r);

/* Opens a splittable file for the records whose offsets lie in [start, end). When start is
 * past the file header, the reader first looks for a record boundary at or after start (a
 * chain of plausible record headers) and begins there; sift_reader_range_start tells where
 * (UINT64_MAX when none was found before end, and the reader then yields nothing). Reading
 * stops before the first record at or after end; sift_reader_position then gives its offset.
 * A caller splitting a file checks that each range stopped exactly where the next began: the
 * boundary search is a guess, and a wrong guess shows up there. SIFT_EUNSUPPORTED for files
 * that are not splittable. */
SIFT_API int sift_reader_open_range(sift_reader_t **out, sift_ctx_t *ctx, const char *path,
                                    uint64_t start, uint64_t end, const sift_reader_opts_t *opts);
SIFT_API uint64_t sift_reader_range_start(const sift_reader_t *r);

/* Moves a splittable reader to the record at offset, an offset a read of the same file gave
 * (rec.offset): the next sift_reader_next returns that record, then the ones after it. For a
 * pcapng file, the interfaces in force there must be those the reader has read. */
SIFT_API int sift_reader_seek(sift_reader_t *r, uint64_t offset);

/* True when the reader met a pcapng section header or interface description after a packet:
 * ranges after it were read with the interfaces of the file's head, so a split read of that
 * file must be done again whole. */
SIFT_API bool sift_reader_headers_midway(const sift_reader_t *r);

/* Bytes consumed so far (of the decompressed stream) and the file's size on disk (0 when
 * unknown, as for a pipe). For progress reports. */
SIFT_API uint64_t sift_reader_position(const sift_reader_t *r);
SIFT_API uint64_t sift_reader_file_size(const sift_reader_t *r);

/* The name given at open ("-" for standard input). */
SIFT_API const char *sift_reader_name(const sift_reader_t *r);

SIFT_API const char *sift_format_name(sift_format_t f);           /* "pcap", "pcapng", ... */
SIFT_API const char *sift_compression_name(sift_compression_t c); /* "none", "gzip", "zstd" */

/* The name of a link type ("EN10MB", from libpcap) and its description ("Ethernet"); NULL
 * when libpcap does not know it. */
SIFT_API const char *sift_linktype_name(uint32_t linktype);
SIFT_API const char *sift_linktype_description(uint32_t linktype);

/* libpcap's DLT_ value for a LINKTYPE_ value (they differ for a few), -1 when out of range. */
SIFT_API int sift_linktype_to_dlt(uint32_t linktype);

/* Formats a timestamp as seconds with `digits` decimals ("1700000000.123456") into buf.
 * Returns buf. */
SIFT_API char *sift_format_ts(char *buf, size_t size, int64_t ts_ns, int digits);

/* Formats a timestamp as ISO 8601 (RFC 3339) with `digits` decimals, truncated like
 * sift_format_ts: "2015-01-03T07:05:08.180056Z" in UTC, or the local time of a zone
 * utc_offset_s seconds east of UTC with its offset ("2015-01-03T08:05:08.180056+01:00").
 * Every int64 nanosecond timestamp has a four-digit year (1677-2262). buf holds at least
 * SIFT_ISO_MAX bytes (else it gets ""). Returns buf. */
#define SIFT_ISO_MAX 36
SIFT_API char *sift_format_iso(char *buf, size_t size, int64_t ts_ns, int digits, int utc_offset_s);

/* True when the first bytes of a file are those of a capture this library reads (pcap,
 * pcapng, snoop, or gzip/zstd which may hold one). */
SIFT_API bool sift_capture_probe(const void *head, size_t n);

#ifdef __cplusplus
}
#endif
#endif
