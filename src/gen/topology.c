/* The simulated system of clew gen: builders, name resolution, layout of
 * instances on hosts, and the JSON topology file (docs/gen.md). The default
 * system is in topology_default.c. */
#include "gen/topology.h"

#include <errno.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "base/err.h"
#include "base/hash.h"

#define TOPO_MAX_ELEMS 100000

void topo_init(struct topo *t)
{
	memset(t, 0, sizeof *t);
	arena_init(&t->arena, 0);
	t->region = "eu-west-1";
	t->environment = "production";
	t->domain = "svc.cluster.local";
	t->n_hosts_wanted = 24;
}

void topo_free(struct topo *t)
{
	free(t->services);
	free(t->ops);
	free(t->calls);
	free(t->dbs);
	free(t->topics);
	free(t->externals);
	arena_reset(&t->arena);
	memset(t, 0, sizeof *t);
}

const char *topo_str(struct topo *t, const char *s)
{
	if (!s)
		return NULL;
	char *p = arena_strndup(&t->arena, s, strlen(s));
	if (!p)
		abort(); /* the arena has no cap: malloc failed */
	return p;
}

/* Append a zeroed element to a growable array (small, fixed-size: aborts
 * when memory is exhausted). */
static void *grow(void **arr, uint32_t *n, uint32_t *cap, size_t size)
{
	if (*n == *cap) {
		*cap = *cap ? *cap * 2 : 16;
		*arr = xrealloc(*arr, (size_t)*cap * size);
	}
	char *e = (char *)*arr + (size_t)(*n)++ * size;
	memset(e, 0, size);
	return e;
}

struct topo_service *topo_add_service(struct topo *t, const char *name, const char *namespace_, const char *team,
				      enum topo_proto proto, uint32_t instances)
{
	struct topo_service *s = grow((void **)&t->services, &t->n_services, &t->cap_services, sizeof *s);
	s->name = topo_str(t, name);
	s->namespace_ = topo_str(t, namespace_ ? namespace_ : "default");
	s->team = topo_str(t, team ? team : "platform");
	s->version = NULL; /* topo_finish picks a stable one */
	s->language = proto == TOPO_GRPC ? "go" : "java";
	s->proto = (uint8_t)proto;
	s->n_instances = instances ? instances : 1;
	s->first_op = t->n_ops;
	return s;
}

static struct topo_op *add_op(struct topo *t, const char *name, double p50_ms, double p99_ms, double error_rate)
{
	struct topo_op *o = grow((void **)&t->ops, &t->n_ops, &t->cap_ops, sizeof *o);
	o->service = t->n_services ? t->n_services - 1 : 0;
	o->name = topo_str(t, name);
	o->p50_ms = p50_ms;
	o->p99_ms = p99_ms;
	o->error_rate = error_rate;
	o->first_call = t->n_calls;
	if (t->n_services)
		t->services[t->n_services - 1].n_ops++;
	return o;
}

struct topo_op *topo_add_op(struct topo *t, const char *name, double p50_ms, double p99_ms, double error_rate)
{
	return add_op(t, name, p50_ms, p99_ms, error_rate);
}

struct topo_op *topo_add_consumer(struct topo *t, const char *topic, double p50_ms, double p99_ms,
				  double error_rate)
{
	char name[256];
	snprintf(name, sizeof name, "%s process", topic);
	struct topo_op *o = add_op(t, name, p50_ms, p99_ms, error_rate);
	o->consumer = true;
	o->route = topo_str(t, topic); /* the topic name until topo_finish */
	return o;
}

struct topo_call *topo_add_call(struct topo *t, enum topo_call_type type, const char *target, const char *arg1,
				const char *arg2)
{
	struct topo_call *c = grow((void **)&t->calls, &t->n_calls, &t->cap_calls, sizeof *c);
	c->type = (uint8_t)type;
	c->mode = TOPO_SEQ;
	c->repeat_min = c->repeat_max = 1;
	c->prob = 1.0;
	c->target = topo_str(t, target);
	switch (type) {
	case TOPO_CALL_SERVICE:
		c->target_op = topo_str(t, arg1);
		break;
	case TOPO_CALL_DB:
		c->statement = topo_str(t, arg1);
		c->operation = topo_str(t, arg2);
		break;
	case TOPO_CALL_EXTERNAL:
		c->operation = topo_str(t, arg1 ? arg1 : "GET");
		c->statement = topo_str(t, arg2 ? arg2 : "/");
		break;
	case TOPO_CALL_INTERNAL:
		c->statement = c->target;
		c->p50_ms = 0.2;
		c->p99_ms = 2;
		break;
	default:
		break;
	}
	if (t->n_ops)
		t->ops[t->n_ops - 1].n_calls++;
	return c;
}

