/* Routing on the query port. Each API family lives in its own module; this
 * file maps paths to them and serves the health endpoints and /metrics. */
#include "api/query_api.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "api/api_util.h"
#include "api/trace_api.h"
#include "base/metrics.h"

static double g_head_spans(void *arg)
{
	struct store_stats st;
	store_get_stats(arg, &st);
	return (double)st.head_spans;
}

static double g_head_traces(void *arg)
{
	struct store_stats st;
	store_get_stats(arg, &st);
	return (double)st.head_traces;
}

static double g_head_bytes(void *arg)
{
	struct store_stats st;
	store_get_stats(arg, &st);
	return (double)st.head_bytes;
}

static double g_duplicates(void *arg)
{
	struct store_stats st;
	store_get_stats(arg, &st);
	return (double)st.duplicates;
}

static double g_wal_bytes(void *arg)
{
	struct store_stats st;
	store_get_stats(arg, &st);
	return (double)st.wal_bytes;
}

static double g_wal_records(void *arg)
{
	struct store_stats st;
	store_get_stats(arg, &st);
	return (double)st.wal_records;
}

static double g_wal_syncs(void *arg)
{
	struct store_stats st;
	store_get_stats(arg, &st);
	return (double)st.wal_syncs;
}

static double g_wal_sync_seconds(void *arg)
{
	struct store_stats st;
	store_get_stats(arg, &st);
	return (double)st.wal_sync_ns_total / 1e9;
}

static double g_memory_used(void *arg)
{
	struct budget *b = arg;
	return b ? (double)b->used_bytes : 0;
}

static double g_memory_limit(void *arg)
{
	struct budget *b = arg;
	return b ? (double)b->limit_bytes : 0;
}

static double g_rss_bytes(void *arg)
{
	FILE *f = fopen("/proc/self/statm", "r");
	if (!f)
		return 0;
	char line[128];
	double rss = 0;
	if (fgets(line, sizeof line, f)) {
		char *p = strchr(line, ' ');
		if (p)
			rss = strtod(p + 1, NULL) * (double)sysconf(_SC_PAGESIZE);
	}
	fclose(f);
	return rss;
}

void query_api_init(struct query_api *q)
{
	metric_gauge_fn("clew_head_spans", "Spans held in the head.", NULL, g_head_spans, q->store);
	metric_gauge_fn("clew_head_traces", "Distinct traces in the head.", NULL, g_head_traces, q->store);
	metric_gauge_fn("clew_head_bytes", "Memory held by the head.", NULL, g_head_bytes, q->store);
	metric_gauge_fn("clew_spans_duplicate_total", "Spans received again (client retries) and stored once.",
			NULL, g_duplicates, q->store);
	metric_gauge_fn("clew_wal_bytes_total", "Bytes appended to the WAL.", NULL, g_wal_bytes, q->store);
	metric_gauge_fn("clew_wal_records_total", "Records appended to the WAL.", NULL, g_wal_records, q->store);
	metric_gauge_fn("clew_wal_fsyncs_total", "WAL fsync calls.", NULL, g_wal_syncs, q->store);
	metric_gauge_fn("clew_wal_fsync_seconds_total", "Time spent in WAL fsync.", NULL, g_wal_sync_seconds,
			q->store);
	metric_gauge_fn("clew_memory_budget_used_bytes", "Bytes charged to the memory budget.", NULL,
			g_memory_used, q->memory);
	metric_gauge_fn("clew_memory_budget_limit_bytes", "The memory budget.", NULL, g_memory_limit, q->memory);
	metric_gauge_fn("clew_process_resident_memory_bytes", "Resident set size of the clew process.", NULL,
			g_rss_bytes, NULL);
}

static bool is_get(const struct http_request *req)
{
	return slice_eq_cstr(req->method, "GET") || slice_eq_cstr(req->method, "HEAD");
}

void query_api_handle(void *ctx, struct http_request *req, struct http_response *resp)
{
	struct query_api *q = ctx;
	struct slice rest;
	if (!is_get(req)) {
		api_error(resp, req, 405, "method not allowed");
		return;
	}
	if (slice_eq_cstr(req->path, "/ready")) {
		http_response_text(resp, req, 200, "text/plain", SLICE_LIT("ready\n"));
	} else if (slice_eq_cstr(req->path, "/api/echo")) {
		http_response_text(resp, req, 200, "text/plain", SLICE_LIT("echo"));
	} else if (slice_eq_cstr(req->path, "/metrics")) {
		metrics_render(&resp->body);
		api_ok(resp, req, "text/plain; version=0.0.4");
	} else if (api_path_rest(req->path, "/api/traces/", &rest)) {
		trace_api_get(q->store, TRACE_SHAPE_TEMPO_V1, rest, req, resp);
	} else if (api_path_rest(req->path, "/api/v2/traces/", &rest)) {
		trace_api_get(q->store, TRACE_SHAPE_TEMPO_V2, rest, req, resp);
	} else if (api_path_rest(req->path, "/api/v1/traces/", &rest)) {
		trace_api_get(q->store, TRACE_SHAPE_NATIVE, rest, req, resp);
	} else if (api_path_rest(req->path, "/jaeger/api/traces/", &rest)) {
		trace_api_get(q->store, TRACE_SHAPE_JAEGER, rest, req, resp);
	} else if (api_path_rest(req->path, "/jaeger/api/v3/traces/", &rest)) {
		trace_api_get(q->store, TRACE_SHAPE_JAEGER_V3, rest, req, resp);
	} else {
		api_error(resp, req, 404, "not found");
	}
}
