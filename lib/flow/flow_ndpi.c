/* The application detector: nDPI (libndpi 4.x), one module per pass state.
 *
 * nDPI's per-flow state is large (about 700 bytes plus what it allocates), so a flow holds one
 * only while it is being classified: from its first packet until nDPI names the protocol or the
 * flow has given max_packets packets to it (then nDPI's give-up settles it, as ndpiReader does
 * at the end of a flow). Memory is therefore bounded by the flows still being classified.
 * Non-first IP fragments are not given to nDPI (it does not reassemble them either).
 */
#include "common/internal.h"
#include "flow/flow_int.h"

#include <ndpi/ndpi_api.h>

#include <pthread.h>
#include <stdlib.h>

/* nDPI's module set-up initialises libgcrypt the first time, which is not thread-safe: two
 * workers setting up at once abort inside libgcrypt. The lock serialises set-ups only (a few
 * per run); detection itself runs unlocked, one module per thread. */
static pthread_mutex_t create_lock = PTHREAD_MUTEX_INITIALIZER;

void *sift__app_create(void)
{
    pthread_mutex_lock(&create_lock);
    struct ndpi_detection_module_struct *m = ndpi_init_detection_module(ndpi_no_prefs);
    if (m) {
        NDPI_PROTOCOL_BITMASK all;
        NDPI_BITMASK_SET_ALL(all);
        ndpi_set_protocol_detection_bitmask2(m, &all);
        ndpi_finalize_initialization(m);
    }
    pthread_mutex_unlock(&create_lock);
    return m;
}

void sift__app_free(void *mod)
{
    if (mod)
        ndpi_exit_detection_module(mod);
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
    }
    settle(f, p);
}

bool sift__app_packet(void *mod, sift_flow_t *f, const sift_packet_t *pkt, unsigned max_packets)
{
    if (f->app_state != SIFT_FLOW_APP_BUSY)
        return true;
    if ((pkt->flags & SIFT_PKT_FRAGMENT) && pkt->frag_offset != 0)
        return false;
    if (!f->detect) {
        f->detect = calloc(1, ndpi_detection_get_sizeof_ndpi_flow_struct());
        if (!f->detect) {
            settle(f, (ndpi_protocol)NDPI_PROTOCOL_NULL);
            return true;
        }
    }
    const sift_record_t *r = pkt->rec;
    if (pkt->l3_offset >= r->caplen)
        return false;
    uint32_t len = r->caplen - pkt->l3_offset;
    if (len > 0xffff)
        len = 0xffff;
    uint64_t ms = r->ts_ns > 0 ? (uint64_t)r->ts_ns / 1000000u : 0;
    ndpi_protocol p = ndpi_detection_process_packet(mod, f->detect, r->data + pkt->l3_offset,
                                                    (unsigned short)len, ms);
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
