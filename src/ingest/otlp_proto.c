/* OTLP protobuf decoder: ExportTraceServiceRequest bytes into a span_batch,
 * the first stage of protobuf ingest (net/ hands the body here; store/ takes
 * the batch). Zero-copy: strings and bytes are slices into the body. One
 * hand-written function per message, each a switch on the tag, with no
 * dispatch through tables on the hot path. Repeated elements (attributes,
 * AnyValue arrays, events, links) are collected on scratch stacks that live
 * for one call and then copied once, exactly sized, into the batch arena.
 * Errors are recorded where they happen and get their path
 * ("resource_spans[0].scope_spans[1].spans[2]...") while unwinding, so the
 * fast path pays nothing for good messages. */
#include "ingest/otlp_proto.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "base/err.h"

enum { WT_VARINT = 0, WT_I64 = 1, WT_LEN = 2, WT_SGROUP = 3, WT_EGROUP = 4, WT_I32 = 5 };

/* Message types, for the schema table used by otlp_proto_walk and by the
 * decoder's slow path (unknown fields, wrong wire types). */
enum msg_type {
	M_NONE,
	M_REQUEST,
	M_RESOURCE_SPANS,
	M_RESOURCE,
	M_SCOPE_SPANS,
	M_SCOPE,
	M_SPAN,
	M_EVENT,
	M_LINK,
	M_STATUS,
	M_KEYVALUE,
	M_ANYVALUE,
	M_ARRAY,
	M_KVLIST,
	M__COUNT
};

#define MAX_FIELD 16

struct field_desc {
	const char *name; /* NULL: not a field of this message */
	uint8_t wt;
	uint8_t child; /* enum msg_type of a submessage field, M_NONE otherwise */
};

#define F(n, w, c) {n, w, c}
static const struct field_desc schema[M__COUNT][MAX_FIELD + 1] = {
	[M_REQUEST] = {[1] = F("resource_spans", WT_LEN, M_RESOURCE_SPANS)},
	[M_RESOURCE_SPANS] = {[1] = F("resource", WT_LEN, M_RESOURCE),
			      [2] = F("scope_spans", WT_LEN, M_SCOPE_SPANS),
			      [3] = F("schema_url", WT_LEN, M_NONE)},
	[M_RESOURCE] = {[1] = F("attributes", WT_LEN, M_KEYVALUE),
			[2] = F("dropped_attributes_count", WT_VARINT, M_NONE)},
	[M_SCOPE_SPANS] = {[1] = F("scope", WT_LEN, M_SCOPE),
			   [2] = F("spans", WT_LEN, M_SPAN),
			   [3] = F("schema_url", WT_LEN, M_NONE)},
	[M_SCOPE] = {[1] = F("name", WT_LEN, M_NONE),
		     [2] = F("version", WT_LEN, M_NONE),
		     [3] = F("attributes", WT_LEN, M_KEYVALUE),
		     [4] = F("dropped_attributes_count", WT_VARINT, M_NONE)},
	[M_SPAN] = {[1] = F("trace_id", WT_LEN, M_NONE),
		    [2] = F("span_id", WT_LEN, M_NONE),
		    [3] = F("trace_state", WT_LEN, M_NONE),
		    [4] = F("parent_span_id", WT_LEN, M_NONE),
		    [5] = F("name", WT_LEN, M_NONE),
		    [6] = F("kind", WT_VARINT, M_NONE),
		    [7] = F("start_time_unix_nano", WT_I64, M_NONE),
		    [8] = F("end_time_unix_nano", WT_I64, M_NONE),
		    [9] = F("attributes", WT_LEN, M_KEYVALUE),
		    [10] = F("dropped_attributes_count", WT_VARINT, M_NONE),
		    [11] = F("events", WT_LEN, M_EVENT),
		    [12] = F("dropped_events_count", WT_VARINT, M_NONE),
		    [13] = F("links", WT_LEN, M_LINK),
		    [14] = F("dropped_links_count", WT_VARINT, M_NONE),
		    [15] = F("status", WT_LEN, M_STATUS),
		    [16] = F("flags", WT_I32, M_NONE)},
	[M_EVENT] = {[1] = F("time_unix_nano", WT_I64, M_NONE),
		     [2] = F("name", WT_LEN, M_NONE),
		     [3] = F("attributes", WT_LEN, M_KEYVALUE),
		     [4] = F("dropped_attributes_count", WT_VARINT, M_NONE)},
	[M_LINK] = {[1] = F("trace_id", WT_LEN, M_NONE),
		    [2] = F("span_id", WT_LEN, M_NONE),
		    [3] = F("trace_state", WT_LEN, M_NONE),
		    [4] = F("attributes", WT_LEN, M_KEYVALUE),
		    [5] = F("dropped_attributes_count", WT_VARINT, M_NONE),
		    [6] = F("flags", WT_I32, M_NONE)},
	[M_STATUS] = {[2] = F("message", WT_LEN, M_NONE), [3] = F("code", WT_VARINT, M_NONE)},
	[M_KEYVALUE] = {[1] = F("key", WT_LEN, M_NONE), [2] = F("value", WT_LEN, M_ANYVALUE)},
	[M_ANYVALUE] = {[1] = F("string_value", WT_LEN, M_NONE),
			[2] = F("bool_value", WT_VARINT, M_NONE),
			[3] = F("int_value", WT_VARINT, M_NONE),
			[4] = F("double_value", WT_I64, M_NONE),
			[5] = F("array_value", WT_LEN, M_ARRAY),
			[6] = F("kvlist_value", WT_LEN, M_KVLIST),
			[7] = F("bytes_value", WT_LEN, M_NONE)},
	[M_ARRAY] = {[1] = F("values", WT_LEN, M_ANYVALUE)},
	[M_KVLIST] = {[1] = F("values", WT_LEN, M_KEYVALUE)},
};
#undef F

