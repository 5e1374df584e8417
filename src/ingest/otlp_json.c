/* OTLP/JSON decoder: parses an ExportTraceServiceRequest with jansson, walks
 * the DOM into a span_batch, copies every string into the batch arena and
 * frees the DOM before returning. Sits beside the protobuf decoder in the
 * ingest layer; both produce the same batch for the same request. Errors
 * name the JSON path of the offending value; the path is kept as a stack of
 * frames and only formatted when an error occurs. Lenient where clients
 * are known to deviate: enum names as strings, 64-bit integers as strings
 * or numbers, null treated as absent (a null element of a repeated message
 * is skipped; a null element of an arrayValue is an empty value). */
#include "ingest/otlp_json.h"

#include <jansson.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/codec.h"
#include "base/err.h"
#include "ingest/json_alloc.h"

/* Frames of the JSON path kept for error messages; deeper ones are counted
 * but not recorded (AnyValue nesting is limited long before that). */
#define OJ_MAX_FRAMES 160

struct oj_frame {
	const char *key; /* NULL for an array index */
	size_t idx;
};

struct oj {
	struct span_batch *b;
	struct decode_error *err;
	struct oj_frame frames[OJ_MAX_FRAMES];
	int depth;
};

static void push_key(struct oj *d, const char *key)
{
	if (d->depth < OJ_MAX_FRAMES)
		d->frames[d->depth] = (struct oj_frame){key, 0};
	d->depth++;
}

static void push_idx(struct oj *d, size_t idx)
{
	if (d->depth < OJ_MAX_FRAMES)
		d->frames[d->depth] = (struct oj_frame){NULL, idx};
	d->depth++;
}

static void pop(struct oj *d)
{
	d->depth--;
}

/* Fill err->msg with "<path>: <message>" and return CLEW_EPARSE. A path too
 * long for the message keeps its start and its end around "...". */
__attribute__((format(printf, 2, 3))) static int fail(struct oj *d, const char *fmt, ...)
{
	char path[4096], text[160];
	size_t n = 0;
	int depth = d->depth < OJ_MAX_FRAMES ? d->depth : OJ_MAX_FRAMES;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(text, sizeof text, fmt, ap);
	va_end(ap);
	path[0] = 0;
	for (int i = 0; i < depth && n < sizeof path; i++) {
		const struct oj_frame *f = &d->frames[i];
		int w;
		if (f->key)
			w = snprintf(path + n, sizeof path - n, "%s%s", i ? "." : "", f->key);
		else
			w = snprintf(path + n, sizeof path - n, "[%zu]", f->idx);
		if (w > 0)
			n += (size_t)w;
	}
	n = strlen(path);
	size_t tl = strlen(text), room = sizeof d->err->msg - tl - 3, half = room / 2 - 2;
	char *m = d->err->msg;
	if (n > room) {
		memcpy(m, path, half);
		memcpy(m + half, "...", 3);
		memcpy(m + half + 3, path + n - half, half);
		n = 2 * half + 3;
	} else {
		memcpy(m, path, n);
	}
	if (n) {
		memcpy(m + n, ": ", 2);
		n += 2;
	}
	memcpy(m + n, text, tl + 1);
	d->err->offset = 0;
	return CLEW_EPARSE;
}

/* A member of obj, or NULL when absent or null. */
static json_t *member(json_t *obj, const char *key)
{
	json_t *v = json_object_get(obj, key);
	return json_is_null(v) ? NULL : v;
}

static int copy_str(struct oj *d, json_t *s, struct slice *out)
{
	size_t n = json_string_length(s);
	if (n == 0) {
		*out = slice_make("", 0);
		return 0;
	}
	void *p = arena_memdup(d->b->arena, json_string_value(s), n);
	if (!p)
		return CLEW_ENOMEM;
	*out = slice_make(p, n);
	return 0;
}

