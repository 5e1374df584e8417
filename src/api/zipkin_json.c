/* Zipkin v2 JSON span writer for the Zipkin read API. It undoes what the
 * Zipkin receiver did: nanoseconds back to microseconds, the resource's
 * service.name and host address to localEndpoint, peer attributes to
 * remoteEndpoint, events to annotations, attributes to string tags, status
 * to the error tag. Everything goes through the JSON writer. */
#include "api/zipkin_json.h"

#include <string.h>

#include "api/trace_json.h"
#include "base/codec.h"

static const uint8_t zero8[8];

/* An attribute consumed by an endpoint or a span field, not a tag. */
static bool is_field_attr(struct slice key)
{
	static const char *const keys[] = {"peer.service",  "net.peer.ip",   "net.sock.peer.addr",
					   "net.peer.port", "zipkin.debug",  "zipkin.shared"};
	for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
		if (slice_eq_cstr(key, keys[i]))
			return true;
	return false;
}

/* An attribute value as the text of a tag. Non-strings are their JSON
 * text, written to tmp. */
static struct slice value_text(const struct any_value *v, struct buf *tmp)
{
	buf_clear(tmp);
	switch (v->type) {
	case ANY_STRING:
		return v->u.str;
	case ANY_BYTES:
		base64_encode(tmp, v->u.str.p, v->u.str.len);
		break;
	case ANY_EMPTY:
		break;
	default: {
		struct json jt;
		json_init(&jt, tmp);
		trace_json_write_value(&jt, v);
		break;
	}
	}
	return tmp->err ? slice_make("", 0) : buf_slice(tmp);
}

static const struct attr *find(const struct attr_list *l, const char *key)
{
	return attr_find(l, key);
}

static void write_ip(struct json *j, const struct attr *a)
{
	if (!a || a->value.type != ANY_STRING || a->value.u.str.len == 0)
		return;
	json_key(j, memchr(a->value.u.str.p, ':', a->value.u.str.len) ? "ipv6" : "ipv4");
	json_str(j, a->value.u.str);
}

static void write_port(struct json *j, const struct attr *a)
{
	int64_t port = -1;
	if (!a)
		return;
	if (a->value.type == ANY_INT) {
		port = a->value.u.i;
	} else if (a->value.type == ANY_STRING && a->value.u.str.len && a->value.u.str.len < 6) {
		port = 0;
		for (size_t i = 0; i < a->value.u.str.len && port >= 0; i++) {
			uint8_t c = a->value.u.str.p[i];
			port = c >= '0' && c <= '9' ? port * 10 + (c - '0') : -1;
		}
	}
	if (port > 0 && port <= 65535) {
		json_key(j, "port");
		json_int(j, port);
	}
}

static void write_local(struct json *j, const struct resource *r)
{
	json_key(j, "localEndpoint");
	json_obj_begin(j);
	json_key(j, "serviceName");
	json_str(j, resource_service_name(r));
	write_ip(j, find(&r->attrs, "net.host.ip"));
	write_port(j, find(&r->attrs, "net.host.port"));
	json_obj_end(j);
}

static void write_remote(struct json *j, const struct span *s)
{
	const struct attr *svc = find(&s->attrs, "peer.service");
	const struct attr *ip = find(&s->attrs, "net.peer.ip");
	const struct attr *port = find(&s->attrs, "net.peer.port");
	if (!ip)
		ip = find(&s->attrs, "net.sock.peer.addr");
	if (!svc && !ip && !port)
		return;
	json_key(j, "remoteEndpoint");
	json_obj_begin(j);
	if (svc && svc->value.type == ANY_STRING) {
		json_key(j, "serviceName");
		json_str(j, svc->value.u.str);
	}
	write_ip(j, ip);
	write_port(j, port);
	json_obj_end(j);
}

static bool attr_true(const struct attr_list *l, const char *key)
{
	const struct attr *a = find(l, key);
	return a && ((a->value.type == ANY_BOOL && a->value.u.b) ||
		     (a->value.type == ANY_STRING && slice_eq_cstr(a->value.u.str, "true")));
}

