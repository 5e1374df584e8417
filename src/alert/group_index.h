/* An index by hash over an array of groups the caller keeps (the groups of
 * an alert rule's stream, of an SLO's counter): open addressing on the
 * group's 64-bit hash, each slot holding the group's position + 1. Shared
 * by alert_stream.c and slo.c; the caller holds whatever lock guards the
 * array. */
#ifndef CLEW_ALERT_GROUP_INDEX_H
#define CLEW_ALERT_GROUP_INDEX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct group_index {
	uint32_t *slot; /* position + 1; 0 = empty; NULL before the first fit */
	uint32_t mask;
};

/* The hash of the group at position i of ctx's array. */
typedef uint64_t (*group_hash_fn)(const void *ctx, uint32_t i);

/* True if the group at position i of ctx's array is the one looked for. */
typedef bool (*group_match_fn)(const void *ctx, uint32_t i, const void *key);

/* Make room for one more group beyond the n at positions 0..n-1 (whose
 * hashes hash_at gives), keeping at most half the slots used; the table is
 * rebuilt from them when it grows. 0, or CLEW_ENOMEM with x unchanged. */
int group_index_fit(struct group_index *x, uint32_t n, group_hash_fn hash_at, const void *ctx);

/* Rebuild from scratch for the n groups left after removals (a smaller
 * table if they fit one). 0, or CLEW_ENOMEM with x emptied (slot NULL). */
int group_index_rebuild(struct group_index *x, uint32_t n, group_hash_fn hash_at, const void *ctx);

/* Record that the group at position i has hash h; group_index_fit must
 * have made room. */
void group_index_add(struct group_index *x, uint64_t h, uint32_t i);

/* The position of the group with hash h for which match says yes, or -1. */
int64_t group_index_find(const struct group_index *x, uint64_t h, group_match_fn match, const void *ctx,
			 const void *key);

/* Free the table; x is empty afterwards. */
void group_index_free(struct group_index *x);

/* Bytes the table takes. */
size_t group_index_bytes(const struct group_index *x);

#endif
