/* Unit tests of the sketch pool and of sketches past 32-bit bucket counts:
 * pool blocks of every size are aligned, disjoint and reused once given
 * back, a pool that adopts another keeps its blocks alive, a block larger
 * than any chunk works; a bucket past 2^32 - 1 values keeps its high bits
 * through adds, growth, collapse and merges, and quantiles see them; a
 * sketch in a pool answers as one on the heap. */
#include "../../testlib.h"

#include <math.h>
#include <stdint.h>
#include <string.h>

#include "base/err.h"
#include "query/sketch.h"
#include "query/sketch_pool.h"

TEST(sketch_pool_blocks_disjoint_aligned_reused)
{
	struct sketch_pool *p = sketch_pool_new();
	CHECK(p != NULL);
	if (!p)
		return;
	enum { N = 600 };
	static uint8_t *b[N];
	static size_t n[N];
	for (int i = 0; i < N; i++) {
		n[i] = 1 + (size_t)(i * 7919 % 40000); /* 1 byte to 40 KB */
		b[i] = sketch_pool_alloc(p, n[i]);
		CHECK(b[i] != NULL);
		if (!b[i])
			return;
		CHECK(((uintptr_t)b[i] & 63) == 0);
		memset(b[i], i & 0xff, n[i]);
	}
	for (int i = 0; i < N; i++) { /* nothing overwrote another block */
		bool same = true;
		for (size_t k = 0; k < n[i]; k++)
			same &= b[i][k] == (uint8_t)(i & 0xff);
		CHECK(same);
	}
	size_t held = sketch_pool_bytes(p);
	CHECK(held >= (size_t)2 << 20);
	/* a block given back is the next one of its size */
	sketch_pool_release(p, b[10], n[10]);
	CHECK(sketch_pool_alloc(p, n[10]) == b[10]);
	sketch_pool_release(p, b[11], n[11]);
	CHECK(sketch_pool_alloc(p, n[11] * 4 + 64) != b[11]); /* another size: not that one */
	/* larger than any chunk: a chunk of its own, usable to its last byte */
	size_t big = (size_t)80 << 20;
	uint8_t *x = sketch_pool_alloc(p, big);
	CHECK(x != NULL);
	if (x) {
		x[0] = 1;
		x[big - 1] = 2;
		CHECK(x[0] + x[big - 1] == 3);
	}
	CHECK(sketch_pool_bytes(p) >= held + big);
	sketch_pool_free(p);
	sketch_pool_free(NULL);
}

TEST(sketch_pool_adopt_keeps_blocks)
{
	struct sketch_pool *dst = sketch_pool_new(), *src = sketch_pool_new();
	CHECK(dst && src);
	if (!dst || !src)
		return;
	uint8_t *a = sketch_pool_alloc(src, 1000), *c = sketch_pool_alloc(src, 200);
	uint8_t *d = sketch_pool_alloc(dst, 1000);
	CHECK(a && c && d);
	if (!a || !c || !d)
		return;
	memset(a, 0x5a, 1000);
	sketch_pool_release(src, c, 200);
	size_t both = sketch_pool_bytes(dst) + sketch_pool_bytes(src);
	sketch_pool_adopt(dst, src);
	CHECK(sketch_pool_bytes(dst) == both);
	CHECK(sketch_pool_bytes(src) == 0);
	sketch_pool_free(src); /* a's memory now belongs to dst */
	CHECK(a[0] == 0x5a && a[999] == 0x5a);
	CHECK(sketch_pool_alloc(dst, 200) == c); /* src's free block came along */
	uint8_t *e = sketch_pool_alloc(dst, 1000);
	CHECK(e != NULL && e != a && e != d);
	sketch_pool_free(dst);
}

/* Pretend n values of v went into s (count kept as sketch_add would). */
static int add_n(struct sketch *s, double v, uint64_t n)
{
	s->count += n;
	if (!(v >= s->min))
		s->min = v;
	if (!(v <= s->max))
		s->max = v;
	return sketch_add_slow(s, sketch_key(s, v), n);
}

static uint64_t bucket_of(const struct sketch *s, double v)
{
	uint32_t i = (uint32_t)sketch_key(s, v) - (uint32_t)s->offset;
	return i < s->len ? sketch_slot(s, i) : 0;
}

