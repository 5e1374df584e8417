/* TraceQL field expressions over the spans of one trace: the trace context
 * (parent index by span id, root span, trace times, child counts and nested
 * sets on demand), intrinsic and attribute lookup with Tempo's unscoped
 * semantics (span first, then resource), and the operators with Tempo's
 * numeric coercions (int, float and duration compare as numbers). */
#include <math.h>
#include <string.h>

#include "base/codec.h"
#include "base/err.h"
#include "query/exec_int.h"

static uint64_t id_key(const uint8_t id[8])
{
	uint64_t k;
	memcpy(&k, id, 8);
	k ^= k >> 33;
	k *= 0xff51afd7ed558ccdULL;
	k ^= k >> 33;
	return k;
}

int exec_trace_init(struct exec_trace_ctx *t, const struct exec_query *xq, const struct span_batch *b,
		    uint32_t first, uint32_t n, struct arena *scratch)
{
	memset(t, 0, sizeof *t);
	t->xq = xq;
	t->b = b;
	t->first = first;
	t->n = n;
	t->scratch = scratch;
	t->root = -1;
	t->cur_event = t->cur_link = -1;
	const struct span *sp = b->spans + first;
	t->start_ns = n ? INT64_MAX : 0;
	t->end_ns = n ? INT64_MIN : 0;
	for (uint32_t i = 0; i < n; i++) {
		if (sp[i].start_unix_ns < t->start_ns)
			t->start_ns = sp[i].start_unix_ns;
		if (sp[i].end_unix_ns > t->end_ns)
			t->end_ns = sp[i].end_unix_ns;
	}
	return 0;
}

int exec_build_parents(struct exec_trace_ctx *t)
{
	if (t->parent)
		return 0;
	uint32_t n = t->n;
	uint32_t cap = 4;
	while (cap < 2 * (uint64_t)n)
		cap <<= 1;
	int32_t *par = arena_alloc(t->scratch, (size_t)n * sizeof *par + 1);
	int32_t *tab = arena_alloc(t->scratch, (size_t)cap * sizeof *tab);
	if (!par || !tab) {
		t->oom = true;
		return CLEW_ENOMEM;
	}
	memset(tab, 0xff, (size_t)cap * sizeof *tab);
	const struct span *sp = t->b->spans + t->first;
	for (uint32_t i = 0; i < n; i++) {
		uint32_t h = (uint32_t)id_key(sp[i].span_id) & (cap - 1);
		while (tab[h] >= 0)
			h = (h + 1) & (cap - 1);
		tab[h] = (int32_t)i;
	}
	int32_t first_root = -1, earliest = -1;
	for (uint32_t i = 0; i < n; i++) {
		par[i] = -1;
		if (sp[i].has_parent) {
			uint32_t h = (uint32_t)id_key(sp[i].parent_span_id) & (cap - 1);
			while (tab[h] >= 0) {
				if (memcmp(sp[tab[h]].span_id, sp[i].parent_span_id, 8) == 0 && (uint32_t)tab[h] != i) {
					par[i] = tab[h];
					break;
				}
				h = (h + 1) & (cap - 1);
			}
		} else if (first_root < 0 || sp[i].start_unix_ns < sp[first_root].start_unix_ns) {
			first_root = (int32_t)i;
		}
		if (earliest < 0 || sp[i].start_unix_ns < sp[earliest].start_unix_ns)
			earliest = (int32_t)i;
	}
	t->root = first_root >= 0 ? first_root : earliest;
	t->parent = par;
	return 0;
}

int exec_build_children(struct exec_trace_ctx *t)
{
	if (t->children)
		return 0;
	if (exec_build_parents(t) < 0)
		return CLEW_ENOMEM;
	uint32_t *c = arena_zalloc(t->scratch, (size_t)t->n * sizeof *c + 1);
	if (!c)
		return CLEW_ENOMEM;
	for (uint32_t i = 0; i < t->n; i++)
		if (t->parent[i] >= 0)
			c[t->parent[i]]++;
	t->children = c;
	return 0;
}

