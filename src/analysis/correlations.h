/* Correlations (root cause): which attribute values set the bad spans (slow
 * or failed) apart from the rest of a population. A corr_table counts, per
 * attribute key and value (span and resource attributes, the intrinsics
 * name, kind and status, and the service and name of a span's children),
 * how many bad and how many other units carry it, with a cap on distinct
 * values per key; corr_rank scores them (difference of shares between a
 * Wilson lower and upper bound) and corr_run drives it all over the store
 * with the TraceQL executor. Compare reuses the table with "population B"
 * as the bad side. The algorithm is documented in docs/analysis.md. */
#ifndef CLEW_ANALYSIS_CORRELATIONS_H
#define CLEW_ANALYSIS_CORRELATIONS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/json.h"
#include "ingest/span.h"
#include "query/exec.h"
#include "query/sketch.h"
#include "store/block.h"
#include "store/store.h"

#define CORR_DEFAULT_LIMIT 20
#define CORR_MAX_LIMIT 1000
#define CORR_DEFAULT_MAX_VALUES 2048 /* distinct values kept per key */
#define CORR_MAX_KEYS 512	     /* distinct keys kept */
#define CORR_MAX_VALUE_LEN 128	     /* longer values are cut (valueTruncated) */
#define CORR_MAX_EXAMPLES 3
#define CORR_Z 1.96 /* Wilson interval, 95% */
#define CORR_MAX_OPERATIONS 4096 /* per-operation thresholds; the others use the population's */
/* The counting pass over block pages guesses the ranked values once a scan
 * worker has counted CORR_SPEC_AFTER units (candidates: three times the
 * limit), and gathers their latency figures as it goes, so the figures
 * pass reads only what the guess missed; not for limits over
 * CORR_SPEC_MAX_LIMIT. */
#define CORR_SPEC_AFTER 500000
#define CORR_SPEC_MAX_LIMIT 64

enum corr_signal { CORR_SIGNAL_LATENCY = 0, CORR_SIGNAL_ERROR };
enum corr_level { CORR_LEVEL_SPAN = 0, CORR_LEVEL_TRACE };

/* What kind of key: where the attribute comes from. */
enum corr_scope { CORR_SCOPE_INTRINSIC = 0, CORR_SCOPE_RESOURCE, CORR_SCOPE_SPAN, CORR_SCOPE_CHILD };

/* How the value was turned into a counted string. */
enum corr_vtype { CORR_V_STRING = 0, CORR_V_INT, CORR_V_BOOL, CORR_V_RANGE, CORR_V_KEYWORD };

struct corr_table;

/* One ranked key/value. Strings point into the table (valid until it is
 * freed). with/without are NaN until corr_table_add_probe filled them. */
struct corr_result {
	struct slice key;   /* "span.customer.id", "resource.service.name", "name", "child.service" */
	struct slice value; /* the value as text (a bin such as "[1000, 2000)" for ranges) */
	enum corr_scope scope;
	enum corr_vtype vtype;
	bool truncated_value;
	double score; /* Wilson lower bound of the bad share minus upper bound of the rest share */
	uint64_t bad, rest;
	double bad_share, rest_share;
	double with_p50_ms, with_p99_ms, without_p50_ms, without_p99_ms;
	uint8_t examples[CORR_MAX_EXAMPLES][16];
	uint32_t n_examples;
};

/* A table counting at most max_values distinct values per key (0 = the
 * default). Owned by the caller (corr_table_free). NULL when out of memory. */
struct corr_table *corr_table_new(uint32_t max_values);
void corr_table_free(struct corr_table *t);

/* Start a trace: the spans b->spans[first, first+n) (one whole trace, as the
 * executor's visitor gets it). Builds the child links that child.service and
 * child.name come from. 0 or CLEW_ENOMEM. */
int corr_table_begin_trace(struct corr_table *t, const struct span_batch *b, uint32_t first, uint32_t n);

