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
#include "query/sketch_pool.h"

#define SKETCH_INITIAL_SLOTS 16
#define SKETCH_MAX_SLOPE 0.7 /* max of d ln(v) / d f, see above */

int sketch_init_pool(struct sketch *s, double alpha, uint32_t max_buckets, struct sketch_pool *pool)
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
	s->pool = pool;
	return 0;
}

int sketch_init(struct sketch *s, double alpha, uint32_t max_buckets)
{
	return sketch_init_pool(s, alpha, max_buckets, NULL);
}

/* n zeroed slots from the sketch's pool or the heap. */
static uint32_t *counts_new(const struct sketch *s, uint32_t n)
{
	if (!s->pool)
		return try_calloc(n, sizeof(uint32_t));
	uint32_t *c = sketch_pool_alloc(s->pool, (size_t)n * sizeof *c);
	if (c)
		memset(c, 0, (size_t)n * sizeof *c);
	return c;
}

static void counts_release(const struct sketch *s, uint32_t *c, uint32_t n)
{
	if (s->pool)
		sketch_pool_release(s->pool, c, (size_t)n * sizeof *c);
	else
		free(c);
}

void sketch_free(struct sketch *s)
{
	if (s->counts)
		counts_release(s, s->counts, s->len);
	if (s->pool)
		sketch_pool_release(s->pool, s->carry, s->n_carry * sizeof *s->carry);
	else
		free(s->carry);
	s->counts = NULL;
	s->carry = NULL;
	s->n_carry = 0;
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

/* The carry entry of key, or NULL. */
static struct sketch_carry *carry_of(const struct sketch *s, int32_t key)
{
	for (uint32_t k = 0; k < s->n_carry; k++)
		if (s->carry[k].key == key)
			return &s->carry[k];
	return NULL;
}

uint64_t sketch_slot(const struct sketch *s, uint32_t i)
{
	uint64_t n = s->counts[i];
	if (s->n_carry) {
		const struct sketch_carry *c = carry_of(s, (int32_t)((int64_t)s->offset + i));
		if (c)
			n += c->hi << 32;
	}
	return n;
}

/* The carry entries with room for one more, from the pool or the heap. */
static struct sketch_carry *carry_grow(struct sketch *s)
{
	size_t n = s->n_carry;
	if (!s->pool)
		return try_realloc(s->carry, (n + 1) * sizeof *s->carry);
	struct sketch_carry *nc = sketch_pool_alloc(s->pool, (n + 1) * sizeof *nc);
	if (nc && n) {
		memcpy(nc, s->carry, n * sizeof *nc);
		sketch_pool_release(s->pool, s->carry, n * sizeof *nc);
	}
	return nc;
}

/* n more in slot i (< len). CLEW_ENOMEM (nothing added) when the high bits
 * needed an entry that could not be made. */
static int slot_add(struct sketch *s, uint32_t i, uint64_t n)
{
	uint64_t lo = (uint64_t)s->counts[i] + (n & UINT32_MAX);
	uint64_t hi = (n >> 32) + (lo >> 32);
	if (hi) {
		int32_t key = (int32_t)((int64_t)s->offset + i);
		struct sketch_carry *c = carry_of(s, key);
		if (!c) {
			struct sketch_carry *nc = carry_grow(s);
			if (!nc)
				return CLEW_ENOMEM;
			s->carry = nc;
			c = &nc[s->n_carry++];
			*c = (struct sketch_carry){.key = key};
		}
		c->hi += hi;
	}
	s->counts[i] = (uint32_t)lo;
	return 0;
}

/* The smallest power of two >= n (n <= 2^20). */
static uint32_t pow2_at_least(uint32_t n)
{
	return n <= 1 ? 1 : 1u << (32 - __builtin_clz(n - 1));
}

int sketch_add_slow(struct sketch *s, int32_t key, uint64_t n)
{
	uint32_t at = (uint32_t)key - (uint32_t)s->offset;
	int rc;
	if (at < s->len) { /* the low 32 bits of the bucket are full */
		if ((rc = slot_add(s, at, n)) < 0)
			return rc;
		s->bucketed += n;
		return 0;
	}
	int64_t max = s->max_buckets, nlo, nhi;
	/* the range of keys in use (the slots at either end may be empty) */
	uint32_t ulo = 0, uhi = s->len;
	while (ulo < s->len && !s->counts[ulo])
		ulo++;
	while (uhi > ulo && !s->counts[uhi - 1])
		uhi--;
	for (uint32_t k = 0; k < s->n_carry; k++) { /* a bucket of exactly n * 2^32 */
		uint32_t i = (uint32_t)s->carry[k].key - (uint32_t)s->offset;
		if (ulo == uhi) {
			ulo = i;
			uhi = i + 1;
		} else if (i < ulo) {
			ulo = i;
		} else if (i >= uhi) {
			uhi = i + 1;
		}
	}
	if (ulo == uhi) {
		nlo = (int64_t)key - SKETCH_INITIAL_SLOTS / 2;
		nhi = nlo + SKETCH_INITIAL_SLOTS - 1;
	} else {
		int64_t olo = (int64_t)s->offset + ulo, ohi = (int64_t)s->offset + uhi - 1;
		nlo = key < olo ? key : olo;
		nhi = key > ohi ? key : ohi;
		int64_t need = nhi - nlo + 1;
		if (need <= max) {
			/* a quarter more for the keys still to come on that side,
			 * rounded up to a power of two */
			int64_t len = pow2_at_least((uint32_t)(need + need / 4 < max ? need + need / 4 : max));
			if (len > max)
				len = max;
			if (key > ohi)
				nhi = nlo + len - 1;
			else
				nlo = nhi - len + 1;
		} else {
			nlo = nhi - max + 1; /* collapse: keep the highest keys */
		}
	}
	uint32_t new_len = (uint32_t)(nhi - nlo + 1);
	if (nlo == s->offset && new_len == s->len) { /* a full window that stays */
		if ((rc = slot_add(s, 0, n)) < 0)
			return rc;
		s->bucketed += n;
		s->collapsed = true;
		return 0;
	}
	uint32_t *nc = counts_new(s, new_len);
	if (!nc)
		return CLEW_ENOMEM;
	/* the buckets below the new window fold into its lowest one */
	uint64_t fold = 0;
	uint32_t keep = ulo;
	for (; keep < uhi && (int64_t)s->offset + keep < nlo; keep++)
		fold += sketch_slot(s, keep);
	if (keep < uhi)
		memcpy(nc + ((int64_t)s->offset + keep - nlo), s->counts + keep, (size_t)(uhi - keep) * sizeof *nc);
	for (uint32_t k = 0; k < s->n_carry;) /* folded keys keep no carry of their own */
		if (s->carry[k].key < nlo)
			s->carry[k] = s->carry[--s->n_carry];
		else
			k++;
	if (s->counts)
		counts_release(s, s->counts, s->len);
	s->counts = nc;
	s->offset = (int32_t)nlo;
	s->len = new_len;
	if (fold) {
		s->collapsed = true;
		if ((rc = slot_add(s, 0, fold)) < 0) {
			s->bucketed -= fold;
			return rc;
		}
	}
	if (key < nlo)
		s->collapsed = true;
	if ((rc = slot_add(s, key < nlo ? 0 : (uint32_t)(key - nlo), n)) < 0)
		return rc;
	s->bucketed += n;
	return 0;
}

static inline int add_key(struct sketch *s, int32_t key, uint64_t n)
{
	uint32_t i = (uint32_t)key - (uint32_t)s->offset;
	if (i < s->len && (uint64_t)s->counts[i] + n <= UINT32_MAX) {
		s->counts[i] += (uint32_t)n;
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
		uint64_t n = src->n_carry ? sketch_slot(src, i) : src->counts[i];
		if (!n)
			continue;
		int rc = add_key(dst, (int32_t)((int64_t)src->offset + i), n);
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
				above += s->n_carry ? sketch_slot(s, i) : s->counts[i];
			}
			v = bucket_value(s, (int32_t)((int64_t)s->offset + b));
		} else {
			for (uint32_t i = 0; i < s->len; i++) {
				cum += s->n_carry ? sketch_slot(s, i) : s->counts[i];
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
	return sizeof *s + (size_t)s->len * sizeof *s->counts + (size_t)s->n_carry * sizeof *s->carry;
}
