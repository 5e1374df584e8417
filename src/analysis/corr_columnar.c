/* Correlations over block pages, column by column: each scan worker counts
 * a page on dictionary ids in a page-local table of 64-bit codes (category,
 * key id, value id or bin), each code stamped with the last unit that
 * counted it, and folds the table into its own string-keyed corr_table
 * once per distinct code per page; resource attributes are counted per
 * resource (a page has few) and added once with the resource's counts. The
 * workers' tables, sketches and operation sketches are merged when the pass
 * ends. Pages the columnar evaluator cannot take go back to the scan, span
 * by span. docs/analysis.md explains the counting. */
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/corr_col_int.h"

struct corr_col *corr_col_new(const struct exec_query *xq, const struct exec_options *o,
			      const struct corr_options *co, struct corr_table *t, struct corr_op *ops, uint32_t *n_ops)
{
	if (!xq || !xq->col || !xq->per_span || !t)
		return NULL;
	struct corr_col *c = try_calloc(1, sizeof *c);
	if (!c)
		return NULL;
	c->xq = xq;
	c->co = co;
	c->start_ns = o->start_ns;
	c->end_ns = o->end_ns;
	c->t = t;
	c->ops = ops;
	c->n_ops = n_ops;
	c->spec_after = co->spec_after ? co->spec_after : CORR_SPEC_AFTER;
	uint32_t limit = co->limit ? co->limit : CORR_DEFAULT_LIMIT;
	/* candidates enough for the ranking to settle within them; a long
	 * ranking is left to the figures pass (the sketch adds would cost more) */
	c->spec_k = limit > CORR_SPEC_MAX_LIMIT ? 0 : limit * 3 < 24 ? 24 : limit * 3;
	if (co->per_operation) /* its early ranking missed final values on every page tried: no gain */
		c->spec_k = 0;
	sketch_init(&c->pop, 0, 0);
	return c;
}

static void cw_reset_pass(struct cw *w)
{
	corr_table_free(w->t);
	w->t = NULL;
	sketch_free(&w->q);
	sketch_free(&w->pop);
	sketch_init(&w->q, 0, 0);
	sketch_init(&w->pop, 0, 0);
	for (uint32_t k = 0; k < w->n_with; k++)
		sketch_free(&w->with[k]);
	free(w->with);
	w->with = NULL;
	w->n_with = 0;
	for (uint32_t k = 0; w->ops && k < CORR_MAX_OPERATIONS * 2; k++)
		if (w->ops[k].used)
			sketch_free(&w->ops[k].q);
	free(w->ops);
	w->ops = NULL;
	w->n_ops = 0;
	w->rc = 0;
	w->probe_pages = 0;
}

static void cw_free(struct cw *w)
{
	if (!w)
		return;
	cw_reset_pass(w);
	corr_col_spec_free(w);
	excol_worker_free(w->xw);
	arena_reset(&w->rc_.a);
	free(w->tab);
	free(w->vtab);
	free(w->touched);
	free(w->dname);
	free(w->dcname);
	free(w->dcsvc);
	free(w->kok);
	free(w->thead);
	free(w->kgen);
	free(w->tg);
	block_keys_col_free(&w->kcol);
	free(w->pname);
	free(w->pcname);
	free(w->pcsvc);
	free(w->kmemo);
	free(w->row_trace);
	free(w->parent);
	free(w->cfirst);
	free(w->cnext);
	free(w->stamp_slot);
	free(w->unit_dur);
	free(w->bad);
	free(w->rbad);
	free(w->rtotal);
	free(w->rex);
	free(w->rtouched);
	free(w->memo);
	free(w);
}

void corr_col_free(struct corr_col *c)
{
	if (!c)
		return;
	for (uint32_t k = 0; k < EXEC_MAX_THREADS; k++)
		cw_free(c->w[k]);
	sketch_free(&c->pop);
	corr_col_rset_free(&c->rk);
	free(c);
}

int corr_col_begin(struct corr_col *c, enum corr_pass pass, int64_t threshold_ns)
{
	c->pass = pass;
	c->threshold_ns = threshold_ns;
	c->gen++;
	if (pass == CORR_PASS_QUANTILE || (pass == CORR_PASS_COUNT && !c->pop_known)) {
		sketch_free(&c->pop);
		sketch_init(&c->pop, 0, 0);
		c->pop_known = false;
	}
	for (uint32_t k = 0; pass == CORR_PASS_COUNT && k < EXEC_MAX_THREADS; k++) {
		if (c->w[k]) { /* a new count: no candidates yet */
			corr_col_spec_free(c->w[k]);
			c->w[k]->units = 0;
		}
	}
	if (pass == CORR_PASS_PROBE) {
		c->probe_pages = 0;
		for (uint32_t k = 0; k < EXEC_MAX_THREADS; k++)
			if (c->w[k])
				c->w[k]->unseen = false;
		if (corr_col_rset_init(&c->rk, c->t, c->gen, false) < 0 || corr_col_spec_settle(c) < 0)
			return CLEW_ENOMEM;
	}
	for (uint32_t k = 0; k < EXEC_MAX_THREADS; k++)
		if (c->w[k])
			cw_reset_pass(c->w[k]);
	return 0;
}

int corr_col_end(struct corr_col *c, struct sketch *q)
{
	int rc = 0;
	for (uint32_t k = 0; k < EXEC_MAX_THREADS; k++) {
		struct cw *w = c->w[k];
		if (!w)
			continue;
		if (w->rc < 0 && rc == 0)
			rc = w->rc;
		if (rc < 0)
			continue;
		if (c->pass == CORR_PASS_QUANTILE) {
			if (w->q.count && (sketch_merge(q, &w->q) < 0 || sketch_merge(&c->pop, &w->q) < 0))
				rc = CLEW_ENOMEM;
			for (uint32_t i = 0; w->ops && c->ops && i < CORR_MAX_OPERATIONS * 2 && rc == 0; i++) {
				if (!w->ops[i].used)
					continue;
				struct corr_op *op = corr_op_get(c->ops, c->n_ops, w->ops[i].hash, true);
				if (op && sketch_merge(&op->q, &w->ops[i].q) < 0)
					rc = CLEW_ENOMEM;
			}
		} else if (c->pass == CORR_PASS_COUNT) {
			if (w->t)
				rc = corr_table_merge(c->t, w->t);
			if (rc == 0 && w->pop.count && sketch_merge(&c->pop, &w->pop) < 0)
				rc = CLEW_ENOMEM;
		} else {
			c->probe_pages += w->probe_pages;
			if (w->with)
				rc = corr_table_merge_probe(c->t, NULL, w->with);
		}
		cw_reset_pass(w);
	}
	if (rc == 0 && c->pass == CORR_PASS_PROBE)
		rc = corr_table_merge_probe(c->t, &c->pop, NULL);
	c->pop_known = rc == 0 && c->pass == CORR_PASS_QUANTILE;
	return rc;
}

/* ---- helpers ---- */

/* The bin of v as corr_bin makes it: 0 zero, 1 NaN, 2 and 3 infinities,
 * then 4 + (decade, sign, 1/2/5). */
static uint32_t bin_id(double v)
{
	if (isnan(v))
		return 1;
	if (fabs(v) < 1e-300)
		return 0;
	if (isinf(v))
		return v > 0 ? 2 : 3;
	double a = fabs(v);
	double e = floor(log10(a));
	double d = pow(10, e);
	if (a / d >= 10) {
		d *= 10;
		e += 1;
	} else if (a / d < 1) {
		d /= 10;
		e -= 1;
	}
	double m = a / d;
	uint32_t lo = m < 2 ? 0 : m < 5 ? 1 : 2;
	return 4 + (((uint32_t)(e + 400) * 2 + (v < 0)) * 3 + lo);
}

