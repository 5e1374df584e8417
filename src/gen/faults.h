/* Fault scenarios of clew gen. A fault is where (service, operation, host,
 * database, peer service, version) x for whom (every request, one account,
 * the accounts on a shard, a tier) x effect (latency factor or added
 * latency, an error rate with an exception, bigger requests, client
 * retries, a new service.version on a share of the instances) x a window
 * of simulated time (start, duration, and an optional period). Named
 * scenarios (slow-shard, huge-account, bad-deploy, slow-dependency,
 * noisy-host, retry-storm) are presets of that; any key can be overridden.
 * A fault acts only through what its real cause would leave in the spans;
 * its ground truth goes to a stream as one JSON line when it turns on and
 * when it turns off. */
#ifndef CLEW_GEN_FAULTS_H
#define CLEW_GEN_FAULTS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "gen/topology.h"

/* Strings below are NULL for "any". */
struct fault_where {
	const char *service, *operation, *host, *db_name, *peer_service, *version;
};

struct fault_who {
	bool has_account;
	uint32_t account; /* account number (customer.id acct-NNNNNN) */
	int32_t shard;	  /* accounts living on this shard; -1 any */
	const char *tier; /* customer.tier */
};

struct fault_effect {
	double latency_factor; /* own time x factor (1 = none) */
	double added_ms;       /* own time + ms */
	double error_rate;     /* chance the span fails */
	const char *exc_type, *exc_message;
	int http_status;    /* of the failures (HTTP; gRPC gets UNAVAILABLE/INTERNAL) */
	double size_factor; /* http.request_content_length and app.request.items x factor */
	uint32_t retries;   /* failed attempts before each call succeeds */
	double retry_timeout_ms;
	const char *version;	 /* new service.version on a share of where.service's instances */
	double version_fraction; /* that share */
};

struct fault {
	char name[32];
	struct fault_where where;
	struct fault_who who;
	struct fault_effect effect;
	int64_t start_ns, duration_ns, period_ns; /* offsets from the origin; period 0 = once */
	/* resolved by fault_set_bind */
	int32_t service, host; /* -1 any */
	bool on;
	int64_t next_edge_ns;
	char *owned[16]; /* strings this fault owns */
	uint32_t n_owned;
};

struct fault_set {
	struct fault *items;
	uint32_t n, cap;
	int64_t origin_ns;
	uint32_t accounts, shards;
	FILE *truth; /* ground truth lines; NULL = none */
};

/* What the faults do to one span: the product of the factors, the sum of
 * the additions, the highest error rate (with its exception). */
struct fault_hit {
	double latency_factor, added_ms, error_rate, size_factor, retry_timeout_ms;
	const char *exc_type, *exc_message;
	int http_status;
	uint32_t retries;
};

/* The span being decided, as far as faults can see it. A client span
 * (client = true) has db_name or peer set and is matched by where's
 * db_name / peer_service; other spans by service, operation, host and
 * version. */
struct fault_span {
	int64_t t_ns;
	uint32_t service, host;
	const char *operation, *version;
	bool client;
	const char *db_name, *peer;
	uint32_t account;
	const char *tier;
};

void fault_set_init(struct fault_set *s);
void fault_set_free(struct fault_set *s);

/* Add a fault from "NAME[:key=value,...]" (the --fault syntax, see
 * docs/gen.md). 0, or CLEW_EINVAL with a sentence in err. */
int fault_set_add(struct fault_set *s, const char *spec, char *err, size_t err_len);

/* Add every named scenario, each on for on_ns once every period_ns, one
 * after another (scenario k starts at 1 minute + k * period_ns and comes
 * back every n * period_ns). 0 or CLEW_EINVAL. */
int fault_set_add_cycle(struct fault_set *s, int64_t period_ns, int64_t on_ns);

/* Resolve the faults against topology t (defaults that depend on it, name
 * checks), for simulated time starting at origin_ns and the given number
 * of accounts. 0, or CLEW_EINVAL with a sentence in err. */
int fault_set_bind(struct fault_set *s, const struct topo *t, int64_t origin_ns, uint32_t accounts, char *err,
		   size_t err_len);

/* Move simulated time to now_ns: every fault that turned on or off since
 * the last call writes its ground truth line (at the exact edge time). */
void fault_set_advance(struct fault_set *s, int64_t now_ns);

/* Whether f's window holds t_ns. */
bool fault_active(const struct fault_set *s, const struct fault *f, int64_t t_ns);

/* The service.version that instance local_index (of n_instances) of
 * service shows at t_ns, or NULL for its normal version: a deploy fault
 * relabels the first max(1, round(fraction * n)) instances. */
const char *fault_instance_version(const struct fault_set *s, uint32_t service, uint32_t local_index,
				   uint32_t n_instances, int64_t t_ns);

/* Fill *hit with what the active faults do to span sp; returns whether any
 * fault matched. */
bool fault_apply(const struct fault_set *s, const struct fault_span *sp, struct fault_hit *hit);

/* Write f's ground truth line for state "on" or "off" at at_ns to out. */
void fault_write_truth(const struct fault_set *s, const struct fault *f, bool on, int64_t at_ns, FILE *out);

/* Names of the built-in scenarios, NULL-terminated. */
extern const char *const fault_scenarios[];

#endif
