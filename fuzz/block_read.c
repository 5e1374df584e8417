/* Fuzz target for the block reader: the input is written as a block file,
 * which is checked, opened, searched for the trace ids its first bytes and
 * its page table name, and read page by page, whole and through the query
 * engine's column decoder (a dedicated attribute column too, for the keys
 * that have one). Nothing may crash, and a block that block_check passes
 * must also read without error. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/arena.h"
#include "base/err.h"
#include "base/log.h"
#include "store/block.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char path[256];
	if (!path[0]) {
		const char *tmp = getenv("TMPDIR");
		snprintf(path, sizeof path, "%s/clew-fuzz-block-%d.blk", tmp && tmp[0] ? tmp : "/tmp", (int)getpid());
		log_set_level(LOG_ERROR);
		block_cache_set_budget(1 << 20);
	}
	FILE *f = fopen(path, "wb");
	if (!f)
		return 0;
	if (size)
		fwrite(data, 1, size, f);
	fclose(f);
	char err[512];
	uint64_t off;
	int check_rc = block_check(fileops_posix(), path, err, sizeof err, &off);
	int rc;
	struct block *b = block_open(fileops_posix(), path, &rc, err, sizeof err);
	if (!b) {
		if (check_rc == 0)
			abort(); /* check passed a block that does not open */
		unlink(path);
		return 0;
	}
	struct arena a;
	struct span_batch out;
	arena_init(&a, 64u << 20);
	uint8_t id[16] = {0};
	memcpy(id, data, size < 16 ? size : 16);
	span_batch_init(&out, &a);
	block_get_trace(b, id, &out);
	for (uint32_t p = 0; p < block_pages(b) && p < 8; p++) {
		arena_reset(&a);
		span_batch_init(&out, &a);
		rc = block_get_trace(b, block_page(b, p)->first_trace_id, &out);
		if (check_rc == 0 && rc != 0 && rc != CLEW_ENOMEM)
			abort();
		arena_reset(&a);
		span_batch_init(&out, &a);
		rc = block_read_page(b, p, &out);
		if (check_rc == 0 && rc != 0 && rc != CLEW_ENOMEM)
			abort();
		/* the query engine's column decoder: every column, then one key */
		struct block_cols c;
		struct block_key_col k = {0};
		block_cols_init(&c);
		rc = block_cols_load(b, p, 0xfffu, &c);
		if (check_rc == 0 && rc != 0 && rc != CLEW_ENOMEM)
			abort();
		if (rc == 0 && c.dict_n[1] > 0) {
			rc = block_cols_key(b, p, &c, (uint32_t)(size ? data[size - 1] : 0) % c.dict_n[1], &k);
			if (check_rc == 0 && rc != 0 && rc != CLEW_ENOMEM)
				abort();
		}
		/* the keys with a dedicated column, through it, for every span
		 * and for every other one */
		for (int d = 0; d < BLOCK_DED_MAX && c.dict_n[1] > 0; d++) {
			uint32_t kid = block_page(b, p)->ded_key[d];
			static uint8_t sel[1 << 16];
			if (!kid)
				continue;
			for (size_t i = 0; i < sizeof sel; i++)
				sel[i] = i & 1;
			rc = block_cols_load(b, p, BLOCK_COLS_DICT_KEYS | BLOCK_COLS_DICT_VALUES, &c);
			if (rc == 0)
				rc = block_cols_key_sel(b, p, &c, kid - 1, c.spans < sizeof sel ? sel : NULL, &k);
			if (check_rc == 0 && rc != 0 && rc != CLEW_ENOMEM)
				abort();
		}
		block_key_col_free(&k);
		block_cols_free(&c);
	}
	arena_reset(&a);
	block_unref(b);
	unlink(path);
	return 0;
}
