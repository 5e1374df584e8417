/* Correlations: counting attribute values among bad and other units, the
 * Wilson-bounded ranking, the latency figures with and without each ranked
 * value, and the passes over the store (quantile threshold, counting,
 * latency probe) through the TraceQL executor's visitor.
 *
 * Memory: at most CORR_MAX_KEYS keys, each with at most max_values values.
 * When a key is full, its values are sorted by (bad, total) and the lower
 * half dropped (their counts are lost; if they come back they start again),
 * so the values most frequent among the bad units stay. */
#include "analysis/correlations.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "base/arena.h"
#include "base/err.h"
#include "base/hash.h"
#include "query/exec_int.h"

#define KEY_TAB 1024 /* power of two, > 2 * CORR_MAX_KEYS */

struct cv_entry {
	uint64_t hash;
	uint32_t off, len; /* the value's bytes in the key's pool */
	uint8_t vtype;
	bool cut;
	uint8_t n_ex;
	int32_t slot; /* ranked result, or -1 */
	uint64_t unit; /* last unit counted */
	uint64_t bad, total;
	uint8_t ex[CORR_MAX_EXAMPLES][16];
};

struct cv_key {
	uint64_t hash;
	uint8_t scope;
	char *name;
	uint32_t name_len;
	struct cv_entry *e;
	uint32_t n, cap;
	uint64_t *tab; /* indexes into e (UINT32_MAX = empty), the top 32 bits of its hash above */
	uint32_t tab_mask;
	uint8_t *pool;
	size_t pool_len, pool_cap;
	bool evicted;
};

struct corr_table {
	uint32_t max_values;
	struct cv_key *keys;
	uint32_t n_keys;
	uint32_t key_tab[KEY_TAB];
	uint64_t unit;
	uint64_t units_bad, units_rest;
	bool oom;
	/* the current trace */
	const struct span_batch *b;
	uint32_t first, n;
	uint32_t *child_first, *child_next, *idx_tab;
	size_t cap_trace;
	/* ranking */
	struct arena out;
	struct corr_result *results;
	uint32_t n_results;
	struct cv_entry **ranked;
	/* probe */
	bool probing;
	struct sketch pop;
	struct sketch *with;
};

struct corr_table *corr_table_new(uint32_t max_values)
{
	struct corr_table *t = try_calloc(1, sizeof *t);
	if (!t)
		return NULL;
	t->max_values = max_values ? max_values : CORR_DEFAULT_MAX_VALUES;
	if (t->max_values < 4)
		t->max_values = 4;
	memset(t->key_tab, 0xff, sizeof t->key_tab);
	arena_init(&t->out, 0);
	sketch_init(&t->pop, 0, 0);
	return t;
}

void corr_table_free(struct corr_table *t)
{
	if (!t)
		return;
	for (uint32_t k = 0; k < t->n_keys; k++) {
		free(t->keys[k].name);
		free(t->keys[k].e);
		free(t->keys[k].tab);
		free(t->keys[k].pool);
	}
	free(t->keys);
	free(t->child_first);
	free(t->child_next);
	free(t->idx_tab);
	free(t->ranked);
	if (t->with)
		for (uint32_t k = 0; k < t->n_results; k++)
			sketch_free(&t->with[k]);
	free(t->with);
	sketch_free(&t->pop);
	arena_reset(&t->out);
	free(t);
}

/* ---- the current trace and its child links ---- */

static uint32_t sid_hash(const uint8_t id[8])
{
	uint64_t v;
	memcpy(&v, id, 8);
	v *= 0x9e3779b97f4a7c15ULL;
	return (uint32_t)(v >> 32);
}

int corr_table_begin_trace(struct corr_table *t, const struct span_batch *b, uint32_t first, uint32_t n)
{
	size_t tab = 4;
	while (tab < (size_t)n * 2)
		tab <<= 1;
	if (tab > t->cap_trace) {
		uint32_t *cf = try_realloc(t->child_first, tab * sizeof *cf);
		if (cf)
			t->child_first = cf;
		uint32_t *cn = try_realloc(t->child_next, tab * sizeof *cn);
		if (cn)
			t->child_next = cn;
		uint32_t *it = try_realloc(t->idx_tab, tab * sizeof *it);
		if (it)
			t->idx_tab = it;
		if (!cf || !cn || !it)
			return CLEW_ENOMEM;
		t->cap_trace = tab;
	}
	t->b = b;
	t->first = first;
	t->n = n;
	uint32_t mask = (uint32_t)tab - 1;
	memset(t->idx_tab, 0xff, tab * sizeof *t->idx_tab);
	for (uint32_t i = 0; i < n; i++) {
		t->child_first[i] = UINT32_MAX;
		t->child_next[i] = UINT32_MAX;
		uint32_t h = sid_hash(b->spans[first + i].span_id) & mask;
		while (t->idx_tab[h] != UINT32_MAX)
			h = (h + 1) & mask;
		t->idx_tab[h] = i;
	}
	/* in reverse so that each child list comes out in trace order */
	for (uint32_t i = n; i-- > 0;) {
		const struct span *s = &b->spans[first + i];
		if (!s->has_parent)
			continue;
		uint32_t h = sid_hash(s->parent_span_id) & mask;
		while (t->idx_tab[h] != UINT32_MAX) {
			uint32_t p = t->idx_tab[h];
			if (p != i && memcmp(b->spans[first + p].span_id, s->parent_span_id, 8) == 0) {
				t->child_next[i] = t->child_first[p];
				t->child_first[p] = i;
				break;
			}
			h = (h + 1) & mask;
		}
	}
	return 0;
}

int64_t corr_table_self_ns(const struct corr_table *t, uint32_t i)
{
	const struct span *s = &t->b->spans[i];
	int64_t st = s->start_unix_ns, en = s->end_unix_ns;
	if (en <= st)
		return 0;
	if (i < t->first || i - t->first >= t->n)
		return en - st;
	int64_t iv[64][2];
	uint32_t n = 0;
	int64_t covered = 0;
	for (uint32_t c = t->child_first[i - t->first]; c != UINT32_MAX; c = t->child_next[c]) {
		const struct span *cs = &t->b->spans[t->first + c];
		int64_t a = cs->start_unix_ns > st ? cs->start_unix_ns : st;
		int64_t b = cs->end_unix_ns < en ? cs->end_unix_ns : en;
		if (b <= a)
			continue;
		if (n == 64) { /* a wide fan-out: children overlap anyway, cover all */
			return 0;
		}
		uint32_t k = n++; /* insertion by start */
		while (k > 0 && iv[k - 1][0] > a) {
			iv[k][0] = iv[k - 1][0];
			iv[k][1] = iv[k - 1][1];
			k--;
		}
		iv[k][0] = a;
		iv[k][1] = b;
	}
	int64_t cur_a = 0, cur_b = 0;
	for (uint32_t k = 0; k < n; k++) {
		if (k == 0 || iv[k][0] > cur_b) {
			covered += cur_b - cur_a;
			cur_a = iv[k][0];
			cur_b = iv[k][1];
		} else if (iv[k][1] > cur_b) {
			cur_b = iv[k][1];
		}
	}
	covered += cur_b - cur_a;
	return en - st - covered > 0 ? en - st - covered : 0;
}

