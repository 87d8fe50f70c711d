/* capsift: flows (bidirectional conversations), the flow table and the `flows` pass.
 *
 * A flow is one bidirectional 5-tuple (the two addresses, the two ports, the IP protocol and,
 * optionally, the outermost VLAN id) with its first and last timestamp, packets and bytes in
 * each direction, the union of TCP flags per direction and the application protocol found by
 * nDPI. Both directions of a conversation map to one entry; the side that sent the first packet
 * seen is the initiator "a", the other side is "b".
 *
 * The table is open addressing with linear probing over 8-byte slots (a hash tag and an index)
 * that point into a dense array of flows; keys are hashed with XXH3. Memory grows with the
 * number of flows, never with packets, and is capped by max_flows: past it no flow is added and
 * the packets that would have started or continued one are counted as dropped. With an idle
 * timeout, a tuple silent for longer than the timeout starts a new flow, and flows idle past it
 * are moved out of the table as the capture advances, so the table holds only active flows.
 *
 *   sift_flows_config_t cfg = {.table = {.idle_timeout_ns = 60 * SIFT_FLOW_NS_PER_S}};
 *   int p = sift_engine_add_pass(engine, &sift_flows_pass, &cfg);
 *   ... sift_engine_run ...
 *   const sift_flows_t *s = sift_engine_state(engine, i, p);
 *   for (size_t k = 0; k < sift_flows_count(s); k++) use(sift_flows_at(s, k));
 *
 * Thread safety: a table or a pass state is used by one thread at a time. The functions that
 * take a const state only read it.
 */
#ifndef CAPSIFT_FLOW_H
#define CAPSIFT_FLOW_H

#include <capsift/engine.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define SIFT_FLOW_NS_PER_S    1000000000LL
#define SIFT_FLOW_DEFAULT_MAX 10000000u /* flows held at once without a memory budget */
/* Bytes one flow may take at most in a table: the flow (128), its slots at a load of 1/4 to
 * 1/2, and the dense array just after it doubled, 2 * 128 + 4 * 8 (passes built on flows add
 * theirs); with application detection also nDPI's per-flow state (688 bytes in libndpi 4.x)
 * while the flow is being classified. bench/bench_memory.sh measures them. */
#define SIFT_FLOW_BYTES           288u
#define SIFT_FLOW_APP_BYTES       1024u
#define SIFT_FLOW_APP_MAX_PACKETS 24 /* packets per flow given to nDPI at most */

/* Direction indexes of the per-direction counters. */
#define SIFT_FLOW_AB 0 /* initiator to responder */
#define SIFT_FLOW_BA 1 /* responder to initiator */

/* The normalised key: the endpoint (address, port) that compares lower is `lo`, so both
 * directions give the same key. Every byte is defined (no padding), so keys compare with memcmp
 * and hash as 40 bytes. */
typedef struct sift_flow_key {
    uint8_t lo[16]; /* IPv4 as ::ffff:a.b.c.d */
    uint8_t hi[16];
    uint16_t lo_port, hi_port; /* 0 for protocols without ports and non-first fragments */
    uint16_t vlan;             /* outermost VLAN id when the table keys on it, else 0 */
    uint8_t proto;             /* IP protocol */
    uint8_t ip_version;        /* 4 or 6 */
} sift_flow_key_t;

/* Application detection state of a flow. */
#define SIFT_FLOW_APP_OFF  0 /* detection off (or the flow is not TCP/UDP) */
#define SIFT_FLOW_APP_BUSY 1 /* packets are still going to the detector */
#define SIFT_FLOW_APP_DONE 2 /* app_master/app_id are final */

/* One flow. In a table, a pointer to a flow is valid until the next call that adds to or
 * merges into that table. */
