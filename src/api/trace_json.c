/* Trace writers for the read APIs: a span_batch holding one trace becomes
 * OTLP/JSON (Jaeger /api/v3, Tempo /api/traces), a Jaeger UI trace, or
 * clew's native trace shape. Everything goes through the JSON writer into
 * the response buffer; no intermediate tree is built. */
#include "api/trace_json.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "base/err.h"
#include "base/json.h"

static void set_err(struct buf *out, int rc)
{
	if (!out->err)
		out->err = rc;
}

static bool scope_ok(const struct span_batch *b, const struct span *s)
{
	return s->scope < b->n_scopes && b->scopes[s->scope].resource < b->n_resources;
}

/* ---- OTLP/JSON values, shared by the OTLP writers and the native shape */


static void write_any(struct json *j, const struct any_value *v)
{
	json_obj_begin(j);
	switch (v->type) {
	case ANY_STRING:
		json_key(j, "stringValue");
		json_str(j, v->u.str);
		break;
	case ANY_BOOL:
		json_key(j, "boolValue");
		json_bool(j, v->u.b);
		break;
	case ANY_INT:
		json_key(j, "intValue");
		json_int_str(j, v->u.i);
		break;
	case ANY_DOUBLE:
		json_key(j, "doubleValue");
		json_double(j, v->u.d);
		break;
	case ANY_ARRAY:
		json_key(j, "arrayValue");
		json_obj_begin(j);
		if (v->u.array.n) {
			json_key(j, "values");
			json_arr_begin(j);
			for (uint32_t i = 0; i < v->u.array.n; i++)
				write_any(j, &v->u.array.items[i]);
			json_arr_end(j);
		}
		json_obj_end(j);
		break;
	case ANY_KVLIST:
		json_key(j, "kvlistValue");
		json_obj_begin(j);
		if (v->u.kvlist.n) {
			json_key(j, "values");
			trace_json_write_attrs(j, v->u.kvlist.items, v->u.kvlist.n);
		}
		json_obj_end(j);
		break;
	case ANY_BYTES:
		json_key(j, "bytesValue");
		json_base64(j, v->u.str.p, v->u.str.len);
		break;
	default:
		break;
	}
	json_obj_end(j);
}

void trace_json_write_attrs(struct json *j, const struct attr *items, uint32_t n)
{
	json_arr_begin(j);
	for (uint32_t i = 0; i < n; i++) {
		json_obj_begin(j);
		json_key(j, "key");
		json_str(j, items[i].key);
		json_key(j, "value");
		write_any(j, &items[i].value);
		json_obj_end(j);
	}
	json_arr_end(j);
}

/* "attributes" and "droppedAttributesCount", left out when empty/zero. */
static void write_attrs_omit(struct json *j, const struct attr_list *l, uint32_t dropped)
{
	if (l->n) {
		json_key(j, "attributes");
		trace_json_write_attrs(j, l->items, l->n);
	}
	if (dropped) {
		json_key(j, "droppedAttributesCount");
		json_uint(j, dropped);
	}
}

static void write_str_omit(struct json *j, const char *key, struct slice s)
{
	if (s.len) {
		json_key(j, key);
		json_str(j, s);
	}
}

static void write_uint_omit(struct json *j, const char *key, uint32_t v)
{
	if (v) {
		json_key(j, key);
		json_uint(j, v);
	}
}

/* ---- OTLP/JSON ResourceSpans */

static const char *const tempo_kinds[] = {
	"SPAN_KIND_UNSPECIFIED", "SPAN_KIND_INTERNAL", "SPAN_KIND_SERVER",
	"SPAN_KIND_CLIENT",	 "SPAN_KIND_PRODUCER", "SPAN_KIND_CONSUMER",
};

static const char *const tempo_codes[] = {"STATUS_CODE_UNSET", "STATUS_CODE_OK", "STATUS_CODE_ERROR"};

static void write_id(struct json *j, const uint8_t *p, size_t n, enum trace_json_flavor flavor)
{
	if (flavor == TRACE_JSON_TEMPO)
		json_base64(j, p, n);
	else
		json_hex(j, p, n);
}

