/* Comparison of two span populations: one scan per baseline window (or one
 * scan split by an attribute's value), each matched span counted into its
 * population's figures (sketch, errors) and into one correlations table
 * (B = "bad", A = "rest"), each trace with a span in a population into that
 * population's critical-path aggregate; then the ranked attributes and the
 * segments whose critical-path share changed most. */
#include "analysis/compare.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/critical_path.h"
#include "base/alloc.h"
#include "base/err.h"

struct pop {
	struct sketch q;
	uint64_t count, errors, traces;
	double sum_ns;
	struct cp_agg *cp;
};

struct cmp_run {
	const struct cmp_options *co;
	struct corr_table *t;
	struct pop pop[2]; /* 0 = A, 1 = B */
	int which;	   /* baseline mode: the window being scanned */
	int64_t lo, hi;	   /* baseline mode: span start range of the window */
	struct arena scratch;
};

struct slice cmp_value_text(const struct exec_value *v, char *tmp, size_t cap)
{
	static const char *st[] = {"unset", "ok", "error"};
	static const char *kd[] = {"unspecified", "internal", "server", "client", "producer", "consumer"};
	int n = 0;
	switch (v->type) {
	case TQL_T_STRING: return v->u.s;
	case TQL_T_INT: n = snprintf(tmp, cap, "%lld", (long long)v->u.i); break;
	case TQL_T_FLOAT: n = snprintf(tmp, cap, "%.17g", v->u.f); break;
	case TQL_T_BOOL: return slice_cstr(v->u.b ? "true" : "false");
	case TQL_T_DURATION: n = snprintf(tmp, cap, "%lldns", (long long)v->u.i); break;
	case TQL_T_STATUS: return slice_cstr(v->u.i >= 0 && v->u.i <= 2 ? st[v->u.i] : "unset");
	case TQL_T_KIND: return slice_cstr(v->u.i >= 0 && v->u.i <= 5 ? kd[v->u.i] : "unspecified");
	default: return (struct slice){NULL, 0};
	}
	if (n < 0)
		n = 0;
	return slice_make(tmp, (size_t)n < cap ? (size_t)n : cap - 1);
}

static int add_span(struct cmp_run *r, int which, const struct span_batch *b, uint32_t idx)
{
	const struct span *s = &b->spans[idx];
	int64_t dur = s->end_unix_ns > s->start_unix_ns ? s->end_unix_ns - s->start_unix_ns : 0;
	struct pop *p = &r->pop[which];
	p->count++;
	p->errors += s->status_code == STATUS_ERROR;
	p->sum_ns += (double)dur;
	if (sketch_add(&p->q, (double)dur) < 0)
		return CLEW_ENOMEM;
	return corr_table_add(r->t, &idx, 1, which == 1, dur);
}

static int visit(void *ctx, const struct span_batch *b, uint32_t first, uint32_t n, const uint32_t *matched,
		 uint32_t n_matched)
{
	struct cmp_run *r = ctx;
	bool in[2] = {false, false};
	char tmp[64];
	int rc;
	if (n_matched == 0)
		return 0;
	if ((rc = corr_table_begin_trace(r->t, b, first, n)) < 0)
		return rc;
	for (uint32_t k = 0; k < n_matched; k++) {
		int which = r->which;
		if (r->co->by) {
			struct exec_value v;
			arena_reset(&r->scratch);
			exec_field_value(r->co->by, b, first, n, matched[k] - first, &r->scratch, &v);
			struct slice t = cmp_value_text(&v, tmp, sizeof tmp);
			if (v.type != TQL_T_NIL && slice_eq(t, r->co->a_value))
				which = 0;
			else if (v.type != TQL_T_NIL && slice_eq(t, r->co->b_value))
				which = 1;
			else
				continue;
		} else {
			int64_t st = b->spans[matched[k]].start_unix_ns;
			if ((r->lo && st < r->lo) || (r->hi && st > r->hi))
				continue;
		}
		in[which] = true;
		if ((rc = add_span(r, which, b, matched[k])) < 0)
			return rc;
	}
	for (int w = 0; w < 2; w++) {
		if (!in[w])
			continue;
		r->pop[w].traces++;
		if ((rc = cp_agg_add_trace(r->pop[w].cp, b, first, n, &r->scratch)) < 0)
			return rc;
	}
	return 0;
}

