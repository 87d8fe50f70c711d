/* Fuzz target for the packet decoder: the first two bytes of the input pick the link type
 * (an index into the link types the decoder knows, or any other value taken literally, so
 * unknown types are exercised too), the rest is the record. The record is copied into a
 * buffer of exactly its size so AddressSanitizer sees any read past its end. Invariants of
 * the view are checked with abort() so that libFuzzer reports them as crashes.
 *
 * Whole capture files replayed from the shared corpus also pass through here; they simply
 * decode as one odd record each.
 */
#include <capsift/decode.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const uint32_t linktypes[] = {1,   0, 108, 12, 14,  101, 228, 229, 113,
                                     276, 9, 50,  51, 104, 105, 127, 192, 239};

static void check(const sift_packet_t *p, const sift_record_t *rec)
{
    const uint8_t *lo = rec->data, *hi = rec->data + rec->caplen;
    if (p->payload &&
        (p->payload < lo || p->payload > hi || p->payload_len > (size_t)(hi - p->payload)))
        abort();
    if (!p->payload && p->payload_len)
        abort();
    if ((p->flags & SIFT_PKT_L4) && !(p->flags & SIFT_PKT_L3))
        abort();
    if (!(p->flags & SIFT_PKT_L4) && (p->sport || p->dport))
        abort();
    if ((p->flags & SIFT_PKT_L3) && p->l3_offset >= rec->caplen)
        abort();
    if (p->nlayers > SIFT_PKT_MAX_LAYERS)
        abort();
    for (unsigned i = 0; i < p->nlayers; i++)
        if ((uint64_t)p->layers[i].offset + p->layers[i].len > rec->caplen ||
            p->layers[i].proto >= SIFT_PROTO_COUNT)
            abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    uint16_t sel = (uint16_t)(data[0] << 8 | data[1]);
    size_t nlt = sizeof linktypes / sizeof linktypes[0];
    uint32_t lt = sel < 0x8000 ? linktypes[sel % nlt] : (uint32_t)(sel & 0x1ff);
    size_t n = size - 2;
    uint8_t *buf = malloc(n ? n : 1);
    if (!buf)
        return 0;
    if (n)
        memcpy(buf, data + 2, n);
    sift_record_t rec = {
        .linktype = lt, .caplen = (uint32_t)n, .wirelen = (uint32_t)n, .data = buf};
    sift_packet_t p;
    for (int need = SIFT_NEED_RECORD; need <= SIFT_NEED_APP; need++) {
        if (sift_decode(&p, &rec, (sift_need_t)need) != 0)
            abort();
        check(&p, &rec);
    }
    free(buf);
    return 0;
}
