/* The dashboard endpoints on the query port: GET/POST /api/v1/dashboards
 * and GET/PUT/DELETE /api/v1/dashboards/{id}, over the dashboard store
 * (alert/dashboard_store.h). Bodies are JSON; errors are the native
 * {"error": {"code", "message"}} shape, with "field" (and for a panel query
 * that does not parse, "panel" and "position") when a document is refused. */
#ifndef CLEW_API_DASHBOARD_API_H
#define CLEW_API_DASHBOARD_API_H

#include <stdbool.h>

#include "api/query_api.h"
#include "net/http.h"

/* Answer req if its path is /api/v1/dashboards or below it (any method;
 * 405 for one the path does not take, 503 when q has no dashboard store)
 * and return true; false for any other path. */
bool dashboard_api_handle(struct query_api *q, struct http_request *req, struct http_response *resp);

#endif
