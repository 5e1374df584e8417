/* clew gen's trace builder. Each trace draws from an rng seeded by the run
 * seed and its number; each span's rng is seeded from its parent's and its
 * position, so a fault that changes one span changes no random draw
 * elsewhere: only what the fault's cause would change moves. Spans are
 * written parent first (an index is reserved, children fill in, then the
 * parent is completed). */
#include "gen/tracegen.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "base/err.h"
#include "base/hash.h"

/* Instrumentation scopes a service instance writes spans under. */
enum { SCOPE_RPC, SCOPE_DB, SCOPE_MSG, SCOPE_APP, SCOPE_KINDS };

#define MAX_SPAN_ATTRS 24

struct gen_instance {
	struct attr *attrs;
	uint32_t n_attrs;
	uint32_t version_attr; /* index of service.version in attrs */
	uint32_t local_index;
};

/* One trace being built. */
struct tg {
	struct gen *g;
	const struct topo *topo;
	struct span_batch *b;
	struct arena *a;
	uint8_t trace_id[16];
	uint32_t account;
	const char *tier;
	struct slice acct_id, tier_s, user_id, request_id;
	double load; /* daily factor x minute noise of the trace's start */
	uint32_t n_spans;
	int err;
};

/* Where a span runs: an instance, with the version it shows now. */
struct where {
	uint32_t inst, service, variant;
	const char *version;
	const char *op_name;
};

static const char *scope_names[SCOPE_KINDS] = {"io.opentelemetry.rpc", "io.opentelemetry.db",
					       "io.opentelemetry.messaging", "com.example.app"};

/* ---- attribute writing ---- */

struct attrs {
	struct attr *items;
	uint32_t n;
};

static void a_str(struct attrs *l, const char *k, struct slice v)
{
	struct attr *at = &l->items[l->n++];
	at->key = slice_cstr(k);
	at->value.type = ANY_STRING;
	at->value.u.str = v;
}

static void a_cstr(struct attrs *l, const char *k, const char *v)
{
	a_str(l, k, slice_cstr(v));
}

static void a_int(struct attrs *l, const char *k, int64_t v)
{
	struct attr *at = &l->items[l->n++];
	at->key = slice_cstr(k);
	at->value.type = ANY_INT;
	at->value.u.i = v;
}

/* Concatenate up to three pieces into the arena. */
static struct slice cat3(struct tg *t, struct slice x, struct slice y, struct slice z)
{
	size_t n = x.len + y.len + z.len;
	char *p = arena_alloc(t->a, n ? n : 1);
	if (!p) {
		t->err = CLEW_ENOMEM;
		return (struct slice){0};
	}
	if (x.len)
		memcpy(p, x.p, x.len);
	if (y.len)
		memcpy(p + x.len, y.p, y.len);
	if (z.len)
		memcpy(p + x.len + y.len, z.p, z.len);
	return slice_make(p, n);
}

/* A route with "{id}" replaced by the trace's customer id. */
static struct slice fill_route(struct tg *t, const char *route)
{
	const char *br = strstr(route, "{id}");
	if (!br)
		return slice_cstr(route);
	return cat3(t, slice_make(route, (size_t)(br - route)), t->acct_id, slice_cstr(br + 4));
}

static void hex(const uint8_t *p, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";
	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[p[i] >> 4];
		out[2 * i + 1] = digits[p[i] & 15];
	}
}

static void put_id(uint8_t *out, size_t n, struct rng *r)
{
	uint64_t v = rng_next(r);
	for (size_t i = 0; i < n; i++) {
		if (i == 8)
			v = rng_next(r);
		out[i] = (uint8_t)(v >> (8 * (i % 8)));
	}
	out[0] |= 1; /* never all zero */
}

/* ---- resources and scopes ---- */

static uint32_t scope_for(struct tg *t, const struct where *w, int kind)
{
	struct gen *g = t->g;
	uint32_t key = w->inst * 2 + w->variant;
	uint32_t *sc = &g->scope_cache[key * SCOPE_KINDS + (uint32_t)kind];
	if (*sc)
		return *sc - 1;
	uint32_t *rc = &g->res_cache[key];
	if (!*rc) {
		struct resource *r = span_batch_add_resource(t->b);
		if (!r) {
			t->err = CLEW_ENOMEM;
			return 0;
		}
		const struct gen_instance *gi = &g->inst[w->inst];
		if (w->variant) {
			struct attr *copy = arena_memdup(t->a, gi->attrs, gi->n_attrs * sizeof *copy);
			if (!copy) {
				t->err = CLEW_ENOMEM;
				return 0;
			}
			copy[gi->version_attr].value.u.str = slice_cstr(w->version);
			r->attrs.items = copy;
		} else {
			r->attrs.items = gi->attrs;
		}
		r->attrs.n = gi->n_attrs;
		r->schema_url = SLICE_LIT("https://opentelemetry.io/schemas/1.24.0");
		*rc = t->b->n_resources;
	}
	struct scope *s = span_batch_add_scope(t->b, *rc - 1);
	if (!s) {
		t->err = CLEW_ENOMEM;
		return 0;
	}
	s->name = slice_cstr(scope_names[kind]);
	s->version = SLICE_LIT("2.3.0");
	*sc = t->b->n_scopes;
	return *sc - 1;
}

