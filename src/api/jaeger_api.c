/* Jaeger's query API over clew's store. Searches become one TraceQL spanset
 * filter (service, operation, tags and span duration must hold on one span,
 * as Jaeger's storage backends match them), run by the executor; each
 * found trace is then read whole and written as a Jaeger UI trace (legacy)
 * or OTLP/JSON (api_v3). Services and operations are tag values of
 * resource.service.name and name; dependencies are parent/child pairs of
 * spans across services, counted over a bounded scan. */
#include "api/jaeger_api.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api/api_util.h"
#include "api/search_api.h"
#include "api/trace_json.h"
#include "base/alloc.h"
#include "base/clock.h"
#include "base/codec.h"
#include "base/err.h"
#include "base/hash.h"
#include "base/json.h"
#include "base/units.h"

#define JAEGER_DEFAULT_LIMIT 100
#define JAEGER_MAX_LIMIT 100000
#define JAEGER_DEP_MAX_SPANS 2000000
#define JAEGER_DEP_MAX_EDGES 10000
#define JAEGER_DEP_TIME_NS (10LL * 1000000000LL)
#define JAEGER_TRACE_ARENA_BYTES ((size_t)256 << 20)
#define JAEGER_DEFAULT_LOOKBACK_MS (24LL * 3600 * 1000)

static const char *const kind_names[] = {"unspecified", "internal", "server", "client", "producer", "consumer"};

/* ---- parameters ---- */

bool jaeger_parse_i64(struct slice s, int64_t *out)
{
	int64_t v = 0;
	if (s.len == 0 || s.len > 19)
		return false;
	for (size_t i = 0; i < s.len; i++) {
		if (s.p[i] < '0' || s.p[i] > '9')
			return false;
		v = v * 10 + (s.p[i] - '0');
	}
	*out = v;
	return true;
}

bool jaeger_parse_duration(struct slice s, int64_t *ns)
{
	char tmp[64];
	if (s.len == 0 || s.len >= sizeof tmp)
		return false;
	memcpy(tmp, s.p, s.len);
	tmp[s.len] = 0;
	return units_parse_duration_ns(tmp, ns) == 0 && *ns >= 0;
}

/* ---- TraceQL filters ---- */

void jaeger_filter_init(struct jaeger_filter *f)
{
	buf_init(&f->text, 64 * 1024);
	f->terms = 0;
}

void jaeger_filter_free(struct jaeger_filter *f)
{
	buf_free(&f->text);
}

void jaeger_quote(struct buf *b, struct slice v)
{
	buf_append_byte(b, '"');
	for (size_t i = 0; i < v.len; i++) {
		uint8_t c = v.p[i];
		if (c == '"' || c == '\\') {
			buf_append_byte(b, '\\');
			buf_append_byte(b, c);
		} else if (c == '\n') {
			buf_append_cstr(b, "\\n");
		} else if (c == '\t') {
			buf_append_cstr(b, "\\t");
		} else if (c == '\r') {
			buf_append_cstr(b, "\\r");
		} else {
			buf_append_byte(b, c);
		}
	}
	buf_append_byte(b, '"');
}

static void next_term(struct jaeger_filter *f)
{
	buf_append_cstr(&f->text, f->terms++ ? " && " : "");
}

void jaeger_filter_term(struct jaeger_filter *f, const char *term)
{
	next_term(f);
	buf_append_cstr(&f->text, term);
}

void jaeger_filter_str(struct jaeger_filter *f, const char *field, struct slice value)
{
	next_term(f);
	buf_append_cstr(&f->text, field);
	buf_append_cstr(&f->text, " = ");
	jaeger_quote(&f->text, value);
}

/* -?digits with an optional .digits: a TraceQL number literal as is. */
static bool is_number(struct slice v, bool *is_float)
{
	size_t i = v.len && v.p[0] == '-' ? 1 : 0, nd = 0, dots = 0;
	*is_float = false;
	if (v.len > 24)
		return false;
	for (; i < v.len; i++) {
		if (v.p[i] >= '0' && v.p[i] <= '9')
			nd++;
		else if (v.p[i] == '.' && nd && !dots++)
			*is_float = true;
		else
			return false;
	}
	return nd > 0 && v.p[v.len - 1] != '.';
}

static void attr_ref(struct buf *b, struct slice key)
{
	buf_append_byte(b, '.');
	jaeger_quote(b, key);
}

