/* Spansets over one trace: filters, the spanset operators (&&, ||, and the
 * structural relations > < >> << ~ with their negated and union forms, from
 * the trace's parent index), pipeline stages (by, coalesce, select,
 * aggregates with comparisons) and the scalar query form, then the result of
 * a matching trace copied out (spans, by() values, service figures). */
#include <math.h>
#include <string.h>

#include "base/buf.h"
#include "base/err.h"
#include "query/exec_int.h"

struct ss {
	uint32_t *idx; /* local span indexes, ascending */
	uint32_t n;
	struct attr *attrs; /* by() values, aggregate results: in scratch */
	uint32_t n_attrs;
	const struct tql_node **sel;
	uint32_t n_sel;
};

struct sets {
	struct ss *v;
	uint32_t n, cap;
};

#define NOMEM(t) ((t)->oom = true, CLEW_ENOMEM)

static int push(struct exec_trace_ctx *t, struct sets *s, const struct ss *x)
{
	if (s->n == s->cap) {
		uint32_t cap = s->cap ? s->cap * 2 : 4;
		struct ss *v = arena_grow(t->scratch, s->v, s->n, cap, sizeof *v);
		if (!v)
			return NOMEM(t);
		s->v = v;
		s->cap = cap;
	}
	s->v[s->n++] = *x;
	return 0;
}

static int add_attr(struct exec_trace_ctx *t, struct ss *x, struct slice key, const struct exec_value *v)
{
	struct attr *a = arena_grow(t->scratch, x->attrs, x->n_attrs, x->n_attrs + 1, sizeof *a);
	if (!a)
		return NOMEM(t);
	x->attrs = a;
	a[x->n_attrs].key = key;
	if (!exec_value_to_any(v, t->scratch, &a[x->n_attrs].value))
		a[x->n_attrs].value.type = ANY_EMPTY;
	x->n_attrs++;
	return 0;
}

/* The text of node n as a label ("by(resource.x)", "count()"). */
static struct slice label(struct exec_trace_ctx *t, const char *pre, const struct tql_node *n, const char *post)
{
	struct buf b;
	buf_init(&b, 4096);
	buf_append_cstr(&b, pre);
	tql_format_node(n, &b);
	buf_append_cstr(&b, post);
	struct slice s = {(const uint8_t *)"", 0};
	if (!b.err) {
		void *p = arena_memdup(t->scratch, b.p, b.len);
		if (p)
			s = slice_make(p, b.len);
	}
	buf_free(&b);
	return s;
}

static uint8_t *bitmap(struct exec_trace_ctx *t)
{
	uint8_t *m = arena_zalloc(t->scratch, t->n + 1);
	if (!m)
		t->oom = true;
	return m;
}

static int from_bitmap(struct exec_trace_ctx *t, const uint8_t *m, const struct ss *like, struct sets *out)
{
	uint32_t c = 0;
	for (uint32_t i = 0; i < t->n; i++)
		c += m[i] != 0;
	if (c == 0)
		return 0;
	struct ss x = *like;
	x.idx = arena_alloc(t->scratch, (size_t)c * sizeof *x.idx);
	if (!x.idx)
		return NOMEM(t);
	x.n = 0;
	for (uint32_t i = 0; i < t->n; i++)
		if (m[i])
			x.idx[x.n++] = i;
	return push(t, out, &x);
}

static int eval_sets(struct exec_trace_ctx *t, const struct tql_node *nd, const struct sets *in, struct sets *out);

static int filter(struct exec_trace_ctx *t, const struct tql_node *nd, const struct sets *in, struct sets *out)
{
	const struct tql_node *c = nd->a;
	bool all = c->kind == TQL_N_STATIC && c->u.val.type == TQL_T_BOOL && c->u.val.u.b;
	unsigned binds = all ? 0 : exec_binds(c);
	for (uint32_t k = 0; k < in->n; k++) {
		const struct ss *s = &in->v[k];
		if (all) {
			if (s->n && push(t, out, s) < 0)
				return CLEW_ENOMEM;
			continue;
		}
		struct ss x = *s;
		x.idx = arena_alloc(t->scratch, (size_t)s->n * sizeof *x.idx + 1);
		if (!x.idx)
			return NOMEM(t);
		x.n = 0;
		for (uint32_t j = 0; j < s->n; j++)
			if (exec_cond(t, s->idx[j], c, binds))
				x.idx[x.n++] = s->idx[j];
		if (t->oom)
			return CLEW_ENOMEM;
		if (x.n && push(t, out, &x) < 0)
			return CLEW_ENOMEM;
	}
	return 0;
}