/* Overflow-checked unsigned decimal, digits only. */
static bool parse_u64(const char *s, size_t n, uint64_t *out)
{
	uint64_t v = 0;
	if (n == 0)
		return false;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		unsigned dg = (unsigned)(s[i] - '0');
		if (v > (UINT64_MAX - dg) / 10)
			return false;
		v = v * 10 + dg;
	}
	*out = v;
	return true;
}

static bool parse_i64(const char *s, size_t n, int64_t *out)
{
	uint64_t mag;
	bool neg = n > 0 && s[0] == '-';
	if (!parse_u64(s + neg, n - neg, &mag))
		return false;
	if (neg) {
		if (mag > (uint64_t)INT64_MAX + 1)
			return false;
		*out = mag == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)mag;
	} else {
		if (mag > (uint64_t)INT64_MAX)
			return false;
		*out = (int64_t)mag;
	}
	return true;
}

/* A JSON value as uint64: a non-negative integer, an integral real in range,
 * or a decimal string (up to 2^64-1). false when it is none of these. */
static bool json_u64(json_t *v, uint64_t *out)
{
	if (json_is_integer(v)) {
		json_int_t i = json_integer_value(v);
		if (i < 0)
			return false;
		*out = (uint64_t)i;
		return true;
	}
	if (json_is_real(v)) {
		double x = json_real_value(v);
		if (!(x >= 0 && x < 18446744073709551616.0) || x != floor(x))
			return false;
		*out = (uint64_t)x;
		return true;
	}
	if (json_is_string(v))
		return parse_u64(json_string_value(v), json_string_length(v), out);
	return false;
}

static bool json_i64(json_t *v, int64_t *out)
{
	if (json_is_integer(v)) {
		*out = json_integer_value(v);
		return true;
	}
	if (json_is_real(v)) {
		double x = json_real_value(v);
		if (!(x >= -9223372036854775808.0 && x < 9223372036854775808.0) || x != floor(x))
			return false;
		*out = (int64_t)x;
		return true;
	}
	if (json_is_string(v))
		return parse_i64(json_string_value(v), json_string_length(v), out);
	return false;
}

/* Unsigned 64-bit field (times): kept bit for bit in the int64 the span
 * model holds, as the protobuf decoder does with fixed64. */
static int dec_u64(struct oj *d, json_t *obj, const char *key, uint64_t *out)
{
	json_t *v = member(obj, key);
	if (!v)
		return 0;
	if (json_u64(v, out))
		return 0;
	push_key(d, key);
	return fail(d, "expected an integer or a decimal string");
}

static int dec_time(struct oj *d, json_t *obj, const char *key, int64_t *out)
{
	uint64_t u = 0;
	int rc = dec_u64(d, obj, key, &u);
	if (rc == 0)
		*out = (int64_t)u;
	return rc;
}

static int dec_u32(struct oj *d, json_t *obj, const char *key, uint32_t *out)
{
	uint64_t u = 0;
	int rc = dec_u64(d, obj, key, &u);
	if (rc < 0)
		return rc;
	if (u > UINT32_MAX) {
		push_key(d, key);
		return fail(d, "integer out of range for uint32");
	}
	*out = (uint32_t)u;
	return 0;
}

static int dec_string(struct oj *d, json_t *obj, const char *key, struct slice *out)
{
	json_t *v = member(obj, key);
	if (!v)
		return 0;
	if (!json_is_string(v)) {
		push_key(d, key);
		return fail(d, "expected a string");
	}
	return copy_str(d, v, out);
}

/* An enum given as an integer (the spec) or as its name (some clients).
 * Integers outside names[0..n) decode as 0, the UNSPECIFIED/UNSET value. */
