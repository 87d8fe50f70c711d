/* The flows pass: every IP packet into the flow table, the first packets of each flow into
 * nDPI. In an engine run it is the flow stage: passes built on flows get each packet's flow
 * and keep bytes of their own per flow (ext bytes of the table records).
 *
 * Ranges of one file: every range has its own table, and the merge joins a flow cut by a
 * boundary. Its application must be what a whole read decides, so a range after a file's
 * first keeps, per flow, the offsets of the first packets it would give the detector
 * (`replay`), and a flow still being classified at the end of the earlier range is not settled
 * there: the merge gives it the later range's first packets of the same flow, read again by
 * offset, in order, until it is settled. nDPI's verdict depends on the flow's packets alone
 * (flow_ndpi.c), so this is the whole read's verdict. Flows still being classified when the
 * file ends get nDPI's give-up verdict at the pass's finish.
 */
#include "common/internal.h"
#include "flow/flow_int.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const sift_flows_config_t default_config = {0};

/* Offsets of a flow's first packets that count toward max_packets, in a later range. */
typedef struct replay {
    uint32_t n, cap;
    uint64_t off[];
} replay_t;

/* A flow of `into` to continue over the later range's packets at offsets off. */
typedef struct sift_flows_pending {
    uint64_t off;
    size_t flow; /* index of the active flow in into */
} pending_t;

/* The state's detection module: the one its engine worker lent it, else the thread's own. */
static void *module(sift_flows_t *s)
{
    if (!s->detector)
        s->detector = sift__app_module();
    return s->detector;
}

static void remember_name(sift_flows_t *s, uint16_t id)
{
    if (id >= SIFT__APP_NAMES)
        return;
    if (!s->app_names) {
        s->app_names = calloc(SIFT__APP_NAMES, sizeof *s->app_names);
        if (!s->app_names)
            return;
    }
    if (s->app_names[id][0] == '\0')
        snprintf(s->app_names[id], sizeof s->app_names[id], "%s",
                 sift__app_proto_name(module(s), id));
}

static void remember_names(sift_flows_t *s, const sift_flow_t *f)
{
    remember_name(s, f->app_master);
    remember_name(s, f->app_id);
}

static void giveup(sift_flows_t *s, sift_flow_t *f)
{
    if (f->app_state == SIFT_FLOW_APP_BUSY) {
        sift__app_giveup(module(s), f);
        remember_names(s, f);
    }
}

/* table callback: a flow leaves the active set (idle): its detection ends with it */
static void on_finish(void *user, sift_flow_t *f)
{
    giveup(user, f);
}

static void on_release(void *user, sift_flow_t *f)
{
    (void)user;
    sift__app_flow_free(f);
}

static void *user_bytes(const sift_flows_t *s, const sift_flow_t *f, size_t k)
{
    return (unsigned char *)sift_flow_ext(f) + s->users[k].offset;
}

/* table callback: a record is discarded */
static void on_drop(void *user, sift_flow_t *f)
{
    sift_flows_t *s = user;
    free(f->replay);
    f->replay = NULL;
    for (size_t k = 0; k < s->nusers; k++)
        if (s->users[k].release)
            s->users[k].release(user_bytes(s, f, k));
}

static int push_pending(sift_flows_t *s, size_t flow, const replay_t *r)
{
    if (s->npending + r->n > s->pending_cap) {
        size_t ncap = (s->pending_cap ? s->pending_cap * 2 : 256) + r->n;
        pending_t *n = realloc(s->pending, ncap * sizeof *n);
        if (!n)
            return SIFT_ENOMEM;
        s->pending = n;
        s->pending_cap = ncap;
    }
    pending_t *p = s->pending;
    for (uint32_t i = 0; i < r->n; i++)
        p[s->npending++] = (pending_t){.off = r->off[i], .flow = flow};
    return 0;
}

