/* The scan driver: compiles a query (regexes, page-pruning terms, the
 * attributes results carry), then walks the store for it: the heads' traces
 * first (newest), then the blocks newest first, page by page, skipping pages
 * outside the time range and pages whose dictionaries lack a required name,
 * key or value. A pool of worker threads takes pages from a shared cursor;
 * each decodes its page and evaluates it trace by trace in its own arenas
 * (capped: the memory budget) against a deadline (the time budget).
 * A trace may be split over the heads and several blocks. Queries whose
 * answer for a span depends on that span alone evaluate each part where it
 * lies, and the search result merges the parts of one trace id; any other
 * query evaluates a part that may live elsewhere on the whole trace
 * (get_trace), once: only the part holding the trace's earliest span among
 * the parts the scan evaluates does, and a page pruned by its dictionaries
 * still hands over its traces that may live elsewhere (their match may
 * rest on another part). */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/alloc.h"
#include "base/clock.h"
#include "base/err.h"
#include "query/exec_columnar.h"
#include "query/exec_int.h"

/* ---- compilation ---- */

struct compile {
	struct exec_query *xq;
	struct arena *a;
	int rc;
	char *err;
	size_t errlen;
};

static void add_regex(struct compile *c, const struct tql_node *nd)
{
	struct exec_regex *r = arena_grow(c->a, c->xq->regexes, c->xq->n_regexes, c->xq->n_regexes + 1, sizeof *r);
	if (!r) {
		c->rc = CLEW_ENOMEM;
		return;
	}
	c->xq->regexes = r;
	r = &r[c->xq->n_regexes++];
	memset(r, 0, sizeof *r);
	r->node = nd;
	if (nd->b->kind != TQL_N_STATIC || nd->b->u.val.type != TQL_T_STRING)
		return; /* never matches */
	struct slice p = nd->b->u.val.u.s;
	char why[256];
	/* RE2 syntax, matching whole values as Tempo does */
	r->re = tql_regex_compile((const char *)p.p, p.len, 0, why, sizeof why);
	if (!r->re) {
		uint32_t line, col;
		tql_linecol(c->xq->q->text, nd->b->off, &line, &col);
		snprintf(c->err, c->errlen, "%u:%u: invalid regular expression \"%.*s\": %s", line, col, (int)p.len,
			 (const char *)p.p, why);
		c->rc = CLEW_EPARSE;
	}
}

static void add_out_field(struct compile *c, const struct tql_node *nd)
{
	struct exec_query *xq = c->xq;
	for (uint32_t k = 0; k < xq->n_out_fields; k++) {
		const struct tql_node *o = xq->out_fields[k];
		if (o->u.attr.scope == nd->u.attr.scope && o->u.attr.parent == nd->u.attr.parent &&
		    slice_eq(o->u.attr.name, nd->u.attr.name))
			return;
	}
	const struct tql_node **f = arena_grow(c->a, xq->out_fields, xq->n_out_fields, xq->n_out_fields + 1, sizeof *f);
	if (!f) {
		c->rc = CLEW_ENOMEM;
		return;
	}
	xq->out_fields = f;
	if (!nd->u.attr.parent && nd->u.attr.scope != TQL_SCOPE_EVENT && nd->u.attr.scope != TQL_SCOPE_LINK)
		f[xq->n_out_fields++] = nd;
}

static void walk(struct compile *c, const struct tql_node *nd)
{
	if (!nd || c->rc < 0)
		return;
	if (nd->kind == TQL_N_BINARY && (nd->op == TQL_OP_RE || nd->op == TQL_OP_NRE))
		add_regex(c, nd);
	if (nd->kind == TQL_N_ATTR)
		add_out_field(c, nd);
	walk(c, nd->a);
	walk(c, nd->b);
	for (uint32_t k = 0; k < nd->n_items; k++)
		walk(c, nd->items[k]);
}

static void add_prune(struct compile *c, enum block_col dict, struct slice s)
{
	struct exec_query *xq = c->xq;
	struct exec_prune *p = arena_grow(c->a, xq->prune, xq->n_prune, xq->n_prune + 1, sizeof *p);
	if (!p) {
		c->rc = CLEW_ENOMEM;
		return;
	}
	xq->prune = p;
	p[xq->n_prune++] = (struct exec_prune){dict, s};
}

static bool is_str_lit(const struct tql_node *n)
{
	return n->kind == TQL_N_STATIC && n->u.val.type == TQL_T_STRING;
}

/* Terms every matching span of a condition implies (conjunctions only). */
static void prune_cond(struct compile *c, const struct tql_node *nd)
{
	if (nd->kind != TQL_N_BINARY)
		return;
	if (nd->op == TQL_OP_AND) {
		prune_cond(c, nd->a);
		prune_cond(c, nd->b);
		return;
	}
	if (nd->op != TQL_OP_EQ)
		return;
	const struct tql_node *f = nd->a, *v = nd->b;
	if (!is_str_lit(v)) {
		f = nd->b;
		v = nd->a;
	}
	if (!is_str_lit(v))
		return;
	if (f->kind == TQL_N_INTRINSIC && f->u.intrinsic == TQL_I_NAME) {
		add_prune(c, BCOL_DICT_NAMES, v->u.val.u.s);
	} else if (f->kind == TQL_N_ATTR && f->u.attr.scope == TQL_SCOPE_SPAN && !f->u.attr.parent) {
		add_prune(c, BCOL_DICT_KEYS, f->u.attr.name);
		add_prune(c, BCOL_DICT_VALUES, v->u.val.u.s);
	}
}

/* Terms any result of spanset expression nd implies. */
static void prune_sets(struct compile *c, const struct tql_node *nd)
{
	switch (nd->kind) {
	case TQL_N_FILTER:
		prune_cond(c, nd->a);
		break;
	case TQL_N_PIPELINE:
		for (uint32_t k = 0; k < nd->n_items; k++)
			if (nd->items[k]->kind == TQL_N_FILTER || nd->items[k]->kind == TQL_N_PIPELINE ||
			    nd->items[k]->kind == TQL_N_SPANSET_OP)
				prune_sets(c, nd->items[k]);
		break;
	case TQL_N_SPANSET_OP:
		if (nd->op == TQL_OP_SS_UNION)
			break;
		if (nd->op < TQL_OP_SS_NOT_CHILD || nd->op > TQL_OP_SS_NOT_SIBL)
			prune_sets(c, nd->a);
		prune_sets(c, nd->b);
		break;
	default:
		break;
	}
}

/* Does condition nd of a filter depend on the span alone (and its
 * resource, scope, events and links), never on other spans of the trace? */
