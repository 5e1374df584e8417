/* TraceQL parser: tokens -> AST, by recursive descent with precedence
 * climbing, after Tempo's expr.y. Field expressions (inside { }, by(), the
 * aggregates) use Tempo's levels, lowest first: && ||; = != < <= > >= =~ !~;
 * + -; unary !; * / %; ^ (right). Above them a pipeline is stages joined by
 * '|'; one stage is an expression over spansets, aggregates, pipelines in
 * parentheses and metrics queries, whose operators mean what their operands
 * make them mean ('>' is "child of" between spansets, "greater" between
 * aggregates). Each stage result carries a class that decides that. */
#include <stdio.h>
#include <string.h>

#include "base/err.h"
#include "query/traceql_int.h"

/* What a stage expression denotes. */
enum cls {
	C_SPANSET, /* filters, spanset operators, spanset pipelines */
	C_AGG,	   /* arithmetic on aggregates (count() + 1) */
	C_LIT,	   /* a literal */
	C_PSCALAR, /* a pipeline ending in an aggregate, or arithmetic on those */
	C_BOOL,	   /* a comparison of aggregates: a scalar filter stage */
	C_ROOTF,   /* a comparison of pipelines: a whole query */
	C_OPSTAGE, /* by(), select(), coalesce() */
	C_MFN,	   /* a metrics function: rate(), ... */
	C_MQ,	   /* a whole metrics query or metrics math */
	C_S2,	   /* topk(), bottomk() */
};

struct sx {
	struct tql_node *n;
	enum cls c;
};

struct parser {
	const struct tql_token *t;
	uint32_t i, n;
	struct arena *a;
	struct slice text;
	struct tql_error *err;
	int depth;
	int rc;
};

static const struct tql_token *peek(struct parser *p)
{
	return &p->t[p->i];
}

static const struct tql_token *adv(struct parser *p)
{
	const struct tql_token *t = &p->t[p->i];
	if (t->t != TK_EOF && t->t != TK_ERROR)
		p->i++;
	return t;
}

static const struct tql_token *prev(struct parser *p)
{
	return p->i ? &p->t[p->i - 1] : NULL;
}

/* Record the first error (msg is the text after "LINE:COL: "); TK_ERROR
 * tokens report the lexer's message instead. */
static void *fail_at(struct parser *p, const struct tql_token *t, enum tql_error_kind kind, const char *msg)
{
	if (p->rc)
		return NULL;
	if (t->t == TK_ERROR) {
		p->rc = tql_errorf(p->err, TQL_ERR_SYNTAX, p->text, t->off, "%.*s", (int)t->u.s.len,
				   (const char *)t->u.s.p);
		return NULL;
	}
	p->rc = tql_errorf(p->err, kind, p->text, t->off, "%s", msg);
	if (kind == TQL_ERR_LIMIT)
		p->rc = CLEW_ELIMIT;
	return NULL;
}

/* "expected WHAT but found TOKEN" at the current token. */
static void *expected(struct parser *p, const char *what)
{
	char d[96], msg[256];
	snprintf(msg, sizeof(msg), "expected %s but found %s", what, tql_tok_describe(peek(p), p->text, d, sizeof(d)));
	return fail_at(p, peek(p), TQL_ERR_SYNTAX, msg);
}

static void *oom(struct parser *p)
{
	if (!p->rc) {
		p->rc = CLEW_ENOMEM;
		tql_errorf(p->err, TQL_ERR_LIMIT, p->text, peek(p)->off, "out of memory for the query");
	}
	return NULL;
}

static bool accept(struct parser *p, enum tql_tok t)
{
	if (peek(p)->t != t)
		return false;
	adv(p);
	return true;
}

static bool expect(struct parser *p, enum tql_tok t, const char *what)
{
	if (accept(p, t))
		return true;
	expected(p, what);
	return false;
}

static uint32_t end_off(const struct tql_node *n)
{
	return n->off + n->len;
}

static struct tql_node *node(struct parser *p, enum tql_node_kind kind, uint32_t off, uint32_t end)
{
	struct tql_node *n = arena_zalloc(p->a, sizeof(*n));
	if (!n)
		return oom(p);
	n->kind = kind;
	n->off = off;
	n->len = end > off ? end - off : 0;
	n->height = 1;
	return n;
}

/* Set n's children and height; fails past TQL_MAX_DEPTH. */
static struct tql_node *link2(struct parser *p, struct tql_node *n, struct tql_node *a, struct tql_node *b)
{
	if (!n)
		return NULL;
	n->a = a;
	n->b = b;
	uint32_t h = 0;
	if (a && a->height > h)
		h = a->height;
	if (b && b->height > h)
		h = b->height;
	n->height = h + 1;
	if (n->height > TQL_MAX_DEPTH)
		return fail_at(p, peek(p), TQL_ERR_LIMIT, "query nested too deeply");
	return n;
}

static bool enter(struct parser *p)
{
	if (++p->depth > TQL_MAX_DEPTH) {
		fail_at(p, peek(p), TQL_ERR_LIMIT, "query nested too deeply");
		return false;
	}
	return true;
}

/* Append to a growing arena array of node pointers. */
static bool push_item(struct parser *p, struct tql_node ***items, uint32_t *n, uint32_t *cap, struct tql_node *it)
{
	if (*n == *cap) {
		uint32_t nc = *cap ? *cap * 2 : 4;
		struct tql_node **nv = arena_grow(p->a, *items, *n, nc, sizeof(*nv));
		if (!nv) {
			oom(p);
			return false;
		}
		*items = nv;
		*cap = nc;
	}
	(*items)[(*n)++] = it;
	return true;
}

/* ---- field expressions ---- */

static struct tql_node *parse_field(struct parser *p, int min);