/* Count one unit of the current trace: its attributes are the union of those
 * of spans[] (indexes into b->spans): one span for the span level, every
 * span of the trace for the trace level. Each key/value counts once per
 * unit. dur_ns goes to the population figures. 0 or CLEW_ENOMEM. */
int corr_table_add(struct corr_table *t, const uint32_t *spans, uint32_t n_spans, bool bad, int64_t dur_ns);

/* The self time of span b->spans[i] of the current trace: its duration
 * minus the union of its children's intervals clipped to it. */
int64_t corr_table_self_ns(const struct corr_table *t, uint32_t i);

/* Units counted so far, bad and not. */
void corr_table_counts(const struct corr_table *t, uint64_t *bad /* out */, uint64_t *rest /* out */);

/* Rank the counted values: only values more common among the bad units
 * than among the rest, best score first (ties: more bad units, then key and
 * value in byte order), at most limit, leaving out the keys of skip (a
 * NULL-terminated list; an entry ending in '*' is a prefix; skip may be
 * NULL). *out (owned by the table) gets the results, the return value their
 * number, or CLEW_ENOMEM. The ranked values are remembered for
 * corr_table_probe. */
int corr_table_rank(struct corr_table *t, uint32_t limit, const char *const *skip, struct corr_result **out);

/* The keys that describe a failure itself rather than its cause (status,
 * status codes, error and exception attributes), left out of the ranking for
 * signal=error. NULL-terminated. */
extern const char *const corr_error_symptoms[];

/* The latency pass after corr_table_rank: for one unit (same arguments as
 * corr_table_add), add dur_ns to the population sketch and to the "with"
 * sketch of every ranked value it carries. Nothing is inserted. 0 or
 * CLEW_ENOMEM. */
int corr_table_probe(struct corr_table *t, const uint32_t *spans, uint32_t n_spans, int64_t dur_ns);

/* Forget what the probe added (population and ranked values' sketches),
 * to probe again. */
void corr_table_reset_probe(struct corr_table *t);

/* Fill with_/without_ p50 and p99 of the ranked results from the probe
 * sketches (without = the population minus the unit with the value). */
void corr_table_finish_probe(struct corr_table *t);

/* p50 and p99 (ms) of the population the probe pass saw; NaN if empty. */
void corr_table_population(const struct corr_table *t, double *p50_ms /* out */, double *p99_ms /* out */);

/* Wilson score interval bounds of k successes out of n at z. 0 and 1 for
 * n == 0. */
double corr_wilson_lower(uint64_t k, uint64_t n, double z);
double corr_wilson_upper(uint64_t k, uint64_t n, double z);

/* The bin of a number as text, 1-2-5 per decade: "[1000, 2000)",
 * "[0.5, 1)", "0", "[-20, -10)". Writes at most cap bytes (NUL included);
 * returns the length. */
size_t corr_bin(double v, char *out, size_t cap);

/* The whole analysis over the store. */
struct corr_options {
	enum corr_signal signal;
	enum corr_level level;
	int64_t threshold_ns; /* latency: bad when duration > threshold; 0 = use quantile */
	double quantile;      /* latency with threshold_ns == 0, e.g. 0.99 */
	uint32_t limit;	      /* results; 0 = CORR_DEFAULT_LIMIT */
	uint32_t max_values;  /* per key; 0 = CORR_DEFAULT_MAX_VALUES */
	/* span level, quantile threshold: the quantile of each operation
	 * (service and span name) instead of the whole population's, so a span
	 * is bad when it is slow for what it does */
	bool per_operation;
	/* span level, latency: a span's self time (its duration minus the time
	 * covered by its children) instead of its duration, so that a parent
	 * slow only because of a child is not bad itself */
	bool self_time;
	/* units a scan worker counts before it guesses the ranked values (0:
	 * CORR_SPEC_AFTER; UINT64_MAX: never); answers do not depend on it */
	uint64_t spec_after;
};

