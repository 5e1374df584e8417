/* The TraceQL metrics executor. The query's spanset pipeline becomes a spans
 * query of its own, compiled and scanned by exec_scan, which hands over each
 * matching trace with its matched spans, one call at a time (so one series
 * set serves every worker thread). For each matched span starting inside
 * [start, end) the by() fields and the *_over_time argument are evaluated
 * in one pass over the trace and the span is added to the set at its start
 * time. Then the set is finished and the second stages (topk, bottomk,
 * value filters) run in query order. */
#include "query/metrics_exec.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "base/arena.h"
#include "base/buf.h"
#include "base/err.h"
#include "query/exec_columnar.h"

#define METRICS_SCRATCH_BYTES ((size_t)256 << 20)

struct run {
	const struct tql_node *fn; /* the TQL_N_METRICS node */
	const struct tql_node *fields[SERIES_MAX_BY + 1]; /* by() fields, then the value */
	uint32_t n_by, n_fields;
	int64_t start_ns, end_ns;
	struct series_set *set;
	struct arena scratch;
	int rc; /* the visitor's own failure */
	char *err;
	size_t errlen;
};

int metrics_exec_supported(const struct tql_query *q, char *err, size_t errlen)
{
	if (q->kind != TQL_Q_METRICS || !q->root) {
		snprintf(err, errlen, "not a metrics query: use /api/search for spans and traces");
		return CLEW_EINVAL;
	}
	if (q->root->kind == TQL_N_METRICS_MATH) {
		snprintf(err, errlen, "arithmetic between metrics queries is not supported yet");
		return CLEW_EUNSUPPORTED;
	}
	const struct tql_node *mq = q->root;
	if (mq->kind != TQL_N_METRICS_QUERY || !mq->a || !mq->b || mq->b->kind != TQL_N_METRICS) {
		snprintf(err, errlen, "unexpected shape of metrics query");
		return CLEW_EUNSUPPORTED;
	}
	if (mq->b->u.metrics.fn == TQL_M_COMPARE) {
		snprintf(err, errlen, "compare() is not supported yet");
		return CLEW_EUNSUPPORTED;
	}
	return 0;
}

static void to_tql_value(const struct exec_value *v, struct tql_value *out)
{
	out->type = v->type == TQL_T_UNKNOWN ? TQL_T_NIL : v->type;
	switch (v->type) {
	case TQL_T_BOOL: out->u.b = v->u.b; break;
	case TQL_T_FLOAT: out->u.f = v->u.f; break;
	case TQL_T_STRING: out->u.s = v->u.s; break;
	case TQL_T_INT:
	case TQL_T_DURATION:
	case TQL_T_STATUS:
	case TQL_T_KIND: out->u.i = v->u.i; break;
	default: out->type = TQL_T_NIL; break;
	}
}

static double to_number(const struct exec_value *v)
{
	switch (v->type) {
	case TQL_T_INT:
	case TQL_T_DURATION: return (double)v->u.i;
	case TQL_T_FLOAT: return v->u.f;
	default: return NAN;
	}
}

static int fail_visit(struct run *r, int rc, const char *msg)
{
	r->rc = rc;
	snprintf(r->err, r->errlen, "%s", msg);
	return rc;
}

static int visit(void *ctx, const struct span_batch *b, uint32_t first, uint32_t n, const uint32_t *matched,
		 uint32_t n_matched)
{
	struct run *r = ctx;
	int rc;
	arena_reset(&r->scratch);
	uint32_t *idx = arena_array(&r->scratch, n_matched + 1, sizeof *idx), n_idx = 0;
	if (!idx)
		return fail_visit(r, CLEW_ELIMIT, "a trace is too large for the metrics query's scratch memory");
	for (uint32_t k = 0; k < n_matched; k++) {
		int64_t t = b->spans[matched[k]].start_unix_ns;
		if (t >= r->start_ns && t < r->end_ns)
			idx[n_idx++] = matched[k];
	}
	if (n_idx == 0)
		return 0;
	struct exec_value *vals = NULL;
	if (r->n_fields) {
		vals = arena_array(&r->scratch, (size_t)n_idx * r->n_fields, sizeof *vals);
		if (!vals || exec_field_values(r->fields, r->n_fields, b, first, n, idx, n_idx, &r->scratch, vals) < 0)
			return fail_visit(r, CLEW_ELIMIT,
					  "a trace is too large for the metrics query's scratch memory");
	}
	struct tql_value by[SERIES_MAX_BY + 1];
	bool has_value = r->n_fields > r->n_by;
	for (uint32_t k = 0; k < n_idx; k++) {
		const struct exec_value *v = vals ? &vals[(size_t)k * r->n_fields] : NULL;
		for (uint32_t f = 0; f < r->n_by; f++)
			to_tql_value(&v[f], &by[f]);
		double value = has_value ? to_number(&v[r->n_by]) : 0;
		if ((rc = series_add(r->set, by, b->spans[idx[k]].start_unix_ns, value)) < 0) {
			if (rc == CLEW_ELIMIT)
				return fail_visit(r, rc, series_error(r->set));
			return fail_visit(r, rc, "out of memory for the series");
		}
	}
	return 0;
}

