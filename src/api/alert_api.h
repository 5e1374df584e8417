/* The alerting endpoints on the query port: alert rules, alert instances,
 * silences, the notification delivery log and the service catalog, over
 * the alert engine (alert/alert_engine.h). Bodies are JSON; errors are the
 * native {"error": {"code", "message"}} shape, 400 naming the bad field. */
#ifndef CLEW_API_ALERT_API_H
#define CLEW_API_ALERT_API_H

#include <jansson.h>
#include <stdbool.h>

#include "api/query_api.h"
#include "net/http.h"

/* Answer req if its path is one of /api/v1/alert-rules, /api/v1/alerts,
 * /api/v1/silences, /api/v1/alert-deliveries, /api/v1/catalog or
 * /api/v1/slos (any
 * method; 405 for one the path does not take, 503 when q has no alert
 * engine) and return true; false for any other path. */
bool alert_api_handle(struct query_api *q, struct http_request *req, struct http_response *resp);

/* The notifier's enrichment hook (alert_engine_options.notify.enrich with
 * alert_engine_options.enrich_ctx = the struct query_api): fills a firing
 * payload's rootCause (top correlations of the group's spans) and
 * criticalPath (the top critical-path segment) from the store, each within
 * a small time budget; a part that fails is left null and explained in
 * rootCauseError / criticalPathError. */
void alert_api_enrich(void *ctx, json_t *payload);

#endif
