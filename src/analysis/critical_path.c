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
#include "query/exec.h"
#include "query/exec_int.h"
#include "query/sketch.h"
#include "store/block.h"
#include "store/store.h"

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

int cp_agg_merge(struct cp_agg *dst, const struct cp_agg *src)
{
	for (uint32_t k = 0; k < src->n_segs; k++) {
		const struct cp_seg *s = &src->segs[k];
		if (!s->traces)
			continue;
		uint32_t di = seg_get(dst, s->service, s->name);
		if (di == UINT32_MAX)
			return CLEW_ENOMEM;
		struct cp_seg *d = &dst->segs[di];
		d->traces += s->traces;
		d->self_ns_total += s->self_ns_total;
		if (sketch_merge(&d->self_ms, &s->self_ms) < 0)
			return CLEW_ENOMEM;
	}
	dst->traces += src->traces;
	dst->total_ns += src->total_ns;
	return 0;
}

/* ---- over the store ---- */

static bool cp_columnar = true;

struct cp_worker {
	struct cp_agg *agg;
	struct arena scratch;
	/* block pages read column by column (cp_page) */
	bool cols_ready;
	struct block_cols cols;
	struct span *spans; /* the page's spans, only the fields the path reads */
	uint32_t cap_spans;
	struct block *blk; /* whose resources and scopes are in tables */
	struct arena blk_arena;
	struct span_batch tables;
};

struct cp_scan {
	struct cp_worker w[EXEC_MAX_WORKERS];
	int64_t start_ns, end_ns;
	/* where other parts of a page's traces may be: the blocks, and the
	 * trace ids of the heads (an open-addressing set, mask + 1 slots) */
	struct store_block_list bl;
	uint8_t (*head_ids)[16];
	uint8_t *head_used;
	size_t n_head, head_mask;
};

static int worker_ready(struct cp_worker *w)
{
	if (w->agg)
		return 0;
	if (!(w->agg = cp_agg_new()))
		return CLEW_ENOMEM;
	arena_init(&w->scratch, 0);
	arena_init(&w->blk_arena, 0);
	block_cols_init(&w->cols);
	w->cols_ready = true;
	return 0;
}

static void worker_free(struct cp_worker *w)
{
	if (!w->agg)
		return;
	cp_agg_free(w->agg);
	arena_reset(&w->scratch);
	arena_reset(&w->blk_arena);
	if (w->cols_ready)
		block_cols_free(&w->cols);
	free(w->spans);
}

static int scan_visit(void *ctx, uint32_t worker, const struct span_batch *b, uint32_t first, uint32_t n,
		      const uint32_t *matched, uint32_t n_matched)
{
	struct cp_scan *c = ctx;
	struct cp_worker *w = &c->w[worker];
	(void)matched;
	(void)n_matched;
	int rc = worker_ready(w);
	return rc < 0 ? rc : cp_agg_add_trace(w->agg, b, first, n, &w->scratch);
}

/* The resources (their attributes, for service.name) and scopes of blk as
 * the tables of a span batch whose spans are the page's. */
static int load_tables(struct cp_worker *w, struct block *blk)
{
	struct block_info bi;
	int rc;
	if (w->blk == blk)
		return 0;
	w->blk = NULL;
	arena_reset(&w->blk_arena);
	span_batch_init(&w->tables, &w->blk_arena);
	block_get_info(blk, &bi);
	w->tables.resources = arena_array(&w->blk_arena, bi.resources + 1, sizeof *w->tables.resources);
	w->tables.scopes = arena_array(&w->blk_arena, bi.scopes + 1, sizeof *w->tables.scopes);
	if (!w->tables.resources || !w->tables.scopes)
		return CLEW_ENOMEM;
	for (uint32_t r = 0; r < bi.resources; r++)
		if ((rc = block_resource_attrs(blk, r, &w->blk_arena, &w->tables.resources[r].attrs)) < 0)
			return rc;
	for (uint32_t k = 0; k < bi.scopes; k++) {
		uint32_t r = block_scope_resource(blk, k);
		if (r >= bi.resources)
			return CLEW_ECORRUPT;
		w->tables.scopes[k].resource = r;
	}
	w->tables.n_resources = w->tables.cap_resources = bi.resources;
	w->tables.n_scopes = w->tables.cap_scopes = bi.scopes;
	w->blk = blk;
	return 0;
}

