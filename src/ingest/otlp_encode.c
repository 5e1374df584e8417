/* OTLP protobuf encoder: a span_batch back into ExportTraceServiceRequest
 * (= TracesData) bytes, for Tempo's protobuf trace answers and for tests, and
 * the small response messages of the OTLP receivers. Nested messages are
 * length-prefixed, so every message's size is computed before it is written
 * (a size pass per level; the trees are shallow). Proto3 defaults (zero,
 * empty) are left out, except inside AnyValue where the oneof member is
 * always written. Errors are the output buffer's sticky error. */
#include "ingest/otlp_encode.h"

#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "base/err.h"

enum { WT_VARINT = 0, WT_I64 = 1, WT_LEN = 2, WT_I32 = 5 };

static size_t varint_size(uint64_t v)
{
	size_t n = 1;
	while (v >= 0x80) {
		v >>= 7;
		n++;
	}
	return n;
}

/* Size of a length-delimited field with a payload of n bytes and a
 * one-byte tag (every field number here is below 16 except Span.flags). */
static size_t len_field_size(size_t n)
{
	return 1 + varint_size(n) + n;
}

static void put_tag(struct buf *out, uint32_t field, uint32_t wt)
{
	buf_append_varint(out, (uint64_t)field << 3 | wt);
}

static void put_len(struct buf *out, uint32_t field, size_t n)
{
	put_tag(out, field, WT_LEN);
	buf_append_varint(out, n);
}

static void put_bytes(struct buf *out, uint32_t field, struct slice s)
{
	put_len(out, field, s.len);
	buf_append(out, s.p, s.len);
}

/* Optional (proto3 default empty) string or bytes field. */
static void put_bytes_opt(struct buf *out, uint32_t field, struct slice s)
{
	if (s.len)
		put_bytes(out, field, s);
}

static void put_varint_opt(struct buf *out, uint32_t field, uint64_t v)
{
	if (v) {
		put_tag(out, field, WT_VARINT);
		buf_append_varint(out, v);
	}
}

static void put_fixed64_opt(struct buf *out, uint32_t field, uint64_t v)
{
	if (v) {
		put_tag(out, field, WT_I64);
		buf_append_u64le(out, v);
	}
}

static void put_fixed32_opt(struct buf *out, uint32_t field, uint32_t v)
{
	if (v) {
		put_tag(out, field, WT_I32);
		buf_append_u32le(out, v);
	}
}

static size_t bytes_opt_size(struct slice s)
{
	return s.len ? len_field_size(s.len) : 0;
}

static size_t varint_opt_size(uint64_t v)
{
	return v ? 1 + varint_size(v) : 0;
}

/* ---- sizes ------------------------------------------------------------ */

static size_t any_size(const struct any_value *v);

static size_t kv_size(const struct attr *a)
{
	return bytes_opt_size(a->key) + len_field_size(any_size(&a->value));
}

static size_t attrs_size(const struct attr *items, uint32_t n)
{
	size_t total = 0;
	for (uint32_t i = 0; i < n; i++)
		total += len_field_size(kv_size(&items[i]));
	return total;
}

static size_t any_size(const struct any_value *v)
{
	size_t n = 0;
	switch (v->type) {
	case ANY_STRING:
	case ANY_BYTES:
		return len_field_size(v->u.str.len);
	case ANY_BOOL:
		return 2;
	case ANY_INT:
		return 1 + varint_size((uint64_t)v->u.i);
	case ANY_DOUBLE:
		return 9;
	case ANY_ARRAY:
		for (uint32_t i = 0; i < v->u.array.n; i++)
			n += len_field_size(any_size(&v->u.array.items[i]));
		return len_field_size(n);
	case ANY_KVLIST:
		return len_field_size(attrs_size(v->u.kvlist.items, v->u.kvlist.n));
	default:
		return 0;
	}
}

static size_t event_size(const struct span_event *e)
{
	return (e->time_unix_ns ? 9 : 0) + bytes_opt_size(e->name) + attrs_size(e->attrs.items, e->attrs.n) +
	       varint_opt_size(e->dropped_attrs);
}

static size_t link_size(const struct span_link *l)
{
	return len_field_size(16) + len_field_size(8) + bytes_opt_size(l->trace_state) +
	       attrs_size(l->attrs.items, l->attrs.n) + varint_opt_size(l->dropped_attrs) + (l->flags ? 5 : 0);
}

