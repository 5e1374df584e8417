/* Unit tests of the dedicated span attribute columns (format version 2):
 * the writer picks at most four keys that at least half of a page's spans
 * carry, each first occurrence a string, most spans first; reading a key
 * through its dedicated column (block_cols_key_sel) answers what the
 * generic span attribute columns answer (block_cols_keys), for every span
 * or some; a dedicated column that disagrees with them, or names a key the
 * page lacks, fails block_check and the read; a version 1 block (no
 * dedicated columns) still opens, checks and reads. */
#include "../../testlib.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zstd.h>

#include "base/arena.h"
#include "base/crc32c.h"
#include "base/err.h"
#include "store/block.h"
#include "store/fileops.h"

static void tid(uint8_t *p, size_t n, uint64_t v)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)(v >> (8 * (i % 8))) ^ (uint8_t)(i * 17 + 1);
}

static struct attr *add_attr(struct arena *a, struct span *sp, const char *key)
{
	struct attr *it = arena_alloc(a, (sp->attrs.n + 1) * sizeof *it);
	if (sp->attrs.n)
		memcpy(it, sp->attrs.items, sp->attrs.n * sizeof *it);
	sp->attrs.items = it;
	it = &it[sp->attrs.n++];
	memset(it, 0, sizeof *it);
	it->key = slice_cstr(key);
	return it;
}

static void add_str(struct arena *a, struct span *sp, const char *key, const char *prefix, int v)
{
	char s[32];
	int len = snprintf(s, sizeof s, "%s%d", prefix, v);
	struct attr *it = add_attr(a, sp, key);
	it->value.type = ANY_STRING;
	it->value.u.str = slice_make(arena_memdup(a, s, (size_t)len), (size_t)len);
}

/* 2,000 spans in pages of about 1,000: customer.id and k1 on every span
 * (customer.id twice on some: the first counts), k2 on 90%, half on 75%,
 * k3 on exactly half (a fifth candidate: over the cap), mixed on 90% but
 * an int on one span in 50, rare on 10%, num an int everywhere. */
static char *ded_block(const char *name)
{
	static char path[4096];
	struct arena a;
	struct span_batch b;
	arena_init(&a, (size_t)64 << 20);
	span_batch_init(&b, &a);
	span_batch_add_resource(&b);
	span_batch_add_scope(&b, 0);
	for (int t = 0; t < 500; t++) {
		for (int i = 0; i < 4; i++) {
			int n = t * 4 + i;
			struct span *sp = span_batch_add_span(&b, 0);
			tid(sp->trace_id, 16, (uint64_t)t * 7919 + 11);
			tid(sp->span_id, 8, (uint64_t)n + 1);
			sp->start_unix_ns = 1760000000000000000ll + n * 1000ll;
			sp->end_unix_ns = sp->start_unix_ns + 5000 + n;
			sp->name = slice_cstr("op");
			if (n % 4 != 0)
				add_str(&a, sp, "half", "h", n % 7);
			add_str(&a, sp, "customer.id", "acct-", (n * 37) % 300);
			if (n % 13 == 0)
				add_str(&a, sp, "customer.id", "second-", n);
			add_str(&a, sp, "k1", "v", n % 3);
			if (n % 10 != 0)
				add_str(&a, sp, "k2", "w", n % 5);
			if (n % 4 < 2)
				add_str(&a, sp, "k3", "x", n % 2);
			if (n % 10 != 3) {
				if (n % 50 == 7) {
					struct attr *it = add_attr(&a, sp, "mixed");
					it->value.type = ANY_INT;
					it->value.u.i = 7;
				} else {
					add_str(&a, sp, "mixed", "m", n % 4);
				}
			}
			if (n % 10 == 0)
				add_str(&a, sp, "rare", "r", n);
			struct attr *it = add_attr(&a, sp, "num");
			it->value.type = ANY_INT;
			it->value.u.i = n;
		}
	}
	struct block_writer_options o = {.page_spans = 1000};
	struct block_writer *w = block_writer_new(&o);
	int rc = block_writer_add(w, &b);
	if (rc == 0)
		rc = block_writer_finish(w, fileops_posix(), test_tmpdir(), name, NULL);
	block_writer_free(w);
	arena_reset(&a);
	snprintf(path, sizeof path, "%s/%s", test_tmpdir(), name);
	return rc == 0 ? path : NULL;
}

/* The keys of page p's dedicated columns, "," separated, in slot order. */
static void ded_keys(struct block *b, uint32_t p, struct block_cols *c, char *out, size_t cap)
{
	out[0] = 0;
	for (int k = 0; k < BLOCK_DED_MAX; k++) {
		uint32_t kid = block_page(b, p)->ded_key[k];
		if (!kid)
			continue;
		size_t n = strlen(out);
		if (kid - 1 < c->dict_n[1])
			snprintf(out + n, cap - n, "%s%.*s", n ? "," : "", (int)c->dict[1][kid - 1].len,
				 (const char *)c->dict[1][kid - 1].p);
		else
			snprintf(out + n, cap - n, "%s?", n ? "," : "");
	}
}