/* table callback at a merge: b, of the later range, continues a */
static void on_join(void *user, sift_flow_t *a, sift_flow_t *b)
{
    sift_flows_t *s = user;
    if (a->app_state == SIFT_FLOW_APP_BUSY && b->replay &&
        push_pending(s, sift_flow_table_index(&s->table, a), b->replay) < 0)
        s->table.oom = SIFT_ENOMEM;
    for (size_t k = 0; k < s->nusers; k++)
        if (s->users[k].join)
            s->users[k].join(user_bytes(s, a, k), user_bytes(s, b, k));
}

static int flows_init(void *state, const void *config)
{
    sift_flows_t *s = state;
    const sift_flows_config_t *c = config ? config : &default_config;
    int rc = sift_flow_table_init(&s->table, &c->table);
    if (rc < 0)
        return rc;
    s->app = !c->no_app;
    s->layer2 = c->layer2;
    s->app_max_packets = c->app_max_packets ? c->app_max_packets : SIFT_FLOW_APP_MAX_PACKETS;
    if (s->app_max_packets > 255)
        s->app_max_packets = 255;
    s->self = s;
    s->table.finish = on_finish;
    s->table.finish_user = s;
    s->table.emit = c->emit;
    s->table.emit_user = c->emit_user;
    s->table.join = on_join;
    s->table.drop = on_drop;
    s->table.hook_user = s;
    return 0;
}

int sift__flows_attach(sift_flows_t *s, const sift_flow_user_t *users, size_t nusers,
                       size_t ext_bytes, bool later_range, void *mod)
{
    if (s->table.count || s->table.ndone)
        return SIFT_EINVAL; /* records are laid out already */
    s->detector = mod;
    s->users = users;
    s->nusers = nusers;
    s->record = later_range && s->app;
    s->table.opts.ext_bytes = (ext_bytes + 7) & ~(size_t)7;
    s->table.stride = sizeof(sift_flow_t) + s->table.opts.ext_bytes;
    return 0;
}

static void keep_offset(sift_flows_t *s, sift_flow_t *f, const sift_packet_t *pkt)
{
    replay_t *r = f->replay;
    if (r && r->n >= r->cap) {
        if (r->cap >= s->app_max_packets)
            return;
        r = NULL;
    }
    if (!r) {
        uint32_t cap = f->replay ? ((replay_t *)f->replay)->cap * 2 : 4;
        if (cap > s->app_max_packets)
            cap = s->app_max_packets;
        r = realloc(f->replay, sizeof *r + cap * sizeof r->off[0]);
        if (!r) {
            s->table.oom = SIFT_ENOMEM;
            return;
        }
        if (!f->replay)
            r->n = 0;
        r->cap = cap;
        f->replay = r;
    }
    r->off[r->n++] = pkt->rec->offset;
}

/* Why a packet without an IP layer has none: sift_unplaced_kind_t << 32 | value. */
static uint64_t unplaced_key(const sift_packet_t *pkt)
{
    uint64_t kind = SIFT_UNPLACED_OTHER, value = 0;
    if (pkt->flags & SIFT_PKT_UNKNOWN_LINK) {
        kind = SIFT_UNPLACED_LINKTYPE;
        value = pkt->rec->linktype;
    } else if (pkt->flags & (SIFT_PKT_MGMT | SIFT_PKT_ENCRYPTED)) {
        kind = SIFT_UNPLACED_WLAN;
        value = (pkt->flags & SIFT_PKT_MGMT) == 0;
    } else if (pkt->flags & SIFT_PKT_NON_IP) {
        kind = SIFT_UNPLACED_ETHERTYPE;
        value = pkt->ethertype;
        int dsap = value == 0 ? sift__llc_dsap(pkt) : -1;
        if (dsap >= 0) {
            kind = SIFT_UNPLACED_LLC;
            value = (uint64_t)dsap;
        }
    } else if (pkt->flags & (SIFT_PKT_TRUNCATED | SIFT_PKT_DEEP)) {
        kind = SIFT_UNPLACED_DAMAGED;
    }
    return kind << 32 | value;
}

