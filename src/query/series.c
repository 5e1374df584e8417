/* Time-bucketed aggregation of matched spans into series keyed by group
 * labels: a hash table of groups (xxhash of the typed label values, linear
 * probing), per group one accumulator per step (count, sum, sum+count, min,
 * max, or a quantile sketch), merge of per-thread sets, finalisation into
 * sorted output series, and the second stage (topk, bottomk, filters).
 * histogram_over_time is a count whose group key carries the value's
 * power-of-two bucket as one more label, as Tempo's __bucket. */
#include "query/series.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "base/arena.h"
#include "base/err.h"
#include "base/hash.h"
#include "query/sketch.h"
#include "query/sketch_pool.h"

struct group {
	uint64_t hash;
	struct tql_value *key; /* n_key values; strings in the set's arena */
	double *acc;	       /* n_steps * stride accumulators */
	union {		       /* quantile (sk_at): NULL until a value comes */
		struct sketch **sk; /* n_steps > 1: one per step */
		struct sketch *sk1; /* n_steps == 1: the sketch itself */
	};
};

struct series_set {
	struct series_config cfg; /* arrays point at the copies below */
	struct slice *names;
	double *qs;
	uint32_t n_steps, n_key, stride, max_series;
	struct group *groups;
	uint32_t n_groups, cap_groups;
	uint32_t *table; /* group index + 1, 0 = empty */
	uint32_t table_mask;
	double sk_mult; /* quantile: the sketches' key multiplier (sketch_key_mult) */
	struct sketch_pool *pool; /* quantile: the sketches and their buckets */
	/* series_add_groups' per-span sketch slots and bucket keys */
	struct sketch **(*add_slot);
	int32_t *add_key;
	size_t cap_add;
	uint64_t *add_hash; /* series_group_many's hashes */
	size_t cap_hash;
	struct arena arena; /* names, group keys and their strings */
	size_t bytes;
	bool finished;
	/* results */
	struct series_out *out;
	uint32_t n_out;
	struct series_label *out_labels;
	double *out_values;
	char err[160];
};

static bool is_value_fn(enum tql_metric_fn fn)
{
	return fn != TQL_M_RATE && fn != TQL_M_COUNT_OVER_TIME;
}

static int set_limit_error(struct series_set *s, const char *msg)
{
	snprintf(s->err, sizeof s->err, "%s", msg);
	return CLEW_ELIMIT;
}

static int charge(struct series_set *s, size_t n)
{
	s->bytes += n;
	if (s->bytes > s->cfg.max_bytes) {
		snprintf(s->err, sizeof s->err, "query needs more than %zu MiB for its series",
			 s->cfg.max_bytes >> 20);
		return CLEW_ELIMIT;
	}
	return 0;
}

/* charge the change of a sketch's bytes from before to now (a collapse may
 * shrink it). */
static int recharge(struct series_set *s, size_t before, size_t now)
{
	if (now >= before)
		return charge(s, now - before);
	s->bytes -= before - now;
	return 0;
}

struct series_set *series_set_new(const struct series_config *cfg, int *rc)
{
	struct series_set *s = NULL;
	*rc = CLEW_EINVAL;
	if (cfg->step_ns <= 0 || cfg->end_ns <= cfg->start_ns || cfg->fn > TQL_M_HISTOGRAM_OVER_TIME ||
	    cfg->n_by > SERIES_MAX_BY || (cfg->n_by && !cfg->by_names))
		return NULL;
	if (cfg->fn == TQL_M_QUANTILE_OVER_TIME) {
		if (cfg->n_quantiles == 0 || cfg->n_quantiles > SERIES_MAX_QUANTILES || !cfg->quantiles)
			return NULL;
		for (uint32_t i = 0; i < cfg->n_quantiles; i++)
			if (!(cfg->quantiles[i] >= 0 && cfg->quantiles[i] <= 1))
				return NULL;
	}
	struct sketch probe;
	if (cfg->fn == TQL_M_QUANTILE_OVER_TIME && sketch_init(&probe, cfg->sketch_alpha, 0) < 0)
		return NULL;
	uint64_t span = (uint64_t)cfg->end_ns - (uint64_t)cfg->start_ns;
	uint64_t n_steps = span / (uint64_t)cfg->step_ns + (span % (uint64_t)cfg->step_ns != 0);
	if (n_steps > SERIES_MAX_STEPS) {
		*rc = CLEW_ELIMIT;
		return NULL;
	}
	*rc = CLEW_ENOMEM;
	if (!(s = try_calloc(1, sizeof *s)))
		return NULL;
	arena_init(&s->arena, 0);
	s->cfg = *cfg;
	if (!s->cfg.max_series)
		s->cfg.max_series = SERIES_DEFAULT_MAX;
	if (!s->cfg.max_bytes)
		s->cfg.max_bytes = SERIES_DEFAULT_MAX_BYTES;
	s->max_series = s->cfg.max_series;
	s->n_steps = (uint32_t)n_steps;
	s->n_key = cfg->n_by + (cfg->fn == TQL_M_HISTOGRAM_OVER_TIME);
	s->stride = cfg->fn == TQL_M_AVG_OVER_TIME ? 2 : cfg->fn == TQL_M_QUANTILE_OVER_TIME ? 0 : 1;
	if (cfg->n_by) {
		if (!(s->names = arena_array(&s->arena, cfg->n_by, sizeof *s->names)))
			goto fail;
		for (uint32_t i = 0; i < cfg->n_by; i++) {
			void *p = arena_memdup(&s->arena, cfg->by_names[i].p, cfg->by_names[i].len);
			if (!p && cfg->by_names[i].len)
				goto fail;
			s->names[i] = slice_make(p, cfg->by_names[i].len);
		}
	}
	s->cfg.by_names = s->names;
	if (cfg->fn == TQL_M_QUANTILE_OVER_TIME) {
		s->sk_mult = probe.mult;
		if (!(s->pool = sketch_pool_new()))
			goto fail;
		if (!(s->qs = arena_memdup(&s->arena, cfg->quantiles, cfg->n_quantiles * sizeof *s->qs)))
			goto fail;
		s->cfg.quantiles = s->qs;
	} else {
		s->cfg.quantiles = NULL;
		s->cfg.n_quantiles = 0;
	}
	*rc = 0;
	return s;
fail:
	series_set_free(s);
	return NULL;
}