static void mark_all(const struct sets *s, uint8_t *m)
{
	for (uint32_t k = 0; k < s->n; k++)
		for (uint32_t j = 0; j < s->v[k].n; j++)
			m[s->v[k].idx[j]] = 1;
}

/* Spans of R in relation op with some span of L, into res (1 = in). */
static int relate(struct exec_trace_ctx *t, enum tql_op op, const uint8_t *L, const uint8_t *R, uint8_t *res)
{
	uint32_t n = t->n;
	if (exec_build_parents(t) < 0)
		return CLEW_ENOMEM;
	const int32_t *par = t->parent;
	if (op == TQL_OP_SS_CHILD) {
		for (uint32_t i = 0; i < n; i++)
			res[i] = R[i] && par[i] >= 0 && L[par[i]];
	} else if (op == TQL_OP_SS_PARENT) {
		for (uint32_t i = 0; i < n; i++)
			if (L[i] && par[i] >= 0 && R[par[i]])
				res[par[i]] = 1;
	} else if (op == TQL_OP_SS_DESC) {
		for (uint32_t i = 0; i < n; i++) {
			if (!R[i])
				continue;
			uint32_t steps = 0;
			for (int32_t p = par[i]; p >= 0 && steps < n; p = par[p], steps++)
				if (L[p]) {
					res[i] = 1;
					break;
				}
		}
	} else if (op == TQL_OP_SS_ANCE) {
		uint8_t *anc = bitmap(t);
		if (!anc)
			return CLEW_ENOMEM;
		for (uint32_t i = 0; i < n; i++) {
			if (!L[i])
				continue;
			uint32_t steps = 0;
			for (int32_t p = par[i]; p >= 0 && steps < n && !anc[p]; p = par[p], steps++)
				anc[p] = 1;
		}
		for (uint32_t i = 0; i < n; i++)
			res[i] = R[i] && anc[i];
	} else { /* siblings: same parent, another span */
		uint32_t *lc = arena_zalloc(t->scratch, (size_t)n * sizeof *lc + 1);
		if (!lc)
			return NOMEM(t);
		for (uint32_t i = 0; i < n; i++)
			if (L[i] && par[i] >= 0)
				lc[par[i]]++;
		for (uint32_t i = 0; i < n; i++)
			res[i] = R[i] && par[i] >= 0 && lc[par[i]] > (uint32_t)(L[i] ? 1 : 0);
	}
	return 0;
}

static enum tql_op base_rel(enum tql_op op, int *neg, int *uni)
{
	*neg = *uni = 0;
	switch (op) {
	case TQL_OP_SS_NOT_CHILD:
	case TQL_OP_SS_NOT_PARENT:
	case TQL_OP_SS_NOT_DESC:
	case TQL_OP_SS_NOT_ANCE:
	case TQL_OP_SS_NOT_SIBL:
		*neg = 1;
		return (enum tql_op)(op - TQL_OP_SS_NOT_CHILD + TQL_OP_SS_CHILD);
	case TQL_OP_SS_UNION_CHILD:
	case TQL_OP_SS_UNION_PARENT:
	case TQL_OP_SS_UNION_DESC:
	case TQL_OP_SS_UNION_ANCE:
	case TQL_OP_SS_UNION_SIBL:
		*uni = 1;
		return (enum tql_op)(op - TQL_OP_SS_UNION_CHILD + TQL_OP_SS_CHILD);
	default:
		return op;
	}
}

static enum tql_op converse(enum tql_op op)
{
	switch (op) {
	case TQL_OP_SS_CHILD:
		return TQL_OP_SS_PARENT;
	case TQL_OP_SS_PARENT:
		return TQL_OP_SS_CHILD;
	case TQL_OP_SS_DESC:
		return TQL_OP_SS_ANCE;
	case TQL_OP_SS_ANCE:
		return TQL_OP_SS_DESC;
	default:
		return op;
	}
}

