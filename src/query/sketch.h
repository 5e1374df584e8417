/* A mergeable relative-error quantile sketch (DDSketch-style) for TraceQL's
 * quantile_over_time(): positive values fall into logarithmic buckets whose
 * bounds are at most a factor gamma = (1+alpha)/(1-alpha) apart, so the
 * value reported for a bucket is within relative error alpha of every value
 * in it; values <= 0 are counted in a zero bucket. The buckets are a dense
 * array of 32-bit counts (the rare bucket past that keeps its high bits
 * aside) that grows on demand, by powers of two, up to a cap; past the cap the lowest buckets
 * are collapsed into one, so memory is bounded and high quantiles stay
 * exact to alpha. count, sum, min and max are kept exactly. The error bound
 * and its proof are in docs/metrics.md. */
#ifndef CLEW_QUERY_SKETCH_H
#define CLEW_QUERY_SKETCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define SKETCH_DEFAULT_ALPHA 0.01
#define SKETCH_MIN_ALPHA 1e-5 /* keeps bucket keys far inside int32 */
#define SKETCH_MAX_ALPHA 0.5
#define SKETCH_DEFAULT_MAX_BUCKETS 2048
#define SKETCH_MIN_BUCKETS 16
#define SKETCH_MAX_BUCKETS (1u << 20)

struct sketch_pool;

/* The high bits of a bucket past 2^32 - 1 values. */
struct sketch_carry {
	int32_t key;
	uint64_t hi; /* the bucket holds counts[i] + hi * 2^32 */
};

struct sketch {
	/* what an add touches, in one cache line */
	uint32_t *counts;     /* counts[i]: the low 32 bits of the bucket of key offset + i */
	int32_t offset;	      /* key of counts[0] */
	uint32_t len;	      /* slots in counts: a power of two, or max_buckets */
	uint64_t count;	      /* every value added (zero bucket included) */
	uint64_t bucketed;    /* the sum of the buckets: every bucket add adds to it too */
	double sum, min, max; /* exact; min/max are NaN while count == 0 */
	/* the rest */
	double mult;		    /* bucket key = floor(approx_log2(v) * mult) */
	double alpha;		    /* the relative accuracy asked for */
	struct sketch_carry *carry; /* n_carry buckets past 2^32 - 1, any order */
	uint32_t n_carry;
	uint32_t max_buckets;	  /* cap on len; past it the lowest keys collapse */
	uint64_t zero_count;	  /* values <= 0 and positive subnormals */
	struct sketch_pool *pool; /* where counts comes from; NULL: malloc */
	bool collapsed;		  /* some values were folded into counts[0] */
};

/* An empty sketch with relative accuracy alpha (0 means the default 1%) and
 * at most max_buckets buckets (0 means 2048). Allocates nothing yet.
 * Returns 0, or CLEW_EINVAL for alpha outside [1e-5, 0.5] or max_buckets
 * outside [16, 2^20]. */
int sketch_init(struct sketch *s, double alpha, uint32_t max_buckets);

/* sketch_init whose buckets come from pool (see sketch_pool.h): the pool
 * must outlive the sketch, and sketch_free gives them back to it. */
int sketch_init_pool(struct sketch *s, double alpha, uint32_t max_buckets, struct sketch_pool *pool);

/* Release the buckets; the sketch is empty again with the same settings. */
void sketch_free(struct sketch *s);

/* The path of sketch_add (out of line) for a key outside the buckets or a
 * bucket whose low 32 bits are full: n more values at key. */
int sketch_add_slow(struct sketch *s, int32_t key, uint64_t n);

/* The bucket key of a positive normal double v for a sketch whose mult is
 * mult (every sketch of one alpha shares it). See docs/metrics.md for the
 * mapping. */
static inline int32_t sketch_key_mult(double mult, double v)
{
	uint64_t b;
	memcpy(&b, &v, sizeof b);
	int e = (int)((b >> 52) & 0x7ff) - 1023;
	uint64_t mb = (b & 0xfffffffffffffull) | 0x3ff0000000000000ull;
	double m;
	memcpy(&m, &mb, sizeof m);
	double t = m - 1.0;
	/* approx log2 within an octave: a cubic through (0,0) and (1,1) */
	double f = (double)e + ((6.0 / 35.0 * t - 3.0 / 5.0) * t + 10.0 / 7.0) * t;
	/* floor by truncation of a positive number: keys stay far below 2^30 */
	return (int32_t)((int64_t)(f * mult + 1073741824.0) - 1073741824);
}

/* The bucket key of a positive normal double v in s. Exposed for tests and
 * for sketch_add. */
static inline int32_t sketch_key(const struct sketch *s, double v)
{
	return sketch_key_mult(s->mult, v);
}

/* count, sum, min and max of one more value v. */
static inline void sketch_note(struct sketch *s, double v)
{
	s->count++;
	s->sum += v;
	if (!(v >= s->min))
		s->min = v;
	if (!(v <= s->max))
		s->max = v;
}

/* sketch_add of a positive finite v whose bucket key is key, when that
 * bucket is in the array and not full: true. Otherwise false, and nothing
 * is done (take sketch_add). */
static inline bool sketch_add_keyed(struct sketch *s, double v, int32_t key)
{
	uint32_t i = (uint32_t)key - (uint32_t)s->offset;
	if (!(i < s->len && s->counts[i] != UINT32_MAX))
		return false;
	sketch_note(s, v);
	s->counts[i]++;
	s->bucketed++;
	return true;
}

/* Add one value. NaN and infinities are ignored. Returns 0, or CLEW_ENOMEM
 * when the bucket array could not grow (the value is then counted in
 * count/sum/min/max but not in any bucket). */
static inline int sketch_add(struct sketch *s, double v)
{
	if (__builtin_expect(!(v - v == 0.0), 0)) /* NaN or infinite */
		return 0;
	if (__builtin_expect(!(v >= 2.2250738585072014e-308), 0)) { /* DBL_MIN */
		sketch_note(s, v);
		s->zero_count++;
		return 0;
	}
	int32_t k = sketch_key(s, v);
	if (__builtin_expect(sketch_add_keyed(s, v, k), 1))
		return 0;
	sketch_note(s, v);
	return sketch_add_slow(s, k, 1);
}

/* The count of slot i (< len) of s. */
uint64_t sketch_slot(const struct sketch *s, uint32_t i);

/* Add every value of src into dst. Both must have the same alpha; dst keeps
 * its own bucket cap. Returns 0, CLEW_EINVAL for different alphas, or
 * CLEW_ENOMEM. */
int sketch_merge(struct sketch *dst, const struct sketch *src);

/* The q-quantile (0 <= q <= 1) of the values added: an estimate of
 * x[floor(q * (count - 1))] of the sorted values, within relative error
 * alpha when that value is positive and was not collapsed; q = 0 and q = 1
 * give min and max exactly. NaN for an empty sketch or q outside [0, 1]. */
double sketch_quantile(const struct sketch *s, double q);

/* The lower and upper bounds of the values that map to bucket key. */
void sketch_bucket_bounds(const struct sketch *s, int32_t key, double *lo /* out */, double *hi /* out */);

/* Bytes of memory the sketch holds (the struct and its buckets). */
size_t sketch_bytes(const struct sketch *s);

#endif