/* Nested sets as Tempo numbers them: a depth-first walk from each root in
 * trace order, left on entry and right on exit from one counter from 1. */
int exec_build_nested(struct exec_trace_ctx *t)
{
	if (t->nested)
		return 0;
	if (exec_build_parents(t) < 0)
		return CLEW_ENOMEM;
	uint32_t n = t->n;
	int32_t *ns = arena_alloc(t->scratch, (size_t)n * 2 * sizeof *ns + 1);
	uint32_t *head = arena_alloc(t->scratch, (size_t)n * sizeof *head + 1);
	uint32_t *next = arena_alloc(t->scratch, (size_t)n * sizeof *next + 1);
	uint32_t *stack = arena_alloc(t->scratch, (size_t)n * sizeof *stack + 1);
	uint32_t *iter = arena_alloc(t->scratch, (size_t)n * sizeof *iter + 1);
	if (!ns || !head || !next || !stack || !iter)
		return CLEW_ENOMEM;
	memset(head, 0xff, (size_t)n * sizeof *head);
	for (uint32_t k = n; k-- > 0;) { /* children lists in trace order */
		if (t->parent[k] >= 0) {
			next[k] = head[t->parent[k]];
			head[t->parent[k]] = k;
		}
	}
	for (uint32_t i = 0; i < n; i++)
		ns[2 * i] = ns[2 * i + 1] = 0;
	int32_t counter = 1;
	for (uint32_t r = 0; r < n; r++) {
		if (t->parent[r] >= 0)
			continue;
		uint32_t sp = 0;
		stack[sp++] = r;
		ns[2 * r] = counter++;
		iter[r] = head[r];
		while (sp > 0) {
			uint32_t top = stack[sp - 1];
			uint32_t c = iter[top];
			if (c != UINT32_MAX) {
				iter[top] = next[c];
				ns[2 * c] = counter++;
				iter[c] = head[c];
				stack[sp++] = c;
			} else {
				ns[2 * top + 1] = counter++;
				sp--;
			}
		}
	}
	t->nested = ns;
	return 0;
}

static const struct attr *find_attr(const struct attr_list *l, struct slice key)
{
	for (uint32_t k = 0; k < l->n; k++)
		if (slice_eq(l->items[k].key, key))
			return &l->items[k];
	return NULL;
}

void exec_value_from_any(const struct any_value *v, struct exec_value *out)
{
	switch (v->type) {
	case ANY_STRING:
		out->type = TQL_T_STRING;
		out->u.s = v->u.str;
		break;
	case ANY_BOOL:
		out->type = TQL_T_BOOL;
		out->u.b = v->u.b;
		break;
	case ANY_INT:
		out->type = TQL_T_INT;
		out->u.i = v->u.i;
		break;
	case ANY_DOUBLE:
		out->type = TQL_T_FLOAT;
		out->u.f = v->u.d;
		break;
	default: /* present, but not a value TraceQL compares */
		out->type = TQL_T_UNKNOWN;
		break;
	}
}

static void hex_value(struct exec_trace_ctx *t, const uint8_t *id, size_t n, struct exec_value *out)
{
	char *p = arena_alloc(t->scratch, n * 2 + 1);
	if (!p) {
		t->oom = true;
		out->type = TQL_T_NIL;
		return;
	}
	hex_encode(id, n, p);
	out->type = TQL_T_STRING;
	out->u.s = slice_make(p, n * 2);
}

