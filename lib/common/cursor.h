/* The bounds-checked cursor: the only way the library reads bytes that came from a capture.
 *
 * A cursor is a pair (p, end) plus a sticky truncation flag. Every read checks the remaining
 * length; a read past the end returns 0, leaves the cursor at the end and sets `trunc`, so a
 * parser can run a whole header's worth of reads and test the flag once. There are no struct
 * casts over packet bytes: multi-byte fields are assembled from bytes in the stated order.
 */
#ifndef SIFT_COMMON_CURSOR_H
#define SIFT_COMMON_CURSOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

typedef struct sift_cursor {
    const uint8_t *p;
    const uint8_t *end;
    bool trunc;
} sift_cursor_t;

static inline sift_cursor_t sift_cur_make(const uint8_t *p, size_t len)
{
    sift_cursor_t c = {p, p + len, false};
    return c;
}

static inline size_t sift_cur_left(const sift_cursor_t *c)
{
    return (size_t)(c->end - c->p);
}

static inline bool sift_cur_need(sift_cursor_t *c, size_t n)
{
    if (sift_cur_left(c) >= n)
        return true;
    c->p = c->end;
    c->trunc = true;
    return false;
}

static inline void sift_cur_skip(sift_cursor_t *c, size_t n)
{
    if (sift_cur_need(c, n))
        c->p += n;
}

static inline uint8_t sift_cur_u8(sift_cursor_t *c)
{
    if (!sift_cur_need(c, 1))
        return 0;
    return *c->p++;
}

static inline uint16_t sift_load_be16(const uint8_t *p)
{
    return (uint16_t)((uint16_t)p[0] << 8 | p[1]);
}

static inline uint16_t sift_load_le16(const uint8_t *p)
{
    return (uint16_t)((uint16_t)p[1] << 8 | p[0]);
}

static inline uint32_t sift_load_be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static inline uint32_t sift_load_le32(const uint8_t *p)
{
    return (uint32_t)p[3] << 24 | (uint32_t)p[2] << 16 | (uint32_t)p[1] << 8 | p[0];
}

static inline uint64_t sift_load_le64(const uint8_t *p)
{
    return (uint64_t)sift_load_le32(p + 4) << 32 | sift_load_le32(p);
}

static inline uint64_t sift_load_be64(const uint8_t *p)
{
    return (uint64_t)sift_load_be32(p) << 32 | sift_load_be32(p + 4);
}

static inline uint16_t sift_cur_be16(sift_cursor_t *c)
{
    if (!sift_cur_need(c, 2))
        return 0;
    uint16_t v = sift_load_be16(c->p);
    c->p += 2;
    return v;
}

static inline uint16_t sift_cur_le16(sift_cursor_t *c)
{
    if (!sift_cur_need(c, 2))
        return 0;
    uint16_t v = sift_load_le16(c->p);
    c->p += 2;
    return v;
}

static inline uint32_t sift_cur_be32(sift_cursor_t *c)
{
    if (!sift_cur_need(c, 4))
        return 0;
    uint32_t v = sift_load_be32(c->p);
    c->p += 4;
    return v;
}

static inline uint32_t sift_cur_le32(sift_cursor_t *c)
{
    if (!sift_cur_need(c, 4))
        return 0;
    uint32_t v = sift_load_le32(c->p);
    c->p += 4;
    return v;
}

/* A 16/32-bit field in the byte order `big` selects (false: little-endian). */
static inline uint16_t sift_cur_u16o(sift_cursor_t *c, bool big)
{
    return big ? sift_cur_be16(c) : sift_cur_le16(c);
}

static inline uint32_t sift_cur_u32o(sift_cursor_t *c, bool big)
{
    return big ? sift_cur_be32(c) : sift_cur_le32(c);
}

/* Borrows n bytes: returns a pointer to them, or NULL (and sets trunc) when fewer remain. */
static inline const uint8_t *sift_cur_take(sift_cursor_t *c, size_t n)
{
    if (!sift_cur_need(c, n))
        return NULL;
    const uint8_t *p = c->p;
    c->p += n;
    return p;
}

#endif