static int field_prec(enum tql_tok t, enum tql_op *op)
{
	switch (t) {
	case TK_AND: *op = TQL_OP_AND; return 1;
	case TK_OR: *op = TQL_OP_OR; return 1;
	case TK_EQ: *op = TQL_OP_EQ; return 2;
	case TK_NEQ: *op = TQL_OP_NEQ; return 2;
	case TK_LT: *op = TQL_OP_LT; return 2;
	case TK_LTE: *op = TQL_OP_LTE; return 2;
	case TK_GT: *op = TQL_OP_GT; return 2;
	case TK_GTE: *op = TQL_OP_GTE; return 2;
	case TK_RE: *op = TQL_OP_RE; return 2;
	case TK_NRE: *op = TQL_OP_NRE; return 2;
	case TK_ADD: *op = TQL_OP_ADD; return 3;
	case TK_SUB: *op = TQL_OP_SUB; return 3;
	case TK_MUL: *op = TQL_OP_MUL; return 5;
	case TK_DIV: *op = TQL_OP_DIV; return 5;
	case TK_MOD: *op = TQL_OP_MOD; return 5;
	case TK_POW: *op = TQL_OP_POW; return 6;
	default: return 0;
	}
}

static bool is_static_tok(enum tql_tok t)
{
	switch (t) {
	case TK_STRING: case TK_INT: case TK_FLOAT: case TK_DURATION: case TK_TRUE: case TK_FALSE:
	case TK_NIL: case TK_STATUS_OK: case TK_STATUS_ERROR: case TK_STATUS_UNSET:
	case TK_KIND_UNSPECIFIED: case TK_KIND_INTERNAL: case TK_KIND_SERVER: case TK_KIND_CLIENT:
	case TK_KIND_PRODUCER: case TK_KIND_CONSUMER:
		return true;
	default:
		return false;
	}
}

static struct tql_node *parse_static(struct parser *p)
{
	const struct tql_token *t = adv(p);
	struct tql_node *n = node(p, TQL_N_STATIC, t->off, t->off + t->len);
	if (!n)
		return NULL;
	struct tql_value *v = &n->u.val;
	switch (t->t) {
	case TK_STRING: v->type = TQL_T_STRING; v->u.s = t->u.s; break;
	case TK_INT: v->type = TQL_T_INT; v->u.i = t->u.i; break;
	case TK_FLOAT: v->type = TQL_T_FLOAT; v->u.f = t->u.f; break;
	case TK_DURATION: v->type = TQL_T_DURATION; v->u.i = t->u.i; break;
	case TK_TRUE: v->type = TQL_T_BOOL; v->u.b = true; break;
	case TK_FALSE: v->type = TQL_T_BOOL; v->u.b = false; break;
	case TK_NIL: v->type = TQL_T_NIL; break;
	case TK_STATUS_OK: v->type = TQL_T_STATUS; v->u.i = TQL_STATUS_OK; break;
	case TK_STATUS_ERROR: v->type = TQL_T_STATUS; v->u.i = TQL_STATUS_ERROR; break;
	case TK_STATUS_UNSET: v->type = TQL_T_STATUS; v->u.i = TQL_STATUS_UNSET; break;
	case TK_KIND_UNSPECIFIED: v->type = TQL_T_KIND; v->u.i = TQL_KIND_UNSPECIFIED; break;
	case TK_KIND_INTERNAL: v->type = TQL_T_KIND; v->u.i = TQL_KIND_INTERNAL; break;
	case TK_KIND_SERVER: v->type = TQL_T_KIND; v->u.i = TQL_KIND_SERVER; break;
	case TK_KIND_CLIENT: v->type = TQL_T_KIND; v->u.i = TQL_KIND_CLIENT; break;
	case TK_KIND_PRODUCER: v->type = TQL_T_KIND; v->u.i = TQL_KIND_PRODUCER; break;
	case TK_KIND_CONSUMER: v->type = TQL_T_KIND; v->u.i = TQL_KIND_CONSUMER; break;
	default: return expected(p, "a value");
	}
	n->type = v->type;
	return n;
}

static int unscoped_intrinsic(enum tql_tok t)
{
	switch (t) {
	case TK_KW_DURATION: return TQL_I_DURATION;
	case TK_CHILDCOUNT: return TQL_I_CHILD_COUNT;
	case TK_NAME: return TQL_I_NAME;
	case TK_STATUS: return TQL_I_STATUS;
	case TK_STATUS_MESSAGE: return TQL_I_STATUS_MESSAGE;
	case TK_KIND: return TQL_I_KIND;
	case TK_PARENT: return TQL_I_PARENT;
	case TK_ROOTNAME: return TQL_I_ROOT_NAME;
	case TK_ROOTSERVICENAME: return TQL_I_ROOT_SERVICE;
	case TK_TRACEDURATION: return TQL_I_TRACE_DURATION;
	case TK_NESTEDSETLEFT: return TQL_I_NESTED_SET_LEFT;
	case TK_NESTEDSETRIGHT: return TQL_I_NESTED_SET_RIGHT;
	case TK_NESTEDSETPARENT: return TQL_I_NESTED_SET_PARENT;
	default: return -1;
	}
}

static int scoped_intrinsic(enum tql_tok scope, enum tql_tok t, const char **valid)
{
	switch (scope) {
	case TK_TRACE_COLON:
		*valid = "duration, rootName, rootService or id";
		switch (t) {
		case TK_KW_DURATION: return TQL_I_TRACE_DURATION;
		case TK_ROOTNAME: return TQL_I_ROOT_NAME;
		case TK_ROOTSERVICE: return TQL_I_ROOT_SERVICE;
		case TK_ID: return TQL_I_TRACE_ID;
		default: return -1;
		}
	case TK_SPAN_COLON:
		*valid = "duration, name, kind, status, statusMessage, id or parentID";
		switch (t) {
		case TK_KW_DURATION: return TQL_I_DURATION;
		case TK_NAME: return TQL_I_NAME;
		case TK_KIND: return TQL_I_KIND;
		case TK_STATUS: return TQL_I_STATUS;
		case TK_STATUS_MESSAGE: return TQL_I_STATUS_MESSAGE;
		case TK_ID: return TQL_I_SPAN_ID;
		case TK_PARENT_ID: return TQL_I_PARENT_ID;
		default: return -1;
		}
	case TK_EVENT_COLON:
		*valid = "name or timeSinceStart";
		switch (t) {
		case TK_NAME: return TQL_I_EVENT_NAME;
		case TK_TIMESINCESTART: return TQL_I_EVENT_TIME_SINCE_START;
		default: return -1;
		}
	case TK_LINK_COLON:
		*valid = "traceID or spanID";
		switch (t) {
		case TK_TRACE_ID: return TQL_I_LINK_TRACE_ID;
		case TK_SPAN_ID: return TQL_I_LINK_SPAN_ID;
		default: return -1;
		}
	default:
		*valid = "name or version";
		switch (t) {
		case TK_NAME: return TQL_I_INSTRUMENTATION_NAME;
		case TK_VERSION: return TQL_I_INSTRUMENTATION_VERSION;
		default: return -1;
		}
	}
}

