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

void json_alloc_begin(struct arena *scratch)
{
	pthread_once(&install_once, install);
	scratch_arena = scratch;
}

void json_alloc_end(void)
{
	scratch_arena = NULL;
}