struct corr_report {
	struct corr_table *table; /* owns the results; freed by corr_report_free */
	struct corr_result *results;
	uint32_t n_results;
	uint64_t bad, rest;
	int64_t threshold_ns; /* the latency threshold used */
	double p50_ms, p99_ms; /* the population (latency only; else NaN) */
	uint64_t inspected_spans;
	uint64_t figures_pages; /* block pages the latency figures pass read */
};

/* Run correlations of query xq over the store (scan options o: time range,
 * budgets) into rep (free with corr_report_free even on failure). A latency
 * threshold given as a quantile costs one more pass; latency figures with
 * and without each value one more. 0, or exec_scan's errors (CLEW_ELIMIT,
 * CLEW_EBUSY, store errors), CLEW_ENOMEM. */
int corr_run(const struct store_query_ops *ops, void *impl, struct exec_query *xq, const struct exec_options *o,
	     const struct corr_options *co, struct corr_report *rep);
void corr_report_free(struct corr_report *rep);

/* The duration of a unit and whether it is bad: the span's own for the span
 * level; for the trace level the trace's (earliest start to latest end),
 * bad on latency when that is over the threshold and on error when any span
 * of the trace failed. */
int64_t corr_unit_duration(const struct span_batch *b, const uint32_t *spans, uint32_t n_spans);

/* The "correlations" array of the API: one object per result (key, value,
 * type, valueType, score, bad and rest counts and shares, with and without
 * p50/p99 in ms when latency is true, exampleTraceIds). */
void corr_write_results(struct json *j, const struct corr_result *r, uint32_t n, bool latency);

/* ---- shared by correlations.c and corr_columnar.c (the block-page path) ---- */

/* Add counts gathered elsewhere (a page, another table): bad of total units
 * carry key/value (each unit counted once by the caller); example (16
 * bytes, may be NULL) is a bad trace carrying it. The value is cut at
 * CORR_MAX_VALUE_LEN. 0 or CLEW_ENOMEM. */
int corr_table_add_counts(struct corr_table *t, enum corr_scope scope, struct slice key, enum corr_vtype vtype,
			  struct slice value, uint64_t bad, uint64_t total, const uint8_t *example);

/* A key of table t (inserted when new), to add counts to it without
 * looking the key up again: valid until the table is freed; NULL when the
 * table has no room for it (or out of memory: see corr_table_add_counts). */
struct corr_key;
struct corr_key *corr_table_key(struct corr_table *t, enum corr_scope scope, struct slice key);

/* corr_table_add_counts for a key of corr_table_key (non-NULL). */
int corr_table_add_key_counts(struct corr_table *t, struct corr_key *key, enum corr_vtype vtype, struct slice value,
			      uint64_t bad, uint64_t total, const uint8_t *example);

/* The hash a table keys value by (after the cut at CORR_MAX_VALUE_LEN),
 * for corr_table_add_key_counts_h and corr_table_prefetch. */
uint64_t corr_value_hash(enum corr_vtype vtype, struct slice value);

/* corr_table_add_key_counts with the value's hash h (corr_value_hash). */
int corr_table_add_key_counts_h(struct corr_table *t, struct corr_key *key, enum corr_vtype vtype, struct slice value,
				uint64_t h, uint64_t bad, uint64_t total, const uint8_t *example);

/* Hint the cache about the value of hash h under key, ahead of adding it:
 * stage 0 its index slot, stage 1 (the slot read) its entry, stage 2 (the
 * entry read) its bytes. Reads the table only; no effect on results. */
void corr_table_prefetch(const struct corr_key *key, uint64_t h, int stage);

/* An attribute value as the counting takes it: *vtype and *out, the text
 * (in tmp, cap bytes, for numbers) of strings, booleans, small integers and
 * the 1-2-5 bins of other numbers; false for the types not counted. */
bool corr_attr_text(const struct any_value *v, char *tmp, size_t cap, enum corr_vtype *vtype /* out */,
		    struct slice *out /* out */);

/* The same for an attribute, its value turned into text as the counting
 * does (corr_attr_text); other types are not counted. */
int corr_table_add_attr_counts(struct corr_table *t, enum corr_scope scope, const struct attr *a, uint64_t bad,
			       uint64_t total, const uint8_t *example);