/* ---- keys and values ---- */

static struct cv_key *find_key(struct corr_table *t, uint8_t scope, struct slice name, bool insert)
{
	uint64_t h = hash64_seed(name.p, name.len, scope);
	uint32_t slot = (uint32_t)h & (KEY_TAB - 1);
	while (t->key_tab[slot] != UINT32_MAX) {
		struct cv_key *k = &t->keys[t->key_tab[slot]];
		if (k->hash == h && k->scope == scope && k->name_len == name.len && memcmp(k->name, name.p, name.len) == 0)
			return k;
		slot = (slot + 1) & (KEY_TAB - 1);
	}
	if (!insert || t->n_keys >= CORR_MAX_KEYS || name.len > 1024)
		return NULL;
	if (!t->keys) {
		t->keys = try_calloc(CORR_MAX_KEYS, sizeof *t->keys);
		if (!t->keys) {
			t->oom = true;
			return NULL;
		}
	}
	struct cv_key *k = &t->keys[t->n_keys];
	memset(k, 0, sizeof *k);
	k->name = try_malloc(name.len + 1);
	if (!k->name) {
		t->oom = true;
		return NULL;
	}
	if (name.len)
		memcpy(k->name, name.p, name.len);
	k->name[name.len] = 0;
	k->name_len = (uint32_t)name.len;
	k->hash = h;
	k->scope = scope;
	t->key_tab[slot] = t->n_keys++;
	return k;
}

static void key_rehash(struct cv_key *k)
{
	memset(k->tab, 0xff, ((size_t)k->tab_mask + 1) * sizeof *k->tab);
	for (uint32_t i = 0; i < k->n; i++) {
		uint32_t h = (uint32_t)k->e[i].hash & k->tab_mask;
		while ((uint32_t)k->tab[h] != UINT32_MAX)
			h = (h + 1) & k->tab_mask;
		k->tab[h] = (k->e[i].hash & 0xffffffff00000000ULL) | i;
	}
}

/* An entry's rank when a key is full: more bad units first, then more
 * units, then the order the entries were in (a stable sort). */
struct keep {
	uint64_t bad, total;
	uint32_t i;
};

static inline bool keep_before(const struct keep *a, const struct keep *b)
{
	if (a->bad != b->bad)
		return a->bad > b->bad;
	if (a->total != b->total)
		return a->total > b->total;
	return a->i < b->i;
}

/* Sort x[0, n) by keep_before, tmp (n entries) as scratch; returns the
 * sorted array (x or tmp). */
static struct keep *keep_sort(struct keep *x, struct keep *tmp, uint32_t n)
{
	for (uint32_t w = 1; w < n; w *= 2) {
		for (uint32_t lo = 0; lo < n; lo += 2 * w) {
			uint32_t mid = lo + w < n ? lo + w : n, hi = lo + 2 * w < n ? lo + 2 * w : n;
			uint32_t a = lo, b = mid, o = lo;
			while (a < mid && b < hi)
				tmp[o++] = keep_before(&x[b], &x[a]) ? x[b++] : x[a++];
			while (a < mid)
				tmp[o++] = x[a++];
			while (b < hi)
				tmp[o++] = x[b++];
		}
		struct keep *t = x;
		x = tmp;
		tmp = t;
	}
	return x;
}

/* Drop the lower half of a full key's values (by bad, then total count;
 * equal ones in their order). */
static int key_evict(struct cv_key *k)
{
	uint32_t n = k->n, keep_n = n / 2;
	struct keep *ks = try_malloc(((size_t)n * 2 + 1) * sizeof *ks);
	struct cv_entry *ne = try_malloc(((size_t)keep_n + 1) * sizeof *ne);
	if (!ks || !ne) {
		free(ks);
		free(ne);
		return CLEW_ENOMEM;
	}
	for (uint32_t i = 0; i < n; i++)
		ks[i] = (struct keep){k->e[i].bad, k->e[i].total, i};
	const struct keep *sorted = keep_sort(ks, ks + n, n);
	for (uint32_t j = 0; j < keep_n; j++)
		ne[j] = k->e[sorted[j].i];
	memcpy(k->e, ne, (size_t)keep_n * sizeof *ne);
	free(ks);
	free(ne);
	k->n = keep_n;
	size_t len = 0;
	for (uint32_t i = 0; i < k->n; i++)
		len += k->e[i].len;
	uint8_t *pool = try_malloc(len ? len : 1);
	if (!pool)
		return CLEW_ENOMEM;
	size_t off = 0;
	for (uint32_t i = 0; i < k->n; i++) {
		memcpy(pool + off, k->pool + k->e[i].off, k->e[i].len);
		k->e[i].off = (uint32_t)off;
		off += k->e[i].len;
	}
	free(k->pool);
	k->pool = pool;
	k->pool_len = off;
	k->pool_cap = len ? len : 1;
	k->evicted = true;
	key_rehash(k);
	return 0;
}

static int key_grow(struct corr_table *t, struct cv_key *k)
{
	uint32_t cap = k->cap ? k->cap * 2 : 16;
	if (cap > t->max_values)
		cap = t->max_values;
	struct cv_entry *e = try_realloc(k->e, (size_t)cap * sizeof *e);
	if (!e)
		return CLEW_ENOMEM;
	k->e = e;
	k->cap = cap;
	uint32_t tabn = 16;
	while (tabn < cap * 2)
		tabn <<= 1;
	if (tabn != k->tab_mask + 1) {
		uint64_t *tab = try_malloc((size_t)tabn * sizeof *tab);
		if (!tab)
			return CLEW_ENOMEM;
		free(k->tab);
		k->tab = tab;
		k->tab_mask = tabn - 1;
		key_rehash(k);
	}
	return 0;
}

