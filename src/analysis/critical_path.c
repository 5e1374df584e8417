/* Critical path of one trace and its aggregation over many (see
 * critical_path.h and docs/analysis.md). The trace is indexed by span id,
 * the root chosen, times adjusted parents first (skew: shift a child of
 * another service into its parent; same service: clip, or set aside as
 * async when it outlives its parent), then the path is walked backwards
 * from the root's end with one cursor per parent over its children sorted
 * by end time, so every child is taken at most once and the walk is O(n). */
#include "analysis/critical_path.h"

#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "base/err.h"
#include "base/hash.h"
#include "query/sketch.h"

/* ---- one trace ---- */

struct cp_work {
	const struct span_batch *b;
	uint32_t first, n;
	int32_t *parent;
	uint32_t *child_off, *child; /* CSR: children of i are child[child_off[i], child_off[i+1]) */
	struct cp_span *out;
};

static inline const struct span *sp(const struct cp_work *w, uint32_t i)
{
	return &w->b->spans[w->first + i];
}

static inline int64_t dur_of(const struct span *s)
{
	return s->end_unix_ns > s->start_unix_ns ? s->end_unix_ns - s->start_unix_ns : 0;
}

static bool same_service(const struct cp_work *w, uint32_t i, uint32_t j)
{
	const struct span *a = sp(w, i), *c = sp(w, j);
	if (a->scope == c->scope)
		return true;
	return slice_eq(resource_service_name(span_batch_resource_of(w->b, a)),
			resource_service_name(span_batch_resource_of(w->b, c)));
}

/* parent[i] for every span: local index, or -1 when absent or missing. */
static int link_parents(struct cp_work *w, struct arena *a)
{
	uint32_t cap = 16;
	while (cap < w->n * 2)
		cap <<= 1;
	uint32_t *tab = arena_array(a, cap, sizeof *tab);
	w->parent = arena_array(a, w->n, sizeof *w->parent);
	if (!tab || !w->parent)
		return CLEW_ENOMEM;
	memset(tab, 0xff, (size_t)cap * sizeof *tab);
	for (uint32_t i = 0; i < w->n; i++) {
		uint32_t h = (uint32_t)hash64(sp(w, i)->span_id, 8) & (cap - 1);
		while (tab[h] != UINT32_MAX) {
			if (memcmp(sp(w, tab[h])->span_id, sp(w, i)->span_id, 8) == 0)
				break; /* a duplicate id: the first one wins */
			h = (h + 1) & (cap - 1);
		}
		if (tab[h] == UINT32_MAX)
			tab[h] = i;
	}
	for (uint32_t i = 0; i < w->n; i++) {
		const struct span *s = sp(w, i);
		w->parent[i] = -1;
		if (!s->has_parent)
			continue;
		uint32_t h = (uint32_t)hash64(s->parent_span_id, 8) & (cap - 1);
		while (tab[h] != UINT32_MAX) {
			if (memcmp(sp(w, tab[h])->span_id, s->parent_span_id, 8) == 0) {
				if (tab[h] != i)
					w->parent[i] = (int32_t)tab[h];
				break;
			}
			h = (h + 1) & (cap - 1);
		}
	}
	return 0;
}

/* true when span i is a better root candidate than j */
static bool better_root(const struct cp_work *w, uint32_t i, uint32_t j)
{
	const struct span *a = sp(w, i), *c = sp(w, j);
	if (a->has_parent != c->has_parent)
		return !a->has_parent;
	if (dur_of(a) != dur_of(c))
		return dur_of(a) > dur_of(c);
	if (a->start_unix_ns != c->start_unix_ns)
		return a->start_unix_ns < c->start_unix_ns;
	return i < j;
}

static uint32_t choose_root(const struct cp_work *w)
{
	uint32_t root = UINT32_MAX;
	for (uint32_t i = 0; i < w->n; i++)
		if (w->parent[i] < 0 && (root == UINT32_MAX || better_root(w, i, root)))
			root = i;
	if (root != UINT32_MAX)
		return root;
	/* every span has a parent in the trace: a cycle; break it at the longest */
	root = 0;
	for (uint32_t i = 1; i < w->n; i++)
		if (better_root(w, i, root))
			root = i;
	return root;
}