static uint32_t bin_cached(struct cw *w, double v)
{
	uint64_t bits;
	memcpy(&bits, &v, 8);
	uint32_t h = (uint32_t)((bits * 0x9e3779b97f4a7c15ULL) >> 54) & (BIN_CACHE - 1);
	if (w->bins[h].bits == bits && w->bins[h].id != UINT32_MAX)
		return w->bins[h].id;
	w->bins[h].bits = bits;
	w->bins[h].id = bin_id(v);
	return w->bins[h].id;
}

/* The text corr_bin gives the values of bin id. */
static size_t bin_text(uint32_t id, char *out, size_t cap)
{
	if (id < 4)
		return corr_bin(id == 0 ? 0.0 : id == 1 ? NAN : id == 2 ? INFINITY : -INFINITY, out, cap);
	uint32_t x = id - 4, lo = x % 3;
	bool neg = (x / 3) % 2;
	double d = pow(10, (double)(x / 6) - 400);
	static const double los[] = {1, 2, 5}, his[] = {2, 5, 10};
	int n = neg ? snprintf(out, cap, "(%.6g, %.6g]", -his[lo] * d, -los[lo] * d)
		    : snprintf(out, cap, "[%.6g, %.6g)", los[lo] * d, his[lo] * d);
	if (n < 0)
		return 0;
	return (size_t)n < cap ? (size_t)n : cap - 1;
}

static bool attr_equal(const struct attr *a, const struct attr *b)
{
	if (!slice_eq(a->key, b->key) || a->value.type != b->value.type)
		return false;
	switch (a->value.type) {
	case ANY_STRING:
		return slice_eq(a->value.u.str, b->value.u.str);
	case ANY_BOOL:
		return a->value.u.b == b->value.u.b;
	case ANY_INT:
		return a->value.u.i == b->value.u.i;
	case ANY_DOUBLE:
		return a->value.u.d == b->value.u.d;
	default:
		return false;
	}
}

/* The block's scopes and resources into w->rc_. */
static int load_resources(struct cw *w, struct block *blk)
{
	struct rcache *r = &w->rc_;
	if (r->blk == blk)
		return 0;
	struct block_info bi;
	int rc;
	arena_reset(&r->a);
	r->blk = NULL;
	r->slot_gen = 0;
	block_get_info(blk, &bi);
	r->n_scopes = bi.scopes;
	r->n_res = bi.resources;
	r->scope_res = arena_array(&r->a, r->n_scopes + 1, sizeof *r->scope_res);
	r->svc = arena_array(&r->a, r->n_res + 1, sizeof *r->svc);
	r->off = arena_array(&r->a, r->n_res + 1, sizeof *r->off);
	r->svc_canon = arena_array(&r->a, r->n_res + 1, sizeof *r->svc_canon);
	struct attr_list *al = arena_array(&r->a, r->n_res + 1, sizeof *al);
	if (!r->scope_res || !r->svc || !r->off || !r->svc_canon || !al)
		return CLEW_ENOMEM;
	for (uint32_t s = 0; s < r->n_scopes; s++) {
		r->scope_res[s] = block_scope_resource(blk, s);
		if (r->scope_res[s] >= r->n_res)
			return CLEW_ECORRUPT;
	}
	r->n_flat = 0;
	for (uint32_t k = 0; k < r->n_res; k++) {
		if ((rc = block_resource_attrs(blk, k, &r->a, &al[k])) < 0)
			return rc;
		struct resource res = {.attrs = al[k]};
		r->svc[k] = resource_service_name(&res);
		r->svc_canon[k] = k;
		for (uint32_t j = 0; j < k; j++) {
			if (slice_eq(r->svc[j], r->svc[k])) {
				r->svc_canon[k] = j;
				break;
			}
		}
		r->off[k] = r->n_flat;
		r->n_flat += al[k].n;
	}
	r->off[r->n_res] = r->n_flat;
	r->flat = arena_array(&r->a, r->n_flat + 1, sizeof *r->flat);
	r->canon = arena_array(&r->a, r->n_flat + 1, sizeof *r->canon);
	r->dup = arena_array(&r->a, r->n_flat + 1, 1);
	r->slot = arena_array(&r->a, r->n_flat + 1, sizeof *r->slot);
	r->rs_off = arena_array(&r->a, r->n_res + 1, sizeof *r->rs_off);
	r->rs = arena_array(&r->a, r->n_flat + 1, sizeof *r->rs);
	r->vtext = arena_array(&r->a, r->n_flat + 1, sizeof *r->vtext);
	r->vhash = arena_array(&r->a, r->n_flat + 1, sizeof *r->vhash);
	r->vtype = arena_array(&r->a, r->n_flat + 1, 1);
	r->vok = arena_array(&r->a, r->n_flat + 1, 1);
	r->key = arena_array(&r->a, r->n_flat + 1, sizeof *r->key);
	if (!r->flat || !r->canon || !r->dup || !r->slot || !r->rs_off || !r->rs || !r->vtext || !r->vhash ||
	    !r->vtype || !r->vok || !r->key)
		return CLEW_ENOMEM;
	r->key_gen = 0;
	for (uint32_t k = 0; k < r->n_res; k++)
		for (uint32_t i = 0; i < al[k].n; i++)
			r->flat[r->off[k] + i] = &al[k].items[i];
	for (uint32_t f = 0; f < r->n_flat; f++) { /* each value's text and hash, once per block */
		char tmp[64];
		enum corr_vtype vt = CORR_V_STRING;
		struct slice v = {0};
		r->vok[f] = corr_attr_text(&r->flat[f]->value, tmp, sizeof tmp, &vt, &v);
		r->vtype[f] = (uint8_t)vt;
		if (r->vok[f] && v.p == (const uint8_t *)tmp) { /* a number's text: keep it */
			uint8_t *copy = arena_alloc(&r->a, v.len + 1);
			if (!copy)
				return CLEW_ENOMEM;
			memcpy(copy, tmp, v.len);
			v.p = copy;
		}
		r->vtext[f] = v;
		r->vhash[f] = r->vok[f] ? corr_value_hash(vt, v) : 0;
	}
	for (uint32_t k = 0; k < r->n_res; k++) {
		for (uint32_t f = r->off[k]; f < r->off[k + 1]; f++) {
			r->canon[f] = f;
			r->dup[f] = 0;
			for (uint32_t g = 0; g < f; g++) {
				if (attr_equal(r->flat[g], r->flat[f])) {
					r->canon[f] = r->canon[g];
					r->dup[f] = g >= r->off[k];
					break;
				}
			}
		}
	}
	r->blk = blk;
	return 0;
}

/* ---- the page table ---- */

static int tab_init(struct cw *w, uint32_t cap, uint32_t n_values)
{
	for (uint32_t k = 0; k < w->n_touched; k++) { /* only the entries the last page used */
		uint32_t ref = w->touched[k];
		if (ref & VREF)
			w->vtab[ref & ~VREF].code = EMPTY;
		else
			w->tab[ref].code = EMPTY;
	}
	w->n_touched = 0;
	w->used = 0;
	if (!w->tab || w->mask + 1 < cap) {
		free(w->tab);
		w->tab = try_malloc((size_t)cap * sizeof *w->tab);
		if (!w->tab)
			return CLEW_ENOMEM;
		w->mask = cap - 1;
		for (uint32_t i = 0; i <= w->mask; i++)
			w->tab[i].code = EMPTY;
	}
	if (!w->touched) {
		if (!(w->touched = try_malloc((size_t)cap * sizeof *w->touched)))
			return CLEW_ENOMEM;
		w->cap_touched = cap;
	}
	if (n_values > w->cap_vtab) {
		size_t n = n_values + n_values / 2;
		if (corr_col_grow((void **)&w->vtab, n, sizeof *w->vtab) < 0)
			return CLEW_ENOMEM;
		for (size_t i = w->cap_vtab; i < n; i++)
			w->vtab[i].code = EMPTY;
		w->cap_vtab = n;
	}
	return 0;
}