void jaeger_filter_tag(struct jaeger_filter *f, struct slice key, struct slice value)
{
	struct buf *b = &f->text;
	bool fl;
	next_term(f);
	if (slice_eq_cstr(key, "error") && (slice_eq_cstr(value, "true") || slice_eq_cstr(value, "false"))) {
		buf_append_cstr(b, value.p[0] == 't' ? "(status = error || .error = \"true\" || .error = true)"
						     : "(status != error)");
		return;
	}
	if (slice_eq_cstr(key, "span.kind")) {
		for (size_t k = 0; k < sizeof kind_names / sizeof kind_names[0]; k++) {
			if (slice_eq_nocase(value, kind_names[k])) {
				buf_printf(b, "kind = %s", kind_names[k]);
				return;
			}
		}
	}
	buf_append_byte(b, '(');
	attr_ref(b, key);
	buf_append_cstr(b, " = ");
	jaeger_quote(b, value);
	if (is_number(value, &fl) || slice_eq_cstr(value, "true") || slice_eq_cstr(value, "false")) {
		buf_append_cstr(b, " || ");
		attr_ref(b, key);
		buf_append_cstr(b, " = ");
		buf_append_slice(b, value);
	}
	buf_append_byte(b, ')');
}

void jaeger_filter_word(struct jaeger_filter *f, struct slice word)
{
	next_term(f);
	buf_append_cstr(&f->text, "(event:name = ");
	jaeger_quote(&f->text, word);
	buf_append_cstr(&f->text, " || ");
	attr_ref(&f->text, word);
	buf_append_cstr(&f->text, " != nil)");
}

bool jaeger_filter_text(struct jaeger_filter *f, struct arena *a, struct slice *out)
{
	if (f->text.err)
		return false;
	char *p = arena_alloc(a, f->text.len + 5);
	if (!p)
		return false;
	size_t n = 0;
	memcpy(p, "{ ", 2);
	n = 2;
	if (f->text.len)
		memcpy(p + n, f->text.p, f->text.len);
	n += f->text.len;
	memcpy(p + n, " }", 2);
	n += 2;
	p[n] = 0;
	*out = slice_make(p, n);
	return true;
}

/* ---- search ---- */

int jaeger_find_traces(struct store *store, struct http_request *req, struct slice filter,
		       const struct exec_options *o, jaeger_trace_fn fn, void *ctx, int *status, char *msg,
		       size_t msglen)
{
	struct tql_error e;
	struct exec_result r;
	int rc;
	memset(&r, 0, sizeof r);
	struct tql_query *q = tql_parse((const char *)filter.p, filter.len, req->arena, &e);
	if (!q || q->kind != TQL_Q_SPANS) {
		*status = 400;
		snprintf(msg, msglen, "invalid search parameters: %s", q ? "not a spanset filter" : e.msg);
		return CLEW_EINVAL;
	}
	struct exec_query *xq = exec_compile(q, req->arena, &rc, msg, msglen);
	if (!xq) {
		*status = rc == CLEW_ENOMEM ? 500 : 400;
		return rc;
	}
	rc = exec_search(&store_embedded_query_ops, store, xq, o, &r);
	exec_query_free(xq);
	if (rc < 0) {
		api_query_error_text(rc, o, "search", status, msg, msglen);
		goto out;
	}
	struct arena ta;
	arena_init(&ta, JAEGER_TRACE_ARENA_BYTES);
	for (size_t i = 0; i < r.n_traces && rc == 0; i++) {
		struct span_batch b;
		span_batch_init(&b, &ta);
		int g = store_get_trace(store, r.traces[i].trace_id, &b);
		if (g == 0 && b.n_spans)
			rc = fn(ctx, &b);
		else if (g < 0 && g != CLEW_ENOTFOUND) {
			rc = g;
			*status = 503;
			snprintf(msg, msglen, "could not read a trace: %s; retry later", err_str(g));
		}
		arena_reset(&ta);
	}
out:
	exec_result_free(&r);
	return rc;
}

/* ---- values: services, operations ---- */

static int cmp_slice(const void *x, const void *y)
{
	const struct slice *a = x, *b = y;
	size_t m = a->len < b->len ? a->len : b->len;
	int c = m ? memcmp(a->p, b->p, m) : 0;
	return c ? c : (a->len > b->len) - (a->len < b->len);
}

int jaeger_values(struct store *store, struct http_request *req, const char *field, struct slice filter,
		  const struct exec_options *o, struct slice **values, uint32_t *n)
{
	int rc = search_api_field_values(store, req, field, filter, o, 0, values, n);
	if (rc == 0 && *n > 1)
		qsort(*values, *n, sizeof **values, cmp_slice);
	return rc;
}

/* ---- dependencies ---- */

struct dep_ctx {
	struct arena *a;
	struct jaeger_dep *edges;
	uint32_t n, cap; /* cap: a power of two; the table is edges itself */
	uint64_t spans;
	uint64_t *ids; /* scratch: span id << 0, sorted with index */
	uint32_t *order;
	uint8_t *linked;
	size_t ids_cap;
	bool full;
};

