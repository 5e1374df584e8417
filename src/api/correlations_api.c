/* GET /api/v1/correlations: which attribute values set the slow or failing
 * spans (or traces) of a TraceQL population apart from the rest. Parses q,
 * start/end (Unix seconds), signal, threshold (a duration or pNN), level
 * and limit, runs corr_run over the embedded store and answers the native
 * JSON shape of DESIGN.md with the extra fields of docs/analysis.md. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/correlations.h"
#include "api/analysis_api.h"
#include "api/api_util.h"
#include "base/err.h"
#include "base/json.h"
#include "base/units.h"
#include "query/exec.h"

/* threshold=500ms (a duration) or p99 / p99.9 (a quantile of the population). */
static bool parse_threshold(struct slice v, struct corr_options *co)
{
	char tmp[32];
	if (v.len == 0 || v.len >= sizeof tmp)
		return false;
	memcpy(tmp, v.p, v.len);
	tmp[v.len] = 0;
	if (tmp[0] == 'p' || tmp[0] == 'P') {
		char *end;
		double q = strtod(tmp + 1, &end);
		if (*end != 0 || end == tmp + 1 || !(q > 0 && q < 100))
			return false;
		co->quantile = q / 100;
		co->threshold_ns = 0;
		return true;
	}
	int64_t ns;
	if (units_parse_duration_ns(tmp, &ns) < 0 || ns < 0)
		return false;
	co->threshold_ns = ns ? ns : 1; /* 0 would mean "a quantile" */
	return true;
}

void correlations_api_get(struct query_api *q, struct http_request *req, struct http_response *resp)
{
	struct exec_options o;
	struct corr_options co;
	struct corr_report rep;
	struct slice text = SLICE_LIT("{}"), v;
	int rc;
	memset(&o, 0, sizeof o);
	memset(&co, 0, sizeof co);
	memset(&rep, 0, sizeof rep);
	co.quantile = 0.99;
	if (api_query_param(req, "q", &v) && v.len)
		text = v;
	if (!api_seconds_param(req, resp, "start", false, &o.start_ns, NULL) ||
	    !api_seconds_param(req, resp, "end", true, &o.end_ns, NULL))
		return;
	if (o.start_ns && o.end_ns && o.start_ns > o.end_ns) {
		api_error(resp, req, 400, "invalid range: start is after end");
		return;
	}
	if (api_query_param(req, "signal", &v) && v.len) {
		if (slice_eq_cstr(v, "latency")) {
			co.signal = CORR_SIGNAL_LATENCY;
		} else if (slice_eq_cstr(v, "error")) {
			co.signal = CORR_SIGNAL_ERROR;
		} else {
			api_error(resp, req, 400, "invalid signal: expected latency or error");
			return;
		}
	}
	if (api_query_param(req, "threshold", &v) && v.len) {
		if (co.signal != CORR_SIGNAL_LATENCY) {
			api_error(resp, req, 400, "threshold applies to signal=latency only");
			return;
		}
		if (!parse_threshold(v, &co)) {
			api_error(resp, req, 400,
				  "invalid threshold: expected a duration such as 500ms or a percentile such as p99");
			return;
		}
	}
	if (api_query_param(req, "level", &v) && v.len) {
		if (slice_eq_cstr(v, "span")) {
			co.level = CORR_LEVEL_SPAN;
		} else if (slice_eq_cstr(v, "trace")) {
			co.level = CORR_LEVEL_TRACE;
		} else {
			api_error(resp, req, 400, "invalid level: expected span or trace");
			return;
		}
	}
	if (api_query_param(req, "relative", &v) && v.len) {
		if (slice_eq_cstr(v, "operation")) {
			co.per_operation = true;
		} else if (!slice_eq_cstr(v, "population")) {
			api_error(resp, req, 400, "invalid relative: expected population or operation");
			return;
		}
	}
	if (api_query_param(req, "duration", &v) && v.len) {
		if (slice_eq_cstr(v, "self")) {
			co.self_time = true;
		} else if (!slice_eq_cstr(v, "total")) {
			api_error(resp, req, 400, "invalid duration: expected total or self");
			return;
		}
	}
	if (!api_limit_param(req, resp, CORR_MAX_LIMIT, &co.limit))
		return;
	struct exec_query *xq = api_compile_filter(req, resp, text);
	if (!xq)
		return;
	api_query_limits(q, req, &o);
	rc = corr_run(&store_embedded_query_ops, q->store, xq, &o, &co, &rep);
	exec_query_free(xq);
	if (api_query_cancelled(resp, req, &o)) {
		corr_report_free(&rep);
		return;
	}
	if (rc < 0) {
		api_query_error(resp, req, rc, &o, "correlations");
		corr_report_free(&rep);
		return;
	}
	bool latency = co.signal == CORR_SIGNAL_LATENCY;
	struct json j;
	json_init(&j, &resp->body);
	json_obj_begin(&j);
	json_key(&j, "signal");
	json_cstr(&j, latency ? "latency" : "error");
	json_key(&j, "level");
	json_cstr(&j, co.level == CORR_LEVEL_TRACE ? "trace" : "span");
	if (latency && co.per_operation && !co.threshold_ns && co.level == CORR_LEVEL_SPAN) {
		json_key(&j, "relative");
		json_cstr(&j, "operation");
	}
	if (latency && co.self_time && co.level == CORR_LEVEL_SPAN) {
		json_key(&j, "duration");
		json_cstr(&j, "self");
	}
	if (latency) {
		json_key(&j, "thresholdMs");
		json_double(&j, rep.threshold_ns == INT64_MAX ? 0 : (double)rep.threshold_ns / 1e6);
	}
	json_key(&j, "bad");
	json_obj_begin(&j);
	json_key(&j, "count");
	json_uint(&j, rep.bad);
	json_obj_end(&j);
	json_key(&j, "rest");
	json_obj_begin(&j);
	json_key(&j, "count");
	json_uint(&j, rep.rest);
	json_obj_end(&j);
	if (latency) {
		json_key(&j, "population");
		json_obj_begin(&j);
		json_key(&j, "p50");
		isnan(rep.p50_ms) ? json_null_value(&j) : json_double(&j, round(rep.p50_ms * 1000) / 1000);
		json_key(&j, "p99");
		isnan(rep.p99_ms) ? json_null_value(&j) : json_double(&j, round(rep.p99_ms * 1000) / 1000);
		json_obj_end(&j);
	}
	json_key(&j, "correlations");
	corr_write_results(&j, rep.results, rep.n_results, latency);
	json_key(&j, "inspectedSpans");
	json_uint(&j, rep.inspected_spans);
	json_obj_end(&j);
	corr_report_free(&rep);
	if (resp->body.err) {
		buf_clear(&resp->body);
		api_error(resp, req, 413, "the answer is larger than the response limit: lower limit");
		return;
	}
	api_ok(resp, req, "application/json");
}
