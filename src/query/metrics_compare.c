/* compare(): the population query's pipeline is scanned by exec_scan; for
 * each matched span starting in [start, end) the selection filter decides
 * its group, and every attribute value it carries (span and resource
 * attributes, name, status, kind, statusMessage, rootName,
 * rootServiceName; durations and ids are left out as Tempo does) is
 * counted at the span's step, in one hash table keyed by group, attribute
 * and value, with the per-attribute totals beside. A trace split over
 * blocks is counted whole, once. The answer keeps the
 * topN values of each attribute per group (largest sum over the range),
 * and one __too_many_values__ series per attribute that had more. */
#include "query/metrics_compare.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "base/buf.h"
#include "base/err.h"
#include "base/hash.h"
#include "query/exec_int.h"

#define MCMP_MAX_ENTRIES 200000 /* distinct (group, attribute, value) */

enum { G_BASELINE, G_SELECTION };

struct entry {
	struct slice key; /* encoded: group, total, attr, 0, value type, value */
	uint8_t group, total;
	struct slice attr;
	struct tql_value value;
	double *counts, sum;
};

struct crun {
	const struct tql_node *fn;
	struct exec_query *sel; /* the selection filter, compiled */
	int64_t start_ns, end_ns, step_ns;
	uint32_t steps;
	struct arena a, scratch;
	struct entry *e;
	uint32_t n, cap;
	uint32_t *tab;
	size_t tab_cap;
	struct buf kb;
	size_t max_bytes; /* entries, table and result arena */
	bool over_budget;
	int rc;
	char *err;
	size_t errlen;
};

static int grow_tab(struct crun *r)
{
	size_t cap = r->tab_cap ? r->tab_cap * 2 : 1024;
	uint32_t *tab = try_malloc(cap * sizeof *tab);
	if (!tab)
		return CLEW_ENOMEM;
	memset(tab, 0xff, cap * sizeof *tab);
	for (uint32_t k = 0; k < r->n; k++) {
		size_t h = hash64(r->e[k].key.p, r->e[k].key.len) & (cap - 1);
		while (tab[h] != UINT32_MAX)
			h = (h + 1) & (cap - 1);
		tab[h] = k;
	}
	free(r->tab);
	r->tab = tab;
	r->tab_cap = cap;
	return 0;
}

/* Count one span of group g with attr = v at step i (and attr's total). */
static int count(struct crun *r, uint8_t g, struct slice attr, const struct tql_value *v, uint32_t i)
{
	for (uint8_t total = 0; total < 2; total++) {
		buf_clear(&r->kb);
		uint8_t hd[2] = {g, total};
		buf_append(&r->kb, hd, 2);
		buf_append_slice(&r->kb, attr);
		buf_append_byte(&r->kb, 0);
		if (!total) {
			buf_append_byte(&r->kb, (uint8_t)v->type);
			if (v->type == TQL_T_STRING)
				buf_append_slice(&r->kb, v->u.s);
			else if (v->type == TQL_T_FLOAT)
				buf_append(&r->kb, &v->u.f, sizeof v->u.f);
			else if (v->type == TQL_T_BOOL)
				buf_append_byte(&r->kb, v->u.b);
			else
				buf_append(&r->kb, &v->u.i, sizeof v->u.i);
		}
		if (r->kb.err)
			return CLEW_ENOMEM;
		if ((r->n + 1) * 2 > r->tab_cap && grow_tab(r) < 0)
			return CLEW_ENOMEM;
		struct slice key = buf_slice(&r->kb);
		size_t h = hash64(key.p, key.len) & (r->tab_cap - 1);
		while (r->tab[h] != UINT32_MAX && !slice_eq(r->e[r->tab[h]].key, key))
			h = (h + 1) & (r->tab_cap - 1);
		if (r->tab[h] == UINT32_MAX) {
			if (r->n >= MCMP_MAX_ENTRIES)
				return CLEW_ELIMIT;
			if (r->a.used_bytes + (size_t)r->cap * sizeof *r->e + r->tab_cap * sizeof *r->tab > r->max_bytes) {
				r->over_budget = true;
				return CLEW_ELIMIT;
			}
			if (r->n == r->cap) {
				uint32_t cap = r->cap ? r->cap * 2 : 256;
				void *p = try_realloc(r->e, (size_t)cap * sizeof *r->e);
				if (!p)
					return CLEW_ENOMEM;
				r->e = p;
				r->cap = cap;
			}
			struct entry *e = &r->e[r->n];
			memset(e, 0, sizeof *e);
			e->group = g;
			e->total = total;
			e->key = slice_make(arena_memdup(&r->a, key.p, key.len), key.len);
			e->attr = slice_make(e->key.p ? e->key.p + 2 : NULL, attr.len);
			e->value = total ? (struct tql_value){.type = TQL_T_NIL} : *v;
			if (!total && v->type == TQL_T_STRING)
				e->value.u.s = slice_make(e->key.p ? e->key.p + 2 + attr.len + 2 : NULL, v->u.s.len);
			e->counts = arena_array(&r->a, r->steps, sizeof *e->counts);
			if (!e->key.p || !e->counts)
				return CLEW_ENOMEM;
			r->tab[h] = r->n++;
		}
		struct entry *e = &r->e[r->tab[h]];
		e->counts[i] += 1;
		e->sum += 1;
	}
	return 0;
}