static int dec_enum(struct oj *d, json_t *obj, const char *key, const char *const *names, int n, uint8_t *out)
{
	json_t *v = member(obj, key);
	if (!v)
		return 0;
	int64_t i;
	if (json_is_string(v)) {
		const char *s = json_string_value(v);
		for (int k = 0; k < n; k++) {
			if (strlen(names[k]) == json_string_length(v) && strcmp(s, names[k]) == 0) {
				*out = (uint8_t)k;
				return 0;
			}
		}
		if (!parse_i64(s, json_string_length(v), &i)) {
			push_key(d, key);
			return fail(d, "unknown enum value \"%.60s\"", s);
		}
	} else if (!json_is_integer(v)) {
		push_key(d, key);
		return fail(d, "expected an integer enum value");
	} else {
		i = json_integer_value(v);
	}
	if (i < INT32_MIN || i > INT32_MAX) {
		push_key(d, key);
		return fail(d, "enum value out of range");
	}
	*out = (uint8_t)(i >= 0 && i < n ? i : 0);
	return 0;
}

/* A hex id of n bytes. Absent, null and "" leave out zero (validation
 * rejects zero ids later); a wrong length or a non-hex character sets
 * *invalid to reason; a non-string is a type error. *present tells if an
 * id was decoded. */
static int dec_id(struct oj *d, json_t *obj, const char *key, uint8_t *out, size_t n, const char **invalid,
		  const char *reason, bool *present)
{
	json_t *v = member(obj, key);
	if (present)
		*present = false;
	if (!v)
		return 0;
	if (!json_is_string(v)) {
		push_key(d, key);
		return fail(d, "expected a hex string");
	}
	size_t len = json_string_length(v);
	if (len == 0)
		return 0;
	if (hex_decode(slice_make(json_string_value(v), len), out, n) < 0) {
		memset(out, 0, n);
		if (!*invalid)
			*invalid = reason;
		return 0;
	}
	if (present)
		*present = true;
	return 0;
}

/* An array member: *out NULL when absent or null. */
static int get_array(struct oj *d, json_t *obj, const char *key, json_t **out)
{
	json_t *v = member(obj, key);
	*out = NULL;
	if (!v)
		return 0;
	if (!json_is_array(v)) {
		push_key(d, key);
		return fail(d, "expected an array");
	}
	if (json_array_size(v) > UINT32_MAX) {
		push_key(d, key);
		return fail(d, "array too long");
	}
	*out = v;
	return 0;
}

static int get_object(struct oj *d, json_t *obj, const char *key, json_t **out)
{
	json_t *v = member(obj, key);
	*out = NULL;
	if (!v)
		return 0;
	if (!json_is_object(v)) {
		push_key(d, key);
		return fail(d, "expected an object");
	}
	*out = v;
	return 0;
}

/* Element i of a repeated message field: NULL for a null element (skipped),
 * a type error for anything but an object. The caller has pushed the key. */
static int get_elem(struct oj *d, json_t *arr, size_t i, json_t **out)
{
	json_t *e = json_array_get(arr, i);
	*out = NULL;
	if (json_is_null(e))
		return 0;
	if (!json_is_object(e)) {
		push_idx(d, i);
		return fail(d, "expected an object");
	}
	*out = e;
	return 0;
}

static int dec_any(struct oj *d, json_t *v, struct any_value *out, int depth);

static int dec_kvs(struct oj *d, json_t *arr, struct attr_list *out, int depth)
{
	size_t n = json_array_size(arr);
	out->n = 0;
	out->items = NULL;
	if (n == 0)
		return 0;
	out->items = arena_array(d->b->arena, n, sizeof *out->items);
	if (!out->items)
		return CLEW_ENOMEM;
	for (size_t i = 0; i < n; i++) {
		json_t *e;
		int rc = get_elem(d, arr, i, &e);
		if (rc < 0)
			return rc;
		if (!e)
			continue;
		push_idx(d, i);
		struct attr *a = &out->items[out->n];
		if ((rc = dec_string(d, e, "key", &a->key)) < 0)
			return rc;
		json_t *val = member(e, "value");
		if (val) {
			push_key(d, "value");
			if ((rc = dec_any(d, val, &a->value, depth)) < 0)
				return rc;
			pop(d);
		}
		pop(d);
		out->n++;
	}
	return 0;
}