/* Every key of every page read by block_cols_key_sel (dedicated column or
 * not) against block_cols_keys' generic walk, with sel NULL and a sparse
 * selection; 0 when they agree. */
static int compare_keys(struct block *b)
{
	struct block_cols c;
	struct block_key_col kc = {0};
	struct block_keys_col ks = {0};
	int bad = 0;
	block_cols_init(&c);
	for (uint32_t p = 0; p < block_pages(b) && !bad; p++) {
		if (block_cols_load(b, p, BLOCK_COLS_DICT_KEYS | BLOCK_COLS_DICT_VALUES, &c) < 0)
			return -1;
		uint8_t *want = calloc(c.dict_n[1] + 1, 1), *sel = calloc(c.spans + 1, 1);
		for (uint32_t i = 0; i < c.spans; i++)
			sel[i] = i % 3 == 1;
		for (uint32_t kid = 0; kid < c.dict_n[1] && !bad; kid++) {
			memset(want, 0, c.dict_n[1]);
			want[kid] = 1;
			for (int s = 0; s < 2 && !bad; s++) {
				const uint8_t *sl = s ? sel : NULL;
				if (block_cols_key_sel(b, p, &c, kid, sl, &kc) < 0 ||
				    block_cols_keys(b, p, &c, want, sl, &ks) < 0) {
					bad = -2;
					break;
				}
				for (uint32_t i = 0; i < c.spans && !bad; i++) {
					bool has = ks.first[i] < ks.first[i + 1];
					uint8_t t = has ? ks.type[ks.first[i]] : BLOCK_KEY_NONE;
					if (kc.type[i] != t || (has && t == ANY_STRING && kc.val[i] != ks.val[ks.first[i]]))
						bad = 1;
				}
			}
		}
		free(want);
		free(sel);
	}
	block_key_col_free(&kc);
	block_keys_col_free(&ks);
	block_cols_free(&c);
	return bad;
}

TEST(block_ded_columns_chosen_and_read)
{
	char *path = ded_block("ded.blk");
	CHECK(path != NULL);
	char err[512];
	int rc;
	CHECK_INT(block_check(fileops_posix(), path, err, sizeof err, NULL), ==, 0);
	struct block *b = block_open(fileops_posix(), path, &rc, err, sizeof err);
	CHECK(b != NULL);
	CHECK_INT(block_pages(b), ==, 2);
	struct block_cols c;
	block_cols_init(&c);
	char keys[256];
	for (uint32_t p = 0; p < block_pages(b); p++) {
		CHECK_INT(block_cols_load(b, p, BLOCK_COLS_DICT_KEYS, &c), ==, 0);
		ded_keys(b, p, &c, keys, sizeof keys);
		CHECK_STR(keys, "customer.id,k1,k2,half");
	}
	block_cols_free(&c);
	struct block_info in;
	block_get_info(b, &in);
	CHECK(in.column_raw_bytes[BCOL_SPAN_DED] > 0 && in.column_raw_bytes[BCOL_SPAN_DED + 3] > 0);
	CHECK_INT(compare_keys(b), ==, 0);
	block_unref(b);
}

/* Rewrite section (page, col) of the block at path (page UINT32_MAX: the
 * meta section) through mutate (on its decompressed bytes), stored raw with
 * its CRC, the sections after it, the directory and the tail moved and
 * re-checksummed to match: a block whose only fault is that content. 0 or
 * -1. */
static int rewrite_section(const char *path, uint32_t page, unsigned col, void (*mutate)(uint8_t *p, size_t n))
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return -1;
	static uint8_t in[1 << 20], out[1 << 20];
	size_t n = fread(in, 1, sizeof in, f);
	fclose(f);
	if (n < 56 || n == sizeof in)
		return -1;
	const uint8_t *tail = in + n - 40;
	uint64_t dir_off, dir_len;
	uint32_t n_dir, n_pages;
	memcpy(&dir_off, tail, 8);
	memcpy(&dir_len, tail + 8, 8);
	memcpy(&n_dir, tail + 16, 4);
	memcpy(&n_pages, tail + 24, 4);
	uint32_t ncols = (n_dir - 4) / n_pages, target = page == UINT32_MAX ? n_dir - 1 : page * ncols + col;
	uint8_t *dir = malloc(dir_len);
	memcpy(dir, in + dir_off, dir_len);
	size_t o = 16;
	memcpy(out, in, 16);
	for (uint32_t i = 0; i < n_dir; i++) {
		uint8_t *e = dir + (size_t)i * 28;
		uint64_t off;
		uint32_t len, raw;
		memcpy(&off, e, 8);
		memcpy(&len, e + 8, 4);
		memcpy(&raw, e + 12, 4);
		if (i == target) {
			if (e[21] == 1)
				ZSTD_decompress(out + o, raw, in + off, len);
			else
				memcpy(out + o, in + off, len);
			mutate(out + o, raw);
			e[21] = 0;
			len = raw;
			uint32_t crc = crc32c(0, out + o, len);
			memcpy(e + 16, &crc, 4);
		} else {
			memcpy(out + o, in + off, len);
		}
		uint64_t no = o;
		memcpy(e, &no, 8);
		memcpy(e + 8, &len, 4);
		o += len;
	}
	uint64_t ndo = o;
	memcpy(out + o, dir, dir_len);
	o += dir_len;
	uint8_t *nt = out + o;
	memcpy(nt, tail, 40);
	memcpy(nt, &ndo, 8);
	uint32_t dcrc = crc32c(0, dir, dir_len);
	memcpy(nt + 20, &dcrc, 4);
	uint32_t tcrc = crc32c(0, nt, 28);
	memcpy(nt + 28, &tcrc, 4);
	o += 40;
	free(dir);
	if (!(f = fopen(path, "wb")))
		return -1;
	size_t w = fwrite(out, 1, o, f);
	fclose(f);
	return w == o ? 0 : -1;
}

