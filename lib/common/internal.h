/* Internal helpers shared by every module of the library. Not installed. */
#ifndef SIFT_COMMON_INTERNAL_H
#define SIFT_COMMON_INTERNAL_H

#include <capsift/common.h>

#include <assert.h>
#include <stdbool.h>
#include <stdint.h>

struct sift_ctx {
    char errbuf[SIFT_ERRBUF_SIZE];
    sift_log_fn log_fn;
    void *log_user;
};

#if defined(__GNUC__)
#define SIFT_PRINTF(a, b) __attribute__((format(printf, a, b)))
#define SIFT_LIKELY(x)    __builtin_expect(!!(x), 1)
#define SIFT_UNLIKELY(x)  __builtin_expect(!!(x), 0)
#else
#define SIFT_PRINTF(a, b)
#define SIFT_LIKELY(x)   (x)
#define SIFT_UNLIKELY(x) (x)
#endif

/* Formats a message into errbuf (SIFT_ERRBUF_SIZE bytes, may be NULL) and returns code. */
int sift__errorf(char *errbuf, int code, const char *fmt, ...) SIFT_PRINTF(3, 4);

/* The same into the context's buffer, also sent to its log callback. */
int sift__ctx_error(sift_ctx_t *ctx, int code, const char *fmt, ...) SIFT_PRINTF(3, 4);

/* v in decimal into buf (not terminated); returns its length (lib/common/text.c). */
#define SIFT_DEC_U32_MAX 10
size_t sift__dec_u32(char buf[SIFT_DEC_U32_MAX], uint32_t v);

/* Days from 1970-01-01 to y-m-d (proleptic Gregorian), as timegm counts them but without its
 * limits. */
int64_t sift__days_from_civil(int64_t y, unsigned m, unsigned d);

/* The host of an HTTP Host value s[0..n), without its port and IPv6 brackets:
 * "example.com:8080" -> "example.com", "[2001:db8::1]:80" -> "2001:db8::1"; a value of
 * several colons without brackets (a bare IPv6 address) is whole. Sets *host to its start in s
 * and returns its length; 0 for an unclosed bracket. */
size_t sift__http_host(const char *s, size_t n, const char **host);

/* A server name as a key, into buf (size bytes, every byte after the name zero): lower case
 * (ASCII), without a trailing dot, with http an HTTP Host without its port and brackets (as
 * sift__http_host). Returns its length; 0 for none. */
size_t sift__domain_key(const char *s, bool http, char *buf, size_t size);

/* An index of the ids of records kept in an array elsewhere, by a 64-bit hash of each record:
 * open addressing with linear probing, a slot 0 when empty, else id + 1; twice the slots when
 * half full. Zeroed is empty. The callbacks say whether record id has the key looked for, and
 * give a record's hash (for moving the ids when the slots grow). */
typedef struct sift__ids {
    uint32_t *slot;
    size_t mask, n;
} sift__ids_t;

/* The id of the record with hash h for which eq holds, or UINT32_MAX. */
uint32_t sift__ids_find(const sift__ids_t *x, uint64_t h, bool (*eq)(const void *ctx, uint32_t id),
                        const void *ctx);
/* Adds id (not in x) with hash h. Returns 0, or SIFT_ENOMEM (memory, or id past UINT32_MAX - 2;
 * x is unchanged). */
int sift__ids_add(sift__ids_t *x, uint64_t h, uint32_t id,
                  uint64_t (*hash)(const void *ctx, uint32_t id), const void *ctx);
void sift__ids_free(sift__ids_t *x);

/* Makes the array *p of *cap elements of elem bytes hold at least need (doubling). Returns 0,
 * or SIFT_ENOMEM with *p and *cap unchanged. */
int sift__grow(void **p, size_t *cap, size_t need, size_t elem);

/* Overflow-checked size arithmetic: return 0 on success, -1 on overflow. */
static inline int sift__add_size(size_t a, size_t b, size_t *out)
{
    return __builtin_add_overflow(a, b, out) ? -1 : 0;
}

static inline int sift__mul_size(size_t a, size_t b, size_t *out)
{
    return __builtin_mul_overflow(a, b, out) ? -1 : 0;
}

/* a / b rounded towards minus infinity (b > 0): the interval of a time before the epoch too. */
static inline int64_t sift__floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

#endif