static bool cond_per_span(const struct tql_node *nd)
{
	if (!nd)
		return true;
	switch (nd->kind) {
	case TQL_N_STATIC:
		return true;
	case TQL_N_INTRINSIC:
		switch (nd->u.intrinsic) {
		case TQL_I_CHILD_COUNT:
		case TQL_I_PARENT:
		case TQL_I_ROOT_NAME:
		case TQL_I_ROOT_SERVICE:
		case TQL_I_TRACE_DURATION:
		case TQL_I_NESTED_SET_LEFT:
		case TQL_I_NESTED_SET_RIGHT:
		case TQL_I_NESTED_SET_PARENT: return false;
		default: return true;
		}
	case TQL_N_ATTR:
		return !nd->u.attr.parent;
	case TQL_N_BINARY:
	case TQL_N_UNARY:
		break;
	default:
		return false;
	}
	if (!cond_per_span(nd->a) || !cond_per_span(nd->b))
		return false;
	for (uint32_t k = 0; k < nd->n_items; k++)
		if (!cond_per_span(nd->items[k]))
			return false;
	return true;
}

/* A spans query of filters and select() only, on per-span conditions: its
 * answer for a trace is the union of its answers for the trace's parts. */
static bool query_per_span(const struct tql_query *q)
{
	if (q->kind != TQL_Q_SPANS || !q->root)
		return false;
	const struct tql_node *r = q->root;
	if (r->kind == TQL_N_FILTER)
		return cond_per_span(r->a);
	if (r->kind != TQL_N_PIPELINE)
		return false;
	for (uint32_t k = 0; k < r->n_items; k++) {
		const struct tql_node *st = r->items[k];
		if (st->kind == TQL_N_FILTER) {
			if (!cond_per_span(st->a))
				return false;
		} else if (st->kind == TQL_N_SELECT) {
			for (uint32_t f = 0; f < st->n_items; f++)
				if (!cond_per_span(st->items[f]))
					return false;
		} else {
			return false;
		}
	}
	return true;
}

struct exec_query *exec_compile(const struct tql_query *q, struct arena *a, int *rc, char *err, size_t errlen)
{
	if (errlen)
		err[0] = 0;
	if (q->kind == TQL_Q_METRICS) {
		*rc = CLEW_EUNSUPPORTED;
		snprintf(err, errlen, "metrics queries are answered by /api/metrics/query_range");
		return NULL;
	}
	struct exec_query *xq = arena_zalloc(a, sizeof *xq);
	if (!xq) {
		*rc = CLEW_ENOMEM;
		return NULL;
	}
	xq->q = q;
	xq->per_span = query_per_span(q);
	struct compile c = {xq, a, 0, err, errlen};
	walk(&c, q->root);
	if (c.rc == 0 && q->kind == TQL_Q_SPANS)
		prune_sets(&c, q->root);
	if (c.rc == 0)
		xq->col = excol_compile(xq, a); /* NULL: span by span */
	for (uint32_t k = 0; k < q->n_hints; k++)
		if (slice_eq_cstr(q->hints[k].key, "most_recent") && q->hints[k].value.type == TQL_T_BOOL)
			xq->most_recent = q->hints[k].value.u.b;
	if (c.rc < 0) {
		exec_query_free(xq);
		*rc = c.rc;
		if (c.rc == CLEW_ENOMEM)
			snprintf(err, errlen, "out of memory");
		return NULL;
	}
	*rc = 0;
	return xq;
}

void exec_query_free(struct exec_query *xq)
{
	if (!xq)
		return;
	for (uint32_t k = 0; k < xq->n_regexes; k++)
		tql_regex_free(xq->regexes[k].re);
	xq->n_regexes = 0;
}

bool exec_matches_all(const struct exec_query *xq)
{
	const struct tql_node *r = xq->q->root;
	if (r && r->kind == TQL_N_PIPELINE && r->n_items == 1)
		r = r->items[0];
	if (xq->q->kind != TQL_Q_SPANS || !r || r->kind != TQL_N_FILTER || !xq->per_span)
		return false;
	const struct tql_node *c = r->a;
	return c && c->kind == TQL_N_STATIC && c->u.val.type == TQL_T_BOOL && c->u.val.u.b;
}

bool exec_most_recent(const struct exec_query *xq)
{
	return xq->most_recent;
}

/* ---- the scan ---- */

struct job {
	struct block *blk;
	uint32_t page;
	uint64_t bytes;
};

/* The part of a trace in the heads: its span count and earliest span. */
struct head_part {
	int64_t min_start_ns;
	uint8_t min_span_id[8];
	uint32_t spans;
	bool in_range; /* a span starts before the query's end */
};

struct scan {
	const struct store_query_ops *ops;
	void *impl;
	struct exec_query *xq;
	struct exec_options o;
	struct job *jobs;
	size_t n_jobs;
	atomic_size_t next_job;
	uint8_t (*head_ids)[16];
	struct head_part *head_parts; /* per head id: its spans in the heads */
	size_t n_head_ids, cap_head_ids;
	struct store_block_list bl; /* the blocks scanned, for split traces */
	uint32_t *head_tab; /* open addressing over head_ids, for dedup */
	size_t tab_cap;
	atomic_size_t next_head;
	int64_t deadline;
	size_t worker_bytes;
	atomic_int stop;
	pthread_mutex_t mu;
	int rc; /* first failure, under mu */
	/* visitor mode */
	exec_visit_fn visit;
	exec_visit_worker_fn visit_w; /* unserialised, per worker (exec_scan_workers) */
	void *ctx;
	exec_page_fn page; /* block pages, when set */
	void *page_ctx;
	/* search mode */
	struct exec_result *res;
	size_t cap_traces;
	atomic_uint_fast64_t inspected_traces, inspected_spans, inspected_bytes, completed, pruned;
};

static void fail(struct scan *s, int rc)
{
	pthread_mutex_lock(&s->mu);
	if (s->rc == 0)
		s->rc = rc;
	pthread_mutex_unlock(&s->mu);
	atomic_store(&s->stop, 1);
}

static uint32_t tid_hash(const uint8_t id[16])
{
	uint64_t a, b;
	memcpy(&a, id, 8);
	memcpy(&b, id + 8, 8);
	a ^= b * 0x9e3779b97f4a7c15ULL;
	a ^= a >> 31;
	a *= 0xbf58476d1ce4e5b9ULL;
	return (uint32_t)(a ^ (a >> 29));
}

/* Is span (start, sid) earlier than (start2, sid2)? Ties by span id. */
static bool key_less(int64_t start, const uint8_t sid[8], int64_t start2, const uint8_t sid2[8])
{
	return start < start2 || (start == start2 && memcmp(sid, sid2, 8) < 0);
}

/* The earliest span of spans [first, first+n) of b (n > 0). */
static const struct span *earliest_span(const struct span_batch *b, uint32_t first, uint32_t n)
{
	const struct span *e = &b->spans[first];
	for (uint32_t i = first + 1; i < first + n; i++)
		if (key_less(b->spans[i].start_unix_ns, b->spans[i].span_id, e->start_unix_ns, e->span_id))
			e = &b->spans[i];
	return e;
}