static int build_children(struct cp_work *w, struct arena *a)
{
	w->child_off = arena_array(a, (size_t)w->n + 1, sizeof *w->child_off);
	w->child = arena_array(a, w->n ? w->n : 1, sizeof *w->child);
	uint32_t *fill = arena_array(a, w->n, sizeof *fill);
	if (!w->child_off || !w->child || !fill)
		return CLEW_ENOMEM;
	for (uint32_t i = 0; i < w->n; i++)
		if (w->parent[i] >= 0)
			w->child_off[w->parent[i] + 1]++;
	for (uint32_t i = 0; i < w->n; i++)
		w->child_off[i + 1] += w->child_off[i];
	for (uint32_t i = 0; i < w->n; i++)
		if (w->parent[i] >= 0) {
			uint32_t p = (uint32_t)w->parent[i];
			w->child[w->child_off[p] + fill[p]++] = i;
		}
	return 0;
}

/* Adjust child c's times into its parent p's (already adjusted) times. */
static void adjust_child(struct cp_work *w, uint32_t p, uint32_t c, int64_t *shift, bool *clipped)
{
	const struct span *ps = sp(w, p), *cs = sp(w, c);
	struct cp_span *P = &w->out[p], *C = &w->out[c];
	int64_t s = cs->start_unix_ns + shift[p];
	int64_t e = (cs->end_unix_ns > cs->start_unix_ns ? cs->end_unix_ns : cs->start_unix_ns) + shift[p];
	shift[c] = shift[p];
	C->start_unix_ns = s;
	C->end_unix_ns = e;
	if (cs->kind == SPAN_KIND_CONSUMER || ps->kind == SPAN_KIND_PRODUCER) {
		C->async = true;
		return;
	}
	if (s >= P->start_unix_ns && e <= P->end_unix_ns)
		return;
	if (!same_service(w, p, c)) {
		/* clock skew between hosts: shift it in, centred as Jaeger does */
		int64_t dc = e - s, dp = P->end_unix_ns - P->start_unix_ns, delta;
		if (dc <= dp) {
			delta = P->start_unix_ns + (dp - dc) / 2 - s;
			C->start_unix_ns = s + delta;
			C->end_unix_ns = e + delta;
		} else {
			delta = P->start_unix_ns - s;
			C->start_unix_ns = P->start_unix_ns;
			C->end_unix_ns = P->end_unix_ns;
			clipped[c] = true;
		}
		shift[c] += delta;
		C->adjusted = true;
		return;
	}
	if (e > P->end_unix_ns && !clipped[p]) {
		C->async = true; /* same clock, outlives its parent: fire and forget */
		return;
	}
	int64_t ns = s > P->start_unix_ns ? s : P->start_unix_ns;
	int64_t ne = e < P->end_unix_ns ? e : P->end_unix_ns;
	C->start_unix_ns = ns;
	C->end_unix_ns = ne > ns ? ne : ns;
	C->adjusted = true;
	clipped[c] = e > P->end_unix_ns;
}

/* children by end descending, then start descending, then index */
static int cmp_child(const void *x, const void *y, void *ctx)
{
	const struct cp_span *spans = ctx;
	uint32_t i = *(const uint32_t *)x, j = *(const uint32_t *)y;
	const struct cp_span *a = &spans[i], *c = &spans[j];
	if (a->end_unix_ns != c->end_unix_ns)
		return a->end_unix_ns > c->end_unix_ns ? -1 : 1;
	if (a->start_unix_ns != c->start_unix_ns)
		return a->start_unix_ns > c->start_unix_ns ? -1 : 1;
	return (i > j) - (i < j);
}

