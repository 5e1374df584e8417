/* Tempo's search endpoints over the TraceQL executor: request parameters
 * (q or the legacy tags form, start/end in Unix seconds, limit, spss), the
 * SearchResponse JSON (trace ids hex without leading zeros, spanSets and the
 * deprecated spanSet, serviceStats, metrics), and tag names and values
 * collected from the heads and the newest block pages, bounded. */
#include "api/search_api.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api_util.h"
#include "api/trace_json.h"
#include "base/buf.h"
#include "base/codec.h"
#include "base/err.h"
#include "base/hash.h"
#include "base/json.h"
#include "base/units.h"
#include "query/exec.h"

#define SEARCH_MAX_TAGS 1000
#define SEARCH_TAG_PAGES 64 /* newest block pages read for tag names and values */
#define SEARCH_TAG_TIME_NS (5LL * 1000000000LL)

static const char *intrinsic_tags[] = {"duration", "event:name", "event:timeSinceStart", "instrumentation:name",
				       "instrumentation:version", "kind", "link:spanID", "link:traceID", "name",
				       "rootName", "rootServiceName", "span:id", "span:parentID", "status",
				       "statusMessage", "trace:duration", "trace:id", "traceDuration"};

static bool param_i64(struct http_request *req, const char *name, int64_t *out)
{
	struct slice v;
	if (!api_query_param(req, name, &v) || v.len == 0 || v.len > 30)
		return false;
	char tmp[32];
	memcpy(tmp, v.p, v.len);
	tmp[v.len] = 0;
	char *end;
	double d = strtod(tmp, &end);
	if (*end != 0 || d < 0 || d > 9e18)
		return false;
	*out = (int64_t)d;
	return true;
}

/* start/end (Unix seconds) into nanoseconds; false with a 400 written. */
static bool time_range(struct http_request *req, struct http_response *resp, struct exec_options *o)
{
	int64_t s;
	struct slice v;
	if (api_query_param(req, "start", &v) && v.len) {
		if (!param_i64(req, "start", &s)) {
			api_error(resp, req, 400, "invalid start: expected Unix seconds");
			return false;
		}
		o->start_ns = s * 1000000000LL;
	}
	if (api_query_param(req, "end", &v) && v.len) {
		if (!param_i64(req, "end", &s)) {
			api_error(resp, req, 400, "invalid end: expected Unix seconds");
			return false;
		}
		o->end_ns = s * 1000000000LL + 999999999LL;
	}
	if (o->start_ns && o->end_ns && o->start_ns > o->end_ns) {
		api_error(resp, req, 400, "invalid range: start is after end");
		return false;
	}
	return true;
}

/* The legacy form: tags=k=v k2="v 2" (logfmt), minDuration, maxDuration,
 * as a TraceQL filter on unscoped attributes and the trace duration. */
