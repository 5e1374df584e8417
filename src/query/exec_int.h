/* Private to the executor (query/exec_*.c): the compiled query, the per-trace
 * context (parent index, root, times) and the evaluation entry points shared
 * by the expression evaluator, the spanset operators and the scan driver. */
#ifndef CLEW_QUERY_EXEC_INT_H
#define CLEW_QUERY_EXEC_INT_H

#include "query/exec.h"
#include "query/regex.h"

struct exec_regex {
	const struct tql_node *node; /* the =~ / !~ node */
	struct tql_regex *re;	     /* NULL: the pattern is not a string, never matches */
};

/* An equality a page must satisfy to hold a match: dict holds s. */
struct exec_prune {
	enum block_col dict;
	struct slice s;
};

struct excol_plan;

struct exec_query {
	const struct tql_query *q;
	struct excol_plan *col; /* the columnar plan over block pages, or NULL */
	struct exec_regex *regexes;
	uint32_t n_regexes;
	bool most_recent;
	struct exec_prune *prune; /* all must hold */
	uint32_t n_prune;
	const struct tql_node **out_fields; /* attributes returned with result spans */
	uint32_t n_out_fields;
	/* Filters and select() on conditions about one span each: a trace split
	 * over blocks is answered part by part, the parts merged. */
	bool per_span;
};

/* One trace being evaluated: spans b->spans[first, first+n), local index i
 * is b->spans[first + i]. Arrays are in scratch. */
struct exec_trace_ctx {
	const struct exec_query *xq;
	const struct span_batch *b;
	uint32_t first, n;
	struct arena *scratch;
	int32_t *parent;     /* local index of the parent in the trace, or -1; on demand */
	uint32_t *children;  /* child counts, built on first use */
	int32_t *nested;     /* 2 per span: nested set left, right; on first use */
	int32_t root;	     /* -1 for an empty trace */
	int64_t start_ns, end_ns;
	int32_t cur_event, cur_link; /* bound while a filter runs; -1 none */
	bool oom;
};

/* Build the context of a trace (its times; the rest on demand). 0 or
 * CLEW_ENOMEM. */
int exec_trace_init(struct exec_trace_ctx *t, const struct exec_query *xq, const struct span_batch *b,
		    uint32_t first, uint32_t n, struct arena *scratch);

/* Evaluate field expression nd for local span i. */
void exec_eval(struct exec_trace_ctx *t, uint32_t i, const struct tql_node *nd, struct exec_value *out);

/* The filter condition nd holds for local span i (events and links bound
 * in turn when nd names their fields: true if any binding holds). */
#define EXEC_BIND_EVENT 1u
#define EXEC_BIND_LINK 2u
bool exec_cond(struct exec_trace_ctx *t, uint32_t i, const struct tql_node *nd, unsigned binds);

/* Which of events and links a condition names (EXEC_BIND_*). */
unsigned exec_binds(const struct tql_node *nd);

/* The parent index and root, child counts and nested-set numbers, built on
 * first use. 0 or CLEW_ENOMEM. */
int exec_build_parents(struct exec_trace_ctx *t);
int exec_build_children(struct exec_trace_ctx *t);
int exec_build_nested(struct exec_trace_ctx *t);

/* Numeric view of a value (int, float, duration) or false. */
bool exec_value_num(const struct exec_value *v, double *out);

/* Compare two values with Tempo's coercions (numbers of any kind with each
 * other; ids, when ids is set, as hex without leading zeros); false for nil
 * or unlike types. */
bool exec_compare(enum tql_op op, const struct exec_value *a, const struct exec_value *b, bool ids);

/* a op b for + - * / % ^ (int stays int, duration stays duration). */
void exec_arith(enum tql_op op, const struct exec_value *a, const struct exec_value *b, struct exec_value *out);

/* Copy a value into an any_value (strings copied into a). */
bool exec_value_to_any(const struct exec_value *v, struct arena *a, struct any_value *out);

/* The spansets of the query over the trace (the spanset and scalar
 * evaluator, exec_spanset.c): fills the result of exec_eval_trace. */
int exec_run_trace(struct exec_trace_ctx *t, struct arena *out_arena, uint32_t spss, struct exec_trace *out,
		   uint32_t **matched, uint32_t *n_matched);

/* A handler of whole block pages for exec_scan_pages: called from worker
 * thread `worker` (0 <= worker < EXEC_MAX_THREADS, one thread per index)
 * with a page the time range and the dictionaries did not prune. It returns
 * 0 when it handled the page, 1 to have the scan evaluate it span by span
 * as usual, or an error (which stops the scan). */
#define EXEC_MAX_THREADS 64
typedef int (*exec_page_fn)(void *ctx, uint32_t worker, struct block *blk, uint32_t page);

/* exec_scan with a page handler (may be NULL) for block pages; the heads
 * are evaluated span by span and handed to visit. */
int exec_scan_pages(const struct store_query_ops *ops, void *impl, struct exec_query *xq,
		    const struct exec_options *o, exec_visit_fn visit, void *ctx, exec_page_fn page, void *page_ctx,
		    struct exec_result *figures);

/* The compiled regex of a =~ / !~ node, or NULL (never matches). */
const struct tql_regex *exec_find_regex(const struct exec_query *xq, const struct tql_node *nd);

/* Whether re matches the whole of s (a runaway pattern counts as no match). */
bool exec_regex_match(const struct tql_regex *re, struct slice s);

/* An attribute value as a TraceQL value (arrays, maps and bytes: unknown). */
void exec_value_from_any(const struct any_value *v, struct exec_value *out);

#endif
