/* The span model: the whole OTLP trace model as one decoded batch.
 *
 * Every decoder (OTLP protobuf, OTLP JSON, Zipkin JSON) fills a span_batch;
 * every encoder (OTLP protobuf, Tempo/Jaeger/native JSON) reads one. Strings
 * and bytes are slices into the request body or the batch's arena, so a
 * batch lives exactly as long as both. Resources, scopes and spans are flat
 * arrays linked by index (scope -> resource, span -> scope), the shape the
 * columnar store wants later. */
#ifndef CLEW_INGEST_SPAN_H
#define CLEW_INGEST_SPAN_H

#include <stdbool.h>
#include <stdint.h>

#include "base/arena.h"
#include "base/slice.h"

/* AnyValue kinds, numbered as clew stores them (not the protobuf oneof
 * field numbers). ANY_EMPTY is an AnyValue with no value set. */
enum any_type {
	ANY_EMPTY = 0,
	ANY_STRING = 1,
	ANY_BOOL = 2,
	ANY_INT = 3,
	ANY_DOUBLE = 4,
	ANY_ARRAY = 5,
	ANY_KVLIST = 6,
	ANY_BYTES = 7,
};

/* Span kinds as OTLP numbers them. */
enum span_kind {
	SPAN_KIND_UNSPECIFIED = 0,
	SPAN_KIND_INTERNAL = 1,
	SPAN_KIND_SERVER = 2,
	SPAN_KIND_CLIENT = 3,
	SPAN_KIND_PRODUCER = 4,
	SPAN_KIND_CONSUMER = 5,
};

/* Status codes as OTLP numbers them. */
enum status_code {
	STATUS_UNSET = 0,
	STATUS_OK = 1,
	STATUS_ERROR = 2,
};

struct attr;

struct any_value {
	uint8_t type; /* enum any_type */
	union {
		struct slice str;  /* ANY_STRING, ANY_BYTES */
		bool b;		   /* ANY_BOOL */
		int64_t i;	   /* ANY_INT */
		double d;	   /* ANY_DOUBLE */
		struct {
			struct any_value *items;
			uint32_t n;
		} array; /* ANY_ARRAY */
		struct {
			struct attr *items;
			uint32_t n;
		} kvlist; /* ANY_KVLIST */
	} u;
};

struct attr {
	struct slice key;
	struct any_value value;
};

struct attr_list {
	struct attr *items;
	uint32_t n;
};

struct span_event {
	int64_t time_unix_ns;
	struct slice name;
	struct attr_list attrs;
	uint32_t dropped_attrs;
};

struct span_link {
	uint8_t trace_id[16];
	uint8_t span_id[8];
	struct slice trace_state;
	struct attr_list attrs;
	uint32_t dropped_attrs;
	uint32_t flags;
};

struct resource {
	struct attr_list attrs;
	uint32_t dropped_attrs;
	struct slice schema_url; /* ResourceSpans.schema_url */
	struct slice raw;	 /* the encoded Resource message, when decoded from protobuf */
};

struct scope {
	uint32_t resource; /* index into span_batch.resources */
	struct slice name;
	struct slice version;
	struct attr_list attrs;
	uint32_t dropped_attrs;
	struct slice schema_url; /* ScopeSpans.schema_url */
	struct slice raw;	 /* the encoded InstrumentationScope, when from protobuf */
};

struct span {
	uint8_t trace_id[16];
	uint8_t span_id[8];
	uint8_t parent_span_id[8]; /* all zero when has_parent is false */
	bool has_parent;
	uint8_t kind;	     /* enum span_kind */
	uint8_t status_code; /* enum status_code */
	uint32_t flags;
	uint32_t scope; /* index into span_batch.scopes */
	int64_t start_unix_ns;
	int64_t end_unix_ns;
	struct slice trace_state;
	struct slice name;
	struct slice status_message;
	struct attr_list attrs;
	uint32_t dropped_attrs;
	struct span_event *events;
	uint32_t n_events;
	uint32_t dropped_events;
	struct span_link *links;
	uint32_t n_links;
	uint32_t dropped_links;
	struct slice raw; /* the encoded Span message, when decoded from protobuf */
	/* Set by a decoder or by validation for a span that must be rejected
	 * (partial success); a static string. NULL for a valid span. */
	const char *invalid_reason;
};

struct span_batch {
	struct arena *arena; /* owns the arrays below; not owned by the batch */
	struct resource *resources;
	uint32_t n_resources, cap_resources;
	struct scope *scopes;
	uint32_t n_scopes, cap_scopes;
	struct span *spans;
	uint32_t n_spans, cap_spans;
};

/* An empty batch whose arrays will be allocated from arena. */
void span_batch_init(struct span_batch *b, struct arena *arena);

/* Append a zeroed element and return it, or NULL when the arena refuses.
 * The pointer stays valid until the next add of the same kind. */
struct resource *span_batch_add_resource(struct span_batch *b);
struct scope *span_batch_add_scope(struct span_batch *b, uint32_t resource);
struct span *span_batch_add_span(struct span_batch *b, uint32_t scope);

/* The resource a span belongs to. */
static inline const struct resource *span_batch_resource_of(const struct span_batch *b,
							    const struct span *s)
{
	return &b->resources[b->scopes[s->scope].resource];
}

/* The first attribute named key in list, or NULL. */
const struct attr *attr_find(const struct attr_list *list, const char *key);

/* service.name of a resource, or "unknown_service" when it has none (as the
 * SDKs do). */
struct slice resource_service_name(const struct resource *r);

/* Add service.name = "unknown_service" to r if it has no service.name, as
 * the SDKs do. Decoders call this for every resource. 0 or CLEW_ENOMEM. */
int resource_ensure_service_name(struct span_batch *b, struct resource *r);

/* Why a span is rejected on ingest, or NULL if it is valid: all-zero or
 * wrong-length ids are caught by decoders; this checks what a decoded span
 * can still get wrong (zero trace or span id, end before start). */
const char *span_invalid_reason(const struct span *s);

/* Deep equality of two any_values (type, value, nested items). */
bool any_value_eq(const struct any_value *a, const struct any_value *b);

/* Equality of two attribute lists: same keys and values in the same order. */
bool attr_list_eq(const struct attr_list *a, const struct attr_list *b);

#endif
