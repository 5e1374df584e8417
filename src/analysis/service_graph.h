/* The service graph: services and the dependencies they call (databases,
 * messaging destinations, external hosts inferred from client and producer
 * spans), with request rate, error rate and latency per node and edge.
 * struct sg_graph accumulates observations; sg_graph_add_trace fills one
 * from whole traces (the store scan), struct service_graph_live from every
 * accepted batch as spans arrive (per-minute buckets over the last hours,
 * a pending table pairing client and server spans that arrive apart). Both
 * use the same pairing rules (docs/analysis.md). */
#ifndef CLEW_ANALYSIS_SERVICE_GRAPH_H
#define CLEW_ANALYSIS_SERVICE_GRAPH_H

#include <stdbool.h>
#include <stdint.h>

#include "base/arena.h"
#include "base/slice.h"
#include "ingest/span.h"

#define SG_MAX_NODES 4096
#define SG_MAX_EDGES 16384
#define SG_LIVE_DEFAULT_MINUTES 360
#define SG_LIVE_DEFAULT_PENDING_TTL_NS (10LL * 1000000000LL)
#define SG_LIVE_DEFAULT_MAX_PENDING (1u << 18)

enum sg_kind {
	SG_SERVICE = 0,
	SG_DATABASE = 1,
	SG_MESSAGING = 2,
	SG_EXTERNAL = 3,
};

/* "service", "database", "messaging" or "external". */
const char *sg_kind_name(enum sg_kind k);

struct sg_graph;

/* An empty graph (owned by the caller: sg_graph_free), NULL when memory is
 * short. */
struct sg_graph *sg_graph_new(void);
void sg_graph_free(struct sg_graph *g);

/* Add the observations of the whole trace b->spans[first, first+n) whose
 * time (the span's start; for an edge the calling span's) is in
 * [start_ns, end_ns) (end_ns 0 = unbounded). 0 or CLEW_ENOMEM. Nodes or
 * edges past SG_MAX_NODES / SG_MAX_EDGES are dropped and counted. */
int sg_graph_add_trace(struct sg_graph *g, const struct span_batch *b, uint32_t first, uint32_t n, int64_t start_ns,
		       int64_t end_ns);

/* Add every node and edge of src into dst. 0 or CLEW_ENOMEM. */
int sg_graph_merge(struct sg_graph *dst, const struct sg_graph *src);

struct store_query_ops;
struct exec_query;
struct exec_options;

/* The graph of the traces of xq in the store (exec_scan over ops/impl with
 * options o), observations in [start_ns, end_ns) as sg_graph_add_trace
 * takes them, into a new graph *out (the caller frees it): the traces are
 * paired in the scan's worker threads, one graph per worker, merged at the
 * end. 0, or exec_scan's errors (*out is then NULL). */
int sg_graph_scan(const struct store_query_ops *ops, void *impl, struct exec_query *xq, const struct exec_options *o,
		  int64_t start_ns, int64_t end_ns, struct sg_graph **out /* out */);

/* Observations dropped because a cap was reached. */
uint64_t sg_graph_dropped(const struct sg_graph *g);

struct sg_node_out {
	struct slice name; /* also the node's id */
	struct slice team; /* empty when unknown */
	enum sg_kind kind;
	uint64_t requests, errors;
	double rate, error_rate, p50_ms, p99_ms; /* rate per second over the range */
};

struct sg_edge_out {
	struct slice source, target;
	uint64_t requests, errors;
	double rate, error_rate, p50_ms, p99_ms;
};

/* The nodes (by name) and edges (by source, target) of g, rates over
 * range_s seconds, in arrays from a; the strings stay owned by g. 0 or
 * CLEW_ENOMEM. */
int sg_graph_result(const struct sg_graph *g, double range_s, struct arena *a, struct sg_node_out **nodes /* out */,
		    uint32_t *n_nodes /* out */, struct sg_edge_out **edges /* out */, uint32_t *n_edges /* out */);

/* ---- live ---- */

struct sg_live_options {
	uint32_t minutes;	/* the window kept, in one-minute buckets; 0 = 360 */
	int64_t pending_ttl_ns; /* how long a client waits for its server span; 0 = 10 s */
	uint32_t max_pending;	/* pending spans at most; 0 = 2^18 */
	int64_t covers_from_ns; /* the live state is complete from this time on (0: always) */
};

struct service_graph_live;

/* A live graph (owned by the caller: sg_live_free), NULL when memory is
 * short. Thread-safe: every call takes its lock. */
struct service_graph_live *sg_live_new(const struct sg_live_options *o);
void sg_live_free(struct service_graph_live *l);

/* Feed one accepted batch, received at now_ns (wall clock): spans are
 * bucketed by their start minute; spans outside the window are skipped.
 * Pending entries older than the TTL are resolved first. 0 or CLEW_ENOMEM
 * (the batch is then partly counted). */
int sg_live_add_batch(struct service_graph_live *l, const struct span_batch *b, int64_t now_ns);

/* True when the live buckets hold all there is for [start_ns, end_ns) at
 * now_ns: the range lies inside the window and after covers_from_ns. */
bool sg_live_covers(struct service_graph_live *l, int64_t start_ns, int64_t end_ns, int64_t now_ns);

/* The graph of the minutes [start_ns, end_ns) touch, plus the pending
 * clients resolved as they would be if no server span came, into a new
 * graph (owned by the caller). NULL with *rc on failure. */
struct sg_graph *sg_live_query(struct service_graph_live *l, int64_t start_ns, int64_t end_ns, int64_t now_ns,
			       int *rc /* out */);

/* Pending spans now, and observations skipped (outside the window, caps). */
void sg_live_stats(struct service_graph_live *l, uint64_t *pending /* out */, uint64_t *skipped /* out */);

#endif
