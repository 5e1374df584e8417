/* Unit tests of the page dictionaries' order: values sharing 8, 16 and 24
 * byte prefixes, values that differ only by trailing zero bytes or by
 * length, runs of more and fewer than sixteen equal prefixes, and a value
 * dictionary with every byte value first are written sorted bytewise as
 * the reader requires (block_check passes and every value reads back in
 * the order memcmp gives). */
#include "../../testlib.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/arena.h"
#include "base/err.h"
#include "store/block.h"
#include "store/fileops.h"

enum { N_VALUES = 700 };

static size_t make_value(int n, uint8_t *out)
{
	static const char *const prefixes[] = {"", "acct-000", "acct-0001-region-", "a-very-long-shared-prefix-of-"};
	size_t len = 0;
	switch (n % 5) {
	case 0: /* a prefix shared by a long run, then a number */
		len = (size_t)snprintf((char *)out, 64, "%s%d", prefixes[n % 4], n / 5);
		break;
	case 1: /* trailing zero bytes: "ab", "ab\0", "ab\0\0", ... */
		memcpy(out, "ab", 2);
		len = 2 + (size_t)(n / 5 % 12);
		memset(out + 2, 0, len - 2);
		break;
	case 2: /* one byte of every value */
		out[0] = (uint8_t)(n * 7);
		len = 1;
		break;
	case 3: /* the same eight bytes, a short tail */
		memcpy(out, "prefix8!", 8);
		out[8] = (uint8_t)(n / 5);
		len = 9;
		break;
	default: /* short distinct strings */
		len = (size_t)snprintf((char *)out, 64, "v%x", n);
		break;
	}
	return len;
}

TEST(block_dictionaries_sorted_bytewise)
{
	struct arena a;
	struct span_batch b;
	arena_init(&a, (size_t)64 << 20);
	span_batch_init(&b, &a);
	span_batch_add_resource(&b);
	span_batch_add_scope(&b, 0);
	for (int n = 0; n < N_VALUES; n++) {
		struct span *sp = span_batch_add_span(&b, 0);
		for (int i = 0; i < 16; i++)
			sp->trace_id[i] = (uint8_t)(n * 31 + i);
		for (int i = 0; i < 8; i++)
			sp->span_id[i] = (uint8_t)(n + i + 1);
		sp->start_unix_ns = 1760000000000000000ll + n * 1000ll;
		sp->end_unix_ns = sp->start_unix_ns + 5000;
		uint8_t v[64];
		size_t len = make_value(n, v);
		sp->name = slice_make(arena_memdup(&a, v, len), len); /* the names dictionary too */
		struct attr *it = arena_alloc(&a, sizeof *it);
		memset(it, 0, sizeof *it);
		it->key = slice_cstr("value");
		it->value.type = ANY_STRING;
		it->value.u.str = slice_make(arena_memdup(&a, v, len), len);
		sp->attrs.items = it;
		sp->attrs.n = 1;
	}
	struct block_writer_options o = {.page_spans = 4096};
	struct block_writer *w = block_writer_new(&o);
	int rc = block_writer_add(w, &b);
	if (rc == 0)
		rc = block_writer_finish(w, fileops_posix(), test_tmpdir(), "dict.blk", NULL);
	block_writer_free(w);
	arena_reset(&a);
	CHECK_INT(rc, ==, 0);
	char path[4096], err[512];
	snprintf(path, sizeof path, "%s/dict.blk", test_tmpdir());
	CHECK_INT(block_check(fileops_posix(), path, err, sizeof err, NULL), ==, 0);
	struct block *blk = block_open(fileops_posix(), path, &rc, err, sizeof err);
	CHECK(blk != NULL);
	if (!blk)
		return;
	struct block_cols c;
	block_cols_init(&c);
	CHECK_INT(block_cols_load(blk, 0, BLOCK_COLS_DICT_NAMES | BLOCK_COLS_DICT_VALUES, &c), ==, 0);
	for (int d = 0; d < 3; d += 2) { /* names and values */
		bool sorted = true;
		for (uint32_t i = 1; i < c.dict_n[d]; i++) {
			struct slice x = c.dict[d][i - 1], y = c.dict[d][i];
			size_t m = x.len < y.len ? x.len : y.len;
			int cmp = m ? memcmp(x.p, y.p, m) : 0;
			sorted &= cmp < 0 || (cmp == 0 && x.len < y.len);
		}
		CHECK(sorted);
	}
	CHECK(c.dict_n[0] > 500); /* the values are mostly distinct */
	block_cols_free(&c);
	block_unref(blk);
}
