/* Scratch allocation for jansson: while a decoder holds a window open on a
 * thread, every jansson allocation on that thread comes from the given arena
 * and frees are no-ops, so a whole JSON document costs a few bump
 * allocations instead of one malloc per node. Outside a window jansson uses
 * malloc and free as usual. */
#ifndef CLEW_INGEST_JSON_ALLOC_H
#define CLEW_INGEST_JSON_ALLOC_H

#include "base/arena.h"

/* Open the window on this thread with scratch, an arena initialised here
 * and sized for a document of doc_bytes. Nothing jansson allocates inside the
 * window may be used or freed after json_alloc_end, which closes it and
 * frees the arena. */
void json_alloc_begin(struct arena *scratch, size_t doc_bytes);
void json_alloc_end(struct arena *scratch);

#endif