static int spanset_op(struct exec_trace_ctx *t, const struct tql_node *nd, const struct sets *in, struct sets *out)
{
	int rc;
	for (uint32_t k = 0; k < in->n; k++) {
		struct sets one = {(struct ss *)&in->v[k], 1, 1}, l = {0}, r = {0};
		if ((rc = eval_sets(t, nd->a, &one, &l)) < 0 || (rc = eval_sets(t, nd->b, &one, &r)) < 0)
			return rc;
		uint8_t *L = bitmap(t), *R = bitmap(t), *res = bitmap(t);
		if (!L || !R || !res)
			return CLEW_ENOMEM;
		mark_all(&l, L);
		mark_all(&r, R);
		struct ss like = in->v[k];
		if (nd->op == TQL_OP_SS_AND || nd->op == TQL_OP_SS_UNION) {
			if (nd->op == TQL_OP_SS_AND && (l.n == 0 || r.n == 0))
				continue;
			for (uint32_t i = 0; i < t->n; i++)
				res[i] = L[i] | R[i];
		} else {
			int neg, uni;
			enum tql_op rel = base_rel(nd->op, &neg, &uni);
			if ((rc = relate(t, rel, L, R, res)) < 0)
				return rc;
			if (neg) {
				for (uint32_t i = 0; i < t->n; i++)
					res[i] = R[i] && !res[i];
			} else if (uni) {
				uint8_t *back = bitmap(t);
				if (!back || (rc = relate(t, converse(rel), R, L, back)) < 0)
					return CLEW_ENOMEM;
				bool any = false;
				for (uint32_t i = 0; i < t->n; i++)
					any |= res[i] != 0;
				for (uint32_t i = 0; i < t->n && any; i++)
					res[i] |= back[i];
			}
		}
		if ((rc = from_bitmap(t, res, &like, out)) < 0)
			return rc;
	}
	return 0;
}

static bool value_eq(const struct exec_value *a, const struct exec_value *b)
{
	if (a->type != b->type)
		return false;
	switch (a->type) {
	case TQL_T_NIL:
	case TQL_T_UNKNOWN:
		return true;
	case TQL_T_STRING:
		return slice_eq(a->u.s, b->u.s);
	case TQL_T_BOOL:
		return a->u.b == b->u.b;
	case TQL_T_FLOAT:
		return a->u.f == b->u.f || (isnan(a->u.f) && isnan(b->u.f));
	default:
		return a->u.i == b->u.i;
	}
}

static int group_by(struct exec_trace_ctx *t, const struct tql_node *nd, const struct sets *in, struct sets *out)
{
	struct slice key = label(t, "by(", nd->a, ")");
	for (uint32_t k = 0; k < in->n; k++) {
		const struct ss *s = &in->v[k];
		struct exec_value *vals = arena_alloc(t->scratch, (size_t)s->n * sizeof *vals + 1);
		uint32_t *grp = arena_alloc(t->scratch, (size_t)s->n * sizeof *grp + 1);
		uint32_t *firsts = arena_alloc(t->scratch, (size_t)s->n * sizeof *firsts + 1);
		if (!vals || !grp || !firsts)
			return NOMEM(t);
		uint32_t ng = 0;
		for (uint32_t j = 0; j < s->n; j++) {
			exec_eval(t, s->idx[j], nd->a, &vals[j]);
			uint32_t g = 0;
			while (g < ng && !value_eq(&vals[firsts[g]], &vals[j]))
				g++;
			if (g == ng)
				firsts[ng++] = j;
			grp[j] = g;
		}
		for (uint32_t g = 0; g < ng; g++) {
			struct ss x = *s;
			x.idx = arena_alloc(t->scratch, (size_t)s->n * sizeof *x.idx);
			if (!x.idx)
				return NOMEM(t);
			x.n = 0;
			for (uint32_t j = 0; j < s->n; j++)
				if (grp[j] == g)
					x.idx[x.n++] = s->idx[j];
			x.attrs = NULL;
			x.n_attrs = 0;
			for (uint32_t a = 0; a < s->n_attrs; a++)
				if (add_attr(t, &x, s->attrs[a].key, &(struct exec_value){.type = TQL_T_NIL}) < 0)
					return CLEW_ENOMEM;
			if (s->n_attrs)
				memcpy(x.attrs, s->attrs, s->n_attrs * sizeof *x.attrs);
			if (add_attr(t, &x, key, &vals[firsts[g]]) < 0 || push(t, out, &x) < 0)
				return CLEW_ENOMEM;
		}
	}
	return t->oom ? CLEW_ENOMEM : 0;
}