static size_t status_size(const struct span *s)
{
	return bytes_opt_size(s->status_message) + varint_opt_size(s->status_code);
}

static size_t span_size(const struct span *s)
{
	size_t n = len_field_size(16) + len_field_size(8) + bytes_opt_size(s->trace_state) +
		   (s->has_parent ? len_field_size(8) : 0) + bytes_opt_size(s->name) + varint_opt_size(s->kind) +
		   (s->start_unix_ns ? 9 : 0) + (s->end_unix_ns ? 9 : 0) + attrs_size(s->attrs.items, s->attrs.n) +
		   varint_opt_size(s->dropped_attrs) + varint_opt_size(s->dropped_events) +
		   varint_opt_size(s->dropped_links) + (s->flags ? 6 : 0);
	for (uint32_t i = 0; i < s->n_events; i++)
		n += len_field_size(event_size(&s->events[i]));
	for (uint32_t i = 0; i < s->n_links; i++)
		n += len_field_size(link_size(&s->links[i]));
	size_t st = status_size(s);
	if (st)
		n += len_field_size(st);
	return n;
}

static size_t resource_size(const struct resource *r)
{
	return attrs_size(r->attrs.items, r->attrs.n) + varint_opt_size(r->dropped_attrs);
}

static size_t scope_size(const struct scope *sc)
{
	return bytes_opt_size(sc->name) + bytes_opt_size(sc->version) + attrs_size(sc->attrs.items, sc->attrs.n) +
	       varint_opt_size(sc->dropped_attrs);
}

/* ---- writing ---------------------------------------------------------- */

static void put_any(struct buf *out, const struct any_value *v);

static void put_attrs(struct buf *out, uint32_t field, const struct attr *items, uint32_t n)
{
	for (uint32_t i = 0; i < n && !out->err; i++) {
		const struct attr *a = &items[i];
		put_len(out, field, kv_size(a));
		put_bytes_opt(out, 1, a->key);
		put_len(out, 2, any_size(&a->value));
		put_any(out, &a->value);
	}
}

static void put_any(struct buf *out, const struct any_value *v)
{
	switch (v->type) {
	case ANY_STRING:
		put_bytes(out, 1, v->u.str);
		break;
	case ANY_BOOL:
		put_tag(out, 2, WT_VARINT);
		buf_append_byte(out, v->u.b ? 1 : 0);
		break;
	case ANY_INT:
		put_tag(out, 3, WT_VARINT);
		buf_append_varint(out, (uint64_t)v->u.i);
		break;
	case ANY_DOUBLE: {
		uint64_t bits;
		memcpy(&bits, &v->u.d, sizeof bits);
		put_tag(out, 4, WT_I64);
		buf_append_u64le(out, bits);
		break;
	}
	case ANY_ARRAY: {
		size_t n = 0;
		for (uint32_t i = 0; i < v->u.array.n; i++)
			n += len_field_size(any_size(&v->u.array.items[i]));
		put_len(out, 5, n);
		for (uint32_t i = 0; i < v->u.array.n && !out->err; i++) {
			put_len(out, 1, any_size(&v->u.array.items[i]));
			put_any(out, &v->u.array.items[i]);
		}
		break;
	}
	case ANY_KVLIST:
		put_len(out, 6, attrs_size(v->u.kvlist.items, v->u.kvlist.n));
		put_attrs(out, 1, v->u.kvlist.items, v->u.kvlist.n);
		break;
	case ANY_BYTES:
		put_bytes(out, 7, v->u.str);
		break;
	default:
		break;
	}
}

