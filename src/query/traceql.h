/* TraceQL front end: lexer, parser, static type checker and canonical printer
 * for the query language Grafana Tempo defines (spanset filters, spanset
 * operators, pipelines, aggregates, metrics functions, hints). tql_parse turns
 * query text into an AST of plain structs in the caller's arena; the planner
 * and the vectorised executor (query/) walk it. Every node carries its source
 * span; errors carry line, column and byte offset. */
#ifndef CLEW_QUERY_TRACEQL_H
#define CLEW_QUERY_TRACEQL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/arena.h"
#include "base/buf.h"
#include "base/slice.h"

#define TQL_MAX_QUERY_BYTES (64 * 1024) /* longer queries fail with CLEW_ELIMIT */
#define TQL_MAX_DEPTH 256		/* nesting and AST height; deeper fails with CLEW_ELIMIT */

/* Static types. Attributes are TQL_T_UNKNOWN: their type is known only per
 * span at run time, so they never cause a static type error. */
enum tql_type {
	TQL_T_UNKNOWN = 0,
	TQL_T_NIL,
	TQL_T_BOOL,
	TQL_T_INT,
	TQL_T_FLOAT,
	TQL_T_STRING,
	TQL_T_DURATION, /* int64 nanoseconds */
	TQL_T_STATUS,
	TQL_T_KIND,
};

/* Span status and kind values, numbered as OTLP numbers them. */
enum tql_status { TQL_STATUS_UNSET = 0, TQL_STATUS_OK = 1, TQL_STATUS_ERROR = 2 };
enum tql_kind {
	TQL_KIND_UNSPECIFIED = 0,
	TQL_KIND_INTERNAL = 1,
	TQL_KIND_SERVER = 2,
	TQL_KIND_CLIENT = 3,
	TQL_KIND_PRODUCER = 4,
	TQL_KIND_CONSUMER = 5,
};

/* A literal. Strings are unescaped (slice into the arena or the query text). */
struct tql_value {
	enum tql_type type;
	union {
		bool b;
		int64_t i;   /* INT, DURATION (ns), STATUS, KIND */
		double f;
		struct slice s;
	} u;
};

/* Intrinsics. Legacy and scoped spellings of one field share one value
 * (`duration` and `span:duration` are both TQL_I_DURATION). */
enum tql_intrinsic {
	TQL_I_DURATION = 0,
	TQL_I_NAME,
	TQL_I_STATUS,
	TQL_I_STATUS_MESSAGE,
	TQL_I_KIND,
	TQL_I_CHILD_COUNT,
	TQL_I_PARENT,
	TQL_I_ROOT_NAME,
	TQL_I_ROOT_SERVICE,
	TQL_I_TRACE_DURATION,
	TQL_I_NESTED_SET_LEFT,
	TQL_I_NESTED_SET_RIGHT,
	TQL_I_NESTED_SET_PARENT,
	TQL_I_TRACE_ID,
	TQL_I_SPAN_ID,
	TQL_I_PARENT_ID,
	TQL_I_EVENT_NAME,
	TQL_I_EVENT_TIME_SINCE_START,
	TQL_I_LINK_TRACE_ID,
	TQL_I_LINK_SPAN_ID,
	TQL_I_INSTRUMENTATION_NAME,
	TQL_I_INSTRUMENTATION_VERSION,
	TQL_I_COUNT_,
};

/* Attribute scopes: `.x` is TQL_SCOPE_NONE (span first, then resource). */
enum tql_scope {
	TQL_SCOPE_NONE = 0,
	TQL_SCOPE_RESOURCE,
	TQL_SCOPE_SPAN,
	TQL_SCOPE_EVENT,
	TQL_SCOPE_LINK,
	TQL_SCOPE_INSTRUMENTATION,
};

/* Operators of every level: field expressions, spanset operators, scalar
 * filters, metrics math and metrics filters. */
