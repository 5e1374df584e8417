/* Unit tests of the column cache's policy: a scan over more page columns
 * than the budget holds still hits on the part that fits (plain LRU
 * evicted each column just before its next read and never hit), a column
 * read twice in a row is kept once the main list is full, and lowering
 * the budget evicts down to it; the default budget follows the memory
 * limit. */
#include "../../testlib.h"

#include <stdio.h>
#include <string.h>

#include "base/arena.h"
#include "store/block.h"
#include "store/fileops.h"

static void id_of(uint8_t *p, size_t n, uint64_t v)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)(v >> (8 * (i % 8))) ^ (uint8_t)(i * 29 + 3);
}

/* A block of n_traces traces of 4 spans with random durations, in pages
 * of about 64 spans. NULL on failure. */
static struct block *cache_block(int n_traces, struct block_info *info)
{
	static char path[4096];
	struct arena a;
	struct span_batch b;
	arena_init(&a, (size_t)64 << 20);
	span_batch_init(&b, &a);
	struct resource *r = span_batch_add_resource(&b);
	(void)r;
	span_batch_add_scope(&b, 0);
	uint64_t rng = 7;
	for (int t = 0; t < n_traces; t++) {
		for (int i = 0; i < 4; i++) {
			rng = rng * 6364136223846793005ull + 1442695040888963407ull;
			struct span *sp = span_batch_add_span(&b, 0);
			id_of(sp->trace_id, 16, (uint64_t)t * 7919 + 1);
			id_of(sp->span_id, 8, (uint64_t)t * 16 + (uint64_t)i + 1);
			sp->start_unix_ns = 1760000000000000000ll + t * 1000ll + i;
			sp->end_unix_ns = sp->start_unix_ns + (int64_t)(rng >> 34);
			sp->name = slice_cstr("op");
		}
	}
	struct block_writer_options o = {.page_spans = 64};
	struct block_writer *w = block_writer_new(&o);
	int rc = block_writer_add(w, &b);
	if (rc == 0)
		rc = block_writer_finish(w, fileops_posix(), test_tmpdir(), "cache.blk", info);
	block_writer_free(w);
	arena_reset(&a);
	if (rc < 0)
		return NULL;
	snprintf(path, sizeof path, "%s/cache.blk", test_tmpdir());
	return block_open(fileops_posix(), path, &rc, NULL, 0);
}

/* Load the duration column of every page once; the cache hits it took. */
static uint64_t scan_hits(struct block *blk, struct block_cols *c)
{
	uint64_t h0, h1;
	block_cache_stats(NULL, &h0, NULL);
	for (uint32_t p = 0; p < block_pages(blk); p++) {
		block_cols_free(c);
		block_cols_init(c);
		if (block_cols_load(blk, p, BLOCK_COLS_DURATION, c) < 0)
			return UINT64_MAX;
	}
	block_cols_free(c);
	block_cols_init(c);
	block_cache_stats(NULL, &h1, NULL);
	return h1 - h0;
}

TEST(block_cache_scan_larger_than_budget_hits)
{
	struct block_info info;
	struct block *blk = cache_block(4000, &info);
	CHECK(blk != NULL);
	if (!blk)
		return;
	uint32_t pages = block_pages(blk);
	CHECK(pages >= 200);
	uint64_t total = info.column_raw_bytes[BCOL_DURATION];
	CHECK(total > 0);
	block_cache_set_budget(0); /* what earlier tests left */
	block_cache_set_budget((size_t)total / 2);
	struct block_cols c;
	block_cols_init(&c);
	uint64_t first = scan_hits(blk, &c);
	CHECK(first == 0);
	/* the second and third scans find the part that fits (about half) */
	uint64_t second = scan_hits(blk, &c), third = scan_hits(blk, &c);
	CHECK(second != UINT64_MAX && second >= pages / 3);
	CHECK(third != UINT64_MAX && third >= pages / 3);
	size_t bytes;
	block_cache_stats(&bytes, NULL, NULL);
	CHECK(bytes <= total / 2);
	/* a page read twice in a row is kept although the main list is full */
	uint32_t p = pages - 1;
	uint64_t h0, h1;
	CHECK_INT(block_cols_load(blk, p, BLOCK_COLS_DURATION, &c), ==, 0);
	block_cols_free(&c);
	block_cols_init(&c);
	block_cache_stats(NULL, &h0, NULL);
	CHECK_INT(block_cols_load(blk, p, BLOCK_COLS_DURATION, &c), ==, 0);
	block_cache_stats(NULL, &h1, NULL);
	CHECK_INT(h1 - h0, ==, 1);
	block_cols_free(&c);
	/* a smaller budget evicts down to it; zero empties the cache */
	block_cache_set_budget((size_t)total / 8);
	block_cache_stats(&bytes, NULL, NULL);
	CHECK(bytes <= total / 8);
	block_cache_set_budget(0);
	block_cache_stats(&bytes, NULL, NULL);
	CHECK_INT(bytes, ==, 0);
	block_cols_init(&c);
	CHECK_INT(scan_hits(blk, &c), ==, 0);
	block_cache_set_budget((size_t)256 << 20);
	block_unref(blk);
}

/* clew serve's default cache budget follows --memory-limit: a quarter of
 * it, never under the floor. */
TEST(block_cache_default_follows_memory_limit)
{
	CHECK_INT(block_cache_default_budget(4ull << 30), ==, 1ull << 30);
	CHECK_INT(block_cache_default_budget(16ull << 30), ==, 4ull << 30);
	CHECK_INT(block_cache_default_budget(1ull << 30), ==, 256ull << 20);
	CHECK_INT(block_cache_default_budget(1000ull << 20), ==, 250ull << 20);
	CHECK_INT(block_cache_default_budget(256ull << 20), ==, BLOCK_CACHE_MIN_BYTES);
	CHECK_INT(block_cache_default_budget(1ull << 20), ==, 64ull << 20);
	CHECK_INT(block_cache_default_budget(0), ==, 64ull << 20);
	CHECK(block_cache_default_budget(UINT64_MAX) <= SIZE_MAX / 2);
}
