/* The flow table: open addressing with linear probing over 8-byte slots.
 *
 * A slot holds the high 32 bits of the key's XXH3 hash (the tag) and the index + 1 of the flow
 * in a dense array (0 marks an empty slot). Probing compares tags first, so a full key compare
 * happens almost only on the right flow; the dense array keeps iteration, sorting and merging
 * cheap. The load factor stays at or under 1/2. Removal (idle flows) compacts the dense array
 * and rebuilds the slots, which is O(flows) and only happens in sweeps that are themselves
 * spaced by at least `timeout` of capture time and count/8 packets, so it is amortised O(1)
 * per packet.
 */
#include "common/cursor.h"
#include "common/internal.h"
#include "flow/flow_int.h"

#include <capsift/flow.h>

#include <stdlib.h>
#include <string.h>

/* XXH3 inlined: for a 40-byte key the call overhead is a good part of the hash */
#define XXH_INLINE_ALL
#include <xxhash.h>

_Static_assert(sizeof(sift_flow_key_t) == 40, "the key has no padding");

#define MIN_SLOTS 1024u

/* Records are a flow followed by the bytes passes keep per flow (opts.ext_bytes), `stride`
 * bytes each. */
static inline sift_flow_t *rec_at(const sift_flow_table_t *t, unsigned char *base, size_t i)
{
    return (sift_flow_t *)(void *)(base + i * t->stride);
}

static inline void rec_copy(const sift_flow_table_t *t, sift_flow_t *to, const sift_flow_t *from)
{
    memcpy(to, from, t->stride);
}

static uint64_t key_hash(const sift_flow_key_t *k)
{
    return XXH3_64bits(k, sizeof *k);
}

/* Keys are 40 bytes without padding: five 8-byte words. */
static inline bool key_eq(const sift_flow_key_t *a, const sift_flow_key_t *b)
{
    uint64_t x[5], y[5];
    memcpy(x, a, sizeof x);
    memcpy(y, b, sizeof y);
    return ((x[0] ^ y[0]) | (x[1] ^ y[1]) | (x[2] ^ y[2]) | (x[3] ^ y[3]) | (x[4] ^ y[4])) == 0;
}

static uint64_t max_flows(const sift_flow_table_t *t)
{
    return t->opts.max_flows ? t->opts.max_flows : SIFT_FLOW_DEFAULT_MAX;
}

int sift_flow_table_init(sift_flow_table_t *t, const sift_flow_table_opts_t *opts)
{
    memset(t, 0, sizeof *t);
    if (opts)
        t->opts = *opts;
    if (t->opts.idle_timeout_ns < 0)
        t->opts.idle_timeout_ns = 0;
    t->opts.ext_bytes = (t->opts.ext_bytes + 7) & ~(size_t)7;
    t->stride = sizeof(sift_flow_t) + t->opts.ext_bytes;
    t->sweep_ns = INT64_MIN;
    return 0;
}

static void finish_flow(sift_flow_table_t *t, sift_flow_t *f)
{
    if (t->finish)
        t->finish(t->finish_user, f);
    f->detect = NULL;
}

void sift_flow_table_release(sift_flow_table_t *t)
{
    if (!t)
        return;
    for (size_t i = 0; i < t->count; i++)
        finish_flow(t, rec_at(t, t->flows, i));
    for (size_t i = 0; t->drop && i < t->ndone; i++)
        t->drop(t->hook_user, rec_at(t, t->done, i));
    for (size_t i = 0; t->drop && i < t->count; i++)
        t->drop(t->hook_user, rec_at(t, t->flows, i));
    free(t->slots);
    free(t->flows);
    free(t->done);
    t->slots = NULL;
    t->flows = t->done = NULL;
    t->count = t->cap = t->ndone = t->done_cap = 0;
    t->mask = 0;
}

/* memcmp order of two 16-byte addresses, inline: a libc memcmp call here was 7% of a stats
 * run (perf); two big-endian word compares give the same order. */
static inline int addr_cmp(const uint8_t a[16], const uint8_t b[16])
{
    uint64_t x = sift_load_be64(a), y = sift_load_be64(b);
    if (x == y) {
        x = sift_load_be64(a + 8);
        y = sift_load_be64(b + 8);
    }
    return (x > y) - (x < y);
}

bool sift_flow_key_make(sift_flow_key_t *k, int *dir, const sift_packet_t *pkt, bool vlan_in_key)
{
    if (!(pkt->flags & SIFT_PKT_L3))
        return false;
    uint16_t sp = pkt->sport, dp = pkt->dport;
    if (!(pkt->flags & SIFT_PKT_L4))
        sp = dp = 0;
    int c = addr_cmp(pkt->src, pkt->dst);
    int swap = c > 0 || (c == 0 && sp > dp);
    if (swap) {
        memcpy(k->lo, pkt->dst, 16);
        memcpy(k->hi, pkt->src, 16);
        k->lo_port = dp;
        k->hi_port = sp;
    } else {
        memcpy(k->lo, pkt->src, 16);
        memcpy(k->hi, pkt->dst, 16);
        k->lo_port = sp;
        k->hi_port = dp;
    }
    k->vlan = vlan_in_key ? pkt->vlan : 0;
    k->proto = pkt->ip_proto;
    k->ip_version = pkt->ip_version;
    *dir = swap;
    return true;
}