static void put_span(struct buf *out, const struct span *s)
{
	put_bytes(out, 1, slice_make(s->trace_id, 16));
	put_bytes(out, 2, slice_make(s->span_id, 8));
	put_bytes_opt(out, 3, s->trace_state);
	if (s->has_parent)
		put_bytes(out, 4, slice_make(s->parent_span_id, 8));
	put_bytes_opt(out, 5, s->name);
	put_varint_opt(out, 6, s->kind);
	put_fixed64_opt(out, 7, (uint64_t)s->start_unix_ns);
	put_fixed64_opt(out, 8, (uint64_t)s->end_unix_ns);
	put_attrs(out, 9, s->attrs.items, s->attrs.n);
	put_varint_opt(out, 10, s->dropped_attrs);
	for (uint32_t i = 0; i < s->n_events; i++) {
		const struct span_event *e = &s->events[i];
		put_len(out, 11, event_size(e));
		put_fixed64_opt(out, 1, (uint64_t)e->time_unix_ns);
		put_bytes_opt(out, 2, e->name);
		put_attrs(out, 3, e->attrs.items, e->attrs.n);
		put_varint_opt(out, 4, e->dropped_attrs);
	}
	put_varint_opt(out, 12, s->dropped_events);
	for (uint32_t i = 0; i < s->n_links; i++) {
		const struct span_link *l = &s->links[i];
		put_len(out, 13, link_size(l));
		put_bytes(out, 1, slice_make(l->trace_id, 16));
		put_bytes(out, 2, slice_make(l->span_id, 8));
		put_bytes_opt(out, 3, l->trace_state);
		put_attrs(out, 4, l->attrs.items, l->attrs.n);
		put_varint_opt(out, 5, l->dropped_attrs);
		put_fixed32_opt(out, 6, l->flags);
	}
	put_varint_opt(out, 14, s->dropped_links);
	size_t st = status_size(s);
	if (st) {
		put_len(out, 15, st);
		put_bytes_opt(out, 2, s->status_message);
		put_varint_opt(out, 3, s->status_code);
	}
	put_fixed32_opt(out, 16, s->flags);
}

/* Items grouped by a key: the items of group k are item[start[k] ..
 * start[k+1]), in their original order (a counting sort). */
struct groups {
	uint32_t *start; /* n_groups + 1 */
	uint32_t *item;
};

/* key[i] is the group of item i, or UINT32_MAX to leave it out. */
static int group_by(const uint32_t *key, uint32_t n, uint32_t n_groups, struct groups *g)
{
	uint32_t *pos = NULL;
	g->start = try_calloc((size_t)n_groups + 2, sizeof *g->start);
	g->item = try_malloc(((size_t)n + 1) * sizeof *g->item);
	pos = try_malloc(((size_t)n_groups + 1) * sizeof *pos);
	if (!g->start || !g->item || !pos) {
		free(pos);
		return CLEW_ENOMEM;
	}
	for (uint32_t i = 0; i < n; i++)
		if (key[i] < n_groups)
			g->start[key[i] + 1]++;
	for (uint32_t k = 0; k < n_groups; k++)
		g->start[k + 1] += g->start[k];
	memcpy(pos, g->start, ((size_t)n_groups + 1) * sizeof *pos);
	for (uint32_t i = 0; i < n; i++)
		if (key[i] < n_groups)
			g->item[pos[key[i]]++] = i;
	free(pos);
	return 0;
}

static void groups_free(struct groups *g)
{
	free(g->start);
	free(g->item);
}

static size_t scope_spans_size(const struct span_batch *b, const struct groups *spans, uint32_t i)
{
	const struct scope *sc = &b->scopes[i];
	size_t n = len_field_size(scope_size(sc)) + bytes_opt_size(sc->schema_url);
	for (uint32_t k = spans->start[i]; k < spans->start[i + 1]; k++)
		n += len_field_size(span_size(&b->spans[spans->item[k]]));
	return n;
}

static void put_scope_spans(struct buf *out, const struct span_batch *b, const struct groups *spans, uint32_t i)
{
	const struct scope *sc = &b->scopes[i];
	put_len(out, 2, scope_spans_size(b, spans, i));
	put_len(out, 1, scope_size(sc));
	put_bytes_opt(out, 1, sc->name);
	put_bytes_opt(out, 2, sc->version);
	put_attrs(out, 3, sc->attrs.items, sc->attrs.n);
	put_varint_opt(out, 4, sc->dropped_attrs);
	for (uint32_t k = spans->start[i]; k < spans->start[i + 1] && !out->err; k++) {
		const struct span *s = &b->spans[spans->item[k]];
		put_len(out, 2, span_size(s));
		put_span(out, s);
	}
	put_bytes_opt(out, 3, sc->schema_url);
}

