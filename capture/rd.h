/*
 * rd.h - bounds-checked reader over untrusted bytes.
 *
 * Every byte segscope parses from a packet or a file goes through an rd_t.
 * A reader is a window [p, p+len) with a cursor.  Getters return 1 on
 * success and 0 when the bytes are not there; a failed read leaves the
 * cursor where it was.  rd_sub() carves a sub-reader for a layer whose
 * length comes from its own header, so an inner layer can never read past
 * what its outer layer declared.  Nothing here casts a struct onto bytes.
 */
#ifndef SEGSCOPE_RD_H
#define SEGSCOPE_RD_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

typedef struct rd {
    const uint8_t *p;   /* first byte of the window */
    size_t len;         /* bytes in the window */
    size_t off;         /* cursor, 0 <= off <= len */
} rd_t;

#define RD_MUST __attribute__((warn_unused_result))

static inline rd_t
rd_make(const void *p, size_t len)
{
    rd_t r = { (const uint8_t *)p, len, 0 };
    return r;
}

/* Bytes left after the cursor. */
static inline size_t rd_left(const rd_t *r) { return r->len - r->off; }
/* Pointer to the cursor (valid for rd_left() bytes). */
static inline const uint8_t *rd_ptr(const rd_t *r) { return r->p + r->off; }

/*
 * Unchecked big/little-endian loads at h + at, for bytes already known to
 * be there: used by the getters below after their own check, and for the
 * fields of a header taken with rd_hdr().
 */
static inline uint16_t
rd_at_be16(const uint8_t *h, size_t at)
{
    return (uint16_t)((h[at] << 8) | h[at + 1]);
}

static inline uint32_t
rd_at_be32(const uint8_t *h, size_t at)
{
    return ((uint32_t)h[at] << 24) | ((uint32_t)h[at + 1] << 16) |
           ((uint32_t)h[at + 2] << 8) | (uint32_t)h[at + 3];
}

static inline uint16_t
rd_at_le16(const uint8_t *h, size_t at)
{
    return (uint16_t)(h[at] | (h[at + 1] << 8));
}

static inline uint32_t
rd_at_le32(const uint8_t *h, size_t at)
{
    return (uint32_t)h[at] | ((uint32_t)h[at + 1] << 8) |
           ((uint32_t)h[at + 2] << 16) | ((uint32_t)h[at + 3] << 24);
}

static inline RD_MUST int
rd_skip(rd_t *r, size_t n)
{
    if (rd_left(r) < n) return 0;
    r->off += n;
    return 1;
}

static inline RD_MUST int
rd_u8(rd_t *r, uint8_t *v)
{
    if (rd_left(r) < 1) return 0;
    *v = r->p[r->off++];
    return 1;
}

static inline RD_MUST int
rd_be16(rd_t *r, uint16_t *v)
{
    if (rd_left(r) < 2) return 0;
    *v = rd_at_be16(r->p, r->off);
    r->off += 2;
    return 1;
}

static inline RD_MUST int
rd_be32(rd_t *r, uint32_t *v)
{
    if (rd_left(r) < 4) return 0;
    *v = rd_at_be32(r->p, r->off);
    r->off += 4;
    return 1;
}

static inline RD_MUST int
rd_le16(rd_t *r, uint16_t *v)
{
    if (rd_left(r) < 2) return 0;
    *v = rd_at_le16(r->p, r->off);
    r->off += 2;
    return 1;
}

static inline RD_MUST int
rd_le32(rd_t *r, uint32_t *v)
{
    if (rd_left(r) < 4) return 0;
    *v = rd_at_le32(r->p, r->off);
    r->off += 4;
    return 1;
}

/* Copy n bytes out. */
static inline RD_MUST int
rd_copy(rd_t *r, void *dst, size_t n)
{
    if (rd_left(r) < n) return 0;
    memcpy(dst, r->p + r->off, n);
    r->off += n;
    return 1;
}

/* Peek without moving the cursor. */
static inline RD_MUST int
rd_peek_u8(const rd_t *r, size_t at, uint8_t *v)
{
    if (rd_left(r) <= at) return 0;
    *v = r->p[r->off + at];
    return 1;
}

static inline RD_MUST int
rd_peek_be16(const rd_t *r, size_t at, uint16_t *v)
{
    if (rd_left(r) < 2 || rd_left(r) - 2 < at) return 0;
    *v = rd_at_be16(r->p, r->off + at);
    return 1;
}

/* Take the next n bytes as a sub-reader and move past them. */
static inline RD_MUST int
rd_sub(rd_t *r, size_t n, rd_t *sub)
{
    if (rd_left(r) < n) return 0;
    *sub = rd_make(r->p + r->off, n);
    r->off += n;
    return 1;
}

/*
 * Take a fixed-size header: one check that the next n bytes are there,
 * then *h points at them and the cursor moves past them.  The fields are
 * read at constant offsets inside those n bytes (rd_at_*(h, at) with
 * at + width <= n, or h[at], or a memcpy from h + at), so a header costs
 * one bounds check rather than one per field.
 */
static inline RD_MUST int
rd_hdr(rd_t *r, size_t n, const uint8_t **h)
{
    if (rd_left(r) < n) return 0;
    *h = r->p + r->off;
    r->off += n;
    return 1;
}

/* The rest of the window as a sub-reader (the cursor moves to the end). */
static inline rd_t
rd_rest(rd_t *r)
{
    rd_t s = rd_make(r->p + r->off, rd_left(r));
    r->off = r->len;
    return s;
}

#endif
