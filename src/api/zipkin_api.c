/* Zipkin's read API over clew's store. Searches are TraceQL spanset filters
 * built as the Jaeger API builds them (jaeger_api.h): serviceName, spanName,
 * remoteServiceName (peer.service), annotationQuery terms and the span
 * duration hold on one span. Found traces are read whole and written as
 * Zipkin v2 spans (zipkin_json.h). Times in parameters are Unix ms,
 * durations µs. */
#include "api/zipkin_api.h"

#include <stdio.h>
#include <string.h>

#include "api/api_util.h"
#include "api/jaeger_api.h"
#include "api/zipkin_json.h"
#include "base/clock.h"
#include "base/err.h"
#include "base/json.h"

#define ZIPKIN_DEFAULT_LIMIT 10
#define ZIPKIN_MAX_LIMIT 100000
#define ZIPKIN_DEFAULT_LOOKBACK_MS (24LL * 3600 * 1000)
#define ZIPKIN_TRACE_ARENA_BYTES ((size_t)256 << 20)

/* Zipkin servers answer these keys by default; clew offers the common
 * OpenTelemetry ones. */
static const char *const autocomplete_keys[] = {"http.method", "http.route", "http.status_code", "rpc.method",
						"db.system", "messaging.system", "error"};

static void finish(struct http_response *resp, struct http_request *req)
{
	if (resp->body.err)
		api_error(resp, req, 413, "the answer is too large: narrow the time range or lower the limit");
	else
		api_ok(resp, req, "application/json");
}

static void write_values(const struct query_api *q, struct http_request *req, struct http_response *resp,
			 const char *field, struct slice filter)
{
	struct exec_options o = {0};
	struct slice *v;
	uint32_t n;
	api_query_limits(q, req, &o);
	int rc = jaeger_values(q->store, req, field, filter, &o, &v, &n);
	if (api_query_cancelled(resp, req, &o))
		return;
	if (rc < 0) {
		api_error(resp, req, rc == CLEW_EINVAL ? 400 : 500, "could not list the values");
		return;
	}
	struct json j;
	json_init(&j, &resp->body);
	json_arr_begin(&j);
	for (uint32_t i = 0; i < n; i++)
		json_str(&j, v[i]);
	json_arr_end(&j);
	finish(resp, req);
}

/* Values of field over the spans of the serviceName parameter. */
static void service_values(const struct query_api *q, struct http_request *req, struct http_response *resp,
			   const char *field)
{
	struct slice svc, text;
	if (!api_query_param(req, "serviceName", &svc) || !svc.len) {
		api_error(resp, req, 400, "serviceName is required");
		return;
	}
	struct jaeger_filter f;
	jaeger_filter_init(&f);
	jaeger_filter_str(&f, "resource.service.name", svc);
	bool ok = jaeger_filter_text(&f, req->arena, &text);
	jaeger_filter_free(&f);
	if (!ok)
		api_error(resp, req, 400, "serviceName is too long");
	else
		write_values(q, req, resp, field, text);
}

static void autocomplete_values(const struct query_api *q, struct http_request *req, struct http_response *resp)
{
	struct slice key;
	if (!api_query_param(req, "key", &key) || !key.len) {
		api_error(resp, req, 400, "key is required");
		return;
	}
	struct buf field;
	buf_init(&field, 4096);
	buf_append_cstr(&field, "span.");
	jaeger_quote(&field, key);
	buf_append_byte(&field, 0);
	char *text = field.err ? NULL : arena_strndup(req->arena, (const char *)field.p, field.len);
	buf_free(&field);
	if (!text)
		api_error(resp, req, 400, "key is too long");
	else
		write_values(q, req, resp, text, (struct slice){0});
}

/* An integer parameter; *present false when absent. false when malformed. */
static bool int_param(struct http_request *req, const char *name, int64_t *out, bool *present)
{
	struct slice v;
	*present = api_query_param(req, name, &v) && v.len;
	return !*present || jaeger_parse_i64(v, out);
}

/* annotationQuery: "k=v and word and k2=v2". */
static bool annotation_query(struct jaeger_filter *f, struct slice q)
{
	size_t i = 0;
	while (i < q.len) {
		size_t end = i;
		while (end < q.len && !(end + 5 <= q.len && memcmp(q.p + end, " and ", 5) == 0))
			end++;
		size_t a = i, b = end;
		while (a < b && q.p[a] == ' ')
			a++;
		while (b > a && q.p[b - 1] == ' ')
			b--;
		if (a < b) {
			const uint8_t *eq = memchr(q.p + a, '=', b - a);
			if (eq == q.p + a)
				return false;
			if (eq)
				jaeger_filter_tag(f, slice_make(q.p + a, (size_t)(eq - q.p - a)),
						  slice_make(eq + 1, (size_t)(q.p + b - eq - 1)));
			else
				jaeger_filter_word(f, slice_make(q.p + a, b - a));
		}
		i = end + 5;
	}
	return true;
}