static struct jaeger_dep *dep_slot(struct dep_ctx *c, struct slice parent, struct slice child)
{
	uint64_t h = hash64(parent.p, parent.len) * 31 + hash64(child.p, child.len);
	for (uint32_t i = (uint32_t)h & (c->cap - 1);; i = (i + 1) & (c->cap - 1)) {
		struct jaeger_dep *d = &c->edges[i];
		if (!d->parent.p) {
			if (c->n >= JAEGER_DEP_MAX_EDGES) {
				c->full = true;
				return NULL;
			}
			void *pp = arena_memdup(c->a, parent.len ? parent.p : (const uint8_t *)"", parent.len + 1);
			void *cp = arena_memdup(c->a, child.len ? child.p : (const uint8_t *)"", child.len + 1);
			if (!pp || !cp) {
				c->full = true;
				return NULL;
			}
			d->parent = slice_make(pp, parent.len);
			d->child = slice_make(cp, child.len);
			c->n++;
			return d;
		}
		if (slice_eq(d->parent, parent) && slice_eq(d->child, child))
			return d;
	}
}

static void dep_add(struct dep_ctx *c, struct slice parent, struct slice child, bool error)
{
	struct jaeger_dep *d = dep_slot(c, parent, child);
	if (d) {
		d->calls++;
		d->errors += error;
	}
}

static int cmp_by_id(const void *x, const void *y, void *ids)
{
	const uint8_t *base = ids;
	return memcmp(base + 8 * (size_t)*(const uint32_t *)x, base + 8 * (size_t)*(const uint32_t *)y, 8);
}

/* The index of the span with id in [first, first+n), via the sorted order. */
static int64_t find_span(const struct span_batch *b, uint32_t first, const uint32_t *order, uint32_t n,
			 const uint8_t id[8])
{
	uint32_t lo = 0, hi = n;
	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;
		int c = memcmp(b->spans[first + order[mid]].span_id, id, 8);
		if (c == 0)
			return first + order[mid];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -1;
}

static int visit_deps(void *ctx, const struct span_batch *b, uint32_t first, uint32_t n, const uint32_t *matched,
		      uint32_t n_matched)
{
	struct dep_ctx *c = ctx;
	if (n > c->ids_cap) {
		size_t cap = n + n / 2;
		uint8_t *ids = try_malloc(cap * 8);
		uint32_t *order = try_malloc(cap * sizeof *order);
		uint8_t *linked = try_malloc(cap);
		if (!ids || !order || !linked) {
			free(ids);
			free(order);
			free(linked);
			return CLEW_ENOMEM;
		}
		free(c->ids);
		free(c->order);
		free(c->linked);
		c->ids = (uint64_t *)(void *)ids;
		c->order = order;
		c->linked = linked;
		c->ids_cap = cap;
	}
	uint8_t *ids = (uint8_t *)c->ids;
	for (uint32_t i = 0; i < n; i++) {
		memcpy(ids + 8 * (size_t)i, b->spans[first + i].span_id, 8);
		c->order[i] = i;
		c->linked[i] = 0;
	}
	qsort_r(c->order, n, sizeof *c->order, cmp_by_id, ids);
	for (uint32_t i = 0; i < n; i++) {
		const struct span *s = &b->spans[first + i];
		if (!s->has_parent)
			continue;
		int64_t p = find_span(b, first, c->order, n, s->parent_span_id);
		if (p < 0)
			continue;
		struct slice ps = resource_service_name(span_batch_resource_of(b, &b->spans[p]));
		struct slice cs = resource_service_name(span_batch_resource_of(b, s));
		if (slice_eq(ps, cs))
			continue;
		c->linked[p - first] = 1;
		dep_add(c, ps, cs, s->status_code == STATUS_ERROR);
	}
	/* calls out to what sends no spans of its own (databases, externals) */
	for (uint32_t i = 0; i < n; i++) {
		const struct span *s = &b->spans[first + i];
		if (c->linked[i] || (s->kind != SPAN_KIND_CLIENT && s->kind != SPAN_KIND_PRODUCER))
			continue;
		const struct attr *peer = attr_find(&s->attrs, "peer.service");
		if (!peer || peer->value.type != ANY_STRING || !peer->value.u.str.len)
			continue;
		struct slice own = resource_service_name(span_batch_resource_of(b, s));
		if (!slice_eq(own, peer->value.u.str))
			dep_add(c, own, peer->value.u.str, s->status_code == STATUS_ERROR);
	}
	c->spans += n;
	(void)matched;
	(void)n_matched;
	return c->full || c->spans >= JAEGER_DEP_MAX_SPANS ? 1 : 0;
}

