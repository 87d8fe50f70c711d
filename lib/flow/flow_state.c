/* Who started a flow, and its connection history and state as Zeek's conn.log gives them
 * (https://docs.zeek.org/en/master/logs/conn.html; the state from base/protocols/conn's
 * conn_state over the endpoint states of RFC 9293's handshake and close).
 *
 * A flow keeps its events in sift_flow_t.history: 4-bit entries from the low end, in the order
 * each first happened, entry = 1 + event * 2 + side (side 1: sent by key.hi). Sides are the
 * key's, not the initiator's, so a later decision on the initiator, or a merge of two ranges
 * of a file, changes nothing stored: the letters' case is given when they are read. Fourteen
 * entries at most (seven events, two sides) fit in the 64 bits.
 *
 * Differences from Zeek: each letter appears once per side (Zeek repeats S, H, F, R whose
 * sequence number changed and counts C, G, T, W logarithmically); no C (checksum), G (gap), T
 * (retransmission), I, Q; a tuple is one flow until its idle timeout, where Zeek starts a new
 * connection after a close; the port rule for the initiator is "the one port below 1024 is
 * the server's" (and DHCP's client ports, and a registered port against a dynamic one) where
 * Zeek also knows its analysers' ports.
 */
#include "common/internal.h"
#include "flow/flow_int.h"

#include <capsift/flow.h>

#include <string.h>

enum { EV_S, EV_H, EV_A, EV_D, EV_F, EV_R, EV_W, EV_COUNT };

#define TCP_FIN 0x01
#define TCP_SYN 0x02
#define TCP_RST 0x04
#define TCP_ACK 0x10

static const char letters[EV_COUNT + 1] = "SHADFRW";

static inline uint64_t hist_add(uint64_t h, unsigned entry)
{
    unsigned n = 0;
    for (uint64_t x = h; x; x >>= 4, n++)
        if ((x & 15) == entry)
            return h;
    return n < 16 ? h | (uint64_t)entry << (4 * n) : h;
}

static inline uint64_t hist_event(uint64_t h, unsigned ev, int side)
{
    return hist_add(h, 1u + ev * 2u + (unsigned)side);
}

/* Events of one TCP packet. */
static uint64_t tcp_events(uint64_t h, const sift_packet_t *pkt, int side)
{
    const uint8_t fl = pkt->tcp_flags;
    if (fl & TCP_SYN)
        h = hist_event(h, fl & TCP_ACK ? EV_H : EV_S, side);
    if (fl & TCP_FIN)
        h = hist_event(h, EV_F, side);
    if (fl & TCP_RST)
        h = hist_event(h, EV_R, side);
    if (pkt->l4_len)
        h = hist_event(h, EV_D, side);
    else if ((fl & (TCP_ACK | TCP_SYN | TCP_FIN | TCP_RST)) == TCP_ACK)
        h = hist_event(h, EV_A, side);
    if (pkt->tcp_win == 0 && !(fl & (TCP_SYN | TCP_RST)))
        h = hist_event(h, EV_W, side);
    return h;
}

/* The initiator a packet shows (strength, and whether it is key.hi), or strength FIRST. */
static unsigned evidence(const sift_packet_t *pkt, int side, uint8_t *a_is_hi)
{
    unsigned by = SIFT_FLOW_BY_FIRST;
    int sender_starts = 0;
    if (pkt->ip_proto == 6) {
        if ((pkt->tcp_flags & (TCP_SYN | TCP_ACK | TCP_RST)) == TCP_SYN)
            by = SIFT_FLOW_BY_SYN, sender_starts = 1;
        else if ((pkt->tcp_flags & (TCP_SYN | TCP_ACK | TCP_RST)) == (TCP_SYN | TCP_ACK))
            by = SIFT_FLOW_BY_REPLY;
    } else if (pkt->ip_proto == 1 || pkt->ip_proto == 58) {
        const uint8_t request = pkt->ip_proto == 1 ? 8 : 128, reply = pkt->ip_proto == 1 ? 0 : 129;
        if (pkt->icmp_type == request)
            by = SIFT_FLOW_BY_SYN, sender_starts = 1;
        else if (pkt->icmp_type == reply)
            by = SIFT_FLOW_BY_REPLY;
    }
    *a_is_hi = (uint8_t)(sender_starts ? side : !side);
    return by;
}

