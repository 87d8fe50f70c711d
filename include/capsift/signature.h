/* capsift: message-type signatures learned from a clustering, labelling new payloads with them,
 * and a Wireshark Lua dissector that labels packets the same way.
 *
 * A signature is one cluster of `capsift cluster` kept for later: its part (transport, server
 * port, direction), its constant-byte mask (the offsets whose byte every payload of the cluster
 * has, within its first `positions` bytes), its type byte, lengths, an example, the fields
 * inferred for it and a MinHash sketch of the example's byte 3-grams. Saved in the index
 * database (sift_index_save_signatures, capsift/index.h), each also carries how many packets
 * it has labelled since, when it last did, and a confidence.
 *
 * Labelling (sift_sigmatch): a payload is compared with the signatures of its part. Its
 * similarity to one is the share of the mask's bytes it has (a byte past its end is missing);
 * one with a type byte must have it. The most similar signature labels it when the similarity
 * reaches the minimum; ties go to the signature earlier in the set's order (more mask bytes,
 * then more packets learned, then name). The Lua dissector (sift_signatures_lua) holds the
 * same masks in the same order and computes the same similarity with the same arithmetic, so
 * tshark with it and `capsift classify` agree on every packet whose direction both see alike.
 * The sketch labels nothing: it names, for what no signature labels, the nearest one.
 *
 * Continuations: where the messages of a TCP part begin with a header their signatures share
 * (sift_signatures_header), a payload without it is a later segment of a message, as `capsift
 * cluster` joins it to its message's cluster: it is labelled with the signature of the message
 * it continues, the one the payloads before it from its sender in its stream lead back to (over
 * other such segments). sift_classify follows each payload's commonest predecessor in the set's
 * flows; the dissector, the packet before it in its TCP stream. A chain that reaches a message
 * no signature labels, or none, leaves the segment to the signatures as any other payload.
 *
 * Confidence, updated once per classification run (a batch): a signature whose part carried
 * traffic rises by a fifth of the way to 1 if it labelled some of it, and falls by a fifth
 * if it labelled none; it starts at 0.5 and is unchanged by runs that saw nothing of its part.
 */
#ifndef CAPSIFT_SIGNATURE_H
#define CAPSIFT_SIGNATURE_H

#include <capsift/cluster.h>

#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

/* A byte of a mask. */
typedef struct sift_sig_byte {
    uint16_t offset;
    uint8_t value;
} sift_sig_byte_t;

#define SIFT_SIG_SKETCH_K 64u /* MinHash values of a signature's sketch */

typedef struct sift_signature {
    int64_t id;       /* in the database (0: not stored) */
    const char *name; /* "SET-N" as saved (N the cluster's id), or as renamed */
    const char *set;  /* the name the set was saved under */
    sift_cluster_part_t part;
    bool text;
    const sift_sig_byte_t *mask; /* ascending offsets */
    uint32_t nmask;
    int32_t type_offset; /* -1: none */
    uint8_t type;
    uint64_t min_len, max_len;
    const uint8_t *example; /* the cluster's representative, its kept bytes */
    uint32_t example_len;
    const sift_cluster_field_t *fields;
    uint32_t nfields;
    uint32_t sketch[SIFT_SIG_SKETCH_K]; /* of the example's byte 3-grams (seed 0) */
    uint64_t packets, units, flows;     /* of the cluster it was learned from */
    double share;                       /* of its part's packets then */
    uint64_t usage;                     /* packets labelled since */
    int64_t last_seen;                  /* seconds since the epoch of the last run that labelled
                                         * some packet with it (0: none yet) */
    int64_t created;                    /* seconds since the epoch */
    double confidence;                  /* (0, 1) */
} sift_signature_t;

/* A set of signatures, owning their bytes and strings. */
typedef struct sift_signatures sift_signatures_t;

SIFT_API int sift_signatures_create(sift_signatures_t **out); /* SIFT_ENOMEM */
SIFT_API void sift_signatures_free(sift_signatures_t *s);     /* NULL is fine */
/* Adds a copy of sig (its arrays and strings copied). SIFT_ENOMEM. */
SIFT_API int sift_signatures_add(sift_signatures_t *s, const sift_signature_t *sig);
SIFT_API size_t sift_signatures_count(const sift_signatures_t *s);
/* Signature i, valid while the set is not changed. */
SIFT_API const sift_signature_t *sift_signatures_get(const sift_signatures_t *s, size_t i);
/* Puts the set in labelling order: part, then more mask bytes, more packets learned, name. */
SIFT_API void sift_signatures_sort(sift_signatures_t *s);

