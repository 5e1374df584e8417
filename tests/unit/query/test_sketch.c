/* Unit tests of the quantile sketch: the mapping's bucket bounds, quantiles
 * against exact ones on several distributions (also after merging sketches
 * built on shards), collapsing at the bucket cap, zeros, negatives and
 * non-finite input, and bad arguments. */
#include "../../testlib.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "base/err.h"
#include "query/sketch.h"

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint64_t rng_next(void)
{
	uint64_t x = rng_state;
	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	rng_state = x;
	return x * 0x2545f4914f6cdd1dull;
}

/* uniform in (0, 1) */
static double rng_unit(void)
{
	return ((double)(rng_next() >> 11) + 0.5) / 9007199254740992.0;
}

static double rng_normal(void)
{
	return sqrt(-2 * log(rng_unit())) * cos(2 * M_PI * rng_unit());
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static const double qs[] = {0.001, 0.01, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99, 0.999};

/* 0, or the first q whose estimate is off by more than alpha (printed). */
static int check_quantiles(const struct sketch *s, double *vals, size_t n, const char *what)
{
	qsort(vals, n, sizeof *vals, cmp_double);
	for (size_t i = 0; i < sizeof qs / sizeof qs[0]; i++) {
		double exact = vals[(size_t)floor(qs[i] * (double)(n - 1))];
		double est = sketch_quantile(s, qs[i]);
		if (!(fabs(est - exact) <= s->alpha * fabs(exact) * (1 + 1e-9))) {
			fprintf(stderr, "%s: q=%g exact=%.17g est=%.17g rel=%g\n", what, qs[i], exact, est,
				fabs(est - exact) / exact);
			return -1;
		}
	}
	if (sketch_quantile(s, 0) != vals[0] || sketch_quantile(s, 1) != vals[n - 1])
		return -1;
	return 0;
}

enum dist { D_UNIFORM, D_LOGNORMAL, D_PARETO, D_SINGLE, D_TWO, D_TINY_HUGE };

static double draw(enum dist d)
{
	switch (d) {
	case D_UNIFORM:
		return 1 + rng_unit() * 999;
	case D_LOGNORMAL: /* durations in ns around 50 ms */
		return exp(log(50e6) + 1.5 * rng_normal());
	case D_PARETO: /* heavy tail, shape 1.1 */
		return 1000 / pow(rng_unit(), 1 / 1.1);
	case D_SINGLE:
		return 42.5;
	case D_TWO:
		return rng_next() & 1 ? 3 : 1e9;
	case D_TINY_HUGE:
		return exp((rng_unit() - 0.5) * 1200); /* 1e-260 .. 1e260 */
	}
	return 0;
}

static const char *dist_name[] = {"uniform", "lognormal", "pareto", "single", "two", "tiny_huge"};

TEST(sketch_init_rejects_bad_arguments)
{
	struct sketch s;
	CHECK_INT(sketch_init(&s, -0.1, 0), ==, CLEW_EINVAL);
	CHECK_INT(sketch_init(&s, 0.6, 0), ==, CLEW_EINVAL);
	CHECK_INT(sketch_init(&s, 1e-6, 0), ==, CLEW_EINVAL);
	CHECK_INT(sketch_init(&s, NAN, 0), ==, CLEW_EINVAL);
	CHECK_INT(sketch_init(&s, 0.01, 8), ==, CLEW_EINVAL);
	CHECK_INT(sketch_init(&s, 0.01, SKETCH_MAX_BUCKETS + 1), ==, CLEW_EINVAL);
	CHECK_INT(sketch_init(&s, 0, 0), ==, 0);
	CHECK(s.alpha == SKETCH_DEFAULT_ALPHA);
	CHECK_INT(s.max_buckets, ==, SKETCH_DEFAULT_MAX_BUCKETS);
	CHECK(isnan(sketch_quantile(&s, 0.5)));
	sketch_free(&s);
}

/* Every bucket's bounds are less than gamma apart, and values map into the
 * bucket whose bounds hold them. */
TEST(sketch_mapping_bounds)
{
	const double alphas[] = {0.01, 0.001, 0.05, 1e-5};
	for (size_t a = 0; a < sizeof alphas / sizeof alphas[0]; a++) {
		struct sketch s;
		CHECK_INT(sketch_init(&s, alphas[a], 0), ==, 0);
		double gamma = (1 + alphas[a]) / (1 - alphas[a]);
		for (int i = 0; i < 20000; i++) {
			double v = exp((rng_unit() - 0.5) * 1400);
			if (i % 7 == 0)
				v = ldexp(1, (int)(rng_next() % 2000) - 1000); /* powers of two */
			int32_t k = sketch_key(&s, v);
			double lo, hi;
			sketch_bucket_bounds(&s, k, &lo, &hi);
			CHECK(hi / lo <= gamma);
			CHECK(lo <= v * (1 + 1e-12) && v <= hi * (1 + 1e-12));
			CHECK(sketch_key(&s, v * (1 + 4 * alphas[a])) > k);
		}
		/* monotone */
		int32_t prev = sketch_key(&s, 1e-300);
		for (double v = 1e-300; v < 1e300; v *= 1.001) {
			int32_t k = sketch_key(&s, v);
			CHECK(k >= prev);
			prev = k;
		}
		sketch_free(&s);
	}
}

TEST(sketch_quantiles_within_alpha)
{
	enum { N = 100000 };
	double *vals = malloc(N * sizeof *vals);
	CHECK(vals);
	for (int d = D_UNIFORM; d <= D_TINY_HUGE; d++) {
		struct sketch s;
		CHECK_INT(sketch_init(&s, 0.01, 0), ==, 0);
		double sum = 0, mn = INFINITY, mx = -INFINITY;
		for (int i = 0; i < N; i++) {
			vals[i] = draw((enum dist)d);
			sum += vals[i];
			mn = fmin(mn, vals[i]);
			mx = fmax(mx, vals[i]);
			CHECK_INT(sketch_add(&s, vals[i]), ==, 0);
		}
		CHECK_INT(s.count, ==, N);
		CHECK(s.sum == sum);
		CHECK(s.min == mn && s.max == mx);
		if (d != D_TINY_HUGE)
			CHECK(!s.collapsed);
		else
			CHECK(s.collapsed); /* 1200 nats need ~42,000 buckets > 2048 */
		if (d == D_TINY_HUGE) {
			/* only quantiles above the collapsed range keep the bound */
			qsort(vals, N, sizeof *vals, cmp_double);
			for (double q = 0.975; q < 1; q += 0.005) {
				double exact = vals[(size_t)floor(q * (N - 1))], est = sketch_quantile(&s, q);
				if (!(fabs(est - exact) <= 0.01 * exact * (1 + 1e-9)))
					fprintf(stderr, "q=%g exact=%g est=%g len=%u\n", q, exact, est, s.len);
				CHECK(fabs(est - exact) <= 0.01 * exact * (1 + 1e-9));
			}
			/* collapsed quantiles are overestimated, never under */
			CHECK(sketch_quantile(&s, 0.5) >= vals[(size_t)floor(0.5 * (N - 1))]);
		} else {
			CHECK(check_quantiles(&s, vals, N, dist_name[d]) == 0);
		}
		CHECK(s.len <= SKETCH_DEFAULT_MAX_BUCKETS);
		sketch_free(&s);
	}
	free(vals);
}

TEST(sketch_merge_of_shards_equals_whole)
{
	enum { N = 60000, SHARDS = 7 };
	double *vals = malloc(N * sizeof *vals);
	CHECK(vals);
	for (int d = D_UNIFORM; d <= D_TWO; d++) {
		struct sketch whole, shard[SHARDS], merged;
		CHECK_INT(sketch_init(&whole, 0.01, 0), ==, 0);
		CHECK_INT(sketch_init(&merged, 0.01, 0), ==, 0);
		for (int k = 0; k < SHARDS; k++)
			CHECK_INT(sketch_init(&shard[k], 0.01, 0), ==, 0);
		for (int i = 0; i < N; i++) {
			vals[i] = draw((enum dist)d);
			CHECK_INT(sketch_add(&whole, vals[i]), ==, 0);
			/* shards of uneven sizes */
			CHECK_INT(sketch_add(&shard[(rng_next() % 100) < 50 ? 0 : 1 + i % (SHARDS - 1)], vals[i]), ==, 0);
		}
		for (int k = 0; k < SHARDS; k++)
			CHECK_INT(sketch_merge(&merged, &shard[k]), ==, 0);
		CHECK_INT(merged.count, ==, whole.count);
		CHECK(merged.min == whole.min && merged.max == whole.max);
		CHECK(fabs(merged.sum - whole.sum) <= 1e-9 * fabs(whole.sum));
		for (size_t i = 0; i < sizeof qs / sizeof qs[0]; i++)
			CHECK(sketch_quantile(&merged, qs[i]) == sketch_quantile(&whole, qs[i]));
		CHECK(check_quantiles(&merged, vals, N, dist_name[d]) == 0);
		for (int k = 0; k < SHARDS; k++)
			sketch_free(&shard[k]);
		sketch_free(&whole);
		sketch_free(&merged);
	}
	free(vals);
}

TEST(sketch_collapse_bounds_memory)
{
	struct sketch s, t;
	CHECK_INT(sketch_init(&s, 0.01, 16), ==, 0);
	/* rising values: the window slides up and the low end collapses */
	for (int i = 0; i < 1000; i++)
		CHECK_INT(sketch_add(&s, pow(1.05, i)), ==, 0);
	CHECK(s.len <= 16);
	CHECK(s.collapsed);
	CHECK(sketch_bytes(&s) <= sizeof s + 16 * sizeof(uint64_t));
	double top = pow(1.05, 998), est = sketch_quantile(&s, 0.999);
	CHECK(fabs(est - top) <= 0.01 * top * 1.000001);
	/* falling values into a full window go to its lowest bucket */
	for (int i = 0; i < 100; i++)
		CHECK_INT(sketch_add(&s, 1e-3 / (i + 1)), ==, 0);
	CHECK(s.len <= 16);
	CHECK_INT(s.count, ==, 1100);
	CHECK(s.min == 1e-3 / 100);
	CHECK(sketch_quantile(&s, 0) == s.min);
	/* merging into a small-capped sketch collapses too */
	CHECK_INT(sketch_init(&t, 0.01, 16), ==, 0);
	CHECK_INT(sketch_merge(&t, &s), ==, 0);
	CHECK(t.len <= 16);
	CHECK_INT(t.count, ==, s.count);
	CHECK(sketch_quantile(&t, 0.999) == sketch_quantile(&s, 0.999));
	sketch_free(&s);
	sketch_free(&t);
}

TEST(sketch_zero_negative_and_non_finite)
{
	struct sketch s;
	CHECK_INT(sketch_init(&s, 0.02, 0), ==, 0);
	CHECK_INT(sketch_add(&s, NAN), ==, 0);
	CHECK_INT(sketch_add(&s, INFINITY), ==, 0);
	CHECK_INT(sketch_add(&s, -INFINITY), ==, 0);
	CHECK_INT(s.count, ==, 0);
	CHECK(isnan(s.min));
	CHECK_INT(sketch_add(&s, 0), ==, 0);
	CHECK_INT(sketch_add(&s, -0.0), ==, 0);
	CHECK_INT(sketch_add(&s, 4.9e-324), ==, 0); /* subnormal */
	CHECK_INT(sketch_add(&s, -7), ==, 0);
	for (int i = 0; i < 6; i++)
		CHECK_INT(sketch_add(&s, 100), ==, 0);
	CHECK_INT(s.count, ==, 10);
	CHECK_INT(s.zero_count, ==, 4);
	CHECK(s.min == -7 && s.max == 100);
	CHECK(sketch_quantile(&s, 0.2) == 0);
	CHECK(fabs(sketch_quantile(&s, 0.5) - 100) <= 2);
	CHECK(sketch_quantile(&s, 1) == 100);
	CHECK(isnan(sketch_quantile(&s, -0.1)));
	CHECK(isnan(sketch_quantile(&s, 1.1)));
	CHECK(isnan(sketch_quantile(&s, NAN)));
	sketch_free(&s);
	CHECK_INT(s.count, ==, 0);
	CHECK_INT(sketch_add(&s, 5), ==, 0); /* reusable after free */
	CHECK(sketch_quantile(&s, 0.5) == 5);
	sketch_free(&s);
}

TEST(sketch_merge_rejects_other_alpha)
{
	struct sketch a, b;
	CHECK_INT(sketch_init(&a, 0.01, 0), ==, 0);
	CHECK_INT(sketch_init(&b, 0.02, 0), ==, 0);
	CHECK_INT(sketch_add(&b, 3), ==, 0);
	CHECK_INT(sketch_merge(&a, &b), ==, CLEW_EINVAL);
	CHECK_INT(a.count, ==, 0);
	sketch_free(&b);
	CHECK_INT(sketch_merge(&a, &b), ==, CLEW_EINVAL);
	CHECK_INT(sketch_init(&b, 0.01, 0), ==, 0);
	CHECK_INT(sketch_merge(&a, &b), ==, 0); /* empty into empty */
	CHECK_INT(a.count, ==, 0);
	sketch_free(&a);
	sketch_free(&b);
}

/* The quantile as a walk from the lowest bucket up, from the public fields
 * (what sketch_quantile answered before it walked high quantiles from the
 * top). */
static double walk_up(const struct sketch *s, double q)
{
	if (s->count == 0 || !(q >= 0 && q <= 1))
		return NAN;
	if (q == 0)
		return s->min;
	if (q == 1)
		return s->max;
	double rank = q * (double)(s->count - 1), v = 0;
	uint64_t cum = s->zero_count;
	if ((double)cum <= rank) {
		for (uint32_t i = 0; i < s->len; i++) {
			cum += s->counts[i];
			if ((double)cum > rank) {
				double lo, hi;
				sketch_bucket_bounds(s, (int32_t)((int64_t)s->offset + i), &lo, &hi);
				v = lo * (2 / (1 + lo / hi));
				break;
			}
		}
		if ((double)cum <= rank)
			v = s->max;
	}
	return v < s->min ? s->min : v > s->max ? s->max : v;
}

static uint64_t bucket_sum(const struct sketch *s)
{
	uint64_t t = 0;
	for (uint32_t i = 0; i < s->len; i++)
		t += s->counts[i];
	return t;
}

/* Every quantile, high ones walked from the top, is the bottom-up walk's
 * bit for bit: small and large sketches, zeros, gaps of empty buckets,
 * collapsed sketches, merged ones; bucketed is always the buckets' sum. */
TEST(sketch_quantile_from_top_equals_walk_up)
{
	static const double extra_q[] = {0.5, 0.5000001, 0.6, 0.8, 0.97, 0.999999, 1e-9, 0.3};
	for (int round = 0; round < 60; round++) {
		struct sketch s, m;
		CHECK_INT(sketch_init(&s, round % 3 ? 0 : 0.05, round % 4 == 0 ? 16 : 0), ==, 0);
		CHECK_INT(sketch_init(&m, round % 3 ? 0 : 0.05, 0), ==, 0);
		uint32_t n = round < 10 ? (uint32_t)round + 1 : 200u + (uint32_t)(rng_next() % 5000);
		for (uint32_t k = 0; k < n; k++) {
			double v;
			switch (rng_next() % 5) {
			case 0: v = 0; break;
			case 1: v = -3; break;
			case 2: v = (double)(1 + rng_next() % 3) * 1e3; break; /* few buckets, gaps between */
			default: v = draw((enum dist)(rng_next() % 3)); break;
			}
			CHECK_INT(sketch_add(k % 2 ? &s : &m, v), ==, 0);
		}
		for (int pass = 0; pass < 2; pass++) {
			CHECK(s.bucketed == bucket_sum(&s));
			for (size_t k = 0; k < sizeof qs / sizeof qs[0] + sizeof extra_q / sizeof extra_q[0]; k++) {
				double q = k < sizeof qs / sizeof qs[0] ? qs[k] : extra_q[k - sizeof qs / sizeof qs[0]];
				double a = sketch_quantile(&s, q), b = walk_up(&s, q);
				CHECK(memcmp(&a, &b, sizeof a) == 0);
			}
			CHECK_INT(sketch_merge(&s, &m), ==, 0);
		}
		sketch_free(&s);
		sketch_free(&m);
		CHECK(s.bucketed == 0);
	}
}