/* Reserve a span; returns its index or UINT32_MAX (t->err set). */
static uint32_t span_new(struct tg *t, const struct where *w, int scope_kind, struct rng *r,
			 const uint8_t *parent, uint8_t kind, struct slice name)
{
	uint32_t sc = scope_for(t, w, scope_kind);
	if (t->err)
		return UINT32_MAX;
	struct span *s = span_batch_add_span(t->b, sc);
	struct attr *items = arena_alloc(t->a, MAX_SPAN_ATTRS * sizeof *items);
	if (!s || !items) {
		t->err = CLEW_ENOMEM;
		return UINT32_MAX;
	}
	memcpy(s->trace_id, t->trace_id, 16);
	put_id(s->span_id, 8, r);
	if (parent) {
		memcpy(s->parent_span_id, parent, 8);
		s->has_parent = true;
	}
	s->kind = kind;
	s->name = name;
	s->flags = 0x101; /* sampled, with the is-remote bits known */
	s->attrs.items = items;
	t->n_spans++;
	return t->b->n_spans - 1;
}

static struct attrs span_attrs(struct tg *t, uint32_t idx)
{
	struct span *s = &t->b->spans[idx];
	return (struct attrs){s->attrs.items, s->attrs.n};
}

static void span_set_attrs(struct tg *t, uint32_t idx, const struct attrs *l)
{
	t->b->spans[idx].attrs.n = l->n;
}

static void customer_attrs(struct tg *t, struct attrs *l)
{
	a_str(l, "customer.id", t->acct_id);
	a_str(l, "customer.tier", t->tier_s);
	a_str(l, "enduser.id", t->user_id);
	a_str(l, "request.id", t->request_id);
}

/* Mark span idx failed with an exception event at its end. */
static void span_fail(struct tg *t, uint32_t idx, struct rng *r, const char *type, const char *message,
		      const struct where *w)
{
	struct span *s = &t->b->spans[idx];
	struct span_event *ev = arena_zalloc(t->a, sizeof *ev);
	struct attr *at = arena_alloc(t->a, 4 * sizeof *at);
	if (!ev || !at) {
		t->err = CLEW_ENOMEM;
		return;
	}
	struct slice trace = model_stacktrace(t->a, r, type, message, t->topo->services[w->service].name, s->name);
	struct attrs l = {at, 0};
	a_cstr(&l, "exception.type", type);
	a_cstr(&l, "exception.message", message);
	a_str(&l, "exception.stacktrace", trace);
	l.items[l.n].key = SLICE_LIT("exception.escaped");
	l.items[l.n].value.type = ANY_BOOL;
	l.items[l.n++].value.u.b = true;
	ev->time_unix_ns = s->end_unix_ns;
	ev->name = SLICE_LIT("exception");
	ev->attrs.items = at;
	ev->attrs.n = l.n;
	s->events = ev;
	s->n_events = 1;
	s->status_code = STATUS_ERROR;
	s->status_message = slice_cstr(message);
}

static int64_t ms_ns(double ms)
{
	return ms <= 0 ? 0 : (int64_t)(ms * 1e6);
}

static bool faults_on(const struct tg *t)
{
	return t->g->c.faults && t->g->c.faults->n > 0;
}

/* What the faults do to a span; false (and a neutral hit) when none. */
static bool faults_for(struct tg *t, const struct where *w, int64_t at, bool client, const char *db_name,
		       const char *peer, const char *operation, struct fault_hit *hit)
{
	if (!faults_on(t)) {
		memset(hit, 0, sizeof *hit);
		hit->latency_factor = hit->size_factor = 1;
		return false;
	}
	struct fault_span sp = {
		.t_ns = at,
		.service = w->service,
		.host = t->topo->instances[w->inst].host,
		.operation = operation,
		.version = w->version,
		.client = client,
		.db_name = db_name,
		.peer = peer,
		.account = t->account,
		.tier = t->tier,
	};
	return fault_apply(t->g->c.faults, &sp, hit);
}