/* The slot of g's sketch at step (quantile sets). */
static inline struct sketch **sk_at(const struct series_set *s, struct group *g, uint32_t step)
{
	return s->n_steps == 1 ? &g->sk1 : &g->sk[step];
}

static void free_results(struct series_set *s)
{
	free(s->out);
	free(s->out_labels);
	free(s->out_values);
	s->out = NULL;
	s->out_labels = NULL;
	s->out_values = NULL;
	s->n_out = 0;
}

void series_set_free(struct series_set *s)
{
	if (!s)
		return;
	for (uint32_t i = 0; i < s->n_groups; i++) {
		struct group *g = &s->groups[i];
		if (s->stride == 0 && s->n_steps > 1)
			free(g->sk); /* the sketches themselves are in the pool */
		free(g->acc);
	}
	sketch_pool_free(s->pool);
	free(s->groups);
	free(s->add_slot);
	free(s->add_key);
	free(s->add_hash);
	free(s->table);
	free_results(s);
	arena_reset(&s->arena);
	free(s);
}

/* Group keys compare and hash by type and value; -0.0 is 0.0 and every NaN
 * one NaN, so equal-looking floats share a group. */
static void canonical(struct tql_value *v)
{
	if (v->type == TQL_T_FLOAT) {
		if (v->u.f == 0)
			v->u.f = 0;
		else if (isnan(v->u.f))
			v->u.f = NAN;
	} else if (v->type == TQL_T_UNKNOWN) {
		v->type = TQL_T_NIL;
	}
}

static uint64_t hash_key(const struct tql_value *key, uint32_t n)
{
	uint64_t h = 0x51ed270b27a3c1d9ull;
	for (uint32_t i = 0; i < n; i++) {
		const struct tql_value *v = &key[i];
		uint8_t scalar[9];
		scalar[0] = (uint8_t)v->type;
		switch (v->type) {
		case TQL_T_STRING:
			h = hash64_seed(v->u.s.p, v->u.s.len, h + v->type);
			continue;
		case TQL_T_BOOL:
			scalar[1] = v->u.b;
			memset(scalar + 2, 0, 7);
			break;
		case TQL_T_FLOAT:
			memcpy(scalar + 1, &v->u.f, 8);
			break;
		case TQL_T_NIL:
		case TQL_T_UNKNOWN:
			memset(scalar + 1, 0, 8);
			break;
		default: /* INT, DURATION, STATUS, KIND */
			memcpy(scalar + 1, &v->u.i, 8);
			break;
		}
		h = hash64_seed(scalar, sizeof scalar, h);
	}
	return h;
}

static bool value_eq(const struct tql_value *a, const struct tql_value *b)
{
	if (a->type != b->type)
		return false;
	switch (a->type) {
	case TQL_T_STRING:
		return slice_eq(a->u.s, b->u.s);
	case TQL_T_BOOL:
		return a->u.b == b->u.b;
	case TQL_T_FLOAT:
		return memcmp(&a->u.f, &b->u.f, sizeof a->u.f) == 0;
	case TQL_T_NIL:
	case TQL_T_UNKNOWN:
		return true;
	default:
		return a->u.i == b->u.i;
	}
}

static bool key_eq(const struct tql_value *a, const struct tql_value *b, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++)
		if (!value_eq(&a[i], &b[i]))
			return false;
	return true;
}

static int table_grow(struct series_set *s)
{
	uint32_t cap = s->table ? (s->table_mask + 1) * 2 : 64;
	uint32_t *t = try_calloc(cap, sizeof *t);
	if (!t)
		return CLEW_ENOMEM;
	int rc = charge(s, (size_t)cap * sizeof *t - (s->table ? (size_t)(s->table_mask + 1) * sizeof *t : 0));
	for (uint32_t i = 0; i < s->n_groups; i++) {
		uint32_t j = (uint32_t)s->groups[i].hash & (cap - 1);
		while (t[j])
			j = (j + 1) & (cap - 1);
		t[j] = i + 1;
	}
	free(s->table);
	s->table = t;
	s->table_mask = cap - 1;
	return rc;
}

