/* Streaming evaluation of an alert rule's TraceQL metrics query: the query
 * is compiled once; every batch the receivers accept is run through its
 * span filter (the search executor, trace by trace within the batch) and
 * each matching span updates its group's (the by() values') ring of time
 * buckets: count, sum, min, max and a quantile sketch. Evaluating a rule is
 * then a walk over its groups' last buckets, never a rescan of raw spans.
 * Memory is bounded: at most max_groups groups per rule (spans of new groups
 * past it are dropped and counted), a fixed ring per group, and sketches
 * capped in buckets. The window and its rounding are in docs/alerts.md. */
#ifndef CLEW_ALERT_ALERT_STREAM_H
#define CLEW_ALERT_ALERT_STREAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/arena.h"
#include "ingest/span.h"

struct exec_value;

#define ALERT_STREAM_DEFAULT_MAX_GROUPS 100000
#define ALERT_STREAM_SLOTS 6	/* buckets in a window: the range is cut in six */
#define ALERT_STREAM_RING 8	/* buckets kept per group (the window plus slack) */
#define ALERT_STREAM_EXAMPLES 3 /* example trace ids per group */
#define ALERT_STREAM_SKETCH_ALPHA 0.02
#define ALERT_STREAM_SKETCH_BUCKETS 256
#define ALERT_STREAM_MAX_LABEL 256 /* longer by() values are cut */

struct alert_stream;

/* One group's value at an evaluation. Strings live in the stream until the
 * next add or eval. */
struct alert_group_value {
	const char *key;	  /* canonical "name=value\x1f..." identity of the group */
	const char *const *names; /* by() label names, n_labels of them */
	const char *const *values;
	uint32_t n_labels;
	double value;	       /* in the query's unit: seconds for durations, per second for rate() */
	uint64_t count;	       /* spans in the window */
	uint8_t examples[ALERT_STREAM_EXAMPLES][16]; /* worst spans' traces first */
	uint32_t n_examples;
	const char *service; /* service.name of the worst span ("" if none) */
	const char *team;    /* its resource's team attribute ("" if none) */
};

/* Called for each group with data in the window; non-zero stops the walk
 * and is returned by alert_stream_eval. */
typedef int (*alert_group_fn)(void *ctx, const struct alert_group_value *g);

/* Check that query is a metrics query the stream can run (one metrics
 * function among rate, count_over_time, min/max/avg/sum_over_time and
 * quantile_over_time with one quantile, by() allowed, no second stage).
 * 0 or CLEW_EINVAL with the reason in err. */
int alert_stream_check(const char *query, char *err, size_t errlen);

/* A stream for query over windows of range_ns (0 groups cap = default).
 * Owned by the caller (alert_stream_free); NULL with *rc and err. */
struct alert_stream *alert_stream_new(const char *query, int64_t range_ns, uint32_t max_groups, int *rc /* out */,
				      char *err, size_t errlen);
void alert_stream_free(struct alert_stream *s);

/* Feed one accepted batch. Thread-safe: the filter runs without the lock,
 * the group updates under the stream's lock. Spans starting more than one
 * window before now_ns are ignored; spans from the future count as now.
 * 0 or CLEW_ENOMEM (the batch is then partly counted). */
int alert_stream_add_batch(struct alert_stream *s, const struct span_batch *b, int64_t now_ns);

/* A copy of b (span array only, in a) with each trace's spans side by side,
 * as the rule filters want them: done once per batch for every rule. 0 or
 * CLEW_ENOMEM. */
int alert_stream_group_traces(const struct span_batch *b, struct arena *a, struct span_batch *out);

/* alert_stream_add_batch for a batch alert_stream_group_traces made. */
int alert_stream_add_grouped(struct alert_stream *s, const struct span_batch *grouped, int64_t now_ns);

/* Hand every group with spans in the window ending at now_ns to fn; groups
 * without data for two windows are forgotten. 0 or fn's return. */
int alert_stream_eval(struct alert_stream *s, int64_t now_ns, alert_group_fn fn, void *ctx);

/* The span filter part of the query ("{ ... }", for links and
 * correlations) and the by() label names. Owned by the stream. */
const char *alert_stream_filter(const struct alert_stream *s);
uint32_t alert_stream_n_labels(const struct alert_stream *s);
const char *alert_stream_label_name(const struct alert_stream *s, uint32_t i);
/* A by() value as label text into out, cut to cap - 1 (nil as "<nil>"); its
 * length. SLO groups are named the same way. */
size_t alert_stream_value_text(const struct exec_value *v, char *out, size_t cap);

struct alert_stream_stats {
	uint32_t groups;
	uint64_t spans_matched, spans_dropped; /* dropped: over the group cap */
	size_t bytes;			       /* memory held by groups and sketches */
};
void alert_stream_stats(struct alert_stream *s, struct alert_stream_stats *out /* out */);

#endif
