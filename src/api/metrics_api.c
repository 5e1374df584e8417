/* The TraceQL metrics endpoints: parameters (q, start/end in several
 * notations or since, step, exemplars), Tempo's range alignment, the error
 * statuses, then the metrics executor (or compare()'s, query/metrics_compare.h)
 * over the embedded store and Tempo's QueryRangeResponse /
 * QueryInstantResponse JSON. */
#include "api/metrics_api.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api_util.h"
#include "base/clock.h"
#include "base/err.h"
#include "base/units.h"
#include "query/metrics_compare.h"
#include "query/metrics_exec.h"
#include "query/metrics_out.h"

#define NS_PER_S 1000000000LL
#define METRICS_DEFAULT_RANGE_NS (3600LL * NS_PER_S)
#define METRICS_DEFAULT_POINTS 240

/* v nanoseconds, from a number of seconds, ms, us or ns told apart by size. */
static bool scale_number(double v, int64_t *ns)
{
	if (!(v >= 0) || v > 9e18)
		return false;
	if (v < 1e11)
		v *= 1e9;
	else if (v < 1e14)
		v *= 1e6;
	else if (v < 1e17)
		v *= 1e3;
	if (v > 9e18)
		return false;
	*ns = (int64_t)llround(v);
	return true;
}

bool metrics_api_parse_time(struct slice s, int64_t *ns)
{
	if (s.len == 0 || s.len > 40)
		return false;
	char tmp[48];
	memcpy(tmp, s.p, s.len);
	tmp[s.len] = 0;
	uint64_t u;
	if (units_parse_u64(tmp, &u) == 0) { /* integers exactly */
		if (u >= 100000000000000000ULL) {
			if (u > (uint64_t)INT64_MAX)
				return false;
			*ns = (int64_t)u;
			return true;
		}
		*ns = (int64_t)u * (u < 100000000000ULL ? NS_PER_S : u < 100000000000000ULL ? 1000000 : 1000);
		return true;
	}
	if (tmp[0] >= '0' && tmp[0] <= '9' && !(s.len > 4 && tmp[4] == '-')) {
		char *end;
		double v = strtod(tmp, &end);
		return *end == 0 && scale_number(v, ns);
	}
	return units_parse_rfc3339_ns(s, ns);
}

static bool param_duration(struct slice v, int64_t *ns)
{
	char tmp[64];
	if (v.len == 0 || v.len >= sizeof tmp)
		return false;
	memcpy(tmp, v.p, v.len);
	tmp[v.len] = 0;
	return units_parse_duration_ns(tmp, ns) == 0 && *ns > 0;
}

/* start, end and step of the request; false with a 400 written. */
static bool query_range(struct http_request *req, struct http_response *resp, bool instant,
			struct metrics_exec_options *o)
{
	struct slice v;
	int64_t now = clock_now_unix_ns(), since;
	char msg[160];
	o->end_ns = now;
	if (api_query_param(req, "end", &v) && v.len && !metrics_api_parse_time(v, &o->end_ns)) {
		api_error(resp, req, 400, "invalid end: expected Unix seconds, nanoseconds or an RFC3339 time");
		return false;
	}
	o->start_ns = o->end_ns - METRICS_DEFAULT_RANGE_NS;
	if (api_query_param(req, "start", &v) && v.len) {
		if (!metrics_api_parse_time(v, &o->start_ns)) {
			api_error(resp, req, 400,
				  "invalid start: expected Unix seconds, nanoseconds or an RFC3339 time");
			return false;
		}
	} else if (api_query_param(req, "since", &v) && v.len) {
		if (!param_duration(v, &since)) {
			api_error(resp, req, 400, "invalid since: expected a duration such as 1h or 15m");
			return false;
		}
		o->start_ns = o->end_ns - since;
	}
	if (o->start_ns < 0)
		o->start_ns = 0;
	if (o->start_ns >= o->end_ns) {
		api_error(resp, req, 400, "invalid range: start must be before end");
		return false;
	}
	int64_t range = o->end_ns - o->start_ns;
	if (instant) {
		o->step_ns = range;
		return true;
	}
	if (api_query_param(req, "step", &v) && v.len) {
		if (!param_duration(v, &o->step_ns)) {
			api_error(resp, req, 400, "invalid step: expected a duration such as 30s, or seconds");
			return false;
		}
	} else {
		int64_t step = range / METRICS_DEFAULT_POINTS;
		step = (step + NS_PER_S - 1) / NS_PER_S * NS_PER_S;
		o->step_ns = step < NS_PER_S ? NS_PER_S : step;
	}
	/* Tempo aligns the range on whole steps */
	o->start_ns -= o->start_ns % o->step_ns;
	if (o->end_ns % o->step_ns)
		o->end_ns += o->step_ns - o->end_ns % o->step_ns;
	int64_t steps = (o->end_ns - o->start_ns) / o->step_ns;
	if (steps > SERIES_MAX_STEPS) {
		snprintf(msg, sizeof msg, "the range holds %lld steps, more than %d: use a larger step", (long long)steps,
			 SERIES_MAX_STEPS);
		api_error(resp, req, 400, msg);
		return false;
	}
	return true;
}