struct topo_db *topo_add_db(struct topo *t, const char *name, const char *system, uint32_t shards, double p50_ms,
			    double p99_ms)
{
	struct topo_db *d = grow((void **)&t->dbs, &t->n_dbs, &t->cap_dbs, sizeof *d);
	d->name = topo_str(t, name);
	d->system = topo_str(t, system);
	d->peer_service = d->name;
	d->shards = shards ? shards : 1;
	d->p50_ms = p50_ms;
	d->p99_ms = p99_ms;
	d->port = strcmp(system, "redis") == 0 ? 6379 : strcmp(system, "elasticsearch") == 0 ? 9200 : 5432;
	return d;
}

struct topo_topic *topo_add_topic(struct topo *t, const char *name, double lag_p50_ms, double lag_p99_ms)
{
	struct topo_topic *q = grow((void **)&t->topics, &t->n_topics, &t->cap_topics, sizeof *q);
	q->name = topo_str(t, name);
	q->system = "kafka";
	q->lag_p50_ms = lag_p50_ms;
	q->lag_p99_ms = lag_p99_ms;
	return q;
}

struct topo_external *topo_add_external(struct topo *t, const char *name, const char *host, double p50_ms,
					double p99_ms, double error_rate)
{
	struct topo_external *e = grow((void **)&t->externals, &t->n_externals, &t->cap_externals, sizeof *e);
	e->name = topo_str(t, name);
	e->host = topo_str(t, host);
	e->p50_ms = p50_ms;
	e->p99_ms = p99_ms;
	e->error_rate = error_rate;
	return e;
}

int topo_find_service(const struct topo *t, const char *name)
{
	for (uint32_t i = 0; i < t->n_services; i++)
		if (strcmp(t->services[i].name, name) == 0)
			return (int)i;
	return -1;
}

int topo_find_op(const struct topo *t, uint32_t service, const char *name)
{
	if (service >= t->n_services)
		return -1;
	const struct topo_service *s = &t->services[service];
	for (uint32_t i = s->first_op; i < s->first_op + s->n_ops; i++)
		if (strcmp(t->ops[i].name, name) == 0)
			return (int)i;
	return -1;
}

int topo_find_db(const struct topo *t, const char *name)
{
	for (uint32_t i = 0; i < t->n_dbs; i++)
		if (strcmp(t->dbs[i].name, name) == 0)
			return (int)i;
	return -1;
}

int topo_find_host(const struct topo *t, const char *name)
{
	for (uint32_t i = 0; i < t->n_hosts; i++)
		if (strcmp(t->hosts[i], name) == 0)
			return (int)i;
	return -1;
}

static int find_topic(const struct topo *t, const char *name)
{
	for (uint32_t i = 0; i < t->n_topics; i++)
		if (strcmp(t->topics[i].name, name) == 0)
			return (int)i;
	return -1;
}

static int find_external(const struct topo *t, const char *name)
{
	for (uint32_t i = 0; i < t->n_externals; i++)
		if (strcmp(t->externals[i].name, name) == 0)
			return (int)i;
	return -1;
}

__attribute__((format(printf, 3, 4))) static int fail(char *err, size_t err_len, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	if (err && err_len)
		vsnprintf(err, err_len, fmt, ap);
	va_end(ap);
	return CLEW_EINVAL;
}