bool sift_flow_key_make_l2(sift_flow_key_t *k, int *dir, const sift_packet_t *pkt, bool vlan_in_key)
{
    const sift_layer_t *eth = NULL;
    for (size_t i = 0; i < pkt->nlayers && !eth; i++)
        if (pkt->layers[i].proto == SIFT_PROTO_ETH)
            eth = &pkt->layers[i];
    const sift_record_t *r = pkt->rec;
    if (!eth || (size_t)eth->offset + 14 > r->caplen)
        return false;
    const uint8_t *dst = r->data + eth->offset, *src = dst + 6;
    uint16_t type = pkt->ethertype;
    uint8_t kind = 0;
    int dsap = type == 0 ? sift__llc_dsap(pkt) : -1;
    if (dsap >= 0) {
        type = (uint16_t)dsap;
        kind = 1;
    }
    memset(k, 0, sizeof *k);
    int swap = memcmp(src, dst, 6) > 0;
    memcpy(k->lo, swap ? dst : src, 6);
    memcpy(k->hi, swap ? src : dst, 6);
    k->lo_port = k->hi_port = type;
    k->vlan = vlan_in_key ? pkt->vlan : 0;
    k->proto = kind;
    k->ip_version = 0;
    *dir = swap;
    return true;
}

static size_t probe(const sift_flow_table_t *t, const sift_flow_key_t *k, uint64_t h, bool *found)
{
    const uint64_t tag = h >> 32;
    size_t i = (size_t)h & t->mask;
    for (;;) {
        uint64_t s = t->slots[i];
        if (s == 0) {
            *found = false;
            return i;
        }
        if ((s >> 32) == tag) {
            const sift_flow_t *f = rec_at(t, t->flows, (uint32_t)s - 1);
            if (key_eq(&f->key, k)) {
                *found = true;
                return i;
            }
        }
        i = (i + 1) & t->mask;
    }
}

static void fill_slots(const sift_flow_table_t *t, uint64_t *slots, size_t mask)
{
    for (size_t n = 0; n < t->count; n++) {
        uint64_t h = key_hash(&rec_at(t, t->flows, n)->key); /* not kept: 8 bytes a flow saved */
        size_t i = (size_t)h & mask;
        while (slots[i])
            i = (i + 1) & mask;
        slots[i] = (h >> 32) << 32 | (uint64_t)(n + 1);
    }
}

/* Fills new slots from the dense array (nslots a power of two, > 2 * count). */
static int rebuild(sift_flow_table_t *t, size_t nslots)
{
    uint64_t *slots = calloc(nslots, sizeof *slots);
    if (!slots)
        return SIFT_ENOMEM;
    size_t mask = nslots - 1;
    fill_slots(t, slots, mask);
    free(t->slots);
    t->slots = slots;
    t->mask = mask;
    return 0;
}

/* A new record at the end of the finished list (NULL: out of memory). */
static sift_flow_t *done_next(sift_flow_table_t *t)
{
    if (t->ndone == t->done_cap) {
        size_t ncap = t->done_cap ? t->done_cap * 2 : 256;
        unsigned char *n = realloc(t->done, ncap * t->stride);
        if (!n)
            return NULL;
        t->done = n;
        t->done_cap = ncap;
    }
    return rec_at(t, t->done, t->ndone++);
}

static int push_done(sift_flow_table_t *t, const sift_flow_t *f)
{
    if (t->emit) {
        t->emit(t->emit_user, f);
        t->emitted++;
        if (t->drop)
            t->drop(t->hook_user, (sift_flow_t *)(uintptr_t)f);
        return 0;
    }
    sift_flow_t *r = done_next(t);
    if (!r)
        return SIFT_ENOMEM;
    rec_copy(t, r, f);
    return 0;
}

static bool idle(const sift_flow_table_t *t, const sift_flow_t *f, int64_t ts_ns)
{
    return t->opts.idle_timeout_ns > 0 && ts_ns > f->last_ns &&
           (uint64_t)ts_ns - (uint64_t)f->last_ns > (uint64_t)t->opts.idle_timeout_ns;
}

