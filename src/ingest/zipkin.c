/* Zipkin v2 JSON decoder (POST /api/v2/spans) onto the OTLP span model, in
 * the ingest layer beside the OTLP decoders. Parses with jansson, copies
 * strings into the batch arena and frees the DOM before returning. Each
 * distinct localEndpoint becomes one resource; each (resource, scope name,
 * version) one scope, named "zipkin" unless the otel.scope.* (or older
 * otel.library.*) tags the OpenTelemetry Zipkin exporter writes say
 * otherwise. A hash table finds existing resources and scopes so that a
 * batch of many endpoints stays linear. */
#include "ingest/zipkin.h"

#include <jansson.h>
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "base/codec.h"
#include "base/err.h"
#include "ingest/json_alloc.h"
#include "base/hash.h"

/* An entry of the resource/scope table. Resources: res == ZK_RESOURCE, a, b,
 * c = serviceName, ipv4, ipv6. Scopes: res = resource index, a, b = name,
 * version. idx is the resource or scope index plus one; 0 marks a free slot. */
#define ZK_RESOURCE UINT32_MAX

struct zk_ent {
	uint64_t h;
	uint32_t idx;
	uint32_t res;
	struct slice a, b, c;
	int64_t port;
};

struct zk {
	struct span_batch *b;
	struct decode_error *err;
	size_t span_i; /* index of the span in the body, for messages */
	struct zk_ent *tab;
	size_t cap, n; /* cap is a power of two */
};

struct endpoint {
	struct slice service, ipv4, ipv6; /* borrowed from the DOM until copied */
	int64_t port;
};

__attribute__((format(printf, 3, 4))) static int fail(struct zk *z, const char *field, const char *fmt, ...)
{
	char *m = z->err->msg;
	size_t cap = sizeof z->err->msg;
	int w = snprintf(m, cap, "[%zu]%s%s: ", z->span_i, field[0] ? "." : "", field);
	if (w > 0 && (size_t)w < cap) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(m + w, cap - (size_t)w, fmt, ap);
		va_end(ap);
	}
	z->err->offset = 0;
	return CLEW_EPARSE;
}

static json_t *member(json_t *obj, const char *key)
{
	json_t *v = json_object_get(obj, key);
	return json_is_null(v) ? NULL : v;
}

static struct slice jstr(json_t *s)
{
	return slice_make(json_string_value(s), json_string_length(s));
}

static int copy_slice(struct zk *z, struct slice s, struct slice *out)
{
	if (s.len == 0) {
		*out = slice_make("", 0);
		return 0;
	}
	void *p = arena_memdup(z->b->arena, s.p, s.len);
	if (!p)
		return CLEW_ENOMEM;
	*out = slice_make(p, s.len);
	return 0;
}

static int get_string(struct zk *z, json_t *obj, const char *key, const char *field, struct slice *out)
{
	json_t *v = member(obj, key);
	*out = slice_make("", 0);
	if (!v)
		return 0;
	if (!json_is_string(v))
		return fail(z, field, "expected a string");
	*out = jstr(v);
	return 0;
}

/* Overflow-checked unsigned decimal, digits only. */
static bool parse_u64(struct slice s, uint64_t *out)
{
	uint64_t v = 0;
	if (s.len == 0)
		return false;
	for (size_t i = 0; i < s.len; i++) {
		if (s.p[i] < '0' || s.p[i] > '9')
			return false;
		unsigned dg = (unsigned)(s.p[i] - '0');
		if (v > (UINT64_MAX - dg) / 10)
			return false;
		v = v * 10 + dg;
	}
	*out = v;
	return true;
}

/* A non-negative count of microseconds (an integer, a real with a fraction,
 * or a decimal string) as nanoseconds. Absent leaves *ns_out alone. */