static void write_otlp_span(struct json *j, const struct span *s, enum trace_json_flavor flavor)
{
	json_obj_begin(j);
	json_key(j, "traceId");
	write_id(j, s->trace_id, 16, flavor);
	json_key(j, "spanId");
	write_id(j, s->span_id, 8, flavor);
	write_str_omit(j, "traceState", s->trace_state);
	if (s->has_parent) {
		json_key(j, "parentSpanId");
		write_id(j, s->parent_span_id, 8, flavor);
	}
	write_uint_omit(j, "flags", s->flags);
	json_key(j, "name");
	json_str(j, s->name);
	json_key(j, "kind");
	if (flavor == TRACE_JSON_TEMPO && s->kind <= SPAN_KIND_CONSUMER)
		json_cstr(j, tempo_kinds[s->kind]);
	else
		json_uint(j, s->kind);
	json_key(j, "startTimeUnixNano");
	json_int_str(j, s->start_unix_ns);
	json_key(j, "endTimeUnixNano");
	json_int_str(j, s->end_unix_ns);
	write_attrs_omit(j, &s->attrs, s->dropped_attrs);
	if (s->n_events) {
		json_key(j, "events");
		json_arr_begin(j);
		for (uint32_t i = 0; i < s->n_events; i++) {
			const struct span_event *e = &s->events[i];
			json_obj_begin(j);
			json_key(j, "timeUnixNano");
			json_int_str(j, e->time_unix_ns);
			json_key(j, "name");
			json_str(j, e->name);
			write_attrs_omit(j, &e->attrs, e->dropped_attrs);
			json_obj_end(j);
		}
		json_arr_end(j);
	}
	write_uint_omit(j, "droppedEventsCount", s->dropped_events);
	if (s->n_links) {
		json_key(j, "links");
		json_arr_begin(j);
		for (uint32_t i = 0; i < s->n_links; i++) {
			const struct span_link *l = &s->links[i];
			json_obj_begin(j);
			json_key(j, "traceId");
			write_id(j, l->trace_id, 16, flavor);
			json_key(j, "spanId");
			write_id(j, l->span_id, 8, flavor);
			write_str_omit(j, "traceState", l->trace_state);
			write_attrs_omit(j, &l->attrs, l->dropped_attrs);
			write_uint_omit(j, "flags", l->flags);
			json_obj_end(j);
		}
		json_arr_end(j);
	}
	write_uint_omit(j, "droppedLinksCount", s->dropped_links);
	json_key(j, "status");
	json_obj_begin(j);
	write_str_omit(j, "message", s->status_message);
	json_key(j, "code");
	if (flavor == TRACE_JSON_TEMPO && s->status_code <= STATUS_ERROR)
		json_cstr(j, tempo_codes[s->status_code]);
	else
		json_uint(j, s->status_code);
	json_obj_end(j);
	json_obj_end(j);
}

/* Counting sort of items 0..n-1 by key[i] < n_keys: order[] lists the items
 * of key k in order[first[k]] .. order[first[k + 1] - 1], in input order.
 * first has n_keys + 1 entries. Items whose key is out of range are left
 * out. Returns 0 or CLEW_ENOMEM. */
static int group_by(const uint32_t *key, uint32_t n, uint32_t n_keys, uint32_t **order_out, uint32_t **first_out)
{
	uint32_t *first = try_calloc((size_t)n_keys + 2, sizeof *first);
	uint32_t *order = try_calloc(n ? n : 1, sizeof *order);
	if (!first || !order) {
		free(first);
		free(order);
		return CLEW_ENOMEM;
	}
	for (uint32_t i = 0; i < n; i++)
		if (key[i] < n_keys)
			first[key[i] + 2]++;
	for (uint32_t k = 0; k < n_keys; k++)
		first[k + 2] += first[k + 1];
	/* first[k + 1] is now the start of key k; filling advances it to the
	 * end of key k, which is the start of key k + 1. */
	for (uint32_t i = 0; i < n; i++)
		if (key[i] < n_keys)
			order[first[key[i] + 1]++] = i;
	*order_out = order;
	*first_out = first;
	return 0;
}

