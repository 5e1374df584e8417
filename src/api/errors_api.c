/* GET /api/v1/errors: the recent errors of a service (or of any TraceQL
 * population) grouped by exception type. It runs a spanset query through
 * the search executor (exec_scan) and reads the matched error spans'
 * `exception` events (exception.type, exception.message, as the OTel
 * semantic conventions name them); a failed span without such an event
 * is grouped by its status message instead. Each group answers a count,
 * an example message, when it was last seen, example traces and the
 * operations it happened in. The service page's "Recent errors" reads it. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "api/analysis_api.h"
#include "api/api_util.h"
#include "base/buf.h"
#include "base/err.h"
#include "base/hash.h"
#include "base/json.h"
#include "query/exec.h"

#define ERRORS_DEFAULT_LIMIT 20
#define ERRORS_MAX_LIMIT 1000
#define ERRORS_MAX_GROUPS 4096 /* distinct types kept; more are counted apart */
#define ERRORS_MAX_OPS 8       /* operations named per group */
#define ERRORS_EXAMPLES 3      /* example traces per group, newest kept */
#define ERRORS_MAX_TEXT 512    /* bytes of a type or message kept */
#define ERRORS_MAX_SERVICE 1024
#define ERRORS_MAX_EVENTS 64 /* events of one span read (the check per type is quadratic) */

struct err_op {
	struct slice name;
	uint64_t count;
};

struct err_group {
	struct slice type; /* NULL p: empty slot */
	bool from_status;  /* no exception event: type is the status message */
	struct slice message;
	int64_t last_ns;
	uint64_t count;
	uint8_t example_ids[ERRORS_EXAMPLES][16];
	int64_t example_ns[ERRORS_EXAMPLES];
	uint32_t n_examples;
	struct err_op ops[ERRORS_MAX_OPS];
	uint32_t n_ops;
	uint64_t other_ops; /* counted in operations past ERRORS_MAX_OPS */
};

struct err_ctx {
	struct arena *a;
	struct slice service; /* empty: every service */
	struct err_group *groups; /* ERRORS_MAX_GROUPS slots, open addressing */
	uint32_t n_groups;
	uint64_t error_spans, with_exception, ungrouped;
	int err; /* CLEW_ENOMEM once the arena refused */
};

static struct slice clip(struct slice s)
{
	if (s.len > ERRORS_MAX_TEXT)
		s.len = ERRORS_MAX_TEXT;
	return s;
}

/* A copy of s (clipped) in c's arena; the empty slice when it refuses. */
static struct slice keep(struct err_ctx *c, struct slice s)
{
	s = clip(s);
	if (s.len == 0)
		return SLICE_LIT("");
	void *p = arena_memdup(c->a, s.p, s.len);
	if (!p) {
		c->err = CLEW_ENOMEM;
		return SLICE_LIT("");
	}
	return slice_make(p, s.len);
}

/* The group of (type, from_status), created when new; NULL when the table
 * is full or the arena refused. */
static struct err_group *group_of(struct err_ctx *c, struct slice type, bool from_status)
{
	type = clip(type);
	uint64_t h = hash64_seed(type.p, type.len, from_status ? 0x5eed : 0);
	for (uint32_t k = 0; k < ERRORS_MAX_GROUPS; k++) {
		struct err_group *g = &c->groups[(h + k) & (ERRORS_MAX_GROUPS - 1)];
		if (!g->type.p) {
			if (c->n_groups >= ERRORS_MAX_GROUPS / 2)
				return NULL;
			g->type = keep(c, type);
			if (c->err)
				return NULL;
			g->from_status = from_status;
			c->n_groups++;
			return g;
		}
		if (g->from_status == from_status && slice_eq(g->type, type))
			return g;
	}
	return NULL;
}

static void add_op(struct err_ctx *c, struct err_group *g, struct slice name)
{
	for (uint32_t k = 0; k < g->n_ops; k++)
		if (slice_eq(g->ops[k].name, name)) {
			g->ops[k].count++;
			return;
		}
	if (g->n_ops == ERRORS_MAX_OPS) {
		g->other_ops++;
		return;
	}
	g->ops[g->n_ops].name = keep(c, name);
	g->ops[g->n_ops++].count = 1;
}

static void add_example(struct err_group *g, const uint8_t trace_id[16], int64_t ns)
{
	uint32_t oldest = 0;
	for (uint32_t k = 0; k < g->n_examples; k++) {
		if (memcmp(g->example_ids[k], trace_id, 16) == 0) {
			if (ns > g->example_ns[k])
				g->example_ns[k] = ns;
			return;
		}
		if (g->example_ns[k] < g->example_ns[oldest])
			oldest = k;
	}
	uint32_t at = g->n_examples;
	if (at < ERRORS_EXAMPLES)
		g->n_examples++;
	else if (ns > g->example_ns[oldest])
		at = oldest;
	else
		return;
	memcpy(g->example_ids[at], trace_id, 16);
	g->example_ns[at] = ns;
}

