/* The simulated system of clew gen: services with their namespaces, teams
 * and instances (pods on hosts), the operations each serves (HTTP routes,
 * gRPC methods, message consumers) and the calls each operation makes
 * (other services, databases and caches, message topics, external APIs,
 * internal work), in sequence or in parallel. A topology is built with the
 * topo_add_* calls (the default system and the JSON topology file both use
 * them) and then resolved by topo_finish, which turns names into indices and
 * lays out instances. After that it is read-only. */
#ifndef CLEW_GEN_TOPOLOGY_H
#define CLEW_GEN_TOPOLOGY_H

#include <stdbool.h>
#include <stdint.h>

#include "base/arena.h"

enum topo_proto {
	TOPO_HTTP = 0,
	TOPO_GRPC = 1,
};

enum topo_call_type {
	TOPO_CALL_SERVICE = 0,	/* an operation of another service */
	TOPO_CALL_DB = 1,	/* a database, cache or search engine */
	TOPO_CALL_PRODUCE = 2,	/* publish to a topic; its consumers run later */
	TOPO_CALL_EXTERNAL = 3, /* an HTTP API outside the system */
	TOPO_CALL_INTERNAL = 4, /* work inside the service, an internal span */
};

enum topo_call_mode {
	TOPO_SEQ = 0, /* after the previous call ends */
	TOPO_PAR = 1, /* together with the neighbouring parallel calls */
};

struct topo_call {
	uint8_t type; /* enum topo_call_type */
	uint8_t mode; /* enum topo_call_mode */
	uint16_t repeat_min, repeat_max; /* made this many times (fan-out when parallel) */
	double prob;			 /* chance the call is made at all */
	const char *target;		 /* service, database, topic or external name */
	const char *target_op;		 /* TOPO_CALL_SERVICE: the operation name */
	uint32_t target_index;		 /* resolved: op, db, topic or external index */
	/* DB: db.statement / db.operation; EXTERNAL: url path / method;
	 * INTERNAL: span name in statement. */
	const char *statement, *operation;
	double p50_ms, p99_ms; /* INTERNAL only */
};

struct topo_op {
	uint32_t service;
	const char *name;		      /* span name */
	const char *method, *route;	      /* HTTP */
	const char *rpc_service, *rpc_method; /* gRPC, from "pkg.Service/Method" */
	bool consumer;			      /* a message consumer (of topic) */
	uint32_t topic;			      /* resolved, consumers only */
	double weight;			      /* share as an entry point; 0 = none */
	double p50_ms, p99_ms;		      /* self time */
	double error_rate;
	const char *exc_type, *exc_message;
	uint32_t first_call, n_calls; /* into topo.calls */
};

struct topo_service {
	const char *name, *namespace_, *team, *version, *language;
	uint8_t proto; /* enum topo_proto */
	uint32_t n_instances, first_instance;
	uint32_t first_op, n_ops;
};

struct topo_instance {
	uint32_t service;
	uint32_t host; /* index into topo.hosts */
	const char *pod_name;
};

struct topo_db {
	const char *name;	  /* logical name, e.g. "accounts" */
	const char *system;	  /* db.system: postgresql, redis, elasticsearch ... */
	const char *peer_service; /* peer.service */
	uint32_t shards;	  /* > 1: db.name is "<name>_shard_<n>", chosen by account */
	const char **db_names;	  /* per shard, after topo_finish */
	const char **hosts;	  /* server.address per shard */
	uint32_t port;
	double p50_ms, p99_ms, error_rate;
};

struct topo_topic {
	const char *name;
	const char *system; /* kafka */
	double lag_p50_ms, lag_p99_ms;
	uint32_t *consumers; /* op indices, after topo_finish */
	uint32_t n_consumers;
};

struct topo_external {
	const char *name; /* peer.service */
	const char *host; /* server.address */
	double p50_ms, p99_ms, error_rate;
};

struct topo {
	struct arena arena; /* strings and resolved tables */
	struct topo_service *services;
	uint32_t n_services, cap_services;
	struct topo_op *ops;
	uint32_t n_ops, cap_ops;
	struct topo_call *calls;
	uint32_t n_calls, cap_calls;
	struct topo_db *dbs;
	uint32_t n_dbs, cap_dbs;
	struct topo_topic *topics;
	uint32_t n_topics, cap_topics;
	struct topo_external *externals;
	uint32_t n_externals, cap_externals;
	struct topo_instance *instances;
	uint32_t n_instances;
	const char **hosts;
	uint32_t n_hosts;
	const char *region, *environment, *domain;
	uint32_t n_hosts_wanted;
	double total_weight; /* of entry operations */
	bool finished;
};

/* An empty topology (region eu-west-1, environment production, 24 hosts). */
void topo_init(struct topo *t);
void topo_free(struct topo *t);

/* Builders. Strings are copied. Operations and calls attach to the last
 * service and last operation added; calls to not-yet-added things are
 * resolved by topo_finish. Each returns the new element (valid until the
 * next add of its kind). */
struct topo_service *topo_add_service(struct topo *t, const char *name, const char *namespace_, const char *team,
				      enum topo_proto proto, uint32_t instances);
/* name for HTTP is "METHOD /route"; for gRPC "pkg.Service/Method". */
struct topo_op *topo_add_op(struct topo *t, const char *name, double p50_ms, double p99_ms, double error_rate);
/* A consumer operation of topic (span name "<topic> process"). */
struct topo_op *topo_add_consumer(struct topo *t, const char *topic, double p50_ms, double p99_ms,
				  double error_rate);
struct topo_call *topo_add_call(struct topo *t, enum topo_call_type type, const char *target, const char *arg1,
				const char *arg2);
struct topo_db *topo_add_db(struct topo *t, const char *name, const char *system, uint32_t shards, double p50_ms,
			    double p99_ms);
struct topo_topic *topo_add_topic(struct topo *t, const char *name, double lag_p50_ms, double lag_p99_ms);
struct topo_external *topo_add_external(struct topo *t, const char *name, const char *host, double p50_ms,
					double p99_ms, double error_rate);
/* A copy of s in the topology's arena. */
const char *topo_str(struct topo *t, const char *s);

/* Resolve names and lay out instances and hosts. 0, or CLEW_EINVAL with a
 * sentence in err (what is unknown or inconsistent). */
int topo_finish(struct topo *t, char *err, size_t err_len);

/* Build the default system (about 40 services) into t and finish it. */
int topo_default(struct topo *t);

/* Load a topology file (JSON, see docs/gen.md) into t and finish it.
 * 0, -errno, or CLEW_EPARSE / CLEW_EINVAL with a sentence in err. */
int topo_load_file(struct topo *t, const char *path, char *err, size_t err_len);

/* Index of the service, op (of service), db, topic, external or host
 * with that name, or -1. */
int topo_find_service(const struct topo *t, const char *name);
int topo_find_op(const struct topo *t, uint32_t service, const char *name);
int topo_find_db(const struct topo *t, const char *name);
int topo_find_host(const struct topo *t, const char *name);

#endif