static void aggregate(struct exec_trace_ctx *t, const struct tql_node *nd, const struct ss *s, struct exec_value *out)
{
	out->type = TQL_T_NIL;
	if (nd->u.agg == TQL_AGG_COUNT) {
		out->type = TQL_T_INT;
		out->u.i = s->n;
		return;
	}
	double sum = 0, best = 0;
	uint32_t cnt = 0;
	bool all_int = true, all_dur = true;
	struct exec_value bestv = {.type = TQL_T_NIL};
	for (uint32_t j = 0; j < s->n; j++) {
		struct exec_value v;
		double x;
		exec_eval(t, s->idx[j], nd->a, &v);
		if (!exec_value_num(&v, &x))
			continue;
		all_int &= v.type != TQL_T_FLOAT;
		all_dur &= v.type == TQL_T_DURATION;
		if (cnt == 0 || (nd->u.agg == TQL_AGG_MIN && x < best) || (nd->u.agg == TQL_AGG_MAX && x > best)) {
			best = x;
			bestv = v;
		}
		sum += x;
		cnt++;
	}
	if (cnt == 0)
		return;
	switch (nd->u.agg) {
	case TQL_AGG_MIN:
	case TQL_AGG_MAX:
		*out = bestv;
		break;
	case TQL_AGG_SUM:
		if (all_int) {
			out->type = all_dur ? TQL_T_DURATION : TQL_T_INT;
			out->u.i = (int64_t)sum;
		} else {
			out->type = TQL_T_FLOAT;
			out->u.f = sum;
		}
		break;
	default: /* avg */
		if (all_dur) {
			out->type = TQL_T_DURATION;
			out->u.i = (int64_t)llround(sum / cnt);
		} else {
			out->type = TQL_T_FLOAT;
			out->u.f = sum / cnt;
		}
		break;
	}
}

/* A scalar expression over spanset s: aggregates, literals, arithmetic.
 * Aggregate results are recorded on x as attributes. */
static void scalar(struct exec_trace_ctx *t, const struct tql_node *nd, const struct ss *s, struct ss *x,
		   struct exec_value *out)
{
	if (nd->kind == TQL_N_AGGREGATE) {
		aggregate(t, nd, s, out);
		if (x)
			add_attr(t, x, label(t, "", nd, ""), out);
	} else if (nd->kind == TQL_N_STATIC) {
		exec_eval(t, 0, nd, out);
	} else if (nd->kind == TQL_N_BINARY) {
		struct exec_value a, b;
		scalar(t, nd->a, s, x, &a);
		scalar(t, nd->b, s, x, &b);
		exec_arith(nd->op, &a, &b, out);
	} else if (nd->kind == TQL_N_UNARY && nd->op == TQL_OP_NEG) {
		struct exec_value a, z = {.type = TQL_T_INT};
		scalar(t, nd->a, s, x, &a);
		exec_arith(TQL_OP_SUB, &z, &a, out);
	} else {
		out->type = TQL_T_NIL;
	}
}

static int scalar_filter(struct exec_trace_ctx *t, const struct tql_node *nd, const struct sets *in, struct sets *out)
{
	for (uint32_t k = 0; k < in->n; k++) {
		struct ss x = in->v[k];
		struct exec_value a, b;
		if (x.n_attrs) { /* our own copy of the attribute list */
			struct attr *c = arena_memdup(t->scratch, x.attrs, x.n_attrs * sizeof *c);
			if (!c)
				return NOMEM(t);
			x.attrs = c;
		}
		if (nd->kind == TQL_N_SCALAR_FILTER) {
			scalar(t, nd->a, &in->v[k], &x, &a);
			scalar(t, nd->b, &in->v[k], &x, &b);
			if (!exec_compare(nd->op, &a, &b, false))
				continue;
		} else {
			scalar(t, nd, &in->v[k], &x, &a);
		}
		if (t->oom || push(t, out, &x) < 0)
			return CLEW_ENOMEM;
	}
	return 0;
}

