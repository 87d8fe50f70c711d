/* capsift: indicator lists - IPv4 and IPv6 addresses, CIDR ranges and domain names - and exact
 * lookups in them, fast for lists of millions.
 *
 * Lists are read from plain text (one indicator per line, '#' comments), CSV (the column named
 * indicator, ioc, value, ip, address, domain or host, else the first) or STIX 2.1 JSON bundles
 * (the patterns of indicator objects of the forms [ipv4-addr:value = '...'],
 * [ipv6-addr:value = '...'] and [domain-name:value = '...'], joined by OR; ipv4-addr and
 * ipv6-addr values may be CIDR ranges).
 *
 * Addresses and names go through a blocked Bloom filter (capsift/bloom.h) sized from their
 * number and the target false-positive rate, then an exact hash table, so answers are exact
 * and a miss, the common case, costs one cache line. Ranges are kept sorted, not expanded: a
 * lookup is a binary search. A name matches an indicator that is the name itself or one of the
 * domains it lies in ("a.evil.example" matches "evil.example"), compared without case and
 * without a trailing dot.
 *
 *   sift_iocs_t *l;  sift_iocs_create(&l);
 *   sift_iocs_load(l, ctx, "iocs.txt");
 *   sift_iocs_build(l, ctx, 0);
 *   long i = sift_iocs_find_name(l, "www.evil.example", 16);   // -1: none
 *
 * Thread safety: once built, any number of threads may look up at once.
 */
#ifndef CAPSIFT_IOC_H
#define CAPSIFT_IOC_H

#include <capsift/cache.h>
#include <capsift/common.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum sift_ioc_kind {
    SIFT_IOC_ADDR = 0, /* an IPv4 or IPv6 address */
    SIFT_IOC_CIDR = 1, /* a range: prefix bits in bits */
    SIFT_IOC_NAME = 2  /* a domain name */
} sift_ioc_kind_t;

typedef struct sift_ioc {
    const char *text;   /* as given */
    const char *source; /* the list it came from */
    unsigned line;      /* its line there, from 1 */
    uint8_t kind;       /* sift_ioc_kind_t */
    uint8_t version;    /* ADDR, CIDR: 4 or 6 */
    uint8_t bits;       /* CIDR: prefix length (of the IPv6 form: IPv4 /24 is 120) */
    uint8_t addr[16];   /* ADDR, CIDR (the range's first address); IPv4 as ::ffff:a.b.c.d */
    const char *name;   /* NAME: lower case, no trailing dot */
} sift_ioc_t;

typedef struct sift_iocs sift_iocs_t;

SIFT_API int sift_iocs_create(sift_iocs_t **out);
SIFT_API void sift_iocs_free(sift_iocs_t *l); /* NULL is fine */

/* Adds one indicator (an address, a CIDR range or a domain name). Returns 0, SIFT_EPARSE with
 * "SOURCE:LINE: TEXT: why" in the context, or SIFT_ENOMEM. An indicator given twice is found
 * as its first. A name may start with "*." (the domain and every name under it, as a plain
 * name matches anyway). */
SIFT_API int sift_iocs_add(sift_iocs_t *l, sift_ctx_t *ctx, const char *text, const char *source,
                           unsigned line);

/* Reads a list in any of the formats above (told apart by the file's first bytes and a .csv
 * name). Stops at the first bad indicator (SIFT_EPARSE, naming the file and line), an
 * unreadable file (SIFT_ENOENT, SIFT_EIO) or a STIX file that is not JSON. A STIX pattern of
 * another form is skipped and counted (sift_iocs_skipped). */
SIFT_API int sift_iocs_load(sift_iocs_t *l, sift_ctx_t *ctx, const char *path);

/* Builds the filters and tables for lookups at the false-positive rate fp_rate of the Bloom
 * filters (0: 0.01). Call once, after the last add. SIFT_ENOMEM. */
SIFT_API int sift_iocs_build(sift_iocs_t *l, sift_ctx_t *ctx, double fp_rate);

SIFT_API size_t sift_iocs_count(const sift_iocs_t *l);
SIFT_API const sift_ioc_t *sift_iocs_at(const sift_iocs_t *l, size_t i);
/* Counts by kind, and STIX patterns skipped. */
SIFT_API size_t sift_iocs_count_kind(const sift_iocs_t *l, sift_ioc_kind_t k);
SIFT_API size_t sift_iocs_skipped(const sift_iocs_t *l);

/* The lists at paths loaded (sift_iocs_load each) and built (sift_iocs_build) into a new *out,
 * through cache (NULL: none): what was built from lists of the same paths and contents with the
 * same fp_rate is read back instead (*from_cache, may be NULL, says so), and an entry that does
 * not read back whole is built again and replaced. Errors as sift_iocs_load and build. */
SIFT_API int sift_iocs_load_all(sift_iocs_t **out, sift_ctx_t *ctx, const char *const *paths,
                                size_t n, double fp_rate, sift_cache_t *cache, bool *from_cache);

/* The indicator an address (16 bytes) is or lies in (the address itself first, else the most
 * specific range), or -1. */
SIFT_API long sift_iocs_find_addr(const sift_iocs_t *l, const uint8_t addr[16]);
/* The indicator a name (n bytes) is or lies under (the longest), or -1. */
SIFT_API long sift_iocs_find_name(const sift_iocs_t *l, const char *name, size_t n);

#ifdef __cplusplus
}
#endif
#endif