/* Pick an instance of service for a span starting at at. */
static struct where place(struct tg *t, uint32_t service, struct rng *r, int64_t at, const char *op_name)
{
	const struct topo_service *s = &t->topo->services[service];
	uint32_t local = rng_below(r, s->n_instances);
	struct where w = {s->first_instance + local, service, 0, s->version, op_name};
	if (faults_on(t)) {
		const char *v = fault_instance_version(t->g->c.faults, service, local, s->n_instances, at);
		if (v) {
			w.version = v;
			w.variant = 1;
		}
	}
	return w;
}

static int64_t run_op(struct tg *t, uint32_t opi, const uint8_t *parent, int64_t t0, uint64_t seed, int depth,
		      const struct span_link *link, bool *failed);

/* ---- client calls ---- */

static void http_client_attrs(struct tg *t, struct attrs *l, const char *method, const char *host, const char *route,
			      const char *peer, int status)
{
	struct slice path = fill_route(t, route);
	a_cstr(l, "http.request.method", method);
	a_str(l, "url.full", cat3(t, SLICE_LIT("https://"), slice_cstr(host), path));
	a_cstr(l, "server.address", host);
	a_int(l, "server.port", 443);
	a_cstr(l, "peer.service", peer);
	a_cstr(l, "net.peer.name", host);
	if (status)
		a_int(l, "http.response.status_code", status);
}

static void rpc_client_attrs(struct tg *t, struct attrs *l, const struct topo_op *op, const char *host,
			     const char *peer, int grpc_status)
{
	a_cstr(l, "rpc.system", "grpc");
	a_cstr(l, "rpc.service", op->rpc_service);
	a_cstr(l, "rpc.method", op->rpc_method);
	a_cstr(l, "server.address", host);
	a_int(l, "server.port", 50051);
	a_cstr(l, "peer.service", peer);
	a_cstr(l, "net.peer.name", host);
	a_int(l, "rpc.grpc.status_code", grpc_status);
}

/* A call from w to another service's operation, with retries when a fault
 * makes the first attempts fail. Returns the end of the last attempt. */
static int64_t call_service(struct tg *t, const struct where *w, const struct topo_call *c, const uint8_t *parent,
			    int64_t t0, uint64_t seed, int depth, bool *failed)
{
	const struct topo_op *op = &t->topo->ops[c->target_index];
	const struct topo_service *callee = &t->topo->services[op->service];
	const char *host = t->g->svc_host[op->service];
	bool grpc = callee->proto == TOPO_GRPC;
	struct rng r = {seed};
	struct fault_hit hit;
	faults_for(t, w, t0, true, NULL, callee->name, w->op_name, &hit);
	*failed = false;
	for (uint32_t attempt = 0; attempt <= hit.retries; attempt++) {
		bool last = attempt == hit.retries;
		struct rng ra = {model_mix(seed, attempt + 1)};
		uint32_t ci = span_new(t, w, SCOPE_RPC, &ra, parent, SPAN_KIND_CLIENT,
				       grpc ? slice_cstr(op->name) : cat3(t, slice_cstr(op->method), SLICE_LIT(" "),
									  slice_cstr(op->route)));
		if (ci == UINT32_MAX)
			return t0;
		uint8_t cid[8];
		memcpy(cid, t->b->spans[ci].span_id, 8);
		double net_ms = model_lognormal_ms(&ra, 0.25, 1.5) * hit.latency_factor + hit.added_ms;
		int64_t end;
		bool child_failed = false;
		int status;
		if (last) {
			int64_t s0 = t0 + ms_ns(net_ms / 2);
			int64_t s1 = run_op(t, c->target_index, cid, s0, model_mix(seed, 0), depth + 1, NULL, &child_failed);
			end = s1 + ms_ns(net_ms / 2);
			status = child_failed ? 500 : 200;
		} else {
			/* the attempt times out or is shed by the overloaded callee */
			struct where cw = place(t, op->service, &ra, t0, op->name);
			struct rng rs = {model_mix(seed, 100 + attempt)};
			uint32_t si = span_new(t, &cw, SCOPE_RPC, &rs, cid, SPAN_KIND_SERVER, slice_cstr(op->name));
			if (si == UINT32_MAX)
				return t0;
			int64_t s0 = t0 + ms_ns(net_ms / 2);
			struct span *ss = &t->b->spans[si];
			ss->start_unix_ns = s0;
			ss->end_unix_ns = s0 + ms_ns(0.05 + rng_unit(&rs) * 0.2);
			ss->status_code = STATUS_ERROR;
			ss->status_message = SLICE_LIT("service unavailable: overloaded");
			struct attrs sl = span_attrs(t, si);
			if (grpc) {
				a_cstr(&sl, "rpc.system", "grpc");
				a_cstr(&sl, "rpc.service", op->rpc_service);
				a_cstr(&sl, "rpc.method", op->rpc_method);
				a_int(&sl, "rpc.grpc.status_code", 14);
			} else {
				a_cstr(&sl, "http.request.method", op->method);
				a_cstr(&sl, "http.route", op->route);
				a_str(&sl, "url.path", fill_route(t, op->route));
				a_int(&sl, "http.response.status_code", hit.http_status ? hit.http_status : 503);
			}
			customer_attrs(t, &sl);
			span_set_attrs(t, si, &sl);
			end = t0 + ms_ns(hit.retry_timeout_ms + net_ms);
			child_failed = true;
			status = hit.http_status ? hit.http_status : 503;
		}
		struct span *cs = &t->b->spans[ci];
		cs->start_unix_ns = t0;
		cs->end_unix_ns = end;
		struct attrs l = span_attrs(t, ci);
		if (grpc)
			rpc_client_attrs(t, &l, op, host, callee->name, child_failed ? (last ? 13 : 14) : 0);
		else
			http_client_attrs(t, &l, op->method, host, op->route, callee->name, status);
		if (attempt > 0)
			a_int(&l, "http.request.resend_count", attempt);
		customer_attrs(t, &l);
		span_set_attrs(t, ci, &l);
		if (child_failed) {
			cs->status_code = STATUS_ERROR;
			cs->status_message = last ? SLICE_LIT("upstream request failed") : SLICE_LIT("service unavailable");
		}
		if (last) {
			*failed = child_failed;
			return end;
		}
		t0 = end + ms_ns(10.0 * (1 << attempt) * (0.5 + rng_unit(&r)));
	}
	return t0;
}