static bool legacy_query(struct http_request *req, struct buf *q)
{
	struct slice tags = {0}, mind = {0}, maxd = {0};
	bool any = api_query_param(req, "tags", &tags);
	any |= api_query_param(req, "minDuration", &mind);
	any |= api_query_param(req, "maxDuration", &maxd);
	if (!any)
		return false;
	int terms = 0;
	buf_append_cstr(q, "{ ");
	size_t i = 0;
	while (i < tags.len) {
		while (i < tags.len && tags.p[i] == ' ')
			i++;
		size_t k0 = i;
		while (i < tags.len && tags.p[i] != '=' && tags.p[i] != ' ')
			i++;
		struct slice key = slice_make(tags.p + k0, i - k0);
		if (key.len == 0)
			break;
		struct slice val = {(const uint8_t *)"", 0};
		if (i < tags.len && tags.p[i] == '=') {
			i++;
			if (i < tags.len && tags.p[i] == '"') {
				size_t v0 = ++i;
				while (i < tags.len && tags.p[i] != '"')
					i++;
				val = slice_make(tags.p + v0, i - v0);
				if (i < tags.len)
					i++;
			} else {
				size_t v0 = i;
				while (i < tags.len && tags.p[i] != ' ')
					i++;
				val = slice_make(tags.p + v0, i - v0);
			}
		}
		if (terms++)
			buf_append_cstr(q, " && ");
		buf_append_cstr(q, ".\"");
		for (size_t k = 0; k < key.len; k++) {
			if (key.p[k] == '"' || key.p[k] == '\\')
				buf_append_byte(q, '\\');
			buf_append_byte(q, key.p[k]);
		}
		buf_append_cstr(q, "\" = \"");
		for (size_t k = 0; k < val.len; k++) {
			if (val.p[k] == '"' || val.p[k] == '\\')
				buf_append_byte(q, '\\');
			buf_append_byte(q, val.p[k]);
		}
		buf_append_cstr(q, "\"");
	}
	struct slice d[2] = {mind, maxd};
	for (int k = 0; k < 2; k++) {
		if (!d[k].len)
			continue;
		char tmp[64];
		int64_t ns;
		if (d[k].len >= sizeof tmp)
			return true;
		memcpy(tmp, d[k].p, d[k].len);
		tmp[d[k].len] = 0;
		if (units_parse_duration_ns(tmp, &ns) < 0) {
			buf_append_cstr(q, terms++ ? " && " : "");
			buf_append_cstr(q, "bad duration");
			continue;
		}
		buf_printf(q, "%straceDuration %s %lldns", terms++ ? " && " : "", k == 0 ? ">=" : "<=", (long long)ns);
	}
	buf_append_cstr(q, terms ? " }" : "}");
	return true;
}

static void trimmed_id(struct json *j, const uint8_t id[16])
{
	char hex[33];
	hex_encode(id, 16, hex);
	size_t k = 0;
	while (k < 31 && hex[k] == '0')
		k++;
	json_str(j, slice_make(hex + k, 32 - k));
}

static void write_spanset(struct json *j, const struct exec_spanset *ss)
{
	json_obj_begin(j);
	json_key(j, "spans");
	json_arr_begin(j);
	for (uint32_t k = 0; k < ss->n_spans; k++) {
		const struct exec_span *sp = &ss->spans[k];
		json_obj_begin(j);
		json_key(j, "spanID");
		json_hex(j, sp->span_id, 8);
		json_key(j, "name");
		json_str(j, sp->name);
		json_key(j, "startTimeUnixNano");
		json_int_str(j, sp->start_unix_ns);
		json_key(j, "durationNanos");
		json_int_str(j, sp->dur_ns);
		json_key(j, "attributes");
		trace_json_write_attrs(j, sp->attrs, sp->n_attrs);
		json_obj_end(j);
	}
	json_arr_end(j);
	json_key(j, "matched");
	json_uint(j, ss->matched);
	if (ss->n_attrs) {
		json_key(j, "attributes");
		trace_json_write_attrs(j, ss->attrs, ss->n_attrs);
	}
	json_obj_end(j);
}

static void write_trace(struct json *j, const struct exec_trace *t)
{
	json_obj_begin(j);
	json_key(j, "traceID");
	trimmed_id(j, t->trace_id);
	json_key(j, "rootServiceName");
	json_str(j, t->root_service.len ? t->root_service : SLICE_LIT("<root span not yet received>"));
	if (t->root_name.len) {
		json_key(j, "rootTraceName");
		json_str(j, t->root_name);
	}
	json_key(j, "startTimeUnixNano");
	json_int_str(j, t->start_unix_ns);
	json_key(j, "durationMs");
	json_int(j, (t->end_unix_ns - t->start_unix_ns) / 1000000);
	if (t->n_spansets) {
		json_key(j, "spanSet");
		write_spanset(j, &t->spansets[0]);
	}
	json_key(j, "spanSets");
	json_arr_begin(j);
	for (uint32_t k = 0; k < t->n_spansets; k++)
		write_spanset(j, &t->spansets[k]);
	json_arr_end(j);
	json_key(j, "serviceStats");
	json_obj_begin(j);
	for (uint32_t k = 0; k < t->n_services; k++) {
		json_key_slice(j, t->services[k].name);
		json_obj_begin(j);
		json_key(j, "spanCount");
		json_uint(j, t->services[k].spans);
		if (t->services[k].errors) {
			json_key(j, "errorCount");
			json_uint(j, t->services[k].errors);
		}
		json_obj_end(j);
	}
	json_obj_end(j);
	json_obj_end(j);
}