static void figures(const struct pop *p, struct cmp_figures *f)
{
	f->count = p->count;
	f->errors = p->errors;
	f->traces = p->traces;
	f->error_rate = p->count ? (double)p->errors / (double)p->count : NAN;
	f->p50_ms = sketch_quantile(&p->q, 0.5) / 1e6;
	f->p95_ms = sketch_quantile(&p->q, 0.95) / 1e6;
	f->p99_ms = sketch_quantile(&p->q, 0.99) / 1e6;
	f->mean_ms = p->count ? p->sum_ns / (double)p->count / 1e6 : NAN;
}

static int cmp_seg(const void *x, const void *y)
{
	const struct cmp_segment *a = x, *b = y;
	double da = fabs(a->share_b - a->share_a), db = fabs(b->share_b - b->share_a);
	if (da != db)
		return da > db ? -1 : 1;
	int c = memcmp(a->service.p, b->service.p, a->service.len < b->service.len ? a->service.len : b->service.len);
	if (c || a->service.len != b->service.len)
		return c ? c : (a->service.len > b->service.len) - (a->service.len < b->service.len);
	c = memcmp(a->name.p, b->name.p, a->name.len < b->name.len ? a->name.len : b->name.len);
	return c ? c : (a->name.len > b->name.len) - (a->name.len < b->name.len);
}

/* Segments of both aggregates with their share in each, most changed first. */
static int segments(struct cmp_run *r, struct cmp_report *rep, uint32_t limit)
{
	struct cp_segment *sa = NULL, *sb = NULL;
	uint32_t na = 0, nb = 0;
	int rc;
	if ((rc = cp_agg_segments(r->pop[0].cp, &rep->arena, &sa, &na)) < 0 ||
	    (rc = cp_agg_segments(r->pop[1].cp, &rep->arena, &sb, &nb)) < 0)
		return rc;
	struct cmp_segment *s = arena_array(&rep->arena, (size_t)na + nb + 1, sizeof *s);
	if (!s)
		return CLEW_ENOMEM;
	uint32_t n = 0;
	for (uint32_t k = 0; k < nb; k++)
		s[n++] = (struct cmp_segment){sb[k].service, sb[k].name, cp_agg_share(r->pop[0].cp, sb[k].service, sb[k].name),
					      sb[k].share};
	for (uint32_t k = 0; k < na; k++) {
		if (cp_agg_traces(r->pop[1].cp) && cp_agg_share(r->pop[1].cp, sa[k].service, sa[k].name) > 0)
			continue; /* already there from B */
		s[n++] = (struct cmp_segment){sa[k].service, sa[k].name, sa[k].share, 0};
	}
	if (n > 1)
		qsort(s, n, sizeof *s, cmp_seg);
	rep->segments = s;
	rep->n_segments = n < limit ? n : limit;
	return 0;
}

int cmp_run(const struct store_query_ops *ops, void *impl, struct exec_query *xq, const struct exec_options *o,
	    const struct cmp_options *co, struct cmp_report *rep)
{
	struct cmp_run r;
	int rc = 0;
	memset(rep, 0, sizeof *rep);
	memset(&r, 0, sizeof r);
	arena_init(&rep->arena, 0);
	arena_init(&r.scratch, 0);
	r.co = co;
	for (int w = 0; w < 2; w++) {
		sketch_init(&r.pop[w].q, 0, 0);
		r.pop[w].cp = cp_agg_new();
	}
	rep->agg_a = r.pop[0].cp;
	rep->agg_b = r.pop[1].cp;
	rep->table = r.t = corr_table_new(co->max_values);
	if (!r.t || !r.pop[0].cp || !r.pop[1].cp) {
		rc = CLEW_ENOMEM;
		goto out;
	}
	if (co->by) {
		if ((rc = exec_scan(ops, impl, xq, o, visit, &r, NULL)) < 0)
			goto out;
	} else {
		for (int w = 0; w < 2; w++) {
			struct exec_options wo = *o;
			r.which = w;
			r.lo = wo.start_ns = w ? co->b_start_ns : co->a_start_ns;
			r.hi = wo.end_ns = w ? co->b_end_ns : co->a_end_ns;
			if ((rc = exec_scan(ops, impl, xq, &wo, visit, &r, NULL)) < 0)
				goto out;
		}
	}
	figures(&r.pop[0], &rep->a);
	figures(&r.pop[1], &rep->b);
	uint32_t limit = co->limit ? co->limit : CORR_DEFAULT_LIMIT;
	const char *skip[4] = {NULL, NULL, NULL, NULL};
	char k1[300], k2[300];
	if (co->by && co->by_text.len && co->by_text.len < 200) {
		if (co->by_text.p[0] == '.') { /* unscoped: either scope */
			snprintf(k1, sizeof k1, "span%.*s", (int)co->by_text.len, (const char *)co->by_text.p);
			snprintf(k2, sizeof k2, "resource%.*s", (int)co->by_text.len, (const char *)co->by_text.p);
			skip[0] = k1;
			skip[1] = k2;
		} else {
			snprintf(k1, sizeof k1, "%.*s", (int)co->by_text.len, (const char *)co->by_text.p);
			skip[0] = k1;
		}
	}
	if ((rc = corr_table_rank(r.t, limit, skip, &rep->results)) < 0)
		goto out;
	rep->n_results = (uint32_t)rc;
	rc = segments(&r, rep, limit);
out:
	for (int w = 0; w < 2; w++)
		sketch_free(&r.pop[w].q);
	arena_reset(&r.scratch);
	return rc;
}