/* A database, cache or search query. */
static int64_t call_db(struct tg *t, const struct where *w, const struct topo_call *c, const uint8_t *parent,
		       int64_t t0, uint64_t seed, bool *failed)
{
	const struct topo_db *db = &t->topo->dbs[c->target_index];
	uint32_t shard = model_account_shard(t->account, db->shards);
	const char *db_name = db->db_names[shard];
	struct rng r = {seed};
	double ms = model_lognormal_ms(&r, db->p50_ms, db->p99_ms) * t->load;
	double u_err = rng_unit(&r), u_fault = rng_unit(&r);
	struct fault_hit hit;
	faults_for(t, w, t0, true, db_name, db->peer_service, w->op_name, &hit);
	ms = ms * hit.latency_factor + hit.added_ms;
	uint32_t i = span_new(t, w, SCOPE_DB, &r, parent, SPAN_KIND_CLIENT,
			      cat3(t, slice_cstr(c->operation), SLICE_LIT(" "), slice_cstr(db_name)));
	if (i == UINT32_MAX)
		return t0;
	struct span *s = &t->b->spans[i];
	s->start_unix_ns = t0;
	s->end_unix_ns = t0 + ms_ns(ms) + 1000;
	struct attrs l = span_attrs(t, i);
	a_cstr(&l, "db.system", db->system);
	a_cstr(&l, "db.name", db_name);
	a_cstr(&l, "db.statement", c->statement);
	a_cstr(&l, "db.operation", c->operation);
	a_cstr(&l, "peer.service", db->peer_service);
	a_cstr(&l, "server.address", db->hosts[shard]);
	a_int(&l, "server.port", db->port);
	a_cstr(&l, "net.peer.name", db->hosts[shard]);
	customer_attrs(t, &l);
	span_set_attrs(t, i, &l);
	*failed = false;
	if (u_err < db->error_rate) {
		span_fail(t, i, &r, "java.sql.SQLTransientConnectionException", "connection is not available, request timed out", w);
		*failed = true;
	} else if (u_fault < hit.error_rate) {
		span_fail(t, i, &r, hit.exc_type, hit.exc_message, w);
		*failed = true;
	}
	return s->end_unix_ns;
}

/* A call to an HTTP API outside the system. */
static int64_t call_external(struct tg *t, const struct where *w, const struct topo_call *c, const uint8_t *parent,
			     int64_t t0, uint64_t seed, bool *failed)
{
	const struct topo_external *e = &t->topo->externals[c->target_index];
	struct rng r = {seed};
	double ms = model_lognormal_ms(&r, e->p50_ms, e->p99_ms);
	double u_err = rng_unit(&r), u_fault = rng_unit(&r);
	struct fault_hit hit;
	faults_for(t, w, t0, true, NULL, e->name, w->op_name, &hit);
	ms = ms * hit.latency_factor + hit.added_ms;
	bool fail = u_err < e->error_rate || u_fault < hit.error_rate;
	uint32_t i = span_new(t, w, SCOPE_RPC, &r, parent, SPAN_KIND_CLIENT, slice_cstr(c->operation));
	if (i == UINT32_MAX)
		return t0;
	struct span *s = &t->b->spans[i];
	s->start_unix_ns = t0;
	s->end_unix_ns = t0 + ms_ns(ms) + 1000;
	struct attrs l = span_attrs(t, i);
	http_client_attrs(t, &l, c->operation, e->host, c->statement, e->name,
			  fail ? (u_fault < hit.error_rate && hit.http_status ? hit.http_status : 502) : 200);
	customer_attrs(t, &l);
	span_set_attrs(t, i, &l);
	*failed = fail;
	if (fail) {
		s->status_code = STATUS_ERROR;
		s->status_message = SLICE_LIT("bad gateway");
	}
	return s->end_unix_ns;
}