__attribute__((format(printf, 2, 3))) static const char *strf(struct topo *t, const char *fmt, ...)
{
	char tmp[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(tmp, sizeof tmp, fmt, ap);
	va_end(ap);
	return topo_str(t, tmp);
}

/* Split "A B" or "A/B" at the first sep into two arena strings. */
static void split(struct topo *t, const char *s, char sep, const char **a, const char **b)
{
	const char *p = strchr(s, sep);
	if (!p) {
		*a = NULL;
		*b = s;
		return;
	}
	*a = arena_strndup(&t->arena, s, (size_t)(p - s));
	*b = topo_str(t, p + 1);
	if (!*a)
		abort();
}

static int resolve_calls(struct topo *t, char *err, size_t err_len)
{
	for (uint32_t oi = 0; oi < t->n_ops; oi++) {
		struct topo_op *o = &t->ops[oi];
		for (uint32_t ci = o->first_call; ci < o->first_call + o->n_calls; ci++) {
			struct topo_call *c = &t->calls[ci];
			int idx = -1;
			if (c->repeat_min == 0 || c->repeat_max < c->repeat_min)
				return fail(err, err_len, "operation '%s': a call's repeat range is empty", o->name);
			switch (c->type) {
			case TOPO_CALL_SERVICE: {
				int s = topo_find_service(t, c->target);
				if (s < 0)
					return fail(err, err_len, "operation '%s' calls unknown service '%s'", o->name,
						    c->target);
				idx = topo_find_op(t, (uint32_t)s, c->target_op ? c->target_op : "");
				if (idx < 0)
					return fail(err, err_len, "operation '%s' calls unknown operation '%s' of '%s'",
						    o->name, c->target_op ? c->target_op : "", c->target);
				if (t->ops[idx].consumer)
					return fail(err, err_len, "operation '%s' calls consumer '%s' directly",
						    o->name, c->target_op);
				break;
			}
			case TOPO_CALL_DB:
				if ((idx = topo_find_db(t, c->target)) < 0)
					return fail(err, err_len, "operation '%s' uses unknown database '%s'", o->name,
						    c->target);
				if (!c->statement)
					c->statement = "SELECT 1";
				if (!c->operation)
					c->operation = "SELECT";
				break;
			case TOPO_CALL_PRODUCE:
				if ((idx = find_topic(t, c->target)) < 0)
					return fail(err, err_len, "operation '%s' publishes to unknown topic '%s'",
						    o->name, c->target);
				break;
			case TOPO_CALL_EXTERNAL:
				if ((idx = find_external(t, c->target)) < 0)
					return fail(err, err_len, "operation '%s' calls unknown external API '%s'",
						    o->name, c->target);
				break;
			case TOPO_CALL_INTERNAL:
				idx = 0;
				break;
			default:
				return fail(err, err_len, "operation '%s': bad call type", o->name);
			}
			c->target_index = (uint32_t)idx;
		}
	}
	return 0;
}

/* A short stable alphanumeric tag of n chars from h (pod name suffixes). */
static void tag(uint64_t h, char *out, size_t n)
{
	static const char alphabet[] = "bcdfghjklmnpqrstvwxz2456789";
	for (size_t i = 0; i < n; i++) {
		out[i] = alphabet[h % (sizeof alphabet - 1)];
		h /= sizeof alphabet - 1;
	}
	out[n] = 0;
}

static void layout(struct topo *t)
{
	if (t->n_hosts_wanted == 0)
		t->n_hosts_wanted = 1;
	t->n_hosts = t->n_hosts_wanted;
	t->hosts = arena_array(&t->arena, t->n_hosts, sizeof *t->hosts);
	for (uint32_t h = 0; h < t->n_hosts; h++)
		t->hosts[h] = strf(t, "ip-10-0-%u-%u.%s.compute.internal", 16 + h / 8 * 16 + h % 3, 11 + h * 7 % 240,
				   t->region);
	uint32_t n = 0;
	for (uint32_t s = 0; s < t->n_services; s++)
		n += t->services[s].n_instances;
	t->instances = arena_array(&t->arena, n ? n : 1, sizeof *t->instances);
	t->n_instances = n;
	uint32_t k = 0;
	for (uint32_t s = 0; s < t->n_services; s++) {
		struct topo_service *sv = &t->services[s];
		uint64_t hs = hash64(sv->name, strlen(sv->name));
		char rs[16];
		tag(hs, rs, 10);
		if (!sv->version)
			sv->version = strf(t, "%u.%u.%u", 1 + (unsigned)(hs % 3), (unsigned)(hs / 3 % 40),
					   (unsigned)(hs / 120 % 12));
		sv->first_instance = k;
		for (uint32_t i = 0; i < sv->n_instances; i++, k++) {
			char suffix[8];
			tag(hs * 31 + i * 0x9E3779B97F4A7C15ull, suffix, 5);
			t->instances[k].service = s;
			/* spread a service's pods over distinct hosts, from a
			 * per-service starting point */
			t->instances[k].host = (uint32_t)((hs % t->n_hosts + (uint64_t)i * 5) % t->n_hosts);
			t->instances[k].pod_name = strf(t, "%s-%s-%s", sv->name, rs, suffix);
		}
	}
	for (uint32_t d = 0; d < t->n_dbs; d++) {
		struct topo_db *db = &t->dbs[d];
		const char *base = db->db_names ? db->db_names[0] : db->name;
		db->db_names = arena_array(&t->arena, db->shards, sizeof *db->db_names);
		db->hosts = arena_array(&t->arena, db->shards, sizeof *db->hosts);
		for (uint32_t i = 0; i < db->shards; i++) {
			db->db_names[i] = db->shards > 1 ? strf(t, "%s_shard_%u", base, i) : base;
			db->hosts[i] = db->shards > 1 ? strf(t, "%s-%u.db.internal", db->name, i)
						      : strf(t, "%s.db.internal", db->name);
		}
	}
}

int topo_finish(struct topo *t, char *err, size_t err_len)
{
	if (t->finished)
		return 0;
	if (t->n_services == 0)
		return fail(err, err_len, "the topology has no services");
	for (uint32_t i = 0; i < t->n_services; i++)
		for (uint32_t j = i + 1; j < t->n_services; j++)
			if (strcmp(t->services[i].name, t->services[j].name) == 0)
				return fail(err, err_len, "service '%s' is defined twice", t->services[i].name);
	t->total_weight = 0;
	for (uint32_t oi = 0; oi < t->n_ops; oi++) {
		struct topo_op *o = &t->ops[oi];
		const struct topo_service *s = &t->services[o->service];
		if (!(o->p50_ms >= 0) || !(o->p99_ms >= 0) || !(o->error_rate >= 0 && o->error_rate <= 1))
			return fail(err, err_len, "operation '%s': latency and error rate must be >= 0 (rate <= 1)",
				    o->name);
		if (o->consumer) {
			int q = find_topic(t, o->route);
			if (q < 0)
				return fail(err, err_len, "consumer '%s' reads unknown topic '%s'", o->name, o->route);
			o->topic = (uint32_t)q;
			o->route = NULL;
		} else if (s->proto == TOPO_GRPC) {
			split(t, o->name, '/', &o->rpc_service, &o->rpc_method);
			if (!o->rpc_service)
				return fail(err, err_len, "gRPC operation '%s' is not 'pkg.Service/Method'", o->name);
		} else {
			split(t, o->name, ' ', &o->method, &o->route);
			if (!o->method || o->route[0] != '/')
				return fail(err, err_len, "HTTP operation '%s' is not 'METHOD /route'", o->name);
		}
		if (!o->exc_type)
			o->exc_type = s->proto == TOPO_GRPC ? "io.grpc.StatusRuntimeException" : "java.lang.IllegalStateException";
		if (!o->exc_message)
			o->exc_message = "request failed";
		if (o->weight > 0)
			t->total_weight += o->weight;
	}
	if (!(t->total_weight > 0))
		return fail(err, err_len, "no operation has an entry weight: nothing starts a trace");
	int rc = resolve_calls(t, err, err_len);
	if (rc < 0)
		return rc;
	for (uint32_t q = 0; q < t->n_topics; q++) {
		struct topo_topic *tp = &t->topics[q];
		uint32_t n = 0;
		for (uint32_t oi = 0; oi < t->n_ops; oi++)
			n += t->ops[oi].consumer && t->ops[oi].topic == q;
		tp->consumers = arena_array(&t->arena, n ? n : 1, sizeof *tp->consumers);
		tp->n_consumers = 0;
		for (uint32_t oi = 0; oi < t->n_ops; oi++)
			if (t->ops[oi].consumer && t->ops[oi].topic == q)
				tp->consumers[tp->n_consumers++] = oi;
	}
	layout(t);
	t->finished = true;
	return 0;
}

/* ---- topology file ---- */

static double num(json_t *o, const char *key, double def)
{
	json_t *v = json_object_get(o, key);
	return json_is_number(v) ? json_number_value(v) : def;
}

static const char *str(json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);
	return json_is_string(v) ? json_string_value(v) : NULL;
}

