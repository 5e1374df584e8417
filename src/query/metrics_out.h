/* The JSON answers of Tempo's TraceQL metrics endpoints, written from a
 * finished series set: QueryRangeResponse for /api/metrics/query_range
 * ({"series":[{"labels":[...],"samples":[{"timestampMs":"...","value":x}],
 * "exemplars":[]}],"metrics":{...}}) and QueryInstantResponse for
 * /api/metrics/query ({"series":[{"labels":[...],"value":x}],...}), in the
 * protobuf JSON mapping Tempo uses (64-bit integers as strings, labels as
 * OTLP KeyValue with typed AnyValue). */
#ifndef CLEW_QUERY_METRICS_OUT_H
#define CLEW_QUERY_METRICS_OUT_H

#include <stdint.h>

#include "base/buf.h"
#include "base/json.h"
#include "query/series.h"
#include "query/traceql.h"

/* The "metrics" object of the answers (Tempo's SearchMetrics). */
struct metrics_out_stats {
	uint64_t inspected_traces;
	uint64_t inspected_spans;
	uint64_t inspected_bytes;
	uint32_t total_blocks;
	uint32_t completed_jobs;
	uint32_t total_jobs;
};

/* Append the QueryRangeResponse of s (after series_finish) to out. Samples
 * that are NaN are left out. Errors are out's sticky error. */
void metrics_out_range(struct buf *out, const struct series_set *s, const struct metrics_out_stats *st);

/* Append the QueryInstantResponse of s (a set of one step, end - start) to
 * out: one {"labels","value"} per series that has a value. */
void metrics_out_instant(struct buf *out, const struct series_set *s, const struct metrics_out_stats *st);

struct mcmp_result;

/* Append the QueryRangeResponse of a compare() result (query/metrics_compare.h)
 * to out: each series labelled __meta_type then its attribute (the value,
 * or nil for the totals), a sample for every step (zeros included, as Tempo
 * answers), and the __meta_error="__too_many_values__" series with no
 * samples. Errors are out's sticky error. */
void metrics_out_compare_range(struct buf *out, const struct mcmp_result *r, const struct metrics_out_stats *st);

/* The QueryInstantResponse of a compare() result of one step: each series'
 * labels and its count; the error series (no samples) are left out. */
void metrics_out_compare_instant(struct buf *out, const struct mcmp_result *r, const struct metrics_out_stats *st);

/* Write a label value as an OTLP AnyValue, as Tempo does: strings, status,
 * kind and nil as stringValue ("error", "server", "nil"), ints as intValue,
 * floats as doubleValue, bools as boolValue, durations as stringValue in
 * Go's notation ("1.5s", "250ms", "1m30s"). */
void metrics_out_any_value(struct json *j, const struct tql_value *v);

/* Append d nanoseconds in Go's time.Duration notation to out. */
void metrics_out_go_duration(struct buf *out, int64_t d_ns);

#endif