/* ---- reading the wire format ------------------------------------------ */

/* A varint of two or more bytes; NULL when truncated or over 10 bytes. */
static const uint8_t *varint_slow(const uint8_t *p, const uint8_t *end, uint64_t *v)
{
	uint64_t x = 0;
	for (unsigned i = 0; i < 10; i++) {
		if (p >= end)
			return NULL;
		uint8_t c = *p++;
		x |= (uint64_t)(c & 0x7f) << (7 * i); /* the 10th byte keeps only bit 63 */
		if (!(c & 0x80)) {
			*v = x;
			return p;
		}
	}
	return NULL;
}

static inline const uint8_t *rd_varint(const uint8_t *p, const uint8_t *end, uint64_t *v)
{
	if (p < end && *p < 0x80) {
		*v = *p;
		return p + 1;
	}
	return varint_slow(p, end, v);
}

static uint64_t load_le64(const uint8_t *p)
{
	uint64_t v;
	memcpy(&v, p, 8);
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
	v = __builtin_bswap64(v);
#endif
	return v;
}

static uint32_t load_le32(const uint8_t *p)
{
	uint32_t v;
	memcpy(&v, p, 4);
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
	v = __builtin_bswap32(v);
#endif
	return v;
}

/* The end of s; an empty slice may have a NULL pointer. */
static inline const uint8_t *slice_end(struct slice s)
{
	return s.len ? s.p + s.len : s.p;
}

/* ---- decoder state and errors ----------------------------------------- */

struct path_comp {
	const char *name;
	uint32_t idx; /* UINT32_MAX: not an element of a repeated field */
};

#define PATH_MAX_COMPS 128

struct dec {
	const uint8_t *base; /* start of the input, for offsets */
	struct span_batch *b;
	struct decode_error *err;
	/* scratch stacks, one call long; see the file comment */
	struct attr *attrs;
	uint32_t n_attrs, cap_attrs;
	struct any_value *anys;
	uint32_t n_anys, cap_anys;
	struct span_event *events;
	uint32_t n_events, cap_events;
	struct span_link *links;
	uint32_t n_links, cap_links;
	size_t scratch_bytes, scratch_max;
	/* error path, innermost first, filled while unwinding */
	struct path_comp path[PATH_MAX_COMPS];
	int n_path;
	char what[192];
};

static void dec_init(struct dec *d, struct slice in, struct span_batch *b, struct decode_error *err)
{
	memset(d, 0, offsetof(struct dec, path));
	d->n_path = 0;
	d->what[0] = 0;
	d->base = in.p;
	d->b = b;
	d->err = err;
	d->scratch_max = b->arena->cap_bytes;
	if (err) {
		err->msg[0] = 0;
		err->offset = 0;
	}
}

static void dec_free(struct dec *d)
{
	free(d->attrs);
	free(d->anys);
	free(d->events);
	free(d->links);
}

__attribute__((format(printf, 3, 4), noinline, cold)) static void fail(struct dec *d, const uint8_t *at,
								      const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(d->what, sizeof d->what, fmt, ap);
	va_end(ap);
	if (d->err)
		d->err->offset = (size_t)(at - d->base);
}

/* Record a parse error; the constant result lets the compiler see that
 * every failing path returns a negative code. */
#define FAIL(...) (fail(__VA_ARGS__), CLEW_EPARSE)

__attribute__((noinline, cold)) static void varint_fail(struct dec *d, const uint8_t *at, const uint8_t *end)
{
	/* varint_slow failed: either no terminating byte before end, or ten
	 * bytes all with the continuation bit */
	if (end - at >= 10)
		fail(d, at, "varint longer than 10 bytes");
	else
		fail(d, at, "truncated varint");
}

#define VARINT_FAIL(d, at, end) (varint_fail(d, at, end), CLEW_EPARSE)

/* Add a path component while a parse error unwinds; returns rc. */
__attribute__((noinline, cold)) static int path_add(struct dec *d, int rc, const char *name, uint32_t idx)
{
	if (rc == CLEW_EPARSE && d->n_path < PATH_MAX_COMPS)
		d->path[d->n_path++] = (struct path_comp){name, idx};
	return rc;
}

static inline int path_err(struct dec *d, int rc, const char *name, uint32_t idx)
{
	return rc == CLEW_EPARSE ? path_add(d, rc, name, idx) : rc;
}

/* A parse error raised at this level while reading field tag of message
 * m (nothing inside has named itself yet): name the field, with idx for an
 * element of a repeated field. */
__attribute__((noinline, cold)) static int field_err_slow(struct dec *d, int rc, enum msg_type m, uint32_t tag,
							 uint32_t idx)
{
	uint32_t field = tag >> 3;
	if (d->n_path == 0 && field >= 1 && field <= MAX_FIELD && schema[m][field].name)
		return path_add(d, rc, schema[m][field].name, schema[m][field].child != M_NONE ? idx : UINT32_MAX);
	return rc;
}

static inline int field_err(struct dec *d, int rc, enum msg_type m, uint32_t tag, uint32_t idx)
{
	return rc == CLEW_EPARSE ? field_err_slow(d, rc, m, tag, idx) : rc;
}