int cp_trace_compute(const struct span_batch *b, uint32_t first, uint32_t n, struct arena *a, struct cp_trace *out)
{
	int rc;
	memset(out, 0, sizeof *out);
	if (n == 0)
		return CLEW_EINVAL;
	struct cp_work w = {.b = b, .first = first, .n = n};
	w.out = arena_array(a, n, sizeof *w.out);
	int64_t *shift = arena_array(a, n, sizeof *shift);
	bool *clipped = arena_array(a, n, sizeof *clipped);
	uint32_t *order = arena_array(a, n, sizeof *order);
	uint32_t *cursor = arena_array(a, n, sizeof *cursor);
	bool *seen = arena_array(a, n, sizeof *seen);
	out->path = arena_array(a, n, sizeof *out->path);
	if (!w.out || !shift || !clipped || !order || !cursor || !seen || !out->path)
		return CLEW_ENOMEM;
	if ((rc = link_parents(&w, a)) < 0)
		return rc;
	uint32_t root = choose_root(&w);
	w.parent[root] = -1;
	if ((rc = build_children(&w, a)) < 0)
		return rc;
	for (uint32_t i = 0; i < n; i++) {
		w.out[i].parent = w.parent[i];
		w.out[i].detached = true;
		w.out[i].start_unix_ns = sp(&w, i)->start_unix_ns;
		w.out[i].end_unix_ns = sp(&w, i)->start_unix_ns + dur_of(sp(&w, i));
	}
	/* breadth first from the root: parents are adjusted before children */
	uint32_t head = 0, tail = 0;
	order[tail++] = root;
	seen[root] = true;
	w.out[root].detached = false;
	while (head < tail) {
		uint32_t p = order[head++];
		for (uint32_t k = w.child_off[p]; k < w.child_off[p + 1]; k++) {
			uint32_t c = w.child[k];
			if (seen[c])
				continue;
			seen[c] = true;
			w.out[c].detached = false;
			adjust_child(&w, p, c, shift, clipped);
			if (w.out[c].adjusted)
				out->n_adjusted++;
			order[tail++] = c;
		}
		qsort_r(w.child + w.child_off[p], w.child_off[p + 1] - w.child_off[p], sizeof *w.child, cmp_child,
			w.out);
		cursor[p] = w.child_off[p];
	}
	/* walk back from the root's end */
	uint32_t p = root;
	int64_t t = w.out[root].end_unix_ns;
	memset(seen, 0, (size_t)n * sizeof *seen);
	out->path[out->n_path++] = root;
	seen[root] = true;
	for (;;) {
		w.out[p].on_path = true;
		uint32_t c = UINT32_MAX;
		while (cursor[p] < w.child_off[p + 1]) {
			uint32_t k = w.child[cursor[p]++];
			if (w.out[k].async || w.out[k].detached || w.out[k].end_unix_ns > t)
				continue;
			c = k;
			break;
		}
		if (c != UINT32_MAX) {
			w.out[p].self_ns += t - w.out[c].end_unix_ns;
			t = w.out[c].end_unix_ns;
			p = c;
			if (!seen[c]) {
				seen[c] = true;
				out->path[out->n_path++] = c;
			}
			continue;
		}
		w.out[p].self_ns += t - w.out[p].start_unix_ns;
		if (p == root)
			break;
		t = w.out[p].start_unix_ns;
		p = (uint32_t)w.parent[p];
	}
	out->spans = w.out;
	out->n = n;
	out->root = root;
	out->total_ns = w.out[root].end_unix_ns - w.out[root].start_unix_ns;
	return 0;
}

/* ---- aggregation ---- */

struct cp_seg {
	struct slice service, name;
	uint64_t hash;
	uint64_t traces;
	int64_t self_ns_total;
	int64_t trace_self_ns; /* of the trace being added */
	uint64_t stamp;	       /* trace_self_ns belongs to trace number stamp */
	struct sketch self_ms;
};

struct cp_agg {
	struct arena strings;
	struct cp_seg *segs;
	uint32_t n_segs, cap_segs;
	uint32_t *tab; /* open addressing: index into segs or UINT32_MAX */
	uint32_t tab_cap;
	uint64_t traces;
	int64_t total_ns;
	uint32_t *touched;
	uint32_t cap_touched;
};