static void attr_value(struct exec_trace_ctx *t, uint32_t i, const struct tql_node *nd, struct exec_value *out)
{
	const struct span_batch *b = t->b;
	out->type = TQL_T_NIL;
	if (nd->u.attr.parent) {
		if (exec_build_parents(t) < 0 || t->parent[i] < 0)
			return;
		i = (uint32_t)t->parent[i];
	}
	const struct span *s = &b->spans[t->first + i];
	const struct attr *a = NULL;
	struct slice key = nd->u.attr.name;
	switch (nd->u.attr.scope) {
	case TQL_SCOPE_NONE:
		a = find_attr(&s->attrs, key);
		if (!a)
			a = find_attr(&span_batch_resource_of(b, s)->attrs, key);
		break;
	case TQL_SCOPE_SPAN:
		a = find_attr(&s->attrs, key);
		break;
	case TQL_SCOPE_RESOURCE:
		a = find_attr(&span_batch_resource_of(b, s)->attrs, key);
		break;
	case TQL_SCOPE_EVENT:
		if (t->cur_event >= 0 && (uint32_t)t->cur_event < s->n_events)
			a = find_attr(&s->events[t->cur_event].attrs, key);
		break;
	case TQL_SCOPE_LINK:
		if (t->cur_link >= 0 && (uint32_t)t->cur_link < s->n_links)
			a = find_attr(&s->links[t->cur_link].attrs, key);
		break;
	case TQL_SCOPE_INSTRUMENTATION:
		a = find_attr(&b->scopes[s->scope].attrs, key);
		break;
	}
	if (a)
		exec_value_from_any(&a->value, out);
}

static void str_or_nil(struct slice s, struct exec_value *out)
{
	if (s.len == 0) {
		out->type = TQL_T_NIL;
		return;
	}
	out->type = TQL_T_STRING;
	out->u.s = s;
}

static void intrinsic_value(struct exec_trace_ctx *t, uint32_t i, enum tql_intrinsic in, struct exec_value *out)
{
	const struct span_batch *b = t->b;
	const struct span *s = &b->spans[t->first + i];
	const struct span *root = NULL;
	out->type = TQL_T_NIL;
	if (in == TQL_I_ROOT_NAME || in == TQL_I_ROOT_SERVICE) {
		if (exec_build_parents(t) < 0)
			return;
		root = t->root >= 0 ? &b->spans[t->first + (uint32_t)t->root] : NULL;
		if (root && root->has_parent) /* no root span received: nil, as in Tempo */
			root = NULL;
	}
	switch (in) {
	case TQL_I_DURATION:
		out->type = TQL_T_DURATION;
		out->u.i = s->end_unix_ns - s->start_unix_ns;
		break;
	case TQL_I_NAME:
		out->type = TQL_T_STRING;
		out->u.s = s->name;
		break;
	case TQL_I_STATUS:
		out->type = TQL_T_STATUS;
		out->u.i = s->status_code;
		break;
	case TQL_I_STATUS_MESSAGE:
		out->type = TQL_T_STRING;
		out->u.s = s->status_message;
		break;
	case TQL_I_KIND:
		out->type = TQL_T_KIND;
		out->u.i = s->kind;
		break;
	case TQL_I_CHILD_COUNT:
		if (exec_build_children(t) < 0) {
			t->oom = true;
			return;
		}
		out->type = TQL_T_INT;
		out->u.i = t->children[i];
		break;
	case TQL_I_PARENT:
	case TQL_I_PARENT_ID:
		if (s->has_parent)
			hex_value(t, s->parent_span_id, 8, out);
		break;
	case TQL_I_ROOT_NAME:
		if (root) {
			out->type = TQL_T_STRING;
			out->u.s = root->name;
		}
		break;
	case TQL_I_ROOT_SERVICE:
		if (root) {
			out->type = TQL_T_STRING;
			out->u.s = resource_service_name(span_batch_resource_of(b, root));
		}
		break;
	case TQL_I_TRACE_DURATION:
		out->type = TQL_T_DURATION;
		out->u.i = t->end_ns - t->start_ns;
		break;
	case TQL_I_NESTED_SET_LEFT:
	case TQL_I_NESTED_SET_RIGHT:
	case TQL_I_NESTED_SET_PARENT:
		if (exec_build_nested(t) < 0) {
			t->oom = true;
			return;
		}
		out->type = TQL_T_INT;
		if (in == TQL_I_NESTED_SET_LEFT)
			out->u.i = t->nested[2 * i];
		else if (in == TQL_I_NESTED_SET_RIGHT)
			out->u.i = t->nested[2 * i + 1];
		else
			out->u.i = t->parent[i] >= 0 ? t->nested[2 * t->parent[i]] : -1;
		break;
	case TQL_I_TRACE_ID:
		hex_value(t, s->trace_id, 16, out);
		break;
	case TQL_I_SPAN_ID:
		hex_value(t, s->span_id, 8, out);
		break;
	case TQL_I_EVENT_NAME:
		if (t->cur_event >= 0 && (uint32_t)t->cur_event < s->n_events) {
			out->type = TQL_T_STRING;
			out->u.s = s->events[t->cur_event].name;
		}
		break;
	case TQL_I_EVENT_TIME_SINCE_START:
		if (t->cur_event >= 0 && (uint32_t)t->cur_event < s->n_events) {
			out->type = TQL_T_DURATION;
			out->u.i = s->events[t->cur_event].time_unix_ns - s->start_unix_ns;
		}
		break;
	case TQL_I_LINK_TRACE_ID:
		if (t->cur_link >= 0 && (uint32_t)t->cur_link < s->n_links)
			hex_value(t, s->links[t->cur_link].trace_id, 16, out);
		break;
	case TQL_I_LINK_SPAN_ID:
		if (t->cur_link >= 0 && (uint32_t)t->cur_link < s->n_links)
			hex_value(t, s->links[t->cur_link].span_id, 8, out);
		break;
	case TQL_I_INSTRUMENTATION_NAME:
		str_or_nil(b->scopes[s->scope].name, out);
		break;
	case TQL_I_INSTRUMENTATION_VERSION:
		str_or_nil(b->scopes[s->scope].version, out);
		break;
	case TQL_I_COUNT_:
		break;
	}
}