void trace_json_write_otlp(const struct span_batch *b, struct buf *out, enum trace_json_flavor flavor)
{
	uint32_t *span_key = NULL, *scope_key = NULL;
	uint32_t *span_order = NULL, *span_first = NULL, *scope_order = NULL, *scope_first = NULL;
	span_key = try_calloc(b->n_spans ? b->n_spans : 1, sizeof *span_key);
	scope_key = try_calloc(b->n_scopes ? b->n_scopes : 1, sizeof *scope_key);
	if (!span_key || !scope_key) {
		set_err(out, CLEW_ENOMEM);
		goto out;
	}
	for (uint32_t i = 0; i < b->n_spans; i++)
		span_key[i] = scope_ok(b, &b->spans[i]) ? b->spans[i].scope : UINT32_MAX;
	for (uint32_t i = 0; i < b->n_scopes; i++)
		scope_key[i] = b->scopes[i].resource;
	int rc = group_by(span_key, b->n_spans, b->n_scopes, &span_order, &span_first);
	if (rc == 0)
		rc = group_by(scope_key, b->n_scopes, b->n_resources, &scope_order, &scope_first);
	if (rc < 0) {
		set_err(out, rc);
		goto out;
	}

	struct json j;
	json_init(&j, out);
	json_arr_begin(&j);
	for (uint32_t r = 0; r < b->n_resources; r++) {
		uint32_t n_spans = 0;
		for (uint32_t k = scope_first[r]; k < scope_first[r + 1]; k++) {
			uint32_t sc = scope_order[k];
			n_spans += span_first[sc + 1] - span_first[sc];
		}
		if (n_spans == 0)
			continue;
		const struct resource *res = &b->resources[r];
		json_obj_begin(&j);
		json_key(&j, "resource");
		json_obj_begin(&j);
		write_attrs_omit(&j, &res->attrs, res->dropped_attrs);
		json_obj_end(&j);
		json_key(&j, "scopeSpans");
		json_arr_begin(&j);
		for (uint32_t k = scope_first[r]; k < scope_first[r + 1]; k++) {
			uint32_t sc = scope_order[k];
			if (span_first[sc + 1] == span_first[sc])
				continue;
			const struct scope *scope = &b->scopes[sc];
			json_obj_begin(&j);
			json_key(&j, "scope");
			json_obj_begin(&j);
			write_str_omit(&j, "name", scope->name);
			write_str_omit(&j, "version", scope->version);
			write_attrs_omit(&j, &scope->attrs, scope->dropped_attrs);
			json_obj_end(&j);
			json_key(&j, "spans");
			json_arr_begin(&j);
			for (uint32_t m = span_first[sc]; m < span_first[sc + 1]; m++)
				write_otlp_span(&j, &b->spans[span_order[m]], flavor);
			json_arr_end(&j);
			write_str_omit(&j, "schemaUrl", scope->schema_url);
			json_obj_end(&j);
		}
		json_arr_end(&j);
		write_str_omit(&j, "schemaUrl", res->schema_url);
		json_obj_end(&j);
	}
	json_arr_end(&j);
out:
	free(span_key);
	free(scope_key);
	free(span_order);
	free(span_first);
	free(scope_order);
	free(scope_first);
}

/* ---- Jaeger UI trace */

/* An AnyValue as plain JSON (what Jaeger shows for arrays and kvlists). */
static void write_plain(struct json *j, const struct any_value *v)
{
	switch (v->type) {
	case ANY_STRING:
		json_str(j, v->u.str);
		break;
	case ANY_BOOL:
		json_bool(j, v->u.b);
		break;
	case ANY_INT:
		json_int(j, v->u.i);
		break;
	case ANY_DOUBLE:
		json_double(j, v->u.d);
		break;
	case ANY_BYTES:
		json_base64(j, v->u.str.p, v->u.str.len);
		break;
	case ANY_ARRAY:
		json_arr_begin(j);
		for (uint32_t i = 0; i < v->u.array.n; i++)
			write_plain(j, &v->u.array.items[i]);
		json_arr_end(j);
		break;
	case ANY_KVLIST:
		json_obj_begin(j);
		for (uint32_t i = 0; i < v->u.kvlist.n; i++) {
			json_key_slice(j, v->u.kvlist.items[i].key);
			write_plain(j, &v->u.kvlist.items[i].value);
		}
		json_obj_end(j);
		break;
	default:
		json_null_value(j);
		break;
	}
}

void trace_json_write_value(struct json *j, const struct any_value *v)
{
	write_plain(j, v);
}

