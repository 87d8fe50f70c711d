/* Internal interface of lib/flow: the application detector (nDPI) wrapper. Not installed. */
#ifndef SIFT_FLOW_INT_H
#define SIFT_FLOW_INT_H

#include <capsift/flow.h>

/* Protocol ids below this get a name slot in sift_flows_t.app_names (nDPI's NDPI_NUM_BITS). */
#define SIFT__APP_NAMES 512

/* A detection module (one per pass state: nDPI modules are not thread-safe, and their caches
 * would make results depend on which files a worker saw before). NULL on failure. */
void *sift__app_create(void);
void sift__app_free(void *mod);

/* Gives one packet of flow f to the detector. Returns true when f's application is settled
 * (found, or given up after max_packets): its detector state is then freed. */
bool sift__app_packet(void *mod, sift_flow_t *f, const sift_packet_t *pkt, unsigned max_packets);

/* Settles a flow still being classified (nDPI's give-up) and frees its detector state. */
void sift__app_giveup(void *mod, sift_flow_t *f);

/* Frees a flow's detector state without settling it. */
void sift__app_flow_free(sift_flow_t *f);

/* The nDPI name of a protocol id (static within the module). */
const char *sift__app_proto_name(void *mod, uint16_t id);

#endif
