/* Span batch construction and the small queries every layer needs on it. */
#include "ingest/span.h"

#include <string.h>

#include "base/err.h"

static void *grow(struct arena *a, void *arr, uint32_t n, uint32_t *cap, size_t size)
{
	if (n < *cap)
		return arr;
	uint32_t ncap = *cap ? *cap * 2 : 8;
	void *p = arena_grow(a, arr, n, ncap, size);
	if (p)
		*cap = ncap;
	return p;
}

void span_batch_init(struct span_batch *b, struct arena *arena)
{
	memset(b, 0, sizeof *b);
	b->arena = arena;
}

struct resource *span_batch_add_resource(struct span_batch *b)
{
	struct resource *r = grow(b->arena, b->resources, b->n_resources, &b->cap_resources, sizeof *r);
	if (!r)
		return NULL;
	b->resources = r;
	r = &b->resources[b->n_resources++];
	memset(r, 0, sizeof *r);
	return r;
}

struct scope *span_batch_add_scope(struct span_batch *b, uint32_t resource)
{
	struct scope *s = grow(b->arena, b->scopes, b->n_scopes, &b->cap_scopes, sizeof *s);
	if (!s)
		return NULL;
	b->scopes = s;
	s = &b->scopes[b->n_scopes++];
	memset(s, 0, sizeof *s);
	s->resource = resource;
	return s;
}

struct span *span_batch_add_span(struct span_batch *b, uint32_t scope)
{
	struct span *s = grow(b->arena, b->spans, b->n_spans, &b->cap_spans, sizeof *s);
	if (!s)
		return NULL;
	b->spans = s;
	s = &b->spans[b->n_spans++];
	memset(s, 0, sizeof *s);
	s->scope = scope;
	return s;
}

const struct attr *attr_find(const struct attr_list *list, const char *key)
{
	for (uint32_t i = 0; i < list->n; i++)
		if (slice_eq_cstr(list->items[i].key, key))
			return &list->items[i];
	return NULL;
}

struct slice resource_service_name(const struct resource *r)
{
	const struct attr *a = attr_find(&r->attrs, "service.name");
	if (a && a->value.type == ANY_STRING && a->value.u.str.len > 0)
		return a->value.u.str;
	return SLICE_LIT("unknown_service");
}

int resource_ensure_service_name(struct span_batch *b, struct resource *r)
{
	if (attr_find(&r->attrs, "service.name"))
		return 0;
	struct attr *items = arena_grow(b->arena, r->attrs.items, r->attrs.n, r->attrs.n + 1, sizeof *items);
	if (!items)
		return CLEW_ENOMEM;
	items[r->attrs.n].key = SLICE_LIT("service.name");
	items[r->attrs.n].value.type = ANY_STRING;
	items[r->attrs.n].value.u.str = SLICE_LIT("unknown_service");
	r->attrs.items = items;
	r->attrs.n++;
	return 0;
}

static bool all_zero(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i])
			return false;
	return true;
}

const char *span_invalid_reason(const struct span *s)
{
	if (all_zero(s->trace_id, 16))
		return "trace id is all zero";
	if (all_zero(s->span_id, 8))
		return "span id is all zero";
	if (s->end_unix_ns < s->start_unix_ns)
		return "end time is before start time";
	return NULL;
}

bool any_value_eq(const struct any_value *a, const struct any_value *b)
{
	if (a->type != b->type)
		return false;
	switch (a->type) {
	case ANY_EMPTY:
		return true;
	case ANY_STRING:
	case ANY_BYTES:
		return slice_eq(a->u.str, b->u.str);
	case ANY_BOOL:
		return a->u.b == b->u.b;
	case ANY_INT:
		return a->u.i == b->u.i;
	case ANY_DOUBLE:
		return memcmp(&a->u.d, &b->u.d, sizeof(double)) == 0;
	case ANY_ARRAY:
		if (a->u.array.n != b->u.array.n)
			return false;
		for (uint32_t i = 0; i < a->u.array.n; i++)
			if (!any_value_eq(&a->u.array.items[i], &b->u.array.items[i]))
				return false;
		return true;
	case ANY_KVLIST:
		if (a->u.kvlist.n != b->u.kvlist.n)
			return false;
		for (uint32_t i = 0; i < a->u.kvlist.n; i++) {
			if (!slice_eq(a->u.kvlist.items[i].key, b->u.kvlist.items[i].key))
				return false;
			if (!any_value_eq(&a->u.kvlist.items[i].value, &b->u.kvlist.items[i].value))
				return false;
		}
		return true;
	}
	return false;
}

bool attr_list_eq(const struct attr_list *a, const struct attr_list *b)
{
	if (a->n != b->n)
		return false;
	for (uint32_t i = 0; i < a->n; i++)
		if (!slice_eq(a->items[i].key, b->items[i].key) || !any_value_eq(&a->items[i].value, &b->items[i].value))
			return false;
	return true;
}
