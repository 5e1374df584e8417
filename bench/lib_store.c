/* The benchmarks' store of blocks (see lib_store.h): `clew gen` traffic
 * written as real block files and opened again, served to the query
 * executor through store_query_ops with no head. */
#include "lib_store.h"

#include <stdio.h>
#include <stdlib.h>

#include "base/arena.h"
#include "base/err.h"
#include "gen/topology.h"
#include "gen/tracegen.h"
#include "store/fileops.h"

/* 2026-01-01T00:00:00Z: generated traffic starts here, whatever the day. */
#define BENCH_STORE_GEN_START_NS 1767225600000000000LL

static int bs_get_trace(void *impl, const uint8_t id[16], struct span_batch *out)
{
	struct bench_store *s = impl;
	int found = CLEW_ENOTFOUND;
	for (size_t k = 0; k < s->n_blocks; k++) {
		int rc = block_get_trace(s->blocks[k], id, out);
		if (rc == 0)
			found = 0;
		else if (rc != CLEW_ENOTFOUND)
			return rc;
	}
	return found;
}

static int bs_list_blocks(void *impl, struct store_block_list *out)
{
	struct bench_store *s = impl;
	out->items = calloc(s->n_blocks + 1, sizeof *out->items);
	if (!out->items)
		return CLEW_ENOMEM;
	for (size_t k = 0; k < s->n_blocks; k++) {
		block_ref(s->blocks[k]);
		out->items[k].block = s->blocks[k];
		out->items[k].seq = k;
		block_get_info(s->blocks[k], &out->items[k].info);
	}
	out->n = s->n_blocks;
	return 0;
}

static void bs_release_blocks(struct store_block_list *l)
{
	for (size_t k = 0; k < l->n; k++)
		block_unref(l->items[k].block);
	free(l->items);
	l->items = NULL;
	l->n = 0;
}

static int bs_scan_heads(void *impl, head_batch_fn fn, void *ctx)
{
	(void)impl;
	(void)fn;
	(void)ctx;
	return 0;
}

const struct store_query_ops bench_store_ops = {bs_get_trace, bs_list_blocks, bs_release_blocks, bs_scan_heads};

void bench_store_init(struct bench_store *s)
{
	s->n_blocks = 0;
	s->spans = 0;
	s->min_start_ns = INT64_MAX;
	s->max_start_ns = INT64_MIN;
}

int bench_store_add(struct bench_store *s, struct block *b)
{
	if (s->n_blocks >= BENCH_STORE_MAX_BLOCKS)
		return CLEW_ELIMIT;
	struct block_info bi;
	block_get_info(b, &bi);
	s->blocks[s->n_blocks++] = b;
	s->spans += bi.spans;
	if (bi.spans && bi.min_start_ns < s->min_start_ns)
		s->min_start_ns = bi.min_start_ns;
	if (bi.spans && bi.max_start_ns > s->max_start_ns)
		s->max_start_ns = bi.max_start_ns;
	return 0;
}

/* Writes one block of up to BENCH_STORE_BLOCK_SPANS spans (fewer when
 * *left runs out), opens it and adds it to s. */
static int gen_block(struct bench_store *s, struct gen *g, struct arena *a, const char *dir, const char *prefix,
		     uint64_t *left)
{
	struct span_batch b;
	char name[64], path[1024], err[256];
	int rc = 0;
	struct block_writer *w = block_writer_new(NULL);
	if (!w)
		return CLEW_ENOMEM;
	while (block_writer_spans(w) < BENCH_STORE_BLOCK_SPANS && block_writer_spans(w) < *left) {
		if ((rc = gen_next_batch(g, a, &b)) < 0 || (rc = block_writer_add(w, &b)) < 0)
			goto out;
	}
	*left -= block_writer_spans(w) < *left ? block_writer_spans(w) : *left;
	snprintf(name, sizeof name, "%s%03zu.blk", prefix, s->n_blocks);
	if ((rc = block_writer_finish(w, fileops_posix(), dir, name, NULL)) < 0)
		goto out;
	snprintf(path, sizeof path, "%s/%s", dir, name);
	struct block *bk = block_open(fileops_posix(), path, &rc, err, sizeof err);
	if (!bk) {
		fprintf(stderr, "%s\n", err);
		goto out;
	}
	block_mark_deleted(bk); /* the file goes with the benchmark */
	rc = bench_store_add(s, bk);
out:
	block_writer_free(w);
	return rc;
}

int bench_store_gen(struct bench_store *s, const char *dir, const char *prefix, uint64_t n_spans, uint64_t seed)
{
	struct topo t;
	struct gen g;
	struct arena a;
	bool have_gen = false;
	int rc;
	topo_init(&t);
	arena_init(&a, 0);
	if ((rc = topo_default(&t)) < 0)
		goto out;
	struct gen_config c = {.seed = seed,
			       .start_unix_ns = BENCH_STORE_GEN_START_NS,
			       .clock_rate = 10000,
			       .accounts = 100000,
			       .zipf_s = 1.0,
			       .batch_spans = 10000,
			       .topo = &t};
	if ((rc = gen_init(&g, &c)) < 0)
		goto out;
	have_gen = true;
	uint64_t left = n_spans;
	while (left > 0 && s->n_blocks < BENCH_STORE_MAX_BLOCKS)
		if ((rc = gen_block(s, &g, &a, dir, prefix, &left)) < 0)
			goto out;
out:
	if (have_gen)
		gen_free(&g);
	topo_free(&t);
	arena_reset(&a);
	return rc;
}

void bench_store_free(struct bench_store *s)
{
	for (size_t k = 0; k < s->n_blocks; k++)
		block_unref(s->blocks[k]);
	s->n_blocks = 0;
}