typedef struct sift_flow {
    sift_flow_key_t key;
    int64_t first_ns, last_ns; /* timestamps of the first and last packet */
    uint64_t packets[2];       /* [SIFT_FLOW_AB], [SIFT_FLOW_BA] */
    uint64_t bytes[2];         /* bytes on the wire (the record's wire length) */
    uint32_t input;            /* input (file) index of the first packet */
    uint16_t app_master;       /* nDPI protocol ids: e.g. TLS . YouTube; 0 unknown */
    uint16_t app_id;
    uint8_t tcp_flags[2]; /* union of TCP flag bytes per direction */
    uint8_t a_is_hi;      /* the initiator is key.hi (else key.lo): see origin */
    uint8_t app_state;    /* SIFT_FLOW_APP_* */
    uint8_t app_packets;  /* packets given to the detector so far */
    uint8_t origin;       /* how the initiator was decided (SIFT_FLOW_BY_*) | SIFT_FLOW_FIRST_HI */
    uint16_t vlan;        /* outermost VLAN id of the first packet, 0 when untagged (whether or
                           * not the table keys on it) */
    uint64_t history;     /* TCP and UDP events in the order they first happened (internal:
                           * read with sift_flow_history and sift_flow_state) */
    void *detect;         /* the detector's per-flow state while app_state is BUSY (internal) */
    void *replay;         /* internal: offsets of its first packets, kept by a range after a file's
                           * first until the merge (see pass_flows.c) */
} sift_flow_t;

/* Who started a flow. The initiator is decided by the strongest evidence seen, the first of
 * equal strength: the sender of a SYN without ACK (or of an ICMP echo request); else the
 * receiver of a SYN+ACK (or of an echo reply); else, when one port only is below 1024, the
 * other side (the well-known port is the server's), or the side of DHCP's client port (68 or
 * 546, when the other port is also below 1024), or when both are 1024 or above and one only is
 * below 49152, that registered port's side serves (RFC 6335: the dynamic ports above it are never
 * a service's); else the first packet's sender. So a flow
 * captured mid-stream is still oriented client to server. */
#define SIFT_FLOW_BY_FIRST 0 /* the first packet's sender */
#define SIFT_FLOW_BY_PORT                                                                          \
    1                        /* by the ports: well-known or registered serves, DHCP client starts  \
                              */
#define SIFT_FLOW_BY_REPLY 2 /* the receiver of a SYN+ACK or an ICMP echo reply */
#define SIFT_FLOW_BY_SYN   3 /* the sender of a SYN (no ACK) or an ICMP echo request */
#define SIFT_FLOW_BY_MASK  3
#define SIFT_FLOW_FIRST_HI 4 /* origin bit: the first packet came from key.hi */

/* Zeek's connection history of a TCP or UDP flow, oriented to the initiator: upper case for
 * the initiator's packets, lower case for the responder's, each letter once per side in the
 * order first seen: S a SYN without ACK, H a SYN+ACK, A a pure ACK, D a payload, F a FIN, R a
 * RST, W a zero window; '^' first when the initiator is not the first packet's sender. UDP
 * flows have D and d only. Writes a NUL-terminated string into buf (16 bytes are always
 * enough) and returns its length; "" for other protocols. */
#define SIFT_FLOW_HISTORY_MAX 16
SIFT_API size_t sift_flow_history(const sift_flow_t *f, char *buf, size_t size);

/* Zeek's connection state of a TCP or UDP flow from the same events ("S0", "S1", "SF", "REJ",
 * "S2", "S3", "RSTO", "RSTR", "RSTOS0", "RSTRH", "SH", "SHR", "OTH"); "OTH" for other
 * protocols. A static string. */
SIFT_API const char *sift_flow_state(const sift_flow_t *f);

/* The bytes a table keeps after each flow for passes built on flows (opts.ext_bytes). */
static inline void *sift_flow_ext(const sift_flow_t *f)
{
    return (unsigned char *)(uintptr_t)f + sizeof(sift_flow_t);
}

