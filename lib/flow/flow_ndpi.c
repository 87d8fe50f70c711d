/* The application detector: nDPI (libndpi 4.x), one module per thread.
 *
 * nDPI's per-flow state is large (about 700 bytes plus what it allocates), so a flow holds one
 * only while it is being classified: from its first packet until nDPI names the protocol or the
 * flow has given max_packets packets to it (then nDPI's give-up settles it, as ndpiReader does
 * at the end of a flow). Memory is therefore bounded by the flows still being classified.
 * Non-first IP fragments are not given to nDPI (it does not reassemble them either).
 *
 * A flow's verdict depends on its own packets only, so that it is the same however a file is
 * split into ranges and whichever thread's module sees them. nDPI keeps a few caches across
 * flows (addresses seen in Ookla, BitTorrent, Zoom, STUN, mining and Teams flows, TLS
 * certificates by server): they are replaced by one-entry caches emptied after every call, and
 * Tinc, whose cache cannot be replaced, is not detected. Everything else in a module is
 * read-only once it is set up, so one module per engine worker serves every range it reads.
 */
#define NDPI_LIB_COMPILATION /* the module's layout: its cross-flow caches */
#include "common/internal.h"
#include "flow/flow_int.h"

#include <ndpi/ndpi_api.h>

#include <pthread.h>
#include <stdlib.h>

/* nDPI's module set-up initialises libgcrypt the first time, which is not thread-safe: two
 * workers setting up at once abort inside libgcrypt. The lock serialises set-ups only (one
 * per thread); detection itself runs unlocked, one module per thread. */
static pthread_mutex_t create_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_once_t key_once = PTHREAD_ONCE_INIT;
static pthread_key_t module_key;

typedef struct ndpi_detection_module_struct module_t;

/* Empties the one-entry caches: nothing one flow taught the module reaches another. */
static void forget(module_t *m)
{
    struct ndpi_lru_cache *c[] = {m->ookla_cache,  m->bittorrent_cache, m->zoom_cache,
                                  m->stun_cache,   m->tls_cert_cache,   m->mining_cache,
                                  m->msteams_cache};
    for (size_t i = 0; i < sizeof c / sizeof c[0]; i++)
        c[i]->entries[0].is_full = 0;
}

void sift__app_module_free(void *mod)
{
    if (mod)
        ndpi_exit_detection_module(mod); /* frees the caches too */
}

static void make_key(void)
{
    (void)pthread_key_create(&module_key, sift__app_module_free);
}

void *sift__app_module_new(void)
{
    pthread_mutex_lock(&create_lock);
    module_t *m = ndpi_init_detection_module(ndpi_no_prefs);
    if (m) {
        NDPI_PROTOCOL_BITMASK all;
        NDPI_BITMASK_SET_ALL(all);
        NDPI_BITMASK_DEL(all, NDPI_PROTOCOL_TINC);
        ndpi_set_protocol_detection_bitmask2(m, &all);
        ndpi_finalize_initialization(m);
    }
    pthread_mutex_unlock(&create_lock);
    if (!m)
        return NULL;
    /* the layout this file was compiled against must be the library's */
    bool ok = m->ndpi_num_supported_protocols == ndpi_get_num_supported_protocols(m) &&
              !m->ookla_cache && !m->bittorrent_cache && !m->zoom_cache && !m->stun_cache &&
              !m->tls_cert_cache && !m->mining_cache && !m->msteams_cache;
    if (ok) {
        m->ookla_cache = ndpi_lru_cache_init(1);
        m->bittorrent_cache = ndpi_lru_cache_init(1);
        m->zoom_cache = ndpi_lru_cache_init(1);
        m->stun_cache = ndpi_lru_cache_init(1);
        m->tls_cert_cache = ndpi_lru_cache_init(1);
        m->mining_cache = ndpi_lru_cache_init(1);
        m->msteams_cache = ndpi_lru_cache_init(1);
        ok = m->ookla_cache && m->bittorrent_cache && m->zoom_cache && m->stun_cache &&
             m->tls_cert_cache && m->mining_cache && m->msteams_cache;
    }
    if (!ok) {
        ndpi_exit_detection_module(m);
        return NULL;
    }
    return m;
}

void *sift__app_module(void)
{
    pthread_once(&key_once, make_key);
    module_t *m = pthread_getspecific(module_key);
    if (!m) {
        m = sift__app_module_new();
        if (m && pthread_setspecific(module_key, m) != 0) {
            ndpi_exit_detection_module(m);
            m = NULL;
        }
    }
    return m;
}

void sift__app_flow_free(sift_flow_t *f)
{
    if (f->detect) {
        ndpi_free_flow_data(f->detect);
        free(f->detect);
        f->detect = NULL;
    }
}

static void settle(sift_flow_t *f, ndpi_protocol p)
{
    f->app_master = p.master_protocol;
    f->app_id = p.app_protocol;
    f->app_state = SIFT_FLOW_APP_DONE;
    sift__app_flow_free(f);
}

void sift__app_giveup(void *mod, sift_flow_t *f)
{
    if (f->app_state != SIFT_FLOW_APP_BUSY)
        return;
    ndpi_protocol p = NDPI_PROTOCOL_NULL;
    if (f->detect && mod) {
        uint8_t guessed = 0;
        p = ndpi_detection_giveup(mod, f->detect, 0, &guessed);
        forget(mod);
    }
    settle(f, p);
}

bool sift__app_counts(const sift_packet_t *pkt)
{
    return !((pkt->flags & SIFT_PKT_FRAGMENT) && pkt->frag_offset != 0) &&
           pkt->l3_offset < pkt->rec->caplen;
}

bool sift__app_packet(void *mod, sift_flow_t *f, const sift_packet_t *pkt, unsigned max_packets)
{
    if (f->app_state != SIFT_FLOW_APP_BUSY)
        return true;
    if (!sift__app_counts(pkt))
        return false;
    if (!f->detect) {
        f->detect = calloc(1, ndpi_detection_get_sizeof_ndpi_flow_struct());
        if (!f->detect) {
            settle(f, (ndpi_protocol)NDPI_PROTOCOL_NULL);
            return true;
        }
    }
    const sift_record_t *r = pkt->rec;
    uint32_t len = r->caplen - pkt->l3_offset;
    if (len > 0xffff)
        len = 0xffff;
    uint64_t ms = r->ts_ns > 0 ? (uint64_t)r->ts_ns / 1000000u : 0;
    ndpi_protocol p = ndpi_detection_process_packet(mod, f->detect, r->data + pkt->l3_offset,
                                                    (unsigned short)len, ms);
    forget(mod);
    f->app_packets++;
    if (p.app_protocol != NDPI_PROTOCOL_UNKNOWN || p.master_protocol != NDPI_PROTOCOL_UNKNOWN) {
        settle(f, p);
        return true;
    }
    if (f->app_packets >= max_packets) {
        sift__app_giveup(mod, f);
        return true;
    }
    return false;
}

const char *sift__app_proto_name(void *mod, uint16_t id)
{
    const char *n = mod ? ndpi_get_proto_name(mod, id) : NULL;
    return n ? n : "";
}

const char *sift__app_version(void)
{
    const char *v = ndpi_revision();
    return v ? v : "";
}