/* Counts n packets under key, keeping the SIFT_FLOWS_UNPLACED_MAX smallest keys apart: a key
 * that is among them at the end was among them since it was first seen, so its count is exact
 * and the kept keys are the same however the packets were split. */
static void unplaced_add(sift_flows_t *s, uint64_t key, uint64_t n)
{
    size_t i = 0;
    while (i < s->nunplaced && s->unplaced[i][0] < key)
        i++;
    if (i < s->nunplaced && s->unplaced[i][0] == key) {
        s->unplaced[i][1] += n;
        return;
    }
    if (i == SIFT_FLOWS_UNPLACED_MAX) {
        s->unplaced_other += n;
        return;
    }
    if (s->nunplaced == SIFT_FLOWS_UNPLACED_MAX)
        s->unplaced_other += s->unplaced[--s->nunplaced][1];
    memmove(s->unplaced[i + 1], s->unplaced[i], (s->nunplaced - i) * sizeof s->unplaced[0]);
    s->unplaced[i][0] = key;
    s->unplaced[i][1] = n;
    s->nunplaced++;
}

size_t sift_flows_unplaced(const sift_flows_t *s, sift_unplaced_t *out, size_t max)
{
    size_t n = 0;
    for (size_t i = 0; i < s->nunplaced && n < max; i++)
        out[n++] = (sift_unplaced_t){.kind = (sift_unplaced_kind_t)(s->unplaced[i][0] >> 32),
                                     .value = (uint32_t)s->unplaced[i][0],
                                     .packets = s->unplaced[i][1]};
    if (s->unplaced_other && n < max)
        out[n++] = (sift_unplaced_t){.kind = SIFT_UNPLACED_OTHER, .packets = s->unplaced_other};
    return n;
}

static void flows_packet(void *state, const sift_packet_t *pkt)
{
    sift_flows_t *s = state;
    s->packets++;
    s->last = NULL;
    sift_flow_key_t k;
    int dir;
    if (SIFT_LIKELY(sift_flow_key_make(&k, &dir, pkt, s->table.opts.vlan_in_key))) {
        s->ip_packets++;
    } else {
        s->non_ip_packets++;
        if (!s->layer2 || !sift_flow_key_make_l2(&k, &dir, pkt, s->table.opts.vlan_in_key)) {
            unplaced_add(s, unplaced_key(pkt), 1);
            return;
        }
    }
    const sift_record_t *r = pkt->rec;
    int64_t ts = r->ts_ns;
    if (SIFT_UNLIKELY(r->flags & SIFT_RECORD_NO_TS))
        ts = s->last_ts_ns; /* no time of its own: it came after the one before */
    else if (ts > s->last_ts_ns)
        s->last_ts_ns = ts;
    int d;
    sift_flow_t *f = sift_flow_table_get(&s->table, &k, dir, ts, &d);
    s->last = f; /* last_dir once the packet has said who started the flow */
    if (SIFT_UNLIKELY(!f))
        return;
    if (SIFT_UNLIKELY(f->packets[0] + f->packets[1] == 0)) {
        f->input = pkt->input;
        f->app_state = s->app && k.ip_version ? SIFT_FLOW_APP_BUSY : SIFT_FLOW_APP_OFF;
        sift__flow_start(f, pkt, dir);
    }
    sift__flow_observe(f, pkt, dir);
    d = dir ^ f->a_is_hi; /* the table's d is from before observe may have turned it around */
    s->last_dir = (uint8_t)d;
    f->packets[d]++;
    f->bytes[d] += r->wirelen;
    if (k.proto == 6)
        f->tcp_flags[d] |= pkt->tcp_flags;
    if (ts < f->first_ns)
        f->first_ns = ts;
    if (ts > f->last_ns)
        f->last_ns = ts;
    if (SIFT_UNLIKELY(s->record) && sift__app_counts(pkt))
        keep_offset(s, f, pkt);
    if (f->app_state == SIFT_FLOW_APP_BUSY) {
        if (SIFT_UNLIKELY(!s->detector)) {
            if (!module(s)) {
                s->app = false; /* out of memory: detection stops, counting goes on */
                f->app_state = SIFT_FLOW_APP_OFF;
                return;
            }
        }
        if (sift__app_packet(s->detector, f, pkt, s->app_max_packets))
            remember_names(s, f);
    }
}