/* Append ref to the insertion order; false when out of memory. */
static inline bool touch(struct cw *w, uint32_t ref)
{
	if (w->n_touched == w->cap_touched) {
		uint32_t cap = w->cap_touched ? w->cap_touched * 2 : 4096;
		if (corr_col_grow((void **)&w->touched, cap, sizeof *w->touched) < 0)
			return false;
		w->cap_touched = cap;
	}
	w->touched[w->n_touched++] = ref;
	return true;
}

static uint32_t tab_slot(const struct cw *w, uint64_t code)
{
	return (uint32_t)((code * 0x9e3779b97f4a7c15ULL) >> 40) & w->mask;
}

static int tab_grow(struct cw *w)
{
	uint32_t n = w->mask + 1;
	struct pent *old = w->tab;
	struct pent *nt = try_malloc((size_t)n * 2 * sizeof *nt);
	if (!nt)
		return CLEW_ENOMEM;
	w->tab = nt;
	w->mask = n * 2 - 1;
	for (uint32_t i = 0; i <= w->mask; i++)
		nt[i].code = EMPTY;
	for (uint32_t i = 0; i < n; i++) {
		if (old[i].code == EMPTY)
			continue;
		uint32_t h = tab_slot(w, old[i].code);
		while (nt[h].code != EMPTY)
			h = (h + 1) & w->mask;
		nt[h] = old[i];
	}
	/* the new slots in the old insertion order */
	for (uint32_t k = 0; k < w->n_touched; k++) {
		if (w->touched[k] & VREF)
			continue;
		uint64_t code = old[w->touched[k]].code;
		uint32_t h = tab_slot(w, code);
		while (nt[h].code != code)
			h = (h + 1) & w->mask;
		w->touched[k] = h;
	}
	free(old);
	return 0;
}

/* The entry of code, inserted (zeroed) when new; NULL when out of memory. */
static struct pent *tab_get(struct cw *w, uint64_t code, bool *fresh)
{
	uint32_t h = tab_slot(w, code);
	while (w->tab[h].code != code) {
		if (w->tab[h].code == EMPTY) {
			if ((w->used + 1) * 2 > w->mask + 1) {
				if (tab_grow(w) < 0)
					return NULL;
				return tab_get(w, code, fresh);
			}
			if (!touch(w, h))
				return NULL;
			w->used++;
			w->tab[h] = (struct pent){code, 0, 0, 0, 0};
			*fresh = true;
			return &w->tab[h];
		}
		h = (h + 1) & w->mask;
	}
	*fresh = false;
	return &w->tab[h];
}

/* ---- one page ---- */

/* The key, value and kinds a code stands for on this page; a resource
 * attribute (C_RES) into *attr instead. */
static void resolve(const struct page *pg, uint64_t code, uint8_t *scope, struct slice *key, uint8_t *vtype,
		    struct slice *val, const struct attr **attr, char *tmp, size_t cap)
{
	static const char *kind_names[] = {"unspecified", "internal", "server", "client", "producer", "consumer"};
	static const char *status_names[] = {"unset", "ok", "error"};
	const struct block_cols *c = pg->cols;
	uint32_t cat = (uint32_t)(code >> 60), kid = (uint32_t)(code >> 36) & 0xffffff;
	uint64_t v = code & ((1ULL << 36) - 1);
	*attr = NULL;
	*scope = CORR_SCOPE_SPAN;
	*vtype = CORR_V_STRING;
	if (cat >= C_SSTR && cat <= C_SBIN)
		*key = c->dict[1][kid];
	switch (cat) {
	case C_NAME:
		*scope = CORR_SCOPE_INTRINSIC;
		*key = SLICE_LIT("name");
		*val = c->dict[0][v];
		break;
	case C_KIND:
		*scope = CORR_SCOPE_INTRINSIC;
		*key = SLICE_LIT("kind");
		*vtype = CORR_V_KEYWORD;
		*val = slice_cstr(kind_names[v]);
		break;
	case C_STATUS:
		*scope = CORR_SCOPE_INTRINSIC;
		*key = SLICE_LIT("status");
		*vtype = CORR_V_KEYWORD;
		*val = slice_cstr(status_names[v]);
		break;
	case C_SSTR:
		*val = c->dict[2][v];
		break;
	case C_SINT: {
		int n = snprintf(tmp, cap, "%lld", (long long)v - 1000);
		*vtype = CORR_V_INT;
		*val = slice_make(tmp, n > 0 ? (size_t)n : 0);
		break;
	}
	case C_SBOOL:
		*vtype = CORR_V_BOOL;
		*val = slice_cstr(v ? "true" : "false");
		break;
	case C_SBIN:
		*vtype = CORR_V_RANGE;
		*val = slice_make(tmp, bin_text((uint32_t)v, tmp, cap));
		break;
	case C_CSVC:
		*scope = CORR_SCOPE_CHILD;
		*key = SLICE_LIT("service");
		*val = pg->w->rc_.svc[v];
		break;
	case C_CNAME:
		*scope = CORR_SCOPE_CHILD;
		*key = SLICE_LIT("name");
		*val = c->dict[0][v];
		break;
	default:
		*attr = pg->w->rc_.flat[v];
		break;
	}
}

/* Probing: the duration of the current unit to ranked slot s (-1: none)
 * once per unit, unless the page skips s. */
static inline void probe_slot(struct page *pg, int32_t s)
{
	if (s < 0 || pg->sstamp[s] == pg->stamp || (pg->skip && pg->skip[s]))
		return;
	pg->sstamp[s] = pg->stamp;
	if (sketch_add(&pg->with[s], (double)pg->dur) < 0)
		pg->oom = true;
}

/* Probing: the duration of the current unit to the sketch of the ranked
 * value of entry e (resolved when fresh) once per unit. */
static void probe_ent(struct page *pg, struct pent *e, bool fresh)
{
	if (fresh) {
		uint8_t scope, vtype;
		struct slice key, val;
		const struct attr *a;
		char tmp[64];
		resolve(pg, e->code, &scope, &key, &vtype, &val, &a, tmp, sizeof tmp);
		int32_t s = a ? corr_table_attr_slot(pg->rs->t, CORR_SCOPE_RESOURCE, a)
			      : corr_table_slot(pg->rs->t, scope, key, vtype, val);
		e->ex = (uint32_t)(s + 1);
	}
	probe_slot(pg, (int32_t)e->ex - 1);
}

/* Probing: the ranked values of resource r (its attributes); speculating,
 * the unit's duration kept for them until the block is done. */
static inline void probe_res(struct page *pg, uint32_t r)
{
	const struct rcache *rc = &pg->w->rc_;
	if (rc->rs_off[r] == rc->rs_off[r + 1])
		return;
	if (pg->spec) {
		struct cspec *sp = &pg->w->spec;
		sp->rbuf[sp->n_rbuf++] = (struct rdur){r, pg->dur};
		return;
	}
	for (uint32_t f = rc->rs_off[r]; f < rc->rs_off[r + 1]; f++)
		probe_slot(pg, (int32_t)rc->rs[f]);
}

/* Count entry e for the current unit (or, probing, add its duration to
 * the ranked value's sketch once per unit). */