static bool is_scope_colon(enum tql_tok t)
{
	return t == TK_TRACE_COLON || t == TK_SPAN_COLON || t == TK_EVENT_COLON || t == TK_LINK_COLON ||
	       t == TK_INSTRUMENTATION_COLON;
}

/* An intrinsic, scoped intrinsic or attribute; NULL (no error) if the
 * current token starts none of them. */
static struct tql_node *parse_field_ref(struct parser *p)
{
	const struct tql_token *t = peek(p);
	int in = unscoped_intrinsic(t->t);
	if (in >= 0) {
		adv(p);
		struct tql_node *n = node(p, TQL_N_INTRINSIC, t->off, t->off + t->len);
		if (n)
			n->u.intrinsic = (enum tql_intrinsic)in;
		return n;
	}
	if (is_scope_colon(t->t)) {
		adv(p);
		const struct tql_token *w = peek(p);
		const char *valid = "";
		in = scoped_intrinsic(t->t, w->t, &valid);
		if (in < 0) {
			char what[160];
			snprintf(what, sizeof(what), "%s after '%.*s'", valid, (int)t->len,
				 (const char *)p->text.p + t->off);
			return expected(p, what);
		}
		adv(p);
		struct tql_node *n = node(p, TQL_N_INTRINSIC, t->off, w->off + w->len);
		if (n)
			n->u.intrinsic = (enum tql_intrinsic)in;
		return n;
	}
	if (t->t == TK_ATTR) {
		adv(p);
		struct tql_node *n = node(p, TQL_N_ATTR, t->off, t->off + t->len);
		if (n) {
			n->u.attr.scope = t->u.attr.scope;
			n->u.attr.parent = t->u.attr.parent;
			n->u.attr.name = t->u.attr.name;
		}
		return n;
	}
	return NULL;
}

static bool is_operator_tok(enum tql_tok t)
{
	return (t >= TK_EQ && t <= TK_UNION_SIBL) || t == TK_LPAREN || t == TK_LBRACE || t == TK_COMMA;
}

/* "expected a value after '='" when an operator precedes, else plain. */
static void *expected_value(struct parser *p, const char *what)
{
	const struct tql_token *pv = prev(p);
	char buf[128];
	if (pv && is_operator_tok(pv->t)) {
		snprintf(buf, sizeof(buf), "%s after '%.*s'", what, (int)pv->len, (const char *)p->text.p + pv->off);
		return expected(p, buf);
	}
	return expected(p, what);
}

static struct tql_node *make_unary(struct parser *p, enum tql_op op, uint32_t off, struct tql_node *e)
{
	if (!e)
		return NULL;
	if (op == TQL_OP_NEG && e->kind == TQL_N_STATIC &&
	    (e->u.val.type == TQL_T_INT || e->u.val.type == TQL_T_DURATION || e->u.val.type == TQL_T_FLOAT)) {
		/* fold -literal; magnitudes come from the lexer, so never INT64_MIN */
		if (e->u.val.type == TQL_T_FLOAT)
			e->u.val.u.f = -e->u.val.u.f;
		else
			e->u.val.u.i = -e->u.val.u.i;
		e->len = end_off(e) - off;
		e->off = off;
		return e;
	}
	struct tql_node *n = node(p, TQL_N_UNARY, off, end_off(e));
	if (!n)
		return NULL;
	n->op = op;
	return link2(p, n, e, NULL);
}

static bool is_nil(const struct tql_node *n)
{
	return n->kind == TQL_N_STATIC && n->u.val.type == TQL_T_NIL;
}

static struct tql_node *make_binary(struct parser *p, enum tql_op op, struct tql_node *l, struct tql_node *r)
{
	if (!l || !r)
		return NULL;
	/* Tempo's nil rules: x != nil tests existence; nil = nil is false */
	if ((op == TQL_OP_NEQ || op == TQL_OP_EQ) && is_nil(l) && is_nil(r)) {
		l->u.val.type = TQL_T_BOOL;
		l->u.val.u.b = false;
		l->type = TQL_T_BOOL;
		l->len = end_off(r) - l->off;
		return l;
	}
	if (op == TQL_OP_NEQ && (is_nil(l) || is_nil(r))) {
		struct tql_node *e = is_nil(l) ? r : l;
		struct tql_node *n = node(p, TQL_N_UNARY, l->off, end_off(r));
		if (!n)
			return NULL;
		n->op = TQL_OP_EXISTS;
		return link2(p, n, e, NULL);
	}
	struct tql_node *n = node(p, TQL_N_BINARY, l->off, end_off(r));
	if (!n)
		return NULL;
	n->op = op;
	return link2(p, n, l, r);
}

static struct tql_node *parse_field_primary(struct parser *p)
{
	const struct tql_token *t = peek(p);
	if (t->t == TK_LPAREN) {
		adv(p);
		struct tql_node *e = parse_field(p, 1);
		if (!e)
			return NULL;
		if (!expect(p, TK_RPAREN, "an operator or ')'"))
			return NULL;
		return e;
	}
	if (t->t == TK_SUB || t->t == TK_NOT) {
		adv(p);
		struct tql_node *e = parse_field(p, t->t == TK_SUB ? 4 : 5);
		return make_unary(p, t->t == TK_SUB ? TQL_OP_NEG : TQL_OP_NOT, t->off, e);
	}
	if (is_static_tok(t->t))
		return parse_static(p);
	struct tql_node *n = parse_field_ref(p);
	if (n || p->rc)
		return n;
	return expected_value(p, "a value");
}

