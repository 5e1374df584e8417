/* Streaming evaluation of an alert rule's metrics query (see alert_stream.h):
 * the span filter runs per trace within each accepted batch, and matching
 * spans update per-group rings of time buckets; an evaluation merges the
 * buckets of the window. Invariants: a bucket's epoch is start_ns / width;
 * a ring slot holds the newest epoch that mapped to it; a window is the
 * ALERT_STREAM_SLOTS epochs ending at now's (the newest one partial). */
#include "alert/alert_stream.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alert/group_index.h"
#include "base/alloc.h"
#include "base/arena.h"
#include "base/buf.h"
#include "base/err.h"
#include "base/hash.h"
#include "query/exec.h"
#include "query/sketch.h"
#include "query/traceql.h"

#define MAX_BY 8
#define SCRATCH_RESET_BYTES ((size_t)4 << 20)

struct bucket {
	int64_t epoch;
	uint64_t count;
	double sum, min, max;
	double ex_value;
	uint8_t ex_trace[16];
	struct sketch sk;
};

struct group {
	uint64_t hash;
	char *key;
	char *values[MAX_BY];
	int64_t last_epoch;
	char service[64];
	char team[48];
	struct bucket ring[ALERT_STREAM_RING];
};

struct alert_stream {
	pthread_mutex_t lock;
	struct arena arena; /* the query text, AST, compiled query */
	struct exec_query *xq;
	enum tql_metric_fn fn;
	double quantile;
	const struct tql_node *fields[MAX_BY + 1];
	uint32_t n_by, n_fields;
	char *label_names[MAX_BY];
	char *filter;
	int64_t range_ns, width_ns;
	uint32_t max_groups;
	struct group **groups;
	uint32_t n_groups, cap_groups;
	struct group_index index; /* of groups, by hash */
	uint64_t matched, dropped;
	struct sketch merged; /* scratch for quantiles at evaluation */
};

static int compile(const char *query, struct arena *a, const struct tql_query **q_out, const struct tql_node **mq_out,
		   char *err, size_t errlen)
{
	struct tql_error te;
	size_t len = strlen(query);
	char *text = arena_strndup(a, query, len);
	if (!text) {
		snprintf(err, errlen, "out of memory");
		return CLEW_ENOMEM;
	}
	struct tql_query *q = tql_parse(text, len, a, &te);
	if (!q) {
		snprintf(err, errlen, "%s", te.msg);
		return CLEW_EINVAL;
	}
	if (q->kind != TQL_Q_METRICS) {
		snprintf(err, errlen, "an alert rule needs a metrics query, e.g. {kind=server} | "
				      "quantile_over_time(duration, .99) by (span.customer.id)");
		return CLEW_EINVAL;
	}
	const struct tql_node *mq = q->root;
	if (mq->kind != TQL_N_METRICS_QUERY || !mq->a || !mq->b || mq->b->kind != TQL_N_METRICS) {
		snprintf(err, errlen, "arithmetic between metrics queries is not supported in alert rules");
		return CLEW_EINVAL;
	}
	if (mq->n_items) {
		snprintf(err, errlen, "topk, bottomk and value filters are not supported in alert rules: the "
				      "condition does the filtering");
		return CLEW_EINVAL;
	}
	const struct tql_node *fn = mq->b;
	switch (fn->u.metrics.fn) {
	case TQL_M_RATE:
	case TQL_M_COUNT_OVER_TIME:
	case TQL_M_MIN_OVER_TIME:
	case TQL_M_MAX_OVER_TIME:
	case TQL_M_AVG_OVER_TIME:
	case TQL_M_SUM_OVER_TIME: break;
	case TQL_M_QUANTILE_OVER_TIME:
		if (fn->u.metrics.n_quantiles != 1) {
			snprintf(err, errlen, "quantile_over_time() in an alert rule takes exactly one quantile");
			return CLEW_EINVAL;
		}
		break;
	default:
		snprintf(err, errlen, "%s() is not supported in alert rules; use rate, count_over_time, "
				      "min/max/avg/sum_over_time or quantile_over_time",
			 tql_metric_fn_name(fn->u.metrics.fn));
		return CLEW_EINVAL;
	}
	if (fn->n_items > MAX_BY) {
		snprintf(err, errlen, "at most %d by() labels in an alert rule", MAX_BY);
		return CLEW_EINVAL;
	}
	*q_out = q;
	*mq_out = mq;
	return 0;
}

