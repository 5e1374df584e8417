/* The relative-error quantile sketch behind quantile_over_time(): bucket
 * mapping, the growing and collapsing dense bucket array, merge and the
 * quantile walk. The fast path of sketch_add is inline in sketch.h.
 *
 * Mapping: a value v = 2^e * (1 + t), t in [0, 1), gets f(v) = e + P(t) with
 * P(t) = (6/35)t^3 - (3/5)t^2 + (10/7)t, a monotone cubic with P(0) = 0 and
 * P(1) = 1, so f is a continuous increasing approximation of log2. Its
 * slope in log space, d ln(v) / d f = 1 / ((1 + t) P'(t)), is at most 0.7
 * (the minimum of (1 + t) P'(t) on [0, 1] is 10/7, at t = 0). Keys are
 * floor(f(v) * mult) with mult = 0.7 / ln(gamma) (plus a 1e-9 margin for
 * rounding), so the two bounds of any bucket are less than gamma apart. */
#include "query/sketch.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "base/err.h"

#define SKETCH_INITIAL_SLOTS 16
#define SKETCH_MAX_SLOPE 0.7 /* max of d ln(v) / d f, see above */

int sketch_init(struct sketch *s, double alpha, uint32_t max_buckets)
{
	if (alpha == 0)
		alpha = SKETCH_DEFAULT_ALPHA;
	if (max_buckets == 0)
		max_buckets = SKETCH_DEFAULT_MAX_BUCKETS;
	if (!(alpha >= SKETCH_MIN_ALPHA && alpha <= SKETCH_MAX_ALPHA) || max_buckets < SKETCH_MIN_BUCKETS ||
	    max_buckets > SKETCH_MAX_BUCKETS)
		return CLEW_EINVAL;
	memset(s, 0, sizeof *s);
	double gamma = (1 + alpha) / (1 - alpha);
	s->mult = SKETCH_MAX_SLOPE / log(gamma) * (1 + 1e-9);
	s->alpha = alpha;
	s->max_buckets = max_buckets;
	s->min = NAN;
	s->max = NAN;
	return 0;
}

void sketch_free(struct sketch *s)
{
	free(s->counts);
	s->counts = NULL;
	s->offset = 0;
	s->len = 0;
	s->collapsed = false;
	s->count = 0;
	s->zero_count = 0;
	s->bucketed = 0;
	s->sum = 0;
	s->min = NAN;
	s->max = NAN;
}

int sketch_add_slow(struct sketch *s, int32_t key, uint64_t n)
{
	int64_t max = s->max_buckets, nlo, nhi;
	/* the range of keys in use (slack slots at either end may be empty) */
	uint32_t ulo = 0, uhi = s->len;
	while (ulo < s->len && !s->counts[ulo])
		ulo++;
	while (uhi > ulo && !s->counts[uhi - 1])
		uhi--;
	if (ulo == uhi) {
		nlo = (int64_t)key - SKETCH_INITIAL_SLOTS / 2;
		nhi = nlo + SKETCH_INITIAL_SLOTS - 1;
	} else {
		int64_t olo = (int64_t)s->offset + ulo, ohi = (int64_t)s->offset + uhi - 1;
		int64_t slack = s->len / 4 > SKETCH_INITIAL_SLOTS / 2 ? s->len / 4 : SKETCH_INITIAL_SLOTS / 2;
		nlo = key < olo ? key : olo;
		nhi = key > ohi ? key : ohi;
		if (nhi - nlo + 1 <= max) {
			if (key > ohi)
				nhi = nhi + slack < nlo + max - 1 ? nhi + slack : nlo + max - 1;
			else
				nlo = nlo - slack > nhi - max + 1 ? nlo - slack : nhi - max + 1;
		} else {
			nlo = nhi - max + 1; /* collapse: keep the highest keys */
		}
	}
	uint32_t new_len = (uint32_t)(nhi - nlo + 1);
	if (nlo == s->offset && new_len == s->len) { /* a full window that stays */
		s->counts[0] += n;
		s->bucketed += n;
		s->collapsed = true;
		return 0;
	}
	uint64_t *nc;
	if (s->counts && ulo < uhi && new_len >= s->len && nlo <= (int64_t)s->offset + ulo) {
		/* nothing collapses: grow in place where the allocator can,
		 * move the buckets in use, clear the rest */
		if (!(nc = try_realloc(s->counts, (size_t)new_len * sizeof *nc)))
			return CLEW_ENOMEM;
		uint32_t at = (uint32_t)((int64_t)s->offset + ulo - nlo), used = uhi - ulo;
		memmove(nc + at, nc + ulo, (size_t)used * sizeof *nc);
		memset(nc, 0, (size_t)at * sizeof *nc);
		memset(nc + at + used, 0, (size_t)(new_len - at - used) * sizeof *nc);
		goto placed;
	}
	if (!(nc = try_calloc(new_len, sizeof *nc)))
		return CLEW_ENOMEM;
	for (uint32_t i = ulo; i < uhi; i++) {
		int64_t k = (int64_t)s->offset + i;
		if (k < nlo) {
			nc[0] += s->counts[i];
			s->collapsed |= s->counts[i] != 0;
		} else {
			nc[k - nlo] += s->counts[i];
		}
	}
	free(s->counts);
placed:
	s->counts = nc;
	s->offset = (int32_t)nlo;
	s->len = new_len;
	if (key < nlo) {
		nc[0] += n;
		s->collapsed = true;
	} else {
		nc[key - nlo] += n;
	}
	s->bucketed += n;
	return 0;
}

