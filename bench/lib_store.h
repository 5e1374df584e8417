/* A store for the query and analysis benchmarks: blocks of `clew gen`
 * traffic (or blocks taken from a real store) behind the store_query_ops
 * that the executor, the metrics and the analyses read, without a head or
 * a WAL. The blocks are held in memory (block refs); generated block files
 * are marked deleted and go when the store is freed. */
#ifndef CLEW_BENCH_LIB_STORE_H
#define CLEW_BENCH_LIB_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "store/block.h"
#include "store/store.h"

#define BENCH_STORE_MAX_BLOCKS 256
#define BENCH_STORE_BLOCK_SPANS 1000000u

struct bench_store {
	struct block *blocks[BENCH_STORE_MAX_BLOCKS];
	size_t n_blocks;
	uint64_t spans;
	int64_t min_start_ns, max_start_ns; /* of the spans in the blocks */
};

/* The query interface over a bench_store: pass the store as impl. */
extern const struct store_query_ops bench_store_ops;

/* An empty store. */
void bench_store_init(struct bench_store *s);

/* Takes over one reference of b. 0, or CLEW_ELIMIT when the store holds
 * BENCH_STORE_MAX_BLOCKS blocks already (b is then not taken). */
int bench_store_add(struct bench_store *s, struct block *b);

/* Writes n_spans spans of `clew gen` traffic (default topology, the given
 * seed, from 2026-01-01) as blocks of BENCH_STORE_BLOCK_SPANS spans named
 * <prefix>NNN.blk in dir and adds them. 0, or a negative CLEW_E* code (a
 * message on stderr when a block does not open). */
int bench_store_gen(struct bench_store *s, const char *dir, const char *prefix, uint64_t n_spans, uint64_t seed);

/* Drops the store's block references. */
void bench_store_free(struct bench_store *s);

#endif
