/* IEEE 802.11 (IEEE Std 802.11-2020 clause 9.2 MAC frame format), the radiotap header
 * (radiotap.org: version 0, little-endian, natural alignment), and PPI (the Per-Packet
 * Information header, CACE Technologies PPI specification 1.0).
 *
 *  802.11 MAC header
 *  +------+------+--------+--------+--------+------+--------+------+------+----------+
 *  |FC 2  |dur 2 | addr1 6| addr2 6| addr3 6|seq 2 |[addr4 6]|[QoS 2]|[HT 4]| body.. [FCS]
 *  +------+------+--------+--------+--------+------+--------+------+------+----------+
 *   FC byte 0: subtype(4) type(2) version(2); byte 1: order protected moredata pwr retry
 *   morefrag fromDS toDS. Data frame bodies start with 802.2 LLC/SNAP.
 *
 *  radiotap: version 0, pad, length (le16), present (le32, bit 31 = another word follows),
 *  fields: TSFT (bit 0, u64 aligned 8), Flags (bit 1, u8; 0x10 = frame has FCS) ...
 *  PPI: version, flags, length (le16), DLT (le32), then length - 8 bytes of fields
 */
#include "decode/decode_int.h"

#define WLAN_TYPE_MGMT 0
#define WLAN_TYPE_CTRL 1
#define WLAN_TYPE_DATA 2

void sift__dec_80211(sift_dec_t *d, dec_span_t s_, bool fcs)
{
    sift_cursor_t c = dec_cur(s_);
    sift_packet_t *pkt = d->pkt;
    if (fcs) { /* the FCS trails the frame: never part of the body */
        if (sift_cur_left(&c) < 4) {
            dec_trunc(d);
            return;
        }
        c.end -= 4;
    }
    if (sift_cur_left(&c) < 2) {
        dec_trunc(d);
        return;
    }
    uint8_t fc0 = c.p[0], fc1 = c.p[1];
    unsigned type = (fc0 >> 2) & 3u, subtype = fc0 >> 4;
    pkt->wlan_fc = fc0;
    if (type != WLAN_TYPE_DATA) {
        /* management (beacons, probes, association ...) and control frames: identified by
         * wlan_fc; the header length of control frames varies and nothing follows it */
        size_t hl = type == WLAN_TYPE_MGMT ? 24 : sift_cur_left(&c) < 10 ? 2 : 10;
        if (sift_cur_left(&c) < hl)
            dec_trunc(d);
        pkt->flags |= SIFT_PKT_MGMT | SIFT_PKT_NON_IP;
        dec_push(d, SIFT_PROTO_WLAN, c.p, hl < sift_cur_left(&c) ? hl : sift_cur_left(&c));
        return;
    }
    size_t hl = 24;
    if ((fc1 & 0x03) == 0x03)
        hl += 6; /* addr4: wireless distribution system */
    bool qos = (subtype & 0x08) != 0;
    if (qos) {
        hl += 2;
        if (fc1 & 0x80)
            hl += 4; /* HT control */
    }
    const uint8_t *h = sift_cur_take(&c, hl);
    if (!h) {
        dec_trunc(d);
        return;
    }
    if (!dec_push(d, SIFT_PROTO_WLAN, h, hl))
        return;
    if (subtype & 0x04) { /* null function / QoS null: no body */
        pkt->flags |= SIFT_PKT_NON_IP;
        return;
    }
    if (fc1 & 0x40) { /* protected: the body is encrypted */
        pkt->flags |= SIFT_PKT_ENCRYPTED | SIFT_PKT_NON_IP;
        return;
    }
    if (qos && (h[hl - (fc1 & 0x80 ? 6 : 2)] & 0x80)) { /* A-MSDU: subframes not walked */
        pkt->flags |= SIFT_PKT_NON_IP;
        return;
    }
    if (sift_cur_left(&c) == 0) {
        pkt->flags |= SIFT_PKT_NON_IP;
        return;
    }
    sift__dec_llc(d, dec_span(&c));
}

void sift__dec_radiotap(sift_dec_t *d, dec_span_t s_)
{
    sift_cursor_t c = dec_cur(s_);
    const uint8_t *h = sift_cur_take(&c, 8);
    if (!h) {
        dec_trunc(d);
        return;
    }
    size_t len = sift_load_le16(h + 2);
    if (h[0] != 0 || len < 8 || !sift_cur_take(&c, len - 8)) {
        dec_trunc(d);
        return;
    }
    if (!dec_push(d, SIFT_PROTO_RADIOTAP, h, len))
        return;
    /* The fields begin after the chain of present words. Only Flags (bit 1) matters here; it
     * follows TSFT (bit 0, 8 bytes aligned to 8). */
    uint32_t present = sift_load_le32(h + 4);
    size_t off = 8;
    for (uint32_t w = present; w & 0x80000000u; off += 4) {
        if (off + 4 > len) {
            dec_trunc(d);
            return;
        }
        w = sift_load_le32(h + off);
    }
    bool fcs = false;
    if (present & 0x2u) {
        if (present & 0x1u)
            off = ((off + 7u) & ~(size_t)7u) + 8u;
        if (off < len)
            fcs = (h[off] & 0x10) != 0;
    }
    sift__dec_80211(d, dec_span(&c), fcs);
}

void sift__dec_ppi(sift_dec_t *d, dec_span_t s_)
{
    sift_cursor_t c = dec_cur(s_);
    const uint8_t *h = sift_cur_take(&c, 8);
    if (!h) {
        dec_trunc(d);
        return;
    }
    size_t len = sift_load_le16(h + 2);
    uint32_t dlt = sift_load_le32(h + 4);
    if (h[0] != 0 || len < 8 || !sift_cur_take(&c, len - 8)) {
        dec_trunc(d);
        return;
    }
    if (!dec_push(d, SIFT_PROTO_PPI, h, len))
        return;
    if (dlt == 192) { /* PPI inside PPI does not exist */
        dec_trunc(d);
        return;
    }
    sift__dec_link(d, dlt, dec_span(&c));
}
