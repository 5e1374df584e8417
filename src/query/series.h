/* Time series of a TraceQL metrics query: the matched spans of the executor
 * go in through series_add (group label values, timestamp, value) and come
 * out as series of samples, one value per step, as Tempo's
 * /api/metrics/query_range answers them. A set belongs to one thread; the
 * partial sets of several threads are combined with series_merge, then
 * series_finish computes the final values (rate division, quantiles,
 * histogram buckets), series_topk / series_filter apply the second stage,
 * and series_at iterates the result. Semantics are in docs/metrics.md. */
#ifndef CLEW_QUERY_SERIES_H
#define CLEW_QUERY_SERIES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/slice.h"
#include "query/traceql.h"

#define SERIES_DEFAULT_MAX 100000	    /* series (groups) per query: docs/metrics.md */
#define SERIES_DEFAULT_MAX_BYTES (1u << 30) /* accumulator memory per set */
#define SERIES_MAX_BY 8			    /* by() labels */
#define SERIES_MAX_QUANTILES 16
#define SERIES_MAX_STEPS 11000 /* samples per series, as Prometheus allows */

/* What a set computes. The arrays are copied by series_set_new. */
struct series_config {
	enum tql_metric_fn fn; /* TQL_M_RATE .. TQL_M_HISTOGRAM_OVER_TIME */
	int64_t start_ns, end_ns, step_ns; /* [start, end), samples at start + i * step */
	const struct slice *by_names;	    /* label names, e.g. "resource.service.name" */
	uint32_t n_by;
	const double *quantiles; /* quantile_over_time: each in [0, 1] */
	uint32_t n_quantiles;
	bool value_is_duration; /* values are nanoseconds; results and __bucket in seconds */
	uint32_t max_series;	/* 0 = SERIES_DEFAULT_MAX */
	size_t max_bytes;	/* 0 = SERIES_DEFAULT_MAX_BYTES */
	double sketch_alpha;	/* 0 = SKETCH_DEFAULT_ALPHA */
};

/* One label of a final series. Strings point into the set. */
struct series_label {
	struct slice name;
	struct tql_value value;
};

/* One final series: its labels and one value per step, NaN where there is
 * no sample. Valid until the set is freed or changed. */
struct series_out {
	const struct series_label *labels;
	uint32_t n_labels;
	const double *values;
};

struct series_set;

/* A new empty set for cfg. Returns NULL and *rc = CLEW_EINVAL for a bad
 * config (no step, end <= start, fn compare(), a quantile outside [0, 1],
 * too many labels or quantiles), CLEW_ELIMIT for more than
 * SERIES_MAX_STEPS steps, CLEW_ENOMEM. The caller frees it. */
struct series_set *series_set_new(const struct series_config *cfg, int *rc /* out */);
void series_set_free(struct series_set *s);

/* Account one matched span: by[cfg.n_by] are its group label values (copied
 * when the group is new; a missing attribute is TQL_T_NIL), ts_ns its time,
 * value its *_over_time argument (ignored by rate and count_over_time;
 * NaN means the span has no such value and is skipped). Spans outside
 * [start, end) are ignored. No allocation once the group exists, except a
 * sketch growing. Returns 0, CLEW_ELIMIT past max_series or max_bytes
 * (series_error says which), CLEW_ENOMEM, CLEW_ESTATE after series_finish. */
int series_add(struct series_set *s, const struct tql_value *by, int64_t ts_ns, double value);

/* The group handle of label values by[cfg.n_by] (as series_add finds or
 * creates the group), for series_add_group: 0 with *g set, CLEW_ELIMIT
 * past max_series or max_bytes, CLEW_ENOMEM, CLEW_ESTATE after
 * series_finish, CLEW_EUNSUPPORTED for histogram_over_time (whose group
 * depends on the value: use series_add). A handle stays valid until
 * series_finish. Create a group only for a span series_add would account
 * (in range, value not NaN), or results differ. */