static struct slice attr_str(const struct attr_list *l, const char *key)
{
	const struct attr *a = attr_find(l, key);
	return a && a->value.type == ANY_STRING ? a->value.u.str : SLICE_LIT("");
}

/* Count one occurrence of a type on span s at time ns; again: the span
 * already counted for this type (it threw it more than once), so only its
 * newer message and time are taken. */
static void count(struct err_ctx *c, const struct span *s, struct slice type, bool from_status, struct slice message,
		  int64_t ns, bool again)
{
	struct err_group *g = group_of(c, type, from_status);
	if (!g) {
		if (!again)
			c->ungrouped++;
		return;
	}
	if (ns >= g->last_ns) {
		g->last_ns = ns;
		if (!slice_eq(g->message, clip(message)))
			g->message = keep(c, message);
	}
	if (again)
		return;
	g->count++;
	add_op(c, g, s->name);
	add_example(g, s->trace_id, ns);
}

/* The type an exception event names: exception.type, or a placeholder. */
static struct slice exception_type(const struct span_event *ev)
{
	struct slice type = attr_str(&ev->attrs, "exception.type");
	if (type.len)
		return type;
	return attr_str(&ev->attrs, "exception.message").len ? SLICE_LIT("(no type)") : SLICE_LIT("(empty exception)");
}

static int visit_errors(void *ctx, const struct span_batch *b, uint32_t first, uint32_t n, const uint32_t *matched,
			uint32_t n_matched)
{
	struct err_ctx *c = ctx;
	(void)first;
	(void)n;
	for (uint32_t m = 0; m < n_matched && !c->err; m++) {
		const struct span *s = &b->spans[matched[m]];
		if (s->status_code != STATUS_ERROR)
			continue;
		if (c->service.len && !slice_eq(resource_service_name(span_batch_resource_of(b, s)), c->service))
			continue;
		c->error_spans++;
		bool any = false;
		for (uint32_t e = 0; e < s->n_events && e < ERRORS_MAX_EVENTS; e++) {
			const struct span_event *ev = &s->events[e];
			if (!slice_eq_cstr(ev->name, "exception"))
				continue;
			struct slice type = exception_type(ev);
			/* one span, one count per type, however often it threw it */
			bool again = false;
			for (uint32_t k = 0; k < e && !again; k++)
				again = slice_eq_cstr(s->events[k].name, "exception") && slice_eq(exception_type(&s->events[k]), type);
			any = true;
			count(c, s, type, false, attr_str(&ev->attrs, "exception.message"),
			      ev->time_unix_ns ? ev->time_unix_ns : s->end_unix_ns, again);
		}
		if (any) {
			c->with_exception++;
			continue;
		}
		struct slice type = s->status_message.len ? s->status_message : SLICE_LIT("(no message)");
		count(c, s, type, true, s->status_message, s->end_unix_ns, false);
	}
	return c->err ? c->err : 0;
}

static int cmp_slice(struct slice a, struct slice b)
{
	size_t n = a.len < b.len ? a.len : b.len;
	int r = n ? memcmp(a.p, b.p, n) : 0;
	return r ? r : (a.len > b.len) - (a.len < b.len);
}

/* Most frequent first, then the most recent, then by type. */
static int cmp_group(const void *x, const void *y)
{
	const struct err_group *a = *(const struct err_group *const *)x, *b = *(const struct err_group *const *)y;
	if (a->count != b->count)
		return a->count < b->count ? 1 : -1;
	if (a->last_ns != b->last_ns)
		return a->last_ns < b->last_ns ? 1 : -1;
	return cmp_slice(a->type, b->type);
}

static int cmp_op(const void *x, const void *y)
{
	const struct err_op *a = x, *b = y;
	if (a->count != b->count)
		return a->count < b->count ? 1 : -1;
	return cmp_slice(a->name, b->name);
}

static void write_group(struct json *j, struct err_group *g)
{
	json_obj_begin(j);
	json_key(j, "type");
	json_str(j, g->type);
	json_key(j, "source");
	json_cstr(j, g->from_status ? "status" : "exception");
	json_key(j, "message");
	json_str(j, g->message);
	json_key(j, "count");
	json_uint(j, g->count);
	json_key(j, "lastSeen");
	json_int(j, g->last_ns / 1000000);
	json_key(j, "exampleTraceIds");
	json_arr_begin(j);
	for (uint32_t done = 0; done < g->n_examples; done++) {
		uint32_t best = 0; /* newest first: pick and retire the newest left */
		for (uint32_t k = 1; k < g->n_examples; k++)
			if (g->example_ns[k] > g->example_ns[best])
				best = k;
		json_hex(j, g->example_ids[best], 16);
		g->example_ns[best] = INT64_MIN;
	}
	json_arr_end(j);
	qsort(g->ops, g->n_ops, sizeof g->ops[0], cmp_op);
	json_key(j, "operations");
	json_arr_begin(j);
	for (uint32_t k = 0; k < g->n_ops; k++) {
		json_obj_begin(j);
		json_key(j, "name");
		json_str(j, g->ops[k].name);
		json_key(j, "count");
		json_uint(j, g->ops[k].count);
		json_obj_end(j);
	}
	json_arr_end(j);
	if (g->other_ops) {
		json_key(j, "otherOperations");
		json_uint(j, g->other_ops);
	}
	json_obj_end(j);
}

