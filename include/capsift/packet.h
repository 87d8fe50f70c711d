/* capsift: the packet view that passes receive.
 *
 * The engine fills a packet view for every record and hands it to each pass. How deep the
 * decoder goes is the deepest `needs` of the passes in the run: a run whose passes only need
 * the record (as `info`) decodes nothing.
 */
#ifndef CAPSIFT_PACKET_H
#define CAPSIFT_PACKET_H

#include <capsift/reader.h>

#ifdef __cplusplus
extern "C" {
#endif

/* How much of a packet a pass reads; the decoder stops there. */
typedef enum sift_need {
    SIFT_NEED_RECORD = 0,  /* timestamp, lengths, link type */
    SIFT_NEED_NETWORK = 1, /* link and network layers */
    SIFT_NEED_TRANSPORT = 2,
    SIFT_NEED_PAYLOAD = 3, /* transport payload span */
    SIFT_NEED_APP = 4      /* application protocol detection */
} sift_need_t;

/* The view of one packet. `rec` and everything it points to are valid only during the pass
 * callback that receives the view. */
typedef struct sift_packet {
    const sift_record_t *rec;
    uint32_t input; /* index of the input (file) in the run */
} sift_packet_t;

#ifdef __cplusplus
}
#endif
#endif
