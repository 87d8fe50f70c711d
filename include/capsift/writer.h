/* capsift: writing captures - classic pcap (microsecond or nanosecond) or pcapng with one
 * interface per link type. Records are copied as given; timestamps keep nanoseconds in pcapng
 * and in nanosecond pcap.
 *
 * Thread safety: a writer is used by one thread at a time.
 */
#ifndef CAPSIFT_WRITER_H
#define CAPSIFT_WRITER_H

#include <capsift/reader.h>

#include <stdbool.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct sift_writer sift_writer_t;

typedef struct sift_writer_opts {
    bool pcapng;       /* pcapng instead of pcap */
    bool nanoseconds;  /* pcap: the nanosecond magic (pcapng always keeps ns) */
    uint32_t linktype; /* pcap: the file's link type */
    uint32_t snaplen;  /* 0: 262144 */
} sift_writer_opts_t;

/* Writes the file header to out (not closed by the writer). */
SIFT_API int sift_writer_open(sift_writer_t **w, FILE *out, const sift_writer_opts_t *opts,
                              char *errbuf);

/* Appends one record. In pcap, a record of another link type than the file's is refused
 * (SIFT_EINVAL). Write errors give SIFT_EIO (SIFT_ENOSPC for a full disk). */
SIFT_API int sift_writer_write(sift_writer_t *w, const sift_record_t *rec, char *errbuf);

/* Flushes; returns the first write error met, if any. Frees w. */
SIFT_API int sift_writer_close(sift_writer_t *w, char *errbuf);

/* ---- copying records by offset from capture files into a new one ---- */

/* The records of one file to copy: their byte offsets (sift_record_t.offset), ascending; an
 * offset given twice is written once. */
typedef struct sift_copy_src {
    const char *path;
    const uint64_t *offsets;
    size_t n;
} sift_copy_src_t;

#define SIFT_COPY_MAX_LINKTYPES 16

typedef struct sift_copy_opts {
    /* The link types of the records (sift_copy_opts_add_linktype): one gives a pcap of it,
     * more a pcapng with an interface per link type. */
    uint32_t linktypes[SIFT_COPY_MAX_LINKTYPES];
    unsigned nlinks;
    bool overflow;    /* more link types than the array holds: pcapng */
    bool nanoseconds; /* a pcap keeps nanoseconds */
    /* For sift_copy_records_file: as sift_outfile_opts_t (the sources are protected too). */
    bool force;
    const char *const *protect;
    size_t nprotect;
} sift_copy_opts_t;

SIFT_API void sift_copy_opts_add_linktype(sift_copy_opts_t *o, uint32_t linktype);

typedef struct sift_copy_summary {
    uint64_t packets, bytes, files;
    bool pcapng;
} sift_copy_summary_t;

/* Writes the records to out, merged in timestamp order across files (each file's in file
 * order). A source without a record at one of its offsets fails with SIFT_ESTALE naming it
 * (the file changed since the offsets were read). name, when not NULL, prefixes write errors.
 * sum may be NULL. */
SIFT_API int sift_copy_records(sift_ctx_t *ctx, const sift_copy_src_t *src, size_t nsrc, FILE *out,
                               const char *name, const sift_copy_opts_t *o,
                               sift_copy_summary_t *sum);

/* The same into the file at path through sift_outfile (capsift/outfile.h; "-": standard
 * output), so a failure leaves path as it was; the sources are never the output. */
SIFT_API int sift_copy_records_file(sift_ctx_t *ctx, const sift_copy_src_t *src, size_t nsrc,
                                    const char *path, const sift_copy_opts_t *o,
                                    sift_copy_summary_t *sum);

#ifdef __cplusplus
}
#endif
#endif