int series_group(struct series_set *s, const struct tql_value *by, uint32_t *g /* out */);

/* series_group for n label tuples at once (by[k * cfg.n_by ...] is the k-th)
 * into g[n]: the hash-table slots, groups and keys of the tuples a few
 * ahead are prefetched, for the thousands of distinct labels of one page.
 * Stops at the first error; the same returns. */
int series_group_many(struct series_set *s, const struct tql_value *by, uint32_t n, uint32_t *g /* out */);

/* series_add for a span of group handle g: the same result, without
 * hashing the labels. Returns 0, CLEW_ELIMIT past max_bytes, CLEW_ENOMEM,
 * CLEW_EINVAL for a bad handle. */
int series_add_group(struct series_set *s, uint32_t g, int64_t ts_ns, double value);

/* series_add_group for n spans in order: group handles g[], times ts[] and
 * values v[]; the groups, sketches and buckets of the spans a few ahead are
 * prefetched, so a set of many groups (quantile_over_time by a
 * high-cardinality label) waits on one memory access at a time less often.
 * Stops at the first error; the same returns. */
int series_add_groups(struct series_set *s, const uint32_t *g, const int64_t *ts, const double *v, uint32_t n);

/* n spans of group g at ts_ns for rate and count_over_time (others:
 * CLEW_EINVAL): the same as n calls of series_add_group. */
int series_add_count(struct series_set *s, uint32_t g, int64_t ts_ns, uint64_t n);

/* Add every group of src into dst (same config). src is left unchanged.
 * Returns 0, CLEW_EINVAL for sets of different configs, or series_add's
 * errors. */
int series_merge(struct series_set *dst, const struct series_set *src);

/* series_merge for a src about to be freed: quantile sketches dst does not
 * have yet are moved over rather than copied (src then answers nothing
 * meaningful; only series_set_free). Same returns. */
int series_merge_move(struct series_set *dst, struct series_set *src);

/* Compute the final series, sorted by labels. Returns 0, CLEW_ELIMIT,
 * CLEW_ENOMEM. Afterwards only the calls below are allowed. */
int series_finish(struct series_set *s);

/* topk(k) / bottomk(k), per step as Tempo does: at each step the k series
 * with the largest (smallest) values keep their sample there; a series
 * keeps only the samples of steps where it was chosen and is dropped when
 * it was never chosen. Ties go to the series whose labels sort first.
 * Returns 0, CLEW_EINVAL for k <= 0, CLEW_ESTATE before series_finish. */
int series_topk(struct series_set *s, int64_t k, bool bottom);

/* A second-stage comparison (`| rate() > 10`): samples for which
 * `sample op value` is false are removed, then series left without
 * samples. op is one of TQL_OP_EQ .. TQL_OP_GTE. Returns 0, CLEW_EINVAL,
 * CLEW_ESTATE before series_finish. */
int series_filter(struct series_set *s, enum tql_op op, double value);

/* The final series, 0 <= i < series_count(s). */
uint32_t series_count(const struct series_set *s);
const struct series_out *series_at(const struct series_set *s, uint32_t i);
uint32_t series_n_steps(const struct series_set *s);
/* The timestamp of step i in milliseconds. */
int64_t series_step_ms(const struct series_set *s, uint32_t step);

/* The next sample of o at or after *step that is not NaN: fills *ts_ms and
 * *value, sets *step past it and returns true; false at the end. Start with
 * *step = 0. */
bool series_next_sample(const struct series_set *s, const struct series_out *o, uint32_t *step /* in/out */,
			int64_t *ts_ms /* out */, double *value /* out */);

/* Groups so far, and the English message of the last CLEW_ELIMIT. */
uint32_t series_groups(const struct series_set *s);
const char *series_error(const struct series_set *s);

/* Bytes held by the set's accumulators, sketches and results. */
size_t series_bytes(const struct series_set *s);

#endif
