/* The alert layer's index of groups by hash (see group_index.h): linear
 * probing in a power-of-two table kept at most half full, so a lookup of
 * a missing key stops at an empty slot soon. */
#include "alert/group_index.h"

#include <stdlib.h>

#include "base/alloc.h"
#include "base/err.h"

static void put(uint32_t *t, uint32_t mask, uint64_t h, uint32_t i)
{
	uint32_t s = (uint32_t)h & mask;
	while (t[s])
		s = (s + 1) & mask;
	t[s] = i + 1;
}

static int build(struct group_index *x, uint32_t cap, uint32_t n, group_hash_fn hash_at, const void *ctx)
{
	while (cap < 2 * (uint64_t)n + 4)
		cap *= 2;
	uint32_t *t = try_calloc(cap, sizeof *t);
	if (!t)
		return CLEW_ENOMEM;
	for (uint32_t i = 0; i < n; i++)
		put(t, cap - 1, hash_at(ctx, i), i);
	free(x->slot);
	x->slot = t;
	x->mask = cap - 1;
	return 0;
}

int group_index_fit(struct group_index *x, uint32_t n, group_hash_fn hash_at, const void *ctx)
{
	if (x->slot && 2 * ((uint64_t)n + 1) <= (uint64_t)x->mask + 1)
		return 0;
	return build(x, x->slot ? (x->mask + 1) * 2 : 64, n, hash_at, ctx);
}

int group_index_rebuild(struct group_index *x, uint32_t n, group_hash_fn hash_at, const void *ctx)
{
	group_index_free(x);
	return build(x, 64, n, hash_at, ctx);
}

void group_index_add(struct group_index *x, uint64_t h, uint32_t i)
{
	put(x->slot, x->mask, h, i);
}

int64_t group_index_find(const struct group_index *x, uint64_t h, group_match_fn match, const void *ctx,
			 const void *key)
{
	if (!x->slot)
		return -1;
	for (uint32_t s = (uint32_t)h & x->mask; x->slot[s]; s = (s + 1) & x->mask)
		if (match(ctx, x->slot[s] - 1, key))
			return x->slot[s] - 1;
	return -1;
}

void group_index_free(struct group_index *x)
{
	free(x->slot);
	x->slot = NULL;
	x->mask = 0;
}

size_t group_index_bytes(const struct group_index *x)
{
	return x->slot ? ((size_t)x->mask + 1) * sizeof *x->slot : 0;
}
