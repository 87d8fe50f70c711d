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

#ifdef __cplusplus
}
#endif
#endif
