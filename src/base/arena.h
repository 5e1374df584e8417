/* Arenas: bump allocation from chained chunks, freed in one call. Every
 * request, ingest batch and query owns one (h2o's per-request pool). An arena
 * has a hard cap on the bytes it may hold; allocations past it fail. */
#ifndef CLEW_BASE_ARENA_H
#define CLEW_BASE_ARENA_H

#include <stddef.h>

#include "base/slice.h"

struct arena_chunk;

struct arena {
	struct arena_chunk *head; /* current chunk; older ones chained behind */
	size_t used_bytes;	  /* bytes obtained from malloc, for budgets */
	size_t cap_bytes;	  /* 0 = unlimited */
	size_t chunk_bytes;	  /* default chunk size */
};

/* Initialise an empty arena; cap_bytes 0 means no cap. Allocates nothing. */
void arena_init(struct arena *a, size_t cap_bytes);

/* Free every chunk; the arena is empty and reusable afterwards. */
void arena_reset(struct arena *a);

/* n bytes aligned to 16, or NULL if the cap or malloc refuses. Contents are
 * uninitialised. The memory lives until arena_reset. */
void *arena_alloc(struct arena *a, size_t n);

/* As arena_alloc, zero-filled. */
void *arena_zalloc(struct arena *a, size_t n);

/* count*size bytes with overflow check, zero-filled; NULL on failure. */
void *arena_array(struct arena *a, size_t count, size_t size);

/* Copy n bytes into the arena; NULL on failure. */
void *arena_memdup(struct arena *a, const void *p, size_t n);

/* A NUL-terminated copy of s in the arena; NULL on failure. */
char *arena_strndup(struct arena *a, const char *s, size_t n);

/* Grow an arena array: returns a new array of new_count elements with the
 * first old_count copied from old (which is abandoned in the arena). */
void *arena_grow(struct arena *a, void *old, size_t old_count, size_t new_count, size_t size);

#endif
