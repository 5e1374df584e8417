/* Tempo's TraceQL metrics endpoints on the query port:
 * /api/metrics/query_range (QueryRangeResponse: series of samples, one per
 * step) and /api/metrics/query (QueryInstantResponse: one value per
 * series). Request parameters are parsed here; the metrics executor
 * (query/metrics_exec.h) runs the query and query/metrics_out.h writes the
 * JSON. */
#ifndef CLEW_API_METRICS_API_H
#define CLEW_API_METRICS_API_H

#include <stdbool.h>
#include <stdint.h>

#include "api/query_api.h"
#include "net/http.h"
#include "store/store.h"

/* GET /api/metrics/query_range (instant false) or /api/metrics/query
 * (instant true). Parameters: q; start and end (Unix seconds, milli-,
 * micro- or nanoseconds told apart by size, or RFC3339), or since (a
 * duration back from end); default the last hour. step (a duration or
 * seconds; range queries only; default the range / 240, at least 1s): the
 * range is widened to whole steps as Tempo does. exemplars is accepted and
 * ignored. compare() answers Tempo's baseline/selection series. Errors:
 * 400 for a bad parameter, a parse error (with its position), a
 * non-metrics query or what clew does not run yet (metrics arithmetic); 413
 * past the series or memory limits; 504 past the time budget; 499 when the
 * client went away. */
void metrics_api_query(const struct query_api *q, bool instant, struct http_request *req,
		       struct http_response *resp);

/* A time parameter as nanoseconds since the Unix epoch: a number (seconds
 * below 1e11, then milliseconds below 1e14, microseconds below 1e17,
 * nanoseconds above; fractions allowed) or an RFC3339 timestamp
 * ("2024-05-01T10:00:00Z", "2024-05-01T10:00:00.5+02:00"). false if it is
 * neither. */
bool metrics_api_parse_time(struct slice s, int64_t *ns /* out */);

#endif