static void write_annotations(struct json *j, const struct span *s, struct buf *tmp)
{
	if (!s->n_events)
		return;
	json_key(j, "annotations");
	json_arr_begin(j);
	for (uint32_t i = 0; i < s->n_events; i++) {
		const struct span_event *ev = &s->events[i];
		json_obj_begin(j);
		json_key(j, "timestamp");
		json_int(j, ev->time_unix_ns / 1000);
		json_key(j, "value");
		if (!ev->attrs.n) {
			json_str(j, ev->name);
		} else {
			/* as the OpenTelemetry Zipkin exporter writes it: name, then the
			 * attributes as one JSON object */
			buf_clear(tmp);
			buf_append_slice(tmp, ev->name);
			buf_append_byte(tmp, ' ');
			struct json jt;
			json_init(&jt, tmp);
			json_obj_begin(&jt);
			for (uint32_t k = 0; k < ev->attrs.n; k++) {
				json_key_slice(&jt, ev->attrs.items[k].key);
				trace_json_write_value(&jt, &ev->attrs.items[k].value);
			}
			json_obj_end(&jt);
			json_str(j, tmp->err ? ev->name : buf_slice(tmp));
		}
		json_obj_end(j);
	}
	json_arr_end(j);
}

static void write_tags(struct json *j, const struct span_batch *b, const struct span *s, struct buf *tmp)
{
	const struct scope *sc = &b->scopes[s->scope];
	bool scope_tags = sc->name.len && !slice_eq_cstr(sc->name, "zipkin");
	bool has_error = find(&s->attrs, "error") != NULL;
	bool any = scope_tags || s->status_code == STATUS_OK || s->status_code == STATUS_ERROR;
	for (uint32_t i = 0; i < s->attrs.n && !any; i++)
		any = !is_field_attr(s->attrs.items[i].key);
	if (!any)
		return;
	json_key(j, "tags");
	json_obj_begin(j);
	for (uint32_t i = 0; i < s->attrs.n; i++) {
		const struct attr *a = &s->attrs.items[i];
		if (is_field_attr(a->key))
			continue;
		json_key_slice(j, a->key);
		json_str(j, value_text(&a->value, tmp));
	}
	if (scope_tags) {
		json_key(j, "otel.scope.name");
		json_str(j, sc->name);
		if (sc->version.len) {
			json_key(j, "otel.scope.version");
			json_str(j, sc->version);
		}
	}
	if (s->status_code == STATUS_OK) {
		json_key(j, "otel.status_code");
		json_cstr(j, "OK");
	} else if (s->status_code == STATUS_ERROR && !has_error) {
		json_key(j, "error");
		json_str(j, s->status_message);
	}
	json_obj_end(j);
}

void zipkin_json_write_span(struct json *j, const struct span_batch *b, const struct span *s)
{
	static const char *const kinds[] = {NULL, NULL, "SERVER", "CLIENT", "PRODUCER", "CONSUMER"};
	struct buf tmp;
	buf_init(&tmp, j->out->max_bytes ? j->out->max_bytes : 1 << 20);
	json_obj_begin(j);
	json_key(j, "traceId");
	if (memcmp(s->trace_id, zero8, 8) == 0)
		json_hex(j, s->trace_id + 8, 8);
	else
		json_hex(j, s->trace_id, 16);
	if (s->has_parent) {
		json_key(j, "parentId");
		json_hex(j, s->parent_span_id, 8);
	}
	json_key(j, "id");
	json_hex(j, s->span_id, 8);
	if (s->kind < sizeof kinds / sizeof kinds[0] && kinds[s->kind]) {
		json_key(j, "kind");
		json_cstr(j, kinds[s->kind]);
	}
	json_key(j, "name");
	json_str(j, s->name);
	if (s->start_unix_ns > 0) {
		json_key(j, "timestamp");
		json_int(j, s->start_unix_ns / 1000);
	}
	if (s->end_unix_ns > s->start_unix_ns) {
		int64_t us = (s->end_unix_ns - s->start_unix_ns) / 1000;
		json_key(j, "duration");
		json_int(j, us > 0 ? us : 1);
	}
	if (attr_true(&s->attrs, "zipkin.debug")) {
		json_key(j, "debug");
		json_bool(j, true);
	}
	if (attr_true(&s->attrs, "zipkin.shared")) {
		json_key(j, "shared");
		json_bool(j, true);
	}
	if (s->scope < b->n_scopes && b->scopes[s->scope].resource < b->n_resources)
		write_local(j, span_batch_resource_of(b, s));
	write_remote(j, s);
	write_annotations(j, s, &tmp);
	if (s->scope < b->n_scopes)
		write_tags(j, b, s, &tmp);
	json_obj_end(j);
	buf_free(&tmp);
}

void zipkin_json_write_spans(struct json *j, const struct span_batch *b)
{
	json_arr_begin(j);
	for (uint32_t i = 0; i < b->n_spans; i++)
		zipkin_json_write_span(j, b, &b->spans[i]);
	json_arr_end(j);
}