/* Publish to a topic, then run its consumers later, linked to the
 * producer span. Returns the producer's end: the caller does not wait. */
static int64_t call_produce(struct tg *t, const struct where *w, const struct topo_call *c, const uint8_t *parent,
			    int64_t t0, uint64_t seed, int depth)
{
	const struct topo_topic *q = &t->topo->topics[c->target_index];
	struct rng r = {seed};
	double ms = model_lognormal_ms(&r, 0.4, 4) * t->load;
	uint32_t i = span_new(t, w, SCOPE_MSG, &r, parent, SPAN_KIND_PRODUCER,
			      cat3(t, slice_cstr(q->name), SLICE_LIT(" publish"), (struct slice){0}));
	if (i == UINT32_MAX)
		return t0;
	struct span *s = &t->b->spans[i];
	s->start_unix_ns = t0;
	s->end_unix_ns = t0 + ms_ns(ms) + 1000;
	int64_t end = s->end_unix_ns;
	char msg_id[16];
	hex(s->span_id, 8, msg_id);
	struct slice mid = cat3(t, slice_make(msg_id, 16), (struct slice){0}, (struct slice){0});
	struct attrs l = span_attrs(t, i);
	a_cstr(&l, "messaging.system", q->system);
	a_cstr(&l, "messaging.destination.name", q->name);
	a_cstr(&l, "messaging.operation", "publish");
	a_str(&l, "messaging.message.id", mid);
	a_cstr(&l, "peer.service", q->system);
	a_cstr(&l, "server.address", "kafka-0.kafka.svc.cluster.local");
	a_cstr(&l, "net.peer.name", "kafka-0.kafka.svc.cluster.local");
	customer_attrs(t, &l);
	span_set_attrs(t, i, &l);
	struct span_link *link = arena_zalloc(t->a, sizeof *link);
	if (!link) {
		t->err = CLEW_ENOMEM;
		return end;
	}
	uint8_t pid[8];
	memcpy(pid, s->span_id, 8);
	memcpy(link->trace_id, t->trace_id, 16);
	memcpy(link->span_id, pid, 8);
	link->flags = 0x101;
	for (uint32_t k = 0; k < q->n_consumers; k++) {
		struct rng rc = {model_mix(seed, k + 1)};
		double lag = model_lognormal_ms(&rc, q->lag_p50_ms, q->lag_p99_ms);
		bool cf;
		run_op(t, q->consumers[k], pid, end + ms_ns(lag), model_mix(seed, 1000 + k), depth + 1, link, &cf);
	}
	return end;
}

/* Work inside the service: an internal span. */
static int64_t call_internal(struct tg *t, const struct where *w, const struct topo_call *c, const uint8_t *parent,
			     int64_t t0, uint64_t seed)
{
	struct rng r = {seed};
	double ms = model_lognormal_ms(&r, c->p50_ms, c->p99_ms) * t->load;
	struct fault_hit hit;
	faults_for(t, w, t0, false, NULL, NULL, c->statement, &hit);
	ms = ms * hit.latency_factor + hit.added_ms;
	uint32_t i = span_new(t, w, SCOPE_APP, &r, parent, SPAN_KIND_INTERNAL, slice_cstr(c->statement));
	if (i == UINT32_MAX)
		return t0;
	struct span *s = &t->b->spans[i];
	s->start_unix_ns = t0;
	s->end_unix_ns = t0 + ms_ns(ms) + 1000;
	struct attrs l = span_attrs(t, i);
	customer_attrs(t, &l);
	span_set_attrs(t, i, &l);
	return s->end_unix_ns;
}

static int64_t do_call(struct tg *t, const struct where *w, const struct topo_call *c, const uint8_t *parent,
		       int64_t t0, uint64_t seed, int depth, bool *failed)
{
	*failed = false;
	if (t->n_spans >= GEN_MAX_TRACE_SPANS || depth >= GEN_MAX_DEPTH)
		return t0;
	switch (c->type) {
	case TOPO_CALL_SERVICE:
		return call_service(t, w, c, parent, t0, seed, depth, failed);
	case TOPO_CALL_DB:
		return call_db(t, w, c, parent, t0, seed, failed);
	case TOPO_CALL_EXTERNAL:
		return call_external(t, w, c, parent, t0, seed, failed);
	case TOPO_CALL_PRODUCE:
		return call_produce(t, w, c, parent, t0, seed, depth);
	default:
		return call_internal(t, w, c, parent, t0, seed);
	}
}

