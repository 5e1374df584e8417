/* GET /api/v1/compare: two populations of a TraceQL filter side by side,
 * either a window (start, end) against a baseline window (baselineStart,
 * baselineEnd), or by=<attribute>&a=<value>&b=<value> within one window;
 * times in Unix seconds. Runs cmp_run over the embedded store. */
#include <stdio.h>
#include <string.h>

#include "analysis/compare.h"
#include "api/analysis_api.h"
#include "api/api_util.h"
#include "base/arena.h"
#include "base/err.h"
#include "base/json.h"
#include "base/units.h"

/* The field node of `by`, parsed as `{ <by> != nil }`. */
static const struct tql_node *by_field(struct http_request *req, struct slice by, char *err, size_t errlen)
{
	struct tql_error e;
	char *text = by.len > 0 && by.len <= 256 ? arena_alloc(req->arena, 300) : NULL; /* the AST points into it */
	if (!text) {
		snprintf(err, errlen, "invalid by: expected an attribute such as resource.service.version");
		return NULL;
	}
	int n = snprintf(text, 300, "{ %.*s != nil }", (int)by.len, (const char *)by.p);
	struct tql_query *q = tql_parse(text, (size_t)n, req->arena, &e);
	const struct tql_node *nd = NULL;
	if (q && q->root && q->root->n_items && q->root->items[0]->kind == TQL_N_FILTER) {
		nd = q->root->items[0]->a;
		while (nd && (nd->kind == TQL_N_UNARY || nd->kind == TQL_N_BINARY))
			nd = nd->a;
	}
	if (!nd || (nd->kind != TQL_N_ATTR && nd->kind != TQL_N_INTRINSIC)) {
		snprintf(err, errlen, "invalid by: expected an attribute such as resource.service.version or an intrinsic");
		return NULL;
	}
	return nd;
}

void compare_api_get(struct query_api *q, struct http_request *req, struct http_response *resp)
{
	struct exec_options o;
	struct cmp_options co;
	struct cmp_report rep;
	struct slice text = SLICE_LIT("{}"), v;
	char err[256];
	bool has_s, has_e, has_bs, has_be;
	int rc;
	memset(&o, 0, sizeof o);
	memset(&co, 0, sizeof co);
	memset(&rep, 0, sizeof rep);
	if (api_query_param(req, "q", &v) && v.len)
		text = v;
	if (!api_seconds_param(req, resp, "start", false, &co.b_start_ns, &has_s) ||
	    !api_seconds_param(req, resp, "end", true, &co.b_end_ns, &has_e) ||
	    !api_seconds_param(req, resp, "baselineStart", false, &co.a_start_ns, &has_bs) ||
	    !api_seconds_param(req, resp, "baselineEnd", true, &co.a_end_ns, &has_be))
		return;
	if ((has_s && has_e && co.b_start_ns > co.b_end_ns) || (has_bs && has_be && co.a_start_ns > co.a_end_ns)) {
		api_error(resp, req, 400, "invalid range: a start is after its end");
		return;
	}
	struct slice by = {0};
	if (api_query_param(req, "by", &by) && by.len) {
		if (has_bs || has_be) {
			api_error(resp, req, 400, "give either baselineStart/baselineEnd or by/a/b, not both");
			return;
		}
		if (!api_query_param(req, "a", &co.a_value) || !api_query_param(req, "b", &co.b_value)) {
			api_error(resp, req, 400, "by needs the two values to compare: a=<value>&b=<value>");
			return;
		}
		if (!(co.by = by_field(req, by, err, sizeof err))) {
			api_error(resp, req, 400, err);
			return;
		}
		co.by_text = by;
		o.start_ns = co.b_start_ns;
		o.end_ns = co.b_end_ns;
	} else if (!has_bs || !has_be) {
		api_error(resp, req, 400,
			  "missing baseline: give baselineStart and baselineEnd (Unix seconds), or by=<attribute>&a=&b=");
		return;
	}
	if (!api_limit_param(req, resp, CORR_MAX_LIMIT, &co.limit))
		return;
	struct exec_query *xq = api_compile_filter(req, resp, text);
	if (!xq)
		return;
	api_query_limits(q, req, &o);
	rc = cmp_run(&store_embedded_query_ops, q->store, xq, &o, &co, &rep);
	exec_query_free(xq);
	if (api_query_cancelled(resp, req, &o)) {
		cmp_report_free(&rep);
		return;
	}
	if (rc < 0) {
		api_query_error(resp, req, rc, &o, "compare");
		cmp_report_free(&rep);
		return;
	}
	struct json j;
	json_init(&j, &resp->body);
	cmp_write_json(&j, &rep, &co);
	cmp_report_free(&rep);
	if (resp->body.err) {
		buf_clear(&resp->body);
		api_error(resp, req, 413, "the answer is larger than the response limit: lower limit");
		return;
	}
	api_ok(resp, req, "application/json");
}