void cmp_report_free(struct cmp_report *rep)
{
	corr_table_free(rep->table);
	cp_agg_free(rep->agg_a);
	cp_agg_free(rep->agg_b);
	arena_reset(&rep->arena);
	memset(rep, 0, sizeof *rep);
}

/* ---- JSON ---- */

static void num(struct json *j, const char *key, double v, double scale)
{
	json_key(j, key);
	if (isnan(v) || isinf(v))
		json_null_value(j);
	else
		json_double(j, round(v * scale) / scale);
}

static void write_figures(struct json *j, const struct cmp_figures *f)
{
	json_obj_begin(j);
	json_key(j, "count");
	json_uint(j, f->count);
	json_key(j, "traces");
	json_uint(j, f->traces);
	json_key(j, "errors");
	json_obj_begin(j);
	json_key(j, "count");
	json_uint(j, f->errors);
	num(j, "rate", f->error_rate, 1e6);
	json_obj_end(j);
	json_key(j, "latency");
	json_obj_begin(j);
	num(j, "p50", f->p50_ms, 1e3);
	num(j, "p95", f->p95_ms, 1e3);
	num(j, "p99", f->p99_ms, 1e3);
	num(j, "mean", f->mean_ms, 1e3);
	json_obj_end(j);
	json_obj_end(j);
}

static void write_change(struct json *j, const struct cmp_figures *a, const struct cmp_figures *b, bool ratio)
{
	double s = ratio ? 1e4 : 1e3;
#define CH(x) (ratio ? b->x / a->x : b->x - a->x)
	json_obj_begin(j);
	num(j, "count", ratio ? (double)b->count / (double)a->count : (double)b->count - (double)a->count, s);
	num(j, "errorRate", CH(error_rate), ratio ? 1e4 : 1e6);
	num(j, "p50", CH(p50_ms), s);
	num(j, "p95", CH(p95_ms), s);
	num(j, "p99", CH(p99_ms), s);
	num(j, "mean", CH(mean_ms), s);
	json_obj_end(j);
#undef CH
}

void cmp_write_json(struct json *j, const struct cmp_report *rep, const struct cmp_options *co)
{
	json_obj_begin(j);
	json_key(j, "mode");
	json_cstr(j, co->by ? "by" : "baseline");
	json_key(j, "a");
	write_figures(j, &rep->a);
	json_key(j, "b");
	write_figures(j, &rep->b);
	json_key(j, "difference");
	write_change(j, &rep->a, &rep->b, false);
	json_key(j, "ratio");
	write_change(j, &rep->a, &rep->b, true);
	json_key(j, "attributes");
	corr_write_results(j, rep->results, rep->n_results, false);
	json_key(j, "criticalPath");
	json_arr_begin(j);
	for (uint32_t k = 0; k < rep->n_segments; k++) {
		const struct cmp_segment *s = &rep->segments[k];
		json_obj_begin(j);
		json_key(j, "service");
		json_str(j, s->service);
		json_key(j, "name");
		json_str(j, s->name);
		num(j, "shareA", s->share_a, 1e4);
		num(j, "shareB", s->share_b, 1e4);
		num(j, "change", s->share_b - s->share_a, 1e4);
		json_obj_end(j);
	}
	json_arr_end(j);
	json_obj_end(j);
}
