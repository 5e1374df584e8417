/* Helpers shared by the read API handlers: JSON errors in the native shape,
 * path and query-string parsing, trace id parsing, and each query's limits
 * (memory and time budgets, cancellation when the client goes away). */
#ifndef CLEW_API_API_UTIL_H
#define CLEW_API_API_UTIL_H

#include <stdbool.h>
#include <stdint.h>

#include "api/query_api.h"
#include "base/json.h"
#include "net/http.h"
#include "query/exec.h"

/* {"error":{"code":status,"message":message}} with that HTTP status. */
void api_error(struct http_response *resp, struct http_request *req, int status, const char *message);

/* Start the native error object in resp's body, with that status and the
 * JSON Content-Type: {"error":{"code":status,"message":message and leave
 * the inner object open in *j for more keys; api_error_end closes it. */
void api_error_begin(struct json *j, struct http_response *resp, struct http_request *req, int status,
		     const char *message);

/* Close what api_error_begin opened. */
void api_error_end(struct json *j);

/* Set status 200 and a Content-Type header. */
void api_ok(struct http_response *resp, struct http_request *req, const char *content_type);

/* A JSON answer already written to resp's body, with that status; 500 "the
 * answer is too large" instead if the body hit its cap. */
void api_send_json(struct http_response *resp, struct http_request *req, int status);

/* True if the request's method is m. */
bool api_method_is(const struct http_request *req, const char *m);

/* True for GET and HEAD. */
bool api_is_get(const struct http_request *req);

/* A write request's body must be identity-encoded and not empty: false
 * after answering 415, or 400 with empty_msg. */
bool api_body_present(struct http_request *req, struct http_response *resp, const char *empty_msg);

/* Parse a trace id of 1 to 32 hex digits (Tempo trims leading zeros),
 * left-padded with zeros. false if it is not that. */
bool api_parse_trace_id(struct slice s, uint8_t out[16]);

/* The value of query parameter name, percent-decoded into the request
 * arena; false if absent. */
bool api_query_param(struct http_request *req, const char *name, struct slice *out);

/* Repeated query parameters: the value of the next occurrence of name at
 * or after *pos (start with 0), percent-decoded into the request arena;
 * *pos moves past it. false when there is none. */
bool api_query_param_next(struct http_request *req, const char *name, size_t *pos, struct slice *out);

/* If path starts with prefix, *rest gets what follows and true. */
bool api_path_rest(struct slice path, const char *prefix, struct slice *rest);

/* True if the request asks for protobuf in its Accept header. */
bool api_accepts_protobuf(const struct http_request *req);

/* Register the query limit metrics (clew_queries_cancelled_total and
 * clew_queries_over_budget_total); query_api_init calls it. */
void api_query_metrics_init(void);

/* Set o's memory and time budgets from q (clew serve --query-max-bytes,
 * --query-timeout; 0 keeps the executor's defaults) and its cancellation
 * from req's client: the executor stops when the client has gone away.
 * The cancellation state lives in req's arena. Every query entry point
 * calls this before it runs a scan. */
void api_query_limits(const struct query_api *q, struct http_request *req, struct exec_options *o);

/* After a scan run with api_query_limits' options: if the client went
 * away, count it in clew_queries_cancelled_total, answer 499 (nobody reads
 * it) and return true, whatever rc says (the executor may stop early with a
 * partial result). false otherwise. */
bool api_query_cancelled(struct http_response *resp, struct http_request *req, const struct exec_options *o);

/* The status and message api_query_error would answer for rc (and the
 * budget overrun counted), for APIs with their own error shape (Jaeger,
 * Zipkin). */
void api_query_error_text(int rc, const struct exec_options *o, const char *what, int *status /* out */,
			  char *msg, size_t msglen);

/* Answer a failed scan (rc < 0) and count budget overruns: 413 over the
 * memory budget, 504 over the time budget (both name the budget and say to
 * narrow the query), 499 if the client went away, 500 otherwise with
 * "<what> failed: <reason>". */
void api_query_error(struct http_response *resp, struct http_request *req, int rc, const struct exec_options *o,
		     const char *what);

/* The parameters of the native analysis endpoints. Each answers 400 with a
 * message naming the parameter and returns false when the value is bad. */

/* A Unix-seconds parameter as ns (the last ns of that second when end is
 * true); *present (may be NULL) tells whether it was given. */
bool api_seconds_param(struct http_request *req, struct http_response *resp, const char *name, bool end,
		       int64_t *ns, bool *present);

/* A time parameter as ns: Unix seconds (milli-, micro- or nanoseconds told
 * apart by size) or RFC 3339; *ns untouched when absent. */
bool api_time_param(struct http_request *req, struct http_response *resp, const char *name, int64_t *ns);

/* limit=1..max into *out; *out untouched when absent. */
bool api_limit_param(struct http_request *req, struct http_response *resp, uint32_t max, uint32_t *out);

/* text as a TraceQL spanset filter compiled for a scan (in the request's
 * arena; exec_query_free after use), or NULL after answering 400 (a parse
 * error with its position, a metrics query) or 503 (out of memory). */
struct exec_query *api_compile_filter(struct http_request *req, struct http_response *resp, struct slice text);

#endif