/* find_value for a value whose hash (value_hash) is h. */
static struct cv_entry *find_value_h(struct corr_table *t, struct cv_key *k, uint8_t vtype, struct slice v, bool cut,
				     bool insert, uint64_t h)
{
	if (k->tab) {
		uint32_t s = (uint32_t)h & k->tab_mask;
		uint64_t tag = h & 0xffffffff00000000ULL;
		while ((uint32_t)k->tab[s] != UINT32_MAX) {
			if ((k->tab[s] & 0xffffffff00000000ULL) == tag) {
				struct cv_entry *e = &k->e[(uint32_t)k->tab[s]];
				if (e->hash == h && e->vtype == vtype && e->len == v.len &&
				    memcmp(k->pool + e->off, v.p, v.len) == 0)
					return e;
			}
			s = (s + 1) & k->tab_mask;
		}
	}
	if (!insert)
		return NULL;
	if (k->n == k->cap) {
		int rc = k->cap < t->max_values ? key_grow(t, k) : key_evict(k);
		if (rc < 0) {
			t->oom = true;
			return NULL;
		}
	}
	if (k->pool_len + v.len > k->pool_cap) {
		size_t cap = k->pool_cap ? k->pool_cap : 256;
		while (cap < k->pool_len + v.len)
			cap *= 2;
		uint8_t *p = try_realloc(k->pool, cap);
		if (!p) {
			t->oom = true;
			return NULL;
		}
		k->pool = p;
		k->pool_cap = cap;
	}
	if (v.len)
		memcpy(k->pool + k->pool_len, v.p, v.len);
	struct cv_entry *e = &k->e[k->n];
	memset(e, 0, sizeof *e);
	e->hash = h;
	e->off = (uint32_t)k->pool_len;
	e->len = (uint32_t)v.len;
	e->vtype = vtype;
	e->cut = cut;
	e->slot = -1;
	k->pool_len += v.len;
	uint32_t s = (uint32_t)h & k->tab_mask;
	while ((uint32_t)k->tab[s] != UINT32_MAX)
		s = (s + 1) & k->tab_mask;
	k->tab[s] = (h & 0xffffffff00000000ULL) | k->n++;
	return e;
}

static inline uint64_t value_hash(uint8_t vtype, struct slice v)
{
	return hash64_seed(v.p, v.len, vtype);
}

static struct cv_entry *find_value(struct corr_table *t, struct cv_key *k, uint8_t vtype, struct slice v, bool cut,
				   bool insert)
{
	return find_value_h(t, k, vtype, v, cut, insert, value_hash(vtype, v));
}

uint64_t corr_value_hash(enum corr_vtype vtype, struct slice value)
{
	if (value.len > CORR_MAX_VALUE_LEN)
		value.len = CORR_MAX_VALUE_LEN;
	return value_hash((uint8_t)vtype, value);
}

void corr_table_prefetch(const struct corr_key *key, uint64_t h, int stage)
{
	const struct cv_key *k = (const struct cv_key *)key;
	if (!k->tab)
		return;
	const uint64_t *slot = &k->tab[(uint32_t)h & k->tab_mask];
	if (stage == 0) {
		__builtin_prefetch(slot);
		return;
	}
	uint32_t i = (uint32_t)*slot;
	if (i >= k->n) /* empty (a new value) */
		return;
	const struct cv_entry *e = &k->e[i];
	if (stage == 1)
		__builtin_prefetch(e);
	else if (k->pool)
		__builtin_prefetch(k->pool + e->off);
}

/* What one unit is being counted as. */
struct unit {
	bool bad;
	const uint8_t *trace_id;
	int64_t dur_ns;
};

static void count(struct corr_table *t, const struct unit *u, uint8_t scope, struct slice key, uint8_t vtype,
		  struct slice v)
{
	bool cut = false;
	if (v.len > CORR_MAX_VALUE_LEN) {
		v.len = CORR_MAX_VALUE_LEN;
		cut = true;
	}
	struct cv_key *k = find_key(t, scope, key, !t->probing);
	if (!k)
		return;
	struct cv_entry *e = find_value(t, k, vtype, v, cut, !t->probing);
	if (!e || e->unit == t->unit)
		return;
	e->unit = t->unit;
	if (t->probing) {
		if (e->slot >= 0 && sketch_add(&t->with[e->slot], (double)u->dur_ns) < 0)
			t->oom = true;
		return;
	}
	e->total++;
	if (!u->bad)
		return;
	e->bad++;
	if (e->n_ex < CORR_MAX_EXAMPLES) {
		for (uint8_t x = 0; x < e->n_ex; x++)
			if (memcmp(e->ex[x], u->trace_id, 16) == 0)
				return;
		memcpy(e->ex[e->n_ex++], u->trace_id, 16);
	}
}

static void add_example(struct cv_entry *e, const uint8_t *id)
{
	if (!id || e->n_ex >= CORR_MAX_EXAMPLES)
		return;
	for (uint8_t x = 0; x < e->n_ex; x++)
		if (memcmp(e->ex[x], id, 16) == 0)
			return;
	memcpy(e->ex[e->n_ex++], id, 16);
}

struct corr_key *corr_table_key(struct corr_table *t, enum corr_scope scope, struct slice key)
{
	return (struct corr_key *)find_key(t, (uint8_t)scope, key, true);
}

int corr_table_add_key_counts(struct corr_table *t, struct corr_key *key, enum corr_vtype vtype, struct slice value,
			      uint64_t bad, uint64_t total, const uint8_t *example)
{
	return corr_table_add_key_counts_h(t, key, vtype, value, corr_value_hash(vtype, value), bad, total, example);
}

int corr_table_add_key_counts_h(struct corr_table *t, struct corr_key *key, enum corr_vtype vtype, struct slice value,
				uint64_t h, uint64_t bad, uint64_t total, const uint8_t *example)
{
	bool cut = false;
	struct cv_key *k = (struct cv_key *)key;
	if (total == 0)
		return 0;
	if (value.len > CORR_MAX_VALUE_LEN) {
		value.len = CORR_MAX_VALUE_LEN;
		cut = true;
	}
	struct cv_entry *e = find_value_h(t, k, (uint8_t)vtype, value, cut, true, h);
	if (!e)
		return t->oom ? CLEW_ENOMEM : 0;
	e->total += total;
	e->bad += bad;
	if (bad)
		add_example(e, example);
	return 0;
}

