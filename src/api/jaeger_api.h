/* The Jaeger-compatible query API under /jaeger (legacy /api/services,
 * /api/services/{s}/operations, /api/operations, /api/traces,
 * /api/dependencies and the api_v3 /api/v3/services, /api/v3/operations,
 * /api/v3/traces), so the Jaeger UI and Grafana's Jaeger data source work
 * with base URL http://host:3200/jaeger. Trace by id is trace_api's. It also
 * holds what the Zipkin read API shares with it: TraceQL filters built from
 * request parameters, trace search with whole traces, service dependencies. */
#ifndef CLEW_API_JAEGER_API_H
#define CLEW_API_JAEGER_API_H

#include <stdbool.h>
#include <stdint.h>

#include "api/query_api.h"
#include "base/buf.h"
#include "ingest/span.h"
#include "net/http.h"
#include "query/exec.h"
#include "store/store.h"

/* Answer req if its path is one of the Jaeger endpoints above; false (and
 * nothing written) when it is not, so the caller goes on routing. */
bool jaeger_api_handle(const struct query_api *q, struct http_request *req, struct http_response *resp);

/* A TraceQL spanset filter under construction: terms joined by &&, user
 * values quoted and escaped. Overflow is the buf's sticky error. */
struct jaeger_filter {
	struct buf text;
	int terms;
};

void jaeger_filter_init(struct jaeger_filter *f);
void jaeger_filter_free(struct jaeger_filter *f);
/* field = "value" (field is TraceQL, value any bytes). */
void jaeger_filter_str(struct jaeger_filter *f, const char *field, struct slice value);
/* A tag constraint on an attribute of any scope: key = "value", or its
 * number or boolean form too when value reads as one. error=true|false and
 * span.kind=<kind> become status and kind conditions. */
void jaeger_filter_tag(struct jaeger_filter *f, struct slice key, struct slice value);
/* A bare word of Zipkin's annotationQuery: an event (annotation) of that
 * name or an attribute of that key. */
void jaeger_filter_word(struct jaeger_filter *f, struct slice word);
/* Append value as a TraceQL string literal (quotes, escapes) to b. */
void jaeger_quote(struct buf *b, struct slice value);
/* A condition written as is (clew's own text, never user input). */
void jaeger_filter_term(struct jaeger_filter *f, const char *term);
/* The filter as "{ ... }" in arena a; false on overflow or no memory. */
bool jaeger_filter_text(struct jaeger_filter *f, struct arena *a, struct slice *out);

/* Called with each found trace, whole; non-zero stops (returned). */
typedef int (*jaeger_trace_fn)(void *ctx, const struct span_batch *b);

/* Search the store with TraceQL filter text over o (time range, limit),
 * read each matching trace whole, newest first, and call fn. 0, or a
 * negative code with *status (HTTP) and msg set. */
int jaeger_find_traces(struct store *store, struct http_request *req, struct slice filter,
		       const struct exec_options *o, jaeger_trace_fn fn, void *ctx, int *status, char *msg,
		       size_t msglen);

/* A call edge between two services: spans of child whose parent span is of
 * parent (or client/producer spans of parent naming peer.service child with
 * no span of child under them). errors: those whose child side failed. */
struct jaeger_dep {
	struct slice parent, child;
	uint64_t calls, errors;
};

/* The edges of traces overlapping [start_ns, end_ns], read from at most a
 * bounded number of spans. Edges and names in arena a. 0 or a negative
 * code (a budget running out is not one: the edges seen so far count). */
int jaeger_dependencies(struct store *store, struct arena *a, int64_t start_ns, int64_t end_ns,
			struct jaeger_dep **out, uint32_t *n);

/* Distinct values of a TraceQL field over spans matching filter (empty:
 * all), sorted, in the request arena. 0 or a negative code. */
int jaeger_values(struct store *store, struct http_request *req, const char *field, struct slice filter,
		  const struct exec_options *o, struct slice **values, uint32_t *n);

/* Parse a Go duration ("100ms", "1.5s", "1h30m", "250us") into ns; false
 * when it is not one. */
bool jaeger_parse_duration(struct slice s, int64_t *ns);

/* Parse a non-negative decimal integer; false when it is not one. */
bool jaeger_parse_i64(struct slice s, int64_t *out);

#endif
