/* Comparison of two populations of spans: a TraceQL filter over a window and
 * a baseline window before it, or the spans of the filter whose attribute
 * `by` is a against those where it is b. For each: count, errors and error
 * rate, latency p50/p95/p99/mean; then the attributes whose share grew most
 * from A to B (the correlations table with B as the "bad" side) and the
 * critical-path segments whose share changed most. */
#ifndef CLEW_ANALYSIS_COMPARE_H
#define CLEW_ANALYSIS_COMPARE_H

#include <stdbool.h>
#include <stdint.h>

#include "analysis/correlations.h"
#include "base/json.h"
#include "query/exec.h"
#include "query/traceql.h"
#include "store/store.h"

#define CMP_MAX_SEGMENTS 1000

/* Figures of one population. Latencies in ms, NaN when it is empty. */
struct cmp_figures {
	uint64_t count, errors;
	double error_rate, p50_ms, p95_ms, p99_ms, mean_ms;
	uint64_t traces;
};

/* A critical-path segment and its share in both populations. */
struct cmp_segment {
	struct slice service, name; /* owned by the report */
	double share_a, share_b;
};

struct cmp_options {
	/* baseline mode (by == NULL): A spans start in [a_start, a_end], B in
	 * [b_start, b_end] (nanoseconds; 0 = unbounded) */
	int64_t a_start_ns, a_end_ns, b_start_ns, b_end_ns;
	/* by mode: the field (an attribute or intrinsic node) and the two values
	 * as text; the spans of the scan range where it is neither are ignored */
	const struct tql_node *by;
	struct slice by_text, a_value, b_value;
	uint32_t limit;	     /* attributes and segments; 0 = CORR_DEFAULT_LIMIT */
	uint32_t max_values; /* per key; 0 = the default */
};

struct cmp_report {
	struct cmp_figures a, b;
	struct corr_table *table; /* owns results */
	struct corr_result *results;
	uint32_t n_results;
	struct arena arena; /* owns segments */
	struct cmp_segment *segments;
	uint32_t n_segments;
	void *agg_a, *agg_b; /* critical-path aggregates (the segments' strings) */
};

/* Compare the two populations of query xq. o gives the budgets and, in by
 * mode, the time range (in baseline mode its range is replaced by each
 * window). rep is freed with cmp_report_free even on failure. 0, exec_scan's
 * errors, CLEW_ENOMEM. */
int cmp_run(const struct store_query_ops *ops, void *impl, struct exec_query *xq, const struct exec_options *o,
	    const struct cmp_options *co, struct cmp_report *rep);
void cmp_report_free(struct cmp_report *rep);

/* The text of a field value as by= compares it: strings as they are,
 * integers in decimal, floats shortest (%.17g), booleans true/false,
 * durations in ns, status and kind as their TraceQL keywords. Writes at most
 * cap bytes into tmp when it needs to; the slice may point into v. */
struct slice cmp_value_text(const struct exec_value *v, char *tmp, size_t cap);

/* The JSON answer of /api/v1/compare (everything but the HTTP envelope). */
void cmp_write_json(struct json *j, const struct cmp_report *rep, const struct cmp_options *co);

#endif