static int cmp_dep(const void *x, const void *y)
{
	const struct jaeger_dep *a = x, *b = y;
	int c = cmp_slice(&a->parent, &b->parent);
	return c ? c : cmp_slice(&a->child, &b->child);
}

/* jaeger_dependencies under limits (budgets, cancellation; NULL: none). */
static int dependencies_scan(struct store *store, struct arena *a, int64_t start_ns, int64_t end_ns,
			     const struct exec_options *limits, struct jaeger_dep **out, uint32_t *n)
{
	struct dep_ctx c;
	struct tql_error e;
	int rc;
	char err[128];
	memset(&c, 0, sizeof c);
	*out = NULL;
	*n = 0;
	c.a = a;
	c.cap = 2 * 16384;
	c.edges = arena_array(a, c.cap, sizeof *c.edges);
	struct tql_query *q = tql_parse("{}", 2, a, &e);
	struct exec_query *xq = q && c.edges ? exec_compile(q, a, &rc, err, sizeof err) : NULL;
	if (!xq)
		return CLEW_ENOMEM;
	struct exec_options o = {.time_ns = JAEGER_DEP_TIME_NS};
	if (limits)
		o = *limits;
	o.start_ns = start_ns;
	o.end_ns = end_ns;
	rc = exec_scan(&store_embedded_query_ops, store, xq, &o, visit_deps, &c, NULL);
	exec_query_free(xq);
	free(c.ids);
	free(c.order);
	free(c.linked);
	if (rc < 0 && rc != CLEW_EBUSY && rc != CLEW_ELIMIT)
		return rc;
	uint32_t k = 0;
	for (uint32_t i = 0; i < c.cap; i++)
		if (c.edges[i].parent.p)
			c.edges[k++] = c.edges[i];
	qsort(c.edges, k, sizeof *c.edges, cmp_dep);
	*out = c.edges;
	*n = k;
	return 0;
}

int jaeger_dependencies(struct store *store, struct arena *a, int64_t start_ns, int64_t end_ns,
			struct jaeger_dep **out, uint32_t *n)
{
	return dependencies_scan(store, a, start_ns, end_ns, NULL, out, n);
}

/* ---- the legacy endpoints ---- */

static void legacy_error(struct http_response *resp, struct http_request *req, int status, const char *msg)
{
	buf_clear(&resp->body);
	struct json j;
	json_init(&j, &resp->body);
	json_obj_begin(&j);
	json_key(&j, "data");
	json_null_value(&j);
	json_key(&j, "total");
	json_int(&j, 0);
	json_key(&j, "limit");
	json_int(&j, 0);
	json_key(&j, "offset");
	json_int(&j, 0);
	json_key(&j, "errors");
	json_arr_begin(&j);
	json_obj_begin(&j);
	json_key(&j, "code");
	json_int(&j, status);
	json_key(&j, "msg");
	json_cstr(&j, msg);
	json_obj_end(&j);
	json_arr_end(&j);
	json_obj_end(&j);
	resp->status = status;
	http_response_header(resp, req, "Content-Type", SLICE_LIT("application/json"));
}

static void v3_error(struct http_response *resp, struct http_request *req, int status, const char *msg)
{
	buf_clear(&resp->body);
	struct json j;
	json_init(&j, &resp->body);
	json_obj_begin(&j);
	json_key(&j, "error");
	json_obj_begin(&j);
	json_key(&j, "httpCode");
	json_int(&j, status);
	json_key(&j, "message");
	json_cstr(&j, msg);
	json_obj_end(&j);
	json_obj_end(&j);
	resp->status = status;
	http_response_header(resp, req, "Content-Type", SLICE_LIT("application/json"));
}

typedef void (*error_fn)(struct http_response *, struct http_request *, int, const char *);

/* Finish a 200 answer; an overflowing body becomes a 413. */
static void finish(struct http_response *resp, struct http_request *req, error_fn err)
{
	if (resp->body.err)
		err(resp, req, 413, "the answer is too large: narrow the time range or lower the limit");
	else
		api_ok(resp, req, "application/json");
}

static void envelope_end(struct json *j, uint32_t total)
{
	json_key(j, "total");
	json_uint(j, total);
	json_key(j, "limit");
	json_int(j, 0);
	json_key(j, "offset");
	json_int(j, 0);
	json_key(j, "errors");
	json_null_value(j);
	json_obj_end(j);
}

static void values_error(struct http_response *resp, struct http_request *req, int rc, error_fn err)
{
	char msg[160];
	snprintf(msg, sizeof msg, "could not list the values: %s", err_str(rc));
	err(resp, req, rc == CLEW_EINVAL ? 400 : 500, msg);
}