/* The set's configuration from the metrics node; label names into a. */
static int make_config(const struct tql_node *fn, const struct metrics_exec_options *o, struct arena *a,
		       struct series_config *cfg, char *err, size_t errlen)
{
	memset(cfg, 0, sizeof *cfg);
	cfg->fn = fn->u.metrics.fn;
	cfg->start_ns = o->start_ns;
	cfg->end_ns = o->end_ns;
	cfg->step_ns = o->step_ns;
	cfg->max_series = o->max_series;
	cfg->max_bytes = o->max_bytes;
	if (fn->n_items > SERIES_MAX_BY) {
		snprintf(err, errlen, "by() takes at most %d fields", SERIES_MAX_BY);
		return CLEW_EINVAL;
	}
	if (fn->u.metrics.n_quantiles > SERIES_MAX_QUANTILES) {
		snprintf(err, errlen, "quantile_over_time() takes at most %d quantiles", SERIES_MAX_QUANTILES);
		return CLEW_EINVAL;
	}
	for (uint32_t k = 0; k < fn->u.metrics.n_quantiles; k++) {
		double q = fn->u.metrics.quantiles[k];
		if (!(q >= 0 && q <= 1)) {
			snprintf(err, errlen, "quantile %g is outside [0, 1]", q);
			return CLEW_EINVAL;
		}
	}
	cfg->quantiles = fn->u.metrics.quantiles;
	cfg->n_quantiles = fn->u.metrics.n_quantiles;
	cfg->value_is_duration = fn->a && fn->a->type == TQL_T_DURATION;
	struct slice *names = arena_array(a, fn->n_items + 1, sizeof *names);
	if (!names)
		goto nomem;
	for (uint32_t k = 0; k < fn->n_items; k++) {
		struct buf nb;
		buf_init(&nb, 4096);
		tql_format_node(fn->items[k], &nb);
		void *p = nb.err ? NULL : arena_memdup(a, nb.p, nb.len + 1);
		names[k] = slice_make(p, p ? nb.len : 0);
		buf_free(&nb);
		if (!p)
			goto nomem;
	}
	cfg->by_names = names;
	cfg->n_by = fn->n_items;
	return 0;
nomem:
	snprintf(err, errlen, "out of memory");
	return CLEW_ENOMEM;
}

/* ---- the columnar path over block pages ---- */

/* One scan worker's share: its columnar state and its own series set,
 * merged into the query's set when the scan is done. */
struct colworker {
	struct excol_worker *xw;
	struct series_set *set;
	int rc;
	char err[160];
	/* the page's by() codes and their groups: gmap[code] is the group
	 * handle when its high half is the page's epoch */
	uint32_t *codes;
	size_t cap_codes;
	uint64_t *gmap;
	uint32_t *cnt, *first; /* count per code in one step, and its first span */
	uint32_t *touched;
	size_t cap_map;
	/* the page's codes new to gmap: their labels and groups (col_resolve) */
	struct tql_value *new_by;
	uint32_t *new_g;
	size_t cap_new;
	uint32_t epoch;
	/* the page's adds, applied together (series_add_groups) */
	uint32_t *add_g;
	int64_t *add_ts;
	double *add_v;
	size_t cap_add;
};

