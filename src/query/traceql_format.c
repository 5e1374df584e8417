/* TraceQL canonical printer: one spelling per meaning (legacy intrinsic
 * names, `{}` for match-all, durations in their largest exact unit, shortest
 * round-tripping floats, double-quoted strings) and only the parentheses the
 * precedence rules need, so that parse(format(q)) formats to the same text.
 * Used by the tests for round trips and by the API to normalise queries. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "query/traceql_int.h"

static void fmt_node(const struct tql_node *n, struct buf *o);

static void put_float(double v, struct buf *o)
{
	char s[64];
	double m = fabs(v);
	if (v == 0 || (m >= 1e-4 && m < 1e16)) {
		/* plain decimals with as few digits as round-trip, at least one */
		for (int d = 1; d <= 24; d++) {
			snprintf(s, sizeof(s), "%.*f", d, v);
			if (strtod(s, NULL) == v)
				break;
		}
		buf_append_cstr(o, s);
		return;
	}
	for (int prec = 1; prec <= 17; prec++) {
		snprintf(s, sizeof(s), "%.*g", prec, v);
		if (strtod(s, NULL) == v)
			break;
	}
	buf_append_cstr(o, s);
	if (!strpbrk(s, ".eEn")) /* keep it a float: 1 -> 1.0 */
		buf_append_cstr(o, ".0");
}

static void put_duration(int64_t ns, struct buf *o)
{
	static const struct {
		const char *u;
		uint64_t ns;
	} units[] = {
		{"h", 3600000000000ULL}, {"m", 60000000000ULL}, {"s", 1000000000ULL},
		{"ms", 1000000ULL},	 {"us", 1000ULL},	{"ns", 1ULL},
	};
	uint64_t v = ns < 0 ? (uint64_t)0 - (uint64_t)ns : (uint64_t)ns;
	if (ns < 0)
		buf_append_byte(o, '-');
	if (v == 0) {
		buf_append_cstr(o, "0s");
		return;
	}
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (v % units[i].ns == 0) {
			buf_printf(o, "%llu%s", (unsigned long long)(v / units[i].ns), units[i].u);
			return;
		}
	}
}

static void put_string(struct slice s, struct buf *o)
{
	buf_append_byte(o, '"');
	for (size_t i = 0; i < s.len; i++) {
		uint8_t c = s.p[i];
		switch (c) {
		case '"': buf_append_cstr(o, "\\\""); break;
		case '\\': buf_append_cstr(o, "\\\\"); break;
		case '\n': buf_append_cstr(o, "\\n"); break;
		case '\t': buf_append_cstr(o, "\\t"); break;
		case '\r': buf_append_cstr(o, "\\r"); break;
		default:
			if (c < 0x20 || c == 0x7f)
				buf_printf(o, "\\x%02x", c);
			else
				buf_append_byte(o, c);
		}
	}
	buf_append_byte(o, '"');
}

static void put_value(const struct tql_value *v, struct buf *o)
{
	static const char *const status[] = {"unset", "ok", "error"};
	static const char *const kind[] = {"unspecified", "internal", "server", "client", "producer", "consumer"};
	switch (v->type) {
	case TQL_T_NIL: buf_append_cstr(o, "nil"); break;
	case TQL_T_BOOL: buf_append_cstr(o, v->u.b ? "true" : "false"); break;
	case TQL_T_INT: buf_printf(o, "%lld", (long long)v->u.i); break;
	case TQL_T_FLOAT: put_float(v->u.f, o); break;
	case TQL_T_STRING: put_string(v->u.s, o); break;
	case TQL_T_DURATION: put_duration(v->u.i, o); break;
	case TQL_T_STATUS: buf_append_cstr(o, v->u.i >= 0 && v->u.i <= 2 ? status[v->u.i] : "unset"); break;
	case TQL_T_KIND: buf_append_cstr(o, v->u.i >= 0 && v->u.i <= 5 ? kind[v->u.i] : "unspecified"); break;
	default: buf_append_cstr(o, "nil"); break;
	}
}

static bool bare_attr_char(uint8_t c)
{
	if (c <= ' ' || c == 0x7f)
		return false;
	return !strchr("{}()=~!<>&|^,\"\\", c);
}