enum tql_op {
	TQL_OP_NONE = 0,
	/* arithmetic */
	TQL_OP_ADD,
	TQL_OP_SUB,
	TQL_OP_MUL,
	TQL_OP_DIV,
	TQL_OP_MOD,
	TQL_OP_POW,
	/* comparison */
	TQL_OP_EQ,
	TQL_OP_NEQ,
	TQL_OP_LT,
	TQL_OP_LTE,
	TQL_OP_GT,
	TQL_OP_GTE,
	TQL_OP_RE,
	TQL_OP_NRE,
	/* logical */
	TQL_OP_AND,
	TQL_OP_OR,
	/* unary */
	TQL_OP_NEG,
	TQL_OP_NOT,
	TQL_OP_EXISTS, /* `x != nil` */
	/* spanset operators */
	TQL_OP_SS_AND,	  /* {a} && {b} */
	TQL_OP_SS_UNION,  /* {a} || {b} */
	TQL_OP_SS_CHILD,  /* >   */
	TQL_OP_SS_PARENT, /* <   */
	TQL_OP_SS_DESC,	  /* >>  */
	TQL_OP_SS_ANCE,	  /* <<  */
	TQL_OP_SS_SIBL,	  /* ~   */
	TQL_OP_SS_NOT_CHILD,
	TQL_OP_SS_NOT_PARENT,
	TQL_OP_SS_NOT_DESC,
	TQL_OP_SS_NOT_ANCE,
	TQL_OP_SS_NOT_SIBL,
	TQL_OP_SS_UNION_CHILD,
	TQL_OP_SS_UNION_PARENT,
	TQL_OP_SS_UNION_DESC,
	TQL_OP_SS_UNION_ANCE,
	TQL_OP_SS_UNION_SIBL,
	TQL_OP_COUNT_,
};

enum tql_agg { TQL_AGG_COUNT = 0, TQL_AGG_AVG, TQL_AGG_MIN, TQL_AGG_MAX, TQL_AGG_SUM };

enum tql_metric_fn {
	TQL_M_RATE = 0,
	TQL_M_COUNT_OVER_TIME,
	TQL_M_MIN_OVER_TIME,
	TQL_M_MAX_OVER_TIME,
	TQL_M_AVG_OVER_TIME,
	TQL_M_SUM_OVER_TIME,
	TQL_M_QUANTILE_OVER_TIME,
	TQL_M_HISTOGRAM_OVER_TIME,
	TQL_M_COMPARE,
};

enum tql_stage2 { TQL_S2_TOPK = 0, TQL_S2_BOTTOMK, TQL_S2_FILTER };

/* Node kinds. Field expressions are evaluated per span, the others per
 * spanset or per series. Children not listed for a kind are NULL. */
enum tql_node_kind {
	/* field expressions */
	TQL_N_STATIC = 0, /* u.val */
	TQL_N_INTRINSIC,  /* u.intrinsic */
	TQL_N_ATTR,	  /* u.attr */
	TQL_N_BINARY,	  /* op, a, b (also scalar arithmetic between aggregates) */
	TQL_N_UNARY,	  /* op NEG / NOT / EXISTS, a */
	/* spansets and pipelines */
	TQL_N_FILTER,	     /* { a }; `{}` has a = static true */
	TQL_N_SPANSET_OP,    /* op TQL_OP_SS_*, a, b: spanset expressions or pipelines */
	TQL_N_PIPELINE,	     /* items[n_items]: stages, left to right */
	TQL_N_SCALAR_FILTER, /* op comparison, a, b: aggregates/literals, or at the
				root pipelines ending in an aggregate */
	TQL_N_AGGREGATE,     /* u.agg, a (NULL for count()) */
	TQL_N_BY,	     /* a */
	TQL_N_COALESCE,
	TQL_N_SELECT, /* items: attributes and intrinsics */
	/* metrics */
	TQL_N_METRICS,	     /* u.metrics, a = attribute (the *_over_time argument) or the
				compare() filter, items = by() list */
	TQL_N_STAGE2,	     /* u.stage2: topk(k), bottomk(k) or `> value` */
	TQL_N_METRICS_QUERY, /* a = PIPELINE, b = METRICS, items = STAGE2 list */
	TQL_N_METRICS_MATH,  /* op + - * /, a, b = METRICS_QUERY or METRICS_MATH,
				items = STAGE2 list applied to the result */
};

