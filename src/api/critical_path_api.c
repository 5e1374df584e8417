/* GET /api/v1/critical-path: the critical path analysis over the HTTP API.
 * With q (a TraceQL filter), start and end it scans the matching traces,
 * aggregates their critical paths (analysis/critical_path.h) and answers
 * the segments, largest share first; baselineStart/baselineEnd add the
 * shares of the same traces in another window and the change. With traceId
 * it answers the path of that one trace. Shapes in docs/analysis.md. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "analysis/critical_path.h"
#include "api/analysis_api.h"
#include "api/api_util.h"
#include "api/metrics_api.h"
#include "base/err.h"
#include "base/json.h"
#include "query/exec.h"

/* Aggregate the traces of xq in [start, end] into a new aggregate (the
 * paths computed in the scan's workers). */
static int aggregate(struct query_api *q, struct http_request *req, struct exec_query *xq, int64_t start_ns,
		     int64_t end_ns, struct exec_options *o, struct cp_agg **out)
{
	*o = (struct exec_options){.start_ns = start_ns, .end_ns = end_ns};
	api_query_limits(q, req, o);
	return cp_agg_scan(&store_embedded_query_ops, q->store, xq, o, out);
}

static void write_one_trace(struct http_request *req, struct http_response *resp, const struct span_batch *b,
			    const struct cp_trace *t)
{
	struct json j;
	json_init(&j, &resp->body);
	json_obj_begin(&j);
	json_key(&j, "traceId");
	json_hex(&j, b->spans[0].trace_id, 16);
	json_key(&j, "durationMs");
	json_double(&j, (double)t->total_ns / 1e6);
	json_key(&j, "adjustedSpans");
	json_uint(&j, t->n_adjusted);
	json_key(&j, "spans");
	json_arr_begin(&j);
	for (uint32_t k = 0; k < t->n_path; k++) {
		uint32_t i = t->path[k];
		const struct span *s = &b->spans[i];
		const struct cp_span *c = &t->spans[i];
		json_obj_begin(&j);
		json_key(&j, "spanId");
		json_hex(&j, s->span_id, 8);
		if (c->parent >= 0) {
			json_key(&j, "parentSpanId");
			json_hex(&j, b->spans[c->parent].span_id, 8);
		}
		json_key(&j, "service");
		json_str(&j, resource_service_name(span_batch_resource_of(b, s)));
		json_key(&j, "name");
		json_str(&j, s->name);
		json_key(&j, "startTimeUnixNano");
		json_int_str(&j, c->start_unix_ns);
		json_key(&j, "durationMs");
		json_double(&j, (double)(c->end_unix_ns - c->start_unix_ns) / 1e6);
		json_key(&j, "selfMs");
		json_double(&j, (double)c->self_ns / 1e6);
		json_key(&j, "share");
		json_double(&j, t->total_ns > 0 ? (double)c->self_ns / (double)t->total_ns : 0);
		json_key(&j, "adjusted");
		json_bool(&j, c->adjusted);
		json_obj_end(&j);
	}
	json_arr_end(&j);
	json_obj_end(&j);
	api_ok(resp, req, "application/json");
}

static void one_trace(struct query_api *q, struct http_request *req, struct http_response *resp, struct slice id_hex)
{
	uint8_t id[16];
	if (!api_parse_trace_id(id_hex, id)) {
		api_error(resp, req, 400, "invalid traceId: expected 1 to 32 hex digits");
		return;
	}
	struct span_batch b;
	span_batch_init(&b, req->arena);
	int rc = store_get_trace(q->store, id, &b);
	if (rc == CLEW_ENOTFOUND || (rc == 0 && b.n_spans == 0)) {
		api_error(resp, req, 404, "trace not found");
		return;
	}
	if (rc < 0) {
		api_error(resp, req, 503, "could not read the trace; retry later");
		return;
	}
	struct cp_trace t;
	rc = cp_trace_compute(&b, 0, b.n_spans, req->arena, &t);
	if (rc < 0) {
		api_error(resp, req, 503, "out of memory for the critical path; retry later");
		return;
	}
	write_one_trace(req, resp, &b, &t);
}

static double ms_or_zero(double v)
{
	return isfinite(v) ? v : 0;
}

void critical_path_api_get(struct query_api *q, struct http_request *req, struct http_response *resp)
{
	struct slice text = SLICE_LIT("{}"), v;
	if (api_query_param(req, "traceId", &v)) {
		one_trace(q, req, resp, v);
		return;
	}
	if (api_query_param(req, "q", &v) && v.len)
		text = v;
	int64_t start = 0, end = 0, bstart = 0, bend = 0;
	if (!api_time_param(req, resp, "start", &start) || !api_time_param(req, resp, "end", &end) ||
	    !api_time_param(req, resp, "baselineStart", &bstart) || !api_time_param(req, resp, "baselineEnd", &bend))
		return;
	if ((start && end && start > end) || (bstart && bend && bstart > bend)) {
		api_error(resp, req, 400, "invalid range: start is after end");
		return;
	}
	bool baseline = bstart || bend;
	int rc;
	struct exec_query *xq = api_compile_filter(req, resp, text);
	if (!xq)
		return;
	struct cp_agg *cur = NULL, *base = NULL;
	struct exec_options o;
	rc = aggregate(q, req, xq, start, end, &o, &cur);
	if (rc == 0 && baseline && !api_query_cancelled(resp, req, &o))
		rc = aggregate(q, req, xq, bstart, bend, &o, &base);
	exec_query_free(xq);
	if (api_query_cancelled(resp, req, &o))
		goto out;
	if (rc < 0) {
		api_query_error(resp, req, rc, &o, "critical path");
		goto out;
	}
	struct cp_segment *seg;
	uint32_t n;
	if ((rc = cp_agg_segments(cur, req->arena, &seg, &n)) < 0) {
		api_error(resp, req, 503, "out of memory for the critical path; retry later");
		goto out;
	}
	struct json j;
	json_init(&j, &resp->body);
	json_obj_begin(&j);
	json_key(&j, "traces");
	json_uint(&j, cp_agg_traces(cur));
	json_key(&j, "meanMs");
	json_double(&j, cp_agg_traces(cur) ? (double)cp_agg_total_ns(cur) / 1e6 / (double)cp_agg_traces(cur) : 0);
	if (baseline) {
		json_key(&j, "baselineTraces");
		json_uint(&j, cp_agg_traces(base));
	}
	json_key(&j, "segments");
	json_arr_begin(&j);
	for (uint32_t k = 0; k < n; k++) {
		json_obj_begin(&j);
		json_key(&j, "service");
		json_str(&j, seg[k].service);
		json_key(&j, "name");
		json_str(&j, seg[k].name);
		json_key(&j, "share");
		json_double(&j, seg[k].share);
		json_key(&j, "traces");
		json_uint(&j, seg[k].traces);
		json_key(&j, "selfMs");
		json_obj_begin(&j);
		json_key(&j, "p50");
		json_double(&j, ms_or_zero(seg[k].self_p50_ms));
		json_key(&j, "p99");
		json_double(&j, ms_or_zero(seg[k].self_p99_ms));
		json_obj_end(&j);
		if (baseline) {
			double bs = cp_agg_share(base, seg[k].service, seg[k].name);
			json_key(&j, "baselineShare");
			json_double(&j, bs);
			json_key(&j, "change");
			json_double(&j, seg[k].share - bs);
		}
		json_obj_end(&j);
	}
	json_arr_end(&j);
	json_obj_end(&j);
	api_ok(resp, req, "application/json");
out:
	cp_agg_free(cur);
	cp_agg_free(base);
}