static int eval_sets(struct exec_trace_ctx *t, const struct tql_node *nd, const struct sets *in, struct sets *out)
{
	int rc;
	switch (nd->kind) {
	case TQL_N_FILTER:
		return filter(t, nd, in, out);
	case TQL_N_SPANSET_OP:
		return spanset_op(t, nd, in, out);
	case TQL_N_PIPELINE: {
		struct sets cur = *in;
		for (uint32_t k = 0; k < nd->n_items; k++) {
			struct sets next = {0};
			if ((rc = eval_sets(t, nd->items[k], &cur, &next)) < 0)
				return rc;
			cur = next;
			if (cur.n == 0)
				break;
		}
		for (uint32_t k = 0; k < cur.n; k++)
			if ((rc = push(t, out, &cur.v[k])) < 0)
				return rc;
		return 0;
	}
	case TQL_N_BY:
		return group_by(t, nd, in, out);
	case TQL_N_COALESCE: {
		uint8_t *m = bitmap(t);
		if (!m)
			return CLEW_ENOMEM;
		mark_all(in, m);
		struct ss like = {0};
		return in->n ? from_bitmap(t, m, &like, out) : 0;
	}
	case TQL_N_SELECT:
		for (uint32_t k = 0; k < in->n; k++) {
			struct ss x = in->v[k];
			const struct tql_node **sel = arena_alloc(t->scratch, (x.n_sel + nd->n_items) * sizeof *sel);
			if (!sel)
				return NOMEM(t);
			if (x.n_sel)
				memcpy(sel, x.sel, x.n_sel * sizeof *sel);
			memcpy(sel + x.n_sel, nd->items, nd->n_items * sizeof *sel);
			x.sel = sel;
			x.n_sel += nd->n_items;
			if ((rc = push(t, out, &x)) < 0)
				return rc;
		}
		return 0;
	case TQL_N_SCALAR_FILTER:
	case TQL_N_AGGREGATE:
		return scalar_filter(t, nd, in, out);
	default:
		return CLEW_EUNSUPPORTED;
	}
}

/* The whole-query scalar form: ({...} | count()) > ({...} | count()). One
 * side's value: a pipeline ending in an aggregate over all it yields. */
static int scalar_side(struct exec_trace_ctx *t, const struct tql_node *nd, const struct sets *all,
		       struct sets *spans, struct exec_value *out)
{
	int rc;
	if (nd->kind == TQL_N_PIPELINE && nd->n_items > 0 &&
	    nd->items[nd->n_items - 1]->kind == TQL_N_AGGREGATE) {
		struct sets cur = *all;
		for (uint32_t k = 0; k + 1 < nd->n_items && cur.n; k++) {
			struct sets next = {0};
			if ((rc = eval_sets(t, nd->items[k], &cur, &next)) < 0)
				return rc;
			cur = next;
		}
		uint8_t *m = bitmap(t);
		if (!m)
			return CLEW_ENOMEM;
		mark_all(&cur, m);
		struct ss like = {0};
		struct sets merged = {0};
		if ((rc = from_bitmap(t, m, &like, &merged)) < 0)
			return rc;
		struct ss empty = {0};
		aggregate(t, nd->items[nd->n_items - 1], merged.n ? &merged.v[0] : &empty, out);
		for (uint32_t k = 0; k < merged.n; k++)
			if ((rc = push(t, spans, &merged.v[k])) < 0)
				return rc;
		return 0;
	}
	if (nd->kind == TQL_N_BINARY) {
		struct exec_value a, b;
		if ((rc = scalar_side(t, nd->a, all, spans, &a)) < 0 || (rc = scalar_side(t, nd->b, all, spans, &b)) < 0)
			return rc;
		exec_arith(nd->op, &a, &b, out);
		return 0;
	}
	if (nd->kind == TQL_N_STATIC) {
		exec_eval(t, 0, nd, out);
		return 0;
	}
	return CLEW_EUNSUPPORTED;
}

