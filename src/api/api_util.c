/* Small helpers for the read API handlers, and each query's limits: the
 * budgets from clew serve's flags and the cancellation check the executor
 * calls from its worker threads (throttled: one poll(2) per interval). */
#include "api/api_util.h"

#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include "base/clock.h"
#include "base/codec.h"
#include "base/err.h"
#include "base/json.h"
#include "base/metrics.h"
#include "base/units.h"
#include "api/metrics_api.h"
#include "query/traceql.h"

/* How often a running query asks whether its client is still there. */
#define API_CANCEL_CHECK_NS (20 * 1000000LL)

/* The cancellation state of one query; in the request arena. */
struct api_cancel {
	struct http_request *req;
	_Atomic int64_t next_check_ns;
	_Atomic bool gone;
	bool counted;
};

static struct metric *m_cancelled, *m_over_memory, *m_over_time;

void api_error_begin(struct json *j, struct http_response *resp, struct http_request *req, int status,
		     const char *message)
{
	resp->body.len = 0;
	json_init(j, &resp->body);
	json_obj_begin(j);
	json_key(j, "error");
	json_obj_begin(j);
	json_key(j, "code");
	json_int(j, status);
	json_key(j, "message");
	json_cstr(j, message);
	resp->status = status;
	http_response_header(resp, req, "Content-Type", SLICE_LIT("application/json"));
}

void api_error_end(struct json *j)
{
	json_obj_end(j);
	json_obj_end(j);
}

void api_error(struct http_response *resp, struct http_request *req, int status, const char *message)
{
	struct json j;
	api_error_begin(&j, resp, req, status, message);
	api_error_end(&j);
}

void api_ok(struct http_response *resp, struct http_request *req, const char *content_type)
{
	resp->status = 200;
	http_response_header(resp, req, "Content-Type", slice_cstr(content_type));
}

void api_send_json(struct http_response *resp, struct http_request *req, int status)
{
	if (resp->body.err) {
		buf_clear(&resp->body);
		api_error(resp, req, 500, "the answer is too large");
		return;
	}
	api_ok(resp, req, "application/json");
	resp->status = status;
}

bool api_method_is(const struct http_request *req, const char *m)
{
	return slice_eq_cstr(req->method, m);
}

bool api_is_get(const struct http_request *req)
{
	return api_method_is(req, "GET") || api_method_is(req, "HEAD");
}

bool api_body_present(struct http_request *req, struct http_response *resp, const char *empty_msg)
{
	const struct slice *ce = http_request_header(req, "content-encoding");
	if (ce && ce->len && !slice_eq_cstr(*ce, "identity")) {
		api_error(resp, req, 415, "send the body without Content-Encoding");
		return false;
	}
	if (req->body.len == 0) {
		api_error(resp, req, 400, empty_msg);
		return false;
	}
	return true;
}

bool api_parse_trace_id(struct slice s, uint8_t out[16])
{
	if (s.len == 0 || s.len > 32)
		return false;
	memset(out, 0, 16);
	for (size_t i = 0; i < s.len; i++) {
		int v = hex_digit_value(s.p[s.len - 1 - i]);
		if (v < 0)
			return false;
		size_t byte = 15 - i / 2;
		out[byte] |= (uint8_t)(i % 2 ? v << 4 : v);
	}
	return true;
}

static struct slice percent_decode(struct arena *a, struct slice s)
{
	char *o = arena_alloc(a, s.len + 1);
	if (!o)
		return (struct slice){NULL, 0};
	size_t n = 0;
	for (size_t i = 0; i < s.len; i++) {
		if (s.p[i] == '%' && i + 2 < s.len && hex_digit_value(s.p[i + 1]) >= 0 && hex_digit_value(s.p[i + 2]) >= 0) {
			o[n++] = (char)(hex_digit_value(s.p[i + 1]) << 4 | hex_digit_value(s.p[i + 2]));
			i += 2;
		} else if (s.p[i] == '+') {
			o[n++] = ' ';
		} else {
			o[n++] = (char)s.p[i];
		}
	}
	o[n] = 0;
	return slice_make(o, n);
}