/* Another valid value id for the first span that has one. */
static void swap_first_value(uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (p[i] > 1 && p[i] < 0x80) {
			p[i] = p[i] == 2 ? 3 : 2;
			return;
		}
	}
}

/* The first span's value far past the dictionary. */
static void value_out_of_range(uint8_t *p, size_t n)
{
	if (n >= 2) {
		p[0] = 0xff;
		p[1] = 0x7f;
	}
}

TEST(block_ded_corrupt_columns_rejected)
{
	void (*const muts[])(uint8_t *, size_t) = {swap_first_value, value_out_of_range};
	for (int m = 0; m < 2; m++) {
		char name[32];
		snprintf(name, sizeof name, "bad%d.blk", m);
		char *path = ded_block(name);
		CHECK(path != NULL);
		CHECK_INT(rewrite_section(path, 1, BCOL_SPAN_DED + 2, muts[m]), ==, 0);
		char err[512];
		int rc;
		uint64_t off = 0;
		CHECK_INT(block_check(fileops_posix(), path, err, sizeof err, &off), ==, CLEW_ECORRUPT);
		CHECK(strstr(err, "span_dedicated_2") != NULL);
		CHECK(off > 0);
		struct block *b = block_open(fileops_posix(), path, &rc, err, sizeof err);
		CHECK(b != NULL); /* the directory and CRCs are sound: the column's content is not */
		if (m == 1) {
			struct block_cols c;
			struct block_key_col kc = {0};
			block_cols_init(&c);
			CHECK_INT(block_cols_load(b, 1, BLOCK_COLS_DICT_KEYS | BLOCK_COLS_DICT_VALUES, &c), ==, 0);
			uint32_t kid = block_page(b, 1)->ded_key[2] - 1;
			CHECK_INT(block_cols_key_sel(b, 1, &c, kid, NULL, &kc), ==, CLEW_ECORRUPT);
			block_key_col_free(&kc);
			block_cols_free(&c);
		}
		block_unref(b);
	}
}

/* The page table's first dedicated key of page 0 cleared: its column is
 * then a section without a key. */
static void drop_first_key(uint8_t *p, size_t n)
{
	if (n >= 152 + 96)
		memset(p + 152 + 80, 0, 4);
}

/* Its second key made the first's: one key named twice. */
static void repeat_key(uint8_t *p, size_t n)
{
	if (n >= 152 + 96)
		memcpy(p + 152 + 84, p + 152 + 80, 4);
}

TEST(block_ded_page_table_must_match)
{
	void (*const muts[])(uint8_t *, size_t) = {drop_first_key, repeat_key};
	for (int m = 0; m < 2; m++) {
		char name[32], err[512];
		int rc;
		snprintf(name, sizeof name, "meta%d.blk", m);
		char *path = ded_block(name);
		CHECK(path != NULL);
		CHECK_INT(rewrite_section(path, UINT32_MAX, 0, muts[m]), ==, 0);
		struct block *b = block_open(fileops_posix(), path, &rc, err, sizeof err);
		CHECK(b == NULL);
		CHECK_INT(rc, ==, CLEW_ECORRUPT);
		CHECK(strstr(err, "dedicated") != NULL);
		CHECK_INT(block_check(fileops_posix(), path, err, sizeof err, NULL), ==, CLEW_ECORRUPT);
	}
}

TEST(block_ded_version_1_still_reads)
{
	const char *v1 = "fuzz/corpus/block_read/full_pages";
	FILE *f = fopen(v1, "rb");
	if (!f) {
		fprintf(stderr, "    (%s missing: run from the repository root; skipped)\n", v1);
		return;
	}
	fclose(f);
	char err[512];
	int rc;
	CHECK_INT(block_check(fileops_posix(), v1, err, sizeof err, NULL), ==, 0);
	struct block *b = block_open(fileops_posix(), v1, &rc, err, sizeof err);
	CHECK(b != NULL);
	CHECK(block_pages(b) > 1);
	for (uint32_t p = 0; p < block_pages(b); p++)
		for (int k = 0; k < BLOCK_DED_MAX; k++)
			CHECK_INT(block_page(b, p)->ded_key[k], ==, 0);
	uint8_t *data;
	size_t len;
	CHECK_INT(block_read_column(b, 0, BCOL_SPAN_DED, &data, &len), ==, CLEW_EINVAL);
	CHECK_INT(compare_keys(b), ==, 0);
	block_unref(b);
}