static int get_micros(struct zk *z, json_t *obj, const char *key, const char *field, int64_t *ns_out)
{
	json_t *v = member(obj, key);
	uint64_t us;
	int64_t extra_ns = 0;
	if (!v)
		return 0;
	if (json_is_integer(v) && json_integer_value(v) >= 0) {
		us = (uint64_t)json_integer_value(v);
	} else if (json_is_real(v) && json_real_value(v) >= 0 && json_real_value(v) < 9.2e15) {
		/* The OpenTelemetry Zipkin exporter writes fractional microseconds:
		 * keep the fraction as nanoseconds. */
		double d = json_real_value(v), whole = floor(d);
		us = (uint64_t)whole;
		extra_ns = (int64_t)llround((d - whole) * 1000.0);
	} else if (!json_is_string(v) || !parse_u64(jstr(v), &us)) {
		return fail(z, field, "expected a non-negative number of microseconds");
	}
	if (us > (uint64_t)INT64_MAX / 1000 || (int64_t)(us * 1000) > INT64_MAX - extra_ns)
		return fail(z, field, "microseconds out of range");
	*ns_out = (int64_t)(us * 1000) + extra_ns;
	return 0;
}

static int get_endpoint(struct zk *z, json_t *span, const char *key, struct endpoint *ep)
{
	json_t *o = member(span, key);
	char field[48];
	int rc;
	memset(ep, 0, sizeof *ep);
	ep->service = ep->ipv4 = ep->ipv6 = slice_make("", 0);
	if (!o)
		return 0;
	if (!json_is_object(o))
		return fail(z, key, "expected an object");
	snprintf(field, sizeof field, "%s.serviceName", key);
	if ((rc = get_string(z, o, "serviceName", field, &ep->service)) < 0)
		return rc;
	snprintf(field, sizeof field, "%s.ipv4", key);
	if ((rc = get_string(z, o, "ipv4", field, &ep->ipv4)) < 0)
		return rc;
	snprintf(field, sizeof field, "%s.ipv6", key);
	if ((rc = get_string(z, o, "ipv6", field, &ep->ipv6)) < 0)
		return rc;
	json_t *port = member(o, "port");
	if (port) {
		if (!json_is_integer(port) || json_integer_value(port) < 0 || json_integer_value(port) > 65535) {
			snprintf(field, sizeof field, "%s.port", key);
			return fail(z, field, "expected a port number");
		}
		ep->port = json_integer_value(port);
	}
	return 0;
}

static uint64_t ent_hash(uint32_t res, struct slice a, struct slice b, struct slice c, int64_t port)
{
	uint64_t h = hash64_seed(a.len ? a.p : (const uint8_t *)"", a.len, res);
	h = hash64_seed(b.len ? b.p : (const uint8_t *)"", b.len, h ^ a.len);
	h = hash64_seed(c.len ? c.p : (const uint8_t *)"", c.len, h ^ b.len);
	return h ^ ((uint64_t)port * 0x9E3779B97F4A7C15ull);
}

static int tab_grow(struct zk *z)
{
	size_t ncap = z->cap ? z->cap * 2 : 64;
	struct zk_ent *nt = try_calloc(ncap, sizeof *nt);
	if (!nt)
		return CLEW_ENOMEM;
	for (size_t i = 0; i < z->cap; i++) {
		if (!z->tab[i].idx)
			continue;
		size_t j = z->tab[i].h & (ncap - 1);
		while (nt[j].idx)
			j = (j + 1) & (ncap - 1);
		nt[j] = z->tab[i];
	}
	free(z->tab);
	z->tab = nt;
	z->cap = ncap;
	return 0;
}

/* The slot holding (res, a, b, c, port), or the free slot where it goes. */
static struct zk_ent *tab_find(struct zk *z, uint64_t h, uint32_t res, struct slice a, struct slice b,
			       struct slice c, int64_t port)
{
	size_t j = h & (z->cap - 1);
	for (;;) {
		struct zk_ent *e = &z->tab[j];
		if (!e->idx)
			return e;
		if (e->h == h && e->res == res && e->port == port && slice_eq(e->a, a) && slice_eq(e->b, b) &&
		    slice_eq(e->c, c))
			return e;
		j = (j + 1) & (z->cap - 1);
	}
}

/* Append a string attribute; str must already live in the arena. */
static void add_attr(struct attr_list *l, const char *key, struct slice str)
{
	struct attr *a = &l->items[l->n++];
	a->key = slice_cstr(key);
	a->value.type = ANY_STRING;
	a->value.u.str = str;
}

