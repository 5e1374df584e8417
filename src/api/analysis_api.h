/* clew's native analysis endpoints under /api/v1: correlations (which
 * attributes set the bad spans apart), critical path (which services and
 * operations made the traces slow), the service graph, and the comparison
 * of two populations. Each lives in its own module; this header gathers
 * their handlers and the router that picks one by path. */
#ifndef CLEW_API_ANALYSIS_API_H
#define CLEW_API_ANALYSIS_API_H

#include <stdbool.h>

#include "api/query_api.h"
#include "net/http.h"

/* Answer req if its path is one of the analysis endpoints; false (nothing
 * written) when it is not, so the caller goes on routing. */
bool analysis_api_handle(struct query_api *q, struct http_request *req, struct http_response *resp);

/* GET /api/v1/correlations */
void correlations_api_get(struct query_api *q, struct http_request *req, struct http_response *resp);
/* GET /api/v1/compare */
void compare_api_get(struct query_api *q, struct http_request *req, struct http_response *resp);
/* GET /api/v1/critical-path */
void critical_path_api_get(struct query_api *q, struct http_request *req, struct http_response *resp);
/* GET /api/v1/service-graph */
void service_graph_api_get(struct query_api *q, struct http_request *req, struct http_response *resp);
/* GET /api/v1/errors: a service's error spans grouped by exception type */
void errors_api_get(struct query_api *q, struct http_request *req, struct http_response *resp);

#endif