bool api_query_param_next(struct http_request *req, const char *name, size_t *pos, struct slice *out)
{
	size_t nlen = strlen(name);
	if (!req->query.p || *pos >= req->query.len)
		return false;
	const uint8_t *p = req->query.p + *pos, *end = req->query.p + req->query.len;
	while (p < end) {
		const uint8_t *amp = memchr(p, '&', (size_t)(end - p));
		const uint8_t *stop = amp ? amp : end;
		const uint8_t *eq = memchr(p, '=', (size_t)(stop - p));
		const uint8_t *kend = eq ? eq : stop;
		if ((size_t)(kend - p) == nlen && memcmp(p, name, nlen) == 0) {
			struct slice raw = eq ? slice_make(eq + 1, (size_t)(stop - eq - 1)) : (struct slice){NULL, 0};
			*out = percent_decode(req->arena, raw);
			*pos = (size_t)(stop - req->query.p);
			return true;
		}
		p = amp ? amp + 1 : end;
	}
	*pos = req->query.len;
	return false;
}

bool api_query_param(struct http_request *req, const char *name, struct slice *out)
{
	size_t pos = 0;
	return api_query_param_next(req, name, &pos, out);
}

bool api_path_rest(struct slice path, const char *prefix, struct slice *rest)
{
	if (!slice_starts_with(path, prefix))
		return false;
	size_t n = strlen(prefix);
	*rest = slice_make(path.p + n, path.len - n);
	return true;
}

bool api_accepts_protobuf(const struct http_request *req)
{
	const struct slice *a = http_request_header(req, "accept");
	if (!a)
		return false;
	return memmem(a->p, a->len, "/protobuf", 9) || memmem(a->p, a->len, "/x-protobuf", 11);
}

void api_query_metrics_init(void)
{
	m_cancelled = metric_counter("clew_queries_cancelled_total",
				     "Queries stopped because their client went away.", NULL);
	m_over_memory = metric_counter("clew_queries_over_budget_total",
				       "Queries stopped by their budget (--query-max-bytes, --query-timeout).",
				       "budget=\"memory\"");
	m_over_time = metric_counter("clew_queries_over_budget_total",
				     "Queries stopped by their budget (--query-max-bytes, --query-timeout).",
				     "budget=\"time\"");
}

/* exec_options.cancelled: called from the scan's worker threads. */
static bool client_gone(void *ctx)
{
	struct api_cancel *c = ctx;
	if (atomic_load(&c->gone))
		return true;
	int64_t now = clock_mono_ns();
	int64_t next = atomic_load(&c->next_check_ns);
	if (now < next || !atomic_compare_exchange_strong(&c->next_check_ns, &next, now + API_CANCEL_CHECK_NS))
		return false;
	if (!http_request_client_gone(c->req))
		return false;
	atomic_store(&c->gone, true);
	return true;
}

void api_query_limits(const struct query_api *q, struct http_request *req, struct exec_options *o)
{
	if (q) {
		if (q->query_mem_bytes && (!o->mem_bytes || q->query_mem_bytes < o->mem_bytes))
			o->mem_bytes = q->query_mem_bytes;
		/* an endpoint's own smaller budgets (tag values, dependencies) stay */
		if (q->query_time_ns && (!o->time_ns || q->query_time_ns < o->time_ns))
			o->time_ns = q->query_time_ns;
	}
	struct api_cancel *c = arena_zalloc(req->arena, sizeof *c);
	if (!c)
		return;
	c->req = req;
	o->cancelled = client_gone;
	o->cancel_ctx = c;
}

bool api_query_cancelled(struct http_response *resp, struct http_request *req, const struct exec_options *o)
{
	if (o->cancelled != client_gone || !o->cancel_ctx)
		return false;
	struct api_cancel *c = o->cancel_ctx;
	if (!atomic_load(&c->gone) && !http_request_client_gone(req))
		return false;
	atomic_store(&c->gone, true);
	if (!c->counted && m_cancelled)
		metric_add(m_cancelled, 1);
	c->counted = true;
	api_error(resp, req, 499, "the client closed the request; the query was stopped");
	return true;
}

/* A size in the unit a person would write it in. */
static void size_text(char *out, size_t len, uint64_t n)
{
	if (n >= (1ull << 30) && n % (1ull << 30) == 0)
		snprintf(out, len, "%llu GiB", (unsigned long long)(n >> 30));
	else if (n >= (1ull << 20))
		snprintf(out, len, "%llu MiB", (unsigned long long)(n >> 20));
	else if (n >= 1024)
		snprintf(out, len, "%llu KiB", (unsigned long long)(n >> 10));
	else
		snprintf(out, len, "%llu bytes", (unsigned long long)n);
}