static void jaeger_tag_begin(struct json *j, struct slice key, const char *type)
{
	json_obj_begin(j);
	json_key(j, "key");
	json_str(j, key);
	json_key(j, "type");
	json_cstr(j, type);
	json_key(j, "value");
}

static void jaeger_tag_str(struct json *j, const char *key, struct slice v)
{
	jaeger_tag_begin(j, slice_cstr(key), "string");
	json_str(j, v);
	json_obj_end(j);
}

static void jaeger_tag(struct json *j, struct slice key, const struct any_value *v)
{
	switch (v->type) {
	case ANY_STRING:
		jaeger_tag_begin(j, key, "string");
		json_str(j, v->u.str);
		break;
	case ANY_BOOL:
		jaeger_tag_begin(j, key, "bool");
		json_bool(j, v->u.b);
		break;
	case ANY_INT:
		jaeger_tag_begin(j, key, "int64");
		json_int(j, v->u.i);
		break;
	case ANY_DOUBLE:
		jaeger_tag_begin(j, key, "float64");
		json_double(j, v->u.d);
		break;
	case ANY_BYTES:
		jaeger_tag_begin(j, key, "binary");
		json_base64(j, v->u.str.p, v->u.str.len);
		break;
	case ANY_ARRAY:
	case ANY_KVLIST: {
		jaeger_tag_begin(j, key, "string");
		struct buf tmp;
		buf_init(&tmp, j->out->max_bytes);
		struct json jt;
		json_init(&jt, &tmp);
		write_plain(&jt, v);
		if (tmp.err)
			set_err(j->out, tmp.err);
		json_str(j, buf_slice(&tmp));
		buf_free(&tmp);
		break;
	}
	default:
		jaeger_tag_begin(j, key, "string");
		json_cstr(j, "");
		break;
	}
	json_obj_end(j);
}

static void jaeger_tags(struct json *j, const struct attr_list *l, const char *skip)
{
	for (uint32_t i = 0; i < l->n; i++)
		if (!skip || !slice_eq_cstr(l->items[i].key, skip))
			jaeger_tag(j, l->items[i].key, &l->items[i].value);
}

static const char *const kind_names[] = {"unspecified", "internal", "server", "client", "producer", "consumer"};

static const char *kind_name(uint8_t kind)
{
	return kind <= SPAN_KIND_CONSUMER ? kind_names[kind] : "unspecified";
}

static void jaeger_ref(struct json *j, const char *type, const uint8_t trace_id[16], const uint8_t span_id[8])
{
	json_obj_begin(j);
	json_key(j, "refType");
	json_cstr(j, type);
	json_key(j, "traceID");
	json_hex(j, trace_id, 16);
	json_key(j, "spanID");
	json_hex(j, span_id, 8);
	json_obj_end(j);
}

static void jaeger_process_id(struct json *j, uint32_t proc)
{
	char name[16];
	int n = snprintf(name, sizeof name, "p%u", proc + 1);
	json_str(j, slice_make(name, (size_t)n));
}