int alert_stream_check(const char *query, char *err, size_t errlen)
{
	struct arena a;
	arena_init(&a, (size_t)64 << 20);
	const struct tql_query *q;
	const struct tql_node *mq;
	int rc = compile(query, &a, &q, &mq, err, errlen);
	if (rc == 0) {
		struct tql_query spans = *q;
		spans.kind = TQL_Q_SPANS;
		spans.root = mq->a;
		struct exec_query *xq = exec_compile(&spans, &a, &rc, err, errlen);
		if (xq)
			exec_query_free(xq);
		else
			rc = CLEW_EINVAL;
	}
	arena_reset(&a);
	return rc;
}

static char *node_text(const struct tql_node *n)
{
	struct buf b;
	buf_init(&b, 64 * 1024);
	tql_format_node(n, &b);
	buf_append_byte(&b, 0);
	char *s = xstrdup(b.err ? "" : (const char *)b.p);
	buf_free(&b);
	return s;
}

struct alert_stream *alert_stream_new(const char *query, int64_t range_ns, uint32_t max_groups, int *rc, char *err,
				      size_t errlen)
{
	struct alert_stream *s = xcalloc(1, sizeof *s);
	pthread_mutex_init(&s->lock, NULL);
	arena_init(&s->arena, (size_t)64 << 20);
	const struct tql_query *q;
	const struct tql_node *mq;
	if ((*rc = compile(query, &s->arena, &q, &mq, err, errlen)) < 0)
		goto fail;
	/* the executor keeps a pointer to the query: it lives in the arena */
	struct tql_query *spans = arena_memdup(&s->arena, q, sizeof *q);
	if (!spans) {
		*rc = CLEW_ENOMEM;
		goto fail;
	}
	spans->kind = TQL_Q_SPANS;
	spans->root = mq->a;
	if (!(s->xq = exec_compile(spans, &s->arena, rc, err, errlen)))
		goto fail;
	const struct tql_node *fn = mq->b;
	s->fn = fn->u.metrics.fn;
	if (s->fn == TQL_M_QUANTILE_OVER_TIME)
		s->quantile = fn->u.metrics.quantiles[0];
	for (uint32_t k = 0; k < fn->n_items; k++) {
		s->fields[s->n_fields++] = fn->items[k];
		s->label_names[k] = node_text(fn->items[k]);
	}
	s->n_by = s->n_fields;
	if (fn->a && s->fn != TQL_M_RATE && s->fn != TQL_M_COUNT_OVER_TIME)
		s->fields[s->n_fields++] = fn->a;
	s->filter = node_text(mq->a);
	s->range_ns = range_ns > 0 ? range_ns : 60000000000LL;
	s->width_ns = (s->range_ns + ALERT_STREAM_SLOTS - 1) / ALERT_STREAM_SLOTS;
	if (s->width_ns < 1000000)
		s->width_ns = 1000000;
	s->max_groups = max_groups ? max_groups : ALERT_STREAM_DEFAULT_MAX_GROUPS;
	sketch_init(&s->merged, ALERT_STREAM_SKETCH_ALPHA, ALERT_STREAM_SKETCH_BUCKETS);
	*rc = 0;
	return s;
fail:
	alert_stream_free(s);
	return NULL;
}

static void group_free(struct group *g)
{
	free(g->key);
	for (uint32_t i = 0; i < MAX_BY; i++)
		free(g->values[i]);
	for (uint32_t i = 0; i < ALERT_STREAM_RING; i++)
		sketch_free(&g->ring[i].sk);
	free(g);
}

void alert_stream_free(struct alert_stream *s)
{
	if (!s)
		return;
	for (uint32_t i = 0; i < s->n_groups; i++)
		group_free(s->groups[i]);
	free(s->groups);
	group_index_free(&s->index);
	for (uint32_t i = 0; i < MAX_BY; i++)
		free(s->label_names[i]);
	free(s->filter);
	sketch_free(&s->merged);
	if (s->xq)
		exec_query_free(s->xq);
	arena_reset(&s->arena);
	pthread_mutex_destroy(&s->lock);
	free(s);
}

const char *alert_stream_filter(const struct alert_stream *s)
{
	return s->filter;
}