static inline void hit(struct page *pg, struct pent *e, bool fresh, uint32_t row)
{
	if (pg->c->pass == CORR_PASS_PROBE) {
		probe_ent(pg, e, fresh);
		return;
	}
	if (e->stamp == pg->stamp)
		return;
	e->stamp = pg->stamp;
	e->total++;
	if (pg->bad && e->bad++ == 0)
		e->ex = row;
}

/* Count code for the current unit. */
static void add_code(struct page *pg, uint64_t code, uint32_t row)
{
	bool fresh;
	struct pent *e = tab_get(pg->w, code, &fresh);
	if (!e) {
		pg->oom = true;
		return;
	}
	hit(pg, e, fresh, row);
}

/* Count span attribute kid = string value id vid: in the value's own
 * entry when it is free or the key's, else in the table. */
static inline void add_str(struct page *pg, uint32_t kid, uint32_t vid, uint32_t row)
{
	struct cw *w = pg->w;
	uint64_t code = CODE(C_SSTR, kid, vid);
	struct pent *e = &w->vtab[vid];
	if (e->code == code) {
		hit(pg, e, false, row);
	} else if (e->code == EMPTY) {
		if (!touch(w, VREF | vid)) {
			pg->oom = true;
			return;
		}
		*e = (struct pent){code, 0, 0, 0, 0};
		hit(pg, e, true, row);
	} else {
		add_code(pg, code, row);
	}
}

/* Count a dense counter for the current unit. */
static inline void add_dense(const struct page *pg, struct dent *d, uint32_t row)
{
	if (d->stamp == pg->stamp)
		return;
	d->stamp = pg->stamp;
	d->total++;
	if (pg->bad && d->bad++ == 0)
		d->ex = row;
}

/* A bool, int or double span attribute of span i as its code: small ints
 * as they are, other numbers by their bin; other types are not counted.
 * bits: the bool, the int64 or the double's bits. */
static inline void add_scalar(struct page *pg, uint32_t kid, uint8_t type, uint64_t bits, uint32_t i)
{
	switch (type) {
	case ANY_BOOL:
		add_code(pg, CODE(C_SBOOL, kid, bits ? 1 : 0), i);
		break;
	case ANY_INT: {
		int64_t v = (int64_t)bits;
		if (v > -1000 && v < 1000)
			add_code(pg, CODE(C_SINT, kid, (uint64_t)(v + 1000)), i);
		else
			add_code(pg, CODE(C_SBIN, kid, bin_cached(pg->w, (double)v)), i);
		break;
	}
	case ANY_DOUBLE: {
		double d;
		memcpy(&d, &bits, 8);
		add_code(pg, CODE(C_SBIN, kid, bin_cached(pg->w, d)), i);
		break;
	}
	default:
		break;
	}
}

/* Count the span attributes of span i for the current unit (the counting
 * pass: add_str and add_code with the probe taken out of the loop). */
static void count_attrs(struct page *pg, uint32_t i)
{
	struct cw *w = pg->w;
	const struct block_keys_col *kc = &w->kcol;
	struct pent *vt = w->vtab;
	uint32_t stamp = pg->stamp;
	bool bad = pg->bad, cand = pg->cand;
	for (uint32_t j = kc->first[i], end = kc->first[i + 1]; j < end; j++) {
		uint32_t kid = kc->kid[j];
		if (cand) { /* speculating: a candidate value? */
			if (kc->type[j] == ANY_STRING) { /* the candidates of its value id */
				for (int32_t g = pg->vhead[kc->val[j]]; g >= 0; g = w->tg[g].vnext)
					if (w->tg[g].kid == kid)
						probe_slot(pg, w->tg[g].slot);
			} else { /* the key's few */
				for (int32_t g = w->thead[kid]; g >= 0; g = w->tg[g].next)
					if (w->tg[g].type == kc->type[j] && w->tg[g].val == kc->val[j])
						probe_slot(pg, w->tg[g].slot);
			}
		}
		switch (kc->type[j]) {
		case ANY_STRING: {
			uint32_t vid = (uint32_t)kc->val[j];
			uint64_t code = CODE(C_SSTR, kid, vid);
			struct pent *e = &vt[vid];
			if (e->code != code) {
				if (e->code != EMPTY) {
					add_code(pg, code, i);
					break;
				}
				if (!touch(w, VREF | vid)) {
					pg->oom = true;
					return;
				}
				*e = (struct pent){code, 0, 0, 0, 0};
			}
			if (e->stamp == stamp)
				break;
			e->stamp = stamp;
			e->total++;
			if (bad && e->bad++ == 0)
				e->ex = i;
			break;
		}
		default:
			add_scalar(pg, kid, kc->type[j], kc->val[j], i);
			break;
		}
	}
}

/* Probing: the ranked values of pg->rs span i carries, its resource's
 * excepted (the columns and lists of the ranked keys only: see run_page). */
static void probe_span(struct page *pg, uint32_t i)
{
	const struct block_cols *c = pg->cols;
	const struct rset *rs = pg->rs;
	struct cw *w = pg->w;
	if (rs->p_name)
		probe_slot(pg, w->pname[c->name[i]]);
	if (rs->p_kind || rs->p_status) {
		uint32_t kind = c->kind_status[2 * i], status = c->kind_status[2 * i + 1];
		if (rs->p_kind)
			probe_slot(pg, rs->pkind[kind <= SPAN_KIND_CONSUMER ? kind : 0]);
		if (rs->p_status)
			probe_slot(pg, rs->pstatus[status <= STATUS_ERROR ? status : 0]);
	}
	if (pg->keys) { /* the attributes of the ranked keys */
		const struct block_keys_col *kc = &w->kcol;
		for (uint32_t j = kc->first[i]; j < kc->first[i + 1]; j++) {
			uint32_t kid = kc->kid[j];
			if (w->kgen[kid]) {
				if (kc->type[j] == ANY_STRING)
					add_str(pg, kid, (uint32_t)kc->val[j], i);
				else
					add_scalar(pg, kid, kc->type[j], kc->val[j], i);
			}
			for (int32_t g = w->thead[kid]; g >= 0; g = w->tg[g].next)
				if (w->tg[g].type == kc->type[j] && w->tg[g].val == kc->val[j])
					probe_slot(pg, w->tg[g].slot);
		}
	}
	if (!rs->p_csvc && !rs->p_cname)
		return;
	for (uint32_t ch = w->cfirst[i]; ch != UINT32_MAX; ch = w->cnext[ch]) {
		if (rs->p_csvc)
			probe_slot(pg, w->pcsvc[w->rc_.svc_canon[w->rc_.scope_res[c->scope[ch]]]]);
		if (rs->p_cname)
			probe_slot(pg, w->pcname[c->name[ch]]);
	}
}

/* Every counted key/value of span i (its resource's only when res); or,
 * probing, the ranked values it carries. Speculating (pg->rs set in the
 * counting pass), both. */
