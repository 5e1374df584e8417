/* TraceQL static type checker: fills node->type and refuses queries whose
 * meaning is wrong before any data is read (comparing duration with a string,
 * kind with a number, a regex on a number, arithmetic on strings, avg() of a
 * name, quantiles outside [0, 1], ...). Attributes have no static type, so
 * anything involving them is left to the executor. Also the name tables. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "base/err.h"
#include "query/traceql_int.h"

struct checker {
	struct slice text;
	struct tql_error *err;
	int rc;
};

static const char *const intrinsic_names[TQL_I_COUNT_] = {
	[TQL_I_DURATION] = "duration",
	[TQL_I_NAME] = "name",
	[TQL_I_STATUS] = "status",
	[TQL_I_STATUS_MESSAGE] = "statusMessage",
	[TQL_I_KIND] = "kind",
	[TQL_I_CHILD_COUNT] = "childCount",
	[TQL_I_PARENT] = "parent",
	[TQL_I_ROOT_NAME] = "rootName",
	[TQL_I_ROOT_SERVICE] = "rootServiceName",
	[TQL_I_TRACE_DURATION] = "traceDuration",
	[TQL_I_NESTED_SET_LEFT] = "nestedSetLeft",
	[TQL_I_NESTED_SET_RIGHT] = "nestedSetRight",
	[TQL_I_NESTED_SET_PARENT] = "nestedSetParent",
	[TQL_I_TRACE_ID] = "trace:id",
	[TQL_I_SPAN_ID] = "span:id",
	[TQL_I_PARENT_ID] = "span:parentID",
	[TQL_I_EVENT_NAME] = "event:name",
	[TQL_I_EVENT_TIME_SINCE_START] = "event:timeSinceStart",
	[TQL_I_LINK_TRACE_ID] = "link:traceID",
	[TQL_I_LINK_SPAN_ID] = "link:spanID",
	[TQL_I_INSTRUMENTATION_NAME] = "instrumentation:name",
	[TQL_I_INSTRUMENTATION_VERSION] = "instrumentation:version",
};

const char *tql_intrinsic_name(enum tql_intrinsic i)
{
	return (unsigned)i < TQL_I_COUNT_ && intrinsic_names[i] ? intrinsic_names[i] : "?";
}

enum tql_type tql_intrinsic_type(enum tql_intrinsic i)
{
	switch (i) {
	case TQL_I_DURATION: case TQL_I_TRACE_DURATION: case TQL_I_EVENT_TIME_SINCE_START:
		return TQL_T_DURATION;
	case TQL_I_STATUS:
		return TQL_T_STATUS;
	case TQL_I_KIND:
		return TQL_T_KIND;
	case TQL_I_CHILD_COUNT: case TQL_I_NESTED_SET_LEFT: case TQL_I_NESTED_SET_RIGHT:
	case TQL_I_NESTED_SET_PARENT:
		return TQL_T_INT;
	case TQL_I_PARENT:
		return TQL_T_UNKNOWN;
	default:
		return TQL_T_STRING;
	}
}

static const char *const op_names[TQL_OP_COUNT_] = {
	[TQL_OP_NONE] = "?",
	[TQL_OP_ADD] = "+",
	[TQL_OP_SUB] = "-",
	[TQL_OP_MUL] = "*",
	[TQL_OP_DIV] = "/",
	[TQL_OP_MOD] = "%",
	[TQL_OP_POW] = "^",
	[TQL_OP_EQ] = "=",
	[TQL_OP_NEQ] = "!=",
	[TQL_OP_LT] = "<",
	[TQL_OP_LTE] = "<=",
	[TQL_OP_GT] = ">",
	[TQL_OP_GTE] = ">=",
	[TQL_OP_RE] = "=~",
	[TQL_OP_NRE] = "!~",
	[TQL_OP_AND] = "&&",
	[TQL_OP_OR] = "||",
	[TQL_OP_NEG] = "-",
	[TQL_OP_NOT] = "!",
	[TQL_OP_EXISTS] = "!= nil",
	[TQL_OP_SS_AND] = "&&",
	[TQL_OP_SS_UNION] = "||",
	[TQL_OP_SS_CHILD] = ">",
	[TQL_OP_SS_PARENT] = "<",
	[TQL_OP_SS_DESC] = ">>",
	[TQL_OP_SS_ANCE] = "<<",
	[TQL_OP_SS_SIBL] = "~",
	[TQL_OP_SS_NOT_CHILD] = "!>",
	[TQL_OP_SS_NOT_PARENT] = "!<",
	[TQL_OP_SS_NOT_DESC] = "!>>",
	[TQL_OP_SS_NOT_ANCE] = "!<<",
	[TQL_OP_SS_NOT_SIBL] = "!~",
	[TQL_OP_SS_UNION_CHILD] = "&>",
	[TQL_OP_SS_UNION_PARENT] = "&<",
	[TQL_OP_SS_UNION_DESC] = "&>>",
	[TQL_OP_SS_UNION_ANCE] = "&<<",
	[TQL_OP_SS_UNION_SIBL] = "&~",
};

const char *tql_op_name(enum tql_op op)
{
	return (unsigned)op < TQL_OP_COUNT_ && op_names[op] ? op_names[op] : "?";
}

const char *tql_type_name(enum tql_type t)
{
	switch (t) {
	case TQL_T_NIL: return "nil";
	case TQL_T_BOOL: return "bool";
	case TQL_T_INT: return "int";
	case TQL_T_FLOAT: return "float";
	case TQL_T_STRING: return "string";
	case TQL_T_DURATION: return "duration";
	case TQL_T_STATUS: return "status";
	case TQL_T_KIND: return "kind";
	default: return "unknown";
	}
}

const char *tql_metric_fn_name(enum tql_metric_fn fn)
{
	switch (fn) {
	case TQL_M_RATE: return "rate";
	case TQL_M_COUNT_OVER_TIME: return "count_over_time";
	case TQL_M_MIN_OVER_TIME: return "min_over_time";
	case TQL_M_MAX_OVER_TIME: return "max_over_time";
	case TQL_M_AVG_OVER_TIME: return "avg_over_time";
	case TQL_M_SUM_OVER_TIME: return "sum_over_time";
	case TQL_M_QUANTILE_OVER_TIME: return "quantile_over_time";
	case TQL_M_HISTOGRAM_OVER_TIME: return "histogram_over_time";
	default: return "compare";
	}
}

const char *tql_agg_name(enum tql_agg agg)
{
	switch (agg) {
	case TQL_AGG_COUNT: return "count";
	case TQL_AGG_AVG: return "avg";
	case TQL_AGG_MIN: return "min";
	case TQL_AGG_MAX: return "max";
	default: return "sum";
	}
}

/* "a string", "an integer", ... for messages. */
static const char *type_desc(enum tql_type t)
{
	switch (t) {
	case TQL_T_NIL: return "nil";
	case TQL_T_BOOL: return "a boolean";
	case TQL_T_INT: return "an integer";
	case TQL_T_FLOAT: return "a float";
	case TQL_T_STRING: return "a string";
	case TQL_T_DURATION: return "a duration";
	case TQL_T_STATUS: return "a status";
	case TQL_T_KIND: return "a kind";
	default: return "an attribute";
	}
}