/* ---- operations ---- */

/* Run the calls of op from cursor; returns the new cursor. */
static int64_t run_calls(struct tg *t, const struct where *w, const struct topo_op *op, const uint8_t *sid,
			 int64_t cursor, uint64_t seed, int depth, bool *child_failed)
{
	const struct topo_call *calls = &t->topo->calls[op->first_call];
	uint32_t i = 0;
	while (i < op->n_calls) {
		uint32_t j = i + 1;
		if (calls[i].mode == TOPO_PAR)
			while (j < op->n_calls && calls[j].mode == TOPO_PAR)
				j++;
		int64_t group_start = cursor, group_end = cursor;
		for (uint32_t k = i; k < j; k++) {
			const struct topo_call *c = &calls[k];
			struct rng rc = {model_mix(seed, 0x10000 + k)};
			bool made = rng_unit(&rc) < c->prob;
			uint32_t reps = c->repeat_min + (c->repeat_max > c->repeat_min
								 ? rng_below(&rc, c->repeat_max - c->repeat_min + 1u)
								 : 0);
			if (!made)
				continue;
			int64_t at = c->mode == TOPO_PAR ? group_start + ms_ns(rng_unit(&rc) * 0.05) : cursor;
			for (uint32_t n = 0; n < reps; n++) {
				bool f;
				int64_t e = do_call(t, w, c, sid, at, model_mix(seed, (uint64_t)k * 4096 + n), depth, &f);
				*child_failed |= f;
				if (c->mode == TOPO_PAR) {
					if (e > group_end)
						group_end = e;
				} else {
					at = e + ms_ns(0.02 + rng_unit(&rc) * 0.1);
					cursor = group_end = at;
				}
			}
		}
		cursor = group_end;
		i = j;
	}
	return cursor;
}

static void server_attrs(struct tg *t, struct attrs *l, const struct topo_op *op, const struct topo_service *svc,
			 int status, double size_factor, struct rng *r, bool root)
{
	if (op->consumer) {
		const struct topo_topic *q = &t->topo->topics[op->topic];
		a_cstr(l, "messaging.system", q->system);
		a_cstr(l, "messaging.destination.name", q->name);
		a_cstr(l, "messaging.operation", "process");
		a_cstr(l, "messaging.consumer.group.name", svc->name);
	} else if (svc->proto == TOPO_GRPC) {
		a_cstr(l, "rpc.system", "grpc");
		a_cstr(l, "rpc.service", op->rpc_service);
		a_cstr(l, "rpc.method", op->rpc_method);
		a_int(l, "rpc.grpc.status_code", status >= 500 ? (status == 503 ? 14 : 13) : 0);
		a_cstr(l, "server.address", t->g->svc_host[op->service]);
	} else {
		a_cstr(l, "http.request.method", op->method);
		a_cstr(l, "http.route", op->route);
		a_str(l, "url.path", fill_route(t, op->route));
		a_cstr(l, "url.scheme", root ? "https" : "http");
		a_cstr(l, "server.address", root ? "api.example.com" : t->g->svc_host[op->service]);
		a_int(l, "http.response.status_code", status);
		double items = 1 + floor(-log(1.0 - rng_unit(r)) * 4);
		if (op->method[0] == 'P') {
			double len = 200 + model_lognormal_ms(r, 1800, 16000);
			a_int(l, "http.request_content_length", (int64_t)(len * size_factor));
		}
		a_int(l, "app.request.items", (int64_t)(items * size_factor));
		if (root)
			a_cstr(l, "user_agent.original",
			       rng_below(r, 3) ? "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_4) AppleWebKit/605.1.15 Safari/605.1.15"
					       : "example-mobile/7.12.0 (iOS 17.4; iPhone15,2)");
	}
}

/* Run operation opi as a server (or consumer) span under parent starting at
 * t0. Returns its end; *failed tells whether it answered with an error. */