static void add_span(struct page *pg, uint32_t i, bool res)
{
	const struct block_cols *c = pg->cols;
	struct cw *w = pg->w;
	if (pg->c->pass == CORR_PASS_PROBE) {
		probe_span(pg, i);
		if (res) /* the trace level: resources through the page table */
			for (uint32_t f = w->rc_.off[w->rc_.scope_res[c->scope[i]]];
			     f < w->rc_.off[w->rc_.scope_res[c->scope[i]] + 1]; f++)
				add_code(pg, CODE(C_RES, 0, w->rc_.canon[f]), i);
		return;
	}
	uint32_t kind = c->kind_status[2 * i], status = c->kind_status[2 * i + 1];
	kind = kind <= SPAN_KIND_CONSUMER ? kind : 0;
	status = status <= STATUS_ERROR ? status : 0;
	add_dense(pg, &w->dname[c->name[i]], i);
	add_dense(pg, &w->dkind[kind], i);
	add_dense(pg, &w->dstatus[status], i);
	count_attrs(pg, i);
	for (uint32_t ch = w->cfirst[i]; ch != UINT32_MAX; ch = w->cnext[ch]) {
		add_dense(pg, &w->dcsvc[w->rc_.svc_canon[w->rc_.scope_res[c->scope[ch]]]], i);
		add_dense(pg, &w->dcname[c->name[ch]], i);
	}
	if (pg->rs)
		probe_span(pg, i);
	if (!res)
		return;
	uint32_t r = w->rc_.scope_res[c->scope[i]];
	for (uint32_t f = w->rc_.off[r]; f < w->rc_.off[r + 1]; f++)
		add_code(pg, CODE(C_RES, 0, w->rc_.canon[f]), i);
}

/* Add bad of total units carrying code to the worker's table; *memo (may
 * be NULL) caches the table's key of the code. */
static int fold_add(struct page *pg, struct corr_key **memo, uint64_t code, uint32_t bad, uint32_t total,
		    const uint8_t *ex)
{
	struct cw *w = pg->w;
	uint8_t scope, vtype;
	struct slice key, val;
	const struct attr *a;
	char tmp[64];
	resolve(pg, code, &scope, &key, &vtype, &val, &a, tmp, sizeof tmp);
	if (a)
		return corr_table_add_attr_counts(w->t, CORR_SCOPE_RESOURCE, a, bad, total, ex);
	if (memo && !*memo)
		*memo = corr_table_key(w->t, scope, key);
	if (!memo || !*memo)
		return corr_table_add_counts(w->t, scope, key, vtype, val, bad, total, ex);
	return corr_table_add_key_counts(w->t, *memo, vtype, val, bad, total, ex);
}

/* Add bad of total units carrying flat resource attribute f to the
 * worker's table (as corr_table_add_attr_counts, its text, hash and key
 * kept from one page to the next). */
static int fold_res(struct cw *w, uint32_t f, uint64_t bad, uint64_t total, const uint8_t *ex)
{
	struct rcache *r = &w->rc_;
	if (r->key_gen != w->t_gen) { /* another table: its keys are to be found again */
		memset(r->key, 0, (size_t)r->n_flat * sizeof *r->key);
		r->key_gen = w->t_gen;
	}
	if (!r->vok[f] || total == 0)
		return 0;
	if (!r->key[f] && !(r->key[f] = corr_table_key(w->t, CORR_SCOPE_RESOURCE, r->flat[f]->key)))
		return corr_table_add_attr_counts(w->t, CORR_SCOPE_RESOURCE, r->flat[f], bad, total, ex);
	return corr_table_add_key_counts_h(w->t, r->key[f], (enum corr_vtype)r->vtype[f], r->vtext[f], r->vhash[f], bad,
					   total, ex);
}

#define FOLD_AHEAD 12
#define FOLD_RING 16 /* > FOLD_AHEAD */

/* One entry of the page table on its way into the worker's table. */
struct fitem {
	const struct attr *a; /* a resource attribute, or NULL */
	uint32_t res_f;	      /* a's index in the block's flat resource attributes */
	struct corr_key *key; /* the table's key, or NULL (looked up by name) */
	uint8_t scope, vtype;
	struct slice k, val;
	uint64_t h;
	uint32_t bad, total;
	const uint8_t *ex;
	char tmp[64];
};

/* Resolve entry e of the page table into f, hash its value and fetch the
 * table's index slot for it. */
static void fold_prepare(struct page *pg, const struct pent *e, struct fitem *f)
{
	struct cw *w = pg->w;
	const struct block_cols *c = pg->cols;
	uint32_t cat = (uint32_t)(e->code >> 60), kid = (uint32_t)(e->code >> 36) & 0xffffff;
	struct corr_key **memo = cat >= C_SSTR && cat <= C_SBIN && kid < c->dict_n[1] ? &w->kmemo[kid] : NULL;
	f->ex = e->bad ? c->trace_ids + 16 * (size_t)w->row_trace[e->ex] : NULL;
	f->bad = e->bad;
	f->total = e->total;
	resolve(pg, e->code, &f->scope, &f->k, &f->vtype, &f->val, &f->a, f->tmp, sizeof f->tmp);
	f->key = NULL;
	if (f->a) {
		f->res_f = (uint32_t)(e->code & ((1ULL << 36) - 1));
		return;
	}
	if (memo && !*memo)
		*memo = corr_table_key(w->t, f->scope, f->k);
	if (!memo || !*memo)
		return;
	f->key = *memo;
	f->h = corr_value_hash(f->vtype, f->val);
	corr_table_prefetch(f->key, f->h, 0);
}

/* Add a prepared entry to the worker's table. */
static int fold_item(struct page *pg, const struct fitem *f)
{
	struct corr_table *t = pg->w->t;
	if (f->a)
		return fold_res(pg->w, f->res_f, f->bad, f->total, f->ex);
	if (!f->key)
		return corr_table_add_counts(t, f->scope, f->k, f->vtype, f->val, f->bad, f->total, f->ex);
	return corr_table_add_key_counts_h(t, f->key, f->vtype, f->val, f->h, f->bad, f->total, f->ex);
}

/* Fold a dense counter (code: what it counts) into the worker's table. */
static int fold_dense(struct page *pg, struct corr_key **memo, const struct dent *d, uint64_t code)
{
	if (d->total == 0)
		return 0;
	const uint8_t *ex = d->bad ? pg->cols->trace_ids + 16 * (size_t)pg->w->row_trace[d->ex] : NULL;
	return fold_add(pg, memo, code, d->bad, d->total, ex);
}

/* Fold the page table and the resource counts into the worker's table
 * (in the same order as ever: the per-key caps depend on it). */
