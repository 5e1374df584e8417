/* Routing on the query port. Each API family lives in its own module; this
 * file maps paths to them and serves the health endpoints and /metrics. */
#include "api/query_api.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "api/alert_api.h"
#include "api/analysis_api.h"
#include "api/api_util.h"
#include "api/dashboard_api.h"
#include "api/jaeger_api.h"
#include "api/metrics_api.h"
#include "api/search_api.h"
#include "api/trace_api.h"
#include "api/ui_api.h"
#include "api/zipkin_api.h"
#include "base/err.h"
#include "base/metrics.h"

/* A store statistic as a /metrics gauge: one reader per field, from a table. */
struct store_gauge {
	const char *name, *help;
	size_t offset; /* of a uint64_t in struct store_stats */
	double scale;
	struct store *store;
};

static struct store_gauge store_gauges[] = {
	{"clew_head_spans", "Spans held in the head.", offsetof(struct store_stats, head_spans), 1, NULL},
	{"clew_head_traces", "Distinct traces in the head.", offsetof(struct store_stats, head_traces), 1, NULL},
	{"clew_head_bytes", "Memory held by the head.", offsetof(struct store_stats, head_bytes), 1, NULL},
	{"clew_spans_duplicate_total", "Spans received again (client retries) and stored once.",
	 offsetof(struct store_stats, duplicates), 1, NULL},
	{"clew_wal_bytes_total", "Bytes appended to the WAL.", offsetof(struct store_stats, wal_bytes), 1, NULL},
	{"clew_wal_records_total", "Records appended to the WAL.", offsetof(struct store_stats, wal_records), 1,
	 NULL},
	{"clew_wal_fsyncs_total", "WAL fsync calls.", offsetof(struct store_stats, wal_syncs), 1, NULL},
	{"clew_wal_fsync_seconds_total", "Time spent in WAL fsync.", offsetof(struct store_stats, wal_sync_ns_total),
	 1e-9, NULL},
	{"clew_wal_disk_bytes", "Bytes of WAL segments on disk.", offsetof(struct store_stats, wal_disk_bytes), 1,
	 NULL},
	{"clew_head_sealed", "Heads cut and waiting for their flush into a block.",
	 offsetof(struct store_stats, sealed_heads), 1, NULL},
	{"clew_blocks", "Block files in the store.", offsetof(struct store_stats, blocks), 1, NULL},
	{"clew_block_bytes", "Bytes of block files.", offsetof(struct store_stats, block_bytes), 1, NULL},
	{"clew_block_spans", "Spans held in blocks.", offsetof(struct store_stats, block_spans), 1, NULL},
	{"clew_flushes_total", "Heads flushed into blocks.", offsetof(struct store_stats, flushes), 1, NULL},
	{"clew_flush_failures_total", "Failed flushes (retried; the head stays in memory).",
	 offsetof(struct store_stats, flush_failures), 1, NULL},
	{"clew_compactions_total", "Block merges.", offsetof(struct store_stats, compactions), 1, NULL},
	{"clew_retention_deletions_total", "Blocks deleted by --retention or --max-disk.",
	 offsetof(struct store_stats, retention_deletions), 1, NULL},
};

static double read_store_gauge(void *arg)
{
	const struct store_gauge *g = arg;
	struct store_stats st;
	store_get_stats(g->store, &st);
	uint64_t v;
	memcpy(&v, (const char *)&st + g->offset, sizeof v);
	return (double)v * g->scale;
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
	for (size_t i = 0; i < sizeof store_gauges / sizeof store_gauges[0]; i++) {
		store_gauges[i].store = q->store;
		metric_gauge_fn(store_gauges[i].name, store_gauges[i].help, NULL, read_store_gauge, &store_gauges[i]);
	}
	metric_gauge_fn("clew_memory_budget_used_bytes", "Bytes charged to the memory budget.", NULL,
			g_memory_used, q->memory);
	metric_gauge_fn("clew_memory_budget_limit_bytes", "The memory budget.", NULL, g_memory_limit, q->memory);
	api_query_metrics_init();
	metric_gauge_fn("clew_process_resident_memory_bytes", "Resident set size of the clew process.", NULL,
			g_rss_bytes, NULL);
}

static bool is_get(const struct http_request *req)
{
	return slice_eq_cstr(req->method, "GET") || slice_eq_cstr(req->method, "HEAD");
}

/* Tempo's /flush: seal the head and write it into blocks now; with
 * compact=1 also expire and compact (store_maintain). For tests and
 * operators who want the head on disk before a backup. */
static void flush(struct query_api *q, struct http_request *req, struct http_response *resp)
{
	if (!is_get(req) && !slice_eq_cstr(req->method, "POST")) {
		api_error(resp, req, 405, "method not allowed");
		return;
	}
	struct slice v;
	bool compact = api_query_param(req, "compact", &v) && (slice_eq_cstr(v, "1") || slice_eq_cstr(v, "true"));
	int rc = store_flush(q->store);
	if (rc == 0 && compact)
		rc = store_maintain(q->store);
	if (rc != 0) {
		char msg[160];
		snprintf(msg, sizeof msg, "flush failed (%s); the data stays in the head and the WAL", err_str(rc));
		api_error(resp, req, 503, msg);
		return;
	}
	http_response_text(resp, req, 204, "text/plain", SLICE_LIT(""));
}

void query_api_handle(void *ctx, struct http_request *req, struct http_response *resp)
{
	struct query_api *q = ctx;
	struct slice rest;
	bool v2;
	if (slice_eq_cstr(req->path, "/flush")) {
		flush(q, req, resp);
		return;
	}
	/* the alerting APIs take POST, PUT and DELETE too */
	if (alert_api_handle(q, req, resp))
		return;
	if (dashboard_api_handle(q, req, resp))
		return;
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
	} else if (slice_eq_cstr(req->path, "/api/search")) {
		search_api_search(q, req, resp);
	} else if (slice_eq_cstr(req->path, "/api/metrics/query_range")) {
		metrics_api_query(q, false, req, resp);
	} else if (slice_eq_cstr(req->path, "/api/metrics/query")) {
		metrics_api_query(q, true, req, resp);
	} else if (slice_eq_cstr(req->path, "/api/search/tags") || slice_eq_cstr(req->path, "/api/v2/search/tags")) {
		search_api_tags(q, req->path.len > 16, req, resp);
	} else if (search_api_tag_path(req->path, &v2, &rest)) {
		search_api_tag_values(q, v2, rest, req, resp);
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
	} else if (analysis_api_handle(q, req, resp) || jaeger_api_handle(q, req, resp) || zipkin_api_handle(q, req, resp) ||
		   ui_api_handle(q, req, resp)) {
		/* answered */
	} else {
		api_error(resp, req, 404, "not found");
	}
}