static bool rd_varint(const uint8_t **p, const uint8_t *end, uint64_t *v)
{
	uint64_t x = 0;
	for (unsigned shift = 0; shift < 64 && *p < end; shift += 7) {
		uint8_t c = *(*p)++;
		x |= (uint64_t)(c & 0x7f) << shift;
		if (!(c & 0x80)) {
			*v = x;
			return true;
		}
	}
	return false;
}

/* Fill w->spans from the page's columns: ids, parents, scope, name, kind,
 * times; the other fields stay zero. */
static int page_spans(struct cp_worker *w, struct block *blk, uint32_t page)
{
	const struct block_cols *c = &w->cols;
	uint8_t *sid = NULL, *par = NULL, *ext = NULL;
	size_t sid_len, par_len, ext_len;
	int rc;
	if (c->spans > w->cap_spans) {
		free(w->spans);
		w->cap_spans = 0;
		if (!(w->spans = try_calloc((size_t)c->spans, sizeof *w->spans)))
			return CLEW_ENOMEM;
		w->cap_spans = c->spans;
	}
	if ((rc = block_read_column(blk, page, BCOL_SPAN_ID, &sid, &sid_len)) < 0 ||
	    (rc = block_read_column(blk, page, BCOL_PARENT, &par, &par_len)) < 0 ||
	    (rc = block_read_column(blk, page, BCOL_PARENT_EXT, &ext, &ext_len)) < 0)
		goto out;
	rc = CLEW_ECORRUPT;
	if (sid_len != (size_t)c->spans * 8)
		goto out;
	const uint8_t *pp = par, *pend = par + par_len, *xp = ext, *xend = ext + ext_len;
	for (uint32_t t = 0; t < c->traces; t++) {
		uint32_t row0 = c->trace_first[t], n = c->trace_nspans[t];
		for (uint32_t i = row0; i < row0 + n; i++) {
			struct span *s = &w->spans[i];
			uint64_t pref;
			if (!rd_varint(&pp, pend, &pref) || (pref >= 2 && pref - 2 >= n) || c->scope[i] >= w->tables.n_scopes)
				goto out;
			memcpy(s->trace_id, c->trace_ids + (size_t)t * 16, 16);
			memcpy(s->span_id, sid + (size_t)i * 8, 8);
			s->has_parent = pref != 0;
			if (pref == 1) {
				if (xend - xp < 8)
					goto out;
				memcpy(s->parent_span_id, xp, 8);
				xp += 8;
			} else if (pref >= 2) {
				memcpy(s->parent_span_id, sid + (size_t)(row0 + pref - 2) * 8, 8);
			} else {
				memset(s->parent_span_id, 0, 8);
			}
			s->kind = c->kind_status[(size_t)i * 2];
			s->status_code = c->kind_status[(size_t)i * 2 + 1];
			s->scope = c->scope[i];
			s->name = c->dict[0][c->name[i]];
			s->start_unix_ns = c->start[i];
			s->end_unix_ns = (int64_t)((uint64_t)c->start[i] + (uint64_t)c->duration[i]);
		}
	}
	rc = pp == pend && xp == xend ? 0 : CLEW_ECORRUPT;
out:
	free(sid);
	free(par);
	free(ext);
	return rc;
}

static size_t head_slot(const struct cp_scan *sc, const uint8_t id[16])
{
	uint64_t h;
	memcpy(&h, id + 8, 8);
	return (size_t)((h * 0x9e3779b97f4a7c15ULL) >> 20) & sc->head_mask;
}