/* What a node is, for messages: "duration", "count()", "a string". */
static const char *node_desc(const struct tql_node *n, char *buf, size_t size)
{
	if (n->kind == TQL_N_INTRINSIC)
		return tql_intrinsic_name(n->u.intrinsic);
	if (n->kind == TQL_N_AGGREGATE) {
		snprintf(buf, size, "%s()", tql_agg_name(n->u.agg));
		return buf;
	}
	return type_desc(n->type);
}

static bool numeric(enum tql_type t)
{
	return t == TQL_T_INT || t == TQL_T_FLOAT || t == TQL_T_DURATION;
}

static bool num_or_unknown(enum tql_type t)
{
	return t == TQL_T_UNKNOWN || numeric(t);
}

static int fail(struct checker *c, const struct tql_node *at, const char *msg)
{
	if (!c->rc)
		c->rc = tql_errorf(c->err, TQL_ERR_TYPE, c->text, at->off, "%s", msg);
	return c->rc;
}

static int fail2(struct checker *c, const struct tql_node *at, const char *fmt1, const char *a, const char *b)
{
	char msg[200];
	snprintf(msg, sizeof(msg), "%s%s%s", fmt1, a, b);
	return fail(c, at, msg);
}

static enum tql_type arith_type(enum tql_type a, enum tql_type b)
{
	if (a == TQL_T_UNKNOWN || b == TQL_T_UNKNOWN)
		return TQL_T_UNKNOWN;
	if (a == TQL_T_DURATION || b == TQL_T_DURATION)
		return TQL_T_DURATION;
	if (a == TQL_T_FLOAT || b == TQL_T_FLOAT)
		return TQL_T_FLOAT;
	return TQL_T_INT;
}