/* Gives up on every flow still being classified: the state will see no more packets. */
static void settle(sift_flows_t *s)
{
    for (size_t i = 0; i < s->table.count; i++)
        giveup(s, sift_flow_table_active(&s->table, i));
}

void sift_flows_settle(sift_flows_t *s)
{
    settle(s);
}

static int cmp_pending(const void *x, const void *y)
{
    const pending_t *a = x, *b = y;
    if (a->off != b->off)
        return (a->off > b->off) - (a->off < b->off);
    return (a->flow > b->flow) - (a->flow < b->flow);
}

/* Continues the flows of `a` that a merge found in the later range, in file order. */
static int replay_pending(sift_flows_t *a, sift_flows_fetch_fn fetch, void *user)
{
    qsort(a->pending, a->npending, sizeof *a->pending, cmp_pending);
    void *mod = module(a);
    int rc = 0;
    for (size_t i = 0; i < a->npending && rc == 0; i++) {
        sift_flow_t *f = sift_flow_table_active(&a->table, a->pending[i].flow);
        if (!f || f->app_state != SIFT_FLOW_APP_BUSY)
            continue;
        if (!fetch || !mod)
            break; /* it stays unsettled until the end */
        const sift_packet_t *pkt = NULL;
        rc = fetch(user, a->pending[i].off, &pkt);
        if (rc == 0 && sift__app_packet(mod, f, pkt, a->app_max_packets))
            remember_names(a, f);
    }
    a->npending = 0;
    return rc;
}

int sift__flows_merge_ranges(sift_flows_t *a, sift_flows_t *b, sift_flows_fetch_fn fetch,
                             void *user, void *mod)
{
    if (mod)
        a->detector = mod; /* the merging thread's: the one it was lent may be busy elsewhere */
    if (b->app_names) {
        if (!a->app_names) {
            a->app_names = calloc(SIFT__APP_NAMES, sizeof *a->app_names);
            if (!a->app_names)
                return SIFT_ENOMEM;
        }
        for (size_t i = 0; i < SIFT__APP_NAMES; i++)
            if (a->app_names[i][0] == '\0' && b->app_names[i][0] != '\0')
                memcpy(a->app_names[i], b->app_names[i], sizeof a->app_names[i]);
    }
    int rc = sift_flow_table_merge(&a->table, &b->table);
    int replayed = rc == 0 && a->npending ? replay_pending(a, fetch, user) : 0;
    a->npending = 0;
    if (rc < 0)
        return rc;
    a->packets += b->packets;
    a->ip_packets += b->ip_packets;
    a->non_ip_packets += b->non_ip_packets;
    for (size_t i = 0; i < b->nunplaced; i++)
        unplaced_add(a, b->unplaced[i][0], b->unplaced[i][1]);
    a->unplaced_other += b->unplaced_other;
    a->app = a->app || b->app;
    if (a->last_ts_ns < b->last_ts_ns)
        a->last_ts_ns = b->last_ts_ns;
    return replayed; /* a flow whose packets could not be read again keeps what it has */
}

/* The pass's merge, for states of different inputs (finished) or fed without the engine:
 * without a way to read packets again, a flow still being classified in `into` keeps what it
 * has and is settled at the end. */
static int flows_merge(void *into, const void *from)
{
    const sift_flows_t *b = from;
    return sift__flows_merge_ranges(into, b->self, NULL, NULL, NULL);
}

static void flows_release(void *state)
{
    sift_flows_t *s = state;
    s->table.finish = on_release;
    sift_flow_table_release(&s->table);
    s->detector = NULL;
    free(s->app_names);
    s->app_names = NULL;
    free(s->pending);
    s->pending = NULL;
}