struct colrun {
	struct run *r;
	const struct excol_plan *plan;
	const struct series_config *cfg;
	struct excol_field *f[SERIES_MAX_BY + 1];
	unsigned want;
	struct colworker w[EXEC_MAX_THREADS];
};

static int col_fail(struct colworker *cw, int rc, const char *msg)
{
	cw->rc = rc;
	snprintf(cw->err, sizeof cw->err, "%s", msg);
	return rc;
}

/* The group of span i of the page (its by() values as series_add takes
 * them), through the page's code map when code is not UINT32_MAX. */
static int col_group(struct colrun *cr, struct colworker *cw, uint32_t i, uint32_t code, uint32_t *g)
{
	struct run *r = cr->r;
	if (code != UINT32_MAX && (uint32_t)(cw->gmap[code] >> 32) == cw->epoch) {
		*g = (uint32_t)cw->gmap[code];
		return 0;
	}
	struct tql_value by[SERIES_MAX_BY + 1];
	struct exec_value v;
	for (uint32_t f = 0; f < r->n_by; f++) {
		excol_field_value(cw->xw, cr->f[f], f, i, &v);
		to_tql_value(&v, &by[f]);
	}
	int rc = series_group(cw->set, by, g);
	if (rc < 0)
		return col_fail(cw, rc, rc == CLEW_ELIMIT ? series_error(cw->set) : "out of memory for the series");
	if (code != UINT32_MAX)
		cw->gmap[code] = (uint64_t)cw->epoch << 32 | *g;
	return 0;
}

/* Room for the codes of n spans and a map of bound codes; a new epoch. */
static int col_maps(struct colworker *cw, uint32_t n, uint32_t bound)
{
	if (cw->cap_codes < (size_t)n + 1) {
		free(cw->codes);
		cw->cap_codes = 0;
		if (!(cw->codes = try_malloc(((size_t)n + 1) * sizeof *cw->codes)))
			return CLEW_ENOMEM;
		cw->cap_codes = (size_t)n + 1;
	}
	if (cw->cap_map < (size_t)bound + 1) {
		size_t cap = (size_t)bound + 1 + bound / 2;
		free(cw->gmap);
		free(cw->cnt);
		free(cw->first);
		free(cw->touched);
		cw->cap_map = 0;
		cw->gmap = try_calloc(cap, sizeof *cw->gmap);
		cw->cnt = try_calloc(cap, sizeof *cw->cnt);
		cw->first = try_malloc(cap * sizeof *cw->first);
		cw->touched = try_malloc(cap * sizeof *cw->touched);
		if (!cw->gmap || !cw->cnt || !cw->first || !cw->touched)
			return CLEW_ENOMEM;
		cw->cap_map = cap;
		cw->epoch = 0;
	}
	if (++cw->epoch == 0) { /* wrapped: old entries could look current */
		memset(cw->gmap, 0, cw->cap_map * sizeof *cw->gmap);
		cw->epoch = 1;
	}
	return 0;
}

/* The matched spans of the page into the set, span by span. */
static int col_spans(struct colrun *cr, struct colworker *cw, const uint8_t *sel, bool one_step, int64_t ts1)
{
	struct run *r = cr->r;
	const struct block_cols *c = excol_cols(cw->xw);
	struct tql_value by[SERIES_MAX_BY + 1];
	struct exec_value v;
	bool has_value = r->n_fields > r->n_by;
	int rc;
	for (uint32_t i = 0; i < c->spans; i++) {
		if (!sel[i])
			continue;
		int64_t ts = one_step ? ts1 : c->start[i];
		if (ts < r->start_ns || ts >= r->end_ns)
			continue;
		for (uint32_t f = 0; f < r->n_by; f++) {
			excol_field_value(cw->xw, cr->f[f], f, i, &v);
			to_tql_value(&v, &by[f]);
		}
		double value = 0;
		if (has_value) {
			excol_field_value(cw->xw, cr->f[r->n_by], r->n_by, i, &v);
			value = to_number(&v);
		}
		if ((rc = series_add(cw->set, by, ts, value)) < 0)
			return col_fail(cw, rc, rc == CLEW_ELIMIT ? series_error(cw->set) : "out of memory for the series");
	}
	return 0;
}

/* Counts in one step by one code per span: spans counted per code, then
 * added per group. */