static int dec_double(struct oj *d, json_t *v, double *out)
{
	if (json_is_number(v)) {
		*out = json_number_value(v);
		return 0;
	}
	if (json_is_string(v)) {
		const char *s = json_string_value(v);
		size_t n = json_string_length(v);
		if (strcmp(s, "NaN") == 0) {
			*out = NAN;
			return 0;
		}
		if (strcmp(s, "Infinity") == 0) {
			*out = INFINITY;
			return 0;
		}
		if (strcmp(s, "-Infinity") == 0) {
			*out = -INFINITY;
			return 0;
		}
		/* proto3 JSON also allows a number in a string */
		if (n > 0 && ((s[0] >= '0' && s[0] <= '9') || s[0] == '-' || s[0] == '.')) {
			char *end;
			double x = strtod(s, &end);
			if (end == s + n) {
				*out = x;
				return 0;
			}
		}
	}
	return fail(d, "expected a number or \"NaN\", \"Infinity\", \"-Infinity\"");
}

/* One AnyValue object. depth counts the arrays and kvlists around it. */
static int dec_any(struct oj *d, json_t *v, struct any_value *out, int depth)
{
	json_t *x;
	int rc = 0;
	memset(out, 0, sizeof *out);
	if (!json_is_object(v))
		return fail(d, "expected an AnyValue object");
	if ((x = member(v, "stringValue"))) {
		push_key(d, "stringValue");
		if (!json_is_string(x))
			return fail(d, "expected a string");
		out->type = ANY_STRING;
		rc = copy_str(d, x, &out->u.str);
	} else if ((x = member(v, "boolValue"))) {
		push_key(d, "boolValue");
		if (!json_is_boolean(x))
			return fail(d, "expected true or false");
		out->type = ANY_BOOL;
		out->u.b = json_is_true(x);
	} else if ((x = member(v, "intValue"))) {
		push_key(d, "intValue");
		if (!json_i64(x, &out->u.i))
			return fail(d, "expected an int64 as an integer or a decimal string");
		out->type = ANY_INT;
	} else if ((x = member(v, "doubleValue"))) {
		push_key(d, "doubleValue");
		if ((rc = dec_double(d, x, &out->u.d)) < 0)
			return rc;
		out->type = ANY_DOUBLE;
	} else if ((x = member(v, "arrayValue")) || (x = member(v, "kvlistValue"))) {
		bool is_array = member(v, "arrayValue") != NULL;
		push_key(d, is_array ? "arrayValue" : "kvlistValue");
		if (!json_is_object(x))
			return fail(d, "expected an object");
		if (depth >= OTLP_MAX_ANY_DEPTH)
			return fail(d, "values nested deeper than %d levels", OTLP_MAX_ANY_DEPTH);
		json_t *arr;
		if ((rc = get_array(d, x, "values", &arr)) < 0)
			return rc;
		push_key(d, "values");
		if (!is_array) {
			out->type = ANY_KVLIST;
			struct attr_list l = {0};
			if (arr && (rc = dec_kvs(d, arr, &l, depth + 1)) < 0)
				return rc;
			out->u.kvlist.items = l.items;
			out->u.kvlist.n = l.n;
		} else {
			out->type = ANY_ARRAY;
			size_t n = arr ? json_array_size(arr) : 0;
			if (n) {
				out->u.array.items = arena_array(d->b->arena, n, sizeof *out->u.array.items);
				if (!out->u.array.items)
					return CLEW_ENOMEM;
			}
			for (size_t i = 0; i < n; i++) {
				json_t *e = json_array_get(arr, i);
				push_idx(d, i);
				if (!json_is_null(e) && (rc = dec_any(d, e, &out->u.array.items[i], depth + 1)) < 0)
					return rc;
				pop(d);
			}
			out->u.array.n = (uint32_t)n;
		}
		pop(d);
	} else if ((x = member(v, "bytesValue"))) {
		push_key(d, "bytesValue");
		if (!json_is_string(x))
			return fail(d, "expected a base64 string");
		size_t n = json_string_length(x), len = 0;
		uint8_t *p = NULL;
		if (n) {
			p = arena_alloc(d->b->arena, n / 4 * 3 + 3);
			if (!p)
				return CLEW_ENOMEM;
			if (base64_decode(slice_make(json_string_value(x), n), p, n / 4 * 3 + 3, &len) < 0)
				return fail(d, "invalid base64");
		}
		out->type = ANY_BYTES;
		out->u.str = slice_make(p ? (const void *)p : "", len);
	} else {
		return 0; /* an empty AnyValue */
	}
	if (rc == 0)
		pop(d);
	return rc;
}

