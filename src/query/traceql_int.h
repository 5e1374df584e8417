/* Private to the TraceQL front end (traceql_*.c): tokens, the lexer that
 * turns query text into a token array, and the error helper shared by the
 * parser and the checker. */
#ifndef CLEW_QUERY_TRACEQL_INT_H
#define CLEW_QUERY_TRACEQL_INT_H

#include <stdarg.h>

#include "query/traceql.h"

enum tql_tok {
	TK_EOF = 0,
	TK_ERROR, /* a lexical error; tok.s holds the message */
	TK_IDENT,
	TK_STRING,
	TK_INT,
	TK_FLOAT,
	TK_DURATION,
	TK_ATTR, /* a whole attribute reference: scope, parent flag and name */
	TK_COMMA,
	TK_LBRACE,
	TK_RBRACE,
	TK_LPAREN,
	TK_RPAREN,
	TK_EQ,
	TK_NEQ,
	TK_RE,
	TK_NRE,
	TK_GT,
	TK_GTE,
	TK_LT,
	TK_LTE,
	TK_ADD,
	TK_SUB,
	TK_MUL,
	TK_DIV,
	TK_MOD,
	TK_POW,
	TK_AND,
	TK_OR,
	TK_NOT,
	TK_PIPE,
	TK_DESC,
	TK_ANCE,
	TK_SIBL,
	TK_NOT_CHILD,
	TK_NOT_PARENT,
	TK_NOT_DESC,
	TK_NOT_ANCE,
	TK_UNION_CHILD,
	TK_UNION_PARENT,
	TK_UNION_DESC,
	TK_UNION_ANCE,
	TK_UNION_SIBL,
	/* scope prefixes of scoped intrinsics */
	TK_TRACE_COLON,
	TK_SPAN_COLON,
	TK_EVENT_COLON,
	TK_LINK_COLON,
	TK_INSTRUMENTATION_COLON,
	/* keywords */
	TK_TRUE,
	TK_FALSE,
	TK_NIL,
	TK_STATUS_OK,
	TK_STATUS_ERROR,
	TK_STATUS_UNSET,
	TK_KIND_UNSPECIFIED,
	TK_KIND_INTERNAL,
	TK_KIND_SERVER,
	TK_KIND_CLIENT,
	TK_KIND_PRODUCER,
	TK_KIND_CONSUMER,
	TK_KW_DURATION,
	TK_CHILDCOUNT,
	TK_NAME,
	TK_STATUS,
	TK_STATUS_MESSAGE,
	TK_KIND,
	TK_ROOTNAME,
	TK_ROOTSERVICENAME,
	TK_ROOTSERVICE,
	TK_TRACEDURATION,
	TK_NESTEDSETLEFT,
	TK_NESTEDSETRIGHT,
	TK_NESTEDSETPARENT,
	TK_ID,
	TK_TRACE_ID,
	TK_SPAN_ID,
	TK_PARENT_ID,
	TK_TIMESINCESTART,
	TK_VERSION,
	TK_PARENT,
	TK_COUNT,
	TK_AVG,
	TK_MAX,
	TK_MIN,
	TK_SUM,
	TK_BY,
	TK_COALESCE,
	TK_SELECT,
	TK_RATE,
	TK_COUNT_OVER_TIME,
	TK_MIN_OVER_TIME,
	TK_MAX_OVER_TIME,
	TK_AVG_OVER_TIME,
	TK_SUM_OVER_TIME,
	TK_QUANTILE_OVER_TIME,
	TK_HISTOGRAM_OVER_TIME,
	TK_COMPARE,
	TK_TOPK,
	TK_BOTTOMK,
	TK_WITH,
};

struct tql_token {
	enum tql_tok t;
	uint32_t off, len;
	union {
		int64_t i; /* INT, DURATION (ns) */
		double f;
		struct slice s; /* STRING (unescaped), IDENT, ERROR message */
		struct {
			enum tql_scope scope;
			bool parent;
			struct slice name;
		} attr;
	} u;
};

struct tql_tokens {
	struct tql_token *v;
	uint32_t n;
};

/* Tokenise text into the arena. The array always ends with TK_EOF; a lexical
 * error becomes a TK_ERROR token followed by TK_EOF. 0 or CLEW_ENOMEM. */
int tql_lex(struct slice text, struct arena *a, struct tql_tokens *out /* out */);

/* A short description of a token for error messages: "'}'", "end of query",
 * "the string \"x\"", "the number 3", "'count'". Writes into buf. */
const char *tql_tok_describe(const struct tql_token *t, struct slice text, char *buf, size_t size);

/* Fill err (kind, position from off, message "LINE:COL: ..."); returns CLEW_EPARSE. */
int tql_errorf(struct tql_error *err, enum tql_error_kind kind, struct slice text, uint32_t off, const char *fmt,
	       ...) __attribute__((format(printf, 5, 6)));

/* Parse a duration such as 1h30m, 1.5s, 250ms, 10us, 7d into ns. false if s
 * is not a whole duration or overflows int64. */
bool tql_parse_duration(const uint8_t *s, size_t len, int64_t *ns /* out */);

#endif