static int col_counts(struct colrun *cr, struct colworker *cw, const uint8_t *sel, const uint32_t *codes, int64_t ts)
{
	const struct block_cols *c = excol_cols(cw->xw);
	uint32_t n_t = 0, g;
	int rc;
	for (uint32_t i = 0; i < c->spans; i++) {
		if (!sel[i])
			continue;
		uint32_t code = codes ? codes[i] : 0;
		if (code == UINT32_MAX) {
			if ((rc = col_group(cr, cw, i, code, &g)) < 0 || (rc = series_add_count(cw->set, g, ts, 1)) < 0)
				return rc;
			continue;
		}
		if (cw->cnt[code]++ == 0) {
			cw->first[code] = i;
			cw->touched[n_t++] = code;
		}
	}
	rc = 0;
	for (uint32_t k = 0; k < n_t; k++) {
		uint32_t code = cw->touched[k];
		if (rc == 0 && (rc = col_group(cr, cw, cw->first[code], code, &g)) == 0)
			rc = series_add_count(cw->set, g, ts, cw->cnt[code]);
		cw->cnt[code] = 0;
	}
	return rc;
}

/* Whether span i of the page is accounted (in range, a number when the
 * query takes values), as col_page decides. */
static bool col_counted(struct colrun *cr, struct colworker *cw, uint32_t i, int64_t ts, const int64_t *dur)
{
	struct run *r = cr->r;
	if (ts < r->start_ns || ts >= r->end_ns)
		return false;
	enum tql_metric_fn fn = cr->cfg->fn;
	if (dur || r->n_fields == r->n_by || fn == TQL_M_RATE || fn == TQL_M_COUNT_OVER_TIME)
		return true;
	struct exec_value v;
	excol_field_value(cw->xw, cr->f[r->n_by], r->n_by, i, &v);
	return !isnan(to_number(&v));
}

/* The groups of the codes of the page's accounted spans not yet in gmap,
 * looked up together (series_group_many), so the adds that follow find
 * every coded span's group in gmap. */
static int col_resolve(struct colrun *cr, struct colworker *cw, const uint8_t *sel, const uint32_t *codes,
		       bool one_step, int64_t ts1, const int64_t *dur)
{
	const struct block_cols *c = excol_cols(cw->xw);
	uint32_t n_new = 0;
	for (uint32_t i = 0; i < c->spans; i++) {
		uint32_t code = codes[i];
		if (!sel[i] || code == UINT32_MAX || (uint32_t)(cw->gmap[code] >> 32) == cw->epoch ||
		    !col_counted(cr, cw, i, one_step ? ts1 : c->start[i], dur))
			continue;
		cw->gmap[code] = (uint64_t)cw->epoch << 32 | UINT32_MAX; /* set below */
		cw->touched[n_new] = code;
		cw->first[n_new++] = i;
	}
	if (!n_new)
		return 0;
	if (cw->cap_new < n_new) {
		free(cw->new_by);
		free(cw->new_g);
		cw->cap_new = 0;
		cw->new_by = try_malloc((size_t)n_new * sizeof *cw->new_by);
		cw->new_g = try_malloc((size_t)n_new * sizeof *cw->new_g);
		if (!cw->new_by || !cw->new_g)
			return col_fail(cw, CLEW_ENOMEM, "out of memory for the series");
		cw->cap_new = n_new;
	}
	struct exec_value v;
	for (uint32_t k = 0; k < n_new; k++) {
		excol_field_value(cw->xw, cr->f[0], 0, cw->first[k], &v);
		to_tql_value(&v, &cw->new_by[k]);
	}
	int rc = series_group_many(cw->set, cw->new_by, n_new, cw->new_g);
	if (rc < 0)
		return col_fail(cw, rc, rc == CLEW_ELIMIT ? series_error(cw->set) : "out of memory for the series");
	for (uint32_t k = 0; k < n_new; k++)
		cw->gmap[cw->touched[k]] = (uint64_t)cw->epoch << 32 | cw->new_g[k];
	return 0;
}