/* Comparison and arithmetic rules shared by field and scalar expressions. */
static int check_binary(struct checker *c, struct tql_node *n)
{
	struct tql_node *l = n->a, *r = n->b;
	enum tql_type lt = l->type, rt = r->type;
	char b1[48], b2[48], msg[200];
	const char *opn = tql_op_name(n->op);
	if (lt == TQL_T_NIL || rt == TQL_T_NIL)
		return fail(c, lt == TQL_T_NIL ? l : r, "nil can only be used as '!= nil' (the attribute exists)");
	switch (n->op) {
	case TQL_OP_ADD: case TQL_OP_SUB: case TQL_OP_MUL: case TQL_OP_DIV: case TQL_OP_MOD: case TQL_OP_POW:
		if (!num_or_unknown(lt) || !num_or_unknown(rt)) {
			const struct tql_node *bad = num_or_unknown(lt) ? r : l;
			snprintf(msg, sizeof(msg), "cannot use '%s' on %s: arithmetic needs numbers or durations", opn,
				 node_desc(bad, b1, sizeof(b1)));
			return fail(c, bad, msg);
		}
		n->type = arith_type(lt, rt);
		return 0;
	case TQL_OP_AND: case TQL_OP_OR:
		if ((lt != TQL_T_UNKNOWN && lt != TQL_T_BOOL) || (rt != TQL_T_UNKNOWN && rt != TQL_T_BOOL)) {
			const struct tql_node *bad = (lt != TQL_T_UNKNOWN && lt != TQL_T_BOOL) ? l : r;
			snprintf(msg, sizeof(msg), "cannot use '%s' on %s: it joins conditions", opn,
				 node_desc(bad, b1, sizeof(b1)));
			return fail(c, bad, msg);
		}
		n->type = TQL_T_BOOL;
		return 0;
	case TQL_OP_RE: case TQL_OP_NRE:
		if ((lt != TQL_T_UNKNOWN && lt != TQL_T_STRING) || (rt != TQL_T_UNKNOWN && rt != TQL_T_STRING)) {
			const struct tql_node *bad = (lt != TQL_T_UNKNOWN && lt != TQL_T_STRING) ? l : r;
			snprintf(msg, sizeof(msg), "cannot use '%s' on %s: regular expressions match strings", opn,
				 node_desc(bad, b1, sizeof(b1)));
			return fail(c, bad, msg);
		}
		n->type = TQL_T_BOOL;
		return 0;
	default:
		break;
	}
	/* = != < <= > >= */
	if (!(lt == TQL_T_UNKNOWN || rt == TQL_T_UNKNOWN || lt == rt || (numeric(lt) && numeric(rt)))) {
		snprintf(msg, sizeof(msg), "cannot compare %s with %s", node_desc(l, b1, sizeof(b1)),
			 node_desc(r, b2, sizeof(b2)));
		return fail(c, r, msg);
	}
	if (n->op != TQL_OP_EQ && n->op != TQL_OP_NEQ) {
		enum tql_type t = lt != TQL_T_UNKNOWN ? lt : rt;
		if (t == TQL_T_BOOL || t == TQL_T_STATUS || t == TQL_T_KIND) {
			snprintf(msg, sizeof(msg), "cannot order %s with '%s'; use = or !=",
				 node_desc(lt != TQL_T_UNKNOWN ? l : r, b1, sizeof(b1)), opn);
			return fail(c, n, msg);
		}
	}
	n->type = TQL_T_BOOL;
	return 0;
}