static int fold(struct page *pg)
{
	struct cw *w = pg->w;
	const struct block_cols *c = pg->cols;
	int rc;
	struct corr_key *kn = NULL, *kk = NULL, *ks = NULL, *kcn = NULL, *kcs = NULL;
	if (c->dict_n[1] > w->cap_kmemo) {
		if (corr_col_grow((void **)&w->kmemo, c->dict_n[1], sizeof *w->kmemo) < 0)
			return CLEW_ENOMEM;
		w->cap_kmemo = c->dict_n[1];
	}
	memset(w->kmemo, 0, c->dict_n[1] * sizeof *w->kmemo);
	/* the dense counters, then the table in insertion order */
	for (uint32_t v = 0; v < c->dict_n[0]; v++)
		if ((rc = fold_dense(pg, &kn, &w->dname[v], CODE(C_NAME, 0, v))) < 0)
			return rc;
	for (uint32_t v = 0; v <= SPAN_KIND_CONSUMER; v++)
		if ((rc = fold_dense(pg, &kk, &w->dkind[v], CODE(C_KIND, 0, v))) < 0)
			return rc;
	for (uint32_t v = 0; v <= STATUS_ERROR; v++)
		if ((rc = fold_dense(pg, &ks, &w->dstatus[v], CODE(C_STATUS, 0, v))) < 0)
			return rc;
	for (uint32_t v = 0; v < c->dict_n[0]; v++)
		if ((rc = fold_dense(pg, &kcn, &w->dcname[v], CODE(C_CNAME, 0, v))) < 0)
			return rc;
	for (uint32_t v = 0; v < w->rc_.n_res; v++)
		if ((rc = fold_dense(pg, &kcs, &w->dcsvc[v], CODE(C_CSVC, 0, v))) < 0)
			return rc;
	/* the table in insertion order, pipelined: an entry is resolved and
	 * hashed FOLD_AHEAD entries before it is added, and the worker table's
	 * index slot, entry and bytes for it fetched into the cache on the way
	 * (the adds themselves stay in order) */
	struct fitem ring[FOLD_RING];
	uint32_t n_items = 0, done = 0;
	for (uint32_t k = 0; k <= w->n_touched; k++) {
		if (k < w->n_touched) {
			uint32_t ref = w->touched[k];
			const struct pent *e = ref & VREF ? &w->vtab[ref & ~VREF] : &w->tab[ref];
			if (e->total == 0)
				continue;
			fold_prepare(pg, e, &ring[n_items % FOLD_RING]);
			n_items++;
		}
		/* the stages of the entries ahead, then the adds due */
		if (n_items > 4 && n_items - 5 >= done) {
			const struct fitem *f = &ring[(n_items - 5) % FOLD_RING];
			if (f->key)
				corr_table_prefetch(f->key, f->h, 1);
		}
		if (n_items > 8 && n_items - 9 >= done) {
			const struct fitem *f = &ring[(n_items - 9) % FOLD_RING];
			if (f->key)
				corr_table_prefetch(f->key, f->h, 2);
		}
		uint32_t due = k == w->n_touched ? n_items : n_items > FOLD_AHEAD ? n_items - FOLD_AHEAD : 0;
		for (; done < due; done++)
			if ((rc = fold_item(pg, &ring[done % FOLD_RING])) < 0)
				return rc;
	}
	for (uint32_t k = 0; k < w->n_rtouched; k++) {
		uint32_t r = w->rtouched[k];
		const uint8_t *ex = w->rbad[r] ? c->trace_ids + 16 * (size_t)w->row_trace[w->rex[r]] : NULL;
		for (uint32_t f = w->rc_.off[r]; f < w->rc_.off[r + 1]; f++)
			if (!w->rc_.dup[f] && (rc = fold_res(w, f, w->rbad[r], w->rtotal[r], ex)) < 0)
				return rc;
		w->rbad[r] = w->rtotal[r] = 0;
	}
	w->n_rtouched = 0;
	return 0;
}

static uint64_t rd_varint(const uint8_t **p, const uint8_t *end, bool *bad)
{
	uint64_t v = 0;
	for (unsigned shift = 0; shift < 64; shift += 7) {
		if (*p >= end)
			break;
		uint8_t b = *(*p)++;
		v |= (uint64_t)(b & 0x7f) << shift;
		if (!(b & 0x80))
			return v;
	}
	*bad = true;
	return 0;
}

/* Per-row trace index; child lists emptied. */
static int page_rows(struct page *pg)
{
	struct cw *w = pg->w;
	const struct block_cols *c = pg->cols;
	uint32_t n = c->spans;
	if (n + 1 > w->cap_rows) {
		size_t cap = n + 1;
		if (corr_col_grow((void **)&w->row_trace, cap, sizeof *w->row_trace) < 0 ||
		    corr_col_grow((void **)&w->parent, cap, sizeof *w->parent) < 0 ||
		    corr_col_grow((void **)&w->cfirst, cap, sizeof *w->cfirst) < 0 ||
		    corr_col_grow((void **)&w->cnext, cap, sizeof *w->cnext) < 0 ||
		    corr_col_grow((void **)&w->unit_dur, cap, sizeof *w->unit_dur) < 0 || corr_col_grow((void **)&w->bad, cap, 1) < 0)
			return CLEW_ENOMEM;
		w->cap_rows = cap;
	}
	for (uint32_t t = 0; t < c->traces; t++)
		for (uint32_t i = c->trace_first[t]; i < c->trace_first[t + 1] && i < n; i++)
			w->row_trace[i] = t;
	for (uint32_t i = 0; i < n; i++)
		w->cfirst[i] = w->cnext[i] = UINT32_MAX;
	return 0;
}

/* The child lists from page p's parent column. */
static int page_children(struct page *pg, uint32_t p)
{
	struct cw *w = pg->w;
	const struct block_cols *c = pg->cols;
	uint8_t *data = NULL;
	size_t len = 0;
	int rc = block_read_column(pg->blk, p, BCOL_PARENT, &data, &len);
	if (rc < 0)
		return rc;
	const uint8_t *q = data, *end = data + len;
	bool bad = false;
	for (uint32_t i = 0; i < c->spans && !bad; i++) {
		uint64_t v = rd_varint(&q, end, &bad);
		uint32_t t = w->row_trace[i];
		w->parent[i] = UINT32_MAX;
		if (v < 2)
			continue;
		uint64_t row = c->trace_first[t] + (v - 2);
		if (row >= c->trace_first[t + 1]) {
			bad = true;
			break;
		}
		if (row != i)
			w->parent[i] = (uint32_t)row;
	}
	free(data);
	if (bad || q != end)
		return CLEW_ECORRUPT;
	for (uint32_t i = c->spans; i-- > 0;) { /* in reverse: lists in row order */
		uint32_t pr = w->parent[i];
		if (pr == UINT32_MAX)
			continue;
		w->cnext[i] = w->cfirst[pr];
		w->cfirst[pr] = i;
	}
	pg->children = true;
	return 0;
}