/* Makes the other side the initiator: the per-direction counters change places. */
static void flip(sift_flow_t *f)
{
    uint64_t p = f->packets[0], b = f->bytes[0];
    uint8_t fl = f->tcp_flags[0];
    f->packets[0] = f->packets[1];
    f->bytes[0] = f->bytes[1];
    f->tcp_flags[0] = f->tcp_flags[1];
    f->packets[1] = p;
    f->bytes[1] = b;
    f->tcp_flags[1] = fl;
    f->a_is_hi ^= 1;
}

static void orient(sift_flow_t *f, unsigned by, uint8_t a_is_hi)
{
    if (by <= (f->origin & SIFT_FLOW_BY_MASK))
        return;
    f->origin = (uint8_t)((f->origin & ~SIFT_FLOW_BY_MASK) | by);
    if (a_is_hi != f->a_is_hi)
        flip(f);
}

/* The first of the dynamic ports (RFC 6335): never assigned to a service, so of a flow between
 * a registered port (1024-49151) and a dynamic one, the registered side serves. */
#define DYNAMIC_PORTS 49152

/* Well-known ports that clients use, whose peer's well-known port is the server's: DHCP's
 * bootpc (68, to 67) and DHCPv6's client port (546, to 547). */
static bool client_port(uint16_t port)
{
    return port == 68 || port == 546;
}

void sift__flow_start(sift_flow_t *f, const sift_packet_t *pkt, int side)
{
    f->origin = side ? SIFT_FLOW_FIRST_HI : 0;
    f->vlan = pkt->vlan;
    const sift_flow_key_t *k = &f->key;
    if ((k->lo_port < 1024) != (k->hi_port < 1024)) /* the well-known port's side serves */
        orient(f, SIFT_FLOW_BY_PORT, k->lo_port < 1024);
    else if (k->lo_port != k->hi_port && (client_port(k->lo_port) || client_port(k->hi_port)))
        orient(f, SIFT_FLOW_BY_PORT, !client_port(k->lo_port)); /* DHCP: the client starts */
    else if (k->lo_port >= 1024 && (k->lo_port < DYNAMIC_PORTS) != (k->hi_port < DYNAMIC_PORTS))
        orient(f, SIFT_FLOW_BY_PORT, k->lo_port < DYNAMIC_PORTS); /* the registered port serves */
}

void sift__flow_observe(sift_flow_t *f, const sift_packet_t *pkt, int side)
{
    uint8_t a_is_hi;
    unsigned by = evidence(pkt, side, &a_is_hi);
    if (SIFT_UNLIKELY(by > (f->origin & SIFT_FLOW_BY_MASK)))
        orient(f, by, a_is_hi);
    if (pkt->ip_proto == 6)
        f->history = tcp_events(f->history, pkt, side);
    else if (pkt->ip_proto == 17 && pkt->l4_len)
        f->history = hist_event(f->history, EV_D, side);
}

void sift__flow_join(sift_flow_t *a, const sift_flow_t *b)
{
    orient(a, b->origin & SIFT_FLOW_BY_MASK, b->a_is_hi);
    for (uint64_t x = b->history; x; x >>= 4)
        a->history = hist_add(a->history, (unsigned)(x & 15));
}

bool sift__flow_history_valid(uint64_t h)
{
    unsigned seen = 0;
    for (; h; h >>= 4) {
        unsigned e = (unsigned)(h & 15);
        if (e == 0 || e > 2 * EV_COUNT || (seen & (1u << e)))
            return false; /* a gap, an unknown event, or one twice */
        seen |= 1u << e;
    }
    return true;
}

/* ---- reading ---- */

/* Events sent by the initiator (who = 0) or the responder (who = 1), as a bit mask. */
static unsigned sent_by(const sift_flow_t *f, int who)
{
    const unsigned side = (unsigned)(f->a_is_hi ^ who);
    unsigned m = 0;
    for (uint64_t x = f->history; x; x >>= 4)
        if (((x & 15) - 1) % 2 == side)
            m |= 1u << (((x & 15) - 1) / 2);
    return m;
}