int corr_table_add_counts(struct corr_table *t, enum corr_scope scope, struct slice key, enum corr_vtype vtype,
			  struct slice value, uint64_t bad, uint64_t total, const uint8_t *example)
{
	bool cut = false;
	if (total == 0)
		return 0;
	if (value.len > CORR_MAX_VALUE_LEN) {
		value.len = CORR_MAX_VALUE_LEN;
		cut = true;
	}
	struct cv_key *k = find_key(t, (uint8_t)scope, key, true);
	if (!k)
		return t->oom ? CLEW_ENOMEM : 0;
	struct cv_entry *e = find_value(t, k, (uint8_t)vtype, value, cut, true);
	if (!e)
		return t->oom ? CLEW_ENOMEM : 0;
	e->total += total;
	e->bad += bad;
	if (bad)
		add_example(e, example);
	return 0;
}

void corr_table_add_units(struct corr_table *t, uint64_t bad, uint64_t rest)
{
	t->units_bad += bad;
	t->units_rest += rest;
}

int corr_table_merge(struct corr_table *dst, const struct corr_table *src)
{
	dst->units_bad += src->units_bad;
	dst->units_rest += src->units_rest;
	for (uint32_t i = 0; i < src->n_keys; i++) {
		const struct cv_key *sk = &src->keys[i];
		struct cv_key *k = find_key(dst, sk->scope, slice_make(sk->name, sk->name_len), true);
		if (!k) {
			if (dst->oom)
				return CLEW_ENOMEM;
			continue;
		}
		for (uint32_t j = 0; j < sk->n; j++) {
			const struct cv_entry *se = &sk->e[j];
			struct cv_entry *e = find_value(dst, k, se->vtype, slice_make(sk->pool + se->off, se->len), se->cut, true);
			if (!e)
				return CLEW_ENOMEM;
			e->total += se->total;
			e->bad += se->bad;
			for (uint8_t x = 0; x < se->n_ex; x++)
				add_example(e, se->ex[x]);
		}
	}
	return dst->oom ? CLEW_ENOMEM : 0;
}

int32_t corr_table_slot(const struct corr_table *t, enum corr_scope scope, struct slice key, enum corr_vtype vtype,
			struct slice value)
{
	if (value.len > CORR_MAX_VALUE_LEN)
		value.len = CORR_MAX_VALUE_LEN;
	struct cv_key *k = find_key((struct corr_table *)t, (uint8_t)scope, key, false);
	if (!k)
		return -1;
	struct cv_entry *e = find_value((struct corr_table *)t, k, (uint8_t)vtype, value, false, false);
	return e ? e->slot : -1;
}

static size_t key_text(const struct cv_key *k, char *out, size_t cap);

bool corr_table_key_ranked(const struct corr_table *t, enum corr_scope scope, struct slice key)
{
	char kt[1200];
	if (!key.p) {
		for (uint32_t i = 0; i < t->n_results; i++)
			if (t->results[i].scope == scope)
				return true;
		return false;
	}
	struct cv_key *k = find_key((struct corr_table *)t, (uint8_t)scope, key, false);
	if (!k)
		return false;
	size_t n = key_text(k, kt, sizeof kt);
	for (uint32_t i = 0; i < t->n_results; i++)
		if (t->results[i].scope == scope && slice_eq(t->results[i].key, slice_make(kt, n)))
			return true;
	return false;
}

uint32_t corr_table_n_results(const struct corr_table *t)
{
	return t->n_results;
}

const struct corr_result *corr_table_results(const struct corr_table *t)
{
	return t->results;
}

int corr_table_merge_probe(struct corr_table *t, const struct sketch *pop, const struct sketch *with)
{
	if (pop && pop->count && sketch_merge(&t->pop, pop) < 0)
		return CLEW_ENOMEM;
	for (uint32_t k = 0; with && k < t->n_results; k++)
		if (with[k].count && sketch_merge(&t->with[k], &with[k]) < 0)
			return CLEW_ENOMEM;
	return 0;
}

size_t corr_bin(double v, char *out, size_t cap)
{
	int n;
	if (cap == 0)
		return 0;
	if (isnan(v)) {
		n = snprintf(out, cap, "NaN");
	} else if (fabs(v) < 1e-300) {
		n = snprintf(out, cap, "0");
	} else if (isinf(v)) {
		n = snprintf(out, cap, "%s", v > 0 ? "Infinity" : "-Infinity");
	} else {
		double a = fabs(v);
		double e = floor(log10(a));
		double d = pow(10, e);
		if (a / d >= 10) {
			d *= 10;
		} else if (a / d < 1) {
			d /= 10;
		}
		double m = a / d, lo, hi;
		if (m < 2) {
			lo = 1;
			hi = 2;
		} else if (m < 5) {
			lo = 2;
			hi = 5;
		} else {
			lo = 5;
			hi = 10;
		}
		if (v > 0)
			n = snprintf(out, cap, "[%.6g, %.6g)", lo * d, hi * d);
		else
			n = snprintf(out, cap, "(%.6g, %.6g]", -hi * d, -lo * d);
	}
	if (n < 0)
		n = 0;
	return (size_t)n < cap ? (size_t)n : cap - 1;
}

/* The counted text of an attribute's value (tmp holds numbers), false for
 * types not counted (arrays, maps, bytes, empty values). */
static bool attr_text(const struct any_value *v, char *tmp, size_t cap, uint8_t *vtype, struct slice *out)
{
	switch (v->type) {
	case ANY_STRING:
		*vtype = CORR_V_STRING;
		*out = v->u.str;
		return true;
	case ANY_BOOL:
		*vtype = CORR_V_BOOL;
		*out = slice_cstr(v->u.b ? "true" : "false");
		return true;
	case ANY_INT:
		if (v->u.i > -1000 && v->u.i < 1000) {
			int n = snprintf(tmp, cap, "%lld", (long long)v->u.i);
			*vtype = CORR_V_INT;
			*out = slice_make(tmp, n > 0 ? (size_t)n : 0);
		} else {
			*vtype = CORR_V_RANGE;
			*out = slice_make(tmp, corr_bin((double)v->u.i, tmp, cap));
		}
		return true;
	case ANY_DOUBLE:
		*vtype = CORR_V_RANGE;
		*out = slice_make(tmp, corr_bin(v->u.d, tmp, cap));
		return true;
	default:
		return false;
	}
}