void sift_flow_table_expire(sift_flow_table_t *t, int64_t ts_ns)
{
    t->sweep_ns = ts_ns;
    t->since_sweep = 0;
    if (t->opts.idle_timeout_ns <= 0 || t->count == 0)
        return;
    size_t keep = 0;
    for (size_t i = 0; i < t->count; i++) {
        sift_flow_t *f = rec_at(t, t->flows, i);
        if (idle(t, f, ts_ns)) {
            finish_flow(t, f);
            if (push_done(t, f) < 0) {
                t->oom = SIFT_ENOMEM; /* the flow is lost; counted as oom */
                if (t->drop)
                    t->drop(t->hook_user, f);
            }
            continue;
        }
        if (keep != i)
            rec_copy(t, rec_at(t, t->flows, keep), f);
        keep++;
    }
    if (keep == t->count)
        return;
    t->count = keep;
    memset(t->slots, 0, (t->mask + 1) * sizeof *t->slots);
    fill_slots(t, t->slots, t->mask);
}

static void maybe_sweep(sift_flow_table_t *t, int64_t ts_ns)
{
    t->since_sweep++;
    if (t->opts.idle_timeout_ns <= 0 || ts_ns < t->sweep_ns)
        return;
    if (t->sweep_ns != INT64_MIN &&
        (uint64_t)ts_ns - (uint64_t)t->sweep_ns < (uint64_t)t->opts.idle_timeout_ns)
        return;
    if (t->since_sweep < t->count / 8)
        return;
    sift_flow_table_expire(t, ts_ns);
}

static int grow(sift_flow_table_t *t)
{
    if (t->count == t->cap) {
        size_t ncap = t->cap ? t->cap * 2 : MIN_SLOTS / 2;
        unsigned char *n = realloc(t->flows, ncap * t->stride);
        if (!n)
            return SIFT_ENOMEM;
        t->flows = n;
        t->cap = ncap;
    }
    size_t nslots = t->mask + 1;
    if (!t->slots || (t->count + 1) * 2 > nslots) {
        size_t want = t->slots ? nslots * 2 : MIN_SLOTS;
        return rebuild(t, want);
    }
    return 0;
}

/* A new active record for key k (hash h), whose probe ended at the empty slot i (any i when
 * the table has no slots yet). NULL: out of memory. */
static sift_flow_t *add_active(sift_flow_table_t *t, const sift_flow_key_t *k, uint64_t h, size_t i)
{
    if (!t->slots || (t->count + 1) * 2 > t->mask + 1 || t->count == t->cap) {
        bool found;
        if (grow(t) < 0)
            return NULL;
        i = probe(t, k, h, &found);
    }
    t->slots[i] = (h >> 32) << 32 | (uint64_t)(t->count + 1);
    return rec_at(t, t->flows, t->count++);
}

static void start_flow(const sift_flow_table_t *t, sift_flow_t *f, const sift_flow_key_t *k,
                       int dir, int64_t ts_ns)
{
    memset(f, 0, t->stride);
    f->key = *k;
    f->first_ns = f->last_ns = ts_ns;
    f->a_is_hi = (uint8_t)dir; /* dir 1: the sender is key.hi */
}

sift_flow_t *sift_flow_table_get(sift_flow_table_t *t, const sift_flow_key_t *k, int dir,
                                 int64_t ts_ns, int *pdir)
{
    maybe_sweep(t, ts_ns);
    const uint64_t h = key_hash(k);
    bool found = false;
    size_t i = t->slots ? probe(t, k, h, &found) : 0;
    if (SIFT_LIKELY(found)) {
        sift_flow_t *f = rec_at(t, t->flows, (uint32_t)t->slots[i] - 1);
        if (SIFT_UNLIKELY(idle(t, f, ts_ns))) {
            /* the tuple was silent too long: finish that flow, reuse its entry */
            finish_flow(t, f);
            if (push_done(t, f) < 0) {
                t->oom = SIFT_ENOMEM;
                return NULL;
            }
            start_flow(t, f, k, dir, ts_ns);
        }
        *pdir = dir ^ f->a_is_hi;
        return f;
    }
    if (SIFT_UNLIKELY(t->count + t->ndone >= max_flows(t))) {
        t->full = true;
        t->dropped_packets++;
        return NULL;
    }
    sift_flow_t *f = add_active(t, k, h, i);
    if (!f) {
        t->oom = SIFT_ENOMEM;
        return NULL;
    }
    start_flow(t, f, k, dir, ts_ns);
    *pdir = SIFT_FLOW_AB;
    return f;
}

const sift_flow_t *sift_flow_table_find(const sift_flow_table_t *t, const sift_flow_key_t *k)
{
    if (!t->slots)
        return NULL;
    bool found;
    size_t i = probe(t, k, key_hash(k), &found);
    return found ? rec_at(t, t->flows, (uint32_t)t->slots[i] - 1) : NULL;
}

