/* The TraceQL search executor: runs a parsed TraceQL spans query (and the
 * simple scalar form) over the store. exec_compile prepares a query once
 * (regexes compiled, page-pruning terms extracted); exec_eval_trace runs it
 * over the spans of one trace and gives the spansets it yields; exec_scan
 * drives it over the heads and the blocks (time-range and dictionary page
 * pruning, a pool of worker threads, memory and time budgets) and hands each
 * matching trace to a visitor. The search API and the tag APIs sit on top. */
#ifndef CLEW_QUERY_EXEC_H
#define CLEW_QUERY_EXEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/arena.h"
#include "ingest/span.h"
#include "query/traceql.h"
#include "store/store.h"

#define EXEC_DEFAULT_LIMIT 20
#define EXEC_DEFAULT_SPSS 3
#define EXEC_DEFAULT_MEM_BYTES ((size_t)512 << 20)
#define EXEC_DEFAULT_TIME_NS (30LL * 1000000000LL)

struct exec_query;

/* One span of a result spanset, copied out of the trace. attrs are the
 * attributes the query names (filters, select()), those the span has. */
struct exec_span {
	uint8_t span_id[8];
	struct slice name;
	int64_t start_unix_ns, dur_ns;
	struct attr *attrs;
	uint32_t n_attrs;
};

/* A spanset: up to spss spans (in trace order), how many matched, and the
 * by() values and aggregate results as attributes. */
struct exec_spanset {
	struct exec_span *spans;
	uint32_t n_spans, matched;
	struct attr *attrs;
	uint32_t n_attrs;
};

struct exec_service_stat {
	struct slice name;
	uint32_t spans, errors;
};

/* A matching trace, everything in the result arena. */
struct exec_trace {
	uint8_t trace_id[16];
	struct slice root_service, root_name;
	int64_t start_unix_ns, end_unix_ns;
	struct exec_spanset *spansets;
	uint32_t n_spansets;
	struct exec_service_stat *services;
	uint32_t n_services;
};

/* Compile q (a TQL_Q_SPANS or TQL_Q_SCALAR query) into an executable query
 * living in arena a (which must outlive it; free with exec_query_free for
 * the regexes). NULL on failure with *rc (CLEW_EUNSUPPORTED for metrics
 * queries, CLEW_EPARSE for a bad regex) and a message in err. */
struct exec_query *exec_compile(const struct tql_query *q, struct arena *a, int *rc, char *err, size_t errlen);
void exec_query_free(struct exec_query *xq);

/* The `with (most_recent=true)` hint. */
bool exec_most_recent(const struct exec_query *xq);

/* Run xq over the spans b->spans[first, first+n) (one whole trace). On a
 * match fill *out (spansets of at most spss spans, root, times, service
 * figures; everything copied into out_arena) and return 1; 0 when the trace
 * does not match; CLEW_ENOMEM when scratch (reset by the caller between
 * calls as it likes) or out_arena refuses. out may be NULL to only test. */
int exec_eval_trace(struct exec_query *xq, const struct span_batch *b, uint32_t first, uint32_t n,
		    struct arena *scratch, struct arena *out_arena, uint32_t spss, struct exec_trace *out);

/* Called with each matching trace's spans and the indexes (into b->spans)
 * of its matched spans, from any worker thread (serialised by exec_scan:
 * never two calls at once). A non-zero return stops the scan and is
 * returned by it (1 = enough, not an error). */
typedef int (*exec_visit_fn)(void *ctx, const struct span_batch *b, uint32_t first, uint32_t n,
			     const uint32_t *matched, uint32_t n_matched);

/* exec_visit_fn without the serialisation, for exec_scan_workers: called
 * from worker thread `worker` (0 <= worker < EXEC_MAX_WORKERS; one thread
 * per index, so calls with the same index never overlap) while other
 * workers' calls run. Keep per-worker state indexed by worker and merge it
 * after the scan. b and the span data are valid during the call only. */
#define EXEC_MAX_WORKERS 64
typedef int (*exec_visit_worker_fn)(void *ctx, uint32_t worker, const struct span_batch *b, uint32_t first,
				    uint32_t n, const uint32_t *matched, uint32_t n_matched);