static void duration_text(char *out, size_t len, int64_t ns)
{
	if (ns >= 1000000000LL && ns % 1000000000LL == 0)
		snprintf(out, len, "%lld s", (long long)(ns / 1000000000LL));
	else
		snprintf(out, len, "%lld ms", (long long)(ns / 1000000));
}

void api_query_error_text(int rc, const struct exec_options *o, const char *what, int *status, char *msg,
			  size_t msglen)
{
	char amount[48];
	if (rc == CLEW_ELIMIT) {
		if (m_over_memory)
			metric_add(m_over_memory, 1);
		size_text(amount, sizeof amount, o->mem_bytes ? o->mem_bytes : EXEC_DEFAULT_MEM_BYTES);
		snprintf(msg, msglen, "query exceeded its memory budget (%s); narrow the time range or the query",
			 amount);
		*status = 413;
	} else if (rc == CLEW_EBUSY) {
		if (m_over_time)
			metric_add(m_over_time, 1);
		duration_text(amount, sizeof amount, o->time_ns ? o->time_ns : EXEC_DEFAULT_TIME_NS);
		snprintf(msg, msglen, "query exceeded its time budget (%s); narrow the time range or the query",
			 amount);
		*status = 504;
	} else {
		snprintf(msg, msglen, "%s failed: %s", what, err_str(rc));
		*status = 500;
	}
}

void api_query_error(struct http_response *resp, struct http_request *req, int rc, const struct exec_options *o,
		     const char *what)
{
	if (api_query_cancelled(resp, req, o))
		return;
	char msg[256];
	int status;
	api_query_error_text(rc, o, what, &status, msg, sizeof msg);
	api_error(resp, req, status, msg);
}

bool api_seconds_param(struct http_request *req, struct http_response *resp, const char *name, bool end,
		       int64_t *ns, bool *present)
{
	struct slice v;
	char tmp[32], msg[96];
	if (present)
		*present = false;
	if (!api_query_param(req, name, &v) || v.len == 0)
		return true;
	uint64_t s;
	if (v.len < sizeof tmp) {
		memcpy(tmp, v.p, v.len);
		tmp[v.len] = 0;
	}
	if (v.len >= sizeof tmp || units_parse_u64(tmp, &s) < 0 || s > 9000000000ULL) {
		snprintf(msg, sizeof msg, "invalid %s: expected Unix seconds", name);
		api_error(resp, req, 400, msg);
		return false;
	}
	*ns = (int64_t)s * 1000000000LL + (end ? 999999999LL : 0);
	if (present)
		*present = true;
	return true;
}

bool api_time_param(struct http_request *req, struct http_response *resp, const char *name, int64_t *ns)
{
	struct slice v;
	char msg[128];
	if (!api_query_param(req, name, &v) || v.len == 0)
		return true;
	if (metrics_api_parse_time(v, ns))
		return true;
	snprintf(msg, sizeof msg, "invalid %s: expected Unix seconds or an RFC3339 time", name);
	api_error(resp, req, 400, msg);
	return false;
}

bool api_limit_param(struct http_request *req, struct http_response *resp, uint32_t max, uint32_t *out)
{
	struct slice v;
	char tmp[16], msg[64];
	uint64_t n;
	if (!api_query_param(req, "limit", &v) || v.len == 0)
		return true;
	if (v.len < sizeof tmp) {
		memcpy(tmp, v.p, v.len);
		tmp[v.len] = 0;
	}
	if (v.len >= sizeof tmp || units_parse_u64(tmp, &n) < 0 || n < 1 || n > max) {
		snprintf(msg, sizeof msg, "invalid limit: expected 1 to %u", max);
		api_error(resp, req, 400, msg);
		return false;
	}
	*out = (uint32_t)n;
	return true;
}

struct exec_query *api_compile_filter(struct http_request *req, struct http_response *resp, struct slice text)
{
	struct tql_error e;
	struct tql_query *tq = tql_parse((const char *)text.p, text.len, req->arena, &e);
	if (!tq) {
		api_error(resp, req, 400, e.msg);
		return NULL;
	}
	if (tq->kind != TQL_Q_SPANS) {
		api_error(resp, req, 400, "q must be a TraceQL spanset filter such as { resource.service.name = \"api\" }");
		return NULL;
	}
	int rc;
	char err[256];
	struct exec_query *xq = exec_compile(tq, req->arena, &rc, err, sizeof err);
	if (!xq)
		api_error(resp, req, rc == CLEW_ENOMEM ? 503 : 400, err);
	return xq;
}