static struct tql_node *parse_field(struct parser *p, int min)
{
	if (!enter(p))
		return NULL;
	struct tql_node *l = parse_field_primary(p);
	while (l) {
		enum tql_op op = TQL_OP_NONE;
		int prec = field_prec(peek(p)->t, &op);
		if (!prec || prec < min)
			break;
		adv(p);
		struct tql_node *r = parse_field(p, prec == 6 ? prec : prec + 1);
		l = make_binary(p, op, l, r);
	}
	p->depth--;
	return l;
}

/* ---- stages ---- */

static struct sx parse_pipeline(struct parser *p, bool top);
static struct sx parse_stage(struct parser *p, int min);

static struct sx none(void)
{
	return (struct sx){NULL, C_SPANSET};
}

static struct tql_node *parse_filter(struct parser *p)
{
	const struct tql_token *open = adv(p);
	if (peek(p)->t == TK_RBRACE) {
		const struct tql_token *close = adv(p);
		struct tql_node *n = node(p, TQL_N_FILTER, open->off, close->off + 1);
		struct tql_node *t = node(p, TQL_N_STATIC, open->off, open->off);
		if (!n || !t)
			return NULL;
		t->u.val.type = TQL_T_BOOL;
		t->u.val.u.b = true;
		t->type = TQL_T_BOOL;
		return link2(p, n, t, NULL);
	}
	struct tql_node *e = parse_field(p, 1);
	if (!e)
		return NULL;
	const struct tql_token *close = peek(p);
	if (!expect(p, TK_RBRACE, "an operator or '}'"))
		return NULL;
	struct tql_node *n = node(p, TQL_N_FILTER, open->off, close->off + 1);
	return link2(p, n, e, NULL);
}

/* One attribute or intrinsic, as select(), by (...) and *_over_time() take. */
static struct tql_node *parse_attribute(struct parser *p)
{
	struct tql_node *n = parse_field_ref(p);
	if (!n && !p->rc)
		return expected_value(p, "an attribute or intrinsic");
	return n;
}

/* '(' attr (',' attr)* ')' into n->items. */
static bool parse_attr_list(struct parser *p, struct tql_node *n)
{
	uint32_t cap = 0;
	if (!expect(p, TK_LPAREN, "'('"))
		return false;
	do {
		struct tql_node *a = parse_attribute(p);
		if (!a || !push_item(p, &n->items, &n->n_items, &cap, a))
			return false;
	} while (accept(p, TK_COMMA));
	const struct tql_token *close = peek(p);
	if (!expect(p, TK_RPAREN, "',' or ')'"))
		return false;
	n->len = close->off + 1 - n->off;
	return true;
}

static struct tql_node *parse_aggregate(struct parser *p)
{
	const struct tql_token *t = adv(p);
	struct tql_node *n = node(p, TQL_N_AGGREGATE, t->off, t->off + t->len);
	if (!n)
		return NULL;
	n->u.agg = t->t == TK_COUNT ? TQL_AGG_COUNT
		 : t->t == TK_AVG ? TQL_AGG_AVG
		 : t->t == TK_MIN ? TQL_AGG_MIN
		 : t->t == TK_MAX ? TQL_AGG_MAX : TQL_AGG_SUM;
	if (!expect(p, TK_LPAREN, "'('"))
		return NULL;
	if (t->t != TK_COUNT) {
		struct tql_node *e = parse_field(p, 1);
		if (!e || !link2(p, n, e, NULL))
			return NULL;
	}
	const struct tql_token *close = peek(p);
	if (!expect(p, TK_RPAREN, t->t == TK_COUNT ? "')' (count() takes no argument)" : "an operator or ')'"))
		return NULL;
	n->len = close->off + 1 - n->off;
	return n;
}

static struct tql_node *parse_group_stage(struct parser *p)
{
	const struct tql_token *t = adv(p);
	enum tql_node_kind k = t->t == TK_BY ? TQL_N_BY : t->t == TK_COALESCE ? TQL_N_COALESCE : TQL_N_SELECT;
	struct tql_node *n = node(p, k, t->off, t->off + t->len);
	if (!n)
		return NULL;
	if (k == TQL_N_SELECT)
		return parse_attr_list(p, n) ? n : NULL;
	if (!expect(p, TK_LPAREN, "'('"))
		return NULL;
	if (k == TQL_N_BY) {
		struct tql_node *e = parse_field(p, 1);
		if (!e || !link2(p, n, e, NULL))
			return NULL;
	}
	const struct tql_token *close = peek(p);
	if (!expect(p, TK_RPAREN, k == TQL_N_BY ? "an operator or ')'" : "')' (coalesce() takes no argument)"))
		return NULL;
	n->len = close->off + 1 - n->off;
	return n;
}

/* An integer argument, as topk() and compare() take. */
static bool parse_int_arg(struct parser *p, int64_t *v)
{
	const struct tql_token *t = peek(p);
	bool neg = t->t == TK_SUB;
	if (neg)
		t = &p->t[p->i + 1];
	if (t->t != TK_INT) {
		expected(p, "an integer");
		return false;
	}
	if (neg)
		adv(p);
	adv(p);
	*v = neg ? -t->u.i : t->u.i;
	return true;
}