static void write_metrics(struct json *j, const struct exec_result *r)
{
	json_key(j, "metrics");
	json_obj_begin(j);
	json_key(j, "inspectedTraces");
	json_uint(j, r->inspected_traces);
	json_key(j, "inspectedSpans");
	json_uint_str(j, r->inspected_spans);
	json_key(j, "inspectedBytes");
	json_uint_str(j, r->inspected_bytes);
	json_key(j, "totalBlocks");
	json_uint(j, r->total_blocks);
	json_key(j, "completedJobs");
	json_uint(j, r->completed_jobs);
	json_key(j, "totalJobs");
	json_uint(j, r->total_jobs);
	json_obj_end(j);
}

/* Parse and compile text; false with the error response written. */
static struct exec_query *compile(struct http_request *req, struct http_response *resp, struct slice text,
				  bool allow_metrics_error)
{
	struct tql_error e;
	struct tql_query *q = tql_parse((const char *)text.p, text.len, req->arena, &e);
	if (!q) {
		api_error(resp, req, 400, e.msg);
		return NULL;
	}
	if (q->kind == TQL_Q_METRICS) {
		if (allow_metrics_error)
			api_error(resp, req, 400, "metrics queries are not searches: use /api/metrics/query_range");
		return NULL;
	}
	int rc;
	char err[256];
	struct exec_query *xq = exec_compile(q, req->arena, &rc, err, sizeof err);
	if (!xq)
		api_error(resp, req, rc == CLEW_ENOMEM ? 500 : 400, err);
	return xq;
}

static bool search_options(struct http_request *req, struct http_response *resp, struct exec_options *o)
{
	int64_t v;
	struct slice s;
	if (!time_range(req, resp, o))
		return false;
	if (api_query_param(req, "limit", &s) && s.len) {
		if (!param_i64(req, "limit", &v) || v < 1 || v > 100000) {
			api_error(resp, req, 400, "invalid limit: expected 1 to 100000");
			return false;
		}
		o->limit = (uint32_t)v;
	}
	if (api_query_param(req, "spss", &s) && s.len) {
		if (!param_i64(req, "spss", &v) || v < 1 || v > 100000) {
			api_error(resp, req, 400, "invalid spss: expected 1 to 100000");
			return false;
		}
		o->spss = (uint32_t)v;
	}
	return true;
}

void search_api_search(const struct query_api *q, struct http_request *req, struct http_response *resp)
{
	struct exec_options o = {0};
	struct slice text;
	struct buf legacy;
	buf_init(&legacy, 64 * 1024);
	if (!search_options(req, resp, &o))
		goto out;
	if (!api_query_param(req, "q", &text) || text.len == 0) {
		if (!legacy_query(req, &legacy))
			buf_append_cstr(&legacy, "{}");
		if (legacy.err) {
			api_error(resp, req, 400, "the tags parameter is too long");
			goto out;
		}
		text = slice_make(legacy.p, legacy.len);
	}
	struct exec_query *xq = compile(req, resp, text, true);
	if (!xq)
		goto out;
	api_query_limits(q, req, &o);
	struct exec_result r;
	int rc = exec_search(&store_embedded_query_ops, q->store, xq, &o, &r);
	exec_query_free(xq);
	if (rc < 0 || api_query_cancelled(resp, req, &o)) {
		if (rc < 0)
			api_query_error(resp, req, rc, &o, "search");
		exec_result_free(&r);
		goto out;
	}
	struct json j;
	json_init(&j, &resp->body);
	json_obj_begin(&j);
	json_key(&j, "traces");
	json_arr_begin(&j);
	for (size_t k = 0; k < r.n_traces; k++)
		write_trace(&j, &r.traces[k]);
	json_arr_end(&j);
	write_metrics(&j, &r);
	json_obj_end(&j);
	exec_result_free(&r);
	api_ok(resp, req, "application/json");
out:
	buf_free(&legacy);
}