static int load_call(struct topo *t, json_t *jc, const char *op, char *err, size_t err_len)
{
	struct topo_call *c;
	const char *s;
	if (!json_is_object(jc))
		return fail(err, err_len, "operation '%s': a call is not an object", op);
	if ((s = str(jc, "service")))
		c = topo_add_call(t, TOPO_CALL_SERVICE, s, str(jc, "operation"), NULL);
	else if ((s = str(jc, "db")))
		c = topo_add_call(t, TOPO_CALL_DB, s, str(jc, "statement"), str(jc, "operation"));
	else if ((s = str(jc, "produce")))
		c = topo_add_call(t, TOPO_CALL_PRODUCE, s, NULL, NULL);
	else if ((s = str(jc, "external")))
		c = topo_add_call(t, TOPO_CALL_EXTERNAL, s, str(jc, "method"), str(jc, "path"));
	else if ((s = str(jc, "internal"))) {
		c = topo_add_call(t, TOPO_CALL_INTERNAL, s, NULL, NULL);
		c->p50_ms = num(jc, "p50_ms", c->p50_ms);
		c->p99_ms = num(jc, "p99_ms", c->p99_ms);
	} else
		return fail(err, err_len,
			    "operation '%s': a call needs one of service, db, produce, external, internal", op);
	c->mode = json_is_true(json_object_get(jc, "parallel")) ? TOPO_PAR : TOPO_SEQ;
	c->prob = num(jc, "prob", 1.0);
	json_t *rep = json_object_get(jc, "repeat");
	double lo = 1, hi = 1;
	if (json_is_number(rep))
		lo = hi = json_number_value(rep);
	else if (json_is_array(rep) && json_array_size(rep) == 2) {
		lo = json_number_value(json_array_get(rep, 0));
		hi = json_number_value(json_array_get(rep, 1));
	}
	if (!(lo >= 1 && hi >= lo && hi <= 1000) || !(c->prob >= 0 && c->prob <= 1))
		return fail(err, err_len, "operation '%s': repeat must be 1..1000 and prob 0..1", op);
	c->repeat_min = (uint16_t)lo;
	c->repeat_max = (uint16_t)hi;
	return 0;
}