static struct tql_node *parse_metrics_fn(struct parser *p)
{
	const struct tql_token *t = adv(p);
	struct tql_node *n = node(p, TQL_N_METRICS, t->off, t->off + t->len);
	if (!n)
		return NULL;
	enum tql_metric_fn fn;
	switch (t->t) {
	case TK_RATE: fn = TQL_M_RATE; break;
	case TK_COUNT_OVER_TIME: fn = TQL_M_COUNT_OVER_TIME; break;
	case TK_MIN_OVER_TIME: fn = TQL_M_MIN_OVER_TIME; break;
	case TK_MAX_OVER_TIME: fn = TQL_M_MAX_OVER_TIME; break;
	case TK_AVG_OVER_TIME: fn = TQL_M_AVG_OVER_TIME; break;
	case TK_SUM_OVER_TIME: fn = TQL_M_SUM_OVER_TIME; break;
	case TK_QUANTILE_OVER_TIME: fn = TQL_M_QUANTILE_OVER_TIME; break;
	case TK_HISTOGRAM_OVER_TIME: fn = TQL_M_HISTOGRAM_OVER_TIME; break;
	default: fn = TQL_M_COMPARE; break;
	}
	n->u.metrics.fn = fn;
	n->u.metrics.topn = fn == TQL_M_COMPARE ? 10 : 0;
	if (!expect(p, TK_LPAREN, "'('"))
		return NULL;
	if (fn == TQL_M_COMPARE) {
		if (peek(p)->t != TK_LBRACE)
			return expected(p, "a spanset filter '{ ... }' as compare()'s first argument");
		struct tql_node *f = parse_filter(p);
		if (!f || !link2(p, n, f, NULL))
			return NULL;
		if (accept(p, TK_COMMA)) {
			if (!parse_int_arg(p, &n->u.metrics.topn))
				return NULL;
			if (accept(p, TK_COMMA)) {
				if (!parse_int_arg(p, &n->u.metrics.start_ns) || !expect(p, TK_COMMA, "',' and the end time") ||
				    !parse_int_arg(p, &n->u.metrics.end_ns))
					return NULL;
			}
		}
	} else if (fn != TQL_M_RATE && fn != TQL_M_COUNT_OVER_TIME) {
		struct tql_node *a = parse_attribute(p);
		if (!a || !link2(p, n, a, NULL))
			return NULL;
		if (fn == TQL_M_QUANTILE_OVER_TIME) {
			uint32_t cap = 0;
			if (peek(p)->t != TK_COMMA)
				return expected(p, "',' and at least one quantile, as in quantile_over_time(duration, 0.99)");
			while (accept(p, TK_COMMA)) {
				const struct tql_token *q = peek(p);
				bool neg = q->t == TK_SUB;
				if (neg)
					q = &p->t[p->i + 1];
				if (q->t != TK_INT && q->t != TK_FLOAT)
					return expected(p, "a quantile between 0 and 1");
				if (neg)
					adv(p);
				adv(p);
				double v = q->t == TK_INT ? (double)q->u.i : q->u.f;
				if (neg)
					v = -v;
				if (n->u.metrics.n_quantiles == cap) {
					uint32_t nc = cap ? cap * 2 : 4;
					double *nv = arena_grow(p->a, n->u.metrics.quantiles, cap, nc, sizeof(double));
					if (!nv)
						return oom(p);
					n->u.metrics.quantiles = nv;
					cap = nc;
				}
				n->u.metrics.quantiles[n->u.metrics.n_quantiles++] = v;
			}
		}
	}
	const struct tql_token *close = peek(p);
	if (!expect(p, TK_RPAREN, fn == TQL_M_RATE || fn == TQL_M_COUNT_OVER_TIME ? "')'" : "',' or ')'"))
		return NULL;
	n->len = close->off + 1 - n->off;
	if (fn != TQL_M_COMPARE && accept(p, TK_BY)) {
		if (!parse_attr_list(p, n))
			return NULL;
	}
	return n;
}

static struct tql_node *parse_topk(struct parser *p)
{
	const struct tql_token *t = adv(p);
	struct tql_node *n = node(p, TQL_N_STAGE2, t->off, t->off + t->len);
	if (!n)
		return NULL;
	n->u.stage2.kind = t->t == TK_TOPK ? TQL_S2_TOPK : TQL_S2_BOTTOMK;
	if (!expect(p, TK_LPAREN, "'('") || !parse_int_arg(p, &n->u.stage2.k))
		return NULL;
	const struct tql_token *close = peek(p);
	if (!expect(p, TK_RPAREN, "')'"))
		return NULL;
	n->len = close->off + 1 - n->off;
	return n;
}

static struct sx parse_stage_primary(struct parser *p)
{
	const struct tql_token *t = peek(p);
	struct sx r = none();
	switch (t->t) {
	case TK_LBRACE:
		r.n = parse_filter(p);
		r.c = C_SPANSET;
		return r;
	case TK_LPAREN: {
		adv(p);
		if (!enter(p))
			return none();
		r = parse_pipeline(p, false);
		p->depth--;
		if (r.n && !expect(p, TK_RPAREN, "an operator, '|' or ')'"))
			r.n = NULL;
		return r;
	}
	case TK_COUNT: case TK_AVG: case TK_MIN: case TK_MAX: case TK_SUM:
		r.n = parse_aggregate(p);
		r.c = C_AGG;
		return r;
	case TK_BY: case TK_COALESCE: case TK_SELECT:
		r.n = parse_group_stage(p);
		r.c = C_OPSTAGE;
		return r;
	case TK_RATE: case TK_COUNT_OVER_TIME: case TK_MIN_OVER_TIME: case TK_MAX_OVER_TIME:
	case TK_AVG_OVER_TIME: case TK_SUM_OVER_TIME: case TK_QUANTILE_OVER_TIME:
	case TK_HISTOGRAM_OVER_TIME: case TK_COMPARE:
		r.n = parse_metrics_fn(p);
		r.c = C_MFN;
		return r;
	case TK_TOPK: case TK_BOTTOMK:
		r.n = parse_topk(p);
		r.c = C_S2;
		return r;
	case TK_SUB: {
		const struct tql_token *num = &p->t[p->i + 1];
		if (num->t != TK_INT && num->t != TK_FLOAT && num->t != TK_DURATION) {
			adv(p);
			r.n = expected_value(p, "a number");
			return r;
		}
		adv(p);
		r.n = make_unary(p, TQL_OP_NEG, t->off, parse_static(p));
		r.c = C_LIT;
		return r;
	}
	default:
		break;
	}
	if (is_static_tok(t->t)) {
		r.n = parse_static(p);
		r.c = C_LIT;
		return r;
	}
	r.n = expected_value(p, "a spanset filter '{ ... }' or a pipeline stage");
	return r;
}

static int stage_prec(enum tql_tok t)
{
	switch (t) {
	case TK_AND: case TK_OR:
		return 1;
	case TK_EQ: case TK_NEQ: case TK_LT: case TK_LTE: case TK_GT: case TK_GTE: case TK_RE: case TK_NRE:
	case TK_DESC: case TK_ANCE: case TK_SIBL: case TK_NOT_CHILD: case TK_NOT_PARENT: case TK_NOT_DESC:
	case TK_NOT_ANCE: case TK_UNION_CHILD: case TK_UNION_PARENT: case TK_UNION_DESC: case TK_UNION_ANCE:
	case TK_UNION_SIBL:
		return 2;
	case TK_ADD: case TK_SUB:
		return 3;
	case TK_MUL: case TK_DIV: case TK_MOD:
		return 5;
	case TK_POW:
		return 6;
	default:
		return 0;
	}
}