/* The initiator's and the responder's address and port. */
static inline const uint8_t *sift_flow_addr_a(const sift_flow_t *f)
{
    return f->a_is_hi ? f->key.hi : f->key.lo;
}
static inline const uint8_t *sift_flow_addr_b(const sift_flow_t *f)
{
    return f->a_is_hi ? f->key.lo : f->key.hi;
}
static inline uint16_t sift_flow_port_a(const sift_flow_t *f)
{
    return f->a_is_hi ? f->key.hi_port : f->key.lo_port;
}
static inline uint16_t sift_flow_port_b(const sift_flow_t *f)
{
    return f->a_is_hi ? f->key.lo_port : f->key.hi_port;
}

typedef struct sift_flow_table_opts {
    uint64_t max_flows;      /* flows held at once (active and finished); 0: the default */
    int64_t idle_timeout_ns; /* 0: none, a tuple is one flow however long it is silent */
    bool vlan_in_key;        /* the outermost VLAN id is part of the key */
    size_t ext_bytes;        /* bytes kept after each flow (sift_flow_ext), zeroed when it starts;
                              * rounded up to a multiple of 8 */
} sift_flow_table_opts_t;

/* Called for a flow about to leave the table's active set (idle, or at release/merge); it may
 * change the flow (e.g. settle its application). */
typedef void (*sift_flow_finish_fn)(void *user, sift_flow_t *f);
/* Called instead of keeping a finished flow, when set. */
typedef void (*sift_flow_emit_fn)(void *user, const sift_flow_t *f);
/* Merging: b (a later chunk's part of the same flow) is joined to a; counters are added
 * already, the hook joins what the ext bytes hold. b is released afterwards (drop). */
typedef void (*sift_flow_join_fn)(void *user, sift_flow_t *a, sift_flow_t *b);
/* A record's ext bytes are discarded (release, emit): free what they own. */
typedef void (*sift_flow_drop_fn)(void *user, sift_flow_t *f);

/* The table. A caller-owned struct: sift_flow_table_init/_release. Fields are read-only for
 * users except the callbacks and their user pointers, which the owner sets after init.
 * Records (a flow and its ext bytes) are `stride` bytes apart: use the accessors. */
typedef struct sift_flow_table {
    sift_flow_table_opts_t opts;
    size_t stride;
    uint64_t *slots;      /* tag << 32 | (index + 1); 0 is empty */
    size_t mask;          /* number of slots - 1 */
    unsigned char *flows; /* active flow records, dense */
    size_t count, cap;
    unsigned char *done; /* finished flow records (idle timeout), in the order they finished */
    size_t ndone, done_cap;
    uint64_t emitted;         /* finished flows handed to emit instead of kept */
    uint64_t dropped_packets; /* packets not placed because max_flows was reached */
    bool full;                /* max_flows was reached */
    int64_t sweep_ns;         /* capture time of the last sweep of idle flows */
    uint64_t since_sweep;     /* packets since then */
    int oom;                  /* an allocation failed: some flows were not added */
    sift_flow_finish_fn finish;
    void *finish_user;
    sift_flow_emit_fn emit;
    void *emit_user;
    sift_flow_join_fn join;
    sift_flow_drop_fn drop;
    void *hook_user; /* of join and drop */
} sift_flow_table_t;

SIFT_API int sift_flow_table_init(sift_flow_table_t *t, const sift_flow_table_opts_t *opts);
/* Finishes (finish callback) and frees everything. NULL or a zeroed struct is fine. */
SIFT_API void sift_flow_table_release(sift_flow_table_t *t);

/* Builds the key of a packet. *dir is 0 when the packet goes from key.lo to key.hi, 1 when from
 * hi to lo. Returns false for a packet without an IP layer (no flow). */
SIFT_API bool sift_flow_key_make(sift_flow_key_t *k, int *dir, const sift_packet_t *pkt,
                                 bool vlan_in_key);
/* The layer-2 key of a packet without an IP layer (see sift_flows_config_t.layer2): false when
 * it has no Ethernet header (802.11, Linux cooked, a link type not decoded). */
SIFT_API bool sift_flow_key_make_l2(sift_flow_key_t *k, int *dir, const sift_packet_t *pkt,
                                    bool vlan_in_key);