/* Join the path (outermost first) and the reason into err->msg. */
static void dec_finish_error(struct dec *d)
{
	if (!d->err)
		return;
	char path[1024];
	size_t n = 0;
	path[0] = 0;
	for (int i = d->n_path - 1; i >= 0 && n < sizeof path; i--) {
		const struct path_comp *c = &d->path[i];
		int w;
		if (c->idx == UINT32_MAX)
			w = snprintf(path + n, sizeof path - n, "%s%s", n ? "." : "", c->name);
		else
			w = snprintf(path + n, sizeof path - n, "%s%s[%u]", n ? "." : "", c->name, c->idx);
		if (w < 0)
			break;
		n += (size_t)w;
	}
	if (n >= sizeof path)
		n = sizeof path - 1;
	size_t room = sizeof d->err->msg - strlen(d->what) - 40;
	if (n > room && room > 40) {
		/* keep the head and the tail of a very deep path */
		size_t head = room / 3, tail = room - head - 3;
		memmove(path + head + 3, path + n - tail, tail + 1);
		memcpy(path + head, "...", 3);
		n = head + 3 + tail;
	}
	snprintf(d->err->msg, sizeof d->err->msg, "%.*s%s%s (at byte %zu)", (int)n, path, n ? ": " : "", d->what,
		 d->err->offset);
}

/* ---- scratch stacks --------------------------------------------------- */

static int scratch_grow(struct dec *d, void **items, uint32_t *cap, size_t size)
{
	if (*cap >= UINT32_MAX / 2)
		return CLEW_ENOMEM;
	uint32_t ncap = *cap ? *cap * 2 : 32;
	size_t old = (size_t)*cap * size, bytes = (size_t)ncap * size;
	if (d->scratch_max && d->scratch_bytes - old + bytes > d->scratch_max)
		return CLEW_ENOMEM;
	void *p = try_realloc(*items, bytes);
	if (!p)
		return CLEW_ENOMEM;
	d->scratch_bytes = d->scratch_bytes - old + bytes;
	*items = p;
	*cap = ncap;
	return 0;
}

static inline int push_attr(struct dec *d, const struct attr *a)
{
	if (d->n_attrs == d->cap_attrs && scratch_grow(d, (void **)&d->attrs, &d->cap_attrs, sizeof *a) < 0)
		return CLEW_ENOMEM;
	d->attrs[d->n_attrs++] = *a;
	return 0;
}

static inline int push_any(struct dec *d, const struct any_value *v)
{
	if (d->n_anys == d->cap_anys && scratch_grow(d, (void **)&d->anys, &d->cap_anys, sizeof *v) < 0)
		return CLEW_ENOMEM;
	d->anys[d->n_anys++] = *v;
	return 0;
}

static inline int push_event(struct dec *d, const struct span_event *e)
{
	if (d->n_events == d->cap_events &&
	    scratch_grow(d, (void **)&d->events, &d->cap_events, sizeof *e) < 0)
		return CLEW_ENOMEM;
	d->events[d->n_events++] = *e;
	return 0;
}

static inline int push_link(struct dec *d, const struct span_link *l)
{
	if (d->n_links == d->cap_links && scratch_grow(d, (void **)&d->links, &d->cap_links, sizeof *l) < 0)
		return CLEW_ENOMEM;
	d->links[d->n_links++] = *l;
	return 0;
}

/* Copy elements base .. base+n of a scratch stack into the arena; NULL for
 * n == 0, and *rc set to CLEW_ENOMEM when the arena refuses. */
static void *to_arena(struct dec *d, const void *stack, uint32_t base, uint32_t n, size_t size, int *rc)
{
	if (n == 0)
		return NULL; /* the stack may not even be allocated */
	const uint8_t *items = (const uint8_t *)stack + (size_t)base * size;
	void *p = arena_alloc(d->b->arena, (size_t)n * size);
	if (!p) {
		*rc = CLEW_ENOMEM;
		return NULL;
	}
	memcpy(p, items, (size_t)n * size);
	return p;
}

static int pop_attrs(struct dec *d, uint32_t base, struct attr_list *out)
{
	int rc = 0;
	uint32_t n = d->n_attrs - base;
	out->items = to_arena(d, d->attrs, base, n, sizeof *d->attrs, &rc);
	out->n = rc ? 0 : n;
	d->n_attrs = base;
	return rc;
}

/* Put an already decoded list back on the stack, so that a message that
 * appears twice (proto merge) accumulates its repeated fields. */
static int repush_attrs(struct dec *d, const struct attr_list *l)
{
	for (uint32_t i = 0; i < l->n; i++)
		if (push_attr(d, &l->items[i]) < 0)
			return CLEW_ENOMEM;
	return 0;
}

/* ---- reading fields with error reporting ------------------------------ */

static inline int get_tag(struct dec *d, const uint8_t **pp, const uint8_t *end, uint32_t *tag)
{
	const uint8_t *p = *pp;
	if (*p < 0x80) { /* callers check p < end */
		*tag = *p;
		*pp = p + 1;
		return 0;
	}
	uint64_t v;
	p = varint_slow(p, end, &v);
	if (!p)
		return VARINT_FAIL(d, *pp, end);
	if (v > UINT32_MAX || (v >> 3) == 0)
		return FAIL(d, *pp, "invalid field tag %llu", (unsigned long long)v);
	*tag = (uint32_t)v;
	*pp = p;
	return 0;
}

static inline int get_varint(struct dec *d, const uint8_t **pp, const uint8_t *end, uint64_t *v)
{
	const uint8_t *p = rd_varint(*pp, end, v);
	if (!p)
		return VARINT_FAIL(d, *pp, end);
	*pp = p;
	return 0;
}

