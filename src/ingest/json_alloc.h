/* Scratch allocation for jansson: while a decoder holds a window open on a
 * thread, every jansson allocation on that thread comes from the given arena
 * and frees are no-ops, so a whole JSON document costs a few bump
 * allocations instead of one malloc per node. Outside a window jansson uses
 * malloc and free as usual. */
#ifndef CLEW_INGEST_JSON_ALLOC_H
#define CLEW_INGEST_JSON_ALLOC_H

#include "base/arena.h"

/* Open the window on this thread. Nothing jansson allocates inside it may
 * be used or freed after json_alloc_end; reset the arena after the end. */
void json_alloc_begin(struct arena *scratch);
void json_alloc_end(void);

#endif