static void services(const struct query_api *q, bool v3, struct http_request *req, struct http_response *resp)
{
	struct exec_options o = {0};
	struct slice *v;
	uint32_t n;
	api_query_limits(q, req, &o);
	int rc = jaeger_values(q->store, req, "resource.service.name", (struct slice){0}, &o, &v, &n);
	if (api_query_cancelled(resp, req, &o))
		return;
	if (rc < 0) {
		values_error(resp, req, rc, v3 ? v3_error : legacy_error);
		return;
	}
	struct json j;
	json_init(&j, &resp->body);
	json_obj_begin(&j);
	json_key(&j, v3 ? "services" : "data");
	json_arr_begin(&j);
	for (uint32_t i = 0; i < n; i++)
		json_str(&j, v[i]);
	json_arr_end(&j);
	if (v3)
		json_obj_end(&j);
	else
		envelope_end(&j, n);
	finish(resp, req, v3 ? v3_error : legacy_error);
}

/* The span kind named by spanKind: -1 for all, -2 when it names none. */
static int span_kind_param(struct http_request *req)
{
	struct slice k;
	if (!api_query_param(req, "spanKind", &k) || k.len == 0)
		return -1;
	for (int i = 0; i < (int)(sizeof kind_names / sizeof kind_names[0]); i++)
		if (slice_eq_nocase(k, kind_names[i]))
			return i;
	return -2;
}

/* Operations of service: names (kinds false) or {name, spanKind}. */
static void operations(const struct query_api *q, struct slice service, bool kinds, bool v3, struct http_request *req,
		       struct http_response *resp)
{
	error_fn err = v3 ? v3_error : legacy_error;
	int only = kinds ? span_kind_param(req) : -1;
	if (only == -2) {
		err(resp, req, 400, "invalid spanKind: expected server, client, producer, consumer, internal or "
				    "unspecified");
		return;
	}
	struct exec_options o = {0};
	api_query_limits(q, req, &o);
	struct json j;
	struct buf out;
	buf_init(&out, resp->body.max_bytes ? resp->body.max_bytes : 64 << 20);
	json_init(&j, &out);
	json_obj_begin(&j);
	json_key(&j, v3 ? "operations" : "data");
	json_arr_begin(&j);
	uint32_t total = 0;
	int first = kinds ? (only >= 0 ? only : 0) : -1;
	int last = kinds ? (only >= 0 ? only : 5) : -1;
	for (int k = first; k <= last; k++) {
		struct jaeger_filter f;
		struct slice text, *v;
		uint32_t n;
		jaeger_filter_init(&f);
		jaeger_filter_str(&f, "resource.service.name", service);
		if (k >= 0) {
			char term[32];
			snprintf(term, sizeof term, "kind = %s", kind_names[k]);
			jaeger_filter_term(&f, term);
		}
		int rc = jaeger_filter_text(&f, req->arena, &text) ? jaeger_values(q->store, req, "name", text, &o, &v, &n)
								    : CLEW_EINVAL;
		jaeger_filter_free(&f);
		if (rc < 0) {
			buf_free(&out);
			values_error(resp, req, rc, err);
			return;
		}
		for (uint32_t i = 0; i < n; i++, total++) {
			if (!kinds) {
				json_str(&j, v[i]);
				continue;
			}
			json_obj_begin(&j);
			json_key(&j, "name");
			json_str(&j, v[i]);
			json_key(&j, "spanKind");
			json_cstr(&j, k == 0 ? "" : kind_names[k]);
			json_obj_end(&j);
		}
	}
	json_arr_end(&j);
	if (v3)
		json_obj_end(&j);
	else
		envelope_end(&j, total);
	buf_append(&resp->body, out.p, out.len);
	if (out.err)
		resp->body.err = out.err;
	buf_free(&out);
	finish(resp, req, err);
}

/* Parse one tag=key:value or a tags JSON map into f; false with msg. */
static bool add_tags_json(struct jaeger_filter *f, struct slice text, char *msg, size_t msglen)
{
	json_error_t je;
	json_t *root = json_loadb((const char *)text.p, text.len, 0, &je);
	bool ok = root && json_is_object(root);
	if (!ok) {
		snprintf(msg, msglen, "malformed tags: expected a JSON object of key: value (%s)",
			 root ? "not an object" : je.text);
	}
	const char *key;
	size_t klen;
	json_t *v;
	if (ok) {
		json_object_keylen_foreach(root, key, klen, v)
		{
			char num[48];
			struct slice val;
			if (json_is_string(v))
				val = slice_make(json_string_value(v), json_string_length(v));
			else if (json_is_integer(v))
				val = slice_make(num, (size_t)snprintf(num, sizeof num, "%lld", (long long)json_integer_value(v)));
			else if (json_is_real(v))
				val = slice_make(num, (size_t)snprintf(num, sizeof num, "%.17g", json_real_value(v)));
			else if (json_is_boolean(v))
				val = slice_cstr(json_is_true(v) ? "true" : "false");
			else {
				snprintf(msg, msglen, "malformed tags: the value of \"%.60s\" is not a string", key);
				ok = false;
				break;
			}
			jaeger_filter_tag(f, slice_make(key, klen), val);
		}
	}
	json_decref(root);
	return ok;
}