static int copy_slice(struct arena *a, struct slice *s)
{
	if (s->len == 0) {
		*s = (struct slice){(const uint8_t *)"", 0};
		return 0;
	}
	const void *p = arena_memdup(a, s->p, s->len);
	if (!p)
		return CLEW_ENOMEM;
	s->p = p;
	return 0;
}

static int copy_attrs(struct arena *a, const struct attr *in, uint32_t n, struct attr **out)
{
	*out = NULL;
	if (n == 0)
		return 0;
	struct attr *c = arena_array(a, n, sizeof *c);
	if (!c)
		return CLEW_ENOMEM;
	for (uint32_t k = 0; k < n; k++) {
		c[k] = in[k];
		if (copy_slice(a, &c[k].key) < 0)
			return CLEW_ENOMEM;
		if (c[k].value.type == ANY_STRING && copy_slice(a, &c[k].value.u.str) < 0)
			return CLEW_ENOMEM;
	}
	*out = c;
	return 0;
}

static int span_out(struct exec_trace_ctx *t, struct arena *oa, const struct ss *s, uint32_t i, struct exec_span *o)
{
	const struct span *sp = &t->b->spans[t->first + i];
	memcpy(o->span_id, sp->span_id, 8);
	o->name = sp->name;
	o->start_unix_ns = sp->start_unix_ns;
	o->dur_ns = sp->end_unix_ns - sp->start_unix_ns;
	if (copy_slice(oa, &o->name) < 0)
		return CLEW_ENOMEM;
	uint32_t nf = t->xq->n_out_fields + s->n_sel;
	struct attr *as = arena_array(t->scratch, nf + 1, sizeof *as);
	if (!as)
		return CLEW_ENOMEM;
	uint32_t na = 0;
	for (uint32_t f = 0; f < nf; f++) {
		const struct tql_node *fn = f < t->xq->n_out_fields ? t->xq->out_fields[f] : s->sel[f - t->xq->n_out_fields];
		struct exec_value v;
		exec_eval(t, i, fn, &v);
		struct slice key = fn->kind == TQL_N_ATTR ? fn->u.attr.name
			       : fn->kind == TQL_N_INTRINSIC ? slice_cstr(tql_intrinsic_name(fn->u.intrinsic))
							     : label(t, "", fn, "");
		bool dup = false;
		for (uint32_t k = 0; k < na && !dup; k++)
			dup = slice_eq(as[k].key, key);
		if (dup || v.type == TQL_T_NIL || v.type == TQL_T_UNKNOWN)
			continue;
		as[na].key = key;
		if (exec_value_to_any(&v, t->scratch, &as[na].value))
			na++;
	}
	o->n_attrs = na;
	return copy_attrs(oa, as, na, &o->attrs);
}

static int services(struct exec_trace_ctx *t, struct arena *oa, struct exec_trace *out)
{
	struct exec_service_stat *sv = arena_array(t->scratch, t->n + 1, sizeof *sv);
	if (!sv)
		return CLEW_ENOMEM;
	uint32_t nsv = 0;
	for (uint32_t i = 0; i < t->n; i++) {
		const struct span *sp = &t->b->spans[t->first + i];
		struct slice name = resource_service_name(span_batch_resource_of(t->b, sp));
		uint32_t k = 0;
		while (k < nsv && !slice_eq(sv[k].name, name))
			k++;
		if (k == nsv)
			sv[nsv++] = (struct exec_service_stat){.name = name};
		sv[k].spans++;
		sv[k].errors += sp->status_code == STATUS_ERROR;
	}
	out->services = arena_array(oa, nsv + 1, sizeof *sv);
	if (!out->services)
		return CLEW_ENOMEM;
	for (uint32_t k = 0; k < nsv; k++) {
		out->services[k] = sv[k];
		if (copy_slice(oa, &out->services[k].name) < 0)
			return CLEW_ENOMEM;
	}
	out->n_services = nsv;
	return 0;
}

