/* The quantile sketch's bucket mapping, for the rolling window (which caches each sample's
 * bucket so a removal costs no logarithm). Not installed. */
#ifndef SIFT_BLOCKS_QSKETCH_H
#define SIFT_BLOCKS_QSKETCH_H

#include <capsift/rolling.h>

#include <stdint.h>

/* The bucket of a finite x: sign -1, 0 or +1 and the key within that sign's store. */
typedef struct sift__qbucket {
    int32_t key;
    int8_t sign;
} sift__qbucket_t;

sift__qbucket_t sift__qsketch_bucket(const sift_qsketch_t *q, double x);
int sift__qsketch_add_bucket(sift_qsketch_t *q, sift__qbucket_t b);    /* SIFT_ENOMEM */
int sift__qsketch_remove_bucket(sift_qsketch_t *q, sift__qbucket_t b); /* SIFT_ENOTFOUND */

#endif
