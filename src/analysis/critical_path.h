/* Critical path of traces: which spans determined a trace's end-to-end
 * latency. cp_trace_compute is a pure function over one trace's spans: it
 * adjusts clock skew (children of another service shifted into their
 * parent, as Jaeger's adjuster does), sets async children aside and walks
 * back from the root's end through the last-finishing child, giving each
 * span its self time on the path. cp_agg sums that over many traces per
 * (service, operation): share of end-to-end latency and self-time sketches.
 * Used by the critical-path endpoint, the trace view and compare. The rules
 * are in docs/analysis.md. */
#ifndef CLEW_ANALYSIS_CRITICAL_PATH_H
#define CLEW_ANALYSIS_CRITICAL_PATH_H

#include <stdbool.h>
#include <stdint.h>

#include "base/arena.h"
#include "base/slice.h"
#include "ingest/span.h"

/* Per span of the trace, in the order of b->spans[first, first+n). */
struct cp_span {
	int64_t start_unix_ns, end_unix_ns; /* after skew adjustment */
	int64_t self_ns;		    /* time on the critical path as this span's own */
	int32_t parent;			    /* local index of the parent; -1 for the root and orphans */
	bool on_path;			    /* some of its time is on the critical path */
	bool adjusted;			    /* its times were shifted or clipped into its parent */
	bool async;			    /* set aside as async work (not on its parent's path) */
	bool detached;			    /* not under the chosen root (missing parent) */
};

/* The critical path of one trace. */
struct cp_trace {
	struct cp_span *spans; /* n entries, in the arena given to cp_trace_compute */
	uint32_t n;
	uint32_t root;	       /* local index of the root span */
	int64_t total_ns;      /* end-to-end latency: the root's duration */
	uint32_t n_adjusted;   /* spans whose times were adjusted for skew */
	uint32_t *path;	       /* local indexes of the spans on the path, root first */
	uint32_t n_path;
};

/* Compute the critical path of the trace b->spans[first, first+n) (n >= 1).
 * The root is the span without a parent (the longest if several), else the
 * longest span whose parent is missing. Every allocation comes from a (the
 * caller resets it). 0, CLEW_EINVAL for n == 0, or CLEW_ENOMEM. The sum of
 * every span's self_ns equals total_ns. */
int cp_trace_compute(const struct span_batch *b, uint32_t first, uint32_t n, struct arena *a,
		     struct cp_trace *out /* out */);

/* The aggregation of many traces' critical paths per (service, operation). */
struct cp_agg;

/* One aggregated segment. */
struct cp_segment {
	struct slice service, name; /* owned by the aggregate */
	double share;		    /* self time on the path / sum of end-to-end latencies */
	uint64_t traces;	    /* traces in which the segment is on the path */
	int64_t self_ns_total;
	double self_p50_ms, self_p99_ms; /* of its self time per trace (summed over its spans) */
};

/* A new empty aggregate (owned by the caller, free with cp_agg_free), or
 * NULL when memory is short. */
struct cp_agg *cp_agg_new(void);
void cp_agg_free(struct cp_agg *g);

/* Add one computed trace (t over b->spans[first, first+t->n)). Segments
 * past CP_AGG_MAX_SEGMENTS distinct ones are counted under "(other)".
 * 0 or CLEW_ENOMEM. */
int cp_agg_add(struct cp_agg *g, const struct span_batch *b, uint32_t first, const struct cp_trace *t);

/* cp_trace_compute then cp_agg_add; scratch is reset by this call. */
int cp_agg_add_trace(struct cp_agg *g, const struct span_batch *b, uint32_t first, uint32_t n,
		     struct arena *scratch);

/* Add every segment of src (traces, self times, sketches) into dst: as if
 * dst had been given src's traces too. 0 or CLEW_ENOMEM. */
int cp_agg_merge(struct cp_agg *dst, const struct cp_agg *src);

struct store_query_ops;
struct exec_query;
struct exec_options;

/* Aggregate the critical paths of the traces of xq in the store (exec_scan
 * over ops/impl with options o) into a new aggregate *out (the caller
 * frees it): each trace's path computed in the scan's worker threads, one
 * aggregate per worker, merged at the end. 0, or exec_scan's errors (*out
 * is then NULL). */
int cp_agg_scan(const struct store_query_ops *ops, void *impl, struct exec_query *xq, const struct exec_options *o,
		struct cp_agg **out /* out */);

/* Whether cp_agg_scan reads the block pages of `{}` column by column (the
 * default) or span by span like other queries: for benchmarks and tests,
 * which compare the two. Not thread-safe: set it before scanning. */
void cp_set_columnar(bool on);

/* Traces added, and the sum of their end-to-end latencies. */
uint64_t cp_agg_traces(const struct cp_agg *g);
int64_t cp_agg_total_ns(const struct cp_agg *g);

/* The segments, largest share first (ties by service then name), in an
 * array from a (strings stay owned by g: keep g alive while using them).
 * 0 or CLEW_ENOMEM. */
int cp_agg_segments(const struct cp_agg *g, struct arena *a, struct cp_segment **out /* out */,
		    uint32_t *n /* out */);

/* The share of one segment, 0 when g never saw it. */
double cp_agg_share(const struct cp_agg *g, struct slice service, struct slice name);

#define CP_AGG_MAX_SEGMENTS 20000

#endif