static int dec_attrs(struct oj *d, json_t *obj, const char *key, struct attr_list *out)
{
	json_t *arr;
	int rc = get_array(d, obj, key, &arr);
	if (rc < 0 || !arr)
		return rc;
	push_key(d, key);
	if ((rc = dec_kvs(d, arr, out, 0)) < 0)
		return rc;
	pop(d);
	return 0;
}

static const char *const kind_names[] = {
	"SPAN_KIND_UNSPECIFIED", "SPAN_KIND_INTERNAL", "SPAN_KIND_SERVER",
	"SPAN_KIND_CLIENT",	 "SPAN_KIND_PRODUCER", "SPAN_KIND_CONSUMER",
};

static const char *const status_names[] = {"STATUS_CODE_UNSET", "STATUS_CODE_OK", "STATUS_CODE_ERROR"};

static int dec_events(struct oj *d, json_t *obj, struct span *s)
{
	json_t *arr;
	int rc = get_array(d, obj, "events", &arr);
	if (rc < 0 || !arr)
		return rc;
	size_t n = json_array_size(arr);
	if (n == 0)
		return 0;
	s->events = arena_array(d->b->arena, n, sizeof *s->events);
	if (!s->events)
		return CLEW_ENOMEM;
	push_key(d, "events");
	for (size_t i = 0; i < n; i++) {
		json_t *e;
		if ((rc = get_elem(d, arr, i, &e)) < 0)
			return rc;
		if (!e)
			continue;
		push_idx(d, i);
		struct span_event *ev = &s->events[s->n_events];
		if ((rc = dec_time(d, e, "timeUnixNano", &ev->time_unix_ns)) < 0 ||
		    (rc = dec_string(d, e, "name", &ev->name)) < 0 ||
		    (rc = dec_attrs(d, e, "attributes", &ev->attrs)) < 0 ||
		    (rc = dec_u32(d, e, "droppedAttributesCount", &ev->dropped_attrs)) < 0)
			return rc;
		pop(d);
		s->n_events++;
	}
	pop(d);
	return 0;
}

static int dec_links(struct oj *d, json_t *obj, struct span *s)
{
	json_t *arr;
	int rc = get_array(d, obj, "links", &arr);
	if (rc < 0 || !arr)
		return rc;
	size_t n = json_array_size(arr);
	if (n == 0)
		return 0;
	s->links = arena_array(d->b->arena, n, sizeof *s->links);
	if (!s->links)
		return CLEW_ENOMEM;
	push_key(d, "links");
	for (size_t i = 0; i < n; i++) {
		json_t *e;
		if ((rc = get_elem(d, arr, i, &e)) < 0)
			return rc;
		if (!e)
			continue;
		push_idx(d, i);
		struct span_link *l = &s->links[s->n_links];
		if ((rc = dec_id(d, e, "traceId", l->trace_id, 16, &s->invalid_reason,
				 "link trace id is not 32 hex digits", NULL)) < 0 ||
		    (rc = dec_id(d, e, "spanId", l->span_id, 8, &s->invalid_reason,
				 "link span id is not 16 hex digits", NULL)) < 0 ||
		    (rc = dec_string(d, e, "traceState", &l->trace_state)) < 0 ||
		    (rc = dec_attrs(d, e, "attributes", &l->attrs)) < 0 ||
		    (rc = dec_u32(d, e, "droppedAttributesCount", &l->dropped_attrs)) < 0 ||
		    (rc = dec_u32(d, e, "flags", &l->flags)) < 0)
			return rc;
		pop(d);
		s->n_links++;
	}
	pop(d);
	return 0;
}