/* Adds the counters of b (later packets) to a (earlier), then the bytes passes keep per flow
 * (the join hook). The initiator is the strongest evidence's, a's at equal strength
 * (flow_state.c); the application is a first-seen fact: a's stays (the flows pass continues
 * a's detection over b's first packets, see pass_flows.c). */
static void combine(sift_flow_table_t *t, sift_flow_t *a, sift_flow_t *b)
{
    sift__flow_join(a, b); /* b may show the initiator better (a SYN after the boundary) */
    /* b's directions are relative to its own initiator; map them onto a's */
    int flip = a->a_is_hi != b->a_is_hi;
    for (int d = 0; d < 2; d++) {
        a->packets[d] += b->packets[d ^ flip];
        a->bytes[d] += b->bytes[d ^ flip];
        a->tcp_flags[d] |= b->tcp_flags[d ^ flip];
    }
    if (b->first_ns < a->first_ns)
        a->first_ns = b->first_ns;
    if (b->last_ns > a->last_ns)
        a->last_ns = b->last_ns;
    if (t->join)
        t->join(t->hook_user, a, b);
}

/* Takes b's record into a: its detector state and ext bytes move (b keeps none of them); its
 * replay offsets, which only a merge into b's range's predecessor uses, stay with b. */
static void take(sift_flow_table_t *t, sift_flow_t *a, sift_flow_t *b)
{
    rec_copy(t, a, b);
    a->replay = NULL;
    b->detect = NULL;
    memset(sift_flow_ext(b), 0, t->opts.ext_bytes);
}

/* One flow of `from`, in per-key order of time. */
static int merge_one(sift_flow_table_t *t, sift_flow_t *b)
{
    bool found = false;
    const uint64_t h = key_hash(&b->key);
    size_t i = t->slots ? probe(t, &b->key, h, &found) : 0;
    if (found) {
        sift_flow_t *a = rec_at(t, t->flows, (uint32_t)t->slots[i] - 1);
        if (!idle(t, a, b->first_ns)) {
            combine(t, a, b);
            return 0;
        }
        finish_flow(t, a);
        if (push_done(t, a) < 0)
            return SIFT_ENOMEM;
        take(t, a, b);
        return 0;
    }
    if (t->count + t->ndone >= max_flows(t)) {
        t->full = true;
        t->dropped_packets += b->packets[0] + b->packets[1];
        return 0;
    }
    sift_flow_t *a = add_active(t, &b->key, h, i);
    if (!a)
        return SIFT_ENOMEM;
    take(t, a, b);
    return 0;
}

int sift_flow_table_merge(sift_flow_table_t *into, sift_flow_table_t *from)
{
    if (into->stride != from->stride)
        return SIFT_EINVAL;
    /* from's finished flows of one key precede its active flow of that key, so going through
     * the finished list first keeps each key's instances in time order. */
    for (size_t i = 0; i < from->ndone; i++) {
        int rc = merge_one(into, rec_at(from, from->done, i));
        if (rc < 0)
            return rc;
    }
    for (size_t i = 0; i < from->count; i++) {
        int rc = merge_one(into, rec_at(from, from->flows, i));
        if (rc < 0)
            return rc;
    }
    into->dropped_packets += from->dropped_packets;
    into->emitted += from->emitted;
    into->full = into->full || from->full;
    if (from->oom)
        into->oom = from->oom;
    return 0;
}

int sift__flow_table_restore(sift_flow_table_t *t, const sift_flow_t *f, bool active)
{
    sift_flow_t *r = NULL;
    if (!active) {
        r = done_next(t);
    } else {
        bool found = false;
        const uint64_t h = key_hash(&f->key);
        size_t i = t->slots ? probe(t, &f->key, h, &found) : 0;
        if (found)
            return SIFT_ECORRUPT;
        r = add_active(t, &f->key, h, i);
    }
    if (!r)
        return SIFT_ENOMEM;
    memset(r, 0, t->stride);
    *r = *f;
    r->detect = r->replay = NULL;
    return 0;
}

size_t sift_flow_table_count(const sift_flow_table_t *t)
{
    return t->ndone + t->count;
}

const sift_flow_t *sift_flow_table_at(const sift_flow_table_t *t, size_t i)
{
    if (i < t->ndone)
        return rec_at(t, t->done, i);
    i -= t->ndone;
    return i < t->count ? rec_at(t, t->flows, i) : NULL;
}

sift_flow_t *sift_flow_table_active(const sift_flow_table_t *t, size_t i)
{
    return i < t->count ? rec_at(t, t->flows, i) : NULL;
}

size_t sift_flow_table_index(const sift_flow_table_t *t, const sift_flow_t *f)
{
    return (size_t)((const unsigned char *)f - t->flows) / t->stride;
}

size_t sift_flow_table_memory(const sift_flow_table_t *t)
{
    return (t->slots ? (t->mask + 1) * sizeof *t->slots : 0) + (t->cap + t->done_cap) * t->stride;
}