/* Search parameters shared by legacy and v3 (the names differ). */
struct search_names {
	const char *service[2], *operation[2], *min_dur[2], *max_dur[2], *limit[4], *tags[2];
};

static const struct search_names legacy_names = {
	{"service", NULL}, {"operation", NULL}, {"minDuration", NULL}, {"maxDuration", NULL}, {"limit", NULL, NULL, NULL},
	{"tags", NULL}};
static const struct search_names v3_names = {{"query.service_name", "query.serviceName"},
					     {"query.operation_name", "query.operationName"},
					     {"query.duration_min", "query.durationMin"},
					     {"query.duration_max", "query.durationMax"},
					     {"query.num_traces", "query.numTraces", "query.search_depth",
					      "query.searchDepth"},
					     {"query.attributes", NULL}};

static bool param_any(struct http_request *req, const char *const *names, size_t n, struct slice *out)
{
	for (size_t i = 0; i < n && names[i]; i++)
		if (api_query_param(req, names[i], out) && out->len)
			return true;
	return false;
}

/* The filter and options of a search; false with status and msg. */
static bool search_params(struct http_request *req, const struct search_names *names, bool v3,
			  struct jaeger_filter *f, struct exec_options *o, int *status, char *msg, size_t msglen)
{
	struct slice v;
	*status = 400;
	if (param_any(req, names->service, 2, &v))
		jaeger_filter_str(f, "resource.service.name", v);
	else if (!v3) {
		snprintf(msg, msglen, "parameter 'service' is required");
		return false;
	}
	if (param_any(req, names->operation, 2, &v) && !slice_eq_cstr(v, "all"))
		jaeger_filter_str(f, "name", v);
	for (int k = 0; k < 2; k++) {
		const char *const *nm = k ? names->max_dur : names->min_dur;
		int64_t ns;
		if (!param_any(req, nm, 2, &v))
			continue;
		if (!jaeger_parse_duration(v, &ns)) {
			snprintf(msg, msglen, "invalid %s: expected a duration such as 100ms or 1.5s", nm[0]);
			return false;
		}
		char term[64];
		snprintf(term, sizeof term, "duration %s %lldns", k ? "<=" : ">=", (long long)ns);
		jaeger_filter_term(f, term);
	}
	if (param_any(req, names->tags, 2, &v) && !add_tags_json(f, v, msg, msglen))
		return false;
	size_t pos = 0;
	while (!v3 && api_query_param_next(req, "tag", &pos, &v)) {
		const uint8_t *colon = memchr(v.p, ':', v.len);
		if (!colon || colon == v.p) {
			snprintf(msg, msglen, "malformed tag: expected key:value");
			return false;
		}
		size_t kl = (size_t)(colon - v.p);
		jaeger_filter_tag(f, slice_make(v.p, kl), slice_make(colon + 1, v.len - kl - 1));
	}
	int64_t limit = JAEGER_DEFAULT_LIMIT;
	if (param_any(req, names->limit, 4, &v) && (!jaeger_parse_i64(v, &limit) || limit < 0 || limit > JAEGER_MAX_LIMIT)) {
		snprintf(msg, msglen, "invalid limit: expected 0 to %d", JAEGER_MAX_LIMIT);
		return false;
	}
	o->limit = limit ? (uint32_t)limit : JAEGER_DEFAULT_LIMIT;
	/* time range */
	if (v3) {
		const char *tn[2][2] = {{"query.start_time_min", "query.startTimeMin"},
					{"query.start_time_max", "query.startTimeMax"}};
		for (int k = 0; k < 2; k++) {
			int64_t ns;
			if (!param_any(req, tn[k], 2, &v))
				continue;
			if (!units_parse_rfc3339_ns(v, &ns)) {
				snprintf(msg, msglen, "invalid %s: expected an RFC 3339 time", tn[k][0]);
				return false;
			}
			*(k ? &o->end_ns : &o->start_ns) = ns;
		}
	} else {
		int64_t us;
		if (api_query_param(req, "end", &v) && v.len) {
			if (!jaeger_parse_i64(v, &us) || us > INT64_MAX / 1000) {
				snprintf(msg, msglen, "invalid end: expected Unix microseconds");
				return false;
			}
			o->end_ns = us * 1000 + 999;
		}
		if (api_query_param(req, "start", &v) && v.len) {
			if (!jaeger_parse_i64(v, &us) || us > INT64_MAX / 1000) {
				snprintf(msg, msglen, "invalid start: expected Unix microseconds");
				return false;
			}
			o->start_ns = us * 1000;
		} else if (api_query_param(req, "lookback", &v) && v.len && !slice_eq_cstr(v, "custom")) {
			int64_t ns;
			if (!jaeger_parse_duration(v, &ns)) {
				snprintf(msg, msglen, "invalid lookback: expected a duration such as 1h");
				return false;
			}
			int64_t end = o->end_ns ? o->end_ns : clock_now_unix_ns();
			o->start_ns = end > ns ? end - ns : 1;
		}
	}
	if (o->start_ns && o->end_ns && o->start_ns > o->end_ns) {
		snprintf(msg, msglen, "invalid time range: the start is after the end");
		return false;
	}
	if (f->text.err) {
		snprintf(msg, msglen, "the search parameters are too long");
		return false;
	}
	return true;
}