static inline int get_bytes(struct dec *d, const uint8_t **pp, const uint8_t *end, struct slice *out)
{
	uint64_t n;
	const uint8_t *p = rd_varint(*pp, end, &n);
	if (!p)
		return VARINT_FAIL(d, *pp, end);
	if (n > (uint64_t)(end - p))
		return FAIL(d, *pp, "length %llu runs past the end of the message", (unsigned long long)n);
	out->p = p;
	out->len = (size_t)n;
	*pp = p + n;
	return 0;
}

static inline int get_fixed64(struct dec *d, const uint8_t **pp, const uint8_t *end, uint64_t *v)
{
	if (end - *pp < 8)
		return FAIL(d, *pp, "fixed64 value runs past the end of the message");
	*v = load_le64(*pp);
	*pp += 8;
	return 0;
}

static inline int get_fixed32(struct dec *d, const uint8_t **pp, const uint8_t *end, uint32_t *v)
{
	if (end - *pp < 4)
		return FAIL(d, *pp, "fixed32 value runs past the end of the message");
	*v = load_le32(*pp);
	*pp += 4;
	return 0;
}

/* A field the fast path did not take: unknown (skipped), a known field with
 * the wrong wire type, a group or an invalid wire type (errors). at is the
 * start of the tag, *pp just after it. */
__attribute__((noinline)) static int skip_field(struct dec *d, const uint8_t *at, const uint8_t **pp,
						const uint8_t *end, uint32_t tag, enum msg_type m)
{
	uint32_t field = tag >> 3, wt = tag & 7;
	if (field == 0)
		return FAIL(d, at, "invalid field number 0");
	if (field <= MAX_FIELD && schema[m][field].name && schema[m][field].wt != wt)
		return path_add(d, FAIL(d, at, "field %u has wire type %u, expected %u", field, wt, schema[m][field].wt),
				schema[m][field].name, UINT32_MAX);
	uint64_t v;
	struct slice s;
	switch (wt) {
	case WT_VARINT:
		return get_varint(d, pp, end, &v);
	case WT_I64:
		return get_fixed64(d, pp, end, &v);
	case WT_LEN:
		return get_bytes(d, pp, end, &s);
	case WT_I32: {
		uint32_t w;
		return get_fixed32(d, pp, end, &w);
	}
	case WT_SGROUP:
	case WT_EGROUP:
		return FAIL(d, at, "field %u uses a group wire type, which OTLP does not use", field);
	default:
		return FAIL(d, at, "field %u has invalid wire type %u", field, wt);
	}
}

#define TRY(x)                                                                                             \
	do {                                                                                               \
		if ((rc = (x)) < 0)                                                                        \
			goto out;                                                                          \
	} while (0)

/* ---- messages --------------------------------------------------------- */

static int dec_any(struct dec *d, const uint8_t *p, const uint8_t *end, struct any_value *v, int depth);

static int dec_keyvalue(struct dec *d, const uint8_t *p, const uint8_t *end, struct attr *kv, int depth)
{
	int rc = 0;
	uint32_t tag = 0;
	struct slice s;
	kv->key = (struct slice){0};
	kv->value.type = ANY_EMPTY;
	while (p < end) {
		const uint8_t *at = p;
		tag = 0;
		TRY(get_tag(d, &p, end, &tag));
		switch (tag) {
		case 0x0a:
			TRY(get_bytes(d, &p, end, &kv->key));
			break;
		case 0x12:
			TRY(get_bytes(d, &p, end, &s));
			if ((rc = dec_any(d, s.p, s.p + s.len, &kv->value, depth)) < 0)
				return path_err(d, rc, "value", UINT32_MAX);
			break;
		default:
			TRY(skip_field(d, at, &p, end, tag, M_KEYVALUE));
		}
	}
out:
	return field_err(d, rc, M_KEYVALUE, tag, UINT32_MAX);
}

/* A repeated KeyValue field: decode the element and push it on the
 * attribute stack above base. */
static inline int dec_attr_elem(struct dec *d, struct slice msg, uint32_t base, int depth)
{
	struct attr kv;
	int rc = dec_keyvalue(d, msg.p, msg.p + msg.len, &kv, depth);
	if (rc < 0)
		return path_err(d, rc, depth > 1 ? "values" : "attributes", d->n_attrs - base);
	return push_attr(d, &kv);
}

static int dec_array(struct dec *d, const uint8_t *p, const uint8_t *end, struct any_value *v, int depth)
{
	int rc = 0;
	uint32_t tag = 0;
	uint32_t base = d->n_anys;
	struct slice s;
	while (p < end) {
		const uint8_t *at = p;
		tag = 0;
		TRY(get_tag(d, &p, end, &tag));
		if (tag == 0x0a) {
			struct any_value item;
			TRY(get_bytes(d, &p, end, &s));
			if ((rc = dec_any(d, s.p, s.p + s.len, &item, depth + 1)) < 0)
				return path_err(d, rc, "values", d->n_anys - base);
			TRY(push_any(d, &item));
		} else {
			TRY(skip_field(d, at, &p, end, tag, M_ARRAY));
		}
	}
	uint32_t n = d->n_anys - base;
	v->type = ANY_ARRAY;
	v->u.array.items = to_arena(d, d->anys, base, n, sizeof *d->anys, &rc);
	v->u.array.n = n;
	d->n_anys = base;
out:
	return field_err(d, rc, M_ARRAY, tag, d->n_anys - base);
}