/* The signatures of the clusters of c (over set) with at least min_packets packets and a
 * non-empty mask, named "name-ID", into s (in labelling order); now is their creation time.
 * Returns how many were added, or SIFT_EINVAL (an empty name), SIFT_ENOMEM. */
SIFT_API int64_t sift_signatures_learn(sift_signatures_t *s, const sift_cluster_set_t *set,
                                       const sift_clustering_t *c, const char *name,
                                       uint64_t min_packets, int64_t now);

/* ---- labelling ---- */

#define SIFT_SIG_DEFAULT_MIN_SIMILARITY 0.75

/* The signature of s (in labelling order) that labels a payload of part whose first kept bytes
 * are data and whose length is len: its index, or -1 for none; *similarity gets the best
 * similarity found among the part's signatures (0 when it has none), labelled or not. */
SIFT_API int64_t sift_sigmatch(const sift_signatures_t *s, sift_cluster_part_t part,
                               const uint8_t *data, size_t kept, double min_similarity,
                               double *similarity);

/* The header the messages of part begin with, for continuations: the 4 bytes at the first of
 * the first 9 offsets where every binary signature of the part whose mask holds any of them
 * holds all 4 alike, at least two do, and they are not one byte four times (a fill). s sorted.
 * false when there is none: then no payload of the part is a continuation (so where the
 * signatures of one port disagree there, as SMB1's and SMB2's, or some hold a length field
 * there and others not, as Modbus's). */
SIFT_API bool sift_signatures_header(const sift_signatures_t *s, sift_cluster_part_t part,
                                     uint32_t *offset, uint8_t value[4]);

/* What a classification found for each unit of a cluster set. */
typedef struct sift_classification sift_classification_t;

typedef struct sift_class_unit {
    int64_t sig;       /* index in the signatures, -1: none */
    double similarity; /* its best, to the signatures of its part */
    bool continuation; /* sig is of the message it continues (see above) */
} sift_class_unit_t;

/* Per signature over a classification. */
typedef struct sift_class_sig {
    uint64_t packets, units, flows;
    uint64_t continuations; /* of the packets, those of continuations */
    double min_similarity;  /* of the messages it labelled (1 when none) */
} sift_class_sig_t;

/* Per part that carried payloads: its packets, and those no signature labelled. */
typedef struct sift_class_part {
    sift_cluster_part_t part;
    uint64_t packets, units;
    uint64_t unmatched_packets, unmatched_units;
    uint32_t example; /* an unlabelled unit (the most packets) when unmatched_units */
    /* the signature whose sketch is nearest the example's (its byte 3-grams), of the part if it
     * has any, else of any part (-1: no signatures), and the estimated Jaccard similarity: a
     * hint of what the unlabelled payloads look like, never a label */
    int64_t nearest;
    double nearest_similarity;
} sift_class_part_t;

/* Labels every unit of set with s (sorted: sift_signatures_sort). The set and s must outlive
 * the result. SIFT_EINVAL (a minimum outside [0, 1]), SIFT_ENOMEM. */
SIFT_API int sift_classify(const sift_cluster_set_t *set, const sift_signatures_t *s,
                           double min_similarity, sift_classification_t **out);
SIFT_API void sift_classification_free(sift_classification_t *c); /* NULL is fine */
SIFT_API const sift_class_unit_t *sift_classification_unit(const sift_classification_t *c,
                                                           size_t unit);
SIFT_API const sift_class_sig_t *sift_classification_sig(const sift_classification_t *c,
                                                         size_t sig);
/* The parts in the set's order of first appearance. */
SIFT_API size_t sift_classification_nparts(const sift_classification_t *c);
SIFT_API const sift_class_part_t *sift_classification_part(const sift_classification_t *c,
                                                           size_t i);

/* What a classification changes of the signatures: usage, last_seen (now) and confidence, as
 * the header says, into s (then sift_index_update_signatures stores them). */
SIFT_API void sift_classification_apply(const sift_classification_t *c, sift_signatures_t *s,
                                        int64_t now);

/* ---- the Wireshark dissector ---- */

/* Writes a Lua dissector for the signatures of s (sorted) to out: a protocol "capsift"
 * registered on each signature's TCP or UDP port, whose tree names the signature labelling
 * the payload (capsift.type), its similarity and the signature's inferred fields. Returns 0
 * or SIFT_EIO when out fails. */
SIFT_API int sift_signatures_lua(const sift_signatures_t *s, double min_similarity, FILE *out);

#ifdef __cplusplus
}
#endif
#endif