/* The index of id among the head ids, or -1. Read-only once collected. */
static int64_t head_find(const struct scan *s, const uint8_t id[16])
{
	if (!s->tab_cap)
		return -1;
	size_t h = tid_hash(id) & (s->tab_cap - 1);
	while (s->head_tab[h] != UINT32_MAX) {
		if (memcmp(s->head_ids[s->head_tab[h]], id, 16) == 0)
			return s->head_tab[h];
		h = (h + 1) & (s->tab_cap - 1);
	}
	return -1;
}

static void head_part_add(const struct scan *s, struct head_part *hp, const struct span *sp)
{
	if (!s->o.end_ns || sp->start_unix_ns <= s->o.end_ns)
		hp->in_range = true; /* a trace with a span inside the range gets in */
	if (hp->spans++ == 0 || key_less(sp->start_unix_ns, sp->span_id, hp->min_start_ns, hp->min_span_id)) {
		hp->min_start_ns = sp->start_unix_ns;
		memcpy(hp->min_span_id, sp->span_id, 8);
	}
}

static int head_add_span(struct scan *s, const struct span *sp)
{
	const uint8_t *id = sp->trace_id;
	if ((s->n_head_ids + 1) * 2 > s->tab_cap) {
		size_t cap = s->tab_cap ? s->tab_cap * 2 : 1024;
		uint32_t *tab = try_malloc(cap * sizeof *tab);
		if (!tab)
			return CLEW_ENOMEM;
		memset(tab, 0xff, cap * sizeof *tab);
		for (size_t k = 0; k < s->n_head_ids; k++) {
			size_t h = tid_hash(s->head_ids[k]) & (cap - 1);
			while (tab[h] != UINT32_MAX)
				h = (h + 1) & (cap - 1);
			tab[h] = (uint32_t)k;
		}
		free(s->head_tab);
		s->head_tab = tab;
		s->tab_cap = cap;
	}
	size_t h = tid_hash(id) & (s->tab_cap - 1);
	while (s->head_tab[h] != UINT32_MAX) {
		if (memcmp(s->head_ids[s->head_tab[h]], id, 16) == 0) {
			head_part_add(s, &s->head_parts[s->head_tab[h]], sp);
			return 0;
		}
		h = (h + 1) & (s->tab_cap - 1);
	}
	if (s->n_head_ids == s->cap_head_ids) {
		size_t cap = s->cap_head_ids ? s->cap_head_ids * 2 : 1024;
		void *p = try_realloc(s->head_ids, cap * 16);
		if (!p)
			return CLEW_ENOMEM;
		s->head_ids = p;
		if (!(p = try_realloc(s->head_parts, cap * sizeof *s->head_parts)))
			return CLEW_ENOMEM;
		s->head_parts = p;
		s->cap_head_ids = cap;
	}
	memcpy(s->head_ids[s->n_head_ids], id, 16);
	memset(&s->head_parts[s->n_head_ids], 0, sizeof *s->head_parts);
	head_part_add(s, &s->head_parts[s->n_head_ids], sp);
	s->head_tab[h] = (uint32_t)s->n_head_ids++;
	return 0;
}

static int head_collect(void *ctx, const struct span_batch *b)
{
	struct scan *s = ctx;
	int rc;
	for (uint32_t i = 0; i < b->n_spans; i++) {
		const struct span *sp = &b->spans[i];
		if (sp->invalid_reason)
			continue;
		if ((rc = head_add_span(s, sp)) < 0)
			return rc;
	}
	return 0;
}

static bool overlaps(const struct scan *s, int64_t start, int64_t end)
{
	return (!s->o.end_ns || start <= s->o.end_ns) && (!s->o.start_ns || end >= s->o.start_ns);
}

/* Search mode: keep the trace if it is new and among the wanted. Under mu. */
static bool want_locked(struct scan *s, const uint8_t id[16], int64_t start, size_t *slot)
{
	struct exec_result *r = s->res;
	for (size_t k = 0; k < r->n_traces; k++)
		if (memcmp(r->traces[k].trace_id, id, 16) == 0)
			return false;
	if (r->n_traces < s->o.limit) {
		*slot = r->n_traces;
		return true;
	}
	if (!s->xq->most_recent)
		return false;
	size_t oldest = 0;
	for (size_t k = 1; k < r->n_traces; k++)
		if (r->traces[k].start_unix_ns < r->traces[oldest].start_unix_ns)
			oldest = k;
	if (start <= r->traces[oldest].start_unix_ns)
		return false;
	*slot = oldest;
	return true;
}

/* The result slot of trace id, or -1. Under mu. */
static int64_t find_trace_locked(const struct exec_result *r, const uint8_t id[16])
{
	for (size_t k = 0; k < r->n_traces; k++)
		if (memcmp(r->traces[k].trace_id, id, 16) == 0)
			return (int64_t)k;
	return -1;
}

/* Spanset x's spans into d's, in trace order, up to spss; matched summed. */
static int merge_spanset(struct exec_spanset *d, const struct exec_spanset *x, struct arena *a, uint32_t spss)
{
	uint32_t n = d->n_spans + x->n_spans;
	if (n > spss)
		n = spss;
	struct exec_span *sp = arena_array(a, n + 1, sizeof *sp);
	if (!sp)
		return CLEW_ENOMEM;
	uint32_t i = 0, j = 0;
	for (uint32_t k = 0; k < n; k++) {
		bool from_d = j >= x->n_spans ||
			      (i < d->n_spans && !key_less(x->spans[j].start_unix_ns, x->spans[j].span_id,
							   d->spans[i].start_unix_ns, d->spans[i].span_id));
		sp[k] = from_d ? d->spans[i++] : x->spans[j++];
	}
	d->spans = sp;
	d->n_spans = n;
	d->matched += x->matched;
	return 0;
}

/* Merge x, another part of trace d, into d as Tempo's combiner does: the
 * earliest start, the latest end, the root from the part that holds it,
 * spansets and service figures summed. New arrays in a. */