static int dec_kvlist(struct dec *d, const uint8_t *p, const uint8_t *end, struct any_value *v, int depth)
{
	int rc = 0;
	uint32_t tag = 0;
	uint32_t base = d->n_attrs;
	struct slice s;
	while (p < end) {
		const uint8_t *at = p;
		tag = 0;
		TRY(get_tag(d, &p, end, &tag));
		if (tag == 0x0a) {
			TRY(get_bytes(d, &p, end, &s));
			TRY(dec_attr_elem(d, s, base, depth + 1));
		} else {
			TRY(skip_field(d, at, &p, end, tag, M_KVLIST));
		}
	}
	struct attr_list l;
	TRY(pop_attrs(d, base, &l));
	v->type = ANY_KVLIST;
	v->u.kvlist.items = l.items;
	v->u.kvlist.n = l.n;
out:
	return field_err(d, rc, M_KVLIST, tag, d->n_attrs - base);
}

static int dec_any(struct dec *d, const uint8_t *p, const uint8_t *end, struct any_value *v, int depth)
{
	int rc = 0;
	uint32_t tag = 0;
	uint64_t x;
	struct slice s;
	v->type = ANY_EMPTY;
	if (depth > OTLP_MAX_ANY_DEPTH)
		return FAIL(d, p, "AnyValue nested deeper than %d levels", OTLP_MAX_ANY_DEPTH);
	while (p < end) {
		const uint8_t *at = p;
		tag = 0;
		TRY(get_tag(d, &p, end, &tag));
		switch (tag) {
		case 0x0a:
			TRY(get_bytes(d, &p, end, &v->u.str));
			v->type = ANY_STRING;
			break;
		case 0x10:
			TRY(get_varint(d, &p, end, &x));
			v->type = ANY_BOOL;
			v->u.b = x != 0;
			break;
		case 0x18:
			TRY(get_varint(d, &p, end, &x));
			v->type = ANY_INT;
			v->u.i = (int64_t)x;
			break;
		case 0x21:
			TRY(get_fixed64(d, &p, end, &x));
			v->type = ANY_DOUBLE;
			memcpy(&v->u.d, &x, sizeof x);
			break;
		case 0x2a:
			TRY(get_bytes(d, &p, end, &s));
			if ((rc = dec_array(d, s.p, s.p + s.len, v, depth)) < 0)
				return path_err(d, rc, "array_value", UINT32_MAX);
			break;
		case 0x32:
			TRY(get_bytes(d, &p, end, &s));
			if ((rc = dec_kvlist(d, s.p, s.p + s.len, v, depth)) < 0)
				return path_err(d, rc, "kvlist_value", UINT32_MAX);
			break;
		case 0x3a:
			TRY(get_bytes(d, &p, end, &v->u.str));
			v->type = ANY_BYTES;
			break;
		default:
			TRY(skip_field(d, at, &p, end, tag, M_ANYVALUE));
		}
	}
out:
	return field_err(d, rc, M_ANYVALUE, tag, UINT32_MAX);
}

static int dec_status(struct dec *d, const uint8_t *p, const uint8_t *end, struct span *s)
{
	int rc = 0;
	uint32_t tag = 0;
	uint64_t x;
	while (p < end) {
		const uint8_t *at = p;
		tag = 0;
		TRY(get_tag(d, &p, end, &tag));
		switch (tag) {
		case 0x12:
			TRY(get_bytes(d, &p, end, &s->status_message));
			break;
		case 0x18:
			TRY(get_varint(d, &p, end, &x));
			/* codes this version of OTLP does not define read as unset */
			s->status_code = x <= STATUS_ERROR ? (uint8_t)x : STATUS_UNSET;
			break;
		default:
			TRY(skip_field(d, at, &p, end, tag, M_STATUS));
		}
	}
out:
	return field_err(d, rc, M_STATUS, tag, UINT32_MAX);
}

static int dec_event(struct dec *d, const uint8_t *p, const uint8_t *end, struct span_event *e)
{
	int rc = 0;
	uint32_t tag = 0;
	uint64_t x;
	struct slice s;
	uint32_t base = d->n_attrs;
	memset(e, 0, sizeof *e);
	while (p < end) {
		const uint8_t *at = p;
		tag = 0;
		TRY(get_tag(d, &p, end, &tag));
		switch (tag) {
		case 0x09:
			TRY(get_fixed64(d, &p, end, &x));
			e->time_unix_ns = (int64_t)x;
			break;
		case 0x12:
			TRY(get_bytes(d, &p, end, &e->name));
			break;
		case 0x1a:
			TRY(get_bytes(d, &p, end, &s));
			TRY(dec_attr_elem(d, s, base, 1));
			break;
		case 0x20:
			TRY(get_varint(d, &p, end, &x));
			e->dropped_attrs = (uint32_t)x;
			break;
		default:
			TRY(skip_field(d, at, &p, end, tag, M_EVENT));
		}
	}
	TRY(pop_attrs(d, base, &e->attrs));
out:
	return field_err(d, rc, M_EVENT, tag, d->n_attrs - base);
}