bool exec_value_num(const struct exec_value *v, double *out)
{
	switch (v->type) {
	case TQL_T_INT:
	case TQL_T_DURATION:
		*out = (double)v->u.i;
		return true;
	case TQL_T_FLOAT:
		*out = v->u.f;
		return true;
	default:
		return false;
	}
}

static bool is_intlike(enum tql_type ty)
{
	return ty == TQL_T_INT || ty == TQL_T_DURATION;
}

static bool is_id_node(const struct tql_node *n)
{
	if (n->kind != TQL_N_INTRINSIC)
		return false;
	switch (n->u.intrinsic) {
	case TQL_I_TRACE_ID:
	case TQL_I_SPAN_ID:
	case TQL_I_PARENT_ID:
	case TQL_I_PARENT:
	case TQL_I_LINK_TRACE_ID:
	case TQL_I_LINK_SPAN_ID:
		return true;
	default:
		return false;
	}
}

/* Ids compare as numbers written in hex: leading zeros and case ignored. */
static bool id_eq(struct slice a, struct slice b)
{
	while (a.len > 0 && a.p[0] == '0')
		a.p++, a.len--;
	while (b.len > 0 && b.p[0] == '0')
		b.p++, b.len--;
	if (a.len != b.len)
		return false;
	for (size_t k = 0; k < a.len; k++)
		if (hex_digit_value(a.p[k]) != hex_digit_value(b.p[k]) || hex_digit_value(a.p[k]) < 0)
			return false;
	return true;
}

static bool ord(enum tql_op op, int c)
{
	switch (op) {
	case TQL_OP_EQ:
		return c == 0;
	case TQL_OP_NEQ:
		return c != 0;
	case TQL_OP_LT:
		return c < 0;
	case TQL_OP_LTE:
		return c <= 0;
	case TQL_OP_GT:
		return c > 0;
	case TQL_OP_GTE:
		return c >= 0;
	default:
		return false;
	}
}