static int merge_trace(struct exec_trace *d, const struct exec_trace *x, struct arena *a, uint32_t spss)
{
	int rc;
	if (x->start_unix_ns < d->start_unix_ns)
		d->start_unix_ns = x->start_unix_ns;
	if (x->end_unix_ns > d->end_unix_ns)
		d->end_unix_ns = x->end_unix_ns;
	if (!d->root_name.len && !d->root_service.len) {
		d->root_name = x->root_name;
		d->root_service = x->root_service;
	}
	uint32_t nss = d->n_spansets > x->n_spansets ? d->n_spansets : x->n_spansets;
	struct exec_spanset *ss = arena_array(a, nss + 1, sizeof *ss);
	struct exec_service_stat *sv = arena_array(a, (size_t)d->n_services + x->n_services + 1, sizeof *sv);
	if (!ss || !sv)
		return CLEW_ENOMEM;
	for (uint32_t k = 0; k < nss; k++) {
		if (k >= d->n_spansets) {
			ss[k] = x->spansets[k];
			continue;
		}
		ss[k] = d->spansets[k];
		if (k < x->n_spansets && (rc = merge_spanset(&ss[k], &x->spansets[k], a, spss)) < 0)
			return rc;
	}
	d->spansets = ss;
	d->n_spansets = nss;
	uint32_t nsv = d->n_services;
	memcpy(sv, d->services, nsv * sizeof *sv);
	for (uint32_t k = 0; k < x->n_services; k++) {
		uint32_t i = 0;
		while (i < nsv && !slice_eq(sv[i].name, x->services[k].name))
			i++;
		if (i == nsv) {
			sv[nsv++] = x->services[k];
		} else {
			sv[i].spans += x->services[k].spans;
			sv[i].errors += x->services[k].errors;
		}
	}
	d->services = sv;
	d->n_services = nsv;
	return 0;
}

static int on_match(struct scan *s, uint32_t worker, struct exec_trace_ctx *t, struct arena *out_arena,
		    const uint32_t *matched, uint32_t n_matched)
{
	int rc = 0;
	if (s->visit_w)
		return atomic_load(&s->stop) ? 0 : s->visit_w(s->ctx, worker, t->b, t->first, t->n, matched, n_matched);
	if (s->visit) {
		pthread_mutex_lock(&s->mu);
		if (!atomic_load(&s->stop))
			rc = s->visit(s->ctx, t->b, t->first, t->n, matched, n_matched);
		pthread_mutex_unlock(&s->mu);
		return rc;
	}
	size_t slot;
	const uint8_t *id = t->b->spans[t->first].trace_id;
	bool merge = s->xq->per_span; /* another part of the trace may be in the result */
	pthread_mutex_lock(&s->mu);
	bool want = want_locked(s, id, t->start_ns, &slot) || (merge && find_trace_locked(s->res, id) >= 0);
	pthread_mutex_unlock(&s->mu);
	if (!want)
		return 0;
	struct exec_trace tr;
	if ((rc = exec_run_trace(t, out_arena, s->o.spss, &tr, NULL, NULL)) <= 0)
		return rc;
	rc = 0;
	pthread_mutex_lock(&s->mu);
	int64_t have = merge ? find_trace_locked(s->res, id) : -1;
	if (have >= 0) {
		rc = merge_trace(&s->res->traces[have], &tr, out_arena, s->o.spss);
	} else if (want_locked(s, id, t->start_ns, &slot)) {
		if (slot == s->res->n_traces) {
			if (s->res->n_traces == s->cap_traces) {
				size_t cap = s->cap_traces ? s->cap_traces * 2 : 32;
				void *p = try_realloc(s->res->traces, cap * sizeof tr);
				if (!p) {
					pthread_mutex_unlock(&s->mu);
					return CLEW_ENOMEM;
				}
				s->res->traces = p;
				s->cap_traces = cap;
			}
			s->res->n_traces++;
		}
		s->res->traces[slot] = tr;
		if (!s->xq->most_recent && s->res->n_traces >= s->o.limit)
			rc = 1;
	}
	pthread_mutex_unlock(&s->mu);
	return rc;
}

struct worker {
	struct scan *s;
	uint32_t idx;
	struct arena batch, scratch, out;
	struct arena whole; /* a split trace fetched whole, or its other parts */
	uint32_t *others;   /* blocks whose time range meets the page's (indexes into s->bl) */
	uint32_t n_others;
	struct excol_worker *xw; /* the columnar path's state, on first use */
};

static int eval_one(struct worker *w, const struct span_batch *b, uint32_t first, uint32_t n, bool count)
{
	struct scan *s = w->s;
	struct exec_trace_ctx t;
	int rc;
	if (count) {
		atomic_fetch_add(&s->inspected_traces, 1);
		atomic_fetch_add(&s->inspected_spans, n);
	}
	if ((rc = exec_trace_init(&t, s->xq, b, first, n, &w->scratch)) < 0)
		return rc;
	if (!overlaps(s, t.start_ns, t.end_ns))
		return 0;
	uint32_t *matched = NULL, n_matched = 0;
	rc = exec_run_trace(&t, NULL, s->o.spss, NULL, s->visit || s->visit_w ? &matched : NULL, &n_matched);
	if (rc <= 0)
		return rc;
	return on_match(s, w->idx, &t, &w->out, matched, n_matched);
}

static int check_budget(struct scan *s)
{
	if (clock_mono_ns() > s->deadline)
		return CLEW_EBUSY;
	if (s->o.cancelled && s->o.cancelled(s->o.cancel_ctx))
		return -ECANCELED; /* the client went away */
	return atomic_load(&s->stop) ? 1 : 0;
}

/* Is page pi outside the time range? No trace it holds the earliest span
 * of can then overlap the range through it. */
static bool page_out_of_range(const struct scan *s, const struct block_page_info *pi)
{
	if (s->o.end_ns && pi->min_start_ns > s->o.end_ns)
		return true;
	/* a trace ends by its spans' max end; the page's latest possible end */
	return s->o.start_ns && pi->max_start_ns + pi->max_dur_ns < s->o.start_ns;
}

/* Do the dictionaries of page p of blk lack a term every result requires?
 * A trace wholly in such a page cannot match; a part of a split trace may
 * still belong to a match. */
static bool page_lacks_terms(struct scan *s, struct block *blk, uint32_t p, int *rc)
{
	*rc = 0;
	if (s->page || (s->xq->col && s->res))
		return false; /* the page handler or the columnar path checks the dictionaries itself */
	for (uint32_t k = 0; k < s->xq->n_prune; k++) {
		const struct exec_prune *pr = &s->xq->prune[k];
		int has = block_page_dict_has(blk, p, pr->dict, pr->s);
		if (has < 0) {
			*rc = has;
			return true;
		}
		if (has == 0)
			return true;
	}
	return false;
}

/* Is block bi outside the time range, none of its pages a job? */
static bool block_pruned(const struct scan *s, const struct block_info *bi)
{
	return (s->o.end_ns && bi->min_start_ns > s->o.end_ns) || (s->o.start_ns && bi->max_end_ns < s->o.start_ns);
}

/* Search mode: may trace id still get into the result? Under no lock. */
static bool may_want(struct scan *s, const uint8_t id[16])
{
	struct exec_result *r = s->res;
	bool want = true;
	pthread_mutex_lock(&s->mu);
	int64_t have = find_trace_locked(r, id);
	if (have >= 0) /* another part of a per-span query's trace merges into it */
		want = s->xq->per_span;
	else if (r->n_traces >= s->o.limit && !s->xq->most_recent)
		want = false;
	pthread_mutex_unlock(&s->mu);
	return want;
}