uint32_t alert_stream_n_labels(const struct alert_stream *s)
{
	return s->n_by;
}

const char *alert_stream_label_name(const struct alert_stream *s, uint32_t i)
{
	return i < s->n_by ? s->label_names[i] : "";
}

size_t alert_stream_value_text(const struct exec_value *v, char *out, size_t cap)
{
	int n;
	switch (v->type) {
	case TQL_T_STRING: {
		size_t len = v->u.s.len < cap - 1 ? v->u.s.len : cap - 1;
		memcpy(out, v->u.s.p, len);
		out[len] = 0;
		return len;
	}
	case TQL_T_INT:
	case TQL_T_DURATION: n = snprintf(out, cap, "%lld", (long long)v->u.i); break;
	case TQL_T_FLOAT: n = snprintf(out, cap, "%.17g", v->u.f); break;
	case TQL_T_BOOL: n = snprintf(out, cap, "%s", v->u.b ? "true" : "false"); break;
	case TQL_T_STATUS:
		n = snprintf(out, cap, "%s", v->u.i == 2 ? "error" : v->u.i == 1 ? "ok" : "unset");
		break;
	case TQL_T_KIND: {
		static const char *const kinds[] = {"unspecified", "internal", "server", "client", "producer", "consumer"};
		n = snprintf(out, cap, "%s", v->u.i >= 0 && v->u.i < 6 ? kinds[v->u.i] : "unspecified");
		break;
	}
	default: n = snprintf(out, cap, "<nil>"); break;
	}
	return n < 0 ? 0 : (size_t)n < cap ? (size_t)n : cap - 1;
}

static uint64_t group_hash_at(const void *ctx, uint32_t i)
{
	return ((const struct alert_stream *)ctx)->groups[i]->hash;
}

static bool group_match(const void *ctx, uint32_t i, const void *key)
{
	const struct group *g = ((const struct alert_stream *)ctx)->groups[i];
	const struct group *want = key;
	return g->hash == want->hash && strcmp(g->key, want->key) == 0;
}

/* The group of key (creating it with values), or NULL over the cap or out
 * of memory. Under the lock. */
static struct group *group_get(struct alert_stream *s, const char *key, size_t key_len, char vals[][ALERT_STREAM_MAX_LABEL])
{
	uint64_t h = hash64(key, key_len);
	struct group want = {.hash = h, .key = (char *)key};
	int64_t at = group_index_find(&s->index, h, group_match, s, &want);
	if (at >= 0)
		return s->groups[at];
	if (s->n_groups >= s->max_groups)
		return NULL;
	if (group_index_fit(&s->index, s->n_groups, group_hash_at, s) < 0)
		return NULL;
	if (s->n_groups == s->cap_groups) {
		uint32_t cap = s->cap_groups ? s->cap_groups * 2 : 16;
		struct group **ng = try_realloc(s->groups, cap * sizeof *ng);
		if (!ng)
			return NULL;
		s->groups = ng;
		s->cap_groups = cap;
	}
	struct group *g = try_calloc(1, sizeof *g);
	if (!g)
		return NULL;
	g->hash = h;
	g->key = xstrdup(key);
	for (uint32_t k = 0; k < s->n_by; k++)
		g->values[k] = xstrdup(vals[k]);
	for (uint32_t k = 0; k < ALERT_STREAM_RING; k++) {
		sketch_init(&g->ring[k].sk, ALERT_STREAM_SKETCH_ALPHA, ALERT_STREAM_SKETCH_BUCKETS);
		g->ring[k].epoch = INT64_MIN;
	}
	group_index_add(&s->index, h, s->n_groups);
	s->groups[s->n_groups++] = g;
	return g;
}

static void copy_text(char *dst, size_t cap, struct slice s)
{
	size_t n = s.len < cap - 1 ? s.len : cap - 1;
	memcpy(dst, s.p, n);
	dst[n] = 0;
}