static void add_int_attr(struct attr_list *l, const char *key, int64_t v)
{
	struct attr *a = &l->items[l->n++];
	a->key = slice_cstr(key);
	a->value.type = ANY_INT;
	a->value.u.i = v;
}

/* The resource of a local endpoint, created on first sight. */
static int resource_of(struct zk *z, const struct endpoint *ep, uint32_t *out)
{
	int rc;
	if (z->n * 2 >= z->cap && (rc = tab_grow(z)) < 0)
		return rc;
	uint64_t h = ent_hash(ZK_RESOURCE, ep->service, ep->ipv4, ep->ipv6, ep->port);
	struct zk_ent *e = tab_find(z, h, ZK_RESOURCE, ep->service, ep->ipv4, ep->ipv6, ep->port);
	if (e->idx) {
		*out = e->idx - 1;
		return 0;
	}
	struct resource *r = span_batch_add_resource(z->b);
	if (!r)
		return CLEW_ENOMEM;
	*e = (struct zk_ent){.h = h, .idx = z->b->n_resources, .res = ZK_RESOURCE, .port = ep->port};
	z->n++;
	if ((rc = copy_slice(z, ep->service, &e->a)) < 0 || (rc = copy_slice(z, ep->ipv4, &e->b)) < 0 ||
	    (rc = copy_slice(z, ep->ipv6, &e->c)) < 0)
		return rc;
	r->attrs.items = arena_array(z->b->arena, 3, sizeof *r->attrs.items);
	if (!r->attrs.items)
		return CLEW_ENOMEM;
	if (e->a.len)
		add_attr(&r->attrs, "service.name", e->a);
	if (e->b.len || e->c.len)
		add_attr(&r->attrs, "net.host.ip", e->b.len ? e->b : e->c);
	if (ep->port)
		add_int_attr(&r->attrs, "net.host.port", ep->port);
	if ((rc = resource_ensure_service_name(z->b, r)) < 0)
		return rc;
	*out = e->idx - 1;
	return 0;
}

static int scope_of(struct zk *z, uint32_t res, struct slice name, struct slice version, uint32_t *out)
{
	int rc;
	struct slice none = slice_make("", 0);
	if (z->n * 2 >= z->cap && (rc = tab_grow(z)) < 0)
		return rc;
	uint64_t h = ent_hash(res, name, version, none, -1);
	struct zk_ent *e = tab_find(z, h, res, name, version, none, -1);
	if (e->idx) {
		*out = e->idx - 1;
		return 0;
	}
	struct scope *sc = span_batch_add_scope(z->b, res);
	if (!sc)
		return CLEW_ENOMEM;
	if ((rc = copy_slice(z, name, &sc->name)) < 0 || (rc = copy_slice(z, version, &sc->version)) < 0)
		return rc;
	*e = (struct zk_ent){.h = h, .idx = z->b->n_scopes, .res = res, .a = sc->name, .b = sc->version,
			     .c = none, .port = -1};
	z->n++;
	*out = e->idx - 1;
	return 0;
}

/* The tags the OTel Zipkin exporter uses for what Zipkin has no field for. */
struct otel_tags {
	struct slice status_code, status_desc, scope_name, scope_version, lib_name, lib_version, error;
	bool has_status_code, has_status_desc, has_scope_name, has_scope_version, has_lib_name, has_lib_version,
		has_error;
};