static int load_service(struct topo *t, json_t *js, char *err, size_t err_len)
{
	const char *name = str(js, "name");
	if (!name)
		return fail(err, err_len, "a service has no name");
	const char *proto = str(js, "protocol");
	enum topo_proto p = proto && strcmp(proto, "grpc") == 0 ? TOPO_GRPC : TOPO_HTTP;
	if (proto && p == TOPO_HTTP && strcmp(proto, "http") != 0)
		return fail(err, err_len, "service '%s': protocol must be http or grpc", name);
	double inst = num(js, "instances", 3);
	if (!(inst >= 1 && inst <= 1000))
		return fail(err, err_len, "service '%s': instances must be 1..1000", name);
	struct topo_service *s = topo_add_service(t, name, str(js, "namespace"), str(js, "team"), p, (uint32_t)inst);
	if (str(js, "version"))
		s->version = topo_str(t, str(js, "version"));
	if (str(js, "language"))
		s->language = topo_str(t, str(js, "language"));
	json_t *ops = json_object_get(js, "operations"), *jo;
	size_t i;
	json_array_foreach(ops, i, jo)
	{
		const char *oname = str(jo, "name"), *topic = str(jo, "consumes");
		if (!oname && !topic)
			return fail(err, err_len, "service '%s': an operation has no name", name);
		double p50 = num(jo, "p50_ms", 5), p99 = num(jo, "p99_ms", p50 * 5), er = num(jo, "error_rate", 0.001);
		struct topo_op *o = topic ? topo_add_consumer(t, topic, p50, p99, er) : topo_add_op(t, oname, p50, p99, er);
		o->weight = num(jo, "weight", 0);
		json_t *exc = json_object_get(jo, "exception");
		if (json_is_object(exc)) {
			o->exc_type = topo_str(t, str(exc, "type"));
			o->exc_message = topo_str(t, str(exc, "message"));
		}
		const char *oname_msg = o->name;
		json_t *calls = json_object_get(jo, "calls"), *jc;
		size_t k;
		json_array_foreach(calls, k, jc)
		{
			int rc = load_call(t, jc, oname_msg, err, err_len);
			if (rc < 0)
				return rc;
		}
		if (t->n_ops > TOPO_MAX_ELEMS || t->n_calls > TOPO_MAX_ELEMS)
			return fail(err, err_len, "the topology is too large");
	}
	return 0;
}

