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
    const uint8_t *b = r->p + r->off;
    *v = (uint16_t)((b[0] << 8) | b[1]);
    r->off += 2;
    return 1;
}

static inline RD_MUST int
rd_be32(rd_t *r, uint32_t *v)
{
    if (rd_left(r) < 4) return 0;
    const uint8_t *b = r->p + r->off;
    *v = ((uint32_t)b[0] << 24) | ((uint32_t)b[1] << 16) |
         ((uint32_t)b[2] << 8) | (uint32_t)b[3];
    r->off += 4;
    return 1;
}

static inline RD_MUST int
rd_le16(rd_t *r, uint16_t *v)
{
    if (rd_left(r) < 2) return 0;
    const uint8_t *b = r->p + r->off;
    *v = (uint16_t)(b[0] | (b[1] << 8));
    r->off += 2;
    return 1;
}

static inline RD_MUST int
rd_le32(rd_t *r, uint32_t *v)
{
    if (rd_left(r) < 4) return 0;
    const uint8_t *b = r->p + r->off;
    *v = (uint32_t)b[0] | ((uint32_t)b[1] << 8) |
         ((uint32_t)b[2] << 16) | ((uint32_t)b[3] << 24);
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
    const uint8_t *b = r->p + r->off + at;
    *v = (uint16_t)((b[0] << 8) | b[1]);
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

/* The rest of the window as a sub-reader (the cursor moves to the end). */
static inline rd_t
rd_rest(rd_t *r)
{
    rd_t s = rd_make(r->p + r->off, rd_left(r));
    r->off = r->len;
    return s;
}

#endif