TEST(sketch_bucket_past_32_bits)
{
	struct sketch_pool *p = sketch_pool_new();
	CHECK(p != NULL);
	if (!p)
		return;
	for (int pooled = 0; pooled < 2; pooled++) {
		struct sketch s;
		CHECK_INT(sketch_init_pool(&s, 0.01, 256, pooled ? p : NULL), ==, 0);
		/* the fast path up to the brim, then one past it */
		CHECK_INT(add_n(&s, 100.0, UINT32_MAX - 1), ==, 0);
		CHECK_INT(sketch_add(&s, 100.0), ==, 0);
		CHECK_INT(sketch_add(&s, 100.0), ==, 0);
		CHECK(bucket_of(&s, 100.0) == (uint64_t)UINT32_MAX + 1);
		CHECK_INT((int)s.n_carry, ==, 1);
		CHECK(s.bucketed == (uint64_t)UINT32_MAX + 1);
		/* a far larger bucket and a small one beside it */
		CHECK_INT(add_n(&s, 1000.0, 6000000000ull), ==, 0);
		CHECK_INT(add_n(&s, 1010.0, 5), ==, 0);
		CHECK(bucket_of(&s, 1000.0) == 6000000000ull);
		CHECK(bucket_of(&s, 1010.0) == 5);
		double med = sketch_quantile(&s, 0.5);
		CHECK(fabs(med - 1000.0) <= 1000.0 * 0.01);
		double low = sketch_quantile(&s, 0.2);
		CHECK(fabs(low - 100.0) <= 100.0 * 0.01);
		/* the window is 256 buckets: a key 800 above folds the buckets of
		 * 100 and 1000 into the lowest one kept, carries and all */
		CHECK_INT(add_n(&s, 1e9, 1), ==, 0);
		CHECK(s.collapsed);
		CHECK(s.bucketed == (uint64_t)UINT32_MAX + 1 + 6000000000ull + 5 + 1);
		uint64_t sum = 0;
		for (uint32_t i = 0; i < s.len; i++)
			sum += sketch_slot(&s, i);
		CHECK(sum == s.bucketed);
		CHECK(bucket_of(&s, 1e9) == 1);
		CHECK(sketch_slot(&s, 0) == (uint64_t)UINT32_MAX + 1 + 6000000000ull + 5);
		CHECK(sketch_quantile(&s, 1) == 1e9);

		/* merged twice into a sketch with room: every bucket doubled */
		struct sketch m;
		CHECK_INT(sketch_init_pool(&m, 0.01, 4096, pooled ? p : NULL), ==, 0);
		struct sketch t;
		CHECK_INT(sketch_init(&t, 0.01, 4096), ==, 0);
		CHECK_INT(add_n(&t, 100.0, 3000000000ull), ==, 0);
		CHECK_INT(add_n(&t, 2000.0, 7), ==, 0);
		CHECK_INT(sketch_merge(&m, &t), ==, 0);
		CHECK_INT(sketch_merge(&m, &t), ==, 0);
		CHECK(bucket_of(&m, 100.0) == 6000000000ull);
		CHECK(bucket_of(&m, 2000.0) == 14);
		CHECK(m.count == 2 * t.count && m.bucketed == 2 * t.bucketed);
		double q = sketch_quantile(&m, 0.999999); /* rank 6e9 - 6000: still 100 */
		CHECK(fabs(q - 100.0) <= 1.0);
		q = sketch_quantile(&m, 0.99999999999); /* rank past 6e9: 2000 */
		CHECK(fabs(q - 2000.0) <= 20.0);
		CHECK(sketch_bytes(&m) > sizeof m);
		sketch_free(&t);
		sketch_free(&m);
		sketch_free(&s);
		CHECK(s.count == 0 && s.n_carry == 0 && s.counts == NULL);
	}
	sketch_pool_free(p);
}

TEST(sketch_in_pool_answers_as_on_heap)
{
	struct sketch_pool *p = sketch_pool_new();
	CHECK(p != NULL);
	if (!p)
		return;
	struct sketch a, b;
	CHECK_INT(sketch_init(&a, 0.01, 0), ==, 0);
	CHECK_INT(sketch_init_pool(&b, 0.01, 0, p), ==, 0);
	uint64_t x = 12345;
	for (int i = 0; i < 200000; i++) {
		x = x * 6364136223846793005ull + 1442695040888963407ull;
		double v = exp((double)(x >> 11) / 9007199254740992.0 * 20.0); /* 1 to 5e8 */
		CHECK_INT(sketch_add(&a, v), ==, 0);
		CHECK_INT(sketch_add(&b, v), ==, 0);
	}
	const double qs[] = {0, 0.01, 0.25, 0.5, 0.9, 0.99, 0.999, 1};
	for (size_t k = 0; k < sizeof qs / sizeof qs[0]; k++)
		CHECK(sketch_quantile(&a, qs[k]) == sketch_quantile(&b, qs[k]));
	CHECK(a.len == b.len && a.offset == b.offset);
	sketch_free(&a);
	sketch_free(&b);
	sketch_pool_free(p);
}