/* Returns true if the tag is one of the otel.* tags consumed (not kept). */
static bool take_otel_tag(struct otel_tags *t, struct slice key, struct slice val)
{
	static const struct {
		const char *key;
		size_t off_val, off_has;
	} map[] = {
		{"otel.status_code", offsetof(struct otel_tags, status_code),
		 offsetof(struct otel_tags, has_status_code)},
		{"otel.status_description", offsetof(struct otel_tags, status_desc),
		 offsetof(struct otel_tags, has_status_desc)},
		{"otel.scope.name", offsetof(struct otel_tags, scope_name), offsetof(struct otel_tags, has_scope_name)},
		{"otel.scope.version", offsetof(struct otel_tags, scope_version),
		 offsetof(struct otel_tags, has_scope_version)},
		{"otel.library.name", offsetof(struct otel_tags, lib_name), offsetof(struct otel_tags, has_lib_name)},
		{"otel.library.version", offsetof(struct otel_tags, lib_version),
		 offsetof(struct otel_tags, has_lib_version)},
	};
	for (size_t i = 0; i < sizeof map / sizeof map[0]; i++) {
		if (slice_eq_cstr(key, map[i].key)) {
			*(struct slice *)((char *)t + map[i].off_val) = val;
			*(bool *)((char *)t + map[i].off_has) = true;
			return true;
		}
	}
	return false;
}

/* A tag value as text: Zipkin wants strings, some clients send numbers and
 * booleans, whose text is made in the arena. */
static int tag_text(struct zk *z, json_t *v, const char *key, struct slice *out)
{
	char scratch[40];
	int w;
	if (json_is_string(v)) {
		*out = jstr(v);
		return 0;
	}
	if (json_is_integer(v))
		w = snprintf(scratch, sizeof scratch, "%lld", (long long)json_integer_value(v));
	else if (json_is_real(v))
		w = snprintf(scratch, sizeof scratch, "%.17g", json_real_value(v));
	else if (json_is_boolean(v))
		w = snprintf(scratch, sizeof scratch, "%s", json_is_true(v) ? "true" : "false");
	else
		return fail(z, "tags", "value of \"%.60s\": expected a string", key);
	return copy_slice(z, slice_make(scratch, w > 0 ? (size_t)w : 0), out);
}

static int dec_tags(struct zk *z, json_t *span, struct span *s, struct otel_tags *t, size_t extra)
{
	json_t *tags = member(span, "tags"), *v;
	const char *key;
	size_t klen;
	int rc;
	size_t n = 0;
	if (tags && !json_is_object(tags))
		return fail(z, "tags", "expected an object of string values");
	if (tags)
		n = json_object_size(tags);
	if (n + extra == 0)
		return 0;
	if (n + extra > UINT32_MAX)
		return fail(z, "tags", "too many tags");
	s->attrs.items = arena_array(z->b->arena, n + extra, sizeof *s->attrs.items);
	if (!s->attrs.items)
		return CLEW_ENOMEM;
	if (!tags)
		return 0;
	json_object_keylen_foreach(tags, key, klen, v)
	{
		struct slice k = slice_make(key, klen), val;
		if (json_is_null(v))
			continue;
		if ((rc = tag_text(z, v, key, &val)) < 0)
			return rc;
		if (take_otel_tag(t, k, val))
			continue;
		if (slice_eq_cstr(k, "error")) {
			t->error = val;
			t->has_error = true;
		}
		struct attr *a = &s->attrs.items[s->attrs.n++];
		a->value.type = ANY_STRING;
		if ((rc = copy_slice(z, k, &a->key)) < 0 || (rc = copy_slice(z, val, &a->value.u.str)) < 0)
			return rc;
	}
	return 0;
}

static int dec_annotations(struct zk *z, json_t *span, struct span *s)
{
	json_t *arr = member(span, "annotations");
	char field[48];
	int rc;
	if (!arr)
		return 0;
	if (!json_is_array(arr))
		return fail(z, "annotations", "expected an array");
	size_t n = json_array_size(arr);
	if (n == 0)
		return 0;
	if (n > UINT32_MAX)
		return fail(z, "annotations", "too many annotations");
	s->events = arena_array(z->b->arena, n, sizeof *s->events);
	if (!s->events)
		return CLEW_ENOMEM;
	for (size_t i = 0; i < n; i++) {
		json_t *a = json_array_get(arr, i);
		struct slice val;
		if (json_is_null(a))
			continue;
		snprintf(field, sizeof field, "annotations[%zu]", i);
		if (!json_is_object(a))
			return fail(z, field, "expected an object");
		struct span_event *ev = &s->events[s->n_events];
		snprintf(field, sizeof field, "annotations[%zu].timestamp", i);
		if ((rc = get_micros(z, a, "timestamp", field, &ev->time_unix_ns)) < 0)
			return rc;
		snprintf(field, sizeof field, "annotations[%zu].value", i);
		if ((rc = get_string(z, a, "value", field, &val)) < 0 || (rc = copy_slice(z, val, &ev->name)) < 0)
			return rc;
		s->n_events++;
	}
	return 0;
}