struct tql_node {
	enum tql_node_kind kind;
	enum tql_op op;
	enum tql_type type; /* static type, filled by the checker */
	uint32_t off, len;  /* source bytes this node came from */
	uint32_t height;    /* 1 + the height of the deepest child (bounded) */
	struct tql_node *a, *b;
	struct tql_node **items;
	uint32_t n_items;
	union {
		struct tql_value val;
		enum tql_intrinsic intrinsic;
		struct {
			enum tql_scope scope;
			bool parent; /* parent.x, parent.span.x, parent.resource.x */
			struct slice name;
		} attr;
		enum tql_agg agg;
		struct {
			enum tql_metric_fn fn;
			double *quantiles; /* quantile_over_time */
			uint32_t n_quantiles;
			int64_t topn;	 /* compare(): default 10 */
			int64_t start_ns; /* compare(): 0 = not given */
			int64_t end_ns;
		} metrics;
		struct {
			enum tql_stage2 kind;
			int64_t k;	/* topk / bottomk */
			double value; /* filter: op is the comparison */
		} stage2;
	} u;
};

/* A query hint: `with (key = value, ...)`. */
struct tql_hint {
	struct slice key;
	struct tql_value value;
	uint32_t off;
};

enum tql_query_kind {
	TQL_Q_SPANS = 0, /* root is a PIPELINE (always, even of one stage) */
	TQL_Q_SCALAR,	 /* root is a SCALAR_FILTER comparing pipelines */
	TQL_Q_METRICS,	 /* root is a METRICS_QUERY or METRICS_MATH */
};

struct tql_query {
	enum tql_query_kind kind;
	struct tql_node *root;
	struct tql_hint *hints;
	uint32_t n_hints;
	struct slice text; /* the query text, not copied */
};

enum tql_error_kind { TQL_ERR_NONE = 0, TQL_ERR_SYNTAX, TQL_ERR_TYPE, TQL_ERR_LIMIT };

/* Where and why a query was refused. msg reads "LINE:COL: what", e.g.
 * "1:8: expected a value after '=' but found '}'". line and col are 1-based;
 * col counts characters (UTF-8 code points), off counts bytes. */
struct tql_error {
	enum tql_error_kind kind;
	uint32_t line, col, off;
	char msg[256];
};

/* Parse and type-check a query. The AST lives in arena a; string slices may
 * point into text, which must outlive the query. Returns NULL on failure with
 * err filled (CLEW_EPARSE-style: err->kind says syntax, type or limit). */
struct tql_query *tql_parse(const char *text, size_t len, struct arena *a, struct tql_error *err /* out */);

/* Type-check a parsed query, filling node->type. tql_parse already calls it;
 * exposed for callers that build or rewrite ASTs. 0 or CLEW_EPARSE with err. */
int tql_check(struct tql_query *q, struct tql_error *err /* out */);

/* Append the canonical text of q to out: one spelling per meaning, minimal
 * parentheses, so tql_format(tql_parse(tql_format(q))) == tql_format(q).
 * Errors are left in out->err (sticky). */
void tql_format(const struct tql_query *q, struct buf *out);

/* The canonical text of one node (a field expression, a stage, ...). */
void tql_format_node(const struct tql_node *n, struct buf *out);

/* True for metrics queries (rate(), *_over_time(), compare(), ...). */
bool tql_is_metrics(const struct tql_query *q);

/* Canonical names, e.g. "duration", "span:id", "&&", "int". Never NULL. */
const char *tql_intrinsic_name(enum tql_intrinsic i);
const char *tql_op_name(enum tql_op op);
const char *tql_type_name(enum tql_type t);
const char *tql_metric_fn_name(enum tql_metric_fn fn);
const char *tql_agg_name(enum tql_agg agg);

/* The static type of an intrinsic (duration -> TQL_T_DURATION, ...). */
enum tql_type tql_intrinsic_type(enum tql_intrinsic i);

/* 1-based line and character column of byte offset off in text. */
void tql_linecol(struct slice text, uint32_t off, uint32_t *line /* out */, uint32_t *col /* out */);

#endif