/* Add one matched span (its value v, NaN for rate/count) to group g. */
static void group_add(struct alert_stream *s, struct group *g, const struct span_batch *b, const struct span *sp,
		      int64_t t, double v)
{
	int64_t epoch = t / s->width_ns;
	struct bucket *bk = &g->ring[(uint64_t)epoch % ALERT_STREAM_RING];
	if (bk->epoch > epoch)
		return; /* older than the ring holds */
	if (bk->epoch != epoch) {
		bk->epoch = epoch;
		bk->count = 0;
		bk->sum = 0;
		bk->min = INFINITY;
		bk->max = -INFINITY;
		bk->ex_value = -INFINITY;
		sketch_free(&bk->sk);
	}
	if (epoch > g->last_epoch)
		g->last_epoch = epoch;
	bk->count++;
	/* rate and count have no value: the newest span is the example */
	double rank = isnan(v) ? (double)t : v;
	if (!isnan(v)) {
		bk->sum += v;
		if (v < bk->min)
			bk->min = v;
		if (v > bk->max)
			bk->max = v;
		if (s->fn == TQL_M_QUANTILE_OVER_TIME)
			sketch_add(&bk->sk, v);
	}
	if (rank > bk->ex_value) {
		bk->ex_value = rank;
		memcpy(bk->ex_trace, sp->trace_id, 16);
		const struct resource *r = span_batch_resource_of(b, sp);
		copy_text(g->service, sizeof g->service, resource_service_name(r));
		const struct attr *team = attr_find(&r->attrs, "team");
		if (!team)
			team = attr_find(&r->attrs, "service.team");
		if (!team)
			team = attr_find(&r->attrs, "team.name");
		if (team && team->value.type == ANY_STRING)
			copy_text(g->team, sizeof g->team, team->value.u.str);
	}
}

static double num_value(const struct exec_value *v)
{
	switch (v->type) {
	case TQL_T_INT: return (double)v->u.i;
	case TQL_T_DURATION: return (double)v->u.i / 1e9; /* durations are seconds in metrics */
	case TQL_T_FLOAT: return v->u.f;
	default: return NAN;
	}
}

struct sort_ent {
	uint8_t trace_id[16];
	uint32_t i;
};

static int cmp_ent(const void *a, const void *b)
{
	const struct sort_ent *x = a, *y = b;
	int c = memcmp(x->trace_id, y->trace_id, 16);
	return c ? c : (x->i > y->i) - (x->i < y->i);
}

/* The matched spans of one trace's run: indexes into tb->spans. */
static uint32_t matched_spans(struct alert_stream *s, const struct span_batch *tb, uint32_t first, uint32_t n,
			      struct arena *scratch, struct arena *outa, uint32_t *idx, int *rc)
{
	struct exec_trace tr;
	int r = exec_eval_trace(s->xq, tb, first, n, scratch, outa, n, &tr);
	if (r <= 0) {
		*rc = r;
		return 0;
	}
	uint32_t n_idx = 0;
	uint8_t *seen = arena_zalloc(scratch, n);
	if (!seen) {
		*rc = CLEW_ENOMEM;
		return 0;
	}
	for (uint32_t k = 0; k < tr.n_spansets; k++) {
		const struct exec_spanset *ss = &tr.spansets[k];
		for (uint32_t m = 0; m < ss->n_spans; m++) {
			for (uint32_t j = 0; j < n; j++) {
				const struct span *sp = &tb->spans[first + j];
				if (!seen[j] && memcmp(sp->span_id, ss->spans[m].span_id, 8) == 0 &&
				    sp->start_unix_ns == ss->spans[m].start_unix_ns) {
					seen[j] = 1;
					idx[n_idx++] = first + j;
					break;
				}
			}
		}
	}
	return n_idx;
}

int alert_stream_group_traces(const struct span_batch *b, struct arena *a, struct span_batch *out)
{
	uint32_t n = b->n_spans;
	*out = *b;
	if (n == 0)
		return 0;
	struct sort_ent *ents = arena_array(a, n, sizeof *ents);
	out->spans = arena_array(a, n, sizeof *out->spans);
	if (!ents || !out->spans)
		return CLEW_ENOMEM;
	for (uint32_t i = 0; i < n; i++) {
		memcpy(ents[i].trace_id, b->spans[i].trace_id, 16);
		ents[i].i = i;
	}
	qsort(ents, n, sizeof *ents, cmp_ent);
	for (uint32_t i = 0; i < n; i++)
		out->spans[i] = b->spans[ents[i].i];
	return 0;
}