static int dec_span(struct oj *d, json_t *obj, struct span *s)
{
	int rc;
	json_t *status;
	if ((rc = dec_id(d, obj, "traceId", s->trace_id, 16, &s->invalid_reason, "trace id is not 32 hex digits",
			 NULL)) < 0 ||
	    (rc = dec_id(d, obj, "spanId", s->span_id, 8, &s->invalid_reason, "span id is not 16 hex digits",
			 NULL)) < 0 ||
	    (rc = dec_id(d, obj, "parentSpanId", s->parent_span_id, 8, &s->invalid_reason,
			 "parent span id is not 16 hex digits", &s->has_parent)) < 0 ||
	    (rc = dec_string(d, obj, "traceState", &s->trace_state)) < 0 ||
	    (rc = dec_u32(d, obj, "flags", &s->flags)) < 0 || (rc = dec_string(d, obj, "name", &s->name)) < 0 ||
	    (rc = dec_enum(d, obj, "kind", kind_names, 6, &s->kind)) < 0 ||
	    (rc = dec_time(d, obj, "startTimeUnixNano", &s->start_unix_ns)) < 0 ||
	    (rc = dec_time(d, obj, "endTimeUnixNano", &s->end_unix_ns)) < 0 ||
	    (rc = dec_attrs(d, obj, "attributes", &s->attrs)) < 0 ||
	    (rc = dec_u32(d, obj, "droppedAttributesCount", &s->dropped_attrs)) < 0 ||
	    (rc = dec_events(d, obj, s)) < 0 || (rc = dec_u32(d, obj, "droppedEventsCount", &s->dropped_events)) < 0 ||
	    (rc = dec_links(d, obj, s)) < 0 || (rc = dec_u32(d, obj, "droppedLinksCount", &s->dropped_links)) < 0 ||
	    (rc = get_object(d, obj, "status", &status)) < 0)
		return rc;
	if (status) {
		push_key(d, "status");
		if ((rc = dec_string(d, status, "message", &s->status_message)) < 0 ||
		    (rc = dec_enum(d, status, "code", status_names, 3, &s->status_code)) < 0)
			return rc;
		pop(d);
	}
	return 0;
}

static int dec_scope_spans(struct oj *d, json_t *obj, uint32_t resource)
{
	json_t *scope, *spans;
	int rc;
	struct scope *sc = span_batch_add_scope(d->b, resource);
	if (!sc)
		return CLEW_ENOMEM;
	uint32_t si = d->b->n_scopes - 1;
	if ((rc = dec_string(d, obj, "schemaUrl", &sc->schema_url)) < 0 ||
	    (rc = get_object(d, obj, "scope", &scope)) < 0)
		return rc;
	if (scope) {
		push_key(d, "scope");
		if ((rc = dec_string(d, scope, "name", &sc->name)) < 0 ||
		    (rc = dec_string(d, scope, "version", &sc->version)) < 0 ||
		    (rc = dec_attrs(d, scope, "attributes", &sc->attrs)) < 0 ||
		    (rc = dec_u32(d, scope, "droppedAttributesCount", &sc->dropped_attrs)) < 0)
			return rc;
		pop(d);
	}
	if ((rc = get_array(d, obj, "spans", &spans)) < 0 || !spans)
		return rc;
	push_key(d, "spans");
	for (size_t i = 0; i < json_array_size(spans); i++) {
		json_t *e;
		if ((rc = get_elem(d, spans, i, &e)) < 0)
			return rc;
		if (!e)
			continue;
		struct span *s = span_batch_add_span(d->b, si);
		if (!s)
			return CLEW_ENOMEM;
		push_idx(d, i);
		if ((rc = dec_span(d, e, s)) < 0)
			return rc;
		pop(d);
	}
	pop(d);
	return 0;
}

