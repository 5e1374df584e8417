/* Helpers shared by the read API handlers: JSON errors in the native shape,
 * path and query-string parsing, trace id parsing. */
#ifndef CLEW_API_API_UTIL_H
#define CLEW_API_API_UTIL_H

#include <stdbool.h>
#include <stdint.h>

#include "net/http.h"

/* {"error":{"code":status,"message":message}} with that HTTP status. */
void api_error(struct http_response *resp, struct http_request *req, int status, const char *message);

/* Set status 200 and a Content-Type header. */
void api_ok(struct http_response *resp, struct http_request *req, const char *content_type);

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

#endif