static void acc_init(const struct series_set *s, double *acc)
{
	size_t n = (size_t)s->n_steps * s->stride;
	switch (s->cfg.fn) {
	case TQL_M_SUM_OVER_TIME:
	case TQL_M_MIN_OVER_TIME:
	case TQL_M_MAX_OVER_TIME:
		for (size_t i = 0; i < n; i++)
			acc[i] = NAN;
		break;
	default:
		memset(acc, 0, n * sizeof *acc);
		break;
	}
}

/* A new group for key (canonical values), or NULL with *rc set. */
static struct group *group_new(struct series_set *s, const struct tql_value *key, uint64_t h, int *rc)
{
	if (s->n_groups >= s->max_series) {
		char msg[160];
		snprintf(msg, sizeof msg,
			 "query produced more than %u series (the limit): narrow it with a filter or fewer by() labels",
			 s->max_series);
		*rc = set_limit_error(s, msg);
		return NULL;
	}
	if ((s->n_groups + 1) * 2 > (s->table ? s->table_mask + 1 : 0) && (*rc = table_grow(s)) < 0)
		return NULL;
	if (s->n_groups == s->cap_groups) {
		uint32_t cap = s->cap_groups ? s->cap_groups * 2 : 16;
		struct group *ng = try_realloc(s->groups, (size_t)cap * sizeof *ng);
		if (!ng) {
			*rc = CLEW_ENOMEM;
			return NULL;
		}
		if ((*rc = charge(s, (size_t)(cap - s->cap_groups) * sizeof *ng)) < 0) {
			s->groups = ng;
			s->cap_groups = cap;
			return NULL;
		}
		s->groups = ng;
		s->cap_groups = cap;
	}
	struct group g = {.hash = h};
	size_t key_bytes = (size_t)s->n_key * sizeof *g.key;
	if (s->n_key && !(g.key = arena_memdup(&s->arena, key, key_bytes)))
		goto nomem;
	for (uint32_t i = 0; i < s->n_key; i++) {
		if (g.key[i].type == TQL_T_STRING && g.key[i].u.s.len) {
			void *p = arena_memdup(&s->arena, g.key[i].u.s.p, g.key[i].u.s.len);
			if (!p)
				goto nomem;
			g.key[i].u.s.p = p;
			key_bytes += g.key[i].u.s.len;
		}
	}
	if (s->stride) {
		if (!(g.acc = try_malloc((size_t)s->n_steps * s->stride * sizeof *g.acc)))
			goto nomem;
		acc_init(s, g.acc);
	} else if (s->n_steps > 1 && !(g.sk = try_calloc(s->n_steps, sizeof *g.sk))) {
		goto nomem;
	}
	s->groups[s->n_groups] = g;
	uint32_t j = (uint32_t)h & s->table_mask;
	while (s->table[j])
		j = (j + 1) & s->table_mask;
	s->table[j] = ++s->n_groups;
	*rc = charge(s, key_bytes + (size_t)s->n_steps * (s->stride ? s->stride * sizeof(double) : sizeof(void *)));
	return *rc < 0 ? NULL : &s->groups[s->n_groups - 1];
nomem:
	free(g.acc);
	*rc = CLEW_ENOMEM;
	return NULL;
}

static inline struct group *group_find(struct series_set *s, const struct tql_value *key, uint64_t h)
{
	if (!s->table)
		return NULL;
	for (uint32_t j = (uint32_t)h & s->table_mask; s->table[j]; j = (j + 1) & s->table_mask) {
		struct group *g = &s->groups[s->table[j] - 1];
		if (g->hash == h && key_eq(g->key, key, s->n_key))
			return g;
	}
	return NULL;
}

/* The power-of-two upper bound of v's histogram bucket, or 0 when v has
 * none: as Tempo's Log2Bucketize, values below 2 are left out; a value is
 * in the bucket of the smallest power of two >= v. */
static double hist_bucket(double v)
{
	if (!(v >= 2) || isinf(v))
		return 0;
	int e;
	double m = frexp(v, &e); /* v = m * 2^e, m in [0.5, 1) */
	return m == 0.5 ? v : ldexp(1, e);
}

/* An empty sketch of the set, in its pool. */
static struct sketch *new_sketch(struct series_set *s)
{
	struct sketch *sk = sketch_pool_alloc(s->pool, sizeof *sk);
	if (sk)
		sketch_init_pool(sk, s->cfg.sketch_alpha, 0, s->pool); /* alpha checked at set creation */
	return sk;
}

static int sketch_step_add(struct series_set *s, struct group *g, uint32_t step, double v)
{
	struct sketch **slot = sk_at(s, g, step), *sk = *slot;
	int rc;
	if (!sk) {
		if (!(sk = new_sketch(s)))
			return CLEW_ENOMEM;
		*slot = sk;
		if ((rc = charge(s, sizeof *sk)) < 0)
			return rc;
	}
	size_t bytes = sketch_bytes(sk);
	if ((rc = sketch_add(sk, v)) < 0)
		return rc;
	return recharge(s, bytes, sketch_bytes(sk));
}