static void count_page(struct scan *s, const struct job *j)
{
	const struct block_page_info *pi = block_page(j->blk, j->page);
	atomic_fetch_add(&s->inspected_traces, pi->traces);
	atomic_fetch_add(&s->inspected_spans, pi->spans);
	atomic_fetch_add(&s->inspected_bytes, j->bytes);
}

/* Search mode over the columnar plan: the page's matching traces found
 * column by column; only those the result may still take are evaluated
 * span by span (for their spansets), from one decode of the page. */
static int run_page_columnar(struct worker *w, const struct job *j)
{
	struct scan *s = w->s;
	const uint8_t *sel;
	uint32_t n_sel;
	int rc;
	if (!w->xw && !(w->xw = excol_worker_new()))
		return CLEW_ENOMEM;
	count_page(s, j);
	rc = excol_eval_page(s->xq->col, w->xw, j->blk, j->page, BLOCK_COLS_TRACES | BLOCK_COLS_TRACE_IDS, &sel,
			     &n_sel);
	if (rc < 0 || n_sel == 0)
		return rc;
	const struct block_cols *c = excol_cols(w->xw);
	uint8_t *cand = try_calloc((size_t)c->traces + 1, 1);
	if (!cand)
		return CLEW_ENOMEM;
	uint32_t n_cand = 0;
	for (uint32_t t = 0; t < c->traces; t++) {
		bool any = false;
		for (uint32_t i = c->trace_first[t]; i < c->trace_first[t + 1] && !any; i++)
			any = sel[i];
		if (any && may_want(s, c->trace_ids + (size_t)t * 16)) {
			cand[t] = 1;
			n_cand++;
		}
	}
	struct span_batch b;
	uint32_t nt = c->traces;
	arena_reset(&w->batch);
	span_batch_init(&b, &w->batch);
	if (n_cand == 0 || (rc = block_read_page(j->blk, j->page, &b)) < 0)
		goto out;
	uint32_t t = 0;
	for (uint32_t i = 0; i < b.n_spans && rc == 0; t++) {
		uint32_t e = i + 1;
		while (e < b.n_spans && memcmp(b.spans[e].trace_id, b.spans[i].trace_id, 16) == 0)
			e++;
		if (t < nt && cand[t] && (rc = check_budget(s)) == 0) {
			arena_reset(&w->scratch);
			rc = eval_one(w, &b, i, e - i, false);
		}
		i = e;
	}
out:
	free(cand);
	return rc;
}

/* The other blocks whose time range meets page j's into w->others: only
 * those may hold another part of one of the page's traces. */
static void page_others(struct worker *w, const struct job *j)
{
	struct scan *s = w->s;
	const struct block_page_info *pi = block_page(j->blk, j->page);
	int64_t end = pi->max_start_ns + (pi->max_dur_ns > 0 ? pi->max_dur_ns : 0);
	w->n_others = 0;
	for (size_t k = 0; k < s->bl.n; k++) {
		const struct store_block *ob = &s->bl.items[k];
		if (ob->block != j->blk && ob->info.spans && ob->info.min_start_ns <= end &&
		    ob->info.max_end_ns >= pi->min_start_ns)
			w->others[w->n_others++] = (uint32_t)k;
	}
}

/* May trace id, whose part in this page spans [start, end], have spans
 * outside the page: in the heads, or in a block whose time range and
 * trace-id filter admit it? False positives only cost a fetch. */
static bool may_live_elsewhere(struct worker *w, const uint8_t id[16], int64_t start, int64_t end)
{
	struct scan *s = w->s;
	if (s->n_head_ids && head_find(s, id) >= 0)
		return true;
	for (uint32_t k = 0; k < w->n_others; k++) {
		const struct store_block *ob = &s->bl.items[w->others[k]];
		if (ob->info.min_start_ns <= end && ob->info.max_end_ns >= start && block_may_contain(ob->block, id))
			return true;
	}
	return false;
}

/* May the part [first, first+n) of b have spans outside the page? */
static bool part_may_live_elsewhere(struct worker *w, const struct span_batch *b, uint32_t first, uint32_t n)
{
	int64_t start = INT64_MAX, end = INT64_MIN;
	if (!w->s->n_head_ids && w->n_others == 0)
		return false;
	for (uint32_t i = first; i < first + n; i++) {
		if (b->spans[i].start_unix_ns < start)
			start = b->spans[i].start_unix_ns;
		if (b->spans[i].end_unix_ns > end)
			end = b->spans[i].end_unix_ns;
	}
	return may_live_elsewhere(w, b->spans[first].trace_id, start, end);
}

/* Keep only the spans of trace id in b (a fetched trace may carry others'
 * resources, never others' spans, but be safe); their count. */
static uint32_t own_spans(struct span_batch *b, const uint8_t id[16])
{
	uint32_t n = 0;
	for (uint32_t i = 0; i < b->n_spans; i++)
		if (memcmp(b->spans[i].trace_id, id, 16) == 0)
			b->spans[n++] = b->spans[i];
	return n;
}

/* A query that needs whole traces evaluates a split trace once, from the
 * part holding its earliest span among the parts the scan evaluates. A
 * part in a page outside the time range is not evaluated, so it cannot own
 * the trace and the next part in span order does (a page pruned by its
 * dictionaries still evaluates its split traces: run_pruned_page). Does
 * the scan evaluate a part of trace id, other than the one in block self
 * (NULL: the heads' part asks), with a span earlier than (start, sid)?
 * 1 yes, 0 no, or an error. Uses w->scratch. */
static int earlier_part_evaluated(struct worker *w, const uint8_t id[16], int64_t start, const uint8_t sid[8],
				  const struct block *self)
{
	struct scan *s = w->s;
	int rc = 0;
	if (self) {
		int64_t h = s->n_head_ids ? head_find(s, id) : -1;
		const struct head_part *hp = h >= 0 ? &s->head_parts[h] : NULL;
		if (hp && hp->in_range && key_less(hp->min_start_ns, hp->min_span_id, start, sid))
			return 1;
	}
	for (size_t k = 0; k < s->bl.n && rc == 0; k++) {
		const struct store_block *ob = &s->bl.items[k];
		if (ob->block == self || !ob->info.spans || block_pruned(s, &ob->info) ||
		    ob->info.min_start_ns > start || block_may_contain(ob->block, id) <= 0)
			continue;
		uint32_t p = block_page_of_trace(ob->block, id);
		if (p == UINT32_MAX || page_out_of_range(s, block_page(ob->block, p)))
			continue;
		struct span_batch pb;
		arena_reset(&w->scratch);
		span_batch_init(&pb, &w->scratch);
		if ((rc = block_get_trace(ob->block, id, &pb)) == CLEW_ENOTFOUND) {
			rc = 0;
			continue;
		}
		uint32_t m = rc == 0 ? own_spans(&pb, id) : 0;
		const struct span *e = m ? earliest_span(&pb, 0, m) : NULL;
		if (e && key_less(e->start_unix_ns, e->span_id, start, sid))
			rc = 1;
	}
	arena_reset(&w->scratch);
	return rc;
}

