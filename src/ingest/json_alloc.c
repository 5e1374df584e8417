/* jansson's allocator hooks, installed once for the process. */
#include "ingest/json_alloc.h"

#include <jansson.h>
#include <pthread.h>
#include <stdlib.h>

static _Thread_local struct arena *scratch_arena;
static pthread_once_t install_once = PTHREAD_ONCE_INIT;

static void *json_scratch_malloc(size_t n)
{
	return scratch_arena ? arena_alloc(scratch_arena, n) : malloc(n);
}

static void json_scratch_free(void *p)
{
	if (!scratch_arena)
		free(p);
}

static void install(void)
{
	json_set_alloc_funcs(json_scratch_malloc, json_scratch_free);
}

void json_alloc_begin(struct arena *scratch, size_t doc_bytes)
{
	/* jansson's DOM is a few times the text; past the cap it reports out of
	 * memory, which the decoders turn into an error */
	arena_init(scratch, (uint64_t)doc_bytes * 24 + (1u << 20));
	scratch->chunk_bytes = doc_bytes > (256u << 10) ? (1u << 20) : (64u << 10);
	pthread_once(&install_once, install);
	scratch_arena = scratch;
}

void json_alloc_end(struct arena *scratch)
{
	scratch_arena = NULL;
	arena_reset(scratch);
}