static int fill_result(struct exec_trace_ctx *t, const struct sets *res, struct arena *oa, uint32_t spss,
		       struct exec_trace *out)
{
	memset(out, 0, sizeof *out);
	if (exec_build_parents(t) < 0)
		return CLEW_ENOMEM;
	const struct span *root = t->root >= 0 ? &t->b->spans[t->first + (uint32_t)t->root] : NULL;
	if (root) {
		memcpy(out->trace_id, root->trace_id, 16);
		out->root_name = root->name;
		out->root_service = resource_service_name(span_batch_resource_of(t->b, root));
		if (root->has_parent) { /* no root span here: Tempo leaves the names empty */
			out->root_name = out->root_service = (struct slice){(const uint8_t *)"", 0};
		}
	}
	if (copy_slice(oa, &out->root_name) < 0 || copy_slice(oa, &out->root_service) < 0)
		return CLEW_ENOMEM;
	out->start_unix_ns = t->start_ns;
	out->end_unix_ns = t->end_ns;
	out->spansets = arena_array(oa, res->n + 1, sizeof *out->spansets);
	if (!out->spansets)
		return CLEW_ENOMEM;
	for (uint32_t k = 0; k < res->n; k++) {
		const struct ss *s = &res->v[k];
		struct exec_spanset *o = &out->spansets[k];
		o->matched = s->n;
		o->n_spans = s->n < spss ? s->n : spss;
		o->spans = arena_array(oa, o->n_spans + 1, sizeof *o->spans);
		if (!o->spans)
			return CLEW_ENOMEM;
		for (uint32_t j = 0; j < o->n_spans; j++)
			if (span_out(t, oa, s, s->idx[j], &o->spans[j]) < 0)
				return CLEW_ENOMEM;
		if (copy_attrs(oa, s->attrs, s->n_attrs, &o->attrs) < 0)
			return CLEW_ENOMEM;
		o->n_attrs = s->n_attrs;
	}
	out->n_spansets = res->n;
	return services(t, oa, out);
}

int exec_run_trace(struct exec_trace_ctx *t, struct arena *out_arena, uint32_t spss, struct exec_trace *out,
		   uint32_t **matched, uint32_t *n_matched)
{
	int rc;
	struct ss whole = {0};
	whole.idx = arena_alloc(t->scratch, (size_t)t->n * sizeof *whole.idx + 1);
	if (!whole.idx)
		return NOMEM(t);
	for (uint32_t i = 0; i < t->n; i++)
		whole.idx[i] = i;
	whole.n = t->n;
	struct sets all = {&whole, 1, 1}, res = {0};
	const struct tql_query *q = t->xq->q;
	if (q->kind == TQL_Q_SCALAR) {
		struct exec_value a, b;
		const struct tql_node *r = q->root;
		if ((rc = scalar_side(t, r->a, &all, &res, &a)) < 0 || (rc = scalar_side(t, r->b, &all, &res, &b)) < 0)
			return rc;
		if (!exec_compare(r->op, &a, &b, false))
			return 0;
		uint8_t *m = bitmap(t);
		if (!m)
			return CLEW_ENOMEM;
		mark_all(&res, m);
		struct ss like = {0};
		res.n = 0;
		if ((rc = from_bitmap(t, m, &like, &res)) < 0)
			return rc;
	} else if ((rc = eval_sets(t, q->root, &all, &res)) < 0) {
		return rc;
	}
	if (t->oom)
		return CLEW_ENOMEM;
	if (res.n == 0)
		return 0;
	if (matched) {
		uint8_t *m = bitmap(t);
		if (!m)
			return CLEW_ENOMEM;
		mark_all(&res, m);
		uint32_t *ids = arena_alloc(t->scratch, (size_t)t->n * sizeof *ids + 1), c = 0;
		if (!ids)
			return NOMEM(t);
		for (uint32_t i = 0; i < t->n; i++)
			if (m[i])
				ids[c++] = t->first + i;
		*matched = ids;
		*n_matched = c;
	}
	if (out && (rc = fill_result(t, &res, out_arena, spss, out)) < 0)
		return rc;
	return 1;
}

int exec_eval_trace(struct exec_query *xq, const struct span_batch *b, uint32_t first, uint32_t n,
		    struct arena *scratch, struct arena *out_arena, uint32_t spss, struct exec_trace *out)
{
	struct exec_trace_ctx t;
	int rc = exec_trace_init(&t, xq, b, first, n, scratch);
	if (rc < 0)
		return rc;
	return exec_run_trace(&t, out_arena, spss ? spss : EXEC_DEFAULT_SPSS, out, NULL, NULL);
}
