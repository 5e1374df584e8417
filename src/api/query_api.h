/* The query port (:3200): one HTTP handler that routes to the read APIs
 * (Tempo-, Jaeger- and Zipkin-compatible, clew's native /api/v1), the
 * health endpoints and /metrics. */
#ifndef CLEW_API_QUERY_API_H
#define CLEW_API_QUERY_API_H

#include "base/budget.h"
#include "net/http.h"
#include "store/store.h"

struct service_graph_live;
struct alert_engine;
struct dashboard_store;

struct query_api {
	struct store *store;
	struct budget *memory;
	/* the service graph kept up to date as spans arrive; may be NULL */
	struct service_graph_live *graph;
	/* Each query's budgets (clew serve --query-max-bytes, --query-timeout);
	 * 0 = the executor's defaults. Handlers apply them, and the stop when
	 * the client goes away, with api_query_limits (api/api_util.h). */
	size_t query_mem_bytes;
	int64_t query_time_ns;
	/* the alert engine behind /api/v1/alert-rules, alerts, silences,
	 * alert-deliveries and catalog; may be NULL (they answer 503) */
	struct alert_engine *alerts;
	/* the dashboards behind /api/v1/dashboards; may be NULL (503) */
	struct dashboard_store *dashboards;
};

/* Register the query side's metrics (store gauges included); once. */
void query_api_init(struct query_api *q);

/* The handler for the query port; ctx is a struct query_api. */
void query_api_handle(void *ctx, struct http_request *req, struct http_response *resp);

#endif
