/* GET /api/v1/service-graph: the service graph over the HTTP API. start and
 * end (default: the last hour; or since=<duration>) pick the range; the
 * live graph answers when it covers the range, else the store is scanned
 * for it with the same pairing rules (source=live|scan forces one). q, a
 * TraceQL filter, gives the graph of the traces it matches (always from
 * the store). The shape is DESIGN.md's; docs/analysis.md has the rules. */
#include <stdio.h>
#include <string.h>

#include "analysis/service_graph.h"
#include "api/analysis_api.h"
#include "api/api_util.h"
#include "api/metrics_api.h"
#include "base/clock.h"
#include "base/err.h"
#include "base/json.h"
#include "base/units.h"
#include "query/exec.h"

#define NS_PER_S 1000000000LL
#define SG_DEFAULT_RANGE_NS (3600LL * NS_PER_S)

/* The graph of [start, end) from the store, of the traces matching the
 * TraceQL filter xq. NULL with *rc. */
static struct sg_graph *scan_graph(struct query_api *q, struct http_request *req, struct exec_query *xq,
				   int64_t start_ns, int64_t end_ns, struct exec_options *o, int *rc)
{
	struct sg_graph *g;
	*o = (struct exec_options){.start_ns = start_ns, .end_ns = end_ns};
	api_query_limits(q, req, o);
	*rc = sg_graph_scan(&store_embedded_query_ops, q->store, xq, o, start_ns, end_ns, &g);
	return *rc < 0 ? NULL : g;
}

static void write_figures(struct json *j, uint64_t requests, uint64_t errors, double rate, double error_rate,
			  double p50, double p99)
{
	json_key(j, "rate");
	json_double(j, rate);
	json_key(j, "errorRate");
	json_double(j, error_rate);
	json_key(j, "p50");
	json_double(j, p50);
	json_key(j, "p99");
	json_double(j, p99);
	json_key(j, "requests");
	json_uint(j, requests);
	json_key(j, "errors");
	json_uint(j, errors);
}

void service_graph_api_get(struct query_api *q, struct http_request *req, struct http_response *resp)
{
	int64_t now = clock_now_unix_ns(), end = now, start = 0;
	struct slice v;
	if (!api_time_param(req, resp, "end", &end) || !api_time_param(req, resp, "start", &start))
		return;
	if (!start) {
		int64_t since = SG_DEFAULT_RANGE_NS;
		if (api_query_param(req, "since", &v) && v.len) {
			char tmp[32];
			if (v.len >= sizeof tmp) {
				api_error(resp, req, 400, "invalid since: expected a duration such as 1h or 15m");
				return;
			}
			memcpy(tmp, v.p, v.len);
			tmp[v.len] = 0;
			if (units_parse_duration_ns(tmp, &since) < 0 || since <= 0) {
				api_error(resp, req, 400, "invalid since: expected a duration such as 1h or 15m");
				return;
			}
		}
		start = end - since;
	}
	if (start < 0)
		start = 0;
	if (start >= end) {
		api_error(resp, req, 400, "invalid range: start must be before end");
		return;
	}
	bool want_live = true, want_scan = true;
	if (api_query_param(req, "source", &v) && v.len) {
		if (slice_eq_cstr(v, "live"))
			want_scan = false;
		else if (slice_eq_cstr(v, "scan"))
			want_live = false;
		else if (!slice_eq_cstr(v, "auto")) {
			api_error(resp, req, 400, "invalid source: expected live, scan or auto");
			return;
		}
	}
	/* q: the graph of the traces a TraceQL filter matches (from the store) */
	struct slice text = SLICE_LIT("{}");
	bool filtered = api_query_param(req, "q", &v) && v.len;
	if (filtered) {
		if (!want_scan) {
			api_error(resp, req, 400, "q needs the store: use source=scan or auto with a filter");
			return;
		}
		want_live = false;
		text = v;
	}
	if (!want_scan && !q->graph) {
		api_error(resp, req, 400, "this server keeps no live service graph: use source=scan");
		return;
	}
	bool live = want_live && q->graph && (!want_scan || sg_live_covers(q->graph, start, end, now));
	int rc;
	struct exec_options o = {0};
	struct exec_query *xq = NULL;
	if (!live) {
		struct tql_error e;
		struct tql_query *tq = tql_parse((const char *)text.p, text.len, req->arena, &e);
		if (!tq) {
			api_error(resp, req, 400, e.msg);
			return;
		}
		if (tq->kind == TQL_Q_METRICS) {
			api_error(resp, req, 400, "q must be a TraceQL spanset filter, not a metrics query");
			return;
		}
		char err[256];
		if (!(xq = exec_compile(tq, req->arena, &rc, err, sizeof err))) {
			api_error(resp, req, rc == CLEW_ENOMEM ? 503 : 400, err);
			return;
		}
	}
	struct sg_graph *g =
		live ? sg_live_query(q->graph, start, end, now, &rc) : scan_graph(q, req, xq, start, end, &o, &rc);
	exec_query_free(xq);
	if (!live && api_query_cancelled(resp, req, &o)) {
		sg_graph_free(g);
		return;
	}
	if (!g) {
		if (live)
			api_error(resp, req, 503, "out of memory for the service graph; retry later");
		else
			api_query_error(resp, req, rc, &o, "service graph");
		return;
	}
	struct sg_node_out *nodes;
	struct sg_edge_out *edges;
	uint32_t nn, ne;
	rc = sg_graph_result(g, (double)(end - start) / 1e9, req->arena, &nodes, &nn, &edges, &ne);
	if (rc < 0) {
		sg_graph_free(g);
		api_error(resp, req, 503, "out of memory for the service graph; retry later");
		return;
	}
	struct json j;
	json_init(&j, &resp->body);
	json_obj_begin(&j);
	json_key(&j, "nodes");
	json_arr_begin(&j);
	for (uint32_t k = 0; k < nn; k++) {
		const struct sg_node_out *n = &nodes[k];
		json_obj_begin(&j);
		json_key(&j, "id");
		json_str(&j, n->name);
		json_key(&j, "name");
		json_str(&j, n->name);
		json_key(&j, "kind");
		json_cstr(&j, sg_kind_name(n->kind));
		json_key(&j, "team");
		if (n->team.len)
			json_str(&j, n->team);
		else
			json_null_value(&j);
		write_figures(&j, n->requests, n->errors, n->rate, n->error_rate, n->p50_ms, n->p99_ms);
		json_obj_end(&j);
	}
	json_arr_end(&j);
	json_key(&j, "edges");
	json_arr_begin(&j);
	for (uint32_t k = 0; k < ne; k++) {
		const struct sg_edge_out *e = &edges[k];
		json_obj_begin(&j);
		json_key(&j, "source");
		json_str(&j, e->source);
		json_key(&j, "target");
		json_str(&j, e->target);
		write_figures(&j, e->requests, e->errors, e->rate, e->error_rate, e->p50_ms, e->p99_ms);
		json_obj_end(&j);
	}
	json_arr_end(&j);
	json_key(&j, "source");
	json_cstr(&j, live ? "live" : "scan");
	json_key(&j, "start");
	json_int(&j, start / NS_PER_S);
	json_key(&j, "end");
	json_int(&j, end / NS_PER_S);
	json_obj_end(&j);
	sg_graph_free(g);
	api_ok(resp, req, "application/json");
}