static enum tql_op spanset_op(enum tql_tok t)
{
	switch (t) {
	case TK_AND: return TQL_OP_SS_AND;
	case TK_OR: return TQL_OP_SS_UNION;
	case TK_GT: return TQL_OP_SS_CHILD;
	case TK_LT: return TQL_OP_SS_PARENT;
	case TK_DESC: return TQL_OP_SS_DESC;
	case TK_ANCE: return TQL_OP_SS_ANCE;
	case TK_SIBL: return TQL_OP_SS_SIBL;
	case TK_NOT_CHILD: return TQL_OP_SS_NOT_CHILD;
	case TK_NOT_PARENT: return TQL_OP_SS_NOT_PARENT;
	case TK_NOT_DESC: return TQL_OP_SS_NOT_DESC;
	case TK_NOT_ANCE: return TQL_OP_SS_NOT_ANCE;
	case TK_NRE: return TQL_OP_SS_NOT_SIBL;
	case TK_UNION_CHILD: return TQL_OP_SS_UNION_CHILD;
	case TK_UNION_PARENT: return TQL_OP_SS_UNION_PARENT;
	case TK_UNION_DESC: return TQL_OP_SS_UNION_DESC;
	case TK_UNION_ANCE: return TQL_OP_SS_UNION_ANCE;
	case TK_UNION_SIBL: return TQL_OP_SS_UNION_SIBL;
	default: return TQL_OP_NONE;
	}
}

static enum tql_op cmp_op(enum tql_tok t)
{
	switch (t) {
	case TK_EQ: return TQL_OP_EQ;
	case TK_NEQ: return TQL_OP_NEQ;
	case TK_LT: return TQL_OP_LT;
	case TK_LTE: return TQL_OP_LTE;
	case TK_GT: return TQL_OP_GT;
	case TK_GTE: return TQL_OP_GTE;
	default: return TQL_OP_NONE;
	}
}

static enum tql_op arith_op(enum tql_tok t)
{
	switch (t) {
	case TK_ADD: return TQL_OP_ADD;
	case TK_SUB: return TQL_OP_SUB;
	case TK_MUL: return TQL_OP_MUL;
	case TK_DIV: return TQL_OP_DIV;
	case TK_MOD: return TQL_OP_MOD;
	case TK_POW: return TQL_OP_POW;
	default: return TQL_OP_NONE;
	}
}

static const char *cls_name(enum cls c)
{
	switch (c) {
	case C_SPANSET: return "a spanset";
	case C_AGG: return "an aggregate";
	case C_LIT: return "a value";
	case C_PSCALAR: return "a pipeline's aggregate";
	case C_BOOL: return "a comparison";
	case C_ROOTF: return "a comparison of pipelines";
	case C_OPSTAGE: return "a pipeline stage";
	case C_MFN: return "a metrics function";
	case C_MQ: return "a metrics query";
	default: return "topk()/bottomk()";
	}
}

static bool is_num_lit(const struct sx *s)
{
	return s->c == C_LIT && s->n->kind == TQL_N_STATIC &&
	       (s->n->u.val.type == TQL_T_INT || s->n->u.val.type == TQL_T_FLOAT);
}

static struct sx combine(struct parser *p, const struct tql_token *opt, struct sx l, struct sx r)
{
	struct sx out = none();
	if (!l.n || !r.n)
		return out;
	enum tql_op ss = spanset_op(opt->t), cmp = cmp_op(opt->t), ar = arith_op(opt->t);
	bool lscal = l.c == C_AGG || l.c == C_LIT, rscal = r.c == C_AGG || r.c == C_LIT;
	bool lpipe = l.c == C_PSCALAR || l.c == C_LIT, rpipe = r.c == C_PSCALAR || r.c == C_LIT;
	if (ss != TQL_OP_NONE && l.c == C_SPANSET && r.c == C_SPANSET) {
		out.n = link2(p, node(p, TQL_N_SPANSET_OP, l.n->off, end_off(r.n)), l.n, r.n);
		if (out.n)
			out.n->op = ss;
		out.c = C_SPANSET;
		return out;
	}
	if (cmp != TQL_OP_NONE && (l.c == C_MFN || l.c == C_MQ || l.c == C_S2)) {
		if (!is_num_lit(&r)) {
			char msg[128];
			snprintf(msg, sizeof(msg), "a metrics filter compares with a number, as in '%s 10'",
				 tql_op_name(cmp));
			fail_at(p, opt, TQL_ERR_SYNTAX, msg);
			return out;
		}
		struct tql_node *f = node(p, TQL_N_STAGE2, opt->off, end_off(r.n));
		if (!f)
			return out;
		f->op = cmp;
		f->u.stage2.kind = TQL_S2_FILTER;
		f->u.stage2.value = r.n->u.val.type == TQL_T_INT ? (double)r.n->u.val.u.i : r.n->u.val.u.f;
		out.n = link2(p, f, l.n, NULL); /* a: what it filters, until the pipeline detaches it */
		out.c = l.c;
		return out;
	}
	if (cmp != TQL_OP_NONE && ((lscal && rscal) || (lpipe && rpipe))) {
		out.n = link2(p, node(p, TQL_N_SCALAR_FILTER, l.n->off, end_off(r.n)), l.n, r.n);
		if (out.n)
			out.n->op = cmp;
		out.c = lscal && rscal ? C_BOOL : C_ROOTF;
		return out;
	}
	if (ar != TQL_OP_NONE && ((lscal && rscal) || (lpipe && rpipe))) {
		out.n = make_binary(p, ar, l.n, r.n);
		out.c = l.c == C_LIT && r.c == C_LIT ? C_LIT : lscal && rscal ? C_AGG : C_PSCALAR;
		return out;
	}
	if (ar != TQL_OP_NONE && l.c == C_MQ && r.c == C_MQ) {
		if (ar == TQL_OP_MOD || ar == TQL_OP_POW) {
			char msg[128];
			snprintf(msg, sizeof(msg), "metrics queries combine with + - * / only, not '%s'",
				 tql_op_name(ar));
			fail_at(p, opt, TQL_ERR_SYNTAX, msg);
			return out;
		}
		out.n = link2(p, node(p, TQL_N_METRICS_MATH, l.n->off, end_off(r.n)), l.n, r.n);
		if (out.n)
			out.n->op = ar;
		out.c = C_MQ;
		return out;
	}
	char msg[160];
	snprintf(msg, sizeof(msg), "'%.*s' cannot join %s and %s", (int)opt->len, (const char *)p->text.p + opt->off,
		 cls_name(l.c), cls_name(r.c));
	fail_at(p, opt, TQL_ERR_SYNTAX, msg);
	return out;
}