/* A whole read ends: flows still being classified get nDPI's give-up verdict; a limit reached
 * or memory run out is reported. */
static void flows_finish(void *state)
{
    sift_flows_t *s = state;
    settle(s);
    if (s->table.oom)
        sift_pass_report(s, SIFT_ENOMEM, "out of memory: some flows are missing");
    else if (s->table.full)
        sift_pass_report(s, SIFT_ELIMIT,
                         "the flow limit of %" PRIu64 " flows was reached: %" PRIu64
                         " packets of further flows are not counted",
                         s->table.opts.max_flows ? s->table.opts.max_flows : SIFT_FLOW_DEFAULT_MAX,
                         s->table.dropped_packets);
}

static void flows_declare(const void *config, sift_need_t *needs, unsigned *flags)
{
    const sift_flows_config_t *c = config;
    *needs = sift_flows_needs(c);
    if (c && c->emit) /* an emitted flow could not be joined, nor handed out again */
        *flags |= SIFT_PASS_WHOLE_FILE | SIFT_PASS_NO_CACHE;
}

/* ---- the result cache ----
 *
 * A final state: its counters, the names of the protocol ids its flows use, then every flow,
 * finished first, as FLOW_BYTES of fixed fields (host order). A flow's input is the loading
 * run's; detector state, replay offsets and the bytes of passes built on flows are not kept
 * (a final state's flows are settled, and those bytes serve until flow_end). */

enum { FLOWS_FIELDS = 13, FLOW_BYTES = 40 + 6 * 8 + 9 + 11 };

static void flows_cache_key(const void *config, sift_cache_keyb_t *kb)
{
    const sift_flows_config_t *c = config ? config : &default_config;
    sift_cache_keyb_u64(kb, c->table.max_flows);
    sift_cache_keyb_u64(kb, c->table.idle_timeout_ns > 0 ? (uint64_t)c->table.idle_timeout_ns : 0);
    sift_cache_keyb_u64(kb, c->table.vlan_in_key);
    sift_cache_keyb_u64(kb, c->no_app);
    sift_cache_keyb_u64(kb, c->layer2);
    if (!c->no_app) {
        unsigned m = c->app_max_packets ? c->app_max_packets : SIFT_FLOW_APP_MAX_PACKETS;
        sift_cache_keyb_u64(kb, m > 255 ? 255 : m);
        sift_cache_keyb_str(kb, sift__app_version()); /* its answers change with it */
    }
}

static void flow_put(sift_blob_t *out, const sift_flow_t *f)
{
    unsigned char b[FLOW_BYTES], *p = b;
    const int64_t t[2] = {f->first_ns, f->last_ns};
    memcpy(p, &f->key, 40);
    memcpy(p + 40, t, 16);
    memcpy(p + 56, f->packets, 16);
    memcpy(p + 72, f->bytes, 16);
    memcpy(p + 88, &f->app_master, 2);
    memcpy(p + 90, &f->app_id, 2);
    memcpy(p + 92, f->tcp_flags, 2);
    p[94] = f->a_is_hi;
    p[95] = f->app_state;
    p[96] = f->app_packets;
    p[97] = f->origin;
    memcpy(p + 98, &f->vlan, 2);
    memcpy(p + 100, &f->history, 8);
    sift_blob_put(out, b, sizeof b);
}