static bool any_to_tql(const struct any_value *av, struct tql_value *out)
{
	switch (av->type) {
	case ANY_STRING: out->type = TQL_T_STRING; out->u.s = av->u.str; return true;
	case ANY_BOOL: out->type = TQL_T_BOOL; out->u.b = av->u.b; return true;
	case ANY_INT: out->type = TQL_T_INT; out->u.i = av->u.i; return true;
	case ANY_DOUBLE: out->type = TQL_T_FLOAT; out->u.f = av->u.d; return true;
	default: return false;
	}
}

static int count_attrs(struct crun *r, uint8_t g, const char *prefix, const struct attr_list *l, uint32_t i)
{
	char name[512];
	int rc;
	for (uint32_t k = 0; k < l->n; k++) {
		struct tql_value v;
		if (!any_to_tql(&l->items[k].value, &v))
			continue;
		int len = snprintf(name, sizeof name, "%s%.*s", prefix, (int)l->items[k].key.len,
				   (const char *)l->items[k].key.p);
		if (len < 0 || (size_t)len >= sizeof name)
			continue;
		if ((rc = count(r, g, slice_make(name, (size_t)len), &v, i)) < 0)
			return rc;
	}
	return 0;
}

static const enum tql_intrinsic g_intrinsics[] = {TQL_I_NAME,	  TQL_I_STATUS,	   TQL_I_KIND,
						  TQL_I_STATUS_MESSAGE, TQL_I_ROOT_NAME, TQL_I_ROOT_SERVICE};

static int fail_visit(struct crun *r, int rc)
{
	r->rc = rc;
	if (r->over_budget)
		snprintf(r->err, r->errlen,
			 "query exceeded its memory budget (%zu MiB); narrow the time range or the query",
			 r->max_bytes >> 20);
	else
		snprintf(r->err, r->errlen, "%s",
			 rc == CLEW_ELIMIT ? "compare() found more than 200000 distinct attribute values; narrow the query"
					   : "out of memory for compare()");
	return rc;
}

static int visit(void *ctx, const struct span_batch *b, uint32_t first, uint32_t n, const uint32_t *matched,
		 uint32_t n_matched)
{
	struct crun *r = ctx;
	struct exec_trace_ctx t;
	int rc;
	arena_reset(&r->scratch);
	if ((rc = exec_trace_init(&t, r->sel, b, first, n, &r->scratch)) < 0)
		return fail_visit(r, rc);
	const struct tql_node *cond = r->fn->a->a;
	unsigned binds = exec_binds(cond);
	for (uint32_t k = 0; k < n_matched; k++) {
		const struct span *sp = &b->spans[matched[k]];
		int64_t ts = sp->start_unix_ns;
		if (ts < r->start_ns || ts >= r->end_ns)
			continue;
		uint32_t step = (uint32_t)((ts - r->start_ns) / r->step_ns);
		int64_t s0 = r->fn->u.metrics.start_ns, s1 = r->fn->u.metrics.end_ns;
		bool in_window = !(s0 > 0 && s1 > 0) || (ts >= s0 && ts < s1);
		uint8_t g = in_window && exec_cond(&t, matched[k] - first, cond, binds) ? G_SELECTION : G_BASELINE;
		for (size_t f = 0; f < sizeof g_intrinsics / sizeof *g_intrinsics; f++) {
			struct tql_node nd = {.kind = TQL_N_INTRINSIC, .u.intrinsic = g_intrinsics[f]};
			struct exec_value v;
			exec_eval(&t, matched[k] - first, &nd, &v);
			struct tql_value tv = {.type = v.type};
			if (v.type == TQL_T_STRING)
				tv.u.s = v.u.s;
			else if (v.type == TQL_T_STATUS || v.type == TQL_T_KIND)
				tv.u.i = v.u.i;
			else
				continue; /* nil: the span has no such value */
			if ((rc = count(r, g, slice_cstr(tql_intrinsic_name(g_intrinsics[f])), &tv, step)) < 0)
				return fail_visit(r, rc);
		}
		if ((rc = count_attrs(r, g, "span.", &sp->attrs, step)) < 0 ||
		    (rc = count_attrs(r, g, "resource.", &span_batch_resource_of(b, sp)->attrs, step)) < 0)
			return fail_visit(r, rc);
	}
	if (t.oom)
		return fail_visit(r, CLEW_ENOMEM);
	return 0;
}