static int col_page(void *ctx, uint32_t wi, struct block *blk, uint32_t p)
{
	struct colrun *cr = ctx;
	struct run *r = cr->r;
	struct colworker *cw = &cr->w[wi];
	const struct block_page_info *pi = block_page(blk, p);
	const uint8_t *sel;
	uint32_t n_sel;
	int rc;
	if (!pi)
		return CLEW_EINVAL;
	if (pi->min_dur_ns < 0)
		return 1; /* a span ending before it starts: the trace's own range decides; span by span */
	if (pi->min_start_ns >= r->end_ns || pi->max_start_ns < r->start_ns)
		return 0;
	if (!cw->xw && !(cw->xw = excol_worker_new()))
		return CLEW_ENOMEM;
	if (!cw->set && !(cw->set = series_set_new(cr->cfg, &rc)))
		return col_fail(cw, rc, "out of memory for the series");
	/* every span of the page in one step: no start column needed */
	uint64_t step = (uint64_t)cr->cfg->step_ns;
	bool one_step = pi->min_start_ns >= r->start_ns && pi->max_start_ns < r->end_ns &&
			(uint64_t)(pi->min_start_ns - r->start_ns) / step == (uint64_t)(pi->max_start_ns - r->start_ns) / step;
	/* durations are decoded for the selected spans only (excol_fields_prepare_sel) */
	unsigned want = (cr->want & ~(unsigned)BLOCK_COLS_DURATION) | (one_step ? 0 : BLOCK_COLS_START);
	if ((rc = excol_eval_page(cr->plan, cw->xw, blk, p, want, &sel, &n_sel)) < 0 || n_sel == 0)
		return rc;
	if ((rc = excol_fields_prepare_sel(cw->xw, cr->f, r->n_fields, sel)) < 0)
		return rc;
	enum tql_metric_fn fn = cr->cfg->fn;
	if (r->n_by > 1 || fn == TQL_M_HISTOGRAM_OVER_TIME)
		return col_spans(cr, cw, sel, one_step, pi->min_start_ns);
	/* zero or one by() field: each code's group looked up once a page */
	const struct block_cols *c = excol_cols(cw->xw);
	uint32_t bound = 1;
	if ((rc = col_maps(cw, c->spans, r->n_by ? c->dict_n[2] + 256 + c->spans : 1)) < 0)
		return col_fail(cw, rc, "out of memory for the series");
	const uint32_t *codes = NULL;
	if (r->n_by) {
		bound = excol_field_codes(cw->xw, cr->f[0], 0, cw->codes);
		if (bound > cw->cap_map && (rc = col_maps(cw, 0, bound)) < 0)
			return col_fail(cw, rc, "out of memory for the series");
		codes = cw->codes;
	}
	if (one_step && (fn == TQL_M_RATE || fn == TQL_M_COUNT_OVER_TIME))
		return col_counts(cr, cw, sel, codes, pi->min_start_ns);
	bool has_value = r->n_fields > r->n_by;
	bool value_fn = fn != TQL_M_RATE && fn != TQL_M_COUNT_OVER_TIME;
	struct exec_value v;
	uint32_t g, m = 0;
	const int64_t *dur = has_value ? excol_field_durations(cw->xw, cr->f[r->n_by]) : NULL;
	if (cw->cap_add < n_sel) {
		free(cw->add_g);
		free(cw->add_ts);
		free(cw->add_v);
		cw->cap_add = 0;
		cw->add_g = try_malloc((size_t)n_sel * sizeof *cw->add_g);
		cw->add_ts = try_malloc((size_t)n_sel * sizeof *cw->add_ts);
		cw->add_v = try_malloc((size_t)n_sel * sizeof *cw->add_v);
		if (!cw->add_g || !cw->add_ts || !cw->add_v)
			return col_fail(cw, CLEW_ENOMEM, "out of memory for the series");
		cw->cap_add = n_sel;
	}
	if (codes && (rc = col_resolve(cr, cw, sel, codes, one_step, pi->min_start_ns, dur)) < 0)
		return rc;
	for (uint32_t i = 0; i < c->spans && m < n_sel; i++) {
		if (!sel[i])
			continue;
		int64_t ts = one_step ? pi->min_start_ns : c->start[i];
		if (ts < r->start_ns || ts >= r->end_ns)
			continue;
		double value = 0;
		if (dur) {
			value = (double)dur[i];
		} else if (has_value) {
			excol_field_value(cw->xw, cr->f[r->n_by], r->n_by, i, &v);
			value = to_number(&v);
			if (value_fn && isnan(value))
				continue; /* series_add would not create the group */
		}
		if ((rc = col_group(cr, cw, i, codes ? codes[i] : 0, &g)) < 0)
			return rc;
		cw->add_g[m] = g;
		cw->add_ts[m] = ts;
		cw->add_v[m++] = value;
	}
	if ((rc = series_add_groups(cw->set, cw->add_g, cw->add_ts, cw->add_v, m)) < 0)
		return col_fail(cw, rc, rc == CLEW_ELIMIT ? series_error(cw->set) : "out of memory for the series");
	return 0;
}