/* A part [first, first+n) of b (page j) of a trace that may live
 * elsewhere, for a query that needs whole traces: evaluate the whole trace
 * if this part holds its earliest span (ties: the smallest span id) among
 * the parts the scan evaluates, else leave it to the part that does. */
static int eval_whole(struct worker *w, const struct job *j, const struct span_batch *b, uint32_t first, uint32_t n)
{
	struct scan *s = w->s;
	const struct span *pe = earliest_span(b, first, n);
	uint8_t id[16];
	memcpy(id, b->spans[first].trace_id, 16);
	atomic_fetch_add(&s->inspected_traces, 1);
	atomic_fetch_add(&s->inspected_spans, n);
	struct span_batch wb;
	arena_reset(&w->whole);
	span_batch_init(&wb, &w->whole);
	int rc = s->ops->get_trace(s->impl, id, &wb);
	if (rc == CLEW_ENOTFOUND)
		return eval_one(w, b, first, n, false); /* replaced meanwhile: this part is all there is */
	if (rc < 0)
		return rc;
	uint32_t m = own_spans(&wb, id);
	if (m == 0)
		return eval_one(w, b, first, n, false);
	const struct span *we = earliest_span(&wb, 0, m);
	if (we->start_unix_ns != pe->start_unix_ns || memcmp(we->span_id, pe->span_id, 8) != 0) {
		int64_t start = pe->start_unix_ns;
		uint8_t sid[8];
		memcpy(sid, pe->span_id, 8); /* pe is in w->batch, which earlier_part_evaluated leaves alone */
		if ((rc = earlier_part_evaluated(w, id, start, sid, j->blk)) != 0)
			return rc < 0 ? rc : 0; /* another part owns the trace */
	}
	return eval_one(w, &wb, 0, m, false);
}

static int cmp_span_id(const void *x, const void *y)
{
	return memcmp(x, y, 8);
}

/* A per-span query over a head trace b[0, *n) that also has spans in
 * blocks: drop the spans the blocks hold (their pages answer for them). */
static int keep_head_spans(struct worker *w, struct span_batch *b, uint32_t *n)
{
	struct scan *s = w->s;
	const uint8_t *id = b->spans[0].trace_id;
	int64_t start = INT64_MAX, end = INT64_MIN;
	for (uint32_t i = 0; i < *n; i++) {
		if (b->spans[i].start_unix_ns < start)
			start = b->spans[i].start_unix_ns;
		if (b->spans[i].end_unix_ns > end)
			end = b->spans[i].end_unix_ns;
	}
	struct span_batch bb;
	arena_reset(&w->whole);
	span_batch_init(&bb, &w->whole);
	for (size_t k = 0; k < s->bl.n; k++) {
		const struct store_block *ob = &s->bl.items[k];
		if (ob->info.min_start_ns > end || ob->info.max_end_ns < start || !block_may_contain(ob->block, id))
			continue;
		int rc = block_get_trace(ob->block, id, &bb);
		if (rc < 0 && rc != CLEW_ENOTFOUND)
			return rc;
	}
	uint8_t (*ids)[8] = arena_array(&w->whole, (size_t)bb.n_spans + 1, 8);
	if (!ids)
		return CLEW_ENOMEM;
	uint32_t nid = 0;
	for (uint32_t i = 0; i < bb.n_spans; i++)
		if (memcmp(bb.spans[i].trace_id, id, 16) == 0)
			memcpy(ids[nid++], bb.spans[i].span_id, 8);
	if (nid > 1)
		qsort(ids, nid, 8, cmp_span_id);
	uint32_t m = 0;
	for (uint32_t i = 0; i < *n; i++)
		if (!nid || !bsearch(b->spans[i].span_id, ids, nid, 8, cmp_span_id))
			b->spans[m++] = b->spans[i];
	*n = m;
	return 0;
}

/* A page whose dictionaries lack a term the query requires, for a query
 * that needs whole traces: none of its traces wholly in the page can
 * match, but a trace split over blocks or the heads may have the value in
 * another part, so the page's traces that may live elsewhere are fetched
 * and evaluated whole by eval_whole (when this part owns them). */
static int run_pruned_page(struct worker *w, const struct job *j)
{
	struct scan *s = w->s;
	const struct block_page_info *pi = block_page(j->blk, j->page);
	uint8_t *ids = NULL;
	size_t len = 0;
	int rc;
	page_others(w, j);
	if (!s->n_head_ids && w->n_others == 0)
		return 0;
	if ((rc = block_read_column(j->blk, j->page, BCOL_TRACE_ID, &ids, &len)) < 0)
		return rc;
	int64_t end = pi->max_start_ns + (pi->max_dur_ns > 0 ? pi->max_dur_ns : 0);
	for (size_t k = 0; k + 16 <= len && rc == 0; k += 16) {
		if (!may_live_elsewhere(w, ids + k, pi->min_start_ns, end) || (rc = check_budget(s)) != 0)
			continue;
		struct span_batch b;
		arena_reset(&w->batch);
		span_batch_init(&b, &w->batch);
		if ((rc = block_get_trace(j->blk, ids + k, &b)) < 0) {
			rc = rc == CLEW_ENOTFOUND ? 0 : rc;
			continue;
		}
		uint32_t n = own_spans(&b, ids + k);
		arena_reset(&w->scratch);
		if (n)
			rc = eval_whole(w, j, &b, 0, n);
	}
	free(ids);
	return rc;
}

static int run_page(struct worker *w, const struct job *j)
{
	struct scan *s = w->s;
	int rc;
	if (page_out_of_range(s, block_page(j->blk, j->page))) {
		atomic_fetch_add(&s->pruned, 1);
		return 0;
	}
	if (page_lacks_terms(s, j->blk, j->page, &rc)) {
		if (rc < 0)
			return rc;
		atomic_fetch_add(&s->pruned, 1);
		return s->xq->per_span ? 0 : run_pruned_page(w, j);
	}
	if (s->page) {
		if ((rc = s->page(s->page_ctx, w->idx, j->blk, j->page)) != 1) {
			if (rc == 0)
				count_page(s, j);
			return rc;
		}
	} else if (s->xq->col && s->res) {
		return run_page_columnar(w, j);
	}
	struct span_batch b;
	arena_reset(&w->batch);
	span_batch_init(&b, &w->batch);
	if ((rc = block_read_page(j->blk, j->page, &b)) < 0)
		return rc;
	atomic_fetch_add(&s->inspected_bytes, j->bytes);
	bool whole = !s->xq->per_span; /* the query needs whole traces */
	if (whole)
		page_others(w, j);
	for (uint32_t i = 0; i < b.n_spans;) {
		uint32_t e = i + 1;
		while (e < b.n_spans && memcmp(b.spans[e].trace_id, b.spans[i].trace_id, 16) == 0)
			e++;
		if ((rc = check_budget(s)) != 0)
			return rc;
		arena_reset(&w->scratch);
		if (whole && part_may_live_elsewhere(w, &b, i, e - i))
			rc = eval_whole(w, j, &b, i, e - i);
		else
			rc = eval_one(w, &b, i, e - i, true);
		if (rc != 0)
			return rc;
		i = e;
	}
	return 0;
}