bool exec_compare(enum tql_op op, const struct exec_value *a, const struct exec_value *b, bool ids)
{
	double x, y;
	if (is_intlike(a->type) && is_intlike(b->type))
		return ord(op, (a->u.i > b->u.i) - (a->u.i < b->u.i));
	if (exec_value_num(a, &x) && exec_value_num(b, &y)) {
		if (isnan(x) || isnan(y))
			return op == TQL_OP_NEQ;
		return ord(op, (x > y) - (x < y));
	}
	if (a->type != b->type)
		return false;
	switch (a->type) {
	case TQL_T_STRING: {
		if (ids && (op == TQL_OP_EQ || op == TQL_OP_NEQ))
			return id_eq(a->u.s, b->u.s) == (op == TQL_OP_EQ);
		size_t m = a->u.s.len < b->u.s.len ? a->u.s.len : b->u.s.len;
		int c = m ? memcmp(a->u.s.p, b->u.s.p, m) : 0;
		if (c == 0)
			c = (a->u.s.len > b->u.s.len) - (a->u.s.len < b->u.s.len);
		return ord(op, c);
	}
	case TQL_T_BOOL:
		if (op != TQL_OP_EQ && op != TQL_OP_NEQ)
			return false;
		return ord(op, (int)a->u.b - (int)b->u.b);
	case TQL_T_STATUS:
	case TQL_T_KIND:
		return ord(op, (a->u.i > b->u.i) - (a->u.i < b->u.i));
	default:
		return false;
	}
}

const struct tql_regex *exec_find_regex(const struct exec_query *xq, const struct tql_node *nd)
{
	for (uint32_t k = 0; k < xq->n_regexes; k++)
		if (xq->regexes[k].node == nd)
			return xq->regexes[k].re;
	return NULL;
}

bool exec_regex_match(const struct tql_regex *re, struct slice s)
{
	return tql_regex_match(re, s.p, s.len) == 1;
}

void exec_arith(enum tql_op op, const struct exec_value *a, const struct exec_value *b, struct exec_value *out)
{
	double x, y;
	out->type = TQL_T_NIL;
	if (!exec_value_num(a, &x) || !exec_value_num(b, &y))
		return;
	if (is_intlike(a->type) && is_intlike(b->type) && op != TQL_OP_POW) {
		int64_t p = a->u.i, q = b->u.i;
		uint64_t r;
		out->type = a->type == TQL_T_DURATION || b->type == TQL_T_DURATION ? TQL_T_DURATION : TQL_T_INT;
		switch (op) {
		case TQL_OP_ADD:
			r = (uint64_t)p + (uint64_t)q;
			break;
		case TQL_OP_SUB:
			r = (uint64_t)p - (uint64_t)q;
			break;
		case TQL_OP_MUL:
			r = (uint64_t)p * (uint64_t)q;
			break;
		case TQL_OP_DIV:
		case TQL_OP_MOD:
			if (q == 0 || (p == INT64_MIN && q == -1)) {
				out->type = TQL_T_NIL;
				return;
			}
			r = (uint64_t)(op == TQL_OP_DIV ? p / q : p % q);
			break;
		default:
			out->type = TQL_T_NIL;
			return;
		}
		out->u.i = (int64_t)r;
		return;
	}
	out->type = TQL_T_FLOAT;
	switch (op) {
	case TQL_OP_ADD:
		out->u.f = x + y;
		break;
	case TQL_OP_SUB:
		out->u.f = x - y;
		break;
	case TQL_OP_MUL:
		out->u.f = x * y;
		break;
	case TQL_OP_DIV:
		out->u.f = x / y;
		break;
	case TQL_OP_MOD:
		out->u.f = fmod(x, y);
		break;
	case TQL_OP_POW:
		out->u.f = pow(x, y);
		break;
	default:
		out->type = TQL_T_NIL;
		break;
	}
}

static void set_bool(struct exec_value *out, bool v)
{
	out->type = TQL_T_BOOL;
	out->u.b = v;
}

