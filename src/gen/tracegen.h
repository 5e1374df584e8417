/* clew gen's trace builder: whole traces of the simulated system into a
 * span_batch, with nesting timings (children inside parents, parallel
 * calls overlapping, consumers after their producers and linked to them),
 * span kinds and status, OpenTelemetry semantic-convention attributes,
 * resources per service instance, customers from the Zipf model, and the
 * active faults applied. Time is simulated: trace k starts at
 * start + (spans generated before it) / clock_rate, so a seed and a start
 * give the same bytes on every run. */
#ifndef CLEW_GEN_TRACEGEN_H
#define CLEW_GEN_TRACEGEN_H

#include <stdint.h>

#include "base/arena.h"
#include "gen/faults.h"
#include "gen/model.h"
#include "gen/topology.h"
#include "ingest/span.h"

/* Spans per trace at most (a guard against topologies that fan out too
 * far); a trace that reaches it stops making calls. */
#define GEN_MAX_TRACE_SPANS 2000
/* Call depth at most (a guard against cycles in a topology file). */
#define GEN_MAX_DEPTH 16

struct gen_config {
	uint64_t seed;
	int64_t start_unix_ns;
	double clock_rate;     /* spans per simulated second */
	uint32_t accounts;     /* customer accounts */
	double zipf_s;	       /* Zipf exponent of account activity */
	uint32_t batch_spans;  /* a batch holds whole traces, at least this many spans */
	const struct topo *topo;  /* finished; not owned */
	struct fault_set *faults; /* bound to topo; may be NULL; not owned */
};

struct gen_instance; /* precomputed resource attributes of an instance */

struct gen {
	struct gen_config c;
	struct zipf zipf;
	struct arena arena; /* precomputed strings and attributes */
	struct gen_instance *inst;
	const char **svc_host; /* server.address of each service */
	uint32_t *res_cache;   /* per batch: (instance, variant) -> resource + 1 */
	uint32_t *scope_cache; /* per batch: (instance, variant, kind) -> scope + 1 */
	uint64_t traces, spans;
	int64_t clock_ns; /* simulated start time of the next trace */
};

/* Prepare g; c->topo must be finished and c->faults bound. 0, CLEW_EINVAL
 * (bad numbers) or CLEW_ENOMEM. */
int gen_init(struct gen *g, const struct gen_config *c);
void gen_free(struct gen *g);

/* Reset arena, start b on it, and fill b with whole traces until it holds
 * at least batch_spans spans. Faults move to the new time (ground truth
 * lines). Strings in b point into b's arena, g or the topology. 0 or
 * CLEW_ENOMEM. */
int gen_next_batch(struct gen *g, struct arena *arena, struct span_batch *b);

/* Append one trace to b (started by the caller with span_batch_init and
 * with gen_batch_begin). Returns the number of spans added, or CLEW_ENOMEM. */
int gen_trace(struct gen *g, struct span_batch *b);

/* Forget b's resources and scopes cached by g: call before filling a new
 * batch by hand with gen_trace. */
void gen_batch_begin(struct gen *g);

#endif