bool corr_attr_text(const struct any_value *v, char *tmp, size_t cap, enum corr_vtype *vtype, struct slice *out)
{
	uint8_t vt;
	if (!attr_text(v, tmp, cap, &vt, out))
		return false;
	*vtype = (enum corr_vtype)vt;
	return true;
}

static void count_attr(struct corr_table *t, const struct unit *u, uint8_t scope, const struct attr *a)
{
	char tmp[64];
	uint8_t vt;
	struct slice v;
	if (attr_text(&a->value, tmp, sizeof tmp, &vt, &v))
		count(t, u, scope, a->key, vt, v);
}

int corr_table_add_attr_counts(struct corr_table *t, enum corr_scope scope, const struct attr *a, uint64_t bad,
			       uint64_t total, const uint8_t *example)
{
	char tmp[64];
	uint8_t vt;
	struct slice v;
	if (!attr_text(&a->value, tmp, sizeof tmp, &vt, &v))
		return 0;
	return corr_table_add_counts(t, scope, a->key, (enum corr_vtype)vt, v, bad, total, example);
}

int32_t corr_table_attr_slot(const struct corr_table *t, enum corr_scope scope, const struct attr *a)
{
	char tmp[64];
	uint8_t vt;
	struct slice v;
	if (!attr_text(&a->value, tmp, sizeof tmp, &vt, &v))
		return -1;
	return corr_table_slot(t, scope, a->key, (enum corr_vtype)vt, v);
}

static const char *kind_names[] = {"unspecified", "internal", "server", "client", "producer", "consumer"};
static const char *status_names[] = {"unset", "ok", "error"};

static void count_span(struct corr_table *t, const struct unit *u, uint32_t i)
{
	const struct span_batch *b = t->b;
	const struct span *s = &b->spans[i];
	count(t, u, CORR_SCOPE_INTRINSIC, SLICE_LIT("name"), CORR_V_STRING, s->name);
	count(t, u, CORR_SCOPE_INTRINSIC, SLICE_LIT("kind"), CORR_V_KEYWORD,
	      slice_cstr(kind_names[s->kind <= SPAN_KIND_CONSUMER ? s->kind : 0]));
	count(t, u, CORR_SCOPE_INTRINSIC, SLICE_LIT("status"), CORR_V_KEYWORD,
	      slice_cstr(status_names[s->status_code <= STATUS_ERROR ? s->status_code : 0]));
	const struct attr_list *ra = &span_batch_resource_of(b, s)->attrs;
	for (uint32_t k = 0; k < ra->n; k++)
		count_attr(t, u, CORR_SCOPE_RESOURCE, &ra->items[k]);
	for (uint32_t k = 0; k < s->attrs.n; k++)
		count_attr(t, u, CORR_SCOPE_SPAN, &s->attrs.items[k]);
	if (i < t->first || i - t->first >= t->n)
		return;
	for (uint32_t c = t->child_first[i - t->first]; c != UINT32_MAX; c = t->child_next[c]) {
		const struct span *cs = &b->spans[t->first + c];
		count(t, u, CORR_SCOPE_CHILD, SLICE_LIT("service"), CORR_V_STRING,
		      resource_service_name(span_batch_resource_of(b, cs)));
		count(t, u, CORR_SCOPE_CHILD, SLICE_LIT("name"), CORR_V_STRING, cs->name);
	}
}

static int add_unit(struct corr_table *t, const uint32_t *spans, uint32_t n_spans, bool bad, int64_t dur_ns)
{
	if (!t->b || n_spans == 0)
		return 0;
	struct unit u = {bad, t->b->spans[spans[0]].trace_id, dur_ns};
	t->unit++;
	for (uint32_t k = 0; k < n_spans; k++)
		count_span(t, &u, spans[k]);
	return t->oom ? CLEW_ENOMEM : 0;
}

int corr_table_add(struct corr_table *t, const uint32_t *spans, uint32_t n_spans, bool bad, int64_t dur_ns)
{
	if (t->probing)
		return CLEW_ESTATE;
	if (n_spans == 0)
		return 0;
	if (bad)
		t->units_bad++;
	else
		t->units_rest++;
	return add_unit(t, spans, n_spans, bad, dur_ns);
}

void corr_table_counts(const struct corr_table *t, uint64_t *bad, uint64_t *rest)
{
	*bad = t->units_bad;
	*rest = t->units_rest;
}

/* ---- ranking ---- */

double corr_wilson_lower(uint64_t k, uint64_t n, double z)
{
	if (n == 0 || k == 0)
		return 0;
	double nn = (double)n, p = (double)k / nn, z2 = z * z;
	double c = p + z2 / (2 * nn), r = z * sqrt(p * (1 - p) / nn + z2 / (4 * nn * nn));
	double v = (c - r) / (1 + z2 / nn);
	return v < 0 ? 0 : v;
}

double corr_wilson_upper(uint64_t k, uint64_t n, double z)
{
	if (n == 0 || k >= n)
		return 1;
	double nn = (double)n, p = (double)k / nn, z2 = z * z;
	double c = p + z2 / (2 * nn), r = z * sqrt(p * (1 - p) / nn + z2 / (4 * nn * nn));
	double v = (c + r) / (1 + z2 / nn);
	return v > 1 ? 1 : v;
}

struct cand {
	struct cv_key *k;
	struct cv_entry *e;
	double score;
};

static int cmp_bytes(const void *a, size_t alen, const void *b, size_t blen)
{
	size_t m = alen < blen ? alen : blen;
	int c = m ? memcmp(a, b, m) : 0;
	return c ? c : (alen > blen) - (alen < blen);
}

static int cmp_cand(const void *x, const void *y)
{
	const struct cand *a = x, *b = y;
	if (a->score != b->score)
		return a->score > b->score ? -1 : 1;
	if (a->e->bad != b->e->bad)
		return a->e->bad > b->e->bad ? -1 : 1;
	if (a->k->scope != b->k->scope)
		return a->k->scope < b->k->scope ? -1 : 1;
	int c = cmp_bytes(a->k->name, a->k->name_len, b->k->name, b->k->name_len);
	if (c)
		return c;
	return cmp_bytes(a->k->pool + a->e->off, a->e->len, b->k->pool + b->e->off, b->e->len);
}

static const char *scope_prefix[] = {"", "resource.", "span.", "child."};