static int dec_link(struct dec *d, const uint8_t *p, const uint8_t *end, struct span_link *l, struct span *sp)
{
	int rc = 0;
	uint32_t tag = 0;
	uint64_t x;
	struct slice s;
	uint32_t base = d->n_attrs;
	size_t tid_len = 0, sid_len = 0;
	memset(l, 0, sizeof *l);
	while (p < end) {
		const uint8_t *at = p;
		tag = 0;
		TRY(get_tag(d, &p, end, &tag));
		switch (tag) {
		case 0x0a:
			TRY(get_bytes(d, &p, end, &s));
			tid_len = s.len;
			if (s.len == 16)
				memcpy(l->trace_id, s.p, 16);
			break;
		case 0x12:
			TRY(get_bytes(d, &p, end, &s));
			sid_len = s.len;
			if (s.len == 8)
				memcpy(l->span_id, s.p, 8);
			break;
		case 0x1a:
			TRY(get_bytes(d, &p, end, &l->trace_state));
			break;
		case 0x22:
			TRY(get_bytes(d, &p, end, &s));
			TRY(dec_attr_elem(d, s, base, 1));
			break;
		case 0x28:
			TRY(get_varint(d, &p, end, &x));
			l->dropped_attrs = (uint32_t)x;
			break;
		case 0x35: {
			uint32_t w;
			TRY(get_fixed32(d, &p, end, &w));
			l->flags = w;
			break;
		}
		default:
			TRY(skip_field(d, at, &p, end, tag, M_LINK));
		}
	}
	TRY(pop_attrs(d, base, &l->attrs));
	if (!sp->invalid_reason) {
		if (tid_len != 16) {
			memset(l->trace_id, 0, 16);
			sp->invalid_reason = "link trace_id must be 16 bytes";
		} else if (sid_len != 8) {
			memset(l->span_id, 0, 8);
			sp->invalid_reason = "link span_id must be 8 bytes";
		}
	}
out:
	return field_err(d, rc, M_LINK, tag, d->n_attrs - base);
}

static int dec_span(struct dec *d, const uint8_t *p, const uint8_t *end, struct span *sp)
{
	int rc = 0;
	uint32_t tag = 0;
	uint64_t x;
	struct slice s;
	uint32_t abase = d->n_attrs, ebase = d->n_events, lbase = d->n_links;
	size_t tid_len = 0, sid_len = 0, pid_len = 0;
	sp->raw = slice_make(p, (size_t)(end - p));
	while (p < end) {
		const uint8_t *at = p;
		tag = 0;
		TRY(get_tag(d, &p, end, &tag));
		switch (tag) {
		case 0x0a:
			TRY(get_bytes(d, &p, end, &s));
			tid_len = s.len;
			if (s.len == 16)
				memcpy(sp->trace_id, s.p, 16);
			break;
		case 0x12:
			TRY(get_bytes(d, &p, end, &s));
			sid_len = s.len;
			if (s.len == 8)
				memcpy(sp->span_id, s.p, 8);
			break;
		case 0x1a:
			TRY(get_bytes(d, &p, end, &sp->trace_state));
			break;
		case 0x22:
			TRY(get_bytes(d, &p, end, &s));
			pid_len = s.len;
			if (s.len == 8)
				memcpy(sp->parent_span_id, s.p, 8);
			break;
		case 0x2a:
			TRY(get_bytes(d, &p, end, &sp->name));
			break;
		case 0x30:
			TRY(get_varint(d, &p, end, &x));
			/* kinds this version of OTLP does not define read as unspecified */
			sp->kind = x <= SPAN_KIND_CONSUMER ? (uint8_t)x : SPAN_KIND_UNSPECIFIED;
			break;
		case 0x39:
			TRY(get_fixed64(d, &p, end, &x));
			sp->start_unix_ns = (int64_t)x;
			break;
		case 0x41:
			TRY(get_fixed64(d, &p, end, &x));
			sp->end_unix_ns = (int64_t)x;
			break;
		case 0x4a:
			TRY(get_bytes(d, &p, end, &s));
			TRY(dec_attr_elem(d, s, abase, 1));
			break;
		case 0x50:
			TRY(get_varint(d, &p, end, &x));
			sp->dropped_attrs = (uint32_t)x;
			break;
		case 0x5a: {
			struct span_event e;
			TRY(get_bytes(d, &p, end, &s));
			if ((rc = dec_event(d, s.p, s.p + s.len, &e)) < 0)
				return path_err(d, rc, "events", d->n_events - ebase);
			TRY(push_event(d, &e));
			break;
		}
		case 0x60:
			TRY(get_varint(d, &p, end, &x));
			sp->dropped_events = (uint32_t)x;
			break;
		case 0x6a: {
			struct span_link l;
			TRY(get_bytes(d, &p, end, &s));
			if ((rc = dec_link(d, s.p, s.p + s.len, &l, sp)) < 0)
				return path_err(d, rc, "links", d->n_links - lbase);
			TRY(push_link(d, &l));
			break;
		}
		case 0x70:
			TRY(get_varint(d, &p, end, &x));
			sp->dropped_links = (uint32_t)x;
			break;
		case 0x7a:
			TRY(get_bytes(d, &p, end, &s));
			if ((rc = dec_status(d, s.p, s.p + s.len, sp)) < 0)
				return path_err(d, rc, "status", UINT32_MAX);
			break;
		case 0x85: {
			uint32_t w;
			TRY(get_fixed32(d, &p, end, &w));
			sp->flags = w;
			break;
		}
		default:
			TRY(skip_field(d, at, &p, end, tag, M_SPAN));
		}
	}
	TRY(pop_attrs(d, abase, &sp->attrs));
	uint32_t ne = d->n_events - ebase, nl = d->n_links - lbase;
	sp->events = to_arena(d, d->events, ebase, ne, sizeof *d->events, &rc);
	sp->n_events = ne;
	d->n_events = ebase;
	sp->links = to_arena(d, d->links, lbase, nl, sizeof *d->links, &rc);
	sp->n_links = nl;
	d->n_links = lbase;
	if (rc < 0)
		goto out;
	/* a link's bad id may already be the reason; the span's own ids come first */
	if (tid_len != 16) {
		memset(sp->trace_id, 0, 16);
		sp->invalid_reason = "trace_id must be 16 bytes";
	} else if (sid_len != 8) {
		memset(sp->span_id, 0, 8);
		sp->invalid_reason = "span_id must be 8 bytes";
	} else if (pid_len != 0 && pid_len != 8) {
		memset(sp->parent_span_id, 0, 8);
		sp->invalid_reason = "parent_span_id must be empty or 8 bytes";
	}
	sp->has_parent = pid_len == 8;
	if (!sp->has_parent)
		memset(sp->parent_span_id, 0, 8);
out:
	return field_err(d, rc, M_SPAN, tag,
			 tag == 0x4a   ? d->n_attrs - abase
			 : tag == 0x5a ? d->n_events - ebase
				       : d->n_links - lbase);
}

