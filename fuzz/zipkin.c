/* Fuzz target of the Zipkin v2 JSON decoder: any input either fails with a
 * message or yields a batch whose indexes and strings are sound, with one
 * resource per distinct local endpoint (every byte is read back so ASan
 * sees any bad slice). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/arena.h"
#include "base/err.h"
#include "ingest/zipkin.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static unsigned touch(struct slice s)
{
	unsigned h = 0;
	for (size_t i = 0; i < s.len; i++)
		h += s.p[i];
	return h;
}

static unsigned touch_attrs(const struct attr_list *l)
{
	unsigned h = 0;
	for (uint32_t i = 0; i < l->n; i++) {
		const struct any_value *v = &l->items[i].value;
		h += touch(l->items[i].key);
		if (v->type == ANY_STRING)
			h += touch(v->u.str);
		else if (v->type != ANY_INT && v->type != ANY_BOOL)
			abort();
	}
	return h;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct arena arena;
	struct span_batch b;
	struct decode_error err;
	volatile unsigned sink = 0;
	arena_init(&arena, 64u << 20);
	span_batch_init(&b, &arena);
	int rc = zipkin_decode_spans(slice_make(data, size), &b, &err);
	if (rc < 0) {
		if ((rc != CLEW_EPARSE && rc != CLEW_ENOMEM) || !memchr(err.msg, 0, sizeof err.msg) || !err.msg[0])
			abort();
		goto out;
	}
	if (rc != 0 || b.n_scopes < b.n_resources || (b.n_spans > 0 && b.n_scopes == 0))
		abort();
	for (uint32_t i = 0; i < b.n_resources; i++) {
		if (!attr_find(&b.resources[i].attrs, "service.name"))
			abort();
		sink += touch_attrs(&b.resources[i].attrs);
	}
	for (uint32_t i = 0; i < b.n_scopes; i++) {
		if (b.scopes[i].resource >= b.n_resources)
			abort();
		sink += touch(b.scopes[i].name) + touch(b.scopes[i].version);
	}
	for (uint32_t i = 0; i < b.n_spans; i++) {
		const struct span *s = &b.spans[i];
		if (s->scope >= b.n_scopes || s->end_unix_ns < s->start_unix_ns || s->start_unix_ns < 0)
			abort();
		if (!s->has_parent && s->parent_span_id[0])
			abort();
		sink += touch(s->name) + touch(s->status_message) + touch_attrs(&s->attrs);
		for (uint32_t j = 0; j < s->n_events; j++)
			sink += touch(s->events[j].name);
	}
out:
	(void)sink;
	arena_reset(&arena);
	return 0;
}