static size_t key_text(const struct cv_key *k, char *out, size_t cap)
{
	int n = snprintf(out, cap, "%s%.*s", scope_prefix[k->scope], (int)k->name_len, k->name);
	if (n < 0)
		return 0;
	return (size_t)n < cap ? (size_t)n : cap - 1;
}

const char *const corr_error_symptoms[] = {"status",
					    "statusMessage",
					    "span.otel.status_code",
					    "span.otel.status_description",
					    "span.rpc.grpc.status_code",
					    "span.rpc.connect_rpc.error_code",
					    "span.http.response.status_code",
					    "span.http.status_code",
					    "span.error*",
					    "span.exception.*",
					    NULL};

static bool skipped(const struct cv_key *k, const char *const *skip)
{
	char kt[1100];
	size_t n = key_text(k, kt, sizeof kt);
	for (; skip && *skip; skip++) {
		size_t l = strlen(*skip);
		if (l && (*skip)[l - 1] == '*' ? n >= l - 1 && memcmp(kt, *skip, l - 1) == 0
					       : n == l && memcmp(kt, *skip, l) == 0)
			return true;
	}
	return false;
}

int corr_table_rank(struct corr_table *t, uint32_t limit, const char *const *skip, struct corr_result **out)
{
	uint64_t nb = t->units_bad, nr = t->units_rest;
	size_t n_cand = 0, cap = 0;
	struct cand *c = NULL;
	char kt[1100];
	int rc = 0;
	*out = NULL;
	if (limit == 0)
		limit = CORR_DEFAULT_LIMIT;
	for (uint32_t i = 0; i < t->n_keys; i++) {
		struct cv_key *k = &t->keys[i];
		if (skipped(k, skip))
			continue;
		for (uint32_t j = 0; j < k->n; j++) {
			struct cv_entry *e = &k->e[j];
			e->slot = -1;
			if (e->bad == 0)
				continue;
			double bs = (double)e->bad / (double)nb;
			double rs = nr ? (double)(e->total - e->bad) / (double)nr : 0;
			if (!(bs > rs))
				continue;
			if (n_cand == cap) {
				cap = cap ? cap * 2 : 256;
				struct cand *p = try_realloc(c, cap * sizeof *c);
				if (!p) {
					rc = CLEW_ENOMEM;
					goto out;
				}
				c = p;
			}
			c[n_cand++] = (struct cand){k, e,
						    corr_wilson_lower(e->bad, nb, CORR_Z) -
							    corr_wilson_upper(e->total - e->bad, nr, CORR_Z)};
		}
	}
	if (n_cand > 1)
		qsort(c, n_cand, sizeof *c, cmp_cand);
	if (n_cand > limit)
		n_cand = limit;
	if (t->with) {
		for (uint32_t k = 0; k < t->n_results; k++)
			sketch_free(&t->with[k]);
		free(t->with);
		t->with = NULL;
	}
	arena_reset(&t->out);
	t->n_results = 0;
	t->results = arena_array(&t->out, n_cand + 1, sizeof *t->results);
	t->with = try_calloc(n_cand + 1, sizeof *t->with);
	if (!t->results || !t->with) {
		rc = CLEW_ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < n_cand; i++) {
		struct corr_result *r = &t->results[i];
		struct cv_entry *e = c[i].e;
		memset(r, 0, sizeof *r);
		size_t n = key_text(c[i].k, kt, sizeof kt);
		char *ks = arena_strndup(&t->out, kt, n);
		void *vs = arena_memdup(&t->out, e->len ? c[i].k->pool + e->off : (const uint8_t *)"", e->len ? e->len : 1);
		if (!ks || !vs) {
			rc = CLEW_ENOMEM;
			goto out;
		}
		r->key = slice_make(ks, n);
		r->value = slice_make(vs, e->len);
		r->scope = (enum corr_scope)c[i].k->scope;
		r->vtype = (enum corr_vtype)e->vtype;
		r->truncated_value = e->cut;
		r->score = c[i].score;
		r->bad = e->bad;
		r->rest = e->total - e->bad;
		r->bad_share = nb ? (double)e->bad / (double)nb : 0;
		r->rest_share = nr ? (double)r->rest / (double)nr : 0;
		r->with_p50_ms = r->with_p99_ms = r->without_p50_ms = r->without_p99_ms = NAN;
		r->n_examples = e->n_ex;
		memcpy(r->examples, e->ex, sizeof r->examples);
		sketch_init(&t->with[i], 0, 0);
		e->slot = (int32_t)i;
		t->n_results++;
	}
	*out = t->results;
	rc = (int)t->n_results;
out:
	free(c);
	return rc;
}

/* ---- the latency probe ---- */

int corr_table_probe(struct corr_table *t, const uint32_t *spans, uint32_t n_spans, int64_t dur_ns)
{
	if (n_spans == 0)
		return 0;
	t->probing = true;
	if (sketch_add(&t->pop, (double)dur_ns) < 0)
		t->oom = true;
	return add_unit(t, spans, n_spans, false, dur_ns);
}

void corr_table_reset_probe(struct corr_table *t)
{
	sketch_free(&t->pop);
	sketch_init(&t->pop, 0, 0);
	for (uint32_t k = 0; t->with && k < t->n_results; k++) {
		sketch_free(&t->with[k]);
		sketch_init(&t->with[k], 0, 0);
	}
}

static uint64_t count_at(const struct sketch *s, int32_t key)
{
	uint32_t i = (uint32_t)key - (uint32_t)s->offset;
	return i < s->len ? s->counts[i] : 0;
}

/* The q-quantile of the values in a that are not in w (w's values being a
 * subset of a's, bucket by bucket). */
static double diff_quantile(const struct sketch *a, const struct sketch *w, double q)
{
	if (a->count <= w->count)
		return NAN;
	uint64_t n = a->count - w->count;
	uint64_t rank = (uint64_t)(q * (double)(n - 1));
	uint64_t cum = a->zero_count > w->zero_count ? a->zero_count - w->zero_count : 0;
	if (cum > rank)
		return 0;
	for (uint32_t i = 0; i < a->len; i++) {
		int32_t key = a->offset + (int32_t)i;
		uint64_t cw = count_at(w, key);
		cum += a->counts[i] > cw ? a->counts[i] - cw : 0;
		if (cum > rank) {
			double lo, hi;
			sketch_bucket_bounds(a, key, &lo, &hi);
			return 2 * lo * hi / (lo + hi);
		}
	}
	return a->max;
}