/* ---- tag names and values ---- */

/* A bounded set of distinct strings with a kind each. */
struct strset {
	struct slice *items;
	uint8_t *kinds;
	uint32_t n, max;
	uint32_t *tab;
	uint32_t cap;
	struct arena *a;
	bool full;
};

static void strset_init(struct strset *s, struct arena *a, uint32_t max)
{
	memset(s, 0, sizeof *s);
	s->a = a;
	s->max = max;
	s->cap = 1;
	while (s->cap < max * 2)
		s->cap <<= 1;
	s->items = arena_array(a, max + 1, sizeof *s->items);
	s->kinds = arena_array(a, max + 1, 1);
	s->tab = arena_array(a, s->cap, sizeof *s->tab);
	if (s->tab)
		memset(s->tab, 0xff, s->cap * sizeof *s->tab);
}

static void strset_add(struct strset *s, struct slice v, uint8_t kind)
{
	if (!s->tab || !s->items || !s->kinds)
		return;
	uint32_t h = (uint32_t)(hash64(v.p, v.len) ^ kind) & (s->cap - 1);
	while (s->tab[h] != UINT32_MAX) {
		uint32_t k = s->tab[h];
		if (s->kinds[k] == kind && slice_eq(s->items[k], v))
			return;
		h = (h + 1) & (s->cap - 1);
	}
	if (s->n >= s->max) {
		s->full = true;
		return;
	}
	void *p = v.len ? arena_memdup(s->a, v.p, v.len) : (void *)"";
	if (!p)
		return;
	s->items[s->n] = slice_make(p, v.len);
	s->kinds[s->n] = kind;
	s->tab[h] = s->n++;
}

enum { K_RESOURCE = 0, K_SPAN, K_EVENT, K_LINK, K_INSTR, K_N };
static const char *scope_names[K_N] = {"resource", "span", "event", "link", "instrumentation"};

struct tag_ctx {
	struct strset set;
	const struct tql_node *field; /* values mode */
	struct arena scratch;
	bool want[K_N];
};

static void add_keys(struct tag_ctx *c, const struct attr_list *l, uint8_t kind)
{
	for (uint32_t k = 0; k < l->n; k++)
		strset_add(&c->set, l->items[k].key, kind);
}

static int visit_names(void *ctx, const struct span_batch *b, uint32_t first, uint32_t n, const uint32_t *matched,
		       uint32_t n_matched)
{
	struct tag_ctx *c = ctx;
	for (uint32_t m = 0; m < n_matched; m++) {
		const struct span *s = &b->spans[matched[m]];
		if (c->want[K_RESOURCE])
			add_keys(c, &span_batch_resource_of(b, s)->attrs, K_RESOURCE);
		if (c->want[K_SPAN])
			add_keys(c, &s->attrs, K_SPAN);
		if (c->want[K_INSTR])
			add_keys(c, &b->scopes[s->scope].attrs, K_INSTR);
		for (uint32_t e = 0; e < s->n_events && c->want[K_EVENT]; e++)
			add_keys(c, &s->events[e].attrs, K_EVENT);
		for (uint32_t l = 0; l < s->n_links && c->want[K_LINK]; l++)
			add_keys(c, &s->links[l].attrs, K_LINK);
	}
	return c->set.full ? 1 : 0;
}

