/* The TraceQL metrics executor: runs a metrics query (`{...} | rate() by
 * (x)`, `*_over_time`, quantiles, histograms, then topk / bottomk / value
 * filters) over the store. The spanset pipeline before the metrics function
 * is compiled and scanned by the search executor (query/exec.h); each
 * matched span goes into a series set (query/series.h) at its start time,
 * grouped by its by() values; the finished set is what query/metrics_out.h
 * writes as Tempo's JSON. */
#ifndef CLEW_QUERY_METRICS_EXEC_H
#define CLEW_QUERY_METRICS_EXEC_H

#include <stddef.h>
#include <stdint.h>

#include "query/exec.h"
#include "query/metrics_out.h"
#include "query/series.h"
#include "query/traceql.h"
#include "store/store.h"

struct metrics_exec_options {
	int64_t start_ns, end_ns, step_ns; /* samples over [start, end), one per step */
	uint32_t max_series;		   /* 0 = SERIES_DEFAULT_MAX */
	size_t max_bytes;		   /* series memory; 0 = SERIES_DEFAULT_MAX_BYTES */
	struct exec_options scan;	   /* threads, budgets; its time range is start/end */
};

/* Check that q is a metrics query clew can run: a TQL_Q_METRICS query whose
 * root is one metrics function (not compare(), not metrics math). 0, or
 * CLEW_EINVAL (not a metrics query) / CLEW_EUNSUPPORTED with a message in
 * err. */
int metrics_exec_supported(const struct tql_query *q, char *err, size_t errlen);

/* Run q over the store behind ops/impl. On success *out is a finished set
 * with the query's second stages applied in query order (the caller frees it
 * with series_set_free) and *st the scan's figures. On failure *out is NULL
 * and err holds an English message: CLEW_EINVAL / CLEW_EUNSUPPORTED (see
 * metrics_exec_supported; also a bad range or quantile), CLEW_EPARSE (a bad
 * regular expression), CLEW_ELIMIT (too many steps, series or bytes of
 * series, or the scan's memory budget), CLEW_EBUSY (time budget), a store
 * read error. */
int metrics_exec_run(const struct store_query_ops *ops, void *impl, const struct tql_query *q,
		     const struct metrics_exec_options *o, struct series_set **out, struct metrics_out_stats *st,
		     char *err, size_t errlen);

#endif