static int run_head_trace(struct worker *w, size_t h)
{
	struct scan *s = w->s;
	const uint8_t *id = s->head_ids[h];
	const struct head_part *hp = &s->head_parts[h];
	struct span_batch b;
	if (!hp->in_range)
		return 0;
	arena_reset(&w->batch);
	arena_reset(&w->scratch);
	span_batch_init(&b, &w->batch);
	int rc = s->ops->get_trace(s->impl, id, &b);
	if (rc == CLEW_ENOTFOUND)
		return 0; /* flushed and expired meanwhile */
	if (rc < 0)
		return rc;
	uint32_t n = own_spans(&b, id); /* a merged trace holds only its own spans; keep them together */
	if (n > hp->spans) { /* some spans are in blocks too */
		if (s->xq->per_span) {
			if ((rc = keep_head_spans(w, &b, &n)) < 0)
				return rc;
		} else {
			const struct span *we = earliest_span(&b, 0, n);
			if ((we->start_unix_ns != hp->min_start_ns || memcmp(we->span_id, hp->min_span_id, 8) != 0) &&
			    (rc = earlier_part_evaluated(w, id, hp->min_start_ns, hp->min_span_id, NULL)) != 0)
				return rc < 0 ? rc : 0; /* a part in a block owns the trace */
		}
	}
	return n ? eval_one(w, &b, 0, n, true) : 0;
}

/* Search mode, per-span queries: the parts of a split trace were merged
 * into its result, but only the parts that matched; the trace's root, times
 * and service figures need every part. Re-evaluate each result trace that
 * more than one place may hold on the whole trace (at most limit fetches;
 * a Bloom false positive costs one). */
static int whole_results(struct worker *w)
{
	struct scan *s = w->s;
	int rc = 0;
	for (size_t k = 0; k < s->res->n_traces && rc >= 0; k++) {
		struct exec_trace *tr = &s->res->traces[k];
		uint32_t holders = head_find(s, tr->trace_id) >= 0;
		for (size_t i = 0; i < s->bl.n && holders < 2; i++)
			holders += block_may_contain(s->bl.items[i].block, tr->trace_id) > 0;
		if (holders < 2)
			continue;
		struct span_batch b;
		arena_reset(&w->batch);
		arena_reset(&w->scratch);
		span_batch_init(&b, &w->batch);
		if ((rc = s->ops->get_trace(s->impl, tr->trace_id, &b)) < 0) {
			rc = rc == CLEW_ENOTFOUND ? 0 : rc;
			continue;
		}
		uint32_t n = own_spans(&b, tr->trace_id);
		struct exec_trace whole;
		rc = n ? exec_eval_trace(s->xq, &b, 0, n, &w->scratch, &w->out, s->o.spss, &whole) : 0;
		if (rc > 0)
			*tr = whole;
	}
	return rc < 0 ? rc : 0;
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	struct scan *s = w->s;
	int rc = 0;
	while (rc == 0 && !atomic_load(&s->stop)) {
		size_t h = atomic_fetch_add(&s->next_head, 1);
		if (h >= s->n_head_ids)
			break;
		if ((rc = check_budget(s)) == 0)
			rc = run_head_trace(w, h);
	}
	while (rc == 0 && !atomic_load(&s->stop)) {
		size_t k = atomic_fetch_add(&s->next_job, 1);
		if (k >= s->n_jobs)
			break;
		if ((rc = check_budget(s)) == 0)
			rc = run_page(w, &s->jobs[k]);
		atomic_fetch_add(&s->completed, 1);
	}
	if (rc < 0)
		fail(s, rc == CLEW_ENOMEM ? CLEW_ELIMIT : rc);
	else if (rc > 0)
		atomic_store(&s->stop, 1);
	return NULL;
}

static int cmp_block_newest(const void *x, const void *y)
{
	const struct store_block *a = x, *b = y;
	return (a->info.max_start_ns < b->info.max_start_ns) - (a->info.max_start_ns > b->info.max_start_ns);
}