/* `{ status = error && resource.service.name = "<service>" }` into out,
 * the service written as a TraceQL string literal. */
static void error_filter(struct buf *out, struct slice service)
{
	buf_append_cstr(out, "{ status = error");
	if (service.len) {
		buf_append_cstr(out, " && resource.service.name = \"");
		for (size_t i = 0; i < service.len; i++) {
			uint8_t ch = service.p[i];
			if (ch == '"' || ch == '\\')
				buf_append_byte(out, '\\');
			if (ch < 0x20)
				buf_printf(out, "\\x%02x", ch);
			else
				buf_append_byte(out, ch);
		}
		buf_append_byte(out, '"');
	}
	buf_append_cstr(out, " }");
}

void errors_api_get(struct query_api *q, struct http_request *req, struct http_response *resp)
{
	struct exec_options o;
	struct err_ctx c;
	struct slice text = {0}, v;
	struct buf filter;
	struct err_group **order = NULL;
	uint32_t limit = ERRORS_DEFAULT_LIMIT;
	memset(&o, 0, sizeof o);
	memset(&c, 0, sizeof c);
	buf_init(&filter, 4 * ERRORS_MAX_SERVICE + 64);
	c.a = req->arena;
	if (api_query_param(req, "service", &v) && v.len) {
		if (v.len > ERRORS_MAX_SERVICE) {
			api_error(resp, req, 400, "invalid service: longer than 1024 bytes");
			goto out;
		}
		c.service = v;
	}
	if (!api_seconds_param(req, resp, "start", false, &o.start_ns, NULL) ||
	    !api_seconds_param(req, resp, "end", true, &o.end_ns, NULL) ||
	    !api_limit_param(req, resp, ERRORS_MAX_LIMIT, &limit))
		goto out;
	if (o.start_ns && o.end_ns && o.start_ns > o.end_ns) {
		api_error(resp, req, 400, "invalid range: start is after end");
		goto out;
	}
	/* q narrows the population (its matched spans, the failed ones kept);
	 * without it the executor is asked for the failed spans themselves */
	if (api_query_param(req, "q", &v) && v.len) {
		text = v;
	} else {
		error_filter(&filter, c.service);
		if (filter.err) {
			api_error(resp, req, 503, "out of memory for the errors query; retry later");
			goto out;
		}
		text = buf_slice(&filter);
	}
	c.groups = arena_array(req->arena, ERRORS_MAX_GROUPS, sizeof *c.groups);
	if (!c.groups) {
		api_error(resp, req, 503, "out of memory for the errors query; retry later");
		goto out;
	}
	struct exec_query *xq = api_compile_filter(req, resp, text);
	if (!xq)
		goto out;
	api_query_limits(q, req, &o);
	int rc = exec_scan(&store_embedded_query_ops, q->store, xq, &o, visit_errors, &c, NULL);
	exec_query_free(xq);
	if (api_query_cancelled(resp, req, &o))
		goto out;
	if (rc == CLEW_ENOMEM && c.err) {
		api_error(resp, req, 503, "out of memory for the errors query; retry later");
		goto out;
	}
	if (rc < 0) {
		api_query_error(resp, req, rc, &o, "errors query");
		goto out;
	}
	order = malloc((c.n_groups ? c.n_groups : 1) * sizeof *order);
	if (!order) {
		api_error(resp, req, 503, "out of memory for the errors query; retry later");
		goto out;
	}
	uint32_t n = 0;
	for (uint32_t k = 0; k < ERRORS_MAX_GROUPS; k++)
		if (c.groups[k].type.p)
			order[n++] = &c.groups[k];
	qsort(order, n, sizeof *order, cmp_group);
	struct json j;
	json_init(&j, &resp->body);
	json_obj_begin(&j);
	json_key(&j, "errorSpans");
	json_uint(&j, c.error_spans);
	json_key(&j, "withException");
	json_uint(&j, c.with_exception);
	json_key(&j, "types");
	json_uint(&j, n);
	if (c.ungrouped) {
		json_key(&j, "ungrouped");
		json_uint(&j, c.ungrouped);
	}
	json_key(&j, "groups");
	json_arr_begin(&j);
	for (uint32_t k = 0; k < n && k < limit; k++)
		write_group(&j, order[k]);
	json_arr_end(&j);
	json_obj_end(&j);
	api_ok(resp, req, "application/json");
out:
	free(order);
	buf_free(&filter);
}
