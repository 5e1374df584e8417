/* Fuzz target of the OTLP/JSON decoder: any input either fails with a
 * message or yields a batch whose indexes, strings and values are sound
 * (every byte is read back so ASan sees any bad slice). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/arena.h"
#include "base/err.h"
#include "ingest/otlp_json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static unsigned touch(struct slice s)
{
	unsigned h = 0;
	for (size_t i = 0; i < s.len; i++)
		h += s.p[i];
	return h;
}

static unsigned touch_value(const struct any_value *v, int depth);

static unsigned touch_attrs(const struct attr *items, uint32_t n, int depth)
{
	unsigned h = 0;
	for (uint32_t i = 0; i < n; i++)
		h += touch(items[i].key) + touch_value(&items[i].value, depth);
	return h;
}

static unsigned touch_value(const struct any_value *v, int depth)
{
	if (depth > OTLP_MAX_ANY_DEPTH + 1)
		abort();
	switch (v->type) {
	case ANY_STRING:
	case ANY_BYTES:
		return touch(v->u.str);
	case ANY_ARRAY: {
		unsigned h = 0;
		for (uint32_t i = 0; i < v->u.array.n; i++)
			h += touch_value(&v->u.array.items[i], depth + 1);
		return h;
	}
	case ANY_KVLIST:
		return touch_attrs(v->u.kvlist.items, v->u.kvlist.n, depth + 1);
	case ANY_EMPTY:
	case ANY_BOOL:
	case ANY_INT:
	case ANY_DOUBLE:
		return 0;
	}
	abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct arena arena;
	struct span_batch b;
	struct decode_error err;
	volatile unsigned sink = 0;
	arena_init(&arena, 64u << 20);
	span_batch_init(&b, &arena);
	int rc = otlp_json_decode_request(slice_make(data, size), &b, &err);
	if (rc < 0) {
		if ((rc != CLEW_EPARSE && rc != CLEW_ENOMEM) || !memchr(err.msg, 0, sizeof err.msg) || !err.msg[0])
			abort();
		goto out;
	}
	if (rc != 0)
		abort();
	for (uint32_t i = 0; i < b.n_resources; i++) {
		if (!attr_find(&b.resources[i].attrs, "service.name"))
			abort();
		sink += touch_attrs(b.resources[i].attrs.items, b.resources[i].attrs.n, 0) +
			touch(b.resources[i].schema_url);
	}
	for (uint32_t i = 0; i < b.n_scopes; i++) {
		const struct scope *sc = &b.scopes[i];
		if (sc->resource >= b.n_resources)
			abort();
		sink += touch(sc->name) + touch(sc->version) + touch(sc->schema_url) +
			touch_attrs(sc->attrs.items, sc->attrs.n, 0);
	}
	for (uint32_t i = 0; i < b.n_spans; i++) {
		const struct span *s = &b.spans[i];
		if (s->scope >= b.n_scopes || s->kind > SPAN_KIND_CONSUMER || s->status_code > STATUS_ERROR)
			abort();
		sink += touch(s->name) + touch(s->trace_state) + touch(s->status_message) +
			touch_attrs(s->attrs.items, s->attrs.n, 0);
		for (uint32_t j = 0; j < s->n_events; j++)
			sink += touch(s->events[j].name) + touch_attrs(s->events[j].attrs.items, s->events[j].attrs.n, 0);
		for (uint32_t j = 0; j < s->n_links; j++)
			sink += touch(s->links[j].trace_state) +
				touch_attrs(s->links[j].attrs.items, s->links[j].attrs.n, 0);
		if (!s->invalid_reason)
			(void)span_invalid_reason(s);
	}
out:
	(void)sink;
	arena_reset(&arena);
	return 0;
}