static bool head_has(const struct cp_scan *sc, const uint8_t id[16])
{
	if (!sc->n_head)
		return false;
	for (size_t h = head_slot(sc, id); sc->head_used[h]; h = (h + 1) & sc->head_mask)
		if (memcmp(sc->head_ids[h], id, 16) == 0)
			return true;
	return false;
}

static int head_add(struct cp_scan *sc, const uint8_t id[16])
{
	if ((sc->n_head + 1) * 2 > sc->head_mask + 1 || !sc->head_ids) {
		size_t old = sc->head_ids ? sc->head_mask + 1 : 0, cap = old ? old * 2 : 1024;
		uint8_t (*ids)[16] = sc->head_ids, *used = sc->head_used;
		sc->head_ids = try_malloc(cap * 16);
		sc->head_used = try_calloc(cap, 1);
		if (!sc->head_ids || !sc->head_used) {
			free(sc->head_ids);
			free(sc->head_used);
			sc->head_ids = ids;
			sc->head_used = used;
			return CLEW_ENOMEM;
		}
		sc->head_mask = cap - 1;
		sc->n_head = 0;
		for (size_t k = 0; k < old; k++)
			if (used[k] && head_add(sc, ids[k]) < 0)
				return CLEW_ENOMEM;
		free(ids);
		free(used);
	}
	size_t h = head_slot(sc, id);
	for (; sc->head_used[h]; h = (h + 1) & sc->head_mask)
		if (memcmp(sc->head_ids[h], id, 16) == 0)
			return 0;
	sc->head_used[h] = 1;
	memcpy(sc->head_ids[h], id, 16);
	sc->n_head++;
	return 0;
}

static int head_collect(void *ctx, const struct span_batch *b)
{
	int rc;
	for (uint32_t i = 0; i < b->n_spans; i++)
		if (!b->spans[i].invalid_reason && (rc = head_add(ctx, b->spans[i].trace_id)) < 0)
			return rc;
	return 0;
}

/* Whether a trace of the page's spans b may have spans elsewhere: in the
 * heads, or in another block whose time range and trace-id filter admit
 * it (false positives only send the page to the span-by-span scan). */
static bool page_split(const struct cp_scan *sc, struct block *blk, uint32_t page, const struct block_cols *c,
		       const struct span_batch *b)
{
	const struct block_page_info *pi = block_page(blk, page);
	int64_t lo = pi->min_start_ns, hi = pi->max_start_ns + (pi->max_dur_ns > 0 ? pi->max_dur_ns : 0);
	bool others = false;
	for (size_t k = 0; k < sc->bl.n && !others; k++) {
		const struct store_block *ob = &sc->bl.items[k];
		others = ob->block != blk && ob->info.spans && ob->info.min_start_ns <= hi && ob->info.max_end_ns >= lo;
	}
	if (!others && !sc->n_head)
		return false;
	for (uint32_t t = 0; t < c->traces; t++) {
		const uint8_t *id = c->trace_ids + (size_t)t * 16;
		if (head_has(sc, id))
			return true;
		if (!others)
			continue;
		int64_t start = INT64_MAX, end = INT64_MIN;
		for (uint32_t i = c->trace_first[t]; i < c->trace_first[t + 1]; i++) {
			if (b->spans[i].start_unix_ns < start)
				start = b->spans[i].start_unix_ns;
			if (b->spans[i].end_unix_ns > end)
				end = b->spans[i].end_unix_ns;
		}
		for (size_t k = 0; k < sc->bl.n; k++) {
			const struct store_block *ob = &sc->bl.items[k];
			if (ob->block != blk && ob->info.spans && ob->info.min_start_ns <= end &&
			    ob->info.max_end_ns >= start && block_may_contain(ob->block, id))
				return true;
		}
	}
	return false;
}

/* A block page of a query matching every trace: only the columns the path
 * needs are decoded (no attributes, events or links), each trace of the
 * page aggregated. A page with a trace that may have spans elsewhere goes
 * back to the scan (return 1), which hands such a trace over whole, once. */
