/* The decoder entry point and the protocol name table.
 *
 * The per-layer decoders live beside this file (dec_link.c, dec_80211.c, dec_ip.c, dec_l4.c,
 * dec_tunnel.c); each starts with the specification it follows. This file only resets the
 * view and dispatches on the record's link type.
 */
#include "decode/decode_int.h"

#include <stddef.h>

int sift_decode(sift_packet_t *pkt, const sift_record_t *rec, sift_need_t need)
{
    static const uint8_t empty[1];
    if (!pkt || !rec || (!rec->data && rec->caplen))
        return SIFT_EINVAL;
    /* Everything after `input` up to the layer array is cleared: about 130 bytes, a few stores.
     * The layer array is not: nlayers says how much of it is valid. */
    memset(&pkt->flags, 0, offsetof(sift_packet_t, layers) - offsetof(sift_packet_t, flags));
    pkt->rec = rec;
    if (need <= SIFT_NEED_RECORD)
        return 0;
    sift_dec_t d = {pkt, rec->data ? rec->data : empty, (unsigned)need};
    sift__dec_link(&d, rec->linktype, sift_cur_make(d.base, rec->caplen));
    return 0;
}

static const char *const proto_names[] = {
#define SIFT_X_PROTO(id, name, ws) name,
    SIFT_PROTO_TABLE(SIFT_X_PROTO)
#undef SIFT_X_PROTO
};

static const char *const proto_wsnames[] = {
#define SIFT_X_PROTO(id, name, ws) ws,
    SIFT_PROTO_TABLE(SIFT_X_PROTO)
#undef SIFT_X_PROTO
};

const char *sift_proto_name(unsigned proto)
{
    return proto < SIFT_PROTO_COUNT ? proto_names[proto] : "?";
}

const char *sift_proto_wsname(unsigned proto)
{
    return proto < SIFT_PROTO_COUNT ? proto_wsnames[proto] : "?";
}
