/*
 * pool.h - fixed-size records carved from large chunks, for per-flow state.
 *
 * A capture of many short flows allocates and frees a few small records
 * per flow (the flow, its DPI state).  Through malloc each costs a header,
 * and a trip through the allocator's bins.  A pool hands out records of
 * one size from chunks of up to 2 MiB, keeps freed records on a free list for the next one (the
 * most recently freed first, still in cache), and frees every chunk at
 * once in pool_free.  Chunks are not given back before pool_free: a pool
 * keeps the memory of its peak.
 *
 * Not thread-safe: one pool per table or per worker.  Built with
 * AddressSanitizer, every record is its own malloc, so that use after
 * pool_put is still caught.
 */
#ifndef SEGSCOPE_POOL_H
#define SEGSCOPE_POOL_H

#include <stddef.h>

typedef struct pool pool;

/* A pool of records of size bytes (rounded up to 8; records are aligned
   to 8, enough for any struct of integers and pointers).  NULL on OOM. */
pool *pool_create(size_t size);
/* Frees every record and chunk.  NULL is fine. */
void pool_free(pool *p);
/* A zeroed record; NULL on OOM. */
void *pool_get(pool *p);
/* Give back a record from pool_get (NULL is fine). */
void pool_put(pool *p, void *rec);
/* Bytes held from the system (chunks, or records under ASan). */
size_t pool_bytes(const pool *p);


#endif