int alert_stream_add_batch(struct alert_stream *s, const struct span_batch *b, int64_t now_ns)
{
	struct arena a;
	struct span_batch tb;
	arena_init(&a, 0);
	int rc = alert_stream_group_traces(b, &a, &tb);
	if (rc == 0)
		rc = alert_stream_add_grouped(s, &tb, now_ns);
	arena_reset(&a);
	return rc;
}

int alert_stream_add_grouped(struct alert_stream *s, const struct span_batch *grouped, int64_t now_ns)
{
	if (grouped->n_spans == 0)
		return 0;
	int rc = 0;
	struct arena scratch, outa, sorta;
	arena_init(&scratch, (size_t)256 << 20);
	arena_init(&outa, (size_t)256 << 20);
	arena_init(&sorta, 0);
	uint32_t n = grouped->n_spans;
	const struct span_batch tb = *grouped;
	uint32_t *idx = arena_array(&sorta, n, sizeof *idx);
	if (!idx) {
		rc = CLEW_ENOMEM;
		goto out;
	}
	int64_t oldest = now_ns - s->range_ns - s->width_ns;
	char vals[MAX_BY][ALERT_STREAM_MAX_LABEL];
	char key[MAX_BY * (ALERT_STREAM_MAX_LABEL + 64)];
	for (uint32_t first = 0; first < n;) {
		uint32_t end = first + 1;
		while (end < n && memcmp(tb.spans[end].trace_id, tb.spans[first].trace_id, 16) == 0)
			end++;
		uint32_t len = end - first;
		if (scratch.used_bytes > SCRATCH_RESET_BYTES)
			arena_reset(&scratch);
		if (outa.used_bytes > SCRATCH_RESET_BYTES)
			arena_reset(&outa);
		int erc = 0;
		uint32_t n_idx = matched_spans(s, &tb, first, len, &scratch, &outa, idx, &erc);
		if (erc < 0)
			rc = erc;
		struct exec_value *v = NULL;
		if (n_idx && s->n_fields) {
			v = arena_array(&scratch, (size_t)n_idx * s->n_fields, sizeof *v);
			if (!v || exec_field_values(s->fields, s->n_fields, &tb, first, len, idx, n_idx, &scratch, v) < 0) {
				rc = CLEW_ENOMEM;
				n_idx = 0;
			}
		}
		if (n_idx) {
			pthread_mutex_lock(&s->lock);
			for (uint32_t k = 0; k < n_idx; k++) {
				const struct span *sp = &tb.spans[idx[k]];
				int64_t t = sp->start_unix_ns > now_ns ? now_ns : sp->start_unix_ns;
				if (t < oldest)
					continue;
				const struct exec_value *row = v ? &v[(size_t)k * s->n_fields] : NULL;
				size_t kl = 0;
				for (uint32_t f = 0; f < s->n_by; f++) {
					alert_stream_value_text(&row[f], vals[f], sizeof vals[f]);
					int w = snprintf(key + kl, sizeof key - kl, "%s%s=%s", f ? "\x1f" : "",
							 s->label_names[f], vals[f]);
					if (w > 0)
						kl += (size_t)w < sizeof key - kl ? (size_t)w : sizeof key - kl - 1;
				}
				key[kl] = 0;
				struct group *g = group_get(s, key, kl, vals);
				if (!g) {
					s->dropped++;
					continue;
				}
				s->matched++;
				double val = s->n_fields > s->n_by ? num_value(&row[s->n_by]) : NAN;
				if (s->n_fields > s->n_by && isnan(val))
					continue; /* the span lacks the field: it has no value to count */
				group_add(s, g, &tb, sp, t, val);
			}
			pthread_mutex_unlock(&s->lock);
		}
		first = end;
	}
out:
	arena_reset(&scratch);
	arena_reset(&outa);
	arena_reset(&sorta);
	return rc;
}

static void forget_group(struct alert_stream *s, uint32_t i)
{
	group_free(s->groups[i]);
	s->groups[i] = s->groups[--s->n_groups];
}