/* Add units counted elsewhere. */
void corr_table_add_units(struct corr_table *t, uint64_t bad, uint64_t rest);

/* Add every count, example and unit of src into dst. 0 or CLEW_ENOMEM. */
int corr_table_merge(struct corr_table *dst, const struct corr_table *src);

/* The ranked slot (index into the results of corr_table_rank) of a
 * key/value, or -1. Reads the table only. */
int32_t corr_table_slot(const struct corr_table *t, enum corr_scope scope, struct slice key, enum corr_vtype vtype,
			struct slice value);
/* The same for an attribute (converted as corr_table_add_attr_counts). */
int32_t corr_table_attr_slot(const struct corr_table *t, enum corr_scope scope, const struct attr *a);

/* Whether a ranked result of the last corr_table_rank has key (as
 * corr_table_slot takes it; any key when key.p is NULL) in scope: the
 * probe skips the other keys. */
bool corr_table_key_ranked(const struct corr_table *t, enum corr_scope scope, struct slice key);

/* The number of ranked results of the last corr_table_rank. */
uint32_t corr_table_n_results(const struct corr_table *t);

/* The ranked results of the last corr_table_rank (corr_table_n_results of
 * them; owned by the table), or NULL before it. */
const struct corr_result *corr_table_results(const struct corr_table *t);

/* Add sketches of a probe done elsewhere: pop to the population, with[k]
 * to ranked result k (n_results of them). 0 or CLEW_ENOMEM. */
int corr_table_merge_probe(struct corr_table *t, const struct sketch *pop, const struct sketch *with);

/* Per-operation thresholds: a table of at most CORR_MAX_OPERATIONS
 * operations (service and span name) with a duration sketch each. */
struct corr_op {
	uint64_t hash;
	struct sketch q;
	int64_t threshold_ns;
	bool used;
};

/* The hash standing for the operation (svc, name). */
uint64_t corr_op_hash(struct slice svc, struct slice name);

/* The operation of hash h in ops (CORR_MAX_OPERATIONS * 2 slots), inserted
 * when insert is set and the cap allows (*n counts them); NULL otherwise. */
struct corr_op *corr_op_get(struct corr_op *ops, uint32_t *n, uint64_t h, bool insert);

/* The passes over the store. */
enum corr_pass { CORR_PASS_QUANTILE = 0, CORR_PASS_COUNT, CORR_PASS_PROBE };

/* The block-page path of corr_run: block pages counted column by column
 * (dictionary ids, one table per scan worker, merged at the end), for a
 * query whose filter the columnar evaluator takes and whose spans are
 * answered page by page. NULL when the query is not eligible (the
 * span-by-span path then does it all). */
struct corr_col;
struct corr_col *corr_col_new(const struct exec_query *xq, const struct exec_options *o,
			      const struct corr_options *co, struct corr_table *t, struct corr_op *ops, uint32_t *n_ops);
void corr_col_free(struct corr_col *c);

/* Start a pass with the population threshold (latency). 0 or CLEW_ENOMEM. */
int corr_col_begin(struct corr_col *c, enum corr_pass pass, int64_t threshold_ns);

/* The exec_page_fn of the scan (ctx is the corr_col). */
int corr_col_page(void *ctx, uint32_t worker, struct block *blk, uint32_t page);

/* Block pages the last figures pass read (the others were covered by the
 * counting pass's guess or went span by span). */
uint64_t corr_col_probe_pages(const struct corr_col *c);

/* After the figures pass: whether it must be done again because the store
 * changed since the counting pass (a block it read had not been counted, so
 * units the counting pass gathered figures for may have been read twice);
 * the counting pass's figures are dropped either way. */
bool corr_col_probe_again(struct corr_col *c);

/* End a pass: the workers' figures into the table (counting), the probe
 * sketches into it (probe), their durations into q (quantile). 0, the
 * first worker's error, or CLEW_ENOMEM. */
int corr_col_end(struct corr_col *c, struct sketch *q);

#endif