static int scan_run(struct scan *s, struct exec_result *fig)
{
	struct store_block_list bl = {0};
	int rc;
	if (s->o.spss == 0)
		s->o.spss = EXEC_DEFAULT_SPSS;
	if (s->o.limit == 0)
		s->o.limit = EXEC_DEFAULT_LIMIT;
	if (s->o.mem_bytes == 0)
		s->o.mem_bytes = EXEC_DEFAULT_MEM_BYTES;
	if (s->o.time_ns <= 0)
		s->o.time_ns = EXEC_DEFAULT_TIME_NS;
	s->deadline = clock_mono_ns() + s->o.time_ns;
	pthread_mutex_init(&s->mu, NULL);
	if ((rc = s->ops->scan_heads(s->impl, head_collect, s)) < 0)
		goto out;
	if ((rc = s->ops->list_blocks(s->impl, &bl)) < 0)
		goto out;
	if (bl.n > 1) /* items is NULL when there are no blocks */
		qsort(bl.items, bl.n, sizeof *bl.items, cmp_block_newest);
	s->bl = bl;
	size_t n_pages = 0;
	for (size_t k = 0; k < bl.n; k++)
		n_pages += bl.items[k].info.pages;
	s->jobs = try_malloc((n_pages + 1) * sizeof *s->jobs);
	if (!s->jobs) {
		rc = CLEW_ENOMEM;
		goto out;
	}
	for (size_t k = 0; k < bl.n; k++) {
		const struct block_info *bi = &bl.items[k].info;
		if (block_pruned(s, bi))
			continue;
		for (uint32_t p = 0; p < bi->pages; p++) {
			if (s->o.max_pages && s->n_jobs >= s->o.max_pages)
				break;
			s->jobs[s->n_jobs++] = (struct job){bl.items[k].block, p, bi->pages ? bi->file_bytes / bi->pages : 0};
		}
	}
	if (fig) {
		fig->total_blocks = bl.n;
		fig->total_jobs = s->n_jobs + 1;
	}
	long cores = sysconf(_SC_NPROCESSORS_ONLN);
	uint32_t nt = s->o.threads ? s->o.threads : (cores > 0 ? (uint32_t)cores : 1);
	if (nt > EXEC_MAX_THREADS)
		nt = EXEC_MAX_THREADS;
	size_t work = s->n_jobs + s->n_head_ids;
	if (nt > work)
		nt = work ? (uint32_t)work : 1;
	s->worker_bytes = s->o.mem_bytes / (nt + 1);
	struct worker *ws = xcalloc(nt, sizeof *ws);
	pthread_t *th = xcalloc(nt, sizeof *th);
	for (uint32_t k = 0; k < nt; k++) {
		ws[k].s = s;
		ws[k].idx = k;
		arena_init(&ws[k].batch, s->worker_bytes / 8 * 3);
		arena_init(&ws[k].whole, s->worker_bytes / 8);
		arena_init(&ws[k].scratch, s->worker_bytes / 4);
		arena_init(&ws[k].out, s->worker_bytes / 4);
		if (!(ws[k].others = try_malloc((bl.n + 1) * sizeof *ws[k].others)))
			fail(s, CLEW_ENOMEM);
	}
	uint32_t started = 0;
	for (uint32_t k = 1; k < nt; k++)
		if (pthread_create(&th[k], NULL, worker_main, &ws[k]) == 0)
			started = k;
		else
			break;
	worker_main(&ws[0]);
	for (uint32_t k = 1; k <= started; k++)
		pthread_join(th[k], NULL);
	if (s->res && s->xq->per_span && (s->bl.n > 1 || (s->bl.n && s->n_head_ids)) && s->rc == 0 &&
	    (rc = whole_results(&ws[0])) < 0)
		fail(s, rc == CLEW_ENOMEM ? CLEW_ELIMIT : rc);
	for (uint32_t k = 0; k < nt; k++) {
		excol_worker_free(ws[k].xw);
		free(ws[k].others);
		arena_reset(&ws[k].batch);
		arena_reset(&ws[k].whole);
		arena_reset(&ws[k].scratch);
		if (s->res) { /* the results point into the out arenas: the result keeps them */
			struct arena *keep = xmalloc(sizeof *keep);
			*keep = ws[k].out;
			void **p = arena_alloc(&s->res->arena, sizeof(void *) * 2);
			if (p) {
				p[0] = keep;
				p[1] = s->res->keep;
				s->res->keep = p;
			} else {
				arena_reset(keep);
				free(keep);
			}
		} else {
			arena_reset(&ws[k].out);
		}
	}
	free(ws);
	free(th);
	rc = s->rc;
out:
	if (fig) {
		fig->inspected_traces = atomic_load(&s->inspected_traces);
		fig->inspected_spans = atomic_load(&s->inspected_spans);
		fig->inspected_bytes = atomic_load(&s->inspected_bytes);
		fig->completed_jobs = atomic_load(&s->completed) + 1;
		fig->pruned_pages = atomic_load(&s->pruned);
		if (!fig->total_jobs)
			fig->total_jobs = 1;
	}
	if (bl.items)
		s->ops->release_blocks(&bl);
	free(s->jobs);
	free(s->head_ids);
	free(s->head_parts);
	free(s->head_tab);
	pthread_mutex_destroy(&s->mu);
	return rc;
}

int exec_scan_pages(const struct store_query_ops *ops, void *impl, struct exec_query *xq,
		    const struct exec_options *o, exec_visit_fn visit, void *ctx, exec_page_fn page, void *page_ctx,
		    struct exec_result *figures)
{
	struct scan *s = xcalloc(1, sizeof *s);
	s->ops = ops;
	s->impl = impl;
	s->xq = xq;
	s->o = *o;
	s->visit = visit;
	s->ctx = ctx;
	s->page = page;
	s->page_ctx = page_ctx;
	int rc = scan_run(s, figures);
	free(s);
	return rc;
}

int exec_scan(const struct store_query_ops *ops, void *impl, struct exec_query *xq, const struct exec_options *o,
	      exec_visit_fn visit, void *ctx, struct exec_result *figures)
{
	return exec_scan_pages(ops, impl, xq, o, visit, ctx, NULL, NULL, figures);
}

int exec_scan_workers_pages(const struct store_query_ops *ops, void *impl, struct exec_query *xq,
			    const struct exec_options *o, exec_visit_worker_fn visit, void *ctx,
			    int (*page)(void *page_ctx, uint32_t worker, struct block *blk, uint32_t page),
			    void *page_ctx, struct exec_result *figures)
{
	struct scan *s = xcalloc(1, sizeof *s);
	s->ops = ops;
	s->impl = impl;
	s->xq = xq;
	s->o = *o;
	s->visit_w = visit;
	s->ctx = ctx;
	s->page = page;
	s->page_ctx = page_ctx;
	int rc = scan_run(s, figures);
	free(s);
	return rc;
}

int exec_scan_workers(const struct store_query_ops *ops, void *impl, struct exec_query *xq,
		      const struct exec_options *o, exec_visit_worker_fn visit, void *ctx, struct exec_result *figures)
{
	return exec_scan_workers_pages(ops, impl, xq, o, visit, ctx, NULL, NULL, figures);
}

static int cmp_trace_newest(const void *x, const void *y)
{
	const struct exec_trace *a = x, *b = y;
	return (a->start_unix_ns < b->start_unix_ns) - (a->start_unix_ns > b->start_unix_ns);
}

int exec_search(const struct store_query_ops *ops, void *impl, struct exec_query *xq,
		const struct exec_options *o, struct exec_result *res)
{
	memset(res, 0, sizeof *res);
	arena_init(&res->arena, 0);
	struct scan *s = xcalloc(1, sizeof *s);
	s->ops = ops;
	s->impl = impl;
	s->xq = xq;
	s->o = *o;
	s->res = res;
	int rc = scan_run(s, res);
	free(s);
	if (res->n_traces > 1)
		qsort(res->traces, res->n_traces, sizeof *res->traces, cmp_trace_newest);
	return rc;
}

void exec_result_free(struct exec_result *res)
{
	for (void **p = res->keep; p; p = p[1]) {
		struct arena *a = p[0];
		arena_reset(a);
		free(a);
	}
	res->keep = NULL;
	free(res->traces);
	res->traces = NULL;
	res->n_traces = 0;
	arena_reset(&res->arena);
}

int exec_field_values(const struct tql_node *const *fields, uint32_t n_fields, const struct span_batch *b,
		      uint32_t first, uint32_t n, const uint32_t *idx, uint32_t n_idx, struct arena *scratch,
		      struct exec_value *out)
{
	static const struct exec_query none;
	struct exec_trace_ctx t;
	int rc = exec_trace_init(&t, &none, b, first, n, scratch);
	if (rc < 0)
		return rc;
	for (uint32_t k = 0; k < n_idx; k++) {
		for (uint32_t f = 0; f < n_fields; f++) {
			struct exec_value *o = &out[(size_t)k * n_fields + f];
			o->type = TQL_T_NIL;
			if (idx[k] >= first && idx[k] - first < n)
				exec_eval(&t, idx[k] - first, fields[f], o);
		}
	}
	return t.oom ? CLEW_ENOMEM : 0;
}