static int get_bool(struct zk *z, json_t *span, const char *key, bool *out)
{
	json_t *v = member(span, key);
	*out = false;
	if (!v)
		return 0;
	if (!json_is_boolean(v))
		return fail(z, key, "expected true or false");
	*out = json_is_true(v);
	return 0;
}

static int dec_kind(struct zk *z, json_t *span, uint8_t *out)
{
	static const struct {
		const char *name;
		uint8_t kind;
	} kinds[] = {
		{"CLIENT", SPAN_KIND_CLIENT},
		{"SERVER", SPAN_KIND_SERVER},
		{"PRODUCER", SPAN_KIND_PRODUCER},
		{"CONSUMER", SPAN_KIND_CONSUMER},
	};
	struct slice k;
	int rc = get_string(z, span, "kind", "kind", &k);
	*out = SPAN_KIND_INTERNAL;
	if (rc < 0 || k.len == 0)
		return rc;
	for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++) {
		if (slice_eq_cstr(k, kinds[i].name)) {
			*out = kinds[i].kind;
			return 0;
		}
	}
	return fail(z, "kind", "expected CLIENT, SERVER, PRODUCER or CONSUMER");
}

/* Ids: a missing or malformed id makes the span invalid, a non-string id
 * is a type error. */
static int dec_ids(struct zk *z, json_t *span, struct span *s)
{
	struct slice tid, id, pid;
	int rc;
	if ((rc = get_string(z, span, "traceId", "traceId", &tid)) < 0 ||
	    (rc = get_string(z, span, "id", "id", &id)) < 0 ||
	    (rc = get_string(z, span, "parentId", "parentId", &pid)) < 0)
		return rc;
	if (tid.len == 0)
		s->invalid_reason = "missing trace id";
	else if (tid.len == 16 ? hex_decode(tid, s->trace_id + 8, 8) < 0 : hex_decode(tid, s->trace_id, 16) < 0)
		s->invalid_reason = "trace id is not 16 or 32 hex digits";
	if (id.len == 0) {
		if (!s->invalid_reason)
			s->invalid_reason = "missing span id";
	} else if (hex_decode(id, s->span_id, 8) < 0 && !s->invalid_reason) {
		s->invalid_reason = "span id is not 16 hex digits";
	}
	if (pid.len) {
		if (hex_decode(pid, s->parent_span_id, 8) < 0) {
			memset(s->parent_span_id, 0, 8);
			if (!s->invalid_reason)
				s->invalid_reason = "parent id is not 16 hex digits";
		} else {
			s->has_parent = true;
		}
	}
	return 0;
}