static struct sx parse_stage(struct parser *p, int min)
{
	if (!enter(p))
		return none();
	struct sx l = parse_stage_primary(p);
	while (l.n) {
		int prec = stage_prec(peek(p)->t);
		if (!prec || prec < min)
			break;
		const struct tql_token *opt = adv(p);
		struct sx r = parse_stage(p, prec == 6 ? prec : prec + 1);
		l = combine(p, opt, l, r);
	}
	p->depth--;
	return l;
}

/* The metrics filters chained on s (via ->a), outermost first, go to
 * chain[]; returns the node they filter. */
static struct tql_node *unchain(struct tql_node *s, struct tql_node **chain, uint32_t *k)
{
	*k = 0;
	while (s->kind == TQL_N_STAGE2 && s->u.stage2.kind == TQL_S2_FILTER && s->a && *k < TQL_MAX_DEPTH) {
		chain[(*k)++] = s;
		s = s->a;
	}
	return s;
}

/* Append the unchained filters to list in source order, detached. */
static bool push_filters(struct parser *p, struct tql_node **chain, uint32_t k, struct tql_node ***list,
			 uint32_t *n, uint32_t *cap)
{
	while (k--) {
		chain[k]->a = NULL;
		chain[k]->height = 1;
		if (!push_item(p, list, n, cap, chain[k]))
			return false;
	}
	return true;
}

static void *stage_error(struct parser *p, const struct tql_node *at, const char *msg)
{
	struct tql_token t = {.t = TK_IDENT, .off = at->off};
	return fail_at(p, &t, TQL_ERR_SYNTAX, msg);
}

static struct sx parse_pipeline(struct parser *p, bool top)
{
	struct sx out = none();
	struct sx *st = NULL;
	uint32_t n = 0, cap = 0;
	do {
		struct sx s = parse_stage(p, 1);
		if (!s.n)
			return out;
		if (n == cap) {
			uint32_t nc = cap ? cap * 2 : 4;
			struct sx *nv = arena_grow(p->a, st, n, nc, sizeof(*nv));
			if (!nv) {
				oom(p);
				return out;
			}
			st = nv;
			cap = nc;
		}
		st[n++] = s;
	} while (accept(p, TK_PIPE));
	if (!top && n == 1)
		return st[0];

	enum { S_START, S_SPANS, S_SCALAR, S_METRICS } state = S_START;
	struct tql_node **spans = NULL, **s2 = NULL, *fn = NULL, *mq = NULL, *last_agg = NULL;
	uint32_t n_spans = 0, cap_spans = 0, n_s2 = 0, cap_s2 = 0;
	struct tql_node *chain[TQL_MAX_DEPTH + 1];
	uint32_t n_chain = 0;
	for (uint32_t k = 0; k < n; k++) {
		struct tql_node *base = unchain(st[k].n, chain, &n_chain);
		if (state == S_SCALAR)
			return (struct sx){stage_error(p, last_agg, "compare the aggregate with a value, as in "
								    "'count() > 1'"), C_SPANSET};
		switch (st[k].c) {
		case C_SPANSET: case C_BOOL: case C_OPSTAGE:
			if (state == S_METRICS)
				return (struct sx){stage_error(p, base, "only topk(), bottomk() or a comparison with a "
									"number can follow a metrics function"), C_SPANSET};
			if (!push_item(p, &spans, &n_spans, &cap_spans, base))
				return out;
			state = S_SPANS;
			break;
		case C_AGG: case C_LIT:
			if (base->kind != TQL_N_AGGREGATE)
				return (struct sx){stage_error(p, base, st[k].c == C_LIT
					? "expected a spanset filter '{ ... }' or a pipeline stage, not a value"
					: "compare the aggregate with a value, as in 'count() > 1'"), C_SPANSET};
			if (state != S_SPANS)
				return (struct sx){stage_error(p, base, "an aggregate needs spans before it, as in "
									"'{ } | count() > 1'"), C_SPANSET};
			if (!push_item(p, &spans, &n_spans, &cap_spans, base))
				return out;
			last_agg = base;
			state = S_SCALAR;
			break;
		case C_MFN:
			if (state != S_SPANS)
				return (struct sx){stage_error(p, base, state == S_START
					? "a metrics function needs spans before it, as in '{ } | rate()'"
					: "a query has one metrics function"), C_SPANSET};
			fn = base;
			if (!push_filters(p, chain, n_chain, &s2, &n_s2, &cap_s2))
				return out;
			state = S_METRICS;
			break;
		case C_MQ:
			if (k != 0)
				return (struct sx){stage_error(p, base, "a metrics query cannot be a pipeline stage"),
						   C_SPANSET};
			mq = base;
			if (!push_filters(p, chain, n_chain, &s2, &n_s2, &cap_s2))
				return out;
			state = S_METRICS;
			break;
		case C_S2:
			if (state != S_METRICS)
				return (struct sx){stage_error(p, base, "topk() and bottomk() can only follow a metrics "
									"function"), C_SPANSET};
			if (!push_item(p, &s2, &n_s2, &cap_s2, base) ||
			    !push_filters(p, chain, n_chain, &s2, &n_s2, &cap_s2))
				return out;
			break;
		case C_PSCALAR: case C_ROOTF:
			if (n != 1)
				return (struct sx){stage_error(p, base, "a comparison of pipelines must be the whole "
									"query"), C_SPANSET};
			return st[0];
		}
	}
	uint32_t start = st[0].n->off, end = end_off(st[n - 1].n);
	if (state == S_METRICS) {
		struct tql_node *q = mq;
		if (fn) {
			struct tql_node *pl = node(p, TQL_N_PIPELINE, start, end_off(spans[n_spans - 1]));
			q = node(p, TQL_N_METRICS_QUERY, start, end);
			if (!pl || !q)
				return out;
			pl->items = spans;
			pl->n_items = n_spans;
			for (uint32_t k = 0; k < n_spans; k++)
				if (spans[k]->height >= pl->height)
					pl->height = spans[k]->height + 1;
			if (!link2(p, q, pl, fn))
				return out;
		}
		if (n_s2) {
			/* stages of the wrapped query run first, then these */
			uint32_t tot = q->n_items + n_s2;
			struct tql_node **all = arena_array(p->a, tot, sizeof(*all));
			if (!all)
				return (struct sx){oom(p), C_MQ};
			if (q->n_items)
				memcpy(all, q->items, q->n_items * sizeof(*all));
			memcpy(all + q->n_items, s2, n_s2 * sizeof(*all));
			q->items = all;
			q->n_items = tot;
		}
		q->len = end - q->off;
		return (struct sx){q, C_MQ};
	}
	if (state == S_SCALAR && top)
		return (struct sx){stage_error(p, last_agg, "compare the aggregate with a value, as in 'count() > 1'"),
				   C_SPANSET};
	if (top && n_spans == 1 && spans[0]->kind == TQL_N_PIPELINE)
		return (struct sx){spans[0], C_SPANSET};
	struct tql_node *pl = node(p, TQL_N_PIPELINE, start, end);
	if (!pl)
		return out;
	pl->items = spans;
	pl->n_items = n_spans;
	for (uint32_t k = 0; k < n_spans; k++)
		if (spans[k]->height >= pl->height)
			pl->height = spans[k]->height + 1;
	if (pl->height > TQL_MAX_DEPTH)
		return (struct sx){stage_error(p, pl, "query nested too deeply"), C_SPANSET};
	return (struct sx){pl, state == S_SCALAR ? C_PSCALAR : C_SPANSET};
}