static int dec_resource_spans(struct oj *d, json_t *obj)
{
	json_t *res, *scopes;
	int rc;
	struct resource *r = span_batch_add_resource(d->b);
	if (!r)
		return CLEW_ENOMEM;
	uint32_t ri = d->b->n_resources - 1;
	if ((rc = dec_string(d, obj, "schemaUrl", &r->schema_url)) < 0 ||
	    (rc = get_object(d, obj, "resource", &res)) < 0)
		return rc;
	if (res) {
		push_key(d, "resource");
		if ((rc = dec_attrs(d, res, "attributes", &r->attrs)) < 0 ||
		    (rc = dec_u32(d, res, "droppedAttributesCount", &r->dropped_attrs)) < 0)
			return rc;
		pop(d);
	}
	if ((rc = resource_ensure_service_name(d->b, r)) < 0)
		return rc;
	if ((rc = get_array(d, obj, "scopeSpans", &scopes)) < 0 || !scopes)
		return rc;
	push_key(d, "scopeSpans");
	for (size_t i = 0; i < json_array_size(scopes); i++) {
		json_t *e;
		if ((rc = get_elem(d, scopes, i, &e)) < 0)
			return rc;
		if (!e)
			continue;
		push_idx(d, i);
		if ((rc = dec_scope_spans(d, e, ri)) < 0)
			return rc;
		pop(d);
	}
	pop(d);
	return 0;
}

static int decode_request_json(struct slice body, struct span_batch *out, struct decode_error *err)
{
	json_error_t jerr;
	struct oj dec = {.b = out, .err = err}, *d = &dec;
	json_t *arr;
	int rc = 0;
	err->msg[0] = 0;
	err->offset = 0;
	json_t *root = json_loadb((const char *)body.p, body.len, JSON_ALLOW_NUL, &jerr);
	if (!root) {
		snprintf(err->msg, sizeof err->msg, "invalid JSON at line %d column %d: %s", jerr.line, jerr.column,
			 jerr.text);
		err->offset = jerr.position > 0 ? (size_t)jerr.position : 0;
		return CLEW_EPARSE;
	}
	if (!json_is_object(root)) {
		rc = fail(d, "expected a JSON object (ExportTraceServiceRequest)");
		goto out;
	}
	if ((rc = get_array(d, root, "resourceSpans", &arr)) < 0 || !arr)
		goto out;
	push_key(d, "resourceSpans");
	for (size_t i = 0; i < json_array_size(arr); i++) {
		json_t *e;
		if ((rc = get_elem(d, arr, i, &e)) < 0)
			goto out;
		if (!e)
			continue;
		push_idx(d, i);
		if ((rc = dec_resource_spans(d, e)) < 0)
			goto out;
		pop(d);
	}
out:
	if (rc == CLEW_ENOMEM)
		snprintf(err->msg, sizeof err->msg, "out of memory decoding the request");
	json_decref(root);
	return rc;
}

int otlp_json_decode_request(struct slice body, struct span_batch *out, struct decode_error *err)
{
	/* jansson's nodes live in a scratch arena for the length of the decode */
	struct arena scratch;
	json_alloc_begin(&scratch, body.len);
	int rc = decode_request_json(body, out, err);
	json_alloc_end(&scratch);
	return rc;
}