void exec_eval(struct exec_trace_ctx *t, uint32_t i, const struct tql_node *nd, struct exec_value *out)
{
	struct exec_value a, b;
	switch (nd->kind) {
	case TQL_N_STATIC:
		out->type = nd->u.val.type;
		switch (nd->u.val.type) {
		case TQL_T_BOOL:
			out->u.b = nd->u.val.u.b;
			break;
		case TQL_T_FLOAT:
			out->u.f = nd->u.val.u.f;
			break;
		case TQL_T_STRING:
			out->u.s = nd->u.val.u.s;
			break;
		default:
			out->u.i = nd->u.val.u.i;
			break;
		}
		return;
	case TQL_N_INTRINSIC:
		intrinsic_value(t, i, nd->u.intrinsic, out);
		return;
	case TQL_N_ATTR:
		attr_value(t, i, nd, out);
		return;
	case TQL_N_UNARY:
		exec_eval(t, i, nd->a, &a);
		if (nd->op == TQL_OP_EXISTS) {
			set_bool(out, a.type != TQL_T_NIL);
		} else if (nd->op == TQL_OP_NOT) {
			if (a.type == TQL_T_BOOL)
				set_bool(out, !a.u.b);
			else
				out->type = TQL_T_NIL;
		} else if (a.type == TQL_T_FLOAT) {
			out->type = TQL_T_FLOAT;
			out->u.f = -a.u.f;
		} else if (is_intlike(a.type)) {
			out->type = a.type;
			out->u.i = (int64_t)(0 - (uint64_t)a.u.i);
		} else {
			out->type = TQL_T_NIL;
		}
		return;
	case TQL_N_BINARY:
		break;
	default:
		out->type = TQL_T_NIL;
		return;
	}
	switch (nd->op) {
	case TQL_OP_AND:
		exec_eval(t, i, nd->a, &a);
		if (a.type != TQL_T_BOOL || !a.u.b) {
			set_bool(out, false);
			return;
		}
		exec_eval(t, i, nd->b, &b);
		set_bool(out, b.type == TQL_T_BOOL && b.u.b);
		return;
	case TQL_OP_OR:
		exec_eval(t, i, nd->a, &a);
		if (a.type == TQL_T_BOOL && a.u.b) {
			set_bool(out, true);
			return;
		}
		exec_eval(t, i, nd->b, &b);
		set_bool(out, b.type == TQL_T_BOOL && b.u.b);
		return;
	case TQL_OP_EQ:
	case TQL_OP_NEQ:
	case TQL_OP_LT:
	case TQL_OP_LTE:
	case TQL_OP_GT:
	case TQL_OP_GTE:
		exec_eval(t, i, nd->a, &a);
		if (a.type == TQL_T_NIL) {
			set_bool(out, false);
			return;
		}
		exec_eval(t, i, nd->b, &b);
		set_bool(out, exec_compare(nd->op, &a, &b, is_id_node(nd->a) || is_id_node(nd->b)));
		return;
	case TQL_OP_RE:
	case TQL_OP_NRE: {
		exec_eval(t, i, nd->a, &a);
		const struct tql_regex *re = exec_find_regex(t->xq, nd);
		if (a.type != TQL_T_STRING || !re) {
			set_bool(out, false);
			return;
		}
		bool m = exec_regex_match(re, a.u.s);
		set_bool(out, nd->op == TQL_OP_RE ? m : !m);
		return;
	}
	default:
		exec_eval(t, i, nd->a, &a);
		exec_eval(t, i, nd->b, &b);
		exec_arith(nd->op, &a, &b, out);
		return;
	}
}