/* Account value for group g at step (checks done by the caller). */
static inline int group_acc(struct series_set *s, struct group *g, uint32_t step, double value)
{
	double *a;
	switch (s->cfg.fn) {
	case TQL_M_RATE:
	case TQL_M_COUNT_OVER_TIME:
	case TQL_M_HISTOGRAM_OVER_TIME:
		g->acc[step] += 1;
		return 0;
	case TQL_M_SUM_OVER_TIME:
		a = &g->acc[step];
		*a = isnan(*a) ? value : *a + value;
		return 0;
	case TQL_M_AVG_OVER_TIME:
		g->acc[2 * step] += value;
		g->acc[2 * step + 1] += 1;
		return 0;
	case TQL_M_MIN_OVER_TIME:
		a = &g->acc[step];
		if (!(value >= *a))
			*a = value;
		return 0;
	case TQL_M_MAX_OVER_TIME:
		a = &g->acc[step];
		if (!(value <= *a))
			*a = value;
		return 0;
	case TQL_M_QUANTILE_OVER_TIME: {
		struct sketch *sk = *sk_at(s, g, step);
		/* the common case inline: the sketch exists and the bucket too */
		if (__builtin_expect(sk != NULL && value > 2.2250738585072014e-308 && value < 1.7976931348623157e308, 1) &&
		    __builtin_expect(sketch_add_keyed(sk, value, sketch_key(sk, value)), 1))
			return 0;
		return sketch_step_add(s, g, step, value);
	}
	default:
		return CLEW_EUNSUPPORTED;
	}
}

/* The canonical group key of by (and value's bucket for histograms); false
 * when a histogram value has no bucket. */
static bool make_key(const struct series_set *s, const struct tql_value *by, double value, struct tql_value *key)
{
	uint32_t n_by = s->cfg.n_by;
	for (uint32_t i = 0; i < n_by; i++) {
		key[i] = by[i];
		canonical(&key[i]);
	}
	if (s->cfg.fn == TQL_M_HISTOGRAM_OVER_TIME) {
		double b = hist_bucket(value);
		if (b == 0)
			return false;
		key[n_by].type = TQL_T_FLOAT;
		key[n_by].u.f = b;
	}
	return true;
}

int series_add(struct series_set *s, const struct tql_value *by, int64_t ts_ns, double value)
{
	if (s->finished)
		return CLEW_ESTATE;
	if (ts_ns < s->cfg.start_ns || ts_ns >= s->cfg.end_ns)
		return 0;
	if (is_value_fn(s->cfg.fn) && isnan(value))
		return 0;
	uint32_t step = (uint32_t)((uint64_t)(ts_ns - s->cfg.start_ns) / (uint64_t)s->cfg.step_ns);
	struct tql_value key[SERIES_MAX_BY + 1];
	if (!make_key(s, by, value, key))
		return 0;
	uint64_t h = hash_key(key, s->n_key);
	struct group *g = group_find(s, key, h);
	int rc = 0;
	if (!g && !(g = group_new(s, key, h, &rc)))
		return rc;
	return group_acc(s, g, step, value);
}

int series_group(struct series_set *s, const struct tql_value *by, uint32_t *gi)
{
	if (s->finished)
		return CLEW_ESTATE;
	if (s->cfg.fn == TQL_M_HISTOGRAM_OVER_TIME)
		return CLEW_EUNSUPPORTED;
	struct tql_value key[SERIES_MAX_BY + 1];
	make_key(s, by, 0, key);
	uint64_t h = hash_key(key, s->n_key);
	struct group *g = group_find(s, key, h);
	int rc = 0;
	if (!g && !(g = group_new(s, key, h, &rc)))
		return rc;
	*gi = (uint32_t)(g - s->groups);
	return 0;
}

#define GF_DIST 8 /* tuples between the prefetch stages of series_group_many */

int series_group_many(struct series_set *s, const struct tql_value *by, uint32_t n, uint32_t *gi)
{
	if (s->finished)
		return CLEW_ESTATE;
	if (s->cfg.fn == TQL_M_HISTOGRAM_OVER_TIME)
		return CLEW_EUNSUPPORTED;
	if (s->cap_hash < n) {
		free(s->add_hash);
		s->cap_hash = 0;
		if (!(s->add_hash = try_malloc((size_t)n * sizeof *s->add_hash)))
			return CLEW_ENOMEM;
		s->cap_hash = n;
	}
	uint32_t n_by = s->cfg.n_by;
	struct tql_value key[SERIES_MAX_BY + 1];
	for (uint32_t k = 0; k < n; k++) {
		make_key(s, by + (size_t)k * n_by, 0, key);
		s->add_hash[k] = hash_key(key, s->n_key);
	}
	for (uint32_t k = 0; k < n; k++) {
		/* three stages ahead: the table slot, the group, its key */
		if (s->table && k + 3 * GF_DIST < n)
			__builtin_prefetch(&s->table[(uint32_t)s->add_hash[k + 3 * GF_DIST] & s->table_mask]);
		if (s->table && k + 2 * GF_DIST < n) {
			uint32_t t = s->table[(uint32_t)s->add_hash[k + 2 * GF_DIST] & s->table_mask];
			if (t)
				__builtin_prefetch(&s->groups[t - 1]);
		}
		if (s->table && k + GF_DIST < n) {
			uint32_t t = s->table[(uint32_t)s->add_hash[k + GF_DIST] & s->table_mask];
			if (t && s->n_key && s->groups[t - 1].hash == s->add_hash[k + GF_DIST]) {
				const struct tql_value *kv = s->groups[t - 1].key;
				__builtin_prefetch(kv);
				if (kv[0].type == TQL_T_STRING)
					__builtin_prefetch(kv[0].u.s.p);
			}
		}
		make_key(s, by + (size_t)k * n_by, 0, key);
		uint64_t h = s->add_hash[k];
		struct group *g = group_find(s, key, h);
		int rc = 0;
		if (!g && !(g = group_new(s, key, h, &rc)))
			return rc;
		gi[k] = (uint32_t)(g - s->groups);
	}
	return 0;
}