static int cp_page(void *ctx, uint32_t worker, struct block *blk, uint32_t page)
{
	struct cp_scan *sc = ctx;
	struct cp_worker *w = &sc->w[worker];
	int rc;
	if ((rc = worker_ready(w)) < 0 || (rc = load_tables(w, blk)) < 0)
		return rc;
	unsigned want = BLOCK_COLS_TRACE_IDS | BLOCK_COLS_TRACES | BLOCK_COLS_START | BLOCK_COLS_DURATION |
			BLOCK_COLS_SCOPE | BLOCK_COLS_NAME | BLOCK_COLS_KIND_STATUS;
	if ((rc = block_cols_load(blk, page, want, &w->cols)) < 0 || (rc = page_spans(w, blk, page)) < 0)
		return rc;
	struct span_batch b = w->tables;
	b.spans = w->spans;
	b.n_spans = b.cap_spans = w->cols.spans;
	if (page_split(sc, blk, page, &w->cols, &b))
		return 1;
	for (uint32_t t = 0; t < w->cols.traces; t++) {
		uint32_t first = w->cols.trace_first[t], n = w->cols.trace_nspans[t];
		int64_t start = INT64_MAX, end = INT64_MIN;
		if (n == 0)
			continue;
		for (uint32_t i = first; i < first + n; i++) {
			if (b.spans[i].start_unix_ns < start)
				start = b.spans[i].start_unix_ns;
			if (b.spans[i].end_unix_ns > end)
				end = b.spans[i].end_unix_ns;
		}
		if ((sc->end_ns && start > sc->end_ns) || (sc->start_ns && end < sc->start_ns))
			continue;
		if ((rc = cp_agg_add_trace(w->agg, &b, first, n, &w->scratch)) < 0)
			return rc;
	}
	return 0;
}

int cp_agg_scan(const struct store_query_ops *ops, void *impl, struct exec_query *xq, const struct exec_options *o,
		struct cp_agg **out)
{
	struct cp_scan *c = try_calloc(1, sizeof *c);
	struct cp_agg *g = cp_agg_new();
	int rc = CLEW_ENOMEM;
	*out = NULL;
	if (!c || !g)
		goto out;
	c->start_ns = o->start_ns;
	c->end_ns = o->end_ns;
	/* The path needs whole traces: the scan then hands a trace split over
	 * blocks and heads over whole, once (from the part holding its
	 * earliest span), as it does for structural queries. Pages are not
	 * pruned by dictionary: the part holding the earliest span need not
	 * hold the matching one. xq is the caller's, restored below. */
	bool per_span = xq->per_span, cols = exec_matches_all(xq) && cp_columnar;
	uint32_t n_prune = xq->n_prune;
	xq->per_span = false;
	xq->n_prune = 0;
	if (cols && ((rc = ops->list_blocks(impl, &c->bl)) < 0 || (rc = ops->scan_heads(impl, head_collect, c)) < 0))
		cols = false; /* span by span: the scan finds the parts itself */
	if (cols)
		rc = exec_scan_workers_pages(ops, impl, xq, o, scan_visit, c, cp_page, c, NULL);
	else
		rc = exec_scan_workers(ops, impl, xq, o, scan_visit, c, NULL);
	xq->per_span = per_span;
	xq->n_prune = n_prune;
	for (uint32_t k = 0; k < EXEC_MAX_WORKERS && rc >= 0; k++)
		if (c->w[k].agg && cp_agg_merge(g, c->w[k].agg) < 0)
			rc = CLEW_ENOMEM;
	if (rc >= 0) {
		*out = g;
		g = NULL;
		rc = 0;
	}
out:
	if (c) {
		for (uint32_t k = 0; k < EXEC_MAX_WORKERS; k++)
			worker_free(&c->w[k]);
		if (c->bl.items)
			ops->release_blocks(&c->bl);
		free(c->head_ids);
		free(c->head_used);
	}
	free(c);
	cp_agg_free(g);
	return rc;
}

void cp_set_columnar(bool on)
{
	cp_columnar = on;
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