/* The flow of a packet with key k going in direction dir (of sift_flow_key_make) at ts_ns:
 * found, or started when absent (or idle past the timeout: the old one is finished). A new flow
 * has zero counters, first_ns = last_ns = ts_ns and its initiator set from dir; the caller
 * adds the packet's counters. *pdir receives the direction relative to the initiator
 * (SIFT_FLOW_AB or SIFT_FLOW_BA). Returns NULL when the flow would be new and max_flows is
 * reached (the packet is counted in dropped_packets) or memory ran out (oom is set). */
SIFT_API sift_flow_t *sift_flow_table_get(sift_flow_table_t *t, const sift_flow_key_t *k, int dir,
                                          int64_t ts_ns, int *pdir);

/* The active flow with key k, or NULL. */
SIFT_API const sift_flow_t *sift_flow_table_find(const sift_flow_table_t *t,
                                                 const sift_flow_key_t *k);

/* Moves every active flow idle at ts_ns for longer than the timeout to the finished list (or
 * emit). Done automatically as packets arrive; call it to flush at a known time. */
SIFT_API void sift_flow_table_expire(sift_flow_table_t *t, int64_t ts_ns);

/* Adds the flows of `from`, which cover packets after those of `into` (the next chunk of the
 * same file, or the next file). A flow of `from` whose key is active in `into` continues it
 * (counters add, times take min/max, flags OR, then the join hook; the initiator and
 * application of `into` stay), unless the gap between them exceeds the idle timeout. Other
 * flows of `from` move to `into` with their detector state and ext bytes (from keeps zeroes).
 * Both tables need the same ext_bytes. Returns 0, SIFT_ENOMEM or SIFT_EINVAL. */
SIFT_API int sift_flow_table_merge(sift_flow_table_t *into, sift_flow_table_t *from);

/* Flows held (finished first, then active) and the i-th of them. */
SIFT_API size_t sift_flow_table_count(const sift_flow_table_t *t);
SIFT_API const sift_flow_t *sift_flow_table_at(const sift_flow_table_t *t, size_t i);

/* The i-th active flow (NULL past count), and the index of an active flow. */
SIFT_API sift_flow_t *sift_flow_table_active(const sift_flow_table_t *t, size_t i);
SIFT_API size_t sift_flow_table_index(const sift_flow_table_t *t, const sift_flow_t *f);

/* Bytes the table holds (slots and flow arrays). */
SIFT_API size_t sift_flow_table_memory(const sift_flow_table_t *t);

/* ---- the flows pass ---- */

typedef struct sift_flows_config {
    sift_flow_table_opts_t table;
    bool no_app;              /* no application detection (then needs is TRANSPORT) */
    unsigned app_max_packets; /* packets per flow given to nDPI; 0: SIFT_FLOW_APP_MAX_PACKETS */
    /* When set, each finished flow is handed to emit (from worker threads: concurrently for
     * different inputs) instead of being kept, so memory follows the active flows only. */
    void (*emit)(void *user, const sift_flow_t *f);
    void *emit_user;
    /* Packets without an IP layer but with an Ethernet header (ARP, LLDP, STP, GOOSE,
     * PROFINET ...) make layer-2 flows: key.ip_version 0, the two MAC addresses in the first 6
     * bytes of lo and hi, both ports the EtherType, or the 802.2 LLC DSAP with key.proto 1
     * (0 for an EtherType); the VLAN as for IP flows. As tshark -z conv,eth, by EtherType. */
    bool layer2;
} sift_flows_config_t;

#define SIFT_FLOW_APP_NAME_MAX 32

/* The state of the flows pass, as sift_engine_state gives it: opaque, read with the accessors
 * below. */
typedef struct sift_flows sift_flows_t;

