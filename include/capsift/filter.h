/* capsift: BPF packet filters, compiled by libpcap.
 *
 * A filter is the tcpdump expression language ("tcp port 443 and host 10.0.0.1"). It is
 * compiled once per link type met (libpcap compiles for one link type at a time) and run on
 * each record's bytes with pcap_offline_filter, so it matches exactly what tcpdump -r would.
 *
 * An expression of more than SIFT_FILTER_OPT_TERMS terms (primitives joined by and/or) is
 * compiled without libpcap's optimiser, whose time grows steeply with the expression (the
 * matches are the same); one of more than SIFT_FILTER_MAX_TERMS terms or SIFT_FILTER_MAX_LENGTH
 * characters is refused (SIFT_ELIMIT), since libpcap's compiler takes seconds to minutes on it
 * and runs out of memory further on.
 *
 * Thread safety: a sift_filter_t may be shared by any number of threads: programs are compiled
 * once per link type (under a lock, the first time a thread meets it) and read without one.
 */
#ifndef CAPSIFT_FILTER_H
#define CAPSIFT_FILTER_H

#include <capsift/reader.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct sift_filter sift_filter_t;

#define SIFT_FILTER_OPT_TERMS  256
#define SIFT_FILTER_MAX_TERMS  500
#define SIFT_FILTER_MAX_LENGTH 65536

/* Compiles expr (for Ethernet, else raw IP: its syntax check; other link types follow as they
 * are met). Returns 0, SIFT_EFILTER with libpcap's message in errbuf (SIFT_ERRBUF_SIZE bytes),
 * or SIFT_ELIMIT for an expression too large to compile in reasonable time. */
SIFT_API int sift_filter_create(sift_filter_t **out, const char *expr, char *errbuf);

/* The same check without keeping the filter. */
SIFT_API int sift_filter_check(const char *expr, char *errbuf);

/* Primitives joined by "and", "or", "&&", "||" in expr: what the limits above count. */
SIFT_API size_t sift_filter_terms(const char *expr);
SIFT_API void sift_filter_free(sift_filter_t *f); /* NULL is fine */

/* 1 when the record matches, 0 when not, SIFT_EFILTER when the expression cannot apply to the
 * record's link type (errbuf says why; later records of that link type give the same). */
SIFT_API int sift_filter_match(sift_filter_t *f, const sift_record_t *rec, char *errbuf);

#ifdef __cplusplus
}
#endif
#endif