int series_add_group(struct series_set *s, uint32_t gi, int64_t ts_ns, double value)
{
	if (s->finished)
		return CLEW_ESTATE;
	if (gi >= s->n_groups || s->cfg.fn == TQL_M_HISTOGRAM_OVER_TIME)
		return CLEW_EINVAL;
	if (ts_ns < s->cfg.start_ns || ts_ns >= s->cfg.end_ns)
		return 0;
	if (is_value_fn(s->cfg.fn) && isnan(value))
		return 0;
	uint32_t step = (uint32_t)((uint64_t)(ts_ns - s->cfg.start_ns) / (uint64_t)s->cfg.step_ns);
	return group_acc(s, &s->groups[gi], step, value);
}

#define PF_DIST 12 /* spans between the prefetch stages of add_quantiles */

/* The spans of a page into a quantile set: each span's sketch slot and
 * bucket key are worked out first (one division per distinct start time,
 * none with one step), then the adds run with the slot, the sketch and the
 * bucket of the spans PF_DIST, 2 PF_DIST and 3 PF_DIST ahead prefetched:
 * with many series each of them is a cache miss. A span whose sketch or
 * bucket does not exist yet, or whose value is not a positive finite
 * number, takes series_add_group. */
static int add_quantiles(struct series_set *s, const uint32_t *gi, const int64_t *ts, const double *v, uint32_t n)
{
	if (s->cap_add < n) {
		free(s->add_slot);
		free(s->add_key);
		s->cap_add = 0;
		s->add_slot = try_malloc((size_t)n * sizeof *s->add_slot);
		s->add_key = try_malloc((size_t)n * sizeof *s->add_key);
		if (!s->add_slot || !s->add_key)
			return CLEW_ENOMEM;
		s->cap_add = n;
	}
	struct sketch ***slot = s->add_slot;
	int32_t *key = s->add_key;
	int64_t start = s->cfg.start_ns, end = s->cfg.end_ns, last_ts = start;
	uint32_t last_step = 0;
	for (uint32_t j = 0; j < n; j++) {
		if (gi[j] >= s->n_groups)
			return CLEW_EINVAL;
		slot[j] = NULL;
		if (ts[j] < start || ts[j] >= end)
			continue;
		uint32_t step = 0;
		if (s->n_steps > 1) {
			if (ts[j] != last_ts) {
				last_ts = ts[j];
				last_step = (uint32_t)((uint64_t)(ts[j] - start) / (uint64_t)s->cfg.step_ns);
			}
			step = last_step;
		}
		slot[j] = sk_at(s, &s->groups[gi[j]], step);
		double x = v[j];
		key[j] = x > 2.2250738585072014e-308 && x < 1.7976931348623157e308 ? sketch_key_mult(s->sk_mult, x)
										   : INT32_MIN;
	}
	for (uint32_t j = 0; j < n; j++) {
		if (j + 3 * PF_DIST < n && slot[j + 3 * PF_DIST])
			__builtin_prefetch(slot[j + 3 * PF_DIST]);
		if (j + 2 * PF_DIST < n && slot[j + 2 * PF_DIST]) {
			const struct sketch *sk = *slot[j + 2 * PF_DIST];
			if (sk)
				__builtin_prefetch(sk);
		}
		if (j + PF_DIST < n && slot[j + PF_DIST]) {
			const struct sketch *sk = *slot[j + PF_DIST];
			if (sk) {
				uint32_t i = (uint32_t)key[j + PF_DIST] - (uint32_t)sk->offset;
				if (i < sk->len)
					__builtin_prefetch(&sk->counts[i], 1);
			}
		}
		if (!slot[j])
			continue;
		struct sketch *sk = *slot[j];
		double x = v[j];
		if (sk && key[j] != INT32_MIN && sketch_add_keyed(sk, x, key[j]))
			continue;
		int rc = series_add_group(s, gi[j], ts[j], x);
		if (rc < 0)
			return rc;
	}
	return 0;
}