struct cp_agg *cp_agg_new(void)
{
	struct cp_agg *g = try_calloc(1, sizeof *g);
	if (!g)
		return NULL;
	arena_init(&g->strings, 0);
	g->tab_cap = 256;
	g->tab = try_malloc(g->tab_cap * sizeof *g->tab);
	if (!g->tab) {
		free(g);
		return NULL;
	}
	memset(g->tab, 0xff, g->tab_cap * sizeof *g->tab);
	return g;
}

void cp_agg_free(struct cp_agg *g)
{
	if (!g)
		return;
	for (uint32_t k = 0; k < g->n_segs; k++)
		sketch_free(&g->segs[k].self_ms);
	free(g->segs);
	free(g->tab);
	free(g->touched);
	arena_reset(&g->strings);
	free(g);
}

static uint64_t seg_hash(struct slice service, struct slice name)
{
	return hash64_seed(name.p, name.len, hash64(service.p, service.len));
}

static int grow_tab(struct cp_agg *g)
{
	uint32_t cap = g->tab_cap * 2;
	uint32_t *tab = try_malloc((size_t)cap * sizeof *tab);
	if (!tab)
		return CLEW_ENOMEM;
	memset(tab, 0xff, (size_t)cap * sizeof *tab);
	for (uint32_t k = 0; k < g->n_segs; k++) {
		uint32_t h = (uint32_t)g->segs[k].hash & (cap - 1);
		while (tab[h] != UINT32_MAX)
			h = (h + 1) & (cap - 1);
		tab[h] = k;
	}
	free(g->tab);
	g->tab = tab;
	g->tab_cap = cap;
	return 0;
}

/* The segment of (service, name), created if new; UINT32_MAX on ENOMEM. */
static uint32_t seg_get(struct cp_agg *g, struct slice service, struct slice name)
{
	if (g->n_segs >= CP_AGG_MAX_SEGMENTS) {
		service = SLICE_LIT("(other)");
		name = SLICE_LIT("(other)");
	}
	uint64_t hv = seg_hash(service, name);
	uint32_t h = (uint32_t)hv & (g->tab_cap - 1);
	while (g->tab[h] != UINT32_MAX) {
		const struct cp_seg *s = &g->segs[g->tab[h]];
		if (s->hash == hv && slice_eq(s->service, service) && slice_eq(s->name, name))
			return g->tab[h];
		h = (h + 1) & (g->tab_cap - 1);
	}
	if (g->n_segs == g->cap_segs) {
		uint32_t cap = g->cap_segs ? g->cap_segs * 2 : 64;
		struct cp_seg *segs = try_realloc(g->segs, (size_t)cap * sizeof *segs);
		uint32_t *touched = try_realloc(g->touched, (size_t)cap * sizeof *touched);
		if (segs)
			g->segs = segs;
		if (touched)
			g->touched = touched;
		if (!segs || !touched)
			return UINT32_MAX;
		g->cap_segs = cap;
	}
	struct cp_seg *s = &g->segs[g->n_segs];
	memset(s, 0, sizeof *s);
	void *sv = service.len ? arena_memdup(&g->strings, service.p, service.len) : (void *)"";
	void *nv = name.len ? arena_memdup(&g->strings, name.p, name.len) : (void *)"";
	if (!sv || !nv)
		return UINT32_MAX;
	s->service = slice_make(sv, service.len);
	s->name = slice_make(nv, name.len);
	s->hash = hv;
	sketch_init(&s->self_ms, 0, 0);
	g->tab[h] = g->n_segs++;
	if (g->n_segs * 2 > g->tab_cap && grow_tab(g) < 0)
		return UINT32_MAX;
	return g->n_segs - 1;
}