static int check_field(struct checker *c, struct tql_node *n)
{
	char b1[48], msg[200];
	switch (n->kind) {
	case TQL_N_STATIC:
		n->type = n->u.val.type;
		return 0;
	case TQL_N_INTRINSIC:
		n->type = tql_intrinsic_type(n->u.intrinsic);
		return 0;
	case TQL_N_ATTR:
		n->type = TQL_T_UNKNOWN;
		return 0;
	case TQL_N_UNARY: {
		if (check_field(c, n->a) < 0)
			return c->rc;
		enum tql_type t = n->a->type;
		if (n->op == TQL_OP_EXISTS) {
			n->type = TQL_T_BOOL;
			return 0;
		}
		if (t == TQL_T_NIL)
			return fail(c, n->a, "nil can only be used as '!= nil' (the attribute exists)");
		if (n->op == TQL_OP_NOT) {
			if (t != TQL_T_UNKNOWN && t != TQL_T_BOOL) {
				snprintf(msg, sizeof(msg), "cannot use '!' on %s: it negates conditions",
					 node_desc(n->a, b1, sizeof(b1)));
				return fail(c, n->a, msg);
			}
			n->type = TQL_T_BOOL;
			return 0;
		}
		if (!num_or_unknown(t)) {
			snprintf(msg, sizeof(msg), "cannot use '-' on %s: it negates numbers and durations",
				 node_desc(n->a, b1, sizeof(b1)));
			return fail(c, n->a, msg);
		}
		n->type = t;
		return 0;
	}
	case TQL_N_BINARY:
		if (check_field(c, n->a) < 0 || check_field(c, n->b) < 0)
			return c->rc;
		return check_binary(c, n);
	default:
		return fail(c, n, "expected a field expression");
	}
}

/* The argument of avg(), min(), sum_over_time(), ...: numbers only. */
static int check_numeric_arg(struct checker *c, struct tql_node *arg, const char *fn)
{
	if (check_field(c, arg) < 0)
		return c->rc;
	if (!num_or_unknown(arg->type)) {
		char b1[48], msg[200];
		if (arg->kind == TQL_N_INTRINSIC)
			snprintf(msg, sizeof(msg), "cannot take %s() of %s (%s): it needs numbers or durations", fn,
				 node_desc(arg, b1, sizeof(b1)), type_desc(arg->type));
		else
			snprintf(msg, sizeof(msg), "cannot take %s() of %s: it needs numbers or durations", fn,
				 type_desc(arg->type));
		return fail(c, arg, msg);
	}
	return 0;
}

static int check_pipeline(struct checker *c, struct tql_node *n);

/* Aggregates, literals, arithmetic on them, pipelines ending in an
 * aggregate, and comparisons of those. */