int series_add_groups(struct series_set *s, const uint32_t *gi, const int64_t *ts, const double *v, uint32_t n)
{
	if (s->finished)
		return CLEW_ESTATE;
	if (s->cfg.fn == TQL_M_QUANTILE_OVER_TIME)
		return add_quantiles(s, gi, ts, v, n);
	for (uint32_t j = 0; j < n; j++) {
		int rc = series_add_group(s, gi[j], ts[j], v[j]);
		if (rc < 0)
			return rc;
	}
	return 0;
}

int series_add_count(struct series_set *s, uint32_t gi, int64_t ts_ns, uint64_t n)
{
	if (s->finished)
		return CLEW_ESTATE;
	if (gi >= s->n_groups || (s->cfg.fn != TQL_M_RATE && s->cfg.fn != TQL_M_COUNT_OVER_TIME))
		return CLEW_EINVAL;
	if (ts_ns < s->cfg.start_ns || ts_ns >= s->cfg.end_ns)
		return 0;
	uint32_t step = (uint32_t)((uint64_t)(ts_ns - s->cfg.start_ns) / (uint64_t)s->cfg.step_ns);
	s->groups[gi].acc[step] += (double)n;
	return 0;
}

/* series_merge; with move, sketches dst lacks are taken from src (whose
 * slot is emptied) instead of copied. */
static int merge_sets(struct series_set *dst, struct series_set *src, bool move)
{
	if (dst->finished || src->finished)
		return CLEW_ESTATE;
	const struct series_config *a = &dst->cfg, *b = &src->cfg;
	if (a->fn != b->fn || a->start_ns != b->start_ns || a->end_ns != b->end_ns || a->step_ns != b->step_ns ||
	    a->n_by != b->n_by || a->n_quantiles != b->n_quantiles || a->value_is_duration != b->value_is_duration ||
	    a->sketch_alpha != b->sketch_alpha)
		return CLEW_EINVAL;
	if (move && a->fn == TQL_M_QUANTILE_OVER_TIME)
		sketch_pool_adopt(dst->pool, src->pool); /* the sketches moved over live on in dst */
	for (uint32_t i = 0; i < src->n_groups; i++) {
		struct group *sg = &src->groups[i];
		struct group *g = group_find(dst, sg->key, sg->hash);
		int rc = 0;
		if (!g && !(g = group_new(dst, sg->key, sg->hash, &rc)))
			return rc;
		for (uint32_t t = 0; t < dst->n_steps; t++) {
			double *d = g->acc ? &g->acc[t * dst->stride] : NULL;
			const double *v = sg->acc ? &sg->acc[t * dst->stride] : NULL;
			switch (a->fn) {
			case TQL_M_SUM_OVER_TIME:
				if (!isnan(v[0]))
					d[0] = isnan(d[0]) ? v[0] : d[0] + v[0];
				break;
			case TQL_M_AVG_OVER_TIME:
				d[0] += v[0];
				d[1] += v[1];
				break;
			case TQL_M_MIN_OVER_TIME:
				if (!(v[0] >= d[0]) && !isnan(v[0]))
					d[0] = v[0];
				break;
			case TQL_M_MAX_OVER_TIME:
				if (!(v[0] <= d[0]) && !isnan(v[0]))
					d[0] = v[0];
				break;
			case TQL_M_QUANTILE_OVER_TIME: {
				struct sketch **sslot = sk_at(src, sg, t), *ss = *sslot;
				struct sketch **dslot = sk_at(dst, g, t);
				if (!ss || ss->count == 0)
					break;
				if (!*dslot && move) {
					*dslot = ss;
					*sslot = NULL;
					ss->pool = dst->pool;
					if ((rc = charge(dst, sketch_bytes(ss))) < 0)
						return rc;
					break;
				}
				if (!*dslot) {
					if (!(*dslot = new_sketch(dst)))
						return CLEW_ENOMEM;
					if ((rc = charge(dst, sizeof **dslot)) < 0)
						return rc;
				}
				size_t bytes = sketch_bytes(*dslot);
				if ((rc = sketch_merge(*dslot, ss)) < 0)
					return rc;
				if ((rc = recharge(dst, bytes, sketch_bytes(*dslot))) < 0)
					return rc;
				break;
			}
			default: /* counts */
				d[0] += v[0];
				break;
			}
		}
	}
	return 0;
}

int series_merge(struct series_set *dst, const struct series_set *src)
{
	return merge_sets(dst, (struct series_set *)src, false); /* src not written */
}

int series_merge_move(struct series_set *dst, struct series_set *src)
{
	return merge_sets(dst, src, true);
}

/* Total order of label values: by type, then value (strings bytewise). */
static int value_cmp(const struct tql_value *a, const struct tql_value *b)
{
	if (a->type != b->type)
		return a->type < b->type ? -1 : 1;
	switch (a->type) {
	case TQL_T_STRING: {
		size_t n = a->u.s.len < b->u.s.len ? a->u.s.len : b->u.s.len;
		int c = n ? memcmp(a->u.s.p, b->u.s.p, n) : 0;
		if (c)
			return c < 0 ? -1 : 1;
		return a->u.s.len < b->u.s.len ? -1 : a->u.s.len > b->u.s.len;
	}
	case TQL_T_BOOL:
		return (int)a->u.b - (int)b->u.b;
	case TQL_T_FLOAT:
		if (isnan(a->u.f) || isnan(b->u.f))
			return isnan(a->u.f) - isnan(b->u.f);
		return a->u.f < b->u.f ? -1 : a->u.f > b->u.f;
	case TQL_T_NIL:
	case TQL_T_UNKNOWN:
		return 0;
	default:
		return a->u.i < b->u.i ? -1 : a->u.i > b->u.i;
	}
}