static bool flow_get(sift_blob_reader_t *in, sift_flow_t *f)
{
    unsigned char b[FLOW_BYTES];
    if (!sift_blob_get(in, b, sizeof b))
        return false;
    int64_t t[2];
    memset(f, 0, sizeof *f);
    memcpy(&f->key, b, 40);
    memcpy(t, b + 40, 16);
    f->first_ns = t[0];
    f->last_ns = t[1];
    memcpy(f->packets, b + 56, 16);
    memcpy(f->bytes, b + 72, 16);
    memcpy(&f->app_master, b + 88, 2);
    memcpy(&f->app_id, b + 90, 2);
    memcpy(f->tcp_flags, b + 92, 2);
    f->a_is_hi = b[94];
    f->app_state = b[95];
    f->app_packets = b[96];
    f->origin = b[97];
    memcpy(&f->vlan, b + 98, 2);
    memcpy(&f->history, b + 100, 8);
    f->input = in->input;
    /* a final state's flows are settled */
    return f->a_is_hi <= 1 && f->origin <= (SIFT_FLOW_BY_MASK | SIFT_FLOW_FIRST_HI) &&
           sift__flow_history_valid(f->history) &&
           (f->app_state == SIFT_FLOW_APP_OFF || f->app_state == SIFT_FLOW_APP_DONE);
}

static void flows_save(const void *state, sift_blob_t *out)
{
    const sift_flows_t *s = state;
    const sift_flow_table_t *t = &s->table;
    uint64_t names = 0;
    for (size_t id = 0; s->app_names && id < SIFT__APP_NAMES; id++)
        names += s->app_names[id][0] != '\0';
    const uint64_t v[FLOWS_FIELDS] = {
        s->packets, s->ip_packets,      s->non_ip_packets, s->app,   (uint64_t)s->last_ts_ns,
        t->emitted, t->dropped_packets, t->full,           t->ndone, t->count,
        names,      s->nunplaced,       s->unplaced_other};
    sift_blob_put(out, v, sizeof v);
    sift_blob_put(out, s->unplaced, s->nunplaced * sizeof s->unplaced[0]);
    for (size_t id = 0; names && id < SIFT__APP_NAMES; id++) {
        if (s->app_names[id][0] == '\0')
            continue;
        const uint16_t h[2] = {(uint16_t)id, (uint16_t)strlen(s->app_names[id])};
        sift_blob_put(out, h, sizeof h);
        sift_blob_put(out, s->app_names[id], h[1]);
    }
    for (size_t i = 0; i < sift_flow_table_count(t); i++)
        flow_put(out, sift_flow_table_at(t, i));
}

static int flows_load(void *state, sift_blob_reader_t *in)
{
    sift_flows_t *s = state;
    uint64_t v[FLOWS_FIELDS];
    if (!sift_blob_get(in, v, sizeof v) || v[10] > SIFT__APP_NAMES ||
        v[11] > SIFT_FLOWS_UNPLACED_MAX ||
        !sift_blob_get(in, s->unplaced, (size_t)v[11] * sizeof s->unplaced[0]) ||
        v[8] > (uint64_t)(in->end - in->p) / FLOW_BYTES ||
        v[9] > (uint64_t)(in->end - in->p) / FLOW_BYTES - v[8])
        return SIFT_ECORRUPT;
    s->packets = v[0];
    s->ip_packets = v[1];
    s->non_ip_packets = v[2];
    s->app = v[3] != 0;
    s->last_ts_ns = (int64_t)v[4];
    s->table.emitted = v[5];
    s->table.dropped_packets = v[6];
    s->table.full = v[7] != 0;
    s->nunplaced = (size_t)v[11];
    s->unplaced_other = v[12];
    for (size_t i = 0; i < s->nunplaced; i++)
        if (i > 0 && s->unplaced[i][0] <= s->unplaced[i - 1][0])
            return SIFT_ECORRUPT; /* keys are kept in order, each once */
    if (v[10] && !(s->app_names = calloc(SIFT__APP_NAMES, sizeof *s->app_names)))
        return SIFT_ENOMEM;
    for (uint64_t k = 0; k < v[10]; k++) {
        uint16_t h[2];
        if (!sift_blob_get(in, h, sizeof h) || h[0] >= SIFT__APP_NAMES ||
            h[1] >= SIFT_FLOW_APP_NAME_MAX || !sift_blob_get(in, s->app_names[h[0]], h[1]))
            return SIFT_ECORRUPT;
        s->app_names[h[0]][h[1]] = '\0';
    }
    for (uint64_t i = 0; i < v[8] + v[9]; i++) {
        sift_flow_t f;
        if (!flow_get(in, &f))
            return SIFT_ECORRUPT;
        int rc = sift__flow_table_restore(&s->table, &f, i >= v[8]);
        if (rc < 0)
            return rc;
    }
    return 0;
}

