/* TraceQL's compare() metrics function (query/metrics_compare.c):
 * `{ population } | compare({ selection }, topN, start, end)` splits the
 * population's spans into the selection (matching the inner filter, within
 * [start, end) when given) and the baseline (the rest) and counts, per step,
 * every value of every attribute and intrinsic in each group: the topN values
 * of each attribute per group as series labelled __meta_type="baseline" or
 * "selection" plus the attribute, and one baseline_total / selection_total
 * series per attribute, as Tempo answers it. */
#ifndef CLEW_QUERY_METRICS_COMPARE_H
#define CLEW_QUERY_METRICS_COMPARE_H

#include "query/metrics_exec.h"

/* The type of the error series Tempo adds for an attribute with more than
 * topN values in either group: __meta_error="__too_many_values__", the
 * attribute with no value, no samples. */
#define MCMP_TOO_MANY_VALUES "__too_many_values__"

/* One series of the answer: __meta_type = type, then attr = value (no
 * value for the totals). counts[steps], in the result's arena; NULL for
 * the error series (type MCMP_TOO_MANY_VALUES). */
struct mcmp_series {
	const char *type; /* "baseline", "selection", "baseline_total", "selection_total", MCMP_TOO_MANY_VALUES */
	struct slice attr;
	struct tql_value value; /* TQL_T_NIL for the totals */
	double *counts;
};

struct mcmp_result {
	struct arena arena; /* owns everything below */
	struct mcmp_series *series; /* baseline, selection, totals, errors; by attribute, count */
	uint32_t n_series;
	int64_t start_ns, step_ns;
	uint32_t steps;
};

/* Run q (a metrics query whose function is compare()) over the store into
 * *out, which the caller frees with mcmp_result_free even on failure.
 * 0, or the errors of metrics_exec_run with a message in err (over
 * o->max_bytes or the scan's memory budget: CLEW_ELIMIT and "query exceeded
 * its memory budget ..."). */
int mcmp_run(const struct store_query_ops *ops, void *impl, const struct tql_query *q,
	     const struct metrics_exec_options *o, struct mcmp_result *out, struct metrics_out_stats *st, char *err,
	     size_t errlen);
void mcmp_result_free(struct mcmp_result *r);

#endif