static void jaeger_span(struct json *j, const struct span_batch *b, const struct span *s, uint32_t proc)
{
	const struct scope *scope = &b->scopes[s->scope];
	json_obj_begin(j);
	json_key(j, "traceID");
	json_hex(j, s->trace_id, 16);
	json_key(j, "spanID");
	json_hex(j, s->span_id, 8);
	json_key(j, "operationName");
	json_str(j, s->name);
	json_key(j, "references");
	json_arr_begin(j);
	if (s->has_parent)
		jaeger_ref(j, "CHILD_OF", s->trace_id, s->parent_span_id);
	for (uint32_t i = 0; i < s->n_links; i++)
		jaeger_ref(j, "FOLLOWS_FROM", s->links[i].trace_id, s->links[i].span_id);
	json_arr_end(j);
	json_key(j, "startTime");
	json_int(j, s->start_unix_ns / 1000);
	json_key(j, "duration");
	json_int(j, (s->end_unix_ns - s->start_unix_ns) / 1000);

	json_key(j, "tags");
	json_arr_begin(j);
	jaeger_tags(j, &s->attrs, NULL);
	if (s->kind != SPAN_KIND_UNSPECIFIED && s->kind <= SPAN_KIND_CONSUMER)
		jaeger_tag_str(j, "span.kind", slice_cstr(kind_name(s->kind)));
	if (s->status_code == STATUS_OK) {
		jaeger_tag_str(j, "otel.status_code", SLICE_LIT("OK"));
	} else if (s->status_code == STATUS_ERROR) {
		jaeger_tag_str(j, "otel.status_code", SLICE_LIT("ERROR"));
		jaeger_tag_begin(j, SLICE_LIT("error"), "bool");
		json_bool(j, true);
		json_obj_end(j);
	}
	if (s->status_message.len)
		jaeger_tag_str(j, "otel.status_description", s->status_message);
	if (scope->name.len)
		jaeger_tag_str(j, "otel.scope.name", scope->name);
	if (scope->version.len)
		jaeger_tag_str(j, "otel.scope.version", scope->version);
	if (s->trace_state.len)
		jaeger_tag_str(j, "w3c.tracestate", s->trace_state);
	json_arr_end(j);

	json_key(j, "logs");
	json_arr_begin(j);
	for (uint32_t i = 0; i < s->n_events; i++) {
		const struct span_event *e = &s->events[i];
		json_obj_begin(j);
		json_key(j, "timestamp");
		json_int(j, e->time_unix_ns / 1000);
		json_key(j, "fields");
		json_arr_begin(j);
		jaeger_tag_str(j, "event", e->name);
		jaeger_tags(j, &e->attrs, NULL);
		json_arr_end(j);
		json_obj_end(j);
	}
	json_arr_end(j);
	json_key(j, "processID");
	jaeger_process_id(j, proc);
	json_key(j, "warnings");
	json_null_value(j);
	json_key(j, "flags");
	json_uint(j, s->flags);
	json_obj_end(j);
}

static const uint8_t zero_trace_id[16];

void trace_json_write_jaeger(const struct span_batch *b, struct buf *out)
{
	/* proc_of[r]: process number of resource r; rep[p]: its first resource */
	uint32_t *proc_of = try_calloc(b->n_resources ? b->n_resources : 1, sizeof *proc_of);
	uint32_t *rep = try_calloc(b->n_resources ? b->n_resources : 1, sizeof *rep);
	if (!proc_of || !rep) {
		set_err(out, CLEW_ENOMEM);
		goto out;
	}
	uint32_t n_procs = 0;
	for (uint32_t r = 0; r < b->n_resources; r++) {
		uint32_t p = 0;
		while (p < n_procs && !attr_list_eq(&b->resources[rep[p]].attrs, &b->resources[r].attrs))
			p++;
		if (p == n_procs)
			rep[n_procs++] = r;
		proc_of[r] = p;
	}

	struct json j;
	json_init(&j, out);
	json_obj_begin(&j);
	json_key(&j, "traceID");
	json_hex(&j, b->n_spans ? b->spans[0].trace_id : zero_trace_id, 16);
	json_key(&j, "spans");
	json_arr_begin(&j);
	uint8_t *used = NULL;
	if (n_procs) {
		used = try_calloc(n_procs, 1);
		if (!used) {
			set_err(out, CLEW_ENOMEM);
			goto out;
		}
	}
	for (uint32_t i = 0; i < b->n_spans; i++) {
		const struct span *s = &b->spans[i];
		if (!scope_ok(b, s))
			continue;
		uint32_t p = proc_of[b->scopes[s->scope].resource];
		used[p] = 1;
		jaeger_span(&j, b, s, p);
	}
	json_arr_end(&j);
	json_key(&j, "processes");
	json_obj_begin(&j);
	for (uint32_t p = 0; p < n_procs; p++) {
		if (!used[p])
			continue;
		char name[16];
		int n = snprintf(name, sizeof name, "p%u", p + 1);
		json_key_slice(&j, slice_make(name, (size_t)n));
		const struct resource *res = &b->resources[rep[p]];
		json_obj_begin(&j);
		json_key(&j, "serviceName");
		json_str(&j, resource_service_name(res));
		json_key(&j, "tags");
		json_arr_begin(&j);
		jaeger_tags(&j, &res->attrs, "service.name");
		json_arr_end(&j);
		json_obj_end(&j);
	}
	json_obj_end(&j);
	json_key(&j, "warnings");
	json_null_value(&j);
	json_obj_end(&j);
	free(used);
out:
	free(proc_of);
	free(rep);
}