/* Order of the answer: values before totals, baseline before selection,
 * by attribute, then the larger count first (ties: the value's key). */
static int cmp_entry(const void *x, const void *y)
{
	const struct entry *a = x, *b = y;
	if (a->total != b->total)
		return a->total - b->total;
	if (a->group != b->group)
		return a->group - b->group;
	size_t n = a->attr.len < b->attr.len ? a->attr.len : b->attr.len;
	int c = memcmp(a->attr.p, b->attr.p, n);
	if (c || a->attr.len != b->attr.len)
		return c ? c : (a->attr.len < b->attr.len ? -1 : 1);
	if (a->sum != b->sum)
		return a->sum > b->sum ? -1 : 1;
	n = a->key.len < b->key.len ? a->key.len : b->key.len;
	c = memcmp(a->key.p, b->key.p, n);
	return c ? c : (a->key.len > b->key.len) - (a->key.len < b->key.len);
}

static int cmp_slice(const void *x, const void *y)
{
	const struct slice *a = x, *b = y;
	size_t n = a->len < b->len ? a->len : b->len;
	int c = n ? memcmp(a->p, b->p, n) : 0;
	return c ? c : (a->len > b->len) - (a->len < b->len);
}

static int finish(struct crun *r, struct mcmp_result *out)
{
	static const char *const types[2][2] = {{"baseline", "selection"}, {"baseline_total", "selection_total"}};
	if (r->n > 1)
		qsort(r->e, r->n, sizeof *r->e, cmp_entry);
	/* the series, then at most one error series per value entry */
	out->series = try_malloc(((size_t)r->n * 2 + 1) * sizeof *out->series);
	struct slice *erred = try_malloc(((size_t)r->n + 1) * sizeof *erred);
	if (!out->series || !erred) {
		free(erred);
		return CLEW_ENOMEM;
	}
	uint32_t n_erred = 0;
	int64_t topn = r->fn->u.metrics.topn;
	int64_t rank = 0;
	for (uint32_t k = 0; k < r->n; k++) {
		const struct entry *e = &r->e[k];
		bool same = k > 0 && e->group == r->e[k - 1].group && e->total == r->e[k - 1].total &&
			    slice_eq(e->attr, r->e[k - 1].attr);
		rank = same ? rank + 1 : 0;
		if (!e->total && rank >= topn) {
			if (rank == topn)
				erred[n_erred++] = e->attr;
			continue;
		}
		out->series[out->n_series++] =
			(struct mcmp_series){types[e->total][e->group], e->attr, e->value, e->counts};
	}
	/* Tempo's __meta_error="__too_many_values__" series: once per attribute
	 * cut in either group */
	if (n_erred > 1)
		qsort(erred, n_erred, sizeof *erred, cmp_slice);
	for (uint32_t k = 0; k < n_erred; k++) {
		if (k > 0 && slice_eq(erred[k], erred[k - 1]))
			continue;
		out->series[out->n_series++] =
			(struct mcmp_series){MCMP_TOO_MANY_VALUES, erred[k], {.type = TQL_T_NIL}, NULL};
	}
	free(erred);
	return 0;
}