static int group_cmp(const void *x, const void *y, void *ctx)
{
	const struct group *a = *(const struct group *const *)x, *b = *(const struct group *const *)y;
	uint32_t n_key = *(const uint32_t *)ctx;
	for (uint32_t i = 0; i < n_key; i++) {
		int c = value_cmp(&a->key[i], &b->key[i]);
		if (c)
			return c;
	}
	return 0;
}

int series_finish(struct series_set *s)
{
	if (s->finished)
		return CLEW_ESTATE;
	int rc;
	uint32_t per = s->cfg.fn == TQL_M_QUANTILE_OVER_TIME ? s->cfg.n_quantiles : 1;
	uint32_t n_lab = s->cfg.n_by + (s->cfg.fn == TQL_M_QUANTILE_OVER_TIME || s->cfg.fn == TQL_M_HISTOGRAM_OVER_TIME);
	size_t n_out = (size_t)s->n_groups * per;
	struct group **order = try_calloc(s->n_groups ? s->n_groups : 1, sizeof *order);
	s->out = try_calloc(n_out ? n_out : 1, sizeof *s->out);
	size_t n_labels = n_out * n_lab, n_values = n_out * s->n_steps;
	s->out_labels = try_calloc(n_labels ? n_labels : 1, sizeof *s->out_labels);
	s->out_values = try_calloc(n_values ? n_values : 1, sizeof *s->out_values);
	if (!order || !s->out || !s->out_labels || !s->out_values) {
		rc = CLEW_ENOMEM;
		goto out;
	}
	if ((rc = charge(s, n_out * (sizeof *s->out + n_lab * sizeof *s->out_labels +
				     s->n_steps * sizeof *s->out_values))) < 0)
		goto out;
	for (uint32_t i = 0; i < s->n_groups; i++)
		order[i] = &s->groups[i];
	if (s->n_groups > 1)
		qsort_r(order, s->n_groups, sizeof *order, group_cmp, &s->n_key);
	double scale = s->cfg.value_is_duration ? 1e-9 : 1;
	double step_s = (double)s->cfg.step_ns / 1e9;
	for (uint32_t gi = 0; gi < s->n_groups; gi++) {
		const struct group *g = order[gi];
		for (uint32_t p = 0; p < per; p++) {
			size_t oi = (size_t)gi * per + p;
			struct series_label *lab = &s->out_labels[oi * n_lab];
			double *val = &s->out_values[oi * s->n_steps];
			for (uint32_t i = 0; i < s->cfg.n_by; i++) {
				lab[i].name = s->names[i];
				lab[i].value = g->key[i];
			}
			if (s->cfg.fn == TQL_M_QUANTILE_OVER_TIME) {
				lab[s->cfg.n_by].name = SLICE_LIT("p");
				lab[s->cfg.n_by].value = (struct tql_value){.type = TQL_T_FLOAT, .u.f = s->qs[p]};
			} else if (s->cfg.fn == TQL_M_HISTOGRAM_OVER_TIME) {
				lab[s->cfg.n_by].name = SLICE_LIT("__bucket");
				lab[s->cfg.n_by].value =
					(struct tql_value){.type = TQL_T_FLOAT, .u.f = g->key[s->cfg.n_by].u.f * scale};
			}
			for (uint32_t t = 0; t < s->n_steps; t++) {
				switch (s->cfg.fn) {
				case TQL_M_RATE:
					val[t] = g->acc[t] / step_s;
					break;
				case TQL_M_COUNT_OVER_TIME:
				case TQL_M_HISTOGRAM_OVER_TIME:
					val[t] = g->acc[t];
					break;
				case TQL_M_AVG_OVER_TIME:
					val[t] = g->acc[2 * t + 1] ? g->acc[2 * t] / g->acc[2 * t + 1] * scale : NAN;
					break;
				case TQL_M_QUANTILE_OVER_TIME: {
					const struct sketch *sk = *sk_at(s, (struct group *)g, t);
					val[t] = sk ? sketch_quantile(sk, s->qs[p]) * scale : NAN;
					break;
				}
				default: /* sum, min, max: NaN stays NaN */
					val[t] = g->acc[t] * scale;
					break;
				}
			}
			s->out[oi] = (struct series_out){.labels = lab, .n_labels = n_lab, .values = val};
		}
	}
	s->n_out = (uint32_t)n_out;
	s->finished = true;
out:
	free(order);
	if (rc < 0)
		free_results(s);
	return rc;
}