enum { V_STRING = 0, V_INT, V_FLOAT, V_BOOL, V_DURATION, V_KEYWORD };
static const char *vtype_names[] = {"string", "int", "float", "bool", "duration", "keyword"};

static int visit_values(void *ctx, const struct span_batch *b, uint32_t first, uint32_t n, const uint32_t *matched,
			uint32_t n_matched)
{
	struct tag_ctx *c = ctx;
	arena_reset(&c->scratch);
	for (uint32_t m = 0; m < n_matched; m++) {
		struct exec_value v;
		char tmp[64];
		exec_field_value(c->field, b, first, n, matched[m] - first, &c->scratch, &v);
		switch (v.type) {
		case TQL_T_STRING:
			strset_add(&c->set, v.u.s, V_STRING);
			break;
		case TQL_T_INT:
			snprintf(tmp, sizeof tmp, "%lld", (long long)v.u.i);
			strset_add(&c->set, slice_cstr(tmp), V_INT);
			break;
		case TQL_T_FLOAT:
			snprintf(tmp, sizeof tmp, "%.17g", v.u.f);
			strset_add(&c->set, slice_cstr(tmp), V_FLOAT);
			break;
		case TQL_T_BOOL:
			strset_add(&c->set, slice_cstr(v.u.b ? "true" : "false"), V_BOOL);
			break;
		case TQL_T_DURATION:
			snprintf(tmp, sizeof tmp, "%lldns", (long long)v.u.i);
			strset_add(&c->set, slice_cstr(tmp), V_DURATION);
			break;
		case TQL_T_STATUS:
		case TQL_T_KIND: {
			if (v.type == TQL_T_STATUS) {
				static const char *st[] = {"unset", "ok", "error"};
				strset_add(&c->set, slice_cstr(v.u.i >= 0 && v.u.i <= 2 ? st[v.u.i] : "unset"), V_KEYWORD);
			} else {
				static const char *kd[] = {"unspecified", "internal", "server",
							   "client",	  "producer", "consumer"};
				strset_add(&c->set, slice_cstr(v.u.i >= 0 && v.u.i <= 5 ? kd[v.u.i] : "unspecified"),
					   V_KEYWORD);
			}
			break;
		}
		default:
			break;
		}
	}
	return c->set.full ? 1 : 0;
}

static int cmp_slice(const void *x, const void *y)
{
	const struct slice *a = x, *b = y;
	size_t m = a->len < b->len ? a->len : b->len;
	int c = m ? memcmp(a->p, b->p, m) : 0;
	return c ? c : (a->len > b->len) - (a->len < b->len);
}

static struct exec_query *match_all(struct http_request *req, struct slice q)
{
	struct tql_error e;
	struct tql_query *tq = NULL;
	if (q.len)
		tq = tql_parse((const char *)q.p, q.len, req->arena, &e);
	if (!tq || tq->kind != TQL_Q_SPANS)
		tq = tql_parse("{}", 2, req->arena, &e);
	if (!tq)
		return NULL;
	int rc;
	char err[128];
	struct exec_query *xq = exec_compile(tq, req->arena, &rc, err, sizeof err);
	if (!xq)
		xq = exec_compile(tql_parse("{}", 2, req->arena, &e), req->arena, &rc, err, sizeof err);
	return xq;
}

static int tag_scan(struct store *store, struct http_request *req, struct exec_query *xq, struct tag_ctx *c,
		    exec_visit_fn fn, struct exec_options *o)
{
	o->max_pages = SEARCH_TAG_PAGES;
	if (!o->time_ns || o->time_ns > SEARCH_TAG_TIME_NS)
		o->time_ns = SEARCH_TAG_TIME_NS;
	int rc = exec_scan(&store_embedded_query_ops, store, xq, o, fn, c, NULL);
	return rc == 1 || rc == CLEW_EBUSY ? 0 : rc; /* a partial list is still an answer */
}