static int load_root(struct topo *t, json_t *root, char *err, size_t err_len)
{
	json_t *e;
	size_t i;
	int rc;
	if (!json_is_object(root))
		return fail(err, err_len, "the topology must be a JSON object");
	if (str(root, "region"))
		t->region = topo_str(t, str(root, "region"));
	if (str(root, "environment"))
		t->environment = topo_str(t, str(root, "environment"));
	double hosts = num(root, "hosts", t->n_hosts_wanted);
	if (!(hosts >= 1 && hosts <= 10000))
		return fail(err, err_len, "hosts must be 1..10000");
	t->n_hosts_wanted = (uint32_t)hosts;
	json_array_foreach(json_object_get(root, "databases"), i, e)
	{
		const char *name = str(e, "name"), *system = str(e, "system");
		double shards = num(e, "shards", 1);
		if (!name || !system || !(shards >= 1 && shards <= 1024))
			return fail(err, err_len, "a database needs name, system and shards 1..1024");
		double p50 = num(e, "p50_ms", 1);
		struct topo_db *d = topo_add_db(t, name, system, (uint32_t)shards, p50, num(e, "p99_ms", p50 * 10));
		d->error_rate = num(e, "error_rate", 0);
		if (str(e, "database")) {
			d->db_names = arena_array(&t->arena, 1, sizeof *d->db_names);
			d->db_names[0] = topo_str(t, str(e, "database"));
		}
		d->port = (uint32_t)num(e, "port", d->port);
	}
	json_array_foreach(json_object_get(root, "topics"), i, e)
	{
		if (!str(e, "name"))
			return fail(err, err_len, "a topic has no name");
		struct topo_topic *q = topo_add_topic(t, str(e, "name"), num(e, "lag_p50_ms", 20), num(e, "lag_p99_ms", 500));
		if (str(e, "system"))
			q->system = topo_str(t, str(e, "system"));
	}
	json_array_foreach(json_object_get(root, "externals"), i, e)
	{
		const char *name = str(e, "name"), *host = str(e, "host");
		if (!name || !host)
			return fail(err, err_len, "an external API needs name and host");
		double p50 = num(e, "p50_ms", 50);
		topo_add_external(t, name, host, p50, num(e, "p99_ms", p50 * 8), num(e, "error_rate", 0.001));
	}
	json_t *services = json_object_get(root, "services");
	if (!json_is_array(services))
		return fail(err, err_len, "the topology needs a \"services\" array");
	json_array_foreach(services, i, e)
	{
		if ((rc = load_service(t, e, err, err_len)) < 0)
			return rc;
	}
	return topo_finish(t, err, err_len);
}

int topo_load_file(struct topo *t, const char *path, char *err, size_t err_len)
{
	json_error_t jerr;
	json_t *root = json_load_file(path, JSON_REJECT_DUPLICATES, &jerr);
	if (!root) {
		if (jerr.position == 0 && jerr.line <= 0)
			return errno ? -errno : fail(err, err_len, "%s: %s", path, jerr.text);
		snprintf(err, err_len, "%s:%d:%d: %s", path, jerr.line, jerr.column, jerr.text);
		return CLEW_EPARSE;
	}
	int rc = load_root(t, root, err, err_len);
	json_decref(root);
	return rc;
}