/* The columnar handler of q's pages, when its filter and fields allow one:
 * 0 with cr filled, or 1 for the span-by-span path. */
static int col_prepare(struct colrun *cr, struct run *r, const struct exec_query *xq, const struct series_config *cfg,
		       struct arena *a)
{
	memset(cr, 0, sizeof *cr);
	if (!xq->col)
		return 1;
	for (uint32_t k = 0; k < r->n_fields; k++)
		if (!(cr->f[k] = excol_field_compile(r->fields[k], a)))
			return 1;
	cr->r = r;
	cr->plan = xq->col;
	cr->cfg = cfg;
	cr->want = excol_fields_want(cr->f, r->n_fields);
	return 0;
}

/* Merge the workers' sets into the query's; the first failure (a worker's
 * or the merge's) into r. */
static void col_finish(struct colrun *cr, struct run *r)
{
	for (uint32_t k = 0; k < EXEC_MAX_THREADS; k++) {
		struct colworker *cw = &cr->w[k];
		if (cw->rc < 0 && r->rc == 0) {
			r->rc = cw->rc;
			snprintf(r->err, r->errlen, "%s", cw->err);
		}
		if (cw->set && r->rc == 0) {
			int rc = series_merge_move(r->set, cw->set);
			if (rc < 0) {
				r->rc = rc;
				snprintf(r->err, r->errlen, "%s",
					 rc == CLEW_ELIMIT ? series_error(r->set) : "out of memory for the series");
			}
		}
		series_set_free(cw->set);
		excol_worker_free(cw->xw);
		free(cw->codes);
		free(cw->gmap);
		free(cw->cnt);
		free(cw->first);
		free(cw->touched);
		free(cw->new_by);
		free(cw->new_g);
		free(cw->add_g);
		free(cw->add_ts);
		free(cw->add_v);
		memset(cw, 0, sizeof *cw);
	}
}

static void new_set_error(int rc, const struct metrics_exec_options *o, char *err, size_t errlen)
{
	if (rc == CLEW_ELIMIT)
		snprintf(err, errlen, "the range holds more than %d steps of %lld ms: use a larger step",
			 SERIES_MAX_STEPS, (long long)(o->step_ns / 1000000));
	else if (rc == CLEW_EINVAL)
		snprintf(err, errlen, "invalid range: it needs end > start and a positive step");
	else
		snprintf(err, errlen, "out of memory");
}

static void scan_error(int rc, const struct exec_options *o, char *err, size_t errlen)
{
	if (rc == CLEW_ELIMIT)
		snprintf(err, errlen, "query exceeded its memory budget (%zu MiB); narrow the time range or the query",
			 (o->mem_bytes ? o->mem_bytes : EXEC_DEFAULT_MEM_BYTES) >> 20);
	else if (rc == CLEW_EBUSY)
		snprintf(err, errlen, "query exceeded its time budget (%lld s); narrow the time range or the query",
			 (long long)((o->time_ns ? o->time_ns : EXEC_DEFAULT_TIME_NS) / 1000000000LL));
	else if (rc == -ECANCELED)
		snprintf(err, errlen, "query cancelled: the client went away");
	else
		snprintf(err, errlen, "metrics query failed: %s", err_str(rc));
}