/* ---- clew's native trace shape */

static const char *const code_names[] = {"unset", "ok", "error"};

static void native_attrs(struct json *j, const struct attr_list *l, uint32_t dropped)
{
	json_key(j, "attributes");
	trace_json_write_attrs(j, l->items, l->n);
	json_key(j, "droppedAttributesCount");
	json_uint(j, dropped);
}

static double dur_ms(int64_t start_ns, int64_t end_ns)
{
	return (double)(end_ns - start_ns) / 1e6;
}

/* The root span: the earliest without a parent, else the earliest. */
static const struct span *find_root(const struct span_batch *b)
{
	const struct span *root = NULL, *earliest = NULL;
	for (uint32_t i = 0; i < b->n_spans; i++) {
		const struct span *s = &b->spans[i];
		if (!scope_ok(b, s))
			continue;
		if (!earliest || s->start_unix_ns < earliest->start_unix_ns)
			earliest = s;
		if (!s->has_parent && (!root || s->start_unix_ns < root->start_unix_ns))
			root = s;
	}
	return root ? root : earliest;
}

struct native_service {
	struct slice name;
	uint32_t spans, errors;
};

static void native_span(struct json *j, const struct span_batch *b, const struct span *s)
{
	uint32_t res = b->scopes[s->scope].resource;
	json_obj_begin(j);
	json_key(j, "spanId");
	json_hex(j, s->span_id, 8);
	json_key(j, "parentSpanId");
	json_hex(j, s->parent_span_id, s->has_parent ? 8 : 0);
	json_key(j, "traceState");
	json_str(j, s->trace_state);
	json_key(j, "flags");
	json_uint(j, s->flags);
	json_key(j, "name");
	json_str(j, s->name);
	json_key(j, "kind");
	json_cstr(j, kind_name(s->kind));
	json_key(j, "service");
	json_str(j, resource_service_name(&b->resources[res]));
	json_key(j, "resource");
	json_uint(j, res);
	json_key(j, "scope");
	json_uint(j, s->scope);
	json_key(j, "startTimeUnixNano");
	json_int_str(j, s->start_unix_ns);
	json_key(j, "endTimeUnixNano");
	json_int_str(j, s->end_unix_ns);
	json_key(j, "durationMs");
	json_double(j, dur_ms(s->start_unix_ns, s->end_unix_ns));
	native_attrs(j, &s->attrs, s->dropped_attrs);
	json_key(j, "events");
	json_arr_begin(j);
	for (uint32_t i = 0; i < s->n_events; i++) {
		const struct span_event *e = &s->events[i];
		json_obj_begin(j);
		json_key(j, "timeUnixNano");
		json_int_str(j, e->time_unix_ns);
		json_key(j, "name");
		json_str(j, e->name);
		native_attrs(j, &e->attrs, e->dropped_attrs);
		json_obj_end(j);
	}
	json_arr_end(j);
	json_key(j, "droppedEventsCount");
	json_uint(j, s->dropped_events);
	json_key(j, "links");
	json_arr_begin(j);
	for (uint32_t i = 0; i < s->n_links; i++) {
		const struct span_link *l = &s->links[i];
		json_obj_begin(j);
		json_key(j, "traceId");
		json_hex(j, l->trace_id, 16);
		json_key(j, "spanId");
		json_hex(j, l->span_id, 8);
		json_key(j, "traceState");
		json_str(j, l->trace_state);
		native_attrs(j, &l->attrs, l->dropped_attrs);
		json_key(j, "flags");
		json_uint(j, l->flags);
		json_obj_end(j);
	}
	json_arr_end(j);
	json_key(j, "droppedLinksCount");
	json_uint(j, s->dropped_links);
	json_key(j, "status");
	json_obj_begin(j);
	json_key(j, "code");
	json_cstr(j, s->status_code <= STATUS_ERROR ? code_names[s->status_code] : "unset");
	json_key(j, "message");
	json_str(j, s->status_message);
	json_obj_end(j);
	json_obj_end(j);
}