static void put_attr(const struct tql_node *n, struct buf *o)
{
	static const char *const scopes[] = {".", "resource.", "span.", "event.", "link.", "instrumentation."};
	struct slice name = n->u.attr.name;
	if (n->u.attr.parent)
		buf_append_cstr(o, "parent.");
	if (!n->u.attr.parent || n->u.attr.scope != TQL_SCOPE_NONE)
		buf_append_cstr(o, (unsigned)n->u.attr.scope < 6 ? scopes[n->u.attr.scope] : ".");
	bool bare = name.len > 0;
	for (size_t i = 0; i < name.len && bare; i++)
		bare = bare_attr_char(name.p[i]);
	if (bare && n->u.attr.scope == TQL_SCOPE_NONE && !n->u.attr.parent && name.p[0] >= '0' && name.p[0] <= '9')
		bare = false; /* .5x would lex as a number */
	if (bare && n->u.attr.parent && n->u.attr.scope == TQL_SCOPE_NONE &&
	    ((name.len >= 5 && memcmp(name.p, "span.", 5) == 0) ||
	     (name.len >= 9 && memcmp(name.p, "resource.", 9) == 0)))
		bare = false; /* would lex as a scope */
	if (bare) {
		buf_append_slice(o, name);
		return;
	}
	buf_append_byte(o, '"');
	for (size_t i = 0; i < name.len; i++) {
		if (name.p[i] == '"' || name.p[i] == '\\')
			buf_append_byte(o, '\\');
		buf_append_byte(o, name.p[i]);
	}
	buf_append_byte(o, '"');
}

/* Binding strength of a node's own operator; 100 = atomic. */
static int op_prec(const struct tql_node *n)
{
	switch (n->kind) {
	case TQL_N_BINARY: case TQL_N_METRICS_MATH:
		switch (n->op) {
		case TQL_OP_AND: case TQL_OP_OR: return 1;
		case TQL_OP_ADD: case TQL_OP_SUB: return 3;
		case TQL_OP_MUL: case TQL_OP_DIV: case TQL_OP_MOD: return 5;
		case TQL_OP_POW: return 6;
		default: return 2;
		}
	case TQL_N_SCALAR_FILTER:
		return 2;
	case TQL_N_UNARY:
		return n->op == TQL_OP_EXISTS ? 2 : 4;
	case TQL_N_SPANSET_OP:
		return n->op == TQL_OP_SS_AND || n->op == TQL_OP_SS_UNION ? 1 : 2;
	case TQL_N_STATIC:
		if ((n->u.val.type == TQL_T_INT || n->u.val.type == TQL_T_DURATION) && n->u.val.u.i < 0)
			return 4;
		if (n->u.val.type == TQL_T_FLOAT && signbit(n->u.val.u.f))
			return 4;
		return 100;
	case TQL_N_PIPELINE: case TQL_N_METRICS_QUERY:
		return 0; /* always parenthesised as an operand */
	default:
		return 100;
	}
}

/* Binding strength of a node as an operand. */
static int prec_of(const struct tql_node *n)
{
	if (n->kind == TQL_N_METRICS_MATH && n->n_items)
		return 0; /* trailing topk() etc. need the parentheses */
	return op_prec(n);
}

static void operand(const struct tql_node *n, int parent, bool right, bool right_assoc, struct buf *o)
{
	int p = prec_of(n);
	bool paren;
	if (p == 4) /* unary or negative literal */
		paren = parent >= 5;
	else
		paren = p < parent || (p == parent && right != right_assoc);
	if (paren)
		buf_append_byte(o, '(');
	fmt_node(n, o);
	if (paren)
		buf_append_byte(o, ')');
}

static void fmt_binary(const struct tql_node *n, struct buf *o)
{
	int p = op_prec(n);
	bool ra = n->kind == TQL_N_BINARY && n->op == TQL_OP_POW;
	operand(n->a, p, false, ra, o);
	buf_printf(o, " %s ", tql_op_name(n->op));
	operand(n->b, p, true, ra, o);
}

static void fmt_list(struct tql_node **items, uint32_t n, struct buf *o)
{
	for (uint32_t i = 0; i < n; i++) {
		if (i)
			buf_append_cstr(o, ", ");
		fmt_node(items[i], o);
	}
}

static void fmt_stage2(const struct tql_node *s, struct buf *o)
{
	if (s->u.stage2.kind == TQL_S2_FILTER) {
		buf_printf(o, " %s ", tql_op_name(s->op));
		double v = s->u.stage2.value;
		if (v == floor(v) && fabs(v) < 1e15)
			buf_printf(o, "%lld", (long long)v);
		else
			put_float(v, o);
		return;
	}
	buf_printf(o, " | %s(%lld)", s->u.stage2.kind == TQL_S2_TOPK ? "topk" : "bottomk", (long long)s->u.stage2.k);
}