static int64_t run_op(struct tg *t, uint32_t opi, const uint8_t *parent, int64_t t0, uint64_t seed, int depth,
		      const struct span_link *link, bool *failed)
{
	const struct topo_op *op = &t->topo->ops[opi];
	const struct topo_service *svc = &t->topo->services[op->service];
	struct rng r = {seed};
	struct where w = place(t, op->service, &r, t0, op->name);
	double self_ms = model_lognormal_ms(&r, op->p50_ms, op->p99_ms) * t->load;
	double pre_share = 0.2 + 0.5 * rng_unit(&r);
	double u_err = rng_unit(&r), u_fault = rng_unit(&r), u_prop = rng_unit(&r), u_404 = rng_unit(&r);
	struct fault_hit hit;
	faults_for(t, &w, t0, false, NULL, NULL, op->name, &hit);
	self_ms = self_ms * hit.latency_factor + hit.added_ms;
	*failed = false;
	uint32_t i = span_new(t, &w, op->consumer ? SCOPE_MSG : SCOPE_RPC, &r, parent,
			      op->consumer ? SPAN_KIND_CONSUMER : SPAN_KIND_SERVER, slice_cstr(op->name));
	if (i == UINT32_MAX)
		return t0;
	uint8_t sid[8];
	memcpy(sid, t->b->spans[i].span_id, 8);
	int64_t cursor = t0 + ms_ns(self_ms * pre_share);
	bool child_failed = false;
	if (depth < GEN_MAX_DEPTH)
		cursor = run_calls(t, &w, op, sid, cursor, seed, depth, &child_failed);
	int64_t end = cursor + ms_ns(self_ms * (1 - pre_share)) + 2000;
	struct span *s = &t->b->spans[i];
	s->start_unix_ns = t0;
	s->end_unix_ns = end;
	if (link) {
		s->links = (struct span_link *)link;
		s->n_links = 1;
	}
	const char *exc_type = NULL, *exc_msg = NULL;
	int status = 200;
	if (u_err < op->error_rate) {
		exc_type = op->exc_type;
		exc_msg = op->exc_message;
		status = 500;
	} else if (u_fault < hit.error_rate) {
		exc_type = hit.exc_type;
		exc_msg = hit.exc_message;
		status = hit.http_status ? hit.http_status : 500;
	} else if (child_failed && u_prop < 0.8) {
		exc_type = svc->proto == TOPO_GRPC ? "io.grpc.StatusRuntimeException" : "com.example.http.UpstreamException";
		exc_msg = "a downstream call failed";
		status = 502;
	} else if (!op->consumer && svc->proto == TOPO_HTTP && op->method[0] == 'G' && u_404 < 0.01) {
		status = 404;
	}
	struct attrs l = span_attrs(t, i);
	server_attrs(t, &l, op, svc, status, hit.size_factor, &r, parent == NULL);
	customer_attrs(t, &l);
	span_set_attrs(t, i, &l);
	if (exc_type) {
		span_fail(t, i, &r, exc_type, exc_msg, &w);
		*failed = true;
	}
	return end;
}

/* ---- traces and batches ---- */

static uint32_t pick_entry(const struct topo *topo, struct rng *r)
{
	double u = rng_unit(r) * topo->total_weight;
	uint32_t last = 0;
	for (uint32_t i = 0; i < topo->n_ops; i++) {
		if (topo->ops[i].weight <= 0)
			continue;
		last = i;
		if (u < topo->ops[i].weight)
			return i;
		u -= topo->ops[i].weight;
	}
	return last;
}

int gen_trace(struct gen *g, struct span_batch *b)
{
	struct tg t = {.g = g, .topo = g->c.topo, .b = b, .a = b->arena};
	uint64_t seed = model_mix(g->c.seed, g->traces);
	struct rng r = {seed};
	int64_t start = g->clock_ns;
	if (g->c.faults)
		fault_set_advance(g->c.faults, start);
	put_id(t.trace_id, 16, &r);
	uint32_t rank = zipf_sample(&g->zipf, &r);
	t.account = model_account_of_rank(rank, g->c.accounts);
	t.tier = model_account_tier(t.account);
	t.tier_s = slice_cstr(t.tier);
	char tmp[64];
	size_t n = model_account_id(t.account, tmp);
	t.acct_id = cat3(&t, slice_make(tmp, n), (struct slice){0}, (struct slice){0});
	/* a handful of users per account, more for the busy ones */
	uint32_t user = (uint32_t)(hash64_seed(&t.account, sizeof t.account, 0x75736572) % 1000000) * 16 +
			rng_below(&r, rank < 100 ? 16 : 3);
	n = (size_t)snprintf(tmp, sizeof tmp, "user-%08x", user);
	t.user_id = cat3(&t, slice_make(tmp, n), (struct slice){0}, (struct slice){0});
	uint8_t rid[16];
	put_id(rid, 16, &r);
	hex(rid, 16, tmp);
	t.request_id = cat3(&t, slice_make(tmp, 32), (struct slice){0}, (struct slice){0});
	t.load = model_daily_factor(start) * model_minute_noise(g->c.seed, start);
	uint32_t entry = pick_entry(t.topo, &r);
	bool failed;
	run_op(&t, entry, NULL, start, rng_next(&r), 0, NULL, &failed);
	if (t.err)
		return t.err;
	g->traces++;
	g->spans += t.n_spans;
	g->clock_ns = g->c.start_unix_ns + (int64_t)((double)g->spans * 1e9 / g->c.clock_rate);
	return (int)t.n_spans;
}