static bool parse_hints(struct parser *p, struct tql_query *q)
{
	uint32_t cap = q->n_hints;
	adv(p); /* with */
	if (!expect(p, TK_LPAREN, "'(' after 'with'"))
		return false;
	do {
		const struct tql_token *k = peek(p);
		if (k->t != TK_IDENT) {
			expected(p, "a hint name");
			return false;
		}
		adv(p);
		if (!expect(p, TK_EQ, "'=' after the hint name"))
			return false;
		if (!is_static_tok(peek(p)->t) || peek(p)->t == TK_NIL) {
			expected_value(p, "a value");
			return false;
		}
		struct tql_node *v = parse_static(p);
		if (!v)
			return false;
		if (q->n_hints == cap) {
			uint32_t nc = cap ? cap * 2 : 4;
			struct tql_hint *nv = arena_grow(p->a, q->hints, q->n_hints, nc, sizeof(*nv));
			if (!nv) {
				oom(p);
				return false;
			}
			q->hints = nv;
			cap = nc;
		}
		struct tql_hint *h = &q->hints[q->n_hints++];
		h->key = k->u.s;
		h->value = v->u.val;
		h->off = k->off;
	} while (accept(p, TK_COMMA));
	return expect(p, TK_RPAREN, "',' or ')'");
}

struct tql_query *tql_parse(const char *text, size_t len, struct arena *a, struct tql_error *err)
{
	struct tql_error dummy;
	if (!err)
		err = &dummy;
	memset(err, 0, sizeof(*err));
	struct slice s = slice_make(text, len);
	if (len > TQL_MAX_QUERY_BYTES) {
		tql_errorf(err, TQL_ERR_LIMIT, s, 0, "query longer than %d bytes", TQL_MAX_QUERY_BYTES);
		return NULL;
	}
	struct tql_tokens toks;
	if (tql_lex(s, a, &toks) < 0) {
		tql_errorf(err, TQL_ERR_LIMIT, s, 0, "out of memory for the query");
		return NULL;
	}
	struct parser p = {.t = toks.v, .n = toks.n, .a = a, .text = s, .err = err};
	struct tql_query *q = arena_zalloc(a, sizeof(*q));
	if (!q)
		return oom(&p);
	q->text = s;
	if (peek(&p)->t == TK_EOF) {
		tql_errorf(err, TQL_ERR_SYNTAX, s, 0, "empty query: expected a spanset filter such as '{ }'");
		return NULL;
	}
	struct sx r = parse_pipeline(&p, true);
	if (!r.n)
		return NULL;
	while (peek(&p)->t == TK_WITH)
		if (!parse_hints(&p, q))
			return NULL;
	if (peek(&p)->t != TK_EOF) {
		expected(&p, "an operator, '|' or the end of the query");
		return NULL;
	}
	switch (r.c) {
	case C_SPANSET: case C_BOOL: case C_OPSTAGE:
		q->kind = TQL_Q_SPANS;
		break;
	case C_ROOTF:
		q->kind = TQL_Q_SCALAR;
		break;
	case C_MQ:
		q->kind = TQL_Q_METRICS;
		break;
	default:
		stage_error(&p, r.n, "compare the pipeline's aggregate with a value, as in '({ } | count()) > 1'");
		return NULL;
	}
	q->root = r.n;
	if (q->kind == TQL_Q_SPANS && r.n->kind != TQL_N_PIPELINE) {
		struct tql_node *pl = node(&p, TQL_N_PIPELINE, r.n->off, end_off(r.n));
		struct tql_node **items = arena_array(a, 1, sizeof(*items));
		if (!pl || !items)
			return oom(&p);
		items[0] = r.n;
		pl->items = items;
		pl->n_items = 1;
		pl->height = r.n->height + 1;
		q->root = pl;
	}
	if (tql_check(q, err) < 0)
		return NULL;
	return q;
}

bool tql_is_metrics(const struct tql_query *q)
{
	return q && q->kind == TQL_Q_METRICS;
}