static int dec_resource(struct dec *d, const uint8_t *p, const uint8_t *end, uint32_t ri)
{
	int rc = 0;
	uint32_t tag = 0;
	uint64_t x;
	struct slice s;
	uint32_t base = d->n_attrs;
	TRY(repush_attrs(d, &d->b->resources[ri].attrs));
	while (p < end) {
		const uint8_t *at = p;
		tag = 0;
		TRY(get_tag(d, &p, end, &tag));
		switch (tag) {
		case 0x0a:
			TRY(get_bytes(d, &p, end, &s));
			TRY(dec_attr_elem(d, s, base, 1));
			break;
		case 0x10:
			TRY(get_varint(d, &p, end, &x));
			d->b->resources[ri].dropped_attrs = (uint32_t)x;
			break;
		default:
			TRY(skip_field(d, at, &p, end, tag, M_RESOURCE));
		}
	}
	TRY(pop_attrs(d, base, &d->b->resources[ri].attrs));
out:
	return field_err(d, rc, M_RESOURCE, tag, d->n_attrs - base);
}

static int dec_scope(struct dec *d, const uint8_t *p, const uint8_t *end, uint32_t si)
{
	int rc = 0;
	uint32_t tag = 0;
	uint64_t x;
	struct slice s;
	struct scope *sc = &d->b->scopes[si]; /* no scope is added while this runs */
	uint32_t base = d->n_attrs;
	TRY(repush_attrs(d, &sc->attrs));
	while (p < end) {
		const uint8_t *at = p;
		tag = 0;
		TRY(get_tag(d, &p, end, &tag));
		switch (tag) {
		case 0x0a:
			TRY(get_bytes(d, &p, end, &sc->name));
			break;
		case 0x12:
			TRY(get_bytes(d, &p, end, &sc->version));
			break;
		case 0x1a:
			TRY(get_bytes(d, &p, end, &s));
			TRY(dec_attr_elem(d, s, base, 1));
			break;
		case 0x20:
			TRY(get_varint(d, &p, end, &x));
			sc->dropped_attrs = (uint32_t)x;
			break;
		default:
			TRY(skip_field(d, at, &p, end, tag, M_SCOPE));
		}
	}
	TRY(pop_attrs(d, base, &sc->attrs));
out:
	return field_err(d, rc, M_SCOPE, tag, d->n_attrs - base);
}

static int dec_scope_spans(struct dec *d, const uint8_t *p, const uint8_t *end, uint32_t ri)
{
	int rc = 0;
	uint32_t tag = 0;
	struct slice s;
	uint32_t n_scope = 0, n_spans = 0;
	if (!span_batch_add_scope(d->b, ri))
		return CLEW_ENOMEM;
	uint32_t si = d->b->n_scopes - 1;
	while (p < end) {
		const uint8_t *at = p;
		tag = 0;
		TRY(get_tag(d, &p, end, &tag));
		switch (tag) {
		case 0x12: {
			TRY(get_bytes(d, &p, end, &s));
			struct span *sp = span_batch_add_span(d->b, si);
			if (!sp)
				return CLEW_ENOMEM;
			if ((rc = dec_span(d, s.p, s.p + s.len, sp)) < 0)
				return path_err(d, rc, "spans", n_spans);
			n_spans++;
			break;
		}
		case 0x0a:
			TRY(get_bytes(d, &p, end, &s));
			if ((rc = dec_scope(d, s.p, s.p + s.len, si)) < 0)
				return path_err(d, rc, "scope", UINT32_MAX);
			/* a scope split over two fields has no single encoding */
			d->b->scopes[si].raw = n_scope++ ? (struct slice){0} : s;
			break;
		case 0x1a:
			TRY(get_bytes(d, &p, end, &d->b->scopes[si].schema_url));
			break;
		default:
			TRY(skip_field(d, at, &p, end, tag, M_SCOPE_SPANS));
		}
	}
out:
	return field_err(d, rc, M_SCOPE_SPANS, tag, n_spans);
}

static int dec_resource_spans(struct dec *d, const uint8_t *p, const uint8_t *end)
{
	int rc = 0;
	uint32_t tag = 0;
	struct slice s;
	uint32_t n_res = 0, n_ss = 0;
	if (!span_batch_add_resource(d->b))
		return CLEW_ENOMEM;
	uint32_t ri = d->b->n_resources - 1;
	while (p < end) {
		const uint8_t *at = p;
		tag = 0;
		TRY(get_tag(d, &p, end, &tag));
		switch (tag) {
		case 0x12:
			TRY(get_bytes(d, &p, end, &s));
			if ((rc = dec_scope_spans(d, s.p, s.p + s.len, ri)) < 0)
				return path_err(d, rc, "scope_spans", n_ss);
			n_ss++;
			break;
		case 0x0a:
			TRY(get_bytes(d, &p, end, &s));
			if ((rc = dec_resource(d, s.p, s.p + s.len, ri)) < 0)
				return path_err(d, rc, "resource", UINT32_MAX);
			d->b->resources[ri].raw = n_res++ ? (struct slice){0} : s;
			break;
		case 0x1a:
			TRY(get_bytes(d, &p, end, &d->b->resources[ri].schema_url));
			break;
		default:
			TRY(skip_field(d, at, &p, end, tag, M_RESOURCE_SPANS));
		}
	}
	TRY(resource_ensure_service_name(d->b, &d->b->resources[ri]));
out:
	return field_err(d, rc, M_RESOURCE_SPANS, tag, n_ss);
}