static int check_scalar(struct checker *c, struct tql_node *n)
{
	switch (n->kind) {
	case TQL_N_STATIC:
		n->type = n->u.val.type;
		if (n->type == TQL_T_NIL)
			return fail(c, n, "nil can only be used as '!= nil' (the attribute exists)");
		return 0;
	case TQL_N_AGGREGATE:
		if (n->u.agg == TQL_AGG_COUNT) {
			n->type = TQL_T_INT;
			return 0;
		}
		if (check_numeric_arg(c, n->a, tql_agg_name(n->u.agg)) < 0)
			return c->rc;
		n->type = n->a->type;
		if (n->u.agg == TQL_AGG_AVG && n->type == TQL_T_INT)
			n->type = TQL_T_FLOAT;
		return 0;
	case TQL_N_PIPELINE:
		if (check_pipeline(c, n) < 0)
			return c->rc;
		n->type = n->n_items ? n->items[n->n_items - 1]->type : TQL_T_UNKNOWN;
		return 0;
	case TQL_N_BINARY:
		if (check_scalar(c, n->a) < 0 || check_scalar(c, n->b) < 0)
			return c->rc;
		return check_binary(c, n);
	case TQL_N_SCALAR_FILTER: {
		if (check_scalar(c, n->a) < 0 || check_scalar(c, n->b) < 0)
			return c->rc;
		const struct tql_node *bad = !num_or_unknown(n->a->type) ? n->a : !num_or_unknown(n->b->type) ? n->b : NULL;
		if (bad) {
			char b1[48], b2[48], msg[200];
			snprintf(msg, sizeof(msg), "cannot compare %s with %s", node_desc(n->a, b1, sizeof(b1)),
				 node_desc(n->b, b2, sizeof(b2)));
			return fail(c, bad, msg);
		}
		n->type = TQL_T_BOOL;
		return 0;
	}
	default:
		return fail(c, n, "expected an aggregate or a number");
	}
}

/* A spanset expression: filters joined by spanset operators, or pipelines. */
static int check_spanset(struct checker *c, struct tql_node *n)
{
	switch (n->kind) {
	case TQL_N_FILTER: {
		if (check_field(c, n->a) < 0)
			return c->rc;
		enum tql_type t = n->a->type;
		if (t == TQL_T_NIL)
			return fail(c, n->a, "nil can only be used as '!= nil' (the attribute exists)");
		if (t != TQL_T_BOOL && t != TQL_T_UNKNOWN) {
			char b1[48], msg[200];
			snprintf(msg, sizeof(msg), "a spanset filter needs a condition, not %s",
				 node_desc(n->a, b1, sizeof(b1)));
			return fail(c, n->a, msg);
		}
		n->type = TQL_T_BOOL;
		return 0;
	}
	case TQL_N_SPANSET_OP:
		if (check_spanset(c, n->a) < 0 || check_spanset(c, n->b) < 0)
			return c->rc;
		return 0;
	case TQL_N_PIPELINE:
		return check_pipeline(c, n);
	default:
		return fail(c, n, "expected a spanset");
	}
}

static int check_pipeline(struct checker *c, struct tql_node *n)
{
	for (uint32_t i = 0; i < n->n_items; i++) {
		struct tql_node *s = n->items[i];
		switch (s->kind) {
		case TQL_N_FILTER: case TQL_N_SPANSET_OP: case TQL_N_PIPELINE:
			if (check_spanset(c, s) < 0)
				return c->rc;
			break;
		case TQL_N_SCALAR_FILTER: case TQL_N_AGGREGATE:
			if (check_scalar(c, s) < 0)
				return c->rc;
			break;
		case TQL_N_BY:
			if (check_field(c, s->a) < 0)
				return c->rc;
			if (s->a->type == TQL_T_NIL)
				return fail(c, s->a, "cannot group by nil");
			break;
		case TQL_N_SELECT:
			for (uint32_t k = 0; k < s->n_items; k++)
				if (check_field(c, s->items[k]) < 0)
					return c->rc;
			break;
		case TQL_N_COALESCE:
			break;
		default:
			return fail(c, s, "expected a pipeline stage");
		}
	}
	return 0;
}