struct exec_options {
	int64_t start_ns, end_ns; /* traces overlapping [start, end]; 0 = unbounded */
	uint32_t limit;		  /* search: traces; 0 = EXEC_DEFAULT_LIMIT */
	uint32_t spss;		  /* spans per spanset; 0 = EXEC_DEFAULT_SPSS */
	size_t mem_bytes;	  /* 0 = EXEC_DEFAULT_MEM_BYTES */
	int64_t time_ns;	  /* 0 = EXEC_DEFAULT_TIME_NS */
	uint32_t threads;	  /* 0 = one per core */
	uint32_t max_pages;	  /* stop after this many block pages; 0 = no limit */
	/* Asked where the time budget is checked, from any worker thread:
	 * true stops the scan (the client that asked went away). NULL = never. */
	bool (*cancelled)(void *ctx);
	void *cancel_ctx;
};

struct exec_result {
	struct arena arena; /* owns traces and everything they point to */
	struct exec_trace *traces; /* newest first */
	size_t n_traces;
	uint64_t inspected_traces, inspected_spans, inspected_bytes;
	uint64_t total_blocks, total_jobs, completed_jobs, pruned_pages;
	void **keep; /* internal: the worker arenas the traces point into */
};

/* Search the store: every matching trace (up to limit, newest first; with
 * most_recent every block is searched and the newest kept) into res, which
 * the caller frees with exec_result_free even on failure. 0; CLEW_ELIMIT
 * when the memory budget was exceeded; CLEW_EBUSY when the time budget
 * was; a store read error. */
int exec_search(const struct store_query_ops *ops, void *impl, struct exec_query *xq,
		const struct exec_options *o, struct exec_result *res);
void exec_result_free(struct exec_result *res);

/* Walk the store as exec_search does but hand every matching trace to
 * visit (no limit; max_pages and the budgets apply). Same returns, and
 * visit's non-zero return (1 is not an error: the caller got enough). */
int exec_scan(const struct store_query_ops *ops, void *impl, struct exec_query *xq, const struct exec_options *o,
	      exec_visit_fn visit, void *ctx, struct exec_result *figures /* may be NULL */);

/* exec_scan with a visitor called in parallel from the workers (see
 * exec_visit_worker_fn): for work per trace heavier than the decoding, such
 * as the critical path. Same returns as exec_scan. */
int exec_scan_workers(const struct store_query_ops *ops, void *impl, struct exec_query *xq,
		      const struct exec_options *o, exec_visit_worker_fn visit, void *ctx,
		      struct exec_result *figures /* may be NULL */);

struct block;

/* exec_scan_workers with a handler of whole block pages (may be NULL),
 * called from worker thread `worker` as visit is, with each page the time
 * range did not prune: it returns 0 when it handled the page itself (for
 * a query exec_matches_all says matches everything, its traces as they
 * lie in the page), 1 to have the page evaluated and visited as usual, or
 * an error that stops the scan. The heads always go to visit. */
int exec_scan_workers_pages(const struct store_query_ops *ops, void *impl, struct exec_query *xq,
			    const struct exec_options *o, exec_visit_worker_fn visit, void *ctx,
			    int (*page)(void *page_ctx, uint32_t worker, struct block *blk, uint32_t page),
			    void *page_ctx, struct exec_result *figures /* may be NULL */);

/* True when xq is `{}` (a spans query of one filter that is literally
 * true, no hints that matter): every trace matches, each part of a trace
 * split over blocks on its own, as exec_scan hands them to a visitor. */
bool exec_matches_all(const struct exec_query *xq);

/* A value of a field for one span, as exec_field_value gives it. */
struct exec_value {
	enum tql_type type; /* TQL_T_NIL when the span has no such field */
	union {
		bool b;
		int64_t i;
		double f;
		struct slice s;
	} u;
};

/* The value of field n (an intrinsic or attribute node) for span b->spans[i]
 * of the trace [first, first+n). Strings point into b (ids are written as
 * hex into scratch). */
void exec_field_value(const struct tql_node *field, const struct span_batch *b, uint32_t first, uint32_t n,
		      uint32_t i, struct arena *scratch, struct exec_value *out);

/* exec_field_value for several fields and spans of one trace at once (the
 * trace's context is built once): out[k * n_fields + f] is the value of
 * fields[f] for span b->spans[idx[k]], idx being indexes into b->spans as
 * exec_visit_fn gives them (outside the trace: nil). out has room for
 * n_idx * n_fields values. 0 or CLEW_ENOMEM (scratch refused). */
int exec_field_values(const struct tql_node *const *fields, uint32_t n_fields, const struct span_batch *b,
		      uint32_t first, uint32_t n, const uint32_t *idx, uint32_t n_idx, struct arena *scratch,
		      struct exec_value *out);

#endif