/* Self time of span i as corr_table_self_ns has it. */
static int64_t self_ns(const struct page *pg, uint32_t i)
{
	const struct block_cols *c = pg->cols;
	const struct cw *w = pg->w;
	int64_t st = c->start[i], en = c->start[i] + c->duration[i];
	if (en <= st)
		return 0;
	int64_t iv[64][2];
	uint32_t n = 0;
	for (uint32_t ch = w->cfirst[i]; ch != UINT32_MAX; ch = w->cnext[ch]) {
		int64_t a = c->start[ch] > st ? c->start[ch] : st;
		int64_t ce = c->start[ch] + c->duration[ch];
		int64_t b = ce < en ? ce : en;
		if (b <= a)
			continue;
		if (n == 64)
			return 0;
		uint32_t k = n++;
		while (k > 0 && iv[k - 1][0] > a) {
			iv[k][0] = iv[k - 1][0];
			iv[k][1] = iv[k - 1][1];
			k--;
		}
		iv[k][0] = a;
		iv[k][1] = b;
	}
	int64_t covered = 0, cur_a = 0, cur_b = 0;
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

/* The operation hash (quantile pass) or threshold (counting) of span i,
 * memoised per page on (resource, name). */
static uint64_t op_memo(struct page *pg, uint32_t i, bool want_hash)
{
	struct cw *w = pg->w;
	const struct block_cols *c = pg->cols;
	uint32_t r = w->rc_.scope_res[c->scope[i]];
	uint64_t key = ((uint64_t)r << 32 | c->name[i]) + 1;
	uint32_t h = (uint32_t)((key * 0x9e3779b97f4a7c15ULL) >> 40) & w->memo_mask;
	while (w->memo[h].key != key) {
		if (w->memo[h].key == 0) {
			uint64_t oh = corr_op_hash(w->rc_.svc[r], c->dict[0][c->name[i]]);
			uint64_t v = oh;
			if (!want_hash) {
				struct corr_op *op = corr_op_get(pg->c->ops, pg->c->n_ops, oh, false);
				v = (uint64_t)(op ? op->threshold_ns : pg->c->threshold_ns);
			}
			if ((w->memo_used + 1) * 2 > w->memo_mask + 1)
				return v; /* full: not memoised */
			w->memo_used++;
			w->memo[h].key = key;
			w->memo[h].val = v;
			return v;
		}
		h = (h + 1) & w->memo_mask;
	}
	return w->memo[h].val;
}

static int cw_get(struct corr_col *c, uint32_t wi, struct cw **out)
{
	struct cw *w = c->w[wi];
	if (!w) {
		w = try_calloc(1, sizeof *w);
		if (!w)
			return CLEW_ENOMEM;
		arena_init(&w->rc_.a, 0);
		sketch_init(&w->q, 0, 0);
		sketch_init(&w->pop, 0, 0);
		for (uint32_t k = 0; k < BIN_CACHE; k++)
			w->bins[k].id = UINT32_MAX;
		c->w[wi] = w;
	}
	if (!w->xw && !(w->xw = excol_worker_new()))
		return CLEW_ENOMEM;
	if (!w->memo) {
		w->memo_mask = 4095;
		if (!(w->memo = try_calloc(w->memo_mask + 1, sizeof *w->memo)))
			return CLEW_ENOMEM;
	}
	if (c->pass == CORR_PASS_COUNT && !w->t) {
		if (!(w->t = corr_table_new(c->co->max_values)))
			return CLEW_ENOMEM;
		w->t_gen++;
	}
	if (c->pass == CORR_PASS_QUANTILE && c->ops && !w->ops &&
	    !(w->ops = try_calloc(CORR_MAX_OPERATIONS * 2, sizeof *w->ops)))
		return CLEW_ENOMEM;
	if (c->pass == CORR_PASS_PROBE && !w->with) {
		w->n_with = corr_table_n_results(c->t);
		w->with = try_calloc(w->n_with + 1, sizeof *w->with);
		free(w->stamp_slot);
		w->stamp_slot = try_calloc(w->n_with + 1, sizeof *w->stamp_slot);
		if (!w->with || !w->stamp_slot)
			return CLEW_ENOMEM;
		for (uint32_t k = 0; k < w->n_with; k++)
			sketch_init(&w->with[k], 0, 0);
	}
	*out = w;
	return 0;
}

static int run_page(struct corr_col *cc, struct cw *w, struct block *blk, uint32_t p)
{
	const struct corr_options *co = cc->co;
	int rc;
	bool trace = co->level == CORR_LEVEL_TRACE;
	bool latency = co->signal == CORR_SIGNAL_LATENCY;
	bool self = co->self_time && !trace && latency; /* self time is a latency option */
	bool quantile = cc->pass == CORR_PASS_QUANTILE, probe = cc->pass == CORR_PASS_PROBE;
	bool per_op = cc->ops && !trace;
	const struct rset *rk = &cc->rk;
	const uint8_t *skip = NULL;
	if (probe) { /* a page the counting pass covered needs only the values its candidates missed */
		if (cc->spec_k && !corr_col_spec_seen(cc, blk))
			w->unseen = true;
		struct cw *owner = corr_col_spec_owner(cc, blk, p);
		if (owner && owner->spec.cover_all)
			return 0;
		skip = owner ? owner->spec.cover : NULL;
		w->probe_pages++;
	}
	if (cc->pass == CORR_PASS_COUNT && !trace && latency && cc->spec_k) {
		if ((rc = corr_col_spec_hold(w, blk)) < 0)
			return rc;
		if (!w->spec.on && w->units >= cc->spec_after && (rc = corr_col_spec_start(cc, w)) < 0)
			return rc;
	}
	bool spec = cc->pass == CORR_PASS_COUNT && w->spec.on;
	if (spec)
		rk = &w->spec.rk;
	/* errors need no durations (their passes add none to a sketch) */
	/* the quantile pass of spans needs their durations only */
	unsigned want = (quantile && !trace && !self ? 0 : BLOCK_COLS_TRACES) | (latency ? BLOCK_COLS_DURATION : 0);
	if (latency && (trace || self))
		want |= BLOCK_COLS_START;
	if (per_op)
		want |= BLOCK_COLS_SCOPE | BLOCK_COLS_NAME;
	bool kids = (!quantile && !probe) || self || (probe && (rk->p_csvc || rk->p_cname));
	if (cc->pass == CORR_PASS_COUNT) /* the attributes: block_cols_keys, every key */
		want |= BLOCK_COLS_SCOPE | BLOCK_COLS_NAME | BLOCK_COLS_KIND_STATUS | BLOCK_COLS_DICT_KEYS |
			BLOCK_COLS_DICT_VALUES | BLOCK_COLS_TRACE_IDS;
	if (probe) { /* only the columns of the ranked keys */
		want |= BLOCK_COLS_SCOPE;
		if (rk->p_name || rk->p_cname)
			want |= BLOCK_COLS_NAME;
		if (rk->p_kind || rk->p_status)
			want |= BLOCK_COLS_KIND_STATUS;
		if (rk->p_span) /* the ranked keys' attributes: block_cols_keys */
			want |= BLOCK_COLS_DICT_KEYS | BLOCK_COLS_DICT_VALUES;
	}
	const uint8_t *sel;
	uint32_t n_sel;
	if ((rc = excol_eval_page(cc->xq->col, w->xw, blk, p, want, &sel, &n_sel)) < 0 || n_sel == 0)
		return rc;
	const struct block_cols *c = excol_cols(w->xw);
	if ((want & BLOCK_COLS_SCOPE) && (rc = load_resources(w, blk)) < 0)
		return rc;
	struct page pg = {.c = cc, .w = w, .blk = blk, .cols = c, .sel = sel, .skip = skip};
	if (probe || spec) {
		pg.rs = rk;
		pg.with = spec ? w->spec.with : w->with;
		pg.sstamp = spec ? w->spec.stamp : w->stamp_slot;
		memset(pg.sstamp, 0, (size_t)rk->n * sizeof *pg.sstamp);
	}
	if ((!quantile || self) && (rc = page_rows(&pg)) < 0)
		return rc;
	if (kids && (rc = page_children(&pg, p)) < 0)
		return rc;
	if (per_op) {
		memset(w->memo, 0, ((size_t)w->memo_mask + 1) * sizeof *w->memo);
		w->memo_used = 0;
	}
	if (cc->pass == CORR_PASS_COUNT) { /* the dense counters, zeroed */
		if (c->dict_n[0] > w->cap_dname) {
			size_t cap = c->dict_n[0];
			if (corr_col_grow((void **)&w->dname, cap, sizeof *w->dname) < 0 ||
			    corr_col_grow((void **)&w->dcname, cap, sizeof *w->dcname) < 0)
				return CLEW_ENOMEM;
			w->cap_dname = cap;
		}
		if (w->rc_.n_res > w->cap_dcsvc) {
			if (corr_col_grow((void **)&w->dcsvc, w->rc_.n_res, sizeof *w->dcsvc) < 0)
				return CLEW_ENOMEM;
			w->cap_dcsvc = w->rc_.n_res;
		}
		memset(w->dname, 0, c->dict_n[0] * sizeof *w->dname);
		memset(w->dcname, 0, c->dict_n[0] * sizeof *w->dcname);
		memset(w->dcsvc, 0, w->rc_.n_res * sizeof *w->dcsvc);
		memset(w->dkind, 0, sizeof w->dkind);
		memset(w->dstatus, 0, sizeof w->dstatus);
	}
	if (cc->pass == CORR_PASS_COUNT) { /* every span attribute of the spans counted */
		if (c->dict_n[1] > w->cap_kok) {
			if (corr_col_grow((void **)&w->kok, c->dict_n[1], 1) < 0)
				return CLEW_ENOMEM;
			w->cap_kok = c->dict_n[1];
		}
		/* speculating: the candidates' span attribute values on the page,
		 * matched as they are counted (w->kok then marks every key: all
		 * are decoded for counting) */
		if (spec && (rc = corr_col_spec_page(w, c->spans, c->dict_n[2])) < 0)
			return rc;
		if (spec && rk->p_span && (rc = corr_col_probe_page(rk, w, c, &pg.cand)) < 0)
			return rc;
		pg.spec = spec;
		pg.vhead = w->spec.vhead;
		for (int32_t k = 0; pg.cand && k < (int32_t)c->dict_n[1]; k++) { /* string candidates by value id */
			for (int32_t g = w->thead[k]; g >= 0; g = w->tg[g].next) {
				if (w->tg[g].type != ANY_STRING)
					continue;
				w->tg[g].kid = (uint32_t)k;
				w->tg[g].vnext = w->spec.vhead[w->tg[g].val];
				w->spec.vhead[w->tg[g].val] = g;
			}
		}
		memset(w->kok, 1, c->dict_n[1]);
		if ((rc = block_cols_keys(blk, p, c, w->kok, trace ? NULL : sel, &w->kcol)) < 0)
			return rc;
	}
	if (probe && rk->p_span) { /* the page's span attribute keys with a ranked value on it */
		if ((rc = corr_col_probe_page(rk, w, c, &pg.keys)) < 0)
			return rc;
		if (pg.keys && (rc = block_cols_keys(blk, p, c, w->kok, trace ? NULL : sel, &w->kcol)) < 0)
			return rc;
	}
	if ((probe || spec) && (rc = corr_col_probe_slots(rk, w, c)) < 0)
		return rc;
	if (!quantile) {
		if ((rc = tab_init(w, 4096, c->dict_n[2])) < 0)
			return rc;
		if (w->rc_.n_res > w->cap_res) {
			size_t cap = w->rc_.n_res;
			if (corr_col_grow((void **)&w->rbad, cap, sizeof *w->rbad) < 0 ||
			    corr_col_grow((void **)&w->rtotal, cap, sizeof *w->rtotal) < 0 ||
			    corr_col_grow((void **)&w->rex, cap, sizeof *w->rex) < 0 ||
			    corr_col_grow((void **)&w->rtouched, cap, sizeof *w->rtouched) < 0)
				return CLEW_ENOMEM;
			memset(w->rbad, 0, cap * sizeof *w->rbad);
			memset(w->rtotal, 0, cap * sizeof *w->rtotal);
			w->cap_res = cap;
		}
		w->n_rtouched = 0;
	}
	uint64_t n_bad = 0, n_rest = 0;
	if (!trace) {
		for (uint32_t i = 0; i < c->spans; i++) {
			if (!sel[i])
				continue;
			int64_t dur = !latency ? 0 : self ? self_ns(&pg, i) : c->duration[i] > 0 ? c->duration[i] : 0;
			if (quantile) {
				if (sketch_add(&w->q, (double)dur) < 0)
					return CLEW_ENOMEM;
				if (per_op) {
					struct corr_op *op = corr_op_get(w->ops, &w->n_ops, op_memo(&pg, i, true), true);
					if (op && sketch_add(&op->q, (double)dur) < 0)
						return CLEW_ENOMEM;
				}
				continue;
			}
			pg.stamp = i + 1;
			pg.dur = dur;
			if (probe) {
				add_span(&pg, i, false);
				probe_res(&pg, w->rc_.scope_res[c->scope[i]]);
				continue;
			}
			if (latency) {
				int64_t thr = per_op ? (int64_t)op_memo(&pg, i, false) : cc->threshold_ns;
				pg.bad = dur > thr;
			} else {
				pg.bad = c->kind_status[2 * i + 1] == STATUS_ERROR;
			}
			if (latency && !cc->pop_known && sketch_add(&w->pop, (double)dur) < 0)
				return CLEW_ENOMEM;
			pg.bad ? n_bad++ : n_rest++;
			add_span(&pg, i, false);
			uint32_t r = w->rc_.scope_res[c->scope[i]];
			if (spec)
				probe_res(&pg, r);
			if (w->rtotal[r]++ == 0)
				w->rtouched[w->n_rtouched++] = r;
			if (pg.bad && w->rbad[r]++ == 0)
				w->rex[r] = i;
		}
	} else {
		for (uint32_t t = 0; t < c->traces; t++) {
			uint32_t a = c->trace_first[t], b = c->trace_first[t + 1];
			bool any = false, err = false;
			int64_t lo = 0, hi = 0;
			for (uint32_t i = a; i < b; i++) {
				any |= sel[i] != 0;
				if (!quantile && !probe && c->kind_status[2 * i + 1] == STATUS_ERROR)
					err = true;
				if (!latency)
					continue;
				int64_t en = c->start[i] + c->duration[i];
				if (i == a || c->start[i] < lo)
					lo = c->start[i];
				if (i == a || en > hi)
					hi = en;
			}
			if (!any)
				continue;
			int64_t dur = hi > lo ? hi - lo : 0;
			if (quantile) {
				if (sketch_add(&w->q, (double)dur) < 0)
					return CLEW_ENOMEM;
				continue;
			}
			pg.stamp = t + 1;
			pg.dur = dur;
			if (!probe) {
				pg.bad = latency ? dur > cc->threshold_ns : err;
				pg.bad ? n_bad++ : n_rest++;
				if (latency && !cc->pop_known && sketch_add(&w->pop, (double)dur) < 0)
					return CLEW_ENOMEM;
			}
			for (uint32_t i = a; i < b; i++)
				add_span(&pg, i, true);
		}
	}
	if (pg.oom)
		return CLEW_ENOMEM;
	if (cc->pass == CORR_PASS_COUNT) {
		corr_table_add_units(w->t, n_bad, n_rest);
		w->units += n_bad + n_rest;
		if ((rc = fold(&pg)) < 0)
			return rc;
		if (spec) { /* the page's units are in the candidates' sketches */
			for (int32_t k = 0; pg.cand && k < (int32_t)c->dict_n[1]; k++)
				for (int32_t g = w->thead[k]; g >= 0; g = w->tg[g].next)
					if (w->tg[g].type == ANY_STRING)
						w->spec.vhead[w->tg[g].val] = -1;
			if ((rc = corr_col_spec_flush(w)) < 0)
				return rc;
			return corr_col_spec_cover(w, blk, p);
		}
	}
	return 0;
}

int corr_col_page(void *ctx, uint32_t wi, struct block *blk, uint32_t p)
{
	struct corr_col *cc = ctx;
	const struct block_page_info *pi = block_page(blk, p);
	struct cw *w;
	int rc;
	if (!pi || wi >= EXEC_MAX_THREADS)
		return CLEW_EINVAL;
	if (pi->min_dur_ns < 0)
		return 1; /* a span ending before it starts: span by span */
	/* only pages whose every trace overlaps the range (the boundary pages
	 * go span by span, their traces checked one by one) */
	if ((cc->end_ns && pi->max_start_ns > cc->end_ns) || (cc->start_ns && pi->min_start_ns < cc->start_ns))
		return 1;
	if ((rc = cw_get(cc, wi, &w)) < 0)
		return rc;
	if (w->rc < 0)
		return w->rc;
	if ((rc = run_page(cc, w, blk, p)) < 0)
		w->rc = rc;
	return rc;
}

uint64_t corr_col_probe_pages(const struct corr_col *c)
{
	return c->probe_pages;
}

bool corr_col_probe_again(struct corr_col *c)
{
	bool unseen = false, covered = false;
	for (uint32_t k = 0; k < EXEC_MAX_THREADS; k++) {
		if (!c->w[k])
			continue;
		unseen |= c->w[k]->unseen;
		covered |= c->w[k]->spec.cover != NULL;
		corr_col_spec_free(c->w[k]);
	}
	return unseen && covered;
}