void trace_json_write_native(const struct span_batch *b, struct buf *out)
{
	size_t n_res = b->n_resources ? b->n_resources : 1;
	uint32_t *svc_of = try_malloc(n_res * sizeof *svc_of);
	struct native_service *svcs = try_calloc(n_res, sizeof *svcs);
	if (!svc_of || !svcs) {
		set_err(out, CLEW_ENOMEM);
		goto out;
	}
	for (uint32_t r = 0; r < b->n_resources; r++)
		svc_of[r] = UINT32_MAX;
	uint32_t n_svcs = 0, n_spans = 0, n_errors = 0;
	int64_t start = 0, end = 0;
	for (uint32_t i = 0; i < b->n_spans; i++) {
		const struct span *s = &b->spans[i];
		if (!scope_ok(b, s))
			continue;
		uint32_t r = b->scopes[s->scope].resource;
		if (svc_of[r] == UINT32_MAX) {
			struct slice name = resource_service_name(&b->resources[r]);
			uint32_t k = 0;
			while (k < n_svcs && !slice_eq(svcs[k].name, name))
				k++;
			if (k == n_svcs)
				svcs[n_svcs++].name = name;
			svc_of[r] = k;
		}
		struct native_service *sv = &svcs[svc_of[r]];
		sv->spans++;
		if (n_spans == 0 || s->start_unix_ns < start)
			start = s->start_unix_ns;
		if (n_spans == 0 || s->end_unix_ns > end)
			end = s->end_unix_ns;
		n_spans++;
		if (s->status_code == STATUS_ERROR) {
			sv->errors++;
			n_errors++;
		}
	}
	const struct span *root = find_root(b);

	struct json j;
	json_init(&j, out);
	json_obj_begin(&j);
	json_key(&j, "traceId");
	json_hex(&j, root ? root->trace_id : zero_trace_id, 16);
	json_key(&j, "rootServiceName");
	json_str(&j, root ? resource_service_name(span_batch_resource_of(b, root)) : SLICE_LIT(""));
	json_key(&j, "rootName");
	json_str(&j, root ? root->name : SLICE_LIT(""));
	json_key(&j, "startTimeUnixNano");
	json_int_str(&j, start);
	json_key(&j, "endTimeUnixNano");
	json_int_str(&j, end);
	json_key(&j, "durationMs");
	json_double(&j, dur_ms(start, end));
	json_key(&j, "spanCount");
	json_uint(&j, n_spans);
	json_key(&j, "errorCount");
	json_uint(&j, n_errors);
	json_key(&j, "services");
	json_arr_begin(&j);
	for (uint32_t k = 0; k < n_svcs; k++) {
		json_obj_begin(&j);
		json_key(&j, "name");
		json_str(&j, svcs[k].name);
		json_key(&j, "spanCount");
		json_uint(&j, svcs[k].spans);
		json_key(&j, "errorCount");
		json_uint(&j, svcs[k].errors);
		json_obj_end(&j);
	}
	json_arr_end(&j);
	json_key(&j, "resources");
	json_arr_begin(&j);
	for (uint32_t r = 0; r < b->n_resources; r++) {
		const struct resource *res = &b->resources[r];
		json_obj_begin(&j);
		json_key(&j, "serviceName");
		json_str(&j, resource_service_name(res));
		native_attrs(&j, &res->attrs, res->dropped_attrs);
		json_key(&j, "schemaUrl");
		json_str(&j, res->schema_url);
		json_obj_end(&j);
	}
	json_arr_end(&j);
	json_key(&j, "scopes");
	json_arr_begin(&j);
	for (uint32_t k = 0; k < b->n_scopes; k++) {
		const struct scope *sc = &b->scopes[k];
		json_obj_begin(&j);
		json_key(&j, "resource");
		json_uint(&j, sc->resource);
		json_key(&j, "name");
		json_str(&j, sc->name);
		json_key(&j, "version");
		json_str(&j, sc->version);
		native_attrs(&j, &sc->attrs, sc->dropped_attrs);
		json_key(&j, "schemaUrl");
		json_str(&j, sc->schema_url);
		json_obj_end(&j);
	}
	json_arr_end(&j);
	json_key(&j, "spans");
	json_arr_begin(&j);
	for (uint32_t i = 0; i < b->n_spans; i++)
		if (scope_ok(b, &b->spans[i]))
			native_span(&j, b, &b->spans[i]);
	json_arr_end(&j);
	json_obj_end(&j);
out:
	free(svc_of);
	free(svcs);
}