void corr_table_finish_probe(struct corr_table *t)
{
	for (uint32_t k = 0; k < t->n_results; k++) {
		struct corr_result *r = &t->results[k];
		r->with_p50_ms = sketch_quantile(&t->with[k], 0.5) / 1e6;
		r->with_p99_ms = sketch_quantile(&t->with[k], 0.99) / 1e6;
		r->without_p50_ms = diff_quantile(&t->pop, &t->with[k], 0.5) / 1e6;
		r->without_p99_ms = diff_quantile(&t->pop, &t->with[k], 0.99) / 1e6;
	}
}

void corr_table_population(const struct corr_table *t, double *p50_ms, double *p99_ms)
{
	*p50_ms = sketch_quantile(&t->pop, 0.5) / 1e6;
	*p99_ms = sketch_quantile(&t->pop, 0.99) / 1e6;
}

/* ---- the passes over the store ---- */

int64_t corr_unit_duration(const struct span_batch *b, const uint32_t *spans, uint32_t n_spans)
{
	if (n_spans == 0)
		return 0;
	int64_t lo = b->spans[spans[0]].start_unix_ns, hi = b->spans[spans[0]].end_unix_ns;
	for (uint32_t k = 1; k < n_spans; k++) {
		const struct span *s = &b->spans[spans[k]];
		if (s->start_unix_ns < lo)
			lo = s->start_unix_ns;
		if (s->end_unix_ns > hi)
			hi = s->end_unix_ns;
	}
	return hi > lo ? hi - lo : 0;
}

struct run {
	struct corr_table *t;
	struct corr_op *ops; /* CORR_MAX_OPERATIONS * 2 slots, per_operation only */
	uint32_t n_ops;
	const struct corr_options *co;
	enum corr_pass pass;
	int64_t threshold_ns;
	struct sketch q;
	uint32_t *all;
	size_t cap_all;
};

uint64_t corr_op_hash(struct slice svc, struct slice name)
{
	return hash64_seed(name.p, name.len, hash64(svc.p, svc.len));
}

struct corr_op *corr_op_get(struct corr_op *ops, uint32_t *n, uint64_t h, bool insert)
{
	uint32_t mask = CORR_MAX_OPERATIONS * 2 - 1, i = (uint32_t)h & mask;
	while (ops[i].used) {
		if (ops[i].hash == h)
			return &ops[i]; /* 64-bit hash equality stands for name equality */
		i = (i + 1) & mask;
	}
	if (!insert || *n >= CORR_MAX_OPERATIONS)
		return NULL;
	(*n)++;
	ops[i].used = true;
	ops[i].hash = h;
	sketch_init(&ops[i].q, 0, 0);
	return &ops[i];
}

/* The operation of a span (service and name), or NULL past the cap. */
static struct corr_op *op_of(struct run *r, const struct span_batch *b, const struct span *s, bool insert)
{
	struct slice svc = resource_service_name(span_batch_resource_of(b, s));
	return corr_op_get(r->ops, &r->n_ops, corr_op_hash(svc, s->name), insert);
}

static bool unit_bad(struct run *r, const struct span_batch *b, const uint32_t *spans, uint32_t n_spans,
		     int64_t dur)
{
	if (r->co->signal == CORR_SIGNAL_LATENCY) {
		if (r->ops) {
			struct corr_op *op = op_of(r, b, &b->spans[spans[0]], false);
			if (op)
				return dur > op->threshold_ns;
		}
		return dur > r->threshold_ns;
	}
	for (uint32_t k = 0; k < n_spans; k++)
		if (b->spans[spans[k]].status_code == STATUS_ERROR)
			return true;
	return false;
}

static int one_unit(struct run *r, const struct span_batch *b, const uint32_t *spans, uint32_t n_spans)
{
	int64_t dur = r->co->self_time && r->co->level == CORR_LEVEL_SPAN ? corr_table_self_ns(r->t, spans[0])
									 : corr_unit_duration(b, spans, n_spans);
	switch (r->pass) {
	case CORR_PASS_QUANTILE:
		if (r->ops) {
			struct corr_op *op = op_of(r, b, &b->spans[spans[0]], true);
			if (op && sketch_add(&op->q, (double)dur) < 0)
				return CLEW_ENOMEM;
		}
		return sketch_add(&r->q, (double)dur);
	case CORR_PASS_COUNT:
		return corr_table_add(r->t, spans, n_spans, unit_bad(r, b, spans, n_spans, dur), dur);
	case CORR_PASS_PROBE:
		return corr_table_probe(r->t, spans, n_spans, dur);
	}
	return 0;
}

static int visit(void *ctx, const struct span_batch *b, uint32_t first, uint32_t n, const uint32_t *matched,
		 uint32_t n_matched)
{
	struct run *r = ctx;
	int rc;
	if (n_matched == 0)
		return 0;
	if ((r->pass != CORR_PASS_QUANTILE || r->co->self_time) && (rc = corr_table_begin_trace(r->t, b, first, n)) < 0)
		return rc;
	if (r->co->level == CORR_LEVEL_SPAN) {
		for (uint32_t k = 0; k < n_matched; k++)
			if ((rc = one_unit(r, b, &matched[k], 1)) < 0)
				return rc;
		return 0;
	}
	if (n > r->cap_all) {
		uint32_t *p = try_realloc(r->all, (size_t)n * sizeof *p);
		if (!p)
			return CLEW_ENOMEM;
		r->all = p;
		r->cap_all = n;
	}
	for (uint32_t k = 0; k < n; k++)
		r->all[k] = first + k;
	return one_unit(r, b, r->all, n);
}

/* The threshold for a quantile estimate v: the upper bound of v's bucket,
 * so values tied with the quantile (same bucket) are never bad. */
static int64_t quantile_threshold(const struct sketch *s, double v)
{
	if (isnan(v))
		return INT64_MAX;
	if (!(v >= 2.2250738585072014e-308))
		return 0;
	double lo, hi;
	sketch_bucket_bounds(s, sketch_key(s, v), &lo, &hi);
	return hi > 9e18 ? INT64_MAX : (int64_t)hi;
}

/* One pass over the store: block pages through the columnar path when cc
 * is set, the rest span by span through visit. */