static inline int add_key(struct sketch *s, int32_t key, uint64_t n)
{
	uint32_t i = (uint32_t)key - (uint32_t)s->offset;
	if (i < s->len) {
		s->counts[i] += n;
		s->bucketed += n;
		return 0;
	}
	return sketch_add_slow(s, key, n);
}

int sketch_merge(struct sketch *dst, const struct sketch *src)
{
	if (dst->mult != src->mult)
		return CLEW_EINVAL;
	if (src->count == 0)
		return 0;
	/* from the highest key down, so a collapsing dst settles its window once */
	for (uint32_t i = src->len; i-- > 0;) {
		if (!src->counts[i])
			continue;
		int rc = add_key(dst, (int32_t)((int64_t)src->offset + i), src->counts[i]);
		if (rc < 0)
			return rc;
	}
	dst->count += src->count;
	dst->zero_count += src->zero_count;
	dst->sum += src->sum;
	if (!(src->min >= dst->min))
		dst->min = src->min;
	if (!(src->max <= dst->max))
		dst->max = src->max;
	dst->collapsed |= src->collapsed;
	return 0;
}

/* The value v with f(v) = y: the octave is floor(y), the position in it the
 * root of the cubic, found by bisection (cold path: once per quantile). */
static double inverse_map(double y)
{
	double e = floor(y), p = y - e, lo = 0, hi = 1;
	for (int i = 0; i < 60; i++) {
		double t = (lo + hi) / 2;
		double f = ((6.0 / 35.0 * t - 3.0 / 5.0) * t + 10.0 / 7.0) * t;
		if (f < p)
			lo = t;
		else
			hi = t;
	}
	return ldexp(1 + (lo + hi) / 2, (int)e);
}

void sketch_bucket_bounds(const struct sketch *s, int32_t key, double *lo, double *hi)
{
	*lo = inverse_map((double)key / s->mult);
	*hi = inverse_map(((double)key + 1) / s->mult);
}

/* A per-thread memo of bucket values (direct-mapped by key): a query's
 * sketches share their keys, and each value costs two bisections. */
#define MEMO_SLOTS 1024 /* 24 KiB per thread; a query's keys span fewer */
struct bucket_memo {
	double mult, v;
	int32_t key;
};
static _Thread_local struct bucket_memo memo[MEMO_SLOTS];

/* The value reported for a bucket: the point whose relative distance to
 * both bounds is the same, (hi - lo) / (hi + lo) <= alpha. */
static double bucket_value(const struct sketch *s, int32_t key)
{
	struct bucket_memo *m = &memo[(uint32_t)key & (MEMO_SLOTS - 1)];
	if (m->mult == s->mult && m->key == key)
		return m->v;
	double lo, hi;
	sketch_bucket_bounds(s, key, &lo, &hi);
	double v = lo * (2 / (1 + lo / hi)); /* 2 lo hi / (lo + hi), without overflow */
	*m = (struct bucket_memo){.mult = s->mult, .v = v, .key = key};
	return v;
}

double sketch_quantile(const struct sketch *s, double q)
{
	if (s->count == 0 || !(q >= 0 && q <= 1))
		return NAN;
	if (q == 0)
		return s->min;
	if (q == 1)
		return s->max;
	double rank = q * (double)(s->count - 1);
	double v = 0;
	uint64_t cum = s->zero_count;
	if ((double)cum <= rank) {
		/* the first bucket i where zero_count + counts[0..i] > rank; counts
		 * that never reached a bucket (out of memory) leave the total short */
		uint64_t total = cum + s->bucketed;
		if ((double)total <= rank) {
			v = s->max;
		} else if (q > 0.5) {
			/* from the top: cum of i is total - (counts above i), the same
			 * integers, so the same bucket (never an empty one) */
			uint32_t b = s->len - 1;
			uint64_t above = 0;
			for (uint32_t i = s->len; i-- > 0;) {
				if (!((double)(total - above) > rank))
					break;
				b = i;
				above += s->counts[i];
			}
			v = bucket_value(s, (int32_t)((int64_t)s->offset + b));
		} else {
			for (uint32_t i = 0; i < s->len; i++) {
				cum += s->counts[i];
				if ((double)cum > rank) {
					v = bucket_value(s, (int32_t)((int64_t)s->offset + i));
					break;
				}
			}
		}
	}
	if (v < s->min)
		v = s->min;
	if (v > s->max)
		v = s->max;
	return v;
}

size_t sketch_bytes(const struct sketch *s)
{
	return sizeof *s + (size_t)s->len * sizeof *s->counts;
}