struct write_ctx {
	struct json *j;
	struct buf *body;
	uint32_t n;
	bool v3;
};

static int write_found(void *ctx, const struct span_batch *b)
{
	struct write_ctx *w = ctx;
	if (!w->v3) {
		if (w->n)
			buf_append_byte(w->body, ',');
		trace_json_write_jaeger(b, w->body);
	} else {
		/* concatenate the ResourceSpans arrays of every trace */
		size_t at = w->body->len;
		trace_json_write_otlp(b, w->body, TRACE_JSON_OTLP);
		if (!w->body->err && w->body->len - at > 2) {
			memmove(w->body->p + at + (w->n ? 1 : 0), w->body->p + at + 1, w->body->len - at - 2);
			if (w->n)
				w->body->p[at] = ',';
			w->body->len -= w->n ? 1 : 2;
		} else if (!w->body->err) {
			w->body->len = at;
			return 0;
		}
	}
	w->n++;
	return w->body->err ? w->body->err : 0;
}

/* Traces by the repeated traceID parameter, those that exist. */
static void traces_by_id(const struct query_api *q, struct http_request *req, struct http_response *resp)
{
	struct json j;
	struct slice v;
	size_t pos = 0;
	json_init(&j, &resp->body);
	json_obj_begin(&j);
	json_key(&j, "data");
	json_arr_begin(&j);
	struct write_ctx w = {.j = &j, .body = &resp->body};
	struct arena ta;
	arena_init(&ta, JAEGER_TRACE_ARENA_BYTES);
	while (api_query_param_next(req, "traceID", &pos, &v)) {
		uint8_t id[16];
		struct span_batch b;
		if (!api_parse_trace_id(v, id)) {
			arena_reset(&ta);
			legacy_error(resp, req, 400, "malformed traceID: expected 1 to 32 hexadecimal digits");
			return;
		}
		span_batch_init(&b, &ta);
		if (store_get_trace(q->store, id, &b) == 0 && b.n_spans)
			write_found(&w, &b);
		arena_reset(&ta);
	}
	json_arr_end(&j);
	envelope_end(&j, w.n);
	finish(resp, req, legacy_error);
}

static void find_traces(const struct query_api *q, bool v3, struct http_request *req, struct http_response *resp)
{
	error_fn err = v3 ? v3_error : legacy_error;
	struct slice v;
	if (!v3 && api_query_param(req, "traceID", &v)) {
		traces_by_id(q, req, resp);
		return;
	}
	struct jaeger_filter f;
	struct exec_options o = {0};
	char msg[300];
	int status;
	struct slice text;
	jaeger_filter_init(&f);
	bool ok = search_params(req, v3 ? &v3_names : &legacy_names, v3, &f, &o, &status, msg, sizeof msg);
	if (ok && !jaeger_filter_text(&f, req->arena, &text)) {
		ok = false;
		status = 500;
		snprintf(msg, sizeof msg, "out of memory");
	}
	jaeger_filter_free(&f);
	if (!ok) {
		err(resp, req, status, msg);
		return;
	}
	api_query_limits(q, req, &o);
	struct json j;
	json_init(&j, &resp->body);
	json_obj_begin(&j);
	if (v3) {
		json_key(&j, "result");
		json_obj_begin(&j);
		json_key(&j, "resourceSpans");
		buf_append_byte(&resp->body, '[');
	} else {
		json_key(&j, "data");
		json_arr_begin(&j);
	}
	struct write_ctx w = {.j = &j, .body = &resp->body, .v3 = v3};
	int rc = jaeger_find_traces(q->store, req, text, &o, write_found, &w, &status, msg, sizeof msg);
	if (api_query_cancelled(resp, req, &o))
		return;
	if (rc < 0 && !resp->body.err) {
		err(resp, req, status, msg);
		return;
	}
	if (v3) {
		buf_append_byte(&resp->body, ']');
		j.after_key = false;
		json_obj_end(&j);
		json_obj_end(&j);
	} else {
		json_arr_end(&j);
		envelope_end(&j, w.n);
	}
	finish(resp, req, err);
}

