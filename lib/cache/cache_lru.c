/* L1 of the result cache: a hash map (chained buckets, XXH3-64 of the key) whose entries are
 * also on an intrusive doubly-linked list in order of use, so a hit, an insert and an eviction
 * are all O(1). One allocation per entry holds the links, the key and the value. */
#include "cache/cache_int.h"

#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#define L1_MIN_BUCKETS 64

int sift__l1_init(sift__l1_t *l, size_t max_bytes, size_t max_entries)
{
    memset(l, 0, sizeof *l);
    l->nbuckets = L1_MIN_BUCKETS;
    l->buckets = calloc(l->nbuckets, sizeof *l->buckets);
    if (!l->buckets)
        return SIFT_ENOMEM;
    l->max_bytes = max_bytes;
    l->max_entries = max_entries;
    return 0;
}

void sift__l1_clear(sift__l1_t *l)
{
    sift__l1_entry_t *e = l->head;
    while (e) {
        sift__l1_entry_t *n = e->next;
        free(e);
        e = n;
    }
    if (l->buckets)
        memset(l->buckets, 0, l->nbuckets * sizeof *l->buckets);
    l->head = l->tail = NULL;
    l->count = 0;
    l->bytes = 0;
}

void sift__l1_release(sift__l1_t *l)
{
    sift__l1_clear(l);
    free(l->buckets);
    l->buckets = NULL;
}

static void lru_unlink(sift__l1_t *l, sift__l1_entry_t *e)
{
    if (e->prev)
        e->prev->next = e->next;
    else
        l->head = e->next;
    if (e->next)
        e->next->prev = e->prev;
    else
        l->tail = e->prev;
    e->prev = e->next = NULL;
}

static void lru_push_front(sift__l1_t *l, sift__l1_entry_t *e)
{
    e->prev = NULL;
    e->next = l->head;
    if (l->head)
        l->head->prev = e;
    l->head = e;
    if (!l->tail)
        l->tail = e;
}

/* The slot that points at the entry for key (or the chain's terminating NULL slot). */
static sift__l1_entry_t **find_slot(sift__l1_t *l, uint64_t h, const void *key, size_t klen)
{
    sift__l1_entry_t **slot = &l->buckets[h & (l->nbuckets - 1)];
    while (*slot) {
        const sift__l1_entry_t *e = *slot;
        if (e->hash == h && e->klen == klen && memcmp(e->data, key, klen) == 0)
            break;
        slot = &(*slot)->hnext;
    }
    return slot;
}

static void remove_entry(sift__l1_t *l, sift__l1_entry_t *e)
{
    sift__l1_entry_t **slot = find_slot(l, e->hash, e->data, e->klen);
    assert(*slot == e);
    *slot = e->hnext;
    lru_unlink(l, e);
    l->count--;
    l->bytes -= sift__l1_cost(e->klen, e->vlen);
    free(e);
}

/* Doubles the bucket array when the chains average more than one entry; a failed allocation
 * only leaves the chains longer. */
static void maybe_grow(sift__l1_t *l)
{
    if (l->count < l->nbuckets || l->nbuckets > SIZE_MAX / 2 / sizeof *l->buckets)
        return;
    size_t n = l->nbuckets * 2;
    sift__l1_entry_t **b = calloc(n, sizeof *b);
    if (!b)
        return;
    for (size_t i = 0; i < l->nbuckets; i++) {
        sift__l1_entry_t *e = l->buckets[i];
        while (e) {
            sift__l1_entry_t *next = e->hnext;
            e->hnext = b[e->hash & (n - 1)];
            b[e->hash & (n - 1)] = e;
            e = next;
        }
    }
    free(l->buckets);
    l->buckets = b;
    l->nbuckets = n;
}

sift__l1_entry_t *sift__l1_get(sift__l1_t *l, const void *key, size_t klen, uint64_t now_ns)
{
    uint64_t h = XXH3_64bits(key, klen);
    sift__l1_entry_t *e = *find_slot(l, h, key, klen);
    if (!e)
        return NULL;
    if (e->expires_ns && now_ns >= e->expires_ns) {
        remove_entry(l, e);
        l->expired++;
        return NULL;
    }
    if (e != l->head) {
        lru_unlink(l, e);
        lru_push_front(l, e);
    }
    return e;
}

void sift__l1_del(sift__l1_t *l, const void *key, size_t klen)
{
    uint64_t h = XXH3_64bits(key, klen);
    sift__l1_entry_t *e = *find_slot(l, h, key, klen);
    if (e)
        remove_entry(l, e);
}

int sift__l1_put(sift__l1_t *l, const void *key, size_t klen, const void *val, size_t vlen,
                 uint64_t expires_ns, sift__l1_entry_t **out)
{
    if (out)
        *out = NULL;
    sift__l1_del(l, key, klen);
    size_t cost;
    if (sift__add_size(klen, vlen, &cost) < 0 ||
        sift__add_size(cost, sizeof(sift__l1_entry_t), &cost) < 0 || cost > l->max_bytes ||
        l->max_entries == 0)
        return SIFT_ELIMIT;
    while (l->tail && (l->bytes + cost > l->max_bytes || l->count + 1 > l->max_entries)) {
        remove_entry(l, l->tail);
        l->evictions++;
    }
    sift__l1_entry_t *e = malloc(cost);
    if (!e)
        return SIFT_ENOMEM;
    e->hash = XXH3_64bits(key, klen);
    e->expires_ns = expires_ns;
    e->klen = klen;
    e->vlen = vlen;
    memcpy(e->data, key, klen);
    if (vlen && val)
        memcpy(e->data + klen, val, vlen);
    sift__l1_entry_t **slot = &l->buckets[e->hash & (l->nbuckets - 1)];
    e->hnext = *slot;
    *slot = e;
    lru_push_front(l, e);
    l->count++;
    l->bytes += cost;
    maybe_grow(l);
    if (out)
        *out = e;
    return 0;
}