/* Drop series without any sample, keeping the order. */
static void compact(struct series_set *s)
{
	uint32_t n = 0;
	for (uint32_t i = 0; i < s->n_out; i++) {
		bool any = false;
		for (uint32_t t = 0; t < s->n_steps && !any; t++)
			any = !isnan(s->out[i].values[t]);
		if (any)
			s->out[n++] = s->out[i];
	}
	s->n_out = n;
}

/* Does candidate (value a, series index ia) beat (b, ib)? Larger wins for
 * topk, smaller for bottomk, the lower index on ties. */
static bool beats(double a, uint32_t ia, double b, uint32_t ib, bool bottom)
{
	if (a != b)
		return bottom ? a < b : a > b;
	return ia < ib;
}

int series_topk(struct series_set *s, int64_t k, bool bottom)
{
	if (!s->finished)
		return CLEW_ESTATE;
	if (k <= 0)
		return CLEW_EINVAL;
	if ((uint64_t)k >= s->n_out)
		return 0;
	uint32_t kk = (uint32_t)k;
	/* heap[0] is the weakest of the chosen k */
	uint32_t *heap = try_malloc((size_t)kk * sizeof *heap);
	uint8_t *keep = try_calloc((size_t)s->n_out * s->n_steps, 1);
	int rc = 0;
	if (!heap || !keep) {
		rc = CLEW_ENOMEM;
		goto out;
	}
	for (uint32_t t = 0; t < s->n_steps; t++) {
		uint32_t n = 0;
		for (uint32_t i = 0; i < s->n_out; i++) {
			double v = s->out[i].values[t];
			if (isnan(v))
				continue;
			uint32_t j;
			if (n < kk) { /* sift up */
				j = n++;
				while (j > 0) {
					uint32_t p = (j - 1) / 2, hp = heap[p];
					if (!beats(s->out[hp].values[t], hp, v, i, bottom))
						break;
					heap[j] = hp;
					j = p;
				}
				heap[j] = i;
				continue;
			}
			uint32_t w = heap[0];
			if (!beats(v, i, s->out[w].values[t], w, bottom))
				continue;
			j = 0; /* replace the weakest, sift down */
			for (;;) {
				uint32_t c = 2 * j + 1;
				if (c >= n)
					break;
				if (c + 1 < n && beats(s->out[heap[c]].values[t], heap[c], s->out[heap[c + 1]].values[t],
						       heap[c + 1], bottom))
					c++;
				if (!beats(v, i, s->out[heap[c]].values[t], heap[c], bottom))
					break;
				heap[j] = heap[c];
				j = c;
			}
			heap[j] = i;
		}
		for (uint32_t j = 0; j < n; j++)
			keep[(size_t)heap[j] * s->n_steps + t] = 1;
	}
	for (uint32_t i = 0; i < s->n_out; i++)
		for (uint32_t t = 0; t < s->n_steps; t++)
			if (!keep[(size_t)i * s->n_steps + t])
				((double *)s->out[i].values)[t] = NAN;
	compact(s);
out:
	free(heap);
	free(keep);
	return rc;
}

int series_filter(struct series_set *s, enum tql_op op, double value)
{
	if (!s->finished)
		return CLEW_ESTATE;
	if (op < TQL_OP_EQ || op > TQL_OP_GTE)
		return CLEW_EINVAL;
	for (uint32_t i = 0; i < s->n_out; i++) {
		double *v = (double *)s->out[i].values;
		for (uint32_t t = 0; t < s->n_steps; t++) {
			bool ok;
			switch (op) {
			case TQL_OP_EQ:
				ok = v[t] == value;
				break;
			case TQL_OP_NEQ:
				ok = v[t] != value && !isnan(v[t]);
				break;
			case TQL_OP_LT:
				ok = v[t] < value;
				break;
			case TQL_OP_LTE:
				ok = v[t] <= value;
				break;
			case TQL_OP_GT:
				ok = v[t] > value;
				break;
			default:
				ok = v[t] >= value;
				break;
			}
			if (!ok)
				v[t] = NAN;
		}
	}
	compact(s);
	return 0;
}

uint32_t series_count(const struct series_set *s)
{
	return s->n_out;
}

const struct series_out *series_at(const struct series_set *s, uint32_t i)
{
	return i < s->n_out ? &s->out[i] : NULL;
}

uint32_t series_n_steps(const struct series_set *s)
{
	return s->n_steps;
}

int64_t series_step_ms(const struct series_set *s, uint32_t step)
{
	int64_t ns = s->cfg.start_ns + (int64_t)step * s->cfg.step_ns;
	return ns / 1000000 - (ns % 1000000 < 0); /* floor */
}

bool series_next_sample(const struct series_set *s, const struct series_out *o, uint32_t *step, int64_t *ts_ms,
			double *value)
{
	for (uint32_t t = *step; t < s->n_steps; t++) {
		if (!isnan(o->values[t])) {
			*ts_ms = series_step_ms(s, t);
			*value = o->values[t];
			*step = t + 1;
			return true;
		}
	}
	*step = s->n_steps;
	return false;
}

uint32_t series_groups(const struct series_set *s)
{
	return s->n_groups;
}

const char *series_error(const struct series_set *s)
{
	return s->err;
}

size_t series_bytes(const struct series_set *s)
{
	return s->bytes;
}