/* The filter and options of /traces; false with a 400 written. */
static bool trace_query(struct http_request *req, struct http_response *resp, struct jaeger_filter *f,
			struct exec_options *o)
{
	struct slice v;
	int64_t x, end_ms = clock_now_unix_ns() / 1000000, lookback_ms = -1, limit = ZIPKIN_DEFAULT_LIMIT;
	bool has;
	if (api_query_param(req, "serviceName", &v) && v.len)
		jaeger_filter_str(f, "resource.service.name", v);
	if (api_query_param(req, "spanName", &v) && v.len && !slice_eq_cstr(v, "all"))
		jaeger_filter_str(f, "name", v);
	if (api_query_param(req, "remoteServiceName", &v) && v.len)
		jaeger_filter_str(f, "span.peer.service", v);
	if (api_query_param(req, "annotationQuery", &v) && v.len && !annotation_query(f, v)) {
		api_error(resp, req, 400, "invalid annotationQuery: expected key=value or words joined by ' and '");
		return false;
	}
	const char *dn[2] = {"minDuration", "maxDuration"};
	for (int k = 0; k < 2; k++) {
		if (!int_param(req, dn[k], &x, &has) || (has && x > INT64_MAX / 1000)) {
			char msg[96];
			snprintf(msg, sizeof msg, "invalid %s: expected microseconds", dn[k]);
			api_error(resp, req, 400, msg);
			return false;
		}
		if (has) {
			char term[64];
			snprintf(term, sizeof term, "duration %s %lldns", k ? "<=" : ">=", (long long)x * 1000);
			jaeger_filter_term(f, term);
		}
	}
	if (!int_param(req, "endTs", &end_ms, &has) || end_ms > INT64_MAX / 1000000 ||
	    !int_param(req, "lookback", &lookback_ms, &has)) {
		api_error(resp, req, 400, "invalid endTs or lookback: expected milliseconds");
		return false;
	}
	if (!int_param(req, "limit", &limit, &has) || limit < 1 || limit > ZIPKIN_MAX_LIMIT) {
		api_error(resp, req, 400, "invalid limit: expected 1 to 100000");
		return false;
	}
	o->end_ns = end_ms * 1000000 + 999999;
	if (lookback_ms >= 0 && lookback_ms < end_ms)
		o->start_ns = (end_ms - lookback_ms) * 1000000;
	o->limit = (uint32_t)limit;
	if (f->text.err) {
		api_error(resp, req, 400, "the query parameters are too long");
		return false;
	}
	return true;
}

struct list_ctx {
	struct json *j;
};

static int write_trace(void *ctx, const struct span_batch *b)
{
	struct list_ctx *c = ctx;
	zipkin_json_write_spans(c->j, b);
	return c->j->out->err ? c->j->out->err : 0;
}

static void traces(const struct query_api *q, struct http_request *req, struct http_response *resp)
{
	struct jaeger_filter f;
	struct exec_options o = {0};
	struct slice text;
	jaeger_filter_init(&f);
	bool ok = trace_query(req, resp, &f, &o);
	if (ok && !jaeger_filter_text(&f, req->arena, &text)) {
		api_error(resp, req, 500, "out of memory");
		ok = false;
	}
	jaeger_filter_free(&f);
	if (!ok)
		return;
	api_query_limits(q, req, &o);
	struct json j;
	json_init(&j, &resp->body);
	json_arr_begin(&j);
	struct list_ctx c = {&j};
	char msg[300];
	int status = 500;
	int rc = jaeger_find_traces(q->store, req, text, &o, write_trace, &c, &status, msg, sizeof msg);
	if (api_query_cancelled(resp, req, &o))
		return;
	if (rc < 0 && !resp->body.err) {
		api_error(resp, req, status, msg);
		return;
	}
	json_arr_end(&j);
	finish(resp, req);
}

/* Read one trace by id text into b; 0, CLEW_EINVAL, CLEW_ENOTFOUND or a
 * store error. */
static int read_trace(struct store *store, struct slice id_text, struct span_batch *b)
{
	uint8_t id[16];
	if (!api_parse_trace_id(id_text, id))
		return CLEW_EINVAL;
	int rc = store_get_trace(store, id, b);
	return rc == 0 && b->n_spans == 0 ? CLEW_ENOTFOUND : rc;
}

