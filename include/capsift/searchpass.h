/* capsift: the search pass - which packets' transport payloads match a compiled pattern set
 * (capsift/search.h), as hits of (packet, pattern) with the offset of the first match.
 *
 * A block-mode matcher scans each packet's payload alone. A stream-mode matcher scans each
 * direction of each TCP flow as one stream, so a pattern split across segments is found, and
 * is reported on the segment where the match ends (its offset is then negative: it began in an
 * earlier segment). Segments are taken in sequence order as they come:
 *   - a segment that continues the stream is scanned on;
 *   - a retransmission (bytes already scanned) is skipped, and a segment that overlaps what was
 *     scanned has only its new bytes scanned, so no match is counted twice;
 *   - a gap (lost or reordered segments) restarts the stream at the new segment: no match
 *     spans a gap; a segment arriving later to fill the latest gap is scanned alone.
 * UDP datagrams and packets of other protocols are scanned alone in either mode. A stream-mode
 * run reads each file whole on one worker (a stream cannot be cut at a range boundary); a
 * block-mode run splits large files like any other.
 */
#ifndef CAPSIFT_SEARCHPASS_H
#define CAPSIFT_SEARCHPASS_H

#include <capsift/engine.h>
#include <capsift/search.h>

#ifdef __cplusplus
extern "C" {
#endif

#define SIFT_SEARCH_DEFAULT_MAX_HITS 1000000u

typedef struct sift_search_config {
    const sift_matcher_t *matcher; /* required; must outlive the run */
    uint64_t max_hits;             /* hits kept per input (0: the default); past it only the
                                    * totals count, and the pass reports SIFT_ELIMIT */
} sift_search_config_t;

/* One packet that matched one pattern. */
typedef struct sift_search_hit {
    uint64_t packet;      /* its number in the file, from 1 (sift_packet_t.record + 1) */
    uint64_t file_offset; /* of its record */
    int64_t ts_ns;
    int64_t offset;     /* of the first match's first byte in the transport payload */
    uint32_t pattern;   /* the pattern's index in the set */
    uint32_t count;     /* matches of the pattern ending in this packet */
    uint32_t input;     /* the input's index in the run */
    uint32_t linktype;  /* of the record */
    uint8_t ip_version; /* 4, 6, or 0 without IP */
    uint8_t ip_proto;   /* 6 TCP, 17 UDP ... */
    uint16_t sport, dport;
    uint8_t src[16], dst[16]; /* as in sift_packet_t */
} sift_search_hit_t;

SIFT_API extern const sift_pass_t sift_search_pass;

typedef struct sift_search sift_search_t;

/* The hits kept, in (packet, pattern) order. */
SIFT_API size_t sift_search_hits(const sift_search_t *s, const sift_search_hit_t **hits);
/* Hits found, including those past max_hits. */
SIFT_API uint64_t sift_search_total_hits(const sift_search_t *s);
/* Pattern id's totals: packets it matched, matches. */
SIFT_API uint64_t sift_search_pattern_packets(const sift_search_t *s, size_t id);
SIFT_API uint64_t sift_search_pattern_matches(const sift_search_t *s, size_t id);
/* Packets and payload bytes scanned. */
SIFT_API uint64_t sift_search_scanned_packets(const sift_search_t *s);
SIFT_API uint64_t sift_search_scanned_bytes(const sift_search_t *s);
/* Packets not searched because the decoder does not read their link type, and the first such
 * link type (NULL: not wanted). */
SIFT_API uint64_t sift_search_unread(const sift_search_t *s, uint32_t *linktype);

#ifdef __cplusplus
}
#endif
#endif