unsigned exec_binds(const struct tql_node *nd)
{
	if (!nd)
		return 0;
	unsigned r = 0;
	if (nd->kind == TQL_N_ATTR) {
		if (nd->u.attr.scope == TQL_SCOPE_EVENT)
			r |= EXEC_BIND_EVENT;
		if (nd->u.attr.scope == TQL_SCOPE_LINK)
			r |= EXEC_BIND_LINK;
	} else if (nd->kind == TQL_N_INTRINSIC) {
		enum tql_intrinsic in = nd->u.intrinsic;
		if (in == TQL_I_EVENT_NAME || in == TQL_I_EVENT_TIME_SINCE_START)
			r |= EXEC_BIND_EVENT;
		if (in == TQL_I_LINK_SPAN_ID || in == TQL_I_LINK_TRACE_ID)
			r |= EXEC_BIND_LINK;
	} else if (nd->kind == TQL_N_BINARY || nd->kind == TQL_N_UNARY) {
		r |= exec_binds(nd->a) | exec_binds(nd->b);
	}
	return r;
}

static bool cond_once(struct exec_trace_ctx *t, uint32_t i, const struct tql_node *nd)
{
	struct exec_value v;
	exec_eval(t, i, nd, &v);
	return v.type == TQL_T_BOOL && v.u.b;
}

static bool cond_links(struct exec_trace_ctx *t, uint32_t i, const struct tql_node *nd, unsigned binds)
{
	const struct span *s = &t->b->spans[t->first + i];
	if (!(binds & EXEC_BIND_LINK) || s->n_links == 0)
		return cond_once(t, i, nd);
	bool hit = false;
	for (uint32_t l = 0; l < s->n_links && !hit; l++) {
		t->cur_link = (int32_t)l;
		hit = cond_once(t, i, nd);
	}
	t->cur_link = -1;
	return hit;
}

bool exec_cond(struct exec_trace_ctx *t, uint32_t i, const struct tql_node *nd, unsigned binds)
{
	const struct span *s = &t->b->spans[t->first + i];
	if (!(binds & EXEC_BIND_EVENT) || s->n_events == 0)
		return cond_links(t, i, nd, binds);
	bool hit = false;
	for (uint32_t e = 0; e < s->n_events && !hit; e++) {
		t->cur_event = (int32_t)e;
		hit = cond_links(t, i, nd, binds);
	}
	t->cur_event = -1;
	return hit;
}

bool exec_value_to_any(const struct exec_value *v, struct arena *a, struct any_value *out)
{
	memset(out, 0, sizeof *out);
	switch (v->type) {
	case TQL_T_STRING:
		out->type = ANY_STRING;
		out->u.str.len = v->u.s.len;
		out->u.str.p = v->u.s.len ? arena_memdup(a, v->u.s.p, v->u.s.len) : (const uint8_t *)"";
		return out->u.str.p != NULL;
	case TQL_T_BOOL:
		out->type = ANY_BOOL;
		out->u.b = v->u.b;
		return true;
	case TQL_T_INT:
	case TQL_T_DURATION:
		out->type = ANY_INT;
		out->u.i = v->u.i;
		return true;
	case TQL_T_FLOAT:
		out->type = ANY_DOUBLE;
		out->u.d = v->u.f;
		return true;
	case TQL_T_STATUS: {
		static const char *names[] = {"unset", "ok", "error"};
		const char *s = v->u.i >= 0 && v->u.i <= 2 ? names[v->u.i] : "unset";
		out->type = ANY_STRING;
		out->u.str = slice_cstr(s);
		return true;
	}
	case TQL_T_KIND: {
		static const char *names[] = {"unspecified", "internal", "server", "client", "producer", "consumer"};
		const char *s = v->u.i >= 0 && v->u.i <= 5 ? names[v->u.i] : "unspecified";
		out->type = ANY_STRING;
		out->u.str = slice_cstr(s);
		return true;
	}
	default:
		return false;
	}
}

void exec_field_value(const struct tql_node *field, const struct span_batch *b, uint32_t first, uint32_t n,
		      uint32_t i, struct arena *scratch, struct exec_value *out)
{
	static const struct exec_query none;
	struct exec_trace_ctx t;
	out->type = TQL_T_NIL;
	if (exec_trace_init(&t, &none, b, first, n, scratch) < 0 || i >= n)
		return;
	exec_eval(&t, i, field, out);
}