static void write_names(struct json *j, struct strset *s, int kind)
{
	struct slice *v = malloc(((size_t)s->n + 1) * sizeof *v);
	uint32_t n = 0;
	if (!v)
		return;
	for (uint32_t k = 0; k < s->n; k++)
		if (kind < 0 || s->kinds[k] == kind)
			v[n++] = s->items[k];
	qsort(v, n, sizeof *v, cmp_slice);
	for (uint32_t k = 0; k < n; k++)
		if (k == 0 || !slice_eq(v[k], v[k - 1]))
			json_str(j, v[k]);
	free(v);
}

void search_api_tags(const struct query_api *qa, bool v2, struct http_request *req, struct http_response *resp)
{
	struct exec_options o = {0};
	struct slice scope = {0}, q = {0};
	if (!time_range(req, resp, &o))
		return;
	api_query_param(req, "scope", &scope);
	api_query_param(req, "q", &q);
	int only = -1;
	bool intrinsic = true;
	if (scope.len && !slice_eq_cstr(scope, "all")) {
		intrinsic = slice_eq_cstr(scope, "intrinsic");
		for (int k = 0; k < K_N; k++)
			if (slice_eq_cstr(scope, scope_names[k]))
				only = k;
		if (only < 0 && !intrinsic) {
			api_error(resp, req, 400, "invalid scope: expected resource, span, event, link, instrumentation, "
						  "intrinsic or all");
			return;
		}
	}
	struct tag_ctx c;
	memset(&c, 0, sizeof c);
	strset_init(&c.set, req->arena, SEARCH_MAX_TAGS * K_N);
	for (int k = 0; k < K_N; k++)
		c.want[k] = (only < 0 && !(scope.len && intrinsic)) || only == k;
	struct exec_query *xq = match_all(req, v2 ? q : (struct slice){0});
	if (!xq) {
		api_error(resp, req, 500, "out of memory");
		return;
	}
	int rc = 0;
	o.time_ns = SEARCH_TAG_TIME_NS;
	api_query_limits(qa, req, &o);
	if (c.want[0] || c.want[1] || c.want[2] || c.want[3] || c.want[4])
		rc = tag_scan(qa->store, req, xq, &c, visit_names, &o);
	exec_query_free(xq);
	if (rc < 0) {
		api_query_error(resp, req, rc, &o, "tag search");
		return;
	}
	if (api_query_cancelled(resp, req, &o))
		return;
	struct json j;
	json_init(&j, &resp->body);
	json_obj_begin(&j);
	if (!v2) {
		json_key(&j, "tagNames");
		json_arr_begin(&j);
		if (only >= 0 || !scope.len || !intrinsic) {
			write_names(&j, &c.set, only);
		} else {
			for (size_t k = 0; k < sizeof intrinsic_tags / sizeof *intrinsic_tags; k++)
				json_cstr(&j, intrinsic_tags[k]);
		}
		json_arr_end(&j);
	} else {
		json_key(&j, "scopes");
		json_arr_begin(&j);
		for (int k = 0; k < K_N; k++) {
			if (!c.want[k])
				continue;
			json_obj_begin(&j);
			json_key(&j, "name");
			json_cstr(&j, scope_names[k]);
			json_key(&j, "tags");
			json_arr_begin(&j);
			write_names(&j, &c.set, k);
			json_arr_end(&j);
			json_obj_end(&j);
		}
		if (intrinsic) {
			json_obj_begin(&j);
			json_key(&j, "name");
			json_cstr(&j, "intrinsic");
			json_key(&j, "tags");
			json_arr_begin(&j);
			for (size_t k = 0; k < sizeof intrinsic_tags / sizeof *intrinsic_tags; k++)
				json_cstr(&j, intrinsic_tags[k]);
			json_arr_end(&j);
			json_obj_end(&j);
		}
		json_arr_end(&j);
	}
	json_obj_end(&j);
	api_ok(resp, req, "application/json");
}