static void trace_by_id(struct store *store, struct slice id_text, struct http_request *req,
			struct http_response *resp)
{
	struct span_batch b;
	span_batch_init(&b, req->arena);
	int rc = read_trace(store, id_text, &b);
	if (rc == CLEW_EINVAL) {
		api_error(resp, req, 400, "malformed trace id: expected 16 or 32 hexadecimal digits");
	} else if (rc == CLEW_ENOTFOUND) {
		api_error(resp, req, 404, "trace not found");
	} else if (rc < 0) {
		api_error(resp, req, 503, "could not read the trace; retry later");
	} else {
		struct json j;
		json_init(&j, &resp->body);
		zipkin_json_write_spans(&j, &b);
		finish(resp, req);
	}
}

static void trace_many(struct store *store, struct http_request *req, struct http_response *resp)
{
	struct slice ids;
	if (!api_query_param(req, "traceIds", &ids) || !ids.len) {
		api_error(resp, req, 400, "traceIds is required: a comma-separated list of trace ids");
		return;
	}
	struct json j;
	json_init(&j, &resp->body);
	json_arr_begin(&j);
	struct arena ta;
	arena_init(&ta, ZIPKIN_TRACE_ARENA_BYTES);
	for (size_t i = 0; i <= ids.len;) {
		const uint8_t *comma = memchr(ids.p + i, ',', ids.len - i);
		size_t end = comma ? (size_t)(comma - ids.p) : ids.len;
		struct span_batch b;
		span_batch_init(&b, &ta);
		int rc = read_trace(store, slice_make(ids.p + i, end - i), &b);
		if (rc == CLEW_EINVAL) {
			arena_reset(&ta);
			api_error(resp, req, 400, "malformed trace id in traceIds: expected 16 or 32 hexadecimal digits");
			return;
		}
		if (rc == 0)
			zipkin_json_write_spans(&j, &b);
		arena_reset(&ta);
		i = end + 1;
	}
	json_arr_end(&j);
	finish(resp, req);
}

static void dependencies(struct store *store, struct http_request *req, struct http_response *resp)
{
	int64_t end_ms, lookback_ms = ZIPKIN_DEFAULT_LOOKBACK_MS;
	bool has;
	if (!int_param(req, "endTs", &end_ms, &has) || !has || end_ms > INT64_MAX / 1000000) {
		api_error(resp, req, 400, "endTs is required: Unix milliseconds");
		return;
	}
	if (!int_param(req, "lookback", &lookback_ms, &has)) {
		api_error(resp, req, 400, "invalid lookback: expected milliseconds");
		return;
	}
	int64_t start_ms = end_ms > lookback_ms ? end_ms - lookback_ms : 0;
	struct jaeger_dep *d;
	uint32_t n;
	if (jaeger_dependencies(store, req->arena, start_ms * 1000000 + (start_ms == 0), end_ms * 1000000 + 999999, &d,
				&n) < 0) {
		api_error(resp, req, 500, "could not compute the dependencies");
		return;
	}
	struct json j;
	json_init(&j, &resp->body);
	json_arr_begin(&j);
	for (uint32_t i = 0; i < n; i++) {
		json_obj_begin(&j);
		json_key(&j, "parent");
		json_str(&j, d[i].parent);
		json_key(&j, "child");
		json_str(&j, d[i].child);
		json_key(&j, "callCount");
		json_uint(&j, d[i].calls);
		json_key(&j, "errorCount");
		json_uint(&j, d[i].errors);
		json_obj_end(&j);
	}
	json_arr_end(&j);
	finish(resp, req);
}

bool zipkin_api_handle(const struct query_api *q, struct http_request *req, struct http_response *resp)
{
	struct store *store = q->store;
	struct slice p, rest;
	if (!api_path_rest(req->path, "/zipkin/api/v2/", &p))
		return false;
	if (slice_eq_cstr(p, "services")) {
		write_values(q, req, resp, "resource.service.name", (struct slice){0});
	} else if (slice_eq_cstr(p, "spans")) {
		service_values(q, req, resp, "name");
	} else if (slice_eq_cstr(p, "remoteServices")) {
		service_values(q, req, resp, "span.peer.service");
	} else if (slice_eq_cstr(p, "traces")) {
		traces(q, req, resp);
	} else if (api_path_rest(p, "trace/", &rest)) {
		trace_by_id(store, rest, req, resp);
	} else if (slice_eq_cstr(p, "traceMany")) {
		trace_many(store, req, resp);
	} else if (slice_eq_cstr(p, "dependencies")) {
		dependencies(store, req, resp);
	} else if (slice_eq_cstr(p, "autocompleteKeys")) {
		struct json j;
		json_init(&j, &resp->body);
		json_arr_begin(&j);
		for (size_t i = 0; i < sizeof autocomplete_keys / sizeof *autocomplete_keys; i++)
			json_cstr(&j, autocomplete_keys[i]);
		json_arr_end(&j);
		finish(resp, req);
	} else if (slice_eq_cstr(p, "autocompleteValues")) {
		autocomplete_values(q, req, resp);
	} else {
		return false;
	}
	return true;
}