/* A state's counters. Fields are only ever added at the end. */
typedef struct sift_flows_summary {
    uint64_t packets;         /* every packet seen */
    uint64_t ip_packets;      /* with an IP layer (placed in a flow, or dropped) */
    uint64_t non_ip_packets;  /* without: ARP, other network layers, undecodable */
    uint64_t flows;           /* held: finished and active (sift_flows_count) */
    uint64_t active;          /* of which still active (an idle timeout finishes the others) */
    uint64_t emitted;         /* finished flows handed to config->emit instead of kept */
    uint64_t dropped_packets; /* packets of flows past max_flows, not counted */
    bool full;                /* max_flows was reached */
    bool app;                 /* application detection on */
    size_t memory;            /* bytes the flow table holds */
} sift_flows_summary_t;

SIFT_API void sift_flows_summary(const sift_flows_t *s, sift_flows_summary_t *out);

/* Packets in no flow, by why: what their network layer was instead of IP. */
typedef enum sift_unplaced_kind {
    SIFT_UNPLACED_ETHERTYPE = 1, /* a link layer with this EtherType (ARP, LLDP, GOOSE ...) */
    SIFT_UNPLACED_LLC,           /* 802.2 LLC without an EtherType: value is the DSAP (STP...) */
    SIFT_UNPLACED_LINKTYPE,      /* a link type the decoder does not read: value is its number */
    SIFT_UNPLACED_WLAN,          /* 802.11: value 0 management or control, 1 encrypted data */
    SIFT_UNPLACED_DAMAGED,       /* a header before the IP layer was cut or damaged (value 0) */
    SIFT_UNPLACED_OTHER          /* any other kind, past what a state keeps apart (value 0) */
} sift_unplaced_kind_t;

typedef struct sift_unplaced {
    sift_unplaced_kind_t kind;
    uint32_t value;
    uint64_t packets;
} sift_unplaced_t;

/* Kinds a state keeps apart (by kind, then value: the smallest); the others are counted
 * together as SIFT_UNPLACED_OTHER, so the answer does not depend on how a file was split. */
#define SIFT_FLOWS_UNPLACED_MAX 16

/* The packets of s in no flow (non_ip_packets in all), by kind and value in that order: up to
 * SIFT_FLOWS_UNPLACED_MAX + 1 entries into out (max of them at most); returns how many. */
SIFT_API size_t sift_flows_unplaced(const sift_flows_t *s, sift_unplaced_t *out, size_t max);

/* The pass. Its needs is SIFT_NEED_APP; with config->no_app use a copy with needs set to
 * sift_flows_needs(config). The config is required (NULL means defaults). */
SIFT_API extern const sift_pass_t sift_flows_pass;
SIFT_API sift_need_t sift_flows_needs(const sift_flows_config_t *config);

/* The max_flows that keeps one flow table within `bytes` (at least 1000). Thread-safe. */
SIFT_API uint64_t sift_flows_max_for_memory(uint64_t bytes, bool app);

/* Ends application detection on a state that will see no more packets: flows still being
 * classified get nDPI's give-up verdict, as at a merge. The engine does it (the pass's finish)
 * on every input's final state; this is for states fed without the engine. */
SIFT_API void sift_flows_settle(sift_flows_t *s);

/* Flows of a state: finished first, then active. Pointers valid while the state is. */
SIFT_API size_t sift_flows_count(const sift_flows_t *s);
SIFT_API const sift_flow_t *sift_flows_at(const sift_flows_t *s, size_t i);

/* The application protocol name of a flow: "TLS.YouTube", "DNS", "Unknown" (detection found
 * nothing) or "" (detection off). Writes into buf and returns it. */
SIFT_API const char *sift_flows_app_name(const sift_flows_t *s, const sift_flow_t *f, char *buf,
                                         size_t size);

/* The nDPI name of one protocol id; "" when unknown to the state. */
SIFT_API const char *sift_flows_proto_name(const sift_flows_t *s, uint16_t id);

/* Formats TCP flags as letters, those set, in the order S A F P R U E C (SYN ACK FIN PSH RST
 * URG ECE CWR): "SAF"; "" for none. */
SIFT_API const char *sift_flow_tcp_flags_str(uint8_t flags, char *buf, size_t size);

#ifdef __cplusplus
}
#endif
#endif