const sift_pass_t sift_flows_pass = {
    .name = "flows",
    .needs = SIFT_NEED_APP,
    .state_size = sizeof(sift_flows_t),
    .init = flows_init,
    .packet = flows_packet,
    .merge = flows_merge,
    .finish = flows_finish,
    .release = flows_release,
    .declare = flows_declare,
    .cache_version = 2, /* 2: origin, VLAN and history of each flow, the unplaced packets */
    .cache_key = flows_cache_key,
    .save = flows_save,
    .load = flows_load,
};

uint64_t sift_flows_max_for_memory(uint64_t bytes, bool app)
{
    uint64_t n = bytes / (app ? SIFT_FLOW_APP_BYTES : SIFT_FLOW_BYTES);
    return n < 1000 ? 1000 : n;
}

sift_need_t sift_flows_needs(const sift_flows_config_t *config)
{
    return config && config->no_app ? SIFT_NEED_TRANSPORT : SIFT_NEED_APP;
}

void sift_flows_summary(const sift_flows_t *s, sift_flows_summary_t *out)
{
    const sift_flow_table_t *t = &s->table;
    *out = (sift_flows_summary_t){.packets = s->packets,
                                  .ip_packets = s->ip_packets,
                                  .non_ip_packets = s->non_ip_packets,
                                  .flows = sift_flow_table_count(t),
                                  .active = t->count,
                                  .emitted = t->emitted,
                                  .dropped_packets = t->dropped_packets,
                                  .full = t->full,
                                  .app = s->app,
                                  .memory = sift_flow_table_memory(t)};
}

size_t sift_flows_count(const sift_flows_t *s)
{
    return sift_flow_table_count(&s->table);
}

const sift_flow_t *sift_flows_at(const sift_flows_t *s, size_t i)
{
    return sift_flow_table_at(&s->table, i);
}

const char *sift_flows_proto_name(const sift_flows_t *s, uint16_t id)
{
    if (!s->app_names || id >= SIFT__APP_NAMES)
        return "";
    return s->app_names[id];
}

const char *sift_flows_app_name(const sift_flows_t *s, const sift_flow_t *f, char *buf, size_t size)
{
    if (size == 0)
        return buf;
    if (f->app_state == SIFT_FLOW_APP_OFF) {
        buf[0] = '\0';
        return buf;
    }
    const char *m = f->app_master ? sift_flows_proto_name(s, f->app_master) : "";
    const char *a = f->app_id ? sift_flows_proto_name(s, f->app_id) : "";
    if (*m && *a && f->app_master != f->app_id)
        snprintf(buf, size, "%s.%s", m, a);
    else if (*a)
        snprintf(buf, size, "%s", a);
    else if (*m)
        snprintf(buf, size, "%s", m);
    else
        snprintf(buf, size, "Unknown");
    return buf;
}

const char *sift_flow_tcp_flags_str(uint8_t flags, char *buf, size_t size)
{
    /* FIN 0x01 SYN 0x02 RST 0x04 PSH 0x08 ACK 0x10 URG 0x20 ECE 0x40 CWR 0x80 */
    static const struct {
        uint8_t bit;
        char c;
    } order[] = {{0x02, 'S'}, {0x10, 'A'}, {0x01, 'F'}, {0x08, 'P'},
                 {0x04, 'R'}, {0x20, 'U'}, {0x40, 'E'}, {0x80, 'C'}};
    size_t n = 0;
    for (size_t i = 0; i < sizeof order / sizeof order[0] && n + 1 < size; i++)
        if (flags & order[i].bit)
            buf[n++] = order[i].c;
    if (size)
        buf[n] = '\0';
    return buf;
}

bool sift__flows_is(const sift_pass_t *p)
{
    return p->init == flows_init;
}