static int check_metrics_fn(struct checker *c, struct tql_node *n)
{
	char msg[200];
	enum tql_metric_fn fn = n->u.metrics.fn;
	for (uint32_t k = 0; k < n->n_items; k++)
		if (check_field(c, n->items[k]) < 0)
			return c->rc;
	if (fn == TQL_M_COMPARE) {
		if (check_spanset(c, n->a) < 0)
			return c->rc;
		if (n->u.metrics.topn <= 0)
			return fail(c, n, "compare() needs a positive number of top values");
		int64_t s = n->u.metrics.start_ns, e = n->u.metrics.end_ns;
		if ((s || e) && (s <= 0 || e <= 0))
			return fail(c, n, "compare() times must be positive Unix nanoseconds");
		if ((s || e) && e <= s)
			return fail(c, n, "compare() needs start < end");
		return 0;
	}
	if (n->a && check_numeric_arg(c, n->a, tql_metric_fn_name(fn)) < 0)
		return c->rc;
	if (fn == TQL_M_QUANTILE_OVER_TIME) {
		if (n->u.metrics.n_quantiles == 0)
			return fail(c, n, "quantile_over_time() needs at least one quantile");
		for (uint32_t k = 0; k < n->u.metrics.n_quantiles; k++) {
			double q = n->u.metrics.quantiles[k];
			if (!(q >= 0 && q <= 1)) {
				snprintf(msg, sizeof(msg), "quantile %g is outside [0, 1]", q);
				return fail(c, n, msg);
			}
		}
	}
	n->type = TQL_T_FLOAT;
	return 0;
}

static int check_stage2(struct checker *c, struct tql_node *n)
{
	if (n->kind != TQL_N_STAGE2)
		return fail(c, n, "expected topk(), bottomk() or a comparison");
	if (n->u.stage2.kind != TQL_S2_FILTER && n->u.stage2.k <= 0)
		return fail2(c, n, "", n->u.stage2.kind == TQL_S2_TOPK ? "topk()" : "bottomk()",
			     " needs a positive number of series");
	if (n->u.stage2.kind == TQL_S2_FILTER && !isfinite(n->u.stage2.value))
		return fail(c, n, "a metrics filter needs a finite number");
	return 0;
}

static int check_metrics(struct checker *c, struct tql_node *n)
{
	if (n->kind == TQL_N_METRICS_QUERY) {
		if (check_pipeline(c, n->a) < 0 || check_metrics_fn(c, n->b) < 0)
			return c->rc;
	} else if (n->kind == TQL_N_METRICS_MATH) {
		if (check_metrics(c, n->a) < 0 || check_metrics(c, n->b) < 0)
			return c->rc;
	} else {
		return fail(c, n, "expected a metrics query");
	}
	for (uint32_t k = 0; k < n->n_items; k++)
		if (check_stage2(c, n->items[k]) < 0)
			return c->rc;
	n->type = TQL_T_FLOAT;
	return 0;
}

static int check_hints(struct checker *c, const struct tql_query *q)
{
	for (uint32_t i = 0; i < q->n_hints; i++) {
		const struct tql_hint *h = &q->hints[i];
		struct tql_node at = {.off = h->off};
		if (slice_eq_cstr(h->key, "most_recent") && h->value.type != TQL_T_BOOL)
			return fail(c, &at, "hint most_recent takes true or false");
		if ((slice_eq_cstr(h->key, "sample") || slice_eq_cstr(h->key, "span_sample") ||
		     slice_eq_cstr(h->key, "trace_sample")) &&
		    h->value.type != TQL_T_BOOL && h->value.type != TQL_T_FLOAT && h->value.type != TQL_T_INT)
			return fail(c, &at, "sampling hints take true, false or a fraction");
	}
	return 0;
}

int tql_check(struct tql_query *q, struct tql_error *err)
{
	struct checker c = {.text = q->text, .err = err};
	switch (q->kind) {
	case TQL_Q_SPANS:
		check_pipeline(&c, q->root);
		break;
	case TQL_Q_SCALAR:
		check_scalar(&c, q->root);
		break;
	case TQL_Q_METRICS:
		check_metrics(&c, q->root);
		break;
	}
	if (!c.rc)
		check_hints(&c, q);
	return c.rc;
}
