/* The Zipkin v2 read API under /zipkin/api/v2 (services, spans,
 * remoteServices, traces, trace/{id}, traceMany, dependencies,
 * autocompleteKeys, autocompleteValues), answered from the store in Zipkin
 * v2 JSON so Zipkin's UI and tools can read what clew holds. */
#ifndef CLEW_API_ZIPKIN_API_H
#define CLEW_API_ZIPKIN_API_H

#include <stdbool.h>

#include "api/query_api.h"
#include "net/http.h"
#include "store/store.h"

/* Answer req if its path is one of the endpoints above; false (and nothing
 * written) when it is not, so the caller goes on routing. */
bool zipkin_api_handle(const struct query_api *q, struct http_request *req, struct http_response *resp);

#endif