void gen_batch_begin(struct gen *g)
{
	memset(g->res_cache, 0, (size_t)g->c.topo->n_instances * 2 * sizeof *g->res_cache);
	memset(g->scope_cache, 0, (size_t)g->c.topo->n_instances * 2 * SCOPE_KINDS * sizeof *g->scope_cache);
}

int gen_next_batch(struct gen *g, struct arena *arena, struct span_batch *b)
{
	arena_reset(arena);
	span_batch_init(b, arena);
	gen_batch_begin(g);
	while (b->n_spans < g->c.batch_spans) {
		int rc = gen_trace(g, b);
		if (rc < 0)
			return rc;
	}
	return 0;
}

/* ---- set-up ---- */

static void inst_attrs(struct gen *g, uint32_t i)
{
	const struct topo *topo = g->c.topo;
	const struct topo_instance *in = &topo->instances[i];
	const struct topo_service *s = &topo->services[in->service];
	struct gen_instance *gi = &g->inst[i];
	struct attrs l = {arena_alloc(&g->arena, 20 * sizeof(struct attr)), 0};
	if (!l.items)
		abort();
	char uid[40];
	uint8_t raw[16];
	struct rng r = {hash64(in->pod_name, strlen(in->pod_name))};
	put_id(raw, 16, &r);
	hex(raw, 16, uid);
	a_cstr(&l, "service.name", s->name);
	a_cstr(&l, "service.namespace", s->namespace_);
	gi->version_attr = l.n;
	a_cstr(&l, "service.version", s->version);
	a_str(&l, "service.instance.id", slice_make(arena_memdup(&g->arena, uid, 32), 32));
	a_cstr(&l, "team.name", s->team);
	a_cstr(&l, "deployment.environment", topo->environment);
	a_cstr(&l, "host.name", topo->hosts[in->host]);
	a_cstr(&l, "k8s.node.name", topo->hosts[in->host]);
	a_cstr(&l, "k8s.namespace.name", s->namespace_);
	a_cstr(&l, "k8s.deployment.name", s->name);
	a_cstr(&l, "k8s.pod.name", in->pod_name);
	a_cstr(&l, "cloud.provider", "aws");
	a_cstr(&l, "cloud.region", topo->region);
	a_cstr(&l, "telemetry.sdk.name", "opentelemetry");
	a_cstr(&l, "telemetry.sdk.language", s->language);
	a_cstr(&l, "telemetry.sdk.version", "1.36.0");
	gi->attrs = l.items;
	gi->n_attrs = l.n;
	gi->local_index = i - s->first_instance;
}

int gen_init(struct gen *g, const struct gen_config *c)
{
	memset(g, 0, sizeof *g);
	if (!c->topo || !c->topo->finished || c->accounts == 0 || !(c->clock_rate > 0) || c->batch_spans == 0)
		return CLEW_EINVAL;
	g->c = *c;
	int rc = zipf_init(&g->zipf, c->accounts, c->zipf_s > 0 ? c->zipf_s : 1.0);
	if (rc < 0)
		return rc;
	arena_init(&g->arena, 0);
	const struct topo *topo = c->topo;
	g->inst = xcalloc(topo->n_instances ? topo->n_instances : 1, sizeof *g->inst);
	g->res_cache = xcalloc((size_t)topo->n_instances * 2 + 1, sizeof *g->res_cache);
	g->scope_cache = xcalloc((size_t)topo->n_instances * 2 * SCOPE_KINDS + 1, sizeof *g->scope_cache);
	g->svc_host = xcalloc(topo->n_services, sizeof *g->svc_host);
	for (uint32_t i = 0; i < topo->n_instances; i++)
		inst_attrs(g, i);
	for (uint32_t s = 0; s < topo->n_services; s++) {
		char tmp[256];
		int n = snprintf(tmp, sizeof tmp, "%s.%s.%s", topo->services[s].name, topo->services[s].namespace_,
				 topo->domain);
		g->svc_host[s] = arena_strndup(&g->arena, tmp, n < 0 ? 0 : (size_t)n);
	}
	g->clock_ns = c->start_unix_ns;
	return 0;
}

void gen_free(struct gen *g)
{
	zipf_free(&g->zipf);
	free(g->inst);
	free(g->res_cache);
	free(g->scope_cache);
	free(g->svc_host);
	arena_reset(&g->arena);
	memset(g, 0, sizeof *g);
}
