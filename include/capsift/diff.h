/* capsift: what differs between two sets of captures - a profile of each (hosts, server ports,
 * applications, flows, TLS fingerprints, domain names, with their flows, packets and bytes),
 * made from the flows and metadata of engine runs, and the comparison of two profiles: what
 * is on one side only, and what changed in volume beyond a threshold.
 */
#ifndef CAPSIFT_DIFF_H
#define CAPSIFT_DIFF_H

#include <capsift/flow.h>
#include <capsift/metapass.h>

#ifdef __cplusplus
extern "C" {
#endif

/* What a profile counts. */
typedef enum sift_diff_kind {
    SIFT_DIFF_HOST = 0, /* an address: flows it is in, their packets and bytes */
    SIFT_DIFF_PORT,     /* "tcp/443": a responder's port */
    SIFT_DIFF_APP,      /* an application (nDPI), "Unknown" when detection found none */
    SIFT_DIFF_FLOW,     /* "tcp 10.0.0.1:5000 - 10.0.0.2:80": a 5-tuple, both directions (the
                         * protocol as sift_ip_proto_name names it) */
    SIFT_DIFF_JA3,      /* a TLS client fingerprint (JA3), counted per handshake */
    SIFT_DIFF_JA3S,     /* a TLS server fingerprint */
    SIFT_DIFF_DOMAIN,   /* a name asked in DNS, sent as SNI or HTTP Host (lower case) */
    SIFT_DIFF_NKINDS
} sift_diff_kind_t;

/* "host", "port", "app", "flow", "ja3", "ja3s", "domain". */
SIFT_API const char *sift_diff_kind_name(sift_diff_kind_t k);

typedef struct sift_diff_counts {
    uint64_t flows, packets, bytes;
} sift_diff_counts_t;

typedef struct sift_profile sift_profile_t;

SIFT_API int sift_profile_create(sift_profile_t **out);
SIFT_API void sift_profile_free(sift_profile_t *p); /* NULL is fine */

/* Adds an input's flows and (may be NULL) its metadata rows. SIFT_ENOMEM. */
SIFT_API int sift_profile_add(sift_profile_t *p, const sift_flows_t *flows,
                              const sift_meta_t *meta);

/* The same one flow at a time, with its application's name ("" or NULL: detection off), and one
 * metadata row at a time: for flows and rows read from an index (sift_index_flows). */
SIFT_API int sift_profile_add_flow(sift_profile_t *p, const sift_flow_t *f, const char *app);
SIFT_API int sift_profile_add_row(sift_profile_t *p, const sift_meta_row_t *r);

/* Keys of a kind in the profile. */
SIFT_API size_t sift_profile_count(const sift_profile_t *p, sift_diff_kind_t k);

typedef enum sift_diff_change {
    SIFT_DIFF_ONLY_A = 0, /* present in A only */
    SIFT_DIFF_ONLY_B,
    SIFT_DIFF_MORE, /* in both, B's bytes (packets when no bytes) above A's by the threshold */
    SIFT_DIFF_LESS
} sift_diff_change_t;

/* "only_a", "only_b", "more", "less". */
SIFT_API const char *sift_diff_change_name(sift_diff_change_t c);

typedef struct sift_diff_row {
    sift_diff_kind_t kind;
    const char *key; /* valid during the call */
    sift_diff_change_t change;
    sift_diff_counts_t a, b;
} sift_diff_row_t;

typedef int (*sift_diff_fn)(void *user, const sift_diff_row_t *row);

/* Calls fn for each difference, by kind, then key (byte order): keys on one side only, and
 * keys on both whose volume changed by more than threshold (0.5: B is more than 1.5 times A,
 * or less than A / 1.5; a negative threshold reports no volume change). Returns 0, fn's
 * negative code, or SIFT_ENOMEM. */
SIFT_API int sift_profile_diff(const sift_profile_t *a, const sift_profile_t *b, double threshold,
                               sift_diff_fn fn, void *user);

#ifdef __cplusplus
}
#endif
#endif