static void fmt_metrics(const struct tql_node *n, struct buf *o)
{
	enum tql_metric_fn fn = n->u.metrics.fn;
	buf_printf(o, "%s(", tql_metric_fn_name(fn));
	if (fn == TQL_M_COMPARE) {
		fmt_node(n->a, o);
		if (n->u.metrics.start_ns || n->u.metrics.end_ns)
			buf_printf(o, ", %lld, %lld, %lld", (long long)n->u.metrics.topn, (long long)n->u.metrics.start_ns,
				   (long long)n->u.metrics.end_ns);
		else if (n->u.metrics.topn != 10)
			buf_printf(o, ", %lld", (long long)n->u.metrics.topn);
		buf_append_byte(o, ')');
		return;
	}
	if (n->a)
		fmt_node(n->a, o);
	for (uint32_t i = 0; i < n->u.metrics.n_quantiles; i++) {
		buf_append_cstr(o, ", ");
		put_float(n->u.metrics.quantiles[i], o);
	}
	buf_append_byte(o, ')');
	if (n->n_items) {
		buf_append_cstr(o, " by (");
		fmt_list(n->items, n->n_items, o);
		buf_append_byte(o, ')');
	}
}

static void fmt_node(const struct tql_node *n, struct buf *o)
{
	if (!n) {
		buf_append_cstr(o, "?");
		return;
	}
	switch (n->kind) {
	case TQL_N_STATIC:
		put_value(&n->u.val, o);
		break;
	case TQL_N_INTRINSIC:
		buf_append_cstr(o, tql_intrinsic_name(n->u.intrinsic));
		break;
	case TQL_N_ATTR:
		put_attr(n, o);
		break;
	case TQL_N_UNARY: {
		bool paren = n->a->kind == TQL_N_BINARY || n->a->kind == TQL_N_UNARY || prec_of(n->a) == 4;
		if (n->op == TQL_OP_EXISTS) {
			operand(n->a, 2, false, false, o);
			buf_append_cstr(o, " != nil");
			break;
		}
		buf_append_cstr(o, n->op == TQL_OP_NOT ? "!" : "-");
		if (paren)
			buf_append_byte(o, '(');
		fmt_node(n->a, o);
		if (paren)
			buf_append_byte(o, ')');
		break;
	}
	case TQL_N_BINARY: case TQL_N_SPANSET_OP: case TQL_N_SCALAR_FILTER:
		fmt_binary(n, o);
		break;
	case TQL_N_FILTER:
		if (n->a->kind == TQL_N_STATIC && n->a->u.val.type == TQL_T_BOOL && n->a->u.val.u.b) {
			buf_append_cstr(o, "{}");
		} else {
			buf_append_cstr(o, "{ ");
			fmt_node(n->a, o);
			buf_append_cstr(o, " }");
		}
		break;
	case TQL_N_PIPELINE:
		for (uint32_t i = 0; i < n->n_items; i++) {
			if (i)
				buf_append_cstr(o, " | ");
			const struct tql_node *s = n->items[i];
			bool paren = s->kind == TQL_N_PIPELINE;
			if (paren)
				buf_append_byte(o, '(');
			fmt_node(s, o);
			if (paren)
				buf_append_byte(o, ')');
		}
		break;
	case TQL_N_AGGREGATE:
		buf_printf(o, "%s(", tql_agg_name(n->u.agg));
		if (n->a)
			fmt_node(n->a, o);
		buf_append_byte(o, ')');
		break;
	case TQL_N_BY:
		buf_append_cstr(o, "by(");
		fmt_node(n->a, o);
		buf_append_byte(o, ')');
		break;
	case TQL_N_COALESCE:
		buf_append_cstr(o, "coalesce()");
		break;
	case TQL_N_SELECT:
		buf_append_cstr(o, "select(");
		fmt_list(n->items, n->n_items, o);
		buf_append_byte(o, ')');
		break;
	case TQL_N_METRICS:
		fmt_metrics(n, o);
		break;
	case TQL_N_STAGE2:
		fmt_stage2(n, o);
		break;
	case TQL_N_METRICS_QUERY:
		fmt_node(n->a, o);
		buf_append_cstr(o, " | ");
		fmt_node(n->b, o);
		for (uint32_t i = 0; i < n->n_items; i++)
			fmt_stage2(n->items[i], o);
		break;
	case TQL_N_METRICS_MATH:
		fmt_binary(n, o);
		for (uint32_t i = 0; i < n->n_items; i++)
			fmt_stage2(n->items[i], o);
		break;
	}
}

void tql_format_node(const struct tql_node *n, struct buf *out)
{
	fmt_node(n, out);
}

void tql_format(const struct tql_query *q, struct buf *out)
{
	fmt_node(q->root, out);
	for (uint32_t i = 0; i < q->n_hints; i++) {
		buf_append_cstr(out, i ? ", " : " with (");
		buf_append_slice(out, q->hints[i].key);
		buf_append_byte(out, '=');
		put_value(&q->hints[i].value, out);
	}
	if (q->n_hints)
		buf_append_byte(out, ')');
}