static int status_of(int rc)
{
	switch (rc) {
	case CLEW_EINVAL:
	case CLEW_EUNSUPPORTED:
	case CLEW_EPARSE: return 400;
	case CLEW_ELIMIT: return 413;
	case CLEW_EBUSY: return 504;
	default: return 500;
	}
}

/* True when q is `{ ... } | compare(...)`. */
static bool is_compare(const struct tql_query *q)
{
	const struct tql_node *mq = q->root;
	return mq && mq->kind == TQL_N_METRICS_QUERY && mq->a && mq->b && mq->b->kind == TQL_N_METRICS &&
	       mq->b->u.metrics.fn == TQL_M_COMPARE;
}

/* Answer a failed metrics run: the scan's budgets and cancellation as
 * every query's, the executor's own limits with its message. */
static void run_error(struct http_response *resp, struct http_request *req, int rc, const struct exec_options *scan,
		      const char *err)
{
	if (rc == CLEW_EBUSY || rc == -ECANCELED ||
	    (rc == CLEW_ELIMIT && strncmp(err, "query exceeded its memory budget", 32) == 0)) {
		api_query_error(resp, req, rc, scan, "metrics query");
		return;
	}
	if (!api_query_cancelled(resp, req, scan))
		api_error(resp, req, status_of(rc), err);
}

/* compare(): mcmp_run and its own series shape. */
static void run_compare(const struct query_api *qa, bool instant, struct http_request *req,
			struct http_response *resp, const struct tql_query *q, struct metrics_exec_options *o)
{
	struct mcmp_result r;
	struct metrics_out_stats st;
	char err[256];
	int rc = mcmp_run(&store_embedded_query_ops, qa->store, q, o, &r, &st, err, sizeof err);
	if (rc < 0) {
		run_error(resp, req, rc, &o->scan, err);
		goto out;
	}
	if (api_query_cancelled(resp, req, &o->scan))
		goto out;
	if (instant)
		metrics_out_compare_instant(&resp->body, &r, &st);
	else
		metrics_out_compare_range(&resp->body, &r, &st);
	if (resp->body.err) {
		buf_clear(&resp->body);
		api_error(resp, req, 413, "the answer is larger than the response limit: narrow the query");
		goto out;
	}
	api_ok(resp, req, "application/json");
out:
	mcmp_result_free(&r);
}

void metrics_api_query(const struct query_api *qa, bool instant, struct http_request *req,
		       struct http_response *resp)
{
	struct metrics_exec_options o;
	struct slice text;
	struct tql_error e;
	char err[256];
	memset(&o, 0, sizeof o);
	if (!api_query_param(req, "q", &text) || text.len == 0) {
		api_error(resp, req, 400, "missing q: a TraceQL metrics query such as '{ } | rate()'");
		return;
	}
	struct tql_query *q = tql_parse((const char *)text.p, text.len, req->arena, &e);
	if (!q) {
		api_error(resp, req, 400, e.msg);
		return;
	}
	if (q->kind != TQL_Q_METRICS) {
		api_error(resp, req, 400, "not a metrics query: use /api/search for spans and traces");
		return;
	}
	bool cmp = is_compare(q);
	int rc = cmp ? 0 : metrics_exec_supported(q, err, sizeof err);
	if (rc < 0) {
		api_error(resp, req, 400, err);
		return;
	}
	if (cmp && q->root->n_items) {
		api_error(resp, req, 400, "compare() takes no second stage: drop what follows it");
		return;
	}
	if (!query_range(req, resp, instant, &o))
		return;
	struct series_set *set;
	struct metrics_out_stats st;
	api_query_limits(qa, req, &o.scan);
	/* the series are the query's memory as much as the scan's */
	o.max_bytes = o.scan.mem_bytes;
	if (cmp) {
		run_compare(qa, instant, req, resp, q, &o);
		return;
	}
	rc = metrics_exec_run(&store_embedded_query_ops, qa->store, q, &o, &set, &st, err, sizeof err);
	/* the scan's budgets answer as every query's do; the series limits
	 * keep the executor's own message */
	if (rc < 0) {
		run_error(resp, req, rc, &o.scan, err);
		return;
	}
	if (api_query_cancelled(resp, req, &o.scan)) {
		series_set_free(set);
		return;
	}
	if (instant)
		metrics_out_instant(&resp->body, set, &st);
	else
		metrics_out_range(&resp->body, set, &st);
	series_set_free(set);
	if (resp->body.err) {
		buf_clear(&resp->body);
		api_error(resp, req, 413, "the answer is larger than the response limit: narrow the query");
		return;
	}
	api_ok(resp, req, "application/json");
}