static int scan_pass(struct run *r, struct corr_col *cc, const struct store_query_ops *ops, void *impl,
		     struct exec_query *xq, const struct exec_options *o, enum corr_pass pass, struct exec_result *fig)
{
	int rc;
	r->pass = pass;
	if (!cc)
		return exec_scan(ops, impl, xq, o, visit, r, fig);
	if ((rc = corr_col_begin(cc, pass, r->threshold_ns)) < 0)
		return rc;
	rc = exec_scan_pages(ops, impl, xq, o, visit, r, corr_col_page, cc, fig);
	int rc2 = corr_col_end(cc, &r->q);
	return rc < 0 ? rc : rc2;
}

int corr_run(const struct store_query_ops *ops, void *impl, struct exec_query *xq, const struct exec_options *o,
	     const struct corr_options *co, struct corr_report *rep)
{
	struct run r;
	struct exec_result fig;
	struct corr_col *cc = NULL;
	int rc;
	memset(rep, 0, sizeof *rep);
	memset(&r, 0, sizeof r);
	rep->p50_ms = rep->p99_ms = NAN;
	r.co = co;
	r.threshold_ns = co->threshold_ns;
	sketch_init(&r.q, 0, 0);
	rep->table = r.t = corr_table_new(co->max_values);
	if (!r.t) {
		rc = CLEW_ENOMEM;
		goto out;
	}
	if (co->signal == CORR_SIGNAL_LATENCY && co->threshold_ns <= 0 && co->per_operation &&
	    co->level == CORR_LEVEL_SPAN) {
		r.ops = try_calloc(CORR_MAX_OPERATIONS * 2, sizeof *r.ops);
		if (!r.ops) {
			rc = CLEW_ENOMEM;
			goto out;
		}
	}
	cc = corr_col_new(xq, o, co, r.t, r.ops, &r.n_ops);
	if (co->signal == CORR_SIGNAL_LATENCY && co->threshold_ns <= 0) {
		memset(&fig, 0, sizeof fig);
		if ((rc = scan_pass(&r, cc, ops, impl, xq, o, CORR_PASS_QUANTILE, &fig)) < 0)
			goto out;
		double v = sketch_quantile(&r.q, co->quantile);
		r.threshold_ns = quantile_threshold(&r.q, v);
		for (uint32_t k = 0; r.ops && k < CORR_MAX_OPERATIONS * 2; k++) {
			if (!r.ops[k].used)
				continue;
			v = sketch_quantile(&r.ops[k].q, co->quantile);
			r.ops[k].threshold_ns = quantile_threshold(&r.ops[k].q, v);
			sketch_free(&r.ops[k].q);
		}
	}
	rep->threshold_ns = r.threshold_ns;
	memset(&fig, 0, sizeof fig);
	if ((rc = scan_pass(&r, cc, ops, impl, xq, o, CORR_PASS_COUNT, &fig)) < 0)
		goto out;
	rep->inspected_spans = fig.inspected_spans;
	corr_table_counts(r.t, &rep->bad, &rep->rest);
	if ((rc = corr_table_rank(r.t, co->limit, co->signal == CORR_SIGNAL_ERROR ? corr_error_symptoms : NULL,
				  &rep->results)) < 0)
		goto out;
	rep->n_results = (uint32_t)rc;
	if (co->signal == CORR_SIGNAL_LATENCY) {
		if ((rc = scan_pass(&r, cc, ops, impl, xq, o, CORR_PASS_PROBE, NULL)) < 0)
			goto out;
		if (cc && corr_col_probe_again(cc)) {
			corr_table_reset_probe(r.t);
			if ((rc = scan_pass(&r, cc, ops, impl, xq, o, CORR_PASS_PROBE, NULL)) < 0)
				goto out;
		}
		rep->figures_pages = cc ? corr_col_probe_pages(cc) : 0;
		corr_table_finish_probe(r.t);
		corr_table_population(r.t, &rep->p50_ms, &rep->p99_ms);
	}
	rc = 0;
out:
	corr_col_free(cc);
	sketch_free(&r.q);
	for (uint32_t k = 0; r.ops && k < CORR_MAX_OPERATIONS * 2; k++)
		if (r.ops[k].used)
			sketch_free(&r.ops[k].q);
	free(r.ops);
	free(r.all);
	return rc;
}

void corr_report_free(struct corr_report *rep)
{
	corr_table_free(rep->table);
	memset(rep, 0, sizeof *rep);
}

/* ---- JSON ---- */

static const char *scope_type[] = {"intrinsic", "resource", "span", "child"};
static const char *vtype_names[] = {"string", "int", "bool", "range", "keyword"};

static void ms_or_null(struct json *j, const char *key, double v)
{
	json_key(j, key);
	if (isnan(v))
		json_null_value(j);
	else
		json_double(j, round(v * 1000) / 1000);
}

void corr_write_results(struct json *j, const struct corr_result *r, uint32_t n, bool latency)
{
	json_arr_begin(j);
	for (uint32_t k = 0; k < n; k++) {
		const struct corr_result *c = &r[k];
		json_obj_begin(j);
		json_key(j, "key");
		json_str(j, c->key);
		json_key(j, "value");
		json_str(j, c->value);
		json_key(j, "type");
		json_cstr(j, scope_type[c->scope]);
		json_key(j, "valueType");
		json_cstr(j, vtype_names[c->vtype]);
		if (c->truncated_value) {
			json_key(j, "valueTruncated");
			json_bool(j, true);
		}
		json_key(j, "score");
		json_double(j, round(c->score * 10000) / 10000);
		json_key(j, "bad");
		json_obj_begin(j);
		json_key(j, "count");
		json_uint(j, c->bad);
		json_key(j, "share");
		json_double(j, round(c->bad_share * 10000) / 10000);
		json_obj_end(j);
		json_key(j, "rest");
		json_obj_begin(j);
		json_key(j, "count");
		json_uint(j, c->rest);
		json_key(j, "share");
		json_double(j, round(c->rest_share * 10000) / 10000);
		json_obj_end(j);
		if (latency) {
			json_key(j, "with");
			json_obj_begin(j);
			ms_or_null(j, "p50", c->with_p50_ms);
			ms_or_null(j, "p99", c->with_p99_ms);
			json_obj_end(j);
			json_key(j, "without");
			json_obj_begin(j);
			ms_or_null(j, "p50", c->without_p50_ms);
			ms_or_null(j, "p99", c->without_p99_ms);
			json_obj_end(j);
		}
		json_key(j, "exampleTraceIds");
		json_arr_begin(j);
		for (uint32_t x = 0; x < c->n_examples; x++)
			json_hex(j, c->examples[x], 16);
		json_arr_end(j);
		json_obj_end(j);
	}
	json_arr_end(j);
}