int otlp_proto_decode_request(struct slice body, struct span_batch *out, struct decode_error *err)
{
	struct dec d;
	int rc = 0;
	uint32_t n_rs = 0, tag = 0;
	const uint8_t *p = body.p, *end = slice_end(body);
	dec_init(&d, body, out, err);
	while (p < end) {
		const uint8_t *at = p;
		tag = 0;
		struct slice s;
		TRY(get_tag(&d, &p, end, &tag));
		if (tag == 0x0a) {
			TRY(get_bytes(&d, &p, end, &s));
			if ((rc = dec_resource_spans(&d, s.p, s.p + s.len)) < 0) {
				path_err(&d, rc, "resource_spans", n_rs);
				goto out;
			}
			n_rs++;
		} else {
			TRY(skip_field(&d, at, &p, end, tag, M_REQUEST));
		}
	}
out:
	field_err(&d, rc, M_REQUEST, tag, n_rs);
	if (rc == CLEW_EPARSE)
		dec_finish_error(&d);
	dec_free(&d);
	return rc;
}

int otlp_proto_decode_span(struct slice msg, struct span_batch *out, uint32_t scope, struct span **span_out,
			   struct decode_error *err)
{
	struct dec d;
	int rc = 0;
	dec_init(&d, msg, out, err);
	struct span *sp = span_batch_add_span(out, scope);
	if (!sp) {
		rc = CLEW_ENOMEM;
		goto out;
	}
	TRY(dec_span(&d, msg.p, slice_end(msg), sp));
	if (span_out)
		*span_out = sp;
out:
	if (rc == CLEW_EPARSE)
		dec_finish_error(&d);
	dec_free(&d);
	return rc;
}

int otlp_proto_decode_resource(struct slice msg, struct span_batch *out, uint32_t *index_out,
			       struct decode_error *err)
{
	struct dec d;
	int rc = 0;
	dec_init(&d, msg, out, err);
	if (!span_batch_add_resource(out)) {
		rc = CLEW_ENOMEM;
		goto out;
	}
	uint32_t ri = out->n_resources - 1;
	TRY(dec_resource(&d, msg.p, slice_end(msg), ri));
	out->resources[ri].raw = msg;
	TRY(resource_ensure_service_name(out, &out->resources[ri]));
	if (index_out)
		*index_out = ri;
out:
	if (rc == CLEW_EPARSE)
		dec_finish_error(&d);
	dec_free(&d);
	return rc;
}

int otlp_proto_decode_scope(struct slice msg, struct span_batch *out, uint32_t resource, uint32_t *index_out,
			    struct decode_error *err)
{
	struct dec d;
	int rc = 0;
	dec_init(&d, msg, out, err);
	if (!span_batch_add_scope(out, resource)) {
		rc = CLEW_ENOMEM;
		goto out;
	}
	uint32_t si = out->n_scopes - 1;
	TRY(dec_scope(&d, msg.p, slice_end(msg), si));
	out->scopes[si].raw = msg;
	if (index_out)
		*index_out = si;
out:
	if (rc == CLEW_EPARSE)
		dec_finish_error(&d);
	dec_free(&d);
	return rc;
}

/* ---- walk ------------------------------------------------------------- */

/* Visit every field of a message of type m and recurse into submessages;
 * returns the number of fields or CLEW_EPARSE. Table driven on purpose: it
 * is the floor the decoder is measured against, not a decoder. */
static long walk(const uint8_t *p, const uint8_t *end, enum msg_type m, int any_depth)
{
	long count = 0;
	if (m == M_ANYVALUE && ++any_depth > OTLP_MAX_ANY_DEPTH)
		return CLEW_EPARSE;
	while (p < end) {
		uint64_t tag, v;
		if (!(p = rd_varint(p, end, &tag)) || tag > UINT32_MAX)
			return CLEW_EPARSE;
		uint32_t field = (uint32_t)(tag >> 3), wt = (uint32_t)(tag & 7);
		const struct field_desc *f = field <= MAX_FIELD ? &schema[m][field] : NULL;
		if (field == 0 || (f && f->name && f->wt != wt))
			return CLEW_EPARSE;
		count++;
		switch (wt) {
		case WT_VARINT:
			if (!(p = rd_varint(p, end, &v)))
				return CLEW_EPARSE;
			break;
		case WT_I64:
			if (end - p < 8)
				return CLEW_EPARSE;
			p += 8;
			break;
		case WT_I32:
			if (end - p < 4)
				return CLEW_EPARSE;
			p += 4;
			break;
		case WT_LEN:
			if (!(p = rd_varint(p, end, &v)) || v > (uint64_t)(end - p))
				return CLEW_EPARSE;
			if (f && f->child != M_NONE) {
				long n = walk(p, p + v, (enum msg_type)f->child, any_depth);
				if (n < 0)
					return n;
				count += n;
			}
			p += v;
			break;
		default:
			return CLEW_EPARSE;
		}
	}
	return count;
}

long otlp_proto_walk(struct slice body)
{
	return walk(body.p, slice_end(body), M_REQUEST, 0);
}