static void dependencies(const struct query_api *q, struct http_request *req, struct http_response *resp)
{
	struct slice v;
	int64_t end_ms = clock_now_unix_ns() / 1000000, lookback_ms = JAEGER_DEFAULT_LOOKBACK_MS;
	if (api_query_param(req, "endTs", &v) && v.len && !jaeger_parse_i64(v, &end_ms)) {
		legacy_error(resp, req, 400, "invalid endTs: expected Unix milliseconds");
		return;
	}
	if (api_query_param(req, "lookback", &v) && v.len && !jaeger_parse_i64(v, &lookback_ms)) {
		legacy_error(resp, req, 400, "invalid lookback: expected milliseconds");
		return;
	}
	if (end_ms > INT64_MAX / 1000000) {
		legacy_error(resp, req, 400, "invalid endTs: out of range");
		return;
	}
	int64_t start_ms = end_ms > lookback_ms ? end_ms - lookback_ms : 0;
	struct jaeger_dep *d;
	uint32_t n;
	struct exec_options limits = {.time_ns = JAEGER_DEP_TIME_NS};
	api_query_limits(q, req, &limits);
	int rc = dependencies_scan(q->store, req->arena, start_ms * 1000000 + (start_ms == 0),
				   end_ms * 1000000 + 999999, &limits, &d, &n);
	if (api_query_cancelled(resp, req, &limits))
		return;
	if (rc < 0) {
		legacy_error(resp, req, 500, "could not compute the dependencies");
		return;
	}
	struct json j;
	json_init(&j, &resp->body);
	json_obj_begin(&j);
	json_key(&j, "data");
	json_arr_begin(&j);
	for (uint32_t i = 0; i < n; i++) {
		json_obj_begin(&j);
		json_key(&j, "parent");
		json_str(&j, d[i].parent);
		json_key(&j, "child");
		json_str(&j, d[i].child);
		json_key(&j, "callCount");
		json_uint(&j, d[i].calls);
		json_obj_end(&j);
	}
	json_arr_end(&j);
	envelope_end(&j, n);
	finish(resp, req, legacy_error);
}

bool jaeger_api_handle(const struct query_api *q, struct http_request *req, struct http_response *resp)
{
	struct slice p = req->path, rest;
	if (slice_eq_cstr(p, "/jaeger/api/services")) {
		services(q, false, req, resp);
	} else if (api_path_rest(p, "/jaeger/api/services/", &rest) && rest.len > 11 &&
		   memcmp(rest.p + rest.len - 11, "/operations", 11) == 0) {
		struct slice svc = slice_make(rest.p, rest.len - 11);
		char *dec = arena_alloc(req->arena, svc.len + 1);
		size_t n = 0;
		if (!dec) {
			legacy_error(resp, req, 500, "out of memory");
			return true;
		}
		for (size_t i = 0; i < svc.len; i++) { /* the path is not percent-decoded */
			int h, l;
			if (svc.p[i] == '%' && i + 2 < svc.len && (h = hex_digit_value(svc.p[i + 1])) >= 0 &&
			    (l = hex_digit_value(svc.p[i + 2])) >= 0) {
				dec[n++] = (char)(h << 4 | l);
				i += 2;
			} else {
				dec[n++] = (char)svc.p[i];
			}
		}
		operations(q, slice_make(dec, n), false, false, req, resp);
	} else if (slice_eq_cstr(p, "/jaeger/api/operations") || slice_eq_cstr(p, "/jaeger/api/v3/operations")) {
		bool v3 = p.len > 22;
		struct slice svc;
		if (!api_query_param(req, "service", &svc) || !svc.len)
			(v3 ? v3_error : legacy_error)(resp, req, 400, "parameter 'service' is required");
		else
			operations(q, svc, true, v3, req, resp);
	} else if (slice_eq_cstr(p, "/jaeger/api/traces")) {
		find_traces(q, false, req, resp);
	} else if (slice_eq_cstr(p, "/jaeger/api/v3/traces")) {
		find_traces(q, true, req, resp);
	} else if (slice_eq_cstr(p, "/jaeger/api/v3/services")) {
		services(q, true, req, resp);
	} else if (slice_eq_cstr(p, "/jaeger/api/dependencies")) {
		dependencies(q, req, resp);
	} else {
		return false;
	}
	return true;
}