size_t sift_flow_history(const sift_flow_t *f, char *buf, size_t size)
{
    char s[SIFT_FLOW_HISTORY_MAX];
    size_t n = 0;
    if (f->key.proto == 6 || f->key.proto == 17) {
        if (f->history && ((f->origin & SIFT_FLOW_FIRST_HI) != 0) != (f->a_is_hi != 0))
            s[n++] = '^';
        for (uint64_t x = f->history; x; x >>= 4) {
            unsigned e = (unsigned)(x & 15) - 1;
            char c = letters[e / 2];
            s[n++] = (e % 2) == f->a_is_hi ? c : (char)(c - 'A' + 'a');
        }
    }
    s[n] = '\0';
    if (size) {
        size_t m = n < size - 1 ? n : size - 1;
        memcpy(buf, s, m);
        buf[m] = '\0';
    }
    return n;
}

enum { EP_INACTIVE, EP_SYN_SENT, EP_SYN_ACK_SENT, EP_PARTIAL, EP_ESTABLISHED, EP_CLOSED, EP_RESET };

#define BIT(ev) (1u << (ev))

/* An endpoint's TCP state from what it and its peer sent. */
static int endpoint(unsigned m, unsigned peer)
{
    if (m & BIT(EV_R))
        return EP_RESET;
    if (m & BIT(EV_F))
        return EP_CLOSED;
    if (m & BIT(EV_S))
        return (peer & BIT(EV_H)) && (m & (BIT(EV_A) | BIT(EV_D))) ? EP_ESTABLISHED : EP_SYN_SENT;
    if (m & BIT(EV_H))
        return (peer & BIT(EV_S)) && (peer & (BIT(EV_A) | BIT(EV_D))) ? EP_ESTABLISHED
                                                                      : EP_SYN_ACK_SENT;
    return m ? EP_PARTIAL : EP_INACTIVE;
}

/* Zeek's RSTOS0 test on the history: /^\^?S[^HAFGIQ]*R/ */
static bool syn_then_reset(const char *h)
{
    if (*h == '^')
        h++;
    if (*h++ != 'S')
        return false;
    for (; *h && !strchr("HAFGIQ", *h); h++)
        if (*h == 'R')
            return true;
    return false;
}

static const char *tcp_state(const sift_flow_t *f)
{
    const unsigned om = sent_by(f, 0), rm = sent_by(f, 1);
    const int os = endpoint(om, rm), rs = endpoint(rm, om);
    const bool o_inactive = os == EP_INACTIVE || os == EP_PARTIAL;
    const bool r_inactive = rs == EP_INACTIVE || rs == EP_PARTIAL;
    if (rs == EP_RESET) {
        bool no_data = !((om | rm) & BIT(EV_D));
        if (os == EP_SYN_SENT || os == EP_SYN_ACK_SENT || (os == EP_RESET && no_data))
            return "REJ";
        return o_inactive ? "RSTRH" : "RSTR";
    }
    if (os == EP_RESET) {
        if (!r_inactive)
            return "RSTO";
        char h[SIFT_FLOW_HISTORY_MAX];
        sift_flow_history(f, h, sizeof h);
        return syn_then_reset(h) ? "RSTOS0" : "OTH";
    }
    if (rs == EP_CLOSED && os == EP_CLOSED)
        return "SF";
    if (os == EP_CLOSED)
        return r_inactive ? "SH" : "S2";
    if (rs == EP_CLOSED)
        return o_inactive ? "SHR" : "S3";
    if (os == EP_SYN_SENT && rs == EP_INACTIVE)
        return "S0";
    if (os == EP_ESTABLISHED && rs == EP_ESTABLISHED)
        return "S1";
    return "OTH";
}

const char *sift_flow_state(const sift_flow_t *f)
{
    if (f->key.proto == 6)
        return tcp_state(f);
    if (f->key.proto == 17) {
        bool o = f->packets[SIFT_FLOW_AB] != 0, r = f->packets[SIFT_FLOW_BA] != 0;
        return o ? (r ? "SF" : "S0") : (r ? "SHR" : "OTH");
    }
    return "OTH";
}