int alert_stream_eval(struct alert_stream *s, int64_t now_ns, alert_group_fn fn, void *ctx)
{
	int rc = 0;
	pthread_mutex_lock(&s->lock);
	int64_t now_epoch = now_ns / s->width_ns;
	int64_t first_epoch = now_epoch - ALERT_STREAM_SLOTS + 1;
	double window_s = (double)(now_ns - first_epoch * s->width_ns) / 1e9;
	bool removed = false;
	for (uint32_t i = 0; i < s->n_groups;) {
		struct group *g = s->groups[i];
		if (g->last_epoch < first_epoch - ALERT_STREAM_SLOTS) {
			forget_group(s, i);
			removed = true;
			continue;
		}
		i++;
		uint64_t count = 0;
		double sum = 0, mn = INFINITY, mx = -INFINITY;
		const struct bucket *in[ALERT_STREAM_RING];
		uint32_t n_in = 0;
		if (s->fn == TQL_M_QUANTILE_OVER_TIME)
			sketch_free(&s->merged);
		for (uint32_t k = 0; k < ALERT_STREAM_RING; k++) {
			const struct bucket *bk = &g->ring[k];
			if (bk->epoch < first_epoch || bk->epoch > now_epoch || bk->count == 0)
				continue;
			in[n_in++] = bk;
			count += bk->count;
			sum += bk->sum;
			if (bk->min < mn)
				mn = bk->min;
			if (bk->max > mx)
				mx = bk->max;
			if (s->fn == TQL_M_QUANTILE_OVER_TIME)
				sketch_merge(&s->merged, &bk->sk);
		}
		if (count == 0)
			continue;
		struct alert_group_value out;
		memset(&out, 0, sizeof out);
		switch (s->fn) {
		case TQL_M_RATE: out.value = window_s > 0 ? (double)count / window_s : NAN; break;
		case TQL_M_COUNT_OVER_TIME: out.value = (double)count; break;
		case TQL_M_MIN_OVER_TIME: out.value = mn; break;
		case TQL_M_MAX_OVER_TIME: out.value = mx; break;
		case TQL_M_SUM_OVER_TIME: out.value = sum; break;
		case TQL_M_AVG_OVER_TIME: out.value = sum / (double)count; break;
		case TQL_M_QUANTILE_OVER_TIME: out.value = sketch_quantile(&s->merged, s->quantile); break;
		default: out.value = NAN; break;
		}
		/* examples: the worst buckets' worst spans, distinct traces */
		for (uint32_t a = 1; a < n_in; a++)
			for (uint32_t c = a; c > 0 && in[c]->ex_value > in[c - 1]->ex_value; c--) {
				const struct bucket *t = in[c];
				in[c] = in[c - 1];
				in[c - 1] = t;
			}
		for (uint32_t k = 0; k < n_in && out.n_examples < ALERT_STREAM_EXAMPLES; k++) {
			bool dup = false;
			for (uint32_t e = 0; e < out.n_examples; e++)
				dup |= memcmp(out.examples[e], in[k]->ex_trace, 16) == 0;
			if (!dup)
				memcpy(out.examples[out.n_examples++], in[k]->ex_trace, 16);
		}
		out.key = g->key;
		out.names = (const char *const *)s->label_names;
		out.values = (const char *const *)g->values;
		out.n_labels = s->n_by;
		out.count = count;
		out.service = g->service;
		out.team = g->team;
		if ((rc = fn(ctx, &out)) != 0)
			break;
	}
	if (removed) {
		if (group_index_rebuild(&s->index, s->n_groups, group_hash_at, s) < 0)
			s->max_groups = s->n_groups; /* no table: refuse new groups until memory returns */
	}
	pthread_mutex_unlock(&s->lock);
	return rc;
}

void alert_stream_stats(struct alert_stream *s, struct alert_stream_stats *out)
{
	pthread_mutex_lock(&s->lock);
	out->groups = s->n_groups;
	out->spans_matched = s->matched;
	out->spans_dropped = s->dropped;
	size_t bytes = sizeof *s + (size_t)s->cap_groups * sizeof(void *) +
		       group_index_bytes(&s->index);
	for (uint32_t i = 0; i < s->n_groups; i++) {
		const struct group *g = s->groups[i];
		bytes += sizeof *g + strlen(g->key) + 1;
		for (uint32_t k = 0; k < s->n_by; k++)
			bytes += strlen(g->values[k]) + 1;
		for (uint32_t k = 0; k < ALERT_STREAM_RING; k++)
			bytes += sketch_bytes(&g->ring[k].sk) - sizeof(struct sketch);
	}
	out->bytes = bytes;
	pthread_mutex_unlock(&s->lock);
}