/* The second stages of mq in query order. */
static int second_stages(struct series_set *set, const struct tql_node *mq, char *err, size_t errlen)
{
	int rc = 0;
	for (uint32_t k = 0; k < mq->n_items && rc == 0; k++) {
		const struct tql_node *s2 = mq->items[k];
		if (s2->kind != TQL_N_STAGE2)
			continue;
		if (s2->u.stage2.kind == TQL_S2_FILTER) {
			if ((rc = series_filter(set, s2->op, s2->u.stage2.value)) < 0)
				snprintf(err, errlen, "unsupported comparison '%s' after a metrics function",
					 tql_op_name(s2->op));
		} else {
			bool bottom = s2->u.stage2.kind == TQL_S2_BOTTOMK;
			if ((rc = series_topk(set, s2->u.stage2.k, bottom)) < 0)
				snprintf(err, errlen, "%s() needs a count above 0, not %lld", bottom ? "bottomk" : "topk",
					 (long long)s2->u.stage2.k);
		}
	}
	return rc;
}

int metrics_exec_run(const struct store_query_ops *ops, void *impl, const struct tql_query *q,
		     const struct metrics_exec_options *o, struct series_set **out, struct metrics_out_stats *st,
		     char *err, size_t errlen)
{
	struct arena a;
	struct run r;
	struct exec_query *xq = NULL;
	struct colrun *cr = NULL;
	int rc;
	*out = NULL;
	memset(st, 0, sizeof *st);
	memset(&r, 0, sizeof r);
	arena_init(&a, 0);
	arena_init(&r.scratch, METRICS_SCRATCH_BYTES);
	if (errlen)
		err[0] = 0;
	if ((rc = metrics_exec_supported(q, err, errlen)) < 0)
		goto out;
	const struct tql_node *mq = q->root;
	r.fn = mq->b;
	r.err = err;
	r.errlen = errlen;
	r.start_ns = o->start_ns;
	r.end_ns = o->end_ns;
	struct series_config cfg;
	if ((rc = make_config(r.fn, o, &a, &cfg, err, errlen)) < 0)
		goto out;
	if (!(r.set = series_set_new(&cfg, &rc))) {
		new_set_error(rc, o, err, errlen);
		goto out;
	}
	for (uint32_t k = 0; k < r.fn->n_items; k++)
		r.fields[r.n_fields++] = r.fn->items[k];
	r.n_by = r.n_fields;
	if (r.fn->a && cfg.fn != TQL_M_RATE && cfg.fn != TQL_M_COUNT_OVER_TIME)
		r.fields[r.n_fields++] = r.fn->a;

	/* the pipeline before the metrics function, as a spans query */
	struct tql_query spans = *q;
	spans.kind = TQL_Q_SPANS;
	spans.root = mq->a;
	if (!(xq = exec_compile(&spans, &a, &rc, err, errlen)))
		goto out;
	struct exec_options so = o->scan;
	so.start_ns = o->start_ns;
	so.end_ns = o->end_ns;
	struct exec_result fig;
	memset(&fig, 0, sizeof fig);
	cr = xmalloc(sizeof *cr);
	if (col_prepare(cr, &r, xq, &cfg, &a) == 0) {
		rc = exec_scan_pages(ops, impl, xq, &so, visit, &r, col_page, cr, &fig);
		col_finish(cr, &r);
	} else {
		rc = exec_scan(ops, impl, xq, &so, visit, &r, &fig);
	}
	st->inspected_traces = fig.inspected_traces;
	st->inspected_spans = fig.inspected_spans;
	st->inspected_bytes = fig.inspected_bytes;
	st->total_blocks = (uint32_t)fig.total_blocks;
	st->completed_jobs = (uint32_t)fig.completed_jobs;
	st->total_jobs = (uint32_t)fig.total_jobs;
	if (r.rc < 0) {
		rc = r.rc; /* err already says why */
		goto out;
	}
	if (rc < 0) {
		scan_error(rc, &so, err, errlen);
		goto out;
	}
	if ((rc = series_finish(r.set)) < 0) {
		snprintf(err, errlen, "%s", rc == CLEW_ELIMIT ? series_error(r.set) : "out of memory for the series");
		goto out;
	}
	if ((rc = second_stages(r.set, mq, err, errlen)) < 0)
		goto out;
	*out = r.set;
	r.set = NULL;
	rc = 0;
out:
	free(cr);
	exec_query_free(xq);
	series_set_free(r.set);
	arena_reset(&r.scratch);
	arena_reset(&a);
	return rc;
}