void otlp_encode_request(const struct span_batch *b, struct buf *out)
{
	struct groups spans = {0}, scopes = {0};
	uint32_t *span_key = NULL, *scope_key = NULL, *had_spans = NULL, *had_scopes = NULL;
	if (out->err)
		return;
	span_key = try_malloc(((size_t)b->n_spans + 1) * sizeof *span_key);
	scope_key = try_malloc(((size_t)b->n_scopes + 1) * sizeof *scope_key);
	had_spans = try_calloc((size_t)b->n_scopes + 1, sizeof *had_spans);
	had_scopes = try_calloc((size_t)b->n_resources + 1, sizeof *had_scopes);
	if (!span_key || !scope_key || !had_spans || !had_scopes) {
		out->err = CLEW_ENOMEM;
		goto out;
	}
	for (uint32_t i = 0; i < b->n_spans; i++) {
		const struct span *s = &b->spans[i];
		span_key[i] = s->invalid_reason ? UINT32_MAX : s->scope;
		if (s->scope < b->n_scopes)
			had_spans[s->scope] = 1;
	}
	if (group_by(span_key, b->n_spans, b->n_scopes, &spans) < 0) {
		out->err = CLEW_ENOMEM;
		goto out;
	}
	/* a scope is written when it has a valid span or never had a span */
	for (uint32_t i = 0; i < b->n_scopes; i++) {
		const struct scope *sc = &b->scopes[i];
		bool written = spans.start[i + 1] > spans.start[i] || !had_spans[i];
		scope_key[i] = written ? sc->resource : UINT32_MAX;
		if (sc->resource < b->n_resources)
			had_scopes[sc->resource] = 1;
	}
	if (group_by(scope_key, b->n_scopes, b->n_resources, &scopes) < 0) {
		out->err = CLEW_ENOMEM;
		goto out;
	}
	for (uint32_t r = 0; r < b->n_resources && !out->err; r++) {
		uint32_t first = scopes.start[r], last = scopes.start[r + 1];
		if (first == last && had_scopes[r])
			continue; /* every span of this resource was left out */
		const struct resource *res = &b->resources[r];
		size_t n = len_field_size(resource_size(res)) + bytes_opt_size(res->schema_url);
		for (uint32_t k = first; k < last; k++)
			n += len_field_size(scope_spans_size(b, &spans, scopes.item[k]));
		put_len(out, 1, n);
		put_len(out, 1, resource_size(res));
		put_attrs(out, 1, res->attrs.items, res->attrs.n);
		put_varint_opt(out, 2, res->dropped_attrs);
		for (uint32_t k = first; k < last && !out->err; k++)
			put_scope_spans(out, b, &spans, scopes.item[k]);
		put_bytes_opt(out, 3, res->schema_url);
	}
out:
	groups_free(&spans);
	groups_free(&scopes);
	free(span_key);
	free(scope_key);
	free(had_spans);
	free(had_scopes);
}

void otlp_encode_export_response(int64_t rejected_spans, struct slice error_message, struct buf *out)
{
	if (rejected_spans == 0 && error_message.len == 0)
		return; /* full success: an empty message */
	size_t n = varint_opt_size((uint64_t)rejected_spans) + bytes_opt_size(error_message);
	put_len(out, 1, n);
	put_varint_opt(out, 1, (uint64_t)rejected_spans);
	put_bytes_opt(out, 2, error_message);
}

void otlp_encode_rpc_status(int32_t code, struct slice message, int64_t retry_delay_ms, struct buf *out)
{
	/* int32 fields are sign-extended to 64 bits on the wire */
	put_varint_opt(out, 1, (uint64_t)(int64_t)code);
	put_bytes_opt(out, 2, message);
	if (retry_delay_ms < 0)
		return;
	static const char type_url[] = "type.googleapis.com/google.rpc.RetryInfo";
	int64_t secs = retry_delay_ms / 1000;
	int32_t nanos = (int32_t)(retry_delay_ms % 1000) * 1000000;
	size_t duration = varint_opt_size((uint64_t)secs) + varint_opt_size((uint64_t)(int64_t)nanos);
	size_t retry_info = len_field_size(duration);
	size_t any = len_field_size(sizeof type_url - 1) + len_field_size(retry_info);
	put_len(out, 3, any);
	put_bytes(out, 1, slice_make(type_url, sizeof type_url - 1));
	put_len(out, 2, retry_info);
	put_len(out, 1, duration);
	put_varint_opt(out, 1, (uint64_t)secs);
	put_varint_opt(out, 2, (uint64_t)(int64_t)nanos);
}