int cp_agg_add(struct cp_agg *g, const struct span_batch *b, uint32_t first, const struct cp_trace *t)
{
	uint64_t stamp = g->traces + 1;
	uint32_t n_touched = 0;
	for (uint32_t k = 0; k < t->n_path; k++) {
		uint32_t i = t->path[k];
		const struct span *s = &b->spans[first + i];
		uint32_t si = seg_get(g, resource_service_name(span_batch_resource_of(b, s)), s->name);
		if (si == UINT32_MAX)
			return CLEW_ENOMEM;
		struct cp_seg *seg = &g->segs[si];
		if (seg->stamp != stamp) {
			seg->stamp = stamp;
			seg->trace_self_ns = 0;
			g->touched[n_touched++] = si;
		}
		seg->trace_self_ns += t->spans[i].self_ns;
	}
	for (uint32_t k = 0; k < n_touched; k++) {
		struct cp_seg *seg = &g->segs[g->touched[k]];
		seg->traces++;
		seg->self_ns_total += seg->trace_self_ns;
		if (sketch_add(&seg->self_ms, (double)seg->trace_self_ns / 1e6) < 0)
			return CLEW_ENOMEM;
	}
	g->traces = stamp;
	g->total_ns += t->total_ns;
	return 0;
}

int cp_agg_add_trace(struct cp_agg *g, const struct span_batch *b, uint32_t first, uint32_t n, struct arena *scratch)
{
	struct cp_trace t;
	arena_reset(scratch);
	int rc = cp_trace_compute(b, first, n, scratch, &t);
	if (rc == 0)
		rc = cp_agg_add(g, b, first, &t);
	arena_reset(scratch);
	return rc;
}

uint64_t cp_agg_traces(const struct cp_agg *g)
{
	return g->traces;
}

int64_t cp_agg_total_ns(const struct cp_agg *g)
{
	return g->total_ns;
}

static int cmp_segment(const void *x, const void *y)
{
	const struct cp_segment *a = x, *c = y;
	if (a->self_ns_total != c->self_ns_total)
		return a->self_ns_total > c->self_ns_total ? -1 : 1;
	size_t m = a->service.len < c->service.len ? a->service.len : c->service.len;
	int r = m ? memcmp(a->service.p, c->service.p, m) : 0;
	if (r || a->service.len != c->service.len)
		return r ? r : (a->service.len > c->service.len) - (a->service.len < c->service.len);
	m = a->name.len < c->name.len ? a->name.len : c->name.len;
	r = m ? memcmp(a->name.p, c->name.p, m) : 0;
	return r ? r : (a->name.len > c->name.len) - (a->name.len < c->name.len);
}

int cp_agg_segments(const struct cp_agg *g, struct arena *a, struct cp_segment **out, uint32_t *n)
{
	*out = NULL;
	*n = 0;
	struct cp_segment *v = arena_array(a, g->n_segs ? g->n_segs : 1, sizeof *v);
	if (!v)
		return CLEW_ENOMEM;
	uint32_t m = 0;
	for (uint32_t k = 0; k < g->n_segs; k++) {
		const struct cp_seg *s = &g->segs[k];
		if (!s->traces)
			continue;
		struct cp_segment *o = &v[m++];
		o->service = s->service;
		o->name = s->name;
		o->traces = s->traces;
		o->self_ns_total = s->self_ns_total;
		o->share = g->total_ns > 0 ? (double)s->self_ns_total / (double)g->total_ns : 0;
		o->self_p50_ms = sketch_quantile(&s->self_ms, 0.5);
		o->self_p99_ms = sketch_quantile(&s->self_ms, 0.99);
	}
	if (m > 1)
		qsort(v, m, sizeof *v, cmp_segment);
	*out = v;
	*n = m;
	return 0;
}

double cp_agg_share(const struct cp_agg *g, struct slice service, struct slice name)
{
	if (g->total_ns <= 0)
		return 0;
	uint64_t hv = seg_hash(service, name);
	uint32_t h = (uint32_t)hv & (g->tab_cap - 1);
	while (g->tab[h] != UINT32_MAX) {
		const struct cp_seg *s = &g->segs[g->tab[h]];
		if (s->hash == hv && slice_eq(s->service, service) && slice_eq(s->name, name))
			return (double)s->self_ns_total / (double)g->total_ns;
		h = (h + 1) & (g->tab_cap - 1);
	}
	return 0;
}
