/* Memory for the many sketches of one series set: blocks of power-of-two
 * sizes carved from large chunks (mapped with transparent huge pages where
 * the kernel allows, so random bucket adds across tens of thousands of
 * sketches do not also miss the TLB), with a free list per size, and all
 * of it released at once. Growing a sketch is an allocation of the next
 * size and a copy; no per-block header, no per-sketch free at the end.
 * Not thread-safe: one pool per set, and a set belongs to one thread. */
#ifndef CLEW_QUERY_SKETCH_POOL_H
#define CLEW_QUERY_SKETCH_POOL_H

#include <stddef.h>

struct sketch_pool;

/* A new empty pool, or NULL when out of memory. */
struct sketch_pool *sketch_pool_new(void);

/* Release every block of the pool and the pool. NULL is allowed. */
void sketch_pool_free(struct sketch_pool *p);

/* A block of at least n bytes (n > 0), 64-byte aligned, contents
 * undefined; NULL when out of memory. */
void *sketch_pool_alloc(struct sketch_pool *p, size_t n);

/* Give back block b of the size asked for as n: later allocations of that
 * size reuse it. */
void sketch_pool_release(struct sketch_pool *p, void *b, size_t n);

/* dst takes over every block of src, in use or free: blocks of src stay
 * valid until dst is freed. src is left empty (and still usable). */
void sketch_pool_adopt(struct sketch_pool *dst, struct sketch_pool *src);

/* Bytes the pool holds from the system. */
size_t sketch_pool_bytes(const struct sketch_pool *p);

#endif
