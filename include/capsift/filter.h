/* capsift: BPF packet filters, compiled by libpcap.
 *
 * A filter is the tcpdump expression language ("tcp port 443 and host 10.0.0.1"). It is
 * compiled once per link type met (libpcap compiles for one link type at a time) and run on
 * each record's bytes with pcap_offline_filter, so it matches exactly what tcpdump -r would.
 *
 * Thread safety: a sift_filter_t is used by one thread at a time; make one per worker with
 * sift_filter_create from the same expression. sift_filter_check is thread-safe.
 */
#ifndef CAPSIFT_FILTER_H
#define CAPSIFT_FILTER_H

#include <capsift/reader.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct sift_filter sift_filter_t;

/* Checks an expression's syntax (compiled for Ethernet, then raw IP). Returns 0, or
 * SIFT_EFILTER with libpcap's message in errbuf (SIFT_ERRBUF_SIZE bytes). */
SIFT_API int sift_filter_check(const char *expr, char *errbuf);

SIFT_API int sift_filter_create(sift_filter_t **out, const char *expr, char *errbuf);
SIFT_API void sift_filter_free(sift_filter_t *f); /* NULL is fine */

/* 1 when the record matches, 0 when not, SIFT_EFILTER when the expression cannot apply to the
 * record's link type (errbuf says why; later records of that link type give the same). */
SIFT_API int sift_filter_match(sift_filter_t *f, const sift_record_t *rec, char *errbuf);

#ifdef __cplusplus
}
#endif
#endif
