/* capsift: the select pass - the byte offsets of every packet of given flows, to copy them
 * into a new capture (sift_copy_records in capsift/writer.h). A flow is named by its key
 * (sift_flow_key_make without VLAN), so every packet of that 5-tuple is selected, in whichever
 * connection of it the packet lies.
 */
#ifndef CAPSIFT_SELECTPASS_H
#define CAPSIFT_SELECTPASS_H

#include <capsift/engine.h>
#include <capsift/flow.h>
#include <capsift/writer.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct sift_select_config {
    const sift_flow_key_t *keys; /* sorted by memcmp, each once; must outlive the run */
    size_t nkeys;
} sift_select_config_t;

SIFT_API extern const sift_pass_t sift_select_pass;

typedef struct sift_select sift_select_t;

/* The offsets of the selected packets, in file order. */
SIFT_API size_t sift_select_offsets(const sift_select_t *s, const uint64_t **offsets);
/* Adds the link types of the selected packets to o. */
SIFT_API void sift_select_linktypes(const sift_select_t *s, sift_copy_opts_t *o);

#ifdef __cplusplus
}
#endif
#endif
