/* Internal interface of lib/flow: the application detector (nDPI) wrapper, and the fields of
 * a metadata row that name its flow. Not installed. */
#ifndef SIFT_FLOW_INT_H
#define SIFT_FLOW_INT_H

#include <capsift/flow.h>
#include <capsift/metapass.h>

#include <string.h>

/* r zeroed, then the fields that name f: its initiator's and responder's address and port,
 * protocol, VLAN and first time (the metadata pass's rows, and the index's). */
static inline void sift__meta_row_of_flow(sift_meta_row_t *r, const sift_flow_t *f)
{
    memset(r, 0, sizeof *r);
    r->ip_version = f->key.ip_version;
    r->ip_proto = f->key.proto;
    memcpy(r->src, sift_flow_addr_a(f), 16);
    memcpy(r->dst, sift_flow_addr_b(f), 16);
    r->sport = sift_flow_port_a(f);
    r->dport = sift_flow_port_b(f);
    r->vlan = f->vlan;
    r->flow_first_ns = f->first_ns;
}

/* Protocol ids below this get a name slot in sift_flows_t.app_names (nDPI's NDPI_NUM_BITS). */
#define SIFT__APP_NAMES 512

/* A detection module (NULL when it cannot be set up), and its release. nDPI modules are not
 * thread-safe: one thread uses a module at a time. */
void *sift__app_module_new(void);
void sift__app_module_free(void *mod);

/* The calling thread's own module, set up on first use and freed when the thread ends: for
 * states used without an engine, which lends its workers' modules. */
void *sift__app_module(void);

/* Whether a packet would count toward a flow's max_packets (the detector sees it). */
bool sift__app_counts(const sift_packet_t *pkt);

/* Gives one packet of flow f to the detector. Returns true when f's application is settled
 * (found, or given up after max_packets): its detector state is then freed. */
bool sift__app_packet(void *mod, sift_flow_t *f, const sift_packet_t *pkt, unsigned max_packets);

/* Settles a flow still being classified (nDPI's give-up) and frees its detector state. */
void sift__app_giveup(void *mod, sift_flow_t *f);

/* Frees a flow's detector state without settling it. */
void sift__app_flow_free(sift_flow_t *f);

/* The nDPI name of a protocol id (static within the module). */
const char *sift__app_proto_name(void *mod, uint16_t id);

/* The DSAP of a packet's innermost 802.2 LLC header (what a frame without an EtherType
 * carries), -1 without one. */
static inline int sift__llc_dsap(const sift_packet_t *pkt)
{
    for (size_t i = pkt->nlayers; i-- > 0;)
        if (pkt->layers[i].proto == SIFT_PROTO_LLC)
            return pkt->layers[i].offset < pkt->rec->caplen ? pkt->rec->data[pkt->layers[i].offset]
                                                            : -1;
    return -1;
}

/* Who started a flow and what happened in it (flow_state.c). side: the packet's sender is
 * key.hi (dir of sift_flow_key_make). start sets a new flow's origin, VLAN and the port rule;
 * observe takes one packet's evidence and events (it may make the other side the initiator,
 * swapping the per-direction counters); join adds b's, a later part of the same flow, to a
 * before b's counters are added. */
void sift__flow_start(sift_flow_t *f, const sift_packet_t *pkt, int side);
void sift__flow_observe(sift_flow_t *f, const sift_packet_t *pkt, int side);
void sift__flow_join(sift_flow_t *a, const sift_flow_t *b);
/* Whether a stored history is one these functions could have made (a loaded cache entry). */
bool sift__flow_history_valid(uint64_t h);

/* ---- the flow stage, for the engine ---- */

/* The state of the flows pass (opaque to users: sift_flows_summary and the accessors). */
struct sift_flows {
    sift_flow_table_t table;
    uint64_t packets;        /* every packet seen */
    uint64_t ip_packets;     /* with an IP layer (placed in a flow, or dropped) */
    uint64_t non_ip_packets; /* without: ARP, other network layers, undecodable */
    uint64_t unplaced[SIFT_FLOWS_UNPLACED_MAX][2]; /* those by key (kind << 32 | value) and
                                                    * count: the smallest keys, in order */
    size_t nunplaced;
    uint64_t unplaced_other; /* the packets of larger keys */
    bool app;                /* application detection on */
    bool layer2;             /* packets without IP but with Ethernet make layer-2 flows */
    unsigned app_max_packets;
    void *detector;                            /* internal: the nDPI module, created on first use */
    char (*app_names)[SIFT_FLOW_APP_NAME_MAX]; /* internal: names by nDPI id */
    struct sift_flows *self; /* internal: lets merge settle a const `from` (see pass_flows.c) */
    int64_t last_ts_ns;      /* internal: the latest record timestamp, given to records that
                              * carry none (pcapng simple packets, out-of-range times) */
    const sift_flow_t *last; /* the flow of the latest packet (NULL: it had none), valid until
                              * the next packet: for passes built on this one */
    uint8_t last_dir;        /* its direction (SIFT_FLOW_AB or SIFT_FLOW_BA) */
    bool record;             /* internal: a later range, keeping first packets' offsets */
    const struct sift_flow_user *users; /* internal: passes keeping bytes per flow (engine) */
    size_t nusers;
    struct sift_flows_pending *pending; /* internal: flows to continue after a merge */
    size_t npending, pending_cap;
};

/* A pass's bytes in each flow record, at offset in the ext bytes. */
typedef struct sift_flow_user {
    size_t offset;
    void (*join)(void *into, const void *from);
    void (*release)(void *bytes);
} sift_flow_user_t;

/* Lays out a fresh state's records for the passes built on it (users stay valid while the
 * state is used), says whether it reads a range after its file's first, and lends it a
 * detection module (NULL: the thread's own) for as long as it is used. */
int sift__flows_attach(sift_flows_t *s, const sift_flow_user_t *users, size_t nusers,
                       size_t ext_bytes, bool later_range, void *mod);

/* Reads the packet at a record offset of the input being merged, decoded for the run. */
typedef int (*sift_flows_fetch_fn)(void *user, uint64_t offset, const sift_packet_t **pkt);

/* Merges the state of the next range of the same input: flows cut by the boundary are joined
 * and their detection continued over b's first packets, read again through fetch (NULL: they
 * stay unsettled). b keeps nothing it gave a. mod (NULL: a's own) is the calling thread's
 * module, which a uses from then on. */
int sift__flows_merge_ranges(sift_flows_t *a, sift_flows_t *b, sift_flows_fetch_fn fetch,
                             void *user, void *mod);

/* Puts a flow back into a table, as the result cache loads it: after the finished flows
 * (active false) or as an active one (true, a key not active yet), its ext bytes zeroed and
 * nothing of the detector's. Returns 0, SIFT_ENOMEM, or SIFT_ECORRUPT for a second active
 * flow with one key. */
int sift__flow_table_restore(sift_flow_table_t *t, const sift_flow_t *f, bool active);

/* The version of the detection library: a cached result holds its answers. */
const char *sift__app_version(void);

/* Whether a pass is the flows pass (the flow stage). */
bool sift__flows_is(const sift_pass_t *p);

#endif
