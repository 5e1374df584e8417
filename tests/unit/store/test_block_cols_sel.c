/* Unit tests of block_cols_ids_sel: the scope, name and status-message ids
 * of selected spans equal block_cols_load's, the others read 0, for empty,
 * sparse, dense and full selections; bad calls are refused (another page,
 * an unknown column, a dictionary not loaded) and a page loaded in full
 * is left alone; durations of every span or some. */
#include "../../testlib.h"

#include <stdio.h>
#include <string.h>

#include "base/arena.h"
#include "base/err.h"
#include "store/block.h"
#include "store/fileops.h"

static void tid(uint8_t *p, size_t n, uint64_t v)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)(v >> (8 * (i % 8))) ^ (uint8_t)(i * 13 + 5);
}

/* 300 scopes (ids past one varint byte), 200 names, status messages. */
static struct block *sel_block(void)
{
	static char path[4096];
	struct arena a;
	struct span_batch b;
	arena_init(&a, (size_t)64 << 20);
	span_batch_init(&b, &a);
	span_batch_add_resource(&b);
	for (int k = 0; k < 300; k++) {
		struct scope *sc = span_batch_add_scope(&b, 0);
		char nm[16];
		int len = snprintf(nm, sizeof nm, "lib-%d", k);
		sc->name = slice_make(arena_memdup(&a, nm, (size_t)len), (size_t)len);
	}
	uint64_t rng = 11;
	for (int t = 0; t < 3000; t++) {
		for (int i = 0; i < 3; i++) {
			rng = rng * 6364136223846793005ull + 1442695040888963407ull;
			struct span *sp = span_batch_add_span(&b, (uint32_t)((rng >> 40) % 300));
			tid(sp->trace_id, 16, (uint64_t)t * 104729 + 3);
			tid(sp->span_id, 8, (uint64_t)t * 8 + (uint64_t)i + 1);
			sp->start_unix_ns = 1760000000000000000ll + t * 1000ll + i;
			sp->end_unix_ns = sp->start_unix_ns + (int64_t)((rng >> 30) % 100000);
			char nm[16];
			int len = snprintf(nm, sizeof nm, "op-%d", (int)((rng >> 20) % 200));
			sp->name = slice_make(arena_memdup(&a, nm, (size_t)len), (size_t)len);
			len = snprintf(nm, sizeof nm, "m%d", (int)((rng >> 12) % 150));
			sp->status_message = slice_make(arena_memdup(&a, nm, (size_t)len), (size_t)len);
		}
	}
	struct block_writer_options o = {.page_spans = 4096};
	struct block_writer *w = block_writer_new(&o);
	int rc = block_writer_add(w, &b);
	if (rc == 0)
		rc = block_writer_finish(w, fileops_posix(), test_tmpdir(), "sel.blk", NULL);
	block_writer_free(w);
	arena_reset(&a);
	if (rc < 0)
		return NULL;
	snprintf(path, sizeof path, "%s/sel.blk", test_tmpdir());
	return block_open(fileops_posix(), path, &rc, NULL, 0);
}