static int dec_span(struct zk *z, json_t *obj)
{
	struct span s;
	struct otel_tags t;
	struct endpoint local, remote;
	struct slice name;
	bool debug, shared;
	int64_t dur_ns = 0;
	uint32_t res, scope;
	int rc;
	memset(&s, 0, sizeof s);
	memset(&t, 0, sizeof t);
	if ((rc = dec_ids(z, obj, &s)) < 0 || (rc = get_string(z, obj, "name", "name", &name)) < 0 ||
	    (rc = copy_slice(z, name, &s.name)) < 0 || (rc = dec_kind(z, obj, &s.kind)) < 0 ||
	    (rc = get_micros(z, obj, "timestamp", "timestamp", &s.start_unix_ns)) < 0 ||
	    (rc = get_micros(z, obj, "duration", "duration", &dur_ns)) < 0 ||
	    (rc = get_bool(z, obj, "debug", &debug)) < 0 || (rc = get_bool(z, obj, "shared", &shared)) < 0 ||
	    (rc = get_endpoint(z, obj, "localEndpoint", &local)) < 0 ||
	    (rc = get_endpoint(z, obj, "remoteEndpoint", &remote)) < 0)
		return rc;
	size_t extra = (remote.service.len > 0) + (remote.ipv4.len || remote.ipv6.len) + (remote.port != 0) + debug +
		       shared;
	if ((rc = dec_tags(z, obj, &s, &t, extra)) < 0 || (rc = dec_annotations(z, obj, &s)) < 0)
		return rc;
	if (dur_ns > INT64_MAX - s.start_unix_ns)
		return fail(z, "duration", "end time out of range");
	s.end_unix_ns = s.start_unix_ns + dur_ns;

	struct slice peer, ip;
	if ((rc = copy_slice(z, remote.service, &peer)) < 0 ||
	    (rc = copy_slice(z, remote.ipv4.len ? remote.ipv4 : remote.ipv6, &ip)) < 0)
		return rc;
	if (peer.len)
		add_attr(&s.attrs, "peer.service", peer);
	if (ip.len)
		add_attr(&s.attrs, "net.peer.ip", ip);
	if (remote.port)
		add_int_attr(&s.attrs, "net.peer.port", remote.port);
	if (debug || shared) {
		struct attr *a = &s.attrs.items[s.attrs.n++];
		a->key = slice_cstr(debug ? "zipkin.debug" : "zipkin.shared");
		a->value.type = ANY_BOOL;
		a->value.u.b = true;
		if (debug && shared) {
			a = &s.attrs.items[s.attrs.n++];
			a->key = SLICE_LIT("zipkin.shared");
			a->value.type = ANY_BOOL;
			a->value.u.b = true;
		}
	}

	if (t.has_status_code) {
		if (slice_eq_nocase(t.status_code, "ERROR"))
			s.status_code = STATUS_ERROR;
		else if (slice_eq_nocase(t.status_code, "OK"))
			s.status_code = STATUS_OK;
	} else if (t.has_error) {
		s.status_code = STATUS_ERROR;
	}
	if (t.has_status_desc)
		rc = copy_slice(z, t.status_desc, &s.status_message);
	else if (s.status_code == STATUS_ERROR && t.has_error)
		rc = copy_slice(z, t.error, &s.status_message);
	if (rc < 0)
		return rc;

	struct slice sname = SLICE_LIT("zipkin"), sver = slice_make("", 0);
	if (t.has_scope_name || t.has_lib_name) {
		sname = t.has_scope_name ? t.scope_name : t.lib_name;
		if (t.has_scope_version)
			sver = t.scope_version;
		else if (t.has_lib_version)
			sver = t.lib_version;
	}
	if ((rc = resource_of(z, &local, &res)) < 0 || (rc = scope_of(z, res, sname, sver, &scope)) < 0)
		return rc;
	struct span *out = span_batch_add_span(z->b, scope);
	if (!out)
		return CLEW_ENOMEM;
	s.scope = scope;
	*out = s;
	return 0;
}

static int decode_spans_json(struct slice body, struct span_batch *out, struct decode_error *err)
{
	json_error_t jerr;
	struct zk z = {.b = out, .err = err};
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
	if (!json_is_array(root)) {
		snprintf(err->msg, sizeof err->msg, "expected a JSON array of Zipkin v2 spans");
		rc = CLEW_EPARSE;
		goto out;
	}
	for (z.span_i = 0; z.span_i < json_array_size(root); z.span_i++) {
		json_t *e = json_array_get(root, z.span_i);
		if (json_is_null(e))
			continue;
		if (!json_is_object(e)) {
			rc = fail(&z, "", "expected a span object");
			goto out;
		}
		if ((rc = dec_span(&z, e)) < 0)
			goto out;
	}
out:
	if (rc == CLEW_ENOMEM)
		snprintf(err->msg, sizeof err->msg, "out of memory decoding the spans");
	free(z.tab);
	json_decref(root);
	return rc;
}

int zipkin_decode_spans(struct slice body, struct span_batch *out, struct decode_error *err)
{
	/* jansson's nodes live in a scratch arena for the length of the decode */
	struct arena scratch;
	json_alloc_begin(&scratch, body.len);
	int rc = decode_spans_json(body, out, err);
	json_alloc_end(&scratch);
	return rc;
}
