/* The flows pass: every IP packet into the flow table, the first packets of each flow into
 * nDPI.
 *
 * Merging and -j: the engine reads each input on one worker and merges the per-input states in
 * input order, so per-input results never depend on the thread count. merge(into, from) also
 * settles both states first: flows still being classified get nDPI's give-up verdict and the
 * detector's memory is freed. `from` is const in the pass interface; the state keeps a pointer
 * to itself (`self`) so merge can settle it. Settling changes no counter and is idempotent, and
 * merges run on one thread after all packets are read, so this is safe.
 */
#include "common/internal.h"
#include "flow/flow_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const sift_flows_config_t default_config = {0};

static void remember_name(sift_flows_t *s, uint16_t id)
{
    if (id >= SIFT__APP_NAMES || !s->detector)
        return;
    if (!s->app_names) {
        s->app_names = calloc(SIFT__APP_NAMES, sizeof *s->app_names);
        if (!s->app_names)
            return;
    }
    if (s->app_names[id][0] == '\0')
        snprintf(s->app_names[id], sizeof s->app_names[id], "%s",
                 sift__app_proto_name(s->detector, id));
}

static void remember_names(sift_flows_t *s, const sift_flow_t *f)
{
    remember_name(s, f->app_master);
    remember_name(s, f->app_id);
}

/* table callback: a flow leaves the active set */
static void on_finish(void *user, sift_flow_t *f)
{
    sift_flows_t *s = user;
    if (f->app_state == SIFT_FLOW_APP_BUSY) {
        sift__app_giveup(s->detector, f);
        remember_names(s, f);
    }
}

static void on_release(void *user, sift_flow_t *f)
{
    (void)user;
    sift__app_flow_free(f);
}

static int flows_init(void *state, const void *config)
{
    sift_flows_t *s = state;
    const sift_flows_config_t *c = config ? config : &default_config;
    int rc = sift_flow_table_init(&s->table, &c->table);
    if (rc < 0)
        return rc;
    s->app = !c->no_app;
    s->app_max_packets = c->app_max_packets ? c->app_max_packets : SIFT_FLOW_APP_MAX_PACKETS;
    if (s->app_max_packets > 255)
        s->app_max_packets = 255;
    s->self = s;
    s->table.finish = on_finish;
    s->table.finish_user = s;
    s->table.emit = c->emit;
    s->table.emit_user = c->emit_user;
    return 0;
}

static void flows_packet(void *state, const sift_packet_t *pkt)
{
    sift_flows_t *s = state;
    s->packets++;
    s->last = NULL;
    sift_flow_key_t k;
    int dir;
    if (!sift_flow_key_make(&k, &dir, pkt, s->table.opts.vlan_in_key)) {
        s->non_ip_packets++;
        return;
    }
    s->ip_packets++;
    const sift_record_t *r = pkt->rec;
    int64_t ts = r->ts_ns;
    if (SIFT_UNLIKELY(r->flags & SIFT_RECORD_NO_TS))
        ts = s->last_ts_ns; /* no time of its own: it came after the one before */
    else if (ts > s->last_ts_ns)
        s->last_ts_ns = ts;
    int d;
    sift_flow_t *f = sift_flow_table_get(&s->table, &k, dir, ts, &d);
    s->last = f;
    if (SIFT_UNLIKELY(!f))
        return;
    if (SIFT_UNLIKELY(f->packets[0] + f->packets[1] == 0)) {
        f->input = pkt->input;
        f->app_state = s->app ? SIFT_FLOW_APP_BUSY : SIFT_FLOW_APP_OFF;
    }
    f->packets[d]++;
    f->bytes[d] += r->wirelen;
    if (k.proto == 6)
        f->tcp_flags[d] |= pkt->tcp_flags;
    if (ts < f->first_ns)
        f->first_ns = ts;
    if (ts > f->last_ns)
        f->last_ns = ts;
    if (f->app_state == SIFT_FLOW_APP_BUSY) {
        if (SIFT_UNLIKELY(!s->detector)) {
            s->detector = sift__app_create();
            if (!s->detector) {
                s->app = false; /* out of memory: detection stops, counting goes on */
                f->app_state = SIFT_FLOW_APP_OFF;
                return;
            }
        }
        if (sift__app_packet(s->detector, f, pkt, s->app_max_packets))
            remember_names(s, f);
    }
}

/* Gives up on every flow still being classified and frees the detector. A flow with no answer
 * yet is marked CUT: the state may be a chunk of a file, and the next chunk may know more. */
static void settle(sift_flows_t *s)
{
    if (!s->detector)
        return;
    for (size_t i = 0; i < s->table.count; i++) {
        sift_flow_t *f = &s->table.flows[i];
        if (f->app_state != SIFT_FLOW_APP_BUSY)
            continue;
        on_finish(s, f);
        if (f->app_master == 0 && f->app_id == 0)
            f->app_state = SIFT_FLOW_APP_CUT;
    }
    sift__app_free(s->detector);
    s->detector = NULL;
}

void sift_flows_settle(sift_flows_t *s)
{
    settle(s);
}

static int flows_merge(void *into, const void *from)
{
    sift_flows_t *a = into;
    const sift_flows_t *b = from;
    settle(a);
    settle(b->self);
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
    if (rc < 0)
        return rc;
    a->packets += b->packets;
    a->ip_packets += b->ip_packets;
    a->non_ip_packets += b->non_ip_packets;
    a->app = a->app || b->app;
    return 0;
}

static void flows_release(void *state)
{
    sift_flows_t *s = state;
    s->table.finish = on_release;
    sift_flow_table_release(&s->table);
    sift__app_free(s->detector);
    s->detector = NULL;
    free(s->app_names);
    s->app_names = NULL;
}

/* A whole read ends: flows still being classified get nDPI's give-up verdict, as at a merge. */
static void flows_finish(void *state)
{
    settle(state);
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