static struct slice percent_decode(struct arena *a, struct slice s)
{
	for (int round = 0; round < 2; round++) {
		uint8_t *o = arena_alloc(a, s.len + 1);
		if (!o)
			return s;
		size_t n = 0;
		bool any = false;
		for (size_t k = 0; k < s.len; k++) {
			int h, l;
			if (s.p[k] == '%' && k + 2 < s.len && (h = hex_digit_value(s.p[k + 1])) >= 0 && (l = hex_digit_value(s.p[k + 2])) >= 0) {
				o[n++] = (uint8_t)(h * 16 + l);
				k += 2;
				any = true;
			} else {
				o[n++] = s.p[k];
			}
		}
		s = slice_make(o, n);
		if (!any)
			break;
	}
	return s;
}

bool search_api_tag_path(struct slice path, bool *v2, struct slice *tag)
{
	struct slice rest;
	if (api_path_rest(path, "/api/search/tag/", &rest))
		*v2 = false;
	else if (api_path_rest(path, "/api/v2/search/tag/", &rest))
		*v2 = true;
	else
		return false;
	if (rest.len <= 7 || memcmp(rest.p + rest.len - 7, "/values", 7) != 0)
		return false;
	*tag = slice_make(rest.p, rest.len - 7);
	return true;
}

static bool is_intrinsic_name(struct slice t)
{
	for (size_t k = 0; k < sizeof intrinsic_tags / sizeof *intrinsic_tags; k++)
		if (slice_eq_cstr(t, intrinsic_tags[k]))
			return true;
	return false;
}

/* Parse text from a copy in the request arena: the AST points into it. */
static struct tql_query *parse_kept(struct http_request *req, const struct buf *text, struct tql_error *e)
{
	char *p = text->err ? NULL : arena_memdup(req->arena, text->p, text->len);
	return p ? tql_parse(p, text->len, req->arena, e) : NULL;
}