TEST(block_cols_ids_sel_matches_full_decode)
{
	struct block *blk = sel_block();
	CHECK(blk != NULL);
	if (!blk)
		return;
	CHECK(block_pages(blk) >= 2);
	struct block_cols full, part;
	block_cols_init(&full);
	block_cols_init(&part);
	static uint8_t sel[1 << 16];
	const unsigned what[3] = {BLOCK_COLS_SCOPE, BLOCK_COLS_NAME, BLOCK_COLS_STATUS_MSG};
	const unsigned dicts = BLOCK_COLS_DICT_NAMES | BLOCK_COLS_DICT_VALUES;
	uint64_t rng = 5;
	for (uint32_t p = 0; p < block_pages(blk); p++) {
		CHECK_INT(block_cols_load(blk, p, BLOCK_COLS_SCOPE | BLOCK_COLS_NAME | BLOCK_COLS_STATUS_MSG, &full), ==, 0);
		uint32_t n = full.spans;
		CHECK(n > 0 && n < sizeof sel);
		bool big_scope = false;
		for (uint32_t i = 0; i < n; i++)
			big_scope |= full.scope[i] >= 128;
		CHECK(big_scope);
		for (int mode = 0; mode < 4; mode++) { /* none, sparse, dense, all */
			for (uint32_t i = 0; i < n; i++) {
				rng = rng * 6364136223846793005ull + 1442695040888963407ull;
				sel[i] = mode == 3 || (mode == 1 && (rng >> 58) == 0) || (mode == 2 && (rng >> 63));
			}
			for (int k = 0; k < 3; k++) {
				CHECK_INT(block_cols_load(blk, p, dicts, &part), ==, 0);
				CHECK_INT(block_cols_ids_sel(blk, p, &part, what[k], sel), ==, 0);
				const uint32_t *got = k == 0 ? part.scope : k == 1 ? part.name : part.status_msg;
				const uint32_t *want = k == 0 ? full.scope : k == 1 ? full.name : full.status_msg;
				uint32_t bad = 0;
				for (uint32_t i = 0; i < n; i++)
					bad += got[i] != (sel[i] ? want[i] : 0);
				CHECK_INT(bad, ==, 0);
			}
		}
	}
	/* durations: every span selected takes the whole column, some the
	 * selected ones only; both equal block_cols_load's */
	for (uint32_t p = 0; p < block_pages(blk); p++) {
		CHECK_INT(block_cols_load(blk, p, BLOCK_COLS_DURATION, &full), ==, 0);
		uint32_t n = full.spans;
		for (int mode = 0; mode < 2; mode++) {
			for (uint32_t i = 0; i < n; i++)
				sel[i] = mode == 0 || i % 5 == 2;
			block_cols_free(&part); /* the whole column is not loaded yet */
			block_cols_init(&part);
			CHECK_INT(block_cols_load(blk, p, 0, &part), ==, 0);
			CHECK_INT(block_cols_duration_sel(blk, p, &part, sel), ==, 0);
			uint32_t bad = 0;
			for (uint32_t i = 0; i < n; i++)
				bad += part.duration[i] != (sel[i] ? full.duration[i] : 0);
			CHECK_INT(bad, ==, 0);
			/* done again: nothing changes */
			CHECK_INT(block_cols_duration_sel(blk, p, &part, sel), ==, 0);
			CHECK(part.duration[n - 1] == (sel[n - 1] ? full.duration[n - 1] : 0));
		}
	}
	/* refused: another page, an unknown column; a dictionary not loaded */
	CHECK_INT(block_cols_load(blk, 0, 0, &part), ==, 0);
	CHECK_INT(block_cols_ids_sel(blk, 1, &part, BLOCK_COLS_SCOPE, sel), ==, CLEW_EINVAL);
	CHECK_INT(block_cols_ids_sel(blk, 0, &part, BLOCK_COLS_DURATION, sel), ==, CLEW_EINVAL);
	CHECK_INT(block_cols_ids_sel(blk, 0, &part, BLOCK_COLS_NAME, sel), ==, CLEW_EINVAL);
	CHECK_INT(block_cols_ids_sel(blk, 0, &part, BLOCK_COLS_STATUS_MSG, sel), ==, CLEW_EINVAL);
	struct block_cols fresh;
	block_cols_init(&fresh);
	CHECK_INT(block_cols_ids_sel(blk, 0, &fresh, BLOCK_COLS_SCOPE, sel), ==, CLEW_EINVAL);
	/* a column loaded in full stays as it is */
	CHECK_INT(block_cols_load(blk, 0, BLOCK_COLS_SCOPE, &part), ==, 0);
	memset(sel, 0, sizeof sel);
	CHECK_INT(block_cols_ids_sel(blk, 0, &part, BLOCK_COLS_SCOPE, sel), ==, 0);
	CHECK_INT(block_cols_load(blk, 0, BLOCK_COLS_SCOPE, &full), ==, 0);
	CHECK(memcmp(part.scope, full.scope, full.spans * sizeof *full.scope) == 0);
	block_cols_free(&fresh);
	block_cols_free(&full);
	block_cols_free(&part);
	block_unref(blk);
}