int mcmp_run(const struct store_query_ops *ops, void *impl, const struct tql_query *q,
	     const struct metrics_exec_options *o, struct mcmp_result *out, struct metrics_out_stats *st, char *err,
	     size_t errlen)
{
	struct crun r;
	struct exec_query *xq = NULL;
	int rc;
	memset(out, 0, sizeof *out);
	memset(st, 0, sizeof *st);
	memset(&r, 0, sizeof r);
	arena_init(&out->arena, 0);
	arena_init(&r.scratch, (size_t)256 << 20);
	buf_init(&r.kb, 64 << 10);
	if (errlen)
		err[0] = 0;
	r.err = err;
	r.errlen = errlen;
	const struct tql_node *mq = q->root;
	if (q->kind != TQL_Q_METRICS || !mq || mq->kind != TQL_N_METRICS_QUERY || !mq->b ||
	    mq->b->u.metrics.fn != TQL_M_COMPARE || !mq->b->a || mq->b->a->kind != TQL_N_FILTER) {
		snprintf(err, errlen, "not a compare() query");
		rc = CLEW_EINVAL;
		goto out;
	}
	if (o->step_ns <= 0 || o->end_ns <= o->start_ns) {
		snprintf(err, errlen, "invalid range: it needs end > start and a positive step");
		rc = CLEW_EINVAL;
		goto out;
	}
	int64_t steps = (o->end_ns - o->start_ns + o->step_ns - 1) / o->step_ns;
	if (steps > SERIES_MAX_STEPS) {
		snprintf(err, errlen, "the range holds more than %d steps of %lld ms: use a larger step",
			 SERIES_MAX_STEPS, (long long)(o->step_ns / 1000000));
		rc = CLEW_ELIMIT;
		goto out;
	}
	r.fn = mq->b;
	r.start_ns = o->start_ns;
	r.end_ns = o->end_ns;
	r.step_ns = o->step_ns;
	r.steps = (uint32_t)steps;
	r.max_bytes = o->max_bytes ? o->max_bytes : SERIES_DEFAULT_MAX_BYTES;
	r.a = out->arena;
	struct tql_query sel = *q, pop = *q;
	sel.kind = pop.kind = TQL_Q_SPANS;
	sel.root = r.fn->a;
	pop.root = mq->a;
	if (!(r.sel = exec_compile(&sel, &r.a, &rc, err, errlen)) || !(xq = exec_compile(&pop, &r.a, &rc, err, errlen)))
		goto out;
	/* the selection and rootName / rootServiceName look at the whole trace:
	 * a trace split over blocks is evaluated whole, once, even when the
	 * population's filter is about single spans */
	xq->per_span = false;
	struct exec_options so = o->scan;
	so.start_ns = o->start_ns;
	so.end_ns = o->end_ns;
	struct exec_result fig;
	memset(&fig, 0, sizeof fig);
	rc = exec_scan(ops, impl, xq, &so, visit, &r, &fig);
	st->inspected_traces = fig.inspected_traces;
	st->inspected_spans = fig.inspected_spans;
	st->inspected_bytes = fig.inspected_bytes;
	st->total_blocks = (uint32_t)fig.total_blocks;
	st->completed_jobs = (uint32_t)fig.completed_jobs;
	st->total_jobs = (uint32_t)fig.total_jobs;
	if (r.rc < 0) {
		rc = r.rc;
		goto out;
	}
	if (rc == CLEW_ELIMIT)
		snprintf(err, errlen, "query exceeded its memory budget (%zu MiB); narrow the time range or the query",
			 (so.mem_bytes ? so.mem_bytes : EXEC_DEFAULT_MEM_BYTES) >> 20);
	else if (rc == CLEW_EBUSY)
		snprintf(err, errlen, "query exceeded its time budget (%lld s); narrow the time range or the query",
			 (long long)((so.time_ns ? so.time_ns : EXEC_DEFAULT_TIME_NS) / 1000000000LL));
	else if (rc == -ECANCELED)
		snprintf(err, errlen, "query cancelled: the client went away");
	else if (rc < 0)
		snprintf(err, errlen, "compare() query failed: %s", err_str(rc));
	if (rc < 0)
		goto out;
	out->start_ns = o->start_ns;
	out->step_ns = o->step_ns;
	out->steps = r.steps;
	if ((rc = finish(&r, out)) < 0)
		snprintf(err, errlen, "out of memory for compare()");
out:
	if (r.fn)
		out->arena = r.a; /* the entries' keys and counts live on in the result */
	exec_query_free(r.sel);
	exec_query_free(xq);
	free(r.e);
	free(r.tab);
	buf_free(&r.kb);
	arena_reset(&r.scratch);
	return rc;
}

void mcmp_result_free(struct mcmp_result *r)
{
	free(r->series);
	r->series = NULL;
	r->n_series = 0;
	arena_reset(&r->arena);
}