void search_api_tag_values(const struct query_api *qa, bool v2, struct slice tag, struct http_request *req,
			   struct http_response *resp)
{
	struct exec_options o = {0};
	struct slice q = {0};
	if (!time_range(req, resp, &o))
		return;
	tag = percent_decode(req->arena, tag);
	if (tag.len == 0 || tag.len > 1024) {
		api_error(resp, req, 400, "invalid tag name");
		return;
	}
	/* the field as TraceQL sees it: v1 names are unscoped attributes */
	struct buf text;
	buf_init(&text, 4096);
	buf_append_cstr(&text, "{} | select(");
	bool scoped = tag.p[0] == '.' || is_intrinsic_name(tag) ||
		      (tag.len > 9 && memcmp(tag.p, "resource.", 9) == 0) || (tag.len > 5 && memcmp(tag.p, "span.", 5) == 0) ||
		      (tag.len > 6 && memcmp(tag.p, "event.", 6) == 0) || (tag.len > 5 && memcmp(tag.p, "link.", 5) == 0) ||
		      (tag.len > 16 && memcmp(tag.p, "instrumentation.", 16) == 0);
	if (!scoped)
		buf_append_cstr(&text, ".");
	buf_append(&text, tag.p, tag.len);
	buf_append_cstr(&text, ")");
	struct tql_error e;
	struct tql_query *fq = parse_kept(req, &text, &e);
	if (!fq && !scoped) { /* a v1 name that is no TraceQL identifier: quote it */
		buf_clear(&text);
		buf_append_cstr(&text, "{} | select(.\"");
		for (size_t k = 0; k < tag.len; k++) {
			if (tag.p[k] == '"' || tag.p[k] == '\\')
				buf_append_byte(&text, '\\');
			buf_append_byte(&text, tag.p[k]);
		}
		buf_append_cstr(&text, "\")");
		fq = parse_kept(req, &text, &e);
	}
	buf_free(&text);
	const struct tql_node *field = NULL;
	if (fq && fq->root->kind == TQL_N_PIPELINE && fq->root->n_items == 2 &&
	    fq->root->items[1]->kind == TQL_N_SELECT && fq->root->items[1]->n_items == 1)
		field = fq->root->items[1]->items[0];
	if (!field) {
		api_error(resp, req, 400, "invalid tag name: expected an attribute or intrinsic");
		return;
	}
	if (v2)
		api_query_param(req, "q", &q);
	struct exec_query *xq = match_all(req, q);
	if (!xq) {
		api_error(resp, req, 500, "out of memory");
		return;
	}
	struct tag_ctx c;
	memset(&c, 0, sizeof c);
	strset_init(&c.set, req->arena, SEARCH_MAX_TAGS);
	c.field = field;
	arena_init(&c.scratch, 64 << 20);
	o.time_ns = SEARCH_TAG_TIME_NS;
	api_query_limits(qa, req, &o);
	int rc = tag_scan(qa->store, req, xq, &c, visit_values, &o);
	arena_reset(&c.scratch);
	exec_query_free(xq);
	if (rc < 0) {
		api_query_error(resp, req, rc, &o, "tag value search");
		return;
	}
	if (api_query_cancelled(resp, req, &o))
		return;
	struct json j;
	json_init(&j, &resp->body);
	json_obj_begin(&j);
	json_key(&j, "tagValues");
	json_arr_begin(&j);
	for (uint32_t k = 0; k < c.set.n; k++) {
		if (!v2) {
			json_str(&j, c.set.items[k]);
			continue;
		}
		json_obj_begin(&j);
		json_key(&j, "type");
		json_cstr(&j, vtype_names[c.set.kinds[k]]);
		json_key(&j, "value");
		json_str(&j, c.set.items[k]);
		json_obj_end(&j);
	}
	json_arr_end(&j);
	json_obj_end(&j);
	api_ok(resp, req, "application/json");
}

int search_api_field_values(struct store *store, struct http_request *req, const char *field, struct slice filter,
			    const struct exec_options *o, uint32_t max, struct slice **values, uint32_t *n)
{
	struct tql_error e;
	struct buf text;
	*values = NULL;
	*n = 0;
	buf_init(&text, 4096);
	buf_printf(&text, "{} | select(%s)", field);
	struct tql_query *fq = parse_kept(req, &text, &e);
	buf_free(&text);
	if (!fq || fq->root->kind != TQL_N_PIPELINE || fq->root->n_items != 2 ||
	    fq->root->items[1]->kind != TQL_N_SELECT || fq->root->items[1]->n_items != 1)
		return CLEW_EINVAL;
	struct tql_query *tq = tql_parse(filter.len ? (const char *)filter.p : "{}", filter.len ? filter.len : 2,
					 req->arena, &e);
	if (!tq || tq->kind != TQL_Q_SPANS)
		return CLEW_EINVAL;
	int rc;
	char err[128];
	struct exec_query *xq = exec_compile(tq, req->arena, &rc, err, sizeof err);
	if (!xq)
		return rc == CLEW_ENOMEM ? rc : CLEW_EINVAL;
	struct tag_ctx c;
	memset(&c, 0, sizeof c);
	strset_init(&c.set, req->arena, max ? max : SEARCH_MAX_TAGS);
	c.field = fq->root->items[1]->items[0];
	arena_init(&c.scratch, 64 << 20);
	struct exec_options so = *o;
	rc = tag_scan(store, req, xq, &c, visit_values, &so);
	arena_reset(&c.scratch);
	exec_query_free(xq);
	if (rc < 0)
		return rc;
	if (!c.set.items)
		return CLEW_ENOMEM;
	*values = c.set.items;
	*n = c.set.n;
	return 0;
}
